#include "kafkasim/models/young_gc.hpp"

#include <algorithm>
#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::models {

namespace {
constexpr double kZ90 = 1.2815515655446004;  // Φ⁻¹(0.9)
}  // namespace

YoungGc::YoungGc(const YoungGcParams& params, sim::Rng rng) : params_(params), rng_(rng) {
  KS_ASSERT_GT(params_.eden_bytes, 0u);
  KS_ASSERT_GT(params_.pause_median, sim::Duration::zero());
  KS_ASSERT_GE(params_.pause_p90, params_.pause_median);
  mu_ = std::log(static_cast<double>(params_.pause_median.ns()));
  sigma_ = std::log(static_cast<double>(params_.pause_p90.ns()) / static_cast<double>(params_.pause_median.ns())) / kZ90;
  used_ = rng_.uniform_u64(params_.eden_bytes);
}

sim::Duration YoungGc::draw_pause() {
  if (sigma_ == 0.0) return params_.pause_median;
  const double ns = rng_.lognormal(mu_, sigma_);
  return sim::Duration::from_ns(std::max<int64_t>(1, std::llround(ns)));
}

sim::Duration YoungGc::allocate(uint64_t bytes) {
  KS_ASSERT_LT(used_, params_.eden_bytes);
  sim::Duration pause = sim::Duration::zero();
  // used_ < eden, so the sum cannot overflow for any realistic message.
  uint64_t filled = used_ + bytes;
  while (filled >= params_.eden_bytes) {
    filled -= params_.eden_bytes;
    const sim::Duration d = draw_pause();
    ++collections_;
    paused_total_ += d;
    longest_pause_ = std::max(longest_pause_, d);
    pause += d;
  }
  used_ = filled;
  return pause;
}

}  // namespace kafkasim::models
