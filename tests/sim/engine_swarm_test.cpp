// Seeded swarms against the engine: random mixes of schedule / cancel / reschedule-from-inside-events,
// checked after every event against a reference model kept in a plain sorted container.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench/phold.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim::sim;

namespace {

// The reference: pending events keyed by (time, seq) — the order the engine promises.
struct Swarm {
  explicit Swarm(uint64_t seed) : rng(Rng::stream(seed, "swarm")) {}

  void schedule_random() {
    const auto delay = Duration::from_ns(static_cast<int64_t>(rng.uniform_u64(4)) * 1000);  // many ties
    const uint64_t seq = engine.events_scheduled();
    const SimTime at = engine.now() + delay;
    const uint64_t token = next_token++;
    const EventId id = engine.schedule_at(at, [this, at, seq, token] { on_event(at, seq, token); });
    expected.emplace(std::make_pair(at.ns(), seq), token);
    ids.emplace(token, std::make_pair(id, std::make_pair(at.ns(), seq)));
  }

  void cancel_random() {
    if (ids.empty()) return;
    auto it = ids.begin();
    std::advance(it, static_cast<long>(rng.uniform_u64(ids.size())));
    REQUIRE(engine.cancel(it->second.first));
    CHECK_FALSE(engine.cancel(it->second.first));
    expected.erase(it->second.second);
    cancelled.insert(it->first);
    ids.erase(it);
  }

  void on_event(SimTime at, uint64_t seq, uint64_t token) {
    // Invariants after every event: it was the earliest pending (time, seq), it was not cancelled, the
    // clock equals its time and never went back.
    REQUIRE_FALSE(expected.empty());
    CHECK(expected.begin()->first == std::make_pair(at.ns(), seq));
    CHECK(expected.begin()->second == token);
    CHECK(cancelled.count(token) == 0);
    CHECK(engine.now() == at);
    CHECK(at >= last_time);
    last_time = at;
    expected.erase(expected.begin());
    ids.erase(token);
    ++fired;
    // Act: schedule 0..2 more, maybe cancel one.
    const uint64_t more = rng.uniform_u64(3);
    for (uint64_t i = 0; i < more && budget > 0; ++i, --budget) schedule_random();
    if (rng.chance(1, 4)) cancel_random();
    CHECK(engine.events_pending() == expected.size());
  }

  Rng rng;
  Engine engine;
  std::map<std::pair<int64_t, uint64_t>, uint64_t> expected;
  std::map<uint64_t, std::pair<EventId, std::pair<int64_t, uint64_t>>> ids;
  std::set<uint64_t> cancelled;
  uint64_t next_token = 0;
  uint64_t fired = 0;
  int64_t budget = 3000;
  SimTime last_time = SimTime::zero();
};

}  // namespace

TEST_CASE("engine swarm: 200 seeds of random schedule/cancel keep (time, seq) order and cancel semantics") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    Swarm swarm(seed);
    for (int i = 0; i < 50; ++i) swarm.schedule_random();
    for (int i = 0; i < 10; ++i) swarm.cancel_random();
    const RunResult r = swarm.engine.run_until(SimTime::max());
    CHECK(r.reason == StopReason::kDrained);
    CHECK(swarm.expected.empty());
    CHECK(swarm.fired + swarm.cancelled.size() == swarm.next_token);
    CHECK(swarm.engine.events_executed() == swarm.fired);
  }
}

TEST_CASE("engine swarm: the same seed gives the same trace hash, another seed another") {
  auto run = [](uint64_t seed) {
    Swarm swarm(seed);
    for (int i = 0; i < 50; ++i) swarm.schedule_random();
    swarm.engine.run_until(SimTime::max());
    return std::make_pair(swarm.engine.trace_hash(), swarm.fired);
  };
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    CHECK(run(seed) == run(seed));
    CHECK(run(seed).first != run(seed + 1000).first);
  }
}

TEST_CASE("PHOLD on the engine executes exactly the sequence of an independent bare priority-queue loop") {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    CAPTURE(seed);
    kafkasim::bench::PholdConfig config;
    config.lps = 64;
    config.initial_events_per_lp = 4;
    config.events = 50'000;
    config.seed = seed;
    const auto engine = kafkasim::bench::run_phold_engine(config);
    const auto bare = kafkasim::bench::run_phold_bare(config);
    CHECK(engine.events == config.events);
    CHECK(engine.checksum == bare.checksum);
    CHECK(engine.final_time_ns == bare.final_time_ns);
    // Each LP's delays have mean 1 ms and the population is E*N events, so the simulated time reached is
    // about M / (E*N) mean delays: 50,000 / 256 * 1 ms = 195 ms (law of large numbers; wide band).
    CHECK(engine.final_time_ns > 150'000'000);
    CHECK(engine.final_time_ns < 250'000'000);
  }
}
