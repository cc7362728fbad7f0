// Google Benchmark micro-benchmarks of the CPU model: tasks submitted and completed per second of wall time.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kafkasim/models/cpu.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::sim;

// A closed loop per thread: each completion submits the next task, so the host always has `threads` tasks
// running on `cores` cores (state.range(0) threads, 8 cores). With threads > cores every start and end
// changes the processor-sharing rate and reschedules the completion event.
void BM_CpuSubmitComplete(benchmark::State& state) {
  const auto threads = static_cast<uint32_t>(state.range(0));
  const int64_t tasks = 1 << 16;
  for (auto _ : state) {
    Engine engine;
    models::CpuParams params;
    params.cores = 8;
    params.pools.push_back({"work", threads, 1u << 20});
    models::Cpu cpu(engine, params);
    const models::PoolId pool = cpu.pool("work");
    Rng rng(5);
    int64_t submitted = 0;
    struct Loop {
      models::Cpu* cpu;
      models::PoolId pool;
      Rng* rng;
      int64_t* submitted;
      int64_t tasks;
      void next() {
        if (*submitted >= tasks) return;
        ++*submitted;
        const Duration cost = Duration::from_ns(1'000 + static_cast<int64_t>(rng->uniform_u64(100'000)));
        (void)cpu->submit(pool, cost, [self = *this]() mutable { self.next(); });
      }
    };
    Loop loop{&cpu, pool, &rng, &submitted, tasks};
    for (uint32_t i = 0; i < threads; ++i) loop.next();
    engine.run_until(SimTime::max());
    benchmark::DoNotOptimize(cpu.host_stats().tasks_done);
  }
  state.SetItemsProcessed(state.iterations() * tasks);
}
BENCHMARK(BM_CpuSubmitComplete)->Arg(4)->Arg(16)->Arg(64);

// An open burst: 2^16 tasks submitted at once into one pool of 8 threads on 8 cores (queueing path).
void BM_CpuQueuedBurst(benchmark::State& state) {
  const int64_t tasks = 1 << 16;
  for (auto _ : state) {
    Engine engine;
    models::CpuParams params;
    params.cores = 8;
    params.pools.push_back({"work", 8, 1u << 20});
    models::Cpu cpu(engine, params);
    const models::PoolId pool = cpu.pool("work");
    uint64_t done = 0;
    for (int64_t i = 0; i < tasks; ++i) (void)cpu.submit(pool, Duration::from_us(10), [&done] { ++done; });
    engine.run_until(SimTime::max());
    benchmark::DoNotOptimize(done);
  }
  state.SetItemsProcessed(state.iterations() * tasks);
}
BENCHMARK(BM_CpuQueuedBurst);

}  // namespace
