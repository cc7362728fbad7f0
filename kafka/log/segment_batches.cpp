// Compact per-segment batch storage; see include/kafkasim/kafka/log/segment_batches.hpp.
#include "kafkasim/kafka/log/segment_batches.hpp"

namespace kafkasim::kafka {

namespace {
// Interning looks for a batch's producer fields among this many most recent table entries and adds an entry
// otherwise. A partition interleaves a few producers, so the entry is nearly always found; with more producers
// than this the table holds duplicates, which costs memory but keeps every append's search bounded.
constexpr std::size_t intern_search_entries = 16;
}  // namespace

uint32_t SegmentBatches::intern(const Producer& producer) {
  const std::size_t n = producers_.size();
  const std::size_t searched = n < intern_search_entries ? n : intern_search_entries;
  for (std::size_t k = 1; k <= searched; ++k) {
    if (producers_[n - k] == producer) return static_cast<uint32_t>(n - k);
  }
  KS_ASSERT_LE(n, std::size_t{producer_index_mask});
  producers_.push_back(producer);
  return static_cast<uint32_t>(n);
}

void SegmentBatches::truncate(std::size_t count) {
  KS_ASSERT_LE(count, batches_.size());
  if (count == batches_.size()) return;
  end_position_ = batches_[count].position;
  batches_.truncate(count);
  // Entries of the producer table may outlive the batches that used them; an empty segment starts afresh.
  if (count == 0) producers_ = std::vector<Producer>();
  KS_ASSERT_EQ(end_position_ == 0, batches_.empty());
}

}  // namespace kafkasim::kafka
