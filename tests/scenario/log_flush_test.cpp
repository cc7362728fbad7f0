// The broker's time-based log flush (kafka-behaviour.md §2.3 step 8): LogManager's "kafka-log-flusher" runs after
// log.initial.task.delay.ms and then every log.flush.scheduler.interval.ms, and fsyncs each log whose last flush
// (LocalLog.lastFlushTime, set when a flush moves the recovery point) is at least flush.ms old on Kafka's
// millisecond clock. The expected flush times below follow from those rules and from whether a flush completes
// within the millisecond of its tick, which each test first establishes for its disk.
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;
using sim::SimTime;

namespace {

// Three brokers, one topic of two partitions at RF 3 (each broker holds two logs), 200 records/s of 100 B: a
// flush writes at most a few tens of KB per log. The flusher first runs at 1 s, then every second.
cluster::WorldSpec flusher_world(const char* disk, int64_t flush_ms) {
  auto spec = test::small_cluster(3, disk, "nic-10gbe", 2, 3, 2);
  spec.duration = 8_s;
  spec.warmup = 1_s;
  spec.retention_initial_delay = 1_s;  // log.initial.task.delay.ms: the retention task and the flusher
  spec.log_flush_scheduler_interval_ms = 1000;
  spec.topics[0].config.log.flush_ms = flush_ms;
  spec.producers.push_back(test::open_loop_producer(200, Acks::all, 5, 100));
  return spec;
}

// Every log's state at one instant: its last flush time, recovery point and log end offset.
struct LogState {
  SimTime last_flush;
  int64_t recovery_point = 0;
  int64_t log_end_offset = 0;
};
using Snapshot = std::vector<LogState>;  // by broker, then partition

Snapshot snapshot(const cluster::World& world) {
  Snapshot out;
  for (uint32_t b = 0; b < 3; ++b)
    for (int32_t p = 0; p < 2; ++p) {
      const kafka::Partition* replica = world.partition(b, {0, p});
      REQUIRE(replica != nullptr);
      out.push_back({replica->log().last_flush_time(), replica->log().recovery_point(), replica->log().log_end_offset()});
    }
  return out;
}

// Runs `spec` and takes a snapshot at each of `at`; `summary` receives the run's summary.
std::vector<Snapshot> run_with_snapshots(const cluster::WorldSpec& spec, const std::vector<SimTime>& at,
                                         cluster::WorldSummary* summary = nullptr) {
  cluster::World world(spec);
  std::vector<Snapshot> out(at.size());
  for (size_t i = 0; i < at.size(); ++i)
    world.engine().schedule_at(at[i], [&world, &out, i] { out[i] = snapshot(world); });
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  if (summary != nullptr) *summary = s;
  return out;
}

SimTime at_ms(int64_t ms) { return SimTime::zero() + sim::Duration::from_ms(ms); }

// `after`, taken within half a second of the tick at `tick_ms`, shows log `log` flushed at that tick: its last flush
// completed after the tick and reached at least the log end offset that `before`, taken just before the tick, showed.
void check_flushed_at_tick(const Snapshot& before, const Snapshot& after, size_t log, int64_t tick_ms) {
  CHECK(after[log].last_flush >= at_ms(tick_ms));
  CHECK(after[log].last_flush < at_ms(tick_ms + 500));
  CHECK(after[log].recovery_point >= before[log].log_end_offset);
}

}  // namespace

TEST_CASE("log flusher: flush.ms is checked at the scheduler's ticks, from each flush's completion") {
  // flush.ms = 3000 with a check every second from 1 s: the logs (created at 0) first become due at the 3 s tick.
  // Snapshots just before and after each tick from 3 s to 7 s.
  const std::vector<SimTime> at = {at_ms(2'999), at_ms(3'500), at_ms(5'999), at_ms(6'500), at_ms(6'999), at_ms(7'500)};

  SUBCASE("NVMe: a flush completes within its tick's millisecond, so the next is due three ticks later") {
    cluster::WorldSummary summary;
    const auto snaps = run_with_snapshots(flusher_world("nvme-datacentre", 3'000), at, &summary);
    // LogFlushRateAndTimeMs: two flushes of each log's one segment in the 8 s (at 3 s and 6 s), nothing else.
    CHECK(summary.log_flush_time.count == 12);
    CHECK(summary.log_flush_time.max_ms < 1.0);
    for (size_t log = 0; log < 6; ++log) {
      INFO("log " << log);
      // Not flushed before 3 s (no segment rolls at 1 GiB either).
      CHECK(snaps[0][log].last_flush.ns() == 0);
      CHECK(snaps[0][log].recovery_point == 0);
      // Flushed at the 3 s tick up to its LEO then (at least the LEO a millisecond before), within a millisecond:
      // the NVMe profile's power-loss-protected cache makes an fsync of a few KB take microseconds.
      REQUIRE(snaps[1][log].last_flush < at_ms(3'001));
      check_flushed_at_tick(snaps[0], snaps[1], log, 3'000);
      CHECK(snaps[1][log].recovery_point <= snaps[1][log].log_end_offset);
      // Not due at 4 s or 5 s (1 and 2 s since); at 6 s Kafka's clock reads 6000 − 3000 = 3000 >= flush.ms.
      CHECK(snaps[2][log].last_flush == snaps[1][log].last_flush);
      check_flushed_at_tick(snaps[2], snaps[3], log, 6'000);
    }
  }

  SUBCASE("HDD: a flush ends milliseconds after its tick, so the 6 s tick is short of flush.ms and 7 s flushes") {
    cluster::WorldSummary summary;
    const auto snaps = run_with_snapshots(flusher_world("hdd-7200rpm", 3'000), at, &summary);
    // Two flushes of each log's one segment (at 3 s and 7 s), each at least a millisecond (see below).
    CHECK(summary.log_flush_time.count == 12);
    CHECK(summary.log_flush_time.p50_ms >= 1.0);
    for (size_t log = 0; log < 6; ++log) {
      INFO("log " << log);
      CHECK(snaps[0][log].last_flush.ns() == 0);
      // The fsync waits for the disk (its dirty pages, then the drive's cache flush): it ends at least a
      // millisecond after the tick.
      REQUIRE(snaps[1][log].last_flush >= at_ms(3'001));
      check_flushed_at_tick(snaps[0], snaps[1], log, 3'000);
      // 6000 − (3000 + at least 1) < 3000: not due at 6 s; due at 7 s.
      for (size_t later : {2, 3, 4}) CHECK(snaps[later][log].last_flush == snaps[1][log].last_flush);
      check_flushed_at_tick(snaps[4], snaps[5], log, 7'000);
    }
  }
}

TEST_CASE("log flusher: with Kafka's default flush.ms (Long.MAX) nothing is ever flushed by time") {
  cluster::WorldSummary summary;
  const auto snaps = run_with_snapshots(flusher_world("nvme-datacentre", std::numeric_limits<int64_t>::max()),
                                        {at_ms(7'900)}, &summary);
  CHECK(summary.log_flush_time.count == 0);
  for (const LogState& log : snaps[0]) {
    CHECK(log.log_end_offset > 200);  // about 1,580 records by then, over two partitions
    CHECK(log.recovery_point == 0);
    CHECK(log.last_flush.ns() == 0);
  }
}

TEST_CASE("checkpoint files: each log dir's HW checkpoint every 5 s from 0, recovery point and log start after 30 s") {
  // One broker with two log dirs (JBOD) and a topic of four partitions (two logs a dir), nothing produced: every
  // write the page cache accepts is a checkpoint file's. CheckpointFile's format: "0\n", the entry count and "\n",
  // then one "events <partition> <offset>\n" line per entry, each 2 + 1 + 1 + 1 + 1 + 6 = 11 bytes here (offsets
  // 0). In 62 s: the HW checkpoint (replica.high.watermark.checkpoint.interval.ms = 5000, first at time zero) 13
  // times, the recovery point (log.flush.offset.checkpoint.interval.ms = 60000, first after
  // log.initial.task.delay.ms = 30000) once, and the log start offset once, with no entry (no log start offset is
  // above its first segment's base offset): 2 dirs x (13 x 26 + 26 + 4) bytes, each write fsynced.
  auto spec = test::small_cluster(1, "hdd-7200rpm", "nic-10gbe", 4, 1, 1);
  spec.broker_hardware.log_dirs = 2;
  spec.duration = 62_s;
  spec.warmup = 1_s;
  cluster::World world(spec);
  world.run();
  const int64_t per_dir = 13 * (2 + 2 + 2 * 11) + (2 + 2 + 2 * 11) + (2 + 2);
  cluster::HostHardware& hw = world.broker_hardware(0);
  CHECK(hw.page_cache().stats().written_bytes == static_cast<uint64_t>(2 * per_dir));
  CHECK(hw.page_cache().stats().dirty_bytes == 0);  // every one fsynced
  // Each fsync writes the file's one page back to its disk: 15 writes a dir.
  for (size_t d = 0; d < 2; ++d) {
    CAPTURE(d);
    CHECK(hw.disk(d).stats().writes_ok == 15);
  }
  // Turned off (a period of 0 runs the task once, at its first time): 1 + 1 + 1 writes a dir.
  spec.replica_high_watermark_checkpoint_interval_ms = 0;
  spec.log_flush_offset_checkpoint_interval_ms = 0;
  spec.log_flush_start_offset_checkpoint_interval_ms = 0;
  cluster::World once(spec);
  once.run();
  CHECK(once.broker_hardware(0).page_cache().stats().written_bytes == static_cast<uint64_t>(2 * (26 + 26 + 4)));
}
