// Kafka's partition log as a sans-I/O state machine (reference/kafka-behaviour.md §2.3–§2.5, §2.7, §2.8;
// core/.../log/UnifiedLog.scala, LocalLog.scala, storage/.../log/LogSegment.java, LogLoader.java).
//
// What it does: appends accounted batches (assigning offsets on the leader path, taking them on the follower
// path), rolls segments (segment.bytes, segment.ms minus jitter, full index, relative-offset overflow), applies
// retention (log start offset, retention.bytes, retention.ms, never past the high watermark), reads whole
// batches by offset for fetches (with the KIP-74 first-batch rule), truncates for followers, and recovers after
// a crash to the durable prefix the caller reports. Every method that changes files appends `StorageOp`s to the
// caller's outbox; the cluster layer turns them into page-cache and disk operations.
//
// What it leaves to others: the high watermark, the leader-epoch cache and producer state belong to the
// partition layer (the log takes the HW as an argument where Kafka's UnifiedLog consults it). Compaction,
// transactions (LSO, .txnindex), producer-state snapshot files and tiered storage are not modelled.
//
// Offsets are int64 Kafka offsets. Times are simulated instants; Kafka's millisecond configs are compared at
// nanosecond resolution.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/log/log_config.hpp"
#include "kafkasim/kafka/log/log_segment.hpp"
#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/kafka/log/segment_batches.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

struct LogAppendResult {
  Errc error = Errc::none;
  int64_t first_offset = -1;  // offset of the first record appended
  int64_t last_offset = -1;   // offset of the last record appended
  bool rolled = false;        // a new segment was created for this append
  RollReason roll_reason = RollReason::none;
};

// What a fetch reads from one partition (LocalLog.read + LogSegment.read).
struct LogReadResult {
  Errc error = Errc::none;
  // The byte slice to read from the segment's `.log` file. Kafka sends this slice as is, so it may end inside
  // a batch; that partial tail costs network bytes but the client drops it.
  FileId file_id;
  int64_t segment_base_offset = -1;
  int64_t position = 0;
  int64_t bytes = 0;
  // The whole batches inside the slice, in offset order. Valid until the next call that changes the log.
  StoredBatchRange batches;
  int64_t whole_batch_bytes = 0;
  int64_t record_count = 0;
  // Where the next fetch starts: one past the last whole batch, or the fetch offset when nothing was read.
  int64_t next_fetch_offset = -1;
  // The first batch did not fit in max_bytes and min_one_message was false. Fetch v3+ then returns no records
  // for the partition rather than a partial batch (ReplicaManager.readFromLog, KIP-74).
  bool first_entry_incomplete = false;
};

// Segments deleted by one UnifiedLog.deleteOldSegments call, by reason, in the order Kafka applies them.
struct RetentionResult {
  int32_t deleted_by_log_start_offset = 0;
  int32_t deleted_by_size = 0;
  int32_t deleted_by_time = 0;
  int64_t bytes_deleted = 0;
  int32_t total() const { return deleted_by_log_start_offset + deleted_by_size + deleted_by_time; }
};

// How many bytes of a segment's `.log` file survived a crash, as the page-cache model reports it.
struct DurableSize {
  FileId file_id;
  int64_t durable_bytes = 0;
};

struct RecoveryResult {
  int64_t log_end_offset = 0;
  int64_t bytes_truncated = 0;
  int32_t segments_recovered = 0;  // segments at or after the recovery point that were scanned
  int32_t segments_deleted = 0;    // later segments removed because an earlier one was truncated
};

// The position of an offset (LogOffsetMetadata): lets DelayedFetch compute bytes between two offsets.
struct LogOffsetPosition {
  int64_t offset = 0;
  int64_t segment_base_offset = 0;
  int64_t position = 0;
};

class Log {
 public:
  // Creates the log with one empty segment at `log_start_offset`. `log_id` makes file ids unique on a
  // broker; `rng` is this log's stream for segment.jitter.ms draws (drawn only when the jitter is > 0).
  Log(const LogConfig& config, uint32_t log_id, int64_t log_start_offset, sim::SimTime now, sim::Rng rng,
      StorageOps& out);

  // The checks of a leader's append that come before its producer-state check (UnifiedLog.append:
  // analyzeAndValidateRecords, then LogValidator): MESSAGE_TOO_LARGE (a batch > max.message.bytes), then
  // INVALID_TIMESTAMP (with CreateTime, a record's timestamp outside [now - message.timestamp.before.max.ms,
  // now + message.timestamp.after.max.ms] in whole ms), then INVALID_RECORD (a record without a key on a compacted
  // topic). Errc::none if the batches pass.
  Errc validate_leader_batches(std::span<const RecordBatch> batches, sim::SimTime now) const;
  // UnifiedLog.appendAsLeader: assigns offsets from the LEO and sets partitionLeaderEpoch on every batch.
  // Errors (nothing appended): those of validate_leader_batches, and RECORD_LIST_TOO_LARGE (the append >
  // segment.bytes).
  LogAppendResult append_as_leader(std::span<const RecordBatch> batches, int32_t leader_epoch, sim::SimTime now,
                                   StorageOps& out);
  // UnifiedLog.appendAsFollower: offsets come from the batches and must start at or after the LEO (the
  // follower's fetch offset always equals its LEO, §8.5; anything else is a bug in the caller).
  LogAppendResult append_as_follower(std::span<const RecordBatch> batches, sim::SimTime now, StorageOps& out);

  // UnifiedLog.read: reads from `fetch_offset` up to `max_offset_bound` (exclusive: the HW for consumers, the
  // LEO for followers), at most `max_bytes` unless `min_one_message` lets the first batch exceed it (KIP-74).
  // OFFSET_OUT_OF_RANGE if fetch_offset < log start offset or > LEO. An offset in [bound, LEO] reads nothing.
  LogReadResult read(int64_t fetch_offset, int64_t max_bytes, int64_t max_offset_bound, bool min_one_message) const;

  // UnifiedLog.deleteOldSegments, run every log.retention.check.interval.ms by the caller. When
  // `deleted_batches` is given, the batches of the deleted segments are appended to it, oldest first (the
  // cluster layer uses their tags to forget records nobody can read any more).
  RetentionResult delete_old_segments(sim::SimTime now, int64_t high_watermark, StorageOps& out,
                                      std::vector<RecordBatch>* deleted_batches = nullptr);

  // UnifiedLog.maybeIncrementLogStartOffset (DeleteRecords, or a follower following the leader's start).
  // OFFSET_OUT_OF_RANGE if the new start is above the high watermark. Segments go at the next retention pass.
  Errc maybe_increment_log_start_offset(int64_t new_log_start_offset, int64_t high_watermark);

  // UnifiedLog.truncateTo: removes every record at or after `target_offset`. Returns false (and does nothing)
  // when target_offset >= LEO.
  bool truncate_to(int64_t target_offset, sim::SimTime now, StorageOps& out);
  // UnifiedLog.truncateFullyAndStartAt: deletes every segment and starts an empty log at `new_offset`.
  void truncate_fully_and_start_at(int64_t new_offset, sim::SimTime now, StorageOps& out);

  // LocalLog.roll(None): starts a new active segment at the LEO and schedules the flush of the old ones.
  void roll(sim::SimTime now, StorageOps& out);

  // UnifiedLog.flush(offset, includingOffset=false): fsync every segment holding data below
  // `up_to_offset_exclusive` that is not yet known durable. A clean shutdown calls flush(LEO).
  void flush(int64_t up_to_offset_exclusive, StorageOps& out);
  // The fsyncs tagged `flush_offset` completed at `now`: the recovery point advances (UnifiedLog.updateRecoveryPoint)
  // and, when it moved, the log counts as flushed at `now` (LocalLog.markFlushed sets lastFlushedTime).
  void on_flush_completed(int64_t flush_offset, sim::SimTime now);
  // LogManager.flushDirtyLogs for this log: when at least flush.ms has passed since the last flush (or since the
  // log was created or recovered), on Kafka's millisecond clock, UnifiedLog.flush(false) fsyncs everything up to
  // the LEO that is not yet known durable. Returns whether it issued any fsync (none when the recovery point is at
  // the LEO).
  bool flush_if_due(sim::SimTime now, StorageOps& out);
  // LocalLog.lastFlushTime: when the recovery point last advanced, or when the log was created or recovered.
  sim::SimTime last_flush_time() const { return last_flush_time_; }

  // LogLoader.recoverLog after an unclean shutdown. `durable` gives, per `.log` file, how many bytes survived;
  // a file not listed survived whole. Segments below the recovery point are trusted (they were fsynced).
  RecoveryResult recover_after_crash(std::span<const DurableSize> durable, sim::SimTime now, StorageOps& out);

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return log_end_offset_; }
  int64_t recovery_point() const { return recovery_point_; }
  int64_t size_bytes() const { return size_bytes_; }
  const std::deque<LogSegment>& segments() const { return segments_; }
  const LogSegment& active_segment() const { return segments_.back(); }
  const LogConfig& config() const { return config_; }
  // UnifiedLog.updateConfig (a topic config altered while the broker runs): the new config applies from its next
  // use on (the next append's size checks and flush triggers, the next roll, the next retention pass); segments
  // already rolled keep what they were created with.
  void update_config(const LogConfig& config);
  // LogOffsetMetadata of `offset` (log start offset <= offset <= LEO).
  LogOffsetPosition offset_position(int64_t offset) const;
  // UnifiedLog.fetchOffsetByTimestamp for a target timestamp (ListOffsets with a timestamp >= 0, in ms on the
  // simulated clock: the wire's epoch ms less simulated_epoch_ms, negative before the run's start): the first segment whose largest timestamp reaches the target, then in it the first batch whose max
  // timestamp does (LogSegment.findOffsetByTimestamp), not below the log start offset; nullopt when no record is
  // that recent. Timestamps compare in whole milliseconds, as Kafka's do. Records are not materialised, so the
  // answer is that batch's first offset where Kafka returns its first record at or after the target: earlier by
  // at most the batch's records whose CreateTime is older than the target (exact for LogAppendTime topics, whose
  // records of a batch share one timestamp). Returns (offset, the batch's partition leader epoch).
  std::optional<std::pair<int64_t, int32_t>> offset_for_timestamp(int64_t target_ms) const;

  // Checks every structural invariant (O(batches)); tests call it after each step.
  void check_invariants() const;

 private:
  LogAppendResult append(std::span<const RecordBatch> batches, sim::SimTime now, StorageOps& out);
  RollReason maybe_roll(int64_t messages_size_bytes, sim::SimTime max_timestamp, int64_t first_offset,
                        int64_t last_offset, sim::SimTime now, StorageOps& out);
  void roll_at(int64_t expected_next_offset, sim::SimTime now, StorageOps& out);
  void create_segment(int64_t base_offset, sim::SimTime now, StorageOps& out);
  // Index of the segment with the greatest base offset <= offset, or segments_.size() if none.
  std::size_t floor_segment(int64_t offset) const;
  template <typename Predicate>
  int32_t delete_segments_while(int64_t high_watermark, sim::SimTime now, Predicate&& predicate, StorageOps& out,
                                std::vector<RecordBatch>* deleted_batches);
  void remove_front_segments(std::size_t count, StorageOps& out, std::vector<RecordBatch>* deleted_batches);
  void remove_back_segment(StorageOps& out);
  // fsyncs of the segments holding data in [from, up_to_offset_exclusive).
  void flush_range(int64_t from, int64_t up_to_offset_exclusive, StorageOps& out);

  // The offsets every fetch reads come first: a Partition keeps its own hot fields just before its Log, so a fetch
  // of a partition with nothing new touches as few cache lines as the layout allows (docs/performance.md).
  int64_t log_start_offset_;
  int64_t log_end_offset_;
  std::deque<LogSegment> segments_;  // a parked fetch's offset_position reads the active segment, the last
  LogConfig config_;
  uint32_t log_id_;
  sim::Rng rng_;
  uint32_t next_segment_seq_ = 0;
  int64_t recovery_point_;
  sim::SimTime last_flush_time_;
  // Flushes a roll scheduled in the background that have not completed, by flush offset, and whether each has
  // completed out of order (an earlier one still running): the recovery point advances through them in order.
  std::map<int64_t, bool> roll_flushes_;
  int64_t size_bytes_ = 0;
  std::vector<RecordBatch> scratch_;  // leader-path copy of an append's batches with offsets assigned
};

const char* to_string(RollReason reason);

}  // namespace kafkasim::kafka
