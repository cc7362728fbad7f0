#include "kafkasim/kafka/producer/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// Record lists of finished batches kept for reuse by new batches (a bound, not a tuning knob).
constexpr size_t max_spare_record_lists = 64;

// A record's CreateTime: the send time in milliseconds, as System.currentTimeMillis() gives it.
int64_t timestamp_ms(sim::SimTime t) { return t.ns() / 1'000'000; }

// DefaultRecordBatch.incrementSequence: sequences wrap from Integer.MAX_VALUE to 0.
int32_t increment_sequence(int32_t sequence, int32_t increment) {
  KS_ASSERT_GE(sequence, 0);
  KS_ASSERT_GE(increment, 0);
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}


}  // namespace

// ----- ProducerBatch -------------------------------------------------------------------------------------------

sim::Duration ProducerBatch::waited_time(sim::SimTime now) const {
  return sim::max(now - last_attempt_time, sim::Duration::zero());
}

// ----- QuietAppendCursor ------------------------------------------------------------------------------------------

// Runs for every record sent: flattened, as GCC's inline-unit-growth limit for this file would otherwise leave the
// small helpers it calls (find_queue, the size estimates) out of line, a call each.
[[gnu::flatten]] bool QuietAppendCursor::accept(int32_t topic_index, int32_t partition, const RecordShape& shape, sim::SimTime time) {
  if (stopped_) return false;
  stopped_ = true;  // until every check below passed
  const RecordAccumulator& acc = *accumulator_;
  const ProducerConfig& config = acc.config_;
  // A blocked send, or a closed producer, changes what every later send does.
  if (acc.closed_ || !acc.waiters_.empty()) return false;
  // KafkaProducer.doSend's failures (unknown topic, ensureValidRecordSize) complete the record at once.
  if (!metadata_->knows_topic(topic_index) ||
      metadata_->topics[static_cast<size_t>(topic_index)].num_partitions() == 0)
    return false;
  const int32_t payload_bytes = record_payload_size_bytes(shape);
  const int64_t upper_bound = batch_size_upper_bound_bytes(payload_bytes);
  if (upper_bound > config.max_request_size_bytes || upper_bound > config.buffer_memory_bytes) return false;
  if (topic_index >= static_cast<int32_t>(acc.topics_.size())) return false;
  const RecordAccumulator::TopicState& ts = acc.topics_[static_cast<size_t>(topic_index)];
  const bool sticky = partition == unknown_partition;
  // The sticky partitioner draws its first partition lazily: a draw is not quiet.
  if (sticky && !ts.partitioner.has_current_partition()) return false;
  const PartitionRef tp{topic_index, sticky ? ts.partitioner.current_partition_or_unknown() : partition};
  const RecordAccumulator::PartitionQueue* queue = acc.find_queue(tp);
  // Exactly one batch queued: a second one would make append report batch_is_full (a sender wakeup that, while
  // tail appends are quiet, finds nothing new).
  if (queue == nullptr || queue->batches.empty() || (queue->batches.size() > 1 && !acc.tail_appends_quiet_now()))
    return false;
  const ProducerBatch& batch = *queue->batches.back();
  if (batch.closed_for_appends || batch.closed || batch.records.empty()) return false;

  auto open = std::find_if(open_.begin(), open_.end(), [&](const OpenBatch& o) { return o.partition == tp; });
  if (open == open_.end())
    open = open_.insert(open_.end(), OpenBatch{tp, batch.record_count(), batch.uncompressed_records_bytes});
  // MemoryRecordsBuilder.hasRoomFor and isFull, on the batch as the accepted records left it (see try_append).
  const int32_t before_bytes =
      estimated_batch_bytes(batch.compression, open->uncompressed_records_bytes, batch.compression_ratio_estimate);
  if (batch.buffer_capacity_bytes <= before_bytes) return false;
  const int32_t record_bytes =
      record_size_in_batch_bytes(open->record_count, time.ns() / 1'000'000 - batch.base_timestamp_ms, payload_bytes);
  if (static_cast<int64_t>(batch.buffer_capacity_bytes) < static_cast<int64_t>(before_bytes) + record_bytes)
    return false;
  const int32_t after_uncompressed = open->uncompressed_records_bytes + record_bytes;
  const int32_t after_bytes =
      estimated_batch_bytes(batch.compression, after_uncompressed, batch.compression_ratio_estimate);
  if (batch.buffer_capacity_bytes <= after_bytes) return false;  // full afterwards: the sender is woken
  if (sticky) {
    // updatePartitionInfo with the batch not full: only twice batch.size bytes would switch (a draw).
    auto produced = std::find_if(produced_bytes_.begin(), produced_bytes_.end(),
                                 [&](const auto& p) { return p.first == topic_index; });
    if (produced == produced_bytes_.end())
      produced = produced_bytes_.insert(produced_bytes_.end(), {topic_index, ts.partitioner.produced_bytes()});
    const int32_t appended_bytes = after_bytes - before_bytes;
    if (ts.partitioner.would_switch(produced->second, appended_bytes, false)) return false;
    produced->second += appended_bytes;
  }
  ++open->record_count;
  open->uncompressed_records_bytes = after_uncompressed;
  stopped_ = false;
  return true;
}

bool QuietAppendCursor::still_valid() const { return version_ == accumulator_->quiet_version_; }

// ----- RecordAccumulator -----------------------------------------------------------------------------------------

RecordAccumulator::RecordAccumulator(const ProducerConfig& config, sim::Rng& rng)
    : config_(config), rng_(rng), available_memory_bytes_(config.buffer_memory_bytes) {
  KS_ASSERT_MSG(validate(config).empty(), validate(config));
  KS_ASSERT_GE(config.buffer_memory_bytes, 0);  // 0: every record fails ensureValidRecordSize
}

RecordAccumulator::TopicState& RecordAccumulator::topic_state(int32_t topic) {
  KS_ASSERT_GE(topic, 0);
  if (static_cast<size_t>(topic) < topics_.size()) [[likely]]
    return topics_[static_cast<size_t>(topic)];
  return add_topic_states(topic);
}

RecordAccumulator::TopicState& RecordAccumulator::add_topic_states(int32_t topic) {
  KS_ASSERT_LT(topic, max_topics);
  while (static_cast<int32_t>(topics_.size()) <= topic) topics_.emplace_back(config_.effective_batch_size_bytes());
  return topics_[static_cast<size_t>(topic)];
}

RecordAccumulator::PartitionQueue& RecordAccumulator::queue_for(PartitionRef tp) {
  KS_ASSERT_GE(tp.partition, 0);
  KS_ASSERT_LT(tp.partition, max_partitions_per_topic);
  TopicState& ts = topic_state(tp.topic);
  if (static_cast<int32_t>(ts.partitions.size()) <= tp.partition) {
    const auto size = static_cast<size_t>(tp.partition) + 1;
    ts.partitions.resize(size);
    ts.ready_queue_sizes.resize(size, 0);
    ts.changed_flag.resize(size, 0);
    ts.queue_nonempty.resize(size, 0);
    ts.next_sequence.resize(size, 0);
  }
  PartitionQueue& queue = ts.partitions[static_cast<size_t>(tp.partition)];
  if (!queue.created) {
    queue.created = true;
    ++ts.created_queue_count;
  }
  return queue;
}

const RecordAccumulator::PartitionQueue* RecordAccumulator::find_queue(PartitionRef tp) const {
  if (tp.topic < 0 || tp.topic >= static_cast<int32_t>(topics_.size())) return nullptr;
  const TopicState& ts = topics_[static_cast<size_t>(tp.topic)];
  if (tp.partition < 0 || tp.partition >= static_cast<int32_t>(ts.partitions.size())) return nullptr;
  const PartitionQueue& queue = ts.partitions[static_cast<size_t>(tp.partition)];
  return queue.created ? &queue : nullptr;
}

void RecordAccumulator::on_queue_changed(PartitionRef tp, PartitionQueue& queue) {
  ++quiet_version_;
  TopicState& ts = topics_[static_cast<size_t>(tp.topic)];
  uint8_t& nonempty = ts.queue_nonempty[static_cast<size_t>(tp.partition)];
  if (queue.batches.empty()) {
    if (nonempty != 0) {
      nonempty_.erase(tp);
      const size_t erased = head_created_.erase({queue.indexed_head_created, tp});
      KS_ASSERT_EQ(erased, 1U);
    }
  } else {
    const sim::SimTime head_created = queue.batches.front()->created_time;
    if (nonempty == 0) {
      nonempty_.insert(tp);
      head_created_.emplace(head_created, tp);
    } else if (head_created != queue.indexed_head_created) {
      const size_t erased = head_created_.erase({queue.indexed_head_created, tp});
      KS_ASSERT_EQ(erased, 1U);
      head_created_.emplace(head_created, tp);
    }
    queue.indexed_head_created = head_created;
  }
  KS_ASSERT_EQ(nonempty_.size(), head_created_.size());
  nonempty = queue.batches.empty() ? 0 : 1;
  mark_ready_dirty(tp);
  uint8_t& flag = ts.changed_flag[static_cast<size_t>(tp.partition)];
  if (flag == 0) {
    flag = 1;
    ts.changed.push_back(tp.partition);
  }
}

void RecordAccumulator::refresh_load_stats(TopicState& ts, const TopicMetadata& topic) {
  if (!ts.load_stats_wanted || !ts.load_stats_stale) return;
  ts.load_stats_stale = false;
  // The arrays ready_full_scan builds, from the sizes of the last ready(): one entry per created deque, the
  // partitions with a leader first in partition order (no exclusions: availability timeout is 0 here).
  ts.scratch_queue_sizes.assign(static_cast<size_t>(ts.created_queue_count), 0);
  ts.scratch_partition_ids.assign(static_cast<size_t>(ts.created_queue_count), 0);
  size_t length = 0;
  for (size_t p = 0; p < ts.partitions.size(); ++p) {
    if (!ts.partitions[p].created) continue;
    const auto partition = static_cast<int32_t>(p);
    if (partition >= topic.num_partitions() || !topic.has_leader(partition)) continue;
    KS_ASSERT_LT(length, ts.scratch_queue_sizes.size());
    ts.scratch_partition_ids[length] = partition;
    ts.scratch_queue_sizes[length] = ts.ready_queue_sizes[p];
    ++length;
  }
  ts.partitioner.update_partition_load_stats(ts.scratch_queue_sizes, ts.scratch_partition_ids, length);
}

AppendResult RecordAccumulator::append(const SendRequest& request, sim::SimTime now, const ProducerMetadata& metadata) {
  KS_ASSERT_GE(request.partition, unknown_partition);
  KS_ASSERT_GE(request.shape.header_count, 0);
  KS_ASSERT_GE(request.shape.headers_bytes, 0);
  AppendResult result;
  result.record_id = request.record_id;
  if (closed_) {
    result.status = AppendStatus::closed;
    return result;
  }
  if (!metadata.knows_topic(request.topic) || metadata.topic(request.topic).num_partitions() == 0) {
    result.status = AppendStatus::unknown_topic;
    return result;
  }
  KS_ASSERT_LT(request.partition, metadata.topic(request.topic).num_partitions());
  // KafkaProducer.ensureValidRecordSize: the upper-bound size of the record alone in a batch.
  const int64_t serialized_size_bytes = batch_size_upper_bound_bytes(request.shape);
  if (serialized_size_bytes > config_.max_request_size_bytes || serialized_size_bytes > config_.buffer_memory_bytes) {
    result.status = AppendStatus::record_too_large;
    return result;
  }

  result = append_internal(request, now, now, metadata, 0);
  // Anything but a quiet append (see QuietAppendCursor) invalidates the cursors. New batches, partition switches
  // and blocked sends already did (on_queue_changed, append_internal, the waiters); a full batch did not.
  if (result.status != AppendStatus::appended || result.wakes_sender) ++quiet_version_;
  if (result.status == AppendStatus::blocked_on_memory) {
    // BufferPool.allocate: wait in FIFO order for up to the remaining max.block.ms.
    BlockedSend waiter;
    waiter.request = request;
    waiter.send_time = now;
    const sim::Duration max_block = request.max_block_remaining.value_or(config_.max_block);
    KS_ASSERT_GE(max_block, sim::Duration::zero());
    waiter.deadline = now + max_block;
    waiter.size_bytes = std::max(config_.effective_batch_size_bytes(), batch_size_upper_bound_bytes(request.shape));
    waiters_.push_back(waiter);
    ++quiet_version_;
    // The head waiter collects whatever memory is free now, so later (smaller) requests cannot overtake it.
    std::vector<BlockedSendOutcome> none;
    serve_waiters(now, metadata, none);
    KS_ASSERT(none.empty());
  }
  return result;
}

AppendResult RecordAccumulator::append_quiet(const SendRequest& request, sim::SimTime now) {
  KS_ASSERT(!closed_ && waiters_.empty());
  KS_ASSERT_LT(static_cast<size_t>(request.topic), topics_.size());
  TopicState& ts = topics_[static_cast<size_t>(request.topic)];
  const bool sticky = request.partition == unknown_partition;
  KS_ASSERT(!sticky || ts.partitioner.has_current_partition());
  const int32_t partition = sticky ? ts.partitioner.current_partition_or_unknown() : request.partition;
  KS_ASSERT_GE(partition, 0);
  KS_ASSERT_LT(static_cast<size_t>(partition), ts.partitions.size());
  PartitionQueue* queue = &ts.partitions[static_cast<size_t>(partition)];
  KS_ASSERT(queue->created && (queue->batches.size() == 1 || (!queue->batches.empty() && tail_appends_quiet_now())));
  AppendResult result;
  result.record_id = request.record_id;
  result.partition = partition;
  const bool appended = try_append(*queue, request, now, now, result);
  KS_ASSERT_MSG(appended && !result.wakes_sender, "append_quiet: the record's send is not quiet");
  // append_internal's updatePartitionInfo with the batch not full: the cursor checked that it does not switch
  // (a switch would draw from the Rng and change quiet_version_).
  if (sticky) {
    KS_ASSERT(!ts.partitioner.would_switch(result.appended_bytes, false));
    ts.partitioner.count_appended_bytes(result.appended_bytes);
  }
  return result;
}

AppendResult RecordAccumulator::append_internal(const SendRequest& request, sim::SimTime send_time, sim::SimTime now,
                                                const ProducerMetadata& metadata, int32_t reserved_bytes) {
  KS_ASSERT_GE(reserved_bytes, 0);
  KS_ASSERT(metadata.knows_topic(request.topic));
  const TopicMetadata& topic = metadata.topic(request.topic);
  const bool sticky = request.partition == unknown_partition;

  // Kafka loops while the sticky partition changes under it. Single-threaded, the partition changes at most
  // once a round (a switch resets the produced bytes, so the next check cannot switch again), so two rounds
  // suffice; the bound catches a bug.
  for (int round = 0;; ++round) {
    KS_ASSERT_LT(round, 4);
    TopicState& ts = topic_state(request.topic);
    // Before the sticky partitioner may draw a new partition, its load stats must reflect the last ready().
    const auto switch_info = [&](int32_t appended_bytes, bool enable_switch) {
      if (!ts.partitioner.would_switch(appended_bytes, enable_switch))
        return ts.partitioner.update_partition_info(appended_bytes, enable_switch, topic, rng_);
      refresh_load_stats(ts, topic);
      ++quiet_version_;
      return ts.partitioner.update_partition_info(appended_bytes, enable_switch, topic, rng_);
    };
    if (sticky && !ts.partitioner.has_current_partition()) {
      refresh_load_stats(ts, topic);
      ++quiet_version_;
    }
    const int32_t partition = sticky ? ts.partitioner.current_partition(topic, rng_) : request.partition;
    PartitionQueue& queue = queue_for({request.topic, partition});

    // partitionChanged: a switch that was disabled while the last batch was incomplete happens once it is full.
    if (sticky && all_batches_full(queue) && switch_info(0, true)) continue;

    AppendResult result;
    result.record_id = request.record_id;
    result.partition = partition;
    if (try_append(queue, request, send_time, now, result)) {
      // The buffer of a formerly blocked send was not needed after all (Kafka: free.deallocate(buffer)).
      available_memory_bytes_ += reserved_bytes;
      if (sticky) switch_info(result.appended_bytes, all_batches_full(queue));
      return result;
    }

    if (reserved_bytes == 0) {
      const int32_t size_bytes =
          std::max(config_.effective_batch_size_bytes(), batch_size_upper_bound_bytes(request.shape));
      if (!waiters_.empty() || available_memory_bytes_ < size_bytes) {
        result.status = AppendStatus::blocked_on_memory;
        result.partition = unknown_partition;
        return result;
      }
      available_memory_bytes_ -= size_bytes;
      reserved_bytes = size_bytes;
    }

    // partitionChanged again: try_append closed the last batch, which may complete a disabled switch.
    if (sticky && all_batches_full(queue) && switch_info(0, true)) continue;

    // appendNewBatch.
    ProducerBatch& batch =
        new_batch({request.topic, partition}, now, reserved_bytes, config_.compression_type, ts.compression_ratio_estimate);
    batch.queued = true;
    // The records' list comes from a finished batch when there is one (it keeps its capacity: no regrowth).
    if (!spare_record_lists_.empty()) {
      batch.records = std::move(spare_record_lists_.back());
      spare_record_lists_.pop_back();
      KS_ASSERT(batch.records.empty());
    }
    queue.batches.push_back(&batch);
    on_queue_changed(batch.partition, queue);
    const bool appended = try_append(queue, request, send_time, now, result);
    KS_ASSERT_MSG(appended, "a fresh batch always takes its first record");
    result.new_batch_created = true;
    result.wakes_sender = true;
    result.appended_bytes = batch.estimated_size_bytes();
    if (sticky) switch_info(result.appended_bytes, all_batches_full(queue));
    return result;
  }
}

bool RecordAccumulator::try_append(PartitionQueue& queue, const SendRequest& request, sim::SimTime send_time,
                                   sim::SimTime now, AppendResult& result) {
  if (queue.batches.empty()) return false;
  // The last batch may be closed: a retried batch re-enqueued behind every queued one (insertInSequenceOrder)
  // or into an empty deque. Its builder is closed, so hasRoomFor says no (is_full) and a new batch follows it.
  ProducerBatch& batch = *queue.batches.back();
  const int64_t record_timestamp_ms = timestamp_ms(send_time);
  const bool first_record = batch.records.empty();
  // The record's exact size in this batch (the first record sets the batch's base timestamp) and the batch's
  // estimated size before it, each computed once.
  const int64_t base_timestamp_ms = first_record ? record_timestamp_ms : batch.base_timestamp_ms;
  const int32_t payload_bytes = record_payload_size_bytes(request.shape);
  const int32_t record_bytes =
      record_size_in_batch_bytes(batch.record_count(), record_timestamp_ms - base_timestamp_ms, payload_bytes);
  const int32_t initial_bytes = batch.estimated_size_bytes();
  // MemoryRecordsBuilder.hasRoomFor: never into a full batch; always into an empty one (an oversize record
  // gets a batch of its own); otherwise only if the estimate plus the record's exact size fits the buffer.
  const bool has_room =
      !batch.is_full() && (first_record || static_cast<int64_t>(batch.buffer_capacity_bytes) >=
                                               static_cast<int64_t>(initial_bytes) + record_bytes);
  if (!has_room) {
    // closeForRecordAppends: the batch takes no more records; it is sendable as "full" from now on.
    if (!batch.closed_for_appends) mark_ready_dirty(batch.partition);
    batch.closed_for_appends = true;
    return false;
  }
  batch.base_timestamp_ms = base_timestamp_ms;
  batch.uncompressed_records_bytes += record_bytes;
  batch.records.push_back({request.record_id, send_time, payload_bytes, request.shape.key_bytes == null_length});
  batch.last_append_time = now;
  result.status = AppendStatus::appended;
  result.batch = batch.id;
  result.appended_bytes = batch.estimated_size_bytes() - initial_bytes;
  result.batch_is_full = queue.batches.size() > 1 || batch.is_full();
  // Not a new batch (append_internal sets that and the wakeup): the head is the one before this append.
  result.wakes_sender = batch.is_full() || (queue.batches.size() > 1 && !tail_appends_quiet_now());
  if (batch.is_full()) mark_ready_dirty(batch.partition);  // full: ready() finds it sendable
  KS_ASSERT_GE(result.appended_bytes, 0);
  return true;
}

ReadyCheckResult RecordAccumulator::ready(const ProducerMetadata& metadata, sim::SimTime now) {
  // partitioner.availability.timeout.ms excludes slow leaders from the load stats while scanning; only Kafka's
  // own full scan does that bookkeeping.
  if (config_.partitioner_availability_timeout > sim::Duration::zero()) return ready_full_scan(metadata, now);

  // The same result as the full scan: an empty deque contributes nothing but its size to the load stats, and
  // those are rebuilt lazily (refresh_load_stats); the heads of non-empty deques are kept in ready_index_, and
  // only those whose outcome may have changed are checked again.
  ReadyCheckResult out;
  const bool exhausted = !waiters_.empty();
  for (size_t t = 0; t < topics_.size(); ++t) {
    TopicState& ts = topics_[t];
    const auto topic_index = static_cast<int32_t>(t);
    const TopicMetadata* topic = metadata.knows_topic(topic_index) ? &metadata.topic(topic_index) : nullptr;
    const bool build_stats = config_.partitioner_adaptive_partitioning_enable && topic != nullptr &&
                             ts.created_queue_count >= topic->num_partitions();
    for (int32_t p : ts.changed) {
      ts.ready_queue_sizes[static_cast<size_t>(p)] = static_cast<int32_t>(ts.partitions[static_cast<size_t>(p)].batches.size());
      ts.changed_flag[static_cast<size_t>(p)] = 0;
    }
    if (build_stats) {
      // Stale after every ready(), as Kafka rebuilds the stats on every ready(); the rebuild itself waits for a
      // draw, so it costs once per partition switch however often ready() runs.
      ts.load_stats_wanted = true;
      ts.load_stats_stale = true;
    } else {
      ts.partitioner.clear_partition_load_stats();
      ts.load_stats_wanted = false;
    }
    ts.changed.clear();
  }

  ReadyIndex& index = ready_index_;
  // With few non-empty deques (sticky partitioning keeps only a handful) visiting each head costs less than
  // keeping the index: ready() scans them as Kafka does, and the index is dropped (mark_ready_dirty does nothing
  // while it is invalid) and rebuilt from scratch once there are many again. The two thresholds keep a count
  // near one of them from switching back and forth.
  const size_t heads = nonempty_.size();
  if (index.valid ? heads < ready_index_leave_ : heads <= ready_index_enter_) {
    index.valid = false;
    for (const PartitionRef tp : nonempty_) {
      PartitionQueue& queue = topics_[static_cast<size_t>(tp.topic)].partitions[static_cast<size_t>(tp.partition)];
      const TopicMetadata* topic = metadata.knows_topic(tp.topic) ? &metadata.topic(tp.topic) : nullptr;
      const bool partition_known = topic != nullptr && tp.partition < topic->num_partitions();
      const int32_t leader = partition_known ? topic->leader_of(tp.partition) : no_leader_node;
      check_head(queue, tp, leader, metadata, now, exhausted, out);
    }
    finish_ready_result(out);
    version_at_ready_ = quiet_version_;
    return out;
  }
  ready_from_index(metadata, now, exhausted, out);
  version_at_ready_ = quiet_version_;
  return out;
}

void RecordAccumulator::mark_ready_dirty(PartitionRef tp) {
  ++quiet_version_;  // a head's outcome in ready() may have changed (see set_tail_appends_quiet)
  if (!ready_index_.valid) return;  // the next ready() rebuilds the index (or it is not used: ready_full_scan)
  if (tp.topic < 0 || tp.topic >= static_cast<int32_t>(topics_.size())) return;  // no deque: nothing indexed
  TopicState& ts = topics_[static_cast<size_t>(tp.topic)];
  if (tp.partition < 0 || tp.partition >= static_cast<int32_t>(ts.partitions.size())) return;
  PartitionQueue& queue = ts.partitions[static_cast<size_t>(tp.partition)];
  if (queue.ready_dirty) return;
  queue.ready_dirty = true;
  ready_index_.dirty.push_back(tp);
}

void RecordAccumulator::check_head(PartitionQueue& queue, PartitionRef tp, int32_t leader,
                                   const ProducerMetadata& metadata, sim::SimTime now, bool exhausted,
                                   ReadyCheckResult& out) {
  KS_ASSERT(!queue.batches.empty());
  ProducerBatch& head = *queue.batches.front();
  const sim::Duration waited = head.waited_time(now);
  head.maybe_update_leader_epoch(leader_epoch_of(metadata, tp));
  const bool backing_off = should_backoff(head, now);
  const bool full = queue.batches.size() > 1 || head.is_full();
  if (leader == no_leader_node) {
    // Topics are visited in order, so a repeat can only be the last entry.
    if (out.unknown_leader_topics.empty() || out.unknown_leader_topics.back() != tp.topic)
      out.unknown_leader_topics.push_back(tp.topic);
    return;
  }
  // batchReady.
  if (std::find(out.ready_nodes.begin(), out.ready_nodes.end(), leader) != out.ready_nodes.end() || is_muted(tp))
    return;
  const sim::Duration time_to_wait = backing_off ? head.retry_backoff : config_.linger;
  const bool expired = waited >= time_to_wait;
  const bool sendable = full || expired || exhausted || closed_ || flush_in_progress();
  if (sendable && !backing_off) {
    out.ready_nodes.push_back(leader);
  } else {
    const sim::Duration time_left = sim::max(time_to_wait - waited, sim::Duration::zero());
    out.next_ready_check_delay = sim::min(out.next_ready_check_delay, time_left);
  }
}

void RecordAccumulator::finish_ready_result(ReadyCheckResult& out) {
  // check_head collects each node and topic once (few: a list beats a set), in visiting order.
  std::sort(out.ready_nodes.begin(), out.ready_nodes.end());
  KS_ASSERT(std::is_sorted(out.unknown_leader_topics.begin(), out.unknown_leader_topics.end()));
}

ReadyCheckResult RecordAccumulator::ready_full_scan(const ProducerMetadata& metadata, sim::SimTime now) {
  ReadyCheckResult out;
  // BufferPool.queued() > 0: a send is blocked on memory, so every partition is sendable to free memory.
  const bool exhausted = !waiters_.empty();

  for (size_t t = 0; t < topics_.size(); ++t) {
    TopicState& ts = topics_[t];
    const auto topic_index = static_cast<int32_t>(t);
    const TopicMetadata* topic = metadata.knows_topic(topic_index) ? &metadata.topic(topic_index) : nullptr;
    // Adaptive stats only once every partition has a deque; before that the choice stays uniform (§1.4).
    const bool build_stats = config_.partitioner_adaptive_partitioning_enable && topic != nullptr &&
                             ts.created_queue_count >= topic->num_partitions();
    if (build_stats) {
      ts.scratch_queue_sizes.assign(static_cast<size_t>(ts.created_queue_count), 0);
      ts.scratch_partition_ids.assign(static_cast<size_t>(ts.created_queue_count), 0);
    }
    int64_t stats_index = -1;
    ts.load_stats_wanted = false;
    for (int32_t p : ts.changed) ts.changed_flag[static_cast<size_t>(p)] = 0;
    ts.changed.clear();

    for (size_t p = 0; p < ts.partitions.size(); ++p) {
      PartitionQueue& queue = ts.partitions[p];
      if (!queue.created) continue;
      const PartitionRef tp{topic_index, static_cast<int32_t>(p)};
      const bool partition_known = topic != nullptr && tp.partition < topic->num_partitions();
      const int32_t leader = partition_known ? topic->leader_of(tp.partition) : no_leader_node;
      if (leader != no_leader_node && build_stats) {
        ++stats_index;
        KS_ASSERT_LT(stats_index, ts.created_queue_count);
        ts.scratch_partition_ids[static_cast<size_t>(stats_index)] = tp.partition;
      }
      if (queue.batches.empty()) continue;
      if (leader != no_leader_node) {
        if (build_stats) ts.scratch_queue_sizes[static_cast<size_t>(stats_index)] = static_cast<int32_t>(queue.batches.size());
        if (config_.partitioner_availability_timeout > sim::Duration::zero()) {
          // A leader that had data but could not take it for longer than partitioner.availability.timeout.ms
          // is excluded from the adaptive choice (its slot is overwritten by the next partition).
          const auto stats = node_stats_.find(leader);
          if (stats != node_stats_.end() &&
              stats->second.ready_time - stats->second.drain_time > config_.partitioner_availability_timeout)
            --stats_index;
        }
      }
      check_head(queue, tp, leader, metadata, now, exhausted, out);
    }

    if (build_stats) {
      ts.partitioner.update_partition_load_stats(ts.scratch_queue_sizes, ts.scratch_partition_ids,
                                                 static_cast<size_t>(stats_index + 1));
    } else {
      ts.partitioner.clear_partition_load_stats();
    }
  }
  finish_ready_result(out);
  version_at_ready_ = quiet_version_;
  return out;
}

std::vector<BatchId> RecordAccumulator::drain(const ProducerMetadata& metadata, int32_t node,
                                              int32_t max_request_size_bytes, sim::SimTime now,
                                              DrainSequenceGate* gate) {
  KS_ASSERT_NE(node, no_leader_node);
  KS_ASSERT_GT(max_request_size_bytes, 0);
  std::vector<BatchId> drained;
  const std::vector<PartitionRef>& parts = partitions_for_node(metadata, node);
  if (parts.empty()) return drained;

  // A persistent per-node start index, so that one busy partition cannot starve the others (drainIndex).
  auto drain_entry = std::find_if(node_drain_index_.begin(), node_drain_index_.end(),
                                  [node](const auto& entry) { return entry.first == node; });
  if (drain_entry == node_drain_index_.end())
    drain_entry = node_drain_index_.insert(node_drain_index_.end(), {node, 0});
  int32_t& drain_index = drain_entry->second;
  const auto count = static_cast<int32_t>(parts.size());
  const int32_t start = drain_index % count;
  int32_t index = start;
  int64_t size_bytes = 0;
  do {
    const PartitionRef tp = parts[static_cast<size_t>(index)];
    drain_index = index;
    if (++index == count) index = 0;  // (index + 1) % count without a division per partition
    // A muted partition has a request in flight (max.in.flight.requests.per.connection = 1).
    if (is_muted(tp)) continue;
    if (tp.topic >= static_cast<int32_t>(topics_.size())) continue;  // no deque yet: nothing to drain
    TopicState& ts = topics_[static_cast<size_t>(tp.topic)];
    if (tp.partition >= static_cast<int32_t>(ts.partitions.size())) continue;
    if (ts.queue_nonempty[static_cast<size_t>(tp.partition)] == 0) continue;
    PartitionQueue& queue = ts.partitions[static_cast<size_t>(tp.partition)];
    KS_ASSERT(!queue.batches.empty());
    ProducerBatch& first = *queue.batches.front();
    if (first.maybe_update_leader_epoch(leader_epoch_of(metadata, tp))) mark_ready_dirty(tp);
    if (should_backoff(first, now)) continue;
    // max.request.size bounds the request, but one batch larger than it still goes alone.
    if (size_bytes + first.estimated_size_bytes() > max_request_size_bytes && !drained.empty()) break;
    if (config_.enable_idempotence) {
      // shouldStopDrainBatchesForPartition: an idempotent producer sends nothing without a producer id; the rest
      // (stale epochs, unresolved sequences, a retry out of turn) is the gate's. Stopping ends the node's drain.
      if (!(producer_id_and_epoch_ && producer_id_and_epoch_->valid())) break;
      if (gate != nullptr && gate->should_stop_drain(tp, first)) break;
    }

    queue.batches.pop_front();
    on_queue_changed(tp, queue);
    first.queued = false;
    if (config_.enable_idempotence && !first.has_sequence()) {
      // The sequence is assigned once, at the first drain; a retry keeps it so the broker can de-duplicate.
      int32_t& next = ts.next_sequence[static_cast<size_t>(tp.partition)];
      first.producer_id = producer_id_and_epoch_->producer_id;
      first.producer_epoch = producer_id_and_epoch_->epoch;
      first.base_sequence = next;
      next = increment_sequence(next, first.record_count());
    }
    close_batch(first);
    size_bytes += first.built_size_bytes;
    drained.push_back(first.id);
    first.drained_time = sim::max(first.drained_time, now);
  } while (index != start);
  return drained;
}

const std::vector<PartitionRef>& RecordAccumulator::partitions_for_node(const ProducerMetadata& metadata,
                                                                      int32_t node) {
  // PartitionLeader is two int32_t without padding, so equal bytes mean equal leaders.
  static_assert(std::has_unique_object_representations_v<PartitionLeader>);
  bool same = drain_leaders_.size() == metadata.topics.size();
  for (size_t t = 0; same && t < metadata.topics.size(); ++t) {
    const std::vector<PartitionLeader>& current = metadata.topics[t].partitions;
    const std::vector<PartitionLeader>& seen = drain_leaders_[t];
    same = seen.size() == current.size() &&
           (current.empty() ||
            std::memcmp(seen.data(), current.data(), current.size() * sizeof(PartitionLeader)) == 0);
  }
  if (!same) {
    drain_leaders_.resize(metadata.topics.size());
    for (size_t t = 0; t < metadata.topics.size(); ++t) drain_leaders_[t] = metadata.topics[t].partitions;
    drain_parts_.clear();
  }
  auto it = std::find_if(drain_parts_.begin(), drain_parts_.end(),
                         [node](const auto& entry) { return entry.first == node; });
  if (it == drain_parts_.end()) {
    it = drain_parts_.insert(drain_parts_.end(), {node, {}});
    for (size_t t = 0; t < drain_leaders_.size(); ++t) {
      const std::vector<PartitionLeader>& leaders = drain_leaders_[t];
      for (size_t p = 0; p < leaders.size(); ++p)
        if (leaders[p].node_id == node) it->second.push_back({static_cast<int32_t>(t), static_cast<int32_t>(p)});
    }
  }
  return it->second;
}

void RecordAccumulator::close_batch(ProducerBatch& batch) {
  if (batch.closed) return;
  KS_ASSERT_GT(batch.record_count(), 0);
  batch.closed_for_appends = true;
  batch.closed = true;
  TopicState& ts = topic_state(batch.partition.topic);
  if (batch.compression == CompressionType::none) {
    batch.built_size_bytes = record_batch_overhead_bytes + batch.uncompressed_records_bytes;
  } else {
    // The built size uses the modelled ratio of the data; the estimator then moves towards it (ProducerBatch.close
    // calls CompressionRatioEstimator.updateEstimation with the observed ratio).
    const auto compressed_bytes = static_cast<int32_t>(ts.compression.compressed_bytes(batch.uncompressed_records_bytes));
    batch.built_size_bytes = record_batch_overhead_bytes + compressed_bytes;
    ts.compression_ratio_estimate = update_compression_ratio_estimate(
        ts.compression_ratio_estimate, static_cast<float>(ts.compression.ratio_at(batch.uncompressed_records_bytes)));
  }
  KS_ASSERT_GT(batch.built_size_bytes, record_batch_overhead_bytes);
}

sim::Duration RecordAccumulator::draw_retry_backoff(int32_t attempts) {
  return exponential_backoff(config_.retry_backoff, config_.retry_backoff_max, attempts, rng_);
}

void RecordAccumulator::reenqueue(BatchId id, sim::SimTime now) {
  auto it = incomplete_.find(id);
  KS_ASSERT_MSG(it != incomplete_.end(), "re-enqueue of an unknown batch");
  ProducerBatch& batch = it->second;
  KS_ASSERT(!batch.queued);
  // ProducerBatch.reenqueued.
  ++batch.attempts;
  batch.last_attempt_time = sim::max(batch.last_append_time, now);
  batch.retry = true;
  batch.retry_backoff = draw_retry_backoff(batch.attempts - 1);
  PartitionQueue& queue = queue_for(batch.partition);
  batch.queued = true;
  if (!batch.has_sequence()) {
    queue.batches.push_front(&batch);
  } else {
    insert_in_sequence_order(queue, batch);
  }
  on_queue_changed(batch.partition, queue);
}

ProducerBatch& RecordAccumulator::new_batch(PartitionRef partition, sim::SimTime created, int32_t capacity_bytes,
                                            CompressionType compression, float compression_ratio_estimate) {
  const BatchId id = next_batch_id_++;
  auto [it, inserted] = incomplete_.try_emplace(id);
  KS_ASSERT(inserted);
  ProducerBatch& batch = it->second;
  batch.id = id;
  batch.partition = partition;
  batch.created_time = created;
  batch.last_attempt_time = created;
  batch.last_append_time = created;
  batch.drained_time = created;
  batch.buffer_capacity_bytes = capacity_bytes;
  batch.compression = compression;
  batch.compression_ratio_estimate = compression_ratio_estimate;
  return batch;
}

void RecordAccumulator::insert_in_sequence_order(PartitionQueue& queue, ProducerBatch& batch) {
  KS_ASSERT(batch.has_sequence());
  auto position = queue.batches.begin();
  while (position != queue.batches.end() && (*position)->has_sequence() &&
         (*position)->base_sequence < batch.base_sequence)
    ++position;
  queue.batches.insert(position, &batch);
}

std::vector<BatchId> RecordAccumulator::split_and_reenqueue(BatchId id, sim::SimTime now) {
  auto big_it = incomplete_.find(id);
  KS_ASSERT_MSG(big_it != incomplete_.end(), "split of an unknown batch");
  ProducerBatch& big = big_it->second;
  KS_ASSERT_MSG(big.closed && !big.queued, "only a drained batch is split");
  KS_ASSERT_GT(big.record_count(), 1);
  TopicState& ts = topic_state(big.partition.topic);
  // CompressionRatioEstimator.setEstimation(max(1, the batch's ratio)): the most conservative reset.
  if (big.compression != CompressionType::none)
    ts.compression_ratio_estimate =
        std::max(1.0f, static_cast<float>(ts.compression.ratio_at(big.uncompressed_records_bytes)));

  // The size limit of each new batch (RecordAccumulator.splitAndReenqueue, KAFKA-8350).
  int32_t split_size_bytes = config_.effective_batch_size_bytes();
  if (big.is_split_batch) {
    int32_t max_record_bytes = 0;
    for (const RecordMeta& record : big.records)
      max_record_bytes = std::max(max_record_bytes, batch_size_upper_bound_bytes(record.payload_bytes));
    split_size_bytes = std::max(max_record_bytes, big.built_size_bytes / 2);
  }

  // ProducerBatch.splitRecordsIntoBatches: each record goes to the current new batch if the builder has room for
  // it (MemoryRecordsBuilder.hasRoomFor, with the fresh builder's compression estimate of 1), else to a new batch
  // sized for it. A new batch always takes its first record.
  std::vector<BatchId> parts;
  ProducerBatch* current = nullptr;
  for (const RecordMeta& record : big.records) {
    const int64_t record_timestamp_ms = timestamp_ms(record.send_time);
    if (current != nullptr) {
      const int32_t record_bytes = record_size_in_batch_bytes(
          current->record_count(), record_timestamp_ms - current->base_timestamp_ms, record.payload_bytes);
      if (static_cast<int64_t>(current->buffer_capacity_bytes) <
          static_cast<int64_t>(current->estimated_size_bytes()) + record_bytes) {
        current->closed_for_appends = true;
        current = nullptr;
      } else {
        current->uncompressed_records_bytes += record_bytes;
        current->records.push_back(record);
        continue;
      }
    }
    // createBatchOffAccumulatorForRecord: max(the record's upper bound, the split size) bytes off the heap, with
    // the big batch's creation time.
    ProducerBatch& part =
        new_batch(big.partition, big.created_time,
                  std::max(batch_size_upper_bound_bytes(record.payload_bytes), split_size_bytes), big.compression, 1.0f);
    part.is_split_batch = true;
    part.base_timestamp_ms = record_timestamp_ms;
    part.uncompressed_records_bytes = record_size_in_batch_bytes(0, 0, record.payload_bytes);
    part.records.push_back(record);
    ++live_split_batches_;
    parts.push_back(part.id);
    current = &part;
  }
  KS_ASSERT(current != nullptr);
  current->closed_for_appends = true;

  // assignProducerStateToBatches: the sequences of the big batch, in record order.
  if (big.has_sequence()) {
    int32_t sequence = big.base_sequence;
    for (BatchId part_id : parts) {
      ProducerBatch& part = incomplete_.at(part_id);
      part.producer_id = big.producer_id;
      part.producer_epoch = big.producer_epoch;
      part.base_sequence = sequence;
      sequence = increment_sequence(sequence, part.record_count());
    }
  }

  // Back to the head of the deque, last first, so that they come out in record order.
  PartitionQueue& queue = queue_for(big.partition);
  for (auto part_id = parts.rbegin(); part_id != parts.rend(); ++part_id) {
    ProducerBatch& part = incomplete_.at(*part_id);
    part.queued = true;
    if (part.has_sequence()) {
      insert_in_sequence_order(queue, part);
    } else {
      queue.batches.push_front(&part);
    }
  }
  on_queue_changed(big.partition, queue);
  ++quiet_version_;
  // Its records live on in the new batches.
  big.records.clear();
  (void)now;
  return parts;
}

std::vector<BatchId> RecordAccumulator::expired_batches(sim::SimTime now) {
  std::vector<BatchId> expired;
  // Only non-empty deques whose head has expired can expire anything: the first entries of head_created_. They
  // are listed first, in (topic, partition) order, as emptying a deque edits the index; each deque's expiry
  // depends on nothing but itself, so the order of the work is that of a pass over every deque.
  std::vector<PartitionRef> candidates;
  for (const auto& [created, tp] : head_created_) {
    if (now - created < config_.delivery_timeout) break;
    candidates.push_back(tp);
  }
  if (candidates.empty()) return expired;
  std::sort(candidates.begin(), candidates.end());
  for (const PartitionRef tp : candidates) {
    PartitionQueue& queue = topics_[static_cast<size_t>(tp.topic)].partitions[static_cast<size_t>(tp.partition)];
    // Expire in send order, from the head, while delivery.timeout.ms has passed since creation.
    bool changed = false;
    while (!queue.batches.empty()) {
      ProducerBatch& head = *queue.batches.front();
      if (now - head.created_time < config_.delivery_timeout) break;
      queue.batches.pop_front();
      changed = true;
      head.queued = false;
      head.closed_for_appends = true;  // abortRecordAppends
      expired.push_back(head.id);
    }
    KS_ASSERT(changed);
    on_queue_changed(tp, queue);
  }
  return expired;
}

std::optional<sim::SimTime> RecordAccumulator::next_batch_expiry_time() const {
  if (head_created_.empty()) return std::nullopt;
  return head_created_.begin()->first + config_.delivery_timeout;
}

std::vector<BlockedSendOutcome> RecordAccumulator::complete_batch(BatchId id, sim::SimTime now,
                                                                  const ProducerMetadata& metadata) {
  auto it = incomplete_.find(id);
  KS_ASSERT_MSG(it != incomplete_.end(), "completion of an unknown batch");
  KS_ASSERT_MSG(!it->second.queued, "a batch completes only after it left its deque");
  // A split batch's buffer came from the heap, not from buffer.memory (RecordAccumulator.deallocate).
  if (it->second.is_split_batch) {
    KS_ASSERT_GT(live_split_batches_, 0U);
    --live_split_batches_;
  } else {
    available_memory_bytes_ += it->second.buffer_capacity_bytes;
  }
  if (spare_record_lists_.size() < max_spare_record_lists) {
    it->second.records.clear();
    spare_record_lists_.push_back(std::move(it->second.records));
  }
  incomplete_.erase(it);
  KS_ASSERT_LE(available_memory_bytes_, config_.buffer_memory_bytes);
  std::vector<BlockedSendOutcome> out;
  serve_waiters(now, metadata, out);
  return out;
}

void RecordAccumulator::serve_waiters(sim::SimTime now, const ProducerMetadata& metadata,
                                      std::vector<BlockedSendOutcome>& out) {
  // Each round either serves the head waiter or stops, so the loop is bounded by the number of waiters.
  const size_t bound = waiters_.size();
  for (size_t round = 0; round < bound && !waiters_.empty(); ++round) {
    BlockedSend& head = waiters_.front();
    const int64_t grant = std::min<int64_t>(available_memory_bytes_, head.size_bytes - head.accumulated_bytes);
    head.accumulated_bytes += static_cast<int32_t>(grant);
    available_memory_bytes_ -= grant;
    if (head.accumulated_bytes < head.size_bytes) break;
    const BlockedSend served = head;
    waiters_.pop_front();
    ++quiet_version_;
    BlockedSendOutcome outcome;
    outcome.record_id = served.request.record_id;
    outcome.send_time = served.send_time;
    if (closed_) {
      // BufferPool.close wakes the waiters with "Producer closed while allocating memory".
      available_memory_bytes_ += served.size_bytes;
      outcome.result.record_id = served.request.record_id;
      outcome.result.status = AppendStatus::closed;
    } else {
      outcome.result = append_internal(served.request, served.send_time, now, metadata, served.size_bytes);
      KS_ASSERT(outcome.result.status == AppendStatus::appended);
    }
    out.push_back(outcome);
  }
  KS_ASSERT_GE(available_memory_bytes_, 0);
}

std::vector<BlockedSendOutcome> RecordAccumulator::expire_blocked_sends(sim::SimTime now,
                                                                        const ProducerMetadata& metadata) {
  std::vector<BlockedSendOutcome> out;
  if (waiters_.empty()) return out;  // the common case: nothing blocked (and no deque to build)
  std::deque<BlockedSend> still_waiting;
  for (BlockedSend& waiter : waiters_) {
    if (waiter.deadline > now) {
      still_waiting.push_back(waiter);
      continue;
    }
    // BufferExhaustedException: give back what the waiter had collected.
    available_memory_bytes_ += waiter.accumulated_bytes;
    BlockedSendOutcome outcome;
    outcome.record_id = waiter.request.record_id;
    outcome.send_time = waiter.send_time;
    outcome.result.record_id = waiter.request.record_id;
    outcome.result.status = AppendStatus::buffer_exhausted;
    out.push_back(outcome);
  }
  if (!out.empty()) ++quiet_version_;
  waiters_ = std::move(still_waiting);
  if (!out.empty()) serve_waiters(now, metadata, out);
  return out;
}

std::optional<sim::SimTime> RecordAccumulator::next_blocked_send_deadline() const {
  std::optional<sim::SimTime> earliest;
  for (const BlockedSend& waiter : waiters_)
    if (!earliest || waiter.deadline < *earliest) earliest = waiter.deadline;
  return earliest;
}

void RecordAccumulator::end_flush() {
  KS_ASSERT_GT(flushes_in_progress_, 0);
  --flushes_in_progress_;
  ++quiet_version_;  // every head's outcome in ready() changes (see set_tail_appends_quiet)
}

void RecordAccumulator::update_node_latency_stats(int32_t node, sim::SimTime now, bool can_drain) {
  if (config_.partitioner_availability_timeout <= sim::Duration::zero()) return;
  auto [it, inserted] = node_stats_.try_emplace(node, NodeLatencyStats{now, now});
  if (can_drain) it->second.drain_time = now;
  it->second.ready_time = now;
}

int32_t RecordAccumulator::next_sequence(PartitionRef partition) const {
  if (partition.topic < 0 || partition.topic >= static_cast<int32_t>(topics_.size())) return 0;
  const TopicState& ts = topics_[static_cast<size_t>(partition.topic)];
  if (partition.partition < 0 || partition.partition >= static_cast<int32_t>(ts.next_sequence.size())) return 0;
  return ts.next_sequence[static_cast<size_t>(partition.partition)];
}

void RecordAccumulator::restart_sequences(ProducerIdAndEpoch id) {
  KS_ASSERT(id.valid());
  producer_id_and_epoch_ = id;
  for (size_t t = 0; t < topics_.size(); ++t)
    for (size_t p = 0; p < topics_[t].partitions.size(); ++p)
      restart_partition_sequences(PartitionRef{static_cast<int32_t>(t), static_cast<int32_t>(p)}, id);
}

void RecordAccumulator::restart_partition_sequences(PartitionRef partition, ProducerIdAndEpoch id) {
  KS_ASSERT(id.valid());
  KS_ASSERT_GE(partition.topic, 0);
  KS_ASSERT_LT(partition.topic, static_cast<int32_t>(topics_.size()));
  TopicState& ts = topics_[static_cast<size_t>(partition.topic)];
  KS_ASSERT_GE(partition.partition, 0);
  KS_ASSERT_LT(partition.partition, static_cast<int32_t>(ts.partitions.size()));
  int32_t sequence = 0;
  for (ProducerBatch* queued : ts.partitions[static_cast<size_t>(partition.partition)].batches) {
    // Sequenced batches sit before unsequenced ones (insertInSequenceOrder), so stopping keeps the order.
    if (!queued->has_sequence()) break;
    queued->producer_id = id.producer_id;
    queued->producer_epoch = id.epoch;
    queued->base_sequence = sequence;
    sequence = increment_sequence(sequence, queued->record_count());
  }
  ts.next_sequence[static_cast<size_t>(partition.partition)] = sequence;
}

void RecordAccumulator::set_compression(int32_t topic, CompressionCurve curve) {
  topic_state(topic).compression = std::move(curve);
}

float RecordAccumulator::compression_ratio_estimate(int32_t topic) const {
  if (topic < 0 || topic >= static_cast<int32_t>(topics_.size())) return 1.0f;
  return topics_[static_cast<size_t>(topic)].compression_ratio_estimate;
}

std::vector<BatchId> RecordAccumulator::incomplete_batches() const {
  std::vector<BatchId> ids;
  ids.reserve(incomplete_.size());
  for (const auto& [id, batch] : incomplete_) ids.push_back(id);
  return ids;
}

const ProducerBatch& RecordAccumulator::batch(BatchId id) const {
  const auto it = incomplete_.find(id);
  KS_ASSERT_MSG(it != incomplete_.end(), "unknown batch id");
  return it->second;
}

size_t RecordAccumulator::queued_batch_count(PartitionRef partition) const {
  const PartitionQueue* queue = find_queue(partition);
  return queue == nullptr ? 0 : queue->batches.size();
}

std::vector<BatchId> RecordAccumulator::queued_batches(PartitionRef partition) const {
  std::vector<BatchId> ids;
  if (const PartitionQueue* queue = find_queue(partition))
    for (const ProducerBatch* b : queue->batches) ids.push_back(b->id);
  return ids;
}

const BuiltInPartitioner* RecordAccumulator::partitioner_for_next_draw(int32_t topic, const ProducerMetadata& metadata) {
  if (topic < 0 || topic >= static_cast<int32_t>(topics_.size()) || !metadata.knows_topic(topic)) return nullptr;
  TopicState& ts = topics_[static_cast<size_t>(topic)];
  refresh_load_stats(ts, metadata.topic(topic));
  return &ts.partitioner;
}

const BuiltInPartitioner* RecordAccumulator::partitioner(int32_t topic) const {
  if (topic < 0 || topic >= static_cast<int32_t>(topics_.size())) return nullptr;
  return &topics_[static_cast<size_t>(topic)].partitioner;
}

}  // namespace kafkasim::kafka
