// Kafka's configuration keys as a scenario writes them ("linger.ms", "min.insync.replicas"), one table per
// client, broker and topic: name, type, Kafka 4.x default, valid range or values, and the simulator field it
// sets. The defaults themselves live in the kafka/ structs (ProducerConfig, ConsumerConfig, BrokerConfig,
// LogConfig, ReplicaFetcherConfig), which cite Kafka's sources; the tables repeat them as text so that the
// JSON Schema and the documentation can show them, and a test keeps both in agreement.
//
// Sources: reference/kafka-behaviour.md §1.1 (producer), §2.9 and §3.1 (broker), §5.2 (consumer), §0 (4.0
// deltas, KIP-1030), and Kafka's ProducerConfig.java, ConsumerConfig.java, LogConfig.java, KafkaConfig.
//
// Configs that Kafka has but the simulator does not model (security, serializers, client ids, ...) are in the
// tables with type kIgnored, or match an ignored prefix ("ssl.", "sasl."): a pasted production file loads,
// and the caller gets one warning per ignored key. Any other unknown name is an error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafkasim/kafka/broker/broker_config.hpp"
#include "kafkasim/kafka/broker/client_quota.hpp"
#include "kafkasim/kafka/consumer/consumer_config.hpp"
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"
#include "kafkasim/kafka/log/log_config.hpp"
#include "kafkasim/kafka/producer/producer_config.hpp"
#include "kafkasim/kafka/security_protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

// ConfigDef.Type, with Kafka's durations and sizes split out because a scenario may write them with units.
enum class ConfigType : uint8_t {
  kInt,         // 32-bit integer
  kLong,        // 64-bit integer
  kDouble,      // floating point
  kBool,        // true/false (also "true"/"false" from a .properties file)
  kString,      // one of `valid_values` when that list is not empty
  kList,        // comma-separated list (or a JSON array) of `valid_values`
  kDurationMs,  // a duration; a plain number is in `plain_unit_ns` (milliseconds for "*.ms")
  kSize,        // bytes; "1MiB" accepted
  kIgnored,     // known to Kafka, not modelled: accepted with a warning
};

const char* to_string(ConfigType type);

// A converted config value; which member is meaningful depends on the entry's type.
struct ConfigValue {
  int64_t integer = 0;   // kInt, kLong, kSize
  double number = 0;     // kDouble
  bool boolean = false;  // kBool
  std::string text;      // kString
  std::vector<std::string> list;  // kList
  sim::Duration duration;         // kDurationMs
};

// The `field` of an ignored config (ConfigType::kIgnored). Another text there says what the simulator uses
// instead, and the loader's warning quotes it.
inline constexpr std::string_view kNotModelledField = "(not modelled)";

// Everything about one config except how it reaches its struct.
struct ConfigSpec {
  std::string_view name = {};
  ConfigType type = ConfigType::kIgnored;
  std::string_view kafka_default = {};  // Kafka's documented default, as text ("" for ignored configs)
  // Valid range in the config's own unit (ms for "*.ms", hours for "*.hours", bytes for sizes).
  int64_t min_value = 0;
  int64_t max_value = 0;
  std::vector<std::string_view> valid_values = {};  // kString / kList
  // kString: values starting with this prefix are valid too when `check_prefixed` accepts the rest (returns an
  // empty string; otherwise what was expected), as auto.offset.reset's "by_duration:<ISO-8601 duration>".
  std::string_view valid_prefix = {};
  std::string (*check_prefixed)(std::string_view rest) = nullptr;
  // kString: for a value outside valid_values (and valid_prefix), a note on why, in place of a "did you mean"
  // (empty: the usual suggestion), as partitioner.class's for the classes Kafka 4.0 removed.
  std::string (*explain_invalid)(std::string_view text) = nullptr;
  // kList: the list's own rule instead of `valid_values` (empty return: valid; else what was expected). An empty
  // list is then allowed too, as the throttled-replica lists' default "".
  std::string (*check_list)(const std::vector<std::string>& items) = nullptr;
  // kString: values match `valid_values` whatever their case, and the config keeps the listed spelling
  // (ConfigDef.CaseInsensitiveValidString, as security.protocol's "ssl" for "SSL").
  bool case_insensitive = false;
  std::string_view field = {};                      // the simulator field it sets, for documentation
  int64_t plain_unit_ns = 1'000'000;           // kDurationMs: a plain number counts this many ns
  bool sub_ms = false;  // kDurationMs: keeps sub-millisecond precision (the field is a sim::Duration)
  // Another entry sets the same field in a finer unit (log.retention.hours vs log.retention.ms); aliases are
  // applied first, so the finer one wins as in Kafka, and the resolved scenario writes only the finer one.
  bool alias = false;
};

template <typename Target>
struct ConfigEntry {
  ConfigSpec spec;
  void (*set)(Target&, const ConfigValue&) = nullptr;
  ConfigValue (*get)(const Target&) = nullptr;
};

// What a cluster's "config" object sets: the broker's own configs, the replica fetcher, the request-handling
// thread pools, and the broker-level defaults of the topic configs (log.segment.bytes -> segment.bytes).
struct BrokerSettings {
  kafka::BrokerConfig broker;
  kafka::ReplicaFetcherConfig fetcher;
  uint32_t num_network_threads = 3;    // num.network.threads
  uint32_t num_io_threads = 8;         // num.io.threads
  uint32_t queued_max_requests = 500;  // queued.max.requests
  int64_t socket_receive_buffer_bytes = 102400;  // socket.receive.buffer.bytes
  int64_t socket_send_buffer_bytes = 102400;     // socket.send.buffer.bytes
  int64_t replica_socket_receive_buffer_bytes = 65536;  // replica.socket.receive.buffer.bytes
  uint32_t background_threads = 10;    // background.threads
  kafka::QuotaWindowConfig quota_window;  // quota.window.num, quota.window.size.seconds (client quotas)
  // Replication throttling (kafka-behaviour-2.md §11.1): leader/follower.replication.throttled.rate (bytes/s,
  // Long.MAX: none) and replication.quota.window.num / .size.seconds.
  int64_t leader_replication_throttled_rate = kafka::unlimited_replication_rate;
  int64_t follower_replication_throttled_rate = kafka::unlimited_replication_rate;
  kafka::QuotaWindowConfig replication_quota_window;
  // security.inter.broker.protocol = PLAINTEXT: TLS on the followers' fetch connections with SSL / SASL_SSL.
  kafka::SecurityProtocol security_inter_broker_protocol = kafka::SecurityProtocol::plaintext;
  kafka::LogConfig log_defaults;       // log.* and message.max.bytes: the defaults of every topic's LogConfig
  int32_t default_replication_factor = 1;  // default.replication.factor: a topic without replication.factor
  int32_t num_partitions = 1;              // num.partitions: a topic without partitions
  // __consumer_offsets, whose partition leaders are the group coordinators (kafka-behaviour.md §5.1).
  int32_t offsets_topic_num_partitions = 50;     // offsets.topic.num.partitions
  int32_t offsets_topic_replication_factor = 3;  // offsets.topic.replication.factor
  int64_t offsets_topic_segment_bytes = 104'857'600;                          // offsets.topic.segment.bytes
  sim::Duration offsets_commit_timeout = sim::Duration::from_ms(5000);        // offsets.commit.timeout.ms
  sim::Duration group_coordinator_append_linger = sim::Duration::from_ms(10);  // group.coordinator.append.linger.ms
  // LogManager's retention task (kafka-behaviour.md §2.5): first after log.initial.task.delay.ms = 30000, then
  // every log.retention.check.interval.ms = 300000.
  sim::Duration log_initial_task_delay = sim::Duration::from_ms(30'000);
  sim::Duration log_retention_check_interval = sim::Duration::from_ms(300'000);
  // LogManager's "kafka-log-flusher": after log.initial.task.delay.ms, then every log.flush.scheduler.interval.ms
  // (Long.MAX: once).
  int64_t log_flush_scheduler_interval_ms = INT64_MAX;
  // The checkpoint files (WorldSpec's fields of the same names): replication-offset-checkpoint every
  // replica.high.watermark.checkpoint.interval.ms = 5000, recovery-point-offset-checkpoint every
  // log.flush.offset.checkpoint.interval.ms = 60000, log-start-offset-checkpoint every
  // log.flush.start.offset.checkpoint.interval.ms = 60000.
  int64_t replica_high_watermark_checkpoint_interval_ms = 5'000;
  int64_t log_flush_offset_checkpoint_interval_ms = 60'000;
  int64_t log_flush_start_offset_checkpoint_interval_ms = 60'000;
};

const std::vector<ConfigEntry<kafka::ProducerConfig>>& producer_config_table();
const std::vector<ConfigEntry<kafka::ConsumerConfig>>& consumer_config_table();
const std::vector<ConfigEntry<BrokerSettings>>& broker_config_table();
const std::vector<ConfigEntry<kafka::PartitionConfig>>& topic_config_table();

// Prefixes of whole families of ignored configs ("ssl.", "sasl."), per table.
std::span<const std::string_view> producer_ignored_prefixes();
std::span<const std::string_view> consumer_ignored_prefixes();
std::span<const std::string_view> broker_ignored_prefixes();
std::span<const std::string_view> topic_ignored_prefixes();

// Converts one JSON value (a JSON number/bool/string, or a string from a .properties file) for `spec`.
// Throws ConfigError at `file` + `pointer` when the type, unit or range is wrong.
ConfigValue convert_config_value(const ConfigSpec& spec, const nlohmann::json& value, const std::string& file,
                                 const std::string& pointer);
// The JSON a resolved scenario writes for a value: numbers in Kafka's unit where exact, strings otherwise.
nlohmann::json config_value_to_json(const ConfigSpec& spec, const ConfigValue& value);

// Formats a duration exactly with the largest unit that divides it ("20s", "5ms", "250us", "7ns").
std::string format_duration(sim::Duration d);

}  // namespace kafkasim::cluster
