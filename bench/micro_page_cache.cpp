// Google Benchmark micro-benchmarks of the page cache's hot calls: a buffered append (write) and a read
// that hits the cache, each including the engine event that delivers its completion.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>

#include "kafkasim/models/page_cache.hpp"
#include "kafkasim/sim/engine.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::models;

// A device that completes every request 1 µs + bytes / 10 GB/s later, so writeback never throttles writers.
class FastDevice final : public BlockDevice {
 public:
  explicit FastDevice(sim::Engine& engine) : engine_(engine) {}
  void submit(const IoRequest& request, IoCompletion done) override {
    pending_.push_back(std::move(done));
    const auto ns = static_cast<int64_t>(1000 + request.bytes / 10);
    engine_.schedule_after(sim::Duration::from_ns(ns), [this] {
      IoCompletion done = std::move(pending_.front());
      pending_.pop_front();
      done(IoStatus::kOk);
    });
  }
  uint64_t capacity_bytes() const override { return 1ULL << 50; }

 private:
  sim::Engine& engine_;
  std::deque<IoCompletion> pending_;  // FIFO: completion times are monotone in submit order
};

constexpr uint64_t kBatch = 1024;

void BM_PageCacheWriteAppend(benchmark::State& state) {
  const auto bytes = static_cast<uint64_t>(state.range(0));
  sim::Engine engine;
  FastDevice device(engine);
  PageCacheParams params;
  params.cache_bytes = 1ULL << 30;
  PageCache cache(engine, params);
  const FileId file{1};
  cache.add_file(file, device, 0);
  uint64_t offset = 0;
  uint64_t admitted = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < kBatch; ++i) {
      cache.write(file, offset, bytes, [&admitted] { ++admitted; });
      offset += bytes;
    }
    // 10 ms of simulated time per batch keeps the offered rate (≤ 6.4 GB/s) below the device's 10 GB/s.
    engine.run_until(engine.now() + sim::Duration::from_ms(10));
  }
  benchmark::DoNotOptimize(admitted);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kBatch * bytes));
}
BENCHMARK(BM_PageCacheWriteAppend)->Arg(4096)->Arg(64 * 1024);

void BM_PageCacheReadHit(benchmark::State& state) {
  const auto bytes = static_cast<uint64_t>(state.range(0));
  sim::Engine engine;
  FastDevice device(engine);
  PageCacheParams params;
  params.cache_bytes = 1ULL << 30;
  PageCache cache(engine, params);
  const FileId file{1};
  constexpr uint64_t kFileBytes = 64ULL << 20;
  cache.add_file(file, device, 0);
  // Fill the file through the cache so every read below is a hit.
  for (uint64_t off = 0; off < kFileBytes; off += 1 << 20) cache.write(file, off, 1 << 20, [] {});
  engine.run_until(engine.now() + sim::Duration::from_s(1));
  uint64_t hits = 0;
  uint64_t offset = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < kBatch; ++i) {
      cache.read(file, offset, bytes, [&hits](const ReadResult& r) { hits += r.hit_bytes; });
      offset = (offset + bytes) % kFileBytes;
    }
    engine.run_until(engine.now() + sim::Duration::from_ms(1));
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
}
BENCHMARK(BM_PageCacheReadHit)->Arg(4096)->Arg(64 * 1024);

}  // namespace
