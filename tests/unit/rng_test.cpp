#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "kafkasim/sim/rng.hpp"
#include "test_support.hpp"

using kafkasim::sim::Rng;

namespace {

// Sample mean and variance of n draws.
template <typename Draw>
std::pair<double, double> moments(int n, Draw&& draw) {
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = draw();
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  return {mean, sum_sq / n - mean * mean};
}

// |observed - expected| within k standard errors, where the standard error is sd/sqrt(n).
bool within_se(double observed, double expected, double sd, int n, double k = 6.0) {
  return std::abs(observed - expected) <= k * sd / std::sqrt(static_cast<double>(n));
}

constexpr int kSamples = 400'000;

}  // namespace

TEST_CASE("xoshiro256** reproduces the reference sequence from state {1, 2, 3, 4}") {
  // Worked by hand from the algorithm: out = rotl(s1 * 5, 7) * 9, then the state update.
  // Step 1: s1 = 2 -> rotl(10, 7) * 9 = 1280 * 9 = 11520. The update leaves s1 = 0, so step 2 gives 0.
  // Step 3: s1 = (3 ^ 1) ^ (2 << 17) ^ 7 = 262149 -> 262149 * 5 * 128 * 9 = 1509978240.
  Rng rng = Rng::from_state(1, 2, 3, 4);
  CHECK(rng.next_u64() == 11520u);
  CHECK(rng.next_u64() == 0u);
  CHECK(rng.next_u64() == 1509978240u);
}

TEST_CASE("the same seed gives the same sequence; different seeds and names differ") {
  Rng a(99), b(99), c(100);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    CHECK(x == b.next_u64());
    differs |= x != c.next_u64();
  }
  CHECK(differs);
  CHECK(Rng::stream(1, "broker/0/disk/0").next_u64() == Rng::stream(1, "broker/0/disk/0").next_u64());
  CHECK(Rng::stream(1, "broker/0/disk/0").next_u64() != Rng::stream(1, "broker/0/disk/1").next_u64());
  CHECK(Rng::stream(1, "broker/0/disk/0").next_u64() != Rng::stream(2, "broker/0/disk/0").next_u64());
}

TEST_CASE("streams are independent: drawing from one never shifts another") {
  Rng disk = Rng::stream(7, "broker/1/disk/0");
  Rng net = Rng::stream(7, "broker/1/nic");
  std::vector<uint64_t> net_alone;
  {
    Rng fresh = Rng::stream(7, "broker/1/nic");
    for (int i = 0; i < 50; ++i) net_alone.push_back(fresh.next_u64());
  }
  for (int i = 0; i < 50; ++i) {
    for (int k = 0; k < i % 5; ++k) disk.exponential(3.0);  // extra draws elsewhere
    CHECK(net.next_u64() == net_alone[static_cast<size_t>(i)]);
  }
  // fork() derives from the seed, not from the position in the stream.
  Rng parent = Rng::stream(7, "broker/1");
  const uint64_t child_first = parent.fork("disk").next_u64();
  parent.next_u64();
  CHECK(parent.fork("disk").next_u64() == child_first);
}

TEST_CASE("uniform integers stay in range and are uniform (chi-square)") {
  Rng rng(5);
  constexpr int kBins = 10;
  std::vector<int> counts(kBins, 0);
  for (int i = 0; i < kSamples; ++i) {
    const int64_t v = rng.uniform_int(-3, 6);
    REQUIRE(v >= -3);
    REQUIRE(v <= 6);
    counts[static_cast<size_t>(v + 3)]++;
  }
  const double expected = kSamples / static_cast<double>(kBins);
  double chi2 = 0;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
  CHECK(chi2 < 27.88);
  CHECK(rng.uniform_u64(1) == 0u);
}

TEST_CASE("distribution moments match their closed forms") {
  Rng rng(2024);
  SUBCASE("uniform real [0,1): mean 1/2, variance 1/12") {
    auto [m, v] = moments(kSamples, [&] { return rng.next_double(); });
    CHECK(within_se(m, 0.5, std::sqrt(1.0 / 12), kSamples));
    CHECK(v == doctest::Approx(1.0 / 12).scale(0).epsilon(0.02));
  }
  SUBCASE("exponential: mean m, variance m^2") {
    auto [m, v] = moments(kSamples, [&] { return rng.exponential(4.0); });
    CHECK(within_se(m, 4.0, 4.0, kSamples));
    CHECK(v == doctest::Approx(16.0).scale(0).epsilon(0.03));
  }
  SUBCASE("normal: mean and variance") {
    auto [m, v] = moments(kSamples, [&] { return rng.normal(10.0, 2.0); });
    CHECK(within_se(m, 10.0, 2.0, kSamples));
    CHECK(v == doctest::Approx(4.0).scale(0).epsilon(0.02));
  }
  SUBCASE("lognormal: mean exp(mu + sigma^2/2), median exp(mu)") {
    const double mu = 1.0, sigma = 0.5;
    auto [m, v] = moments(kSamples, [&] { return rng.lognormal(mu, sigma); });
    const double mean = std::exp(mu + sigma * sigma / 2);
    const double var = (std::exp(sigma * sigma) - 1) * std::exp(2 * mu + sigma * sigma);
    CHECK(within_se(m, mean, std::sqrt(var), kSamples));
    CHECK(v == doctest::Approx(var).scale(0).epsilon(0.05));
    int below_median = 0;
    for (int i = 0; i < kSamples; ++i) below_median += rng.lognormal(mu, sigma) < std::exp(mu);
    CHECK(within_se(below_median / static_cast<double>(kSamples), 0.5, 0.5, kSamples));
  }
  SUBCASE("pareto: support >= scale, mean a*xm/(a-1), variance xm^2 a/((a-1)^2 (a-2))") {
    const double xm = 2.0, a = 5.0;
    double lowest = 1e9;
    auto [m, v] = moments(kSamples, [&] {
      const double x = rng.pareto(xm, a);
      lowest = std::min(lowest, x);
      return x;
    });
    const double var = xm * xm * a / ((a - 1) * (a - 1) * (a - 2));
    CHECK(lowest >= xm);
    CHECK(within_se(m, a * xm / (a - 1), std::sqrt(var), kSamples));
    CHECK(v == doctest::Approx(var).scale(0).epsilon(0.15));  // heavy tail: the sample variance converges slowly
  }
}

TEST_CASE("chance(numerator, denominator) and bernoulli hit their probability") {
  Rng rng(77);
  int hits = 0, hits_b = 0;
  for (int i = 0; i < kSamples; ++i) {
    hits += rng.chance(1, 4);
    hits_b += rng.bernoulli(0.3);
  }
  CHECK(within_se(hits / static_cast<double>(kSamples), 0.25, std::sqrt(0.25 * 0.75), kSamples));
  CHECK(within_se(hits_b / static_cast<double>(kSamples), 0.3, std::sqrt(0.3 * 0.7), kSamples));
  CHECK_FALSE(rng.chance(0, 5));
  CHECK(rng.chance(5, 5));
}

TEST_CASE("weighted choice follows the weights; zero weights are never chosen") {
  Rng rng(31);
  const std::vector<double> w = {1.0, 0.0, 3.0, 6.0};
  const std::vector<uint64_t> wi = {1, 0, 3, 6};
  std::vector<int> counts(4, 0), counts_i(4, 0);
  for (int i = 0; i < kSamples; ++i) {
    counts[rng.weighted_index(w)]++;
    counts_i[rng.weighted_index(wi)]++;
  }
  CHECK(counts[1] == 0);
  CHECK(counts_i[1] == 0);
  for (size_t k : {0u, 2u, 3u}) {
    const double p = w[k] / 10.0;
    CHECK(within_se(counts[k] / static_cast<double>(kSamples), p, std::sqrt(p * (1 - p)), kSamples));
    CHECK(within_se(counts_i[k] / static_cast<double>(kSamples), p, std::sqrt(p * (1 - p)), kSamples));
  }
}

TEST_CASE("invalid distribution parameters are bugs and are caught") {
  kafkasim::test::ThrowOnAssert guard;
  Rng rng(1);
  CHECK_THROWS(rng.uniform_u64(0));
  CHECK_THROWS(rng.uniform_int(5, 4));
  CHECK_THROWS(rng.chance(3, 2));
  CHECK_THROWS(rng.weighted_index(std::vector<double>{0.0, 0.0}));
}
