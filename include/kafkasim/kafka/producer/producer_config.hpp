// Producer configuration with Kafka's names and Kafka 4.x defaults (reference/kafka-behaviour.md §0, §1.1;
// clients/.../producer/ProducerConfig.java). Each field names its Kafka config key so a `producer.properties`
// maps onto it one to one. Durations are sim::Duration, whatever unit the Kafka key uses.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/kafka/security_protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// acks: the value sent in the ProduceRequest.
enum class Acks : int8_t { none = 0, leader = 1, all = -1 };

// partitioner.class: none (the built-in partitioner) or Kafka's RoundRobinPartitioner.
enum class PartitionerClass : uint8_t { built_in, round_robin };

struct ProducerConfig {
  // acks = all (-1). The default changed from 1 to all in 3.0.
  Acks acks = Acks::all;
  // enable.idempotence = true (since 3.0).
  bool enable_idempotence = true;
  // retries = Integer.MAX_VALUE; in practice bounded by delivery.timeout.ms.
  int32_t retries = std::numeric_limits<int32_t>::max();
  // batch.size = 16384. 0 is treated as 1 (see effective_batch_size_bytes).
  int32_t batch_size_bytes = 16384;
  // linger.ms = 5 since 4.0 (KIP-1030); it was 0 up to 3.9.
  sim::Duration linger = sim::Duration::from_ms(5);
  // buffer.memory = 33554432 (32 MiB).
  int64_t buffer_memory_bytes = 33'554'432;
  // send.buffer.bytes = 131072 and receive.buffer.bytes = 32768: the SO_SNDBUF / SO_RCVBUF of the producer's
  // connections, -1 for the OS default (CommonClientConfigs, at least -1). The state machine has no socket; the
  // cluster layer reads them for each connection's TCP window.
  int32_t send_buffer_bytes = 131'072;
  int32_t receive_buffer_bytes = 32'768;
  // max.block.ms = 60000: bounds the metadata wait plus buffer allocation inside send().
  sim::Duration max_block = sim::Duration::from_ms(60'000);
  // max.request.size = 1048576: the largest ProduceRequest, and also the largest single record.
  int32_t max_request_size_bytes = 1'048'576;
  // request.timeout.ms = 30000.
  sim::Duration request_timeout = sim::Duration::from_ms(30'000);
  // delivery.timeout.ms = 120000; must be >= linger.ms + request.timeout.ms.
  sim::Duration delivery_timeout = sim::Duration::from_ms(120'000);
  // max.in.flight.requests.per.connection = 5; <= 5 for idempotence; 1 mutes partitions (ordering).
  int32_t max_in_flight_requests_per_connection = 5;
  // retry.backoff.ms = 100 and retry.backoff.max.ms = 1000 (exponential, KIP-580).
  sim::Duration retry_backoff = sim::Duration::from_ms(100);
  sim::Duration retry_backoff_max = sim::Duration::from_ms(1'000);
  // reconnect.backoff.ms = 50 and reconnect.backoff.max.ms = 1000 (ClusterConnectionStates: ExponentialBackoff with
  // base 2 and jitter 0.2). A connection is never refused here, so every disconnect follows a ready connection
  // (failedAttempts 0): the node is unusable for reconnect.backoff.ms x U(0.8, 1.2), at most
  // reconnect.backoff.max.ms, and for exactly reconnect.backoff.ms when the max is not above it.
  sim::Duration reconnect_backoff = sim::Duration::from_ms(50);
  sim::Duration reconnect_backoff_max = sim::Duration::from_ms(1'000);
  // compression.type = none, and the per-codec levels (KIP-390).
  CompressionType compression_type = CompressionType::none;
  int32_t compression_gzip_level = -1;
  int32_t compression_lz4_level = 9;
  int32_t compression_zstd_level = 3;
  // security.protocol = PLAINTEXT (CommonClientConfigs): TLS on the producer's connections with SSL / SASL_SSL.
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  // client.id = "": the id the brokers' client quotas match (kafka-behaviour-2.md §10.1). Empty means Kafka's
  // generated "producer-N", N counting the producers of one JVM from 1; every simulated client is a JVM of its own,
  // so it is "producer-1".
  std::string client_id_config;
  // partitioner.class = null: the built-in partitioner (murmur2 of the key, sticky without one). The one
  // Partitioner class Kafka 4.x ships is org.apache.kafka.clients.producer.RoundRobinPartitioner: every record,
  // keyed or not, goes to the next partition with a leader in turn (one counter per topic); the settings below
  // are then unused.
  PartitionerClass partitioner_class = PartitionerClass::built_in;
  // partitioner.ignore.keys = false: when true, keyed records use the sticky partitioner too.
  bool partitioner_ignore_keys = false;
  // partitioner.adaptive.partitioning.enable = true (KIP-794): weight the sticky choice by queue sizes.
  bool partitioner_adaptive_partitioning_enable = true;
  // partitioner.availability.timeout.ms = 0 (disabled): exclude partitions whose leader could not take data
  // for longer than this.
  sim::Duration partitioner_availability_timeout = sim::Duration::zero();

  // ProducerConfig: max(1, batch.size).
  int32_t effective_batch_size_bytes() const { return batch_size_bytes < 1 ? 1 : batch_size_bytes; }
  // max.in.flight.requests.per.connection == 1 makes the Sender mute partitions (guaranteeMessageOrder).
  bool guarantee_message_order() const { return max_in_flight_requests_per_connection == 1; }
};

// Checks the constraints KafkaProducer enforces on construction. Returns an empty string when the config is
// valid, else the first violation (a ConfigException in Kafka; an expected user error here, so a value).
std::string validate(const ProducerConfig& config);

}  // namespace kafkasim::kafka
