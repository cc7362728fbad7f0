#include "kafkasim/kafka/broker/coordinator_writes.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

Errc coordinator_error(Errc write_error) {
  switch (write_error) {
    case Errc::unknown_topic_or_partition:
    case Errc::not_enough_replicas:
    case Errc::request_timed_out:
      return Errc::coordinator_not_available;
    case Errc::not_leader_or_follower:
    case Errc::kafka_storage_error:
      return Errc::not_coordinator;
    case Errc::message_too_large:
    case Errc::record_list_too_large:
      return Errc::unknown_server_error;
    default:
      return write_error;
  }
}

bool CoordinatorWrites::write(int32_t partition, uint64_t write_id, int32_t records, int64_t record_bytes) {
  KS_ASSERT_GT(records, 0);
  KS_ASSERT_GT(record_bytes, int64_t{0});
  auto [open, opened] = open_.try_emplace(partition);
  if (opened) open->second.batch_id = next_batch_id_++;
  open->second.records += records;
  open->second.record_bytes += record_bytes;
  Appended& batch = batches_[open->second.batch_id];
  batch.partition = partition;
  batch.writes.push_back(write_id);
  const bool inserted = unsettled_.emplace(write_id, open->second.batch_id).second;
  KS_ASSERT_MSG(inserted, "a write id is used once");
  return opened;
}

CoordinatorWrites::Batch CoordinatorWrites::take_batch(int32_t partition) {
  auto node = open_.extract(partition);
  KS_ASSERT_MSG(!node.empty(), "a linger ends for an open batch");
  return Batch{node.mapped().batch_id, partition, node.mapped().records, node.mapped().record_bytes};
}

int32_t CoordinatorWrites::open_records(int32_t partition) const {
  const auto it = open_.find(partition);
  return it == open_.end() ? 0 : it->second.records;
}

void CoordinatorWrites::settle(const std::vector<uint64_t>& writes, Errc error, std::vector<Completion>& out) {
  for (const uint64_t id : writes) {
    if (unsettled_.erase(id) == 0) continue;  // timed out before
    out.push_back({id, error});
  }
}

void CoordinatorWrites::on_appended(uint64_t batch_id, Errc error, int64_t end_offset, std::vector<Completion>& out) {
  const auto it = batches_.find(batch_id);
  KS_ASSERT_MSG(it != batches_.end(), "an appended batch was taken from its linger");
  KS_ASSERT_EQ(it->second.end_offset, int64_t{-1});
  if (error != Errc::none) {
    settle(it->second.writes, coordinator_error(error), out);
    batches_.erase(it);
    return;
  }
  KS_ASSERT_GT(end_offset, int64_t{0});
  std::deque<uint64_t>& queue = waiting_for_hw_[it->second.partition];
  // One coordinator appends to a partition, so its batches end in append order.
  if (!queue.empty()) KS_ASSERT_LT(batches_.at(queue.back()).end_offset, end_offset);
  it->second.end_offset = end_offset;
  queue.push_back(batch_id);
}

void CoordinatorWrites::on_high_watermark(int32_t partition, int64_t high_watermark, std::vector<Completion>& out) {
  const auto q = waiting_for_hw_.find(partition);
  if (q == waiting_for_hw_.end()) return;
  while (!q->second.empty()) {
    const auto it = batches_.find(q->second.front());
    KS_ASSERT(it != batches_.end());
    if (it->second.end_offset > high_watermark) break;
    settle(it->second.writes, Errc::none, out);
    batches_.erase(it);
    q->second.pop_front();
  }
  if (q->second.empty()) waiting_for_hw_.erase(q);
}

void CoordinatorWrites::on_timeout(uint64_t write_id, std::vector<Completion>& out) {
  if (unsettled_.erase(write_id) == 0) return;
  out.push_back({write_id, coordinator_error(Errc::request_timed_out)});
}

}  // namespace kafkasim::kafka
