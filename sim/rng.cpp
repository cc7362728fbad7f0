#include "kafkasim/sim/rng.hpp"

#include <cmath>
#include <numbers>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::sim {

namespace {
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang extension; marked so -Wpedantic accepts it
constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) : seed_(seed) {
  uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
  // xoshiro must not start from the all-zero state; splitmix64 never yields four zeros, but be explicit.
  KS_ASSERT((s_[0] | s_[1] | s_[2] | s_[3]) != 0);
}

Rng Rng::from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
  KS_ASSERT((s0 | s1 | s2 | s3) != 0);
  Rng rng(0);
  rng.s_[0] = s0;
  rng.s_[1] = s1;
  rng.s_[2] = s2;
  rng.s_[3] = s3;
  return rng;
}

Rng Rng::stream(uint64_t root_seed, std::string_view name) {
  uint64_t mix = root_seed ^ 0x6a09e667f3bcc909ULL;
  uint64_t a = splitmix64(mix);
  uint64_t b = fnv1a64(name);
  uint64_t combined = a ^ (b * 0x9e3779b97f4a7c15ULL);
  return Rng(splitmix64(combined));
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::uniform_u64(uint64_t bound) {
  KS_ASSERT_GT(bound, 0u);
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  uint128 m = static_cast<uint128>(next_u64()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<uint128>(next_u64()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  KS_ASSERT_LE(lo, hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(next_u64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + uniform_u64(span + 1));
}

double Rng::next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform_real(double lo, double hi) {
  KS_ASSERT_LE(lo, hi);
  return lo + (hi - lo) * next_double();
}

double Rng::exponential(double mean) {
  KS_ASSERT_GE(mean, 0.0);
  // 1 - u lies in (0, 1], so the logarithm is finite.
  return -mean * std::log(1.0 - next_double());
}

double Rng::normal(double mean, double stddev) {
  KS_ASSERT_GE(stddev, 0.0);
  const double u1 = 1.0 - next_double();  // (0, 1]
  const double u2 = next_double();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  return mean + stddev * radius * std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }

double Rng::pareto(double scale, double shape) {
  KS_ASSERT_GT(scale, 0.0);
  KS_ASSERT_GT(shape, 0.0);
  const double u = 1.0 - next_double();  // (0, 1]
  return scale / std::pow(u, 1.0 / shape);
}

bool Rng::chance(uint64_t numerator, uint64_t denominator) {
  KS_ASSERT_GT(denominator, 0u);
  KS_ASSERT_LE(numerator, denominator);
  return uniform_u64(denominator) < numerator;
}

bool Rng::bernoulli(double p) {
  KS_ASSERT_GE(p, 0.0);
  KS_ASSERT_LE(p, 1.0);
  return next_double() < p;
}

size_t Rng::weighted_index(std::span<const double> weights) {
  KS_ASSERT(!weights.empty());
  double total = 0;
  for (double w : weights) {
    KS_ASSERT_GE(w, 0.0);
    total += w;
  }
  KS_ASSERT_GT(total, 0.0);
  const double target = next_double() * total;
  double acc = 0;
  size_t last_positive = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    acc += weights[i];
    last_positive = i;
    if (target < acc) return i;
  }
  return last_positive;  // rounding left target == total
}

size_t Rng::weighted_index(std::span<const uint64_t> weights) {
  KS_ASSERT(!weights.empty());
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  KS_ASSERT_GT(total, 0u);
  uint64_t target = uniform_u64(total);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (target < weights[i]) return i;
    target -= weights[i];
  }
  KS_ASSERT_MSG(false, "unreachable: target exceeded the total weight");
  return 0;
}

}  // namespace kafkasim::sim
