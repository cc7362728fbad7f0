// Java's String.hashCode and Kafka's Utils.abs, which Kafka uses to map names to fetcher threads
// (AbstractFetcherManager.getFetcherId, kafka-behaviour.md §3.1) and groups to coordinators (§5.1).
#pragma once

#include <cstdint>
#include <string_view>

namespace kafkasim::kafka {

// String.hashCode of the string whose UTF-8 bytes are `utf8`: h = 31·h + c over its UTF-16 code units with int
// wraparound (§8.1). A code point above U+FFFF counts as its surrogate pair; a malformed byte counts as U+FFFD,
// as Java's UTF-8 decoder reads it.
int32_t java_string_hash_code(std::string_view utf8);

// Utils.abs: |n|, and 0 for Integer.MIN_VALUE.
int32_t java_utils_abs(int32_t n);

}  // namespace kafkasim::kafka
