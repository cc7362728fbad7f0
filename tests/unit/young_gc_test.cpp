// Tests of the young-GC model (include/kafkasim/models/young_gc.hpp). Expectations: the renewal count
// ⌊(φ + A)/E⌋ from the header's equation, and the lognormal's median and 90th percentile (the parameters
// themselves) checked on samples with binomial tolerances.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kafkasim/models/young_gc.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::models;
using sim::Duration;

TEST_CASE("young GC: a collection each time allocations fill eden, from a random initial fill") {
  constexpr uint64_t eden = 1'000'000;
  const Duration pause = Duration::from_ms(10);
  YoungGc gc(YoungGcParams(eden, pause, pause), sim::Rng::stream(7, "gc"));
  const uint64_t phi = gc.eden_used_bytes();
  CHECK(phi < eden);
  // 10,000 allocations of 1,234 bytes: ⌊(φ + 12,340,000) / 10⁶⌋ collections, each of exactly 10 ms.
  Duration total = Duration::zero();
  uint64_t triggers = 0;
  for (int i = 0; i < 10'000; ++i) {
    const Duration d = gc.allocate(1'234);
    if (d > Duration::zero()) {
      ++triggers;
      CHECK(d == pause);
    }
    total += d;
  }
  const uint64_t expected = (phi + 12'340'000) / eden;
  CHECK(gc.collections() == expected);
  CHECK(triggers == expected);
  CHECK(total == Duration::from_ns(pause.ns() * static_cast<int64_t>(expected)));
  CHECK(gc.paused_total() == total);
  CHECK(gc.longest_pause() == pause);
  CHECK(gc.eden_used_bytes() == (phi + 12'340'000) % eden);
}

TEST_CASE("young GC: one allocation larger than eden completes several collections at once") {
  YoungGc gc(YoungGcParams(1000, Duration::from_ms(1), Duration::from_ms(1)), sim::Rng::stream(1, "gc"));
  const uint64_t phi = gc.eden_used_bytes();
  const Duration d = gc.allocate(3'500);
  CHECK(gc.collections() == (phi + 3'500) / 1000);
  CHECK(d == Duration::from_ms(static_cast<int64_t>((phi + 3'500) / 1000)));
}

TEST_CASE("young GC: the initial fill is uniform over eden, so hosts do not collect in step") {
  // 4,000 streams: each quarter of eden holds about 1,000 initial fills (binomial sd ≈ 27; 5 sd bound).
  constexpr uint64_t eden = 1'000'000;
  int quarters[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4'000; ++i) {
    const YoungGc gc(YoungGcParams(eden, Duration::from_ms(1), Duration::from_ms(1)),
                     sim::Rng::stream(3, "broker/" + std::to_string(i) + "/jvm"));
    ++quarters[gc.eden_used_bytes() * 4 / eden];
  }
  for (const int q : quarters) CHECK(std::abs(q - 1'000) < 140);
}

TEST_CASE("young GC: pauses have the profile's median and 90th percentile") {
  // Median 12.5 ms and p90 21 ms, as in the bundled CPU profiles. With n = 20,000 draws the sample quantile's
  // rank has binomial sd sqrt(n·q(1−q)): 71 at the median and 42 at p90; the bounds allow 4 sd in rank,
  // turned into time through the lognormal's quantile function.
  const Duration median = Duration::from_us(12'500);
  const Duration p90 = Duration::from_ms(21);
  YoungGc gc(YoungGcParams(100, median, p90), sim::Rng::stream(11, "gc"));
  std::vector<double> ms;
  constexpr int n = 20'000;
  for (int i = 0; i < n; ++i) ms.push_back(gc.allocate(100).ms_f());  // exactly one collection each
  CHECK(gc.collections() >= static_cast<uint64_t>(n));
  std::sort(ms.begin(), ms.end());
  const double sigma = std::log(21.0 / 12.5) / 1.2815515655446004;
  // The quantile q of the lognormal is 12.5·exp(σ·z_q); at rank offsets of ±4 sd, z moves by about
  // 4·sd_rank/(n·φ(z)): ±0.0354 at the median (φ(0) = 0.399), ±0.0479 at p90 (φ(1.2816) = 0.1755).
  const double m = ms[n / 2];
  CHECK(m > 12.5 * std::exp(-sigma * 0.0354));
  CHECK(m < 12.5 * std::exp(sigma * 0.0354));
  const double q90 = ms[n * 9 / 10];
  CHECK(q90 > 12.5 * std::exp(sigma * (1.2815515655446004 - 0.0479)));
  CHECK(q90 < 12.5 * std::exp(sigma * (1.2815515655446004 + 0.0479)));
}

TEST_CASE("young GC: a p90 equal to the median gives a constant pause, and the same seed the same pauses") {
  YoungGc a(YoungGcParams(10, Duration::from_ms(5), Duration::from_ms(20)), sim::Rng::stream(5, "x"));
  YoungGc b(YoungGcParams(10, Duration::from_ms(5), Duration::from_ms(20)), sim::Rng::stream(5, "x"));
  for (int i = 0; i < 100; ++i) CHECK(a.allocate(10) == b.allocate(10));
  YoungGc c(YoungGcParams(10, Duration::from_ms(5), Duration::from_ms(5)), sim::Rng::stream(5, "x"));
  for (int i = 0; i < 100; ++i) CHECK(c.allocate(10) == Duration::from_ms(5));
}
