// scenarios/schema.json must describe exactly what the loader accepts: the same keys in every object of a
// scenario, and the same Kafka config names as the loader's tables (kafka_configs.cpp), with the same defaults.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/scenario.hpp"

using namespace kafkasim;
using namespace kafkasim::cluster;
using json = nlohmann::json;

namespace {

json load_schema() {
  std::ifstream in(std::string(KAFKASIM_SOURCE_DIR) + "/scenarios/schema.json");
  REQUIRE(in.good());
  return json::parse(in);
}

std::set<std::string> property_names(const json& def) {
  std::set<std::string> names;
  for (const auto& [k, v] : def.at("properties").items()) names.insert(k);
  return names;
}

template <typename T>
std::set<std::string> table_names(const std::vector<ConfigEntry<T>>& table) {
  std::set<std::string> names;
  for (const auto& e : table) names.emplace(e.spec.name);
  return names;
}

// The regex each ignored prefix becomes in patternProperties ("ssl." -> "^ssl\.").
std::set<std::string> prefix_patterns(std::span<const std::string_view> prefixes) {
  std::set<std::string> out;
  for (std::string_view p : prefixes) {
    std::string r = "^";
    for (char c : p) {
      if (c == '.') r += "\\";
      r.push_back(c);
    }
    out.insert(r);
  }
  return out;
}

std::set<std::string> pattern_names(const json& def) {
  std::set<std::string> out;
  if (def.contains("patternProperties"))
    for (const auto& [k, v] : def["patternProperties"].items()) out.insert(k);
  return out;
}

template <typename T>
void check_config_def(const json& schema, const std::string& def_name, const std::vector<ConfigEntry<T>>& table,
                      std::span<const std::string_view> prefixes) {
  INFO(def_name);
  const json& def = schema["$defs"].at(def_name);
  CHECK(def.at("additionalProperties") == false);
  CHECK(property_names(def) == table_names(table));
  CHECK(pattern_names(def) == prefix_patterns(prefixes));
  // The schema shows Kafka's default for every modelled config, the same as the table's.
  for (const auto& e : table) {
    if (e.spec.type == ConfigType::kIgnored) continue;
    INFO(e.spec.name);
    const json& prop = def["properties"][std::string(e.spec.name)];
    REQUIRE(prop.contains("default"));
    const json table_default = e.spec.type == ConfigType::kString || e.spec.type == ConfigType::kList
                                   ? json(std::string(e.spec.kafka_default))
                                   : json::parse(e.spec.kafka_default);
    CHECK(prop["default"] == table_default);
  }
}

// The table's documented default must be what the simulator struct holds when nothing is set.
template <typename T>
void check_defaults_agree(const std::vector<ConfigEntry<T>>& table, const T& defaults) {
  for (const auto& e : table) {
    if (e.spec.type == ConfigType::kIgnored) continue;
    INFO(e.spec.name);
    const json written = config_value_to_json(e.spec, e.get(defaults));
    if (e.spec.type == ConfigType::kString || e.spec.type == ConfigType::kList)
      CHECK(written == json(std::string(e.spec.kafka_default)));
    else
      CHECK(written == json::parse(e.spec.kafka_default));
  }
}

}  // namespace

TEST_CASE("schema: draft 2020-12, rooted at the scenario definition") {
  const json schema = load_schema();
  CHECK(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(schema["$ref"] == "#/$defs/scenario");
}

TEST_CASE("schema: every scenario object has exactly the loader's keys, and vice versa") {
  const json schema = load_schema();
  const auto& loader = scenario_object_keys();
  for (const auto& [name, keys] : loader) {
    INFO(name);
    REQUIRE(schema["$defs"].contains(name));
    const json& def = schema["$defs"][name];
    CHECK(def.at("additionalProperties") == false);
    CHECK(property_names(def) == std::set<std::string>(keys.begin(), keys.end()));
  }
  const std::set<std::string> config_defs = {"producer_config", "consumer_config", "broker_config", "topic_config"};
  for (const auto& [name, def] : schema["$defs"].items()) {
    INFO(name);
    CHECK((loader.count(name) == 1 || config_defs.count(name) == 1));
  }
}

TEST_CASE("schema: config property names equal the loader's config tables") {
  const json schema = load_schema();
  check_config_def(schema, "producer_config", producer_config_table(), producer_ignored_prefixes());
  check_config_def(schema, "consumer_config", consumer_config_table(), consumer_ignored_prefixes());
  check_config_def(schema, "broker_config", broker_config_table(), broker_ignored_prefixes());
  check_config_def(schema, "topic_config", topic_config_table(), topic_ignored_prefixes());
}

TEST_CASE("config tables: documented defaults equal the simulator structs' defaults") {
  check_defaults_agree(producer_config_table(), kafka::ProducerConfig{});
  check_defaults_agree(consumer_config_table(), kafka::ConsumerConfig{});
  check_defaults_agree(broker_config_table(), BrokerSettings{});
  // Topic min.insync.replicas has no value of its own until set (it follows the broker's); skip it.
  kafka::PartitionConfig topic;
  topic.min_insync_replicas = 1;
  check_defaults_agree(topic_config_table(), topic);
}

TEST_CASE("config tables: no name appears twice") {
  CHECK(table_names(producer_config_table()).size() == producer_config_table().size());
  CHECK(table_names(consumer_config_table()).size() == consumer_config_table().size());
  CHECK(table_names(broker_config_table()).size() == broker_config_table().size());
  CHECK(table_names(topic_config_table()).size() == topic_config_table().size());
}
