// EBS volumes (models::EbsVolume) against AWS's published rules, hardware-models.md §2.5 and check 12 of §6: IOPS
// counted per I/O of at most 256 KiB (1 MiB for st1/sc1) with sequential I/Os merged, the IOPS and throughput
// limits, gp2's burst bucket (3,000 IOPS while 5.4 M credits last, refilled at the baseline) and st1's throughput
// credits. Every expectation is worked out here from those rules.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "disk_loop.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/models/disk.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::models;
using namespace kafkasim::sim::literals;
using sim::Duration;
using sim::Engine;
using sim::Rng;
using sim::SimTime;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

using test::ClosedLoop;
using test::read_at;
using test::write_at;

EbsParams gp3(double iops, double mib_per_s) {
  EbsParams p;
  p.capacity_bytes = 1024 * kGiB;
  p.iops = {iops, iops, 0, 0};
  p.throughput = {mib_per_s * kMiB, mib_per_s * kMiB, 0, 0};
  return p;
}

cluster::HardwareProfile ebs_profile(const std::string& type, uint64_t bytes, nlohmann::json extra = {}) {
  nlohmann::json doc = {{"kind", "ebs"},
                        {"name", "test-" + type},
                        {"parameters",
                         {{"volume_type", {{"value", type}, {"unit", "enum"}, {"source", "test"}}},
                          {"capacity_bytes", {{"value", bytes}, {"unit", "B"}, {"source", "test"}}},
                          {"read_latency", {{"value", 1}, {"unit", "ms"}, {"source", "test"}}},
                          {"write_latency", {{"value", 1}, {"unit", "ms"}, {"source", "test"}}}}}};
  for (const auto& [k, v] : extra.items()) doc["parameters"][k] = v;
  return cluster::parse_hardware_profile(doc, "test.json");
}

}  // namespace

TEST_CASE("ebs: one I/O at a time takes the latency; at depth the provisioned IOPS bound 4 KiB random reads") {
  Engine engine;
  EbsVolume v(engine, gp3(3000, 125), Rng(1));
  CHECK_FALSE(v.burst_balance().has_value());  // gp3 has no bucket
  ClosedLoop one{engine, v, [](uint64_t i) { return read_at(i * 977 * 4 * kKiB, 4 * kKiB); }, 1};
  one.start(1);
  engine.run_until(SimTime::max());
  REQUIRE(one.completed_at.size() == 1);
  CHECK(one.completed_at[0] == SimTime::zero() + 1_ms);
  // 32 outstanding: 3,000 a second (each a 256 KiB unit of its own: far-apart offsets), not 32 / 1 ms.
  Rng offsets = Rng::stream(2, "offsets");
  ClosedLoop loop{engine, v, [&](uint64_t) { return read_at(offsets.uniform_u64(1'000'000) * 64 * kKiB, 4 * kKiB); },
                  1'000'000};
  const SimTime t0 = engine.now();
  loop.start(32);
  engine.run_until(t0 + 10_s);
  CHECK(static_cast<double>(loop.completed_between(t0 + 1_s, t0 + 10_s)) == doctest::Approx(27'000).scale(0).epsilon(0.001));
}

TEST_CASE("ebs: sequential I/Os merge into 256 KiB operations; far-apart ones count one each") {
  Engine engine;
  EbsVolume v(engine, gp3(16'000, 1000), Rng(1));
  // 640 contiguous 4 KiB writes = 2.5 MiB = 10 operations of 256 KiB.
  ClosedLoop seq{engine, v, [](uint64_t i) { return write_at(i * 4 * kKiB, 4 * kKiB); }, 640};
  seq.start(1);
  engine.run_until(SimTime::max());
  CHECK(v.ebs_stats().operations == 10);
  // 100 writes of 300 KiB 1 GiB apart: two operations each (256 KiB + 44 KiB).
  ClosedLoop apart{engine, v, [](uint64_t i) { return write_at((i + 1) * kGiB, 300 * kKiB); }, 100};
  apart.start(4);
  engine.run_until(SimTime::max());
  CHECK(v.ebs_stats().operations == 10 + 200);
}

TEST_CASE("ebs: large sequential writes run at the throughput limit, whatever the depth") {
  for (const uint64_t depth : {1u, 8u, 64u}) {
    CAPTURE(depth);
    Engine engine;
    EbsVolume v(engine, gp3(3000, 125), Rng(1));
    ClosedLoop loop{engine, v, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 100'000};
    loop.start(depth);
    engine.run_until(SimTime::zero() + 11_s);
    // 1 MiB at 125 MiB/s paces admissions 8 ms apart; at depth 1 the 1 ms latency hides inside that.
    const double per_s = static_cast<double>(loop.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 11_s)) / 10;
    CHECK(per_s == doctest::Approx(125).scale(0).epsilon(0.01));
  }
}

TEST_CASE("ebs gp2: 3,000 IOPS while the credits last, then the baseline; the bucket refills at the baseline") {
  // 100 GiB: baseline 300 IOPS. With 27,000 credits at the start, 3,000 IOPS drain 3,000 - 300 = 2,700 a second:
  // 10 s of burst, then 300 IOPS.
  EbsParams p = gp3(300, 250);
  p.capacity_bytes = 100 * kGiB;
  p.iops = {300, 3000, 5.4e6, 27'000};
  Engine engine;
  EbsVolume v(engine, p, Rng(1));
  REQUIRE(v.burst_balance().has_value());
  CHECK(*v.burst_balance() == doctest::Approx(27'000 / 5.4e6).scale(0));
  ClosedLoop loop{engine, v, [](uint64_t i) { return read_at((i % 100'000) * kMiB, 4 * kKiB); }, 10'000'000};
  loop.start(32);
  engine.run_until(SimTime::zero() + 20_s);
  const auto second = [&](int s) {
    return static_cast<double>(loop.completed_between(SimTime::zero() + Duration::from_s(s), SimTime::zero() + Duration::from_s(s + 1)));
  };
  CHECK(second(2) == doctest::Approx(3000).scale(0).epsilon(0.002));
  CHECK(second(8) == doctest::Approx(3000).scale(0).epsilon(0.002));
  CHECK(second(12) == doctest::Approx(300).scale(0).epsilon(0.01));
  CHECK(second(18) == doctest::Approx(300).scale(0).epsilon(0.01));
  // Idle for 100 s: 30,000 credits back, another 30,000 / 2,700 = 11.1 s of burst.
  loop.total = loop.issued;  // stop issuing
  engine.run_until(SimTime::max());
  engine.schedule_at(engine.now() + 100_s, [] {});
  engine.run_until(SimTime::max());
  CHECK(v.iops_credits() == doctest::Approx(30'000).scale(0).epsilon(0.01));
  CHECK(*v.burst_balance() == doctest::Approx(30'000 / 5.4e6).scale(0).epsilon(0.01));
  // A full bucket at 3,000 IOPS lasts 5.4e6 / 2,700 = 2,000 s (hardware-models.md §6 check 12).
  CHECK(5.4e6 / (3000 - 300) == doctest::Approx(2000).scale(0));
}

TEST_CASE("ebs st1: a random 4 KiB read costs a whole 1 MiB of throughput credit") {
  // Burst 500 MiB/s of credit: 500 random reads a second; at the 80 MiB/s baseline, 80.
  const cluster::HardwareProfile full = ebs_profile("st1", 2048 * kGiB);
  const auto& p = std::get<EbsParams>(full.params);
  CHECK(p.throughput.baseline_per_s == doctest::Approx(80.0 * kMiB).scale(0));
  CHECK(p.throughput.burst_per_s == doctest::Approx(500.0 * kMiB).scale(0));
  CHECK(p.throughput.credits_max == doctest::Approx(2048.0 * kGiB).scale(0));
  for (const auto& [balance, expected] : std::vector<std::pair<double, double>>{{1.0, 500}, {0.0, 80}}) {
    CAPTURE(balance);
    EbsParams q = p;
    q.throughput.credits_initial = balance * q.throughput.credits_max;
    Engine engine;
    EbsVolume v(engine, q, Rng(1));
    ClosedLoop loop{engine, v, [](uint64_t i) { return read_at((i % 1000) * 7 * kMiB, 4 * kKiB); }, 100'000};
    loop.start(32);
    engine.run_until(SimTime::zero() + 6_s);
    const double per_s = static_cast<double>(loop.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 6_s)) / 5;
    CHECK(per_s == doctest::Approx(expected).scale(0).epsilon(0.01));
  }
}

TEST_CASE("ebs profiles: AWS's formulas from the volume type and size") {
  // gp2 500 GiB: 1,500 IOPS baseline, 3,000 burst, 5.4 M credits; 250 MiB/s from 334 GiB.
  const auto gp2 = std::get<EbsParams>(ebs_profile("gp2", 500 * kGiB).params);
  CHECK(gp2.iops.baseline_per_s == doctest::Approx(1500).scale(0));
  CHECK(gp2.iops.burst_per_s == doctest::Approx(3000).scale(0));
  CHECK(gp2.iops.credits_initial == doctest::Approx(5.4e6).scale(0));
  CHECK(gp2.throughput.baseline_per_s == doctest::Approx(250.0 * kMiB).scale(0));
  CHECK(gp2.io_unit_bytes == 256 * kKiB);
  // gp2 10 GiB: the 100 IOPS floor, 128 MiB/s; 2 TiB: 6,144 IOPS, above 3,000, so no bucket.
  const auto small = std::get<EbsParams>(ebs_profile("gp2", 10 * kGiB).params);
  CHECK(small.iops.baseline_per_s == doctest::Approx(100).scale(0));
  CHECK(small.throughput.burst_per_s == doctest::Approx(128.0 * kMiB).scale(0));
  const auto big = std::get<EbsParams>(ebs_profile("gp2", 2048 * kGiB).params);
  CHECK(big.iops.baseline_per_s == doctest::Approx(6144).scale(0));
  CHECK(big.iops.burst_per_s == doctest::Approx(6144).scale(0));
  CHECK(big.iops.credits_max == 0.0);
  // gp2 200 GiB: 128 MiB/s, 250 while the IOPS credits last.
  const auto mid = std::get<EbsParams>(ebs_profile("gp2", 200 * kGiB).params);
  CHECK(mid.throughput.baseline_per_s == doctest::Approx(128.0 * kMiB).scale(0));
  CHECK(mid.throughput.burst_per_s == doctest::Approx(250.0 * kMiB).scale(0));
  CHECK(mid.throughput_burst_needs_iops_credits);
  // gp2 with half its credits.
  const auto half = std::get<EbsParams>(
      ebs_profile("gp2", 100 * kGiB, {{"burst_balance", {{"value", 0.5}, {"unit", "fraction"}, {"source", "t"}}}}).params);
  CHECK(half.iops.credits_initial == doctest::Approx(2.7e6).scale(0));
  // gp3: the included 3,000 IOPS and 125 MiB/s, or what was provisioned within 500 IOPS/GiB and 0.25 MiB/s per IOPS.
  const auto g3 = std::get<EbsParams>(ebs_profile("gp3", 100 * kGiB).params);
  CHECK(g3.iops.baseline_per_s == doctest::Approx(3000).scale(0));
  CHECK(g3.throughput.baseline_per_s == doctest::Approx(125.0 * kMiB).scale(0));
  const nlohmann::json iops_16k = {{"value", 16000}, {"unit", "IO/s"}, {"source", "t"}};
  CHECK_THROWS_AS(ebs_profile("gp3", 20 * kGiB, {{"provisioned_iops", iops_16k}}), cluster::ConfigError);
  CHECK_NOTHROW(ebs_profile("gp3", 32 * kGiB, {{"provisioned_iops", iops_16k}}));
  const nlohmann::json mib_1000 = {{"value", 1000.0 * kMiB}, {"unit", "B/s"}, {"source", "t"}};
  CHECK_THROWS_AS(ebs_profile("gp3", 100 * kGiB, {{"provisioned_throughput_bytes_per_s", mib_1000}}), cluster::ConfigError);
  CHECK_NOTHROW(ebs_profile("gp3", 100 * kGiB, {{"provisioned_iops", {{"value", 4000}, {"unit", "IO/s"}, {"source", "t"}}},
                                                 {"provisioned_throughput_bytes_per_s", mib_1000}}));
  // Sizes AWS refuses, a gp3 burst balance, gp2 provisioned IOPS.
  CHECK_THROWS_AS(ebs_profile("st1", 100 * kGiB), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("gp2", 17 * 1024 * kGiB), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("gp3", 100 * kGiB, {{"burst_balance", {{"value", 0.5}, {"unit", "fraction"}, {"source", "t"}}}}),
                  cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("gp2", 100 * kGiB, {{"provisioned_iops", iops_16k}}), cluster::ConfigError);
}

TEST_CASE("ebs io1/io2: provisioned IOPS within the size's ratio; throughput 256 KiB per IOPS to 500 MiB/s, 16 KiB "
          "per IOPS above 32,000; Block Express 0.256 MiB/s per IOPS to 4,000 MiB/s") {
  const auto iops = [](uint64_t n) { return nlohmann::json{{"value", n}, {"unit", "IO/s"}, {"source", "t"}}; };
  const nlohmann::json be = {{"value", true}, {"unit", "bool"}, {"source", "t"}};
  const auto mib_s = [](const cluster::HardwareProfile& h) {
    return std::get<EbsParams>(h.params).throughput.baseline_per_s / kMiB;
  };
  // AWS's examples: 2,000 IOPS reach the 500 MiB/s peak (256 KiB each), 48,000 give 750 MiB/s, 64,000 give 1,000.
  CHECK(mib_s(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(1000)}})) == doctest::Approx(250).scale(0));
  CHECK(mib_s(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(2000)}})) == doctest::Approx(500).scale(0));
  CHECK(mib_s(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(32000)}})) == doctest::Approx(500).scale(0));
  CHECK(mib_s(ebs_profile("io2", 128 * kGiB, {{"provisioned_iops", iops(48000)}})) == doctest::Approx(750).scale(0));
  CHECK(mib_s(ebs_profile("io1", 1280 * kGiB, {{"provisioned_iops", iops(64000)}})) == doctest::Approx(1000).scale(0));
  const auto io2 = std::get<EbsParams>(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(50000)}}).params);
  CHECK(io2.iops.baseline_per_s == doctest::Approx(50000).scale(0));
  CHECK(io2.iops.burst_per_s == io2.iops.baseline_per_s);  // no burst
  CHECK(io2.io_unit_bytes == 256 * kKiB);
  // Block Express: 0.256 MiB/s per IOPS up to 4,000 MiB/s (reached at 16,000 IOPS); up to 256,000 IOPS, 1,000 per GiB.
  CHECK(mib_s(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(1000)}, {"block_express", be}})) ==
        doctest::Approx(256).scale(0));
  CHECK(mib_s(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(16000)}, {"block_express", be}})) ==
        doctest::Approx(4000).scale(0));
  CHECK_NOTHROW(ebs_profile("io2", 256 * kGiB, {{"provisioned_iops", iops(256000)}, {"block_express", be}}));
  CHECK_NOTHROW(ebs_profile("io2", 64 * 1024 * kGiB, {{"provisioned_iops", iops(1000)}, {"block_express", be}}));
  // Refused: the ratio (io1 50, io2 500, Block Express 1,000 per GiB), the range, a size past 16 TiB without Block
  // Express, Block Express on io1, no IOPS, a provisioned throughput, a burst balance.
  CHECK_THROWS_AS(ebs_profile("io1", 100 * kGiB, {{"provisioned_iops", iops(5001)}}), cluster::ConfigError);
  CHECK_NOTHROW(ebs_profile("io1", 100 * kGiB, {{"provisioned_iops", iops(5000)}}));
  CHECK_THROWS_AS(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(50001)}}), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 1000 * kGiB, {{"provisioned_iops", iops(64001)}}), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(99)}}), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 17 * 1024 * kGiB, {{"provisioned_iops", iops(1000)}}), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io1", 100 * kGiB, {{"provisioned_iops", iops(1000)}, {"block_express", be}}),
                  cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 3 * kGiB, {{"provisioned_iops", iops(1000)}}), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 100 * kGiB), cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(1000)},
                                                  {"provisioned_throughput_bytes_per_s",
                                                   {{"value", 1e8}, {"unit", "B/s"}, {"source", "t"}}}}),
                  cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("io2", 100 * kGiB, {{"provisioned_iops", iops(1000)},
                                                  {"burst_balance", {{"value", 0.5}, {"unit", "fraction"}, {"source", "t"}}}}),
                  cluster::ConfigError);
  CHECK_THROWS_AS(ebs_profile("gp2", 100 * kGiB, {{"block_express", be}}), cluster::ConfigError);
}

TEST_CASE("ebs-io2: the bundled profile's checks, run on the model") {
  const auto profile = cluster::load_named_profile("ebs-io2", cluster::bundled_profile_dir());
  const auto p = std::get<EbsParams>(profile.params);
  // 4 KiB random reads at depth 256: the provisioned 32,000 IOPS.
  Engine engine;
  EbsVolume v(engine, p, Rng(1));
  Rng offsets = Rng::stream(2, "offsets");
  ClosedLoop loop{engine, v, [&](uint64_t) { return read_at(offsets.uniform_u64(1'000'000) * 64 * kKiB, 4 * kKiB); },
                  10'000'000};
  loop.start(256);
  engine.run_until(SimTime::zero() + 6_s);
  CHECK(static_cast<double>(loop.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 6_s)) / 5 ==
        doctest::Approx(profile.checks["random_4k_read_iops"]["value"].get<double>()).scale(0).epsilon(0.002));
  // 1 MiB sequential writes: 500 MiB/s.
  Engine engine2;
  EbsVolume w(engine2, p, Rng(1));
  ClosedLoop seq{engine2, w, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 1'000'000};
  seq.start(32);
  engine2.run_until(SimTime::zero() + 6_s);
  CHECK(static_cast<double>(seq.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 6_s)) / 5 * kMiB ==
        doctest::Approx(profile.checks["sequential_1m_write_bytes_per_s"]["value"].get<double>()).scale(0).epsilon(0.002));
}

// ------------------------------------------------------------------------------------------------
// The instance's EBS limits (EbsInstanceLink): AWS EC2 user guide, "Amazon EBS-optimized instances". Expectations from
// the published maxima and baselines and the bucket rule (maximum - baseline) x burst duration.

namespace {

EbsInstanceParams instance(double mb_per_s, double iops) {
  return {{iops, iops, 0, 0}, {mb_per_s * 1e6, mb_per_s * 1e6, 0, 0}};
}

cluster::HardwareProfile instance_profile(nlohmann::json params) {
  nlohmann::json doc = {{"kind", "ebs_instance"}, {"name", "test-instance"}, {"parameters", nlohmann::json::object()}};
  for (const auto& [k, v] : params.items()) doc["parameters"][k] = {{"value", v}, {"source", "test"}};
  for (const char* k : {"maximum_bandwidth_bytes_per_s", "baseline_bandwidth_bytes_per_s"})
    if (doc["parameters"].contains(k)) doc["parameters"][k]["unit"] = "B/s";
  return cluster::parse_hardware_profile(doc, "test.json");
}

}  // namespace

TEST_CASE("ebs instance: its volumes share its bandwidth, each volume still within its own limit") {
  // Two gp3 volumes provisioned at 1,000 MiB/s each behind an instance of 593.75 MB/s (4,750 Mbps): together they
  // write 593.75 MB/s, about half each.
  Engine engine;
  EbsInstanceLink link(engine, instance(593.75, 100'000));
  EbsVolume a(engine, gp3(16'000, 1000), Rng(1)), b(engine, gp3(16'000, 1000), Rng(2));
  a.attach_instance(&link);
  b.attach_instance(&link);
  ClosedLoop la{engine, a, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 1'000'000};
  ClosedLoop lb{engine, b, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 1'000'000};
  la.start(16);
  lb.start(16);
  engine.run_until(SimTime::zero() + 11_s);
  const auto mb_per_s = [](const ClosedLoop& l) {
    return static_cast<double>(l.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 11_s)) * kMiB / 10 / 1e6;
  };
  CHECK(mb_per_s(la) + mb_per_s(lb) == doctest::Approx(593.75).scale(0).epsilon(0.005));
  CHECK(mb_per_s(la) == doctest::Approx(593.75 / 2).scale(0).epsilon(0.05));
  CHECK(link.utilisation() == doctest::Approx(1).scale(0).epsilon(0.01));
  // Every I/O waits for the instance, not for its 1,000 MiB/s volume (after the first of each volume).
  CHECK(a.ebs_stats().instance_held >= a.ebs_stats().admitted - 1);
  CHECK_FALSE(link.byte_balance().has_value());  // no burst
  // The instance counts the operations its volumes count (4 per 1 MiB write) and their bytes, each once its
  // admission has come (the 2 x 16 I/Os the volumes have started may wait for theirs).
  CHECK(link.stats().operations == a.ebs_stats().operations + b.ebs_stats().operations);
  CHECK(link.stats().bytes == (a.ebs_stats().admitted + b.ebs_stats().admitted) * kMiB);
  // So what they report never exceeds the bandwidth: 593.75 MB/s over the 11 s, and the first I/O admitted at once.
  CHECK(static_cast<double>(link.stats().bytes) <= 593.75e6 * 11 + kMiB);
  // A volume below the instance's limit is held by its own: 125 MiB/s behind the same instance.
  Engine engine2;
  EbsInstanceLink wide(engine2, instance(593.75, 100'000));
  EbsVolume slow(engine2, gp3(3000, 125), Rng(1));
  slow.attach_instance(&wide);
  ClosedLoop ls{engine2, slow, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 1'000'000};
  ls.start(16);
  engine2.run_until(SimTime::zero() + 11_s);
  CHECK(static_cast<double>(ls.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 11_s)) / 10 ==
        doctest::Approx(125).scale(0).epsilon(0.01));
  CHECK(slow.ebs_stats().instance_held == 0);
}

TEST_CASE("ebs instance: reset_stats starts a new window of its counters and utilisation, not of its busy time") {
  // One gp3 volume of 1,000 MiB/s behind a 593.75 MB/s instance, held at the instance's bandwidth from 0 to 11 s,
  // the window reset at 5 s: the window admits 6 s of the bandwidth (give or take the 16 I/Os in flight at either
  // end), at 100 % utilisation; busy_ns, which the per-second samples difference, still counts from 0.
  Engine engine;
  EbsInstanceLink link(engine, instance(593.75, 100'000));
  EbsVolume v(engine, gp3(16'000, 1000), Rng(1));
  v.attach_instance(&link);
  ClosedLoop loop{engine, v, [](uint64_t i) { return write_at(i * kMiB, kMiB); }, 1'000'000};
  loop.start(16);
  engine.run_until(SimTime::zero() + 5_s);
  CHECK(static_cast<double>(link.stats().bytes) == doctest::Approx(593.75e6 * 5).scale(0).epsilon(0.001));
  const int64_t volume_busy_at_5s = v.busy_unit_ns();
  link.reset_stats();
  v.reset_stats();
  CHECK(v.busy_unit_ns() == volume_busy_at_5s);
  engine.run_until(SimTime::zero() + 11_s);
  CHECK(static_cast<double>(link.stats().bytes) == doctest::Approx(593.75e6 * 6).scale(0).epsilon(0.001));
  CHECK(static_cast<double>(link.stats().bytes) <= 593.75e6 * 6 + 16 * kMiB);
  CHECK(link.utilisation() == doctest::Approx(1).scale(0).epsilon(0.002));
  CHECK(static_cast<double>(link.busy_ns()) / 1e9 == doctest::Approx(11).scale(0).epsilon(0.002));
  // The volume's own window: its writes since 5 s; its busy time goes on from where it was.
  CHECK(static_cast<double>(v.stats().bytes_written) == doctest::Approx(593.75e6 * 6).scale(0).epsilon(0.005));
  CHECK(v.busy_unit_ns() > volume_busy_at_5s);
}

TEST_CASE("ebs instance: its busy time counts each admission's spacing where it lies, gaps before future ones left out") {
  // A 125 MiB/s volume behind a 593.75 MB/s instance, two 8 MiB writes submitted at 0: the first is admitted at 0
  // and holds the instance for 8 MiB / 593.75 MB/s = 14.13 ms; the volume's own limit admits the second at
  // 8 MiB / 125 MiB/s = 64 ms, and it holds the instance 14.13 ms from then. Busy so far: the elapsed part of each.
  Engine engine;
  EbsInstanceLink link(engine, instance(593.75, 100'000));
  EbsVolume v(engine, gp3(16'000, 125), Rng(1));
  v.attach_instance(&link);
  ClosedLoop writes{engine, v, [](uint64_t i) { return write_at(i * 8 * kMiB, 8 * kMiB); }, 2};
  writes.start(2);
  const double hold_ms = 8.0 * kMiB / 593.75e6 * 1e3;
  const auto busy_ms_at = [&](double ms) {
    const SimTime at = SimTime::zero() + Duration::from_seconds_f(ms / 1e3);
    engine.schedule_at(at, [] {});  // the clock stops at the last event: one at `at`
    engine.run_until(at);
    return static_cast<double>(link.busy_ns()) / 1e6;
  };
  CHECK(busy_ms_at(10) == doctest::Approx(10).scale(0).epsilon(1e-6));
  CHECK(busy_ms_at(40) == doctest::Approx(hold_ms).scale(0).epsilon(1e-6));
  CHECK(busy_ms_at(70) == doctest::Approx(hold_ms + 6).scale(0).epsilon(1e-6));
  CHECK(busy_ms_at(100) == doctest::Approx(2 * hold_ms).scale(0).epsilon(1e-6));
  CHECK(link.utilisation() == doctest::Approx(2 * hold_ms / 100).scale(0).epsilon(1e-6));
}

TEST_CASE("ebs instance: its IOPS limit bounds small I/Os across its volumes") {
  // 16 KiB writes far apart (one operation each) on two 16,000-IOPS volumes behind an instance of 3,600 IOPS (an
  // m5.large's baseline): 3,600 a second in all.
  Engine engine;
  EbsInstanceLink link(engine, instance(593.75, 3600));
  EbsVolume a(engine, gp3(16'000, 1000), Rng(1)), b(engine, gp3(16'000, 1000), Rng(2));
  a.attach_instance(&link);
  b.attach_instance(&link);
  ClosedLoop la{engine, a, [](uint64_t i) { return write_at((i + 1) * kGiB % (1000 * kGiB), 16 * kKiB); }, 10'000'000};
  ClosedLoop lb{engine, b, [](uint64_t i) { return write_at((i + 1) * kGiB % (1000 * kGiB), 16 * kKiB); }, 10'000'000};
  la.start(32);
  lb.start(32);
  engine.run_until(SimTime::zero() + 6_s);
  const auto done = la.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 6_s) +
                    lb.completed_between(SimTime::zero() + 1_s, SimTime::zero() + 6_s);
  CHECK(static_cast<double>(done) / 5 == doctest::Approx(3600).scale(0).epsilon(0.005));
}

TEST_CASE("ebs instance: the maximum for burst_duration from a full bucket, then the baseline; refilled at the "
          "baseline") {
  // Baseline 100 MB/s, maximum 500 MB/s, a 10 s burst: (500 - 100) MB/s x 10 s = 4 GB of credits, spent at
  // 400 MB/s while writing at the maximum.
  EbsInstanceParams p{{1e6, 1e6, 0, 0}, {100e6, 500e6, 4e9, 4e9}};
  Engine engine;
  EbsInstanceLink link(engine, p);
  EbsVolume v(engine, gp3(16'000, 1000), Rng(1));
  v.attach_instance(&link);
  REQUIRE(link.byte_balance().has_value());
  CHECK(*link.byte_balance() == doctest::Approx(1).scale(0));
  CHECK_FALSE(link.io_balance().has_value());
  ClosedLoop loop{engine, v, [](uint64_t i) { return write_at(i * kMiB % (1000 * kGiB), kMiB); }, 10'000'000};
  loop.start(32);
  const auto mb_in = [&](int s) {
    return static_cast<double>(loop.completed_between(SimTime::zero() + Duration::from_s(s),
                                                      SimTime::zero() + Duration::from_s(s + 1))) * kMiB / 1e6;
  };
  engine.run_until(SimTime::zero() + 5_s);
  // Half spent, less what the I/Os admitted ahead of now (paced up to 32 of them past it) have already drawn: about
  // 32 MiB x 400/500 of the 4 GB, 0.7 %.
  CHECK(*link.byte_balance() <= 0.5);
  CHECK(*link.byte_balance() == doctest::Approx(0.5 - 32 * kMiB * 0.8 / 4e9).scale(0).epsilon(0.001));
  engine.run_until(SimTime::zero() + 20_s);
  CHECK(mb_in(2) == doctest::Approx(500).scale(0).epsilon(0.01));
  CHECK(mb_in(8) == doctest::Approx(500).scale(0).epsilon(0.01));
  CHECK(mb_in(12) == doctest::Approx(100).scale(0).epsilon(0.02));
  CHECK(mb_in(18) == doctest::Approx(100).scale(0).epsilon(0.02));
  // Idle for 20 s: 2 GB back at the baseline, half the bucket.
  loop.total = loop.issued;
  engine.run_until(SimTime::max());
  const SimTime idle_from = engine.now();
  engine.schedule_at(idle_from + 20_s, [] {});
  engine.run_until(SimTime::max());
  CHECK(*link.byte_balance() == doctest::Approx(0.5).scale(0).epsilon(0.01));
}

TEST_CASE("ebs instance profiles: the bundled m5 sizes and the checks on a profile") {
  const auto dir = cluster::bundled_profile_dir();
  const auto large = std::get<EbsInstanceParams>(cluster::load_named_profile("ec2-m5.large", dir).params);
  // 4,750 Mbps = 593.75 MB/s and 18,750 IOPS for 30 minutes; 650 Mbps = 81.25 MB/s and 3,600 IOPS sustained.
  CHECK(large.throughput.burst_per_s == doctest::Approx(593.75e6).scale(0));
  CHECK(large.throughput.baseline_per_s == doctest::Approx(81.25e6).scale(0));
  CHECK(large.throughput.credits_max == doctest::Approx((593.75e6 - 81.25e6) * 1800).scale(0));
  CHECK(large.throughput.credits_initial == large.throughput.credits_max);
  CHECK(large.iops.burst_per_s == doctest::Approx(18'750).scale(0));
  CHECK(large.iops.baseline_per_s == doctest::Approx(3'600).scale(0));
  CHECK(large.iops.credits_max == doctest::Approx((18'750.0 - 3'600) * 1800).scale(0));
  const auto xlarge = std::get<EbsInstanceParams>(cluster::load_named_profile("ec2-m5.xlarge", dir).params);
  CHECK(xlarge.throughput.baseline_per_s == doctest::Approx(143.75e6).scale(0));
  // Each bundled instance's checks follow from its parameters: the baseline sustained, a full bucket spent in 30 min at
  // the maximum, refilled from empty at the baseline.
  for (const char* name : {"ec2-m5.large", "ec2-m5.xlarge", "ec2-m5.2xlarge", "ec2-m5.4xlarge"}) {
    CAPTURE(name);
    const auto profile = cluster::load_named_profile(name, dir);
    const auto& p = std::get<EbsInstanceParams>(profile.params);
    CHECK(profile.checks["sequential_1m_write_bytes_per_s_sustained"]["value"].get<double>() == p.throughput.baseline_per_s);
    if (p.throughput.credits_max == 0) continue;
    CHECK(p.throughput.credits_max / (p.throughput.burst_per_s - p.throughput.baseline_per_s) ==
          doctest::Approx(profile.checks["burst_seconds_from_full"]["value"].get<double>()).scale(0));
    CHECK(p.iops.credits_max / (p.iops.burst_per_s - p.iops.baseline_per_s) == doctest::Approx(1800).scale(0));
    CHECK(p.throughput.credits_max / p.throughput.baseline_per_s ==
          doctest::Approx(profile.checks["refill_seconds_idle"]["value"].get<double>()).scale(0).epsilon(1e-3));  // rounded to a second
  }
  const auto x4 = std::get<EbsInstanceParams>(cluster::load_named_profile("ec2-m5.4xlarge", dir).params);
  CHECK(x4.throughput.baseline_per_s == x4.throughput.burst_per_s);
  CHECK(x4.throughput.credits_max == 0.0);
  // Checks: a baseline above the maximum, a burst without its duration, a burst duration without a burst, a balance
  // out of [0, 1].
  const nlohmann::json ok = {{"maximum_bandwidth_bytes_per_s", 500e6},
                             {"baseline_bandwidth_bytes_per_s", 100e6},
                             {"maximum_iops", 10'000},
                             {"baseline_iops", 2'000},
                             {"burst_duration", "10s"}};
  const auto half = std::get<EbsInstanceParams>(instance_profile(ok).params);
  CHECK(half.throughput.credits_max == doctest::Approx(4e9).scale(0));
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json p = ok;
    if (value.is_null()) p.erase(key);
    else p[key] = value;
    return p;
  };
  CHECK_THROWS_AS(instance_profile(with("baseline_bandwidth_bytes_per_s", 600e6)), cluster::ConfigError);
  CHECK_THROWS_AS(instance_profile(with("baseline_iops", 20'000)), cluster::ConfigError);
  CHECK_THROWS_AS(instance_profile(with("burst_duration", nullptr)), cluster::ConfigError);
  CHECK_THROWS_AS(instance_profile(with("burst_balance", 1.5)), cluster::ConfigError);
  nlohmann::json flat = ok;
  flat["baseline_bandwidth_bytes_per_s"] = 500e6;
  flat["baseline_iops"] = 10'000;
  CHECK_THROWS_AS(instance_profile(flat), cluster::ConfigError);  // burst_duration with no burst
  flat.erase("burst_duration");
  CHECK_NOTHROW(instance_profile(flat));
}
