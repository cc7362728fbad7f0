// Simulated time: integer nanoseconds in strong types.
//
// `Duration` is a span of time, `SimTime` an instant since the start of a simulation. Both wrap an int64_t
// count of nanoseconds, so event order never depends on floating-point rounding. Conversions to and from
// floating-point exist for reporting and for model arithmetic, and always round explicitly.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace kafkasim::sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration from_ns(int64_t ns) { return Duration(ns); }
  static constexpr Duration from_us(int64_t us) { return Duration(us * 1'000); }
  static constexpr Duration from_ms(int64_t ms) { return Duration(ms * 1'000'000); }
  static constexpr Duration from_s(int64_t s) { return Duration(s * 1'000'000'000); }
  // Rounds to the nearest nanosecond; used where a model computes a time from rates.
  static Duration from_seconds_f(double seconds) {
    return Duration(static_cast<int64_t>(std::llround(seconds * 1e9)));
  }
  // Rounds up, so that a positive amount of work never takes zero time.
  static Duration from_seconds_ceil(double seconds) {
    return Duration(static_cast<int64_t>(std::ceil(seconds * 1e9)));
  }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double us_f() const { return static_cast<double>(ns_) / 1e3; }
  constexpr double ms_f() const { return static_cast<double>(ns_) / 1e6; }
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration operator%(Duration o) const { return Duration(ns_ % o.ns_); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  // Scales by a real factor (e.g. a fault's slow-down multiplier), rounding to the nearest nanosecond.
  Duration scaled(double factor) const {
    return Duration(static_cast<int64_t>(std::llround(static_cast<double>(ns_) * factor)));
  }

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ns(int64_t ns) { return SimTime(ns); }
  static constexpr SimTime zero() { return SimTime(0); }
  static constexpr SimTime max() { return SimTime(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double ms_f() const { return static_cast<double>(ns_) / 1e6; }
  constexpr Duration since_start() const { return Duration::from_ns(ns_); }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(Duration d) const { return SimTime(ns_ + d.ns()); }
  constexpr SimTime operator-(Duration d) const { return SimTime(ns_ - d.ns()); }
  constexpr Duration operator-(SimTime o) const { return Duration::from_ns(ns_ - o.ns_); }
  constexpr SimTime& operator+=(Duration d) { ns_ += d.ns(); return *this; }

 private:
  constexpr explicit SimTime(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

constexpr SimTime operator+(Duration d, SimTime t) { return t + d; }
constexpr Duration operator*(int64_t k, Duration d) { return d * k; }
constexpr Duration min(Duration a, Duration b) { return a < b ? a : b; }
constexpr Duration max(Duration a, Duration b) { return a < b ? b : a; }
constexpr SimTime min(SimTime a, SimTime b) { return a < b ? a : b; }
constexpr SimTime max(SimTime a, SimTime b) { return a < b ? b : a; }

// Human-readable rendering ("1.250ms", "30s") for logs and error messages.
std::string to_string(Duration d);
std::string to_string(SimTime t);

namespace literals {
constexpr Duration operator""_ns(unsigned long long v) { return Duration::from_ns(static_cast<int64_t>(v)); }
constexpr Duration operator""_us(unsigned long long v) { return Duration::from_us(static_cast<int64_t>(v)); }
constexpr Duration operator""_ms(unsigned long long v) { return Duration::from_ms(static_cast<int64_t>(v)); }
constexpr Duration operator""_s(unsigned long long v) { return Duration::from_s(static_cast<int64_t>(v)); }
}  // namespace literals

}  // namespace kafkasim::sim
