#include "kafkasim/cluster/world.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>

#include "kafkasim/cluster/tls_costs.hpp"
#include "kafkasim/kafka/broker/group_coordinator_key.hpp"
#include "kafkasim/kafka/broker/producer_id_manager.hpp"
#include "kafkasim/kafka/controller/replica_placer.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

using kafka::NodeId;
using kafka::PartitionRef;
using sim::Duration;
using sim::SimTime;

namespace {

// RequestChannel.Response's constructor: the response exists now, and a handler that has not returned yet (its
// purgatory completed the response first) counts as done locally at the same time.
void response_completed(RequestTimes& t, SimTime now) {
  t.response_complete = now;
  if (t.local_complete == SimTime::max()) t.local_complete = now;
}

// A closed-loop application thread's own time per send() that fails at once (RecordTooLargeException, an exhausted
// buffer with max.block.ms 0, ...) before it sends again: [A] one microsecond, a million failed sends per second
// per thread. Without it such a thread would loop without simulated time passing.
constexpr Duration kFailedSendGap = Duration::from_us(1);

// A consumer's connection to its group coordinator: AbstractCoordinator names the coordinator node
// Integer.MAX_VALUE - broker id "to allow separate connections for the coordinator", so OffsetFetch and OffsetCommit
// never queue behind a fetch parked on the fetch connection.
constexpr int32_t kCoordinatorChannel = 1;

// The FailureCounts member a failed record is counted under.
uint64_t FailureCounts::*failure_cause(kafka::RecordOutcome outcome) {
  switch (outcome) {
    case kafka::RecordOutcome::delivery_timeout: return &FailureCounts::delivery_timeout;
    case kafka::RecordOutcome::broker_error: return &FailureCounts::broker_error;
    case kafka::RecordOutcome::buffer_exhausted: return &FailureCounts::buffer_exhausted;
    case kafka::RecordOutcome::record_too_large: return &FailureCounts::record_too_large;
    case kafka::RecordOutcome::unknown_topic: return &FailureCounts::unknown_topic;
    case kafka::RecordOutcome::producer_closed: return &FailureCounts::producer_closed;
    case kafka::RecordOutcome::acked: break;
  }
  KS_ASSERT_MSG(false, "an acknowledged record is not a failure");
  return &FailureCounts::broker_error;  // not reached
}
}  // namespace

// ------------------------------------------------------------------------------------------------
// Per-node state

struct World::Connection {
  uint32_t processor = 0;  // index into Broker::processors, fixed when the connection is accepted
  bool muted = false;
  // Requests read from the socket after this one, each with what TLS adds to its parsing (tls_costs.hpp).
  std::deque<std::pair<sim::Callback, Duration>> waiting;
  // The times of the request being worked on (RequestMetrics): a muted connection has one, from its start until
  // the network thread takes its response. No start (SimTime::max()) before the first request.
  RequestTimes times;
  uint64_t requests_started = 0;  // tells apart the requests `times` has been about
  // Busy while requests wait in `waiting`: the client has more for the broker than one connection's
  // one-request-at-a-time path takes (WorldSummary::connection_backlog).
  sim::UtilisationMeter backlog;
  // Client quotas (kafka-behaviour-2.md §10.5): a throttled connection is unmuted no earlier than the throttle's end
  // (ThrottledChannel), by one scheduled call.
  SimTime throttle_end;
  bool unmute_scheduled = false;
  // Busy while the connection stays muted only because of a throttle (WorldSummary::connection_throttled).
  sim::UtilisationMeter throttled;
  int64_t request_bytes = 0;  // the ProduceRequest being handled, as its quota counts it (request.sizeInBytes)
  Duration network_time;      // the network thread's time reading the request being handled
};

// KafkaApis' quota checks of a consumer fetch, for the ReplicaManager (kafka::ConsumerFetchQuota).
class World::BrokerFetchQuota final : public kafka::ConsumerFetchQuota {
 public:
  BrokerFetchQuota(World& world, Broker& broker) : world_(world), broker_(broker) {}
  std::optional<int64_t> max_fetch_bytes(NodeId client) const override;
  int32_t throttle_ms(const kafka::FetchRequest& read, int64_t response_bytes, SimTime) override {
    return world_.consumer_fetch_throttle(broker_, read, response_bytes);
  }

 private:
  World& world_;
  Broker& broker_;
};

struct World::Processor {
  bool busy = false;
  std::deque<sim::Callback> waiting;
  sim::UtilisationMeter meter;
};

struct World::Broker {
  NodeId id = 0;
  std::unique_ptr<HostHardware> hw;
  std::unique_ptr<kafka::ReplicaManager> rm;
  std::unique_ptr<kafka::ProducerIdManager> producer_ids;  // InitProducerId's allocator
  // The group coordinator's writes to the __consumer_offsets partitions this broker leads (CoordinatorRuntime), and
  // what answers each, by write id.
  kafka::CoordinatorWrites coordinator;
  std::map<uint64_t, std::function<void(kafka::Errc)>> coordinator_answers;
  std::unique_ptr<kafka::ReplicaFetcherManager> fetchers;
  // The client quotas this broker enforces, and the ReplicaManager's view of them for consumer fetches; none
  // without quotas.
  std::unique_ptr<kafka::ClientQuotas> quotas;
  std::unique_ptr<BrokerFetchQuota> fetch_quota;
  // Replication throttling (leader and follower quota managers); none when no topic throttles a replica.
  std::unique_ptr<kafka::ReplicationQuotas> replication_quotas;
  models::PoolId network_pool{};
  models::PoolId io_pool{};
  // One replica fetcher thread per (source broker, fetcher id), num.replica.fetchers per source broker
  // (ReplicaFetcherManager: fetcher threads are keyed by broker and fetcher id); by source * N + fetcher id.
  std::vector<models::PoolId> fetcher_pools;
  models::PoolId& fetcher_pool(kafka::FetcherKey key, uint32_t per_source) {
    const size_t i = static_cast<size_t>(key.source_broker_id) * per_source + static_cast<size_t>(key.fetcher_id);
    KS_ASSERT_LT(i, fetcher_pools.size());
    return fetcher_pools[i];
  }
  Wakeup wakeup;
  Wakeup fetcher_wakeup;
  // Follower fetches travel with a world-unique correlation id; this maps it back to the fetcher that sent the
  // request and the fetcher's own correlation id (fetchers number their requests independently).
  std::map<uint64_t, std::pair<kafka::FetcherKey, uint64_t>> fetch_keys;
  // By (client node id, channel): a follower opens one connection per replica fetcher thread (channel = its
  // fetcher id, as Kafka's fetcher threads each own a NetworkClient); a consumer has one (channel 0) and one to its
  // coordinator; a producer has one at a time, a new one (channel 1, 2, ...) after each close (request.timeout.ms),
  // while the closed one's requests already read are still worked on and answered into the void.
  // By client node id, then channel (few: a follower's fetcher ids; a consumer's 0 and 1; a producer's 0 and one
  // more per reconnect); accepted connections only.
  // Each connection lives in its own allocation, so a Connection& stays valid for the whole run.
  std::vector<std::vector<std::unique_ptr<Connection>>> connections;
  Connection* find_connection(NodeId client, int32_t channel) const {
    const auto c = static_cast<size_t>(client), ch = static_cast<size_t>(channel);
    return c < connections.size() && ch < connections[c].size() ? connections[c][ch].get() : nullptr;
  }
  std::vector<Processor> processors;          // num.network.threads
  // Network threads blocked in RequestChannel.sendRequest because the request queue is full (queued.max.requests),
  // in the order they blocked: each holds its processor until an I/O thread takes a request from the queue.
  struct BlockedHandOff {
    NodeId client = -1;
    int32_t channel = 0;
    sim::Callback queued;  // the request's handling, wrapped by World::taken_from_queue
  };
  std::deque<BlockedHandOff> blocked_hand_offs;
  uint32_t next_processor = 0;                // the Acceptor's round-robin index
  uint32_t next_log_id = 0;
  std::vector<PartitionRef> log_partitions;  // by log id: the partition whose replica the log is
  uint64_t isr_shrinks = 0, isr_expands = 0;
  uint64_t sampled_hit_bytes = 0, sampled_miss_bytes = 0;
  Duration sampled_gc_paused;
  // Busy time at the last sample, for the time series' utilisation over each interval.
  int64_t sampled_nic_tx_busy_ns = 0, sampled_nic_rx_busy_ns = 0;
  std::vector<int64_t> sampled_disk_busy_ns;  // by disk
  std::vector<uint64_t> disk_used_max;  // by disk: the most its files took at any sample (and at the end)
  int64_t sampled_ebs_instance_busy_ns = 0;
  double sampled_cpu_busy_core_s = 0;
  int64_t sampled_network_busy_ns = 0;  // the processors' busy time, summed
  int64_t sampled_io_busy_ns = 0;       // the I/O threads' busy time, summed
  double sampled_io_capacity_ns = 0;    // and their capacity (threads x time: num.io.threads may change)
};

struct World::ProducerClient {
  NodeId id = 0;
  ClientIdStats* id_stats = nullptr;  // its client.id's entry of client_id_stats_, if kept
  size_t spec_index = 0;
  uint32_t instance = 0;  // which of its spec's `count` producers
  // A producer_restart ended this process: nothing of it runs again and answers to its requests are dropped. Its
  // successor (a later entry of producers_ with the same node) numbers its ProduceRequests from incarnation << 40.
  bool dead = false;
  uint32_t incarnation = 0;
  uint64_t index = 0;  // position in producers_: the high bits of its batches' world-wide tags
  std::unique_ptr<kafka::Producer> producer;
  sim::Rng rng{0};
  std::unique_ptr<ArrivalProcess> arrival;
  // What the cluster needs when a record completes, by record id. Ids are handed out in order, so the records
  // between send() and completion form a window from `first_in_flight_id`; completed ones leave from the front.
  struct InFlight {
    SimTime intended;
    uint32_t bytes = 0;  // the value's
    uint32_t thread = 0;
    bool done = false;
    uint32_t key_bytes = 0;  // 0: no key
  };
  std::deque<InFlight> in_flight;
  uint64_t first_in_flight_id = 1;
  InFlight& in_flight_record(uint64_t record_id) {
    KS_ASSERT_GE(record_id, first_in_flight_id);
    KS_ASSERT_LT(record_id - first_in_flight_id, in_flight.size());
    return in_flight[record_id - first_in_flight_id];
  }
  // Open loop. Records are drawn (time, size, key) ahead of their time into `ahead`. The first `quiet` of them
  // would each append quietly (QuietAppendCursor) if nothing touched the producer before their time, so they have
  // no event: they are sent lazily, each at its own time, just before anything else touches the producer
  // (flush_quiet_sends) or at the event of the first record that is not quiet (`arrival_event`).
  using Drawn = DrawnRecord;
  std::deque<Drawn> ahead;
  size_t quiet = 0;
  // The cursor that judged `ahead` (it accepted the quiet ones and the records sent since from them, and
  // rejected ahead[quiet] unless `cursor_open`); reused while the producer changed only by quiet sends.
  std::optional<kafka::QuietAppendCursor> cursor;
  bool cursor_open = false;
  bool schedule_ended = false;  // the next arrival falls after the run (or after ProducerSpec::max_records)
  uint64_t records_drawn = 0;   // drawn for sending, less those dropped undrawn (max_records counts these)
  SimTime unthrottled_last;     // unthrottled: the time the previous record was drawn for
  SimTime app_free_at;          // when the application thread returns from the last drawn record's send()
  Duration app_busy;            // producer_send_cost times the records sent: the application threads' busy time
  bool blocked_after_warmup = false;  // send() blocked on buffer.memory after the warm-up
  // InitProducerId: sent to a broker chosen as NetworkClient.leastLoadedNode does (below), one at a time.
  sim::Rng least_loaded_rng{0};
  bool producer_id_in_flight = false;
  uint64_t producer_id_requests = 0;  // their correlation ids, apart from the Sender's ProduceRequests
  Wakeup arrival_event;
  std::deque<Drawn> backlog;  // open loop: records whose time came while send() was blocked
  bool blocked = false;       // send() is blocked on buffer.memory
  bool paused = false;        // unthrottled: the application thread waits for the unblock
  bool polling = false;       // rearm_producer is polling the producer (see there)
  uint64_t next_record_id = 1;
  // By partition of its topic: the first record number of the batch of this producer that leaders appended last in
  // send order (-1: none yet). A batch whose first record is not above it lands after records sent later.
  std::vector<int64_t> appended_first_record;
  Wakeup wakeup;
  ClientCodecThread compressor;  // compression.type: requests leave once their batches are compressed
  // The ProduceRequests not yet fully written to their connection: compressing, or handed to the network and not
  // yet departed (the last byte has not left the NIC). A connection the producer closes withdraws them
  // (World::withdraw_unsent). Oldest first; at most max.in.flight.requests.per.connection per broker.
  struct Unsent {
    NodeId destination = 0;
    uint64_t correlation = 0;
    std::optional<models::MessageId> message;  // empty while compressing
    std::vector<uint64_t> batch_tags;          // world-wide tags of the batches counted in sent_batches_
  };
  std::deque<Unsent> unsent;
  // Requests withdrawn while compressing, by correlation id: they are not sent when their compression ends.
  std::set<uint64_t> withdrawn;
  // Each close of a connection to a broker (request.timeout.ms) makes the next one a new TCP connection: its
  // channel, by broker, counts the connections so far (0 first). The broker keeps a Connection per channel, so a
  // request on the new connection never waits behind one the closed connection's still in progress (Kafka's
  // SocketServer mutes channels, not clients). By correlation id, the channel of every request handed to the
  // network until the broker answers it (or, acks=0, has handled it).
  std::vector<int32_t> channel_to_broker;
  std::map<uint64_t, int32_t> request_channel;
  int32_t channel_of(uint64_t correlation) const {
    const auto it = request_channel.find(correlation);
    KS_ASSERT_MSG(it != request_channel.end(), "a request the broker works on has a channel");
    return it->second;
  }
  Unsent* find_unsent(uint64_t correlation) {
    for (Unsent& u : unsent)
      if (u.correlation == correlation) return &u;
    return nullptr;
  }
  void erase_unsent(uint64_t correlation) {
    const auto it = std::find_if(unsent.begin(), unsent.end(), [correlation](const Unsent& u) {
      return u.correlation == correlation;
    });
    KS_ASSERT(it != unsent.end());
    unsent.erase(it);
  }
};

struct World::ConsumerClient {
  NodeId id = 0;
  ClientIdStats* id_stats = nullptr;  // its client.id's entry of client_id_stats_, if kept
  uint64_t* group_consumed = nullptr;  // its group's entry of group_consumed_ (records polled after the warm-up)
  size_t spec_index = 0;
  std::unique_ptr<kafka::KafkaConsumer> consumer;
  kafka::ConsumerConfig config;  // the process's: its entry's, or what a consumer_restart deployed
  Duration per_record;
  // The application thread's work on fetch responses received, done in the next poll: their TLS decryption.
  Duration fetched_work_pending;
  bool processing = false;
  bool awaiting_app = false;  // a driven consumer's application, between processing and its next poll() call
  bool poll_requested = false;  // drive_poll came while the driven application was processing
  // The application thread's work after each poll (processing_time per record, decompression, CRC checks, TLS
  // decryption), summed as it is scheduled, and when the work in progress ends: its utilisation in the summary.
  Duration app_busy;
  SimTime app_busy_until;
  // The OffsetCommit a commitSync() waits for: the application polls again when its response comes, or retries it
  // (retriable errors) until default.api.timeout.ms after the call, `sync_commit_deadline`.
  std::optional<uint64_t> sync_commit;
  SimTime sync_commit_deadline;
  int32_t sync_commit_attempts = 0;  // retries of the current commitSync() call so far
  sim::Rng commit_backoff_rng{0};    // the jitter of its retry backoff
  // The group coordinator is found with FindCoordinator when the consumer starts (for its OffsetFetch) and again
  // whenever a commit finds none known; commits made meanwhile wait here, and so does the start-up OffsetFetch.
  bool coordinator_lookup_in_flight = false;
  bool offsets_wanted = false;
  uint64_t find_coordinator_requests = 0;
  uint64_t offset_fetch_requests = 0;
  std::vector<kafka::OutgoingOffsetCommit> waiting_for_coordinator;
  sim::Rng least_loaded_rng{0};
  Wakeup wakeup;
  // Its static assignment, handed to assign() with the group's committed offsets once OffsetFetch has answered.
  std::vector<kafka::PartitionAssignment> assignment;
  bool started = false;
  // A consumer_restart fault ended this process: nothing of it runs again, and answers to its requests are dropped.
  // Its successor (the next entry of consumers_ with the same node) numbers its requests from `correlation_base`,
  // above every id the dead ones used, so that a fetch answer to a dead process is recognised as such.
  bool dead = false;
  uint32_t incarnation = 0;
  uint64_t correlation_base = 0;
  // Its fetches on the wire or at a broker, (correlation id, send time), oldest first: for fetch-latency. A fetch
  // whose response never comes would stay; the list keeps the newest kMaxFetchesTracked.
  std::vector<std::pair<uint64_t, SimTime>> fetches_sent;
  static constexpr size_t kMaxFetchesTracked = 64;
  // FetchManagerMetrics after the warm-up: fetch-latency (request sent to response) and the records of each response.
  sim::Histogram fetch_latency_ns, records_per_fetch;
  // KafkaConsumerMetrics (KIP-517): recordPollStart / recordPollEnd. The start of the poll in progress and the time
  // since the one before it (0 for the first poll, as Kafka's lastPollMs = 0 gives); after the warm-up, the
  // time-between-poll of each poll and the sum and count of poll-idle-ratio (poll time / (poll time + time since the
  // last poll)).
  std::optional<SimTime> last_poll_start;
  Duration time_since_last_poll;
  sim::Histogram time_between_poll_ns;
  double poll_idle_ratio_sum = 0;
  uint64_t poll_idle_ratio_count = 0;
  // Positions a fetch found out of range (OFFSET_OUT_OF_RANGE), by partition, until auto.offset.reset moves them.
  std::map<PartitionRef, int64_t> out_of_range_at;
};

// ------------------------------------------------------------------------------------------------
// Construction

// A consumer's group in the per-group figures; a consumer without a group is counted under its client.id (Kafka's
// records-lag metric is the client's).
const std::string& World::group_key(const ConsumerClient& c) const {
  const std::string& group = spec_.consumers[c.spec_index].group;
  return group.empty() ? client_ids_[static_cast<size_t>(c.id)] : group;
}

std::string consumer_client_id(const ConsumerSpec& spec) {
  if (!spec.config.client_id_config.empty()) return spec.config.client_id_config;
  return "consumer-" + (spec.group.empty() ? std::string("null") : spec.group) + "-1";
}

bool uses_group_coordinator(const ConsumerSpec& spec) {
  if (spec.group.empty()) return false;
  return !spec.seek_to_end || spec.commit != CommitAfterPoll::kNone || spec.config.enable_auto_commit;
}

bool is_group_member(const ConsumerSpec& spec) {
  return !spec.group.empty() && spec.partitions.empty() && !spec.seek_to_end;
}

std::string_view to_string(ConfigEntityType type) {
  switch (type) {
    case ConfigEntityType::clients: return "clients";
    case ConfigEntityType::brokers: return "brokers";
    case ConfigEntityType::topics: return "topics";
  }
  return "?";
}

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::slow_disk: return "slow_disk";
    case FaultKind::stalled_disk: return "stalled_disk";
    case FaultKind::slow_cpu: return "slow_cpu";
    case FaultKind::pause: return "pause";
    case FaultKind::slow_network: return "slow_network";
    case FaultKind::drop_caches: return "drop_caches";
    case FaultKind::memory_pressure: return "memory_pressure";
    case FaultKind::consumer_restart: return "consumer_restart";
    case FaultKind::producer_restart: return "producer_restart";
  }
  return "?";
}

std::string rack_name(uint32_t rack) { return "rack-" + std::to_string(rack); }

std::optional<uint32_t> rack_index(std::string_view name, uint32_t racks) {
  for (uint32_t r = 0; r < racks; ++r)
    if (name == rack_name(r)) return r;
  return std::nullopt;
}

World::World(WorldSpec spec)
    : spec_(std::move(spec)),
      metrics_(SimTime::zero() + spec_.warmup),
      request_metrics_(SimTime::zero() + spec_.warmup),
      compression_(spec_) {
  KS_ASSERT_GT(spec_.brokers, 0u);
  KS_ASSERT_GT(spec_.racks, 0u);
  KS_ASSERT_LT(spec_.warmup, spec_.duration);
  for (const auto& t : spec_.topics) {
    KS_ASSERT_GT(t.partitions, 0);
    KS_ASSERT_GT(t.replication_factor, 0);
    KS_ASSERT_LE(t.replication_factor, static_cast<int32_t>(spec_.brokers));
  }
  // __consumer_offsets is created when a group first looks for its coordinator, so after the scenario's topics and
  // by the same placer (kafka-behaviour.md §5.1); the leader of a group's partition is its coordinator. It is
  // simulated like any topic from the start [A: created at time zero, not at the first FindCoordinator]. Consumers
  // that never look for a coordinator (no group.id, or seekToEnd without commits) do not create it.
  if (std::any_of(spec_.consumers.begin(), spec_.consumers.end(), uses_group_coordinator)) {
    if (spec_.offsets_topic_replication_factor < 1 || spec_.offsets_topic_partitions < 1 ||
        static_cast<uint32_t>(spec_.offsets_topic_replication_factor) > spec_.brokers)
      throw std::invalid_argument("offsets.topic.replication.factor (" +
                                  std::to_string(spec_.offsets_topic_replication_factor) +
                                  ") must be between 1 and the number of brokers (" + std::to_string(spec_.brokers) +
                                  ") when there are consumer groups, and offsets.topic.num.partitions at least 1");
    for (const auto& t : spec_.topics) KS_ASSERT_MSG(t.name != kafka::consumer_offsets_topic, "the topic is internal");
    offsets_topic_ = static_cast<int32_t>(spec_.topics.size());
    // GroupCoordinatorService.groupMetadataTopicConfigs: the configs the coordinator creates the topic with.
    spec_.topics.push_back(TopicSpec{kafka::consumer_offsets_topic, spec_.offsets_topic_partitions,
                                     spec_.offsets_topic_replication_factor, spec_.offsets_topic_config,
                                     {"cleanup.policy", "compression.type", "segment.bytes"}});
  }
  for (const ConsumerSpec& c : spec_.consumers) {
    KS_ASSERT_MSG(!c.seek_to_end || c.config.auto_offset_reset == kafka::AutoOffsetReset::latest,
                  "seekToEnd resets to the log end: the spec gives the reset strategy it stands for");
    // Kafka's consumer refuses both without a group.id (the scenario loader says so at the entry's pointer).
    if (c.group.empty() && (c.commit != CommitAfterPoll::kNone || c.config.enable_auto_commit))
      throw std::invalid_argument("a consumer without a group.id cannot commit offsets (enable.auto.commit must be "
                                  "false and commit none): give it a group");
  }
  for (const TopicSpec& t : spec_.topics) readers_.emplace_back(static_cast<size_t>(t.partitions), 0);
  // A group's members on a topic read each of its partitions once between them, however many entries they are.
  std::set<std::pair<std::string, int32_t>> member_groups;
  for (const auto& c : spec_.consumers) {
    std::vector<int64_t>& readers = readers_[static_cast<size_t>(c.topic)];
    if (c.partitions.empty() && (c.group.empty() || member_groups.emplace(c.group, c.topic).second))
      for (int64_t& r : readers) ++r;
    for (size_t i = 0; i < c.partitions.size(); ++i) {
      KS_ASSERT_MSG(c.partitions[i] >= 0 && static_cast<size_t>(c.partitions[i]) < readers.size() &&
                        (i == 0 || c.partitions[i - 1] < c.partitions[i]),
                    "a consumer's partitions are the topic's, ascending, each once");
      ++readers[static_cast<size_t>(c.partitions[i])];
    }
  }
  // The most replica fetcher threads per source broker a broker ever has (num.replica.fetchers may be altered).
  fetcher_stride_ = static_cast<uint32_t>(spec_.fetcher_config.num_replica_fetchers);
  for (const ConfigAlterSpec& op : spec_.config_alters)
    for (const auto& [name, value] : op.added)
      if (name == "num.replica.fetchers") fetcher_stride_ = std::max(fetcher_stride_, static_cast<uint32_t>(value));
  build_topology();
  create_partitions();
  start_clients();
  schedule_faults();
  throttle_rate_overrides_.assign(spec_.brokers, {});
  for (DynamicCount* pool : {&io_threads_, &replica_fetchers_, &background_threads_}) pool->own.assign(spec_.brokers, std::nullopt);
  dynamic_broker_configs_.assign(spec_.brokers, {});
  for (const ConfigAlterSpec& op : spec_.config_alters)
    engine_.schedule_at(SimTime::zero() + op.at, [this, &op] { alter_configs(op); });
  for (size_t i = 0; i < spec_.delete_records.size(); ++i)
    engine_.schedule_at(SimTime::zero() + spec_.delete_records[i].at, [this, i] { delete_records(i); });
  engine_.schedule_at(SimTime::zero() + spec_.sample_interval, [this] { sample(); });
  KS_ASSERT_GT(spec_.retention_check_interval, Duration::zero());
  for (auto& b : brokers_)
    engine_.schedule_at(SimTime::zero() + spec_.retention_initial_delay, [this, &b = *b] { run_retention(b); });
  // The log flusher can fsync nothing while every log's flush.ms is Long.MAX (Kafka's default), from the start and
  // after every operation: its runs are then left out, which changes no outcome.
  const auto flushes = [](const kafka::PartitionConfig& c) { return c.log.flush_ms != std::numeric_limits<int64_t>::max(); };
  const bool flush_ms_set =
      std::any_of(spec_.topics.begin(), spec_.topics.end(), [&](const TopicSpec& t) { return flushes(t.config); }) ||
      std::any_of(spec_.config_alters.begin(), spec_.config_alters.end(), [&](const ConfigAlterSpec& op) {
        return (op.entity_type == ConfigEntityType::topics && flushes(op.topic_config)) ||
               std::any_of(op.topic_updates.begin(), op.topic_updates.end(),
                           [&](const auto& u) { return flushes(u.second); }) ||
               (op.offsets_topic_config && flushes(*op.offsets_topic_config));
      });
  if (flush_ms_set) {
    const SimTime first = SimTime::zero() + spec_.retention_initial_delay;
    for (auto& b : brokers_) engine_.schedule_at(first, [this, &b = *b, first] { run_log_flusher(b, first); });
  }
  // The checkpoint tasks: the HW's from time zero, the LogManager's after log.initial.task.delay.ms.
  for (auto& b : brokers_) {
    const SimTime zero = SimTime::zero();
    const SimTime later = SimTime::zero() + spec_.retention_initial_delay;
    engine_.schedule_at(zero, [this, &b = *b, zero] { run_checkpoint(b, Checkpoint::replication_offset, zero); });
    engine_.schedule_at(later, [this, &b = *b, later] { run_checkpoint(b, Checkpoint::recovery_point, later); });
    engine_.schedule_at(later, [this, &b = *b, later] { run_checkpoint(b, Checkpoint::log_start_offset, later); });
  }
}

World::~World() = default;

void World::build_topology() {
  models::Topology topology;
  const auto spine = topology.add_switch("spine");
  std::vector<models::NodeId> tors;
  for (uint32_t r = 0; r < spec_.racks; ++r) {
    tors.push_back(topology.add_switch("tor-" + std::to_string(r), rack_name(r)));
    topology.add_link(tors.back(), spine, spec_.uplink);
  }
  // Node ids: brokers 0..B-1, then one client host per producer and per consumer instance.
  for (uint32_t b = 0; b < spec_.brokers; ++b) {
    hosts_.push_back(topology.add_host("broker-" + std::to_string(b), rack_name(b % spec_.racks)));
    uplinks_.push_back(tors[b % spec_.racks]);
    topology.add_link(hosts_.back(), uplinks_.back(), spec_.broker_hardware.nic.link);
  }
  // Client i is in rack i mod racks, except a consumer with a client.rack (KIP-392), which is in the rack it names
  // (the loader checked that it names one: "rack-<r>").
  std::vector<uint32_t> client_racks;
  for (const auto& p : spec_.producers)
    for (uint32_t k = 0; k < p.count; ++k) client_racks.push_back(static_cast<uint32_t>(client_racks.size()) % spec_.racks);
  for (const auto& c : spec_.consumers) {
    for (uint32_t k = 0; k < c.count; ++k) {
      uint32_t rack = static_cast<uint32_t>(client_racks.size()) % spec_.racks;
      if (!c.config.client_rack.empty()) {
        const std::optional<uint32_t> named = rack_index(c.config.client_rack, spec_.racks);
        KS_ASSERT_MSG(named.has_value(), "the loader checks client.rack");
        rack = *named;
      }
      client_racks.push_back(rack);
    }
  }
  for (uint32_t i = 0; i < client_racks.size(); ++i) {
    hosts_.push_back(topology.add_host("client-" + std::to_string(i), rack_name(client_racks[i])));
    uplinks_.push_back(tors[client_racks[i]]);
    topology.add_link(hosts_.back(), uplinks_.back(), spec_.client_nic.link);
  }
  uint32_t producer_clients = 0;
  for (const auto& p : spec_.producers) producer_clients += p.count;
  first_consumer_node_ = static_cast<NodeId>(spec_.brokers + producer_clients);
  host_racks_.clear();
  for (uint32_t b = 0; b < spec_.brokers; ++b) host_racks_.push_back(b % spec_.racks);
  host_racks_.insert(host_racks_.end(), client_racks.begin(), client_racks.end());
  models::NetworkConfig config;
  config.goodput_fraction = spec_.broker_hardware.nic.goodput_fraction;
  config.mss_bytes = spec_.broker_hardware.nic.mss_bytes;
  network_ = std::make_unique<models::Network>(engine_, std::move(topology), sim::Rng::stream(spec_.seed, "network"),
                                               config);
  node_of_host_.assign(network_->topology().node_count(), -1);
  for (size_t node = 0; node < hosts_.size(); ++node) node_of_host_[hosts_[node].value] = static_cast<NodeId>(node);
  client_buffers_.assign(hosts_.size(), {0, 0});
  // Brokers' connections to brokers are followers' (security.inter.broker.protocol); clients set theirs in
  // start_clients.
  tls_.assign(hosts_.size(), 0);
  client_ids_.assign(hosts_.size(), std::string());
  for (uint32_t b = 0; b < spec_.brokers; ++b) tls_[b] = kafka::encrypts(spec_.security_inter_broker_protocol) ? 1 : 0;
  network_->set_window_policy([this](models::HostId src, models::HostId dst, uint32_t tag) {
    return window_bytes(src, dst, tag);
  });

  for (uint32_t b = 0; b < spec_.brokers; ++b) {
    auto broker = std::make_unique<Broker>();
    broker->id = static_cast<NodeId>(b);
    // Kafka's thread pools (kafka-behaviour.md §2.1): num.network.threads, num.io.threads with the request
    // queue bounded by queued.max.requests, and num.replica.fetchers replica fetcher threads per source broker
    // (each a pool of one thread: a fetcher works on one response at a time).
    models::CpuParams cpu;
    cpu.pools.push_back({"network", spec_.num_network_threads, 1u << 20});
    cpu.pools.push_back({"io", spec_.num_io_threads, spec_.queued_max_requests});
    const uint32_t fetchers = fetcher_stride_;
    for (uint32_t source = 0; source < spec_.brokers; ++source)
      for (uint32_t f = 0; f < fetchers; ++f)
        cpu.pools.push_back({"replica-fetcher-" + std::to_string(source) + "-" + std::to_string(f), 1, 1u << 20});
    broker->hw = std::make_unique<HostHardware>(engine_, spec_.broker_hardware, std::move(cpu), spec_.seed,
                                                "broker/" + std::to_string(b));
    broker->hw->storage().set_background_threads(spec_.background_threads);
    broker->hw->storage().set_metrics_from(SimTime::zero() + spec_.warmup);
    // A log directory that outgrows its disk: Kafka's write fails with ENOSPC, the LogDirFailureChannel takes the
    // directory offline and its partitions go offline on this broker (KIP-112). Neither is simulated, so the run
    // stops there with an error rather than going on as if the disk were larger.
    broker->hw->page_cache().set_device_full_listener(
        [this, b, hw = broker->hw.get()](const models::BlockDevice& device, uint64_t file_bytes) {
          if (run_error_) return;
          size_t dir = 0;
          while (dir < hw->disk_count() && &hw->disk(dir) != &device) ++dir;
          KS_ASSERT_LT(dir, hw->disk_count());
          char text[512];
          std::snprintf(text, sizeof text,
                        "at %.3f s simulated, broker-%u's log dir %zu holds %llu bytes, more than its disk's "
                        "capacity_bytes (%llu): Kafka would fail the write with ENOSPC and take the log dir offline, "
                        "which kafkasim does not simulate. Store less (retention.ms or retention.bytes on the topic, "
                        "a shorter duration), spread it (more log_dirs), or use a disk profile with a larger "
                        "capacity_bytes",
                        engine_.now().seconds_f(), b, dir, static_cast<unsigned long long>(file_bytes),
                        static_cast<unsigned long long>(device.capacity_bytes()));
          run_error_ = text;
          engine_.stop();
        });
    // A completed flush advances the log's recovery point, so the next one starts from there.
    broker->hw->storage().set_flush_listener([this, b = broker.get()](uint32_t log_id, int64_t flush_offset) {
      KS_ASSERT_LT(log_id, b->log_partitions.size());
      b->rm->on_flush_completed(b->log_partitions[log_id], flush_offset, engine_.now());
    });
    broker->network_pool = broker->hw->cpu().pool("network");
    broker->processors = std::vector<Processor>(spec_.num_network_threads);  // never resized: Processor is not copyable
    broker->io_pool = broker->hw->cpu().pool("io");
    for (uint32_t source = 0; source < spec_.brokers; ++source)
      for (uint32_t f = 0; f < fetchers; ++f)
        broker->fetcher_pools.push_back(
            broker->hw->cpu().pool("replica-fetcher-" + std::to_string(source) + "-" + std::to_string(f)));
    kafka::BrokerConfig config = spec_.broker_config;
    config.broker_id = broker->id;
    // The metadata cache's broker.rack of every broker (the brokers' registrations).
    config.broker_racks.clear();
    for (uint32_t other = 0; other < spec_.brokers; ++other) config.broker_racks.push_back(rack_name(other % spec_.racks));
    broker->rm = std::make_unique<kafka::ReplicaManager>(config, SimTime::zero());
    if (!spec_.client_quotas.empty()) {
      kafka::ClientQuotas& quotas = client_quotas(*broker);
      for (const ClientQuotaSpec& q : spec_.client_quotas) {
        if (q.producer_byte_rate) quotas.produce.set_quota(q.client_id, *q.producer_byte_rate);
        if (q.consumer_byte_rate) quotas.fetch.set_quota(q.client_id, *q.consumer_byte_rate);
        if (q.request_percentage) quotas.request.set_quota(q.client_id, *q.request_percentage);
      }
      watch_consumer_fetch_quotas(*broker);
    }
    broker->producer_ids = std::make_unique<kafka::ProducerIdManager>(broker->id, static_cast<int32_t>(spec_.brokers));
    broker->fetchers = std::make_unique<kafka::ReplicaFetcherManager>(spec_.fetcher_config, broker->id);
    // TopicConfigHandler: each topic's throttled-replica lists mark this broker's leader and follower quotas.
    const bool any_throttled = std::any_of(spec_.topics.begin(), spec_.topics.end(), [](const TopicSpec& t) {
      return !t.config.leader_throttled_replicas.empty() || !t.config.follower_throttled_replicas.empty();
    });
    if (any_throttled) {
      replication_quotas(*broker);
      for (size_t t = 0; t < spec_.topics.size(); ++t) mark_throttled_replicas(*broker, static_cast<int32_t>(t));
    }
    brokers_.push_back(std::move(broker));
  }
}

void World::create_partitions() {
  // The controller places each topic's replicas when it is created, topics in scenario order, with one random
  // source (QuorumController's StripedReplicaPlacer); broker b is in rack b mod racks, as the fabric has it.
  std::vector<kafka::PlacementBroker> placement_brokers;
  for (uint32_t b = 0; b < spec_.brokers; ++b)
    placement_brokers.push_back({static_cast<NodeId>(b), rack_name(b % spec_.racks)});
  sim::Rng placement_rng = sim::Rng::stream(spec_.seed, "controller/replica-placement");
  replicas_.clear();
  // Topics in spec_ order: the scenario's, then __consumer_offsets (when there are consumers).
  for (const TopicSpec& topic : spec_.topics)
    replicas_.push_back(
        kafka::place_replicas(placement_brokers, topic.partitions, topic.replication_factor, placement_rng));
  for (size_t t = 0; t < spec_.topics.size(); ++t) {
    const TopicSpec& topic = spec_.topics[t];
    for (int32_t p = 0; p < topic.partitions; ++p) {
      const PartitionRef ref{static_cast<int32_t>(t), p};
      const std::vector<NodeId>& replicas = replicas_[t][static_cast<size_t>(p)];
      const NodeId leader = replicas.front();
      // A topic whose min.insync.replicas exceeds its replication factor is under min ISR from the start.
      if (topic.replication_factor <
          topic.config.min_insync_replicas.value_or(spec_.broker_config.min_insync_replicas))
        under_min_isr_.update(ref, true, engine_.now());
      for (NodeId r : replicas) {
        Broker& b = *brokers_[static_cast<size_t>(r)];
        kafka::BrokerOutbox out;
        const uint32_t log_id = b.next_log_id++;
        KS_ASSERT_EQ(b.log_partitions.size(), log_id);
        b.log_partitions.push_back(ref);
        // JBOD: logs are spread over the log dirs round-robin.
        b.hw->storage().assign_log(log_id, log_id % b.hw->disk_count(),
                                   static_cast<uint64_t>(topic.config.log.segment_bytes),
                                   static_cast<uint64_t>(topic.config.log.segment_index_bytes));
        b.rm->add_partition(ref, topic.config, log_id,
                            sim::Rng::stream(spec_.seed, "broker/" + std::to_string(r) + "/log/" + std::to_string(log_id)),
                            engine_.now(), out);
        if (r == leader) {
          b.rm->become_leader(ref, 0, replicas, replicas, engine_.now(), out);
        } else {
          b.rm->become_follower(ref, leader, 0, replicas, engine_.now(), out);
          const kafka::Partition* part = b.rm->partition(ref);
          kafka::PartitionToFetch fetch;
          fetch.topic_name = topic.name;
          fetch.source_broker_id = leader;
          fetch.initial.partition = ref;
          fetch.initial.current_leader_epoch = 0;
          fetch.initial.log_end_offset = part->log_end_offset();
          fetch.initial.log_start_offset = part->log_start_offset();
          fetch.initial.init_offset = part->log_end_offset();
          b.fetchers->add_fetcher_for_partitions(std::span<const kafka::PartitionToFetch>(&fetch, 1), engine_.now());
        }
        dispatch(b, out);
      }
    }
  }
  for (auto& b : brokers_) poll_fetchers(*b);
}

kafka::ProducerMetadata World::metadata() const {
  kafka::ProducerMetadata md;
  for (size_t t = 0; t < spec_.topics.size(); ++t) {
    kafka::TopicMetadata tm;
    for (int32_t p = 0; p < spec_.topics[t].partitions; ++p) {
      tm.partitions.push_back({replicas_[t][static_cast<size_t>(p)].front(), 0});
    }
    md.topics.push_back(std::move(tm));
  }
  return md;
}

void World::start_clients() {
  NodeId next_id = static_cast<NodeId>(spec_.brokers);
  const kafka::ProducerMetadata md = metadata();
  for (size_t s = 0; s < spec_.producers.size(); ++s) {
    const ProducerSpec& ps = spec_.producers[s];
    for (uint32_t i = 0; i < ps.count; ++i) {
      auto c = std::make_unique<ProducerClient>();
      c->id = next_id++;
      c->spec_index = s;
      c->instance = i;
      c->index = producers_.size();
      c->appended_first_record.assign(static_cast<size_t>(spec_.topics[static_cast<size_t>(ps.topic)].partitions), -1);
      client_buffers_[static_cast<size_t>(c->id)] = {ps.config.send_buffer_bytes, ps.config.receive_buffer_bytes};
      tls_[static_cast<size_t>(c->id)] = kafka::encrypts(ps.config.security_protocol) ? 1 : 0;
      client_ids_[static_cast<size_t>(c->id)] =
          ps.config.client_id_config.empty() ? std::string(kDefaultProducerClientId) : ps.config.client_id_config;
      const std::string name = "producer/" + std::to_string(s) + "/" + std::to_string(i);
      c->rng = sim::Rng::stream(spec_.seed, name + "/workload");
      c->producer = std::make_unique<kafka::Producer>(
          kafka::apply_idempotence_default(ps.config, ps.idempotence_set_explicitly), c->id,
          sim::Rng::stream(spec_.seed, name + "/client"));
      c->producer->set_metadata(md);
      c->producer->set_tail_appends_quiet(spec_.quiet_tail_appends);
      c->producer->set_latency_metrics_from(SimTime::zero() + spec_.warmup);
      c->producer->set_timestamp_offset(ps.timestamp_offset);
      // An idempotent producer asks a broker for its id (InitProducerId) at its first poll: producer_dispatch.
      c->least_loaded_rng = sim::Rng::stream(spec_.seed, name + "/least-loaded-node");
      c->producer->set_compression(ps.topic, compression_.producer_compression(s));
      // TCP flow control on each producer connection: a muted connection leaves its requests in the broker's
      // socket receive buffer (socket.receive.buffer.bytes, default 102400), and once that is full the
      // producer's sends stop completing, so acks=0 cannot outrun the broker (kafka-behaviour.md §2.1).
      for (NodeId b = 0; b < static_cast<NodeId>(spec_.brokers); ++b)
        network_->set_receive_buffer(host_of(c->id), host_of(b), producer_connection_receive_buffer(),
                                     flow_tag(Leg::request, 0));
      c->channel_to_broker.assign(spec_.brokers, 0);
      producer_processes_.push_back({c.get()});
      producers_.push_back(std::move(c));
    }
  }
  for (auto& c : producers_) start_producer(*c);
  for (const TopicSpec& topic : spec_.topics) acked_offsets_.emplace_back(static_cast<size_t>(topic.partitions));
  // The members of a group on a topic, over all its member entries, in entry order: each entry's first member's
  // place among them, and how many there are.
  std::vector<uint32_t> first_member(spec_.consumers.size(), 0);
  std::map<std::pair<std::string, int32_t>, uint32_t> group_members;
  for (size_t s = 0; s < spec_.consumers.size(); ++s) {
    const ConsumerSpec& cs = spec_.consumers[s];
    if (cs.group.empty() || !cs.partitions.empty()) continue;
    uint32_t& members = group_members[{cs.group, cs.topic}];
    first_member[s] = members;
    members += cs.count;
  }
  for (size_t s = 0; s < spec_.consumers.size(); ++s) {
    const ConsumerSpec& cs = spec_.consumers[s];
    const TopicSpec& topic = spec_.topics[static_cast<size_t>(cs.topic)];
    const auto shared = group_members.find({cs.group, cs.topic});
    const uint32_t all_members =
        !cs.group.empty() && cs.partitions.empty() && shared != group_members.end() ? shared->second : cs.count;
    delivered_next_.emplace_back(static_cast<size_t>(topic.partitions), 0);
    positioned_at_.emplace_back(static_cast<size_t>(topic.partitions), 0);
    for (uint32_t i = 0; i < cs.count; ++i) {
      auto c = std::make_unique<ConsumerClient>();
      c->id = next_id++;
      c->spec_index = s;
      client_buffers_[static_cast<size_t>(c->id)] = {cs.config.send_buffer_bytes, cs.config.receive_buffer_bytes};
      tls_[static_cast<size_t>(c->id)] = kafka::encrypts(cs.config.security_protocol) ? 1 : 0;
      client_ids_[static_cast<size_t>(c->id)] = consumer_client_id(cs);
      c->per_record = cs.processing_time_per_record;
      c->config = cs.config;
      kafka::ConsumerConfig config = cs.config;
      config.client_id = c->id;
      const std::string name = "consumer/" + std::to_string(s) + "/" + std::to_string(i);
      c->consumer = std::make_unique<kafka::KafkaConsumer>(config, md, engine_.now(),
                                                           sim::Rng::stream(spec_.seed, name + "/client"));
      c->least_loaded_rng = sim::Rng::stream(spec_.seed, name + "/least-loaded-node");
      c->commit_backoff_rng = sim::Rng::stream(spec_.seed, name + "/commit-backoff");
      // Static assignment, as the classic protocol's default assignor (partition.assignment.strategy = [RangeAssignor,
      // CooperativeStickyAssignor], kafka-behaviour.md §5.5) gives it to a fresh group: contiguous ranges in
      // partition order, the first P mod n members one partition more, members in the order of their index (Kafka
      // orders them by member id, which it draws at random). Their positions come from the group's committed
      // offsets, else from auto.offset.reset (kafka-behaviour.md §5.7): the application's first poll() finds the
      // coordinator and fetches the committed offsets (ConsumerCoordinator.initWithCommittedOffsetsIfNeeded) before
      // it resets the other partitions with ListOffsets and fetches.
      // An entry with its own partitions (assign()) splits them the same way, in ascending order. Members of one
      // group on one topic in several entries are ranked entry by entry.
      std::vector<kafka::PartitionAssignment> assignment;
      const auto members = static_cast<int32_t>(all_members);
      const auto member = static_cast<int32_t>(first_member[s] + i);
      const auto read = cs.partitions.empty() ? topic.partitions : static_cast<int32_t>(cs.partitions.size());
      const int32_t per_member = read / members, extra = read % members;
      const int32_t first = member * per_member + std::min(member, extra);
      const int32_t count = per_member + (member < extra ? 1 : 0);
      for (int32_t k = first; k < first + count; ++k) {
        const int32_t p = cs.partitions.empty() ? k : cs.partitions[static_cast<size_t>(k)];
        assignment.push_back({PartitionRef{cs.topic, p}, std::nullopt});
      }
      c->assignment = std::move(assignment);
      c->group_consumed = &group_consumed_[cs.group.empty() ? client_ids_[static_cast<size_t>(c->id)] : cs.group];
      ConsumerClient* client = c.get();
      consumers_.push_back(std::move(c));
      engine_.schedule_at(SimTime::zero() + cs.start_at, [this, client] { start_consumer(*client); });
    }
  }
  // Per client.id figures (WorldSummary::clients) only where they say more than the totals.
  std::set<std::string> producer_ids, consumer_ids;
  for (const auto& c : producers_) producer_ids.insert(client_ids_[static_cast<size_t>(c->id)]);
  for (const auto& c : consumers_) consumer_ids.insert(client_ids_[static_cast<size_t>(c->id)]);
  if (producer_ids.size() > 1 || consumer_ids.size() > 1) {
    for (auto& c : producers_) {
      c->id_stats = &client_id_stats_[client_ids_[static_cast<size_t>(c->id)]];
      c->id_stats->producer = true;
    }
    for (auto& c : consumers_) {
      c->id_stats = &client_id_stats_[client_ids_[static_cast<size_t>(c->id)]];
      c->id_stats->consumer = true;
    }
  }
}

// Every connection's TCP window (models/network.hpp, "TCP send window"): min(the sender's SO_SNDBUF, the
// receiver's SO_RCVBUF), each as Kafka sets it, -1 being the OS's autotuned buffer. A connection's window is fixed
// when its first message creates it: a client's requests and the broker's responses (on every channel: a
// consumer's coordinator connection too), and each follower fetcher's fetch requests and the leader's responses
// (the fetcher's send buffer is the OS default, ReplicaFetcherBlockingSend's Selectable.USE_DEFAULT_BUFFER_SIZE).
uint64_t World::window_bytes(models::HostId src, models::HostId dst, uint32_t tag) const {
  auto send_buffer = [](int64_t bytes) { return bytes < 0 ? WorldSpec::os_send_buffer_bytes : bytes; };
  auto receive_buffer = [](int64_t bytes) { return bytes < 0 ? WorldSpec::os_receive_buffer_bytes : bytes; };
  const NodeId from = node_of_host_[src.value], to = node_of_host_[dst.value];
  const auto brokers = static_cast<NodeId>(spec_.brokers);
  const bool request = tag % 2 == static_cast<uint32_t>(Leg::request);
  int64_t sndbuf = 0, rcvbuf = 0;
  if (from < brokers && to < brokers) {
    // Broker to broker: the follower's fetch requests, the leader's responses.
    sndbuf = request ? -1 : spec_.socket_send_buffer_bytes;
    rcvbuf = request ? spec_.socket_receive_buffer_bytes : spec_.replica_socket_receive_buffer_bytes;
  } else if (from >= brokers && to < brokers) {
    sndbuf = client_buffers_[static_cast<size_t>(from)].first;
    rcvbuf = spec_.socket_receive_buffer_bytes;
  } else if (from < brokers && to >= brokers) {
    sndbuf = spec_.socket_send_buffer_bytes;
    rcvbuf = client_buffers_[static_cast<size_t>(to)].second;
  } else {
    return 0;  // clients do not talk to each other
  }
  const int64_t bytes = std::min(send_buffer(sndbuf), receive_buffer(rcvbuf));
  KS_ASSERT_GT(bytes, 0);
  return static_cast<uint64_t>(bytes);
}

uint64_t World::producer_connection_receive_buffer() const {
  return static_cast<uint64_t>(spec_.socket_receive_buffer_bytes < 0 ? WorldSpec::os_receive_buffer_bytes
                                                                     : spec_.socket_receive_buffer_bytes);
}

// ------------------------------------------------------------------------------------------------
// Transport

models::HostId World::host_of(NodeId node) const {
  KS_ASSERT_GE(node, 0);
  KS_ASSERT_LT(static_cast<size_t>(node), hosts_.size());
  return hosts_[static_cast<size_t>(node)];
}

models::MessageId World::send(NodeId from, NodeId to, Leg leg, int32_t channel, int64_t message_bytes,
                              sim::Callback on_delivered, sim::Callback on_departed) {
  KS_ASSERT_GT(message_bytes, 0);
  KS_ASSERT_GE(channel, 0);
  KS_ASSERT(from >= 0 && to >= 0);
  // A connection's client end (a producer, a consumer, or the follower of two brokers: node ids are brokers first,
  // and followers are the only brokers that connect to brokers) decides its security protocol.
  const int64_t bytes = wire_bytes(std::max(from, to), message_bytes);
  const uint32_t tag = flow_tag(leg, channel);
  if (engine_.now() >= SimTime::zero() + spec_.warmup) {
    // Which kind of connection: one end is a client (a producer or a consumer) or both are brokers.
    KS_ASSERT(from >= 0 && to >= 0 && static_cast<size_t>(std::max(from, to)) < host_racks_.size());
    const NodeId client = std::max(from, to);
    const size_t kind = client < static_cast<NodeId>(spec_.brokers) ? 1 : client < first_consumer_node_ ? 0 : 2;
    traffic_[kind].total += bytes;
    if (host_racks_[static_cast<size_t>(from)] != host_racks_[static_cast<size_t>(to)]) traffic_[kind].cross_rack += bytes;
  }
  // A broker's JVM reads every message it receives into a heap buffer (NetworkReceive): that allocation is what
  // fills eden and triggers young GCs (HostHardware::jvm_allocate).
  if (to >= 0 && static_cast<size_t>(to) < brokers_.size() && brokers_[static_cast<size_t>(to)]->hw->young_gc()) {
    // (The request's own bytes: SslTransportLayer decrypts into buffers it keeps for the connection's life.)
    on_delivered = [this, to, message_bytes, done = std::move(on_delivered)]() mutable {
      const Duration pause = brokers_[static_cast<size_t>(to)]->hw->jvm_allocate(static_cast<uint64_t>(message_bytes));
      if (pause > Duration::zero())
        events_.push_back({{"time_s", engine_.now().seconds_f()},
                           {"type", "young_gc"},
                           {"broker", to},
                           {"pause_ms", pause.ms_f()}});
      done();
    };
  }
  return network_->send(host_of(from), host_of(to), static_cast<uint64_t>(bytes), std::move(on_delivered), nullptr,
                        std::move(on_departed), tag);
}

// A request arrives at a broker on the connection from `client`. Kafka's SocketServer mutes a connection once
// it has read a request from it and unmutes it when the response has been sent (or at once when there is none,
// acks=0), so a broker works on one request per connection at a time; later requests wait in the socket
// (kafka-behaviour.md §2.1). A producer's max.in.flight.requests.per.connection therefore overlaps network
// transfer, not broker processing.
void World::on_request_arrival(Broker& b, NodeId client, int64_t request_bytes, sim::Callback handle,
                               int32_t channel) {
  Connection& conn = connection(b, client, channel);
  const Duration tls = tls_receive(client, request_bytes, spec_.cpu_costs);
  if (conn.muted) {
    conn.waiting.emplace_back(std::move(handle), tls);
    if (conn.waiting.size() == 1) conn.backlog.set_busy(engine_.now(), 1);
    return;
  }
  conn.muted = true;
  process_request(b, client, channel, tls, std::move(handle));
}

void World::unmute(Broker& b, NodeId client, int32_t channel) {
  Connection& conn = connection(b, client, channel);
  KS_ASSERT(conn.muted);
  // A throttled channel stays muted until its throttle ends too (MUTED_AND_THROTTLED, §10.5); a throttle that grows
  // meanwhile defers it again.
  if (conn.throttle_end > engine_.now()) {
    if (!conn.unmute_scheduled) {
      conn.unmute_scheduled = true;
      conn.throttled.set_busy(engine_.now(), 1);
      engine_.schedule_at(conn.throttle_end, [this, &b, client, channel] {
        Connection& c = connection(b, client, channel);
        c.unmute_scheduled = false;
        if (c.throttle_end <= engine_.now()) c.throttled.set_busy(engine_.now(), 0);
        unmute(b, client, channel);
      });
    }
    return;
  }
  conn.muted = false;
  if (conn.waiting.empty()) return;
  auto [next, tls] = std::move(conn.waiting.front());
  conn.waiting.pop_front();
  if (conn.waiting.empty()) conn.backlog.set_busy(engine_.now(), 0);
  conn.muted = true;
  process_request(b, client, channel, tls, std::move(next));
}

// A connection is accepted when its first request arrives (the model has no separate connect step). Kafka's
// Acceptor hands each accepted connection to the next processor, round-robin (SocketServer.Acceptor
// assignNewConnection, currentProcessorIndex), whoever the client is: a follower's fetcher threads, each with
// its own connection, may land on different processors.
World::Connection& World::connection(Broker& b, NodeId client, int32_t channel) {
  if (Connection* known = b.find_connection(client, channel)) [[likely]]
    return *known;
  KS_ASSERT_GE(client, 0);
  KS_ASSERT_GE(channel, 0);
  const auto c = static_cast<size_t>(client), ch = static_cast<size_t>(channel);
  if (b.connections.size() <= c) b.connections.resize(c + 1);
  if (b.connections[c].size() <= ch) b.connections[c].resize(ch + 1);
  auto& accepted = b.connections[c][ch];
  accepted = std::make_unique<Connection>();
  accepted->processor = b.next_processor;
  b.next_processor = (b.next_processor + 1) % static_cast<uint32_t>(b.processors.size());
  return *accepted;
}

// A network thread reads (over TLS: decrypts, `tls`) and parses the request, then it waits in the request queue for
// an I/O thread (SocketServer Processor -> RequestChannel -> KafkaRequestHandler, §2.1).
void World::process_request(Broker& b, NodeId client, int32_t channel, Duration tls, sim::Callback handle) {
  on_processor(b, client, channel, [this, &b, client, channel, tls, handle = std::move(handle)]() mutable {
    const Duration read_cost = spec_.network_thread_request_cost + charge_tls(TlsWork::broker_network, tls);
    b.hw->cpu().submit(b.network_pool, read_cost,
                       [this, &b, client, channel, read_cost, handle = std::move(handle)]() mutable {
                         // RequestChannel.Request's startTimeNanos: parsed, handed to the request queue.
                         Connection& conn = connection(b, client, channel);
                         conn.times = RequestTimes{.start = engine_.now()};
                         conn.network_time = read_cost;
                         ++conn.requests_started;
                         enqueue_request(b, client, channel, std::move(handle));
                       });
  });
}

// RequestChannel.sendRequest puts the request into the request queue, an ArrayBlockingQueue of queued.max.requests:
// while it is full the processor blocks in put(), holding every connection it owns, and the I/O thread that takes a
// request from the queue wakes the processor that blocked first (Broker::blocked_hand_offs).
void World::enqueue_request(Broker& b, NodeId client, int32_t channel, sim::Callback handle) {
  // The I/O thread that takes the request handles it (KafkaRequestHandler: receiveRequest, then apis.handle): `handle`
  // runs when a thread takes the request, which stays held for the handler's work (continue_held). An idle thread
  // takes it at once, without the event a queued request needs.
  if (b.hw->cpu().try_take_thread(b.io_pool)) {
    KS_ASSERT(b.blocked_hand_offs.empty());  // an idle I/O thread means an empty queue
    release_processor(b, client, channel);
    handle();
    return;
  }
  sim::Callback queued = taken_from_queue(b, std::move(handle));
  // Processors already blocked go first: the queue is full for this one too.
  if (!b.blocked_hand_offs.empty()) {
    b.blocked_hand_offs.push_back({client, channel, std::move(queued)});
    return;
  }
  const auto status = b.hw->cpu().try_submit_and_hold(b.io_pool, Duration::zero(), queued);
  if (status == models::SubmitStatus::kQueueFull) {
    b.blocked_hand_offs.push_back({client, channel, std::move(queued)});
    return;
  }
  release_processor(b, client, channel);
}

// `handle` for a request that goes through the request queue: when an I/O thread takes it, the queue has room for
// the request of the first blocked processor, which then goes on.
sim::Callback World::taken_from_queue(Broker& b, sim::Callback handle) {
  return [this, &b, handle = std::move(handle)]() mutable {
    if (!b.blocked_hand_offs.empty()) {
      Broker::BlockedHandOff next = std::move(b.blocked_hand_offs.front());
      b.blocked_hand_offs.pop_front();
      const auto status = b.hw->cpu().try_submit_and_hold(b.io_pool, Duration::zero(), next.queued);
      KS_ASSERT(status != models::SubmitStatus::kQueueFull);
      release_processor(b, next.client, next.channel);
    }
    handle();
  };
}

// Each connection belongs to one of the broker's num.network.threads processors, the one the Acceptor gave it
// (World::connection). A processor does one thing at a time, and a sendfile that misses the page cache blocks it
// until the disk has read the data, delaying every other connection of that processor (KAFKA-7504,
// hardware-models.md §3.7).
World::Processor& World::processor_of(Broker& b, NodeId client, int32_t channel) {
  const Connection* conn = b.find_connection(client, channel);
  KS_ASSERT(conn != nullptr);
  return b.processors[conn->processor];
}

void World::on_processor(Broker& b, NodeId client, int32_t channel, sim::Callback work) {
  Processor& p = processor_of(b, client, channel);
  if (p.busy) {
    p.waiting.push_back(std::move(work));
    return;
  }
  start_on_processor(p, work);
}

void World::start_on_processor(Processor& p, sim::Callback& work) {
  p.busy = true;
  p.meter.set_busy(engine_.now(), 1);
  work();
}

void World::release_processor(Broker& b, NodeId client, int32_t channel) {
  Processor& p = processor_of(b, client, channel);
  KS_ASSERT(p.busy);
  p.busy = false;
  p.meter.set_busy(engine_.now(), 0);
  if (p.waiting.empty()) return;
  sim::Callback next = std::move(p.waiting.front());
  p.waiting.pop_front();
  start_on_processor(p, next);
}

// ---- Client quotas (kafka-behaviour-2.md §10) ----

namespace {

int64_t now_ms_of(SimTime now) { return now.ns() / 1'000'000; }  // time.milliseconds()

// RequestChannel.Request.requestThreadTimeNanos: from the I/O thread's dequeue to the handler's local completion (now
// when it has not completed yet).
int64_t request_thread_ns(const RequestTimes& t, SimTime now) {
  if (t.dequeue == SimTime::max()) return 0;
  const SimTime end = t.local_complete != SimTime::max() ? t.local_complete : now;
  return std::max<int64_t>((end - t.dequeue).ns(), 0);
}

}  // namespace

std::optional<int64_t> World::BrokerFetchQuota::max_fetch_bytes(NodeId client) const {
  const std::optional<double> cap =
      broker_.quotas->fetch.max_value_in_quota_window(world_.client_ids_[static_cast<size_t>(client)]);
  if (!cap) return std::nullopt;
  return static_cast<int64_t>(std::min(*cap, static_cast<double>(std::numeric_limits<int32_t>::max())));
}

// KafkaApis.handleProduceRequest's sendResponseCallback: the request's bytes against producer_byte_rate and (not for
// acks=0) its thread time against request_percentage; the larger throttle mutes the channel.
int32_t World::produce_throttle(Broker& b, NodeId client, int32_t channel, bool acks_zero) {
  if (b.quotas == nullptr) return 0;
  const Connection& conn = connection(b, client, channel);
  const std::string& id = client_ids_[static_cast<size_t>(client)];
  const SimTime now = engine_.now();
  const int64_t bandwidth = b.quotas->produce.record_and_get_throttle_ms(id, static_cast<double>(conn.request_bytes),
                                                                          now_ms_of(now));
  const int64_t request =
      acks_zero ? 0
                : b.quotas->request.record_and_get_throttle_ms(
                      id, kafka::thread_time_percent(request_thread_ns(conn.times, now)), now_ms_of(now));
  // ThrottleTimeMs is an int32 on the wire; the mute lasts what the response says.
  const int64_t throttle = std::min<int64_t>(std::max(bandwidth, request), std::numeric_limits<int32_t>::max());
  if (throttle > 0) throttle_connection(b, client, channel, throttle);
  if (b.quotas->produce.quota_for(id) || (!acks_zero && b.quotas->request.quota_for(id)))
    count_quota_response(client, false, throttle, conn.request_bytes);
  return static_cast<int32_t>(throttle);
}

// KafkaApis.handleFetchRequest's processResponseCallback for a consumer: the request's thread time against
// request_percentage, the response's bytes against consumer_byte_rate; when throttled the bytes are unrecorded and
// the fetch answers with no data (ReplicaManager::send_fetch_response).
int32_t World::consumer_fetch_throttle(Broker& b, const kafka::FetchRequest& read, int64_t response_bytes) {
  KS_ASSERT(b.quotas != nullptr);
  const NodeId client = read.client_id;
  const int32_t channel = fetch_channel(client, read.correlation_id);
  const Connection& conn = connection(b, client, channel);
  const std::string& id = client_ids_[static_cast<size_t>(client)];
  const SimTime now = engine_.now();
  const int64_t request = b.quotas->request.record_and_get_throttle_ms(
      id, kafka::thread_time_percent(request_thread_ns(conn.times, now)), now_ms_of(now));
  const int64_t bandwidth =
      b.quotas->fetch.record_and_get_throttle_ms(id, static_cast<double>(response_bytes), now_ms_of(now));
  const int64_t throttle = std::min<int64_t>(std::max(bandwidth, request), std::numeric_limits<int32_t>::max());
  if (throttle > 0) {
    b.quotas->fetch.unrecord(id, static_cast<double>(response_bytes), now_ms_of(now));
    throttle_connection(b, client, channel, throttle);
  }
  if (b.quotas->fetch.quota_for(id) || b.quotas->request.quota_for(id))
    count_quota_response(client, true, throttle, throttle > 0 ? 0 : response_bytes);
  return static_cast<int32_t>(throttle);
}

// RequestChannel.Request.recordNetworkThreadTimeCallback: once its response is on its way, a request's network-thread
// time (reading it, and `response_cost` for its response) counts against the request quota without a check, so it
// weighs on the next request's (§10.4).
void World::record_network_time(Broker& b, NodeId client, int32_t channel, Duration response_cost) {
  if (b.quotas == nullptr || !b.quotas->request.enabled()) return;
  const Connection& conn = connection(b, client, channel);
  b.quotas->request.record_no_throttle(client_ids_[static_cast<size_t>(client)],
                                       kafka::thread_time_percent((conn.network_time + response_cost).ns()),
                                       now_ms_of(engine_.now()));
}

// ThrottledChannel: the channel is muted from now until now + throttle (a later throttle can only extend it).
void World::throttle_connection(Broker& b, NodeId client, int32_t channel, int64_t throttle_ms) {
  Connection& conn = connection(b, client, channel);
  conn.throttle_end = std::max(conn.throttle_end, engine_.now() + Duration::from_ms(throttle_ms));
}

void World::count_quota_response(NodeId client, bool fetch, int64_t throttle_ms, int64_t bytes) {
  if (engine_.now() < SimTime::zero() + spec_.warmup) return;
  QuotaCount& c = quota_counts_[client_ids_[static_cast<size_t>(client)]][fetch ? 1 : 0];
  ++c.responses;
  if (throttle_ms > 0) ++c.throttled;
  c.throttle_ms_total += throttle_ms;
  c.throttle_ms_max = std::max(c.throttle_ms_max, throttle_ms);
  c.bytes += bytes;
}

int64_t World::wire_bytes(NodeId client, int64_t message_bytes) const {
  return tls_connection(client) ? tls_wire_bytes(message_bytes) : message_bytes;
}

Duration World::tls_receive(NodeId client, int64_t bytes, const CpuCosts& worker) const {
  return tls_connection(client) ? tls_receive_cost(worker, bytes) : Duration::zero();
}

Duration World::tls_send(NodeId client, int64_t bytes, const CpuCosts& worker) const {
  return tls_connection(client) ? tls_send_cost(worker, bytes) : Duration::zero();
}

Duration World::charge_tls(TlsWork who, Duration cost) {
  if (cost > Duration::zero() && engine_.now() >= SimTime::zero() + spec_.warmup) tls_cpu_[static_cast<size_t>(who)] += cost;
  return cost;
}

// ------------------------------------------------------------------------------------------------
// Brokers

Duration World::crc_cost(int64_t bytes, const CpuCosts& worker) const {
  const double crc_rate = worker.crc32c_bytes_per_s * worker.desktop_to_server_scale;
  return crc_rate > 0 ? Duration::from_seconds_ceil(static_cast<double>(bytes) / crc_rate) : Duration::zero();
}

void World::handle_produce(Broker& b, kafka::ProduceRequest request) {
  // The I/O thread's CPU: a fixed cost per request plus CRC32C over the produced bytes (LogValidator checks
  // every batch's CRC, hardware-models.md §5.3). The state change happens when that work is done.
  int64_t bytes = 0;
  // message.timestamp.type=LogAppendTime: DefaultRecordBatch.setMaxTimestamp rewrites each batch's header and
  // computes its CRC32C again (a batch the leader recompresses gets its CRC once, when rebuilt: counted the same [A]).
  int64_t restamped_bytes = 0;
  for (const auto& p : request.partitions) {
    bytes += p.batch.size_bytes;
    if (spec_.topics[static_cast<size_t>(p.partition.topic)].config.log.log_append_time)
      restamped_bytes += p.batch.size_bytes;
  }
  // LogValidator also decompresses compressed batches, and recompresses them for another topic codec.
  ProducerClient& from = producer_of_request(request.client_id, request.correlation_id);
  KS_ASSERT_EQ(from.id, request.client_id);
  const Duration codec_cost = compression_.validate_produce(from.spec_index, request);
  const Duration cost = spec_.cpu_costs.request_fixed_cost + codec_cost + crc_cost(bytes) + crc_cost(restamped_bytes);
  const int32_t channel = from.channel_of(request.correlation_id);
  Connection& conn_in = connection(b, request.client_id, channel);
  conn_in.times.dequeue = engine_.now();
  conn_in.request_bytes = kafka::wire_size_bytes(request);
  // The I/O thread that appends is the one that calls write(): when balance_dirty_pages throttles the write
  // (dirty pages over the limit), the request handler thread sleeps in it and serves nobody else meanwhile.
  b.hw->cpu().continue_held(b.io_pool, cost, [this, &b, &from, channel, request = std::move(request)] {
    // A request carries at most one batch per partition, so a log end offset that moved means its batch was
    // appended (a retry the leader already has is answered with its original offsets and appends nothing).
    produce_leo_scratch_.clear();
    for (const auto& p : request.partitions) {
      const kafka::Partition* partition = b.rm->partition(p.partition);
      produce_leo_scratch_.push_back(partition != nullptr ? partition->log_end_offset() : -1);
    }
    kafka::BrokerOutbox out;
    b.rm->handle_produce(request, engine_.now(), out);
    for (size_t i = 0; i < request.partitions.size(); ++i) {
      const kafka::Partition* partition = b.rm->partition(request.partitions[i].partition);
      const bool appended = partition != nullptr && partition->log_end_offset() != produce_leo_scratch_[i];
      if (appended) {
        // The durability check's ordering: a batch whose first record the producer sent before the first record of
        // a batch already appended to this partition (a retry landing behind later batches, or a second copy)
        // puts records after records sent later.
        const kafka::RecordBatch& batch = request.partitions[i].batch;
        int64_t& last = from.appended_first_record[static_cast<size_t>(request.partitions[i].partition.partition)];
        if (batch.first_record_number <= last) {
          appended_out_of_order_ += static_cast<uint64_t>(batch.record_count);
        } else {
          last = batch.first_record_number;
        }
      }
      const auto it = sent_batches_.find(request.partitions[i].batch.tag);
      if (it == sent_batches_.end()) continue;
      SentBatch& sent = it->second;
      // Zero only for an entry made anew after every group had read the batch (a non-idempotent producer's retry,
      // sent after an earlier copy was appended and read), whose count misses requests sent before it.
      if (sent.requests_unhandled > 0) --sent.requests_unhandled;
      if (appended) {
        // A second copy in the log (a non-idempotent retry of a batch already appended): every group will poll, or
        // skip, its records too, so its reads are counted as the first copy's were.
        if (sent.appended)
          sent.reads_left += readers_of(request.partitions[i].partition) * static_cast<int64_t>(sent.intended.size());
        sent.appended = true;
        ++sent.copies;
      }
      // The producer gave up on it before this request, the last that could append it, was handled.
      if (sent.never_in_a_log()) sent_batches_.erase(it);
    }
    // acks=0 has no response: the processor unmutes the connection as soon as the request is handled, and the
    // request's metrics end when the handler is done (a NoOpResponse).
    const NodeId client = request.client_id;
    const bool no_response = request.acks == 0;
    const Connection& conn = connection(b, client, channel);
    const RequestTimes times = conn.times;
    const uint64_t number = conn.requests_started;
    dispatch(b, out, [this, &b, client, channel, no_response, times, number] {
      b.hw->cpu().release_thread(b.io_pool);
      const SimTime now = engine_.now();
      if (no_response) {
        RequestTimes t = times;
        t.local_complete = t.response_complete = t.response_dequeue = now;
        if (t.start != SimTime::max()) request_metrics_.on_completed(RequestKind::produce, t, now);
        return;
      }
      // KafkaApis.handle's end; a response completed before it (its purgatory done first) set it already, and the
      // connection may have gone on to its next request since.
      Connection& c = connection(b, client, channel);
      if (c.requests_started == number && c.times.local_complete == SimTime::max()) c.times.local_complete = now;
    });
    if (no_response) {
      from.request_channel.erase(request.correlation_id);
      // acks=0 has no response to carry a throttle, but the producer quota still mutes the channel (§10.4).
      produce_throttle(b, client, channel, true);
      record_network_time(b, client, channel, Duration::zero());
      unmute(b, client, channel);
    }
  }, true);
}

void World::handle_fetch(Broker& b, kafka::FetchRequest request) {
  Duration cost = spec_.cpu_costs.request_fixed_cost;
  // A follower fetch reads every partition of its fetch session, not only those listed in an incremental
  // request (KIP-227: IncrementalFetchContext.foreachPartition feeds fetchMessages): each read costs the idle
  // partition cost, and each partition that returns records the full per-partition cost (charged below, once the
  // read has shown which).
  const bool follower = request.replica_id >= 0;
  if (follower)
    cost += spec_.cpu_costs.replica_fetch_idle_partition_cost *
            static_cast<int64_t>(b.rm->fetch_partitions_to_read(request));
  // Connections are never forgotten and never move (Broker::connections): the pointer outlives the request.
  Connection* const conn = &connection(b, request.client_id, fetch_channel(request.client_id, request.correlation_id));
  conn->times.dequeue = engine_.now();
  b.hw->cpu().continue_held(b.io_pool, cost, [this, &b, conn, follower, request = std::move(request)] {
    kafka::BrokerOutbox out;
    b.rm->handle_fetch(request, engine_.now(), out);
    // The partitions of this follower's answer that carry records; what completes with the fetch (produces whose
    // high watermark it moved) goes out after their work, as KafkaApis runs tryCompleteActions after the fetch's
    // response callback.
    int64_t with_records = 0;
    if (follower)
      for (const auto& r : out.fetch_responses)
        if (r.destination == request.replica_id && r.response.correlation_id == request.correlation_id)
          for (const auto& p : r.response.partitions) with_records += p.slice.bytes > 0 ? 1 : 0;
    if (with_records == 0) {
      // The handler's work (reading the logs) is done when its CPU time is: KafkaApis.handle returns.
      b.hw->cpu().release_thread(b.io_pool);
      conn->times.local_complete = engine_.now();
      dispatch(b, out);
      return;
    }
    const Duration records_cost =
        (spec_.cpu_costs.replica_fetch_partition_cost - spec_.cpu_costs.replica_fetch_idle_partition_cost) *
        with_records;
    b.hw->cpu().continue_held(b.io_pool, records_cost, [this, &b, conn, out = std::move(out)]() mutable {
      conn->times.local_complete = engine_.now();
      dispatch(b, out);
    }, false);
  }, true);
}

int32_t World::fetch_channel(NodeId client, uint64_t correlation_id) const {
  if (client < 0 || client >= static_cast<NodeId>(spec_.brokers)) return 0;
  const Broker& follower = *brokers_[static_cast<size_t>(client)];
  const auto key = follower.fetch_keys.find(correlation_id);
  return key != follower.fetch_keys.end() ? key->second.first.fetcher_id : 0;
}

void World::IsrStretches::update(PartitionRef partition, bool below, SimTime now) {
  const auto it = since.find(partition);
  if (below && it == since.end()) {
    since.emplace(partition, now);
  } else if (!below && it != since.end()) {
    total += now - it->second;
    if (!longest || now - it->second > longest->end - longest->start) longest = Stretch{partition, it->second, now};
    since.erase(it);
  }
}

WorldSummary::UnderReplicated World::IsrStretches::report(SimTime now, const std::vector<TopicSpec>& topics) const {
  Duration sum = total;
  std::optional<Stretch> worst = longest;
  bool open = false;
  for (const auto& [partition, start] : since) {  // partition order: the first of equal stretches wins
    sum += now - start;
    if (!worst || now - start > worst->end - worst->start) {
      worst = Stretch{partition, start, now};
      open = true;
    }
  }
  WorldSummary::UnderReplicated r;
  r.partition_seconds = sum.seconds_f();
  r.at_end = since.size();
  if (worst) {
    r.longest_partition =
        topics[static_cast<size_t>(worst->partition.topic)].name + "-" + std::to_string(worst->partition.partition);
    r.longest_start_s = worst->start.seconds_f();
    if (!open) r.longest_end_s = worst->end.seconds_f();
    r.longest_s = (worst->end - worst->start).seconds_f();
  }
  return r;
}

// Runs the storage operations of an outbox, then sends its responses: an append's write() returns before the
// handler answers, and fetches completed by that append read what it wrote.
void World::dispatch(Broker& b, kafka::BrokerOutbox& out, std::function<void()> stored) {
  // PartitionWriter.Listener.onHighWatermarkUpdated: the coordinator's writes committed by this advance are answered.
  for (const auto& advance : out.high_watermark_advances) {
    if (advance.partition.topic != offsets_topic_) continue;
    std::vector<kafka::CoordinatorWrites::Completion> settled;
    b.coordinator.on_high_watermark(advance.partition.partition, advance.new_high_watermark, settled);
    coordinator_settled(b, settled);
  }
  for (const auto& change : out.isr_changes) {
    const bool shrink = change.kind == kafka::IsrChangeKind::shrink;
    if (shrink) ++b.isr_shrinks;
    else ++b.isr_expands;
    // Under-replicated while the ISR is smaller than the replica set (the replication factor: no reassignments),
    // under min ISR while it is smaller than min.insync.replicas.
    const TopicSpec& topic = spec_.topics[static_cast<size_t>(change.partition.topic)];
    const size_t isr = change.new_isr.size();
    under_replicated_.update(change.partition, isr < static_cast<size_t>(topic.replication_factor), change.time);
    const int32_t min_isr = topic.config.min_insync_replicas.value_or(spec_.broker_config.min_insync_replicas);
    under_min_isr_.update(change.partition, isr < static_cast<size_t>(min_isr), change.time);
    events_.push_back({{"time_s", change.time.seconds_f()},
                       {"type", shrink ? "isr_shrink" : "isr_expand"},
                       {"broker", b.id},
                       {"topic", spec_.topics[static_cast<size_t>(change.partition.topic)].name},
                       {"partition", change.partition.partition},
                       {"leader_epoch", change.leader_epoch},
                       {"old_isr", change.old_isr},
                       {"new_isr", change.new_isr}});
  }
  // Responses go out after the storage work the same handler queued (if any) has completed.
  auto respond = [this, &b](std::vector<kafka::OutgoingProduceResponse>& produce,
                            std::vector<kafka::OutgoingFetchResponse>& fetch) {
    for (auto& r : produce) {
      const int64_t bytes = kafka::wire_size_bytes(r.response);
      const NodeId dest = r.destination;
      ProducerClient& to = producer_of_request(dest, r.response.correlation_id);
      const int32_t channel = to.channel_of(r.response.correlation_id);
      Connection* const conn = &connection(b, dest, channel);
      response_completed(conn->times, engine_.now());
      // KafkaApis' sendResponseCallback: the quotas see the request now that its response is ready (§10.4).
      r.response.throttle_time_ms = produce_throttle(b, dest, channel, false);
      on_processor(b, dest, channel, [this, &b, &to, dest, channel, bytes, conn, response = std::move(r.response)]() mutable {
        RequestTimes& t = conn->times;
        t.response_dequeue = engine_.now();
        const Duration send_cost =
            spec_.network_thread_request_cost + charge_tls(TlsWork::broker_network, tls_send(dest, bytes, spec_.cpu_costs));
        b.hw->cpu().submit(b.network_pool, send_cost,
                           [this, &b, &to, dest, channel, bytes, send_cost, times = t, response = std::move(response)] {
                             to.request_channel.erase(response.correlation_id);
                             record_network_time(b, dest, channel, send_cost);
                             unmute(b, dest, channel);
                             send(b.id, dest, Leg::response, channel, bytes, [this, &to, response] {
                               // An answer to a process that has died since (producer_restart) reaches nobody.
                               if (to.dead) return;
                               flush_quiet_sends(to);
                               kafka::ProducerOutbox pout;
                               to.producer->on_produce_response(response, engine_.now(), pout);
                               producer_dispatch(to, pout);
                             }, [this, times] {
                               if (times.start != SimTime::max())
                                 request_metrics_.on_completed(RequestKind::produce, times, engine_.now());
                             });
                             release_processor(b, dest, channel);
                           });
      });
    }
    for (auto& r : fetch) send_fetch_response(b, r.destination, std::move(r.response));
  };
  if (!out.storage_ops.empty()) {
    b.hw->storage().execute(std::move(out.storage_ops),
                            [respond, stored = std::move(stored), produce = std::move(out.produce_responses),
                             fetch = std::move(out.fetch_responses)](models::IoStatus) mutable {
                              if (stored) stored();
                              respond(produce, fetch);
                            },
                            true);
  } else {
    // Taken out of `out` before `stored` runs, as in the storage branch.
    std::vector<kafka::OutgoingProduceResponse> produce = std::move(out.produce_responses);
    std::vector<kafka::OutgoingFetchResponse> fetch = std::move(out.fetch_responses);
    if (stored) stored();
    if (!produce.empty() || !fetch.empty()) respond(produce, fetch);
  }
  for (const kafka::DeleteRecordsResponse& r : out.delete_records_responses) delete_records_answered(r);
  out.clear();
  rearm_broker(b);
}

// A fetch response leaves through a network thread, which sends each partition's slice from the page cache
// with sendfile; a miss blocks that thread on the disk (KAFKA-7504, hardware-models.md §3.7).
void World::send_fetch_response(Broker& b, NodeId destination, kafka::FetchResponse response) {
  // A follower's fetch came on the connection of the fetcher thread that sent it.
  const int32_t channel = fetch_channel(destination, response.correlation_id);
  const RequestKind kind =
      destination < static_cast<NodeId>(spec_.brokers) ? RequestKind::fetch_follower : RequestKind::fetch_consumer;
  Connection* const conn = &connection(b, destination, channel);
  response_completed(conn->times, engine_.now());
  on_processor(b, destination, channel, [this, &b, destination, channel, kind, conn, response = std::move(response)]() mutable {
  RequestTimes& t = conn->times;
  t.response_dequeue = engine_.now();
  // Over TLS the records are read into the JVM and encrypted instead of going out with sendfile (tls_costs.hpp).
  Duration tls;
  if (tls_connection(destination)) {
    int64_t file_bytes = 0;
    for (const auto& p : response.partitions) file_bytes += p.slice.bytes;
    tls = charge_tls(TlsWork::broker_network,
                     tls_send_cost(spec_.cpu_costs, kafka::wire_size_bytes(response), file_bytes));
  }
  const Duration send_cost = spec_.network_thread_request_cost + tls;
  b.hw->cpu().submit(b.network_pool, send_cost,
                     [this, &b, destination, channel, kind, send_cost, times = t, response = std::move(response)]() mutable {
    if (kind == RequestKind::fetch_consumer) record_network_time(b, destination, channel, send_cost);
    auto shared = std::make_shared<kafka::FetchResponse>(std::move(response));
    auto next = std::make_shared<std::function<void(size_t)>>();
    *next = [this, &b, destination, channel, kind, times, shared, next](size_t i) {
      // Slices served from the page cache take no time; the first that must wait for the disk resumes the loop
      // when its read completes.
      for (; i < shared->partitions.size(); ++i) {
        const kafka::FileSlice& s = shared->partitions[i].slice;
        if (s.bytes == 0) continue;
        models::ReadResult cached;
        if (!b.hw->storage().read_slice(s.file_id, s.position, s.bytes,
                                        [next, i](const models::ReadResult&) { if (*next) (*next)(i + 1); },
                                        &cached))
          return;
      }
      {
        release_processor(b, destination, channel);
        unmute(b, destination, channel);
        const int64_t bytes = kafka::wire_size_bytes(*shared);
        send(b.id, destination, Leg::response, channel, bytes, [this, &b, destination, shared] {
          if (destination < static_cast<NodeId>(spec_.brokers)) {
            Broker& follower = *brokers_[static_cast<size_t>(destination)];
            const auto key = follower.fetch_keys.find(shared->correlation_id);
            if (key == follower.fetch_keys.end()) return;
            const kafka::FetcherKey fk = key->second.first;
            kafka::FetchResponse restored = *shared;
            restored.correlation_id = key->second.second;
            follower.fetch_keys.erase(key);
            on_follower_response(follower, fk, std::move(restored));
            return;
          }
          (void)b;
          // Consumers read committed data only: every batch lies below the HW of the replica that served it, the
          // leader's or, with fetch from follower, the follower's own (kafka-behaviour-2.md §12.6).
          for (const auto& p : shared->partitions)
            if (!p.batches.empty()) KS_ASSERT_LT(p.batches.back().last_offset(), p.high_watermark);
          for (auto& c : consumers_) {
            if (c->id != destination || c->dead) continue;
            // An answer to a fetch of a process that has died since (consumer_restart) reaches nobody.
            if (shared->correlation_id < c->correlation_base) continue;
            kafka::ConsumerOutbox out;
            // Over TLS poll() has decrypted the response first (tls_costs.hpp). Decompression and CRC checks are
            // paid by the polls that read the batches (consumer_dispatch).
            c->fetched_work_pending += charge_tls(
                TlsWork::consumers, tls_receive(destination, kafka::wire_size_bytes(*shared), client_costs()));
            consumer_fetch_answered(*c, b.id, *shared);
            c->consumer->on_fetch_response(engine_.now(), b.id, std::move(*shared), out);
            consumer_dispatch(*c, out);
          }
        }, [this, kind, times] {
          if (times.start != SimTime::max()) request_metrics_.on_completed(kind, times, engine_.now());
        });
        (*next) = nullptr;  // break the self-reference once done
      }
    };
    (*next)(0);
  });
  });
}

void World::on_follower_response(Broker& b, kafka::FetcherKey key, kafka::FetchResponse response) {
  // The replica fetcher thread appends what it fetched (ReplicaFetcherThread.processPartitionData), for each
  // partition of the response: in an incremental fetch session only those with something new (KIP-227).
  // appendAsFollower validates every whole batch it appends like a produce does: UnifiedLog's
  // analyzeAndValidateRecords checks each batch's CRC whatever the append's origin, replication included. A
  // batch cut off at the end of a partition's slice is not appended, so it costs nothing.
  // A partition with records costs the per-partition cost, one with only a new HW or log start the idle cost.
  int64_t appended_bytes = 0;
  int64_t with_records = 0;
  for (const auto& p : response.partitions) {
    for (const auto& batch : p.batches) appended_bytes += batch.size_bytes;
    with_records += p.batches.empty() ? 0 : 1;
  }
  const auto without_records = static_cast<int64_t>(response.partitions.size()) - with_records;
  // Over TLS the fetcher thread, whose NetworkClient received the response, has decrypted it (tls_costs.hpp).
  Duration cost = spec_.cpu_costs.replica_fetch_partition_cost * with_records +
                  spec_.cpu_costs.replica_fetch_idle_partition_cost * without_records + crc_cost(appended_bytes) +
                  charge_tls(TlsWork::broker_fetcher, tls_receive(b.id, kafka::wire_size_bytes(response), spec_.cpu_costs));
  b.hw->cpu().submit(b.fetcher_pool(key, fetcher_stride_), cost, [this, &b, key, response = std::move(response)] {
    kafka::FetcherOutbox fout;
    const auto disposition = b.fetchers->on_fetch_response(key, response, engine_.now(), fout);
    if (disposition != kafka::ResponseDisposition::processed) return;
    kafka::BrokerOutbox out;
    // ReplicaFetcherThread.processPartitionData runs for the partitions whose data the fetcher took
    // (AbstractFetcherThread.processFetchRequest): not for one that left the fetcher, or came back at another offset,
    // while the request was out (a num.replica.fetchers resize), nor for an error. Usually that is all of them.
    size_t taken = 0;
    for (const auto& instruction : fout.local) taken += std::holds_alternative<kafka::FollowerAppend>(instruction) ? 1 : 0;
    if (taken == response.partitions.size()) {
      b.rm->handle_follower_fetch_response(response, engine_.now(), out);
    } else {
      kafka::FetchResponse applied;
      applied.correlation_id = response.correlation_id;
      for (const auto& instruction : fout.local)
        if (const auto* append = std::get_if<kafka::FollowerAppend>(&instruction))
          for (const auto& p : response.partitions)
            if (p.partition == append->partition) applied.partitions.push_back(p);
      b.rm->handle_follower_fetch_response(applied, engine_.now(), out);
    }
    // The fetcher tracks its own fetch offsets; they must agree with the replica's log.
    for (const auto& instruction : fout.local) {
      if (const auto* append = std::get_if<kafka::FollowerAppend>(&instruction)) {
        const kafka::Partition* p = b.rm->partition(append->partition);
        KS_ASSERT(p != nullptr);
        KS_ASSERT_EQ(p->log_end_offset(), append->next_fetch_offset);
      }
    }
    auto ops = std::move(out.storage_ops);
    out.storage_ops.clear();
    dispatch(b, out);
    // The next fetch goes out once the appended bytes are in the page cache.
    b.hw->storage().execute(std::move(ops), [this, &b](models::IoStatus) { poll_fetchers(b); }, true);
  });
}

// LogManager's "kafka-log-retention" task (kafka-behaviour.md §2.5): every log.retention.check.interval.ms each
// replica's log, leader or follower, runs UnifiedLog.deleteOldSegments against its own high watermark. The
// deleted segments' files are renamed now and unlinked after file.delete.delay.ms (LogStorage), which frees their
// page cache. The scheduler thread's CPU is not charged [A: a walk over segment metadata].
void World::run_retention(Broker& b) {
  kafka::StorageOps ops;
  for (const auto& [ref, p] : b.rm->partitions()) {
    // The batches the leader's retention deletes can no longer be fetched. (A consumer reading a follower, KIP-392,
    // that deleted them first is sent back to the leader by its OFFSET_OUT_OF_RANGE, so the leader's log decides.)
    const bool track = p->is_leader() && readers_of(ref) > 0;
    deleted_scratch_.clear();
    const kafka::RetentionResult r =
        b.rm->delete_old_segments(ref, engine_.now(), ops, track ? &deleted_scratch_ : nullptr);
    for (const kafka::RecordBatch& batch : deleted_scratch_) {
      if (!sent_batches_.contains(batch.tag)) continue;
      const bool added =
          deleted_unread_
              .try_emplace({ref, batch.base_offset},
                           DeletedBatch{ref, batch.last_offset(), batch.tag, unread_by_groups(ref, batch)})
              .second;
      KS_ASSERT(added);  // offsets are not reused: a deleted batch's offsets are below the new log start
    }
    if (r.total() == 0) continue;
    events_.push_back({{"time_s", engine_.now().seconds_f()},
                       {"type", "segments_deleted"},
                       {"broker", b.id},
                       {"topic", spec_.topics[static_cast<size_t>(ref.topic)].name},
                       {"partition", ref.partition},
                       {"leader", p->is_leader()},
                       {"segments", r.total()},
                       {"by_log_start_offset", r.deleted_by_log_start_offset},
                       {"by_size", r.deleted_by_size},
                       {"by_time", r.deleted_by_time},
                       {"bytes", r.bytes_deleted},
                       {"log_start_offset", p->log_start_offset()}});
  }
  if (!ops.empty()) b.hw->storage().execute(std::move(ops), [](models::IoStatus) {});
  forget_unreadable_batches();
  engine_.schedule_after(spec_.retention_check_interval, [this, &b] { run_retention(b); });
}

// LogManager's "kafka-log-flusher" (kafka-behaviour.md §2.3 step 8): KafkaScheduler.schedule("kafka-log-flusher",
// flushDirtyLogs, log.initial.task.delay.ms, log.flush.scheduler.interval.ms) runs it at a fixed rate on one of the
// background.threads, which it holds for the whole run. flushDirtyLogs walks the broker's logs (currentLogs.toList:
// a snapshot; leaders and followers alike, here in (topic, partition) order [A: Kafka's map has its own order]) and
// fsyncs, one log after the other on that thread, each whose last flush is at least its flush.ms old
// (Log::flush_if_due). A run that outlasts the period delays the next, which then starts as soon as it ends
// (ScheduledThreadPoolExecutor.scheduleAtFixedRate: runs never overlap). The thread's CPU is not charged [A].
struct World::LogFlusherRun {
  std::vector<kafka::PartitionRef> logs;
  size_t next = 0;
  SimTime scheduled;
  std::function<void()> release;
};

void World::run_log_flusher(Broker& b, SimTime scheduled) {
  b.hw->storage().run_on_background_thread([this, &b, scheduled](std::function<void()> release) {
    auto run = std::make_shared<LogFlusherRun>();
    run->logs.reserve(b.rm->partitions().size());
    for (const auto& [ref, p] : b.rm->partitions()) run->logs.push_back(ref);
    run->scheduled = scheduled;
    run->release = std::move(release);
    continue_log_flusher(b, run);
  });
}

void World::continue_log_flusher(Broker& b, const std::shared_ptr<LogFlusherRun>& run) {
  while (run->next < run->logs.size()) {
    const kafka::PartitionRef ref = run->logs[run->next++];
    kafka::StorageOps ops;
    if (!b.rm->flush_log_if_due(ref, engine_.now(), ops)) continue;
    // The flush listener advances the log's recovery point as its fsyncs complete; the walk goes on after them.
    b.hw->storage().execute(std::move(ops), [this, &b, run](models::IoStatus) { continue_log_flusher(b, run); });
    return;
  }
  run->release();
  // KafkaScheduler: a period <= 0 schedules the task once; a period too long to come round is the same.
  const int64_t period_ms = spec_.log_flush_scheduler_interval_ms;
  if (period_ms <= 0 || period_ms >= (SimTime::max().ns() - run->scheduled.ns()) / 1'000'000) return;
  const SimTime next = run->scheduled + Duration::from_ms(period_ms);
  engine_.schedule_at(std::max(next, engine_.now()), [this, &b, next] { run_log_flusher(b, next); });
}

// The checkpoint files (WorldSpec::replica_high_watermark_checkpoint_interval_ms and the two LogManager tasks).
// CheckpointFile.write writes the whole file — version line "0", the entry count, then one "topic partition offset"
// line per entry — to a temporary file, fsyncs it and renames it over the old one (fsyncing the directory,
// Utils.atomicMoveWithFallback). Here each log dir has one file per kind, rewritten in place: its bytes written
// into the page cache at position 0 and fsynced; the rename and the directory's fsync are not modelled [A]. The
// task holds a background thread while it writes the log dirs one after the other (KafkaScheduler, scheduled at a
// fixed rate: a run that outlasts its period delays the next). Entries: every log of the dir for the HW and the
// recovery point, and only the logs whose log start offset is above their first segment's base offset for the log
// start offset (LogManager.checkpointLogStartOffsetsInDir). Which dir a log is in: log id mod the dirs (JBOD).
namespace {
constexpr uint32_t kCheckpointLogIdBase = 0x8000'0000u;  // above every partition log's id
constexpr uint64_t kCheckpointRegionBytes = 1 << 20;     // the disk region the file's blocks are taken from
int64_t decimal_digits(int64_t v) {
  int64_t digits = v < 0 ? 2 : 1;
  for (v = v < 0 ? -v : v; v >= 10; v /= 10) ++digits;
  return digits;
}
}  // namespace

void World::run_checkpoint(Broker& b, Checkpoint kind, SimTime scheduled) {
  b.hw->storage().run_on_background_thread([this, &b, kind, scheduled](std::function<void()> release) {
    write_checkpoint_dir(b, kind, 0, scheduled, std::move(release));
  });
}

void World::write_checkpoint_dir(Broker& b, Checkpoint kind, size_t dir, SimTime scheduled,
                                 std::function<void()> release) {
  const size_t dirs = b.hw->disk_count();
  if (dir == dirs) {
    release();
    const int64_t period_ms = kind == Checkpoint::replication_offset ? spec_.replica_high_watermark_checkpoint_interval_ms
                              : kind == Checkpoint::recovery_point   ? spec_.log_flush_offset_checkpoint_interval_ms
                                                                     : spec_.log_flush_start_offset_checkpoint_interval_ms;
    if (period_ms <= 0 || period_ms >= (SimTime::max().ns() - scheduled.ns()) / 1'000'000) return;
    const SimTime next = scheduled + Duration::from_ms(period_ms);
    engine_.schedule_at(std::max(next, engine_.now()), [this, &b, kind, next] { run_checkpoint(b, kind, next); });
    return;
  }
  // The file's contents: the version and count lines, and one line per entry.
  int64_t entries = 0, bytes = 0;
  for (uint32_t log_id = static_cast<uint32_t>(dir); log_id < b.log_partitions.size();
       log_id += static_cast<uint32_t>(dirs)) {
    const PartitionRef ref = b.log_partitions[log_id];
    const kafka::Partition* p = b.rm->partition(ref);
    if (p == nullptr) continue;
    int64_t offset = 0;
    switch (kind) {
      case Checkpoint::replication_offset: offset = p->high_watermark(); break;
      case Checkpoint::recovery_point: offset = p->log().recovery_point(); break;
      case Checkpoint::log_start_offset:
        if (p->log_start_offset() <= p->log().segments().front().base_offset()) continue;
        offset = p->log_start_offset();
        break;
    }
    ++entries;
    bytes += static_cast<int64_t>(spec_.topics[static_cast<size_t>(ref.topic)].name.size()) + 1 +
             decimal_digits(ref.partition) + 1 + decimal_digits(offset) + 1;
  }
  bytes += 2 + decimal_digits(entries) + 1;
  const uint32_t log_id = kCheckpointLogIdBase + static_cast<uint32_t>(dir) * 4 + static_cast<uint32_t>(kind);
  kafka::StorageOps ops;
  kafka::StorageOp op;
  op.file_kind = kafka::FileKind::log;
  op.file_id = kafka::FileId{uint64_t{log_id} << 32};
  if (!b.hw->storage().has_file(op.file_id, op.file_kind)) {
    b.hw->storage().assign_log(log_id, dir, kCheckpointRegionBytes, 4096);
    op.kind = kafka::StorageOpKind::create;
    op.position = 0;
    ops.push_back(op);
  }
  op.kind = kafka::StorageOpKind::truncate;
  op.position = 0;
  ops.push_back(op);
  op.kind = kafka::StorageOpKind::write;
  op.bytes = bytes;
  ops.push_back(op);
  op.kind = kafka::StorageOpKind::fsync;
  op.bytes = 0;
  ops.push_back(op);
  b.hw->storage().execute(std::move(ops),
                          [this, &b, kind, dir, scheduled, release = std::move(release)](models::IoStatus) mutable {
                            write_checkpoint_dir(b, kind, dir + 1, scheduled, std::move(release));
                          });
}

// A batch deleted from the leader's log can still be polled by a group whose position is at or below its last
// offset (the records may sit in a fetch response or the fetch buffer). A group whose position is past it, or that
// has no valid position (not started, or waiting for an auto.offset.reset that lands at or after the log start),
// can never return it: a seek back below the log start gets OFFSET_OUT_OF_RANGE. Once no group can, the batch's
// send times are dropped, so that retention deleting records nobody read does not keep them for the whole run.
// Only ids are looked up in sent_batches_; deleted_unread_ is walked in its (deterministic) insertion order.
//
// A batch a non-idempotent retry made a leader append twice has one entry for both copies: when one copy can no
// longer be polled, only the reads it still owed are dropped (DeletedBatch::unread), and the entry stays for the
// readers of the other copy.
void World::forget_unreadable_batches() {
  for (auto d = deleted_unread_.begin(); d != deleted_unread_.end();) {
    const auto it = sent_batches_.find(d->second.tag);
    if (it == sent_batches_.end()) {  // every group polled it meanwhile
      d = deleted_unread_.erase(d);
      continue;
    }
    bool readable = false;
    for (const auto& c : consumers_) {
      if (c->dead || spec_.consumers[c->spec_index].topic != d->second.partition.topic) continue;
      const std::optional<int64_t> position = c->consumer->position(d->second.partition);
      if (position.has_value() && *position <= d->second.last_offset) {
        readable = true;
        break;
      }
    }
    if (readable) {
      ++d;
      continue;
    }
    SentBatch& sent = it->second;
    KS_ASSERT_GE(d->second.unread, 0);
    sent.reads_left -= d->second.unread;
    if (--sent.copies <= 0 || sent.reads_left <= 0) sent_batches_.erase(it);
    d = deleted_unread_.erase(d);
  }
}

// How many reads of this copy of a batch the groups reading its topic still have to make: all of its records for a
// group with no position on the partition (not started, or waiting for an offset reset: nothing of it was polled
// or skipped), those at or after the position for the others (those before were polled, or skipped by a reset).
int64_t World::unread_by_groups(kafka::PartitionRef partition, const kafka::RecordBatch& batch) const {
  const int64_t records = batch.record_count;
  int64_t unread = readers_of(partition) * records;
  for (const auto& c : consumers_) {
    if (c->dead || spec_.consumers[c->spec_index].topic != partition.topic) continue;
    // A group's members (in one entry or several) have disjoint assignments: at most one has a position.
    const std::optional<int64_t> position = c->consumer->position(partition);
    if (!position.has_value()) continue;
    unread -= records - std::clamp<int64_t>(batch.last_offset() + 1 - *position, 0, records);
  }
  KS_ASSERT_GE(unread, 0);
  return unread;
}

void World::resize_fetchers(Broker& b, uint32_t fetchers) {
  KS_ASSERT_LE(fetchers, fetcher_stride_);
  // Every partition this broker follows, where its log stands now (the fetch offset is the LEO while fetching).
  std::vector<kafka::PartitionToFetch> following;
  for (const auto& [ref, p] : b.rm->partitions()) {
    if (p->is_leader()) continue;
    kafka::PartitionToFetch fetch;
    fetch.topic_name = spec_.topics[static_cast<size_t>(ref.topic)].name;
    fetch.source_broker_id = p->leader_id();
    fetch.initial.partition = ref;
    fetch.initial.current_leader_epoch = p->leader_epoch();
    fetch.initial.log_end_offset = p->log_end_offset();
    fetch.initial.log_start_offset = p->log_start_offset();
    fetch.initial.init_offset = p->log_end_offset();
    fetch.initial.leader_epochs = p->epoch_cache().entries();
    following.push_back(std::move(fetch));
  }
  const int32_t moved = b.fetchers->resize_thread_pool(static_cast<int32_t>(fetchers), following, engine_.now());
  events_.push_back({{"time_s", engine_.now().seconds_f()},
                     {"type", "replica_fetchers_resized"},
                     {"broker", b.id},
                     {"num_replica_fetchers", fetchers},
                     {"partitions_moved", moved}});
  poll_fetchers(b);
}

void World::poll_fetchers(Broker& b) {
  kafka::FetcherOutbox fout;
  b.fetchers->poll(engine_.now(), fout);
  for (auto& f : fout.fetches) {
    const uint64_t own_id = f.request.correlation_id;
    f.request.correlation_id = next_correlation_id_++;
    b.fetch_keys[f.request.correlation_id] = {kafka::FetcherKey{f.destination, f.fetcher_id}, own_id};
    Broker& leader = *brokers_[static_cast<size_t>(f.destination)];
    const int64_t bytes = kafka::wire_size_bytes(f.request);
    const int32_t channel = f.fetcher_id;
    send(b.id, leader.id, Leg::request, channel, bytes, [this, &leader, bytes, request = std::move(f.request), channel]() mutable {
      const NodeId client = request.client_id;
      on_request_arrival(leader, client, bytes,
                         [this, &leader, request = std::move(request)]() mutable { handle_fetch(leader, std::move(request)); },
                         channel);
    });
  }
  arm(b.fetcher_wakeup, b.fetchers->next_wakeup(), [this, &b] { poll_fetchers(b); });
}

void World::rearm_broker(Broker& b) {
  arm(b.wakeup, b.rm->next_wakeup(), [this, &b] {
    // A paused JVM (a GC pause, a "pause" fault) runs no thread: the purgatory reaper and the isr-expiration task
    // run what fell due when the pause ends.
    models::Cpu& cpu = b.hw->cpu();
    if (cpu.paused()) {
      arm(b.wakeup, cpu.pause_end(), [this, &b] { rearm_broker(b); });
      return;
    }
    kafka::BrokerOutbox out;
    b.rm->on_wakeup(engine_.now(), out);
    dispatch(b, out);
  });
}

// Keeps one engine event per state machine at or before its next_wakeup(). A later deadline keeps the pending
// event: it fires early, the state machine does nothing (calling early is harmless by contract), and the
// handler re-arms. Only an earlier deadline cancels, so wakeups that move later on every call cost nothing.
void World::arm(Wakeup& w, SimTime at, sim::Callback fire) {
  if (at == SimTime::max()) return;
  if (w.at <= at && engine_.is_pending(w.id)) return;
  engine_.cancel(w.id);
  w.at = max(at, engine_.now());
  w.fire = std::move(fire);
  w.id = engine_.schedule_at(w.at, [&w] {
    w.at = SimTime::max();
    // Moved out first: the handler may arm this wakeup again.
    sim::Callback run = std::move(w.fire);
    run();
  });
}

// ------------------------------------------------------------------------------------------------
// Producers

// Draws the next open-loop record (its time, then its size and key, the order in which a record-by-record
// schedule draws them) into `ahead`; false once the schedule passes the end of the run.
bool World::draw_arrival(ProducerClient& c) {
  KS_ASSERT(!c.schedule_ended);
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  SimTime at;
  if (c.arrival->kind() == ArrivalProcess::Kind::kUnthrottled) {
    // The application thread sends one record per 1/rate while send() does not block, and calls send() again
    // only once the previous call has returned.
    at = std::max(c.unthrottled_last + Duration::from_seconds_ceil(1.0 / c.arrival->records_per_s()),
                  c.app_free_at);
    c.unthrottled_last = at;
  } else {
    at = c.arrival->next(c.rng);
  }
  if (at >= SimTime::zero() + spec_.duration || (ps.max_records && c.records_drawn >= *ps.max_records)) {
    c.schedule_ended = true;
    return false;
  }
  ++c.records_drawn;
  ProducerClient::Drawn d;
  d.intended = at;
  // send() runs on the application thread for producer_send_cost: it starts at the record's time or when the
  // previous send() returned, whichever is later, and the record is in the accumulator when it returns.
  d.send_at = std::max(at, c.app_free_at) + spec_.producer_send_cost;
  c.app_free_at = d.send_at;
  d.value_bytes = ps.value_size.draw(c.rng);
  if (ps.keys.has_keys()) d.key_index = ps.keys.draw(c.rng);
  c.ahead.push_back(d);
  return true;
}

// Works out which of the drawn records are quiet now, drawing more as long as they are (up to a bound), and
// keeps the arrival event at the first record that is not: that one is sent by an event at its time, as are
// all records while send() is blocked (they wait in the backlog). Called whenever the producer was touched.
void World::plan_arrivals(ProducerClient& c) {
  if (!c.arrival) return;  // closed loop
  constexpr size_t kLookahead = 1024;
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  const kafka::ProducerConfig& config = c.producer->config();  // this process's (a restart may deploy others)
  const bool round_robin = config.partitioner_class == kafka::PartitionerClass::round_robin;
  size_t quiet = 0;
  if (c.paused) {
    c.records_drawn -= c.ahead.size();
    c.ahead.clear();  // the unthrottled thread is stopped in send(); it draws again when it resumes
  } else if (!c.blocked && c.backlog.empty()) {
    // Go on from the last verdict while it still holds; a closed verdict (a rejected record) still stands.
    if (c.cursor && c.cursor->still_valid()) {
      quiet = c.quiet;
      if (!c.cursor_open) {
        KS_ASSERT_LT(quiet, c.ahead.size());
        return;
      }
    } else {
      c.cursor = c.producer->quiet_cursor();
      c.cursor_open = true;
    }
    kafka::QuietAppendCursor& cursor = *c.cursor;
    const int32_t partitions = spec_.topics[static_cast<size_t>(ps.topic)].partitions;
    std::string key;
    while (quiet < kLookahead) {
      if (quiet == c.ahead.size() && (c.schedule_ended || !draw_arrival(c))) break;
      const ProducerClient::Drawn& d = c.ahead[quiet];
      kafka::RecordShape shape;
      shape.value_bytes = static_cast<int32_t>(d.value_bytes);
      int32_t partition = kafka::unknown_partition;
      if (ps.keys.has_keys()) {
        key = KeyDistribution::key_bytes(d.key_index);
        shape.key_bytes = static_cast<int32_t>(key.size());
        partition = kafka::choose_partition(
            config, std::nullopt,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()), partitions);
      }
      // RoundRobinPartitioner: the `quiet`-th record from now is partitioned after the `quiet` before it.
      if (round_robin)
        partition = c.producer->round_robin_partition(ps.topic, static_cast<int64_t>(quiet));
      if (!cursor.accept(ps.topic, partition, shape, d.send_at)) {
        c.cursor_open = false;
        break;
      }
      ++quiet;
    }
    // Every drawn record is quiet and the schedule has ended: the last one's event sends them all.
    if (quiet > 0 && quiet == c.ahead.size()) {
      --quiet;
      c.cursor_open = false;
    }
  } else if (c.ahead.empty() && !c.schedule_ended) {
    draw_arrival(c);
  }
  c.quiet = quiet;
  if (c.ahead.size() <= quiet) {
    engine_.cancel(c.arrival_event.id);
    c.arrival_event.at = SimTime::max();
    return;
  }
  const SimTime at = c.ahead[quiet].send_at;
  if (c.arrival_event.at == at && engine_.is_pending(c.arrival_event.id)) return;
  engine_.cancel(c.arrival_event.id);
  c.arrival_event.at = at;
  c.arrival_event.id = engine_.schedule_at(at, [this, &c] { on_arrival(c); });
}

// The arrival event: the quiet records before it are sent, then this record (or, while send() is blocked, it
// joins the backlog).
void World::on_arrival(ProducerClient& c) {
  c.arrival_event.at = SimTime::max();
  flush_quiet_sends(c, true);
  KS_ASSERT(!c.ahead.empty());
  KS_ASSERT_EQ(c.ahead.front().send_at, engine_.now());
  c.backlog.push_back(c.ahead.front());
  c.ahead.pop_front();
  c.cursor.reset();  // it may not have judged this record (the look-ahead bound): start afresh after it
  // While send() is blocked on buffer.memory the record only joins the backlog, and producer_send_next would send
  // nothing: its dispatch (an empty outbox) would re-arm the producer and plan the next arrival. Every handler that
  // changes the producer re-arms it, so its next_wakeup() is the same as at the last re-arm; unless that wakeup is
  // due at this very instant (its event pending at now: the re-arm would poll here, before it), the re-arm would
  // change nothing (an event pending at or before next_wakeup() stays, and none is pending only when there is no
  // wakeup). Then only the plan is left, for a run that offers far more than the cluster takes (records arriving at
  // the offered rate while the producer is blocked).
  if (spec_.short_blocked_arrivals && blocked_arrival_is_short(c, engine_.now())) {
    join_blocked_arrivals(c);
    return;
  }
  producer_send_next(c, 0);
}

bool World::blocked_arrival_is_short(const ProducerClient& c, SimTime at) const {
  return c.blocked && !c.paused && !c.dead && c.wakeup.at > at && at < SimTime::zero() + spec_.duration;
}

World::ProducerClient* World::arrival_owner(sim::EventId id) const {
  for (const auto& p : producers_)
    if (p->arrival_event.at != SimTime::max() && p->arrival_event.id == id) return p.get();
  return nullptr;
}

// The arrivals that would run next, one after another, each only joining a blocked producer's backlog, join here in
// the same order, from the one whose event is running: records of producers whose plan is made here (`planned`:
// each one's next arrival event would have been scheduled when its previous record joined, so in this order), and of
// blocked producers whose arrival event is the next pending event (cancelled: it would have done just that). It stops
// at any other event (which, on a tie, was pending before the planned ones and so runs first); then the planned
// producers' next arrival events are scheduled, in that order. The run is the same, with fewer events.
void World::join_blocked_arrivals(ProducerClient& first) {
  // Finding the owner of a pending arrival walks the producers: with very many, only `first`'s own records join.
  constexpr size_t kOwnerScanMax = 64;
  const bool scan = producers_.size() <= kOwnerScanMax;
  std::vector<ProducerClient*> planned{&first};
  while (true) {
    ProducerClient* next = nullptr;
    SimTime next_at = SimTime::max();
    for (ProducerClient* p : planned) {
      if (p->ahead.empty() && (p->schedule_ended || !draw_arrival(*p))) continue;
      if (p->ahead.front().send_at < next_at) {  // a tie goes to the one planned first
        next = p;
        next_at = p->ahead.front().send_at;
      }
    }
    if (const std::optional<sim::Engine::Pending> top = engine_.peek(); top && top->at <= next_at) {
      ProducerClient* const owner = scan ? arrival_owner(top->id) : nullptr;
      if (owner == nullptr || !blocked_arrival_is_short(*owner, top->at)) break;
      engine_.cancel(top->id);
      owner->arrival_event.at = SimTime::max();
      KS_ASSERT_EQ(owner->ahead.front().send_at, top->at);
      KS_ASSERT_EQ(owner->quiet, 0U);
      owner->backlog.push_back(owner->ahead.front());
      owner->ahead.pop_front();
      owner->cursor.reset();
      planned.push_back(owner);
      continue;
    }
    if (next == nullptr || !blocked_arrival_is_short(*next, next_at)) break;
    next->backlog.push_back(next->ahead.front());
    next->ahead.pop_front();
    // Its next arrival is now the one planned last.
    planned.erase(std::find(planned.begin(), planned.end(), next));
    planned.push_back(next);
  }
  for (ProducerClient* p : planned) plan_arrivals(*p);
}

// Sends the quiet records whose time has come, each at its own time. Called before anything else touches the
// producer, so the producer's state is what a record-by-record run would have at that moment. A record due at
// exactly now waits (`through_now` false): a record-by-record run schedules a record's event one gap before it
// fires, so an earlier-scheduled event at the same instant (a linger timer, a delivery) comes first.
void World::flush_quiet_sends(ProducerClient& c, bool through_now) {
  if (c.quiet == 0) return;  // nothing judged quiet (and no outbox to build)
  kafka::ProducerOutbox out;
  while (c.quiet > 0 && (c.ahead.front().send_at < engine_.now() ||
                         (through_now && c.ahead.front().send_at == engine_.now()))) {
    const ProducerClient::Drawn d = c.ahead.front();
    c.ahead.pop_front();
    --c.quiet;
    // plan_arrivals' cursor judged it quiet: the producer skips the checks the cursor made.
    send_record(c, d, d.send_at, 0, out, true);
    KS_ASSERT(out.requests.empty() && out.completions.empty() && out.unblocked_sends.empty());
  }
}

// One send(): the record's id, its ledger entry and the producer's send at `now`.
kafka::SendResult World::send_record(ProducerClient& c, const DrawnRecord& d, SimTime now, uint32_t thread,
                                     kafka::ProducerOutbox& out, bool quiet) {
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  kafka::ProducerRecord record;
  record.topic = ps.topic;
  record.record_id = c.next_record_id++;
  record.shape.value_bytes = static_cast<int32_t>(d.value_bytes);
  std::string key;
  if (ps.keys.has_keys()) {
    key = KeyDistribution::key_bytes(d.key_index);
    record.key = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    record.shape.key_bytes = static_cast<int32_t>(key.size());
  }
  KS_ASSERT_EQ(record.record_id, c.first_in_flight_id + c.in_flight.size());
  c.in_flight.push_back(ProducerClient::InFlight{d.intended, d.value_bytes, thread, false,
                                                 static_cast<uint32_t>(record.shape.key_bytes)});
  c.app_busy += spec_.producer_send_cost;
  metrics_.on_sent(d.value_bytes);
  if (quiet) {
    c.producer->send_quiet(now, record);
    kafka::SendResult appended;
    appended.status = kafka::SendStatus::appended;
    return appended;
  }
  return c.producer->send(now, record, out);
}

// Sends the next record: for an open loop the backlog, oldest first, for a closed-loop thread a record intended
// now. A send blocked on buffer.memory stops the application thread until an UnblockedSend.
void World::producer_send_next(ProducerClient& c, uint32_t thread) {
  if (c.dead) return;
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  const bool closed_loop = ps.closed_loop_threads > 0;
  if (engine_.now() >= SimTime::zero() + spec_.duration) return;
  flush_quiet_sends(c);
  kafka::ProducerOutbox out;
  while (!c.blocked && (closed_loop || !c.backlog.empty())) {
    ProducerClient::Drawn d;
    if (closed_loop) {
      // The thread called send() producer_send_cost ago (this event is scheduled that much after it).
      d.intended = engine_.now() - spec_.producer_send_cost;
      d.value_bytes = ps.value_size.draw(c.rng);
      if (ps.keys.has_keys()) d.key_index = ps.keys.draw(c.rng);
    } else {
      d = c.backlog.front();
      c.backlog.pop_front();
    }
    const kafka::SendResult r = send_record(c, d, engine_.now(), thread, out);
    if (r.status == kafka::SendStatus::blocked) {
      c.blocked = true;
      if (engine_.now() >= SimTime::zero() + spec_.warmup) c.blocked_after_warmup = true;
      if (c.arrival && c.arrival->kind() == ArrivalProcess::Kind::kUnthrottled) {
        // The unthrottled application thread stops inside send() until it returns. The records drawn ahead for
        // it are not sent: it draws afresh from the time send() returns (producer_dispatch). Dropped here, at
        // once, so that no later draw (the sender may unblock it within this instant) queues behind them.
        c.paused = true;
        c.records_drawn -= c.ahead.size();
        c.ahead.clear();
        c.quiet = 0;
        c.cursor.reset();
      }
    }
    if (closed_loop) break;  // this thread waits for the completion
  }
  producer_dispatch(c, out);
}

void World::producer_dispatch(ProducerClient& c, kafka::ProducerOutbox& out) {
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  if (out.producer_id_requested && !c.producer_id_in_flight) send_init_producer_id(c);
  // Sends that were blocked on memory returned: the application thread goes on.
  if (!out.unblocked_sends.empty()) {
    c.blocked = false;
    out.unblocked_sends.clear();
    if (ps.closed_loop_threads == 0) engine_.schedule_after(Duration::zero(), [this, &c] { producer_send_next(c, 0); });
    if (c.paused) {
      // The unthrottled thread returns from send() and sends its next record one 1/rate later.
      c.paused = false;
      KS_ASSERT(c.ahead.empty());
      c.unthrottled_last = engine_.now();
      c.app_free_at = engine_.now();
    }
  }
  for (const auto& done : out.completions) {
    ProducerClient::InFlight& record = c.in_flight_record(done.record_id);
    KS_ASSERT(!record.done);
    record.done = true;
    const ProducerClient::InFlight info = record;
    while (!c.in_flight.empty() && c.in_flight.front().done) {
      c.in_flight.pop_front();
      ++c.first_in_flight_id;
    }
    if (record_observer_) [[unlikely]]
      record_observer_(done.record_id, info.intended, done.completion_time, done.outcome == kafka::RecordOutcome::acked,
                       info.bytes);
    if (done.outcome == kafka::RecordOutcome::acked) {
      metrics_.on_acked(info.intended, done.completion_time, info.bytes);
      if (done.offset >= 0) {
        acked_offsets_[static_cast<size_t>(done.partition.topic)][static_cast<size_t>(done.partition.partition)].add(
            done.offset);
      } else {
        ++acked_without_offset_;
      }
      if (c.id_stats != nullptr) {
        c.id_stats->interval_acked_bytes += info.bytes;
        const SimTime warmup_end = metrics_.warmup_end();
        if (info.intended >= warmup_end) c.id_stats->produce_latency_ns.record((done.completion_time - info.intended).ns());
        if (done.completion_time >= warmup_end) {
          ++c.id_stats->acked;
          c.id_stats->acked_bytes += info.bytes;
        }
      }
    } else {
      metrics_.on_failed(failure_cause(done.outcome), kafka::to_string(done.error));
    }
    if (ps.closed_loop_threads > 0 && !ps.driven) {
      // The thread sends its next record. A send that failed inside send() (its callback ran at once) costs the
      // thread kFailedSendGap before it tries again, so a thread whose every send fails still lets time pass.
      const uint32_t thread = info.thread;
      const Duration gap = done.completion_time == done.send_time ? kFailedSendGap : Duration::zero();
      engine_.schedule_after(gap + spec_.producer_send_cost, [this, &c, thread] { producer_send_next(c, thread); });
    }
  }
  // A batch rejected as too large was never appended: no consumer will read it (its records went to new batches).
  for (const kafka::BatchId id : out.split_batches) sent_batches_.erase((c.index << 40) | id);
  // Before the failed batches: a request withdrawn here can no longer append them.
  for (const NodeId node : out.closed_connections) {
    withdraw_unsent(c, node);
    // The next request to `node` goes on a new connection (NetworkClient reconnects after reconnect.backoff.ms).
    const int32_t channel = ++c.channel_to_broker[static_cast<size_t>(node)];
    network_->set_receive_buffer(host_of(c.id), host_of(node), producer_connection_receive_buffer(),
                                 flow_tag(Leg::request, channel));
  }
  // A failed batch (delivery timeout, a broker error, retries exhausted) may still be read: a leader may have
  // appended it before the producer gave up (a request timeout or NOT_ENOUGH_REPLICAS_AFTER_APPEND after the
  // append), or a request carrying it may yet reach its broker. Forgotten only when neither can be.
  for (const kafka::BatchId id : out.failed_batches) {
    const auto it = sent_batches_.find((c.index << 40) | id);
    if (it == sent_batches_.end()) continue;  // never sent to a topic that groups read, or read by every group
    it->second.failed = true;
    if (it->second.never_in_a_log()) sent_batches_.erase(it);
  }
  for (auto& r : out.requests) {
    // Give each batch a world-wide tag, and remember its records' intended send times for end-to-end latency
    // (a retry sends the same batch again: the first send recorded it).
    for (auto& p : r.request.partitions) {
      const uint64_t tag = (c.index << 40) | p.batch.tag;
      KS_ASSERT_LT(p.batch.tag, uint64_t{1} << 40);
      const int64_t groups = readers_of(p.partition);
      if (groups > 0) {
        const auto [it, first_send] = sent_batches_.try_emplace(tag);
        SentBatch& sent = it->second;
        if (first_send) {
          const kafka::ProducerBatch& batch = c.producer->accumulator().batch(p.batch.tag);
          sent.reads_left = groups * batch.record_count();
          sent.intended.reserve(batch.records.size());
          sent.value_bytes.reserve(batch.records.size());
          // The keys' sizes only for a poll observer (consumer-perf-test counts them), which is set before the run.
          const bool keyed = poll_observer_ && spec_.producers[c.spec_index].keys.has_keys();
          if (keyed) sent.key_bytes.reserve(batch.records.size());
          for (const kafka::RecordMeta& m : batch.records) {
            const ProducerClient::InFlight& record = c.in_flight_record(m.record_id);
            sent.intended.push_back(record.intended);
            sent.value_bytes.push_back(record.bytes);
            if (keyed) sent.key_bytes.push_back(record.key_bytes);
          }
        }
        ++sent.requests_unhandled;  // until handle_produce's I/O thread has handled this request
      }
      p.batch.tag = tag;
    }
    const NodeId dest = r.destination;
    const uint64_t correlation = r.request.correlation_id;
    const int64_t bytes = kafka::wire_size_bytes(r.request);
    Broker& b = *brokers_[static_cast<size_t>(dest)];
    ProducerClient::Unsent& unsent = c.unsent.emplace_back();
    unsent.destination = dest;
    unsent.correlation = correlation;
    for (const auto& p : r.request.partitions)
      if (sent_batches_.contains(p.batch.tag)) unsent.batch_tags.push_back(p.batch.tag);
    // The Sender's encryption of the request over TLS (tls_costs.hpp) follows its compression on the same thread.
    const Duration compress = compression_.producer_request_cost(c.spec_index, r.request) +
                              charge_tls(TlsWork::producers, tls_send(c.id, bytes, client_costs()));
    c.compressor.run(engine_, compress, [this, &c, &b, dest, bytes, correlation, request = std::move(r.request)]() mutable {
      // The process died while the request was being compressed (producer_restart): it was never written.
      if (c.dead) return;
      // The connection was closed while the request was being compressed: it was never written (withdraw_unsent).
      if (c.withdrawn.erase(correlation) > 0) return;
      ProducerClient::Unsent* const pending = c.find_unsent(correlation);
      KS_ASSERT(pending != nullptr);
      const int32_t channel = c.channel_to_broker[static_cast<size_t>(dest)];
      c.request_channel.emplace(correlation, channel);
      pending->message = send(
          c.id, dest, Leg::request, channel, bytes,
          [this, &c, &b, bytes, channel, request = std::move(request)]() mutable {
            on_request_arrival(b, c.id, bytes, [this, &c, &b, bytes, channel, request = std::move(request)]() mutable {
              // The broker has read the request off the socket: its bytes (in TLS records, as sent) leave the
              // receive buffer.
              network_->consume(host_of(c.id), host_of(b.id), static_cast<uint64_t>(wire_bytes(c.id, bytes)),
                                flow_tag(Leg::request, channel));
              handle_produce(b, std::move(request));
            }, channel);
          },
          // The send is complete once its last byte has left the client's NIC, the stand-in for NetworkClient's
          // completed send (written to the socket): the next request to that node may go, and acks=0 completes.
          [this, &c, correlation] {
            if (c.dead) return;
            c.erase_unsent(correlation);
            flush_quiet_sends(c);
            kafka::ProducerOutbox pout;
            c.producer->on_request_sent(correlation, engine_.now(), pout);
            producer_dispatch(c, pout);
          });
    });
  }
  out.clear();
  rearm_producer(c);
  plan_arrivals(c);
}

template <typename Handle>
void World::handled_request(Broker& b, NodeId client, int32_t channel, int64_t request_bytes, Duration io_cost,
                            Handle handle) {
  send(client, b.id, Leg::request, channel, request_bytes, [this, &b, client, channel, request_bytes, io_cost, handle] {
    on_request_arrival(b, client, request_bytes, [this, &b, client, channel, io_cost, handle] {
      // Connections are never forgotten and never move (Broker::connections): the pointer outlives the request.
      Connection* const conn = &connection(b, client, channel);
      conn->times.dequeue = engine_.now();
      b.hw->cpu().continue_held(b.io_pool, io_cost, [this, conn, handle] {
        conn->times.local_complete = engine_.now();  // KafkaApis.handle returns
        handle();
      }, false);
    }, channel);
  });
}

// The response exists now (RemoteTimeMs ends); the connection's network thread takes it and sends it, and the
// request's metrics end when its last byte has left the broker, as for produce and fetch responses.
template <typename Response, typename Delivered>
void World::reply(Broker& b, NodeId client, int32_t channel, RequestKind kind, Response response, Delivered delivered) {
  Connection* const conn = &connection(b, client, channel);
  response_completed(conn->times, engine_.now());
  on_processor(b, client, channel, [this, &b, client, channel, kind, conn, response, delivered] {
    conn->times.response_dequeue = engine_.now();
    const Duration tls =
        charge_tls(TlsWork::broker_network, tls_send(client, kafka::wire_size_bytes(response), spec_.cpu_costs));
    b.hw->cpu().submit(b.network_pool, spec_.network_thread_request_cost + tls,
                       [this, &b, client, channel, kind, times = conn->times, response, delivered] {
                         unmute(b, client, channel);
                         send(b.id, client, Leg::response, channel, kafka::wire_size_bytes(response),
                              [response, delivered] { delivered(response); },
                              [this, kind, times] {
                                if (times.start != SimTime::max())
                                  request_metrics_.on_completed(kind, times, engine_.now());
                              });
                         release_processor(b, client, channel);
                       });
  });
}

template <typename Answer, typename Delivered>
void World::answered_request(Broker& b, NodeId client, int32_t channel, RequestKind kind, int64_t request_bytes,
                             Duration io_cost, Answer answer, Delivered delivered) {
  handled_request(b, client, channel, request_bytes, io_cost, [this, &b, client, channel, kind, answer, delivered] {
    reply(b, client, channel, kind, answer(), delivered);
  });
}

// InitProducerId (kafka-behaviour.md §1.7): an idempotent producer without a producer id (a fresh one, or one whose
// epoch is exhausted) sends it before any ProduceRequest, to NetworkClient.leastLoadedNode: the nodes in order from
// a random offset, the first with nothing in flight. The Sender asks for an id only when nothing is in flight, so
// that is the node at the random offset. The broker handles it like any request (its connection's muting, a network
// thread, an I/O thread for request_fixed_cost) and answers with the next id of its block and epoch 0.
void World::send_init_producer_id(ProducerClient& c) {
  c.producer_id_in_flight = true;
  const auto broker = static_cast<NodeId>(c.least_loaded_rng.uniform_u64(spec_.brokers));
  Broker& b = *brokers_[static_cast<size_t>(broker)];
  const int32_t channel = c.channel_to_broker[static_cast<size_t>(broker)];
  const kafka::InitProducerIdRequest request{++c.producer_id_requests, c.id};
  answered_request(
      b, c.id, channel, RequestKind::init_producer_id, kafka::wire_size_bytes(request),
      spec_.cpu_costs.request_fixed_cost,
      [this, &b, &c, request] {
        const kafka::InitProducerIdResponse response{request.correlation_id, kafka::Errc::none,
                                                     b.producer_ids->generate_producer_id(), 0};
        events_.push_back({{"time_s", engine_.now().seconds_f()},
                           {"type", "producer_id"},
                           {"broker", b.id},
                           {"client", c.id - static_cast<NodeId>(spec_.brokers)},
                           {"producer_id", response.producer_id},
                           {"epoch", response.producer_epoch}});
        return response;
      },
      [this, &c](const kafka::InitProducerIdResponse& response) {
        if (c.dead) return;  // the process died meanwhile (producer_restart)
        c.producer_id_in_flight = false;
        flush_quiet_sends(c);
        c.producer->set_producer_id_and_epoch({response.producer_id, response.producer_epoch});
        rearm_producer(c);
      });
}

// The producer closed its connection to `node` (request.timeout.ms: NetworkClient disconnects the node and fails
// its in-flight requests). Selector.close() closes the socket: the bytes of a request that its NetworkSend had not
// yet written never leave the client, and the broker, whose NetworkReceive of the truncated request never
// completes, never reads it. So every request to `node` not fully written (still compressing, or handed to the
// network and not yet departed from the client's NIC) is withdrawn: it never reaches the broker's request
// handling, and chunks of it already on the wire only use the links (models::Network::cancel). A request whose
// last byte had left before the close is delivered and handled as usual; its response reaches a producer that no
// longer waits for it and is dropped there (Sender::on_produce_response, a stale response).
const World::ProducerClient& World::producer_of_batch(const kafka::RecordBatch& batch) const {
  KS_ASSERT_MSG((batch.tag >> 63) == 0, "a batch of the group coordinator has no producer");
  const uint64_t index = batch.tag >> 40;
  KS_ASSERT_LT(index, producers_.size());
  return *producers_[index];
}

void World::withdraw_unsent(ProducerClient& c, NodeId node) {
  for (auto it = c.unsent.begin(); it != c.unsent.end();) {
    if (it->destination != node) {
      ++it;
      continue;
    }
    if (it->message) {
      // The World partitions no network, so the message is still in the network until it departs.
      const int32_t channel = c.channel_of(it->correlation);
      const bool cancelled =
          network_->cancel(host_of(c.id), host_of(node), *it->message, flow_tag(Leg::request, channel));
      KS_ASSERT_MSG(cancelled, "a request not yet departed must be cancellable");
      c.request_channel.erase(it->correlation);
    } else {
      const bool inserted = c.withdrawn.insert(it->correlation).second;
      KS_ASSERT(inserted);
    }
    // No I/O thread will handle this request: it can no longer append its batches.
    for (const uint64_t tag : it->batch_tags) {
      const auto sent = sent_batches_.find(tag);
      if (sent == sent_batches_.end()) continue;
      if (sent->second.requests_unhandled > 0) --sent->second.requests_unhandled;
      if (sent->second.never_in_a_log()) sent_batches_.erase(sent);
    }
    ++withdrawn_requests_;
    it = c.unsent.erase(it);
  }
}

// Kafka's Sender thread runs sendProducerData again as soon as client.poll has handled what came in (Sender.runOnce
// in a loop), so a producer with work due now polls at once, in this event, until it has nothing due; its next
// wakeup after that is an event. (A producer_dispatch inside the loop leaves the re-check to the loop.)
void World::rearm_producer(ProducerClient& c) {
  if (c.polling || c.dead) return;
  c.polling = true;
  // Every pass sends, completes or expires something, or the sender's next wakeup is later; the bound catches a
  // sender that would spin at one instant (with an event per pass it would spin as well, without end).
  // A wakeup a send skipped (kafka::RecordAccumulator::set_tail_appends_quiet) is settled here, where the poll
  // it stood for would run.
  c.producer->resolve_skipped_wakeup(engine_.now());
  for (uint32_t passes = 0; c.producer->next_wakeup() <= engine_.now(); ++passes) {
    KS_ASSERT_LT(passes, 1'000'000u);
    engine_.cancel(c.wakeup.id);
    c.wakeup.at = SimTime::max();
    flush_quiet_sends(c);
    kafka::ProducerOutbox out;
    c.producer->poll(engine_.now(), out);
    producer_dispatch(c, out);
  }
  c.polling = false;
  arm(c.wakeup, c.producer->next_wakeup(), [this, &c] {
    flush_quiet_sends(c);
    kafka::ProducerOutbox out;
    c.producer->poll(engine_.now(), out);
    producer_dispatch(c, out);
  });
}

// ------------------------------------------------------------------------------------------------
// Consumers

void World::consumer_poll(ConsumerClient& c) {
  if (c.dead) return;
  c.processing = false;
  // recordPollStart.
  const SimTime now = engine_.now();
  c.time_since_last_poll = c.last_poll_start ? now - *c.last_poll_start : Duration::zero();
  c.last_poll_start = now;
  if (now >= metrics_.warmup_end()) c.time_between_poll_ns.record(c.time_since_last_poll.ns());
  kafka::ConsumerOutbox out;
  c.consumer->poll(engine_.now(), out);
  consumer_dispatch(c, out);
}

// The application has processed what poll returned. It commits if it does so after every poll (the scenario's
// "commit"), then polls again; after a commitSync() only once the OffsetCommit response has come.
void World::consumer_processed(ConsumerClient& c) {
  if (c.dead) return;
  const CommitAfterPoll mode = spec_.consumers[c.spec_index].commit;
  if (spec_.consumers[c.spec_index].driven) {
    KS_ASSERT(mode == CommitAfterPoll::kNone);
    if (std::exchange(c.poll_requested, false)) return consumer_poll(c);
    c.awaiting_app = true;
    return;
  }
  if (mode == CommitAfterPoll::kNone) return consumer_poll(c);
  kafka::ConsumerOutbox out;
  c.consumer->commit(engine_.now(), out);
  KS_ASSERT_LE(out.commits.size(), 1u);
  const bool wait = mode == CommitAfterPoll::kSync && !out.commits.empty();
  if (wait) {
    c.sync_commit = out.commits.front().request.correlation_id;
    c.sync_commit_deadline = engine_.now() + c.consumer->config().default_api_timeout;
    c.sync_commit_attempts = 0;
  }
  consumer_dispatch(c, out);
  if (!wait) consumer_poll(c);
}

void World::consumer_fetch_answered(ConsumerClient& c, NodeId source, const kafka::FetchResponse& response) {
  const auto it = std::find_if(c.fetches_sent.begin(), c.fetches_sent.end(),
                               [&](const auto& sent) { return sent.first == response.correlation_id; });
  if (it == c.fetches_sent.end()) return;
  const SimTime sent_at = it->second;
  c.fetches_sent.erase(it);
  if (engine_.now() < SimTime::zero() + spec_.warmup) return;
  const int64_t bytes = wire_bytes(c.id, kafka::wire_size_bytes(response));
  if (host_racks_[static_cast<size_t>(source)] == host_racks_[static_cast<size_t>(c.id)]) {
    consumer_fetch_bytes_same_rack_ += bytes;
  } else {
    consumer_fetch_bytes_cross_rack_ += bytes;
  }
  c.fetch_latency_ns.record((engine_.now() - sent_at).ns());
  int64_t records = 0;
  for (const auto& p : response.partitions)
    for (const auto& batch : p.batches) records += batch.record_count;
  c.records_per_fetch.record(records);
}

// The key and value sizes of a range of records a poll returned, for the poll observer (duplicates included: the
// application sees them).
void World::observe_polled(const kafka::PolledRange& range, PollResult& result) const {
  const auto it = sent_batches_.find(range.batch_tag);
  const int64_t first = range.first_offset - range.batch_base_offset;
  if (it == sent_batches_.end() || first < 0 ||
      first + range.record_count > static_cast<int64_t>(it->second.value_bytes.size())) {
    result.records_without_size += range.record_count;
    result.records += range.record_count;
    return;
  }
  for (int32_t i = 0; i < range.record_count; ++i) {
    const auto r = static_cast<size_t>(first + i);
    const uint32_t key = it->second.key_bytes.empty() ? 0 : it->second.key_bytes[r];
    const int64_t bytes = int64_t{it->second.value_bytes[r]} + key;
    if (result.records == 0) result.first_bytes = bytes;
    ++result.records;
    result.bytes += bytes;
  }
}

void World::consumer_dispatch(ConsumerClient& c, kafka::ConsumerOutbox& out) {
  int64_t records = 0;
  PollResult poll_result;
  // The application thread's work on the batches the polls read (CompletedFetch.nextFetchedRecord): decompression
  // of the records it iterated (compression_costs.hpp) and, with check.crcs, DefaultRecordBatch.ensureValid's CRC32C
  // of each batch when first reached, at the client CPU profile's CRC speed (client_costs: the brokers' without one
  // [A]).
  Duration poll_work;
  const bool check_crcs = c.consumer->config().check_crcs;
  for (auto& polled : out.polled) {
    poll_work += compression_.consumer_poll_cost(
        polled.iterated, [this](const kafka::RecordBatch& batch) { return producer_of_batch(batch).spec_index; });
    if (check_crcs) {
      int64_t opened_bytes = 0;
      for (const auto& it : polled.iterated)
        if (it.opened) opened_bytes += it.batch.size_bytes;
      poll_work += crc_cost(opened_bytes, client_costs());
    }
    for (auto& range : polled.ranges) {
      records += range.record_count;
      if (poll_observer_) [[unlikely]]
        observe_polled(range, poll_result);
      // The group's records given before (a restarted consumer starts again from its group's committed offset): they
      // count as duplicates and nothing else, their reads having been settled the first time.
      KS_ASSERT_LT(static_cast<size_t>(range.partition.partition), delivered_next_[c.spec_index].size());
      int64_t& next = delivered_next_[c.spec_index][static_cast<size_t>(range.partition.partition)];
      if (range.first_offset < next) {
        const int64_t again = std::min<int64_t>(next - range.first_offset, range.record_count);
        duplicates_ += static_cast<uint64_t>(again);
        range.first_offset += again;
        range.record_count -= static_cast<int32_t>(again);
        if (range.record_count == 0) continue;
      }
      if (engine_.now() >= metrics_.warmup_end()) *c.group_consumed += static_cast<uint64_t>(range.record_count);
      // Records the group was neither given nor positioned past: skipped (see WorldSummary::consumer_skipped).
      const int64_t expected =
          std::max(next, positioned_at_[c.spec_index][static_cast<size_t>(range.partition.partition)]);
      if (range.first_offset > expected) consumer_skipped_ += static_cast<uint64_t>(range.first_offset - expected);
      next = range.first_offset + range.record_count;
      // A batch whose entry is gone was read by every group already. A second copy of a batch (a retry the broker
      // appended again) is counted when it is appended (handle_produce), or has an entry of its own when the retry
      // was sent after every group had read the first; only a copy appended after every group read the first, by a
      // retry sent before they had, is consumed without a latency sample.
      const auto it = sent_batches_.find(range.batch_tag);
      if (it == sent_batches_.end()) {
        polled_unmeasured_ += static_cast<uint64_t>(range.record_count);
        continue;
      }
      SentBatch& sent = it->second;
      if (!deleted_unread_.empty()) {
        // A copy retention has deleted, polled from what was fetched before: one read fewer owed by it.
        const auto d = deleted_unread_.find({range.partition, range.batch_base_offset});
        if (d != deleted_unread_.end() && d->second.tag == range.batch_tag) d->second.unread -= range.record_count;
      }
      const int64_t first = range.first_offset - range.batch_base_offset;
      KS_ASSERT_GE(first, 0);
      KS_ASSERT_LE(first + range.record_count, static_cast<int64_t>(sent.intended.size()));
      for (int32_t i = 0; i < range.record_count; ++i)
        metrics_.on_consumed(sent.intended[static_cast<size_t>(first + i)], engine_.now(),
                             sent.value_bytes[static_cast<size_t>(first + i)]);
      if (c.id_stats != nullptr) {
        const SimTime now = engine_.now();
        for (int32_t i = 0; i < range.record_count; ++i) {
          c.id_stats->interval_consumed_bytes += sent.value_bytes[static_cast<size_t>(first + i)];
          const SimTime intended = sent.intended[static_cast<size_t>(first + i)];
          if (intended >= metrics_.warmup_end()) c.id_stats->end_to_end_latency_ns.record((now - intended).ns());
          if (now >= metrics_.warmup_end()) {
            ++c.id_stats->consumed;
            c.id_stats->consumed_bytes += sent.value_bytes[static_cast<size_t>(first + i)];
          }
        }
      }
      sent.reads_left -= range.record_count;
      if (sent.reads_left <= 0) sent_batches_.erase(it);
    }
  }
  for (auto& f : out.fetches) {
    Broker& b = *brokers_[static_cast<size_t>(f.destination)];
    const int64_t bytes = kafka::wire_size_bytes(f.request);
    if (c.fetches_sent.size() == ConsumerClient::kMaxFetchesTracked) c.fetches_sent.erase(c.fetches_sent.begin());
    c.fetches_sent.emplace_back(f.request.correlation_id, engine_.now());
    send(c.id, b.id, Leg::request, 0, bytes, [this, &b, bytes, request = std::move(f.request)]() mutable {
      const NodeId client = request.client_id;
      on_request_arrival(b, client, bytes,
                         [this, &b, request = std::move(request)]() mutable { handle_fetch(b, std::move(request)); });
    });
  }
  // ListOffsets (an offset reset) goes to the partition's leader on the consumer's connection to it, behind any fetch
  // parked there, and is handled like any request; the leader answers from its log when the I/O thread is done.
  for (auto& l : out.list_offsets) {
    Broker& b = *brokers_[static_cast<size_t>(l.destination)];
    const int64_t bytes = kafka::wire_size_bytes(l.request);
    answered_request(
        b, c.id, 0, RequestKind::list_offsets, bytes, spec_.cpu_costs.request_fixed_cost,
        [&b, request = std::move(l.request)] { return b.rm->handle_list_offsets(request); },
        [this, &c](const kafka::ListOffsetsResponse& response) {
          if (c.dead) return;
          kafka::ConsumerOutbox o;
          c.consumer->on_list_offsets_response(engine_.now(), response, o);
          consumer_dispatch(c, o);
        });
  }
  // A position out of range (retention deleted it) and the reset that follows go to events.jsonl, and so do a
  // partition left without a position (auto.offset.reset=none) and each partition of a failed offset commit (with
  // the coordinator's error).
  const auto record_event = [&](const char* type, const kafka::ConsumerEvent& e, bool with_group) -> nlohmann::json& {
    nlohmann::json event = {{"time_s", e.time.seconds_f()},
                            {"type", type},
                            {"client", c.id - static_cast<NodeId>(spec_.brokers)},
                            {"topic", spec_.topics[static_cast<size_t>(e.partition.topic)].name},
                            {"partition", e.partition.partition},
                            {"offset", e.offset}};
    const std::string& group = spec_.consumers[c.spec_index].group;
    if (with_group && !group.empty()) event["group"] = group;
    events_.push_back(std::move(event));
    return events_.back();
  };
  for (const auto& e : out.events) {
    switch (e.kind) {
      case kafka::ConsumerEventKind::commit_failed:
        record_event("offset_commit_failed", e, true)["error"] = std::string(kafka::to_string(e.error));
        ++offset_commits_failed_[std::string(kafka::to_string(e.error))];
        break;
      case kafka::ConsumerEventKind::no_offset_for_partition:
        // Kafka's poll() throws NoOffsetForPartitionException (a new group) or OffsetOutOfRangeException; the
        // simulated application goes on without the partition.
        record_event("consumer_no_offset", e, true);
        break;
      case kafka::ConsumerEventKind::offset_reset:
        skip_unread(c.spec_index, e.partition, e.offset);
        record_event("consumer_offset_reset", e, false);
        // A reset of a position found out of range: the records it jumps over are never given to the consumer
        // (deleted by retention before it read them, or still in the log after a reset to latest).
        if (const auto it = c.out_of_range_at.find(e.partition); it != c.out_of_range_at.end()) {
          OffsetResets& r = offset_resets_[group_key(c)];
          ++r.resets;
          r.records_skipped += std::max<int64_t>(0, e.offset - it->second);
          c.out_of_range_at.erase(it);
        }
        break;
      case kafka::ConsumerEventKind::fetch_error:
        if (e.error == kafka::Errc::offset_out_of_range) {
          record_event("consumer_offset_out_of_range", e, false);
          c.out_of_range_at.emplace(e.partition, e.offset);  // the first such position until the reset
        }
        break;
      case kafka::ConsumerEventKind::request_failed:
      case kafka::ConsumerEventKind::commit_succeeded:
        break;
    }
  }
  for (auto& commit : out.commits) send_offset_commit(c, std::move(commit));
  if (poll_observer_ && poll_result.records > 0) [[unlikely]]
    poll_observer_(c.spec_index, engine_.now(), poll_result);
  if (records > 0 && !c.processing) {
    // poll() returns (recordPollEnd; a poll time and a time since the last poll of 0 make Java's 0/0, a NaN, which is
    // left out of the mean here). The application processes what it returned, then polls again.
    const SimTime now = engine_.now();
    if (c.last_poll_start && now >= metrics_.warmup_end()) {
      const double poll_time = (now - *c.last_poll_start).seconds_f();
      const double denominator = poll_time + c.time_since_last_poll.seconds_f();
      if (denominator > 0) {
        c.poll_idle_ratio_sum += poll_time / denominator;
        ++c.poll_idle_ratio_count;
      }
    }
    c.processing = true;
    const Duration work = c.per_record * records + poll_work + std::exchange(c.fetched_work_pending, Duration::zero());
    c.app_busy += work;
    c.app_busy_until = now + work;
    engine_.schedule_after(work, [this, &c] { consumer_processed(c); });
  }
  out.clear();
  rearm_consumer(c);
}

// An OffsetCommit goes to the group coordinator over the consumer's coordinator connection (AbstractCoordinator
// names the coordinator node Integer.MAX_VALUE - broker id "to allow separate connections for the coordinator"):
// channel 1, so a commit never queues behind a fetch parked on the fetch connection. The coordinator handles it
// like any request (muting, a network thread, an I/O thread for request_fixed_cost) and accepts every partition of a
// member's commit (membership is not simulated: the static assignment stands for a stable generation) and of a
// non-member's while the group has no members (generation -1, which an empty classic group accepts); it
// writes one OffsetCommit record per partition to the group's __consumer_offsets partition (coordinator_write) and
// answers once that write is replicated or has failed (kafka-behaviour.md §5.7); the connection stays muted until
// the answer.
void World::send_offset_commit(ConsumerClient& c, kafka::OutgoingOffsetCommit commit) {
  // The consumer addresses a commit to its coordinator, -1 while it knows none.
  if (commit.destination < 0) {
    c.waiting_for_coordinator.push_back(std::move(commit));
    if (!c.coordinator_lookup_in_flight) send_find_coordinator(c);
    return;
  }
  Broker& b = *brokers_[static_cast<size_t>(commit.destination)];
  const int64_t bytes = kafka::wire_size_bytes(commit.request);
  handled_request(b, c.id, kCoordinatorChannel, bytes, spec_.cpu_costs.request_fixed_cost,
                  [this, &b, &c, request = std::move(commit.request)] {
                    const ConsumerSpec& cs = spec_.consumers[c.spec_index];
                    // ClassicGroup.validateOffsetCommit: a commit with generation -1 and no member id (a consumer
                    // that assigns its partitions) is taken only while the group is empty; once the group has
                    // members it is refused with UNKNOWN_MEMBER_ID and nothing is written.
                    if (!is_group_member(cs) && groups_with_members_.contains(cs.group)) {
                      kafka::OffsetCommitResponse response;
                      response.correlation_id = request.correlation_id;
                      for (const auto& p : request.partitions)
                        response.partitions.push_back({p.partition, kafka::Errc::unknown_member_id});
                      return reply(b, c.id, kCoordinatorChannel, RequestKind::offset_commit, response,
                                   [this, &c](const kafka::OffsetCommitResponse& r) { offset_commit_answered(c, r); });
                    }
                    const int32_t partition = kafka::offsets_partition_for(cs.group, spec_.offsets_topic_partitions);
                    const kafka::RecordShape record = kafka::offset_commit_record_shape(
                        cs.group.size(), spec_.topics[static_cast<size_t>(cs.topic)].name.size());
                    const auto records = static_cast<int32_t>(request.partitions.size());
                    coordinator_write(b, partition, records, record, [this, &b, &c, request](kafka::Errc error) {
                      // The offsets are the group's once their records are committed in __consumer_offsets.
                      if (error == kafka::Errc::none)
                        for (const auto& p : request.partitions)
                          group_offsets_[spec_.consumers[c.spec_index].group][p.partition] = p.committed_offset;
                      kafka::OffsetCommitResponse response;
                      response.correlation_id = request.correlation_id;
                      for (const auto& p : request.partitions) response.partitions.push_back({p.partition, error});
                      reply(b, c.id, kCoordinatorChannel, RequestKind::offset_commit, response,
                            [this, &c](const kafka::OffsetCommitResponse& r) { offset_commit_answered(c, r); });
                    });
                  });
}

void World::offset_commit_answered(ConsumerClient& c, const kafka::OffsetCommitResponse& response) {
  kafka::ConsumerOutbox o;
  if (c.dead) return;
  c.consumer->on_offset_commit_response(engine_.now(), response, o);
  consumer_dispatch(c, o);
  if (c.sync_commit != response.correlation_id) return;
  c.sync_commit.reset();
  // ConsumerCoordinator.commitOffsetsSync: a commit that failed with retriable errors only (the coordinator's
  // COORDINATOR_NOT_AVAILABLE after a write timed out, ...) is sent again after retryBackoff.backoff(attempts++)
  // (KIP-580: retry.backoff.ms doubling per attempt up to retry.backoff.max.ms, +-20 % jitter), as long as the
  // call's timer (default.api.timeout.ms) has not expired by then; otherwise commitSync() returns or throws, and the
  // application polls again [A: it survives the exception].
  bool failed = false, retriable = true;
  for (const auto& p : response.partitions) {
    if (p.error == kafka::Errc::none) continue;
    failed = true;
    retriable = retriable && kafka::is_retriable(p.error);
  }
  if (!failed || !retriable) return consumer_poll(c);
  const kafka::ConsumerConfig& config = c.consumer->config();
  const Duration backoff = kafka::exponential_backoff(config.retry_backoff, config.retry_backoff_max,
                                                      c.sync_commit_attempts++, c.commit_backoff_rng);
  if (engine_.now() + backoff >= c.sync_commit_deadline) return consumer_poll(c);
  engine_.schedule_after(backoff, [this, &c] {
    if (c.dead) return;
    kafka::ConsumerOutbox out;
    c.consumer->commit(engine_.now(), out);
    KS_ASSERT_LE(out.commits.size(), 1u);
    if (out.commits.empty()) {
      consumer_dispatch(c, out);
      return consumer_poll(c);
    }
    c.sync_commit = out.commits.front().request.correlation_id;
    consumer_dispatch(c, out);
  });
}

// CoordinatorRuntime (kafka/broker/coordinator_writes.hpp): a write joins the batch lingering for its
// __consumer_offsets partition (group.coordinator.append.linger.ms) and fails after offsets.commit.timeout.ms unless
// settled before. The coordinator threads' CPU is not modelled [A]: a batch of a few records costs far less than a
// request. A consumer reads one topic, so the records of one OffsetCommit have one shape.
void World::coordinator_write(Broker& b, int32_t partition, int32_t records, const kafka::RecordShape& record,
                              std::function<void(kafka::Errc)> done) {
  const uint64_t id = next_coordinator_write_++;
  b.coordinator_answers.emplace(id, std::move(done));
  const int32_t first_delta = b.coordinator.open_records(partition);
  const int32_t bytes = kafka::offset_commit_records_bytes(first_delta, records, record);
  if (b.coordinator.write(partition, id, records, bytes))
    engine_.schedule_after(spec_.group_coordinator_append_linger, [this, &b, partition] { coordinator_append(b, partition); });
  engine_.schedule_after(spec_.offsets_commit_timeout, [this, &b, id] {
    std::vector<kafka::CoordinatorWrites::Completion> settled;
    b.coordinator.on_timeout(id, settled);
    coordinator_settled(b, settled);
  });
}

// The linger of `partition`'s batch ended: CoordinatorPartitionWriter.append writes it to the local log as one
// uncompressed batch without a producer id (ReplicaManager.appendRecords, requiredAcks = 1, timeout 0), and its
// writes then wait for the high watermark (dispatch reports every advance of a __consumer_offsets partition).
void World::coordinator_append(Broker& b, int32_t partition) {
  const kafka::CoordinatorWrites::Batch batch = b.coordinator.take_batch(partition);
  kafka::ProduceRequest request;
  request.correlation_id = batch.batch_id;
  request.client_id = b.id;
  request.acks = 1;
  request.timeout = Duration::zero();
  kafka::ProducePartitionData data;
  data.partition = PartitionRef{offsets_topic_, partition};
  data.batch.record_count = batch.records;
  data.batch.size_bytes = static_cast<int32_t>(kafka::record_batch_overhead_bytes + batch.record_bytes);
  // Every record's timestamp is taken as the append's time (the writes' own times within the linger are not kept).
  data.batch.max_timestamp = engine_.now();
  data.batch.base_timestamp = engine_.now();
  // Not a producer's batch: the top bit keeps its tag apart from the producers' (index << 40 | batch id).
  data.batch.tag = (uint64_t{1} << 63) | batch.batch_id;
  request.partitions.push_back(data);
  kafka::BrokerOutbox out;
  b.rm->handle_produce(request, engine_.now(), out);
  // acks=1 answers at once; the answer is the coordinator's, not a client's.
  const auto answer = std::find_if(out.produce_responses.begin(), out.produce_responses.end(),
                                   [&](const kafka::OutgoingProduceResponse& r) {
                                     return r.destination == b.id && r.response.correlation_id == batch.batch_id;
                                   });
  KS_ASSERT_MSG(answer != out.produce_responses.end() && answer->response.partitions.size() == 1,
                "an acks=1 append is answered at once");
  const kafka::ProducePartitionResponse result = answer->response.partitions.front();
  out.produce_responses.erase(answer);
  std::vector<kafka::CoordinatorWrites::Completion> settled;
  b.coordinator.on_appended(batch.batch_id, result.error,
                            result.error == kafka::Errc::none ? result.base_offset + batch.records : -1, settled);
  coordinator_settled(b, settled);
  // Its storage work, and the high watermark if the ISR is the leader alone.
  dispatch(b, out);
}

void World::coordinator_settled(Broker& b, std::vector<kafka::CoordinatorWrites::Completion>& completions) {
  for (const auto& done : completions) {
    auto node = b.coordinator_answers.extract(done.write_id);
    KS_ASSERT_MSG(!node.empty(), "a write is settled once");
    node.mapped()(done.error);
  }
  completions.clear();
}

const std::vector<std::vector<NodeId>>& World::offsets_topic_replicas() const {
  static const std::vector<std::vector<NodeId>> none;
  return offsets_topic_ < 0 ? none : replicas_[static_cast<size_t>(offsets_topic_)];
}

// FindCoordinator (kafka-behaviour.md §5.1) to NetworkClient.leastLoadedNode: the brokers in order from a random
// offset, the first with nothing in flight from this consumer (no fetch outstanding there), else the one at the
// offset. It travels on that broker's ordinary connection, behind a fetch the broker may have parked there. The
// broker answers from its metadata: the leader of the group's __consumer_offsets partition.
void World::send_find_coordinator(ConsumerClient& c) {
  c.coordinator_lookup_in_flight = true;
  const auto brokers = static_cast<NodeId>(spec_.brokers);
  const auto offset = static_cast<NodeId>(c.least_loaded_rng.uniform_u64(spec_.brokers));
  NodeId node = offset;
  for (NodeId i = 0; i < brokers; ++i) {
    const NodeId candidate = (offset + i) % brokers;
    if (!c.consumer->has_pending_fetch(candidate)) {
      node = candidate;
      break;
    }
  }
  const kafka::FindCoordinatorRequest request{++c.find_coordinator_requests, c.id, spec_.consumers[c.spec_index].group};
  answered_request(
      *brokers_[static_cast<size_t>(node)], c.id, 0, RequestKind::find_coordinator, kafka::wire_size_bytes(request),
      spec_.cpu_costs.request_fixed_cost,
      [this, request] {
        const int32_t partition = kafka::offsets_partition_for(request.group_id, spec_.offsets_topic_partitions);
        return kafka::FindCoordinatorResponse{request.correlation_id, kafka::Errc::none,
                                              offsets_topic_replicas()[static_cast<size_t>(partition)].front(),
                                              request.group_id};
      },
      [this, &c](const kafka::FindCoordinatorResponse& response) {
        if (c.dead) return;
        c.coordinator_lookup_in_flight = false;
        c.consumer->set_coordinator(response.coordinator);
        events_.push_back({{"time_s", engine_.now().seconds_f()},
                           {"type", "coordinator_found"},
                           {"client", c.id - static_cast<NodeId>(spec_.brokers)},
                           {"group", response.group_id},
                           {"coordinator", response.coordinator},
                           {"partition", kafka::offsets_partition_for(response.group_id, spec_.offsets_topic_partitions)}});
        if (std::exchange(c.offsets_wanted, false)) send_offset_fetch(c, response.coordinator);
        std::vector<kafka::OutgoingOffsetCommit> waiting = std::move(c.waiting_for_coordinator);
        c.waiting_for_coordinator.clear();
        for (kafka::OutgoingOffsetCommit& commit : waiting) {
          commit.destination = response.coordinator;
          send_offset_commit(c, std::move(commit));
        }
      });
}

// OffsetFetch (kafka-behaviour.md §5.7) for every assigned partition, on the coordinator connection. The coordinator
// handles it like any request (muting, a network thread, an I/O thread for request_fixed_cost) and answers from the
// group's committed offsets (require_stable: only offsets whose records are committed, group_offsets_); a group it
// has never seen commit gets -1 for every partition.
void World::send_offset_fetch(ConsumerClient& c, NodeId coordinator) {
  kafka::OffsetFetchRequest request;
  request.correlation_id = ++c.offset_fetch_requests;
  request.client_id = c.id;
  request.group_id = spec_.consumers[c.spec_index].group;
  for (const kafka::PartitionAssignment& a : c.assignment) request.partitions.push_back(a.partition);
  Broker& b = *brokers_[static_cast<size_t>(coordinator)];
  answered_request(
      b, c.id, kCoordinatorChannel, RequestKind::offset_fetch, kafka::wire_size_bytes(request),
      spec_.cpu_costs.request_fixed_cost,
      [this, request] {
        kafka::OffsetFetchResponse response;
        response.correlation_id = request.correlation_id;
        const auto group = group_offsets_.find(request.group_id);
        for (const PartitionRef& p : request.partitions) {
          kafka::OffsetFetchPartitionResponse r;
          r.partition = p;
          if (group != group_offsets_.end()) {
            const auto it = group->second.find(p);
            if (it != group->second.end()) r.committed_offset = it->second;
          }
          response.partitions.push_back(r);
        }
        return response;
      },
      [this, &c](const kafka::OffsetFetchResponse& response) { offsets_fetched(c, response); });
}

void World::skip_unread(size_t group, PartitionRef partition, int64_t offset) {
  int64_t& positioned = positioned_at_[group][static_cast<size_t>(partition.partition)];
  positioned = std::max(positioned, offset);
  const kafka::Partition* leader = leader_partition(partition);
  if (leader == nullptr) return;
  // The group was given the records below delivered_next_ already (their reads are settled), and none from there on.
  // Batches already forgotten (every group past them, or deleted unread) are no longer in sent_batches_.
  KS_ASSERT_EQ(partition.topic, spec_.consumers[group].topic);
  const int64_t from = delivered_next_[group][static_cast<size_t>(partition.partition)];
  if (offset <= from) return;
  for (const kafka::LogSegment& segment : leader->log().segments()) {
    const kafka::SegmentBatches& batches = segment.batches();
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const kafka::StoredBatch stored = batches[i];
      if (stored.batch.base_offset >= offset) return;
      if (stored.batch.next_offset() <= from) continue;
      const auto it = sent_batches_.find(stored.batch.tag);
      if (it == sent_batches_.end()) continue;
      it->second.reads_left -= std::min(stored.batch.next_offset(), offset) - std::max(stored.batch.base_offset, from);
      if (it->second.reads_left <= 0) sent_batches_.erase(it);
    }
  }
}

// The committed offsets are in: partitions with one start there, the others wait for auto.offset.reset
// (KafkaConsumer.assign, then the application's poll sends the ListOffsets and the fetches).
void World::offsets_fetched(ConsumerClient& c, const kafka::OffsetFetchResponse& response) {
  if (c.dead) return;
  KS_ASSERT_EQ(response.error, kafka::Errc::none);
  KS_ASSERT_EQ(response.partitions.size(), c.assignment.size());
  for (size_t i = 0; i < c.assignment.size(); ++i) {
    const kafka::OffsetFetchPartitionResponse& p = response.partitions[i];
    KS_ASSERT(p.partition == c.assignment[i].partition);
    if (p.committed_offset < 0) continue;
    c.assignment[i].committed_offset = p.committed_offset;
    skip_unread(c.spec_index, p.partition, p.committed_offset);
  }
  consumer_assigned(c);
}

// The application's assign() with the positions known (committed offsets, if any, in c.assignment), then its poll
// loop (or, for a driven application, position() first).
void World::consumer_assigned(ConsumerClient& c) {
  kafka::ConsumerOutbox out;
  c.consumer->assign(engine_.now(), c.assignment, out);
  consumer_dispatch(c, out);
  if (spec_.consumers[c.spec_index].driven) {
    // A driven application asks for its positions (position(), ListOffsets) and polls only when told to.
    c.awaiting_app = true;
    return drive_positions(c.spec_index);
  }
  consumer_poll(c);
}

void World::rearm_consumer(ConsumerClient& c) {
  if (c.dead) return;
  arm(c.wakeup, c.consumer->next_wakeup(), [this, &c] {
    if (c.dead) return;
    kafka::ConsumerOutbox out;
    c.consumer->on_wakeup(engine_.now(), out);
    consumer_dispatch(c, out);
  });
}

// ------------------------------------------------------------------------------------------------
// Sampling and the summary

namespace {
// A name in a timeseries.csv column: letters, digits, '.', '-' and '_' kept, anything else replaced by '_'.
std::string column_name(std::string_view name) {
  std::string out;
  for (const char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' ? ch : '_';
  return out;
}
}  // namespace

void World::sample() {
  const SimTime now = engine_.now();
  timeseries_.begin_row(now);
  const double interval_s = spec_.sample_interval.seconds_f();
  timeseries_.set("throughput_mib_per_s", static_cast<double>(metrics_.take_interval_acked_bytes()) / interval_s / 1048576.0);
  const sim::Histogram h = metrics_.take_interval_produce_latency();
  // A second in which no measured record was acknowledged has no latency: its cells stay empty, not 0 ms.
  if (h.count() > 0) {
    timeseries_.set("produce_p50_ms", static_cast<double>(h.percentile(50)) / 1e6);
    timeseries_.set("produce_p99_ms", static_cast<double>(h.percentile(99)) / 1e6);
  }
  // Each client-id's share, when the summary has them (WorldSummary::clients): the column names keep letters, digits,
  // '.', '-' and '_' of the id and replace anything else by '_'.
  for (auto& [id, st] : client_id_stats_) {
    const std::string name = "client_" + column_name(id);
    const auto mib_per_s = [interval_s](uint64_t& bytes) {
      return static_cast<double>(std::exchange(bytes, 0)) / interval_s / 1048576.0;
    };
    if (st.producer) timeseries_.set(name + "_produced_mib_per_s", mib_per_s(st.interval_acked_bytes));
    if (st.consumer) timeseries_.set(name + "_consumed_mib_per_s", mib_per_s(st.interval_consumed_bytes));
  }
  uint64_t produce_requests = 0;
  for (const auto& c : producers_) produce_requests += c->producer->metrics().produce_requests;
  timeseries_.set("produce_requests_per_s",
                  static_cast<double>(produce_requests - std::exchange(sampled_produce_requests_, produce_requests)) /
                      interval_s);
  // Fetches the brokers answered in the interval (RequestsPerSec of FetchConsumer and FetchFollower).
  timeseries_.set("fetch_consumer_requests_per_s",
                  static_cast<double>(request_metrics_.take_interval_count(RequestKind::fetch_consumer)) / interval_s);
  timeseries_.set("fetch_follower_requests_per_s",
                  static_cast<double>(request_metrics_.take_interval_count(RequestKind::fetch_follower)) / interval_s);
  int64_t under_replicated = 0, under_min_isr = 0;
  size_t isr_min = SIZE_MAX;
  for (auto& b : brokers_) {
    for (const auto& [ref, p] : b->rm->partitions()) {
      if (!p->is_leader()) continue;
      isr_min = std::min(isr_min, p->isr().size());
      if (p->isr().size() < p->replicas().size()) ++under_replicated;
      if (p->is_under_min_isr()) ++under_min_isr;
    }
  }
  timeseries_.set("isr_size_min", isr_min == SIZE_MAX ? 0.0 : static_cast<double>(isr_min));
  timeseries_.set("under_replicated_partitions", static_cast<double>(under_replicated));
  // UnderMinIsrPartitionCount: acks=all produces to these fail with NOT_ENOUGH_REPLICAS.
  timeseries_.set("under_min_isr_partitions", static_cast<double>(under_min_isr));
  // With faults: how many were in effect during some of the interval (an instant one in it counts).
  if (!spec_.faults.empty()) {
    const SimTime from = now - spec_.sample_interval;
    int active = 0;
    for (const FaultSpec& f : spec_.faults) {
      const SimTime start = SimTime::zero() + f.at;
      const bool instant = f.kind == FaultKind::drop_caches || f.kind == FaultKind::consumer_restart ||
                           f.kind == FaultKind::producer_restart;
      const SimTime end = instant       ? start
                          : f.duration ? start + *f.duration
                                       : SimTime::zero() + spec_.duration;
      if (instant ? (start > from && start <= now) : (start < now && end > from)) ++active;
    }
    timeseries_.set("faults_active", static_cast<double>(active));
  }
  for (auto& b : brokers_) {
    const std::string prefix = "broker" + std::to_string(b->id) + "_";
    const models::HostId host = hosts_[static_cast<size_t>(b->id)];
    const models::NodeId tor = uplinks_[static_cast<size_t>(b->id)];
    // Utilisation over the interval (as iostat or sar report it), from the busy time accumulated since the last
    // sample; the summary's figures are over the run or since spec.utilisation_from. A broker with several log dirs
    // shows its busiest disk.
    const double interval_ns = static_cast<double>(spec_.sample_interval.ns());
    const int64_t tx_busy = network_->link_meter(host, tor).busy_server_ns(now);
    const int64_t rx_busy = network_->link_meter(tor, host).busy_server_ns(now);
    timeseries_.set(prefix + "nic_tx_util",
                    static_cast<double>(tx_busy - std::exchange(b->sampled_nic_tx_busy_ns, tx_busy)) / interval_ns);
    timeseries_.set(prefix + "nic_rx_util",
                    static_cast<double>(rx_busy - std::exchange(b->sampled_nic_rx_busy_ns, rx_busy)) / interval_ns);
    b->sampled_disk_busy_ns.resize(b->hw->disk_count(), 0);
    double busiest_disk = 0;
    for (size_t d = 0; d < b->hw->disk_count(); ++d) {
      const models::DiskModel& disk = b->hw->disk(d);
      const int64_t busy = disk.busy_unit_ns();
      const double util = static_cast<double>(busy - std::exchange(b->sampled_disk_busy_ns[d], busy)) /
                          (interval_ns * static_cast<double>(disk.units()));
      busiest_disk = std::max(busiest_disk, util);
    }
    timeseries_.set(prefix + "disk_util", busiest_disk);
    // The space the broker's log dirs take on their disks (df's used: segments, indexes, checkpoints, and deleted
    // segments until file.delete.delay.ms unlinks them), summed over its disks.
    b->disk_used_max.resize(b->hw->disk_count(), 0);
    uint64_t used = 0;
    for (size_t d = 0; d < b->hw->disk_count(); ++d) {
      const uint64_t bytes = b->hw->page_cache().device_file_bytes(b->hw->disk(d));
      b->disk_used_max[d] = std::max(b->disk_used_max[d], bytes);
      used += bytes;
    }
    timeseries_.set(prefix + "disk_used_mib", static_cast<double>(used) / 1048576.0);
    // EBS volumes with a burst bucket: the lowest BurstBalance of the broker's volumes (CloudWatch's, / 100).
    std::optional<double> burst_balance;
    for (size_t d = 0; d < b->hw->disk_count(); ++d)
      if (const auto* ebs = dynamic_cast<const models::EbsVolume*>(&b->hw->disk(d)))
        if (const std::optional<double> balance = ebs->burst_balance())
          burst_balance = burst_balance ? std::min(*burst_balance, *balance) : *balance;
    if (burst_balance) timeseries_.set(prefix + "burst_balance", *burst_balance);
    // An EBS-optimized instance's limits: how busy over the interval, and its CloudWatch balances where it bursts.
    if (const models::EbsInstanceLink* instance = b->hw->ebs_instance()) {
      const int64_t busy = instance->busy_ns();
      timeseries_.set(prefix + "ebs_instance_util",
                      static_cast<double>(busy - std::exchange(b->sampled_ebs_instance_busy_ns, busy)) / interval_ns);
      if (const std::optional<double> io = instance->io_balance()) timeseries_.set(prefix + "ebs_io_balance", *io);
      if (const std::optional<double> bytes = instance->byte_balance()) timeseries_.set(prefix + "ebs_byte_balance", *bytes);
    }
    const models::CpuHostStats cpu = b->hw->cpu().host_stats();
    timeseries_.set(prefix + "cpu_util", (cpu.busy_core_seconds - std::exchange(b->sampled_cpu_busy_core_s,
                                                                                 cpu.busy_core_seconds)) /
                                             (spec_.sample_interval.seconds_f() * static_cast<double>(cpu.cores)));
    // The request-handling thread pools over the interval: 1 - NetworkProcessorAvgIdlePercent (processors busy
    // parsing, sending, or blocked on a sendfile's disk read, as in the summary) and 1 - RequestHandlerAvgIdlePercent.
    int64_t network_busy = 0;
    for (const Processor& p : b->processors) network_busy += p.meter.busy_server_ns(now);
    timeseries_.set(prefix + "network_threads_util",
                    static_cast<double>(network_busy - std::exchange(b->sampled_network_busy_ns, network_busy)) /
                        (interval_ns * static_cast<double>(b->processors.size())));
    const models::CpuPoolStats io = b->hw->cpu().pool_stats(b->io_pool);
    timeseries_.set(prefix + "io_threads_util",
                    static_cast<double>(io.thread_busy_ns - std::exchange(b->sampled_io_busy_ns, io.thread_busy_ns)) /
                        (io.thread_capacity_ns - std::exchange(b->sampled_io_capacity_ns, io.thread_capacity_ns)));
    const models::PageCacheStats& cache = b->hw->page_cache().stats();
    const uint64_t hit = cache.hit_bytes - b->sampled_hit_bytes, miss = cache.miss_bytes - b->sampled_miss_bytes;
    b->sampled_hit_bytes = cache.hit_bytes;
    b->sampled_miss_bytes = cache.miss_bytes;
    // Over the last interval; empty when nothing was read.
    if (hit + miss > 0) timeseries_.set(prefix + "page_cache_hit_ratio", static_cast<double>(hit) / static_cast<double>(hit + miss));
    timeseries_.set(prefix + "page_cache_mib", static_cast<double>(cache.cached_bytes) / 1048576.0);
    timeseries_.set(prefix + "dirty_mib", static_cast<double>(b->hw->page_cache().dirty_bytes()) / 1048576.0);
    // The size of the broker's logs (kafka.log:type=Log,name=Size summed): what retention bounds on its disks.
    int64_t log_bytes = 0;
    for (const auto& [ref, p] : b->rm->partitions()) log_bytes += p->log().size_bytes();
    timeseries_.set(prefix + "log_mib", static_cast<double>(log_bytes) / 1048576.0);
    // Young-GC pause time of the collections that started in the interval.
    if (const models::YoungGc* gc = b->hw->young_gc()) {
      const Duration paused = gc->paused_total();
      timeseries_.set(prefix + "gc_pause_ms", (paused - std::exchange(b->sampled_gc_paused, paused)).ms_f());
    }
  }
  // Every group's lag, as kafka-consumer-groups counts it but live: each of its partitions' high watermark (the
  // leader's, now) minus the group's position in it, its consumer's next offset. Where the consumer has no position
  // (it has not started, or a restarted one is still finding its offsets) the group's committed offset stands in,
  // and with neither the partition has no lag yet (kafka-consumer-groups shows none for a group that never
  // committed). Kafka's own records-lag metric counts from the high watermark of the partition's last fetch, so a
  // consumer with records prefetched reads lower than this by up to a fetch's worth.
  std::map<std::string, int64_t> group_lag;
  for (auto& c : consumers_) {
    if (c->dead) continue;
    const std::string& group = spec_.consumers[c->spec_index].group;
    int64_t& lag = group_lag[group_key(*c)];
    const auto committed = group_offsets_.find(group);
    for (const kafka::PartitionAssignment& a : c->assignment) {
      std::optional<int64_t> position = c->started ? c->consumer->position(a.partition) : std::nullopt;
      if (!position && committed != group_offsets_.end())
        if (const auto it = committed->second.find(a.partition); it != committed->second.end()) position = it->second;
      const kafka::Partition* p = leader_partition(a.partition);
      // A position is a high watermark the consumer saw or an offset below one, and high watermarks never decrease:
      // at least 0.
      if (position.has_value() && p != nullptr) lag += std::max<int64_t>(p->high_watermark() - *position, 0);
    }
  }
  int64_t lag = 0;
  for (const auto& [group, records] : group_lag) {
    lag += records;
    GroupLag& g = group_lag_[group];
    g.end = records;
    g.end_at = now;
    g.max = std::max(g.max, records);
    if (!g.after_warmup && now >= SimTime::zero() + spec_.warmup) {
      g.after_warmup = records;
      g.after_warmup_at = now;
    }
  }
  timeseries_.set("consumer_lag_records", static_cast<double>(lag));
  // With more than one group, each one's (named as the client-id columns are).
  if (group_lag_.size() > 1)
    for (const auto& [group, records] : group_lag) timeseries_.set("group_" + column_name(group) + "_lag_records", static_cast<double>(records));
  if (now + spec_.sample_interval <= SimTime::zero() + spec_.duration)
    engine_.schedule_after(spec_.sample_interval, [this] { sample(); });
  if (progress_hook_) progress_hook_(now);
}

HostHardware& World::broker_hardware(uint32_t broker) {
  KS_ASSERT_LT(broker, brokers_.size());
  return *brokers_[broker]->hw;
}

std::vector<uint32_t> World::connections_per_processor(uint32_t broker) const {
  KS_ASSERT_LT(broker, brokers_.size());
  const Broker& b = *brokers_[broker];
  std::vector<uint32_t> counts(b.processors.size(), 0);
  for (const auto& channels : b.connections)
    for (const auto& conn : channels)
      if (conn) ++counts[conn->processor];
  return counts;
}

const kafka::Partition* World::partition(uint32_t broker, PartitionRef ref) const {
  KS_ASSERT_LT(broker, brokers_.size());
  return brokers_[broker]->rm->partition(ref);
}

std::vector<std::vector<PartitionRef>> World::log_dir_partitions(uint32_t broker) const {
  KS_ASSERT_LT(broker, brokers_.size());
  const Broker& b = *brokers_[broker];
  std::vector<std::vector<PartitionRef>> dirs(b.hw->disk_count());
  // The log id is the creation index, and log id mod the dirs is the log's dir (the constructor's assign_log).
  for (size_t log_id = 0; log_id < b.log_partitions.size(); ++log_id)
    dirs[log_id % dirs.size()].push_back(b.log_partitions[log_id]);
  return dirs;
}

void World::check_durability(WorldSummary& s) {
  // Every acknowledged offset against its partition's leader's log now: at or above the log end offset (or no
  // leader) it is lost, below the log start offset retention deleted it. Kafka's guarantee is about the log, and
  // with leaders fixed and no page cache lost the leader's log is the partition's.
  for (size_t t = 0; t < acked_offsets_.size(); ++t) {
    for (size_t p = 0; p < acked_offsets_[t].size(); ++p) {
      AckedOffsets& acked = acked_offsets_[t][p];
      const kafka::Partition* leader =
          leader_partition(PartitionRef{static_cast<int32_t>(t), static_cast<int32_t>(p)});
      const DurabilityCount c = leader != nullptr
                                    ? acked.count_against(leader->log_start_offset(), leader->log_end_offset())
                                    : acked.count_without_log();
      s.acked_records_checked += c.checked;
      s.acked_records_lost += c.lost;
      s.acked_records_deleted += c.deleted;
    }
  }
  s.acked_records_unchecked = acked_without_offset_;
  s.consumer_skipped = consumer_skipped_;
  s.appended_out_of_order = appended_out_of_order_;
}

const kafka::Partition* World::leader_partition(PartitionRef ref) const {
  for (uint32_t b = 0; b < spec_.brokers; ++b) {
    const kafka::Partition* p = partition(b, ref);
    if (p != nullptr && p->is_leader()) return p;
  }
  return nullptr;
}

std::vector<World::ConsumerView> World::consumers() const {
  std::vector<ConsumerView> views;
  std::vector<uint32_t> instances(spec_.consumers.size(), 0);
  // The live process of each consumer host, in node order (a restarted one sits at the end of consumers_).
  std::vector<const ConsumerClient*> live;
  for (const auto& c : consumers_)
    if (!c->dead) live.push_back(c.get());
  std::sort(live.begin(), live.end(), [](const ConsumerClient* a, const ConsumerClient* b) { return a->id < b->id; });
  for (const ConsumerClient* c : live) {
    ConsumerView v;
    v.node = c->id;
    v.spec_index = c->spec_index;
    v.instance = instances[c->spec_index]++;
    v.started = c->started;
    for (const auto& a : c->assignment) v.assignment.push_back(a.partition);
    v.consumer = c->consumer.get();
    views.push_back(std::move(v));
  }
  return views;
}

DistributionSummary summarise_distribution(const sim::Histogram& h) {
  DistributionSummary d;
  d.count = h.count();
  if (d.count == 0) return d;
  d.p50 = static_cast<double>(h.percentile(50));
  d.p95 = static_cast<double>(h.percentile(95));
  d.p99 = static_cast<double>(h.percentile(99));
  d.max = static_cast<double>(h.max());
  d.mean = h.mean();
  return d;
}

void World::start_consumer(ConsumerClient& c) {
  if (c.dead) return;
  c.started = true;
  // A member joins its group in its first poll (JoinGroup): from then on the group is not empty, and the coordinator
  // takes commits only from its members (see send_offset_commit).
  const ConsumerSpec& spec = spec_.consumers[c.spec_index];
  if (is_group_member(spec)) groups_with_members_.insert(spec.group);
  // A consumer without partitions has no position to initialise and needs no coordinator (updateFetchPositions
  // looks the coordinator up only for partitions that lack a position).
  if (c.assignment.empty()) return consumer_poll(c);
  // Without a group.id there are no committed offsets to ask for (the consumer has no ConsumerCoordinator), and
  // after seekToEnd none is asked for: every partition is reset with ListOffsets.
  if (spec.group.empty() || spec.seek_to_end) return consumer_assigned(c);
  c.offsets_wanted = true;
  send_find_coordinator(c);
}

// ------------------------------------------------------------------------------------------------
// Faults

void World::restart_consumer(ConsumerClient& old, Duration downtime, const kafka::ConsumerConfig* config_change,
                             std::optional<Duration> processing_time) {
  KS_ASSERT(!old.dead);
  old.dead = true;
  // The process ends here, and with it the work it had scheduled.
  if (old.app_busy_until > engine_.now()) {
    old.app_busy -= old.app_busy_until - engine_.now();
    old.app_busy_until = engine_.now();
  }
  engine_.cancel(old.wakeup.id);
  auto c = std::make_unique<ConsumerClient>();
  c->id = old.id;
  c->id_stats = old.id_stats;
  c->group_consumed = old.group_consumed;
  c->spec_index = old.spec_index;
  // The new process runs what was deployed with it, else what its predecessor ran.
  c->config = config_change != nullptr ? *config_change : old.config;
  c->per_record = processing_time.value_or(old.per_record);
  c->incarnation = old.incarnation + 1;
  c->correlation_base = uint64_t{c->incarnation} << 40;
  kafka::ConsumerConfig config = c->config;
  config.client_id = c->id;
  // The same streams as the first process's, renamed: a restarted process draws its own jitter.
  const std::string name = "consumer/" + std::to_string(c->spec_index) + "/node-" + std::to_string(c->id) +
                           "/incarnation-" + std::to_string(c->incarnation);
  c->consumer = std::make_unique<kafka::KafkaConsumer>(config, metadata(), engine_.now(),
                                                       sim::Rng::stream(spec_.seed, name + "/client"));
  c->consumer->start_correlation_ids_at(c->correlation_base);
  c->least_loaded_rng = sim::Rng::stream(spec_.seed, name + "/least-loaded-node");
  c->commit_backoff_rng = sim::Rng::stream(spec_.seed, name + "/commit-backoff");
  // The same partitions; their positions come from the group's committed offsets again (none known yet).
  for (const auto& a : old.assignment) c->assignment.push_back({a.partition, std::nullopt});
  ConsumerClient* client = c.get();
  consumers_.push_back(std::move(c));
  engine_.schedule_after(downtime, [this, client] { start_consumer(*client); });
}

// The process starts its application: closed-loop threads call send() (each producer_send_cost from now), an open
// loop's schedule begins now (records whose time fell while no process ran are never sent).
void World::start_producer(ProducerClient& c) {
  if (c.dead) return;
  const ProducerSpec& ps = spec_.producers[c.spec_index];
  ProducerClient* client = &c;
  if (ps.driven) return;  // its first send() comes from drive_send
  if (ps.closed_loop_threads > 0) {
    for (uint32_t t = 0; t < ps.closed_loop_threads; ++t)
      engine_.schedule_at(engine_.now() + spec_.producer_send_cost, [this, client, t] { producer_send_next(*client, t); });
    return;
  }
  c.unthrottled_last = engine_.now();
  c.app_free_at = engine_.now();
  c.arrival = std::make_unique<ArrivalProcess>(ps.arrival, ps.records_per_s, engine_.now());
  plan_arrivals(c);
}

World::ProducerClient& World::producer_of_request(NodeId client, uint64_t correlation) {
  KS_ASSERT_GE(client, static_cast<NodeId>(spec_.brokers));
  const auto slot = static_cast<size_t>(client) - spec_.brokers;
  KS_ASSERT_LT(slot, producer_processes_.size());
  const std::vector<ProducerClient*>& processes = producer_processes_[slot];
  const uint64_t incarnation = correlation >> 40;
  KS_ASSERT_LT(incarnation, processes.size());
  return *processes[incarnation];
}

uint64_t World::restart_producer(ProducerClient& old, Duration downtime, const kafka::ProducerConfig* config) {
  KS_ASSERT(!old.dead);
  // What send() had accepted before this instant is in the accumulator; then the process ends, and with it the work
  // it had scheduled and the records its application had not handed to send() yet.
  flush_quiet_sends(old);
  old.dead = true;
  old.compressor.stop(engine_.now());
  engine_.cancel(old.arrival_event.id);
  old.arrival_event.at = SimTime::max();
  engine_.cancel(old.wakeup.id);
  old.wakeup.at = SimTime::max();
  old.ahead.clear();
  old.backlog.clear();
  old.quiet = 0;
  old.cursor.reset();
  uint64_t lost = 0;
  for (const ProducerClient::InFlight& r : old.in_flight) lost += r.done ? 0 : 1;
  // A request still being compressed was never written to its socket: no broker will append its batches. One already
  // written (handed to the network) goes on: the kernel sends what the socket holds when the process dies.
  for (const ProducerClient::Unsent& u : old.unsent) {
    if (u.message) continue;
    for (const uint64_t tag : u.batch_tags) {
      const auto sent = sent_batches_.find(tag);
      if (sent != sent_batches_.end() && sent->second.requests_unhandled > 0) --sent->second.requests_unhandled;
    }
  }
  // Every batch the process still held fails with it: only a request already on its way can still append it.
  for (const kafka::BatchId id : old.producer->accumulator().incomplete_batches()) {
    const auto it = sent_batches_.find((old.index << 40) | id);
    if (it == sent_batches_.end()) continue;
    it->second.failed = true;
    if (it->second.never_in_a_log()) sent_batches_.erase(it);
  }
  // The new process: the same host, client.id and workload, new connections (the broker keeps the old ones' state:
  // their requests still in its socket buffers are handled, their answers reach nobody), its own random streams.
  const ProducerSpec& ps = spec_.producers[old.spec_index];
  auto c = std::make_unique<ProducerClient>();
  c->id = old.id;
  c->id_stats = old.id_stats;
  c->spec_index = old.spec_index;
  c->instance = old.instance;
  c->index = producers_.size();
  c->incarnation = old.incarnation + 1;
  c->appended_first_record.assign(static_cast<size_t>(spec_.topics[static_cast<size_t>(ps.topic)].partitions), -1);
  const std::string name = "producer/" + std::to_string(c->spec_index) + "/" + std::to_string(c->instance) +
                           "/incarnation-" + std::to_string(c->incarnation);
  c->rng = sim::Rng::stream(spec_.seed, name + "/workload");
  // Its configs: a restart's own (a deployed change), else those of the process before it.
  c->producer = std::make_unique<kafka::Producer>(config != nullptr ? *config : old.producer->config(), c->id,
                                                  sim::Rng::stream(spec_.seed, name + "/client"));
  c->producer->set_metadata(metadata());
  c->producer->set_tail_appends_quiet(spec_.quiet_tail_appends);
  c->producer->set_latency_metrics_from(SimTime::zero() + spec_.warmup);
  c->producer->set_timestamp_offset(ps.timestamp_offset);
  c->producer->start_correlation_ids_at(uint64_t{c->incarnation} << 40);
  c->least_loaded_rng = sim::Rng::stream(spec_.seed, name + "/least-loaded-node");
  c->producer->set_compression(ps.topic, compression_.producer_compression(c->spec_index));
  c->channel_to_broker = old.channel_to_broker;
  for (NodeId b = 0; b < static_cast<NodeId>(spec_.brokers); ++b) {
    const int32_t channel = ++c->channel_to_broker[static_cast<size_t>(b)];
    network_->set_receive_buffer(host_of(c->id), host_of(b), producer_connection_receive_buffer(),
                                 flow_tag(Leg::request, channel));
  }
  c->compressor.start_at(engine_.now() + downtime);
  if (utilisation_origin_.taken) c->compressor.set_origin(utilisation_origin_.time);
  ProducerClient* client = c.get();
  producer_processes_[static_cast<size_t>(c->id) - spec_.brokers].push_back(client);
  producers_.push_back(std::move(c));
  engine_.schedule_after(downtime, [this, client] { start_producer(*client); });
  records_lost_in_restarts_ += lost;
  return lost;
}

std::string World::node_name(NodeId node) const {
  return node < static_cast<NodeId>(spec_.brokers) ? "broker-" + std::to_string(node)
                                                   : "client-" + std::to_string(node - static_cast<NodeId>(spec_.brokers));
}

// ---- Dynamic configs (the scenario's "operations": kafka-configs --alter) ----

kafka::ClientQuotas& World::client_quotas(Broker& b) {
  if (b.quotas == nullptr) b.quotas = std::make_unique<kafka::ClientQuotas>(spec_.quota_window);
  return *b.quotas;
}

// The ReplicaManager asks a consumer fetch's quotas (its size cap and throttle) once some fetch or request quota
// exists on the broker; it keeps asking after they are deleted (a client without a quota is never throttled).
void World::watch_consumer_fetch_quotas(Broker& b) {
  if (b.fetch_quota != nullptr || b.quotas == nullptr) return;
  if (!b.quotas->fetch.enabled() && !b.quotas->request.enabled()) return;
  b.fetch_quota = std::make_unique<BrokerFetchQuota>(*this, b);
  b.rm->set_consumer_fetch_quota(b.fetch_quota.get());
}

kafka::ReplicationQuotas& World::replication_quotas(Broker& b) {
  if (b.replication_quotas == nullptr) {
    b.replication_quotas = std::make_unique<kafka::ReplicationQuotas>(
        spec_.replication_quota_window, throttle_rate(b.id, 0), throttle_rate(b.id, 1));
    // The summary counts from the end of the warm-up (its first whole millisecond, Kafka's clock).
    const int64_t warmup_ms = (spec_.warmup.ns() + 999'999) / 1'000'000;
    b.replication_quotas->leader.count_from(warmup_ms);
    b.replication_quotas->follower.count_from(warmup_ms);
  }
  return *b.replication_quotas;
}

// TopicConfigHandler: topic `t`'s throttled-replica lists mark the broker's leader and follower quotas; a quota
// that throttles some replica is handed to the leader's fetch handling or the follower's fetchers.
void World::mark_throttled_replicas(Broker& b, int32_t t) {
  kafka::ReplicationQuotas& rq = replication_quotas(b);
  const kafka::PartitionConfig& config = spec_.topics[static_cast<size_t>(t)].config;
  rq.leader.mark_throttled(t, config.leader_throttled_replicas, b.id);
  rq.follower.mark_throttled(t, config.follower_throttled_replicas, b.id);
  if (rq.leader.any_throttled()) b.rm->set_leader_replication_quota(&rq.leader);
  if (rq.follower.any_throttled()) b.fetchers->set_follower_quota(&rq.follower);
}

// A broker's leader (0) or follower (1) replication.throttled.rate: its own dynamic config, else the cluster-wide
// dynamic default, else the static one (DynamicBrokerConfig's order).
int64_t World::throttle_rate(NodeId broker, int role) const {
  KS_ASSERT(role == 0 || role == 1);
  const auto r = static_cast<size_t>(role);
  if (static_cast<size_t>(broker) < throttle_rate_overrides_.size() &&
      throttle_rate_overrides_[static_cast<size_t>(broker)][r])
    return *throttle_rate_overrides_[static_cast<size_t>(broker)][r];
  if (throttle_rate_default_[r]) return *throttle_rate_default_[r];
  return role == 0 ? spec_.leader_replication_throttled_rate : spec_.follower_replication_throttled_rate;
}

void World::apply_topic_config(int32_t topic_index, const kafka::PartitionConfig& config) {
  const auto t = static_cast<size_t>(topic_index);
  KS_ASSERT_LT(t, spec_.topics.size());
  spec_.topics[t].config = config;
  for (auto& b : brokers_) {
    b->rm->alter_topic_config(topic_index, config);
    // The topic's logs here: their files created from now on get segment.bytes of room on the disk.
    for (uint32_t log_id = 0; log_id < b->log_partitions.size(); ++log_id)
      if (b->log_partitions[log_id].topic == topic_index)
        b->hw->storage().set_segment_bytes(log_id, static_cast<uint64_t>(config.log.segment_bytes));
    if (!config.leader_throttled_replicas.empty() || !config.follower_throttled_replicas.empty() ||
        b->replication_quotas != nullptr)
      mark_throttled_replicas(*b, topic_index);
  }
  // UnderMinIsrPartitionCount against the new minimum, from now.
  const TopicSpec& topic = spec_.topics[t];
  const int32_t min_isr = topic.config.min_insync_replicas.value_or(spec_.broker_config.min_insync_replicas);
  for (int32_t p = 0; p < topic.partitions; ++p) {
    const PartitionRef ref{topic_index, p};
    const NodeId leader = replicas_[t][static_cast<size_t>(p)].front();
    const kafka::Partition* part = brokers_[static_cast<size_t>(leader)]->rm->partition(ref);
    KS_ASSERT(part != nullptr);
    under_min_isr_.update(ref, part->isr().size() < static_cast<size_t>(min_isr), engine_.now());
  }
}

void World::alter_configs(const ConfigAlterSpec& op) {
  const std::string entity =
      std::string(to_string(op.entity_type)) + " " + op.entity_name.value_or(std::string("<default>"));
  switch (op.entity_type) {
    case ConfigEntityType::clients:
      // ClientQuotaManager.updateQuota on every broker.
      for (auto& b : brokers_) {
        kafka::ClientQuotas& quotas = client_quotas(*b);
        const auto manager = [&](const std::string& name) -> kafka::ClientQuotaManager& {
          return name == "producer_byte_rate" ? quotas.produce : name == "consumer_byte_rate" ? quotas.fetch : quotas.request;
        };
        for (const auto& [name, value] : op.added) manager(name).set_quota(op.entity_name, value);
        for (const std::string& name : op.deleted) manager(name).remove_quota(op.entity_name);
        watch_consumer_fetch_quotas(*b);
      }
      break;
    case ConfigEntityType::brokers: {
      // What kafka-configs --describe lists from now on: "name=value" set, "-name" deleted.
      std::map<std::string, std::string>& dynamic =
          op.entity_name ? dynamic_broker_configs_.at(std::stoul(*op.entity_name)) : dynamic_default_broker_configs_;
      for (const std::string& change : op.changes) {
        if (change.front() == '-') dynamic.erase(change.substr(1));
        else dynamic[change.substr(0, change.find('='))] = change.substr(change.find('=') + 1);
      }
      // DynamicReplicationConfig -> ReplicationQuotaManager.updateQuota, on every broker (those the change does not
      // concern get the rate they had).
      const auto role = [](const std::string& name) { return name.rfind("leader.", 0) == 0 ? 0 : 1; };
      std::array<std::optional<int64_t>, 2>& target =
          op.entity_name ? throttle_rate_overrides_[std::stoul(*op.entity_name)] : throttle_rate_default_;
      // op.added and op.deleted hold the throttle rates and num.io.threads (the topics' defaults come as
      // topic_updates).
      const auto throttle = [](const std::string& name) { return name.find(".replication.throttled.rate") != std::string::npos; };
      for (const auto& [name, value] : op.added)
        if (throttle(name)) target[static_cast<size_t>(role(name))] = static_cast<int64_t>(value);
      for (const std::string& name : op.deleted)
        if (throttle(name)) target[static_cast<size_t>(role(name))].reset();
      // DynamicThreadPool's pools, each a broker's own value, else the cluster-wide one, else the static config:
      // num.io.threads (KafkaRequestHandlerPool.resizeThreadPool), num.replica.fetchers
      // (ReplicaFetcherManager.resizeThreadPool: every follower partition re-hashed over the new count),
      // background.threads (KafkaScheduler.resizeThreadPool).
      io_threads_.apply(op, "num.io.threads");
      replica_fetchers_.apply(op, "num.replica.fetchers");
      background_threads_.apply(op, "background.threads");
      for (auto& b : brokers_) {
        const uint32_t io = io_threads_.of(b->id, spec_.num_io_threads);
        if (io != b->hw->cpu().pool_stats(b->io_pool).threads) b->hw->cpu().set_pool_threads(b->io_pool, io);
        const uint32_t fetchers =
            replica_fetchers_.of(b->id, static_cast<uint32_t>(spec_.fetcher_config.num_replica_fetchers));
        if (static_cast<int32_t>(fetchers) != b->fetchers->num_replica_fetchers()) resize_fetchers(*b, fetchers);
        const uint32_t background = background_threads_.of(b->id, spec_.background_threads);
        if (background != b->hw->storage().background_threads()) b->hw->storage().resize_background_threads(background);
      }
      for (auto& b : brokers_) {
        // Without quota managers nothing is throttled here yet; they take the rates when a topic first throttles.
        if (b->replication_quotas == nullptr) continue;
        b->replication_quotas->leader.update_quota(throttle_rate(b->id, 0));
        b->replication_quotas->follower.update_quota(throttle_rate(b->id, 1));
      }
      // The topics' defaults (DynamicLogConfig): every broker's, then each topic's configs that follow them.
      if (op.broker_min_insync_replicas) {
        spec_.broker_config.min_insync_replicas = *op.broker_min_insync_replicas;
        for (auto& b : brokers_) b->rm->set_default_min_insync_replicas(*op.broker_min_insync_replicas);
      }
      for (const auto& [topic, config] : op.topic_updates) apply_topic_config(topic, config);
      if (op.offsets_topic_config && offsets_topic_ >= 0) apply_topic_config(offsets_topic_, *op.offsets_topic_config);
      break;
    }
    case ConfigEntityType::topics: {
      // What every later reader of the topic's configs sees (the Kafka-tools view among them): which configs the
      // topic sets itself (an added config becomes the topic's own, a deleted one the broker's).
      TopicSpec& altered = spec_.topics[static_cast<size_t>(op.topic)];
      for (const std::string& change : op.changes) {
        const bool deleted = change.front() == '-';
        const std::string name = deleted ? change.substr(1) : change.substr(0, change.find('='));
        std::erase(altered.overrides, name);
        if (!deleted) altered.overrides.push_back(name);
      }
      apply_topic_config(op.topic, op.topic_config);
      break;
    }
  }
  nlohmann::json changes = nlohmann::json::array();
  for (const std::string& c : op.changes) changes.push_back(c);
  events_.push_back({{"time_s", engine_.now().seconds_f()},
                     {"type", "alter_configs"},
                     {"entity", entity},
                     {"changes", std::move(changes)}});
  operations_applied_.push_back({.at_s = engine_.now().seconds_f(), .entity = entity, .changes = op.changes, .deleted = {}});
}

void World::DynamicCount::apply(const ConfigAlterSpec& op, const std::string& name) {
  std::optional<uint32_t>& target = op.entity_name ? own[std::stoul(*op.entity_name)] : cluster_default;
  for (const auto& [added, value] : op.added)
    if (added == name) target = static_cast<uint32_t>(value);
  for (const std::string& deleted : op.deleted)
    if (deleted == name) target.reset();
}

void World::delete_records(size_t index) {
  const DeleteRecordsSpec& op = spec_.delete_records[index];
  const size_t report_index = operations_applied_.size();
  WorldSummary::OperationReport& report = operations_applied_.emplace_back();
  report.at_s = engine_.now().seconds_f();
  report.tool = "kafka-delete-records";
  nlohmann::json partitions = nlohmann::json::array();
  // DeleteRecordsCommand -> Admin.deleteRecords: the partitions grouped by leader, one request to each.
  std::map<kafka::NodeId, std::pair<kafka::DeleteRecordsRequest, PendingDeleteRecords>> requests;
  for (const DeleteRecordsSpec::Target& t : op.partitions) {
    const PartitionRef ref{t.topic, t.partition};
    const std::string name = spec_.topics[static_cast<size_t>(t.topic)].name + "-" + std::to_string(t.partition);
    WorldSummary::OperationReport::DeletedRecords& d = report.deleted.emplace_back();
    d.partition = name;
    d.offset = t.offset;
    report.changes.push_back(name + (t.offset == -1 ? " before the high watermark" : " before " + std::to_string(t.offset)));
    partitions.push_back({{"topic", spec_.topics[static_cast<size_t>(t.topic)].name},
                          {"partition", t.partition},
                          {"offset", t.offset}});
    const kafka::Partition* leader = leader_partition(ref);
    KS_ASSERT(leader != nullptr);  // leaders are fixed: every partition has one
    d.requested_offset = t.offset == -1 ? leader->high_watermark() : t.offset;
    auto& [request, pending] = requests[leader->leader_id()];
    request.partitions.push_back(kafka::DeleteRecordsPartition{ref, t.offset});
    pending.entries.push_back(report.deleted.size() - 1);
  }
  events_.push_back({{"time_s", engine_.now().seconds_f()},
                     {"type", "delete_records"},
                     {"partitions", std::move(partitions)}});
  for (auto& [leader, entry] : requests) {
    auto& [request, pending] = entry;
    request.correlation_id = next_delete_records_id_++;
    request.timeout_ms = delete_records_timeout_ms;
    pending.report = report_index;
    delete_records_pending_.emplace(request.correlation_id, std::move(pending));
    handle_delete_records(*brokers_[static_cast<size_t>(leader)], std::move(request));
  }
}

void World::handle_delete_records(Broker& b, kafka::DeleteRecordsRequest request) {
  // The leader handles it on an I/O thread for request_fixed_cost, as any request: after the requests queued before
  // it, and not while the broker's JVM is paused. A full request queue holds the network thread (RequestChannel's put
  // blocks), here the request tries again a millisecond later [A].
  sim::Callback handle = [this, &b, request] {
    kafka::BrokerOutbox out;
    b.rm->handle_delete_records(request, engine_.now(), out);
    dispatch(b, out);
  };
  if (b.hw->cpu().try_submit(b.io_pool, spec_.cpu_costs.request_fixed_cost, handle) == models::SubmitStatus::kQueueFull)
    engine_.schedule_after(Duration::from_ms(1),
                           [this, &b, request = std::move(request)]() mutable { handle_delete_records(b, std::move(request)); });
}

void World::delete_records_answered(const kafka::DeleteRecordsResponse& response) {
  const auto it = delete_records_pending_.find(response.correlation_id);
  KS_ASSERT(it != delete_records_pending_.end());
  WorldSummary::OperationReport& report = operations_applied_[it->second.report];
  KS_ASSERT_EQ(response.partitions.size(), it->second.entries.size());
  nlohmann::json partitions = nlohmann::json::array();
  for (size_t i = 0; i < response.partitions.size(); ++i) {
    const kafka::DeleteRecordsPartitionResult& r = response.partitions[i];
    WorldSummary::OperationReport::DeletedRecords& d = report.deleted[it->second.entries[i]];
    d.error = std::string(kafka::to_string(r.error));
    d.low_watermark = r.low_watermark;
    d.answered_s = engine_.now().seconds_f();
    if (r.error != kafka::Errc::none && r.error != kafka::Errc::request_timed_out) d.requested_offset = -1;
    partitions.push_back({{"topic", spec_.topics[static_cast<size_t>(r.partition.topic)].name},
                          {"partition", r.partition.partition},
                          {"error", d.error},
                          {"low_watermark", r.low_watermark}});
  }
  events_.push_back({{"time_s", engine_.now().seconds_f()},
                     {"type", "delete_records_answered"},
                     {"partitions", std::move(partitions)}});
  delete_records_pending_.erase(it);
}

void World::schedule_faults() {
  const SimTime end_of_run = SimTime::zero() + spec_.duration;
  fault_records_lost_.assign(spec_.faults.size(), 0);
  for (const FaultSpec& f : spec_.faults) {
    KS_ASSERT_LT(static_cast<size_t>(f.host), hosts_.size());
    KS_ASSERT_LT(f.at, spec_.duration);
    engine_.schedule_at(SimTime::zero() + f.at, [this, &f] { apply_fault(f, true); });
    // A fault with no end, or one ending with the run, lasts to the end: no fault_end event.
    const bool restart = f.kind == FaultKind::consumer_restart || f.kind == FaultKind::producer_restart;
    if (f.duration && !restart && SimTime::zero() + f.at + *f.duration < end_of_run)
      engine_.schedule_at(SimTime::zero() + f.at + *f.duration, [this, &f] { apply_fault(f, false); });
  }
}

void World::apply_fault(const FaultSpec& f, bool start) {
  const SimTime end = f.duration ? SimTime::zero() + f.at + *f.duration : SimTime::zero() + spec_.duration;
  nlohmann::json event = {{"time_s", engine_.now().seconds_f()},
                          {"type", start ? "fault_start" : "fault_end"},
                          {"fault", std::string(to_string(f.kind))},
                          {"host", node_name(static_cast<NodeId>(f.host))},
                          // Pairs a start with its end (no two faults of one kind overlap on one host).
                          {"id", std::string(to_string(f.kind)) + " " + node_name(static_cast<NodeId>(f.host))}};
  const auto disks = [&](const std::function<void(models::DiskModel&)>& apply) {
    HostHardware& hw = *brokers_[f.host]->hw;
    if (f.disk) {
      apply(hw.disk(*f.disk));
      return;
    }
    for (size_t d = 0; d < hw.disk_count(); ++d) apply(hw.disk(d));
  };
  switch (f.kind) {
    case FaultKind::slow_disk:
      disks([&](models::DiskModel& d) {
        if (start) d.set_slow(f.latency_multiplier, f.bandwidth_multiplier);
        else d.set_slow(1.0, 1.0);
      });
      if (start) {
        event["latency_multiplier"] = f.latency_multiplier;
        event["bandwidth_multiplier"] = f.bandwidth_multiplier;
      }
      break;
    case FaultKind::stalled_disk:
      // The stall ends by itself (DiskModel: no op starts or completes before its end).
      if (start) disks([&](models::DiskModel& d) { d.stall_until(end); });
      break;
    case FaultKind::slow_cpu:
      brokers_[f.host]->hw->cpu().set_speed_multiplier(start ? f.speed : 1.0);
      if (start) event["speed"] = f.speed;
      break;
    case FaultKind::pause:
      if (start) brokers_[f.host]->hw->cpu().pause_for(end - engine_.now());
      break;
    case FaultKind::slow_network: {
      models::LinkFault link;
      if (start) {
        link.rate_multiplier = f.bandwidth_multiplier;
        link.extra_latency = f.extra_latency;
        link.jitter_max = f.jitter;
        link.loss_per_packet = f.loss;
        event["bandwidth_multiplier"] = f.bandwidth_multiplier;
        event["extra_latency_ms"] = f.extra_latency.ms_f();
        event["jitter_ms"] = f.jitter.ms_f();
        event["loss"] = f.loss;
      }
      network_->set_host_fault(hosts_[f.host], link);
      break;
    }
    case FaultKind::drop_caches:
      brokers_[f.host]->hw->page_cache().drop_caches();
      break;
    case FaultKind::consumer_restart: {
      // The live process of that host (the last entry with its node).
      ConsumerClient* live = nullptr;
      for (auto& c : consumers_)
        if (c->id == static_cast<NodeId>(f.host) && !c->dead) live = c.get();
      KS_ASSERT_MSG(live != nullptr, "a consumer_restart names a consumer's host");
      restart_consumer(*live, f.duration.value_or(Duration::zero()), f.consumer_config ? &*f.consumer_config : nullptr,
                       f.processing_time);
      if (f.duration) event["downtime_s"] = f.duration->seconds_f();
      if (!f.config_changes.empty()) event["config"] = f.config_changes;
      break;
    }
    case FaultKind::producer_restart: {
      const auto slot = static_cast<size_t>(f.host) - spec_.brokers;
      KS_ASSERT_MSG(slot < producer_processes_.size(), "a producer_restart names a producer's host");
      ProducerClient& live = *producer_processes_[slot].back();
      const uint64_t lost = restart_producer(live, f.duration.value_or(Duration::zero()),
                                             f.producer_config ? &*f.producer_config : nullptr);
      fault_records_lost_[static_cast<size_t>(&f - spec_.faults.data())] = lost;
      event["records_lost"] = lost;
      if (f.duration) event["downtime_s"] = f.duration->seconds_f();
      if (f.producer_config) event["config"] = f.config_changes;
      break;
    }
    case FaultKind::memory_pressure: {
      // The page cache's budget from the broker's memory (HostHardware: RAM less the JVM heap and other memory).
      const HostHardwareSpec& hw = spec_.broker_hardware;
      const uint64_t budget = hw.ram_bytes - hw.jvm_heap_bytes - hw.other_memory_bytes;
      KS_ASSERT_LT(f.bytes, budget);
      brokers_[f.host]->hw->page_cache().set_cache_bytes(start ? budget - f.bytes : budget);
      if (start) event["bytes"] = f.bytes;
      break;
    }
  }
  if (f.disk && (f.kind == FaultKind::slow_disk || f.kind == FaultKind::stalled_disk)) event["disk"] = *f.disk;
  if (f.kind == FaultKind::drop_caches || f.kind == FaultKind::consumer_restart ||
      f.kind == FaultKind::producer_restart) {
    event["type"] = "fault";  // an instant (a restart's downtime is in "downtime_s")
    event["duration_s"] = 0.0;
  } else if (start) {
    event["until_s"] = end.seconds_f();
  }
  events_.push_back(std::move(event));
}

// Every modelled resource's utilisation since time zero, by name (see WorldSummary::utilisation). The application
// threads that waited for buffer.memory go to `not_bottleneck`: however busy, they are not what limits.
World::Shares World::resource_utilisation(std::vector<std::string>* not_bottleneck) const {
  Shares out;
  const double now_s = engine_.now().seconds_f();
  // A share of the run since zero: busy for the share times the run.
  auto add = [&out, now_s](std::string name, double u) { out.push_back({std::move(name), u, u * now_s, now_s}); };
  // A pool whose thread count changed: its busy thread-time over its thread-time.
  auto add_pool = [&out](std::string name, const models::CpuPoolStats& stats) {
    out.push_back({std::move(name), stats.thread_utilisation, static_cast<double>(stats.thread_busy_ns) / 1e9,
                   stats.thread_capacity_ns / 1e9});
  };
  for (auto& b : brokers_) {
    const std::string name = "broker-" + std::to_string(b->id);
    const models::HostId host = hosts_[static_cast<size_t>(b->id)];
    const models::NodeId tor = uplinks_[static_cast<size_t>(b->id)];
    add(name + " nic tx", network_->link_utilisation(host, tor));
    add(name + " nic rx", network_->link_utilisation(tor, host));
    for (size_t d = 0; d < b->hw->disk_count(); ++d) {
      const models::DiskModel& disk = b->hw->disk(d);
      add(name + " disk " + std::to_string(d), disk.utilisation());
    }
    if (const models::EbsInstanceLink* instance = b->hw->ebs_instance()) {
      add(name + " ebs instance", instance->utilisation());
    }
    // The host's cores, which every thread of the broker shares (processor sharing when more run than it has).
    add(name + " cpu cores", b->hw->cpu().host_stats().utilisation);
    add_pool(name + " io threads", b->hw->cpu().pool_stats(b->io_pool));
    // Processors are busy while they parse, send, or wait for a sendfile's disk read.
    double busy = 0;
    for (const Processor& p : b->processors) busy += p.meter.utilisation(engine_.now());
    add(name + " network threads", busy / static_cast<double>(b->processors.size()));
    // Each fetcher thread on its own (a thread, not the pool, is what saturates), leaving out the threads that never
    // had a leader to fetch from (the broker itself, brokers it follows nothing of).
    const uint32_t per_source = fetcher_stride_;
    for (uint32_t source = 0; source < spec_.brokers; ++source) {
      for (uint32_t f = 0; f < per_source; ++f) {
        const models::PoolId pool = b->fetcher_pool({static_cast<NodeId>(source), static_cast<int32_t>(f)}, per_source);
        const models::CpuPoolStats stats = b->hw->cpu().pool_stats(pool);
        if (stats.tasks_submitted == 0) continue;
        add_pool(name + " replica fetcher from broker-" + std::to_string(source) +
                     (per_source > 1 ? " #" + std::to_string(f) : ""),
                 stats);
      }
    }
  }
  for (size_t i = spec_.brokers; i < hosts_.size(); ++i) {
    const models::HostId host = hosts_[i];
    const models::NodeId tor = uplinks_[i];
    const std::string name = "client-" + std::to_string(i - spec_.brokers);
    add(name + " nic tx", network_->link_utilisation(host, tor));
    add(name + " nic rx", network_->link_utilisation(tor, host));
  }
  // A producer's application thread(s), when send() costs them time. A thread that had to wait for buffer.memory
  // after the warm-up fills the accumulator faster than the sender empties it: however busy, it is not what
  // limits the throughput, so it is listed but not named the bottleneck.
  // A restarted producer's processes (producer_restart) are one client.
  for (const std::vector<ProducerClient*>& processes : producer_processes_) {
    Duration busy;
    bool blocked = false;
    for (const ProducerClient* c : processes) {
      busy += c->app_busy;
      blocked = blocked || c->blocked_after_warmup;
    }
    if (busy == Duration::zero()) continue;
    const ProducerClient& c = *processes.front();
    const uint32_t threads = std::max<uint32_t>(1, spec_.producers[c.spec_index].closed_loop_threads);
    std::string name = "client-" + std::to_string(c.id - static_cast<NodeId>(spec_.brokers)) +
                       (threads > 1 ? " application threads" : " application thread");
    if (blocked && not_bottleneck != nullptr) not_bottleneck->push_back(name);
    add(std::move(name), busy.seconds_f() / (engine_.now().seconds_f() * threads));
  }
  // A consumer's application thread, when it works on what poll() returns (processing_time, decompression, CRC
  // checks, TLS decryption): a group whose threads are saturated falls behind, its lag growing, whatever the
  // brokers could serve. A restarted consumer's processes (consumer_restart) are one client, one thread.
  std::map<NodeId, Duration> consumer_busy;
  for (const auto& c : consumers_) {
    const Duration overhang = c->app_busy_until > engine_.now() ? c->app_busy_until - engine_.now() : Duration::zero();
    consumer_busy[c->id] += c->app_busy - overhang;
  }
  for (const auto& [id, busy] : consumer_busy)
    if (busy > Duration::zero())
      add("client-" + std::to_string(id - static_cast<NodeId>(spec_.brokers)) + " application thread",
          busy.seconds_f() / engine_.now().seconds_f());
  for (const std::vector<ProducerClient*>& processes : producer_processes_) {
    // A producer's compression thread, when it compresses (or encrypts, over TLS).
    Duration busy;
    for (const ProducerClient* c : processes) busy += c->compressor.busy(engine_.now());
    const ProducerClient& c = *processes.front();
    if (busy > Duration::zero())
      add("client-" + std::to_string(c.id - static_cast<NodeId>(spec_.brokers)) +
              (!tls_connection(c.id)                                                      ? " compression"
               : spec_.producers[c.spec_index].config.compression_type == kafka::CompressionType::none ? " encryption"
                                                                                            : " compression and encryption"),
          busy.seconds_f() / engine_.now().seconds_f());
  }
  return out;
}

// The connections' shares of the run since time zero (see WorldSummary::connection_backlog, connection_throttled,
// window_full): requests waiting behind the one in progress, muted by a quota's throttle, a full TCP window.
World::ConnectionShares World::connection_shares() const {
  ConnectionShares out;
  const double now_s = engine_.now().seconds_f();
  for (const auto& b : brokers_) {
    for (size_t client = 0; client < b->connections.size(); ++client) {
      for (size_t channel = 0; channel < b->connections[client].size(); ++channel) {
        const Connection* conn = b->connections[client][channel].get();
        if (conn == nullptr || conn->backlog.busy_server_ns(engine_.now()) == 0) continue;
        std::string name = "broker-" + std::to_string(b->id) + " connection from " + node_name(static_cast<NodeId>(client));
        if (channel > 0) name += " #" + std::to_string(channel);
        if (conn->throttled.busy_server_ns(engine_.now()) > 0)
          out.throttled.push_back({name, conn->throttled.utilisation(engine_.now()),
                                   conn->throttled.utilisation(engine_.now()) * now_s, now_s});
        out.backlog.push_back({std::move(name), conn->backlog.utilisation(engine_.now()),
                               conn->backlog.utilisation(engine_.now()) * now_s, now_s});
      }
    }
  }
  // A connection that had bytes to send and a full TCP window (min(send buffer, receive buffer)) for a share of the
  // run: far from its peer, it moves one window per round trip whatever the links could carry.
  for (const auto& w : network_->windows_full()) {
    std::string name = node_name(node_of_host_[w.src.value]) + " to " + node_name(node_of_host_[w.dst.value]) +
                       " TCP window (" + std::to_string(w.window_bytes) + " B)";
    if (const uint32_t channel = w.tag / 2; channel > 0) name += " #" + std::to_string(channel);
    out.window_full.push_back({std::move(name), w.full.seconds_f() / now_s, w.full.seconds_f(), now_s});
  }
  return out;
}

// Shares of the run, or with an origin snapshot, of the time since it: the busy time since over the capacity since
// (entries the snapshot lacks were idle before it).
std::vector<std::pair<std::string, double>> World::since_origin(const Shares& now_shares,
                                                                const std::map<std::string, Share>& origin) const {
  std::vector<std::pair<std::string, double>> out;
  out.reserve(now_shares.size());
  for (const Share& share : now_shares) {
    double u = share.share;
    if (utilisation_origin_.taken) {
      const auto it = origin.find(share.name);
      const double busy = share.busy - (it == origin.end() ? 0.0 : it->second.busy);
      const double capacity = share.capacity - (it == origin.end() ? 0.0 : it->second.capacity);
      u = capacity > 0 ? std::max(0.0, busy / capacity) : 0.0;
    }
    out.emplace_back(share.name, u);
  }
  return out;
}

// ---- Driven clients (a command's own loop: kafkasim e2e-latency) ----

void World::drive_send(size_t producer_spec) {
  KS_ASSERT_LT(producer_spec, spec_.producers.size());
  KS_ASSERT(spec_.producers[producer_spec].driven);
  for (const std::vector<ProducerClient*>& processes : producer_processes_) {
    ProducerClient& c = *processes.back();
    if (c.spec_index != producer_spec || c.dead) continue;
    // send() is called now; the record goes to the accumulator producer_send_cost later.
    engine_.schedule_after(spec_.producer_send_cost, [this, &c] { producer_send_next(c, 0); });
    return;
  }
}

void World::drive_poll(size_t consumer_spec) {
  for (const auto& c : consumers_) {
    if (c->spec_index != consumer_spec || c->dead) continue;
    if (!c->awaiting_app) {
      // Processing what a poll returned: it polls again as soon as it is done. Already blocked in a poll, or not
      // started (its group's committed offsets not in yet): nothing to do.
      if (c->processing) c->poll_requested = true;
      continue;
    }
    c->awaiting_app = false;
    consumer_poll(*c);
  }
}

void World::drive_positions(size_t consumer_spec) {
  for (const auto& c : consumers_) {
    if (c->spec_index != consumer_spec || c->dead || !c->awaiting_app) continue;
    kafka::ConsumerOutbox out;
    c->consumer->update_positions(engine_.now(), out);
    consumer_dispatch(*c, out);
  }
}

bool World::consumer_positioned(size_t consumer_spec) const {
  bool any = false;
  for (const auto& c : consumers_) {
    if (c->spec_index != consumer_spec || c->dead) continue;
    any = true;
    for (const kafka::PartitionAssignment& a : c->assignment)
      if (!c->consumer->position(a.partition)) return false;
  }
  return any;
}

std::optional<double> World::offered_records_per_s(const std::optional<std::string>& client_id) const {
  double offered = 0;
  bool any = false;
  for (const ProducerSpec& ps : spec_.producers) {
    const std::string& id = ps.config.client_id_config.empty() ? kDefaultProducerClientId : ps.config.client_id_config;
    if (client_id && id != *client_id) continue;
    if (ps.closed_loop_threads > 0 || ps.arrival == ArrivalProcess::Kind::kUnthrottled || ps.driven || ps.max_records)
      return std::nullopt;
    offered += ps.records_per_s * static_cast<double>(ps.count);
    any = true;
  }
  if (!any) return std::nullopt;
  return offered;
}

void World::take_utilisation_origin() {
  utilisation_origin_.taken = true;
  // The quiet records due by now were sent at their times (every event up to now has run): their send() costs
  // belong before the origin.
  for (const auto& p : producers_)
    if (!p->dead) flush_quiet_sends(*p, true);
  utilisation_origin_.time = engine_.now();
  for (const auto& p : producers_) p->compressor.set_origin(engine_.now());
  const auto as_map = [](Shares shares) {
    std::map<std::string, Share> by_name;
    for (Share& share : shares) {
      std::string name = share.name;
      by_name.emplace(std::move(name), std::move(share));
    }
    return by_name;
  };
  utilisation_origin_.resources = as_map(resource_utilisation(nullptr));
  ConnectionShares shares = connection_shares();
  utilisation_origin_.backlog = as_map(std::move(shares.backlog));
  utilisation_origin_.throttled = as_map(std::move(shares.throttled));
  utilisation_origin_.window_full = as_map(std::move(shares.window_full));
  // The disks and EBS instances start their own windows instead (iostat's figures, and an EBS utilisation that is the
  // larger of several shares, cannot be taken as differences); their shares then need no origin. The per-second
  // samples read busy times that a reset leaves alone.
  for (auto& b : brokers_) {
    const std::string name = "broker-" + std::to_string(b->id);
    for (size_t d = 0; d < b->hw->disk_count(); ++d) {
      b->hw->disk(d).reset_stats();
      utilisation_origin_.resources.erase(name + " disk " + std::to_string(d));
    }
    if (models::EbsInstanceLink* instance = b->hw->ebs_instance()) {
      instance->reset_stats();
      utilisation_origin_.resources.erase(name + " ebs instance");
    }
  }
}

WorldSummary World::run(uint64_t events_max) {
  // The utilisation origin is taken between events, just before the first of its instant, so that measuring adds no
  // event: the run's events and trace hash are the same whether a summary covers the whole run or a part.
  bool go_on = true;
  if (spec_.utilisation_from > Duration::zero() && spec_.utilisation_from <= spec_.duration &&
      !utilisation_origin_.taken) {
    const sim::RunResult first =
        engine_.run_until(SimTime::zero() + spec_.utilisation_from - Duration::from_ns(1), events_max);
    events_max -= first.events_run;
    go_on = first.reason == sim::StopReason::kTimeLimit && !run_error_;
    if (go_on) take_utilisation_origin();
  }
  if (go_on) engine_.run_until(SimTime::zero() + spec_.duration, events_max);
  if (run_error_) throw RunError(*run_error_);
  // Records judged quiet and due before the end were sent at their times, though the event that would have sent
  // them (the arrival of the first record that is not quiet) falls at or after the end: count them as sent.
  for (const auto& p : producers_)
    if (!p->dead) flush_quiet_sends(*p);
  WorldSummary s;
  s.records_sent = metrics_.records_sent();
  s.records_acked = metrics_.records_acked();
  s.records_failed = metrics_.records_failed();
  s.records_lost_in_restarts = records_lost_in_restarts_;
  s.records_failed_by_cause = metrics_.failures();
  s.records_consumed = metrics_.records_consumed();
  // The window after the warm-up: to the run's end, or to where a command stopped it (`kafkasim producer-perf-test`).
  const double window_s = std::max((engine_.now() - (SimTime::zero() + spec_.warmup)).seconds_f(), 1e-9);
  s.consumed_records_per_s = static_cast<double>(metrics_.records_consumed_after_warmup()) / window_s;
  s.consumed_mib_per_s = static_cast<double>(metrics_.bytes_consumed_after_warmup()) / window_s / 1048576.0;
  s.throughput_records_per_s = static_cast<double>(metrics_.records_acked_after_warmup()) / window_s;
  s.throughput_mib_per_s = static_cast<double>(metrics_.bytes_acked_after_warmup()) / window_s / 1048576.0;
  s.produce_latency = summarise(metrics_.produce_latency_ns());
  s.end_to_end_latency = summarise(metrics_.end_to_end_latency_ns());
  s.events = engine_.events_executed();
  s.simulated_seconds = engine_.now().seconds_f();
  s.trace_hash = engine_.trace_hash();
  s.operations = operations_applied_;
  for (const FaultSpec& f : spec_.faults) {
    WorldSummary::FaultReport r;
    r.kind = std::string(to_string(f.kind));
    r.host = node_name(static_cast<NodeId>(f.host));
    r.start_s = f.at.seconds_f();
    const bool instant = f.kind == FaultKind::drop_caches || f.kind == FaultKind::consumer_restart ||
                         f.kind == FaultKind::producer_restart;
    r.end_s = instant                             ? r.start_s
              : f.duration                        ? std::min(f.at + *f.duration, spec_.duration).seconds_f()
                                                  : spec_.duration.seconds_f();
    char text[160];
    const std::string disk = f.disk ? " disk " + std::to_string(*f.disk) : std::string(" every disk");
    switch (f.kind) {
      case FaultKind::slow_disk:
        std::snprintf(text, sizeof text, "%s: latency x%g, bandwidth x%g", disk.c_str() + 1, f.latency_multiplier,
                      f.bandwidth_multiplier);
        break;
      case FaultKind::stalled_disk: std::snprintf(text, sizeof text, "%s: no I/O", disk.c_str() + 1); break;
      case FaultKind::slow_cpu: std::snprintf(text, sizeof text, "cores at x%g speed", f.speed); break;
      case FaultKind::pause: std::snprintf(text, sizeof text, "JVM stopped"); break;
      case FaultKind::slow_network:
        std::snprintf(text, sizeof text, "links: bandwidth x%g, +%g ms, jitter %g ms, loss %g", f.bandwidth_multiplier,
                      f.extra_latency.ms_f(), f.jitter.ms_f(), f.loss);
        break;
      case FaultKind::drop_caches: std::snprintf(text, sizeof text, "clean page cache evicted"); break;
      case FaultKind::consumer_restart: {
        std::snprintf(text, sizeof text, "the process dies, a new one starts %g s later",
                      f.duration ? f.duration->seconds_f() : 0.0);
        std::string changed;
        for (const std::string& c : f.config_changes) changed += (changed.empty() ? " with " : ", ") + c;
        r.detail = text + changed;
        break;
      }
      case FaultKind::producer_restart: {
        std::snprintf(text, sizeof text, "the process dies with %llu records unacknowledged, a new one starts %g s later",
                      static_cast<unsigned long long>(fault_records_lost_[static_cast<size_t>(&f - spec_.faults.data())]),
                      f.duration ? f.duration->seconds_f() : 0.0);
        std::string changed;
        for (const std::string& c : f.config_changes) changed += (changed.empty() ? " with " : ", ") + c;
        r.detail = text + changed;
        break;
      }
      case FaultKind::memory_pressure:
        std::snprintf(text, sizeof text, "%.1f MiB taken from the page cache", static_cast<double>(f.bytes) / 1048576.0);
        break;
    }
    if (r.detail.empty()) r.detail = text;
    s.faults.push_back(std::move(r));
  }
  for (const auto& b : brokers_) {
    s.isr_shrinks += b->isr_shrinks;
    s.isr_expands += b->isr_expands;
  }
  s.under_replicated = under_replicated_.report(engine_.now(), spec_.topics);
  s.under_min_isr = under_min_isr_.report(engine_.now(), spec_.topics);
  s.duplicates = duplicates_;
  check_durability(s);
  // The disks' own figures, and the EBS instances', over the run or since the utilisation origin.
  const double measured_s =
      (engine_.now() - (utilisation_origin_.taken ? utilisation_origin_.time : SimTime::zero())).seconds_f();
  for (auto& b : brokers_) {
    const std::string name = "broker-" + std::to_string(b->id);
    for (size_t d = 0; d < b->hw->disk_count(); ++d) {
      const models::DiskModel& disk = b->hw->disk(d);
      const uint64_t used = b->hw->page_cache().device_file_bytes(disk);
      b->disk_used_max.resize(b->hw->disk_count(), 0);
      s.disks.push_back({name + " disk " + std::to_string(d), measured_s, disk.stats(), disk.mean_queue_depth(),
                         disk.utilisation(), std::nullopt, std::nullopt, used, std::max(used, b->disk_used_max[d]),
                         disk.capacity_bytes()});
      if (const auto* ebs = dynamic_cast<const models::EbsVolume*>(&disk)) {
        s.disks.back().ebs_operations = ebs->ebs_stats().operations;
        s.disks.back().burst_balance = ebs->burst_balance();
      }
    }
    if (const models::EbsInstanceLink* instance = b->hw->ebs_instance()) {
      uint64_t held = 0, admitted = 0;
      for (size_t d = 0; d < b->hw->disk_count(); ++d) {
        const auto& volume = static_cast<const models::EbsVolume&>(b->hw->disk(d));
        held += volume.ebs_stats().instance_held;
        admitted += volume.ebs_stats().admitted;
      }
      const double seconds = std::max(measured_s, 1e-9);
      s.ebs_instances.push_back(
          {name, instance->utilisation(), static_cast<double>(instance->stats().bytes) / seconds / 1048576.0,
           static_cast<double>(instance->stats().operations) / seconds,
           admitted > 0 ? static_cast<double>(held) / static_cast<double>(admitted) : 0.0,
           instance->io_balance(), instance->byte_balance()});
    }
  }
  // Utilisation of every resource over the run (from spec.utilisation_from); the bottleneck is the most utilised one.
  std::vector<std::string> not_bottleneck;
  s.utilisation = since_origin(resource_utilisation(&not_bottleneck), utilisation_origin_.resources);
  std::sort(s.utilisation.begin(), s.utilisation.end());
  const auto ends_with = [](const std::string& text, std::string_view end) {
    return text.size() >= end.size() && std::string_view(text).substr(text.size() - end.size()) == end;
  };
  for (const auto& [name, u] : s.utilisation) {
    // Two links exactly as full (one sender filling a receiver of its speed): the sender's is named, as a receiving
    // link is never fuller than its senders keep it.
    const bool sender_of_tie =
        u == s.bottleneck_utilisation && ends_with(name, " nic tx") && ends_with(s.bottleneck, " nic rx");
    if ((u > s.bottleneck_utilisation || sender_of_tie) &&
        std::find(not_bottleneck.begin(), not_bottleneck.end(), name) == not_bottleneck.end()) {
      s.bottleneck_utilisation = u;
      s.bottleneck = name;
    }
  }
  // A network thread blocked on a full request queue (queued.max.requests) is busy because the I/O threads are:
  // when both are saturated, the I/O threads are named.
  auto utilisation_of = [&s](const std::string& name) {
    for (const auto& [n, u] : s.utilisation)
      if (n == name) return u;
    return 0.0;
  };
  if (const auto at = s.bottleneck.rfind(" network threads"); at != std::string::npos) {
    const std::string io = s.bottleneck.substr(0, at) + " io threads";
    if (const double u = utilisation_of(io); u >= kSaturatedUtilisation) {
      s.bottleneck = io;
      s.bottleneck_utilisation = u;
    }
  }
  // A thread that waits for a core is still occupied: when a broker's cores are saturated its busy thread pools
  // (network, I/O, replica fetcher threads) are a symptom, and more threads would not help. The cores are named.
  const std::string::size_type broker_end = s.bottleneck.find(' ');
  const std::string_view pool =
      broker_end == std::string::npos ? std::string_view() : std::string_view(s.bottleneck).substr(broker_end);
  if (s.bottleneck.rfind("broker-", 0) == 0 &&
      (pool == " io threads" || pool == " network threads" || pool.rfind(" replica fetcher from ", 0) == 0)) {
    const std::string cores = s.bottleneck.substr(0, broker_end) + " cpu cores";
    if (const double u = utilisation_of(cores); u >= kSaturatedUtilisation) {
      s.bottleneck = cores;
      s.bottleneck_utilisation = u;
    }
  }
  // With no resource saturated, a run can still be held back by Kafka's one request per connection at a time
  // (kafka-behaviour.md §2.1): a client that always has a request waiting behind the one in progress (an acks=all
  // producer with several requests in flight, one whose next requests fill the socket buffer) goes at the pace of
  // that connection's request cycle.
  ConnectionShares shares = connection_shares();
  s.connection_backlog = since_origin(shares.backlog, utilisation_origin_.backlog);
  s.connection_throttled = since_origin(shares.throttled, utilisation_origin_.throttled);
  s.window_full = since_origin(shares.window_full, utilisation_origin_.window_full);
  std::sort(s.connection_backlog.begin(), s.connection_backlog.end());
  std::sort(s.connection_throttled.begin(), s.connection_throttled.end());
  std::sort(s.window_full.begin(), s.window_full.end());
  // A backlogged connection limits the throughput only if the producers want more than they get. An open-loop
  // producer that keeps up may still queue requests behind each other (linger.ms=0 with acks=all sends whenever
  // a request may go, and its batches grow with the wait): its throughput is its offered rate, whatever queues.
  bool demand_unmet = false;
  double offered_records_per_s = 0;
  for (const ProducerSpec& ps : spec_.producers) {
    if (ps.closed_loop_threads > 0 || ps.arrival == ArrivalProcess::Kind::kUnthrottled) demand_unmet = true;
    else offered_records_per_s += ps.records_per_s * static_cast<double>(ps.count);
  }
  s.offered_records_per_s = this->offered_records_per_s(std::nullopt);
  if (s.throughput_records_per_s < kDemandMet * offered_records_per_s) demand_unmet = true;
  if (demand_unmet && s.bottleneck_utilisation < kSaturatedUtilisation) {
    for (const auto& [name, u] : s.connection_backlog) {
      if (u >= kSaturatedUtilisation && (!s.bottleneck_is_connection || u > s.bottleneck_utilisation)) {
        s.bottleneck_is_connection = true;
        s.bottleneck_utilisation = u;
        s.bottleneck = name;
      }
    }
    // A full window held back the bytes before any broker saw them: named when it was full longer than any
    // connection was backlogged.
    for (const auto& [name, u] : s.window_full) {
      if (u >= kSaturatedUtilisation && (!(s.bottleneck_is_connection || s.bottleneck_is_window) || u > s.bottleneck_utilisation)) {
        s.bottleneck_is_connection = false;
        s.bottleneck_is_window = true;
        s.bottleneck_utilisation = u;
        s.bottleneck = name;
      }
    }
  }
  uint64_t requests = 0, batches = 0;
  sim::Histogram batch_sizes, records_per_request, record_queue_time, request_latency;
  for (auto& c : producers_) {
    const auto& m = c->producer->metrics();
    s.record_retries += m.records_retried;
    s.batch_splits += m.batch_splits;
    requests += m.produce_requests;
    batches += m.batches_sent;
    batch_sizes.merge(m.batch_size_bytes);
    records_per_request.merge(m.records_per_request);
    record_queue_time.merge(m.record_queue_time_ns);
    request_latency.merge(m.request_latency_ns);
  }
  s.record_queue_time = summarise(record_queue_time);
  s.request_latency = summarise(request_latency);
  s.batch_size_bytes = summarise_distribution(batch_sizes);
  s.records_per_request_distribution = summarise_distribution(records_per_request);
  s.produce_requests = requests;
  s.batches_sent = batches;
  // The means of the same distributions: after the warm-up.
  s.records_per_request = records_per_request.count() > 0 ? records_per_request.mean() : 0;
  s.batch_size_bytes_mean = batch_sizes.count() > 0 ? batch_sizes.mean() : 0;
  for (const auto& b : brokers_) {
    const models::YoungGc* gc = b->hw->young_gc();
    if (gc == nullptr) continue;
    s.young_gc = true;
    s.young_gcs += gc->collections();
    s.gc_pause_total_ms += gc->paused_total().ms_f();
    s.gc_pause_max_ms = std::max(s.gc_pause_max_ms, gc->longest_pause().ms_f());
  }
  sim::Histogram segment_flushes;
  for (const auto& b : brokers_) segment_flushes.merge(b->hw->storage().segment_flush_times());
  s.log_flush_time = summarise(segment_flushes);
  s.log_flushes_per_s = static_cast<double>(segment_flushes.count()) / window_s;
  for (size_t k = 0; k < kRequestKinds; ++k)
    s.requests[k] = request_metrics_.summary(static_cast<RequestKind>(k), spec_.duration - spec_.warmup);
  sim::Histogram fetch_latency, records_per_fetch;
  sim::Histogram time_between_poll;
  double poll_idle_ratio_sum = 0;
  uint64_t poll_idle_ratio_count = 0;
  for (const auto& c : consumers_) {
    fetch_latency.merge(c->fetch_latency_ns);
    records_per_fetch.merge(c->records_per_fetch);
    time_between_poll.merge(c->time_between_poll_ns);
    poll_idle_ratio_sum += c->poll_idle_ratio_sum;
    poll_idle_ratio_count += c->poll_idle_ratio_count;
  }
  s.fetch_latency = summarise(fetch_latency);
  s.records_per_fetch = summarise_distribution(records_per_fetch);
  s.time_between_poll = summarise(time_between_poll);
  s.poll_idle_ratio = poll_idle_ratio_count > 0 ? poll_idle_ratio_sum / static_cast<double>(poll_idle_ratio_count) : 0;
  for (const auto& [group, lag] : group_lag_) {
    WorldSummary::GroupLagReport r;
    r.group = group;
    r.lag_end = lag.end;
    r.lag_max = lag.max;
    if (const auto it = group_consumed_.find(group); it != group_consumed_.end())
      r.consumed_records_per_s = static_cast<double>(it->second) / window_s;
    if (lag.after_warmup && lag.end_at > lag.after_warmup_at)
      r.lag_growth_records_per_s =
          static_cast<double>(lag.end - *lag.after_warmup) / (lag.end_at - lag.after_warmup_at).seconds_f();
    if (const auto it = offset_resets_.find(group); it != offset_resets_.end()) {
      r.out_of_range_resets = it->second.resets;
      r.records_skipped_by_resets = it->second.records_skipped;
    }
    s.group_lag.push_back(std::move(r));
  }
  s.offset_commits_failed = offset_commits_failed_;
  s.fetch_bytes_same_rack = consumer_fetch_bytes_same_rack_;
  s.fetch_bytes_cross_rack = consumer_fetch_bytes_cross_rack_;
  s.racks = spec_.racks;
  s.producer_traffic = traffic_[0];
  s.replication_traffic = traffic_[1];
  s.consumer_traffic = traffic_[2];
  s.tls.inter_broker = spec_.brokers > 0 && tls_connection(0);
  for (const auto& c : producers_) s.tls.producers = s.tls.producers || tls_connection(c->id);
  for (const auto& c : consumers_) s.tls.consumers = s.tls.consumers || tls_connection(c->id);
  s.tls.broker_network_cores = tls_cpu_[static_cast<size_t>(TlsWork::broker_network)].seconds_f() / window_s;
  s.tls.broker_fetcher_cores = tls_cpu_[static_cast<size_t>(TlsWork::broker_fetcher)].seconds_f() / window_s;
  s.tls.consumer_cores = tls_cpu_[static_cast<size_t>(TlsWork::consumers)].seconds_f() / window_s;
  s.tls.producer_cores = tls_cpu_[static_cast<size_t>(TlsWork::producers)].seconds_f() / window_s;
  for (const auto& [id, st] : client_id_stats_) {
    WorldSummary::ClientIdReport r;
    r.client_id = id;
    r.producer = st.producer;
    r.consumer = st.consumer;
    r.acked_records_per_s = static_cast<double>(st.acked) / window_s;
    if (st.producer) r.offered_records_per_s = this->offered_records_per_s(id);
    r.acked_mib_per_s = static_cast<double>(st.acked_bytes) / 1048576.0 / window_s;
    r.produce_latency = summarise(st.produce_latency_ns);
    r.consumed_records_per_s = static_cast<double>(st.consumed) / window_s;
    r.consumed_mib_per_s = static_cast<double>(st.consumed_bytes) / 1048576.0 / window_s;
    r.end_to_end_latency = summarise(st.end_to_end_latency_ns);
    s.clients.push_back(std::move(r));
  }
  // Client quotas: every client-id some quota applies to, with what its responses carried.
  if (!brokers_.empty() && brokers_.front()->quotas != nullptr) {
    const kafka::ClientQuotas& quotas = *brokers_.front()->quotas;  // every broker has the same
    std::set<std::string> ids;
    for (size_t n = static_cast<size_t>(spec_.brokers); n < client_ids_.size(); ++n) {
      const std::string& id = client_ids_[n];
      if (quotas.produce.quota_for(id) || quotas.fetch.quota_for(id) || quotas.request.quota_for(id)) ids.insert(id);
    }
    // A client whose quota an operation deleted is still reported: its responses were counted while it had one.
    for (const auto& [id, counts] : quota_counts_) ids.insert(id);
    for (const std::string& id : ids) {
      WorldSummary::ClientQuotaReport r;
      r.client_id = id;
      r.producer_byte_rate = quotas.produce.quota_for(id);
      r.consumer_byte_rate = quotas.fetch.quota_for(id);
      r.request_percentage = quotas.request.quota_for(id);
      const auto counted = quota_counts_.find(id);
      if (counted != quota_counts_.end()) {
        for (int k = 0; k < 2; ++k) {
          const QuotaCount& c = counted->second[static_cast<size_t>(k)];
          WorldSummary::QuotaUse& u = k == 0 ? r.produce : r.fetch;
          u.responses = c.responses;
          u.throttled = c.throttled;
          u.throttle_ms_mean =
              c.responses > 0 ? static_cast<double>(c.throttle_ms_total) / static_cast<double>(c.responses) : 0.0;
          u.throttle_ms_max = static_cast<double>(c.throttle_ms_max);
          u.bytes_per_s = static_cast<double>(c.bytes) / window_s;
        }
      }
      s.quotas.push_back(std::move(r));
    }
  }
  for (const auto& b : brokers_) {
    if (b->replication_quotas == nullptr) continue;
    WorldSummary::ReplicationThrottleReport r;
    r.broker = node_name(b->id);
    const auto use = [&](const kafka::ReplicationQuotaManager& q) {
      WorldSummary::ReplicationQuotaUse u;
      u.throttles = q.any_throttled();
      if (q.upper_bound() != kafka::unlimited_replication_rate) u.bound = static_cast<double>(q.upper_bound());
      u.recorded_bytes_per_s = static_cast<double>(q.recorded_bytes()) / window_s;
      u.held_back = static_cast<uint64_t>(q.held_back());
      return u;
    };
    r.leader = use(b->replication_quotas->leader);
    r.follower = use(b->replication_quotas->follower);
    s.replication_throttle.push_back(std::move(r));
  }
  return s;
}

}  // namespace kafkasim::cluster
