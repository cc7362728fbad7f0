#include "kafkasim/kafka/producer/sender.hpp"

#include <algorithm>
#include <limits>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// Bounds no sane scenario reaches; exceeding them is a caller bug.
constexpr size_t max_batches_per_request = 1 << 20;
constexpr size_t max_nodes = 1 << 16;

// The sequence after `sequence` (wraps at Integer.MAX_VALUE to 0, like DefaultRecordBatch.incrementSequence);
// no_sequence is followed by 0.
int32_t sequence_after(int32_t sequence, int32_t increment) {
  if (sequence == no_sequence) return increment - 1;
  const int64_t next = static_cast<int64_t>(sequence) + increment;
  return static_cast<int32_t>(next % (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1));
}

int32_t last_sequence_of(const ProducerBatch& batch) {
  KS_ASSERT(batch.has_sequence());
  return sequence_after(batch.base_sequence, batch.record_count() - 1);
}

// A sorted list of unique sequences used as a set.
void insert_sequence(std::vector<int32_t>& sequences, int32_t sequence) {
  const auto it = std::lower_bound(sequences.begin(), sequences.end(), sequence);
  if (it == sequences.end() || *it != sequence) sequences.insert(it, sequence);
}

void erase_sequence(std::vector<int32_t>& sequences, int32_t sequence) {
  const auto it = std::lower_bound(sequences.begin(), sequences.end(), sequence);
  if (it != sequences.end() && *it == sequence) sequences.erase(it);
}

}  // namespace

Sender::Sender(const ProducerConfig& config, NodeId client_id, RecordAccumulator& accumulator, sim::Rng& rng)
    : config_(config), client_id_(client_id), accumulator_(accumulator), rng_(rng),
      // A fresh idempotent producer has no producer id: its first poll asks for one (InitProducerId, §1.7).
      producer_id_requested_(config.enable_idempotence) {
  KS_ASSERT_MSG(validate(config).empty(), validate(config));
  KS_ASSERT_EQ(config.enable_idempotence, accumulator.config().enable_idempotence);
  KS_ASSERT_EQ(config.max_in_flight_requests_per_connection, accumulator.config().max_in_flight_requests_per_connection);
}

void Sender::set_producer_id_and_epoch(ProducerIdAndEpoch id) {
  KS_ASSERT(id.valid());
  KS_ASSERT_MSG(in_flight_batches_.empty(), "a producer id is installed only while nothing is in flight");
  // A new id restarts every partition's sequences (InitProducerId after a reset, §1.7); the first id finds no
  // sequenced batch, so this is harmless for a fresh producer.
  producer_id_and_epoch_ = id;
  accumulator_.restart_sequences(id);
  sequences_.clear();
  any_unresolved_ = false;
  epoch_bump_required_ = false;
  partitions_to_rewrite_.clear();
  epoch_generation_ = 0;
  producer_id_requested_ = false;
  wakeup_time_ = sim::SimTime::zero();
}

size_t Sender::in_flight_request_count(NodeId node) const {
  const auto it = in_flight_.find(node);
  return it == in_flight_.end() ? 0 : it->second.size();
}

size_t Sender::in_flight_request_count() const {
  size_t count = 0;
  for (const auto& [node, requests] : in_flight_) count += requests.size();
  return count;
}

int32_t Sender::last_acked_sequence(PartitionRef partition) const {
  const PartitionSequenceState* state = find_sequence_state(partition);
  return state == nullptr ? no_sequence : state->last_acked_sequence;
}

Sender::PartitionSequenceState& Sender::sequence_state(PartitionRef partition) {
  KS_ASSERT_GE(partition.topic, 0);
  KS_ASSERT_LT(partition.topic, max_topics);
  KS_ASSERT_GE(partition.partition, 0);
  KS_ASSERT_LT(partition.partition, max_partitions_per_topic);
  if (sequences_.size() <= static_cast<size_t>(partition.topic))
    sequences_.resize(static_cast<size_t>(partition.topic) + 1);
  std::vector<PartitionSequenceState>& topic = sequences_[static_cast<size_t>(partition.topic)];
  if (topic.size() <= static_cast<size_t>(partition.partition)) {
    // A partition without a state was not drained since the producer id was set, so its next sequence is 0 under
    // the current epoch: its state starts in the current epoch generation (Kafka's TxnPartitionEntry gets the
    // current producer id and epoch at its first drain, maybeUpdateProducerIdAndEpoch). Created in an older
    // generation, it would look stale once its first batch was done, and its second batch would start again at
    // sequence 0, a duplicate under the same epoch.
    PartitionSequenceState fresh;
    fresh.epoch_generation = epoch_generation_;
    topic.resize(static_cast<size_t>(partition.partition) + 1, fresh);
  }
  return topic[static_cast<size_t>(partition.partition)];
}

const Sender::PartitionSequenceState* Sender::find_sequence_state(PartitionRef partition) const {
  if (partition.topic < 0 || static_cast<size_t>(partition.topic) >= sequences_.size()) return nullptr;
  const std::vector<PartitionSequenceState>& topic = sequences_[static_cast<size_t>(partition.topic)];
  if (partition.partition < 0 || static_cast<size_t>(partition.partition) >= topic.size()) return nullptr;
  return &topic[static_cast<size_t>(partition.partition)];
}

bool Sender::node_can_send_more(NodeId node, sim::SimTime now) const {
  // NetworkClient.ready: a closed connection waits reconnect.backoff.ms before it is usable again.
  const auto reconnect = reconnect_after_.find(node);
  if (reconnect != reconnect_after_.end() && reconnect->second > now) return false;
  // ClusterConnectionStates.isReady: not while the broker's throttle lasts.
  const auto throttled = throttled_until_.find(node);
  if (throttled != throttled_until_.end() && throttled->second > now) return false;
  // InFlightRequests.canSendMore: the last request is fully written and fewer than
  // max.in.flight.requests.per.connection are outstanding.
  const auto it = in_flight_.find(node);
  if (it == in_flight_.end() || it->second.empty()) return true;
  return it->second.back().fully_sent &&
         it->second.size() < static_cast<size_t>(config_.max_in_flight_requests_per_connection);
}

void Sender::poll(sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  wakeup_time_ = sim::SimTime::max();
  for (auto it = reconnect_after_.begin(); it != reconnect_after_.end();) {
    it = it->second <= now ? reconnect_after_.erase(it) : std::next(it);
  }
  std::erase_if(throttled_until_, [now](const auto& entry) { return entry.second <= now; });

  // BufferPool.allocate timeouts: BufferExhaustedException goes to the send's callback (§1.5).
  for (const BlockedSendOutcome& blocked : accumulator_.expire_blocked_sends(now, metadata)) {
    const bool appended = blocked.result.status == AppendStatus::appended;
    outbox.unblocked_sends.push_back({blocked.record_id, blocked.result.partition, appended});
    if (!appended) {
      RecordCompletion completion;
      completion.record_id = blocked.record_id;
      completion.send_time = blocked.send_time;
      completion.completion_time = now;
      completion.partition = {0, unknown_partition};
      completion.outcome = blocked.result.status == AppendStatus::buffer_exhausted ? RecordOutcome::buffer_exhausted
                                                                                    : RecordOutcome::producer_closed;
      completion.error = Errc::request_timed_out;  // BufferExhaustedException is a TimeoutException
      outbox.completions.push_back(completion);
    }
  }

  // NetworkClient.handleTimedOutRequests: a request older than request.timeout.ms closes its whole connection
  // (§1.6 step 8). Collect first: closing edits the map.
  std::vector<NodeId> timed_out_nodes;
  for (const auto& [node, requests] : in_flight_) {
    for (const InFlightRequest& request : requests) {
      if (now - request.send_time >= config_.request_timeout + request.throttle_extension) {
        timed_out_nodes.push_back(node);
        break;
      }
    }
  }
  for (NodeId node : timed_out_nodes) {
    ++metrics_.request_timeouts;
    close_connection(node, Errc::request_timed_out, now, metadata, outbox);
  }

  // Sender.sendProducerData step 6 (done first here, so an expired batch is never sent): delivery.timeout.ms.
  run_expiry(now, metadata, outbox);

  // Step 1: maybeResolveSequences / bumpIdempotentEpochAndResetIdIfNeeded.
  maybe_resolve_and_bump(now, outbox);

  // Step 2: accumulator.ready.
  const ReadyCheckResult ready = accumulator_.ready(metadata, now);
  if (!ready.unknown_leader_topics.empty()) outbox.metadata_refresh_requested = true;
  next_ready_check_time_ = ready.next_ready_check_delay == sim::Duration::max()
                               ? sim::SimTime::max()
                               : now + ready.next_ready_check_delay;

  // Step 3: drop nodes that cannot take another request.
  std::vector<NodeId> nodes;
  KS_ASSERT_LE(ready.ready_nodes.size(), max_nodes);
  for (NodeId node : ready.ready_nodes) {
    const bool can_send = node_can_send_more(node, now);
    accumulator_.update_node_latency_stats(node, now, can_send);
    if (can_send) nodes.push_back(node);
  }
  if (nodes.empty()) return;

  const bool may_drain = !idempotent() || (producer_id_and_epoch_.valid() && !epoch_bump_required_);
  if (!may_drain) return;

  // Step 4: drain, one ProduceRequest per node.
  for (NodeId node : nodes) {
    // An idempotent producer's drain asks should_stop_drain (shouldStopDrainBatchesForPartition) about each
    // partition it would take a batch from.
    std::vector<BatchId> drained = accumulator_.drain(metadata, node, config_.max_request_size_bytes, now,
                                                      idempotent() ? static_cast<DrainSequenceGate*>(this) : nullptr);
    if (drained.empty()) continue;
    for (BatchId id : drained) {
      const ProducerBatch& batch = accumulator_.batch(id);
      if (idempotent()) {
        // addInFlightBatch (a retry is still listed; the list is a set).
        KS_ASSERT(batch.has_sequence());
        insert_sequence(sequence_state(batch.partition).in_flight_sequences, batch.base_sequence);
      }
      // Step 5: max.in.flight.requests.per.connection = 1 mutes the partition until the batch completes.
      if (config_.guarantee_message_order()) accumulator_.mute_partition(batch.partition);
    }
    send_produce_request(node, std::move(drained), now, outbox);
  }
}

bool Sender::should_stop_drain(PartitionRef partition, const ProducerBatch& head) {
  KS_ASSERT(idempotent());
  KS_ASSERT(producer_id_and_epoch_.valid());
  const PartitionSequenceState* const state = find_sequence_state(partition);
  // A partition never drained since the producer id was set has the default state under the current epoch
  // (getOrCreatePartition; its next sequence is 0): nothing to wait for, nothing to restart.
  if (state == nullptr) return false;
  // hasStaleProducerIdAndEpoch: the partition's sequences belong to an epoch before the last bump (a bump rewrites
  // only the partitions that required it, see maybe_resolve_and_bump).
  const bool stale = state->epoch_generation != epoch_generation_;
  const bool in_flight = !state->in_flight_sequences.empty();  // hasInflightBatches (re-enqueued retries included)
  // shouldStopDrainBatchesForPartition, in Kafka's order.
  if (!head.has_sequence()) {
    // A new batch waits while the partition has batches of a stale epoch in flight (sequence 0 under the new
    // epoch could be written before them), and while the fate of earlier sequences is unknown.
    if (stale && in_flight) return true;
    if (state->unresolved) return true;
  }
  // A retry goes out only as the partition's first in-flight batch, which limits a retrying partition to one
  // batch in flight.
  if (head.has_sequence() && in_flight && head.base_sequence != state->in_flight_sequences.front())
    return true;
  // maybeUpdateProducerIdAndEpoch, for a batch about to get its sequence: a stale partition with nothing in flight
  // starts again at sequence 0 under the current epoch (startSequencesAtBeginning).
  if (!head.has_sequence() && stale) {
    KS_ASSERT(!in_flight);
    accumulator_.restart_partition_sequences(partition, producer_id_and_epoch_);
    restart_sequence_state(partition);
  }
  return false;
}

void Sender::run_expiry(sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  // accumulator.expiredBatches: queued batches (fresh or waiting for a retry).
  for (BatchId id : accumulator_.expired_batches(now)) {
    const ProducerBatch& batch = accumulator_.batch(id);
    if (idempotent() && batch.attempts > 0) {
      // A retried batch expired (expiredBatch.inRetry()): the broker may or may not have it, so the partition's
      // sequences are unresolved until everything in flight is done (markSequenceUnresolved). A split part
      // waiting for its first send has a sequence but is not in retry: Kafka does not mark it.
      sequence_state(batch.partition).unresolved = true;
      any_unresolved_ = true;
    }
    ++metrics_.batches_expired;
    finish_batch(id, RecordOutcome::delivery_timeout, Errc::request_timed_out, -1, now, metadata, outbox);
  }
  // getExpiredInflightBatches: in-flight batches past delivery.timeout.ms fail now; their response, if it ever
  // comes, is ignored.
  if (in_flight_batches_.empty() || now - earliest_in_flight_creation() < config_.delivery_timeout) return;
  std::vector<BatchId> expired;
  for (const auto& [id, in_flight] : in_flight_batches_)
    if (now - in_flight.created_time >= config_.delivery_timeout) expired.push_back(id);
  for (BatchId id : expired) {
    const ProducerBatch& batch = accumulator_.batch(id);
    // The same rule in flight: only a batch in retry marks its partition unresolved. One that expires on its
    // first attempt is failed and leaves the in-flight list (handleFailedBatch with adjustSequenceNumbers =
    // false), and the partition's next batch goes out with the next sequence; if the broker never had it, that
    // batch gets OUT_OF_ORDER_SEQUENCE_NUMBER.
    if (idempotent() && batch.attempts > 0) {
      sequence_state(batch.partition).unresolved = true;
      any_unresolved_ = true;
    }
    ++metrics_.batches_expired;
    finish_batch(id, RecordOutcome::delivery_timeout, Errc::request_timed_out, -1, now, metadata, outbox);
  }
}

void Sender::maybe_resolve_and_bump(sim::SimTime now, ProducerOutbox& outbox) {
  if (!idempotent()) return;
  // maybeResolveSequences: once nothing of an unresolved partition is in flight, it is resolved if the broker
  // acknowledged every sequence sent, else the epoch must be bumped.
  if (any_unresolved_) {
    any_unresolved_ = false;
    for (size_t t = 0; t < sequences_.size(); ++t) {
      for (size_t p = 0; p < sequences_[t].size(); ++p) {
        PartitionSequenceState& state = sequences_[t][p];
        if (!state.unresolved) continue;
        if (state.in_flight_sequences.empty()) {
          const int32_t expected_next =
              state.last_acked_sequence == no_sequence ? 0 : sequence_after(state.last_acked_sequence, 1);
          const PartitionRef tp{static_cast<int32_t>(t), static_cast<int32_t>(p)};
          if (expected_next == accumulator_.next_sequence(tp)) {
            state.unresolved = false;
          } else {
            request_epoch_bump(tp);
          }
        }
        any_unresolved_ |= state.unresolved;
      }
    }
  }
  if (producer_id_requested_) outbox.producer_id_requested = true;
  if (!epoch_bump_required_ || !producer_id_and_epoch_.valid() || in_flight_request_count() != 0) return;
  // bumpIdempotentProducerEpoch (KIP-360): epoch + 1, or a new producer id when the epoch is exhausted.
  ++metrics_.epoch_bumps;
  if (producer_id_and_epoch_.epoch == std::numeric_limits<int16_t>::max()) {
    producer_id_and_epoch_ = {};
    accumulator_.set_producer_id_and_epoch(producer_id_and_epoch_);
    producer_id_requested_ = true;
    outbox.producer_id_requested = true;
    return;
  }
  const ProducerIdAndEpoch bumped{producer_id_and_epoch_.producer_id,
                                  static_cast<int16_t>(producer_id_and_epoch_.epoch + 1)};
  producer_id_and_epoch_ = bumped;
  accumulator_.set_producer_id_and_epoch(bumped);
  ++epoch_generation_;
  // "When the epoch is bumped, rewrite all in-flight sequences for the partition(s) that triggered the epoch
  // bump". The other partitions keep theirs: a retry of theirs may already be in the log (its response lost to a
  // request timeout) and must reach the broker with the same epoch and sequence to be found a duplicate.
  for (const PartitionRef tp : partitions_to_rewrite_) {
    accumulator_.restart_partition_sequences(tp, bumped);
    restart_sequence_state(tp);
  }
  partitions_to_rewrite_.clear();
  any_unresolved_ = true;  // the next pass recomputes it
  epoch_bump_required_ = false;
  (void)now;
}

void Sender::restart_sequence_state(PartitionRef partition) {
  PartitionSequenceState& state = sequence_state(partition);
  state = PartitionSequenceState{};
  state.epoch_generation = epoch_generation_;
}

void Sender::request_epoch_bump(PartitionRef partition) {
  epoch_bump_required_ = true;
  const auto it = std::lower_bound(partitions_to_rewrite_.begin(), partitions_to_rewrite_.end(), partition);
  if (it == partitions_to_rewrite_.end() || *it != partition) partitions_to_rewrite_.insert(it, partition);
}

void Sender::set_timestamp_offset(sim::Duration offset) {
  // Whole milliseconds keep every record's timestamp delta within its batch (and so the batch's size) as without.
  KS_ASSERT_EQ(offset.ns() % 1'000'000, 0);
  timestamp_offset_ = offset;
}

void Sender::send_produce_request(NodeId node, std::vector<BatchId> batches, sim::SimTime now,
                                  ProducerOutbox& outbox) {
  KS_ASSERT(!batches.empty());
  KS_ASSERT_LE(batches.size(), max_batches_per_request);
  ProduceRequest request;
  request.correlation_id = next_correlation_id_++;
  request.client_id = client_id_;
  request.acks = static_cast<int16_t>(config_.acks);
  request.timeout = config_.request_timeout;  // ProduceRequest.TimeoutMs = request.timeout.ms (§1.1)
  request.partitions.reserve(batches.size());
  int64_t records = 0;
  for (BatchId id : batches) {
    const ProducerBatch& batch = accumulator_.batch(id);
    KS_ASSERT(batch.closed);
    RecordBatch wire;
    wire.record_count = batch.record_count();
    wire.size_bytes = batch.built_size_bytes;
    // CreateTime: a record's timestamp is its send time in whole milliseconds. The oldest is the first record's,
    // the batch's base timestamp, as records are appended in send() order; the minimum is taken all the same.
    sim::SimTime min_send_time = batch.records.front().send_time;
    sim::SimTime max_send_time = sim::SimTime::zero();
    for (const RecordMeta& record : batch.records) {
      min_send_time = sim::min(min_send_time, record.send_time);
      max_send_time = sim::max(max_send_time, record.send_time);
      wire.null_key_records += record.null_key ? 1 : 0;
    }
    wire.max_timestamp = sim::SimTime::zero() + sim::Duration::from_ms(max_send_time.ns() / 1'000'000) +
                         timestamp_offset_;
    wire.base_timestamp = sim::SimTime::zero() + sim::Duration::from_ms(min_send_time.ns() / 1'000'000) +
                          timestamp_offset_;
    wire.producer_id = batch.producer_id;
    wire.producer_epoch = batch.producer_epoch;
    wire.base_sequence = batch.base_sequence;
    wire.tag = id;  // the cluster layer finds the records again through the producer's batch id
    wire.first_record_number = static_cast<int64_t>(batch.records.front().record_id);
    request.partitions.push_back({batch.partition, wire});
    in_flight_batches_[id] = InFlightBatch{request.correlation_id, batch.created_time};
    records += batch.record_count();
    ++metrics_.batches_sent;
    metrics_.records_sent += static_cast<uint64_t>(batch.record_count());
    metrics_.bytes_sent += static_cast<uint64_t>(batch.built_size_bytes);
    if (now >= latency_metrics_from_) {
      metrics_.batch_size_bytes.record(batch.built_size_bytes);
      metrics_.record_queue_time_ns.record((now - batch.created_time).ns());
    }
  }
  ++metrics_.produce_requests;
  if (now >= latency_metrics_from_) metrics_.records_per_request.record(records);

  InFlightRequest in_flight;
  in_flight.correlation_id = request.correlation_id;
  in_flight.node = node;
  in_flight.send_time = now;
  in_flight.expects_response = config_.acks != Acks::none;  // acks=0: no response (§1.6 step 9)
  in_flight.batches = std::move(batches);
  std::deque<InFlightRequest>& requests = in_flight_[node];
  requests.push_back(std::move(in_flight));
  KS_ASSERT_LE(requests.size(), static_cast<size_t>(config_.max_in_flight_requests_per_connection));
  outbox.requests.push_back({node, std::move(request)});
}

void Sender::on_request_sent(uint64_t correlation_id, sim::SimTime now, const ProducerMetadata& metadata,
                             ProducerOutbox& outbox) {
  for (auto& [node, requests] : in_flight_) {
    for (auto it = requests.begin(); it != requests.end(); ++it) {
      if (it->correlation_id != correlation_id) continue;
      KS_ASSERT(!it->fully_sent);
      it->fully_sent = true;
      wakeup_time_ = sim::min(wakeup_time_, now);
      if (it->expects_response) return;
      // acks=0: NetworkClient.handleCompletedSends completes the request; every batch succeeds with offset -1.
      const InFlightRequest done = std::move(*it);
      requests.erase(it);
      for (BatchId id : done.batches) {
        const auto batch = in_flight_batches_.find(id);
        if (batch == in_flight_batches_.end() || batch->second.correlation_id != correlation_id) continue;
        finish_batch(id, RecordOutcome::acked, Errc::none, -1, now, metadata, outbox);
      }
      return;
    }
  }
  // The connection was closed meanwhile: nothing to do.
}

void Sender::on_produce_response(const ProduceResponse& response, sim::SimTime now, const ProducerMetadata& metadata,
                                 ProducerOutbox& outbox) {
  std::optional<InFlightRequest> request;
  for (auto& [node, requests] : in_flight_) {
    const auto it = std::find_if(requests.begin(), requests.end(), [&](const InFlightRequest& r) {
      return r.correlation_id == response.correlation_id;
    });
    if (it == requests.end()) continue;
    request = std::move(*it);
    requests.erase(it);
    if (response.throttle_time_ms > 0) {
      // NetworkClient.maybeThrottle (§10.6): the node is not ready until the throttle ends (the deadline never moves
      // back), and the requests still in flight to it get the throttle added to their timeouts.
      const sim::Duration throttle = sim::Duration::from_ms(response.throttle_time_ms);
      sim::SimTime& until = throttled_until_[node];
      until = sim::max(until, now + throttle);
      for (InFlightRequest& r : requests) r.throttle_extension += throttle;
    }
    break;
  }
  if (!request) {
    // A response on a connection we closed (request timeout) or a duplicate: Kafka never sees it.
    ++metrics_.stale_responses;
    return;
  }
  KS_ASSERT(request->expects_response);
  if (now >= latency_metrics_from_) {
    metrics_.request_latency_ns.record((now - request->send_time).ns());
    metrics_.produce_throttle_time_ms.record(response.throttle_time_ms);
    if (response.throttle_time_ms > 0) ++metrics_.throttled_responses;
  }
  wakeup_time_ = sim::min(wakeup_time_, now);
  for (BatchId id : request->batches) {
    const auto batch = in_flight_batches_.find(id);
    if (batch == in_flight_batches_.end() || batch->second.correlation_id != request->correlation_id) continue;
    const PartitionRef tp = accumulator_.batch(id).partition;
    const auto partition_response =
        std::find_if(response.partitions.begin(), response.partitions.end(),
                     [&](const ProducePartitionResponse& p) { return p.partition == tp; });
    KS_ASSERT_MSG(partition_response != response.partitions.end(), "a ProduceResponse lacks a requested partition");
    complete_batch(id, *partition_response, now, metadata, outbox);
  }
}

void Sender::on_disconnect(NodeId node, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  ++metrics_.disconnects;
  close_connection(node, Errc::network_exception, now, metadata, outbox);
}

void Sender::close_connection(NodeId node, Errc error, sim::SimTime now, const ProducerMetadata& metadata,
                              ProducerOutbox& outbox) {
  KS_ASSERT(error == Errc::request_timed_out || error == Errc::network_exception);
  // NetworkClient.processDisconnection: the node is unusable for its reconnect backoff (ClusterConnectionStates
  // .disconnected: ExponentialBackoff.backoff(failedAttempts), 0 after a connection that was ready, so
  // reconnect.backoff.ms with ±20 % jitter), and the metadata is refreshed (handleServerDisconnect).
  reconnect_after_[node] = now + exponential_backoff(config_.reconnect_backoff, config_.reconnect_backoff_max, 0, rng_);
  outbox.metadata_refresh_requested = true;
  wakeup_time_ = sim::min(wakeup_time_, now);
  const auto it = in_flight_.find(node);
  if (it == in_flight_.end()) return;
  std::deque<InFlightRequest> requests = std::move(it->second);
  in_flight_.erase(it);
  if (!requests.empty()) outbox.closed_connections.push_back(node);
  // Oldest request first, so non-idempotent retries (addFirst) keep the newest batches at the front, as Kafka's
  // per-request completion would.
  for (const InFlightRequest& request : requests) {
    for (BatchId id : request.batches) {
      const auto batch = in_flight_batches_.find(id);
      if (batch == in_flight_batches_.end() || batch->second.correlation_id != request.correlation_id) continue;
      ProducePartitionResponse synthetic;
      synthetic.partition = accumulator_.batch(id).partition;
      synthetic.error = error;
      complete_batch(id, synthetic, now, metadata, outbox);
    }
  }
}

bool Sender::can_retry(const ProducerBatch& batch, Errc error, sim::SimTime now) const {
  // Sender.canRetry: not past delivery.timeout.ms (counted from creation), attempts < retries.
  if (now - batch.created_time >= config_.delivery_timeout) return false;
  if (batch.attempts >= config_.retries) return false;
  if (!idempotent()) return is_retriable(error);
  // TransactionManager.canRetry (§1.7).
  const PartitionSequenceState* state = find_sequence_state(batch.partition);
  if (error == Errc::out_of_order_sequence_number) {
    // Retry when an earlier batch failed (this one is not the next expected); a real gap fails the batch.
    const bool unresolved = state != nullptr && state->unresolved;
    const int32_t last_acked = state == nullptr ? no_sequence : state->last_acked_sequence;
    const int32_t expected = last_acked == no_sequence ? 0 : sequence_after(last_acked, 1);
    return !unresolved && batch.base_sequence != expected;
  }
  // UNKNOWN_PRODUCER_ID: the broker lost the producer's state; always retried (with an epoch bump unless the
  // log start offset is unknown, see complete_batch).
  if (error == Errc::unknown_producer_id) return true;
  return is_retriable(error);
}

void Sender::complete_batch(BatchId id, const ProducePartitionResponse& response, sim::SimTime now,
                            const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  KS_ASSERT(in_flight_batches_.contains(id));
  const ProducerBatch& batch = accumulator_.batch(id);
  KS_ASSERT(response.partition == batch.partition);
  const Errc error = response.error;
  const PartitionRef tp = batch.partition;

  if (error == Errc::none) {
    finish_batch(id, RecordOutcome::acked, Errc::none, response.base_offset, now, metadata, outbox);
  } else if (error == Errc::message_too_large && batch.record_count() > 1) {
    // KIP-126: split the batch and send its parts again. Not an attempt: retries and backoff do not apply.
    split_batch(id, now, metadata, outbox);
  } else if (can_retry(batch, error, now)) {
    // reenqueueBatch: back to the head of the deque, waiting retry.backoff.ms (exponential, KIP-580).
    if (idempotent() && error == Errc::unknown_producer_id && response.log_start_offset != -1)
      request_epoch_bump(tp);
    in_flight_batches_.erase(id);
    if (config_.guarantee_message_order()) accumulator_.unmute_partition(tp);
    ++metrics_.batch_retries;
    metrics_.records_retried += static_cast<uint64_t>(batch.record_count());
    accumulator_.reenqueue(id, now);
  } else if (error == Errc::duplicate_sequence_number) {
    // The broker already has it: a success whose offset is unknown.
    finish_batch(id, RecordOutcome::acked, Errc::none, -1, now, metadata, outbox);
  } else {
    // handleFailedBatch: an idempotent producer bumps its epoch after OUT_OF_ORDER_SEQUENCE_NUMBER, or after any
    // failure of a sequenced batch that still had retries (its sequence leaves a gap for later batches).
    if (idempotent() && (error == Errc::out_of_order_sequence_number || batch.attempts < config_.retries))
      request_epoch_bump(tp);
    finish_batch(id, RecordOutcome::broker_error, error, -1, now, metadata, outbox);
  }

  // InvalidMetadataException: refresh the metadata; KIP-951 leader hints are applied at once.
  if (needs_metadata_refresh(error)) outbox.metadata_refresh_requested = true;
  if ((error == Errc::not_leader_or_follower || error == Errc::fenced_leader_epoch) &&
      response.current_leader_id != no_leader_node)
    outbox.leader_hints.push_back({tp, response.current_leader_id, response.current_leader_epoch});
}

void Sender::finish_batch(BatchId id, RecordOutcome outcome, Errc error, int64_t base_offset, sim::SimTime now,
                          const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  const ProducerBatch& batch = accumulator_.batch(id);
  KS_ASSERT(!batch.queued);
  KS_ASSERT((outcome == RecordOutcome::acked) == (error == Errc::none));
  const bool was_in_flight = in_flight_batches_.erase(id) > 0;
  if (was_in_flight && config_.guarantee_message_order()) accumulator_.unmute_partition(batch.partition);

  if (idempotent() && batch.has_sequence()) {
    // The batch's sequence is no longer in flight; an acknowledgement raises the partition's last acked sequence.
    PartitionSequenceState& state = sequence_state(batch.partition);
    erase_sequence(state.in_flight_sequences, batch.base_sequence);
    if (outcome == RecordOutcome::acked) {
      // updateLastAckedSequence: the highest acknowledged sequence of the partition.
      const int32_t last = last_sequence_of(batch);
      if (state.last_acked_sequence == no_sequence || last > state.last_acked_sequence)
        state.last_acked_sequence = last;
    }
  }

  // The callbacks fire in record order; offsets are consecutive from the base offset. Room for the whole batch
  // at once (doubling), rather than regrowing the list record by record.
  const size_t needed = outbox.completions.size() + batch.records.size();
  if (outbox.completions.capacity() < needed)
    outbox.completions.reserve(std::max(needed, 2 * outbox.completions.capacity()));
  for (size_t i = 0; i < batch.records.size(); ++i) {
    RecordCompletion completion;
    completion.record_id = batch.records[i].record_id;
    completion.send_time = batch.records[i].send_time;
    completion.completion_time = now;
    completion.partition = batch.partition;
    completion.offset = (outcome == RecordOutcome::acked && base_offset >= 0)
                            ? base_offset + static_cast<int64_t>(i)
                            : -1;
    completion.outcome = outcome;
    completion.error = error;
    outbox.completions.push_back(completion);
  }
  if (outcome == RecordOutcome::acked) {
    metrics_.records_acked += batch.records.size();
  } else {
    metrics_.records_failed += batch.records.size();
    outbox.failed_batches.push_back(id);
  }

  deallocate(id, now, metadata, outbox);
}

void Sender::split_batch(BatchId id, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  const ProducerBatch& batch = accumulator_.batch(id);
  const PartitionRef tp = batch.partition;
  const bool sequenced = idempotent() && batch.has_sequence();
  const int32_t base_sequence = batch.base_sequence;
  in_flight_batches_.erase(id);
  if (config_.guarantee_message_order()) accumulator_.unmute_partition(tp);
  const std::vector<BatchId> parts = accumulator_.split_and_reenqueue(id, now);
  if (sequenced) {
    // removeInFlightBatch(big) and addInFlightBatch(each part): the parts hold the big batch's sequences, and only
    // the first of them may be drained while the others wait (the retry rule of shouldStopDrainBatchesForPartition).
    PartitionSequenceState& state = sequence_state(tp);
    erase_sequence(state.in_flight_sequences, base_sequence);
    for (BatchId part : parts) insert_sequence(state.in_flight_sequences, accumulator_.batch(part).base_sequence);
  }
  ++metrics_.batch_splits;
  outbox.split_batches.push_back(id);
  // maybeRemoveAndDeallocateBatch: the big batch's buffer goes back to buffer.memory.
  deallocate(id, now, metadata, outbox);
}

void Sender::deallocate(BatchId id, sim::SimTime now, const ProducerMetadata& metadata, ProducerOutbox& outbox) {
  // Deallocate the batch's memory; sends blocked on buffer.memory may now go through.
  for (const BlockedSendOutcome& unblocked : accumulator_.complete_batch(id, now, metadata)) {
    const bool appended = unblocked.result.status == AppendStatus::appended;
    outbox.unblocked_sends.push_back({unblocked.record_id, unblocked.result.partition, appended});
    if (!appended) {
      RecordCompletion completion;
      completion.record_id = unblocked.record_id;
      completion.send_time = unblocked.send_time;
      completion.completion_time = now;
      completion.partition = {0, unknown_partition};
      completion.outcome = RecordOutcome::producer_closed;
      completion.error = Errc::unknown_server_error;
      outbox.completions.push_back(completion);
    }
  }
  wakeup_time_ = sim::min(wakeup_time_, now);
}

sim::SimTime Sender::earliest_in_flight_creation() const {
  KS_ASSERT(!in_flight_batches_.empty());
  // Batch ids grow with creation time, so the lowest id is the oldest batch; but a split batch keeps the creation
  // time of the batch it came from, so while split batches exist every in-flight batch is looked at.
  if (accumulator_.live_split_batch_count() == 0) return in_flight_batches_.begin()->second.created_time;
  sim::SimTime earliest = sim::SimTime::max();
  for (const auto& [id, in_flight] : in_flight_batches_) earliest = sim::min(earliest, in_flight.created_time);
  return earliest;
}

sim::SimTime Sender::next_wakeup() const {
  sim::SimTime next = sim::min(wakeup_time_, next_ready_check_time_);
  if (const auto expiry = accumulator_.next_batch_expiry_time()) next = sim::min(next, *expiry);
  if (const auto deadline = accumulator_.next_blocked_send_deadline()) next = sim::min(next, *deadline);
  // Requests of a node are sent in time order, and batch ids grow with creation time: the oldest of each is first.
  // Throttles extend timeouts unevenly, so every request of a node is looked at (at most
  // max.in.flight.requests.per.connection) once one was throttled.
  for (const auto& [node, requests] : in_flight_) {
    if (requests.empty()) continue;
    if (!throttled_until_.contains(node) && requests.front().throttle_extension == sim::Duration::zero()) {
      next = sim::min(next, requests.front().send_time + config_.request_timeout);
      continue;
    }
    for (const InFlightRequest& r : requests)
      next = sim::min(next, r.send_time + config_.request_timeout + r.throttle_extension);
  }
  if (!in_flight_batches_.empty()) next = sim::min(next, earliest_in_flight_creation() + config_.delivery_timeout);
  for (const auto& [node, time] : reconnect_after_) next = sim::min(next, time);
  for (const auto& [node, time] : throttled_until_) next = sim::min(next, time);
  return next;
}

}  // namespace kafkasim::kafka
