// The consumer side of fetch from follower (KIP-392; reference/kafka-behaviour-2.md §12.3, §12.5;
// AbstractFetch.selectReadReplica / handleFetchFailure, FetchCollector.handleInitializeSuccess /
// handleInitializeErrors, SubscriptionState.preferredReadReplica). Expectations are worked out by hand from those
// rules: a preferred read replica named in a response is used from the poll that initializes that response until
// metadata.max.age.ms later (strictly past it, it is gone); OFFSET_OUT_OF_RANGE with a replica set only clears
// it; errors that request metadata and a failed fetch clear it too; the fetch goes to the leader again.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "consumer_test_support.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::leaders;
using test::data;

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr int32_t session = 41;

ConsumerConfig config() {
  ConsumerConfig c;
  c.client_id = 100;
  c.enable_auto_commit = false;
  c.client_rack = "rack-b";
  return c;
}

RecordBatch batch(int64_t base_offset, int32_t record_count) {
  return test::batch_of(base_offset, record_count, 1000, 0, static_cast<uint64_t>(base_offset) + 1000);
}

// The leader's answer naming `replica` as the partition's preferred read replica: no records (§12.2).
FetchPartitionResponse redirect(PartitionRef partition, int64_t hw, NodeId replica) {
  FetchPartitionResponse d = data(partition, hw);
  d.preferred_read_replica = replica;
  return d;
}

FetchPartitionResponse failure(PartitionRef partition, Errc error) {
  FetchPartitionResponse d;
  d.partition = partition;
  d.error = error;
  return d;
}

// Without a session id the broker keeps no session, so every next fetch to that node is full.
FetchResponse answer(const OutgoingFetch& fetch, std::vector<FetchPartitionResponse> partitions,
                     int32_t session_id = invalid_session_id) {
  return test::answer_to(fetch, std::move(partitions), session_id);
}

const OutgoingFetch* fetch_to(const ConsumerOutbox& out, NodeId node) {
  const auto it = std::find_if(out.fetches.begin(), out.fetches.end(),
                               [node](const OutgoingFetch& f) { return f.destination == node; });
  return it == out.fetches.end() ? nullptr : &*it;
}

std::vector<PartitionRef> listed(const FetchRequest& r) {
  std::vector<PartitionRef> v;
  for (const FetchPartitionRequest& p : r.partitions) v.push_back(p.partition);
  return v;
}

// Assigns `partitions` at time 0 and polls: the application is blocked in poll with the first fetch sent, which is
// returned (the outbox is cleared).
OutgoingFetch first_fetch(KafkaConsumer& consumer, const std::vector<PartitionAssignment>& partitions,
                          ConsumerOutbox& out) {
  consumer.assign(at(0_ms), partitions, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch first = out.fetches.at(0);
  out.clear();
  return first;
}

// p0 (and `more`) led by node 1 at epoch 3; the first fetch to node 1 is answered with p0 redirected to node 2
// while the consumer is blocked in poll, so the same poll iteration initializes it and fetches p0 from node 2.
// Returns that fetch.
OutgoingFetch redirect_p0_to_node_2(KafkaConsumer& consumer, int64_t position, ConsumerOutbox& out) {
  const OutgoingFetch first = first_fetch(consumer, {{p0, position}}, out);
  REQUIRE(first.destination == 1);
  consumer.on_fetch_response(at(10_ms), 1, answer(first, {redirect(p0, position + 50, 2)}), out);
  REQUIRE(out.fetches.size() == 1);
  REQUIRE(out.fetches[0].destination == 2);
  const OutgoingFetch to_replica = out.fetches[0];
  out.clear();
  return to_replica;
}

}  // namespace

TEST_CASE("preferred replica: every fetch carries client.rack as its rack id") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}, {2, 3}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}}, out);
  consumer.poll(at(0_ms), out);
  REQUIRE(out.fetches.size() == 2);
  CHECK(out.fetches[0].request.rack_id == "rack-b");
  CHECK(out.fetches[1].request.rack_id == "rack-b");
  const OutgoingFetch first = out.fetches[0];
  out.clear();
  // The next fetch to the same node, an incremental one in the session, carries it too.
  consumer.on_fetch_response(at(1_ms), 1, answer(first, {data(p0, 0)}, session), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.metadata() == FetchMetadata{session, 1});
  CHECK(out.fetches[0].request.rack_id == "rack-b");
}

TEST_CASE("preferred replica: set when poll initializes the answer, then the partition is fetched from it") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}, {1, 3}}), at(0_ms));
  const OutgoingFetch first = first_fetch(consumer, {{p0, 0}, {p1, 10}}, out);
  // Blocked in poll: p1's 5 records are returned; the pipelined fetch goes to node 1 (session 41, epoch 1).
  consumer.on_fetch_response(at(5_ms), 1, answer(first, {data(p0, 0), data(p1, 15, {batch(10, 5)})}, session),
                             out);
  REQUIRE(out.polled.size() == 1);
  CHECK_FALSE(consumer.blocked_in_poll());
  const OutgoingFetch second = out.fetches.at(0);
  CHECK(second.destination == 1);
  out.clear();

  // The application is processing: the redirect for p0 is only buffered and not yet in effect.
  consumer.on_fetch_response(at(8_ms), 1, answer(second, {redirect(p0, 50, 2)}, session), out);
  CHECK(out.fetches.empty());
  CHECK(consumer.preferred_read_replica(p0, at(8_ms)) == std::nullopt);

  // The next poll initializes it: p0 goes to node 2 in a new full session, at its position and with the
  // leader's epoch; p1 stays in node 1's session, which forgets p0.
  CHECK(consumer.poll(at(20_ms), out) == 0);
  CHECK(consumer.preferred_read_replica(p0, at(20_ms)) == 2);
  CHECK(consumer.preferred_read_replica(p1, at(20_ms)) == std::nullopt);
  CHECK(consumer.high_watermark(p0) == 50);
  CHECK(consumer.position(p0) == 0);
  REQUIRE(out.fetches.size() == 2);
  const OutgoingFetch* to1 = fetch_to(out, 1);
  const OutgoingFetch* to2 = fetch_to(out, 2);
  REQUIRE(to1 != nullptr);
  REQUIRE(to2 != nullptr);
  CHECK(to2->request.metadata() == initial_fetch_metadata);
  CHECK(to2->request.rack_id == "rack-b");
  REQUIRE(to2->request.partitions.size() == 1);
  CHECK(to2->request.partitions[0].partition == p0);
  CHECK(to2->request.partitions[0].fetch_offset == 0);
  CHECK(to2->request.partitions[0].current_leader_epoch == 3);
  CHECK(to1->request.metadata() == FetchMetadata{session, 2});
  CHECK(to1->request.partitions.empty());  // p1 is unchanged at 15 in node 1's session
  CHECK(to1->request.forgotten == std::vector<PartitionRef>{p0});
  REQUIRE(consumer.fetch_session(1) != nullptr);
  CHECK(consumer.fetch_session(1)->session_partitions() == std::vector<PartitionRef>{p1});
  REQUIRE(consumer.fetch_session(2) != nullptr);
  CHECK(consumer.fetch_session(2)->session_partitions() == std::vector<PartitionRef>{p0});
}

TEST_CASE("preferred replica: used until metadata.max.age.ms has strictly passed, then the leader again") {
  ConsumerConfig c = config();
  c.metadata_max_age = 1_s;
  ConsumerOutbox out;
  KafkaConsumer consumer(c, leaders({{1, 3}}), at(0_ms));
  // Set at 10 ms by the poll iteration that handled the answer: it expires after 1010 ms.
  const OutgoingFetch f2 = redirect_p0_to_node_2(consumer, 0, out);
  CHECK(consumer.preferred_read_replica(p0, at(1010_ms)) == 2);
  CHECK(consumer.preferred_read_replica(p0, at(1010_ms) + sim::Duration::from_ns(1)) == std::nullopt);

  // At exactly 1010 ms records from node 2 are returned and the pipelined fetch still goes to node 2.
  consumer.on_fetch_response(at(1010_ms), 2, answer(f2, {data(p0, 10, {batch(0, 5)})}), out);
  CHECK(out.polled.at(0).record_count == 5);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  const OutgoingFetch f3 = out.fetches[0];
  out.clear();

  // Its answer is returned by the poll at 1011 ms, whose fetch goes back to the leader, at the new position.
  consumer.on_fetch_response(at(1011_ms), 2, answer(f3, {data(p0, 10, {batch(5, 5)})}), out);
  CHECK(out.fetches.empty());
  CHECK(consumer.poll(at(1011_ms), out) == 5);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 1);
  CHECK(listed(out.fetches[0].request) == std::vector<PartitionRef>{p0});
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 10);
  CHECK(consumer.preferred_read_replica(p0, at(1011_ms)) == std::nullopt);
}

TEST_CASE("preferred replica: OFFSET_OUT_OF_RANGE from it goes back to the leader without a reset") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}}), at(0_ms));
  const OutgoingFetch f2 = redirect_p0_to_node_2(consumer, 42, out);
  CHECK(f2.request.partitions.at(0).fetch_offset == 42);

  consumer.on_fetch_response(at(20_ms), 2, answer(f2, {failure(p0, Errc::offset_out_of_range)}), out);
  CHECK(out.list_offsets.empty());
  CHECK(consumer.position(p0) == 42);
  CHECK(consumer.preferred_read_replica(p0, at(20_ms)) == std::nullopt);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 1);
  CHECK(out.fetches[0].request.partitions.at(0).fetch_offset == 42);
  const OutgoingFetch f3 = out.fetches[0];
  out.clear();

  // The leader says so too, with no preferred replica set: auto.offset.reset (latest) by ListOffsets to it.
  consumer.on_fetch_response(at(30_ms), 1, answer(f3, {failure(p0, Errc::offset_out_of_range)}), out);
  CHECK(consumer.position(p0) == std::nullopt);
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].destination == 1);
  CHECK(out.list_offsets[0].request.partitions.at(0).timestamp == list_offsets_latest_timestamp);
  CHECK(out.fetches.empty());
}

TEST_CASE("preferred replica: NOT_LEADER_OR_FOLLOWER from it clears it and requests metadata") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}}), at(0_ms));
  const OutgoingFetch f2 = redirect_p0_to_node_2(consumer, 7, out);

  consumer.on_fetch_response(at(20_ms), 2, answer(f2, {failure(p0, Errc::not_leader_or_follower)}), out);
  CHECK(out.metadata_update_requested);
  CHECK(consumer.preferred_read_replica(p0, at(20_ms)) == std::nullopt);
  CHECK(out.fetches.empty());  // the partition waits for the metadata
  out.clear();

  // The same leader in the new metadata: the fetch goes to it, at the same position.
  consumer.update_metadata(at(25_ms), leaders({{1, 3}}), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 1);
  CHECK(out.fetches[0].request.partitions.at(0).fetch_offset == 7);
}

TEST_CASE("preferred replica: a failed fetch to it sends the partitions of its session back to the leader") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}, {1, 3}}), at(0_ms));
  const OutgoingFetch first = first_fetch(consumer, {{p0, 0}, {p1, 0}}, out);
  consumer.on_fetch_response(at(10_ms), 1, answer(first, {redirect(p0, 5, 2), redirect(p1, 5, 2)}), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  CHECK(listed(out.fetches[0].request) == std::vector<PartitionRef>{p0, p1});
  const OutgoingFetch to_replica = out.fetches[0];
  out.clear();

  // Node 2 waits out its reconnect backoff, but the partitions are fetched from node 1 at once.
  consumer.on_fetch_failed(at(20_ms), 2, to_replica.request.correlation_id, out);
  CHECK(consumer.preferred_read_replica(p0, at(20_ms)) == std::nullopt);
  CHECK(consumer.preferred_read_replica(p1, at(20_ms)) == std::nullopt);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 1);
  CHECK(listed(out.fetches[0].request) == std::vector<PartitionRef>{p0, p1});
}

TEST_CASE("preferred replica: fetched from it while its leader has a fetch in flight") {
  // send_fetches' early return over the leader nodes must not hide a free preferred replica.
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), leaders({{1, 3}, {1, 3}}), at(0_ms));
  const OutgoingFetch first = first_fetch(consumer, {{p0, 0}, {p1, 0}}, out);
  consumer.on_fetch_response(at(10_ms), 1, answer(first, {redirect(p0, 5, 2), data(p1, 0)}), out);
  REQUIRE(out.fetches.size() == 2);
  const OutgoingFetch to_replica = *fetch_to(out, 2);
  CHECK(consumer.has_pending_fetch(1));
  out.clear();

  // Node 1 still has p1's fetch in flight; p0's records come from node 2 and its next fetch goes there.
  consumer.on_fetch_response(at(12_ms), 2, answer(to_replica, {data(p0, 5, {batch(0, 5)})}), out);
  CHECK(out.polled.at(0).record_count == 5);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  CHECK(out.fetches[0].request.partitions.at(0).fetch_offset == 5);
}

TEST_CASE("preferred replica: buffered data holds back fetches to the node it came from, not to its leader") {
  // KAFKA-17182's bufferedNodes are the nodes the buffered partitions are fetched from (maybeNodeForPosition).
  ConsumerConfig c = config();
  c.max_poll_records = 5;
  ConsumerOutbox out;
  KafkaConsumer consumer(c, leaders({{1, 3}, {1, 3}}), at(0_ms));
  const OutgoingFetch first = first_fetch(consumer, {{p0, 0}, {p1, 0}}, out);
  consumer.on_fetch_response(at(1_ms), 1, answer(first, {redirect(p0, 10, 2), data(p1, 0)}), out);
  const OutgoingFetch to_replica = *fetch_to(out, 2);
  const OutgoingFetch to_leader = *fetch_to(out, 1);
  out.clear();
  // p1's 3 records are returned; its pipelined fetch to node 1 is answered empty while the application is
  // processing, and so are p0's 10 records from node 2.
  consumer.on_fetch_response(at(2_ms), 1, answer(to_leader, {data(p1, 3, {batch(0, 3)})}), out);
  CHECK(out.polled.at(0).record_count == 3);
  const OutgoingFetch to_leader_again = out.fetches.at(0);
  CHECK(to_leader_again.destination == 1);
  out.clear();
  consumer.on_fetch_response(at(3_ms), 1, answer(to_leader_again, {data(p1, 3)}), out);
  consumer.on_fetch_response(at(3_ms), 2, answer(to_replica, {data(p0, 10, {batch(0, 10)})}), out);
  CHECK(out.fetches.empty());

  // The poll returns 5 of p0's records; the other 5 stay buffered, which holds back node 2 only.
  CHECK(consumer.poll(at(4_ms), out) == 5);
  CHECK(consumer.buffered_partitions() == std::set<PartitionRef>{p0});
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 1);
  CHECK(listed(out.fetches[0].request) == std::vector<PartitionRef>{p1});
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 3);
}
