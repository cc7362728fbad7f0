// The scenario loader: quickstart, Kafka's defaults, units, .properties files, --set overrides, the resolved
// scenario's round trip, and the errors a user gets for common mistakes. Expected defaults are Kafka's
// documented values (reference/kafka-behaviour.md §1.1, §2.9, §3.1, §5.2), written here as literals rather
// than read from the loader's tables.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/scenario.hpp"

using namespace kafkasim;
using namespace kafkasim::cluster;
using namespace kafkasim::sim::literals;
using json = nlohmann::json;

namespace {

std::filesystem::path quickstart_path() { return std::filesystem::path(KAFKASIM_SOURCE_DIR) / "scenarios/quickstart.json"; }

// A small valid scenario that each mistake below breaks in one place.
json base() {
  return json::parse(R"({
    "name": "t", "duration": "20s", "warmup": "5s",
    "cluster": {"brokers": 3},
    "topics": [{"name": "events", "partitions": 6, "replication.factor": 3}],
    "producers": [{"topic": "events", "workload": {"rate": 1000, "record_size": 512}, "config": {}}],
    "consumers": [{"group": "g", "topic": "events"}]
  })");
}

// A temporary directory for files the loader reads, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) : path(std::filesystem::temp_directory_path() / name) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(const std::string& file, const std::string& text) const { std::ofstream(path / file) << text; }
};

// Parses `doc` and requires a ConfigError at `pointer` with `suggestion` (empty: none expected).
ConfigError error_of(const json& doc) {
  try {
    parse_scenario(doc, "mistake.json");
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError");
  return ConfigError("", "", "");
}
// The resolved scenario of `s` (loaded with extras `x`) and the spec it loads into again.
std::pair<json, WorldSpec> resolved_and_reloaded(const WorldSpec& s, const ScenarioExtras& x) {
  json r = resolved_scenario(s, x);
  WorldSpec again = parse_scenario(r, "resolved.json");
  return {std::move(r), std::move(again)};
}

// Loads the scenario file `path` and requires a ConfigError.
ConfigError error_loading(const std::filesystem::path& path) {
  try {
    load_scenario(path, {});
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError");
  return ConfigError("", "", "");
}

void expect_error(const json& doc, const std::string& pointer, const std::string& suggestion = {}) {
  const ConfigError e = error_of(doc);
  const std::string message = e.what();
  INFO(message);
  CHECK(e.file() == "mistake.json");
  CHECK(e.pointer() == pointer);
  CHECK(e.suggestion() == suggestion);
  CHECK(!e.expected().empty());
}

}  // namespace

TEST_CASE("quickstart: loads into the scenario it describes") {
  ScenarioExtras x;
  const WorldSpec s = load_scenario(quickstart_path(), {}, &x);
  CHECK(x.name == "quickstart");
  CHECK(x.warnings.empty());
  CHECK(s.seed == 42);
  CHECK(s.duration == 20_s);
  CHECK(s.warmup == 5_s);
  CHECK(s.brokers == 3);
  CHECK(std::holds_alternative<models::SsdParams>(s.broker_hardware.disk));  // nvme-datacentre is an SSD
  CHECK(s.broker_hardware.nic.link.bandwidth_bytes_per_s == doctest::Approx(10e9 / 8).scale(0));  // 10 GbE line rate
  CHECK(s.client_nic.link.bandwidth_bytes_per_s == doctest::Approx(10e9 / 8).scale(0));
  CHECK(s.broker_hardware.cores == 16);  // cpu-server-16core
  REQUIRE(s.topics.size() == 1);
  CHECK(s.topics[0].name == "events");
  CHECK(s.topics[0].partitions == 6);
  CHECK(s.topics[0].replication_factor == 3);
  CHECK(s.topics[0].config.min_insync_replicas == 2);
  REQUIRE(s.producers.size() == 1);
  const ProducerSpec& p = s.producers[0];
  CHECK(p.topic == 0);
  CHECK(p.count == 1);
  CHECK(p.records_per_s == 5000);
  CHECK(p.arrival == ArrivalProcess::Kind::kConstant);
  CHECK(p.closed_loop_threads == 0);
  CHECK(p.value_size.mean_bytes() == 512);
  CHECK(!p.keys.has_keys());
  CHECK(p.config.acks == kafka::Acks::all);
  CHECK(p.config.linger == 5_ms);
  CHECK(p.config.enable_idempotence);
  REQUIRE(s.consumers.size() == 1);
  CHECK(s.consumers[0].topic == 0);
  CHECK(s.consumers[0].count == 1);
  CHECK(x.consumer_groups == std::vector<std::string>{"quickstart-consumers"});
}

TEST_CASE("defaults: every omitted config takes Kafka 4.x's default") {
  const json doc = json::parse(R"({"duration": "20s", "warmup": "1s", "topics": [{"name": "t"}],
      "producers": [{"topic": "t", "workload": {"rate": 1}}], "consumers": [{"group": "g", "topic": "t"}]})");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(doc, "defaults.json", &x);
  // Producer, kafka-behaviour.md §1.1 (linger.ms 5 since 4.0, KIP-1030; acks=all and idempotence since 3.0).
  const kafka::ProducerConfig& p = s.producers[0].config;
  CHECK(p.acks == kafka::Acks::all);
  CHECK(p.enable_idempotence);
  CHECK(!s.producers[0].idempotence_set_explicitly);
  CHECK(p.linger == 5_ms);
  CHECK(p.batch_size_bytes == 16384);
  CHECK(p.buffer_memory_bytes == 33554432);
  CHECK(p.max_request_size_bytes == 1048576);
  CHECK(p.request_timeout == 30000_ms);
  CHECK(p.delivery_timeout == 120000_ms);
  CHECK(p.max_in_flight_requests_per_connection == 5);
  CHECK(p.retries == 2147483647);
  CHECK(p.retry_backoff == 100_ms);
  CHECK(p.compression_type == kafka::CompressionType::none);
  // Consumer, §5.2.
  const kafka::ConsumerConfig& c = s.consumers[0].config;
  CHECK(c.fetch_min_bytes == 1);
  CHECK(c.fetch_max_wait == 500_ms);
  CHECK(c.fetch_max_bytes == 52428800);
  CHECK(c.max_partition_fetch_bytes == 1048576);
  CHECK(c.max_poll_records == 500);
  CHECK(c.auto_offset_reset == kafka::AutoOffsetReset::latest);
  CHECK(c.enable_auto_commit);
  CHECK(c.auto_commit_interval == 5000_ms);
  // Broker, §2.9 and §3.1.
  CHECK(s.num_network_threads == 3);
  CHECK(s.num_io_threads == 8);
  CHECK(s.queued_max_requests == 500);
  CHECK(s.socket_receive_buffer_bytes == 102400);
  CHECK(s.broker_config.min_insync_replicas == 1);
  CHECK(s.broker_config.replica_lag_time_max_ms == 30000);
  CHECK(s.broker_config.message_max_bytes == 1048588);
  CHECK(s.broker_config.fetch_max_bytes == 57671680);
  CHECK(s.broker_config.max_incremental_fetch_session_cache_slots == 1000);
  CHECK(s.fetcher_config.num_replica_fetchers == 1);
  CHECK(s.fetcher_config.replica_fetch_wait_max == 500_ms);
  CHECK(s.fetcher_config.replica_fetch_max_bytes == 1048576);
  CHECK(s.fetcher_config.replica_fetch_response_max_bytes == 10485760);
  // Topic: num.partitions = 1, default.replication.factor = 1, log.segment.bytes = 1 GiB, 168 h retention.
  CHECK(s.topics[0].partitions == 1);
  CHECK(s.topics[0].replication_factor == 1);
  CHECK(s.topics[0].config.log.segment_bytes == 1073741824);
  CHECK(s.topics[0].config.log.retention_ms == 168LL * 3600 * 1000);
  CHECK(s.topics[0].config.log.retention_bytes == -1);
  CHECK(s.topics[0].config.log.max_message_bytes == 1048588);
  CHECK(!s.topics[0].config.min_insync_replicas.has_value());
  // The scenario's own defaults: seed 1, three brokers, the bundled NVMe / 10 GbE / 16-core profiles.
  CHECK(s.seed == 1);
  CHECK(s.brokers == 3);
  CHECK(x.broker_disk == "nvme-datacentre");
  CHECK(x.broker_nic == "nic-10gbe");
}

TEST_CASE("units: plain numbers in Kafka's unit, strings with units, coarse aliases") {
  json doc = base();
  doc["producers"][0]["config"] = {{"linger.ms", "250us"}, {"batch.size", "64KiB"}, {"request.timeout.ms", "10s"},
                                   {"buffer.memory", 67108864}, {"acks", 1}};
  doc["cluster"]["config"] = {{"log.retention.hours", 24}, {"log.roll.ms", "1h"}, {"log.segment.bytes", "512MiB"}};
  doc["topics"][0]["config"] = {{"retention.bytes", "1GiB"}};
  doc["hardware"] = {{"broker", {{"ram", "128GiB"}, {"jvm_heap", "8GiB"}}}, {"uplink", {{"bandwidth", "100Gbps"}, {"latency", "2us"}}}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(doc, "units.json", &x);
  const kafka::ProducerConfig& p = s.producers[0].config;
  CHECK(p.linger == 250_us);
  CHECK(p.batch_size_bytes == 65536);
  CHECK(p.request_timeout == 10_s);
  CHECK(p.buffer_memory_bytes == 67108864);
  CHECK(p.acks == kafka::Acks::leader);
  // acks=1 without an explicit enable.idempotence switches idempotence off (§1.1), with a warning.
  CHECK(!p.enable_idempotence);
  CHECK(x.warnings.size() == 1);
  CHECK(x.broker_log_defaults.retention_ms == 24LL * 3600 * 1000);
  CHECK(x.broker_log_defaults.segment_ms == 3600LL * 1000);
  CHECK(s.topics[0].config.log.retention_ms == 24LL * 3600 * 1000);  // inherited from the broker
  CHECK(s.topics[0].config.log.segment_bytes == 512LL << 20);
  CHECK(s.topics[0].config.log.retention_bytes == 1LL << 30);
  CHECK(s.broker_hardware.ram_bytes == 128ull << 30);
  CHECK(s.broker_hardware.jvm_heap_bytes == 8ull << 30);
  CHECK(s.uplink.bandwidth_bytes_per_s == doctest::Approx(100e9 / 8).scale(0));
  CHECK(s.uplink.latency == 2_us);

  // log.retention.ms wins over log.retention.hours whatever the order (KafkaConfig.logRetentionTimeMillis).
  doc["cluster"]["config"] = {{"log.retention.ms", 1000}, {"log.retention.hours", 24}};
  CHECK(parse_scenario(doc, "units.json").topics[0].config.log.retention_ms == 1000);
  // acks written as "-1" is all.
  doc["producers"][0]["config"] = {{"acks", "-1"}};
  CHECK(parse_scenario(doc, "units.json").producers[0].config.acks == kafka::Acks::all);
}

TEST_CASE("properties files: the broker lines of Kafka 4.x's single-node config/server.properties") {
  // Every key of the file Kafka ships for a one-node KRaft cluster is a Kafka config: modelled ones take effect, the
  // others (listeners, log dirs, the transaction and share-group state topics) are accepted with a warning each.
  TempDir dir("kafkasim_scenario_server_props_test");
  dir.write("server.properties",
            "process.roles=broker,controller\n"
            "node.id=1\n"
            "controller.quorum.bootstrap.servers=localhost:9093\n"
            "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
            "inter.broker.listener.name=PLAINTEXT\n"
            "advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093\n"
            "controller.listener.names=CONTROLLER\n"
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
            "num.network.threads=3\n"
            "num.io.threads=8\n"
            "socket.send.buffer.bytes=102400\n"
            "socket.receive.buffer.bytes=102400\n"
            "socket.request.max.bytes=104857600\n"
            "log.dirs=/tmp/kraft-combined-logs\n"
            "num.partitions=1\n"
            "num.recovery.threads.per.data.dir=1\n"
            "offsets.topic.replication.factor=1\n"
            "share.coordinator.state.topic.replication.factor=1\n"
            "share.coordinator.state.topic.min.isr=1\n"
            "transaction.state.log.replication.factor=1\n"
            "transaction.state.log.min.isr=1\n"
            "log.retention.hours=168\n"
            "log.segment.bytes=1073741824\n"
            "log.retention.check.interval.ms=300000\n");
  json doc = base();
  doc["cluster"]["brokers"] = 1;
  doc["topics"][0]["replication.factor"] = 1;
  doc["cluster"]["config"] = "server.properties";
  dir.write("scenario.json", doc.dump());
  ScenarioExtras x;
  const WorldSpec s = load_scenario(dir.path / "scenario.json", {}, &x);
  CHECK(s.offsets_topic_replication_factor == 1);
  CHECK(s.num_io_threads == 8);
  // process.roles, node.id, controller.quorum.bootstrap.servers, the five listener keys, socket.request.max.bytes,
  // log.dirs, num.recovery.threads.per.data.dir, the two share-group and the two transaction state-topic keys.
  CHECK(x.warnings.size() == 15);
}

TEST_CASE("properties files: Kafka 4.x configs beyond the quickstart file load with a warning each") {
  // Names from Kafka 4.0/4.1's generated config docs (broker, topic, producer, consumer), one or more per config
  // class: each is a real Kafka config the simulator does not model, so it loads with one "not modelled" warning.
  const std::vector<std::string> broker_keys = {
      "request.timeout.ms",                               // ServerConfigs
      "controlled.shutdown.enable",                       // ServerConfigs
      "broker.session.timeout.ms",                        // KRaftConfigs
      "metadata.log.max.record.bytes.between.snapshots",  // MetadataLogConfig
      "controller.quorum.fetch.timeout.ms",               // QuorumConfig
      "max.connections.per.ip",                           // SocketServerConfigs
      "leader.imbalance.check.interval.seconds",          // ReplicationConfigs
      "num.recovery.threads.per.data.dir",                // ServerLogConfigs
      "log.cleaner.io.buffer.size",                       // CleanerConfig
      "group.consumer.max.session.timeout.ms",            // GroupCoordinatorConfig
      "group.streams.num.standby.replicas",               // GroupCoordinatorConfig, Kafka 4.1
      "group.share.record.lock.duration.ms",              // ShareGroupConfig
      "share.coordinator.state.topic.num.partitions",     // ShareCoordinatorConfig
      "transaction.state.log.num.partitions",             // TransactionLogConfig
      "transaction.max.timeout.ms",                       // TransactionStateManagerConfig
      "controller.quota.window.num",                      // QuotaConfig (quota.window.num is modelled)
      "remote.log.manager.task.interval.ms",              // RemoteLogManagerConfig
      "metric.reporters",                                 // MetricConfigs
      "delegation.token.max.lifetime.ms",                 // DelegationTokenManagerConfigs
      "principal.builder.class",                          // BrokerSecurityConfigs
  };
  std::string server_properties = "num.replica.fetchers=4\n";
  for (const std::string& k : broker_keys) server_properties += k + "=1\n";
  TempDir dir("kafkasim_scenario_kafka4_configs_test");
  dir.write("server.properties", server_properties);
  json doc = base();
  doc["cluster"]["config"] = "server.properties";
  doc["topics"][0]["config"] = {{"preallocate", false}, {"remote.log.copy.disable", false}};
  doc["producers"][0]["config"] = {{"metadata.recovery.strategy", "rebootstrap"}};
  doc["consumers"][0]["config"] = {{"share.acknowledgement.mode", "implicit"}, {"metrics.num.samples", 2}};
  dir.write("scenario.json", doc.dump());
  ScenarioExtras x;
  const WorldSpec s = load_scenario(dir.path / "scenario.json", {}, &x);
  CHECK(s.fetcher_config.num_replica_fetchers == 4);  // the modelled key in the same file still takes effect
  CHECK(x.warnings.size() == broker_keys.size() + 2 + 1 + 2);
  for (const std::string& k : broker_keys) {
    INFO(k);
    const auto it = std::find_if(x.warnings.begin(), x.warnings.end(),
                                 [&](const std::string& w) { return w.find("/" + k + ": ") != std::string::npos; });
    REQUIRE(it != x.warnings.end());
    CHECK(it->find("not modelled") != std::string::npos);
  }

  // A misspelt name is still an error, with the real one suggested; a name 4.0 removed (ZooKeeper, KIP-500) is
  // unknown too.
  json d = base();
  d["cluster"]["config"] = {{"num.replica.fetcher", 2}};
  expect_error(d, "/cluster/config/num.replica.fetcher", "num.replica.fetchers");
  d = base();
  d["cluster"]["config"] = {{"zookeeper.connect", "localhost:2181"}};
  CHECK(error_of(d).pointer() == "/cluster/config/zookeeper.connect");
}

TEST_CASE("properties files: a pasted producer.properties and consumer.properties") {
  TempDir dir("kafkasim_scenario_props_test");
  dir.write("producer.properties",
            "# production producer\n"
            "bootstrap.servers=kafka-1:9092,kafka-2:9092\n"
            "acks = all\n"
            "linger.ms: 20\n"
            "batch.size 65536\n"
            "compression.type=lz4\n"
            "enable.idempotence=TRUE\n"
            "ssl.keystore.location=/etc/kafka/keystore.jks\n"
            "client.id=checkout-\\\n"
            "    service\n");
  dir.write("consumer.properties", "! consumer\nfetch.min.bytes=1024\nauto.offset.reset=earliest\ngroup.id=g\n");
  json doc = base();
  doc["producers"][0]["config"] = "producer.properties";
  doc["consumers"][0]["config"] = "consumer.properties";
  dir.write("scenario.json", doc.dump());
  ScenarioExtras x;
  const WorldSpec s = load_scenario(dir.path / "scenario.json", {}, &x);
  const kafka::ProducerConfig& p = s.producers[0].config;
  CHECK(p.acks == kafka::Acks::all);
  CHECK(p.linger == 20_ms);
  CHECK(p.batch_size_bytes == 65536);
  CHECK(p.compression_type == kafka::CompressionType::lz4);
  CHECK(s.producers[0].idempotence_set_explicitly);
  CHECK(s.consumers[0].config.fetch_min_bytes == 1024);
  CHECK(s.consumers[0].config.auto_offset_reset == kafka::AutoOffsetReset::earliest);
  CHECK(p.client_id_config == "checkout-service");  // client.id is modelled (client quotas), continuation joined
  // bootstrap.servers and ssl.keystore.location are ignored, each with a warning; group.id is the entry's group
  // (the same as its "group"), so no warning.
  REQUIRE(x.warnings.size() == 2);
  CHECK(s.consumers[0].group == "g");
  for (const char* k : {"/bootstrap.servers: ", "/ssl.keystore.location: "}) {
    INFO(k);
    CHECK(std::count_if(x.warnings.begin(), x.warnings.end(),
                        [&](const std::string& w) { return w.find(k) != std::string::npos; }) == 1);
  }

  // The continuation joined the value; the parser is checked directly too.
  const json props = parse_properties("a=1\nb = x\\\n  y\n#c=3\n", "p");
  CHECK(props == json({{"a", "1"}, {"b", "xy"}}));

  // A mistake inside the properties file names that file and the key.
  dir.write("producer.properties", "linger_ms=5\n");
  const ConfigError e = error_loading(dir.path / "scenario.json");
  CHECK(e.file() == (dir.path / "producer.properties").string());
  CHECK(e.pointer() == "/linger_ms");
  CHECK(e.suggestion() == "linger.ms");
}

TEST_CASE("--set overrides: replace, add, append, and plain strings") {
  const WorldSpec s = load_scenario(quickstart_path(), {"/producers/0/config/linger.ms=20", "/producers/0/workload/rate=100",
                                                        "/cluster/brokers=5", "/producers/0/config/acks=1",
                                                        "/topics/0/config/retention.ms=1h", "/name=my run",
                                                        "/topics/-={\"name\": \"audit\", \"replication.factor\": 5}"});
  CHECK(s.producers[0].config.linger == 20_ms);
  CHECK(s.producers[0].records_per_s == 100);
  CHECK(s.brokers == 5);
  CHECK(s.producers[0].config.acks == kafka::Acks::leader);
  CHECK(s.topics[0].config.log.retention_ms == 3600LL * 1000);
  REQUIRE(s.topics.size() == 2);
  CHECK(s.topics[1].replication_factor == 5);
  ScenarioExtras x;
  load_scenario(quickstart_path(), {"/name=my run"}, &x);
  CHECK(x.name == "my run");
}

TEST_CASE("round trip: the resolved scenario loads into the same world and resolves to itself") {
  json rich = base();
  rich["hardware"] = {{"broker", {{"disk", "hdd-7200rpm"}, {"log_dirs", 2}, {"vm", {{"dirty_ratio", 30}}}}}};
  rich["cluster"]["config"] = {{"log.retention.hours", 48}, {"num.io.threads", 16}, {"min.insync.replicas", 2}};
  rich["producers"].push_back(json::parse(R"({"topic": "events", "count": 2,
      "workload": {"closed_loop": {"threads": 4}, "record_size": {"distribution": "lognormal", "median": 700,
                   "sigma": 0.5, "max": 100000}, "keys": {"distribution": "zipf", "count": 1000, "exponent": 1.1}},
      "config": {"linger.ms": "1500us", "acks": 0, "compression.type": "zstd"}})"));
  rich["producers"][1]["workload"]["timestamp_offset"] = "-8d";
  rich["producers"][0]["workload"]["arrival"] = "poisson";
  rich["consumers"][0]["processing_time"] = "50us";
  for (const json& doc : {rich, json::parse(std::ifstream(quickstart_path()))}) {
    ScenarioExtras x1, x2;
    const WorldSpec s1 = parse_scenario(doc, "a.json", &x1);
    const json r1 = resolved_scenario(s1, x1);
    const WorldSpec s2 = parse_scenario(r1, "resolved.json", &x2);
    const json r2 = resolved_scenario(s2, x2);
    CHECK(r1 == r2);
    // Spot checks that the values survived, not only the text.
    CHECK(s2.duration == s1.duration);
    CHECK(s2.broker_hardware.log_dirs == s1.broker_hardware.log_dirs);
    CHECK(s2.broker_hardware.page_cache.dirty_ratio == s1.broker_hardware.page_cache.dirty_ratio);
    CHECK(s2.num_io_threads == s1.num_io_threads);
    CHECK(s2.topics[0].config.log.retention_ms == s1.topics[0].config.log.retention_ms);
    REQUIRE(s2.producers.size() == s1.producers.size());
    for (size_t i = 0; i < s1.producers.size(); ++i) {
      CHECK(s2.producers[i].config.linger == s1.producers[i].config.linger);
      CHECK(s2.producers[i].config.acks == s1.producers[i].config.acks);
      CHECK(s2.producers[i].config.enable_idempotence == s1.producers[i].config.enable_idempotence);
      CHECK(s2.producers[i].value_size.mean_bytes() == doctest::Approx(s1.producers[i].value_size.mean_bytes()).scale(0));
      CHECK(s2.producers[i].keys.key_count() == s1.producers[i].keys.key_count());
      CHECK(s2.producers[i].closed_loop_threads == s1.producers[i].closed_loop_threads);
      CHECK(s2.producers[i].timestamp_offset == s1.producers[i].timestamp_offset);
      CHECK(s2.producers[i].arrival == s1.producers[i].arrival);
    }
    CHECK(s2.consumers[0].processing_time_per_record == s1.consumers[0].processing_time_per_record);
  }
  // Every modelled config is written out, e.g. a default the document never mentioned.
  ScenarioExtras x;
  const json r = resolved_scenario(parse_scenario(base(), "a.json", &x), x);
  CHECK(r["producers"][0]["config"]["batch.size"] == 16384);
  CHECK(r["cluster"]["config"]["replica.lag.time.max.ms"] == 30000);
  CHECK(r["topics"][0]["config"]["retention.ms"] == 604800000);
}

TEST_CASE("client cpu: its producer_send_cost reaches the world, and a profile without one is an error") {
  // Without a client cpu, send() costs the application thread nothing.
  ScenarioExtras x0;
  const WorldSpec none = parse_scenario(base(), "a.json", &x0);
  CHECK(none.producer_send_cost == sim::Duration::zero());
  CHECK_FALSE(none.client_cpu_costs.has_value());  // the clients' per-byte work at the brokers' rates
  CHECK_FALSE(resolved_scenario(none, x0)["hardware"]["client"].contains("cpu"));
  // The 2014 profile's calibrated cost (1.217 us, docs/validation.md row A1), written back by the resolved scenario.
  json d = base();
  d["hardware"] = {{"client", {{"nic", "nic-1gbe"}, {"cpu", "cpu-xeon-6core-2014"}}}};
  ScenarioExtras x1;
  const WorldSpec with = parse_scenario(d, "a.json", &x1);
  CHECK(with.producer_send_cost == sim::Duration::from_ns(1217));
  // Its rates price the clients' per-byte work: the 2014 profile's desktop-to-server scale, 0.7.
  REQUIRE(with.client_cpu_costs.has_value());
  CHECK(with.client_cpu_costs->desktop_to_server_scale == 0.7);
  const json r = resolved_scenario(with, x1);
  CHECK(r["hardware"]["client"]["cpu"] == "cpu-xeon-6core-2014");
  CHECK(parse_scenario(r, "resolved.json").producer_send_cost == sim::Duration::from_ns(1217));
  // A CPU profile without the cost says what is missing instead of running the client for free.
  d["hardware"]["client"]["cpu"] = "cpu-server-16core";
  {
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/hardware/client/cpu");
    CHECK(e.expected().find("producer_send_cost") != std::string::npos);
  }
  // A misspelt profile name gets the closest one.
  d["hardware"]["client"]["cpu"] = "cpu-xeon-6core-2015";
  expect_error(d, "/hardware/client/cpu", "cpu-xeon-6core-2014");
  // A disk profile is not a CPU.
  d["hardware"]["client"]["cpu"] = "ssd-sata";
  expect_error(d, "/hardware/client/cpu");
  // An inline profile with a send() that takes no time is a mistake, not "free".
  json inline_cpu = json::parse(std::ifstream(std::filesystem::path(KAFKASIM_SOURCE_DIR) /
                                              "scenarios/hardware/cpu-xeon-6core-2014.json"));
  inline_cpu["costs"]["producer_send_cost"]["value"] = 0;
  d["hardware"]["client"]["cpu"] = inline_cpu;
  expect_error(d, "/hardware/client/cpu/costs/producer_send_cost/value");
}

TEST_CASE("mistakes: each is a ConfigError at the right pointer with a did-you-mean where one exists") {
  json d;
  // 1. Underscore instead of dot in a producer config.
  d = base(); d["producers"][0]["config"]["linger_ms"] = 5;
  expect_error(d, "/producers/0/config/linger_ms", "linger.ms");
  // 2. A misspelt acks value.
  d = base(); d["producers"][0]["config"]["acks"] = "al";
  expect_error(d, "/producers/0/config/acks", "all");
  // 3. Replication factor above the broker count.
  d = base(); d["topics"][0]["replication.factor"] = 4;
  expect_error(d, "/topics/0/replication.factor");
  // 4. enable.idempotence=true explicitly with acks=1 (Kafka's ConfigException).
  d = base(); d["producers"][0]["config"] = {{"enable.idempotence", true}, {"acks", "1"}};
  expect_error(d, "/producers/0/config/acks", "all");
  // 5. delivery.timeout.ms below linger.ms (5) + request.timeout.ms (30000).
  d = base(); d["producers"][0]["config"]["delivery.timeout.ms"] = 30000;
  expect_error(d, "/producers/0/config/delivery.timeout.ms");
  // 6. A negative rate.
  d = base(); d["producers"][0]["workload"]["rate"] = -5;
  expect_error(d, "/producers/0/workload/rate");
  // 7. American spelling of a bundled hardware profile.
  d = base(); d["hardware"]["broker"]["disk"] = "nvme-datacenter";
  expect_error(d, "/hardware/broker/disk", "nvme-datacentre");
  // 8. A producer naming a topic that does not exist.
  d = base(); d["producers"][0]["topic"] = "event";
  expect_error(d, "/producers/0/topic", "events");
  // 9. Warmup longer than the run.
  d = base(); d["warmup"] = "30s";
  expect_error(d, "/warmup");
  // 10. A wrong type.
  d = base(); d["topics"][0]["partitions"] = "six";
  expect_error(d, "/topics/0/partitions");
  // 11. A missing required key.
  d = base(); d["topics"][0].erase("name");
  expect_error(d, "/topics/0/name");
  // 12. A unit the parser does not know.
  d = base(); d["producers"][0]["config"]["linger.ms"] = "5 msec";
  expect_error(d, "/producers/0/config/linger.ms");
  // 13. An unknown top-level key.
  d = base(); d["topic"] = d["topics"]; d.erase("topics"); d.erase("producers"); d.erase("consumers");
  expect_error(d, "/topic", "topics");
  // 14. An unknown broker config.
  d = base(); d["cluster"]["config"] = {{"replica.lag.time.max", 10000}};
  expect_error(d, "/cluster/config/replica.lag.time.max", "replica.lag.time.max.ms");
  // 15. An unknown topic config.
  d = base(); d["topics"][0]["config"] = {{"retention.msec", 1000}};
  expect_error(d, "/topics/0/config/retention.msec", "retention.ms");
  // 16. max.in.flight above 5 with idempotence explicitly on.
  d = base(); d["producers"][0]["config"] = {{"enable.idempotence", "true"}, {"max.in.flight.requests.per.connection", 6}};
  expect_error(d, "/producers/0/config/max.in.flight.requests.per.connection");
  // 16b. buffer.memory below batch.size: BufferPool.allocate(batch.size) throws IllegalArgumentException from every
  // send(), so Kafka cannot run it. The error names buffer.memory, or batch.size when only batch.size was given
  // (above the default buffer.memory of 32 MiB); buffer.memory == batch.size is accepted.
  d = base(); d["producers"][0]["config"] = {{"buffer.memory", 16383}};  // default batch.size 16384
  {
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/producers/0/config/buffer.memory");
    CHECK(e.found() == "16383");
    CHECK(e.expected().find("buffer.memory >= batch.size = 16384") != std::string::npos);
    CHECK(e.expected().find("IllegalArgumentException") != std::string::npos);
  }
  d = base(); d["producers"][0]["config"] = {{"buffer.memory", 0}, {"batch.size", 0}};  // Kafka: max(1, batch.size)
  expect_error(d, "/producers/0/config/buffer.memory");
  d = base(); d["producers"][0]["config"] = {{"batch.size", "64MiB"}};
  {
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/producers/0/config/batch.size");
    CHECK(e.found() == "67108864");
    CHECK(e.expected().find("buffer.memory = 33554432") != std::string::npos);
  }
  d = base(); d["producers"][0]["config"] = {{"buffer.memory", "64KiB"}, {"batch.size", 65536}};
  CHECK(parse_scenario(d, "equal.json").producers[0].config.buffer_memory_bytes == 65536);
  d = base(); d["producers"][0]["config"] = {{"buffer.memory", 1}, {"batch.size", 0}};
  CHECK(parse_scenario(d, "equal.json").producers[0].config.buffer_memory_bytes == 1);
  // 17. The same topic twice.
  d = base(); d["topics"].push_back(d["topics"][0]);
  expect_error(d, "/topics/1/name");
  // 18. A fault that needs leader elections is named as not simulated yet.
  d = base(); d["faults"] = json::array({{{"type", "crash"}, {"host", "broker-0"}, {"at", "1s"}}});
  expect_error(d, "/faults/0/type");
  CHECK(std::string(error_of(d).what()).find("leader elections") != std::string::npos);
  // 18b. The names a Kafka engineer would write for those faults say so too, and no near name is suggested for
  // them ("broker_restart" is two edits from "producer_restart", which restarts a client).
  for (const char* type : {"broker_restart", "broker_crash", "disk_failure", "controlled_shutdown"}) {
    d = base(); d["faults"] = json::array({{{"type", type}, {"host", "broker-0"}, {"at", "1s"}}});
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/faults/0/type");
    CHECK(e.expected().find("leader elections") != std::string::npos);
    CHECK(e.suggestion().empty());
  }
  // 18c. A key that belongs one level down or elsewhere names where it goes (no typo to suggest).
  const std::vector<std::tuple<const char*, const char*, const char*>> misplaced = {
      {"/producers/0", "acks", "in the entry's \"config\""},
      {"/producers/0/workload", "linger.ms", "in the entry's \"config\""},
      {"/producers/0", "rate", "in \"workload\""},
      {"/producers/0/workload", "threads", "\"closed_loop\": {\"threads\": N}"},
      {"/consumers/0", "max.poll.records", "consumer config: it goes in \"config\""},
      {"/topics/0", "retention.ms", "topic config: it goes in \"config\""},
      {"/cluster", "num.io.threads", "broker config: it goes in \"config\""},
      {"", "brokers", "in \"cluster\""},
      {"/hardware", "disk", "\"disk\" goes in \"broker\""},
      {"/hardware", "nic", "\"nic\" goes in \"broker\" or \"client\""},
  };
  for (const auto& [where, key, hint] : misplaced) {
    d = base();
    d[json::json_pointer(where)][key] = 1;
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == std::string(where) + "/" + key);
    CHECK_MESSAGE(e.expected().find(hint) != std::string::npos, e.what());
    CHECK(e.suggestion().empty());
  }
  // A typo keeps its did-you-mean and no placement hint.
  d = base(); d["producers"][0]["workload"]["rat"] = 1;
  CHECK(error_of(d).suggestion() == "rate");
  CHECK(error_of(d).expected().find("goes in") == std::string::npos);
  // 19. segment.bytes below Kafka 4.0's 1 MiB minimum (KIP-1030).
  d = base(); d["topics"][0]["config"] = {{"segment.bytes", 1000}};
  expect_error(d, "/topics/0/config/segment.bytes");
  // 20. replica.fetch.wait.max.ms above replica.lag.time.max.ms (KafkaConfig).
  d = base(); d["cluster"]["config"] = {{"replica.fetch.wait.max.ms", 40000}};
  expect_error(d, "/cluster/config/replica.fetch.wait.max.ms");
  // 20b. replica.lag.time.max.ms of 1: the isr-expiration check would run every 1 / 2 = 0 ms, which Kafka's
  // scheduler rejects at startup. Found by random overrides: it used to pass the loader and stop the simulator.
  d = base(); d["cluster"]["config"] = {{"replica.lag.time.max.ms", 1}, {"replica.fetch.wait.max.ms", 0}};
  expect_error(d, "/cluster/config/replica.lag.time.max.ms");
  // 20c. segment.index.bytes below two time-index entries (24 bytes): every segment would be full at birth.
  d = base(); d["topics"][0]["config"] = {{"segment.index.bytes", 23}};
  expect_error(d, "/topics/0/config/segment.index.bytes");
  // 20d. Thread pools of absurd size (Kafka has no upper bound; two billion simulated threads exhaust memory).
  for (const char* pool : {"num.network.threads", "num.io.threads", "num.replica.fetchers"}) {
    d = base(); d["cluster"]["config"] = {{pool, 2147483647}};
    expect_error(d, std::string("/cluster/config/") + pool);
    d = base(); d["cluster"]["config"] = {{pool, 10000}};  // the bound itself is accepted
    CHECK_NOTHROW(parse_scenario(d, "bound.json"));
  }
  // 21. A scenario duration without a unit.
  d = base(); d["duration"] = 20;
  expect_error(d, "/duration", "20s");
  // 22. Both an open-loop rate and a closed loop.
  d = base(); d["producers"][0]["workload"]["closed_loop"] = {{"threads", 2}};
  expect_error(d, "/producers/0/workload");
  // 23. A NIC profile where a disk belongs.
  d = base(); d["hardware"]["broker"]["disk"] = "nic-10gbe";
  expect_error(d, "/hardware/broker/disk");
  // 24. acks=2 does not exist.
  d = base(); d["producers"][0]["config"]["acks"] = 2;
  expect_error(d, "/producers/0/config/acks");
  // 25. A misspelt key inside a workload.
  d = base(); d["producers"][0]["workload"]["record_sizes"] = 100;
  expect_error(d, "/producers/0/workload/record_sizes", "record_size");
  // 26. A consumer of an unknown topic.
  d = base(); d["consumers"][0]["topic"] = "evnets";
  expect_error(d, "/consumers/0/topic", "events");
  // 27. A consumer start time without a unit (the suggestion adds seconds).
  d = base(); d["consumers"][0]["start_at"] = 5;
  expect_error(d, "/consumers/0/start_at", "5s");
  // 28. A consumer that would start after the run has ended.
  d = base(); d["consumers"][0]["start_at"] = "20s";
  expect_error(d, "/consumers/0/start_at");
  // 29. Socket buffers of 0 (Java's setReceiveBufferSize / setSendBufferSize(0) throws); -1, the OS's autotuned
  // buffer, is accepted.
  d = base(); d["cluster"]["config"] = {{"socket.receive.buffer.bytes", 0}};
  expect_error(d, "/cluster/config/socket.receive.buffer.bytes");
  d = base(); d["cluster"]["config"] = {{"replica.socket.receive.buffer.bytes", 0}};
  expect_error(d, "/cluster/config/replica.socket.receive.buffer.bytes");
  d = base(); d["producers"][0]["config"]["send.buffer.bytes"] = 0;
  expect_error(d, "/producers/0/config/send.buffer.bytes");
  d = base(); d["consumers"][0]["config"] = {{"receive.buffer.bytes", 0}};
  expect_error(d, "/consumers/0/config/receive.buffer.bytes");
  d = base(); d["consumers"][0]["config"] = {{"receive.buffer.bytes", -2}};
  expect_error(d, "/consumers/0/config/receive.buffer.bytes");
  // 30. A misspelt consumer commit mode.
  d = base(); d["consumers"][0]["commit"] = "syncc";
  expect_error(d, "/consumers/0/commit", "sync");
}

TEST_CASE("consumer start time: read with its unit, 0 by default, written back in the resolved scenario") {
  json d = base();
  ScenarioExtras x;
  CHECK(parse_scenario(d, "a.json", &x).consumers[0].start_at == kafkasim::sim::Duration::zero());
  d["consumers"][0]["start_at"] = "12.5s";
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.consumers[0].start_at == kafkasim::sim::Duration::from_ms(12500));
  const json r = resolved_scenario(s, x);
  CHECK(r["consumers"][0]["start_at"] == "12500ms");
  ScenarioExtras x2;
  CHECK(parse_scenario(r, "resolved.json", &x2).consumers[0].start_at == s.consumers[0].start_at);
}

TEST_CASE("mistakes in --set overrides") {
  json doc = base();
  auto set_error = [&](const std::string& text) {
    json copy = doc;
    try {
      apply_set_override(copy, text, "s.json");
    } catch (const ConfigError& e) {
      return e;
    }
    FAIL("no error for " << text);
    return ConfigError("", "", "");
  };
  const ConfigError typo = set_error("/producer/0/config/acks=1");
  CHECK(typo.pointer() == "/producer/0/config/acks");
  CHECK(typo.suggestion() == "/producers/0/config/acks");
  CHECK(set_error("linger.ms=5").pointer() == "linger.ms");  // not a pointer
  CHECK(set_error("/producers/0/config/acks").pointer().empty());  // no '='
  CHECK(set_error("/topics/3=5").pointer() == "/topics/3");       // past the end of the array
  CHECK(set_error("/name/x=5").pointer() == "/name/x");           // below a string
  // A missing object is not created where an array index follows (it would have to invent an array) ...
  CHECK(set_error("/cluster/racks_by_id/0=1").pointer() == "/cluster/racks_by_id/0");
  // ... nor where the missing name is close to a key that exists (a typo).
  doc["consumers"][0]["config"] = json::object();
  const ConfigError near = set_error("/consumers/0/confg/max.poll.records=100");
  CHECK(near.suggestion() == "/consumers/0/config/max.poll.records");
}

TEST_CASE("--set creates a missing object on the way, and the loader checks what it created") {
  json doc = base();
  REQUIRE(!doc["consumers"][0].contains("config"));
  apply_set_override(doc, "/consumers/0/config/max.poll.records=100", "s.json");
  CHECK(doc["consumers"][0]["config"] == json{{"max.poll.records", 100}});
  CHECK(parse_scenario(doc, "s.json").consumers[0].config.max_poll_records == 100);
  // Two levels at once.
  json two = base();
  apply_set_override(two, "/cluster/config/num.io.threads=4", "s.json");
  CHECK(two["cluster"]["config"]["num.io.threads"] == 4);
  // A created key the schema does not know is the loader's error, with its suggestion.
  json typo = base();
  apply_set_override(typo, "/consumers/0/configs/max.poll.records=100", "s.json");
  expect_error(typo, "/consumers/0/configs", "config");
}

TEST_CASE("warnings: accepted by Kafka but probably a mistake") {
  json d = base();
  d["topics"][0]["replication.factor"] = 2;
  d["topics"][0]["config"] = {{"min.insync.replicas", 3}};
  ScenarioExtras x;
  CHECK_NOTHROW(parse_scenario(d, "w.json", &x));
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/topics/0/config/min.insync.replicas") != std::string::npos);
  // An unset delivery.timeout.ms that is too small is raised, as KafkaProducer does.
  d = base();
  d["producers"][0]["config"] = {{"request.timeout.ms", 200000}};
  const WorldSpec s = parse_scenario(d, "w.json", &x);
  CHECK(s.producers[0].config.delivery_timeout == 200005_ms);
}

TEST_CASE("cleanup.policy: compact, delete or both; a compacted topic fed records without keys warns") {
  const auto load = [](const json& policy, const json* keys, ScenarioExtras& x) {
    json d = base();
    d["topics"][0]["config"] = {{"cleanup.policy", policy}};
    if (keys != nullptr) d["producers"][0]["workload"]["keys"] = *keys;
    return parse_scenario(d, "c.json", &x);
  };
  const auto has_warning = [](const ScenarioExtras& x, const std::string& pointer, const std::string& text) {
    return std::any_of(x.warnings.begin(), x.warnings.end(), [&](const std::string& w) {
      return w.find(pointer) != std::string::npos && w.find(text) != std::string::npos;
    });
  };
  ScenarioExtras x;
  WorldSpec s = load("delete", nullptr, x);
  CHECK(s.topics[0].config.log.cleanup_policy_delete);
  CHECK_FALSE(s.topics[0].config.log.cleanup_policy_compact);
  CHECK(x.warnings.empty());
  // compact alone: no deletion, and the producer's records (no keys by default) would all be rejected.
  x = {};
  s = load("compact", nullptr, x);
  CHECK_FALSE(s.topics[0].config.log.cleanup_policy_delete);
  CHECK(s.topics[0].config.log.cleanup_policy_compact);
  CHECK(x.warnings.size() == 2);
  CHECK(has_warning(x, "/topics/0/config/cleanup.policy", "never deletes"));
  CHECK(has_warning(x, "/producers/0/workload/keys", "INVALID_RECORD"));
  // Both, as a list or a comma-separated string; keyed records leave only the note on compaction.
  for (const json& both : {json("compact,delete"), json::array({"delete", "compact"})}) {
    x = {};
    const json keys = {{"distribution", "uniform"}, {"count", 100}};
    s = load(both, &keys, x);
    CHECK(s.topics[0].config.log.cleanup_policy_delete);
    CHECK(s.topics[0].config.log.cleanup_policy_compact);
    CHECK(x.warnings.size() == 1);
    CHECK(has_warning(x, "/topics/0/config/cleanup.policy", "deletes by retention only"));
  }
  // __consumer_offsets is compacted, without deletion (GroupCoordinatorService.groupMetadataTopicConfigs).
  CHECK(s.offsets_topic_config.log.cleanup_policy_compact);
  CHECK_FALSE(s.offsets_topic_config.log.cleanup_policy_delete);
}

TEST_CASE("warnings: a poll's processing beyond max.poll.interval.ms says the group would rebalance (not simulated)") {
  // processing_time x max.poll.records against max.poll.interval.ms (300000 by default, kafka-behaviour.md §5).
  auto warnings_for = [](const std::string& processing, const json& config) {
    json d = base();
    d["consumers"][0]["processing_time"] = processing;
    d["consumers"][0]["config"] = config;
    ScenarioExtras x;
    parse_scenario(d, "w.json", &x);
    std::vector<std::string> about_poll;
    for (const auto& w : x.warnings)
      if (w.find("/consumers/0/processing_time") != std::string::npos) about_poll.push_back(w);
    return about_poll;
  };
  CHECK(warnings_for("600ms", json::object()).empty());  // 600 ms x 500 = 300 s: exactly the limit
  const auto over = warnings_for("601ms", json::object());
  REQUIRE(over.size() == 1);
  CHECK(over[0].find("300.5 s") != std::string::npos);
  CHECK(over[0].find("max.poll.interval.ms (300000 ms)") != std::string::npos);
  CHECK(over[0].find("group \"g\"") != std::string::npos);
  CHECK(warnings_for("601ms", {{"max.poll.records", 100}}).empty());
  // A max.poll.interval.ms the scenario sets (itself ignored, with its own warning) is the one compared.
  CHECK(warnings_for("20ms", {{"max.poll.interval.ms", 10000}}).empty());
  CHECK(warnings_for("21ms", {{"max.poll.interval.ms", 10000}}).size() == 1);
  // Nanoseconds would overflow here; the check must not.
  CHECK(warnings_for("1h", {{"max.poll.records", 2147483647}}).size() == 1);
}

TEST_CASE("broker fetch limits: fetch.max.bytes (at least 1024) and max.incremental.fetch.session.cache.slots") {
  json d = base();
  d["cluster"]["config"] = {{"fetch.max.bytes", "1MiB"}, {"max.incremental.fetch.session.cache.slots", 0}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "w.json", &x);
  CHECK(x.warnings.empty());  // both modelled now, no "not modelled" warning
  CHECK(s.broker_config.fetch_max_bytes == 1048576);
  CHECK(s.broker_config.max_incremental_fetch_session_cache_slots == 0);
  d["cluster"]["config"] = {{"fetch.max.bytes", 1023}};
  CHECK(error_of(d).pointer() == "/cluster/config/fetch.max.bytes");
  d["cluster"]["config"] = {{"max.incremental.fetch.session.cache.slots", -1}};
  CHECK(error_of(d).pointer() == "/cluster/config/max.incremental.fetch.session.cache.slots");
}

TEST_CASE("compression levels (KIP-390): checked as Kafka checks them; a level the CPU profile lacks warns") {
  // The broker CPU profile inline, with a codec_levels table that measures zstd at level 1 only.
  json cpu = json::parse(std::ifstream(std::filesystem::path(KAFKASIM_SOURCE_DIR) /
                                       "scenarios/hardware/cpu-server-16core.json"));
  cpu["codec_levels"] = {{"source", "a test table"},
                         {"zstd", {{"1", {{"ratio", 0.2}, {"compress_bytes_per_s", 5e8}, {"decompress_bytes_per_s", 2e9}}}}}};
  json d = base();
  d["hardware"]["broker"]["cpu"] = cpu;
  // A measured level and the defaults (given explicitly) load silently.
  d["producers"][0]["config"] = {{"compression.type", "zstd"}, {"compression.zstd.level", 1},
                                 {"compression.gzip.level", -1}, {"compression.lz4.level", 9}};
  ScenarioExtras x;
  WorldSpec s = parse_scenario(d, "w.json", &x);
  CHECK(s.producers[0].config.compression_zstd_level == 1);
  CHECK(x.warnings.empty());
  // A level the table lacks: the nearest measured level stands in, with a warning at the level's pointer.
  d["producers"][0]["config"]["compression.zstd.level"] = 19;
  x = ScenarioExtras{};
  s = parse_scenario(d, "w.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/producers/0/config/compression.zstd.level") != std::string::npos);
  CHECK(x.warnings[0].find("level 1, the nearest it measures") != std::string::npos);
  // The level of a codec the producer does not use is not looked at (Kafka ignores it too).
  d["producers"][0]["config"] = {{"compression.type", "lz4"}, {"compression.zstd.level", 19}};
  x = ScenarioExtras{};
  parse_scenario(d, "w.json", &x);
  CHECK(x.warnings.empty());
  // Topics: the broker's compression.*.level is every topic's default, a topic may override it; the level of a
  // topic that recompresses into zstd is checked like a producer's.
  d = base();
  d["hardware"]["broker"]["cpu"] = cpu;
  d["cluster"]["config"] = {{"compression.zstd.level", 1}, {"compression.gzip.level", 9}};
  d["topics"][0]["config"] = {{"compression.type", "zstd"}, {"compression.zstd.level", 19}};
  x = ScenarioExtras{};
  s = parse_scenario(d, "w.json", &x);
  CHECK(s.topics[0].config.log.compression_zstd_level == 19);
  CHECK(s.topics[0].config.log.compression_gzip_level == 9);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/topics/0/config/compression.zstd.level") != std::string::npos);
  d["topics"][0]["config"] = {{"compression.type", "zstd"}};
  x = ScenarioExtras{};
  s = parse_scenario(d, "w.json", &x);
  CHECK(s.topics[0].config.log.compression_zstd_level == 1);
  CHECK(x.warnings.empty());
  // Out of Kafka's ranges: errors, as ConfigDef's validators make them (gzip 0 is the loader's own check).
  d = base();
  d["producers"][0]["config"] = {{"compression.lz4.level", 18}};
  CHECK(error_of(d).pointer() == "/producers/0/config/compression.lz4.level");
  d["producers"][0]["config"] = {{"compression.gzip.level", 0}};
  CHECK(error_of(d).pointer() == "/producers/0/config/compression.gzip.level");
  d["producers"][0]["config"] = {{"compression.zstd.level", 23}};
  CHECK(error_of(d).pointer() == "/producers/0/config/compression.zstd.level");
  d = base();
  d["topics"][0]["config"] = {{"compression.gzip.level", 0}};
  CHECK(error_of(d).pointer() == "/topics/0/config/compression.gzip.level");
  d = base();
  d["cluster"]["config"] = {{"compression.gzip.level", 0}};
  CHECK(error_of(d).pointer() == "/cluster/config/compression.gzip.level");
  d = base();
  d["cluster"]["config"] = {{"compression.zstd.level", -131073}};
  CHECK(error_of(d).pointer() == "/cluster/config/compression.zstd.level");
}

TEST_CASE("log flusher: log.flush.interval.ms defaults to the scheduler's interval; flush.ms alone warns") {
  constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
  // Kafka's defaults: the flusher runs once and no log is ever due.
  json d = base();
  ScenarioExtras x;
  WorldSpec s = parse_scenario(d, "f.json", &x);
  CHECK(s.log_flush_scheduler_interval_ms == kLongMax);
  CHECK(s.topics[0].config.log.flush_ms == kLongMax);
  // KafkaConfig.logFlushIntervalMs: null means log.flush.scheduler.interval.ms, for every topic without flush.ms.
  d["cluster"]["config"] = {{"log.flush.scheduler.interval.ms", 1000}};
  s = parse_scenario(d, "f.json", &x);
  CHECK(s.log_flush_scheduler_interval_ms == 1000);
  CHECK(s.topics[0].config.log.flush_ms == 1000);
  CHECK(x.warnings.empty());
  // An explicit log.flush.interval.ms wins, whichever key comes first in the file.
  d["cluster"]["config"] = json::parse(R"({"log.flush.interval.ms": 5000, "log.flush.scheduler.interval.ms": 1000})");
  CHECK(parse_scenario(d, "f.json", &x).topics[0].config.log.flush_ms == 5000);
  d["cluster"]["config"] = json::parse(R"({"log.flush.scheduler.interval.ms": 1000, "log.flush.interval.ms": 5000})");
  CHECK(parse_scenario(d, "f.json", &x).topics[0].config.log.flush_ms == 5000);
  // The topic's own flush.ms wins over the broker default, and describe lists it as an override.
  d["topics"][0]["config"] = {{"flush.ms", 2000}};
  s = parse_scenario(d, "f.json", &x);
  CHECK(s.topics[0].config.log.flush_ms == 2000);
  CHECK(std::find(s.topics[0].overrides.begin(), s.topics[0].overrides.end(), "flush.ms") != s.topics[0].overrides.end());
  CHECK(x.warnings.empty());
  // flush.ms without a scheduler interval: accepted as Kafka does, with a warning that it is checked once.
  d = base();
  d["topics"][0]["config"] = {{"flush.ms", 1000}};
  s = parse_scenario(d, "f.json", &x);
  CHECK(s.topics[0].config.log.flush_ms == 1000);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/topics/0/config/flush.ms") != std::string::npos);
  CHECK(x.warnings[0].find("log.flush.scheduler.interval.ms") != std::string::npos);
  d = base();
  d["cluster"]["config"] = {{"log.flush.interval.ms", 1000}};
  parse_scenario(d, "f.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/cluster/config/log.flush.interval.ms") != std::string::npos);
  // A negative flush.ms is outside LogConfig's atLeast(0).
  d = base();
  d["topics"][0]["config"] = {{"flush.ms", -1}};
  CHECK(error_of(d).pointer() == "/topics/0/config/flush.ms");
}

TEST_CASE("young_gc: on by default with eden = the CPU profile's young-gen share of jvm_heap; false turns it off") {
  json doc = base();
  doc["hardware"] = {{"broker", {{"ram", "32GiB"}, {"jvm_heap", "4GiB"}}}};
  const WorldSpec on = parse_scenario(doc, "gc.json");
  REQUIRE(on.broker_hardware.young_gc.has_value());
  // cpu-server-16core: young_gen_heap_fraction 0.6, pauses 12.5 ms median and 21 ms p90.
  CHECK(on.broker_hardware.young_gc->eden_bytes == static_cast<uint64_t>(0.6 * 4.0 * (1ull << 30)));
  CHECK(on.broker_hardware.young_gc->pause_median == 12500_us);
  CHECK(on.broker_hardware.young_gc->pause_p90 == 21_ms);
  doc["hardware"]["broker"]["young_gc"] = false;
  CHECK(!parse_scenario(doc, "gc.json").broker_hardware.young_gc.has_value());
  // Not a boolean, a near-miss of the key, and a heap too small for any young generation are errors.
  doc["hardware"]["broker"]["young_gc"] = "off";
  expect_error(doc, "/hardware/broker/young_gc");
  doc["hardware"]["broker"].erase("young_gc");
  doc["hardware"]["broker"]["young_gcs"] = true;
  expect_error(doc, "/hardware/broker/young_gcs", "young_gc");
  doc["hardware"]["broker"].erase("young_gcs");
  doc["hardware"]["broker"]["jvm_heap"] = 0;
  expect_error(doc, "/hardware/broker/jvm_heap");
}

TEST_CASE("__consumer_offsets: its configs reach the world, and more replicas than brokers is an error with groups") {
  // Kafka's defaults: 50 partitions, 3 replicas.
  ScenarioExtras x0;
  const WorldSpec def = parse_scenario(base(), "a.json", &x0);
  CHECK(def.offsets_topic_partitions == 50);
  CHECK(def.offsets_topic_replication_factor == 3);
  CHECK(def.consumers.at(0).group == "g");
  json d = base();
  CHECK(def.group_coordinator_append_linger == sim::Duration::from_ms(10));
  d["cluster"]["config"] = {{"offsets.topic.num.partitions", 10},
                            {"offsets.topic.replication.factor", 2},
                            {"group.coordinator.append.linger.ms", 0}};
  ScenarioExtras x1;
  const WorldSpec set = parse_scenario(d, "a.json", &x1);
  CHECK(set.offsets_topic_partitions == 10);
  CHECK(set.offsets_topic_replication_factor == 2);
  CHECK(set.group_coordinator_append_linger == sim::Duration::zero());
  const json r = resolved_scenario(set, x1);
  CHECK(r["cluster"]["config"]["offsets.topic.replication.factor"] == 2);
  const WorldSpec again = parse_scenario(r, "resolved.json");
  CHECK(again.offsets_topic_partitions == 10);
  CHECK(again.group_coordinator_append_linger == sim::Duration::zero());
  // The topic's own configs: the broker's topic defaults with segment.bytes = offsets.topic.segment.bytes
  // (104857600), compacted; and offsets.commit.timeout.ms (5000).
  CHECK(def.offsets_topic_config.log.segment_bytes == 104'857'600);
  CHECK_FALSE(def.offsets_topic_config.log.cleanup_policy_delete);
  CHECK(def.offsets_commit_timeout == sim::Duration::from_ms(5000));
  json t = base();
  t["cluster"]["config"] = {{"offsets.topic.segment.bytes", "16MiB"},
                            {"offsets.commit.timeout.ms", 250},
                            {"log.retention.ms", 1000}};
  ScenarioExtras x2;
  const WorldSpec topic_set = parse_scenario(t, "a.json", &x2);
  CHECK(topic_set.offsets_topic_config.log.segment_bytes == 16 * 1024 * 1024);
  CHECK(topic_set.offsets_topic_config.log.retention_ms == 1000);  // a broker default it inherits
  CHECK(topic_set.offsets_commit_timeout == sim::Duration::from_ms(250));
  const WorldSpec topic_again = parse_scenario(resolved_scenario(topic_set, x2), "resolved.json");
  CHECK(topic_again.offsets_topic_config.log.segment_bytes == 16 * 1024 * 1024);
  CHECK(topic_again.offsets_commit_timeout == sim::Duration::from_ms(250));
  t["cluster"]["config"] = {{"offsets.commit.timeout.ms", 0}};
  expect_error(t, "/cluster/config/offsets.commit.timeout.ms");
  // commitSync()'s retries end after the consumer's default.api.timeout.ms (60000).
  CHECK(def.consumers.at(0).config.default_api_timeout == sim::Duration::from_ms(60'000));
  json api = base();
  api["consumers"][0]["config"] = {{"default.api.timeout.ms", "2.5s"}};
  CHECK(parse_scenario(api, "a.json").consumers.at(0).config.default_api_timeout == sim::Duration::from_ms(2500));
  api["consumers"][0]["config"] = {{"default.api.timeout.ms", -1}};
  expect_error(api, "/consumers/0/config/default.api.timeout.ms");
  // A user topic cannot take the internal topic's name.
  json internal = base();
  internal["topics"][0]["name"] = "__consumer_offsets";
  internal["producers"][0]["topic"] = "__consumer_offsets";
  internal["consumers"][0]["topic"] = "__consumer_offsets";
  expect_error(internal, "/topics/0/name");
  // One broker and Kafka's default of 3 replicas: the group could never find a coordinator.
  json one = base();
  one["cluster"]["brokers"] = 1;
  one["topics"][0]["replication.factor"] = 1;
  {
    const ConfigError e = error_of(one);
    CHECK(e.pointer() == "/cluster/config/offsets.topic.replication.factor");
    CHECK(e.expected().find("at most the number of brokers (1)") != std::string::npos);
    CHECK(e.expected().find("\"g\"") != std::string::npos);
  }
  one["cluster"]["config"] = {{"offsets.topic.replication.factor", 1}};
  CHECK_NOTHROW(parse_scenario(one, "a.json"));
  // Without consumers nothing needs the topic.
  one["cluster"]["config"] = json::object();
  one.erase("consumers");
  CHECK_NOTHROW(parse_scenario(one, "a.json"));
  // Out of range: at least 1 (ConfigDef atLeast(1)).
  d["cluster"]["config"] = {{"offsets.topic.num.partitions", 0}};
  expect_error(d, "/cluster/config/offsets.topic.num.partitions");
}

TEST_CASE("auto.offset.reset=by_duration:<ISO-8601> (KIP-1106): parsed, resolved in Duration.toString's form, errors") {
  json d = base();
  d["consumers"][0]["config"] = {{"auto.offset.reset", "by_duration:P1DT2H30M0.5S"}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.consumers[0].config.auto_offset_reset == kafka::AutoOffsetReset::by_duration);
  CHECK(s.consumers[0].config.auto_offset_reset_duration == sim::Duration::from_ms((26 * 3600 + 30 * 60) * 1000 + 500));
  const json r = resolved_scenario(s, x);
  // java.time.Duration.toString counts hours, not days: PT26H30M0.5S.
  CHECK(r["consumers"][0]["config"]["auto.offset.reset"] == "by_duration:PT26H30M0.5S");
  CHECK(parse_scenario(r, "resolved.json").consumers[0].config.auto_offset_reset_duration ==
        s.consumers[0].config.auto_offset_reset_duration);

  // Kafka's AutoOffsetResetStrategy.fromString rejects a missing duration, a negative one and what Duration.parse
  // cannot read; a near miss of a plain value still gets its suggestion.
  for (const char* bad : {"by_duration", "by_duration:", "by_duration:-PT1S", "by_duration:P1Y", "by_duration:1h"}) {
    CAPTURE(bad);
    d["consumers"][0]["config"]["auto.offset.reset"] = bad;
    expect_error(d, "/consumers/0/config/auto.offset.reset");
  }
  d["consumers"][0]["config"]["auto.offset.reset"] = "earlist";
  expect_error(d, "/consumers/0/config/auto.offset.reset", "earliest");
}

TEST_CASE("partitioner.class: RoundRobinPartitioner is modelled; the classes Kafka 4.0 removed are errors") {
  json d = base();
  d["producers"][0]["config"]["partitioner.class"] = "org.apache.kafka.clients.producer.RoundRobinPartitioner";
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.producers[0].config.partitioner_class == kafka::PartitionerClass::round_robin);
  CHECK(resolved_scenario(s, x)["producers"][0]["config"]["partitioner.class"] ==
        "org.apache.kafka.clients.producer.RoundRobinPartitioner");
  CHECK(parse_scenario(base(), "b.json").producers[0].config.partitioner_class == kafka::PartitionerClass::built_in);
  // The removed classes and custom ones say why; a misspelt RoundRobinPartitioner gets its name suggested.
  for (const auto& [value, says] :
       {std::pair{"org.apache.kafka.clients.producer.internals.DefaultPartitioner", "Kafka 4.0 removed"},
        std::pair{"org.apache.kafka.clients.producer.UniformStickyPartitioner", "Kafka 4.0 removed"},
        std::pair{"com.example.MyPartitioner", "custom classes are not modelled"},
        std::pair{"org.apache.kafka.clients.producer.RoundRobinPartitoner", ""}}) {
    CAPTURE(value);
    d["producers"][0]["config"]["partitioner.class"] = value;
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/producers/0/config/partitioner.class");
    if (*says != '\0') {
      CHECK(std::string(e.what()).find(says) != std::string::npos);
      CHECK(e.suggestion().empty());
    } else {
      CHECK(e.suggestion() == "org.apache.kafka.clients.producer.RoundRobinPartitioner");
    }
  }
}

TEST_CASE("fetch from follower: replica.selector.class, client.rack and metadata.max.age.ms") {
  json d = base();
  d["cluster"]["racks"] = 3;
  d["cluster"]["config"]["replica.selector.class"] = "org.apache.kafka.common.replica.RackAwareReplicaSelector";
  d["consumers"][0]["config"] = {{"client.rack", "rack-2"}, {"metadata.max.age.ms", 60000}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.broker_config.rack_aware_replica_selector);
  CHECK(s.consumers[0].config.client_rack == "rack-2");
  CHECK(s.consumers[0].config.metadata_max_age == sim::Duration::from_ms(60'000));
  const json resolved = resolved_scenario(s, x);
  CHECK(resolved["cluster"]["config"]["replica.selector.class"] ==
        "org.apache.kafka.common.replica.RackAwareReplicaSelector");
  CHECK(resolved["consumers"][0]["config"]["client.rack"] == "rack-2");
  // Kafka's defaults: no selector, no rack, 5 minutes.
  const WorldSpec defaults = parse_scenario(base(), "b.json");
  CHECK_FALSE(defaults.broker_config.rack_aware_replica_selector);
  CHECK(defaults.consumers[0].config.client_rack.empty());
  CHECK(defaults.consumers[0].config.metadata_max_age == sim::Duration::from_ms(300'000));
  // client.rack places the consumer, so it must be one of the cluster's racks; a near miss is suggested.
  d["consumers"][0]["config"]["client.rack"] = "rack-3";
  ConfigError e = error_of(d);
  CHECK(e.pointer() == "/consumers/0/config/client.rack");
  CHECK(std::string(e.what()).find("rack-0") != std::string::npos);
  d["consumers"][0]["config"]["client.rack"] = "rak-1";
  e = error_of(d);
  CHECK(e.suggestion() == "rack-1");
  d["consumers"][0]["config"]["client.rack"] = "rack-1";
  // A custom ReplicaSelector is not modelled; a misspelt RackAwareReplicaSelector gets its name suggested.
  d["cluster"]["config"]["replica.selector.class"] = "com.example.ZoneSelector";
  e = error_of(d);
  CHECK(e.pointer() == "/cluster/config/replica.selector.class");
  CHECK(std::string(e.what()).find("custom classes are not modelled") != std::string::npos);
  d["cluster"]["config"]["replica.selector.class"] = "org.apache.kafka.common.replica.RackAwareReplicaSelecter";
  e = error_of(d);
  CHECK(e.suggestion() == "org.apache.kafka.common.replica.RackAwareReplicaSelector");
  // A pasted server.properties' broker.rack is ignored with a warning that says where racks come from.
  json pasted = base();
  pasted["cluster"]["config"]["broker.rack"] = "us-east-1a";
  ScenarioExtras px;
  parse_scenario(pasted, "c.json", &px);
  REQUIRE(px.warnings.size() == 1);
  CHECK(px.warnings[0].find("/cluster/racks") != std::string::npos);
}

TEST_CASE("TLS: security.protocol and security.inter.broker.protocol, in any case, kept in Kafka's spelling") {
  json d = base();
  d["producers"][0]["config"]["security.protocol"] = "ssl";
  d["consumers"][0]["config"]["security.protocol"] = "Sasl_Ssl";
  d["cluster"]["config"]["security.inter.broker.protocol"] = "SASL_PLAINTEXT";
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(x.warnings.empty());
  CHECK(s.producers[0].config.security_protocol == kafka::SecurityProtocol::ssl);
  CHECK(s.consumers[0].config.security_protocol == kafka::SecurityProtocol::sasl_ssl);
  CHECK(s.security_inter_broker_protocol == kafka::SecurityProtocol::sasl_plaintext);
  const json resolved = resolved_scenario(s, x);
  CHECK(resolved["producers"][0]["config"]["security.protocol"] == "SSL");
  CHECK(resolved["consumers"][0]["config"]["security.protocol"] == "SASL_SSL");
  CHECK(resolved["cluster"]["config"]["security.inter.broker.protocol"] == "SASL_PLAINTEXT");
  // The resolved scenario loads to the same protocols.
  const WorldSpec again = parse_scenario(resolved, "resolved.json");
  CHECK(again.producers[0].config.security_protocol == kafka::SecurityProtocol::ssl);
  CHECK(again.security_inter_broker_protocol == kafka::SecurityProtocol::sasl_plaintext);
  // Kafka's default is PLAINTEXT everywhere.
  const WorldSpec defaults = parse_scenario(base(), "b.json");
  CHECK(defaults.producers[0].config.security_protocol == kafka::SecurityProtocol::plaintext);
  CHECK(defaults.consumers[0].config.security_protocol == kafka::SecurityProtocol::plaintext);
  CHECK(defaults.security_inter_broker_protocol == kafka::SecurityProtocol::plaintext);
  // Anything else is an error that lists the protocols and suggests the nearest.
  d["consumers"][0]["config"]["security.protocol"] = "SLL";
  const ConfigError e = error_of(d);
  CHECK(e.pointer() == "/consumers/0/config/security.protocol");
  CHECK(std::string(e.what()).find("SASL_SSL") != std::string::npos);
  CHECK(e.suggestion() == "SSL");
}

TEST_CASE("client quotas: /cluster/quotas loads into WorldSpec::client_quotas and survives the round trip") {
  // kafka-behaviour-2.md §10.1: client-id entities, "<default>" for the default one; byte rates in B/s per broker,
  // request_percentage in percent of one thread. The named ids are the base scenario's clients' generated ones.
  json d = base();
  d["cluster"]["quotas"] = json::parse(R"([
      {"client-id": "<default>", "producer_byte_rate": 1048576, "consumer_byte_rate": 2097152},
      {"client-id": "producer-1", "producer_byte_rate": 512000, "request_percentage": 12.5},
      {"client-id": "consumer-g-1", "consumer_byte_rate": 1e6}])");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "q.json", &x);
  CHECK(x.warnings.empty());
  REQUIRE(s.client_quotas.size() == 3);
  CHECK(!s.client_quotas[0].client_id.has_value());
  REQUIRE(s.client_quotas[0].producer_byte_rate.has_value());
  CHECK(*s.client_quotas[0].producer_byte_rate == 1048576);
  REQUIRE(s.client_quotas[0].consumer_byte_rate.has_value());
  CHECK(*s.client_quotas[0].consumer_byte_rate == 2097152);
  CHECK(!s.client_quotas[0].request_percentage.has_value());
  CHECK(s.client_quotas[1].client_id == std::optional<std::string>("producer-1"));
  REQUIRE(s.client_quotas[1].producer_byte_rate.has_value());
  CHECK(*s.client_quotas[1].producer_byte_rate == 512000);
  CHECK(!s.client_quotas[1].consumer_byte_rate.has_value());
  REQUIRE(s.client_quotas[1].request_percentage.has_value());
  CHECK(*s.client_quotas[1].request_percentage == 12.5);
  CHECK(s.client_quotas[2].client_id == std::optional<std::string>("consumer-g-1"));
  CHECK(!s.client_quotas[2].producer_byte_rate.has_value());
  REQUIRE(s.client_quotas[2].consumer_byte_rate.has_value());
  CHECK(*s.client_quotas[2].consumer_byte_rate == 1e6);  // a whole number written as 1e6 is accepted
  // Without /cluster/quotas there are none.
  CHECK(parse_scenario(base(), "b.json").client_quotas.empty());

  // The resolved scenario writes the entries back as given (1e6 as the whole number it is), and loads to the same.
  const json r1 = resolved_scenario(s, x);
  CHECK(r1["cluster"]["quotas"] == json::parse(R"([
      {"client-id": "<default>", "producer_byte_rate": 1048576, "consumer_byte_rate": 2097152},
      {"client-id": "producer-1", "producer_byte_rate": 512000, "request_percentage": 12.5},
      {"client-id": "consumer-g-1", "consumer_byte_rate": 1000000}])"));
  ScenarioExtras x2;
  const WorldSpec s2 = parse_scenario(r1, "resolved.json", &x2);
  CHECK(resolved_scenario(s2, x2) == r1);
  REQUIRE(s2.client_quotas.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(s2.client_quotas[i].client_id == s.client_quotas[i].client_id);
    CHECK(s2.client_quotas[i].producer_byte_rate == s.client_quotas[i].producer_byte_rate);
    CHECK(s2.client_quotas[i].consumer_byte_rate == s.client_quotas[i].consumer_byte_rate);
    CHECK(s2.client_quotas[i].request_percentage == s.client_quotas[i].request_percentage);
  }
  // No quotas: no "quotas" key in the resolved cluster.
  ScenarioExtras x3;
  CHECK_FALSE(resolved_scenario(parse_scenario(base(), "b.json", &x3), x3)["cluster"].contains("quotas"));
}

TEST_CASE("client quotas: each mistake in /cluster/quotas is a ConfigError at its pointer saying what is wrong") {
  const auto with_quotas = [](const char* quotas) {
    json d = base();
    d["cluster"]["quotas"] = json::parse(quotas);
    return d;
  };
  // Not an array.
  {
    const ConfigError e = error_of(with_quotas(R"({"client-id": "<default>", "producer_byte_rate": 100})"));
    CHECK(e.pointer() == "/cluster/quotas");
    CHECK(e.expected().find("array") != std::string::npos);
  }
  // An entry that is not an object.
  CHECK(error_of(with_quotas(R"(["producer-1"])")).pointer() == "/cluster/quotas/0");
  // A misspelt quota key, with the real one suggested.
  {
    const json d = with_quotas(R"([{"client-id": "<default>", "producer_byte_rte": 100}])");
    expect_error(d, "/cluster/quotas/0/producer_byte_rte", "producer_byte_rate");
    const ConfigError e = error_of(d);
    CHECK(e.found().find("producer_byte_rte") != std::string::npos);
    CHECK(e.expected().find("request_percentage") != std::string::npos);  // the keys a quota may have
  }
  // No entity.
  {
    const ConfigError e = error_of(with_quotas(R"([{"producer_byte_rate": 100}])"));
    CHECK(e.pointer() == "/cluster/quotas/0");
    CHECK(e.expected().find("\"client-id\"") != std::string::npos);
    CHECK(e.expected().find("<default>") != std::string::npos);
  }
  // An empty client-id.
  expect_error(with_quotas(R"([{"client-id": "", "producer_byte_rate": 100}])"), "/cluster/quotas/0/client-id");
  // A user entity, alone or with a client-id: user quotas are not modelled.
  for (const char* q : {R"([{"user": "alice", "producer_byte_rate": 100}])",
                        R"([{"user": "alice", "client-id": "producer-1", "producer_byte_rate": 100}])"}) {
    CAPTURE(q);
    const ConfigError e = error_of(with_quotas(q));
    CHECK(e.pointer() == "/cluster/quotas/0/user");
    CHECK(std::string(e.what()).find("user quotas are not modelled") != std::string::npos);
  }
  // Byte rates are whole numbers of bytes/s, at least 1: zero, negative, fractional and a string with a unit fail.
  for (const auto& [key, rate] : {std::pair{"producer_byte_rate", json(0)},
                                  std::pair{"consumer_byte_rate", json(-1024)},
                                  std::pair{"producer_byte_rate", json(1000.5)},
                                  std::pair{"consumer_byte_rate", json("1MiB")}}) {
    CAPTURE(key);
    CAPTURE(rate.dump());
    json d = base();
    d["cluster"]["quotas"] = json::array({{{"client-id", "<default>"}, {key, rate}}});
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == std::string("/cluster/quotas/0/") + key);
    CHECK(e.expected().find("a whole number from 1") != std::string::npos);
  }
  // request_percentage above 0: 0 and a negative percentage fail, as does a string.
  for (const char* q : {R"([{"client-id": "<default>", "request_percentage": 0}])",
                        R"([{"client-id": "<default>", "request_percentage": -50}])",
                        R"([{"client-id": "<default>", "request_percentage": "50%"}])"}) {
    CAPTURE(q);
    const ConfigError e = error_of(with_quotas(q));
    CHECK(e.pointer() == "/cluster/quotas/0/request_percentage");
    CHECK(e.expected().find("above 0") != std::string::npos);
  }
  // An entity with no quota at all.
  {
    const ConfigError e = error_of(with_quotas(R"([{"client-id": "producer-1"}])"));
    CHECK(e.pointer() == "/cluster/quotas/0");
    CHECK(e.expected().find("at least one of producer_byte_rate, consumer_byte_rate, request_percentage") !=
          std::string::npos);
  }
  // The same entity twice, named or the default: the second entry is the error.
  for (const char* id : {"producer-1", "<default>"}) {
    CAPTURE(id);
    json d = base();
    d["cluster"]["quotas"] = json::array({{{"client-id", id}, {"producer_byte_rate", 100}},
                                          {{"client-id", "consumer-g-1"}, {"consumer_byte_rate", 100}},
                                          {{"client-id", id}, {"consumer_byte_rate", 200}}});
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/cluster/quotas/2/client-id");
    CHECK(e.found().find(std::string("a second entry for \"") + id + "\"") != std::string::npos);
  }
}

TEST_CASE("client.id: modelled on producers and consumers (the id client quotas match), \"\" by default") {
  json d = base();
  d["producers"][0]["config"]["client.id"] = "checkout";
  d["consumers"][0]["config"] = {{"client.id", "audit"}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "c.json", &x);
  CHECK(x.warnings.empty());  // no longer "not modelled"
  CHECK(s.producers[0].config.client_id_config == "checkout");
  CHECK(s.consumers[0].config.client_id_config == "audit");
  const json r = resolved_scenario(s, x);
  CHECK(r["producers"][0]["config"]["client.id"] == "checkout");
  CHECK(r["consumers"][0]["config"]["client.id"] == "audit");
  const WorldSpec again = parse_scenario(r, "resolved.json");
  CHECK(again.producers[0].config.client_id_config == "checkout");
  CHECK(again.consumers[0].config.client_id_config == "audit");
  // Kafka's default is "" (the client then generates "producer-1" / "consumer-<group>-1").
  ScenarioExtras x0;
  const WorldSpec defaults = parse_scenario(base(), "b.json", &x0);
  CHECK(defaults.producers[0].config.client_id_config.empty());
  CHECK(defaults.consumers[0].config.client_id_config.empty());
  CHECK(resolved_scenario(defaults, x0)["producers"][0]["config"]["client.id"] == "");
}

TEST_CASE("quota.window.num and quota.window.size.seconds reach WorldSpec::quota_window; 0 is an error") {
  // Kafka's QuotaConfig defaults: 11 samples of 1 s.
  const WorldSpec defaults = parse_scenario(base(), "b.json");
  CHECK(defaults.quota_window.samples == 11);
  CHECK(defaults.quota_window.window_ms == 1000);
  json d = base();
  d["cluster"]["config"] = {{"quota.window.num", 5}, {"quota.window.size.seconds", 2}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "w.json", &x);
  CHECK(x.warnings.empty());  // no longer "not modelled"
  CHECK(s.quota_window.samples == 5);
  CHECK(s.quota_window.window_ms == 2000);
  const json r = resolved_scenario(s, x);
  CHECK(r["cluster"]["config"]["quota.window.num"] == 5);
  CHECK(r["cluster"]["config"]["quota.window.size.seconds"] == 2);
  const WorldSpec again = parse_scenario(r, "resolved.json");
  CHECK(again.quota_window.samples == 5);
  CHECK(again.quota_window.window_ms == 2000);
  // Both are atLeast(1) in Kafka.
  for (const char* key : {"quota.window.num", "quota.window.size.seconds"}) {
    CAPTURE(key);
    json z = base();
    z["cluster"]["config"] = {{key, 0}};
    expect_error(z, std::string("/cluster/config/") + key);
  }
}

TEST_CASE("client quotas: a client-id no client has warns, with the closest client-id suggested") {
  // The base scenario's clients have Kafka's generated ids: "producer-1" and "consumer-g-1".
  json d = base();
  d["cluster"]["quotas"] = json::parse(R"([
      {"client-id": "<default>", "producer_byte_rate": 1000000},
      {"client-id": "producer_1", "producer_byte_rate": 1000},
      {"client-id": "consumer-g-1", "consumer_byte_rate": 1000},
      {"client-id": "nightly-batch-job", "consumer_byte_rate": 1000}])");
  ScenarioExtras x;
  CHECK(parse_scenario(d, "q.json", &x).client_quotas.size() == 4);  // a warning, not an error
  REQUIRE(x.warnings.size() == 2);
  CHECK(x.warnings[0].find("q.json: at /cluster/quotas/1/client-id: ") == 0);
  CHECK(x.warnings[0].find("\"producer_1\"") != std::string::npos);
  CHECK(x.warnings[0].find("did you mean \"producer-1\"?") != std::string::npos);
  CHECK(x.warnings[1].find("q.json: at /cluster/quotas/3/client-id: ") == 0);
  CHECK(x.warnings[1].find("did you mean") == std::string::npos);  // nothing close
  CHECK(x.warnings[1].find("\"consumer-g-1\"") != std::string::npos);  // the ids there are are listed
  // A client.id replaces the generated id: the quota for "producer-1" now throttles nobody, the one for the
  // producer's own id matches.
  d["producers"][0]["config"]["client.id"] = "checkout";
  d["cluster"]["quotas"] = json::parse(R"([
      {"client-id": "checkout", "producer_byte_rate": 1000},
      {"client-id": "producer-1", "producer_byte_rate": 1000}])");
  parse_scenario(d, "q.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/cluster/quotas/1/client-id") != std::string::npos);
  // A consumer's own client.id, and a quota for a misspelling of it.
  d["consumers"][0]["config"] = {{"client.id", "audit-reader"}};
  d["cluster"]["quotas"] = json::parse(R"([
      {"client-id": "audit-reader", "consumer_byte_rate": 1000},
      {"client-id": "audit-raeder", "consumer_byte_rate": 1000}])");
  parse_scenario(d, "q.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/cluster/quotas/1/client-id") != std::string::npos);
  CHECK(x.warnings[0].find("did you mean \"audit-reader\"?") != std::string::npos);
}

TEST_CASE("faults: each type loads into WorldSpec::faults with its host, times and parameters, and round-trips") {
  json d = base();
  d["hardware"] = json::parse(R"({"broker": {"log_dirs": 2}})");
  d["faults"] = json::parse(R"([
      {"type": "slow_disk", "host": "broker-2", "at": "5s", "duration": "3s", "disk": 1,
       "latency_multiplier": 10, "bandwidth_multiplier": 0.25},
      {"type": "stalled_disk", "host": "broker-0", "at": "6s", "duration": "500ms"},
      {"type": "slow_cpu", "host": "broker-1", "at": "7s", "speed": 0.5},
      {"type": "pause", "host": "broker-1", "at": "8s", "duration": "2s"},
      {"type": "slow_network", "host": "client-1", "at": "9s", "duration": "1s", "extra_latency": "3ms",
       "jitter": "1ms", "loss": 0.01, "bandwidth_multiplier": 0.5},
      {"type": "drop_caches", "host": "broker-0", "at": "10s"},
      {"type": "drop_caches", "host": "broker-0", "at": "10s"},
      {"type": "memory_pressure", "host": "broker-2", "at": "1s", "duration": "2s", "bytes": "8GiB"}])");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "f.json", &x);
  REQUIRE(s.faults.size() == 8);
  CHECK(s.faults[5].kind == FaultKind::drop_caches);
  CHECK_FALSE(s.faults[5].duration.has_value());
  CHECK(s.faults[7].kind == FaultKind::memory_pressure);
  CHECK(s.faults[7].bytes == 8ull << 30);
  CHECK(s.faults[0].kind == FaultKind::slow_disk);
  CHECK(s.faults[0].host == 2);
  CHECK(s.faults[0].at == 5_s);
  CHECK(s.faults[0].duration == std::optional<sim::Duration>(3_s));
  CHECK(s.faults[0].disk == std::optional<uint32_t>(1));
  CHECK(s.faults[0].latency_multiplier == 10);
  CHECK(s.faults[0].bandwidth_multiplier == 0.25);
  CHECK(s.faults[1].kind == FaultKind::stalled_disk);
  CHECK_FALSE(s.faults[1].disk.has_value());  // every disk of the broker
  CHECK(s.faults[2].kind == FaultKind::slow_cpu);
  CHECK_FALSE(s.faults[2].duration.has_value());  // to the end of the run
  CHECK(s.faults[2].speed == 0.5);
  CHECK(s.faults[3].kind == FaultKind::pause);
  // Clients are numbered after the brokers, producers first: client-1 is the consumer, node 3 + 1.
  CHECK(s.faults[4].kind == FaultKind::slow_network);
  CHECK(s.faults[4].host == 4);
  CHECK(s.faults[4].extra_latency == 3_ms);
  CHECK(s.faults[4].jitter == 1_ms);
  CHECK(s.faults[4].loss == 0.01);
  CHECK(s.faults[4].bandwidth_multiplier == 0.5);
  // The resolved scenario loads to the same faults and writes itself again.
  const json r = resolved_scenario(s, x);
  ScenarioExtras x2;
  const WorldSpec s2 = parse_scenario(r, "resolved.json", &x2);
  CHECK(resolved_scenario(s2, x2) == r);
  REQUIRE(s2.faults.size() == 8);
  for (size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(s2.faults[i].kind == s.faults[i].kind);
    CHECK(s2.faults[i].host == s.faults[i].host);
    CHECK(s2.faults[i].at == s.faults[i].at);
    CHECK(s2.faults[i].duration == s.faults[i].duration);
    CHECK(s2.faults[i].disk == s.faults[i].disk);
    CHECK(s2.faults[i].bytes == s.faults[i].bytes);
  }
  CHECK(parse_scenario(base(), "b.json").faults.empty());
}

TEST_CASE("faults: each mistake is a ConfigError at its pointer saying what is wrong") {
  const auto with_fault = [](const char* fault) {
    json d = base();
    d["faults"] = json::array({json::parse(fault)});
    return d;
  };
  // An unknown type, with the closest known one.
  expect_error(with_fault(R"({"type": "slow_disks", "host": "broker-0", "at": "1s"})"), "/faults/0/type", "slow_disk");
  // A host that does not exist, with the closest; a client for a broker-only fault, without one.
  expect_error(with_fault(R"({"type": "pause", "host": "broker-3", "at": "1s", "duration": "1s"})"), "/faults/0/host",
               "broker-0");
  expect_error(with_fault(R"({"type": "slow_cpu", "host": "client-0", "at": "1s", "speed": 0.5})"), "/faults/0/host");
  // A key another type takes.
  expect_error(with_fault(R"({"type": "slow_cpu", "host": "broker-0", "at": "1s", "speed": 0.5, "loss": 0.1})"),
               "/faults/0/loss");
  // A start after the run, a duration without a unit.
  expect_error(with_fault(R"({"type": "stalled_disk", "host": "broker-0", "at": "20s"})"), "/faults/0/at");
  expect_error(with_fault(R"({"type": "stalled_disk", "host": "broker-0", "at": "1s", "duration": 5})"),
               "/faults/0/duration", "5s");
  // A pause without a duration, or long enough to get the broker fenced (over 9 s - 2 s).
  expect_error(with_fault(R"({"type": "pause", "host": "broker-0", "at": "1s"})"), "/faults/0/duration");
  expect_error(with_fault(R"({"type": "pause", "host": "broker-0", "at": "1s", "duration": "7001ms"})"),
               "/faults/0/duration");
  CHECK_NOTHROW(parse_scenario(with_fault(R"({"type": "pause", "host": "broker-0", "at": "1s", "duration": "7s"})"), "ok.json"));
  // Parameters out of range, or none at all.
  expect_error(with_fault(R"({"type": "slow_cpu", "host": "broker-0", "at": "1s", "speed": 1.5})"), "/faults/0/speed");
  expect_error(with_fault(R"({"type": "slow_cpu", "host": "broker-0", "at": "1s"})"), "/faults/0/speed");
  expect_error(with_fault(R"({"type": "slow_disk", "host": "broker-0", "at": "1s", "bandwidth_multiplier": 0})"),
               "/faults/0/bandwidth_multiplier");
  expect_error(with_fault(R"({"type": "slow_disk", "host": "broker-0", "at": "1s"})"), "/faults/0");
  expect_error(with_fault(R"({"type": "slow_disk", "host": "broker-0", "at": "1s", "disk": 1, "latency_multiplier": 2})"),
               "/faults/0/disk");  // one log dir: disk 0 only
  expect_error(with_fault(R"({"type": "slow_network", "host": "broker-0", "at": "1s", "loss": 0.5})"), "/faults/0/loss");
  expect_error(with_fault(R"({"type": "slow_network", "host": "broker-0", "at": "1s", "extra_latency": "8s"})"),
               "/faults/0/extra_latency");
  // drop_caches is an instant; memory_pressure must leave the cache some memory (64 GiB - 6 - 1 GiB - 1 MiB).
  expect_error(with_fault(R"({"type": "drop_caches", "host": "broker-0", "at": "1s", "duration": "1s"})"),
               "/faults/0/duration");
  expect_error(with_fault(R"({"type": "memory_pressure", "host": "broker-0", "at": "1s"})"), "/faults/0/bytes");
  expect_error(with_fault(R"({"type": "memory_pressure", "host": "broker-0", "at": "1s", "bytes": "57GiB"})"),
               "/faults/0/bytes");
  CHECK_NOTHROW(parse_scenario(
      with_fault(R"({"type": "memory_pressure", "host": "broker-0", "at": "1s", "bytes": "58367MiB"})"), "ok.json"));
  // consumer_restart needs a consumer's host: base() has one producer (client-0) and one consumer (client-1).
  expect_error(with_fault(R"({"type": "consumer_restart", "host": "client-0", "at": "1s"})"), "/faults/0/host",
               "client-1");
  expect_error(with_fault(R"({"type": "consumer_restart", "host": "broker-0", "at": "1s"})"), "/faults/0/host");
  {
    const WorldSpec s = parse_scenario(with_fault(R"({"type": "consumer_restart", "host": "client-1", "at": "1s"})"), "ok.json");
    REQUIRE(s.faults.size() == 1);
    CHECK(s.faults[0].kind == FaultKind::consumer_restart);
    CHECK(s.faults[0].host == 3 + 1);  // brokers 0-2, the producer's client 3, the consumer's 4
  }
  // producer_restart needs a producer's host (client-0 here), takes no other key, and two of one host must not
  // overlap in their downtimes.
  expect_error(with_fault(R"({"type": "producer_restart", "host": "client-1", "at": "1s"})"), "/faults/0/host",
               "client-0");
  expect_error(with_fault(R"({"type": "producer_restart", "host": "broker-0", "at": "1s"})"), "/faults/0/host");
  expect_error(with_fault(R"({"type": "producer_restart", "host": "client-0", "at": "1s", "speed": 0.5})"),
               "/faults/0/speed");
  {
    const WorldSpec s =
        parse_scenario(with_fault(R"({"type": "producer_restart", "host": "client-0", "at": "1s", "duration": "2s"})"),
                       "ok.json");
    REQUIRE(s.faults.size() == 1);
    CHECK(s.faults[0].kind == FaultKind::producer_restart);
    CHECK(s.faults[0].host == 3);
    REQUIRE(s.faults[0].duration.has_value());
    CHECK(*s.faults[0].duration == sim::Duration::from_s(2));
    json twice = base();
    twice["faults"] = json::parse(R"([
        {"type": "producer_restart", "host": "client-0", "at": "1s", "duration": "2s"},
        {"type": "producer_restart", "host": "client-0", "at": "2s"}])");
    expect_error(twice, "/faults/1/at");
    twice["faults"][1]["at"] = "3s";  // after the first one's downtime: fine
    CHECK(parse_scenario(twice, "ok.json").faults.size() == 2);
  }
  // Two faults of one kind on one host that overlap.
  json d = base();
  d["faults"] = json::parse(R"([
      {"type": "slow_cpu", "host": "broker-0", "at": "1s", "duration": "5s", "speed": 0.5},
      {"type": "slow_cpu", "host": "broker-0", "at": "4s", "speed": 0.25}])");
  expect_error(d, "/faults/1/at");
  d["faults"][1]["at"] = "6s";  // back to back: fine
  CHECK(parse_scenario(d, "ok.json").faults.size() == 2);
}

TEST_CASE("replication throttling: the rates, windows and throttled-replica lists load, round-trip, and are checked") {
  // Kafka's defaults: no bound (Long.MAX), 11 samples of 1 s, no replica throttled.
  const WorldSpec defaults = parse_scenario(base(), "b.json");
  CHECK(defaults.leader_replication_throttled_rate == kafka::unlimited_replication_rate);
  CHECK(defaults.follower_replication_throttled_rate == kafka::unlimited_replication_rate);
  CHECK(defaults.replication_quota_window.samples == 11);
  CHECK(defaults.replication_quota_window.window_ms == 1000);
  CHECK(defaults.topics[0].config.leader_throttled_replicas.empty());

  json d = base();
  d["cluster"]["config"] = {{"leader.replication.throttled.rate", 10'485'760},
                            {"follower.replication.throttled.rate", "5242880"},
                            {"replication.quota.window.num", 4},
                            {"replication.quota.window.size.seconds", 2}};
  d["topics"][0]["config"] = {{"leader.replication.throttled.replicas", "0:1, 1:2,2:0"},
                              {"follower.replication.throttled.replicas", "*"}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "t.json", &x);
  CHECK(x.warnings.empty());
  CHECK(s.leader_replication_throttled_rate == 10'485'760);
  CHECK(s.follower_replication_throttled_rate == 5'242'880);
  CHECK(s.replication_quota_window.samples == 4);
  CHECK(s.replication_quota_window.window_ms == 2000);
  const kafka::ThrottledReplicas& leader = s.topics[0].config.leader_throttled_replicas;
  CHECK_FALSE(leader.all);
  CHECK(leader.partitions_for(1) == std::vector<int32_t>{0});
  CHECK(leader.partitions_for(2) == std::vector<int32_t>{1});
  CHECK(leader.partitions_for(0) == std::vector<int32_t>{2});
  CHECK(s.topics[0].config.follower_throttled_replicas.all);
  const json r = resolved_scenario(s, x);
  CHECK(r["topics"][0]["config"]["leader.replication.throttled.replicas"] == "0:1,1:2,2:0");
  CHECK(r["topics"][0]["config"]["follower.replication.throttled.replicas"] == "*");
  CHECK(r["cluster"]["config"]["leader.replication.throttled.rate"] == 10'485'760);
  const WorldSpec again = parse_scenario(r, "resolved.json");
  CHECK(again.topics[0].config.leader_throttled_replicas == leader);
  CHECK(again.replication_quota_window.window_ms == 2000);

  // ThrottledReplicaListValidator: "*" alone or partition:broker entries; the rates are at least 0, the windows 1.
  for (const char* bad : {"0-1", "*,0:1", "a:1", "0:1:2"}) {
    CAPTURE(bad);
    json z = base();
    z["topics"][0]["config"] = {{"leader.replication.throttled.replicas", bad}};
    const ConfigError e = error_of(z);
    CHECK(e.pointer() == "/topics/0/config/leader.replication.throttled.replicas");
    CHECK(e.expected().find("[partitionId]:[brokerId]") != std::string::npos);
  }
  for (const auto& [key, value] : std::vector<std::pair<const char*, int>>{
           {"leader.replication.throttled.rate", -1}, {"replication.quota.window.num", 0},
           {"replication.quota.window.size.seconds", 0}}) {
    CAPTURE(key);
    json z = base();
    z["cluster"]["config"] = {{key, value}};
    expect_error(z, std::string("/cluster/config/") + key);
  }
}

TEST_CASE("replication throttling: a rate without throttled replicas, or replicas without a rate, warns") {
  json d = base();
  d["cluster"]["config"] = {{"leader.replication.throttled.rate", 1'000'000}};
  ScenarioExtras x;
  parse_scenario(d, "w.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/cluster/config/leader.replication.throttled.rate") != std::string::npos);
  CHECK(x.warnings[0].find("throttles nothing") != std::string::npos);

  json e = base();
  // No follower rate, and an entry naming partition 9 of a 6-partition topic and one naming broker 5 of 3.
  e["topics"][0]["config"] = {{"follower.replication.throttled.replicas", "0:1,9:1,2:5"}};
  ScenarioExtras y;
  parse_scenario(e, "w.json", &y);
  REQUIRE(y.warnings.size() == 3);
  for (const std::string& w : y.warnings)
    CHECK(w.find("/topics/0/config/follower.replication.throttled.replicas") != std::string::npos);
  CHECK(y.warnings[0].find("follower.replication.throttled.rate is not set") != std::string::npos);
  CHECK(y.warnings[1].find("partition 9 of a topic of 6") != std::string::npos);
  CHECK(y.warnings[2].find("broker 5 of a cluster of 3") != std::string::npos);
}

TEST_CASE("derived profiles: {\"base\": NAME, \"parameters\": {...}} replaces some of a bundled profile's parameters") {
  // A plain value keeps the base entry's unit (B/s here); the rest of ebs-gp3 stays (3,000 IOPS, 1 ms).
  json d = base();
  d["hardware"]["broker"]["disk"] = json::parse(
      R"({"base": "ebs-gp3", "parameters": {"provisioned_throughput_bytes_per_s": 262144000, "provisioned_iops": 4000}})");
  const WorldSpec s = parse_scenario(d, "ok.json");
  const auto& ebs = std::get<models::EbsParams>(s.broker_hardware.disk);
  CHECK(ebs.throughput.baseline_per_s == doctest::Approx(262144000).scale(0));
  CHECK(ebs.iops.baseline_per_s == doctest::Approx(4000).scale(0));
  CHECK(ebs.read_latency == sim::Duration::from_ms(1));
  // A whole entry with its own unit.
  d["hardware"]["broker"]["disk"] = json::parse(
      R"({"base": "nvme-datacentre", "parameters": {"read_latency": {"value": 0.1, "unit": "ms", "source": "mine"}}})");
  CHECK(std::get<models::SsdParams>(parse_scenario(d, "ok.json").broker_hardware.disk).read_latency ==
        sim::Duration::from_us(100));
  // The derived profile's own checks still hold: 1,000 MiB/s is more than 0.25 MiB/s per IOPS of the included 3,000.
  d["hardware"]["broker"]["disk"] =
      json::parse(R"({"base": "ebs-gp3", "parameters": {"provisioned_throughput_bytes_per_s": 1048576000}})");
  expect_error(d, "/hardware/broker/disk/parameters/provisioned_throughput_bytes_per_s/value");
  // Mistakes: a parameter the base lacks (with the closest), an unknown profile, another key, a base of another kind.
  d["hardware"]["broker"]["disk"] = json::parse(R"({"base": "ebs-gp3", "parameters": {"provisioned_throughput": 1}})");
  expect_error(d, "/hardware/broker/disk/parameters/provisioned_throughput", "provisioned_throughput_bytes_per_s");
  d["hardware"]["broker"]["disk"] = json::parse(R"({"base": "ebs-gp4"})");
  expect_error(d, "/hardware/broker/disk/base", "ebs-gp2");
  d["hardware"]["broker"]["disk"] = json::parse(R"({"base": "ebs-gp3", "kind": "ssd"})");
  expect_error(d, "/hardware/broker/disk/kind");
  d["hardware"]["broker"]["disk"] = json::parse(R"({"base": "nic-10gbe"})");
  expect_error(d, "/hardware/broker/disk");
}

TEST_CASE("ebs_instance: an instance's EBS limits over the brokers' EBS volumes, by name or derived; mistakes") {
  json d = base();
  d["hardware"]["broker"]["disk"] = "ebs-gp3";
  d["hardware"]["broker"]["log_dirs"] = 2;
  d["hardware"]["broker"]["ebs_instance"] = "ec2-m5.xlarge";
  WorldSpec s = parse_scenario(d, "ok.json");
  REQUIRE(s.broker_hardware.ebs_instance.has_value());
  // m5.xlarge: 1,150 Mbps and 6,000 IOPS sustained, 4,750 Mbps and 18,750 IOPS for 30 minutes.
  CHECK(s.broker_hardware.ebs_instance->throughput.baseline_per_s == doctest::Approx(1150e6 / 8).scale(0));
  CHECK(s.broker_hardware.ebs_instance->throughput.burst_per_s == doctest::Approx(4750e6 / 8).scale(0));
  CHECK(s.broker_hardware.ebs_instance->iops.baseline_per_s == doctest::Approx(6000).scale(0));
  // Derived: a string carries its own unit (the base's burst_duration is in minutes), a number keeps the base's.
  d["hardware"]["broker"]["ebs_instance"] = json::parse(
      R"({"base": "ec2-m5.large", "parameters": {"burst_duration": "10s", "burst_balance": 0.5, "baseline_iops": 3000}})");
  s = parse_scenario(d, "ok.json");
  const auto& large = *s.broker_hardware.ebs_instance;
  CHECK(large.throughput.credits_max == doctest::Approx((593.75e6 - 81.25e6) * 10).scale(0));
  CHECK(large.throughput.credits_initial == doctest::Approx(large.throughput.credits_max / 2).scale(0));
  CHECK(large.iops.baseline_per_s == doctest::Approx(3000).scale(0));
  // The resolved scenario carries it and loads into the same limits.
  ScenarioExtras x;
  const WorldSpec first = parse_scenario(d, "ok.json", &x);
  const json resolved = resolved_scenario(first, x);
  CHECK(resolved["hardware"]["broker"]["ebs_instance"] == d["hardware"]["broker"]["ebs_instance"]);
  CHECK(parse_scenario(resolved, "again.json").broker_hardware.ebs_instance->throughput.credits_initial ==
        large.throughput.credits_initial);
  // Without one, the resolved scenario has no key.
  json plain = base();
  ScenarioExtras px;
  CHECK_FALSE(resolved_scenario(parse_scenario(plain, "ok.json", &px), px)["hardware"]["broker"].contains("ebs_instance"));
  // A string of digits keeps the base's unit, as a number does: 10 minutes.
  d["hardware"]["broker"]["ebs_instance"] = json::parse(R"({"base": "ec2-m5.large", "parameters": {"burst_duration": "10"}})");
  CHECK(parse_scenario(d, "ok.json").broker_hardware.ebs_instance->throughput.credits_max ==
        doctest::Approx((593.75e6 - 81.25e6) * 600).scale(0));
  // Mistakes: a misspelt instance (the closest), a profile of another kind, a duration in a unit of no time, an
  // instance over a non-EBS disk.
  d["hardware"]["broker"]["ebs_instance"] = "ec2-m5.xlarg";
  expect_error(d, "/hardware/broker/ebs_instance", "ec2-m5.xlarge");
  d["hardware"]["broker"]["ebs_instance"] = "ebs-gp3";
  expect_error(d, "/hardware/broker/ebs_instance");
  d["hardware"]["broker"]["ebs_instance"] = json::parse(R"({"base": "ec2-m5.large", "parameters": {"burst_duration": "10MB"}})");
  expect_error(d, "/hardware/broker/ebs_instance/parameters/burst_duration/value");
  d["hardware"]["broker"]["ebs_instance"] = "ec2-m5.large";
  d["hardware"]["broker"]["disk"] = "nvme-datacentre";
  expect_error(d, "/hardware/broker/ebs_instance");
}

TEST_CASE("operations: kafka-configs --alter entries load in time order, resolve topic configs, and round-trip") {
  json d = base();
  d["cluster"]["config"] = {{"min.insync.replicas", 2}, {"log.retention.ms", 86400000}};
  d["topics"][0]["config"] = {{"retention.ms", 3600000}};
  // Listed out of time order: the loader applies the topic's changes at 10 s, then 30 s.
  d["operations"] = json::parse(R"([
    {"at": "30s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events",
     "delete-config": ["retention.ms", "min.insync.replicas"]},
    {"at": "10s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events",
     "add-config": {"min.insync.replicas": 3, "leader.replication.throttled.replicas": "*"}},
    {"at": "5s", "tool": "kafka-configs", "entity-type": "clients", "entity-name": "producer-1",
     "add-config": {"producer_byte_rate": 1048576, "request_percentage": 50.5}},
    {"at": "6s", "tool": "kafka-configs", "entity-type": "clients", "entity-default": true,
     "delete-config": ["consumer_byte_rate"]},
    {"at": "7s", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": 2,
     "add-config": {"leader.replication.throttled.rate": "10485760"}}
  ])");
  d["duration"] = "40s";
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "ops.json", &x);
  INFO(x.warnings.size());
  REQUIRE(s.config_alters.size() == 5);
  std::vector<sim::Duration> times;
  for (const auto& op : s.config_alters) times.push_back(op.at);
  CHECK(times == std::vector<sim::Duration>{5_s, 6_s, 7_s, 10_s, 30_s});
  const ConfigAlterSpec& quota = s.config_alters[0];
  CHECK(quota.entity_type == ConfigEntityType::clients);
  CHECK(quota.entity_name == "producer-1");
  CHECK(quota.added == std::vector<std::pair<std::string, double>>{{"producer_byte_rate", 1048576.0},
                                                                    {"request_percentage", 50.5}});
  CHECK_FALSE(s.config_alters[1].entity_name.has_value());
  CHECK(s.config_alters[1].deleted == std::vector<std::string>{"consumer_byte_rate"});
  CHECK(s.config_alters[1].changes == std::vector<std::string>{"-consumer_byte_rate"});
  CHECK(s.config_alters[2].entity_name == "2");
  CHECK(s.config_alters[2].added == std::vector<std::pair<std::string, double>>{{"leader.replication.throttled.rate",
                                                                                  10485760.0}});
  // The topic's configs after each change: the first adds to the topic's own, the second falls back to the broker's.
  const kafka::PartitionConfig& at10 = s.config_alters[3].topic_config;
  CHECK(s.config_alters[3].topic == 0);
  CHECK(at10.min_insync_replicas == 3);
  CHECK(at10.log.retention_ms == 3600000);
  CHECK(at10.leader_throttled_replicas.all);
  const kafka::PartitionConfig& at30 = s.config_alters[4].topic_config;
  CHECK_FALSE(at30.min_insync_replicas.has_value());
  CHECK(at30.log.retention_ms == 86400000);  // log.retention.ms
  CHECK(at30.leader_throttled_replicas.all);  // not deleted: kept
  // The topic's own configs are the scenario's until the run applies the changes.
  CHECK(s.topics[0].config.log.retention_ms == 3600000);
  CHECK_FALSE(s.topics[0].config.min_insync_replicas.has_value());  // not set on the topic: the broker's 2
  // producer-1 is the producer's generated client-id: no "throttles nobody" warning.
  for (const std::string& w : x.warnings) CHECK(w.find("throttles nobody") == std::string::npos);
  // min.insync.replicas 3 on RF 3 is fine: no warning for it; the rate set at 7 s quiets the "never throttled" one.
  for (const std::string& w : x.warnings) CHECK(w.find("operations") == std::string::npos);
  for (const std::string& w : x.warnings) CHECK(w.find("throttled.rate is not set") == std::string::npos);

  const json r = resolved_scenario(s, x);
  REQUIRE(r.contains("operations"));
  CHECK(r["operations"].size() == 5);
  CHECK(r["operations"][0]["at"] == "5s");
  const WorldSpec again = parse_scenario(r, "resolved.json");
  REQUIRE(again.config_alters.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(again.config_alters[i].at == s.config_alters[i].at);
    CHECK(again.config_alters[i].changes == s.config_alters[i].changes);
  }
  CHECK(again.config_alters[4].topic_config.log.retention_ms == 86400000);
}

TEST_CASE("operations: kafka-delete-records runs load in time order after their checks, and round-trip") {
  json d = base();
  d["operations"] = json::parse(R"([
    {"at": "12s", "tool": "kafka-delete-records",
     "offset-json": {"partitions": [{"topic": "events", "partition": 5, "offset": 1000},
                                    {"topic": "events", "partition": 0, "offset": -1}], "version": 1}},
    {"at": "3s", "tool": "kafka-configs", "entity-type": "clients", "entity-name": "producer-1",
     "add-config": {"producer_byte_rate": 1048576}},
    {"at": "2s", "tool": "kafka-delete-records", "offset-json": {"partitions": [{"topic": "events", "partition": 1, "offset": 0}]}}
  ])");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "ops.json", &x);
  CHECK(s.config_alters.size() == 1);
  REQUIRE(s.delete_records.size() == 2);
  CHECK(s.delete_records[0].at == 2_s);
  CHECK(s.delete_records[1].at == 12_s);
  REQUIRE(s.delete_records[1].partitions.size() == 2);  // in the order given
  CHECK(s.delete_records[1].partitions[0].topic == 0);
  CHECK(s.delete_records[1].partitions[0].partition == 5);
  CHECK(s.delete_records[1].partitions[0].offset == 1000);
  CHECK(s.delete_records[1].partitions[1].partition == 0);
  CHECK(s.delete_records[1].partitions[1].offset == -1);
  const WorldSpec again = parse_scenario(resolved_scenario(s, x), "resolved.json");
  REQUIRE(again.delete_records.size() == 2);
  REQUIRE(again.config_alters.size() == 1);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(again.delete_records[i].at == s.delete_records[i].at);
    REQUIRE(again.delete_records[i].partitions.size() == s.delete_records[i].partitions.size());
    for (size_t j = 0; j < s.delete_records[i].partitions.size(); ++j) {
      CHECK(again.delete_records[i].partitions[j].partition == s.delete_records[i].partitions[j].partition);
      CHECK(again.delete_records[i].partitions[j].offset == s.delete_records[i].partitions[j].offset);
    }
  }

  const auto with = [](const std::string& offsets) {
    json doc = base();
    doc["operations"] = json::array({json::parse(R"({"at": "5s", "tool": "kafka-delete-records", "offset-json": )" +
                                                 offsets + "}")});
    return doc;
  };
  const std::string p0 = R"("topic": "events", "partition": 0)";
  expect_error(with(R"({"partitions": [{)" + p0 + R"(, "offset": 1}], "version": 2})"), "/operations/0/offset-json/version");
  expect_error(with(R"({"partitions": []})"), "/operations/0/offset-json/partitions");
  expect_error(with(R"({"partition": [{)" + p0 + R"(, "offset": 1}]})"), "/operations/0/offset-json/partition",
               "partitions");
  expect_error(with(R"([{)" + p0 + R"(, "offset": 1}])"), "/operations/0/offset-json");
  expect_error(with(R"({"partitions": [{"topic": "event", "partition": 0, "offset": 1}]})"),
               "/operations/0/offset-json/partitions/0/topic", "events");
  expect_error(with(R"({"partitions": [{"topic": "events", "partition": 6, "offset": 1}]})"),
               "/operations/0/offset-json/partitions/0/partition");
  expect_error(with(R"({"partitions": [{)" + p0 + R"(, "offset": -2}]})"),
               "/operations/0/offset-json/partitions/0/offset");
  expect_error(with(R"({"partitions": [{)" + p0 + R"(, "offset": "10"}]})"),
               "/operations/0/offset-json/partitions/0/offset");
  expect_error(with(R"({"partitions": [{)" + p0 + R"(}]})"), "/operations/0/offset-json/partitions/0/offset");
  expect_error(with(R"({"partitions": [{)" + p0 + R"(, "offset": 1}, {)" + p0 + R"(, "offset": 2}]})"),
               "/operations/0/offset-json/partitions/1");
  expect_error(with(R"({"partitions": [{)" + p0 + R"(, "ofset": 1}]})"), "/operations/0/offset-json/partitions/0/ofset",
               "offset");
  json late = with(R"({"partitions": [{)" + p0 + R"(, "offset": 1}]})");
  late["operations"][0]["at"] = "20s";
  expect_error(late, "/operations/0/at");
  json missing = base();
  missing["operations"] = json::parse(R"([{"at": "5s", "tool": "kafka-delete-records"}])");
  expect_error(missing, "/operations/0/offset-json");
  json misspelt = base();
  misspelt["operations"] = json::parse(R"([{"at": "5s", "tool": "kafka-delete-record"}])");
  expect_error(misspelt, "/operations/0/tool", "kafka-delete-records");
}

TEST_CASE("operations: each mistake is a ConfigError at its pointer saying what is wrong") {
  const auto with = [](const std::string& op) {
    json d = base();
    d["operations"] = json::array({json::parse(op)});
    return d;
  };
  const std::string clients = R"("at": "5s", "tool": "kafka-configs", "entity-type": "clients", "entity-name": "c")";
  const std::string topics = R"("at": "5s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events")";
  const std::string brokers = R"("at": "5s", "tool": "kafka-configs", "entity-type": "brokers")";
  expect_error(with(R"({"at": "5s", "tool": "kafka-config", "entity-type": "clients", "entity-name": "c",
                        "add-config": {"producer_byte_rate": 1}})"),
               "/operations/0/tool", "kafka-configs");
  expect_error(with(R"({"at": "5s", "tool": "kafka-reassign-partitions"})"), "/operations/0/tool");
  expect_error(with(R"({"tool": "kafka-configs", "entity-type": "clients", "entity-name": "c",
                        "add-config": {"producer_byte_rate": 1}})"),
               "/operations/0/at");
  expect_error(with("{" + clients + R"(, "at": 5, "add-config": {"producer_byte_rate": 1}})"), "/operations/0/at", "5s");
  expect_error(with(R"({"at": "20s", "tool": "kafka-configs", "entity-type": "clients", "entity-name": "c",
                        "add-config": {"producer_byte_rate": 1}})"),
               "/operations/0/at");
  expect_error(with(R"({"at": "5s", "tool": "kafka-configs", "entity-type": "client", "entity-name": "c"})"),
               "/operations/0/entity-type", "clients");
  expect_error(with(R"({"at": "5s", "tool": "kafka-configs", "entity-type": "users", "entity-name": "u"})"),
               "/operations/0/entity-type");
  expect_error(with("{" + clients + R"(, "entity-default": true, "add-config": {"producer_byte_rate": 1}})"),
               "/operations/0");
  expect_error(with(R"({"at": "5s", "tool": "kafka-configs", "entity-type": "clients",
                        "add-config": {"producer_byte_rate": 1}})"),
               "/operations/0");
  expect_error(with("{" + topics + R"(, "entity-default": true, "add-config": {"retention.ms": 1}})"),
               "/operations/0/entity-default");
  expect_error(with(R"({"at": "5s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "event",
                        "add-config": {"retention.ms": 1}})"),
               "/operations/0/entity-name", "events");
  expect_error(with("{" + brokers + R"(, "entity-name": "3", "add-config": {"leader.replication.throttled.rate": 1}})"),
               "/operations/0/entity-name");
  expect_error(with("{" + clients + "}"), "/operations/0");
  expect_error(with("{" + clients + R"(, "add-config": {"producer_byte_rat": 1}})"),
               "/operations/0/add-config/producer_byte_rat", "producer_byte_rate");
  expect_error(with("{" + clients + R"(, "add-config": {"producer_byte_rate": 0}})"),
               "/operations/0/add-config/producer_byte_rate");
  expect_error(with("{" + clients + R"(, "add-config": {"producer_byte_rate": 1}, "delete-config": ["producer_byte_rate"]})"),
               "/operations/0/add-config/producer_byte_rate");
  expect_error(with("{" + clients + R"(, "delete-config": []})"), "/operations/0/delete-config");
  expect_error(with("{" + brokers + R"(, "entity-default": true, "add-config": {"leader.replication.throttled.rate": -1}})"),
               "/operations/0/add-config/leader.replication.throttled.rate");
  expect_error(with("{" + topics + R"(, "add-config": {"retention.ms": "soon"}})"), "/operations/0/add-config/retention.ms");
  // Configs Kafka changes dynamically but kafkasim not yet: said so, no suggestion.
  const ConfigError seg = error_of(with("{" + topics + R"(, "add-config": {"segment.jitter.ms": 1}})"));
  CHECK(seg.pointer() == "/operations/0/add-config/segment.jitter.ms");
  CHECK(seg.suggestion().empty());
  CHECK(std::string(seg.what()).find("does not change during a run yet") != std::string::npos);
  const ConfigError threads = error_of(with("{" + brokers + R"(, "entity-default": true, "delete-config": ["num.network.threads"]})"));
  CHECK(threads.pointer() == "/operations/0/delete-config/0");
  CHECK(std::string(threads.what()).find("does not change during a run yet") != std::string::npos);
  expect_error(with("{" + topics + R"(, "add-config": {"retention.m": 1}})"), "/operations/0/add-config/retention.m",
               "retention.ms");
  // A quota for a client-id no client has throttles nobody: a warning naming the closest one.
  ScenarioExtras x;
  parse_scenario(with(R"({"at": "5s", "tool": "kafka-configs", "entity-type": "clients", "entity-name": "producer-2",
                          "add-config": {"producer_byte_rate": 1}})"),
                 "w.json", &x);
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0].find("/operations/0/entity-name") != std::string::npos);
  CHECK(x.warnings[0].find("did you mean \"producer-1\"") != std::string::npos);
}

TEST_CASE("producer_restart config: the new process's configs over the entry's, checked as a whole, round-trip") {
  json d = base();
  d["producers"][0]["config"] = {{"acks", "1"}, {"linger.ms", 10}};
  d["faults"] = json::parse(R"([{"type": "producer_restart", "host": "client-0", "at": "5s",
                                 "config": {"acks": "all", "batch.size": 65536}}])");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "restart.json", &x);
  REQUIRE(s.faults.size() == 1);
  const auto& f = s.faults[0];
  REQUIRE(f.producer_config.has_value());
  CHECK(f.producer_config->acks == kafka::Acks::all);
  CHECK(f.producer_config->batch_size_bytes == 65536);
  CHECK(f.producer_config->linger == 10_ms);  // the entry's, kept
  // The entry's acks=1 disabled idempotence by default; the new process's acks=all enables it again (not given).
  CHECK_FALSE(s.producers[0].config.enable_idempotence);
  CHECK(f.producer_config->enable_idempotence);
  CHECK(f.config_changes == std::vector<std::string>{"acks=all", "batch.size=65536"});
  const auto [r, again] = resolved_and_reloaded(s, x);
  CHECK(r["faults"][0]["config"]["batch.size"] == 65536);
  REQUIRE(again.faults[0].producer_config.has_value());
  CHECK(again.faults[0].producer_config->batch_size_bytes == 65536);

  const auto with_config = [](const std::string& config) {
    json z = base();
    z["faults"] = json::array({{{"type", "producer_restart"}, {"host", "client-0"}, {"at", "5s"},
                                {"config", json::parse(config)}}});
    return z;
  };
  // A config the client host keeps for the whole run; an unknown one with a suggestion; a bad value; an empty object.
  expect_error(with_config(R"({"client.id": "other"})"), "/faults/0/config/client.id");
  expect_error(with_config(R"({"compression.type": "lz4"})"), "/faults/0/config/compression.type");
  expect_error(with_config(R"({"linger.m": 5})"), "/faults/0/config/linger.m", "linger.ms");
  expect_error(with_config(R"({"linger.ms": -1})"), "/faults/0/config/linger.ms");
  expect_error(with_config("{}"), "/faults/0/config");
  // Kafka's checks of the whole: an explicit idempotent producer with acks=1 is a ConfigException.
  expect_error(with_config(R"({"enable.idempotence": true, "acks": "1"})"), "/faults/0/config/acks", "all");
  // Only a producer_restart takes a config.
  json z = base();
  z["faults"] = json::parse(R"([{"type": "pause", "host": "broker-0", "at": "5s", "duration": "1s",
                                 "config": {"linger.ms": 5}}])");
  expect_error(z, "/faults/0/config");
}

TEST_CASE("consumer_restart config and processing_time: the new process's consumer configs over the entry's, "
          "round-trip") {
  json d = base();
  d["consumers"][0]["config"] = {{"fetch.min.bytes", 1024}};
  d["consumers"][0]["processing_time"] = "1ms";
  d["faults"] = json::parse(R"([{"type": "consumer_restart", "host": "client-1", "at": "5s",
                                 "config": {"max.poll.records": 100}, "processing_time": "250us"}])");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "restart.json", &x);
  REQUIRE(s.faults.size() == 1);
  const auto& f = s.faults[0];
  REQUIRE(f.consumer_config.has_value());
  CHECK(f.consumer_config->max_poll_records == 100);
  CHECK(f.consumer_config->fetch_min_bytes == 1024);  // the entry's, kept
  REQUIRE(f.processing_time.has_value());
  CHECK(*f.processing_time == sim::Duration::from_us(250));
  CHECK(f.config_changes == std::vector<std::string>{"max.poll.records=100", "processing_time=250us"});
  const auto [r, again] = resolved_and_reloaded(s, x);
  CHECK(r["faults"][0]["config"]["max.poll.records"] == 100);
  REQUIRE(again.faults[0].consumer_config.has_value());
  CHECK(again.faults[0].consumer_config->max_poll_records == 100);
  CHECK(*again.faults[0].processing_time == sim::Duration::from_us(250));

  const auto with = [](const std::string& extra) {
    json z = base();
    json fault = {{"type", "consumer_restart"}, {"host", "client-1"}, {"at", "5s"}};
    const json parsed = json::parse(extra);
    for (auto it = parsed.begin(); it != parsed.end(); ++it) fault[it.key()] = it.value();
    z["faults"] = json::array({fault});
    return z;
  };
  // What the client host keeps; an unknown config with a suggestion; a bad value; an empty object; a bad time.
  expect_error(with(R"({"config": {"client.rack": "rack-0"}})"), "/faults/0/config/client.rack");
  expect_error(with(R"({"config": {"client.id": "c"}})"), "/faults/0/config/client.id");
  expect_error(with(R"({"config": {"max.poll.record": 5}})"), "/faults/0/config/max.poll.record", "max.poll.records");
  expect_error(with(R"({"config": {"max.poll.records": 0}})"), "/faults/0/config/max.poll.records");
  expect_error(with(R"({"config": {}})"), "/faults/0/config");
  expect_error(with(R"({"processing_time": "fast"})"), "/faults/0/processing_time");
  // A producer's restart takes no processing_time.
  json z = base();
  z["faults"] = json::parse(R"([{"type": "producer_restart", "host": "client-0", "at": "5s", "processing_time": "1ms"}])");
  expect_error(z, "/faults/0/processing_time");
}

TEST_CASE("operations: the brokers' topic defaults, cluster-wide, reach the topics that do not set their own") {
  json d = base();
  d["cluster"]["config"] = {{"log.retention.ms", 86400000}};
  d["topics"].push_back({{"name", "own"}, {"partitions", 1}, {"replication.factor", 1},
                         {"config", {{"retention.ms", 1000}}}});
  d["operations"] = json::parse(R"([
    {"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
     "add-config": {"log.retention.ms": 60000, "leader.replication.throttled.rate": 1048576}},
    {"at": "4s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "own", "delete-config": ["retention.ms"]},
    {"at": "6s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
     "delete-config": ["log.retention.ms"]}])");
  const WorldSpec s = parse_scenario(d, "ok.json");
  REQUIRE(s.config_alters.size() == 3);
  // At 2 s: "events" (no retention.ms of its own) takes 60 s, "own" keeps 1 s; the throttle rate is the broker's.
  const auto& first = s.config_alters[0];
  REQUIRE(first.topic_updates.size() == 2);
  CHECK(first.topic_updates[0].second.log.retention_ms == 60000);
  CHECK(first.topic_updates[1].second.log.retention_ms == 1000);
  REQUIRE(first.added.size() == 1);
  CHECK(first.added[0].first == "leader.replication.throttled.rate");
  CHECK(first.changes == std::vector<std::string>{"leader.replication.throttled.rate=1048576", "log.retention.ms=60000"});
  // At 4 s "own" deletes its value: it falls back to the brokers' default as it is then, 60 s.
  CHECK(s.config_alters[1].topic_config.log.retention_ms == 60000);
  // At 6 s the default is deleted: both topics go back to the static 86,400,000.
  const auto& third = s.config_alters[2];
  REQUIRE(third.topic_updates.size() == 2);
  CHECK(third.topic_updates[0].second.log.retention_ms == 86400000);
  CHECK(third.topic_updates[1].second.log.retention_ms == 86400000);
  CHECK(third.deleted.empty());  // only throttle rates there
  // A broker's own value of a topic default is refused (cluster-wide only); a synonym kafkasim does not alter.
  json e = base();
  e["operations"] = json::parse(R"([{"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": "0",
                                    "add-config": {"log.retention.ms": 60000}}])");
  expect_error(e, "/operations/0/entity-name");
  e["operations"] = json::parse(R"([{"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
                                    "add-config": {"log.retention.hours": 1}}])");
  const ConfigError hours = error_of(e);
  CHECK(hours.pointer() == "/operations/0/add-config/log.retention.hours");
  e["operations"] = json::parse(R"([{"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
                                    "add-config": {"log.retention.ms": "soon"}}])");
  expect_error(e, "/operations/0/add-config/log.retention.ms");
}

TEST_CASE("operations: num.io.threads in Kafka's steps (at least half, at most double the threads a broker has)") {
  json d = base();
  d["cluster"]["config"] = {{"num.io.threads", 4}};
  d["operations"] = json::parse(R"([
    {"at": "1s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true, "add-config": {"num.io.threads": 8}},
    {"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": "0", "add-config": {"num.io.threads": 16}},
    {"at": "3s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true, "delete-config": ["num.io.threads"]}])");
  const WorldSpec s = parse_scenario(d, "ok.json");
  REQUIRE(s.config_alters.size() == 3);
  CHECK(s.config_alters[0].added == std::vector<std::pair<std::string, double>>{{"num.io.threads", 8}});
  CHECK(s.config_alters[2].deleted == std::vector<std::string>{"num.io.threads"});
  // 4 -> 16 in one step is refused (double of 4 is 8); so is broker 0's 16 -> 4 after the default went back...
  json too_far = base();
  too_far["cluster"]["config"] = {{"num.io.threads", 4}};
  too_far["operations"] = json::parse(R"([{"at": "1s", "tool": "kafka-configs", "entity-type": "brokers",
                                           "entity-default": true, "add-config": {"num.io.threads": 16}}])");
  expect_error(too_far, "/operations/0/add-config/num.io.threads");
  // ... but deleting broker 0's own 16 when the default is 8 is a step of half: allowed. 16 -> 4 (the static) is not.
  json back = d;
  back["operations"].push_back(json::parse(R"({"at": "4s", "tool": "kafka-configs", "entity-type": "brokers",
                                                "entity-name": "0", "delete-config": ["num.io.threads"]})"));
  expect_error(back, "/operations/3/delete-config");
  back["operations"][2]["at"] = "5s";  // the default's deletion after broker 0's: 16 -> 8, then 8 -> 4
  CHECK_NOTHROW(parse_scenario(back, "ok.json"));
  json zero = base();
  zero["operations"] = json::parse(R"([{"at": "1s", "tool": "kafka-configs", "entity-type": "brokers",
                                        "entity-default": true, "add-config": {"num.io.threads": 0}}])");
  expect_error(zero, "/operations/0/add-config/num.io.threads");

  // num.replica.fetchers is one of DynamicThreadPool's too, by the same rule, counted on its own: from the static 1,
  // 2 then 4 are steps, 1 -> 4 is not, and neither is deleting 4 (back to 1).
  json fetchers = base();
  fetchers["operations"] = json::parse(R"([
    {"at": "1s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true, "add-config": {"num.replica.fetchers": 2}},
    {"at": "2s", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": 1, "add-config": {"num.replica.fetchers": 4, "num.io.threads": 16}}])");
  const WorldSpec f = parse_scenario(fetchers, "ok.json");
  REQUIRE(f.config_alters.size() == 2);
  CHECK(f.config_alters[1].entity_name == "1");
  CHECK(f.config_alters[1].added ==
        std::vector<std::pair<std::string, double>>{{"num.io.threads", 16}, {"num.replica.fetchers", 4}});
  json jump = base();
  jump["operations"] = json::parse(R"([{"at": "1s", "tool": "kafka-configs", "entity-type": "brokers",
                                        "entity-default": true, "add-config": {"num.replica.fetchers": 4}}])");
  expect_error(jump, "/operations/0/add-config/num.replica.fetchers");
  fetchers["operations"].push_back(json::parse(R"({"at": "3s", "tool": "kafka-configs", "entity-type": "brokers",
                                                    "entity-name": "1", "delete-config": ["num.replica.fetchers"]})"));
  CHECK_NOTHROW(parse_scenario(fetchers, "ok.json"));  // 4 -> the default's 2: half
  fetchers["operations"].push_back(json::parse(R"({"at": "4s", "tool": "kafka-configs", "entity-type": "brokers",
                                                    "entity-default": true, "add-config": {"num.replica.fetchers": 1}})"));
  CHECK_NOTHROW(parse_scenario(fetchers, "ok.json"));  // 2 -> 1 everywhere
  // background.threads likewise (the static 10: 5 to 20 in one step).
  json background = base();
  background["operations"] = json::parse(R"([{"at": "1s", "tool": "kafka-configs", "entity-type": "brokers",
                                              "entity-default": true, "add-config": {"background.threads": 20}}])");
  CHECK_NOTHROW(parse_scenario(background, "ok.json"));
  background["operations"][0]["add-config"]["background.threads"] = 4;
  expect_error(background, "/operations/0/add-config/background.threads");
}

TEST_CASE("min.insync.replicas above the replication factor loads with a warning that Kafka caps it") {
  // kafka-behaviour.md §3.6: effectiveMinIsr = min(min.insync.replicas, replication factor), so acks=all is not
  // refused; the warning says what the topic gets instead of what the config says.
  json doc = base();
  doc["topics"][0]["replication.factor"] = 2;
  doc["topics"][0]["config"] = {{"min.insync.replicas", 3}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(doc, "scenario.json", &x);
  CHECK(s.topics[0].config.min_insync_replicas == 3);  // kept as given; the partition caps it
  REQUIRE(x.warnings.size() == 1);
  CHECK(x.warnings[0] == "scenario.json: at /topics/0/config/min.insync.replicas: min.insync.replicas (3) exceeds "
                         "replication.factor (2): Kafka uses the replication factor instead (effectiveMinIsr), so "
                         "acks=all is acknowledged with 2 in-sync replicas");
}

TEST_CASE("consumers without \"group\": no group.id, auto-commit off by default, commits refused, no coordinator needed") {
  json d = base();
  d["consumers"][0].erase("group");
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  REQUIRE(s.consumers.size() == 1);
  CHECK(s.consumers[0].group.empty());
  // ConsumerConfig.maybeOverrideEnableAutoCommit: false when not given without a group id (Kafka's default is true).
  CHECK_FALSE(s.consumers[0].config.enable_auto_commit);
  CHECK(parse_scenario(base(), "a.json").consumers[0].config.enable_auto_commit);
  CHECK(consumer_client_id(s.consumers[0]) == "consumer-null-1");
  CHECK(consumer_client_id(parse_scenario(base(), "a.json").consumers[0]) == "consumer-g-1");
  CHECK_FALSE(uses_group_coordinator(s.consumers[0]));
  // The resolved scenario has no "group" and loads to the same.
  const json r = resolved_scenario(s, x);
  CHECK_FALSE(r["consumers"][0].contains("group"));
  CHECK(parse_scenario(r, "resolved.json").consumers[0].group.empty());
  // Explicitly false is fine; true is Kafka's InvalidConfigurationException, in JSON and in a properties file.
  d["consumers"][0]["config"] = {{"enable.auto.commit", false}};
  CHECK_FALSE(parse_scenario(d, "a.json").consumers[0].config.enable_auto_commit);
  d["consumers"][0]["config"] = {{"enable.auto.commit", true}};
  expect_error(d, "/consumers/0/config/enable.auto.commit");
  {
    TempDir dir("kafkasim-groupless-props");
    dir.write("consumer.properties", "enable.auto.commit=true\n");
    json p = d;
    p["consumers"][0]["config"] = "consumer.properties";
    dir.write("scenario.json", p.dump());
    const ConfigError e = error_loading(dir.path / "scenario.json");
    CHECK(e.file() == (dir.path / "consumer.properties").string());
    CHECK(e.pointer() == "/enable.auto.commit");
    dir.write("consumer.properties", "max.poll.records=10\n");
    CHECK_FALSE(load_scenario(dir.path / "scenario.json", {}).consumers[0].config.enable_auto_commit);
  }
  // A restarted process's configs are checked the same way.
  json restart = base();
  restart["consumers"][0].erase("group");
  restart["faults"] = json::array({{{"type", "consumer_restart"}, {"host", "client-1"}, {"at", "10s"},
                                    {"config", {{"enable.auto.commit", true}}}}});
  expect_error(restart, "/faults/0/config/enable.auto.commit");
  // commitSync / commitAsync throw InvalidGroupIdException.
  json commit = base();
  commit["consumers"][0].erase("group");
  commit["consumers"][0]["commit"] = "async";
  expect_error(commit, "/consumers/0/commit");
  commit["consumers"][0]["commit"] = "none";
  CHECK_NOTHROW(parse_scenario(commit, "a.json"));
  // An empty group is not a way to say none.
  json empty = base();
  empty["consumers"][0]["group"] = "";
  expect_error(empty, "/consumers/0/group");
  // One broker and the default offsets.topic.replication.factor 3: fine without a group, and the error with one says
  // that leaving it out is the other way.
  json one = base();
  one["cluster"]["brokers"] = 1;
  one["topics"][0]["replication.factor"] = 1;
  CHECK(error_of(one).expected().find("leave \"group\" out") != std::string::npos);
  one["consumers"][0].erase("group");
  CHECK_NOTHROW(parse_scenario(one, "a.json"));
  // Several entries without a group on one topic are several standalone applications, not one group twice.
  one["consumers"].push_back(one["consumers"][0]);
  CHECK(parse_scenario(one, "a.json").consumers.size() == 2);
  // max.poll.interval.ms has no group to leave: no warning.
  json slow = base();
  slow["consumers"][0].erase("group");
  slow["consumers"][0]["processing_time"] = "1s";
  ScenarioExtras xs;
  parse_scenario(slow, "a.json", &xs);
  CHECK(xs.warnings.empty());
  slow["consumers"][0]["group"] = "g";
  ScenarioExtras xg;
  parse_scenario(slow, "a.json", &xg);
  CHECK(xg.warnings.size() == 1);
}

TEST_CASE("group.id in a consumer entry's config is its group: the same as \"group\", or the group when none is given") {
  // A pasted consumer.properties names the group (Kafka's config/consumer.properties has group.id).
  json d = base();
  d["consumers"][0].erase("group");
  d["consumers"][0]["config"] = {{"group.id", "billing"}, {"max.poll.records", 10}};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.consumers[0].group == "billing");
  CHECK(s.consumers[0].config.max_poll_records == 10);
  CHECK(s.consumers[0].config.enable_auto_commit);  // Kafka's default with a group id
  CHECK(x.warnings.empty());                         // not "ignored": it is modelled as the entry's group
  const json r = resolved_scenario(s, x);
  CHECK(r["consumers"][0]["group"] == "billing");
  CHECK_FALSE(r["consumers"][0]["config"].contains("group.id"));
  // The same as "group": fine; another one: which would it be?
  json same = base();
  same["consumers"][0]["config"] = {{"group.id", "g"}};
  CHECK(parse_scenario(same, "a.json").consumers[0].group == "g");
  json other = base();
  other["consumers"][0]["config"] = {{"group.id", "h"}};
  expect_error(other, "/consumers/0/config/group.id");
  json empty = base();
  empty["consumers"][0].erase("group");
  empty["consumers"][0]["config"] = {{"group.id", ""}};
  expect_error(empty, "/consumers/0/config/group.id");
  // From a properties file.
  {
    TempDir dir("kafkasim-group-id-props");
    dir.write("consumer.properties", "group.id=test-consumer-group\n");
    json p = base();
    p["consumers"][0].erase("group");
    p["consumers"][0]["config"] = "consumer.properties";
    dir.write("scenario.json", p.dump());
    CHECK(load_scenario(dir.path / "scenario.json", {}).consumers[0].group == "test-consumer-group");
  }
  // Two entries of one group on one topic, the second by its group.id: members of the same group, as with "group";
  // and the same error as with "group" when one of them assigns its partitions.
  json twice = base();
  twice["consumers"].push_back({{"topic", "events"}, {"config", {{"group.id", "g"}}}});
  CHECK(parse_scenario(twice, "twice.json").consumers[1].group == "g");
  twice["consumers"][0]["partitions"] = {0};
  expect_error(twice, "/consumers/1/config/group.id");
  // A restarted process keeps its group.
  json restart = base();
  restart["faults"] = json::array({{{"type", "consumer_restart"}, {"host", "client-1"}, {"at", "10s"},
                                    {"config", {{"group.id", "other"}}}}});
  expect_error(restart, "/faults/0/config/group.id");
}

TEST_CASE("consumer \"partitions\": the partitions the application assigns, ascending, each once; round-trips") {
  json d = base();  // events has 6 partitions
  d["consumers"][0]["partitions"] = {4, 1};
  ScenarioExtras x;
  const WorldSpec s = parse_scenario(d, "a.json", &x);
  CHECK(s.consumers[0].partitions == std::vector<int32_t>{1, 4});
  const json r = resolved_scenario(s, x);
  CHECK(r["consumers"][0]["partitions"] == json({1, 4}));
  CHECK(parse_scenario(r, "resolved.json").consumers[0].partitions == std::vector<int32_t>{1, 4});
  CHECK_FALSE(resolved_scenario(parse_scenario(base(), "a.json"), x)["consumers"][0].contains("partitions"));
  for (const json& bad : {json::array(), json(3), json({6}), json({-1}), json({1, 1}), json({"1"})}) {
    CAPTURE(bad.dump());
    d["consumers"][0]["partitions"] = bad;
    const ConfigError e = error_of(d);
    CHECK(e.pointer().rfind("/consumers/0/partitions", 0) == 0);
  }
  // More consumers than the entry's partitions: the extra ones get none.
  d["consumers"][0]["partitions"] = {2};
  d["consumers"][0]["count"] = 3;
  ScenarioExtras w;
  parse_scenario(d, "a.json", &w);
  REQUIRE(w.warnings.size() == 1);
  CHECK(w.warnings[0].find("2 consumers get no partition (the entry reads 1)") != std::string::npos);
}

TEST_CASE("consumer \"partitions\": entries of one group on one topic may each assign their own, never the same") {
  json d = base();  // one entry of group quickstart-consumers on events (6 partitions)
  const std::string group = d["consumers"][0]["group"];
  d["consumers"][0]["partitions"] = {0, 1, 2};
  d["consumers"].push_back({{"group", group}, {"topic", "events"}, {"partitions", {5, 3}}});
  const WorldSpec s = parse_scenario(d, "a.json");
  REQUIRE(s.consumers.size() == 2);
  CHECK(s.consumers[1].group == group);
  CHECK(s.consumers[1].partitions == std::vector<int32_t>{3, 5});
  CHECK_FALSE(is_group_member(s.consumers[0]));
  // A partition assigned twice: its commits would overwrite each other's. The pointer is the user's element.
  d["consumers"][1]["partitions"] = {5, 3, 2};
  {
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/consumers/1/partitions/2");
    CHECK(e.expected().find("/consumers/0 assigns it too") != std::string::npos);
  }
  // A member entry (no "partitions": subscribe) and an assigning one on the same topic: a member reads what the
  // group is given, so the assigner's partitions would be read twice by one group.
  d["consumers"][1]["partitions"] = {3};
  d["consumers"][0].erase("partitions");
  {
    const ConfigError e = error_of(d);
    CHECK(e.pointer() == "/consumers/1/group");
    CHECK(e.expected().find("all members (no \"partitions\") or all assign() their own") != std::string::npos);
    CHECK(e.expected().find("/consumers/0 is the same group, and a member") != std::string::npos);
  }
  // Two member entries of one group on one topic: one group, whose members are ranked entry by entry; the warning
  // counts the members past the topic's partitions over both entries.
  d["consumers"][1].erase("partitions");
  d["consumers"][0]["count"] = 4;
  d["consumers"][1]["count"] = 3;
  ScenarioExtras members;
  const WorldSpec two = parse_scenario(d, "members.json", &members);
  REQUIRE(two.consumers.size() == 2);
  CHECK(is_group_member(two.consumers[0]));
  CHECK(is_group_member(two.consumers[1]));
  REQUIRE(members.warnings.size() == 1);
  CHECK(members.warnings[0].find("/consumers/1/count") != std::string::npos);
  CHECK(members.warnings[0].find("1 consumers get no partition (the topic has 6, and the group's earlier entries on "
                                 "it have 4 members)") != std::string::npos);
  // Without a group the entries share nothing: the same partitions may be read by two of them.
  d["consumers"][0].erase("group");
  d["consumers"][1].erase("group");
  d["consumers"][0]["partitions"] = d["consumers"][1]["partitions"] = {1};
  CHECK(parse_scenario(d, "a.json").consumers.size() == 2);
}

TEST_CASE("workload.timestamp_offset: a signed duration with a unit in whole milliseconds, within 50 years") {
  const auto offset_of = [](const json& value) {
    json d = base();
    d["producers"][0]["workload"]["timestamp_offset"] = value;
    return parse_scenario(d, "t.json").producers[0].timestamp_offset;
  };
  CHECK(parse_scenario(base(), "t.json").producers[0].timestamp_offset == 0_s);
  CHECK(offset_of("-8d") == sim::Duration::zero() - 8 * 86'400_s);
  CHECK(offset_of("2h") == 7'200_s);
  CHECK(offset_of("-1500ms") == sim::Duration::zero() - 1'500_ms);
  CHECK(offset_of("-18250d") == sim::Duration::zero() - 18'250 * 86'400_s);
  for (const json& bad : {json("1.5ms"), json("-3"), json(5), json("-18251d"), json("8 days"), json("--1s")}) {
    INFO(bad.dump());
    json d = base();
    d["producers"][0]["workload"]["timestamp_offset"] = bad;
    expect_error(d, "/producers/0/workload/timestamp_offset");
  }
}

TEST_CASE("configs Kafka 4.0 removed are named as such, with what replaces them") {
  json d = base();
  d["topics"][0]["config"] = {{"message.timestamp.difference.max.ms", 1000}};
  expect_error(d, "/topics/0/config/message.timestamp.difference.max.ms", "message.timestamp.before.max.ms");
  CHECK(std::string(error_of(d).what()).find("KIP-937") != std::string::npos);
  d = base();
  d["cluster"]["config"] = {{"log.message.timestamp.difference.max.ms", 1000}};
  expect_error(d, "/cluster/config/log.message.timestamp.difference.max.ms", "log.message.timestamp.before.max.ms");
  d = base();
  d["topics"][0]["config"] = {{"message.format.version", "2.8"}};
  expect_error(d, "/topics/0/config/message.format.version");
  CHECK(std::string(error_of(d).what()).find("KIP-724") != std::string::npos);
  d = base();
  d["cluster"]["config"] = {{"zookeeper.connect", "zk:2181"}};
  expect_error(d, "/cluster/config/zookeeper.connect");
  CHECK(std::string(error_of(d).what()).find("KRaft") != std::string::npos);
}
