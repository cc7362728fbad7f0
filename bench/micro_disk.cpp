// Google Benchmark micro-benchmarks of the disk models: submit + complete throughput (simulator operations
// per wall-clock second, engine events included) for random I/O at a fixed queue depth.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kafkasim/models/disk.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::models;

// Keeps `depth` random 4 KiB reads outstanding until `total` have completed.
struct Driver {
  sim::Engine* engine;
  DiskModel* disk;
  sim::Rng offsets;
  uint64_t total;
  uint64_t issued = 0;
  uint64_t completed = 0;

  void issue() {
    if (issued >= total) return;
    ++issued;
    const uint64_t blocks = disk->capacity_bytes() / 4096;
    disk->submit(IoRequest{IoOp::kRead, offsets.uniform_u64(blocks) * 4096, 4096}, [this](IoStatus) {
      ++completed;
      issue();
    });
  }
};

template <typename Disk, typename Params>
void run_disk(benchmark::State& state, const Params& params) {
  const auto depth = static_cast<uint64_t>(state.range(0));
  const uint64_t ops = 20'000;
  for (auto _ : state) {
    sim::Engine engine;
    Disk disk(engine, params, sim::Rng::stream(1, "disk"));
    Driver driver{&engine, &disk, sim::Rng::stream(2, "offsets"), ops};
    for (uint64_t i = 0; i < depth; ++i) driver.issue();
    engine.run_until(sim::SimTime::max());
    benchmark::DoNotOptimize(driver.completed);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops));
}

void BM_HddRandomRead(benchmark::State& state) { run_disk<HddDisk>(state, HddParams{}); }
BENCHMARK(BM_HddRandomRead)->Arg(1)->Arg(32);

void BM_HddRandomReadFifo(benchmark::State& state) {
  HddParams p;
  p.discipline = HddQueueDiscipline::kFifo;
  run_disk<HddDisk>(state, p);
}
BENCHMARK(BM_HddRandomReadFifo)->Arg(32);

void BM_SsdRandomRead(benchmark::State& state) { run_disk<SsdDisk>(state, SsdParams{}); }
BENCHMARK(BM_SsdRandomRead)->Arg(1)->Arg(64)->Arg(256);

}  // namespace
