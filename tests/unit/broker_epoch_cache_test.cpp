// Unit tests of the leader-epoch cache (kafka/broker). Expected values follow by hand from the rules of
// reference/kafka-behaviour.md §3.5 (LeaderEpochFileCache.assign / endOffsetFor / truncateFromEnd /
// truncateFromStart), worked out in the comments.
#include <doctest/doctest.h>

#include <vector>

#include "kafkasim/kafka/broker/leader_epoch_cache.hpp"

using namespace kafkasim::kafka;

namespace {

void check_answer(const EpochEndOffset& got, int32_t epoch, int64_t end_offset) {
  CHECK(got.epoch == epoch);
  CHECK(got.end_offset == end_offset);
}

LeaderEpochCache cache_1_2_4() {
  // Epoch 1 starts at 11, epoch 2 at 12, epoch 4 at 14 (epoch 3 was never seen by this replica).
  LeaderEpochCache c;
  c.assign(1, 11);
  c.assign(2, 12);
  c.assign(4, 14);
  return c;
}

}  // namespace

TEST_CASE("end_offset_for covers the four cases of §3.5") {
  const LeaderEpochCache c = cache_1_2_4();
  const int64_t leo = 17;
  // The latest epoch ends at the LEO.
  check_answer(c.end_offset_for(4, leo), 4, 17);
  // Epoch 3 is unknown: the floor is epoch 2, which ends where the next higher epoch (4) starts.
  check_answer(c.end_offset_for(3, leo), 2, 14);
  // A known older epoch ends where the next one starts.
  check_answer(c.end_offset_for(1, leo), 1, 12);
  // Below every entry: the requested epoch, ending at the first entry's start.
  check_answer(c.end_offset_for(0, leo), 0, 11);
  // Above the latest epoch, or undefined: no answer.
  check_answer(c.end_offset_for(5, leo), -1, -1);
  check_answer(c.end_offset_for(-1, leo), -1, -1);
  check_answer(LeaderEpochCache{}.end_offset_for(0, leo), -1, -1);
}

TEST_CASE("assign keeps both columns monotonic") {
  LeaderEpochCache c = cache_1_2_4();
  // Same latest epoch at a later offset: ignored.
  c.assign(4, 20);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}, {2, 12}, {4, 14}});
  // Same latest epoch at an earlier offset: replaces it.
  c.assign(4, 13);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}, {2, 12}, {4, 13}});
  // An older epoch removes every trailing entry with epoch >= 2 or start >= 13, then goes in.
  c.assign(2, 13);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}, {2, 13}});
  // A newer epoch starting below an existing start offset removes that entry too.
  c.assign(5, 12);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}, {5, 12}});
  CHECK(c.latest_epoch() == 5);
}

TEST_CASE("truncation from the end and from the start") {
  LeaderEpochCache c = cache_1_2_4();
  // Truncating the log to 13 drops the epoch that started at 14.
  c.truncate_from_end(13);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}, {2, 12}});
  // Truncating to 12 drops epoch 2 as well (it started at 12, nothing of it is left).
  c.truncate_from_end(12);
  CHECK(c.entries() == std::vector<EpochEntry>{{1, 11}});

  LeaderEpochCache d = cache_1_2_4();
  // Log start moves to 13: epoch 1 is gone, epoch 2 now starts at 13.
  d.truncate_from_start(13);
  CHECK(d.entries() == std::vector<EpochEntry>{{2, 13}, {4, 14}});
  // A start below the first entry changes nothing.
  d.truncate_from_start(5);
  CHECK(d.entries() == std::vector<EpochEntry>{{2, 13}, {4, 14}});
}
