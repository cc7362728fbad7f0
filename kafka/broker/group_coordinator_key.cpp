#include "kafkasim/kafka/broker/group_coordinator_key.hpp"

#include "kafkasim/kafka/java_hash.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

int32_t offsets_partition_for(std::string_view group_id, int32_t offsets_topic_partitions) {
  KS_ASSERT_GT(offsets_topic_partitions, 0);
  return java_utils_abs(java_string_hash_code(group_id)) % offsets_topic_partitions;
}

}  // namespace kafkasim::kafka
