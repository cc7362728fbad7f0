// Hardware profiles (scenarios/hardware/*.json, format in scenarios/hardware/README.md) turned into the models'
// parameter structs. Every parameter comes from a profile with a stated source; nothing is defaulted silently:
// a profile must name every field of its struct that has no documented default, and unknown fields are errors.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/models/cpu.hpp"
#include "kafkasim/models/disk.hpp"
#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

struct NicProfile {
  models::LinkSpec link;
  double goodput_fraction = 0;
  uint32_t mss_bytes = 0;
};

// One compression codec on the profile's payload (the CPU profile's "codecs" section, measured by
// bench/codec_measure.cpp): the compressed size of a producer batch's records by their uncompressed size (a ratio
// that falls as batches grow, or one ratio for every size), and the single-core speeds, both in uncompressed bytes
// per second. The speeds are server-core measurements and are used as they are (desktop_to_server_scale does not
// apply to them).
struct CodecFigures {
  kafka::CompressionCurve curve;
  double compress_bytes_per_s = 0;
  double decompress_bytes_per_s = 0;
};

// Which figures stand for a codec at one of Kafka's levels (KIP-390), and whether they were measured at it.
struct CodecAtLevel {
  const CodecFigures* figures = nullptr;
  int32_t measured_level = 0;  // the level the figures were measured at (Kafka's numbering)
  bool exact = true;           // false: the profile does not measure this level; the nearest measured one stands in
};

// The four codecs of compression.type (kafka-behaviour.md §1.8) at Kafka's default levels (the "codecs" section),
// and, from the profile's optional "codec_levels" section, gzip, lz4 and zstd at other levels.
struct CodecCosts {
  CodecFigures gzip, snappy, lz4, zstd;
  // By Kafka's level: gzip 1-9 (6 is the default's zlib level), lz4 1-17 except 9 (lz4-java's high compressor at
  // that level; 9, the default, is its fast compressor), zstd -131072..22 except 0 and 3 (libzstd's default).
  std::map<int32_t, CodecFigures> gzip_levels, lz4_levels, zstd_levels;
  // The figures of `codec` at its default level; none has ratio 1 and no speeds (nothing to compress).
  const CodecFigures& of(kafka::CompressionType codec) const;
  // The figures of `codec` at Kafka's `level` (compression.<codec>.level; snappy and none have no level): the
  // default figures for the default level and its equivalents (gzip -1 and 6, lz4 9, zstd 0 and 3), otherwise the
  // level table's entry, or its nearest level (the lower of two as near) when the table lacks it, or the default
  // figures when the table has no entry for the codec at all.
  CodecAtLevel at_level(kafka::CompressionType codec, int32_t level) const;
};

// Kafka's default compression.<codec>.level (GzipCompression, Lz4Compression, ZstdCompression.DEFAULT_LEVEL).
inline constexpr int32_t kGzipDefaultLevel = -1;
inline constexpr int32_t kLz4DefaultLevel = 9;
inline constexpr int32_t kZstdDefaultLevel = 3;

// Per-operation CPU costs for the callers of models::Cpu::submit (hardware-models.md §5.2). Rates are
// single-core desktop figures; multiply by desktop_to_server_scale for a server core. The codecs are the
// exception: measured on a server core, used unscaled.
struct CpuCosts {
  double desktop_to_server_scale = 1;
  double memcpy_bytes_per_s = 0;
  double crc32c_bytes_per_s = 0;
  double aes_gcm_bytes_per_s = 0;
  sim::Duration request_fixed_cost;
  // Replication, per partition of a follower fetch round: one that returns records costs
  // replica_fetch_partition_cost (the leader's read, the follower's append); one that returns none (read at its log
  // end on the leader, an HW or log-start change only on the follower) replica_fetch_idle_partition_cost.
  sim::Duration replica_fetch_partition_cost;
  sim::Duration replica_fetch_idle_partition_cost;
  // A client host's application thread per KafkaProducer.send() (serialise, partition, append to the
  // accumulator), used as it is (not scaled). Optional: a profile without it leaves the client's send() free.
  std::optional<sim::Duration> producer_send_cost;
  CodecCosts codecs;
};

// JVM young-GC pauses (hardware-models.md §5.4): a broker's eden is young_gen_heap_fraction of its jvm_heap
// (models/young_gc.hpp). young_gc_rate_max_per_s is the published observation the model is checked against,
// not an input of the model.
struct JvmGcParams {
  sim::Duration gc_pause_median;
  sim::Duration gc_pause_p90;
  double young_gc_rate_max_per_s = 0;
  double young_gen_heap_fraction = 0;
};

struct CpuProfile {
  uint32_t cores = 0;
  CpuCosts costs;
  JvmGcParams gc;
};

using ProfileParams =
    std::variant<models::HddParams, models::SsdParams, models::EbsParams, models::EbsInstanceParams, NicProfile, CpuProfile>;

struct HardwareProfile {
  std::string name;
  std::string kind;  // "hdd", "ssd", "ebs", "ebs_instance", "nic", "cpu"
  std::string file;  // where it was read from
  ProfileParams params;
  nlohmann::json checks;  // the profile's "checks" section (expected values for validation), as written
};

// Parses a profile document; `file` and `base_pointer` locate it for error messages. Throws ConfigError.
HardwareProfile parse_hardware_profile(const nlohmann::json& doc, const std::string& file,
                                       const std::string& base_pointer = "");
// {"base": NAME, "parameters": {...}}: the profile document of the bundled profile NAME with some parameters replaced.
// A replacement is a whole entry ({"value", "unit", "source"}) or a plain value, sourced to `file` and `pointer`: a
// number keeps the base entry's unit, a string carries its own ("10s"; an enum's keeps unit "enum"). No other key may be given (the base's description and checks stay). Throws
// ConfigError at `pointer` of `file` (an unknown base or parameter names the closest).
nlohmann::json derived_profile_doc(const nlohmann::json& derived, const std::string& file, const std::string& pointer);
// Reads and parses a profile file. Throws ConfigError (unreadable file, invalid JSON, bad profile).
HardwareProfile load_hardware_profile(const std::filesystem::path& path);
// Parses profile text (as read from `file`). Throws ConfigError.
HardwareProfile parse_hardware_profile_text(const std::string& text, const std::string& file);
// The directory of the bundled profiles: <source dir>/scenarios/hardware.
std::filesystem::path bundled_profile_dir();
// Names of the profiles in a directory (file stems of *.json, sorted).
std::vector<std::string> profile_names(const std::filesystem::path& dir);
// Loads profile `name` from `dir`; an unknown name is a ConfigError at `pointer` of `file` suggesting the
// closest known profile.
HardwareProfile load_named_profile(const std::string& name, const std::filesystem::path& dir,
                                   const std::string& file = {}, const std::string& pointer = {});

}  // namespace kafkasim::cluster
