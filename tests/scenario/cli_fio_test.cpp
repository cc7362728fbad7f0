// `kafkasim fio`: fio's basic job against a disk profile's model, run as a user runs it. Expectations are the
// closed forms of the models (docs of models/disk.hpp) computed from the profile's own parameters here, and the
// command's errors for bad input.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"

using namespace kafkasim;
using namespace kafkasim::test;
namespace fs = std::filesystem;

namespace {

nlohmann::json fio_json(const std::string& args, const fs::path& dir) {
  REQUIRE(run_kafkasim("fio " + args + " --json", dir / "fio.json") == 0);
  return nlohmann::json::parse(slurp(dir / "fio.json"));
}

template <typename Params>
Params params_of(const char* name) {
  return std::get<Params>(cluster::load_named_profile(name, cluster::bundled_profile_dir()).params);
}

}  // namespace

TEST_CASE("kafkasim fio: NVMe random reads follow Little's law, QD1 at one unit and deep queues at all of them") {
  const fs::path dir = fresh_dir("fio-nvme");
  const auto p = params_of<models::SsdParams>("nvme-datacentre");
  const double service_s = p.read_latency.seconds_f() + 4096.0 / p.read_bandwidth_bytes_per_s;
  const auto qd1 = fio_json("nvme-datacentre --rw randread --bs 4k --iodepth 1 --runtime 1s", dir);
  CHECK(qd1["iops"].get<double>() == doctest::Approx(1 / service_s).scale(0).epsilon(0.01));
  CHECK(qd1["latency_ms"]["p50"].get<double>() == doctest::Approx(service_s * 1e3).scale(0).epsilon(0.01));
  // 256 outstanding against 59 parallel units: every unit busy, P / service time.
  const auto deep = fio_json("nvme-datacentre --rw randread --bs 4k --iodepth 256 --runtime 1s", dir);
  CHECK(deep["iops"].get<double>() == doctest::Approx(p.parallel_units / service_s).scale(0).epsilon(0.01));
  CHECK(deep["utilisation"].get<double>() > 0.99);
  // Large sequential writes at depth: the write bandwidth.
  const auto writes = fio_json("nvme-datacentre --rw write --bs 1m --iodepth 32 --runtime 1s", dir);
  CHECK(writes["bandwidth_bytes_per_s"].get<double>() ==
        doctest::Approx(p.write_bandwidth_bytes_per_s).scale(0).epsilon(0.02));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: HDD sequential writes at QD1 pay the command overhead per request; random reads a seek and half a turn") {
  const fs::path dir = fresh_dir("fio-hdd");
  const auto p = params_of<models::HddParams>("hdd-7200rpm");
  // The first GiB of a 4 TB disk is in its outer zone: B_out.
  const double bs = 256 * 1024;
  const auto seq = fio_json("hdd-7200rpm --rw write --bs 256k --iodepth 1 --size 1g --runtime 5s", dir);
  CHECK(seq["bandwidth_bytes_per_s"].get<double>() ==
        doctest::Approx(bs / (p.command_overhead.seconds_f() + bs / p.outer_bandwidth_bytes_per_s)).scale(0).epsilon(0.02));
  // QD1 random 4 KiB reads over the whole disk: t_cmd + average seek + half a revolution (+ a negligible transfer).
  const auto rnd = fio_json("hdd-7200rpm --rw randread --bs 4k --iodepth 1 --runtime 30s", dir);
  const double service_s = p.command_overhead.seconds_f() + p.average_seek.seconds_f() + 30.0 / p.rpm;
  CHECK(rnd["iops"].get<double>() == doctest::Approx(1 / service_s).scale(0).epsilon(0.05));
  // Its positioning: the vendor average seek A (random pairs of cylinders) and half a revolution. About 2,300
  // requests: standard errors about 1 % (rotation sd T_rev/√12 = 2.4 ms), hence 5 %.
  const auto& hdd = rnd["hdd"];
  CHECK(hdd["mean_seek_ms"].get<double>() == doctest::Approx(p.average_seek.ms_f()).scale(0).epsilon(0.05));
  CHECK(hdd["mean_rotation_ms"].get<double>() == doctest::Approx(30e3 / p.rpm).scale(0).epsilon(0.05));
  CHECK(hdd["sequential_requests"].get<uint64_t>() == 0);
  // At depth 32 the drive (NCQ) starts the command the head reaches first: far less than half a turn of waiting.
  const auto deep = fio_json("hdd-7200rpm --rw randread --bs 4k --iodepth 32 --runtime 10s", dir);
  CHECK(deep["hdd"]["mean_rotation_ms"].get<double>() < 0.5 * 30e3 / p.rpm);
  CHECK(deep["iops"].get<double>() > 1.5 / service_s);
  // Sequential writes position once, then follow the head; 5 s at ~228 MB/s pass the 1 GiB span once, and the
  // job, as fio's, wraps to its start: one more positioning.
  CHECK(seq["hdd"]["positioned_requests"].get<uint64_t>() == 2);
  CHECK(seq["hdd"]["sequential_requests"].get<uint64_t>() > 1000);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: --fsync 1 on a SATA SSD without power-loss protection costs a cache flush per write") {
  const fs::path dir = fresh_dir("fio-fsync");
  const auto p = params_of<models::SsdParams>("ssd-sata");
  REQUIRE_FALSE(p.power_loss_protection);
  const auto j = fio_json("ssd-sata --rw randwrite --bs 4k --iodepth 1 --fsync 1 --runtime 2s", dir);
  const double cycle_s = p.write_latency.seconds_f() + 4096.0 / p.write_bandwidth_bytes_per_s + p.flush_latency_no_plp.seconds_f();
  CHECK(j["iops"].get<double>() == doctest::Approx(1 / cycle_s).scale(0).epsilon(0.01));
  CHECK(j["flushes"].get<uint64_t>() + 1 >= j["ios"].get<uint64_t>());
  CHECK(j["flushes"].get<uint64_t>() <= j["ios"].get<uint64_t>());
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: the same job twice prints the same report; the text and --json agree") {
  const fs::path dir = fresh_dir("fio-repeat");
  const std::string args = "fio hdd-7200rpm --rw randread --bs 128k --iodepth 8 --size 10g --runtime 3s --seed 5";
  REQUIRE(run_kafkasim(args, dir / "a.txt") == 0);
  REQUIRE(run_kafkasim(args, dir / "b.txt") == 0);
  CHECK(slurp(dir / "a.txt") == slurp(dir / "b.txt"));
  const auto j = fio_json(args.substr(4), dir);
  CHECK(slurp(dir / "a.txt").find(std::to_string(j["ios"].get<uint64_t>()) + " completed") != std::string::npos);
  // Another seed draws other offsets.
  const auto other = fio_json("hdd-7200rpm --rw randread --bs 128k --iodepth 8 --size 10g --runtime 3s --seed 6", dir);
  CHECK(other["ios"] != j["ios"]);
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: an EBS gp2 volume bursts at 3,000 IOPS for credits / (3,000 - baseline) s, then holds the "
          "baseline (hardware-models.md §6 check 12)") {
  // A 100 GiB gp2 (a derived profile, given inline): baseline 300 IOPS, a full bucket of 5.4 M credits drained at
  // 3,000 - 300 a second lasts 2,000 s. Over 2,500 s of 4 KiB random reads at depth 32: (3,000 x 2,000 + 300 x 500)
  // / 2,500 = 2,460 IOPS; over the first 1,000 s, 3,000.
  const fs::path dir = fresh_dir("fio-ebs");
  const std::string gp2 = R"('{"base": "ebs-gp2", "parameters": {"capacity_bytes": 107374182400}}')";
  const auto burst = fio_json(gp2 + " --rw randread --bs 4k --iodepth 32 --runtime 1000s", dir);
  CHECK(burst["iops"].get<double>() == doctest::Approx(3000).scale(0).epsilon(0.001));
  const auto whole = fio_json(gp2 + " --rw randread --bs 4k --iodepth 32 --runtime 2500s", dir);
  CHECK(whole["iops"].get<double>() == doctest::Approx(2460).scale(0).epsilon(0.001));
  CHECK(whole["ebs"]["iops_credits_left"].get<double>() < 4);
  // gp3's 125 MiB/s: 1 MiB sequential writes at any depth.
  const auto gp3 = fio_json("ebs-gp3 --rw write --bs 1m --iodepth 16 --runtime 10s", dir);
  CHECK(gp3["bandwidth_bytes_per_s"].get<double>() == doctest::Approx(125.0 * 1048576).scale(0).epsilon(0.01));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: a volume behind an instance's EBS limits runs at its maximum for burst_duration, then at its "
          "baseline") {
  // A gp3 volume provisioned at 1,000 MiB/s behind an m5.large whose burst lasts 10 s (a derived profile): 1 MiB writes
  // at depth 32 run at the instance's 593.75 MB/s for 10 s, then at its 81.25 MB/s baseline: over 20 s,
  // (593.75 + 81.25) / 2 = 337.5 MB/s on average; over the first 10 s, 593.75.
  const fs::path dir = fresh_dir("fio-instance");
  const std::string volume =
      R"('{"base": "ebs-gp3", "parameters": {"provisioned_iops": 4000, "provisioned_throughput_bytes_per_s": "1000MiB/s"}}')";
  const std::string instance = R"( --ebs-instance '{"base": "ec2-m5.large", "parameters": {"burst_duration": "10s"}}')";
  const auto burst = fio_json(volume + " --rw write --bs 1m --iodepth 32 --runtime 10s" + instance, dir);
  CHECK(burst["bandwidth_bytes_per_s"].get<double>() == doctest::Approx(593.75e6).scale(0).epsilon(0.005));
  const auto both = fio_json(volume + " --rw write --bs 1m --iodepth 32 --runtime 20s" + instance, dir);
  CHECK(both["bandwidth_bytes_per_s"].get<double>() == doctest::Approx(337.5e6).scale(0).epsilon(0.005));
  CHECK(both["ebs_instance"]["byte_balance_end"].get<double>() < 0.01);
  CHECK(both["ebs_instance"]["held_share"].get<double>() > 0.99);
  CHECK(both["reproduce"].get<std::string>().find("--ebs-instance") != std::string::npos);
  // Without the instance the volume's own 1,000 MiB/s.
  const auto alone = fio_json(volume + " --rw write --bs 1m --iodepth 32 --runtime 10s", dir);
  CHECK(alone["bandwidth_bytes_per_s"].get<double>() == doctest::Approx(1000.0 * 1048576).scale(0).epsilon(0.005));
  CHECK_FALSE(alone.contains("ebs_instance"));
  fs::remove_all(dir);
}

TEST_CASE("kafkasim fio: bad input exits 2 with what was expected and the closest name") {
  const fs::path dir = fresh_dir("fio-errors");
  const auto fails = [&](const std::string& args, const std::string& says) {
    CAPTURE(args);
    CHECK(run_kafkasim("fio " + args, dir / "err.txt") == 2);
    const std::string text = slurp(dir / "err.txt");
    CAPTURE(text);
    CHECK(text.find(says) != std::string::npos);
  };
  fails("nvme-datacenter", "did you mean \"nvme-datacentre\"");
  fails("nic-10gbe", "is a nic profile");
  fails("ssd-sata --rw randred", "did you mean randread");
  fails("ssd-sata --bs 100", "a multiple of 512 bytes");
  fails("ssd-sata --runtime 0s", "more than 0");
  fails("ssd-sata --rw randread --fsync 4", "--fsync applies to write and randwrite");
  fails("ssd-sata --size 2TB", "capacity_bytes");
  fails("scenarios/no-such-profile.json", "no-such-profile.json");
  fails(R"('{"base": "ebs-gp2", "parameters": {"capacity": 1}}')", "did you mean \"capacity_bytes\"");
  fails(R"('{"base": "ebs-gp2"')", "valid JSON, found a syntax error");
  fails("nvme-datacentre --ebs-instance ec2-m5.large", "--ebs-instance applies to an EBS volume");
  fails("ebs-gp3 --ebs-instance ebs-gp2", "not an ebs_instance one");
  fails("ebs-gp3 --ebs-instance ec2-m5.larg", "did you mean \"ec2-m5.large\"");
  fs::remove_all(dir);
}
