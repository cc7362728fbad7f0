// TLS's costs (cluster/tls_costs.hpp) against hand-computed values: TLS 1.3 record framing (RFC 8446 §5.1, §5.2:
// at most 2^14 plaintext bytes a record, 22 bytes more each with AES-GCM) and the CPU passes over a message's bytes
// at the profile's rates times desktop_to_server_scale.
#include <doctest/doctest.h>

#include "kafkasim/cluster/tls_costs.hpp"
#include "kafkasim/kafka/security_protocol.hpp"

using namespace kafkasim;
using namespace kafkasim::cluster;

namespace {

// AES-GCM at 4 GB/s and memcpy at 8 GB/s on a desktop core, a server core at half that: 2 and 4 GB/s, i.e. 0.5 and
// 0.25 ns a byte.
CpuCosts costs() {
  CpuCosts c;
  c.desktop_to_server_scale = 0.5;
  c.aes_gcm_bytes_per_s = 4e9;
  c.memcpy_bytes_per_s = 8e9;
  return c;
}

}  // namespace

TEST_CASE("TLS records: 22 bytes more for every 16,384 bytes of plaintext or part of it") {
  CHECK(tls_wire_bytes(0) == 0);
  CHECK(tls_wire_bytes(1) == 23);
  CHECK(tls_wire_bytes(16'384) == 16'406);
  CHECK(tls_wire_bytes(16'385) == 16'385 + 44);
  CHECK(tls_wire_bytes(1'048'576) == 1'048'576 + 64 * 22);
}

TEST_CASE("TLS CPU: decrypt and a copy to receive; encrypt to send; two copies more for log bytes sendfile would send") {
  const CpuCosts c = costs();
  // 1 MB received: 1e6 x (0.5 + 0.25) ns = 750 us.
  CHECK(tls_receive_cost(c, 1'000'000) == sim::Duration::from_us(750));
  // 1 MB sent from the heap: 1e6 x 0.5 ns = 500 us; the same with 800 kB of it from the log: + 2 x 800e3 x 0.25 ns.
  CHECK(tls_send_cost(c, 1'000'000) == sim::Duration::from_us(500));
  CHECK(tls_send_cost(c, 1'000'000, 800'000) == sim::Duration::from_us(900));
  CHECK(tls_send_cost(c, 0) == sim::Duration::zero());
  CHECK(tls_receive_cost(c, 0) == sim::Duration::zero());
  // Rounded up to the nanosecond: 3 bytes received take 2.25 ns.
  CHECK(tls_receive_cost(c, 3) == sim::Duration::from_ns(3));
}

TEST_CASE("security protocols: SSL and SASL_SSL encrypt, PLAINTEXT and SASL_PLAINTEXT do not") {
  using kafka::SecurityProtocol;
  CHECK(kafka::encrypts(SecurityProtocol::ssl));
  CHECK(kafka::encrypts(SecurityProtocol::sasl_ssl));
  CHECK_FALSE(kafka::encrypts(SecurityProtocol::plaintext));
  CHECK_FALSE(kafka::encrypts(SecurityProtocol::sasl_plaintext));
  CHECK(kafka::name_of(SecurityProtocol::sasl_ssl) == "SASL_SSL");
}
