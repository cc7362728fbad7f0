// Google Benchmark micro-benchmarks of the producer's hot calls: murmur2 of a key, and one record appended to
// the RecordAccumulator (the steady state of a producer filling batches that the sender drains and completes).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kafkasim/kafka/producer/accumulator.hpp"
#include "kafkasim/kafka/producer/murmur2.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::kafka;

void BM_Murmur2(benchmark::State& state) {
  const auto key_bytes = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> key(key_bytes);
  for (size_t i = 0; i < key_bytes; ++i) key[i] = static_cast<uint8_t>('a' + i % 26);
  int32_t sink = 0;
  for (auto _ : state) {
    key[0] = static_cast<uint8_t>(key[0] + 1);  // a different key each time, so nothing is hoisted
    sink ^= murmur2(std::span<const uint8_t>(key));
  }
  benchmark::DoNotOptimize(sink);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(key_bytes));
}
BENCHMARK(BM_Murmur2)->Arg(8)->Arg(36)->Arg(256);

// Unkeyed 100-byte records through the sticky partitioner; each time a batch fills up, the heads of all deques
// are drained and completed, so memory and queues stay bounded.
void BM_AccumulatorAppend(benchmark::State& state) {
  const auto partitions = static_cast<int32_t>(state.range(0));
  ProducerConfig config;
  config.enable_idempotence = false;
  config.acks = Acks::leader;
  sim::Rng rng = sim::Rng::stream(1, "bench/accumulator");
  RecordAccumulator acc(config, rng);
  ProducerMetadata metadata;
  metadata.topics.emplace_back();
  for (int32_t p = 0; p < partitions; ++p) metadata.topics[0].partitions.push_back({p % 3, 0});
  SendRequest request;
  request.shape.value_bytes = 100;
  sim::SimTime now;
  uint64_t id = 0;
  for (auto _ : state) {
    request.record_id = id++;
    now += sim::Duration::from_us(1);
    const AppendResult result = acc.append(request, now, metadata);
    if (result.batch_is_full) {
      for (int32_t node = 0; node < 3; ++node)
        for (BatchId b : acc.drain(metadata, node, config.max_request_size_bytes, now))
          acc.complete_batch(b, now, metadata);
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AccumulatorAppend)->Arg(6)->Arg(120);

}  // namespace
