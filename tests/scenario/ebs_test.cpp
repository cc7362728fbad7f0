// Brokers on EBS volumes (models::EbsVolume, hardware-models.md §2.5). The page cache takes a broker's appends at
// memory speed until the dirty pages reach vm.dirty_ratio (hardware-models.md §3.3); past that, writers wait for the
// writeback, which a gp3 volume caps at its provisioned throughput. So a cluster whose replicated write rate
// exceeds the cap first runs at the offered rate, then settles at the cap, and the summary names the volume.
#include <doctest/doctest.h>

#include <string>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Three brokers with 8 GiB of RAM (about 1 GiB of page cache) on gp3 volumes provisioned at `mib_per_s`, one topic of
// 6 partitions with RF 3 (every broker writes every record), two producers offering 2 x 8,000 records/s of 10 KiB:
// 156 MiB/s of values, which every broker appends.
cluster::WorldSpec gp3_cluster(double mib_per_s) {
  auto spec = test::small_cluster(3, "ebs-gp3", "nic-10gbe", 6, 3, 2);
  auto& ebs = std::get<models::EbsParams>(spec.broker_hardware.disk);
  ebs.throughput = {mib_per_s * kMiB, mib_per_s * kMiB, 0, 0};
  spec.broker_hardware.ram_bytes = uint64_t{8} << 30;
  spec.duration = 40_s;
  spec.warmup = 5_s;
  auto p = test::open_loop_producer(8'000, Acks::all, 5, 10'240);
  p.count = 2;
  p.config.batch_size_bytes = 262'144;
  spec.producers.push_back(p);
  return spec;
}

cluster::WorldSummary run_on_gp3(double mib_per_s) { return cluster::World(gp3_cluster(mib_per_s)).run(); }

}  // namespace

TEST_CASE("ebs gp3: a broker never writes faster than the volume's throughput; past the dirty limit the cluster "
          "runs at it") {
  const auto capped = run_on_gp3(125);
  const double offered = 16'000 * 10'240 / kMiB;  // 156.25 MiB/s of values
  for (const auto& d : capped.disks) {
    CAPTURE(d.name);
    const double written = static_cast<double>(d.stats.bytes_written) / capped.simulated_seconds / kMiB;
    // At most the cap (the bytes admitted by the end, a few I/Os more than completed), and at it once saturated: the
    // writeback never stops while the dirty pages are over the background threshold.
    CHECK(written <= 125 * 1.001);
    CHECK(written >= 125 * 0.95);
    CHECK(d.utilisation >= 0.95);
    // Writeback's runs of up to 1 MiB per file count at least one operation per 256 KiB written; gp3 has no bucket.
    REQUIRE(d.ebs_operations.has_value());
    CHECK(static_cast<double>(*d.ebs_operations) >= static_cast<double>(d.stats.bytes_written) / (256 * 1024));
    CHECK_FALSE(d.burst_balance.has_value());
  }
  CHECK(capped.bottleneck.find("disk 0") != std::string::npos);
  // Acknowledged below the offered rate: each broker's appends are its disk's writes (values plus v2 framing of
  // about 0.2 %), so at most the cap of values, plus what the page cache took above it before the dirty limit
  // (at most its ~1 GiB x 20 % over the window).
  CHECK(capped.throughput_mib_per_s < offered * 0.97);
  CHECK(capped.throughput_mib_per_s <= 125 + 0.2 * 1024 / 35.0);
  CHECK(capped.produce_latency.p99_ms > 1'000);
  // Provisioned above the write rate: the disks keep up, and the page cache hides them as it hides an NVMe drive.
  const auto ample = run_on_gp3(250);
  CHECK(ample.throughput_mib_per_s == doctest::Approx(offered).scale(0).epsilon(0.01));
  CHECK(ample.produce_latency.p99_ms < 50);
  for (const auto& d : ample.disks) {
    const double written = static_cast<double>(d.stats.bytes_written) / ample.simulated_seconds / kMiB;
    CHECK(written < 250 * 0.7);
  }
}

TEST_CASE("ebs instance: a broker's volumes together never write faster than its instance's EBS bandwidth; below its "
          "limits the instance changes nothing") {
  constexpr double kMB = 1e6;
  const auto dir = cluster::bundled_profile_dir();
  // An m5.large that has spent its burst (both balances 0): 650 Mbps = 81.25 MB/s and 3,600 IOPS sustained, shared by
  // two gp3 volumes of 250 MiB/s each (two log dirs). The brokers append 156 MiB/s; past the dirty limit they write
  // back at the instance's bandwidth, and the summary names it.
  auto instance = std::get<models::EbsInstanceParams>(cluster::load_named_profile("ec2-m5.large", dir).params);
  instance.iops.credits_initial = 0;
  instance.throughput.credits_initial = 0;
  auto spec = gp3_cluster(250);
  spec.broker_hardware.log_dirs = 2;
  spec.broker_hardware.ebs_instance = instance;
  const auto capped = cluster::World(spec).run();
  REQUIRE(capped.ebs_instances.size() == 3);
  for (const auto& e : capped.ebs_instances) {
    CAPTURE(e.broker);
    double written = 0;
    for (const auto& d : capped.disks)
      if (d.name.rfind(e.broker + " ", 0) == 0) written += static_cast<double>(d.stats.bytes_written);
    written /= capped.simulated_seconds * kMB;
    // Both volumes together: at most the baseline (a few admitted I/Os beyond what completed), and at it once the
    // dirty pages hold the writers.
    CHECK(written <= 81.25 * 1.001);
    CHECK(written >= 81.25 * 0.95);
    CHECK(e.mib_per_s * kMiB / kMB <= 81.25 * 1.01);
    CHECK(e.utilisation >= 0.95);
    CHECK(e.held_share > 0.5);
    REQUIRE(e.byte_balance.has_value());
    CHECK(*e.byte_balance < 1e-3);  // spent as fast as it refills
  }
  CHECK(capped.bottleneck.find("ebs instance") != std::string::npos);
  CHECK(capped.throughput_mib_per_s < 16'000 * 10'240 / kMiB * 0.9);
  // A sustained 4,750 Mbps (m5.4xlarge) shared by the two volumes: it only serialises I/Os of the two that coincide
  // (a 1 MiB I/O holds it 1.8 ms), so the cluster keeps the offered rate and most I/Os pass unheld.
  spec.broker_hardware.ebs_instance =
      std::get<models::EbsInstanceParams>(cluster::load_named_profile("ec2-m5.4xlarge", dir).params);
  const auto shared = cluster::World(spec).run();
  CHECK(shared.throughput_mib_per_s == doctest::Approx(16'000 * 10'240 / kMiB).scale(0).epsilon(0.01));
  for (const auto& e : shared.ebs_instances) CHECK(e.held_share < 0.5);
  // With one volume, whose own 250 MiB/s paces its I/Os further apart than the instance would, the instance never
  // holds an I/O: the same run to the event.
  spec.broker_hardware.log_dirs = 1;
  const auto one = cluster::World(spec).run();
  spec.broker_hardware.ebs_instance.reset();
  const auto none = cluster::World(spec).run();
  CHECK(one.trace_hash == none.trace_hash);
  CHECK(one.events == none.events);
  CHECK(one.produce_latency.p99_ms == none.produce_latency.p99_ms);
  REQUIRE(one.ebs_instances.size() == 3);
  CHECK(one.ebs_instances[0].held_share == 0.0);
  CHECK(none.ebs_instances.empty());
}
