#include "kafkasim/kafka/producer/murmur2.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

int32_t murmur2(std::span<const uint8_t> data) {
  // Java uses an int length; keys longer than 2 GiB cannot exist in a record (max.request.size bounds them).
  KS_ASSERT_LE(data.size(), static_cast<size_t>(INT32_MAX));
  constexpr uint32_t seed = 0x9747b28cU;
  constexpr uint32_t m = 0x5bd1e995U;
  constexpr int r = 24;
  const auto length = static_cast<uint32_t>(data.size());
  uint32_t h = seed ^ length;

  const size_t blocks = data.size() / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const size_t at = 4 * i;
    uint32_t k = static_cast<uint32_t>(data[at]) | (static_cast<uint32_t>(data[at + 1]) << 8) |
                 (static_cast<uint32_t>(data[at + 2]) << 16) | (static_cast<uint32_t>(data[at + 3]) << 24);
    k *= m;
    k ^= k >> r;  // `>>>` in Java: a logical shift, which is what a shift of uint32_t does.
    k *= m;
    h *= m;
    h ^= k;
  }

  // The tail of 1..3 bytes, with Java's switch fall-through written out.
  const size_t tail = data.size() & ~static_cast<size_t>(3);
  switch (data.size() % 4) {
    case 3:
      h ^= static_cast<uint32_t>(data[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(data[tail]);
      h *= m;
      break;
    default:
      break;
  }

  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t murmur2(std::string_view text) {
  return murmur2(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int32_t keyed_partition(std::span<const uint8_t> key, int32_t num_partitions) {
  KS_ASSERT_GT(num_partitions, 0);
  const int32_t partition = to_positive(murmur2(key)) % num_partitions;
  KS_ASSERT_GE(partition, 0);
  KS_ASSERT_LT(partition, num_partitions);
  return partition;
}

int32_t keyed_partition(std::string_view key, int32_t num_partitions) {
  return keyed_partition(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                         num_partitions);
}

}  // namespace kafkasim::kafka
