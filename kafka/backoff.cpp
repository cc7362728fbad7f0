#include "kafkasim/kafka/backoff.hpp"

#include <algorithm>
#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

sim::Duration exponential_backoff(sim::Duration initial, sim::Duration max, int32_t attempts, sim::Rng& rng) {
  KS_ASSERT_GE(attempts, 0);
  KS_ASSERT_GE(initial, sim::Duration::zero());
  // CommonClientConfigs.RETRY_BACKOFF_EXP_BASE = 2 and RETRY_BACKOFF_JITTER = 0.2 (KIP-580).
  if (max <= initial || initial == sim::Duration::zero()) return initial;
  const double exp_max = std::log(static_cast<double>(max.ns()) / static_cast<double>(initial.ns())) / std::log(2.0);
  const double exponent = std::min(static_cast<double>(attempts), exp_max);
  const double term_ns = static_cast<double>(initial.ns()) * std::pow(2.0, exponent);
  const double random_factor = rng.uniform_real(0.8, 1.2);
  const auto value = sim::Duration::from_ns(static_cast<int64_t>(random_factor * term_ns));
  return value > max ? max : value;
}

}  // namespace kafkasim::kafka
