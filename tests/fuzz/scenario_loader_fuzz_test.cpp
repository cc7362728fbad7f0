// A bounded, seeded mutation fuzzer for the scenario loader: the example scenarios are mutated (JSON structure
// and bytes) and loaded. Every input must either load — and then build a World without tripping an assertion —
// or be rejected with a ConfigError. Any other exception, an assertion or a crash is a finding.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/world.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;

namespace {

nlohmann::json random_value(sim::Rng& rng) {
  switch (rng.uniform_u64(16)) {
    case 0: return nullptr;
    case 1: return false;
    case 2: return -1;
    case 3: return 0;
    case 4: return 1e300;
    case 5: return 2147483648LL;
    case 6: return rng.uniform_int(1, 100);
    case 7: return "all";
    case 8: return "5ms";
    case 9: return "1GiB";
    case 10: return "nvme-datacentre";
    case 11: return nlohmann::json::array();
    case 12: return nlohmann::json::object();
    case 13: return "-3s";
    case 14: return rng.uniform_real(0, 1);
    default: return "linger.ms";
  }
}

// Replace, delete or add a value at a random place of the tree (objects and arrays).
void mutate_structure(nlohmann::json& doc, sim::Rng& rng) {
  nlohmann::json* node = &doc;
  for (int depth = 0; depth < 6; ++depth) {
    const bool container = node->is_object() || node->is_array();
    if (!container || node->empty() || rng.chance(1, 5)) break;
    auto it = node->begin();
    std::advance(it, static_cast<long>(rng.uniform_u64(node->size())));
    if (rng.chance(1, 3) || !(it->is_object() || it->is_array())) {
      switch (rng.uniform_u64(3)) {
        case 0: *it = random_value(rng); return;
        case 1: node->erase(it); return;
        default:
          if (node->is_object()) (*node)["fuzz." + std::to_string(rng.uniform_u64(3))] = random_value(rng);
          else node->push_back(random_value(rng));
          return;
      }
    }
    node = &*it;
  }
  if (node->is_object()) (*node)["config"] = random_value(rng);
}

}  // namespace

TEST_CASE("fuzz: mutated scenarios load or are rejected with a ConfigError, never crash") {
  const std::filesystem::path root = KAFKASIM_SOURCE_DIR;
  sim::Rng rng = sim::Rng::stream(20261124, "fuzz/scenario-loader");
  uint64_t accepted = 0, rejected = 0;
  // The example scenarios, and the quickstart with an operation of each entity type (the brokers' topic defaults
  // among them), producer and consumer restarts that deploy configs, and EBS volumes behind an instance's limits,
  // all early enough to run within the bounded start below.
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const char* name : {"scenarios/quickstart.json", "scenarios/validation/kreps2014-rf3-acksall.json"})
    inputs.emplace_back(name, test::slurp(root / name));
  nlohmann::json with_operations = nlohmann::json::parse(inputs.front().second);
  with_operations["operations"] = nlohmann::json::parse(R"([
    {"at": "0s", "tool": "kafka-configs", "entity-type": "clients", "entity-default": true,
     "add-config": {"producer_byte_rate": 1048576, "request_percentage": 50}},
    {"at": "1ms", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": "1",
     "add-config": {"leader.replication.throttled.rate": 1000000}},
    {"at": "2ms", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events",
     "add-config": {"min.insync.replicas": 3, "retention.bytes": 1048576, "follower.replication.throttled.replicas": "*"},
     "delete-config": ["retention.ms"]},
    {"at": "2ms", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
     "add-config": {"log.segment.bytes": 1048576, "min.insync.replicas": 1}, "delete-config": ["log.retention.ms"]},
    {"at": "4ms", "tool": "kafka-delete-records", "offset-json": {"partitions": [
     {"topic": "events", "partition": 0, "offset": -1}, {"topic": "events", "partition": 1, "offset": 10}], "version": 1}}])");
  with_operations["faults"] = nlohmann::json::parse(R"([{"type": "producer_restart", "host": "client-0", "at": "3ms",
                                                          "config": {"linger.ms": 20, "acks": "1"}},
                                                         {"type": "consumer_restart", "host": "client-1", "at": "3ms",
                                                          "config": {"max.poll.records": 10}, "processing_time": "1ms"}])");
  with_operations["hardware"] = nlohmann::json::parse(R"({"broker": {"disk": {"base": "ebs-io2",
    "parameters": {"provisioned_iops": 16000}}, "log_dirs": 2,
    "ebs_instance": {"base": "ec2-m5.large", "parameters": {"burst_duration": "1s", "burst_balance": 0.5}}}})");
  inputs.emplace_back("quickstart with operations", with_operations.dump(2));
  for (const auto& [name, original] : inputs) {
    const nlohmann::json original_doc = nlohmann::json::parse(original);
    for (int i = 0; i < 1500; ++i) {
      std::string text;
      if (i % 2 == 0) {
        nlohmann::json doc = original_doc;
        for (uint64_t k = 0, n = 1 + rng.uniform_u64(3); k < n; ++k) mutate_structure(doc, rng);
        text = doc.dump();
      } else {
        text = original;
        for (uint64_t k = 0, n = 1 + rng.uniform_u64(4); k < n; ++k) test::mutate_bytes(text, rng, "{}[]\",:0e-9");
      }
      try {
        nlohmann::json doc;
        try {
          doc = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
          throw cluster::ConfigError("fuzz.json", "", "valid JSON", e.what());
        }
        const cluster::WorldSpec spec = cluster::parse_scenario(doc, (root / "scenarios" / "fuzz.json").string());
        cluster::World world(spec);  // builds brokers, partitions and clients: asserts on bad specs
        world.run(20'000);          // and a bounded start of the run
        ++accepted;
      } catch (const cluster::ConfigError&) {
        ++rejected;
      } catch (const std::exception& e) {
        FAIL_CHECK("unexpected exception for " << name << " iteration " << i << ": " << std::string(e.what()) << "\ninput: " << text);
      }
    }
  }
  MESSAGE("accepted " << accepted << ", rejected " << rejected);
  CHECK(rejected > 0);
  CHECK(accepted > 0);
}
