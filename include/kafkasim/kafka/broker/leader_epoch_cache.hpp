// The leader-epoch cache of one partition replica: a sorted map `leader epoch -> start offset`
// (reference/kafka-behaviour.md §3.5; storage/.../epoch/LeaderEpochFileCache.java, KIP-101 / KIP-279).
//
// The leader answers a follower's `lastFetchedEpoch` with `end_offset_for` (the divergence check of Fetch v12+,
// KIP-595 style); a follower uses the same lookup on its own cache to pick its truncation offset. The
// `leader-epoch-checkpoint` file is not modelled: the cache lives as long as the replica does.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

// UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (reference §7, sentinels).
inline constexpr int32_t undefined_epoch = -1;
inline constexpr int64_t undefined_epoch_offset = -1;

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

class LeaderEpochCache {
 public:
  // LeaderEpochFileCache.assign: ignored when `epoch` is the latest epoch and `start_offset` is not below its
  // start; otherwise every trailing entry with epoch >= `epoch` or start >= `start_offset` is removed first, so
  // that both columns stay strictly increasing. Negative values are a bug in the caller.
  void assign(int32_t epoch, int64_t start_offset);

  // LeaderEpochFileCache.endOffsetFor: the end offset of `requested_epoch` in a log whose end is
  // `log_end_offset`, as (epoch actually found, end offset). See §3.5 for the four cases.
  EpochEndOffset end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  // truncateFromEnd: removes the entries whose start offset is >= `end_offset` (after a log truncation).
  void truncate_from_end(int64_t end_offset);
  // truncateFromStart: drops entries wholly below `start_offset` and moves the first kept entry's start to it.
  void truncate_from_start(int64_t start_offset);

  bool empty() const { return entries_.empty(); }
  std::optional<EpochEntry> latest() const;
  // The latest epoch, or undefined_epoch (-1) when the cache is empty.
  int32_t latest_epoch() const { return entries_.empty() ? undefined_epoch : entries_.back().epoch; }
  const std::vector<EpochEntry>& entries() const { return entries_; }

  void check_invariants() const;

 private:
  // Sorted by epoch and by start offset, both strictly increasing (epochs) / non-decreasing (offsets).
  std::vector<EpochEntry> entries_;
};

}  // namespace kafkasim::kafka
