// kafkasim plot and the sweep notebook: PNG charts from a run and from a sweep, the plotting module's rules
// (Pareto front, point numbering, fault windows) on hand-made inputs, and the notebook executed headless with
// Debian's Jupyter (scripts/setup installs it; nothing here is skipped).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"

namespace fs = std::filesystem;
using namespace kafkasim::test;

namespace {

// A PNG file: the 8-byte signature, then an IHDR chunk with a non-empty image.
bool is_png(const fs::path& path) {
  const std::string bytes = slurp(path);
  if (bytes.size() < 1000 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || bytes.compare(12, 4, "IHDR") != 0) return false;
  auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
  };
  return be32(16) >= 200 && be32(20) >= 200;
}

const std::string kPython = "/usr/bin/python3";

// Runs dir/check.py with Debian's Python on `arg`; the script prints exactly "ok" when its asserts hold.
void run_check_script(const fs::path& dir, const fs::path& arg) {
  CHECK(shell(kPython + " " + (dir / "check.py").string() + " " + arg.string() + " >" + (dir / "check.log").string() +
              " 2>&1") == 0);
  CAPTURE(slurp(dir / "check.log"));
  CHECK(slurp(dir / "check.log") == "ok\n");
}

}  // namespace

TEST_CASE("kafkasim plot: a run directory gives its time-series chart, a sweep directory one chart per parameter "
          "and the trade-off chart") {
  const fs::path dir = fresh_dir("plot");
  REQUIRE(run_kafkasim("run scenarios/quickstart.json --quiet --set '/duration=\"3s\"' --set '/warmup=\"1s\"' --out " +
                       (dir / "run").string(), dir / "run.log") == 0);
  // A fault window in events.jsonl (the convention the fault-injection issue will write) is read, not rejected.
  std::ofstream(dir / "run/events.jsonl", std::ios::app)
      << R"({"time_s": 1.5, "type": "fault", "fault": "broker-1 crash", "duration_s": 0.5})" << "\n"
      << R"({"time_s": 2.0, "type": "alter_configs", "entity": "clients c", "changes": ["producer_byte_rate=1"]})" << "\n";
  REQUIRE(run_kafkasim("plot " + (dir / "run").string() + " --out " + (dir / "charts").string(), dir / "plot.log") == 0);
  CHECK(is_png(dir / "charts/run-timeseries.png"));
  CHECK(is_png(dir / "charts/run-requests.png"));  // the quickstart's brokers answer produce and fetch requests
  CHECK_FALSE(fs::exists(dir / "run/run-timeseries.png"));  // --out was honoured

  REQUIRE(run_kafkasim("sweep scenarios/quickstart.json --quiet --set '/duration=\"2s\"' --set '/warmup=\"500ms\"' "
                   "--param /producers/0/config/linger.ms=0,20 --param /topics/0/partitions=3,6 --jobs 2 --out " +
                       (dir / "sweep").string(), dir / "sweep.log") == 0);
  REQUIRE(run_kafkasim("plot " + (dir / "sweep").string(), dir / "plot2.log") == 0);
  for (const char* png : {"latency-vs-linger.ms.png", "latency-vs-partitions.png", "throughput-vs-p99.png"}) {
    CAPTURE(png);
    CHECK(is_png(dir / "sweep" / png));
  }

  // Bad input: not a result directory, or no directory at all.
  CHECK(run_kafkasim("plot " + (dir / "charts").string(), dir / "bad.log") == 2);
  CHECK(slurp(dir / "bad.log").find("expected a run directory") != std::string::npos);
  CHECK(run_kafkasim("plot " + (dir / "nowhere").string(), dir / "bad.log") == 2);
  std::ofstream(dir / "sweep/sweep.csv") << "not,a,sweep\n";
  CHECK(run_kafkasim("plot " + (dir / "sweep").string(), dir / "bad.log") == 2);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim_plot.py: Pareto front, point numbering against kafkasim sweep's, fault windows") {
  const fs::path dir = fresh_dir("plot-module");
  REQUIRE(run_kafkasim("sweep scenarios/quickstart.json --quiet --set '/duration=\"1s\"' --set '/warmup=\"200ms\"' "
                   "--param /producers/0/config/linger.ms=0,5,20 --param '/producers/0/config/acks=\"1\",\"all\"' "
                   "--jobs 2 --out " + (dir / "sweep").string(), dir / "sweep.log") == 0);
  std::ofstream(dir / "check.py") << R"PY(
import csv, sys
sys.path.insert(0, "notebooks")
import kafkasim_plot as kp

# Pareto front, worked by hand: (throughput, p99). b beats a (more throughput, lower p99); c and d are not
# beaten (c: most throughput; d: lowest p99); e loses to c; f ties d's p99 at lower throughput.
pts = [{"n": n, "x": x, "y": y} for n, x, y in
       [("a", 10, 9), ("b", 20, 5), ("c", 40, 7), ("d", 20, 2), ("e", 30, 8), ("f", 10, 2)]]
assert [p["n"] for p in kp.pareto_front(pts, "x", "y")] == ["d", "c"], kp.pareto_front(pts, "x", "y")
# Throughputs within 1 % count as equal: g does not get on the front by 0.5 % more throughput.
pts2 = [{"n": "h", "x": 100.0, "y": 1.0}, {"n": "g", "x": 100.5, "y": 9.0}]
assert [p["n"] for p in kp.pareto_front(pts2, "x", "y")] == ["h"]
# Keeping up: at least 95 % of the offered rate acknowledged; no offered rate (closed loop, unthrottled, or a sweep.csv
# from before the column) keeps up.
assert kp.keeps_up({"produce.offered_records_per_s": 1000.0, "produce.throughput_records_per_s": 950.0})
assert not kp.keeps_up({"produce.offered_records_per_s": 1000.0, "produce.throughput_records_per_s": 949.0})
assert kp.keeps_up({"produce.throughput_records_per_s": 10.0})
# The sweep's points (the quickstart's 5,000 records/s, acknowledged) carry the offered rate and keep up.

# A point whose run acknowledged nothing after the warm-up has count 0 and zero percentiles: not a latency.
assert kp.has_latencies({"produce.latency_ms.count": 12, "produce.latency_ms.p99": 3.0}, "produce")
assert not kp.has_latencies({"produce.latency_ms.count": 0, "produce.latency_ms.p99": 0.0}, "produce")
assert kp.has_latencies({"produce.latency_ms.count": 0}, "end_to_end")

# The module numbers points as kafkasim sweep does: its values for each point match sweep.csv's columns.
sweep = kp.Sweep(sys.argv[1])
with open(sys.argv[1] + "/sweep.csv") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == 6 and len(sweep.points) == 6
assert all(p["produce.offered_records_per_s"] == 5000 and kp.keeps_up(p) for p in sweep.points)
for r in rows:
    idx = sweep.value_indices(int(r["point"]))
    for d, pointer in enumerate(sweep.pointers):
        assert kp.value_text(sweep.values[d][idx[d]]) == r[pointer], (r["point"], pointer)
assert sweep.labels == ["linger.ms", "acks"]
assert kp.short_labels(["/a/0/x", "/b/0/x", "/c/y"]) == ["a/0/x", "b/0/x", "y"], kp.short_labels(["/a/0/x", "/b/0/x", "/c/y"])

# Fault windows: explicit end, duration, start/end pairs by id, and a start that lasts to the end of the run.
ev = [
    {"time_s": 1.0, "type": "fault", "fault": "disk", "end_s": 2.0},
    {"time_s": 3.0, "type": "fault", "fault": "pause", "duration_s": 0.5},
    {"time_s": 4.0, "type": "fault_start", "id": "p1"},
    {"time_s": 5.0, "type": "isr_shrink"},
    {"time_s": 6.0, "type": "fault_end", "id": "p1"},
    {"time_s": 7.0, "type": "fault_start", "id": "p2"},
]
w = [(s, e) for s, e, _ in kp.fault_windows(ev, 10.0)]
assert w == [(1.0, 2.0), (3.0, 3.5), (4.0, 6.0), (7.0, 10.0)], w
# Young GCs (events.jsonl "young_gc") are read in time order, whatever else the file holds.
ev = [
    {"time_s": 5.1, "type": "young_gc", "broker": 2, "pause_ms": 14.2},
    {"time_s": 1.0, "type": "isr_shrink", "broker": 0},
    {"time_s": 2.5, "type": "young_gc", "broker": 0, "pause_ms": 9.0},
]
assert kp.gc_pauses(ev) == [(2.5, 0, 9.0), (5.1, 2, 14.2)], kp.gc_pauses(ev)
# Operations (events.jsonl "alter_configs") are marked in time order with their entity and changes.
ev = [
    {"time_s": 30.0, "type": "alter_configs", "entity": "topics events", "changes": ["-retention.ms"]},
    {"time_s": 2.0, "type": "fault", "fault": "disk", "end_s": 3.0},
    {"time_s": 10.0, "type": "alter_configs", "entity": "clients c", "changes": ["producer_byte_rate=1", "-request_percentage"]},
]
m = kp.operation_marks(ev)
assert m == [(10.0, "clients c: producer_byte_rate=1 -request_percentage"), (30.0, "topics events: -retention.ms")], m
print("ok")
)PY";
  run_check_script(dir, dir / "sweep");
  fs::remove_all(dir);
}

TEST_CASE("kafkasim_plot.py: the consumer-lag panel draws one line per group, each its group's column") {
  // Two groups on the quickstart's topic, one of them slower than its share of the records (2 consumers x 1 ms a
  // record against 5,000 records/s): timeseries.csv then has a group_<group>_lag_records column each.
  const fs::path dir = fresh_dir("plot-groups");
  REQUIRE(run_kafkasim("run scenarios/quickstart.json --quiet --set '/duration=\"3s\"' --set '/warmup=\"1s\"' "
                       "--set '/consumers/-={\"group\": \"slow\", \"topic\": \"events\", \"count\": 2, "
                       "\"processing_time\": \"1ms\"}' --out " + (dir / "run").string(),
                       dir / "run.log") == 0);
  std::ofstream(dir / "check.py") << R"PY(
import sys
import numpy as np
sys.path.insert(0, "notebooks")
import kafkasim_plot as kp

run = kp.Run(sys.argv[1])
groups = sorted(k for k in run.columns if k.startswith("group_") and k.endswith("_lag_records"))
assert groups == ["group_quickstart-consumers_lag_records", "group_slow_lag_records"], groups
# The groups' columns add up to the total the single-group chart would draw.
total = run.columns["consumer_lag_records"]
assert np.allclose(run.columns[groups[0]] + run.columns[groups[1]], total), (groups, total)
assert run.columns["group_slow_lag_records"][-1] > 1000, run.columns["group_slow_lag_records"]
fig = kp.run_figure(run)
lag = [ax for ax in fig.axes if ax.get_title().startswith("Consumer lag")]
assert len(lag) == 1, [ax.get_title() for ax in fig.axes]
# Labelled lines only: matplotlib names unlabelled artists "_child<n>" (here the warm-up's dashed vertical line).
lines = {l.get_label(): l.get_ydata() for l in lag[0].get_lines() if not l.get_label().startswith("_")}
assert sorted(lines) == ["quickstart-consumers", "slow"], sorted(lines)
for name, key in zip(["quickstart-consumers", "slow"], groups):
    assert np.array_equal(lines[name], run.columns[key]), name
assert lag[0].get_title() == "Consumer lag (sum over partitions, by group)", lag[0].get_title()
# The storage panel: the fullest broker's logs and disk used, the latter never below the former.
storage = [ax for ax in fig.axes if ax.get_title().startswith("Storage")]
assert len(storage) == 1, [ax.get_title() for ax in fig.axes]
lines = {l.get_label(): l.get_ydata() for l in storage[0].get_lines() if not l.get_label().startswith("_")}
assert sorted(lines) == ["disk used", "logs"], sorted(lines)
logs = np.nanmax(np.vstack([run.columns[k] for k in run.broker_columns("log_mib")]), axis=0)
assert np.array_equal(lines["logs"], logs), (lines["logs"], logs)
assert np.all(lines["disk used"] >= lines["logs"]), (lines["disk used"], lines["logs"])
assert lines["logs"][-1] > 0
# A kafka-delete-records run is marked on the charts as the kafka-configs ones are.
marks = kp.operation_marks([{"time_s": 2.5, "type": "delete_records",
                             "partitions": [{"topic": "events", "partition": 0, "offset": -1},
                                            {"topic": "events", "partition": 3, "offset": 1000}]}])
assert marks == [(2.5, "delete-records events-0<HW events-3<1000")], marks
print("ok")
)PY";
  run_check_script(dir, dir / "run");
  fs::remove_all(dir);
}

TEST_CASE("notebooks/sweep.ipynb runs headless with jupyter nbconvert and shows the sweep's charts") {
  const fs::path dir = fresh_dir("notebook");
  REQUIRE(run_kafkasim("sweep scenarios/quickstart.json --quiet --set '/duration=\"1s\"' --set '/warmup=\"200ms\"' "
                   "--param /producers/0/config/linger.ms=0,20 --jobs 2 --out " + (dir / "sweep").string(),
                   dir / "sweep.log") == 0);
  const std::string cmd = "KAFKASIM_SWEEP_DIR=" + (dir / "sweep").string() + " PYDEVD_DISABLE_FILE_VALIDATION=1 " +
                          kPython + " -m nbconvert --to notebook --execute notebooks/sweep.ipynb --output-dir " +
                          dir.string() + " >" + (dir / "nb.log").string() + " 2>&1";
  const int code = shell(cmd);
  CAPTURE(slurp(dir / "nb.log"));
  REQUIRE(code == 0);
  const std::string executed = slurp(dir / "sweep.ipynb");
  // One latency chart for the one parameter, plus the trade-off chart; and the sweep it read is named.
  size_t images = 0;
  for (size_t at = executed.find("\"image/png\""); at != std::string::npos; at = executed.find("\"image/png\"", at + 1)) ++images;
  CHECK(images == 2);
  CHECK(executed.find("2 points") != std::string::npos);
  CHECK(executed.find("\"output_type\": \"error\"") == std::string::npos);
  fs::remove_all(dir);
}
