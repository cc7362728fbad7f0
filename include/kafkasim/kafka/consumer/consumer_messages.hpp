// The consumer's requests besides Fetch: ListOffsets (ApiKey 2, used to reset a position by auto.offset.reset),
// OffsetCommit (ApiKey 8), OffsetFetch (ApiKey 9) and FindCoordinator (ApiKey 10). They live here rather than in
// protocol.hpp because only the consumer sends them. The partition leader answers ListOffsets
// (ReplicaManager::handle_list_offsets); the cluster layer plays the group coordinator for the other three.
// Field names follow Kafka's ListOffsetsRequest / OffsetCommitRequest schemas
// (clients/src/main/resources/common/message/); only the fields the simulation needs are kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkasim/kafka/consumer/consumer_config.hpp"
#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

// ---- ListOffsets (ApiKey 2) ----

// ListOffsetsRequest.EARLIEST_TIMESTAMP (-2) answers the log start offset; LATEST_TIMESTAMP (-1) answers the HW
// for read_uncommitted or the LSO for read_committed (§5.7 "Position initialisation").
inline constexpr int64_t list_offsets_earliest_timestamp = -2;
inline constexpr int64_t list_offsets_latest_timestamp = -1;
// A timestamp >= 0 (Unix epoch ms) asks for the first offset whose record timestamp is at least that; the answer is
// ListOffsetsResponse.UNKNOWN_OFFSET (-1), without an error, when no readable record is that recent.
inline constexpr int64_t list_offsets_unknown_offset = -1;
// Records carry timestamps on the simulated clock, which starts at 0; ListOffsets carries Unix epoch milliseconds, as
// Kafka's protocol does, with the simulated clock's 0 at 2026-01-01T00:00:00Z [A]. So a timestamp from before the
// run's start (a producer's timestamp_offset) is an ordinary positive timestamp on the wire, never one of the
// special values above.
inline constexpr int64_t simulated_epoch_ms = 1'767'225'600'000;

struct ListOffsetsPartitionRequest {
  PartitionRef partition;
  int32_t current_leader_epoch = -1;  // KIP-320 fencing
  int64_t timestamp = list_offsets_latest_timestamp;
};

struct ListOffsetsRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  NodeId replica_id = consumer_replica_id;
  IsolationLevel isolation_level = IsolationLevel::read_uncommitted;
  std::vector<ListOffsetsPartitionRequest> partitions;
};

struct ListOffsetsPartitionResponse {
  PartitionRef partition;
  Errc error = Errc::none;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
};

struct ListOffsetsResponse {
  uint64_t correlation_id = 0;
  std::vector<ListOffsetsPartitionResponse> partitions;
};

// ---- OffsetCommit (ApiKey 8) ----

struct OffsetCommitPartition {
  PartitionRef partition;
  // The position: the next offset to consume, i.e. last returned + 1 (§5.7).
  int64_t committed_offset = 0;
  // The leader epoch of the last consumed record (KIP-320), -1 if unknown.
  int32_t committed_leader_epoch = -1;
};

struct OffsetCommitRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  // -1 with a static assignment: a "simple" commit that the coordinator accepts for an EMPTY group (§5.7).
  int32_t generation_id = -1;
  std::vector<OffsetCommitPartition> partitions;
};

struct OffsetCommitPartitionResponse {
  PartitionRef partition;
  Errc error = Errc::none;
};

struct OffsetCommitResponse {
  uint64_t correlation_id = 0;
  std::vector<OffsetCommitPartitionResponse> partitions;
};

// ---- OffsetFetch (ApiKey 9) ----

// A consumer whose assigned partitions have no position asks the group coordinator for the group's committed
// offsets before it resets the others by auto.offset.reset (ConsumerCoordinator.initWithCommittedOffsetsIfNeeded,
// §5.7). v8+ (one group, member id null and epoch -1 for a static assignment); RequireStable true (KIP-447).
struct OffsetFetchRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  std::string group_id;
  std::vector<PartitionRef> partitions;
  bool require_stable = true;
};

struct OffsetFetchPartitionResponse {
  PartitionRef partition;
  int64_t committed_offset = -1;  // -1: the group has no committed offset for it
  int32_t committed_leader_epoch = -1;
  Errc error = Errc::none;
};

struct OffsetFetchResponse {
  uint64_t correlation_id = 0;
  Errc error = Errc::none;  // the group-level error (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR, ...)
  std::vector<OffsetFetchPartitionResponse> partitions;
};

// FindCoordinator (ApiKey 10, key type GROUP), sent to the least-loaded node when the consumer starts (§5.1).
struct FindCoordinatorRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  std::string group_id;
};

struct FindCoordinatorResponse {
  uint64_t correlation_id = 0;
  Errc error = Errc::none;
  NodeId coordinator = -1;
  std::string group_id;
};

// FindCoordinator v4+ bodies (FindCoordinatorRequest.json / FindCoordinatorResponse.json, flexible versions, one
// key): request KeyType 1, CoordinatorKeys (array length 1, the key as a compact string 1 + length), tagged fields
// 1; response ThrottleTimeMs 4, Coordinators (array length 1; Key 1 + length, NodeId 4, Host 1 + host length, Port
// 4, ErrorCode 2, null ErrorMessage 1, tagged fields 1), tagged fields 1. Host names of 16 bytes [A].
inline constexpr int64_t find_coordinator_request_fixed_bytes = 4;
inline constexpr int64_t find_coordinator_response_fixed_bytes = 20;
inline constexpr int64_t find_coordinator_host_bytes = 16;

// Wire sizes (bytes) for the network model, in the same spirit as protocol.hpp: header plus per-partition
// fields, with a fixed [A] approximation for the group id, member id and topic names.
int64_t wire_size_bytes(const FindCoordinatorRequest& request);
int64_t wire_size_bytes(const FindCoordinatorResponse& response);
int64_t wire_size_bytes(const ListOffsetsRequest& request);
int64_t wire_size_bytes(const ListOffsetsResponse& response);
int64_t wire_size_bytes(const OffsetCommitRequest& request);
int64_t wire_size_bytes(const OffsetCommitResponse& response);
int64_t wire_size_bytes(const OffsetFetchRequest& request);
int64_t wire_size_bytes(const OffsetFetchResponse& response);

}  // namespace kafkasim::kafka
