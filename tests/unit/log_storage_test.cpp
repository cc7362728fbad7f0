// A kafka::Log's storage operations executed on a page cache over an SSD: the accounting must line up with
// what was appended (bytes into the cache, files created and removed), and reads of fresh data hit the cache.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "kafkasim/cluster/log_storage.hpp"
#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/models/disk.hpp"
#include "test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;

namespace {

struct Fixture {
  sim::Engine engine;
  models::SsdDisk disk{engine, models::SsdParams{}, sim::Rng(1)};
  models::PageCache cache{engine, [] {
                            models::PageCacheParams p;
                            p.cache_bytes = 256ull << 20;
                            p.extent_bytes = 4096;
                            return p;
                          }()};
  cluster::LogStorage storage{engine, cache, {&disk}};
  kafka::LogConfig config = [] {
    kafka::LogConfig c;
    c.segment_bytes = 1 << 20;  // 1 MiB segments so the test rolls
    c.segment_index_bytes = 1 << 16;
    c.retention_bytes = 3 << 20;
    c.file_delete_delay_ms = 1000;
    return c;
  }();

  // Issues `ops`; `done` turns true when they have all completed, which must be without an error.
  void start(kafka::StorageOps ops, bool& done) {
    done = false;
    storage.execute(std::move(ops), [&done](models::IoStatus s) {
      CHECK(s == models::IoStatus::kOk);
      done = true;
    });
  }

  void run(kafka::StorageOps ops) {
    bool done = false;
    start(std::move(ops), done);
    engine.run_until(engine.now() + 1_ms);
    REQUIRE(done);
  }

  // Routes the storage's completed flushes to `log`, whose id is `id`, as the World routes them to a replica's log.
  void route_flushes_to(kafka::Log& log, uint32_t id) {
    storage.set_flush_listener([this, &log, id](uint32_t log_id, int64_t flush_offset) {
      CHECK(log_id == id);
      log.on_flush_completed(flush_offset, engine.now());
    });
  }

  // A log with id `id` on the disk, its first segment's files created.
  std::unique_ptr<kafka::Log> open_log(uint32_t id, const kafka::LogConfig& c, uint64_t seed) {
    storage.assign_log(id, 0, static_cast<uint64_t>(c.segment_bytes), static_cast<uint64_t>(c.segment_index_bytes));
    kafka::StorageOps ops;
    auto log = std::make_unique<kafka::Log>(c, id, 0, engine.now(), sim::Rng(seed), ops);
    run(std::move(ops));
    return log;
  }

  // open_log with the fixture's config, its completed flushes routed to it (route_flushes_to).
  std::unique_ptr<kafka::Log> open_routed_log(uint32_t id, uint64_t seed) {
    auto log = open_log(id, config, seed);
    route_flushes_to(*log, id);
    return log;
  }
};

kafka::RecordBatch batch_of(int32_t bytes) {
  kafka::RecordBatch b;
  b.record_count = 10;
  b.size_bytes = bytes;
  return b;
}

// Appends one 4096-byte batch and rolls; returns how many background fsyncs the roll scheduled.
int append_and_roll(kafka::Log& log, sim::SimTime now, kafka::StorageOps& out) {
  REQUIRE(log.append_as_leader(std::vector<kafka::RecordBatch>{batch_of(4096)}, 0, now, out).error == kafka::Errc::none);
  log.roll(now, out);
  int fsyncs = 0;
  for (const auto& op : out) fsyncs += op.kind == kafka::StorageOpKind::fsync_background ? 1 : 0;
  return fsyncs;
}

}  // namespace

TEST_CASE("log storage: appends become page-cache writes of exactly the appended bytes") {
  Fixture f;
  auto opened = f.open_log(7, f.config, 2);
  kafka::Log& log = *opened;
  CHECK(f.storage.files_open() == 3);  // .log, .index, .timeindex of the first segment

  // 100 appends of 16 KiB: 1600 KiB of batches, so the 1 MiB segments roll once.
  uint64_t appended = 0;
  for (int i = 0; i < 100; ++i) {
    kafka::StorageOps out;
    const std::vector<kafka::RecordBatch> batches{batch_of(16384)};
    const auto r = log.append_as_leader(batches, 0, f.engine.now(), out);
    REQUIRE(r.error == kafka::Errc::none);
    appended += 16384;
    f.run(std::move(out));
  }
  CHECK(log.segments().size() == 2);
  CHECK(f.storage.files_open() == 6);
  // Every appended byte went through the cache, plus at most one 8-byte offset-index and one 12-byte
  // time-index entry per append (index.interval.bytes = 4096 < 16 KiB).
  const uint64_t written = f.cache.stats().written_bytes;
  CHECK(written >= appended);
  CHECK(written <= appended + 100 * (8 + 12));

  SUBCASE("a fetch of the fresh tail is served from the page cache") {
    const auto read = log.read(log.log_end_offset() - 10, 1 << 20, log.log_end_offset(), true);
    REQUIRE(read.error == kafka::Errc::none);
    REQUIRE(read.bytes == 16384);
    bool done = false;
    f.storage.read_slice(read.file_id, read.position, read.bytes, [&](const models::ReadResult& r) {
      CHECK(r.hit_bytes == 16384);
      CHECK(r.miss_bytes == 0);
      done = true;
    });
    f.engine.run_until(f.engine.now() + 1_ms);
    CHECK(done);
  }

  SUBCASE("retention removes the old segment's files after file.delete.delay.ms") {
    // Append to 350 x 16 KiB = 5.6 MiB: more than retention.bytes (3 MiB) by over two 1 MiB segments.
    for (int i = 0; i < 250; ++i) {
      kafka::StorageOps out;
      const std::vector<kafka::RecordBatch> batches{batch_of(16384)};
      log.append_as_leader(batches, 0, f.engine.now(), out);
      f.run(std::move(out));
    }
    const uint64_t files_before = f.storage.files_open();
    kafka::StorageOps out;
    const auto result = log.delete_old_segments(f.engine.now(), log.log_end_offset(), out);
    REQUIRE(result.deleted_by_size >= 1);
    f.run(std::move(out));
    CHECK(f.storage.files_open() == files_before - 3 * static_cast<uint64_t>(result.deleted_by_size));
    const uint64_t cached_before = f.cache.cached_bytes();
    f.engine.run_until(f.engine.now() + 990_ms);  // the removal was scheduled up to 1 ms ago
    CHECK(f.cache.cached_bytes() == cached_before);  // still renamed, not unlinked
    f.engine.run_until(f.engine.now() + 20_ms);
    CHECK(f.cache.cached_bytes() < cached_before);
  }
}

namespace {

// Appends 16 KiB batches to a fresh log of 1 MiB segments until one rolls; returns the rolling append's ops,
// after executing every earlier append.
kafka::StorageOps ops_of_rolling_append(Fixture& f, kafka::Log& log) {
  for (int i = 0; i < 200; ++i) {
    kafka::StorageOps out;
    const std::vector<kafka::RecordBatch> batches{batch_of(16384)};
    const auto r = log.append_as_leader(batches, 0, f.engine.now(), out);
    REQUIRE(r.error == kafka::Errc::none);
    if (r.rolled) return out;
    f.run(std::move(out));
  }
  FAIL("no roll");
  return {};
}

// Time from execute() to its callback.
sim::Duration completion(Fixture& f, kafka::StorageOps ops) {
  const sim::SimTime start = f.engine.now();
  sim::SimTime done = sim::SimTime::max();
  f.storage.execute(std::move(ops), [&](models::IoStatus s) {
    CHECK(s == models::IoStatus::kOk);
    done = f.engine.now();
  });
  f.engine.run_until(start + 10_s);
  REQUIRE(done != sim::SimTime::max());
  return done - start;
}

}  // namespace

TEST_CASE("log storage: the fsync a roll schedules runs in the background and holds back no append") {
  // UnifiedLog.roll schedules the rolled segment's flush on the scheduler ("flush-log"); the append that rolled
  // returns without waiting, and its response with it. The same fsync issued in line would wait for the disk.
  Fixture background;
  Fixture in_line;
  for (Fixture* f : {&background, &in_line})
    f->storage.assign_log(7, 0, static_cast<uint64_t>(f->config.segment_bytes),
                          static_cast<uint64_t>(f->config.segment_index_bytes));
  kafka::StorageOps init_a, init_b;
  kafka::Log log_a(background.config, 7, 0, background.engine.now(), sim::Rng(2), init_a);
  kafka::Log log_b(in_line.config, 7, 0, in_line.engine.now(), sim::Rng(2), init_b);
  background.run(std::move(init_a));
  in_line.run(std::move(init_b));
  kafka::StorageOps a = ops_of_rolling_append(background, log_a);
  kafka::StorageOps b = ops_of_rolling_append(in_line, log_b);
  REQUIRE(a == b);
  int background_fsyncs = 0;
  for (auto& op : b) {
    if (op.kind != kafka::StorageOpKind::fsync_background) continue;
    ++background_fsyncs;
    op.kind = kafka::StorageOpKind::fsync;
  }
  CHECK(background_fsyncs == 3);  // the rolled segment's .log, .index and .timeindex
  const uint64_t dirty_before = background.cache.dirty_bytes();
  REQUIRE(dirty_before >= (1u << 20) - 16384);  // the rolled segment is dirty in the cache
  const sim::Duration with_background = completion(background, std::move(a));
  const sim::Duration with_in_line = completion(in_line, std::move(b));
  // In line, the append waits until ~1 MiB reached the device; in the background it does not.
  CHECK(with_in_line > with_background * 10);
  CHECK(with_in_line.ns() > 0);
  // The background fsync still happened: the rolled segment is clean once the device is done.
  CHECK(background.cache.dirty_bytes() < dirty_before);
  CHECK(background.cache.stats().written_back_bytes >= (1u << 20) - 16384);
}

TEST_CASE("log storage: every write of a request is in the page cache before one of its fsyncs is waited for") {
  // A produce request to two partitions under flush.messages=1: each append brings its fsyncs, and the kafka
  // layer has moved both logs' end offsets before the storage runs. A fetch of the second partition may come
  // while the first partition's fsync is still on the device, and reads what the second append wrote; so that
  // write must be in the cache at once (it used to wait behind the fsync, and the read ran past the file's end).
  Fixture f;
  kafka::LogConfig flushed = f.config;
  flushed.flush_messages = 1;
  auto first_log = f.open_log(1, flushed, 3);
  auto second_log = f.open_log(2, flushed, 4);
  kafka::Log& first = *first_log;
  kafka::Log& second = *second_log;

  kafka::StorageOps ops;
  const std::vector<kafka::RecordBatch> batches{batch_of(5000)};
  REQUIRE(first.append_as_leader(batches, 0, f.engine.now(), ops).error == kafka::Errc::none);
  REQUIRE(second.append_as_leader(batches, 0, f.engine.now(), ops).error == kafka::Errc::none);
  // The first partition's fsync comes before the second partition's write in the request's operations.
  size_t first_fsync = ops.size(), second_write = ops.size();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == kafka::StorageOpKind::fsync && first_fsync == ops.size()) first_fsync = i;
    if (ops[i].kind == kafka::StorageOpKind::write && ops[i].file_id == second.active_segment().file_id() &&
        ops[i].file_kind == kafka::FileKind::log)
      second_write = i;
  }
  REQUIRE(first_fsync < second_write);
  REQUIRE(second_write < ops.size());

  bool done = false;
  f.start(std::move(ops), done);
  // The fsyncs wait for the SSD, but the second partition's 5000 bytes are readable from the cache already.
  CHECK_FALSE(done);
  models::ReadResult now;
  CHECK(f.storage.read_slice(second.active_segment().file_id(), 0, 5000, [](const models::ReadResult&) {}, &now));
  CHECK(now.status == models::IoStatus::kOk);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(done);
}

namespace {

// Five logs (ids 1 to 5) with 8 KiB each written and not yet flushed; returns a background fsync of each .log file.
kafka::StorageOps five_dirty_logs(Fixture& f, std::vector<std::unique_ptr<kafka::Log>>& logs) {
  for (uint32_t id = 1; id <= 5; ++id) logs.push_back(f.open_log(id, f.config, id));
  kafka::StorageOps writes;
  for (auto& log : logs)
    REQUIRE(log->append_as_leader(std::vector<kafka::RecordBatch>{batch_of(8192)}, 0, f.engine.now(), writes).error ==
            kafka::Errc::none);
  f.run(std::move(writes));
  kafka::StorageOps flushes;
  for (auto& log : logs)
    flushes.push_back(kafka::StorageOp{kafka::StorageOpKind::fsync_background, kafka::FileKind::log,
                                       log->active_segment().file_id(), 0, 0, -1, {}});
  return flushes;
}

}  // namespace

TEST_CASE("log storage: background flushes (a roll's flush-log task) run on at most background.threads at once") {
  // UnifiedLog.roll schedules the rolled segment's flush on the kafka-scheduler, whose background.threads each
  // hold their thread until the fsync returns. Five flushes with two threads: two start, three wait, and all
  // complete in order, leaving nothing dirty.
  Fixture f;
  f.storage.set_background_threads(2);
  std::vector<std::unique_ptr<kafka::Log>> logs;
  kafka::StorageOps flushes = five_dirty_logs(f, logs);
  const uint64_t dirty_before = f.cache.stats().dirty_bytes;
  REQUIRE(dirty_before >= 5 * 8192);
  bool done = false;
  f.storage.execute(std::move(flushes), [&](models::IoStatus) { done = true; });
  CHECK(f.storage.background_flushes_waiting() == 3);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(done);
  CHECK(f.storage.background_flushes_waiting() == 0);
  // Only the .log files were flushed: their 5 × 8192 bytes are clean now, the indexes' entries may not be.
  CHECK(f.cache.stats().dirty_bytes <= dirty_before - 5 * 8192);
}

TEST_CASE("log storage: background.threads resized while flushes wait: more threads take them at once") {
  // KafkaScheduler.resizeThreadPool (ScheduledThreadPoolExecutor.setCorePoolSize): a larger pool starts threads for
  // the queued tasks; a smaller one lets the running tasks finish. Five flushes on one thread: one runs, four wait;
  // resized to three, two more start at once and two wait; resized to one again, nothing stops, and everything
  // completes.
  Fixture f;
  f.storage.set_background_threads(1);
  std::vector<std::unique_ptr<kafka::Log>> logs;
  kafka::StorageOps flushes = five_dirty_logs(f, logs);
  bool done = false;
  f.storage.execute(std::move(flushes), [&](models::IoStatus) { done = true; });
  CHECK(f.storage.background_flushes_waiting() == 4);
  f.storage.resize_background_threads(3);
  CHECK(f.storage.background_threads() == 3);
  CHECK(f.storage.background_flushes_waiting() == 2);
  f.storage.resize_background_threads(1);
  CHECK(f.storage.background_flushes_waiting() == 2);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(done);
  CHECK(f.storage.background_flushes_waiting() == 0);
}

TEST_CASE("log storage: a completed roll flush advances the recovery point, so each roll flushes one segment") {
  // UnifiedLog.roll schedules flushUptoOffsetExclusive(new base offset), which fsyncs the segments from the
  // recovery point on and then moves the recovery point there. Before the storage reported completed flushes,
  // the recovery point stayed at 0 and the k-th roll fsynced all k segments again (quadratic work with
  // segment.ms or small segments).
  Fixture f;
  auto opened = f.open_routed_log(9, 5);
  kafka::Log& log = *opened;
  for (int roll = 1; roll <= 5; ++roll) {
    CAPTURE(roll);
    kafka::StorageOps out;
    CHECK(append_and_roll(log, f.engine.now(), out) == 3);  // the rolled segment's .log, .index and .timeindex only
    f.run(std::move(out));
    f.engine.run_until(f.engine.now() + 100_ms);
    CHECK(log.recovery_point() == log.log_end_offset());
  }
}

TEST_CASE("log storage: a roll's flush is one task that fsyncs the segment's files one after another") {
  // UnifiedLog.roll schedules one flush-log task; LogSegment.flush fsyncs .log, .index and .timeindex in turn on
  // that task's thread. With one background thread, two rolls are two tasks: one runs, one waits (not five of
  // six single fsyncs waiting), and both advance their log's recovery point.
  Fixture f;
  f.storage.set_background_threads(1);
  auto log_a = f.open_log(1, f.config, 1);
  auto log_b = f.open_log(2, f.config, 2);
  f.storage.set_flush_listener([&](uint32_t log_id, int64_t flush_offset) {
    (log_id == 1 ? *log_a : *log_b).on_flush_completed(flush_offset, f.engine.now());
  });
  kafka::StorageOps out;
  for (kafka::Log* log : {log_a.get(), log_b.get()}) append_and_roll(*log, f.engine.now(), out);
  bool done = false;
  f.storage.execute(std::move(out), [&](models::IoStatus) { done = true; });
  CHECK(f.storage.background_flushes_waiting() == 1);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(done);
  CHECK(f.storage.background_flushes_waiting() == 0);
  CHECK(log_a->recovery_point() == log_a->log_end_offset());
  CHECK(log_b->recovery_point() == log_b->log_end_offset());
}

TEST_CASE("log storage: rolls while earlier roll flushes are still pending flush only their own segment") {
  // Kafka's flush-log task reads the recovery point when it runs, after the earlier tasks moved it: each flushes
  // the segments after the previous roll's. Five rolls before any fsync completes: 3 fsyncs each (not 3, 6, 9, ...
  // from a recovery point that has not moved yet), and once they complete the recovery point is the LEO.
  Fixture f;
  auto opened = f.open_routed_log(4, 3);
  kafka::Log& log = *opened;
  kafka::StorageOps all;
  for (int roll = 1; roll <= 5; ++roll) {
    CAPTURE(roll);
    kafka::StorageOps out;
    CHECK(append_and_roll(log, f.engine.now(), out) == 3);
    all.insert(all.end(), out.begin(), out.end());
  }
  CHECK(log.recovery_point() == 0);
  f.run(std::move(all));
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(log.recovery_point() == log.log_end_offset());
}

TEST_CASE("log storage: a flush whose segment retention unlinks while an earlier fsync waits skips its files") {
  // flush.messages fsyncs the segments from the recovery point on, file after file (.log, .index, .timeindex).
  // On a slow disk the .log's fsync can outlast file.delete.delay.ms; if retention deletes the segment
  // meanwhile, its indexes are unlinked before their fsync's turn. There is nothing left to flush then: the
  // flush goes on and completes (it used to fail an assertion: "storage op on a file that was never created or is
  // already unlinked").
  test::ThrowOnAssert throw_on_assert;
  Fixture f;
  kafka::LogConfig c = f.config;
  c.retention_bytes = 1 << 20;  // keep one segment
  c.file_delete_delay_ms = 0;   // unlink at once
  auto opened = f.open_log(6, c, 7);
  kafka::Log& log = *opened;
  std::vector<int64_t> flushed;
  f.storage.set_flush_listener([&](uint32_t log_id, int64_t flush_offset) {
    CHECK(log_id == 6);
    flushed.push_back(flush_offset);
    log.on_flush_completed(flush_offset, f.engine.now());
  });
  // Two rolls: segments 0 and 1 full and dirty (their roll flushes are dropped), segment 2 active.
  for (int rolls = 0; rolls < 2;) {
    kafka::StorageOps out;
    const auto r = log.append_as_leader(std::vector<kafka::RecordBatch>{batch_of(16384)}, 0, f.engine.now(), out);
    REQUIRE(r.error == kafka::Errc::none);
    rolls += r.rolled ? 1 : 0;
    std::erase_if(out, [](const kafka::StorageOp& op) { return op.kind == kafka::StorageOpKind::fsync_background; });
    f.run(std::move(out));
  }
  REQUIRE(log.segments().size() == 3);
  REQUIRE(log.recovery_point() == 0);
  const kafka::FileId first_segment = log.segments().front().file_id();

  // The in-line flush: segment 0's .log fsync writes ~1 MiB back, so it is still on the SSD when retention runs.
  kafka::StorageOps flush;
  log.flush(log.log_end_offset(), flush);
  REQUIRE(flush.size() == 9);
  bool flush_done = false;
  f.start(std::move(flush), flush_done);
  REQUIRE_FALSE(flush_done);
  kafka::StorageOps del;
  const auto deleted = log.delete_old_segments(f.engine.now(), log.log_end_offset(), del);
  REQUIRE(deleted.deleted_by_size >= 1);
  bool del_done = false;
  f.storage.execute(std::move(del), [&](models::IoStatus) { del_done = true; });
  CHECK_NOTHROW(f.engine.run_until(f.engine.now() + 1_s));
  CHECK(del_done);
  CHECK(flush_done);
  CHECK_FALSE(f.storage.has_file(first_segment, kafka::FileKind::offset_index));
  // The flush completed once, for its offset, and the recovery point reached it.
  CHECK(flushed == std::vector<int64_t>{log.log_end_offset()});
  CHECK(log.recovery_point() == log.log_end_offset());
}

TEST_CASE("log storage: a task on a background thread (the log flusher) holds it until it releases it") {
  // KafkaScheduler runs "kafka-log-flusher" on one of its background.threads for the whole pass over the logs; a
  // roll's flush-log task scheduled meanwhile waits for a free thread. With one thread: the flusher's task starts
  // at once, the roll flush waits, and runs only once the flusher releases its thread.
  Fixture f;
  f.storage.set_background_threads(1);
  auto log = f.open_routed_log(1, 1);
  std::function<void()> release;
  f.storage.run_on_background_thread([&](std::function<void()> r) { release = std::move(r); });
  REQUIRE(release);
  kafka::StorageOps out;
  append_and_roll(*log, f.engine.now(), out);
  f.storage.execute(std::move(out), [](models::IoStatus) {});
  CHECK(f.storage.background_flushes_waiting() == 1);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(log->recovery_point() == 0);  // the roll flush never ran
  release();
  CHECK(f.storage.background_flushes_waiting() == 0);
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(log->recovery_point() == log->log_end_offset());
  // A second task queued behind a running one starts when that one releases.
  bool second_started = false;
  f.storage.run_on_background_thread([&](std::function<void()> r) { release = std::move(r); });
  f.storage.run_on_background_thread([&](std::function<void()> r) {
    second_started = true;
    r();
  });
  CHECK_FALSE(second_started);
  release();
  CHECK(second_started);
  CHECK(f.storage.background_flushes_waiting() == 0);
}

TEST_CASE("log storage: each segment flush is timed once, from its .log's fsync to its .timeindex's") {
  // LogFlushStats.LogFlushRateAndTimeMs times LogSegment.flush, whoever calls it. Two rolls each flush one segment
  // in the background; an in-line flush of the log up to its end then flushes the one segment holding new data.
  // Every segment flush fsyncs three files one after another, so it lasts at least three of the SSD's fsyncs of
  // an empty cache (each at least the device's flush latency, > 0).
  Fixture f;
  auto opened = f.open_routed_log(3, 1);
  kafka::Log& log = *opened;
  kafka::StorageOps out;
  append_and_roll(log, f.engine.now(), out);
  append_and_roll(log, f.engine.now(), out);
  f.storage.execute(std::move(out), [](models::IoStatus) {});
  f.engine.run_until(f.engine.now() + 1_s);
  CHECK(f.storage.segment_flush_times().count() == 2);
  kafka::StorageOps more;
  REQUIRE(log.append_as_leader(std::vector<kafka::RecordBatch>{batch_of(4096)}, 0, f.engine.now(), more).error ==
          kafka::Errc::none);
  log.flush(log.log_end_offset(), more);
  bool done = false;
  f.storage.execute(std::move(more), [&](models::IoStatus) { done = true; });
  f.engine.run_until(f.engine.now() + 1_s);
  REQUIRE(done);
  CHECK(log.recovery_point() == log.log_end_offset());
  CHECK(f.storage.segment_flush_times().count() == 3);
  CHECK(f.storage.segment_flush_times().min() > 0);
}
