// The broker side of consumer-fetch client quotas (reference/kafka-behaviour-2.md §10.4; KafkaApis.handleFetchRequest
// and processResponseCallback, FetchContext.getResponseSize / getThrottledResponse): FetchContext's dry-run response
// size and throttled response, and ReplicaManager asking a ConsumerFetchQuota (a scripted fake here).
//
// The rules the expectations are derived from:
//  - a FetchResponse's wire size is response header 8 + session fields 6 + per partition 48 + its slice's bytes
//    (include/kafkasim/kafka/protocol.hpp);
//  - getResponseSize is the size of what updateAndGenerateResponseData would send (an incremental context only the
//    partitions with something new: records, a HW or log start change, an error), and changes nothing;
//  - getThrottledResponse has no partitions and the throttle time; a full context creates no session (id 0), an
//    incremental one keeps its session id and does not touch the partitions' cached HW / log start / order;
//  - a consumer fetch's max bytes is min(request, fetch.max.bytes, the quota's max value in the window) and its min
//    bytes min(request min, that); follower fetches are exempt from client quotas;
//  - the quotas see the response size when the response is about to be generated (at once, or when a parked fetch
//    completes); a throttled fetch gets the throttled (empty) response and leaves the session as it was.
// A log read returns whole batches that fit the limit plus the cut part of the next one, up to the limit (LogSegment
// slices up to maxSize), and at least one whole batch for the first partition with data (KIP-74).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "broker_test_support.hpp"
#include "kafkasim/kafka/broker/fetch_session.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;
using sim::SimTime;

namespace {

using test::at;
using test::base_offsets;
using test::begin_exchange;
using test::consumer_client;
using test::consumer_fetch;
using test::data;
using test::Exchange;
using test::exchange;
using test::refs;
using test::tp;

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr PartitionRef p2{0, 2};
constexpr PartitionRef tp1{0, 1};

// The wire size of a FetchResponse with partitions of these slice sizes (protocol.hpp's constants, spelled out).
int64_t response_bytes(std::vector<int64_t> slices) {
  int64_t bytes = 8 + 6;
  for (int64_t s : slices) bytes += 48 + s;
  return bytes;
}

// ---- FetchContext helpers ----

FetchPartitionRequest want(PartitionRef p, int64_t offset) {
  FetchPartitionRequest r;
  r.partition = p;
  r.fetch_offset = offset;
  return r;
}

// A consumer's request (replica id -1).
FetchRequest request(FetchMetadata metadata, std::vector<FetchPartitionRequest> partitions) {
  FetchRequest r;
  r.correlation_id = 9;
  r.client_id = consumer_client;
  r.replica_id = consumer_replica_id;
  r.session_id = metadata.session_id;
  r.session_epoch = metadata.epoch;
  r.partitions = std::move(partitions);
  return r;
}

// A consumer session over p0, p1, p2 created by a full fetch at t = 0 with HW 5, 6, 7; returns its id.
int32_t open_session(FetchManager& manager) {
  const Exchange e = exchange(manager, request({0, 0}, {want(p0, 5), want(p1, 6), want(p2, 7)}), at(0_ms),
                              {data(p0, 5), data(p1, 6), data(p2, 7)});
  REQUIRE(e.context.kind() == FetchContext::Kind::full);
  REQUIRE(e.response.session_id != invalid_session_id);
  return e.response.session_id;
}

// The incremental read after open_session: p0 as last sent (left out), p1 with 300 bytes of records, p2's HW moved
// from 7 to 8.
std::vector<FetchPartitionResponse> news() { return {data(p0, 5), data(p1, 6, 300), data(p2, 8)}; }

}  // namespace

TEST_CASE("getResponseSize of a full, sessionless or session-error context is the generated response's wire size") {
  FetchManager dry(1000), direct(1000);
  const FetchRequest full = request({0, 0}, {want(p0, 0), want(p1, 0), want(p2, 0)});
  const std::vector<FetchPartitionResponse> read = {data(p0, 5, 100), data(p1, 6), data(p2, 7, 250)};
  Exchange e = begin_exchange(dry, full, at(0_ms), read);
  // Every partition of a full response is sent: 14 + 3 x 48 + 350 = 508 bytes.
  const int64_t size = e.context.response_size_bytes(e.response);
  CHECK(size == response_bytes({100, 0, 250}));
  CHECK(e.context.response_size_bytes(e.response) == size);  // a dry run: the same answer again
  CHECK(dry.cache().size() == 0);                           // and no session yet
  e.context.update_and_generate_response_data(e.response, e.read, dry.cache(), at(0_ms));
  CHECK(wire_size_bytes(e.response) == size);
  // Generated directly, the same response and the same session.
  const Exchange d = exchange(direct, full, at(0_ms), read);
  CHECK(refs(d.response) == refs(e.response));
  CHECK(d.response.session_id == e.response.session_id);
  CHECK(dry.cache().size() == 1);
  CHECK(direct.cache().size() == 1);

  // Sessionless (epoch -1): everything is sent, no session.
  Exchange s =
      begin_exchange(dry, request({0, -1}, {want(p0, 0), want(p1, 0)}), at(1_ms), {data(p0, 5, 70), data(p1, 6)});
  CHECK(s.context.kind() == FetchContext::Kind::sessionless);
  const int64_t sessionless_size = s.context.response_size_bytes(s.response);
  CHECK(sessionless_size == response_bytes({70, 0}));
  s.context.update_and_generate_response_data(s.response, s.read, dry.cache(), at(1_ms));
  CHECK(wire_size_bytes(s.response) == sessionless_size);

  // A session error (an unknown id) sends no partition: 14 bytes.
  Exchange err = begin_exchange(dry, request({12345, 1}, {}), at(2_ms), {});
  CHECK(err.context.kind() == FetchContext::Kind::session_error);
  CHECK(err.context.response_size_bytes(err.response) == response_bytes({}));
  err.context.update_and_generate_response_data(err.response, err.read, dry.cache(), at(2_ms));
  CHECK(wire_size_bytes(err.response) == response_bytes({}));
}

TEST_CASE("getResponseSize of an incremental context counts only what it would send, and changes nothing") {
  FetchManager dry(1000), direct(1000);
  const int32_t id = open_session(dry);
  REQUIRE(open_session(direct) == id);
  const FetchSession& session = *dry.cache().get(id);

  Exchange e = begin_exchange(dry, request({id, 1}, {}), at(1_ms), news());
  // p0 has nothing new: 14 + 2 x 48 + 300 = 410 bytes for p1 and p2.
  const int64_t size = e.context.response_size_bytes(e.response);
  CHECK(size == response_bytes({300, 0}));
  CHECK(e.context.response_size_bytes(e.response) == size);
  // Nothing was remembered: p2's HW 7 is still the one last sent, p1 has not moved to the end (KAFKA-12330).
  CHECK(session.cached(p2)->high_watermark == 7);
  CHECK(session.partition_order() == std::vector<PartitionRef>{p0, p1, p2});
  CHECK(e.response.partitions.size() == 3);  // the response itself is untouched

  e.context.update_and_generate_response_data(e.response, e.read, dry.cache(), at(1_ms));
  CHECK(wire_size_bytes(e.response) == size);
  CHECK(refs(e.response) == std::vector<PartitionRef>{p1, p2});

  // The same fetch generated directly on an identical session gives the same response and session state.
  const Exchange d = exchange(direct, request({id, 1}, {}), at(1_ms), news());
  CHECK(refs(d.response) == refs(e.response));
  CHECK(wire_size_bytes(d.response) == wire_size_bytes(e.response));
  const FetchSession& twin = *direct.cache().get(id);
  CHECK(twin.partition_order() == session.partition_order());
  CHECK(twin.partition_order() == std::vector<PartitionRef>{p0, p2, p1});
  CHECK(twin.epoch() == session.epoch());
  for (PartitionRef p : {p0, p1, p2}) CHECK(twin.cached(p)->high_watermark == session.cached(p)->high_watermark);
  // And the next fetch (nothing new anywhere) agrees too: empty on both.
  const std::vector<FetchPartitionResponse> quiet = {data(p0, 5), data(p2, 8), data(p1, 6)};
  Exchange next = begin_exchange(dry, request({id, 2}, {}), at(2_ms), quiet);
  CHECK(next.context.response_size_bytes(next.response) == response_bytes({}));
  next.context.update_and_generate_response_data(next.response, next.read, dry.cache(), at(2_ms));
  CHECK(next.response.partitions.empty());
  CHECK(exchange(direct, request({id, 2}, {}), at(2_ms), quiet).response.partitions.empty());
}

TEST_CASE("getResponseSize of an incremental context whose session epoch moved is the empty response's size") {
  // IncrementalFetchContext.getResponseSize: "if (session.epoch() != expectedEpoch) return sizeOf(empty)", matching
  // updateAndGenerateResponseData, which then answers INVALID_FETCH_SESSION_EPOCH with no partitions.
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  Exchange parked = begin_exchange(manager, request({id, 1}, {}), at(1_ms), news());
  exchange(manager, request({id, 2}, {}), at(2_ms), {data(p0, 5), data(p1, 6), data(p2, 7)});  // the epoch moves on
  const int64_t size = parked.context.response_size_bytes(parked.response);
  parked.context.update_and_generate_response_data(parked.response, parked.read, manager.cache(), at(3_ms));
  REQUIRE(parked.response.error == Errc::invalid_fetch_session_epoch);
  CHECK(wire_size_bytes(parked.response) == response_bytes({}));
  CHECK(size == response_bytes({}));
}

TEST_CASE("getThrottledResponse of a full or sessionless context: no partitions, no session") {
  FetchManager manager(1000);
  Exchange e = begin_exchange(manager, request({0, 0}, {want(p0, 0), want(p1, 0)}), at(0_ms),
                              {data(p0, 5, 100), data(p1, 6)});
  e.context.throttled_response(e.response, 150);
  CHECK(e.response.partitions.empty());
  CHECK(e.response.throttle_time_ms == 150);
  CHECK(e.response.error == Errc::none);
  CHECK(e.response.session_id == invalid_session_id);
  CHECK(manager.cache().size() == 0);
  // The session the full fetch would have created is the cache's first, id 1 (shard 0 hands out ids from 1): it does
  // not exist, so an incremental request naming it fails.
  const Exchange next = exchange(manager, request({1, 1}, {}), at(1_ms), {});
  CHECK(next.context.kind() == FetchContext::Kind::session_error);
  CHECK(next.response.error == Errc::fetch_session_id_not_found);
  // Unthrottled, the same full fetch does create session 1.
  CHECK(exchange(manager, request({0, 0}, {want(p0, 0)}), at(2_ms), {data(p0, 5)}).response.session_id == 1);

  Exchange s = begin_exchange(manager, request({0, -1}, {want(p0, 0)}), at(3_ms), {data(p0, 5, 10)});
  s.context.throttled_response(s.response, 20);
  CHECK(s.response.partitions.empty());
  CHECK(s.response.throttle_time_ms == 20);
  CHECK(s.response.error == Errc::none);
  CHECK(s.response.session_id == invalid_session_id);
  CHECK(manager.cache().size() == 1);
}

TEST_CASE("getThrottledResponse of an incremental context keeps the session id and leaves the partitions unsent") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  const FetchSession& session = *manager.cache().get(id);
  Exchange e = begin_exchange(manager, request({id, 1}, {}), at(1_ms), news());
  e.context.throttled_response(e.response, 100);
  CHECK(e.response.partitions.empty());
  CHECK(e.response.throttle_time_ms == 100);
  CHECK(e.response.error == Errc::none);
  CHECK(e.response.session_id == id);
  // newContext moved the epoch on (the client's next request is epoch 2), but nothing was sent, so nothing is
  // remembered as sent and the order is as before.
  CHECK(session.epoch() == 2);
  CHECK(session.cached(p2)->high_watermark == 7);
  CHECK(session.partition_order() == std::vector<PartitionRef>{p0, p1, p2});
  // The next incremental fetch, reading the same, sends p1's records and p2's new HW.
  const Exchange next = exchange(manager, request({id, 2}, {}), at(2_ms), news());
  CHECK(next.response.error == Errc::none);
  CHECK(next.response.session_id == id);
  CHECK(refs(next.response) == std::vector<PartitionRef>{p1, p2});
  CHECK(next.response.throttle_time_ms == 0);
}

TEST_CASE("getThrottledResponse of an incremental context whose epoch moved: INVALID_FETCH_SESSION_EPOCH with the "
          "session id") {
  // IncrementalFetchContext.getThrottledResponse: FetchResponse.of(INVALID_FETCH_SESSION_EPOCH, throttleTimeMs,
  // session.id(), empty), as updateAndGenerateResponseData does for the same case.
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  Exchange parked = begin_exchange(manager, request({id, 1}, {}), at(1_ms), news());
  exchange(manager, request({id, 2}, {}), at(2_ms), {data(p0, 5), data(p1, 6), data(p2, 7)});
  parked.context.throttled_response(parked.response, 30);
  CHECK(parked.response.partitions.empty());
  CHECK(parked.response.throttle_time_ms == 30);
  CHECK(parked.response.error == Errc::invalid_fetch_session_epoch);
  CHECK(parked.response.session_id == id);
}

// ---- ReplicaManager with a ConsumerFetchQuota ----

namespace {

// A scripted ConsumerFetchQuota that records what it is asked.
struct FakeQuota final : ConsumerFetchQuota {
  struct Call {
    NodeId client = -1;
    int32_t max_bytes = 0;
    int32_t min_bytes = 0;
    int64_t response_bytes = 0;
    SimTime now;
  };
  std::optional<int64_t> cap;
  int32_t throttle = 0;
  mutable std::vector<NodeId> cap_asked;
  std::vector<Call> calls;

  std::optional<int64_t> max_fetch_bytes(NodeId client) const override {
    cap_asked.push_back(client);
    return cap;
  }
  int32_t throttle_ms(const FetchRequest& read, int64_t bytes, SimTime now) override {
    calls.push_back(Call{read.client_id, read.max_bytes, read.min_bytes, bytes, now});
    return throttle;
  }
};

BrokerConfig broker_1() {
  BrokerConfig c;
  c.broker_id = 1;
  c.min_insync_replicas = 1;
  return c;
}

// Broker 1 leading `refs` with ISR {1} (every append commits at once) and replicas {1, 2}, with the fake quota.
struct QuotaLeader : test::LeaderBroker {
  FakeQuota quota;
  explicit QuotaLeader(const std::vector<PartitionRef>& refs) : LeaderBroker(broker_1(), refs, {1}, {1, 2}) {
    rm.set_consumer_fetch_quota(&quota);
  }
  // A 1000-byte batch of 10 records, acks=1.
  void produce(PartitionRef ref, SimTime now) {
    rm.handle_produce(test::produce(1, {{ref, test::batch(10, 1000)}}), now, out);
  }
};

}  // namespace

TEST_CASE("ReplicaManager: the quota's max value in the window clamps a consumer fetch's max and min bytes") {
  // Three 1000-byte batches (offsets 0, 10, 20) in tp, HW 30.
  QuotaLeader b({tp});
  for (int i = 0; i < 3; ++i) b.produce(tp, at(1_ms));
  REQUIRE(b.rm.partition(tp)->high_watermark() == 30);

  SUBCASE("no cap: the whole 3000 bytes") {
    const FetchResponse r = b.fetch(consumer_fetch({tp}, 0), at(2_ms));
    CHECK(r.partitions.at(0).slice.bytes == 3000);
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].max_bytes == 52'428'800);  // the request's fetch.max.bytes (below the broker's 55 MiB)
  }
  SUBCASE("a 2500-byte cap: two whole batches in a 2500-byte slice") {
    b.quota.cap = 2500;
    const FetchResponse r = b.fetch(consumer_fetch({tp}, 0), at(2_ms));
    CHECK(b.quota.cap_asked == std::vector<NodeId>{consumer_client});
    CHECK(base_offsets(r.partitions.at(0)) == std::vector<int64_t>{0, 10});
    CHECK(r.partitions.at(0).slice.bytes == 2500);
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].max_bytes == 2500);
  }
  SUBCASE("a cap above the request's max bytes leaves the request's") {
    b.quota.cap = 10'000'000;
    FetchRequest req = consumer_fetch({tp}, 0);
    req.max_bytes = 1500;
    const FetchResponse r = b.fetch(req, at(2_ms));
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].max_bytes == 1500);
    CHECK(r.partitions.at(0).slice.bytes == 1500);  // the first batch whole and 500 bytes of the second
  }
  SUBCASE("min bytes 5000 is clamped to the 2500-byte cap: 3000 readable bytes answer at once") {
    b.quota.cap = 2500;
    b.out.clear();
    b.rm.handle_fetch(consumer_fetch({tp}, 0, 5000, 500_ms), at(2_ms), b.out);
    CHECK(b.rm.delayed_fetch_count() == 0);
    REQUIRE(b.out.fetch_responses.size() == 1);
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].min_bytes == 2500);
  }
}

TEST_CASE("ReplicaManager: follower fetches are exempt from client quotas") {
  QuotaLeader b({tp});
  for (int i = 0; i < 3; ++i) b.produce(tp, at(1_ms));
  b.quota.cap = 100;
  b.quota.throttle = 500;
  FetchRequest follower;
  follower.client_id = 2;
  follower.replica_id = 2;
  follower.max_wait = 0_ms;
  follower.max_bytes = 10'485'760;
  FetchPartitionRequest p;
  p.partition = tp;
  p.fetch_offset = 0;
  p.log_start_offset = 0;
  follower.partitions.push_back(p);
  const FetchResponse r = b.fetch(follower, at(2_ms));
  CHECK(b.quota.cap_asked.empty());
  CHECK(b.quota.calls.empty());
  CHECK(r.throttle_time_ms == 0);
  REQUIRE(r.partitions.size() == 1);
  CHECK(base_offsets(r.partitions[0]) == std::vector<int64_t>{0, 10, 20});
  CHECK(r.partitions[0].slice.bytes == 3000);
}

TEST_CASE("ReplicaManager: a throttled consumer fetch gets an empty response with the throttle; the quota sees the "
          "size the unthrottled response has") {
  QuotaLeader b({tp});
  for (int i = 0; i < 3; ++i) b.produce(tp, at(1_ms));
  // A full fetch (epoch 0) of tp from 0: unthrottled it would be 14 + 48 + 3000 = 3062 bytes.
  const FetchRequest full = consumer_fetch({tp}, 0, 1, 0_ms, {0, 0});

  b.quota.throttle = 250;
  const FetchResponse throttled = b.fetch(full, at(2_ms));
  CHECK(throttled.partitions.empty());
  CHECK(throttled.throttle_time_ms == 250);
  CHECK(throttled.error == Errc::none);
  CHECK(throttled.session_id == invalid_session_id);
  CHECK(b.rm.fetch_sessions().size() == 0);  // no session was created
  REQUIRE(b.quota.calls.size() == 1);
  CHECK(b.quota.calls[0].client == consumer_client);
  CHECK(b.quota.calls[0].response_bytes == response_bytes({3000}));
  CHECK(b.quota.calls[0].now == at(2_ms));

  b.quota.throttle = 0;
  const FetchResponse unthrottled = b.fetch(full, at(3_ms));
  CHECK(unthrottled.throttle_time_ms == 0);
  REQUIRE(unthrottled.partitions.size() == 1);
  CHECK(base_offsets(unthrottled.partitions[0]) == std::vector<int64_t>{0, 10, 20});
  CHECK(unthrottled.session_id != invalid_session_id);
  REQUIRE(b.quota.calls.size() == 2);
  CHECK(b.quota.calls[1].response_bytes == wire_size_bytes(unthrottled));
  CHECK(b.quota.calls[1].response_bytes == response_bytes({3000}));
}

TEST_CASE("ReplicaManager: a throttled incremental consumer fetch leaves its session as it was") {
  QuotaLeader b({tp, tp1});
  for (int i = 0; i < 3; ++i) {
    b.produce(tp, at(1_ms));
    b.produce(tp1, at(1_ms));
  }
  // Full fetch of both from 0: 6000 bytes of records, a session.
  const FetchResponse first = b.fetch(consumer_fetch({tp, tp1}, 0, 1, 0_ms, {0, 0}), at(2_ms));
  REQUIRE(first.partitions.size() == 2);
  const int32_t id = first.session_id;
  REQUIRE(id != invalid_session_id);
  CHECK(b.quota.calls.back().response_bytes == response_bytes({3000, 3000}));
  // A fourth batch in tp (offset 30, HW 40). The consumer moves both positions to 30: tp has 1000 new bytes; tp1
  // has neither records nor a new HW (30, as last sent), so the incremental response would hold tp alone.
  b.produce(tp, at(3_ms));
  b.quota.throttle = 400;
  const FetchResponse throttled = b.fetch(consumer_fetch({tp, tp1}, 30, 1, 0_ms, {id, 1}), at(4_ms));
  CHECK(throttled.partitions.empty());
  CHECK(throttled.throttle_time_ms == 400);
  CHECK(throttled.error == Errc::none);
  CHECK(throttled.session_id == id);
  CHECK(b.quota.calls.back().response_bytes == response_bytes({1000}));
  // tp's HW 40 was not remembered as sent.
  CHECK(b.rm.fetch_sessions().get(id)->cached(tp)->high_watermark == 30);

  // The next incremental fetch (epoch 2, positions unchanged so nothing listed) gets tp's batch at 30.
  b.quota.throttle = 0;
  const FetchResponse next = b.fetch(consumer_fetch({}, 0, 1, 0_ms, {id, 2}), at(405_ms));
  CHECK(next.error == Errc::none);
  CHECK(next.session_id == id);
  REQUIRE(next.partitions.size() == 1);
  CHECK(next.partitions[0].partition == tp);
  CHECK(base_offsets(next.partitions[0]) == std::vector<int64_t>{30});
  CHECK(next.partitions[0].high_watermark == 40);
  CHECK(b.quota.calls.back().response_bytes == response_bytes({1000}));
  CHECK(b.quota.calls.back().response_bytes == wire_size_bytes(next));
}

TEST_CASE("ReplicaManager: a parked consumer fetch asks the quota when it completes, not when it parks") {
  QuotaLeader b({tp});
  for (int i = 0; i < 3; ++i) b.produce(tp, at(1_ms));
  b.out.clear();
  b.rm.handle_fetch(consumer_fetch({tp}, 30, 1, 500_ms), at(5_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  CHECK(b.quota.calls.empty());

  SUBCASE("completed by an append at 50 ms, throttled") {
    b.quota.throttle = 70;
    b.produce(tp, at(50_ms));
    REQUIRE(b.out.fetch_responses.size() == 1);
    const FetchResponse& r = b.out.fetch_responses[0].response;
    CHECK(r.partitions.empty());
    CHECK(r.throttle_time_ms == 70);
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].now == at(50_ms));
    CHECK(b.quota.calls[0].response_bytes == response_bytes({1000}));
  }
  SUBCASE("expired at max_wait (505 ms), empty: the quota sees 14 + 48 bytes") {
    b.rm.on_wakeup(at(505_ms), b.out);
    REQUIRE(b.out.fetch_responses.size() == 1);
    REQUIRE(b.quota.calls.size() == 1);
    CHECK(b.quota.calls[0].now == at(505_ms));
    CHECK(b.quota.calls[0].response_bytes == response_bytes({0}));
    CHECK(b.out.fetch_responses[0].response.partitions.size() == 1);
  }
}
