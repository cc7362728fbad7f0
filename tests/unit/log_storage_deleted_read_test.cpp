// A segment deleted by retention is renamed `.deleted` and unlinked file.delete.delay.ms later (kafka-behaviour.md
// §2.5). In between it stays readable: a fetch response built before the deletion still sends its slice, from
// the page cache, which is why Kafka delays the unlink.
#include <doctest/doctest.h>

#include <vector>

#include "kafkasim/cluster/log_storage.hpp"
#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/models/disk.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;

TEST_CASE("log storage: a segment deleted by retention is readable until file.delete.delay.ms unlinks it") {
  sim::Engine engine;
  models::SsdDisk disk{engine, models::SsdParams{}, sim::Rng(1)};
  models::PageCacheParams params;
  params.cache_bytes = 256ull << 20;
  params.extent_bytes = 4096;
  models::PageCache cache{engine, params};
  cluster::LogStorage storage{engine, cache, {&disk}};
  kafka::LogConfig config;
  config.segment_bytes = 1 << 20;
  config.segment_index_bytes = 1 << 16;
  config.retention_bytes = 1 << 20;  // keep one segment's worth
  config.file_delete_delay_ms = 1000;
  storage.assign_log(3, 0, 1 << 20, 1 << 16);
  auto run = [&](kafka::StorageOps ops) {
    storage.execute(std::move(ops), [](models::IoStatus s) { CHECK(s == models::IoStatus::kOk); });
    engine.run_until(engine.now() + 1_ms);
  };
  kafka::StorageOps ops;
  kafka::Log log(config, 3, 0, engine.now(), sim::Rng(2), ops);
  run(std::move(ops));
  // 3 segments of 64 batches of 16 KiB.
  for (int i = 0; i < 3 * 64; ++i) {
    kafka::StorageOps out;
    kafka::RecordBatch b;
    b.record_count = 10;
    b.size_bytes = 16384;
    const std::vector<kafka::RecordBatch> batches{b};
    log.append_as_leader(batches, 0, engine.now(), out);
    run(std::move(out));
  }
  // A consumer's read of offset 0 is planned (the slice of the first segment), then retention deletes it.
  const auto read = log.read(0, 16384, log.log_end_offset(), true);
  REQUIRE(read.error == kafka::Errc::none);
  REQUIRE(read.bytes == 16384);
  kafka::StorageOps del;
  const auto r = log.delete_old_segments(engine.now(), log.log_end_offset(), del);
  REQUIRE(r.deleted_by_size >= 1);
  REQUIRE(log.log_start_offset() > 0);
  run(std::move(del));
  CHECK_FALSE(storage.has_file(read.file_id, kafka::FileKind::log));  // renamed

  // Within the delay the slice is still read, from the page cache.
  bool done = false;
  storage.read_slice(read.file_id, read.position, read.bytes, [&](const models::ReadResult& res) {
    CHECK(res.hit_bytes == 16384);
    CHECK(res.status == models::IoStatus::kOk);
    done = true;
  });
  engine.run_until(engine.now() + 1_ms);
  CHECK(done);

  // After the unlink its pages are gone; a late read completes without touching the cache or the disk.
  const uint64_t cached_before = cache.cached_bytes();
  engine.run_until(engine.now() + 1_s);
  CHECK(cache.cached_bytes() < cached_before);
  const uint64_t device_reads = cache.stats().device_read_bytes;
  done = false;
  storage.read_slice(read.file_id, read.position, read.bytes, [&](const models::ReadResult& res) {
    CHECK(res.hit_bytes + res.miss_bytes == 0);
    done = true;
  });
  engine.run_until(engine.now() + 1_ms);
  CHECK(done);
  CHECK(cache.stats().device_read_bytes == device_reads);
}
