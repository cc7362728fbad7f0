#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/profile_reader.hpp"

using kafkasim::cluster::ConfigError;
using kafkasim::cluster::ProfileReader;
using namespace kafkasim::sim::literals;

namespace {

nlohmann::json profile(const nlohmann::json& parameters) {
  return {{"kind", "hdd"}, {"name", "test-hdd"}, {"description", "a test"}, {"parameters", parameters}};
}

nlohmann::json param(nlohmann::json value, const char* unit) {
  nlohmann::json p = {{"value", std::move(value)}, {"source", "a test"}};
  if (unit != nullptr) p["unit"] = unit;
  return p;
}

// The ConfigError raised by `f`, to inspect its fields.
template <typename F>
ConfigError error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError was thrown");
  return ConfigError("", "", "");
}

}  // namespace

TEST_CASE("profile reader: typed values with units") {
  const auto doc = profile({{"average_seek", param(8.5, "ms")},
                            {"rpm", param(7200, nullptr)},
                            {"outer_bandwidth", param(250, "MB/s")},
                            {"line_rate", param("10Gbps", nullptr)},
                            {"capacity", param(4, "TB")},
                            {"power_loss_protection", param(true, nullptr)}});
  ProfileReader r(doc, "hdd.json");
  CHECK(r.kind() == "hdd");
  CHECK(r.name() == "test-hdd");
  CHECK(r.duration("average_seek") == 8500_us);
  CHECK(r.integer("rpm") == 7200u);
  CHECK(r.bandwidth_bytes_per_s("outer_bandwidth") == doctest::Approx(250e6));
  CHECK(r.bandwidth_bytes_per_s("line_rate") == doctest::Approx(1.25e9));
  CHECK(r.bytes("capacity") == 4'000'000'000'000u);
  CHECK(r.boolean("power_loss_protection"));
  CHECK_FALSE(r.optional_duration("write_settle").has_value());
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("profile reader: mistakes are reported with file, pointer and a suggestion") {
  SUBCASE("a parameter without a source") {
    auto doc = profile({{"rpm", {{"value", 7200}}}});
    const ConfigError e = error_of([&] { ProfileReader r(doc, "hdd.json"); });
    CHECK(e.file() == "hdd.json");
    CHECK(e.pointer() == "/parameters/rpm/source");
  }
  SUBCASE("a misspelt parameter") {
    auto doc = profile({{"average_seek", param(8.5, "ms")}, {"averge_seek_time", param(1, "ms")}});
    const ConfigError e = error_of([&] {
      ProfileReader r(doc, "hdd.json");
      r.duration("average_seek");
      r.optional_duration("average_seek_time");
      r.finish();
    });
    CHECK(e.pointer() == "/parameters/averge_seek_time");
    CHECK(e.suggestion() == "average_seek_time");
  }
  SUBCASE("a duration without a unit") {
    auto doc = profile({{"average_seek", param(8.5, nullptr)}});
    const ConfigError e = error_of([&] { ProfileReader(doc, "hdd.json").duration("average_seek"); });
    CHECK(e.pointer() == "/parameters/average_seek/value");
  }
  SUBCASE("a wrong type") {
    auto doc = profile({{"rpm", param("fast", nullptr)}});
    const ConfigError e = error_of([&] { ProfileReader(doc, "hdd.json").integer("rpm"); });
    CHECK(e.pointer() == "/parameters/rpm/value");
    CHECK(e.found() == "\"fast\"");
  }
  SUBCASE("a missing required parameter, inside a scenario") {
    auto doc = profile(nlohmann::json::object());
    const ConfigError e = error_of([&] { ProfileReader(doc, "s.json", "/hardware/disks/0").integer("rpm"); });
    CHECK(e.file() == "s.json");
    CHECK(e.pointer() == "/hardware/disks/0/parameters/rpm");
  }
  SUBCASE("an unknown top-level key") {
    auto doc = profile(nlohmann::json::object());
    doc["paramters"] = 1;
    const ConfigError e = error_of([&] { ProfileReader r(doc, "hdd.json"); });
    CHECK(e.suggestion() == "parameters");
  }
}

TEST_CASE("profile text: a number beyond double range is bad JSON input, reported as a ConfigError") {
  // Found by the loader fuzzer: nlohmann::json reports "6e5536" as out_of_range, not as a parse_error.
  const std::string text = R"({"kind": "nic", "name": "x", "parameters": {"latency": {"value": 6e5536, "unit": "us", "source": "t"}}})";
  CHECK_THROWS_AS(kafkasim::cluster::parse_hardware_profile_text(text, "x.json"), ConfigError);
}
