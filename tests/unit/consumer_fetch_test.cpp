// KafkaConsumer fetch path (reference/kafka-behaviour.md §5.2, §2.8; AbstractFetch.prepareFetchRequests,
// FetchCollector.collectFetch). Expected offsets and counts are worked out by hand from the batches each test
// feeds in and from the Kafka 4.x defaults in §5.2 (fetch.min.bytes 1, fetch.max.bytes 52428800,
// fetch.max.wait.ms 500, max.partition.fetch.bytes 1048576, max.poll.records 500).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "consumer_test_support.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::leaders;

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr PartitionRef p2{0, 2};

ConsumerConfig no_auto_commit() {
  ConsumerConfig config;
  config.client_id = 100;
  config.enable_auto_commit = false;
  return config;
}

RecordBatch batch(int64_t base_offset, int32_t record_count, int32_t size_bytes = 1000) {
  return test::batch_of(base_offset, record_count, size_bytes, 0, static_cast<uint64_t>(base_offset) + 1000);
}

// A partition's data whose byte slice holds exactly `batches` plus `tail_bytes` of a partial batch.
FetchPartitionResponse data(PartitionRef partition, int64_t high_watermark, std::vector<RecordBatch> batches,
                            int64_t tail_bytes = 0) {
  FetchPartitionResponse d;
  d.partition = partition;
  d.high_watermark = high_watermark;
  d.last_stable_offset = high_watermark;
  d.log_start_offset = 0;
  int64_t bytes = tail_bytes;
  for (const RecordBatch& b : batches) bytes += b.size_bytes;
  d.batches = std::move(batches);
  d.slice.bytes = bytes;
  return d;
}

FetchResponse response_to(const OutgoingFetch& fetch, std::vector<FetchPartitionResponse> partitions) {
  return FetchResponse{fetch.request.correlation_id, std::move(partitions)};
}

int64_t total_records(const PolledRecords& polled) {
  int64_t n = 0;
  for (const PolledRange& r : polled.ranges) n += r.record_count;
  return n;
}

}  // namespace

TEST_CASE("the first poll sends one fetch per leader node with the configured limits") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 3}, {1, 3}, {2, 4}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 10}, {p2, 20}}, out);
  CHECK(out.fetches.empty());  // the classic consumer fetches only inside poll()

  CHECK(consumer.poll(at(0_ms), out) == 0);
  CHECK(consumer.blocked_in_poll());
  REQUIRE(out.fetches.size() == 2);
  const OutgoingFetch& to1 = out.fetches[0];
  const OutgoingFetch& to2 = out.fetches[1];
  CHECK(to1.destination == 1);
  CHECK(to2.destination == 2);
  CHECK(to1.request.replica_id == -1);
  CHECK(to1.request.client_id == 100);
  CHECK(to1.request.max_wait == 500_ms);
  CHECK(to1.request.min_bytes == 1);
  CHECK(to1.request.max_bytes == 52'428'800);
  REQUIRE(to1.request.partitions.size() == 2);
  CHECK(to1.request.partitions[0].partition == p0);
  CHECK(to1.request.partitions[0].fetch_offset == 0);
  CHECK(to1.request.partitions[0].current_leader_epoch == 3);
  CHECK(to1.request.partitions[0].partition_max_bytes == 1'048'576);
  CHECK(to1.request.partitions[1].partition == p1);
  CHECK(to1.request.partitions[1].fetch_offset == 10);
  REQUIRE(to2.request.partitions.size() == 1);
  CHECK(to2.request.partitions[0].partition == p2);
  CHECK(to2.request.partitions[0].fetch_offset == 20);
  CHECK(to2.request.partitions[0].current_leader_epoch == 4);
  CHECK(to1.request.correlation_id != to2.request.correlation_id);
}

TEST_CASE("positions advance by exactly what poll returned, not when data arrives") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch first = test::first_fetch(consumer, {{p0, 0}}, out);

  // Blocked in poll: the response is returned at once, 10 + 15 records.
  consumer.on_fetch_response(at(5_ms), 1, response_to(first, {data(p0, 25, {batch(0, 10), batch(10, 15)})}), out);
  REQUIRE(out.polled.size() == 1);
  CHECK(out.polled[0].time == at(5_ms));
  CHECK(out.polled[0].record_count == 25);
  REQUIRE(out.polled[0].ranges.size() == 2);
  CHECK(out.polled[0].ranges[0].first_offset == 0);
  CHECK(out.polled[0].ranges[0].record_count == 10);
  CHECK(out.polled[0].ranges[0].batch_tag == 1000);
  CHECK(out.polled[0].ranges[1].first_offset == 10);
  CHECK(out.polled[0].ranges[1].record_count == 15);
  CHECK(out.polled[0].ranges[1].batch_base_offset == 10);
  CHECK(consumer.position(p0) == 25);
  CHECK_FALSE(consumer.blocked_in_poll());
  // Pipelining: the next fetch left together with the records, from the new position.
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 25);
  const OutgoingFetch second = out.fetches[0];
  out.clear();

  // The application is processing: the next response is only buffered, the position stays.
  consumer.on_fetch_response(at(8_ms), 1, response_to(second, {data(p0, 30, {batch(25, 5)})}), out);
  CHECK(out.polled.empty());
  CHECK(out.fetches.empty());
  CHECK(consumer.position(p0) == 25);
  CHECK(consumer.buffered_partitions() == std::set<PartitionRef>{p0});

  CHECK(consumer.poll(at(20_ms), out) == 5);
  REQUIRE(out.polled.size() == 1);
  CHECK(out.polled[0].ranges[0].first_offset == 25);
  CHECK(total_records(out.polled[0]) == 5);
  CHECK(consumer.position(p0) == 30);
}

TEST_CASE("max.poll.records bounds each poll and cuts a batch in the middle") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch fetch = test::first_fetch(consumer, {{p0, 0}}, out);

  // Three batches of 300 records: 900 records, default max.poll.records = 500.
  consumer.on_fetch_response(at(1_ms), 1,
                             response_to(fetch, {data(p0, 900, {batch(0, 300), batch(300, 300), batch(600, 300)})}),
                             out);
  REQUIRE(out.polled.size() == 1);
  // First poll: all of batch 0 (300) + the first 200 of batch 1 = 500.
  CHECK(out.polled[0].record_count == 500);
  REQUIRE(out.polled[0].iterated.size() == 2);
  CHECK(out.polled[0].iterated[0].records_iterated == 300);
  CHECK(out.polled[0].iterated[0].opened);
  CHECK(out.polled[0].iterated[1].records_iterated == 200);
  CHECK(out.polled[0].iterated[1].opened);
  REQUIRE(out.polled[0].ranges.size() == 2);
  CHECK(out.polled[0].ranges[1].first_offset == 300);
  CHECK(out.polled[0].ranges[1].record_count == 200);
  CHECK(consumer.position(p0) == 500);
  // The partition still has buffered data, so no fetch goes out for it.
  CHECK(out.fetches.empty());
  out.clear();

  // Second poll: the remaining 100 of batch 1 + 300 of batch 2 = 400.
  CHECK(consumer.poll(at(2_ms), out) == 400);
  REQUIRE(out.polled[0].ranges.size() == 2);
  CHECK(out.polled[0].ranges[0].first_offset == 500);
  CHECK(out.polled[0].ranges[0].record_count == 100);
  CHECK(out.polled[0].ranges[1].first_offset == 600);
  CHECK(out.polled[0].ranges[1].record_count == 300);
  CHECK(consumer.position(p0) == 900);
  // What each poll read, the decoding work it pays for (CompletedFetch.nextFetchedRecord): the first poll opened
  // batches 0 and 1 and read 300 + 200 records; this one read batch 1's other 100 and opened batch 2.
  REQUIRE(out.polled[0].iterated.size() == 2);
  CHECK(out.polled[0].iterated[0].batch.base_offset == 300);
  CHECK(out.polled[0].iterated[0].records_iterated == 100);
  CHECK_FALSE(out.polled[0].iterated[0].opened);
  CHECK(out.polled[0].iterated[1].batch.base_offset == 600);
  CHECK(out.polled[0].iterated[1].records_iterated == 300);
  CHECK(out.polled[0].iterated[1].opened);
  // Drained: now it is fetched again, from 900.
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 900);
}

TEST_CASE("a smaller max.poll.records is respected exactly") {
  ConsumerConfig config = no_auto_commit();
  config.max_poll_records = 7;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch fetch = test::first_fetch(consumer, {{p0, 0}}, out);
  consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {data(p0, 20, {batch(0, 20)})}), out);
  // 20 records at 7 per poll: 7, 7, 6.
  CHECK(out.polled.at(0).record_count == 7);
  CHECK(consumer.poll(at(2_ms), out) == 7);
  CHECK(consumer.poll(at(3_ms), out) == 6);
  CHECK(consumer.position(p0) == 20);
}

TEST_CASE("no second fetch goes to a node with a fetch in flight") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}, {1, 0}, {2, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}, {p2, 0}}, out);
  consumer.poll(at(0_ms), out);
  REQUIRE(out.fetches.size() == 2);
  const OutgoingFetch to1 = out.fetches[0];
  const OutgoingFetch to2 = out.fetches[1];
  out.clear();
  CHECK(consumer.has_pending_fetch(1));
  CHECK(consumer.has_pending_fetch(2));

  // Waking the consumer while it is blocked in poll sends nothing new.
  consumer.on_wakeup(at(100_ms), out);
  CHECK(out.fetches.empty());

  // A response with a wrong correlation id is not the pending one: ignored, node 2 stays pending.
  consumer.on_fetch_response(at(200_ms), 2, FetchResponse{to2.request.correlation_id + 99, {}}, out);
  CHECK(consumer.has_pending_fetch(2));
  CHECK(out.fetches.empty());

  // Node 2 answers empty after its long poll: only node 2 gets a new fetch; node 1 is still pending.
  consumer.on_fetch_response(at(500_ms), 2, response_to(to2, {data(p2, 0, {})}), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  CHECK(consumer.has_pending_fetch(1));
  out.clear();

  // Metadata moves p1's leadership nowhere new: node 1 still gets nothing while its fetch is in flight.
  consumer.update_metadata(at(600_ms), leaders({{1, 0}, {1, 0}, {2, 0}}), out);
  CHECK(out.fetches.empty());
  CHECK(to1.destination == 1);
}

TEST_CASE("buffered data prevents refetching: no fetch goes to its node until it is drained (KAFKA-17182)") {
  ConsumerConfig config = no_auto_commit();
  config.max_poll_records = 2;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}, {1, 0}}), at(0_ms));
  const OutgoingFetch first = test::first_fetch(consumer, {{p0, 0}, {p1, 0}}, out);

  // p1 comes back empty, p0 with 5 records. Poll drains p1's empty fetch and returns 2 records of p0.
  consumer.on_fetch_response(at(1_ms), 1, response_to(first, {data(p1, 0, {}), data(p0, 5, {batch(0, 5)})}), out);
  CHECK(out.polled.at(0).record_count == 2);
  CHECK(consumer.buffered_partitions() == std::set<PartitionRef>{p0});
  // No pipelined fetch: p0 still has 3 unconsumed records on node 1, and leaving it out of a fetch to node 1
  // would drop it from that node's fetch session (KAFKA-17182, AbstractFetch.prepareFetchRequests bufferedNodes).
  CHECK(out.fetches.empty());

  // 5 records at 2 a poll: 2 more, still one buffered, so still no fetch; then the last one, and node 1 is
  // fetched again, both partitions from their positions.
  CHECK(consumer.poll(at(2_ms), out) == 2);
  CHECK(out.fetches.empty());
  CHECK(consumer.poll(at(3_ms), out) == 1);
  CHECK(consumer.position(p0) == 5);
  CHECK(consumer.buffered_partitions().empty());
  REQUIRE(out.fetches.size() == 1);
  REQUIRE(out.fetches[0].request.partitions.size() == 2);
  CHECK(out.fetches[0].request.partitions[0].partition == p0);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 5);
  CHECK(out.fetches[0].request.partitions[1].partition == p1);
  CHECK(out.fetches[0].request.partitions[1].fetch_offset == 0);
}

TEST_CASE("buffered data on one node does not hold back fetches to another") {
  ConsumerConfig config = no_auto_commit();
  config.max_poll_records = 2;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}, {2, 0}}), at(0_ms));
  // p1 (node 2) has no committed offset: it waits for ListOffsets while p0 (node 1) is fetched.
  consumer.assign(at(0_ms), {{p0, 0}, {p1, std::nullopt}}, out);
  consumer.poll(at(0_ms), out);
  REQUIRE(out.fetches.size() == 1);
  REQUIRE(out.list_offsets.size() == 1);
  const OutgoingFetch to1 = out.fetches[0];
  const uint64_t reset_id = out.list_offsets[0].request.correlation_id;
  out.clear();
  // Node 1 answers p0 with 5 records: poll returns 2, 3 stay buffered; p1 has no position yet.
  consumer.on_fetch_response(at(1_ms), 1, response_to(to1, {data(p0, 5, {batch(0, 5)})}), out);
  CHECK(out.polled.at(0).record_count == 2);
  CHECK(out.fetches.empty());
  out.clear();
  // p1's position arrives while the application processes; the next poll returns 2 more records of p0 and
  // pipelines a fetch to node 2 only: node 1 still hosts buffered data.
  consumer.on_list_offsets_response(at(2_ms), ListOffsetsResponse{reset_id, {{p1, Errc::none, 7, 0}}}, out);
  CHECK(consumer.poll(at(3_ms), out) == 2);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  REQUIRE(out.fetches[0].request.partitions.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].partition == p1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 7);
}

TEST_CASE("a slice that ends inside a batch returns only the whole batches") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch fetch = test::first_fetch(consumer, {{p0, 0}}, out);

  SUBCASE("the partial batch is listed but does not fit the slice") {
    // Batches of 1000 bytes; the slice holds 2000 + 300 bytes, so the third batch is cut.
    FetchPartitionResponse d = data(p0, 30, {batch(0, 10), batch(10, 10)}, 300);
    d.batches.push_back(batch(20, 10));
    consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {d}), out);
  }
  SUBCASE("only the whole batches are listed, plus tail bytes") {
    consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {data(p0, 30, {batch(0, 10), batch(10, 10)}, 300)}),
                               out);
  }
  REQUIRE(out.polled.size() == 1);
  CHECK(out.polled[0].record_count == 20);
  CHECK(consumer.position(p0) == 20);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 20);
}

TEST_CASE("a position inside a batch skips the records below it") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 5}}, out);  // committed offset 5, in the middle of batch 0..9
  consumer.poll(at(0_ms), out);
  const OutgoingFetch fetch = out.fetches.at(0);
  CHECK(fetch.request.partitions[0].fetch_offset == 5);
  out.clear();
  // The broker returns the batch holding offset 5 whole.
  consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {data(p0, 20, {batch(0, 10), batch(10, 10)})}), out);
  REQUIRE(out.polled.size() == 1);
  REQUIRE(out.polled[0].ranges.size() == 2);
  CHECK(out.polled[0].ranges[0].first_offset == 5);
  CHECK(out.polled[0].ranges[0].record_count == 5);
  CHECK(out.polled[0].ranges[0].batch_base_offset == 0);
  CHECK(out.polled[0].record_count == 15);
  // The iterator reads the five records below the position too: all 10 of batch 0 went through it.
  REQUIRE(out.polled[0].iterated.size() == 2);
  CHECK(out.polled[0].iterated[0].records_iterated == 10);
  CHECK(out.polled[0].iterated[1].records_iterated == 10);
  CHECK(consumer.position(p0) == 20);
}

TEST_CASE("NOT_LEADER_OR_FOLLOWER asks for metadata and waits for it before fetching again") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch fetch = test::first_fetch(consumer, {{p0, 42}}, out);

  FetchPartitionResponse d;
  d.partition = p0;
  d.error = Errc::not_leader_or_follower;
  consumer.on_fetch_response(at(3_ms), 1, response_to(fetch, {d}), out);
  CHECK(out.metadata_update_requested);
  CHECK(out.fetches.empty());
  CHECK(out.polled.empty());
  CHECK(consumer.position(p0) == 42);
  out.clear();

  // New metadata: the leader moved to node 2 with epoch 1; the fetch resumes there from the same position.
  consumer.update_metadata(at(10_ms), leaders({{2, 1}}), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].destination == 2);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 42);
  CHECK(out.fetches[0].request.partitions[0].current_leader_epoch == 1);
}

TEST_CASE("an unanswered fetch times out after request.timeout.ms and the node backs off") {
  ConsumerOutbox out;
  KafkaConsumer consumer(no_auto_commit(), leaders({{1, 0}}), at(0_ms));
  const OutgoingFetch fetch = test::first_fetch(consumer, {{p0, 0}}, out);
  // request.timeout.ms = 30000.
  CHECK(consumer.next_wakeup() == at(30_s));
  consumer.on_wakeup(at(10_s), out);  // early: harmless
  CHECK(out.fetches.empty());
  consumer.on_wakeup(at(30_s), out);
  CHECK_FALSE(consumer.has_pending_fetch(1));
  CHECK(out.fetches.empty());
  // reconnect.backoff.ms = 50 with +-20 % jitter, as reconnect.backoff.max.ms (1000) is larger
  // (ClusterConnectionStates: ExponentialBackoff.backoff(0) after a connection that was ready).
  const sim::SimTime retry = consumer.next_wakeup();
  CHECK(retry >= at(30_s + 40_ms));
  CHECK(retry <= at(30_s + 60_ms));
  consumer.on_wakeup(retry - sim::Duration::from_ns(1), out);
  CHECK(out.fetches.empty());
  consumer.on_wakeup(retry, out);
  REQUIRE(out.fetches.size() == 1);
  // The late answer to the timed-out fetch is ignored.
  out.clear();
  consumer.on_fetch_response(at(31_s), 1, response_to(fetch, {data(p0, 5, {batch(0, 5)})}), out);
  CHECK(out.polled.empty());
  CHECK(consumer.position(p0) == 0);
}

TEST_CASE("the reconnect backoff has no jitter when reconnect.backoff.max.ms is not above reconnect.backoff.ms") {
  ConsumerConfig config = no_auto_commit();
  config.reconnect_backoff_max = config.reconnect_backoff;  // ExponentialBackoff: expMax = 0, the initial interval
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}}, out);
  consumer.poll(at(0_ms), out);
  out.clear();
  consumer.on_wakeup(at(30_s), out);
  CHECK(consumer.next_wakeup() == at(30_s + 50_ms));
}
