// Seeded random numbers with named, independent streams and our own distributions.
//
// The generator is xoshiro256** (Blackman & Vigna), seeded through splitmix64. A stream is derived from the
// root seed and a stable name ("broker/2/disk/0") by hashing the name, so each component owns its stream
// and adding a draw in one component never shifts another. No std:: distributions are used: their output
// differs between standard libraries, ours is the same everywhere for the same binary.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace kafkasim::sim {

// FNV-1a, 64 bit: a stable hash of a stream name.
constexpr uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// One step of splitmix64: advances `state` and returns a well-mixed value.
constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // The stream called `name` under `root_seed`. Equal (root, name) pairs give equal sequences.
  static Rng stream(uint64_t root_seed, std::string_view name);
  // A child stream of this stream's seed: `Rng::stream(seed(), name)`. Does not draw from this stream.
  Rng fork(std::string_view name) const { return stream(seed_, name); }
  uint64_t seed() const { return seed_; }
  // A generator in the given raw xoshiro256** state (not all zero); for conformance tests.
  static Rng from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);

  uint64_t next_u64();
  // Uniform in [0, bound), unbiased (Lemire's multiply-and-reject). bound > 0.
  uint64_t uniform_u64(uint64_t bound);
  // Uniform integer in [lo, hi], both inclusive.
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double next_double();
  // Uniform in [lo, hi).
  double uniform_real(double lo, double hi);
  // Exponential with the given mean (inverse transform on (0, 1]).
  double exponential(double mean);
  // Normal by the Box-Muller transform (two uniforms a draw, nothing cached between draws).
  double normal(double mean, double stddev);
  // exp(N(mu, sigma)): the median is exp(mu).
  double lognormal(double mu, double sigma);
  // Pareto type I: P(X > x) = (scale / x)^shape for x >= scale. Mean = shape*scale/(shape-1) for shape > 1.
  double pareto(double scale, double shape);
  // True with probability numerator/denominator, exactly (integer comparison, no floating point).
  bool chance(uint64_t numerator, uint64_t denominator);
  // True with probability p, 0 <= p <= 1.
  bool bernoulli(double p);
  // An index i with probability weights[i] / sum(weights). Weights are >= 0 and not all zero.
  size_t weighted_index(std::span<const double> weights);
  size_t weighted_index(std::span<const uint64_t> weights);

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace kafkasim::sim
