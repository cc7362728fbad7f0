// Building blocks for tests that drive a disk model directly: a closed loop of requests, and request shorthands.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "kafkasim/models/disk.hpp"
#include "kafkasim/sim/engine.hpp"

namespace kafkasim::test {

// Keeps `depth` requests outstanding until `total` have been issued (the next made by `make(i)`); records completion
// times and statuses.
struct ClosedLoop {
  ClosedLoop(sim::Engine& engine_in, models::DiskModel& disk_in, std::function<models::IoRequest(uint64_t)> make_in,
             uint64_t total_in)
      : engine(engine_in), disk(disk_in), make(std::move(make_in)), total(total_in) {}
  sim::Engine& engine;
  models::DiskModel& disk;
  std::function<models::IoRequest(uint64_t)> make;
  uint64_t total = 0;
  uint64_t issued = 0;
  std::vector<sim::SimTime> completed_at;
  std::vector<models::IoStatus> statuses;

  void start(uint64_t depth) {
    for (uint64_t i = 0; i < depth; ++i) issue();
  }
  void issue() {
    if (issued >= total) return;
    const models::IoRequest r = make(issued++);
    disk.submit(r, [this](models::IoStatus s) {
      completed_at.push_back(engine.now());
      statuses.push_back(s);
      issue();
    });
  }
  // Completions in [from, to).
  uint64_t completed_between(sim::SimTime from, sim::SimTime to) const {
    uint64_t n = 0;
    for (const sim::SimTime t : completed_at) n += (t >= from && t < to) ? 1 : 0;
    return n;
  }
};

inline models::IoRequest read_at(uint64_t offset, uint64_t bytes) {
  return models::IoRequest{models::IoOp::kRead, offset, bytes};
}
inline models::IoRequest write_at(uint64_t offset, uint64_t bytes) {
  return models::IoRequest{models::IoOp::kWrite, offset, bytes};
}

}  // namespace kafkasim::test
