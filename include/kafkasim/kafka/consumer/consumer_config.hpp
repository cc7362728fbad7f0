// Consumer configuration with Kafka's names and Kafka 4.x defaults (reference/kafka-behaviour.md §5.2, §5.7;
// clients/.../consumer/ConsumerConfig.java). Each field names its Kafka config key so a `consumer.properties`
// maps onto it one to one. Durations are sim::Duration, whatever unit the Kafka key uses.
#pragma once

#include <cstdint>
#include <string>

#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/kafka/security_protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// auto.offset.reset (AutoOffsetResetStrategy): 4.0 adds `by_duration:<ISO-8601 duration>` (KIP-1106), a reset to
// the first record whose timestamp is at least now minus the duration (ConsumerConfig::auto_offset_reset_duration).
enum class AutoOffsetReset : uint8_t { earliest, latest, none, by_duration };

// isolation.level (IsolationLevel): the wire values are READ_UNCOMMITTED = 0, READ_COMMITTED = 1.
enum class IsolationLevel : uint8_t { read_uncommitted = 0, read_committed = 1 };

struct ConsumerConfig {
  // The node id the cluster layer gives this client (FetchRequest header client id).
  NodeId client_id = 0;
  // send.buffer.bytes = 131072 and receive.buffer.bytes = 65536: the SO_SNDBUF / SO_RCVBUF of the consumer's
  // connections, -1 for the OS default (CommonClientConfigs, at least -1). The state machine has no socket; the
  // cluster layer reads them for each connection's TCP window.
  int32_t send_buffer_bytes = 131'072;
  int32_t receive_buffer_bytes = 65'536;
  // fetch.min.bytes = 1: the broker answers as soon as one byte is readable (§2.8 step 6).
  int32_t fetch_min_bytes = 1;
  // fetch.max.bytes = 52428800 (50 MiB): bounds a whole FetchResponse (§2.8 step 4).
  int32_t fetch_max_bytes = 52'428'800;
  // fetch.max.wait.ms = 500: how long the broker may park the fetch in its purgatory (DelayedFetch).
  sim::Duration fetch_max_wait = sim::Duration::from_ms(500);
  // max.partition.fetch.bytes = 1048576 (1 MiB): FetchRequest.PartitionData.maxBytes (FetchConfig.fetchSize).
  int32_t max_partition_fetch_bytes = 1'048'576;
  // check.crcs = true: CompletedFetch.maybeEnsureValid checks each fetched batch's CRC32C (DefaultRecordBatch.
  // ensureValid) as poll() first reads it. The state machine does no work; the cluster layer charges the time.
  bool check_crcs = true;
  // max.poll.records = 500: FetchCollector.collectFetch returns at most this many records per poll().
  int32_t max_poll_records = 500;
  // enable.auto.commit = true and auto.commit.interval.ms = 5000 (ConsumerCoordinator.nextAutoCommitTimer).
  bool enable_auto_commit = true;
  sim::Duration auto_commit_interval = sim::Duration::from_ms(5'000);
  // auto.offset.reset = latest. For by_duration, the duration (not negative): each reset attempt asks ListOffsets
  // for the timestamp now - duration (AutoOffsetResetStrategy.timestamp(), recomputed per attempt).
  AutoOffsetReset auto_offset_reset = AutoOffsetReset::latest;
  sim::Duration auto_offset_reset_duration;
  // isolation.level = read_uncommitted: fetches read up to the HW, lag is measured against the HW (§5.7).
  IsolationLevel isolation_level = IsolationLevel::read_uncommitted;
  // request.timeout.ms = 30000: an unanswered request is failed and its connection dropped (NetworkClient).
  sim::Duration request_timeout = sim::Duration::from_ms(30'000);
  // retry.backoff.ms = 100: between ListOffsets retries (OffsetFetcherUtils) and after a retriable auto-commit
  // failure (ConsumerCoordinator.autoCommitOffsetsAsync), fixed in both. commitSync() retries grow instead
  // (KIP-580: the coordinator's ExponentialBackoff, retryBackoff.backoff(attempts++)) up to
  // retry.backoff.max.ms = 1000, with +-20 % jitter.
  sim::Duration retry_backoff = sim::Duration::from_ms(100);
  sim::Duration retry_backoff_max = sim::Duration::from_ms(1'000);
  // default.api.timeout.ms = 60000: how long a blocking call waits (KafkaConsumer.commitSync() retries a commit
  // that failed with a retriable error, retry.backoff.ms apart, until this has passed since the call).
  sim::Duration default_api_timeout = sim::Duration::from_ms(60'000);
  // reconnect.backoff.ms = 50: after a failed or timed-out fetch the node is unavailable for about this long
  // (NetworkClient connection backoff; AbstractFetch.prepareFetchRequests skips `isUnavailable(node)`), with
  // +-20 % jitter while reconnect.backoff.max.ms = 1000 is larger. Its growth with consecutive failed connection
  // attempts never applies here: connecting always succeeds.
  sim::Duration reconnect_backoff = sim::Duration::from_ms(50);
  sim::Duration reconnect_backoff_max = sim::Duration::from_ms(1'000);
  // client.rack = "": sent as every FetchRequest's RackId (KIP-392). A leader whose broker has a
  // replica.selector.class may then name a replica in this rack as the partition's preferred read replica.
  std::string client_rack;
  // metadata.max.age.ms = 300000: how long a preferred read replica is used before the consumer asks the leader
  // again (SubscriptionState.updatePreferredReadReplica, expiry = now + metadataExpireMs). Metadata itself never
  // changes in a run, so this is its only effect here.
  sim::Duration metadata_max_age = sim::Duration::from_ms(300'000);
  // security.protocol = PLAINTEXT (CommonClientConfigs): TLS on the consumer's connections with SSL / SASL_SSL.
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  // client.id = "": the id the brokers' client quotas match (kafka-behaviour-2.md §10.1). Empty means Kafka's
  // generated "consumer-<group.id>-N" (ConsumerConfig.maybeOverrideClientId), N counting the consumers of one JVM
  // from 1; every simulated client is a JVM of its own, so N is 1.
  std::string client_id_config;
};

// Checks the ranges ConsumerConfig.java enforces (a bad config is a scenario bug, so it asserts).
void validate(const ConsumerConfig& config);

}  // namespace kafkasim::kafka
