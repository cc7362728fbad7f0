// The consumer's incremental fetch sessions (KIP-227; AbstractFetch.prepareFetchRequests / handleFetchSuccess /
// handleFetchFailure with one FetchSessionHandler per node). Expectations follow from the session rules: the
// first fetch to a node is full, then only partitions whose position changed are listed; only the partitions in
// a response become completed fetches; a rejected response is dropped and the next fetch is full.
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
using test::data;

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr PartitionRef p2{0, 2};
constexpr int32_t session = 41;

ConsumerConfig config() {
  ConsumerConfig c;
  c.client_id = 100;
  c.enable_auto_commit = false;
  return c;
}

ProducerMetadata all_on_node_1() {
  ProducerMetadata metadata;
  metadata.topics.push_back(TopicMetadata{{{1, 0}, {1, 0}, {1, 0}}});
  return metadata;
}

RecordBatch batch(int64_t base_offset, int32_t record_count) {
  return test::batch_of(base_offset, record_count, 1000, -1, 1);  // leader epoch as appended: unset
}

FetchResponse answer(const OutgoingFetch& fetch, std::vector<FetchPartitionResponse> partitions,
                     int32_t session_id = session) {
  return test::answer_to(fetch, std::move(partitions), session_id);
}

std::vector<PartitionRef> listed(const FetchRequest& r) {
  std::vector<PartitionRef> v;
  for (const FetchPartitionRequest& p : r.partitions) v.push_back(p.partition);
  return v;
}

}  // namespace

TEST_CASE("consumer: full fetch, then incremental fetches listing only moved positions") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), all_on_node_1(), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}, {p2, 0}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch first = out.fetches.at(0);
  CHECK(first.request.metadata() == FetchMetadata{0, 0});
  CHECK(listed(first.request) == std::vector<PartitionRef>{p0, p1, p2});
  out.clear();

  // Full answer: p1 has 4 records; session 41 is created. Poll returns the 4 records at once (blocked in poll),
  // and the pipelined fetch is incremental, listing only p1 at its new position 4.
  consumer.on_fetch_response(at(1_ms), 1, answer(first, {data(p0, 0), data(p1, 4, {batch(0, 4)}), data(p2, 0)}),
                             out);
  REQUIRE(out.polled.size() == 1);
  CHECK(out.polled[0].record_count == 4);
  REQUIRE(out.fetches.size() == 1);
  const OutgoingFetch second = out.fetches[0];
  CHECK(second.request.metadata() == FetchMetadata{session, 1});
  REQUIRE(listed(second.request) == std::vector<PartitionRef>{p1});
  CHECK(second.request.partitions[0].fetch_offset == 4);
  CHECK(second.request.forgotten.empty());
  out.clear();

  // The incremental answer carries p2 only (2 records): exactly one completed fetch, p0 and p1 untouched.
  consumer.on_fetch_response(at(2_ms), 1, answer(second, {data(p2, 2, {batch(0, 2)})}), out);
  CHECK(consumer.buffered_partitions() == std::set<PartitionRef>{p2});
  CHECK(consumer.poll(at(3_ms), out) == 2);
  CHECK(consumer.position(p2) == 2);
  CHECK(consumer.position(p1) == 4);
  CHECK(consumer.high_watermark(p1) == 4);  // the lag reference stays the last HW received for p1
  const OutgoingFetch third = out.fetches.at(0);
  CHECK(third.request.metadata() == FetchMetadata{session, 2});
  CHECK(listed(third.request) == std::vector<PartitionRef>{p2});
  REQUIRE(consumer.fetch_session(1) != nullptr);
  CHECK(consumer.fetch_session(1)->session_size() == 3);
}

TEST_CASE("consumer: a partition that stops being fetchable is forgotten") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), all_on_node_1(), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch first = out.fetches.at(0);
  out.clear();
  // p0 answers OFFSET_OUT_OF_RANGE: it needs a reset (auto.offset.reset = latest) and is not fetched meanwhile.
  FetchPartitionResponse out_of_range = data(p0, -1);
  out_of_range.error = Errc::offset_out_of_range;
  consumer.on_fetch_response(at(1_ms), 1, answer(first, {out_of_range, data(p1, 0)}), out);
  REQUIRE(out.fetches.size() == 1);
  const FetchRequest& next = out.fetches[0].request;
  CHECK(next.metadata() == FetchMetadata{session, 1});
  CHECK(next.partitions.empty());
  CHECK(next.forgotten == std::vector<PartitionRef>{p0});
}

TEST_CASE("consumer: a rejected response is dropped and the next fetch to the node is full") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), all_on_node_1(), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}, {p1, 0}}, out);
  consumer.poll(at(0_ms), out);
  OutgoingFetch fetch = out.fetches.at(0);
  out.clear();
  consumer.on_fetch_response(at(1_ms), 1, answer(fetch, {data(p0, 0), data(p1, 0)}), out);
  fetch = out.fetches.at(0);
  CHECK(fetch.request.metadata() == FetchMetadata{session, 1});
  out.clear();

  SUBCASE("FETCH_SESSION_ID_NOT_FOUND") {
    FetchResponse error = answer(fetch, {}, invalid_session_id);
    error.error = Errc::fetch_session_id_not_found;
    consumer.on_fetch_response(at(2_ms), 1, std::move(error), out);
    CHECK(consumer.buffered_partitions().empty());
    REQUIRE(out.fetches.size() == 1);  // still blocked in poll: the fetch goes out at once
    CHECK(out.fetches[0].request.metadata() == FetchMetadata{0, 0});
    CHECK(listed(out.fetches[0].request) == std::vector<PartitionRef>{p0, p1});
  }
  SUBCASE("a full response missing a partition after the session was reset") {
    FetchResponse error = answer(fetch, {}, session);
    error.error = Errc::invalid_fetch_session_epoch;
    consumer.on_fetch_response(at(2_ms), 1, std::move(error), out);
    const OutgoingFetch full = out.fetches.at(0);
    CHECK(full.request.metadata() == FetchMetadata{session, 0});
    out.clear();
    // The full fetch's answer leaves p1 out: invalid, dropped, and the next fetch starts from scratch.
    consumer.on_fetch_response(at(3_ms), 1, answer(full, {data(p0, 9, {batch(0, 9)})}), out);
    CHECK(consumer.buffered_partitions().empty());
    CHECK(consumer.position(p0) == 0);
    CHECK(out.fetches.at(0).request.metadata() == FetchMetadata{0, 0});
  }
}

TEST_CASE("consumer: a failed fetch makes the next one full, closing the session") {
  ConsumerOutbox out;
  KafkaConsumer consumer(config(), all_on_node_1(), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}}, out);
  consumer.poll(at(0_ms), out);
  OutgoingFetch fetch = out.fetches.at(0);
  out.clear();
  consumer.on_fetch_response(at(1_ms), 1, answer(fetch, {data(p0, 0)}), out);
  fetch = out.fetches.at(0);
  out.clear();
  consumer.on_fetch_failed(at(2_ms), 1, fetch.request.correlation_id, out);
  // reconnect.backoff.ms = 50, then a full fetch naming the old session.
  consumer.on_wakeup(at(52_ms), out);
  CHECK(out.fetches.at(0).request.metadata() == FetchMetadata{session, 0});
  CHECK(listed(out.fetches.at(0).request) == std::vector<PartitionRef>{p0});
}
