// `kafkasim describe`: runs a scenario to a simulated instant and prints the cluster as Kafka's tools would
// (the formatting lives in cluster/describe.cpp).
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <variant>

#include "cli/commands.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/describe.hpp"
#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

int describe_scenario(const DescribeOptions& options) {
  cluster::ScenarioExtras extras;
  const std::optional<cluster::WorldSpec> loaded = load_for_command(options.file, options.set, options.seed, extras);
  if (!loaded) return 2;
  cluster::WorldSpec spec = *loaded;

  // The instant needs a unit, as durations in scenarios do, and must lie within the run.
  const auto parsed = cluster::parse_duration(options.at, 0);
  const bool has_unit = !options.at.empty() && std::isalpha(static_cast<unsigned char>(options.at.back()));
  if (!has_unit || !std::holds_alternative<sim::Duration>(parsed) || std::get<sim::Duration>(parsed) > spec.duration) {
    std::fprintf(stderr, "error: --at \"%s\": expected a simulated time with a unit within the run, 0s to %s (e.g. --at 10s)\n",
                 options.at.c_str(), cluster::format_duration(spec.duration).c_str());
    return 2;
  }
  const sim::Duration at = std::get<sim::Duration>(parsed);

  std::printf("kafkasim describe %s: %s, seed %llu, at %s simulated\n", options.file.c_str(), extras.name.c_str(),
              static_cast<unsigned long long>(spec.seed), cluster::format_duration(at).c_str());
  std::string reproduce = "reproduce: kafkasim describe " + options.file + " --at " + cluster::format_duration(at) +
                          " --seed " + std::to_string(spec.seed);
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  std::printf("%s\n", reproduce.c_str());

  cluster::World world(spec);
  if (isatty(STDERR_FILENO) != 0) {
    world.set_progress_hook([&](sim::SimTime now) {
      std::fprintf(stderr, "\r  simulated %7.1f / %.1f s ", now.seconds_f(), at.seconds_f());
    });
  }
  // The same events a full run executes up to `at` (run_until includes events at exactly `at`).
  world.engine().run_until(sim::SimTime::zero() + at);
  if (isatty(STDERR_FILENO) != 0) std::fprintf(stderr, "\r%60s\r", "");
  if (world.run_error()) {
    std::fprintf(stderr, "error: %s: %s\n", options.file.c_str(), world.run_error()->c_str());
    return 1;
  }

  std::printf("\n$ kafka-topics.sh --bootstrap-server broker-0:9092 --describe\n%s",
              cluster::describe_topics(world).c_str());
  for (const bool earliest : {true, false})
    std::printf("\n$ kafka-get-offsets.sh --bootstrap-server broker-0:9092 --exclude-internal-topics --time %s\n%s",
                earliest ? "earliest" : "latest", cluster::describe_offsets(world, earliest).c_str());
  if (!spec.consumers.empty()) {
    std::printf("\n$ kafka-consumer-groups.sh --bootstrap-server broker-0:9092 --describe --all-groups\n%s",
                cluster::describe_consumer_groups(world, extras.consumer_groups).c_str());
  }
  std::printf("\n$ kafka-configs.sh --bootstrap-server broker-0:9092 --describe --entity-type brokers\n%s",
              cluster::describe_broker_configs(world).c_str());
  std::printf("\n$ kafka-log-dirs.sh --bootstrap-server broker-0:9092 --describe\n%s",
              cluster::describe_log_dirs(world).c_str());
  return 0;
}

}  // namespace kafkasim::cli
