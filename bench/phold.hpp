// PHOLD, the standard synthetic workload for discrete-event engines (Fujimoto 1990).
//
// N logical processes (LPs) start with E events each. Executing an event at an LP schedules exactly one new
// event at an LP chosen uniformly at random, after an exponentially distributed delay. The run stops after
// M events. Each LP draws from its own named RNG stream ("phold/lp/<i>"), so the event sequence depends
// only on the seed and the (time, seq) order of execution.
//
// The same workload runs twice: on kafkasim's Engine and on a bare std::priority_queue loop with the same
// (time, seq) order. Both must execute the identical sequence, which the checksums confirm; the ratio of
// their event rates is the engine's overhead.
#pragma once

#include <cstdint>

namespace kafkasim::bench {

struct PholdConfig {
  uint32_t lps = 1024;                // N
  uint32_t initial_events_per_lp = 16;  // E
  uint64_t events = 10'000'000;       // M
  int64_t mean_delay_ns = 1'000'000;  // mean of the exponential delay
  uint64_t seed = 1;
};

struct PholdResult {
  uint64_t events = 0;
  int64_t final_time_ns = 0;
  uint64_t checksum = 0;  // order-sensitive hash of (time, lp) of every executed event
  double wall_seconds = 0;
  double events_per_second() const { return wall_seconds > 0 ? static_cast<double>(events) / wall_seconds : 0; }
};

// Runs PHOLD on kafkasim::sim::Engine.
PholdResult run_phold_engine(const PholdConfig& config);
// Runs PHOLD on a bare std::priority_queue event loop (the baseline).
PholdResult run_phold_bare(const PholdConfig& config);

}  // namespace kafkasim::bench
