#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "kafkasim/sim/histogram.hpp"
#include "kafkasim/sim/rng.hpp"

using kafkasim::sim::Histogram;

TEST_CASE("histogram: small values are exact; nearest-rank percentiles of 1..100") {
  Histogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.min() == 1);
  CHECK(h.max() == 100);
  CHECK(h.mean() == doctest::Approx(50.5).scale(0));
  CHECK(h.percentile(50) == 50);   // rank ceil(0.5*100) = 50
  CHECK(h.percentile(99) == 99);
  CHECK(h.percentile(99.9) == 100);  // rank ceil(99.9) = 100
  CHECK(h.percentile(100) == 100);
  CHECK(h.percentile(0) == 1);
}

TEST_CASE("histogram: bucket boundaries are contiguous and relative error stays below 1/1024") {
  // Consecutive buckets tile the integers without gaps or overlaps.
  const size_t last = Histogram::bucket_index(INT64_MAX);
  CHECK(Histogram::bucket_highest(last) == INT64_MAX);
  for (size_t i = 1; i <= last; ++i) CHECK_EQ(Histogram::bucket_lowest(i), Histogram::bucket_highest(i - 1) + 1);
  for (int64_t v : {int64_t{0}, int64_t{2047}, int64_t{2048}, int64_t{4095}, int64_t{4096}, int64_t{1'000'000},
                    int64_t{123'456'789'012}, int64_t{1} << 62}) {
    const size_t i = Histogram::bucket_index(v);
    CHECK(Histogram::bucket_lowest(i) <= v);
    CHECK(Histogram::bucket_highest(i) >= v);
    // Any value in the bucket is reported as its highest value: the error is below v/1024 (0 below 2048).
    const double error = static_cast<double>(Histogram::bucket_highest(i) - Histogram::bucket_lowest(i));
    CHECK(error <= static_cast<double>(v) / 1024.0);
  }
}

TEST_CASE("histogram: percentiles of a large random sample match the exact order statistics within 0.1%") {
  kafkasim::sim::Rng rng(9);
  Histogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<int64_t>(rng.lognormal(14.0, 1.5));  // ~1 ms median in ns, heavy tail
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 75.0, 95.0, 99.0, 99.9}) {
    CAPTURE(p);
    const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    const int64_t exact = values[rank - 1];
    const int64_t reported = h.percentile(p);
    CHECK(reported >= exact);
    CHECK(static_cast<double>(reported - exact) <= static_cast<double>(exact) / 1024.0 + 1);
  }
  CHECK(h.max() == values.back());
  CHECK(h.min() == values.front());
}

TEST_CASE("histogram: merge equals recording everything in one") {
  Histogram a, b, all;
  for (int v = 0; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 1000);
    all.record(v * 1000);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.mean() == doctest::Approx(all.mean()).scale(0));
  for (double p : {10.0, 50.0, 90.0, 99.0}) CHECK(a.percentile(p) == all.percentile(p));
  Histogram empty;
  CHECK(empty.percentile(99) == 0);
  CHECK(empty.mean() == 0.0);
}
