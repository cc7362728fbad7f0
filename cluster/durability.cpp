#include "kafkasim/cluster/durability.hpp"

#include <algorithm>
#include <iterator>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

void AckedOffsets::flush() {
  if (run_end_ == run_first_) return;
  int64_t first = run_first_, end = run_end_;
  run_first_ = run_end_ = 0;
  // Merge with the ranges it touches: the one before it, if it ends at `first`, and the one starting at `end`.
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin() && std::prev(it)->second >= first) {
    --it;
    KS_ASSERT_EQ(it->second, first);  // an offset is acknowledged once
    first = it->first;
    it = ranges_.erase(it);
  }
  if (it != ranges_.end() && it->first <= end) {
    KS_ASSERT_EQ(it->first, end);
    end = it->second;
    ranges_.erase(it);
  }
  ranges_.emplace(first, end);
}

const std::map<int64_t, int64_t>& AckedOffsets::ranges() {
  flush();
  return ranges_;
}

DurabilityCount AckedOffsets::count_against(int64_t log_start, int64_t log_end) {
  KS_ASSERT_LE(log_start, log_end);
  DurabilityCount c;
  for (const auto& [first, end] : ranges()) {
    c.checked += static_cast<uint64_t>(end - first);
    c.deleted += static_cast<uint64_t>(std::max<int64_t>(0, std::min(end, log_start) - first));
    c.lost += static_cast<uint64_t>(std::max<int64_t>(0, end - std::max(first, log_end)));
  }
  return c;
}

DurabilityCount AckedOffsets::count_without_log() {
  DurabilityCount c;
  for (const auto& [first, end] : ranges()) c.checked += static_cast<uint64_t>(end - first);
  c.lost = c.checked;
  return c;
}

}  // namespace kafkasim::cluster
