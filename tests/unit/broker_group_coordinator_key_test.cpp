// The group coordinator's partition of __consumer_offsets (kafka/broker/group_coordinator_key.hpp) and Java's
// String.hashCode and Utils.abs (kafka/java_hash.hpp), checked against the examples of kafka-behaviour.md §5.1.
#include <doctest/doctest.h>

#include <string>

#include "kafkasim/kafka/broker/group_coordinator_key.hpp"

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
