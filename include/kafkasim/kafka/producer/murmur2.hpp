// Kafka's key hash: `Utils.murmur2` and `Utils.toPositive`, bit-exact with the Java client.
//
// The keyed partition of a record is `to_positive(murmur2(key)) % num_partitions`, where num_partitions counts
// every partition of the topic, available or not (reference/kafka-behaviour.md §1.2 step 3, §1.3). Java `int`
// arithmetic wraps, so the hash is computed on uint32_t and reinterpreted as int32_t at the end (§8.1).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace kafkasim::kafka {

// Utils.murmur2: MurmurHash2, 32 bit, seed 0x9747b28c, little-endian 4-byte blocks (§1.3).
int32_t murmur2(std::span<const uint8_t> data);

// The same hash of the bytes of `text` (what StringSerializer produces for a UTF-8 string).
int32_t murmur2(std::string_view text);

// Utils.toPositive: clears the sign bit. Not abs(): toPositive(INT_MIN) is 0 and toPositive(-1) is INT_MAX.
constexpr int32_t to_positive(int32_t value) { return value & 0x7fffffff; }

// The partition a keyed record goes to with the built-in partitioner (KafkaProducer.partition()).
// `num_partitions` is > 0.
int32_t keyed_partition(std::span<const uint8_t> key, int32_t num_partitions);
int32_t keyed_partition(std::string_view key, int32_t num_partitions);

}  // namespace kafkasim::kafka
