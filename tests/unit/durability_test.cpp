// The durability check's bookkeeping: acknowledged offsets kept as merged ranges, and counted against a log's
// [log start, log end). Expectations are the offsets written out by hand.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "test_support.hpp"

#include "kafkasim/cluster/durability.hpp"
#include "kafkasim/sim/rng.hpp"

using kafkasim::cluster::AckedOffsets;
using Ranges = std::map<int64_t, int64_t>;

TEST_CASE("acknowledged offsets merge into ranges where they touch, in any order") {
  AckedOffsets a;
  for (int64_t o = 0; o < 10; ++o) a.add(o);      // one batch, in order
  for (int64_t o = 20; o < 30; ++o) a.add(o);     // another producer's later batch acknowledged first
  CHECK(a.ranges() == Ranges{{0, 10}, {20, 30}});
  for (int64_t o = 10; o < 20; ++o) a.add(o);     // the batch between them closes the hole
  CHECK(a.ranges() == Ranges{{0, 30}});
  a.add(35);  // a failed record's offset (30..34) is never acknowledged: a hole stays
  CHECK(a.ranges() == Ranges{{0, 30}, {35, 36}});
}

TEST_CASE("an offset acknowledged twice is a bug, and asserts") {
  kafkasim::test::ThrowOnAssert throw_on_assert;
  AckedOffsets a;
  for (int64_t o = 0; o < 5; ++o) a.add(o);
  a.add(3);
  CHECK_THROWS_AS(a.ranges(), kafkasim::test::AssertionFailure);
}

TEST_CASE("against a log: below its start deleted, at or above its end lost, the rest present") {
  AckedOffsets a;
  for (int64_t o = 0; o < 100; ++o)
    if (o < 40 || o >= 50) a.add(o);  // 90 acknowledged, 40..49 failed
  SUBCASE("the whole log") {
    const auto c = a.count_against(0, 100);
    CHECK(c.checked == 90);
    CHECK(c.lost == 0);
    CHECK(c.deleted == 0);
  }
  SUBCASE("retention moved the log start to 45, a truncation the end to 95") {
    const auto c = a.count_against(45, 95);
    CHECK(c.checked == 90);
    CHECK(c.deleted == 40);  // 0..39; 40..44 were never acknowledged
    CHECK(c.lost == 5);      // 95..99
  }
  SUBCASE("an empty log at 0, and no log") {
    CHECK(a.count_against(0, 0).lost == 90);
    CHECK(a.count_without_log().lost == 90);
    CHECK(a.count_without_log().checked == 90);
  }
}

TEST_CASE("random acknowledgement orders give the same ranges as a set of the offsets") {
  kafkasim::sim::Rng rng = kafkasim::sim::Rng::stream(7, "durability-test");
  for (int round = 0; round < 50; ++round) {
    // Batches of 1-20 offsets, each acknowledged whole or failed, completed in a random order.
    std::vector<std::pair<int64_t, int64_t>> batches;
    int64_t next = 0;
    while (next < 500) {
      const int64_t n = rng.uniform_int(1, 20);
      if (!rng.chance(1, 5)) batches.emplace_back(next, next + n);
      next += n;
    }
    for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.uniform_u64(i)]);
    AckedOffsets a;
    std::vector<bool> acked(static_cast<size_t>(next), false);
    for (const auto& [first, end] : batches)
      for (int64_t o = first; o < end; ++o) {
        a.add(o);
        acked[static_cast<size_t>(o)] = true;
      }
    Ranges expected;
    for (int64_t o = 0; o < next; ++o) {
      if (!acked[static_cast<size_t>(o)]) continue;
      int64_t end = o;
      while (end < next && acked[static_cast<size_t>(end)]) ++end;
      expected.emplace(o, end);
      o = end;
    }
    CHECK(a.ranges() == expected);
  }
}
