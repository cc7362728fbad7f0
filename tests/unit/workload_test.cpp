#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kafkasim/cluster/workload.hpp"

using namespace kafkasim;
using cluster::ArrivalProcess;
using cluster::KeyDistribution;
using cluster::SizeDistribution;

TEST_CASE("constant arrivals are evenly spaced without drift") {
  sim::Rng rng(1);
  ArrivalProcess a(ArrivalProcess::Kind::kConstant, 3000.0, sim::SimTime::zero());
  sim::SimTime t;
  for (int i = 0; i <= 300'000; ++i) t = a.next(rng);
  // The 300,000th gap ends at exactly 100 s (rate 3000/s), whatever 1/3000 s rounds to.
  CHECK(t == sim::SimTime::zero() + sim::Duration::from_s(100));
}

TEST_CASE("poisson arrivals: mean gap 1/rate and coefficient of variation 1") {
  sim::Rng rng(2);
  ArrivalProcess a(ArrivalProcess::Kind::kPoisson, 1000.0, sim::SimTime::zero());
  const int n = 200'000;
  double sum = 0, sum_sq = 0;
  sim::SimTime prev = sim::SimTime::zero();
  for (int i = 0; i < n; ++i) {
    const sim::SimTime t = a.next(rng);
    const double gap = (t - prev).seconds_f();
    prev = t;
    sum += gap;
    sum_sq += gap * gap;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum_sq / n - mean * mean);
  CHECK(mean == doctest::Approx(1e-3).scale(0).epsilon(0.015));  // 6 standard errors: 6/sqrt(n) = 1.3 %
  CHECK(sd / mean == doctest::Approx(1.0).scale(0).epsilon(0.02));
}

TEST_CASE("record sizes: fixed, uniform and lognormal have their closed-form means") {
  sim::Rng rng(3);
  CHECK(SizeDistribution::fixed(512).draw(rng) == 512u);
  const auto u = SizeDistribution::uniform(100, 300);
  const auto ln = SizeDistribution::lognormal(1000, 0.5, 1'000'000);
  double su = 0, sl = 0;
  const int n = 200'000;
  for (int i = 0; i < n; ++i) {
    const uint32_t x = u.draw(rng);
    REQUIRE(x >= 100u);
    REQUIRE(x <= 300u);
    su += x;
    sl += ln.draw(rng);
  }
  CHECK(su / n == doctest::Approx(200.0).scale(0).epsilon(0.005));
  CHECK(u.mean_bytes() == 200.0);
  // Lognormal mean = median * exp(sigma^2 / 2) = 1000 * e^0.125 = 1133.1.
  CHECK(ln.mean_bytes() == doctest::Approx(1133.148).scale(0).epsilon(1e-4));
  CHECK(sl / n == doctest::Approx(1133.148).scale(0).epsilon(0.01));
}

TEST_CASE("zipf keys follow 1/k^s; uniform keys are uniform") {
  sim::Rng rng(4);
  const auto z = KeyDistribution::zipf(100, 1.0);
  // H(100) = 5.18738: P(key 1) = 1/H, P(key 2) = 1/(2H).
  const double h100 = 5.187377517639621;
  CHECK(z.probability(0) == doctest::Approx(1.0 / h100).scale(0));
  CHECK(z.probability(1) == doctest::Approx(0.5 / h100).scale(0));
  std::vector<int> counts(100, 0);
  const int n = 400'000;
  for (int i = 0; i < n; ++i) counts[z.draw(rng)]++;
  for (int k : {0, 1, 9, 99}) {
    const double p = 1.0 / (k + 1) / h100;
    const double se = std::sqrt(p * (1 - p) / n);
    CHECK(std::abs(counts[static_cast<size_t>(k)] / static_cast<double>(n) - p) < 6 * se);
  }
  const auto u = KeyDistribution::uniform(10);
  std::vector<int> uc(10, 0);
  for (int i = 0; i < n; ++i) uc[u.draw(rng)]++;
  double chi2 = 0;
  for (int c : uc) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  CHECK(chi2 < 27.88);  // 9 degrees of freedom, p = 0.001
  CHECK_FALSE(KeyDistribution::none().has_keys());
  CHECK(KeyDistribution::key_bytes(42) == "key-42");
}
