// The kafkasim command.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "bench/phold.hpp"
#include "cli/commands.hpp"
#include "kafkasim/build_info.hpp"

namespace {

int bench_phold(const kafkasim::bench::PholdConfig& config) {
  using kafkasim::bench::PholdResult;
  std::printf("PHOLD: N=%u LPs, E=%u initial events each, M=%llu events, seed=%llu\n", config.lps,
              config.initial_events_per_lp, static_cast<unsigned long long>(config.events),
              static_cast<unsigned long long>(config.seed));
  std::printf("reproduce: kafkasim bench phold --lps %u --initial %u --events %llu --seed %llu\n", config.lps,
              config.initial_events_per_lp, static_cast<unsigned long long>(config.events),
              static_cast<unsigned long long>(config.seed));
  std::fflush(stdout);
  const PholdResult bare = kafkasim::bench::run_phold_bare(config);
  const PholdResult engine = kafkasim::bench::run_phold_engine(config);
  std::printf("  bare std::priority_queue loop: %12.0f events/s  (%.3f s wall)\n", bare.events_per_second(),
              bare.wall_seconds);
  std::printf("  kafkasim engine:               %12.0f events/s  (%.3f s wall)\n", engine.events_per_second(),
              engine.wall_seconds);
  const double ratio = bare.events_per_second() > 0 ? engine.events_per_second() / bare.events_per_second() : 0;
  std::printf("  engine / bare ratio:           %12.3f  (goal >= 0.70)\n", ratio);
  std::printf("  simulated time reached:        %12.6f s\n", static_cast<double>(engine.final_time_ns) / 1e9);
  const bool same = engine.checksum == bare.checksum && engine.events == bare.events &&
                    engine.final_time_ns == bare.final_time_ns;
  std::printf("  same event sequence in both:   %s (checksum %016llx)\n", same ? "yes" : "NO",
              static_cast<unsigned long long>(engine.checksum));
  return same ? 0 : 1;
}

}  // namespace

namespace {

// A Kafka tool's command: its scenario file, then the options every tool shares (the seed, the scenario's
// overrides, no progress line); the tool's own options follow.
template <typename Options>
CLI::App* add_tool_subcommand(CLI::App& app, const char* name, const char* description, Options& options,
                              const char* file_help) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("file", options.file, file_help)->required();
  cmd->add_option("--seed", options.seed, "Root seed (overrides the scenario's)");
  cmd->add_option("--set", options.set, "Override: POINTER=VALUE");
  cmd->add_flag("--quiet", options.quiet, "No progress on stderr");
  return cmd;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafkasim: a deterministic discrete-event simulator of Apache Kafka clusters"};
  app.set_version_flag("--version", std::string("kafkasim ") + kafkasim::build_info::kVersion + " (" +
                                        kafkasim::build_info::kGitCommit + ")");
  app.require_subcommand(1);

  kafkasim::cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a scenario and print its summary");
  run_cmd->add_option("file", run.file, "Scenario JSON file")->required();
  run_cmd->add_option("--seed", run.seed, "Root seed (overrides the scenario's)");
  run_cmd->add_option("--set", run.set, "Override: an RFC 6901 JSON pointer and a value, e.g. /producers/0/config/linger.ms=5");
  run_cmd->add_option("--out", run.out, "Directory for manifest.json, summary.json, timeseries.csv, events.jsonl");
  run_cmd->add_flag("--quiet", run.quiet, "No progress line on stderr");
  int exit_code = 0;
  run_cmd->callback([&] { exit_code = kafkasim::cli::run_scenario(run); });

  CLI::App* validate_cmd = app.add_subcommand("validate", "Check a scenario and print it fully resolved");
  validate_cmd->add_option("file", run.file, "Scenario JSON file")->required();
  validate_cmd->add_option("--set", run.set, "Override: POINTER=VALUE");
  validate_cmd->callback([&] { exit_code = kafkasim::cli::validate_scenario(run); });

  kafkasim::cli::SweepOptions sweep;
  CLI::App* sweep_cmd = app.add_subcommand("sweep", "Run a scenario over the cartesian product of parameter values and seeds");
  sweep_cmd->add_option("file", sweep.file, "Scenario JSON file")->required();
  sweep_cmd->add_option("--set", sweep.set, "Override for every point: POINTER=VALUE");
  sweep_cmd->add_option("--param", sweep.params,
                        "A swept parameter: POINTER=v1,v2,... (JSON values, strings in quotes); repeat for more")
      ->required();
  sweep_cmd->add_option("--seed", sweep.seed, "First seed (default: the scenario's)");
  sweep_cmd->add_option("--seeds", sweep.seeds, "Seeds per point: seed, seed+1, ...")->check(CLI::Range(1u, 10000u));
  sweep_cmd->add_option("--jobs", sweep.jobs, "Simulations at once (default: one per CPU)")->check(CLI::Range(1u, 1024u));
  sweep_cmd->add_option("--shard", sweep.shard, "Run only slice i of n (i/n): runs whose number is i-1 modulo n");
  sweep_cmd->add_option("--out", sweep.out, "Sweep directory: sweep.json, sweep.csv, runs/")->required();
  sweep_cmd->add_flag("--quiet", sweep.quiet, "No progress bar on stderr");
  sweep_cmd->callback([&] { exit_code = kafkasim::cli::run_sweep(sweep); });

  kafkasim::cli::PerfTestOptions perf;
  CLI::App* perf_cmd = add_tool_subcommand(
      app, "producer-perf-test", "kafka-producer-perf-test.sh against a scenario's cluster, printing what the tool prints",
      perf, "Scenario JSON file (its cluster, hardware and topics)");
  perf_cmd->add_option("--topic", perf.topic, "produce messages to this topic")->required();
  perf_cmd->add_option("--num-records", perf.num_records, "number of messages to produce")->required();
  perf_cmd->add_option("--record-size", perf.record_size, "message size in bytes")->required();
  perf_cmd->add_option("--throughput", perf.throughput,
                       "throttle maximum message throughput to *approximately* THROUGHPUT messages/sec; -1: no throttling")
      ->required();
  perf_cmd->add_option("--producer-props", perf.producer_props, "producer configs: NAME=VALUE ...");
  perf_cmd->add_option("--producer.config", perf.producer_config, "producer config properties file");
  perf_cmd->add_option("--warmup-records", perf.warmup_records,
                       "records to treat as warm-up: a steady-state summary line follows the total");
  perf_cmd->callback([&] { exit_code = kafkasim::cli::producer_perf_test(perf); });

  kafkasim::cli::ConsumerPerfTestOptions cperf;
  CLI::App* cperf_cmd = add_tool_subcommand(
      app, "consumer-perf-test",
      "kafka-consumer-perf-test.sh against a scenario's cluster while its producers write, printing what the tool prints",
      cperf, "Scenario JSON file (its cluster, hardware, topics and producers)");
  cperf_cmd->add_option("--topic", cperf.topic, "The topic to consume from.");
  cperf_cmd->add_option("--include", cperf.include, "(not supported: kafkasim's consumers read one topic)");
  cperf_cmd->add_option("--messages", cperf.messages, "The number of messages to consume.")->required();
  cperf_cmd->add_option("--group", cperf.group, "The group id to consume on (default: perf-consumer-<from the seed>)");
  cperf_cmd->add_option("--fetch-size", cperf.fetch_size, "The amount of data to fetch in a single request.")
      ->capture_default_str();
  cperf_cmd->add_option("--socket-buffer-size", cperf.socket_buffer_size, "The size of the tcp RECV size.")
      ->capture_default_str();
  cperf_cmd->add_flag("--from-latest", cperf.from_latest,
                      "Start with the latest message present in the log rather than the earliest message.");
  cperf_cmd->add_option("--consumer.config", cperf.consumer_config, "Consumer config properties file.");
  cperf_cmd->add_flag("--show-detailed-stats", cperf.show_detailed_stats,
                      "Stats for each reporting interval as configured by reporting-interval");
  cperf_cmd->add_option("--reporting-interval", cperf.reporting_interval_ms,
                        "Interval in milliseconds at which to print progress info.")
      ->capture_default_str();
  cperf_cmd->add_option("--timeout", cperf.timeout_ms,
                        "The maximum allowed time in milliseconds between returned records.")
      ->capture_default_str();
  cperf_cmd->add_option("--date-format", cperf.date_format, "The date format to use for formatting the time field.")
      ->capture_default_str();
  cperf_cmd->add_flag("--hide-header", cperf.hide_header, "Skips printing the header for the stats");
  cperf_cmd->add_flag("--print-metrics", cperf.print_metrics, "(not supported: the client's metrics are not simulated)");
  std::string ignored_bootstrap;
  cperf_cmd->add_option("--bootstrap-server", ignored_bootstrap, "Ignored: the cluster is the scenario's");
  cperf_cmd->add_option("--start-at", cperf.start_at,
                        "kafkasim: when the tool's consumer starts, in simulated time (the producers start at 0)")
      ->capture_default_str();
  cperf_cmd->callback([&] { exit_code = kafkasim::cli::consumer_perf_test(cperf); });

  kafkasim::cli::E2eLatencyOptions e2e;
  CLI::App* e2e_cmd = add_tool_subcommand(
      app, "e2e-latency",
      "kafka-e2e-latency.sh against a scenario's cluster: send a record, wait for its acknowledgement, poll it, repeat",
      e2e, "Scenario JSON file (in place of the tool's broker_list)");
  e2e_cmd->add_option("topic", e2e.topic, "topic used by both the producer and the consumer")->required();
  e2e_cmd->add_option("num_messages", e2e.num_messages, "messages to send, one at a time")->required();
  e2e_cmd->add_option("producer_acks", e2e.acks, "the producer's acks: 1 or all")->required();
  e2e_cmd->add_option("message_size_bytes", e2e.message_size_bytes, "size of each message in bytes")->required();
  e2e_cmd->add_option("properties_file", e2e.properties_file, "client configs for both the producer and the consumer");
  e2e_cmd->callback([&] { exit_code = kafkasim::cli::e2e_latency(e2e); });

  kafkasim::cli::MergeOptions merge;
  CLI::App* merge_cmd = app.add_subcommand("merge", "Join the shards of a sweep (--shard i/n) into one sweep directory");
  merge_cmd->add_option("dirs", merge.dirs, "The shards' sweep directories")->required();
  merge_cmd->add_option("--out", merge.out, "The merged sweep directory")->required();
  merge_cmd->callback([&] { exit_code = kafkasim::cli::merge_sweeps(merge); });

  kafkasim::cli::DescribeOptions describe;
  CLI::App* describe_cmd = app.add_subcommand(
      "describe", "Run a scenario to a simulated time and print kafka-topics / kafka-consumer-groups --describe");
  describe_cmd->add_option("file", describe.file, "Scenario JSON file")->required();
  describe_cmd->add_option("--at", describe.at, "Simulated time, with a unit (e.g. 10s)")->required();
  describe_cmd->add_option("--seed", describe.seed, "Root seed (overrides the scenario's)");
  describe_cmd->add_option("--set", describe.set, "Override: POINTER=VALUE");
  describe_cmd->callback([&] { exit_code = kafkasim::cli::describe_scenario(describe); });

  kafkasim::cli::PlotOptions plot;
  CLI::App* plot_cmd = app.add_subcommand("plot", "PNG charts of a run directory or a sweep directory");
  plot_cmd->add_option("dir", plot.dir, "A run directory (kafkasim run --out) or a sweep directory")->required();
  plot_cmd->add_option("--out", plot.out, "Where to write the PNGs (default: DIR)");
  plot_cmd->callback([&] { exit_code = kafkasim::cli::plot_results(plot); });

  kafkasim::cli::FioOptions fio;
  CLI::App* fio_cmd = app.add_subcommand(
      "fio", "Run fio's basic job (pattern, block size, queue depth) against a disk profile's model");
  fio_cmd->add_option("profile", fio.profile, "A disk profile: a bundled name (nvme-datacentre) or a profile file")
      ->required();
  fio_cmd->add_option("--rw", fio.rw, "read, write, randread or randwrite (default randread)");
  fio_cmd->add_option("--bs", fio.bs, "Block size, fio style (4k, 128k, 1m) or with a unit (default 4k)");
  fio_cmd->add_option("--iodepth", fio.iodepth, "Requests kept outstanding (default 1)")->check(CLI::Range(1u, 65536u));
  fio_cmd->add_option("--size", fio.size, "Span of the device addressed, from offset 0 (default: all of it)");
  fio_cmd->add_option("--runtime", fio.runtime, "Simulated time (default 10s)");
  fio_cmd->add_option("--fsync", fio.fsync, "Flush after every N writes, waiting for it (default 0: never)");
  fio_cmd->add_option("--seed", fio.seed, "Seed of the offsets and the device's randomness (default 1)");
  fio_cmd->add_option("--ebs-instance", fio.ebs_instance,
                      "An EBS volume behind an EC2 instance's EBS limits: an ebs_instance profile (ec2-m5.large)");
  fio_cmd->add_flag("--json", fio.json, "Print one JSON object instead of the text report");
  fio_cmd->callback([&] { exit_code = kafkasim::cli::fio_profile(fio); });

  CLI::App* bench = app.add_subcommand("bench", "Benchmarks of the simulator itself");
  bench->require_subcommand(1);
  kafkasim::bench::PholdConfig phold;
  CLI::App* phold_cmd = bench->add_subcommand("phold", "PHOLD engine benchmark against a bare priority-queue loop");
  phold_cmd->add_option("--lps", phold.lps, "Logical processes (N)")->check(CLI::Range(1u, 1u << 24));
  phold_cmd->add_option("--initial", phold.initial_events_per_lp, "Initial events per LP (E)")
      ->check(CLI::Range(1u, 1u << 16));
  phold_cmd->add_option("--events", phold.events, "Events to execute (M)")->check(CLI::PositiveNumber);
  phold_cmd->add_option("--seed", phold.seed, "Root seed");
  phold_cmd->callback([&] { exit_code = bench_phold(phold); });
  kafkasim::cli::BenchScenarioOptions bench_scenario;
  CLI::App* scenario_cmd = bench->add_subcommand(
      "scenario", "Run a scenario several times: simulated seconds per wall and CPU second, events/s, peak memory");
  scenario_cmd->add_option("file", bench_scenario.file, "Scenario JSON file, e.g. scenarios/bench/reference.json")
      ->required();
  scenario_cmd->add_option("--repeat", bench_scenario.repeat, "Runs, one after the other (default 3)")
      ->check(CLI::Range(1u, 100u));
  scenario_cmd->add_option("--seed", bench_scenario.seed, "Root seed (overrides the scenario's)");
  scenario_cmd->add_option("--set", bench_scenario.set, "Override: POINTER=VALUE");
  scenario_cmd->add_flag("--json", bench_scenario.json, "Print one JSON object instead of the text report");
  scenario_cmd->callback([&] { exit_code = kafkasim::cli::bench_scenario(bench_scenario); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
