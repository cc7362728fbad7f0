// The scenario's "operations": kafka-configs --alter at given times (docs/scenarios.md "Operations"). Expectations
// from what the configs mean, not from earlier runs:
//  - a change at 0 s is the same cluster as one configured so from the start (nothing has reached a broker yet);
//  - a broker's throttle rate is its own dynamic config, else the cluster-wide <default>, else the static one
//    (DynamicBrokerConfig's order), and deleting a config falls back one step;
//  - min.insync.replicas holds from the instant it changes: raised above a shrunk ISR, the partitions are under
//    min ISR at once and their high watermarks stop (§3.3 rule 1), so no acks=all record is acknowledged until the
//    minimum is lowered again; the stretch ends at that instant.
#include <doctest/doctest.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

cluster::ConfigAlterSpec alter(sim::Duration at, cluster::ConfigEntityType type, std::optional<std::string> name) {
  cluster::ConfigAlterSpec op;
  op.at = at;
  op.entity_type = type;
  op.entity_name = std::move(name);
  return op;
}

// One partition, RF 3, 2,000 records/s of 512 B with acks=all for 20 s (1 s of warm-up); with `change`, its topic's
// configs altered by it at 5 s.
cluster::WorldSpec one_partition(const std::function<void(kafka::PartitionConfig&)>& change) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 1, 3, 2);
  spec.duration = 20_s;
  spec.warmup = 1_s;
  spec.producers.push_back(test::open_loop_producer(2000, Acks::all, 5, 512));
  if (change) {
    auto op = alter(5_s, cluster::ConfigEntityType::topics, "events");
    op.topic = 0;
    op.topic_config = spec.topics[0].config;
    change(op.topic_config);
    spec.config_alters.push_back(op);
  }
  return spec;
}

}  // namespace

TEST_CASE("operations: a client quota added at 0 s gives the run the same quota gives from the start") {
  const auto run = [](bool dynamic) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 2, 1, 1);
    spec.duration = 25_s;
    spec.warmup = 5_s;
    auto producer = test::open_loop_producer(4000, Acks::leader, 5, 1000);  // 4x the quota below
    producer.config.client_id_config = "capped";
    producer.config.enable_idempotence = false;
    spec.producers.push_back(producer);
    if (dynamic) {
      auto op = alter(0_s, cluster::ConfigEntityType::clients, "capped");
      op.added = {{"producer_byte_rate", 1048576.0}};
      op.changes = {"producer_byte_rate=1048576"};
      spec.config_alters.push_back(op);
    } else {
      cluster::ClientQuotaSpec q;
      q.client_id = "capped";
      q.producer_byte_rate = 1048576.0;
      spec.client_quotas.push_back(q);
    }
    return cluster::World(spec).run();
  };
  const auto fixed = run(false);
  const auto dynamic = run(true);
  REQUIRE(fixed.quotas.size() == 1);
  REQUIRE(dynamic.quotas.size() == 1);
  CHECK(fixed.quotas[0].produce.throttled > 0);  // the quota binds
  CHECK(dynamic.quotas[0].produce.throttled == fixed.quotas[0].produce.throttled);
  CHECK(dynamic.quotas[0].produce.responses == fixed.quotas[0].produce.responses);
  CHECK(dynamic.records_acked == fixed.records_acked);
  CHECK(dynamic.produce_latency.p99_ms == fixed.produce_latency.p99_ms);
  CHECK(dynamic.produce_latency.max_ms == fixed.produce_latency.max_ms);
  // One event more: the operation's own.
  CHECK(dynamic.events == fixed.events + 1);
  REQUIRE(dynamic.operations.size() == 1);
  CHECK(dynamic.operations[0].entity == "clients capped");
  CHECK(dynamic.operations[0].at_s == 0.0);
}

TEST_CASE("operations: a broker's replication throttle rate is its own, else the <default>, else the static one") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 3, 2);
  spec.duration = 5_s;
  spec.warmup = 1_s;
  spec.leader_replication_throttled_rate = 100'000'000;  // static, every broker
  spec.topics[0].config.leader_throttled_replicas.all = true;
  spec.producers.push_back(test::open_loop_producer(1000, Acks::all, 5, 1000));
  const auto rates = [&](std::vector<cluster::ConfigAlterSpec> ops) {
    auto s = spec;
    s.config_alters = std::move(ops);
    const auto summary = cluster::World(s).run();
    std::vector<double> out;
    for (const auto& r : summary.replication_throttle) out.push_back(r.leader.bound.value_or(-1));
    return out;
  };
  const auto set = [](sim::Duration at, std::optional<std::string> broker, double rate) {
    auto op = alter(at, cluster::ConfigEntityType::brokers, std::move(broker));
    op.added = {{"leader.replication.throttled.rate", rate}};
    return op;
  };
  const auto unset = [](sim::Duration at, std::optional<std::string> broker) {
    auto op = alter(at, cluster::ConfigEntityType::brokers, std::move(broker));
    op.deleted = {"leader.replication.throttled.rate"};
    return op;
  };
  CHECK(rates({}) == std::vector<double>{1e8, 1e8, 1e8});
  CHECK(rates({set(1_s, std::nullopt, 2e7)}) == std::vector<double>{2e7, 2e7, 2e7});
  // Broker 1's own rate wins over the default, whichever comes first.
  CHECK(rates({set(1_s, "1", 3e7), set(2_s, std::nullopt, 2e7)}) == std::vector<double>{2e7, 3e7, 2e7});
  CHECK(rates({set(1_s, std::nullopt, 2e7), set(2_s, "1", 3e7)}) == std::vector<double>{2e7, 3e7, 2e7});
  // Deleting the default leaves the static rate under broker 1's own; deleting that too, the static rate.
  CHECK(rates({set(1_s, "1", 3e7), set(1_s, std::nullopt, 2e7), unset(2_s, std::nullopt)}) ==
        std::vector<double>{1e8, 3e7, 1e8});
  CHECK(rates({set(1_s, "1", 3e7), unset(2_s, "1")}) == std::vector<double>{1e8, 1e8, 1e8});
}

TEST_CASE("operations: min.insync.replicas raised above a shrunk ISR stops acks=all until it is deleted again") {
  // Three partitions, one led by each broker (RF 3); broker 1 pauses 5-10 s, and with replica.lag.time.max.ms = 1 s
  // the two other leaders drop it from their ISRs 1.0-1.5 s later (the ISR check runs every 500 ms). With
  // min.insync.replicas 2 those partitions keep committing on two replicas; raised to 3 at 2 s, they are under min
  // ISR from the shrink until the config is deleted at 8 s (back to 2).
  struct Run {
    std::unique_ptr<cluster::World> world;
    cluster::WorldSummary summary;
  };
  const auto run = [](bool alter_min_isr) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 3, 2);
    spec.duration = 14_s;
    spec.warmup = 1_s;
    spec.broker_config.replica_lag_time_max_ms = 1000;
    spec.producers.push_back(test::open_loop_producer(3000, Acks::all, 5, 1000));
    spec.faults.push_back(test::fault(cluster::FaultKind::pause, 1, 5_s, 5_s));
    if (alter_min_isr) {
      auto raise = alter(2_s, cluster::ConfigEntityType::topics, "events");
      raise.topic = 0;
      raise.topic_config = spec.topics[0].config;
      raise.topic_config.min_insync_replicas = 3;
      auto restore = alter(8_s, cluster::ConfigEntityType::topics, "events");
      restore.topic = 0;
      restore.topic_config = spec.topics[0].config;
      restore.topic_config.min_insync_replicas.reset();  // the broker's, 1
      spec.config_alters = {raise, restore};
    }
    Run r{std::make_unique<cluster::World>(spec), {}};
    r.summary = r.world->run();
    return r;
  };
  const Run plain_run = run(false);
  const Run raised_run = run(true);
  const auto& plain = plain_run.summary;
  const auto& raised = raised_run.summary;
  CHECK(plain.isr_shrinks == 2);
  CHECK(raised.isr_shrinks == 2);
  CHECK(plain.under_min_isr.partition_seconds == 0.0);
  // Two partitions from their shrink at 6.0-6.5 s to 8 s.
  CHECK(raised.under_min_isr.partition_seconds >= 2 * (8.0 - 6.5));
  CHECK(raised.under_min_isr.partition_seconds <= 2 * (8.0 - 6.0));
  REQUIRE(raised.under_min_isr.longest_end_s.has_value());
  CHECK(*raised.under_min_isr.longest_end_s == doctest::Approx(8.0).scale(0).epsilon(1e-9));
  CHECK(raised.under_min_isr.at_end == 0);
  // In the second before the deletion (7-8 s) the plain cluster acknowledges records on the two in-sync replicas of
  // the partitions broker 1 does not lead; with the minimum at 3 nothing is acknowledged (broker 1's own partition
  // waits for the pause). After the deletion the high watermarks move at their next step (§3.3: an append, a
  // follower's LEO moving, an ISR change), at the latest when broker 1 is back at 10 s.
  // Row r of timeseries.csv is the second (r, r + 1] s.
  const auto acked_in = [](const cluster::World& world, size_t row) {
    REQUIRE(world.timeseries().rows() > row);
    return world.timeseries().value(row, "throughput_mib_per_s");
  };
  CHECK(acked_in(*plain_run.world, 7) > 0.5);  // ~2/3 of 2.9 MiB/s
  CHECK(acked_in(*raised_run.world, 7) == 0.0);
  CHECK(acked_in(*raised_run.world, 10) > 0.5);
  // Nothing failed: NOT_ENOUGH_REPLICAS is retriable and the waiting requests complete once the HW moves.
  CHECK(raised.records_failed == 0);
  CHECK(raised.records_acked == plain.records_acked);
}

TEST_CASE("operations: segment.ms and segment.bytes altered roll the topic's segments by the new rule from then on") {
  // One partition, RF 3, 2,000 records/s of 512 B: until 5 s one segment (1 GiB, 7 days). segment.ms = 1,000 from 5 s:
  // the first append after the change rolls (the segment is 5 s old), then one roll a second, so the leader holds
  // 1 + 15 segments at 20 s, give or take one (a roll happens at the first append past each second). segment.bytes =
  // 1 MiB from 5 s instead: every segment rolled after the change holds at most 1 MiB and more than 1 MiB less one
  // batch (a roll comes before the append that would pass the bound).
  const auto segments = [](const std::string& name, int64_t value) {
    cluster::World world(one_partition([&](kafka::PartitionConfig& c) {
      if (name == "segment.ms") c.log.segment_ms = value;
      else c.log.segment_bytes = value;
    }));
    world.run();
    const kafka::Partition* leader = world.leader_partition({0, 0});
    REQUIRE(leader != nullptr);
    std::vector<int64_t> sizes;
    for (const auto& segment : leader->log().segments()) sizes.push_back(segment.size_bytes());
    return sizes;
  };
  const auto by_time = segments("segment.ms", 1000);
  CHECK(by_time.size() >= 15);
  CHECK(by_time.size() <= 17);
  const auto by_size = segments("segment.bytes", 1'048'576);
  // ~1 MB a second after 5 s: 15 s make about 14 full segments after the first.
  REQUIRE(by_size.size() >= 10);
  for (size_t i = 1; i + 1 < by_size.size(); ++i) {
    CAPTURE(i);
    CHECK(by_size[i] <= 1'048'576);
    CHECK(by_size[i] > 1'048'576 - 32'768);
  }
}

TEST_CASE("operations: flush.messages and flush.ms altered make the logs fsync by the new rule from then on") {
  // One partition, RF 3, 2,000 records/s of 512 B with acks=all: no flush before the change (Kafka's defaults never
  // flush; the checkpoint files' fsyncs are not segment flushes).
  const auto flushes = [](const std::string& name, int64_t value, bool change) {
    auto spec = one_partition(change ? std::function<void(kafka::PartitionConfig&)>([&](kafka::PartitionConfig& c) {
      if (name == "flush.messages") c.log.flush_messages = value;
      else c.log.flush_ms = value;
    }) : nullptr);
    spec.retention_initial_delay = 1_s;
    spec.log_flush_scheduler_interval_ms = 1000;
    return cluster::World(spec).run();
  };
  const auto none = flushes("", 0, false);
  CHECK(none.log_flush_time.count == 0);
  // flush.messages = 1 from 5 s: every append of the three replicas after 5 s fsyncs its segment (a flush is at least
  // one per leader append: the leader appends each ProduceRequest's batch).
  const auto every = flushes("flush.messages", 1, true);
  const double produce_after = static_cast<double>(every.produce_requests) * 15.0 / 20.0;
  CHECK(static_cast<double>(every.log_flush_time.count) >= produce_after * 0.9);
  CHECK(static_cast<double>(every.log_flush_time.count) <= static_cast<double>(every.produce_requests) * 3);
  // flush.ms = 1,000 from 5 s, with the log flusher every 1 s: each of the three replicas' logs fsyncs once a run
  // of the flusher from 6 s (its last flush is the start), 14 or 15 runs to 20 s: 42-45.
  const auto timed = flushes("flush.ms", 1000, true);
  CHECK(timed.log_flush_time.count >= 42);
  CHECK(timed.log_flush_time.count <= 45);
}

TEST_CASE("operations: the brokers' topic defaults altered cluster-wide reach every topic that does not set its own") {
  // Two topics, one partition each, RF 3, 2,000 records/s of 512 B to each: "plain" sets nothing, "own" sets
  // segment.bytes (512 MiB) and min.insync.replicas (2) itself. At 5 s the brokers' defaults become log.segment.bytes
  // 1 MiB and min.insync.replicas 3 (kafka-configs --entity-type brokers --entity-default): "plain" rolls 1 MiB
  // segments from then on and needs three in-sync replicas; "own" keeps its 512 MiB segments and its minimum of 2.
  const nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "defaults", "seed": 1, "duration": "20s", "warmup": "1s",
    "cluster": {"brokers": 3},
    "topics": [{"name": "plain", "partitions": 1, "replication.factor": 3},
               {"name": "own", "partitions": 1, "replication.factor": 3,
                "config": {"segment.bytes": 536870912, "min.insync.replicas": 2}}],
    "producers": [{"topic": "plain", "workload": {"rate": 2000, "record_size": 512}, "config": {"acks": "all"}},
                  {"topic": "own", "workload": {"rate": 2000, "record_size": 512}, "config": {"acks": "all"}}],
    "operations": [{"at": "5s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
                    "add-config": {"log.segment.bytes": 1048576, "min.insync.replicas": 3}}]})");
  cluster::WorldSpec spec = cluster::parse_scenario(doc, "defaults.json");
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.records_failed == 0);
  const kafka::Partition* plain = world.leader_partition({0, 0});
  const kafka::Partition* own = world.leader_partition({1, 0});
  REQUIRE(plain != nullptr);
  REQUIRE(own != nullptr);
  CHECK(plain->effective_min_isr() == 3);
  CHECK(own->effective_min_isr() == 2);
  // ~1 MB a second for 15 s: about 14 full 1 MiB segments after the first on "plain", one segment on "own".
  const auto& plain_segments = plain->log().segments();
  CHECK(plain_segments.size() >= 12);
  for (size_t i = 1; i + 1 < plain_segments.size(); ++i) {
    CAPTURE(i);
    CHECK(plain_segments[i].size_bytes() <= 1'048'576);
    CHECK(plain_segments[i].size_bytes() > 1'048'576 - 32'768);
  }
  CHECK(own->log().segments().size() == 1);
  // Deleting the default again: back to the static config (1 GiB) for segments rolled after it.
  nlohmann::json back = doc;
  back["operations"].push_back(nlohmann::json::parse(R"({"at": "10s", "tool": "kafka-configs", "entity-type": "brokers",
                                                          "entity-default": true, "delete-config": ["log.segment.bytes"]})"));
  cluster::WorldSpec spec2 = cluster::parse_scenario(back, "defaults.json");
  cluster::World world2(spec2);
  world2.run();
  // Rolled from 5 s to 10 s only: about 5 segments, the last one open since.
  const size_t rolled = world2.leader_partition({0, 0})->log().segments().size();
  CHECK(rolled >= 4);
  CHECK(rolled <= 7);
  // log.flush.interval.ms as a default from 5 s (the log flusher every second from 1 s): the same run as flush.ms
  // altered on both topics at 5 s, which neither sets; none without either.
  nlohmann::json flush = doc;
  flush["cluster"]["config"] = {{"log.flush.scheduler.interval.ms", 1000}, {"log.initial.task.delay.ms", 1000},
                                {"log.flush.interval.ms", std::numeric_limits<int64_t>::max()}};
  flush["operations"] = nlohmann::json::parse(R"([{"at": "5s", "tool": "kafka-configs", "entity-type": "brokers",
                                                   "entity-default": true, "add-config": {"log.flush.interval.ms": 1000}}])");
  const auto by_default = cluster::World(cluster::parse_scenario(flush, "defaults.json")).run();
  flush["operations"] = nlohmann::json::parse(R"([
    {"at": "5s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "plain", "add-config": {"flush.ms": 1000}},
    {"at": "5s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "own", "add-config": {"flush.ms": 1000}}])");
  const auto by_topic = cluster::World(cluster::parse_scenario(flush, "defaults.json")).run();
  flush["operations"] = nlohmann::json::array();
  const auto never = cluster::World(cluster::parse_scenario(flush, "defaults.json")).run();
  CHECK(by_default.log_flush_time.count > 0);
  CHECK(by_default.log_flush_time.count == by_topic.log_flush_time.count);
  CHECK(by_default.records_acked == by_topic.records_acked);
  CHECK(never.log_flush_time.count == 0);
}

TEST_CASE("operations: kafka-delete-records moves every replica's log start, and a consumer behind it resets") {
  // One partition, RF 3, 2,000 records/s with acks=all; a consumer that processes 1 ms a record (1,000 a second) so
  // that at 10 s it is about 10,000 records behind; segments of 1 MiB (about half a second each) and a retention
  // check every second from 1 s. kafka-delete-records with offset -1 at 10 s deletes below the leader's HW then: about 20,000
  // records (2,000 a second for 10 s, less those not yet replicated: acks=all with linger.ms 5 holds a few ms).
  const auto run = [](kafka::AutoOffsetReset reset) {
    auto spec = one_partition(nullptr);
    spec.topics[0].config.log.segment_bytes = 1'048'576;
    spec.retention_check_interval = 1_s;
    spec.retention_initial_delay = 1_s;  // log.initial.task.delay.ms, 30 s by default
    cluster::ConsumerSpec c;
    c.group = "g";
    c.topic = 0;
    c.processing_time_per_record = 1_ms;
    c.config.auto_offset_reset = reset;
    spec.consumers.push_back(c);
    cluster::DeleteRecordsSpec d;
    d.at = 10_s;
    d.partitions.push_back({.topic = 0, .partition = 0, .offset = -1});
    spec.delete_records.push_back(d);
    auto world = std::make_unique<cluster::World>(spec);
    auto summary = world->run();
    return std::make_pair(std::move(world), std::move(summary));
  };
  for (const auto reset : {kafka::AutoOffsetReset::earliest, kafka::AutoOffsetReset::latest}) {
    CAPTURE(static_cast<int>(reset));
    const auto [world, s] = run(reset);
    REQUIRE(s.operations.size() == 1);
    CHECK(s.operations[0].tool == "kafka-delete-records");
    REQUIRE(s.operations[0].deleted.size() == 1);
    const auto& d = s.operations[0].deleted[0];
    const int64_t offset = d.requested_offset;
    CHECK(offset <= 20'000);
    CHECK(offset >= 19'900);
    // Answered once both followers reported the new log start: the fetch whose response carries it and the one
    // after, each returning with the next batch (every 5 ms at this rate); 50 ms is a loose bound.
    CHECK(d.error == "NONE");
    CHECK(d.low_watermark == offset);
    REQUIRE(d.answered_s.has_value());
    CHECK(*d.answered_s > 10.0);
    CHECK(*d.answered_s < 10.05);
    // Every record below the new log start had been acknowledged (acks=all, nothing failed): all counted deleted,
    // none lost.
    CHECK(s.acked_records_deleted == static_cast<uint64_t>(offset));
    CHECK(s.acked_records_lost == 0);
    CHECK(s.consumer_skipped == 0);
    // Every replica's log starts there, and retention removed every segment wholly below it.
    for (uint32_t b = 0; b < 3; ++b) {
      const kafka::Partition* p = world->partition(b, {0, 0});
      REQUIRE(p != nullptr);
      CHECK(p->log_start_offset() == offset);
      CHECK(p->log().segments().front().base_offset() <= offset);
      CHECK(p->log().segments().front().next_offset() > offset);
    }
    // The consumer (client 4: brokers 0-2, the producer 3) was behind: one reset after 10 s, to the log start with
    // earliest, to the HW of then with latest (at least the log start, at most what 2,000 a second had sent).
    std::vector<nlohmann::json> resets;
    for (const auto& e : world->events())
      if (e.at("type") == "consumer_offset_reset" && e.at("time_s").get<double>() > 10.0) resets.push_back(e);
    REQUIRE(resets.size() == 1);
    const int64_t to = resets[0].at("offset").get<int64_t>();
    if (reset == kafka::AutoOffsetReset::earliest) {
      CHECK(to == offset);
    } else {
      CHECK(to > offset);
      CHECK(to <= static_cast<int64_t>(2'000 * resets[0].at("time_s").get<double>()) + 1);
    }
  }
}

TEST_CASE("operations: num.replica.fetchers altered moves each followed partition to its fetcher under the new count") {
  // AbstractFetcherManager.resizeThreadPool takes every partition out of its fetcher and adds it again under
  // getFetcherId with the new count, so a partition changes fetcher exactly when its fetcher id under the old count
  // differs from the one under the new (Kafka's hash, checked in fetcher_replica_fetcher_test.cpp). Three brokers,
  // 60 partitions RF 3, 20,000 records/s acks=all: cluster-wide 1 -> 2 at 2 s, 2 -> 4 at 3 s, and in a second run
  // also back to 2 at 4 s (fetchers #2 and #3 shut down, their requests possibly in flight).
  const auto run = [](const std::vector<std::pair<sim::Duration, int32_t>>& steps) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 60, 3, 2);
    spec.duration = 6_s;
    spec.warmup = 1_s;
    spec.producers.push_back(test::open_loop_producer(20'000, Acks::all, 5, 512));
    for (const auto& [at, fetchers] : steps) {
      auto op = alter(at, cluster::ConfigEntityType::brokers, std::nullopt);
      op.added = {{"num.replica.fetchers", static_cast<double>(fetchers)}};
      op.changes = {"num.replica.fetchers=" + std::to_string(fetchers)};
      spec.config_alters.push_back(op);
    }
    auto world = std::make_unique<cluster::World>(spec);
    auto summary = world->run();
    return std::make_pair(std::move(world), std::move(summary));
  };
  const std::vector<std::pair<sim::Duration, int32_t>> grow = {{2_s, 2}, {3_s, 4}};
  std::vector<std::pair<sim::Duration, int32_t>> grow_shrink = grow;
  grow_shrink.emplace_back(4_s, 2);
  for (const auto& steps : {grow, grow_shrink}) {
    CAPTURE(steps.size());
    const auto [world, s] = run(steps);
    std::vector<nlohmann::json> resized;
    for (const auto& e : world->events())
      if (e.at("type") == "replica_fetchers_resized") resized.push_back(e);
    REQUIRE(resized.size() == 3 * steps.size());  // every broker, at each step
    int32_t before = 1;
    for (size_t step = 0; step < steps.size(); ++step) {
      const int32_t after = steps[step].second;
      for (uint32_t b = 0; b < 3; ++b) {
        CAPTURE(step);
        CAPTURE(b);
        const nlohmann::json& e = resized[step * 3 + b];
        CHECK(e.at("broker").get<uint32_t>() == b);
        CHECK(e.at("num_replica_fetchers").get<int32_t>() == after);
        int64_t moving = 0;
        for (int32_t p = 0; p < 60; ++p) {
          const kafka::Partition* replica = world->partition(b, {0, p});
          REQUIRE(replica != nullptr);  // RF 3 on 3 brokers: every broker holds every partition
          if (replica->is_leader()) continue;
          moving += kafka::fetcher_id_for("events", p, before) != kafka::fetcher_id_for("events", p, after) ? 1 : 0;
        }
        CHECK(e.at("partitions_moved").get<int64_t>() == moving);
        CHECK(moving > 0);
      }
      before = after;
    }
    // Replication goes on throughout: every record acknowledged, none lost.
    CHECK(s.records_failed == 0);
    CHECK(s.acked_records_lost == 0);
    CHECK(s.throughput_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
    if (steps.size() == 2) {
      // Growing, the partitions that move go to new fetchers, which fetch at once: no stall.
      CHECK(s.produce_latency.max_ms < 50);
    } else {
      // Shrinking, they go to fetchers that stay, whose fetch in flight may be parked at the leader: a fetcher thread
      // takes its new partitions only when that fetch returns (ReplicaFetcherBlockingSend: the thread is blocked in
      // it), which new data on its old partitions would end at once; but acks=all requests that wait for the moved
      // partitions fill the producer's five requests in flight to that leader, no new data comes, and the fetch
      // returns at replica.fetch.wait.max.ms (500 ms). So some acknowledgements wait about that long, not longer.
      CHECK(s.produce_latency.max_ms > 400);
      CHECK(s.produce_latency.max_ms < 500 + 50);
    }
  }
}
