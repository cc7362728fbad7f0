// The leader-epoch cache; see include/kafkasim/kafka/broker/leader_epoch_cache.hpp.
#include "kafkasim/kafka/broker/leader_epoch_cache.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

std::optional<EpochEntry> LeaderEpochCache::latest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

void LeaderEpochCache::assign(int32_t epoch, int64_t start_offset) {
  // LeaderEpochFileCache.assign throws IllegalArgumentException on negative values: a caller bug here.
  KS_ASSERT_GE(epoch, 0);
  KS_ASSERT_GE(start_offset, 0);
  // isUpdateNeeded: the same epoch starting at or before the new offset already covers it.
  if (!entries_.empty() && entries_.back().epoch == epoch && start_offset >= entries_.back().start_offset) return;
  // maybeTruncateNonMonotonicEntries: walk back from the end removing entries that would break monotonicity.
  // The loop is bounded by the number of entries.
  while (!entries_.empty() && (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
    entries_.pop_back();
  }
  entries_.push_back(EpochEntry{epoch, start_offset});
  check_invariants();
}

EpochEndOffset LeaderEpochCache::end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const {
  KS_ASSERT_GE(log_end_offset, 0);
  // An undefined request, or an empty cache, has no answer.
  if (requested_epoch == undefined_epoch || entries_.empty()) return {undefined_epoch, undefined_epoch_offset};
  // The latest epoch ends at the log end offset.
  if (requested_epoch == entries_.back().epoch) return {requested_epoch, log_end_offset};
  // Otherwise the requested epoch ends where the first higher epoch starts, and the answer names the largest
  // epoch at or below the requested one (epochs in between were never seen by this replica).
  const EpochEntry* floor = nullptr;
  const EpochEntry* higher = nullptr;
  for (const EpochEntry& e : entries_) {
    if (e.epoch <= requested_epoch) floor = &e;
    if (e.epoch > requested_epoch) {
      higher = &e;
      break;
    }
  }
  if (higher == nullptr) return {undefined_epoch, undefined_epoch_offset};
  if (floor == nullptr) return {requested_epoch, higher->start_offset};
  return {floor->epoch, higher->start_offset};
}

void LeaderEpochCache::truncate_from_end(int64_t end_offset) {
  KS_ASSERT_GE(end_offset, 0);
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) entries_.pop_back();
  check_invariants();
}

void LeaderEpochCache::truncate_from_start(int64_t start_offset) {
  KS_ASSERT_GE(start_offset, 0);
  // Keep the last entry starting at or below start_offset (it covers start_offset) and move it up to it.
  std::size_t first_kept = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].start_offset <= start_offset) first_kept = i;
  }
  if (entries_.empty() || entries_.front().start_offset >= start_offset) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(first_kept));
  entries_.front().start_offset = start_offset;
  check_invariants();
}

void LeaderEpochCache::check_invariants() const {
  for (std::size_t i = 1; i < entries_.size(); ++i) {
    KS_ASSERT_LT(entries_[i - 1].epoch, entries_[i].epoch);
    KS_ASSERT_LT(entries_[i - 1].start_offset, entries_[i].start_offset);
  }
}

}  // namespace kafkasim::kafka
