// Scenario files (issue 4): one JSON document describes a run — hardware, cluster, topics, producers,
// consumers, faults — and becomes a WorldSpec. Kafka configs keep Kafka's names and 4.x defaults
// (kafka_configs.hpp); every omitted value takes its default, and resolved_scenario() writes the scenario back
// with every default filled in, in the same format, so that the output of a run can be loaded again.
//
// Format (scenarios/schema.json is the machine-readable version, kept in sync by scenario_schema_test):
//   name, seed, duration, warmup               durations need a unit ("20s"); warmup < duration
//   hardware.broker {disk, log_dirs, nic, cpu, ram, jvm_heap, other_memory, young_gc, vm {dirty_*, read_ahead_kb}}
//                                                disk/nic/cpu: a profile name from scenarios/hardware/ or an
//                                                inline profile document
//   hardware.client {nic}, hardware.uplink {bandwidth, latency}
//   cluster {brokers, racks, config {Kafka broker configs}}
//   topics [{name, partitions, replication.factor, config {topic configs}}]
//   producers [{topic, count, workload {rate + arrival | closed_loop {threads}, record_size, keys}, config}]
//   consumers [{group, topic, count, processing_time, start_at, config}]
//                                                start_at: when the consumers start polling (auto.offset.reset)
//   faults []                                    not supported yet: must be empty
// A producer's or consumer's "config" may be a string naming a .properties file relative to the scenario.
//
// Validation is strict: unknown keys, wrong types, out-of-range values and Kafka's ConfigException rules are
// ConfigErrors (file, JSON pointer, expected, found, did-you-mean). Conditions Kafka accepts but that are
// probably mistakes (min.insync.replicas > replication.factor, ignored configs) are warnings.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/world.hpp"
#include "kafkasim/kafka/log/log_config.hpp"

namespace kafkasim::cluster {

// What a scenario says that WorldSpec has no field for; needed to write the scenario back and by the CLI.
struct ScenarioExtras {
  std::string name;
  // Non-fatal findings, one sentence each, in document order (ignored configs, min ISR > RF, ...).
  std::vector<std::string> warnings;
  // The hardware as written, after defaults: a profile name (JSON string) or an inline profile (object).
  nlohmann::json broker_disk = "nvme-datacentre";
  nlohmann::json broker_nic = "nic-10gbe";
  nlohmann::json broker_ebs_instance;  // null: none given
  nlohmann::json broker_cpu = "cpu-server-16core";
  nlohmann::json client_nic = "nic-10gbe";
  nlohmann::json client_cpu;  // null: no client CPU profile (send() costs the application thread nothing)
  // Broker-level topic defaults (log.*), the defaults of every topic's LogConfig.
  kafka::LogConfig broker_log_defaults;
  int32_t default_replication_factor = 1;  // default.replication.factor
  int32_t num_partitions = 1;              // num.partitions
  // Per producer, in WorldSpec order: "record_size" and "keys" in their resolved object form.
  std::vector<nlohmann::json> producer_record_sizes;
  std::vector<nlohmann::json> producer_keys;
  // Per consumer, in WorldSpec order: the consumer group name.
  std::vector<std::string> consumer_groups;
};

// Reads `path`, applies `set_overrides` ("POINTER=VALUE": an RFC 6901 pointer and a JSON value, or a plain
// string when VALUE is not JSON) and parses the result. Throws ConfigError. `extras`, when given, receives
// what WorldSpec cannot hold (warnings included).
WorldSpec load_scenario(const std::filesystem::path& path, const std::vector<std::string>& set_overrides,
                        ScenarioExtras* extras = nullptr);

// Parses a scenario document; `file` names it in errors and anchors relative .properties paths.
WorldSpec parse_scenario(const nlohmann::json& doc, const std::string& file, ScenarioExtras* extras = nullptr);

// Applies one --set override to `doc`; `file` names the scenario in errors. Throws ConfigError when the text
// has no '=', the pointer is malformed, or it names neither an existing nor an addable location.
void apply_set_override(nlohmann::json& doc, const std::string& override_text, const std::string& file);

// The fully resolved scenario: every key with its effective value, loadable again by parse_scenario.
// WorldSpec alone does not say which hardware profiles were named nor the shape of the workloads, so the
// extras from the load are needed.
nlohmann::json resolved_scenario(const WorldSpec& spec, const ScenarioExtras& extras);

// The keys the loader accepts in each kind of object, by the JSON Schema definition name used in
// scenarios/schema.json ($defs): "scenario" (the top level), "hardware", "broker_hardware", "vm",
// "client_hardware", "uplink", "cluster", "topic", "producer", "workload", "closed_loop", "record_size",
// "keys", "consumer". The Kafka config objects use the tables of kafka_configs.hpp.
const std::map<std::string, std::vector<std::string>>& scenario_object_keys();

// Reads a Java .properties file's key/value pairs (as JSON strings); `file` names it in errors.
nlohmann::json read_properties_file(const std::filesystem::path& path);
// Parses .properties text: `key=value`, `key: value` or `key value`; '#' and '!' comments; '\' continuations.
nlohmann::json parse_properties(const std::string& text, const std::string& file);

}  // namespace kafkasim::cluster
