// Idempotent producer in the Sender (reference/kafka-behaviour.md §1.6 step 4 and 9, §1.7). Sequences are
// worked out by hand: a partition's base sequences are the running sum of the record counts of its batches,
// assigned at the first drain and kept on retries; a retried batch goes out only as the partition's first
// in-flight batch. retry.backoff.ms == retry.backoff.max.ms = 100 ms makes the backoff exact (no jitter).
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/rng.hpp"
#include "producer_test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;

ProducerConfig idempotent_config() {
  ProducerConfig config;  // acks=all, enable.idempotence=true (the defaults)
  config.retry_backoff_max = config.retry_backoff;
  return config;
}

// One topic; by default two partitions, both led by node 1.
struct Harness {
  Producer producer;
  ProducerOutbox out;

  explicit Harness(std::vector<PartitionLeader> leaders = {{1, 0}, {1, 0}},
                   const ProducerConfig& config = idempotent_config())
      : producer(config, 100, sim::Rng::stream(3, "producer/0")) {
    ProducerMetadata metadata;
    metadata.topics.push_back(TopicMetadata{std::move(leaders)});
    producer.set_metadata(metadata);
  }
  void send(sim::Duration t, int32_t partition, uint64_t record_id) {
    REQUIRE(producer.send(at(t), test::record_for(partition, record_id), out).status == SendStatus::appended);
  }
  std::vector<ProduceRequest> poll_and_send(sim::Duration t) {
    std::vector<ProduceRequest> sent;
    for (const OutgoingProduceRequest& r : test::poll_and_send(producer, out, at(t))) sent.push_back(r.request);
    return sent;
  }
  // Per-partition errors and base offsets.
  void respond(sim::Duration t, const ProduceRequest& request, std::map<int32_t, std::pair<Errc, int64_t>> results) {
    ProduceResponse response;
    response.correlation_id = request.correlation_id;
    for (const ProducePartitionData& data : request.partitions) {
      const auto [error, offset] = results.at(data.partition.partition);
      response.partitions.push_back({data.partition, error, offset, 0, -1, -1});
    }
    producer.on_produce_response(response, at(t), out);
  }
  std::map<uint64_t, int64_t> acked_offsets() const {
    std::map<uint64_t, int64_t> offsets;
    for (const RecordCompletion& c : out.completions)
      if (c.outcome == RecordOutcome::acked) offsets[c.record_id] = c.offset;
    return offsets;
  }
};

const RecordBatch& batch_for(const ProduceRequest& request, int32_t partition) {
  for (const ProducePartitionData& data : request.partitions)
    if (data.partition.partition == partition) return data.batch;
  FAIL("partition not in request");
  return request.partitions.front().batch;
}

}  // namespace

TEST_CASE("nothing is drained before the producer id is known") {
  Harness h;
  h.send(0_ms, 0, 1);
  CHECK(h.poll_and_send(5_ms).empty());
  h.producer.set_producer_id_and_epoch({1000, 0});
  CHECK(h.producer.next_wakeup() <= at(5_ms));
  const auto sent = h.poll_and_send(5_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].acks == -1);
  CHECK(batch_for(sent[0], 0).producer_id == 1000);
  CHECK(batch_for(sent[0], 0).producer_epoch == 0);
  CHECK(batch_for(sent[0], 0).base_sequence == 0);
}

TEST_CASE("sequences increase per partition, survive retries, and order is kept with several requests in flight") {
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  // Request A: partition 0, records 1-3 (sequences 0..2).
  for (uint64_t id = 1; id <= 3; ++id) h.send(0_ms, 0, id);
  const auto a = h.poll_and_send(5_ms);
  REQUIRE(a.size() == 1);
  CHECK(batch_for(a[0], 0).base_sequence == 0);
  // Request B: partition 0, records 4-5 (sequences 3..4) and partition 1, record 6 (sequence 0).
  h.send(6_ms, 0, 4);
  h.send(6_ms, 0, 5);
  h.send(6_ms, 1, 6);
  const auto b = h.poll_and_send(11_ms);
  REQUIRE(b.size() == 1);
  CHECK(batch_for(b[0], 0).base_sequence == 3);
  CHECK(batch_for(b[0], 1).base_sequence == 0);
  CHECK(h.producer.sender().in_flight_request_count() == 2);

  // A fails with a retriable error; B's partition-0 batch is then out of order at the broker (retried, since it
  // is not the next expected sequence), and its partition-1 batch succeeds.
  h.respond(20_ms, a[0], {{0, {Errc::not_enough_replicas, -1}}});
  h.respond(21_ms, b[0], {{0, {Errc::out_of_order_sequence_number, -1}}, {1, {Errc::none, 0}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{6, 0}});
  CHECK(h.producer.metrics().batch_retries == 2);

  // The retry of A goes alone at 20 + 100 ms, with its original sequence.
  CHECK(h.poll_and_send(120_ms - 1_ns).empty());
  const auto c = h.poll_and_send(120_ms);
  REQUIRE(c.size() == 1);
  REQUIRE(c[0].partitions.size() == 1);
  CHECK(batch_for(c[0], 0).base_sequence == 0);
  CHECK(batch_for(c[0], 0).record_count == 3);
  // B's retry is due at 121 ms but waits: it is not the partition's first in-flight batch.
  CHECK(h.poll_and_send(121_ms).empty());
  CHECK(h.poll_and_send(200_ms).empty());
  h.respond(201_ms, c[0], {{0, {Errc::none, 0}}});
  CHECK(h.producer.sender().last_acked_sequence({0, 0}) == 2);
  const auto d = h.poll_and_send(201_ms);
  REQUIRE(d.size() == 1);
  CHECK(batch_for(d[0], 0).base_sequence == 3);
  CHECK(batch_for(d[0], 0).record_count == 2);
  h.respond(202_ms, d[0], {{0, {Errc::none, 3}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{1, 0}, {2, 1}, {3, 2}, {4, 3}, {5, 4}, {6, 0}});
  CHECK(h.producer.sender().last_acked_sequence({0, 0}) == 4);
  CHECK(h.producer.accumulator().next_sequence({0, 0}) == 5);
  CHECK(h.producer.accumulator().next_sequence({0, 1}) == 1);
}

TEST_CASE("DUPLICATE_SEQUENCE_NUMBER completes the batch as a success without an offset") {
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  const auto a = h.poll_and_send(5_ms);
  h.respond(8_ms, a[0], {{0, {Errc::duplicate_sequence_number, -1}}});
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::acked);
  CHECK(h.out.completions[0].offset == -1);
}

TEST_CASE("a fatal error of a sequenced batch bumps the epoch and restarts sequences at 0 (KIP-360)") {
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  h.send(0_ms, 0, 2);
  const auto a = h.poll_and_send(5_ms);
  CHECK(batch_for(a[0], 0).base_sequence == 0);
  h.respond(8_ms, a[0], {{0, {Errc::invalid_record, -1}}});
  REQUIRE(h.out.completions.size() == 2);
  CHECK(h.out.completions[0].outcome == RecordOutcome::broker_error);
  h.send(10_ms, 0, 3);
  const auto b = h.poll_and_send(15_ms);
  REQUIRE(b.size() == 1);
  // Without the bump it would carry sequence 2, leaving a gap the broker rejects.
  CHECK(batch_for(b[0], 0).producer_epoch == 1);
  CHECK(batch_for(b[0], 0).base_sequence == 0);
  CHECK(h.producer.metrics().epoch_bumps == 1);
}

TEST_CASE("UNKNOWN_PRODUCER_ID retries the batch under a bumped epoch with its sequence restarted") {
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  const auto a = h.poll_and_send(5_ms);
  h.respond(6_ms, a[0], {{0, {Errc::none, 0}}});
  h.send(10_ms, 0, 2);
  h.send(10_ms, 0, 3);
  const auto b = h.poll_and_send(15_ms);
  CHECK(batch_for(b[0], 0).base_sequence == 1);
  // The broker lost the producer's state (log start offset known): retry with an epoch bump (§1.7).
  h.respond(20_ms, b[0], {{0, {Errc::unknown_producer_id, -1}}});
  const auto c = h.poll_and_send(120_ms);
  REQUIRE(c.size() == 1);
  CHECK(batch_for(c[0], 0).producer_epoch == 1);
  CHECK(batch_for(c[0], 0).base_sequence == 0);
  CHECK(batch_for(c[0], 0).record_count == 2);
  h.respond(121_ms, c[0], {{0, {Errc::none, 1}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{1, 0}, {2, 1}, {3, 2}});
  CHECK(h.producer.accumulator().next_sequence({0, 0}) == 2);
}

TEST_CASE("a split batch passes its sequences on, and its parts go out one at a time in sequence order") {
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  // 20 records of 109 bytes: one 2241-byte batch, sequences 0..19.
  for (uint64_t id = 1; id <= 20; ++id) h.send(0_ms, 0, id);
  const auto a = h.poll_and_send(5_ms);
  REQUIRE(a.size() == 1);
  CHECK(batch_for(a[0], 0).base_sequence == 0);
  h.respond(6_ms, a[0], {{0, {Errc::message_too_large, -1}}});
  // First split: batch.size (16384) holds all 20 records; same sequence, sent at once (no backoff).
  const auto b = h.poll_and_send(6_ms);
  REQUIRE(b.size() == 1);
  CHECK(batch_for(b[0], 0).base_sequence == 0);
  CHECK(batch_for(b[0], 0).record_count == 20);
  h.respond(7_ms, b[0], {{0, {Errc::message_too_large, -1}}});
  // Second split, of a split batch: max(184, 2241 / 2 = 1120) bytes, so 61 + 109 n <= 1120 gives 9, 9 and 2
  // records with sequences 0, 9 and 18. A record sent now gets a batch of its own behind them.
  h.send(7_ms, 0, 21);
  const auto c = h.poll_and_send(7_ms);
  REQUIRE(c.size() == 1);
  CHECK(batch_for(c[0], 0).base_sequence == 0);
  CHECK(batch_for(c[0], 0).record_count == 9);
  // The next part waits until the first completes, though max.in.flight.requests.per.connection is 5.
  CHECK(h.poll_and_send(7_ms).empty());
  h.respond(8_ms, c[0], {{0, {Errc::none, 0}}});
  const auto d = h.poll_and_send(8_ms);
  REQUIRE(d.size() == 1);
  CHECK(batch_for(d[0], 0).base_sequence == 9);
  CHECK(batch_for(d[0], 0).record_count == 9);
  h.respond(9_ms, d[0], {{0, {Errc::none, 9}}});
  const auto e = h.poll_and_send(9_ms);
  REQUIRE(e.size() == 1);
  CHECK(batch_for(e[0], 0).base_sequence == 18);
  CHECK(batch_for(e[0], 0).record_count == 2);
  h.respond(10_ms, e[0], {{0, {Errc::none, 18}}});
  // Record 21's batch lingers until 7 + 5 ms and takes the sequence after the split records'.
  CHECK(h.poll_and_send(12_ms - 1_ns).empty());
  const auto f = h.poll_and_send(12_ms);
  REQUIRE(f.size() == 1);
  CHECK(batch_for(f[0], 0).base_sequence == 20);
  h.respond(13_ms, f[0], {{0, {Errc::none, 20}}});
  std::map<uint64_t, int64_t> expected;
  for (uint64_t id = 1; id <= 21; ++id) expected[id] = static_cast<int64_t>(id) - 1;
  CHECK(h.acked_offsets() == expected);
  CHECK(h.producer.sender().last_acked_sequence({0, 0}) == 20);
  CHECK(h.producer.metrics().batch_splits == 2);
  CHECK(h.producer.metrics().epoch_bumps == 0);
}

TEST_CASE("an epoch bump restarts only the partition that required it; another partition's retry keeps its sequence") {
  // bumpIdempotentProducerEpoch rewrites the in-flight sequences of partitionsToRewriteSequences only (§1.7). A
  // retry of another partition may already be in the log (its response lost to a request timeout): it must reach
  // the broker with its epoch and sequence, which the broker finds among the producer's last five batches. Given a
  // new epoch and sequence 0 it would be appended a second time. That partition's new batches wait for it, then
  // start at sequence 0 under the new epoch (maybeUpdateProducerIdAndEpoch).
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  h.send(0_ms, 1, 2);
  const auto a = h.poll_and_send(5_ms);
  REQUIRE(a.size() == 1);
  CHECK(batch_for(a[0], 0).base_sequence == 0);
  CHECK(batch_for(a[0], 1).base_sequence == 0);
  // Partition 0 fails for good with retries left (its sequence leaves a gap: epoch bump for partition 0);
  // partition 1 is retried after retry.backoff.ms (100 ms).
  h.respond(8_ms, a[0], {{0, {Errc::invalid_record, -1}}, {1, {Errc::not_enough_replicas, -1}}});
  h.send(10_ms, 0, 3);
  h.send(10_ms, 1, 4);
  const auto b = h.poll_and_send(108_ms);
  REQUIRE(b.size() == 1);
  CHECK(h.producer.metrics().epoch_bumps == 1);
  REQUIRE(b[0].partitions.size() == 2);
  CHECK(batch_for(b[0], 0).producer_epoch == 1);  // partition 0 restarted under the new epoch
  CHECK(batch_for(b[0], 0).base_sequence == 0);
  CHECK(batch_for(b[0], 1).record_count == 1);  // the retry of record 2, not record 4
  CHECK(batch_for(b[0], 1).producer_epoch == 0);  // unchanged: the broker can de-duplicate it
  CHECK(batch_for(b[0], 1).base_sequence == 0);
  // Record 4 waited for the retry; once it is acknowledged, partition 1 takes the new epoch from sequence 0.
  CHECK(h.poll_and_send(109_ms).empty());
  h.respond(110_ms, b[0], {{0, {Errc::none, 0}}, {1, {Errc::none, 0}}});
  const auto c = h.poll_and_send(111_ms);
  REQUIRE(c.size() == 1);
  REQUIRE(c[0].partitions.size() == 1);
  CHECK(batch_for(c[0], 1).producer_epoch == 1);
  CHECK(batch_for(c[0], 1).base_sequence == 0);
  h.respond(112_ms, c[0], {{1, {Errc::none, 1}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{2, 0}, {3, 0}, {4, 1}});
  CHECK(h.producer.metrics().epoch_bumps == 1);
}

TEST_CASE("a retry out of turn stops the drain of its whole node, not only of its partition") {
  // RecordAccumulator.drainBatchesForOneNode breaks out of its loop when shouldStopDrainBatchesForPartition is true,
  // and keeps the node's drainIndex at that partition: the partitions after it wait for the next drain too. Both
  // partitions are led by node 1; the drain index starts at 0 and is left at the last partition visited.
  Harness h;
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 1, 1);
  const auto a = h.poll_and_send(5_ms);  // visits 0, 1: the index stays at 1
  REQUIRE(a.size() == 1);
  CHECK(batch_for(a[0], 1).base_sequence == 0);
  h.send(6_ms, 1, 2);
  const auto b = h.poll_and_send(11_ms);  // visits 1, 0: the index stays at 0
  REQUIRE(b.size() == 1);
  CHECK(batch_for(b[0], 1).base_sequence == 1);
  // Both fail and go back in sequence order, retried after retry.backoff.ms: A at 112 ms, B at 113 ms.
  h.respond(12_ms, a[0], {{1, {Errc::not_enough_replicas, -1}}});
  h.respond(13_ms, b[0], {{1, {Errc::out_of_order_sequence_number, -1}}});
  const auto c = h.poll_and_send(112_ms);  // visits 0 (empty), 1 (A): the index stays at 1
  REQUIRE(c.size() == 1);
  REQUIRE(c[0].partitions.size() == 1);
  CHECK(batch_for(c[0], 1).base_sequence == 0);
  // A new batch for partition 0, sendable at 117 ms (linger.ms = 5). The drain starts at partition 1, whose head is
  // B (sequence 1) while A (sequence 0) is in flight: it stops there, and partition 0 is not reached.
  h.send(112_ms, 0, 3);
  CHECK(h.poll_and_send(117_ms).empty());
  // Once A is acknowledged, B is the first in flight: one request carries B, then partition 0's batch.
  h.respond(118_ms, c[0], {{1, {Errc::none, 0}}});
  const auto d = h.poll_and_send(118_ms);
  REQUIRE(d.size() == 1);
  REQUIRE(d[0].partitions.size() == 2);
  CHECK(d[0].partitions[0].partition.partition == 1);
  CHECK(d[0].partitions[0].batch.base_sequence == 1);
  CHECK(d[0].partitions[1].partition.partition == 0);
  CHECK(d[0].partitions[1].batch.base_sequence == 0);
  h.respond(119_ms, d[0], {{1, {Errc::none, 1}}, {0, {Errc::none, 0}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{1, 0}, {2, 1}, {3, 0}});
}

TEST_CASE("after an epoch bump, a partition takes the new epoch only when drain reaches it") {
  // TransactionManager.maybeUpdateProducerIdAndEpoch runs inside drainBatchesForOneNode, for the partition whose
  // new batch is being drained: a partition the bump did not rewrite keeps its old producer state (last acked
  // sequence, next sequence) until then, even while it has a batch queued for a node that is not drained.
  Harness h({{1, 0}, {2, 0}});  // partition 0 on node 1, partition 1 on node 2
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  h.send(0_ms, 1, 2);
  const auto a = h.poll_and_send(5_ms);
  REQUIRE(a.size() == 2);
  const ProduceRequest& to_node_1 = a[0].partitions[0].partition.partition == 0 ? a[0] : a[1];
  const ProduceRequest& to_node_2 = a[0].partitions[0].partition.partition == 0 ? a[1] : a[0];
  h.respond(6_ms, to_node_2, {{1, {Errc::none, 0}}});
  CHECK(h.producer.sender().last_acked_sequence({0, 1}) == 0);
  // Partition 0 fails for good with retries left: an epoch bump for partition 0 (§1.7).
  h.respond(6_ms, to_node_1, {{0, {Errc::invalid_record, -1}}});
  h.send(10_ms, 0, 3);  // sendable at 15 ms
  h.send(12_ms, 1, 4);  // sendable at 17 ms
  const auto b = h.poll_and_send(15_ms);
  CHECK(h.producer.metrics().epoch_bumps == 1);
  REQUIRE(b.size() == 1);
  REQUIRE(b[0].partitions.size() == 1);
  CHECK(batch_for(b[0], 0).producer_epoch == 1);
  CHECK(batch_for(b[0], 0).base_sequence == 0);
  // Node 2 was not drained: partition 1 still holds epoch 0's state.
  CHECK(h.producer.sender().last_acked_sequence({0, 1}) == 0);
  CHECK(h.producer.accumulator().next_sequence({0, 1}) == 1);
  const auto c = h.poll_and_send(17_ms);
  REQUIRE(c.size() == 1);
  CHECK(batch_for(c[0], 1).producer_epoch == 1);
  CHECK(batch_for(c[0], 1).base_sequence == 0);
  CHECK(h.producer.sender().last_acked_sequence({0, 1}) == -1);
  CHECK(h.producer.accumulator().next_sequence({0, 1}) == 1);
  h.respond(18_ms, b[0], {{0, {Errc::none, 0}}});
  h.respond(18_ms, c[0], {{1, {Errc::none, 1}}});
  CHECK(h.acked_offsets() == std::map<uint64_t, int64_t>{{2, 0}, {3, 0}, {4, 1}});
}

TEST_CASE("a partition first drained after an epoch bump keeps counting its sequences under the new epoch") {
  // Partition 1 gets its first batch only after partition 0's failure bumped the epoch. Its state then starts under
  // the new epoch (Kafka's TxnPartitionEntry starts with no epoch, and maybeUpdateProducerIdAndEpoch gives it the
  // current one at its first drain): its second batch carries sequence 1, not 0 again. A second sequence 0 under
  // the same epoch is a duplicate to the broker, which answers with the first batch's offsets and appends nothing,
  // so the second batch's records were acknowledged and lost (found by the durability check, fuzz seed 10677).
  Harness h;  // both partitions on node 1
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  const auto a = h.poll_and_send(5_ms);
  REQUIRE(a.size() == 1);
  h.respond(6_ms, a[0], {{0, {Errc::invalid_record, -1}}});  // a failure with retries left: bump (§1.7)
  h.send(10_ms, 1, 2);
  const auto b = h.poll_and_send(15_ms);
  REQUIRE(b.size() == 1);
  CHECK(h.producer.metrics().epoch_bumps == 1);
  CHECK(batch_for(b[0], 1).producer_epoch == 1);
  CHECK(batch_for(b[0], 1).base_sequence == 0);
  h.respond(16_ms, b[0], {{1, {Errc::none, 0}}});
  h.send(20_ms, 1, 3);
  const auto c = h.poll_and_send(25_ms);
  REQUIRE(c.size() == 1);
  CHECK(batch_for(c[0], 1).producer_epoch == 1);
  CHECK(batch_for(c[0], 1).base_sequence == 1);
  CHECK(h.producer.metrics().epoch_bumps == 1);
}

TEST_CASE("unresolved sequences hold back new batches only: the first in-flight retry still goes out") {
  // shouldStopDrainBatchesForPartition checks hasUnresolvedSequence only for a batch without a sequence; a retry
  // is drained when its base sequence is the partition's first in flight. delivery.timeout.ms = 200 ms and
  // request.timeout.ms = 150 ms let a retry in flight expire (markSequenceUnresolved) before its request times out.
  ProducerConfig config = idempotent_config();
  config.request_timeout = 150_ms;
  config.delivery_timeout = 200_ms;
  Harness h({{1, 0}, {1, 0}}, config);
  h.producer.set_producer_id_and_epoch({1000, 0});
  h.send(0_ms, 0, 1);
  const auto a = h.poll_and_send(5_ms);  // A: sequence 0, created at 0 ms
  h.send(6_ms, 0, 2);
  const auto b = h.poll_and_send(11_ms);  // B: sequence 1, created at 6 ms
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  h.respond(12_ms, a[0], {{0, {Errc::not_enough_replicas, -1}}});
  h.respond(13_ms, b[0], {{0, {Errc::out_of_order_sequence_number, -1}}});
  const auto c = h.poll_and_send(112_ms);  // A's retry
  REQUIRE(c.size() == 1);
  CHECK(batch_for(c[0], 0).base_sequence == 0);
  CHECK(h.poll_and_send(113_ms).empty());  // B waits for A
  // At 200 ms A (in flight, in retry) expires: partition 0 is unresolved, and B becomes its first in-flight
  // sequence. Kafka expires after draining in the same runOnce, so B goes out in this poll or the next one at once.
  auto d = h.poll_and_send(200_ms);
  const auto d2 = h.poll_and_send(200_ms);
  d.insert(d.end(), d2.begin(), d2.end());
  REQUIRE(d.size() == 1);
  REQUIRE(d[0].partitions.size() == 1);
  CHECK(batch_for(d[0], 0).base_sequence == 1);
  CHECK(batch_for(d[0], 0).record_count == 1);
  CHECK(h.producer.metrics().batches_expired == 1);
}

TEST_CASE("a batch that expires in flight on its first attempt leaves its partition resolved") {
  // Sender.sendProducerData fails every expired batch, but calls markSequenceUnresolved only for one in retry
  // (expiredBatch.inRetry()); failBatch(..., adjustSequenceNumbers = false) then only removes it from the in-flight
  // list. So the next batch of the partition is drained at once with the next sequence, under the same epoch.
  // A waits 100 ms for the producer id, so delivery.timeout.ms (200 ms from its creation) ends while its first
  // request is in flight and before request.timeout.ms (150 ms from the send) would make it a retry.
  ProducerConfig config = idempotent_config();
  config.request_timeout = 150_ms;
  config.delivery_timeout = 200_ms;
  Harness h({{1, 0}, {1, 0}}, config);
  h.send(0_ms, 0, 1);
  h.producer.set_producer_id_and_epoch({1000, 0});
  const auto a = h.poll_and_send(100_ms);  // A: sequence 0, never answered
  REQUIRE(a.size() == 1);
  CHECK(batch_for(a[0], 0).base_sequence == 0);
  h.send(201_ms, 0, 2);  // A expired at 200 ms, in flight, on its first attempt
  CHECK(h.poll_and_send(201_ms).empty());  // B lingers (linger.ms = 5)
  auto b = h.poll_and_send(206_ms);
  const auto b2 = h.poll_and_send(206_ms);
  b.insert(b.end(), b2.begin(), b2.end());
  CHECK(h.producer.metrics().batches_expired == 1);
  REQUIRE(b.size() == 1);
  CHECK(batch_for(b[0], 0).base_sequence == 1);
  CHECK(batch_for(b[0], 0).producer_epoch == 0);
  CHECK(h.producer.metrics().epoch_bumps == 0);
}
