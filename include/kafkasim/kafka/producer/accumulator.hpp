// RecordAccumulator, BufferPool and ProducerBatch of the Kafka producer as a sans-I/O state machine
// (clients/.../producer/internals/RecordAccumulator.java, BufferPool.java, ProducerBatch.java;
// reference/kafka-behaviour.md §1.2, §1.4, §1.5, §1.6 steps 2, 4, 5 and 6).
//
// What it does:
//  - append(): puts an accounted record (lengths only) into the last batch of its partition's deque, or opens a
//    new batch of max(batch.size, record upper bound) bytes taken from buffer.memory. Unkeyed records go to the
//    built-in sticky partitioner's partition (partitioner.hpp). When buffer.memory is exhausted the send
//    *blocks*: it is queued FIFO with a deadline of max.block.ms and completes later, when a finished batch
//    frees memory (complete_batch), or fails with BufferExhausted (expire_blocked_sends).
//  - ready(): which leader nodes have a sendable batch (full, linger.ms expired, buffer exhausted, flush in
//    progress, closing), the delay until the next batch becomes sendable, topics with unknown leaders; it also
//    rebuilds the adaptive partitioner's queue-size statistics (KIP-794).
//  - drain(): for one node, at most one batch per partition, round-robin from a per-node index, skipping muted
//    partitions and batches in retry backoff, until max.request.size. Assigns producer id, epoch and base
//    sequence to a batch on its first drain (idempotence).
//  - split_and_reenqueue(): a batch the broker rejected with MESSAGE_TOO_LARGE is cut into smaller batches
//    (KIP-126, ProducerBatch.split; KAFKA-8350 halves a batch that was already split) that go back to the head
//    of the deque.
//  - reenqueue(), expired_batches(), mute/unmute, flush and close bookkeeping.
//
// What it leaves out (for now): the pooled free list of BufferPool (it only matters to Java's GC; the memory
// accounting is the same), transactions, and the TransactionManager's in-flight bookkeeping (unresolved
// sequences, stale epochs), which belongs to the sender: drain asks it through a DrainSequenceGate.
//
// Time: Kafka works in milliseconds; here every time is sim::SimTime in nanoseconds, and a record's timestamp
// (CreateTime) is its send time truncated to milliseconds, as System.currentTimeMillis() would be.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kafkasim/kafka/backoff.hpp"
#include "kafkasim/kafka/producer/partitioner.hpp"
#include "kafkasim/kafka/producer/producer_config.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

using BatchId = uint64_t;

// RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH / NO_SEQUENCE.
inline constexpr int64_t no_producer_id = -1;
inline constexpr int16_t no_producer_epoch = -1;
inline constexpr int32_t no_sequence = -1;

struct ProducerIdAndEpoch {
  int64_t producer_id = no_producer_id;
  int16_t epoch = no_producer_epoch;
  bool valid() const { return producer_id >= 0 && epoch >= 0; }
};

// One record in a batch: the application's id for it (for durability checking), when send() was called (for
// produce latency, which Kafka measures from send() to the callback; its timestamp is this time in whole ms),
// and its key, value and headers' encoded size (record_payload_size_bytes), which a split needs to rebuild it.
struct RecordMeta {
  uint64_t record_id = 0;
  sim::SimTime send_time;
  int32_t payload_bytes = 0;
  bool null_key = false;  // sent without a key (a compacted topic's leader rejects the batch: INVALID_RECORD)
};

// ProducerBatch + its MemoryRecordsBuilder, accounted.
struct ProducerBatch {
  BatchId id = 0;
  PartitionRef partition;
  sim::SimTime created_time;       // createdMs: delivery.timeout.ms counts from here
  sim::SimTime last_attempt_time;  // lastAttemptMs: linger and retry backoff count from here
  sim::SimTime last_append_time;   // lastAppendTime
  sim::SimTime drained_time;       // drainedMs
  int32_t attempts = 0;            // 0 until the first re-enqueue
  bool retry = false;
  sim::Duration retry_backoff;  // the backoff of the current retry, drawn once at re-enqueue (see reenqueue)
  // KIP-951: the leader epoch last seen for the partition and the attempt at which it changed; a retry to a
  // new leader skips the backoff.
  int32_t current_leader_epoch = no_leader_epoch;
  int32_t attempts_when_leader_last_changed = 0;

  // MemoryRecordsBuilder state.
  int32_t buffer_capacity_bytes = 0;  // writeLimit = the buffer taken from buffer.memory
  int64_t base_timestamp_ms = 0;      // the first record's timestamp
  int32_t uncompressed_records_bytes = 0;
  CompressionType compression = CompressionType::none;
  float compression_ratio_estimate = 1.0f;  // taken from the topic's estimator when the batch is created
  bool closed_for_appends = false;
  bool closed = false;  // built (drained or expired): its size is final
  int32_t built_size_bytes = 0;
  bool queued = false;  // in its partition's deque (not drained, or re-enqueued)
  // Made by split_and_reenqueue: its buffer is not taken from buffer.memory (Kafka allocates it on the heap).
  bool is_split_batch = false;

  // Idempotence: set on the first drain.
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  int32_t base_sequence = no_sequence;

  std::vector<RecordMeta> records;

  int32_t record_count() const { return static_cast<int32_t>(records.size()); }
  bool has_sequence() const { return base_sequence != no_sequence; }
  // MemoryRecordsBuilder.estimatedSizeInBytes: the built size once closed, else the running estimate.
  int32_t estimated_size_bytes() const {
    if (closed) return built_size_bytes;
    return estimated_batch_bytes(compression, uncompressed_records_bytes, compression_ratio_estimate);
  }
  // MemoryRecordsBuilder.isFull.
  bool is_full() const {
    return closed_for_appends || closed || (!records.empty() && buffer_capacity_bytes <= estimated_size_bytes());
  }
  // waitedTimeMs: time since the last attempt (creation for a fresh batch), never negative.
  sim::Duration waited_time(sim::SimTime now) const;
  // ProducerBatch.maybeUpdateLeaderEpoch (KIP-951): remember the attempt at which a newer leader epoch appeared.
  // Returns whether the batch changed.
  bool maybe_update_leader_epoch(int32_t latest_leader_epoch) {
    if (latest_leader_epoch != no_leader_epoch &&
        (current_leader_epoch == no_leader_epoch || current_leader_epoch < latest_leader_epoch)) {
      attempts_when_leader_last_changed = attempts;
      current_leader_epoch = latest_leader_epoch;
      return true;
    }
    return false;
  }
  // KIP-951 hasLeaderChangedForTheOngoingRetry.
  bool has_leader_changed_for_ongoing_retry() const {
    return attempts >= 1 && attempts == attempts_when_leader_last_changed;
  }
};

enum class AppendStatus : uint8_t {
  appended,            // the record is in a batch
  blocked_on_memory,   // buffer.memory is exhausted: the send waits (see RecordAccumulator::append)
  buffer_exhausted,    // BufferExhaustedException: a blocked send waited max.block.ms in vain
  record_too_large,    // RecordTooLargeException: larger than max.request.size or buffer.memory
  unknown_topic,       // the metadata has no such topic (the caller should have waited for metadata)
  closed,              // the accumulator is closed ("Producer closed while send in progress")
};

// RecordAppendResult.
struct AppendResult {
  AppendStatus status = AppendStatus::appended;
  uint64_t record_id = 0;
  int32_t partition = unknown_partition;
  BatchId batch = 0;
  bool batch_is_full = false;      // wake the sender: the deque holds more than one batch or the last is full
  bool new_batch_created = false;  // wake the sender too
  // Whether the sender is woken: as Kafka's batch_is_full || new_batch_created, but false for an append into the
  // last of several batches that leaves it not full while such appends are quiet (set_tail_appends_quiet).
  bool wakes_sender = false;
  int32_t appended_bytes = 0;      // growth of the batch's estimated size (includes the header for a new batch)
};

struct SendRequest {
  int32_t topic = 0;
  int32_t partition = unknown_partition;  // unknown_partition: the sticky partitioner chooses
  RecordShape shape;
  uint64_t record_id = 0;
  // What is left of max.block.ms after the metadata wait (KafkaProducer.doSend); unset means max.block.ms.
  std::optional<sim::Duration> max_block_remaining;
};

// A send that had blocked on buffer.memory and was then appended, or that timed out.
struct BlockedSendOutcome {
  uint64_t record_id = 0;
  sim::SimTime send_time;
  AppendResult result;  // status appended, buffer_exhausted (timed out) or closed
};

// ReadyCheckResult.
struct ReadyCheckResult {
  std::vector<int32_t> ready_nodes;  // sorted, unique
  // How long until a not-yet-sendable batch becomes sendable (linger or backoff); Duration::max() if none.
  sim::Duration next_ready_check_delay = sim::Duration::max();
  std::vector<int32_t> unknown_leader_topics;  // sorted, unique
};

class RecordAccumulator;

// The TransactionManager's part in RecordAccumulator.drainBatchesForOneNode for an idempotent producer, which the
// Sender implements: the accumulator does not keep the per-partition sequence bookkeeping (in-flight sequences,
// unresolved sequences, the epoch each partition's sequences belong to).
class DrainSequenceGate {
 public:
  // shouldStopDrainBatchesForPartition, asked for each partition whose head batch drain would take, where Kafka
  // asks it: after the mute, retry-backoff and max.request.size checks and the accumulator's own check that a valid
  // producer id is set. True makes drain break out of its loop (drainBatchesForOneNode): no partition of the node
  // after this one is drained in this request, and the node's drain index stays at this partition. On false for a
  // head without a sequence, the gate has also done what TransactionManager.maybeUpdateProducerIdAndEpoch does for
  // the partition before its next sequence is read: it may call restart_partition_sequences for `partition` (and no
  // other accumulator method) before returning.
  virtual bool should_stop_drain(PartitionRef partition, const ProducerBatch& head) = 0;

 protected:
  ~DrainSequenceGate() = default;
};

// Answers, for records the application will send later, whether each send would be *quiet*: appended to the
// current last batch of its partition with no effect anyone else can see before that batch is drained — no new
// batch, the batch not full afterwards, its deque holding only that batch (so KafkaProducer.doSend does not wake
// the sender) or, while tail appends are quiet now, more (doSend wakes the sender, whose poll would find nothing
// new: RecordAccumulator::set_tail_appends_quiet), no buffer.memory needed, no sticky-partition switch, no error.
// It assumes the records are sent in the order asked, each at its time, and that nothing else touches the
// accumulator meanwhile. The cluster layer
// uses it to append quiet records lazily (exactly as if each had been sent at its time) instead of simulating
// every send as an event.
class QuietAppendCursor {
 public:
  // `partition` is the resolved partition (choose_partition), or unknown_partition for the sticky partitioner's.
  // Returns true and accounts the record if its send would be quiet after the records accepted so far; once it
  // returns false it always does.
  bool accept(int32_t topic, int32_t partition, const RecordShape& shape, sim::SimTime time);
  // False once the accumulator changed other than by quiet appends: the answers so far may no longer hold.
  // While true, the cursor can go on from where it stopped, whether or not the accepted records were sent.
  bool still_valid() const;

 private:
  friend class RecordAccumulator;
  QuietAppendCursor(const RecordAccumulator& accumulator, const ProducerMetadata& metadata)
      : accumulator_(&accumulator), metadata_(&metadata) {}
  struct OpenBatch {  // a last batch as the accepted records left it
    PartitionRef partition;
    int32_t record_count = 0;
    int32_t uncompressed_records_bytes = 0;
  };
  const RecordAccumulator* accumulator_;
  const ProducerMetadata* metadata_;
  uint64_t version_ = 0;  // the accumulator's quiet_version_ when the cursor was made
  std::vector<OpenBatch> open_;                            // few: the partitions the accepted records went to
  std::vector<std::pair<int32_t, int64_t>> produced_bytes_;  // per topic: the sticky partitioner's count
  bool stopped_ = false;
};

class RecordAccumulator {
 public:
  // `rng` drives the sticky partitioner's draws and the retry-backoff jitter; it must outlive the accumulator.
  RecordAccumulator(const ProducerConfig& config, sim::Rng& rng);

  const ProducerConfig& config() const { return config_; }

  // RecordAccumulator.append (plus KafkaProducer.ensureValidRecordSize). The record's send time and timestamp
  // are `now`. When buffer.memory is exhausted the result is blocked_on_memory and the record waits (FIFO) until
  // complete_batch frees enough memory, then it is appended and reported by complete_batch; if max.block.ms
  // passes first, expire_blocked_sends reports it. A real send() blocks its thread meanwhile: the caller should
  // not issue more sends from the same application thread until the blocked one is resolved.
  AppendResult append(const SendRequest& request, sim::SimTime now, const ProducerMetadata& metadata);

  // Appends a record that a still-valid QuietAppendCursor accepted, in the order it accepted them, at the time it
  // was judged for: the same effect as append() (the same batch, sizes, timestamps and partitioner count) without
  // the checks the cursor already made. `partition` as given to the cursor.
  AppendResult append_quiet(const SendRequest& request, sim::SimTime now);

  // See QuietAppendCursor.
  QuietAppendCursor quiet_cursor(const ProducerMetadata& metadata) const {
    QuietAppendCursor cursor(*this, metadata);
    cursor.version_ = quiet_version_;
    return cursor;
  }
  // The producer's metadata changed: quiet-append answers computed before no longer hold.
  void note_metadata_changed() { ++quiet_version_; }

  // KafkaProducer.doSend wakes the sender after every append into a deque that holds more than one batch
  // (batchIsFull). Such an append goes into the last batch and leaves the head, which ready() and drain() look at,
  // as it was: sendable as full. If nothing that ready() depends on changed since the last ready() (no deque
  // changed, no head was closed, filled, muted or unmuted, no sticky switch, no blocked send: quiet_version_ is
  // where ready() left it; a drain changes a deque after its poll's ready() took the sizes for the adaptive
  // partitioner, so the first such append after a drain still wakes the sender), the poll it causes finds what the
  // last one found and does nothing; whatever can let a node take its head (a completed send or response, a
  // backoff's or throttle's end) wakes the sender itself. While this is on (the default), such an append that
  // leaves its batch not full does not wake the sender (AppendResult::wakes_sender) and is quiet; the skipped
  // wakeup stays owed until the cluster layer would run the poll (Producer::resolve_skipped_wakeup), in case a
  // later send changes what ready() sees without a wakeup of its own. Off: Kafka's wakeups, a poll per such append.
  // The run is the same either way but for its events (tests compare the two). Never with
  // partitioner.availability.timeout.ms > 0, where every ready() stamps the ready nodes' latency stats.
  void set_tail_appends_quiet(bool quiet) {
    tail_appends_quiet_ = quiet;
    ++quiet_version_;
  }
  // Whether anything ready() depends on may have changed since the last ready().
  bool ready_inputs_changed() const { return quiet_version_ != version_at_ready_; }
  // Whether an append into the last of several batches, leaving it not full, is quiet now.
  bool tail_appends_quiet_now() const {
    return tail_appends_quiet_ && quiet_version_ == version_at_ready_ &&
           config_.partitioner_availability_timeout <= sim::Duration::zero();
  }

  // ready(): see the file comment. Also refreshes the adaptive partitioner's load stats of every topic.
  ReadyCheckResult ready(const ProducerMetadata& metadata, sim::SimTime now);
  // ready() keeps its head index (see ReadyIndex) only while many deques are non-empty: it starts once more than
  // `enter` are, and stops (scanning the non-empty heads instead) once fewer than `leave` are; leave <= enter + 1.
  // The results are the same either way; tests lower the thresholds to exercise the index and the switches.
  void set_ready_index_thresholds(size_t enter, size_t leave) {
    KS_ASSERT_LE(leave, enter + 1);
    ready_index_enter_ = enter;
    ready_index_leave_ = leave;
  }

  // drainBatchesForOneNode: the batches to send to `node` in one ProduceRequest, in drain order. They leave
  // their deques, are closed (their size becomes final) and must later be passed to complete_batch (or
  // reenqueue for a retry). The caller mutes the drained partitions if max.in.flight is 1. An idempotent producer
  // passes its `gate` (shouldStopDrainBatchesForPartition); without one only the producer id's validity is checked.
  std::vector<BatchId> drain(const ProducerMetadata& metadata, int32_t node, int32_t max_request_size_bytes,
                             sim::SimTime now, DrainSequenceGate* gate = nullptr);

  // reenqueue: put a drained batch back at the head of its partition's deque for a retry. Idempotent batches
  // (with a sequence) are inserted in sequence order. The backoff (retry.backoff.ms, exponential to
  // retry.backoff.max.ms with +-20% jitter, KIP-580) is drawn once here; Kafka redraws it on every check.
  void reenqueue(BatchId batch, sim::SimTime now);

  // splitAndReenqueue, for a drained batch of more than one record that the broker rejected with
  // MESSAGE_TOO_LARGE. Its records, in order, fill new batches of at most max(batch.size, the record's upper
  // bound) bytes each (ProducerBatch.split; KAFKA-8350: a batch that is itself a split batch is cut to
  // max(its largest record's upper bound, its size / 2) instead, so repeated rejections end in single
  // records). The new batches keep the big batch's creation time (delivery.timeout.ms still counts from it),
  // start with no attempts and no backoff, take no buffer.memory, and are closed for appends. A sequenced batch
  // passes its sequences on (each new batch starts where the previous ends). They go to the head of the deque in
  // record order (idempotent: in sequence order). The topic's compression-ratio estimate is reset to
  // max(1, the batch's ratio). Returns the new batches' ids in record order. The big batch stays incomplete:
  // its records now belong to the new batches, and the caller deallocates it with complete_batch.
  std::vector<BatchId> split_and_reenqueue(BatchId batch, sim::SimTime now);
  // Batches made by split_and_reenqueue that have not completed. Their ids are newer than their creation times.
  size_t live_split_batch_count() const { return live_split_batches_; }

  // expiredBatches: undrained batches whose delivery.timeout.ms has passed since creation, removed from their
  // deques. The caller fails their records, then calls complete_batch.
  std::vector<BatchId> expired_batches(sim::SimTime now);

  // deallocate: a batch finished (acknowledged, failed or expired). Frees its memory, which may unblock
  // waiting sends; those are appended now and returned.
  std::vector<BlockedSendOutcome> complete_batch(BatchId batch, sim::SimTime now, const ProducerMetadata& metadata);

  // Blocked sends whose max.block.ms passed: BufferExhaustedException. Their partial memory is given back,
  // which may unblock later waiters (appended ones are returned too, in order).
  std::vector<BlockedSendOutcome> expire_blocked_sends(sim::SimTime now, const ProducerMetadata& metadata);
  // The earliest deadline of a blocked send, if any.
  std::optional<sim::SimTime> next_blocked_send_deadline() const;
  size_t blocked_send_count() const { return waiters_.size(); }

  // The earliest time an undrained batch reaches delivery.timeout.ms, if any.
  std::optional<sim::SimTime> next_batch_expiry_time() const;

  void mute_partition(PartitionRef partition) {
    if (muted_.insert(partition).second) mark_ready_dirty(partition);
  }
  void unmute_partition(PartitionRef partition) {
    if (muted_.erase(partition) > 0) mark_ready_dirty(partition);
  }
  bool is_muted(PartitionRef partition) const { return muted_.contains(partition); }

  // beginFlush / the end of awaitFlushCompletion: while a flush is in progress every batch is sendable.
  void begin_flush() {
    ++flushes_in_progress_;
    ++quiet_version_;  // every head's outcome in ready() changes
  }
  void end_flush();
  bool flush_in_progress() const { return flushes_in_progress_ > 0; }
  // close(): everything becomes sendable; later appends fail.
  void close() {
    closed_ = true;
    ++quiet_version_;
  }
  bool is_closed() const { return closed_; }

  // updateNodeLatencyStats, called by the Sender for each ready node (partitioner.availability.timeout.ms).
  void update_node_latency_stats(int32_t node, sim::SimTime now, bool can_drain);

  // Idempotence: the producer id and epoch from InitProducerId. While idempotence is enabled and no valid id is
  // set, nothing is drained.
  void set_producer_id_and_epoch(ProducerIdAndEpoch id) { producer_id_and_epoch_ = id; }
  int32_t next_sequence(PartitionRef partition) const;
  // bumpIdempotentProducerEpoch + TxnPartitionMap.startSequencesAtBeginning (KIP-360), for a Sender that bumps
  // the epoch only while nothing is in flight: installs the new id/epoch and gives every queued batch that
  // already has a sequence (a retry) a new one, from 0 in queue order, under the new id/epoch. Each partition's
  // next sequence continues after them; batches never drained get theirs at drain as usual.
  void restart_sequences(ProducerIdAndEpoch id);
  // The same for one partition (startSequencesAtBeginning of a partition that triggered the bump): its queued
  // retries get sequences from 0 under `id`, and its next sequence follows them. Does not change the id/epoch
  // the accumulator gives to batches drained for the first time.
  void restart_partition_sequences(PartitionRef partition, ProducerIdAndEpoch id);

  // What the configured codec makes of a topic's data (a model input, not a Kafka config): the size a batch
  // really gets when it is built, from its uncompressed size. Defaults to ratio 1.
  void set_compression(int32_t topic, CompressionCurve curve);
  float compression_ratio_estimate(int32_t topic) const;

  const ProducerBatch& batch(BatchId id) const;
  bool has_incomplete() const { return !incomplete_.empty(); }
  // The ids of every batch not yet completed (queued, in flight, or waiting to be retried), in id order.
  std::vector<BatchId> incomplete_batches() const;
  bool has_undrained() const { return !nonempty_.empty(); }
  size_t queued_batch_count(PartitionRef partition) const;
  // The ids of the batches queued for a partition, head first.
  std::vector<BatchId> queued_batches(PartitionRef partition) const;
  const BuiltInPartitioner* partitioner(int32_t topic) const;
  // The partitioner with its load stats as its next draw will see them (they are rebuilt lazily, see TopicState).
  const BuiltInPartitioner* partitioner_for_next_draw(int32_t topic, const ProducerMetadata& metadata);

  int64_t buffer_total_bytes() const { return config_.buffer_memory_bytes; }
  int64_t buffer_available_bytes() const { return available_memory_bytes_; }
  bool buffer_exhausted() const { return !waiters_.empty(); }

 private:
  friend class QuietAppendCursor;
  struct PartitionQueue {
    bool created = false;
    std::deque<ProducerBatch*> batches;
    // The head's creation time as entered in `head_created_`, while the deque is non-empty (see on_queue_changed).
    sim::SimTime indexed_head_created;
    // What ready() last found for the head (see ReadyIndex): its state, its leader and, while it waits, when the
    // outcome can next change with time alone.
    uint8_t ready_state = 0;  // a ReadyState
    bool ready_dirty = false;  // listed in ReadyIndex::dirty
    int32_t ready_leader = no_leader_node;
    sim::SimTime ready_recheck;
  };
  // The outcome of check_head for one head, as ready() keeps it between calls.
  enum ReadyState : uint8_t {
    ready_none = 0,            // not indexed (empty deque, or not computed yet)
    ready_unknown_leader = 1,  // the partition has no known leader: its topic goes to unknown_leader_topics
    ready_skipped = 2,         // muted: contributes nothing
    ready_sendable = 3,        // its leader is ready
    ready_waiting = 4,         // not sendable yet: contributes its delay unless an earlier head made its leader ready
  };
  // A min-tree over a leader's partitions (in (topic, partition) order): for a waiting head, the time its delay
  // counts down to; SimTime::max() elsewhere. prefix_min(k) is the minimum over the first k partitions.
  struct MinTree {
    size_t size = 0;
    std::vector<sim::SimTime> nodes;  // iterative segment tree: leaves at [size, 2 size)
    void reset(size_t n);
    void assign(size_t index, sim::SimTime value);
    sim::SimTime prefix_min(size_t count) const;
  };
  struct LeaderReadyIndex {
    int32_t node = no_leader_node;
    std::set<PartitionRef> sendable;  // its non-muted sendable heads: the first one decides which heads are skipped
    MinTree waiting;                  // by the partition's rank among the leader's partitions
  };
  // ready() without visiting every non-empty deque. A head's check_head outcome depends on the head batch, whether
  // it is alone and full, whether it is muted, the metadata (its leader and leader epoch), the accumulator-wide
  // conditions (a blocked send, close, flush) and the time. The first three mark the partition dirty where they
  // change (on_queue_changed, try_append when the batch fills up, mute/unmute, drain's leader-epoch update); a
  // change of the last three but time rebuilds everything; time changes a waiting head's outcome only at
  // `ready_recheck`, listed in `recheck`, and a sendable head stays sendable. The skipping of heads whose leader is
  // already ready (by an earlier head in (topic, partition) order) is applied when the result is put together.
  struct ReadyIndex {
    bool valid = false;
    bool exhausted = false;
    bool closed = false;
    bool flushing = false;
    sim::SimTime last_now;
    std::vector<std::vector<PartitionLeader>> leaders;  // the metadata the entries were computed with
    std::vector<std::vector<int32_t>> rank;             // by topic and partition: rank among its leader's partitions
    std::vector<LeaderReadyIndex> by_leader;             // few: looked up by a linear search
    std::set<std::pair<sim::SimTime, PartitionRef>> recheck;
    std::vector<PartitionRef> dirty;
  };
  struct TopicState {
    explicit TopicState(int32_t sticky_batch_size_bytes) : partitioner(sticky_batch_size_bytes) {}
    std::vector<PartitionQueue> partitions;  // by partition id, grown on demand
    int32_t created_queue_count = 0;         // Kafka's batches.size()
    BuiltInPartitioner partitioner;
    float compression_ratio_estimate = 1.0f;
    CompressionCurve compression;  // the modelled size of a built batch (set_compression)
    std::vector<int32_t> scratch_queue_sizes;  // reused by ready()
    std::vector<int32_t> scratch_partition_ids;
    // The adaptive partitioner's input is the deque sizes as ready() last saw them. ready() only records the
    // sizes of the deques that changed since (`changed`); the load stats are rebuilt from `ready_queue_sizes`
    // when the partitioner is about to draw a new partition, the only time they are read. Same draws, with
    // O(changes) per ready() instead of O(partitions). (Leaders are read at the draw, not at ready().)
    std::vector<int32_t> ready_queue_sizes;  // by partition id
    std::vector<uint8_t> changed_flag;       // by partition id: listed in `changed`
    // By partition id: the deque holds a batch. drain checks these packed flags rather than each deque.
    std::vector<uint8_t> queue_nonempty;
    // By partition id: the base sequence the partition's next drained batch gets (idempotence).
    std::vector<int32_t> next_sequence;
    std::vector<int32_t> changed;
    int32_t unknown_leader_heads = 0;  // ReadyIndex: heads in state ready_unknown_leader
    bool load_stats_wanted = false;  // ready() found the conditions for adaptive stats (see ready())
    bool load_stats_stale = false;   // wanted, and not rebuilt since the last ready()
  };
  struct BlockedSend {
    SendRequest request;
    sim::SimTime send_time;
    sim::SimTime deadline;
    int32_t size_bytes = 0;
    int32_t accumulated_bytes = 0;
  };
  struct NodeLatencyStats {
    sim::SimTime ready_time;
    sim::SimTime drain_time;
  };

  TopicState& topic_state(int32_t topic);
  TopicState& add_topic_states(int32_t topic);  // topic_state's slow path: grows topics_ up to `topic`
  PartitionQueue& queue_for(PartitionRef partition);
  // Every change of a deque's length or head goes through here: it keeps `nonempty_`, `head_created_` and the
  // stats bookkeeping.
  void on_queue_changed(PartitionRef partition, PartitionQueue& queue);
  // ready() as Kafka writes it, visiting every deque; used when partitioner.availability.timeout.ms is set.
  ReadyCheckResult ready_full_scan(const ProducerMetadata& metadata, sim::SimTime now);
  // ready() for one non-empty deque: its head batch's leader epoch, then batchReady (the leader becomes ready,
  // or the next check delay shortens), or the topic is noted as having a partition without a leader.
  // `out.ready_nodes` and `out.unknown_leader_topics` collect each entry once; finish_ready_result sorts them.
  void check_head(PartitionQueue& queue, PartitionRef tp, int32_t leader, const ProducerMetadata& metadata,
                  sim::SimTime now, bool exhausted, ReadyCheckResult& out);
  static void finish_ready_result(ReadyCheckResult& out);
  // The incremental ready() (see ReadyIndex; accumulator_ready_index.cpp, a unit of its own so that its code does
  // not use up the inlining budget of the hot paths here). ready_from_index completes `out` for ready().
  void mark_ready_dirty(PartitionRef partition);
  void ready_from_index(const ProducerMetadata& metadata, sim::SimTime now, bool exhausted, ReadyCheckResult& out);
  void ready_rebuild(const ProducerMetadata& metadata, sim::SimTime now, bool exhausted);
  LeaderReadyIndex& leader_ready_index(int32_t node);
  void ready_unindex(PartitionRef partition, PartitionQueue& queue);
  void ready_index(PartitionRef partition, PartitionQueue& queue, const ProducerMetadata& metadata, sim::SimTime now,
                   bool exhausted);
  // Rebuilds the partitioner's load stats from the sizes ready() last saw, if they changed since.
  void refresh_load_stats(TopicState& ts, const TopicMetadata& topic);
  const PartitionQueue* find_queue(PartitionRef partition) const;
  // partitionsForNode: every partition led by `node`, in topic then partition order.
  const std::vector<PartitionRef>& partitions_for_node(const ProducerMetadata& metadata, int32_t node);
  static bool all_batches_full(const PartitionQueue& queue) {
    // Only the last batch of a deque may still take records.
    return queue.batches.empty() || queue.batches.back()->is_full();
  }
  // The core of append once the size checks passed. `reserved_bytes` > 0 is memory already granted to this
  // record (a formerly blocked send). Returns blocked_on_memory without side effects on memory if it must wait.
  AppendResult append_internal(const SendRequest& request, sim::SimTime send_time, sim::SimTime now,
                               const ProducerMetadata& metadata, int32_t reserved_bytes);
  // tryAppend to the last batch; closes it for appends when the record does not fit.
  bool try_append(PartitionQueue& queue, const SendRequest& request, sim::SimTime send_time, sim::SimTime now,
                  AppendResult& result);
  bool should_backoff(const ProducerBatch& batch, sim::SimTime now) const {
    // KIP-951: a retry towards a new leader does not wait for its backoff.
    const bool should_wait_more = batch.attempts > 0 && batch.waited_time(now) < batch.retry_backoff;
    return should_wait_more && !batch.has_leader_changed_for_ongoing_retry();
  }
  static int32_t leader_epoch_of(const ProducerMetadata& metadata, PartitionRef tp) {
    if (!metadata.knows_topic(tp.topic)) return no_leader_epoch;
    const TopicMetadata& topic = metadata.topic(tp.topic);
    if (tp.partition >= topic.num_partitions()) return no_leader_epoch;
    return topic.partitions[static_cast<size_t>(tp.partition)].leader_epoch;
  }
  // Grants freed memory to the waiters in FIFO order and appends those fully served.
  void serve_waiters(sim::SimTime now, const ProducerMetadata& metadata, std::vector<BlockedSendOutcome>& out);
  void close_batch(ProducerBatch& batch);
  // A new incomplete batch (the ProducerBatch constructor): the next id, created at `created` (also its last
  // attempt, last append and drain time), writing into `capacity_bytes` with the given compression estimate.
  ProducerBatch& new_batch(PartitionRef partition, sim::SimTime created, int32_t capacity_bytes,
                           CompressionType compression, float compression_ratio_estimate);
  // insertInSequenceOrder: after the queued batches with a lower sequence, before the rest.
  void insert_in_sequence_order(PartitionQueue& queue, ProducerBatch& batch);
  sim::Duration draw_retry_backoff(int32_t attempts);

  ProducerConfig config_;
  sim::Rng& rng_;
  std::vector<TopicState> topics_;
  std::map<BatchId, ProducerBatch> incomplete_;
  std::vector<std::vector<RecordMeta>> spare_record_lists_;  // emptied `records` of completed batches, for reuse
  BatchId next_batch_id_ = 1;
  size_t live_split_batches_ = 0;
  int64_t available_memory_bytes_;
  std::deque<BlockedSend> waiters_;
  std::set<PartitionRef> muted_;
  std::set<PartitionRef> nonempty_;  // partitions whose deque holds a batch
  // (creation time of the head batch, partition) for every partition in `nonempty_`, so the earliest delivery
  // timeout and the expired heads are found without visiting every deque. A batch's creation time never changes,
  // and a head changes only with the deque (on_queue_changed), so the entries stay exact.
  std::set<std::pair<sim::SimTime, PartitionRef>> head_created_;
  ReadyIndex ready_index_;
  size_t ready_index_enter_ = 64;  // see set_ready_index_thresholds
  size_t ready_index_leave_ = 16;
  // Counts every change a QuietAppendCursor could be wrong about: anything but a quiet append (and every change
  // of a head's outcome in ready(): mark_ready_dirty).
  uint64_t quiet_version_ = 0;
  // Per node (few: flat lists, one cache line, instead of map nodes scattered in memory).
  std::vector<std::pair<int32_t, int32_t>> node_drain_index_;
  // drain's partitionsForNode lists by node, built from `drain_leaders_`: a copy of the metadata's leaders that
  // each drain compares with the metadata it is given (one memcmp, cheaper than rebuilding the list every time,
  // and exact whatever changed the metadata).
  std::vector<std::vector<PartitionLeader>> drain_leaders_;
  std::vector<std::pair<int32_t, std::vector<PartitionRef>>> drain_parts_;
  std::map<int32_t, NodeLatencyStats> node_stats_;
  std::optional<ProducerIdAndEpoch> producer_id_and_epoch_;
  int32_t flushes_in_progress_ = 0;
  bool closed_ = false;
  bool tail_appends_quiet_ = true;  // see set_tail_appends_quiet
  uint64_t version_at_ready_ = 0;   // quiet_version_ when the last ready() returned
};

}  // namespace kafkasim::kafka
