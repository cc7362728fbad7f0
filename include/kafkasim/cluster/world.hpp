// A simulated Kafka cluster: brokers (Kafka's state machines on their own hardware), producer and consumer
// clients, and the network between them, all driven by one engine.
//
// How a request travels (DESIGN.md "How one record travels"):
//   client NIC -> fabric -> broker NIC -> network thread (parse) -> request queue -> I/O thread (validate,
//   append: page-cache writes through LogStorage) -> response, or the produce/fetch purgatory -> network thread
//   (for a fetch: sendfile from the page cache, disk reads on a miss) -> broker NIC -> fabric -> client NIC.
// Over TLS (security.protocol SSL / SASL_SSL) the network threads also decrypt and encrypt, fetched log bytes are
// read into the JVM instead of going out with sendfile, and the clients and follower fetchers decrypt what they
// receive (tls_costs.hpp).
// Follower replication is the same path with the follower's ReplicaFetcherManager as the client.
//
// Placement: each topic's replica lists come from Kafka's StripedReplicaPlacer (kafka/controller/replica_placer.hpp,
// kafka-behaviour.md §3.9) over the brokers and their racks (broker b in rack b mod racks), drawn from the
// scenario's seed; the first replica is the leader. Leaders are fixed until a controller exists.
//
// CPU costs per request are [A] assumptions stated in docs/validation.md: the network thread spends
// `network_thread_request_cost` per request, the I/O thread the profile's `request_fixed_cost` plus CRC32C over
// produced bytes (LogValidator), per-partition replica fetch cost on the leader's I/O thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kafkasim/cluster/compression_costs.hpp"
#include "kafkasim/cluster/durability.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/host_hardware.hpp"
#include "kafkasim/cluster/metrics.hpp"
#include "kafkasim/cluster/workload.hpp"
#include "kafkasim/kafka/broker/client_quota.hpp"
#include "kafkasim/kafka/broker/coordinator_writes.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"
#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/engine.hpp"

namespace kafkasim::cluster {

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  kafka::PartitionConfig config;
  // The topic configs given at creation (its overrides, whatever their value), by name: Kafka stores them as the
  // topic's own configs, and the tools list them (kafkasim describe). The resolved scenario writes every config.
  std::vector<std::string> overrides;
};

struct ProducerSpec {
  int32_t topic = 0;  // index into WorldSpec::topics
  uint32_t count = 1;
  kafka::ProducerConfig config;
  bool idempotence_set_explicitly = false;
  // The configs as given, before idempotence's default, and their names: what a producer_restart's own configs
  // are applied over (the loader's checks of the whole run again).
  kafka::ProducerConfig config_as_given;
  std::vector<std::string> config_names_given;
  // Open loop: `records_per_s` per producer; closed loop: `closed_loop_threads` > 0 threads per producer, each
  // sending its next record when the previous one completed (send().get()).
  ArrivalProcess::Kind arrival = ArrivalProcess::Kind::kConstant;
  double records_per_s = 1000;
  uint32_t closed_loop_threads = 0;
  SizeDistribution value_size = SizeDistribution::fixed(512);
  KeyDistribution keys = KeyDistribution::none();
  // workload.timestamp_offset: every record's CreateTime is its send() time plus this (whole ms; negative: older),
  // as a backfill replaying old data with its own timestamps sets them, or a client clock that is off.
  sim::Duration timestamp_offset = sim::Duration::zero();
  // An open loop's application stops after this many send() calls, per producer (kafka-producer-perf-test's
  // --num-records); none: it sends to the end of the run. Not a scenario key.
  std::optional<uint64_t> max_records;
  // A closed loop of one thread whose application sends only when World::drive_send asks: the first record and,
  // after each completion, the next (kafka-e2e-latency's loop sends once the consumer has read the last record).
  // Not a scenario key.
  bool driven = false;
};

// What the application does after it has processed the records of each poll, besides enable.auto.commit.
enum class CommitAfterPoll : uint8_t {
  kNone,   // nothing: offsets are committed only by auto-commit (if enabled)
  kAsync,  // consumer.commitAsync(): the next poll follows at once
  kSync,   // consumer.commitSync(): the next poll waits for the OffsetCommit response
};

// The racks of a world are named rack-0, rack-1, ...: broker b is in rack b mod racks (its broker.rack), a client
// in the rack its position gives it, a consumer with a client.rack in that rack.
std::string rack_name(uint32_t rack);
// The rack `name` names among `racks` racks, or nullopt.
std::optional<uint32_t> rack_index(std::string_view name, uint32_t racks);

// One client-id entity's quotas (kafka-configs --entity-type clients --entity-name ID, or --entity-default):
// producer_byte_rate and consumer_byte_rate in bytes per second per broker, request_percentage in percent of one
// thread per broker. nullopt: not set (unlimited, or the <default> entity's value for a named client-id).
struct ClientQuotaSpec {
  std::optional<std::string> client_id;  // nullopt: the <default> client-id
  std::optional<double> producer_byte_rate;
  std::optional<double> consumer_byte_rate;
  std::optional<double> request_percentage;
};

struct ConsumerSpec {
  // group.id: its hash picks the coordinator (kafka-behaviour.md §5.1). Empty: no group.id (Kafka's null), a
  // standalone consumer whose application assigns its partitions itself (KafkaConsumer.assign): no coordinator, no
  // committed offsets, no commits (the loader refuses them, as Kafka throws InvalidGroupIdException).
  std::string group;
  int32_t topic = 0;
  uint32_t count = 1;  // the partitions it reads are split in ranges over the consumers (static assignment)
  // The partitions its application assigns (KafkaConsumer.assign), ascending; empty: every partition of the topic.
  std::vector<int32_t> partitions;
  kafka::ConsumerConfig config;
  sim::Duration processing_time_per_record;
  CommitAfterPoll commit = CommitAfterPoll::kNone;
  // When the consumers start polling, from the group's committed offsets or else by auto.offset.reset: a late
  // start with "earliest" makes a consumer that is far behind the head of the log and reads old segments (from
  // disk once the page cache has evicted them).
  sim::Duration start_at;
  // The application calls poll() only when World::drive_poll asks (kafka-e2e-latency polls once its send().get() has
  // returned); before its first poll it finds its positions (position()) from start_at on. Not a scenario key.
  bool driven = false;
  // The application calls seekToEnd() on its assignment before its first poll (kafka-e2e-latency's setupConsumer):
  // every partition is reset to the log end (ListOffsets LATEST) and the group's committed offsets are never asked
  // for (initWithCommittedOffsetsIfNeeded fetches them only for INITIALIZING partitions), so the consumer needs no
  // coordinator unless it commits. Not a scenario key.
  bool seek_to_end = false;
};

// The consumer's client.id: the configured one, else Kafka's generated "consumer-<group.id>-1" (ConsumerConfig.
// maybeOverrideClientId; "consumer-null-1" without a group; each consumer is its own process, its JVM's first).
std::string consumer_client_id(const ConsumerSpec& spec);
// Whether the consumer ever talks to its group's coordinator: a group member fetches its committed offsets when it
// starts, a consumer that commits needs it for the commits; a consumer without group.id, or one that seeks to the
// end and never commits, does not (so Kafka never creates __consumer_offsets for it).
bool uses_group_coordinator(const ConsumerSpec& spec);
// Whether the consumers are members of their group (subscribe(): the group assigns them the topic's partitions), as
// opposed to consumers whose application assigns their partitions (an entry's `partitions`, kafka-e2e-latency's
// seekToEnd consumer) and which only use the group's id for its committed offsets.
bool is_group_member(const ConsumerSpec& spec);

// A hardware fault from the scenario's "faults" (DESIGN.md principle 6; hardware-models.md §1.7, §2.7, §4.5, §5.6),
// applied through the models' fault hooks from `at` for `duration` (nullopt: to the end of the run). Only faults that
// leave every broker registered with the controller are offered: a broker whose disk is slow or stalled, whose CPU
// is slow, whose JVM pauses for less than broker.session.timeout.ms, or whose network links are degraded keeps
// heartbeating in Kafka, so no leader moves — which the simulator could not show yet (no controller).
enum class FaultKind : uint8_t {
  slow_disk,     // DiskModel::set_slow(latency_multiplier, bandwidth_multiplier) on the broker's disk(s)
  stalled_disk,  // DiskModel::stall_until: no I/O starts or completes on the disk(s) until the fault ends
  slow_cpu,      // Cpu::set_speed_multiplier(speed): every core of the broker runs at that fraction
  pause,         // Cpu::pause_for(duration): a stop-the-world pause of the broker's JVM
  slow_network,  // Network::set_host_fault: every link of the host, both directions
  drop_caches,   // PageCache::drop_caches at `at` (echo 1 > /proc/sys/vm/drop_caches): every clean page is evicted
  memory_pressure,  // PageCache::set_cache_bytes: another process takes `bytes` of the page cache's memory
  consumer_restart,  // a consumer's process dies at `at` and a new one starts `duration` later (0: at once)
  producer_restart,  // a producer's process dies at `at` and a new one starts `duration` later (0: at once)
};
std::string_view to_string(FaultKind kind);

struct FaultSpec {
  FaultKind kind = FaultKind::slow_disk;
  uint32_t host = 0;  // node id: brokers 0..brokers-1, then the clients in scenario order ("client-N" is brokers + N)
  sim::Duration at;   // from the start of the run
  std::optional<sim::Duration> duration;
  std::optional<uint32_t> disk;  // slow_disk, stalled_disk: one log dir's disk; nullopt: every disk of the broker
  double latency_multiplier = 1.0;    // slow_disk: on positioning and command latencies (>= 1 slows)
  double bandwidth_multiplier = 1.0;  // slow_disk: on transfer rates; slow_network: on the links' bandwidth (<= 1)
  double speed = 1.0;                 // slow_cpu: (0, 1]
  sim::Duration extra_latency;        // slow_network: added to every link of the host, each direction
  sim::Duration jitter;               // slow_network: uniform in [0, jitter] per chunk and hop
  double loss = 0.0;                  // slow_network: per-packet loss probability (each loss costs a TCP RTO)
  uint64_t bytes = 0;                 // memory_pressure: the memory taken from the page cache
  // producer_restart: the new process's producer configs when they differ from the entry's (checked as a whole,
  // idempotence's default applied). consumer_restart: the new process's consumer configs, and its application's
  // processing_time per record, when they differ. Both: the "config" object the scenario gave, and "name=value" for
  // each change, in the given order (the processing time last).
  std::optional<kafka::ProducerConfig> producer_config;
  std::optional<kafka::ConsumerConfig> consumer_config;
  std::optional<sim::Duration> processing_time;
  nlohmann::json config_given;
  std::vector<std::string> config_changes;
};

// A dynamic config change from the scenario's "operations" (docs/scenarios.md "Operations"): what
// `kafka-configs --alter --entity-type TYPE (--entity-name NAME | --entity-default) --add-config ... --delete-config
// ...` does at `at`. Every broker applies it at that instant: the controller's metadata log, which carries it to the
// brokers within milliseconds, is not simulated [A].
enum class ConfigEntityType : uint8_t { clients, brokers, topics };
std::string_view to_string(ConfigEntityType type);

struct ConfigAlterSpec {
  sim::Duration at;  // from the start of the run
  ConfigEntityType entity_type = ConfigEntityType::clients;
  std::optional<std::string> entity_name;  // a client-id, a broker id, a topic's name; nullopt: --entity-default
  // clients and brokers: the configs added (Kafka's name, value) and deleted, in the order given.
  std::vector<std::pair<std::string, double>> added;
  std::vector<std::string> deleted;
  // topics: the topic's index and its configs after this change (the loader applies the changes in time order).
  int32_t topic = -1;
  kafka::PartitionConfig topic_config;
  // brokers, a cluster-wide change of the topics' defaults (log.retention.ms, ..., min.insync.replicas): the brokers'
  // min.insync.replicas after it, and every topic's configs after it (those the topic does not set itself follow).
  std::optional<int32_t> broker_min_insync_replicas;
  std::vector<std::pair<int32_t, kafka::PartitionConfig>> topic_updates;
  std::optional<kafka::PartitionConfig> offsets_topic_config;  // __consumer_offsets' after it, when the world has it
  // What the operation's outputs show: "producer_byte_rate=1048576", "-retention.ms" (deleted), in the order given.
  std::vector<std::string> changes;
  nlohmann::json given;  // the scenario's entry, its "at" written as a duration (the resolved scenario's copy)
};

// A `kafka-delete-records --offset-json-file` run from the scenario's "operations" (kafka-behaviour-2.md §16.4;
// docs/scenarios.md "Operations"): at `at` the admin client sends each partition's leader a DeleteRecords request
// for its partitions (one request per leader, in broker order). Each leader handles its request on an I/O thread
// (request_fixed_cost); the admin client's metadata lookup and the request's network time are not simulated [A].
struct DeleteRecordsSpec {
  sim::Duration at;  // from the start of the run
  struct Target {
    int32_t topic = -1;
    int32_t partition = -1;
    int64_t offset = -1;  // -1: the high watermark
  };
  std::vector<Target> partitions;  // in the order given
  nlohmann::json given;            // the scenario's entry, its "at" written as a duration
};

// How long the leader waits for the replicas' log start offsets: the request's timeout, which the admin client sets
// to what is left of the call's deadline, default.api.timeout.ms = 60,000 by default (KafkaAdminClient.deleteRecords,
// calcDeadlineMs); kafka-delete-records sets no other.
inline constexpr int32_t delete_records_timeout_ms = 60'000;

struct WorldSpec {
  uint64_t seed = 1;
  // The broker configs the cluster's "config" gave, by name, with their values as written (the brokers'
  // STATIC_BROKER_CONFIG, which kafka-configs --describe lists among a dynamic config's synonyms).
  std::map<std::string, std::string> static_broker_configs;
  sim::Duration duration = sim::Duration::from_s(60);
  sim::Duration warmup = sim::Duration::from_s(10);
  // The summary's utilisations, bottleneck, connection shares, disks and EBS instances cover the time from here to
  // the end instead of the whole run (zero: the whole run): busy time since over capacity since; the disks and EBS
  // instances start new windows of their own statistics here. Set by commands that measure a part of a run:
  // `kafkasim run` to the warm-up, as its throughput; `kafkasim consumer-perf-test` to its --start-at. Not a
  // scenario key.
  sim::Duration utilisation_from;
  // Records that an open-loop schedule offers while its producer's send() is blocked on buffer.memory only join the
  // backlog: they take the short path there, and those due before any other event join it in one go (World::
  // on_arrival). The run is the same either way but for its events and trace hash; off only to test that. Not a
  // scenario key.
  bool short_blocked_arrivals = true;
  // Appends into the last of several batches of a deque do not wake the sender, whose poll would find nothing new,
  // and are quiet (kafka::RecordAccumulator::set_tail_appends_quiet). The run is the same either way but for its
  // events and trace hash; off only to test that. Not a scenario key.
  bool quiet_tail_appends = true;
  uint32_t brokers = 3;
  uint32_t racks = 1;
  HostHardwareSpec broker_hardware;
  CpuCosts cpu_costs;
  NicProfile client_nic;
  // Each producer's application thread spends this per send() before the record is in the accumulator (the client
  // CPU profile's producer_send_cost; zero without one). An unthrottled thread then sends at most one record per
  // producer_send_cost, and an open-loop schedule faster than that falls behind (latency counts from the schedule).
  sim::Duration producer_send_cost;
  // The client hosts' CPU profile's costs (hardware.client.cpu), which price the clients' per-byte work: a producer's
  // compression and TLS encryption, a consumer's decompression, CRC checks (check.crcs) and TLS decryption. Without
  // one the clients do that work at the brokers' profile's rates [A].
  std::optional<CpuCosts> client_cpu_costs;
  models::LinkSpec uplink{125e8, sim::Duration::from_us(5)};  // ToR <-> spine [A]
  kafka::BrokerConfig broker_config;
  kafka::ReplicaFetcherConfig fetcher_config;
  uint32_t num_network_threads = 3;  // num.network.threads
  uint32_t num_io_threads = 8;       // num.io.threads
  uint32_t queued_max_requests = 500;  // queued.max.requests
  // Socket buffers (Kafka's SO_RCVBUF / SO_SNDBUF settings; -1 keeps the OS's autotuned buffer, see
  // os_receive_buffer_bytes). Each connection's TCP window is min(the sender's send buffer, the receiver's
  // receive buffer) (models/network.hpp, "TCP send window").
  // socket.receive.buffer.bytes: the SO_RCVBUF of the broker's accepted connections; also the bytes of
  // complete requests a muted producer connection holds before the producer's sends stop completing.
  int64_t socket_receive_buffer_bytes = 102400;
  int64_t socket_send_buffer_bytes = 102400;            // socket.send.buffer.bytes
  int64_t replica_socket_receive_buffer_bytes = 65536;  // replica.socket.receive.buffer.bytes (the follower's)
  // What -1 (Selectable.USE_DEFAULT_BUFFER_SIZE) leaves a connection: Linux autotunes its buffers up to
  // net.ipv4.tcp_rmem / tcp_wmem's maximum, 6 MiB / 4 MiB by default (ip-sysctl.rst), of which half holds payload
  // (tcp_adv_win_scale = 1; a value set with setsockopt is doubled by the kernel for the same overhead, socket(7)).
  static constexpr int64_t os_receive_buffer_bytes = 6 * 1024 * 1024 / 2;
  static constexpr int64_t os_send_buffer_bytes = 4 * 1024 * 1024 / 2;
  uint32_t background_threads = 10;    // background.threads: at most this many background flushes at once
  // security.inter.broker.protocol: the followers' fetch connections carry TLS with SSL / SASL_SSL (tls_costs.hpp).
  kafka::SecurityProtocol security_inter_broker_protocol = kafka::SecurityProtocol::plaintext;
  sim::Duration network_thread_request_cost = sim::Duration::from_us(10);  // [A]
  // LogManager's "kafka-log-retention" task, one per broker: log.initial.task.delay.ms, then every
  // log.retention.check.interval.ms.
  sim::Duration retention_initial_delay = sim::Duration::from_ms(30'000);
  sim::Duration retention_check_interval = sim::Duration::from_ms(300'000);
  // LogManager's "kafka-log-flusher" task, one per broker: log.initial.task.delay.ms (retention_initial_delay), then
  // at a fixed rate of log.flush.scheduler.interval.ms, in Kafka's milliseconds: Long.MAX (the default) runs it once.
  // Each run fsyncs the logs whose last flush is at least their flush.ms old (LogConfig::flush_ms).
  int64_t log_flush_scheduler_interval_ms = std::numeric_limits<int64_t>::max();
  // The broker's checkpoint files, one of each kind per log dir, each rewritten and fsynced by a scheduler task on
  // one of the background.threads (kafka-behaviour.md §2.7; CheckpointFile.write): ReplicaManager's
  // "highwatermark-checkpoint" (replication-offset-checkpoint, every partition's HW) from time zero every
  // replica.high.watermark.checkpoint.interval.ms, LogManager's "kafka-recovery-point-checkpoint"
  // (recovery-point-offset-checkpoint) and "kafka-log-start-offset-checkpoint" (log-start-offset-checkpoint) after
  // log.initial.task.delay.ms, then every log.flush.offset.checkpoint.interval.ms and
  // log.flush.start.offset.checkpoint.interval.ms. Kafka's milliseconds; a period <= 0 runs the task once.
  int64_t replica_high_watermark_checkpoint_interval_ms = 5'000;
  int64_t log_flush_offset_checkpoint_interval_ms = 60'000;
  int64_t log_flush_start_offset_checkpoint_interval_ms = 60'000;
  // __consumer_offsets (offsets.topic.num.partitions, offsets.topic.replication.factor): the controller places it
  // after the scenario's topics when there are consumer groups, and the leader of partition
  // abs(group.hashCode) % partitions is the group's coordinator (kafka-behaviour.md §5.1). The replication factor
  // must not exceed the brokers when there are consumers (Kafka could not create the topic). The World simulates it
  // as a topic after the scenario's (its logs, replication and fetch sessions), named kafka::consumer_offsets_topic.
  int32_t offsets_topic_partitions = 50;
  int32_t offsets_topic_replication_factor = 3;
  // Its topic configs (GroupCoordinatorService.groupMetadataTopicConfigs): cleanup.policy=compact,
  // compression.type=producer and segment.bytes = offsets.topic.segment.bytes (104857600); the rest are the broker's
  // defaults (the loader fills them from the cluster's config).
  kafka::PartitionConfig offsets_topic_config = default_offsets_topic_config();
  static kafka::PartitionConfig default_offsets_topic_config() {
    kafka::PartitionConfig c;
    c.log.segment_bytes = 104'857'600;
    c.log.cleanup_policy_delete = false;
    c.log.cleanup_policy_compact = true;
    c.log.compression_type = kafka::BrokerCompressionType::producer;
    return c;
  }
  // The group coordinator's writes (kafka/broker/coordinator_writes.hpp): OffsetCommit records wait
  // group.coordinator.append.linger.ms to be appended as one batch; a commit is answered once the batch is
  // replicated to the ISR (the high watermark passed it), or fails after offsets.commit.timeout.ms.
  sim::Duration group_coordinator_append_linger = sim::Duration::from_ms(10);
  sim::Duration offsets_commit_timeout = sim::Duration::from_ms(5000);
  // Client quotas (kafka-behaviour-2.md §10): client-id entities, each broker measuring on its own, over
  // quota.window.num windows of quota.window.size.seconds (kafka/broker/client_quota.hpp).
  std::vector<ClientQuotaSpec> client_quotas;
  kafka::QuotaWindowConfig quota_window;
  // Replication throttling (kafka-behaviour-2.md §11): every broker's leader/follower.replication.throttled.rate and
  // replication.quota.window.*; the throttled replicas are the topics' configs (PartitionConfig).
  int64_t leader_replication_throttled_rate = kafka::unlimited_replication_rate;
  int64_t follower_replication_throttled_rate = kafka::unlimited_replication_rate;
  kafka::QuotaWindowConfig replication_quota_window;
  std::vector<TopicSpec> topics;
  std::vector<ProducerSpec> producers;
  std::vector<ConsumerSpec> consumers;
  std::vector<FaultSpec> faults;
  // The scenario's "operations", sorted by time (stably: two at one instant apply in scenario order).
  std::vector<ConfigAlterSpec> config_alters;
  // The operations' kafka-delete-records runs, sorted by time likewise (at one instant after the kafka-configs ones).
  std::vector<DeleteRecordsSpec> delete_records;
  sim::Duration sample_interval = sim::Duration::from_s(1);
};

// The distribution of a per-batch or per-request quantity over a run: nearest-rank percentiles from a
// high-dynamic-range histogram (exact below 2048, within 0.1 % above), exact count, mean and max.
struct DistributionSummary {
  uint64_t count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
};

DistributionSummary summarise_distribution(const sim::Histogram& h);

// A resource this busy, or a connection backlogged this much of the run, is saturated: below it a run is limited by
// its offered load. A presentation threshold (the summary reports the figures either way).
inline constexpr double kSaturatedUtilisation = 0.9;
// Open-loop producers whose acknowledged records reach this share of their offered rate get what they want.
inline constexpr double kDemandMet = 0.95;
// The client.id of a producer whose configs set none: Kafka generates "producer-N", N counting the process's producers
// from 1, and each simulated producer is a process of its own.
inline constexpr const char* kDefaultProducerClientId = "producer-1";

struct WorldSummary {
  uint64_t records_sent = 0, records_acked = 0, records_failed = 0, records_consumed = 0;
  // Records whose producer process died (producer_restart) after send() accepted them and before their callback ran:
  // never acknowledged nor failed (a leader may still have appended them).
  uint64_t records_lost_in_restarts = 0;
  double throughput_records_per_s = 0, throughput_mib_per_s = 0;
  // The records a second the producers' open-loop schedules ask send() for (rate x count, every entry); none when
  // some producer is closed-loop or unthrottled (it wants whatever it gets) or runs a command's loop.
  std::optional<double> offered_records_per_s;
  double consumed_records_per_s = 0;  // records the consumers polled after the warm-up, per second of the window
  double consumed_mib_per_s = 0;      // their value bytes, MiB per second of the window
  LatencySummary produce_latency, end_to_end_latency;
  uint64_t events = 0;
  double simulated_seconds = 0;
  uint64_t trace_hash = 0;
  // What limits the run: the most utilised resource (e.g. "broker-0 nic tx"), or, when no resource is saturated
  // (kSaturatedUtilisation) and the producers want more than they get (a closed-loop or unthrottled producer, or
  // open-loop producers acknowledged below kDemandMet of their offered rate), a broker connection whose requests wait
  // behind the one the broker works on for at least that share of the run (`bottleneck_is_connection`): Kafka
  // handles one request per connection at a time.
  std::string bottleneck;
  double bottleneck_utilisation = 0;
  bool bottleneck_is_connection = false;
  // Or, on the same terms, a connection whose TCP window was full at least that share of the run
  // (`bottleneck_is_window`; window_full below).
  bool bottleneck_is_window = false;
  std::vector<std::pair<std::string, double>> utilisation;  // every resource, sorted by name
  // Every broker disk over the run (or since spec.utilisation_from), as iostat -x would report it ("broker-0 disk 0"),
  // in broker and disk order.
  struct DiskUse {
    std::string name;
    double seconds = 0;  // the window its figures cover: the run, or the time since spec.utilisation_from
    models::DiskStats stats;
    double mean_queue_depth = 0;  // requests queued or in service, time-weighted (iostat's aqu-sz)
    double utilisation = 0;
    // An EBS volume: the operations it counted (256 KiB / 1 MiB units), and its burst balance at the end if it has a
    // burst bucket.
    std::optional<uint64_t> ebs_operations;
    std::optional<double> burst_balance;
    // The space the log dir's files take on the disk (df's used: every file up to its furthest write, deleted
    // segments until they are unlinked) at the end and at most (at any sample or the end), and the disk's size.
    uint64_t used_bytes = 0, used_bytes_max = 0, capacity_bytes = 0;
  };
  std::vector<DiskUse> disks;
  // Every broker behind an EBS-optimized instance's limits (hardware.broker.ebs_instance), over the run (or since
  // spec.utilisation_from), in broker order ("broker-0"): the busier of its two limits, what its volumes moved
  // through it, the share of their I/Os its limits admitted later than their volume's own would have, and its
  // CloudWatch balances at the end (null: that limit has no burst).
  struct EbsInstanceUse {
    std::string broker;
    double utilisation = 0;
    double mib_per_s = 0;
    double operations_per_s = 0;
    double held_share = 0;
    std::optional<double> io_balance, byte_balance;
  };
  std::vector<EbsInstanceUse> ebs_instances;
  // Every broker connection that ever had requests waiting behind the one in progress (the broker muted it), with
  // the share of the run it had, sorted by name: "broker-0 connection from client-0".
  std::vector<std::pair<std::string, double>> connection_backlog;
  // Of those, every connection that a client quota's throttle kept muted after its response (KIP-219), with the share
  // of the run, by the same names: its backlog is then the quota's doing.
  std::vector<std::pair<std::string, double>> connection_throttled;
  // Every connection (one way) that had bytes to send and a full TCP window for a share of the run, with that share,
  // sorted by name: "client-0 to broker-0 TCP window (102400 B)".
  std::vector<std::pair<std::string, double>> window_full;
  FailureCounts records_failed_by_cause;  // sums to records_failed
  // record-retry-total (records sent again after a retriable error) and batch-split-total (batches split after
  // MESSAGE_TOO_LARGE), over the whole run and every producer.
  uint64_t record_retries = 0, batch_splits = 0;
  uint64_t produce_requests = 0;  // over the whole run, every producer
  uint64_t batches_sent = 0;      // the same, retries included
  // After the warm-up and over every producer, retries included: the size of each batch sent (v2 format bytes, after
  // compression) and the records in each ProduceRequest, their means and distributions.
  double records_per_request = 0;
  double batch_size_bytes_mean = 0;
  DistributionSummary batch_size_bytes;
  DistributionSummary records_per_request_distribution;
  // The producers' record-queue-time (a batch's wait in the accumulator until drained: linger.ms, batch filling,
  // in-flight limits, retries' backoff) and request-latency (ProduceRequest sent to its response), every producer,
  // after the warm-up.
  LatencySummary record_queue_time, request_latency;
  // The scenario's faults (FaultSpec), in scenario order: kind, host, when (seconds), and the fault's parameters as
  // one line of text; and the ISR changes of the whole run (warm-up included), every leader together
  // (events.jsonl has each one).
  struct FaultReport {
    std::string kind, host, detail;
    double start_s = 0, end_s = 0;
  };
  std::vector<FaultReport> faults;
  // The config changes applied (ConfigAlterSpec), in time order: when, the entity ("clients bulk-loader",
  // "brokers <default>", "topics events") and the changes.
  struct OperationReport {
    double at_s = 0;
    std::string tool = "kafka-configs";
    std::string entity;
    std::vector<std::string> changes;
    // kafka-delete-records: per partition, in the order given ("topic-p"), the offset asked (-1: the HW), the
    // offset taken (the HW for -1; -1 with an error), the DeleteRecords answer (error, low watermark) and when it
    // came (never: the run ended first).
    struct DeletedRecords {
      std::string partition;
      int64_t offset = -1;
      int64_t requested_offset = -1;
      std::string error = "NONE";
      int64_t low_watermark = -1;
      std::optional<double> answered_s;
    };
    std::vector<DeletedRecords> deleted;
  };
  std::vector<OperationReport> operations;
  uint64_t isr_shrinks = 0, isr_expands = 0;
  // Under-replication from the ISR changes, whole run: the time each partition spent with an ISR smaller than its
  // replica set (Kafka's UnderReplicatedPartitions gauge above 0 for it), summed over partitions; the longest such
  // stretch (its partition as "topic-p", start and end; no end when it lasted to the end of the run); how many
  // partitions were still under-replicated at the end. `under_min_isr` is the same for an ISR smaller than the
  // partition's min.insync.replicas (UnderMinIsrPartitionCount: acks=all produces fail with NOT_ENOUGH_REPLICAS).
  struct UnderReplicated {
    double partition_seconds = 0;
    std::string longest_partition;
    double longest_start_s = 0;
    std::optional<double> longest_end_s;
    double longest_s = 0;
    uint64_t at_end = 0;
  };
  UnderReplicated under_replicated, under_min_isr;
  // Records a consumer's poll() returned that its group had been given before (after a consumer_restart: those
  // after the group's last committed offset), every group, whole run.
  uint64_t duplicates = 0;
  // The durability check at the end of the run (DESIGN.md principle 7), over every record a producer had
  // acknowledged with an offset (acks=1 or all; acks=0 gets none, Kafka's -1): those no longer in their partition's
  // leader's log (at or above its log end offset, or no leader), those retention deleted (below its log start
  // offset: gone by configuration, not lost), and acks=0 acknowledgements, which cannot be checked. And, on the
  // consumers' side, records a group skipped: offsets above what it had been given next, without a reset, a
  // committed offset or retention to move it there (a bug if ever non-zero, as a lost record is today: no fault the
  // simulator offers moves a leader or loses a page cache).
  uint64_t acked_records_checked = 0, acked_records_lost = 0, acked_records_deleted = 0, acked_records_unchecked = 0;
  uint64_t consumer_skipped = 0;
  // Records a leader appended after a record the same producer had sent later to the same partition, whole run:
  // a retry landing behind later batches, or a second copy of a batch (a retry of one already appended). Kafka's
  // idempotent producer prevents both (sequence numbers, KIP-98) while the broker keeps its state (retention that
  // deletes all its batches in a partition makes the broker forget it and take any sequence, KIP-360); without
  // it, retries with more than one request in flight may cause them (max.in.flight.requests.per.connection,
  // kafka-behaviour.md §1.7).
  uint64_t appended_out_of_order = 0;
  // Young-GC pauses of the brokers' JVMs over the whole run (warm-up included), every broker together.
  bool young_gc = false;  // the brokers model young GC at all
  uint64_t young_gcs = 0;
  double gc_pause_total_ms = 0, gc_pause_max_ms = 0;
  // Kafka's LogFlushRateAndTimeMs after the warm-up and over every broker: each segment flush that started after it (a
  // rolled segment's, flush.messages', the log flusher's), from its first fsync's start to its last one's end, and
  // their rate.
  LatencySummary log_flush_time;
  double log_flushes_per_s = 0;
  // Kafka's RequestMetrics at the brokers, every broker together, by RequestKind: requests that ended after the
  // warm-up, their rate over the measured window and the parts of their time (see RequestMetrics).
  RequestTimeSummary requests[kRequestKinds];
  // The consumers' fetch-latency (FetchRequest sent to its response: the broker's long poll included) and the records
  // in each fetch response (records-per-request), every consumer, after the warm-up.
  LatencySummary fetch_latency;
  DistributionSummary records_per_fetch;
  // KafkaConsumerMetrics (KIP-517), every consumer, polls after the warm-up: time-between-poll (from one poll() call's
  // start to the next: the application's processing of what the first returned, decompression and CRC checks
  // included, plus the time blocked in poll) and the mean poll-idle-ratio (time in poll / (time in poll + time since
  // the poll before); near 1 for a consumer that waits for data, near 0 for one its own processing binds).
  LatencySummary time_between_poll;
  double poll_idle_ratio = 0;
  // Each consumer group's lag in records (its consumers' records-lag summed; before a consumer starts, its group's
  // high watermark minus committed offset) at the run's last sample and the largest of the samples (one every
  // sample_interval, warm-up included): a group that falls behind ends with its largest lag. Sorted by group.
  struct GroupLagReport {
    std::string group;
    int64_t lag_end = 0, lag_max = 0;
    // After the warm-up: the records its consumers polled a second, and how fast its lag grew, from its first sample
    // after the warm-up to the last (none with fewer than two such samples). A group that keeps up has a growth
    // near 0; one that falls behind grows by the rate its partitions are written less the rate it reads.
    double consumed_records_per_s = 0;
    std::optional<double> lag_growth_records_per_s;
    // Whole run: the positions its consumers' fetches found out of range (OFFSET_OUT_OF_RANGE: retention, or
    // kafka-delete-records, removed the records under them) that auto.offset.reset then moved, and the records those
    // resets jumped over, which the group never got: deleted before it read them, or still in the log after a reset
    // to latest. A reset to an earlier offset skips nothing.
    uint64_t out_of_range_resets = 0;
    int64_t records_skipped_by_resets = 0;
  };
  std::vector<GroupLagReport> group_lag;
  // Offset commits that failed, by the coordinator's error (Kafka's name), one per partition of each failed
  // OffsetCommit, whole run: each is an offset_commit_failed event. UNKNOWN_MEMBER_ID: a consumer assigning its
  // partitions committed to a group that has members.
  std::map<std::string, uint64_t> offset_commits_failed;
  // The wire bytes of those fetch responses, split by whether the broker that answered is in the consumer's rack
  // (fetch from follower, KIP-392, exists to make the second small).
  int64_t fetch_bytes_same_rack = 0;
  int64_t fetch_bytes_cross_rack = 0;
  uint32_t racks = 1;  // the cluster's racks (the split above is printed only with more than one)
  // Every message sent after the warm-up (TCP payload bytes, both directions; framing and pure ACKs left out), by
  // the connection's kind, in all and across racks: what a cluster spread over availability zones pays for.
  struct TrafficBytes {
    int64_t total = 0;
    int64_t cross_rack = 0;
  };
  TrafficBytes producer_traffic, replication_traffic, consumer_traffic;
  // TLS (tls_costs.hpp): whether some producer's, some consumer's and the followers' connections carry it, and the
  // CPU its work took after the warm-up, in cores (CPU seconds per second of the window, all brokers or all clients
  // together): the brokers' network threads, their replica fetcher threads, the consumers', the producers'.
  struct Tls {
    bool producers = false, consumers = false, inter_broker = false;
    double broker_network_cores = 0, broker_fetcher_cores = 0, consumer_cores = 0, producer_cores = 0;
  };
  Tls tls;
  // Client quotas, one entry per client-id that some quota applies to (sorted): the bounds that apply to it, and,
  // after the warm-up and over every broker, its produce and consumer-fetch responses, how many carried a throttle
  // (KIP-219) and the throttle times, and the bytes the brokers' quota sensors counted per second of the window
  // (request bytes of its produces, response bytes of its fetches; throttled fetches' bytes are taken back).
  struct QuotaUse {
    uint64_t responses = 0, throttled = 0;
    double throttle_ms_mean = 0, throttle_ms_max = 0;
    double bytes_per_s = 0;
  };
  struct ClientQuotaReport {
    std::string client_id;
    std::optional<double> producer_byte_rate, consumer_byte_rate, request_percentage;
    QuotaUse produce, fetch;
  };
  std::vector<ClientQuotaReport> quotas;
  // Replication throttling (kafka-behaviour-2.md §11), one entry per broker when some topic throttles replicas: each
  // of its two quotas' bound (bytes/s, nullopt: Long.MAX, none), the bytes its sensor recorded per second of the
  // window (leader: the FetchResponse.sizeOf of the throttled partitions of every follower fetch response, in-sync
  // followers' included; follower: the records of its throttled partitions it received), and how many partitions it
  // held back after the warm-up (leader: fetch partitions answered without records; follower: partitions left out of
  // a fetch).
  struct ReplicationQuotaUse {
    bool throttles = false;  // some replica on the broker is throttled by this quota
    std::optional<double> bound;
    double recorded_bytes_per_s = 0;
    uint64_t held_back = 0;
  };
  struct ReplicationThrottleReport {
    std::string broker;
    ReplicationQuotaUse leader, follower;
  };
  std::vector<ReplicationThrottleReport> replication_throttle;
  // By client.id, when the producers (or the consumers) have more than one between them (else the totals above say
  // it): each producer client-id's acknowledged records and value bytes per second and produce latency, each consumer
  // client-id's consumed ones and end-to-end latency, on the terms of the totals (after the warm-up; latencies of
  // records sent after it). Sorted by client-id.
  struct ClientIdReport {
    std::string client_id;
    bool producer = false, consumer = false;
    double acked_records_per_s = 0, acked_mib_per_s = 0;
    std::optional<double> offered_records_per_s;  // as the summary's, over this client-id's producer entries
    LatencySummary produce_latency;
    double consumed_records_per_s = 0, consumed_mib_per_s = 0;
    LatencySummary end_to_end_latency;
  };
  std::vector<ClientIdReport> clients;
};

// A run that reached a state the simulator does not model, so that what followed would not be Kafka's behaviour
// (a log directory's disk filling up). World::run throws it; no summary exists.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class World {
 public:
  explicit World(WorldSpec spec);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Runs to spec.duration (or events_max events) and returns the summary. Throws RunError, at the simulated time
  // it happens, when a broker's log directory outgrows its disk: Kafka would fail the write (ENOSPC) and take the
  // directory offline, which is not simulated.
  WorldSummary run(uint64_t events_max = UINT64_MAX);
  // Called at every sample (once per simulated sample_interval) with the simulated time reached: the command
  // line uses it to show progress. It must not change the simulation.
  void set_progress_hook(std::function<void(sim::SimTime)> hook) { progress_hook_ = std::move(hook); }
  // Called for every record whose callback runs (acknowledged or failed), in callback order: the record's number
  // (its producer process numbers its send() calls from 1), when the application called send() for it (the open
  // loop's intended time; the unthrottled thread's actual call), when the callback ran, whether it was acknowledged,
  // and its value bytes.
  using RecordObserver = std::function<void(uint64_t record_number, sim::SimTime send_called, sim::SimTime completed,
                                            bool acked, uint64_t value_bytes)>;
  void set_record_observer(RecordObserver observer) { record_observer_ = std::move(observer); }
  // Called for every poll() of a consumer that returned records, when it returns them, with the consumer's scenario
  // entry: how many records, their key and value bytes summed and the first one's (as the application iterates
  // them; record.key().length + record.value().length), and how many of them had no size left to report (a second
  // copy of a batch read after every group had read the first; counted in `records`, not in the bytes).
  struct PollResult {
    int64_t records = 0;
    int64_t bytes = 0;
    int64_t first_bytes = 0;
    int64_t records_without_size = 0;
  };
  using PollObserver = std::function<void(size_t consumer_spec, sim::SimTime polled, const PollResult& result)>;
  void set_poll_observer(PollObserver observer) { poll_observer_ = std::move(observer); }

  // The application steps of driven clients (ProducerSpec::driven, ConsumerSpec::driven), by scenario entry: the
  // producer's thread calls send() now (it must not be waiting for a completion); the consumer's application calls
  // poll() now, or as soon as it has processed what its last poll returned. A consumer is positioned once every partition assigned to it has a fetch position: a driven consumer
  // asks for its positions (position(): ListOffsets, no fetch) once its group's committed offsets are in, and
  // drive_positions asks again for those whose request failed (after retry.backoff.ms).
  void drive_send(size_t producer_spec);
  void drive_poll(size_t consumer_spec);
  void drive_positions(size_t consumer_spec);
  bool consumer_positioned(size_t consumer_spec) const;

  sim::Engine& engine() { return engine_; }
  // Set when the run stopped early at a state the simulator does not model (the RunError run() throws), for
  // callers that drive the engine themselves (`kafkasim describe`).
  const std::optional<std::string>& run_error() const { return run_error_; }
  const RunMetrics& metrics() const { return metrics_; }
  const TimeSeries& timeseries() const { return timeseries_; }
  // events.jsonl: ISR changes, segments deleted by retention, consumers' offset resets and other notable state
  // changes, one JSON object each, in time order.
  const std::vector<nlohmann::json>& events() const { return events_; }
  // __consumer_offsets' replica lists, leader first (empty without consumers): partition p's leader coordinates
  // the groups whose id hashes to p.
  const std::vector<std::vector<kafka::NodeId>>& offsets_topic_replicas() const;
  // The topic index of __consumer_offsets in spec().topics, -1 without consumers.
  int32_t offsets_topic() const { return offsets_topic_; }
  // The brokers' dynamic configs set by the operations applied so far: broker `id`'s own, and the cluster default's.
  const std::map<std::string, std::string>& dynamic_broker_configs(uint32_t id) const {
    return dynamic_broker_configs_.at(id);
  }
  const std::map<std::string, std::string>& dynamic_default_broker_configs() const {
    return dynamic_default_broker_configs_;
  }
  // The scenario's topics, then __consumer_offsets when there are consumers.
  const WorldSpec& spec() const { return spec_; }
  HostHardware& broker_hardware(uint32_t broker);
  // How many of the broker's accepted connections each of its num.network.threads processors owns (a producer's
  // connections closed by a request timeout included: the model never forgets a connection).
  std::vector<uint32_t> connections_per_processor(uint32_t broker) const;
  // The partition's replica on `broker`, or null.
  const kafka::Partition* partition(uint32_t broker, kafka::PartitionRef ref) const;
  // The replica that leads `ref` now, or nullptr when none does.
  const kafka::Partition* leader_partition(kafka::PartitionRef ref) const;
  // The replicas on each of `broker`'s log dirs, by dir (JBOD: hardware.broker.log_dirs disks, the broker's logs
  // dealt over them in the order it created them, as Kafka puts a new log in the dir with the fewest), each dir's in
  // creation order.
  std::vector<std::vector<kafka::PartitionRef>> log_dir_partitions(uint32_t broker) const;
  // The consumer clients in node-id order, read-only (`kafkasim describe` prints their offsets and lag).
  struct ConsumerView {
    kafka::NodeId node = -1;  // its host is "client-<node - brokers>"
    size_t spec_index = 0;    // into spec().consumers
    uint32_t instance = 0;    // 0-based among the consumers of that entry
    bool started = false;     // start_at reached: it has been assigned its partitions
    std::vector<kafka::PartitionRef> assignment;  // its static assignment (empty when it gets no partition)
    const kafka::KafkaConsumer* consumer = nullptr;
  };
  std::vector<ConsumerView> consumers() const;
  // How many produced batches still wait for a consumer group to poll them (their records' send times are
  // kept for end-to-end latency). Bounded by the consumers' lag: retention frees the batches it deletes unread.
  std::size_t batches_awaiting_consumers() const { return sent_batches_.size(); }
  // ProduceRequests withdrawn because their producer closed the connection before their last byte had left the
  // client (World::withdraw_unsent): no broker received them.
  uint64_t produce_requests_withdrawn() const { return withdrawn_requests_; }
  // Records the consumers polled whose send times were no longer kept, so that their polls gave no end-to-end
  // sample and are missing from records_consumed. Zero but in one rare case: a non-idempotent retry sent before
  // every group had polled the first copy of its batch and appended after they had (see consumer_dispatch).
  uint64_t records_polled_unmeasured() const { return polled_unmeasured_; }

 private:
  struct Wakeup {
    sim::EventId id;
    sim::SimTime at = sim::SimTime::max();
    sim::Callback fire;  // what the pending event runs (kept here: a Callback inside a Callback is boxed)
  };
  struct Connection;
  struct Broker;
  struct ProducerClient;
  struct ConsumerClient;

  void build_topology();
  void create_partitions();
  void start_clients();
  // Schedules the start and end of every fault of the spec (events.jsonl "fault_start" / "fault_end").
  void schedule_faults();
  // Dynamic configs (the scenario's "operations"): one kafka-configs --alter applied on every broker.
  void alter_configs(const ConfigAlterSpec& op);
  // A kafka-delete-records run (WorldSpec::delete_records[index]): one DeleteRecords request to each leader.
  void delete_records(size_t index);
  void handle_delete_records(Broker& b, kafka::DeleteRecordsRequest request);
  // A leader's answer to one (DelayedDeleteRecords completed or expired, or at once).
  void delete_records_answered(const kafka::DeleteRecordsResponse& response);
  // A topic's configs from now on, on every broker (an operation on the topic, or on the brokers' topic defaults).
  void apply_topic_config(int32_t topic, const kafka::PartitionConfig& config);
  // A broker's client quota managers and replication quota managers, made when first needed.
  kafka::ClientQuotas& client_quotas(Broker& b);
  void watch_consumer_fetch_quotas(Broker& b);
  kafka::ReplicationQuotas& replication_quotas(Broker& b);
  void mark_throttled_replicas(Broker& b, int32_t topic);
  int64_t throttle_rate(kafka::NodeId broker, int role) const;  // role 0: leader, 1: follower
  void apply_fault(const FaultSpec& fault, bool start);
  // "broker-N" or "client-N", as the outputs name hosts.
  std::string node_name(kafka::NodeId node) const;
  // The TCP window of the connection (one way) src → dst with network tag `tag` (Network's window policy).
  uint64_t window_bytes(models::HostId src, models::HostId dst, uint32_t tag) const;

  // Brokers.
  // `request_bytes`: the request's size, what TLS decryption costs depends on.
  void on_request_arrival(Broker& b, kafka::NodeId client, int64_t request_bytes, sim::Callback handle,
                          int32_t channel = 0);
  struct Processor;
  // The broker's connection from (client, channel), accepted (and given a processor) on first use.
  Connection& connection(Broker& b, kafka::NodeId client, int32_t channel);
  void process_request(Broker& b, kafka::NodeId client, int32_t channel, sim::Duration tls, sim::Callback handle);
  // Hands the parsed request to the I/O threads' queue, then frees the connection's processor.
  void enqueue_request(Broker& b, kafka::NodeId client, int32_t channel, sim::Callback handle);
  sim::Callback taken_from_queue(Broker& b, sim::Callback handle);
  // Runs `work` on the network thread (processor) that owns the connection once it is free; the work ends by
  // calling release_processor with the same connection.
  void on_processor(Broker& b, kafka::NodeId client, int32_t channel, sim::Callback work);
  Processor& processor_of(Broker& b, kafka::NodeId client, int32_t channel);
  void start_on_processor(Processor& p, sim::Callback& work);
  void release_processor(Broker& b, kafka::NodeId client, int32_t channel);
  void unmute(Broker& b, kafka::NodeId client, int32_t channel = 0);
  // Client quotas (kafka-behaviour-2.md §10.4-§10.5): what a produce response's or a consumer fetch's quotas say, in
  // throttle ms; a throttle mutes the connection until it ends (unmute waits for it).
  class BrokerFetchQuota;
  int32_t produce_throttle(Broker& b, kafka::NodeId client, int32_t channel, bool acks_zero);
  int32_t consumer_fetch_throttle(Broker& b, const kafka::FetchRequest& read, int64_t response_bytes);
  void throttle_connection(Broker& b, kafka::NodeId client, int32_t channel, int64_t throttle_ms);
  void record_network_time(Broker& b, kafka::NodeId client, int32_t channel, sim::Duration response_cost);
  void count_quota_response(kafka::NodeId client, bool fetch, int64_t throttle_ms, int64_t bytes);
  void handle_produce(Broker& b, kafka::ProduceRequest request);
  // CPU time of a CRC32C pass over `bytes` (hardware-models.md §5.3), rounded up to the nanosecond.
  sim::Duration crc_cost(int64_t bytes) const { return crc_cost(bytes, spec_.cpu_costs); }
  sim::Duration crc_cost(int64_t bytes, const CpuCosts& worker) const;
  // TLS (tls_costs.hpp). A connection's security protocol is its client end's: a producer's or consumer's
  // security.protocol, security.inter.broker.protocol for a follower's.
  bool tls_connection(kafka::NodeId client) const {
    KS_ASSERT_LT(static_cast<size_t>(client), tls_.size());
    return tls_[static_cast<size_t>(client)] != 0;
  }
  // A message's bytes on the wire of the connection whose client end is `client` (TLS records add their framing).
  int64_t wire_bytes(kafka::NodeId client, int64_t message_bytes) const;
  // What TLS adds to receiving / sending a message of `bytes` on that connection (zero without TLS).
  // `worker` prices it: the broker's profile for its threads, client_costs() for a client's.
  sim::Duration tls_receive(kafka::NodeId client, int64_t bytes, const CpuCosts& worker) const;
  sim::Duration tls_send(kafka::NodeId client, int64_t bytes, const CpuCosts& worker) const;
  // The costs of the clients' per-byte work (WorldSpec::client_cpu_costs, or the brokers').
  const CpuCosts& client_costs() const { return spec_.client_cpu_costs ? *spec_.client_cpu_costs : spec_.cpu_costs; }
  // Who does TLS work, for WorldSummary::tls.
  enum class TlsWork : uint8_t { broker_network, broker_fetcher, consumers, producers };
  // Counts `cost` (after the warm-up) as `who`'s TLS work and returns it.
  sim::Duration charge_tls(TlsWork who, sim::Duration cost);
  void handle_fetch(Broker& b, kafka::FetchRequest request);
  // The connection a fetch came on: a follower's fetcher thread has its own (channel = its fetcher id).
  int32_t fetch_channel(kafka::NodeId client, uint64_t correlation_id) const;
  // Runs an outbox: storage operations, then responses. `stored` runs when the storage operations completed
  // (at once when there are none), before the responses go.
  void dispatch(Broker& b, kafka::BrokerOutbox& out, std::function<void()> stored = {});

  void send_fetch_response(Broker& b, kafka::NodeId destination, kafka::FetchResponse response);
  void rearm_broker(Broker& b);
  void poll_fetchers(Broker& b);
  // ReplicaFetcherManager.resizeThreadPool to `fetchers` threads per source broker (num.replica.fetchers altered).
  void resize_fetchers(Broker& b, uint32_t fetchers);
  void on_follower_response(Broker& b, kafka::FetcherKey key, kafka::FetchResponse response);
  void run_retention(Broker& b);
  // LogManager's "kafka-log-flusher" run due at `scheduled` (see world.cpp), and its walk over the broker's logs.
  struct LogFlusherRun;
  void run_log_flusher(Broker& b, sim::SimTime scheduled);
  void continue_log_flusher(Broker& b, const std::shared_ptr<LogFlusherRun>& run);
  // A checkpoint task run due at `scheduled`: rewrites its file in every log dir, one after the other.
  enum class Checkpoint : uint8_t { replication_offset = 0, recovery_point = 1, log_start_offset = 2 };
  void run_checkpoint(Broker& b, Checkpoint kind, sim::SimTime scheduled);
  void write_checkpoint_dir(Broker& b, Checkpoint kind, size_t dir, sim::SimTime scheduled,
                            std::function<void()> release);
  // Forgets the send times of batches deleted from their leader's log once no group can poll them any more.
  void forget_unreadable_batches();
  int64_t unread_by_groups(kafka::PartitionRef partition, const kafka::RecordBatch& batch) const;

  // Producers.
  void producer_send_next(ProducerClient& c, uint32_t thread);
  bool draw_arrival(ProducerClient& c);
  void plan_arrivals(ProducerClient& c);
  void on_arrival(ProducerClient& c);
  // A record offered to `c` at `at` would only join its backlog, by an event that changes nothing else (send() is
  // blocked and the producer's own wakeup is not due by then; see on_arrival).
  bool blocked_arrival_is_short(const ProducerClient& c, sim::SimTime at) const;
  // The producer whose pending arrival event `id` is, if any (nullptr).
  ProducerClient* arrival_owner(sim::EventId id) const;
  void join_blocked_arrivals(ProducerClient& first);
  void flush_quiet_sends(ProducerClient& c, bool through_now = false);
  // An open-loop record drawn ahead of its time: when it is intended and sent, its value size and its key.
  struct DrawnRecord {
    sim::SimTime intended;
    sim::SimTime send_at;  // when send() returns with it appended: intended, or later (producer_send_cost)
    uint32_t value_bytes = 0;
    uint32_t key_index = 0;
  };
  kafka::SendResult send_record(ProducerClient& c, const DrawnRecord& d, sim::SimTime now, uint32_t thread,
                                kafka::ProducerOutbox& out, bool quiet = false);
  void producer_dispatch(ProducerClient& c, kafka::ProducerOutbox& out);
  // The producer client whose request carried `batch` (its tag is the client's index << 40 | its batch id; the
  // group coordinator's batches, tagged with the top bit, have none).
  const ProducerClient& producer_of_batch(const kafka::RecordBatch& batch) const;
  // Withdraws the requests to `node` that had not fully left the client when the producer closed the connection.
  void withdraw_unsent(ProducerClient& c, kafka::NodeId node);
  // A request sent from `client` on `channel` with `request_bytes` goes through the broker's connection muting and a
  // network thread; an I/O thread spends `io_cost` on it, then runs `handle` (handled_request). answered_request
  // answers at once (InitProducerId, FindCoordinator): `answer()` makes the response, which a network thread
  // sends, and `delivered` gets it at the client.
  template <typename Handle>
  void handled_request(Broker& b, kafka::NodeId client, int32_t channel, int64_t request_bytes, sim::Duration io_cost,
                       Handle handle);
  // The response to a request `handled_request` handled, sent by a network thread, which unmutes the connection.
  template <typename Response, typename Delivered>
  void reply(Broker& b, kafka::NodeId client, int32_t channel, RequestKind kind, Response response,
             Delivered delivered);
  template <typename Answer, typename Delivered>
  void answered_request(Broker& b, kafka::NodeId client, int32_t channel, RequestKind kind, int64_t request_bytes,
                        sim::Duration io_cost, Answer answer, Delivered delivered);
  // InitProducerId to the least-loaded broker; the response installs the producer id.
  void send_init_producer_id(ProducerClient& c);
  void rearm_producer(ProducerClient& c);

  // Consumers.
  void consumer_poll(ConsumerClient& c);
  void consumer_processed(ConsumerClient& c);
  void consumer_dispatch(ConsumerClient& c, kafka::ConsumerOutbox& out);
  void observe_polled(const kafka::PolledRange& range, PollResult& result) const;
  // The summary's shares of the run since time zero, by name: every resource's utilisation, and the connections'
  // (requests waiting, throttled, a full TCP window). since_origin turns them into shares of the time since the
  // snapshot taken at spec.utilisation_from.
  // A share with what it is made of: busy (seconds, or thread-seconds) over capacity (the same units).
  struct Share {
    std::string name;
    double share = 0;
    double busy = 0;
    double capacity = 0;
  };
  using Shares = std::vector<Share>;
  Shares resource_utilisation(std::vector<std::string>* not_bottleneck) const;
  struct ConnectionShares {
    Shares backlog, throttled, window_full;
  };
  ConnectionShares connection_shares() const;
  std::vector<std::pair<std::string, double>> since_origin(const Shares& now_shares,
                                                           const std::map<std::string, Share>& origin) const;
  void take_utilisation_origin();
  // The records a second the open-loop schedules of the producer entries with this client.id (all: nullopt) ask for;
  // none when one of them is closed-loop, unthrottled or a command's, or no entry has that client.id.
  std::optional<double> offered_records_per_s(const std::optional<std::string>& client_id) const;
  // Offset commits go to the group coordinator; until it is known they wait for a FindCoordinator answer.
  void send_offset_commit(ConsumerClient& c, kafka::OutgoingOffsetCommit commit);
  void offset_commit_answered(ConsumerClient& c, const kafka::OffsetCommitResponse& response);
  // The group coordinator's writes (kafka::CoordinatorWrites): `records` records to a __consumer_offsets
  // partition; `done` gets the (mapped) error once the write is settled.
  void coordinator_write(Broker& b, int32_t partition, int32_t records, const kafka::RecordShape& record,
                         std::function<void(kafka::Errc)> done);
  void coordinator_append(Broker& b, int32_t partition);
  void coordinator_settled(Broker& b, std::vector<kafka::CoordinatorWrites::Completion>& completions);
  void send_find_coordinator(ConsumerClient& c);
  // A starting consumer's OffsetFetch to its coordinator; the answer assigns its partitions and lets it poll.
  void send_offset_fetch(ConsumerClient& c, kafka::NodeId coordinator);
  void offsets_fetched(ConsumerClient& c, const kafka::OffsetFetchResponse& response);
  void consumer_assigned(ConsumerClient& c);
  // A group's position on `partition` starts (or restarts after an out-of-range reset) at `offset`: it never polls
  // the records of the leader's log below it, so they stop waiting for it in sent_batches_.
  // The group of consumer spec `group` will not poll the records of `partition` below `offset` that it has not been
  // given yet: their reads are no longer owed.
  void skip_unread(size_t group, kafka::PartitionRef partition, int64_t offset);
  // A consumer_restart fault: the consumer's process dies (everything it held is gone, its requests' answers are
  // dropped) and a new one with the same host, group and assignment starts after `downtime`.
  // `config`, `processing_time`: what the new process runs with instead of its predecessor's (a consumer_restart that
  // deploys a change).
  void restart_consumer(ConsumerClient& c, sim::Duration downtime, const kafka::ConsumerConfig* config = nullptr,
                        std::optional<sim::Duration> processing_time = std::nullopt);
  // A producer_restart fault: the producer's process dies — the records in its
  // accumulator and its requests not yet written to a socket are gone, answers to its requests are dropped, requests
  // already written still reach their brokers — and a new process with the same host and workload starts after
  // `downtime` (a new producer id when idempotent, new connections), with `config` when given (a deployed change),
  // else the configs of the process before it. Returns the records lost with the process.
  uint64_t restart_producer(ProducerClient& c, sim::Duration downtime, const kafka::ProducerConfig* config = nullptr);
  void start_producer(ProducerClient& c);
  // The process of producer host `client` that sent the request numbered `correlation` (each process numbers its
  // ProduceRequests from its own base: ProducerClient::incarnation).
  ProducerClient& producer_of_request(kafka::NodeId client, uint64_t correlation);
  void start_consumer(ConsumerClient& c);
  // A fetch response from broker `source` reached consumer `c`: its fetch-latency, records per fetch, and its bytes
  // by whether they crossed racks.
  void consumer_fetch_answered(ConsumerClient& c, kafka::NodeId source, const kafka::FetchResponse& response);
  void rearm_consumer(ConsumerClient& c);

  void arm(Wakeup& w, sim::SimTime at, sim::Callback fire);
  void sample();
  models::HostId host_of(kafka::NodeId node) const;
  // Which way a message travels on its connection. A client's connection `channel` to a broker carries the
  // requests one way and the responses the other; each way of each connection is its own network flow
  // (tag 2 · channel + leg), as each TCP connection is: a follower's fetch request to a leader does not queue
  // behind the fetch responses that the same leader, as follower, receives on its own connection.
  enum class Leg : uint32_t { request = 0, response = 1 };
  static uint32_t flow_tag(Leg leg, int32_t channel) {
    return 2 * static_cast<uint32_t>(channel) + static_cast<uint32_t>(leg);
  }
  // socket.receive.buffer.bytes as the broker sets it on a producer's connection (-1: the OS's autotuned size).
  uint64_t producer_connection_receive_buffer() const;
  // The node on each host (by host id; -1 for switches), and each client's send.buffer.bytes and
  // receive.buffer.bytes (by node id; brokers' entries unused), for window_bytes.
  std::vector<kafka::NodeId> node_of_host_;
  // The rack of each node (brokers, then clients), by node id.
  std::vector<uint32_t> host_racks_;
  // Consumer fetch responses after the warm-up, wire bytes, by whether the serving broker is in the consumer's rack.
  int64_t consumer_fetch_bytes_same_rack_ = 0;
  int64_t consumer_fetch_bytes_cross_rack_ = 0;
  // Messages after the warm-up by connection kind (WorldSummary's *_traffic): producers', brokers' (replication),
  // consumers'; node ids are brokers, then producers, then consumers.
  WorldSummary::TrafficBytes traffic_[3];
  kafka::NodeId first_consumer_node_ = 0;
  std::vector<std::pair<int64_t, int64_t>> client_buffers_;
  std::vector<uint8_t> tls_;           // by node id: its connections carry TLS (tls_connection)
  std::vector<std::string> client_ids_;  // by node id: a client's client.id (empty for brokers)
  // After the warm-up, by client-id: [0] produce, [1] fetch (WorldSummary::QuotaUse before the division).
  struct QuotaCount {
    uint64_t responses = 0, throttled = 0;
    int64_t throttle_ms_total = 0, throttle_ms_max = 0;
    int64_t bytes = 0;
  };
  std::map<std::string, std::array<QuotaCount, 2>> quota_counts_;
  // leader/follower.replication.throttled.rate set by operations: per broker, and the cluster-wide <default>.
  std::vector<std::array<std::optional<int64_t>, 2>> throttle_rate_overrides_;
  // A thread count operations set (DynamicThreadPool): each broker's own value and the cluster-wide one (none: the
  // static config).
  struct DynamicCount {
    std::vector<std::optional<uint32_t>> own;
    std::optional<uint32_t> cluster_default;
    // What kafka-configs --alter `op` does to config `name`.
    void apply(const ConfigAlterSpec& op, const std::string& name);
    uint32_t of(kafka::NodeId broker, uint32_t static_value) const {
      return own[static_cast<size_t>(broker)].value_or(cluster_default.value_or(static_value));
    }
  };
  DynamicCount io_threads_, replica_fetchers_, background_threads_;
  // The most fetcher threads per source broker any broker has in the run (the stride of Broker::fetcher_pools).
  uint32_t fetcher_stride_ = 1;
  std::array<std::optional<int64_t>, 2> throttle_rate_default_;
  std::vector<WorldSummary::OperationReport> operations_applied_;
  RecordObserver record_observer_;
  PollObserver poll_observer_;
  // The shares at spec.utilisation_from, for a summary whose utilisations cover the time after it.
  struct UtilisationOrigin {
    bool taken = false;
    sim::SimTime time;
    std::map<std::string, Share> resources, backlog, throttled, window_full;
  } utilisation_origin_;
  // The DeleteRecords requests not answered yet, by correlation id: the operation's entry in operations_applied_
  // and, per partition of the request, its place in that entry's `deleted`.
  struct PendingDeleteRecords {
    size_t report = 0;
    std::vector<size_t> entries;
  };
  std::map<uint64_t, PendingDeleteRecords> delete_records_pending_;
  uint64_t next_delete_records_id_ = 0;
  // The brokers' dynamic configs the operations set so far (name -> value as given): each broker's own, and the
  // cluster-wide <default>'s (kafka-configs --describe --entity-type brokers).
  std::vector<std::map<std::string, std::string>> dynamic_broker_configs_;
  std::map<std::string, std::string> dynamic_default_broker_configs_;
  // Per client.id (WorldSummary::clients), only when some kind of client has more than one; each client points at
  // its entry (ProducerClient::id_stats, ConsumerClient::id_stats).
  struct ClientIdStats {
    bool producer = false, consumer = false;
    uint64_t acked = 0, acked_bytes = 0, consumed = 0, consumed_bytes = 0;
    sim::Histogram produce_latency_ns, end_to_end_latency_ns;
    // Value bytes acknowledged and consumed since the last time-series row (its client_* columns).
    uint64_t interval_acked_bytes = 0, interval_consumed_bytes = 0;
  };
  std::map<std::string, ClientIdStats> client_id_stats_;
  sim::Duration tls_cpu_[4];           // TLS work after the warm-up, by TlsWork
  // Sends a message of `message_bytes` (Kafka's request or response) on the connection; TLS adds its framing.
  models::MessageId send(kafka::NodeId from, kafka::NodeId to, Leg leg, int32_t channel, int64_t message_bytes,
                         sim::Callback on_delivered, sim::Callback on_departed = nullptr);
  kafka::ProducerMetadata metadata() const;

  WorldSpec spec_;
  sim::Engine engine_;
  std::unique_ptr<models::Network> network_;
  std::vector<models::HostId> hosts_;  // by node id: brokers first, then clients
  std::vector<models::NodeId> uplinks_;  // by node id: the switch each host's NIC connects to
  std::vector<std::unique_ptr<Broker>> brokers_;
  std::vector<std::vector<std::vector<kafka::NodeId>>> replicas_;  // [topic][partition]: replica list, leader first
  // __consumer_offsets' index in spec_.topics and replicas_ (the last topic), -1 without consumers.
  int32_t offsets_topic_ = -1;
  uint64_t next_coordinator_write_ = 1;  // world-wide ids of the coordinators' writes
  std::vector<std::unique_ptr<ProducerClient>> producers_;
  // Each producer host's processes, first to last (more than one after a producer_restart), by client index.
  std::vector<std::vector<ProducerClient*>> producer_processes_;
  uint64_t records_lost_in_restarts_ = 0;
  std::vector<uint64_t> fault_records_lost_;  // by fault of the spec: a producer_restart's lost records
  std::vector<std::unique_ptr<ConsumerClient>> consumers_;
  RunMetrics metrics_;
  RequestMetrics request_metrics_;
  TimeSeries timeseries_;
  std::vector<nlohmann::json> events_;
  // The stretches of time each partition's ISR spends below a threshold: since when it is below (while it is), the
  // finished stretches' total and the longest (partition, start, end). The summary's under_replicated (below the
  // replica count) and under_min_isr (below min.insync.replicas).
  struct IsrStretches {
    struct Stretch {
      kafka::PartitionRef partition;
      sim::SimTime start, end;
    };
    std::map<kafka::PartitionRef, sim::SimTime> since;
    sim::Duration total;
    std::optional<Stretch> longest;
    // The partition's ISR is (`below`) or is not below the threshold from `now` on.
    void update(kafka::PartitionRef partition, bool below, sim::SimTime now);
    // The report at `now`, the stretches still open ending there.
    WorldSummary::UnderReplicated report(sim::SimTime now, const std::vector<TopicSpec>& topics) const;
  };
  IsrStretches under_replicated_, under_min_isr_;
  std::function<void(sim::SimTime)> progress_hook_;
  // Why the run stopped early (RunError), set by the first disk to fill.
  std::optional<std::string> run_error_;
  // End-to-end latency: the intended send times of the records of every batch a producer sent to a topic that
  // consumers read, by the batch's world-wide tag (which travels with the batch into the log and back out in
  // fetch responses), until every consumer group reading the topic has polled them, or retention deleted them
  // from the leader and no group can poll them any more (forget_unreadable_batches), or the batch can never be
  // in a log: split (ProducerOutbox::split_batches), or failed for the producer with no request carrying it left
  // unhandled and no leader having appended it (SentBatch::never_in_a_log). Looked up, never iterated.
  struct SentBatch {
    std::vector<sim::SimTime> intended;
    std::vector<uint32_t> value_bytes;  // each record's value bytes, as the producer's throughput counts them
    std::vector<uint32_t> key_bytes;    // each record's key bytes when its producer has keys and a poll observer is set
    int64_t reads_left = 0;
    // ProduceRequests carrying the batch that no broker's I/O thread has handled yet and that were not withdrawn:
    // any of them may still append it, whatever the producer has decided meanwhile (a request timeout does not
    // recall a request whose last byte had left the client; it withdraws the others, World::withdraw_unsent).
    int32_t requests_unhandled = 0;
    bool appended = false;  // a leader appended it (consumers may read it even if the producer failed it)
    int32_t copies = 0;     // how many times leaders appended it less the copies retention deleted and no group reads
    bool failed = false;    // the producer failed its records (ProducerOutbox::failed_batches)
    // No consumer can ever read it: the producer gave up, no leader appended it, and no request can append it any
    // more (every request not withdrawn reaches its broker: the World partitions no network and drops no message
    // yet).
    bool never_in_a_log() const { return failed && !appended && requests_unhandled == 0; }
  };
  std::unordered_map<uint64_t, SentBatch> sent_batches_;
  // Batches retention deleted from a leader's log while some group had not polled them, in deletion order: kept
  // until every group reading the topic is past them (forget_unreadable_batches), then erased from sent_batches_.
  struct DeletedBatch {
    kafka::PartitionRef partition;
    int64_t last_offset = 0;
    uint64_t tag = 0;
    // The reads of this copy that the groups have still to make (records neither polled nor skipped, summed over
    // the groups reading the topic): counted when retention deletes it, less what is polled from fetch responses
    // after that. Subtracted from the batch's reads_left when no group can poll the copy any more.
    int64_t unread = 0;
  };
  // By (topic, partition, base offset): ordered, so the copies of a batch (one partition's) are visited in offset
  // order, and the polls of a deleted copy find it.
  std::map<std::pair<kafka::PartitionRef, int64_t>, DeletedBatch> deleted_unread_;
  uint64_t polled_unmeasured_ = 0;
  // By consumer spec (a group reading one topic), then partition: the offset after the last record the group was
  // given, and the records given again below it (a consumer restarted from its group's committed offset, or reset
  // to an earlier one). Dense: looked up for every range of records a poll returns.
  std::vector<std::vector<int64_t>> delivered_next_;
  uint64_t duplicates_ = 0;
  uint64_t consumer_skipped_ = 0;  // WorldSummary::consumer_skipped
  uint64_t appended_out_of_order_ = 0;  // WorldSummary::appended_out_of_order
  // Alongside delivered_next_: the highest offset the group's consumer was positioned at by an offset reset or a
  // committed offset (skip_unread). A poll may start above delivered_next_ only up to it.
  std::vector<std::vector<int64_t>> positioned_at_;
  // The acknowledged offsets of each partition (by topic, then partition), for the durability check.
  std::vector<std::vector<AckedOffsets>> acked_offsets_;
  uint64_t acked_without_offset_ = 0;  // acks=0: WorldSummary::acked_records_unchecked
  void check_durability(WorldSummary& s);
  std::vector<kafka::RecordBatch> deleted_scratch_;  // reused by run_retention
  std::vector<int64_t> produce_leo_scratch_;          // reused by handle_produce: log end offsets before an append
  // How many consumer entries read each partition, by topic index and partition.
  std::vector<std::vector<int64_t>> readers_;
  int64_t readers_of(kafka::PartitionRef p) const {
    return readers_[static_cast<size_t>(p.topic)][static_cast<size_t>(p.partition)];
  }
  // The group coordinators' committed offsets (what OffsetFetch answers): by group, the offset of each partition's
  // latest OffsetCommit whose write the coordinator has settled without error.
  std::map<std::string, std::map<kafka::PartitionRef, int64_t>> group_offsets_;
  // The groups a member has joined (is_group_member, from its start): never empty again, since membership ends only
  // by LeaveGroup or session.timeout.ms, neither of which is simulated [A].
  std::set<std::string> groups_with_members_;
  std::map<std::string, uint64_t> offset_commits_failed_;  // WorldSummary::offset_commits_failed
  // Each group's lag (timeseries.csv's consumer_lag_records, by group) at the last sample and the most of any sample.
  struct GroupLag {
    int64_t end = 0, max = 0;
    // The lag at the group's first sample after the warm-up, and when that was; the last sample's time.
    std::optional<int64_t> after_warmup;
    sim::SimTime after_warmup_at, end_at;
  };
  std::map<std::string, GroupLag> group_lag_;
  // Per group (see group_key): the out-of-range resets and the records they skipped (GroupLagReport).
  struct OffsetResets {
    uint64_t resets = 0;
    int64_t records_skipped = 0;
  };
  std::map<std::string, OffsetResets> offset_resets_;
  const std::string& group_key(const ConsumerClient& c) const;
  // Records each group's consumers polled after the warm-up (a consumer without a group: by its client.id).
  std::map<std::string, uint64_t> group_consumed_;
  uint64_t next_correlation_id_ = 1;
  uint64_t sampled_produce_requests_ = 0;  // ProduceRequests sent by all producers at the last sample
  uint64_t withdrawn_requests_ = 0;        // produce_requests_withdrawn()
  CompressionModel compression_;  // compression.type: ratios and codec CPU costs (compression_costs.hpp)
};

}  // namespace kafkasim::cluster
