// Sender and KafkaProducer facade (reference/kafka-behaviour.md §1.1, §1.2, §1.5-§1.7, §1.9), driven directly:
// the test plays the cluster layer (it delivers "request sent" and responses by hand).
//
// Expected numbers are derived by hand from the configs and the v2 record format:
//  - a record with no key and a 100-byte value, at offset delta < 64 and timestamp delta 0, is 109 bytes
//    (attributes 1 + timestamp delta 1 + offset delta 1 + null key 1 + varint(100) 2 + 100 + header count 1
//    = 107, plus varint(107) = 2), so a batch of n such records is 61 + 109 n bytes;
//  - with retry.backoff.ms == retry.backoff.max.ms the backoff is exactly retry.backoff.ms, without jitter
//    (ExponentialBackoff: "max <= initial returns initial"); otherwise the first retry waits 100 ms +-20%;
//  - linger.ms = 5 (KIP-1030), request.timeout.ms = 30000, delivery.timeout.ms = 120000 counted from batch
//    creation, reconnect.backoff.ms = 50, max.block.ms = 60000.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/rng.hpp"
#include "producer_test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::plain_config;

constexpr NodeId leader = 1;
constexpr int32_t one_record_batch_bytes = 61 + 109;

ProducerMetadata one_topic(int32_t partitions, NodeId node = leader) {
  ProducerMetadata metadata;
  TopicMetadata topic;
  for (int32_t p = 0; p < partitions; ++p) topic.partitions.push_back({node, 0});
  metadata.topics.push_back(topic);
  return metadata;
}

struct Harness {
  Producer producer;
  ProducerOutbox out;

  explicit Harness(const ProducerConfig& config, int32_t partitions = 4)
      : producer(config, /*client_id=*/100, sim::Rng::stream(7, "producer/0")) {
    producer.set_metadata(one_topic(partitions));
  }

  SendResult send(sim::Duration t, int32_t partition, uint64_t record_id) {
    return producer.send(at(t), test::record_for(partition, record_id), out);
  }
  // Polls and reports every request as fully written at the same instant.
  std::vector<OutgoingProduceRequest> poll_and_send(sim::Duration t) {
    return test::poll_and_send(producer, out, at(t));
  }
  void respond(sim::Duration t, const ProduceRequest& request, Errc error, int64_t base_offset = 0) {
    producer.on_produce_response(test::response_to(request, error, base_offset), at(t), out);
  }
};

}  // namespace

TEST_CASE("idempotence default: switched off silently for acks=1 unless set explicitly") {
  ProducerConfig config;
  config.acks = Acks::leader;
  CHECK_FALSE(apply_idempotence_default(config, false).enable_idempotence);
  CHECK(apply_idempotence_default(config, true).enable_idempotence);
  CHECK_FALSE(validate(apply_idempotence_default(config, true)).empty());  // ConfigException in Kafka
  CHECK(apply_idempotence_default(ProducerConfig{}, false).enable_idempotence);  // acks=all keeps it
}

TEST_CASE("a batch is sent exactly when linger.ms expires") {
  Harness h(plain_config());
  CHECK(h.send(0_ms, 2, 1).status == SendStatus::appended);
  CHECK(h.producer.next_wakeup() == at(0_ms));  // a new batch wakes the sender
  h.producer.poll(at(0_ms), h.out);
  CHECK(h.out.requests.empty());
  CHECK(h.producer.next_wakeup() == at(5_ms));
  h.producer.poll(at(5_ms - 1_ns), h.out);
  CHECK(h.out.requests.empty());
  h.producer.poll(at(5_ms), h.out);
  REQUIRE(h.out.requests.size() == 1);
  const OutgoingProduceRequest& r = h.out.requests[0];
  CHECK(r.destination == leader);
  CHECK(r.request.acks == 1);
  CHECK(r.request.timeout == 30_s);
  CHECK(r.request.client_id == 100);
  REQUIRE(r.request.partitions.size() == 1);
  CHECK(r.request.partitions[0].partition == PartitionRef{0, 2});
  CHECK(r.request.partitions[0].batch.record_count == 1);
  CHECK(r.request.partitions[0].batch.size_bytes == one_record_batch_bytes);
  CHECK(r.request.partitions[0].batch.producer_id == -1);  // not idempotent
}

TEST_CASE("a batch carries its first record's and its newest timestamp in whole ms, shifted by a timestamp offset") {
  // CreateTime (§1.2 step 4): a record's timestamp is its send() time in ms; the batch header's base timestamp is the
  // first record's, its max timestamp the newest. Records at 1000.4, 1002.1 and 1004.9 ms have timestamps 1000, 1002
  // and 1004 ms (deltas 0, 2, 4: one varint byte each, so 109 bytes a record as at delta 0). The linger ends 5 ms after
  // the first append. With the application's timestamps 8 days older the batch is the same but for its timestamps.
  const auto sent_batch = [](sim::Duration offset) {
    Harness h(plain_config());
    h.producer.set_timestamp_offset(offset);
    h.send(1'000'400_us, 0, 1);
    h.send(1'002'100_us, 0, 2);
    h.send(1'004'900_us, 0, 3);
    CHECK(h.poll_and_send(1'005'399_us).empty());
    const auto sent = h.poll_and_send(1'005'400_us);
    REQUIRE(sent.size() == 1);
    REQUIRE(sent[0].request.partitions.size() == 1);
    return sent[0].request.partitions[0].batch;
  };
  const RecordBatch now = sent_batch(0_ms);
  CHECK(now.base_timestamp == at(1'000_ms));
  CHECK(now.max_timestamp == at(1'004_ms));
  CHECK(now.size_bytes == 61 + 3 * 109);
  const sim::Duration eight_days = 8 * 24 * 3'600_s;
  const RecordBatch old = sent_batch(-eight_days);
  CHECK(old.base_timestamp == at(1'000_ms) - eight_days);
  CHECK(old.max_timestamp == at(1'004_ms) - eight_days);
  CHECK(old.size_bytes == now.size_bytes);
  CHECK(old.record_count == 3);
}

TEST_CASE("one ProduceRequest per node carries every ready partition; metrics count records and batch sizes") {
  Harness h(plain_config());
  for (uint64_t id = 1; id <= 3; ++id) h.send(0_ms, 0, id);
  for (uint64_t id = 4; id <= 5; ++id) h.send(0_ms, 1, id);
  const auto sent = h.poll_and_send(5_ms);
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].request.partitions.size() == 2);
  const SenderMetrics& m = h.producer.metrics();
  CHECK(m.produce_requests == 1);
  CHECK(m.batches_sent == 2);
  CHECK(m.records_sent == 5);
  CHECK(m.bytes_sent == static_cast<uint64_t>((61 + 3 * 109) + (61 + 2 * 109)));
  CHECK(m.records_per_request.max() == 5);
  CHECK(m.batch_size_bytes.min() == 61 + 2 * 109);
  CHECK(m.batch_size_bytes.max() == 61 + 3 * 109);
  // Offsets follow the base offset in record order.
  h.respond(6_ms, sent[0].request, Errc::none, 40);
  REQUIRE(h.out.completions.size() == 5);
  for (const RecordCompletion& c : h.out.completions) {
    CHECK(c.outcome == RecordOutcome::acked);
    const int64_t expected = c.record_id <= 3 ? 40 + static_cast<int64_t>(c.record_id) - 1
                                              : 40 + static_cast<int64_t>(c.record_id) - 4;
    CHECK(c.offset == expected);
    CHECK(c.completion_time - c.send_time == 6_ms);
  }
}

TEST_CASE("at most max.in.flight.requests.per.connection requests per node, and one being written at a time") {
  ProducerConfig config = plain_config();
  config.linger = 0_ms;
  Harness h(config);
  std::vector<ProduceRequest> in_flight;
  // A request not yet fully written blocks the next one (InFlightRequests.canSendMore).
  h.send(0_ms, 0, 1);
  h.producer.poll(at(0_ms), h.out);
  REQUIRE(h.out.requests.size() == 1);
  in_flight.push_back(h.out.requests[0].request);
  h.send(0_ms, 0, 2);
  h.producer.poll(at(0_ms), h.out);
  CHECK(h.out.requests.size() == 1);
  h.producer.on_request_sent(in_flight[0].correlation_id, at(0_ms), h.out);
  h.out.requests.clear();
  h.producer.poll(at(0_ms), h.out);
  REQUIRE(h.out.requests.size() == 1);
  in_flight.push_back(h.out.requests[0].request);
  h.producer.on_request_sent(in_flight.back().correlation_id, at(0_ms), h.out);
  // Fill up to 5 in flight, then a 6th batch must wait.
  for (uint64_t id = 3; id <= 6; ++id) {
    h.send(1_ms * static_cast<int64_t>(id), 0, id);
    const auto sent = h.poll_and_send(1_ms * static_cast<int64_t>(id));
    if (id <= 5) {
      REQUIRE(sent.size() == 1);
      in_flight.push_back(sent[0].request);
    } else {
      CHECK(sent.empty());
    }
  }
  CHECK(h.producer.sender().in_flight_request_count(leader) == 5);
  // A response frees a slot: the waiting batch goes out.
  h.respond(10_ms, in_flight[0], Errc::none, 0);
  CHECK(h.producer.next_wakeup() == at(10_ms));
  const auto sent = h.poll_and_send(10_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].request.partitions[0].batch.record_count == 1);
  CHECK(h.producer.sender().in_flight_request_count(leader) == 5);
}

TEST_CASE("acks=0 completes when the request is written, with no offset") {
  ProducerConfig config = plain_config();
  config.acks = Acks::none;
  Harness h(config);
  h.send(0_ms, 0, 1);
  h.producer.poll(at(5_ms), h.out);
  REQUIRE(h.out.requests.size() == 1);
  CHECK(h.out.requests[0].request.acks == 0);
  CHECK(h.out.completions.empty());
  h.producer.on_request_sent(h.out.requests[0].request.correlation_id, at(7_ms), h.out);
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::acked);
  CHECK(h.out.completions[0].offset == -1);
  CHECK(h.out.completions[0].completion_time == at(7_ms));
  CHECK(h.producer.sender().in_flight_request_count() == 0);
  CHECK_FALSE(h.producer.accumulator().has_incomplete());
}

TEST_CASE("a retriable error retries after retry.backoff.ms and then succeeds") {
  ProducerConfig config = plain_config();
  config.retry_backoff_max = config.retry_backoff;  // exactly 100 ms, no jitter
  Harness h(config);
  h.send(0_ms, 0, 1);
  h.send(0_ms, 0, 2);
  auto sent = h.poll_and_send(5_ms);
  REQUIRE(sent.size() == 1);
  h.respond(10_ms, sent[0].request, Errc::not_leader_or_follower);
  CHECK(h.out.completions.empty());
  CHECK(h.out.metadata_refresh_requested);  // InvalidMetadataException
  CHECK(h.poll_and_send(110_ms - 1_ns).empty());
  CHECK(h.producer.next_wakeup() == at(110_ms));
  sent = h.poll_and_send(110_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].request.partitions[0].batch.record_count == 2);
  h.respond(111_ms, sent[0].request, Errc::none, 42);
  REQUIRE(h.out.completions.size() == 2);
  CHECK(h.out.completions[0].record_id == 1);
  CHECK(h.out.completions[0].offset == 42);
  CHECK(h.out.completions[1].offset == 43);
  CHECK(h.out.failed_batches.empty());  // retried, then acknowledged
  CHECK(h.producer.metrics().batch_retries == 1);
  CHECK(h.producer.metrics().records_retried == 2);  // record-retry-total counts the batch's records
}

TEST_CASE("retries: a batch is sent at most retries + 1 times, then its records fail with the last error") {
  // Sender.canRetry: batch.attempts() < retries, attempts counting the re-enqueues so far. With retries = 2 the
  // first send and two retries fail; the third failure is final.
  ProducerConfig config = plain_config();
  config.retries = 2;
  config.retry_backoff_max = config.retry_backoff;  // exactly 100 ms, no jitter
  Harness h(config);
  h.send(0_ms, 0, 1);
  sim::Duration t = 5_ms;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CAPTURE(attempt);
    const auto sent = h.poll_and_send(t);
    REQUIRE(sent.size() == 1);
    CHECK(h.out.completions.empty());
    h.respond(t + 1_ms, sent[0].request, Errc::not_enough_replicas);
    t += 1_ms + 100_ms;  // the retry backoff
  }
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::broker_error);
  CHECK(h.out.completions[0].error == Errc::not_enough_replicas);
  CHECK(h.producer.metrics().batch_retries == 2);
  CHECK(h.poll_and_send(t).empty());  // nothing more is sent
}

TEST_CASE("the first retry backoff is 100 ms +-20% (KIP-580 jitter)") {
  Harness h(plain_config());
  h.send(0_ms, 0, 1);
  auto sent = h.poll_and_send(5_ms);
  h.respond(10_ms, sent[0].request, Errc::not_enough_replicas);
  h.producer.poll(at(10_ms), h.out);
  const sim::SimTime retry_at = h.producer.next_wakeup();
  CHECK(retry_at >= at(10_ms + 80_ms));
  CHECK(retry_at <= at(10_ms + 120_ms));
  CHECK(h.poll_and_send(retry_at - at(0_ms) - 1_ns).empty());
  CHECK(h.poll_and_send(retry_at - at(0_ms)).size() == 1);
}

TEST_CASE("a non-retriable error fails the batch's records") {
  Harness h(plain_config());
  h.send(0_ms, 0, 1);
  h.send(0_ms, 0, 2);
  auto sent = h.poll_and_send(5_ms);
  h.respond(9_ms, sent[0].request, Errc::invalid_record);
  REQUIRE(h.out.completions.size() == 2);
  for (const RecordCompletion& c : h.out.completions) {
    CHECK(c.outcome == RecordOutcome::broker_error);
    CHECK(c.error == Errc::invalid_record);
    CHECK(c.offset == -1);
  }
  // The cluster layer learns which batch failed (it may have been appended anyway, see ProducerOutbox).
  REQUIRE(h.out.failed_batches.size() == 1);
  CHECK(h.out.failed_batches[0] == sent[0].request.partitions[0].batch.tag);
  CHECK(h.poll_and_send(2_s).empty());
  CHECK(h.producer.next_wakeup() == sim::SimTime::max());
  CHECK(h.producer.accumulator().buffer_available_bytes() == h.producer.config().buffer_memory_bytes);
}

TEST_CASE("request.timeout.ms closes the connection and the batch is retried; a late response is ignored") {
  ProducerConfig config = plain_config();
  config.retry_backoff_max = config.retry_backoff;
  Harness h(config);
  h.send(0_ms, 0, 1);
  auto first = h.poll_and_send(5_ms);
  REQUIRE(first.size() == 1);
  h.producer.poll(at(5_ms), h.out);  // the written request woke the sender; nothing else to do
  CHECK(h.producer.next_wakeup() == at(5_ms + 30_s));
  h.producer.poll(at(5_ms + 30_s - 1_ns), h.out);
  CHECK(h.out.closed_connections.empty());
  auto sent = h.poll_and_send(5_ms + 30_s);
  CHECK(sent.empty());
  REQUIRE(h.out.closed_connections.size() == 1);
  CHECK(h.out.closed_connections[0] == leader);
  CHECK(h.out.completions.empty());
  CHECK(h.producer.metrics().request_timeouts == 1);
  // Retry after the 100 ms backoff (the 50 ms reconnect backoff is shorter).
  CHECK(h.poll_and_send(5_ms + 30_s + 100_ms - 1_ns).empty());
  sent = h.poll_and_send(5_ms + 30_s + 100_ms);
  REQUIRE(sent.size() == 1);
  h.respond(30_s + 200_ms, first[0].request, Errc::none, 7);  // on the closed connection
  CHECK(h.out.completions.empty());
  CHECK(h.producer.metrics().stale_responses == 1);
  h.respond(30_s + 201_ms, sent[0].request, Errc::none, 9);
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].offset == 9);
}

TEST_CASE("after a request timeout the node is unusable for reconnect.backoff.ms +-20%, or exactly it without room to grow") {
  // ClusterConnectionStates.disconnected: ExponentialBackoff(reconnect.backoff.ms, 2, reconnect.backoff.max.ms,
  // 0.2).backoff(0) after a connection that was ready: 50 ms x U(0.8, 1.2); with the max not above 50 ms the
  // backoff has no exponent and no jitter. A retry backoff of 1 ms leaves the reconnect backoff as the wait.
  auto reconnect_wait = [](sim::Duration reconnect_max, uint64_t seed) {
    ProducerConfig config = plain_config();
    config.retry_backoff = 1_ms;
    config.retry_backoff_max = 1_ms;
    config.reconnect_backoff_max = reconnect_max;
    Producer producer(config, 100, sim::Rng::stream(seed, "producer/0"));
    producer.set_metadata(one_topic(1));
    ProducerOutbox out;
    producer.send(at(0_ms), test::record_for(0, 1), out);
    producer.poll(at(5_ms), out);
    REQUIRE(out.requests.size() == 1);
    producer.on_request_sent(out.requests[0].request.correlation_id, at(5_ms), out);
    out.requests.clear();
    producer.poll(at(5_ms + 30_s), out);  // request.timeout.ms: the connection is closed
    REQUIRE(out.closed_connections.size() == 1);
    // The retried batch goes as soon as the node may be used again.
    sim::SimTime t = at(5_ms + 30_s);
    while (out.requests.empty()) {
      t = producer.next_wakeup();
      REQUIRE(t < at(5_ms + 31_s));
      producer.poll(t, out);
    }
    return t - at(5_ms + 30_s);
  };
  sim::Duration shortest = 1_s, longest = 0_ms;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const sim::Duration wait = reconnect_wait(1000_ms, seed);
    CHECK(wait >= 40_ms);
    CHECK(wait <= 60_ms);
    shortest = sim::min(shortest, wait);
    longest = sim::max(longest, wait);
  }
  CHECK(longest - shortest > 10_ms);  // jittered, not a constant
  CHECK(reconnect_wait(50_ms, 1) == 50_ms);
  CHECK(reconnect_wait(10_ms, 2) == 50_ms);
}

TEST_CASE("delivery.timeout.ms fails a batch that keeps timing out, exactly 120 s after its creation") {
  ProducerConfig config = plain_config();
  config.retry_backoff_max = config.retry_backoff;
  Harness h(config);
  h.send(3_ms, 0, 1);  // the batch is created at 3 ms
  // Play the cluster layer: wake at next_wakeup, report every request written, never answer.
  for (int step = 0; step < 100 && h.out.completions.empty(); ++step) {
    const sim::SimTime t = h.producer.next_wakeup();
    REQUIRE(t != sim::SimTime::max());
    h.poll_and_send(t - at(0_ms));
  }
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::delivery_timeout);
  CHECK(h.out.completions[0].completion_time == at(3_ms + 120_s));
  CHECK(h.out.failed_batches.size() == 1);
  // Sent at 5 ms, then retried at 30.105 s, 60.205 s and 90.305 s (timeout 30 s + backoff 100 ms each time).
  CHECK(h.producer.metrics().produce_requests == 4);
  CHECK(h.producer.metrics().request_timeouts == 3);
}

TEST_CASE("delivery.timeout.ms expires a batch that never had a leader") {
  Harness h(plain_config());
  ProducerMetadata metadata = one_topic(2);
  metadata.topics[0].partitions[1].node_id = no_leader_node;
  h.producer.set_metadata(metadata);
  h.send(2_ms, 1, 1);
  h.producer.poll(at(10_ms), h.out);
  CHECK(h.out.metadata_refresh_requested);
  CHECK(h.producer.next_wakeup() == at(2_ms + 120_s));
  h.producer.poll(at(2_ms + 120_s), h.out);
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::delivery_timeout);
  CHECK(h.out.completions[0].completion_time == at(2_ms + 120_s));
}

TEST_CASE("a send blocked on buffer.memory proceeds when memory is freed, or fails after max.block.ms") {
  ProducerConfig config = plain_config();
  config.buffer_memory_bytes = 16384;  // one batch.size buffer
  SUBCASE("freed by an acknowledgement") {
    Harness h(config);
    CHECK(h.send(0_ms, 0, 1).status == SendStatus::appended);
    CHECK(h.send(1_ms, 1, 2).status == SendStatus::blocked);
    const auto sent = h.poll_and_send(1_ms);  // exhausted memory makes the batch sendable before linger.ms
    REQUIRE(sent.size() == 1);
    h.respond(4_ms, sent[0].request, Errc::none, 0);
    REQUIRE(h.out.unblocked_sends.size() == 1);
    CHECK(h.out.unblocked_sends[0].record_id == 2);
    CHECK(h.out.unblocked_sends[0].appended);
  }
  SUBCASE("max.block.ms passes") {
    Harness h(config);
    h.send(0_ms, 0, 1);
    CHECK(h.send(1_ms, 1, 2).status == SendStatus::blocked);
    for (int step = 0; step < 100 && h.out.unblocked_sends.empty(); ++step)
      h.poll_and_send(h.producer.next_wakeup() - at(0_ms));
    REQUIRE(h.out.unblocked_sends.size() == 1);
    CHECK_FALSE(h.out.unblocked_sends[0].appended);
    const RecordCompletion& c = h.out.completions.back();
    CHECK(c.record_id == 2);
    CHECK(c.outcome == RecordOutcome::buffer_exhausted);
    CHECK(c.completion_time == at(1_ms + 60_s));
  }
}

// A broker whose max.message.bytes is 1000 answers every request at once: MESSAGE_TOO_LARGE for a larger batch,
// else success at the partition's next offset. Returns the record counts of the batches it was sent, in order.
namespace {
std::vector<int32_t> serve_with_max_message_bytes(Harness& h, sim::Duration t, int32_t max_message_bytes) {
  std::vector<int32_t> sent_counts;
  int64_t next_offset = 0;
  for (int round = 0; round < 100; ++round) {
    const auto sent = h.poll_and_send(t);
    if (sent.empty()) break;
    for (const OutgoingProduceRequest& r : sent) {
      REQUIRE(r.request.partitions.size() == 1);
      const RecordBatch& batch = r.request.partitions[0].batch;
      sent_counts.push_back(batch.record_count);
      if (batch.size_bytes > max_message_bytes) {
        h.respond(t, r.request, Errc::message_too_large);
      } else {
        h.respond(t, r.request, Errc::none, next_offset);
        next_offset += batch.record_count;
      }
    }
  }
  return sent_counts;
}
}  // namespace

TEST_CASE("MESSAGE_TOO_LARGE splits the batch: by batch.size first, then in halves (KAFKA-8350), until parts fit") {
  // 30 records of 109 bytes: a 3331-byte batch against max.message.bytes 1000.
  //  1. A batch that was never split is cut to batch.size (16384): all 30 records fit one part, rejected again.
  //  2. A split batch is cut to max(largest record bound 61 + 21 + 102 = 184, 3331 / 2 = 1665): 61 + 109 n <= 1665
  //     gives parts of 14, 14 and 2 records (1587, 1587, 279 bytes).
  //  3. Each 1587-byte part is cut to max(184, 793): 61 + 109 n <= 793 gives 6, 6 and 2 records (715, 715, 279).
  // The parts go back to the head of the deque in record order, so the records are acknowledged in order.
  Harness h(plain_config());
  for (uint64_t id = 1; id <= 30; ++id) h.send(0_ms, 0, id);
  const std::vector<int32_t> counts = serve_with_max_message_bytes(h, 5_ms, 1000);
  CHECK(counts == std::vector<int32_t>{30, 30, 14, 6, 6, 2, 14, 6, 6, 2, 2});
  CHECK(h.producer.metrics().batch_splits == 4);
  CHECK(h.out.split_batches.size() == 4);  // the cluster layer learns that they were never appended
  CHECK(h.out.failed_batches.empty());     // a split batch did not fail: its records live on in the parts
  CHECK(h.producer.metrics().batch_retries == 0);  // a split is not an attempt
  REQUIRE(h.out.completions.size() == 30);
  for (const RecordCompletion& c : h.out.completions) {
    CHECK(c.outcome == RecordOutcome::acked);
    CHECK(c.offset == static_cast<int64_t>(c.record_id) - 1);  // in send order
    CHECK(c.send_time == at(0_ms));
  }
  // The parts took no buffer.memory, and the big batch's buffer came back.
  CHECK(h.producer.accumulator().buffer_available_bytes() == h.producer.config().buffer_memory_bytes);
  CHECK(h.producer.accumulator().live_split_batch_count() == 0);
  CHECK_FALSE(h.producer.accumulator().has_incomplete());
}

TEST_CASE("MESSAGE_TOO_LARGE fails a single record, which cannot be split") {
  Harness h(plain_config());
  h.send(0_ms, 0, 1);
  const std::vector<int32_t> counts = serve_with_max_message_bytes(h, 5_ms, 100);
  CHECK(counts == std::vector<int32_t>{1});
  REQUIRE(h.out.completions.size() == 1);
  CHECK(h.out.completions[0].outcome == RecordOutcome::broker_error);
  CHECK(h.out.completions[0].error == Errc::message_too_large);
  CHECK(h.producer.metrics().batch_splits == 0);
}

TEST_CASE("split parts keep the big batch's creation time: delivery.timeout.ms still counts from it") {
  ProducerConfig config = plain_config();
  config.delivery_timeout = 1_s;
  config.request_timeout = 900_ms;  // delivery.timeout.ms >= linger.ms + request.timeout.ms
  Harness h(config);
  for (uint64_t id = 1; id <= 3; ++id) h.send(0_ms, 0, id);
  auto sent = h.poll_and_send(5_ms);
  REQUIRE(sent.size() == 1);
  // Rejected at 200 ms: the part (all three records: batch.size allows them) is sendable at once, no backoff.
  h.respond(200_ms, sent[0].request, Errc::message_too_large);
  sent = h.poll_and_send(200_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].request.partitions[0].batch.record_count == 3);
  // No response: the in-flight part expires 1 s after the *original* batch was created (at 0 ms), before its
  // request times out (1100 ms) and well before 1 s after the split (1200 ms).
  h.producer.poll(at(200_ms), h.out);  // the completed send asked for a poll
  CHECK(h.producer.next_wakeup() == at(1000_ms));
  h.producer.poll(at(1000_ms - 1_ns), h.out);
  CHECK(h.out.completions.empty());
  h.producer.poll(at(1000_ms), h.out);
  REQUIRE(h.out.completions.size() == 3);
  for (const RecordCompletion& c : h.out.completions) CHECK(c.outcome == RecordOutcome::delivery_timeout);
}
