// Java's String.hashCode and Kafka's Utils.abs, which Kafka uses to map names to fetcher threads
// (AbstractFetcherManager.getFetcherId, kafka-behaviour.md §3.1) and groups to coordinators (§5.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kafkasim::kafka {

// String.hashCode of the string whose UTF-8 bytes are `utf8`: h = 31·h + c over its UTF-16 code units with int
// wraparound (§8.1). A code point above U+FFFF counts as its surrogate pair; a malformed byte counts as U+FFFD,
// as Java's UTF-8 decoder reads it.
int32_t java_string_hash_code(std::string_view utf8);

// Utils.abs: |n|, and 0 for Integer.MIN_VALUE.
int32_t java_utils_abs(int32_t n);

// The order in which a java.util.HashMap built by put() with the default constructor iterates over keys whose
// hashCode()s are `hash_codes`, all distinct keys, in insertion order: the indexes into `hash_codes`. The table starts
// at 16 buckets and doubles while the size exceeds 3/4 of it; a key's bucket is (h ^ (h >>> 16)) & (buckets - 1);
// buckets iterate in index order and each bucket's keys in insertion order (a resize splits a bucket keeping it).
// A ninth key in one bucket makes Java resize a small table early or turn the bucket into a tree, which this does
// not follow: asserted not to happen.
std::vector<size_t> java_hash_map_order(std::span<const int32_t> hash_codes);

}  // namespace kafkasim::kafka
