// The client side of KIP-227 fetch sessions (FetchSessionHandler, FetchMetadata). Every expected request and
// metadata below follows from the rules of KIP-227 and FetchSessionHandler.java as stated in
// include/kafkasim/kafka/fetch_session_handler.hpp: a session starts at epoch 1 after a full fetch, each
// incremental request moves it one epoch on (wrapping to 1), and an incremental request carries only the
// partitions that are new or changed plus the forgotten ones.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kafkasim/kafka/fetch_session_handler.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;

namespace {

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};
constexpr PartitionRef p2{0, 2};
constexpr PartitionRef p3{1, 0};
constexpr int32_t session = 123;

FetchPartitionRequest want(PartitionRef p, int64_t offset) {
  FetchPartitionRequest r;
  r.partition = p;
  r.fetch_offset = offset;
  r.current_leader_epoch = 4;
  r.last_fetched_epoch = 4;
  r.log_start_offset = 0;
  return r;
}

FetchResponse answer(std::vector<PartitionRef> partitions, int32_t session_id) {
  FetchResponse r;
  for (PartitionRef p : partitions) {
    FetchPartitionResponse d;
    d.partition = p;
    r.partitions.push_back(d);
  }
  r.session_id = session_id;
  return r;
}

std::vector<PartitionRef> refs(const std::vector<FetchPartitionRequest>& requests) {
  std::vector<PartitionRef> v;
  for (const FetchPartitionRequest& r : requests) v.push_back(r.partition);
  return v;
}

// A handler whose session `session` holds p0@10, p1@20, p2@30 and whose next request is incremental at epoch 1.
FetchSessionHandler established() {
  FetchSessionHandler h(1);
  const std::vector<FetchPartitionRequest> next{want(p0, 10), want(p1, 20), want(p2, 30)};
  h.build(next);
  REQUIRE(h.handle_response(answer({p0, p1, p2}, session)));
  REQUIRE(h.next_metadata() == FetchMetadata{session, 1});
  return h;
}

}  // namespace

TEST_CASE("FetchMetadata: epochs and what a request's (id, epoch) means") {
  CHECK(FetchMetadata::next_epoch(0) == 1);
  CHECK(FetchMetadata::next_epoch(1) == 2);
  CHECK(FetchMetadata::next_epoch(INT32_MAX) == 1);  // wraps to 1, never back to INITIAL_EPOCH
  CHECK(FetchMetadata::next_epoch(-1) == -1);        // FINAL stays FINAL
  CHECK(FetchMetadata{0, 0}.is_full());
  CHECK(FetchMetadata{0, -1}.is_full());
  CHECK(FetchMetadata{7, 0}.is_full());
  CHECK_FALSE(FetchMetadata{7, 3}.is_full());
  CHECK(FetchMetadata::new_incremental(7) == FetchMetadata{7, 1});
  CHECK(FetchMetadata{7, 3}.next_close_existing() == FetchMetadata{7, -1});
  CHECK(FetchMetadata{7, 3}.next_close_existing_attempt_new() == FetchMetadata{7, 0});
  // A request with no session fields is the schema default: a sessionless full fetch (0, -1).
  const FetchRequest legacy;
  CHECK(legacy.metadata() == FetchMetadata{0, -1});
}

TEST_CASE("the first fetch is full; a full response with a session id makes the next one incremental at epoch 1") {
  FetchSessionHandler h(1);
  const std::vector<FetchPartitionRequest> next{want(p0, 10), want(p1, 20)};
  const auto first = h.build(next);
  CHECK(first.metadata == FetchMetadata{0, 0});
  CHECK(refs(first.to_send) == std::vector<PartitionRef>{p0, p1});
  CHECK(first.to_forget.empty());
  CHECK(first.session_partition_count == 2);
  CHECK(h.handle_response(answer({p1, p0}, session)));  // any order, as long as exactly the session's partitions
  CHECK(h.next_metadata() == FetchMetadata{session, 1});

  // Nothing changed: an incremental request with no partition at all.
  const auto second = h.build(next);
  CHECK(second.metadata == FetchMetadata{session, 1});
  CHECK(second.to_send.empty());
  CHECK(second.to_forget.empty());
  CHECK(second.session_partition_count == 2);
  CHECK(h.handle_response(answer({}, session)));
  CHECK(h.next_metadata() == FetchMetadata{session, 2});
  const auto third = h.build(next);
  CHECK(third.metadata == FetchMetadata{session, 2});
}

TEST_CASE("a full response without a session id keeps every fetch full") {
  FetchSessionHandler h(1);
  const std::vector<FetchPartitionRequest> next{want(p0, 10)};
  h.build(next);
  CHECK(h.handle_response(answer({p0}, invalid_session_id)));
  CHECK(h.next_metadata() == FetchMetadata{0, 0});
  CHECK(refs(h.build(next).to_send) == std::vector<PartitionRef>{p0});
}

TEST_CASE("an incremental request sends exactly the partitions whose request data changed") {
  // Each field of FetchRequest.PartitionData.equals, changed alone on p1, puts p1 (only) in the request.
  const auto changed = [](auto&& mutate) {
    FetchSessionHandler h = established();
    FetchPartitionRequest p = want(p1, 20);
    mutate(p);
    const std::vector<FetchPartitionRequest> next{want(p0, 10), p, want(p2, 30)};
    const auto data = h.build(next);
    CHECK(data.metadata == FetchMetadata{session, 1});
    CHECK(data.to_forget.empty());
    return refs(data.to_send);
  };
  const std::vector<PartitionRef> only_p1{p1};
  CHECK(changed([](FetchPartitionRequest& p) { p.fetch_offset = 25; }) == only_p1);
  CHECK(changed([](FetchPartitionRequest& p) { p.log_start_offset = 5; }) == only_p1);
  CHECK(changed([](FetchPartitionRequest& p) { p.partition_max_bytes = 1000; }) == only_p1);
  CHECK(changed([](FetchPartitionRequest& p) { p.current_leader_epoch = 5; }) == only_p1);
  CHECK(changed([](FetchPartitionRequest& p) { p.last_fetched_epoch = 5; }) == only_p1);
  CHECK(changed([](FetchPartitionRequest&) {}).empty());
}

TEST_CASE("new partitions come first, then the altered ones in session order; unwanted ones are forgotten") {
  FetchSessionHandler h = established();
  // The caller lists p3 (new), p2 (altered), p0 (unchanged) and leaves p1 out.
  const std::vector<FetchPartitionRequest> next{want(p3, 0), want(p2, 31), want(p0, 10)};
  const auto data = h.build(next);
  CHECK(data.metadata == FetchMetadata{session, 1});
  CHECK(refs(data.to_send) == std::vector<PartitionRef>{p3, p2});
  CHECK(data.to_send[1].fetch_offset == 31);
  CHECK(data.to_forget == std::vector<PartitionRef>{p1});
  CHECK(data.session_partition_count == 3);
  // The session keeps insertion order: p0, p2, then the added p3.
  CHECK(h.session_partitions() == std::vector<PartitionRef>{p0, p2, p3});
  CHECK(h.session_partition(p1) == nullptr);
  REQUIRE(h.session_partition(p2) != nullptr);
  CHECK(h.session_partition(p2)->fetch_offset == 31);

  // Altered partitions in session order even when the caller lists them the other way round.
  FetchSessionHandler g = established();
  const std::vector<FetchPartitionRequest> reordered{want(p2, 33), want(p1, 22), want(p0, 11)};
  CHECK(refs(g.build(reordered).to_send) == std::vector<PartitionRef>{p0, p1, p2});
}

TEST_CASE("forgetting every partition still sends a request, and the broker's sessionless answer ends the session") {
  FetchSessionHandler h = established();
  const auto data = h.build(std::vector<FetchPartitionRequest>{});
  CHECK(data.session_partition_count == 0);
  CHECK(data.to_forget == std::vector<PartitionRef>{p0, p1, p2});  // so the caller still sends it
  // The broker closes the emptied session: an incremental response with session id 0.
  CHECK(h.handle_response(answer({}, invalid_session_id)));
  CHECK(h.next_metadata() == FetchMetadata{0, 0});
  const auto after = h.build(std::vector<FetchPartitionRequest>{});
  CHECK(after.session_partition_count == 0);
  CHECK(after.to_forget.empty());  // nothing to send: the caller backs off
}

TEST_CASE("session errors: FETCH_SESSION_ID_NOT_FOUND starts over, INVALID_FETCH_SESSION_EPOCH closes and retries") {
  const std::vector<FetchPartitionRequest> next{want(p0, 10), want(p1, 20), want(p2, 30)};
  SUBCASE("FETCH_SESSION_ID_NOT_FOUND (70)") {
    FetchSessionHandler h = established();
    h.build(next);
    FetchResponse error;
    error.error = Errc::fetch_session_id_not_found;
    CHECK_FALSE(h.handle_response(error));
    CHECK(h.next_metadata() == FetchMetadata{0, 0});
    const auto full = h.build(next);
    CHECK(full.metadata == FetchMetadata{0, 0});
    CHECK(refs(full.to_send) == std::vector<PartitionRef>{p0, p1, p2});
  }
  SUBCASE("INVALID_FETCH_SESSION_EPOCH (71)") {
    FetchSessionHandler h = established();
    h.build(next);
    FetchResponse error;
    error.error = Errc::invalid_fetch_session_epoch;
    error.session_id = session;
    CHECK_FALSE(h.handle_response(error));
    CHECK(h.next_metadata() == FetchMetadata{session, 0});  // close the old session, ask for a new one
    const auto full = h.build(next);
    CHECK(full.metadata == FetchMetadata{session, 0});
    CHECK(full.to_send.size() == 3);
  }
}

TEST_CASE("invalid responses are rejected: a full one must hold exactly the session, an incremental one no more") {
  SUBCASE("full response omits a partition") {
    FetchSessionHandler h(1);
    h.build(std::vector<FetchPartitionRequest>{want(p0, 0), want(p1, 0)});
    CHECK_FALSE(h.handle_response(answer({p0}, session)));
    CHECK(h.next_metadata() == FetchMetadata{0, 0});
  }
  SUBCASE("full response has an extra partition") {
    FetchSessionHandler h(1);
    h.build(std::vector<FetchPartitionRequest>{want(p0, 0)});
    CHECK_FALSE(h.handle_response(answer({p0, p3}, session)));
    CHECK(h.next_metadata() == FetchMetadata{0, 0});
  }
  SUBCASE("full response lists a partition twice") {
    FetchSessionHandler h(1);
    h.build(std::vector<FetchPartitionRequest>{want(p0, 0), want(p1, 0)});
    CHECK_FALSE(h.handle_response(answer({p0, p0}, session)));
  }
  SUBCASE("incremental response with a partition outside the session") {
    FetchSessionHandler h = established();
    h.build(std::vector<FetchPartitionRequest>{want(p0, 10), want(p1, 20), want(p2, 30)});
    CHECK_FALSE(h.handle_response(answer({p3}, session)));
    CHECK(h.next_metadata() == FetchMetadata{session, 0});
  }
  SUBCASE("an incremental response may hold any subset of the session") {
    FetchSessionHandler h = established();
    h.build(std::vector<FetchPartitionRequest>{want(p0, 10), want(p1, 20), want(p2, 30)});
    CHECK(h.handle_response(answer({p2}, session)));
    CHECK(h.next_metadata() == FetchMetadata{session, 2});
  }
}

TEST_CASE("a failed request closes the session with the next fetch; notify_close ends it for good") {
  FetchSessionHandler h = established();
  h.build(std::vector<FetchPartitionRequest>{want(p0, 10)});
  h.handle_error();
  CHECK(h.next_metadata() == FetchMetadata{session, 0});
  FetchSessionHandler g = established();
  g.notify_close();
  CHECK(g.next_metadata() == FetchMetadata{session, -1});
  CHECK(g.build(std::vector<FetchPartitionRequest>{want(p0, 10)}).metadata.is_full());
}
