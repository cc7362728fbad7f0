// Broker-side configuration of the data path, with Kafka's names and Kafka 4.x defaults
// (reference/kafka-behaviour.md §2.9, §3.1; server/.../config/ReplicationConfigs.java, ServerLogConfigs.java).
// Values keep Kafka's units so that a scenario can paste a `server.properties`; the state machines convert
// milliseconds to simulated nanoseconds where they compare times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkasim/kafka/broker/replication_quota.hpp"
#include "kafkasim/kafka/log/log_config.hpp"
#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

struct BrokerConfig {
  // `node.id`: this broker's id, as it appears in replica lists and FetchRequest.ReplicaId.
  NodeId broker_id = 0;
  // `min.insync.replicas` (broker default 1; a topic may override it, see PartitionConfig).
  int32_t min_insync_replicas = 1;
  // `replica.lag.time.max.ms`: a follower not fully caught up for longer than this leaves the ISR; the
  // isr-expiration task runs every half of it (ReplicaManager.startup, §3.1).
  int64_t replica_lag_time_max_ms = 30'000;
  // `message.max.bytes`: the broker default of the topic's `max.message.bytes`. The check itself is done by
  // the Log with LogConfig::max_message_bytes; ReplicaManager::default_log_config copies this value there.
  int64_t message_max_bytes = 1'048'588;
  // `fetch.max.bytes` (broker, ServerConfigs; at least 1024): KafkaApis.handleFetchRequest caps every fetch's
  // response-wide maxBytes with it, and its minBytes with the capped maxBytes (follower fetches too: only the
  // client-quota cap exempts them).
  int64_t fetch_max_bytes = 57'671'680;
  // `max.incremental.fetch.session.cache.slots`: fetch sessions (KIP-227) the broker keeps, split into 8 shards.
  int32_t max_incremental_fetch_session_cache_slots = 1000;
  // `replica.selector.class` (null: consumers read from leaders only). The one class Kafka ships,
  // org.apache.kafka.common.replica.RackAwareReplicaSelector, sets `rack_aware_replica_selector` (KIP-392).
  bool rack_aware_replica_selector = false;
  // Every broker's `broker.rack` as the metadata cache has it (the brokers' registrations), indexed by broker id;
  // "" for a broker without a rack. The replica selector compares them with a consumer's client.rack.
  std::vector<std::string> broker_racks;
  // Bounds of the two purgatories (STYLE.md "bound everything"). Kafka has no explicit bound: channel muting
  // (one request at a time per connection, §2.1) limits parked requests to the number of connections, so
  // exceeding these is a bug in the cluster layer, not a modelled condition.
  int32_t max_delayed_produces = 1 << 20;
  int32_t max_delayed_fetches = 1 << 20;
};

// Per-partition (topic-level) settings.
struct PartitionConfig {
  LogConfig log;
  // Topic-level `min.insync.replicas`; when absent the broker default applies.
  std::optional<int32_t> min_insync_replicas;
  // `leader.replication.throttled.replicas` / `follower.replication.throttled.replicas` (kafka-behaviour-2.md §11.1):
  // the replicas each broker's replication quotas throttle (the cluster layer marks them on every broker).
  ThrottledReplicas leader_throttled_replicas;
  ThrottledReplicas follower_throttled_replicas;
};

}  // namespace kafkasim::kafka
