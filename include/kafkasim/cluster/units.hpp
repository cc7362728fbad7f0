// Quantities with units, as users write them in scenarios and profiles: "5ms", "30s", "1GiB", "10Gbps".
// Each parser returns the value or a message saying what was expected; callers wrap it in a ConfigError
// with the file and JSON pointer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

template <typename T>
using Parsed = std::variant<T, std::string>;  // the value, or what was wrong

// Durations: a number with ns, us, ms, s, min, h, d (e.g. "250us", "1.5s"). A plain number (no unit) is taken
// in `plain_unit_ns` nanoseconds per unit, so "linger.ms": 5 means 5 ms.
Parsed<sim::Duration> parse_duration(std::string_view text, int64_t plain_unit_ns);
// Sizes in bytes: B, KB/MB/GB/TB (10^3 steps), KiB/MiB/GiB/TiB (2^10 steps). A plain number is bytes.
Parsed<uint64_t> parse_bytes(std::string_view text);
// Bandwidths in bytes per second: bps/Kbps/Mbps/Gbps (bits, 10^3 steps), B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s,
// GiB/s. A plain number is bytes per second.
Parsed<double> parse_bandwidth(std::string_view text);
// ISO-8601 durations as java.time.Duration.parse reads them (auto.offset.reset=by_duration:PT1H, KIP-1106): days,
// hours, minutes and seconds with an optional fraction, "PT1H30M", "P1D", "PT0.5S". The result may be negative
// ("-PT1S", "PT-1S"); callers that need a non-negative one say so.
Parsed<sim::Duration> parse_iso8601_duration(std::string_view text);

// A time as java.text.SimpleDateFormat prints it, for the patterns Kafka's tools take in practice (their
// --date-format): the letters y, M, d, H, m, s and S (a run of n letters is the field with at least n digits; "yy" is
// the year's last two digits), quoted text ('...', and '' for a quote) and any other character as itself. `epoch_ms`
// counts from 1970-01-01 00:00:00 UTC, at least 0: the simulated clock reads the epoch at time zero, as the
// records' timestamps do. Throws std::invalid_argument for another letter or an unterminated quote.
std::string format_simple_date(std::string_view pattern, int64_t epoch_ms);

}  // namespace kafkasim::cluster
