// A high-dynamic-range histogram of non-negative integer values (latencies in nanoseconds, sizes in bytes).
//
// Log-linear buckets in the manner of HdrHistogram: values below 2^11 are counted exactly; above, each power
// of two is split into 1024 equal sub-buckets, so every recorded value is known to within 1/1024 (< 0.1 %) of
// itself over the whole int64 range, in fixed memory (~56 K counters, allocated lazily up to the largest
// value seen). Percentiles use the nearest-rank definition and report the highest value equivalent to the
// bucket, clamped to the exact maximum; count, sum, mean, min and max are exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kafkasim::sim {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 10;  // 1024 sub-buckets per power of two

  void record(int64_t value, uint64_t count = 1);
  void merge(const Histogram& other);
  void clear();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return count_ == 0 ? 0 : max_; }
  double mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }
  // The smallest recorded value v (to bucket precision) such that at least `percentile`% of the recorded
  // values are <= v. percentile in [0, 100]; 0 gives min(), 100 gives max(). 0 when empty.
  int64_t percentile(double percentile) const;

  // The bucket of a value and the highest value in a bucket; exposed for tests.
  static size_t bucket_index(int64_t value);
  static int64_t bucket_highest(size_t index);
  static int64_t bucket_lowest(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

}  // namespace kafkasim::sim
