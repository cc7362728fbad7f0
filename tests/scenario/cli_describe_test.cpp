// kafkasim describe: the simulated cluster printed as kafka-topics --describe and kafka-consumer-groups --describe
// print a real one, checked against what the scenario implies (replica placement, a healthy ISR, offsets that
// follow from the producer's rate and the consumer's auto-commit interval).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kafkasim/kafka/controller/replica_placer.hpp"
#include "kafkasim/sim/rng.hpp"

namespace fs = std::filesystem;
using namespace kafkasim::test;
namespace kafka = kafkasim::kafka;
namespace sim = kafkasim::sim;
using json = nlohmann::json;

namespace {

struct Output {
  std::vector<std::string> topic_lines;  // the kafka-topics section
  std::vector<std::string> group_lines;  // the kafka-consumer-groups section
  std::vector<std::string> config_lines;  // kafka-configs --describe --entity-type brokers
  std::vector<std::string> earliest_lines, latest_lines;  // kafka-get-offsets --time earliest / latest
  std::vector<std::string> log_dirs_lines;                // kafka-log-dirs --describe
};

Output describe(const std::string& args, const fs::path& dir) {
  REQUIRE(run_kafkasim("describe " + args, dir / "describe.log") == 0);
  Output out;
  std::vector<std::string>* section = nullptr;
  for (const std::string& line : lines_of(slurp(dir / "describe.log"))) {
    if (line.rfind("$ kafka-topics.sh", 0) == 0) section = &out.topic_lines;
    else if (line.rfind("$ kafka-consumer-groups.sh", 0) == 0) section = &out.group_lines;
    else if (line.rfind("$ kafka-configs.sh", 0) == 0) section = &out.config_lines;
    else if (line.rfind("$ kafka-log-dirs.sh", 0) == 0) section = &out.log_dirs_lines;
    else if (line.rfind("$ kafka-get-offsets.sh", 0) == 0)
      section = line.find("--time earliest") != std::string::npos ? &out.earliest_lines : &out.latest_lines;
    else if (section != nullptr && !line.empty()) section->push_back(line);
  }
  return out;
}

// "Key: value" fields of a tab-separated kafka-topics line.
std::map<std::string, std::string> topic_fields(const std::string& line) {
  std::map<std::string, std::string> f;
  for (const std::string& part : split(line, '\t')) {
    const size_t colon = part.find(": ");
    if (colon != std::string::npos) f[part.substr(0, colon)] = part.substr(colon + 2);
    else if (!part.empty() && part.back() == ':') f[part.substr(0, part.size() - 1)] = "";
  }
  return f;
}

std::set<std::string> as_set(const std::string& ids) {
  const auto v = split(ids, ',');
  return {v.begin(), v.end()};
}

// World placement (cluster/world.hpp): Kafka's StripedReplicaPlacer over the scenario's brokers, topics in scenario
// order from one stream of the scenario's seed; the placer's own properties are checked in
// tests/unit/controller_replica_placer_test.cpp. `topics` = (partitions, RF) in scenario order.
std::vector<std::vector<std::vector<kafka::NodeId>>> world_placement(uint64_t seed, int brokers,
                                                                     const std::vector<std::pair<int, int>>& topics) {
  std::vector<kafka::PlacementBroker> list;
  for (int b = 0; b < brokers; ++b) list.push_back({b, "rack-0"});
  sim::Rng rng = sim::Rng::stream(seed, "controller/replica-placement");
  std::vector<std::vector<std::vector<kafka::NodeId>>> out;
  for (const auto& [partitions, rf] : topics) out.push_back(kafka::place_replicas(list, partitions, rf, rng));
  return out;
}

std::string joined(const std::vector<kafka::NodeId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(ids[i]);
  }
  return out;
}

}  // namespace

TEST_CASE("describe: topics, leaders, replicas and a full ISR as kafka-topics --describe prints them") {
  const fs::path dir = fresh_dir("describe-topics");
  // A second topic, appended (index 1) but named to sort first, as the tool sorts topics by name; it sets
  // cleanup.policy to Kafka's default, which the tool still lists: it is the topic's own config.
  const Output out = describe("scenarios/quickstart.json --at 3s --set "
                              "'/topics/-={\"name\": \"audit\", \"partitions\": 2, \"replication.factor\": 2, "
                              "\"config\": {\"cleanup.policy\": \"delete\"}}'",
                              dir);
  // The tool lists internal topics too (no --exclude-internal): the quickstart's consumer group makes the brokers
  // create __consumer_offsets (50 partitions, RF 3), after the scenario's topics.
  REQUIRE(out.topic_lines.size() == 1 + 50 + 1 + 2 + 1 + 6);
  struct Topic {
    std::string name;
    int index, partitions, rf;
  };
  // quickstart.json: seed 42, 3 brokers in one rack; events (6 partitions, RF 3), audit (2, RF 2), then
  // __consumer_offsets (50, RF 3).
  const auto placed = world_placement(42, 3, {{6, 3}, {2, 2}, {50, 3}});
  std::map<std::string, int> leaders_of_events;
  size_t line = 0;
  for (const Topic& t : {Topic{"__consumer_offsets", 2, 50, 3}, Topic{"audit", 1, 2, 2}, Topic{"events", 0, 6, 3}}) {
    CAPTURE(t.name);
    const std::string& header = out.topic_lines[line++];
    CHECK(header.rfind("Topic: " + t.name + "\tTopicId: ", 0) == 0);
    auto f = topic_fields(header);
    CHECK(f["TopicId"].size() == 22);  // Kafka's base64 Uuid
    CHECK(f["PartitionCount"] == std::to_string(t.partitions));
    CHECK(f["ReplicationFactor"] == std::to_string(t.rf));
    // min.insync.replicas=2 is set on the cluster (and on events itself), so it is not Kafka's default of 1;
    // __consumer_offsets is created compacted, with the producer's codec and 100 MiB segments
    // (GroupCoordinatorService.groupMetadataTopicConfigs): all three are its own configs, compression.type=producer
    // too although it is Kafka's default. The tool lists every config whose source is not the default.
    if (t.name == "__consumer_offsets")
      CHECK(f["Configs"] ==
            "cleanup.policy=compact,compression.type=producer,min.insync.replicas=2,segment.bytes=104857600");
    else if (t.name == "audit")
      CHECK(f["Configs"] == "cleanup.policy=delete,min.insync.replicas=2");
    else
      CHECK(f["Configs"] == "min.insync.replicas=2");
    for (int p = 0; p < t.partitions; ++p) {
      CAPTURE(p);
      const std::string& row = out.topic_lines[line++];
      CHECK(row.rfind("\tTopic: " + t.name + "\tPartition: " + std::to_string(p) + "\tLeader: ", 0) == 0);
      f = topic_fields(row);
      const std::string replicas = joined(placed[static_cast<size_t>(t.index)][static_cast<size_t>(p)]);
      CHECK(f["Replicas"] == replicas);
      CHECK(f["Leader"] == replicas.substr(0, 1));
      if (t.name == "events") ++leaders_of_events[f["Leader"]];
      // A healthy cluster under light load: every replica is in sync.
      CHECK(as_set(f["Isr"]) == as_set(replicas));
      CHECK(f.count("Elr") == 1);
      CHECK(f.count("LastKnownElr") == 1);
    }
  }
  // Leaders spread evenly: 6 partitions, 3 brokers, two each.
  CHECK(leaders_of_events == std::map<std::string, int>{{"0", 2}, {"1", 2}, {"2", 2}});
  fs::remove_all(dir);
}

TEST_CASE("describe: consumer group offsets, log end offsets and lag as kafka-consumer-groups --describe prints them") {
  const fs::path dir = fresh_dir("describe-groups");
  const Output out = describe("scenarios/quickstart.json --at 10s", dir);
  REQUIRE(out.group_lines.size() == 1 + 6);
  const std::vector<std::string> columns = {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                                            "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"};
  CHECK(fields(out.group_lines[0]) == columns);
  int64_t log_end_sum = 0, committed_sum = 0;
  std::set<int> partitions;
  for (size_t i = 1; i < out.group_lines.size(); ++i) {
    const std::string& line = out.group_lines[i];
    CAPTURE(line);
    const auto f = fields(line);
    REQUIRE(f.size() == columns.size());
    // The tool pads columns to fixed widths: every value starts where its header does.
    size_t at = 0;
    for (size_t c = 0; c < columns.size(); ++c) {
      const size_t header_at = out.group_lines[0].find(columns[c], at);
      CHECK(line.compare(header_at, f[c].size(), f[c]) == 0);
      at = header_at + columns[c].size();
    }
    CHECK(f[0] == "quickstart-consumers");
    CHECK(f[1] == "events");
    partitions.insert(std::stoi(f[2]));
    const int64_t current = std::stoll(f[3]), log_end = std::stoll(f[4]), lag = std::stoll(f[5]);
    CHECK(lag == log_end - current);
    CHECK(current <= log_end);
    log_end_sum += log_end;
    committed_sum += current;
    // The one consumer is the second client host (the producer is client-0), with Kafka's default client id.
    CHECK(f[6].rfind("consumer-quickstart-consumers-1-", 0) == 0);
    CHECK(f[6].size() == std::string("consumer-quickstart-consumers-1-").size() + 36);  // + a java.util.UUID
    CHECK(f[7] == "/client-1");
    CHECK(f[8] == "consumer-quickstart-consumers-1");
  }
  CHECK(partitions == std::set<int>{0, 1, 2, 3, 4, 5});
  // LOG-END-OFFSET is the high watermark: 5,000 records/s for 10 s, less what is still within a linger.ms of
  // 5 ms plus a replication round trip (well under 100 records at this rate).
  CHECK(log_end_sum <= 50000);
  CHECK(log_end_sum >= 50000 - 100);
  // Offsets are auto-committed every auto.commit.interval.ms = 5 s: at 10 s the committed offsets are at least
  // what had been consumed at the 5 s commit (the consumer keeps up: ~25,000 records), at most the HW.
  CHECK(committed_sum >= 25000 - 100);
  CHECK(committed_sum <= log_end_sum);
  fs::remove_all(dir);
}

TEST_CASE("describe: a consumer that has not started is no group member yet; a late one shows its lag") {
  const fs::path dir = fresh_dir("describe-late");
  const std::string late = "scenarios/quickstart.json --set '/consumers/0/start_at=\"6s\"' ";
  Output out = describe(late + "--at 5s", dir);
  REQUIRE(out.group_lines.size() == 1);
  CHECK(out.group_lines[0] == "Error: Consumer group 'quickstart-consumers' does not exist.");
  // 100 ms after its start at offset 0 the consumer is still about 6 s of records (~30,000) behind, whatever it
  // has committed: the lag is at least what was produced after its position at the last commit.
  out = describe(late + "--at 6100ms", dir);
  REQUIRE(out.group_lines.size() == 1 + 6);
  int64_t log_end_sum = 0;
  for (size_t i = 1; i < out.group_lines.size(); ++i) {
    const auto f = fields(out.group_lines[i]);
    REQUIRE(f.size() == 9);
    log_end_sum += std::stoll(f[4]);
    if (f[3] == "-") {
      CHECK(f[5] == "-");  // no committed offset, no lag (the tool's "-")
    } else {
      CHECK(std::stoll(f[5]) == std::stoll(f[4]) - std::stoll(f[3]));
      CHECK(std::stoll(f[3]) == 0);  // committed at its start position, before it could consume anything
    }
  }
  CHECK(log_end_sum >= 30500 - 100);
  CHECK(log_end_sum <= 30500);
  fs::remove_all(dir);
}

// The CLIENT-ID column is the client.id the run gives the consumer (its per-client-id figures and client quotas use
// it): the configured one, else Kafka's generated consumer-<group>-1 for each consumer, every one its own process;
// members still differ by the UUID of their member id (clientId + "-" + UUID).
TEST_CASE("describe: CLIENT-ID is the consumer's client.id in the run, generated or configured; member ids differ") {
  const fs::path dir = fresh_dir("describe-client-ids");
  for (const bool configured : {false, true}) {
    CAPTURE(configured);
    const std::string id = configured ? "billing" : "consumer-quickstart-consumers-1";
    const Output out = describe(std::string("scenarios/quickstart.json --at 3s --set /consumers/0/count=2") +
                                    (configured ? " --set '/consumers/0/config/client.id=\"billing\"'" : ""),
                                dir);
    REQUIRE(out.group_lines.size() == 1 + 6);
    std::set<std::string> members;
    for (size_t i = 1; i < out.group_lines.size(); ++i) {
      const auto f = fields(out.group_lines[i]);
      REQUIRE(f.size() == 9);
      CHECK(f[8] == id);
      CHECK(f[6].rfind(id + "-", 0) == 0);
      CHECK(f[6].size() == id.size() + 1 + 36);
      members.insert(f[6]);
    }
    CHECK(members.size() == 2);
  }
  fs::remove_all(dir);
}

TEST_CASE("describe: a consumer without a group is in no group kafka-consumer-groups lists") {
  // The quickstart's group and a second entry without a group on the same topic (assign() without group.id): the
  // tool lists the one group with its six partitions, as with the group alone.
  const fs::path dir = fresh_dir("describe-no-group");
  const Output out = describe("scenarios/quickstart.json --at 3s --set '/consumers/1={\"topic\": \"events\"}'", dir);
  REQUIRE(out.group_lines.size() == 1 + 6);
  for (size_t i = 1; i < out.group_lines.size(); ++i) {
    const auto f = fields(out.group_lines[i]);
    REQUIRE(f.size() == 9);
    CHECK(f[0] == "quickstart-consumers");
    CHECK(f[8] == "consumer-quickstart-consumers-1");
  }
  fs::remove_all(dir);
}

TEST_CASE("describe: kafka-log-dirs lists every replica in its broker's log dirs with its log's size") {
  const fs::path dir = fresh_dir("describe-log-dirs");
  for (const int dirs : {1, 2}) {
    CAPTURE(dirs);
    const std::string log_dirs = " --set /hardware/broker/log_dirs=" + std::to_string(dirs);
    const Output out = describe("scenarios/quickstart.json --at 3s" + log_dirs, dir);
    REQUIRE(out.log_dirs_lines.size() == 3);
    CHECK(out.log_dirs_lines[0] == "Querying brokers for log directories information");
    CHECK(out.log_dirs_lines[1] == "Received log directory information from brokers 0,1,2");
    const std::string& text = out.log_dirs_lines[2];
    // Jackson writes the tool's HashMaps in their iteration order: by bucket of the keys' String.hashCode, "brokers"
    // (bucket 3 of 16) before "version" (13); "broker" and "logDirs" share bucket 12 and keep the order they were
    // put in; "partitions" (0), "error" (12), "logDir" (14); "partition" (3), "size" (4), "offsetLag" (13),
    // "isFuture" (15).
    CHECK(text.rfind(R"({"brokers":[{"broker":0,"logDirs":[{"partitions":[{"partition":")", 0) == 0);
    CHECK(text.size() >= 14);
    CHECK(text.substr(text.size() - 14) == R"(],"version":1})");
    const std::regex replica(R"re(\{"partition":"[^"]+","size":\d+,"offsetLag":0,"isFuture":false\})re");
    const std::regex dir_end(R"re(\],"error":null,"logDir":"/tmp/kafka-logs(-\d)?"\})re");
    const auto count = [&](const std::regex& re) {
      return std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator());
    };
    // Every replica of the 6 partitions of events and the 50 of __consumer_offsets, RF 3: 168 in all.
    CHECK(count(replica) == 3 * (6 + 50));
    CHECK(count(dir_end) == 3 * dirs);
    const json doc = json::parse(text);
    REQUIRE(doc.at("brokers").size() == 3);
    // The replicas each broker reports are those kafka-topics places on it.
    std::map<std::string, std::set<int>> replicas_of;  // "topic-p" -> brokers
    for (const std::string& row : out.topic_lines) {
      if (row.rfind("\tTopic: ", 0) != 0) continue;
      auto f = topic_fields(row);
      for (const std::string& b : as_set(f["Replicas"]))
        replicas_of[f["Topic"] + "-" + f["Partition"]].insert(std::stoi(b));
    }
    std::map<std::string, int64_t> latest;  // the high watermarks, from kafka-get-offsets
    for (const std::string& line : out.latest_lines) {
      const auto f = split(line, ':');
      latest[f[0] + "-" + f[1]] = std::stoll(f[2]);
    }
    std::map<std::string, std::vector<int64_t>> sizes;
    for (const json& broker : doc.at("brokers")) {
      const int id = broker.at("broker").get<int>();
      REQUIRE(broker.at("logDirs").size() == static_cast<size_t>(dirs));
      std::vector<size_t> per_dir;
      for (const json& d : broker.at("logDirs")) {
        CHECK(d.at("error").is_null());
        per_dir.push_back(d.at("partitions").size());
        for (const json& r : d.at("partitions")) {
          const std::string name = r.at("partition").get<std::string>();
          CAPTURE(name);
          CHECK(replicas_of[name].count(id) == 1);
          sizes[name].push_back(r.at("size").get<int64_t>());
        }
      }
      // JBOD: a broker's logs are dealt over its dirs, so their counts differ by at most one.
      CHECK(*std::max_element(per_dir.begin(), per_dir.end()) - *std::min_element(per_dir.begin(), per_dir.end()) <= 1);
    }
    CHECK(sizes.size() == replicas_of.size());
    for (int p = 0; p < 6; ++p) {
      const std::string name = "events-" + std::to_string(p);
      CAPTURE(name);
      REQUIRE(sizes[name].size() == 3);
      // 512-byte values in v2 batches: per record below the high watermark at least the value and 7 bytes (attributes,
      // timestamp and offset deltas, key length and header count a byte each at least, the value's length two); at
      // most 100 records more than that at 600 B each (batch headers, and the leader's records not yet replicated).
      for (const int64_t size : sizes[name]) {
        CHECK(size >= latest[name] * 519);
        CHECK(size <= (latest[name] + 100) * 600);
      }
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("describe: consumers that assign their partitions with a group id commit to it but are no members of it") {
  // A second entry, group "assigners", assigns partitions 4 and 1 (KafkaConsumer.assign) and auto-commits every
  // second. kafka-consumer-groups (collectGroupsOffsets) shows such a group as EMPTY: "has no active members", and its
  // committed partitions without a consumer ("-"), sorted by topic and partition; before its first commit the
  // coordinator does not know it.
  const fs::path dir = fresh_dir("describe-assigners");
  const std::string entry =
      " --set '/consumers/1={\"group\": \"assigners\", \"topic\": \"events\", \"partitions\": [4, 1], "
      "\"config\": {\"auto.commit.interval.ms\": 1000}}'";
  {
    const std::string text = run_kafkasim_ok("describe scenarios/quickstart.json --at 500ms" + entry, dir / "early.log");
    CHECK(text.find("\nError: Consumer group 'assigners' does not exist.\n") != std::string::npos);
  }
  const Output out = describe("scenarios/quickstart.json --at 10s" + entry, dir);
  const std::string text = slurp(dir / "describe.log");
  CHECK(text.find("\nConsumer group 'assigners' has no active members.\n") != std::string::npos);
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : out.group_lines)
    if (line.rfind("assigners ", 0) == 0) rows.push_back(fields(line));
  REQUIRE(rows.size() == 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& f = rows[i];
    REQUIRE(f.size() == 9);
    CHECK(f[1] == "events");
    CHECK(f[2] == (i == 0 ? "1" : "4"));
    CHECK(std::stoll(f[5]) == std::stoll(f[4]) - std::stoll(f[3]));  // LAG = LOG-END-OFFSET - CURRENT-OFFSET
    CHECK(std::stoll(f[5]) >= 0);
    CHECK(f[6] == "-");
    CHECK(f[7] == "-");
    CHECK(f[8] == "-");
  }
  // The quickstart's own group keeps its member on all six partitions.
  CHECK(std::count_if(out.group_lines.begin(), out.group_lines.end(),
                      [](const std::string& l) { return l.rfind("quickstart-consumers ", 0) == 0; }) == 6);
  fs::remove_all(dir);
}

TEST_CASE("describe: once a member joins, the group keeps the assigners' last commits from before it joined") {
  // The assigners of the test above, and a member of their group reading another topic from 3 s
  // (ClassicGroup.validateOffsetCommit: a non-member's commit is taken only while the group is EMPTY). At 10 s the
  // group has a member, and the assigners' rows hold what they committed before 3 s: their auto-commits every second
  // after that were refused (UNKNOWN_MEMBER_ID).
  const fs::path dir = fresh_dir("describe-assigners-member");
  const std::string entries =
      " --set '/consumers/1={\"group\": \"assigners\", \"topic\": \"events\", \"partitions\": [4, 1], "
      "\"config\": {\"auto.commit.interval.ms\": 1000}}'"
      " --set '/topics/1={\"name\": \"audit\", \"partitions\": 2, \"replication.factor\": 3}'"
      " --set '/consumers/2={\"group\": \"assigners\", \"topic\": \"audit\", \"start_at\": \"3s\"}'";
  const Output out = describe("scenarios/quickstart.json --at 10s" + entries, dir);
  const std::string text = slurp(dir / "describe.log");
  CHECK(text.find("'assigners' has no active members") == std::string::npos);
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : out.group_lines)
    if (line.rfind("assigners ", 0) == 0) rows.push_back(fields(line));
  // The member's two partitions of audit first (no producer writes to it), then the assigners' committed ones.
  REQUIRE(rows.size() == 4);
  for (size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == 9);
    CHECK(rows[i][1] == (i < 2 ? "audit" : "events"));
    CHECK((rows[i][6] == "-") == (i >= 2));
  }
  for (size_t i = 0; i < 2; ++i) {
    const auto& f = rows[2 + i];
    CAPTURE(f[2]);
    CHECK(f[2] == (i == 0 ? "1" : "4"));
    // Committed by 3 s of a partition written at a steady rate for 10 s: at most about 3/10 of its log.
    const double share = std::stod(f[3]) / std::stod(f[4]);
    CHECK(share > 0.1);
    CHECK(share < 0.4);
  }
  fs::remove_all(dir);
}

TEST_CASE("describe: a topic's Configs show what the operations before --at set, not those after") {
  // kafka-configs --alter at 10 s: retention.ms added on the topic, its min.insync.replicas deleted (back to the
  // cluster's 2, which kafka-topics still lists as a broker-set config).
  const fs::path dir = fresh_dir("describe-operations");
  const std::string ops = set_json("/operations", R"([
      {"at": "10s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events",
       "add-config": {"retention.ms": 3600000}, "delete-config": ["min.insync.replicas"]}])");
  const auto configs_at = [&](const std::string& at) {
    for (const std::string& line : describe("scenarios/quickstart.json --at " + at + ops, dir).topic_lines)
      if (line.rfind("Topic: events\t", 0) == 0) return topic_fields(line)["Configs"];
    FAIL("no events line");
    return std::string();
  };
  CHECK(configs_at("9s") == "min.insync.replicas=2");
  CHECK(configs_at("11s") == "min.insync.replicas=2,retention.ms=3600000");
  // The brokers' topic defaults altered cluster-wide at 5 s: the topic takes the new segment.bytes and keeps the
  // min.insync.replicas it sets itself (2, not the new default 1).
  const std::string defaults = set_json("/operations", R"([
      {"at": "5s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
       "add-config": {"log.segment.bytes": 1048576, "min.insync.replicas": 1}}])");
  for (const std::string& line : describe("scenarios/quickstart.json --at 6s" + defaults, dir).topic_lines)
    if (line.rfind("Topic: events\t", 0) == 0) CHECK(topic_fields(line)["Configs"] == "min.insync.replicas=2,segment.bytes=1048576");
  fs::remove_all(dir);
}

TEST_CASE("describe: kafka-configs --describe --entity-type brokers lists the dynamic configs set before --at") {
  // At 5 s: broker 1's own throttle rate and num.io.threads (16: double the static 8), the cluster default's
  // log.retention.ms and num.io.threads. The lines are ConfigCommand's ("  name=value sensitive=false
  // synonyms={...}"), a broker's synonyms from its own value down to the static config and Kafka's default, the
  // default entity's its own only.
  const fs::path dir = fresh_dir("describe-configs");
  const std::string ops = " --set /cluster/config/num.io.threads=8" + set_json("/operations", R"([
      {"at": "5s", "tool": "kafka-configs", "entity-type": "brokers", "entity-name": "1",
       "add-config": {"leader.replication.throttled.rate": 1000000, "num.io.threads": 16}},
      {"at": "5s", "tool": "kafka-configs", "entity-type": "brokers", "entity-default": true,
       "add-config": {"log.retention.ms": 60000, "num.io.threads": 12}}])");
  CHECK(describe("scenarios/quickstart.json --at 4s" + ops, dir).config_lines ==
        std::vector<std::string>{"Dynamic configs for broker 0 are:", "Dynamic configs for broker 1 are:",
                                 "Dynamic configs for broker 2 are:", "Default configs for brokers in the cluster are:"});
  CHECK(describe("scenarios/quickstart.json --at 6s" + ops, dir).config_lines ==
        std::vector<std::string>{
            "Dynamic configs for broker 0 are:",
            "Dynamic configs for broker 1 are:",
            "  leader.replication.throttled.rate=1000000 sensitive=false "
            "synonyms={DYNAMIC_BROKER_CONFIG:leader.replication.throttled.rate=1000000, "
            "DEFAULT_CONFIG:leader.replication.throttled.rate=9223372036854775807}",
            "  num.io.threads=16 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:num.io.threads=16, "
            "DYNAMIC_DEFAULT_BROKER_CONFIG:num.io.threads=12, STATIC_BROKER_CONFIG:num.io.threads=8, "
            "DEFAULT_CONFIG:num.io.threads=8}",
            "Dynamic configs for broker 2 are:",
            "Default configs for brokers in the cluster are:",
            "  log.retention.ms=60000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000}",
            "  num.io.threads=12 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:num.io.threads=12}"});
  fs::remove_all(dir);
}

TEST_CASE("describe: kafka-get-offsets shows each log start after kafka-delete-records and the groups' log end") {
  // The quickstart (5,000 records/s over 6 partitions, acks=all) at 12 s, with kafka-delete-records at 10 s of
  // partition 1 below 5,000 and partition 0 below its high watermark then.
  const fs::path dir = fresh_dir("describe-offsets");
  const Output out = describe("scenarios/quickstart.json --at 12s --set '/operations=[{\"at\": \"10s\", \"tool\": "
                              "\"kafka-delete-records\", \"offset-json\": {\"partitions\": [{\"topic\": \"events\", "
                              "\"partition\": 0, \"offset\": -1}, {\"topic\": \"events\", \"partition\": 1, "
                              "\"offset\": 5000}]}}]'",
                              dir);
  // GetOffsetShell's "topic:partition:offset", the scenario's topics only (--exclude-internal-topics), by partition.
  REQUIRE(out.earliest_lines.size() == 6);
  REQUIRE(out.latest_lines.size() == 6);
  std::vector<int64_t> earliest, latest;
  for (int p = 0; p < 6; ++p) {
    CAPTURE(p);
    const auto e = split(out.earliest_lines[static_cast<size_t>(p)], ':');
    const auto l = split(out.latest_lines[static_cast<size_t>(p)], ':');
    REQUIRE(e.size() == 3);
    REQUIRE(l.size() == 3);
    CHECK(e[0] == "events");
    CHECK(e[1] == std::to_string(p));
    CHECK(l[1] == std::to_string(p));
    earliest.push_back(std::stoll(e[2]));
    latest.push_back(std::stoll(l[2]));
  }
  CHECK(earliest[1] == 5000);
  for (int p = 2; p < 6; ++p) CHECK(earliest[static_cast<size_t>(p)] == 0);  // untouched: nothing deleted yet
  // Partition 0's log start is its high watermark at 10 s: more than nothing, less than what it holds at 12 s.
  CHECK(earliest[0] > 0);
  CHECK(earliest[0] < latest[0]);
  // 12 s of 5,000 records a second, less those not yet committed (a few ms of acks=all).
  int64_t total = 0;
  for (int64_t v : latest) total += v;
  CHECK(total <= 60'000);
  CHECK(total >= 59'900);
  // kafka-consumer-groups' LOG-END-OFFSET is the same ListOffsets(latest).
  REQUIRE(out.group_lines.size() == 7);
  for (size_t i = 1; i < out.group_lines.size(); ++i) {
    const auto f = split(out.group_lines[i], ' ');
    std::vector<std::string> cols;
    for (const auto& c : f)
      if (!c.empty()) cols.push_back(c);
    REQUIRE(cols.size() >= 5);
    CHECK(std::stoll(cols[4]) == latest[static_cast<size_t>(std::stoi(cols[2]))]);
  }
}

TEST_CASE("describe: a bad --at or scenario exits 2") {
  const fs::path dir = fresh_dir("describe-bad");
  CHECK(run_kafkasim("describe scenarios/quickstart.json --at 10", dir / "log") == 2);  // no unit
  CHECK(slurp(dir / "log").find("expected a simulated time with a unit within the run, 0s to 20s") != std::string::npos);
  CHECK(run_kafkasim("describe scenarios/quickstart.json --at 21s", dir / "log") == 2);  // after the end
  CHECK(run_kafkasim("describe scenarios/quickstart.json --at soon", dir / "log") == 2);
  CHECK(run_kafkasim("describe scenarios/quickstart.json", dir / "log") == 2);  // --at is required
  CHECK(run_kafkasim("describe scenarios/quickstart.json --at 1s --set /topics/0/partitons=3", dir / "log") == 2);
  CHECK(slurp(dir / "log").find("did you mean \"partitions\"") != std::string::npos);
  fs::remove_all(dir);
}
