// One segment of a partition log: a `.log` file of batches plus its sparse offset and time indexes
// (reference/kafka-behaviour.md §2.4; storage/.../log/LogSegment.java, OffsetIndex.java, TimeIndex.java).
//
// The segment keeps the accounting Kafka's LogSegment keeps in memory — size, the bytes since the last index
// entry, the max timestamp so far, the index entry counts — and the stored batches (offsets, positions, sizes,
// in the compact SegmentBatches) so that reads, truncation and recovery can cut at batch boundaries exactly. It
// emits the file operations of each step into a `StorageOps` outbox and never performs them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/kafka/log/segment_batches.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// The inputs of LogSegment.shouldRoll (RollParams in Kafka).
struct RollParams {
  int64_t max_segment_bytes = 0;       // segment.bytes
  sim::Duration max_segment_time;      // segment.ms
  int64_t messages_size_bytes = 0;     // bytes of the append about to happen
  sim::SimTime max_timestamp_in_messages;
  int64_t max_offset_in_messages = 0;
  sim::SimTime now;
};

// Why a segment must roll before an append; `none` if it need not.
enum class RollReason : uint8_t { none, size, time, offset_index_full, time_index_full, offset_overflow };

class LogSegment {
 public:
  // `roll_jitter` is this segment's draw from segment.jitter.ms; `index_bytes` is segment.index.bytes.
  LogSegment(int64_t base_offset, FileId file_id, sim::SimTime created_time, sim::Duration roll_jitter,
             int64_t index_bytes);

  int64_t base_offset() const { return base_offset_; }
  FileId file_id() const { return file_id_; }
  int64_t size_bytes() const { return batches_.end_position(); }
  sim::SimTime created_time() const { return created_time_; }
  sim::Duration roll_jitter() const { return roll_jitter_; }
  bool empty() const { return batches_.empty(); }
  // Offset after the last stored batch, or the base offset when empty (LogSegment.readNextOffset).
  int64_t next_offset() const { return next_offset_; }
  // LogSegment.largestTimestamp: the max record timestamp, or the file's modification time when the segment
  // holds no batch (approximated by the last time the segment was created or emptied).
  sim::SimTime largest_timestamp() const;
  int64_t offset_index_entries() const { return offset_index_entries_; }
  int64_t time_index_entries() const { return time_index_entries_; }
  int64_t max_offset_index_entries() const { return max_offset_index_entries_; }
  int64_t max_time_index_entries() const { return max_time_index_entries_; }
  int64_t bytes_since_last_index_entry() const { return bytes_since_last_index_entry_; }
  const SegmentBatches& batches() const { return batches_; }

  // LogSegment.shouldRoll, in Kafka's order of checks.
  RollReason should_roll(const RollParams& params) const;

  // LogSegment.append of one append call (one produce request's batches for this partition, or one fetch
  // response's batches on a follower). `batches` carry their final offsets.
  void append(std::span<const RecordBatch> batches, int64_t index_interval_bytes, StorageOps& out);

  // LogSegment.onBecomeInactiveSegment at roll: a last time-index entry for the max timestamp (written even
  // if the index is full), then trim both preallocated indexes to their used length.
  void on_become_inactive(StorageOps& out);

  // Index of the first batch whose last offset is >= `offset` (LogSegment.translateOffset); batches().size()
  // when there is none.
  std::size_t find_batch(int64_t offset) const;
  // File position of `offset`: the start of the batch holding it, or the segment size past the last batch.
  int64_t position_of(int64_t offset) const {
    if (offset >= next_offset_) return size_bytes();  // past the last batch: find_batch's first check, inlined
    const std::size_t i = find_batch(offset);
    return i == batches_.size() ? size_bytes() : batches_.position(i);
  }

  // LogSegment.truncateTo: drop every batch whose last offset is >= `offset` and the index entries that point
  // at them. Returns the bytes removed.
  int64_t truncate_to(int64_t offset, sim::SimTime now, StorageOps& out);

  // LogSegment.recover after an unclean shutdown: keep the batches that lie entirely within the first
  // `durable_bytes` bytes (a torn batch fails its CRC), truncate the file there and rebuild both indexes with
  // the per-batch rule of the recovery scan. Returns the bytes removed.
  int64_t recover(int64_t durable_bytes, int64_t index_interval_bytes, sim::SimTime now, StorageOps& out);

  // Operations that create, fsync and remove the segment's three files.
  void emit_create(StorageOps& out) const;
  void emit_fsync(int64_t flush_offset, StorageOps& out) const;
  void emit_remove(sim::Duration delay, StorageOps& out) const;

 private:
  void maybe_append_time_index_entry(bool skip_full_check, StorageOps& out);
  void recompute_timestamps_after_cut();

  int64_t base_offset_;
  FileId file_id_;
  sim::SimTime created_time_;
  sim::Duration roll_jitter_;
  int64_t index_bytes_;
  int64_t max_offset_index_entries_;
  int64_t max_time_index_entries_;

  // The stored batches; their end position is the segment's size.
  SegmentBatches batches_;
  // batches_.back().batch.next_offset(), or base_offset_ when empty: kept here so that lookups at or past the
  // end (a caught-up fetch, the LEO's position) need not load the last batch.
  int64_t next_offset_;
  int64_t bytes_since_last_index_entry_ = 0;
  int64_t offset_index_entries_ = 0;
  int64_t time_index_entries_ = 0;
  // The timestamp of the last time-index entry (TimeIndex.lastEntry), absent while the index is empty.
  std::optional<sim::SimTime> last_time_index_timestamp_;
  // The max timestamp so far and the batch holding it (LogSegment.maxTimestampAndOffsetSoFar).
  std::optional<sim::SimTime> max_timestamp_so_far_;
  std::size_t max_timestamp_batch_ = 0;
  // The max timestamp of the first append (LogSegment.rollingBasedTimestamp): segment.ms counts from it.
  std::optional<sim::SimTime> rolling_based_timestamp_;
};

}  // namespace kafkasim::kafka
