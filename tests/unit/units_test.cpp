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

TEST_CASE("ISO-8601 durations: java.time.Duration.parse's documented examples and its rejections") {
  using kafkasim::sim::Duration;
  // The examples of Duration.parse's Javadoc.
  CHECK(value_of(parse_iso8601_duration("PT20.345S")) == 20345_ms);
  CHECK(value_of(parse_iso8601_duration("PT15M")) == Duration::from_s(15 * 60));
  CHECK(value_of(parse_iso8601_duration("PT10H")) == Duration::from_s(10 * 3600));
  CHECK(value_of(parse_iso8601_duration("P2D")) == Duration::from_s(2 * 86400));
  CHECK(value_of(parse_iso8601_duration("P2DT3H4M")) == Duration::from_s(2 * 86400 + 3 * 3600 + 4 * 60));
  CHECK(value_of(parse_iso8601_duration("PT-6H3M")) == Duration::from_s(-6 * 3600 + 3 * 60));
  CHECK(value_of(parse_iso8601_duration("-PT6H3M")) == Duration::from_s(-6 * 3600 - 3 * 60));
  CHECK(value_of(parse_iso8601_duration("-PT-6H+3M")) == Duration::from_s(6 * 3600 - 3 * 60));
  // Either case, a comma for the fraction, nanosecond precision.
  CHECK(value_of(parse_iso8601_duration("pt1m30,5s")) == 90500_ms);
  CHECK(value_of(parse_iso8601_duration("PT0.000000001S")) == Duration::from_ns(1));
  CHECK(value_of(parse_iso8601_duration("PT0S")) == Duration::zero());
  // No part, a T with nothing after it, years and months, a fraction outside seconds or of 10 digits, parts out of
  // order, days after T, trailing text, and more than 2^63 ns.
  for (const char* bad : {"", "P", "PT", "P1DT", "P1Y", "P1M", "PT1.5M", "PT0.1234567890S", "PT1S1M", "PT1D",
                          "P1H", "PT1S ", "1S", "PT1HT1M", "P106752D", "PT9223372037S"})
    CHECK_MESSAGE(is_error(parse_iso8601_duration(bad)), bad);
  CHECK(value_of(parse_iso8601_duration("PT9223372036.854775807S")) == Duration::from_ns(INT64_MAX));
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
  CHECK(value_of(parse_bandwidth("1Gbps")) == doctest::Approx(125e6).scale(0));  // 1 GbE line rate = 125 MB/s
  CHECK(value_of(parse_bandwidth("10Gbps")) == doctest::Approx(1.25e9).scale(0));
  CHECK(value_of(parse_bandwidth("25Gbps")) == doctest::Approx(3.125e9).scale(0));
  CHECK(value_of(parse_bandwidth("200MB/s")) == doctest::Approx(200e6).scale(0));
  CHECK(value_of(parse_bandwidth("1GiB/s")) == doctest::Approx(1073741824.0).scale(0));
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
  // The start of exactly one known name (three characters at least) is a short form of it.
  constexpr std::array<std::string_view, 5> profiles = {"hdd-7200rpm", "hdd-7200rpm-sata-2014", "nvme-datacentre",
                                                        "ssd-sata", "nic-10gbe"};
  CHECK(closest_name("nvme", profiles) == "nvme-datacentre");
  CHECK(closest_name("SSD", profiles) == "ssd-sata");
  CHECK(closest_name("hdd", profiles) == "");  // two of them
  CHECK(closest_name("ni", profiles) == "");   // too short to say
  CHECK(closest_name("linger", known) == "linger.ms");
}

TEST_CASE("config errors carry file, pointer, expectation and suggestion in the message") {
  const ConfigError e("quickstart.json", "/producers/0/config/linger_ms", "a known producer config", "\"linger_ms\"",
                      "linger.ms");
  const std::string text = e.what();
  CHECK(text == "quickstart.json: at /producers/0/config/linger_ms: expected a known producer config, found "
                "\"linger_ms\" (did you mean \"linger.ms\"?)");
  CHECK(pointer_token("a/b~c") == "a~1b~0c");
}

TEST_CASE("format_simple_date: SimpleDateFormat's fields on the epoch-based simulated clock") {
  // Calendar facts: the epoch; 2000-02-29 (a leap day of a century year) is 951,782,400 s after it; one billion
  // seconds is 2001-09-09 01:46:40 UTC; 2100 is not a leap year, so one second before 2100-03-01 (4,107,542,400 s)
  // is 23:59:59 on 28 February.
  const std::string_view kafka_default = "yyyy-MM-dd HH:mm:ss:SSS";
  CHECK(format_simple_date(kafka_default, 0) == "1970-01-01 00:00:00:000");
  CHECK(format_simple_date(kafka_default, 951'782'400'000) == "2000-02-29 00:00:00:000");
  CHECK(format_simple_date(kafka_default, 1'000'000'000'007) == "2001-09-09 01:46:40:007");
  CHECK(format_simple_date(kafka_default, 4'107'542'399'999) == "2100-02-28 23:59:59:999");
  CHECK(format_simple_date(kafka_default, 4'107'542'400'000) == "2100-03-01 00:00:00:000");
  // A run of n letters is at least n digits ("M" and "d" unpadded, "SSSSS" padded to five); "yy" is two digits.
  CHECK(format_simple_date("yy M/d H:m:s.SSSSS", 1'000'000'000'007) == "01 9/9 1:46:40.00007");
  // Quoted text is copied, '' is a quote, other characters are themselves.
  CHECK(format_simple_date("'at' HH 'o''clock', ''ss''", 1'000'000'000'000) == "at 01 o'clock, '40'");
  // Letters it does not format and an unterminated quote are errors, not silent text.
  CHECK_THROWS_AS((void)format_simple_date("yyyy-MM-dd Z", 0), std::invalid_argument);
  CHECK_THROWS_AS((void)format_simple_date("HH 'oops", 0), std::invalid_argument);
  CHECK_THROWS_AS((void)format_simple_date("HH", -1), std::invalid_argument);
}
