#include "kafkasim/cluster/kafka_configs.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
// Thread pools (num.network.threads, num.io.threads, num.replica.fetchers): a bound of the simulator, not of Kafka.
constexpr int64_t kMaxThreadsPerPool = 10000;
constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMsNs = 1'000'000;
constexpr int64_t kMinuteNs = 60'000'000'000;
constexpr int64_t kHourNs = 3'600'000'000'000;

using kafka::ConsumerConfig;
using kafka::PartitionConfig;
using kafka::ProducerConfig;
using sim::Duration;

// Small builders for the getters, so each table row stays on a few lines.
ConfigValue int_value(int64_t v) {
  ConfigValue out;
  out.integer = v;
  return out;
}
ConfigValue bool_value(bool v) {
  ConfigValue out;
  out.boolean = v;
  return out;
}
ConfigValue text_value(std::string v) {
  ConfigValue out;
  out.text = std::move(v);
  return out;
}
ConfigValue duration_value(Duration v) {
  ConfigValue out;
  out.duration = v;
  return out;
}
ConfigValue ms_value(int64_t ms) { return duration_value(Duration::from_ms(ms)); }
int32_t to_i32(int64_t v) {
  KS_ASSERT_LE(v, kIntMax);  // the table's range check ran first
  KS_ASSERT_GE(v, std::numeric_limits<int32_t>::min());
  return static_cast<int32_t>(v);
}
// An integer-millisecond field from a converted duration; the converter ensured whole milliseconds.
int64_t whole_ms(const ConfigValue& v) {
  KS_ASSERT_EQ(v.duration.ns() % kMsNs, 0);
  return v.duration.ns() / kMsNs;
}
constexpr std::string_view kRoundRobinPartitioner = "org.apache.kafka.clients.producer.RoundRobinPartitioner";

// partitioner.class values other than RoundRobinPartitioner: Kafka 4.0 removed DefaultPartitioner and
// UniformStickyPartitioner (KIP-794), whose behaviour the built-in partitioner has; other classes are user code.
std::string explain_partitioner_class(std::string_view text) {
  if (text.ends_with(".DefaultPartitioner") || text.ends_with(".UniformStickyPartitioner"))
    return "Kafka 4.0 removed DefaultPartitioner and UniformStickyPartitioner (KIP-794); leave partitioner.class out "
           "for the built-in partitioner, which does what they did";
  // A near miss of RoundRobinPartitioner's name gets the usual "did you mean" instead.
  static constexpr std::string_view kKnown[] = {kRoundRobinPartitioner};
  if (!closest_name(text, kKnown).empty()) return {};
  return "the only Partitioner class Kafka ships is RoundRobinPartitioner; custom classes are not modelled";
}

constexpr std::string_view kRackAwareReplicaSelector = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

// replica.selector.class values other than RackAwareReplicaSelector are user code (ReplicaSelector implementations).
std::string explain_replica_selector_class(std::string_view text) {
  static constexpr std::string_view kKnown[] = {kRackAwareReplicaSelector};
  if (!closest_name(text, kKnown).empty()) return {};
  return "the only ReplicaSelector class Kafka ships is RackAwareReplicaSelector; custom classes are not modelled";
}

// auto.offset.reset=by_duration:<ISO-8601 duration> (KIP-1106). AutoOffsetResetStrategy.fromString parses the
// duration with java.time.Duration.parse and rejects a negative one.
constexpr std::string_view kByDuration = "by_duration:";
std::string check_reset_duration(std::string_view rest) {
  const Parsed<sim::Duration> parsed = parse_iso8601_duration(rest);
  if (const auto* problem = std::get_if<std::string>(&parsed)) return "<" + *problem + ">";
  if (std::get<sim::Duration>(parsed) < sim::Duration::zero())
    return "<a duration that is not negative (negative durations are not supported in by_duration)>";
  return {};
}
sim::Duration reset_duration(std::string_view text) {
  KS_ASSERT(text.starts_with(kByDuration));
  return std::get<sim::Duration>(parse_iso8601_duration(text.substr(kByDuration.size())));
}
// java.time.Duration.toString's form: PT, then hours, minutes and seconds (with up to 9 fraction digits), each only
// when not zero, PT0S for zero ("PT26H", "PT1M30.5S").
std::string iso8601_duration(sim::Duration d) {
  KS_ASSERT_GE(d, sim::Duration::zero());
  int64_t ns = d.ns();
  const int64_t hours = ns / 3'600'000'000'000;
  ns -= hours * 3'600'000'000'000;
  const int64_t minutes = ns / 60'000'000'000;
  ns -= minutes * 60'000'000'000;
  std::string out = "PT";
  if (hours > 0) out += std::to_string(hours) + "H";
  if (minutes > 0) out += std::to_string(minutes) + "M";
  if (ns > 0 || (hours == 0 && minutes == 0)) {
    out += std::to_string(ns / 1'000'000'000);
    if (const int64_t fraction = ns % 1'000'000'000; fraction > 0) {
      std::string digits = std::to_string(fraction);
      digits.insert(0, 9 - digits.size(), '0');
      while (digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    out += "S";
  }
  return out;
}

// Kafka's "-1 means unlimited" for retention given in coarser units (log.retention.hours = -1).
int64_t ms_or_unlimited(const ConfigValue& v) { return v.duration.ns() < 0 ? -1 : whole_ms(v); }

template <typename T>
ConfigEntry<T> ignored(std::string_view name) {
  ConfigEntry<T> e{{.name = name, .type = ConfigType::kIgnored, .field = kNotModelledField}, nullptr, nullptr};
  return e;
}
// A config the simulator ignores because a scenario key of its own says the same; `instead` says which (the
// loader's warning quotes it).
template <typename T>
ConfigEntry<T> ignored_instead(std::string_view name, std::string_view instead) {
  ConfigEntry<T> e{{.name = name, .type = ConfigType::kIgnored, .field = instead}, nullptr, nullptr};
  return e;
}

// A broker checkpoint task's period (replica.high.watermark.checkpoint.interval.ms and the LogManager's two): Kafka
// milliseconds, at least 0 here, up to `max_value` (LONG or INT in KafkaConfig). `Field` is the BrokerSettings one.
template <int64_t BrokerSettings::*Field>
ConfigEntry<BrokerSettings> checkpoint_interval(std::string_view name, std::string_view kafka_default,
                                                int64_t max_value, std::string_view field) {
  return {{.name = name, .type = ConfigType::kLong, .kafka_default = kafka_default, .min_value = 0,
           .max_value = max_value, .field = field},
          +[](BrokerSettings& c, const ConfigValue& v) { c.*Field = v.integer; },
          +[](const BrokerSettings& c) { return int_value(c.*Field); }};
}

// CommonClientConfigs' retry.backoff.max.ms and reconnect.backoff.max.ms (KIP-580): the cap of a client's exponential
// backoff, 1000 ms by default, at least 0. `Field` is the client config's duration it sets.
template <typename T, sim::Duration T::*Field>
ConfigEntry<T> client_backoff_max(std::string_view name, std::string_view field) {
  return {{.name = name, .type = ConfigType::kDurationMs, .kafka_default = "1000", .min_value = 0,
           .max_value = kLongMax / kMsNs, .field = field, .sub_ms = true},
          +[](T& c, const ConfigValue& v) { c.*Field = v.duration; },
          +[](const T& c) { return duration_value(c.*Field); }};
}

// CommonClientConfigs' send.buffer.bytes / receive.buffer.bytes: the SO_SNDBUF / SO_RCVBUF of every connection of a
// client, -1 for the OS default (at least -1); each connection's TCP window is min(the sender's send buffer, the
// receiver's receive buffer) (network.hpp). `Field` is the client config's int32 field it sets.
template <typename T, int32_t T::*Field>
ConfigEntry<T> client_socket_buffer(std::string_view name, std::string_view kafka_default, std::string_view field) {
  return {{.name = name, .type = ConfigType::kInt, .kafka_default = kafka_default, .min_value = -1,
           .max_value = kIntMax, .field = field},
          +[](T& c, const ConfigValue& v) { c.*Field = to_i32(v.integer); },
          +[](const T& c) { return int_value(c.*Field); }};
}

// A security protocol config (SecurityProtocol's names, case-insensitive as CommonClientConfigs' validator is),
// PLAINTEXT by default: a client's security.protocol, the brokers' security.inter.broker.protocol. SSL and SASL_SSL
// put TLS on the connections (cluster/tls_costs.hpp).
template <typename T, kafka::SecurityProtocol T::*Field>
ConfigEntry<T> security_protocol(std::string_view field, std::string_view name = "security.protocol") {
  return {{.name = name, .type = ConfigType::kString, .kafka_default = "PLAINTEXT",
           .valid_values = {kafka::kSecurityProtocolNames[0], kafka::kSecurityProtocolNames[1],
                            kafka::kSecurityProtocolNames[2], kafka::kSecurityProtocolNames[3]},
           .case_insensitive = true, .field = field},
          +[](T& c, const ConfigValue& v) {
            for (size_t i = 0; i < std::size(kafka::kSecurityProtocolNames); ++i)
              if (v.text == kafka::kSecurityProtocolNames[i]) c.*Field = static_cast<kafka::SecurityProtocol>(i);
          },
          +[](const T& c) { return text_value(std::string(kafka::name_of(c.*Field))); }};
}

// leader/follower.replication.throttled.rate: bytes a second, at least 0, Long.MAX (no bound) by default.
template <int64_t BrokerSettings::*Field>
ConfigEntry<BrokerSettings> replication_throttled_rate(std::string_view name, std::string_view field) {
  return {{.name = name, .type = ConfigType::kLong, .kafka_default = "9223372036854775807", .min_value = 0,
           .max_value = kLongMax, .field = field},
          +[](BrokerSettings& c, const ConfigValue& v) { c.*Field = v.integer; },
          +[](const BrokerSettings& c) { return int_value(c.*Field); }};
}

// ThrottledReplicaListValidator's rule, for ConfigSpec::check_list.
std::string check_throttled_replicas(const std::vector<std::string>& items) {
  return kafka::parse_throttled_replicas(items).second;
}

// leader/follower.replication.throttled.replicas: "*", "partition:broker,..." or "" (the default: none).
template <kafka::ThrottledReplicas PartitionConfig::*Field>
ConfigEntry<PartitionConfig> throttled_replicas(std::string_view name, std::string_view field) {
  return {{.name = name, .type = ConfigType::kList, .kafka_default = "", .check_list = &check_throttled_replicas,
           .field = field},
          +[](PartitionConfig& c, const ConfigValue& v) { c.*Field = kafka::parse_throttled_replicas(v.list).first; },
          +[](const PartitionConfig& c) {
            ConfigValue out;
            const std::string text = kafka::throttled_replicas_text(c.*Field);
            if (!text.empty()) out.list = {text};
            return out;
          }};
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// cleanup.policy as a list: "compact", "delete", both (Kafka's order in its docs) or neither.
ConfigValue cleanup_policy_value(const kafka::LogConfig& log) {
  ConfigValue out;
  if (log.cleanup_policy_compact) out.list.push_back("compact");
  if (log.cleanup_policy_delete) out.list.push_back("delete");
  return out;
}

// The topic-level compression.type's values, in BrokerCompressionType order.
constexpr std::string_view kBrokerCompressionNames[] = {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"};

kafka::BrokerCompressionType broker_compression(const ConfigValue& v) {
  const auto it = std::find(std::begin(kBrokerCompressionNames), std::end(kBrokerCompressionNames), v.text);
  KS_ASSERT(it != std::end(kBrokerCompressionNames));  // the table's valid_values were checked first
  return static_cast<kafka::BrokerCompressionType>(it - std::begin(kBrokerCompressionNames));
}

ConfigValue broker_compression_value(kafka::BrokerCompressionType t) {
  return text_value(std::string(kBrokerCompressionNames[static_cast<size_t>(t)]));
}

// message.timestamp.type: CreateTime or LogAppendTime (TimestampType's names, ConfigDef.ValidString).
bool log_append_time(const ConfigValue& v) { return v.text == "LogAppendTime"; }
ConfigValue timestamp_type_value(bool log_append_time) {
  return text_value(log_append_time ? "LogAppendTime" : "CreateTime");
}

}  // namespace

const char* to_string(ConfigType type) {
  switch (type) {
    case ConfigType::kInt: return "int";
    case ConfigType::kLong: return "long";
    case ConfigType::kDouble: return "double";
    case ConfigType::kBool: return "boolean";
    case ConfigType::kString: return "string";
    case ConfigType::kList: return "list";
    case ConfigType::kDurationMs: return "duration";
    case ConfigType::kSize: return "size";
    case ConfigType::kIgnored: return "ignored";
  }
  return "?";
}

// Producer: kafka-behaviour.md §1.1 (ProducerConfig.java). Ranges are ProducerConfig's validators.
const std::vector<ConfigEntry<ProducerConfig>>& producer_config_table() {
  using P = ProducerConfig;
  static const std::vector<ConfigEntry<P>> table = {
      {{.name = "acks", .type = ConfigType::kString, .kafka_default = "all", .valid_values = {"all", "-1", "0", "1"},
        .field = "ProducerConfig::acks"},
       +[](P& c, const ConfigValue& v) {
         c.acks = v.text == "0" ? kafka::Acks::none : v.text == "1" ? kafka::Acks::leader : kafka::Acks::all;
       },
       +[](const P& c) {
         return text_value(c.acks == kafka::Acks::none ? "0" : c.acks == kafka::Acks::leader ? "1" : "all");
       }},
      {{.name = "enable.idempotence", .type = ConfigType::kBool, .kafka_default = "true",
        .field = "ProducerConfig::enable_idempotence"},
       +[](P& c, const ConfigValue& v) { c.enable_idempotence = v.boolean; },
       +[](const P& c) { return bool_value(c.enable_idempotence); }},
      {{.name = "retries", .type = ConfigType::kInt, .kafka_default = "2147483647", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::retries"},
       +[](P& c, const ConfigValue& v) { c.retries = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.retries); }},
      {{.name = "batch.size", .type = ConfigType::kSize, .kafka_default = "16384", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::batch_size_bytes"},
       +[](P& c, const ConfigValue& v) { c.batch_size_bytes = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.batch_size_bytes); }},
      // KIP-1030: 5 ms since 4.0 (0 up to 3.9).
      {{.name = "linger.ms", .type = ConfigType::kDurationMs, .kafka_default = "5", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::linger", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.linger = v.duration; },
       +[](const P& c) { return duration_value(c.linger); }},
      {{.name = "buffer.memory", .type = ConfigType::kSize, .kafka_default = "33554432", .min_value = 0,
        .max_value = kLongMax, .field = "ProducerConfig::buffer_memory_bytes"},
       +[](P& c, const ConfigValue& v) { c.buffer_memory_bytes = v.integer; },
       +[](const P& c) { return int_value(c.buffer_memory_bytes); }},
      client_socket_buffer<P, &P::send_buffer_bytes>("send.buffer.bytes", "131072", "ProducerConfig::send_buffer_bytes"),
      client_socket_buffer<P, &P::receive_buffer_bytes>("receive.buffer.bytes", "32768",
                                                         "ProducerConfig::receive_buffer_bytes"),
      {{.name = "max.block.ms", .type = ConfigType::kDurationMs, .kafka_default = "60000", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "ProducerConfig::max_block", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.max_block = v.duration; },
       +[](const P& c) { return duration_value(c.max_block); }},
      {{.name = "max.request.size", .type = ConfigType::kSize, .kafka_default = "1048576", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::max_request_size_bytes"},
       +[](P& c, const ConfigValue& v) { c.max_request_size_bytes = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.max_request_size_bytes); }},
      {{.name = "request.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "30000", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::request_timeout", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.request_timeout = v.duration; },
       +[](const P& c) { return duration_value(c.request_timeout); }},
      {{.name = "delivery.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "120000", .min_value = 0,
        .max_value = kIntMax, .field = "ProducerConfig::delivery_timeout", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.delivery_timeout = v.duration; },
       +[](const P& c) { return duration_value(c.delivery_timeout); }},
      {{.name = "max.in.flight.requests.per.connection", .type = ConfigType::kInt, .kafka_default = "5",
        .min_value = 1, .max_value = kIntMax, .field = "ProducerConfig::max_in_flight_requests_per_connection"},
       +[](P& c, const ConfigValue& v) { c.max_in_flight_requests_per_connection = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.max_in_flight_requests_per_connection); }},
      {{.name = "retry.backoff.ms", .type = ConfigType::kDurationMs, .kafka_default = "100", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "ProducerConfig::retry_backoff", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.retry_backoff = v.duration; },
       +[](const P& c) { return duration_value(c.retry_backoff); }},
      client_backoff_max<P, &P::retry_backoff_max>("retry.backoff.max.ms", "ProducerConfig::retry_backoff_max"),
      {{.name = "reconnect.backoff.ms", .type = ConfigType::kDurationMs, .kafka_default = "50", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "ProducerConfig::reconnect_backoff", .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.reconnect_backoff = v.duration; },
       +[](const P& c) { return duration_value(c.reconnect_backoff); }},
      client_backoff_max<P, &P::reconnect_backoff_max>("reconnect.backoff.max.ms",
                                                       "ProducerConfig::reconnect_backoff_max"),
      // Not modelled: connections are set up at once and never fail to connect, metadata never changes (fixed
      // leaders), and idle connections are not closed within a run.
      ignored<P>("socket.connection.setup.timeout.ms"),
      ignored<P>("socket.connection.setup.timeout.max.ms"),
      ignored<P>("metadata.max.age.ms"),
      ignored<P>("metadata.max.idle.ms"),
      ignored<P>("connections.max.idle.ms"),
      {{.name = "compression.type", .type = ConfigType::kString, .kafka_default = "none",
        .valid_values = {"none", "gzip", "snappy", "lz4", "zstd"}, .field = "ProducerConfig::compression_type"},
       +[](P& c, const ConfigValue& v) {
         using kafka::CompressionType;
         c.compression_type = v.text == "gzip"     ? CompressionType::gzip
                              : v.text == "snappy" ? CompressionType::snappy
                              : v.text == "lz4"    ? CompressionType::lz4
                              : v.text == "zstd"   ? CompressionType::zstd
                                                   : CompressionType::none;
       },
       +[](const P& c) {
         static constexpr const char* kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
         return text_value(kNames[static_cast<int>(c.compression_type)]);
       }},
      // KIP-390: gzip is -1 or 1..9 (the loader rejects 0), lz4 1..17, zstd -131072..22.
      {{.name = "compression.gzip.level", .type = ConfigType::kInt, .kafka_default = "-1", .min_value = -1,
        .max_value = 9, .field = "ProducerConfig::compression_gzip_level"},
       +[](P& c, const ConfigValue& v) { c.compression_gzip_level = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.compression_gzip_level); }},
      {{.name = "compression.lz4.level", .type = ConfigType::kInt, .kafka_default = "9", .min_value = 1,
        .max_value = 17, .field = "ProducerConfig::compression_lz4_level"},
       +[](P& c, const ConfigValue& v) { c.compression_lz4_level = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.compression_lz4_level); }},
      {{.name = "compression.zstd.level", .type = ConfigType::kInt, .kafka_default = "3", .min_value = -131072,
        .max_value = 22, .field = "ProducerConfig::compression_zstd_level"},
       +[](P& c, const ConfigValue& v) { c.compression_zstd_level = to_i32(v.integer); },
       +[](const P& c) { return int_value(c.compression_zstd_level); }},
      // ProducerConfig.PARTITIONER_CLASS_CONFIG: a class name, null by default (the built-in partitioner, written
      // "" here). Kafka 4.0 removed DefaultPartitioner and UniformStickyPartitioner (KIP-794); RoundRobinPartitioner
      // is the one class it ships.
      {{.name = "partitioner.class", .type = ConfigType::kString, .kafka_default = "",
        .valid_values = {"", kRoundRobinPartitioner}, .explain_invalid = &explain_partitioner_class,
        .field = "ProducerConfig::partitioner_class"},
       +[](P& c, const ConfigValue& v) {
         c.partitioner_class =
             v.text.empty() ? kafka::PartitionerClass::built_in : kafka::PartitionerClass::round_robin;
       },
       +[](const P& c) {
         return text_value(c.partitioner_class == kafka::PartitionerClass::built_in ? ""
                                                                                     : std::string(kRoundRobinPartitioner));
       }},
      {{.name = "partitioner.ignore.keys", .type = ConfigType::kBool, .kafka_default = "false",
        .field = "ProducerConfig::partitioner_ignore_keys"},
       +[](P& c, const ConfigValue& v) { c.partitioner_ignore_keys = v.boolean; },
       +[](const P& c) { return bool_value(c.partitioner_ignore_keys); }},
      {{.name = "partitioner.adaptive.partitioning.enable", .type = ConfigType::kBool, .kafka_default = "true",
        .field = "ProducerConfig::partitioner_adaptive_partitioning_enable"},
       +[](P& c, const ConfigValue& v) { c.partitioner_adaptive_partitioning_enable = v.boolean; },
       +[](const P& c) { return bool_value(c.partitioner_adaptive_partitioning_enable); }},
      {{.name = "partitioner.availability.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "0",
        .min_value = 0, .max_value = kLongMax / kMsNs, .field = "ProducerConfig::partitioner_availability_timeout",
        .sub_ms = true},
       +[](P& c, const ConfigValue& v) { c.partitioner_availability_timeout = v.duration; },
       +[](const P& c) { return duration_value(c.partitioner_availability_timeout); }},
      ignored<P>("transaction.timeout.ms"),  // no transactions
      ignored<P>("bootstrap.servers"),
      {{.name = "client.id", .type = ConfigType::kString, .kafka_default = "", .field = "ProducerConfig::client_id_config"},
       +[](P& c, const ConfigValue& v) { c.client_id_config = v.text; },
       +[](const P& c) { return text_value(c.client_id_config); }},
      ignored<P>("client.dns.lookup"),
      ignored<P>("key.serializer"),
      ignored<P>("value.serializer"),
      ignored<P>("transactional.id"),
      ignored<P>("interceptor.classes"),
      security_protocol<P, &P::security_protocol>("ProducerConfig::security_protocol"),
      ignored<P>("metric.reporters"),
      ignored<P>("metrics.num.samples"),
      ignored<P>("metrics.recording.level"),
      ignored<P>("metrics.sample.window.ms"),
      ignored<P>("enable.metrics.push"),
      // More of ProducerConfig and CommonClientConfigs in Kafka 4.x: rebootstrapping (KIP-899, KIP-1102), security
      // providers and two-phase commit (KIP-939).
      ignored<P>("metadata.recovery.strategy"),
      ignored<P>("metadata.recovery.rebootstrap.trigger.ms"),
      ignored<P>("security.providers"),
      ignored<P>("transaction.two.phase.commit.enable"),
  };
  return table;
}

// Consumer: kafka-behaviour.md §5.2 (ConsumerConfig.java). Group membership configs are not modelled yet:
// consumers have a static assignment (world.hpp ConsumerSpec).
const std::vector<ConfigEntry<ConsumerConfig>>& consumer_config_table() {
  using C = ConsumerConfig;
  static const std::vector<ConfigEntry<C>> table = {
      client_socket_buffer<C, &C::send_buffer_bytes>("send.buffer.bytes", "131072", "ConsumerConfig::send_buffer_bytes"),
      client_socket_buffer<C, &C::receive_buffer_bytes>("receive.buffer.bytes", "65536",
                                                         "ConsumerConfig::receive_buffer_bytes"),
      {{.name = "fetch.min.bytes", .type = ConfigType::kSize, .kafka_default = "1", .min_value = 0,
        .max_value = kIntMax, .field = "ConsumerConfig::fetch_min_bytes"},
       +[](C& c, const ConfigValue& v) { c.fetch_min_bytes = to_i32(v.integer); },
       +[](const C& c) { return int_value(c.fetch_min_bytes); }},
      {{.name = "fetch.max.bytes", .type = ConfigType::kSize, .kafka_default = "52428800", .min_value = 0,
        .max_value = kIntMax, .field = "ConsumerConfig::fetch_max_bytes"},
       +[](C& c, const ConfigValue& v) { c.fetch_max_bytes = to_i32(v.integer); },
       +[](const C& c) { return int_value(c.fetch_max_bytes); }},
      {{.name = "fetch.max.wait.ms", .type = ConfigType::kDurationMs, .kafka_default = "500", .min_value = 0,
        .max_value = kIntMax, .field = "ConsumerConfig::fetch_max_wait", .sub_ms = true},
       +[](C& c, const ConfigValue& v) { c.fetch_max_wait = v.duration; },
       +[](const C& c) { return duration_value(c.fetch_max_wait); }},
      {{.name = "max.partition.fetch.bytes", .type = ConfigType::kSize, .kafka_default = "1048576", .min_value = 0,
        .max_value = kIntMax, .field = "ConsumerConfig::max_partition_fetch_bytes"},
       +[](C& c, const ConfigValue& v) { c.max_partition_fetch_bytes = to_i32(v.integer); },
       +[](const C& c) { return int_value(c.max_partition_fetch_bytes); }},
      {{.name = "max.poll.records", .type = ConfigType::kInt, .kafka_default = "500", .min_value = 1,
        .max_value = kIntMax, .field = "ConsumerConfig::max_poll_records"},
       +[](C& c, const ConfigValue& v) { c.max_poll_records = to_i32(v.integer); },
       +[](const C& c) { return int_value(c.max_poll_records); }},
      {{.name = "enable.auto.commit", .type = ConfigType::kBool, .kafka_default = "true",
        .field = "ConsumerConfig::enable_auto_commit"},
       +[](C& c, const ConfigValue& v) { c.enable_auto_commit = v.boolean; },
       +[](const C& c) { return bool_value(c.enable_auto_commit); }},
      // Kafka accepts 0 for the next four, which makes a real client spin; a simulated one would spin on one
      // instant (consumer_config.hpp), so the minimum here is 1 ms.
      {{.name = "auto.commit.interval.ms", .type = ConfigType::kDurationMs, .kafka_default = "5000",
        .min_value = 1, .max_value = kIntMax, .field = "ConsumerConfig::auto_commit_interval", .sub_ms = true},
       +[](C& c, const ConfigValue& v) { c.auto_commit_interval = v.duration; },
       +[](const C& c) { return duration_value(c.auto_commit_interval); }},
      // AutoOffsetResetStrategy: earliest, latest, none, or (4.0, KIP-1106) by_duration:<ISO-8601 duration>.
      {{.name = "auto.offset.reset", .type = ConfigType::kString, .kafka_default = "latest",
        .valid_values = {"earliest", "latest", "none"}, .valid_prefix = kByDuration,
        .check_prefixed = &check_reset_duration, .field = "ConsumerConfig::auto_offset_reset"},
       +[](C& c, const ConfigValue& v) {
         if (v.text.starts_with(kByDuration)) {
           c.auto_offset_reset = kafka::AutoOffsetReset::by_duration;
           c.auto_offset_reset_duration = reset_duration(v.text);
           return;
         }
         c.auto_offset_reset = v.text == "earliest" ? kafka::AutoOffsetReset::earliest
                               : v.text == "none"   ? kafka::AutoOffsetReset::none
                                                    : kafka::AutoOffsetReset::latest;
       },
       +[](const C& c) {
         switch (c.auto_offset_reset) {
           case kafka::AutoOffsetReset::earliest: return text_value("earliest");
           case kafka::AutoOffsetReset::none: return text_value("none");
           case kafka::AutoOffsetReset::by_duration:
             return text_value(std::string(kByDuration) + iso8601_duration(c.auto_offset_reset_duration));
           case kafka::AutoOffsetReset::latest: break;
         }
         return text_value("latest");
       }},
      {{.name = "check.crcs", .type = ConfigType::kBool, .kafka_default = "true", .field = "ConsumerConfig::check_crcs"},
       +[](C& c, const ConfigValue& v) { c.check_crcs = v.boolean; },
       +[](const C& c) { return bool_value(c.check_crcs); }},
      {{.name = "isolation.level", .type = ConfigType::kString, .kafka_default = "read_uncommitted",
        .valid_values = {"read_uncommitted", "read_committed"}, .field = "ConsumerConfig::isolation_level"},
       +[](C& c, const ConfigValue& v) {
         c.isolation_level = v.text == "read_committed" ? kafka::IsolationLevel::read_committed
                                                        : kafka::IsolationLevel::read_uncommitted;
       },
       +[](const C& c) {
         return text_value(c.isolation_level == kafka::IsolationLevel::read_committed ? "read_committed"
                                                                                      : "read_uncommitted");
       }},
      {{.name = "request.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "30000", .min_value = 1,
        .max_value = kIntMax, .field = "ConsumerConfig::request_timeout", .sub_ms = true},
       +[](C& c, const ConfigValue& v) { c.request_timeout = v.duration; },
       +[](const C& c) { return duration_value(c.request_timeout); }},
      {{.name = "retry.backoff.ms", .type = ConfigType::kDurationMs, .kafka_default = "100", .min_value = 1,
        .max_value = kLongMax / kMsNs, .field = "ConsumerConfig::retry_backoff", .sub_ms = true},
       +[](C& c, const ConfigValue& v) { c.retry_backoff = v.duration; },
       +[](const C& c) { return duration_value(c.retry_backoff); }},
      // ConsumerConfig: atLeast(0).
      {{.name = "default.api.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "60000", .min_value = 0,
        .max_value = kIntMax, .field = "ConsumerConfig::default_api_timeout"},
       +[](C& c, const ConfigValue& v) { c.default_api_timeout = v.duration; },
       +[](const C& c) { return duration_value(c.default_api_timeout); }},
      {{.name = "reconnect.backoff.ms", .type = ConfigType::kDurationMs, .kafka_default = "50", .min_value = 1,
        .max_value = kLongMax / kMsNs, .field = "ConsumerConfig::reconnect_backoff", .sub_ms = true},
       +[](C& c, const ConfigValue& v) { c.reconnect_backoff = v.duration; },
       +[](const C& c) { return duration_value(c.reconnect_backoff); }},
      client_backoff_max<C, &C::reconnect_backoff_max>("reconnect.backoff.max.ms",
                                                       "ConsumerConfig::reconnect_backoff_max"),
      client_backoff_max<C, &C::retry_backoff_max>("retry.backoff.max.ms", "ConsumerConfig::retry_backoff_max"),
      // KIP-392 (CommonClientConfigs.CLIENT_RACK_CONFIG, default ""). The scenario loader checks that it names one of
      // the cluster's racks and puts the consumer's host in that rack.
      {{.name = "client.rack", .type = ConfigType::kString, .kafka_default = "", .field = "ConsumerConfig::client_rack"},
       +[](C& c, const ConfigValue& v) { c.client_rack = v.text; },
       +[](const C& c) { return text_value(c.client_rack); }},
      // CommonClientConfigs: LONG, atLeast(0). Metadata never changes in a run; what remains is the lifetime of a
      // preferred read replica (KIP-392).
      {{.name = "metadata.max.age.ms", .type = ConfigType::kDurationMs, .kafka_default = "300000", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "ConsumerConfig::metadata_max_age"},
       +[](C& c, const ConfigValue& v) { c.metadata_max_age = v.duration; },
       +[](const C& c) { return duration_value(c.metadata_max_age); }},
      ignored<C>("bootstrap.servers"),
      {{.name = "client.id", .type = ConfigType::kString, .kafka_default = "", .field = "ConsumerConfig::client_id_config"},
       +[](C& c, const ConfigValue& v) { c.client_id_config = v.text; },
       +[](const C& c) { return text_value(c.client_id_config); }},
      ignored<C>("client.dns.lookup"),
      // A consumer entry's group: the scenario loader takes it out of the configs (a group.id there names the entry's
      // group) before the table reads them.
      ignored_instead<C>("group.id", "the consumer's group is its entry's \"group\""),
      ignored<C>("group.instance.id"),
      ignored<C>("group.protocol"),
      ignored<C>("group.remote.assignor"),
      ignored_instead<C>("partition.assignment.strategy",
                         "the static assignment is RangeAssignor's, Kafka's default (no rebalance is simulated)"),
      ignored<C>("session.timeout.ms"),
      ignored<C>("heartbeat.interval.ms"),
      ignored<C>("max.poll.interval.ms"),
      ignored<C>("connections.max.idle.ms"),
      ignored<C>("socket.connection.setup.timeout.ms"),
      ignored<C>("socket.connection.setup.timeout.max.ms"),
      ignored<C>("key.deserializer"),
      ignored<C>("value.deserializer"),
      ignored<C>("exclude.internal.topics"),
      ignored<C>("allow.auto.create.topics"),
      ignored<C>("interceptor.classes"),
      security_protocol<C, &C::security_protocol>("ConsumerConfig::security_protocol"),
      // More of ConsumerConfig and CommonClientConfigs in Kafka 4.x: metrics and client telemetry (KIP-714),
      // rebootstrapping (KIP-899, KIP-1102), security providers, and the share consumer's acknowledgement mode
      // (KIP-932).
      ignored<C>("metric.reporters"),
      ignored<C>("metrics.num.samples"),
      ignored<C>("metrics.recording.level"),
      ignored<C>("metrics.sample.window.ms"),
      ignored<C>("enable.metrics.push"),
      ignored<C>("metadata.recovery.strategy"),
      ignored<C>("metadata.recovery.rebootstrap.trigger.ms"),
      ignored<C>("security.providers"),
      ignored<C>("share.acknowledgement.mode"),
  };
  return table;
}

// KIP-390's compression.gzip.level / .lz4.level / .zstd.level as the broker (defaults of every topic, ServerLogConfigs)
// and a topic (TopicConfig) set them: the level a topic recompresses at, in the LogConfig that `Log` points to.
// Ranges as Kafka's validators: gzip -1 or 1..9 (the loader rejects 0), lz4 1..17, zstd -131072..22.
template <typename T, kafka::LogConfig T::*Log>
std::vector<ConfigEntry<T>> with_compression_levels(std::vector<ConfigEntry<T>> table) {
  table.push_back({{.name = "compression.gzip.level", .type = ConfigType::kInt, .kafka_default = "-1", .min_value = -1,
                    .max_value = 9, .field = "LogConfig::compression_gzip_level"},
                   +[](T& c, const ConfigValue& v) { (c.*Log).compression_gzip_level = to_i32(v.integer); },
                   +[](const T& c) { return int_value((c.*Log).compression_gzip_level); }});
  table.push_back({{.name = "compression.lz4.level", .type = ConfigType::kInt, .kafka_default = "9", .min_value = 1,
                    .max_value = 17, .field = "LogConfig::compression_lz4_level"},
                   +[](T& c, const ConfigValue& v) { (c.*Log).compression_lz4_level = to_i32(v.integer); },
                   +[](const T& c) { return int_value((c.*Log).compression_lz4_level); }});
  table.push_back({{.name = "compression.zstd.level", .type = ConfigType::kInt, .kafka_default = "3",
                    .min_value = -131072, .max_value = 22, .field = "LogConfig::compression_zstd_level"},
                   +[](T& c, const ConfigValue& v) { (c.*Log).compression_zstd_level = to_i32(v.integer); },
                   +[](const T& c) { return int_value((c.*Log).compression_zstd_level); }});
  return table;
}

// Broker: kafka-behaviour.md §2.9 and §3.1 (KafkaConfig, ReplicationConfigs, ServerLogConfigs).
const std::vector<ConfigEntry<BrokerSettings>>& broker_config_table() {
  using B = BrokerSettings;
  static const std::vector<ConfigEntry<B>> table = with_compression_levels<B, &BrokerSettings::log_defaults>({
      {{.name = "min.insync.replicas", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = kIntMax, .field = "BrokerConfig::min_insync_replicas"},
       +[](B& c, const ConfigValue& v) { c.broker.min_insync_replicas = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.broker.min_insync_replicas); }},
      // Kafka has no validator; 0 would make the isr-expiration task (every lag/2) spin, so at least 1 ms.
      // At least 2: ReplicaManager schedules its isr-expiration check at a fixed rate of replica.lag.time.max.ms / 2
      // (integer ms), and a period of 0 fails the broker's startup (ScheduledThreadPoolExecutor rejects it).
      {{.name = "replica.lag.time.max.ms", .type = ConfigType::kDurationMs, .kafka_default = "30000",
        .min_value = 2, .max_value = kLongMax / kMsNs, .field = "BrokerConfig::replica_lag_time_max_ms"},
       +[](B& c, const ConfigValue& v) { c.broker.replica_lag_time_max_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.broker.replica_lag_time_max_ms); }},
      // Kafka sets no upper bound on the thread counts, but each simulated thread is state: at most
      // kMaxThreadsPerPool, far above any real broker, so that a typo cannot exhaust memory.
      {{.name = "num.network.threads", .type = ConfigType::kInt, .kafka_default = "3", .min_value = 1,
        .max_value = kMaxThreadsPerPool, .field = "WorldSpec::num_network_threads"},
       +[](B& c, const ConfigValue& v) { c.num_network_threads = static_cast<uint32_t>(v.integer); },
       +[](const B& c) { return int_value(c.num_network_threads); }},
      {{.name = "num.io.threads", .type = ConfigType::kInt, .kafka_default = "8", .min_value = 1,
        .max_value = kMaxThreadsPerPool, .field = "WorldSpec::num_io_threads"},
       +[](B& c, const ConfigValue& v) { c.num_io_threads = static_cast<uint32_t>(v.integer); },
       +[](const B& c) { return int_value(c.num_io_threads); }},
      {{.name = "queued.max.requests", .type = ConfigType::kInt, .kafka_default = "500", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::queued_max_requests"},
       +[](B& c, const ConfigValue& v) { c.queued_max_requests = static_cast<uint32_t>(v.integer); },
       +[](const B& c) { return int_value(c.queued_max_requests); }},
      // SocketServer sets it as the SO_RCVBUF of every accepted connection. A muted producer connection keeps
      // its unread requests there, and once it is full the producer's sends stop completing (kafka-behaviour.md
      // §2.1); it also bounds the TCP window of every connection into the broker (network.hpp). -1 keeps the
      // OS's autotuned buffer (WorldSpec::os_receive_buffer_bytes); 0 is rejected by the scenario loader.
      {{.name = "socket.receive.buffer.bytes", .type = ConfigType::kInt, .kafka_default = "102400",
        .min_value = -1, .max_value = kIntMax, .field = "WorldSpec::socket_receive_buffer_bytes"},
       +[](B& c, const ConfigValue& v) { c.socket_receive_buffer_bytes = v.integer; },
       +[](const B& c) { return int_value(c.socket_receive_buffer_bytes); }},
      // SocketServer's SO_SNDBUF of every accepted connection: bounds the TCP window of the broker's responses
      // (to clients, and to followers as a leader). -1 keeps the OS's autotuned buffer.
      {{.name = "socket.send.buffer.bytes", .type = ConfigType::kInt, .kafka_default = "102400",
        .min_value = -1, .max_value = kIntMax, .field = "WorldSpec::socket_send_buffer_bytes"},
       +[](B& c, const ConfigValue& v) { c.socket_send_buffer_bytes = v.integer; },
       +[](const B& c) { return int_value(c.socket_send_buffer_bytes); }},
      // The follower fetcher's SO_RCVBUF (ReplicaFetcherBlockingSend's NetworkClient; its send buffer is the OS
      // default): bounds the TCP window of the leader's fetch responses. -1 keeps the OS's autotuned buffer.
      {{.name = "replica.socket.receive.buffer.bytes", .type = ConfigType::kInt, .kafka_default = "65536",
        .min_value = -1, .max_value = kIntMax, .field = "WorldSpec::replica_socket_receive_buffer_bytes"},
       +[](B& c, const ConfigValue& v) { c.replica_socket_receive_buffer_bytes = v.integer; },
       +[](const B& c) { return int_value(c.replica_socket_receive_buffer_bytes); }},
      // The kafka-scheduler's threads. They run the flushes that a segment roll schedules (UnifiedLog.roll's
      // "flush-log"), so at most this many such fsyncs are outstanding; the rest wait in its queue.
      {{.name = "background.threads", .type = ConfigType::kInt, .kafka_default = "10", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::background_threads"},
       +[](B& c, const ConfigValue& v) { c.background_threads = static_cast<uint32_t>(v.integer); },
       +[](const B& c) { return int_value(c.background_threads); }},
      {{.name = "num.replica.fetchers", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = kMaxThreadsPerPool, .field = "ReplicaFetcherConfig::num_replica_fetchers"},
       +[](B& c, const ConfigValue& v) { c.fetcher.num_replica_fetchers = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.fetcher.num_replica_fetchers); }},
      {{.name = "replica.fetch.min.bytes", .type = ConfigType::kSize, .kafka_default = "1", .min_value = 1,
        .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_fetch_min_bytes"},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_fetch_min_bytes = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.fetcher.replica_fetch_min_bytes); }},
      {{.name = "replica.fetch.wait.max.ms", .type = ConfigType::kDurationMs, .kafka_default = "500",
        .min_value = 0, .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_fetch_wait_max",
        .sub_ms = true},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_fetch_wait_max = v.duration; },
       +[](const B& c) { return duration_value(c.fetcher.replica_fetch_wait_max); }},
      {{.name = "replica.fetch.max.bytes", .type = ConfigType::kSize, .kafka_default = "1048576", .min_value = 0,
        .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_fetch_max_bytes"},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_fetch_max_bytes = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.fetcher.replica_fetch_max_bytes); }},
      {{.name = "replica.fetch.response.max.bytes", .type = ConfigType::kSize, .kafka_default = "10485760",
        .min_value = 0, .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_fetch_response_max_bytes"},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_fetch_response_max_bytes = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.fetcher.replica_fetch_response_max_bytes); }},
      {{.name = "replica.fetch.backoff.ms", .type = ConfigType::kDurationMs, .kafka_default = "1000",
        .min_value = 0, .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_fetch_backoff",
        .sub_ms = true},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_fetch_backoff = v.duration; },
       +[](const B& c) { return duration_value(c.fetcher.replica_fetch_backoff); }},
      {{.name = "replica.socket.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "30000",
        .min_value = 1, .max_value = kIntMax, .field = "ReplicaFetcherConfig::replica_socket_timeout",
        .sub_ms = true},
       +[](B& c, const ConfigValue& v) { c.fetcher.replica_socket_timeout = v.duration; },
       +[](const B& c) { return duration_value(c.fetcher.replica_socket_timeout); }},
      // message.max.bytes is also the broker default of every topic's max.message.bytes.
      {{.name = "message.max.bytes", .type = ConfigType::kSize, .kafka_default = "1048588", .min_value = 0,
        .max_value = kIntMax, .field = "BrokerConfig::message_max_bytes, LogConfig::max_message_bytes"},
       +[](B& c, const ConfigValue& v) {
         c.broker.message_max_bytes = v.integer;
         c.log_defaults.max_message_bytes = v.integer;
       },
       +[](const B& c) { return int_value(c.broker.message_max_bytes); }},
      {{.name = "fetch.max.bytes", .type = ConfigType::kSize, .kafka_default = "57671680", .min_value = 1024,
        .max_value = kIntMax, .field = "BrokerConfig::fetch_max_bytes"},
       +[](B& c, const ConfigValue& v) { c.broker.fetch_max_bytes = v.integer; },
       +[](const B& c) { return int_value(c.broker.fetch_max_bytes); }},
      // KIP-227's cache of incremental fetch sessions, split into 8 shards of slots / 8 (FetchSessionCache).
      {{.name = "max.incremental.fetch.session.cache.slots", .type = ConfigType::kInt, .kafka_default = "1000",
        .min_value = 0, .max_value = kIntMax, .field = "BrokerConfig::max_incremental_fetch_session_cache_slots"},
       +[](B& c, const ConfigValue& v) { c.broker.max_incremental_fetch_session_cache_slots = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.broker.max_incremental_fetch_session_cache_slots); }},
      // KIP-392: null by default (consumers read from leaders); RackAwareReplicaSelector is the class Kafka ships.
      {{.name = "replica.selector.class", .type = ConfigType::kString, .kafka_default = "",
        .valid_values = {"", kRackAwareReplicaSelector}, .explain_invalid = &explain_replica_selector_class,
        .field = "BrokerConfig::rack_aware_replica_selector"},
       +[](B& c, const ConfigValue& v) { c.broker.rack_aware_replica_selector = !v.text.empty(); },
       +[](const B& c) {
         return text_value(c.broker.rack_aware_replica_selector ? std::string(kRackAwareReplicaSelector) : "");
       }},
      // KIP-1030: at least 1 MiB since 4.0.
      {{.name = "log.segment.bytes", .type = ConfigType::kSize, .kafka_default = "1073741824",
        .min_value = 1'048'576, .max_value = kIntMax, .field = "LogConfig::segment_bytes"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_bytes = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.segment_bytes); }},
      {{.name = "log.roll.hours", .type = ConfigType::kDurationMs, .kafka_default = "168", .min_value = 1,
        .max_value = kIntMax, .field = "LogConfig::segment_ms", .plain_unit_ns = kHourNs, .alias = true},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.log_defaults.segment_ms); }},
      {{.name = "log.roll.ms", .type = ConfigType::kDurationMs, .kafka_default = "604800000", .min_value = 1,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::segment_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.log_defaults.segment_ms); }},
      {{.name = "log.roll.jitter.hours", .type = ConfigType::kDurationMs, .kafka_default = "0", .min_value = 0,
        .max_value = kIntMax, .field = "LogConfig::segment_jitter_ms", .plain_unit_ns = kHourNs, .alias = true},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_jitter_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.log_defaults.segment_jitter_ms); }},
      {{.name = "log.roll.jitter.ms", .type = ConfigType::kDurationMs, .kafka_default = "0", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::segment_jitter_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_jitter_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.log_defaults.segment_jitter_ms); }},
      // At least 24, not Kafka's 4: two 12-byte time-index entries. The time index keeps its last slot for the
      // entry written at roll (TimeIndex.isFull is entries >= maxEntries - 1), so with fewer than two every
      // segment is full at birth and each append would roll it again.
      {{.name = "log.index.size.max.bytes", .type = ConfigType::kSize, .kafka_default = "10485760",
        .min_value = 24, .max_value = kIntMax, .field = "LogConfig::segment_index_bytes"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.segment_index_bytes = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.segment_index_bytes); }},
      {{.name = "log.index.interval.bytes", .type = ConfigType::kSize, .kafka_default = "4096", .min_value = 0,
        .max_value = kIntMax, .field = "LogConfig::index_interval_bytes"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.index_interval_bytes = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.index_interval_bytes); }},
      // Retention in hours, minutes or ms; the finer unit wins (KafkaConfig.logRetentionTimeMillis); -1 means
      // unlimited.
      {{.name = "log.retention.hours", .type = ConfigType::kDurationMs, .kafka_default = "168", .min_value = -1,
        .max_value = kIntMax, .field = "LogConfig::retention_ms", .plain_unit_ns = kHourNs, .alias = true},
       +[](B& c, const ConfigValue& v) { c.log_defaults.retention_ms = ms_or_unlimited(v); },
       +[](const B& c) { return ms_value(c.log_defaults.retention_ms); }},
      {{.name = "log.retention.minutes", .type = ConfigType::kDurationMs, .kafka_default = "10080",
        .min_value = -1, .max_value = kIntMax, .field = "LogConfig::retention_ms", .plain_unit_ns = kMinuteNs,
        .alias = true},
       +[](B& c, const ConfigValue& v) { c.log_defaults.retention_ms = ms_or_unlimited(v); },
       +[](const B& c) { return ms_value(c.log_defaults.retention_ms); }},
      {{.name = "log.retention.ms", .type = ConfigType::kDurationMs, .kafka_default = "604800000",
        .min_value = -1, .max_value = kLongMax / kMsNs, .field = "LogConfig::retention_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.retention_ms = ms_or_unlimited(v); },
       +[](const B& c) { return ms_value(c.log_defaults.retention_ms); }},
      {{.name = "log.retention.bytes", .type = ConfigType::kSize, .kafka_default = "-1", .min_value = -1,
        .max_value = kLongMax, .field = "LogConfig::retention_bytes"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.retention_bytes = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.retention_bytes); }},
      {{.name = "log.cleanup.policy", .type = ConfigType::kList, .kafka_default = "delete",
        .valid_values = {"delete", "compact"}, .field = "LogConfig::cleanup_policy_delete"},
       +[](B& c, const ConfigValue& v) {
         c.log_defaults.cleanup_policy_delete = contains(v.list, "delete");
         c.log_defaults.cleanup_policy_compact = contains(v.list, "compact");
       },
       +[](const B& c) { return cleanup_policy_value(c.log_defaults); }},
      {{.name = "log.segment.delete.delay.ms", .type = ConfigType::kDurationMs, .kafka_default = "60000",
        .min_value = 0, .max_value = kLongMax / kMsNs, .field = "LogConfig::file_delete_delay_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.file_delete_delay_ms = whole_ms(v); },
       +[](const B& c) { return ms_value(c.log_defaults.file_delete_delay_ms); }},
      {{.name = "log.flush.interval.messages", .type = ConfigType::kLong, .kafka_default = "9223372036854775807",
        .min_value = 1, .max_value = kLongMax, .field = "LogConfig::flush_messages"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.flush_messages = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.flush_messages); }},
      {{.name = "default.replication.factor", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = 32767, .field = "TopicSpec::replication_factor (when omitted)"},
       +[](B& c, const ConfigValue& v) { c.default_replication_factor = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.default_replication_factor); }},
      {{.name = "num.partitions", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = kIntMax, .field = "TopicSpec::partitions (when omitted)"},
       +[](B& c, const ConfigValue& v) { c.num_partitions = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.num_partitions); }},
      // GroupCoordinatorConfig: __consumer_offsets, created by the controller when a group first looks for its
      // coordinator (kafka-behaviour.md §5.1); both atLeast(1).
      {{.name = "offsets.topic.num.partitions", .type = ConfigType::kInt, .kafka_default = "50", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::offsets_topic_partitions"},
       +[](B& c, const ConfigValue& v) { c.offsets_topic_num_partitions = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.offsets_topic_num_partitions); }},
      {{.name = "offsets.topic.replication.factor", .type = ConfigType::kInt, .kafka_default = "3", .min_value = 1,
        .max_value = 32767, .field = "WorldSpec::offsets_topic_replication_factor"},
       +[](B& c, const ConfigValue& v) { c.offsets_topic_replication_factor = to_i32(v.integer); },
       +[](const B& c) { return int_value(c.offsets_topic_replication_factor); }},
      // GroupCoordinatorConfig: the segment size of __consumer_offsets (its topic config segment.bytes; atLeast(1)),
      // and the timeout of an offset commit's write (atLeast(1)).
      {{.name = "offsets.topic.segment.bytes", .type = ConfigType::kSize, .kafka_default = "104857600", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::offsets_topic_config.log.segment_bytes"},
       +[](B& c, const ConfigValue& v) { c.offsets_topic_segment_bytes = v.integer; },
       +[](const B& c) { return int_value(c.offsets_topic_segment_bytes); }},
      {{.name = "offsets.commit.timeout.ms", .type = ConfigType::kDurationMs, .kafka_default = "5000", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::offsets_commit_timeout"},
       +[](B& c, const ConfigValue& v) { c.offsets_commit_timeout = v.duration; },
       +[](const B& c) { return duration_value(c.offsets_commit_timeout); }},
      // GroupCoordinatorConfig: the coordinator runtime collects writes for append.linger.ms before it appends them
      // as one batch (atLeast(0)).
      {{.name = "group.coordinator.append.linger.ms", .type = ConfigType::kDurationMs, .kafka_default = "10",
        .min_value = 0, .max_value = kIntMax, .field = "WorldSpec::group_coordinator_append_linger"},
       +[](B& c, const ConfigValue& v) { c.group_coordinator_append_linger = v.duration; },
       +[](const B& c) { return duration_value(c.group_coordinator_append_linger); }},
      ignored<B>("node.id"),
      ignored<B>("broker.id"),
      ignored_instead<B>("broker.rack",
                         "each broker's rack comes from /cluster/racks (broker b is in rack-<b mod racks>)"),
      ignored<B>("process.roles"),
      ignored<B>("listeners"),
      ignored<B>("advertised.listeners"),
      ignored<B>("listener.security.protocol.map"),
      ignored<B>("inter.broker.listener.name"),
      ignored<B>("controller.listener.names"),
      ignored<B>("controller.quorum.voters"),
      ignored<B>("controller.quorum.bootstrap.servers"),
      ignored<B>("log.dir"),
      ignored<B>("log.dirs"),
      ignored<B>("num.recovery.threads.per.data.dir"),
      ignored<B>("socket.request.max.bytes"),
      ignored<B>("transaction.state.log.replication.factor"),
      ignored<B>("transaction.state.log.min.isr"),
      ignored<B>("group.initial.rebalance.delay.ms"),
      ignored<B>("auto.create.topics.enable"),
      ignored<B>("auto.leader.rebalance.enable"),
      ignored<B>("delete.topic.enable"),
      ignored<B>("unclean.leader.election.enable"),
      // Group and share coordinator settings of Kafka 4.x (kafka-behaviour.md §5.2; the share coordinator's two are
      // in Kafka's config/server.properties): not modelled, groups being static here.
      ignored<B>("share.coordinator.state.topic.replication.factor"),
      ignored<B>("share.coordinator.state.topic.min.isr"),
      ignored<B>("offsets.topic.compression.codec"),
      ignored<B>("offsets.retention.minutes"),
      ignored<B>("offsets.retention.check.interval.ms"),
      ignored<B>("offsets.load.buffer.size"),
      ignored<B>("offset.metadata.max.bytes"),
      ignored<B>("group.coordinator.threads"),
      ignored<B>("group.coordinator.rebalance.protocols"),
      ignored<B>("group.max.size"),
      ignored<B>("group.min.session.timeout.ms"),
      ignored<B>("group.max.session.timeout.ms"),
      ignored<B>("group.consumer.session.timeout.ms"),
      ignored<B>("group.consumer.heartbeat.interval.ms"),
      ignored<B>("group.consumer.assignors"),
      ignored<B>("group.consumer.max.size"),
      ignored<B>("group.consumer.migration.policy"),
      // BrokerCompressionType (kafka-behaviour.md §1.8): the default codec of every topic's log.
      {{.name = "compression.type", .type = ConfigType::kString, .kafka_default = "producer",
        .valid_values = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"},
        .field = "LogConfig::compression_type"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.compression_type = broker_compression(v); },
       +[](const B& c) { return broker_compression_value(c.log_defaults.compression_type); }},
      // LogManager.startup schedules "kafka-log-retention" (UnifiedLog.deleteOldSegments of every log) after
      // log.initial.task.delay.ms, then every log.retention.check.interval.ms (ServerLogConfigs: atLeast(1) and
      // atLeast(0)).
      {{.name = "log.retention.check.interval.ms", .type = ConfigType::kDurationMs, .kafka_default = "300000",
        .min_value = 1, .max_value = kLongMax / kMsNs, .field = "WorldSpec::retention_check_interval"},
       +[](B& c, const ConfigValue& v) { c.log_retention_check_interval = v.duration; },
       +[](const B& c) { return duration_value(c.log_retention_check_interval); }},
      {{.name = "log.initial.task.delay.ms", .type = ConfigType::kDurationMs, .kafka_default = "30000",
        .min_value = 0, .max_value = kLongMax / kMsNs, .field = "WorldSpec::retention_initial_delay"},
       +[](B& c, const ConfigValue& v) { c.log_initial_task_delay = v.duration; },
       +[](const B& c) { return duration_value(c.log_initial_task_delay); }},
      // LogManager's "kafka-log-flusher" (kafka-behaviour.md §2.3 step 8): every log.flush.scheduler.interval.ms it
      // fsyncs the logs whose last flush is at least flush.ms old. log.flush.interval.ms (the topics' flush.ms
      // default) is null in Kafka, which means the scheduler's interval (KafkaConfig.logFlushIntervalMs), so the
      // scheduler's entry also sets it and comes first: an explicit log.flush.interval.ms, applied after, wins.
      // Both are Kafka LONGs in milliseconds without a validator; a period <= 0 runs the task once (KafkaScheduler).
      {{.name = "log.flush.scheduler.interval.ms", .type = ConfigType::kLong, .kafka_default = "9223372036854775807",
        .min_value = 0, .max_value = kLongMax, .field = "WorldSpec::log_flush_scheduler_interval_ms"},
       +[](B& c, const ConfigValue& v) {
         c.log_flush_scheduler_interval_ms = v.integer;
         c.log_defaults.flush_ms = v.integer;
       },
       +[](const B& c) { return int_value(c.log_flush_scheduler_interval_ms); }},
      // The checkpoint files' scheduler tasks (WorldSpec): Kafka's LONG / INT milliseconds; a period <= 0 runs the
      // task once (KafkaScheduler).
      checkpoint_interval<&B::replica_high_watermark_checkpoint_interval_ms>(
          "replica.high.watermark.checkpoint.interval.ms", "5000", kLongMax,
          "WorldSpec::replica_high_watermark_checkpoint_interval_ms"),
      checkpoint_interval<&B::log_flush_offset_checkpoint_interval_ms>(
          "log.flush.offset.checkpoint.interval.ms", "60000", kIntMax,
          "WorldSpec::log_flush_offset_checkpoint_interval_ms"),
      checkpoint_interval<&B::log_flush_start_offset_checkpoint_interval_ms>(
          "log.flush.start.offset.checkpoint.interval.ms", "60000", kIntMax,
          "WorldSpec::log_flush_start_offset_checkpoint_interval_ms"),
      {{.name = "log.flush.interval.ms", .type = ConfigType::kLong, .kafka_default = "9223372036854775807",
        .min_value = 0, .max_value = kLongMax, .field = "LogConfig::flush_ms (Kafka: null = log.flush.scheduler.interval.ms)"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.flush_ms = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.flush_ms); }},
      ignored<B>("log.preallocate"),
      {{.name = "log.message.timestamp.type", .type = ConfigType::kString, .kafka_default = "CreateTime",
        .valid_values = {"CreateTime", "LogAppendTime"}, .field = "LogConfig::log_append_time"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.log_append_time = log_append_time(v); },
       +[](const B& c) { return timestamp_type_value(c.log_defaults.log_append_time); }},
      // The topics' message.timestamp.before/after.max.ms defaults (ServerLogConfigs: LONG, atLeast(0); KIP-937, and
      // the after bound's 1 h default of KIP-1030).
      {{.name = "log.message.timestamp.before.max.ms", .type = ConfigType::kLong,
        .kafka_default = "9223372036854775807", .min_value = 0, .max_value = kLongMax,
        .field = "LogConfig::timestamp_before_max_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.timestamp_before_max_ms = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.timestamp_before_max_ms); }},
      {{.name = "log.message.timestamp.after.max.ms", .type = ConfigType::kLong, .kafka_default = "3600000",
        .min_value = 0, .max_value = kLongMax, .field = "LogConfig::timestamp_after_max_ms"},
       +[](B& c, const ConfigValue& v) { c.log_defaults.timestamp_after_max_ms = v.integer; },
       +[](const B& c) { return int_value(c.log_defaults.timestamp_after_max_ms); }},
      ignored<B>("log.cleaner.enable"),
      ignored<B>("log.cleaner.threads"),
      // More of Kafka's broker configs that a pasted server.properties may carry: the log cleaner, log dirs and
      // metadata dir and tiered storage (KIP-405), none modelled here.
      ignored<B>("num.replica.alter.log.dirs.threads"),
      ignored<B>("log.cleaner.dedupe.buffer.size"),
      ignored<B>("log.cleaner.io.max.bytes.per.second"),
      ignored<B>("log.cleaner.backoff.ms"),
      ignored<B>("log.cleaner.min.cleanable.ratio"),
      ignored<B>("log.cleaner.delete.retention.ms"),
      ignored<B>("log.cleaner.min.compaction.lag.ms"),
      ignored<B>("metadata.log.dir"),
      ignored<B>("remote.log.storage.system.enable"),
      ignored<B>("log.local.retention.ms"),
      // The rest of Kafka 4.0/4.1's broker configs (as in the generated broker-config docs of 4.0 and 4.1), none
      // modelled here.
      // ServerConfigs: request and fetch limits, compression levels, the authorizer, controlled shutdown, and the two
      // internal switches for unreleased APIs and feature versions.
      ignored<B>("request.timeout.ms"),
      ignored<B>("socket.connection.setup.timeout.ms"),
      ignored<B>("socket.connection.setup.timeout.max.ms"),
      ignored<B>("max.request.partition.size.limit"),
      ignored<B>("controlled.shutdown.enable"),
      ignored<B>("authorizer.class.name"),
      ignored<B>("early.start.listeners"),
      ignored<B>("unstable.api.versions.enable"),
      ignored<B>("unstable.feature.versions.enable"),
      // KRaftConfigs and MetadataLogConfig: broker registration and heartbeats, the metadata log and its snapshots.
      ignored<B>("initial.broker.registration.timeout.ms"),
      ignored<B>("broker.heartbeat.interval.ms"),
      ignored<B>("broker.session.timeout.ms"),
      ignored<B>("metadata.max.idle.interval.ms"),
      ignored<B>("metadata.log.segment.bytes"),
      ignored<B>("metadata.log.segment.ms"),
      ignored<B>("metadata.max.retention.bytes"),
      ignored<B>("metadata.max.retention.ms"),
      ignored<B>("metadata.log.max.record.bytes.between.snapshots"),
      ignored<B>("metadata.log.max.snapshot.interval.ms"),
      // QuorumConfig: the controller quorum's Raft timers (controller.quorum.voters, .bootstrap.servers are above).
      ignored<B>("controller.quorum.election.timeout.ms"),
      ignored<B>("controller.quorum.election.backoff.max.ms"),
      ignored<B>("controller.quorum.fetch.timeout.ms"),
      ignored<B>("controller.quorum.append.linger.ms"),
      ignored<B>("controller.quorum.request.timeout.ms"),
      ignored<B>("controller.quorum.retry.backoff.ms"),
      // SocketServerConfigs: connection limits, idle connections and the listen backlog.
      ignored<B>("connections.max.idle.ms"),
      ignored<B>("connection.failed.authentication.delay.ms"),
      ignored<B>("max.connections"),
      ignored<B>("max.connections.per.ip"),
      ignored<B>("max.connections.per.ip.overrides"),
      ignored<B>("max.connection.creation.rate"),
      ignored<B>("queued.max.request.bytes"),
      ignored<B>("socket.listen.backlog.size"),
      // ReplicationConfigs: controller sockets, leader rebalancing, purgatory purge intervals, inter-broker security.
      ignored<B>("controller.socket.timeout.ms"),
      ignored<B>("leader.imbalance.check.interval.seconds"),
      ignored<B>("fetch.purgatory.purge.interval.requests"),
      ignored<B>("producer.purgatory.purge.interval.requests"),
      ignored<B>("delete.records.purgatory.purge.interval.requests"),
      // The protocol of the followers' connections to their leaders (ReplicationConfigs, default PLAINTEXT); its
      // alternative, inter.broker.listener.name, names a listener, and listeners are not modelled.
      security_protocol<B, &B::security_inter_broker_protocol>("BrokerSettings::security_inter_broker_protocol",
                                                               "security.inter.broker.protocol"),
      // ServerLogConfigs and CleanerConfig: checkpoints, log-dir failure, topic policies, the rest of the cleaner.
      ignored<B>("log.dir.failure.timeout.ms"),
      ignored<B>("create.topic.policy.class.name"),
      ignored<B>("alter.config.policy.class.name"),
      ignored<B>("log.cleaner.io.buffer.size"),
      ignored<B>("log.cleaner.io.buffer.load.factor"),
      ignored<B>("log.cleaner.max.compaction.lag.ms"),
      // GroupCoordinatorConfig: the consumer group protocol's (KIP-848) session and heartbeat bounds, and streams
      // groups (KIP-1071, Kafka 4.1).
      ignored<B>("group.consumer.min.session.timeout.ms"),
      ignored<B>("group.consumer.max.session.timeout.ms"),
      ignored<B>("group.consumer.min.heartbeat.interval.ms"),
      ignored<B>("group.consumer.max.heartbeat.interval.ms"),
      ignored<B>("group.streams.session.timeout.ms"),
      ignored<B>("group.streams.min.session.timeout.ms"),
      ignored<B>("group.streams.max.session.timeout.ms"),
      ignored<B>("group.streams.heartbeat.interval.ms"),
      ignored<B>("group.streams.min.heartbeat.interval.ms"),
      ignored<B>("group.streams.max.heartbeat.interval.ms"),
      ignored<B>("group.streams.max.size"),
      ignored<B>("group.streams.num.standby.replicas"),
      ignored<B>("group.streams.max.standby.replicas"),
      // GroupCoordinatorConfig and ShareGroupConfig: share groups (KIP-932). group.share.max.groups is 4.0's only;
      // 4.1 added group.share.assignors and group.share.max.share.sessions.
      ignored<B>("group.share.session.timeout.ms"),
      ignored<B>("group.share.min.session.timeout.ms"),
      ignored<B>("group.share.max.session.timeout.ms"),
      ignored<B>("group.share.heartbeat.interval.ms"),
      ignored<B>("group.share.min.heartbeat.interval.ms"),
      ignored<B>("group.share.max.heartbeat.interval.ms"),
      ignored<B>("group.share.max.size"),
      ignored<B>("group.share.assignors"),
      ignored<B>("group.share.max.groups"),
      ignored<B>("group.share.max.share.sessions"),
      ignored<B>("group.share.delivery.count.limit"),
      ignored<B>("group.share.record.lock.duration.ms"),
      ignored<B>("group.share.min.record.lock.duration.ms"),
      ignored<B>("group.share.max.record.lock.duration.ms"),
      ignored<B>("group.share.partition.max.record.locks"),
      ignored<B>("share.fetch.purgatory.purge.interval.requests"),
      // ShareCoordinatorConfig: the share coordinator and its __share_group_state topic.
      ignored<B>("share.coordinator.state.topic.num.partitions"),
      ignored<B>("share.coordinator.state.topic.segment.bytes"),
      ignored<B>("share.coordinator.state.topic.compression.codec"),
      ignored<B>("share.coordinator.load.buffer.size"),
      ignored<B>("share.coordinator.threads"),
      ignored<B>("share.coordinator.append.linger.ms"),
      ignored<B>("share.coordinator.write.timeout.ms"),
      ignored<B>("share.coordinator.snapshot.update.records.per.snapshot"),
      // TransactionLogConfig, TransactionStateManagerConfig, AddPartitionsToTxnConfig: transactions and producer ids.
      ignored<B>("transaction.state.log.num.partitions"),
      ignored<B>("transaction.state.log.segment.bytes"),
      ignored<B>("transaction.state.log.load.buffer.size"),
      ignored<B>("transaction.partition.verification.enable"),
      ignored<B>("producer.id.expiration.ms"),
      ignored<B>("transaction.max.timeout.ms"),
      ignored<B>("transactional.id.expiration.ms"),
      ignored<B>("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
      ignored<B>("transaction.remove.expired.transaction.cleanup.interval.ms"),
      ignored<B>("transaction.two.phase.commit.enable"),
      ignored<B>("add.partitions.to.txn.retry.backoff.ms"),
      ignored<B>("add.partitions.to.txn.retry.backoff.max.ms"),
      // QuotaConfig: quota sample windows and the client quota callback.
      {{.name = "quota.window.num", .type = ConfigType::kInt, .kafka_default = "11", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::quota_window.samples"},
       +[](B& c, const ConfigValue& v) { c.quota_window.samples = static_cast<int32_t>(v.integer); },
       +[](const B& c) { return int_value(c.quota_window.samples); }},
      {{.name = "quota.window.size.seconds", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::quota_window.window_ms"},
       +[](B& c, const ConfigValue& v) { c.quota_window.window_ms = v.integer * 1000; },
       +[](const B& c) { return int_value(c.quota_window.window_ms / 1000); }},
      // Replication throttling (kafka-behaviour-2.md §11.1): the two rates are dynamic broker configs in Kafka
      // (kafka-configs --entity-type brokers, per broker or <default>); here the static value holds on every broker
      // until a scenario's operation changes it (World::alter_configs).
      replication_throttled_rate<&B::leader_replication_throttled_rate>(
          "leader.replication.throttled.rate", "WorldSpec::leader_replication_throttled_rate"),
      replication_throttled_rate<&B::follower_replication_throttled_rate>(
          "follower.replication.throttled.rate", "WorldSpec::follower_replication_throttled_rate"),
      {{.name = "replication.quota.window.num", .type = ConfigType::kInt, .kafka_default = "11", .min_value = 1,
        .max_value = kIntMax, .field = "WorldSpec::replication_quota_window.samples"},
       +[](B& c, const ConfigValue& v) { c.replication_quota_window.samples = static_cast<int32_t>(v.integer); },
       +[](const B& c) { return int_value(c.replication_quota_window.samples); }},
      {{.name = "replication.quota.window.size.seconds", .type = ConfigType::kInt, .kafka_default = "1",
        .min_value = 1, .max_value = kIntMax, .field = "WorldSpec::replication_quota_window.window_ms"},
       +[](B& c, const ConfigValue& v) { c.replication_quota_window.window_ms = v.integer * 1000; },
       +[](const B& c) { return int_value(c.replication_quota_window.window_ms / 1000); }},
      ignored<B>("alter.log.dirs.replication.quota.window.num"),
      ignored<B>("alter.log.dirs.replication.quota.window.size.seconds"),
      ignored<B>("controller.quota.window.num"),
      ignored<B>("controller.quota.window.size.seconds"),
      ignored<B>("client.quota.callback.class"),
      // RemoteLogManagerConfig: the rest of tiered storage (KIP-405).
      ignored<B>("log.local.retention.bytes"),
      ignored<B>("remote.log.storage.manager.class.name"),
      ignored<B>("remote.log.storage.manager.class.path"),
      ignored<B>("remote.log.storage.manager.impl.prefix"),
      ignored<B>("remote.log.metadata.manager.class.name"),
      ignored<B>("remote.log.metadata.manager.class.path"),
      ignored<B>("remote.log.metadata.manager.impl.prefix"),
      ignored<B>("remote.log.metadata.manager.listener.name"),
      ignored<B>("remote.log.metadata.custom.metadata.max.bytes"),
      ignored<B>("remote.log.index.file.cache.total.size.bytes"),
      ignored<B>("remote.log.manager.thread.pool.size"),
      ignored<B>("remote.log.manager.copier.thread.pool.size"),
      ignored<B>("remote.log.manager.expiration.thread.pool.size"),
      ignored<B>("remote.log.manager.task.interval.ms"),
      ignored<B>("remote.log.manager.copy.max.bytes.per.second"),
      ignored<B>("remote.log.manager.copy.quota.window.num"),
      ignored<B>("remote.log.manager.copy.quota.window.size.seconds"),
      ignored<B>("remote.log.manager.fetch.max.bytes.per.second"),
      ignored<B>("remote.log.manager.fetch.quota.window.num"),
      ignored<B>("remote.log.manager.fetch.quota.window.size.seconds"),
      ignored<B>("remote.log.reader.threads"),
      ignored<B>("remote.log.reader.max.pending.tasks"),
      ignored<B>("remote.fetch.max.wait.ms"),
      ignored<B>("remote.list.offsets.request.timeout.ms"),
      // MetricConfigs: metrics reporters and samples, and the client telemetry limit (KIP-714).
      ignored<B>("metric.reporters"),
      ignored<B>("metrics.num.samples"),
      ignored<B>("metrics.recording.level"),
      ignored<B>("metrics.sample.window.ms"),
      ignored<B>("kafka.metrics.reporters"),
      ignored<B>("kafka.metrics.polling.interval.secs"),
      ignored<B>("telemetry.max.bytes"),
      // DelegationTokenManagerConfigs and BrokerSecurityConfigs (the ssl. and sasl. families are ignored by prefix).
      ignored<B>("delegation.token.secret.key"),
      ignored<B>("delegation.token.max.lifetime.ms"),
      ignored<B>("delegation.token.expiry.time.ms"),
      ignored<B>("delegation.token.expiry.check.interval.ms"),
      ignored<B>("principal.builder.class"),
      ignored<B>("connections.max.reauth.ms"),
      ignored<B>("security.providers"),
  });
  return table;
}

// Topic: LogConfig.java (kafka-behaviour.md §2.4, §2.5, §2.9). Defaults shown are Kafka's broker defaults; in a
// scenario a topic inherits the cluster's log.* values.
const std::vector<ConfigEntry<PartitionConfig>>& topic_config_table() {
  using T = PartitionConfig;
  static const std::vector<ConfigEntry<T>> table = with_compression_levels<T, &PartitionConfig::log>({
      {{.name = "min.insync.replicas", .type = ConfigType::kInt, .kafka_default = "1", .min_value = 1,
        .max_value = kIntMax, .field = "PartitionConfig::min_insync_replicas"},
       +[](T& c, const ConfigValue& v) { c.min_insync_replicas = to_i32(v.integer); },
       // Absent means "the broker's value"; the scenario writer substitutes it.
       +[](const T& c) { return int_value(c.min_insync_replicas.value_or(0)); }},
      {{.name = "segment.bytes", .type = ConfigType::kSize, .kafka_default = "1073741824", .min_value = 1'048'576,
        .max_value = kIntMax, .field = "LogConfig::segment_bytes"},
       +[](T& c, const ConfigValue& v) { c.log.segment_bytes = v.integer; },
       +[](const T& c) { return int_value(c.log.segment_bytes); }},
      {{.name = "segment.ms", .type = ConfigType::kDurationMs, .kafka_default = "604800000", .min_value = 1,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::segment_ms"},
       +[](T& c, const ConfigValue& v) { c.log.segment_ms = whole_ms(v); },
       +[](const T& c) { return ms_value(c.log.segment_ms); }},
      {{.name = "segment.jitter.ms", .type = ConfigType::kDurationMs, .kafka_default = "0", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::segment_jitter_ms"},
       +[](T& c, const ConfigValue& v) { c.log.segment_jitter_ms = whole_ms(v); },
       +[](const T& c) { return ms_value(c.log.segment_jitter_ms); }},
      // At least 24, as log.index.size.max.bytes above.
      {{.name = "segment.index.bytes", .type = ConfigType::kSize, .kafka_default = "10485760", .min_value = 24,
        .max_value = kIntMax, .field = "LogConfig::segment_index_bytes"},
       +[](T& c, const ConfigValue& v) { c.log.segment_index_bytes = v.integer; },
       +[](const T& c) { return int_value(c.log.segment_index_bytes); }},
      {{.name = "index.interval.bytes", .type = ConfigType::kSize, .kafka_default = "4096", .min_value = 0,
        .max_value = kIntMax, .field = "LogConfig::index_interval_bytes"},
       +[](T& c, const ConfigValue& v) { c.log.index_interval_bytes = v.integer; },
       +[](const T& c) { return int_value(c.log.index_interval_bytes); }},
      {{.name = "retention.bytes", .type = ConfigType::kSize, .kafka_default = "-1", .min_value = -1,
        .max_value = kLongMax, .field = "LogConfig::retention_bytes"},
       +[](T& c, const ConfigValue& v) { c.log.retention_bytes = v.integer; },
       +[](const T& c) { return int_value(c.log.retention_bytes); }},
      {{.name = "retention.ms", .type = ConfigType::kDurationMs, .kafka_default = "604800000", .min_value = -1,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::retention_ms"},
       +[](T& c, const ConfigValue& v) { c.log.retention_ms = whole_ms(v); },
       +[](const T& c) { return ms_value(c.log.retention_ms); }},
      {{.name = "max.message.bytes", .type = ConfigType::kSize, .kafka_default = "1048588", .min_value = 0,
        .max_value = kIntMax, .field = "LogConfig::max_message_bytes"},
       +[](T& c, const ConfigValue& v) { c.log.max_message_bytes = v.integer; },
       +[](const T& c) { return int_value(c.log.max_message_bytes); }},
      {{.name = "flush.messages", .type = ConfigType::kLong, .kafka_default = "9223372036854775807",
        .min_value = 1, .max_value = kLongMax, .field = "LogConfig::flush_messages"},
       +[](T& c, const ConfigValue& v) { c.log.flush_messages = v.integer; },
       +[](const T& c) { return int_value(c.log.flush_messages); }},
      // LogConfig: LONG, atLeast(0); checked by the broker's log flusher (log.flush.scheduler.interval.ms).
      {{.name = "flush.ms", .type = ConfigType::kLong, .kafka_default = "9223372036854775807", .min_value = 0,
        .max_value = kLongMax, .field = "LogConfig::flush_ms"},
       +[](T& c, const ConfigValue& v) { c.log.flush_ms = v.integer; },
       +[](const T& c) { return int_value(c.log.flush_ms); }},
      {{.name = "file.delete.delay.ms", .type = ConfigType::kDurationMs, .kafka_default = "60000", .min_value = 0,
        .max_value = kLongMax / kMsNs, .field = "LogConfig::file_delete_delay_ms"},
       +[](T& c, const ConfigValue& v) { c.log.file_delete_delay_ms = whole_ms(v); },
       +[](const T& c) { return ms_value(c.log.file_delete_delay_ms); }},
      {{.name = "cleanup.policy", .type = ConfigType::kList, .kafka_default = "delete",
        .valid_values = {"delete", "compact"}, .field = "LogConfig::cleanup_policy_delete"},
       +[](T& c, const ConfigValue& v) {
         c.log.cleanup_policy_delete = contains(v.list, "delete");
         c.log.cleanup_policy_compact = contains(v.list, "compact");
       },
       +[](const T& c) { return cleanup_policy_value(c.log); }},
      // The codec the topic's log stores; `producer` keeps the producer's (LogValidator, §1.8).
      {{.name = "compression.type", .type = ConfigType::kString, .kafka_default = "producer",
        .valid_values = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"},
        .field = "LogConfig::compression_type"},
       +[](T& c, const ConfigValue& v) { c.log.compression_type = broker_compression(v); },
       +[](const T& c) { return broker_compression_value(c.log.compression_type); }},
      ignored<T>("unclean.leader.election.enable"),
      {{.name = "message.timestamp.type", .type = ConfigType::kString, .kafka_default = "CreateTime",
        .valid_values = {"CreateTime", "LogAppendTime"}, .field = "LogConfig::log_append_time"},
       +[](T& c, const ConfigValue& v) { c.log.log_append_time = log_append_time(v); },
       +[](const T& c) { return timestamp_type_value(c.log.log_append_time); }},
      // LogConfig: LONG, atLeast(0); checked by the leader's LogValidator with CreateTime (INVALID_TIMESTAMP).
      {{.name = "message.timestamp.before.max.ms", .type = ConfigType::kLong, .kafka_default = "9223372036854775807",
        .min_value = 0, .max_value = kLongMax, .field = "LogConfig::timestamp_before_max_ms"},
       +[](T& c, const ConfigValue& v) { c.log.timestamp_before_max_ms = v.integer; },
       +[](const T& c) { return int_value(c.log.timestamp_before_max_ms); }},
      {{.name = "message.timestamp.after.max.ms", .type = ConfigType::kLong, .kafka_default = "3600000",
        .min_value = 0, .max_value = kLongMax, .field = "LogConfig::timestamp_after_max_ms"},
       +[](T& c, const ConfigValue& v) { c.log.timestamp_after_max_ms = v.integer; },
       +[](const T& c) { return int_value(c.log.timestamp_after_max_ms); }},
      ignored<T>("preallocate"),
      ignored<T>("min.compaction.lag.ms"),
      ignored<T>("max.compaction.lag.ms"),
      ignored<T>("min.cleanable.dirty.ratio"),
      ignored<T>("delete.retention.ms"),
      ignored<T>("local.retention.ms"),
      ignored<T>("local.retention.bytes"),
      ignored<T>("remote.storage.enable"),
      throttled_replicas<&PartitionConfig::leader_throttled_replicas>("leader.replication.throttled.replicas",
                                                                       "PartitionConfig::leader_throttled_replicas"),
      throttled_replicas<&PartitionConfig::follower_throttled_replicas>(
          "follower.replication.throttled.replicas", "PartitionConfig::follower_throttled_replicas"),
      // More of LogConfig (TopicConfig) in Kafka 4.x: the codec levels (KIP-390) and tiered storage's switches
      // (KIP-950).
      ignored<T>("remote.log.copy.disable"),
      ignored<T>("remote.log.delete.on.disable"),
  });
  return table;
}

namespace {
constexpr std::string_view kClientIgnoredPrefixes[] = {"ssl.", "sasl."};
constexpr std::string_view kBrokerIgnoredPrefixes[] = {"ssl.", "sasl.", "listener.name."};
}  // namespace

std::span<const std::string_view> producer_ignored_prefixes() { return kClientIgnoredPrefixes; }
std::span<const std::string_view> consumer_ignored_prefixes() { return kClientIgnoredPrefixes; }
std::span<const std::string_view> broker_ignored_prefixes() { return kBrokerIgnoredPrefixes; }
std::span<const std::string_view> topic_ignored_prefixes() { return {}; }

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// A whole decimal integer, possibly negative, and nothing else (as a .properties value or a JSON string).
bool parse_integer(std::string_view text, int64_t& out) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  const char* first = t.data();
  const char* last = t.data() + t.size();
  if (*first == '+') ++first;
  const auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last;
}

std::string range_text(const ConfigSpec& spec) {
  const bool unbounded = spec.max_value == kIntMax || spec.max_value == kLongMax ||
                         spec.max_value == kLongMax / kMsNs;
  if (unbounded) return "at least " + std::to_string(spec.min_value);
  return "from " + std::to_string(spec.min_value) + " to " + std::to_string(spec.max_value);
}

std::string unit_name(int64_t plain_unit_ns) {
  return plain_unit_ns == kHourNs ? "hours" : plain_unit_ns == kMinuteNs ? "minutes" : "milliseconds";
}

std::string quoted_list(const std::vector<std::string_view>& values) {
  std::string out;
  for (std::string_view v : values) out += (out.empty() ? "\"" : ", \"") + std::string(v) + "\"";
  return out;
}

// One of the valid values, or a ConfigError suggesting the closest one ("al" -> "all").
std::string checked_choice(const ConfigSpec& spec, const std::string& text, const std::string& file,
                           const std::string& pointer) {
  if (spec.valid_values.empty()) return text;
  for (std::string_view v : spec.valid_values)
    if (v == text) return text;
  if (spec.case_insensitive) {
    auto upper = [](std::string_view t) {
      std::string u(t);
      std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      return u;
    };
    for (std::string_view v : spec.valid_values)
      if (upper(v) == upper(text)) return std::string(v);
  }
  if (!spec.valid_prefix.empty() && text.starts_with(spec.valid_prefix)) {
    KS_ASSERT(spec.check_prefixed != nullptr);
    const std::string problem = spec.check_prefixed(std::string_view(text).substr(spec.valid_prefix.size()));
    if (problem.empty()) return text;
    throw ConfigError(file, pointer, std::string(spec.valid_prefix) + problem, "\"" + text + "\"");
  }
  const std::string prefixed =
      spec.valid_prefix.empty() ? std::string() : " or \"" + std::string(spec.valid_prefix) + "...\"";
  if (spec.explain_invalid != nullptr) {
    const std::string note = spec.explain_invalid(text);
    if (!note.empty())
      throw ConfigError(file, pointer, "one of " + quoted_list(spec.valid_values) + prefixed + " (" + note + ")",
                        "\"" + text + "\"");
  }
  // A one-character value is one edit from every other one-character value ("2" -> "0"): no suggestion then.
  throw ConfigError(file, pointer, "one of " + quoted_list(spec.valid_values) + prefixed, "\"" + text + "\"",
                    text.size() < 2 ? std::string() : closest_name(text, spec.valid_values));
}

}  // namespace

ConfigValue convert_config_value(const ConfigSpec& spec, const nlohmann::json& value, const std::string& file,
                                 const std::string& pointer) {
  KS_ASSERT_GT(spec.plain_unit_ns, 0);
  KS_ASSERT_LE(spec.min_value, spec.max_value);
  ConfigValue out;
  const std::string found = value.dump();
  const std::string name(spec.name);
  // Integers come as JSON integers or, from .properties files and --set, as strings.
  auto integer_of = [&](int64_t& n) {
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kLongMax)) return false;
      n = value.get<int64_t>();
      return true;
    }
    if (value.is_number_float()) {
      const double d = value.get<double>();
      if (d != std::floor(d) || std::fabs(d) > 9e18) return false;
      n = static_cast<int64_t>(d);
      return true;
    }
    return value.is_string() && parse_integer(value.get<std::string>(), n);
  };
  auto check_range = [&](int64_t n, const std::string& what) {
    if (n < spec.min_value || n > spec.max_value)
      throw ConfigError(file, pointer, what + " " + range_text(spec) + " for " + name, found);
  };

  switch (spec.type) {
    case ConfigType::kIgnored:
      return out;
    case ConfigType::kInt:
    case ConfigType::kLong: {
      int64_t n = 0;
      if (!integer_of(n)) throw ConfigError(file, pointer, "an integer " + range_text(spec) + " for " + name, found);
      check_range(n, "an integer");
      out.integer = n;
      return out;
    }
    case ConfigType::kDouble: {
      double d = 0;
      if (value.is_number()) d = value.get<double>();
      else if (value.is_string()) {
        const std::string t = trim(value.get<std::string>());
        char* end = nullptr;
        d = std::strtod(t.c_str(), &end);
        if (t.empty() || end == nullptr || *end != '\0') throw ConfigError(file, pointer, "a number for " + name, found);
      } else {
        throw ConfigError(file, pointer, "a number for " + name, found);
      }
      if (!std::isfinite(d) || d < static_cast<double>(spec.min_value) || d > static_cast<double>(spec.max_value))
        throw ConfigError(file, pointer, "a number " + range_text(spec) + " for " + name, found);
      out.number = d;
      return out;
    }
    case ConfigType::kBool: {
      if (value.is_boolean()) {
        out.boolean = value.get<bool>();
        return out;
      }
      if (value.is_string()) {
        // ConfigDef parses booleans case-insensitively.
        std::string t = trim(value.get<std::string>());
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (t == "true" || t == "false") {
          out.boolean = t == "true";
          return out;
        }
      }
      throw ConfigError(file, pointer, "true or false for " + name, found);
    }
    case ConfigType::kString: {
      // acks may be written as a number (acks: 1, acks: -1).
      std::string text;
      if (value.is_string()) text = trim(value.get<std::string>());
      else if (value.is_number_integer()) text = std::to_string(value.get<int64_t>());
      else throw ConfigError(file, pointer, "a string for " + name + (spec.valid_values.empty() ? "" : ", one of " + quoted_list(spec.valid_values)), found);
      out.text = checked_choice(spec, text, file, pointer);
      return out;
    }
    case ConfigType::kList: {
      std::vector<std::string> items;
      if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
          if (!value[i].is_string())
            throw ConfigError(file, pointer + "/" + std::to_string(i), "a string", value[i].dump());
          items.push_back(trim(value[i].get<std::string>()));
        }
      } else if (value.is_string()) {
        const std::string s = value.get<std::string>();
        size_t start = 0;
        while (start <= s.size()) {  // bounded: each step moves past one comma
          const size_t comma = std::min(s.find(',', start), s.size());
          items.push_back(trim(std::string_view(s).substr(start, comma - start)));
          start = comma + 1;
        }
      } else {
        throw ConfigError(file, pointer, "a comma-separated list of " + quoted_list(spec.valid_values), found);
      }
      if (spec.check_list != nullptr) {
        // A list with its own rule (which may allow an empty one).
        if (items.size() == 1 && items[0].empty()) items.clear();
        if (const std::string expected = spec.check_list(items); !expected.empty())
          throw ConfigError(file, pointer, expected + " for " + name, found);
        out.list = std::move(items);
        return out;
      }
      if (items.empty() || (items.size() == 1 && items[0].empty()))
        throw ConfigError(file, pointer, "a non-empty list of " + quoted_list(spec.valid_values), found);
      for (const std::string& item : items) out.list.push_back(checked_choice(spec, item, file, pointer));
      return out;
    }
    case ConfigType::kDurationMs: {
      const std::string expected = "a duration " + range_text(spec) + " " + unit_name(spec.plain_unit_ns) +
                                   " for " + name + " (a plain number is in " + unit_name(spec.plain_unit_ns) +
                                   "; units such as \"5ms\", \"30s\" are accepted)";
      int64_t n = 0;
      int64_t ns = 0;
      if (integer_of(n)) {
        check_range(n, "a duration");
        if (n != 0 && std::abs(n) > kLongMax / spec.plain_unit_ns) throw ConfigError(file, pointer, expected, found);
        ns = n * spec.plain_unit_ns;
      } else {
        Parsed<Duration> parsed = std::string("a duration");
        if (value.is_number_float()) {
          const double d = value.get<double>() * static_cast<double>(spec.plain_unit_ns);
          if (!(std::fabs(d) < 9e18)) throw ConfigError(file, pointer, expected, found);
          parsed = Duration::from_ns(static_cast<int64_t>(std::llround(d)));
        } else if (value.is_string()) {
          parsed = parse_duration(value.get<std::string>(), spec.plain_unit_ns);
        }
        if (!std::holds_alternative<Duration>(parsed)) throw ConfigError(file, pointer, expected, found);
        ns = std::get<Duration>(parsed).ns();
        // Compare in the config's unit without overflowing: min and max are whole units.
        const int64_t whole_units = ns / spec.plain_unit_ns;
        const bool below = whole_units < spec.min_value || (whole_units == spec.min_value && ns % spec.plain_unit_ns < 0);
        const bool above = whole_units > spec.max_value || (whole_units == spec.max_value && ns % spec.plain_unit_ns > 0);
        if (below || above) throw ConfigError(file, pointer, expected, found);
      }
      if (!spec.sub_ms && ns % kMsNs != 0)
        throw ConfigError(file, pointer, "a whole number of milliseconds for " + name, found);
      out.duration = Duration::from_ns(ns);
      return out;
    }
    case ConfigType::kSize: {
      const std::string expected = "a size " + range_text(spec) + " bytes for " + name +
                                   " (a plain number is in bytes; units such as \"16KiB\", \"1MiB\" are accepted)";
      int64_t n = 0;
      if (!integer_of(n)) {
        if (!value.is_string()) throw ConfigError(file, pointer, expected, found);
        const Parsed<uint64_t> parsed = parse_bytes(value.get<std::string>());
        if (!std::holds_alternative<uint64_t>(parsed) || std::get<uint64_t>(parsed) > static_cast<uint64_t>(kLongMax))
          throw ConfigError(file, pointer, expected, found);
        n = static_cast<int64_t>(std::get<uint64_t>(parsed));
      }
      if (n < spec.min_value || n > spec.max_value) throw ConfigError(file, pointer, expected, found);
      out.integer = n;
      return out;
    }
  }
  KS_ASSERT_MSG(false, "unhandled config type");
  return out;
}

std::string format_duration(Duration d) {
  const int64_t ns = d.ns();
  if (ns != 0 && ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns != 0 && ns % kMsNs == 0) return std::to_string(ns / kMsNs) + "ms";
  if (ns != 0 && ns % 1000 == 0) return std::to_string(ns / 1000) + "us";
  return std::to_string(ns) + "ns";
}

nlohmann::json config_value_to_json(const ConfigSpec& spec, const ConfigValue& value) {
  switch (spec.type) {
    case ConfigType::kInt:
    case ConfigType::kLong:
    case ConfigType::kSize: return value.integer;
    case ConfigType::kDouble: return value.number;
    case ConfigType::kBool: return value.boolean;
    case ConfigType::kString: return value.text;
    case ConfigType::kList: {
      std::string joined;
      for (const std::string& item : value.list) joined += (joined.empty() ? "" : ",") + item;
      return joined;
    }
    case ConfigType::kDurationMs: {
      // Kafka's own unit when exact, so the resolved scenario reads like a properties file.
      if (value.duration.ns() % spec.plain_unit_ns == 0) return value.duration.ns() / spec.plain_unit_ns;
      return format_duration(value.duration);
    }
    case ConfigType::kIgnored: return nullptr;
  }
  return nullptr;
}

}  // namespace kafkasim::cluster
