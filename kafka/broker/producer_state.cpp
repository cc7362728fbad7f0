#include "kafkasim/kafka/broker/producer_state.hpp"

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
  const auto it = producers_.find(batch.producer_id);
  if (it == producers_.end()) return check;  // an unknown producer may start at any sequence (KIP-360)
  const ProducerStateEntry& entry = it->second;
  const int32_t first = batch.base_sequence;
  const int32_t last = last_sequence(batch);
  // findDuplicateBatch: the same epoch and the exact sequence range of a retained batch.
  if (batch.producer_epoch == entry.epoch) {
    for (const ProducerBatchMetadata& m : entry.batches) {
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
  ProducerStateEntry& entry = producers_[batch.producer_id];
  if (batch.producer_epoch != entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back({batch.base_sequence, last_sequence(batch), batch.last_offset(), batch.record_count - 1});
  if (entry.batches.size() > producer_batches_to_retain) entry.batches.pop_front();
}

void ProducerStateManager::truncate_to(int64_t log_end_offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    std::deque<ProducerBatchMetadata>& batches = it->second.batches;
    while (!batches.empty() && batches.back().last_offset >= log_end_offset) batches.pop_back();
    it = batches.empty() ? producers_.erase(it) : std::next(it);
  }
}

void ProducerStateManager::on_log_start_offset(int64_t log_start_offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    const bool gone = it->second.batches.empty() || it->second.batches.back().last_offset < log_start_offset;
    it = gone ? producers_.erase(it) : std::next(it);
  }
}

const ProducerStateEntry* ProducerStateManager::find(int64_t producer_id) const {
  const auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace kafkasim::kafka
