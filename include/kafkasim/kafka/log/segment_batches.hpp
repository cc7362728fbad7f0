// The batches of one log segment, stored compactly: 32 bytes a batch rather than a 64-byte StoredBatch, in
// fixed-size blocks rather than a doubling vector.
//
// A log keeps an entry for every batch it holds, for the log's life (a consumer or follower may fetch from any
// offset, truncation and recovery cut at batch boundaries), so this store is what grows with simulated time.
// Its layout follows Kafka's own offset index (OffsetIndex.java: an int32 offset relative to the segment's base
// and an int32 file position per entry):
//  - offsets are stored relative to the segment's base offset: LogSegment rolls before a relative offset would
//    pass int32 (RollReason::offset_overflow), as LogSegment.canConvertToRelativeOffset does;
//  - a batch's size is not stored: batches lie back to back in the `.log` file, so it is the distance to the
//    next batch's position (or to the end of the last batch);
//  - the fields that change rarely within a partition — producer id and epoch, partition leader epoch and the
//    high half of the cluster layer's tag — are interned in a small per-segment table, and the two index flags
//    share the table index's word.
// Reading rebuilds the exact StoredBatch (RecordBatch, position, flags), so nothing that reads the log changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/chunked_vector.hpp"
#include "kafkasim/sim/index_iterator.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

class SegmentBatches {
  // One stored batch. The int64 field comes first so that the record packs into 32 bytes without padding.
  struct Packed {
    int64_t max_timestamp_ns;
    uint32_t tag_low;              // RecordBatch::tag & 0xffff'ffff; the high half is in the producer table
    uint32_t relative_offset;      // base_offset - the segment's base offset
    int32_t record_count;
    int32_t position;              // byte position in the `.log` file
    int32_t base_sequence;
    uint32_t producer_and_flags;   // index into producers_ (bits 0-29), the two index flags (bits 30, 31)
  };
  static_assert(sizeof(Packed) == 32);

  // The fields interned per segment: a partition's batches come from a few producers under a few leader epochs.
  struct Producer {
    int64_t producer_id;
    uint32_t tag_high;
    int32_t partition_leader_epoch;
    int16_t producer_epoch;
    bool operator==(const Producer&) const = default;
  };

  static constexpr uint32_t offset_index_flag = uint32_t{1} << 30;
  static constexpr uint32_t time_index_flag = uint32_t{1} << 31;
  static constexpr uint32_t producer_index_mask = offset_index_flag - 1;

 public:
  // 128 batches (4 KiB) a block, so a segment leaves at most 4 KiB unused; the first block starts at 8 batches
  // (256 B) and doubles up to that, so the many short segments of a scenario with thousands of partitions or a
  // small segment.bytes stay small.
  using Store = sim::ChunkedVector<Packed, 128, 8>;
  static constexpr std::size_t bytes_per_batch = sizeof(Packed);

  explicit SegmentBatches(int64_t base_offset) : base_offset_(base_offset) {}

  std::size_t size() const { return batches_.size(); }
  bool empty() const { return batches_.empty(); }
  // One past the last batch's last byte: the segment's size, 0 when empty.
  int64_t end_position() const { return end_position_; }

  // The stored batch `i`, rebuilt.
  StoredBatch operator[](std::size_t i) const {
    const Packed& p = batches_[i];
    const Producer& producer = producers_[p.producer_and_flags & producer_index_mask];
    StoredBatch s;
    s.batch.base_offset = base_offset_ + p.relative_offset;
    s.batch.record_count = p.record_count;
    s.batch.size_bytes = static_cast<int32_t>(end_position(i) - p.position);
    s.batch.max_timestamp = sim::SimTime::from_ns(p.max_timestamp_ns);
    s.batch.producer_id = producer.producer_id;
    s.batch.producer_epoch = producer.producer_epoch;
    s.batch.base_sequence = p.base_sequence;
    s.batch.partition_leader_epoch = producer.partition_leader_epoch;
    s.batch.tag = (uint64_t{producer.tag_high} << 32) | p.tag_low;
    s.position = p.position;
    s.has_offset_index_entry = (p.producer_and_flags & offset_index_flag) != 0;
    s.has_time_index_entry = (p.producer_and_flags & time_index_flag) != 0;
    return s;
  }
  StoredBatch front() const { return (*this)[0]; }
  StoredBatch back() const { return (*this)[size() - 1]; }

  // Single fields of batch `i`, without rebuilding it (lookups and scans read only these).
  int64_t last_offset(std::size_t i) const {
    const Packed& p = batches_[i];
    return base_offset_ + p.relative_offset + p.record_count - 1;
  }
  int32_t record_count(std::size_t i) const { return batches_[i].record_count; }
  int64_t position(std::size_t i) const { return batches_[i].position; }
  int64_t end_position(std::size_t i) const {
    return i + 1 < batches_.size() ? int64_t{batches_[i + 1].position} : end_position_;
  }
  sim::SimTime max_timestamp(std::size_t i) const { return sim::SimTime::from_ns(batches_[i].max_timestamp_ns); }
  bool has_time_index_entry(std::size_t i) const { return (batches_[i].producer_and_flags & time_index_flag) != 0; }
  bool has_offset_index_entry(std::size_t i) const {
    return (batches_[i].producer_and_flags & offset_index_flag) != 0;
  }

  // Stores `batch` at the end of the file (its position is end_position()), with both index flags clear.
  void push_back(const RecordBatch& batch) {
    KS_ASSERT_GE(batch.base_offset, base_offset_);
    KS_ASSERT_LE(batch.last_offset() - base_offset_, int64_t{std::numeric_limits<int32_t>::max()});
    KS_ASSERT_GT(batch.size_bytes, 0);
    KS_ASSERT_LE(end_position_ + batch.size_bytes, int64_t{std::numeric_limits<int32_t>::max()});
    const uint32_t producer = intern(Producer{batch.producer_id, static_cast<uint32_t>(batch.tag >> 32),
                                              batch.partition_leader_epoch, batch.producer_epoch});
    batches_.push_back(Packed{batch.max_timestamp.ns(), static_cast<uint32_t>(batch.tag),
                              static_cast<uint32_t>(batch.base_offset - base_offset_), batch.record_count,
                              static_cast<int32_t>(end_position_), batch.base_sequence, producer});
    end_position_ += batch.size_bytes;
  }
  void set_offset_index_entry(std::size_t i, bool value) { set_flag(i, offset_index_flag, value); }
  void set_time_index_entry(std::size_t i, bool value) { set_flag(i, time_index_flag, value); }
  // Keeps the first `count` batches.
  void truncate(std::size_t count);

  // Heap bytes held: the blocks (used or not) and the producer table.
  std::size_t allocated_bytes() const {
    return batches_.capacity() * sizeof(Packed) + producers_.capacity() * sizeof(Producer);
  }

  // Iterates rebuilt StoredBatches (by value).
  using const_iterator = sim::IndexIterator<SegmentBatches>;
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

 private:
  void set_flag(std::size_t i, uint32_t flag, bool value) {
    uint32_t& word = batches_[i].producer_and_flags;
    word = value ? (word | flag) : (word & ~flag);
  }
  uint32_t intern(const Producer& producer);

  int64_t base_offset_;
  int64_t end_position_ = 0;
  Store batches_;
  std::vector<Producer> producers_;
};

// Batches [first, last) of one segment: what a read returns. Valid until the next call that changes the log.
class StoredBatchRange {
 public:
  StoredBatchRange() = default;
  StoredBatchRange(const SegmentBatches& batches, std::size_t first, std::size_t last)
      : batches_(&batches), first_(first), last_(last) {
    KS_ASSERT_LE(first, last);
    KS_ASSERT_LE(last, batches.size());
  }

  std::size_t size() const { return last_ - first_; }
  bool empty() const { return first_ == last_; }
  StoredBatch operator[](std::size_t k) const {
    KS_ASSERT_LT(k, size());
    return (*batches_)[first_ + k];
  }
  StoredBatch front() const { return (*this)[0]; }
  StoredBatch back() const { return (*this)[size() - 1]; }
  SegmentBatches::const_iterator begin() const { return SegmentBatches::const_iterator(batches_, first_); }
  SegmentBatches::const_iterator end() const { return SegmentBatches::const_iterator(batches_, last_); }

 private:
  const SegmentBatches* batches_ = nullptr;
  std::size_t first_ = 0;
  std::size_t last_ = 0;
};

}  // namespace kafkasim::kafka
