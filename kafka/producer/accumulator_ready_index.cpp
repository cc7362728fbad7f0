// The incremental ready() of RecordAccumulator (see ReadyIndex in accumulator.hpp): its own translation unit, so
// that the index code does not use up GCC's inlining budget (inline-unit-growth) of accumulator.cpp's hot paths.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kafkasim/kafka/producer/accumulator.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// Metadata leaders (node and epoch) as one flat comparison: PartitionLeader is two int32_t without padding.
bool same_leaders(const std::vector<std::vector<PartitionLeader>>& seen, const ProducerMetadata& metadata) {
  static_assert(std::has_unique_object_representations_v<PartitionLeader>);
  if (seen.size() != metadata.topics.size()) return false;
  for (size_t t = 0; t < seen.size(); ++t) {
    const std::vector<PartitionLeader>& current = metadata.topics[t].partitions;
    if (seen[t].size() != current.size()) return false;
    if (!current.empty() &&
        std::memcmp(seen[t].data(), current.data(), current.size() * sizeof(PartitionLeader)) != 0)
      return false;
  }
  return true;
}

}  // namespace

void RecordAccumulator::ready_from_index(const ProducerMetadata& metadata, sim::SimTime now, bool exhausted,
                                         ReadyCheckResult& out) {
  ReadyIndex& index = ready_index_;
  if (!index.valid || index.exhausted != exhausted || index.closed != closed_ ||
      index.flushing != flush_in_progress() || now < index.last_now || !same_leaders(index.leaders, metadata))
    ready_rebuild(metadata, now, exhausted);
  index.last_now = now;
  // Waiting heads whose time has come (their backoff or linger.ms ended).
  while (!index.recheck.empty() && index.recheck.begin()->first <= now) {
    const PartitionRef tp = index.recheck.begin()->second;
    mark_ready_dirty(tp);
    PartitionQueue& queue = topics_[static_cast<size_t>(tp.topic)].partitions[static_cast<size_t>(tp.partition)];
    ready_unindex(tp, queue);  // erases the entry
  }
  for (const PartitionRef tp : index.dirty) {
    PartitionQueue& queue = topics_[static_cast<size_t>(tp.topic)].partitions[static_cast<size_t>(tp.partition)];
    queue.ready_dirty = false;
    ready_unindex(tp, queue);
    ready_index(tp, queue, metadata, now, exhausted);
  }
  index.dirty.clear();

  // The result, as check_head would have built it visiting the heads in (topic, partition) order: a leader is
  // ready if one of its non-muted heads is sendable; a waiting head shortens the delay unless a sendable head of
  // its leader comes before it.
  for (const LeaderReadyIndex& leader : index.by_leader) {
    size_t limit = leader.waiting.size;
    if (!leader.sendable.empty()) {
      out.ready_nodes.push_back(leader.node);
      const PartitionRef first = *leader.sendable.begin();
      limit = static_cast<size_t>(index.rank[static_cast<size_t>(first.topic)][static_cast<size_t>(first.partition)]);
    }
    const sim::SimTime until = leader.waiting.prefix_min(limit);
    if (until != sim::SimTime::max())
      out.next_ready_check_delay = sim::min(out.next_ready_check_delay, sim::max(until - now, sim::Duration::zero()));
  }
  for (size_t t = 0; t < topics_.size(); ++t)
    if (topics_[t].unknown_leader_heads > 0) out.unknown_leader_topics.push_back(static_cast<int32_t>(t));
  finish_ready_result(out);
}

void RecordAccumulator::MinTree::reset(size_t n) {
  size = n;
  nodes.assign(2 * n, sim::SimTime::max());
}

void RecordAccumulator::MinTree::assign(size_t index, sim::SimTime value) {
  KS_ASSERT_LT(index, size);
  size_t i = index + size;
  nodes[i] = value;
  for (i /= 2; i >= 1; i /= 2) nodes[i] = sim::min(nodes[2 * i], nodes[2 * i + 1]);
}

sim::SimTime RecordAccumulator::MinTree::prefix_min(size_t count) const {
  KS_ASSERT_LE(count, size);
  sim::SimTime result = sim::SimTime::max();
  // The half-open leaf range [size, size + count), walked up the tree.
  for (size_t l = size, r = size + count; l < r; l /= 2, r /= 2) {
    if (l & 1) result = sim::min(result, nodes[l++]);
    if (r & 1) result = sim::min(result, nodes[--r]);
  }
  return result;
}

RecordAccumulator::LeaderReadyIndex& RecordAccumulator::leader_ready_index(int32_t node) {
  for (LeaderReadyIndex& leader : ready_index_.by_leader)
    if (leader.node == node) return leader;
  KS_ASSERT_MSG(false, "a leader missing from the ready index");
  return ready_index_.by_leader.front();
}

void RecordAccumulator::ready_rebuild(const ProducerMetadata& metadata, sim::SimTime now, bool exhausted) {
  ReadyIndex& index = ready_index_;
  index.valid = true;
  index.exhausted = exhausted;
  index.closed = closed_;
  index.flushing = flush_in_progress();
  index.last_now = now;
  index.recheck.clear();
  index.dirty.clear();
  index.by_leader.clear();
  index.leaders.resize(metadata.topics.size());
  index.rank.resize(metadata.topics.size());
  // Each leader's partitions in (topic, partition) order, the order in which ready() visits them.
  std::vector<std::pair<int32_t, size_t>> counts;  // (node, partitions so far)
  for (size_t t = 0; t < metadata.topics.size(); ++t) {
    const std::vector<PartitionLeader>& leaders = metadata.topics[t].partitions;
    index.leaders[t] = leaders;
    index.rank[t].assign(leaders.size(), -1);
    for (size_t p = 0; p < leaders.size(); ++p) {
      const int32_t node = leaders[p].node_id;
      if (node == no_leader_node) continue;
      auto it = std::find_if(counts.begin(), counts.end(), [node](const auto& c) { return c.first == node; });
      if (it == counts.end()) it = counts.insert(counts.end(), {node, 0});
      index.rank[t][p] = static_cast<int32_t>(it->second++);
    }
  }
  for (const auto& [node, count] : counts) {
    LeaderReadyIndex& leader = index.by_leader.emplace_back();
    leader.node = node;
    leader.waiting.reset(count);
  }
  // Every head is checked again.
  for (size_t t = 0; t < topics_.size(); ++t) {
    TopicState& ts = topics_[t];
    ts.unknown_leader_heads = 0;
    for (size_t p = 0; p < ts.partitions.size(); ++p) {
      PartitionQueue& queue = ts.partitions[p];
      queue.ready_state = ready_none;
      queue.ready_dirty = false;
    }
  }
  for (const PartitionRef tp : nonempty_) mark_ready_dirty(tp);
}

void RecordAccumulator::ready_unindex(PartitionRef tp, PartitionQueue& queue) {
  switch (queue.ready_state) {
    case ready_none:
    case ready_skipped:
      break;
    case ready_unknown_leader: {
      int32_t& count = topics_[static_cast<size_t>(tp.topic)].unknown_leader_heads;
      KS_ASSERT_GT(count, 0);
      --count;
      break;
    }
    case ready_sendable: {
      const size_t erased = leader_ready_index(queue.ready_leader).sendable.erase(tp);
      KS_ASSERT_EQ(erased, 1U);
      break;
    }
    case ready_waiting: {
      const int32_t rank = ready_index_.rank[static_cast<size_t>(tp.topic)][static_cast<size_t>(tp.partition)];
      KS_ASSERT_GE(rank, 0);
      leader_ready_index(queue.ready_leader).waiting.assign(static_cast<size_t>(rank), sim::SimTime::max());
      const size_t erased = ready_index_.recheck.erase({queue.ready_recheck, tp});
      KS_ASSERT_EQ(erased, 1U);
      break;
    }
    default:
      KS_ASSERT_MSG(false, "bad ready state");
  }
  queue.ready_state = ready_none;
}

void RecordAccumulator::ready_index(PartitionRef tp, PartitionQueue& queue, const ProducerMetadata& metadata,
                                   sim::SimTime now, bool exhausted) {
  KS_ASSERT_EQ(queue.ready_state, ready_none);
  if (queue.batches.empty()) return;
  // check_head, keeping the outcome instead of adding it to a result.
  const TopicMetadata* topic = metadata.knows_topic(tp.topic) ? &metadata.topic(tp.topic) : nullptr;
  const bool partition_known = topic != nullptr && tp.partition < topic->num_partitions();
  const int32_t leader = partition_known ? topic->leader_of(tp.partition) : no_leader_node;
  ProducerBatch& head = *queue.batches.front();
  const sim::Duration waited = head.waited_time(now);
  head.maybe_update_leader_epoch(leader_epoch_of(metadata, tp));
  const bool backing_off = should_backoff(head, now);
  const bool full = queue.batches.size() > 1 || head.is_full();
  queue.ready_leader = leader;
  if (leader == no_leader_node) {
    queue.ready_state = ready_unknown_leader;
    ++topics_[static_cast<size_t>(tp.topic)].unknown_leader_heads;
    return;
  }
  if (is_muted(tp)) {
    queue.ready_state = ready_skipped;
    return;
  }
  const sim::Duration time_to_wait = backing_off ? head.retry_backoff : config_.linger;
  const bool expired = waited >= time_to_wait;
  const bool sendable = full || expired || exhausted || closed_ || flush_in_progress();
  LeaderReadyIndex& leader_index = leader_ready_index(leader);
  if (sendable && !backing_off) {
    // Stays sendable as time passes: the backoff only ends and the waited time only grows.
    queue.ready_state = ready_sendable;
    leader_index.sendable.insert(tp);
    return;
  }
  // check_head's delay is max(time_to_wait - waited, 0) = `until` - now while the head waits; it stops waiting (or
  // its backoff ends) at `until`. A last attempt in the future (waited clamped to 0) is checked again next time.
  queue.ready_state = ready_waiting;
  KS_ASSERT_GE(time_to_wait, sim::Duration::zero());
  KS_ASSERT_LE(time_to_wait - waited, sim::SimTime::max() - now);
  const sim::SimTime until = now + (time_to_wait - waited);
  queue.ready_recheck = head.last_attempt_time > now ? now : until;
  const int32_t rank = ready_index_.rank[static_cast<size_t>(tp.topic)][static_cast<size_t>(tp.partition)];
  KS_ASSERT_GE(rank, 0);
  leader_index.waiting.assign(static_cast<size_t>(rank), until);
  ready_index_.recheck.emplace(queue.ready_recheck, tp);
}

}  // namespace kafkasim::kafka
