// Small accounting helpers shared by the models: utilisation of a k-server resource and a time-weighted
// average of a level (queue length, dirty bytes). Both integrate exactly over integer time.
#pragma once

#include <cstdint>

#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::sim {

// Integrates how many of `servers` servers are busy over time. utilisation() = busy server-time / (servers *
// elapsed). Call set_busy(now, n) whenever the number of busy servers changes.
class UtilisationMeter {
 public:
  explicit UtilisationMeter(uint32_t servers = 1, SimTime start = SimTime::zero())
      : servers_(servers), last_(start), start_(start) {
    KS_ASSERT_GT(servers, 0u);
  }
  void set_busy(SimTime now, uint32_t busy) {
    KS_ASSERT_LE(busy, servers_);
    advance(now);
    busy_ = busy;
  }
  uint32_t busy() const { return busy_; }
  uint32_t servers() const { return servers_; }
  // A change of the number of servers from `now` on (a resized thread pool); `busy` must fit the new number.
  void set_servers(SimTime now, uint32_t servers) {
    KS_ASSERT_GT(servers, 0u);
    KS_ASSERT_LE(busy_, servers);
    advance(now);
    capacity_before_ns_ = capacity_ns(now);
    capacity_since_ = now;
    servers_ = servers;
  }
  // Busy server-nanoseconds accumulated up to `now`.
  int64_t busy_server_ns(SimTime now) const {
    KS_ASSERT_GE(now, last_);
    return busy_ns_ + static_cast<int64_t>(busy_) * (now - last_).ns();
  }
  // Server-nanoseconds of capacity over [start, now]: the servers there were, over time.
  double capacity_ns(SimTime now) const {
    return capacity_before_ns_ + static_cast<double>((now - capacity_since_).ns()) * servers_;
  }
  // Fraction of capacity used over [start, now].
  double utilisation(SimTime now) const {
    const int64_t elapsed = (now - start_).ns();
    if (elapsed <= 0) return 0.0;
    return static_cast<double>(busy_server_ns(now)) / capacity_ns(now);
  }
  // Starts a new measuring window at `now` (busy state kept).
  void reset_window(SimTime now) {
    advance(now);
    busy_ns_ = 0;
    start_ = now;
    capacity_before_ns_ = 0;
    capacity_since_ = now;
  }

 private:
  void advance(SimTime now) {
    busy_ns_ = busy_server_ns(now);
    last_ = now;
  }
  uint32_t servers_;
  uint32_t busy_ = 0;
  SimTime last_;
  SimTime start_;
  int64_t busy_ns_ = 0;
  double capacity_before_ns_ = 0;  // capacity from start_ to capacity_since_ (the last change of servers)
  SimTime capacity_since_ = start_;
};

// Time-weighted mean of a piecewise-constant level.
class TimeWeightedMean {
 public:
  explicit TimeWeightedMean(SimTime start = SimTime::zero()) : last_(start), start_(start) {}
  void set(SimTime now, double level) {
    KS_ASSERT_GE(now, last_);
    area_ += level_ * static_cast<double>((now - last_).ns());
    last_ = now;
    level_ = level;
  }
  double level() const { return level_; }
  double mean(SimTime now) const {
    const double elapsed = static_cast<double>((now - start_).ns());
    if (elapsed <= 0) return level_;
    return (area_ + level_ * static_cast<double>((now - last_).ns())) / elapsed;
  }

 private:
  SimTime last_;
  SimTime start_;
  double level_ = 0;
  double area_ = 0;
};

}  // namespace kafkasim::sim
