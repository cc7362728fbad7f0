// The requests and responses that Kafka's state machines exchange: Produce and Fetch (consumer and follower),
// and the idempotent producer's InitProducerId.
// They are values passed between nodes by the cluster layer, which also charges their wire size to the
// network model. Records are accounted, not materialised: a batch is a kafka::RecordBatch (offsets, count,
// size, producer fields, and an opaque tag the cluster layer uses to find per-record send times).
//
// Field names follow Kafka's ProduceRequest / FetchRequest schemas (clients/src/main/resources/common/message/);
// only the fields the simulation needs are kept.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// A broker's or client's node id as it appears in requests (Kafka's int32 node id). Clients get ids the
// cluster layer chooses, distinct from broker ids.
using NodeId = int32_t;

// FetchRequest.ReplicaId: -1 for consumers (FetchRequest.CONSUMER_REPLICA_ID).
inline constexpr NodeId consumer_replica_id = -1;

// Request/response header and per-partition framing overheads, in bytes on the wire. The v2 batch bytes
// dominate; these small constants keep tiny requests from costing nothing. [A] approximations of the
// RequestHeader (api key, version, correlation id, client id) and per-partition fields.
inline constexpr int64_t request_header_bytes = 24;
inline constexpr int64_t response_header_bytes = 8;
inline constexpr int64_t produce_partition_overhead_bytes = 16;
inline constexpr int64_t fetch_partition_request_bytes = 32;
inline constexpr int64_t fetch_partition_response_overhead_bytes = 48;
// KIP-227 fields, summed from FetchRequest.json / FetchResponse.json: SessionId + SessionEpoch (int32 each) on
// a request, ErrorCode (int16) + SessionId (int32) on a response, and one int32 partition index per
// ForgottenTopicsData entry (the topic id is counted once per topic in Kafka; here, like the per-partition
// constants above, the topic framing is left out).
inline constexpr int64_t fetch_request_session_bytes = 8;
inline constexpr int64_t fetch_response_session_bytes = 6;
inline constexpr int64_t fetch_forgotten_partition_bytes = 4;

// ---- Produce (ApiKey 0) ----

struct ProducePartitionData {
  PartitionRef partition;
  RecordBatch batch;  // the Java producer sends one batch per partition per request
};

struct ProduceRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
  int16_t acks = -1;           // 0, 1 or -1 (all)
  sim::Duration timeout;       // request.timeout.ms as sent in ProduceRequest.TimeoutMs
  std::vector<ProducePartitionData> partitions;
};

struct ProducePartitionResponse {
  PartitionRef partition;
  Errc error = Errc::none;
  int64_t base_offset = -1;
  int64_t log_start_offset = -1;
  // KIP-951: the current leader when error is NOT_LEADER_OR_FOLLOWER (unknown = -1).
  NodeId current_leader_id = -1;
  int32_t current_leader_epoch = -1;
};

struct ProduceResponse {
  uint64_t correlation_id = 0;
  std::vector<ProducePartitionResponse> partitions;
  // ThrottleTimeMs (KIP-219, Produce v6+): the broker muted the connection for this long after a client-quota
  // violation, and the client sends it nothing more until then (kafka-behaviour-2.md §10.5-§10.6).
  int32_t throttle_time_ms = 0;
};

// ---- Fetch (ApiKey 1) ----

// ---- Fetch sessions (KIP-227, Kafka >= 1.1; clients/.../requests/FetchMetadata.java) ----
// A request's (SessionId, SessionEpoch) says what kind of fetch it is:
//   (0, -1)    a full fetch that neither uses nor creates a session (the schema default, pre-KIP-227 clients);
//   (0, 0)     a full fetch asking for a new session;
//   (id, 0)    close session `id`, full fetch, ask for a new session;
//   (id, -1)   close session `id`, full fetch, no new session;
//   (id, e>0)  an incremental fetch in session `id` at epoch e.
// A session starts at epoch 1 and every incremental request moves it to the next epoch (wrapping from
// Integer.MAX_VALUE to 1, never back to 0).
inline constexpr int32_t invalid_session_id = 0;     // FetchMetadata.INVALID_SESSION_ID
inline constexpr int32_t initial_session_epoch = 0;  // FetchMetadata.INITIAL_EPOCH
inline constexpr int32_t final_session_epoch = -1;   // FetchMetadata.FINAL_EPOCH

struct FetchMetadata {
  int32_t session_id = invalid_session_id;
  int32_t epoch = initial_session_epoch;

  // FetchMetadata.nextEpoch: FINAL stays FINAL, Integer.MAX_VALUE wraps to 1.
  static constexpr int32_t next_epoch(int32_t previous_epoch) {
    if (previous_epoch < 0) return final_session_epoch;
    if (previous_epoch == INT32_MAX) return 1;
    return previous_epoch + 1;
  }
  // INITIAL_EPOCH and FINAL_EPOCH make full requests; any other epoch is incremental.
  constexpr bool is_full() const { return epoch == initial_session_epoch || epoch == final_session_epoch; }
  // The metadata of the request after this one, per FetchMetadata's helpers.
  constexpr FetchMetadata next_close_existing() const { return {session_id, final_session_epoch}; }
  constexpr FetchMetadata next_close_existing_attempt_new() const { return {session_id, initial_session_epoch}; }
  constexpr FetchMetadata next_incremental() const { return {session_id, next_epoch(epoch)}; }
  static constexpr FetchMetadata new_incremental(int32_t session_id) {
    return {session_id, next_epoch(initial_session_epoch)};
  }
  constexpr bool operator==(const FetchMetadata&) const = default;
};

// FetchMetadata.INITIAL: what a new FetchSessionHandler sends first.
inline constexpr FetchMetadata initial_fetch_metadata{invalid_session_id, initial_session_epoch};

// A rack name as a request carries it (the RackId of Fetch v11+), held inline: a fetch request is moved several
// times on its way through a broker (the purgatory included), and a std::string member would make each move a call.
// Kafka's rack names are short ("us-east-1a", "use1-az1"); up to kMaxSize characters are kept, more is a bug of the
// caller (the scenario loader admits only the cluster's own "rack-<r>" names).
class RackId {
 public:
  static constexpr std::size_t kMaxSize = 31;
  RackId() = default;
  RackId(std::string_view name) : size_(static_cast<uint8_t>(name.size())) {  // NOLINT: implicit, as a string
    KS_ASSERT_LE(name.size(), kMaxSize);
    std::copy(name.begin(), name.end(), chars_.begin());
  }
  RackId(const std::string& name) : RackId(std::string_view(name)) {}  // NOLINT
  RackId(const char* name) : RackId(std::string_view(name)) {}        // NOLINT
  std::string_view view() const { return {chars_.data(), size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  friend bool operator==(const RackId& a, const RackId& b) { return a.view() == b.view(); }

 private:
  std::array<char, kMaxSize> chars_{};
  uint8_t size_ = 0;
};

struct FetchPartitionRequest {
  PartitionRef partition;
  int64_t fetch_offset = 0;
  int32_t current_leader_epoch = -1;  // for fencing (KIP-320)
  int32_t last_fetched_epoch = -1;    // followers: epoch of the last fetched batch (divergence check, KIP-595)
  int64_t log_start_offset = -1;      // followers report theirs
  int32_t partition_max_bytes = 1'048'576;  // max.partition.fetch.bytes / replica.fetch.max.bytes
};

struct FetchRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;                   // the sending node
  NodeId replica_id = consumer_replica_id;  // the follower's broker id, or -1 for a consumer
  sim::Duration max_wait;                 // fetch.max.wait.ms / replica.fetch.wait.max.ms
  int32_t min_bytes = 1;                  // fetch.min.bytes / replica.fetch.min.bytes
  int32_t max_bytes = 52'428'800;         // fetch.max.bytes / replica.fetch.response.max.bytes
  // The partitions listed in the request: all of them in a full fetch, only those whose fetch state changed in
  // an incremental one (FetchSessionHandler's toSend).
  std::vector<FetchPartitionRequest> partitions;
  // KIP-227 (Fetch v7+). The defaults are the schema's: a sessionless full fetch.
  int32_t session_id = invalid_session_id;
  int32_t session_epoch = final_session_epoch;
  // ForgottenTopicsData: partitions to drop from an incremental session.
  std::vector<PartitionRef> forgotten;
  // RackId (Fetch v11+, KIP-392): the consumer's client.rack, "" when not set. Every consumer fetch carries client
  // metadata, so a consumer may read from any replica (fetchOnlyLeader is true for followers only); the leader
  // with a replica.selector.class may answer a partition with a preferred read replica instead of records.
  RackId rack_id;

  FetchMetadata metadata() const { return FetchMetadata{session_id, session_epoch}; }
};

// Where a response's record bytes come from: the cluster layer reads this slice through the page cache
// (sendfile) before the response can leave the broker.
struct FileSlice {
  FileId file_id;
  int64_t position = 0;
  int64_t bytes = 0;
};

struct EpochEndOffset {
  int32_t epoch = -1;
  int64_t end_offset = -1;
};

struct FetchPartitionResponse {
  PartitionRef partition;
  Errc error = Errc::none;
  // PreferredReadReplica (Fetch v11+, KIP-392): the replica the consumer should fetch this partition from, or -1.
  // When set the leader read nothing for the partition (no batches, an empty slice).
  NodeId preferred_read_replica = -1;
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  std::optional<EpochEndOffset> diverging_epoch;  // set when the follower must truncate first
  std::vector<RecordBatch> batches;               // whole batches, in offset order
  FileSlice slice;                                // bytes sent for this partition (may end mid-batch)
};

struct FetchResponse {
  uint64_t correlation_id = 0;
  // Every partition of a full fetch; only those with something new in an incremental one (records, a high
  // watermark or log start offset change, an error, a diverging epoch, a preferred read replica:
  // CachedPartition.maybeUpdateResponseData).
  std::vector<FetchPartitionResponse> partitions;
  // KIP-227: a top-level error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH) comes with no
  // partitions; `session_id` is the session the next request may use incrementally (0: none).
  Errc error = Errc::none;
  int32_t session_id = invalid_session_id;
  // ThrottleTimeMs (KIP-219, Fetch v8+): as ProduceResponse's. A consumer fetch throttled by a client quota gets
  // no partitions (FetchContext.getThrottledResponse).
  int32_t throttle_time_ms = 0;
};

// Wire sizes (bytes) of each message, for the network model.
// ---- DeleteRecords (ApiKey 21, KIP-107), as the admin client sends it to a partition's leader
// (kafka-behaviour-2.md §16.4; kafka-delete-records.sh) ----

struct DeleteRecordsPartition {
  PartitionRef partition;
  int64_t offset = -1;  // every record below it goes; -1 (DeleteRecordsRequest.HIGH_WATERMARK): the high watermark
};

struct DeleteRecordsRequest {
  uint64_t correlation_id = 0;
  std::vector<DeleteRecordsPartition> partitions;
  int32_t timeout_ms = 0;  // how long the leader waits for every replica's log start offset to reach the offsets
};

struct DeleteRecordsPartitionResult {
  PartitionRef partition;
  // The partition's low watermark (Partition.lowWatermarkIfLeader) when the answer was decided; -1 with an error
  // other than REQUEST_TIMED_OUT.
  int64_t low_watermark = -1;
  Errc error = Errc::none;
};

struct DeleteRecordsResponse {
  uint64_t correlation_id = 0;
  std::vector<DeleteRecordsPartitionResult> partitions;  // in request order
};

// ---- InitProducerId (ApiKey 22), as an idempotent, non-transactional producer sends it (kafka-behaviour.md §1.7) ----

struct InitProducerIdRequest {
  uint64_t correlation_id = 0;
  NodeId client_id = 0;
};

struct InitProducerIdResponse {
  uint64_t correlation_id = 0;
  Errc error = Errc::none;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// Bodies from InitProducerIdRequest.json / InitProducerIdResponse.json (flexible versions): a null TransactionalId
// (compact string, 1), TransactionTimeoutMs 4, ProducerId 8, ProducerEpoch 2 and the tagged-field count 1; the
// response ThrottleTimeMs 4, ErrorCode 2, ProducerId 8, ProducerEpoch 2, tagged fields 1.
inline constexpr int64_t init_producer_id_request_body_bytes = 16;
inline constexpr int64_t init_producer_id_response_body_bytes = 17;

int64_t wire_size_bytes(const InitProducerIdRequest& request);
int64_t wire_size_bytes(const InitProducerIdResponse& response);
int64_t wire_size_bytes(const ProduceRequest& request);
int64_t wire_size_bytes(const ProduceResponse& response);
int64_t wire_size_bytes(const FetchRequest& request);
int64_t wire_size_bytes(const FetchResponse& response);

}  // namespace kafkasim::kafka
