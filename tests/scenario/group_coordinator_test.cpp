// Offset commits go to the group coordinator (kafka-behaviour.md §5.1, §5.7): the consumer finds it with
// FindCoordinator, sent to the least-loaded broker over its ordinary connection, and the answer is the leader of
// the __consumer_offsets partition abs(group.hashCode) % offsets.topic.num.partitions.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

cluster::ConsumerSpec consumer_of(const std::string& group, cluster::CommitAfterPoll commit) {
  cluster::ConsumerSpec c;
  c.group = group;
  c.commit = commit;
  return c;
}

// The coordinator_found events by group: (coordinator, partition, time).
struct Found {
  int64_t coordinator = -1, partition = -1, count = 0;
  double time_s = 0;
};
std::map<std::string, Found> found_by_group(const cluster::World& world) {
  std::map<std::string, Found> out;
  for (const auto& e : world.events()) {
    if (e.at("type") != "coordinator_found") continue;
    Found& f = out[e.at("group").get<std::string>()];
    f.coordinator = e.at("coordinator").get<int64_t>();
    f.partition = e.at("partition").get<int64_t>();
    f.time_s = e.at("time_s").get<double>();
    ++f.count;
  }
  return out;
}

}  // namespace

TEST_CASE("group coordinator: each group commits to the leader of its __consumer_offsets partition") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 2_s;
  spec.warmup = sim::Duration::from_ns(1);  // the lookups come early: count them
  spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 0, 512));
  // kafka-behaviour.md §5.1's examples: "my-group" -> partition 12, "group" -> partition 47 of 50.
  spec.consumers.push_back(consumer_of("my-group", cluster::CommitAfterPoll::kSync));
  auto auto_committing = consumer_of("group", cluster::CommitAfterPoll::kNone);
  auto_committing.config.auto_commit_interval = 100_ms;
  spec.consumers.push_back(auto_committing);
  cluster::World world(spec);
  const auto s = world.run();
  const auto& offsets = world.offsets_topic_replicas();
  REQUIRE(offsets.size() == 50);
  for (const auto& replicas : offsets) CHECK(replicas.size() == 3);
  const auto found = found_by_group(world);
  REQUIRE(found.size() == 2);
  CHECK(found.at("my-group").partition == 12);
  CHECK(found.at("group").partition == 47);
  CHECK(found.at("my-group").coordinator == offsets[12].front());
  CHECK(found.at("group").coordinator == offsets[47].front());
  // One lookup per consumer: the answer is kept for later commits.
  CHECK(found.at("my-group").count == 1);
  CHECK(found.at("group").count == 1);
  // The brokers' RequestMetrics: two lookups, answered by one I/O-thread step (request_fixed_cost); every
  // OffsetCommit waits group.coordinator.append.linger.ms after its I/O-thread step, since no other write shares its
  // batch (each group has its own partition, and a consumer's connection carries one commit at a time).
  const auto& lookups = s.requests[static_cast<size_t>(cluster::RequestKind::find_coordinator)];
  const auto& commits = s.requests[static_cast<size_t>(cluster::RequestKind::offset_commit)];
  CHECK(lookups.count == 2);
  CHECK(lookups.local.mean_ms == doctest::Approx(spec.cpu_costs.request_fixed_cost.ms_f()).epsilon(0.01));
  CHECK(lookups.remote.max_ms == 0.0);
  CHECK(commits.count > 100);
  CHECK(commits.remote.p50_ms == doctest::Approx(spec.group_coordinator_append_linger.ms_f()).epsilon(0.002));
  CHECK(commits.remote.max_ms == doctest::Approx(spec.group_coordinator_append_linger.ms_f()).epsilon(0.002));
  // Both groups' commits succeeded through their coordinators: every committed offset is positive and no later
  // than what the consumer has consumed.
  CHECK(s.records_consumed > 0);
  for (const auto& view : world.consumers()) {
    for (const kafka::PartitionRef& ref : view.assignment) {
      const auto committed = view.consumer->committed(ref);
      const auto position = view.consumer->position(ref);
      REQUIRE(committed.has_value());
      REQUIRE(position.has_value());
      CHECK(*committed > 0);
      CHECK(*committed <= *position);
    }
  }
}

TEST_CASE("group coordinator: FindCoordinator waits behind a fetch parked on the least-loaded broker's connection") {
  // No producer: each of the consumer's three fetches (two partitions per broker) is parked for fetch.max.wait.ms.
  // The first auto-commit (after 100 ms) needs the coordinator; every broker has a fetch in flight, so the
  // least-loaded node is one with a parked fetch, and the broker reads the FindCoordinator only when that fetch
  // has been answered (its connection is muted until then, kafka-behaviour.md §2.1): not before fetch.max.wait.ms.
  for (const int64_t wait_ms : {300, 700}) {
    CAPTURE(wait_ms);
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 2_s;
    spec.warmup = 100_ms;
    auto consumer = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
    consumer.config.auto_commit_interval = 100_ms;
    consumer.config.fetch_max_wait = sim::Duration::from_ms(wait_ms);
    spec.consumers.push_back(consumer);
    cluster::World world(spec);
    world.run();
    const auto found = found_by_group(world);
    REQUIRE(found.count("my-group") == 1);
    const double t = found.at("my-group").time_s;
    // Parked at about 0.1 ms (the first fetch's two links), answered fetch.max.wait.ms later; then the lookup's
    // own request and response: two more links each way and the broker's request costs.
    const double request_costs =
        (2 * spec.network_thread_request_cost + spec.cpu_costs.request_fixed_cost).seconds_f();
    CHECK(t > wait_ms * 1e-3 + request_costs);
    CHECK(t < wait_ms * 1e-3 + request_costs + 0.01);
  }
}

TEST_CASE("group coordinator: __consumer_offsets needs as many brokers as its replication factor") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 2, 1, 1);
  spec.offsets_topic_replication_factor = 3;  // Kafka's default
  spec.consumers.push_back(consumer_of("my-group", cluster::CommitAfterPoll::kNone));
  CHECK_THROWS_AS(cluster::World{spec}, std::invalid_argument);
  // Without consumers nobody looks for a coordinator and the topic is never created.
  spec.consumers.clear();
  CHECK_NOTHROW(cluster::World{spec});
  // A single-node cluster sets it to 1 (Kafka's config/server.properties does).
  spec.consumers.push_back(consumer_of("my-group", cluster::CommitAfterPoll::kNone));
  spec.offsets_topic_replication_factor = 1;
  cluster::World world(spec);
  CHECK(world.offsets_topic_replicas().size() == 50);
}
