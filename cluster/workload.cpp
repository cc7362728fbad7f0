#include "kafkasim/cluster/workload.hpp"

#include <algorithm>
#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

ArrivalProcess::ArrivalProcess(Kind kind, double records_per_s, sim::SimTime start)
    : kind_(kind), rate_(records_per_s), start_(start), last_(start) {
  KS_ASSERT_GT(records_per_s, 0.0);
}

sim::SimTime ArrivalProcess::next(sim::Rng& rng) {
  if (kind_ != Kind::kPoisson) {
    // The k-th record at start + k/rate, rounded once: evenly spaced without accumulating rounding error.
    const double at_s = static_cast<double>(count_++) / rate_;
    return start_ + sim::Duration::from_seconds_f(at_s);
  }
  last_ = last_ + sim::Duration::from_seconds_f(rng.exponential(1.0 / rate_));
  return last_;
}

SizeDistribution SizeDistribution::fixed(uint32_t bytes) {
  SizeDistribution d;
  d.kind_ = Kind::kFixed;
  d.a_ = bytes;
  return d;
}

SizeDistribution SizeDistribution::uniform(uint32_t min_bytes, uint32_t max_bytes) {
  KS_ASSERT_LE(min_bytes, max_bytes);
  SizeDistribution d;
  d.kind_ = Kind::kUniform;
  d.a_ = min_bytes;
  d.b_ = max_bytes;
  return d;
}

SizeDistribution SizeDistribution::lognormal(uint32_t median_bytes, double sigma, uint32_t max_bytes) {
  KS_ASSERT_GT(median_bytes, 0u);
  KS_ASSERT_GE(sigma, 0.0);
  KS_ASSERT_GE(max_bytes, 1u);
  SizeDistribution d;
  d.kind_ = Kind::kLognormal;
  d.a_ = median_bytes;
  d.b_ = max_bytes;
  d.sigma_ = sigma;
  return d;
}

uint32_t SizeDistribution::draw(sim::Rng& rng) const {
  switch (kind_) {
    case Kind::kFixed: return a_;
    case Kind::kUniform: return static_cast<uint32_t>(rng.uniform_int(a_, b_));
    case Kind::kLognormal: {
      const double v = rng.lognormal(std::log(static_cast<double>(a_)), sigma_);
      return static_cast<uint32_t>(std::clamp(std::llround(v), 1LL, static_cast<long long>(b_)));
    }
  }
  return a_;
}

double SizeDistribution::mean_bytes() const {
  switch (kind_) {
    case Kind::kFixed: return a_;
    case Kind::kUniform: return (static_cast<double>(a_) + b_) / 2.0;
    case Kind::kLognormal: return static_cast<double>(a_) * std::exp(sigma_ * sigma_ / 2.0);
  }
  return a_;
}

KeyDistribution KeyDistribution::none() { return KeyDistribution(); }

KeyDistribution KeyDistribution::uniform(uint32_t keys) {
  KS_ASSERT_GT(keys, 0u);
  KeyDistribution d;
  d.kind_ = Kind::kUniform;
  d.keys_ = keys;
  return d;
}

KeyDistribution KeyDistribution::zipf(uint32_t keys, double exponent) {
  KS_ASSERT_GT(keys, 0u);
  KS_ASSERT_LE(keys, 10'000'000u);  // the CDF table is 8 bytes a key
  KS_ASSERT_GE(exponent, 0.0);
  KeyDistribution d;
  d.kind_ = Kind::kZipf;
  d.keys_ = keys;
  d.exponent_ = exponent;
  d.cdf_.resize(keys);
  double total = 0;
  for (uint32_t k = 0; k < keys; ++k) {
    total += 1.0 / std::pow(static_cast<double>(k + 1), exponent);
    d.cdf_[k] = total;
  }
  for (double& c : d.cdf_) c /= total;
  d.cdf_.back() = 1.0;
  return d;
}

uint32_t KeyDistribution::draw(sim::Rng& rng) const {
  KS_ASSERT(has_keys());
  if (kind_ == Kind::kUniform) return static_cast<uint32_t>(rng.uniform_u64(keys_));
  const double u = rng.next_double();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<uint32_t>(std::min<size_t>(static_cast<size_t>(it - cdf_.begin()), keys_ - 1));
}

std::string KeyDistribution::key_bytes(uint32_t index) { return "key-" + std::to_string(index); }

double KeyDistribution::probability(uint32_t index) const {
  KS_ASSERT(has_keys());
  KS_ASSERT_LT(index, keys_);
  if (kind_ == Kind::kUniform) return 1.0 / keys_;
  return index == 0 ? cdf_[0] : cdf_[index] - cdf_[index - 1];
}

}  // namespace kafkasim::cluster
