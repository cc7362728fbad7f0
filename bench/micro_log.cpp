// Google Benchmark micro-benchmarks of the partition log's hot path: leader appends (with their storage
// operations, index entries and segment rolls) and fetch reads.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kafkasim/kafka/log/log.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::kafka;

// Appends one batch per iteration, as a produce request with one partition does. Small segments make rolls
// and retention happen inside the measured loop, so their cost is included.
void BM_LogAppendAsLeader(benchmark::State& state) {
  const auto batch_bytes = static_cast<int32_t>(state.range(0));
  LogConfig cfg;
  cfg.segment_bytes = 64 << 20;
  cfg.retention_bytes = 256 << 20;
  StorageOps ops;
  ops.reserve(64);
  Log log(cfg, 1, 0, sim::SimTime::zero(), sim::Rng(1), ops);
  RecordBatch batch;
  batch.record_count = 16;
  batch.size_bytes = batch_bytes;
  sim::SimTime now = sim::SimTime::zero();
  int64_t appends = 0;
  for (auto _ : state) {
    ops.clear();
    now += sim::Duration::from_us(100);
    batch.max_timestamp = now;
    auto r = log.append_as_leader(std::span<const RecordBatch>(&batch, 1), 0, now, ops);
    benchmark::DoNotOptimize(r);
    // A retention pass every 4096 appends keeps memory bounded, as log.retention.check.interval.ms does.
    if ((++appends & 4095) == 0) log.delete_old_segments(now, log.log_end_offset(), ops);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * batch_bytes);
}
BENCHMARK(BM_LogAppendAsLeader)->Arg(1 << 10)->Arg(16 << 10);

// Consumer-style reads of 1 MiB (max.partition.fetch.bytes) from random offsets of a 100k-batch log.
void BM_LogRead(benchmark::State& state) {
  LogConfig cfg;
  cfg.segment_bytes = 64 << 20;
  StorageOps ops;
  Log log(cfg, 1, 0, sim::SimTime::zero(), sim::Rng(1), ops);
  RecordBatch batch;
  batch.record_count = 16;
  batch.size_bytes = 4096;
  for (int i = 0; i < 100'000; ++i) {
    ops.clear();
    log.append_as_leader(std::span<const RecordBatch>(&batch, 1), 0, sim::SimTime::zero(), ops);
  }
  sim::Rng rng(3);
  const auto leo = static_cast<uint64_t>(log.log_end_offset());
  for (auto _ : state) {
    auto r = log.read(static_cast<int64_t>(rng.uniform_u64(leo)), 1 << 20, log.log_end_offset(), true);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogRead);

}  // namespace
