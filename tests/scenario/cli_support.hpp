// Running the built kafkasim command from a test, as a user runs it.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace kafkasim::test {

// " --set 'POINTER=VALUE'" with VALUE the JSON text given (checked, written compactly): a JSON value for kafkasim's
// --set, quoted for the shell.
inline std::string set_json(const std::string& pointer, const std::string& json_text) {
  return " --set '" + pointer + "=" + nlohmann::json::parse(json_text).dump() + "'";
}

// Runs `kafkasim ARGS` from the source tree (the tests' working directory) with stdout and stderr into `log`;
// returns the exit code (-1 when killed by a signal).
inline int run_kafkasim(const std::string& args, const std::filesystem::path& log) {
  const std::string cmd = std::string(KAFKASIM_BINARY) + " " + args + " >" + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `kafkasim ARGS`, requires it to succeed, and returns what it printed (stdout and stderr, kept in `log`).
inline std::string run_kafkasim_ok(const std::string& args, const std::filesystem::path& log) {
  REQUIRE(run_kafkasim(args, log) == 0);
  return slurp(log);
}

// Runs a shell command line; returns its exit code.
inline int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// An empty directory of this test process under the system's temporary directory.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("kafkasim-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!text.empty() && text.back() == sep) parts.emplace_back();
  return parts;
}

// Whitespace-separated fields.
inline std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// A CSV file as kafkasim writes it (sweep.csv, timeseries.csv): a header line, then rows of plain cells (nothing the
// tests read needs quoting), each row keyed by the header's column names.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

inline Csv read_csv(const std::filesystem::path& path) {
  Csv csv;
  const auto lines = lines_of(slurp(path));
  REQUIRE(!lines.empty());
  csv.header = split(lines[0], ',');
  for (size_t i = 1; i < lines.size(); ++i) {
    REQUIRE(lines[i].find('"') == std::string::npos);
    const auto cells = split(lines[i], ',');
    REQUIRE(cells.size() == csv.header.size());
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < cells.size(); ++c) row[csv.header[c]] = cells[c];
    csv.rows.push_back(row);
  }
  return csv;
}

}  // namespace kafkasim::test
