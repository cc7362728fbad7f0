// Unit tests of the partition log (kafka/log). Expected values are derived in the comments from Kafka's rules
// as stated in reference/kafka-behaviour.md §2.3–§2.8, never taken from the log's own output.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using sim::Duration;
using sim::SimTime;

namespace {

constexpr int64_t day_ms = 86'400'000;

RecordBatch make_batch(int32_t record_count, int32_t size_bytes, SimTime max_timestamp = SimTime::zero(),
                       int64_t base_offset = -1) {
  RecordBatch b;
  b.base_offset = base_offset;
  b.record_count = record_count;
  b.size_bytes = size_bytes;
  b.max_timestamp = max_timestamp;
  return b;
}

LogAppendResult append_leader(Log& log, int32_t record_count, int32_t size_bytes, SimTime ts, StorageOps& ops,
                              int32_t leader_epoch = 0) {
  const RecordBatch b = make_batch(record_count, size_bytes, ts);
  auto r = log.append_as_leader(std::span<const RecordBatch>(&b, 1), leader_epoch, ts, ops);
  log.check_invariants();
  return r;
}

LogAppendResult append_follower(Log& log, int64_t base_offset, int32_t record_count, int32_t size_bytes,
                                SimTime ts, StorageOps& ops) {
  const RecordBatch b = make_batch(record_count, size_bytes, ts, base_offset);
  auto r = log.append_as_follower(std::span<const RecordBatch>(&b, 1), ts, ops);
  log.check_invariants();
  return r;
}

std::size_t count_ops(const StorageOps& ops, StorageOpKind kind, FileKind file_kind) {
  return static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [&](const StorageOp& op) {
    return op.kind == kind && op.file_kind == file_kind;
  }));
}

std::vector<int64_t> base_offsets(const Log& log) {
  std::vector<int64_t> v;
  for (const LogSegment& s : log.segments()) v.push_back(s.base_offset());
  return v;
}

SimTime at_ms(int64_t ms) { return SimTime::from_ns(ms * 1'000'000); }

// Turns assertion failures into exceptions for the duration of a test.
struct ThrowingAsserts {
  sim::AssertHandler previous;
  ThrowingAsserts()
      : previous(sim::set_assert_handler(+[](const std::string& m) { throw std::logic_error(m); })) {}
  ~ThrowingAsserts() { sim::set_assert_handler(previous); }
};

}  // namespace

TEST_CASE("leader appends assign contiguous offsets from the LEO and stamp the leader epoch") {
  StorageOps ops;
  Log log(LogConfig{}, 1, 100, SimTime::zero(), sim::Rng(1), ops);
  // A fresh log creates its first segment's three files at the log start offset.
  CHECK(count_ops(ops, StorageOpKind::create, FileKind::log) == 1);
  CHECK(log.log_end_offset() == 100);
  ops.clear();

  // Batches of 3, 1 and 5 records: first offsets 100, 103, 104; LEO = 100 + 9.
  auto r1 = append_leader(log, 3, 500, at_ms(1), ops, 7);
  auto r2 = append_leader(log, 1, 200, at_ms(2), ops, 7);
  auto r3 = append_leader(log, 5, 900, at_ms(3), ops, 7);
  CHECK(r1.first_offset == 100);
  CHECK(r1.last_offset == 102);
  CHECK(r2.first_offset == 103);
  CHECK(r2.last_offset == 103);
  CHECK(r3.first_offset == 104);
  CHECK(r3.last_offset == 108);
  CHECK(log.log_end_offset() == 109);
  CHECK(log.size_bytes() == 1600);
  // Each append is one buffered write at the end of the .log file: positions 0, 500, 700.
  REQUIRE(count_ops(ops, StorageOpKind::write, FileKind::log) == 3);
  CHECK(ops[0] == StorageOp{StorageOpKind::write, FileKind::log, log.active_segment().file_id(), 0, 500, -1, {}});
  for (const StoredBatch& s : log.active_segment().batches()) CHECK(s.batch.partition_leader_epoch == 7);
  // No fsync on the produce path with the default flush.messages (Long.MAX).
  CHECK(count_ops(ops, StorageOpKind::fsync, FileKind::log) == 0);
}

TEST_CASE("leader append errors: MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE append nothing") {
  LogConfig cfg;
  cfg.segment_bytes = 10'000;
  cfg.max_message_bytes = 4'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  CHECK(append_leader(log, 1, 4'001, SimTime::zero(), ops).error == Errc::message_too_large);
  // Three batches of 3500 B each pass max.message.bytes, but 10500 B > segment.bytes.
  std::vector<RecordBatch> three(3, make_batch(1, 3'500));
  CHECK(log.append_as_leader(three, 0, SimTime::zero(), ops).error == Errc::record_list_too_large);
  CHECK(log.log_end_offset() == 0);
  CHECK(log.size_bytes() == 0);
  CHECK(code(Errc::record_list_too_large) == 18);
  CHECK(code(Errc::message_too_large) == 10);
  CHECK(to_string(Errc::offset_out_of_range) == "OFFSET_OUT_OF_RANGE");
  // max.message.bytes = 0 is valid (atLeast(0)): every batch, even of one record, is too large.
  LogConfig zero = cfg;
  zero.max_message_bytes = 0;
  Log none(zero, 2, 0, SimTime::zero(), sim::Rng(1), ops);
  CHECK(append_leader(none, 1, 70, SimTime::zero(), ops).error == Errc::message_too_large);
  CHECK(none.log_end_offset() == 0);
}

TEST_CASE("segment.bytes: roll exactly when the next batch would make the segment exceed it") {
  LogConfig cfg;
  cfg.segment_bytes = 10'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // 3000-byte batches: 3 fit (9000 B), the 4th would give 12000 > 10000, so segments hold offsets
  // [0,2], [3,5], [6]: bases 0, 3, 6 after 7 one-record batches.
  for (int i = 0; i < 7; ++i) append_leader(log, 1, 3'000, SimTime::zero(), ops);
  CHECK(base_offsets(log) == std::vector<int64_t>{0, 3, 6});
  CHECK(log.segments()[0].size_bytes() == 9'000);

  // 2500-byte batches fit exactly 4 times (10000 B = segment.bytes is allowed: the rule is `size > bytes -
  // messagesSize`); the 5th rolls.
  StorageOps ops2;
  Log exact(cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops2);
  for (int i = 0; i < 4; ++i) CHECK_FALSE(append_leader(exact, 1, 2'500, SimTime::zero(), ops2).rolled);
  CHECK(exact.active_segment().size_bytes() == 10'000);
  ops2.clear();
  auto r = append_leader(exact, 1, 2'500, SimTime::zero(), ops2);
  CHECK(r.rolled);
  CHECK(r.roll_reason == RollReason::size);
  CHECK(base_offsets(exact) == std::vector<int64_t>{0, 4});
  // The roll creates the new segment's three files and schedules the fsync of the rolled segment up to the new
  // base offset (the async flush in UnifiedLog.roll); the data write goes to the new file.
  CHECK(count_ops(ops2, StorageOpKind::create, FileKind::log) == 1);
  CHECK(count_ops(ops2, StorageOpKind::create, FileKind::offset_index) == 1);
  CHECK(count_ops(ops2, StorageOpKind::fsync_background, FileKind::log) == 1);
  CHECK(count_ops(ops2, StorageOpKind::fsync, FileKind::log) == 0);
  for (const StorageOp& op : ops2) {
    if (op.kind == StorageOpKind::fsync_background) {
      CHECK(op.file_id == exact.segments()[0].file_id());
      CHECK(op.flush_offset == 4);
    }
  }
  // The rolled segment's preallocated indexes are trimmed to their used length (onBecomeInactiveSegment).
  CHECK(count_ops(ops2, StorageOpKind::truncate, FileKind::offset_index) == 1);
  CHECK(count_ops(ops2, StorageOpKind::truncate, FileKind::time_index) == 1);
  CHECK(exact.recovery_point() == 0);
  exact.on_flush_completed(4, SimTime::zero());
  CHECK(exact.recovery_point() == 4);
}

TEST_CASE("index.interval.bytes: an entry before an append once more than the interval was appended") {
  LogConfig cfg;  // index.interval.bytes = 4096
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // 1000-byte appends: before append i (0-based) the counter holds the bytes appended since the last entry.
  // It first exceeds 4096 at 5000 B, before append 5. It then resets to 0 and counts append 5 itself, so it
  // exceeds 4096 again before append 10: entries come before appends 5, 10, 15, ..., i.e. every
  // k = floor(4096 / 1000) + 1 = 5 appends, and after n appends entries(n) = floor((n - 1) / 5).
  for (int n = 1; n <= 60; ++n) {
    ops.clear();
    append_leader(log, 2, 1'000, at_ms(n), ops);
    CHECK(log.active_segment().offset_index_entries() == (n - 1) / 5);
    if (n == 6) {
      // The first entry is written at index position 0 (8-byte entry), and the time index gets its first
      // 12-byte entry because the max timestamp increased.
      CHECK(count_ops(ops, StorageOpKind::write, FileKind::offset_index) == 1);
      CHECK(count_ops(ops, StorageOpKind::write, FileKind::time_index) == 1);
      // The entry maps the append's largest offset (append 5 holds offsets 10, 11) to the position before it.
      const auto& batches = log.active_segment().batches();
      CHECK(batches[5].has_offset_index_entry);
      CHECK(batches[5].batch.last_offset() == 11);
      CHECK(batches[5].position == 5'000);
    }
  }
  // Timestamps rise with every append, so each offset-index entry comes with a time-index entry: 59 / 5 = 11.
  CHECK(log.active_segment().time_index_entries() == 11);

  // With index.interval.bytes = 0, k = 1: every append after the first finds a positive counter, n - 1 entries.
  cfg.index_interval_bytes = 0;
  StorageOps ops2;
  Log dense(cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops2);
  for (int n = 1; n <= 20; ++n) append_leader(dense, 1, 100, SimTime::zero(), ops2);
  CHECK(dense.active_segment().offset_index_entries() == 19);
  // All timestamps are equal, so the time index only gets its first entry.
  CHECK(dense.active_segment().time_index_entries() == 1);
}

TEST_CASE("segment.index.bytes: a full index rolls the segment") {
  LogConfig cfg;
  cfg.index_interval_bytes = 0;    // one index entry per append after the first
  cfg.segment_index_bytes = 120;   // offset index: 120/8 = 15 entries; time index: 120/12 = 10 entries
  StorageOps ops;
  Log rising(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // Rising timestamps: appends 2..k of a segment each add one entry to both indexes. The time index is full at
  // 10 - 1 = 9 entries (its last slot is kept for the roll), reached after append 10; append 11 rolls.
  for (int n = 0; n < 25; ++n) append_leader(rising, 1, 100, at_ms(n + 1), ops);
  CHECK(base_offsets(rising) == std::vector<int64_t>{0, 10, 20});
  CHECK(rising.segments()[0].time_index_entries() == 9);
  CHECK(rising.segments()[0].offset_index_entries() == 9);

  // Constant timestamps: the time index holds one entry, so the offset index fills first, at 15 entries after
  // append 16; append 17 rolls.
  StorageOps ops2;
  Log flat(cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops2);
  LogAppendResult last;
  for (int n = 0; n < 17; ++n) last = append_leader(flat, 1, 100, at_ms(1), ops2);
  CHECK(base_offsets(flat) == std::vector<int64_t>{0, 16});
  CHECK(last.roll_reason == RollReason::offset_index_full);
  CHECK(flat.segments()[0].offset_index_entries() == 15);
}

TEST_CASE("segment.ms: roll when the incoming timestamp is more than segment.ms after the first batch's") {
  LogConfig cfg;  // segment.ms = 7 days, jitter 0
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  const SimTime t0 = at_ms(1'000);
  append_leader(log, 1, 100, t0, ops);
  // Exactly 7 days later: the rule is strictly greater, no roll.
  CHECK_FALSE(append_leader(log, 1, 100, t0 + Duration::from_ms(7 * day_ms), ops).rolled);
  // One nanosecond more rolls.
  auto r = append_leader(log, 1, 100, t0 + Duration::from_ms(7 * day_ms) + Duration::from_ns(1), ops);
  CHECK(r.rolled);
  CHECK(r.roll_reason == RollReason::time);
  CHECK(base_offsets(log) == std::vector<int64_t>{0, 2});
}

TEST_CASE("segment.jitter.ms: each segment rolls within [segment.ms - jitter, segment.ms]") {
  LogConfig cfg;
  cfg.segment_jitter_ms = day_ms;
  std::vector<int64_t> jitters;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    StorageOps ops;
    Log log(cfg, 1, 0, SimTime::zero(), sim::Rng::stream(seed, "log"), ops);
    const Duration jitter = log.active_segment().roll_jitter();
    // randomSegmentJitter draws in [0, min(segment.jitter.ms, segment.ms)).
    CHECK(jitter >= Duration::zero());
    CHECK(jitter < Duration::from_ms(day_ms));
    jitters.push_back(jitter.ns());
    append_leader(log, 1, 100, SimTime::zero(), ops);
    const SimTime deadline = SimTime::zero() + Duration::from_ms(7 * day_ms) - jitter;
    CHECK_FALSE(append_leader(log, 1, 100, deadline, ops).rolled);
    CHECK(append_leader(log, 1, 100, deadline + Duration::from_ns(1), ops).rolled);
  }
  std::sort(jitters.begin(), jitters.end());
  CHECK(std::unique(jitters.begin(), jitters.end()) - jitters.begin() > 1);
}

TEST_CASE("relative offset overflow rolls a follower segment at the append's first offset") {
  StorageOps ops;
  Log log(LogConfig{}, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  append_follower(log, 0, 1, 100, SimTime::zero(), ops);
  // Last offset 2^31 - 1 is exactly Integer.MAX_VALUE from base 0: still storable, no roll.
  CHECK_FALSE(append_follower(log, 2'147'483'646, 2, 100, SimTime::zero(), ops).rolled);
  // Last offset 2^31 is one too far: roll at the append's first offset (a gap left by compaction upstream).
  auto r = append_follower(log, 2'147'483'648, 1, 100, SimTime::zero(), ops);
  CHECK(r.roll_reason == RollReason::offset_overflow);
  CHECK(base_offsets(log) == std::vector<int64_t>{0, 2'147'483'648});
  CHECK(log.log_end_offset() == 2'147'483'649);
}

TEST_CASE("follower appends take the leader's offsets; an offset below the LEO is a caller bug") {
  StorageOps ops;
  Log log(LogConfig{}, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  std::vector<RecordBatch> fetched{make_batch(4, 400, at_ms(1), 0), make_batch(2, 300, at_ms(2), 4),
                                   make_batch(1, 100, at_ms(3), 6)};
  auto r = log.append_as_follower(fetched, at_ms(5), ops);
  CHECK(r.first_offset == 0);
  CHECK(r.last_offset == 6);
  CHECK(log.log_end_offset() == 7);
  ThrowingAsserts guard;
  std::vector<RecordBatch> stale{make_batch(1, 100, at_ms(4), 6)};
  CHECK_THROWS_AS(log.append_as_follower(stale, at_ms(5), ops), std::logic_error);
}

TEST_CASE("retention.ms deletes the oldest segments whose largest timestamp is too old, stopping at the first "
          "young one") {
  LogConfig cfg;
  cfg.segment_bytes = 1'000;  // one 1000-byte batch per segment
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // Segment timestamps 0, 1d, 2d, 3d, 4d (the last is the active segment).
  for (int d = 0; d < 5; ++d) append_leader(log, 1, 1'000, at_ms(d * day_ms), ops);
  REQUIRE(base_offsets(log) == std::vector<int64_t>{0, 1, 2, 3, 4});
  ops.clear();
  // At now = 9d: 9d - 0 and 9d - 1d exceed 7d; 9d - 2d = 7d does not (strict `>`). Two segments go.
  auto r = log.delete_old_segments(at_ms(9 * day_ms), log.log_end_offset(), ops);
  CHECK(r.deleted_by_time == 2);
  CHECK(r.bytes_deleted == 2'000);
  CHECK(log.log_start_offset() == 2);
  CHECK(base_offsets(log) == std::vector<int64_t>{2, 3, 4});
  // Each deleted segment's three files are removed after file.delete.delay.ms.
  CHECK(count_ops(ops, StorageOpKind::remove, FileKind::log) == 2);
  CHECK(ops.front().delay == Duration::from_ms(60'000));
  log.check_invariants();

  // The high watermark bounds deletion: with HW = 3 only segment [2] (upper bound 3 <= HW) may go, even
  // though at 20d every segment is old.
  auto r2 = log.delete_old_segments(at_ms(20 * day_ms), 3, ops);
  CHECK(r2.deleted_by_time == 1);
  CHECK(base_offsets(log) == std::vector<int64_t>{3, 4});

  // With HW = LEO every segment is old, including the active one. Kafka then rolls an empty segment at the
  // LEO first, so the active segment at the time of deletion is never removed and the log stays usable.
  auto r3 = log.delete_old_segments(at_ms(20 * day_ms), log.log_end_offset(), ops);
  CHECK(r3.deleted_by_time == 2);
  CHECK(base_offsets(log) == std::vector<int64_t>{5});
  CHECK(log.active_segment().empty());
  CHECK(log.log_start_offset() == 5);
  CHECK(log.log_end_offset() == 5);
  // An empty last segment is never deleted.
  CHECK(log.delete_old_segments(at_ms(40 * day_ms), 5, ops).total() == 0);
  log.check_invariants();
}

TEST_CASE("message.timestamp.type=LogAppendTime: the leader stamps the append time, which retention.ms then uses") {
  // LogValidator with LOG_APPEND_TIME sets every batch's max timestamp to the append time; a follower appends the
  // leader's batch as it is. Producer timestamps 0 (a client clock far behind), appended at 8d: with CreateTime
  // both segments are older than 7d at 9d and go; with LogAppendTime they are 1d old and stay.
  for (const bool append_time : {false, true}) {
    CAPTURE(append_time);
    LogConfig cfg;
    cfg.segment_bytes = 1'000;
    cfg.log_append_time = append_time;
    StorageOps ops;
    Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
    for (int i = 0; i < 3; ++i) {
      const RecordBatch b = make_batch(1, 1'000, SimTime::zero());
      REQUIRE(log.append_as_leader(std::span<const RecordBatch>(&b, 1), 0, at_ms(8 * day_ms), ops).error == Errc::none);
    }
    const SimTime stored = log.read(0, 1'000, log.log_end_offset(), true).batches.front().batch.max_timestamp;
    CHECK(stored == (append_time ? at_ms(8 * day_ms) : SimTime::zero()));
    const auto r = log.delete_old_segments(at_ms(9 * day_ms), log.log_end_offset(), ops);
    CHECK(r.deleted_by_time == (append_time ? 0 : 3));
    log.check_invariants();
  }
  // A follower keeps the timestamp in the leader's batch, whatever its own config says.
  LogConfig follower_cfg;
  follower_cfg.log_append_time = true;
  StorageOps ops;
  Log follower(follower_cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops);
  const RecordBatch from_leader = make_batch(1, 1'000, at_ms(day_ms), 0);
  REQUIRE(follower.append_as_follower(std::span<const RecordBatch>(&from_leader, 1), at_ms(5 * day_ms), ops).error ==
          Errc::none);
  CHECK(follower.read(0, 1'000, 1, true).batches.front().batch.max_timestamp == at_ms(day_ms));
}

TEST_CASE("retention.ms walks from the oldest segment and stops at the first that is not old enough") {
  LogConfig cfg;
  cfg.segment_bytes = 1'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // Timestamps 0, 5d, 1d, 6d: at 9d segment [0] is old, [1] (4d ago) is young, so [2] survives though old.
  for (int64_t d : {0, 5, 1, 6}) append_leader(log, 1, 1'000, at_ms(d * day_ms), ops);
  auto r = log.delete_old_segments(at_ms(9 * day_ms), log.log_end_offset(), ops);
  CHECK(r.deleted_by_time == 1);
  CHECK(base_offsets(log) == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("retention.bytes deletes whole segments while the excess covers them") {
  LogConfig cfg;
  cfg.segment_bytes = 1'000;
  cfg.retention_bytes = 2'000;
  cfg.retention_ms = -1;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // 11 batches of 500 B: five full segments of 1000 B (bases 0,2,4,6,8) and the active one with 500 B.
  for (int i = 0; i < 11; ++i) append_leader(log, 1, 500, SimTime::zero(), ops);
  REQUIRE(log.size_bytes() == 5'500);
  // diff = 5500 - 2000 = 3500: delete 1000 B segments while diff - 1000 >= 0: 3500 -> 2500 -> 1500 -> 500, so
  // three segments; the 4th would overshoot. 2500 B remain: more than retention.bytes, but less than
  // retention.bytes plus the first remaining segment.
  auto r = log.delete_old_segments(SimTime::zero(), log.log_end_offset(), ops);
  CHECK(r.deleted_by_size == 3);
  CHECK(log.size_bytes() == 2'500);
  CHECK(log.log_start_offset() == 6);
  CHECK(log.size_bytes() - log.segments().front().size_bytes() < cfg.retention_bytes);
  // Now diff = 500 < 1000: nothing more.
  CHECK(log.delete_old_segments(SimTime::zero(), log.log_end_offset(), ops).total() == 0);

  // retention.bytes = -1 (the default) never deletes by size.
  cfg.retention_bytes = -1;
  StorageOps ops2;
  Log unlimited(cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops2);
  for (int i = 0; i < 11; ++i) append_leader(unlimited, 1, 500, SimTime::zero(), ops2);
  CHECK(unlimited.delete_old_segments(SimTime::zero(), unlimited.log_end_offset(), ops2).total() == 0);
}

TEST_CASE("log start offset: DeleteRecords up to the HW, then segments below it are deleted") {
  LogConfig cfg;
  cfg.segment_bytes = 1'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  for (int i = 0; i < 11; ++i) append_leader(log, 1, 500, SimTime::zero(), ops);
  // Beyond the HW is out of range.
  CHECK(log.maybe_increment_log_start_offset(9, 8) == Errc::offset_out_of_range);
  CHECK(log.maybe_increment_log_start_offset(5, 8) == Errc::none);
  CHECK(log.log_start_offset() == 5);
  // Segments 0, 2, 4 have next bases 2, 4, 6: those <= 5 go (segments 0 and 2); segment 4 holds offset 5.
  auto r = log.delete_old_segments(SimTime::zero(), 8, ops);
  CHECK(r.deleted_by_log_start_offset == 2);
  CHECK(base_offsets(log).front() == 4);
  CHECK(log.log_start_offset() == 5);
  // Reading below the log start offset is out of range even though offset 4 is still on disk.
  CHECK(log.read(4, 10'000, 8, true).error == Errc::offset_out_of_range);
  CHECK(log.read(5, 10'000, 8, true).error == Errc::none);
}

TEST_CASE("reads return whole batches bounded by max bytes, the bound offset and the segment") {
  LogConfig cfg;
  cfg.segment_bytes = 3'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // Six 1000-byte batches of 10 records: segments [0..29] and [30..59]; LEO = 60.
  for (int i = 0; i < 6; ++i) append_leader(log, 10, 1'000, SimTime::zero(), ops);
  REQUIRE(base_offsets(log) == std::vector<int64_t>{0, 30});

  // 2500 bytes from offset 0: the slice is 2500 B (Kafka sends it as is), two whole batches inside it.
  auto r = log.read(0, 2'500, 60, true);
  CHECK(r.error == Errc::none);
  CHECK(r.position == 0);
  CHECK(r.bytes == 2'500);
  CHECK(r.batches.size() == 2);
  CHECK(r.whole_batch_bytes == 2'000);
  CHECK(r.record_count == 20);
  CHECK(r.next_fetch_offset == 20);

  // An offset inside a batch starts at that batch (base 20, position 2000); a read never crosses a segment.
  auto mid = log.read(25, 100'000, 60, true);
  CHECK(mid.position == 2'000);
  CHECK(mid.batches.size() == 1);
  CHECK(mid.batches[0].batch.base_offset == 20);
  CHECK(mid.bytes == 1'000);
  CHECK(mid.next_fetch_offset == 30);
  auto next = log.read(30, 100'000, 60, true);
  CHECK(next.file_id == log.segments()[1].file_id());
  CHECK(next.batches.size() == 3);
  CHECK(next.next_fetch_offset == 60);

  // KIP-74: with max bytes 100 < 1000 the first batch still comes whole when min_one_message is set; without
  // it, fetch v3+ returns nothing rather than a partial batch.
  auto one = log.read(0, 100, 60, true);
  CHECK(one.batches.size() == 1);
  CHECK(one.bytes == 1'000);
  auto none = log.read(0, 100, 60, false);
  CHECK(none.batches.empty());
  CHECK(none.bytes == 0);
  CHECK(none.first_entry_incomplete);

  // The bound (HW for a consumer) cuts the read at the batch starting at offset 50.
  auto hw = log.read(30, 100'000, 50, true);
  CHECK(hw.batches.size() == 2);
  CHECK(hw.bytes == 2'000);
  CHECK(hw.next_fetch_offset == 50);
  // At or beyond the bound but within the LEO: nothing yet, no error.
  CHECK(log.read(50, 100'000, 50, true).batches.empty());
  CHECK(log.read(55, 100'000, 50, true).error == Errc::none);
  // The LEO itself is a valid, empty position; beyond it is out of range.
  CHECK(log.read(60, 100'000, 60, true).error == Errc::none);
  CHECK(log.read(60, 100'000, 60, true).bytes == 0);
  CHECK(log.read(61, 100'000, 60, true).error == Errc::offset_out_of_range);
}

TEST_CASE("truncation removes whole segments after the target and cuts the one holding it") {
  LogConfig cfg;
  cfg.segment_bytes = 3'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  for (int i = 0; i < 10; ++i) append_leader(log, 1, 1'000, SimTime::zero(), ops);
  REQUIRE(base_offsets(log) == std::vector<int64_t>{0, 3, 6, 9});
  ops.clear();
  CHECK_FALSE(log.truncate_to(10, SimTime::zero(), ops));  // at the LEO: nothing to do
  CHECK(ops.empty());
  // Truncate to 4: segments 6 and 9 are removed, segment 3 keeps offset 3 only (1000 B).
  CHECK(log.truncate_to(4, SimTime::zero(), ops));
  log.check_invariants();
  CHECK(base_offsets(log) == std::vector<int64_t>{0, 3});
  CHECK(log.log_end_offset() == 4);
  CHECK(log.size_bytes() == 4'000);
  CHECK(count_ops(ops, StorageOpKind::remove, FileKind::log) == 2);
  const FileId seg3 = log.segments()[1].file_id();
  CHECK(std::any_of(ops.begin(), ops.end(), [&](const StorageOp& op) {
    return op.kind == StorageOpKind::truncate && op.file_kind == FileKind::log && op.file_id == seg3 &&
           op.position == 1'000;
  }));
  // The leader path continues from the new LEO.
  CHECK(append_leader(log, 1, 1'000, SimTime::zero(), ops).first_offset == 4);

  // A target below the first segment (after retention) truncates fully and restarts the log there.
  log.maybe_increment_log_start_offset(3, 5);
  log.delete_old_segments(SimTime::zero(), 5, ops);
  REQUIRE(base_offsets(log).front() == 3);
  CHECK(log.truncate_to(1, SimTime::zero(), ops));
  CHECK(base_offsets(log) == std::vector<int64_t>{1});
  CHECK(log.log_start_offset() == 1);
  CHECK(log.log_end_offset() == 1);
  CHECK(log.size_bytes() == 0);
  log.check_invariants();
}

TEST_CASE("crash recovery keeps the durable prefix at batch boundaries and drops later segments") {
  LogConfig cfg;
  cfg.segment_bytes = 3'000;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // Seven 1000-byte batches: segments [0..2], [3..5], [6].
  for (int i = 0; i < 7; ++i) append_leader(log, 1, 1'000, SimTime::zero(), ops);
  // The flush scheduled at the first roll completed: offsets below 3 are durable.
  log.on_flush_completed(3, SimTime::zero());
  ops.clear();
  // The page cache kept only 1500 B of segment [3..5]: batch 3 (bytes 0..1000) survives, batch 4 is torn.
  const DurableSize durable[] = {{log.segments()[1].file_id(), 1'500}};
  auto r = log.recover_after_crash(durable, SimTime::zero(), ops);
  CHECK(r.bytes_truncated == 2'000);
  CHECK(r.segments_deleted == 1);
  CHECK(r.log_end_offset == 4);
  CHECK(log.log_end_offset() == 4);
  CHECK(base_offsets(log) == std::vector<int64_t>{0, 3});
  CHECK(log.size_bytes() == 4'000);
  // The recovery scan read the surviving 1500 bytes of the unflushed segment, and nothing of the flushed one.
  CHECK(count_ops(ops, StorageOpKind::read, FileKind::log) == 1);
  log.check_invariants();

  // A crash where every file survived whole changes nothing.
  StorageOps ops2;
  Log intact(cfg, 2, 0, SimTime::zero(), sim::Rng(1), ops2);
  for (int i = 0; i < 7; ++i) append_leader(intact, 1, 1'000, SimTime::zero(), ops2);
  auto r2 = intact.recover_after_crash({}, SimTime::zero(), ops2);
  CHECK(r2.bytes_truncated == 0);
  CHECK(intact.log_end_offset() == 7);
}

TEST_CASE("flush.messages forces an fsync once that many messages are unflushed") {
  LogConfig cfg;
  cfg.flush_messages = 3;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  ops.clear();
  append_leader(log, 2, 100, SimTime::zero(), ops);
  CHECK(count_ops(ops, StorageOpKind::fsync, FileKind::log) == 0);
  append_leader(log, 1, 100, SimTime::zero(), ops);  // LEO - recovery point = 3 >= 3
  REQUIRE(count_ops(ops, StorageOpKind::fsync, FileKind::log) == 1);
  CHECK(ops.back().flush_offset == 3);
}

TEST_CASE("flush.ms: the log flusher's check fsyncs a log whose last flush is at least flush.ms old") {
  // LogManager.flushDirtyLogs: `time.milliseconds - log.lastFlushTime >= log.config.flushMs` then
  // UnifiedLog.flush(false) up to the LEO; LocalLog.markFlushed moves lastFlushedTime only when the recovery
  // point moves; a new LocalLog starts lastFlushedTime at its creation.
  LogConfig cfg;
  cfg.flush_ms = 1'000;
  cfg.segment_bytes = 3'000;
  StorageOps ops;
  const SimTime created = SimTime::zero() + Duration::from_ms(500);
  Log log(cfg, 1, 0, created, sim::Rng(1), ops);
  ops.clear();
  CHECK(log.last_flush_time() == created);
  // Nothing appended yet: due at 1.5 s, but the recovery point is at the LEO, so there is nothing to fsync.
  CHECK_FALSE(log.flush_if_due(created + Duration::from_ms(1'000), ops));
  CHECK(ops.empty());
  // Four 1000-byte batches: segments [0..2] (rolled: its flush is in the background) and [3].
  for (int i = 0; i < 4; ++i) append_leader(log, 1, 1'000, created, ops);
  ops.clear();
  // 999.999999 ms after creation: not due.
  CHECK_FALSE(log.flush_if_due(created + Duration::from_ns(999'999'999), ops));
  CHECK(ops.empty());
  // Exactly flush.ms: due. Both segments hold data above the recovery point (0): each is fsynced (.log and its two
  // indexes), in line on the flusher's thread, tagged with the LEO.
  const SimTime check = created + Duration::from_ms(1'000);
  REQUIRE(log.flush_if_due(check, ops));
  CHECK(count_ops(ops, StorageOpKind::fsync, FileKind::log) == 2);
  CHECK(count_ops(ops, StorageOpKind::fsync_background, FileKind::log) == 0);
  for (const StorageOp& op : ops) CHECK(op.flush_offset == 4);
  CHECK(log.recovery_point() == 0);  // not before the fsyncs complete
  CHECK(log.last_flush_time() == created);
  const SimTime done = check + Duration::from_ms(7);
  log.on_flush_completed(4, done);
  CHECK(log.recovery_point() == 4);
  CHECK(log.last_flush_time() == done);
  // The next check counts from the completion: 999 ms after it, not due, even with new data.
  append_leader(log, 1, 100, done, ops);
  ops.clear();
  CHECK_FALSE(log.flush_if_due(done + Duration::from_ms(999), ops));
  REQUIRE(log.flush_if_due(done + Duration::from_ms(1'000), ops));
  CHECK(count_ops(ops, StorageOpKind::fsync, FileKind::log) == 1);  // only the active segment holds new data
  // A completion that does not move the recovery point (the roll flush of offset 3, late) leaves the time.
  log.on_flush_completed(3, done + Duration::from_ms(1'500));
  CHECK(log.last_flush_time() == done);
  // Kafka's clock counts whole milliseconds: a flush completing 0.4 ms after the 3,000 ms mark counts as flushed at
  // 3,000 ms, so the check at 4,000 ms is due although only 999.6 ms have passed; one completing at 5,001.2 ms
  // (counted as 5,001) is not due at 6,000 ms.
  const SimTime t3 = SimTime::zero() + Duration::from_us(3'000'400);
  log.on_flush_completed(log.log_end_offset(), t3);
  REQUIRE(log.last_flush_time() == t3);
  append_leader(log, 1, 100, t3, ops);
  ops.clear();
  REQUIRE(log.flush_if_due(SimTime::zero() + Duration::from_ms(4'000), ops));
  const SimTime t5 = SimTime::zero() + Duration::from_us(5'001'200);
  log.on_flush_completed(log.log_end_offset(), t5);
  append_leader(log, 1, 100, t5, ops);
  ops.clear();
  CHECK_FALSE(log.flush_if_due(SimTime::zero() + Duration::from_ms(6'000), ops));
  CHECK(log.flush_if_due(SimTime::zero() + Duration::from_ms(6'001), ops));
  log.check_invariants();
}

TEST_CASE("random operation sequences keep the log's invariants and read contract") {
  LogConfig cfg;
  cfg.segment_bytes = 8'000;
  cfg.segment_index_bytes = 240;
  cfg.index_interval_bytes = 1'000;
  cfg.retention_bytes = 20'000;
  sim::Rng rng(42);
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(7), ops);
  SimTime now = SimTime::zero();
  int64_t hw = 0;
  for (int step = 0; step < 3'000; ++step) {
    ops.clear();
    now += Duration::from_ms(1 + static_cast<int64_t>(rng.uniform_u64(60'000)));
    const uint64_t action = rng.uniform_u64(100);
    if (action < 70) {
      append_leader(log, static_cast<int32_t>(1 + rng.uniform_u64(20)),
                    static_cast<int32_t>(70 + rng.uniform_u64(3'000)), now, ops);
    } else if (action < 80) {
      hw = log.log_start_offset() +
           static_cast<int64_t>(rng.uniform_u64(static_cast<uint64_t>(log.log_end_offset() - log.log_start_offset() + 1)));
      log.delete_old_segments(now, hw, ops);
    } else if (action < 85 && log.log_end_offset() > log.segments().front().base_offset()) {
      log.truncate_to(log.log_end_offset() - 1 - static_cast<int64_t>(rng.uniform_u64(30)), now, ops);
    } else {
      const int64_t span = log.log_end_offset() - log.log_start_offset() + 1;
      const int64_t fetch = log.log_start_offset() + static_cast<int64_t>(rng.uniform_u64(static_cast<uint64_t>(span)));
      const int64_t max_bytes = static_cast<int64_t>(rng.uniform_u64(6'000));
      const auto r = log.read(fetch, max_bytes, log.log_end_offset(), true);
      CHECK(r.error == Errc::none);
      if (!r.batches.empty()) {
        // The first batch holds fetch_offset; whole batches are contiguous; only the first may exceed max_bytes.
        CHECK(r.batches.front().batch.last_offset() >= fetch);
        CHECK(r.batches.front().position == r.position);
        CHECK(r.whole_batch_bytes <= r.bytes);
        CHECK(r.bytes <= std::max<int64_t>(max_bytes, r.batches.front().batch.size_bytes));
        for (std::size_t i = 1; i < r.batches.size(); ++i)
          CHECK(r.batches[i].position == r.batches[i - 1].end_position());
        CHECK(r.next_fetch_offset == r.batches.back().batch.next_offset());
      }
    }
    hw = std::min(hw, log.log_end_offset());
    log.check_invariants();
    // Size retention with HW = LEO never leaves more than retention.bytes plus one segment's worth.
  }
  log.delete_old_segments(now, log.log_end_offset(), ops);
  CHECK(log.size_bytes() - log.segments().front().size_bytes() < cfg.retention_bytes);
}

TEST_CASE("a multi-batch follower append puts the time-index entry on the batch with the largest timestamp") {
  // Found by the cluster integration: the index of the max-timestamp batch was computed after earlier batches
  // of the same append had been stored, pointing past the end.
  LogConfig cfg;
  cfg.index_interval_bytes = 100;
  StorageOps ops;
  Log log(cfg, 1, 0, SimTime::zero(), sim::Rng(1), ops);
  // First append: 3 batches, the largest timestamp in the last (index 2).
  std::vector<RecordBatch> first{make_batch(1, 200, at_ms(1), 0), make_batch(1, 200, at_ms(2), 1),
                                 make_batch(1, 200, at_ms(3), 2)};
  log.append_as_follower(first, at_ms(5), ops);
  // Second append: more than index.interval.bytes have accumulated, so it writes an index entry, and the time
  // index entry refers to the batch holding the largest timestamp so far: the second append's last batch.
  std::vector<RecordBatch> second{make_batch(1, 200, at_ms(4), 3), make_batch(1, 200, at_ms(6), 4),
                                  make_batch(1, 200, at_ms(5), 5)};
  ops.clear();
  log.append_as_follower(second, at_ms(7), ops);
  log.check_invariants();
  const auto& batches = log.active_segment().batches();
  REQUIRE(batches.size() == 6);
  CHECK(batches[4].has_time_index_entry);  // at_ms(6) is the largest, in batch 4 (offset 4)
  CHECK(count_ops(ops, StorageOpKind::write, FileKind::time_index) == 1);
}

TEST_CASE("find_batch and position_of match a scan from the start, with gaps between batches") {
  // A segment at base 100 holding batches of 1..7 records with gaps of 0..2 offsets between them (as a
  // follower may store them). For every offset from below the base to past the end, the batch is the first
  // whose last offset is >= the offset, found by a plain scan of batches(); the position is its start, or the
  // segment size past the last batch.
  LogSegment seg(100, FileId{1}, SimTime::zero(), Duration::zero(), 10 * 1024 * 1024);
  StorageOps ops;
  for (int64_t n = 0; n <= 40; ++n) {
    int64_t next = 100;
    std::vector<RecordBatch> batches;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = next + i % 3;  // gaps of 0, 1, 2 offsets
      batches.push_back(make_batch(static_cast<int32_t>(1 + i % 7), static_cast<int32_t>(100 + i), SimTime::zero(), base));
      next = batches.back().next_offset();
    }
    LogSegment s(100, FileId{1}, SimTime::zero(), Duration::zero(), 10 * 1024 * 1024);
    // One append per batch, so every batch is its own append (positions are the running sum of sizes).
    for (const RecordBatch& b : batches) s.append(std::span<const RecordBatch>(&b, 1), 4096, ops);
    CHECK(s.next_offset() == next);
    for (int64_t offset = 98; offset <= next + 2; ++offset) {
      std::size_t expected = 0;
      while (expected < s.batches().size() && s.batches()[expected].batch.last_offset() < offset) ++expected;
      CHECK(s.find_batch(offset) == expected);
      int64_t position = 0;  // the sizes of the batches before it
      for (std::size_t k = 0; k < expected; ++k) position += batches[k].size_bytes;
      CHECK(s.position_of(offset) == position);
    }
  }
  CHECK(seg.find_batch(100) == 0);
  CHECK(seg.position_of(100) == 0);
}
