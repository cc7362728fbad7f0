#include "kafkasim/kafka/consumer/consumer.hpp"

#include <algorithm>
#include <utility>

#include "kafkasim/kafka/backoff.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// A runaway guard for the fetch buffer. In normal operation it holds at most one completed fetch per partition
// per node that had a fetch for it in flight (only after a leader change can two nodes answer for one
// partition), far below this.
constexpr std::size_t max_buffered_fetches = 1u << 20;
// Bounds on the requests a consumer can have outstanding: one fetch per node, one ListOffsets per node and
// poll, and commits every auto.commit.interval.ms within request.timeout.ms plus manual ones. An application that
// calls commitAsync() after every poll has one commit per poll outstanding until the coordinator answers or
// request.timeout.ms passes (ConsumerNetworkClient queues them without a bound): a consumer polling every 100 us
// behind a coordinator that answers one commit per 10 ms holds about 10,000 more each second, up to 300,000 over
// the default 30 s.
constexpr std::size_t max_pending_requests = 1u << 20;

}  // namespace

KafkaConsumer::KafkaConsumer(const ConsumerConfig& config, const ProducerMetadata& metadata, sim::SimTime now)
    : KafkaConsumer(config, metadata, now, sim::Rng::stream(0, "consumer")) {}

KafkaConsumer::KafkaConsumer(const ConsumerConfig& config, const ProducerMetadata& metadata, sim::SimTime now,
                             sim::Rng rng)
    : config_(config), rng_(rng), metadata_(metadata), next_auto_commit_(now + config.auto_commit_interval) {
  validate(config_);
  KS_ASSERT_GE(now.ns(), 0);
}

// ---- Assignment ----

void KafkaConsumer::assign(sim::SimTime now, const std::vector<PartitionAssignment>& partitions,
                           ConsumerOutbox& out) {
  std::set<PartitionRef> seen;
  for (const PartitionAssignment& a : partitions) {
    KS_ASSERT(seen.insert(a.partition).second);  // no duplicates in an assignment
    KS_ASSERT_GE(a.partition.topic, 0);
    KS_ASSERT_LT(a.partition.topic, max_topics);
    KS_ASSERT_GE(a.partition.partition, 0);
    KS_ASSERT_LT(a.partition.partition, max_partitions_per_topic);
    if (a.committed_offset) KS_ASSERT_GE(*a.committed_offset, 0);
  }
  // KafkaConsumer.assign: "make sure the offsets of topic partitions the consumer is unsubscribing from are
  // committed since there will be no following rebalance".
  maybe_auto_commit(now, out);

  std::vector<std::pair<PartitionRef, PartitionState>> next;
  next.reserve(partitions.size());
  fetch_order_.clear();
  for (const PartitionAssignment& a : partitions) {
    fetch_order_.push_back(a.partition);
    if (const PartitionState* kept = find_state(a.partition)) {
      // SubscriptionState.assignFromUser keeps the state of partitions that stay assigned.
      next.emplace_back(a.partition, *kept);
      continue;
    }
    PartitionState state;
    if (a.committed_offset) {
      // Position initialisation from the committed offset (§5.7).
      state.state = FetchState::fetching;
      state.position = *a.committed_offset;
      state.committed_offset = a.committed_offset;
    } else {
      request_reset(state);
      if (state.state == FetchState::failed) {
        out.events.push_back({ConsumerEventKind::no_offset_for_partition, now, a.partition, -1, -1, Errc::none});
      }
    }
    next.emplace_back(a.partition, state);
  }
  std::sort(next.begin(), next.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  partitions_ = std::move(next);
  // Kept partitions keep their preferred read replica (their TopicPartitionState); new ones have none.
  preferred_read_replica_count_ = static_cast<std::size_t>(
      std::count_if(partitions_.begin(), partitions_.end(),
                    [](const auto& entry) { return entry.second.preferred_read_replica >= 0; }));
  slot_by_partition_.clear();
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    const PartitionRef p = partitions_[i].first;
    if (slot_by_partition_.size() <= static_cast<std::size_t>(p.topic))
      slot_by_partition_.resize(static_cast<std::size_t>(p.topic) + 1);
    std::vector<int32_t>& row = slot_by_partition_[static_cast<std::size_t>(p.topic)];
    if (row.size() <= static_cast<std::size_t>(p.partition)) row.resize(static_cast<std::size_t>(p.partition) + 1, -1);
    row[static_cast<std::size_t>(p.partition)] = static_cast<int32_t>(i);
  }
  fetch_order_slots_.clear();
  for (PartitionRef partition : fetch_order_) fetch_order_slots_.push_back(slot_of(partition));
  refresh_assigned_leaders();
  reset_maybe_needed_ = true;  // the scan of the next poll finds out

  // FetchBuffer.retainAll: drop buffered data of partitions no longer assigned.
  std::erase_if(completed_fetches_,
                [this](const CompletedFetch& f) { return slot_of(f.partition) < 0; });
  if (next_in_line_ && slot_of(next_in_line_->partition) < 0) next_in_line_.reset();

  if (blocked_in_poll_) poll_iteration(now, out);
  check_invariants();
}

void KafkaConsumer::request_reset(PartitionState& state) {
  // SubscriptionState.requestOffsetReset with the default strategy; `none` has no default
  // (hasDefaultOffsetResetPolicy() is false) and surfaces an exception to the application instead.
  state.position = -1;
  state.position_epoch = -1;
  state.reset_not_before = sim::SimTime::zero();
  state.state = config_.auto_offset_reset == AutoOffsetReset::none ? FetchState::failed : FetchState::awaiting_reset;
  if (state.state == FetchState::awaiting_reset) reset_maybe_needed_ = true;
}

// ---- Preferred read replica (KIP-392) ----

NodeId KafkaConsumer::select_read_replica(PartitionState& state, NodeId leader, sim::SimTime now) {
  KS_ASSERT_NE(leader, no_leader_node);  // maybeNodeForPosition asks for metadata before selecting
  if (state.preferred_read_replica < 0) return leader;
  // SubscriptionState.preferredReadReplica: "timeMs > preferredReadReplicaExpireTimeMs" clears it.
  if (now > state.preferred_read_replica_expiry) {
    clear_preferred_read_replica(state);
    return leader;
  }
  // Kafka also checks the replica against the metadata (Cluster.nodeIfOnline) and, if it is missing or offline,
  // clears it, requests a metadata update and fetches from the leader. ProducerMetadata lists no brokers, only
  // partition leaders, so a set preferred replica counts as online here.
  return state.preferred_read_replica;
}

void KafkaConsumer::update_preferred_read_replica(PartitionState& state, NodeId replica, sim::SimTime now) {
  KS_ASSERT_GE(replica, 0);
  // TopicPartitionState.updatePreferredReadReplica: the expiry is set only when the replica is new or changes;
  // the same replica named again keeps its expiry.
  if (state.preferred_read_replica == replica) return;
  if (state.preferred_read_replica < 0) ++preferred_read_replica_count_;
  state.preferred_read_replica = replica;
  state.preferred_read_replica_expiry = now + config_.metadata_max_age;
  KS_ASSERT_LE(preferred_read_replica_count_, partitions_.size());
}

bool KafkaConsumer::clear_preferred_read_replica(PartitionState& state) {
  if (state.preferred_read_replica < 0) return false;
  KS_ASSERT_GT(preferred_read_replica_count_, 0u);
  --preferred_read_replica_count_;
  state.preferred_read_replica = -1;
  state.preferred_read_replica_expiry = sim::SimTime::zero();
  return true;
}

// ---- Poll ----

int32_t KafkaConsumer::poll(sim::SimTime now, ConsumerOutbox& out) {
  KS_ASSERT(!blocked_in_poll_);  // the application is single-threaded: it cannot call poll while blocked in it
  const int32_t delivered = poll_iteration(now, out);
  check_event_invariants();
  return delivered;
}

void KafkaConsumer::update_positions(sim::SimTime now, ConsumerOutbox& out) {
  KS_ASSERT(!blocked_in_poll_);
  reset_positions_if_needed(now, out);
  check_event_invariants();
}

int32_t KafkaConsumer::poll_iteration(sim::SimTime now, ConsumerOutbox& out) {
  // ClassicKafkaConsumer.poll: updateAssignmentMetadataIfNeeded (coordinator.poll → auto-commit;
  // updateFetchPositions → ListOffsets) then pollForFetches (collectFetch, else sendFetches and wait).
  maybe_auto_commit(now, out);
  reset_positions_if_needed(now, out);
  PolledRecords polled = collect_fetch(now, out);
  if (polled.record_count > 0) {
    // "Before returning the fetched records, we can send off the next round of fetches and avoid block waiting
    // for their responses to enable pipelining while the user is handling the fetched records."
    send_fetches(now, out);
    blocked_in_poll_ = false;
    const int32_t count = polled.record_count;
    out.polled.push_back(std::move(polled));
    return count;
  }
  // Errors found while collecting (OFFSET_OUT_OF_RANGE) are acted on by the next loop iteration at once, since
  // the poll timer has not expired.
  reset_positions_if_needed(now, out);
  send_fetches(now, out);
  blocked_in_poll_ = true;
  return 0;
}

PolledRecords KafkaConsumer::collect_fetch(sim::SimTime now, ConsumerOutbox& out) {
  PolledRecords polled;
  polled.time = now;
  int32_t records_remaining = config_.max_poll_records;
  // Each iteration either takes a completed fetch from the buffer or returns at least one record or drains
  // the fetch in line, so this bounds the loop.
  const std::size_t max_iterations =
      2 * (completed_fetches_.size() + 1) + static_cast<std::size_t>(config_.max_poll_records);
  std::size_t iterations = 0;
  while (records_remaining > 0) {
    KS_ASSERT_LE(++iterations, max_iterations);
    if (!next_in_line_ || next_in_line_->consumed) {
      if (completed_fetches_.empty()) break;
      CompletedFetch fetch = std::move(completed_fetches_.front());
      completed_fetches_.pop_front();
      if (initialize(fetch, now, out)) {
        next_in_line_ = std::move(fetch);
      } else {
        next_in_line_.reset();
      }
    } else {
      const int32_t taken = fetch_records(*next_in_line_, records_remaining, polled);
      KS_ASSERT_LE(taken, records_remaining);
      records_remaining -= taken;
    }
  }
  KS_ASSERT_EQ(polled.record_count, config_.max_poll_records - records_remaining);
  return polled;
}

bool KafkaConsumer::initialize(CompletedFetch& fetch, sim::SimTime now, ConsumerOutbox& out) {
  KS_ASSERT(!fetch.initialized);
  PartitionState* state = find_state(fetch.partition);
  // FetchCollector.initialize: "this can happen when a rebalance happened while fetch is still in-flight".
  if (state == nullptr || state->state != FetchState::fetching) return false;

  const Errc error = fetch.data.error;
  if (error == Errc::none) {
    // handleInitializeSuccess: only interesting if it starts at the current position.
    if (state->position != fetch.fetch_offset) return false;
    // Only whole batches inside the byte slice can be parsed; the broker's slice may end inside a batch
    // (LogSegment.read sends a byte range), and that tail is dropped by the client's batch iterator.
    std::vector<RecordBatch>& batches = fetch.data.batches;
    if (!batches.empty()) KS_ASSERT_GT(fetch.data.slice.bytes, 0);  // the cluster layer must fill the slice
    int64_t cumulative_bytes = 0;
    std::size_t whole = 0;
    for (; whole < batches.size(); ++whole) {
      KS_ASSERT_GT(batches[whole].record_count, 0);
      if (whole > 0) KS_ASSERT_GE(batches[whole].base_offset, batches[whole - 1].next_offset());
      cumulative_bytes += batches[whole].size_bytes;
      if (cumulative_bytes > fetch.data.slice.bytes) break;
    }
    batches.resize(whole);
    if (batches.empty() && fetch.data.slice.bytes > 0) {
      // "Received a non-empty fetch response from the server, but no complete records were found" (KIP-74 makes
      // this impossible with a correct broker). Kafka throws a KafkaException; here the event makes it visible
      // and the partition is fetched again from the same position.
      out.events.push_back({ConsumerEventKind::fetch_error, now, fetch.partition, -1, fetch.fetch_offset,
                            Errc::corrupt_message});
    }
    // updatePartitionState: the HW, log start offset and LSO of the response become the lag reference.
    if (fetch.data.high_watermark >= 0) state->high_watermark = fetch.data.high_watermark;
    if (fetch.data.log_start_offset >= 0) state->log_start_offset = fetch.data.log_start_offset;
    if (fetch.data.last_stable_offset >= 0) state->last_stable_offset = fetch.data.last_stable_offset;
    // KIP-392: the leader named a replica to fetch from instead (such an answer has no records): use it for
    // metadata.max.age.ms (updatePartitionState → tryUpdatingPreferredReadReplica, expiry now + metadataExpireMs).
    if (fetch.data.preferred_read_replica >= 0) {
      update_preferred_read_replica(*state, fetch.data.preferred_read_replica, now);
    }
    fetch.next_fetch_offset = fetch.fetch_offset;
    fetch.initialized = true;
    return true;
  }

  // handleInitializeErrors.
  out.events.push_back({ConsumerEventKind::fetch_error, now, fetch.partition, -1, fetch.fetch_offset, error});
  if (error == Errc::offset_out_of_range) {
    if (clear_preferred_read_replica(*state)) {
      // KIP-392: "Unset the preferred read replica ... since we got OFFSET_OUT_OF_RANGE": the replica may only lag
      // the leader, so the position is kept and the next fetch asks the leader, whose own OFFSET_OUT_OF_RANGE
      // alone resets it.
    } else if (state->position == fetch.fetch_offset) {
      request_reset(*state);
      if (state->state == FetchState::failed) {
        out.events.push_back(
            {ConsumerEventKind::no_offset_for_partition, now, fetch.partition, -1, fetch.fetch_offset, error});
      }
    }
    // Otherwise a stale response: "Discarding stale fetch response".
  } else if (needs_metadata_refresh(error) || error == Errc::offset_not_available) {
    // NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, KAFKA_STORAGE_ERROR, OFFSET_NOT_AVAILABLE,
    // UNKNOWN_TOPIC_OR_PARTITION, ...: requestMetadataUpdate, and without a current leader in the response,
    // subscriptions.awaitUpdate(tp): the partition is not fetched until new metadata arrives.
    // REPLICA_NOT_AVAILABLE only asks for the update. FetchUtils.requestMetadataUpdate also clears the preferred
    // read replica (KIP-392), so the partition goes back to its leader.
    out.metadata_update_requested = true;
    clear_preferred_read_replica(*state);
    if (error != Errc::replica_not_available) state->state = FetchState::awaiting_metadata;
  }
  // Other errors (UNKNOWN_LEADER_EPOCH, ...) are logged and the fetch is retried as it is.
  // "We move the partition to the end if there was an error."
  move_partition_to_end(fetch.partition);
  return false;
}

void KafkaConsumer::start_correlation_ids_at(uint64_t first) {
  KS_ASSERT_EQ(next_correlation_id_, 1u);  // nothing sent yet
  KS_ASSERT_GE(first, 1u);
  next_correlation_id_ = first;
}

int32_t KafkaConsumer::fetch_records(CompletedFetch& fetch, int32_t max_records, PolledRecords& polled) {
  KS_ASSERT(fetch.initialized);
  KS_ASSERT(!fetch.consumed);
  KS_ASSERT_GT(max_records, 0);
  PartitionState* state = find_state(fetch.partition);
  if (state == nullptr || state->state != FetchState::fetching || fetch.next_fetch_offset != state->position) {
    // Not assigned any more, not fetchable, or "these records aren't next in line based on the last consumed
    // position, ignore them; they must be from an obsolete request": drain.
    fetch.consumed = true;
    return 0;
  }
  const std::vector<RecordBatch>& batches = fetch.data.batches;
  int32_t taken = 0;
  while (taken < max_records && fetch.next_batch < batches.size()) {
    const RecordBatch& batch = batches[fetch.next_batch];
    const bool opened = !fetch.next_batch_opened;
    if (batch.next_offset() <= fetch.next_fetch_offset) {
      // The whole batch lies below the position (a fetch from inside a batch returns that batch whole): its
      // records are read and skipped.
      polled.iterated.push_back({fetch.partition, batch, batch.record_count, opened});
      ++fetch.next_batch;
      fetch.next_batch_opened = false;
      continue;
    }
    const int64_t first = std::max(batch.base_offset, fetch.next_fetch_offset);
    const int64_t available = batch.next_offset() - first;
    const int32_t count = static_cast<int32_t>(std::min<int64_t>(available, max_records - taken));
    polled.ranges.push_back({fetch.partition, batch.tag, batch.base_offset, first, count, batch.max_timestamp});
    // Opening the batch, the iterator also reads the records below the position ("skip any records out of range").
    const int32_t skipped = opened ? static_cast<int32_t>(first - batch.base_offset) : 0;
    polled.iterated.push_back({fetch.partition, batch, skipped + count, opened});
    taken += count;
    fetch.next_fetch_offset = first + count;
    fetch.last_epoch = batch.partition_leader_epoch;
    fetch.next_batch_opened = true;
    if (fetch.next_fetch_offset == batch.next_offset()) {
      ++fetch.next_batch;
      fetch.next_batch_opened = false;
    }
  }
  if (fetch.next_batch == batches.size()) fetch.consumed = true;
  polled.record_count += taken;
  // FetchCollector.fetchRecords: the position advances to nextFetchOffset only now, as records are returned.
  if (fetch.next_fetch_offset > state->position) {
    state->position = fetch.next_fetch_offset;
    state->position_epoch = fetch.last_epoch;
  }
  KS_ASSERT(taken > 0 || fetch.consumed);  // progress, so collect_fetch terminates
  return taken;
}

// ---- Fetch requests ----

int32_t KafkaConsumer::send_fetches(sim::SimTime now, ConsumerOutbox& out) {
  // AbstractFetch.fetchablePartitions: "excluding any partitions for which we still have buffered data".
  // Buffered partitions no longer assigned play no part below, so a flag per assigned partition suffices.
  buffered_scratch_.assign(partitions_.size(), 0);
  // KAFKA-17182 (apache/kafka PR 18795, February 2025): the nodes of buffered partitions that are still
  // fetchable get no fetch at all (bufferedNodes), so that no buffered partition falls out of its node's fetch
  // session. Found from the few buffered fetches rather than by a scan of every assigned partition.
  std::vector<NodeId>& buffered_nodes = buffered_nodes_scratch_;
  buffered_nodes.clear();
  const auto mark_buffered = [&](PartitionRef partition) {
    const int32_t slot = slot_of(partition);
    if (slot < 0) return;
    uint8_t& buffered = buffered_scratch_[static_cast<std::size_t>(slot)];
    if (buffered != 0) return;
    buffered = 1;
    PartitionState& state = partitions_[static_cast<std::size_t>(slot)].second;
    if (state.state != FetchState::fetching) return;  // SubscriptionState.isFetchable
    const NodeId leader = slot_leaders_[static_cast<std::size_t>(slot)].node_id;
    if (leader == no_leader_node) {
      out.metadata_update_requested = true;
      return;
    }
    // bufferedNodes → maybeNodeForPosition: the node the partition is fetched from (KIP-392).
    const NodeId node = preferred_read_replica_count_ == 0 ? leader : select_read_replica(state, leader, now);
    if (std::find(buffered_nodes.begin(), buffered_nodes.end(), node) == buffered_nodes.end())
      buffered_nodes.push_back(node);
  };
  if (next_in_line_ && !next_in_line_->consumed) mark_buffered(next_in_line_->partition);
  for (const CompletedFetch& f : completed_fetches_) mark_buffered(f.partition);
  const auto node_skipped = [&](NodeId node) {
    // isUnavailable(node): reconnect backoff after a failure.
    const auto backoff = node_backoff_until_.find(node);
    // A throttled node is not ready: Kafka builds the fetch, which waits unsent in ConsumerNetworkClient until the
    // throttle ends; the request would carry the same positions (nothing arrives from the node meanwhile), so it is
    // built when it can go.
    const auto throttled = node_throttled_until_.find(node);
    return (backoff != node_backoff_until_.end() && backoff->second > now) ||
           (throttled != node_throttled_until_.end() && throttled->second > now) ||
           // "Skipping fetch for partition because previous request to node has not been processed".
           has_pending_fetch(node) ||
           // "Skipping fetch for partition because its leader node hosts buffered partitions".
           std::find(buffered_nodes.begin(), buffered_nodes.end(), node) != buffered_nodes.end();
  };
  // Most calls come while every leader of the assignment has a fetch in flight or buffered data: then the loop
  // below would skip every partition and send nothing, so return at once. A partition without a leader would
  // ask for a metadata update there, so that case takes the loop. So does any preferred read replica: it is a
  // fetch target other than the leader, and one past its expiry is cleared by the loop (selectReadReplica).
  if (preferred_read_replica_count_ == 0 && !assigned_leaderless_ &&
      std::all_of(assigned_leader_nodes_.begin(), assigned_leader_nodes_.end(), node_skipped))
    return 0;
  // The partitions to fetch per node, in fetch order; the requests go out in node id order. A node's
  // entry also caches whether it can take a fetch now (nothing it depends on changes during this loop).
  std::size_t node_count = 0;
  for (const int32_t slot : fetch_order_slots_) {
    auto& [partition, state] = partitions_[static_cast<std::size_t>(slot)];
    if (state.state != FetchState::fetching) continue;
    if (buffered_scratch_[static_cast<std::size_t>(slot)] != 0) continue;
    const PartitionLeader* leader = &slot_leaders_[static_cast<std::size_t>(slot)];
    if (leader->node_id == no_leader_node) {
      // "Requesting metadata update for partition since the position is missing the current leader node".
      out.metadata_update_requested = true;
      continue;
    }
    // "Use the preferred read replica if set, otherwise the partition's leader" (KIP-392).
    const NodeId node =
        preferred_read_replica_count_ == 0 ? leader->node_id : select_read_replica(state, leader->node_id, now);
    std::size_t entry = 0;
    while (entry < node_count && node_fetch_scratch_[entry].node != node) ++entry;
    if (entry == node_count) {
      if (node_fetch_scratch_.size() == node_count) node_fetch_scratch_.emplace_back();
      NodeFetchScratch& scratch = node_fetch_scratch_[node_count++];
      scratch.node = node;
      scratch.partitions.clear();
      scratch.skip = node_skipped(node);
    }
    NodeFetchScratch& scratch = node_fetch_scratch_[entry];
    if (scratch.skip) continue;
    FetchPartitionRequest p;
    p.partition = partition;
    p.fetch_offset = state.position;
    p.current_leader_epoch = leader->leader_epoch;  // the leader's epoch, also when sent to a follower
    p.log_start_offset = -1;  // FetchRequest.INVALID_LOG_START_OFFSET for consumers
    p.partition_max_bytes = config_.max_partition_fetch_bytes;
    scratch.partitions.push_back(p);
  }
  std::sort(node_fetch_scratch_.begin(), node_fetch_scratch_.begin() + static_cast<std::ptrdiff_t>(node_count),
            [](const NodeFetchScratch& a, const NodeFetchScratch& b) { return a.node < b.node; });
  int32_t sent = 0;
  for (std::size_t entry = 0; entry < node_count; ++entry) {
    const NodeFetchScratch& scratch = node_fetch_scratch_[entry];
    if (scratch.partitions.empty()) continue;
    const NodeId node = scratch.node;
    const std::vector<FetchPartitionRequest>& partitions = scratch.partitions;
    FetchSessionHandler& session = session_handlers_.try_emplace(node, node).first->second;
    FetchSessionHandler::RequestData data = session.build(partitions);
    // FetchRequest.Builder.forConsumer(maxVersion, maxWaitMs, minBytes, toSend).setMaxBytes(maxBytes)
    //   .metadata(...).removed(toForget).rackId(clientRackId).
    FetchRequest request;
    request.correlation_id = next_correlation_id_++;
    request.client_id = config_.client_id;
    request.replica_id = consumer_replica_id;
    request.max_wait = config_.fetch_max_wait;
    request.min_bytes = config_.fetch_min_bytes;
    request.max_bytes = config_.fetch_max_bytes;
    request.rack_id = config_.client_rack;  // .rackId(fetchConfig.clientRackId), KIP-392
    request.partitions = std::move(data.to_send);
    request.forgotten = std::move(data.to_forget);
    request.session_id = data.metadata.session_id;
    request.session_epoch = data.metadata.epoch;
    // Sent only to a node without a pending fetch (node_skipped): insert in node order.
    const auto at = std::lower_bound(pending_fetches_.begin(), pending_fetches_.end(), node,
                                     [](const auto& entry, NodeId n) { return entry.first < n; });
    KS_ASSERT(at == pending_fetches_.end() || at->first != node);
    pending_fetches_.emplace(at, node, PendingFetch{request.correlation_id, now});
    out.fetches.push_back({node, std::move(request)});
    ++sent;
  }
  KS_ASSERT_LE(pending_fetches_.size(), max_pending_requests);
  return sent;
}

void KafkaConsumer::on_fetch_response(sim::SimTime now, NodeId source, FetchResponse&& response,
                                      ConsumerOutbox& out) {
  auto it = find_pending_fetch(source);
  if (it == pending_fetches_.end() || it->second.correlation_id != response.correlation_id) return;
  pending_fetches_.erase(it);  // removePendingFetchRequest (AbstractFetch.handleFetchSuccess, finally)
  if (response.throttle_time_ms > 0) {
    // NetworkClient.maybeThrottle: the deadline never moves back.
    sim::SimTime& until = node_throttled_until_[source];
    until = sim::max(until, now + sim::Duration::from_ms(response.throttle_time_ms));
  }

  FetchSessionHandler& session = session_handlers_.at(source);
  // handleFetchSuccess: a response the session handler rejects is dropped; the next fetch to the node is full.
  if (session.handle_response(response)) {
    for (FetchPartitionResponse& data : response.partitions) {
      // The handler checked that every partition is in the session; its data is what this fetch asked for.
      const FetchPartitionRequest* requested = session.session_partition(data.partition);
      KS_ASSERT(requested != nullptr);
      CompletedFetch fetch;
      fetch.partition = data.partition;
      fetch.fetch_offset = requested->fetch_offset;
      fetch.data = std::move(data);  // the response is ours: its batches move instead of being copied
      completed_fetches_.push_back(std::move(fetch));
    }
  }
  KS_ASSERT_LE(completed_fetches_.size(), max_buffered_fetches);
  if (blocked_in_poll_) poll_iteration(now, out);
  check_event_invariants();
}

void KafkaConsumer::on_fetch_failed(sim::SimTime now, NodeId destination, uint64_t correlation_id,
                                    ConsumerOutbox& out) {
  auto it = find_pending_fetch(destination);
  if (it == pending_fetches_.end() || it->second.correlation_id != correlation_id) return;
  handle_fetch_failure(now, destination, out);
  if (blocked_in_poll_) poll_iteration(now, out);
  check_event_invariants();
}

void KafkaConsumer::handle_fetch_failure(sim::SimTime now, NodeId node, ConsumerOutbox& out) {
  const auto pending = find_pending_fetch(node);
  KS_ASSERT(pending != pending_fetches_.end());
  // AbstractFetch.handleFetchFailure: the session handler closes the session with the next (full) fetch, the
  // pending mark goes, and the disconnected node waits its reconnect backoff: ClusterConnectionStates.disconnected
  // draws ExponentialBackoff.backoff(failedAttempts), and failedAttempts is 0 after a connection that was ready
  // (every connection here is: connecting always succeeds), so reconnect.backoff.ms with +-20 % jitter, none when
  // reconnect.backoff.max.ms <= reconnect.backoff.ms.
  FetchSessionHandler& session = session_handlers_.at(node);
  session.handle_error();
  // "handler.sessionTopicPartitions().forEach(subscriptions::clearPreferredReadReplica)" (KIP-392): partitions
  // fetched from a failed follower go back to their leader.
  if (preferred_read_replica_count_ > 0) {
    for (PartitionRef partition : session.session_partitions()) {
      if (PartitionState* state = find_state(partition)) clear_preferred_read_replica(*state);
    }
  }
  pending_fetches_.erase(pending);
  node_backoff_until_[node] = now + exponential_backoff(config_.reconnect_backoff, config_.reconnect_backoff_max, 0, rng_);
  out.events.push_back({ConsumerEventKind::request_failed, now, PartitionRef{}, node, -1, Errc::network_exception});
}

// ---- Offset reset (ListOffsets) ----

void KafkaConsumer::reset_positions_if_needed(sim::SimTime now, ConsumerOutbox& out) {
  if (!reset_maybe_needed_) return;
  bool still_awaiting = false;  // a partition stays in awaiting_reset after this call
  std::map<NodeId, ListOffsetsRequest> requests;
  for (PartitionRef partition : fetch_order_) {
    PartitionState& state = *find_state(partition);
    if (state.state != FetchState::awaiting_reset) continue;
    if (state.reset_not_before > now) {  // SubscriptionState.isOffsetResetNeeded && !awaitingRetryBackoff
      still_awaiting = true;
      continue;
    }
    const std::optional<PartitionLeader> leader = leader_of(partition);
    if (!leader) {
      out.metadata_update_requested = true;
      state.reset_not_before = now + config_.retry_backoff;
      still_awaiting = true;
      continue;
    }
    ListOffsetsRequest& request = requests[leader->node_id];
    if (request.partitions.empty()) {
      request.client_id = config_.client_id;
      request.isolation_level = config_.isolation_level;
    }
    request.partitions.push_back({partition, leader->leader_epoch, reset_timestamp(now)});
  }
  for (auto& [node, request] : requests) {
    request.correlation_id = next_correlation_id_++;
    PendingListOffsets pending;
    pending.destination = node;
    pending.sent_time = now;
    for (const ListOffsetsPartitionRequest& p : request.partitions) {
      PartitionState& state = *find_state(p.partition);
      state.state = FetchState::reset_in_flight;
      state.reset_correlation_id = request.correlation_id;
      pending.partitions.push_back(p.partition);
    }
    if (!pending_list_offsets_.empty()) KS_ASSERT_GE(now, pending_list_offsets_.rbegin()->second.sent_time);
    pending_list_offsets_.emplace(request.correlation_id, std::move(pending));
    out.list_offsets.push_back({node, std::move(request)});
  }
  KS_ASSERT_LE(pending_list_offsets_.size(), max_pending_requests);
  reset_maybe_needed_ = still_awaiting;
}

int64_t KafkaConsumer::reset_timestamp(sim::SimTime now) const {
  // AutoOffsetResetStrategy.timestamp(): EARLIEST -> -2, LATEST -> -1, BY_DURATION -> now - duration in epoch ms
  // (time.milliseconds() - duration.toMillis(); simulated_epoch_ms puts the simulated clock's 0 in the epoch, so a
  // duration reaching before the run's start is an ordinary timestamp; one reaching before 1970 asks for 0).
  switch (config_.auto_offset_reset) {
    case AutoOffsetReset::earliest: return list_offsets_earliest_timestamp;
    case AutoOffsetReset::latest: return list_offsets_latest_timestamp;
    case AutoOffsetReset::by_duration:
      return std::max<int64_t>(0, simulated_epoch_ms + now.ns() / 1'000'000 -
                                      config_.auto_offset_reset_duration.ns() / 1'000'000);
    case AutoOffsetReset::none: break;
  }
  KS_ASSERT_MSG(false, "auto.offset.reset=none has no reset timestamp");
  return list_offsets_latest_timestamp;
}

void KafkaConsumer::on_list_offsets_response(sim::SimTime now, const ListOffsetsResponse& response,
                                             ConsumerOutbox& out) {
  auto it = pending_list_offsets_.find(response.correlation_id);
  if (it == pending_list_offsets_.end()) return;
  const uint64_t correlation_id = it->first;
  PendingListOffsets pending = std::move(it->second);
  pending_list_offsets_.erase(it);

  std::set<PartitionRef> answered;
  for (const ListOffsetsPartitionResponse& data : response.partitions) {
    answered.insert(data.partition);
    PartitionState* state = find_state(data.partition);
    // A partition unassigned, or reset again by a newer request since, ignores this answer.
    if (state == nullptr || state->state != FetchState::reset_in_flight ||
        state->reset_correlation_id != correlation_id) {
      continue;
    }
    if (data.error == Errc::none && data.offset == list_offsets_unknown_offset) {
      // No record as recent as a by_duration timestamp: OffsetFetcherUtils.handleListOffsetResponse neither
      // fetches nor retries the partition, so it waits for the retry time set when the request was sent
      // (setNextAllowedRetry: request.timeout.ms later) and asks again, with a new timestamp.
      state->state = FetchState::awaiting_reset;
      state->reset_not_before = pending.sent_time + config_.request_timeout;
      reset_maybe_needed_ = true;
    } else if (data.error == Errc::none && data.offset >= 0) {
      // SubscriptionState.maybeSeekUnvalidated: the reset position becomes the fetch position.
      state->state = FetchState::fetching;
      state->position = data.offset;
      state->position_epoch = data.leader_epoch;
      out.events.push_back({ConsumerEventKind::offset_reset, now, data.partition, pending.destination, data.offset,
                            Errc::none});
    } else {
      // OffsetFetcher: a failed reset is retried after retry.backoff.ms (setNextAllowedRetry); an error that
      // invalidates metadata also asks for an update.
      state->state = FetchState::awaiting_reset;
      state->reset_not_before = now + config_.retry_backoff;
      reset_maybe_needed_ = true;
      if (needs_metadata_refresh(data.error)) out.metadata_update_requested = true;
    }
  }
  for (PartitionRef partition : pending.partitions) {
    if (answered.contains(partition)) continue;
    PartitionState* state = find_state(partition);
    if (state != nullptr && state->state == FetchState::reset_in_flight &&
        state->reset_correlation_id == correlation_id) {
      state->state = FetchState::awaiting_reset;
      state->reset_not_before = now + config_.retry_backoff;
      reset_maybe_needed_ = true;
    }
  }
  if (blocked_in_poll_) poll_iteration(now, out);
  check_invariants();
}

void KafkaConsumer::fail_list_offsets(sim::SimTime now, uint64_t correlation_id, ConsumerOutbox& out) {
  auto it = pending_list_offsets_.find(correlation_id);
  KS_ASSERT(it != pending_list_offsets_.end());
  for (PartitionRef partition : it->second.partitions) {
    PartitionState* state = find_state(partition);
    if (state != nullptr && state->state == FetchState::reset_in_flight &&
        state->reset_correlation_id == correlation_id) {
      state->state = FetchState::awaiting_reset;
      state->reset_not_before = now + config_.retry_backoff;
      reset_maybe_needed_ = true;
    }
  }
  out.events.push_back({ConsumerEventKind::request_failed, now, PartitionRef{}, it->second.destination, -1,
                        Errc::request_timed_out});
  pending_list_offsets_.erase(it);
}

// ---- Commits ----

void KafkaConsumer::maybe_auto_commit(sim::SimTime now, ConsumerOutbox& out) {
  // ConsumerCoordinator.maybeAutoCommitOffsetsAsync: when the timer has expired, reset it to
  // auto.commit.interval.ms from now (so a late poll shifts every later commit) and commit all consumed offsets.
  if (!config_.enable_auto_commit || now < next_auto_commit_) return;
  next_auto_commit_ = now + config_.auto_commit_interval;
  send_commit(now, true, out);
}

void KafkaConsumer::commit(sim::SimTime now, ConsumerOutbox& out) {
  send_commit(now, false, out);
  check_invariants();
}

void KafkaConsumer::send_commit(sim::SimTime now, bool auto_commit, ConsumerOutbox& out) {
  // SubscriptionState.allConsumed: the position (next offset to consume) of every partition with a valid one.
  OffsetCommitRequest request;
  request.client_id = config_.client_id;
  request.generation_id = -1;
  for (const auto& [partition, state] : partitions_) {
    if (state.state != FetchState::fetching) continue;
    request.partitions.push_back({partition, state.position, state.position_epoch});
  }
  // sendOffsetCommitRequest: "if (offsets.isEmpty()) return RequestFuture.voidSuccess()" — nothing is sent.
  if (request.partitions.empty()) return;
  request.correlation_id = next_correlation_id_++;
  if (!pending_commits_.empty()) KS_ASSERT_GE(now, pending_commits_.rbegin()->second.sent_time);
  pending_commits_.emplace(request.correlation_id, PendingCommit{now, auto_commit, request.partitions});
  KS_ASSERT_LE(pending_commits_.size(), max_pending_requests);
  out.commits.push_back({coordinator_, auto_commit, std::move(request)});
}

void KafkaConsumer::on_offset_commit_response(sim::SimTime now, const OffsetCommitResponse& response,
                                              ConsumerOutbox& out) {
  auto it = pending_commits_.find(response.correlation_id);
  if (it == pending_commits_.end()) return;
  PendingCommit pending = std::move(it->second);
  pending_commits_.erase(it);

  bool retriable_failure = false;
  for (const OffsetCommitPartitionResponse& data : response.partitions) {
    auto committed = std::find_if(pending.offsets.begin(), pending.offsets.end(),
                                  [&](const OffsetCommitPartition& p) { return p.partition == data.partition; });
    KS_ASSERT(committed != pending.offsets.end());  // a response for a partition never committed is a bug
    if (data.error == Errc::none) {
      if (PartitionState* state = find_state(data.partition)) state->committed_offset = committed->committed_offset;
      out.events.push_back({ConsumerEventKind::commit_succeeded, now, data.partition, -1,
                            committed->committed_offset, Errc::none});
    } else {
      out.events.push_back({ConsumerEventKind::commit_failed, now, data.partition, -1, committed->committed_offset,
                            data.error});
      retriable_failure = retriable_failure || is_retriable(data.error);
    }
  }
  // autoCommitOffsetsAsync's callback: a RetriableCommitFailedException retries sooner,
  // nextAutoCommitTimer.updateAndReset(retryBackoffMs).
  if (pending.auto_commit && retriable_failure && config_.enable_auto_commit) {
    next_auto_commit_ = now + config_.retry_backoff;
  }
  check_invariants();
}

void KafkaConsumer::fail_commit(sim::SimTime now, uint64_t correlation_id, Errc error, ConsumerOutbox& out) {
  auto it = pending_commits_.find(correlation_id);
  KS_ASSERT(it != pending_commits_.end());
  for (const OffsetCommitPartition& p : it->second.offsets) {
    out.events.push_back({ConsumerEventKind::commit_failed, now, p.partition, -1, p.committed_offset, error});
  }
  if (it->second.auto_commit && config_.enable_auto_commit && is_retriable(error)) {
    next_auto_commit_ = now + config_.retry_backoff;
  }
  pending_commits_.erase(it);
}

// ---- Metadata ----

void KafkaConsumer::update_metadata(sim::SimTime now, const ProducerMetadata& metadata, ConsumerOutbox& out) {
  metadata_ = metadata;
  refresh_assigned_leaders();
  // A preferred read replica missing from the new metadata would be cleared by the next selectReadReplica; the
  // metadata here lists no brokers, so none is ever found missing (see select_read_replica).
  for (auto& [partition, state] : partitions_) {
    // The awaited update arrived: fetch again from the same position (to the new leader).
    if (state.state == FetchState::awaiting_metadata) state.state = FetchState::fetching;
  }
  if (blocked_in_poll_) poll_iteration(now, out);
  check_invariants();
}

void KafkaConsumer::refresh_assigned_leaders() {
  assigned_leader_nodes_.clear();
  assigned_leaderless_ = false;
  slot_leaders_.assign(partitions_.size(), PartitionLeader{});
  for (std::size_t slot = 0; slot < partitions_.size(); ++slot) {
    const std::optional<PartitionLeader> leader = leader_of(partitions_[slot].first);
    if (!leader) {
      assigned_leaderless_ = true;
      continue;
    }
    slot_leaders_[slot] = *leader;
    if (std::find(assigned_leader_nodes_.begin(), assigned_leader_nodes_.end(), leader->node_id) ==
        assigned_leader_nodes_.end()) {
      assigned_leader_nodes_.push_back(leader->node_id);
    }
  }
}

// ---- Timers ----

sim::SimTime KafkaConsumer::next_wakeup() const {
  sim::SimTime t = sim::SimTime::max();
  // NetworkClient request timeouts run whatever the application is doing.
  for (const auto& [node, pending] : pending_fetches_) t = sim::min(t, pending.sent_time + config_.request_timeout);
  // Correlation ids grow with the send time, so each map's first entry was sent first (send_commit and
  // send_list_offsets assert it): async commits to a slow coordinator can pile up by the thousand.
  if (!pending_list_offsets_.empty())
    t = sim::min(t, pending_list_offsets_.begin()->second.sent_time + config_.request_timeout);
  if (!pending_commits_.empty()) t = sim::min(t, pending_commits_.begin()->second.sent_time + config_.request_timeout);
  if (blocked_in_poll_) {
    // Inside poll, client.poll's timeout is bounded by coordinator.timeToNextPoll (the auto-commit deadline) and
    // by retry.backoff.ms while a position is missing (pollForFetches).
    if (config_.enable_auto_commit) t = sim::min(t, next_auto_commit_);
    if (reset_maybe_needed_) {
      for (const auto& [partition, state] : partitions_) {
        if (state.state == FetchState::awaiting_reset) t = sim::min(t, state.reset_not_before);
      }
    }
    for (const auto& [node, until] : node_backoff_until_) t = sim::min(t, until);
    for (const auto& [node, until] : node_throttled_until_) t = sim::min(t, until);
  }
  return t;
}

void KafkaConsumer::on_wakeup(sim::SimTime now, ConsumerOutbox& out) {
  expire_requests(now, out);
  std::erase_if(node_backoff_until_, [now](const auto& entry) { return entry.second <= now; });
  std::erase_if(node_throttled_until_, [now](const auto& entry) { return entry.second <= now; });
  if (blocked_in_poll_) poll_iteration(now, out);
  check_event_invariants();
}

void KafkaConsumer::expire_requests(sim::SimTime now, ConsumerOutbox& out) {
  std::vector<NodeId> expired_fetches;
  for (const auto& [node, pending] : pending_fetches_) {
    if (pending.sent_time + config_.request_timeout <= now) expired_fetches.push_back(node);
  }
  for (NodeId node : expired_fetches) handle_fetch_failure(now, node, out);

  // In correlation-id order, which is send-time order: the expired requests are a prefix of each map.
  std::vector<uint64_t> expired;
  for (const auto& [id, pending] : pending_list_offsets_) {
    if (pending.sent_time + config_.request_timeout > now) break;
    expired.push_back(id);
  }
  for (uint64_t id : expired) fail_list_offsets(now, id, out);

  expired.clear();
  for (const auto& [id, pending] : pending_commits_) {
    if (pending.sent_time + config_.request_timeout > now) break;
    expired.push_back(id);
  }
  for (uint64_t id : expired) fail_commit(now, id, Errc::request_timed_out, out);
}

// ---- Helpers and observers ----

void KafkaConsumer::move_partition_to_end(PartitionRef partition) {
  auto it = std::find(fetch_order_.begin(), fetch_order_.end(), partition);
  KS_ASSERT(it != fetch_order_.end());
  const auto slot = fetch_order_slots_.begin() + (it - fetch_order_.begin());
  std::rotate(it, it + 1, fetch_order_.end());
  std::rotate(slot, slot + 1, fetch_order_slots_.end());
}

std::set<PartitionRef> KafkaConsumer::buffered_partitions() const {
  std::set<PartitionRef> result;
  if (next_in_line_ && !next_in_line_->consumed) result.insert(next_in_line_->partition);
  for (const CompletedFetch& f : completed_fetches_) result.insert(f.partition);
  return result;
}

std::optional<NodeId> KafkaConsumer::preferred_read_replica(PartitionRef partition, sim::SimTime now) const {
  const PartitionState* state = find_state(partition);
  if (state == nullptr || state->preferred_read_replica < 0 || now > state->preferred_read_replica_expiry) {
    return std::nullopt;
  }
  return state->preferred_read_replica;
}

int32_t KafkaConsumer::slot_of(PartitionRef partition) const {
  if (partition.topic < 0 || static_cast<std::size_t>(partition.topic) >= slot_by_partition_.size()) return -1;
  const std::vector<int32_t>& row = slot_by_partition_[static_cast<std::size_t>(partition.topic)];
  if (partition.partition < 0 || static_cast<std::size_t>(partition.partition) >= row.size()) return -1;
  return row[static_cast<std::size_t>(partition.partition)];
}

KafkaConsumer::PartitionState* KafkaConsumer::find_state(PartitionRef partition) {
  const int32_t slot = slot_of(partition);
  return slot < 0 ? nullptr : &partitions_[static_cast<std::size_t>(slot)].second;
}

const KafkaConsumer::PartitionState* KafkaConsumer::find_state(PartitionRef partition) const {
  const int32_t slot = slot_of(partition);
  return slot < 0 ? nullptr : &partitions_[static_cast<std::size_t>(slot)].second;
}

std::optional<int64_t> KafkaConsumer::position(PartitionRef partition) const {
  const PartitionState* state = find_state(partition);
  if (state == nullptr) return std::nullopt;
  if (state->state != FetchState::fetching && state->state != FetchState::awaiting_metadata) return std::nullopt;
  return state->position;
}

std::optional<int64_t> KafkaConsumer::committed(PartitionRef partition) const {
  const PartitionState* state = find_state(partition);
  return state == nullptr ? std::nullopt : state->committed_offset;
}

std::optional<int64_t> KafkaConsumer::high_watermark(PartitionRef partition) const {
  const PartitionState* state = find_state(partition);
  if (state == nullptr || state->high_watermark < 0) return std::nullopt;
  return state->high_watermark;
}

std::optional<int64_t> KafkaConsumer::lag(PartitionRef partition) const {
  // SubscriptionState.partitionLag: HW − position for read_uncommitted, LSO − position for read_committed.
  const std::optional<int64_t> pos = position(partition);
  const PartitionState* state = find_state(partition);
  if (!pos || state == nullptr) return std::nullopt;
  const int64_t end = config_.isolation_level == IsolationLevel::read_committed ? state->last_stable_offset
                                                                                 : state->high_watermark;
  if (end < 0) return std::nullopt;
  return end - *pos;
}

bool KafkaConsumer::has_pending_fetch(NodeId node) const {
  return std::any_of(pending_fetches_.begin(), pending_fetches_.end(),
                     [node](const auto& entry) { return entry.first == node; });
}

std::vector<std::pair<NodeId, KafkaConsumer::PendingFetch>>::iterator KafkaConsumer::find_pending_fetch(NodeId node) {
  const auto at = std::lower_bound(pending_fetches_.begin(), pending_fetches_.end(), node,
                                   [](const auto& entry, NodeId n) { return entry.first < n; });
  return at != pending_fetches_.end() && at->first == node ? at : pending_fetches_.end();
}

const FetchSessionHandler* KafkaConsumer::fetch_session(NodeId node) const {
  const auto it = session_handlers_.find(node);
  return it == session_handlers_.end() ? nullptr : &it->second;
}

void KafkaConsumer::check_event_invariants() const {
  KS_ASSERT_EQ(fetch_order_.size(), partitions_.size());
  if (next_in_line_) KS_ASSERT(next_in_line_->initialized);
  KS_ASSERT_LE(completed_fetches_.size(), max_buffered_fetches);
}

void KafkaConsumer::check_invariants() const {
  check_event_invariants();
  KS_ASSERT_EQ(fetch_order_slots_.size(), fetch_order_.size());
  KS_ASSERT_EQ(slot_leaders_.size(), partitions_.size());
  for (std::size_t i = 0; i < fetch_order_.size(); ++i) {
    const PartitionRef partition = fetch_order_[i];
    const int32_t slot = slot_of(partition);
    KS_ASSERT(slot >= 0 && partitions_[static_cast<std::size_t>(slot)].first == partition);
    KS_ASSERT_EQ(fetch_order_slots_[i], slot);
    const std::optional<PartitionLeader> leader = leader_of(partition);
    KS_ASSERT_EQ(slot_leaders_[static_cast<std::size_t>(slot)].node_id, leader ? leader->node_id : no_leader_node);
    if (leader) KS_ASSERT_EQ(slot_leaders_[static_cast<std::size_t>(slot)].leader_epoch, leader->leader_epoch);
  }
  std::size_t preferred_read_replicas = 0;
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    const auto& [partition, state] = partitions_[i];
    if (i > 0) KS_ASSERT(partitions_[i - 1].first < partition);
    if (state.preferred_read_replica >= 0) ++preferred_read_replicas;
    if (state.state == FetchState::fetching || state.state == FetchState::awaiting_metadata) {
      KS_ASSERT_GE(state.position, 0);
    }
    if (state.state == FetchState::awaiting_reset) KS_ASSERT(reset_maybe_needed_);
  }
  KS_ASSERT_EQ(preferred_read_replicas, preferred_read_replica_count_);
}

}  // namespace kafkasim::kafka
