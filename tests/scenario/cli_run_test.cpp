// The kafkasim command as a user runs it: outputs, determinism across processes, exit codes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.hpp"

namespace fs = std::filesystem;
using kafkasim::test::fresh_dir;
using kafkasim::test::set_json;
using kafkasim::test::slurp;

namespace {

int run(const std::string& args, const fs::path& log) { return kafkasim::test::run_kafkasim(args, log); }

// Two runs' output directories hold the same timeseries and events, and the same summary but for the wall time;
// returns the first summary.
nlohmann::json same_outputs(const fs::path& a_dir, const fs::path& b_dir) {
  CHECK(slurp(a_dir / "timeseries.csv") == slurp(b_dir / "timeseries.csv"));
  CHECK(slurp(a_dir / "events.jsonl") == slurp(b_dir / "events.jsonl"));
  auto a = nlohmann::json::parse(slurp(a_dir / "summary.json"));
  auto b = nlohmann::json::parse(slurp(b_dir / "summary.json"));
  a["sim"].erase("wall_seconds");
  b["sim"].erase("wall_seconds");
  CHECK(a == b);
  return a;
}

}  // namespace

TEST_CASE("kafkasim run: the quickstart writes every output, and two runs are byte-identical but for wall time") {
  const fs::path dir = fresh_dir("run");
  REQUIRE(run("run scenarios/quickstart.json --quiet --out " + (dir / "a").string(), dir / "a.log") == 0);
  REQUIRE(run("run scenarios/quickstart.json --quiet --out " + (dir / "b").string(), dir / "b.log") == 0);
  for (const char* f : {"manifest.json", "summary.json", "timeseries.csv", "events.jsonl"}) {
    CAPTURE(f);
    CHECK(fs::exists(dir / "a" / f));
  }
  CHECK(slurp(dir / "a/manifest.json") == slurp(dir / "b/manifest.json"));
  const auto a = same_outputs(dir / "a", dir / "b");
  // The quickstart offers 5,000 records/s: after warm-up every one of them is acknowledged (no bottleneck).
  CHECK(a["produce"]["throughput_records_per_s"].get<double>() == doctest::Approx(5000).scale(0).epsilon(0.01));
  for (const char* key : {"p50", "p75", "p95", "p99", "p999", "max", "mean"}) CHECK(a["produce"]["latency_ms"].contains(key));
  // Throughput in MiB/s counts the records' value bytes, 512 each in the quickstart, on both sides: the group
  // polls every record the producer sends, so it consumes the same bytes per second.
  const double records_per_s = a["produce"]["throughput_records_per_s"].get<double>();
  CHECK(a["produce"]["throughput_mib_per_s"].get<double>() == doctest::Approx(records_per_s * 512 / 1048576.0).scale(0));
  const double consumed_per_s = a["consume"]["throughput_records_per_s"].get<double>();
  CHECK(consumed_per_s == doctest::Approx(5000).scale(0).epsilon(0.01));
  CHECK(a["consume"]["throughput_mib_per_s"].get<double>() == doctest::Approx(consumed_per_s * 512 / 1048576.0).scale(0));
  // Failures by cause add up to records_failed (none in the quickstart; the causes are listed all the same).
  uint64_t by_cause = 0;
  for (const char* key : {"delivery_timeout", "broker_error", "buffer_exhausted", "record_too_large", "unknown_topic",
                          "producer_closed"})
    by_cause += a["produce"]["records_failed_by_cause"].at(key).get<uint64_t>();
  CHECK(by_cause == a["produce"]["records_failed"].get<uint64_t>());
  CHECK(a["produce"]["records_failed_by_broker_error"] == nlohmann::json::object());  // by Kafka error name
  CHECK(a["produce"].contains("record_retries"));
  CHECK(a["produce"].contains("batch_splits"));
  // The manifest carries the resolved scenario, which the loader accepts again.
  const auto manifest = nlohmann::json::parse(slurp(dir / "a/manifest.json"));
  std::ofstream(dir / "resolved.json") << manifest["resolved_scenario"].dump(2);
  CHECK(run("validate " + (dir / "resolved.json").string(), dir / "v.log") == 0);
  // --seed changes the run; the reproduce line names it.
  REQUIRE(run("run scenarios/quickstart.json --quiet --seed 7 --set /producers/0/workload/arrival=\"poisson\"", dir / "c.log") == 0);
  CHECK(slurp(dir / "c.log").find("reproduce: kafkasim run scenarios/quickstart.json --seed 7") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: operations are summary lines, events and summary.json entries, and repeat byte for byte") {
  const fs::path dir = fresh_dir("run-operations");
  const std::string ops = set_json("/operations", R"([
      {"at": "12s", "tool": "kafka-configs", "entity-type": "clients", "entity-default": true,
       "add-config": {"producer_byte_rate": 1048576}},
      {"at": "8s", "tool": "kafka-configs", "entity-type": "topics", "entity-name": "events",
       "delete-config": ["min.insync.replicas"]}])");
  for (const char* out : {"a", "b"})
    REQUIRE(run("run scenarios/quickstart.json" + ops + " --out " + (dir / out).string(), dir / (std::string(out) + ".log")) == 0);
  const auto a = same_outputs(dir / "a", dir / "b");
  // In time order, whatever the scenario's order.
  const auto& listed = a["operations"];
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["at_s"].get<double>() == 8.0);
  CHECK(listed[0]["entity"] == "topics events");
  CHECK(listed[0]["changes"] == nlohmann::json::array({"-min.insync.replicas"}));
  CHECK(listed[1]["entity"] == "clients <default>");
  CHECK(listed[1]["changes"] == nlohmann::json::array({"producer_byte_rate=1048576"}));
  int alter_events = 0;
  for (const std::string& line : kafkasim::test::lines_of(slurp(dir / "a/events.jsonl")))
    if (nlohmann::json::parse(line)["type"] == "alter_configs") ++alter_events;
  CHECK(alter_events == 2);
  const std::string log = slurp(dir / "a.log");
  CHECK(log.find("operation              kafka-configs at 8.0 s: topics events -min.insync.replicas") != std::string::npos);
  CHECK(log.find("operation              kafka-configs at 12.0 s: clients <default> producer_byte_rate=1048576") !=
        std::string::npos);
  // The quickstart's producer writes 2.5 MB/s to three brokers, under the 1 MiB/s per broker: the quota holds, unused.
  CHECK(log.find("quota producer-1       producer_byte_rate 1048576 B/s per broker") != std::string::npos);
  // A quota deleted by an operation is reported as such, with what was counted while it held; a client whose only
  // quota is another kind gets no line for this one.
  REQUIRE(run("run scenarios/quotas.json --set '/operations=[{\"at\": \"30s\", \"tool\": \"kafka-configs\", "
              "\"entity-type\": \"clients\", \"entity-name\": \"bulk-loader\", \"delete-config\": "
              "[\"producer_byte_rate\"]}]' --out " + (dir / "d").string(),
              dir / "d.log") == 0);
  const std::string deleted = slurp(dir / "d.log");
  CHECK(deleted.find("quota bulk-loader      producer_byte_rate deleted by an operation: ") != std::string::npos);
  CHECK(deleted.find("quota analytics        consumer_byte_rate 5242880 B/s per broker") != std::string::npos);
  CHECK(deleted.find("quota analytics        producer_byte_rate") == std::string::npos);
  // Without operations summary.json still has the (empty) list.
  REQUIRE(run("run scenarios/quickstart.json --quiet --out " + (dir / "c").string(), dir / "c.log") == 0);
  CHECK(nlohmann::json::parse(slurp(dir / "c/summary.json"))["operations"] == nlohmann::json::array());
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: bad input exits 2 with the pointer and a suggestion, and writes no output") {
  const fs::path dir = fresh_dir("bad");
  const int code = run("run scenarios/quickstart.json --quiet --set /producers/0/config/linger_ms=5 --out " +
                           (dir / "out").string(),
                       dir / "log");
  CHECK(code == 2);
  const std::string log = slurp(dir / "log");
  CHECK(log.find("/producers/0/config/linger_ms") != std::string::npos);
  CHECK(log.find("did you mean \"linger.ms\"") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK(run("run does-not-exist.json", dir / "log2") == 2);
  CHECK(run("frobnicate", dir / "log3") == 2);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim bench scenario: repeated runs report the run's own events and trace hash, and speed as sim / wall") {
  const fs::path dir = fresh_dir("bench");
  const std::string overrides = " --set '/duration=\"3s\"' --set '/warmup=\"1s\"'";
  REQUIRE(run("run scenarios/quickstart.json --quiet" + overrides + " --out " + (dir / "run").string(),
              dir / "run.log") == 0);
  const auto summary = nlohmann::json::parse(slurp(dir / "run/summary.json"));
  REQUIRE(run("bench scenario scenarios/quickstart.json --repeat 3 --json" + overrides, dir / "bench.json") == 0);
  const auto bench = nlohmann::json::parse(slurp(dir / "bench.json"));
  // What `kafkasim run` reports for the same scenario, in every repeat: the bench runs the same simulation.
  REQUIRE(bench["runs"].size() == 3);
  for (const auto& r : bench["runs"]) {
    CHECK(r["events"].get<uint64_t>() == summary["sim"]["events"].get<uint64_t>());
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r["trace_hash"].get<uint64_t>()));
    CHECK(std::string(hash) == summary["sim"]["trace_hash"].get<std::string>());
  }
  CHECK(bench["deterministic"].get<bool>());
  CHECK(bench["simulated_seconds"].get<double>() == 3.0);
  // The best run is the fastest one, and its speed is simulated seconds over its wall time.
  double fastest = 1e300;
  for (const auto& r : bench["runs"]) fastest = std::min(fastest, r["wall_seconds"].get<double>());
  CHECK(bench["best"]["wall_seconds"].get<double>() == fastest);
  CHECK(bench["best"]["x_real_time"].get<double>() == doctest::Approx(3.0 / fastest).scale(0));
  CHECK(bench["median"]["wall_seconds"].get<double>() >= fastest);
  CHECK(bench["peak_rss_mib"].get<double>() > 0);
  // Bad input is refused like `kafkasim run` refuses it.
  CHECK(run("bench scenario scenarios/quickstart.json --set /producers/0/config/linger_ms=5", dir / "bad.log") == 2);
  CHECK(slurp(dir / "bad.log").find("did you mean \"linger.ms\"") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: a random scenario that broke an attempt to let the producer's sender re-poll at once runs to "
          "its end") {
  // Seed 8034 of the session-16 random-scenario generator, cut to 100 ms: producers blocked on buffer.memory, with
  // 1-3 ms request timeouts and NOT_ENOUGH_REPLICAS (min.insync.replicas 2 on RF 1). With the sender polling again
  // inside the same event, the unthrottled producer's blocked send was released before its stale drawn records were
  // dropped; its schedule restarted behind them, and a record was left unsent past its time, its arrival scheduled
  // in the past (an assertion at 65 ms). The run must end normally, and no record may be both acked and failed.
  const fs::path dir = fresh_dir("regress8034");
  std::ofstream(dir / "g8034.json") << R"JSON({"name": "g8034", "seed": 829955, "duration": "100ms", "warmup": "0ms",
"hardware": {"broker": {"disk": "hdd-7200rpm", "nic": "nic-1gbe", "cpu": "cpu-xeon-6core-2014", "log_dirs": 1},
"client": {"nic": "nic-10gbe"}}, "cluster": {"brokers": 4, "racks": 4, "config": {"min.insync.replicas": 1,
"replica.lag.time.max.ms": 30000, "queued.max.requests": 2, "message.max.bytes": 1000,
"log.retention.check.interval.ms": 100, "log.initial.task.delay.ms": 100}}, "topics": [{"name": "t0",
"partitions": 50, "replication.factor": 1, "config": {"min.insync.replicas": 2, "segment.bytes": 1048576,
"retention.ms": 1, "retention.bytes": 5242880, "max.message.bytes": 1000, "compression.type": "snappy"}}],
"producers": [{"topic": "t0", "count": 2, "workload": {"rate": 38460, "arrival": "poisson", "record_size": 10},
"config": {"enable.idempotence": true, "acks": "-1", "batch.size": 1, "delivery.timeout.ms": 5,
"retry.backoff.ms": 0, "retry.backoff.max.ms": 1000, "linger.ms": 2, "request.timeout.ms": 3}}, {"topic": "t0",
"count": 1, "workload": {"rate": 15384, "arrival": "unthrottled", "record_size": 512},
"config": {"enable.idempotence": true, "acks": "-1", "linger.ms": 20, "request.timeout.ms": 1,
"buffer.memory": 65536, "max.block.ms": 0, "connections.max.idle.ms": -1}}, {"topic": "t0", "count": 1,
"workload": {"rate": 10, "arrival": "constant", "record_size": {"distribution": "uniform", "min": 1000,
"max": 6000}, "keys": {"distribution": "zipf", "count": 1, "exponent": 0.99}},
"config": {"enable.idempotence": true, "acks": "all", "retry.backoff.ms": 10, "retry.backoff.max.ms": 1}},
{"topic": "t0", "count": 2, "workload": {"rate": 153843, "arrival": "constant",
"record_size": {"distribution": "uniform", "min": 0, "max": 0}}, "config": {"enable.idempotence": true,
"acks": "-1", "compression.type": "gzip", "linger.ms": 20, "max.in.flight.requests.per.connection": 1,
"request.timeout.ms": 1}}], "consumers": [], "faults": []})JSON";
  REQUIRE(run("run " + (dir / "g8034.json").string() + " --quiet --out " + (dir / "out").string(), dir / "run.log") == 0);
  const auto s = nlohmann::json::parse(slurp(dir / "out/summary.json"));
  const auto& p = s["produce"];
  CHECK(p["records_sent"].get<uint64_t>() > 0);
  CHECK(p["records_acked"].get<uint64_t>() + p["records_failed"].get<uint64_t>() <= p["records_sent"].get<uint64_t>());
  fs::remove_all(dir);
}

TEST_CASE("Kreps 2014's stored-data graph: the producer's throughput stays flat once the log outgrows the page cache") {
  // published-benchmarks.md §A ("graph only"): producer throughput stays flat from a few hundred MB up to ~1 TB
  // stored. In the model the data stored can matter only through the page cache: once the log outgrows it, every
  // append must first reclaim clean pages, and writeback competes with it for the disks. Row A1's scenario with
  // the RAM cut so that each broker's page cache holds 256 MiB (RAM less the 6 GiB heap and 1 GiB of other memory)
  // fills it after ~8 s at a third of the stream (821,557 x 126 B / 3 = 34.5 MB/s) and stores twice that by the
  // end. Throughput is set by the producer's one thread, one send() per 1.217 us (the profile's calibrated
  // cost), while the six disks of 137 MB/s each take 34.5 MB/s: every second, before the caches fill and after,
  // must carry 1 / 1.217 us x 116 B of values.
  const fs::path dir = fresh_dir("stored-data");
  REQUIRE(run("run scenarios/validation/kreps2014-rf1-acks1-wire08.json --quiet --set '/duration=\"16s\"'"
              " --set '/warmup=\"2s\"' --set '/hardware/broker/ram=\"7424MiB\"' --out " + (dir / "a").string(),
              dir / "log") == 0);
  const auto csv = kafkasim::test::read_csv(dir / "a/timeseries.csv");
  REQUIRE(csv.rows.size() == 16);
  const double budget_mib = 256;
  const double thread_bound_mib = 1 / 1.217e-6 * 116 / 1'048'576;
  const auto at = [&](size_t row, const std::string& column) { return std::stod(csv.rows.at(row).at(column)); };
  int seconds_before_full = 0, seconds_after_full = 0;
  for (size_t row = 2; row < csv.rows.size(); ++row) {  // after the warm-up's first two seconds
    CAPTURE(row);
    bool all_full = true;
    for (int b = 0; b < 3; ++b) {
      const std::string broker = "broker" + std::to_string(b);
      CHECK(at(row, broker + "_page_cache_mib") <= budget_mib + 1);
      all_full = all_full && at(row, broker + "_page_cache_mib") >= 0.97 * budget_mib;
      CHECK(at(row, broker + "_disk_util") < 0.5);
    }
    CHECK(at(row, "throughput_mib_per_s") == doctest::Approx(thread_bound_mib).scale(0).epsilon(0.01));
    ++(all_full ? seconds_after_full : seconds_before_full);
  }
  // Both regimes are covered, and by the end each broker stores about twice what its cache holds.
  CHECK(seconds_before_full >= 4);
  CHECK(seconds_after_full >= 5);
  for (int b = 0; b < 3; ++b) CHECK(at(15, "broker" + std::to_string(b) + "_log_mib") >= 1.8 * budget_mib);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: the summary's utilisations are over the time after the warm-up, as its throughput") {
  // The quickstart with its consumer group starting at the end of a 10 s warm-up, reading from the log start
  // (auto.offset.reset earliest): before 10 s the brokers send only the followers' and producer's responses, after
  // it also the 10 s backlog and then the stream. Each broker's NIC tx share in summary.json must be the mean of
  // its per-second samples after the warm-up (timeseries.csv, rows 10-19), not over the run, and the bottleneck
  // line's figure the largest share.
  const fs::path dir = fresh_dir("utilisation-window");
  REQUIRE(run("run scenarios/quickstart.json --quiet --set '/warmup=\"10s\"' --set '/consumers/0/start_at=\"10s\"'"
              " --set '/consumers/0/config/auto.offset.reset=\"earliest\"' --out " + (dir / "a").string(),
              dir / "log") == 0);
  const nlohmann::json summary = nlohmann::json::parse(slurp(dir / "a/summary.json"));
  const auto csv = kafkasim::test::read_csv(dir / "a/timeseries.csv");
  REQUIRE(csv.rows.size() == 20);
  double busiest = 0;
  for (int b = 0; b < 3; ++b) {
    CAPTURE(b);
    const std::string column = "broker" + std::to_string(b) + "_nic_tx_util";
    double before = 0, after = 0;
    for (size_t row = 0; row < 20; ++row) (row < 10 ? before : after) += std::stod(csv.rows.at(row).at(column)) / 10;
    const double share = summary["utilisation"]["broker-" + std::to_string(b) + " nic tx"].get<double>();
    CHECK(share == doctest::Approx(after).scale(0).epsilon(1e-6));
    CHECK(after > 1.2 * before);  // the catch-up and the group's reads come after the warm-up
    busiest = std::max(busiest, share);
  }
  for (const auto& [name, u] : summary["utilisation"].items()) busiest = std::max(busiest, u.get<double>());
  CHECK(summary["bottleneck"]["utilisation"].get<double>() == doctest::Approx(busiest).scale(0).epsilon(1e-12));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: a log dir that outgrows its disk stops the run with an error, when the disk fills") {
  // Kafka would fail the write with ENOSPC and take the log dir offline (KIP-112), which is not simulated: the run
  // must stop there rather than go on as if the disk were larger. The quickstart on a 16 MiB disk: its producer
  // sends a batch of 25 records every 5 ms (5,000 records/s, linger.ms 5), 61 + 25 x 521 bytes in the v2 format
  // (512-byte values, 9 bytes of record framing), plus one offset-index (8 B) and one time-index entry (12 B) per
  // batch (a batch is more than index.interval.bytes), and every broker holds a replica of each of the 6 partitions
  // (RF 3 on 3 brokers): each disk takes 200 x 13,106 B a second and fills after 16 MiB / 2,621,200 B/s = 6.40 s.
  // No output is written for the half run.
  const fs::path dir = fresh_dir("disk-full");
  nlohmann::json scenario = nlohmann::json::parse(slurp("scenarios/quickstart.json"));
  nlohmann::json disk = nlohmann::json::parse(slurp("scenarios/hardware/nvme-datacentre.json"));
  disk["name"] = "nvme-16mib";
  disk["parameters"]["capacity_bytes"]["value"] = 16 * 1024 * 1024;
  disk["parameters"]["capacity_bytes"]["source"] = "a test: a disk that fills within seconds";
  scenario["hardware"]["broker"]["disk"] = disk;
  {
    std::ofstream out(dir / "full.json");
    out << scenario.dump(2);
  }
  CHECK(run("run " + (dir / "full.json").string() + " --quiet --out " + (dir / "a").string(), dir / "log") == 1);
  const std::string log = slurp(dir / "log");
  CAPTURE(log);
  CHECK(!fs::exists(dir / "a"));
  const auto at = log.find("error: " + (dir / "full.json").string() + ": at ");
  REQUIRE(at != std::string::npos);
  const double when = std::stod(log.substr(at + ("error: " + (dir / "full.json").string() + ": at ").size()));
  CHECK(when == doctest::Approx(16.0 * 1024 * 1024 / (200 * (61 + 25 * 521 + 8 + 12))).scale(0).epsilon(0.01));
  for (const char* part : {"log dir 0", "capacity_bytes (16777216)", "ENOSPC", "retention.ms", "log_dirs"})
    CHECK(log.find(part) != std::string::npos);
  // `kafkasim describe` past that time says the same instead of describing a cluster that cannot exist.
  CHECK(run("describe " + (dir / "full.json").string() + " --at 10s", dir / "log") == 1);
  CHECK(slurp(dir / "log").find("capacity_bytes (16777216)") != std::string::npos);
  CHECK(run("describe " + (dir / "full.json").string() + " --at 5s", dir / "log") == 0);
  // With four times the room the same run ends normally.
  disk["parameters"]["capacity_bytes"]["value"] = 64 * 1024 * 1024;
  scenario["hardware"]["broker"]["disk"] = disk;
  {
    std::ofstream out(dir / "fits.json");
    out << scenario.dump(2);
  }
  CHECK(run("run " + (dir / "fits.json").string() + " --quiet --out " + (dir / "b").string(), dir / "log") == 0);
  CHECK(fs::exists(dir / "b/summary.json"));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim run: a bottleneck on a client says which scenario entry the client is") {
  // The quickstart's one consumer (client-1, after the one producer) given 1 ms per record against the producer's
  // 5,000 records/s: its application thread is busy all the time and the bottleneck; the line below names its entry.
  const fs::path dir = fresh_dir("bottleneck-client");
  const std::string text = kafkasim::test::run_kafkasim_ok("run scenarios/quickstart.json --set '/consumers/0/processing_time=\"1ms\"' "
                                           "--set '/duration=\"4s\"' --set '/warmup=\"1s\"'",
                                           dir / "run.log");
  CAPTURE(text);
  CHECK(text.find("  bottleneck             client-1 application thread (") != std::string::npos);
  CHECK(text.find("\n                         client-1: /consumers/0, group quickstart-consumers, consumer 1 of 1\n") !=
        std::string::npos);
  fs::remove_all(dir);
}
