// The producer's view of cluster metadata (what Kafka's MetadataSnapshot / Cluster give the accumulator):
// for each topic, each partition's leader node and leader epoch. The cluster layer fills it in and passes it
// to the producer state machines on every call, so they never reach into another node (STYLE.md, sans-I/O).
//
// Topics are dense indices (0..n-1) chosen by the cluster layer, partitions are Kafka partition ids.
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

// RecordMetadata.UNKNOWN_PARTITION: "let the built-in partitioner choose".
inline constexpr int32_t unknown_partition = -1;
// A partition with no known leader (Kafka's `leaderFor` returning null).
inline constexpr int32_t no_leader_node = -1;
// No leader epoch known (OptionalInt.empty()).
inline constexpr int32_t no_leader_epoch = -1;

// A topic-partition as the producer addresses it.
struct PartitionRef {
  int32_t topic = 0;
  int32_t partition = 0;
  constexpr auto operator<=>(const PartitionRef&) const = default;
};

// Bounds no sane scenario reaches on topic indices and partition ids, which are dense small integers (tables
// indexed by them, such as PartitionIndex, rely on it); exceeding them is a caller bug.
inline constexpr int32_t max_topics = 1 << 20;
inline constexpr int32_t max_partitions_per_topic = 1 << 20;

struct PartitionLeader {
  int32_t node_id = no_leader_node;
  int32_t leader_epoch = no_leader_epoch;
};

struct TopicMetadata {
  // Indexed by partition id; size() is the topic's partition count.
  std::vector<PartitionLeader> partitions;

  int32_t num_partitions() const { return static_cast<int32_t>(partitions.size()); }
  bool has_leader(int32_t partition) const { return leader_of(partition) != no_leader_node; }
  int32_t leader_of(int32_t partition) const {
    KS_ASSERT_GE(partition, 0);
    KS_ASSERT_LT(partition, num_partitions());
    return partitions[static_cast<size_t>(partition)].node_id;
  }
};

struct ProducerMetadata {
  // Indexed by topic index.
  std::vector<TopicMetadata> topics;

  bool knows_topic(int32_t topic) const { return topic >= 0 && topic < static_cast<int32_t>(topics.size()); }
  const TopicMetadata& topic(int32_t topic) const {
    KS_ASSERT(knows_topic(topic));
    return topics[static_cast<size_t>(topic)];
  }
};

}  // namespace kafkasim::kafka
