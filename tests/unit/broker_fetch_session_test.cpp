// The broker side of KIP-227 fetch sessions: CachedPartition.maybeUpdateResponseData, FetchManager.newContext,
// FetchContext.updateAndGenerateResponseData, the sharded session cache and its eviction rules, and the
// ReplicaManager reading every session partition. Expectations follow from the rules quoted in
// include/kafkasim/kafka/broker/fetch_session.hpp (FetchSession.java, FetchContext.java, FetchManager.java,
// FetchSessionCacheShard.java), worked out by hand.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "broker_test_support.hpp"
#include "kafkasim/kafka/broker/fetch_session.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;
using sim::Duration;
using sim::SimTime;

namespace {

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr PartitionRef p2{0, 2};
constexpr PartitionRef p3{0, 3};

using test::at;
using test::data;
using test::Exchange;
using test::exchange;
using test::refs;

// A follower's (replica 2's) partition state: it reports its log start offset.
FetchPartitionRequest want(PartitionRef p, int64_t offset) {
  FetchPartitionRequest r;
  r.partition = p;
  r.fetch_offset = offset;
  r.log_start_offset = 0;
  return r;
}

// A fetch from follower 2.
FetchRequest request(FetchMetadata metadata, std::vector<FetchPartitionRequest> partitions,
                     std::vector<PartitionRef> forgotten = {}) {
  FetchRequest r;
  r.correlation_id = 9;
  r.client_id = 2;
  r.replica_id = 2;
  r.session_id = metadata.session_id;
  r.session_epoch = metadata.epoch;
  r.partitions = std::move(partitions);
  r.forgotten = std::move(forgotten);
  return r;
}

std::vector<PartitionRef> refs(const std::vector<FetchPartitionRequest>& r) {
  std::vector<PartitionRef> v;
  for (const FetchPartitionRequest& p : r) v.push_back(p.partition);
  return v;
}

// A session over p0, p1, p2 created by a full fetch at t = 0 with HW 5, 6, 7; returns its id.
int32_t open_session(FetchManager& manager) {
  const auto e = exchange(manager, request({0, 0}, {want(p0, 5), want(p1, 6), want(p2, 7)}), at(0_ms),
                          {data(p0, 5), data(p1, 6), data(p2, 7)});
  REQUIRE(e.context.kind() == FetchContext::Kind::full);
  REQUIRE(e.response.session_id != invalid_session_id);
  CHECK(refs(e.response) == std::vector<PartitionRef>{p0, p1, p2});  // a full response lists everything
  return e.response.session_id;
}

}  // namespace

TEST_CASE("maybeUpdateResponseData: what makes a cached partition part of an incremental response") {
  CachedPartition c{want(p0, 5), 5, 0};
  CHECK_FALSE(c.maybe_update_response_data(data(p0, 5), true));       // nothing new
  CHECK(c.maybe_update_response_data(data(p0, 5, 100), true));        // records
  CHECK(c.maybe_update_response_data(data(p0, 6), true));             // HW moved...
  CHECK(c.high_watermark == 6);                                        // ...and is remembered
  CHECK_FALSE(c.maybe_update_response_data(data(p0, 6), true));
  CHECK(c.maybe_update_response_data(data(p0, 6, 0, 3), true));       // log start offset moved
  CHECK_FALSE(c.maybe_update_response_data(data(p0, 6, 0, 3), true));
  FetchPartitionResponse diverged = data(p0, 6, 0, 3);
  diverged.diverging_epoch = EpochEndOffset{2, 4};
  CHECK(c.maybe_update_response_data(diverged, true));
  // Without `update`, nothing is remembered (getResponseSize's dry run).
  CHECK(c.maybe_update_response_data(data(p0, 9, 0, 3), false));
  CHECK(c.high_watermark == 6);
  // An error is always sent and resets the cached HW to -1, so the first good answer after it is sent too.
  FetchPartitionResponse failed = data(p0, -1, 0, 3);
  failed.error = Errc::not_leader_or_follower;
  CHECK(c.maybe_update_response_data(failed, true));
  CHECK(c.high_watermark == -1);
  CHECK(c.maybe_update_response_data(data(p0, 6, 0, 3), true));
}

TEST_CASE("newContext: full, incremental, and the session errors 70 and 71") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  const FetchSession* s = manager.cache().get(id).get();
  REQUIRE(s != nullptr);
  CHECK(s->epoch() == 1);  // a new session starts at epoch 1
  CHECK(s->privileged());  // created by a follower

  // Incremental at epoch 1: accepted, the session moves to epoch 2; nothing changed, so the response is empty.
  auto e = exchange(manager, request({id, 1}, {}), at(1_ms), {data(p0, 5), data(p1, 6), data(p2, 7)});
  CHECK(e.context.kind() == FetchContext::Kind::incremental);
  CHECK(refs(e.read) == std::vector<PartitionRef>{p0, p1, p2});  // the broker still reads every partition
  CHECK(e.response.partitions.empty());
  CHECK(e.response.error == Errc::none);
  CHECK(e.response.session_id == id);
  CHECK(s->epoch() == 2);

  // A repeated epoch-1 request: INVALID_FETCH_SESSION_EPOCH, no partition read, no session id.
  e = exchange(manager, request({id, 1}, {}), at(2_ms), {});
  CHECK(e.context.kind() == FetchContext::Kind::session_error);
  CHECK(e.response.error == Errc::invalid_fetch_session_epoch);
  CHECK(e.response.session_id == invalid_session_id);
  CHECK(s->epoch() == 2);

  // An unknown session id: FETCH_SESSION_ID_NOT_FOUND.
  e = exchange(manager, request({id + 1, 1}, {}), at(3_ms), {});
  CHECK(e.response.error == Errc::fetch_session_id_not_found);

  // (id, -1): the session is closed and the fetch is sessionless (no new session).
  e = exchange(manager, request({id, -1}, {want(p0, 5)}), at(4_ms), {data(p0, 5)});
  CHECK(e.context.kind() == FetchContext::Kind::sessionless);
  CHECK(e.response.session_id == invalid_session_id);
  CHECK(manager.cache().get(id) == nullptr);
  CHECK(manager.cache().size() == 0);
}

TEST_CASE("a full fetch naming an old session closes it and opens a new one") {
  FetchManager manager(1000);
  const int32_t old_id = open_session(manager);
  const auto e = exchange(manager, request({old_id, 0}, {want(p0, 9)}), at(5_ms), {data(p0, 9)});
  CHECK(e.context.kind() == FetchContext::Kind::full);
  CHECK(manager.cache().get(old_id) == nullptr);
  CHECK(e.response.session_id != invalid_session_id);
  CHECK(e.response.session_id != old_id);
  CHECK(manager.cache().size() == 1);
  CHECK(manager.cache().total_partitions() == 1);
}

TEST_CASE("an incremental response holds exactly the partitions with something new") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  // p1 has 300 bytes of records, p2's HW moved from 7 to 8, p0 is as last sent.
  const auto e = exchange(manager, request({id, 1}, {}), at(1_ms), {data(p0, 5), data(p1, 6, 300), data(p2, 8)});
  CHECK(refs(e.response) == std::vector<PartitionRef>{p1, p2});
  CHECK(e.response.partitions[0].slice.bytes == 300);
  CHECK(e.response.partitions[1].high_watermark == 8);
  // Sent once, p2's HW 8 is not sent again; an error on p0 is.
  FetchPartitionResponse failed = data(p0, -1);
  failed.error = Errc::unknown_leader_epoch;
  // The session order is now p0, p2, p1 (p1 returned records).
  const auto next = exchange(manager, request({id, 2}, {}), at(2_ms), {failed, data(p2, 8), data(p1, 6)});
  CHECK(refs(next.response) == std::vector<PartitionRef>{p0});
}

TEST_CASE("only partitions that returned records move to the end of the session order (KAFKA-12330)") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  const FetchSession& s = *manager.cache().get(id);
  // p0 returns records, p1 only a new HW: p0 goes last, p1 stays where it is.
  exchange(manager, request({id, 1}, {}), at(1_ms), {data(p0, 5, 100), data(p1, 9), data(p2, 7)});
  CHECK(s.partition_order() == std::vector<PartitionRef>{p1, p2, p0});
  // The next fetch reads in that order, so under fetch.max.bytes p1 and p2 come before p0.
  const auto e = exchange(manager, request({id, 2}, {}), at(2_ms), {data(p1, 9), data(p2, 7, 50), data(p0, 5)});
  CHECK(refs(e.read) == std::vector<PartitionRef>{p1, p2, p0});
  CHECK(s.partition_order() == std::vector<PartitionRef>{p1, p0, p2});
}

TEST_CASE("incremental requests add, update and forget session partitions; an emptied session closes") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  const FetchSession& s = *manager.cache().get(id);
  // p1 at a new offset, p3 new, p0 forgotten.
  auto e = exchange(manager, request({id, 1}, {want(p1, 16), want(p3, 0)}, {p0}), at(1_ms),
                    {data(p1, 6), data(p2, 7), data(p3, 0)});
  CHECK(s.partition_order() == std::vector<PartitionRef>{p1, p2, p3});
  CHECK(s.cached(p1)->request.fetch_offset == 16);
  CHECK(s.cached(p0) == nullptr);
  // p3 is new to the session: its HW was never sent, so it is in the response although nothing happened.
  CHECK(refs(e.response) == std::vector<PartitionRef>{p3});
  CHECK(manager.cache().total_partitions() == 3);

  // Forgetting everything: the session is removed and this fetch reads only what it lists (nothing).
  const FetchRequest last = request({id, 2}, {}, {p1, p2, p3});
  CHECK(manager.partitions_to_read_count(last) == 0);
  e = exchange(manager, last, at(2_ms), {});
  CHECK(e.context.kind() == FetchContext::Kind::sessionless);
  CHECK(e.response.session_id == invalid_session_id);
  CHECK(manager.cache().size() == 0);
}

TEST_CASE("partitions_to_read_count predicts what newContext will read, without changing the session") {
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  CHECK(manager.partitions_to_read_count(request({0, 0}, {want(p0, 0), want(p1, 0)})) == 2);  // full
  CHECK(manager.partitions_to_read_count(request({id, 1}, {})) == 3);                          // the session
  CHECK(manager.partitions_to_read_count(request({id, 1}, {want(p3, 0)}, {p0, p1})) == 2);     // 3 + 1 - 2
  CHECK(manager.partitions_to_read_count(request({id, 2}, {})) == 0);                          // wrong epoch
  CHECK(manager.partitions_to_read_count(request({id + 7, 1}, {})) == 0);                      // unknown id
  CHECK(manager.cache().get(id)->epoch() == 1);
  CHECK(manager.cache().get(id)->size() == 3);
}

TEST_CASE("a response generated after another request of the session arrived is INVALID_FETCH_SESSION_EPOCH") {
  // A fetch parked in the purgatory while a duplicate request (the same epoch moved on) was handled.
  FetchManager manager(1000);
  const int32_t id = open_session(manager);
  const FetchRequest first = request({id, 1}, {});
  FetchContext parked = manager.new_context(first, true, at(1_ms));
  std::vector<FetchPartitionRequest> read;
  parked.partitions_to_read(first, read);
  exchange(manager, request({id, 2}, {}), at(2_ms), {data(p0, 5), data(p1, 6), data(p2, 7)});
  FetchResponse late{first.correlation_id, {data(p0, 5, 10), data(p1, 6), data(p2, 7)}};
  parked.update_and_generate_response_data(late, read, manager.cache(), at(3_ms));
  CHECK(late.error == Errc::invalid_fetch_session_epoch);
  CHECK(late.session_id == id);
  CHECK(late.partitions.empty());
}

TEST_CASE("the cache: 8 shards, round-robin placement, ids carry their shard") {
  FetchSessionCache cache(1000);
  REQUIRE(cache.shards().size() == 8);
  const int32_t range = INT32_MAX / 8;  // 268435455
  std::vector<int32_t> ids;
  for (int i = 0; i < 9; ++i) {
    ids.push_back(cache.next_shard().maybe_create_session(at(0_ms), false, 1, [] {
      return std::vector<CachedPartition>{CachedPartition{want(p0, 0), 0, 0}};
    }));
  }
  // Shard i hands out ids from max(1, i * range): the first nine sessions go to shards 0..7, then 0 again.
  CHECK(ids[0] == 1);
  CHECK(ids[1] == range);
  CHECK(ids[7] == 7 * range);
  CHECK(ids[8] == 2);
  for (int32_t id : ids) CHECK(&cache.shard_of(id) == &cache.shards()[static_cast<std::size_t>(id / range)]);
  CHECK(cache.size() == 9);
  CHECK(cache.total_partitions() == 9);
}

TEST_CASE("eviction within a full shard: privileged over consumers, stale after 120 s, bigger over smaller") {
  const auto partitions = [](int n) {
    return [n] {
      std::vector<CachedPartition> v;
      for (int i = 0; i < n; ++i) v.push_back(CachedPartition{want(PartitionRef{0, i}, 0), 0, 0});
      return v;
    };
  };
  // One slot, eviction after 120 s (MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS).
  const auto shard = [] { return FetchSessionCacheShard(1, 120_s, INT32_MAX / 8, 0); };

  SUBCASE("a follower session evicts a young consumer session at once") {
    auto s = shard();
    const int32_t consumer = s.maybe_create_session(at(0_s), false, 5, partitions(5));
    const int32_t follower = s.maybe_create_session(at(1_s), true, 2, partitions(2));
    CHECK(follower != invalid_session_id);
    CHECK(s.get(consumer) == nullptr);
    CHECK(s.evictions() == 1);
  }
  SUBCASE("a consumer cannot evict a young session, not even a smaller consumer one") {
    auto s = shard();
    const int32_t first = s.maybe_create_session(at(0_s), false, 2, partitions(2));
    CHECK(s.maybe_create_session(at(1_s), false, 50, partitions(50)) == invalid_session_id);
    CHECK(s.get(first) != nullptr);
  }
  SUBCASE("a follower cannot evict another young follower session") {
    auto s = shard();
    s.maybe_create_session(at(0_s), true, 2, partitions(2));
    CHECK(s.maybe_create_session(at(1_s), true, 50, partitions(50)) == invalid_session_id);
  }
  SUBCASE("a session unused for more than 120 s is evicted by anyone") {
    auto s = shard();
    const int32_t old = s.maybe_create_session(at(0_s), true, 9, partitions(9));
    CHECK(s.maybe_create_session(at(120_s), false, 1, partitions(1)) == invalid_session_id);  // exactly 120 s: not yet
    CHECK(s.maybe_create_session(at(120_s) + 1_ms, false, 1, partitions(1)) != invalid_session_id);
    CHECK(s.get(old) == nullptr);
  }
  SUBCASE("once older than 120 s but still in use, a session is evicted only for a bigger one") {
    auto s = shard();
    const int32_t old = s.maybe_create_session(at(0_s), false, 5, partitions(5));
    s.touch(*s.get(old), at(200_s));  // used recently, so not stale; created 200 s ago, so evictable by all
    CHECK(s.maybe_create_session(at(201_s), false, 4, partitions(4)) == invalid_session_id);  // (false,4) < (false,5)
    CHECK(s.maybe_create_session(at(201_s), false, 6, partitions(6)) != invalid_session_id);  // (false,6) > (false,5)
    CHECK(s.get(old) == nullptr);
  }
}

TEST_CASE("the default cache holds 125 sessions a shard; the 126th consumer session of a shard gets none") {
  FetchSessionCache cache(1000);
  int created = 0;
  for (int i = 0; i < 126 * 8; ++i) {
    const int32_t id = cache.next_shard().maybe_create_session(at(0_ms), false, 1, [] {
      return std::vector<CachedPartition>{CachedPartition{want(p0, 0), 0, 0}};
    });
    if (id != invalid_session_id) ++created;
  }
  CHECK(created == 1000);
  CHECK(cache.size() == 1000);
}

namespace {

BrokerConfig broker_1() {
  BrokerConfig c;
  c.broker_id = 1;
  return c;
}

// A leader (broker 1) of p0..p2, ISR {1, 2}, follower 2, min ISR 1.
struct SessionLeader : test::LeaderBroker {
  SessionLeader() : LeaderBroker(broker_1(), {p0, p1, p2}, {1, 2}, {1, 2}) {}
};

// `records` records of 100 bytes each to `ref`, acks=1.
ProduceRequest produce_to(PartitionRef ref, int32_t records) {
  return test::produce(1, {{ref, test::batch(records, 100 * records)}});
}

}  // namespace

TEST_CASE("ReplicaManager: an incremental follower fetch reads every session partition but answers only news") {
  SessionLeader b;
  // Full fetch (0, 0) of p0..p2 at offset 0, no wait: a response for all three and a new session.
  const FetchResponse first = b.fetch(request({0, 0}, {want(p0, 0), want(p1, 0), want(p2, 0)}), at(1_ms));
  CHECK(refs(first) == std::vector<PartitionRef>{p0, p1, p2});
  const int32_t id = first.session_id;
  REQUIRE(id != invalid_session_id);
  CHECK(b.rm.fetch_sessions().size() == 1);

  // Three records land on p1 (LEO 3; the HW waits for follower 2).
  b.rm.handle_produce(produce_to(p1, 3), at(2_ms), b.out);
  // Incremental fetch listing nothing: p1 alone comes back, with its records.
  const FetchResponse second = b.fetch(request({id, 1}, {}), at(3_ms));
  REQUIRE(refs(second) == std::vector<PartitionRef>{p1});
  CHECK(second.partitions[0].batches.size() == 1);
  CHECK(second.session_id == id);
  // The leader read p0 and p2 too: follower 2's fetch time is now 3 ms on every partition, though only p1 was
  // in the response and none was in the request.
  for (PartitionRef ref : {p0, p1, p2}) CHECK(b.rm.partition(ref)->follower_state(2)->last_fetch_time == at(3_ms));

  // The follower appended offsets 0..2 and lists only p1 at its new offset: the HW moves to 3, but the response
  // is built from the read before that (§3.3), so nothing is new yet...
  const FetchResponse third = b.fetch(request({id, 2}, {want(p1, 3)}), at(4_ms));
  CHECK(b.rm.partition(p1)->high_watermark() == 3);
  CHECK(third.partitions.empty());
  // ...and the following fetch carries p1's new HW alone.
  const FetchResponse fourth = b.fetch(request({id, 3}, {}), at(5_ms));
  REQUIRE(refs(fourth) == std::vector<PartitionRef>{p1});
  CHECK(fourth.partitions[0].high_watermark == 3);
  CHECK(fourth.partitions[0].batches.empty());
  // p1 returned records in the second fetch, so it now comes last in the session order.
  CHECK(b.rm.fetch_sessions().get(id)->partition_order() == std::vector<PartitionRef>{p0, p2, p1});
}

TEST_CASE("ReplicaManager: a parked incremental fetch completes with only the partition that got data") {
  SessionLeader b;
  const int32_t id = b.fetch(request({0, 0}, {want(p0, 0), want(p1, 0), want(p2, 0)}), at(1_ms)).session_id;
  FetchRequest parked = request({id, 1}, {});
  parked.max_wait = 500_ms;
  b.out.clear();
  b.rm.handle_fetch(parked, at(2_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  CHECK(b.rm.delayed_fetch_count() == 1);
  // An append to p2 completes it (a follower fetch is satisfied by new bytes up to the LEO).
  b.rm.handle_produce(produce_to(p2, 2), at(10_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  const FetchResponse& r = b.out.fetch_responses[0].response;
  CHECK(refs(r) == std::vector<PartitionRef>{p2});
  CHECK(r.session_id == id);

  // A session error answers at once, with no partition and nothing parked.
  b.out.clear();
  FetchRequest wrong = request({id, 1}, {});
  wrong.max_wait = 500_ms;
  b.rm.handle_fetch(wrong, at(11_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  CHECK(b.out.fetch_responses[0].response.error == Errc::invalid_fetch_session_epoch);
  CHECK(b.rm.delayed_fetch_count() == 0);
}

TEST_CASE("ReplicaManager: a consumer gets an unprivileged session; sessionless requests create none") {
  SessionLeader b;
  FetchRequest consumer = request({0, 0}, {want(p0, 0)});
  consumer.client_id = 200;
  consumer.replica_id = consumer_replica_id;
  const FetchResponse r = b.fetch(consumer, at(1_ms));
  REQUIRE(r.session_id != invalid_session_id);
  CHECK_FALSE(b.rm.fetch_sessions().get(r.session_id)->privileged());
  FetchRequest legacy = consumer;
  legacy.session_id = invalid_session_id;
  legacy.session_epoch = final_session_epoch;
  CHECK(b.fetch(legacy, at(2_ms)).session_id == invalid_session_id);
  CHECK(b.rm.fetch_sessions().size() == 1);
}
