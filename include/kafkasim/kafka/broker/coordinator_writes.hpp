// The group coordinator's write path (Kafka 4.x CoordinatorRuntime with CoordinatorPartitionWriter;
// kafka-behaviour.md §5.2, §5.7), for OffsetCommit:
//  - a write (the records of one OffsetCommit: one per committed partition) joins the batch open for its
//    __consumer_offsets partition; the first write opens it, and group.coordinator.append.linger.ms later the batch
//    is appended to the partition's log as one record batch (CoordinatorPartitionWriter.append:
//    ReplicaManager.appendRecords with requiredAcks = 1, internal topics allowed, AppendOrigin.COORDINATOR);
//  - a write is answered once the partition's high watermark has reached the end of its batch (the runtime's
//    deferred events, completed by PartitionWriter.Listener.onHighWatermarkUpdated): an acknowledged commit is on
//    every ISR replica;
//  - a write fails with its batch's append error at once, or when offsets.commit.timeout.ms (the write operation's
//    timeout, counted from the write) passes first, with REQUEST_TIMED_OUT. The client sees the error mapped by
//    GroupCoordinatorService.handleOperationException (coordinator_error).
// A timed-out write's records stay in its batch, as the runtime's do: only the write's answer is settled.
//
// Sans-I/O (DESIGN.md principle 2): the caller arms the linger and timeout timers, performs the append and
// reports the high watermark; each call returns the writes it settled.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "kafkasim/kafka/errors.hpp"

namespace kafkasim::kafka {

// GroupCoordinatorService.handleOperationException: the error an OffsetCommit answer carries for a failed write.
// UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS and REQUEST_TIMED_OUT become COORDINATOR_NOT_AVAILABLE (the client
// retries); NOT_LEADER_OR_FOLLOWER and KAFKA_STORAGE_ERROR become NOT_COORDINATOR (the client looks the coordinator up
// again); MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE become UNKNOWN_SERVER_ERROR; any other passes through.
Errc coordinator_error(Errc write_error);

class CoordinatorWrites {
 public:
  struct Completion {
    uint64_t write_id = 0;
    Errc error = Errc::none;  // already mapped by coordinator_error
  };
  struct Batch {
    uint64_t batch_id = 0;
    int32_t partition = 0;
    int32_t records = 0;
    int64_t record_bytes = 0;  // the records' bytes, without the batch header
  };

  // A write of `records` records (> 0) of `record_bytes` bytes in all to `partition`. Returns true when it opened the
  // partition's batch: the caller calls take_batch(partition) when the linger ends. The caller also calls
  // on_timeout(write_id) when the write's timeout passes.
  bool write(int32_t partition, uint64_t write_id, int32_t records, int64_t record_bytes);
  // Records in `partition`'s open batch (0 if none): the offset delta of the next write's first record.
  int32_t open_records(int32_t partition) const;
  // The linger of `partition`'s open batch ended: the batch to append now. Its writes wait for on_appended.
  Batch take_batch(int32_t partition);
  // The append of `batch_id` ended: with an error (its writes fail now), or with the batch's records before
  // `end_offset` (the log end offset after the append), and its writes wait for the high watermark.
  void on_appended(uint64_t batch_id, Errc error, int64_t end_offset, std::vector<Completion>& out);
  // `partition`'s high watermark is now `high_watermark`: writes of batches that end at or below it succeed.
  void on_high_watermark(int32_t partition, int64_t high_watermark, std::vector<Completion>& out);
  // The write's timeout passed: it fails (REQUEST_TIMED_OUT, mapped) unless it was settled before.
  void on_timeout(uint64_t write_id, std::vector<Completion>& out);

  // Writes not settled yet.
  size_t unsettled() const { return unsettled_.size(); }

 private:
  struct Open {
    uint64_t batch_id = 0;
    int32_t records = 0;
    int64_t record_bytes = 0;
  };
  struct Appended {
    int32_t partition = 0;
    int64_t end_offset = -1;  // -1 while the append is in progress
    std::vector<uint64_t> writes;
  };
  void settle(const std::vector<uint64_t>& writes, Errc error, std::vector<Completion>& out);

  std::map<int32_t, Open> open_;                   // by partition: the lingering batch
  std::map<uint64_t, Appended> batches_;           // by batch id: every batch with a write not settled by it yet
  std::map<int32_t, std::deque<uint64_t>> waiting_for_hw_;  // by partition: appended batches, in offset order
  std::map<uint64_t, uint64_t> unsettled_;         // write id -> its batch id
  uint64_t next_batch_id_ = 1;
};

}  // namespace kafkasim::kafka
