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
  CHECK(r.bandwidth_bytes_per_s("outer_bandwidth") == doctest::Approx(250e6).scale(0));
  CHECK(r.bandwidth_bytes_per_s("line_rate") == doctest::Approx(1.25e9).scale(0));
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

// ----- The "codecs" section of a CPU profile (bench/codec_measure.cpp measures it).

namespace {

// A complete CPU profile: every required cost, and the codec figures given, each with a source.
nlohmann::json cpu_profile(const nlohmann::json& codecs) {
  return {{"kind", "cpu"},
          {"name", "test-cpu"},
          {"parameters", {{"cores", param(4, "cores")}}},
          {"costs",
           {{"desktop_to_server_scale", param(0.7, "ratio")},
            {"memcpy_bytes_per_s", param(1e10, "B/s")},
            {"crc32c_bytes_per_s", param(7e9, "B/s")},
            {"aes_gcm_bytes_per_s", param(5e9, "B/s")},
            {"request_fixed_cost", param(50, "us")},
            {"replica_fetch_partition_cost", param(20, "us")},
            {"replica_fetch_idle_partition_cost", param(0.34, "us")}}},
          {"codecs", codecs},
          {"jvm",
           {{"gc_pause_median", param(12.5, "ms")},
            {"gc_pause_p90", param(21, "ms")},
            {"young_gc_rate_max_per_s", param(1, "1/s")},
            {"young_gen_heap_fraction", param(0.6, "ratio")}}}};
}

// Distinct figures per codec so that a mix-up between codecs shows: codec k has ratio 0.1 (k + 1),
// compress speed (k + 1) x 100 MB/s, decompress speed (k + 1) GB/s.
nlohmann::json codec_figures() {
  nlohmann::json c = nlohmann::json::object();
  const char* names[] = {"gzip", "snappy", "lz4", "zstd"};
  for (int k = 0; k < 4; ++k) {
    const std::string n = names[k];
    c[n + "_ratio"] = param(0.1 * (k + 1), "ratio");
    c[n + "_compress_bytes_per_s"] = param(100.0 * (k + 1), "MB/s");
    c[n + "_decompress_bytes_per_s"] = param(1e9 * (k + 1), "B/s");
  }
  return c;
}

}  // namespace

TEST_CASE("cpu profile: the codecs section gives each codec its ratio and speeds") {
  using kafkasim::cluster::CpuProfile;
  using kafkasim::kafka::CompressionType;
  const auto p = kafkasim::cluster::parse_hardware_profile(cpu_profile(codec_figures()), "cpu.json");
  const auto& codecs = std::get<CpuProfile>(p.params).costs.codecs;
  const CompressionType types[] = {CompressionType::gzip, CompressionType::snappy, CompressionType::lz4,
                                   CompressionType::zstd};
  for (int k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(codecs.of(types[k]).curve.ratio_at(16384) == doctest::Approx(0.1 * (k + 1)).scale(0));
    CHECK(codecs.of(types[k]).compress_bytes_per_s == doctest::Approx(1e8 * (k + 1)).scale(0));  // "MB/s" is 10^6 B/s
    CHECK(codecs.of(types[k]).decompress_bytes_per_s == doctest::Approx(1e9 * (k + 1)).scale(0));
  }
  // No codec: nothing is compressed, the size is unchanged and no speed applies.
  CHECK(codecs.of(CompressionType::none).curve.compressed_bytes(16384) == 16384);
  CHECK(codecs.of(CompressionType::none).compress_bytes_per_s == 0.0);
}

TEST_CASE("cpu profile: mistakes in the codecs section are reported with pointer and suggestion") {
  auto codecs = codec_figures();
  SUBCASE("a missing codec figure") {
    codecs.erase("zstd_decompress_bytes_per_s");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.file() == "cpu.json");
    CHECK(e.pointer() == "/codecs/zstd_decompress_bytes_per_s");
  }
  SUBCASE("a misspelt codec figure gets a did-you-mean") {
    codecs["lz4_compres_bytes_per_s"] = codecs["lz4_compress_bytes_per_s"];
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/lz4_compres_bytes_per_s");
    CHECK(e.suggestion() == "lz4_compress_bytes_per_s");
  }
  SUBCASE("a compression factor written instead of a ratio") {
    codecs["lz4_ratio"] = param(3.7, "ratio");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/lz4_ratio/value");
    CHECK(e.expected().find("(0, 1.1]") != std::string::npos);
  }
  SUBCASE("a ratio of zero") {
    codecs["gzip_ratio"] = param(0, "ratio");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/gzip_ratio/value");
  }
  SUBCASE("a ratio curve: points by increasing batch size") {
    codecs["lz4_ratio"]["value"] = nlohmann::json::array({nlohmann::json::array({500, 0.9}), nlohmann::json::array({50'000, 0.3})});
    const auto p = kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json");
    const auto& curve = std::get<kafkasim::cluster::CpuProfile>(p.params).costs.codecs.lz4.curve;
    CHECK(curve.compressed_bytes(500) == 450);
    CHECK(curve.compressed_bytes(50'000) == 15'000);
    CHECK(curve.ratio_at(100'000) == 0.3);
  }
  SUBCASE("a ratio curve whose compressed size falls") {
    codecs["lz4_ratio"]["value"] = nlohmann::json::array({nlohmann::json::array({1000, 0.9}), nlohmann::json::array({1100, 0.3})});
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/lz4_ratio/value");
    CHECK(e.expected().find("compressed sizes") != std::string::npos);
  }
  SUBCASE("a ratio curve point with a factor for a ratio") {
    codecs["gzip_ratio"]["value"] = nlohmann::json::array({nlohmann::json::array({1000, 0.9}), nlohmann::json::array({2000, 4.0})});
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/gzip_ratio/value/1/1");
    CHECK(e.expected().find("(0, 1.1]") != std::string::npos);
  }
  SUBCASE("a ratio curve point that is not a pair") {
    codecs["zstd_ratio"]["value"] = nlohmann::json::array({nlohmann::json::array({1000})});
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/zstd_ratio/value/0");
  }
  SUBCASE("a ratio that is neither a number nor points") {
    codecs["snappy_ratio"]["value"] = "0.3";
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/snappy_ratio/value");
  }
  SUBCASE("a speed that is not a rate") {
    codecs["snappy_decompress_bytes_per_s"] = param(3, "ms");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/snappy_decompress_bytes_per_s/value");
  }
  SUBCASE("a speed of zero") {
    codecs["gzip_compress_bytes_per_s"] = param(0, "B/s");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/gzip_compress_bytes_per_s/value");
  }
  SUBCASE("a codec figure without its source") {
    codecs["zstd_ratio"].erase("source");
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(cpu_profile(codecs), "cpu.json"); });
    CHECK(e.pointer() == "/codecs/zstd_ratio/source");
  }
  SUBCASE("a misspelt section name") {
    auto doc = cpu_profile(codecs);
    doc["codec"] = doc["codecs"];
    const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(doc, "cpu.json"); });
    CHECK(e.pointer() == "/codec");
    CHECK(e.suggestion() == "codecs");
  }
}

TEST_CASE("cpu profile: the replication costs per partition, and an idle partition dearer than a busy one is refused") {
  using kafkasim::cluster::CpuProfile;
  auto profile = cpu_profile(codec_figures());
  const auto p = kafkasim::cluster::parse_hardware_profile(profile, "cpu.json");
  const auto& costs = std::get<CpuProfile>(p.params).costs;
  CHECK(costs.replica_fetch_partition_cost == kafkasim::sim::Duration::from_us(20));
  CHECK(costs.replica_fetch_idle_partition_cost == kafkasim::sim::Duration::from_ns(340));
  profile["costs"]["replica_fetch_idle_partition_cost"] = param(25, "us");
  const ConfigError e = error_of([&] { kafkasim::cluster::parse_hardware_profile(profile, "cpu.json"); });
  CHECK(e.pointer() == "/costs/replica_fetch_idle_partition_cost/value");
  profile["costs"].erase("replica_fetch_idle_partition_cost");
  const ConfigError missing = error_of([&] { kafkasim::cluster::parse_hardware_profile(profile, "cpu.json"); });
  CHECK(missing.pointer().find("replica_fetch_idle_partition_cost") != std::string::npos);
}

// ----- The optional "codec_levels" section (bench/codec_measure.cpp --levels): KIP-390's other levels.

namespace {

nlohmann::json level_figures(double ratio, double compress, double decompress) {
  return {{"ratio", ratio}, {"compress_bytes_per_s", compress}, {"decompress_bytes_per_s", decompress}};
}

nlohmann::json cpu_with_levels() {
  nlohmann::json p = cpu_profile(codec_figures());
  p["codec_levels"] = {{"source", "a test table"},
                       {"gzip", {{"1", level_figures(0.2, 2e8, 5e8)}, {"9", level_figures(0.16, 5e7, 6e8)}}},
                       {"lz4", {{"1", level_figures(0.22, 2e8, 1e10)}, {"12", level_figures(0.21, 4e7, 1e10)}}},
                       {"zstd", {{"-5", level_figures(0.27, 9e8, 3e9)}, {"1", level_figures(0.18, 5e8, 2e9)},
                                 {"19", level_figures(0.14, 4e5, 2e9)}}}};
  return p;
}

}  // namespace

TEST_CASE("cpu profile: codec_levels gives gzip, lz4 and zstd their figures at Kafka's other levels") {
  using kafkasim::cluster::CpuProfile;
  using kafkasim::kafka::CompressionType;
  const auto p = kafkasim::cluster::parse_hardware_profile(cpu_with_levels(), "cpu.json");
  const auto& codecs = std::get<CpuProfile>(p.params).costs.codecs;
  // A measured level: its own figures, exactly.
  auto gzip1 = codecs.at_level(CompressionType::gzip, 1);
  CHECK(gzip1.exact);
  CHECK(gzip1.figures->curve.ratio_at(16384) == 0.2);
  CHECK(gzip1.figures->compress_bytes_per_s == 2e8);
  CHECK(codecs.at_level(CompressionType::zstd, 19).figures->compress_bytes_per_s == 4e5);
  // The default levels and their equivalents are the codecs section's figures (gzip -1 is zlib's 6, zstd 0 is 3,
  // lz4 9 is the fast compressor), whatever the table holds.
  for (const auto& [codec, level] : {std::pair{CompressionType::gzip, -1}, std::pair{CompressionType::gzip, 6},
                                     std::pair{CompressionType::lz4, 9}, std::pair{CompressionType::zstd, 3},
                                     std::pair{CompressionType::zstd, 0}}) {
    CAPTURE(level);
    const auto at = codecs.at_level(codec, level);
    CHECK(at.exact);
    CHECK(at.figures == &codecs.of(codec));
  }
  // A level the table lacks: the nearest measured one, the lower of two as near; flagged as not exact.
  auto zstd_10 = codecs.at_level(CompressionType::zstd, 10);  // 1 is 9 away, 19 is 9 away: the lower
  CHECK_FALSE(zstd_10.exact);
  CHECK(zstd_10.measured_level == 1);
  CHECK(codecs.at_level(CompressionType::zstd, 11).measured_level == 19);
  CHECK(codecs.at_level(CompressionType::zstd, -131072).measured_level == -5);
  CHECK(codecs.at_level(CompressionType::lz4, 17).measured_level == 12);
  CHECK(codecs.at_level(CompressionType::gzip, 4).measured_level == 1);
  // Snappy has no levels; neither does none.
  CHECK(codecs.at_level(CompressionType::snappy, 5).figures == &codecs.of(CompressionType::snappy));
  CHECK(codecs.at_level(CompressionType::snappy, 5).exact);
  // A profile without the section: every other level falls back to the default figures, flagged.
  const auto plain = kafkasim::cluster::parse_hardware_profile(cpu_profile(codec_figures()), "cpu.json");
  const auto& defaults = std::get<CpuProfile>(plain.params).costs.codecs;
  const auto z19 = defaults.at_level(CompressionType::zstd, 19);
  CHECK_FALSE(z19.exact);
  CHECK(z19.figures == &defaults.of(CompressionType::zstd));
  CHECK(z19.measured_level == 3);
}

TEST_CASE("cpu profile: mistakes in codec_levels are reported with their pointer") {
  auto expect = [](const nlohmann::json& doc, const std::string& pointer) {
    try {
      kafkasim::cluster::parse_hardware_profile(doc, "cpu.json");
      FAIL("no error for " << pointer);
    } catch (const kafkasim::cluster::ConfigError& e) {
      CHECK(e.pointer() == pointer);
    }
  };
  auto p = cpu_with_levels();
  p["codec_levels"].erase("source");
  expect(p, "/codec_levels/source");
  p = cpu_with_levels();
  p["codec_levels"]["snappy"] = nlohmann::json::object();  // snappy has no levels
  expect(p, "/codec_levels/snappy");
  p = cpu_with_levels();
  p["codec_levels"]["lz4"]["18"] = level_figures(0.2, 1e8, 1e9);  // Kafka's lz4 levels are 1..17
  expect(p, "/codec_levels/lz4/18");
  p = cpu_with_levels();
  p["codec_levels"]["zstd"]["3"] = level_figures(0.2, 1e8, 1e9);  // the default: the codecs section's
  expect(p, "/codec_levels/zstd/3");
  p = cpu_with_levels();
  p["codec_levels"]["gzip"]["x"] = level_figures(0.2, 1e8, 1e9);
  expect(p, "/codec_levels/gzip/x");
  p = cpu_with_levels();
  p["codec_levels"]["gzip"]["1"]["ratio"] = 3.5;  // the factor, not the ratio
  expect(p, "/codec_levels/gzip/1/ratio");
  p = cpu_with_levels();
  p["codec_levels"]["gzip"]["1"].erase("decompress_bytes_per_s");
  expect(p, "/codec_levels/gzip/1/decompress_bytes_per_s");
  p = cpu_with_levels();
  p["codec_levels"]["gzip"]["1"]["compress_speed"] = 1;
  expect(p, "/codec_levels/gzip/1/compress_speed");
}
