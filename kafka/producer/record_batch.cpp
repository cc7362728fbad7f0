#include "kafkasim/kafka/producer/record_batch.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

int64_t uniform_batch_size_bytes(int32_t record_count, const RecordShape& shape) {
  KS_ASSERT_GE(record_count, 0);
  int64_t total_bytes = record_batch_overhead_bytes;
  for (int32_t offset_delta = 0; offset_delta < record_count; ++offset_delta)
    total_bytes += record_size_in_batch_bytes(offset_delta, 0, shape);
  return total_bytes;
}

float update_compression_ratio_estimate(float current_estimate, float observed_ratio) {
  KS_ASSERT_GT(current_estimate, 0.0f);
  KS_ASSERT_GT(observed_ratio, 0.0f);
  if (observed_ratio > current_estimate)
    return std::max(current_estimate + compression_ratio_deteriorate_step, observed_ratio);
  if (observed_ratio < current_estimate)
    return std::max(current_estimate - compression_ratio_improving_step, observed_ratio);
  return current_estimate;
}

CompressionCurve::CompressionCurve(double ratio) : uncompressed_{1.0}, ratios_{ratio}, compressed_{ratio} {
  KS_ASSERT_GT(ratio, 0.0);
}

std::string CompressionCurve::curve_points_error(const std::vector<std::pair<double, double>>& points) {
  if (points.empty()) return "at least one point";
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [u, r] = points[i];
    if (!(std::isfinite(u) && u > 0)) return "a positive uncompressed size in point " + std::to_string(i);
    if (!(std::isfinite(r) && r > 0)) return "a positive ratio in point " + std::to_string(i);
    if (i == 0) continue;
    const auto [pu, pr] = points[i - 1];
    if (!(u > pu)) return "uncompressed sizes that increase from point to point (point " + std::to_string(i) + ")";
    if (!(u * r > pu * pr))
      return "compressed sizes (uncompressed x ratio) that increase from point to point (point " + std::to_string(i) +
             ": " + std::to_string(u * r) + " B after " + std::to_string(pu * pr) + " B)";
  }
  return "";
}

CompressionCurve::CompressionCurve(const std::vector<std::pair<double, double>>& points) {
  KS_ASSERT_MSG(curve_points_error(points).empty(), curve_points_error(points));
  for (const auto& [u, r] : points) {
    uncompressed_.push_back(u);
    ratios_.push_back(r);
    compressed_.push_back(u * r);
  }
}

double CompressionCurve::compressed_at(double u) const {
  if (u <= uncompressed_.front()) return u * ratios_.front();
  if (u >= uncompressed_.back()) return u * ratios_.back();
  // The segment [u_i, u_i+1) holding u; a curve has a dozen points at most, so a scan does.
  size_t i = 0;
  while (uncompressed_[i + 1] <= u) ++i;
  const double f = (u - uncompressed_[i]) / (uncompressed_[i + 1] - uncompressed_[i]);
  return compressed_[i] + f * (compressed_[i + 1] - compressed_[i]);
}

int64_t CompressionCurve::compressed_bytes(int64_t uncompressed_bytes) const {
  KS_ASSERT_GE(uncompressed_bytes, int64_t{0});
  return std::llround(compressed_at(static_cast<double>(uncompressed_bytes)));
}

double CompressionCurve::ratio_at(int64_t uncompressed_bytes) const {
  KS_ASSERT_GT(uncompressed_bytes, int64_t{0});
  const auto u = static_cast<double>(uncompressed_bytes);
  // Outside the points the ratio is an end point's, exactly (not c/u, which may differ in the last bit).
  if (u <= uncompressed_.front()) return ratios_.front();
  if (u >= uncompressed_.back()) return ratios_.back();
  return compressed_at(u) / u;
}

int64_t CompressionCurve::uncompressed_bytes(int64_t compressed_bytes) const {
  KS_ASSERT_GE(compressed_bytes, int64_t{0});
  const auto c = static_cast<double>(compressed_bytes);
  if (c <= compressed_.front()) return std::llround(c / ratios_.front());
  if (c >= compressed_.back()) return std::llround(c / ratios_.back());
  size_t i = 0;
  while (compressed_[i + 1] <= c) ++i;
  const double f = (c - compressed_[i]) / (compressed_[i + 1] - compressed_[i]);
  return std::llround(uncompressed_[i] + f * (uncompressed_[i + 1] - uncompressed_[i]));
}

}  // namespace kafkasim::kafka
