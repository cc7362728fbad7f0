// LeaderEpochFileCache semantics (reference/kafka-behaviour.md §3.5) for the fetcher's mirror of the follower's
// epoch cache; see the header for why the fetcher keeps one.
#include "kafkasim/kafka/fetcher/follower_epoch_cache.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

FollowerEpochCache::FollowerEpochCache(std::span<const EpochEntry> entries) {
  for (const EpochEntry& entry : entries) {
    // A checkpoint file is written from the cache, so it is already monotonic in both fields.
    if (!epochs_.empty()) {
      KS_ASSERT_GT(entry.epoch, epochs_.rbegin()->first);
      KS_ASSERT_GE(entry.start_offset, epochs_.rbegin()->second);
    }
    assign(entry.epoch, entry.start_offset);
  }
  KS_ASSERT_EQ(epochs_.size(), entries.size());
}

void FollowerEpochCache::assign(int32_t epoch, int64_t start_offset) {
  KS_ASSERT_GE(epoch, 0);
  KS_ASSERT_GE(start_offset, 0);
  if (!epochs_.empty()) {
    const auto& [latest_epoch, latest_start] = *epochs_.rbegin();
    // isUpdateNeeded: the same epoch at a later offset (the next batch of the current leader) changes nothing.
    if (epoch == latest_epoch && start_offset >= latest_start) return;
  }
  // maybeTruncateNonMonotonicEntries: drop trailing entries that the new one supersedes. Bounded by the size.
  while (!epochs_.empty()) {
    auto last = std::prev(epochs_.end());
    if (last->first < epoch && last->second < start_offset) break;
    epochs_.erase(last);
  }
  epochs_.emplace(epoch, start_offset);
}

EpochEndOffset FollowerEpochCache::end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const {
  KS_ASSERT_GE(requested_epoch, undefined_epoch);
  KS_ASSERT_GE(log_end_offset, 0);
  if (requested_epoch == undefined_epoch) return EpochEndOffset{undefined_epoch, undefined_epoch_offset};
  if (!epochs_.empty() && requested_epoch == epochs_.rbegin()->first) {
    // The requested epoch is the current one: it ends at the LEO.
    return EpochEndOffset{requested_epoch, log_end_offset};
  }
  const auto higher = epochs_.upper_bound(requested_epoch);
  if (higher == epochs_.end()) return EpochEndOffset{undefined_epoch, undefined_epoch_offset};
  if (higher == epochs_.begin()) {
    // Every known epoch is newer: the requested epoch, if it existed, ended where the first known one starts.
    return EpochEndOffset{requested_epoch, higher->second};
  }
  const auto floor = std::prev(higher);
  return EpochEndOffset{floor->first, higher->second};
}

void FollowerEpochCache::truncate_from_end(int64_t end_offset) {
  KS_ASSERT_GE(end_offset, 0);
  while (!epochs_.empty() && std::prev(epochs_.end())->second >= end_offset) epochs_.erase(std::prev(epochs_.end()));
}

std::optional<int32_t> FollowerEpochCache::latest_epoch() const {
  if (epochs_.empty()) return std::nullopt;
  return epochs_.rbegin()->first;
}

}  // namespace kafkasim::kafka
