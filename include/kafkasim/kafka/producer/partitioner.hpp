// Built-in uniform sticky partitioner with adaptive partitioning (KIP-794; clients/.../producer/internals/
// BuiltInPartitioner.java; reference/kafka-behaviour.md §1.4). One instance per topic, used for records without
// a key (or all records when partitioner.ignore.keys=true).
//
// Sticky: all unkeyed records go to one partition until about batch.size bytes were produced to it, then a new
// partition is drawn. The switch happens once `produced_bytes >= batch.size` and the partition's last batch is
// full (so batches are not cut short), or unconditionally at `2 * batch.size`.
//
// Adaptive (partitioner.adaptive.partitioning.enable): the new partition is drawn with probability proportional
// to `max_queue + 1 - queue_size` over the partitions with a leader, where queue_size is the number of batches
// queued for it in the accumulator. With equal queues (and nothing excluded) the draw is uniform over the
// partitions that have a leader.
//
// Sans-I/O: the random draws come from the caller's sim::Rng (Kafka uses an unseeded ThreadLocalRandom, §8.3).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kafkasim/kafka/producer/producer_config.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/rng.hpp"

namespace kafkasim::kafka {

class BuiltInPartitioner {
 public:
  // `sticky_batch_size_bytes` is batch.size (>= 1).
  explicit BuiltInPartitioner(int32_t sticky_batch_size_bytes);

  // peekCurrentPartitionInfo: the current sticky partition, drawing the first one lazily.
  int32_t current_partition(const TopicMetadata& topic, sim::Rng& rng);
  // Bytes produced to the current sticky partition since it was chosen.
  int32_t produced_bytes() const { return produced_bytes_; }
  bool has_current_partition() const { return current_partition_ != unknown_partition; }

  // updatePartitionInfo: account `appended_bytes` to the current partition and switch when enough was produced.
  // `enable_switch` is false while the partition's last batch is not full. Returns true if it switched (the new
  // partition may by chance equal the old one; the produced bytes restart at 0 either way).
  bool update_partition_info(int32_t appended_bytes, bool enable_switch, const TopicMetadata& topic,
                             sim::Rng& rng);
  // update_partition_info for an append that does not switch (would_switch(appended_bytes, enable_switch) is
  // false), which needs neither the topic nor the Rng.
  void count_appended_bytes(int32_t appended_bytes) {
    KS_ASSERT_GE(appended_bytes, 0);
    KS_ASSERT(has_current_partition());
    produced_bytes_ += appended_bytes;
  }
  // Whether update_partition_info with these arguments would draw a new partition (after `produced_bytes`
  // since the current partition was chosen; the first form uses the partitioner's own count).
  bool would_switch(int32_t appended_bytes, bool enable_switch) const {
    return would_switch(produced_bytes_, appended_bytes, enable_switch);
  }
  bool would_switch(int64_t produced_bytes, int32_t appended_bytes, bool enable_switch) const {
    // KIP-794: switch after batch.size bytes, but only on a batch boundary (enable_switch) unless twice batch.size
    // was produced, which caps the stickiness when an unready batch disabled the switch.
    const int64_t produced = produced_bytes + appended_bytes;
    const int64_t sticky = sticky_batch_size_bytes_;
    return (produced >= sticky && enable_switch) || produced >= 2 * sticky;
  }
  int32_t current_partition_or_unknown() const { return current_partition_; }

  // updatePartitionLoadStats. `queue_sizes` has one entry per partition deque of the topic (its size() is the
  // "all partitions" count); only the first `length` entries are used (partitions without a leader, or
  // excluded by partitioner.availability.timeout.ms, are left out). `partition_ids[i]` is the partition of
  // `queue_sizes[i]`.
  void update_partition_load_stats(std::span<const int32_t> queue_sizes, std::span<const int32_t> partition_ids,
                                   size_t length);
  // updatePartitionLoadStats(null, ...): adaptive partitioning off, or not every partition has a deque yet.
  void clear_partition_load_stats() { load_stats_length_ = 0; }

  // The cumulative frequency table of the load stats; empty when the choice is uniform.
  std::span<const int32_t> cumulative_frequency_table() const {
    return {cumulative_frequency_table_.data(), load_stats_length_};
  }
  std::span<const int32_t> load_stats_partition_ids() const {
    return {load_stats_partition_ids_.data(), load_stats_length_};
  }

  // nextPartition: a new partition, uniform over the partitions with a leader (all partitions if none has
  // one), or weighted by the load stats when they exist.
  int32_t next_partition(const TopicMetadata& topic, sim::Rng& rng) const;

 private:
  int32_t sticky_batch_size_bytes_;
  int32_t current_partition_ = unknown_partition;
  int32_t produced_bytes_ = 0;
  // PartitionLoadStats; length 0 means "no stats" (Kafka's null).
  std::vector<int32_t> cumulative_frequency_table_;
  std::vector<int32_t> load_stats_partition_ids_;
  size_t load_stats_length_ = 0;
};

// KafkaProducer.partition() without a custom partitioner.class: an explicit partition wins; else a key (unless
// partitioner.ignore.keys) hashes over all `num_partitions`; else unknown_partition, and the accumulator's sticky
// partitioner chooses (§1.2 step 3).
int32_t choose_partition(const ProducerConfig& config, std::optional<int32_t> explicit_partition,
                         std::optional<std::span<const uint8_t>> key, int32_t num_partitions);

// Utils.toPositive(ThreadLocalRandom.nextInt()): a uniform non-negative int32 from the stream.
int32_t random_positive_int(sim::Rng& rng);

}  // namespace kafkasim::kafka
