// The subcommands of the kafkasim command.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

// Loads a scenario with its --set overrides and --seed for a command: prints the warnings, or the error (and
// returns nothing: the command exits 2).
std::optional<cluster::WorldSpec> load_for_command(const std::string& file, const std::vector<std::string>& set,
                                                   std::optional<uint64_t> seed, cluster::ScenarioExtras& extras);

struct RunOptions {
  std::string file;
  std::vector<std::string> set;  // POINTER=VALUE overrides
  std::optional<uint64_t> seed;
  std::string out;
  bool quiet = false;
};

struct SweepOptions {
  std::string file;
  std::vector<std::string> set;     // POINTER=VALUE overrides applied to every point
  std::vector<std::string> params;  // POINTER=v1,v2,...: the swept dimensions, first one slowest
  std::optional<uint64_t> seed;     // the first seed (default: the scenario's)
  uint32_t seeds = 1;               // seeds per point: seed, seed + 1, ...
  uint32_t jobs = 0;                // concurrent simulations (0: one per CPU)
  std::string shard;                // "i/n": run only this deterministic slice
  std::string out;
  bool quiet = false;
};

struct MergeOptions {
  std::vector<std::string> dirs;
  std::string out;
};

struct DescribeOptions {
  std::string file;
  std::vector<std::string> set;
  std::optional<uint64_t> seed;
  std::string at;  // a simulated time with a unit
};

struct PlotOptions {
  std::string dir;
  std::string out;  // default: dir
};

struct BenchScenarioOptions {
  std::string file;
  std::vector<std::string> set;
  std::optional<uint64_t> seed;
  uint32_t repeat = 3;
  bool json = false;  // one JSON object on stdout instead of the text report
};

// `kafkasim fio PROFILE`: fio's basic job against a disk profile's model (cli/fio.cpp).
struct FioOptions {
  std::string profile;         // a bundled profile's name, or a profile file (*.json, or a path)
  std::string rw = "randread";  // read, write, randread, randwrite
  std::string bs = "4k";
  uint32_t iodepth = 1;
  std::string size;            // the span addressed; empty: the whole device
  std::string runtime = "10s";  // simulated
  uint32_t fsync = 0;          // flush after every N writes (0: never)
  uint64_t seed = 1;
  bool json = false;
  std::string ebs_instance;    // an ebs_instance profile the (EBS) volume sits behind; empty: none
};

// `kafkasim producer-perf-test FILE`: kafka-producer-perf-test.sh against the scenario's cluster (cli/perf_test.cpp).
struct PerfTestOptions {
  std::string file;
  std::vector<std::string> set;
  std::optional<uint64_t> seed;
  std::string topic;
  int64_t num_records = 0;
  int64_t record_size = 0;
  double throughput = 0;                  // records a second; -1: unthrottled
  std::vector<std::string> producer_props;  // NAME=VALUE
  std::string producer_config;            // a .properties file
  int64_t warmup_records = 0;
  bool quiet = false;
};

// `kafkasim consumer-perf-test FILE`: kafka-consumer-perf-test.sh against the scenario's cluster while its producers
// write (cli/consumer_perf_test.cpp). The defaults are the tool's.
struct ConsumerPerfTestOptions {
  std::string file;
  std::vector<std::string> set;
  std::optional<uint64_t> seed;
  std::string topic;
  std::string include;  // refused: a simulated consumer reads one topic
  int64_t messages = 0;
  std::string group;  // empty: perf-consumer-<a number drawn from the seed>
  int32_t fetch_size = 1024 * 1024;          // max.partition.fetch.bytes
  int32_t socket_buffer_size = 2 * 1024 * 1024;  // receive.buffer.bytes
  bool from_latest = false;                  // auto.offset.reset=latest (else earliest)
  std::string consumer_config;               // a .properties file
  bool show_detailed_stats = false;
  int64_t reporting_interval_ms = 5000;
  int64_t timeout_ms = 10'000;  // the longest time between polls that return records
  std::string date_format = "yyyy-MM-dd HH:mm:ss:SSS";
  bool hide_header = false;
  bool print_metrics = false;  // refused
  std::string start_at = "0s";  // kafkasim's: when the tool's consumer starts (simulated)
  bool quiet = false;
};

// `kafkasim e2e-latency FILE TOPIC NUM_MESSAGES PRODUCER_ACKS MESSAGE_SIZE_BYTES [PROPERTIES_FILE]`: kafka-e2e-latency.sh
// (Kafka 4.0's EndToEndLatency, positional arguments, the scenario in place of broker_list) against the scenario's
// cluster (cli/e2e_latency.cpp).
struct E2eLatencyOptions {
  std::string file;
  std::string topic;
  int64_t num_messages = 0;
  std::string acks;
  int64_t message_size_bytes = 0;
  std::string properties_file;  // for both clients; optional
  std::vector<std::string> set;
  std::optional<uint64_t> seed;
  bool quiet = false;
};

// `text` (a loader error or warning about the scenario a tool built) with the JSON pointers of `names` replaced by
// the tool's arguments they came from, the earliest match first at each place.
std::string with_argument_names(const std::string& text, const std::vector<std::pair<std::string, std::string>>& names);
// Prints "error: MESSAGE" on stderr; returns 2, the exit code of bad input.
int input_error(const std::string& message);

// The scenario's "faults" after the --set overrides, less those whose host `drop` picks (the perf tests drop the
// faults on the clients they replace). Empty when the document does not read: the loader reports that.
struct KeptFaults {
  nlohmann::json faults = nlohmann::json::array();
  size_t dropped = 0;
};
KeptFaults faults_without(const std::string& file, const std::vector<std::string>& set,
                          const std::function<bool(const std::string& host)>& drop);

// Runs `world` to its end. A run that stops with an error (a disk that fills) prints it, after clearing the progress
// line on a terminal, and gives nothing.
std::optional<cluster::WorldSummary> run_world(cluster::World& world, const std::string& file, bool tty);

// The summary's *bottleneck* line (and the scenario entry of a client it names), as `kafkasim run` prints it.
void print_bottleneck(const cluster::WorldSummary& s, const cluster::WorldSpec& spec);

// Exit codes: 0 ok, 1 the run failed, 2 bad input.
int run_scenario(const RunOptions& options);
int validate_scenario(const RunOptions& options);
int run_sweep(const SweepOptions& options);
int merge_sweeps(const MergeOptions& options);
int describe_scenario(const DescribeOptions& options);
int plot_results(const PlotOptions& options);
// 1 also when the repeated runs did not execute the same events (a determinism failure).
int bench_scenario(const BenchScenarioOptions& options);
int fio_profile(const FioOptions& options);
int producer_perf_test(const PerfTestOptions& options);
int consumer_perf_test(const ConsumerPerfTestOptions& options);
int e2e_latency(const E2eLatencyOptions& options);

}  // namespace kafkasim::cli
