// What producers send and when: arrival processes, record sizes and keys, drawn from the producer's own RNG
// stream. Open-loop arrivals keep their schedule whatever the cluster does, and each record carries the time
// the schedule intended to send it, so latency is measured from that intended time (no coordinated omission).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

// Open-loop arrivals: constant rate (evenly spaced) or Poisson (exponential gaps with the same mean).
// Unthrottled is kafka-producer-perf-test's `--throughput -1`: the application thread sends back to back at
// most `records_per_s` (its own per-record cost) and stops while send() is blocked on buffer.memory, so the
// cluster sets the pace; its records' latency counts from the actual send.
class ArrivalProcess {
 public:
  enum class Kind { kConstant, kPoisson, kUnthrottled };
  ArrivalProcess(Kind kind, double records_per_s, sim::SimTime start);
  // The intended time of the next record; advances the schedule.
  sim::SimTime next(sim::Rng& rng);
  double records_per_s() const { return rate_; }
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
  double rate_;
  sim::SimTime start_;
  uint64_t count_ = 0;          // constant: the k-th record is at start + round(k / rate), so no drift
  sim::SimTime last_;           // poisson: the previous arrival
};

// Record value sizes in bytes.
class SizeDistribution {
 public:
  static SizeDistribution fixed(uint32_t bytes);
  static SizeDistribution uniform(uint32_t min_bytes, uint32_t max_bytes);
  // Lognormal with the given median and sigma (of the underlying normal), clamped to [1, max_bytes].
  static SizeDistribution lognormal(uint32_t median_bytes, double sigma, uint32_t max_bytes);
  uint32_t draw(sim::Rng& rng) const;
  double mean_bytes() const;  // exact for fixed/uniform; the unclamped mean for lognormal

 private:
  enum class Kind { kFixed, kUniform, kLognormal } kind_ = Kind::kFixed;
  uint32_t a_ = 0, b_ = 0;
  double sigma_ = 0;
};

// Record keys: none (the sticky partitioner decides), uniform over K keys, or Zipf over K keys with exponent s
// (key k, 1-based, has probability proportional to 1/k^s). Keys are the bytes of "key-<k>".
class KeyDistribution {
 public:
  static KeyDistribution none();
  static KeyDistribution uniform(uint32_t keys);
  static KeyDistribution zipf(uint32_t keys, double exponent);
  bool has_keys() const { return kind_ != Kind::kNone; }
  uint32_t key_count() const { return keys_; }
  // A key index in [0, key_count()); only when has_keys().
  uint32_t draw(sim::Rng& rng) const;
  // The key bytes of index k, and their length in the record.
  static std::string key_bytes(uint32_t index);
  // P(index k) for tests and documentation.
  double probability(uint32_t index) const;

 private:
  enum class Kind { kNone, kUniform, kZipf } kind_ = Kind::kNone;
  uint32_t keys_ = 0;
  double exponent_ = 0;
  std::vector<double> cdf_;  // zipf: cumulative probabilities, last = 1
};

}  // namespace kafkasim::cluster
