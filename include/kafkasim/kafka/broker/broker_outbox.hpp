// The effects the broker's data-path state machines ask the cluster layer to carry out (STYLE.md "State
// machines in, effects out"): responses to send, storage operations to submit, and notifications that the
// cluster layer records (events.jsonl, metrics, safety checkers).
//
// Storage operations are the Log's own StorageOps: each names its file, and file ids carry the log id the
// cluster layer chose in ReplicaManager::add_partition (FileId = log_id << 32 | segment), so an fsync completion
// can be routed back with ReplicaManager::on_flush_completed.
#pragma once

#include <cstdint>
#include <vector>

#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

struct OutgoingProduceResponse {
  NodeId destination = 0;
  ProduceResponse response;
};

struct OutgoingFetchResponse {
  NodeId destination = 0;
  FetchResponse response;
};

enum class IsrChangeKind : uint8_t { shrink, expand };

// An ISR change the leader applied. In Kafka the leader proposes it with AlterPartition and applies it when the
// controller's PartitionChangeRecord comes back (§3.4); with no controller yet it is applied at once.
struct IsrChange {
  PartitionRef partition;
  IsrChangeKind kind = IsrChangeKind::shrink;
  int32_t leader_epoch = 0;
  std::vector<NodeId> old_isr;  // sorted
  std::vector<NodeId> new_isr;  // sorted
  sim::SimTime time;
};

// The leader's high watermark increased: every record below `new_high_watermark` is committed. The cluster
// layer uses it to measure commit latency and to check that acknowledged data is never lost.
struct HighWatermarkAdvance {
  PartitionRef partition;
  int64_t old_high_watermark = 0;
  int64_t new_high_watermark = 0;
  sim::SimTime time;
};

// A follower removed a log suffix (diverging epoch, §3.5). The durability checker needs it.
struct LogTruncation {
  PartitionRef partition;
  int64_t old_log_end_offset = 0;
  int64_t new_log_end_offset = 0;
  sim::SimTime time;
};

struct BrokerOutbox {
  std::vector<OutgoingProduceResponse> produce_responses;
  std::vector<OutgoingFetchResponse> fetch_responses;
  StorageOps storage_ops;
  std::vector<IsrChange> isr_changes;
  std::vector<HighWatermarkAdvance> high_watermark_advances;
  std::vector<LogTruncation> truncations;
  // acks=0 requests with an error: Kafka closes the connection instead of answering (§2.2 step 4), so the
  // producer notices through a disconnect and a metadata refresh.
  std::vector<NodeId> connections_to_close;
  // Answers to DeleteRecords requests (ReplicaManager::handle_delete_records), at once or when their delayed
  // operation completes or expires.
  std::vector<DeleteRecordsResponse> delete_records_responses;

  void clear() {
    produce_responses.clear();
    fetch_responses.clear();
    storage_ops.clear();
    isr_changes.clear();
    high_watermark_advances.clear();
    truncations.clear();
    connections_to_close.clear();
    delete_records_responses.clear();
  }
  bool empty() const {
    return produce_responses.empty() && fetch_responses.empty() && storage_ops.empty() && isr_changes.empty() &&
           high_watermark_advances.empty() && truncations.empty() && connections_to_close.empty() &&
           delete_records_responses.empty();
  }
};

}  // namespace kafkasim::kafka
