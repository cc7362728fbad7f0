// The consumer's side of KIP-219 client-quota throttling (reference/kafka-behaviour-2.md §10.4, §10.6;
// NetworkClient.maybeThrottle, ClusterConnectionStates.throttle, FetchSessionHandler.handleResponse), driven
// directly: the test plays the brokers.
//
// The rules the expectations are derived from:
//  - a broker throttling a consumer fetch answers with no partitions and throttle_time_ms = t (§10.4), with session
//    id 0 for a full fetch (no session was created) and the session's id for an incremental one;
//  - the node is then not ready until receipt + t: no fetch goes to it before, and the next fetch goes as soon as it
//    is ready, from the same positions (nothing was consumed); the other nodes are not held;
//  - while the application is blocked in poll, the poll timeout (next_wakeup) includes the throttle's end;
//  - a throttled full response cannot be processed (Kafka's handleResponse: "an empty full fetch response can't be
//    processed"), so the next fetch to the node is full again; a throttled incremental response keeps the session,
//    whose next request is the next epoch.
// Configs: enable.auto.commit = false (no auto-commit timer), request.timeout.ms = 30000, the fetch defaults.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "consumer_test_support.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::batch_of;
using test::data;
using test::leaders;

constexpr PartitionRef p0{0, 0};  // led by node 1
constexpr PartitionRef p1{0, 1};  // led by node 2

ConsumerConfig no_auto_commit() {
  ConsumerConfig config;
  config.client_id = 100;
  config.enable_auto_commit = false;
  return config;
}

// The broker's throttled answer to `fetch` (FetchContext.getThrottledResponse): no partitions.
FetchResponse throttled(const OutgoingFetch& fetch, int32_t session_id, int32_t throttle_time_ms) {
  FetchResponse r = test::answer_to(fetch, {}, session_id);
  r.throttle_time_ms = throttle_time_ms;
  return r;
}

const OutgoingFetch* fetch_to(const ConsumerOutbox& out, NodeId node) {
  const OutgoingFetch* found = nullptr;
  for (const OutgoingFetch& f : out.fetches) {
    if (f.destination != node) continue;
    REQUIRE(found == nullptr);  // at most one fetch per node
    found = &f;
  }
  return found;
}

}  // namespace

TEST_CASE("after a throttled full fetch no fetch goes to the node until the throttle ends, then a full one from the "
          "same positions; the other node is not held") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}, {2, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 7}, {p1, 10}}, out);
  consumer.poll(at(0_ms), out);
  REQUIRE(out.fetches.size() == 2);
  const OutgoingFetch to1 = *fetch_to(out, 1);
  const OutgoingFetch to2 = *fetch_to(out, 2);
  out.clear();

  // Node 1 throttles the full fetch for 200 ms at 5 ms: not ready until 205 ms.
  consumer.on_fetch_response(at(5_ms), 1, throttled(to1, invalid_session_id, 200), out);
  CHECK(out.fetches.empty());
  CHECK(out.polled.empty());
  CHECK(consumer.blocked_in_poll());
  CHECK_FALSE(consumer.has_pending_fetch(1));
  CHECK(consumer.position(p0) == 7);
  // Due: the throttle's end (205 ms) and node 2's request timeout (0 + 30 s).
  CHECK(consumer.next_wakeup() <= at(205_ms));
  CHECK(consumer.next_wakeup() == at(205_ms));

  // Node 2 answers at 20 ms with no records and a new session: its next fetch leaves at once.
  consumer.on_fetch_response(at(20_ms), 2, test::answer_to(to2, {data(p1, 10)}, 55), out);
  const OutgoingFetch* again2 = fetch_to(out, 2);
  REQUIRE(again2 != nullptr);
  CHECK(again2->request.session_id == 55);
  CHECK(again2->request.session_epoch == 1);
  CHECK(fetch_to(out, 1) == nullptr);
  out.clear();

  // Wakeups before the end send nothing to node 1.
  consumer.on_wakeup(at(100_ms), out);
  consumer.on_wakeup(at(205_ms) - 1_ns, out);
  CHECK(out.fetches.empty());
  CHECK(consumer.next_wakeup() == at(205_ms));

  consumer.on_wakeup(at(205_ms), out);
  REQUIRE(out.fetches.size() == 1);
  const OutgoingFetch& after = out.fetches[0];
  CHECK(after.destination == 1);
  // The throttled full response left no session: the request is full again (INITIAL metadata), with p0 where it was.
  CHECK(after.request.session_id == invalid_session_id);
  CHECK(after.request.session_epoch == initial_session_epoch);
  REQUIRE(after.request.partitions.size() == 1);
  CHECK(after.request.partitions[0].partition == p0);
  CHECK(after.request.partitions[0].fetch_offset == 7);
  CHECK(consumer.has_pending_fetch(1));
  // The throttle is over: nothing but the two request timeouts is due.
  CHECK(consumer.next_wakeup() == at(20_ms + 30_s));
}

TEST_CASE("after a throttled incremental fetch the session continues at the next epoch, from the same positions") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch full = test::first_fetch(consumer, {{p0, 3}}, out);
  // The full fetch opens session 77 (nothing to read yet); the next fetch is incremental at epoch 1 and lists
  // nothing (p0's position did not change).
  consumer.on_fetch_response(at(2_ms), 1, test::answer_to(full, {data(p0, 3)}, 77), out);
  REQUIRE(out.fetches.size() == 1);
  const OutgoingFetch incremental = out.fetches[0];
  CHECK(incremental.request.session_id == 77);
  CHECK(incremental.request.session_epoch == 1);
  out.clear();

  // Throttled for 300 ms at 10 ms: the broker keeps session 77.
  consumer.on_fetch_response(at(10_ms), 1, throttled(incremental, 77, 300), out);
  CHECK(out.fetches.empty());
  CHECK(consumer.next_wakeup() == at(310_ms));
  consumer.on_wakeup(at(310_ms) - 1_ns, out);
  CHECK(out.fetches.empty());
  consumer.on_wakeup(at(310_ms), out);
  REQUIRE(out.fetches.size() == 1);
  const FetchRequest& next = out.fetches[0].request;
  CHECK(out.fetches[0].destination == 1);
  CHECK(next.session_id == 77);
  CHECK(next.session_epoch == 2);
  CHECK(next.partitions.empty());  // p0's fetch data did not change
  const FetchPartitionRequest* session_p0 = consumer.fetch_session(1)->session_partition(p0);
  REQUIRE(session_p0 != nullptr);
  CHECK(session_p0->fetch_offset == 3);
  // The data the throttled fetch did not return comes with this one.
  consumer.on_fetch_response(at(311_ms), 1, test::answer_to(out.fetches[0], {data(p0, 5, {batch_of(3, 2, 200)})}, 77),
                             out);
  REQUIRE(out.polled.size() == 1);
  CHECK(out.polled[0].record_count == 2);
  REQUIRE(out.polled[0].ranges.size() == 1);
  CHECK(out.polled[0].ranges[0].first_offset == 3);
  CHECK(consumer.position(p0) == 5);
}

TEST_CASE("a throttle that ends while the application is processing does not hold the next poll's fetch") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}, {2, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch to1 = *fetch_to(out, 1);
  const OutgoingFetch to2 = *fetch_to(out, 2);
  out.clear();
  consumer.on_fetch_response(at(5_ms), 1, throttled(to1, invalid_session_id, 100), out);
  // Node 2 returns records at 10 ms: poll returns, the application processes them, and the pipelined fetch goes
  // only to node 2 (node 1 is throttled until 105 ms).
  consumer.on_fetch_response(at(10_ms), 2, test::answer_to(to2, {data(p1, 4, {batch_of(0, 4, 400)})}, 0), out);
  REQUIRE(out.polled.size() == 1);
  CHECK_FALSE(consumer.blocked_in_poll());
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  out.clear();

  SUBCASE("the next poll before the end: still nothing to node 1") {
    CHECK(consumer.poll(at(50_ms), out) == 0);
    CHECK(out.fetches.empty());
    CHECK(consumer.next_wakeup() == at(105_ms));  // blocked in poll again: the throttle's end is the wakeup
  }
  SUBCASE("the next poll after the end: a fetch to node 1 at once, from offset 0") {
    CHECK(consumer.poll(at(150_ms), out) == 0);
    const OutgoingFetch* f = fetch_to(out, 1);
    REQUIRE(f != nullptr);
    REQUIRE(f->request.partitions.size() == 1);
    CHECK(f->request.partitions[0].fetch_offset == 0);
    CHECK(fetch_to(out, 2) == nullptr);  // node 2's fetch is still pending
  }
}
