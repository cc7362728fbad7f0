// The producer's side of KIP-219 client-quota throttling (reference/kafka-behaviour-2.md §10.6,
// NetworkClient.maybeThrottle, ClusterConnectionStates.throttle, InFlightRequests.incrementThrottleTime), driven
// directly: the test plays the cluster layer and hands the Sender ProduceResponses carrying throttle_time_ms.
//
// The rules the expectations are derived from:
//  - a response with throttle_time_ms = t > 0 received at `now` makes its node not ready until now + t (the
//    deadline only ever moves forward): no ProduceRequest is drained for that node before then, and one is at
//    exactly that time if a batch is waiting; other nodes are not affected;
//  - the requests still in flight to that node get t added to their request.timeout.ms;
//  - the poll timeout (next_wakeup) includes the throttle's end;
//  - produce-throttle-time records every response's throttle_time_ms, 0 included.
// Configs: linger.ms = 5 (or 0 where a test needs several requests in flight), request.timeout.ms = 30000,
// delivery.timeout.ms = 120000, max.in.flight.requests.per.connection = 5, acks = 1 without idempotence.
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

constexpr NodeId node_a = 1;  // leads partition 0
constexpr NodeId node_b = 2;  // leads partition 1

// linger.ms = 0: each poll drains what was sent before it, so several requests can be in flight at chosen times.
ProducerConfig no_linger_config() {
  ProducerConfig config = plain_config();
  config.linger = 0_ms;
  return config;
}

// One topic: partition 0 led by node_a, partition 1 by node_b.
ProducerMetadata two_leaders() {
  ProducerMetadata metadata;
  TopicMetadata topic;
  topic.partitions.push_back({node_a, 0});
  topic.partitions.push_back({node_b, 0});
  metadata.topics.push_back(topic);
  return metadata;
}

struct Harness {
  Producer producer;
  ProducerOutbox out;

  explicit Harness(const ProducerConfig& config)
      : producer(config, /*client_id=*/100, sim::Rng::stream(7, "producer/0")) {
    producer.set_metadata(two_leaders());
  }

  void send(sim::Duration t, int32_t partition, uint64_t record_id) {
    REQUIRE(producer.send(at(t), test::record_for(partition, record_id), out).status == SendStatus::appended);
  }
  // Polls and reports every request as fully written at the same instant.
  std::vector<OutgoingProduceRequest> poll_and_send(sim::SimTime t) { return test::poll_and_send(producer, out, t); }
  std::vector<OutgoingProduceRequest> poll_and_send(sim::Duration t) { return poll_and_send(at(t)); }
  // With linger.ms = 0: sends a record and polls at `t`, which drains it as one request, reported written.
  ProduceRequest send_and_drain(sim::Duration t, int32_t partition, uint64_t record_id) {
    send(t, partition, record_id);
    const std::vector<OutgoingProduceRequest> sent = poll_and_send(t);
    REQUIRE(sent.size() == 1);
    return sent[0].request;
  }
  // A successful answer to every partition of `request`, with the broker's throttle time.
  void respond(sim::Duration t, const ProduceRequest& request, int32_t throttle_time_ms) {
    ProduceResponse response = test::response_to(request, Errc::none);
    response.throttle_time_ms = throttle_time_ms;
    producer.on_produce_response(response, at(t), out);
  }
};

}  // namespace

TEST_CASE("a throttled node is not drained until the throttle ends, then at once; another node is not held") {
  Harness h(plain_config());
  h.send(0_ms, 0, 1);
  auto sent = h.poll_and_send(5_ms);  // linger.ms = 5
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].destination == node_a);
  // Answered at 10 ms with a 100 ms throttle: node_a is not ready until 110 ms.
  h.respond(10_ms, sent[0].request, 100);
  REQUIRE(h.out.completions.size() == 1);  // the throttle does not hold back the acknowledgement
  CHECK(h.out.completions[0].outcome == RecordOutcome::acked);

  // Batches for both nodes, ready at 15 ms (linger.ms): only node_b's goes.
  h.send(10_ms, 0, 2);
  h.send(10_ms, 1, 3);
  sent = h.poll_and_send(15_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == node_b);
  // node_b keeps being served while node_a is throttled: answered (no throttle) and drained again.
  h.respond(20_ms, sent[0].request, 0);
  h.send(20_ms, 1, 4);
  sent = h.poll_and_send(25_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == node_b);
  h.respond(26_ms, sent[0].request, 0);
  h.producer.poll(at(26_ms), h.out);  // the response asked for a poll; node_a still waits

  // Pending now: node_a's throttle end (110 ms) and its queued batch's delivery timeout (10 ms + 120 s). The
  // wakeup is the throttle's end.
  CHECK(h.producer.next_wakeup() == at(110_ms));
  CHECK(h.poll_and_send(110_ms - 1_ns).empty());
  sent = h.poll_and_send(110_ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == node_a);
  REQUIRE(sent[0].request.partitions.size() == 1);
  CHECK(sent[0].request.partitions[0].partition == PartitionRef{0, 0});
  CHECK(sent[0].request.partitions[0].batch.record_count == 1);
  // Record 2 was sent at 10 ms, acknowledged after the throttle.
  h.respond(111_ms, sent[0].request, 0);
  REQUIRE(h.out.completions.size() == 4);
  CHECK(h.out.completions.back().record_id == 2);
  CHECK(h.out.completions.back().completion_time == at(111_ms));
}

TEST_CASE("a later, shorter throttle does not shorten the deadline; a later, longer one extends it") {
  // Two requests to node_a in flight, A sent at 0 ms and B at 1 ms; A is answered at 10 ms with a 200 ms throttle and
  // B at 20 ms with `b_throttle_ms`. A batch for node_a then waits from 20 ms, not drained at once.
  const auto throttled_twice = [](Harness& h, int32_t b_throttle_ms) {
    const ProduceRequest a = h.send_and_drain(0_ms, 0, 1);
    const ProduceRequest b = h.send_and_drain(1_ms, 0, 2);
    REQUIRE(h.producer.sender().in_flight_request_count(node_a) == 2);
    h.respond(10_ms, a, 200);
    h.respond(20_ms, b, b_throttle_ms);
    h.send(20_ms, 0, 3);
    CHECK(h.poll_and_send(20_ms).empty());
  };
  SUBCASE("200 ms at 10 ms, then 50 ms at 20 ms: not ready until max(210, 70) = 210 ms") {
    Harness h(no_linger_config());
    throttled_twice(h, 50);
    CHECK(h.producer.next_wakeup() == at(210_ms));
    CHECK(h.poll_and_send(70_ms).empty());  // where the shorter throttle alone would have ended
    CHECK(h.poll_and_send(210_ms - 1_ns).empty());
    const auto sent = h.poll_and_send(210_ms);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].destination == node_a);
  }
  SUBCASE("200 ms at 10 ms, then 300 ms at 20 ms: not ready until max(210, 320) = 320 ms") {
    Harness h(no_linger_config());
    throttled_twice(h, 300);
    CHECK(h.producer.next_wakeup() == at(320_ms));
    CHECK(h.poll_and_send(210_ms).empty());
    CHECK(h.poll_and_send(320_ms - 1_ns).empty());
    CHECK(h.poll_and_send(320_ms).size() == 1);
  }
}

TEST_CASE("next_wakeup reports the throttle's end while nothing else is due earlier") {
  Harness h(plain_config());
  h.send(0_ms, 0, 1);
  const auto sent = h.poll_and_send(5_ms);
  REQUIRE(sent.size() == 1);
  // Nothing queued after the response: the only timers are the throttle's end (40 ms + 250 ms).
  h.respond(40_ms, sent[0].request, 250);
  h.producer.poll(at(40_ms), h.out);
  CHECK(h.producer.next_wakeup() == at(290_ms));
  // Once the throttle is over there is nothing left to wake up for.
  h.producer.poll(at(290_ms), h.out);
  CHECK(h.producer.next_wakeup() == sim::SimTime::max());
}

TEST_CASE("a request in flight to a throttled node times out at request.timeout.ms + the throttle") {
  Harness h(no_linger_config());
  const ProduceRequest a = h.send_and_drain(0_ms, 0, 1);
  h.send_and_drain(1_ms, 0, 2);  // B
  // A is answered at 10 ms with a 500 ms throttle: B (sent at 1 ms, unanswered) times out at 1 ms + 30 s + 500 ms,
  // not at 1 ms + 30 s. A itself is done, so its own timeout plays no part.
  h.respond(10_ms, a, 500);
  h.producer.poll(at(10_ms), h.out);
  CHECK(h.producer.next_wakeup() == at(510_ms));  // the throttle's end comes first
  h.producer.poll(at(510_ms), h.out);
  CHECK(h.producer.next_wakeup() == at(1_ms + 30_s + 500_ms));
  h.producer.poll(at(1_ms + 30_s), h.out);  // the unthrottled timeout: nothing happens
  CHECK(h.out.closed_connections.empty());
  CHECK(h.producer.metrics().request_timeouts == 0);
  h.producer.poll(at(1_ms + 30_s + 500_ms) - 1_ns, h.out);
  CHECK(h.out.closed_connections.empty());
  h.producer.poll(at(1_ms + 30_s + 500_ms), h.out);
  REQUIRE(h.out.closed_connections.size() == 1);
  CHECK(h.out.closed_connections[0] == node_a);
  CHECK(h.producer.metrics().request_timeouts == 1);
}

TEST_CASE("a request sent after the throttle is not extended by it") {
  // incrementThrottleTime applies to the requests in flight when the throttled response arrives, not to later ones.
  Harness h(no_linger_config());
  h.respond(10_ms, h.send_and_drain(0_ms, 0, 1), 500);
  h.send(10_ms, 0, 2);
  const auto c = h.poll_and_send(510_ms);
  REQUIRE(c.size() == 1);
  h.producer.poll(at(510_ms), h.out);  // the written request woke the sender; nothing else to do
  CHECK(h.producer.next_wakeup() == at(510_ms + 30_s));
  h.producer.poll(at(510_ms + 30_s) - 1_ns, h.out);
  CHECK(h.out.closed_connections.empty());
  h.producer.poll(at(510_ms + 30_s), h.out);
  CHECK(h.out.closed_connections.size() == 1);
}

TEST_CASE("produce-throttle-time records every response's throttle, 0 included, from set_latency_metrics_from on") {
  Harness h(no_linger_config());
  h.producer.set_latency_metrics_from(at(100_ms));
  // Before 100 ms: a throttled response that the metrics must not see.
  h.respond(50_ms, h.send_and_drain(0_ms, 1, 1), 70);
  CHECK(h.producer.metrics().produce_throttle_time_ms.count() == 0);
  CHECK(h.producer.metrics().throttled_responses == 0);
  // After: three responses from node_b, throttled 0, 30 and 0 ms, at 200, 300 and 400 ms (each sent once the previous
  // throttle was over).
  const int32_t throttles[] = {0, 30, 0};
  sim::Duration t = 150_ms;
  uint64_t record_id = 2;
  for (int32_t throttle : throttles) {
    h.respond(t + 50_ms, h.send_and_drain(t, 1, record_id++), throttle);
    t += 100_ms;
  }
  const SenderMetrics& m = h.producer.metrics();
  CHECK(m.produce_throttle_time_ms.count() == 3);
  CHECK(m.produce_throttle_time_ms.max() == 30);
  CHECK(m.produce_throttle_time_ms.min() == 0);
  CHECK(m.produce_throttle_time_ms.mean() == doctest::Approx(10.0).scale(0).epsilon(1e-12));
  CHECK(m.throttled_responses == 1);
}
