// `kafkasim e2e-latency`: kafka-e2e-latency.sh against a scenario's cluster. Expectations from the tool's loop (one
// record at a time: send().get(), then poll() until it is read; a progress line every 1,000 records; integer-ms
// percentiles) and from the network's one-way latencies (the quickstart's 10 GbE links: 50 us each, two links each
// way between a client and a broker), not from earlier runs.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_support.hpp"

using namespace kafkasim::test;
namespace fs = std::filesystem;

namespace {

struct Result {
  std::vector<std::pair<long long, double>> progress;  // record number, its round in ms
  double avg_ms = -1;
  long long p50 = -1, p99 = -1, p999 = -1;
  double ack_p50_ms = -1;
  double round_p50_ms = -1, round_p999_ms = -1;  // kafkasim's line, to the microsecond
};

Result parse(const std::string& text) {
  const std::regex progress(R"(^(\d+)\t([\d.]+)$)");
  const std::regex avg(R"(^Avg latency: ([\d.]+) ms$)");
  const std::regex percentiles(R"(^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)$)");
  const std::regex rounds(R"(rounds p50 ([\d.]+) ms, p99 [\d.]+ ms, p99\.9 ([\d.]+) ms)");
  const std::regex ack(R"(send\(\)\.get\(\) \(acks=\w+\) p50 ([\d.]+) ms)");
  Result r;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, progress)) r.progress.emplace_back(std::stoll(m[1]), std::stod(m[2]));
    else if (std::regex_match(line, m, avg)) r.avg_ms = std::stod(m[1]);
    else if (std::regex_match(line, m, percentiles)) {
      r.p50 = std::stoll(m[1]);
      r.p99 = std::stoll(m[2]);
      r.p999 = std::stoll(m[3]);
    } else if (std::regex_search(line, m, ack)) {
      r.ack_p50_ms = std::stod(m[1]);
      if (std::regex_search(line, m, rounds)) {
        r.round_p50_ms = std::stod(m[1]);
        r.round_p999_ms = std::stod(m[2]);
      }
    }
  }
  return r;
}

Result e2e(const fs::path& dir, const std::string& args,
           const std::string& scenario = "scenarios/quickstart.json") {
  const std::string text = run_kafkasim_ok("e2e-latency " + scenario + " --quiet " + args, dir / "e2e.log");
  INFO(text);
  const Result r = parse(text);
  REQUIRE(r.avg_ms >= 0);
  REQUIRE(r.p50 >= 0);
  REQUIRE(r.ack_p50_ms >= 0);
  return r;
}

constexpr double kRoundTripMs = 4 * 0.050;  // client -> switch -> broker and back, 50 us a link

// slow_network on every broker from the start: `extra` on each direction of its link.
std::string slow_brokers(const std::string& extra) {
  std::string faults = "[";
  for (int b = 0; b < 3; ++b)
    faults += std::string(b > 0 ? ", " : "") + R"({"type": "slow_network", "host": "broker-)" + std::to_string(b) +
              R"(", "at": "0s", "extra_latency": ")" + extra + R"("})";
  return set_json("/faults", faults + "]");
}

}  // namespace

TEST_CASE("e2e-latency: each round is the acknowledgement and then one fetch round trip (acks=all)") {
  const fs::path dir = fresh_dir("e2e-latency");
  const Result r = e2e(dir, "events 3000 all 512");
  // A progress line for records 0, 1000 and 2000.
  REQUIRE(r.progress.size() == 3);
  CHECK(r.progress[0].first == 0);
  CHECK(r.progress[1].first == 1000);
  CHECK(r.progress[2].first == 2000);
  // The first round also waits for the idempotent producer's InitProducerId, a round trip to a broker before the
  // record can go: at least a round trip longer than a later one. (The consumer, positioned before the loop, polls
  // only after the acknowledgement, as every later round.)
  CHECK(r.progress[0].second >= r.progress[1].second + kRoundTripMs);
  // acks=all answers once both followers fetched the record and fetched again: the produce round trip and a
  // follower's fetch round trip at least.
  CHECK(r.ack_p50_ms >= 2 * kRoundTripMs);
  // The record is below the high watermark when the acknowledgement leaves the leader, so the poll after get() reads
  // it with one fetch: at least a round trip, and less than two.
  CHECK(r.avg_ms - r.ack_p50_ms >= kRoundTripMs);
  CHECK(r.avg_ms - r.ack_p50_ms < 2 * kRoundTripMs);
  // Rounds under a millisecond: the tool's whole-millisecond percentiles are all 0.
  CHECK(r.avg_ms < 1);
  CHECK(r.p50 == 0);
  CHECK(r.p999 == 0);
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: extra latency on the brokers' links adds to each round what the paths cross") {
  const fs::path dir = fresh_dir("e2e-latency-slow");
  const Result base = e2e(dir, "events 2000 all 512");
  const Result slow = e2e(dir, "events 2000 all 512" + slow_brokers("1ms"));
  // 1 ms on each direction of every broker's link: the produce round trip crosses the leader's link twice (+2 ms),
  // the follower's fetch round trip crosses two brokers' links each way (+4 ms), the consumer's fetch round trip the
  // leader's twice (+2 ms). So the acknowledgement takes 6 ms more and the round 8 ms more.
  CHECK(slow.ack_p50_ms - base.ack_p50_ms == doctest::Approx(6.0).scale(0).epsilon(0.01));
  CHECK(slow.avg_ms - base.avg_ms == doctest::Approx(8.0).scale(0).epsilon(0.01));
  // Whole-millisecond percentiles of nearly equal rounds: the floor of the average, and the tool's percentiles are
  // kafkasim's microsecond ones rounded down.
  CHECK(slow.p50 == static_cast<long long>(std::floor(slow.avg_ms)));
  CHECK(slow.p50 == static_cast<long long>(std::floor(slow.round_p50_ms)));
  CHECK(slow.p999 == static_cast<long long>(std::floor(slow.round_p999_ms)));
  CHECK(slow.p50 <= slow.p99);
  CHECK(slow.p99 <= slow.p999);
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: acks=1 is acknowledged without the followers, and the poll waits for the high watermark") {
  const fs::path dir = fresh_dir("e2e-latency-acks1");
  const Result all = e2e(dir, "events 2000 all 512");
  const Result one = e2e(dir, "events 2000 1 512");
  // acks=1: the leader answers after its own append; acks=all waits a follower fetch round trip more.
  CHECK(one.ack_p50_ms >= kRoundTripMs);
  CHECK(all.ack_p50_ms - one.ack_p50_ms >= kRoundTripMs);
  // A consumer reads only below the high watermark. With acks=all it is past the record when the acknowledgement
  // leaves; with acks=1 it moves only after the followers' next fetches, so the poll after get() takes longer.
  CHECK(one.avg_ms >= one.ack_p50_ms + kRoundTripMs);
  CHECK(one.avg_ms - one.ack_p50_ms > all.avg_ms - all.ack_p50_ms);
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: a missing topic is created with one partition and replication factor 1, as the tool does") {
  const fs::path dir = fresh_dir("e2e-latency-create");
  const std::string text =
      run_kafkasim_ok("e2e-latency scenarios/quickstart.json --quiet latency-probe 1000 1 100", dir / "e2e.log");
  INFO(text);
  CHECK(text.find("Topic \"latency-probe\" does not exist. Will create topic with 1 partition(s) and replication "
                  "factor = 1\n") != std::string::npos);
  const Result r = parse(text);
  // One replica: the high watermark moves with the leader's append, so the poll after get() needs one fetch round
  // trip and no follower's.
  CHECK(r.avg_ms - r.ack_p50_ms >= kRoundTripMs);
  CHECK(r.avg_ms - r.ack_p50_ms < 2 * kRoundTripMs);
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: a single broker with Kafka's default offsets.topic.replication.factor runs as it is") {
  // The tool's consumer uses assign() and seekToEnd() and never commits, so it never looks for its group's
  // coordinator and Kafka never creates __consumer_offsets: the scenario's one broker and the default replication
  // factor of 3 for that topic do not matter. far-producer.json: one broker, the clients 5 ms away (one way), 50 us
  // on the broker's link.
  const fs::path dir = fresh_dir("e2e-latency-one-broker");
  const Result r = e2e(dir, "events 1000 all 512", "scenarios/far-producer.json");
  const double round_trip_ms = 2 * (5.0 + 0.050);
  // One replica: the acknowledgement is one produce round trip, the poll after it one fetch round trip.
  CHECK(r.ack_p50_ms >= round_trip_ms);
  CHECK(r.ack_p50_ms < 2 * round_trip_ms);
  CHECK(r.round_p50_ms - r.ack_p50_ms >= round_trip_ms);
  CHECK(r.round_p50_ms - r.ack_p50_ms < 2 * round_trip_ms);
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: the properties file reaches both clients; bad arguments exit with the tool's message") {
  const fs::path dir = fresh_dir("e2e-latency-errors");
  std::ofstream(dir / "client.properties") << "client.id=probe\nfetch.min.bytes=1\nbatch.size=16384\n";
  run_kafkasim_ok("e2e-latency scenarios/quickstart.json --quiet events 100 all 100 " +
                      (dir / "client.properties").string(),
                  dir / "ok.log");
  const auto fails_with = [&](const std::string& args, const std::string& message) {
    CHECK(run_kafkasim("e2e-latency scenarios/quickstart.json --quiet " + args, dir / "e.log") == 2);
    const std::string text = slurp(dir / "e.log");
    CHECK_MESSAGE(text.find(message) != std::string::npos, text);
  };
  fails_with("events 100 0 100", "Latency testing requires synchronous acknowledgement. Please use 1 or all");
  fails_with("events 0 all 100", "num_messages");
  fails_with("events 100 all 0", "message_size_bytes");
  std::ofstream(dir / "typo.properties") << "lingr.ms=3\n";
  fails_with("events 100 all 100 " + (dir / "typo.properties").string(), "did you mean \"linger.ms\"?");
  fs::remove_all(dir);
}

TEST_CASE("e2e-latency: the same command twice prints the same") {
  const fs::path dir = fresh_dir("e2e-latency-twice");
  const std::string a = run_kafkasim_ok("e2e-latency scenarios/quickstart.json --quiet events 1500 all 300", dir / "a");
  const std::string b = run_kafkasim_ok("e2e-latency scenarios/quickstart.json --quiet events 1500 all 300", dir / "b");
  CHECK(a == b);
  fs::remove_all(dir);
}
