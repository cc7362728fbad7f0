// One partition replica on one broker, leader or follower (reference/kafka-behaviour.md §2.2, §2.8, §3.2–§3.6;
// core/.../cluster/Partition.scala, Replica.scala, ReplicaFetcherThread.processPartitionData).
//
// It owns the replica's kafka::Log, its leader-epoch cache and its high watermark. As leader it keeps the
// state of every follower (LEO, last caught-up time, last fetch time: Replica.scala), advances the HW by
// Kafka's rules (§3.3, including KAFKA-15583: no advance while ISR < effective min ISR), shrinks and expands the
// ISR (§3.4) and answers fetches with the divergence check (§2.8, §3.5). As follower it appends fetched batches,
// takes the HW from the leader's response and truncates on a diverging epoch (§3.5).
//
// Simplifications, stated once:
// - ISR changes are applied immediately instead of through an AlterPartition round trip to the controller; the
//   committed ISR therefore equals Kafka's "maximal ISR" and no Pending state exists (one change at a time is
//   trivially true).
// - Broker fencing / controlled shutdown are not modelled yet, so every replica is "ISR-eligible" (§3.3 rule 2).
// - No transactions: the last stable offset equals the HW.
// Leadership comes from outside (become_leader / become_follower), the seam a controller will drive later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafkasim/kafka/broker/broker_config.hpp"
#include "kafkasim/kafka/broker/broker_outbox.hpp"
#include "kafkasim/kafka/broker/leader_epoch_cache.hpp"
#include "kafkasim/kafka/broker/producer_state.hpp"
#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// Replica.scala's ReplicaState: what the leader knows about one follower.
struct FollowerReplicaState {
  // UnifiedLog.UnknownOffset (-1) until the follower's first fetch after this broker became leader.
  int64_t log_start_offset = -1;
  int64_t log_end_offset = -1;
  int64_t last_fetch_leader_log_end_offset = -1;
  // Kafka stores 0L for "never"; simulated time starts at 0, so "never" is an explicit empty value.
  std::optional<sim::SimTime> last_fetch_time;
  std::optional<sim::SimTime> last_caught_up_time;

  // Replica.isCaughtUp: at the leader's LEO, or fully caught up within the last replica.lag.time.max.ms.
  bool is_caught_up(int64_t leader_log_end_offset, sim::SimTime now, sim::Duration max_lag) const;
};

struct LeaderAppendResult {
  Errc error = Errc::none;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  bool high_watermark_increased = false;
  bool duplicate = false;  // a retried batch already in the log: nothing appended, the offsets are the original's
};

// Partition.checkEnoughReplicasReachOffset for DelayedProduce.
struct AckCheck {
  bool done = false;
  Errc error = Errc::none;
};

struct PartitionFetchResult {
  FetchPartitionResponse response;     // error, HW, LSO, log start, diverging epoch, batches, slice
  bool high_watermark_increased = false;  // a follower fetch moved the HW (complete delayed operations)
};

// What a replica fetcher needs to build the next follower FetchPartitionRequest (§3.5 modern path).
struct FollowerFetchState {
  NodeId leader = -1;
  int32_t current_leader_epoch = -1;
  int64_t fetch_offset = 0;         // always the follower's LEO (§8.5)
  int32_t last_fetched_epoch = -1;  // the latest epoch in the local cache
  int64_t log_start_offset = 0;
};

struct FollowerApplyResult {
  Errc error = Errc::none;       // the leader's error for this partition, passed through for the fetcher
  bool appended = false;
  bool truncated = false;
  int64_t truncation_offset = -1;
  bool high_watermark_increased = false;  // the follower's HW rose (parked consumer fetches may complete, KIP-392)
};

class Partition {
 public:
  // A replica with an empty log at offset 0, neither leader nor follower until told.
  Partition(PartitionRef ref, NodeId local_broker_id, const PartitionConfig& config, int32_t min_insync_replicas,
            sim::Duration replica_lag_time_max, uint32_t log_id, sim::Rng rng, sim::SimTime now, StorageOps& out);

  // Partition.makeLeader. `isr` must contain this broker and be a subset of `replicas`; the epoch never goes
  // back. A new epoch records `leaderEpochStartOffset = LEO` and resets the follower states (§3.2). Returns
  // whether the HW advanced (an ISR of one can commit at once).
  bool become_leader(int32_t leader_epoch, std::vector<NodeId> isr, std::vector<NodeId> replicas, sim::SimTime now,
                     BrokerOutbox& out);
  // Partition.makeFollower. A follower with an empty epoch cache truncates to its HW first (§3.5 legacy rule:
  // with no epochs at all the follower truncates to the HW), so that its fetch offset can equal its LEO.
  void become_follower(NodeId leader, int32_t leader_epoch, std::vector<NodeId> replicas, sim::SimTime now,
                       BrokerOutbox& out);

  // ---- leader side ----

  // Partition.appendRecordsToLeader (§2.2 step 2): NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS for acks=-1 with
  // ISR < effective min ISR (nothing appended), then the Log's own errors (MESSAGE_TOO_LARGE,
  // RECORD_LIST_TOO_LARGE). On success the HW may advance.
  LeaderAppendResult append_records_to_leader(std::span<const RecordBatch> batches, int16_t required_acks,
                                               sim::SimTime now, BrokerOutbox& out);
  AckCheck check_enough_replicas_reach_offset(int64_t required_offset) const;

  // Partition.deleteRecordsOnLeader (kafka-behaviour-2.md §16.4): the log start offset moves to `offset` (-1: the
  // HW) at once; the segments below it go at the next retention pass. POLICY_VIOLATION on a log without "delete"
  // in cleanup.policy, OFFSET_OUT_OF_RANGE for an offset below 0 or above the HW, NOT_LEADER_OR_FOLLOWER on a
  // follower. `requested_offset` is the offset taken (the HW for -1); `low_watermark` as low_watermark() after it.
  struct DeleteRecordsResult {
    Errc error = Errc::none;
    int64_t requested_offset = -1;
    int64_t low_watermark = -1;
  };
  DeleteRecordsResult delete_records_on_leader(int64_t offset);
  // Partition.lowWatermarkIfLeader: the least log start offset of the leader's log and of every follower as the
  // leader last heard it (-1 for a follower not heard from since this broker became leader). All brokers are alive
  // in a run (no broker is ever fenced), so every follower counts.
  int64_t low_watermark() const;

  // Partition.fetchRecords (§2.8 steps 1–5) for a consumer (replica_id = -1, reads up to the HW) or a follower
  // (reads up to the LEO; with `update_fetch_state` its replica state is updated after the read, which may
  // expand the ISR and advance the HW).
  PartitionFetchResult fetch_records(const FetchPartitionRequest& request, NodeId replica_id, int64_t max_bytes,
                                     bool min_one_message, bool update_fetch_state, sim::SimTime now,
                                     BrokerOutbox& out);
  // The same, written into `resp`, which must be a default-constructed response (a caller builds its response
  // in place); returns whether the HW advanced.
  bool fetch_records(const FetchPartitionRequest& request, NodeId replica_id, int64_t max_bytes,
                     bool min_one_message, bool update_fetch_state, sim::SimTime now, BrokerOutbox& out,
                     FetchPartitionResponse& resp);
  // The error §2.8 step 1 gives this fetch now (epoch fencing, leadership, replica membership). A consumer's fetch
  // may be served by a follower (KIP-392), which reads up to its own HW.
  Errc validate_fetch(int32_t current_leader_epoch, NodeId replica_id) const;
  // On the leader: the replica RackAwareReplicaSelector would have a consumer in `client_rack` read from at
  // `fetch_offset` (ReplicaManager.findPreferredReadReplica, kafka-behaviour-2.md §12.2), or -1 for the leader
  // itself. `broker_racks` is every broker's broker.rack by id.
  NodeId preferred_read_replica(int64_t fetch_offset, std::string_view client_rack,
                                const std::vector<std::string>& broker_racks, sim::SimTime now) const;
  // The divergence check of §2.8 step 2 for a follower that sent `last_fetched_epoch`.
  std::optional<EpochEndOffset> diverging_epoch(int32_t last_fetched_epoch, int64_t fetch_offset,
                                                Errc& error) const;

  // Partition.maybeShrinkIsr (§3.4): removes the followers that have not been caught up within
  // replica.lag.time.max.ms. Returns whether the HW advanced as a result.
  bool maybe_shrink_isr(sim::SimTime now, BrokerOutbox& out);

  // ---- follower side ----

  FollowerFetchState follower_fetch_state() const;
  // ReplicaFetcherThread.processPartitionData, or the truncation of §3.5 when the response carries a diverging
  // epoch. Batches must start at this replica's LEO (the fetch offset).
  FollowerApplyResult apply_follower_fetch_response(const FetchPartitionResponse& response, sim::SimTime now,
                                                    BrokerOutbox& out);

  // ---- state ----

  const PartitionRef& ref() const { return ref_; }
  bool is_leader() const { return is_leader_; }
  NodeId leader_id() const { return leader_id_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int64_t leader_epoch_start_offset() const { return leader_epoch_start_offset_; }
  int64_t high_watermark() const { return high_watermark_; }
  int64_t log_end_offset() const { return log_.log_end_offset(); }
  int64_t log_start_offset() const { return log_.log_start_offset(); }
  const std::vector<NodeId>& isr() const { return isr_; }
  // inSyncReplicaIds.contains(replica).
  bool is_in_sync(NodeId replica) const { return in_isr(replica); }
  const std::vector<NodeId>& replicas() const { return replicas_; }
  // min(min.insync.replicas, replication factor) (§2.2, §3.6).
  int32_t effective_min_isr() const;
  bool is_under_min_isr() const { return static_cast<int32_t>(isr_.size()) < effective_min_isr(); }
  // A topic config altered while the broker runs (TopicConfigHandler -> UnifiedLog.updateConfig, and the partition's
  // min.insync.replicas read at its next use): nothing is re-evaluated at once; a lowered minimum lets the high
  // watermark move at the next append or follower fetch, a raised one fails the next acks=all append.
  void update_config(const PartitionConfig& config, int32_t min_insync_replicas);
  const FollowerReplicaState* follower_state(NodeId replica) const;
  const Log& log() const { return log_; }
  Log& log() { return log_; }
  // UnifiedLog.deleteOldSegments against this replica's HW; the leader-epoch cache is then trimmed from the new
  // log start offset (maybeIncrementLogStartOffset -> LeaderEpochFileCache.truncateFromStart). `deleted_batches`
  // as in Log::delete_old_segments.
  RetentionResult delete_old_segments(sim::SimTime now, StorageOps& out,
                                      std::vector<RecordBatch>* deleted_batches = nullptr);
  // UnifiedLog.maybeIncrementLogStartOffset (DeleteRecords on the leader, or a follower following the leader's
  // log start): OFFSET_OUT_OF_RANGE above the HW; otherwise the log start rises and the epoch cache is trimmed.
  Errc maybe_increment_log_start_offset(int64_t new_log_start_offset);
  const LeaderEpochCache& epoch_cache() const { return epoch_cache_; }
  const ProducerStateManager& producer_state() const { return producer_state_; }

  // HW <= LEO, the leader is in its ISR, ISR within the replicas, epoch cache monotonic (§8.7).
  void check_invariants() const;

 private:
  // Partition.maybeIncrementLeaderHW (§3.3). Returns whether the HW increased.
  bool maybe_increment_leader_hw(sim::SimTime now, BrokerOutbox& out);
  // Partition.updateFollowerFetchState (§3.2, §3.4 expand). Returns whether the HW increased.
  bool update_follower_fetch_state(NodeId replica, int64_t fetch_offset, int64_t follower_log_start_offset,
                                   int64_t leader_log_end_offset, sim::SimTime now, BrokerOutbox& out);
  void set_isr(std::vector<NodeId> new_isr, IsrChangeKind kind, sim::SimTime now, BrokerOutbox& out);
  Errc check_fetch(int32_t current_leader_epoch, NodeId replica_id) const;  // validate_fetch's body
  bool in_isr(NodeId replica) const;
  bool in_replicas(NodeId replica) const;
  void truncate_to(int64_t offset, sim::SimTime now, BrokerOutbox& out);
  // Log::read into the response: its error, or the whole batches and the byte slice.
  void read_into(int64_t fetch_offset, int64_t max_bytes, int64_t bound, bool min_one_message,
                 FetchPartitionResponse& resp) const;
  void assign_epochs(std::span<const RecordBatch> batches);

  // What every fetch of the partition reads comes first, with the log's offsets (the head of Log) right after it:
  // a fetch session walks every one of its partitions on every fetch, and most of them have nothing new, so the
  // walk is bound by the cache lines it touches (docs/performance.md).
  PartitionRef ref_;
  NodeId local_broker_id_;
  bool is_leader_ = false;
  int32_t leader_epoch_ = -1;
  NodeId leader_id_ = -1;
  int64_t high_watermark_ = 0;
  int64_t leader_epoch_start_offset_ = -1;
  std::vector<NodeId> replicas_;  // assignment order: the first is the preferred leader
  std::vector<NodeId> isr_;       // sorted
  // Leader only: every replica but this broker, sorted by broker id (a replication factor's worth of entries,
  // looked up on every follower fetch: a short sorted vector instead of a std::map, same iteration order).
  std::vector<std::pair<NodeId, FollowerReplicaState>> followers_;
  LeaderEpochCache epoch_cache_;
  Log log_;
  int32_t min_insync_replicas_;
  sim::Duration replica_lag_time_max_;
  ProducerStateManager producer_state_;
  FollowerReplicaState* find_follower(NodeId replica);
  const FollowerReplicaState* find_follower(NodeId replica) const;
};

}  // namespace kafkasim::kafka
