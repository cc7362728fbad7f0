#include <doctest/doctest.h>

#include <array>
#include <string_view>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/units.hpp"

using namespace kafkasim::cluster;
using namespace kafkasim::sim::literals;

namespace {
template <typename T>
T value_of(const Parsed<T>& p) {
  REQUIRE(std::holds_alternative<T>(p));
  return std::get<T>(p);
}
template <typename T>
bool is_error(const Parsed<T>& p) {
  return std::holds_alternative<std::string>(p);
}
constexpr int64_t kMs = 1'000'000;
}  // namespace

TEST_CASE("durations: units and plain numbers in the config's own unit") {
  CHECK(value_of(parse_duration("5ms", kMs)) == 5_ms);
  CHECK(value_of(parse_duration("250us", kMs)) == 250_us);
  CHECK(value_of(parse_duration("1.5s", kMs)) == 1500_ms);
  CHECK(value_of(parse_duration("2min", kMs)) == 120_s);
  CHECK(value_of(parse_duration("7d", kMs)) == kafkasim::sim::Duration::from_s(604800));
  CHECK(value_of(parse_duration("5", kMs)) == 5_ms);        // linger.ms: 5
  CHECK(value_of(parse_duration("30000", kMs)) == 30_s);    // request.timeout.ms
  CHECK(value_of(parse_duration(" 10 s ", kMs)) == 10_s);
  CHECK(is_error(parse_duration("5 fortnights", kMs)));
  CHECK(is_error(parse_duration("-5ms", kMs)));
  CHECK(is_error(parse_duration("ms", kMs)));
  CHECK(is_error(parse_duration("", kMs)));
}

TEST_CASE("sizes: decimal and binary prefixes") {
  CHECK(value_of(parse_bytes("16384")) == 16384u);
  CHECK(value_of(parse_bytes("64KiB")) == 65536u);
  CHECK(value_of(parse_bytes("1GiB")) == 1073741824u);
  CHECK(value_of(parse_bytes("500MB")) == 500000000u);
  CHECK(value_of(parse_bytes("1.5KiB")) == 1536u);
  CHECK(is_error(parse_bytes("1.5B")));
  CHECK(is_error(parse_bytes("12 parsecs")));
}

TEST_CASE("bandwidths: bits per second and bytes per second") {
  CHECK(value_of(parse_bandwidth("1Gbps")) == doctest::Approx(125e6));  // 1 GbE line rate = 125 MB/s
  CHECK(value_of(parse_bandwidth("10Gbps")) == doctest::Approx(1.25e9));
  CHECK(value_of(parse_bandwidth("25Gbps")) == doctest::Approx(3.125e9));
  CHECK(value_of(parse_bandwidth("200MB/s")) == doctest::Approx(200e6));
  CHECK(value_of(parse_bandwidth("1GiB/s")) == doctest::Approx(1073741824.0));
  CHECK(is_error(parse_bandwidth("10 furlongs")));
}

TEST_CASE("did-you-mean suggestions for near misses, none for unrelated names") {
  constexpr std::array<std::string_view, 5> known = {"linger.ms", "batch.size", "acks", "retention.ms",
                                                     "min.insync.replicas"};
  CHECK(closest_name("linger_ms", known) == "linger.ms");
  CHECK(closest_name("batch-size", known) == "batch.size");
  CHECK(closest_name("Linger.Ms", known) == "linger.ms");
  CHECK(closest_name("retention.msec", known) == "retention.ms");
  CHECK(closest_name("min.isr.replicas", known) == "min.insync.replicas");  // 4 edits in 19 characters
  CHECK(closest_name("max.poll.records", known) == "");
  CHECK(closest_name("ackss", known) == "acks");
  CHECK(closest_name("compression", known) == "");
}

TEST_CASE("config errors carry file, pointer, expectation and suggestion in the message") {
  const ConfigError e("quickstart.json", "/producers/0/config/linger_ms", "a known producer config", "\"linger_ms\"",
                      "linger.ms");
  const std::string text = e.what();
  CHECK(text == "quickstart.json: at /producers/0/config/linger_ms: expected a known producer config, found "
                "\"linger_ms\" (did you mean \"linger.ms\"?)");
  CHECK(pointer_token("a/b~c") == "a~1b~0c");
}
