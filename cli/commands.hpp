// The subcommands of the kafkasim command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kafkasim::cli {

struct RunOptions {
  std::string file;
  std::vector<std::string> set;  // POINTER=VALUE overrides
  std::optional<uint64_t> seed;
  std::string out;
  bool quiet = false;
};

// Exit codes: 0 ok, 1 the run failed, 2 bad input.
int run_scenario(const RunOptions& options);
int validate_scenario(const RunOptions& options);

}  // namespace kafkasim::cli
