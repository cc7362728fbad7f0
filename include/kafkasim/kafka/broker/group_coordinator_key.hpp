// Which broker coordinates a consumer group (kafka-behaviour.md §5.1): the leader of partition
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions of __consumer_offsets. `hashCode` is Java's
// String.hashCode, Σ s[i]·31^(n-1-i) over the UTF-16 code units with int wraparound, and Utils.abs maps
// Integer.MIN_VALUE to 0 (GroupCoordinatorService.partitionFor).
#pragma once

#include <cstdint>
#include <string_view>

#include "kafkasim/kafka/java_hash.hpp"
#include "kafkasim/kafka/producer/record_batch.hpp"

namespace kafkasim::kafka {

inline constexpr int32_t offsets_topic_num_partitions_default = 50;      // offsets.topic.num.partitions
inline constexpr int16_t offsets_topic_replication_factor_default = 3;   // offsets.topic.replication.factor
inline constexpr const char* consumer_offsets_topic = "__consumer_offsets";

// The __consumer_offsets partition holding `group_id`'s offsets and group state; its leader is the coordinator.
int32_t offsets_partition_for(std::string_view group_id, int32_t offsets_topic_partitions);

// The record an OffsetCommit writes to __consumer_offsets for one partition of `topic` committed by `group`
// (GroupCoordinatorRecordHelpers.newOffsetCommitRecord; sizes from the schemas, names in UTF-8 bytes):
//   key, OffsetCommitKey after its record version (int16 1): group (int16 length + bytes), topic (likewise),
//     partition (int32): 10 + |group| + |topic| bytes;
//   value, OffsetCommitValue version 3 (int16): offset (int64), leader epoch (int32), metadata (int16 length, empty
//     as the Java consumer commits it), commit timestamp (int64): 24 bytes.
// [D] from the schemas; no headers.
constexpr RecordShape offset_commit_record_shape(size_t group_bytes, size_t topic_bytes) {
  return RecordShape{.key_bytes = static_cast<int32_t>(10 + group_bytes + topic_bytes),
                     .value_bytes = 24,
                     .header_count = 0,
                     .headers_bytes = 0};
}

// The bytes of `records` such records at offset deltas first_delta, first_delta + 1, ... of the batch the
// coordinator appends (CoordinatorPartitionWriter.append: one uncompressed batch, every record stamped with the same
// time, so timestamp deltas of 0); the batch adds record_batch_overhead_bytes.
int32_t offset_commit_records_bytes(int32_t first_delta, int32_t records, const RecordShape& record);

}  // namespace kafkasim::kafka
