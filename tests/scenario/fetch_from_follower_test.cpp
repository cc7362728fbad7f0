// Fetch from follower (KIP-392, kafka-behaviour-2.md §12) on a whole cluster: three brokers in three racks, every
// partition on all three, a consumer with a client.rack. Expectations come from the selector's rules and the
// follower's high-watermark lag, not from earlier runs:
//  - with RackAwareReplicaSelector every partition is read from the replica in the consumer's rack, so no fetch
//    response crosses racks after the first redirect; without it the consumer reads the leaders, which the striped
//    placer spreads evenly over the racks, so two thirds of the bytes cross;
//  - a follower serves reads only up to its own HW, which it learns in the response to its next fetch; with the
//    partition otherwise idle that fetch waits in the leader's purgatory for replica.fetch.wait.max.ms, so a
//    record reaches a consumer of the follower that much later than a consumer of the leader.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "kafkasim/kafka/broker/partition.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

// Three NVMe brokers on 10 GbE, broker b in rack-b, a topic of `partitions` on all three (min.insync.replicas 2).
cluster::WorldSpec three_racks(int32_t partitions, bool selector) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", partitions, 3, 2);
  spec.racks = 3;
  spec.broker_config.rack_aware_replica_selector = selector;
  return spec;
}

cluster::ConsumerSpec consumer_in(const std::string& rack) {
  cluster::ConsumerSpec c;
  c.group = "readers";
  c.topic = 0;
  c.config.client_rack = rack;
  return c;
}

// The broker that leads partition 0 of the spec's topic: placement depends only on the seed and the topics, so a
// world without clients places it as the real run will.
kafka::NodeId leader_of_partition0(const cluster::WorldSpec& spec) {
  cluster::WorldSpec probe = spec;
  probe.producers.clear();
  probe.consumers.clear();
  cluster::World world(probe);
  const kafka::Partition* leader = world.leader_partition(kafka::PartitionRef{0, 0});
  REQUIRE(leader != nullptr);
  return leader->leader_id();
}

}  // namespace

TEST_CASE("fetch from follower: with RackAwareReplicaSelector no consumer fetch crosses racks; without, 2/3 do") {
  auto run = [](bool selector) {
    auto spec = three_racks(6, selector);
    spec.duration = 6_s;
    spec.warmup = 2_s;
    spec.producers.push_back(test::open_loop_producer(20'000, Acks::all, 5, 512));
    spec.consumers.push_back(consumer_in("rack-1"));
    cluster::World world(spec);
    return world.run();
  };
  const auto with = run(true);
  const auto without = run(false);
  // Both read everything at the producer's pace: the follower's reads lag, they do not lose or slow anything.
  CHECK(with.consumed_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(without.consumed_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(with.records_failed == 0);
  // The consumer is in rack-1 with broker 1, which holds a replica of every partition: after the first fetch
  // (before the warm-up ends) the leaders send it there for metadata.max.age.ms (5 min, longer than the run).
  CHECK(with.fetch_bytes_same_rack > 0);
  CHECK(with.fetch_bytes_cross_rack == 0);
  // Without the selector the six leaders are two per broker (the striped placer), and the sticky partitioner
  // spreads the records evenly, so the brokers of rack-0 and rack-2 send two thirds of the bytes.
  const double total = static_cast<double>(without.fetch_bytes_same_rack + without.fetch_bytes_cross_rack);
  CHECK(static_cast<double>(without.fetch_bytes_cross_rack) / total == doctest::Approx(2.0 / 3.0).scale(0).epsilon(0.05));
  // All traffic by connection kind: with one broker per rack every replication byte crosses racks; the producer
  // (client 0, in rack-0) sends two thirds of its bytes to leaders in the other racks, either way; the consumer's
  // traffic crosses racks only for its group coordinator (commits every 5 s, a few hundred bytes) with the
  // selector, and like its fetches without it.
  for (const auto* run : {&with, &without}) {
    CHECK(run->replication_traffic.total > 0);
    CHECK(run->replication_traffic.cross_rack == run->replication_traffic.total);
    const auto& produce = run->producer_traffic;
    CHECK(static_cast<double>(produce.cross_rack) / static_cast<double>(produce.total) ==
          doctest::Approx(2.0 / 3.0).scale(0).epsilon(0.05));
  }
  CHECK(static_cast<double>(with.consumer_traffic.cross_rack) < 1e-3 * static_cast<double>(with.consumer_traffic.total));
  CHECK(static_cast<double>(without.consumer_traffic.cross_rack) / static_cast<double>(without.consumer_traffic.total) ==
        doctest::Approx(2.0 / 3.0).scale(0).epsilon(0.05));
}

TEST_CASE("fetch from follower: after metadata.max.age.ms the consumer asks the leader again, which redirects it") {
  auto spec = three_racks(6, true);
  spec.duration = 6_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(20'000, Acks::all, 5, 512));
  auto c = consumer_in("rack-1");
  c.config.metadata_max_age = sim::Duration::from_ms(1'000);
  spec.consumers.push_back(c);
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.consumed_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  // Each second every partition led from another rack (four of six) goes back to its leader for one fetch, whose
  // answer is a redirect without records: some fetch bytes cross racks, but only the responses' framing. At most
  // five expiries of each fall in the four measured seconds, each in a response of its own at the most: 4 x 5 x
  // (48 B a partition + 8 B header + 6 B session fields), never a record.
  CHECK(s.fetch_bytes_cross_rack > 0);
  CHECK(s.fetch_bytes_cross_rack <= 4 * 5 * (48 + 8 + 6));
}

TEST_CASE("fetch from follower: a follower's reads wait for its HW, one replica.fetch.wait.max.ms later when idle") {
  // One partition, one record every 200 ms: between records every follower fetch waits in the leader's purgatory
  // for its full replica.fetch.wait.max.ms (W = 50 ms here). A record is committed when both followers' next
  // fetches (right after they appended it) reach the leader; those fetches then wait W for new data that does not
  // come, and only their responses carry the new HW to the followers. A consumer of the leader sees the record at
  // the commit; a consumer of a follower W later (plus the response's transit, well under a millisecond here).
  constexpr int64_t kWaitMs = 50;
  auto spec = three_racks(1, true);
  spec.duration = 12_s;
  spec.warmup = 2_s;
  spec.fetcher_config.replica_fetch_wait_max = sim::Duration::from_ms(kWaitMs);
  spec.producers.push_back(test::open_loop_producer(5, Acks::all, 0, 100));
  const kafka::NodeId leader = leader_of_partition0(spec);
  const kafka::NodeId follower = (leader + 1) % 3;
  auto run = [&](kafka::NodeId rack) {
    auto s = spec;
    s.consumers.push_back(consumer_in("rack-" + std::to_string(rack)));
    cluster::World world(s);
    return world.run();
  };
  const auto from_leader = run(leader);
  const auto from_follower = run(follower);
  REQUIRE(from_leader.end_to_end_latency.count == 50);  // 10 s at 5 records/s
  REQUIRE(from_follower.end_to_end_latency.count == 50);
  CHECK(from_follower.fetch_bytes_cross_rack == 0);
  CHECK(from_leader.fetch_bytes_cross_rack == 0);
  // The produce side is the same run in both.
  CHECK(from_follower.produce_latency.p50_ms == doctest::Approx(from_leader.produce_latency.p50_ms).scale(0).epsilon(0.01));
  const double extra_ms = from_follower.end_to_end_latency.p50_ms - from_leader.end_to_end_latency.p50_ms;
  CHECK(extra_ms == doctest::Approx(static_cast<double>(kWaitMs)).scale(0).epsilon(0.04));
  CHECK(from_follower.end_to_end_latency.max_ms < from_leader.end_to_end_latency.max_ms + kWaitMs + 2.0);
}
