// Offset commits go to the group coordinator (kafka-behaviour.md §5.1, §5.7): the consumer finds it with
// FindCoordinator, sent to the least-loaded broker over its ordinary connection, and the answer is the leader of
// the __consumer_offsets partition abs(group.hashCode) % offsets.topic.num.partitions.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
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

// Three brokers, one topic of six partitions (RF 3), and a producer of 10,000 records/s (acks=all, linger 1 ms) for
// 2 s; the warm-up ends at 100 ms, before any consumer starts.
cluster::WorldSpec producing_cluster() {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 2_s;
  spec.warmup = 100_ms;
  spec.producers.push_back(test::open_loop_producer(10'000, Acks::all, 1, 512));
  return spec;
}

// The events of `type` for client `client` (client-0 is the first client host), in time order.
std::vector<nlohmann::json> client_events(const cluster::World& world, const std::string& type, int64_t client) {
  std::vector<nlohmann::json> out;
  for (const auto& e : world.events())
    if (e.at("type") == type && e.at("client").get<int64_t>() == client) out.push_back(e);
  return out;
}

// One request and its response on the 10 GbE cluster: two host links each way and the broker's costs for a request.
double request_round_trip_s(const cluster::WorldSpec& spec) {
  const auto nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile("nic-10gbe", cluster::bundled_profile_dir()).params);
  return 4 * nic.link.latency.seconds_f() +
         (2 * spec.network_thread_request_cost + spec.cpu_costs.request_fixed_cost).seconds_f();
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
  CHECK(lookups.local.mean_ms == doctest::Approx(spec.cpu_costs.request_fixed_cost.ms_f()).scale(0).epsilon(0.01));
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

TEST_CASE("group coordinator: a starting consumer finds the coordinator, fetches committed offsets, then resets") {
  // ConsumerCoordinator.initWithCommittedOffsetsIfNeeded (kafka-behaviour.md §5.7): the first poll() of a consumer
  // whose partitions have no position looks the coordinator up, asks it for the group's committed offsets
  // (OffsetFetch), and resets the partitions without one by auto.offset.reset (ListOffsets to each leader) before
  // it fetches. A new group has none: with Kafka's default, latest, the consumer starts at each partition's high
  // watermark and never sees what was produced before.
  auto spec = producing_cluster();
  auto consumer = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  consumer.start_at = 500_ms;
  spec.consumers.push_back(consumer);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  const double round_trip_s = request_round_trip_s(spec);
  const auto found = found_by_group(world);
  REQUIRE(found.count("my-group") == 1);
  const double t_found = found.at("my-group").time_s;
  CHECK(t_found >= 0.5 + round_trip_s);
  CHECK(t_found < 0.5 + round_trip_s + 1e-3);
  // Client-0 is the producer, client-1 the consumer. Every partition is reset, after OffsetFetch and ListOffsets:
  // two more round trips.
  const auto resets = client_events(world, "consumer_offset_reset", 1);
  REQUIRE(resets.size() == 6);
  int64_t reset_sum = 0;
  for (const auto& r : resets) {
    CHECK(r.at("time_s").get<double>() >= t_found + 2 * round_trip_s);
    CHECK(r.at("time_s").get<double>() < t_found + 2 * round_trip_s + 2e-3);
    reset_sum += r.at("offset").get<int64_t>();
  }
  // The high watermarks then add up to what was acknowledged by about 0.5 s: 5,000 records, less those still in the
  // 1 ms linger or replicating, more those sent in the few hundred microseconds of the lookups.
  CHECK(reset_sum >= 5'000 - 6 * 10 - 30);
  CHECK(reset_sum <= 5'000 + 30);
  // Those records are never consumed by the group, and their send times are not kept for it: at the end only the
  // batches of the last few milliseconds wait for the group (about ten records a batch at a 1 ms linger), not the
  // some 500 batches of the first half second.
  CHECK(s.records_consumed <= s.records_acked - static_cast<uint64_t>(reset_sum));
  CHECK(s.records_consumed + 200 >= s.records_acked - static_cast<uint64_t>(reset_sum));
  CHECK(world.batches_awaiting_consumers() <= 100);
  // The brokers' RequestMetrics: one OffsetFetch, at the coordinator.
  CHECK(s.requests[static_cast<size_t>(cluster::RequestKind::offset_fetch)].count == 1);
  CHECK(s.requests[static_cast<size_t>(cluster::RequestKind::list_offsets)].count >= 1);
}

TEST_CASE("group coordinator: a consumer without partitions never looks for the coordinator") {
  // Eight consumers share six partitions by RangeAssignor's ranges: two get none. With nothing to initialise, their first poll
  // needs no committed offsets and so no coordinator (ClassicKafkaConsumer.updateFetchPositions): six lookups and six
  // OffsetFetches, not eight.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 1_s;
  spec.warmup = sim::Duration::from_ns(1);
  spec.producers.push_back(test::open_loop_producer(2'000, Acks::all, 1, 512));
  auto group = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  group.count = 8;
  spec.consumers.push_back(group);
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(found_by_group(world).at("my-group").count == 6);
  CHECK(s.requests[static_cast<size_t>(cluster::RequestKind::offset_fetch)].count == 6);
  CHECK(s.records_consumed > 0);
}

TEST_CASE("static assignment: RangeAssignor's contiguous ranges, the first partitions mod count consumers one more") {
  // kafka-behaviour.md §5.5, RangeAssignor: 8 partitions over 3 consumers give 8 / 3 = 2 each and 8 mod 3 = 2
  // extra to the first two: {0, 1, 2}, {3, 4, 5}, {6, 7}.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 8, 3, 2);
  spec.duration = 200_ms;
  spec.warmup = sim::Duration::from_ns(1);
  auto group = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  group.count = 3;
  spec.consumers.push_back(group);
  cluster::World world(spec);
  world.run();
  const std::vector<std::vector<int32_t>> expected = {{0, 1, 2}, {3, 4, 5}, {6, 7}};
  const auto views = world.consumers();
  REQUIRE(views.size() == 3);
  for (const auto& view : views) {
    CAPTURE(view.instance);
    std::vector<int32_t> partitions;
    for (const kafka::PartitionRef& ref : view.assignment) partitions.push_back(ref.partition);
    CHECK(partitions == expected[view.instance]);
  }
}

TEST_CASE("static assignment: a group's members in several entries are ranked entry by entry") {
  // The same 8 partitions over the same 3 members, now two entries of "my-group": 2 members, then 1 that processes
  // each record for 2 ms. RangeAssignor over all three: {0, 1, 2}, {3, 4, 5}, {6, 7}, the third member's in the second
  // entry. A producer of 4,000 records/s spreads over the 8 partitions, so the slow member is given about 1,000
  // records/s and processes 500 a second (2 ms each): the group's lag grows on its two partitions by about 500 a second
  // (2,000 in the 4 s), and every other partition is read to its head.
  auto spec = producing_cluster();  // its producer (acks=all, linger 1 ms, 512 B), here slower and longer
  spec.topics[0].partitions = 8;
  spec.producers[0].records_per_s = 4'000;
  spec.duration = 4_s;
  spec.warmup = 1_s;
  auto fast = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  fast.count = 2;
  auto slow = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  slow.processing_time_per_record = 2_ms;
  spec.consumers = {fast, slow};
  cluster::World world(spec);
  const auto s = world.run();
  const std::vector<std::vector<int32_t>> expected = {{0, 1, 2}, {3, 4, 5}, {6, 7}};
  const auto views = world.consumers();
  REQUIRE(views.size() == 3);
  int64_t slow_lag = 0;
  for (size_t k = 0; k < views.size(); ++k) {
    const auto& view = views[k];
    CAPTURE(k);
    CHECK(view.spec_index == (k < 2 ? 0u : 1u));
    std::vector<int32_t> partitions;
    for (const kafka::PartitionRef& ref : view.assignment) {
      partitions.push_back(ref.partition);
      const kafka::Partition* leader = world.leader_partition(ref);
      const auto position = view.consumer->position(ref);
      REQUIRE(leader != nullptr);
      REQUIRE(position.has_value());
      const int64_t lag = leader->high_watermark() - *position;
      if (k < 2) CHECK(lag <= 60);  // a poll and a linger behind at most
      else slow_lag += lag;
    }
    CHECK(partitions == expected[k]);
  }
  // The group's one lag figure is about this member's.
  CHECK(slow_lag >= 1'000);
  CHECK(slow_lag <= 3'000);
  REQUIRE(s.group_lag.size() == 1);
  CHECK(s.group_lag[0].lag_end >= slow_lag - 200);
  CHECK(s.group_lag[0].lag_end <= slow_lag + 200);
  // Every record reaches the group once: its partitions have one reader between the two entries, so nothing waits
  // for a second read (no batch kept beyond the slow member's backlog).
  CHECK(s.consumer_skipped == 0);
  CHECK(world.batches_awaiting_consumers() <= static_cast<size_t>(slow_lag / 2 + 200));
}

TEST_CASE("group coordinator: a new group with auto.offset.reset=none gets no position and reads nothing") {
  // ConsumerCoordinator finds no committed offset and the policy is none: poll() throws
  // NoOffsetForPartitionException for every partition (kafka-behaviour.md §5.7). events.jsonl says so per partition.
  auto spec = producing_cluster();
  auto consumer = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  consumer.config.auto_offset_reset = kafka::AutoOffsetReset::none;
  consumer.start_at = 500_ms;
  spec.consumers.push_back(consumer);
  cluster::World world(spec);
  const auto s = world.run();
  const auto none = client_events(world, "consumer_no_offset", 1);
  REQUIRE(none.size() == 6);
  std::set<int64_t> partitions;
  for (const auto& e : none) {
    partitions.insert(e.at("partition").get<int64_t>());
    CHECK(e.at("group") == "my-group");
    CHECK(e.at("time_s").get<double>() > 0.5);  // after the OffsetFetch that found nothing
  }
  CHECK(partitions.size() == 6);
  CHECK(client_events(world, "consumer_offset_reset", 1).empty());
  CHECK(s.records_consumed == 0);
  CHECK(s.requests[static_cast<size_t>(cluster::RequestKind::list_offsets)].count == 0);
}

TEST_CASE("group coordinator: a member that starts after its group has committed starts at the committed offsets") {
  // Two consumers of one group, each reading all six partitions: the first assigns them itself (assign() with the
  // group's id: no member) and auto-commits every 100 ms to the group, then empty; the second, the group's one member,
  // starts at 1 s, when the group has committed offsets for every partition: OffsetFetch returns them and nothing is
  // reset. (The scenario loader refuses an assigning entry and a member entry on one topic; the World takes them.)
  auto spec = producing_cluster();
  auto first = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  first.config.auto_commit_interval = 100_ms;
  first.partitions = {0, 1, 2, 3, 4, 5};
  auto second = consumer_of("my-group", cluster::CommitAfterPoll::kNone);
  second.config.auto_commit_interval = 100_ms;
  second.start_at = 1_s;
  spec.consumers = {first, second};
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  // client-1 and client-2 are the consumers. A new group: the first resets every partition (to 0: nothing is
  // acknowledged in the microseconds before); the second resets none.
  const auto first_resets = client_events(world, "consumer_offset_reset", 1);
  CHECK(first_resets.size() == 6);
  CHECK(client_events(world, "consumer_offset_reset", 2).empty());
  const auto consumers = world.consumers();
  REQUIRE(consumers.size() == 2);
  // The second consumer started at the group's committed offsets: at the end it has consumed from there on, so it
  // ends where the first does (both read every partition to the head), having read less than the whole log.
  for (int32_t p = 0; p < 6; ++p) {
    CAPTURE(p);
    const kafka::PartitionRef ref{0, p};
    const auto a = consumers[0].consumer->position(ref);
    const auto b = consumers[1].consumer->position(ref);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(std::llabs(*a - *b) <= 50);
  }
  // Both read what was produced after 1 s, only the first the first second (10,000 records at 10,000 a second):
  // together twice the acknowledged records less those 10,000, plus what the second read again because the
  // group's commits trail its first member by up to an auto-commit interval and a commit's linger (110 ms, 1,100
  // records), less the few records each has not yet polled at the end.
  const auto acked = static_cast<int64_t>(s.records_acked);
  const auto consumed = static_cast<int64_t>(s.records_consumed);
  CHECK(consumed >= 2 * acked - 10'000 - 300);
  CHECK(consumed <= 2 * acked - 10'000 + 1'100);
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
  // which is retriable: commitSync() sends it again after retryBackoff.backoff(attempts++) (KIP-580: 100 ms x 2^k,
  // +-20 %, up to retry.backoff.max.ms = 1 s) for as long as default.api.timeout.ms (here 1 s) has not passed since
  // the call (ConsumerCoordinator.commitOffsetsSync). The first three retries wait 560-840 ms in all, the fourth at
  // least 640 ms more: every call makes exactly four attempts and gives up, and the application's loop polls once a
  // call, taking at most max.poll.records (500) each time. Without the retries (a timeout of 0) the loop keeps up
  // with the producer.
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
  // One poll at the start and one per call of at least 560 ms after it: seven polls at most in 3.5 s.
  CHECK(retrying.records_consumed <= 7 * 500);
  REQUIRE(attempts.size() >= 3 * 4);
  // The k-th retry of a call comes 100 ms x 2^k +-20 % after the attempt before it, plus an attempt's own time
  // (the 5 ms write timeout and a few links); the next call's first attempt fails one attempt's time after the
  // previous call gave up (the poll in between returns buffered records at once and processing them takes none).
  std::vector<int> per_call{1};
  for (size_t i = 1; i < attempts.size(); ++i) {
    const double gap = attempts[i] - attempts[i - 1];
    CAPTURE(gap);
    if (gap < 0.050) {
      per_call.push_back(1);
      continue;
    }
    const double term = 0.100 * (1 << (per_call.back() - 1));
    CHECK(gap >= 0.8 * term);
    CHECK(gap < 1.2 * term + 0.010);
    ++per_call.back();
  }
  REQUIRE(per_call.size() >= 3);
  for (size_t i = 0; i + 1 < per_call.size(); ++i) CHECK(per_call[i] == 4);
  const auto [giving_up, none] = run(sim::Duration::zero());
  CHECK(giving_up.records_consumed > 1.5 * retrying.records_consumed);
}

TEST_CASE("no group.id: the consumer never talks to a coordinator and resets every partition at once") {
  // Without a group.id Kafka constructs no ConsumerCoordinator: the application assigns the partitions
  // (KafkaConsumer.assign), updateFetchPositions has no committed offsets to fetch, and every partition is reset by
  // auto.offset.reset with ListOffsets at the first poll: one round trip after the start where a group member needs
  // three (FindCoordinator, OffsetFetch, ListOffsets; the test above).
  cluster::ConsumerSpec consumer;  // no group
  consumer.config.enable_auto_commit = false;
  consumer.start_at = 500_ms;
  auto spec = producing_cluster();
  const double round_trip_s = request_round_trip_s(spec);
  spec.consumers.push_back(consumer);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(found_by_group(world).empty());
  const auto resets = client_events(world, "consumer_offset_reset", 1);
  REQUIRE(resets.size() == 6);
  int64_t reset_sum = 0;
  for (const auto& r : resets) {
    CHECK(r.at("time_s").get<double>() >= 0.5 + round_trip_s);
    CHECK(r.at("time_s").get<double>() < 0.5 + round_trip_s + 1e-3);
    CHECK_FALSE(r.contains("group"));
    reset_sum += r.at("offset").get<int64_t>();
  }
  // latest: the high watermarks at about 0.5 s, as for the group above.
  CHECK(reset_sum >= 5'000 - 6 * 10 - 30);
  CHECK(reset_sum <= 5'000 + 30);
  CHECK(s.records_consumed + 200 >= s.records_acked - static_cast<uint64_t>(reset_sum));
  for (const auto kind : {cluster::RequestKind::find_coordinator, cluster::RequestKind::offset_fetch,
                          cluster::RequestKind::offset_commit})
    CHECK(s.requests[static_cast<size_t>(kind)].count == 0);
  // Nobody looked for a coordinator, so Kafka never created __consumer_offsets.
  CHECK(world.offsets_topic_replicas().empty());
  CHECK(world.spec().topics.size() == 1);
  // Its lag is its client's (Kafka's generated client.id for a null group id).
  REQUIRE(s.group_lag.size() == 1);
  CHECK(s.group_lag[0].group == "consumer-null-1");
  CHECK(s.group_lag[0].lag_end < 100);
}

TEST_CASE("no group.id, or seekToEnd without commits: a single broker needs no __consumer_offsets replicas") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 2, 1, 1);
  spec.duration = 1_s;
  spec.warmup = 100_ms;
  spec.offsets_topic_replication_factor = 3;  // Kafka's default, more than the one broker
  spec.producers.push_back(test::open_loop_producer(1'000, Acks::all, 1, 512));
  cluster::ConsumerSpec standalone;  // no group
  standalone.config.enable_auto_commit = false;
  spec.consumers.push_back(standalone);
  {
    cluster::World world(spec);
    const auto s = world.run();
    CHECK(world.offsets_topic_replicas().empty());
    CHECK(s.records_consumed + 20 >= s.records_acked);
  }
  // kafka-e2e-latency's consumer: a group id, but assign() and seekToEnd() and no commits.
  cluster::ConsumerSpec tool = consumer_of("test-group-0", cluster::CommitAfterPoll::kNone);
  tool.config.enable_auto_commit = false;
  tool.seek_to_end = true;
  spec.consumers = {tool};
  CHECK_NOTHROW(cluster::World{spec});
  // Committing, it needs the coordinator: Kafka could not create the topic.
  tool.config.enable_auto_commit = true;
  spec.consumers = {tool};
  CHECK_THROWS_AS(cluster::World{spec}, std::invalid_argument);
  tool.config.enable_auto_commit = false;
  tool.commit = cluster::CommitAfterPoll::kAsync;
  spec.consumers = {tool};
  CHECK_THROWS_AS(cluster::World{spec}, std::invalid_argument);
}

TEST_CASE("assigned partitions: an entry reads only its partitions, split in ranges, and keeps no other batch") {
  // Six partitions; a consumer entry without a group assigns partitions 1, 3 and 4 to its two consumers ({1, 3} and
  // {4}), from the log start. Everything written to them is read, nothing of the other three, and the World keeps no
  // send times waiting for reads that will never come (the other partitions have no reader).
  auto spec = producing_cluster();
  cluster::ConsumerSpec consumer;  // no group
  consumer.config.enable_auto_commit = false;
  consumer.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  consumer.partitions = {1, 3, 4};
  consumer.count = 2;
  const std::vector<std::vector<int32_t>> expected = {{1, 3}, {4}};
  spec.consumers.push_back(consumer);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  const auto views = world.consumers();
  REQUIRE(views.size() == expected.size());
  int64_t written = 0;
  for (const auto& view : views) {
    std::vector<int32_t> partitions;
    for (const kafka::PartitionRef& ref : view.assignment) {
      partitions.push_back(ref.partition);
      const kafka::Partition* leader = world.leader_partition(ref);
      REQUIRE(leader != nullptr);
      written += leader->high_watermark();
      // Read to the head (a fetch round trip and a linger behind it at most).
      const auto position = view.consumer->position(ref);
      REQUIRE(position.has_value());
      CHECK(leader->high_watermark() - *position <= 50);
    }
    CHECK(partitions == expected[view.instance]);
  }
  // The sticky partitioner spreads 20,000 records over six partitions: the three hold about half of them.
  CHECK(written > 5'000);
  CHECK(written < 15'000);
  CHECK(static_cast<int64_t>(s.records_consumed) <= written);
  CHECK(static_cast<int64_t>(s.records_consumed) + 150 >= written);
  CHECK(s.consumer_skipped == 0);
  // Only the unread tail of the three partitions waits for the consumers: tens of batches at a 1 ms linger, not the
  // thousands written to the other three.
  CHECK(world.batches_awaiting_consumers() <= 50);
}

TEST_CASE("assign() with a group.id: its commits are taken while the group has no members, then UNKNOWN_MEMBER_ID") {
  // ClassicGroup.validateOffsetCommit (kafka-behaviour.md §5.3): a commit with generation -1 and no member id is
  // stored only while the group is EMPTY. Two entries of group "shared" assign themselves halves of "events" (one
  // commits synchronously after every poll, one auto-commits every 100 ms); a member of the same group, reading
  // another topic, joins at 1 s. The first assigner's process is restarted at 1.5 s.
  const auto run = [](bool member_joins) {
    auto spec = producing_cluster();
    cluster::TopicSpec other = spec.topics[0];
    other.name = "other";
    other.partitions = 2;
    spec.topics.push_back(other);
    auto first = test::group_member("shared");
    first.partitions = {0, 1, 2};
    first.commit = cluster::CommitAfterPoll::kSync;
    first.config.enable_auto_commit = false;
    first.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    auto second = test::group_member("shared");
    second.partitions = {3, 4, 5};
    second.config.auto_commit_interval = 100_ms;
    second.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    spec.consumers = {first, second};
    if (member_joins) {
      auto member = test::group_member("shared");
      member.topic = 1;
      member.start_at = 1_s;
      spec.consumers.push_back(member);
    }
    spec.faults.push_back(test::fault(cluster::FaultKind::consumer_restart, 4, 1500_ms));  // brokers 0-2, producer 3
    auto world = std::make_unique<cluster::World>(spec);
    const auto s = world->run();
    return std::make_pair(std::move(world), s);
  };

  SUBCASE("without a member every commit is taken: the restarted process resumes where it was") {
    const auto [world, s] = run(false);
    CHECK(s.offset_commits_failed.empty());
    CHECK(world->events().end() == std::find_if(world->events().begin(), world->events().end(), [](const auto& e) {
            return e.at("type") == "offset_commit_failed";
          }));
    // Committed after every poll: the new process is given again at most the one poll it had not committed.
    CHECK(s.duplicates <= 500);
  }
  SUBCASE("once the member has joined, both assigners' commits fail and nothing of theirs is stored") {
    const auto [world, s] = run(true);
    int64_t failed_first = 0, failed_second = 0;
    for (const auto& e : world->events()) {
      if (e.at("type") != "offset_commit_failed") continue;
      CHECK(e.at("error") == "UNKNOWN_MEMBER_ID");
      CHECK(e.at("group") == "shared");
      CHECK(e.at("time_s").get<double>() >= 1.0);  // none before the member joined
      (e.at("client").get<int64_t>() == 1 ? failed_first : failed_second) += 1;
    }
    // The auto-committer commits its three partitions every 100 ms for the last second: about 10 x 3.
    CHECK(failed_second >= 8 * 3);
    CHECK(failed_second <= 11 * 3);
    // The synchronous committer commits after each poll, every few ms.
    CHECK(failed_first >= 100);
    REQUIRE(s.offset_commits_failed.size() == 1);
    CHECK(s.offset_commits_failed.at("UNKNOWN_MEMBER_ID") == static_cast<uint64_t>(failed_first + failed_second));
    // The second assigner's committed offsets stayed those of just before 1 s: about half of each partition's log at
    // the end of the 2 s run (the producer's rate is constant), while its position is at the head.
    for (const auto& view : world->consumers()) {
      if (view.spec_index != 1) continue;
      for (const kafka::PartitionRef& ref : view.assignment) {
        CAPTURE(ref.partition);
        const auto committed = view.consumer->committed(ref);
        const kafka::Partition* leader = world->leader_partition(ref);
        REQUIRE(committed.has_value());
        REQUIRE(leader != nullptr);
        const double share = static_cast<double>(*committed) / static_cast<double>(leader->high_watermark());
        CHECK(share > 0.35);
        CHECK(share < 0.65);
      }
    }
    // The first assigner's new process fetched the offsets committed before 1 s: the records of its three partitions
    // from then to 1.5 s (half of 10,000 records/s for 0.5 s, about 2,500) are given to it again.
    CHECK(s.duplicates >= 1'500);
    CHECK(s.duplicates <= 3'500);
  }
}
