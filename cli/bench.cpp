// `kafkasim bench scenario`: how fast the simulator runs a scenario, measured the same way every time.
//
// Runs the scenario `repeat` times in this process, one after the other, and reports for each run the events,
// the wall time and the CPU time of the process, and the simulated seconds per wall second and per CPU second
// ("x real time"). The best and the median run are summarised: on a shared machine the wall time of one run
// varies by tens of percent, and the best of a few is the steadiest figure. Peak memory is the process's
// maximum resident set (getrusage) after the first run, i.e. what one run needs; later runs raise it somewhat,
// as the allocator keeps memory freed by the runs before. Every run must execute the same events with
// the same trace hash (determinism); the command fails otherwise.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

namespace {

using WallClock = std::chrono::steady_clock;  // measures the simulator; never seen by the simulation

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct BenchRun {
  uint64_t events = 0;
  uint64_t trace_hash = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;
  double peak_rss_mib = 0;  // the process's so far
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int bench_scenario(const BenchScenarioOptions& options) {
  cluster::ScenarioExtras extras;
  const std::optional<cluster::WorldSpec> loaded = load_for_command(options.file, options.set, options.seed, extras);
  if (!loaded) return 2;
  const cluster::WorldSpec& spec = *loaded;
  const double simulated = spec.duration.seconds_f();

  std::string reproduce = "kafkasim bench scenario " + options.file + " --repeat " + std::to_string(options.repeat) +
                          " --seed " + std::to_string(spec.seed);
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  if (!options.json) {
    std::printf("kafkasim bench scenario %s: %s, seed %llu, %s simulated, %u run%s\n", options.file.c_str(),
                extras.name.c_str(), static_cast<unsigned long long>(spec.seed), sim::to_string(spec.duration).c_str(),
                options.repeat, options.repeat == 1 ? "" : "s");
    std::printf("reproduce: %s\n", reproduce.c_str());
    std::fflush(stdout);
  }

  std::vector<BenchRun> runs;
  for (uint32_t i = 0; i < options.repeat; ++i) {
    cluster::World world(spec);
    const double cpu_start = process_cpu_seconds();
    const auto wall_start = WallClock::now();
    cluster::WorldSummary s;
    try {
      s = world.run();
    } catch (const cluster::RunError& e) {
      std::fprintf(stderr, "error: %s: %s\n", options.file.c_str(), e.what());
      return 1;
    }
    BenchRun r;
    r.wall_seconds = std::chrono::duration<double>(WallClock::now() - wall_start).count();
    r.cpu_seconds = process_cpu_seconds() - cpu_start;
    r.events = s.events;
    r.trace_hash = world.engine().trace_hash();
    r.peak_rss_mib = peak_rss_mib();
    runs.push_back(r);
    if (!options.json) {
      std::printf("  run %-3u %12llu events  %8.2f s wall  %8.2f s CPU  %7.2fx real time  (%.2fx per CPU second)\n",
                  i + 1, static_cast<unsigned long long>(r.events), r.wall_seconds, r.cpu_seconds,
                  simulated / std::max(r.wall_seconds, 1e-9), simulated / std::max(r.cpu_seconds, 1e-9));
      std::fflush(stdout);
    }
  }

  std::vector<double> wall, cpu;
  bool same = true;
  for (const BenchRun& r : runs) {
    wall.push_back(r.wall_seconds);
    cpu.push_back(r.cpu_seconds);
    same = same && r.events == runs.front().events && r.trace_hash == runs.front().trace_hash;
  }
  const double best_wall = *std::min_element(wall.begin(), wall.end());
  const double best_cpu = *std::min_element(cpu.begin(), cpu.end());
  const double median_wall = median(wall);
  const double median_cpu = median(cpu);
  const double rss = runs.front().peak_rss_mib;
  const double rss_all = runs.back().peak_rss_mib;
  const double events_per_s = static_cast<double>(runs.front().events) / std::max(best_wall, 1e-9);

  if (options.json) {
    nlohmann::json out;
    out["scenario"] = options.file;
    out["name"] = extras.name;
    out["seed"] = spec.seed;
    out["simulated_seconds"] = simulated;
    out["reproduce"] = reproduce;
    out["runs"] = nlohmann::json::array();
    for (const BenchRun& r : runs) {
      out["runs"].push_back({{"events", r.events},
                             {"trace_hash", r.trace_hash},
                             {"wall_seconds", r.wall_seconds},
                             {"cpu_seconds", r.cpu_seconds},
                             {"peak_rss_mib_so_far", r.peak_rss_mib}});
    }
    out["best"] = {{"wall_seconds", best_wall},
                   {"cpu_seconds", best_cpu},
                   {"x_real_time", simulated / std::max(best_wall, 1e-9)},
                   {"x_real_time_per_cpu_second", simulated / std::max(best_cpu, 1e-9)},
                   {"events_per_second", events_per_s}};
    out["median"] = {{"wall_seconds", median_wall},
                     {"cpu_seconds", median_cpu},
                     {"x_real_time", simulated / std::max(median_wall, 1e-9)},
                     {"x_real_time_per_cpu_second", simulated / std::max(median_cpu, 1e-9)}};
    out["peak_rss_mib"] = rss;
    out["deterministic"] = same;
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("  best     %8.2f s wall  %8.2f s CPU  %7.2fx real time  %.2f M events/s\n", best_wall, best_cpu,
                simulated / std::max(best_wall, 1e-9), events_per_s / 1e6);
    std::printf("  median   %8.2f s wall  %8.2f s CPU  %7.2fx real time\n", median_wall, median_cpu,
                simulated / std::max(median_wall, 1e-9));
    std::printf("  peak RSS %8.1f MiB after the first run (%.1f MiB after all)\n", rss, rss_all);
    std::printf("  same events and trace hash in every run: %s (%016llx)\n", same ? "yes" : "NO",
                static_cast<unsigned long long>(runs.front().trace_hash));
  }
  return same ? 0 : 1;
}

}  // namespace kafkasim::cli
