// Offset commits go to the group coordinator (kafka-behaviour.md §5.1, §5.7): the consumer finds it with
// FindCoordinator, sent to the least-loaded broker over its ordinary connection, and the answer is the leader of
// the __consumer_offsets partition abs(group.hashCode) % offsets.topic.num.partitions.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <variant>

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
  // The brokers' RequestMetrics: two lookups, answered by one I/O-thread step (request_fixed_cost). Every
  // OffsetCommit waits group.coordinator.append.linger.ms after its I/O-thread step (no other write shares its batch:
  // each group has its own partition, and a consumer's connection carries one commit at a time), and is answered only
  // once both followers have the batch and the leader knows it (the high watermark passed it, kafka-behaviour.md
  // §5.7): the followers' parked fetches are answered (two links), and their next fetches come back (two links).
  // On idle 10 GbE that is well under a millisecond more.
  const auto& lookups = s.requests[static_cast<size_t>(cluster::RequestKind::find_coordinator)];
  const auto& commits = s.requests[static_cast<size_t>(cluster::RequestKind::offset_commit)];
  CHECK(lookups.count == 2);
  CHECK(lookups.local.mean_ms == doctest::Approx(spec.cpu_costs.request_fixed_cost.ms_f()).epsilon(0.01));
  CHECK(lookups.remote.max_ms == 0.0);
  CHECK(commits.count > 100);
  const auto nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile("nic-10gbe", cluster::bundled_profile_dir()).params);
  const double linger_ms = spec.group_coordinator_append_linger.ms_f();
  // The histogram's buckets are 0.1 % wide.
  CHECK(commits.remote.p50_ms >= (linger_ms + 4 * nic.link.latency.ms_f()) * 0.999);
  CHECK(commits.remote.mean_ms >= linger_ms + 4 * nic.link.latency.ms_f());
  CHECK(commits.remote.max_ms < linger_ms + 1.0);
  // The commits went into the groups' __consumer_offsets partitions, one record per committed partition, replicated
  // to all three replicas; the other 48 partitions stayed empty.
  for (int32_t p = 0; p < 50; ++p) {
    CAPTURE(p);
    const kafka::PartitionRef ref{world.offsets_topic(), p};
    const auto* leader = world.partition(static_cast<uint32_t>(offsets[static_cast<size_t>(p)].front()), ref);
    REQUIRE(leader != nullptr);
    if (p != 12 && p != 47) {
      CHECK(leader->log_end_offset() == 0);
      continue;
    }
    CHECK(leader->high_watermark() >= static_cast<int64_t>(commits.count / 2));
    for (const kafka::NodeId r : offsets[static_cast<size_t>(p)]) {
      const auto* replica = world.partition(static_cast<uint32_t>(r), ref);
      REQUIRE(replica != nullptr);
      CHECK(replica->log_end_offset() >= leader->high_watermark());
    }
  }
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

TEST_CASE("group coordinator: a commit whose write is not replicated within offsets.commit.timeout.ms fails") {
  // offsets.commit.timeout.ms counts from the write, and the write waits group.coordinator.append.linger.ms before
  // its batch is even appended: with a timeout shorter than the linger every commit fails, with
  // COORDINATOR_NOT_AVAILABLE (REQUEST_TIMED_OUT as GroupCoordinatorService maps it), and nothing is committed. The
  // records are still appended and replicated, as the coordinator runtime's are.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 1_s;
  spec.warmup = 100_ms;
  spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 0, 512));
  auto consumer = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  consumer.config.auto_commit_interval = 100_ms;
  spec.consumers.push_back(consumer);
  spec.offsets_commit_timeout = 5_ms;  // the linger is 10 ms
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.records_consumed > 0);
  int64_t failed = 0;
  for (const auto& e : world.events()) {
    if (e.at("type") != "offset_commit_failed") continue;
    ++failed;
    CHECK(e.at("error") == "COORDINATOR_NOT_AVAILABLE");
    CHECK(e.at("group") == "my-group");
  }
  // One commit of 6 partitions about every 100 ms for 1 s (a retriable failure retries after retry.backoff.ms).
  CHECK(failed >= 6 * 9);
  for (const auto& view : world.consumers())
    for (const kafka::PartitionRef& ref : view.assignment) CHECK(view.consumer->committed(ref).value_or(0) == 0);
  const kafka::PartitionRef ref{world.offsets_topic(), 12};
  const auto& replicas = world.offsets_topic_replicas()[12];
  const auto* leader = world.partition(static_cast<uint32_t>(replicas.front()), ref);
  REQUIRE(leader != nullptr);
  CHECK(leader->log_end_offset() >= failed);
}

TEST_CASE("group coordinator: __consumer_offsets is a topic of the cluster, with its own configs") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.consumers.push_back(consumer_of("my-group", cluster::CommitAfterPoll::kNone));
  cluster::World world(spec);
  REQUIRE(world.offsets_topic() == 1);  // after the scenario's one topic
  const cluster::TopicSpec& topic = world.spec().topics.at(1);
  CHECK(topic.name == "__consumer_offsets");
  CHECK(topic.partitions == 50);
  CHECK(topic.replication_factor == 3);
  // GroupCoordinatorService.groupMetadataTopicConfigs: compacted, the producer's codec, 100 MiB segments.
  CHECK(topic.config.log.segment_bytes == 104'857'600);
  CHECK_FALSE(topic.config.log.cleanup_policy_delete);
  // Without consumers there is no such topic.
  spec.consumers.clear();
  cluster::World without(spec);
  CHECK(without.offsets_topic() == -1);
  CHECK(without.spec().topics.size() == 1);
}

TEST_CASE("group coordinator: commitSync retries a commit that failed retriably until default.api.timeout.ms") {
  // Every commit fails (offsets.commit.timeout.ms below the coordinator's linger), with COORDINATOR_NOT_AVAILABLE,
  // which is retriable: commitSync() sends it again retry.backoff.ms (100 ms) later for as long as
  // default.api.timeout.ms (here 1 s) has not passed since the call (ConsumerCoordinator.commitOffsetsSync), so the
  // application's loop polls about once a second, and takes at most max.poll.records (500) each time. Without the
  // retries (a timeout of 0) the loop keeps up with the producer.
  auto run = [](sim::Duration api_timeout) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 3500_ms;
    spec.warmup = 100_ms;
    spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 0, 512));
    auto consumer = consumer_of("my-group", cluster::CommitAfterPoll::kSync);
    consumer.config.enable_auto_commit = false;
    consumer.config.default_api_timeout = api_timeout;
    spec.consumers.push_back(consumer);
    spec.offsets_commit_timeout = 5_ms;
    cluster::World world(spec);
    const auto s = world.run();
    std::vector<double> attempts;  // the failed commits of partition 0, one per attempt
    for (const auto& e : world.events())
      if (e.at("type") == "offset_commit_failed" && e.at("partition") == 0) attempts.push_back(e.at("time_s"));
    return std::pair{s, attempts};
  };
  const auto [retrying, attempts] = run(1_s);
  // One poll at the start and about one a second after: four polls at most in 3.5 s.
  CHECK(retrying.records_consumed <= 4 * 500);
  REQUIRE(attempts.size() >= 2 * 9);
  // Attempts of one call are retry.backoff.ms apart plus an attempt's own time (the 5 ms write timeout and a few
  // links); the next call's first attempt fails one attempt's time after the previous call gave up (the poll in
  // between returns buffered records at once and processing them takes no time here).
  std::vector<int> per_call{1};
  for (size_t i = 1; i < attempts.size(); ++i) {
    const double gap = attempts[i] - attempts[i - 1];
    CAPTURE(gap);
    if (gap < 0.100) {
      CHECK(gap < 0.010);
      per_call.push_back(1);
    } else {
      CHECK(gap < 0.110);
      ++per_call.back();
    }
  }
  // Every call that ended gave up after about ten attempts: the last one starts less than retry.backoff.ms before
  // the timer's end (1 s / (100 ms + an attempt)).
  REQUIRE(per_call.size() >= 3);
  for (size_t i = 0; i + 1 < per_call.size(); ++i) {
    CHECK(per_call[i] >= 9);
    CHECK(per_call[i] <= 10);
  }
  const auto [giving_up, none] = run(sim::Duration::zero());
  CHECK(giving_up.records_consumed > 3 * retrying.records_consumed);
}
