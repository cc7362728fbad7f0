#include "kafkasim/kafka/broker/producer_state.hpp"

#include <algorithm>
#include <limits>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// The last sequence of a batch: first + count - 1, wrapping at Integer.MAX_VALUE to 0
// (DefaultRecordBatch.incrementSequence).
int32_t last_sequence(const RecordBatch& batch) {
  const int64_t last = static_cast<int64_t>(batch.base_sequence) + batch.record_count - 1;
  const int64_t wrap = static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1;
  return static_cast<int32_t>(last % wrap);
}

}  // namespace

ProducerCheck ProducerStateManager::check_client_batch(const RecordBatch& batch) const {
  ProducerCheck check;
  if (batch.producer_id < 0) return check;
  const ProducerStateEntry* found = find(batch.producer_id);
  if (found == nullptr) return check;  // an unknown producer may start at any sequence (KIP-360)
  const ProducerStateEntry& entry = *found;
  const int32_t first = batch.base_sequence;
  const int32_t last = last_sequence(batch);
  // findDuplicateBatch: the same epoch and the exact sequence range of a retained batch.
  if (batch.producer_epoch == entry.epoch) {
    for (size_t i = 0; i < entry.batches.size(); ++i) {
      const ProducerBatchMetadata& m = entry.batches[i];
      if (m.first_seq == first && m.last_seq == last) {
        check.duplicate_of = m;
        return check;
      }
    }
  }
  // ProducerAppendInfo.checkProducerEpoch.
  if (batch.producer_epoch < entry.epoch) {
    check.error = Errc::invalid_producer_epoch;
    return check;
  }
  // checkSequence.
  if (batch.producer_epoch != entry.epoch) {
    if (entry.epoch != -1 && first != 0) check.error = Errc::out_of_order_sequence_number;
    return check;
  }
  if (entry.batches.empty()) return check;  // no sequence known for this epoch
  const int32_t current_last = entry.batches.back().last_seq;
  const bool in_sequence = first == static_cast<int32_t>((static_cast<int64_t>(current_last) + 1) %
                                                         (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1));
  if (!in_sequence) check.error = Errc::out_of_order_sequence_number;
  return check;
}

void ProducerStateManager::on_appended(const RecordBatch& batch) {
  if (batch.producer_id < 0) return;
  KS_ASSERT_GE(batch.base_offset, 0);
  ProducerStateEntry* found = find_mutable(batch.producer_id);
  if (found == nullptr) {
    const auto at = std::lower_bound(producers_.begin(), producers_.end(), batch.producer_id,
                                     [](const auto& p, int64_t id) { return p.first < id; });
    found = &producers_.insert(at, {batch.producer_id, ProducerStateEntry{}})->second;
  }
  ProducerStateEntry& entry = *found;
  if (batch.producer_epoch != entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back({batch.base_sequence, last_sequence(batch), batch.last_offset(), batch.record_count - 1});
}

void RetainedBatches::push_back(const ProducerBatchMetadata& m) {
  if (size_ == ring_.size()) {
    ring_[head_] = m;  // overwrite the oldest
    head_ = static_cast<uint8_t>((head_ + 1) % ring_.size());
    return;
  }
  ring_[(head_ + size_) % ring_.size()] = m;
  ++size_;
}

void ProducerStateManager::truncate_to(int64_t log_end_offset) {
  for (auto& [id, entry] : producers_) {
    while (!entry.batches.empty() && entry.batches.back().last_offset >= log_end_offset) entry.batches.pop_back();
  }
  std::erase_if(producers_, [](const auto& p) { return p.second.batches.empty(); });
}

void ProducerStateManager::on_log_start_offset(int64_t log_start_offset) {
  std::erase_if(producers_, [log_start_offset](const auto& p) {
    return p.second.batches.empty() || p.second.batches.back().last_offset < log_start_offset;
  });
}

const ProducerStateEntry* ProducerStateManager::find(int64_t producer_id) const {
  const auto it = std::lower_bound(producers_.begin(), producers_.end(), producer_id,
                                   [](const auto& p, int64_t id) { return p.first < id; });
  return it != producers_.end() && it->first == producer_id ? &it->second : nullptr;
}

ProducerStateEntry* ProducerStateManager::find_mutable(int64_t producer_id) {
  return const_cast<ProducerStateEntry*>(std::as_const(*this).find(producer_id));
}

}  // namespace kafkasim::kafka
