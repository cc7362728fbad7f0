// Google Benchmark micro-benchmarks of the network model: simulated messages per wall-clock second through
// one link and through a 3-hop path (host - switch - switch - host), 1 KiB messages (one chunk each) and
// 1 MiB messages (16 chunks of 64 KiB each).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::models;
using namespace kafkasim::sim::literals;

constexpr int64_t kBatch = 1024;

// Sends kBatch messages of `bytes` from the first to the last host per iteration and runs until all are in.
void run_batches(benchmark::State& state, Topology topo, NodeId src, NodeId dst) {
  const auto bytes = static_cast<uint64_t>(state.range(0));
  sim::Engine engine;
  Network net(engine, std::move(topo), sim::Rng::stream(1, "network"));
  uint64_t delivered = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < kBatch; ++i) net.send(src, dst, bytes, [&delivered] { ++delivered; });
    engine.run_until(sim::SimTime::max());
  }
  if (delivered != static_cast<uint64_t>(state.iterations() * kBatch)) state.SkipWithError("lost messages");
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch * static_cast<int64_t>(bytes));
}

void BM_NetworkOneLink(benchmark::State& state) {
  Topology topo;
  const NodeId a = topo.add_host("a");
  const NodeId b = topo.add_host("b");
  topo.add_link(a, b, LinkSpec{1.25e9, 10_us});
  run_batches(state, std::move(topo), a, b);
}
BENCHMARK(BM_NetworkOneLink)->Arg(1024)->Arg(1 << 20);

void BM_NetworkThreeHops(benchmark::State& state) {
  Topology topo;
  const NodeId a = topo.add_host("a");
  const NodeId s1 = topo.add_switch("s1");
  const NodeId s2 = topo.add_switch("s2");
  const NodeId b = topo.add_host("b");
  topo.add_link(a, s1, LinkSpec{1.25e9, 10_us});
  topo.add_link(s1, s2, LinkSpec{1.25e9, 3_us});
  topo.add_link(s2, b, LinkSpec{1.25e9, 10_us});
  run_batches(state, std::move(topo), a, b);
}
BENCHMARK(BM_NetworkThreeHops)->Arg(1024)->Arg(1 << 20);

}  // namespace
