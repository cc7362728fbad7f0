// The partition log; see include/kafkasim/kafka/log/log.hpp.
#include "kafkasim/kafka/log/log.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

const char* to_string(RollReason reason) {
  switch (reason) {
    case RollReason::none: return "none";
    case RollReason::size: return "size";
    case RollReason::time: return "time";
    case RollReason::offset_index_full: return "offset_index_full";
    case RollReason::time_index_full: return "time_index_full";
    case RollReason::offset_overflow: return "offset_overflow";
  }
  return "?";
}

Log::Log(const LogConfig& config, uint32_t log_id, int64_t log_start_offset, sim::SimTime now, sim::Rng rng,
         StorageOps& out)
    : log_start_offset_(log_start_offset),
      log_end_offset_(log_start_offset),
      config_(config),
      log_id_(log_id),
      rng_(rng),
      recovery_point_(log_start_offset),
      last_flush_time_(now) {
  KS_ASSERT_GE(log_start_offset, 0);
  KS_ASSERT_GT(config.segment_bytes, 0);
  KS_ASSERT_LE(config.segment_bytes, std::numeric_limits<int32_t>::max());
  KS_ASSERT_GT(config.segment_ms, 0);
  KS_ASSERT_GE(config.segment_jitter_ms, 0);
  KS_ASSERT_GE(config.index_interval_bytes, 0);
  KS_ASSERT_GE(config.max_message_bytes, 0);  // 0: every batch is MESSAGE_TOO_LARGE
  KS_ASSERT_GT(config.flush_messages, 0);
  KS_ASSERT_GE(config.flush_ms, 0);
  KS_ASSERT_GE(config.file_delete_delay_ms, 0);
  create_segment(log_start_offset, now, out);
}

void Log::update_config(const LogConfig& config) {
  KS_ASSERT_GT(config.segment_bytes, 0);
  KS_ASSERT_LE(config.segment_bytes, std::numeric_limits<int32_t>::max());
  KS_ASSERT_GT(config.segment_ms, 0);
  KS_ASSERT_GE(config.max_message_bytes, 0);
  KS_ASSERT_GT(config.flush_messages, 0);
  KS_ASSERT_GE(config.flush_ms, 0);
  config_ = config;
}

void Log::create_segment(int64_t base_offset, sim::SimTime now, StorageOps& out) {
  KS_ASSERT_LT(next_segment_seq_, std::numeric_limits<uint32_t>::max());
  // LogConfig.randomSegmentJitter: abs(random int) % min(segment.jitter.ms, segment.ms), drawn per segment.
  // The draw is skipped at the default jitter of 0 so that default runs consume no randomness here.
  sim::Duration jitter = sim::Duration::zero();
  if (config_.segment_jitter_ms > 0) {
    const auto bound = static_cast<uint64_t>(std::min(config_.segment_jitter_ms, config_.segment_ms));
    jitter = sim::Duration::from_ms(static_cast<int64_t>(rng_.uniform_u64(bound)));
  }
  const FileId id{(static_cast<uint64_t>(log_id_) << 32) | next_segment_seq_++};
  segments_.emplace_back(base_offset, id, now, jitter, config_.segment_index_bytes);
  segments_.back().emit_create(out);
}

std::size_t Log::floor_segment(int64_t offset) const {
  // Most lookups (fetches near the head, the HW and LEO positions) land in the active segment.
  if (!segments_.empty() && offset >= segments_.back().base_offset()) return segments_.size() - 1;
  const auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                                   [](int64_t o, const LogSegment& s) { return o < s.base_offset(); });
  if (it == segments_.begin()) return segments_.size();
  return static_cast<std::size_t>(it - segments_.begin()) - 1;
}

Errc Log::validate_leader_batches(std::span<const RecordBatch> batches, sim::SimTime now) const {
  // UnifiedLog.analyzeAndValidateRecords: a batch larger than max.message.bytes fails the whole append.
  for (const RecordBatch& b : batches) {
    if (b.size_bytes > config_.max_message_bytes) return Errc::message_too_large;
  }
  // LogValidator.validateRecord checks each record's key, then (unless the key failed) its timestamp; the batch
  // fails whole with INVALID_TIMESTAMP if any record's timestamp failed, else with INVALID_RECORD if any key did.
  // With CreateTime a record fails when now - timestamp > message.timestamp.before.max.ms or timestamp - now >
  // message.timestamp.after.max.ms, both in the broker's whole milliseconds. A batch's oldest record is its first
  // (base_timestamp) and its newest is max_timestamp. On a compacted topic a batch of keyless records only has key
  // errors; a batch mixing keyed and keyless records (no workload makes one: a producer's records all have keys or
  // none do) is judged by its first and newest records as if they had keys.
  if (!config_.log_append_time) {
    const int64_t now_ms = now.ns() / 1'000'000;
    for (const RecordBatch& b : batches) {
      if (config_.cleanup_policy_compact && b.null_key_records >= b.record_count) continue;
      const int64_t oldest_ms = b.base_timestamp.ns() / 1'000'000;
      const int64_t newest_ms = b.max_timestamp.ns() / 1'000'000;
      if (now_ms - oldest_ms > config_.timestamp_before_max_ms || newest_ms - now_ms > config_.timestamp_after_max_ms)
        return Errc::invalid_timestamp;
    }
  }
  // A compacted topic takes no record without a key ("Compacted topic cannot accept message without key"); the
  // batch fails whole with INVALID_RECORD and nothing is appended.
  if (config_.cleanup_policy_compact) {
    for (const RecordBatch& b : batches) {
      if (b.null_key_records > 0) return Errc::invalid_record;
    }
  }
  return Errc::none;
}

LogAppendResult Log::append_as_leader(std::span<const RecordBatch> batches, int32_t leader_epoch, sim::SimTime now,
                                      StorageOps& out) {
  KS_ASSERT(!batches.empty());
  KS_ASSERT_LE(batches.size(), static_cast<std::size_t>(std::numeric_limits<int32_t>::max()));
  if (const Errc error = validate_leader_batches(batches, now); error != Errc::none) return LogAppendResult{error};
  // LogValidator assigns offsets from the LEO and stamps the leader epoch on every batch (§2.3 step 2).
  // The scratch buffer keeps its capacity between appends, so the hot path does not allocate.
  scratch_.assign(batches.begin(), batches.end());
  int64_t next = log_end_offset_;
  for (RecordBatch& b : scratch_) {
    b.base_offset = next;
    b.partition_leader_epoch = leader_epoch;
    // message.timestamp.type=LogAppendTime: the batch's max timestamp becomes the append time (followers copy it).
    if (config_.log_append_time) b.max_timestamp = now;
    next += b.record_count;
  }
  return append(scratch_, now, out);
}

LogAppendResult Log::append_as_follower(std::span<const RecordBatch> batches, sim::SimTime now, StorageOps& out) {
  KS_ASSERT(!batches.empty());
  // UnifiedLog.append with validateAndAssignOffsets=false: UnexpectedAppendOffsetException if the first
  // offset is below the LEO. The fetcher only sends fetch offset = LEO (§8.5), so this is a caller bug.
  KS_ASSERT_GE(batches.front().base_offset, log_end_offset_);
  return append(batches, now, out);
}

LogAppendResult Log::append(std::span<const RecordBatch> batches, sim::SimTime now, StorageOps& out) {
  KS_ASSERT(!batches.empty());
  int64_t messages_size = 0;
  sim::SimTime max_timestamp = batches.front().max_timestamp;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    KS_ASSERT_GT(batches[i].record_count, 0);
    KS_ASSERT_GT(batches[i].size_bytes, 0);
    if (i > 0) KS_ASSERT_GE(batches[i].base_offset, batches[i - 1].next_offset());
    messages_size += batches[i].size_bytes;
    max_timestamp = std::max(max_timestamp, batches[i].max_timestamp);
  }
  // UnifiedLog.append: RecordBatchTooLargeException when the append cannot fit in an empty segment.
  if (messages_size > config_.segment_bytes) return LogAppendResult{Errc::record_list_too_large};

  LogAppendResult result;
  result.first_offset = batches.front().base_offset;
  result.last_offset = batches.back().last_offset();
  result.roll_reason = maybe_roll(messages_size, max_timestamp, result.first_offset, result.last_offset, now, out);
  result.rolled = result.roll_reason != RollReason::none;
  segments_.back().append(batches, config_.index_interval_bytes, out);
  size_bytes_ += messages_size;
  log_end_offset_ = result.last_offset + 1;
  // flush.messages: fsync once this many messages are unflushed (never, by default).
  if (log_end_offset_ - recovery_point_ >= config_.flush_messages) flush(log_end_offset_, out);
  KS_ASSERT_EQ(segments_.back().next_offset(), log_end_offset_);
  KS_ASSERT_GE(segments_.back().size_bytes(), messages_size);
  return result;
}

RollReason Log::maybe_roll(int64_t messages_size_bytes, sim::SimTime max_timestamp, int64_t first_offset,
                           int64_t last_offset, sim::SimTime now, StorageOps& out) {
  RollParams params;
  params.max_segment_bytes = config_.segment_bytes;
  params.max_segment_time = sim::Duration::from_ms(config_.segment_ms);
  params.messages_size_bytes = messages_size_bytes;
  params.max_timestamp_in_messages = max_timestamp;
  params.max_offset_in_messages = last_offset;
  params.now = now;
  const RollReason reason = segments_.back().should_roll(params);
  // UnifiedLog.maybeRoll rolls to the append's first offset (LocalLog.roll takes max(that, LEO)).
  if (reason != RollReason::none) roll_at(first_offset, now, out);
  return reason;
}

void Log::roll(sim::SimTime now, StorageOps& out) { roll_at(log_end_offset_, now, out); }

void Log::roll_at(int64_t expected_next_offset, sim::SimTime now, StorageOps& out) {
  const int64_t new_offset = std::max(expected_next_offset, log_end_offset_);
  LogSegment& active = segments_.back();
  if (active.base_offset() == new_offset) {
    // LocalLog.roll: an empty active segment at the same base is replaced; a non-empty one cannot be.
    KS_ASSERT(active.empty());
    remove_back_segment(out);
  } else {
    KS_ASSERT_GT(new_offset, active.base_offset());
    KS_ASSERT_GE(new_offset, active.next_offset());
    active.on_become_inactive(out);
  }
  create_segment(new_offset, now, out);
  // UnifiedLog.roll schedules flushUptoOffsetExclusive(newSegment.baseOffset): the rolled segments are fsynced
  // in the background, which is what advances the recovery point (§2.3 step 8, §2.4). The task flushes from the
  // recovery point as it is when the task *runs*; when earlier roll flushes are still pending, they will have
  // moved it to their offset by then, so this one starts there (otherwise a lagging disk would make every roll
  // fsync the whole backlog again).
  const int64_t from = roll_flushes_.empty() ? recovery_point_ : std::max(recovery_point_, roll_flushes_.rbegin()->first);
  const std::size_t first_flush_op = out.size();
  flush_range(from, new_offset, out);
  for (std::size_t i = first_flush_op; i < out.size(); ++i) {
    KS_ASSERT(out[i].kind == StorageOpKind::fsync);
    out[i].kind = StorageOpKind::fsync_background;
  }
  if (out.size() > first_flush_op) roll_flushes_.emplace(new_offset, false);
}

void Log::flush(int64_t up_to_offset_exclusive, StorageOps& out) {
  // UnifiedLog.flush: nothing to do below the recovery point.
  flush_range(recovery_point_, up_to_offset_exclusive, out);
}

void Log::flush_range(int64_t from, int64_t up_to_offset_exclusive, StorageOps& out) {
  if (up_to_offset_exclusive <= from) return;
  std::size_t i = floor_segment(from);
  if (i == segments_.size()) i = 0;
  const std::size_t bound = segments_.size();
  for (; i < bound && segments_[i].base_offset() < up_to_offset_exclusive; ++i)
    segments_[i].emit_fsync(up_to_offset_exclusive, out);
}

bool Log::flush_if_due(sim::SimTime now, StorageOps& out) {
  KS_ASSERT_GE(now, last_flush_time_);
  // `time.milliseconds - log.lastFlushTime >= log.config.flushMs` on Kafka's millisecond clock, both instants
  // truncated to whole milliseconds as time.milliseconds() reads them (it decides whether a flush that completed
  // within a millisecond of a scheduler tick counts from that tick). flush.ms = Long.MAX cannot overflow.
  if (now.ns() / 1'000'000 - last_flush_time_.ns() / 1'000'000 < config_.flush_ms) return false;
  const std::size_t before = out.size();
  flush(log_end_offset_, out);
  return out.size() > before;
}

void Log::on_flush_completed(int64_t flush_offset, sim::SimTime now) {
  KS_ASSERT_GE(flush_offset, 0);
  // A truncation may have happened while the fsync ran; the recovery point never passes the LEO.
  const auto advance = [this, now](int64_t offset) {
    const int64_t next = std::max(recovery_point_, std::min(offset, log_end_offset_));
    if (next > recovery_point_) last_flush_time_ = std::max(last_flush_time_, now);
    recovery_point_ = next;
  };
  const auto pending = roll_flushes_.find(flush_offset);
  if (pending == roll_flushes_.end()) {
    advance(flush_offset);  // a flush in line (flush.messages, shutdown)
  } else {
    // A roll's flush covered only the segments after the previous roll's: the recovery point passes it once
    // every earlier roll flush has completed too.
    pending->second = true;
    while (!roll_flushes_.empty() && roll_flushes_.begin()->second) {
      advance(roll_flushes_.begin()->first);
      roll_flushes_.erase(roll_flushes_.begin());
    }
  }
  KS_ASSERT_LE(recovery_point_, log_end_offset_);
}

LogReadResult Log::read(int64_t fetch_offset, int64_t max_bytes, int64_t max_offset_bound,
                        bool min_one_message) const {
  KS_ASSERT_GE(max_bytes, 0);
  KS_ASSERT_LE(max_offset_bound, log_end_offset_);
  LogReadResult result;
  result.next_fetch_offset = fetch_offset;
  // UnifiedLog.checkLogStartOffset and LocalLog.read: outside [log start offset, LEO] is out of range.
  if (fetch_offset < log_start_offset_ || fetch_offset > log_end_offset_) {
    result.error = Errc::offset_out_of_range;
    return result;
  }
  // LocalLog.read: at or beyond the bound (HW for consumers) there is nothing to return yet, which is not an
  // error: the fetch waits in purgatory.
  if (fetch_offset >= max_offset_bound) return result;
  std::size_t i = floor_segment(fetch_offset);
  if (i == segments_.size()) {
    result.error = Errc::offset_out_of_range;
    return result;
  }
  const LogOffsetPosition bound = offset_position(max_offset_bound);
  // Walk forward past segments with nothing at or after fetch_offset (LocalLog.read's higherSegment loop).
  for (; i < segments_.size(); ++i) {
    const LogSegment& seg = segments_[i];
    const SegmentBatches& batches = seg.batches();
    const std::size_t first = seg.find_batch(fetch_offset);
    if (first == batches.size()) continue;
    // LocalLog.read's maxPosition: the whole segment before the bound's segment, the bound's position in it,
    // nothing after it.
    if (seg.base_offset() > bound.segment_base_offset) return result;
    const int64_t max_position =
        seg.base_offset() < bound.segment_base_offset ? seg.size_bytes() : bound.position;
    const int64_t start_position = batches.position(first);
    const int64_t first_batch_bytes = batches.end_position(first) - start_position;
    // KIP-74 (LogSegment.read minOneMessage): the first batch is returned whole even if larger than max_bytes.
    const int64_t adjusted_max = min_one_message ? std::max(max_bytes, first_batch_bytes) : max_bytes;
    if (adjusted_max < first_batch_bytes) {
      // Fetch v3+ returns no records instead of a partial first batch (ReplicaManager.readFromLog).
      result.first_entry_incomplete = true;
      return result;
    }
    const int64_t fetch_size = std::min(max_position - start_position, adjusted_max);
    if (fetch_size <= 0) return result;
    std::size_t last = first;
    const int64_t end_position = start_position + fetch_size;
    int64_t whole_end_position = start_position;
    int64_t records = 0;
    while (last < batches.size() && batches.end_position(last) <= end_position) {
      whole_end_position = batches.end_position(last);
      records += batches.record_count(last);
      ++last;
    }
    KS_ASSERT_GT(last, first);
    result.file_id = seg.file_id();
    result.segment_base_offset = seg.base_offset();
    result.position = start_position;
    result.bytes = fetch_size;
    result.batches = StoredBatchRange(batches, first, last);
    result.whole_batch_bytes = whole_end_position - start_position;
    result.record_count = records;
    result.next_fetch_offset = batches.last_offset(last - 1) + 1;
    return result;
  }
  // Every record at or after fetch_offset was removed (LocalLog.read's final empty case).
  return result;
}

std::optional<std::pair<int64_t, int32_t>> Log::offset_for_timestamp(int64_t target_ms) const {
  // Whole milliseconds, rounded down (timestamps before the run's start are negative).
  const auto ms = [](sim::SimTime t) { return (t.ns() >= 0 ? t.ns() : t.ns() - 999'999) / 1'000'000; };
  for (const LogSegment& segment : segments_) {
    if (segment.empty() || ms(segment.largest_timestamp()) < target_ms) continue;
    const SegmentBatches& batches = segment.batches();
    for (std::size_t i = 0; i < batches.size(); ++i) {
      if (ms(batches.max_timestamp(i)) < target_ms || batches.last_offset(i) < log_start_offset_) continue;
      const StoredBatch b = batches[i];
      return std::pair{std::max(b.batch.base_offset, log_start_offset_), b.batch.partition_leader_epoch};
    }
    // UnifiedLog searches only the first segment whose largest timestamp reaches the target.
    return std::nullopt;
  }
  return std::nullopt;
}

LogOffsetPosition Log::offset_position(int64_t offset) const {
  KS_ASSERT_LE(offset, log_end_offset_);
  // Fetch offsets, the HW and the LEO nearly always lie in the active segment (what floor_segment finds first).
  const LogSegment& active = segments_.back();
  if (offset >= active.base_offset()) return LogOffsetPosition{offset, active.base_offset(), active.position_of(offset)};
  const std::size_t i = floor_segment(offset);
  KS_ASSERT_LT(i, segments_.size());
  return LogOffsetPosition{offset, segments_[i].base_offset(), segments_[i].position_of(offset)};
}

template <typename Predicate>
int32_t Log::delete_segments_while(int64_t high_watermark, sim::SimTime now, Predicate&& predicate,
                                   StorageOps& out, std::vector<RecordBatch>* deleted_batches) {
  // UnifiedLog.deletableSegments: walk from the oldest segment and stop at the first that fails.
  std::size_t count = 0;
  const std::size_t n = segments_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const LogSegment& seg = segments_[i];
    const bool has_next = i + 1 < n;
    const bool is_last_and_empty = !has_next && seg.size_bytes() == 0;
    const int64_t upper_bound_offset = has_next ? segments_[i + 1].base_offset() : log_end_offset_;
    // Segments holding offsets at or above the HW stay, so the log start offset never passes the HW.
    if (high_watermark >= upper_bound_offset && predicate(i) && !is_last_and_empty) {
      ++count;
    } else {
      break;
    }
  }
  if (count == 0) return 0;
  // UnifiedLog.deleteSegments: when every segment goes, roll first so that the log keeps an active segment.
  if (count == segments_.size()) roll(now, out);
  remove_front_segments(count, out, deleted_batches);
  // maybeIncrementLogStartOffset(firstSegmentBaseOffset, SegmentDeletion).
  if (segments_.front().base_offset() > log_start_offset_) {
    log_start_offset_ = segments_.front().base_offset();
    recovery_point_ = std::max(recovery_point_, log_start_offset_);
  }
  return static_cast<int32_t>(count);
}

RetentionResult Log::delete_old_segments(sim::SimTime now, int64_t high_watermark, StorageOps& out,
                                         std::vector<RecordBatch>* deleted_batches) {
  KS_ASSERT_GE(high_watermark, 0);
  KS_ASSERT_LE(high_watermark, log_end_offset_);
  RetentionResult result;
  const int64_t size_before = size_bytes_;
  const int64_t log_start_before = log_start_offset_;
  // 1. Segments entirely below the log start offset (DeleteRecords, or a follower tracking the leader).
  result.deleted_by_log_start_offset = delete_segments_while(
      high_watermark, now,
      [this](std::size_t i) {
        return i + 1 < segments_.size() && segments_[i + 1].base_offset() <= log_start_offset_;
      },
      out, deleted_batches);
  if (config_.cleanup_policy_delete) {
    // 2. retention.bytes: delete from the oldest while the excess still covers the whole segment.
    if (config_.retention_bytes >= 0 && size_bytes_ >= config_.retention_bytes) {
      int64_t diff = size_bytes_ - config_.retention_bytes;
      result.deleted_by_size = delete_segments_while(
          high_watermark, now,
          [this, &diff](std::size_t i) {
            const int64_t seg_size = segments_[i].size_bytes();
            if (diff - seg_size < 0) return false;
            diff -= seg_size;
            return true;
          },
          out, deleted_batches);
    }
    // 3. retention.ms on each segment's largest timestamp.
    if (config_.retention_ms >= 0) {
      const sim::Duration retention = sim::Duration::from_ms(config_.retention_ms);
      result.deleted_by_time = delete_segments_while(
          high_watermark, now,
          [this, now, retention](std::size_t i) { return now - segments_[i].largest_timestamp() > retention; },
          out, deleted_batches);
    }
  }
  result.bytes_deleted = size_before - size_bytes_;
  KS_ASSERT_GE(result.bytes_deleted, 0);
  // Deletion only moves the log start offset up to a segment boundary at or below the HW.
  KS_ASSERT_LE(log_start_offset_, std::max(log_start_before, high_watermark));
  return result;
}

Errc Log::maybe_increment_log_start_offset(int64_t new_log_start_offset, int64_t high_watermark) {
  KS_ASSERT_GE(new_log_start_offset, 0);
  KS_ASSERT_LE(high_watermark, log_end_offset_);
  if (new_log_start_offset > high_watermark) return Errc::offset_out_of_range;
  if (new_log_start_offset > log_start_offset_) {
    log_start_offset_ = new_log_start_offset;
    // UnifiedLog.updateLogStartOffset: the recovery point never lags the log start offset.
    recovery_point_ = std::max(recovery_point_, log_start_offset_);
  }
  return Errc::none;
}

void Log::remove_front_segments(std::size_t count, StorageOps& out, std::vector<RecordBatch>* deleted_batches) {
  KS_ASSERT_LT(count, segments_.size());
  const sim::Duration delay = sim::Duration::from_ms(config_.file_delete_delay_ms);
  for (std::size_t i = 0; i < count; ++i) {
    if (deleted_batches != nullptr) {
      for (const StoredBatch& s : segments_.front().batches()) deleted_batches->push_back(s.batch);
    }
    segments_.front().emit_remove(delay, out);
    size_bytes_ -= segments_.front().size_bytes();
    segments_.pop_front();
  }
}

void Log::remove_back_segment(StorageOps& out) {
  KS_ASSERT(!segments_.empty());
  segments_.back().emit_remove(sim::Duration::from_ms(config_.file_delete_delay_ms), out);
  size_bytes_ -= segments_.back().size_bytes();
  segments_.pop_back();
}

bool Log::truncate_to(int64_t target_offset, sim::SimTime now, StorageOps& out) {
  KS_ASSERT_GE(target_offset, 0);
  if (target_offset >= log_end_offset_) return false;
  if (segments_.front().base_offset() > target_offset) {
    truncate_fully_and_start_at(target_offset, now, out);
    return true;
  }
  // LocalLog.truncateTo: drop the segments starting after the target, then cut the one holding it.
  const std::size_t bound = segments_.size();
  for (std::size_t i = 0; i < bound && segments_.back().base_offset() > target_offset; ++i)
    remove_back_segment(out);
  KS_ASSERT(!segments_.empty());
  size_bytes_ -= segments_.back().truncate_to(target_offset, now, out);
  log_end_offset_ = target_offset;
  recovery_point_ = std::min(recovery_point_, target_offset);
  log_start_offset_ = std::min(log_start_offset_, target_offset);
  KS_ASSERT_LE(segments_.back().next_offset(), log_end_offset_);
  return true;
}

void Log::truncate_fully_and_start_at(int64_t new_offset, sim::SimTime now, StorageOps& out) {
  KS_ASSERT_GE(new_offset, 0);
  const std::size_t bound = segments_.size();
  for (std::size_t i = 0; i < bound; ++i) remove_back_segment(out);
  KS_ASSERT(segments_.empty());
  KS_ASSERT_EQ(size_bytes_, 0);
  create_segment(new_offset, now, out);
  log_start_offset_ = new_offset;
  log_end_offset_ = new_offset;
  recovery_point_ = new_offset;
  roll_flushes_.clear();  // every segment they covered is gone
}

RecoveryResult Log::recover_after_crash(std::span<const DurableSize> durable, sim::SimTime now, StorageOps& out) {
  RecoveryResult result;
  roll_flushes_.clear();  // the crash ended the scheduler's tasks
  last_flush_time_ = now;  // the reloaded LocalLog starts its lastFlushedTime at the load
  std::size_t i = floor_segment(recovery_point_);
  if (i == segments_.size()) i = 0;
  // LogLoader.recoverLog: segments from the one holding the recovery point onwards were not known flushed.
  for (; i < segments_.size(); ++i) {
    LogSegment& seg = segments_[i];
    int64_t durable_bytes = seg.size_bytes();
    for (const DurableSize& d : durable) {
      if (d.file_id == seg.file_id()) durable_bytes = std::min(d.durable_bytes, seg.size_bytes());
    }
    // Everything below the recovery point was fsynced: losing it is a bug in the storage model.
    if (seg.base_offset() <= recovery_point_) KS_ASSERT_GE(durable_bytes, seg.position_of(recovery_point_));
    ++result.segments_recovered;
    const int64_t truncated = seg.recover(durable_bytes, config_.index_interval_bytes, now, out);
    size_bytes_ -= truncated;
    result.bytes_truncated += truncated;
    if (truncated > 0) {
      // "If any bytes were truncated, every later segment is deleted" (§2.7).
      while (segments_.size() > i + 1) {
        remove_back_segment(out);
        ++result.segments_deleted;
      }
      break;
    }
  }
  log_end_offset_ = segments_.back().next_offset();
  recovery_point_ = std::min(recovery_point_, log_end_offset_);
  log_start_offset_ = std::min(log_start_offset_, log_end_offset_);
  result.log_end_offset = log_end_offset_;
  return result;
}

void Log::check_invariants() const {
  KS_ASSERT(!segments_.empty());
  int64_t total = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const LogSegment& seg = segments_[i];
    if (i + 1 < segments_.size()) {
      KS_ASSERT_LT(seg.base_offset(), segments_[i + 1].base_offset());
      KS_ASSERT_LE(seg.next_offset(), segments_[i + 1].base_offset());
    }
    int64_t position = 0;
    int64_t offset = seg.base_offset();
    int64_t offset_entries = 0;
    int64_t time_entries = 0;
    for (const StoredBatch& s : seg.batches()) {
      KS_ASSERT_EQ(s.position, position);
      KS_ASSERT_GE(s.batch.base_offset, offset);
      position = s.end_position();
      offset = s.batch.next_offset();
      offset_entries += s.has_offset_index_entry ? 1 : 0;
      time_entries += s.has_time_index_entry ? 1 : 0;
    }
    KS_ASSERT_EQ(position, seg.size_bytes());
    KS_ASSERT_LE(seg.size_bytes(), config_.segment_bytes);
    KS_ASSERT_EQ(offset_entries, seg.offset_index_entries());
    KS_ASSERT_EQ(time_entries, seg.time_index_entries());
    KS_ASSERT_LE(seg.offset_index_entries(), seg.max_offset_index_entries());
    KS_ASSERT_LE(seg.time_index_entries(), seg.max_time_index_entries());
    total += seg.size_bytes();
  }
  KS_ASSERT_EQ(total, size_bytes_);
  KS_ASSERT_LE(segments_.front().base_offset(), log_start_offset_);
  KS_ASSERT_LE(log_start_offset_, log_end_offset_);
  KS_ASSERT_GE(log_end_offset_, segments_.back().next_offset());
  KS_ASSERT_LE(recovery_point_, log_end_offset_);
}

}  // namespace kafkasim::kafka
