#include "kafkasim/kafka/java_hash.hpp"

#include <algorithm>
#include <limits>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes one code point from `s` at `i` (advancing `i`); malformed or truncated sequences, overlong forms and
// surrogates decode to U+FFFD one byte at a time.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len = 0;
  uint32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) len = 2, cp = b0 & 0x1Fu, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0) len = 3, cp = b0 & 0x0Fu, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0) len = 4, cp = b0 & 0x07u, min = 0x10000;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += len;
  return cp;
}

}  // namespace

int32_t java_string_hash_code(std::string_view utf8) {
  // Unsigned arithmetic wraps as Java's int does; the final cast keeps the two's-complement bits.
  uint32_t h = 0;
  const auto add = [&h](uint32_t unit) { h = h * 31u + unit; };
  for (size_t i = 0; i < utf8.size();) {
    const uint32_t cp = next_code_point(utf8, i);
    if (cp < 0x10000) {
      add(cp);
    } else {
      const uint32_t v = cp - 0x10000;
      add(0xD800u + (v >> 10));
      add(0xDC00u + (v & 0x3FFu));
    }
  }
  return static_cast<int32_t>(h);
}

int32_t java_utils_abs(int32_t n) {
  // Integer.MIN_VALUE has no positive counterpart: Utils.abs maps it to 0 (Math.abs would leave it negative).
  return n == std::numeric_limits<int32_t>::min() ? 0 : (n < 0 ? -n : n);
}

std::vector<size_t> java_hash_map_order(std::span<const int32_t> hash_codes) {
  size_t buckets = 16;
  while (hash_codes.size() > buckets / 4 * 3) buckets *= 2;
  const auto bucket = [&](int32_t h) {
    const auto u = static_cast<uint32_t>(h);
    return static_cast<size_t>(u ^ (u >> 16)) & (buckets - 1);
  };
  std::vector<size_t> order(hash_codes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return bucket(hash_codes[a]) < bucket(hash_codes[b]); });
  for (size_t i = 0, run = 1; i + 1 < order.size(); ++i) {
    run = bucket(hash_codes[order[i]]) == bucket(hash_codes[order[i + 1]]) ? run + 1 : 1;
    // A ninth key in one bucket makes Java resize the table (below 64 buckets) or turn the bucket into a tree.
    KS_ASSERT_MSG(run <= 8, "a HashMap bucket of more than 8 keys: Java's order is not modelled");
  }
  return order;
}

}  // namespace kafkasim::kafka
