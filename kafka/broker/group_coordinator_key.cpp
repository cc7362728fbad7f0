#include "kafkasim/kafka/broker/group_coordinator_key.hpp"

#include <cstdint>

#include "kafkasim/kafka/java_hash.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

int32_t offsets_partition_for(std::string_view group_id, int32_t offsets_topic_partitions) {
  KS_ASSERT_GT(offsets_topic_partitions, 0);
  return java_utils_abs(java_string_hash_code(group_id)) % offsets_topic_partitions;
}

int32_t offset_commit_records_bytes(int32_t first_delta, int32_t records, const RecordShape& record) {
  KS_ASSERT_GE(first_delta, 0);
  KS_ASSERT_GT(records, 0);
  const int32_t payload = record_payload_size_bytes(record);
  int64_t bytes = 0;
  for (int32_t i = 0; i < records; ++i) bytes += record_size_in_batch_bytes(first_delta + i, 0, payload);
  KS_ASSERT_LE(bytes, int64_t{INT32_MAX});
  return static_cast<int32_t>(bytes);
}

}  // namespace kafkasim::kafka
