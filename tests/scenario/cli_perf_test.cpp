// `kafkasim producer-perf-test`: kafka-producer-perf-test.sh against a scenario's cluster. Expectations from what
// the tool computes (ProducerPerformance.Stats: whole-millisecond latencies, a window line per 5 s, the total over
// the test's elapsed time) and from the open loop's schedule, not from earlier runs; the tool's latencies are
// checked against `kafkasim run` of the same producer.
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"

using namespace kafkasim::test;
namespace fs = std::filesystem;

namespace {

struct Window {
  long long count;
  double per_s, mb_per_s, avg_ms, max_ms;
};

struct Total {
  long long count;
  bool steady;
  double per_s, mb_per_s, avg_ms, max_ms;
  long long p50, p95, p99, p999;
};

struct Output {
  std::vector<Window> windows;
  std::vector<Total> totals;
};

Output parse(const std::string& text) {
  const std::regex window(R"(^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency\.$)");
  const std::regex total(
      R"(^(\d+)( steady state)? records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$)");
  Output out;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, window)) {
      out.windows.push_back({std::stoll(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), std::stod(m[5])});
    } else if (std::regex_match(line, m, total)) {
      out.totals.push_back({std::stoll(m[1]), m[2].matched, std::stod(m[3]), std::stod(m[4]), std::stod(m[5]),
                            std::stod(m[6]), std::stoll(m[7]), std::stoll(m[8]), std::stoll(m[9]), std::stoll(m[10])});
    }
  }
  return out;
}

// The tool on the quickstart's topic, 512-byte records at 5,000 a second, with `more` arguments; what it printed.
std::string perf_test(const fs::path& dir, const std::string& more) {
  return run_kafkasim_ok("producer-perf-test scenarios/quickstart.json --quiet --topic events --record-size 512 "
                         "--throughput 5000 " + more,
                         dir / "perf.log");
}

}  // namespace

TEST_CASE("producer-perf-test: the tool's window and total lines, computed as the tool computes them") {
  const fs::path dir = fresh_dir("perf-test");
  // 50,000 records of 512 B at 5,000 a second, acks=all: the last is sent at 10 s, so the test lasts 10 s and its
  // last latency; the tool prints a window line when a callback comes 5 s or more after the window began.
  const std::string text =
      perf_test(dir, "--num-records 50000 --producer-props acks=all linger.ms=5 bootstrap.servers=broker-0:9092");
  INFO(text);
  const Output out = parse(text);
  REQUIRE(out.totals.size() == 1);
  const Total& t = out.totals[0];
  CHECK(t.count == 50000);  // every record acknowledged
  CHECK_FALSE(t.steady);
  // records/sec = 50,000 / elapsed, elapsed from 10,000 ms to 10,000 ms + the last record's latency (< 50 ms).
  CHECK(t.per_s <= 5000.0);
  CHECK(t.per_s >= 50000.0 / 10.050);
  // MB/sec in MiB: 512 B a record.
  CHECK(t.mb_per_s == doctest::Approx(t.per_s * 512 / 1048576).scale(0).epsilon(0.005));
  CHECK(t.p50 <= t.p95);
  CHECK(t.p95 <= t.p99);
  CHECK(t.p99 <= t.p999);
  CHECK(static_cast<double>(t.p999) <= t.max_ms);
  CHECK(t.max_ms < 50);
  CHECK(t.avg_ms <= t.max_ms);
  // One window line per 5 s of callbacks (the last may close with the last callbacks), each about 5 s of records.
  REQUIRE(!out.windows.empty());
  CHECK(out.windows.size() <= 2);
  long long windowed = 0;
  for (const Window& w : out.windows) {
    CHECK(w.count == doctest::Approx(25000).scale(0).epsilon(0.01));
    CHECK(w.per_s == doctest::Approx(5000).scale(0).epsilon(0.01));
    windowed += w.count;
  }
  CHECK(windowed <= t.count);
  // Then kafkasim's own line: what held the test back. 5,000 records of 512 B a second on 10 GbE links hold nothing.
  CHECK(text.find("\n  bottleneck             none saturated; busiest ") != std::string::npos);

  // The same producer as a scenario run: the tool's latencies are the run's in whole milliseconds (the callback's
  // millisecond less the send's), so its median lies within a millisecond of the run's.
  run_kafkasim_ok("run scenarios/quickstart.json --quiet --set /consumers=[] --set '/duration=\"10s\"' "
                  "--set '/warmup=\"1ms\"' --set '/producers/0/workload/arrival=\"unthrottled\"' --out " +
                      (dir / "run").string(),
                  dir / "run.log");
  const auto summary = nlohmann::json::parse(slurp(dir / "run" / "summary.json"));
  const double run_p50 = summary["produce"]["latency_ms"]["p50"].get<double>();
  CHECK(static_cast<double>(t.p50) >= run_p50 - 1);
  CHECK(static_cast<double>(t.p50) <= run_p50 + 1);
  fs::remove_all(dir);
}

TEST_CASE("producer-perf-test: --warmup-records adds the steady state's total line") {
  const fs::path dir = fresh_dir("perf-test-warmup");
  const std::string text = perf_test(dir, "--num-records 20000 --warmup-records 5000 --producer-props acks=1");
  INFO(text);
  CHECK(text.find("Warmup first 5000 records. Steady state results will print after the complete test summary.") !=
        std::string::npos);
  const Output out = parse(text);
  REQUIRE(out.totals.size() == 2);
  CHECK(out.totals[0].count == 20000);
  CHECK_FALSE(out.totals[0].steady);
  CHECK(out.totals[1].count == 15000);
  CHECK(out.totals[1].steady);
  // From the 5,001st send (1 s in) to the end (4 s): 15,000 records in about 3 s.
  CHECK(out.totals[1].per_s == doctest::Approx(5000).scale(0).epsilon(0.02));
  fs::remove_all(dir);
}

TEST_CASE("producer-perf-test: bad arguments exit 2 with the tool's message or the loader's error") {
  const fs::path dir = fresh_dir("perf-test-errors");
  const std::string base = "producer-perf-test scenarios/quickstart.json --quiet --record-size 100 --throughput 10 ";
  CHECK(run_kafkasim(base + "--topic events --num-records 0", dir / "a.log") == 2);
  CHECK(slurp(dir / "a.log").find("--num-records should be greater than zero") != std::string::npos);
  CHECK(run_kafkasim(base + "--topic events --num-records 10 --producer-props acks", dir / "b.log") == 2);
  CHECK(slurp(dir / "b.log").find("Invalid property: acks") != std::string::npos);
  CHECK(run_kafkasim(base + "--topic event --num-records 10", dir / "c.log") == 2);
  CHECK(slurp(dir / "c.log").find("\"events\"") != std::string::npos);  // did you mean
  CHECK(run_kafkasim(base + "--topic events --num-records 10 --warmup-records 10", dir / "d.log") == 2);
  CHECK(run_kafkasim(base + "--topic events --num-records 10 --producer-props acks=2", dir / "e.log") == 2);
  fs::remove_all(dir);
}

TEST_CASE("producer-perf-test: the scenario's broker faults run, those given with --set too") {
  const fs::path dir = fresh_dir("perf-test-faults");
  // A 500 ms stop-the-world pause of broker-0 at 2 s: the records it leads wait it out, so the tool's maximum latency
  // is at least the pause less the millisecond rounding; without it every latency is a few milliseconds.
  const std::string text = perf_test(dir, "--num-records 20000 --producer-props acks=all" +
                                              set_json("/faults", R"([{"type": "pause", "host": "broker-0", "at": "2s",
                                                                       "duration": "500ms"}])"));
  INFO(text);
  const Output out = parse(text);
  REQUIRE(out.totals.size() == 1);
  CHECK(out.totals[0].max_ms >= 499);
  CHECK(out.totals[0].max_ms < 600);
  fs::remove_all(dir);
}
