// The producer's Sender (clients/.../producer/internals/Sender.java: runOnce -> sendProducerData ->
// client.poll, with the parts of NetworkClient / InFlightRequests and of TransactionManager's idempotent path
// it needs) as a sans-I/O state machine; reference/kafka-behaviour.md §1.6, §1.7, §1.9 and §7.
//
// The cluster layer drives it:
//  - poll(now): expire batches past delivery.timeout.ms (queued and in flight), time out in-flight requests
//    older than request.timeout.ms (closing the connection), then accumulator.ready -> drain per ready node ->
//    one ProduceRequest per node, appended to the outbox with its destination;
//  - on_request_sent(correlation id): the request's last byte left the client. Only then may the next request
//    go to that node (InFlightRequests.canSendMore), and an acks=0 request completes here;
//  - on_produce_response / on_disconnect: complete, retry or fail the batches;
//  - next_wakeup(): when poll must run next. Calling poll early is harmless.
//
// Idempotence: the producer id comes from InitProducerId (§1.7), which the cluster layer sends when the outbox
// asks for it (producer_id_requested) and answers with set_producer_id_and_epoch; until then nothing is drained. The broker de-duplicates; the
// Sender keeps per-partition sequence bookkeeping (last acked sequence, in-flight sequences) to keep order
// with up to 5 requests in flight. The accumulator's drain asks it (should_stop_drain, the DrainSequenceGate)
// about each partition whose head it would take, as drainBatchesForOneNode asks
// shouldStopDrainBatchesForPartition: a retried batch goes out only when it is the partition's first in-flight
// batch, which limits a retrying partition to one batch in flight; a new batch waits while the partition has
// unresolved sequences or batches of an older epoch in flight; and the first partition that must wait ends the
// drain of its node.
//
// Simplifications (said here so nobody relies on them): the epoch bump (KIP-360) waits until no request is in
// flight and then restarts the sequences of the partitions that required it (Kafka bumps right away; the other
// partitions take the new epoch when drain next reaches a new batch of theirs, maybeUpdateProducerIdAndEpoch, as
// in Kafka); expired batches are failed before drain, not after it in the same pass; connections are assumed
// established except for reconnect.backoff.ms (with its ±20 % jitter) after a disconnect (no exponential growth
// over repeated failures: the backoff restarts at attempt 0, as after a connection that was ready; no connection
// setup time, which the cluster layer's network models); no transactions.
//
// MESSAGE_TOO_LARGE for a batch of more than one record splits it (KIP-126, Sender.completeBatch ->
// RecordAccumulator.splitAndReenqueue, see accumulator.hpp); a single record too large fails.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "kafkasim/kafka/errors.hpp"
#include "kafkasim/kafka/producer/accumulator.hpp"
#include "kafkasim/kafka/producer/producer_config.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/histogram.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// Why a record completed. `acked` carries an offset (-1 when unknown: acks=0, DUPLICATE_SEQUENCE_NUMBER);
// every other outcome is the exception the callback would receive.
enum class RecordOutcome : uint8_t {
  acked,             // RecordMetadata delivered to the callback
  broker_error,      // a non-retriable error (or retries exhausted): `error` says which
  delivery_timeout,  // TimeoutException: delivery.timeout.ms passed since batch creation
  buffer_exhausted,  // BufferExhaustedException: blocked in send() longer than max.block.ms
  record_too_large,  // RecordTooLargeException from send()
  unknown_topic,     // the topic is not in the metadata (see producer.hpp)
  producer_closed,   // send() after close, or closed while blocked
};

// A record's callback: the cluster layer computes produce latency as `completion_time - send_time`.
struct RecordCompletion {
  uint64_t record_id = 0;
  sim::SimTime send_time;
  sim::SimTime completion_time;
  PartitionRef partition;  // partition is unknown_partition if the record never reached a batch
  int64_t offset = -1;
  RecordOutcome outcome = RecordOutcome::acked;
  Errc error = Errc::none;  // the Kafka error for broker_error; request_timed_out for the timeouts
};

// A send() that had blocked on buffer.memory returned (appended or failed): the application thread may go on.
struct UnblockedSend {
  uint64_t record_id = 0;
  int32_t partition = unknown_partition;  // where it was appended, if it was
  bool appended = false;
};

struct OutgoingProduceRequest {
  NodeId destination = 0;
  ProduceRequest request;
};

// KIP-951: the new leader a NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH response named.
struct LeaderHint {
  PartitionRef partition;
  NodeId leader_id = no_leader_node;
  int32_t leader_epoch = no_leader_epoch;
};

// Everything the producer wants done, in order of decision. The cluster layer empties it after each call.
struct ProducerOutbox {
  std::vector<OutgoingProduceRequest> requests;
  std::vector<RecordCompletion> completions;
  std::vector<UnblockedSend> unblocked_sends;
  // Metadata.requestUpdate: an InvalidMetadataException, a disconnect or a partition without a leader.
  bool metadata_refresh_requested = false;
  std::vector<LeaderHint> leader_hints;
  // Batches the broker rejected as too large and that were split (their records went to new batches): nothing
  // of them was appended anywhere.
  std::vector<BatchId> split_batches;
  // Batches whose records failed (every outcome but acked). Unlike a split batch, a failed one may still have been
  // appended: a leader can append it and the producer give up on it afterwards (a request timeout, a connection
  // closed, NOT_ENOUGH_REPLICAS_AFTER_APPEND), or a request carrying it may still be on its way to a broker.
  std::vector<BatchId> failed_batches;
  // Connections the producer closed (request timeout), whose in-flight requests it failed: the cluster layer
  // withdraws the requests on them that had not been fully sent (a closed socket sends nothing more); responses
  // still travelling on them are dropped by on_produce_response (stale).
  std::vector<NodeId> closed_connections;
  // The producer needs a producer id (a fresh idempotent producer, or its epoch is exhausted): the cluster layer sends
  // InitProducerId and installs the answer with set_producer_id_and_epoch. Set on every poll until then.
  bool producer_id_requested = false;

  void clear() { *this = ProducerOutbox{}; }
};

// Counters for the metrics Kafka's producer exposes (records-per-request-avg, batch-size-avg, record-retry-rate,
// record-error-rate, ...).
struct SenderMetrics {
  uint64_t produce_requests = 0;
  uint64_t batches_sent = 0;  // batch sends, retries included
  uint64_t records_sent = 0;  // record sends, retries included
  uint64_t bytes_sent = 0;    // batch bytes, retries included
  uint64_t batch_retries = 0;
  uint64_t records_retried = 0;  // record-retry-total: the records of the retried batches
  uint64_t batch_splits = 0;  // batch-split-rate: batches split after MESSAGE_TOO_LARGE
  uint64_t records_acked = 0;
  uint64_t records_failed = 0;  // any outcome but acked, excluding failures inside send()
  uint64_t batches_expired = 0;
  uint64_t request_timeouts = 0;
  uint64_t disconnects = 0;
  uint64_t epoch_bumps = 0;
  uint64_t stale_responses = 0;  // responses for unknown correlation ids (closed connections)
  // records-per-request and batch-size (each ProduceRequest's records, each batch's bytes as sent, retries
  // included), record-queue-time (Sender.sendProducerData: each drained batch's drain time minus its creation time,
  // retries included) and request-latency (each ProduceResponse's arrival minus its request's send), in ns; only from
  // the time set by set_latency_metrics_from (a run's warm-up end), as every distribution of a run's summary.
  sim::Histogram records_per_request;
  sim::Histogram batch_size_bytes;
  sim::Histogram record_queue_time_ns;
  sim::Histogram request_latency_ns;
  // produce-throttle-time (NetworkClient.maybeThrottle): the throttle_time_ms of every ProduceResponse, in ms (0 for
  // those not throttled), from the same time on.
  sim::Histogram produce_throttle_time_ms;
  uint64_t throttled_responses = 0;  // ProduceResponses with throttle_time_ms > 0, from the same time on
};

// The Sender is the accumulator's DrainSequenceGate (privately: only its own drain calls pass it on).
class Sender : private DrainSequenceGate {
 public:
  // The accumulator must outlive the Sender; `client_id` is this producer's node id in requests.
  Sender(const ProducerConfig& config, NodeId client_id, RecordAccumulator& accumulator, sim::Rng& rng);

  // InitProducerId, answered by the cluster layer (§1.7): (producer id, epoch 0) for a fresh producer.
  void set_producer_id_and_epoch(ProducerIdAndEpoch id);
  ProducerIdAndEpoch producer_id_and_epoch() const { return producer_id_and_epoch_; }

  // Sender.runOnce without the blocking client.poll.
  void poll(sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox);
  // The request was fully written to the socket (acks=0: completes its batches with offset -1).
  void on_request_sent(uint64_t correlation_id, sim::SimTime now, const ProducerMetadata& metadata,
                       ProducerOutbox& outbox);
  // A ProduceResponse arrived. Unknown correlation ids (a connection closed since) are ignored.
  void on_produce_response(const ProduceResponse& response, sim::SimTime now, const ProducerMetadata& metadata,
                           ProducerOutbox& outbox);
  // The connection to `node` broke (broker crash, network partition): NETWORK_EXCEPTION for its in-flight
  // requests.
  void on_disconnect(NodeId node, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox);

  // KafkaProducer.send woke the sender (a batch became full or a new batch was created).
  void wakeup(sim::SimTime now) { wakeup_time_ = sim::min(wakeup_time_, now); }

  // The earliest time poll has something to do; SimTime::max() when nothing is pending.
  sim::SimTime next_wakeup() const;

  size_t in_flight_request_count(NodeId node) const;
  size_t in_flight_request_count() const;
  bool has_in_flight_batches() const { return !in_flight_batches_.empty(); }
  // The partition's last acknowledged sequence (-1 if none since the last epoch bump).
  int32_t last_acked_sequence(PartitionRef partition) const;
  const SenderMetrics& metrics() const { return metrics_; }
  // The latency histograms of SenderMetrics count from `from` on.
  void set_latency_metrics_from(sim::SimTime from) { latency_metrics_from_ = from; }
  // Every record's timestamp (CreateTime) is its send() time plus `offset`, a whole number of milliseconds (negative:
  // older): an application that sets ProducerRecord timestamps that way, or a client clock off by `offset`.
  void set_timestamp_offset(sim::Duration offset);
  // Numbers this sender's ProduceRequests from `first` (before it sends any): the cluster layer gives a restarted
  // producer's process ids above every id its predecessors used, so that an answer to a dead process is told apart.
  void start_correlation_ids_at(uint64_t first) {
    KS_ASSERT_EQ(next_correlation_id_, 0u);
    next_correlation_id_ = first;
  }

 private:
  struct InFlightRequest {
    uint64_t correlation_id = 0;
    NodeId node = 0;
    sim::SimTime send_time;  // sendTimeMs: request.timeout.ms counts from here
    // incrementThrottleTime: throttles of the node while the request was in flight extend its timeout.
    sim::Duration throttle_extension;
    bool fully_sent = false;
    bool expects_response = true;
    std::vector<BatchId> batches;
  };
  struct InFlightBatch {
    uint64_t correlation_id = 0;
    sim::SimTime created_time;
  };
  // TxnPartitionEntry (idempotent path only).
  struct PartitionSequenceState {
    int32_t last_acked_sequence = no_sequence;
    // Base sequences of drained, unfinished batches, ascending and unique (a handful: a sorted list beats a set).
    std::vector<int32_t> in_flight_sequences;
    bool unresolved = false;  // an in-flight batch expired: its fate is unknown
    // The epoch bump its sequences belong to (epoch_generation_ when they were last started at 0). An epoch bump
    // rewrites only the partitions that triggered it; the others keep their old-epoch batches in flight and take
    // the new epoch once those are done (TransactionManager.maybeUpdateProducerIdAndEpoch).
    uint32_t epoch_generation = 0;
  };

  bool idempotent() const { return config_.enable_idempotence; }
  // DrainSequenceGate: shouldStopDrainBatchesForPartition and, for a batch about to get its first sequence,
  // maybeUpdateProducerIdAndEpoch (TransactionManager), asked by drain about each partition it would take a batch
  // from.
  bool should_stop_drain(PartitionRef partition, const ProducerBatch& head) final;
  void run_expiry(sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox);
  void maybe_resolve_and_bump(sim::SimTime now, ProducerOutbox& outbox);
  // requestEpochBumpForPartition.
  void request_epoch_bump(PartitionRef partition);
  // The partition's entry back to its default state under the current epoch (nothing acked or in flight).
  void restart_sequence_state(PartitionRef partition);
  bool node_can_send_more(NodeId node, sim::SimTime now) const;
  void send_produce_request(NodeId node, std::vector<BatchId> batches, sim::SimTime now, ProducerOutbox& outbox);
  // Closes the connection: every in-flight request on it fails with `error` (REQUEST_TIMED_OUT after a request
  // timeout, NETWORK_EXCEPTION after a disconnect).
  void close_connection(NodeId node, Errc error, sim::SimTime now, const ProducerMetadata& metadata,
                        ProducerOutbox& outbox);
  // Sender.completeBatch for one partition's result. `batch` must be in flight.
  void complete_batch(BatchId batch, const ProducePartitionResponse& response, sim::SimTime now,
                      const ProducerMetadata& metadata, ProducerOutbox& outbox);
  bool can_retry(const ProducerBatch& batch, Errc error, sim::SimTime now) const;
  // MESSAGE_TOO_LARGE for an in-flight batch of several records: its parts go back to the accumulator.
  void split_batch(BatchId batch, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox);
  // RecordAccumulator.deallocate, reporting the sends it unblocks.
  void deallocate(BatchId batch, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox);
  // The creation time of the oldest in-flight batch (delivery.timeout.ms counts from it).
  sim::SimTime earliest_in_flight_creation() const;
  // Removes the batch from the in-flight bookkeeping and the accumulator, reporting each record.
  void finish_batch(BatchId batch, RecordOutcome outcome, Errc error, int64_t base_offset, sim::SimTime now,
                    const ProducerMetadata& metadata, ProducerOutbox& outbox);
  // The partition's entry, created in its default state (nothing acked or in flight) if new.
  PartitionSequenceState& sequence_state(PartitionRef partition);
  // The partition's entry, or null if it was never touched (which reads as the default state).
  const PartitionSequenceState* find_sequence_state(PartitionRef partition) const;

  ProducerConfig config_;
  NodeId client_id_;
  RecordAccumulator& accumulator_;
  sim::Rng& rng_;  // the producer's: the reconnect backoff's jitter
  ProducerIdAndEpoch producer_id_and_epoch_;
  bool epoch_bump_required_ = false;
  // partitionsToRewriteSequences: the partitions whose failure requires the epoch bump (their sequences restart
  // at 0 at the bump); sorted, unique.
  std::vector<PartitionRef> partitions_to_rewrite_;
  uint32_t epoch_generation_ = 0;  // epoch bumps of the current producer id
  bool producer_id_requested_ = false;
  uint64_t next_correlation_id_ = 0;
  std::map<NodeId, std::deque<InFlightRequest>> in_flight_;  // per node, oldest first
  std::map<BatchId, InFlightBatch> in_flight_batches_;
  // By topic, then partition (dense small integers): looked up for every drained and completed batch. Iterated in
  // (topic, partition) order.
  std::vector<std::vector<PartitionSequenceState>> sequences_;
  bool any_unresolved_ = false;  // some entry of sequences_ may be unresolved
  std::map<NodeId, sim::SimTime> reconnect_after_;  // reconnect.backoff.ms after a closed connection
  // ClusterConnectionStates.throttle: a node is not ready until its throttle ends (KIP-219, §10.6).
  std::map<NodeId, sim::SimTime> throttled_until_;
  sim::SimTime wakeup_time_ = sim::SimTime::zero();
  sim::SimTime next_ready_check_time_ = sim::SimTime::max();
  SenderMetrics metrics_;
  sim::SimTime latency_metrics_from_ = sim::SimTime::zero();
  sim::Duration timestamp_offset_ = sim::Duration::zero();
};

}  // namespace kafkasim::kafka
