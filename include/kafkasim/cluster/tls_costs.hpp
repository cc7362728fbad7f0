// What TLS costs on the data path, for connections whose security protocol encrypts (SSL, SASL_SSL;
// kafka/security_protocol.hpp), as arithmetic on the CPU profile (hardware-models.md §3.7, §5.2, §5.3).
//
// CPU, per byte of a message's plaintext (the Kafka request or response), at the profile's single-core rates times
// desktop_to_server_scale, beyond what the same message costs on a PLAINTEXT connection:
//   receiving  decrypt, and one copy more: SslTransportLayer.read reads the socket into its network buffer, decrypts
//              into its application buffer and copies from there into the request's buffer (a PLAINTEXT read
//              copies the socket's bytes once, into the request's buffer);
//   sending    encrypt (SslTransportLayer.write wraps the application's buffer into its network buffer, then writes
//              that to the socket: the one copy a PLAINTEXT write makes too);
//   records of a fetch response  also two copies: "sendfile is not used when SSL is enabled" (Kafka's design
//              doc, Efficiency), so the network thread reads the log's file region into the JVM
//              (SslTransportLayer.transferFrom: FileChannel.read) and writes it back to the socket after
//              encrypting it, where a PLAINTEXT fetch hands the region to sendfile without touching it.
// Who pays: on a broker the network thread (Processor) of the connection, for every request it reads and every
// response it sends; a follower's fetcher thread for the fetch responses it receives (its NetworkClient runs on
// that thread); a consumer's application thread, in poll() (classic consumer: its network I/O runs in poll), with
// the codec and CRC work of the same records; a producer's Sender encrypts each request before it is written,
// charged to the producer's compression thread (compression_costs.hpp: one thread per producer, in series with
// the request's compression). A client's work runs at the client CPU profile's rates (hardware.client.cpu), or at
// the brokers' profile's without one [A], as its codec work does.
//
// Wire: TLS 1.3 (Kafka's default ssl.protocol since 3.0): a message travels in records of at most 2^14 bytes of
// plaintext, each 22 bytes longer (5-byte record header, 1 content-type byte, 16-byte AES-GCM tag; RFC 8446 §5.1,
// §5.2).
//
// Ignored: the handshake (one round trip and the key exchange when a connection opens: connections here open
// once, before the first request); AES-256 against AES-128 (the profile has one AES-GCM rate); the JVM's SSLEngine
// overheads around the cipher (buffer management, JCE calls), which make Java's TLS slower than the native rate
// the profile gives; the extra garbage TLS buffers make; kTLS; the clients' and followers' own work on their small
// messages (fetch requests, the responses to produce requests and commits: tens of bytes).
#pragma once

#include <cstdint>

#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

inline constexpr int64_t kTlsRecordPlaintextBytes = 16'384;  // RFC 8446 §5.1: 2^14
inline constexpr int64_t kTlsRecordOverheadBytes = 22;       // RFC 8446 §5.2 with AES-GCM: 5 + 1 + 16

// The bytes a message of `plaintext_bytes` takes on the wire inside TLS records.
int64_t tls_wire_bytes(int64_t plaintext_bytes);

// The CPU time TLS adds to receiving a message of `bytes` (decrypt and one copy).
sim::Duration tls_receive_cost(const CpuCosts& costs, int64_t bytes);

// The CPU time TLS adds to sending a message of `bytes`, `file_bytes` of which are log records a PLAINTEXT
// connection would have sent with sendfile (encrypt all; read and write the file bytes).
sim::Duration tls_send_cost(const CpuCosts& costs, int64_t bytes, int64_t file_bytes = 0);

}  // namespace kafkasim::cluster
