// The bundled hardware profiles, loaded as a user's scenario would load them, driving the models. Each check
// compares a measurement on the model with a closed form computed from the profile's own parameters (and, where
// the profile records one, with its "checks" value from the reference).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using cluster::HardwareProfile;

namespace {

double check_value(const HardwareProfile& p, const char* name) {
  REQUIRE_MESSAGE(p.checks.contains(name), p.name << " has no check " << name);
  return p.checks[name]["value"].get<double>();
}

// Runs `n` back-to-back (queue depth 1) random 4 KiB reads over the whole device and returns IOPS.
double qd1_random_read_iops(sim::Engine& engine, models::BlockDevice& disk, sim::Rng& rng, int n) {
  int done = 0;
  const uint64_t blocks = disk.capacity_bytes() / 4096;
  std::function<void()> next = [&] {
    if (done == n) return;
    const uint64_t offset = rng.uniform_u64(blocks) * 4096;
    disk.submit({models::IoOp::kRead, offset, 4096}, [&](models::IoStatus s) {
      REQUIRE(s == models::IoStatus::kOk);
      ++done;
      next();
    });
  };
  const sim::SimTime start = engine.now();
  next();
  engine.run_until(sim::SimTime::max());
  REQUIRE(done == n);
  return n / (engine.now() - start).seconds_f();
}

}  // namespace

TEST_CASE("every bundled profile loads, and its kind matches what its name says") {
  const auto dir = cluster::bundled_profile_dir();
  const auto names = cluster::profile_names(dir);
  const std::set<std::string> required = {"hdd-7200rpm", "ssd-sata", "nvme-datacentre", "nic-1gbe",
                                          "nic-10gbe", "nic-25gbe"};
  for (const auto& r : required) CHECK_MESSAGE(std::count(names.begin(), names.end(), r) == 1, r);
  for (const auto& name : names) {
    CAPTURE(name);
    HardwareProfile p = cluster::load_named_profile(name, dir);
    CHECK(p.name == name);
    if (name.starts_with("hdd")) CHECK(std::holds_alternative<models::HddParams>(p.params));
    if (name.starts_with("ssd") || name.starts_with("nvme")) CHECK(std::holds_alternative<models::SsdParams>(p.params));
    if (name.starts_with("nic")) CHECK(std::holds_alternative<cluster::NicProfile>(p.params));
    if (name.starts_with("cpu")) CHECK(std::holds_alternative<cluster::CpuProfile>(p.params));
    if (name.starts_with("ebs-")) CHECK(std::holds_alternative<models::EbsParams>(p.params));
    if (name.starts_with("ec2-")) CHECK(std::holds_alternative<models::EbsInstanceParams>(p.params));
  }
  CHECK_THROWS_WITH_AS(cluster::load_named_profile("hdd-7200", dir, "s.json", "/hardware/disk"),
                       doctest::Contains("did you mean \"hdd-7200rpm\""), cluster::ConfigError);
}

TEST_CASE("hdd-7200rpm: random 4 KiB reads at queue depth 1 match 1/(t_cmd + A + T_rev/2 + 4 KiB/B)") {
  const auto p = std::get<models::HddParams>(cluster::load_named_profile("hdd-7200rpm", cluster::bundled_profile_dir()).params);
  const HardwareProfile profile = cluster::load_named_profile("hdd-7200rpm", cluster::bundled_profile_dir());
  sim::Engine engine;
  models::HddDisk disk(engine, p, sim::Rng::stream(1, "disk"));
  sim::Rng rng = sim::Rng::stream(1, "workload");
  const double iops = qd1_random_read_iops(engine, disk, rng, 4000);
  // Random offsets over the whole disk: mean seek = A (the vendor average is over uniform pairs), mean
  // rotation = half a revolution; transfer at the zoned bandwidth, which averages below B_out (use B_out * k
  // as the slow bound and B_out as the fast bound — both give < 0.1 ms for 4 KiB, negligible either way).
  const double revolution_s = 60.0 / p.rpm;
  const double service_s = p.command_overhead.seconds_f() + p.average_seek.seconds_f() + revolution_s / 2 +
                           4096.0 / (p.outer_bandwidth_bytes_per_s * p.inner_to_outer_bandwidth_ratio);
  CHECK(iops == doctest::Approx(1.0 / service_s).scale(0).epsilon(0.04));
  CHECK(revolution_s / 2 * 1e3 == doctest::Approx(check_value(profile, "mean_rotational_latency")).scale(0).epsilon(0.001));
  // The reference's 79 IOPS assumes B = 200 MB/s and no command overhead: within 3 % of ours.
  CHECK(iops == doctest::Approx(check_value(profile, "random_4k_read_iops")).scale(0).epsilon(0.04));
}

TEST_CASE("nvme-datacentre: queue-depth-1 4 KiB reads take read_latency + 4 KiB / read bandwidth") {
  const HardwareProfile profile = cluster::load_named_profile("nvme-datacentre", cluster::bundled_profile_dir());
  const auto p = std::get<models::SsdParams>(profile.params);
  sim::Engine engine;
  models::SsdDisk disk(engine, p, sim::Rng::stream(1, "disk"));
  sim::Rng rng = sim::Rng::stream(1, "workload");
  const double iops = qd1_random_read_iops(engine, disk, rng, 2000);
  const double expected = 1.0 / (p.read_latency.seconds_f() + 4096.0 / p.read_bandwidth_bytes_per_s);
  CHECK(iops == doctest::Approx(expected).scale(0).epsilon(0.01));
  // hardware-models.md §6 check 13: QD1 at ~65 us -> 15.4K IOPS.
  CHECK(iops == doctest::Approx(check_value(profile, "qd1_4k_read_iops")).scale(0).epsilon(0.02));
}

TEST_CASE("nic profiles: a bulk transfer between two hosts runs at line rate x goodput") {
  for (const char* name : {"nic-1gbe", "nic-10gbe", "nic-25gbe"}) {
    CAPTURE(name);
    const HardwareProfile profile = cluster::load_named_profile(name, cluster::bundled_profile_dir());
    const auto nic = std::get<cluster::NicProfile>(profile.params);
    models::Topology topology;
    const auto a = topology.add_host("a");
    const auto b = topology.add_host("b");
    const auto sw = topology.add_switch("tor");
    topology.add_link(a, sw, nic.link);
    topology.add_link(sw, b, nic.link);
    models::NetworkConfig config;
    config.goodput_fraction = nic.goodput_fraction;
    config.mss_bytes = nic.mss_bytes;
    sim::Engine engine;
    models::Network network(engine, std::move(topology), sim::Rng::stream(1, "net"), config);
    const uint64_t bytes = uint64_t{1} << 30;
    sim::SimTime delivered_at;
    network.send(a, b, bytes, [&] { delivered_at = engine.now(); });
    engine.run_until(sim::SimTime::max());
    const double goodput_bytes_per_s = nic.link.bandwidth_bytes_per_s * nic.goodput_fraction;
    // Serialisation dominates: 1 GiB / goodput, plus two link latencies and one chunk of store-and-forward.
    const double expected_s = static_cast<double>(bytes) / goodput_bytes_per_s;
    CHECK(delivered_at.seconds_f() == doctest::Approx(expected_s).scale(0).epsilon(0.002));
    CHECK(goodput_bytes_per_s * 8 == doctest::Approx(check_value(profile, "goodput_bits_per_s")).scale(0).epsilon(0.001));
    if (profile.checks.contains("one_gib_transfer"))  // hardware-models.md §6 check 2: 9.12 s on 1 GbE
      CHECK(delivered_at.seconds_f() == doctest::Approx(check_value(profile, "one_gib_transfer")).scale(0).epsilon(0.005));
  }
}

TEST_CASE("cpu profile: measured codec costs per MiB have the reference's order of magnitude (check 16)") {
  const HardwareProfile profile = cluster::load_named_profile("cpu-server-16core", cluster::bundled_profile_dir());
  const auto cpu = std::get<cluster::CpuProfile>(profile.params);
  CHECK(cpu.cores >= 1);
  const double mib = 1024.0 * 1024.0;
  // The reference's check 16 uses published desktop figures on the Silesia corpus; the profile's codecs are
  // measured on JSON events on a server core (bench/codec_measure.cpp). They must agree within a factor of 4:
  // compressible JSON speeds deflate up (gzip compresses about 3x faster than on Silesia), and a broken
  // measurement would be off by far more.
  auto within_factor = [](double measured, double reference, double factor) {
    return measured > reference / factor && measured < reference * factor;
  };
  const cluster::CodecCosts& codecs = cpu.costs.codecs;
  CHECK(within_factor(mib / codecs.lz4.decompress_bytes_per_s * 1e3, check_value(profile, "lz4_decompress_per_mib"), 4));
  CHECK(within_factor(mib / codecs.zstd.decompress_bytes_per_s * 1e3, check_value(profile, "zstd_decompress_per_mib"), 4));
  CHECK(within_factor(mib / codecs.gzip.compress_bytes_per_s * 1e3, check_value(profile, "gzip_compress_per_mib"), 4));
  CHECK(mib / cpu.costs.crc32c_bytes_per_s * 1e3 == doctest::Approx(check_value(profile, "crc32c_per_mib")).scale(0).epsilon(0.1));
}

TEST_CASE("cpu profiles: codec figures are consistent with what compression can do") {
  for (const char* name : {"cpu-server-16core", "cpu-xeon-6core-2014"}) {
    CAPTURE(name);
    const HardwareProfile profile = cluster::load_named_profile(name, cluster::bundled_profile_dir());
    const auto& codecs = std::get<cluster::CpuProfile>(profile.params).costs.codecs;
    const std::pair<const char*, const cluster::CodecFigures*> all[] = {
        {"gzip", &codecs.gzip}, {"snappy", &codecs.snappy}, {"lz4", &codecs.lz4}, {"zstd", &codecs.zstd}};
    for (const auto& [codec, f] : all) {
      CAPTURE(codec);
      // Incompressible data is the bound: the codec's framing makes it a little larger than 1 and any real
      // payload compresses below it.
      const double bound = check_value(profile, (std::string(codec) + "_ratio_incompressible").c_str());
      CHECK(bound >= 1.0);
      CHECK(bound < 1.01);
      // The curve: every measured point below the bound, and batches that grow compress no worse (more records
      // share one codec window).
      REQUIRE(f->curve.point_count() >= 2);
      for (size_t i = 0; i < f->curve.point_count(); ++i) {
        CHECK(f->curve.point_ratio(i) < bound);
        if (i > 0) CHECK(f->curve.point_ratio(i) <= f->curve.point_ratio(i - 1));
      }
      // Every codec decompresses faster than it compresses (all four are asymmetric by design).
      CHECK(f->decompress_bytes_per_s > f->compress_bytes_per_s);
    }
    // The well-known ordering at default levels: gzip and zstd compress smaller than lz4 and snappy, lz4
    // compresses and decompresses faster than zstd, and zstd compresses faster than gzip.
    CHECK(codecs.gzip.curve.large_batch_ratio() < codecs.lz4.curve.large_batch_ratio());
    CHECK(codecs.zstd.curve.large_batch_ratio() < codecs.snappy.curve.large_batch_ratio());
    CHECK(codecs.lz4.compress_bytes_per_s > codecs.zstd.compress_bytes_per_s);
    CHECK(codecs.lz4.decompress_bytes_per_s > codecs.zstd.decompress_bytes_per_s);
    CHECK(codecs.zstd.compress_bytes_per_s > codecs.gzip.compress_bytes_per_s);
  }
}

TEST_CASE("hdd profiles: the drive's command queue (NCQ depth 32) and mq-deadline's writes_starved are read, and a bad depth is refused") {
  for (const char* name : {"hdd-7200rpm", "hdd-7200rpm-sata-2014", "hdd-raid10-6x7200rpm-2011"}) {
    CAPTURE(name);
    const auto p = std::get<models::HddParams>(cluster::load_named_profile(name, cluster::bundled_profile_dir()).params);
    CHECK(p.ncq_depth == 32);  // hardware-models.md §1.3: SATA queue depth 32
    CHECK(p.ncq_max_wait == sim::Duration::from_s(1));
    CHECK(p.writes_starved == 2);  // mq-deadline's default (block/mq-deadline.c)
  }
  // A copy of the bundled profile with ncq_depth 0: the error names the file, the JSON path and the range.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "kafkasim-hdd-ncq-profile";
  std::filesystem::create_directories(dir);
  std::ifstream in(cluster::bundled_profile_dir() / "hdd-7200rpm.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["parameters"]["ncq_depth"]["value"] = 0;
  const std::filesystem::path file = dir / "hdd-7200rpm.json";
  std::ofstream(file) << doc.dump(2);
  try {
    cluster::load_hardware_profile(file);
    FAIL("a zero NCQ depth was accepted");
  } catch (const cluster::ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("/parameters/ncq_depth/value") != std::string::npos);
    CHECK(what.find("a whole number from 1 to 256") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
