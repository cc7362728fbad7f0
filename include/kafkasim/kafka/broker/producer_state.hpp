// The broker's idempotent-producer state for one partition (storage/.../ProducerStateManager.java,
// ProducerStateEntry.java, ProducerAppendInfo.java, UnifiedLog.analyzeAndValidateProducerState;
// reference/kafka-behaviour.md §1.7, "Broker"): per producer id, its epoch and the metadata of its last
// NUM_BATCHES_TO_RETAIN = 5 batches, which is what de-duplicates a retried batch and rejects out-of-order ones.
//
// Leader appends (origin CLIENT) are validated before the append:
//  1. duplicate: same epoch and a retained batch with exactly the same (first, last) sequence -> nothing is
//     appended, the produce succeeds with the original batch's offsets;
//  2. epoch: older than the producer's -> INVALID_PRODUCER_EPOCH;
//  3. sequence: a new epoch must start at sequence 0 (unless the producer is unknown); the same epoch must
//     continue at last sequence + 1 (or wrap from Integer.MAX_VALUE to 0); an unknown producer (no state, e.g.
//     removed by retention) may start anywhere (KIP-360) -> else OUT_OF_ORDER_SEQUENCE_NUMBER.
// Follower appends (origin REPLICATION) update the state without validation, so a new leader knows it.
//
// Not modelled: transactions (coordinator epochs, open transactions), producer.id.expiration.ms (1 day: no run is
// that long), snapshots. After a truncation the retained batches above the new log end are dropped (Kafka rebuilds
// the state from a snapshot and the log, which gives the same retained batches when the truncated ones were the
// newest); when retention moves the log start past a producer's last batch, the producer is forgotten.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// BatchMetadata.
struct ProducerBatchMetadata {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t last_offset = 0;
  int32_t offset_delta = 0;  // record count - 1: the first offset is last_offset - offset_delta
  int64_t first_offset() const { return last_offset - offset_delta; }
};

// ProducerStateEntry.NUM_BATCHES_TO_RETAIN.
inline constexpr size_t producer_batches_to_retain = 5;

// A producer's retained batches, oldest first: a ring of producer_batches_to_retain entries held inline (every
// idempotent append touches one, so no allocation and one cache line or two).
class RetainedBatches {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // i = 0 is the oldest.
  const ProducerBatchMetadata& operator[](size_t i) const { return ring_[(head_ + i) % ring_.size()]; }
  const ProducerBatchMetadata& back() const { return (*this)[size_ - 1]; }
  // The newest; when all producer_batches_to_retain are held, the oldest is dropped (ProducerStateEntry.addBatch).
  void push_back(const ProducerBatchMetadata& m);
  void pop_back() { --size_; }
  void clear() { head_ = size_ = 0; }

 private:
  std::array<ProducerBatchMetadata, producer_batches_to_retain> ring_{};
  uint8_t head_ = 0;
  uint8_t size_ = 0;
};

// ProducerStateEntry.
struct ProducerStateEntry {
  int16_t epoch = -1;  // RecordBatch.NO_PRODUCER_EPOCH when unknown
  RetainedBatches batches;
};

// What a leader append of an idempotent batch may do.
struct ProducerCheck {
  Errc error = Errc::none;
  // The batch duplicates a retained one: do not append; answer with these offsets.
  std::optional<ProducerBatchMetadata> duplicate_of;
};

class ProducerStateManager {
 public:
  // For a batch a client sends to the leader, before offsets are assigned. Batches without a producer id pass.
  ProducerCheck check_client_batch(const RecordBatch& batch) const;
  // After a batch with its final offsets was appended (leader or follower): it becomes the producer's newest
  // retained batch; a new epoch drops the older ones.
  void on_appended(const RecordBatch& batch);
  // The log was truncated to `log_end_offset`: retained batches at or above it are gone.
  void truncate_to(int64_t log_end_offset);
  // The log start offset moved: producers whose newest batch is below it are forgotten.
  void on_log_start_offset(int64_t log_start_offset);

  const ProducerStateEntry* find(int64_t producer_id) const;
  size_t producer_count() const { return producers_.size(); }

 private:
  ProducerStateEntry* find_mutable(int64_t producer_id);

  // Sorted by producer id (a partition has few producers: a sorted vector is one allocation and no tree walk;
  // iteration is in id order, so it cannot change results).
  std::vector<std::pair<int64_t, ProducerStateEntry>> producers_;
};

}  // namespace kafkasim::kafka
