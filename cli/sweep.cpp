// `kafkasim sweep` and `kafkasim merge`.
//
// A sweep is the cartesian product of the --param value lists (the first --param varies slowest) times --seeds
// seeds. Each (point, seed) is one run, numbered in that order; `--shard i/n` keeps the runs whose number is
// i - 1 modulo n, so the slices of n machines are disjoint, cover the sweep, and are balanced even when cost grows
// along one parameter.
//
// Parallelism: each run is a child process of this same binary (`kafkasim run FILE --seed S --set ... --out
// DIR/runs/<run>`), at most --jobs at a time. Processes rather than threads each owning a World, because
//  - a run's directory is then byte-for-byte what `kafkasim run` writes, by construction;
//  - a run that hits an always-on assertion aborts its own process only: the sweep records that point as failed
//    and goes on, instead of losing every run in flight;
//  - nothing in the simulator has to be audited for state shared between threads (the assertion handler and the
//    bundled-profile lookup are process-wide), now or after later changes to the hot paths.
// A process costs a few milliseconds to start against seconds of simulation. Results cannot depend on --jobs:
// every run is a separate deterministic simulation, and sweep.csv is assembled afterwards in run order.
//
// Resuming: a run's directory appears only when the run has finished (kafkasim run writes a temporary directory
// and renames it), so a directory whose manifest carries the scenario hash this point expects is a finished run
// and is not run again. sweep.json records the sweep's definition; an --out directory holding a different sweep
// is refused. sweep.csv is written last (temporary file, then rename).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "kafkasim/build_info.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/run_output.hpp"
#include "kafkasim/cluster/scenario.hpp"

extern char** environ;

namespace kafkasim::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using WallClock = std::chrono::steady_clock;  // progress only; never seen by a simulation

constexpr uint64_t kRunsMax = 100'000;  // bound on one sweep (STYLE.md "bound everything")
constexpr uint32_t kSeedsMax = 10'000;
constexpr uint32_t kJobsMax = 1024;

// Bad command-line input: reported as "error: ..." with exit code 2.
struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Param {
  std::string pointer;
  std::vector<std::string> texts;  // each value as written
  std::vector<json> values;        // each value as --set reads it
};

struct Run {
  uint64_t number = 0;  // 0-based, in sweep order: point-major, then seed
  uint64_t point = 0;   // 1-based
  uint64_t seed = 0;
  std::string id;  // its directory under runs/
  std::vector<std::string> sets;  // the --set overrides of the point (after the sweep's own --set)
  std::string scenario_hash;      // what its manifest must carry
};

// --------------------------------------------------------------------------------------------------------------
// Parsing the command line

// The value of one --set or --param item: JSON when it parses as JSON, else the plain string, exactly as
// apply_set_override reads `--set POINTER=VALUE`.
json set_value(const std::string& text) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? json(text) : v;
}

// Splits "v1,v2,..." at the commas outside JSON strings, arrays and objects.
std::vector<std::string> split_values(const std::string& list, const std::string& option) {
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (in_string) {
      current.push_back(c);
      if (c == '\\' && i + 1 < list.size()) current.push_back(list[++i]);
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') {
      if (--depth < 0) throw BadInput(option + ": unbalanced '" + std::string(1, c) + "' in the value list");
    }
    current.push_back(c);
  }
  if (in_string) throw BadInput(option + ": a string value has no closing quote");
  if (depth != 0) throw BadInput(option + ": unbalanced brackets in the value list");
  items.push_back(current);
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].empty())
      throw BadInput(option + ": value " + std::to_string(i + 1) + " of " + std::to_string(items.size()) +
                     " is empty (expected comma-separated values such as 0,5,20)");
  return items;
}

Param parse_param(const std::string& text) {
  const std::string option = "--param " + text;
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || text[0] != '/')
    throw BadInput(option + ": expected a JSON pointer, '=' and comma-separated values, such as "
                            "--param /producers/0/config/linger.ms=0,5,20 (strings in quotes: '--param "
                            "/producers/0/config/acks=\"1\",\"all\"')");
  Param p;
  p.pointer = text.substr(0, eq);
  p.texts = split_values(text.substr(eq + 1), option);
  for (const std::string& t : p.texts) {
    json v = set_value(t);
    for (size_t i = 0; i < p.values.size(); ++i)
      if (p.values[i] == v) throw BadInput(option + ": the value " + t + " is listed twice");
    p.values.push_back(std::move(v));
  }
  return p;
}

// "--shard i/n" with 1 <= i <= n.
std::pair<uint64_t, uint64_t> parse_shard(const std::string& text) {
  const std::string expected = "--shard " + text + ": expected i/n with 1 <= i <= n, such as --shard 2/4";
  const size_t slash = text.find('/');
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw BadInput(expected);
    return std::stoull(s);
  };
  if (slash == std::string::npos) throw BadInput(expected);
  const uint64_t i = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
  if (i < 1 || i > n) throw BadInput(expected);
  return {i, n};
}

// --------------------------------------------------------------------------------------------------------------
// Files

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to a temporary sibling, then renames it over `path`, so `path` is never half-written.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp.string() + " to " + path.string() + ": " + ec.message());
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// RFC 4180: quoted cells may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& file) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, cell_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"' && !cell_started) {
      quoted = cell_started = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(cell));
      rows.push_back(std::move(row));
      row.clear();
      cell.clear();
      cell_started = false;
    } else {
      cell.push_back(c);
      cell_started = true;
    }
  }
  if (quoted) throw BadInput(file + ": a quoted cell is not closed");
  if (cell_started || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

// summary.json flattened to "produce.latency_ms.p99" -> text. Per-resource utilisation, per-connection backlog and
// full windows (their keys depend on the cluster's size and on which connections queued) stay in the run directory; wall-clock
// time would make sweep.csv differ between runs.
void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (name == "utilisation" || name == "connection_backlog" || name == "window_full" || name == "sim.wall_seconds")
      continue;
    if (value.is_object()) flatten(value, name, out);
    else out[name] = value.is_string() ? value.get<std::string>() : value.dump();
  }
}

std::vector<std::string> components(const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream in(name);
  for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
  return parts;
}

// One row per run: the fixed columns, then every other column in the nested order of summary.json.
std::string sweep_csv(const std::vector<std::string>& fixed, const std::vector<std::map<std::string, std::string>>& rows) {
  const std::set<std::string> fixed_set(fixed.begin(), fixed.end());
  std::set<std::string> others;
  for (const auto& row : rows)
    for (const auto& [name, value] : row)
      if (!fixed_set.count(name)) others.insert(name);
  std::vector<std::string> metrics(others.begin(), others.end());
  std::sort(metrics.begin(), metrics.end(), [](const std::string& a, const std::string& b) { return components(a) < components(b); });
  std::vector<std::string> columns = fixed;
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) out.push_back(',');
    out += csv_cell(columns[c]);
  }
  out += "\n";
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto it = row.find(columns[c]);
      if (c > 0) out.push_back(',');
      if (it != row.end()) out += csv_cell(it->second);
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> fixed_columns(const json& definition) {
  std::vector<std::string> fixed = {"point", "seed"};
  for (const auto& p : definition["params"]) fixed.push_back(p["pointer"].get<std::string>());
  fixed.push_back("status");
  fixed.push_back("run");
  return fixed;
}

std::string run_id(uint64_t point, uint64_t points, uint64_t seed) {
  const size_t width = std::max<size_t>(4, std::to_string(points).size());
  std::string p = std::to_string(point);
  p.insert(0, width - p.size(), '0');
  return "point-" + p + "-seed-" + std::to_string(seed);
}

bool is_sweep_dir(const fs::path& dir) { return fs::exists(dir / "sweep.json"); }

bool empty_dir(const fs::path& dir) { return fs::is_directory(dir) && fs::directory_iterator(dir) == fs::directory_iterator(); }

// --------------------------------------------------------------------------------------------------------------
// Child processes

pid_t spawn_run(const std::string& exe, const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
  return pid;
}

std::string hms(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void draw_progress(uint64_t done, uint64_t total, size_t running, uint64_t finished_now, uint64_t remaining,
                   double elapsed) {
  constexpr int kWidth = 28;
  const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '-');
  // Throughput so far (runs finished per wall second, whatever the parallelism) predicts the rest.
  const std::string eta = finished_now > 0 ? hms(elapsed / static_cast<double>(finished_now) * static_cast<double>(remaining)) : "--:--";
  std::fprintf(stderr, "\r  [%s] %llu/%llu runs %3.0f%%  %zu running  elapsed %s  ETA %s   ", bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
               total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, running, hms(elapsed).c_str(),
               eta.c_str());
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "failed (exit " + std::to_string(WEXITSTATUS(status)) + ")";
  if (WIFSIGNALED(status)) return "failed (signal " + std::to_string(WTERMSIG(status)) + ")";
  return "failed";
}

// --------------------------------------------------------------------------------------------------------------

int sweep(const SweepOptions& o) {
  if (o.seeds < 1 || o.seeds > kSeedsMax) throw BadInput("--seeds " + std::to_string(o.seeds) + ": expected 1 to " + std::to_string(kSeedsMax));
  if (o.jobs > kJobsMax) throw BadInput("--jobs " + std::to_string(o.jobs) + ": expected 1 to " + std::to_string(kJobsMax));
  if (o.params.empty()) throw BadInput("at least one --param POINTER=v1,v2,... is needed");
  std::vector<Param> params;
  for (const std::string& text : o.params) {
    params.push_back(parse_param(text));
    if (params.back().pointer == "/seed") throw BadInput("--param /seed: sweep seeds with --seed N --seeds K");
    for (size_t i = 0; i + 1 < params.size(); ++i)
      if (params[i].pointer == params.back().pointer) throw BadInput("--param " + params.back().pointer + " is given twice");
    for (const std::string& s : o.set)
      if (s.substr(0, s.find('=')) == params.back().pointer)
        throw BadInput("--param " + params.back().pointer + " is also given with --set; keep one of them");
  }
  uint64_t points = 1;
  for (const Param& p : params) {
    points *= p.values.size();
    if (points * o.seeds > kRunsMax) throw BadInput("the sweep has more than " + std::to_string(kRunsMax) + " runs");
  }
  const auto [shard_index, shard_count] = o.shard.empty() ? std::pair<uint64_t, uint64_t>{1, 1} : parse_shard(o.shard);

  // Every point must load, before anything runs; the first seed is the scenario's unless --seed is given.
  cluster::ScenarioExtras extras;
  uint64_t first_seed = 0;
  std::vector<Run> runs;
  std::vector<std::string> warnings;  // each once, however many points share it
  for (uint64_t pt = 0; pt < points; ++pt) {
    std::vector<std::string> sets = o.set;
    std::vector<std::string> point_sets;
    uint64_t rest = pt;
    std::vector<size_t> digits(params.size());
    for (size_t d = params.size(); d-- > 0;) {
      digits[d] = rest % params[d].values.size();
      rest /= params[d].values.size();
    }
    for (size_t d = 0; d < params.size(); ++d) point_sets.push_back(params[d].pointer + "=" + params[d].texts[digits[d]]);
    sets.insert(sets.end(), point_sets.begin(), point_sets.end());
    cluster::WorldSpec spec;
    try {
      spec = cluster::load_scenario(o.file, sets, &extras);
    } catch (const cluster::ConfigError& e) {
      std::string where;
      for (const auto& s : point_sets) {
        if (!where.empty()) where.push_back(' ');
        where += s;
      }
      throw BadInput("point " + std::to_string(pt + 1) + " of " + std::to_string(points) + " (" + where + "): " + e.what());
    }
    if (pt == 0) first_seed = o.seed.value_or(spec.seed);
    for (const auto& w : extras.warnings)
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
    for (uint32_t k = 0; k < o.seeds; ++k) {
      Run r;
      r.number = pt * o.seeds + k;
      r.point = pt + 1;
      r.seed = first_seed + k;
      r.id = run_id(r.point, points, r.seed);
      r.sets = point_sets;
      spec.seed = r.seed;
      cluster::RunManifest m;
      m.seed = r.seed;
      m.resolved_scenario = cluster::resolved_scenario(spec, extras);
      r.scenario_hash = cluster::manifest_json(m)["scenario_hash"].get<std::string>();
      if (r.number % shard_count == shard_index - 1) runs.push_back(std::move(r));
    }
  }

  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

  // The scenario path as written, normalised so that "./a.json" resumes a sweep of "a.json".
  const std::string scenario_file = fs::path(o.file).lexically_normal().generic_string();
  json definition = {{"kafkasim_sweep", 1}, {"scenario_file", scenario_file}, {"set", o.set}, {"params", json::array()}};
  for (const Param& p : params) definition["params"].push_back({{"pointer", p.pointer}, {"values", p.values}});
  json seeds = json::array();
  for (uint32_t k = 0; k < o.seeds; ++k) seeds.push_back(first_seed + k);
  definition["seeds"] = seeds;
  definition["points"] = points;
  definition["runs"] = points * o.seeds;
  definition["shard"] = o.shard.empty() ? json(nullptr) : json(std::to_string(shard_index) + "/" + std::to_string(shard_count));

  const fs::path out(o.out);
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) throw BadInput("--out " + o.out + " is a file");
    if (is_sweep_dir(out)) {
      json previous = json::parse(read_file(out / "sweep.json"), nullptr, false);
      if (previous != definition)
        throw BadInput("--out " + o.out + " holds a different sweep (see its sweep.json): choose another directory or remove it");
    } else if (!empty_dir(out)) {
      throw BadInput("--out " + o.out + " exists and is not a kafkasim sweep directory");
    }
  }
  fs::create_directories(out / "runs");
  write_atomically(out / "sweep.json", definition.dump(2) + "\n");

  // Finished runs are kept.
  std::vector<const Run*> todo;
  uint64_t resumed = 0;
  for (const Run& r : runs) {
    const fs::path dir = out / "runs" / r.id;
    if (fs::exists(dir / "summary.json") && fs::exists(dir / "manifest.json")) {
      const json m = json::parse(read_file(dir / "manifest.json"), nullptr, false);
      if (!m.is_discarded() && m.value("scenario_hash", "") == r.scenario_hash) {
        ++resumed;
        continue;
      }
      std::fprintf(stderr, "note: %s was run from another scenario: running it again\n", dir.string().c_str());
    }
    todo.push_back(&r);
  }

  const uint32_t jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::string shard_text = o.shard.empty() ? "" : ", shard " + definition["shard"].get<std::string>() + ": " + std::to_string(runs.size()) + " runs";
  std::printf("kafkasim sweep %s: %llu points x %u seed%s = %llu runs%s, %u jobs\n", o.file.c_str(),
              static_cast<unsigned long long>(points), o.seeds, o.seeds == 1 ? "" : "s", static_cast<unsigned long long>(points * o.seeds),
              shard_text.c_str(), jobs);
  std::string reproduce = "reproduce: kafkasim sweep " + o.file;
  for (const auto& s : o.set) reproduce += " --set '" + s + "'";
  for (const auto& p : o.params) reproduce += " --param '" + p + "'";
  reproduce += " --seed " + std::to_string(first_seed) + " --seeds " + std::to_string(o.seeds);
  if (!o.shard.empty()) reproduce += " --shard " + o.shard;
  std::printf("%s --out %s\n", reproduce.c_str(), o.out.c_str());
  if (resumed > 0) std::printf("  resuming               %llu of %zu runs already done\n", static_cast<unsigned long long>(resumed), runs.size());
  std::fflush(stdout);

  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  const bool tty = isatty(STDERR_FILENO) != 0 && !o.quiet;
  const auto start = WallClock::now();
  std::map<pid_t, const Run*> running;
  std::map<std::string, std::string> failures;  // run id -> status
  size_t next = 0;
  uint64_t finished_now = 0;
  auto last_draw = start - std::chrono::seconds(1);
  while (next < todo.size() || !running.empty()) {
    while (running.size() < jobs && next < todo.size()) {
      const Run& r = *todo[next++];
      std::vector<std::string> args = {"run", o.file, "--quiet", "--seed", std::to_string(r.seed)};
      for (const auto& s : o.set) args.insert(args.end(), {"--set", s});
      for (const auto& s : r.sets) args.insert(args.end(), {"--set", s});
      args.insert(args.end(), {"--out", (out / "runs" / r.id).string()});
      running[spawn_run(exe, args, out / "runs" / (r.id + ".log"))] = &r;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const Run& r = *running[pid];
      running.erase(pid);
      ++finished_now;
      const fs::path log = out / "runs" / (r.id + ".log");
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(out / "runs" / r.id / "summary.json")) {
        fs::remove(log);
      } else {
        failures[r.id] = exit_text(status);
        if (tty) std::fprintf(stderr, "\r%100s\r", "");
        std::fprintf(stderr, "run %s %s: see %s\n", r.id.c_str(), failures[r.id].c_str(), log.string().c_str());
      }
    } else if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto now = WallClock::now();
    if (tty && now - last_draw >= std::chrono::milliseconds(250)) {
      last_draw = now;
      draw_progress(resumed + finished_now, runs.size(), running.size(), finished_now, todo.size() - finished_now,
                    std::chrono::duration<double>(now - start).count());
    }
  }
  const double wall = std::chrono::duration<double>(WallClock::now() - start).count();
  if (tty) std::fprintf(stderr, "\r%100s\r", "");

  // sweep.csv, in run order whatever the completion order.
  std::vector<std::map<std::string, std::string>> rows;
  for (const Run& r : runs) {
    std::map<std::string, std::string> row;
    row["point"] = std::to_string(r.point);
    row["seed"] = std::to_string(r.seed);
    for (const std::string& s : r.sets) {
      const size_t eq = s.find('=');
      const json v = set_value(s.substr(eq + 1));
      row[s.substr(0, eq)] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    row["run"] = "runs/" + r.id;
    const auto failed = failures.find(r.id);
    if (failed != failures.end()) {
      row["status"] = failed->second;
    } else {
      row["status"] = "ok";
      const json summary = json::parse(read_file(out / "runs" / r.id / "summary.json"), nullptr, false);
      if (summary.is_discarded()) throw std::runtime_error(r.id + "/summary.json is not valid JSON");
      flatten(summary, "", row);
    }
    rows.push_back(std::move(row));
  }
  write_atomically(out / "sweep.csv", sweep_csv(fixed_columns(definition), rows));
  std::printf("  runs                   %llu run now, %llu already done, %zu failed\n",
              static_cast<unsigned long long>(finished_now), static_cast<unsigned long long>(resumed), failures.size());
  std::printf("  wall time              %.1f s\n", wall);
  std::printf("  outputs                %s/sweep.csv, %s/runs/\n", o.out.c_str(), o.out.c_str());
  return failures.empty() ? 0 : 1;
}

int merge(const MergeOptions& o) {
  if (o.dirs.empty()) throw BadInput("merge needs the shard directories");
  json definition;
  std::map<uint64_t, std::string> shards;  // shard index -> dir
  uint64_t count = 0;
  std::vector<std::map<std::string, std::string>> rows;
  std::set<std::pair<uint64_t, uint64_t>> seen;  // (point, seed)
  for (const std::string& d : o.dirs) {
    const fs::path dir(d);
    if (!is_sweep_dir(dir)) throw BadInput(d + " is not a kafkasim sweep directory (no sweep.json)");
    if (!fs::exists(dir / "sweep.csv")) throw BadInput(d + " has no sweep.csv: its sweep has not finished");
    json def = json::parse(read_file(dir / "sweep.json"), nullptr, false);
    if (def.is_discarded() || !def.contains("params") || !def.contains("seeds") || !def.contains("points"))
      throw BadInput(d + "/sweep.json is not a kafkasim sweep definition");
    const std::string shard_text = def["shard"].is_string() ? def["shard"].get<std::string>() : "1/1";
    const auto [i, n] = parse_shard(shard_text);
    def.erase("shard");
    if (definition.is_null()) {
      definition = def;
      count = n;
    } else if (def != definition || n != count) {
      throw BadInput(d + " is a shard of a different sweep than " + o.dirs.front() + " (their sweep.json differ)");
    }
    if (shards.count(i)) throw BadInput(d + " and " + shards[i] + " are both shard " + shard_text);
    shards[i] = d;

    // Its rows must be exactly the runs of its slice.
    const auto table = parse_csv(read_file(dir / "sweep.csv"), d + "/sweep.csv");
    if (table.empty()) throw BadInput(d + "/sweep.csv is empty");
    const std::vector<std::string>& header = table.front();
    std::set<std::pair<uint64_t, uint64_t>> expected;
    const uint64_t seeds = definition["seeds"].size();
    for (uint64_t r = 0; r < definition["points"].get<uint64_t>() * seeds; ++r)
      if (r % n == i - 1) expected.insert({r / seeds + 1, definition["seeds"][r % seeds].get<uint64_t>()});
    std::set<std::pair<uint64_t, uint64_t>> found;
    for (size_t k = 1; k < table.size(); ++k) {
      if (table[k].size() != header.size()) throw BadInput(d + "/sweep.csv line " + std::to_string(k + 1) + " has " +
                                                           std::to_string(table[k].size()) + " cells, the header " + std::to_string(header.size()));
      std::map<std::string, std::string> row;
      for (size_t c = 0; c < header.size(); ++c) row[header[c]] = table[k][c];
      try {
        found.insert({std::stoull(row.at("point")), std::stoull(row.at("seed"))});
      } catch (const std::exception&) {
        throw BadInput(d + "/sweep.csv line " + std::to_string(k + 1) + " has no valid point and seed");
      }
      rows.push_back(std::move(row));
    }
    if (found != expected)
      throw BadInput(d + "/sweep.csv does not hold exactly the " + std::to_string(expected.size()) + " runs of shard " + shard_text);
  }
  if (shards.size() != count)
    throw BadInput("got " + std::to_string(shards.size()) + " of the " + std::to_string(count) + " shards; missing shard " +
                   [&] {
                     for (uint64_t i = 1; i <= count; ++i)
                       if (!shards.count(i)) return std::to_string(i) + "/" + std::to_string(count);
                     return std::string();
                   }());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::make_pair(std::stoull(a.at("point")), std::stoull(a.at("seed"))) <
           std::make_pair(std::stoull(b.at("point")), std::stoull(b.at("seed")));
  });
  definition["shard"] = nullptr;

  // Everything goes into a temporary sibling directory that replaces --out at the end.
  const fs::path target = fs::absolute(o.out);
  if (fs::exists(target) && !is_sweep_dir(target) && !empty_dir(target))
    throw BadInput("--out " + o.out + " exists and is not a kafkasim sweep directory");
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp / "runs");
  for (const auto& [i, d] : shards) {
    if (!fs::is_directory(fs::path(d) / "runs")) continue;
    for (const auto& entry : fs::directory_iterator(fs::path(d) / "runs")) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.') continue;  // a run in progress
      fs::copy(entry.path(), tmp / "runs" / name, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
  }
  write_atomically(tmp / "sweep.json", definition.dump(2) + "\n");
  write_atomically(tmp / "sweep.csv", sweep_csv(fixed_columns(definition), rows));
  fs::remove_all(target);
  fs::rename(tmp, target);
  std::printf("kafkasim merge: %zu shards, %zu runs -> %s/sweep.csv\n", shards.size(), rows.size(), o.out.c_str());
  return 0;
}

}  // namespace

namespace {

// Runs a command, turning its exceptions into an error line and the exit code (2 bad input, 1 failure).
template <typename Command>
int with_exit_codes(Command&& command) {
  try {
    return command();
  } catch (const BadInput& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int run_sweep(const SweepOptions& options) {
  return with_exit_codes([&] { return sweep(options); });
}

int merge_sweeps(const MergeOptions& options) {
  return with_exit_codes([&] { return merge(options); });
}

}  // namespace kafkasim::cli
