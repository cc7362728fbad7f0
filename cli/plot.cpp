// `kafkasim plot`: PNG charts of a run or a sweep, drawn by notebooks/kafkasim_plot.py with Debian's Python 3 and
// matplotlib. The interpreter is /usr/bin/python3 because a `python3` earlier on PATH may be another installation
// without matplotlib; KAFKASIM_PYTHON and KAFKASIM_PLOT_SCRIPT override the two paths.
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"

extern char** environ;

namespace kafkasim::cli {

namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// notebooks/kafkasim_plot.py of the source tree this binary was built from, else next to the binary.
std::string plot_script() {
  const std::string configured = env_or("KAFKASIM_PLOT_SCRIPT", "");
  if (!configured.empty()) return configured;
  const fs::path built = fs::path(KAFKASIM_NOTEBOOKS_DIR) / "kafkasim_plot.py";
  if (fs::exists(built)) return built.string();
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path().parent_path() / "notebooks" / "kafkasim_plot.py").string();
}

}  // namespace

int plot_results(const PlotOptions& o) {
  const fs::path dir(o.dir);
  if (!fs::is_directory(dir) || !(fs::exists(dir / "sweep.csv") || fs::exists(dir / "timeseries.csv"))) {
    std::fprintf(stderr, "error: %s: expected a run directory (timeseries.csv) or a sweep directory (sweep.csv)\n",
                 o.dir.c_str());
    return 2;
  }
  const std::string python = env_or("KAFKASIM_PYTHON", "/usr/bin/python3");
  const std::string script = plot_script();
  if (!fs::exists(script)) {
    std::fprintf(stderr, "error: the plotting script %s is missing (set KAFKASIM_PLOT_SCRIPT)\n", script.c_str());
    return 1;
  }
  std::vector<std::string> args = {python, script, o.dir, "--out", o.out.empty() ? o.dir : o.out};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    std::fprintf(stderr, "error: cannot start %s: %s (install python3-matplotlib: ./scripts/setup)\n", python.c_str(),
                 std::strerror(rc));
    return 1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1;
}

}  // namespace kafkasim::cli
