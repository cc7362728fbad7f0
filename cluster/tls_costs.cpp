#include "kafkasim/cluster/tls_costs.hpp"

#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

using sim::Duration;

int64_t tls_wire_bytes(int64_t plaintext_bytes) {
  KS_ASSERT_GE(plaintext_bytes, int64_t{0});
  const int64_t records = (plaintext_bytes + kTlsRecordPlaintextBytes - 1) / kTlsRecordPlaintextBytes;
  return plaintext_bytes + records * kTlsRecordOverheadBytes;
}

namespace {

// Nanoseconds of one pass over `bytes` at `bytes_per_s` on a server core (a quotient, exact when the figures are).
double pass_ns(const CpuCosts& costs, double bytes_per_s, int64_t bytes) {
  KS_ASSERT_GT(bytes_per_s, 0.0);
  KS_ASSERT_GT(costs.desktop_to_server_scale, 0.0);
  return static_cast<double>(bytes) * 1e9 / (bytes_per_s * costs.desktop_to_server_scale);
}

// Rounded up, so that a positive amount of work never takes zero time.
Duration ceil_ns(double ns) { return Duration::from_ns(static_cast<int64_t>(std::ceil(ns))); }

}  // namespace

Duration tls_receive_cost(const CpuCosts& costs, int64_t bytes) {
  KS_ASSERT_GE(bytes, int64_t{0});
  if (bytes == 0) return Duration::zero();
  return ceil_ns(pass_ns(costs, costs.aes_gcm_bytes_per_s, bytes) + pass_ns(costs, costs.memcpy_bytes_per_s, bytes));
}

Duration tls_send_cost(const CpuCosts& costs, int64_t bytes, int64_t file_bytes) {
  KS_ASSERT_GE(file_bytes, int64_t{0});
  KS_ASSERT_GE(bytes, file_bytes);
  if (bytes == 0) return Duration::zero();
  return ceil_ns(pass_ns(costs, costs.aes_gcm_bytes_per_s, bytes) +
                 2.0 * pass_ns(costs, costs.memcpy_bytes_per_s, file_bytes));
}

}  // namespace kafkasim::cluster
