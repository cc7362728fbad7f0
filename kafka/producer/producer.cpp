#include "kafkasim/kafka/producer/producer.hpp"

#include "kafkasim/kafka/producer/partitioner.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

ProducerConfig apply_idempotence_default(ProducerConfig config, bool idempotence_set_explicitly) {
  // KafkaProducer / ProducerConfig.postProcessAndValidateIdempotenceConfigs (§1.1).
  if (!idempotence_set_explicitly && config.enable_idempotence &&
      (config.retries == 0 || config.acks != Acks::all || config.max_in_flight_requests_per_connection > 5))
    config.enable_idempotence = false;
  return config;
}

Producer::Producer(const ProducerConfig& config, NodeId client_id, sim::Rng rng)
    : config_(config), rng_(rng), accumulator_(config_, rng_), sender_(config_, client_id, accumulator_, rng_) {
  KS_ASSERT_MSG(validate(config).empty(), validate(config));
}

SendResult Producer::send(sim::SimTime now, const ProducerRecord& record, ProducerOutbox& outbox) {
  KS_ASSERT_GE(record.topic, 0);
  KS_ASSERT(!record.partition || *record.partition >= 0);
  SendResult result;

  auto fail = [&](RecordOutcome outcome, Errc error) {
    RecordCompletion completion;
    completion.record_id = record.record_id;
    completion.send_time = now;
    completion.completion_time = now;
    completion.partition = {record.topic, result.partition};
    completion.outcome = outcome;
    completion.error = error;
    outbox.completions.push_back(completion);
    result.status = SendStatus::failed;
    return result;
  };

  if (!metadata_.knows_topic(record.topic) || metadata_.topic(record.topic).num_partitions() == 0)
    return fail(RecordOutcome::unknown_topic, Errc::unknown_topic_or_partition);
  const int32_t num_partitions = metadata_.topic(record.topic).num_partitions();
  if (record.partition && *record.partition >= num_partitions)
    return fail(RecordOutcome::unknown_topic, Errc::unknown_topic_or_partition);

  // KafkaProducer.partition(): explicit, else murmur2 of the key over all partitions, else sticky (§1.2 step 3).
  SendRequest request;
  request.topic = record.topic;
  request.partition = partition_for(record, num_partitions);
  request.shape = record.shape;
  request.record_id = record.record_id;

  const AppendResult append = accumulator_.append(request, now, metadata_);
  result.partition = append.partition;
  switch (append.status) {
    case AppendStatus::appended:
      // doSend step 6: wake the sender when a batch is full or a new batch was created, unless the poll would find
      // nothing new (RecordAccumulator::set_tail_appends_quiet): that wakeup is owed until resolve_skipped_wakeup.
      if (append.wakes_sender) {
        sender_.wakeup(now);
      } else if (append.batch_is_full || append.new_batch_created) {
        wakeup_owed_ = true;
      }
      result.status = SendStatus::appended;
      return result;
    case AppendStatus::blocked_on_memory:
      // An exhausted BufferPool makes every batch sendable: the sender must run to free memory.
      sender_.wakeup(now);
      result.status = SendStatus::blocked;
      return result;
    case AppendStatus::record_too_large:
      return fail(RecordOutcome::record_too_large, Errc::message_too_large);
    case AppendStatus::unknown_topic:
      return fail(RecordOutcome::unknown_topic, Errc::unknown_topic_or_partition);
    case AppendStatus::closed:
      return fail(RecordOutcome::producer_closed, Errc::unknown_server_error);
    case AppendStatus::buffer_exhausted:
      break;
  }
  KS_ASSERT_MSG(false, "append() never reports buffer_exhausted directly");
  return result;
}

void Producer::resolve_skipped_wakeup(sim::SimTime now) {
  if (!wakeup_owed_) return;
  wakeup_owed_ = false;
  // Something ready() depends on changed after the skipped wakeup, without a wakeup of its own (a sticky switch
  // closing another partition's last batch, say, when the record lands in a deque of one batch): Kafka's poll for
  // the skipped wakeup would see it.
  if (accumulator_.ready_inputs_changed()) sender_.wakeup(now);
}

void Producer::send_quiet(sim::SimTime now, const ProducerRecord& record) {
  SendRequest request;
  request.topic = record.topic;
  request.partition = partition_for(record, metadata_.topic(record.topic).num_partitions());
  request.shape = record.shape;
  request.record_id = record.record_id;
  accumulator_.append_quiet(request, now);
}

int32_t Producer::partition_for(const ProducerRecord& record, int32_t num_partitions) {
  if (record.partition || config_.partitioner_class == PartitionerClass::built_in)
    return choose_partition(config_, record.partition, record.key, num_partitions);
  const int32_t partition = round_robin_partition(record.topic, 0);
  const auto index = static_cast<size_t>(record.topic);
  if (round_robin_counters_.size() <= index) round_robin_counters_.resize(index + 1, 0);
  ++round_robin_counters_[index];
  return partition;
}

int32_t Producer::round_robin_partition(int32_t topic, int64_t ahead) const {
  KS_ASSERT(config_.partitioner_class == PartitionerClass::round_robin);
  KS_ASSERT_GE(ahead, 0);
  const TopicMetadata& t = metadata_.topic(topic);
  KS_ASSERT_GT(t.num_partitions(), 0);
  const auto index = static_cast<size_t>(topic);
  const int64_t sent = index < round_robin_counters_.size() ? round_robin_counters_[index] : 0;
  // AtomicInteger.getAndIncrement wraps at 2^31; Utils.toPositive clears the sign bit.
  const auto counter = static_cast<uint32_t>(static_cast<uint64_t>(sent + ahead));
  const int32_t value = static_cast<int32_t>(counter & 0x7fffffffU);
  int32_t available = 0;
  for (int32_t p = 0; p < t.num_partitions(); ++p) available += t.has_leader(p) ? 1 : 0;
  if (available == 0) return value % t.num_partitions();
  int32_t k = value % available;
  for (int32_t p = 0; p < t.num_partitions(); ++p) {
    if (!t.has_leader(p)) continue;
    if (k-- == 0) return p;
  }
  KS_ASSERT_MSG(false, "fewer available partitions than counted");
  return 0;
}

void Producer::begin_flush(sim::SimTime now) {
  accumulator_.begin_flush();
  sender_.wakeup(now);
}

void Producer::close(sim::SimTime now) {
  accumulator_.close();
  sender_.wakeup(now);
}

}  // namespace kafkasim::kafka
