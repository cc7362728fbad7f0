// The clients' ExponentialBackoff (KIP-580; clients/.../common/utils/ExponentialBackoff.java), shared by the
// producer (retry.backoff.ms, reconnect.backoff.ms) and the consumer (reconnect.backoff.ms, commitSync retries).
#pragma once

#include <cstdint>

#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// ExponentialBackoff.backoff(attempts) with KIP-580's constants (base 2, jitter 0.2), §1.6:
// term = initial * 2^min(attempts, log2(max/initial)), value = term * U(0.8, 1.2), capped at max; no jitter if
// max <= initial.
sim::Duration exponential_backoff(sim::Duration initial, sim::Duration max, int32_t attempts, sim::Rng& rng);

}  // namespace kafkasim::kafka
