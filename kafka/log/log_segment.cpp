// LogSegment accounting; see include/kafkasim/kafka/log/log_segment.hpp.
#include "kafkasim/kafka/log/log_segment.hpp"

#include <algorithm>
#include <limits>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {
constexpr int64_t int32_max = std::numeric_limits<int32_t>::max();
}  // namespace

LogSegment::LogSegment(int64_t base_offset, FileId file_id, sim::SimTime created_time, sim::Duration roll_jitter,
                       int64_t index_bytes)
    : base_offset_(base_offset),
      file_id_(file_id),
      created_time_(created_time),
      roll_jitter_(roll_jitter),
      index_bytes_(index_bytes),
      // AbstractIndex rounds the preallocated size down to a whole number of entries.
      max_offset_index_entries_(index_bytes / offset_index_entry_bytes),
      max_time_index_entries_(index_bytes / time_index_entry_bytes),
      batches_(base_offset),
      next_offset_(base_offset) {
  KS_ASSERT_GE(base_offset, 0);
  KS_ASSERT_GE(roll_jitter, sim::Duration::zero());
  // The time index reserves its last slot for the entry written at roll, so it needs at least two.
  KS_ASSERT_GE(max_time_index_entries_, 2);
}

sim::SimTime LogSegment::largest_timestamp() const {
  return max_timestamp_so_far_.has_value() ? *max_timestamp_so_far_ : created_time_;
}

RollReason LogSegment::should_roll(const RollParams& params) const {
  KS_ASSERT_GT(params.messages_size_bytes, 0);
  KS_ASSERT_GT(params.max_segment_bytes, 0);
  // `size > segment.bytes - messagesSize`: the append would make the segment larger than segment.bytes.
  const int64_t size = size_bytes();
  if (size > params.max_segment_bytes - params.messages_size_bytes) return RollReason::size;
  if (size > 0) {
    // LogSegment.timeWaitedForRoll: measured from the first batch's max timestamp when known, so that a
    // follower rolls where the leader did; from the segment's creation otherwise.
    const sim::Duration waited = rolling_based_timestamp_.has_value()
                                     ? params.max_timestamp_in_messages - *rolling_based_timestamp_
                                     : params.now - created_time_;
    if (waited > params.max_segment_time - roll_jitter_) return RollReason::time;
  }
  if (offset_index_entries_ >= max_offset_index_entries_) return RollReason::offset_index_full;
  // TimeIndex.isFull keeps the last slot for the entry onBecomeInactiveSegment writes.
  if (time_index_entries_ >= max_time_index_entries_ - 1) return RollReason::time_index_full;
  // LogSegment.canConvertToRelativeOffset: index entries store offsets as int32 relative to the base.
  const int64_t relative = params.max_offset_in_messages - base_offset_;
  if (relative < 0 || relative > int32_max) return RollReason::offset_overflow;
  return RollReason::none;
}

void LogSegment::append(std::span<const RecordBatch> batches, int64_t index_interval_bytes, StorageOps& out) {
  KS_ASSERT(!batches.empty());
  KS_ASSERT_GE(batches.front().base_offset, next_offset());
  KS_ASSERT_GE(index_interval_bytes, 0);
  const int64_t physical_position = size_bytes();
  int64_t append_bytes = 0;
  const std::size_t first_new = batches_.size();
  std::size_t max_ts_index = first_new;
  std::optional<sim::SimTime> append_max_ts;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const RecordBatch& b = batches[i];
    KS_ASSERT_GT(b.record_count, 0);
    KS_ASSERT_GT(b.size_bytes, 0);
    KS_ASSERT_LE(b.last_offset() - base_offset_, int32_max);
    if (i > 0) KS_ASSERT_GE(b.base_offset, batches[i - 1].next_offset());
    // LogAppendInfo.maxTimestamp / shallowOffsetOfMaxTimestamp: the first batch holding the maximum.
    if (!append_max_ts.has_value() || b.max_timestamp > *append_max_ts) {
      append_max_ts = b.max_timestamp;
      max_ts_index = first_new + i;
    }
    KS_ASSERT_LE(physical_position + append_bytes + b.size_bytes, int32_max);
    batches_.push_back(b);  // at position physical_position + append_bytes
    append_bytes += b.size_bytes;
  }
  next_offset_ = batches.back().next_offset();
  // The log write, and maybe an offset-index and a time-index entry: one allocation for a fresh outbox rather
  // than the vector growing one op at a time.
  // (Reserving exactly size + 3 would defeat the doubling when one outbox takes the appends of many partitions.)
  if (out.capacity() - out.size() < 3) out.reserve(std::max(out.size() + 3, 2 * out.capacity()));
  out.push_back(StorageOp{StorageOpKind::write, FileKind::log, file_id_, physical_position, append_bytes, -1, {}});
  if (physical_position == 0) rolling_based_timestamp_ = append_max_ts;
  if (!max_timestamp_so_far_.has_value() || *append_max_ts > *max_timestamp_so_far_) {
    max_timestamp_so_far_ = append_max_ts;
    max_timestamp_batch_ = max_ts_index;
  }
  // LogSegment.append: the index check runs before this append's bytes are counted, with a strict `>`, and the
  // entry maps the append's largest offset to the position where the append starts.
  if (bytes_since_last_index_entry_ > index_interval_bytes) {
    KS_ASSERT_LT(offset_index_entries_, max_offset_index_entries_);
    out.push_back(StorageOp{StorageOpKind::write, FileKind::offset_index, file_id_,
                            offset_index_entries_ * offset_index_entry_bytes, offset_index_entry_bytes, -1, {}});
    ++offset_index_entries_;
    batches_.set_offset_index_entry(batches_.size() - 1, true);
    maybe_append_time_index_entry(false, out);
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += append_bytes;
  KS_ASSERT_EQ(batches_.end_position(), physical_position + append_bytes);
}

void LogSegment::maybe_append_time_index_entry(bool skip_full_check, StorageOps& out) {
  if (!max_timestamp_so_far_.has_value()) return;
  // TimeIndex.maybeAppend: only a timestamp larger than the last entry's makes a new entry.
  if (last_time_index_timestamp_.has_value() && *max_timestamp_so_far_ <= *last_time_index_timestamp_) return;
  if (!skip_full_check) KS_ASSERT_LT(time_index_entries_, max_time_index_entries_ - 1);
  KS_ASSERT_LT(time_index_entries_, max_time_index_entries_);
  out.push_back(StorageOp{StorageOpKind::write, FileKind::time_index, file_id_,
                          time_index_entries_ * time_index_entry_bytes, time_index_entry_bytes, -1, {}});
  ++time_index_entries_;
  last_time_index_timestamp_ = max_timestamp_so_far_;
  KS_ASSERT_LT(max_timestamp_batch_, batches_.size());
  batches_.set_time_index_entry(max_timestamp_batch_, true);
}

void LogSegment::on_become_inactive(StorageOps& out) {
  maybe_append_time_index_entry(true, out);
  // AbstractIndex.trimToValidSize: the preallocated index files shrink to the entries written.
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::offset_index, file_id_,
                          offset_index_entries_ * offset_index_entry_bytes, 0, -1, {}});
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::time_index, file_id_,
                          time_index_entries_ * time_index_entry_bytes, 0, -1, {}});
}

std::size_t LogSegment::find_batch(int64_t offset) const {
  // Fetches and the HW and LEO positions look near the end of the active segment: gallop back from the last
  // batch in steps of 1, 2, 4, ... and binary-search only the last step, so the cost grows with the distance
  // from the end rather than with the segment.
  const std::size_t n = batches_.size();
  if (n == 0 || offset >= next_offset_) return n;  // i.e. batches_[n - 1].batch.last_offset() < offset
  std::size_t hi = n - 1;  // batches_[hi] holds `offset` or lies after it
  std::size_t step = 1;
  while (hi >= step && batches_.last_offset(hi - step) >= offset) {
    hi -= step;
    step *= 2;
  }
  // Everything before `lo` lies before `offset` (batches_[hi - step] does when hi >= step).
  std::size_t lo = hi >= step ? hi - step + 1 : 0;
  // Binary search of [lo, hi] for the first batch whose last offset is >= `offset` (batches_[hi]'s is).
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (batches_.last_offset(mid) < offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void LogSegment::recompute_timestamps_after_cut() {
  max_timestamp_so_far_.reset();
  last_time_index_timestamp_.reset();
  max_timestamp_batch_ = 0;
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    const sim::SimTime max_timestamp = batches_.max_timestamp(i);
    if (!max_timestamp_so_far_.has_value() || max_timestamp > *max_timestamp_so_far_) {
      max_timestamp_so_far_ = max_timestamp;
      max_timestamp_batch_ = i;
    }
    // A time-index entry's timestamp is the max timestamp of the batch it points at.
    if (batches_.has_time_index_entry(i)) last_time_index_timestamp_ = max_timestamp;
  }
}

int64_t LogSegment::truncate_to(int64_t offset, sim::SimTime now, StorageOps& out) {
  KS_ASSERT_GE(offset, base_offset_);
  const std::size_t keep = find_batch(offset);
  // LogSegment.truncateTo resets the index byte counter whether or not anything is removed.
  bytes_since_last_index_entry_ = 0;
  if (keep == batches_.size()) return 0;
  const int64_t old_size = size_bytes();
  for (std::size_t i = keep; i < batches_.size(); ++i) {
    if (batches_.has_offset_index_entry(i)) --offset_index_entries_;
    if (batches_.has_time_index_entry(i)) --time_index_entries_;
  }
  batches_.truncate(keep);
  next_offset_ = batches_.empty() ? base_offset_ : batches_.last_offset(keep - 1) + 1;
  const int64_t new_size = size_bytes();
  const int64_t removed = old_size - new_size;
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::log, file_id_, new_size, 0, -1, {}});
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::offset_index, file_id_,
                          offset_index_entries_ * offset_index_entry_bytes, 0, -1, {}});
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::time_index, file_id_,
                          time_index_entries_ * time_index_entry_bytes, 0, -1, {}});
  if (new_size == 0) {
    created_time_ = now;
    rolling_based_timestamp_.reset();
  }
  recompute_timestamps_after_cut();
  KS_ASSERT_GE(offset_index_entries_, 0);
  KS_ASSERT_GE(time_index_entries_, 0);
  KS_ASSERT_GT(removed, 0);
  return removed;
}

int64_t LogSegment::recover(int64_t durable_bytes, int64_t index_interval_bytes, sim::SimTime now,
                            StorageOps& out) {
  KS_ASSERT_GE(durable_bytes, 0);
  KS_ASSERT_LE(durable_bytes, size_bytes());
  // The recovery scan reads every byte that survived.
  if (durable_bytes > 0)
    out.push_back(StorageOp{StorageOpKind::read, FileKind::log, file_id_, 0, durable_bytes, -1, {}});
  std::size_t keep = 0;
  while (keep < batches_.size() && batches_.end_position(keep) <= durable_bytes) ++keep;
  const int64_t size_before = size_bytes();
  batches_.truncate(keep);
  next_offset_ = batches_.empty() ? base_offset_ : batches_.last_offset(keep - 1) + 1;
  const int64_t valid_bytes = size_bytes();
  const int64_t truncated = size_before - valid_bytes;
  if (truncated > 0)
    out.push_back(StorageOp{StorageOpKind::truncate, FileKind::log, file_id_, valid_bytes, 0, -1, {}});

  // LogSegment.recover rebuilds both indexes from scratch with a per-batch rule: an entry
  // (batch.lastOffset, position of the batch) whenever more than index.interval.bytes lie between the last
  // entry's position and this batch's position.
  offset_index_entries_ = 0;
  time_index_entries_ = 0;
  max_timestamp_so_far_.reset();
  last_time_index_timestamp_.reset();
  int64_t last_index_entry_position = 0;
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    batches_.set_offset_index_entry(i, false);
    batches_.set_time_index_entry(i, false);
    const sim::SimTime max_timestamp = batches_.max_timestamp(i);
    if (!max_timestamp_so_far_.has_value() || max_timestamp > *max_timestamp_so_far_) {
      max_timestamp_so_far_ = max_timestamp;
      max_timestamp_batch_ = i;
    }
    const int64_t position = batches_.position(i);
    if (position - last_index_entry_position > index_interval_bytes &&
        offset_index_entries_ < max_offset_index_entries_) {
      ++offset_index_entries_;
      batches_.set_offset_index_entry(i, true);
      if (time_index_entries_ < max_time_index_entries_ - 1 &&
          (!last_time_index_timestamp_.has_value() || *max_timestamp_so_far_ > *last_time_index_timestamp_)) {
        ++time_index_entries_;
        last_time_index_timestamp_ = max_timestamp_so_far_;
        batches_.set_time_index_entry(max_timestamp_batch_, true);
      }
      last_index_entry_position = position;
    }
  }
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::offset_index, file_id_, 0, 0, -1, {}});
  if (offset_index_entries_ > 0)
    out.push_back(StorageOp{StorageOpKind::write, FileKind::offset_index, file_id_, 0,
                            offset_index_entries_ * offset_index_entry_bytes, -1, {}});
  out.push_back(StorageOp{StorageOpKind::truncate, FileKind::time_index, file_id_, 0, 0, -1, {}});
  if (time_index_entries_ > 0)
    out.push_back(StorageOp{StorageOpKind::write, FileKind::time_index, file_id_, 0,
                            time_index_entries_ * time_index_entry_bytes, -1, {}});
  // "A normally closed segment always appends the biggest timestamp ever seen": recovery does the same.
  maybe_append_time_index_entry(true, out);
  bytes_since_last_index_entry_ = 0;
  // A reloaded segment measures segment.ms from its first batch (LogSegment.loadFirstBatchTimestamp).
  if (batches_.empty()) {
    rolling_based_timestamp_.reset();
    created_time_ = now;
  } else {
    rolling_based_timestamp_ = batches_.max_timestamp(0);
  }
  KS_ASSERT_GE(truncated, 0);
  return truncated;
}

void LogSegment::emit_create(StorageOps& out) const {
  // log.preallocate=false: the .log starts empty; the indexes are preallocated sparse files of
  // segment.index.bytes (AbstractIndex), which costs no I/O.
  out.push_back(StorageOp{StorageOpKind::create, FileKind::log, file_id_, 0, 0, -1, {}});
  out.push_back(StorageOp{StorageOpKind::create, FileKind::offset_index, file_id_, index_bytes_, 0, -1, {}});
  out.push_back(StorageOp{StorageOpKind::create, FileKind::time_index, file_id_, index_bytes_, 0, -1, {}});
}

void LogSegment::emit_fsync(int64_t flush_offset, StorageOps& out) const {
  // LogSegment.flush: the log, the offset index and the time index (the txn index is not modelled).
  for (FileKind kind : {FileKind::log, FileKind::offset_index, FileKind::time_index})
    out.push_back(StorageOp{StorageOpKind::fsync, kind, file_id_, 0, 0, flush_offset, {}});
}

void LogSegment::emit_remove(sim::Duration delay, StorageOps& out) const {
  for (FileKind kind : {FileKind::log, FileKind::offset_index, FileKind::time_index})
    out.push_back(StorageOp{StorageOpKind::remove, kind, file_id_, 0, 0, -1, delay});
}

}  // namespace kafkasim::kafka
