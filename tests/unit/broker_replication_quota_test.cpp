// Replication throttling (kafka-behaviour-2.md §11.1–§11.2): the SimpleRate sensor, the throttled-replica lists,
// the leader's side (ReplicaManager: shouldLeaderThrottle in the read, DelayedFetch, the recorded response size) and
// the follower's (ReplicaFetcher: shouldFollowerThrottle when building a fetch, the recorded records). Every rate,
// size and time below is worked out by hand from those rules and the wire sizes of protocol.hpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "broker_test_support.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/kafka/broker/replication_quota.hpp"
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::batch;
using test::produce;
using test::tp;

constexpr QuotaWindowConfig kWindow{11, 1000};  // replication.quota.window.num, .size.seconds x 1000

BrokerConfig leader_config() {
  BrokerConfig c;
  c.broker_id = 1;
  return c;
}

ThrottledReplicas parsed(const std::vector<std::string>& items) {
  const auto [replicas, problem] = parse_throttled_replicas(items);
  REQUIRE(problem.empty());
  return replicas;
}

FetchRequest follower_fetch(NodeId replica, int64_t offset, sim::Duration max_wait = 0_ms) {
  FetchRequest r;
  r.client_id = replica;
  r.replica_id = replica;
  r.max_wait = max_wait;
  r.min_bytes = 1;
  r.max_bytes = 10'485'760;
  FetchPartitionRequest p;
  p.partition = tp;
  p.fetch_offset = offset;
  p.log_start_offset = 0;
  p.partition_max_bytes = 1'048'576;
  r.partitions.push_back(p);
  return r;
}

// FetchResponse.sizeOf of a one-partition follower fetch response carrying `records` bytes of a throttled
// partition: header, session fields, the partition's fields and its records (protocol.hpp).
constexpr int64_t response_size(int64_t records) {
  return response_header_bytes + fetch_response_session_bytes + fetch_partition_response_overhead_bytes + records;
}

}  // namespace

TEST_CASE("SimpleRate: the window is max(now - oldest sample's start, one window), not padded to 10 windows") {
  QuotaRate simple(kWindow, RateWindow::simple);
  QuotaRate padded(kWindow, RateWindow::padded);
  simple.record(4000, 0);
  padded.record(4000, 0);
  // At once: one window (1 s) for SimpleRate, 10 windows for Rate.
  CHECK(simple.measure(0) == doctest::Approx(4000.0).scale(0));
  CHECK(padded.measure(0) == doctest::Approx(400.0).scale(0));
  // 2.5 s later: the sample started at 0, so 4000 B over 2.5 s.
  CHECK(simple.measure(2500) == doctest::Approx(1600.0).scale(0));
  // A sample without an event for 11 windows is purged: nothing left, the rate is 0.
  CHECK(simple.measure(11'000) == 0.0);
}

TEST_CASE("throttled-replica lists: '*', partition:broker entries per broker, and the validator's rule") {
  CHECK(parsed({"*"}).all);
  CHECK(parsed({}).empty());
  const ThrottledReplicas list = parsed({"0:1", "1:2", "", "2:1"});  // empty entries are allowed
  CHECK(list.partitions_for(1) == std::vector<int32_t>{0, 2});
  CHECK(list.partitions_for(2) == std::vector<int32_t>{1});
  CHECK(list.partitions_for(3).empty());
  CHECK(throttled_replicas_text(list) == "0:1,1:2,2:1");
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"0-1"}, {"*", "0:1"}, {"a:1"}, {"0:"}, {"0:1:2"}, {"-1:0"}}) {
    CHECK_FALSE(parse_throttled_replicas(bad).second.empty());
  }

  ReplicationQuotaManager quota(kWindow, 1000);
  quota.mark_throttled(0, list, 1);  // broker 1 throttles partitions 0 and 2 of topic 0
  quota.mark_throttled(1, parsed({"*"}), 1);
  CHECK(quota.is_throttled(PartitionRef{0, 0}));
  CHECK_FALSE(quota.is_throttled(PartitionRef{0, 1}));
  CHECK(quota.is_throttled(PartitionRef{0, 2}));
  CHECK(quota.is_throttled(PartitionRef{1, 7}));
  CHECK_FALSE(quota.is_throttled(PartitionRef{2, 0}));
  quota.mark_throttled(1, ThrottledReplicas{}, 1);  // an empty list removes the topic's throttle
  CHECK_FALSE(quota.is_throttled(PartitionRef{1, 7}));
}

TEST_CASE("quota exceeded: the rate is checked against the bound, which it may equal") {
  ReplicationQuotaManager quota(kWindow, 1000);
  quota.record(1000, 0);
  CHECK_FALSE(quota.is_quota_exceeded(0));  // 1000 B over one window: 1000 B/s, acceptable (value <= bound)
  quota.record(1, 500);
  CHECK(quota.is_quota_exceeded(500));      // 1001 B/s
  CHECK_FALSE(quota.is_quota_exceeded(1002));  // 1001 B over 1.002 s
  ReplicationQuotaManager unlimited(kWindow, unlimited_replication_rate);
  unlimited.record(int64_t{1} << 40, 0);
  CHECK_FALSE(unlimited.is_quota_exceeded(0));
}

TEST_CASE("updateQuota: a new bound applies to the rate already measured") {
  ReplicationQuotaManager quota(kWindow, 1000);
  quota.record(1500, 0);
  CHECK(quota.is_quota_exceeded(0));  // 1500 B/s > 1000
  quota.update_quota(2000);
  CHECK(quota.upper_bound() == 2000);
  CHECK_FALSE(quota.is_quota_exceeded(0));  // the same 1500 B/s, now under the bound
  quota.update_quota(unlimited_replication_rate);
  quota.record(int64_t{1} << 40, 1);
  CHECK_FALSE(quota.is_quota_exceeded(1));
  quota.update_quota(1000);  // back: the sensor kept every byte
  CHECK(quota.is_quota_exceeded(1));
}

TEST_CASE("leader: a follower outside the ISR gets no records of a throttled partition while the quota is exceeded") {
  // Broker 1 leads tp with replicas {1, 2, 3} and ISR {1, 2}: follower 3 is out of sync. Bound 1000 B/s, tp throttled.
  test::LeaderBroker b(leader_config(), {tp}, {1, 2}, {1, 2, 3});
  ReplicationQuotaManager quota(kWindow, 1000);
  quota.mark_throttled(tp.topic, parsed({"*"}), 1);
  b.rm.set_leader_replication_quota(&quota);
  b.rm.handle_produce(produce(1, {{tp, batch(10, 1000)}}), at(1_ms), b.out);
  quota.record(5000, 0);  // 5000 B in the sample started at 0: 5000 B/s at 1 ms, exceeded

  // Follower 2 is in the ISR: never held back, and its bytes count (1062 B); its next fetch (62 B) makes the HW 10.
  const FetchResponse in_sync = b.fetch(follower_fetch(2, 0), at(2_ms));
  REQUIRE(in_sync.partitions.size() == 1);
  CHECK(in_sync.partitions[0].batches.size() == 1);
  CHECK(in_sync.partitions[0].slice.bytes == 1000);
  b.fetch(follower_fetch(2, 10), at(3_ms));
  CHECK(b.rm.partition(tp)->high_watermark() == 10);
  CHECK(quota.recorded_bytes() == 5000 + response_size(1000) + response_size(0));

  // Follower 3 at 0, below the HW, stays out of the ISR: no records (the HW still comes back); 62 B recorded.
  const FetchResponse throttled = b.fetch(follower_fetch(3, 0), at(4_ms));
  REQUIRE(throttled.partitions.size() == 1);
  CHECK(throttled.partitions[0].batches.empty());
  CHECK(throttled.partitions[0].slice.bytes == 0);
  CHECK(throttled.partitions[0].error == Errc::none);
  CHECK(throttled.partitions[0].high_watermark == 10);
  CHECK(quota.recorded_bytes() == 6186);
  CHECK(quota.held_back() == 1);

  // 6186 B since 0: at 6.1 s the rate is 1014.1 B/s, still above (and 62 B more are recorded); at 6.3 s it is
  // 6248 / 6.3 = 991.7 B/s and follower 3 gets the batch.
  const FetchResponse still = b.fetch(follower_fetch(3, 0), at(6100_ms));
  CHECK(still.partitions[0].batches.empty());
  CHECK(quota.recorded_bytes() == 6248);
  const FetchResponse served = b.fetch(follower_fetch(3, 0), at(6300_ms));
  REQUIRE(served.partitions[0].batches.size() == 1);
  CHECK(served.partitions[0].slice.bytes == 1000);
  CHECK(quota.recorded_bytes() == 6248 + response_size(1000));
  CHECK(quota.held_back() == 2);
}

TEST_CASE("leader: a throttled partition's bytes neither answer a follower fetch at once nor complete it parked") {
  // As above: HW 10 after follower 2's two fetches, follower 3 out of the ISR at offset 0.
  const auto setup = [](test::LeaderBroker& b) {
    b.rm.handle_produce(produce(1, {{tp, batch(10, 1000)}}), at(1_ms), b.out);
    b.fetch(follower_fetch(2, 0), at(2_ms));
    b.fetch(follower_fetch(2, 10), at(3_ms));
    b.out.clear();
  };
  test::LeaderBroker b(leader_config(), {tp}, {1, 2}, {1, 2, 3});
  ReplicationQuotaManager quota(kWindow, 1000);
  quota.mark_throttled(tp.topic, parsed({"*"}), 1);
  b.rm.set_leader_replication_quota(&quota);
  setup(b);
  quota.record(100'000, 4);  // exceeded for the next 100 s
  // Follower 3 may wait 500 ms: the 1000 B it could read do not count, so it is parked; a later append does not
  // complete it either. It is answered at its deadline, without records.
  b.rm.handle_fetch(follower_fetch(3, 0, 500_ms), at(10_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  b.rm.handle_produce(produce(1, {{tp, batch(10, 1000)}}), at(20_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  b.rm.on_wakeup(at(509_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  b.rm.on_wakeup(at(510_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  CHECK(b.out.fetch_responses[0].response.partitions[0].batches.empty());

  // Without the quota the same fetch is answered at once with the batch.
  test::LeaderBroker free(leader_config(), {tp}, {1, 2}, {1, 2, 3});
  setup(free);
  free.rm.handle_fetch(follower_fetch(3, 0, 500_ms), at(10_ms), free.out);
  REQUIRE(free.out.fetch_responses.size() == 1);
  CHECK(free.out.fetch_responses[0].response.partitions[0].batches.size() == 1);
}

TEST_CASE("follower: a lagging throttled partition is left out of the fetch while the quota is exceeded") {
  constexpr NodeId follower = 2;
  constexpr NodeId leader = 1;
  const PartitionRef p0{0, 0};
  const PartitionRef p1{0, 1};
  ReplicaFetcherConfig config;
  ReplicaFetcher fetcher(config, follower, leader, 0);
  ReplicationQuotaManager quota(kWindow, 1000);
  quota.mark_throttled(0, parsed({"0:2"}), follower);  // p0 throttled on broker 2, p1 not
  fetcher.set_quota(&quota);
  std::vector<InitialFetchState> initial(2);
  for (int i = 0; i < 2; ++i) {
    initial[static_cast<size_t>(i)].partition = i == 0 ? p0 : p1;
    initial[static_cast<size_t>(i)].leader_epochs = {{0, 0}};
  }
  fetcher.add_partitions(initial, at(0_ms));

  // Not exceeded: both partitions are fetched (lag unknown: not in sync, but nothing to hold back yet).
  FetcherOutbox out;
  fetcher.poll(at(0_ms), out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions.size() == 2);
  // The leader answers p0 with 3000 B (offsets 0..29) and HW 50: lag 50 - 30 = 20, and 3000 B are recorded.
  FetchResponse response;
  response.correlation_id = out.fetches[0].request.correlation_id;
  FetchPartitionResponse r0;
  r0.partition = p0;
  r0.high_watermark = 50;
  r0.log_start_offset = 0;
  RecordBatch batch30;
  batch30.base_offset = 0;
  batch30.record_count = 30;
  batch30.size_bytes = 3000;
  batch30.partition_leader_epoch = 0;
  r0.batches = {batch30};
  r0.slice.bytes = 3000;
  FetchPartitionResponse r1;
  r1.partition = p1;
  r1.high_watermark = 0;
  r1.log_start_offset = 0;
  response.partitions = {r0, r1};
  response.session_id = 77;  // the leader opened a fetch session: the next request is incremental
  out.clear();
  fetcher.on_fetch_response(response, at(5_ms), out);
  CHECK(quota.recorded_bytes() == 3000);  // p1 is not throttled: nothing of it counts
  REQUIRE(fetcher.fetch_state(p0)->lag.has_value());
  CHECK(*fetcher.fetch_state(p0)->lag == 20);
  CHECK(*fetcher.fetch_state(p1)->lag == 0);

  // 3000 B/s at 5 ms: exceeded, so p0 (lag 20) is left out, and the session forgets it; p1 (in sync) stays.
  out.clear();
  fetcher.poll(at(5_ms), out);
  REQUIRE(out.fetches.size() == 1);
  const FetchRequest& next = out.fetches[0].request;
  for (const FetchPartitionRequest& p : next.partitions) CHECK(p.partition != p0);
  CHECK(next.forgotten == std::vector<PartitionRef>{p0});
  CHECK(quota.held_back() == 1);
}
