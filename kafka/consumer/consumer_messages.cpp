#include "kafkasim/kafka/consumer/consumer_messages.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// [A] approximations in the style of protocol.hpp: the top-level fields (replica id, isolation level, group id,
// generation, member id) and one topic name per partition dominate these small requests.
constexpr int64_t list_offsets_fixed_bytes = 16;
constexpr int64_t list_offsets_partition_request_bytes = 40;   // topic name + partition + epoch + timestamp
constexpr int64_t list_offsets_partition_response_bytes = 48;  // + error, timestamp, offset, leader epoch
constexpr int64_t offset_commit_fixed_bytes = 64;
constexpr int64_t offset_commit_partition_request_bytes = 40;  // topic name + partition + offset + epoch + metadata
constexpr int64_t offset_commit_partition_response_bytes = 30;
// OffsetFetch v8+: the group id (compact string), a null member id, member epoch, RequireStable; per partition the
// topic name's share and a partition index; answered with offset, leader epoch, empty metadata and error.
constexpr int64_t offset_fetch_fixed_bytes = 12;
constexpr int64_t offset_fetch_partition_request_bytes = 28;
constexpr int64_t offset_fetch_partition_response_bytes = 44;

int64_t count(std::size_t n) { return static_cast<int64_t>(n); }

}  // namespace

int64_t wire_size_bytes(const ListOffsetsRequest& request) {
  return request_header_bytes + list_offsets_fixed_bytes +
         count(request.partitions.size()) * list_offsets_partition_request_bytes;
}

int64_t wire_size_bytes(const ListOffsetsResponse& response) {
  return response_header_bytes + count(response.partitions.size()) * list_offsets_partition_response_bytes;
}

int64_t wire_size_bytes(const FindCoordinatorRequest& request) {
  return request_header_bytes + find_coordinator_request_fixed_bytes + count(request.group_id.size());
}

int64_t wire_size_bytes(const FindCoordinatorResponse& response) {
  return response_header_bytes + find_coordinator_response_fixed_bytes + count(response.group_id.size()) +
         find_coordinator_host_bytes;
}

int64_t wire_size_bytes(const OffsetCommitRequest& request) {
  return request_header_bytes + offset_commit_fixed_bytes +
         count(request.partitions.size()) * offset_commit_partition_request_bytes;
}

int64_t wire_size_bytes(const OffsetCommitResponse& response) {
  return response_header_bytes + count(response.partitions.size()) * offset_commit_partition_response_bytes;
}

int64_t wire_size_bytes(const OffsetFetchRequest& request) {
  return request_header_bytes + offset_fetch_fixed_bytes + count(request.group_id.size()) +
         count(request.partitions.size()) * offset_fetch_partition_request_bytes;
}

int64_t wire_size_bytes(const OffsetFetchResponse& response) {
  return response_header_bytes + offset_fetch_fixed_bytes +
         count(response.partitions.size()) * offset_fetch_partition_response_bytes;
}

void validate(const ConsumerConfig& config) {
  // Ranges from ConsumerConfig.java (atLeast(0) / atLeast(1)).
  KS_ASSERT_GE(config.fetch_min_bytes, 0);
  KS_ASSERT_GE(config.fetch_max_bytes, 0);
  KS_ASSERT_GE(config.fetch_max_wait.ns(), 0);
  KS_ASSERT_GE(config.max_partition_fetch_bytes, 0);
  KS_ASSERT_GE(config.max_poll_records, 1);
  // Every fetch carries client.rack inline (RackId); the scenario loader admits only the cluster's rack names.
  KS_ASSERT_LE(config.client_rack.size(), RackId::kMaxSize);
  KS_ASSERT_GE(config.metadata_max_age.ns(), 0);
  KS_ASSERT_GE(config.request_timeout.ns(), 0);
  // Kafka accepts 0 for these, which makes a real client spin; a simulation would spin too (a wakeup due at
  // `now` that re-arms itself at `now`), so they must be positive here.
  if (config.enable_auto_commit) KS_ASSERT_GT(config.auto_commit_interval.ns(), 0);
  KS_ASSERT_GT(config.retry_backoff.ns(), 0);
  KS_ASSERT_GE(config.auto_offset_reset_duration.ns(), 0);  // AutoOffsetResetStrategy rejects negative durations
  KS_ASSERT_GT(config.reconnect_backoff.ns(), 0);
  KS_ASSERT_GT(config.request_timeout.ns(), 0);
}

}  // namespace kafkasim::kafka
