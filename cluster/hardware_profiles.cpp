#include "kafkasim/cluster/hardware_profiles.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <fstream>
#include <sstream>

#include "kafkasim/build_info.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/profile_reader.hpp"

namespace kafkasim::cluster {

namespace {

// The largest compressed/uncompressed ratio a profile may state (incompressible data plus framing is ~1.002).
constexpr double kCodecRatioMax = 1.1;

// A whole number in [min_value, max_value]: the bounds keep a typo from allocating the machine away.
uint32_t to_u32(const std::string& file, const std::string& pointer, uint64_t v, uint64_t min_value,
                uint64_t max_value = 1u << 24) {
  if (v < min_value || v > max_value)
    throw ConfigError(file, pointer + "/value",
                      "a whole number from " + std::to_string(min_value) + " to " + std::to_string(max_value),
                      std::to_string(v));
  return static_cast<uint32_t>(v);
}

void require_capacity(const std::string& file, const std::string& pointer, uint64_t bytes) {
  if (bytes < (uint64_t{1} << 20))
    throw ConfigError(file, pointer + "/value", "a capacity of at least 1 MiB", std::to_string(bytes) + " bytes");
}

// A positive finite value; the reader has already checked finiteness.
void require_positive(const std::string& file, const std::string& pointer, double v) {
  if (!(v > 0)) throw ConfigError(file, pointer, "a positive value", std::to_string(v));
}

models::HddParams read_hdd(ProfileReader& r, const std::string& file, const std::string& base) {
  models::HddParams p;
  p.capacity_bytes = r.bytes("capacity_bytes");
  p.cylinders = r.integer("cylinders");
  require_capacity(file, base + "/parameters/capacity_bytes", p.capacity_bytes);
  p.rpm = to_u32(file, base + "/parameters/rpm", r.integer("rpm"), 1000, 30000);
  p.track_to_track_seek = r.duration("track_to_track_seek");
  p.average_seek = r.duration("average_seek");
  p.full_stroke_seek = r.duration("full_stroke_seek");
  p.write_settle = r.optional_duration("write_settle").value_or(p.write_settle);
  p.command_overhead = r.duration("command_overhead");
  p.outer_bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("outer_bandwidth_bytes_per_s");
  require_positive(file, base + "/parameters/outer_bandwidth_bytes_per_s/value", p.outer_bandwidth_bytes_per_s);
  p.inner_to_outer_bandwidth_ratio = r.number("inner_to_outer_bandwidth_ratio");
  if (!(p.inner_to_outer_bandwidth_ratio > 0 && p.inner_to_outer_bandwidth_ratio <= 1))
    throw ConfigError(file, base + "/parameters/inner_to_outer_bandwidth_ratio/value", "a ratio in (0, 1]",
                      std::to_string(p.inner_to_outer_bandwidth_ratio));
  if (auto d = r.optional_choice("discipline", {"fifo", "elevator"}))
    p.discipline = *d == "fifo" ? models::HddQueueDiscipline::kFifo : models::HddQueueDiscipline::kElevator;
  p.read_expire = r.optional_duration("read_expire").value_or(p.read_expire);
  p.write_expire = r.optional_duration("write_expire").value_or(p.write_expire);
  if (auto w = r.optional_integer("writes_starved")) p.writes_starved = to_u32(file, base + "/parameters/writes_starved", *w, 0);
  p.ncq_max_wait = r.optional_duration("ncq_max_wait").value_or(p.ncq_max_wait);
  if (auto q = r.optional_integer("ncq_depth")) p.ncq_depth = to_u32(file, base + "/parameters/ncq_depth", *q, 1, 256);
  if (auto q = r.optional_integer("max_queued_requests")) p.max_queued_requests = to_u32(file, base + "/parameters/max_queued_requests", *q, 1);
  if (p.cylinders < 2 || p.cylinders > p.capacity_bytes)
    throw ConfigError(file, base + "/parameters/cylinders/value",
                      "from 2 cylinders to one per byte of capacity", std::to_string(p.cylinders));
  if (p.track_to_track_seek <= sim::Duration::zero())
    throw ConfigError(file, base + "/parameters/track_to_track_seek/value", "a positive duration", "0");
  // The three-point seek fit needs T <= A <= F with (15A - 7T)/8 <= F <= 3A - 2T (hardware-models.md §1.2).
  const double t = p.track_to_track_seek.ms_f(), a = p.average_seek.ms_f(), f = p.full_stroke_seek.ms_f();
  if (!(f >= (15 * a - 7 * t) / 8 && f <= 3 * a - 2 * t))
    throw ConfigError(file, base + "/parameters/full_stroke_seek/value",
                      "a full-stroke seek F with (15A - 7T)/8 <= F <= 3A - 2T so the seek curve fits (here " +
                          std::to_string((15 * a - 7 * t) / 8) + " ms to " + std::to_string(3 * a - 2 * t) + " ms)",
                      std::to_string(f) + " ms");
  return p;
}

models::SsdParams read_ssd(ProfileReader& r, const std::string& file, const std::string& base) {
  models::SsdParams p;
  p.capacity_bytes = r.bytes("capacity_bytes");
  require_capacity(file, base + "/parameters/capacity_bytes", p.capacity_bytes);
  p.parallel_units = to_u32(file, base + "/parameters/parallel_units", r.integer("parallel_units"), 1, 65536);
  p.read_latency = r.duration("read_latency");
  p.write_latency = r.duration("write_latency");
  p.read_bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("read_bandwidth_bytes_per_s");
  p.write_bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("write_bandwidth_bytes_per_s");
  require_positive(file, base + "/parameters/read_bandwidth_bytes_per_s/value", p.read_bandwidth_bytes_per_s);
  require_positive(file, base + "/parameters/write_bandwidth_bytes_per_s/value", p.write_bandwidth_bytes_per_s);
  p.error_latency = r.optional_duration("error_latency").value_or(p.error_latency);
  p.power_loss_protection = r.boolean("power_loss_protection");
  p.flush_latency_plp = r.optional_duration("flush_latency_plp").value_or(p.flush_latency_plp);
  p.flush_latency_no_plp = r.optional_duration("flush_latency_no_plp").value_or(p.flush_latency_no_plp);
  if (auto q = r.optional_integer("max_queued_requests")) p.max_queued_requests = to_u32(file, base + "/parameters/max_queued_requests", *q, 1);
  return p;
}

// An EBS volume (hardware-models.md §2.5, from the AWS EBS user guide): the profile names the volume type and size
// (and, for gp3, what was provisioned); its limits follow from AWS's formulas, written out here.
models::EbsParams read_ebs(ProfileReader& r, const std::string& file, const std::string& base) {
  constexpr double kGiB = 1024.0 * 1024 * 1024, kTiB = kGiB * 1024, kMiB = 1024.0 * 1024;
  models::EbsParams p;
  const std::string type = r.choice("volume_type", {"gp2", "gp3", "io1", "io2", "st1", "sc1"});
  p.capacity_bytes = r.bytes("capacity_bytes");
  const double gib = static_cast<double>(p.capacity_bytes) / kGiB, tib = static_cast<double>(p.capacity_bytes) / kTiB;
  const bool hdd_backed = type == "st1" || type == "sc1";
  const bool provisioned_iops_ssd = type == "io1" || type == "io2";
  // io2 on an instance that supports Block Express runs on it (AWS EC2 user guide, "Provisioned IOPS SSD volumes").
  const bool block_express = r.optional_boolean("block_express").value_or(false);
  if (block_express && type != "io2")
    throw ConfigError(file, base + "/parameters/block_express", "block_express only for an io2 volume",
                      "block_express on " + type);
  // Volume sizes AWS accepts: 1 GiB to 16 TiB for gp2/gp3, 4 GiB to 16 TiB for io1/io2 (64 TiB on Block Express),
  // 125 GiB to 16 TiB for st1/sc1.
  const double min_gib = hdd_backed ? 125 : provisioned_iops_ssd ? 4 : 1;
  const double max_gib = block_express ? 64 * 1024 : 16 * 1024;
  if (!(gib >= min_gib && gib <= max_gib))
    throw ConfigError(file, base + "/parameters/capacity_bytes/value",
                      "a " + type + (block_express ? " Block Express" : "") + " volume of " +
                          (hdd_backed ? "125 GiB" : provisioned_iops_ssd ? "4 GiB" : "1 GiB") + " to " +
                          (block_express ? "64 TiB" : "16 TiB"),
                      std::to_string(p.capacity_bytes) + " bytes");
  p.read_latency = r.duration("read_latency");
  p.write_latency = r.duration("write_latency");
  if (auto u = r.optional_integer("parallel_units")) p.parallel_units = to_u32(file, base + "/parameters/parallel_units", *u, 1, 65536);
  if (auto q = r.optional_integer("max_queued_requests")) p.max_queued_requests = to_u32(file, base + "/parameters/max_queued_requests", *q, 1);
  // The credit balance at the start, as a fraction of the bucket (CloudWatch's BurstBalance / 100); a new volume's
  // bucket is full.
  const std::optional<double> balance = r.optional_number("burst_balance");
  if (balance && !(*balance >= 0 && *balance <= 1))
    throw ConfigError(file, base + "/parameters/burst_balance/value", "a fraction from 0 to 1 (BurstBalance / 100)",
                      std::to_string(*balance));
  if (balance && (type == "gp3" || provisioned_iops_ssd))
    throw ConfigError(file, base + "/parameters/burst_balance",
                      "no burst_balance for " + type + " (it has no burst bucket)", "burst_balance");
  const std::optional<uint64_t> iops = r.optional_integer("provisioned_iops");
  const std::optional<double> throughput = r.optional_bandwidth_bytes_per_s("provisioned_throughput_bytes_per_s");
  if (iops && type != "gp3" && !provisioned_iops_ssd)
    throw ConfigError(file, base + "/parameters/provisioned_iops",
                      "provisioned IOPS only for gp3, io1 and io2 (" + type + " derives them from its size)",
                      "provisioned_iops");
  if (throughput && type != "gp3")
    throw ConfigError(file, base + "/parameters/provisioned_throughput_bytes_per_s",
                      "provisioned throughput only for gp3 (" + type + " derives it from its " +
                          (provisioned_iops_ssd ? "provisioned IOPS)" : "size)"),
                      "provisioned_throughput_bytes_per_s");
  if (provisioned_iops_ssd && !iops)
    throw ConfigError(file, base + "/parameters/provisioned_iops",
                      "the IOPS provisioned for the " + type + " volume (100 to 64,000" +
                          (block_express ? "; 256,000 on Block Express)" : ")"),
                      "nothing");
  const auto fixed = [](double rate) { return models::EbsBucket{rate, rate, 0, 0}; };
  if (type == "gp2") {
    // Baseline 3 IOPS per GiB within [100, 16,000]; below 3,000 a bucket of 5.4 M I/O credits lets it run at 3,000.
    const double baseline = std::clamp(3 * gib, 100.0, 16000.0);
    p.iops = baseline < 3000 ? models::EbsBucket{baseline, 3000, 5.4e6, balance.value_or(1) * 5.4e6} : fixed(baseline);
    // Throughput: 128 MiB/s up to 170 GiB, 250 MiB/s from 334 GiB, between them 250 MiB/s while burst credits last.
    if (gib <= 170) p.throughput = fixed(128 * kMiB);
    else if (gib >= 334) p.throughput = fixed(250 * kMiB);
    else {
      p.throughput = {128 * kMiB, 250 * kMiB, 0, 0};
      p.throughput_burst_needs_iops_credits = true;
    }
  } else if (type == "gp3") {
    // 3,000 IOPS and 125 MiB/s included; up to 16,000 IOPS at most 500 per GiB, and up to 1,000 MiB/s at most
    // 0.25 MiB/s per provisioned IOPS.
    const uint64_t provisioned = iops.value_or(3000);
    if (provisioned < 3000 || provisioned > 16000 || (provisioned > 3000 && static_cast<double>(provisioned) > 500 * gib))
      throw ConfigError(file, base + "/parameters/provisioned_iops/value",
                        "3,000 to 16,000 IOPS, at most 500 per GiB of the volume", std::to_string(provisioned));
    const double mib_s = throughput.value_or(125 * kMiB) / kMiB;
    if (mib_s < 125 || mib_s > 1000 || mib_s > 0.25 * static_cast<double>(provisioned))
      throw ConfigError(file, base + "/parameters/provisioned_throughput_bytes_per_s/value",
                        "125 to 1,000 MiB/s, at most 0.25 MiB/s per provisioned IOPS (" +
                            std::to_string(0.25 * static_cast<double>(provisioned)) + " MiB/s here)",
                        std::to_string(mib_s) + " MiB/s");
    p.iops = fixed(static_cast<double>(provisioned));
    p.throughput = fixed(mib_s * kMiB);
  } else if (provisioned_iops_ssd) {
    // io1 / io2: 100 to 64,000 IOPS, at most 50 (io1) or 500 (io2) per GiB; throughput 256 KiB per IOPS up to 500 MiB/s
    // at up to 32,000 IOPS, above that 16 KiB per IOPS (1,000 MiB/s at 64,000). io2 Block Express: up to 256,000
    // IOPS at most 1,000 per GiB, 0.256 MiB/s per IOPS up to 4,000 MiB/s.
    const uint64_t provisioned = *iops;
    const double max_iops = block_express ? 256000 : 64000;
    const double per_gib = block_express ? 1000 : type == "io1" ? 50 : 500;
    if (provisioned < 100 || static_cast<double>(provisioned) > max_iops ||
        static_cast<double>(provisioned) > per_gib * gib)
      throw ConfigError(file, base + "/parameters/provisioned_iops/value",
                        "100 to " + std::to_string(static_cast<uint64_t>(max_iops)) + " IOPS, at most " +
                            std::to_string(static_cast<uint64_t>(per_gib)) + " per GiB of the volume (" +
                            std::to_string(static_cast<uint64_t>(std::min(max_iops, per_gib * gib))) + " here)",
                        std::to_string(provisioned));
    const auto n = static_cast<double>(provisioned);
    const double mib_s = block_express ? std::min(0.256 * n, 4000.0)
                         : provisioned <= 32000 ? std::min(n * 256.0 / 1024, 500.0)
                                                : n * 16.0 / 1024;
    p.iops = fixed(n);
    p.throughput = fixed(mib_s * kMiB);
  } else {
    // st1 / sc1: throughput credits of 1 TiB per TiB; baseline and burst per TiB, each capped; I/Os are counted in
    // 1 MiB units, a smaller random one costing a whole unit. Their IOPS follow from that (no separate limit).
    const bool st1 = type == "st1";
    const double baseline = std::min((st1 ? 40 : 12) * tib, st1 ? 500.0 : 192.0) * kMiB;
    const double burst = std::min((st1 ? 250 : 80) * tib, st1 ? 500.0 : 250.0) * kMiB;
    const double bucket = static_cast<double>(p.capacity_bytes);
    p.throughput = {baseline, burst, bucket, balance.value_or(1) * bucket};
    p.iops = fixed(1e12);
    p.io_unit_bytes = 1024 * 1024;
    p.charge_whole_units = true;
  }
  return p;
}

// An EBS-optimized instance's dedicated EBS limits (AWS EC2 user guide, "Amazon EBS-optimized instances"): the
// maximum bandwidth and IOPS, and the baseline ones that instances whose maximum holds "for 30 minutes at least once
// every 24 hours" sustain; a bucket of (maximum - baseline) x burst_duration lets them run at the maximum that long
// (models/disk.hpp, EbsInstanceLink).
models::EbsInstanceParams read_ebs_instance(ProfileReader& r, const std::string& file, const std::string& base) {
  const std::string at = base + "/parameters/";
  const double max_bytes = r.bandwidth_bytes_per_s("maximum_bandwidth_bytes_per_s");
  const double base_bytes = r.bandwidth_bytes_per_s("baseline_bandwidth_bytes_per_s");
  const auto max_iops = static_cast<double>(r.integer("maximum_iops"));
  const auto base_iops = static_cast<double>(r.integer("baseline_iops"));
  require_positive(file, at + "maximum_bandwidth_bytes_per_s/value", max_bytes);
  require_positive(file, at + "maximum_iops/value", max_iops);
  require_positive(file, at + "baseline_bandwidth_bytes_per_s/value", base_bytes);
  require_positive(file, at + "baseline_iops/value", base_iops);
  if (base_bytes > max_bytes)
    throw ConfigError(file, at + "baseline_bandwidth_bytes_per_s/value",
                      "a baseline of at most the maximum bandwidth (" + std::to_string(max_bytes) + " B/s)",
                      std::to_string(base_bytes) + " B/s");
  if (base_iops > max_iops)
    throw ConfigError(file, at + "baseline_iops/value",
                      "a baseline of at most the maximum IOPS (" + std::to_string(max_iops) + ")",
                      std::to_string(base_iops));
  const bool bursts = base_bytes < max_bytes || base_iops < max_iops;
  const std::optional<sim::Duration> burst = r.optional_duration("burst_duration");
  const std::optional<double> balance = r.optional_number("burst_balance");
  if (bursts && !burst)
    throw ConfigError(file, at + "burst_duration",
                      "how long the instance holds its maximum (AWS: 30 minutes), since its baseline is below it",
                      "nothing");
  if (!bursts && (burst || balance))
    throw ConfigError(file, at + (burst ? "burst_duration" : "burst_balance"),
                      "no burst for an instance whose baselines are its maxima", burst ? "burst_duration" : "burst_balance");
  if (burst && *burst <= sim::Duration::zero())
    throw ConfigError(file, at + "burst_duration/value", "a positive duration", "0");
  if (balance && !(*balance >= 0 && *balance <= 1))
    throw ConfigError(file, at + "burst_balance/value",
                      "a fraction from 0 to 1 (CloudWatch's EBSIOBalance% and EBSByteBalance% / 100)",
                      std::to_string(*balance));
  const auto bucket = [&](double baseline, double maximum) {
    if (maximum == baseline) return models::EbsBucket{baseline, baseline, 0, 0};
    const double credits = (maximum - baseline) * burst->seconds_f();
    return models::EbsBucket{baseline, maximum, credits, balance.value_or(1) * credits};
  };
  return {bucket(base_iops, max_iops), bucket(base_bytes, max_bytes)};
}

NicProfile read_nic(ProfileReader& r, const std::string& file, const std::string& base) {
  NicProfile p;
  p.link.bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("bandwidth_bytes_per_s");
  require_positive(file, base + "/parameters/bandwidth_bytes_per_s/value", p.link.bandwidth_bytes_per_s);
  p.link.latency = r.duration("latency");
  r.use_section("network_config");
  p.goodput_fraction = r.optional_number("goodput_fraction").value_or(models::NetworkConfig{}.goodput_fraction);
  if (!(p.goodput_fraction > 0 && p.goodput_fraction <= 1))
    throw ConfigError(file, base + "/network_config/goodput_fraction/value", "a fraction in (0, 1]",
                      std::to_string(p.goodput_fraction));
  p.mss_bytes = static_cast<uint32_t>(r.optional_bytes("mss_bytes").value_or(models::NetworkConfig{}.mss_bytes));
  if (p.mss_bytes == 0) throw ConfigError(file, base + "/network_config/mss_bytes/value", "a positive size", "0");
  return p;
}

// A codec's ratio at `at`: a number, the compressed/uncompressed size of a batch's records whatever its size, or
// an array of [uncompressed bytes, ratio] points measured on batches of those sizes (bench/codec_measure.cpp),
// the sizes increasing and the compressed sizes (bytes x ratio) too (kafka::CompressionCurve).
kafka::CompressionCurve read_ratio(const nlohmann::json& value, const std::string& file, const std::string& at) {
  // A ratio is compressed/uncompressed: incompressible data comes out a little above 1 (framing), and a value far
  // above it is almost surely the compression factor (uncompressed/compressed) written instead.
  const auto check_ratio = [&](const nlohmann::json& v, const std::string& where) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw ConfigError(file, where, "a compressed/uncompressed size ratio in (0, 1.1]", v.dump());
    const double ratio = v.get<double>();
    if (!(ratio > 0 && ratio <= kCodecRatioMax))
      throw ConfigError(file, where,
                        "a compressed/uncompressed size ratio in (0, 1.1] (the ratio, e.g. 0.27, not the factor "
                        "1/ratio, e.g. 3.7)",
                        std::to_string(ratio));
    return ratio;
  };
  if (value.is_number()) return kafka::CompressionCurve(check_ratio(value, at));
  const std::string expected =
      "a ratio in (0, 1.1], or an array of [uncompressed bytes, ratio] points by increasing batch size";
  if (!value.is_array() || value.empty()) throw ConfigError(file, at, expected, value.dump());
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < value.size(); ++i) {
    const nlohmann::json& point = value[i];
    const std::string point_at = at + "/" + std::to_string(i);
    if (!point.is_array() || point.size() != 2)
      throw ConfigError(file, point_at, "a point [uncompressed bytes, ratio]", point.dump());
    const nlohmann::json& bytes = point[0];
    if (!bytes.is_number() || !std::isfinite(bytes.get<double>()) || !(bytes.get<double>() > 0))
      throw ConfigError(file, point_at + "/0", "a positive number of uncompressed bytes", bytes.dump());
    points.emplace_back(bytes.get<double>(), check_ratio(point[1], point_at + "/1"));
  }
  if (const std::string error = kafka::CompressionCurve::curve_points_error(points); !error.empty())
    throw ConfigError(file, at, expected + ": " + error, value.dump());
  return kafka::CompressionCurve(points);
}

// The "codecs" section of a CPU profile: for each of gzip, snappy, lz4, zstd a ratio (read_ratio) and two speeds
// (`<codec>_ratio`, `<codec>_compress_bytes_per_s`, `<codec>_decompress_bytes_per_s`), all required.
CodecCosts read_codecs(ProfileReader& r, const std::string& file, const std::string& base) {
  r.use_section("codecs");
  CodecCosts codecs;
  const std::pair<const char*, CodecFigures*> all[] = {
      {"gzip", &codecs.gzip}, {"snappy", &codecs.snappy}, {"lz4", &codecs.lz4}, {"zstd", &codecs.zstd}};
  for (const auto& [codec, figures] : all) {
    const std::string name(codec);
    figures->curve = read_ratio(r.raw_value(name + "_ratio"), file, base + "/codecs/" + name + "_ratio/value");
    for (const char* direction : {"compress", "decompress"}) {
      const std::string key = name + "_" + direction + "_bytes_per_s";
      double& rate = std::string_view(direction) == "compress" ? figures->compress_bytes_per_s
                                                               : figures->decompress_bytes_per_s;
      rate = r.bandwidth_bytes_per_s(key);
      require_positive(file, base + "/codecs/" + key + "/value", rate);
    }
  }
  return codecs;
}

// The optional "codec_levels" section of a CPU profile (bench/codec_measure.cpp --levels --json): a "source", an
// optional "note", and for each of gzip, lz4 and zstd an object of levels (Kafka's numbering, as decimal strings),
// each {"ratio", "compress_bytes_per_s", "decompress_bytes_per_s"} as in "codecs" (the ratio a number or points,
// read_ratio; the speeds plain numbers, B/s).
void read_codec_levels(const nlohmann::json& doc, const std::string& file, const std::string& base, CodecCosts& codecs) {
  const auto section = doc.find("codec_levels");
  if (section == doc.end()) return;
  const std::string at = base + "/codec_levels";
  if (!section->is_object()) throw ConfigError(file, at, "an object of codecs", section->dump());
  const auto source = section->find("source");
  if (source == section->end() || !source->is_string() || source->get<std::string>().empty())
    throw ConfigError(file, at + "/source", "a non-empty string naming where the figures come from",
                      source == section->end() ? "nothing" : source->dump());
  struct Codec {
    std::string_view name;
    std::map<int32_t, CodecFigures>* table;
    int32_t min_level, max_level;
    std::vector<int32_t> defaults;  // the default level and its equivalents: they are the "codecs" section's
  };
  const Codec known[] = {{"gzip", &codecs.gzip_levels, 1, 9, {6}},
                         {"lz4", &codecs.lz4_levels, 1, 17, {kLz4DefaultLevel}},
                         {"zstd", &codecs.zstd_levels, -131072, 22, {0, kZstdDefaultLevel}}};
  static constexpr std::string_view kKeys[] = {"source", "note", "gzip", "lz4", "zstd"};
  for (const auto& [key, levels] : section->items()) {
    const std::string where = at + "/" + pointer_token(key);
    if (key == "source") continue;
    if (key == "note") {
      if (!levels.is_string()) throw ConfigError(file, where, "a string", levels.dump());
      continue;
    }
    const Codec* codec = nullptr;
    for (const Codec& c : known)
      if (c.name == key) codec = &c;
    if (codec == nullptr)
      throw ConfigError(file, where, "one of source, note, gzip, lz4, zstd (snappy has no levels)", "\"" + key + "\"",
                        closest_name(key, kKeys));
    if (!levels.is_object()) throw ConfigError(file, where, "an object of levels", levels.dump());
    for (const auto& [level_text, entry] : levels.items()) {
      const std::string level_at = where + "/" + pointer_token(level_text);
      int32_t level = 0;
      const auto [end, ec] = std::from_chars(level_text.data(), level_text.data() + level_text.size(), level);
      const std::string range = std::to_string(codec->min_level) + ".." + std::to_string(codec->max_level);
      if (ec != std::errc{} || end != level_text.data() + level_text.size() || level < codec->min_level ||
          level > codec->max_level)
        throw ConfigError(file, level_at, "a " + std::string(key) + " level from " + range + " (Kafka's numbering)",
                          "\"" + level_text + "\"");
      if (std::find(codec->defaults.begin(), codec->defaults.end(), level) != codec->defaults.end())
        throw ConfigError(file, level_at,
                          "a level other than the default (" + std::string(key) +
                              "'s default level is the \"codecs\" section's figures)",
                          "\"" + level_text + "\"");
      if (!entry.is_object()) throw ConfigError(file, level_at, "an object {ratio, compress_bytes_per_s, "
                                                "decompress_bytes_per_s}", entry.dump());
      CodecFigures f;
      const std::pair<std::string_view, double*> fields[] = {{"compress_bytes_per_s", &f.compress_bytes_per_s},
                                                             {"decompress_bytes_per_s", &f.decompress_bytes_per_s}};
      static constexpr std::string_view kFields[] = {"ratio", "compress_bytes_per_s", "decompress_bytes_per_s"};
      for (const auto& [field, value] : entry.items())
        if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields))
          throw ConfigError(file, level_at + "/" + pointer_token(field),
                            "one of ratio, compress_bytes_per_s, decompress_bytes_per_s", "\"" + field + "\"",
                            closest_name(field, kFields));
      const auto ratio = entry.find("ratio");
      if (ratio == entry.end())
        throw ConfigError(file, level_at + "/ratio", "a ratio (a number, or [uncompressed bytes, ratio] points)",
                          "nothing");
      f.curve = read_ratio(*ratio, file, level_at + "/ratio");
      for (const auto& [field, target] : fields) {
        const auto v = entry.find(std::string(field));
        const std::string field_at = level_at + "/" + std::string(field);
        if (v == entry.end() || !v->is_number() || !std::isfinite(v->get<double>()))
          throw ConfigError(file, field_at, "a finite number", v == entry.end() ? "nothing" : v->dump());
        *target = v->get<double>();
      }
      require_positive(file, level_at + "/compress_bytes_per_s", f.compress_bytes_per_s);
      require_positive(file, level_at + "/decompress_bytes_per_s", f.decompress_bytes_per_s);
      codec->table->emplace(level, f);
    }
  }
}

CpuProfile read_cpu(ProfileReader& r, const std::string& file, const std::string& base) {
  CpuProfile p;
  p.cores = to_u32(file, base + "/parameters/cores", r.integer("cores"), 1, 4096);
  r.use_section("costs");
  CpuCosts& c = p.costs;
  c.desktop_to_server_scale = r.number("desktop_to_server_scale");
  require_positive(file, base + "/costs/desktop_to_server_scale/value", c.desktop_to_server_scale);
  const std::pair<const char*, double*> rates[] = {
      {"memcpy_bytes_per_s", &c.memcpy_bytes_per_s},
      {"crc32c_bytes_per_s", &c.crc32c_bytes_per_s},
      {"aes_gcm_bytes_per_s", &c.aes_gcm_bytes_per_s},
  };
  for (const auto& [name, field] : rates) {
    *field = r.bandwidth_bytes_per_s(name);
    require_positive(file, base + "/costs/" + name + "/value", *field);
  }
  c.request_fixed_cost = r.duration("request_fixed_cost");
  c.replica_fetch_partition_cost = r.duration("replica_fetch_partition_cost");
  c.replica_fetch_idle_partition_cost = r.duration("replica_fetch_idle_partition_cost");
  if (c.replica_fetch_idle_partition_cost > c.replica_fetch_partition_cost)
    throw ConfigError(file, base + "/costs/replica_fetch_idle_partition_cost/value",
                      "at most replica_fetch_partition_cost: a partition that returns nothing costs no more than one "
                      "that returns records");
  c.producer_send_cost = r.optional_duration("producer_send_cost");
  if (c.producer_send_cost && *c.producer_send_cost <= sim::Duration::zero())
    throw ConfigError(file, base + "/costs/producer_send_cost/value", "a positive time per send()");
  c.codecs = read_codecs(r, file, base);
  r.use_section("jvm");
  p.gc.gc_pause_median = r.duration("gc_pause_median");
  p.gc.gc_pause_p90 = r.duration("gc_pause_p90");
  p.gc.young_gc_rate_max_per_s = r.number("young_gc_rate_max_per_s");
  p.gc.young_gen_heap_fraction = r.number("young_gen_heap_fraction");
  if (!(p.gc.young_gen_heap_fraction > 0 && p.gc.young_gen_heap_fraction <= 1))
    throw ConfigError(file, base + "/jvm/young_gen_heap_fraction/value", "a fraction of the heap in (0, 1]");
  if (p.gc.gc_pause_p90 < p.gc.gc_pause_median)
    throw ConfigError(file, base + "/jvm/gc_pause_p90/value", "a p90 pause at least the median pause");
  return p;
}

}  // namespace

const CodecFigures& CodecCosts::of(kafka::CompressionType codec) const {
  static const CodecFigures kNone{};
  switch (codec) {
    case kafka::CompressionType::none: return kNone;
    case kafka::CompressionType::gzip: return gzip;
    case kafka::CompressionType::snappy: return snappy;
    case kafka::CompressionType::lz4: return lz4;
    case kafka::CompressionType::zstd: return zstd;
  }
  return kNone;
}

CodecAtLevel CodecCosts::at_level(kafka::CompressionType codec, int32_t level) const {
  const std::map<int32_t, CodecFigures>* table = nullptr;
  bool is_default = true;
  switch (codec) {
    case kafka::CompressionType::none:
    case kafka::CompressionType::snappy:
      break;
    case kafka::CompressionType::gzip:
      // Deflater.DEFAULT_COMPRESSION (-1) is zlib's level 6.
      is_default = level == kGzipDefaultLevel || level == 6;
      table = &gzip_levels;
      break;
    case kafka::CompressionType::lz4:
      is_default = level == kLz4DefaultLevel;
      table = &lz4_levels;
      break;
    case kafka::CompressionType::zstd:
      // ZSTD_c_compressionLevel 0 means libzstd's default, 3.
      is_default = level == kZstdDefaultLevel || level == 0;
      table = &zstd_levels;
      break;
  }
  const CodecFigures& default_figures = of(codec);
  const int32_t default_level = codec == kafka::CompressionType::gzip ? kGzipDefaultLevel
                                : codec == kafka::CompressionType::lz4 ? kLz4DefaultLevel
                                                                       : kZstdDefaultLevel;
  if (is_default || table == nullptr) return {&default_figures, level, true};
  if (table->empty()) return {&default_figures, default_level, false};
  const auto exact = table->find(level);
  if (exact != table->end()) return {&exact->second, level, true};
  // The nearest measured level; of two as near, the lower.
  auto above = table->upper_bound(level);
  auto nearest = above;
  if (above == table->end() || (above != table->begin() && level - std::prev(above)->first <= above->first - level))
    nearest = std::prev(above);
  return {&nearest->second, nearest->first, false};
}

HardwareProfile parse_hardware_profile(const nlohmann::json& doc, const std::string& file,
                                       const std::string& base_pointer) {
  ProfileReader r(doc, file, base_pointer);
  HardwareProfile profile;
  profile.name = r.name();
  profile.kind = r.kind();
  profile.file = file;
  if (r.kind() == "hdd") profile.params = read_hdd(r, file, base_pointer);
  else if (r.kind() == "ssd") profile.params = read_ssd(r, file, base_pointer);
  else if (r.kind() == "ebs") profile.params = read_ebs(r, file, base_pointer);
  else if (r.kind() == "ebs_instance") profile.params = read_ebs_instance(r, file, base_pointer);
  else if (r.kind() == "nic") profile.params = read_nic(r, file, base_pointer);
  else if (r.kind() == "cpu") {
    CpuProfile cpu = read_cpu(r, file, base_pointer);
    read_codec_levels(doc, file, base_pointer, cpu.costs.codecs);
    profile.params = std::move(cpu);
  }
  else {
    static constexpr std::string_view kKinds[] = {"hdd", "ssd", "ebs", "ebs_instance", "nic", "cpu"};
    throw ConfigError(file, base_pointer + "/kind", "one of \"hdd\", \"ssd\", \"ebs\", \"ebs_instance\", \"nic\", \"cpu\"",
                      "\"" + r.kind() + "\"", closest_name(r.kind(), kKinds));
  }
  if (r.kind() != "cpu" && doc.contains("codec_levels"))
    throw ConfigError(file, base_pointer + "/codec_levels", "no codec_levels section outside a cpu profile",
                      "one in a " + r.kind() + " profile");
  r.finish();
  if (doc.contains("checks")) profile.checks = doc["checks"];
  return profile;
}

nlohmann::json derived_profile_doc(const nlohmann::json& derived, const std::string& file, const std::string& pointer) {
  const auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
  if (!derived.is_object()) throw ConfigError(file, pointer, "an object {\"base\": NAME, \"parameters\": {...}}", derived.dump());
  for (const auto& [key, value] : derived.items())
    if (key != "base" && key != "parameters")
      throw ConfigError(file, pointer + "/" + key, "the keys of a derived profile: base, parameters", "the key " + quoted(key));
  const nlohmann::json* base = derived.contains("base") ? &derived["base"] : nullptr;
  if (base == nullptr || !base->is_string())
    throw ConfigError(file, pointer + "/base", "the name of a bundled profile", base ? base->dump() : "nothing");
  const HardwareProfile named = load_named_profile(base->get<std::string>(), bundled_profile_dir(), file, pointer + "/base");
  std::ifstream in(named.file);
  nlohmann::json doc = nlohmann::json::parse(in);
  if (!derived.contains("parameters")) return doc;
  const nlohmann::json& params = derived["parameters"];
  const std::string at = pointer + "/parameters";
  if (!params.is_object()) throw ConfigError(file, at, "an object of parameters to replace", params.dump());
  for (const auto& [key, value] : params.items()) {
    if (!doc["parameters"].contains(key)) {
      std::vector<std::string> names;
      for (const auto& [k, e] : doc["parameters"].items()) names.push_back(k);
      std::vector<std::string_view> known(names.begin(), names.end());
      throw ConfigError(file, at + "/" + key, "a parameter of the " + quoted(named.name) + " profile", quoted(key),
                        closest_name(key, known));
    }
    if (value.is_object()) {
      doc["parameters"][key] = value;
    } else {
      doc["parameters"][key]["value"] = value;
      doc["parameters"][key]["source"] = "set in " + file + " at " + at + "/" + key;
      // A string with a unit carries its own ("10s", "250MB/s"); a number, or a string of digits, keeps the base
      // entry's.
      const auto has_unit = [](const std::string& text) {
        return std::any_of(text.begin(), text.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '/'; });
      };
      if (value.is_string() && doc["parameters"][key].value("unit", "") != "enum" && has_unit(value.get<std::string>()))
        doc["parameters"][key].erase("unit");
    }
  }
  doc["name"] = named.name + " (derived)";
  return doc;
}

HardwareProfile parse_hardware_profile_text(const std::string& text, const std::string& file) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file, "", "valid JSON", std::string("a syntax error (") + e.what() + ")");
  }
  return parse_hardware_profile(doc, file);
}

HardwareProfile load_hardware_profile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string(), "", "a readable hardware profile file", "no such file or no access");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_hardware_profile_text(text.str(), path.string());
}

std::filesystem::path bundled_profile_dir() {
  return std::filesystem::path(build_info::kSourceDir) / "scenarios" / "hardware";
}

std::vector<std::string> profile_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

HardwareProfile load_named_profile(const std::string& name, const std::filesystem::path& dir,
                                   const std::string& file, const std::string& pointer) {
  const std::vector<std::string> names = profile_names(dir);
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::vector<std::string_view> known(names.begin(), names.end());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw ConfigError(file, pointer, "the name of a hardware profile in " + dir.string() + " (" + list + ")",
                      "\"" + name + "\"", closest_name(name, known));
  }
  return load_hardware_profile(dir / (name + ".json"));
}

}  // namespace kafkasim::cluster
