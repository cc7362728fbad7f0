// One partition replica; see include/kafkasim/kafka/broker/partition.hpp.
#include "kafkasim/kafka/broker/partition.hpp"

#include <algorithm>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// max() over "never"-able times: an empty value is older than any instant (Kafka's 0L).
std::optional<sim::SimTime> latest_of(std::optional<sim::SimTime> a, std::optional<sim::SimTime> b) {
  if (!a) return b;
  if (!b) return a;
  return sim::max(*a, *b);
}

bool contains(const std::vector<NodeId>& v, NodeId id) { return std::find(v.begin(), v.end(), id) != v.end(); }

}  // namespace

bool FollowerReplicaState::is_caught_up(int64_t leader_log_end_offset, sim::SimTime now,
                                        sim::Duration max_lag) const {
  // Replica.isCaughtUp: `leaderEndOffset == logEndOffset || currentTimeMs - lastCaughtUpTimeMs <= maxLag`.
  if (log_end_offset == leader_log_end_offset) return true;
  return last_caught_up_time.has_value() && now - *last_caught_up_time <= max_lag;
}

Partition::Partition(PartitionRef ref, NodeId local_broker_id, const PartitionConfig& config,
                     int32_t min_insync_replicas, sim::Duration replica_lag_time_max, uint32_t log_id, sim::Rng rng,
                     sim::SimTime now, StorageOps& out)
    : ref_(ref),
      local_broker_id_(local_broker_id),
      log_(config.log, log_id, 0, now, rng, out),
      min_insync_replicas_(min_insync_replicas),
      replica_lag_time_max_(replica_lag_time_max) {
  KS_ASSERT_GE(local_broker_id, 0);
  KS_ASSERT_GE(min_insync_replicas, 1);
  KS_ASSERT_GT(replica_lag_time_max, sim::Duration::zero());
}

void Partition::update_config(const PartitionConfig& config, int32_t min_insync_replicas) {
  // Kafka's TopicConfigHandler only updates the logs' config (LogManager.updateTopicConfig): nothing re-evaluates the
  // HW at the change, so a lowered min.insync.replicas lets it move at the next maybeIncrementLeaderHW (an append, a
  // follower's LEO change, an ISR change).
  KS_ASSERT_GE(min_insync_replicas, 1);
  log_.update_config(config.log);
  min_insync_replicas_ = min_insync_replicas;
}

int32_t Partition::effective_min_isr() const {
  // Partition.effectiveMinIsr: min(min.insync.replicas, replication factor), so that RF=1 topics with a
  // broker default of 2 still accept acks=all (§2.2 step 2).
  return std::min(min_insync_replicas_, static_cast<int32_t>(replicas_.size()));
}

bool Partition::in_isr(NodeId replica) const { return std::binary_search(isr_.begin(), isr_.end(), replica); }
bool Partition::in_replicas(NodeId replica) const { return contains(replicas_, replica); }

FollowerReplicaState* Partition::find_follower(NodeId replica) {
  for (auto& [id, state] : followers_) {
    if (id == replica) return &state;
  }
  return nullptr;
}

const FollowerReplicaState* Partition::find_follower(NodeId replica) const {
  return const_cast<Partition*>(this)->find_follower(replica);
}

const FollowerReplicaState* Partition::follower_state(NodeId replica) const { return find_follower(replica); }

bool Partition::become_leader(int32_t leader_epoch, std::vector<NodeId> isr, std::vector<NodeId> replicas,
                              sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_GE(leader_epoch, 0);
  KS_ASSERT_GE(leader_epoch, leader_epoch_);
  KS_ASSERT(contains(replicas, local_broker_id_));
  KS_ASSERT(contains(isr, local_broker_id_));
  std::sort(isr.begin(), isr.end());
  KS_ASSERT(std::adjacent_find(isr.begin(), isr.end()) == isr.end());
  for (NodeId r : isr) KS_ASSERT(contains(replicas, r));

  const bool is_new_leader = !is_leader_;
  const bool is_new_epoch = is_new_leader || leader_epoch > leader_epoch_;
  replicas_ = std::move(replicas);
  isr_ = std::move(isr);
  std::vector<std::pair<NodeId, FollowerReplicaState>> followers;
  followers.reserve(replicas_.size());
  for (NodeId r : replicas_) {
    if (r == local_broker_id_) continue;
    const FollowerReplicaState* prev = find_follower(r);
    if (!is_new_epoch && prev != nullptr) {
      // A metadata update within the same epoch (ISR or assignment change) keeps what the leader knows.
      followers.emplace_back(r, *prev);
      continue;
    }
    // Replica.resetReplicaState (§3.2): an in-sync follower counts as caught up now; a brand-new leader knows
    // nothing of the follower's log; an existing leader keeps its LEO and pretends its last fetch saw the
    // epoch start offset.
    FollowerReplicaState s;
    if (!is_new_leader && prev != nullptr) {
      s = *prev;
      s.last_fetch_leader_log_end_offset = log_.log_end_offset();
      s.last_fetch_time.reset();
    }
    s.last_caught_up_time = contains(isr_, r) ? std::optional<sim::SimTime>(now) : std::nullopt;
    followers.emplace_back(r, s);
  }
  std::sort(followers.begin(), followers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  followers_ = std::move(followers);
  if (is_new_epoch) {
    // makeLeader: the epoch starts at the current LEO, recorded in the epoch cache (§3.2, §3.5).
    leader_epoch_ = leader_epoch;
    leader_epoch_start_offset_ = log_.log_end_offset();
    epoch_cache_.assign(leader_epoch, leader_epoch_start_offset_);
  }
  is_leader_ = true;
  leader_id_ = local_broker_id_;
  // makeLeader calls maybeIncrementLeaderHW: with an ISR of one the HW can move at once (§3.3).
  const bool hw_increased = maybe_increment_leader_hw(now, out);
  check_invariants();
  return hw_increased;
}

void Partition::become_follower(NodeId leader, int32_t leader_epoch, std::vector<NodeId> replicas, sim::SimTime now,
                                BrokerOutbox& out) {
  KS_ASSERT_NE(leader, local_broker_id_);
  KS_ASSERT_GE(leader_epoch, 0);
  KS_ASSERT_GE(leader_epoch, leader_epoch_);
  KS_ASSERT(contains(replicas, local_broker_id_));
  is_leader_ = false;
  leader_id_ = leader;
  leader_epoch_ = leader_epoch;
  leader_epoch_start_offset_ = -1;
  replicas_ = std::move(replicas);
  // The ISR is the leader's business; a follower does not track it.
  isr_.clear();
  followers_.clear();
  // With no epochs at all the fetcher cannot run the divergence check and truncates to the HW instead (§3.5).
  if (epoch_cache_.empty()) truncate_to(high_watermark_, now, out);
  check_invariants();
}

LeaderAppendResult Partition::append_records_to_leader(std::span<const RecordBatch> batches, int16_t required_acks,
                                                       sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT(!batches.empty());
  LeaderAppendResult result;
  if (!is_leader_) {
    result.error = Errc::not_leader_or_follower;
    return result;
  }
  // §2.2 step 2 / §3.6: acks=all is refused before the append when the ISR is below the effective min ISR.
  if (required_acks == -1 && is_under_min_isr()) {
    result.error = Errc::not_enough_replicas;
    return result;
  }
  KS_ASSERT_EQ(batches.size(), 1U);  // one batch per partition per ProduceRequest
  // UnifiedLog.append validates the records (size, then LogValidator) before it looks at the producer's state.
  if (const Errc error = log_.validate_leader_batches(batches, now); error != Errc::none) {
    result.error = error;
    return result;
  }
  // UnifiedLog.analyzeAndValidateProducerState (origin CLIENT): a retried batch the log already holds is not
  // appended again; the produce succeeds with the original offsets. A stale epoch or a sequence gap fails.
  const ProducerCheck check = producer_state_.check_client_batch(batches.front());
  if (check.error != Errc::none) {
    result.error = check.error;
    return result;
  }
  if (check.duplicate_of) {
    result.first_offset = check.duplicate_of->first_offset();
    result.last_offset = check.duplicate_of->last_offset;
    result.duplicate = true;
    return result;
  }
  const LogAppendResult appended = log_.append_as_leader(batches, leader_epoch_, now, out.storage_ops);
  if (appended.error != Errc::none) {
    result.error = appended.error;
    return result;
  }
  {
    RecordBatch stored = batches.front();
    stored.base_offset = appended.first_offset;
    producer_state_.on_appended(stored);
  }
  // §2.3 step 4: every v2 batch assigns (its epoch, its base offset); for the leader's own epoch this is a
  // no-op after makeLeader, but it keeps the rule in one place.
  epoch_cache_.assign(leader_epoch_, appended.first_offset);
  result.first_offset = appended.first_offset;
  result.last_offset = appended.last_offset;
  result.high_watermark_increased = maybe_increment_leader_hw(now, out);
  KS_ASSERT_EQ(log_.log_end_offset(), appended.last_offset + 1);
  KS_ASSERT_LE(high_watermark_, log_.log_end_offset());
  return result;
}

Partition::DeleteRecordsResult Partition::delete_records_on_leader(int64_t offset) {
  DeleteRecordsResult result;
  if (!is_leader_) {
    result.error = Errc::not_leader_or_follower;
    return result;
  }
  if (!log_.config().cleanup_policy_delete) {
    result.error = Errc::policy_violation;  // "can not be deleted due to the configured policy"
    return result;
  }
  const int64_t converted = offset == -1 ? high_watermark_ : offset;
  if (converted < 0) {
    result.error = Errc::offset_out_of_range;
    return result;
  }
  // UnifiedLog.maybeIncrementLogStartOffset (ClientRecordDeletion): OFFSET_OUT_OF_RANGE above the HW.
  result.error = maybe_increment_log_start_offset(converted);
  if (result.error != Errc::none) return result;
  result.requested_offset = converted;
  result.low_watermark = low_watermark();
  return result;
}

int64_t Partition::low_watermark() const {
  KS_ASSERT(is_leader_);
  int64_t low = log_.log_start_offset();
  for (const auto& [replica, state] : followers_) low = std::min(low, state.log_start_offset);
  return low;
}

AckCheck Partition::check_enough_replicas_reach_offset(int64_t required_offset) const {
  KS_ASSERT_GE(required_offset, 0);
  if (!is_leader_) return AckCheck{true, Errc::not_leader_or_follower};
  if (high_watermark_ >= required_offset) {
    // §2.2 step 6: committed; but if the ISR shrank below the minimum meanwhile, say so.
    const bool enough = effective_min_isr() <= static_cast<int32_t>(isr_.size());
    return AckCheck{true, enough ? Errc::none : Errc::not_enough_replicas_after_append};
  }
  return AckCheck{false, Errc::none};
}

// The body of validate_fetch, inlined into fetch_records (on the path of every partition of every fetch).
[[gnu::always_inline]] inline Errc Partition::check_fetch(int32_t current_leader_epoch, NodeId replica_id) const {
  // localLogWithEpochOrThrow (§2.8 step 1): the epoch check comes first, then leadership. Followers read from the
  // leader only; a consumer, whose fetches always carry client metadata (Fetch v11+), may read from any replica
  // (FetchParams.fetchOnlyLeader = isFromFollower || (isFromConsumer && no clientMetadata), KIP-392).
  if (current_leader_epoch != no_leader_epoch) {
    if (current_leader_epoch < leader_epoch_) return Errc::fenced_leader_epoch;
    if (current_leader_epoch > leader_epoch_) return Errc::unknown_leader_epoch;
  }
  if (replica_id == consumer_replica_id) return Errc::none;
  if (!is_leader_) return Errc::not_leader_or_follower;
  // followerReplicaOrThrow: a fetch from a broker that is not a replica of this partition.
  if (replica_id != consumer_replica_id && (replica_id == local_broker_id_ || !in_replicas(replica_id))) {
    return current_leader_epoch != no_leader_epoch ? Errc::unknown_leader_epoch : Errc::not_leader_or_follower;
  }
  return Errc::none;
}

Errc Partition::validate_fetch(int32_t current_leader_epoch, NodeId replica_id) const {
  return check_fetch(current_leader_epoch, replica_id);
}

std::optional<EpochEndOffset> Partition::diverging_epoch(int32_t last_fetched_epoch, int64_t fetch_offset,
                                                         Errc& error) const {
  KS_ASSERT_GE(last_fetched_epoch, 0);
  error = Errc::none;
  // Partition.readRecords (§2.8 step 2): where does the follower's last fetched epoch end in our log?
  const EpochEndOffset end = epoch_cache_.end_offset_for(last_fetched_epoch, log_.log_end_offset());
  if (end.epoch == undefined_epoch || end.end_offset == undefined_epoch_offset) {
    error = Errc::offset_out_of_range;
    return std::nullopt;
  }
  if (end.epoch < last_fetched_epoch || end.end_offset < fetch_offset) return end;
  return std::nullopt;
}

PartitionFetchResult Partition::fetch_records(const FetchPartitionRequest& request, NodeId replica_id,
                                              int64_t max_bytes, bool min_one_message, bool update_fetch_state,
                                              sim::SimTime now, BrokerOutbox& out) {
  PartitionFetchResult result;
  result.high_watermark_increased = fetch_records(request, replica_id, max_bytes, min_one_message,
                                                  update_fetch_state, now, out, result.response);
  return result;
}

bool Partition::fetch_records(const FetchPartitionRequest& request, NodeId replica_id, int64_t max_bytes,
                              bool min_one_message, bool update_fetch_state, sim::SimTime now, BrokerOutbox& out,
                              FetchPartitionResponse& resp) {
  KS_ASSERT_GE(max_bytes, 0);
  KS_ASSERT_EQ(request.partition, ref_);
  KS_ASSERT(resp.batches.empty() && !resp.diverging_epoch && resp.slice.bytes == 0);  // a fresh response
  resp.partition = ref_;
  resp.error = check_fetch(request.current_leader_epoch, replica_id);
  if (resp.error != Errc::none) return false;
  const bool from_follower = replica_id != consumer_replica_id;
  // The response carries the HW and LEO as of the read; the follower learns an HW advance its own fetch
  // causes only in its next response (§3.3, "one round-trip late").
  const int64_t leader_log_end_offset = log_.log_end_offset();
  resp.high_watermark = high_watermark_;
  resp.last_stable_offset = high_watermark_;
  resp.log_start_offset = log_.log_start_offset();
  if (from_follower && request.last_fetched_epoch != undefined_epoch) {
    Errc error = Errc::none;
    resp.diverging_epoch = diverging_epoch(request.last_fetched_epoch, request.fetch_offset, error);
    if (error != Errc::none) {
      resp.error = error;
      return false;
    }
    // A diverging follower gets no records and its fetch state is left alone (fetchRecords skips
    // updateFollowerFetchState when divergingEpoch is present).
    if (resp.diverging_epoch) return false;
  }
  // §2.8 step 3: followers read up to the LEO, consumers (read_uncommitted) up to the HW.
  const int64_t bound = from_follower ? leader_log_end_offset : high_watermark_;
  // Most reads of a caught-up replica or consumer are at the bound, where Log::read returns nothing and no
  // error when the offset is within [log start, LEO]: skip the call then (no records, an empty slice).
  const bool nothing_to_read = request.fetch_offset >= bound && request.fetch_offset >= log_.log_start_offset() &&
                               request.fetch_offset <= leader_log_end_offset;
  if (!nothing_to_read) read_into(request.fetch_offset, max_bytes, bound, min_one_message, resp);
  if (resp.error != Errc::none) return false;
  if (!from_follower || !update_fetch_state) return false;
  return update_follower_fetch_state(replica_id, request.fetch_offset, request.log_start_offset,
                                     leader_log_end_offset, now, out);
}

NodeId Partition::preferred_read_replica(int64_t fetch_offset, std::string_view client_rack,
                                         const std::vector<std::string>& broker_racks, sim::SimTime now) const {
  KS_ASSERT(is_leader_);
  // RackAwareReplicaSelector.select: without a client rack, or with no replica in it, or with the leader in it, the
  // leader (which findPreferredReadReplica does not send back).
  if (client_rack.empty()) return -1;
  const auto rack_of = [&](NodeId broker) -> std::string_view {
    return broker >= 0 && static_cast<std::size_t>(broker) < broker_racks.size()
               ? std::string_view(broker_racks[static_cast<std::size_t>(broker)])
               : std::string_view();
  };
  if (rack_of(local_broker_id_) == client_rack) return -1;
  // The candidates (ReplicaManager.findPreferredReadReplica): followers in the ISR whose log, as the leader last
  // saw it, holds the fetch offset (KAFKA-14372: ISR only). In the same rack, the most caught-up wins
  // (ReplicaView.comparator, max): the highest LEO, then the least time since it was last caught up (in Kafka's
  // milliseconds; never caught up counts from time 0, Kafka's 0L), then the highest broker id.
  NodeId best = -1;
  int64_t best_log_end_offset = 0;
  int64_t best_since_ms = 0;
  const int64_t now_ms = now.ns() / 1'000'000;
  for (const auto& [replica, state] : followers_) {  // ascending broker id
    if (!in_isr(replica) || state.log_end_offset < fetch_offset || state.log_start_offset > fetch_offset) continue;
    if (rack_of(replica) != client_rack) continue;
    const int64_t caught_up_ms = state.last_caught_up_time ? state.last_caught_up_time->ns() / 1'000'000 : 0;
    const int64_t since_ms = now_ms - caught_up_ms;
    const bool better = best < 0 || state.log_end_offset > best_log_end_offset ||
                        (state.log_end_offset == best_log_end_offset && since_ms <= best_since_ms);
    if (!better) continue;
    best = replica;
    best_log_end_offset = state.log_end_offset;
    best_since_ms = since_ms;
  }
  return best;
}

void Partition::read_into(int64_t fetch_offset, int64_t max_bytes, int64_t bound, bool min_one_message,
                          FetchPartitionResponse& resp) const {
  const LogReadResult read = log_.read(fetch_offset, max_bytes, bound, min_one_message);
  if (read.error != Errc::none) {
    resp.error = read.error;
    return;
  }
  resp.batches.reserve(read.batches.size());
  for (const StoredBatch& b : read.batches) resp.batches.push_back(b.batch);
  resp.slice = FileSlice{read.file_id, read.position, read.bytes};
}

bool Partition::update_follower_fetch_state(NodeId replica, int64_t fetch_offset, int64_t follower_log_start_offset,
                                            int64_t leader_log_end_offset, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT(is_leader_);
  KS_ASSERT_LE(fetch_offset, leader_log_end_offset);
  FollowerReplicaState* const state = find_follower(replica);
  KS_ASSERT(state != nullptr);
  FollowerReplicaState& s = *state;
  // Every field below is read before it is overwritten, so the previous values need no copy of the state.
  const int64_t prev_log_end_offset = s.log_end_offset;
  // Replica.updateFetchStateOrThrow (§3.2): a fetch at the leader's LEO means caught up now; a fetch at or past
  // what the leader's LEO was at the previous fetch means the follower was caught up as of that fetch.
  if (fetch_offset >= leader_log_end_offset) {
    s.last_caught_up_time = latest_of(s.last_caught_up_time, now);
  } else if (fetch_offset >= s.last_fetch_leader_log_end_offset) {
    s.last_caught_up_time = latest_of(s.last_caught_up_time, s.last_fetch_time);
  }
  s.last_fetch_leader_log_end_offset = std::max(leader_log_end_offset, s.last_fetch_leader_log_end_offset);
  s.last_fetch_time = now;
  s.log_end_offset = fetch_offset;
  s.log_start_offset = follower_log_start_offset;
  // Partition.maybeExpandIsr (§3.4): an out-of-ISR follower that reached the HW and this epoch's start joins.
  bool expanded = false;
  if (!in_isr(replica) && fetch_offset >= high_watermark_ && fetch_offset >= leader_epoch_start_offset_) {
    std::vector<NodeId> new_isr = isr_;
    new_isr.push_back(replica);
    set_isr(std::move(new_isr), IsrChangeKind::expand, now, out);
    expanded = true;
  }
  // maybeIncrementLeaderHW runs when the follower's LEO moved, and after an ISR change is applied (§3.3).
  if (prev_log_end_offset != fetch_offset || expanded) return maybe_increment_leader_hw(now, out);
  return false;
}

bool Partition::maybe_increment_leader_hw(sim::SimTime now, BrokerOutbox& out) {
  if (!is_leader_) return false;
  // §3.3 rule 1 (KAFKA-15583, Kafka >= 3.7): no commit while the ISR is below the effective min ISR.
  if (is_under_min_isr()) return false;
  // §3.3 rule 2: the smallest LEO over the ISR, and over followers that are caught up and about to join it.
  // A follower whose LEO is still unknown (-1) holds the HW where it is.
  const int64_t leader_leo = log_.log_end_offset();
  int64_t new_hw = leader_leo;
  for (const auto& [replica, s] : followers_) {
    if (s.log_end_offset < new_hw &&
        (in_isr(replica) || s.is_caught_up(leader_leo, now, replica_lag_time_max_))) {
      new_hw = s.log_end_offset;
    }
  }
  // §3.3 rule 3: the leader's HW only increases.
  if (new_hw <= high_watermark_) return false;
  out.high_watermark_advances.push_back(HighWatermarkAdvance{ref_, high_watermark_, new_hw, now});
  high_watermark_ = new_hw;
  KS_ASSERT_LE(high_watermark_, leader_leo);
  return true;
}

bool Partition::maybe_shrink_isr(sim::SimTime now, BrokerOutbox& out) {
  if (!is_leader_) return false;
  // Partition.getOutOfSyncReplicas (§3.4): ISR followers not caught up within replica.lag.time.max.ms.
  const int64_t leader_leo = log_.log_end_offset();
  std::vector<NodeId> new_isr;
  new_isr.reserve(isr_.size());
  for (NodeId r : isr_) {
    if (r == local_broker_id_) {
      new_isr.push_back(r);
      continue;
    }
    const FollowerReplicaState* s = find_follower(r);
    KS_ASSERT(s != nullptr);
    if (s->is_caught_up(leader_leo, now, replica_lag_time_max_)) {
      new_isr.push_back(r);
    }
  }
  if (new_isr.size() == isr_.size()) return false;
  set_isr(std::move(new_isr), IsrChangeKind::shrink, now, out);
  // The slow follower no longer holds the HW back (unless the ISR is now below the minimum).
  return maybe_increment_leader_hw(now, out);
}

void Partition::set_isr(std::vector<NodeId> new_isr, IsrChangeKind kind, sim::SimTime now, BrokerOutbox& out) {
  std::sort(new_isr.begin(), new_isr.end());
  KS_ASSERT(contains(new_isr, local_broker_id_));
  KS_ASSERT_NE(new_isr.size(), isr_.size());
  // Applied at once: the AlterPartition round trip to the controller is out of scope for now (§3.4).
  out.isr_changes.push_back(IsrChange{ref_, kind, leader_epoch_, isr_, new_isr, now});
  isr_ = std::move(new_isr);
}

FollowerFetchState Partition::follower_fetch_state() const {
  KS_ASSERT(!is_leader_);
  KS_ASSERT_GE(leader_id_, 0);
  // §3.5 modern path: fetch from the LEO with the latest local epoch as lastFetchedEpoch.
  return FollowerFetchState{leader_id_, leader_epoch_, log_.log_end_offset(), epoch_cache_.latest_epoch(),
                            log_.log_start_offset()};
}

FollowerApplyResult Partition::apply_follower_fetch_response(const FetchPartitionResponse& response,
                                                             sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT(!is_leader_);
  KS_ASSERT_EQ(response.partition, ref_);
  FollowerApplyResult result;
  result.error = response.error;
  // Errors are the fetcher's to handle (back off by replica.fetch.backoff.ms, §3.5 "Fetcher errors").
  if (response.error != Errc::none) return result;
  const int64_t leo = log_.log_end_offset();
  if (response.diverging_epoch) {
    // AbstractFetcherThread.getOffsetTruncationState (§3.5).
    const EpochEndOffset leader_end = *response.diverging_epoch;
    int64_t target = leo;
    if (leader_end.end_offset == undefined_epoch_offset) {
      target = leo;
    } else if (leader_end.epoch == undefined_epoch) {
      target = std::min(leader_end.end_offset, leo);
    } else {
      const EpochEndOffset local = epoch_cache_.end_offset_for(leader_end.epoch, leo);
      if (local.end_offset == undefined_epoch_offset) {
        target = std::min(leader_end.end_offset, leo);
      } else if (local.epoch != leader_end.epoch) {
        // Intermediate step: the next fetch re-validates from the earlier epoch.
        target = std::min(local.end_offset, leo);
      } else {
        target = std::min({local.end_offset, leader_end.end_offset, leo});
      }
    }
    truncate_to(target, now, out);
    result.truncated = target < leo;
    result.truncation_offset = target;
    check_invariants();
    return result;
  }
  if (!response.batches.empty()) {
    // The fetch offset is the LEO (§8.5), so the leader's first batch starts exactly there.
    KS_ASSERT_EQ(response.batches.front().base_offset, leo);
    const LogAppendResult appended = log_.append_as_follower(response.batches, now, out.storage_ops);
    if (appended.error != Errc::none) {
      result.error = appended.error;
      return result;
    }
    assign_epochs(response.batches);
    // Origin REPLICATION: the producer state follows the leader's log without validation.
    for (const RecordBatch& b : response.batches) producer_state_.on_appended(b);
    result.appended = true;
  }
  // processPartitionData (§3.3 follower): HW = clamp(leader HW, log start, LEO); not monotonic on followers.
  // UnifiedLog.maybeUpdateHighWatermark reports only a rise (partitionsWithNewHighWatermark).
  if (response.high_watermark >= 0) {
    const int64_t previous = high_watermark_;
    high_watermark_ = std::clamp(response.high_watermark, log_.log_start_offset(), log_.log_end_offset());
    result.high_watermark_increased = high_watermark_ > previous;
  }
  // logStartOffset = max(own, leader's), never past the HW (UnifiedLog.maybeIncrementLogStartOffset).
  if (response.log_start_offset > log_.log_start_offset() && response.log_start_offset <= high_watermark_) {
    const Errc e = maybe_increment_log_start_offset(response.log_start_offset);
    KS_ASSERT_EQ(e, Errc::none);
  }
  KS_ASSERT_LE(high_watermark_, log_.log_end_offset());
  return result;
}

RetentionResult Partition::delete_old_segments(sim::SimTime now, StorageOps& out,
                                               std::vector<RecordBatch>* deleted_batches) {
  const RetentionResult result = log_.delete_old_segments(now, high_watermark_, out, deleted_batches);
  // UnifiedLog.deleteSegments -> maybeIncrementLogStartOffset(SegmentDeletion) trims the cache from the start.
  epoch_cache_.truncate_from_start(log_.log_start_offset());
  producer_state_.on_log_start_offset(log_.log_start_offset());
  if (!epoch_cache_.empty()) KS_ASSERT_GE(epoch_cache_.entries().front().start_offset, log_.log_start_offset());
  return result;
}

Errc Partition::maybe_increment_log_start_offset(int64_t new_log_start_offset) {
  const Errc e = log_.maybe_increment_log_start_offset(new_log_start_offset, high_watermark_);
  if (e != Errc::none) return e;
  // LeaderEpochFileCache.truncateFromStart: epochs wholly below the log start go; the one covering it starts there.
  epoch_cache_.truncate_from_start(log_.log_start_offset());
  producer_state_.on_log_start_offset(log_.log_start_offset());
  if (!epoch_cache_.empty()) KS_ASSERT_GE(epoch_cache_.entries().front().start_offset, log_.log_start_offset());
  return Errc::none;
}

void Partition::assign_epochs(std::span<const RecordBatch> batches) {
  // §2.3 step 4, follower path as well: each batch's partitionLeaderEpoch starts at its base offset.
  for (const RecordBatch& b : batches) {
    if (b.partition_leader_epoch >= 0) epoch_cache_.assign(b.partition_leader_epoch, b.base_offset);
  }
}

void Partition::truncate_to(int64_t offset, sim::SimTime now, BrokerOutbox& out) {
  KS_ASSERT_GE(offset, 0);
  const int64_t old_leo = log_.log_end_offset();
  if (offset >= old_leo) return;
  // UnifiedLog.truncateTo: the log, the epoch cache and the HW (never above the new LEO) move together.
  log_.truncate_to(offset, now, out.storage_ops);
  epoch_cache_.truncate_from_end(offset);
  producer_state_.truncate_to(offset);
  high_watermark_ = std::min(high_watermark_, offset);
  out.truncations.push_back(LogTruncation{ref_, old_leo, offset, now});
  KS_ASSERT_EQ(log_.log_end_offset(), offset);
}

void Partition::check_invariants() const {
  KS_ASSERT_GE(high_watermark_, 0);
  KS_ASSERT_LE(high_watermark_, log_.log_end_offset());
  epoch_cache_.check_invariants();
  if (!epoch_cache_.empty()) KS_ASSERT_LE(epoch_cache_.entries().back().start_offset, log_.log_end_offset());
  if (is_leader_) {
    KS_ASSERT_EQ(leader_id_, local_broker_id_);
    KS_ASSERT(in_isr(local_broker_id_));
    KS_ASSERT(std::adjacent_find(isr_.begin(), isr_.end()) == isr_.end());
    for (NodeId r : isr_) KS_ASSERT(in_replicas(r));
    KS_ASSERT_EQ(followers_.size() + 1, replicas_.size());
    KS_ASSERT_EQ(epoch_cache_.latest_epoch(), leader_epoch_);
  }
}

}  // namespace kafkasim::kafka
