#include "bench/phold.hpp"

#include <chrono>
#include <queue>
#include <string>
#include <vector>

#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace kafkasim::bench {

namespace {

// Wall-clock timing of a benchmark run. The simulation itself never reads a clock.
using WallClock = std::chrono::steady_clock;

std::vector<sim::Rng> make_streams(const PholdConfig& config) {
  std::vector<sim::Rng> streams;
  streams.reserve(config.lps);
  for (uint32_t i = 0; i < config.lps; ++i) streams.push_back(sim::Rng::stream(config.seed, "phold/lp/" + std::to_string(i)));
  return streams;
}

int64_t draw_delay(sim::Rng& rng, int64_t mean_ns) {
  // At least 1 ns so time always advances; ties that remain are ordered by seq.
  const auto d = static_cast<int64_t>(rng.exponential(static_cast<double>(mean_ns)));
  return d < 1 ? 1 : d;
}

uint64_t fold(uint64_t h, int64_t time_ns, uint32_t lp) {
  h ^= static_cast<uint64_t>(time_ns) + 0x9e3779b97f4a7c15ULL + (static_cast<uint64_t>(lp) << 32);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 29);
}

// Initial events: LP i's j-th initial event at a delay drawn from LP i's stream, scheduled in (i, j) order.
template <typename Schedule>
void seed_initial(const PholdConfig& config, std::vector<sim::Rng>& streams, Schedule&& schedule) {
  for (uint32_t lp = 0; lp < config.lps; ++lp)
    for (uint32_t j = 0; j < config.initial_events_per_lp; ++j) schedule(draw_delay(streams[lp], config.mean_delay_ns), lp);
}

class EnginePhold {
 public:
  explicit EnginePhold(const PholdConfig& config) : config_(config), streams_(make_streams(config)) {}

  PholdResult run() {
    seed_initial(config_, streams_, [this](int64_t delay, uint32_t lp) { schedule(delay, lp); });
    const auto start = WallClock::now();
    const sim::RunResult r = engine_.run_until(sim::SimTime::max(), config_.events);
    const auto stop = WallClock::now();
    PholdResult result;
    result.events = r.events_run;
    result.final_time_ns = engine_.now().ns();
    result.checksum = checksum_;
    result.wall_seconds = std::chrono::duration<double>(stop - start).count();
    return result;
  }

 private:
  void schedule(int64_t delay_ns, uint32_t lp) {
    engine_.schedule_after(sim::Duration::from_ns(delay_ns), [this, lp] { on_event(lp); });
  }
  void on_event(uint32_t lp) {
    checksum_ = fold(checksum_, engine_.now().ns(), lp);
    sim::Rng& rng = streams_[lp];
    const auto target = static_cast<uint32_t>(rng.uniform_u64(config_.lps));
    schedule(draw_delay(rng, config_.mean_delay_ns), target);
  }

  PholdConfig config_;
  std::vector<sim::Rng> streams_;
  sim::Engine engine_;
  uint64_t checksum_ = 0;
};

}  // namespace

PholdResult run_phold_engine(const PholdConfig& config) {
  KS_ASSERT_GT(config.lps, 0u);
  EnginePhold phold(config);
  return phold.run();
}

PholdResult run_phold_bare(const PholdConfig& config) {
  KS_ASSERT_GT(config.lps, 0u);
  struct Item {
    int64_t time_ns;
    uint64_t seq;
    uint32_t lp;
    bool operator>(const Item& o) const { return time_ns != o.time_ns ? time_ns > o.time_ns : seq > o.seq; }
  };
  std::vector<sim::Rng> streams = make_streams(config);
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  uint64_t seq = 0;
  int64_t now = 0;
  seed_initial(config, streams, [&](int64_t delay, uint32_t lp) { queue.push(Item{now + delay, seq++, lp}); });
  uint64_t checksum = 0;
  uint64_t executed = 0;
  const auto start = WallClock::now();
  while (executed < config.events && !queue.empty()) {
    const Item item = queue.top();
    queue.pop();
    now = item.time_ns;
    ++executed;
    checksum = fold(checksum, now, item.lp);
    sim::Rng& rng = streams[item.lp];
    const auto target = static_cast<uint32_t>(rng.uniform_u64(config.lps));
    queue.push(Item{now + draw_delay(rng, config.mean_delay_ns), seq++, target});
  }
  const auto stop = WallClock::now();
  PholdResult result;
  result.events = executed;
  result.final_time_ns = now;
  result.checksum = checksum;
  result.wall_seconds = std::chrono::duration<double>(stop - start).count();
  return result;
}

}  // namespace kafkasim::bench
