// The follower's view of its own leader-epoch cache (LeaderEpochFileCache, reference/kafka-behaviour.md §3.5),
// kept by the replica fetcher so that it can compute the truncation offset for a diverging epoch itself
// (AbstractFetcherThread.getOffsetTruncationState) without calling into the local replica.
//
// It is a mirror, not the owner: the partition layer keeps the authoritative cache beside the log. The two stay
// equal because both are changed by the same events, in the same way: the fetcher seeds this mirror from the
// local cache when a partition is added, assigns an entry for every fetched batch exactly as
// UnifiedLog.append does on the follower path (`maybeAssignEpochStartOffset(batch.partitionLeaderEpoch,
// batch.baseOffset)`), and truncates it exactly where it tells the replica to truncate.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "kafkasim/kafka/broker/leader_epoch_cache.hpp"  // undefined_epoch, undefined_epoch_offset, EpochEntry
#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

class FollowerEpochCache {
 public:
  FollowerEpochCache() = default;
  // Entries in increasing epoch order with non-decreasing start offsets (a valid leader-epoch-checkpoint).
  explicit FollowerEpochCache(std::span<const EpochEntry> entries);

  // LeaderEpochFileCache.assign: ignored when `epoch` is the latest epoch and `start_offset` is not below its
  // start; otherwise removes trailing entries with epoch >= `epoch` or start offset >= `start_offset`, then
  // inserts. Both must be non-negative (the Java code throws, so a negative value is a bug here).
  void assign(int32_t epoch, int64_t start_offset);

  // LeaderEpochFileCache.endOffsetFor(requestedEpoch, logEndOffset), §3.5:
  //   requested == -1 -> (-1, -1); requested == latest -> (requested, LEO);
  //   higher = first entry with epoch > requested; none -> (-1, -1);
  //   no entry <= requested -> (requested, higher.start); else (floor.epoch, higher.start).
  EpochEndOffset end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  // LeaderEpochFileCache.truncateFromEnd: removes the entries whose start offset is >= `end_offset`.
  void truncate_from_end(int64_t end_offset);
  // LeaderEpochFileCache.clearAndFlush (UnifiedLog.truncateFullyAndStartAt).
  void clear() { epochs_.clear(); }

  // UnifiedLog.latestEpoch.
  std::optional<int32_t> latest_epoch() const;
  bool empty() const { return epochs_.empty(); }
  std::size_t size() const { return epochs_.size(); }
  const std::map<int32_t, int64_t>& entries() const { return epochs_; }

 private:
  std::map<int32_t, int64_t> epochs_;  // epoch -> start offset
};

}  // namespace kafkasim::kafka
