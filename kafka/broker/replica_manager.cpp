// The broker data path; see include/kafkasim/kafka/broker/replica_manager.hpp.
#include "kafkasim/kafka/broker/replica_manager.hpp"

#include <algorithm>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

ReplicaManager::ReplicaManager(const BrokerConfig& config, sim::SimTime start_time)
    : config_(config),
      replica_lag_time_max_(sim::Duration::from_ms(config.replica_lag_time_max_ms)),
      // ReplicaManager.startup: scheduler.schedule("isr-expiration", maybeShrinkIsr, 0L, replicaLagTimeMaxMs / 2).
      isr_check_period_(sim::Duration::from_ms(config.replica_lag_time_max_ms / 2)),
      next_isr_check_(start_time),
      produce_purgatory_(static_cast<std::size_t>(config.max_delayed_produces)),
      fetch_purgatory_(static_cast<std::size_t>(config.max_delayed_fetches)),
      delete_records_purgatory_(static_cast<std::size_t>(config.max_delayed_fetches)),
      fetch_manager_(config.max_incremental_fetch_session_cache_slots) {
  KS_ASSERT_GE(config.broker_id, 0);
  KS_ASSERT_GE(config.min_insync_replicas, 1);
  KS_ASSERT_GE(config.replica_lag_time_max_ms, 2);
  KS_ASSERT_GE(config.message_max_bytes, 0);  // 0: every batch is MESSAGE_TOO_LARGE
  KS_ASSERT_GT(config.max_delayed_produces, 0);
  KS_ASSERT_GT(config.max_delayed_fetches, 0);
}

LogConfig ReplicaManager::default_log_config() const {
  LogConfig c;
  c.max_message_bytes = config_.message_max_bytes;
  return c;
}

Partition* ReplicaManager::partition(PartitionRef ref) {
  if (ref.topic < 0 || ref.partition < 0 || static_cast<std::size_t>(ref.topic) >= by_index_.size()) return nullptr;
  const std::vector<Partition*>& topic = by_index_[static_cast<std::size_t>(ref.topic)];
  return static_cast<std::size_t>(ref.partition) < topic.size() ? topic[static_cast<std::size_t>(ref.partition)]
                                                                 : nullptr;
}

const Partition* ReplicaManager::partition(PartitionRef ref) const {
  return const_cast<ReplicaManager*>(this)->partition(ref);
}

Partition& ReplicaManager::add_partition(PartitionRef ref, const PartitionConfig& config, uint32_t log_id,
                                         sim::Rng rng, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT(partitions_.find(ref) == partitions_.end());
  // Log ids name the logs' files on this broker (FileId): each is used once.
  const bool new_log_id = log_ids_.insert(log_id).second;
  KS_ASSERT_MSG(new_log_id, "a log id given to two partitions of one broker");
  const int32_t min_isr = config.min_insync_replicas.value_or(config_.min_insync_replicas);
  auto p = std::make_unique<Partition>(ref, config_.broker_id, config, min_isr, replica_lag_time_max_, log_id, rng,
                                       now, out.storage_ops);
  Partition& result = *p;
  partitions_.emplace(ref, std::move(p));
  KS_ASSERT_GE(ref.topic, 0);
  KS_ASSERT_GE(ref.partition, 0);
  const auto topic = static_cast<std::size_t>(ref.topic);
  const auto index = static_cast<std::size_t>(ref.partition);
  if (by_index_.size() <= topic) by_index_.resize(topic + 1);
  if (by_index_[topic].size() <= index) by_index_[topic].resize(index + 1, nullptr);
  by_index_[topic][index] = &result;
  return result;
}

void ReplicaManager::alter_topic_config(int32_t topic, const PartitionConfig& config) {
  KS_ASSERT_GE(topic, 0);
  if (static_cast<std::size_t>(topic) >= by_index_.size()) return;  // no replica of the topic here
  const int32_t min_isr = config.min_insync_replicas.value_or(config_.min_insync_replicas);
  for (Partition* p : by_index_[static_cast<std::size_t>(topic)])
    if (p != nullptr) p->update_config(config, min_isr);
}

void ReplicaManager::become_leader(PartitionRef ref, int32_t leader_epoch, std::vector<NodeId> isr,
                                   std::vector<NodeId> replicas, sim::SimTime now, BrokerOutbox& out) {
  Partition* p = partition(ref);
  KS_ASSERT(p != nullptr);
  const bool hw_increased = p->become_leader(leader_epoch, std::move(isr), std::move(replicas), now, out);
  if (hw_increased) check_delayed_produces(ref, out);
  check_delayed_fetches(ref, now, out);
}

void ReplicaManager::become_follower(PartitionRef ref, NodeId leader, int32_t leader_epoch,
                                     std::vector<NodeId> replicas, sim::SimTime now, BrokerOutbox& out) {
  Partition* p = partition(ref);
  KS_ASSERT(p != nullptr);
  p->become_follower(leader, leader_epoch, std::move(replicas), now, out);
  // ReplicaManager.makeFollowers -> completeDelayedFetchOrProduceRequests: parked requests learn they lost
  // the leader (NOT_LEADER_OR_FOLLOWER for produces; fetches complete with the partition's error).
  check_delayed_produces(ref, out);
  check_delayed_fetches(ref, now, out);
}

// ---- list offsets ----

void ReplicaManager::handle_delete_records(const DeleteRecordsRequest& request, sim::SimTime now, BrokerOutbox& out) {
  DelayedDeleteRecords op;
  op.response.correlation_id = request.correlation_id;
  op.response.partitions.reserve(request.partitions.size());
  op.required_offsets.reserve(request.partitions.size());
  std::vector<PartitionRef> keys;
  bool delayed = false;
  for (const DeleteRecordsPartition& d : request.partitions) {
    DeleteRecordsPartitionResult& r = op.response.partitions.emplace_back();
    r.partition = d.partition;
    Partition* p = partition(d.partition);
    if (p == nullptr) {
      r.error = Errc::unknown_topic_or_partition;
      op.required_offsets.push_back(-1);
      continue;
    }
    const Partition::DeleteRecordsResult result = p->delete_records_on_leader(d.offset);
    if (result.error != Errc::none) {
      r.error = result.error;
      op.required_offsets.push_back(-1);
      continue;
    }
    // ReplicaManager.deleteRecords: a partition waits while its low watermark is below the offset; its status
    // starts as REQUEST_TIMED_OUT with the low watermark of now, which an expiry leaves.
    r.low_watermark = result.low_watermark;
    if (result.low_watermark >= result.requested_offset) {
      op.required_offsets.push_back(-1);
      continue;
    }
    r.error = Errc::request_timed_out;
    op.required_offsets.push_back(result.requested_offset);
    keys.push_back(d.partition);
    delayed = true;
  }
  if (!delayed || try_complete_delete_records(op)) {
    out.delete_records_responses.push_back(std::move(op.response));
    return;
  }
  delete_records_purgatory_.add(std::move(op), now + sim::Duration::from_ms(request.timeout_ms), std::move(keys));
}

bool ReplicaManager::try_complete_delete_records(DelayedDeleteRecords& op) const {
  bool all = true;
  for (std::size_t i = 0; i < op.required_offsets.size(); ++i) {
    if (op.required_offsets[i] < 0) continue;
    DeleteRecordsPartitionResult& r = op.response.partitions[i];
    const Partition* p = partition(r.partition);
    KS_ASSERT(p != nullptr);
    if (!p->is_leader()) {
      r.error = Errc::not_leader_or_follower;
      r.low_watermark = -1;
      op.required_offsets[i] = -1;
      continue;
    }
    const int64_t low = p->low_watermark();
    if (low >= op.required_offsets[i]) {
      r.error = Errc::none;
      r.low_watermark = low;
      op.required_offsets[i] = -1;
      continue;
    }
    all = false;
  }
  return all;
}

void ReplicaManager::check_delayed_delete_records(PartitionRef ref, BrokerOutbox& out) {
  for (const uint64_t id : delete_records_purgatory_.watching(ref)) {
    DelayedDeleteRecords* op = delete_records_purgatory_.find(id);
    if (op == nullptr || !try_complete_delete_records(*op)) continue;
    out.delete_records_responses.push_back(delete_records_purgatory_.take(id).response);
  }
}

ListOffsetsResponse ReplicaManager::handle_list_offsets(const ListOffsetsRequest& request) const {
  ListOffsetsResponse response;
  response.correlation_id = request.correlation_id;
  response.partitions.reserve(request.partitions.size());
  for (const ListOffsetsPartitionRequest& q : request.partitions) {
    ListOffsetsPartitionResponse r;
    r.partition = q.partition;
    const Partition* p = partition(q.partition);
    if (p == nullptr) {
      r.error = Errc::unknown_topic_or_partition;
    } else if (!p->is_leader()) {
      r.error = Errc::not_leader_or_follower;
    } else if (q.current_leader_epoch >= 0 && q.current_leader_epoch != p->leader_epoch()) {
      // Partition.getLocalLog with the request's currentLeaderEpoch (KIP-320).
      r.error = q.current_leader_epoch < p->leader_epoch() ? Errc::fenced_leader_epoch : Errc::unknown_leader_epoch;
    } else if (q.timestamp == list_offsets_earliest_timestamp || q.timestamp == list_offsets_latest_timestamp) {
      r.offset = q.timestamp == list_offsets_earliest_timestamp ? p->log_start_offset() : p->high_watermark();
      r.leader_epoch = p->leader_epoch();
      KS_ASSERT_GE(r.offset, 0);
    } else {
      // A timestamp (auto.offset.reset=by_duration, KIP-1106): Partition.fetchOffsetForTimestamp answers the log's
      // offset for it if a consumer may read it (below the HW: `allowed`), else UNKNOWN_OFFSET (-1) without error.
      KS_ASSERT_GE(q.timestamp, 0);
      const auto found = p->log().offset_for_timestamp(q.timestamp - simulated_epoch_ms);
      if (found && found->first < p->high_watermark()) {
        r.offset = found->first;
        r.leader_epoch = found->second >= 0 ? found->second : p->leader_epoch();
      } else {
        r.offset = list_offsets_unknown_offset;
      }
    }
    response.partitions.push_back(r);
  }
  KS_ASSERT_EQ(response.partitions.size(), request.partitions.size());
  return response;
}

// ---- produce ----

void ReplicaManager::handle_produce(const ProduceRequest& request, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_GE(request.timeout, sim::Duration::zero());
  ProduceResponse response;
  response.correlation_id = request.correlation_id;
  response.partitions.reserve(request.partitions.size());
  // §2.2 step 1: acks outside {-1, 0, 1} fails every partition, and nothing is appended.
  if (request.acks != -1 && request.acks != 0 && request.acks != 1) {
    for (const ProducePartitionData& d : request.partitions) {
      ProducePartitionResponse r;
      r.partition = d.partition;
      r.error = Errc::invalid_required_acks;
      response.partitions.push_back(r);
    }
    out.produce_responses.push_back(OutgoingProduceResponse{request.client_id, std::move(response)});
    return;
  }
  std::vector<int64_t> required_offsets;
  required_offsets.reserve(request.partitions.size());
  bool any_error = false;
  bool any_appended = false;
  for (const ProducePartitionData& d : request.partitions) {
    ProducePartitionResponse r;
    r.partition = d.partition;
    int64_t required_offset = -1;
    Partition* p = partition(d.partition);
    if (p == nullptr) {
      r.error = Errc::unknown_topic_or_partition;
    } else {
      const LeaderAppendResult a =
          p->append_records_to_leader(std::span<const RecordBatch>(&d.batch, 1), request.acks, now, out);
      r.error = a.error;
      r.log_start_offset = p->log_start_offset();
      if (a.error == Errc::none) {
        r.base_offset = a.first_offset;
        // §2.2 step 3: the HW must pass the last appended offset.
        required_offset = a.last_offset + 1;
        any_appended = true;
        // ReplicaManager.addCompletePurgatoryAction: an HW increase may complete parked produces and fetches;
        // a LEO increase alone may complete parked follower fetches.
        if (a.high_watermark_increased) check_delayed_produces(d.partition, out);
        check_delayed_fetches(d.partition, now, out);
      } else if (a.error == Errc::not_leader_or_follower) {
        // KIP-951: tell the producer who leads now, if this broker knows.
        r.current_leader_id = p->leader_id();
        r.current_leader_epoch = p->leader_epoch();
      }
    }
    any_error = any_error || r.error != Errc::none;
    required_offsets.push_back(required_offset);
    response.partitions.push_back(r);
  }
  if (request.acks == 0) {
    // §2.2 step 4: no response at all; an error closes the connection instead.
    if (any_error) out.connections_to_close.push_back(request.client_id);
    return;
  }
  // §2.2 step 5, and acks=-1 with nothing appended: respond now.
  if (request.acks == 1 || !any_appended) {
    out.produce_responses.push_back(OutgoingProduceResponse{request.client_id, std::move(response)});
    return;
  }
  // §2.2 step 6: a DelayedProduce. Pending partitions carry REQUEST_TIMED_OUT until they complete, which is
  // what they return if the request expires.
  DelayedProduce op;
  op.destination = request.client_id;
  op.required_offsets = std::move(required_offsets);
  op.acks_pending.assign(op.required_offsets.size(), false);
  std::vector<PartitionRef> keys;
  for (std::size_t i = 0; i < op.required_offsets.size(); ++i) {
    if (op.required_offsets[i] < 0) continue;
    op.acks_pending[i] = true;
    ++op.pending;
    response.partitions[i].error = Errc::request_timed_out;
    keys.push_back(response.partitions[i].partition);
  }
  op.response = std::move(response);
  // tryCompleteElseWatch: try once before parking.
  if (try_complete_produce(op)) {
    out.produce_responses.push_back(OutgoingProduceResponse{op.destination, std::move(op.response)});
    return;
  }
  produce_purgatory_.add(std::move(op), now + request.timeout, std::move(keys));
}

bool ReplicaManager::try_complete_produce(DelayedProduce& op) const {
  KS_ASSERT_EQ(op.required_offsets.size(), op.response.partitions.size());
  for (std::size_t i = 0; i < op.required_offsets.size(); ++i)
    if (op.acks_pending[i]) check_produce_partition(op, i);
  return op.pending == 0;
}

bool ReplicaManager::try_complete_produce_after_change(DelayedProduce& op, PartitionRef ref) const {
  // A pending partition gets its final status when its HW reaches the required offset or its leadership is lost
  // (Partition.checkEnoughReplicasReachOffset reads nothing else). Every HW increase and every leadership change
  // of a partition re-checks the produces watching it at once (check_delayed_produces), so a pending partition
  // other than `ref` is still pending: Kafka's walk over all of them would change only `ref`'s status.
  KS_ASSERT_GT(op.pending, 0);
  for (std::size_t i = 0; i < op.response.partitions.size(); ++i) {
    if (op.response.partitions[i].partition != ref) continue;
    if (op.acks_pending[i]) check_produce_partition(op, i);
    break;
  }
  return op.pending == 0;
}

bool ReplicaManager::check_produce_partition(DelayedProduce& op, std::size_t i) const {
  KS_ASSERT(op.acks_pending[i]);
  ProducePartitionResponse& r = op.response.partitions[i];
  const Partition* p = partition(r.partition);
  AckCheck check{true, Errc::unknown_topic_or_partition};
  if (p != nullptr) check = p->check_enough_replicas_reach_offset(op.required_offsets[i]);
  if (!check.done) return false;
  op.acks_pending[i] = false;
  --op.pending;
  r.error = check.error;
  return true;
}

void ReplicaManager::check_delayed_produces(PartitionRef ref, BrokerOutbox& out) {
  // The scratch list is moved out for the walk, so a nested check would get a list of its own.
  std::vector<uint64_t> ids = std::move(watch_scratch_);
  produce_purgatory_.watching(ref, ids);
  for (const uint64_t id : ids) {
    DelayedProduce* op = produce_purgatory_.find(id);
    KS_ASSERT(op != nullptr);
    if (!try_complete_produce_after_change(*op, ref)) continue;
    DelayedProduce done = produce_purgatory_.take(id);
    out.produce_responses.push_back(OutgoingProduceResponse{done.destination, std::move(done.response)});
  }
  watch_scratch_ = std::move(ids);
}

void ReplicaManager::on_high_watermark_increased(PartitionRef ref, sim::SimTime now, BrokerOutbox& out) {
  // Partition.tryCompleteDelayedRequests: produce first, then fetch.
  check_delayed_produces(ref, out);
  check_delayed_fetches(ref, now, out, /*high_watermark_only=*/true);
}

// ---- fetch ----

void ReplicaManager::resolve(const std::vector<FetchPartitionRequest>& partitions, std::vector<Partition*>& targets) {
  targets.clear();
  targets.reserve(partitions.size());
  for (const FetchPartitionRequest& pr : partitions) targets.push_back(partition(pr.partition));
}

FetchResponse ReplicaManager::read_from_log(const FetchRequest& request, const std::vector<Partition*>& targets,
                                            bool update_fetch_state, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_EQ(targets.size(), request.partitions.size());
  FetchResponse response;
  response.correlation_id = request.correlation_id;
  response.partitions.reserve(request.partitions.size());
  // §2.8 step 4: the response-wide max_bytes is shared in request order; the first partition that returns
  // data may exceed it with one whole batch (minOneMessage, KIP-74, Fetch v3+).
  int64_t limit_bytes = request.max_bytes;
  bool min_one_message = true;
  // KIP-392: a leader with a replica selector may send a consumer to another replica instead of reading.
  const bool select_replica = request.replica_id == consumer_replica_id && config_.rack_aware_replica_selector;
  for (std::size_t i = 0; i < request.partitions.size(); ++i) {
    const FetchPartitionRequest& pr = request.partitions[i];
    Partition* p = targets[i];
    if (p == nullptr) {
      FetchPartitionResponse r;
      r.partition = pr.partition;
      r.error = Errc::unknown_topic_or_partition;
      response.partitions.push_back(std::move(r));
      continue;
    }
    const int64_t adjusted_max_bytes = std::min(int64_t{pr.partition_max_bytes}, limit_bytes);
    // The partition's answer is written in place at the end of the response.
    FetchPartitionResponse& r = response.partitions.emplace_back();
    if (select_replica && p->is_leader()) [[unlikely]] {
      const NodeId preferred =
          p->preferred_read_replica(pr.fetch_offset, request.rack_id.view(), config_.broker_racks, now);
      if (preferred >= 0) {
        answer_with_preferred_replica(*p, pr, preferred, r);
        continue;
      }
    }
    const bool high_watermark_increased = p->fetch_records(pr, request.replica_id, adjusted_max_bytes,
                                                           min_one_message, update_fetch_state, now, out, r);
    // §11.2: after the read (and the follower state it updated, which may have put the follower back in the ISR),
    // a throttled replica's records are dropped: nothing is sent, no bytes count against max_bytes.
    // (Asked whatever was read, as Kafka's read does: measuring the rate purges expired samples.)
    if (request.replica_id != consumer_replica_id && r.error == Errc::none &&
        should_leader_throttle(*p, request.replica_id, now)) [[unlikely]] {
      if (r.slice.bytes > 0) leader_quota_->count_held_back(now.ns() / 1'000'000);
      r.batches.clear();
      r.slice = FileSlice{};
    }
    const int64_t bytes = r.slice.bytes;
    if (bytes > 0) min_one_message = false;
    limit_bytes = std::max<int64_t>(0, limit_bytes - bytes);
    // §2.8 step 5: a follower's fetch may have advanced the HW; parked requests on it are re-checked.
    if (high_watermark_increased) on_high_watermark_increased(pr.partition, now, out);
  }
  return response;
}

void ReplicaManager::answer_with_preferred_replica(const Partition& p, const FetchPartitionRequest& pr,
                                                   NodeId preferred, FetchPartitionResponse& r) const {
  // ReplicaManager.read: "If a preferred read-replica is set, skip the read". fetchOffsetSnapshot still checks the
  // consumer's leader epoch; the answer carries the leader's HW, LSO and log start and no records.
  r.partition = pr.partition;
  r.error = p.validate_fetch(pr.current_leader_epoch, consumer_replica_id);
  if (r.error != Errc::none) return;
  r.high_watermark = p.high_watermark();
  r.last_stable_offset = p.high_watermark();
  r.log_start_offset = p.log_start_offset();
  r.preferred_read_replica = preferred;
}

void ReplicaManager::handle_fetch(const FetchRequest& request, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_GE(request.max_bytes, 0);
  KS_ASSERT_GE(request.max_wait, sim::Duration::zero());
  const bool from_follower = request.replica_id != consumer_replica_id;
  if (from_follower) KS_ASSERT_NE(request.replica_id, config_.broker_id);
  // KafkaApis.handleFetchRequest: fetchManager.newContext, then fetchMessages over every partition of the
  // context (fetchContext.foreachPartition). `read` is the request as the broker reads it.
  FetchContext context = fetch_manager_.new_context(request, from_follower, now);
  FetchRequest read;
  read.correlation_id = request.correlation_id;
  read.client_id = request.client_id;
  read.replica_id = request.replica_id;
  read.rack_id = request.rack_id;
  read.max_wait = request.max_wait;
  // fetchMaxBytes = min(request.maxBytes, fetch.max.bytes, and for a consumer with a fetch quota
  // getMaxValueInQuotaWindow, so that one fetch cannot guarantee its own throttling) and fetchMinBytes =
  // min(request.minBytes, fetchMaxBytes).
  int64_t max_bytes = std::min<int64_t>(request.max_bytes, config_.fetch_max_bytes);
  if (!from_follower && consumer_fetch_quota_ != nullptr) {
    if (const std::optional<int64_t> cap = consumer_fetch_quota_->max_fetch_bytes(request.client_id))
      max_bytes = std::min(max_bytes, *cap);
  }
  read.max_bytes = static_cast<int32_t>(max_bytes);
  read.min_bytes = std::min(request.min_bytes, read.max_bytes);
  // The two per-fetch lists reuse the capacity of earlier fetches (given back below once the response is built).
  read.partitions = std::move(read_scratch_);
  context.partitions_to_read(request, read.partitions);
  // "if (interesting.isEmpty) processResponseCallback(Seq.empty)": a session error or an empty fetch answers now.
  if (read.partitions.empty()) {
    send_fetch_response(read, context, FetchResponse{read.correlation_id, {}}, now, out);
    read_scratch_ = std::move(read.partitions);
    return;
  }
  std::vector<Partition*> targets = std::move(targets_scratch_);
  resolve(read.partitions, targets);
  FetchResponse response = read_from_log(read, targets, /*update_fetch_state=*/true, now, out);
  // Partition.updateFollowerFetchState: a follower's fetch reports its log start offsets, which may raise the low
  // watermark parked DeleteRecords requests wait for.
  if (read.replica_id != consumer_replica_id && delete_records_purgatory_.size() > 0) [[unlikely]] {
    for (const FetchPartitionRequest& pr : read.partitions) check_delayed_delete_records(pr.partition, out);
  }
  int64_t bytes_readable = 0;
  bool any_error = false;
  bool any_diverging = false;
  bool any_preferred_replica = false;
  for (const FetchPartitionResponse& r : response.partitions) {
    bytes_readable += r.slice.bytes;
    any_error = any_error || r.error != Errc::none;
    any_diverging = any_diverging || r.diverging_epoch.has_value();
    any_preferred_replica = any_preferred_replica || r.preferred_read_replica >= 0;
  }
  // §2.8 step 6: answer at once, or park a DelayedFetch for up to max_wait. A preferred read replica answers at
  // once too (fetchMessages' hasPreferredReadReplica, KIP-392).
  if (read.max_wait <= sim::Duration::zero() || bytes_readable >= read.min_bytes || any_error || any_diverging ||
      any_preferred_replica) {
    send_fetch_response(read, context, std::move(response), now, out);
    read_scratch_ = std::move(read.partitions);
    targets_scratch_ = std::move(targets);
    return;
  }
  // fetchOffsetMetadata: where each fetch offset lies, needed only for a fetch that is parked. Nothing in
  // handle_fetch changes the segments of a log (reads and follower state only), so this equals the position
  // at the time of the read. Every target is non-null here: an unknown partition is an error, answered above.
  std::vector<PartitionRef> keys = std::move(keys_scratch_);
  std::vector<LogOffsetPosition> positions = std::move(positions_scratch_);
  keys.clear();
  positions.clear();
  keys.reserve(read.partitions.size());
  positions.reserve(read.partitions.size());
  for (std::size_t i = 0; i < read.partitions.size(); ++i) {
    const FetchPartitionRequest& pr = read.partitions[i];
    keys.push_back(pr.partition);
    positions.push_back(targets[i]->log().offset_position(pr.fetch_offset));
  }
  const sim::SimTime deadline = now + read.max_wait;
  DelayedFetch op{std::move(read), std::move(targets), std::move(positions), std::move(context), unchecked_log_changes_};
  // tryCompleteElseWatch: the accumulated-bytes rule of DelayedFetch may already hold.
  if (fetch_is_satisfied(op, now)) {
    send_fetch_response(op.request, op.context, std::move(response), now, out);
    read_scratch_ = std::move(op.request.partitions);
    targets_scratch_ = std::move(op.targets);
    positions_scratch_ = std::move(op.fetch_positions);
    keys_scratch_ = std::move(keys);
    return;
  }
  fetch_purgatory_.add(std::move(op), deadline, std::move(keys));
}

void ReplicaManager::send_fetch_response(const FetchRequest& read, FetchContext& context, FetchResponse response,
                                         sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_EQ(response.correlation_id, read.correlation_id);
  if (read.replica_id == consumer_replica_id && consumer_fetch_quota_ != nullptr) {
    // KafkaApis.processResponseCallback: the quotas see the size of what would be sent (getResponseSize); a
    // throttled fetch answers with no data and leaves its session as it was.
    const int32_t throttle = consumer_fetch_quota_->throttle_ms(read, context.response_size_bytes(response), now);
    if (throttle > 0) {
      context.throttled_response(response, throttle);
      out.fetch_responses.push_back(OutgoingFetchResponse{read.client_id, std::move(response)});
      return;
    }
  }
  context.update_and_generate_response_data(response, read.partitions, fetch_manager_.cache(), now);
  if (read.replica_id != consumer_replica_id && leader_quota_ != nullptr) {
    // KafkaApis: quotas.leader.record(sizeOfThrottledPartitions(...)), the FetchResponse.sizeOf of the throttled
    // partitions of what is sent (in-sync followers' bytes included), §11.2.
    int64_t bytes = response_header_bytes + fetch_response_session_bytes;
    for (const FetchPartitionResponse& r : response.partitions)
      if (leader_quota_->is_throttled(r.partition)) bytes += fetch_partition_response_overhead_bytes + r.slice.bytes;
    leader_quota_->record(bytes, now.ns() / 1'000'000);
  }
  out.fetch_responses.push_back(OutgoingFetchResponse{read.client_id, std::move(response)});
}

bool ReplicaManager::fetch_is_satisfied(const DelayedFetch& op, sim::SimTime now) const {
  // DelayedFetch.tryComplete (§2.8 step 7).
  int64_t accumulated_bytes = 0;
  for (std::size_t i = 0; i < op.request.partitions.size(); ++i) {
    if (fetch_partition_completes(op, i, accumulated_bytes, now)) return true;
  }
  return accumulated_bytes >= op.request.min_bytes;
}

bool ReplicaManager::fetch_is_satisfied_after_change(const DelayedFetch& op, PartitionRef ref,
                                                     sim::SimTime now) const {
  // tryComplete's answer does not depend on the order of the walk: it is true when some partition completes the
  // fetch on its own or when the partitions' bytes add up to fetch.min.bytes, and bytes are never negative. So the
  // partition that changed, which usually settles it (new data against the default fetch.min.bytes = 1), is
  // checked first; only if it does not settle it alone is every partition walked as Kafka walks them.
  const std::vector<FetchPartitionRequest>& partitions = op.request.partitions;
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].partition != ref) continue;
    int64_t bytes = 0;
    if (fetch_partition_completes(op, i, bytes, now)) return true;
    break;
  }
  return fetch_is_satisfied(op, now);
}

bool ReplicaManager::should_leader_throttle(const Partition& p, NodeId replica, sim::SimTime now) const {
  return leader_quota_ != nullptr && !p.is_in_sync(replica) && leader_quota_->is_throttled(p.ref()) &&
         leader_quota_->is_quota_exceeded(now.ns() / 1'000'000);
}

bool ReplicaManager::fetch_partition_completes(const DelayedFetch& op, std::size_t i, int64_t& accumulated_bytes,
                                               sim::SimTime now) const {
  const FetchRequest& request = op.request;
  const bool from_follower = request.replica_id != consumer_replica_id;
  const FetchPartitionRequest& pr = request.partitions[i];
  const Partition* p = op.targets[i];
  // The partition was lost, or (for a follower's fetch) its leadership, or the leader epoch moved: answer now with
  // the error. A consumer's fetch may wait on a follower (fetchOffsetSnapshot with fetchOnlyLeader false, KIP-392).
  if (p == nullptr || (from_follower && !p->is_leader())) return true;
  if (pr.current_leader_epoch != no_leader_epoch && pr.current_leader_epoch != p->leader_epoch()) return true;
  const LogOffsetPosition& fetch_pos = op.fetch_positions[i];
  const int64_t end_offset = from_follower ? p->log_end_offset() : p->high_watermark();
  if (end_offset != fetch_pos.offset) {
    const LogOffsetPosition end_pos = p->log().offset_position(end_offset);
    // The end moved to an older segment (truncation) or the fetch offset's segment is no longer the
    // last one: complete, a re-read sorts it out.
    if (end_pos.segment_base_offset < fetch_pos.segment_base_offset) return true;
    // A throttled partition neither completes the fetch by a segment roll nor adds its bytes (DelayedFetch: "we
    // will not force complete the fetch request if a replica should be throttled"), §11.2.
    const bool throttled = from_follower && should_leader_throttle(*p, request.replica_id, now);
    if (fetch_pos.segment_base_offset < end_pos.segment_base_offset && !throttled) return true;
    if (fetch_pos.offset < end_offset && !throttled) {
      accumulated_bytes += std::min(end_pos.position - fetch_pos.position, int64_t{pr.partition_max_bytes});
      // Every other exit answers true and the sum only grows: enough bytes settle it without the rest.
      if (accumulated_bytes >= request.min_bytes) return true;
    }
  }
  if (from_follower && pr.last_fetched_epoch != undefined_epoch) {
    Errc error = Errc::none;
    const auto diverging = p->diverging_epoch(pr.last_fetched_epoch, pr.fetch_offset, error);
    if (error != Errc::none || diverging.has_value()) return true;
  }
  return false;
}

void ReplicaManager::complete_fetch(uint64_t id, sim::SimTime now, BrokerOutbox& out) {
  DelayedFetch op = fetch_purgatory_.take(id);
  // DelayedFetch.onComplete re-reads without updating follower state (readFromPurgatory = true).
  FetchResponse response = read_from_log(op.request, op.targets, /*update_fetch_state=*/false, now, out);
  send_fetch_response(op.request, op.context, std::move(response), now, out);
  read_scratch_ = std::move(op.request.partitions);
  targets_scratch_ = std::move(op.targets);
  positions_scratch_ = std::move(op.fetch_positions);
}

void ReplicaManager::check_delayed_fetches(PartitionRef ref, sim::SimTime now, BrokerOutbox& out,
                                           bool high_watermark_only) {
  std::vector<uint64_t> ids = std::move(watch_scratch_);
  fetch_purgatory_.watching(ref, ids);
  for (const uint64_t id : ids) {
    DelayedFetch* op = fetch_purgatory_.find(id);
    if (op == nullptr) continue;
    // A follower's fetch waits for its partitions' log end, not their HW. What its tryComplete reads — each
    // partition's leadership and leader epoch, log end offset, segments and epoch cache — changes only by a leader
    // append, become_leader or become_follower, each of which re-checks every fetch watching the partition at once
    // (not high_watermark_only), or by retention (unchecked_log_changes_). So after an HW or ISR change alone, a
    // follower's fetch found not satisfied since the last retention pass is still not satisfied: Kafka's walk
    // would answer false, and it is skipped.
    // With replication throttling an ISR change can end a partition's throttle: no skipping then.
    if (high_watermark_only && op->request.replica_id != consumer_replica_id &&
        op->checked_at_log_changes == unchecked_log_changes_ && leader_quota_ == nullptr)
      continue;
    if (fetch_is_satisfied_after_change(*op, ref, now)) {
      complete_fetch(id, now, out);
    } else {
      op->checked_at_log_changes = unchecked_log_changes_;
    }
  }
  watch_scratch_ = std::move(ids);
}

RetentionResult ReplicaManager::delete_old_segments(PartitionRef ref, sim::SimTime now, StorageOps& out,
                                                    std::vector<RecordBatch>* deleted_batches) {
  Partition* p = partition(ref);
  KS_ASSERT(p != nullptr);
  ++unchecked_log_changes_;
  return p->delete_old_segments(now, out, deleted_batches);
}

// ---- follower side ----

const std::vector<FollowerApplyResult>& ReplicaManager::handle_follower_fetch_response(const FetchResponse& response,
                                                                                       sim::SimTime now,
                                                                                       BrokerOutbox& out) {
  std::vector<FollowerApplyResult>& results = follower_results_;
  results.clear();
  results.reserve(response.partitions.size());
  for (const FetchPartitionResponse& r : response.partitions) {
    Partition* p = partition(r.partition);
    if (p == nullptr || p->is_leader()) {
      results.push_back(FollowerApplyResult{Errc::not_leader_or_follower, false, false, -1});
      continue;
    }
    results.push_back(p->apply_follower_fetch_response(r, now, out));
    // ReplicaFetcherThread.completeDelayedFetchRequests: consumer fetches parked on this follower (KIP-392) read
    // up to its HW, so a rise may complete them. Without any, the check finds no watcher.
    if (results.back().high_watermark_increased && fetch_purgatory_.size() > 0)
      check_delayed_fetches(r.partition, now, out, /*high_watermark_only=*/true);
  }
  return results;
}

void ReplicaManager::on_flush_completed(PartitionRef ref, int64_t flush_offset, sim::SimTime now) {
  Partition* p = partition(ref);
  KS_ASSERT(p != nullptr);
  p->log().on_flush_completed(flush_offset, now);
}

bool ReplicaManager::flush_log_if_due(PartitionRef ref, sim::SimTime now, StorageOps& out) {
  Partition* p = partition(ref);
  KS_ASSERT(p != nullptr);
  return p->log().flush_if_due(now, out);
}

// ---- timers ----

sim::SimTime ReplicaManager::next_wakeup() const {
  return sim::min(sim::min(next_isr_check_, delete_records_purgatory_.next_deadline()),
                  sim::min(produce_purgatory_.next_deadline(), fetch_purgatory_.next_deadline()));
}

void ReplicaManager::on_wakeup(sim::SimTime now, BrokerOutbox& out) {
  // Expired operations first: a deadline that has passed wins over a completion the ISR check could trigger
  // at the same instant (Kafka runs the two on different threads, so either order is possible there).
  for (const uint64_t id : produce_purgatory_.expired(now)) {
    DelayedProduce* op = produce_purgatory_.find(id);
    KS_ASSERT(op != nullptr);
    // DelayedProduce.onExpiration + onComplete: pending partitions keep REQUEST_TIMED_OUT.
    DelayedProduce done = produce_purgatory_.take(id);
    out.produce_responses.push_back(OutgoingProduceResponse{done.destination, std::move(done.response)});
  }
  for (const uint64_t id : delete_records_purgatory_.expired(now)) {
    // DelayedDeleteRecords.onExpiration: the partitions not done keep REQUEST_TIMED_OUT.
    out.delete_records_responses.push_back(delete_records_purgatory_.take(id).response);
  }
  for (const uint64_t id : fetch_purgatory_.expired(now)) {
    // DelayedFetch.onExpiration: answer with whatever is readable now (possibly nothing).
    if (fetch_purgatory_.find(id) != nullptr) complete_fetch(id, now, out);
  }
  if (now >= next_isr_check_) {
    // isr-expiration (§3.4): every leader partition, in partition order.
    for (const auto& [ref, p] : partitions_) {
      if (p->maybe_shrink_isr(now, out)) on_high_watermark_increased(ref, now, out);
    }
    // A fixed-rate schedule; a late call skips the missed runs rather than running them back to back.
    const int64_t periods_passed = (now - next_isr_check_) / isr_check_period_ + 1;
    next_isr_check_ += isr_check_period_ * periods_passed;
  }
  KS_ASSERT_GT(next_isr_check_, now);
}

}  // namespace kafkasim::kafka
