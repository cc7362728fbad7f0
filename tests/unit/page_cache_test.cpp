// Page cache and writeback model: closed-form checks 8–11 of reference/hardware-models.md §6, and behaviour
// tests against a fake device whose service time is exactly latency + bytes/bandwidth (FIFO, one at a time),
// so every expected time and byte count below follows from the §3 rules by hand.
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "kafkasim/models/page_cache.hpp"
#include "kafkasim/sim/engine.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::models;
using namespace kafkasim::sim::literals;
using kafkasim::sim::Duration;
using kafkasim::sim::SimTime;
namespace pcm = kafkasim::models::page_cache_math;

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

// A FIFO device: one request at a time, service = latency + bytes/bandwidth (rounded up to a nanosecond).
// It can be stalled (requests queue, none starts) and resumed, to model a stalled-disk fault.
class FakeDevice final : public BlockDevice {
 public:
  struct Logged {
    IoRequest request;
    SimTime submitted;
  };
  FakeDevice(sim::Engine& engine, double bandwidth_bytes_per_s, Duration latency)
      : engine_(engine), bandwidth_bytes_per_s_(bandwidth_bytes_per_s), latency_(latency) {}

  void submit(const IoRequest& request, IoCompletion done) override {
    log.push_back({request, engine_.now()});
    queue_.push_back({request, std::move(done)});
    if (!busy_) start_next();
  }
  uint64_t capacity_bytes() const override { return capacity; }

  void stall() { stalled_ = true; }
  void resume() {
    stalled_ = false;
    if (!busy_) start_next();
  }
  uint64_t bytes_logged(IoOp op) const {
    uint64_t total = 0;
    for (const auto& l : log)
      if (l.request.op == op) total += l.request.bytes;
    return total;
  }

  std::vector<Logged> log;
  uint64_t capacity = 1ULL << 50;

 private:
  struct Job {
    IoRequest request;
    IoCompletion done;
  };
  void start_next() {
    if (queue_.empty() || stalled_) {
      busy_ = false;
      return;
    }
    busy_ = true;
    const double seconds = static_cast<double>(queue_.front().request.bytes) / bandwidth_bytes_per_s_;
    engine_.schedule_after(latency_ + Duration::from_seconds_ceil(seconds), [this] {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      job.done(IoStatus::kOk);
      start_next();
    });
  }

  sim::Engine& engine_;
  double bandwidth_bytes_per_s_;
  Duration latency_;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stalled_ = false;
};

PageCacheParams small_params(uint64_t cache_bytes) {
  PageCacheParams p;
  p.cache_bytes = cache_bytes;
  return p;
}

// A writer that appends `bytes` per call and issues the next call `think` after the previous one returned.
struct Writer {
  sim::Engine& engine;
  PageCache& cache;
  FileId file;
  uint64_t bytes;
  Duration think;
  uint64_t offset = 0;
  uint64_t admitted = 0;
  bool running = true;
  void next() {
    if (!running) return;
    const uint64_t n = bytes;
    cache.write(file, offset, n, [this, n] {
      admitted += n;
      if (think > Duration::zero()) {
        engine.schedule_after(think, [this] { next(); });
      } else {
        next();
      }
    });
    offset += n;
  }
};

bool near_bytes(uint64_t actual, double expected, double tolerance) {
  const double a = static_cast<double>(actual);
  return a >= expected - tolerance && a <= expected + tolerance;
}

}  // namespace

TEST_CASE("check 8: dirty throttling geometry for 64 GiB of dirtyable memory") {
  const PageCacheParams defaults;
  const pcm::DirtyThresholds t = pcm::dirty_thresholds(64 * GiB, defaults);
  // §3.3 worked example: bg 6.4, thresh = limit 12.8, freerun 9.6, setpoint 11.2 GiB. The kernel works in
  // whole pages, so each value may be below the exact decimal by less than one page.
  const double page = static_cast<double>(kPageBytes);
  CHECK(near_bytes(t.background_bytes, 6.4 * GiB, page));
  CHECK(near_bytes(t.thresh_bytes, 12.8 * GiB, page));
  CHECK(t.limit_bytes == t.thresh_bytes);
  CHECK(near_bytes(t.freerun_bytes, 9.6 * GiB, page));
  CHECK(near_bytes(t.setpoint_bytes, 11.2 * GiB, page));
  // pos(12.0 GiB) = 1 + (−0.5)^3; the polynomial's fixed points.
  CHECK(pcm::pos_ratio(12 * GiB, t) == doctest::Approx(0.875).scale(0).epsilon(1e-5));
  CHECK(pcm::pos_ratio(t.freerun_bytes, t) == doctest::Approx(2.0).scale(0));
  CHECK(pcm::pos_ratio(t.setpoint_bytes, t) == doctest::Approx(1.0).scale(0));
  CHECK(pcm::pos_ratio(t.limit_bytes, t) == 0.0);
  CHECK(pcm::pos_ratio(t.limit_bytes + GiB, t) == 0.0);
  CHECK(pcm::pos_ratio(GiB, t) == 2.0);  // clamped below freerun
  // A `_bytes` sysctl overrides its ratio; bg ≥ thresh halves bg.
  PageCacheParams bytes = defaults;
  bytes.dirty_bytes = 1 * GiB;
  bytes.dirty_background_bytes = 2 * GiB;
  const pcm::DirtyThresholds tb = pcm::dirty_thresholds(64 * GiB, bytes);
  CHECK(tb.thresh_bytes == 1 * GiB);
  CHECK(tb.background_bytes == 512 * MiB);
  // Max single pause 200 ms (MAX_PAUSE = HZ/5); a small backlog pauses wb_dirty/(8·bw) + 1 jiffy:
  // 8 MiB / (8 · 100 MiB/s) = 10 ms, + 4 ms.
  CHECK(pcm::max_pause(12 * GiB, 1'000'000, 4_ms) == 200_ms);
  CHECK(pcm::max_pause(8 * MiB, 100 * MiB, 4_ms) == 14_ms);
}

TEST_CASE("check 9: writeback chunk size") {
  const uint64_t limit = pcm::dirty_thresholds(64 * GiB, PageCacheParams{}).limit_bytes;
  // 200 MB/s = 48,828 pages/s: roundDown(min(24,414, 419,430) + 1,024, 1,024) = 24,576 pages = 96 MiB.
  CHECK(pcm::writeback_chunk_bytes(200'000'000, limit) == 96 * MiB);
  // 4 MB/s: the 4 MiB floor (MIN_WRITEBACK_PAGES).
  CHECK(pcm::writeback_chunk_bytes(4'000'000, limit) == 4 * MiB);
  // A small dirty limit caps the chunk at limit/8 (+4 MiB rounded down): 64 MiB cache → limit 3,276 pages.
  CHECK(pcm::writeback_chunk_bytes(200'000'000, pcm::dirty_thresholds(64 * MiB, PageCacheParams{}).limit_bytes) ==
        4 * MiB);
}

TEST_CASE("check 10: readahead window ramp") {
  CHECK(pcm::readahead_init_pages(1, 32) == 4);
  CHECK(pcm::readahead_init_pages(9, 32) == 32);
  CHECK(pcm::readahead_next_pages(4, 32) == 8);
  CHECK(pcm::readahead_next_pages(8, 32) == 16);
  CHECK(pcm::readahead_next_pages(16, 32) == 32);
  CHECK(pcm::readahead_next_pages(32, 32) == 32);

  // 4 KiB sequential reads through the cache: the device sees windows of 16, 32, 64, 128, 128 KiB.
  sim::Engine engine;
  FakeDevice dev(engine, 100e6, 100_us);
  PageCacheParams p = small_params(64 * MiB);
  p.extent_bytes = 4 * KiB;  // page-exact residency
  PageCache cache(engine, p);
  const FileId f{1};
  cache.add_file(f, dev, 0, 4 * MiB);
  uint64_t next_offset = 0;
  uint64_t reads_done = 0;
  std::function<void()> issue = [&] {
    if (next_offset >= 512 * KiB) return;
    const uint64_t off = next_offset;
    next_offset += 4 * KiB;
    cache.read(f, off, 4 * KiB, [&](const ReadResult& r) {
      CHECK(r.status == IoStatus::kOk);
      CHECK(r.hit_bytes + r.miss_bytes == 4 * KiB);
      ++reads_done;
      issue();
    });
  };
  issue();
  engine.run_until(SimTime::from_ns(10'000'000'000));
  CHECK(reads_done == 128);
  REQUIRE(dev.log.size() >= 5);
  const uint64_t expected[] = {16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 128 * KiB};
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < 5; ++i) {
    CHECK(dev.log[i].request.op == IoOp::kRead);
    CHECK(dev.log[i].request.bytes == expected[i]);
    CHECK(dev.log[i].request.device_offset_bytes == expected_offset);
    expected_offset += expected[i];
  }
  for (const auto& l : dev.log) CHECK(l.request.bytes <= 128 * KiB);
  // Every byte is a hit or a miss; at least the first read (the sync window) missed.
  CHECK(cache.stats().hit_bytes + cache.stats().miss_bytes == 512 * KiB);
  CHECK(cache.stats().miss_bytes >= 4 * KiB);
}

TEST_CASE("check 11: LRU inactive ratio") {
  CHECK(pcm::int_sqrt(10) == 3);
  CHECK(pcm::int_sqrt(100) == 10);
  CHECK(pcm::int_sqrt(1000) == 31);
  CHECK(pcm::int_sqrt(10240) == 101);
  CHECK(pcm::lru_inactive_ratio(512 * MiB) == 1);
  CHECK(pcm::lru_inactive_ratio(1 * GiB) == 3);
  CHECK(pcm::lru_inactive_ratio(10 * GiB) == 10);
  CHECK(pcm::lru_inactive_ratio(100 * GiB) == 31);
  CHECK(pcm::lru_inactive_ratio(1024 * GiB) == 101);
  CHECK(pcm::lru_inactive_ratio(64 * GiB) == 25);  // §3.6: 64 GiB cache → ratio 25
}

TEST_CASE("background writeback starts only above the background threshold, one chunk, then expiry") {
  // 64 MiB cache: bg = 1,638 pages (6,709,248 B), freerun 2,457 pages (~9.6 MiB), so these writes are
  // never throttled. Chunk = 4 MiB (limit/8 < 4 MiB, check 9's floor).
  sim::Engine engine;
  FakeDevice dev(engine, 100e6, Duration::zero());
  PageCache cache(engine, small_params(64 * MiB));
  const FileId f{7};
  cache.add_file(f, dev, 0);
  const uint64_t bg = cache.thresholds().background_bytes;
  REQUIRE(bg == 1638 * kPageBytes);
  uint64_t admitted = 0;
  for (uint64_t i = 0; i < 96; ++i) cache.write(f, i * 64 * KiB, 64 * KiB, [&] { admitted += 64 * KiB; });
  engine.run_until(SimTime::zero() + 4_s);
  CHECK(admitted == 6 * MiB);
  CHECK(cache.dirty_bytes() == 6 * MiB);  // 6 MiB ≤ bg: no background writeback
  CHECK(dev.log.empty());
  CHECK(cache.stats().throttled_writes == 0);

  // Six more 64 KiB writes stay at or below bg; the seventh crosses it and kicks background writeback.
  for (uint64_t i = 96; i < 112; ++i) {
    cache.write(f, i * 64 * KiB, 64 * KiB, [&] { admitted += 64 * KiB; });
    if (i < 102) CHECK(dev.log.empty());
    if (i == 102) CHECK(!dev.log.empty());
  }
  REQUIRE(!dev.log.empty());
  CHECK(dev.log.front().submitted == SimTime::zero() + 4_s);
  CHECK(dev.bytes_logged(IoOp::kWrite) == 4 * MiB);  // one chunk; NR_FILE_DIRTY then falls below bg
  CHECK(cache.writeback_bytes() == 4 * MiB);
  CHECK(cache.dirty_bytes() == 3 * MiB);
  engine.run_until(SimTime::zero() + 29_s);
  CHECK(cache.stats().written_back_bytes == 4 * MiB);
  CHECK(cache.writeback_bytes() == 0);
  CHECK(cache.dirty_bytes() == 3 * MiB);  // the 5..25 s wakeups find nothing expired
  // The file has been dirty since t = 0: the 30 s wakeup writes the rest.
  engine.run_until(SimTime::zero() + 31_s);
  CHECK(cache.stats().written_back_bytes == 7 * MiB);
  CHECK(cache.dirty_bytes() == 0);
  CHECK(dev.log.back().submitted == SimTime::zero() + 30_s);
}

TEST_CASE("periodic writeback writes data older than dirty_expire at the next wakeup") {
  sim::Engine engine;
  FakeDevice dev(engine, 100e6, Duration::zero());
  PageCache cache(engine, small_params(1 * GiB));
  const FileId f{1};
  cache.add_file(f, dev, 1 * GiB);
  bool done = false;
  engine.schedule_at(SimTime::zero() + 1_s, [&] { cache.write(f, 0, 1 * MiB, [&] { done = true; }); });
  // Wakeups at 5, 10, ..., 30 s find it younger than 30 s; at 35 s it is 34 s old.
  engine.run_until(SimTime::zero() + 34_s);
  CHECK(done);
  CHECK(dev.log.empty());
  CHECK(cache.dirty_bytes() == 1 * MiB);
  engine.run_until(SimTime::zero() + 36_s);
  REQUIRE(!dev.log.empty());
  CHECK(dev.log.front().submitted == SimTime::zero() + 35_s);
  CHECK(dev.log.front().request.device_offset_bytes == 1 * GiB);  // the file's base offset on the device
  CHECK(cache.stats().written_back_bytes == 1 * MiB);
  CHECK(cache.dirty_bytes() == 0);
  // Nothing dirty: the periodic wakeup is no longer armed, so the engine drains.
  CHECK(engine.run_until(SimTime::max()).reason == sim::StopReason::kDrained);
}

TEST_CASE("a writer blocks at the dirty limit on a stalled device and resumes as writeback drains") {
  sim::Engine engine;
  FakeDevice dev(engine, 50e6, Duration::zero());
  dev.stall();
  PageCache cache(engine, small_params(64 * MiB));
  const FileId f{1};
  cache.add_file(f, dev, 0);
  const pcm::DirtyThresholds t = cache.thresholds();
  Writer w{engine, cache, f, 64 * KiB, Duration::zero()};
  w.next();
  engine.run_until(SimTime::zero() + 10_s);
  const uint64_t dirty = cache.dirty_bytes() + cache.writeback_bytes();
  // Dirty (incl. writeback) reached the limit; the call that crossed it is the one still blocked.
  CHECK(dirty >= t.limit_bytes);
  CHECK(dirty < t.limit_bytes + 64 * KiB);
  CHECK(w.admitted + 64 * KiB == w.offset);
  CHECK(cache.stats().blocked_waits > 0);
  CHECK(cache.stats().throttled_writes > 0);
  const uint64_t admitted_at_10s = w.admitted;
  engine.run_until(SimTime::zero() + 20_s);
  CHECK(w.admitted == admitted_at_10s);  // blocked for as long as the device is stalled

  dev.resume();
  engine.run_until(SimTime::zero() + 22_s);
  CHECK(w.admitted > admitted_at_10s);
  CHECK(cache.stats().written_back_bytes > 0);
  w.running = false;
}

TEST_CASE("a steady writer faster than the device settles at the device bandwidth") {
  // Offered load 200 MB/s (64 KiB every 0.328 ms) against a 50 MB/s device: once dirty sits between
  // freerun and the limit, the admitted rate equals the writeback rate, i.e. the device bandwidth.
  sim::Engine engine;
  const double bandwidth = 50e6;
  FakeDevice dev(engine, bandwidth, Duration::zero());
  PageCache cache(engine, small_params(64 * MiB));
  const FileId f{1};
  cache.add_file(f, dev, 0);
  const pcm::DirtyThresholds t = cache.thresholds();
  Writer w{engine, cache, f, 64 * KiB, Duration::from_seconds_ceil(65536.0 / 200e6)};
  w.next();
  engine.run_until(SimTime::zero() + 10_s);
  const uint64_t admitted_10 = w.admitted;
  uint64_t dirty_max = 0;
  uint64_t dirty_min = UINT64_MAX;
  for (int i = 1; i <= 200; ++i) {
    engine.run_until(SimTime::zero() + 10_s + 100_ms * i);
    const uint64_t dirty = cache.dirty_bytes() + cache.writeback_bytes();
    dirty_max = std::max(dirty_max, dirty);
    dirty_min = std::min(dirty_min, dirty);
  }
  const double rate = static_cast<double>(w.admitted - admitted_10) / 20.0;
  CHECK(rate == doctest::Approx(bandwidth).scale(0).epsilon(0.05));
  CHECK(dirty_max < t.limit_bytes + 64 * KiB);
  // Demand above the device rate keeps dirty in the throttled band (freerun, limit], never idle below it.
  CHECK(dirty_min > t.freerun_bytes);
  CHECK(cache.stats().throttled_writes > 0);
  // write_bw estimate converges toward the device's bandwidth (P = 4.1 s averaging, 30 s of history).
  CHECK(static_cast<double>(cache.write_bw_bytes_per_s(f)) == doctest::Approx(bandwidth).scale(0).epsilon(0.1));
  w.running = false;
}

TEST_CASE("crash loses exactly the dirty and not-yet-written-back bytes; fsync makes data durable") {
  sim::Engine engine;
  FakeDevice dev(engine, 1e6, Duration::zero());  // 1 MB/s: 2 MiB takes 2.1 s
  PageCache cache(engine, small_params(1 * GiB));
  const FileId a{1}, b{2}, c{3};
  cache.add_file(a, dev, 0);
  cache.add_file(b, dev, 1 * GiB);
  cache.add_file(c, dev, 2 * GiB);
  int writes_done = 0;
  cache.write(a, 0, 2 * MiB, [&] { ++writes_done; });
  cache.write(b, 0, 10'000, [&] { ++writes_done; });
  cache.write(c, 5'000, 3'000, [&] { ++writes_done; });

  SUBCASE("crash while fsync's writeback is in flight") {
    bool fsynced = false;
    cache.fsync(a, [&](IoStatus) { fsynced = true; });
    CHECK(cache.writeback_bytes() == 2 * MiB);
    engine.run_until(SimTime::zero() + 1_s);
    const std::vector<CrashLoss> lost = cache.crash();
    REQUIRE(lost.size() == 3);
    CHECK(lost[0].file == a);
    CHECK(lost[0].lost_bytes == 2 * MiB);  // under writeback, I/O not completed
    CHECK(lost[0].first_lost_offset == 0);
    CHECK(lost[1].file == b);
    CHECK(lost[1].lost_bytes == 10'000);
    CHECK(lost[2].file == c);
    CHECK(lost[2].lost_bytes == 3'000);
    CHECK(lost[2].first_lost_offset == 5'000);
    CHECK(cache.cached_bytes() == 0);
    CHECK(cache.dirty_bytes() == 0);
    CHECK(cache.writeback_bytes() == 0);
    engine.run_until(SimTime::zero() + 10_s);
    CHECK_FALSE(fsynced);  // the process died with the host
    CHECK(writes_done == 3);
    CHECK(cache.cached_bytes() == 0);  // the old in-flight write completed and was ignored
  }
  SUBCASE("crash after fsync completed") {
    IoStatus status = IoStatus::kIoError;
    SimTime fsync_time;
    cache.fsync(a, [&](IoStatus s) {
      status = s;
      fsync_time = engine.now();
    });
    engine.run_until(SimTime::zero() + 4_s);
    CHECK(status == IoStatus::kOk);
    // 2 MiB in two 1 MiB requests at 1 MB/s, then a zero-length flush.
    CHECK(fsync_time == SimTime::zero() + Duration::from_seconds_ceil(1048576.0 / 1e6) * 2);
    CHECK(dev.log.back().request.op == IoOp::kFlush);
    CHECK(cache.stats().written_back_bytes == 2 * MiB);
    const std::vector<CrashLoss> lost = cache.crash();
    REQUIRE(lost.size() == 2);
    CHECK(lost[0].file == b);
    CHECK(lost[0].lost_bytes == 10'000);
    CHECK(lost[1].file == c);
    CHECK(lost[1].lost_bytes == 3'000);
  }
}

TEST_CASE("hit and miss accounting") {
  sim::Engine engine;
  FakeDevice dev(engine, 100e6, 1_ms);
  PageCacheParams p = small_params(64 * MiB);
  p.read_ahead_kb = 0;  // reads fetch exactly the missing extents
  PageCache cache(engine, p);
  const FileId f{1};
  cache.add_file(f, dev, 0, 1 * MiB);
  std::vector<std::pair<ReadResult, SimTime>> results;
  auto record = [&](const ReadResult& r) { results.emplace_back(r, engine.now()); };

  cache.read(f, 0, 64 * KiB, record);
  engine.run_until(SimTime::max());
  REQUIRE(results.size() == 1);
  CHECK(results[0].first.miss_bytes == 64 * KiB);
  CHECK(results[0].first.hit_bytes == 0);
  // Completes when the device does: 1 ms + 65,536 B / 100 MB/s.
  CHECK(results[0].second == SimTime::zero() + 1_ms + Duration::from_seconds_ceil(65536.0 / 100e6));

  const SimTime t1 = engine.now();
  cache.read(f, 0, 64 * KiB, record);
  cache.read(f, 32 * KiB, 64 * KiB, record);
  engine.run_until(SimTime::max());
  REQUIRE(results.size() == 3);
  CHECK(results[1].first.hit_bytes == 64 * KiB);
  CHECK(results[1].second == t1);  // a hit completes at once
  CHECK(results[2].first.hit_bytes == 32 * KiB);
  CHECK(results[2].first.miss_bytes == 32 * KiB);
  CHECK(cache.stats().hit_bytes == 96 * KiB);
  CHECK(cache.stats().miss_bytes == 96 * KiB);
  CHECK(cache.stats().hit_ratio() == doctest::Approx(0.5).scale(0));
  CHECK(cache.stats().device_read_bytes == 128 * KiB);

  // Written data is a hit; a read joins a read already in flight rather than issuing another.
  bool w = false;
  cache.write(f, 512 * KiB, 4 * KiB, [&] { w = true; });
  cache.read(f, 512 * KiB, 4 * KiB, record);
  cache.read(f, 256 * KiB, 4 * KiB, record);
  cache.read(f, 256 * KiB, 4 * KiB, record);
  engine.run_until(SimTime::max());
  REQUIRE(results.size() == 6);
  CHECK(results[3].first.hit_bytes == 4 * KiB);
  CHECK(results[4].first.miss_bytes == 4 * KiB);
  CHECK(results[5].first.miss_bytes == 4 * KiB);
  CHECK(cache.stats().device_read_bytes == 192 * KiB);
  CHECK(w);
}

TEST_CASE("LRU evicts the least recently used clean extents first; dirty ones stay") {
  sim::Engine engine;
  FakeDevice dev(engine, 1e9, 10_us);
  PageCacheParams p = small_params(1 * MiB);  // 16 extents of 64 KiB
  p.read_ahead_kb = 0;
  PageCache cache(engine, p);
  const FileId f{1};
  cache.add_file(f, dev, 0, 4 * MiB);
  auto read_extent = [&](uint64_t i) {
    cache.read(f, i * 64 * KiB, 64 * KiB, [](const ReadResult&) {});
    engine.run_until(engine.now() + 1_ms);  // bounded: periodic wakeups stay armed while data is dirty
  };
  for (uint64_t i = 0; i < 16; ++i) read_extent(i);
  CHECK(cache.cached_bytes() == 1 * MiB);
  CHECK(cache.stats().evicted_bytes == 0);
  read_extent(0);  // second access: extent 0 is promoted to the active list
  CHECK(cache.active_bytes() == 64 * KiB);
  read_extent(16);
  read_extent(17);
  // The two oldest inactive extents (1 and 2) went; 0 survived by its promotion.
  CHECK(cache.is_cached(f, 0));
  CHECK_FALSE(cache.is_cached(f, 1 * 64 * KiB));
  CHECK_FALSE(cache.is_cached(f, 2 * 64 * KiB));
  for (uint64_t i = 3; i < 18; ++i) CHECK(cache.is_cached(f, i * 64 * KiB));
  CHECK(cache.stats().evicted_bytes == 128 * KiB);
  CHECK(cache.cached_bytes() == 1 * MiB);

  // Dirty extents are not evictable: a file on a second, stalled device keeps its dirty and writeback
  // extents through a full turnover of the list by reads of the first file.
  FakeDevice stalled(engine, 1e9, 10_us);
  stalled.stall();
  const FileId g{2};
  cache.add_file(g, stalled, 0, 4 * MiB);
  for (uint64_t i = 0; i < 4; ++i) cache.write(g, i * 64 * KiB, 64 * KiB, [] {});
  for (uint64_t i = 20; i < 40; ++i) read_extent(i);
  for (uint64_t i = 0; i < 4; ++i) CHECK(cache.is_cached(g, i * 64 * KiB));
  CHECK(cache.cached_bytes() == 1 * MiB);
  CHECK(cache.dirty_bytes() + cache.writeback_bytes() == 4 * 64 * KiB);
  CHECK(cache.writeback_bytes() > 0);  // 256 KiB > bg (100 KiB): a background chunk is stuck in flight

  // drop_caches keeps only what is dirty or under writeback.
  cache.drop_caches();
  CHECK(cache.cached_bytes() == 4 * 64 * KiB);
  CHECK(cache.dirty_bytes() + cache.writeback_bytes() == 4 * 64 * KiB);
}

TEST_CASE("memory pressure shrinks thresholds and reclaims clean pages") {
  sim::Engine engine;
  FakeDevice dev(engine, 1e9, 10_us);
  PageCacheParams p = small_params(64 * MiB);
  PageCache cache(engine, p);
  const FileId f{1};
  cache.add_file(f, dev, 0, 64 * MiB);
  cache.read(f, 0, 32 * MiB, [](const ReadResult&) {});
  engine.run_until(SimTime::max());
  CHECK(cache.cached_bytes() == 32 * MiB);
  cache.set_cache_bytes(16 * MiB);
  CHECK(cache.cached_bytes() == 16 * MiB);
  CHECK(cache.thresholds().background_bytes == 16 * MiB / kPageBytes * 10 / 100 * kPageBytes);
  // The limit decays toward the new (lower) threshold instead of dropping at once (update_dirty_limit).
  CHECK(cache.thresholds().limit_bytes > cache.thresholds().thresh_bytes);
}

TEST_CASE("residency is per extent at any offset and any file id, across eviction and re-creation") {
  // Extents far apart in one file, next to each other across what could be a storage boundary, and a file id
  // far above the small sequential ones: each written extent is resident, nothing in between is.
  sim::Engine engine;
  FakeDevice dev(engine, 1e9, Duration::zero());
  PageCache cache(engine, small_params(1 * GiB));
  const uint64_t ext = PageCacheParams{}.extent_bytes;
  const FileId small{3}, large{uint64_t{1} << 40};
  cache.add_file(small, dev, 0);
  cache.add_file(large, dev, 4 * GiB);
  const std::vector<uint64_t> offsets = {0, 31 * ext, 32 * ext, 2 * GiB + 5};
  for (const uint64_t off : offsets) {
    cache.write(small, off, 100, [] {});
    cache.write(large, off, 100, [] {});
  }
  // Eight extents, each costing its pages up to the highest byte written (one page); 100 bytes dirty each.
  CHECK(cache.cached_bytes() == 8 * kPageBytes);
  CHECK(cache.dirty_bytes() == 8 * kPageBytes);
  for (const FileId f : {small, large}) {
    for (const uint64_t off : offsets) CHECK(cache.is_cached(f, off));
    CHECK_FALSE(cache.is_cached(f, ext));
    CHECK_FALSE(cache.is_cached(f, 30 * ext));
    CHECK_FALSE(cache.is_cached(f, 33 * ext));
    CHECK_FALSE(cache.is_cached(f, 1 * GiB));
  }
  // A crash reports the files in id order, each with its lowest dirty byte.
  SUBCASE("crash") {
    const std::vector<CrashLoss> lost = cache.crash();
    REQUIRE(lost.size() == 2);
    CHECK(lost[0].file == small);
    CHECK(lost[1].file == large);
    for (const CrashLoss& l : lost) {
      CHECK(l.lost_bytes == 4 * 100);
      CHECK(l.first_lost_offset == 0);
    }
  }
  // Written back and dropped, every extent goes; written again, each comes back alone.
  SUBCASE("drop and re-create") {
    int synced = 0;
    cache.fsync(small, [&](IoStatus s) { synced += s == IoStatus::kOk; });
    cache.fsync(large, [&](IoStatus s) { synced += s == IoStatus::kOk; });
    engine.run_until(SimTime::zero() + 1_s);
    CHECK(synced == 2);
    CHECK(cache.dirty_bytes() == 0);
    cache.drop_caches();
    CHECK(cache.cached_bytes() == 0);
    for (const uint64_t off : offsets) CHECK_FALSE(cache.is_cached(small, off));
    cache.write(small, 32 * ext, 100, [] {});
    CHECK(cache.is_cached(small, 32 * ext));
    CHECK_FALSE(cache.is_cached(small, 31 * ext));
    CHECK(cache.cached_bytes() == kPageBytes);
    cache.remove_file(small);
    cache.remove_file(large);
    CHECK_FALSE(cache.has_file(small));
    CHECK_FALSE(cache.has_file(large));
    CHECK(cache.cached_bytes() == 0);
    CHECK(cache.dirty_bytes() == 0);
  }
}

TEST_CASE("a file costs the pages it has, so thousands of small files fit as they do in Linux") {
  // Linux caches a file's pages, not fixed extents: a 10 KiB file takes 3 pages. Thousands of small files
  // (a log with tiny segments and indexes) must not fill the budget with memory the kernel never used.
  sim::Engine engine;
  FakeDevice dev(engine, 1e9, Duration::zero());
  const uint64_t ext = PageCacheParams{}.extent_bytes;
  PageCache cache(engine, small_params(64 * MiB));

  SUBCASE("the charge follows the file's end") {
    const FileId f{1};
    cache.add_file(f, dev, 0);
    cache.write(f, 0, 10 * KiB, [] {});
    CHECK(cache.cached_bytes() == 3 * kPageBytes);
    cache.write(f, 10 * KiB, 2 * KiB, [] {});  // still inside the third page
    CHECK(cache.cached_bytes() == 3 * kPageBytes);
    cache.write(f, 12 * KiB, ext, [] {});  // to 12 KiB + 64 KiB: one full extent and 12 KiB of the next
    CHECK(cache.cached_bytes() == ext + 3 * kPageBytes);
    int synced = 0;
    cache.fsync(f, [&](IoStatus s) { synced += s == IoStatus::kOk; });
    engine.run_until(SimTime::max());
    REQUIRE(synced == 1);
    cache.drop_caches();
    CHECK(cache.cached_bytes() == 0);
    // Read back, the file's pages are charged again and no more (reads stop at the end of the file).
    std::vector<ReadResult> results;
    cache.read(f, 0, 76 * KiB, [&](const ReadResult& r) { results.push_back(r); });
    engine.run_until(SimTime::max());
    REQUIRE(results.size() == 1);
    CHECK(cache.cached_bytes() == ext + 3 * kPageBytes);
  }

  SUBCASE("4,000 files of 8 KiB stay cached in a 64 MiB budget") {
    // 4,000 × 2 pages = 31.25 MiB: under the budget, so nothing is evicted. Charged a 64 KiB extent each they
    // would need 250 MiB.
    const uint64_t files = 4000;
    for (uint64_t i = 0; i < files; ++i) {
      cache.add_file(FileId{i + 1}, dev, i * MiB);
      cache.write(FileId{i + 1}, 0, 8 * KiB, [] {});
      engine.run_until(engine.now() + 1_ms);
    }
    engine.run_until(engine.now() + 60_s);
    CHECK(cache.cached_bytes() == files * 2 * kPageBytes);
    CHECK(cache.stats().evicted_bytes == 0);
    for (uint64_t i = 0; i < files; ++i) CHECK(cache.is_cached(FileId{i + 1}, 0));
  }
}

TEST_CASE("a budget full of dirty pages is reclaimed once writeback cleans them") {
  // The budget shrinks under 8 MiB of dirty data: nothing can be evicted (reclaim fails, and does not rescan
  // until an I/O completes), but every completed writeback makes its extents evictable and the cache falls
  // back to its budget.
  sim::Engine engine;
  FakeDevice dev(engine, 1e9, Duration::zero());
  PageCacheParams p = small_params(64 * MiB);
  p.dirty_background_bytes = 60 * MiB;  // no background writeback
  p.dirty_bytes = 62 * MiB;
  p.dirty_writeback_centisecs = 0;  // no periodic writeback
  PageCache cache(engine, p);
  const FileId f{1};
  cache.add_file(f, dev, 0);
  cache.write(f, 0, 8 * MiB, [] {});
  engine.run_until(SimTime::zero() + 1_s);
  REQUIRE(cache.cached_bytes() == 8 * MiB);
  cache.set_cache_bytes(2 * MiB);
  CHECK(cache.cached_bytes() == 8 * MiB);
  const uint64_t failures = cache.stats().reclaim_failures;
  CHECK(failures >= 1);
  for (uint64_t i = 0; i < 16; ++i) cache.write(f, 8 * MiB + i * 64 * KiB, 64 * KiB, [] {});
  CHECK(cache.cached_bytes() == 9 * MiB);
  CHECK(cache.stats().reclaim_failures >= failures + 16);
  CHECK(cache.stats().evicted_bytes == 0);
  int synced = 0;
  cache.fsync(f, [&](IoStatus s) { synced += s == IoStatus::kOk; });
  engine.run_until(SimTime::zero() + 10_s);
  REQUIRE(synced == 1);
  CHECK(cache.dirty_bytes() == 0);
  CHECK(cache.cached_bytes() <= 2 * MiB);
  CHECK(cache.stats().evicted_bytes >= 7 * MiB);
}

TEST_CASE("device_file_bytes: what the files have written, sparse lengths excluded; the device-full listener fires once") {
  // A filesystem allocates a file's blocks as they are written: a file created with a length (Kafka's
  // preallocated index files) takes nothing until written, a file takes up to the end of its furthest write, and
  // unlinking returns it. A device whose files outgrow its capacity would answer ENOSPC: the listener hears of
  // the first such write, once.
  sim::Engine engine;
  FakeDevice dev(engine, 100e6, Duration::zero()), other(engine, 100e6, Duration::zero());
  dev.capacity = 1 * MiB;
  PageCache cache(engine, small_params(64 * MiB));
  std::vector<uint64_t> full_at;
  cache.set_device_full_listener([&](const BlockDevice& d, uint64_t bytes) {
    CHECK(&d == &dev);
    full_at.push_back(bytes);
  });
  const FileId index{1}, segment{2}, elsewhere{3};
  cache.add_file(index, dev, 0, 10 * MiB);  // preallocated length, sparse
  cache.add_file(segment, dev, 1 * MiB, 0);
  cache.add_file(elsewhere, other, 0, 0);
  CHECK(cache.device_file_bytes(dev) == 0);
  cache.write(index, 0, 8, [] {});
  cache.write(segment, 0, 300 * KiB, [] {});
  cache.write(segment, 100 * KiB, 50 * KiB, [] {});  // a rewrite inside the file allocates nothing
  cache.write(elsewhere, 0, 2 * MiB, [] {});           // another device's files are its own
  CHECK(cache.device_file_bytes(dev) == 8 + 300 * KiB);
  CHECK(cache.device_file_bytes(other) == 2 * MiB);
  CHECK(full_at.empty());
  cache.write(segment, 300 * KiB, 1 * MiB - 300 * KiB - 8, [] {});  // exactly the capacity: still fits
  CHECK(cache.device_file_bytes(dev) == 1 * MiB);
  CHECK(full_at.empty());
  cache.write(index, 8, 1, [] {});  // one byte more
  REQUIRE(full_at.size() == 1);
  CHECK(full_at[0] == 1 * MiB + 1);
  cache.remove_file(segment);
  CHECK(cache.device_file_bytes(dev) == 9);
  cache.add_file(FileId{4}, dev, 0, 0);
  cache.write(FileId{4}, 0, 2 * MiB, [] {});  // full again: the listener is not called twice
  CHECK(full_at.size() == 1);
  engine.run_until(SimTime::zero() + 60_s);
}
