#include "kafkasim/cluster/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

namespace kafkasim::cluster {

namespace {

struct NumberAndUnit {
  double number = 0;
  std::string unit;
  bool ok = false;
};

// Splits "1.5 GiB" into 1.5 and "GiB". The number must be finite and non-negative.
NumberAndUnit split(std::string_view text) {
  NumberAndUnit out;
  std::string s(text);
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  size_t start = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                          s[i] == 'E' || ((s[i] == '+' || s[i] == '-') && i > start && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
    ++i;
  if (i == start) return out;
  const std::string num = s.substr(start, i - start);
  char* end = nullptr;
  out.number = std::strtod(num.c_str(), &end);
  if (end == nullptr || *end != '\0' || !std::isfinite(out.number) || out.number < 0) return out;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  size_t unit_end = s.size();
  while (unit_end > i && std::isspace(static_cast<unsigned char>(s[unit_end - 1]))) --unit_end;
  out.unit = s.substr(i, unit_end - i);
  out.ok = true;
  return out;
}

}  // namespace

Parsed<sim::Duration> parse_duration(std::string_view text, int64_t plain_unit_ns) {
  const std::string expected = "a duration such as \"5ms\", \"250us\", \"30s\" (units ns, us, ms, s, min, h, d)";
  const NumberAndUnit p = split(text);
  if (!p.ok) return expected;
  double unit_ns;
  if (p.unit.empty()) unit_ns = static_cast<double>(plain_unit_ns);
  else if (p.unit == "ns") unit_ns = 1;
  else if (p.unit == "us") unit_ns = 1e3;
  else if (p.unit == "ms") unit_ns = 1e6;
  else if (p.unit == "s") unit_ns = 1e9;
  else if (p.unit == "min") unit_ns = 60e9;
  else if (p.unit == "h") unit_ns = 3600e9;
  else if (p.unit == "d") unit_ns = 86400e9;
  else return expected;
  const double ns = p.number * unit_ns;
  if (ns > 9.2e18) return "a duration below 292 years";
  return sim::Duration::from_ns(static_cast<int64_t>(std::llround(ns)));
}

Parsed<uint64_t> parse_bytes(std::string_view text) {
  const std::string expected = "a size such as \"16384\", \"64KiB\", \"1GiB\", \"500MB\"";
  const NumberAndUnit p = split(text);
  if (!p.ok) return expected;
  double scale;
  if (p.unit.empty() || p.unit == "B") scale = 1;
  else if (p.unit == "KB") scale = 1e3;
  else if (p.unit == "MB") scale = 1e6;
  else if (p.unit == "GB") scale = 1e9;
  else if (p.unit == "TB") scale = 1e12;
  else if (p.unit == "KiB") scale = 1024.0;
  else if (p.unit == "MiB") scale = 1024.0 * 1024;
  else if (p.unit == "GiB") scale = 1024.0 * 1024 * 1024;
  else if (p.unit == "TiB") scale = 1024.0 * 1024 * 1024 * 1024;
  else return expected;
  const double bytes = p.number * scale;
  if (bytes > 1.8e19) return "a size below 16 EiB";
  if (bytes != std::floor(bytes)) return "a whole number of bytes";
  return static_cast<uint64_t>(bytes);
}

Parsed<double> parse_bandwidth(std::string_view text) {
  const std::string expected =
      "a bandwidth such as \"10Gbps\", \"125MB/s\", \"1GiB/s\" (bits: bps, Kbps, Mbps, Gbps; bytes: B/s, KB/s, MB/s, "
      "GB/s, KiB/s, MiB/s, GiB/s)";
  const NumberAndUnit p = split(text);
  if (!p.ok) return expected;
  double bytes_per_unit;
  if (p.unit.empty() || p.unit == "B/s") bytes_per_unit = 1;
  else if (p.unit == "bps") bytes_per_unit = 1.0 / 8;
  else if (p.unit == "Kbps") bytes_per_unit = 1e3 / 8;
  else if (p.unit == "Mbps") bytes_per_unit = 1e6 / 8;
  else if (p.unit == "Gbps") bytes_per_unit = 1e9 / 8;
  else if (p.unit == "KB/s") bytes_per_unit = 1e3;
  else if (p.unit == "MB/s") bytes_per_unit = 1e6;
  else if (p.unit == "GB/s") bytes_per_unit = 1e9;
  else if (p.unit == "KiB/s") bytes_per_unit = 1024.0;
  else if (p.unit == "MiB/s") bytes_per_unit = 1024.0 * 1024;
  else if (p.unit == "GiB/s") bytes_per_unit = 1024.0 * 1024 * 1024;
  else return expected;
  return p.number * bytes_per_unit;
}

Parsed<sim::Duration> parse_iso8601_duration(std::string_view text) {
  // java.time.Duration.parse: [+-]P[nD][T[nH][nM][n[.f]S]], letters in either case, a sign on the whole and on
  // each number, up to 9 fraction digits (with '.' or ','), at least one part, and a T only before a part.
  const std::string expected = "an ISO-8601 duration PnDTnHnMn.nS (e.g. PT30S, PT1H30M, P1D)";
  std::string_view s = text;
  size_t i = 0;
  auto upper = [&](size_t k) { return static_cast<char>(std::toupper(static_cast<unsigned char>(s[k]))); };
  auto sign = [&](int64_t& out) {
    out = 1;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) out = s[i++] == '-' ? -1 : 1;
  };
  int64_t whole_sign = 1;
  sign(whole_sign);
  if (i >= s.size() || upper(i) != 'P') return expected;
  ++i;
  // 2^63 ns is about 292 years: larger durations do not fit the simulator's clock.
  const std::string too_long = "a duration of at most 292 years (2^63 ns)";
  int64_t total = 0;
  bool any = false, in_time = false, time_part = false;
  char last_unit = 0;  // units must come in the order D, H, M, S
  static constexpr std::string_view kOrder = "DHMS";
  while (i < s.size()) {
    if (upper(i) == 'T') {
      if (in_time) return expected;
      in_time = true;
      ++i;
      continue;
    }
    int64_t part_sign = 1;
    sign(part_sign);
    const size_t digits_start = i;
    int64_t whole = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, s[i++] - '0', &whole))
        return too_long;
    }
    if (i == digits_start) return expected;
    int64_t fraction_ns = 0;
    bool has_fraction = false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      has_fraction = true;
      ++i;
      int digits = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        if (++digits > 9) return expected;
        fraction_ns = fraction_ns * 10 + (s[i++] - '0');
      }
      for (int d = digits; d < 9; ++d) fraction_ns *= 10;
    }
    if (i >= s.size()) return expected;
    const char unit = upper(i++);
    const size_t rank = kOrder.find(unit);
    if (rank == std::string_view::npos || (unit == 'D') == in_time || (has_fraction && unit != 'S') ||
        (last_unit != 0 && rank <= kOrder.find(last_unit)))
      return expected;
    last_unit = unit;
    static constexpr int64_t kUnitNs[] = {86'400'000'000'000, 3'600'000'000'000, 60'000'000'000, 1'000'000'000};
    int64_t part = 0;
    if (__builtin_mul_overflow(whole, kUnitNs[rank], &part) || __builtin_add_overflow(part, fraction_ns, &part) ||
        __builtin_add_overflow(total, part_sign * part, &total))
      return too_long;
    any = true;
    time_part = time_part || in_time;
  }
  if (!any || (in_time && !time_part)) return expected;
  if (total == std::numeric_limits<int64_t>::min()) return too_long;
  return sim::Duration::from_ns(whole_sign * total);
}

std::string format_simple_date(std::string_view pattern, int64_t epoch_ms) {
  if (epoch_ms < 0) throw std::invalid_argument("a time before 1970-01-01 00:00:00 UTC");
  const int64_t days = epoch_ms / 86'400'000;
  const int64_t ms_of_day = epoch_ms % 86'400'000;
  // Days since 1970-01-01 to a civil date (proleptic Gregorian; the simulated clock never reads before 1970).
  const int64_t z = days + 719'468;
  const int64_t era = z / 146'097;
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\'') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        out += '\'';
        i += 2;
        continue;
      }
      // Quoted text up to the closing quote; inside it too, '' is a quote.
      size_t j = i + 1;
      while (true) {
        if (j >= pattern.size()) throw std::invalid_argument("Unterminated quote");
        if (pattern[j] != '\'') {
          out += pattern[j++];
        } else if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
          out += '\'';
          j += 2;
        } else {
          break;
        }
      }
      i = j + 1;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      out += c;
      ++i;
      continue;
    }
    size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) ++run;
    int64_t value = 0;
    switch (c) {
      case 'y': value = run == 2 ? year % 100 : year; break;
      case 'M': value = month; break;
      case 'd': value = day; break;
      case 'H': value = ms_of_day / 3'600'000; break;
      case 'm': value = ms_of_day / 60'000 % 60; break;
      case 's': value = ms_of_day / 1000 % 60; break;
      case 'S': value = ms_of_day % 1000; break;
      default:
        throw std::invalid_argument(std::string("Illegal pattern character '") + c +
                                    "' (kafkasim formats y, M, d, H, m, s and S)");
    }
    std::string digits = std::to_string(value);
    if (digits.size() < run) digits.insert(0, run - digits.size(), '0');
    out += digits;
    i += run;
  }
  return out;
}

}  // namespace kafkasim::cluster
