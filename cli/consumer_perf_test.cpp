// `kafkasim consumer-perf-test`: kafka-consumer-perf-test.sh (tools/.../ConsumerPerformance.java, Kafka 4.x) against
// the cluster of a scenario. The scenario's producers write the topic as they would in a run; its consumers are
// replaced by the tool's one consumer, which starts at --start-at (a kafkasim option: the backlog the producers have
// written by then is there to read). What it prints is the tool's output, computed as the tool computes it from the
// simulated polls.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/cluster/world.hpp"
#include "kafkasim/sim/rng.hpp"

namespace kafkasim::cli {

namespace {

int64_t millis(sim::SimTime t) { return t.ns() / 1'000'000; }

std::string seconds_text(sim::Duration d) {
  char text[48];
  std::snprintf(text, sizeof text, "%g s", d.seconds_f());
  return text;
}

// The tool's counters and its two kinds of line (printConsumerProgress, the final line of main).
class ConsumerPerfStats {
 public:
  ConsumerPerfStats(const ConsumerPerfTestOptions& options, int64_t start_ms)
      : options_(options), start_ms_(start_ms), last_report_ms_(start_ms), last_consumed_ms_(start_ms) {}

  // One poll's records, returned at `now_ms`: the tool's loop over them (ConsumerPerformance.consume).
  void on_poll(int64_t now_ms, const cluster::World::PollResult& poll) {
    last_consumed_ms_ = now_ms;
    // The progress check runs per record, but its clock is read once per poll: only the first record can pass it.
    messages_ += 1;
    bytes_ += poll.first_bytes;
    if (now_ms - last_report_ms_ >= options_.reporting_interval_ms) {
      if (options_.show_detailed_stats) print_progress(now_ms);
      last_report_ms_ = now_ms;
      last_messages_ = messages_;
      last_bytes_ = bytes_;
    }
    messages_ += poll.records - 1;
    bytes_ += poll.bytes - poll.first_bytes;
    without_size_ += poll.records_without_size;
  }

  // The loop's condition, checked after each poll returns.
  bool done() const { return messages_ >= options_.messages; }
  int64_t last_consumed_ms() const { return last_consumed_ms_; }
  int64_t without_size() const { return without_size_; }
  int64_t messages() const { return messages_; }

  void print_header() const {
    const char* more = ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
    if (options_.show_detailed_stats)
      std::printf("time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec%s\n", more);
    else
      std::printf("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec%s\n", more);
  }

  // The final line (without --show-detailed-stats). The join time is 0: the group's JoinGroup / SyncGroup are not
  // simulated (the assignment is static).
  void print_total(int64_t end_ms) const {
    const double elapsed_s = static_cast<double>(end_ms - start_ms_) / 1000.0;
    const int64_t join_ms = 0;
    const int64_t fetch_ms = end_ms - start_ms_ - join_ms;
    const double mb = static_cast<double>(bytes_) / (1024.0 * 1024.0);
    std::printf("%s, %s, %.4f, %.4f, %lld, %.4f, %lld, %lld, %.4f, %.4f\n", date(start_ms_).c_str(),
                date(end_ms).c_str(), mb, mb / elapsed_s, static_cast<long long>(messages_),
                static_cast<double>(messages_) / elapsed_s, static_cast<long long>(join_ms),
                static_cast<long long>(fetch_ms), mb / (static_cast<double>(fetch_ms) / 1000.0),
                static_cast<double>(messages_) / (static_cast<double>(fetch_ms) / 1000.0));
  }

 private:
  std::string date(int64_t ms) const { return cluster::format_simple_date(options_.date_format, ms); }

  // printBasicProgress and printExtendedProgress, thread id 0, no join time in the round.
  void print_progress(int64_t now_ms) const {
    const double elapsed_ms = static_cast<double>(now_ms - last_report_ms_);
    const double total_mb = static_cast<double>(bytes_) / (1024.0 * 1024.0);
    const double interval_mb = static_cast<double>(bytes_ - last_bytes_) / (1024.0 * 1024.0);
    const int64_t interval_messages = messages_ - last_messages_;
    std::printf("%s, %d, %.4f, %.4f, %lld, %.4f", date(now_ms).c_str(), 0, total_mb, 1000.0 * interval_mb / elapsed_ms,
                static_cast<long long>(messages_), static_cast<double>(interval_messages) / elapsed_ms * 1000.0);
    const int64_t join_ms = 0;
    const int64_t fetch_ms = now_ms - last_report_ms_ - join_ms;
    std::printf(", %lld, %lld, %.4f, %.4f\n", static_cast<long long>(join_ms), static_cast<long long>(fetch_ms),
                fetch_ms <= 0 ? 0.0 : 1000.0 * interval_mb / static_cast<double>(fetch_ms),
                fetch_ms <= 0 ? 0.0 : 1000.0 * static_cast<double>(interval_messages) / static_cast<double>(fetch_ms));
  }

  const ConsumerPerfTestOptions& options_;
  int64_t start_ms_;
  int64_t last_report_ms_;
  int64_t last_consumed_ms_;
  int64_t messages_ = 0, bytes_ = 0;
  int64_t last_messages_ = 0, last_bytes_ = 0;
  int64_t without_size_ = 0;
};

std::string consumer_arguments_text(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"at /consumers/0/config/", "in the consumer configs (--consumer.config, --fetch-size, --socket-buffer-size), "},
      {"at /consumers/0/config", "in the consumer configs (--consumer.config)"},
      {"at /consumers/0/topic", "in --topic"},
      {"at /consumers/0/start_at", "in --start-at"},
      {"at /consumers/0/group", "in --group"},
      {"at /consumers/0", "in the tool's consumer"}};
  return with_argument_names(text, names);
}

}  // namespace

int consumer_perf_test(const ConsumerPerfTestOptions& options) {
  // The tool's own checks, with its messages where it has one.
  if (!options.include.empty())
    return input_error("--include: kafkasim's consumers read one topic each; give it with --topic");
  if (options.topic.empty()) return input_error("Exactly one of the following arguments is required: [topic], [include]");
  if (options.print_metrics) return input_error("--print-metrics: the client's metrics are not simulated");
  if (options.messages <= 0) return input_error("--messages: expected a number of messages above 0");
  if (options.reporting_interval_ms <= 0) return input_error("Reporting interval must be greater than 0.");
  if (options.timeout_ms < 0) return input_error("--timeout: expected milliseconds, 0 or more");
  try {
    (void)cluster::format_simple_date(options.date_format, 0);
  } catch (const std::invalid_argument& e) {
    return input_error("--date-format " + options.date_format + ": " + e.what());
  }
  const cluster::Parsed<sim::Duration> parsed_start = cluster::parse_duration(options.start_at, 1'000'000'000);
  if (const auto* why = std::get_if<std::string>(&parsed_start))
    return input_error("--start-at " + options.start_at + ": " + *why);
  const sim::Duration start_at = std::get<sim::Duration>(parsed_start);
  if (start_at < sim::Duration::zero()) return input_error("--start-at: expected a simulated time, 0 or later");
  if (start_at > sim::Duration::from_s(1'000'000'000))
    return input_error("--start-at " + options.start_at + ": expected a simulated time up to 1000000000s");
  // The test's run is as long as it takes: a million simulated seconds after the consumer starts at most.
  const std::string duration =
      "/duration=\"" + cluster::format_duration(start_at + sim::Duration::from_s(1'000'000)) + "\"";

  // The consumer's configs: --consumer.config's file, then what the tool sets over it (ConsumerPerfOptions.props),
  // then the client.id it sets when none is given. group.id is the entry's group, the deserializers are the records'
  // business and the cluster is the scenario's.
  nlohmann::json config = nlohmann::json::object();
  if (!options.consumer_config.empty()) {
    std::ifstream in(options.consumer_config);
    if (!in) return input_error("--consumer.config " + options.consumer_config + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    try {
      config = cluster::parse_properties(text.str(), options.consumer_config);
    } catch (const cluster::ConfigError& e) {
      return input_error(e.what());
    }
  }
  config["receive.buffer.bytes"] = std::to_string(options.socket_buffer_size);
  config["max.partition.fetch.bytes"] = std::to_string(options.fetch_size);
  config["auto.offset.reset"] = options.from_latest ? "latest" : "earliest";
  config["check.crcs"] = "false";
  if (!config.contains("client.id")) config["client.id"] = "perf-consumer-client";
  for (const char* name : {"bootstrap.servers", "group.id", "key.deserializer", "value.deserializer"}) config.erase(name);

  // The scenario as the user gave it, for its seed and how many producer clients it has: the faults on the
  // consumers' clients go with the consumers (the clients are numbered producers first).
  cluster::ScenarioExtras first_extras;
  cluster::WorldSpec original;
  // The test's run is as long as it takes (below): faults and operations may fall after the scenario's duration.
  std::vector<std::string> as_given = options.set;
  as_given.push_back(duration);
  try {
    original = cluster::load_scenario(options.file, as_given, &first_extras);
  } catch (const cluster::ConfigError& e) {
    return input_error(e.what());
  }
  const uint64_t seed = options.seed.value_or(original.seed);
  uint32_t producer_clients = 0;
  for (const auto& p : original.producers) producer_clients += p.count;
  bool topic_written = false;
  for (const auto& p : original.producers) {
    if (p.topic >= 0 && static_cast<size_t>(p.topic) < original.topics.size() &&
        original.topics[static_cast<size_t>(p.topic)].name == options.topic)
      topic_written = true;
  }
  const KeptFaults kept = faults_without(options.file, options.set, [&](const std::string& host) {
    if (host.rfind("client-", 0) != 0) return false;
    const std::string number = host.substr(7);
    // A malformed name stays, for the loader to report.
    if (number.empty() || number.size() > 9 || !std::all_of(number.begin(), number.end(), ::isdigit)) return false;
    return std::stoull(number) >= producer_clients;
  });
  const nlohmann::json& faults = kept.faults;
  const size_t faults_dropped = kept.dropped;

  // --group's default is "perf-consumer-" and a random number below 100,000; here drawn from the seed.
  std::string group = options.group;
  if (group.empty()) {
    sim::Rng rng = sim::Rng::stream(seed, "consumer-perf-test/group");
    group = "perf-consumer-" + std::to_string(rng.uniform_u64(100'000));
  }
  const nlohmann::json consumer = {{"group", group},
                                   {"topic", options.topic},
                                   {"count", 1},
                                   {"start_at", cluster::format_duration(start_at)},
                                   {"config", config}};
  std::vector<std::string> set = options.set;
  set.push_back("/consumers=" + nlohmann::json::array({consumer}).dump());
  set.push_back("/faults=" + faults.dump());
  // Long enough for any test to end: the run stops when the tool's loop ends.
  set.push_back(duration);
  // The summary's figures (what kafkasim's bottleneck line names) cover the test: from the consumer's start.
  set.push_back("/warmup=\"" + (start_at > sim::Duration::zero() ? cluster::format_duration(start_at) : "1ms") + "\"");
  cluster::ScenarioExtras extras;
  cluster::WorldSpec spec;
  try {
    spec = cluster::load_scenario(options.file, set, &extras);
  } catch (const cluster::ConfigError& e) {
    return input_error(consumer_arguments_text(e.what()));
  }
  spec.seed = seed;
  spec.utilisation_from = start_at;
  for (const auto& w : extras.warnings) std::fprintf(stderr, "warning: %s\n", consumer_arguments_text(w).c_str());
  if (!topic_written)
    std::fprintf(stderr, "warning: no producer of %s writes to %s: the consumer has nothing to read, and the tool "
                         "stops after --timeout\n", options.file.c_str(), options.topic.c_str());

  std::printf("kafkasim consumer-perf-test %s: %s, seed %llu; the scenario's consumers%s replaced by the tool's "
              "consumer (group %s) from %s; its %u producer%s writing from 0 s\n",
              options.file.c_str(), extras.name.c_str(), static_cast<unsigned long long>(spec.seed),
              faults_dropped > 0 ? " and their faults" : "", group.c_str(), seconds_text(start_at).c_str(),
              producer_clients, producer_clients == 1 ? "" : "s");
  std::string reproduce = "reproduce: kafkasim consumer-perf-test " + options.file + " --seed " +
                          std::to_string(spec.seed) + " --topic " + options.topic + " --messages " +
                          std::to_string(options.messages) + " --group " + group;
  if (start_at > sim::Duration::zero()) reproduce += " --start-at " + cluster::format_duration(start_at);
  if (options.fetch_size != 1024 * 1024) reproduce += " --fetch-size " + std::to_string(options.fetch_size);
  if (options.socket_buffer_size != 2 * 1024 * 1024)
    reproduce += " --socket-buffer-size " + std::to_string(options.socket_buffer_size);
  if (options.from_latest) reproduce += " --from-latest";
  if (options.timeout_ms != 10'000) reproduce += " --timeout " + std::to_string(options.timeout_ms);
  if (options.show_detailed_stats) reproduce += " --show-detailed-stats";
  if (options.reporting_interval_ms != 5000)
    reproduce += " --reporting-interval " + std::to_string(options.reporting_interval_ms);
  if (!options.consumer_config.empty()) reproduce += " --consumer.config " + options.consumer_config;
  if (options.date_format != ConsumerPerfTestOptions().date_format)
    reproduce += " --date-format '" + options.date_format + "'";
  if (options.hide_header) reproduce += " --hide-header";
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  std::printf("%s\n", reproduce.c_str());
  std::fflush(stdout);

  cluster::World world(spec);
  const int64_t start_ms = millis(sim::SimTime::zero() + start_at);
  ConsumerPerfStats stats(options, start_ms);
  if (!options.hide_header) stats.print_header();
  // The loop ends after a poll that brought the count to --messages, or at the first poll to return more than
  // --timeout after the last records: poll(100 ms) returns empty every 100 ms meanwhile.
  const int64_t quiet_exit_ms = (options.timeout_ms / 100 + 1) * 100;
  std::optional<int64_t> end_ms;
  bool timed_out = false;
  sim::Engine& engine = world.engine();
  std::function<void()> check_quiet = [&] {
    if (end_ms) return;
    const int64_t due = stats.last_consumed_ms() + quiet_exit_ms;
    if (millis(engine.now()) >= due) {
      end_ms = millis(engine.now());
      timed_out = true;
      engine.stop();
      return;
    }
    engine.schedule_at(sim::SimTime::zero() + sim::Duration::from_ms(due), [&] { check_quiet(); });
  };
  engine.schedule_at(sim::SimTime::zero() + sim::Duration::from_ms(start_ms + quiet_exit_ms), [&] { check_quiet(); });
  world.set_poll_observer([&](size_t, sim::SimTime polled, const cluster::World::PollResult& poll) {
    if (end_ms) return;
    stats.on_poll(millis(polled), poll);
    if (stats.done()) {
      end_ms = millis(polled);
      engine.stop();
    }
  });
  const bool tty = isatty(STDERR_FILENO) != 0 && !options.quiet;
  if (tty) {
    world.set_progress_hook([&](sim::SimTime now) {
      std::fprintf(stderr, "\r  simulated %7.1f s, %lld of %lld messages read ", now.seconds_f(),
                   static_cast<long long>(stats.messages()), static_cast<long long>(options.messages));
    });
  }
  const std::optional<cluster::WorldSummary> ran = run_world(world, options.file, tty);
  if (!ran) return 1;
  const cluster::WorldSummary& summary = *ran;
  if (!end_ms) {
    std::fprintf(stderr, "error: the test did not end in %s simulated\n", cluster::format_duration(spec.duration).c_str());
    return 1;
  }
  if (timed_out)
    std::printf("WARNING: Exiting before consuming the expected number of messages: timeout (%lld ms) exceeded. You "
                "can use the --timeout option to increase the timeout.\n",
                static_cast<long long>(options.timeout_ms));
  if (!options.show_detailed_stats) stats.print_total(*end_ms);
  std::printf("(rebalance.time.ms is 0: the group's join is not simulated; a new classic group's first JoinGroup "
              "waits group.initial.rebalance.delay.ms, 3,000 ms by default)\n");
  if (stats.without_size() > 0)
    std::printf("(%lld messages counted without their bytes: copies of a batch the producer's retry appended again, "
                "read after the first)\n",
                static_cast<long long>(stats.without_size()));
  std::printf("kafkasim, %.3f s simulated; over the test's %.3f s:\n", summary.simulated_seconds,
              summary.simulated_seconds - start_at.seconds_f());
  print_bottleneck(summary, spec);
  return 0;
}

}  // namespace kafkasim::cli
