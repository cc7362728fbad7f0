#include "kafkasim/cluster/config_error.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace kafkasim::cluster {

namespace {

std::string message(const std::string& file, const std::string& pointer, const std::string& expected,
                    const std::string& found, const std::string& suggestion) {
  std::string m = file.empty() ? std::string("<input>") : file;
  m += ": at ";
  m += pointer.empty() ? std::string("/") : pointer;
  m += ": expected ";
  m += expected;
  if (!found.empty()) m += ", found " + found;
  if (!suggestion.empty()) m += " (did you mean \"" + suggestion + "\"?)";
  return m;
}

std::string normalise(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '_' || c == '-') c = '.';
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

ConfigError::ConfigError(std::string file, std::string pointer, std::string expected, std::string found,
                         std::string suggestion)
    : std::runtime_error(message(file, pointer, expected, found, suggestion)),
      file_(std::move(file)),
      pointer_(std::move(pointer)),
      expected_(std::move(expected)),
      found_(std::move(found)),
      suggestion_(std::move(suggestion)) {}

std::string closest_name(std::string_view name, std::span<const std::string_view> known) {
  const std::string n = normalise(name);
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view k : known) {  // `known` is ordered by the caller: ties go to the first
    const size_t d = edit_distance(n, normalise(k));
    if (d < best_distance) {
      best_distance = d;
      best = std::string(k);
    }
  }
  // Close enough: at most a third of the longer name, and at least one edit allowed.
  const size_t allowed = std::max<size_t>(1, std::max(n.size(), best.size()) / 3);
  if (best_distance <= allowed) return best;
  // Or the start of exactly one known name, as a short form ("nvme" for "nvme-datacentre"; "hdd" names three).
  if (n.size() < 3) return {};
  std::string only;
  for (std::string_view k : known) {
    if (normalise(k).rfind(n, 0) != 0) continue;
    if (!only.empty()) return {};
    only = std::string(k);
  }
  return only;
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

}  // namespace kafkasim::cluster
