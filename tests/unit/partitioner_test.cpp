// Key hashing (murmur2 test vectors from Kafka's UtilsTest, reference/kafka-behaviour.md §1.3) and the built-in
// sticky partitioner (KIP-794, §1.4). Distribution checks use closed-form expectations: uniform 1/n, or the
// KIP's weights max_queue + 1 - queue_size.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kafkasim/kafka/producer/murmur2.hpp"
#include "kafkasim/kafka/producer/partitioner.hpp"
#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;

namespace {

TopicMetadata topic_with_leaders(std::vector<int32_t> leaders) {
  TopicMetadata topic;
  for (int32_t node : leaders) topic.partitions.push_back({node, 0});
  return topic;
}

// Pearson's chi-square statistic of observed counts against expected counts.
double chi_square(const std::vector<int64_t>& observed, const std::vector<double>& expected) {
  double sum = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double d = static_cast<double>(observed[i]) - expected[i];
    sum += d * d / expected[i];
  }
  return sum;
}

}  // namespace

TEST_CASE("murmur2 matches Kafka's UtilsTest vectors and partition table") {
  struct Vector {
    std::string_view key;
    int32_t hash;
    int32_t p3, p6, p50;
  };
  const std::array<Vector, 5> vectors{{
      {"21", -973932308, 0, 0, 40},
      {"foobar", -790332482, 0, 0, 16},
      {"a-little-bit-long-string", -985981536, 2, 2, 12},
      {"a-little-bit-longer-string", -1486304829, 2, 5, 19},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 2, 5, 27},
  }};
  for (const Vector& v : vectors) {
    CAPTURE(v.key);
    CHECK(murmur2(v.key) == v.hash);
    CHECK(keyed_partition(v.key, 3) == v.p3);
    CHECK(keyed_partition(v.key, 6) == v.p6);
    CHECK(keyed_partition(v.key, 50) == v.p50);
  }
  const std::array<uint8_t, 3> abc{'a', 'b', 'c'};
  CHECK(murmur2(std::span<const uint8_t>(abc)) == 479470107);
  CHECK(keyed_partition(std::span<const uint8_t>(abc), 3) == 0);
  CHECK(keyed_partition(std::span<const uint8_t>(abc), 6) == 3);
  CHECK(keyed_partition(std::span<const uint8_t>(abc), 50) == 7);
}

TEST_CASE("to_positive masks the sign bit; it is not abs") {
  CHECK(to_positive(5) == 5);
  CHECK(to_positive(-1) == 0x7fffffff);
  CHECK(to_positive(INT32_MIN) == 0);
  CHECK(to_positive(-973932308) == -973932308 + 0x80000000LL);
}

TEST_CASE("sticky partition switches exactly once batch.size bytes were produced") {
  const TopicMetadata topic = topic_with_leaders({1, 2, 3, 4, 5, 6, 7, 8});
  sim::Rng rng = sim::Rng::stream(42, "partitioner");
  BuiltInPartitioner partitioner(1000);
  partitioner.current_partition(topic, rng);
  // 3 x 300 = 900 < 1000: no switch.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(partitioner.update_partition_info(300, true, topic, rng));
  CHECK(partitioner.produced_bytes() == 900);
  // The 4th append brings 1200 >= 1000 with the switch enabled: switch, and the count restarts.
  CHECK(partitioner.update_partition_info(300, true, topic, rng));
  CHECK(partitioner.produced_bytes() == 0);
  // Exactly batch.size also switches (>=).
  CHECK_FALSE(partitioner.update_partition_info(999, true, topic, rng));
  CHECK(partitioner.update_partition_info(1, true, topic, rng));
}

TEST_CASE("with the switch disabled (incomplete batch) the partition sticks until 2 x batch.size") {
  const TopicMetadata topic = topic_with_leaders({1, 2, 3});
  sim::Rng rng = sim::Rng::stream(43, "partitioner");
  BuiltInPartitioner partitioner(1000);
  partitioner.current_partition(topic, rng);
  // 6 x 300 = 1800 < 2000: no switch although past batch.size.
  for (int i = 0; i < 6; ++i) CHECK_FALSE(partitioner.update_partition_info(300, false, topic, rng));
  // 2100 >= 2000: forced switch.
  CHECK(partitioner.update_partition_info(300, false, topic, rng));
  // A disabled switch completes as soon as the last batch is full (an update of 0 bytes with the switch on).
  CHECK_FALSE(partitioner.update_partition_info(1500, false, topic, rng));
  CHECK(partitioner.update_partition_info(0, true, topic, rng));
}

TEST_CASE("without load stats the choice is uniform over partitions with a leader") {
  // 6 partitions; partition 4 has no leader and must never be chosen; the other 5 get 1/5 each.
  const TopicMetadata topic = topic_with_leaders({1, 2, 3, 1, no_leader_node, 3});
  sim::Rng rng = sim::Rng::stream(7, "uniform");
  BuiltInPartitioner partitioner(16384);
  constexpr int64_t draws = 50'000;
  std::vector<int64_t> counts(6, 0);
  for (int64_t i = 0; i < draws; ++i) ++counts[static_cast<size_t>(partitioner.next_partition(topic, rng))];
  CHECK(counts[4] == 0);
  const std::vector<int64_t> observed{counts[0], counts[1], counts[2], counts[3], counts[5]};
  const std::vector<double> expected(5, static_cast<double>(draws) / 5.0);
  // 4 degrees of freedom: the 0.999 quantile of chi-square is 18.47.
  CHECK(chi_square(observed, expected) < 18.47);

  // With no leader anywhere Kafka falls back to all partitions.
  const TopicMetadata leaderless = topic_with_leaders({no_leader_node, no_leader_node});
  std::vector<int64_t> fallback(2, 0);
  for (int i = 0; i < 1000; ++i) ++fallback[static_cast<size_t>(partitioner.next_partition(leaderless, rng))];
  CHECK(fallback[0] > 0);
  CHECK(fallback[1] > 0);
}

TEST_CASE("adaptive partitioning: BuiltInPartitionerTest.adaptivePartitionsTest weights") {
  // Queue sizes {5,0,3,0,1} -> weights max+1-q = {1,6,3,6,5} -> CFT {1,7,10,16,21} (§1.4).
  const TopicMetadata topic = topic_with_leaders({1, 1, 1, 1, 1});
  BuiltInPartitioner partitioner(16384);
  const std::vector<int32_t> queue_sizes{5, 0, 3, 0, 1};
  const std::vector<int32_t> ids{0, 1, 2, 3, 4};
  partitioner.update_partition_load_stats(queue_sizes, ids, 5);
  const auto cft = partitioner.cumulative_frequency_table();
  REQUIRE(cft.size() == 5);
  CHECK(cft[0] == 1);
  CHECK(cft[1] == 7);
  CHECK(cft[2] == 10);
  CHECK(cft[3] == 16);
  CHECK(cft[4] == 21);

  sim::Rng rng = sim::Rng::stream(11, "adaptive");
  constexpr int64_t draws = 210'000;
  std::vector<int64_t> counts(5, 0);
  for (int64_t i = 0; i < draws; ++i) ++counts[static_cast<size_t>(partitioner.next_partition(topic, rng))];
  const std::vector<double> weights{1, 6, 3, 6, 5};
  std::vector<double> expected;
  for (double w : weights) expected.push_back(static_cast<double>(draws) * w / 21.0);
  CHECK(chi_square(counts, expected) < 18.47);  // 4 degrees of freedom, 0.999 quantile
  // The long queue (5 batches) gets 1/21 of the new partitions.
  CHECK(static_cast<double>(counts[0]) / draws == doctest::Approx(1.0 / 21.0).scale(0).epsilon(0.05));
}

TEST_CASE("adaptive stats fall back to uniform when queues are equal or there is one partition") {
  BuiltInPartitioner partitioner(16384);
  const std::vector<int32_t> equal{2, 2, 2};
  const std::vector<int32_t> ids{0, 1, 2};
  partitioner.update_partition_load_stats(equal, ids, 3);
  CHECK(partitioner.cumulative_frequency_table().empty());
  // Equal queues but one partition excluded (length 2 < 3): stats are kept, weights 1 and 1.
  partitioner.update_partition_load_stats(equal, ids, 2);
  REQUIRE(partitioner.cumulative_frequency_table().size() == 2);
  CHECK(partitioner.cumulative_frequency_table()[1] == 2);
  const std::vector<int32_t> one{4};
  const std::vector<int32_t> one_id{0};
  partitioner.update_partition_load_stats(one, one_id, 1);
  CHECK(partitioner.cumulative_frequency_table().empty());
}

TEST_CASE("choose_partition: explicit, then key (unless partitioner.ignore.keys), then sticky") {
  ProducerConfig config;
  const std::string_view key = "foobar";  // partition 16 of 50 (UtilsTest vector)
  const std::span<const uint8_t> key_bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  CHECK(choose_partition(config, 3, key_bytes, 50) == 3);
  CHECK(choose_partition(config, std::nullopt, key_bytes, 50) == 16);
  CHECK(choose_partition(config, std::nullopt, std::nullopt, 50) == unknown_partition);
  config.partitioner_ignore_keys = true;
  CHECK(choose_partition(config, std::nullopt, key_bytes, 50) == unknown_partition);
}

namespace {

// A producer with partitioner.class = RoundRobinPartitioner over two topics: `a` with the given leaders, `b` with
// one partition. Each record has a key, which RoundRobinPartitioner ignores.
struct RoundRobinHarness {
  Producer producer;
  ProducerOutbox out;
  uint64_t next_id = 0;
  explicit RoundRobinHarness(std::vector<PartitionLeader> a)
      : producer(
            [] {
              ProducerConfig c;
              c.partitioner_class = PartitionerClass::round_robin;
              return c;
            }(),
            100, sim::Rng::stream(5, "producer/rr")) {
    ProducerMetadata metadata;
    metadata.topics.push_back(TopicMetadata{std::move(a)});
    metadata.topics.push_back(TopicMetadata{{{1, 0}}});
    producer.set_metadata(metadata);
  }
  int32_t send(int32_t topic) {
    static constexpr std::array<uint8_t, 3> key{'k', 'e', 'y'};
    ProducerRecord record;
    record.topic = topic;
    record.key = std::span<const uint8_t>(key);
    record.shape.key_bytes = 3;
    record.shape.value_bytes = 100;
    record.record_id = next_id++;
    const SendResult r = producer.send(sim::SimTime::zero(), record, out);
    REQUIRE(r.status == SendStatus::appended);
    return r.partition;
  }
};

}  // namespace

TEST_CASE("RoundRobinPartitioner: RoundRobinPartitionerTest's distributions, whatever the key") {
  // testRoundRobinWithKeyBytes: 30 keyed records to topicA (3 partitions), one to topicB after every fifth; each
  // partition of topicA gets 10, in turn, and topicB's sends do not move topicA's counter.
  RoundRobinHarness h({{1, 0}, {2, 0}, {3, 0}});
  std::array<int, 3> count{};
  for (int i = 0; i < 30; ++i) {
    CHECK(h.producer.round_robin_partition(0) == i % 3);  // the prediction the world's quiet sends rely on
    CHECK(h.producer.round_robin_partition(0, 2) == (i + 2) % 3);
    const int32_t p = h.send(0);
    CHECK(p == i % 3);
    ++count[static_cast<size_t>(p)];
    if (i % 5 == 0) CHECK(h.send(1) == 0);
  }
  CHECK(count == std::array<int, 3>{10, 10, 10});

  // testRoundRobinWithUnavailablePartitions: partition 1 has no leader; 100 records alternate between 0 and 2.
  RoundRobinHarness u({{1, 0}, {no_leader_node, no_leader_epoch}, {2, 0}});
  int zero = 0, two = 0;
  for (int i = 0; i < 100; ++i) {
    const int32_t p = u.send(0);
    CHECK((p == 0 || p == 2));
    (p == 0 ? zero : two) += 1;
  }
  CHECK(zero == 50);
  CHECK(two == 50);
}
