// Google Benchmark micro-benchmarks of the engine's hot calls: schedule, pop (run), cancel, RNG draws.
#include <benchmark/benchmark.h>

#include <vector>

#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim::sim;

// Schedule then run `n` events with random times into a queue that already holds `n` events.
void BM_EngineScheduleAndRun(benchmark::State& state) {
  const auto n = static_cast<int64_t>(state.range(0));
  Rng rng(7);
  for (auto _ : state) {
    Engine engine;
    uint64_t sink = 0;
    for (int64_t i = 0; i < n; ++i)
      engine.schedule_at(SimTime::from_ns(static_cast<int64_t>(rng.uniform_u64(1'000'000))), [&sink] { ++sink; });
    engine.run_until(SimTime::max());
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_EngineScheduleAndRun)->Arg(1 << 10)->Arg(1 << 16);

// Steady state: a queue of `n` pending events; each executed event schedules one more (a "hold" model).
void BM_EngineHold(benchmark::State& state) {
  const auto n = static_cast<int64_t>(state.range(0));
  Engine engine;
  Rng rng(11);
  struct Self {
    Engine* engine;
    Rng* rng;
    void fire() {
      engine->schedule_after(Duration::from_ns(1 + static_cast<int64_t>(rng->uniform_u64(1'000'000))),
                             [this] { fire(); });
    }
  } self{&engine, &rng};
  for (int64_t i = 0; i < n; ++i) self.fire();
  for (auto _ : state) engine.run_until(SimTime::max(), 1024);
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_EngineHold)->Arg(1 << 10)->Arg(1 << 14)->Arg(1 << 18);

// Schedule `n` events and cancel every one (lazy cancellation: the heap entries are skipped later).
void BM_EngineCancel(benchmark::State& state) {
  const auto n = static_cast<int64_t>(state.range(0));
  std::vector<EventId> ids(static_cast<size_t>(n));
  for (auto _ : state) {
    Engine engine;
    for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = engine.schedule_at(SimTime::from_ns(i), [] {});
    for (const EventId& id : ids) benchmark::DoNotOptimize(engine.cancel(id));
    engine.run_until(SimTime::max());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_EngineCancel)->Arg(1 << 12);

void BM_RngExponential(benchmark::State& state) {
  Rng rng(3);
  for (auto _ : state) benchmark::DoNotOptimize(rng.exponential(1.0));
}
BENCHMARK(BM_RngExponential);

void BM_RngUniformBounded(benchmark::State& state) {
  Rng rng(5);
  for (auto _ : state) benchmark::DoNotOptimize(rng.uniform_u64(1000));
}
BENCHMARK(BM_RngUniformBounded);

}  // namespace

BENCHMARK_MAIN();
