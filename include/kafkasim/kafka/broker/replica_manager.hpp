// The data path of one broker: its partition replicas, produce and fetch handling, and the produce and fetch
// purgatories (reference/kafka-behaviour.md §2.2, §2.8, §3.3–§3.6; core/.../server/ReplicaManager.scala,
// KafkaApis.handleProduceRequest / handleFetchRequest, DelayedProduce.scala, DelayedFetch.scala).
//
// Sans-I/O: handlers take `now` and append responses, storage operations and notifications to a BrokerOutbox.
// Timers are not armed: next_wakeup() says when the purgatory deadlines or the isr-expiration task next fall
// due, and on_wakeup(now) does what is due (calling it early does nothing).
//
// Fetch sessions (KIP-227) are kept in a FetchManager (fetch_session.hpp): every fetch is read over the
// partitions of its FetchContext (for an incremental fetch: all partitions of the session, in the session's order)
// and the context filters the response when it is generated, at once or when the DelayedFetch completes.
//
// Fetch from follower (KIP-392, kafka-behaviour-2.md §12): with replica.selector.class set to
// RackAwareReplicaSelector, a leader answers a consumer's partition with a preferred read replica in the
// consumer's rack (no records; the whole fetch is answered at once); a follower serves consumer fetches up to its
// own HW, and a rise of that HW completes consumer fetches parked on it.
//
// The idempotent producers' state (sequence checks and the de-duplication window) lives in each Partition
// (producer_state.hpp).
//
// Replication throttling (kafka-behaviour-2.md §11.2), with a leader ReplicationQuotaManager set: a follower not
// in the partition's ISR gets no records for a throttled partition while the quota is exceeded (the HW and log
// start offset still go back), those partitions' bytes do not count towards a parked follower fetch's min bytes nor
// complete it by a segment roll, and every follower fetch response records the size of its throttled partitions.
//
// Not modelled here: thread pools and queues (§2.1, the cluster layer charges them), transactions, retention
// scheduling (Partition offers delete_old_segments; the cluster layer calls it every log.retention.check.interval.ms),
// and the replica fetcher's own loop and backoff (follower_fetch_state() and handle_follower_fetch_response() are the
// seam it will use).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "kafkasim/kafka/broker/broker_config.hpp"
#include "kafkasim/kafka/broker/broker_outbox.hpp"
#include "kafkasim/kafka/broker/fetch_session.hpp"
#include "kafkasim/kafka/broker/partition.hpp"
#include "kafkasim/kafka/broker/purgatory.hpp"
#include "kafkasim/kafka/broker/replication_quota.hpp"
#include "kafkasim/kafka/consumer/consumer_messages.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// KafkaApis' client-quota checks of consumer fetches (kafka-behaviour-2.md §10.4), answered by the cluster layer: it
// knows each client's client-id and the request's thread time, and mutes the connection (ClientQuotas holds the
// rates). Followers are exempt.
class ConsumerFetchQuota {
 public:
  // The clamp of the fetch's max bytes by getMaxValueInQuotaWindow (10 x consumer_byte_rate at the defaults), or
  // nullopt without a quota.
  virtual std::optional<int64_t> max_fetch_bytes(NodeId client) const = 0;
  // Records the response's `response_bytes` against the fetch quota and the request's thread time against the
  // request quota; the larger throttle time in ms (0: none). A throttled fetch's bytes are unrecorded.
  virtual int32_t throttle_ms(const FetchRequest& read, int64_t response_bytes, sim::SimTime now) = 0;

 protected:
  ~ConsumerFetchQuota() = default;
};

class ReplicaManager {
 public:
  // `start_time` is when ReplicaManager.startup schedules isr-expiration (initial delay 0, period
  // replica.lag.time.max.ms / 2), so the first check runs at start_time.
  ReplicaManager(const BrokerConfig& config, sim::SimTime start_time);

  // A LogConfig with this broker's defaults (message.max.bytes -> max.message.bytes).
  LogConfig default_log_config() const;

  // Creates the replica of `ref` hosted on this broker with an empty log. `log_id` must be unique on the
  // broker (it names the log's files). Neither leader nor follower until told.
  Partition& add_partition(PartitionRef ref, const PartitionConfig& config, uint32_t log_id, sim::Rng rng,
                           sim::SimTime now, BrokerOutbox& out);
  // The leadership seam a controller will drive (Partition.makeLeader / makeFollower). Parked operations
  // on the partition are re-checked: a lost leadership completes them (§2.2 step 6, §2.8 step 7).
  void become_leader(PartitionRef ref, int32_t leader_epoch, std::vector<NodeId> isr, std::vector<NodeId> replicas,
                     sim::SimTime now, BrokerOutbox& out);
  void become_follower(PartitionRef ref, NodeId leader, int32_t leader_epoch, std::vector<NodeId> replicas,
                       sim::SimTime now, BrokerOutbox& out);

  // KafkaApis.handleProduceRequest + ReplicaManager.appendRecords (§2.2).
  void handle_produce(const ProduceRequest& request, sim::SimTime now, BrokerOutbox& out);
  // KafkaApis.handleFetchRequest + ReplicaManager.fetchMessages (§2.8), consumers and followers, with the fetch
  // session of the request (FetchManager.newContext ... updateAndGenerateResponseData).
  void handle_fetch(const FetchRequest& request, sim::SimTime now, BrokerOutbox& out);
  // How many partitions handle_fetch would read for `request` if it ran now (the session's partitions for an
  // incremental fetch), without changing anything.
  std::size_t fetch_partitions_to_read(const FetchRequest& request) const {
    return fetch_manager_.partitions_to_read_count(request);
  }

  // KafkaApis.handleListOffsetRequest + ReplicaManager.fetchOffset for a consumer (§5.7): per partition, the
  // leader answers EARLIEST_TIMESTAMP with its log start offset and any other timestamp with its high watermark
  // (LATEST for read_uncommitted; lookups by timestamp and MAX_TIMESTAMP are not modelled). A replica that is not
  // the leader answers NOT_LEADER_OR_FOLLOWER, a partition not hosted here UNKNOWN_TOPIC_OR_PARTITION, and a
  // current_leader_epoch other than the leader's FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer),
  // KIP-320. It changes nothing, so the answer is returned rather than put in an outbox.
  ListOffsetsResponse handle_list_offsets(const ListOffsetsRequest& request) const;

  // KafkaApis.handleDeleteRecordsRequest + ReplicaManager.deleteRecords (kafka-behaviour-2.md §16.4): each
  // partition's log start offset moves at once (Partition::delete_records_on_leader); the answer waits until every
  // replica's log start offset has reached the requested offsets (DelayedDeleteRecords: followers take the
  // leader's from their next fetch response and report theirs in the fetch after it), or `timeout_ms`, after which
  // the partitions not done answer REQUEST_TIMED_OUT. A partition not hosted here answers
  // UNKNOWN_TOPIC_OR_PARTITION. The answer goes to out.delete_records_responses.
  void handle_delete_records(const DeleteRecordsRequest& request, sim::SimTime now, BrokerOutbox& out);
  std::size_t delayed_delete_records_count() const { return delete_records_purgatory_.size(); }

  // Follower side: applies the leader's response to the local follower replicas (append, HW, truncation).
  // One result per partition of the response, in order; a partition this broker does not follow any more
  // gets NOT_LEADER_OR_FOLLOWER and is left alone. The results stay valid until the next call (one vector is
  // reused: every follower response comes through here).
  const std::vector<FollowerApplyResult>& handle_follower_fetch_response(const FetchResponse& response,
                                                                         sim::SimTime now, BrokerOutbox& out);

  // UnifiedLog.deleteOldSegments on the hosted replica of `ref` (the cluster layer's retention task calls it for
  // every replica, leader or follower): Partition::delete_old_segments, counted as a change parked fetches are
  // not re-checked for (see check_delayed_fetches).
  RetentionResult delete_old_segments(PartitionRef ref, sim::SimTime now, StorageOps& out,
                                      std::vector<RecordBatch>* deleted_batches);

  // An fsync tagged `flush_offset` of this partition's log completed (StorageOpKind::fsync).
  void on_flush_completed(PartitionRef ref, int64_t flush_offset, sim::SimTime now);
  // LogManager.flushDirtyLogs for one replica's log (Log::flush_if_due): the cluster layer's log flusher calls it
  // for each log in turn and waits for the fsyncs it returns before the next.
  bool flush_log_if_due(PartitionRef ref, sim::SimTime now, StorageOps& out);

  sim::SimTime next_wakeup() const;
  // Expires parked produces (REQUEST_TIMED_OUT) and fetches (answered with whatever is readable), then runs
  // the isr-expiration task if it is due.
  void on_wakeup(sim::SimTime now, BrokerOutbox& out);

  Partition* partition(PartitionRef ref);
  const Partition* partition(PartitionRef ref) const;
  const std::map<PartitionRef, std::unique_ptr<Partition>>& partitions() const { return partitions_; }
  // A topic's configs altered (kafka-configs --alter --entity-type topics): every local partition of `topic` takes
  // `config`, its min.insync.replicas falling back to the broker's (Partition::update_config).
  void alter_topic_config(int32_t topic, const PartitionConfig& config);
  std::size_t delayed_produce_count() const { return produce_purgatory_.size(); }
  std::size_t delayed_fetch_count() const { return fetch_purgatory_.size(); }
  sim::SimTime next_isr_check_time() const { return next_isr_check_; }
  const BrokerConfig& config() const { return config_; }
  // A dynamic change of the broker's min.insync.replicas (DynamicLogConfig): what a topic without its own value takes
  // from its next config change on (the caller re-applies the topics' configs).
  void set_default_min_insync_replicas(int32_t value) {
    KS_ASSERT_GE(value, 1);
    config_.min_insync_replicas = value;
  }
  const FetchSessionCache& fetch_sessions() const { return fetch_manager_.cache(); }
  // Client quotas of consumer fetches (nullptr: none configured); it must outlive the manager.
  void set_consumer_fetch_quota(ConsumerFetchQuota* quota) { consumer_fetch_quota_ = quota; }
  // The broker's leader replication quota (QuotaManagers.leader; nullptr: no replica throttled); it must outlive
  // the manager.
  void set_leader_replication_quota(ReplicationQuotaManager* quota) { leader_quota_ = quota; }

 private:
  // DelayedProduce: the response being built and, per partition, the offset the HW must reach.
  struct DelayedProduce {
    NodeId destination = 0;
    ProduceResponse response;
    std::vector<int64_t> required_offsets;  // -1 where the partition already has its final status
    std::vector<bool> acks_pending;
    int32_t pending = 0;  // entries of acks_pending still true
  };
  // DelayedFetch: the request with the partitions its context reads, where each fetch offset lay when it was
  // parked (fetchOffsetMetadata), and the context that generates the response.
  struct DelayedFetch {
    FetchRequest request;
    std::vector<Partition*> targets;  // resolve(request.partitions)
    std::vector<LogOffsetPosition> fetch_positions;
    FetchContext context;
    // unchecked_log_changes_ when the fetch was last found not satisfied (see check_delayed_fetches).
    uint64_t checked_at_log_changes = 0;
  };

  // DelayedDeleteRecords: the response being built and, per partition, the offset its low watermark must reach
  // (-1 where the partition already has its final status).
  struct DelayedDeleteRecords {
    DeleteRecordsResponse response;
    std::vector<int64_t> required_offsets;
  };

  // The hosted replica of each partition, or nullptr. Partitions are never removed from partitions_, so the
  // pointers stay valid; a fetch looks its partitions up once and reuses them for the read, every purgatory
  // check and the completing re-read.
  // Written into `targets` (cleared first).
  void resolve(const std::vector<FetchPartitionRequest>& partitions, std::vector<Partition*>& targets);
  // ReplicaManager.readFromLog: reads every partition within max_bytes (the first non-empty partition may
  // exceed it by one batch, KIP-74). Follower fetch state is updated only on the first read.
  FetchResponse read_from_log(const FetchRequest& request, const std::vector<Partition*>& targets,
                              bool update_fetch_state, sim::SimTime now, BrokerOutbox& out);
  // A consumer's partition that the leader sends to `preferred` (KIP-392): no read, the leader's offsets.
  void answer_with_preferred_replica(const Partition& p, const FetchPartitionRequest& pr, NodeId preferred,
                                     FetchPartitionResponse& r) const;
  // DelayedProduce.tryComplete over every partition still pending.
  bool try_complete_produce(DelayedProduce& op) const;
  // The same answer after a change to partition `ref`: only that partition is checked again.
  bool try_complete_produce_after_change(DelayedProduce& op, PartitionRef ref) const;
  // Checks pending partition `i` of `op`; true if it got its final status.
  bool check_produce_partition(DelayedProduce& op, std::size_t i) const;
  // DelayedFetch.tryComplete over every partition of the fetch, in request order.
  bool fetch_is_satisfied(const DelayedFetch& op, sim::SimTime now) const;
  // The same answer, after a change to partition `ref`: that partition alone is checked first.
  bool fetch_is_satisfied_after_change(const DelayedFetch& op, PartitionRef ref, sim::SimTime now) const;
  // Partition `i`'s part of tryComplete: its readable bytes are added to `accumulated_bytes`; true if that makes
  // fetch.min.bytes, or if the partition completes the fetch on its own (an error, a moved epoch or segment, a
  // diverging epoch).
  bool fetch_partition_completes(const DelayedFetch& op, std::size_t i, int64_t& accumulated_bytes,
                                 sim::SimTime now) const;
  // ReplicaManager.shouldLeaderThrottle: `replica` is not in p's ISR, p is throttled and the leader quota exceeded.
  bool should_leader_throttle(const Partition& p, NodeId replica, sim::SimTime now) const;
  void complete_fetch(uint64_t id, sim::SimTime now, BrokerOutbox& out);
  // processResponseCallback: the context turns what was read into the response, which is sent.
  void send_fetch_response(const FetchRequest& read, FetchContext& context, FetchResponse response, sim::SimTime now,
                           BrokerOutbox& out);
  // checkAndComplete on a partition key: parked produces when its HW rose, parked fetches on any change.
  void check_delayed_produces(PartitionRef ref, BrokerOutbox& out);
  // `high_watermark_only`: only the partition's HW (or ISR) changed, which a follower's fetch does not wait for.
  void check_delayed_fetches(PartitionRef ref, sim::SimTime now, BrokerOutbox& out, bool high_watermark_only = false);
  void on_high_watermark_increased(PartitionRef ref, sim::SimTime now, BrokerOutbox& out);
  // DelayedDeleteRecords.tryComplete for the parked deletions watching `ref` (a follower's fetch may have raised
  // its low watermark): a partition is done when its low watermark reaches the offset, the whole when all are.
  void check_delayed_delete_records(PartitionRef ref, BrokerOutbox& out);
  bool try_complete_delete_records(DelayedDeleteRecords& op) const;

  BrokerConfig config_;
  sim::Duration replica_lag_time_max_;
  sim::Duration isr_check_period_;
  sim::SimTime next_isr_check_;
  std::map<PartitionRef, std::unique_ptr<Partition>> partitions_;
  std::set<uint32_t> log_ids_;  // the log ids add_partition was given
  // The same replicas indexed by [topic][partition] (nullptr where this broker hosts none): partition() is on
  // the path of every partition of every fetch, and topic and partition numbers are dense.
  std::vector<std::vector<Partition*>> by_index_;
  Purgatory<DelayedProduce> produce_purgatory_;
  Purgatory<DelayedFetch> fetch_purgatory_;
  Purgatory<DelayedDeleteRecords> delete_records_purgatory_;
  FetchManager fetch_manager_;
  ConsumerFetchQuota* consumer_fetch_quota_ = nullptr;
  ReplicationQuotaManager* leader_quota_ = nullptr;
  // Changes to a log that can complete a parked fetch without a purgatory check of that partition: retention
  // (it may roll the active segment, and it trims the epoch cache). See check_delayed_fetches.
  uint64_t unchecked_log_changes_ = 0;
  // Reused by check_delayed_produces / check_delayed_fetches for the ids they walk (no allocation per append).
  std::vector<uint64_t> watch_scratch_;
  // The partition list, targets and fetch positions of the last fetch answered (at once or from the purgatory),
  // and the watch keys of the last one not parked: handle_fetch reuses their capacity instead of allocating
  // these vectors per fetch.
  std::vector<FetchPartitionRequest> read_scratch_;
  std::vector<Partition*> targets_scratch_;
  std::vector<LogOffsetPosition> positions_scratch_;
  std::vector<PartitionRef> keys_scratch_;
  std::vector<FollowerApplyResult> follower_results_;  // handle_follower_fetch_response's answer
};

}  // namespace kafkasim::kafka
