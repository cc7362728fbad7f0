#include "kafkasim/sim/time.hpp"

#include <cinttypes>
#include <cstdio>

namespace kafkasim::sim {

std::string to_string(Duration d) {
  const int64_t ns = d.ns();
  const int64_t mag = ns < 0 ? -ns : ns;
  char buf[64];
  if (mag == 0) return "0s";
  if (mag % 1'000'000'000 == 0) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "s", ns / 1'000'000'000);
  } else if (mag >= 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.6fs", d.seconds_f());
  } else if (mag >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.3fms", d.ms_f());
  } else if (mag >= 1'000) {
    std::snprintf(buf, sizeof buf, "%.3fus", d.us_f());
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "ns", ns);
  }
  return buf;
}

std::string to_string(SimTime t) { return "t=" + to_string(t.since_start()); }

}  // namespace kafkasim::sim
