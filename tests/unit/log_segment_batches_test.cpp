// Unit tests of kafka::SegmentBatches, the packed per-segment batch store. Every batch read back must equal the
// batch stored, field by field: the expectations come from a std::vector<StoredBatch> twin that receives the same
// operations, with positions computed as the running sum of sizes (batches lie back to back in the `.log` file).
#include <doctest/doctest.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "kafkasim/kafka/log/segment_batches.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;

namespace {

void check_same(const StoredBatch& got, const StoredBatch& want) {
  CHECK(got.batch.base_offset == want.batch.base_offset);
  CHECK(got.batch.record_count == want.batch.record_count);
  CHECK(got.batch.size_bytes == want.batch.size_bytes);
  CHECK(got.batch.max_timestamp == want.batch.max_timestamp);
  CHECK(got.batch.producer_id == want.batch.producer_id);
  CHECK(got.batch.producer_epoch == want.batch.producer_epoch);
  CHECK(got.batch.base_sequence == want.batch.base_sequence);
  CHECK(got.batch.partition_leader_epoch == want.batch.partition_leader_epoch);
  CHECK(got.batch.tag == want.batch.tag);
  CHECK(got.position == want.position);
  CHECK(got.has_offset_index_entry == want.has_offset_index_entry);
  CHECK(got.has_time_index_entry == want.has_time_index_entry);
}

void check_all(const SegmentBatches& store, const std::vector<StoredBatch>& twin) {
  REQUIRE(store.size() == twin.size());
  const int64_t end = twin.empty() ? 0 : twin.back().end_position();
  CHECK(store.end_position() == end);
  for (std::size_t i = 0; i < twin.size(); ++i) {
    check_same(store[i], twin[i]);
    CHECK(store.last_offset(i) == twin[i].batch.last_offset());
    CHECK(store.record_count(i) == twin[i].batch.record_count);
    CHECK(store.position(i) == twin[i].position);
    CHECK(store.end_position(i) == twin[i].end_position());
    CHECK(store.max_timestamp(i) == twin[i].batch.max_timestamp);
    CHECK(store.has_offset_index_entry(i) == twin[i].has_offset_index_entry);
    CHECK(store.has_time_index_entry(i) == twin[i].has_time_index_entry);
  }
  std::size_t k = 0;
  for (const StoredBatch& s : store) check_same(s, twin[k++]);
  CHECK(k == twin.size());
}

}  // namespace

TEST_CASE("segment batches: random appends, flags and truncations read back exactly") {
  constexpr int64_t base = 5'000'000'000;  // offsets above 2^32: only the relative offset is stored
  sim::Rng rng(42);
  // 40 producers, more than the interning searches: the table then holds duplicates, which must not matter.
  struct ProducerFields {
    int64_t id;
    int16_t epoch;
    int32_t leader_epoch;
    uint64_t tag_high;
  };
  std::vector<ProducerFields> producers;
  for (int p = 0; p < 40; ++p) {
    producers.push_back({p == 0 ? int64_t{-1} : static_cast<int64_t>(rng.next_u64() >> 1),
                         static_cast<int16_t>(p % 3 == 0 ? -1 : p), static_cast<int32_t>(p % 5) - 1,
                         rng.next_u64() >> 32});
  }
  SegmentBatches store(base);
  std::vector<StoredBatch> twin;
  for (int step = 0; step < 6'000; ++step) {
    const uint64_t action = rng.uniform_u64(100);
    if (action < 80) {
      // Producers cycle over a few at a time, and now and then over all 40.
      const std::size_t pool = step % 1'000 < 500 ? 4 : producers.size();
      const ProducerFields& p = producers[rng.uniform_u64(pool)];
      RecordBatch b;
      const int64_t next = twin.empty() ? base : twin.back().batch.next_offset();
      b.base_offset = next + static_cast<int64_t>(rng.uniform_u64(3));  // gaps, as a follower may store
      b.record_count = static_cast<int32_t>(1 + rng.uniform_u64(rng.chance(1, 50) ? 1'000'000 : 30));
      b.size_bytes = static_cast<int32_t>(1 + rng.uniform_u64(20'000));
      b.max_timestamp = sim::SimTime::from_ns(static_cast<int64_t>(rng.next_u64()));  // any int64, negative too
      b.producer_id = p.id;
      b.producer_epoch = p.epoch;
      b.base_sequence = static_cast<int32_t>(rng.next_u64());
      b.partition_leader_epoch = p.leader_epoch;
      b.tag = (p.tag_high << 32) | (rng.next_u64() >> 32);
      StoredBatch s;
      s.batch = b;
      s.position = twin.empty() ? 0 : static_cast<int32_t>(twin.back().end_position());
      store.push_back(b);
      twin.push_back(s);
    } else if (action < 90 && !twin.empty()) {
      const std::size_t i = static_cast<std::size_t>(rng.uniform_u64(twin.size()));
      const bool value = rng.chance(1, 2);
      if (rng.chance(1, 2)) {
        store.set_offset_index_entry(i, value);
        twin[i].has_offset_index_entry = value;
      } else {
        store.set_time_index_entry(i, value);
        twin[i].has_time_index_entry = value;
      }
    } else if (action < 95) {
      // Mostly short cuts from the end (a follower truncating), sometimes deep ones, sometimes to 0.
      const std::size_t cut = rng.chance(1, 4) ? twin.size() : std::min<std::size_t>(twin.size(), rng.uniform_u64(40));
      const std::size_t keep = twin.size() - static_cast<std::size_t>(rng.uniform_u64(cut + 1));
      store.truncate(keep);
      twin.resize(keep);
    }
    if (step % 211 == 0) check_all(store, twin);
    // A range over part of the store yields the same batches.
    if (step % 53 == 0 && !twin.empty()) {
      const std::size_t first = static_cast<std::size_t>(rng.uniform_u64(twin.size()));
      const std::size_t last = first + static_cast<std::size_t>(rng.uniform_u64(twin.size() - first + 1));
      const StoredBatchRange range(store, first, last);
      REQUIRE(range.size() == last - first);
      CHECK(range.empty() == (first == last));
      std::size_t k = first;
      for (const StoredBatch& s : range) check_same(s, twin[k++]);
      CHECK(k == last);
      if (!range.empty()) {
        check_same(range.front(), twin[first]);
        check_same(range.back(), twin[last - 1]);
        check_same(range[(last - first) / 2], twin[first + (last - first) / 2]);
      }
    }
  }
  check_all(store, twin);
}

TEST_CASE("segment batches: 32 bytes a batch, one partly used block, one table entry per producer") {
  // 1,000 batches from 3 producers interleaved: whole blocks hold them, the last one partly used, and the
  // producer table holds 3 entries (capacity 4 after doubling from 1).
  SegmentBatches store(0);
  int64_t next = 0;
  for (int i = 0; i < 1'000; ++i) {
    RecordBatch b;
    b.base_offset = next;
    b.record_count = 10;
    b.size_bytes = 1'000;
    b.producer_id = 1'000 + i % 3;
    b.producer_epoch = 0;
    b.tag = (uint64_t{static_cast<uint32_t>(i % 3)} << 40) | static_cast<uint64_t>(i);
    store.push_back(b);
    next = b.next_offset();
  }
  CHECK(SegmentBatches::bytes_per_batch == 32);
  constexpr std::size_t block = SegmentBatches::Store::block_size;
  static_assert(block < 1'000);
  CHECK(store.allocated_bytes() == (1'000 + block - 1) / block * block * 32 + 4 * 24);
  CHECK(store[999].batch.tag == ((uint64_t{0} << 40) | 999));
  CHECK(store[998].batch.producer_id == 1'000 + 998 % 3);
}

TEST_CASE("segment batches: the largest relative offset and position a segment allows are stored exactly") {
  constexpr int64_t int32_max = std::numeric_limits<int32_t>::max();
  SegmentBatches store(100);
  RecordBatch a;
  a.base_offset = 100;
  a.record_count = 1;
  a.size_bytes = static_cast<int32_t>(int32_max - 10);
  store.push_back(a);
  RecordBatch b;
  b.base_offset = 100 + int32_max;  // relative offset int32_max: the last one LogSegment accepts
  b.record_count = 1;
  b.size_bytes = 10;
  b.tag = ~uint64_t{0};
  store.push_back(b);
  CHECK(store.end_position() == int32_max);
  CHECK(store[1].batch.base_offset == 100 + int32_max);
  CHECK(store[1].position == int32_max - 10);
  CHECK(store[1].batch.size_bytes == 10);
  CHECK(store[1].batch.tag == ~uint64_t{0});
  CHECK(store[0].batch.size_bytes == int32_max - 10);
  CHECK(store.last_offset(1) == 100 + int32_max);
}
