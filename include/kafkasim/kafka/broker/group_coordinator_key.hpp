// Which broker coordinates a consumer group (kafka-behaviour.md §5.1): the leader of partition
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions of __consumer_offsets. `hashCode` is Java's
// String.hashCode, Σ s[i]·31^(n-1-i) over the UTF-16 code units with int wraparound, and Utils.abs maps
// Integer.MIN_VALUE to 0 (GroupCoordinatorService.partitionFor).
#pragma once

#include <cstdint>
#include <string_view>

#include "kafkasim/kafka/java_hash.hpp"

namespace kafkasim::kafka {

inline constexpr int32_t offsets_topic_num_partitions_default = 50;      // offsets.topic.num.partitions
inline constexpr int16_t offsets_topic_replication_factor_default = 3;   // offsets.topic.replication.factor
inline constexpr const char* consumer_offsets_topic = "__consumer_offsets";

// The __consumer_offsets partition holding `group_id`'s offsets and group state; its leader is the coordinator.
int32_t offsets_partition_for(std::string_view group_id, int32_t offsets_topic_partitions);

}  // namespace kafkasim::kafka
