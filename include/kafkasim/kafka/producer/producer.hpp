// KafkaProducer as a sans-I/O facade (clients/.../producer/KafkaProducer.java; reference/kafka-behaviour.md
// §1.1, §1.2): it owns the RecordAccumulator (with the built-in partitioner) and the Sender, holds the
// producer's view of the metadata, and forwards the cluster layer's events. Every outcome of a record reaches
// the outbox as a RecordCompletion (acked with its offset, or failed with why), so the cluster layer can
// compute produce latency and check durability.
//
// What send() does not model: the metadata wait of waitOnMetadata (a topic missing from the metadata fails at
// once with RecordOutcome::unknown_topic; the cluster layer supplies the metadata before producing), custom
// partitioners, interceptors, serializers and transactions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "kafkasim/kafka/producer/accumulator.hpp"
#include "kafkasim/kafka/producer/producer_config.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/kafka/producer/sender.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// ProducerConfig's rule for an idempotence default the user did not set (§1.1): with retries = 0, acks != all
// or max.in.flight > 5 it is silently switched off. An explicit enable.idempotence=true is kept (and then
// fails validate(), as Kafka throws a ConfigException).
ProducerConfig apply_idempotence_default(ProducerConfig config, bool idempotence_set_explicitly);

// A ProducerRecord, accounted: sizes, plus the serialized key bytes when the key decides the partition.
struct ProducerRecord {
  int32_t topic = 0;
  std::optional<int32_t> partition;             // an explicit partition wins over the key
  std::optional<std::span<const uint8_t>> key;  // hashed with murmur2 (§1.3); shape.key_bytes gives its size
  RecordShape shape;
  uint64_t record_id = 0;
};

enum class SendStatus : uint8_t {
  appended,  // in a batch; its completion comes later
  blocked,   // waiting for buffer.memory (max.block.ms); an UnblockedSend tells when send() returns
  failed,    // send() failed at once; the completion is already in the outbox
};

struct SendResult {
  SendStatus status = SendStatus::appended;
  int32_t partition = unknown_partition;
};

class Producer {
 public:
  // `config` must pass validate() (use apply_idempotence_default first); `rng` drives the sticky partitioner
  // and the retry-backoff jitter; `client_id` is this producer's node id in requests.
  Producer(const ProducerConfig& config, NodeId client_id, sim::Rng rng);
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The cluster layer's metadata (leaders of each partition): on start and after each refresh.
  void set_metadata(ProducerMetadata metadata) {
    metadata_ = std::move(metadata);
    accumulator_.note_metadata_changed();
  }
  const ProducerMetadata& metadata() const { return metadata_; }
  // See RecordAccumulator::set_tail_appends_quiet (on by default). A send whose wakeup was skipped leaves it owed:
  // the cluster layer calls resolve_skipped_wakeup(now) wherever it would run the sender's poll after sends (before
  // it looks at next_wakeup()), at the same instant, which wakes the sender if what ready() looks at changed since.
  void set_tail_appends_quiet(bool quiet) { accumulator_.set_tail_appends_quiet(quiet); }
  void resolve_skipped_wakeup(sim::SimTime now);
  // InitProducerId's answer (§1.7): the cluster layer sends the request when the outbox asks for an id.
  void set_producer_id_and_epoch(ProducerIdAndEpoch id) { sender_.set_producer_id_and_epoch(id); }
  // What compression.type makes of the topic's data, by batch size (a model input).
  void set_compression(int32_t topic, CompressionCurve curve) { accumulator_.set_compression(topic, std::move(curve)); }

  // KafkaProducer.send (doSend).
  SendResult send(sim::SimTime now, const ProducerRecord& record, ProducerOutbox& outbox);
  // send() of a record that a still-valid quiet_cursor() accepted (in order, at the time it was judged for): the
  // same effect, without the checks the cursor made; it never completes, fails, blocks or wakes the sender.
  void send_quiet(sim::SimTime now, const ProducerRecord& record);
  // flush(): every batch becomes sendable until end_flush.
  void begin_flush(sim::SimTime now);
  void end_flush() { accumulator_.end_flush(); }
  // close(): later sends fail; queued batches are sent at once.
  void close(sim::SimTime now);

  void poll(sim::SimTime now, ProducerOutbox& outbox) { sender_.poll(now, metadata_, outbox); }
  void on_request_sent(uint64_t correlation_id, sim::SimTime now, ProducerOutbox& outbox) {
    sender_.on_request_sent(correlation_id, now, metadata_, outbox);
  }
  void on_produce_response(const ProduceResponse& response, sim::SimTime now, ProducerOutbox& outbox) {
    sender_.on_produce_response(response, now, metadata_, outbox);
  }
  void on_disconnect(NodeId node, sim::SimTime now, ProducerOutbox& outbox) {
    sender_.on_disconnect(node, now, metadata_, outbox);
  }
  sim::SimTime next_wakeup() const { return sender_.next_wakeup(); }
  // RoundRobinPartitioner.partition for the record `ahead` sends after the next one to `topic` (partitioner.class
  // = RoundRobinPartitioner): the topic's counter, as an int, made positive, over the partitions with a leader
  // in partition order (over all partitions when none has one). Each send() to the topic without an explicit
  // partition advances the counter by one: KafkaProducer calls partition() again after onNewBatch when a record
  // opens a new batch, and RoundRobinPartitioner then answers the same partition (RoundRobinPartitionerTest: "New
  // batch creation should not affect the partition selection").
  int32_t round_robin_partition(int32_t topic, int64_t ahead = 0) const;
  // Which later sends would be quiet (see QuietAppendCursor); valid until the producer is next touched.
  QuietAppendCursor quiet_cursor() const { return accumulator_.quiet_cursor(metadata_); }

  const ProducerConfig& config() const { return config_; }
  const RecordAccumulator& accumulator() const { return accumulator_; }
  const Sender& sender() const { return sender_; }
  const SenderMetrics& metrics() const { return sender_.metrics(); }
  void set_latency_metrics_from(sim::SimTime from) { sender_.set_latency_metrics_from(from); }
  // See Sender::set_timestamp_offset.
  void set_timestamp_offset(sim::Duration offset) { sender_.set_timestamp_offset(offset); }
  void start_correlation_ids_at(uint64_t first) { sender_.start_correlation_ids_at(first); }

 private:
  ProducerConfig config_;
  sim::Rng rng_;  // before accumulator_, which keeps a reference to it
  ProducerMetadata metadata_;
  RecordAccumulator accumulator_;
  Sender sender_;
  std::vector<int64_t> round_robin_counters_;  // per topic: sends RoundRobinPartitioner has partitioned
  bool wakeup_owed_ = false;                   // a send skipped Kafka's wakeup (resolve_skipped_wakeup)

  // KafkaProducer.partition(): the explicit partition, else the configured partitioner's (advancing its counter),
  // else murmur2 of the key, else unknown_partition for the sticky partitioner (§1.2 step 3).
  int32_t partition_for(const ProducerRecord& record, int32_t num_partitions);
};

}  // namespace kafkasim::kafka
