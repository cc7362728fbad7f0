// The group coordinator's partition of __consumer_offsets (kafka/broker/group_coordinator_key.hpp) and Java's
// String.hashCode and Utils.abs (kafka/java_hash.hpp), checked against the examples of kafka-behaviour.md §5.1, and
// java.util.HashMap's iteration order, which Kafka's tools print.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kafkasim/kafka/broker/group_coordinator_key.hpp"
#include "kafkasim/kafka/java_hash.hpp"

using namespace kafkasim::kafka;

TEST_CASE("group coordinator: kafka-behaviour.md §5.1's examples of hashCode and partition (50 partitions)") {
  CHECK(java_string_hash_code("my-group") == -1906497762);
  CHECK(offsets_partition_for("my-group", 50) == 12);
  CHECK(java_string_hash_code("group") == 98629247);
  CHECK(offsets_partition_for("group", 50) == 47);
  CHECK(java_string_hash_code("test-group") == 627841412);
  CHECK(offsets_partition_for("test-group", 50) == 12);
  CHECK(java_string_hash_code("") == 0);
  CHECK(offsets_partition_for("", 50) == 0);
}

TEST_CASE("group coordinator: the hash is Java's over UTF-16 code units, and Utils.abs maps MIN_VALUE to 0") {
  // "a" = 97; "ab" = 97*31 + 98.
  CHECK(java_string_hash_code("a") == 97);
  CHECK(java_string_hash_code("ab") == 97 * 31 + 98);
  // U+00E9 (two UTF-8 bytes) is one code unit, 233.
  CHECK(java_string_hash_code("\xC3\xA9") == 233);
  // U+1F600 (four UTF-8 bytes) is the surrogate pair D83D DE00.
  CHECK(java_string_hash_code("\xF0\x9F\x98\x80") == 0xD83D * 31 + 0xDE00);
  // A lone continuation byte is read as U+FFFD.
  CHECK(java_string_hash_code("\x80") == 0xFFFD);
  // A string whose hashCode is Integer.MIN_VALUE: Utils.abs gives 0, so partition 0 whatever the count.
  CHECK(java_string_hash_code("polygenelubricants") == INT32_MIN);
  CHECK(offsets_partition_for("polygenelubricants", 50) == 0);
  CHECK(offsets_partition_for("polygenelubricants", 7) == 0);
  // A negative hash takes its absolute value before the modulo.
  CHECK(offsets_partition_for("my-group", 7) == 1906497762 % 7);
}

TEST_CASE("java.util.HashMap iteration order: buckets by (h ^ h >>> 16) & (table - 1), insertion order within one") {
  // Small Integer keys hash to themselves: ascending whatever the insertion order (21 keys: a 32-bucket table).
  std::vector<int32_t> ints;
  for (int32_t k = 20; k >= 0; --k) ints.push_back(k);
  const auto by_int = java_hash_map_order(ints);
  for (size_t i = 0; i < by_int.size(); ++i) CHECK(ints[by_int[i]] == static_cast<int32_t>(i));
  // "apple" 93029210 (bucket 1 of 16), "banana" -1396355227 (bucket 0), "cherry" -1361513063 (bucket 1), put in that
  // order: banana first, then apple and cherry in the order they were put.
  const std::vector<int32_t> fruit = {java_string_hash_code("apple"), java_string_hash_code("banana"),
                                      java_string_hash_code("cherry")};
  CHECK(fruit == std::vector<int32_t>{93029210, -1396355227, -1361513063});
  CHECK(java_hash_map_order(fruit) == std::vector<size_t>{1, 0, 2});
  // The order in which Kafka's brokers and tools list the 50 partitions of __consumer_offsets, a HashMap of
  // TopicPartition (hashCode 31 * (31 + partition) + topic.hashCode()) filled in partition order: the sequence its
  // broker logs and kafka-log-dirs show.
  std::vector<int32_t> offsets;
  const auto topic = static_cast<uint32_t>(java_string_hash_code("__consumer_offsets"));
  for (uint32_t p = 0; p < 50; ++p) offsets.push_back(static_cast<int32_t>(31u * (31u + p) + topic));
  std::vector<size_t> expected = {13, 46, 9,  42, 21, 17, 30, 26, 5,  38, 1,  34, 16, 45, 12, 41, 24,
                                  20, 49, 0,  29, 25, 8,  37, 4,  33, 15, 48, 11, 44, 23, 19, 32, 28,
                                  7,  40, 3,  36, 47, 14, 43, 10, 22, 18, 31, 27, 39, 6,  35, 2};
  CHECK(java_hash_map_order(offsets) == expected);
}
