// A kafka::Log's storage operations executed on a page cache over an SSD: the accounting must line up with
// what was appended (bytes into the cache, files created and removed), and reads of fresh data hit the cache.
#include <doctest/doctest.h>

#include <vector>

#include "kafkasim/cluster/log_storage.hpp"
#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/models/disk.hpp"

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

  void run(kafka::StorageOps ops) {
    bool done = false;
    storage.execute(std::move(ops), [&](models::IoStatus s) {
      CHECK(s == models::IoStatus::kOk);
      done = true;
    });
    engine.run_until(engine.now() + 1_ms);
    REQUIRE(done);
  }
};

kafka::RecordBatch batch_of(int32_t bytes) {
  kafka::RecordBatch b;
  b.record_count = 10;
  b.size_bytes = bytes;
  return b;
}

}  // namespace

TEST_CASE("log storage: appends become page-cache writes of exactly the appended bytes") {
  Fixture f;
  f.storage.assign_log(7, 0, static_cast<uint64_t>(f.config.segment_bytes),
                       static_cast<uint64_t>(f.config.segment_index_bytes));
  kafka::StorageOps ops;
  kafka::Log log(f.config, 7, 0, f.engine.now(), sim::Rng(2), ops);
  f.run(std::move(ops));
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
