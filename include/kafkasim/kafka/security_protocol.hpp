// The security protocol of a connection (org.apache.kafka.common.security.auth.SecurityProtocol): a client's
// security.protocol and the brokers' security.inter.broker.protocol, both PLAINTEXT by default. SSL and SASL_SSL
// encrypt the connection with TLS; the cluster layer charges what that costs (cluster/tls_costs.hpp). SASL's
// authentication exchange happens once per connection and is not modelled, so SASL_PLAINTEXT behaves as
// PLAINTEXT and SASL_SSL as SSL.
#pragma once

#include <cstdint>
#include <string_view>

namespace kafkasim::kafka {

enum class SecurityProtocol : uint8_t { plaintext, ssl, sasl_plaintext, sasl_ssl };

// SecurityProtocol's names, in enum order.
inline constexpr std::string_view kSecurityProtocolNames[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

inline constexpr std::string_view name_of(SecurityProtocol p) { return kSecurityProtocolNames[static_cast<int>(p)]; }

// Whether the protocol's connections carry TLS records (SslTransportLayer).
inline constexpr bool encrypts(SecurityProtocol p) {
  return p == SecurityProtocol::ssl || p == SecurityProtocol::sasl_ssl;
}

}  // namespace kafkasim::kafka
