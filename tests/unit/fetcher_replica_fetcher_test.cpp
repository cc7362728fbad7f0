// ReplicaFetcher / ReplicaFetcherManager behaviour, with expectations worked out by hand from
// reference/kafka-behaviour.md §3.1, §3.5 and AbstractFetcherThread / AbstractFetcherManager.
#include <doctest/doctest.h>

#include <map>
#include <utility>
#include <variant>

#include "kafkasim/kafka/fetcher/follower_epoch_cache.hpp"
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

constexpr NodeId follower_id = 2;
constexpr NodeId leader_id = 1;
const PartitionRef p0{0, 0};
const PartitionRef p1{0, 1};

sim::SimTime at_ms(int64_t ms) { return sim::SimTime::zero() + sim::Duration::from_ms(ms); }

RecordBatch batch(int64_t base, int32_t count, int32_t epoch) {
  RecordBatch b;
  b.base_offset = base;
  b.record_count = count;
  b.size_bytes = 100 * count;
  b.partition_leader_epoch = epoch;
  return b;
}

InitialFetchState following(PartitionRef p, int32_t leader_epoch, int64_t leo, std::vector<EpochEntry> epochs) {
  InitialFetchState s;
  s.partition = p;
  s.current_leader_epoch = leader_epoch;
  s.log_end_offset = leo;
  s.log_start_offset = 0;
  s.leader_epochs = std::move(epochs);
  s.init_offset = initial_fetch_offset(!s.leader_epochs.empty(), leo, /*high_watermark=*/0);
  return s;
}

FetchPartitionResponse data(PartitionRef p, std::vector<RecordBatch> batches, int64_t hw) {
  FetchPartitionResponse r;
  r.partition = p;
  r.high_watermark = hw;
  r.log_start_offset = 0;
  r.batches = std::move(batches);
  return r;
}

FetchPartitionResponse error(PartitionRef p, Errc e) {
  FetchPartitionResponse r;
  r.partition = p;
  r.error = e;
  return r;
}

std::pair<int32_t, int64_t> epoch_end(const EpochEndOffset& e) { return {e.epoch, e.end_offset}; }

}  // namespace

TEST_CASE("fetcher id follows AbstractFetcherManager.getFetcherId on hand-computed values") {
  // "test".hashCode() = 3556498 (Java); 31 * 3556498 = 110251438, whose digit sum 25 gives 110251438 % 3 = 1.
  CHECK(java_string_hash_code("test") == 3556498);
  CHECK(fetcher_id_for("test", 0, 3) == 1);
  CHECK(fetcher_id_for("test", 1, 3) == 2);  // 110251439 % 3 = 2
  CHECK(fetcher_id_for("test", 2, 3) == 0);
  CHECK(fetcher_id_for("test", 5, 1) == 0);  // num.replica.fetchers = 1: always fetcher 0
  // Wraparound: h = "ab".hashCode() = 97*31 + 98 = 3105; 31*3105 + 7 = 96262, 96262 % 4 = 2.
  CHECK(java_string_hash_code("ab") == 3105);
  CHECK(fetcher_id_for("ab", 7, 4) == 2);
  // Utils.abs(Integer.MIN_VALUE) == 0: 31 * 3556498 + 2037232210 = 2147483648 wraps to INT_MIN, so id 0 for any
  // count (Math.abs would give INT_MIN and a negative id -2 for 3 fetchers).
  CHECK(fetcher_id_for("test", 2037232210, 3) == 0);
  // A negative 31*h: "orders".hashCode() = -1008770331 (Java), 31*h wraps to -1207109189; abs % 3 = 2 (digit sum 38).
  CHECK(java_string_hash_code("orders") == -1008770331);
  CHECK(fetcher_id_for("orders", 0, 3) == 2);
}

TEST_CASE("follower epoch cache: assign and endOffsetFor per LeaderEpochFileCache") {
  FollowerEpochCache cache;
  cache.assign(0, 0);
  cache.assign(0, 10);  // same epoch later: no new entry
  cache.assign(2, 15);
  cache.assign(4, 30);
  CHECK(cache.size() == 3);
  CHECK(epoch_end(cache.end_offset_for(4, 40)) == std::pair<int32_t, int64_t>{4, 40});  // latest -> LEO
  CHECK(epoch_end(cache.end_offset_for(2, 40)) == std::pair<int32_t, int64_t>{2, 30});
  CHECK(epoch_end(cache.end_offset_for(3, 40)) == std::pair<int32_t, int64_t>{2, 30});  // floor 2, ends where 4 starts
  CHECK(epoch_end(cache.end_offset_for(5, 40)) == std::pair<int32_t, int64_t>{-1, -1});
  CHECK(epoch_end(cache.end_offset_for(-1, 40)) == std::pair<int32_t, int64_t>{-1, -1});
  FollowerEpochCache later;
  later.assign(3, 5);
  // No entry <= 1: the requested epoch ends where the first known epoch starts.
  CHECK(epoch_end(later.end_offset_for(1, 9)) == std::pair<int32_t, int64_t>{1, 5});
  // A non-monotonic assign drops the entries it supersedes: 1@20 removes 4@30 and 2@15.
  cache.assign(1, 20);
  CHECK(cache.entries() == std::map<int32_t, int64_t>{{0, 0}, {1, 20}});
  cache.truncate_from_end(20);
  CHECK(cache.entries() == std::map<int32_t, int64_t>{{0, 0}});
}

TEST_CASE("fetch offsets advance by exactly the batches returned; one request in flight") {
  ReplicaFetcherConfig config;
  ReplicaFetcher fetcher(config, follower_id, leader_id, 0);
  CHECK(fetcher.next_wakeup() == sim::SimTime::max());  // no partitions, nothing to do
  const InitialFetchState initial[] = {following(p0, 5, 10, {{5, 0}}), following(p1, 5, 0, {{5, 0}})};
  fetcher.add_partitions(initial, at_ms(0));
  CHECK(fetcher.next_wakeup() == at_ms(0));

  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  REQUIRE(out.fetches.size() == 1);
  const FetchRequest request = out.fetches[0].request;  // a copy: `out` is reused below
  CHECK(out.fetches[0].destination == leader_id);
  CHECK(request.replica_id == follower_id);
  CHECK(request.max_wait == 500_ms);            // replica.fetch.wait.max.ms
  CHECK(request.min_bytes == 1);                // replica.fetch.min.bytes
  CHECK(request.max_bytes == 10'485'760);       // replica.fetch.response.max.bytes
  REQUIRE(request.partitions.size() == 2);
  CHECK(request.partitions[0].partition == p0);
  CHECK(request.partitions[0].fetch_offset == 10);
  CHECK(request.partitions[0].current_leader_epoch == 5);
  CHECK(request.partitions[0].last_fetched_epoch == 5);
  CHECK(request.partitions[0].partition_max_bytes == 1'048'576);  // replica.fetch.max.bytes
  CHECK(request.partitions[1].fetch_offset == 0);

  // Polling again, at any time before the socket timeout, sends nothing: one request at a time.
  out.clear();
  fetcher.poll(at_ms(0), out);
  fetcher.poll(at_ms(2), out);
  CHECK(out.fetches.empty());
  CHECK(fetcher.next_wakeup() == at_ms(30'000));  // replica.socket.timeout.ms

  // p0 gets offsets 10..14 (5 records) and 15..17 (3 records); p1 gets nothing.
  FetchResponse response;
  response.correlation_id = request.correlation_id;
  response.partitions.push_back(data(p0, {batch(10, 5, 5), batch(15, 3, 5)}, 12));
  response.partitions.push_back(data(p1, {}, 0));
  CHECK(fetcher.on_fetch_response(response, at_ms(3), out) == ResponseDisposition::processed);
  REQUIRE(out.local.size() == 2);
  const auto& append0 = std::get<FollowerAppend>(out.local[0]);
  CHECK(append0.fetch_offset == 10);
  CHECK(append0.next_fetch_offset == 18);
  CHECK(append0.leader_high_watermark == 12);
  CHECK(append0.batches.size() == 2);
  const auto& append1 = std::get<FollowerAppend>(out.local[1]);  // empty: HW still propagates
  CHECK(append1.batches.empty());
  CHECK(append1.next_fetch_offset == 0);
  CHECK(fetcher.fetch_state(p0)->fetch_offset == 18);
  CHECK(fetcher.fetch_state(p1)->fetch_offset == 0);
  // The same response delivered twice is stale.
  CHECK(fetcher.on_fetch_response(response, at_ms(3), out) == ResponseDisposition::ignored_stale);
  CHECK(fetcher.fetch_state(p0)->fetch_offset == 18);

  // The next fetch goes out at once (no extra wait after a response), from the new offsets. p0 got data, so it
  // moved to the end of PartitionStates (updateAndMoveToEnd).
  CHECK(fetcher.next_wakeup() == at_ms(3));
  out.clear();
  fetcher.poll(at_ms(3), out);
  REQUIRE(out.fetches.size() == 1);
  const FetchRequest& second = out.fetches[0].request;
  CHECK(second.correlation_id != request.correlation_id);
  REQUIRE(second.partitions.size() == 2);
  CHECK(second.partitions[0].partition == p1);
  CHECK(second.partitions[1].partition == p0);
  CHECK(second.partitions[1].fetch_offset == 18);
  fetcher.check_invariants();
}

TEST_CASE("an error backs the partition off replica.fetch.backoff.ms; the others keep fetching") {
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  const InitialFetchState initial[] = {following(p0, 1, 0, {{1, 0}}), following(p1, 1, 0, {{1, 0}})};
  fetcher.add_partitions(initial, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  FetchResponse response;
  response.correlation_id = out.fetches.at(0).request.correlation_id;
  response.partitions.push_back(error(p0, Errc::not_leader_or_follower));
  response.partitions.push_back(data(p1, {}, 0));
  out.clear();
  fetcher.on_fetch_response(response, at_ms(100), out);
  CHECK(fetcher.fetch_state(p0)->delayed_until == at_ms(1100));

  // At 100 ms only p1 is fetched.
  fetcher.poll(at_ms(100), out);
  REQUIRE(out.fetches.size() == 1);
  REQUIRE(out.fetches[0].request.partitions.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].partition == p1);

  // p1's long poll expires empty at 600 ms; p0 is still delayed, so p1 is fetched alone again.
  FetchResponse empty;
  empty.correlation_id = out.fetches[0].request.correlation_id;
  empty.partitions.push_back(data(p1, {}, 0));
  out.clear();
  fetcher.on_fetch_response(empty, at_ms(600), out);
  fetcher.poll(at_ms(600), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions.size() == 1);

  // At 1100 ms (100 + 1000) p0 rejoins.
  empty.correlation_id = out.fetches[0].request.correlation_id;
  out.clear();
  fetcher.on_fetch_response(empty, at_ms(1100), out);
  fetcher.poll(at_ms(1100), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions.size() == 2);
}

TEST_CASE("when every partition is delayed the thread waits replica.fetch.backoff.ms") {
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  const InitialFetchState initial[] = {following(p0, 1, 0, {{1, 0}})};
  fetcher.add_partitions(initial, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  const uint64_t correlation_id = out.fetches.at(0).request.correlation_id;
  // A whole-request failure (disconnect) at 50 ms delays every partition until 1050 ms.
  CHECK(fetcher.on_request_failed(correlation_id, at_ms(50)) == ResponseDisposition::processed);
  out.clear();
  fetcher.poll(at_ms(50), out);
  CHECK(out.fetches.empty());
  CHECK(fetcher.next_wakeup() == at_ms(1050));
  fetcher.poll(at_ms(1049), out);  // early: harmless
  CHECK(out.fetches.empty());
  fetcher.poll(at_ms(1050), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions.at(0).fetch_offset == 0);

  // A request that is never answered times out after replica.socket.timeout.ms (30 s), then backs off 1 s.
  out.clear();
  fetcher.poll(at_ms(31'049), out);
  CHECK(out.fetches.empty());
  fetcher.poll(at_ms(31'050), out);
  CHECK(out.fetches.empty());
  CHECK(fetcher.next_wakeup() == at_ms(32'050));
}

TEST_CASE("diverging epoch: truncate per getOffsetTruncationState, then fetch from there") {
  // The follower has epoch 1 from 0 and epoch 3 from 50, LEO 80. The new leader (epoch 4) only has epoch 3 up
  // to offset 60, so it answers divergingEpoch (3, 60). Locally epoch 3 ends at the LEO 80, so the truncation
  // offset is min(80, 60, 80) = 60, complete.
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  const InitialFetchState initial[] = {following(p0, 4, 80, {{1, 0}, {3, 50}})};
  fetcher.add_partitions(initial, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  CHECK(out.fetches.at(0).request.partitions.at(0).last_fetched_epoch == 3);
  FetchResponse response;
  response.correlation_id = out.fetches[0].request.correlation_id;
  FetchPartitionResponse diverged = data(p0, {}, 55);
  diverged.diverging_epoch = EpochEndOffset{3, 60};
  response.partitions.push_back(diverged);
  out.clear();
  fetcher.on_fetch_response(response, at_ms(2), out);
  REQUIRE(out.local.size() == 2);
  CHECK(std::holds_alternative<FollowerAppend>(out.local[0]));  // empty append carries the HW first
  const auto& truncate = std::get<FollowerTruncate>(out.local[1]);
  CHECK(truncate.offset == 60);
  CHECK_FALSE(truncate.fully);
  CHECK(truncate.cause == TruncationCause::diverging_epoch);
  CHECK(fetcher.fetch_state(p0)->fetch_offset == 60);
  CHECK(fetcher.fetch_state(p0)->last_fetched_epoch == 3);  // epoch 3 starts at 50 < 60, so it survives
  out.clear();
  fetcher.poll(at_ms(2), out);
  CHECK(out.fetches.at(0).request.partitions.at(0).fetch_offset == 60);

  // Intermediate case: leader says (2, 40); the follower never had epoch 2, its floor is epoch 1 ending at 50.
  // Truncate to min(50, LEO 60) = 50 and re-validate with lastFetchedEpoch 1.
  response.correlation_id = out.fetches[0].request.correlation_id;
  response.partitions[0].diverging_epoch = EpochEndOffset{2, 40};
  out.clear();
  fetcher.on_fetch_response(response, at_ms(4), out);
  CHECK(std::get<FollowerTruncate>(out.local.at(1)).offset == 50);
  CHECK(fetcher.fetch_state(p0)->last_fetched_epoch == 1);
  CHECK(offset_truncation_state({2, 40}, 60, 60, FollowerEpochCache(std::vector<EpochEntry>{{1, 0}, {3, 50}})) ==
        OffsetTruncation{50, false});
  fetcher.check_invariants();
}

TEST_CASE("partitions added and removed between requests") {
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  const InitialFetchState first[] = {following(p0, 1, 0, {{1, 0}})};
  fetcher.add_partitions(first, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  const uint64_t correlation_id = out.fetches.at(0).request.correlation_id;

  // While the request is out: p0 is removed and p1 added. The answer for p0 is ignored.
  const PartitionRef removed[] = {p0};
  CHECK(fetcher.remove_partitions(removed) == 1);
  const InitialFetchState second[] = {following(p1, 1, 7, {{1, 0}})};
  fetcher.add_partitions(second, at_ms(1));
  out.clear();
  fetcher.poll(at_ms(1), out);
  CHECK(out.fetches.empty());  // still one in flight
  FetchResponse response;
  response.correlation_id = correlation_id;
  response.partitions.push_back(data(p0, {batch(0, 4, 1)}, 4));
  fetcher.on_fetch_response(response, at_ms(2), out);
  CHECK(out.local.empty());
  CHECK_FALSE(fetcher.has_partition(p0));

  fetcher.poll(at_ms(2), out);
  REQUIRE(out.fetches.size() == 1);
  REQUIRE(out.fetches[0].request.partitions.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].partition == p1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 7);

  // Re-adding p1 with the same leader epoch keeps its state; a new epoch resets it.
  const InitialFetchState same_epoch[] = {following(p1, 1, 7, {{1, 0}})};
  fetcher.add_partitions(same_epoch, at_ms(3));
  CHECK(fetcher.fetch_state(p1)->current_leader_epoch == 1);
  const InitialFetchState new_epoch[] = {following(p1, 2, 7, {{1, 0}})};
  fetcher.add_partitions(new_epoch, at_ms(3));
  CHECK(fetcher.fetch_state(p1)->current_leader_epoch == 2);
}

TEST_CASE("FENCED_LEADER_EPOCH drops the partition; no local epochs truncates to the HW first") {
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  InitialFetchState fresh = following(p1, 3, 20, {});
  fresh.init_offset = initial_fetch_offset(false, 20, /*high_watermark=*/12);
  const InitialFetchState initial[] = {following(p0, 3, 0, {{3, 0}}), fresh};
  fetcher.add_partitions(initial, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  // p1 had no epochs: truncateToHighWatermark(12) before the fetch, which then asks from 12.
  REQUIRE(out.local.size() == 1);
  CHECK(std::get<FollowerTruncate>(out.local[0]).offset == 12);
  CHECK(std::get<FollowerTruncate>(out.local[0]).cause == TruncationCause::no_local_epochs);
  CHECK(out.fetches.at(0).request.partitions.at(1).fetch_offset == 12);
  CHECK(out.fetches.at(0).request.partitions.at(1).last_fetched_epoch == -1);

  // A full fetch's response lists every partition asked for (the fetch session handler drops one that does not).
  FetchResponse response;
  response.correlation_id = out.fetches[0].request.correlation_id;
  response.partitions.push_back(error(p0, Errc::fenced_leader_epoch));
  response.partitions.push_back(data(p1, {}, 12));
  out.clear();
  fetcher.on_fetch_response(response, at_ms(1), out);
  REQUIRE(out.local.size() == 2);
  CHECK(std::get<PartitionFailed>(out.local[0]).partition == p0);
  CHECK(std::get<FollowerAppend>(out.local[1]).partition == p1);
  CHECK_FALSE(fetcher.has_partition(p0));
}

TEST_CASE("OFFSET_OUT_OF_RANGE asks the leader, then truncates fully to its log start") {
  ReplicaFetcher fetcher(ReplicaFetcherConfig{}, follower_id, leader_id, 0);
  const InitialFetchState initial[] = {following(p0, 2, 30, {{2, 0}})};
  fetcher.add_partitions(initial, at_ms(0));
  FetcherOutbox out;
  fetcher.poll(at_ms(0), out);
  FetchResponse response;
  response.correlation_id = out.fetches.at(0).request.correlation_id;
  response.partitions.push_back(error(p0, Errc::offset_out_of_range));
  out.clear();
  fetcher.on_fetch_response(response, at_ms(1), out);
  fetcher.poll(at_ms(1), out);
  CHECK(out.fetches.empty());
  REQUIRE(out.leader_offsets.size() == 1);
  // The leader's log is [100, 150): our LEO 30 is below its start, so truncate fully and start at 100.
  LeaderOffsetsResponse offsets;
  offsets.correlation_id = out.leader_offsets[0].request.correlation_id;
  offsets.partitions.push_back(LeaderOffsetsPartitionResponse{p0, Errc::none, 150, 100});
  out.clear();
  fetcher.on_leader_offsets_response(offsets, at_ms(2), out);
  const auto& truncate = std::get<FollowerTruncate>(out.local.at(0));
  CHECK(truncate.fully);
  CHECK(truncate.offset == 100);
  fetcher.poll(at_ms(2), out);
  CHECK(out.fetches.at(0).request.partitions.at(0).fetch_offset == 100);
  CHECK(out.fetches.at(0).request.partitions.at(0).log_start_offset == 100);
  fetcher.check_invariants();
}

TEST_CASE("manager resize re-hashes every partition; a fetcher started again ignores its predecessor's answer") {
  // "test" partitions 0, 1, 2 under 3 fetchers: ids 1, 2, 0; under 1 fetcher all 0 (see the fetcher-id test).
  ReplicaFetcherConfig config;
  config.num_replica_fetchers = 3;
  ReplicaFetcherManager manager(config, follower_id);
  std::vector<PartitionToFetch> partitions;
  for (int32_t p = 0; p < 3; ++p)
    partitions.push_back(PartitionToFetch{"test", leader_id, following(PartitionRef{0, p}, 1, 0, {{1, 0}})});
  manager.add_fetcher_for_partitions(partitions, at_ms(0));
  FetcherOutbox out;
  manager.poll(at_ms(0), out);
  REQUIRE(out.fetches.size() == 3);
  // Fetcher 2's request (partition 1) is out when the pool shrinks to 1: fetchers 1 and 2 shut down, 0 takes all.
  const FetcherOutbox::OutgoingFetch stale = out.fetches[1].fetcher_id == 2 ? out.fetches[1]
                                           : out.fetches[0].fetcher_id == 2 ? out.fetches[0]
                                                                            : out.fetches[2];
  REQUIRE(stale.fetcher_id == 2);
  CHECK(manager.resize_thread_pool(1, partitions, at_ms(1)) == 2);  // partitions 0 and 1 change fetcher
  CHECK(manager.num_replica_fetchers() == 1);
  CHECK(manager.fetchers().size() == 1);
  for (int32_t p = 0; p < 3; ++p) CHECK(manager.fetcher_of(PartitionRef{0, p}) == FetcherKey{leader_id, 0});
  // Back to 2: partition 1 (110251439 % 2 = 1) moves to a new fetcher 1, 0 and 2 stay on 0 (110251438, 110251440).
  CHECK(manager.resize_thread_pool(2, partitions, at_ms(2)) == 1);
  CHECK(manager.fetcher_of(PartitionRef{0, 1}) == FetcherKey{leader_id, 1});
  // And to 3: fetcher 2 starts again. Its first request is not the one its predecessor sent, so that one's late
  // answer is not taken for it.
  CHECK(manager.resize_thread_pool(3, partitions, at_ms(3)) == 2);  // 0: 0 -> 1, 1: 1 -> 2 (2 stays on 0)
  out.clear();
  manager.poll(at_ms(3), out);
  FetchResponse late;
  late.correlation_id = stale.request.correlation_id;
  late.partitions.push_back(data(PartitionRef{0, 1}, {batch(0, 5, 1)}, 5));
  FetcherOutbox after;
  CHECK(manager.on_fetch_response(FetcherKey{leader_id, 2}, late, at_ms(4), after) == ResponseDisposition::ignored_stale);
  CHECK(after.local.empty());
  // Resizing to the count it has changes nothing.
  CHECK(manager.resize_thread_pool(3, partitions, at_ms(5)) == 0);
}

TEST_CASE("manager groups partitions by (leader, fetcher id)") {
  ReplicaFetcherConfig config;
  config.num_replica_fetchers = 3;
  ReplicaFetcherManager manager(config, follower_id);
  // Topic "test": partitions 0, 1, 2 map to fetchers 1, 2, 0 (see the fetcher-id test).
  std::vector<PartitionToFetch> partitions;
  for (int32_t p = 0; p < 3; ++p) {
    partitions.push_back(PartitionToFetch{"test", leader_id, following(PartitionRef{0, p}, 1, 0, {{1, 0}})});
  }
  partitions.push_back(PartitionToFetch{"test", 3, following(PartitionRef{0, 3}, 1, 0, {{1, 0}})});
  manager.add_fetcher_for_partitions(partitions, at_ms(0));
  CHECK(manager.fetchers().size() == 4);
  CHECK(manager.fetcher_of(PartitionRef{0, 0}) == FetcherKey{leader_id, 1});
  CHECK(manager.fetcher_of(PartitionRef{0, 1}) == FetcherKey{leader_id, 2});
  CHECK(manager.fetcher_of(PartitionRef{0, 2}) == FetcherKey{leader_id, 0});
  CHECK(manager.fetcher_of(PartitionRef{0, 3}) == FetcherKey{3, 1});  // 31*3556498 + 3 = 110251441, % 3 = 1
  FetcherOutbox out;
  manager.poll(at_ms(0), out);
  CHECK(out.fetches.size() == 4);
  const PartitionRef gone[] = {PartitionRef{0, 3}};
  CHECK(manager.remove_fetcher_for_partitions(gone) == 1);
  CHECK(manager.shutdown_idle_fetcher_threads() == 1);
  CHECK(manager.fetchers().size() == 3);
}
