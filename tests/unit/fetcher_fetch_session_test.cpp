// The replica fetcher's incremental fetch session with its leader (KIP-227; RemoteLeaderEndPoint.buildFetch /
// fetch with FetchSessionHandler, AbstractFetcherThread.processFetchRequest). Expected requests are worked out
// from the session rules: after a full fetch answered with a session id, a request lists only partitions whose
// fetch state changed and forgets those not ready; a partition absent from an incremental response is not
// processed; a rejected response or a failed request makes the next request full.
#include <doctest/doctest.h>

#include <variant>
#include <vector>

#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

constexpr NodeId follower_id = 2;
constexpr NodeId leader_id = 1;
constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr int32_t session = 77;

sim::SimTime at_ms(int64_t ms) { return sim::SimTime::zero() + sim::Duration::from_ms(ms); }

InitialFetchState following(PartitionRef p, int64_t leo) {
  InitialFetchState s;
  s.partition = p;
  s.current_leader_epoch = 5;
  s.log_end_offset = leo;
  s.log_start_offset = 0;
  s.leader_epochs = {{5, 0}};
  s.init_offset = leo;
  return s;
}

RecordBatch batch(int64_t base, int32_t count) {
  RecordBatch b;
  b.base_offset = base;
  b.record_count = count;
  b.size_bytes = 100 * count;
  b.partition_leader_epoch = 5;
  return b;
}

FetchPartitionResponse data(PartitionRef p, std::vector<RecordBatch> batches, int64_t hw) {
  FetchPartitionResponse r;
  r.partition = p;
  r.high_watermark = hw;
  r.log_start_offset = 0;
  r.batches = std::move(batches);
  return r;
}

FetchResponse answer(const FetcherOutbox& out, std::vector<FetchPartitionResponse> partitions,
                     int32_t session_id = session) {
  FetchResponse r;
  r.correlation_id = out.fetches.at(0).request.correlation_id;
  r.partitions = std::move(partitions);
  r.session_id = session_id;
  return r;
}

std::vector<PartitionRef> listed(const FetchRequest& r) {
  std::vector<PartitionRef> v;
  for (const FetchPartitionRequest& p : r.partitions) v.push_back(p.partition);
  return v;
}

// A fetcher following p0 (LEO 10) and p1 (LEO 0) whose first, full fetch was answered with session 77 and no
// data; `out` holds nothing.
struct Established {
  ReplicaFetcher fetcher{ReplicaFetcherConfig{}, follower_id, leader_id, 0};
  FetcherOutbox out;
  Established() {
    const InitialFetchState initial[] = {following(p0, 10), following(p1, 0)};
    fetcher.add_partitions(initial, at_ms(0));
    fetcher.poll(at_ms(0), out);
    REQUIRE(out.fetches.size() == 1);
    const FetchRequest& full = out.fetches[0].request;
    CHECK(full.metadata() == FetchMetadata{0, 0});  // a new handler asks for a session
    CHECK(listed(full) == std::vector<PartitionRef>{p0, p1});
    const FetchResponse r = answer(out, {data(p0, {}, 10), data(p1, {}, 0)});
    out.clear();
    REQUIRE(fetcher.on_fetch_response(r, at_ms(1), out) == ResponseDisposition::processed);
    CHECK(fetcher.session().next_metadata() == FetchMetadata{session, 1});
    out.clear();
  }
};

}  // namespace

TEST_CASE("after the full fetch, requests list only changed partitions; absent ones are left alone") {
  Established e;
  // Nothing changed: an incremental request with no partition.
  e.fetcher.poll(at_ms(1), e.out);
  REQUIRE(e.out.fetches.size() == 1);
  CHECK(e.out.fetches[0].request.metadata() == FetchMetadata{session, 1});
  CHECK(e.out.fetches[0].request.partitions.empty());
  CHECK(e.out.fetches[0].request.forgotten.empty());

  // The leader answers with p0's records 10..14 only.
  FetchResponse r = answer(e.out, {data(p0, {batch(10, 5)}, 12)});
  e.out.clear();
  e.fetcher.on_fetch_response(r, at_ms(5), e.out);
  REQUIRE(e.out.local.size() == 1);  // nothing at all for p1
  CHECK(std::get<FollowerAppend>(e.out.local[0]).partition == p0);
  CHECK(e.fetcher.fetch_state(p0)->fetch_offset == 15);
  e.out.clear();

  // p0's fetch offset and last fetched epoch changed, so only p0 is listed, at 15.
  e.fetcher.poll(at_ms(5), e.out);
  const FetchRequest& next = e.out.fetches.at(0).request;
  CHECK(next.metadata() == FetchMetadata{session, 2});
  REQUIRE(listed(next) == std::vector<PartitionRef>{p0});
  CHECK(next.partitions[0].fetch_offset == 15);
  CHECK(next.partitions[0].last_fetched_epoch == 5);

  // An answer with p1's new HW alone: one empty append for p1, p0 untouched.
  r = answer(e.out, {data(p1, {}, 3)});
  e.out.clear();
  e.fetcher.on_fetch_response(r, at_ms(9), e.out);
  REQUIRE(e.out.local.size() == 1);
  const auto& append = std::get<FollowerAppend>(e.out.local[0]);
  CHECK(append.partition == p1);
  CHECK(append.batches.empty());
  CHECK(append.leader_high_watermark == 3);
  CHECK(e.fetcher.fetch_state(p0)->fetch_offset == 15);
  e.fetcher.check_invariants();
}

TEST_CASE("a partition in backoff is forgotten, and listed again when it is ready") {
  Established e;
  e.fetcher.poll(at_ms(1), e.out);
  FetchPartitionResponse failed;
  failed.partition = p1;
  failed.error = Errc::not_leader_or_follower;
  const FetchResponse r = answer(e.out, {failed});
  e.out.clear();
  e.fetcher.on_fetch_response(r, at_ms(2), e.out);
  CHECK(e.fetcher.fetch_state(p1)->delayed_until == at_ms(1002));  // replica.fetch.backoff.ms = 1000

  e.fetcher.poll(at_ms(2), e.out);
  const FetchRequest& forget = e.out.fetches.at(0).request;
  CHECK(forget.metadata() == FetchMetadata{session, 2});
  CHECK(forget.partitions.empty());
  CHECK(forget.forgotten == std::vector<PartitionRef>{p1});
  CHECK(e.fetcher.session().session_partitions() == std::vector<PartitionRef>{p0});

  // An empty answer at the end of the long poll, then at 1002 ms p1 is back in the request.
  FetchResponse empty = answer(e.out, {});
  e.out.clear();
  e.fetcher.on_fetch_response(empty, at_ms(502), e.out);
  e.fetcher.poll(at_ms(502), e.out);
  CHECK(e.out.fetches.at(0).request.partitions.empty());
  empty = answer(e.out, {});
  e.out.clear();
  e.fetcher.on_fetch_response(empty, at_ms(1002), e.out);
  e.fetcher.poll(at_ms(1002), e.out);
  const FetchRequest& back = e.out.fetches.at(0).request;
  CHECK(back.metadata() == FetchMetadata{session, 4});
  REQUIRE(listed(back) == std::vector<PartitionRef>{p1});
  CHECK(back.partitions[0].fetch_offset == 0);
}

TEST_CASE("a session error drops the response untouched and the next fetch is full") {
  Established e;
  e.fetcher.poll(at_ms(1), e.out);
  FetchResponse r = answer(e.out, {}, invalid_session_id);
  SUBCASE("FETCH_SESSION_ID_NOT_FOUND: a new session from scratch") {
    r.error = Errc::fetch_session_id_not_found;
    e.out.clear();
    CHECK(e.fetcher.on_fetch_response(r, at_ms(2), e.out) == ResponseDisposition::processed);
    CHECK(e.out.local.empty());
    e.fetcher.poll(at_ms(2), e.out);  // no backoff: the loop goes on at once
    const FetchRequest& full = e.out.fetches.at(0).request;
    CHECK(full.metadata() == FetchMetadata{0, 0});
    CHECK(listed(full) == std::vector<PartitionRef>{p0, p1});
  }
  SUBCASE("INVALID_FETCH_SESSION_EPOCH: close the old session, ask for a new one") {
    r.error = Errc::invalid_fetch_session_epoch;
    e.out.clear();
    e.fetcher.on_fetch_response(r, at_ms(2), e.out);
    e.fetcher.poll(at_ms(2), e.out);
    const FetchRequest& full = e.out.fetches.at(0).request;
    CHECK(full.metadata() == FetchMetadata{session, 0});
    CHECK(listed(full) == std::vector<PartitionRef>{p0, p1});
  }
  CHECK(e.fetcher.fetch_state(p0)->fetch_offset == 10);
  CHECK(e.fetcher.fetch_state(p0)->delayed_until == at_ms(0));
}

TEST_CASE("a failed fetch: every partition backs off and the next fetch is full, closing the session") {
  Established e;
  e.fetcher.poll(at_ms(1), e.out);
  const uint64_t id = e.out.fetches.at(0).request.correlation_id;
  e.out.clear();
  e.fetcher.on_request_failed(id, at_ms(3));
  e.fetcher.poll(at_ms(3), e.out);
  CHECK(e.out.fetches.empty());  // everything is in backoff until 1003 ms, and the session was dropped already
  e.fetcher.poll(at_ms(1003), e.out);
  const FetchRequest& full = e.out.fetches.at(0).request;
  CHECK(full.metadata() == FetchMetadata{session, 0});
  CHECK(listed(full) == std::vector<PartitionRef>{p0, p1});
}

TEST_CASE("when no partition is ready, one request forgets the session's partitions, then the thread waits") {
  Established e;
  e.fetcher.poll(at_ms(1), e.out);
  FetchPartitionResponse f0, f1;
  f0.partition = p0;
  f0.error = Errc::unknown_leader_epoch;
  f1.partition = p1;
  f1.error = Errc::unknown_leader_epoch;
  FetchResponse r = answer(e.out, {f0, f1});
  e.out.clear();
  e.fetcher.on_fetch_response(r, at_ms(2), e.out);
  e.fetcher.poll(at_ms(2), e.out);
  const FetchRequest& forget = e.out.fetches.at(0).request;
  CHECK(forget.partitions.empty());
  CHECK(forget.forgotten == std::vector<PartitionRef>{p0, p1});
  // The leader closes the emptied session: an incremental answer with session id 0.
  r = answer(e.out, {}, invalid_session_id);
  e.out.clear();
  e.fetcher.on_fetch_response(r, at_ms(3), e.out);
  e.fetcher.poll(at_ms(3), e.out);
  CHECK(e.out.fetches.empty());
  CHECK(e.fetcher.next_wakeup() == at_ms(1003));  // replica.fetch.backoff.ms on the condition
  // The partitions' backoff ended at 1002 ms; the thread wakes at 1003 ms and starts a new session.
  e.fetcher.poll(at_ms(1003), e.out);
  const FetchRequest& full = e.out.fetches.at(0).request;
  CHECK(full.metadata() == FetchMetadata{0, 0});
  CHECK(listed(full) == std::vector<PartitionRef>{p0, p1});
}
