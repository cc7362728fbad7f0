// kafkasim sweep and merge as a user runs them: the cartesian product in a documented order, results that do
// not depend on --jobs, resuming without rerunning, shards that merge into the unsharded sweep, bad input.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kafkasim::test;

namespace {

// The quickstart shortened to 2 simulated seconds: 2 acks x 2 linger.ms values x 2 seeds = 8 runs.
const std::string kSweep =
    "sweep scenarios/quickstart.json --quiet --set '/duration=\"2s\"' --set '/warmup=\"500ms\"'"
    " --param '/producers/0/config/acks=\"1\",\"all\"' --param /producers/0/config/linger.ms=0,20 --seeds 2";

json read_json(const fs::path& path) { return json::parse(slurp(path)); }

}  // namespace

TEST_CASE("kafkasim sweep: one row per point and seed in product order, each run configured as its row says") {
  const fs::path dir = fresh_dir("sweep-order");
  REQUIRE(run_kafkasim(kSweep + " --jobs 2 --out " + (dir / "s").string(), dir / "log") == 0);
  const Csv csv = read_csv(dir / "s/sweep.csv");
  // The first --param varies slowest, then the second, then the seed (the scenario's 42, then 43).
  const std::vector<std::string> acks = {"1", "1", "1", "1", "all", "all", "all", "all"};
  const std::vector<std::string> linger = {"0", "0", "20", "20", "0", "0", "20", "20"};
  REQUIRE(csv.rows.size() == 8);
  CHECK(csv.header[0] == "point");
  CHECK(csv.header[1] == "seed");
  CHECK(csv.header[2] == "/producers/0/config/acks");
  CHECK(csv.header[3] == "/producers/0/config/linger.ms");
  CHECK(csv.header[4] == "status");
  for (size_t i = 0; i < csv.rows.size(); ++i) {
    CAPTURE(i);
    const auto& row = csv.rows[i];
    CHECK(row.at("point") == std::to_string(i / 2 + 1));
    CHECK(row.at("seed") == std::to_string(42 + i % 2));
    CHECK(row.at("/producers/0/config/acks") == acks[i]);
    CHECK(row.at("/producers/0/config/linger.ms") == linger[i]);
    CHECK(row.at("status") == "ok");
    // The run directory holds a run configured with the row's values and seed...
    const fs::path run = dir / "s" / row.at("run");
    const json manifest = read_json(run / "manifest.json");
    CHECK(manifest["seed"] == 42 + i % 2);
    const json& producer = manifest["resolved_scenario"]["producers"][0]["config"];
    CHECK(producer["acks"] == acks[i]);
    CHECK(producer["linger.ms"] == std::stoi(linger[i]));
    CHECK(manifest["resolved_scenario"]["duration"] == "2s");
    // ... whose summary the row repeats.
    const json summary = read_json(run / "summary.json");
    CHECK(row.at("produce.records_acked") == summary["produce"]["records_acked"].dump());
    CHECK(row.at("produce.latency_ms.p99") == summary["produce"]["latency_ms"]["p99"].dump());
    CHECK(row.at("sim.trace_hash") == summary["sim"]["trace_hash"].get<std::string>());
  }
  // Wall-clock time is the one field that differs between identical runs: it stays out of sweep.csv.
  for (const auto& h : csv.header) CHECK(h != "sim.wall_seconds");
  // linger.ms=20 at 5,000 records/s holds records up to 20 ms longer than linger.ms=0 (a batch of 16 KiB
  // fills in 16384 / (5000 x ~530 B) = 6 ms, so lingering 20 ms is cut short by full batches only rarely).
  CHECK(std::stod(csv.rows[2].at("produce.latency_ms.p50")) > std::stod(csv.rows[0].at("produce.latency_ms.p50")));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim sweep: --jobs does not change sweep.csv; a resumed sweep reruns only what is missing") {
  const fs::path dir = fresh_dir("sweep-jobs");
  REQUIRE(run_kafkasim(kSweep + " --jobs 1 --out " + (dir / "a").string(), dir / "a.log") == 0);
  REQUIRE(run_kafkasim(kSweep + " --jobs 3 --out " + (dir / "b").string(), dir / "b.log") == 0);
  const std::string reference = slurp(dir / "a/sweep.csv");
  CHECK(reference == slurp(dir / "b/sweep.csv"));

  // Mark every finished run, remove one run and the CSV, and resume: the marks survive (nothing else was run
  // again), the removed run comes back, and sweep.csv is the same as before.
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir / "a/runs")) runs.push_back(e.path());
  REQUIRE(runs.size() == 8);
  std::sort(runs.begin(), runs.end());
  for (const auto& r : runs) std::ofstream(r / "mark") << "x";
  fs::remove_all(runs[3]);
  fs::remove(dir / "a/sweep.csv");
  REQUIRE(run_kafkasim(kSweep + " --jobs 2 --out " + (dir / "a").string(), dir / "c.log") == 0);
  CHECK(slurp(dir / "c.log").find("1 run now, 7 already done, 0 failed") != std::string::npos);
  for (size_t i = 0; i < runs.size(); ++i) {
    CAPTURE(runs[i]);
    CHECK(fs::exists(runs[i] / "summary.json"));
    CHECK(fs::exists(runs[i] / "mark") == (i != 3));
  }
  CHECK(slurp(dir / "a/sweep.csv") == reference);

  // A finished run of another scenario (here: another duration) is not taken for this sweep's.
  const json manifest = read_json(runs[0] / "manifest.json");
  std::string other = kSweep;
  other.replace(other.find("\"2s\""), 4, "\"3s\"");
  REQUIRE(run_kafkasim(other + " --jobs 2 --out " + (dir / "other").string(), dir / "d.log") == 0);
  fs::remove_all(dir / "other/runs" / runs[0].filename());
  fs::copy(runs[0], dir / "other/runs" / runs[0].filename());
  REQUIRE(run_kafkasim(other + " --jobs 2 --out " + (dir / "other").string(), dir / "e.log") == 0);
  CHECK(slurp(dir / "e.log").find("1 run now, 7 already done") != std::string::npos);
  CHECK(read_json(dir / "other/runs" / runs[0].filename() / "manifest.json")["resolved_scenario"]["duration"] == "3s");
  CHECK_FALSE(fs::exists(dir / "other/runs" / runs[0].filename() / "mark"));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim sweep --shard and merge: disjoint slices that merge into the unsharded sweep") {
  const fs::path dir = fresh_dir("sweep-shards");
  REQUIRE(run_kafkasim(kSweep + " --jobs 2 --out " + (dir / "all").string(), dir / "all.log") == 0);
  REQUIRE(run_kafkasim(kSweep + " --jobs 2 --shard 1/2 --out " + (dir / "s1").string(), dir / "s1.log") == 0);
  REQUIRE(run_kafkasim(kSweep + " --jobs 2 --shard 2/2 --out " + (dir / "s2").string(), dir / "s2.log") == 0);
  // Runs are numbered 0..7 in row order; shard i/n takes those equal to i-1 modulo n.
  const Csv s1 = read_csv(dir / "s1/sweep.csv"), s2 = read_csv(dir / "s2/sweep.csv");
  REQUIRE(s1.rows.size() == 4);
  REQUIRE(s2.rows.size() == 4);
  for (size_t k = 0; k < 4; ++k) {
    CHECK(s1.rows[k].at("seed") == "42");
    CHECK(s2.rows[k].at("seed") == "43");
    CHECK(s1.rows[k].at("point") == std::to_string(k + 1));
  }
  // Merged in either order, the shards give the unsharded sweep, byte for byte, with every run directory.
  REQUIRE(run_kafkasim("merge " + (dir / "s2").string() + " " + (dir / "s1").string() + " --out " + (dir / "m").string(),
                   dir / "m.log") == 0);
  CHECK(slurp(dir / "m/sweep.csv") == slurp(dir / "all/sweep.csv"));
  CHECK(slurp(dir / "m/sweep.json") == slurp(dir / "all/sweep.json"));
  size_t runs = 0;
  for (const auto& e : fs::directory_iterator(dir / "m/runs")) runs += fs::exists(e.path() / "summary.json");
  CHECK(runs == 8);
  // A merge that lacks a shard, repeats one, or mixes sweeps is refused.
  CHECK(run_kafkasim("merge " + (dir / "s1").string() + " --out " + (dir / "m2").string(), dir / "m2.log") == 2);
  CHECK(slurp(dir / "m2.log").find("missing shard 2/2") != std::string::npos);
  CHECK(run_kafkasim("merge " + (dir / "s1").string() + " " + (dir / "s1").string() + " --out " + (dir / "m3").string(),
                 dir / "m3.log") == 2);
  CHECK(run_kafkasim("merge " + (dir / "s1").string() + " " + (dir / "all").string() + " --out " + (dir / "m4").string(),
                 dir / "m4.log") == 2);
  CHECK(run_kafkasim("merge " + dir.string() + " --out " + (dir / "m5").string(), dir / "m5.log") == 2);
  for (const char* d : {"m2", "m3", "m4", "m5"}) CHECK_FALSE(fs::exists(dir / d));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim sweep: bad --param, --shard and --out exit 2 with a clear message and write nothing") {
  const fs::path dir = fresh_dir("sweep-bad");
  const std::string base = "sweep scenarios/quickstart.json --quiet --out " + (dir / "out").string() + " ";
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"--param /producers/0/config/linger.ms", "expected a JSON pointer, '=' and comma-separated values"},
      {"--param linger.ms=0,5", "expected a JSON pointer"},
      {"--param /producers/0/config/linger.ms=0,,5", "value 2 of 3 is empty"},
      {"--param /producers/0/config/linger.ms=0,5,0", "the value 0 is listed twice"},
      {"--param '/producers/0/config/acks=\"1,all'", "no closing quote"},
      {"--param /producers/0/config/linger_ms=0,5", "did you mean \"linger.ms\""},
      {"--param /producers/0/config/linger.ms=0,-5", "point 2 of 2 (/producers/0/config/linger.ms=-5)"},
      {"--param /producer/0/config/acks=1", "/producers/0/config/acks"},
      {"--param /producers/0/config/linger.ms=0,5 --param /producers/0/config/linger.ms=1", "is given twice"},
      {"--param /producers/0/config/linger.ms=0,5 --set /producers/0/config/linger.ms=1", "is also given with --set"},
      {"--param /seed=1,2", "--seeds"},
      {"--param /producers/0/config/linger.ms=0,5 --shard 0/2", "expected i/n with 1 <= i <= n"},
      {"--param /producers/0/config/linger.ms=0,5 --shard 3/2", "expected i/n with 1 <= i <= n"},
      {"--param /producers/0/config/linger.ms=0,5 --shard two/4", "expected i/n with 1 <= i <= n"},
      {"--param /producers/0/config/linger.ms=0,5 --seeds 0", "--seeds"},
      {"--param /producers/0/config/linger.ms=0,5 --jobs 0", "--jobs"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    CHECK(run_kafkasim(base + c.args, dir / "log") == 2);
    const std::string log = slurp(dir / "log");
    CAPTURE(log);
    CHECK(log.find(c.message) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out"));
  }
  // --out must be a sweep directory of this very sweep, or new, or empty.
  fs::create_directories(dir / "not-a-sweep");
  std::ofstream(dir / "not-a-sweep/notes.txt") << "mine";
  CHECK(run_kafkasim("sweep scenarios/quickstart.json --quiet --param /producers/0/config/linger.ms=0,5 --out " +
                     (dir / "not-a-sweep").string(), dir / "log") == 2);
  CHECK(slurp(dir / "log").find("is not a kafkasim sweep directory") != std::string::npos);
  const std::string small = "sweep scenarios/quickstart.json --quiet --set '/duration=\"1s\"' --set '/warmup=\"200ms\"' ";
  REQUIRE(run_kafkasim(small + "--param /producers/0/config/linger.ms=0 --out " + (dir / "s").string(), dir / "log") == 0);
  CHECK(run_kafkasim(small + "--param /producers/0/config/linger.ms=0,5 --out " + (dir / "s").string(), dir / "log") == 2);
  CHECK(slurp(dir / "log").find("holds a different sweep") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim sweep over record size reproduces Kreps 2014's graph: records/s fall, MB/s rise to the 1 GbE link") {
  // published-benchmarks.md §A ("graph only"): with record sizes from 10 B to 100 KB, throughput in records/s falls
  // and in MB/s rises, saturating 1 GbE. Row A1's scenario (one unthrottled producer thread, RF 1, acks=1), values of
  // 10 B to 100 KB (record_size is the value + 16: the 0.8 wire size, as the scenario's 116 for 100 B). Small
  // records are bound by the thread's send() cost, one record per 1.217 us whatever its size; large ones by the
  // producer's link, whose TCP goodput is 125 MB/s x 1448 / 1538 = 117.7 MB/s (hardware-models.md §4.2), which the
  // records' bytes approach as the per-record and per-request overheads vanish.
  const fs::path dir = fresh_dir("record-size");
  REQUIRE(run_kafkasim("sweep scenarios/validation/kreps2014-rf1-acks1-wire08.json --quiet --set '/duration=\"3s\"'"
                       " --set '/warmup=\"1s\"' --param /producers/0/workload/record_size=26,116,1016,10016,100016 --out " +
                           (dir / "s").string(),
                       dir / "log") == 0);
  const Csv csv = read_csv(dir / "s" / "sweep.csv");
  REQUIRE(csv.rows.size() == 5);
  std::vector<double> records, mb;
  for (const auto& row : csv.rows) {
    records.push_back(std::stod(row.at("produce.throughput_records_per_s")));
    mb.push_back(std::stod(row.at("produce.throughput_mib_per_s")) * 1'048'576 / 1e6);
  }
  const double thread_bound = 1 / 1.217e-6, goodput_mb = 125.0 * 1448 / 1538;
  CHECK(records[0] == doctest::Approx(thread_bound).scale(0).epsilon(0.01));
  for (size_t i = 1; i < records.size(); ++i) {
    CAPTURE(i);
    CHECK(records[i] <= records[i - 1] * 1.001);
    CHECK(mb[i] > mb[i - 1]);
    CHECK(mb[i] <= goodput_mb);
  }
  CHECK(records[4] < records[1] / 100);
  CHECK(mb[4] >= 0.99 * goodput_mb);
  fs::remove_all(dir);
}
