// A bounded, seeded fuzzer of whole runs: random but valid scenarios (brokers, disks, NICs, racks, topics,
// producers, consumer groups, broker and client configs, TLS, client quotas, replication throttling, fetch from
// follower, hardware faults and consumer restarts, now and then a disk that fills) are loaded as a user's file would
// be and run for a few simulated seconds. Every one must load, run to its end (or stop with RunError where its small
// disk fills) without an assertion (the World's invariants and the state machines' preconditions) or another
// exception, account for its records consistently, keep its time under-replicated and under min ISR within bounds,
// and pass the durability check (no acknowledged record missing from its leader's log, none skipped by a consumer);
// every fourth is run twice and must give the same events and trace hash (determinism). Combinations of features
// are where earlier sessions' throwaway generators found crashes (a commitAsync pile-up, an arrival scheduled in the
// past); this keeps such a generator in the tree.
//
// KAFKASIM_FUZZ_RUNS (default 24) and KAFKASIM_FUZZ_SEED (default 1) widen it outside CI, and KAFKASIM_FUZZ_VERBOSE=1
// prints each run's events and wall time (to find slow corners: the wall clock never enters a simulation), e.g.
//   KAFKASIM_FUZZ_RUNS=500 KAFKASIM_FUZZ_SEED=1000 build/tests/fuzz_world_fuzz_test
// A failure prints the scenario; save it as a file and `kafkasim run` it to reproduce.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/run_output.hpp"
#include "kafkasim/cluster/world.hpp"
#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using json = nlohmann::json;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

template <typename T>
const T& pick(sim::Rng& rng, const std::vector<T>& options) {
  return options[rng.uniform_u64(options.size())];
}

std::string ms(int64_t v) { return std::to_string(v) + "ms"; }

// One random scenario. Ranges keep a run to a few seconds of wall time: at most 5 brokers, 48 partitions a topic,
// 60,000 records/s offered in all, 1-3 simulated seconds.
json random_scenario(sim::Rng& rng, uint64_t seed) {
  json s;
  s["name"] = "fuzz-" + std::to_string(seed);
  s["seed"] = seed;
  const int64_t duration_ms = rng.uniform_int(1'000, 3'000);
  s["duration"] = ms(duration_ms);
  s["warmup"] = ms(rng.uniform_int(100, 500));

  const int64_t brokers = rng.uniform_int(1, 5);
  json broker_hw = {{"disk", pick<std::string>(rng, {"nvme-datacentre", "ssd-sata", "hdd-7200rpm"})},
                    {"nic", pick<std::string>(rng, {"nic-1gbe", "nic-10gbe", "nic-25gbe"})},
                    {"log_dirs", rng.uniform_int(1, 3)}};
  if (rng.chance(1, 3)) broker_hw["ram"] = pick<std::string>(rng, {"8GiB", "16GiB", "64GiB"});
  if (rng.chance(1, 4)) broker_hw["young_gc"] = false;
  // Now and then a disk small enough to fill within the run (an inline copy of the profile): the run must then stop
  // with RunError at the write that fills it, and not before. Drawn from a stream of its own, so that every other
  // choice of a seed's scenario is what it was before this was added.
  sim::Rng disk_rng = sim::Rng::stream(seed, "fuzz/world/disk");
  if (disk_rng.chance(1, 8)) {
    const std::filesystem::path profile = std::filesystem::path(KAFKASIM_SOURCE_DIR) / "scenarios" / "hardware" /
                                          (broker_hw["disk"].get<std::string>() + ".json");
    json disk = json::parse(test::slurp(profile));
    disk["name"] = "small-" + disk["name"].get<std::string>();
    disk["parameters"]["capacity_bytes"]["value"] = disk_rng.uniform_int(1, 32) << 20;
    disk["parameters"]["capacity_bytes"]["source"] = "fuzz: a disk that may fill within the run";
    broker_hw["disk"] = disk;
  }
  // Now and then EBS volumes, some with an empty burst bucket (a derived profile), from a stream of their own.
  sim::Rng ebs_rng = sim::Rng::stream(seed, "fuzz/world/ebs");
  if (broker_hw["disk"].is_string() && ebs_rng.chance(1, 6)) {
    const std::string ebs = pick<std::string>(ebs_rng, {"ebs-gp3", "ebs-gp2", "ebs-st1", "ebs-io2"});
    broker_hw["disk"] = ebs;
    if ((ebs == "ebs-gp2" || ebs == "ebs-st1") && ebs_rng.chance(1, 2))
      broker_hw["disk"] = {{"base", ebs}, {"parameters", {{"burst_balance", ebs_rng.uniform_real(0, 0.001)}}}};
    // Half of them behind an instance's EBS limits, some with a nearly spent burst and a short one.
    if (ebs_rng.chance(1, 2)) {
      const std::string instance = pick<std::string>(ebs_rng, {"ec2-m5.large", "ec2-m5.xlarge", "ec2-m5.4xlarge"});
      broker_hw["ebs_instance"] = instance;
      if (instance != "ec2-m5.4xlarge" && ebs_rng.chance(1, 2))
        broker_hw["ebs_instance"] = {{"base", instance},
                                     {"parameters",
                                      {{"burst_balance", ebs_rng.uniform_real(0, 0.01)},
                                       {"burst_duration", std::to_string(ebs_rng.uniform_int(1, 20)) + "s"}}}};
    }
  }
  s["hardware"] = {{"broker", broker_hw}, {"client", {{"nic", pick<std::string>(rng, {"nic-1gbe", "nic-10gbe"})}}}};

  json config = json::object();
  if (rng.chance(1, 2)) config["num.network.threads"] = rng.uniform_int(1, 4);
  if (rng.chance(1, 2)) config["num.io.threads"] = rng.uniform_int(1, 8);
  if (rng.chance(1, 3)) config["num.replica.fetchers"] = rng.uniform_int(1, 3);
  // replica.fetch.wait.max.ms may not exceed replica.lag.time.max.ms (the loader holds Kafka's rule).
  const int64_t lag_ms = rng.chance(1, 3) ? rng.uniform_int(200, 2'000) : 30'000;
  if (lag_ms < 30'000) config["replica.lag.time.max.ms"] = lag_ms;
  if (lag_ms < 500 || rng.chance(1, 3)) config["replica.fetch.wait.max.ms"] = rng.uniform_int(10, std::min<int64_t>(500, lag_ms));
  if (rng.chance(1, 4)) config["queued.max.requests"] = rng.uniform_int(2, 500);
  if (rng.chance(1, 4)) config["log.segment.bytes"] = rng.uniform_int(1 << 20, 64 << 20);
  if (rng.chance(1, 5)) config["log.flush.interval.messages"] = rng.uniform_int(1, 1'000);
  if (rng.chance(1, 5)) config["socket.receive.buffer.bytes"] = pick<int64_t>(rng, {-1, 65'536, 102'400, 1'048'576});
  if (rng.chance(1, 6)) config["security.inter.broker.protocol"] = "SSL";
  const int64_t racks = rng.uniform_int(1, brokers);
  const bool follower_fetching = racks > 1 && rng.chance(1, 3);
  if (follower_fetching) config["replica.selector.class"] = "org.apache.kafka.common.replica.RackAwareReplicaSelector";
  s["cluster"] = {{"brokers", brokers}, {"racks", racks}, {"config", config}};
  if (rng.chance(1, 6)) {
    s["cluster"]["quotas"] = json::array({{{"client-id", "<default>"},
                                           {"producer_byte_rate", rng.uniform_int(100'000, 20'000'000)},
                                           {"consumer_byte_rate", rng.uniform_int(100'000, 20'000'000)}}});
    if (rng.chance(1, 2)) s["cluster"]["quotas"][0]["request_percentage"] = rng.uniform_int(5, 200);
  }

  const bool with_consumers = rng.chance(2, 3);
  if (with_consumers && brokers < 3) s["cluster"]["config"]["offsets.topic.replication.factor"] = brokers;

  json topics = json::array();
  const int64_t topic_count = rng.uniform_int(1, 2);
  for (int64_t t = 0; t < topic_count; ++t) {
    const int64_t rf = rng.uniform_int(1, std::min<int64_t>(3, brokers));
    json topic = {{"name", "topic-" + std::to_string(t)},
                  {"partitions", rng.uniform_int(1, 48)},
                  {"replication.factor", rf}};
    json tc = json::object();
    tc["min.insync.replicas"] = rng.uniform_int(1, rf);
    if (rng.chance(1, 5)) tc["flush.messages"] = rng.uniform_int(1, 100);
    if (rng.chance(1, 5)) tc["segment.bytes"] = rng.uniform_int(1 << 20, 16 << 20);
    if (rng.chance(1, 4)) {
      // Retention that acts within the run: segments of 1-4 MiB or ~1 s, deleted by size or age from the first
      // retention check (log.initial.task.delay.ms, then every log.retention.check.interval.ms).
      if (rng.chance(1, 2)) tc["retention.bytes"] = rng.uniform_int(1 << 20, 8 << 20);
      else tc["retention.ms"] = rng.uniform_int(0, 1'500);
      if (rng.chance(1, 2)) tc["segment.ms"] = rng.uniform_int(100, 1'000);
      s["cluster"]["config"]["log.initial.task.delay.ms"] = rng.uniform_int(0, 500);
      s["cluster"]["config"]["log.retention.check.interval.ms"] = rng.uniform_int(100, 1'000);
    }
    // Below the producers' batches at times: Kafka's producer splits a rejected batch (KIP-126).
    if (rng.chance(1, 4)) tc["max.message.bytes"] = rng.uniform_int(2'000, 40'000);
    if (rng.chance(1, 6)) tc["message.timestamp.type"] = "LogAppendTime";
    if (rng.chance(1, 8)) tc["compression.type"] = pick<std::string>(rng, {"producer", "lz4", "zstd", "uncompressed"});
    topic["config"] = tc;
    topics.push_back(topic);
  }
  // Compacted topics now and then, from a stream of their own so that the draws above and below stay as they were:
  // their leaders refuse records without keys (INVALID_RECORD), and a compact-only topic never deletes.
  sim::Rng cleanup_rng = sim::Rng::stream(seed, "fuzz/world/cleanup-policy");
  for (auto& topic : topics)
    if (cleanup_rng.chance(1, 8)) topic["config"]["cleanup.policy"] = cleanup_rng.chance(1, 2) ? "compact" : "compact,delete";
  // Timestamp bounds now and then, from a stream of their own: a leader refuses records more than
  // message.timestamp.before.max.ms old (INVALID_TIMESTAMP), which pauses, slow disks and backlogs make.
  sim::Rng timestamp_rng = sim::Rng::stream(seed, "fuzz/world/timestamp-bounds");
  for (auto& topic : topics)
    if (timestamp_rng.chance(1, 6))
      topic["config"]["message.timestamp.before.max.ms"] = timestamp_rng.uniform_int(10, 2'000);
  s["topics"] = topics;
  // Replication throttling now and then (kafka-behaviour-2.md §11), from a stream of its own as the small disk is:
  // leader and follower rates, and per topic "*" or random partition:broker entries.
  sim::Rng throttle_rng = sim::Rng::stream(seed, "fuzz/world/replication-throttle");
  if (throttle_rng.chance(1, 5)) {
    if (throttle_rng.chance(2, 3))
      s["cluster"]["config"]["leader.replication.throttled.rate"] = throttle_rng.uniform_int(100'000, 50'000'000);
    if (throttle_rng.chance(1, 2))
      s["cluster"]["config"]["follower.replication.throttled.rate"] = throttle_rng.uniform_int(100'000, 50'000'000);
    if (throttle_rng.chance(1, 3))
      s["cluster"]["config"]["replication.quota.window.num"] = throttle_rng.uniform_int(1, 11);
    for (auto& topic : s["topics"]) {
      for (const char* key : {"leader.replication.throttled.replicas", "follower.replication.throttled.replicas"}) {
        if (!throttle_rng.chance(2, 3)) continue;
        if (throttle_rng.chance(1, 2)) {
          topic["config"][key] = "*";
        } else {
          std::string entries;
          for (int64_t i = throttle_rng.uniform_int(1, 6); i > 0; --i)
            entries += (entries.empty() ? "" : ",") + std::to_string(throttle_rng.uniform_int(0, 47)) + ":" +
                       std::to_string(throttle_rng.uniform_int(0, brokers - 1));
          topic["config"][key] = entries;
        }
      }
    }
  }

  json producers = json::array();
  int64_t clients = 0;
  const int64_t producer_entries = rng.uniform_int(1, 3);
  for (int64_t p = 0; p < producer_entries; ++p) {
    const int64_t count = rng.uniform_int(1, 2);
    json workload = json::object();
    if (rng.chance(1, 6)) {
      workload["closed_loop"] = {{"threads", rng.uniform_int(1, 8)}};
    } else {
      workload["rate"] = rng.uniform_int(100, 60'000 / (producer_entries * count));
      workload["arrival"] = pick<std::string>(rng, {"constant", "poisson"});
    }
    switch (rng.uniform_u64(3)) {
      case 0: workload["record_size"] = rng.uniform_int(10, 4'000); break;
      case 1: workload["record_size"] = {{"distribution", "uniform"}, {"min", 50}, {"max", rng.uniform_int(51, 5'000)}}; break;
      default: workload["record_size"] = {{"distribution", "lognormal"}, {"median", 500}, {"sigma", 0.8}, {"max", 50'000}}; break;
    }
    if (rng.chance(1, 3)) {
      workload["keys"] = {{"distribution", "uniform"}, {"count", rng.uniform_int(1, 5'000)}};
      if (rng.chance(1, 2)) {
        workload["keys"]["distribution"] = "zipf";
        workload["keys"]["exponent"] = rng.uniform_real(0.5, 1.5);
      }
    }
    json pc = json::object();
    pc["acks"] = pick<std::string>(rng, {"0", "1", "all"});
    if (rng.chance(2, 3)) pc["linger.ms"] = rng.uniform_int(0, 20);
    if (rng.chance(1, 2)) pc["batch.size"] = rng.uniform_int(1'024, 131'072);
    if (rng.chance(1, 3)) pc["compression.type"] = pick<std::string>(rng, {"none", "gzip", "snappy", "lz4", "zstd"});
    if (rng.chance(1, 3)) pc["max.in.flight.requests.per.connection"] = rng.uniform_int(1, 5);
    if (rng.chance(1, 4)) pc["buffer.memory"] = rng.uniform_int(256 << 10, 64 << 20);
    if (rng.chance(1, 5)) pc["enable.idempotence"] = false;
    if (rng.chance(1, 6)) pc["request.timeout.ms"] = rng.uniform_int(200, 30'000);
    if (rng.chance(1, 8)) {
      pc["delivery.timeout.ms"] = rng.uniform_int(100, 2'000);
      pc["request.timeout.ms"] = rng.uniform_int(50, pc["delivery.timeout.ms"].get<int64_t>());
      pc["linger.ms"] = 0;
    }
    if (rng.chance(1, 8)) pc["max.request.size"] = rng.uniform_int(8'192, 1'048'576);
    if (rng.chance(1, 8)) pc["security.protocol"] = "SSL";
    if (rng.chance(1, 10)) pc["partitioner.class"] = "org.apache.kafka.clients.producer.RoundRobinPartitioner";
    producers.push_back({{"topic", "topic-" + std::to_string(rng.uniform_int(0, topic_count - 1))},
                         {"count", count},
                         {"workload", workload},
                         {"config", pc}});
    clients += count;
  }
  // Now and then an open-loop producer offering several times what it did, with little buffer.memory, so that send()
  // blocks and the schedule's records queue behind it (a stream of its own: the other draws stay as they were).
  sim::Rng overload_rng = sim::Rng::stream(seed, "fuzz/world/overload");
  if (overload_rng.chance(1, 6)) {
    json& p = producers[static_cast<size_t>(overload_rng.uniform_int(0, static_cast<int64_t>(producers.size()) - 1))];
    if (p["workload"].contains("rate")) {
      p["workload"]["rate"] = p["workload"]["rate"].get<int64_t>() * overload_rng.uniform_int(5, 20);
      p["config"]["buffer.memory"] = overload_rng.uniform_int(256 << 10, 4 << 20);
    }
  }
  // Now and then records stamped off their send time (a stream of its own): a backfill older than any retention, a
  // clock an hour or two ahead (Kafka 4's after.max.ms is 1 h), or a few seconds either way.
  sim::Rng stamp_rng = sim::Rng::stream(seed, "fuzz/world/timestamp-offset");
  for (json& p : producers) {
    if (!stamp_rng.chance(1, 8)) continue;
    const std::string few_seconds = std::to_string(stamp_rng.uniform_int(-5'000, 5'000)) + "ms";
    p["workload"]["timestamp_offset"] = pick<std::string>(stamp_rng, {"-8d", "-1h", "59min", "2h", few_seconds});
  }
  s["producers"] = producers;

  json consumers = json::array();
  std::vector<int64_t> consumer_clients;
  if (with_consumers) {
    const int64_t groups = rng.uniform_int(1, 2);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t count = rng.uniform_int(1, 3);
      json cc = json::object();
      if (rng.chance(1, 3)) cc["max.poll.records"] = rng.uniform_int(1, 1'000);
      if (rng.chance(1, 3)) cc["fetch.min.bytes"] = rng.uniform_int(1, 100'000);
      if (rng.chance(1, 3)) cc["fetch.max.wait.ms"] = rng.uniform_int(1, 500);
      if (rng.chance(1, 4)) cc["auto.offset.reset"] = pick<std::string>(rng, {"earliest", "latest"});
      if (rng.chance(1, 4)) cc["auto.commit.interval.ms"] = rng.uniform_int(100, 5'000);
      if (rng.chance(1, 6)) cc["security.protocol"] = "SSL";
      if (follower_fetching && rng.chance(2, 3)) cc["client.rack"] = "rack-" + std::to_string(rng.uniform_int(0, racks - 1));
      const int64_t read_topic = rng.uniform_int(0, topic_count - 1);
      json group = {{"group", "group-" + std::to_string(g)},
                    {"topic", "topic-" + std::to_string(read_topic)},
                    {"count", count},
                    {"commit", pick<std::string>(rng, {"none", "async", "sync"})},
                    {"config", cc}};
      if (rng.chance(1, 3)) group["processing_time"] = std::to_string(rng.uniform_int(0, 200)) + "us";
      if (rng.chance(1, 4)) group["start_at"] = ms(rng.uniform_int(0, duration_ms / 2));
      if (rng.chance(1, 4)) {  // the application assigns some of the topic's partitions (a non-empty subset)
        const int64_t partitions = topics[static_cast<size_t>(read_topic)]["partitions"].get<int64_t>();
        json assigned = json::array();
        for (int64_t p = 0; p < partitions; ++p)
          if (rng.chance(1, 2)) assigned.push_back(p);
        if (assigned.empty()) assigned.push_back(rng.uniform_int(0, partitions - 1));
        group["partitions"] = assigned;
      }
      // Now and then an entry shares an earlier entry's group: on another topic, or on the same one when both are
      // members (the group's partitions are ranked over both), or both assign partitions and none is in both. A
      // member of the group makes an assigning entry's commits fail (UNKNOWN_MEMBER_ID).
      if (rng.chance(group.contains("partitions") ? 2 : 1, 3)) {
        // Each earlier group's entries on this topic must all be members with this one, or all assign partitions
        // none of which this one assigns too.
        const auto fits = [&](const json& earlier) {
          if (earlier["topic"] != group["topic"]) return true;
          if (earlier.contains("partitions") != group.contains("partitions")) return false;
          if (!group.contains("partitions")) return true;
          for (const json& p : group["partitions"])
            if (std::find(earlier["partitions"].begin(), earlier["partitions"].end(), p) != earlier["partitions"].end())
              return false;
          return true;
        };
        std::set<std::string> names, refused;
        for (const json& earlier : consumers) {
          if (!earlier.contains("group")) continue;
          names.insert(earlier["group"].get<std::string>());
          if (!fits(earlier)) refused.insert(earlier["group"].get<std::string>());
        }
        std::vector<std::string> shareable;
        for (const std::string& name : names)
          if (refused.count(name) == 0) shareable.push_back(name);
        if (!shareable.empty())
          group["group"] =
              shareable[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(shareable.size()) - 1))];
      }
      if (rng.chance(1, 4)) {  // no group.id: assign(), no coordinator, no commits
        group.erase("group");
        group["commit"] = "none";
        group["config"].erase("auto.commit.interval.ms");
        if (rng.chance(1, 2)) group["config"]["enable.auto.commit"] = false;
      }
      consumers.push_back(group);
      for (int64_t c = 0; c < count; ++c) consumer_clients.push_back(clients + c);
      clients += count;
    }
  }
  s["consumers"] = consumers;

  // Faults: at most one of each type on a host, so none overlap.
  json faults = json::array();
  const int64_t fault_count = rng.uniform_int(0, 3);
  std::vector<std::string> used;
  for (int64_t f = 0; f < fault_count; ++f) {
    const std::string type = pick<std::string>(rng, {"slow_disk", "stalled_disk", "slow_cpu", "pause", "slow_network",
                                                     "drop_caches", "memory_pressure", "consumer_restart"});
    std::string host = "broker-" + std::to_string(rng.uniform_int(0, brokers - 1));
    if (type == "consumer_restart") {
      if (consumer_clients.empty()) continue;
      host = "client-" + std::to_string(pick(rng, consumer_clients));
    } else if (type == "slow_network" && rng.chance(1, 3)) {
      host = "client-" + std::to_string(rng.uniform_int(0, clients - 1));
    }
    if (std::find(used.begin(), used.end(), type + host) != used.end()) continue;
    used.push_back(type + host);
    json fault = {{"type", type}, {"host", host}, {"at", ms(rng.uniform_int(0, duration_ms - 1))}};
    const bool instant = type == "drop_caches";
    if (!instant && (type == "pause" || rng.chance(2, 3))) fault["duration"] = ms(rng.uniform_int(1, type == "pause" ? 3'000 : 1'500));
    if (type == "slow_disk") {
      fault["latency_multiplier"] = rng.uniform_real(1, 20);
      if (rng.chance(1, 2)) fault["bandwidth_multiplier"] = rng.uniform_real(0.05, 1);
    } else if (type == "slow_cpu") {
      fault["speed"] = rng.uniform_real(0.1, 1);
    } else if (type == "slow_network") {
      fault["extra_latency"] = std::to_string(rng.uniform_int(0, 5'000)) + "us";
      if (rng.chance(1, 2)) fault["bandwidth_multiplier"] = rng.uniform_real(0.01, 1);
      if (rng.chance(1, 3)) fault["jitter"] = std::to_string(rng.uniform_int(0, 2'000)) + "us";
      if (rng.chance(1, 4)) fault["loss"] = rng.uniform_real(0, 0.05);
    } else if (type == "memory_pressure") {
      // Below the smallest page cache generated: 8 GiB of RAM less the 6 GiB heap and 1 GiB of other memory.
      fault["bytes"] = pick<std::string>(rng, {"64MiB", "512MiB"});
    }
    faults.push_back(fault);
  }
  // A producer's process restarted, drawn from its own stream so that every other choice of a seed stays as it was.
  sim::Rng restart_rng = sim::Rng::stream(seed, "fuzz/world/producer-restart");
  uint64_t producer_clients = 0;
  for (const json& p : s["producers"]) producer_clients += static_cast<uint64_t>(p.value("count", int64_t{1}));
  if (producer_clients > 0 && restart_rng.chance(1, 4)) {
    json fault = {{"type", "producer_restart"},
                  {"host", "client-" + std::to_string(restart_rng.uniform_int(0, static_cast<int64_t>(producer_clients) - 1))},
                  {"at", ms(restart_rng.uniform_int(0, duration_ms - 1))}};
    if (restart_rng.chance(2, 3)) fault["duration"] = ms(restart_rng.uniform_int(1, 1'500));
    // Now and then the new process deploys other configs: ones valid over any entry's (batch.size within the
    // smallest buffer.memory drawn, in-flight within idempotence's 5).
    if (restart_rng.chance(1, 3))
      fault["config"] = {{"batch.size", restart_rng.uniform_int(1'024, 262'144)},
                         {"max.in.flight.requests.per.connection", restart_rng.uniform_int(1, 5)}};
    faults.push_back(fault);
  }
  // Now and then a consumer's restart deploys other configs and a processing time, from a stream of its own.
  sim::Rng consumer_restart_rng = sim::Rng::stream(seed, "fuzz/world/consumer-restart");
  for (json& fault : faults) {
    if (fault["type"] != "consumer_restart" || !consumer_restart_rng.chance(1, 2)) continue;
    fault["config"] = {{"max.poll.records", consumer_restart_rng.uniform_int(1, 1'000)},
                       {"fetch.min.bytes", consumer_restart_rng.uniform_int(1, 100'000)}};
    if (consumer_restart_rng.chance(1, 2))
      fault["processing_time"] = std::to_string(consumer_restart_rng.uniform_int(0, 2'000)) + "us";
  }
  s["faults"] = faults;
  // kafka-configs --alter during the run (the scenario's "operations"), from a stream of its own: client quotas (the
  // <default> client-id, or a producer's generated id), throttle rates (a broker or every broker), topic configs.
  sim::Rng ops_rng = sim::Rng::stream(seed, "fuzz/world/operations");
  if (ops_rng.chance(1, 3)) {
    json ops = json::array();
    for (int64_t i = ops_rng.uniform_int(1, 4); i > 0; --i) {
      json op = {{"at", ms(ops_rng.uniform_int(0, duration_ms - 1))}, {"tool", "kafka-configs"}};
      const int64_t kind = ops_rng.uniform_int(0, 2);
      const bool remove = ops_rng.chance(1, 4);
      if (kind == 0) {
        op["entity-type"] = "clients";
        if (ops_rng.chance(1, 2)) op["entity-default"] = true;
        else op["entity-name"] = "producer-1";
        const std::string key = pick<std::string>(ops_rng, {"producer_byte_rate", "consumer_byte_rate", "request_percentage"});
        if (remove) op["delete-config"] = json::array({key});
        else op["add-config"] = {{key, key == "request_percentage" ? ops_rng.uniform_int(5, 200)
                                                                  : ops_rng.uniform_int(100'000, 20'000'000)}};
      } else if (kind == 1) {
        op["entity-type"] = "brokers";
        if (ops_rng.chance(1, 2)) op["entity-default"] = true;
        else op["entity-name"] = std::to_string(ops_rng.uniform_int(0, brokers - 1));
        const std::string key = ops_rng.chance(1, 2) ? "leader.replication.throttled.rate"
                                                     : "follower.replication.throttled.rate";
        if (remove) op["delete-config"] = json::array({key});
        else op["add-config"] = {{key, ops_rng.uniform_int(100'000, 50'000'000)}};
        // Now and then the topics' defaults too, cluster-wide.
        if (op.contains("entity-default") && ops_rng.chance(1, 2)) {
          const std::string def = pick<std::string>(ops_rng, {"log.retention.ms", "log.segment.bytes", "min.insync.replicas"});
          if (ops_rng.chance(1, 4)) op["delete-config"].push_back(def);
          else if (def == "log.retention.ms") op["add-config"][def] = ops_rng.uniform_int(100, 5'000);
          else if (def == "log.segment.bytes") op["add-config"][def] = ops_rng.uniform_int(1 << 20, 64 << 20);
          else op["add-config"][def] = ops_rng.uniform_int(1, 3);
        }
      } else {
        op["entity-type"] = "topics";
        const json& topics_made = s["topics"];
        const json& topic = topics_made[static_cast<size_t>(ops_rng.uniform_int(0, static_cast<int64_t>(topics_made.size()) - 1))];
        op["entity-name"] = topic["name"];
        const std::string key = pick<std::string>(ops_rng, {"retention.ms", "retention.bytes", "min.insync.replicas",
                                                            "max.message.bytes", "leader.replication.throttled.replicas",
                                                            "follower.replication.throttled.replicas", "segment.ms",
                                                            "segment.bytes", "flush.messages", "flush.ms"});
        if (remove) {
          op["delete-config"] = json::array({key});
        } else if (key == "retention.ms") {
          op["add-config"] = {{key, ops_rng.uniform_int(100, 5'000)}};
        } else if (key == "retention.bytes") {
          op["add-config"] = {{key, ops_rng.uniform_int(1 << 20, 64 << 20)}};
        } else if (key == "min.insync.replicas") {
          op["add-config"] = {{key, ops_rng.uniform_int(1, topic.value("replication.factor", int64_t{1}) + 1)}};
        } else if (key == "segment.ms") {
          op["add-config"] = {{key, ops_rng.uniform_int(100, 5'000)}};
        } else if (key == "segment.bytes") {
          op["add-config"] = {{key, ops_rng.uniform_int(1 << 20, 64 << 20)}};
        } else if (key == "max.message.bytes") {
          op["add-config"] = {{key, ops_rng.uniform_int(1'000, 2'000'000)}};
        } else if (key == "flush.messages") {
          op["add-config"] = {{key, ops_rng.uniform_int(1, 10'000)}};
        } else if (key == "flush.ms") {
          op["add-config"] = {{key, ops_rng.uniform_int(0, 5'000)}};
        } else {
          op["add-config"] = {{key, "*"}};
        }
      }
      ops.push_back(op);
    }
    s["operations"] = ops;
  }
  // Now and then DynamicThreadPool's pools resized during the run, each step one Kafka allows (half to double the count
  // there is), each from a stream of its own: num.io.threads once, for a broker or cluster-wide; num.replica.fetchers
  // once or twice cluster-wide (every followed partition moves to its fetcher under the new count); background.threads
  // once.
  const auto resize = [&](const std::string& name, int64_t static_count, const char* stream, int64_t one_in,
                          int64_t max_steps, bool per_broker) {
    sim::Rng pool_rng = sim::Rng::stream(seed, stream);
    if (!pool_rng.chance(1, one_in)) return;
    int64_t count = s["cluster"]["config"].value(name, static_count);
    int64_t at_ms = 0;
    for (int64_t i = pool_rng.uniform_int(1, max_steps); i > 0 && at_ms < duration_ms - 1; --i) {
      at_ms = pool_rng.uniform_int(at_ms, duration_ms - 1);
      count = pool_rng.uniform_int(std::max<int64_t>(1, (count + 1) / 2), count * 2);
      json op = {{"at", ms(at_ms)}, {"tool", "kafka-configs"}, {"entity-type", "brokers"}, {"add-config", {{name, count}}}};
      if (!per_broker || pool_rng.chance(1, 2)) op["entity-default"] = true;
      else op["entity-name"] = std::to_string(pool_rng.uniform_int(0, brokers - 1));
      if (!s.contains("operations")) s["operations"] = json::array();
      s["operations"].push_back(op);
    }
  };
  resize("num.io.threads", 8, "fuzz/world/io-threads", 4, 1, true);
  resize("num.replica.fetchers", 1, "fuzz/world/replica-fetchers", 4, 2, false);
  resize("background.threads", 10, "fuzz/world/background-threads", 6, 1, true);
  // Now and then a kafka-delete-records run: up to three partitions, each to its high watermark or to an offset that
  // may lie above it (answered OFFSET_OUT_OF_RANGE), from a stream of its own.
  sim::Rng delete_rng = sim::Rng::stream(seed, "fuzz/world/delete-records");
  if (delete_rng.chance(1, 4)) {
    json partitions = json::array();
    std::set<std::pair<std::string, int64_t>> taken;
    for (int64_t i = delete_rng.uniform_int(1, 3); i > 0; --i) {
      const json& topics_made = s["topics"];
      const json& topic = topics_made[static_cast<size_t>(delete_rng.uniform_int(0, static_cast<int64_t>(topics_made.size()) - 1))];
      const int64_t partition = delete_rng.uniform_int(0, topic.value("partitions", int64_t{1}) - 1);
      if (!taken.insert({topic["name"].get<std::string>(), partition}).second) continue;
      partitions.push_back({{"topic", topic["name"]},
                            {"partition", partition},
                            {"offset", delete_rng.chance(1, 2) ? int64_t{-1} : delete_rng.uniform_int(0, 50'000)}});
    }
    json op = {{"at", ms(delete_rng.uniform_int(0, duration_ms - 1))},
               {"tool", "kafka-delete-records"},
               {"offset-json", {{"partitions", partitions}, {"version", 1}}}};
    if (!s.contains("operations")) s["operations"] = json::array();
    s["operations"].push_back(op);
  }
  return s;
}

}  // namespace

TEST_CASE("fuzz: random valid scenarios with faults load, run to their end without an assertion, and repeat exactly") {
  const std::filesystem::path root = KAFKASIM_SOURCE_DIR;
  const uint64_t runs = env_or("KAFKASIM_FUZZ_RUNS", 24);
  const uint64_t first_seed = env_or("KAFKASIM_FUZZ_SEED", 1);
  const bool verbose = env_or("KAFKASIM_FUZZ_VERBOSE", 0) != 0;  // each run's events and wall time (slow corners)
  test::ThrowOnAssert throw_on_assert;
  uint64_t events = 0, faulted = 0;
  uint64_t with_splits = 0, with_retries = 0, with_failures = 0, with_deletions = 0, with_duplicates = 0,
           with_isr_shrinks = 0, with_reordering = 0, with_full_disk = 0, with_invalid_records = 0,
           with_invalid_timestamps = 0, with_short_arrivals = 0, with_kafka_wakeups = 0;
  for (uint64_t seed = first_seed; seed < first_seed + runs; ++seed) {
    sim::Rng rng = sim::Rng::stream(seed, "fuzz/world");
    const json doc = random_scenario(rng, seed);
    CAPTURE(seed);
    INFO("scenario: " << doc.dump());
    try {
      cluster::WorldSpec spec = cluster::parse_scenario(doc, (root / "scenarios" / "fuzz.json").string());
      // A quarter of the runs measure their utilisations from a time within the run (consumer-perf-test --start-at),
      // drawn from a stream of its own so the scenarios stay those of the seed.
      if (sim::Rng from_rng = sim::Rng::stream(seed, "fuzz/world/utilisation_from"); from_rng.uniform_u64(4) == 0)
        spec.utilisation_from = sim::Duration::from_ns(static_cast<int64_t>(
            from_rng.uniform_u64(static_cast<uint64_t>(spec.duration.ns()))));
      CAPTURE(spec.utilisation_from.ns());
      cluster::World world(spec);
      const auto started = std::chrono::steady_clock::now();
      const cluster::WorldSummary s = world.run();
      if (verbose) {
        const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        MESSAGE("seed " << seed << ": " << s.events << " events, " << wall_s << " s wall, "
                        << s.simulated_seconds / wall_s << "x real time");
      }
      events += s.events;
      if (!spec.faults.empty()) ++faulted;
      // What the runs reached, for the closing message: paths a generator change could silently stop covering.
      if (s.batch_splits > 0) ++with_splits;
      if (s.record_retries > 0) ++with_retries;
      if (s.records_failed > 0) ++with_failures;
      if (s.acked_records_deleted > 0) ++with_deletions;
      if (s.duplicates > 0) ++with_duplicates;
      if (s.isr_shrinks > 0) ++with_isr_shrinks;
      CHECK(s.simulated_seconds == doctest::Approx(spec.duration.seconds_f()).scale(0).epsilon(1e-9));
      CHECK(s.records_acked + s.records_failed + s.records_lost_in_restarts <= s.records_sent);
      // An EBS volume never moves more bytes than its throughput limit allows at its burst rate (st1/sc1 charge at
      // least the bytes moved), give or take the I/Os in flight at the end; a slow_disk fault only slows it.
      if (const auto* ebs = std::get_if<models::EbsParams>(&spec.broker_hardware.disk)) {
        for (const auto& d : s.disks) {
          CAPTURE(d.name);
          const double moved = static_cast<double>(d.stats.bytes_read + d.stats.bytes_written);
          CHECK(moved <= ebs->throughput.burst_per_s * s.simulated_seconds + 64.0 * (4 << 20));
          REQUIRE(d.ebs_operations.has_value());
          CHECK(static_cast<double>(*d.ebs_operations) <= ebs->iops.burst_per_s * s.simulated_seconds + 64.0 * 16);
        }
      }
      // An instance's EBS limits bound all its volumes together: at most its maximum for the whole run and its
      // bucket, give or take the I/Os in flight at the end (64 per volume).
      if (const auto& instance = spec.broker_hardware.ebs_instance) {
        REQUIRE(s.ebs_instances.size() == spec.brokers);
        for (const auto& e : s.ebs_instances) {
          CAPTURE(e.broker);
          const double bound = std::min(instance->throughput.burst_per_s * s.simulated_seconds,
                                        instance->throughput.baseline_per_s * s.simulated_seconds +
                                            instance->throughput.credits_initial);
          const double slack = 64.0 * spec.broker_hardware.log_dirs * (4 << 20);
          double moved = 0;
          for (const auto& d : s.disks)
            if (d.name.rfind(e.broker + " ", 0) == 0) moved += static_cast<double>(d.stats.bytes_read + d.stats.bytes_written);
          CHECK(moved <= bound + slack);
          // Its rate covers the disks' window (the run, or the time since utilisation_from): what moved in it.
          const double window = s.disks.empty() ? s.simulated_seconds : s.disks.front().seconds;
          CHECK(e.mib_per_s * 1048576.0 * window <= bound + slack);
        }
      } else {
        CHECK(s.ebs_instances.empty());
      }
      // Every utilisation is a share of the run (a consumer's application thread included: its work past the end, or
      // past a consumer_restart, is not counted), and each group's lag at the end is at most its largest.
      for (const auto& [name, u] : s.utilisation) {
        CAPTURE(name);
        CHECK(u >= 0);
        CHECK(u <= 1 + 1e-9);
      }
      // The disks' figures cover the same window as the utilisations, and a disk's utilisation is the same in both.
      for (const auto& d : s.disks) {
        CAPTURE(d.name);
        // (The origin is taken just before the first event of its instant: a nanosecond early.)
        const double from = spec.utilisation_from <= spec.duration ? spec.utilisation_from.seconds_f() : 0.0;
        CHECK(std::abs(d.seconds - (s.simulated_seconds - from)) < 2e-9);
        const auto it = std::find_if(s.utilisation.begin(), s.utilisation.end(),
                                     [&d](const auto& entry) { return entry.first == d.name; });
        REQUIRE(it != s.utilisation.end());
        CHECK(std::abs(it->second - d.utilisation) <= 1e-12);
      }
      // So is every connection's share, of the run or of the time since utilisation_from.
      for (const auto* shares : {&s.connection_backlog, &s.connection_throttled, &s.window_full}) {
        for (const auto& [name, u] : *shares) {
          CAPTURE(name);
          CHECK(u >= 0);
          CHECK(u <= 1 + 1e-9);
        }
      }
      for (const auto& g : s.group_lag) {
        CAPTURE(g.group);
        CHECK(g.lag_end >= 0);
        CHECK(g.lag_end <= g.lag_max);
      }
      // Time below a replica count is bounded by the partitions and the run, and a partition below its min ISR (at
      // most its replica count here, when min.insync.replicas <= replication factor) is below its replica count too.
      int64_t partitions = 0;
      bool min_isr_within_rf = true;
      const bool offsets_topic =
          std::any_of(spec.consumers.begin(), spec.consumers.end(), cluster::uses_group_coordinator);
      CHECK(world.offsets_topic_replicas().empty() == !offsets_topic);
      for (const auto& t : spec.topics) {
        partitions += t.partitions;
        min_isr_within_rf = min_isr_within_rf && t.config.min_insync_replicas.value_or(
                                                     spec.broker_config.min_insync_replicas) <= t.replication_factor;
      }
      // and as the operations set it: a topic's own, or the brokers' default at that time.
      int32_t default_min_isr = spec.broker_config.min_insync_replicas;
      for (const auto& op : spec.config_alters) {
        if (op.broker_min_insync_replicas) default_min_isr = *op.broker_min_insync_replicas;
        if (op.entity_type == cluster::ConfigEntityType::topics)
          min_isr_within_rf = min_isr_within_rf && op.topic_config.min_insync_replicas.value_or(default_min_isr) <=
                                                       spec.topics[static_cast<size_t>(op.topic)].replication_factor;
        for (const auto& [topic, config] : op.topic_updates)
          min_isr_within_rf = min_isr_within_rf && config.min_insync_replicas.value_or(default_min_isr) <=
                                                       spec.topics[static_cast<size_t>(topic)].replication_factor;
        if (op.offsets_topic_config && offsets_topic)
          min_isr_within_rf = min_isr_within_rf && op.offsets_topic_config->min_insync_replicas.value_or(default_min_isr) <=
                                                       spec.offsets_topic_replication_factor;
      }
      if (offsets_topic) {  // __consumer_offsets, which the World adds
        partitions += spec.offsets_topic_partitions;
        min_isr_within_rf = min_isr_within_rf && spec.offsets_topic_config.min_insync_replicas.value_or(
                                                     spec.broker_config.min_insync_replicas) <=
                                                     spec.offsets_topic_replication_factor;
      }
      for (const auto* u : {&s.under_replicated, &s.under_min_isr}) {
        CHECK(u->partition_seconds >= 0);
        CHECK(u->partition_seconds <= static_cast<double>(partitions) * spec.duration.seconds_f() + 1e-6);
        CHECK(u->at_end <= static_cast<uint64_t>(partitions));
        CHECK(u->longest_s <= spec.duration.seconds_f() + 1e-9);
      }
      if (min_isr_within_rf) {
        CHECK(s.under_min_isr.partition_seconds <= s.under_replicated.partition_seconds + 1e-6);
        CHECK(s.under_min_isr.at_end <= s.under_replicated.at_end);
      }
      // The durability check (World::check_durability): no fault offered here moves a leader or loses a page cache,
      // so no acknowledged record may be missing from its leader's log, and no group may skip a record.
      CHECK(s.acked_records_checked + s.acked_records_unchecked == s.records_acked);
      CHECK(s.acked_records_lost == 0);
      CHECK(s.consumer_skipped == 0);
      // A DeleteRecords answered NONE has every replica's log start at the offset taken (the low watermark).
      for (const auto& op : s.operations)
        for (const auto& d : op.deleted)
          if (d.answered_s && d.error == "NONE") CHECK(d.low_watermark >= d.requested_offset);
      // Idempotent producers keep their records' order in every partition (KIP-98's sequence numbers) while the
      // broker keeps their state. Retention that deletes all of a producer's batches in a partition makes the broker
      // forget it, and it then takes any sequence (KIP-360: ProducerAppendInfo.checkSequence accepts a producer it
      // has no epoch for): a batch sent after one that MESSAGE_TOO_LARGE split can then land before the split parts,
      // as in Kafka (fuzz seed 20357). kafka-delete-records does the same (fuzz seed 1300127: every record of a
      // partition deleted at its high watermark). So the order is held only where neither can act within the run.
      const bool all_idempotent = std::all_of(spec.producers.begin(), spec.producers.end(), [](const auto& p) {
        return kafka::apply_idempotence_default(p.config, p.idempotence_set_explicitly).enable_idempotence;
      });
      const bool no_retention = std::all_of(spec.topics.begin(), spec.topics.end(), [&](const auto& t) {
        return t.config.log.retention_bytes < 0 && sim::Duration::from_ms(t.config.log.retention_ms) >= spec.duration;
      });
      if (all_idempotent && no_retention && spec.delete_records.empty()) CHECK(s.appended_out_of_order == 0);
      // INVALID_RECORD comes from producers without keys writing to a compacted topic, and only from them: with no
      // such producer there is none; with nothing but such producers, none with acks=0 (whose records count as
      // acknowledged when sent, the broker closing the connection on an error), nothing is acknowledged.
      const auto keyless_to_compacted = [&spec](const cluster::ProducerSpec& p) {
        return !p.keys.has_keys() && spec.topics[static_cast<size_t>(p.topic)].config.log.cleanup_policy_compact;
      };
      if (std::none_of(spec.producers.begin(), spec.producers.end(), keyless_to_compacted))
        CHECK_FALSE(s.records_failed_by_cause.broker_errors.contains("INVALID_RECORD"));
      if (std::all_of(spec.producers.begin(), spec.producers.end(), [&](const cluster::ProducerSpec& p) {
            return keyless_to_compacted(p) && p.config.acks != kafka::Acks::none;
          }))
        CHECK(s.records_acked == 0);
      if (s.records_failed_by_cause.broker_errors.contains("INVALID_RECORD")) ++with_invalid_records;
      // INVALID_TIMESTAMP only where a topic bounds its records' age (the default message.timestamp.before.max.ms is
      // Long.MAX) or a producer stamps its records ahead of the brokers' clock by more than after.max.ms (1 h).
      const bool no_age_bound = std::all_of(spec.topics.begin(), spec.topics.end(), [](const cluster::TopicSpec& t) {
        return t.config.log.timestamp_before_max_ms == std::numeric_limits<int64_t>::max();
      });
      const bool none_ahead = std::all_of(spec.producers.begin(), spec.producers.end(), [](const auto& p) {
        return p.timestamp_offset <= sim::Duration::from_ms(3'600'000);
      });
      if (no_age_bound && none_ahead)
        CHECK_FALSE(s.records_failed_by_cause.broker_errors.contains("INVALID_TIMESTAMP"));
      if (s.records_failed_by_cause.broker_errors.contains("INVALID_TIMESTAMP")) ++with_invalid_timestamps;
      if (s.appended_out_of_order > 0) ++with_reordering;
      if (seed % 4 == 0) {
        const cluster::WorldSummary again = cluster::World(spec).run();
        CHECK(again.events == s.events);
        CHECK(again.trace_hash == s.trace_hash);
        CHECK(again.records_acked == s.records_acked);
      } else if (seed % 4 == 1) {
        // Without the short path for records offered while send() is blocked, and with Kafka's wakeups for
        // appends into the last of several batches: the same run, but for its events (never more with the
        // shortcuts) and its trace. Appends that the second shortcut makes quiet have no event of their own, so the
        // next record's arrival event is scheduled earlier than record by record, and a skipped poll leaves the
        // sender's pending wakeup event where it was instead of scheduling it anew; when two producers' events fall
        // on the same instants (constant or unthrottled arrivals on one grid, or two identical closed-loop
        // producers), their events of one instant may then run in the other order, as the quiet sends of a deque
        // of one batch already may: only scenarios with at most one such producer compare it.
        uint32_t on_a_grid = 0;
        for (const cluster::ProducerSpec& p : spec.producers)
          if (p.closed_loop_threads > 0 || p.arrival != cluster::ArrivalProcess::Kind::kPoisson) on_a_grid += p.count;
        cluster::WorldSpec full = spec;
        full.short_blocked_arrivals = false;
        full.quiet_tail_appends = on_a_grid > 1;
        if (on_a_grid <= 1) ++with_kafka_wakeups;
        const cluster::WorldSummary again = cluster::World(full).run();
        CHECK(s.events <= again.events);
        if (s.events < again.events) ++with_short_arrivals;
        nlohmann::json a = cluster::summary_json(s, 0), b = cluster::summary_json(again, 0);
        a.erase("sim");
        b.erase("sim");
        CHECK(a == b);
      }
    } catch (const cluster::RunError& e) {
      // Only a disk the generator made small can fill, and the same scenario fills it at the same point.
      ++with_full_disk;
      CHECK(doc["hardware"]["broker"]["disk"].is_object());
      CHECK(std::string(e.what()).find("capacity_bytes") != std::string::npos);
      std::string again;
      try {
        cluster::World(cluster::parse_scenario(doc, (root / "scenarios" / "fuzz.json").string())).run();
      } catch (const cluster::RunError& e2) {
        again = e2.what();
      }
      CHECK(again == std::string(e.what()));
    } catch (const cluster::ConfigError& e) {
      FAIL_CHECK("the generator wrote a scenario the loader rejects: " << std::string(e.what()));
    } catch (const std::exception& e) {
      FAIL_CHECK("run failed: " << std::string(e.what()));
    }
  }
  MESSAGE(runs << " runs, " << faulted << " with faults, " << events << " events; runs with batch splits "
               << with_splits << ", retries " << with_retries << ", failed records " << with_failures
               << ", records deleted by retention " << with_deletions << ", consumer duplicates " << with_duplicates
               << ", ISR shrinks " << with_isr_shrinks << ", records appended out of order " << with_reordering
               << ", stopped by a full disk " << with_full_disk << ", INVALID_RECORD " << with_invalid_records
               << ", INVALID_TIMESTAMP " << with_invalid_timestamps
               << ", fewer events with the shortcuts (of those rerun without) " << with_short_arrivals
               << ", rerun with Kafka's wakeups " << with_kafka_wakeups);
  CHECK(faulted > 0);
}
