#include "kafkasim/sim/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::sim {

namespace {
constexpr int64_t kHalf = int64_t{1} << Histogram::kSubBucketBits;  // 1024
constexpr int64_t kExact = kHalf * 2;                                // values below 2048 are exact
}  // namespace

size_t Histogram::bucket_index(int64_t value) {
  KS_ASSERT_GE(value, 0);
  if (value < kExact) return static_cast<size_t>(value);
  // shift b >= 1 such that value >> b lies in [1024, 2047].
  const int msb = 63 - std::countl_zero(static_cast<uint64_t>(value));
  const int shift = msb - kSubBucketBits;
  const int64_t sub = value >> shift;
  return static_cast<size_t>((shift + 1) * kHalf + (sub - kHalf));
}

int64_t Histogram::bucket_lowest(size_t index) {
  const auto i = static_cast<int64_t>(index);
  if (i < kExact) return i;
  const int64_t shift = i / kHalf - 1;
  const int64_t sub = i % kHalf + kHalf;
  return sub << shift;
}

int64_t Histogram::bucket_highest(size_t index) {
  const auto i = static_cast<int64_t>(index);
  if (i < kExact) return i;
  const int64_t shift = i / kHalf - 1;
  const int64_t sub = i % kHalf + kHalf;
  // (sub + 1) << shift can exceed int64 for the very last bucket; compute as lowest + (width - 1).
  return (sub << shift) + ((int64_t{1} << shift) - 1);
}

void Histogram::record(int64_t value, uint64_t count) {
  KS_ASSERT_GE(value, 0);
  if (count == 0) return;
  const size_t index = bucket_index(value);
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
  counts_[index] += count;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += count;
  sum_ += static_cast<double>(value) * static_cast<double>(count);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::clear() { *this = Histogram(); }

int64_t Histogram::percentile(double p) const {
  KS_ASSERT_GE(p, 0.0);
  KS_ASSERT_LE(p, 100.0);
  if (count_ == 0) return 0;
  if (p <= 0.0) return min_;
  // Nearest rank: the ceil(p/100 * N)-th smallest value.
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_highest(i), min_, max_);
  }
  return max_;
}

}  // namespace kafkasim::sim
