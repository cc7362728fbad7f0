// Unit tests of sim::ChunkedVector. The expected contents come from a std::vector twin that receives the same
// operations; the expected capacities and block counts are computed from the layout rule (block 0 grows from
// FirstBlockSize by doubling up to BlockSize, then whole blocks) written out independently below.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kafkasim/sim/chunked_vector.hpp"
#include "kafkasim/sim/rng.hpp"

using kafkasim::sim::ChunkedVector;
using kafkasim::sim::Rng;

namespace {

// Capacity after growing from empty to n elements without truncation.
std::size_t grown_capacity(std::size_t n, std::size_t block, std::size_t first) {
  if (n == 0) return 0;
  if (n > block) return (n + block - 1) / block * block;
  std::size_t c = first;
  while (c < n) c *= 2;
  return c;
}

template <typename V>
void check_equal(const V& v, const std::vector<uint64_t>& twin) {
  REQUIRE(v.size() == twin.size());
  CHECK(v.empty() == twin.empty());
  for (std::size_t i = 0; i < twin.size(); ++i) REQUIRE(v[i] == twin[i]);
  std::size_t k = 0;
  for (const uint64_t x : v) {
    REQUIRE(k < twin.size());
    REQUIRE(x == twin[k]);
    ++k;
  }
  CHECK(k == twin.size());
  if (!twin.empty()) CHECK(v.back() == twin.back());
}

}  // namespace

TEST_CASE("chunked vector: growth across blocks gives the layout's capacities and keeps every value") {
  ChunkedVector<uint64_t, 8, 2> v;
  std::vector<uint64_t> twin;
  CHECK(v.capacity() == 0);
  CHECK(v.block_count() == 0);
  for (uint64_t n = 1; n <= 100; ++n) {
    v.push_back(n * 1000 + 7);
    twin.push_back(n * 1000 + 7);
    // Block 0: capacities 2, 4, 8; then one more 8-element block per 8 elements.
    CHECK(v.capacity() == grown_capacity(n, 8, 2));
    CHECK(v.block_count() == (n <= 8 ? 1 : (n + 7) / 8));
    check_equal(v, twin);
  }
}

TEST_CASE("chunked vector: elements past the first block never move") {
  ChunkedVector<uint64_t, 16, 4> v;
  for (uint64_t i = 0; i < 16; ++i) v.push_back(i);
  // Block 0 is full size now: it does not move again, nor does any later block.
  std::vector<const uint64_t*> addresses;
  for (std::size_t i = 0; i < 16; ++i) addresses.push_back(&v[i]);
  for (uint64_t i = 16; i < 40; ++i) v.push_back(i);
  for (std::size_t i = 16; i < 40; ++i) addresses.push_back(&v[i]);
  for (uint64_t i = 40; i < 1000; ++i) v.push_back(i);
  for (std::size_t i = 0; i < addresses.size(); ++i) CHECK(addresses[i] == &v[i]);
}

TEST_CASE("chunked vector: truncation to any size, across block boundaries and to 0") {
  // For every size n up to 4 blocks and every smaller m: truncation keeps the prefix and exactly the blocks
  // holding it, and the vector grows again from there.
  for (std::size_t n = 0; n <= 32; ++n) {
    for (std::size_t m = 0; m <= n; ++m) {
      ChunkedVector<uint64_t, 8, 2> v;
      std::vector<uint64_t> twin;
      for (std::size_t i = 0; i < n; ++i) {
        v.push_back(3 * i + 1);
        twin.push_back(3 * i + 1);
      }
      v.truncate(m);
      twin.resize(m);
      check_equal(v, twin);
      if (m == 0) {
        CHECK(v.capacity() == 0);
        CHECK(v.block_count() == 0);
      } else if (n > 8) {
        // Whole blocks: ceil(m / 8) of them survive.
        CHECK(v.block_count() == (m + 7) / 8);
        CHECK(v.capacity() == (m + 7) / 8 * 8);
      } else {
        // Only block 0, as large as growth to n made it.
        CHECK(v.block_count() == 1);
        CHECK(v.capacity() == grown_capacity(n, 8, 2));
      }
      for (std::size_t i = m; i < n + 5; ++i) {
        v.push_back(5 * i);
        twin.push_back(5 * i);
      }
      check_equal(v, twin);
    }
  }
}

TEST_CASE("chunked vector: random pushes, truncations and writes match a std::vector twin") {
  Rng rng(20261206);
  ChunkedVector<uint64_t, 64, 4> v;
  std::vector<uint64_t> twin;
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t action = rng.uniform_u64(100);
    if (action < 75) {
      const uint64_t x = rng.next_u64();
      v.push_back(x);
      twin.push_back(x);
    } else if (action < 80) {
      // Cut anywhere, often far back.
      const std::size_t m = static_cast<std::size_t>(rng.uniform_u64(twin.size() + 1));
      v.truncate(m);
      twin.resize(m);
    } else if (action < 82) {
      v.clear();
      twin.clear();
    } else if (!twin.empty()) {
      const std::size_t i = static_cast<std::size_t>(rng.uniform_u64(twin.size()));
      const uint64_t x = rng.next_u64();
      v[i] = x;
      twin[i] = x;
    }
    REQUIRE(v.size() == twin.size());
    // The only unused memory is the rest of one block.
    if (twin.empty()) {
      CHECK(v.capacity() == 0);
    } else {
      CHECK(v.capacity() >= twin.size());
      CHECK(v.capacity() - twin.size() < 64);
    }
    if (step % 97 == 0) check_equal(v, twin);
  }
  check_equal(v, twin);
}
