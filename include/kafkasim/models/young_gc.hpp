// Young-generation garbage collection of a JVM (hardware-models.md §5.4): a renewal process driven by what the
// JVM allocates, with a stop-the-world pause per collection. No engine here: the caller reports allocations and
// applies the pauses it gets back (on a broker, Cpu::pause_for freezes every thread of the host).
//
// Equations. Let E be the young generation's size (eden), A(t) the bytes allocated since the start.
//   - A collection happens each time the allocations fill eden: the k-th at the first t with
//         φ + A(t) ≥ k·E,
//     where φ ∈ [0, E) is how full eden already is when the simulation starts, drawn uniform (the equilibrium
//     residual of a renewal process with a fixed quantum: a JVM that has been running a while, so hosts with
//     the same traffic do not collect in step). The collection rate is therefore allocation rate / E, the
//     reference's "rate ∝ heap allocation rate / young-gen size".
//   - Each pause is lognormal: exp(N(μ, σ)) with μ = ln(median) and σ = ln(p90 / median) / z₀.₉, z₀.₉ = 1.28155
//     (the standard normal's 90th percentile), so the profile's median and p90 are the distribution's. p90 =
//     median gives a constant pause.
//
// Ignores: old-generation and mixed collections, promotion and survivor sizing, G1's adaptive young-gen sizing
// (E is fixed), concurrent GC work stealing CPU, time-to-safepoint. What "allocation" is, is the caller's model.
#pragma once

#include <cstdint>

#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::models {

struct YoungGcParams {
  uint64_t eden_bytes = 0;  // > 0
  sim::Duration pause_median;
  sim::Duration pause_p90;  // >= pause_median
};

class YoungGc {
 public:
  // Draws the initial fill φ from `rng`; later draws (the pauses) come from the same stream.
  YoungGc(const YoungGcParams& params, sim::Rng rng);

  // Records `bytes` allocated now; returns the stop-the-world time this triggers: zero, or the sum of the
  // pauses of every collection it completes (more than one only if bytes > eden).
  sim::Duration allocate(uint64_t bytes);

  uint64_t collections() const { return collections_; }
  sim::Duration paused_total() const { return paused_total_; }
  sim::Duration longest_pause() const { return longest_pause_; }
  // Bytes in eden now, in [0, eden).
  uint64_t eden_used_bytes() const { return used_; }
  const YoungGcParams& params() const { return params_; }

 private:
  sim::Duration draw_pause();

  YoungGcParams params_;
  sim::Rng rng_;
  double mu_ = 0, sigma_ = 0;
  uint64_t used_ = 0;
  uint64_t collections_ = 0;
  sim::Duration paused_total_;
  sim::Duration longest_pause_;
};

}  // namespace kafkasim::models
