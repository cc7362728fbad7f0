#include "kafkasim/kafka/producer/partitioner.hpp"

#include <algorithm>

#include "kafkasim/kafka/producer/murmur2.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

int32_t random_positive_int(sim::Rng& rng) {
  // The high 32 bits of the generator's output, read as a Java int, then toPositive.
  return to_positive(static_cast<int32_t>(static_cast<uint32_t>(rng.next_u64() >> 32)));
}

int32_t choose_partition(const ProducerConfig& config, std::optional<int32_t> explicit_partition,
                         std::optional<std::span<const uint8_t>> key, int32_t num_partitions) {
  KS_ASSERT_GT(num_partitions, 0);
  if (explicit_partition) {
    KS_ASSERT_GE(*explicit_partition, 0);
    KS_ASSERT_LT(*explicit_partition, num_partitions);
    return *explicit_partition;
  }
  if (key && !config.partitioner_ignore_keys) return keyed_partition(*key, num_partitions);
  return unknown_partition;
}

BuiltInPartitioner::BuiltInPartitioner(int32_t sticky_batch_size_bytes)
    : sticky_batch_size_bytes_(sticky_batch_size_bytes) {
  // BuiltInPartitioner's constructor rejects stickyBatchSize < 1; ProducerConfig maps batch.size=0 to 1.
  KS_ASSERT_GE(sticky_batch_size_bytes, 1);
}

int32_t BuiltInPartitioner::current_partition(const TopicMetadata& topic, sim::Rng& rng) {
  if (current_partition_ == unknown_partition) {
    current_partition_ = next_partition(topic, rng);
    produced_bytes_ = 0;
  }
  KS_ASSERT_GE(current_partition_, 0);
  return current_partition_;
}

bool BuiltInPartitioner::update_partition_info(int32_t appended_bytes, bool enable_switch,
                                               const TopicMetadata& topic, sim::Rng& rng) {
  KS_ASSERT_GE(appended_bytes, 0);
  KS_ASSERT(has_current_partition());
  const bool switch_now = would_switch(appended_bytes, enable_switch);
  produced_bytes_ += appended_bytes;
  if (switch_now) {
    current_partition_ = next_partition(topic, rng);
    produced_bytes_ = 0;
    return true;
  }
  return false;
}

void BuiltInPartitioner::update_partition_load_stats(std::span<const int32_t> queue_sizes,
                                                     std::span<const int32_t> partition_ids, size_t length) {
  KS_ASSERT_EQ(queue_sizes.size(), partition_ids.size());
  KS_ASSERT_LE(length, queue_sizes.size());
  // Fewer than 2 partitions in all, or none left after exclusions: nothing to adapt.
  if (length < 1 || queue_sizes.size() < 2) {
    load_stats_length_ = 0;
    return;
  }
  int32_t max_size_plus_1 = queue_sizes[0];
  bool all_equal = true;
  for (size_t i = 1; i < length; ++i) {
    if (queue_sizes[i] != max_size_plus_1) all_equal = false;
    max_size_plus_1 = std::max(max_size_plus_1, queue_sizes[i]);
  }
  ++max_size_plus_1;
  // Equal queues and nothing excluded: uniform choice is the same distribution and cheaper.
  if (all_equal && length == queue_sizes.size()) {
    load_stats_length_ = 0;
    return;
  }
  // Invert the queue sizes (a longer queue gets a smaller weight, but never zero) and fold them into a running
  // sum: a uniform draw in [0, CFT[last]) then picks partition i with probability weight_i / CFT[last].
  cumulative_frequency_table_.resize(length);
  load_stats_partition_ids_.resize(length);
  int32_t running = 0;
  for (size_t i = 0; i < length; ++i) {
    KS_ASSERT_GE(queue_sizes[i], 0);
    running += max_size_plus_1 - queue_sizes[i];
    cumulative_frequency_table_[i] = running;
    load_stats_partition_ids_[i] = partition_ids[i];
  }
  load_stats_length_ = length;
  KS_ASSERT_GT(cumulative_frequency_table_[length - 1], 0);
}

int32_t BuiltInPartitioner::next_partition(const TopicMetadata& topic, sim::Rng& rng) const {
  KS_ASSERT_GT(topic.num_partitions(), 0);
  const int32_t random = random_positive_int(rng);
  if (load_stats_length_ == 0) {
    // availablePartitionsForTopic: the partitions that have a leader, in partition order.
    int32_t available = 0;
    for (int32_t p = 0; p < topic.num_partitions(); ++p)
      if (topic.has_leader(p)) ++available;
    if (available == 0) return random % topic.num_partitions();
    int32_t wanted = random % available;
    for (int32_t p = 0; p < topic.num_partitions(); ++p) {
      if (!topic.has_leader(p)) continue;
      if (wanted == 0) return p;
      --wanted;
    }
    sim::assert_failed("BuiltInPartitioner: an available partition was counted but not found");
  }
  const int32_t weighted_random = random % cumulative_frequency_table_[load_stats_length_ - 1];
  // The first entry strictly greater than the draw (Kafka: abs(binarySearch(...) + 1)).
  const auto begin = cumulative_frequency_table_.begin();
  const auto it = std::upper_bound(begin, begin + static_cast<std::ptrdiff_t>(load_stats_length_), weighted_random);
  const auto index = static_cast<size_t>(it - begin);
  KS_ASSERT_LT(index, load_stats_length_);
  return load_stats_partition_ids_[index];
}

}  // namespace kafkasim::kafka
