// The Kafka consumer client (classic KafkaConsumer with its fetcher) as a sans-I/O state machine, for a STATIC
// assignment (reference/kafka-behaviour.md §5.2, §5.7, §2.8; clients/.../consumer/internals/
// {ClassicKafkaConsumer, AbstractFetch, Fetcher, FetchCollector, FetchBuffer, CompletedFetch, SubscriptionState,
// OffsetFetcher, ConsumerCoordinator}.java).
//
// How the application and the cluster layer drive it:
//  - The application calls `poll(now, outbox)` (KafkaConsumer.poll). If buffered records are ready, up to
//    max.poll.records of them are returned at once in `outbox.polled`, positions advance past them, the next
//    fetches are sent for pipelining, and the application is "processing". Otherwise the application is
//    "blocked in poll": the consumer sends fetches (and ListOffsets for positions to reset) and the records are
//    delivered in `outbox.polled` by whichever later handler makes them available (a fetch response, a ListOffsets
//    response, a metadata update, a wakeup). The poll timeout is infinite: a real application's poll loop with a
//    finite timeout behaves the same, minus the loop's own cost.
//  - The cluster layer applies the processing time of the delivered records and then calls `poll` again.
//    While the application is processing, fetch responses are only buffered; no fetch, ListOffsets or auto-commit
//    is sent (the classic consumer does all of these inside poll(): ClassicKafkaConsumer.poll →
//    updateAssignmentMetadataIfNeeded / pollForFetches).
//  - Timers: `next_wakeup()` / `on_wakeup(now, outbox)` cover request timeouts (request.timeout.ms), and while the
//    application is blocked in poll, the auto-commit deadline, ListOffsets retry backoff (retry.backoff.ms) and
//    node reconnect backoff (reconnect.backoff.ms). Calling on_wakeup early is harmless.
//
// Fetching (AbstractFetch.prepareFetchRequests, fetchablePartitions): one FetchRequest per node at a time
// (a node in `nodesWithPendingFetchRequests` gets no new fetch), and a partition with buffered, unconsumed data
// (a completed fetch not yet drained by poll) is not fetched again. Positions advance only when poll returns
// records (FetchCollector.fetchRecords), never when a response arrives. Only whole batches inside the response's
// byte slice are returned; a partial tail is dropped, and a batch starting below the position (a position inside a
// batch) is returned from the position on (CompletedFetch skips records below nextFetchOffset).
//
// Offsets: auto-commit of all consumed positions every auto.commit.interval.ms (ConsumerCoordinator.
// maybeAutoCommitOffsetsAsync), manual `commit` (commitAsync of all consumed positions), OFFSET_OUT_OF_RANGE →
// reset by auto.offset.reset via ListOffsets (FetchCollector.handleInitializeErrors), errors that invalidate
// metadata (NOT_LEADER_OR_FOLLOWER, ...) → a metadata-update request, and the partition waits for new metadata.
// Lag = HW − position (LSO − position for read_committed) with the HW of the last fetch response consumed.
//
// Fetch sessions (KIP-227): one FetchSessionHandler per node (AbstractFetch.sessionHandlers). The first fetch to
// a node is full, later ones incremental: they list only partitions whose position (or leader epoch) changed,
// and `forgotten` the session partitions not fetched this time; the broker answers only partitions with
// something new, and only those become completed fetches. As in Kafka since KAFKA-17182 (PR 18795, 2025), no
// fetch goes to a node while any of its fetchable partitions still has buffered data, since leaving a buffered
// partition out of the request would drop it from the broker's session.
//
// Fetch from follower (KIP-392; reference/kafka-behaviour-2.md §12.3, §12.5): every FetchRequest carries
// client.rack as its rack id. A partition answered with a preferred read replica (no records) gets it, when poll
// initializes that answer, for metadata.max.age.ms (FetchCollector.updatePartitionState →
// SubscriptionState.updatePreferredReadReplica), and is then fetched from that replica instead of its leader
// (AbstractFetch.selectReadReplica, SubscriptionState.preferredReadReplica: gone once the time is strictly past
// the expiry), in that node's own fetch session; the leader epoch sent stays the leader's. The one-fetch-per-node,
// buffered-node and reconnect-backoff rules apply to the node actually fetched from. The replica is cleared by
// OFFSET_OUT_OF_RANGE (without a position reset: the leader is asked next), by the errors that request a metadata
// update (FetchUtils.requestMetadataUpdate) and, for every partition of the node's session, by a failed fetch
// (AbstractFetch.handleFetchFailure). The metadata here has no broker list, so a preferred replica counts as
// online (Cluster.nodeIfOnline) as long as it is set.
//
// Left out: consumer groups and rebalances (the seam is `assign`), OffsetFetch (the cluster layer sends it
// when the consumer starts and passes the committed offsets to `assign`), closing sessions on close(),
// read_committed filtering of aborted transactions (§14.7), position validation after a leader change (KIP-320
// OffsetsForLeaderEpoch), pause/resume, and the exponential growth of backoffs.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "kafkasim/kafka/consumer/consumer_config.hpp"
#include "kafkasim/kafka/consumer/consumer_messages.hpp"
#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/fetch_session_handler.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// One partition handed to `assign`, with its committed offset if the group has one (what OffsetFetch would
// return); without one the position is initialised by auto.offset.reset (§5.7).
struct PartitionAssignment {
  PartitionRef partition;
  std::optional<int64_t> committed_offset;
};

// A run of consecutive records returned by poll, all from one batch. The cluster layer finds each record's
// metadata (send time, record id) again from `batch_tag` and `offset - batch_base_offset`.
struct PolledRange {
  PartitionRef partition;
  uint64_t batch_tag = 0;
  int64_t batch_base_offset = 0;
  int64_t first_offset = 0;  // the first record returned
  int32_t record_count = 0;  // records first_offset .. first_offset + record_count - 1
  sim::SimTime batch_max_timestamp;
};

// A batch one poll() read records from (CompletedFetch.nextFetchedRecord): `records_iterated` of its records went
// through its record iterator in this poll — those returned and those skipped below the position — which for a
// compressed batch is its decompression stream (DefaultRecordBatch.streamingIterator decompresses as records are
// read); `opened` when this poll reached the batch first (maybeEnsureValid: its CRC32C, with check.crcs).
struct IteratedBatch {
  PartitionRef partition;
  RecordBatch batch;
  int32_t records_iterated = 0;
  bool opened = false;
};

// What one poll() returned to the application (ConsumerRecords), in return order, and the batches it read them
// from (the application thread's decoding work for this poll).
struct PolledRecords {
  sim::SimTime time;
  int32_t record_count = 0;
  std::vector<PolledRange> ranges;
  std::vector<IteratedBatch> iterated;
};

struct OutgoingFetch {
  NodeId destination = -1;
  FetchRequest request;
};

struct OutgoingListOffsets {
  NodeId destination = -1;
  ListOffsetsRequest request;
};

// `destination` is the group coordinator set with `set_coordinator`, or -1 while none is known; the cluster layer
// then looks the coordinator up (FindCoordinator) before sending the commit.
struct OutgoingOffsetCommit {
  NodeId destination = -1;
  bool auto_commit = false;
  OffsetCommitRequest request;
};

enum class ConsumerEventKind : uint8_t {
  offset_reset,              // a position was (re)initialised from ListOffsets (`offset` = the new position)
  no_offset_for_partition,   // auto.offset.reset = none and no valid position (NoOffsetForPartitionException /
                             // OffsetOutOfRangeException to the application); the partition stops fetching
  fetch_error,               // a partition error in a fetch response (`error`)
  request_failed,            // a Fetch or ListOffsets request failed or timed out (`node`)
  commit_succeeded,          // an OffsetCommit completed for `partition` at `offset`
  commit_failed,             // an OffsetCommit failed for `partition` (`error`)
};

struct ConsumerEvent {
  ConsumerEventKind kind = ConsumerEventKind::offset_reset;
  sim::SimTime time;
  PartitionRef partition;
  NodeId node = -1;
  int64_t offset = -1;
  Errc error = Errc::none;
};

// Everything the consumer wants done, appended in order. The cluster layer drains it after each call.
struct ConsumerOutbox {
  std::vector<OutgoingFetch> fetches;
  std::vector<OutgoingListOffsets> list_offsets;
  std::vector<OutgoingOffsetCommit> commits;
  std::vector<PolledRecords> polled;
  std::vector<ConsumerEvent> events;
  // Metadata.requestUpdate(): the cluster layer should hand fresh metadata to `update_metadata`.
  bool metadata_update_requested = false;

  void clear() { *this = ConsumerOutbox{}; }
};

class KafkaConsumer {
 public:
  // `metadata` is the client's initial view of partition leaders (the cluster layer's Metadata response). The
  // auto-commit timer starts here (ConsumerCoordinator's constructor: time.timer(autoCommitIntervalMs)).
  KafkaConsumer(const ConsumerConfig& config, const ProducerMetadata& metadata, sim::SimTime now);
  // `rng` draws the reconnect backoff's jitter (Kafka's ThreadLocalRandom); the form above uses a fixed stream.
  KafkaConsumer(const ConsumerConfig& config, const ProducerMetadata& metadata, sim::SimTime now, sim::Rng rng);

  // Numbers this consumer's requests from `first` on (a restarted process's cluster layer keeps them apart from the
  // dead one's). Before any request is sent.
  void start_correlation_ids_at(uint64_t first);

  // KafkaConsumer.assign: replaces the assignment. Partitions that stay keep their position; new ones start at
  // their committed offset or are reset by auto.offset.reset. Buffered data of dropped partitions is discarded.
  // As in Kafka, a due auto-commit runs first so that the dropped partitions' offsets are committed.
  void assign(sim::SimTime now, const std::vector<PartitionAssignment>& partitions, ConsumerOutbox& out);

  // KafkaConsumer.poll: see the header comment. Returns the number of records delivered now (0 when the
  // application is left blocked in poll). Precondition: the application is not already blocked in poll.
  int32_t poll(sim::SimTime now, ConsumerOutbox& out);

  // KafkaConsumer.position() of every assigned partition outside poll (updateFetchPositions without fetching): the
  // ListOffsets of partitions awaiting a reset whose retry time has come. Answers set positions and send nothing
  // more; a failed reset waits for the next call or poll. Precondition: the application is not blocked in poll.
  void update_positions(sim::SimTime now, ConsumerOutbox& out);

  // KafkaConsumer.commitAsync(): commit every consumed position now.
  void commit(sim::SimTime now, ConsumerOutbox& out);

  // Responses and failures routed back by the cluster layer. A response whose correlation id is not pending
  // (it timed out, or was failed) is ignored.
  void on_fetch_response(sim::SimTime now, NodeId source, FetchResponse&& response, ConsumerOutbox& out);
  // The connection failed or the request was lost (NetworkClient disconnect): AbstractFetch.handleFetchFailure.
  void on_fetch_failed(sim::SimTime now, NodeId destination, uint64_t correlation_id, ConsumerOutbox& out);
  void on_list_offsets_response(sim::SimTime now, const ListOffsetsResponse& response, ConsumerOutbox& out);
  void on_offset_commit_response(sim::SimTime now, const OffsetCommitResponse& response, ConsumerOutbox& out);

  // New metadata (after a requested update or a periodic refresh). Partitions that waited for it fetch again.
  void update_metadata(sim::SimTime now, const ProducerMetadata& metadata, ConsumerOutbox& out);
  // The group coordinator OffsetCommit requests go to (-1 = unknown).
  void set_coordinator(NodeId coordinator) { coordinator_ = coordinator; }

  // The earliest time something is due; SimTime::max() when nothing is pending.
  sim::SimTime next_wakeup() const;
  void on_wakeup(sim::SimTime now, ConsumerOutbox& out);

  // ---- Observers ----
  bool blocked_in_poll() const { return blocked_in_poll_; }
  std::optional<int64_t> position(PartitionRef partition) const;
  std::optional<int64_t> committed(PartitionRef partition) const;
  std::optional<int64_t> high_watermark(PartitionRef partition) const;
  // records-lag: HW − position (read_uncommitted) or LSO − position (read_committed), from the last fetch
  // response consumed by poll; nullopt until both are known.
  std::optional<int64_t> lag(PartitionRef partition) const;
  bool has_pending_fetch(NodeId node) const;
  // The fetch session with `node`, or nullptr if no fetch was ever sent there.
  const FetchSessionHandler* fetch_session(NodeId node) const;
  // Partitions with fetched data not yet returned by poll (FetchBuffer.bufferedPartitions).
  std::set<PartitionRef> buffered_partitions() const;
  // KIP-392: the partition's preferred read replica if one is set and not expired at `now`
  // (SubscriptionState.preferredReadReplica, without its clearing of an expired one), else nullopt.
  std::optional<NodeId> preferred_read_replica(PartitionRef partition, sim::SimTime now) const;
  std::size_t pending_commit_count() const { return pending_commits_.size(); }
  sim::SimTime next_auto_commit() const { return next_auto_commit_; }
  const ConsumerConfig& config() const { return config_; }

 private:
  // SubscriptionState.FetchStates, reduced to what a static assignment needs.
  enum class FetchState : uint8_t {
    fetching,           // valid position
    awaiting_reset,     // needs ListOffsets (no committed offset, or OFFSET_OUT_OF_RANGE)
    reset_in_flight,    // ListOffsets sent
    awaiting_metadata,  // an error invalidated the leader: wait for update_metadata
    failed,             // auto.offset.reset = none and no valid position
  };

  struct PartitionState {
    FetchState state = FetchState::awaiting_reset;
    int64_t position = -1;               // valid in `fetching` and `awaiting_metadata`
    int32_t position_epoch = -1;         // FetchPosition.offsetEpoch: epoch of the last consumed batch
    sim::SimTime reset_not_before;       // retry.backoff.ms after a failed ListOffsets
    uint64_t reset_correlation_id = 0;   // the ListOffsets in flight for it
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    std::optional<int64_t> committed_offset;
    // KIP-392 (TopicPartitionState.preferredReadReplica / preferredReadReplicaExpireTimeMs): the replica to
    // fetch from instead of the leader (-1: none), and the time after which it is no longer used.
    NodeId preferred_read_replica = -1;
    sim::SimTime preferred_read_replica_expiry;
  };

  // CompletedFetch: one partition's data from one fetch response, drained by poll.
  struct CompletedFetch {
    PartitionRef partition;
    int64_t fetch_offset = 0;
    FetchPartitionResponse data;
    bool initialized = false;
    bool consumed = false;
    std::size_t next_batch = 0;      // into data.batches (only whole batches are kept at initialisation)
    bool next_batch_opened = false;  // a poll has read records of data.batches[next_batch] already
    int64_t next_fetch_offset = 0;   // CompletedFetch.nextFetchOffset
    int32_t last_epoch = -1;         // CompletedFetch.lastEpoch
  };

  // A fetch in flight. The fetch offset each partition was asked at is the node's session data
  // (FetchRequestData.sessionPartitions), which cannot change while the fetch is out: no other fetch goes to
  // that node until this one is answered or failed.
  struct PendingFetch {
    uint64_t correlation_id = 0;
    sim::SimTime sent_time;
  };

  struct PendingListOffsets {
    NodeId destination = -1;
    sim::SimTime sent_time;
    std::vector<PartitionRef> partitions;
  };

  struct PendingCommit {
    sim::SimTime sent_time;
    bool auto_commit = false;
    std::vector<OffsetCommitPartition> offsets;
  };

  // One iteration of ClassicKafkaConsumer.poll's loop while the application is blocked in poll.
  int32_t poll_iteration(sim::SimTime now, ConsumerOutbox& out);
  // FetchCollector.collectFetch.
  PolledRecords collect_fetch(sim::SimTime now, ConsumerOutbox& out);
  bool initialize(CompletedFetch& fetch, sim::SimTime now, ConsumerOutbox& out);
  int32_t fetch_records(CompletedFetch& fetch, int32_t max_records, PolledRecords& polled);
  // AbstractFetch.prepareFetchRequests + Fetcher.sendFetches.
  int32_t send_fetches(sim::SimTime now, ConsumerOutbox& out);
  // OffsetFetcher.resetPositionsIfNeeded.
  void reset_positions_if_needed(sim::SimTime now, ConsumerOutbox& out);
  // The ListOffsets timestamp auto.offset.reset asks for at `now`.
  int64_t reset_timestamp(sim::SimTime now) const;
  void maybe_auto_commit(sim::SimTime now, ConsumerOutbox& out);
  void send_commit(sim::SimTime now, bool auto_commit, ConsumerOutbox& out);
  void handle_fetch_failure(sim::SimTime now, NodeId node, ConsumerOutbox& out);
  void fail_list_offsets(sim::SimTime now, uint64_t correlation_id, ConsumerOutbox& out);
  void fail_commit(sim::SimTime now, uint64_t correlation_id, Errc error, ConsumerOutbox& out);
  void expire_requests(sim::SimTime now, ConsumerOutbox& out);
  void request_reset(PartitionState& state);
  // AbstractFetch.selectReadReplica: the node to fetch a partition with leader `leader` from at `now`; an
  // expired preferred replica is cleared on the way (SubscriptionState.preferredReadReplica).
  NodeId select_read_replica(PartitionState& state, NodeId leader, sim::SimTime now);
  // SubscriptionState.updatePreferredReadReplica / clearPreferredReadReplica (true when one was cleared). They
  // keep preferred_read_replica_count_.
  void update_preferred_read_replica(PartitionState& state, NodeId replica, sim::SimTime now);
  bool clear_preferred_read_replica(PartitionState& state);
  void move_partition_to_end(PartitionRef partition);
  void refresh_assigned_leaders();
  // The leader (node, epoch) of a partition in the current metadata, or nullopt.
  std::optional<PartitionLeader> leader_of(PartitionRef partition) const {
    if (!metadata_.knows_topic(partition.topic)) return std::nullopt;
    const TopicMetadata& topic = metadata_.topics[static_cast<std::size_t>(partition.topic)];
    if (partition.partition < 0 || partition.partition >= topic.num_partitions()) return std::nullopt;
    const PartitionLeader& leader = topic.partitions[static_cast<std::size_t>(partition.partition)];
    if (leader.node_id == no_leader_node) return std::nullopt;
    return leader;
  }
  // The index of an assigned partition in `partitions_`, or -1.
  int32_t slot_of(PartitionRef partition) const;
  // The pending fetch to `node` in pending_fetches_, or its end().
  std::vector<std::pair<NodeId, PendingFetch>>::iterator find_pending_fetch(NodeId node);
  PartitionState* find_state(PartitionRef partition);
  const PartitionState* find_state(PartitionRef partition) const;
  // The whole-assignment check (order, index, positions, reset flag), O(assigned partitions). It runs at the end
  // of the handlers that change the assignment, the metadata or positions from outside (assign, update_metadata,
  // ListOffsets and commit responses). The per-event handlers (poll, fetch responses and failures, wakeups) run
  // only check_event_invariants: the per-partition facts they could break are asserted where they change
  // (positions only move forward in fetch_records; every move to awaiting_reset sets reset_maybe_needed_, and
  // reset_positions_if_needed clears it only when no partition stays awaiting), and a full scan on every poll
  // was ~1 % of a large run.
  void check_invariants() const;
  // The O(1) subset of check_invariants, run at the end of every per-event handler.
  void check_event_invariants() const;

  ConsumerConfig config_;
  sim::Rng rng_;
  ProducerMetadata metadata_;
  NodeId coordinator_ = -1;
  uint64_t next_correlation_id_ = 1;
  bool blocked_in_poll_ = false;
  sim::SimTime next_auto_commit_;

  // The assigned partitions in (topic, partition) order (the order OffsetCommit requests list them in), with a
  // dense index by topic and partition (`slot_by_partition_[topic][partition]`, -1 when not assigned): lookups
  // run on every poll and every fetch response, and partitions are small dense integers per topic.
  std::vector<std::pair<PartitionRef, PartitionState>> partitions_;
  std::vector<std::vector<int32_t>> slot_by_partition_;
  // False only when no partition is in `awaiting_reset`, so that the per-poll ListOffsets scan
  // (reset_positions_if_needed) and next_wakeup skip the partitions when nothing waits for a reset.
  bool reset_maybe_needed_ = false;
  // The assigned partitions with a preferred read replica set (KIP-392), expired or not. While it is zero every
  // partition is fetched from its leader, and send_fetches keeps its early return over the leader nodes.
  std::size_t preferred_read_replica_count_ = 0;
  // SubscriptionState's assignment order, which decides the order of partitions in a FetchRequest (and thus which
  // partitions the broker fills first under fetch.max.bytes); a partition with an error moves to the end.
  std::vector<PartitionRef> fetch_order_;

  // FetchBuffer: completed fetches in arrival order plus the one being drained.
  std::deque<CompletedFetch> completed_fetches_;
  std::optional<CompletedFetch> next_in_line_;

  // nodesWithPendingFetchRequests, sorted by node: at most one entry per node, so a flat vector iterates
  // in the order a std::map would without a node allocation per fetch.
  std::vector<std::pair<NodeId, PendingFetch>> pending_fetches_;
  std::map<NodeId, FetchSessionHandler> session_handlers_;  // AbstractFetch.sessionHandlers
  std::map<NodeId, sim::SimTime> node_backoff_until_;
  // ClusterConnectionStates.throttle (KIP-219, kafka-behaviour-2.md §10.6): no fetch goes to a node until the
  // throttle its last response carried has ended.
  std::map<NodeId, sim::SimTime> node_throttled_until_;
  std::map<uint64_t, PendingListOffsets> pending_list_offsets_;
  std::map<uint64_t, PendingCommit> pending_commits_;

  // Scratch space of send_fetches, kept between calls to avoid allocating on every poll.
  struct NodeFetchScratch {
    NodeId node = -1;
    bool skip = false;  // reconnect backoff, a fetch in flight, or buffered partitions on the node
    std::vector<FetchPartitionRequest> partitions;
  };
  std::vector<uint8_t> buffered_scratch_;  // by slot in partitions_
  // The distinct leader nodes of the assigned partitions in metadata_, and whether one has no leader; kept by
  // assign and update_metadata (the only places either input changes) for send_fetches' early return, which
  // holds only while no partition has a preferred read replica (then the leaders are the fetch targets).
  std::vector<NodeId> assigned_leader_nodes_;
  bool assigned_leaderless_ = false;
  // By slot of partitions_, the partition's leader in metadata_ (node_id no_leader_node when leader_of has none),
  // kept with the two above; and fetch_order_ as slots, kept in step with it by assign and
  // move_partition_to_end. send_fetches walks the assignment on every poll, and these spare it a dense-index
  // and a metadata lookup per partition.
  std::vector<PartitionLeader> slot_leaders_;
  std::vector<int32_t> fetch_order_slots_;
  std::vector<NodeId> buffered_nodes_scratch_;
  std::vector<NodeFetchScratch> node_fetch_scratch_;
};

}  // namespace kafkasim::kafka
