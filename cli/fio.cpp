// `kafkasim fio`: fio's basic job (one file or device, one pattern, a block size, a queue depth) run against a disk
// profile's model, so that a profile can be compared with `fio` on the real drive before it goes into a scenario
// (docs/validation.md "C. Hardware facts" uses it for the reference's published drive figures).
//
// The job keeps --iodepth requests outstanding, as fio's libaio engine does: each completion submits the next.
// Random offsets are uniform over --size (default: the whole device), aligned to --bs as fio's are; sequential jobs
// start at offset 0 and wrap at --size. With --fsync N, after every N writes the job waits for its writes, issues a
// flush (fsync) and waits for it, as fio's `fsync=N` does. Submissions stop at --runtime (simulated); only the I/Os
// completed by then count, so IOPS and bandwidth are completed I/Os over the runtime. Latency is each I/O's
// submission to completion (fio's clat plus slat, which the model does not split).
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/host_hardware.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/models/disk.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/histogram.hpp"
#include "kafkasim/sim/rng.hpp"

namespace kafkasim::cli {

namespace {

// fio's sizes: a number with k, m, g, t (powers of 1024, as fio reads them by default) or the scenario units
// (KiB, MB, ...). A plain number is bytes.
std::optional<uint64_t> fio_size(const std::string& text) {
  if (!text.empty()) {
    const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
    const std::string digits = text.substr(0, text.size() - 1);
    uint64_t scale = 0;
    if (last == 'k') scale = uint64_t{1} << 10;
    if (last == 'm') scale = uint64_t{1} << 20;
    if (last == 'g') scale = uint64_t{1} << 30;
    if (last == 't') scale = uint64_t{1} << 40;
    if (scale != 0 && !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos)
      return std::stoull(digits) * scale;
  }
  const auto parsed = cluster::parse_bytes(text);
  if (const uint64_t* v = std::get_if<uint64_t>(&parsed)) return *v;
  return std::nullopt;
}

struct Job {
  models::IoOp op = models::IoOp::kRead;
  bool random = false;
};

std::optional<Job> fio_pattern(const std::string& rw) {
  if (rw == "read") return Job{models::IoOp::kRead, false};
  if (rw == "write") return Job{models::IoOp::kWrite, false};
  if (rw == "randread") return Job{models::IoOp::kRead, true};
  if (rw == "randwrite") return Job{models::IoOp::kWrite, true};
  return std::nullopt;
}

std::string size_text(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace

int fio_profile(const FioOptions& o) {
  // Bad input: what was wrong and what was expected, exit 2.
  const auto bad = [](const std::string& what) {
    std::fprintf(stderr, "error: %s\n", what.c_str());
    return 2;
  };
  // A profile argument: a bundled name, a file, an inline document or {"base": NAME, "parameters": {...}}.
  const auto load = [](const std::string& arg, const std::string& what) {
    const std::filesystem::path as_path(arg);
    if (!arg.empty() && arg.front() == '{') {
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(arg);
      } catch (const nlohmann::json::exception& e) {
        throw cluster::ConfigError("kafkasim fio", what, "a profile document in valid JSON",
                                   std::string("a syntax error (") + e.what() + ")");
      }
      if (doc.is_object() && doc.contains("base")) doc = cluster::derived_profile_doc(doc, "kafkasim fio", what);
      return cluster::parse_hardware_profile(doc, "kafkasim fio", what);
    }
    if (as_path.extension() == ".json" || arg.find('/') != std::string::npos) return cluster::load_hardware_profile(as_path);
    return cluster::load_named_profile(arg, cluster::bundled_profile_dir(), "kafkasim fio", what);
  };
  cluster::HardwareProfile profile, instance_profile;
  try {
    profile = load(o.profile, "PROFILE");
    if (!o.ebs_instance.empty()) instance_profile = load(o.ebs_instance, "--ebs-instance");
  } catch (const cluster::ConfigError& e) {
    return bad(e.what());
  }
  if (profile.kind != "hdd" && profile.kind != "ssd" && profile.kind != "ebs")
    return bad("profile \"" + profile.name + "\" (" + profile.file + ") is a " + profile.kind +
               " profile; kafkasim fio runs disk profiles (kind \"hdd\", \"ssd\" or \"ebs\")");
  if (!o.ebs_instance.empty() && instance_profile.kind != "ebs_instance")
    return bad("--ebs-instance: profile \"" + instance_profile.name + "\" (" + instance_profile.file + ") is a " +
               instance_profile.kind + " profile, not an ebs_instance one (ec2-m5.large, ...)");
  if (!o.ebs_instance.empty() && profile.kind != "ebs")
    return bad("--ebs-instance applies to an EBS volume (kind \"ebs\"); \"" + profile.name + "\" is a " + profile.kind +
               " profile");
  const std::optional<Job> job = fio_pattern(o.rw);
  if (!job) {
    const std::array<std::string_view, 4> known = {"read", "write", "randread", "randwrite"};
    const std::string close = cluster::closest_name(o.rw, known);
    return bad("--rw " + o.rw + ": expected read, write, randread or randwrite" +
               (close.empty() ? "" : " (did you mean " + close + "?)"));
  }
  const std::optional<uint64_t> bs = fio_size(o.bs);
  if (!bs || *bs == 0 || *bs % 512 != 0)
    return bad("--bs " + o.bs + ": expected a block size, a multiple of 512 bytes (4k, 128k, 1m, 256KiB)");
  const auto runtime_parsed = cluster::parse_duration(o.runtime, 1'000'000'000);
  const sim::Duration* runtime = std::get_if<sim::Duration>(&runtime_parsed);
  if (runtime == nullptr || *runtime <= sim::Duration::zero())
    return bad("--runtime " + o.runtime + ": expected a simulated time with a unit, more than 0 (10s, 500ms)");
  if (o.fsync > 0 && job->op != models::IoOp::kWrite) return bad("--fsync applies to write and randwrite jobs");

  sim::Engine engine;
  std::unique_ptr<models::DiskModel> disk =
      cluster::make_disk(engine, cluster::disk_params(profile.params), sim::Rng::stream(o.seed, "fio/disk"));
  std::unique_ptr<models::EbsInstanceLink> instance;
  if (!o.ebs_instance.empty()) {
    instance = std::make_unique<models::EbsInstanceLink>(engine, std::get<models::EbsInstanceParams>(instance_profile.params));
    static_cast<models::EbsVolume&>(*disk).attach_instance(instance.get());
  }
  uint64_t span = disk->capacity_bytes();
  if (!o.size.empty()) {
    const std::optional<uint64_t> size = fio_size(o.size);
    if (!size || *size == 0) return bad("--size " + o.size + ": expected a size (1g, 10GiB)");
    if (*size > span)
      return bad("--size " + o.size + ": more than the device's capacity_bytes (" + std::to_string(span) + ")");
    span = *size;
  }
  if (*bs > span) return bad("--bs " + o.bs + ": larger than --size");
  const uint64_t blocks = span / *bs;

  sim::Rng rng = sim::Rng::stream(o.seed, "fio/offsets");
  const sim::SimTime end = sim::SimTime::zero() + *runtime;
  sim::Histogram latency_ns;
  uint64_t completed = 0, next_block = 0, writes_since_sync = 0, flushes = 0;
  uint32_t in_flight = 0;
  bool syncing = false;  // --fsync: waiting for the writes, then for the flush
  std::function<void()> fill;
  const auto flush_if_due = [&] {
    if (!syncing || in_flight > 0) return;
    disk->submit({models::IoOp::kFlush, 0, 0}, [&](models::IoStatus) {
      ++flushes;
      syncing = false;
      writes_since_sync = 0;
      fill();
    });
  };
  fill = [&] {
    while (!syncing && in_flight < o.iodepth && engine.now() < end) {
      const uint64_t block = job->random ? rng.uniform_u64(blocks) : next_block++ % blocks;
      const sim::SimTime submitted = engine.now();
      ++in_flight;
      disk->submit({job->op, block * *bs, *bs}, [&, submitted](models::IoStatus) {
        --in_flight;
        if (engine.now() <= end) {
          ++completed;
          latency_ns.record((engine.now() - submitted).ns());
        }
        if (syncing) return flush_if_due();
        fill();
      });
      if (o.fsync > 0 && ++writes_since_sync == o.fsync) syncing = true;
    }
    flush_if_due();
  };
  engine.schedule_at(sim::SimTime::zero(), [&] { fill(); });
  engine.run_until(end);
  const double seconds = runtime->seconds_f();
  const double iops = static_cast<double>(completed) / seconds;
  const double bytes_per_s = iops * static_cast<double>(*bs);
  const auto ms = [&](double p) { return latency_ns.count() > 0 ? static_cast<double>(latency_ns.percentile(p)) / 1e6 : 0.0; };
  const double max_ms = latency_ns.count() > 0 ? static_cast<double>(latency_ns.max()) / 1e6 : 0.0;

  // An HDD's positioning: what the seeks and rotational waits cost (requests started in the run).
  const auto* hdd_disk = dynamic_cast<const models::HddDisk*>(disk.get());
  const auto* ebs = dynamic_cast<const models::EbsVolume*>(disk.get());
  // The share of the volume's I/Os whose admission the instance's limits set.
  const double held_share =
      ebs != nullptr && ebs->ebs_stats().admitted > 0
          ? static_cast<double>(ebs->ebs_stats().instance_held) / static_cast<double>(ebs->ebs_stats().admitted)
          : 0.0;
  const auto mean_ms = [](int64_t sum_ns, uint64_t n) { return n > 0 ? static_cast<double>(sum_ns) / 1e6 / static_cast<double>(n) : 0.0; };

  // An inline profile is quoted for the shell: in single quotes, each of its own single quotes as '\''.
  const auto shell_arg = [](const std::string& arg) {
    if (arg.empty() || arg.front() != '{') return arg;
    std::string quoted = "'";
    for (const char ch : arg) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return quoted + "'";
  };
  const std::string profile_arg = shell_arg(o.profile);
  std::string reproduce = "kafkasim fio " + profile_arg + " --rw " + o.rw + " --bs " + o.bs + " --iodepth " +
                          std::to_string(o.iodepth) + (o.size.empty() ? "" : " --size " + o.size) + " --runtime " +
                          o.runtime + (o.fsync > 0 ? " --fsync " + std::to_string(o.fsync) : "") + " --seed " +
                          std::to_string(o.seed) + (o.ebs_instance.empty() ? "" : " --ebs-instance " + shell_arg(o.ebs_instance));
  if (o.json) {
    nlohmann::json j = {{"profile", profile.name},
                              {"rw", o.rw},
                              {"bs", *bs},
                              {"iodepth", o.iodepth},
                              {"size", span},
                              {"runtime_s", seconds},
                              {"fsync", o.fsync},
                              {"seed", o.seed},
                              {"ios", completed},
                              {"flushes", flushes},
                              {"iops", iops},
                              {"bandwidth_bytes_per_s", bytes_per_s},
                              {"latency_ms",
                               {{"p50", ms(50)}, {"p99", ms(99)}, {"p999", ms(99.9)}, {"max", max_ms}}},
                              {"utilisation", disk->utilisation()},
                              {"reproduce", reproduce}};
    if (hdd_disk != nullptr) {
      const models::HddStats& h = hdd_disk->hdd_stats();
      j["hdd"] = {{"positioned_requests", h.positioned_ops},
                  {"sequential_requests", h.sequential_ops},
                  {"mean_seek_ms", mean_ms(h.seek_ns_sum, h.positioned_ops)},
                  {"mean_rotation_ms", mean_ms(h.rotation_ns_sum, h.positioned_ops)}};
    }
    if (ebs != nullptr) {
      const models::EbsStats& e = ebs->ebs_stats();
      j["ebs"] = {{"operations", e.operations},
                  {"operations_per_s", static_cast<double>(e.operations) / seconds},
                  {"mean_limit_wait_ms", mean_ms(e.throttled_ns_sum, e.admitted)},
                  {"iops_credits_left", ebs->iops_credits()},
                  {"throughput_credits_left_bytes", ebs->throughput_credits()}};
    }
    if (instance) {
      j["ebs_instance"] = {{"profile", instance_profile.name},
                           {"operations_per_s", static_cast<double>(instance->stats().operations) / seconds},
                           {"bandwidth_bytes_per_s", static_cast<double>(instance->stats().bytes) / seconds},
                           {"held_share", held_share},
                           {"utilisation", instance->utilisation()},
                           {"io_balance_end", instance->io_balance() ? nlohmann::json(*instance->io_balance()) : nlohmann::json(nullptr)},
                           {"byte_balance_end", instance->byte_balance() ? nlohmann::json(*instance->byte_balance()) : nlohmann::json(nullptr)}};
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("kafkasim fio %s (%s): %s, bs %s, iodepth %u, size %s, %s simulated%s, seed %llu\n",
              profile.name.c_str(), profile.kind.c_str(), o.rw.c_str(), size_text(*bs).c_str(), o.iodepth,
              size_text(span).c_str(), o.runtime.c_str(),
              o.fsync > 0 ? (", fsync every " + std::to_string(o.fsync) + " writes").c_str() : "",
              static_cast<unsigned long long>(o.seed));
  std::printf("reproduce: %s\n", reproduce.c_str());
  std::printf("  ios          %llu completed%s, %.1f IOPS, %.2f MB/s (%.2f MiB/s)\n",
              static_cast<unsigned long long>(completed),
              o.fsync > 0 ? (", " + std::to_string(flushes) + " flushes").c_str() : "", iops, bytes_per_s / 1e6,
              bytes_per_s / 1048576.0);
  std::printf("  latency      p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (submission to completion)\n", ms(50),
              ms(99), ms(99.9), max_ms);
  std::printf("  device       %.1f %% utilised (%s)\n", 100 * disk->utilisation(),
              ebs != nullptr ? "the busier of its units and its IOPS and throughput limits" : "busy units / units");
  if (hdd_disk != nullptr) {
    const models::HddStats& h = hdd_disk->hdd_stats();
    std::printf("  positioning  mean seek %.3f ms, mean rotational wait %.3f ms over %llu positioned requests (%llu "
                "sequential: neither)\n",
                mean_ms(h.seek_ns_sum, h.positioned_ops), mean_ms(h.rotation_ns_sum, h.positioned_ops),
                static_cast<unsigned long long>(h.positioned_ops), static_cast<unsigned long long>(h.sequential_ops));
  }
  if (ebs != nullptr) {
    const models::EbsStats& e = ebs->ebs_stats();
    std::printf("  ebs          %llu operations as the volume counts them (%.1f a second), %.3f ms mean wait for its "
                "limits; credits left: %.0f I/O, %.1f MiB\n",
                static_cast<unsigned long long>(e.operations), static_cast<double>(e.operations) / seconds,
                mean_ms(e.throttled_ns_sum, e.admitted),
                std::max(0.0, ebs->iops_credits()), std::max(0.0, ebs->throughput_credits()) / 1048576.0);
  }
  if (instance) {
    const auto balance = [](const std::optional<double>& b) {
      return b ? std::to_string(static_cast<int>(std::lround(100 * *b))) + " %" : std::string("none (no burst)");
    };
    std::printf("  instance     %s: %.1f %% utilised, %.1f operations a second; its limits, not the volume's, held "
                "%.1f %% of the I/Os; EBSIOBalance %s, EBSByteBalance %s at the end\n",
                instance_profile.name.c_str(), 100 * instance->utilisation(),
                static_cast<double>(instance->stats().operations) / seconds, 100 * held_share,
                balance(instance->io_balance()).c_str(), balance(instance->byte_balance()).c_str());
  }
  return 0;
}

}  // namespace kafkasim::cli
