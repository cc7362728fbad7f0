#include "kafkasim/kafka/producer/record_batch.hpp"

#include <algorithm>

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

}  // namespace kafkasim::kafka
