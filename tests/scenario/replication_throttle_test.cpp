// Replication throttling in a whole cluster (kafka-behaviour-2.md §11.1–§11.2). Three brokers lead one partition
// each (RF 3); broker 1 is paused for 5 s with replica.lag.time.max.ms = 1 s, so the two other leaders drop it from
// their ISRs, and each keeps one in-sync follower fetching its partition's whole stream r. With every replica
// throttled and leader.replication.throttled.rate = T on every broker, Kafka's rules give:
//   - in-sync followers are never held back, but their bytes count, so the paused follower gets what is left of T:
//     about T - r a second, averaged over the quota's window;
//   - it catches up only if T - r > r (the documentation's progress condition: the throttled rate must exceed the
//     rate the partition is written at), and otherwise falls further behind and never rejoins the ISR.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;

namespace {

constexpr double kRecordsPerPartition = 10'000;  // 30,000 records/s of 1,000 B over 3 partitions

enum class Side { leader, follower };

cluster::WorldSpec paused_follower(int64_t rate, sim::Duration duration, Side side = Side::leader) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 3, 1);
  spec.duration = duration;
  spec.warmup = 2_s;
  spec.broker_config.replica_lag_time_max_ms = 1000;
  if (side == Side::leader) {
    spec.leader_replication_throttled_rate = rate;
    spec.topics[0].config.leader_throttled_replicas.all = true;
  } else {
    spec.follower_replication_throttled_rate = rate;
    spec.topics[0].config.follower_throttled_replicas.all = true;
  }
  spec.producers.push_back(test::open_loop_producer(3 * kRecordsPerPartition, kafka::Acks::leader, 5, 1000));
  spec.faults.push_back(test::fault(cluster::FaultKind::pause, 1, 5_s, 5_s));
  return spec;
}

struct Outcome {
  uint64_t shrinks = 0, expands = 0;
  cluster::WorldSummary::UnderReplicated under_replicated;
  int64_t follower_leo = 0;  // summed over the two partitions broker 1 follows
  double bytes_per_record = 0;  // of the leaders' logs
};

Outcome run(int64_t rate, sim::Duration duration, Side side = Side::leader) {
  cluster::World world(paused_follower(rate, duration, side));
  const auto s = world.run();
  Outcome o;
  o.shrinks = s.isr_shrinks;
  o.expands = s.isr_expands;
  o.under_replicated = s.under_replicated;
  int64_t bytes = 0, records = 0;
  std::vector<int> led(3, 0);
  for (int32_t p = 0; p < 3; ++p) {
    const kafka::PartitionRef ref{0, p};
    const kafka::Partition* leader = world.leader_partition(ref);
    REQUIRE(leader != nullptr);
    for (uint32_t b = 0; b < 3; ++b)
      if (world.partition(b, ref) == leader) ++led[b];
    bytes += leader->log().size_bytes();
    records += leader->log_end_offset();
    const kafka::Partition* on1 = world.partition(1, ref);
    REQUIRE(on1 != nullptr);
    if (!on1->is_leader()) o.follower_leo += on1->log_end_offset();
  }
  // The layout the expectations assume: each broker leads one partition.
  CHECK(led == std::vector<int>{1, 1, 1});
  o.bytes_per_record = static_cast<double>(bytes) / static_cast<double>(records);
  return o;
}

}  // namespace

TEST_CASE("replication throttle: the paused follower rejoins only when the throttled rate exceeds twice the stream") {
  // r = 10,000 records/s of ~1,010 B on the log = 10.1 MB/s a partition.
  const Outcome free = run(kafka::unlimited_replication_rate, 20_s);
  CHECK(free.shrinks == 2);
  CHECK(free.expands == 2);
  // T = 25 MB/s > 2r: it catches up (T - r = 15 MB/s against r = 10 MB/s).
  const Outcome enough = run(25'000'000, 20_s);
  CHECK(enough.shrinks == 2);
  CHECK(enough.expands == 2);
  // T = 16 MB/s < 2r: T - r = 6 MB/s is less than the partition's 10 MB/s, so it never catches up.
  const Outcome starved = run(16'000'000, 20_s);
  CHECK(starved.shrinks == 2);
  CHECK(starved.expands == 0);
  // Paused at 5 s, out of sync for the isr-expiration check at 6.0 or 6.5 s (every 500 ms, more than 1 s after its
  // last fetch), never back: both partitions under-replicated from then to the end of the run at 20 s.
  CHECK(starved.under_replicated.at_end == 2);
  CHECK(starved.under_replicated.partition_seconds >= 2 * (20.0 - 6.5));
  CHECK(starved.under_replicated.partition_seconds <= 2 * (20.0 - 6.0));
  CHECK_FALSE(starved.under_replicated.longest_end_s.has_value());
  CHECK(enough.under_replicated.at_end == 0);
}

TEST_CASE("replication throttle: a throttled out-of-sync follower receives the throttled rate less the in-sync one") {
  // Between 20 s and 30 s (well after the pause and the quota window's memory of it) the starved follower of
  // T = 16 MB/s receives T - r a second on each of its two partitions: (16 - 10.1) MB/s, about 5.8k records/s each.
  const Outcome at20 = run(16'000'000, 20_s);
  const Outcome at30 = run(16'000'000, 30_s);
  const double records_per_s = static_cast<double>(at30.follower_leo - at20.follower_leo) / 10.0 / 2.0;
  const double expected = (16e6 - kRecordsPerPartition * at30.bytes_per_record) / at30.bytes_per_record;
  MESSAGE("bytes per record ", at30.bytes_per_record, ", received ", records_per_s, " records/s a partition, expected ",
          expected);
  CHECK(records_per_s > 0.85 * expected);
  CHECK(records_per_s < 1.15 * expected);
  // Unthrottled, the same follower keeps up: it receives the whole stream, 10,000 records/s a partition.
  const Outcome free20 = run(kafka::unlimited_replication_rate, 20_s);
  const Outcome free30 = run(kafka::unlimited_replication_rate, 30_s);
  CHECK(static_cast<double>(free30.follower_leo - free20.follower_leo) / 10.0 / 2.0 ==
        doctest::Approx(kRecordsPerPartition).scale(0).epsilon(0.02));
}

TEST_CASE("replication throttle, follower side: the paused follower's own bound is shared by its two partitions") {
  // follower.replication.throttled.rate = T on every broker, every replica throttled: broker 1's fetchers leave its two
  // lagging partitions out while its quota is exceeded, so together they receive about T a second, and it catches up
  // only if T / 2 > r. T = 30 MB/s: 15 MB/s each against 10.1 MB/s written, it rejoins; T = 16 MB/s: 8 MB/s, never.
  // (A little below T in the run, 7 %: a fetcher that leaves every partition out has nothing to send and waits
  // replica.fetch.backoff.ms, 1 s, before it checks the quota again, AbstractFetcherThread.maybeFetch.)
  const Outcome enough = run(30'000'000, 20_s, Side::follower);
  CHECK(enough.expands == 2);
  const Outcome at20 = run(16'000'000, 20_s, Side::follower);
  const Outcome at30 = run(16'000'000, 30_s, Side::follower);
  CHECK(at20.expands == 0);
  CHECK(at30.expands == 0);
  const double records_per_s = static_cast<double>(at30.follower_leo - at20.follower_leo) / 10.0;
  const double expected = 16e6 / at30.bytes_per_record;
  MESSAGE("received ", records_per_s, " records/s on both partitions, expected ", expected);
  CHECK(records_per_s > 0.85 * expected);
  CHECK(records_per_s < 1.15 * expected);
}

TEST_CASE("replication throttle: replicas in the ISR are never held back, so a healthy cluster runs event for event the "
          "same under any bound") {
  // §11.2: the leader throttles only followers outside the ISR, a follower only partitions with lag (and an in-sync
  // follower's lag is 0: the leader's HW never passes its fetch offset). With every replica of an acks=all topic
  // throttled at 1 B/s on both sides, both quotas are exceeded after the first fetch, and still nothing may change.
  const auto healthy = [](bool throttled) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 6_s;
    spec.warmup = 1_s;
    spec.producers.push_back(test::open_loop_producer(20'000, kafka::Acks::all, 5, 500));
    if (throttled) {
      spec.leader_replication_throttled_rate = 1;
      spec.follower_replication_throttled_rate = 1;
      spec.topics[0].config.leader_throttled_replicas.all = true;
      spec.topics[0].config.follower_throttled_replicas.all = true;
    }
    return cluster::World(spec).run();
  };
  const auto free = healthy(false);
  const auto throttled = healthy(true);
  CHECK(throttled.events == free.events);
  CHECK(throttled.trace_hash == free.trace_hash);
  CHECK(throttled.isr_shrinks == 0);
  REQUIRE(throttled.replication_throttle.size() == 3);
  for (const auto& r : throttled.replication_throttle) {
    CAPTURE(r.broker);
    CHECK(r.leader.held_back == 0);
    CHECK(r.follower.held_back == 0);
    // The bound was passed: each leader sends its two followers a third of ~10 MB/s, each follower receives two thirds.
    CHECK(r.leader.recorded_bytes_per_s > 5e6);
    CHECK(r.follower.recorded_bytes_per_s > 5e6);
  }
}

TEST_CASE("replication throttle: raising or deleting the rate by an operation lets the starved follower rejoin") {
  // T = 16 MB/s starves the paused follower (the first test); at 12 s an operation raises every broker's rate to
  // 25 MB/s (> 2r: T - r = 15 MB/s against r = 10 MB/s written), or deletes the dynamic one so the static Long.MAX
  // applies again. Either way it catches up and rejoins, after 12 s; with the rate left at 16 MB/s it does not.
  const auto rejoin_times = [](std::optional<double> new_rate, bool static_rate) {
    auto spec = paused_follower(static_rate ? 16'000'000 : kafka::unlimited_replication_rate, 20_s);
    if (!static_rate) {
      // The starving rate as a dynamic <default> from the start, deleted at 12 s below.
      cluster::ConfigAlterSpec start;
      start.entity_type = cluster::ConfigEntityType::brokers;
      start.added = {{"leader.replication.throttled.rate", 16e6}};
      spec.config_alters.push_back(start);
    }
    cluster::ConfigAlterSpec op;
    op.at = 12_s;
    op.entity_type = cluster::ConfigEntityType::brokers;
    if (new_rate) op.added = {{"leader.replication.throttled.rate", *new_rate}};
    else op.deleted = {"leader.replication.throttled.rate"};
    spec.config_alters.push_back(op);
    cluster::World world(spec);
    world.run();
    std::vector<double> times;
    for (const auto& e : world.events())
      if (e.at("type") == "isr_expand") times.push_back(e.at("time_s").get<double>());
    return times;
  };
  const auto raised = rejoin_times(25e6, true);
  REQUIRE(raised.size() == 2);
  for (double t : raised) CHECK(t > 12.0);
  const auto deleted = rejoin_times(std::nullopt, false);
  REQUIRE(deleted.size() == 2);
  for (double t : deleted) CHECK(t > 12.0);
  // Unthrottled it catches up faster than at 25 MB/s.
  CHECK(*std::max_element(deleted.begin(), deleted.end()) < *std::max_element(raised.begin(), raised.end()));
  CHECK(rejoin_times(16e6, true).empty());
}
