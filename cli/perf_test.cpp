// `kafkasim producer-perf-test`: kafka-producer-perf-test.sh (tools/.../ProducerPerformance.java, Kafka 4.x) against the
// cluster of a scenario. The scenario's own clients are replaced by the tool's one producer; what it prints is the
// tool's output, computed as the tool computes it from the simulated callbacks.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

namespace {

// ProducerPerformance.Stats, fed with simulated times in whole milliseconds (the tool's System.currentTimeMillis
// on a clock that reads 0 when the test starts). Only acknowledged records are recorded (PerfCallback skips
// failures); the latency is the callback's millisecond minus the one read just before send() was called.
class PerfStats {
 public:
  PerfStats(uint64_t num_records, int64_t start_ms, bool steady_state)
      : start_ms_(start_ms), window_start_ms_(start_ms), steady_state_(steady_state) {
    // sampling = numRecords / min(numRecords, 500000): at most ~500,000 latencies are kept for the percentiles.
    sampling_ = num_records / std::min<uint64_t>(num_records, 500'000);
    latencies_.assign(num_records / sampling_ + 1, 0);
  }

  void suppress_printing() { suppress_ = true; }

  void record(int64_t latency_ms, uint64_t bytes, int64_t now_ms) {
    ++count_;
    bytes_ += bytes;
    total_latency_ += latency_ms;
    max_latency_ = std::max(max_latency_, latency_ms);
    ++window_count_;
    window_bytes_ += bytes;
    window_total_latency_ += latency_ms;
    window_max_latency_ = std::max(window_max_latency_, latency_ms);
    if (iteration_ % sampling_ == 0) latencies_[index_++] = latency_ms;
    if (now_ms - window_start_ms_ >= kReportingIntervalMs) {
      if (steady_state_ && count_ == window_count_) std::printf("In steady state.\n");
      if (!suppress_) print_window(now_ms);
      window_start_ms_ = now_ms;
      window_count_ = window_bytes_ = 0;
      window_total_latency_ = window_max_latency_ = 0;
    }
    ++iteration_;
  }

  void print_total(int64_t now_ms) {
    const int64_t elapsed = now_ms - start_ms_;
    const double per_s = 1000.0 * static_cast<double>(count_) / static_cast<double>(elapsed);
    const double mb_per_s = 1000.0 * static_cast<double>(bytes_) / static_cast<double>(elapsed) / (1024.0 * 1024.0);
    const size_t size = std::min<size_t>(index_, latencies_.size());
    std::sort(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(size));
    const auto percentile = [&](double p) {
      return size == 0 ? int64_t{0} : latencies_[static_cast<size_t>(p * static_cast<double>(size))];
    };
    std::printf("%llu%s records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %lld ms 50th, "
                "%lld ms 95th, %lld ms 99th, %lld ms 99.9th.\n",
                static_cast<unsigned long long>(count_), steady_state_ ? " steady state" : "", per_s, mb_per_s,
                static_cast<double>(total_latency_) / static_cast<double>(count_), static_cast<double>(max_latency_),
                static_cast<long long>(percentile(0.5)), static_cast<long long>(percentile(0.95)),
                static_cast<long long>(percentile(0.99)), static_cast<long long>(percentile(0.999)));
  }

  uint64_t count() const { return count_; }

 private:
  static constexpr int64_t kReportingIntervalMs = 5000;

  void print_window(int64_t now_ms) const {
    const int64_t elapsed = now_ms - window_start_ms_;
    std::printf("%llu records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
                static_cast<unsigned long long>(window_count_),
                1000.0 * static_cast<double>(window_count_) / static_cast<double>(elapsed),
                1000.0 * static_cast<double>(window_bytes_) / static_cast<double>(elapsed) / (1024.0 * 1024.0),
                static_cast<double>(window_total_latency_) / static_cast<double>(window_count_),
                static_cast<double>(window_max_latency_));
  }

  int64_t start_ms_;
  int64_t window_start_ms_;
  bool steady_state_;
  bool suppress_ = false;
  uint64_t sampling_ = 1;
  std::vector<int64_t> latencies_;
  size_t index_ = 0;
  uint64_t iteration_ = 0;
  uint64_t count_ = 0, bytes_ = 0;
  int64_t total_latency_ = 0, max_latency_ = 0;
  uint64_t window_count_ = 0, window_bytes_ = 0;
  int64_t window_total_latency_ = 0, window_max_latency_ = 0;
};

int64_t millis(sim::SimTime t) { return t.ns() / 1'000'000; }

std::string throughput_text(double throughput) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", throughput);
  return text;
}

}  // namespace

std::string with_argument_names(const std::string& text,
                                const std::vector<std::pair<std::string, std::string>>& names) {
  std::string out;
  size_t from = 0;
  while (from < text.size()) {
    size_t best = std::string::npos;
    const std::pair<std::string, std::string>* which = nullptr;
    for (const auto& n : names) {
      const size_t at = text.find(n.first, from);
      if (at < best) {
        best = at;
        which = &n;
      }
    }
    if (which == nullptr) {
      out.append(text, from, std::string::npos);
      break;
    }
    out.append(text, from, best - from);
    out += which->second;
    from = best + which->first.size();
  }
  return out;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 2;
}

KeptFaults faults_without(const std::string& file, const std::vector<std::string>& set,
                          const std::function<bool(const std::string& host)>& drop) {
  KeptFaults out;
  std::ifstream in(file);
  nlohmann::json doc;
  try {
    if (in) doc = nlohmann::json::parse(in);
    for (const std::string& s : set) cluster::apply_set_override(doc, s, file);
  } catch (const std::exception&) {
    return out;  // the loader reports it
  }
  if (!doc.is_object() || !doc.contains("faults") || !doc["faults"].is_array()) return out;
  for (const auto& f : doc["faults"]) {
    const bool on_dropped = f.is_object() && f.contains("host") && f["host"].is_string() &&
                            drop(f["host"].get<std::string>());
    if (on_dropped) ++out.dropped;
    else out.faults.push_back(f);
  }
  return out;
}

int producer_perf_test(const PerfTestOptions& options) {
  // The tool's own checks (ConfigPostProcessor), with its messages.
  if (options.num_records <= 0) {
    std::fprintf(stderr, "error: --num-records should be greater than zero\n");
    return 2;
  }
  if (options.record_size <= 0) {
    std::fprintf(stderr, "error: --record-size should be greater than zero\n");
    return 2;
  }
  if (options.warmup_records < 0 || options.warmup_records >= options.num_records) {
    std::fprintf(stderr, "error: The value for --warmup-records must be strictly fewer than the number of records in "
                         "the test, --num-records.\n");
    return 2;
  }
  if (options.throughput == 0 || (options.throughput < 0 && options.throughput != -1)) {
    std::fprintf(stderr, "error: --throughput: expected records a second above 0, or -1 for no throttling (got %g)\n",
                 options.throughput);
    return 2;
  }
  // The producer's configs: --producer.config's file, then --producer-props over it (readProps), then the client.id
  // the tool sets when none is given.
  nlohmann::json config = nlohmann::json::object();
  if (!options.producer_config.empty()) {
    std::ifstream in(options.producer_config);
    if (!in) {
      std::fprintf(stderr, "error: --producer.config %s: cannot read the file\n", options.producer_config.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
      config = cluster::parse_properties(text.str(), options.producer_config);
    } catch (const cluster::ConfigError& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 2;
    }
  }
  for (const std::string& prop : options.producer_props) {
    const size_t eq = prop.find('=');
    // readProps splits on "=" and wants exactly two pieces.
    if (eq == std::string::npos || eq == 0 || prop.find('=', eq + 1) != std::string::npos) {
      std::fprintf(stderr, "error: --producer-props: Invalid property: %s (expected NAME=VALUE)\n", prop.c_str());
      return 2;
    }
    config[prop.substr(0, eq)] = prop.substr(eq + 1);
  }
  if (!config.contains("client.id")) config["client.id"] = "perf-producer-client";
  // The cluster is the scenario's: the tool's required bootstrap.servers names nothing here.
  config.erase("bootstrap.servers");

  // The scenario, its clients replaced by the tool's producer: the faults and operations on brokers stay; those on
  // clients go, since the clients they name are not there.
  const KeptFaults kept = faults_without(options.file, options.set, [](const std::string& host) {
    return host.rfind("client-", 0) == 0;
  });
  const nlohmann::json& faults = kept.faults;
  const size_t faults_dropped = kept.dropped;
  nlohmann::json producer = {{"topic", options.topic},
                             {"count", 1},
                             {"workload",
                              {{"rate", options.throughput > 0 ? options.throughput : 1e9},
                               {"arrival", "unthrottled"},
                               {"record_size", options.record_size}}},
                             {"config", config}};
  std::vector<std::string> set = options.set;
  set.push_back("/producers=" + nlohmann::json::array({producer}).dump());
  set.push_back("/consumers=[]");
  set.push_back("/faults=" + faults.dump());
  // Long enough for any test to end: the run stops when every record's callback has run.
  set.push_back("/duration=\"1000000s\"");
  set.push_back("/warmup=\"1ms\"");
  // The loader checks the producer as any scenario's; what it says of /producers/0 is about the tool's arguments.
  const auto ours = [](const std::string& text) {
    static const std::vector<std::pair<std::string, std::string>> names = {
        {"at /producers/0/config/", "in the producer configs (--producer-props, --producer.config), "},
        {"at /producers/0/config", "in the producer configs (--producer-props, --producer.config)"},
        {"at /producers/0/topic", "in --topic"},
        {"at /producers/0", "in the tool's producer"}};
    return with_argument_names(text, names);
  };
  cluster::ScenarioExtras extras;
  cluster::WorldSpec spec;
  try {
    spec = cluster::load_scenario(options.file, set, &extras);
  } catch (const cluster::ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", ours(e.what()).c_str());
    return 2;
  }
  if (options.seed) spec.seed = *options.seed;
  for (const auto& w : extras.warnings) std::fprintf(stderr, "warning: %s\n", ours(w).c_str());
  spec.producers.at(0).max_records = static_cast<uint64_t>(options.num_records);

  std::printf("kafkasim producer-perf-test %s: %s, seed %llu; the scenario's producers, consumers%s replaced by the "
              "tool's producer\n",
              options.file.c_str(), extras.name.c_str(), static_cast<unsigned long long>(spec.seed),
              faults_dropped > 0 ? " and client faults" : "");
  std::string reproduce = "reproduce: kafkasim producer-perf-test " + options.file + " --seed " + std::to_string(spec.seed) +
                          " --topic " + options.topic + " --num-records " + std::to_string(options.num_records) +
                          " --record-size " + std::to_string(options.record_size) + " --throughput " +
                          throughput_text(options.throughput);
  if (options.warmup_records > 0) reproduce += " --warmup-records " + std::to_string(options.warmup_records);
  if (!options.producer_config.empty()) reproduce += " --producer.config " + options.producer_config;
  if (!options.producer_props.empty()) {
    reproduce += " --producer-props";
    for (const auto& p : options.producer_props) reproduce += " " + p;
  }
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  std::printf("%s\n", reproduce.c_str());
  if (options.warmup_records > 0)
    std::printf("Warmup first %lld records. Steady state results will print after the complete test summary.\n",
                static_cast<long long>(options.warmup_records));
  std::fflush(stdout);

  cluster::World world(spec);
  const auto num_records = static_cast<uint64_t>(options.num_records);
  const auto warmup_records = static_cast<uint64_t>(options.warmup_records);
  PerfStats stats(num_records, 0, false);
  // The steady state (--warmup-records W): a second Stats, started when record W+1 (the tool's i == W) was sent, for
  // the records sent from then on. Their callbacks may come before that record's own, which tells its send time:
  // they wait until then, in order.
  std::optional<PerfStats> steady;
  struct Pending {
    int64_t latency_ms;
    uint64_t bytes;
    int64_t now_ms;
  };
  std::vector<Pending> before_steady;
  uint64_t completed = 0;
  sim::SimTime last = sim::SimTime::zero();
  world.set_record_observer([&](uint64_t number, sim::SimTime sent, sim::SimTime done, bool acked, uint64_t bytes) {
    ++completed;
    last = done;
    const int64_t latency = millis(done) - millis(sent);
    if (acked) stats.record(latency, bytes, millis(done));
    if (warmup_records > 0 && number == warmup_records + 1) {
      steady.emplace(num_records - warmup_records, millis(sent), true);
      stats.suppress_printing();
      for (const Pending& p : before_steady) steady->record(p.latency_ms, p.bytes, p.now_ms);
      before_steady.clear();
    }
    if (warmup_records > 0 && number > warmup_records && acked) {
      if (steady) steady->record(latency, bytes, millis(done));
      else before_steady.push_back({latency, bytes, millis(done)});
    }
    if (completed == num_records) world.engine().stop();
  });
  const bool tty = isatty(STDERR_FILENO) != 0 && !options.quiet;
  if (tty) {
    world.set_progress_hook([&](sim::SimTime now) {
      std::fprintf(stderr, "\r  simulated %7.1f s, %llu of %llu records done ", now.seconds_f(),
                   static_cast<unsigned long long>(completed), static_cast<unsigned long long>(num_records));
    });
  }
  const std::optional<cluster::WorldSummary> ran = run_world(world, options.file, tty);
  if (!ran) return 1;
  const cluster::WorldSummary& summary = *ran;
  if (completed < num_records) {
    std::fprintf(stderr, "error: only %llu of %llu records completed in %s simulated\n",
                 static_cast<unsigned long long>(completed), static_cast<unsigned long long>(num_records),
                 cluster::format_duration(spec.duration).c_str());
    return 1;
  }
  // producer.close() returns once the last callback ran; printTotal reads the clock then.
  stats.print_total(millis(last));
  if (steady) steady->print_total(millis(last));
  if (stats.count() < num_records)
    std::printf("(%llu records failed: their callbacks had an exception, which the tool prints and does not count)\n",
                static_cast<unsigned long long>(num_records - stats.count()));
  // What held the test back, as `kafkasim run` names it (utilisation over the simulated test).
  std::printf("kafkasim, %.3f s simulated:\n", summary.simulated_seconds);
  print_bottleneck(summary, spec);
  return 0;
}

}  // namespace kafkasim::cli
