// The follower's replica fetcher: Kafka's ReplicaFetcherThread / AbstractFetcherThread and the
// ReplicaFetcherManager / AbstractFetcherManager that groups partitions into fetchers, as sans-I/O state
// machines (reference/kafka-behaviour.md §3.1, §3.5, §2.8; core/src/main/scala/kafka/server/).
//
// One ReplicaFetcher stands for one fetcher thread: (this follower broker, one source broker = the leader of its
// partitions, fetcher id). Like the Java thread it has ONE request outstanding at a time (the thread blocks in
// `leader.fetch`): it sends a FetchRequest for every partition that is ready, processes the response, and loops
// at once (the leader already long-polled for replica.fetch.wait.max.ms, so an empty response needs no extra
// wait). A partition whose response carried an error is delayed replica.fetch.backoff.ms; when no partition is
// ready the thread waits replica.fetch.backoff.ms on its condition (AbstractFetcherThread.maybeFetch), woken
// early only by add_partitions (addPartitions signals the condition).
//
// It does not own the log. A response becomes, per partition, an instruction for the local replica, appended
// in order to `FetcherOutbox::local`:
//   FollowerAppend   append these batches at fetch_offset, then HW = min(leader HW, LEO) and
//                    logStartOffset = max(own, leader's) (ReplicaFetcherThread.processPartitionData, §3.3);
//   FollowerTruncate truncateTo(offset) or truncateFullyAndStartAt(offset) (diverging epoch, §3.5;
//                    OFFSET_OUT_OF_RANGE; no local epochs when the partition was added);
//   PartitionFailed  FENCED_LEADER_EPOCH with the epoch we sent: the partition is dropped from the fetcher until
//                    new metadata re-adds it (AbstractFetcherThread.onPartitionFenced / markPartitionFailed).
// The fetcher adopts the outcome immediately (the new fetch offset is the last appended batch's next offset, or
// the truncation offset), so the cluster layer must apply `local` before it delivers the next response, and
// should call poll() only once it has finished (the time the append takes is the time Kafka's thread spends in
// processPartitionData before it loops). The truncation offset for a diverging epoch needs the follower's own
// leader-epoch cache; the fetcher keeps a mirror of it (FollowerEpochCache) seeded by add_partitions.
//
// OFFSET_OUT_OF_RANGE (AbstractFetcherThread.fetchOffsetAndTruncate) asks the leader for its log end offset and
// log start offset. Kafka sends up to two ListOffsets requests (latest, then earliest) while the thread blocks;
// here one LeaderOffsetsRequest carries both questions, a simplification of one round trip.
//
// Fetch sessions (KIP-227): the fetcher keeps one FetchSessionHandler for its leader (RemoteLeaderEndPoint's
// fetchSessionHandler). Each fetch names every ready partition to the handler, which sends them all in a full
// request, and afterwards only the partitions whose fetch state changed (a new fetch offset after an append or a
// truncation, a new log start offset, ...) plus the ones no longer ready as `forgotten` (a partition in backoff
// leaves the session and re-enters it with a full description). The leader's incremental response holds only
// partitions with something new, so the others are not processed at all. A response the handler rejects (session
// error, invalid partitions) is dropped without touching any partition and the loop goes on at once with a full
// request; a failed request makes the next one full too. When no partition is ready but the session still has
// some, one more request goes out to forget them (buildFetch returns a request while toForget is non-empty).
//
// Replication throttling (kafka-behaviour-2.md §11.2; RemoteLeaderEndPoint.buildFetch, shouldFollowerThrottle), with
// the broker's follower ReplicationQuotaManager set: a ready partition is left out of the fetch when it is throttled,
// its replica is not in sync (no lag known yet, or lag > 0, lag = the leader's HW minus the next fetch offset after
// the last response that brought records) and the follower quota is exceeded; the session then forgets it until a
// fetch names it again. Every throttled partition's records in a response are recorded against the quota.
//
// Not modelled: tiered storage (OFFSET_MOVED_TO_TIERED_STORAGE),
// the legacy OffsetsForLeaderEpoch path (every batch here is v2 and fetch >= v12 returns diverging epochs), topic
// ids, fetcher lag metrics.
#pragma once

#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kafkasim/kafka/broker/replication_quota.hpp"
#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/fetch_session_handler.hpp"
#include "kafkasim/kafka/fetcher/follower_epoch_cache.hpp"
#include "kafkasim/kafka/java_hash.hpp"
#include "kafkasim/kafka/partition_index.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// Broker replication configs (§3.1), Kafka 4.x defaults.
struct ReplicaFetcherConfig {
  int32_t num_replica_fetchers = 1;                                    // num.replica.fetchers
  int32_t replica_fetch_min_bytes = 1;                                 // replica.fetch.min.bytes
  sim::Duration replica_fetch_wait_max = sim::Duration::from_ms(500);  // replica.fetch.wait.max.ms
  int32_t replica_fetch_max_bytes = 1'048'576;                         // replica.fetch.max.bytes (per partition)
  int32_t replica_fetch_response_max_bytes = 10'485'760;               // replica.fetch.response.max.bytes
  sim::Duration replica_fetch_backoff = sim::Duration::from_ms(1000);  // replica.fetch.backoff.ms
  // replica.socket.timeout.ms: the follower's request timeout (ReplicaFetcherBlockingSend); an unanswered
  // request fails after this long and every partition backs off.
  sim::Duration replica_socket_timeout = sim::Duration::from_ms(30'000);

  // Asserts the configs are in range (Kafka's ConfigDef validators: fetchers >= 1, bytes >= 0/1, times >= 0).
  void validate() const;
};

// AbstractFetcherManager.getFetcherId:
//   Utils.abs(31 * topic.hashCode() + partition) % numFetchersPerBroker
// with int32 wraparound and Utils.abs(Integer.MIN_VALUE) == 0 (§3.1, §8.1).
int32_t fetcher_id_for(std::string_view topic_name, int32_t partition, int32_t num_replica_fetchers);

// ReplicaManager.initialFetchOffset: a follower with leader epochs starts at its LEO (a diverging epoch in the
// first response truncates it if needed); without epochs it starts at its high watermark.
constexpr int64_t initial_fetch_offset(bool has_leader_epochs, int64_t log_end_offset, int64_t high_watermark) {
  return has_leader_epochs ? log_end_offset : high_watermark;
}

// InitialFetchState plus what the fetcher needs to know about the local replica when it starts following.
struct InitialFetchState {
  PartitionRef partition;
  int32_t current_leader_epoch = 0;
  // Where to start: initial_fetch_offset(...), or < 0 to ask the leader (fetchOffsetAndTruncate).
  int64_t init_offset = 0;
  int64_t log_end_offset = 0;    // the local log's LEO
  int64_t log_start_offset = 0;  // the local log's start offset
  std::vector<EpochEntry> leader_epochs;  // the local leader-epoch cache, oldest first
};

// ---- The leader-offsets query used on OFFSET_OUT_OF_RANGE (ListOffsets, ApiKey 2, with replica_id set: the
// leader answers with its LEO for LATEST_TIMESTAMP and its log start offset for EARLIEST_TIMESTAMP). ----

struct LeaderOffsetsPartitionRequest {
  PartitionRef partition;
  int32_t current_leader_epoch = -1;
};

struct LeaderOffsetsRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  NodeId replica_id = consumer_replica_id;
  std::vector<LeaderOffsetsPartitionRequest> partitions;
};

struct LeaderOffsetsPartitionResponse {
  PartitionRef partition;
  Errc error = Errc::none;
  int64_t log_end_offset = -1;
  int64_t log_start_offset = -1;
};

struct LeaderOffsetsResponse {
  uint64_t correlation_id = 0;
  std::vector<LeaderOffsetsPartitionResponse> partitions;
};

// ---- Instructions for the local replica ----

struct FollowerAppend {
  PartitionRef partition;
  int64_t fetch_offset = 0;  // equals the local LEO (processPartitionData checks fetchOffset == LEO)
  std::vector<RecordBatch> batches;  // possibly empty: the HW and log start offset still propagate
  int64_t leader_high_watermark = -1;
  int64_t leader_log_start_offset = -1;
  int64_t next_fetch_offset = 0;  // the LEO after the append: last batch's next offset, or fetch_offset
};

enum class TruncationCause : uint8_t {
  diverging_epoch,      // Fetch response divergingEpoch (KIP-595-style, §3.5)
  offset_out_of_range,  // fetchOffsetAndTruncate after OFFSET_OUT_OF_RANGE
  no_local_epochs,      // truncateToHighWatermark for a partition added without epochs
};

struct FollowerTruncate {
  PartitionRef partition;
  bool fully = false;  // true: truncateFullyAndStartAt(offset); false: truncateTo(offset)
  int64_t offset = 0;
  TruncationCause cause = TruncationCause::diverging_epoch;
};

struct PartitionFailed {
  PartitionRef partition;
  Errc error = Errc::none;
};

using LocalInstruction = std::variant<FollowerAppend, FollowerTruncate, PartitionFailed>;

struct FetcherOutbox {
  struct OutgoingFetch {
    NodeId destination = 0;
    int32_t fetcher_id = 0;
    FetchRequest request;
  };
  struct OutgoingLeaderOffsets {
    NodeId destination = 0;
    int32_t fetcher_id = 0;
    LeaderOffsetsRequest request;
  };
  std::vector<LocalInstruction> local;  // apply in order, before the requests below are answered
  std::vector<OutgoingFetch> fetches;
  std::vector<OutgoingLeaderOffsets> leader_offsets;

  void clear() {
    local.clear();
    fetches.clear();
    leader_offsets.clear();
  }
};

// AbstractFetcherThread's ReplicaState: Fetching or Truncating; awaiting_leader_offsets is the time the Java
// thread spends blocked in fetchOffsetAndTruncate.
enum class FetchPhase : uint8_t { fetching, truncating, awaiting_leader_offsets };

struct PartitionFetchState;
// PartitionStates order: (partition, its state); a list so that moving an entry to the end is a splice.
using FetchOrderList = std::list<std::pair<PartitionRef, PartitionFetchState*>>;

// PartitionFetchState, plus the local replica facts the fetcher mirrors.
struct PartitionFetchState {
  int64_t fetch_offset = 0;
  int32_t current_leader_epoch = 0;
  int32_t last_fetched_epoch = undefined_epoch;  // Optional.empty() as -1
  FetchPhase phase = FetchPhase::fetching;
  // DelayedItem: the partition is skipped by fetches while now < delayed_until.
  sim::SimTime delayed_until = sim::SimTime::zero();
  int64_t log_end_offset = 0;
  int64_t log_start_offset = 0;
  // PartitionFetchState.lag: unknown until a response brought records (or was the first); set then to
  // max(0, leader HW - next fetch offset).
  std::optional<int64_t> lag;
  FollowerEpochCache epochs;
  // Position in PartitionStates (a LinkedHashMap; updateAndMoveToEnd moves it last): increases along the
  // order; 0 = not yet placed. `order_pos` is its entry in the fetcher's order list once placed.
  uint64_t order_seq = 0;
  FetchOrderList::iterator order_pos{};

  bool is_delayed(sim::SimTime now) const { return now < delayed_until; }
  bool is_ready_for_fetch(sim::SimTime now) const { return phase == FetchPhase::fetching && !is_delayed(now); }
  // PartitionFetchState.isReplicaInSync: lag known and 0.
  bool is_replica_in_sync() const { return lag.has_value() && *lag <= 0; }
};

// OffsetTruncationState: where to truncate for a diverging epoch and whether that is final.
struct OffsetTruncation {
  int64_t offset = 0;
  bool truncation_completed = true;
  constexpr bool operator==(const OffsetTruncation&) const = default;
};

// AbstractFetcherThread.getOffsetTruncationState (§3.5) for leader answer (E, O), the follower's current fetch
// offset, its LEO and its epoch cache.
OffsetTruncation offset_truncation_state(const EpochEndOffset& leader, int64_t fetch_offset, int64_t log_end_offset,
                                         const FollowerEpochCache& epochs);

enum class ResponseDisposition : uint8_t {
  processed,
  ignored_stale,  // not the outstanding request (it timed out or failed before): dropped, as NetworkClient does
};

class ReplicaFetcher {
 public:
  // Bound on partitions per fetcher: far above any realistic broker, it only catches runaway callers.
  static constexpr std::size_t max_partitions = 1u << 20;

  // `first_correlation_id` numbers its requests from there (a fetcher started again under a key whose earlier
  // fetcher was shut down with a request out starts where that one's answer cannot be taken for its own).
  ReplicaFetcher(const ReplicaFetcherConfig& config, NodeId local_broker_id, NodeId source_broker_id,
                 int32_t fetcher_id, uint64_t first_correlation_id = 1);

  // AbstractFetcherThread.addPartitions: a partition already present with the same leader epoch keeps its
  // state; otherwise it starts Fetching at init_offset (local epochs known), Truncating (no local epochs: it
  // truncates to init_offset = HW on the next poll), or asks the leader for offsets (init_offset < 0).
  // Wakes a thread waiting in its backoff.
  void add_partitions(std::span<const InitialFetchState> partitions, sim::SimTime now);
  // AbstractFetcherThread.removePartitions; returns how many were present. A response still in flight for a
  // removed partition is ignored.
  int32_t remove_partitions(std::span<const PartitionRef> partitions);

  // One turn of the thread's loop when it is due (doWork = maybeTruncate + maybeFetch): expires an outstanding
  // request after replica.socket.timeout.ms, truncates partitions added without epochs, sends the leader-offsets
  // query if any partition needs one, else a FetchRequest for every ready partition, else waits
  // replica.fetch.backoff.ms. Calling it early, or with a request outstanding, does nothing.
  void poll(sim::SimTime now, FetcherOutbox& out);

  // AbstractFetcherThread.processFetchRequest for the outstanding fetch.
  ResponseDisposition on_fetch_response(const FetchResponse& response, sim::SimTime now, FetcherOutbox& out);
  // The answer to the leader-offsets query (fetchOffsetAndTruncate).
  ResponseDisposition on_leader_offsets_response(const LeaderOffsetsResponse& response, sim::SimTime now,
                                                 FetcherOutbox& out);
  // The outstanding request failed without an answer (disconnect, unreachable broker): every partition of a
  // failed fetch backs off replica.fetch.backoff.ms (processFetchRequest's catch); the partitions of a failed
  // offsets query back off and keep their fetch offset.
  ResponseDisposition on_request_failed(uint64_t correlation_id, sim::SimTime now);

  // The local log start offset moved for a reason the fetcher does not see (local retention).
  void set_local_log_start_offset(PartitionRef partition, int64_t log_start_offset);

  // When poll() must next be called: the outstanding request's timeout, the end of a backoff wait, the time
  // the loop became runnable, or SimTime::max() when there are no partitions.
  sim::SimTime next_wakeup() const;

  NodeId source_broker_id() const { return source_broker_id_; }
  int32_t fetcher_id() const { return fetcher_id_; }
  std::size_t partition_count() const { return states_.size(); }
  bool has_partition(PartitionRef partition) const { return states_.contains(partition); }
  const PartitionFetchState* fetch_state(PartitionRef partition) const;
  bool has_request_in_flight() const { return in_flight_.has_value(); }
  std::optional<uint64_t> in_flight_correlation_id() const;
  // Partitions in PartitionStates order (the order a FetchRequest lists them).
  std::vector<PartitionRef> partitions_in_order() const;
  // The fetch session with the leader.
  const FetchSessionHandler& session() const { return session_; }
  // The broker's follower replication quota (nullptr: none); it must outlive the fetcher.
  void set_quota(ReplicationQuotaManager* quota) { quota_ = quota; }

  // Checks the per-partition invariants (fetch offset == LEO while fetching, order index consistent).
  void check_invariants() const;

 private:
  enum class RequestKind : uint8_t { fetch, leader_offsets };
  struct RequestedPartition {
    int64_t fetch_offset = 0;
    int32_t current_leader_epoch = 0;
  };
  struct InFlight {
    RequestKind kind = RequestKind::fetch;
    uint64_t correlation_id = 0;
    sim::SimTime deadline;
    // The leader-offsets query's partitions. A fetch's requested partitions are the session's (the handler's
    // sessionPartitions, which do not change while the request is out: ReplicaFetch.partitionData).
    std::map<PartitionRef, RequestedPartition> partitions;
  };

  void run_loop(sim::SimTime now, FetcherOutbox& out);
  void fail_in_flight(sim::SimTime now);
  void mark_loop_due(sim::SimTime now);
  void move_to_end(PartitionRef partition, PartitionFetchState& state);
  void delay_partitions(std::span<const PartitionRef> partitions, sim::SimTime now);
  // onPartitionFenced: true when the partition stays (its epoch moved on since the request) and must back off.
  bool on_partition_fenced(PartitionRef partition, int32_t request_epoch, FetcherOutbox& out);
  void remove_one(PartitionRef partition);
  PartitionFetchState* state_of(PartitionRef partition);
  void truncate_on_diverging_epoch(PartitionRef partition, const EpochEndOffset& diverging, FetcherOutbox& out);

  ReplicaFetcherConfig config_;
  NodeId local_broker_id_;
  NodeId source_broker_id_;
  int32_t fetcher_id_;

  // The partitions' states, looked up on every response and wakeup: a dense index rather than a std::map, since
  // the order that matters is `order_`'s. Held by pointer so that `order_` can point at them.
  PartitionIndex<std::unique_ptr<PartitionFetchState>> states_;
  // PartitionStates order: (partition, its state in states_), by increasing order_seq.
  FetchOrderList order_;
  uint64_t next_order_seq_ = 1;  // 0 is PartitionFetchState's "not placed"
  // run_loop's list of ready partitions, kept for its capacity.
  std::vector<FetchPartitionRequest> next_scratch_;

  std::optional<InFlight> in_flight_;
  FetchSessionHandler session_;
  ReplicationQuotaManager* quota_ = nullptr;
  uint64_t next_correlation_id_ = 1;
  bool loop_due_ = true;
  sim::SimTime loop_due_at_ = sim::SimTime::zero();
  sim::SimTime idle_until_ = sim::SimTime::zero();
  sim::SimTime last_now_ = sim::SimTime::zero();
};

// ---- ReplicaFetcherManager ----

struct FetcherKey {
  NodeId source_broker_id = 0;
  int32_t fetcher_id = 0;
  constexpr auto operator<=>(const FetcherKey&) const = default;
};

struct PartitionToFetch {
  std::string topic_name;  // for the fetcher id hash
  NodeId source_broker_id = 0;  // the partition's leader
  InitialFetchState initial;
};

// AbstractFetcherManager: partitions are grouped by (leader broker, getFetcherId) into ReplicaFetchers, which
// are created on demand and shut down when idle. Fetchers are kept in a std::map, so polling order is stable.
class ReplicaFetcherManager {
 public:
  ReplicaFetcherManager(const ReplicaFetcherConfig& config, NodeId local_broker_id);

  // addFetcherForPartitions. The caller removes a partition from its old leader's fetcher first, as
  // ReplicaManager.makeFollowers does; a partition present under another key is a bug.
  void add_fetcher_for_partitions(std::span<const PartitionToFetch> partitions, sim::SimTime now);
  // removeFetcherForPartitions; returns how many were removed.
  int32_t remove_fetcher_for_partitions(std::span<const PartitionRef> partitions);
  // shutdownIdleFetcherThreads: drops fetchers without partitions. Returns how many were dropped.
  int32_t shutdown_idle_fetcher_threads();
  // AbstractFetcherManager.resizeThreadPool (num.replica.fetchers altered, DynamicThreadPool): every partition
  // leaves its fetcher, the fetchers whose id is not below `new_size` shut down, and `partitions` (each follower
  // partition as it stands now: ReplicaFetcherThread re-adds them at their fetch offset, the local LEO) are
  // added again under the new count's fetcher ids; idle fetchers then shut down. A fetcher that keeps running keeps
  // its fetch session and its request in flight, whose answer is applied to the partitions it has again. Returns
  // how many partitions changed fetcher.
  int32_t resize_thread_pool(int32_t new_size, std::span<const PartitionToFetch> partitions, sim::SimTime now);
  int32_t num_replica_fetchers() const { return config_.num_replica_fetchers; }

  // Polls every fetcher that is due at `now`.
  void poll(sim::SimTime now, FetcherOutbox& out);
  sim::SimTime next_wakeup() const;

  // Route a response or failure to the fetcher named in the outbox entry that sent the request. A fetcher
  // that no longer exists drops it (ignored_stale).
  ResponseDisposition on_fetch_response(FetcherKey key, const FetchResponse& response, sim::SimTime now,
                                        FetcherOutbox& out);
  ResponseDisposition on_leader_offsets_response(FetcherKey key, const LeaderOffsetsResponse& response,
                                                 sim::SimTime now, FetcherOutbox& out);
  ResponseDisposition on_request_failed(FetcherKey key, uint64_t correlation_id, sim::SimTime now);

  // The broker's follower replication quota, for every fetcher now and later (nullptr: none).
  void set_follower_quota(ReplicationQuotaManager* quota);

  const std::map<FetcherKey, ReplicaFetcher>& fetchers() const { return fetchers_; }
  ReplicaFetcher* fetcher(FetcherKey key);
  std::optional<FetcherKey> fetcher_of(PartitionRef partition) const;

 private:
  ReplicaFetcherConfig config_;
  NodeId local_broker_id_;
  std::map<FetcherKey, ReplicaFetcher> fetchers_;
  // How many fetchers each key has had (a resize shuts some down; one may start again later).
  std::map<FetcherKey, uint64_t> started_;
  ReplicationQuotaManager* follower_quota_ = nullptr;
};

}  // namespace kafkasim::kafka
