// `kafkasim e2e-latency`: kafka-e2e-latency.sh (tools/.../EndToEndLatency.java, Kafka 4.0's positional form)
// against the cluster of a scenario. The tool's loop, one record at a time: send() and wait for the acknowledgement
// (get()), then poll() until the record is read, and only then the next record. The scenario's own clients are
// replaced by the tool's producer and consumer, driven step by step (ProducerSpec::driven, ConsumerSpec::driven).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

namespace {

// Java's Double.toString for the tool's progress column (elapsed / 1000.0 / 1000.0): the shortest decimal that reads
// back as the same double, with ".0" when it is whole (values between 1e-3 and 1e7 print without an exponent).
std::string java_double(double v) {
  char text[64];
  const auto r = std::to_chars(text, text + sizeof text, v, std::chars_format::fixed);
  std::string out(text, r.ptr);
  if (out.find('.') == std::string::npos) out += ".0";
  return out;
}

// Whether `name` is a config of the client `table` lists, or of a family it ignores as a whole ("ssl.", "sasl.").
template <typename Table>
bool known_config(const Table& table, std::span<const std::string_view> prefixes, const std::string& name) {
  for (const auto& e : table)
    if (e.spec.name == name) return true;
  for (std::string_view p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

int e2e_latency(const E2eLatencyOptions& options) {
  // The tool's own checks, with its messages.
  if (options.acks != "1" && options.acks != "all")
    return input_error("Latency testing requires synchronous acknowledgement. Please use 1 or all");
  if (options.num_messages <= 0) return input_error("num_messages: expected a number of messages above 0");
  if (options.message_size_bytes <= 0) return input_error("message_size_bytes: expected a size above 0 bytes");

  // The properties file goes to both clients (loadPropsWithBootstrapServers); each takes the configs it knows, as
  // the Java clients warn about and ignore the others. A name neither knows is an error here, with the producer
  // loader's suggestion.
  nlohmann::json producer_config = nlohmann::json::object();
  nlohmann::json consumer_config = nlohmann::json::object();
  if (!options.properties_file.empty()) {
    nlohmann::json props;
    try {
      props = cluster::read_properties_file(options.properties_file);
    } catch (const cluster::ConfigError& e) {
      return input_error(e.what());
    }
    for (const auto& [name, value] : props.items()) {
      const bool producer = known_config(cluster::producer_config_table(), cluster::producer_ignored_prefixes(), name);
      const bool consumer = known_config(cluster::consumer_config_table(), cluster::consumer_ignored_prefixes(), name);
      if (producer || !consumer) producer_config[name] = value;
      if (consumer) consumer_config[name] = value;
    }
  }
  // What the tool sets over the file (createKafkaProducer, createKafkaConsumer); the serializers, the group id and
  // bootstrap.servers are nothing to the simulation.
  producer_config["linger.ms"] = "0";
  producer_config["acks"] = options.acks;
  consumer_config["enable.auto.commit"] = "false";
  consumer_config["auto.offset.reset"] = "latest";
  consumer_config["fetch.max.wait.ms"] = "0";
  for (const char* name : {"bootstrap.servers", "key.serializer", "value.serializer", "max.block.ms"})
    producer_config.erase(name);
  for (const char* name : {"bootstrap.servers", "group.id", "key.deserializer", "value.deserializer"})
    consumer_config.erase(name);

  // The scenario as given, for its topics and seed.
  cluster::ScenarioExtras first_extras;
  cluster::WorldSpec original;
  try {
    original = cluster::load_scenario(options.file, options.set, &first_extras);
  } catch (const cluster::ConfigError& e) {
    return input_error(e.what());
  }
  const bool topic_exists = std::any_of(original.topics.begin(), original.topics.end(),
                                        [&](const auto& t) { return t.name == options.topic; });
  std::vector<std::string> set = options.set;
  if (!topic_exists) {
    // The tool creates a missing topic with one partition and replication factor 1 (the broker's topic defaults
    // otherwise); here it exists from the start.
    std::printf("Topic \"%s\" does not exist. Will create topic with %d partition(s) and replication factor = %d\n",
                options.topic.c_str(), 1, 1);
    set.push_back("/topics/" + std::to_string(original.topics.size()) + "=" +
                  nlohmann::json({{"name", options.topic}, {"partitions", 1}, {"replication.factor", 1}}).dump());
  }
  const KeptFaults kept = faults_without(options.file, options.set, [](const std::string& host) {
    return host.rfind("client-", 0) == 0;
  });
  const nlohmann::json producer = {{"topic", options.topic},
                                   {"count", 1},
                                   {"workload",
                                    {{"closed_loop", {{"threads", 1}}}, {"record_size", options.message_size_bytes}}},
                                   {"config", producer_config}};
  // The tool's consumer has a group id but uses assign() and seekToEnd(), so it never needs the group's coordinator
  // (no committed offsets are asked for, none committed): loaded without the group, which is set below.
  const nlohmann::json consumer = {{"topic", options.topic}, {"count", 1}, {"config", consumer_config}};
  set.push_back("/producers=" + nlohmann::json::array({producer}).dump());
  set.push_back("/consumers=" + nlohmann::json::array({consumer}).dump());
  set.push_back("/faults=" + kept.faults.dump());
  set.push_back("/duration=\"1000000s\"");
  set.push_back("/warmup=\"1ms\"");
  cluster::ScenarioExtras extras;
  cluster::WorldSpec spec;
  try {
    spec = cluster::load_scenario(options.file, set, &extras);
  } catch (const cluster::ConfigError& e) {
    static const std::vector<std::pair<std::string, std::string>> names = {
        {"at /producers/0/config/", "in the producer configs (the properties file), "},
        {"at /consumers/0/config/", "in the consumer configs (the properties file), "},
        {"at /producers/0/config", "in the producer configs (the properties file)"},
        {"at /consumers/0/config", "in the consumer configs (the properties file)"},
        {"at /producers/0/workload/record_size", "in message_size_bytes"}};
    return input_error(with_argument_names(e.what(), names));
  }
  if (options.seed) spec.seed = *options.seed;
  spec.producers.at(0).driven = true;
  spec.consumers.at(0).driven = true;
  // The group id is "test-group-" and the wall clock's milliseconds: here the simulated clock's, zero.
  spec.consumers.at(0).group = "test-group-0";
  spec.consumers.at(0).seek_to_end = true;
  for (const auto& w : extras.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

  std::string reproduce = "reproduce: kafkasim e2e-latency " + options.file + " " + options.topic + " " +
                          std::to_string(options.num_messages) + " " + options.acks + " " +
                          std::to_string(options.message_size_bytes);
  if (!options.properties_file.empty()) reproduce += " " + options.properties_file;
  reproduce += " --seed " + std::to_string(spec.seed);
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  std::printf("kafkasim e2e-latency %s: %s, seed %llu; the scenario's clients%s replaced by the tool's\n%s\n",
               options.file.c_str(), extras.name.c_str(), static_cast<unsigned long long>(spec.seed),
               kept.dropped > 0 ? " and their faults" : "", reproduce.c_str());

  cluster::World world(spec);
  sim::Engine& engine = world.engine();
  const auto n = static_cast<size_t>(options.num_messages);
  std::vector<int64_t> latencies_ms(n, 0);
  std::vector<int64_t> acks_ns, rounds_ns;
  acks_ns.reserve(n);
  rounds_ns.reserve(n);
  double total_ns = 0;
  // The loop's state: record i was sent at `sent`; it is done when it is both acknowledged and read.
  size_t i = 0;
  sim::SimTime sent;
  std::optional<sim::SimTime> acked, polled;
  std::optional<std::string> failure;
  constexpr int64_t kPollTimeoutMs = 60'000;  // POLL_TIMEOUT_MS
  const auto fail = [&](std::string message) {
    failure = std::move(message);
    engine.stop();
  };
  std::function<void()> send_next = [&] {
    sent = engine.now();
    acked.reset();
    polled.reset();
    world.drive_send(0);
  };
  const auto complete = [&](sim::SimTime done) {
    const int64_t elapsed = (done - sent).ns();
    if (i % 1000 == 0)
      std::printf("%zu\t%s\n", i, java_double(static_cast<double>(elapsed) / 1000.0 / 1000.0).c_str());
    total_ns += static_cast<double>(elapsed);
    latencies_ms[i] = elapsed / 1000 / 1000;
    rounds_ns.push_back(elapsed);
    if (++i == n) return engine.stop();
    send_next();
  };
  world.set_record_observer([&](uint64_t, sim::SimTime, sim::SimTime done, bool ok, uint64_t) {
    if (failure) return;
    if (!ok) return fail("send().get() failed: the record's callback had an exception (its delivery failed)");
    acked = done;
    acks_ns.push_back((done - sent).ns());
    if (polled) return complete(done);
    // The application returns from get() and calls poll() (an event of its own: not inside the producer's handling).
    engine.schedule_after(sim::Duration::zero(), [&] { world.drive_poll(0); });
    // poll(60 s) gives up without the record.
    const int64_t waiting_for = static_cast<int64_t>(i);
    engine.schedule_after(sim::Duration::from_ms(kPollTimeoutMs), [&, waiting_for] {
      if (!failure && static_cast<int64_t>(i) == waiting_for && !polled)
        fail("poll() timed out before finding a result (timeout:[" + std::to_string(kPollTimeoutMs) + "])");
    });
  });
  world.set_poll_observer([&](size_t, sim::SimTime now, const cluster::World::PollResult& poll) {
    if (failure || i >= n) return;
    if (poll.records != 1)
      return fail("Only one result was expected during this test. We found [" + std::to_string(poll.records) + "]");
    polled = now;
    if (acked) complete(now);
  });
  // setupConsumer: assign() and seekToEnd(), then position() of every partition, before the loop starts.
  std::function<void()> wait_positioned = [&] {
    if (world.consumer_positioned(0)) return send_next();
    world.drive_positions(0);  // position() goes on asking for a partition whose lookup failed
    engine.schedule_after(sim::Duration::from_ms(1), [&] { wait_positioned(); });
  };
  engine.schedule_at(sim::SimTime::zero(), [&] { wait_positioned(); });
  const bool tty = isatty(STDERR_FILENO) != 0 && !options.quiet;
  if (tty) {
    world.set_progress_hook([&](sim::SimTime now) {
      std::fprintf(stderr, "\r  simulated %7.1f s, %zu of %zu records ", now.seconds_f(), i, n);
    });
  }
  const std::optional<cluster::WorldSummary> ran = run_world(world, options.file, tty);
  if (!ran) return 1;
  if (failure) {
    std::fprintf(stderr, "%s\n", failure->c_str());
    return 1;
  }
  if (i < n) {
    std::fprintf(stderr, "error: only %zu of %zu records went round in %s simulated\n", i, n,
                 cluster::format_duration(spec.duration).c_str());
    return 1;
  }
  // printResults.
  std::printf("Avg latency: %.4f ms\n", total_ns / static_cast<double>(n) / 1000.0 / 1000.0);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto at = [&](double q) { return latencies_ms[static_cast<size_t>(static_cast<double>(n) * q)]; };
  std::printf("Percentiles: 50th = %lld, 99th = %lld, 99.9th = %lld\n", static_cast<long long>(at(0.5)),
              static_cast<long long>(at(0.99)), static_cast<long long>(at(0.999)));
  // kafkasim's own line: the rounds to the microsecond (the tool's percentiles are whole milliseconds, rounded
  // down), and how much of each was the acknowledgement (send().get()); the rest is the poll.
  std::sort(rounds_ns.begin(), rounds_ns.end());
  std::sort(acks_ns.begin(), acks_ns.end());
  const auto ms_at = [](const std::vector<int64_t>& sorted, double q) {
    return static_cast<double>(
               sorted[std::min(sorted.size() - 1, static_cast<size_t>(static_cast<double>(sorted.size()) * q))]) /
           1e6;
  };
  std::printf("kafkasim, %.3f s simulated: rounds p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms; of which "
              "send().get() (acks=%s) p50 %.3f ms, p99 %.3f ms\n",
              ran->simulated_seconds, ms_at(rounds_ns, 0.5), ms_at(rounds_ns, 0.99), ms_at(rounds_ns, 0.999),
              ms_at(rounds_ns, 1.0), options.acks.c_str(), ms_at(acks_ns, 0.5), ms_at(acks_ns, 0.99));
  return 0;
}

}  // namespace kafkasim::cli
