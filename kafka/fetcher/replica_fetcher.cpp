// ReplicaFetcherThread / AbstractFetcherThread as a sans-I/O state machine. The behaviour follows
// reference/kafka-behaviour.md §3.1 and §3.5 and core/src/main/scala/kafka/server/AbstractFetcherThread.scala
// (maybeFetch, processFetchRequest, onPartitionFenced, getOffsetTruncationState, fetchOffsetAndTruncate,
// addPartitions, delayPartitions); see the header for the overall shape.
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"

#include <algorithm>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

void ReplicaFetcherConfig::validate() const {
  KS_ASSERT_GE(num_replica_fetchers, 1);
  KS_ASSERT_GE(replica_fetch_min_bytes, 1);
  KS_ASSERT_GE(replica_fetch_max_bytes, 0);
  KS_ASSERT_GE(replica_fetch_response_max_bytes, 0);
  KS_ASSERT_GE(replica_fetch_wait_max.ns(), 0);
  KS_ASSERT_GE(replica_fetch_backoff.ns(), 0);
  KS_ASSERT_GT(replica_socket_timeout.ns(), 0);
}

int32_t fetcher_id_for(std::string_view topic_name, int32_t partition, int32_t num_replica_fetchers) {
  KS_ASSERT_GE(partition, 0);
  KS_ASSERT_GE(num_replica_fetchers, 1);
  // AbstractFetcherManager.getFetcherId: Utils.abs(31 * topic.hashCode() + partition) % numFetchersPerBroker.
  const uint32_t mixed = 31U * static_cast<uint32_t>(java_string_hash_code(topic_name)) + static_cast<uint32_t>(partition);
  const auto value = static_cast<int32_t>(mixed);
  const int32_t positive = java_utils_abs(value);
  return positive % num_replica_fetchers;
}

OffsetTruncation offset_truncation_state(const EpochEndOffset& leader, int64_t fetch_offset, int64_t log_end_offset,
                                         const FollowerEpochCache& epochs) {
  KS_ASSERT_GE(fetch_offset, 0);
  KS_ASSERT_GE(log_end_offset, 0);
  if (leader.end_offset == undefined_epoch_offset) {
    // The leader knows no end for our epoch: keep the current fetch offset (the HW for a fresh follower).
    return OffsetTruncation{fetch_offset, true};
  }
  if (leader.epoch == undefined_epoch) return OffsetTruncation{std::min(leader.end_offset, log_end_offset), true};
  const EpochEndOffset local = epochs.end_offset_for(leader.epoch, log_end_offset);
  if (local.end_offset == undefined_epoch_offset) {
    // The follower tracked no epoch at or below the leader's: the leader's offset is safe (KIP-101 behaviour).
    return OffsetTruncation{std::min(leader.end_offset, log_end_offset), true};
  }
  if (local.epoch != leader.epoch) {
    // We do not know the leader's epoch: truncate to the end of our largest smaller epoch and let the next fetch
    // (whose lastFetchedEpoch is now that epoch) re-validate.
    return OffsetTruncation{std::min(local.end_offset, log_end_offset), false};
  }
  return OffsetTruncation{std::min({local.end_offset, leader.end_offset, log_end_offset}), true};
}

ReplicaFetcher::ReplicaFetcher(const ReplicaFetcherConfig& config, NodeId local_broker_id, NodeId source_broker_id,
                               int32_t fetcher_id, uint64_t first_correlation_id)
    : config_(config),
      local_broker_id_(local_broker_id),
      source_broker_id_(source_broker_id),
      fetcher_id_(fetcher_id),
      session_(source_broker_id),
      next_correlation_id_(first_correlation_id) {
  config_.validate();
  KS_ASSERT_GE(local_broker_id, 0);
  KS_ASSERT_GE(source_broker_id, 0);
  KS_ASSERT_NE(local_broker_id, source_broker_id);  // a broker never fetches from itself
  KS_ASSERT_GE(fetcher_id, 0);
}

void ReplicaFetcher::add_partitions(std::span<const InitialFetchState> partitions, sim::SimTime now) {
  KS_ASSERT_GE(now, last_now_);
  last_now_ = now;
  for (const InitialFetchState& initial : partitions) {
    KS_ASSERT_GE(initial.current_leader_epoch, 0);
    KS_ASSERT_GE(initial.log_start_offset, 0);
    KS_ASSERT_GE(initial.log_end_offset, initial.log_start_offset);
    PartitionFetchState* existing = state_of(initial.partition);
    if (existing != nullptr && existing->current_leader_epoch == initial.current_leader_epoch) {
      // partitionFetchState: same leader epoch, keep the current state (updateAndMoveToEnd still moves it).
      move_to_end(initial.partition, *existing);
      continue;
    }
    PartitionFetchState state;
    state.current_leader_epoch = initial.current_leader_epoch;
    state.log_end_offset = initial.log_end_offset;
    state.log_start_offset = initial.log_start_offset;
    state.epochs = FollowerEpochCache(initial.leader_epochs);
    state.last_fetched_epoch = state.epochs.latest_epoch().value_or(undefined_epoch);
    if (initial.init_offset < 0) {
      state.phase = FetchPhase::awaiting_leader_offsets;
      state.fetch_offset = initial.log_end_offset;
    } else if (!state.epochs.empty()) {
      // ReplicaManager.initialFetchOffset gives the LEO when the log has epochs; the follower's fetch offset
      // always equals its LEO (§8.5), so anything else is a caller bug.
      KS_ASSERT_EQ(initial.init_offset, initial.log_end_offset);
      state.phase = FetchPhase::fetching;
      state.fetch_offset = initial.init_offset;
    } else {
      KS_ASSERT_LE(initial.init_offset, initial.log_end_offset);
      state.phase = FetchPhase::truncating;
      state.fetch_offset = initial.init_offset;
    }
    if (existing != nullptr) {
      // move_to_end replaces this entry.
      state.order_seq = existing->order_seq;
      state.order_pos = existing->order_pos;
      *existing = std::move(state);
      move_to_end(initial.partition, *existing);
    } else {
      auto owned = std::make_unique<PartitionFetchState>(std::move(state));
      PartitionFetchState& placed = *owned;
      const bool inserted = states_.emplace(initial.partition, std::move(owned));
      KS_ASSERT(inserted);
      move_to_end(initial.partition, placed);
    }
  }
  KS_ASSERT_LE(states_.size(), max_partitions);
  // addPartitions signals partitionMapCond: a thread waiting out its backoff wakes up.
  if (!partitions.empty()) mark_loop_due(now);
}

int32_t ReplicaFetcher::remove_partitions(std::span<const PartitionRef> partitions) {
  int32_t removed = 0;
  for (const PartitionRef& partition : partitions) {
    if (!states_.contains(partition)) continue;
    remove_one(partition);
    ++removed;
  }
  KS_ASSERT_EQ(order_.size(), states_.size());
  return removed;
}

void ReplicaFetcher::remove_one(PartitionRef partition) {
  PartitionFetchState* state = state_of(partition);
  KS_ASSERT(state != nullptr);
  order_.erase(state->order_pos);
  states_.erase(partition);
}

void ReplicaFetcher::mark_loop_due(sim::SimTime now) {
  if (!loop_due_) {
    loop_due_ = true;
    loop_due_at_ = now;
  }
}

void ReplicaFetcher::move_to_end(PartitionRef partition, PartitionFetchState& state) {
  if (state.order_seq != 0) {
    KS_ASSERT(state.order_pos->second == &state);
    order_.splice(order_.end(), order_, state.order_pos);
  } else {
    state.order_pos = order_.emplace(order_.end(), partition, &state);
  }
  state.order_seq = next_order_seq_++;
}

void ReplicaFetcher::delay_partitions(std::span<const PartitionRef> partitions, sim::SimTime now) {
  for (const PartitionRef& partition : partitions) {
    PartitionFetchState* state = state_of(partition);
    if (state == nullptr) continue;
    // delayPartitions: an existing delay is not extended.
    if (state->is_delayed(now)) continue;
    state->delayed_until = now + config_.replica_fetch_backoff;
    move_to_end(partition, *state);
  }
}

sim::SimTime ReplicaFetcher::next_wakeup() const {
  if (in_flight_) return in_flight_->deadline;
  if (states_.empty()) return sim::SimTime::max();
  if (loop_due_) return loop_due_at_;
  return idle_until_;
}

std::optional<uint64_t> ReplicaFetcher::in_flight_correlation_id() const {
  if (!in_flight_) return std::nullopt;
  return in_flight_->correlation_id;
}

const PartitionFetchState* ReplicaFetcher::fetch_state(PartitionRef partition) const {
  const std::unique_ptr<PartitionFetchState>* state = states_.find(partition);
  return state == nullptr ? nullptr : state->get();
}

PartitionFetchState* ReplicaFetcher::state_of(PartitionRef partition) {
  std::unique_ptr<PartitionFetchState>* state = states_.find(partition);
  return state == nullptr ? nullptr : state->get();
}

std::vector<PartitionRef> ReplicaFetcher::partitions_in_order() const {
  std::vector<PartitionRef> result;
  result.reserve(order_.size());
  for (const auto& entry : order_) result.push_back(entry.first);
  return result;
}

void ReplicaFetcher::poll(sim::SimTime now, FetcherOutbox& out) {
  KS_ASSERT_GE(now, last_now_);
  last_now_ = now;
  if (in_flight_) {
    if (now < in_flight_->deadline) return;
    // replica.socket.timeout.ms elapsed: NetworkClient fails the request; a late answer will be ignored.
    fail_in_flight(now);
  }
  if (!loop_due_ && now < idle_until_) return;
  run_loop(now, out);
}

void ReplicaFetcher::run_loop(sim::SimTime now, FetcherOutbox& out) {
  KS_ASSERT(!in_flight_);
  loop_due_ = false;

  // One pass in PartitionStates order does what doWork does in three: maybeTruncate (partitions added without
  // local epochs truncate to their initial fetch offset, the HW, and start fetching from there), the
  // leader-offsets query of partitions that need one (fetchOffsetAndTruncate runs on the fetcher thread and
  // blocks it, so it goes before any further fetch), and buildFetch over every ready partition
  // (ReplicaFetcherThread.buildFetch / RemoteLeaderEndPoint.buildFetch), which the fetch session then turns into
  // a full or incremental request.
  InFlight request;
  request.deadline = now + config_.replica_socket_timeout;
  request.correlation_id = next_correlation_id_;
  LeaderOffsetsRequest offsets_request{request.correlation_id, local_broker_id_, local_broker_id_, {}};
  std::vector<FetchPartitionRequest>& next = next_scratch_;
  next.clear();
  // shouldFollowerThrottle's isQuotaExceeded: nothing is recorded while the request is built, so one answer holds.
  std::optional<bool> quota_exceeded;
  for (const auto& entry : order_) {
    const PartitionRef partition = entry.first;
    PartitionFetchState& state = *entry.second;
    if (state.phase == FetchPhase::truncating) {
      out.local.push_back(FollowerTruncate{partition, false, state.fetch_offset, TruncationCause::no_local_epochs});
      state.log_end_offset = std::min(state.log_end_offset, state.fetch_offset);
      state.epochs.truncate_from_end(state.fetch_offset);
      state.last_fetched_epoch = state.epochs.latest_epoch().value_or(undefined_epoch);
      state.phase = FetchPhase::fetching;
    }
    if (state.phase == FetchPhase::awaiting_leader_offsets) {
      offsets_request.partitions.push_back(LeaderOffsetsPartitionRequest{partition, state.current_leader_epoch});
      request.partitions.emplace(partition, RequestedPartition{state.fetch_offset, state.current_leader_epoch});
      continue;
    }
    if (!offsets_request.partitions.empty() || !state.is_ready_for_fetch(now)) continue;
    if (quota_ != nullptr && !state.is_replica_in_sync() && quota_->is_throttled(partition)) [[unlikely]] {
      if (!quota_exceeded) quota_exceeded = quota_->is_quota_exceeded(now.ns() / 1'000'000);
      if (*quota_exceeded) {
        quota_->count_held_back(now.ns() / 1'000'000);
        continue;  // left out: the session forgets it (§11.2)
      }
    }
    KS_ASSERT_EQ(state.fetch_offset, state.log_end_offset);
    FetchPartitionRequest p;
    p.partition = partition;
    p.fetch_offset = state.fetch_offset;
    p.current_leader_epoch = state.current_leader_epoch;
    p.last_fetched_epoch = state.last_fetched_epoch;
    p.log_start_offset = state.log_start_offset;
    p.partition_max_bytes = config_.replica_fetch_max_bytes;
    next.push_back(p);
  }
  if (!offsets_request.partitions.empty()) {
    ++next_correlation_id_;
    request.kind = RequestKind::leader_offsets;
    out.leader_offsets.push_back(
        FetcherOutbox::OutgoingLeaderOffsets{source_broker_id_, fetcher_id_, std::move(offsets_request)});
    in_flight_ = std::move(request);
    return;
  }
  FetchSessionHandler::RequestData data = session_.build(next);
  if (data.session_partition_count == 0 && data.to_forget.empty()) {
    // No active partitions: back off replica.fetch.backoff.ms on the condition before trying again.
    idle_until_ = now + config_.replica_fetch_backoff;
    return;
  }
  FetchRequest fetch;
  fetch.correlation_id = request.correlation_id;
  fetch.client_id = local_broker_id_;
  fetch.replica_id = local_broker_id_;
  fetch.max_wait = config_.replica_fetch_wait_max;
  fetch.min_bytes = config_.replica_fetch_min_bytes;
  fetch.max_bytes = config_.replica_fetch_response_max_bytes;
  fetch.partitions = std::move(data.to_send);
  fetch.forgotten = std::move(data.to_forget);
  fetch.session_id = data.metadata.session_id;
  fetch.session_epoch = data.metadata.epoch;
  ++next_correlation_id_;
  request.kind = RequestKind::fetch;
  out.fetches.push_back(FetcherOutbox::OutgoingFetch{source_broker_id_, fetcher_id_, std::move(fetch)});
  in_flight_ = std::move(request);
}

void ReplicaFetcher::fail_in_flight(sim::SimTime now) {
  KS_ASSERT(in_flight_);
  InFlight failed = std::move(*in_flight_);
  in_flight_.reset();
  std::vector<PartitionRef> to_delay;
  if (failed.kind == RequestKind::fetch) {
    // RemoteLeaderEndPoint.fetch: fetchSessionHandler.handleError, so the next fetch is a full one; then
    // processFetchRequest's catch: every partition of the thread is marked with error and delayed.
    session_.handle_error();
    to_delay = partitions_in_order();
  } else {
    // handleOutOfRangeError returns false when the offsets query throws: the partition keeps its fetch offset
    // and is delayed; the next fetch will meet OFFSET_OUT_OF_RANGE again if it still applies.
    for (const auto& [partition, requested] : failed.partitions) {
      PartitionFetchState* state = state_of(partition);
      if (state == nullptr || state->phase != FetchPhase::awaiting_leader_offsets) continue;
      state->phase = FetchPhase::fetching;
      to_delay.push_back(partition);
    }
  }
  delay_partitions(to_delay, now);
  mark_loop_due(now);
}

ResponseDisposition ReplicaFetcher::on_request_failed(uint64_t correlation_id, sim::SimTime now) {
  KS_ASSERT_GE(now, last_now_);
  last_now_ = now;
  if (!in_flight_ || in_flight_->correlation_id != correlation_id) return ResponseDisposition::ignored_stale;
  fail_in_flight(now);
  return ResponseDisposition::processed;
}

bool ReplicaFetcher::on_partition_fenced(PartitionRef partition, int32_t request_epoch, FetcherOutbox& out) {
  const PartitionFetchState* state = state_of(partition);
  if (state == nullptr) return false;
  if (state->current_leader_epoch == request_epoch) {
    // Our epoch is older than the leader's: stop fetching until new metadata re-adds the partition.
    remove_one(partition);
    out.local.push_back(PartitionFailed{partition, Errc::fenced_leader_epoch});
    return false;
  }
  // The epoch moved on while the request was out: retry the partition after the backoff.
  return true;
}

void ReplicaFetcher::set_local_log_start_offset(PartitionRef partition, int64_t log_start_offset) {
  PartitionFetchState* state = state_of(partition);
  KS_ASSERT(state != nullptr);
  KS_ASSERT_GE(log_start_offset, state->log_start_offset);
  KS_ASSERT_LE(log_start_offset, state->log_end_offset);
  state->log_start_offset = log_start_offset;
}

ResponseDisposition ReplicaFetcher::on_fetch_response(const FetchResponse& response, sim::SimTime now,
                                                      FetcherOutbox& out) {
  KS_ASSERT_GE(now, last_now_);
  last_now_ = now;
  if (!in_flight_ || in_flight_->kind != RequestKind::fetch || in_flight_->correlation_id != response.correlation_id) {
    return ResponseDisposition::ignored_stale;
  }
  in_flight_.reset();
  mark_loop_due(now);
  // RemoteLeaderEndPoint.fetch: a response the session handler rejects yields no partition data.
  if (!session_.handle_response(response)) return ResponseDisposition::processed;

  std::vector<PartitionRef> with_error;
  std::vector<std::pair<PartitionRef, EpochEndOffset>> diverging;
  // At most one instruction per partition below (the diverging-epoch truncations come on top): one allocation
  // instead of the vector doubling its way up through a response of dozens of partitions.
  // Growing geometrically still, should one outbox collect several responses.
  if (out.local.capacity() - out.local.size() < response.partitions.size())
    out.local.reserve(std::max(out.local.size() + response.partitions.size(), 2 * out.local.capacity()));
  for (const FetchPartitionResponse& data : response.partitions) {
    // The handler checked that the leader answered only for session partitions; their data is what was asked.
    const FetchPartitionRequest* requested = session_.session_partition(data.partition);
    KS_ASSERT(requested != nullptr);
    PartitionFetchState* const found = state_of(data.partition);
    if (found == nullptr) continue;  // removed while the request was out
    PartitionFetchState& state = *found;
    // A partition removed and re-added, or truncated, while the request was out: this answer is not for it.
    if (requested->fetch_offset != state.fetch_offset || !state.is_ready_for_fetch(now)) continue;

    switch (data.error) {
      case Errc::none: {
        KS_ASSERT_EQ(state.fetch_offset, state.log_end_offset);
        // processPartitionData: append whatever came (possibly nothing: the HW still propagates).
        FollowerAppend append;
        append.partition = data.partition;
        append.fetch_offset = state.fetch_offset;
        append.leader_high_watermark = data.high_watermark;
        append.leader_log_start_offset = data.log_start_offset;
        append.batches = data.batches;
        int64_t next_offset = state.fetch_offset;
        for (const RecordBatch& batch : append.batches) {
          KS_ASSERT_GE(batch.base_offset, next_offset);  // in offset order, never below the LEO
          KS_ASSERT_GT(batch.record_count, 0);
          // UnifiedLog.append (follower path) assigns each batch's partitionLeaderEpoch to the epoch cache.
          state.epochs.assign(batch.partition_leader_epoch, batch.base_offset);
          next_offset = batch.next_offset();
        }
        append.next_fetch_offset = next_offset;
        if (data.log_start_offset > state.log_start_offset) {
          // maybeIncrementLogStartOffset(leaderLogStartOffset), bounded by our new LEO.
          state.log_start_offset = std::min(data.log_start_offset, next_offset);
        }
        // processFetchRequest: the lag is updated when records came (validBytes > 0) or was never known.
        if (!append.batches.empty() || !state.lag)
          state.lag = std::max<int64_t>(0, data.high_watermark - next_offset);
        // ReplicaFetcherThread.processPartitionData: a throttled partition's records count against the quota.
        if (quota_ != nullptr && quota_->is_throttled(data.partition))
          quota_->record(data.slice.bytes, now.ns() / 1'000'000);
        if (!append.batches.empty()) {
          state.last_fetched_epoch = append.batches.back().partition_leader_epoch;
          state.fetch_offset = next_offset;
          state.log_end_offset = next_offset;
          move_to_end(data.partition, state);
        }
        out.local.push_back(std::move(append));
        if (data.diverging_epoch) {
          // The leader returns no records with a diverging epoch (§2.8 step 2).
          KS_ASSERT(data.batches.empty());
          diverging.emplace_back(data.partition, *data.diverging_epoch);
        }
        break;
      }
      case Errc::offset_out_of_range:
        // handleOutOfRangeError -> fetchOffsetAndTruncate: ask the leader where its log begins and ends.
        state.phase = FetchPhase::awaiting_leader_offsets;
        break;
      case Errc::fenced_leader_epoch:
        if (on_partition_fenced(data.partition, requested->current_leader_epoch, out)) {
          with_error.push_back(data.partition);
        }
        break;
      default:
        // NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID and any other
        // error: delay the partition replica.fetch.backoff.ms (§3.5 "Fetcher errors").
        with_error.push_back(data.partition);
        break;
    }
  }

  // truncateOnFetchResponse runs after every partition's data was processed.
  for (const auto& [partition, epoch_end] : diverging) {
    if (states_.contains(partition)) truncate_on_diverging_epoch(partition, epoch_end, out);
  }
  delay_partitions(with_error, now);
  return ResponseDisposition::processed;
}

void ReplicaFetcher::truncate_on_diverging_epoch(PartitionRef partition, const EpochEndOffset& diverging,
                                                 FetcherOutbox& out) {
  PartitionFetchState* const found = state_of(partition);
  KS_ASSERT(found != nullptr);
  PartitionFetchState& state = *found;
  const OffsetTruncation truncation =
      offset_truncation_state(diverging, state.fetch_offset, state.log_end_offset, state.epochs);
  KS_ASSERT_LE(truncation.offset, state.log_end_offset);
  out.local.push_back(FollowerTruncate{partition, false, truncation.offset, TruncationCause::diverging_epoch});
  state.epochs.truncate_from_end(truncation.offset);
  state.log_end_offset = truncation.offset;
  state.fetch_offset = truncation.offset;
  // updateFetchOffsetAndMaybeMarkTruncationComplete: truncation on fetch is supported, so the state is Fetching
  // even for an intermediate truncation; the next fetch carries the new lastFetchedEpoch and re-validates.
  state.last_fetched_epoch = state.epochs.latest_epoch().value_or(undefined_epoch);
  state.phase = FetchPhase::fetching;
}

ResponseDisposition ReplicaFetcher::on_leader_offsets_response(const LeaderOffsetsResponse& response,
                                                               sim::SimTime now, FetcherOutbox& out) {
  KS_ASSERT_GE(now, last_now_);
  last_now_ = now;
  if (!in_flight_ || in_flight_->kind != RequestKind::leader_offsets ||
      in_flight_->correlation_id != response.correlation_id) {
    return ResponseDisposition::ignored_stale;
  }
  const InFlight request = std::move(*in_flight_);
  in_flight_.reset();
  mark_loop_due(now);

  std::vector<PartitionRef> with_error;
  for (const LeaderOffsetsPartitionResponse& data : response.partitions) {
    const auto requested = request.partitions.find(data.partition);
    KS_ASSERT(requested != request.partitions.end());
    PartitionFetchState* const found = state_of(data.partition);
    if (found == nullptr || found->phase != FetchPhase::awaiting_leader_offsets ||
        found->current_leader_epoch != requested->second.current_leader_epoch) {
      continue;  // removed or re-added while the query was out
    }
    PartitionFetchState& state = *found;
    if (data.error == Errc::fenced_leader_epoch) {
      if (on_partition_fenced(data.partition, requested->second.current_leader_epoch, out)) {
        state.phase = FetchPhase::fetching;
        with_error.push_back(data.partition);
      }
      continue;
    }
    if (data.error != Errc::none) {
      state.phase = FetchPhase::fetching;
      with_error.push_back(data.partition);
      continue;
    }
    KS_ASSERT_GE(data.log_end_offset, data.log_start_offset);
    KS_ASSERT_GE(data.log_start_offset, 0);
    if (data.log_end_offset < state.log_end_offset) {
      // Only possible after an unclean election: follow the leader's shorter log.
      out.local.push_back(
          FollowerTruncate{data.partition, false, data.log_end_offset, TruncationCause::offset_out_of_range});
      state.epochs.truncate_from_end(data.log_end_offset);
      state.log_end_offset = data.log_end_offset;
      state.log_start_offset = std::min(state.log_start_offset, data.log_end_offset);
    } else if (data.log_start_offset > state.log_end_offset) {
      // The leader deleted what we would fetch next: start over at its log start offset.
      out.local.push_back(
          FollowerTruncate{data.partition, true, data.log_start_offset, TruncationCause::offset_out_of_range});
      state.epochs.clear();
      state.log_end_offset = data.log_start_offset;
      state.log_start_offset = data.log_start_offset;
    }
    // Otherwise keep our log and fetch from our LEO = max(leader log start, LEO).
    state.fetch_offset = state.log_end_offset;
    state.last_fetched_epoch = state.epochs.latest_epoch().value_or(undefined_epoch);
    state.phase = FetchPhase::fetching;
    move_to_end(data.partition, state);
  }
  delay_partitions(with_error, now);
  return ResponseDisposition::processed;
}

void ReplicaFetcher::check_invariants() const {
  KS_ASSERT_EQ(order_.size(), states_.size());
  uint64_t previous_seq = 0;
  for (auto entry = order_.begin(); entry != order_.end(); ++entry) {
    const PartitionFetchState* const found = fetch_state(entry->first);
    KS_ASSERT(found != nullptr);
    KS_ASSERT(found == entry->second);
    KS_ASSERT(found->order_pos == entry);
    KS_ASSERT_GT(found->order_seq, previous_seq);
    previous_seq = found->order_seq;
    const PartitionFetchState& state = *found;
    KS_ASSERT_LE(state.log_start_offset, state.log_end_offset);
    if (state.phase == FetchPhase::fetching) KS_ASSERT_EQ(state.fetch_offset, state.log_end_offset);
    if (state.phase == FetchPhase::truncating) KS_ASSERT_LE(state.fetch_offset, state.log_end_offset);
  }
}

}  // namespace kafkasim::kafka
