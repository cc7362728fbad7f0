#include "kafkasim/cluster/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

#include "kafkasim/cluster/compression_costs.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/cluster/units.hpp"
#include "kafkasim/kafka/broker/group_coordinator_key.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

namespace {

using json = nlohmann::json;

// Bounds on counts, so that a typo cannot ask for a machine-eating world (STYLE.md "bound everything").
constexpr uint64_t kBrokersMax = 10'000;
constexpr uint64_t kClientsPerEntryMax = 100'000;
constexpr uint64_t kPartitionsPerTopicMax = 1'000'000;
constexpr uint64_t kRecordBytesMax = 2'147'483'647;  // Kafka sizes are Java ints
constexpr uint64_t kKeysMax = 10'000'000;             // KeyDistribution's table bound
constexpr uint64_t kLogDirsMax = 256;

// Configs a Kafka 3.x server.properties or topic may still carry that Kafka 4.0 removed (KIP-937's deprecation in 3.6,
// KIP-724's message formats, ZooKeeper mode), with the config that replaces them, if any: the loader names them as
// such instead of as unknown.
struct RemovedConfig {
  std::string_view name, why, instead;
};
constexpr RemovedConfig kRemovedInKafka4[] = {
    {"message.timestamp.difference.max.ms",
     "KIP-937 split it into message.timestamp.before.max.ms and message.timestamp.after.max.ms",
     "message.timestamp.before.max.ms"},
    {"log.message.timestamp.difference.max.ms",
     "KIP-937 split it into log.message.timestamp.before.max.ms and log.message.timestamp.after.max.ms",
     "log.message.timestamp.before.max.ms"},
    {"message.format.version", "KIP-724: every log is written in the v2 record format; delete it", ""},
    {"log.message.format.version", "KIP-724: every log is written in the v2 record format; delete it", ""},
    {"zookeeper.connect", "ZooKeeper mode is gone, clusters run KRaft (kafka-behaviour.md §0); delete it", ""},
};
const RemovedConfig* removed_in_kafka_4(std::string_view name) {
  for (const RemovedConfig& r : kRemovedInKafka4)
    if (r.name == name) return &r;
  return nullptr;
}

const std::map<std::string, std::vector<std::string>> kObjectKeys = {
    {"scenario", {"name", "seed", "duration", "warmup", "hardware", "cluster", "topics", "producers", "consumers",
                  "faults", "operations"}},
    {"hardware", {"broker", "client", "uplink"}},
    {"broker_hardware", {"disk", "log_dirs", "ebs_instance", "nic", "cpu", "ram", "jvm_heap", "other_memory", "young_gc", "vm"}},
    {"vm", {"dirty_background_ratio", "dirty_background_bytes", "dirty_ratio", "dirty_bytes",
            "dirty_expire_centisecs", "dirty_writeback_centisecs", "read_ahead_kb"}},
    {"client_hardware", {"nic", "cpu"}},
    {"uplink", {"bandwidth", "latency"}},
    {"cluster", {"brokers", "racks", "config", "quotas"}},
    {"quota", {"client-id", "user", "producer_byte_rate", "consumer_byte_rate", "request_percentage"}},
    {"topic", {"name", "partitions", "replication.factor", "config"}},
    {"producer", {"topic", "count", "workload", "config"}},
    {"workload", {"rate", "arrival", "closed_loop", "record_size", "keys", "timestamp_offset"}},
    {"closed_loop", {"threads"}},
    {"record_size", {"distribution", "bytes", "min", "max", "median", "sigma"}},
    {"keys", {"distribution", "count", "exponent"}},
    {"consumer", {"group", "topic", "partitions", "count", "processing_time", "commit", "start_at", "config"}},
    {"fault", {"type", "host", "at", "duration", "disk", "latency_multiplier", "bandwidth_multiplier", "speed",
               "extra_latency", "jitter", "loss", "bytes", "config", "processing_time"}},
    {"operation", {"at", "tool", "entity-type", "entity-name", "entity-default", "add-config", "delete-config"}},
    {"delete_records_operation", {"at", "tool", "offset-json"}},
    {"offset_json", {"partitions", "version"}},
    {"offset_json_partition", {"topic", "partition", "offset"}},
};

// The keys each fault type takes besides type, host, at and duration.
const std::map<std::string, std::vector<std::string>> kFaultKeys = {
    {"slow_disk", {"disk", "latency_multiplier", "bandwidth_multiplier"}},
    {"stalled_disk", {"disk"}},
    {"slow_cpu", {"speed"}},
    {"pause", {}},
    {"slow_network", {"bandwidth_multiplier", "extra_latency", "jitter", "loss"}},
    {"drop_caches", {}},
    {"memory_pressure", {"bytes"}},
    {"consumer_restart", {"config", "processing_time"}},
    {"producer_restart", {"config"}},
};

// KRaft fences a broker whose last heartbeat is older than broker.session.timeout.ms (9 s), and a broker heartbeats
// every broker.heartbeat.interval.ms (2 s) (kafka-behaviour.md §4.8): a broker silent for up to the interval plus the
// timeout's remainder, 7 s, is never fenced, whenever its silence starts. The faults stay below it: fencing moves
// leaders, which needs the controller the simulator does not have yet.
constexpr sim::Duration kUnfencedSilenceMax = sim::Duration::from_ms(9'000 - 2'000);

std::string format_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string join(const std::string& base, std::string_view key) { return base + "/" + pointer_token(key); }
std::string join(const std::string& base, size_t index) { return base + "/" + std::to_string(index); }

// The value as the user wrote it, shortened so that an error message stays one line.
std::string shown(const json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string read_text_file(const std::filesystem::path& path, const std::string& what, const std::string& file,
                           const std::string& pointer) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(file, pointer, "a readable " + what, path.string() + " (no such file or no access)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where one Kafka config object came from: the scenario itself, or a .properties file it names.
struct ConfigSource {
  const json* object = nullptr;
  json owned;  // a properties file's contents
  std::string file;
  std::string pointer;
};

class Loader {
 public:
  Loader(std::string file, ScenarioExtras& extras) : file_(std::move(file)), x_(extras) {
    base_dir_ = std::filesystem::path(file_).parent_path();
  }

  WorldSpec parse(const json& doc) {
    if (!doc.is_object()) fail("", "a JSON object (a scenario)", shown(doc));
    check_keys(doc, "", "scenario");
    WorldSpec spec;
    x_ = ScenarioExtras{};

    const json* name = find(doc, "name");
    x_.name = name ? string_value(*name, "/name") : std::filesystem::path(file_).stem().string();
    if (const json* seed = find(doc, "seed")) spec.seed = integer(*seed, "/seed", 0, INT64_MAX);
    if (const json* d = find(doc, "duration")) spec.duration = own_duration(*d, "/duration");
    if (!(spec.duration > sim::Duration::zero())) fail("/duration", "a positive duration", shown(doc["duration"]));
    if (const json* w = find(doc, "warmup")) spec.warmup = own_duration(*w, "/warmup");
    if (spec.warmup >= spec.duration)
      fail("/warmup",
           "a warmup shorter than the duration (" + format_duration(spec.duration) + ")" +
               (find(doc, "warmup") ? std::string() : std::string("; the default warmup is 10s")),
           format_duration(spec.warmup));

    parse_hardware(find(doc, "hardware"), spec);
    parse_cluster(find(doc, "cluster"), spec);
    if (const json* topics = find(doc, "topics")) {
      require_array(*topics, "/topics");
      for (size_t i = 0; i < topics->size(); ++i) parse_topic((*topics)[i], join("/topics", i), spec);
    }
    if (const json* producers = find(doc, "producers")) {
      require_array(*producers, "/producers");
      for (size_t i = 0; i < producers->size(); ++i) parse_producer((*producers)[i], join("/producers", i), spec);
    }
    if (const json* consumers = find(doc, "consumers")) {
      require_array(*consumers, "/consumers");
      for (size_t i = 0; i < consumers->size(); ++i) parse_consumer((*consumers)[i], join("/consumers", i), spec);
    }
    if (const json* faults = find(doc, "faults")) {
      require_array(*faults, "/faults");
      for (size_t i = 0; i < faults->size(); ++i) parse_fault((*faults)[i], join("/faults", i), spec);
    }
    if (const json* ops = find(doc, "operations")) parse_operations(*ops, spec);
    for (size_t i = 0; i < spec.topics.size(); ++i) warn_throttled_replicas(spec.topics[i], spec, join("/topics", i));
    warn_unmatched_quotas(spec);
    warn_unused_replication_rates(spec);
    return spec;
  }

 private:
  [[noreturn]] void fail(const std::string& pointer, const std::string& expected, const std::string& found = {},
                         const std::string& suggestion = {}) const {
    throw ConfigError(file_, pointer, expected, found, suggestion);
  }
  void warn(const std::string& file, const std::string& pointer, const std::string& message) {
    x_.warnings.push_back((file.empty() ? std::string("<input>") : file) + ": at " +
                          (pointer.empty() ? std::string("/") : pointer) + ": " + message);
  }

  // A flush.ms below Long.MAX is only ever checked by LogManager's log flusher, which runs every
  // log.flush.scheduler.interval.ms: at Kafka's default (Long.MAX) it runs once, which a user setting flush.ms
  // rarely means.
  void warn_flush_ms_unchecked(int64_t flush_ms, int64_t scheduler_interval_ms, const std::string& pointer) {
    constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
    if (flush_ms == kNever || scheduler_interval_ms != kNever) return;
    warn(file_, pointer,
         "flush.ms " + std::to_string(flush_ms) +
             " is checked only by the broker's log flusher, which runs every log.flush.scheduler.interval.ms "
             "(Long.MAX here: once, log.initial.task.delay.ms after start); set log.flush.scheduler.interval.ms "
             "for periodic flushes");
  }

  static const json* find(const json& obj, const std::string& key) {
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  const json& required(const json& obj, const std::string& pointer, const std::string& key,
                       const std::string& what) const {
    const json* v = find(obj, key);
    if (v == nullptr) fail(join(pointer, key), "the required key " + in_quotes(key) + " (" + what + ")", "nothing");
    return *v;
  }

  void check_keys(const json& obj, const std::string& pointer, const std::string& def) const {
    if (!obj.is_object()) fail(pointer, "a JSON object", shown(obj));
    const std::vector<std::string>& keys = kObjectKeys.at(def);
    for (const auto& [key, value] : obj.items()) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      std::vector<std::string_view> known(keys.begin(), keys.end());
      const std::string close = closest_name(key, known);
      const std::string belongs = close.empty() ? where_key_belongs(def, key) : std::string();
      fail(join(pointer, key), "one of the keys " + listed(keys) + (belongs.empty() ? "" : " (" + belongs + ")"),
           "the unknown key " + in_quotes(key), close);
    }
  }
  // A key that is no typo but belongs elsewhere: a Kafka config written beside "config", a workload key beside
  // "workload", the closed loop's threads without "closed_loop", a cluster key at the top. Empty: none known.
  static std::string where_key_belongs(const std::string& def, const std::string& key) {
    const auto in_table = [&key](const auto& table) {
      return std::any_of(table.begin(), table.end(), [&key](const auto& e) { return e.spec.name == key; });
    };
    const auto is_key_of = [&key](const char* other) {
      const std::vector<std::string>& keys = kObjectKeys.at(other);
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    if ((def == "producer" || def == "workload") && in_table(producer_config_table()))
      return in_quotes(key) + " is a producer config: it goes in the entry's \"config\"";
    if (def == "consumer" && in_table(consumer_config_table()))
      return in_quotes(key) + " is a consumer config: it goes in \"config\"";
    if (def == "topic" && in_table(topic_config_table()))
      return in_quotes(key) + " is a topic config: it goes in \"config\"";
    if (def == "cluster" && in_table(broker_config_table()))
      return in_quotes(key) + " is a broker config: it goes in \"config\"";
    if (def == "producer" && is_key_of("workload")) return in_quotes(key) + " goes in \"workload\"";
    if (def == "workload" && is_key_of("closed_loop"))
      return "a closed loop of N send().get() threads is \"closed_loop\": {\"" + key + "\": N}";
    if (def == "scenario" && is_key_of("cluster")) return in_quotes(key) + " goes in \"cluster\"";
    if (def == "hardware" && is_key_of("broker_hardware"))
      return in_quotes(key) + " goes in \"broker\"" + (is_key_of("client_hardware") ? " or \"client\"" : "");
    return {};
  }
  void require_array(const json& v, const std::string& pointer) const {
    if (!v.is_array()) fail(pointer, "a JSON array", shown(v));
  }

  uint64_t integer(const json& v, const std::string& pointer, uint64_t min_value, uint64_t max_value) const {
    const std::string expected = "a whole number from " + std::to_string(min_value) + " to " + std::to_string(max_value);
    if (v.is_number_unsigned()) {
      const uint64_t n = v.get<uint64_t>();
      if (n < min_value || n > max_value) fail(pointer, expected, shown(v));
      return n;
    }
    if (v.is_number_integer()) {  // a signed JSON integer (as built in C++), negative or not
      const int64_t n = v.get<int64_t>();
      if (n < 0 || static_cast<uint64_t>(n) < min_value || static_cast<uint64_t>(n) > max_value)
        fail(pointer, expected, shown(v));
      return static_cast<uint64_t>(n);
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d != std::floor(d) || d < static_cast<double>(min_value) || d > static_cast<double>(max_value))
        fail(pointer, expected, shown(v));
      return static_cast<uint64_t>(d);
    }
    fail(pointer, expected, shown(v));
  }
  double number(const json& v, const std::string& pointer, const std::string& expected) const {
    if (!v.is_number()) fail(pointer, expected, shown(v));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(pointer, expected, shown(v));
    return d;
  }
  std::string string_value(const json& v, const std::string& pointer) const {
    if (!v.is_string() || v.get<std::string>().empty()) fail(pointer, "a non-empty string", shown(v));
    return v.get<std::string>();
  }
  std::string choice(const json& v, const std::string& pointer, const std::vector<std::string>& allowed) const {
    std::vector<std::string> q;
    for (const auto& a : allowed) q.push_back(in_quotes(a));
    if (!v.is_string()) fail(pointer, "one of " + listed(q), shown(v));
    const std::string s = v.get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
    std::vector<std::string_view> known(allowed.begin(), allowed.end());
    fail(pointer, "one of " + listed(q), in_quotes(s), closest_name(s, known));
  }
  // The scenario's own durations (not Kafka configs) have no natural unit, so they must state one.
  sim::Duration own_duration(const json& v, const std::string& pointer) const {
    const std::string expected = "a duration with a unit, such as \"20s\", \"5ms\", \"250us\"";
    if (v.is_number()) fail(pointer, expected, shown(v), v.dump() + "s");
    if (!v.is_string()) fail(pointer, expected, shown(v));
    const auto parsed = parse_duration(v.get<std::string>(), 0);
    const std::string text = v.get<std::string>();
    const bool has_unit = !text.empty() && std::isalpha(static_cast<unsigned char>(text.back()));
    if (!has_unit || !std::holds_alternative<sim::Duration>(parsed)) fail(pointer, expected, shown(v));
    return std::get<sim::Duration>(parsed);
  }
  // workload.timestamp_offset: a signed duration with a unit, in whole milliseconds (Kafka's timestamps), within
  // 50 years either way: every timestamp then stays after 1970 on the wire (kafka::simulated_epoch_ms is 2026), as
  // KafkaProducer requires (it refuses negative timestamps).
  sim::Duration timestamp_offset(const json& v, const std::string& pointer) const {
    const std::string expected = "a duration with a unit in whole milliseconds, negative for older timestamps, such "
                                 "as \"-8d\", \"2h\", \"-1500ms\"";
    if (!v.is_string()) fail(pointer, expected, shown(v));
    std::string text = v.get<std::string>();
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.erase(0, 1);
    const bool has_unit = !text.empty() && std::isalpha(static_cast<unsigned char>(text.back()));
    const auto parsed = parse_duration(text, 0);
    if (!has_unit || !std::holds_alternative<sim::Duration>(parsed)) fail(pointer, expected, shown(v));
    const sim::Duration d = std::get<sim::Duration>(parsed);
    if (d.ns() % 1'000'000 != 0) fail(pointer, expected, shown(v));
    if (d > sim::Duration::from_s(18'250LL * 86'400)) fail(pointer, "an offset within 50 years (18250d)", shown(v));
    return negative ? -d : d;
  }
  uint64_t bytes(const json& v, const std::string& pointer, uint64_t min_value, uint64_t max_value) const {
    const std::string expected = "a size from " + std::to_string(min_value) + " to " + std::to_string(max_value) +
                                 " bytes (a plain number, or with a unit such as \"512B\", \"64GiB\")";
    uint64_t n = 0;
    if (v.is_number_unsigned()) n = v.get<uint64_t>();
    else if (v.is_number_integer() && v.get<int64_t>() >= 0) n = static_cast<uint64_t>(v.get<int64_t>());
    else if (v.is_string()) {
      const auto parsed = parse_bytes(v.get<std::string>());
      if (!std::holds_alternative<uint64_t>(parsed)) fail(pointer, expected, shown(v));
      n = std::get<uint64_t>(parsed);
    } else {
      fail(pointer, expected, shown(v));
    }
    if (n < min_value || n > max_value) fail(pointer, expected, shown(v));
    return n;
  }
  double bandwidth(const json& v, const std::string& pointer) const {
    const std::string expected = "a positive bandwidth (a plain number in B/s, or with a unit such as \"100Gbps\")";
    double b = 0;
    if (v.is_number()) b = v.get<double>();
    else if (v.is_string()) {
      const auto parsed = parse_bandwidth(v.get<std::string>());
      if (!std::holds_alternative<double>(parsed)) fail(pointer, expected, shown(v));
      b = std::get<double>(parsed);
    } else {
      fail(pointer, expected, shown(v));
    }
    if (!(b > 0) || !std::isfinite(b)) fail(pointer, expected, shown(v));
    return b;
  }

  // A hardware profile: a bundled profile's name or an inline profile document, of one of `kinds`.
  HardwareProfile profile(const json* v, const std::string& pointer, const std::string& default_name,
                          const std::vector<std::string>& kinds, json& written) const {
    HardwareProfile p;
    if (v == nullptr) {
      p = load_named_profile(default_name, bundled_profile_dir(), file_, pointer);
      written = default_name;
    } else if (v->is_string()) {
      p = load_named_profile(v->get<std::string>(), bundled_profile_dir(), file_, pointer);
      written = *v;
    } else if (v->is_object() && v->contains("base")) {
      p = parse_hardware_profile(derived_profile_doc(*v, file_, pointer), file_, pointer);
      written = *v;
    } else if (v->is_object()) {
      p = parse_hardware_profile(*v, file_, pointer);
      written = *v;
    } else {
      fail(pointer, "a hardware profile name or an inline profile object", shown(*v));
    }
    if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end())
      fail(pointer, "a profile of kind " + listed(kinds), "the " + in_quotes(p.kind) + " profile " + in_quotes(p.name));
    return p;
  }

  void parse_hardware(const json* hw, WorldSpec& spec) {
    static const json kEmpty = json::object();
    const json& h = hw ? *hw : kEmpty;
    check_keys(h, "/hardware", "hardware");
    const json& b = find(h, "broker") ? h["broker"] : kEmpty;
    const std::string bp = "/hardware/broker";
    check_keys(b, bp, "broker_hardware");
    HostHardwareSpec& host = spec.broker_hardware;

    const HardwareProfile disk = profile(find(b, "disk"), join(bp, "disk"), "nvme-datacentre", {"hdd", "ssd", "ebs"},
                                         x_.broker_disk);
    host.disk = disk_params(disk.params);
    if (const json* v = find(b, "log_dirs")) host.log_dirs = static_cast<uint32_t>(integer(*v, join(bp, "log_dirs"), 1, kLogDirsMax));
    // The instance's EBS limits, shared by its volumes (one per log dir): only over EBS volumes.
    host.ebs_instance.reset();
    if (const json* v = find(b, "ebs_instance")) {
      const HardwareProfile instance = profile(v, join(bp, "ebs_instance"), "", {"ebs_instance"}, x_.broker_ebs_instance);
      if (disk.kind != "ebs")
        fail(join(bp, "ebs_instance"), "an ebs_instance only with an EBS disk (the ebs-gp3, ebs-gp2, ebs-io2 or ebs-st1 profiles)",
             "the " + in_quotes(disk.kind) + " disk " + in_quotes(disk.name));
      host.ebs_instance = std::get<models::EbsInstanceParams>(instance.params);
    }
    host.nic = std::get<NicProfile>(profile(find(b, "nic"), join(bp, "nic"), "nic-10gbe", {"nic"}, x_.broker_nic).params);
    const HardwareProfile cpu_profile =
        profile(find(b, "cpu"), join(bp, "cpu"), "cpu-server-16core", {"cpu"}, x_.broker_cpu);
    cpu_profile_name_ = cpu_profile.name;
    const CpuProfile cpu = std::get<CpuProfile>(cpu_profile.params);
    host.cores = cpu.cores;
    spec.cpu_costs = cpu.costs;

    const uint64_t memory_max = uint64_t{1} << 50;
    if (const json* v = find(b, "ram")) host.ram_bytes = bytes(*v, join(bp, "ram"), 1, memory_max);
    if (const json* v = find(b, "jvm_heap")) host.jvm_heap_bytes = bytes(*v, join(bp, "jvm_heap"), 0, memory_max);
    if (const json* v = find(b, "other_memory")) host.other_memory_bytes = bytes(*v, join(bp, "other_memory"), 0, memory_max);
    // The page cache gets RAM − JVM heap − other memory (hardware-models.md §3.6), which must be positive.
    if (host.ram_bytes <= host.jvm_heap_bytes + host.other_memory_bytes)
      fail(join(bp, "ram"), "more RAM than jvm_heap + other_memory (" +
                                std::to_string(host.jvm_heap_bytes + host.other_memory_bytes) + " bytes)",
           std::to_string(host.ram_bytes) + " bytes");
    // Young-GC pauses (hardware-models.md §5.4), on unless "young_gc": false: eden is the CPU profile's share of
    // the heap.
    bool young_gc = true;
    if (const json* v = find(b, "young_gc")) {
      if (!v->is_boolean()) fail(join(bp, "young_gc"), "true or false", shown(*v));
      young_gc = v->get<bool>();
    }
    host.young_gc.reset();
    if (young_gc) {
      const double eden = std::floor(static_cast<double>(host.jvm_heap_bytes) * cpu.gc.young_gen_heap_fraction);
      if (eden < 1)
        fail(join(bp, "jvm_heap"), "a heap whose young generation holds at least one byte, or \"young_gc\": false",
             std::to_string(host.jvm_heap_bytes) + " bytes");
      host.young_gc = models::YoungGcParams{static_cast<uint64_t>(eden), cpu.gc.gc_pause_median, cpu.gc.gc_pause_p90};
    }

    const json& vm = find(b, "vm") ? b["vm"] : kEmpty;
    const std::string vp = join(bp, "vm");
    check_keys(vm, vp, "vm");
    models::PageCacheParams& pc = host.page_cache;
    // Ranges of the Linux sysctls (Documentation/admin-guide/sysctl/vm.rst).
    if (const json* v = find(vm, "dirty_background_ratio")) pc.dirty_background_ratio = static_cast<uint32_t>(integer(*v, join(vp, "dirty_background_ratio"), 0, 100));
    if (const json* v = find(vm, "dirty_background_bytes")) pc.dirty_background_bytes = bytes(*v, join(vp, "dirty_background_bytes"), 0, memory_max);
    if (const json* v = find(vm, "dirty_ratio")) pc.dirty_ratio = static_cast<uint32_t>(integer(*v, join(vp, "dirty_ratio"), 0, 100));
    if (const json* v = find(vm, "dirty_bytes")) pc.dirty_bytes = bytes(*v, join(vp, "dirty_bytes"), 0, memory_max);
    if (const json* v = find(vm, "dirty_expire_centisecs")) pc.dirty_expire_centisecs = static_cast<uint32_t>(integer(*v, join(vp, "dirty_expire_centisecs"), 0, 8'640'000));
    if (const json* v = find(vm, "dirty_writeback_centisecs")) pc.dirty_writeback_centisecs = static_cast<uint32_t>(integer(*v, join(vp, "dirty_writeback_centisecs"), 0, 8'640'000));
    if (const json* v = find(vm, "read_ahead_kb")) pc.read_ahead_kb = integer(*v, join(vp, "read_ahead_kb"), 0, 1u << 20);
    if (pc.dirty_ratio == 0 && pc.dirty_bytes == 0) fail(join(vp, "dirty_ratio"), "a positive dirty_ratio or dirty_bytes", "0");

    const json& c = find(h, "client") ? h["client"] : kEmpty;
    check_keys(c, "/hardware/client", "client_hardware");
    spec.client_nic = std::get<NicProfile>(profile(find(c, "nic"), "/hardware/client/nic", "nic-10gbe", {"nic"}, x_.client_nic).params);
    // The client's CPU: only its producer_send_cost is used (each producer's application thread). Without a
    // client CPU profile, send() costs the application thread nothing.
    spec.producer_send_cost = sim::Duration::zero();
    spec.client_cpu_costs.reset();
    client_cpu_profile_name_.clear();
    x_.client_cpu = nullptr;
    if (const json* v = find(c, "cpu")) {
      const HardwareProfile cp = profile(v, "/hardware/client/cpu", "", {"cpu"}, x_.client_cpu);
      const CpuProfile& client_cpu = std::get<CpuProfile>(cp.params);
      if (!client_cpu.costs.producer_send_cost)
        fail("/hardware/client/cpu",
             "a CPU profile whose costs name producer_send_cost (the application thread's time per send(); "
             "cpu-xeon-6core-2014 has one), or no client cpu (send() then costs nothing)",
             "the profile " + in_quotes(cp.name) + " without it");
      spec.producer_send_cost = *client_cpu.costs.producer_send_cost;
      // Its rates also price the clients' per-byte work: compression, CRC checks, TLS (WorldSpec::client_cpu_costs).
      spec.client_cpu_costs = client_cpu.costs;
      client_cpu_profile_name_ = cp.name;
    }

    const json& u = find(h, "uplink") ? h["uplink"] : kEmpty;
    check_keys(u, "/hardware/uplink", "uplink");
    if (const json* v = find(u, "bandwidth")) spec.uplink.bandwidth_bytes_per_s = bandwidth(*v, "/hardware/uplink/bandwidth");
    if (const json* v = find(u, "latency")) spec.uplink.latency = own_duration(*v, "/hardware/uplink/latency");
  }

  // A "config" value: an object, or a .properties file name relative to the scenario.
  ConfigSource config_source(const json& v, const std::string& pointer) const {
    ConfigSource src;
    if (v.is_object()) {
      src.object = &v;
      src.file = file_;
      src.pointer = pointer;
      return src;
    }
    if (!v.is_string()) fail(pointer, "a JSON object of Kafka configs, or the name of a .properties file", shown(v));
    const std::filesystem::path path = base_dir_ / v.get<std::string>();
    src.owned = parse_properties(read_text_file(path, ".properties file", file_, pointer), path.string());
    src.file = path.string();
    src.pointer = "";
    src.object = &src.owned;
    return src;
  }

  // Applies one Kafka config object to `target`: unknown names are errors, ignored ones warnings, and known
  // ones are applied in table order (so log.retention.ms wins over log.retention.hours, as in Kafka).
  template <typename T>
  std::vector<std::string> apply_configs(const ConfigSource& src, const std::vector<ConfigEntry<T>>& table,
                                         std::span<const std::string_view> ignored_prefixes, const char* kind,
                                         T& target) {
    KS_ASSERT(src.object != nullptr);
    const json& cfg = *src.object;
    if (!cfg.is_object()) throw ConfigError(src.file, src.pointer, "a JSON object of Kafka configs", shown(cfg));
    std::vector<std::string_view> names;
    for (const auto& e : table) names.push_back(e.spec.name);
    for (const auto& [key, value] : cfg.items()) {
      const auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.spec.name == key; });
      const bool prefixed = std::any_of(ignored_prefixes.begin(), ignored_prefixes.end(),
                                        [&](std::string_view p) { return key.rfind(p, 0) == 0; });
      if (it == table.end() && !prefixed) {
        if (const RemovedConfig* removed = removed_in_kafka_4(key))
          throw ConfigError(src.file, join(src.pointer, key), std::string("a ") + kind + " config of Kafka 4.x",
                            in_quotes(key) + ", which Kafka 4.0 removed: " + std::string(removed->why),
                            std::string(removed->instead));
        throw ConfigError(src.file, join(src.pointer, key), std::string("a ") + kind + " config known to Kafka",
                          "the unknown config " + in_quotes(key), closest_name(key, names));
      }
      if (prefixed || it->spec.type == ConfigType::kIgnored) {
        const bool instead = !prefixed && it->spec.field != kNotModelledField;
        warn(src.file, join(src.pointer, key),
             instead ? in_quotes(key) + " is ignored: " + std::string(it->spec.field)
                     : in_quotes(key) + " is not modelled by the simulator and is ignored");
      }
    }
    std::vector<std::string> given;
    for (const auto& e : table) {
      if (e.spec.type == ConfigType::kIgnored) continue;
      const json* v = find(cfg, std::string(e.spec.name));
      if (v == nullptr) continue;
      e.set(target, convert_config_value(e.spec, *v, src.file, join(src.pointer, e.spec.name)));
      given.emplace_back(e.spec.name);
    }
    return given;
  }

  // Client quotas (kafka-behaviour-2.md §10): what `kafka-configs --alter --entity-type clients` sets, one entry per
  // client-id entity, "<default>" for the default entity.
  void parse_quotas(const json& v, WorldSpec& spec) const {
    const std::string base = "/cluster/quotas";
    require_array(v, base);
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string pointer = join(base, i);
      const json& q = v[i];
      check_keys(q, pointer, "quota");
      if (find(q, "user"))
        fail(join(pointer, "user"), "a client-id entity (\"client-id\")",
             "a user entity: user quotas are not modelled, as clients do not authenticate (every principal is "
             "ANONYMOUS)");
      const json* id = find(q, "client-id");
      if (id == nullptr)
        fail(pointer, "an entity: \"client-id\" with a client.id, or \"<default>\" for every client-id without one",
             "none");
      ClientQuotaSpec quota;
      const std::string name = string_value(*id, join(pointer, "client-id"));
      if (name != "<default>") quota.client_id = name;
      if (!seen.insert(name).second)
        fail(join(pointer, "client-id"), "each entity once", "a second entry for " + in_quotes(name));
      const auto byte_rate = [&](const char* key, std::optional<double>& out) {
        if (const json* r = find(q, key))
          out = static_cast<double>(integer(*r, join(pointer, key), 1, static_cast<uint64_t>(INT64_MAX)));
      };
      byte_rate("producer_byte_rate", quota.producer_byte_rate);
      byte_rate("consumer_byte_rate", quota.consumer_byte_rate);
      if (const json* r = find(q, "request_percentage")) {
        const std::string key = join(pointer, "request_percentage");
        const double pct = number(*r, key, "a percentage of one thread above 0 (200 = two threads' worth)");
        if (pct <= 0) fail(key, "a percentage of one thread above 0 (200 = two threads' worth)", shown(*r));
        quota.request_percentage = pct;
      }
      if (!quota.producer_byte_rate && !quota.consumer_byte_rate && !quota.request_percentage)
        fail(pointer, "at least one of producer_byte_rate, consumer_byte_rate, request_percentage", "none");
      spec.client_quotas.push_back(std::move(quota));
    }
  }

  // A quota for a client-id that none of the scenario's clients has throttles nobody: most likely a misspelt
  // client.id, or a client left with Kafka's generated id ("producer-1", "consumer-<group>-1"; §10.1).
  void warn_unmatched_quotas(const WorldSpec& spec) {
    for (size_t i = 0; i < spec.client_quotas.size(); ++i)
      if (const std::optional<std::string>& id = spec.client_quotas[i].client_id)
        warn_unmatched_client_id(spec, *id, join(join("/cluster/quotas", i), "client-id"));
  }

  // The same for a quota an operation sets (kafka-configs --entity-type clients --entity-name ID).
  void warn_unmatched_client_id(const WorldSpec& spec, const std::string& id, const std::string& pointer) {
    std::vector<std::string> ids;
    const auto add = [&](const std::string& client_id) {
      if (std::find(ids.begin(), ids.end(), client_id) == ids.end()) ids.push_back(client_id);
    };
    for (const ProducerSpec& p : spec.producers)
      add(p.config.client_id_config.empty() ? std::string(kDefaultProducerClientId) : p.config.client_id_config);
    for (const ConsumerSpec& c : spec.consumers)
      add(consumer_client_id(c));
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) return;
    const std::vector<std::string_view> known(ids.begin(), ids.end());
    std::vector<std::string> quoted;
    for (const std::string& client_id : ids) quoted.push_back(in_quotes(client_id));
    const std::string close = closest_name(id, known);
    warn(file_, pointer,
         "no producer or consumer has the client-id " + in_quotes(id) + ", so this quota throttles nobody (the " +
             "scenario's client-ids: " + (ids.empty() ? std::string("none") : listed(quoted)) + ")" +
             (close.empty() ? std::string() : "; did you mean " + in_quotes(close) + "?"));
  }

  // A replication throttle rate without any throttled replica limits nothing (kafka-behaviour-2.md §11.1: the rates
  // apply only to the replicas listed in the topics' *.replication.throttled.replicas).
  // Whether some operation sets `config` (kafka-configs --add-config).
  static bool operation_adds(const WorldSpec& spec, const std::string& config) {
    return std::any_of(spec.config_alters.begin(), spec.config_alters.end(), [&](const ConfigAlterSpec& op) {
      return std::any_of(op.changes.begin(), op.changes.end(),
                         [&](const std::string& c) { return c.rfind(config + "=", 0) == 0; });
    });
  }

  void warn_unused_replication_rates(const WorldSpec& spec) {
    const auto unused = [&](int64_t rate, kafka::ThrottledReplicas kafka::PartitionConfig::*list, const char* role) {
      if (rate == kafka::unlimited_replication_rate) return;
      for (const TopicSpec& t : spec.topics)
        if (!(t.config.*list).empty()) return;
      if (operation_adds(spec, std::string(role) + ".replication.throttled.replicas")) return;
      warn(file_, std::string("/cluster/config/") + role + ".replication.throttled.rate",
           std::string("no topic sets ") + role + ".replication.throttled.replicas, so this rate throttles nothing " +
               "(list the replicas to throttle, or \"*\" for all of a topic's)");
    };
    unused(spec.leader_replication_throttled_rate, &kafka::PartitionConfig::leader_throttled_replicas, "leader");
    unused(spec.follower_replication_throttled_rate, &kafka::PartitionConfig::follower_throttled_replicas, "follower");
  }

  // A topic's throttled-replica list: without a rate it throttles nothing, and entries naming a partition or broker
  // the cluster does not have match nothing (Kafka accepts both silently).
  void warn_throttled_replicas(const TopicSpec& topic, const WorldSpec& spec, const std::string& pointer) {
    const auto check = [&](const kafka::ThrottledReplicas& list, int64_t rate, const char* role) {
      if (list.empty()) return;
      const std::string at = join(join(pointer, "config"), std::string(role) + ".replication.throttled.replicas");
      if (rate == kafka::unlimited_replication_rate &&
          !operation_adds(spec, std::string(role) + ".replication.throttled.rate"))
        warn(file_, at,
             std::string(role) + ".replication.throttled.rate is not set (Long.MAX by default), so these replicas " +
                 "are never throttled");
      for (const auto& [partition, broker] : list.entries) {
        if (partition >= topic.partitions || broker >= static_cast<int32_t>(spec.brokers))
          warn(file_, at,
               "the entry " + std::to_string(partition) + ":" + std::to_string(broker) + " names " +
                   (partition >= topic.partitions ? "partition " + std::to_string(partition) + " of a topic of " +
                                                        std::to_string(topic.partitions)
                                                  : "broker " + std::to_string(broker) + " of a cluster of " +
                                                        std::to_string(spec.brokers)) +
                   ", so it throttles nothing");
      }
    };
    check(topic.config.leader_throttled_replicas, spec.leader_replication_throttled_rate, "leader");
    check(topic.config.follower_throttled_replicas, spec.follower_replication_throttled_rate, "follower");
  }

  void parse_cluster(const json* cl, WorldSpec& spec) {
    static const json kEmpty = json::object();
    const json& c = cl ? *cl : kEmpty;
    check_keys(c, "/cluster", "cluster");
    if (const json* v = find(c, "brokers")) spec.brokers = static_cast<uint32_t>(integer(*v, "/cluster/brokers", 1, kBrokersMax));
    if (const json* v = find(c, "racks")) spec.racks = static_cast<uint32_t>(integer(*v, "/cluster/racks", 1, kBrokersMax));
    if (spec.racks > spec.brokers)
      fail("/cluster/racks", "at most one rack per broker (" + std::to_string(spec.brokers) + ")", std::to_string(spec.racks));

    if (const json* v = find(c, "quotas")) parse_quotas(*v, spec);

    BrokerSettings s;
    if (const json* v = find(c, "config")) {
      ConfigSource src = config_source(*v, "/cluster/config");
      src.object = src.owned.is_null() ? src.object : &src.owned;
      for (const std::string& name : apply_configs(src, broker_config_table(), broker_ignored_prefixes(), "broker", s)) {
        const json& value = (*src.object)[name];
        spec.static_broker_configs[name] = value.is_string() ? value.get<std::string>() : value.dump();
      }
      if (s.log_defaults.compression_gzip_level == 0)
        throw ConfigError(src.file, join(src.pointer, "compression.gzip.level"), "-1 or a level from 1 to 9 (KIP-390)",
                          "0");
    }
    // SocketServer and the fetcher's NetworkClient set these as SO_RCVBUF / SO_SNDBUF unless they are -1, which
    // keeps the OS's autotuned buffer; Java's setReceiveBufferSize(0) throws, so 0 fails every connection.
    for (const auto& [name, value] : {std::pair<const char*, int64_t>{"socket.receive.buffer.bytes", s.socket_receive_buffer_bytes},
                                      {"socket.send.buffer.bytes", s.socket_send_buffer_bytes},
                                      {"replica.socket.receive.buffer.bytes", s.replica_socket_receive_buffer_bytes}})
      if (value == 0)
        fail(std::string("/cluster/config/") + name,
             "a buffer size in bytes, at least 1, or -1 for the OS's autotuned buffer (0 makes Java's "
             "Socket.setReceiveBufferSize / setSendBufferSize throw)",
             "0");
    // KafkaConfig.validateValues: the follower's long poll must fit in the ISR lag bound and the socket timeout.
    const sim::Duration lag = sim::Duration::from_ms(s.broker.replica_lag_time_max_ms);
    if (s.fetcher.replica_fetch_wait_max > lag)
      fail("/cluster/config/replica.fetch.wait.max.ms",
           "at most replica.lag.time.max.ms (" + format_duration(lag) +
               "): \"replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to "
               "prevent frequent changes in ISR\"",
           format_duration(s.fetcher.replica_fetch_wait_max));
    if (s.fetcher.replica_socket_timeout < s.fetcher.replica_fetch_wait_max)
      fail("/cluster/config/replica.socket.timeout.ms",
           "at least replica.fetch.wait.max.ms (" + format_duration(s.fetcher.replica_fetch_wait_max) +
               "): \"replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent "
               "unnecessary socket timeouts\"",
           format_duration(s.fetcher.replica_socket_timeout));
    s.fetcher.validate();
    spec.broker_config = s.broker;
    spec.fetcher_config = s.fetcher;
    spec.num_network_threads = s.num_network_threads;
    spec.num_io_threads = s.num_io_threads;
    spec.queued_max_requests = s.queued_max_requests;
    spec.socket_receive_buffer_bytes = s.socket_receive_buffer_bytes;
    spec.socket_send_buffer_bytes = s.socket_send_buffer_bytes;
    spec.replica_socket_receive_buffer_bytes = s.replica_socket_receive_buffer_bytes;
    spec.background_threads = s.background_threads;
    spec.quota_window = s.quota_window;
    spec.leader_replication_throttled_rate = s.leader_replication_throttled_rate;
    spec.follower_replication_throttled_rate = s.follower_replication_throttled_rate;
    spec.replication_quota_window = s.replication_quota_window;
    spec.security_inter_broker_protocol = s.security_inter_broker_protocol;
    spec.retention_initial_delay = s.log_initial_task_delay;
    spec.retention_check_interval = s.log_retention_check_interval;
    spec.log_flush_scheduler_interval_ms = s.log_flush_scheduler_interval_ms;
    spec.replica_high_watermark_checkpoint_interval_ms = s.replica_high_watermark_checkpoint_interval_ms;
    spec.log_flush_offset_checkpoint_interval_ms = s.log_flush_offset_checkpoint_interval_ms;
    spec.log_flush_start_offset_checkpoint_interval_ms = s.log_flush_start_offset_checkpoint_interval_ms;
    warn_flush_ms_unchecked(s.log_defaults.flush_ms, s.log_flush_scheduler_interval_ms,
                            "/cluster/config/log.flush.interval.ms");
    x_.broker_log_defaults = s.log_defaults;
    x_.default_replication_factor = s.default_replication_factor;
    x_.num_partitions = s.num_partitions;
    spec.offsets_topic_partitions = s.offsets_topic_num_partitions;
    spec.offsets_topic_replication_factor = s.offsets_topic_replication_factor;
    spec.group_coordinator_append_linger = s.group_coordinator_append_linger;
    spec.offsets_commit_timeout = s.offsets_commit_timeout;
    // GroupCoordinatorService.groupMetadataTopicConfigs: the broker's topic defaults with these three set.
    spec.offsets_topic_config = WorldSpec::default_offsets_topic_config();
    spec.offsets_topic_config.log = s.log_defaults;
    spec.offsets_topic_config.log.segment_bytes = s.offsets_topic_segment_bytes;
    spec.offsets_topic_config.log.cleanup_policy_delete = false;
    spec.offsets_topic_config.log.cleanup_policy_compact = true;
    spec.offsets_topic_config.log.compression_type = kafka::BrokerCompressionType::producer;
  }

  void parse_topic(const json& t, const std::string& pointer, WorldSpec& spec) {
    check_keys(t, pointer, "topic");
    TopicSpec topic;
    const std::string np = join(pointer, "name");
    topic.name = string_value(required(t, pointer, "name", "the topic's name"), np);
    // Topic.validate: at most 249 characters of [a-zA-Z0-9._-], and not "." or "..".
    const bool legal = topic.name.size() <= 249 && topic.name != "." && topic.name != ".." &&
                       std::all_of(topic.name.begin(), topic.name.end(), [](char ch) {
                         return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
                       });
    if (!legal) fail(np, "a legal Kafka topic name: up to 249 characters of [a-zA-Z0-9._-]", in_quotes(topic.name));
    // Topic.isInternal: the brokers create __consumer_offsets themselves (for consumer groups).
    if (topic.name == kafka::consumer_offsets_topic)
      fail(np, "a topic name other than the internal __consumer_offsets, which the brokers create for consumer groups",
           in_quotes(topic.name));
    for (size_t i = 0; i < spec.topics.size(); ++i)
      if (spec.topics[i].name == topic.name)
        fail(np, "a topic name not used before (it is also /topics/" + std::to_string(i) + "/name)", in_quotes(topic.name));
    topic.partitions = x_.num_partitions;
    if (const json* v = find(t, "partitions")) topic.partitions = static_cast<int32_t>(integer(*v, join(pointer, "partitions"), 1, kPartitionsPerTopicMax));
    topic.replication_factor = x_.default_replication_factor;
    if (const json* v = find(t, "replication.factor")) topic.replication_factor = static_cast<int32_t>(integer(*v, join(pointer, "replication.factor"), 1, 32767));
    // ReplicationControlManager / StripedReplicaPlacer: InvalidReplicationFactorException.
    if (static_cast<uint32_t>(topic.replication_factor) > spec.brokers)
      fail(join(pointer, "replication.factor"),
           "a replication factor of at most the number of brokers (" + std::to_string(spec.brokers) +
               "): \"The target replication factor of " + std::to_string(topic.replication_factor) +
               " cannot be reached because only " + std::to_string(spec.brokers) + " broker(s) are registered.\"",
           std::to_string(topic.replication_factor));
    topic.config.log = x_.broker_log_defaults;
    if (const json* v = find(t, "config")) {
      if (!v->is_object()) fail(join(pointer, "config"), "a JSON object of topic configs", shown(*v));
      ConfigSource src{v, {}, file_, join(pointer, "config")};
      topic.overrides = apply_configs(src, topic_config_table(), topic_ignored_prefixes(), "topic", topic.config);
      if (topic.config.log.compression_gzip_level == 0)
        throw ConfigError(src.file, join(src.pointer, "compression.gzip.level"), "-1 or a level from 1 to 9 (KIP-390)",
                          "0");
    }
    {
      // The level the topic recompresses at, when its compression.type is a codec with levels.
      const kafka::LogConfig& log = topic.config.log;
      const kafka::CompressionType codec = stored_codec(log.compression_type, kafka::CompressionType::none);
      const std::string config_pointer = join(pointer, "config");
      check_level_measured(spec, codec,
                           compression_level(codec, log.compression_gzip_level, log.compression_lz4_level,
                                             log.compression_zstd_level),
                           ConfigSource{nullptr, {}, file_, config_pointer});
    }
    const int32_t min_isr = topic.config.min_insync_replicas.value_or(spec.broker_config.min_insync_replicas);
    // Kafka accepts this and caps it: effectiveMinIsr = min(min.insync.replicas, replication factor) (§3.6), so
    // acks=all goes on with fewer in-sync replicas than the config says.
    if (min_isr > topic.replication_factor)
      warn(file_, join(join(pointer, "config"), "min.insync.replicas"),
           "min.insync.replicas (" + std::to_string(min_isr) + ") exceeds replication.factor (" +
               std::to_string(topic.replication_factor) + "): Kafka uses the replication factor instead "
               "(effectiveMinIsr), so acks=all is acknowledged with " + std::to_string(topic.replication_factor) +
               " in-sync replica" + (topic.replication_factor == 1 ? "" : "s"));
    // A compacted topic's leaders reject records without keys (INVALID_RECORD); the cleaner is not modelled.
    if (topic.config.log.cleanup_policy_compact)
      warn(file_, join(join(pointer, "config"), "cleanup.policy"),
           topic.config.log.cleanup_policy_delete
               ? "log compaction is not modelled: this topic deletes by retention only, and its leaders reject records "
                 "without keys (INVALID_RECORD)"
               : "log compaction is not modelled: this topic never deletes, and its leaders reject records without keys "
                 "(INVALID_RECORD)");
    if (std::find(topic.overrides.begin(), topic.overrides.end(), "flush.ms") != topic.overrides.end())
      warn_flush_ms_unchecked(topic.config.log.flush_ms, spec.log_flush_scheduler_interval_ms,
                              join(join(pointer, "config"), "flush.ms"));
    spec.topics.push_back(std::move(topic));
  }

  // One entry of "operations" checked, and what the world applies for it; topics' add-config is applied to the
  // topic's configs later, in time order (parse_operations).
  struct PendingOperation {
    ConfigAlterSpec op;
    const json* add = nullptr;  // topics: the add-config object
    json broker_log_add;        // brokers: the add-config's topic defaults (log.*, message.max.bytes, min.insync.replicas)
    std::vector<std::string> broker_log_deleted;
    std::string pointer;
  };

  // The brokers' topic defaults kafka-configs can alter cluster-wide during a run (DynamicLogConfig: each is the
  // broker synonym of a topic config the simulator models).
  static const std::vector<std::string>& broker_log_configs() {
    static const std::vector<std::string> names = {"log.retention.ms",
                                                   "log.retention.bytes",
                                                   "log.segment.bytes",
                                                   "log.roll.ms",
                                                   "log.flush.interval.messages",
                                                   "log.flush.interval.ms",
                                                   "message.max.bytes",
                                                   "min.insync.replicas",
                                                   "log.message.timestamp.before.max.ms",
                                                   "log.message.timestamp.after.max.ms"};
    return names;
  }
  static bool is_broker_log_config(const std::string& name) {
    const auto& names = broker_log_configs();
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  // The configs kafkasim can change during a run, by entity type; anything else kafka-configs accepts is an error
  // saying so (set it in the scenario's configs instead).
  static const std::vector<std::string>& alterable_configs(ConfigEntityType type) {
    static const std::vector<std::string> clients = {"producer_byte_rate", "consumer_byte_rate", "request_percentage"};
    static const std::vector<std::string> brokers = [] {
      std::vector<std::string> names = {"leader.replication.throttled.rate", "follower.replication.throttled.rate",
                                        "num.io.threads", "num.replica.fetchers", "background.threads"};
      for (const std::string& n : broker_log_configs()) names.push_back(n);
      return names;
    }();
    static const std::vector<std::string> topics = {"retention.ms",
                                                    "retention.bytes",
                                                    "segment.bytes",
                                                    "segment.ms",
                                                    "min.insync.replicas",
                                                    "max.message.bytes",
                                                    "flush.messages",
                                                    "flush.ms",
                                                    "message.timestamp.before.max.ms",
                                                    "message.timestamp.after.max.ms",
                                                    "leader.replication.throttled.replicas",
                                                    "follower.replication.throttled.replicas"};
    return type == ConfigEntityType::clients ? clients : type == ConfigEntityType::brokers ? brokers : topics;
  }

  // The scenario's "operations" (WorldSpec::config_alters; docs/scenarios.md "Operations"): kafka-configs --alter
  // commands at given times. Each entry is checked in scenario order; the topics' configs after each change are then
  // worked out in time order (two at one instant in scenario order), as the brokers apply them.
  void parse_operations(const json& ops, WorldSpec& spec) {
    require_array(ops, "/operations");
    std::vector<PendingOperation> pending;
    std::vector<DeleteRecordsSpec> deletions;
    for (size_t i = 0; i < ops.size(); ++i) {
      const json& entry = ops[i];
      if (entry.is_object() && entry.contains("tool") && entry["tool"] == "kafka-delete-records") {
        deletions.push_back(parse_delete_records(entry, join("/operations", i), spec));
        continue;
      }
      pending.push_back(parse_operation(ops[i], join("/operations", i), spec));
      const ConfigAlterSpec& op = pending.back().op;
      if (op.entity_type == ConfigEntityType::clients && op.entity_name && !op.added.empty())
        warn_unmatched_client_id(spec, *op.entity_name, join(pending.back().pointer, "entity-name"));
    }
    std::stable_sort(pending.begin(), pending.end(),
                     [](const PendingOperation& a, const PendingOperation& b) { return a.op.at < b.op.at; });
    std::stable_sort(deletions.begin(), deletions.end(),
                     [](const DeleteRecordsSpec& a, const DeleteRecordsSpec& b) { return a.at < b.at; });
    spec.delete_records = std::move(deletions);
    std::vector<kafka::PartitionConfig> topic_configs;  // as the brokers hold them, changed by each operation in turn
    std::vector<std::vector<std::string>> topic_overrides;  // the configs each topic sets itself, likewise
    for (const TopicSpec& t : spec.topics) {
      topic_configs.push_back(t.config);
      topic_overrides.push_back(t.overrides);
    }
    // The brokers' topic defaults: the static cluster config's, then as cluster-wide operations change them.
    // __consumer_offsets (which the world adds when there are groups) follows them too, apart from the three configs
    // the group coordinator creates it with.
    kafka::PartitionConfig offsets_config = spec.offsets_topic_config;
    const std::vector<std::string> offsets_overrides = {"cleanup.policy", "compression.type", "segment.bytes"};
    BrokerSettings static_defaults, dynamic_defaults;
    static_defaults.log_defaults = x_.broker_log_defaults;
    static_defaults.broker = spec.broker_config;
    dynamic_defaults = static_defaults;
    // The thread pools DynamicThreadPool resizes (num.io.threads, num.replica.fetchers, background.threads), as each
    // broker has them: its
    // own dynamic value, else the cluster-wide one, else the static.
    struct ThreadPool {
      std::string name;
      uint32_t static_value;
      std::vector<std::optional<uint32_t>> own;
      std::optional<uint32_t> cluster_default;
      uint32_t threads(uint32_t b) const { return own[b].value_or(cluster_default.value_or(static_value)); }
    };
    std::vector<ThreadPool> pools = {
        {"num.io.threads", spec.num_io_threads, std::vector<std::optional<uint32_t>>(spec.brokers), std::nullopt},
        {"num.replica.fetchers", static_cast<uint32_t>(spec.fetcher_config.num_replica_fetchers),
         std::vector<std::optional<uint32_t>>(spec.brokers), std::nullopt},
        {"background.threads", spec.background_threads, std::vector<std::optional<uint32_t>>(spec.brokers),
         std::nullopt}};
    for (PendingOperation& p : pending) {
      for (ThreadPool& pool : pools) {
        if (p.op.entity_type != ConfigEntityType::brokers) break;
        const auto added = std::find_if(p.op.added.begin(), p.op.added.end(),
                                        [&](const auto& a) { return a.first == pool.name; });
        const bool deleted = std::find(p.op.deleted.begin(), p.op.deleted.end(), pool.name) != p.op.deleted.end();
        if (added == p.op.added.end() && !deleted) continue;
        std::vector<uint32_t> before(spec.brokers);
        for (uint32_t b = 0; b < spec.brokers; ++b) before[b] = pool.threads(b);
        std::optional<uint32_t>& target = p.op.entity_name ? pool.own[std::stoul(*p.op.entity_name)] : pool.cluster_default;
        if (added != p.op.added.end()) target = static_cast<uint32_t>(added->second);
        else target.reset();
        // DynamicThreadPool.validateReconfiguration, on each broker the change reaches: at least half and at most
        // double the thread count it has.
        for (uint32_t b = 0; b < spec.brokers; ++b) {
          const uint32_t now = pool.threads(b);
          if (now == before[b] || (now >= before[b] / 2 && now <= before[b] * 2)) continue;
          fail(added != p.op.added.end() ? join(join(p.pointer, "add-config"), pool.name) : join(p.pointer, "delete-config"),
               pool.name + " from half to double the " + std::to_string(before[b]) + " threads broker " +
                   std::to_string(b) + " has then (Kafka's DynamicThreadPool: \"value should be at least half the "
                   "current value\" / \"should not be greater than double the current value\"; change it in steps)",
               std::to_string(now));
        }
      }
      if (p.op.entity_type == ConfigEntityType::brokers && (!p.broker_log_add.empty() || !p.broker_log_deleted.empty())) {
        // DynamicLogConfig: a deleted default goes back to the static config's; every topic takes the new defaults
        // for the configs it does not set itself.
        for (const std::string& name : p.broker_log_deleted)
          for (const auto& e : broker_config_table())
            if (e.spec.name == name && e.set != nullptr && e.get != nullptr) e.set(dynamic_defaults, e.get(static_defaults));
        if (!p.broker_log_add.empty())
          apply_configs(ConfigSource{&p.broker_log_add, {}, file_, join(p.pointer, "add-config")}, broker_config_table(),
                        broker_ignored_prefixes(), "broker", dynamic_defaults);
        p.op.broker_min_insync_replicas = dynamic_defaults.broker.min_insync_replicas;
        kafka::PartitionConfig broker_values;
        broker_values.log = dynamic_defaults.log_defaults;
        // Every modelled config a topic does not set itself (entries without a getter are accepted, not modelled);
        // without its own min.insync.replicas a topic takes the brokers' (PartitionConfig holds none then).
        const auto follow_defaults = [&](kafka::PartitionConfig& config, const std::vector<std::string>& overrides) {
          const auto own = [&](std::string_view name) {
            return std::find(overrides.begin(), overrides.end(), name) != overrides.end();
          };
          for (const auto& e : topic_config_table()) {
            if (e.spec.name == "min.insync.replicas") {
              if (!own(e.spec.name)) config.min_insync_replicas.reset();
              continue;
            }
            if (e.set != nullptr && e.get != nullptr && !own(e.spec.name)) e.set(config, e.get(broker_values));
          }
        };
        follow_defaults(offsets_config, offsets_overrides);
        p.op.offsets_topic_config = offsets_config;
        for (size_t t = 0; t < spec.topics.size(); ++t) {
          kafka::PartitionConfig& config = topic_configs[t];
          follow_defaults(config, topic_overrides[t]);
          p.op.topic_updates.emplace_back(static_cast<int32_t>(t), config);
          const int32_t min_isr = config.min_insync_replicas.value_or(dynamic_defaults.broker.min_insync_replicas);
          if (min_isr > spec.topics[t].replication_factor)
            warn(file_, join(p.pointer, "add-config"),
                 "min.insync.replicas (" + std::to_string(min_isr) + ") exceeds topic " + in_quotes(spec.topics[t].name) +
                     "'s replication.factor (" + std::to_string(spec.topics[t].replication_factor) +
                     "): acks=all produces to it will fail with NOT_ENOUGH_REPLICAS");
        }
      }
      if (p.op.entity_type == ConfigEntityType::topics) {
        kafka::PartitionConfig& config = topic_configs[static_cast<size_t>(p.op.topic)];
        std::vector<std::string>& overrides = topic_overrides[static_cast<size_t>(p.op.topic)];
        for (const std::string& name : p.op.deleted) std::erase(overrides, name);
        if (p.add != nullptr)
          for (const auto& [key, value] : p.add->items())
            if (std::find(overrides.begin(), overrides.end(), key) == overrides.end()) overrides.push_back(key);
        // A deleted config goes back to the broker's value (kafka-configs --delete-config): its default now.
        kafka::PartitionConfig broker_values;
        broker_values.log = dynamic_defaults.log_defaults;
        for (const std::string& name : p.op.deleted) {
          if (name == "min.insync.replicas") {
            config.min_insync_replicas.reset();
            continue;
          }
          for (const auto& e : topic_config_table())
            if (e.spec.name == name) e.set(config, e.get(broker_values));
        }
        if (p.add != nullptr)
          apply_configs(ConfigSource{p.add, {}, file_, join(p.pointer, "add-config")}, topic_config_table(),
                        topic_ignored_prefixes(), "topic", config);
        p.op.topic_config = config;
        if (p.add != nullptr && p.add->contains("flush.ms"))
          warn_flush_ms_unchecked(config.log.flush_ms, spec.log_flush_scheduler_interval_ms,
                                  join(join(p.pointer, "add-config"), "flush.ms"));
        const TopicSpec& topic = spec.topics[static_cast<size_t>(p.op.topic)];
        const int32_t min_isr = config.min_insync_replicas.value_or(dynamic_defaults.broker.min_insync_replicas);
        if (min_isr > topic.replication_factor)
          warn(file_, join(p.pointer, "add-config"),
               "min.insync.replicas (" + std::to_string(min_isr) + ") exceeds the topic's replication.factor (" +
                   std::to_string(topic.replication_factor) + "): acks=all produces will fail with NOT_ENOUGH_REPLICAS");
      }
      spec.config_alters.push_back(std::move(p.op));
    }
  }

  PendingOperation parse_operation(const json& o, const std::string& pointer, const WorldSpec& spec) {
    check_keys(o, pointer, "operation");
    PendingOperation p;
    p.pointer = pointer;
    ConfigAlterSpec& op = p.op;
    const json& tool = required(o, pointer, "tool", "the admin tool, \"kafka-configs\" or \"kafka-delete-records\"");
    if (!tool.is_string() || tool.get<std::string>() != "kafka-configs") {
      const std::string what = tool.is_string() ? tool.get<std::string>() : std::string();
      const bool later = what == "kafka-reassign-partitions" || what == "kafka-leader-election" ||
                         what == "kafka-topics";
      fail(join(pointer, "tool"),
           std::string("\"kafka-configs\" or \"kafka-delete-records\"") +
               (later ? " (moving replicas or leaders, or adding partitions, needs the controller, which is not "
                        "simulated yet)"
                      : ""),
           shown(tool),
           later ? std::string()
                 : closest_name(what, std::vector<std::string_view>{"kafka-configs", "kafka-delete-records"}));
    }
    op.at = own_duration(required(o, pointer, "at", "when the command runs, e.g. \"30s\""), join(pointer, "at"));
    if (op.at >= spec.duration)
      fail(join(pointer, "at"), "a time within the run (before " + format_duration(spec.duration) + ")",
           format_duration(op.at));
    const json& type_json = required(o, pointer, "entity-type", "\"clients\", \"brokers\" or \"topics\"");
    if (type_json.is_string() && (type_json.get<std::string>() == "users" || type_json.get<std::string>() == "ips"))
      fail(join(pointer, "entity-type"), "\"clients\", \"brokers\" or \"topics\"",
           shown(type_json) + ": user and IP quotas are not modelled, as clients do not authenticate (every principal "
                              "is ANONYMOUS); a client-id quota is --entity-type clients");
    const std::string type = choice(type_json, join(pointer, "entity-type"), {"clients", "brokers", "topics"});
    op.entity_type = type == "clients"   ? ConfigEntityType::clients
                     : type == "brokers" ? ConfigEntityType::brokers
                                         : ConfigEntityType::topics;
    // The entity: --entity-name NAME or --entity-default (clients and brokers only), one of them.
    const json* name = find(o, "entity-name");
    const json* def = find(o, "entity-default");
    if (def != nullptr && (!def->is_boolean() || !def->get<bool>()))
      fail(join(pointer, "entity-default"), "true (kafka-configs --entity-default), or leave it out", shown(*def));
    if (def != nullptr && op.entity_type == ConfigEntityType::topics)
      fail(join(pointer, "entity-default"), "an \"entity-name\": topics have no default entity (the brokers' log.* "
                                            "configs are the topics' defaults)",
           "\"entity-default\"");
    if ((name == nullptr) == (def == nullptr))
      fail(pointer, "exactly one of \"entity-name\" and \"entity-default\"",
           name == nullptr ? std::string("neither") : std::string("both"));
    if (name != nullptr) {
      const std::string np = join(pointer, "entity-name");
      if (op.entity_type == ConfigEntityType::brokers) {
        // kafka-configs takes the broker's id; a JSON number is taken as well.
        std::string id = name->is_number_integer() ? std::to_string(name->get<int64_t>()) : string_value(*name, np);
        const std::string expected = "a broker id, \"0\" to \"" + std::to_string(spec.brokers - 1) + "\"";
        if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos || id.size() > 6 ||
            std::stoul(id) >= spec.brokers)
          fail(np, expected, shown(*name));
        op.entity_name = std::to_string(std::stoul(id));
      } else {
        op.entity_name = string_value(*name, np);
        if (*op.entity_name == "<default>")
          fail(np, "a client-id (the default entity is \"entity-default\": true)", "\"<default>\"");
        if (op.entity_type == ConfigEntityType::topics) op.topic = topic_index(*name, np, spec);
      }
    }
    const auto& alterable = alterable_configs(op.entity_type);
    const auto check_name = [&](const std::string& key, const std::string& at) {
      if (std::find(alterable.begin(), alterable.end(), key) != alterable.end()) return;
      std::vector<std::string_view> known(alterable.begin(), alterable.end());
      std::vector<std::string> quoted;
      for (const std::string& a : alterable) quoted.push_back(in_quotes(a));
      const bool topic_config = op.entity_type == ConfigEntityType::topics &&
                                std::any_of(topic_config_table().begin(), topic_config_table().end(),
                                            [&](const auto& e) { return e.spec.name == key; });
      const bool broker_config = op.entity_type == ConfigEntityType::brokers &&
                                 std::any_of(broker_config_table().begin(), broker_config_table().end(),
                                             [&](const auto& e) { return e.spec.name == key; });
      const std::string what = op.entity_type == ConfigEntityType::clients   ? "a client quota"
                               : op.entity_type == ConfigEntityType::brokers ? "a broker config"
                                                                             : "a topic config";
      fail(at, what + " kafkasim changes during a run: " + listed(quoted),
           topic_config || broker_config
               ? in_quotes(key) + ", which kafkasim does not change during a run yet (set it in the scenario's " +
                     (topic_config ? "topic" : "cluster") + " config)"
               : "the config " + in_quotes(key),
           topic_config || broker_config ? std::string() : closest_name(key, known));
    };
    const json* add = find(o, "add-config");
    const json* del = find(o, "delete-config");
    if (add == nullptr && del == nullptr) fail(pointer, "\"add-config\" or \"delete-config\" (or both)", "neither");
    if (del != nullptr) {
      const std::string dp = join(pointer, "delete-config");
      require_array(*del, dp);
      if (del->empty()) fail(dp, "the names of the configs to delete", "an empty list");
      for (size_t i = 0; i < del->size(); ++i) {
        const std::string key = string_value((*del)[i], join(dp, i));
        check_name(key, join(dp, i));
        if (std::find(op.deleted.begin(), op.deleted.end(), key) != op.deleted.end())
          fail(join(dp, i), "each config once", "a second " + in_quotes(key));
        op.deleted.push_back(key);
      }
    }
    if (add != nullptr) {
      const std::string ap = join(pointer, "add-config");
      if (!add->is_object() || add->empty()) fail(ap, "a JSON object of configs and their new values", shown(*add));
      for (const auto& [key, value] : add->items()) {
        check_name(key, join(ap, key));
        if (std::find(op.deleted.begin(), op.deleted.end(), key) != op.deleted.end())
          fail(join(ap, key), "a config either added or deleted", in_quotes(key) + " in both");
        const std::string vp = join(ap, key);
        if (op.entity_type == ConfigEntityType::clients) {
          // As /cluster/quotas takes them.
          if (key == "request_percentage") {
            const std::string expected = "a percentage of one thread above 0 (200 = two threads' worth)";
            const double pct = number(value, vp, expected);
            if (pct <= 0) fail(vp, expected, shown(value));
            op.added.emplace_back(key, pct);
          } else {
            op.added.emplace_back(key, static_cast<double>(integer(value, vp, 1, static_cast<uint64_t>(INT64_MAX))));
          }
        } else if (op.entity_type == ConfigEntityType::brokers && is_broker_log_config(key)) {
          // Checked and applied in time order with the other topic defaults (parse_operations).
          p.broker_log_add[key] = value;
        } else if (op.entity_type == ConfigEntityType::brokers) {
          // As the cluster's config takes them (Kafka's type and range for the rate).
          const auto& table = broker_config_table();
          const auto e = std::find_if(table.begin(), table.end(), [&](const auto& c) { return c.spec.name == key; });
          KS_ASSERT(e != table.end());
          op.added.emplace_back(key, static_cast<double>(convert_config_value(e->spec, value, file_, vp).integer));
        }
        op.changes.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
      }
      if (op.entity_type == ConfigEntityType::topics) p.add = add;
    }
    for (const std::string& key : op.deleted) op.changes.push_back("-" + key);
    if (op.entity_type == ConfigEntityType::brokers) {
      // The topics' defaults are cluster-wide here: a broker's own value would give its replicas of a topic other
      // configs than the other brokers' replicas, which the simulator does not model.
      for (const std::string& key : op.deleted)
        if (is_broker_log_config(key)) p.broker_log_deleted.push_back(key);
      std::erase_if(op.deleted, [](const std::string& key) { return is_broker_log_config(key); });
      if (op.entity_name && (!p.broker_log_add.empty() || !p.broker_log_deleted.empty()))
        fail(join(pointer, "entity-name"),
             "\"entity-default\": true for the brokers' topic defaults (" + listed(broker_log_configs()) +
                 "): kafkasim changes them cluster-wide only, not for one broker",
             shown(*name));
    }
    op.given = o;
    op.given["at"] = format_duration(op.at);
    return p;
  }

  // A kafka-delete-records operation: "offset-json" is the tool's --offset-json-file, {"partitions": [{"topic": ...,
  // "partition": ..., "offset": ...}], "version": 1} (DeleteRecordsCommand: version 1 only, no partition twice; an
  // offset of -1 deletes up to the high watermark).
  DeleteRecordsSpec parse_delete_records(const json& o, const std::string& pointer, const WorldSpec& spec) {
    check_keys(o, pointer, "delete_records_operation");
    DeleteRecordsSpec d;
    d.at = own_duration(required(o, pointer, "at", "when the command runs, e.g. \"30s\""), join(pointer, "at"));
    if (d.at >= spec.duration)
      fail(join(pointer, "at"), "a time within the run (before " + format_duration(spec.duration) + ")",
           format_duration(d.at));
    const std::string jp = join(pointer, "offset-json");
    const json& offsets = required(o, pointer, "offset-json",
                                   "the tool's --offset-json-file: {\"partitions\": [{\"topic\": \"events\", "
                                   "\"partition\": 0, \"offset\": 1000}], \"version\": 1}");
    if (!offsets.is_object()) fail(jp, "a JSON object with \"partitions\" (and \"version\": 1)", shown(offsets));
    check_keys(offsets, jp, "offset_json");
    if (const json* v = find(offsets, "version"); v != nullptr && !(v->is_number_integer() && v->get<int64_t>() == 1))
      fail(join(jp, "version"), "1, the only version kafka-delete-records reads", shown(*v));
    const std::string pp = join(jp, "partitions");
    const json& parts = required(offsets, jp, "partitions", "a list of {\"topic\", \"partition\", \"offset\"}");
    require_array(parts, pp);
    if (parts.empty()) fail(pp, "at least one partition", "an empty list");
    for (size_t i = 0; i < parts.size(); ++i) {
      const json& e = parts[i];
      const std::string ep = join(pp, i);
      if (!e.is_object()) fail(ep, "an object {\"topic\", \"partition\", \"offset\"}", shown(e));
      check_keys(e, ep, "offset_json_partition");
      DeleteRecordsSpec::Target t;
      t.topic = topic_index(required(e, ep, "topic", "the topic's name"), join(ep, "topic"), spec);
      const TopicSpec& topic = spec.topics[static_cast<size_t>(t.topic)];
      const json& partition = required(e, ep, "partition", "the partition's number");
      if (!partition.is_number_integer() || partition.get<int64_t>() < 0 ||
          partition.get<int64_t>() >= topic.partitions)
        fail(join(ep, "partition"),
             "a partition of " + in_quotes(topic.name) + ", 0 to " + std::to_string(topic.partitions - 1),
             shown(partition));
      t.partition = static_cast<int32_t>(partition.get<int64_t>());
      const json& offset = required(e, ep, "offset", "the offset below which records go, or -1 for the high watermark");
      if (!offset.is_number_integer() || offset.get<int64_t>() < -1)
        fail(join(ep, "offset"), "an offset of 0 or more, or -1 for the high watermark", shown(offset));
      t.offset = offset.get<int64_t>();
      for (const DeleteRecordsSpec::Target& before : d.partitions)
        if (before.topic == t.topic && before.partition == t.partition)
          fail(ep, "each partition once (kafka-delete-records: \"Offset json file contains duplicate topic partitions\")",
               "a second " + in_quotes(topic.name + "-" + std::to_string(t.partition)));
      d.partitions.push_back(t);
    }
    d.given = o;
    d.given["at"] = format_duration(d.at);
    return d;
  }

  int32_t topic_index(const json& t, const std::string& pointer, const WorldSpec& spec) const {
    const std::string name = string_value(t, pointer);
    std::vector<std::string_view> known;
    std::vector<std::string> names;
    for (size_t i = 0; i < spec.topics.size(); ++i) {
      if (spec.topics[i].name == name) return static_cast<int32_t>(i);
      known.push_back(spec.topics[i].name);
      names.push_back(spec.topics[i].name);
    }
    fail(pointer, "the name of a topic in /topics (" + (names.empty() ? std::string("none defined") : listed(names)) + ")",
         in_quotes(name), closest_name(name, known));
  }

  json parse_record_size(const json* v, const std::string& pointer, SizeDistribution& out) const {
    if (v == nullptr) {
      out = SizeDistribution::fixed(512);  // WorldSpec's default (the producer-perf-test examples' 512 B) [A]
      return {{"distribution", "fixed"}, {"bytes", 512}};
    }
    if (!v->is_object()) {
      const auto b = static_cast<uint32_t>(bytes(*v, pointer, 0, kRecordBytesMax));
      out = SizeDistribution::fixed(b);
      return {{"distribution", "fixed"}, {"bytes", b}};
    }
    check_keys(*v, pointer, "record_size");
    const std::string dist = choice(required(*v, pointer, "distribution", "fixed, uniform or lognormal"),
                                    join(pointer, "distribution"), {"fixed", "uniform", "lognormal"});
    const std::map<std::string, std::vector<std::string>> keys = {
        {"fixed", {"distribution", "bytes"}},
        {"uniform", {"distribution", "min", "max"}},
        {"lognormal", {"distribution", "median", "sigma", "max"}}};
    for (const auto& [key, value] : v->items())
      if (std::find(keys.at(dist).begin(), keys.at(dist).end(), key) == keys.at(dist).end())
        fail(join(pointer, key), "a key of a " + in_quotes(dist) + " record_size (" + listed(keys.at(dist)) + ")", in_quotes(key));
    auto size_of = [&](const char* key, uint64_t min_value) {
      return static_cast<uint32_t>(bytes(required(*v, pointer, key, "a size in bytes"), join(pointer, key), min_value, kRecordBytesMax));
    };
    if (dist == "fixed") {
      const uint32_t b = size_of("bytes", 0);
      out = SizeDistribution::fixed(b);
      return {{"distribution", "fixed"}, {"bytes", b}};
    }
    if (dist == "uniform") {
      const uint32_t lo = size_of("min", 0), hi = size_of("max", 0);
      if (lo > hi) fail(join(pointer, "max"), "a max of at least min (" + std::to_string(lo) + ")", std::to_string(hi));
      out = SizeDistribution::uniform(lo, hi);
      return {{"distribution", "uniform"}, {"min", lo}, {"max", hi}};
    }
    const uint32_t median = size_of("median", 1), hi = size_of("max", 1);
    const double sigma = number(required(*v, pointer, "sigma", "the sigma of the underlying normal"),
                                join(pointer, "sigma"), "a non-negative number");
    if (sigma < 0 || sigma > 10) fail(join(pointer, "sigma"), "a sigma from 0 to 10", shown((*v)["sigma"]));
    out = SizeDistribution::lognormal(median, sigma, hi);
    return {{"distribution", "lognormal"}, {"median", median}, {"sigma", sigma}, {"max", hi}};
  }

  json parse_keys(const json* v, const std::string& pointer, KeyDistribution& out) const {
    if (v == nullptr) {
      out = KeyDistribution::none();
      return {{"distribution", "none"}};
    }
    check_keys(*v, pointer, "keys");
    const std::string dist = v->contains("distribution")
                                 ? choice((*v)["distribution"], join(pointer, "distribution"), {"none", "uniform", "zipf"})
                                 : std::string("none");
    const std::vector<std::string> allowed = dist == "none"      ? std::vector<std::string>{"distribution"}
                                             : dist == "uniform" ? std::vector<std::string>{"distribution", "count"}
                                                                 : std::vector<std::string>{"distribution", "count", "exponent"};
    for (const auto& [key, value] : v->items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(join(pointer, key), "a key of " + in_quotes(dist) + " keys (" + listed(allowed) + ")", in_quotes(key));
    if (dist == "none") {
      out = KeyDistribution::none();
      return {{"distribution", "none"}};
    }
    const auto count = static_cast<uint32_t>(integer(required(*v, pointer, "count", "the number of distinct keys"), join(pointer, "count"), 1, kKeysMax));
    if (dist == "uniform") {
      out = KeyDistribution::uniform(count);
      return {{"distribution", "uniform"}, {"count", count}};
    }
    const double s = number(required(*v, pointer, "exponent", "the Zipf exponent"), join(pointer, "exponent"), "a non-negative number");
    if (s < 0 || s > 100) fail(join(pointer, "exponent"), "a Zipf exponent from 0 to 100", shown((*v)["exponent"]));
    out = KeyDistribution::zipf(count, s);
    return {{"distribution", "zipf"}, {"count", count}, {"exponent", s}};
  }

  // A producer's configs (a producers entry's "config", or a producer_restart's "config" over the entry's own):
  // `v` applied over `base`, whose configs named `base_given` were given before, then Kafka's checks of the whole
  // (ProducerConfig, KafkaProducer). `pointer` is where `v` is; errors about a config name it there.
  struct ProducerConfigChecked {
    kafka::ProducerConfig config;    // as the producer runs with it (idempotence's default applied)
    kafka::ProducerConfig as_given;  // before that default
    std::vector<std::string> given;  // the configs given, base's and v's
    bool idempotence_set_explicitly = false;
  };
  ProducerConfigChecked checked_producer_config(const json* v, const std::string& pointer, const kafka::ProducerConfig& base,
                                                const std::vector<std::string>& base_given, const WorldSpec& spec) {
    kafka::ProducerConfig c = base;
    std::vector<std::string> given = base_given;
    ConfigSource src{nullptr, {}, file_, pointer};
    if (v != nullptr) {
      src = config_source(*v, pointer);
      if (!src.owned.is_null()) src.object = &src.owned;
      for (std::string& name : apply_configs(src, producer_config_table(), producer_ignored_prefixes(), "producer", c))
        if (std::find(given.begin(), given.end(), name) == given.end()) given.push_back(std::move(name));
    }
    auto was_given = [&](std::string_view n) { return std::find(given.begin(), given.end(), n) != given.end(); };
    auto at = [&](std::string_view n) { return join(src.pointer, n); };
    if (c.compression_gzip_level == 0)
      throw ConfigError(src.file, at("compression.gzip.level"), "-1 or a level from 1 to 9 (KIP-390)", "0");
    check_level_measured(spec, c.compression_type,
                         compression_level(c.compression_type, c.compression_gzip_level, c.compression_lz4_level,
                                           c.compression_zstd_level),
                         src);
    check_socket_buffers(src, c.send_buffer_bytes, c.receive_buffer_bytes);
    const bool idempotence_set_explicitly = was_given("enable.idempotence");
    // ProducerConfig.postProcessAndValidateIdempotenceConfigs: an explicit enable.idempotence=true with an
    // incompatible setting is a ConfigException (kafka-behaviour.md §1.1).
    if (idempotence_set_explicitly && c.enable_idempotence) {
      if (c.acks != kafka::Acks::all)
        throw ConfigError(src.file, at(was_given("acks") ? "acks" : "enable.idempotence"),
                          "acks=all with enable.idempotence=true (Kafka: \"Must set acks to all in order to use "
                          "the idempotent producer. Otherwise we cannot guarantee idempotence.\")",
                          c.acks == kafka::Acks::none ? "0" : "1", "all");
      if (c.max_in_flight_requests_per_connection > 5)
        throw ConfigError(src.file, at("max.in.flight.requests.per.connection"),
                          "at most 5 with enable.idempotence=true (Kafka: \"Must set "
                          "max.in.flight.requests.per.connection to at most 5 when using the idempotent producer.\")",
                          std::to_string(c.max_in_flight_requests_per_connection));
      if (c.retries == 0)
        throw ConfigError(src.file, at("retries"),
                          "retries > 0 with enable.idempotence=true (Kafka: \"Must set retries to non-zero when "
                          "using the idempotent producer.\")",
                          "0");
    }
    // KafkaProducer.configureDeliveryTimeout: explicit and too small is a ConfigException; the default is
    // raised to linger.ms + request.timeout.ms instead (with a warning in Kafka's log).
    const sim::Duration delivery_min = c.linger + c.request_timeout;
    if (c.delivery_timeout < delivery_min) {
      if (was_given("delivery.timeout.ms"))
        throw ConfigError(src.file, at("delivery.timeout.ms"),
                          "delivery.timeout.ms >= linger.ms + request.timeout.ms = " + format_duration(delivery_min) +
                              " (Kafka: \"delivery.timeout.ms should be equal to or larger than linger.ms + "
                              "request.timeout.ms\")",
                          format_duration(c.delivery_timeout));
      warn(src.file, src.pointer, "delivery.timeout.ms raised to linger.ms + request.timeout.ms = " +
                                      format_duration(delivery_min));
      c.delivery_timeout = delivery_min;
    }
    // RecordAccumulator.append allocates max(batch.size, the record's upper bound) bytes from the BufferPool, whose
    // allocate throws IllegalArgumentException ("Attempt to allocate N bytes, but there is a hard limit of M on
    // memory allocations.") when that exceeds buffer.memory; KafkaProducer.doSend rethrows it from send() (not an
    // ApiException). A record larger than buffer.memory fails earlier, with RecordTooLargeException
    // (ensureValidRecordSize). So with buffer.memory below batch.size (KafkaProducer uses max(1, batch.size))
    // every send() throws, and the scenario cannot run in Kafka.
    if (c.buffer_memory_bytes < c.effective_batch_size_bytes()) {
      const std::string batch = std::to_string(c.effective_batch_size_bytes());
      const std::string memory = std::to_string(c.buffer_memory_bytes);
      const std::string why = " (Kafka's send() would throw IllegalArgumentException from BufferPool.allocate, "
                              "\"Attempt to allocate " + batch + " bytes, but there is a hard limit of " + memory +
                              " on memory allocations.\", or RecordTooLargeException for a record larger than "
                              "buffer.memory: no record could ever be sent)";
      // The error points at the key the user gave: buffer.memory, or a batch.size above the default buffer.memory.
      if (was_given("buffer.memory") || !was_given("batch.size"))
        throw ConfigError(src.file, at("buffer.memory"), "buffer.memory >= batch.size = " + batch + " bytes" + why,
                          memory);
      throw ConfigError(src.file, at("batch.size"), "batch.size <= buffer.memory = " + memory + " bytes" + why, batch);
    }
    const kafka::ProducerConfig as_given = c;
    const bool idempotence_before = c.enable_idempotence;
    c = kafka::apply_idempotence_default(c, idempotence_set_explicitly);
    if (idempotence_before && !c.enable_idempotence)
      warn(src.file, src.pointer, "idempotence is disabled because acks, retries or max.in.flight are incompatible "
                                  "with it and enable.idempotence was not set");
    if (const std::string problem = kafka::validate(c); !problem.empty())
      throw ConfigError(src.file, src.pointer, "a valid producer config", problem);
    return {c, as_given, given, idempotence_set_explicitly};
  }

  void parse_producer(const json& p, const std::string& pointer, WorldSpec& spec) {
    check_keys(p, pointer, "producer");
    ProducerSpec ps;
    ps.topic = topic_index(required(p, pointer, "topic", "the name of the topic to produce to"), join(pointer, "topic"), spec);
    if (const json* v = find(p, "count")) ps.count = static_cast<uint32_t>(integer(*v, join(pointer, "count"), 1, kClientsPerEntryMax));

    const std::string wp = join(pointer, "workload");
    const json& w = required(p, pointer, "workload", "rate or closed_loop, record_size, keys");
    check_keys(w, wp, "workload");
    const json* rate = find(w, "rate");
    const json* closed = find(w, "closed_loop");
    if ((rate == nullptr) == (closed == nullptr))
      fail(wp, "exactly one of \"rate\" (records/s per producer, open loop) and \"closed_loop\"",
           rate ? "both" : "neither");
    if (rate != nullptr) {
      ps.records_per_s = number(*rate, join(wp, "rate"), "a positive rate in records/s per producer");
      if (!(ps.records_per_s > 0) || ps.records_per_s > 1e9)
        fail(join(wp, "rate"), "a positive rate in records/s per producer (at most 1e9)", shown(*rate));
      if (const json* a = find(w, "arrival")) {
        const std::string kind = choice(*a, join(wp, "arrival"), {"constant", "poisson", "unthrottled"});
        ps.arrival = kind == "poisson" ? ArrivalProcess::Kind::kPoisson
                     : kind == "unthrottled" ? ArrivalProcess::Kind::kUnthrottled
                                             : ArrivalProcess::Kind::kConstant;
      }
    } else {
      if (find(w, "arrival")) fail(join(wp, "arrival"), "no arrival process with closed_loop (threads send back to back)", shown(w["arrival"]));
      check_keys(*closed, join(wp, "closed_loop"), "closed_loop");
      ps.closed_loop_threads = static_cast<uint32_t>(integer(required(*closed, join(wp, "closed_loop"), "threads", "threads per producer"),
                                                             join(join(wp, "closed_loop"), "threads"), 1, 10'000));
    }
    x_.producer_record_sizes.push_back(parse_record_size(find(w, "record_size"), join(wp, "record_size"), ps.value_size));
    x_.producer_keys.push_back(parse_keys(find(w, "keys"), join(wp, "keys"), ps.keys));
    if (const json* v = find(w, "timestamp_offset"))
      ps.timestamp_offset = timestamp_offset(*v, join(wp, "timestamp_offset"));
    if (const auto& topic = spec.topics[static_cast<size_t>(ps.topic)];
        topic.config.log.cleanup_policy_compact && !ps.keys.has_keys())
      warn(file_, join(wp, "keys"), "records without keys to the compacted topic " + in_quotes(topic.name) +
                                        ": Kafka's leaders reject every batch (INVALID_RECORD, a non-retriable error); "
                                        "give the records keys (\"uniform\" or \"zipf\")");

    ProducerConfigChecked checked = checked_producer_config(find(p, "config"), join(pointer, "config"), {}, {}, spec);
    kafka::ProducerConfig& c = checked.config;
    ps.idempotence_set_explicitly = checked.idempotence_set_explicitly;
    ps.config_as_given = checked.as_given;
    ps.config_names_given = checked.given;
    const json& rs = x_.producer_record_sizes.back();
    const uint64_t largest = rs.contains("bytes") ? rs["bytes"].get<uint64_t>() : rs["max"].get<uint64_t>();
    if (largest > static_cast<uint64_t>(c.max_request_size_bytes))
      warn(file_, join(wp, "record_size"), "records up to " + std::to_string(largest) + " bytes exceed max.request.size (" +
                                               std::to_string(c.max_request_size_bytes) + "): Kafka fails them with RecordTooLargeException");
    ps.config = c;
    spec.producers.push_back(std::move(ps));
  }

  // A producer_restart's "config": the new process's producer configs over its entry's own (a deploy of a changed
  // config, one process at a time). The configs that name the client host's identity or connections stay the
  // entry's: kafkasim gives a client host one client.id, codec and connection settings for the whole run.
  // A restart's "config" object: not empty, and none of the configs the client host keeps (`fixed`, `kept` says
  // what they are); the whole is recorded in `fs` as given, with a "name=value" change each.
  void check_restart_config(const json& v, const std::string& pointer, const char* kind,
                            const std::vector<std::string>& fixed, const char* kept, FaultSpec& fs) const {
    if (!v.is_object() || v.empty())
      fail(pointer, std::string("a JSON object of ") + kind + " configs for the new process", shown(v));
    for (const auto& [key, value] : v.items())
      if (std::find(fixed.begin(), fixed.end(), key) != fixed.end())
        fail(join(pointer, key),
             std::string("a ") + kind + " config the new process may change (not " + listed(fixed) +
                 ": the client host keeps its " + kept + " for the whole run)",
             in_quotes(key));
    fs.config_given = v;
    for (const auto& [key, value] : v.items())
      fs.config_changes.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  }

  void parse_restart_config(const json& v, const std::string& pointer, const WorldSpec& spec, FaultSpec& fs) {
    static const std::vector<std::string> kFixed = {"client.id",           "compression.type",  "compression.gzip.level",
                                                    "compression.lz4.level", "compression.zstd.level",
                                                    "security.protocol",   "send.buffer.bytes", "receive.buffer.bytes"};
    check_restart_config(v, pointer, "producer", kFixed, "client.id, codec and connections", fs);
    // The producer entry whose client restarts: the producers' clients are numbered in scenario order.
    uint64_t first = spec.brokers;
    size_t entry = 0;
    while (entry < spec.producers.size() && fs.host >= first + spec.producers[entry].count) first += spec.producers[entry++].count;
    KS_ASSERT_LT(entry, spec.producers.size());
    const ProducerSpec& ps = spec.producers[entry];
    const ProducerConfigChecked checked = checked_producer_config(&v, pointer, ps.config_as_given, ps.config_names_given, spec);
    fs.producer_config = checked.config;
  }

  // A consumer_restart's "config": the new process's consumer configs over its entry's own (a deploy of a changed
  // config). Its identity and connections stay the entry's: client.id, client.rack (its host's rack), the security
  // protocol and socket buffers.
  void parse_consumer_restart_config(const json& v, const std::string& pointer, const WorldSpec& spec, FaultSpec& fs) {
    static const std::vector<std::string> kFixed = {"client.id", "group.id", "client.rack", "security.protocol",
                                                    "send.buffer.bytes", "receive.buffer.bytes"};
    check_restart_config(v, pointer, "consumer", kFixed, "client.id, group, rack and connections", fs);
    // The consumer entry whose client restarts: the consumers' clients follow the producers', in scenario order.
    uint64_t first = spec.brokers;
    for (const ProducerSpec& p : spec.producers) first += p.count;
    size_t entry = 0;
    while (entry < spec.consumers.size() && fs.host >= first + spec.consumers[entry].count) first += spec.consumers[entry++].count;
    KS_ASSERT_LT(entry, spec.consumers.size());
    kafka::ConsumerConfig c = spec.consumers[entry].config;
    ConfigSource src = config_source(v, pointer);
    if (!src.owned.is_null()) src.object = &src.owned;
    apply_configs(src, consumer_config_table(), consumer_ignored_prefixes(), "consumer", c);
    if (spec.consumers[entry].group.empty()) check_auto_commit_without_group(src, c);
    kafka::validate(c);  // the table's ranges already enforce what this asserts
    fs.consumer_config = c;
  }

  // One entry of "faults" (WorldSpec::faults): see FaultSpec and docs/scenarios.md "faults".
  void parse_fault(const json& f, const std::string& pointer, WorldSpec& spec) {
    check_keys(f, pointer, "fault");
    const std::vector<std::string> types = {"slow_disk",   "stalled_disk",    "slow_cpu",         "pause",
                                            "slow_network", "drop_caches",    "memory_pressure", "consumer_restart",
                                            "producer_restart"};
    // Faults of DESIGN.md's list that move leaders or lose data, which need the controller and the durability
    // checker: named as such rather than as unknown.
    static const std::map<std::string, std::string> kNotYet = {
        {"crash", "a broker crash"}, {"restart", "a broker restart"}, {"shutdown", "a clean shutdown"},
        {"network_partition", "a network partition"}, {"partition", "a network partition"},
        {"full_disk", "a full disk (Kafka takes the log dir offline)"},
        {"failed_disk", "a failed disk (Kafka takes the log dir offline)"},
        {"disk_failure", "a failed disk (Kafka takes the log dir offline)"},
        {"broker_crash", "a broker crash"}, {"broker_failure", "a broker crash"},
        {"broker_restart", "a broker restart"}, {"broker_shutdown", "a clean shutdown"},
        {"controlled_shutdown", "a clean shutdown"}};
    if (const json* t = find(f, "type"); t != nullptr && t->is_string()) {
      const auto not_yet = kNotYet.find(t->get<std::string>());
      if (not_yet != kNotYet.end())
        fail(join(pointer, "type"),
             "one of " + listed(types) + ": " + not_yet->second +
                 " moves partition leaders, and leader elections (the controller) are not simulated yet",
             shown(*t));
    }
    const std::string type = choice(required(f, pointer, "type", "the kind of fault"), join(pointer, "type"), types);
    FaultSpec fs;
    fs.kind = type == "slow_disk"      ? FaultKind::slow_disk
              : type == "stalled_disk" ? FaultKind::stalled_disk
              : type == "slow_cpu"     ? FaultKind::slow_cpu
              : type == "pause"        ? FaultKind::pause
              : type == "slow_network" ? FaultKind::slow_network
              : type == "drop_caches"  ? FaultKind::drop_caches
              : type == "memory_pressure" ? FaultKind::memory_pressure
              : type == "consumer_restart" ? FaultKind::consumer_restart
                                           : FaultKind::producer_restart;
    const std::vector<std::string>& own = kFaultKeys.at(type);
    for (const auto& [key, value] : f.items()) {
      if (key == "type" || key == "host" || key == "at" || key == "duration") continue;
      if (std::find(own.begin(), own.end(), key) == own.end())
        fail(join(pointer, key),
             "the keys of a " + type + " fault: type, host, at, duration" + (own.empty() ? "" : ", " + listed(own)),
             "the key " + in_quotes(key) + ", which " + type + " does not take");
    }
    // The host, named as the outputs name it.
    uint64_t clients = 0;
    for (const ProducerSpec& p : spec.producers) clients += p.count;
    for (const ConsumerSpec& c : spec.consumers) clients += c.count;
    const std::string host = string_value(required(f, pointer, "host", "the host, \"broker-N\" or \"client-N\""),
                                          join(pointer, "host"));
    std::vector<std::string> names;
    for (uint32_t b = 0; b < spec.brokers; ++b) names.push_back("broker-" + std::to_string(b));
    const bool consumer_only = fs.kind == FaultKind::consumer_restart;
    const bool producer_only = fs.kind == FaultKind::producer_restart;
    const bool broker_only = fs.kind != FaultKind::slow_network && !consumer_only && !producer_only;
    uint64_t producer_clients = 0;
    for (const ProducerSpec& p : spec.producers) producer_clients += p.count;
    if (consumer_only || producer_only) names.clear();
    if (!broker_only)
      for (uint64_t c = consumer_only ? producer_clients : 0; c < (producer_only ? producer_clients : clients); ++c)
        names.push_back("client-" + std::to_string(c));
    const auto at = std::find(names.begin(), names.end(), host);
    if (at == names.end() && (consumer_only || producer_only)) {
      std::vector<std::string_view> known(names.begin(), names.end());
      const uint64_t first = consumer_only ? producer_clients : 0, end = consumer_only ? clients : producer_clients;
      const std::string kind = consumer_only ? "consumer" : "producer";
      fail(join(pointer, "host"),
           names.empty() ? "a " + kind + "'s client, and the scenario has no " + kind + "s"
                         : "a " + kind + "'s client, \"client-" + std::to_string(first) + "\"" +
                               (end - 1 > first ? " to \"client-" + std::to_string(end - 1) + "\"" : std::string()) +
                               " (the producers' clients come first, then the consumers')",
           in_quotes(host), names.empty() ? std::string() : closest_name(host, known));
    }
    if (at == names.end()) {
      std::vector<std::string_view> known(names.begin(), names.end());
      const bool client = host.rfind("client-", 0) == 0;
      fail(join(pointer, "host"),
           broker_only ? "a broker, \"broker-0\" to \"broker-" + std::to_string(spec.brokers - 1) + "\"" +
                             (client ? " (a " + type + " fault acts on a broker's disks, CPU or JVM)" : "")
                       : "a broker (\"broker-0\" to \"broker-" + std::to_string(spec.brokers - 1) + "\")" +
                             (clients > 0 ? " or a client (\"client-0\" to \"client-" + std::to_string(clients - 1) +
                                                "\": the producers', then the consumers', in scenario order)"
                                          : ""),
           in_quotes(host), client && broker_only ? std::string() : closest_name(host, known));
    }
    fs.host = consumer_only   ? spec.brokers + static_cast<uint32_t>(producer_clients + (at - names.begin()))
              : producer_only ? spec.brokers + static_cast<uint32_t>(at - names.begin())
                              : static_cast<uint32_t>(at - names.begin());
    if (const json* v = find(f, "config")) {
      if (producer_only) parse_restart_config(*v, join(pointer, "config"), spec, fs);
      else parse_consumer_restart_config(*v, join(pointer, "config"), spec, fs);
    }
    if (const json* v = find(f, "processing_time")) {
      fs.processing_time = own_duration(*v, join(pointer, "processing_time"));
      fs.config_changes.push_back("processing_time=" + format_duration(*fs.processing_time));
    }
    fs.at = own_duration(required(f, pointer, "at", "when the fault starts, e.g. \"20s\""), join(pointer, "at"));
    if (fs.at >= spec.duration)
      fail(join(pointer, "at"), "a time within the run (before " + format_duration(spec.duration) + ")",
           format_duration(fs.at));
    if (const json* d = find(f, "duration")) {
      if (fs.kind == FaultKind::drop_caches)
        fail(join(pointer, "duration"), "no duration: drop_caches happens at one instant (it evicts the clean pages once)",
             shown(*d));
      fs.duration = own_duration(*d, join(pointer, "duration"));
      if (!(*fs.duration > sim::Duration::zero()))
        fail(join(pointer, "duration"), "a positive duration (leave it out for a fault to the end of the run)",
             shown(*d));
    }
    const auto silence_bound = [&](const std::string& key, sim::Duration d, const std::string& what) {
      if (d > kUnfencedSilenceMax)
        fail(join(pointer, key),
             "at most " + format_duration(kUnfencedSilenceMax) + ": " + what +
                 " longer than broker.session.timeout.ms (9s) less broker.heartbeat.interval.ms (2s) can get the "
                 "broker fenced by the controller and its leaders moved, which the simulator does not simulate yet",
             format_duration(d));
    };
    const auto multiplier = [&](const std::string& key, double lo, double hi, const std::string& meaning) -> double {
      const json* v = find(f, key);
      const std::string expected = "a number in (" + format_number(lo) + ", " + format_number(hi) + "] (" + meaning + ")";
      const double m = number(*v, join(pointer, key), expected);
      if (!(m > lo && m <= hi)) fail(join(pointer, key), expected, shown(*v));
      return m;
    };
    const auto require_one_of = [&](const std::vector<std::string>& keys) {
      for (const auto& k : keys)
        if (find(f, k) != nullptr) return;
      fail(pointer, "a " + type + " fault with at least one of " + listed(keys), shown(f));
    };
    switch (fs.kind) {
      case FaultKind::slow_disk:
      case FaultKind::stalled_disk:
        if (const json* v = find(f, "disk"))
          fs.disk = static_cast<uint32_t>(integer(*v, join(pointer, "disk"), 0, spec.broker_hardware.log_dirs - 1));
        if (fs.kind == FaultKind::stalled_disk) break;
        require_one_of({"latency_multiplier", "bandwidth_multiplier"});
        if (find(f, "latency_multiplier"))
          fs.latency_multiplier = multiplier("latency_multiplier", 0, 1e6, "seek, rotation and command times are multiplied by it");
        if (find(f, "bandwidth_multiplier"))
          fs.bandwidth_multiplier = multiplier("bandwidth_multiplier", 0, 1, "transfer rates are multiplied by it");
        break;
      case FaultKind::slow_cpu:
        if (!find(f, "speed")) fail(join(pointer, "speed"), "the required key \"speed\" (the cores' speed, e.g. 0.5)", "nothing");
        fs.speed = multiplier("speed", 0, 1, "the broker's cores run at that fraction of their speed");
        break;
      case FaultKind::pause:
        if (!fs.duration) fail(join(pointer, "duration"), "the required key \"duration\" for a pause (how long the JVM stops)", "nothing");
        silence_bound("duration", *fs.duration, "a pause");
        break;
      case FaultKind::drop_caches: break;
      case FaultKind::consumer_restart: break;
      case FaultKind::producer_restart: break;
      case FaultKind::memory_pressure: {
        const HostHardwareSpec& hw = spec.broker_hardware;
        const uint64_t budget = hw.ram_bytes - hw.jvm_heap_bytes - hw.other_memory_bytes;
        if (!find(f, "bytes"))
          fail(join(pointer, "bytes"), "the required key \"bytes\" (the memory taken from the page cache, e.g. \"8GiB\")",
               "nothing");
        fs.bytes = bytes(*find(f, "bytes"), join(pointer, "bytes"), 1, budget - (1u << 20));
        break;
      }
      case FaultKind::slow_network:
        require_one_of({"bandwidth_multiplier", "extra_latency", "jitter", "loss"});
        if (find(f, "bandwidth_multiplier"))
          fs.bandwidth_multiplier = multiplier("bandwidth_multiplier", 0, 1, "the host's links' bandwidth is multiplied by it");
        if (const json* v = find(f, "extra_latency")) fs.extra_latency = own_duration(*v, join(pointer, "extra_latency"));
        if (const json* v = find(f, "jitter")) fs.jitter = own_duration(*v, join(pointer, "jitter"));
        silence_bound(find(f, "jitter") ? "jitter" : "extra_latency", fs.extra_latency + fs.jitter,
                      "an added latency plus jitter");
        if (const json* v = find(f, "loss")) {
          const std::string expected = "a probability from 0 to 0.2 (each lost packet costs a TCP retransmission timeout)";
          fs.loss = number(*v, join(pointer, "loss"), expected);
          if (!(fs.loss >= 0 && fs.loss <= 0.2)) fail(join(pointer, "loss"), expected, shown(*v));
        }
        break;
    }
    // The models' fault hooks set a state and the fault's end restores the healthy one, so two faults of one kind
    // on one host must not overlap.
    const auto end_of = [&spec](const FaultSpec& x) {
      // A restart lasts its downtime (none: an instant); two restarts of one host must not overlap in it.
      if (x.kind == FaultKind::consumer_restart || x.kind == FaultKind::producer_restart)
        return x.at + x.duration.value_or(sim::Duration::zero());
      return x.kind == FaultKind::drop_caches ? x.at : x.duration ? x.at + *x.duration : spec.duration;
    };
    const sim::Duration end = end_of(fs);
    for (size_t i = 0; i < spec.faults.size(); ++i) {
      const FaultSpec& o = spec.faults[i];
      if (o.kind != fs.kind || o.host != fs.host) continue;
      const sim::Duration o_end = end_of(o);
      if (fs.at < o_end && o.at < end)
        fail(join(pointer, "at"),
             "a " + type + " of " + host + " that does not overlap /faults/" + std::to_string(i) + " (" +
                 format_duration(o.at) + " to " + format_duration(o_end) + ")",
             format_duration(fs.at) + " to " + format_duration(end));
    }
    spec.faults.push_back(fs);
  }

  void parse_consumer(const json& p, const std::string& pointer, WorldSpec& spec) {
    check_keys(p, pointer, "consumer");
    ConsumerSpec cs;
    // Without "group" the consumer has no group.id (Kafka's null): its application assigns it partitions
    // (KafkaConsumer.assign), it has no coordinator and can commit nothing.
    const json* group_value = find(p, "group");
    if (group_value != nullptr && (!group_value->is_string() || group_value->get<std::string>().empty()))
      fail(join(pointer, "group"),
           "a non-empty string (leave \"group\" out for a consumer without a group.id, which assigns its partitions "
           "itself)",
           shown(*group_value));
    std::string group = group_value == nullptr ? std::string() : group_value->get<std::string>();
    std::string group_pointer = join(pointer, "group");
    // The configs, read first: a group.id among them (a pasted consumer.properties) is the entry's group.
    const json* config_value = find(p, "config");
    ConfigSource src;
    if (config_value != nullptr) {
      src = config_source(*config_value, join(pointer, "config"));
      if (!src.owned.is_null()) src.object = &src.owned;
      if (src.object->is_object() && src.object->contains("group.id")) {
        const json id = src.object->at("group.id");
        const std::string where = join(src.pointer, "group.id");
        if (!id.is_string() || id.get<std::string>().empty())
          throw ConfigError(src.file, where, "a non-empty group name (or no group.id, for a consumer without a group)",
                            shown(id));
        if (!group.empty() && id.get<std::string>() != group)
          throw ConfigError(src.file, where,
                            "the entry's \"group\", " + in_quotes(group) +
                                ", or no group.id: it is the consumer's group.id",
                            shown(id));
        if (group.empty()) {
          group = id.get<std::string>();
          group_pointer = src.file == file_ ? where : join(pointer, "config");
        }
        json rest = *src.object;  // the other configs, for the table, which does not list group.id
        rest.erase("group.id");
        src.owned = std::move(rest);
        src.object = &src.owned;
      }
    }
    // A group needs a coordinator, the leader of a __consumer_offsets partition, and the controller cannot create
    // that topic with more replicas than brokers: every FindCoordinator then fails (COORDINATOR_NOT_AVAILABLE).
    if (!group.empty() && static_cast<uint32_t>(spec.offsets_topic_replication_factor) > spec.brokers)
      fail("/cluster/config/offsets.topic.replication.factor",
           "at most the number of brokers (" + std::to_string(spec.brokers) + ") when the scenario has consumer groups (" +
               pointer + "): Kafka cannot create __consumer_offsets with more replicas than brokers, so group \"" +
               group + "\" would never find its coordinator (a single-node cluster sets 1, as Kafka's "
               "config/server.properties does; or leave \"group\" out: a consumer without a group.id assigns its "
               "partitions itself and needs no coordinator)",
           std::to_string(spec.offsets_topic_replication_factor));
    cs.topic = topic_index(required(p, pointer, "topic", "the name of the topic to consume"), join(pointer, "topic"), spec);
    const int32_t topic_partitions = spec.topics[static_cast<size_t>(cs.topic)].partitions;
    // The partitions the application assigns itself (KafkaConsumer.assign) instead of the whole topic.
    if (const json* v = find(p, "partitions")) {
      const std::string where = join(pointer, "partitions");
      const std::string expected = "a non-empty array of the topic's partition numbers (0 to " +
                                   std::to_string(topic_partitions - 1) + "), each once";
      if (!v->is_array() || v->empty()) fail(where, expected, shown(*v));
      for (size_t i = 0; i < v->size(); ++i) {
        const auto partition = static_cast<int32_t>(integer((*v)[i], join(where, i), 0, topic_partitions - 1));
        if (std::find(cs.partitions.begin(), cs.partitions.end(), partition) != cs.partitions.end())
          fail(join(where, i), expected, shown((*v)[i]) + ", given twice");
        cs.partitions.push_back(partition);
      }
      std::sort(cs.partitions.begin(), cs.partitions.end());
    }
    // Several entries of one group on one topic: either all members (the group assigns the topic's partitions over
    // all their consumers, entry by entry: consumers that differ in configs or processing time), or all assigning
    // their own partitions (no members: each commits its own partitions, so no partition may be assigned twice, or
    // their commits would overwrite each other's). Not both: a member reads every partition the group is given.
    uint32_t members_before = 0;  // the group's members on this topic in earlier entries
    for (size_t i = 0; i < spec.consumers.size() && !group.empty(); ++i) {
      const ConsumerSpec& other = spec.consumers[i];
      if (x_.consumer_groups[i] != group || other.topic != cs.topic) continue;
      const std::string other_pointer = "/consumers/" + std::to_string(i);
      if (cs.partitions.empty() && other.partitions.empty()) {
        members_before += other.count;
        continue;
      }
      if (cs.partitions.empty() || other.partitions.empty())
        fail(group_pointer,
             "entries of one group and topic that are all members (no \"partitions\") or all assign() their own "
             "\"partitions\" (" + other_pointer + " is the same group, and " +
                 (other.partitions.empty() ? "a member" : "assigns partitions") + ")",
             in_quotes(group));
      const json& listed_partitions = *find(p, "partitions");  // in the user's order, for the pointer
      for (size_t k = 0; k < listed_partitions.size(); ++k)
        if (std::binary_search(other.partitions.begin(), other.partitions.end(), listed_partitions[k].get<int32_t>()))
          fail(join(join(pointer, "partitions"), k),
               "a partition that no other entry of group " + in_quotes(group) + " on this topic assigns (" +
                   other_pointer + " assigns it too: their commits would overwrite each other's)",
               shown(listed_partitions[k]));
    }
    if (const json* v = find(p, "count")) cs.count = static_cast<uint32_t>(integer(*v, join(pointer, "count"), 1, kClientsPerEntryMax));
    if (const json* v = find(p, "processing_time")) cs.processing_time_per_record = own_duration(*v, join(pointer, "processing_time"));
    if (const json* v = find(p, "commit")) {
      const std::string mode = choice(*v, join(pointer, "commit"), {"none", "async", "sync"});
      cs.commit = mode == "async" ? CommitAfterPoll::kAsync : mode == "sync" ? CommitAfterPoll::kSync : CommitAfterPoll::kNone;
      if (group.empty() && cs.commit != CommitAfterPoll::kNone)
        fail(join(pointer, "commit"),
             "\"none\" for a consumer without a \"group\" (Kafka's commitSync and commitAsync throw "
             "InvalidGroupIdException without a group.id; give the entry a group to commit offsets)",
             shown(*v));
    }
    // A consumer that starts after the end of the run would never poll: certainly a mistake.
    if (const json* v = find(p, "start_at")) {
      cs.start_at = own_duration(*v, join(pointer, "start_at"));
      if (cs.start_at >= spec.duration)
        fail(join(pointer, "start_at"), "a start time before the end of the run (duration " + format_duration(spec.duration) + ")",
             shown(*v));
    }
    if (config_value != nullptr) {
      apply_configs(src, consumer_config_table(), consumer_ignored_prefixes(), "consumer", cs.config);
      check_socket_buffers(src, cs.config.send_buffer_bytes, cs.config.receive_buffer_bytes);
      check_client_rack(src, cs.config.client_rack, spec.racks);
      if (group.empty()) check_auto_commit_without_group(src, cs.config);
    } else if (group.empty()) {
      cs.config.enable_auto_commit = false;
    }
    kafka::validate(cs.config);  // the table's ranges already enforce what this asserts
    warn_poll_interval(p, pointer, group, cs);
    const int32_t partitions = cs.partitions.empty() ? topic_partitions : static_cast<int32_t>(cs.partitions.size());
    // The group's members are assigned partitions entry by entry: those past the partitions get none.
    const auto reading = static_cast<uint32_t>(partitions);
    const uint32_t idle = members_before >= reading ? cs.count : members_before + cs.count > reading
                                                                    ? members_before + cs.count - reading
                                                                    : 0;
    if (idle > 0)
      warn(file_, join(pointer, "count"),
           std::to_string(idle) + " consumers get no partition (" +
               (cs.partitions.empty() ? "the topic has " : "the entry reads ") + std::to_string(partitions) +
               (members_before > 0 ? ", and the group's earlier entries on it have " + std::to_string(members_before) +
                                         " members"
                                   : std::string()) +
               ")");
    x_.consumer_groups.push_back(group);
    cs.group = group;
    spec.consumers.push_back(std::move(cs));
  }

  // A consumer that processes a full poll's records for longer than max.poll.interval.ms (default 300000, and the
  // rebalance timeout; kafka-behaviour.md §5) would send LeaveGroup ("consumer poll timeout has expired") and
  // its group would rebalance after such polls. Group membership is not simulated (the config is ignored), so
  // the run keeps the consumer and its partitions: say so rather than answer silently for a different system.
  void warn_poll_interval(const json& p, const std::string& pointer, const std::string& group, const ConsumerSpec& cs) {
    if (group.empty()) return;  // a consumer without a group has no membership to lose
    int64_t interval_ms = 300'000;
    if (const json* cfg = find(p, "config"); cfg != nullptr && cfg->is_object())
      if (const json* v = find(*cfg, "max.poll.interval.ms"); v != nullptr && v->is_number_integer())
        interval_ms = v->get<int64_t>();
    // In doubles: a long processing time times a large max.poll.records would overflow nanoseconds.
    const double loop_s = cs.processing_time_per_record.seconds_f() * static_cast<double>(cs.config.max_poll_records);
    if (interval_ms <= 0 || loop_s <= static_cast<double>(interval_ms) / 1e3) return;
    char loop_text[32];
    std::snprintf(loop_text, sizeof loop_text, "%.4g s", loop_s);
    warn(file_, join(pointer, "processing_time"),
         std::string("a full poll's records take ") + loop_text + " to process (" +
             format_duration(cs.processing_time_per_record) + " x max.poll.records " +
             std::to_string(cs.config.max_poll_records) + "), longer than max.poll.interval.ms (" +
             std::to_string(interval_ms) + " ms): Kafka would take each consumer of group " + in_quotes(group) +
             " out of the group after such a poll and rebalance; consumer-group membership is not simulated, so "
             "here they keep their partitions (lower max.poll.records or the processing time to stay within it)");
  }

  // ConsumerConfig.maybeOverrideEnableAutoCommit: without a group.id, enable.auto.commit defaults to false, and true
  // given explicitly fails the consumer's construction (InvalidConfigurationException).
  static void check_auto_commit_without_group(const ConfigSource& src, kafka::ConsumerConfig& config) {
    if (src.object == nullptr || src.object->find("enable.auto.commit") == src.object->end()) {
      config.enable_auto_commit = false;
      return;
    }
    if (config.enable_auto_commit)
      throw ConfigError(src.file, join(src.pointer, "enable.auto.commit"),
                        "false for a consumer without a \"group\" (Kafka: \"enable.auto.commit cannot be set to true "
                        "when default group id (null) is used\"; give the entry a group to commit offsets)",
                        shown(src.object->at("enable.auto.commit")));
  }

  // CommonClientConfigs accepts -1 and up, but Java's Socket.setSendBufferSize / setReceiveBufferSize(0) throws,
  // so 0 fails every connection the client opens.
  // client.rack (KIP-392) places the consumer's host in that rack, so it must name one of the cluster's racks.
  static void check_client_rack(const ConfigSource& src, const std::string& rack, uint32_t racks) {
    if (rack.empty() || rack_index(rack, racks).has_value()) return;
    std::vector<std::string> names;
    for (uint32_t r = 0; r < racks; ++r) names.push_back(rack_name(r));
    std::vector<std::string_view> known(names.begin(), names.end());
    std::vector<std::string> quoted;
    for (const auto& n : names) quoted.push_back(in_quotes(n));
    throw ConfigError(src.file, join(src.pointer, "client.rack"),
                      "one of the cluster's racks (/cluster/racks = " + std::to_string(racks) + ": " + listed(quoted) +
                          "), where the consumer's host is then placed, or \"\" for none",
                      in_quotes(rack), closest_name(rack, known));
  }

  static void check_socket_buffers(const ConfigSource& src, int32_t send, int32_t receive) {
    for (const auto& [name, value] : {std::pair<const char*, int32_t>{"send.buffer.bytes", send}, {"receive.buffer.bytes", receive}})
      if (value == 0)
        throw ConfigError(src.file, join(src.pointer, name),
                          "a buffer size in bytes, at least 1, or -1 for the OS's autotuned buffer (0 makes Java's "
                          "Socket.setSendBufferSize / setReceiveBufferSize throw)",
                          "0");
  }

  // KIP-390 levels: a codec at a level the broker CPU profile's codec_levels section does not measure is charged
  // with the figures of the nearest level it does measure (CodecCosts::at_level); say so. `src` is where the
  // config object (or properties file) that sets the level is.
  void check_level_measured(const WorldSpec& spec, kafka::CompressionType codec, int32_t level,
                            const ConfigSource& src) {
    // The brokers' profile, and the clients' when it is another (the clients compress and decompress at its speeds).
    std::vector<std::pair<const CodecCosts*, std::string>> profiles{{&spec.cpu_costs.codecs, cpu_profile_name_}};
    if (spec.client_cpu_costs && client_cpu_profile_name_ != cpu_profile_name_)
      profiles.emplace_back(&spec.client_cpu_costs->codecs, client_cpu_profile_name_);
    for (const auto& [codecs, profile_name] : profiles) {
      const CodecAtLevel used = codecs->at_level(codec, level);
      if (used.exact) continue;
      const std::string name = codec == kafka::CompressionType::gzip  ? "gzip"
                               : codec == kafka::CompressionType::lz4 ? "lz4"
                                                                      : "zstd";
      warn(src.file, join(src.pointer, "compression." + name + ".level"),
           "the CPU profile " + profile_name + " has no " + name + " figures at level " + std::to_string(level) +
               "; those of level " + std::to_string(used.measured_level) +
               (used.measured_level == level ? "" : ", the nearest it measures,") + " are used");
    }
  }

  std::string file_;
  std::filesystem::path base_dir_;
  ScenarioExtras& x_;
  std::string cpu_profile_name_;         // the broker CPU profile, whose codec ratios every host uses
  std::string client_cpu_profile_name_;  // the client CPU profile, if any
};

// Splits an RFC 6901 pointer into unescaped reference tokens.
std::vector<std::string> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> tokens;
  size_t start = 1;
  while (start <= pointer.size()) {  // bounded: each step consumes one '/'
    const size_t slash = std::min(pointer.find('/', start), pointer.size());
    std::string t = pointer.substr(start, slash - start);
    std::string u;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '~' && i + 1 < t.size()) {
        u.push_back(t[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        u.push_back(t[i]);
      }
    }
    tokens.push_back(u);
    start = slash + 1;
  }
  return tokens;
}

template <typename T>
json configs_to_json(const std::vector<ConfigEntry<T>>& table, const T& target) {
  json out = json::object();
  for (const auto& e : table) {
    if (e.spec.type == ConfigType::kIgnored || e.spec.alias) continue;
    out[std::string(e.spec.name)] = config_value_to_json(e.spec, e.get(target));
  }
  return out;
}

}  // namespace

const std::map<std::string, std::vector<std::string>>& scenario_object_keys() { return kObjectKeys; }

nlohmann::json parse_properties(const std::string& text, const std::string& file) {
  json out = json::object();
  std::istringstream in(text);
  std::string line, logical;
  size_t line_number = 0;
  while (std::getline(in, line)) {  // bounded by the text's length
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t b = 0;
    while (b < line.size() && (line[b] == ' ' || line[b] == '\t' || line[b] == '\f')) ++b;
    if (logical.empty() && (b == line.size() || line[b] == '#' || line[b] == '!')) continue;
    logical += line.substr(b);
    // A line ending in an odd number of backslashes continues on the next line.
    size_t backslashes = 0;
    while (backslashes < logical.size() && logical[logical.size() - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) {
      logical.pop_back();
      continue;
    }
    // Key: up to the first unescaped '=', ':' or whitespace; then optional whitespace, one separator, whitespace.
    std::string key, value;
    size_t i = 0;
    for (; i < logical.size(); ++i) {
      const char ch = logical[i];
      if (ch == '\\' && i + 1 < logical.size()) {
        key.push_back(logical[++i]);
        continue;
      }
      if (ch == '=' || ch == ':' || ch == ' ' || ch == '\t') break;
      key.push_back(ch);
    }
    while (i < logical.size() && (logical[i] == ' ' || logical[i] == '\t')) ++i;
    if (i < logical.size() && (logical[i] == '=' || logical[i] == ':')) ++i;
    while (i < logical.size() && (logical[i] == ' ' || logical[i] == '\t')) ++i;
    for (; i < logical.size(); ++i) {
      if (logical[i] == '\\' && i + 1 < logical.size()) {
        const char e = logical[++i];
        value.push_back(e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
      } else {
        value.push_back(logical[i]);
      }
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (key.empty())
      throw ConfigError(file, "", "a key before the value on line " + std::to_string(line_number), in_quotes(logical));
    out[key] = value;  // a later line wins, as in java.util.Properties
    logical.clear();
  }
  return out;
}

nlohmann::json read_properties_file(const std::filesystem::path& path) {
  return parse_properties(read_text_file(path, ".properties file", path.string(), ""), path.string());
}

void apply_set_override(nlohmann::json& doc, const std::string& override_text, const std::string& file) {
  const std::string where = "--set " + override_text;
  const size_t eq = override_text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(file, "", "--set POINTER=VALUE, such as /producers/0/config/linger.ms=10", in_quotes(override_text));
  const std::string pointer = override_text.substr(0, eq);
  const std::string value_text = override_text.substr(eq + 1);
  json::json_pointer ptr;
  try {
    ptr = json::json_pointer(pointer);
  } catch (const json::exception&) {
    throw ConfigError(file, pointer, "an RFC 6901 JSON pointer such as /producers/0/config/acks (" + where + ")",
                      in_quotes(pointer));
  }
  if (ptr.empty()) throw ConfigError(file, pointer, "a pointer below the document root (" + where + ")", in_quotes(pointer));
  json value = json::parse(value_text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = value_text;  // not JSON: a plain string such as all or 5ms

  // Walk to the parent; every token but the last must exist.
  const std::vector<std::string> tokens = pointer_tokens(pointer);
  json* node = &doc;
  std::string prefix;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    json* next = nullptr;
    if (node->is_object()) {
      const auto it = node->find(t);
      if (it != node->end()) next = &*it;
    } else if (node->is_array()) {
      size_t index = 0;
      const bool numeric = !t.empty() && std::all_of(t.begin(), t.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
      if (numeric && (index = std::stoull(t)) < node->size()) next = &(*node)[index];
    }
    if (next == nullptr) {
      std::string suggestion;
      const std::string& child = tokens[i + 1];
      const bool child_is_index =
          child == "-" || (!child.empty() && std::all_of(child.begin(), child.end(), [](char ch) {
            return std::isdigit(static_cast<unsigned char>(ch));
          }));
      if (node->is_object()) {
        std::vector<std::string> keys;
        for (const auto& [k, v] : node->items()) keys.push_back(k);
        std::vector<std::string_view> known(keys.begin(), keys.end());
        const std::string close = closest_name(t, known);
        if (!close.empty()) {
          suggestion = prefix + "/" + pointer_token(close);
          for (size_t j = i + 1; j < tokens.size(); ++j) {
            suggestion.push_back('/');
            suggestion += pointer_token(tokens[j]);
          }
        }
      }
      // A missing object on the way is created, as `mkdir -p` would (`--set /consumers/0/config/max.poll.records=
      // 100` on a consumer without a "config"), unless the name is close to an existing key (a typo: say so) or
      // the next token indexes an array (which would have to be invented). The scenario loader then checks the
      // created key like any other: an unknown one is an error with a suggestion.
      if (node->is_object() && suggestion.empty() && !child_is_index) {
        next = &((*node)[t] = json::object());
      } else {
        throw ConfigError(file, pointer,
                          "a pointer to an existing or addable location (" + where + "): " +
                            (prefix.empty() ? std::string("/") : prefix) + " has no " + in_quotes(t),
                          in_quotes(pointer), suggestion);
      }
    }
    prefix.push_back('/');
    prefix += pointer_token(t);
    node = next;
  }
  const std::string& last = tokens.back();
  if (node->is_object()) {
    (*node)[last] = std::move(value);
    return;
  }
  if (node->is_array()) {
    if (last == "-") {
      node->push_back(std::move(value));
      return;
    }
    const bool numeric = !last.empty() && last.size() < 10 &&
                         std::all_of(last.begin(), last.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
    if (numeric) {
      const size_t index = std::stoull(last);
      if (index < node->size()) {
        (*node)[index] = std::move(value);
        return;
      }
      if (index == node->size()) {
        node->push_back(std::move(value));
        return;
      }
    }
    throw ConfigError(file, pointer,
                      "an array index up to " + std::to_string(node->size()) + " or \"-\" (" + where + ")", in_quotes(last));
  }
  throw ConfigError(file, pointer, "a pointer whose parent is an object or an array (" + where + ")",
                    (prefix.empty() ? std::string("/") : prefix) + " is " + shown(*node));
}

WorldSpec parse_scenario(const nlohmann::json& doc, const std::string& file, ScenarioExtras* extras) {
  ScenarioExtras local;
  Loader loader(file, extras ? *extras : local);
  return loader.parse(doc);
}

WorldSpec load_scenario(const std::filesystem::path& path, const std::vector<std::string>& set_overrides,
                        ScenarioExtras* extras) {
  const std::string file = path.string();
  const std::string text = read_text_file(path, "scenario file", file, "");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw ConfigError(file, "", "valid JSON", std::string("a syntax error (") + e.what() + ")");
  }
  for (const std::string& o : set_overrides) apply_set_override(doc, o, file);
  return parse_scenario(doc, file, extras);
}

nlohmann::json resolved_scenario(const WorldSpec& spec, const ScenarioExtras& extras) {
  KS_ASSERT_EQ(extras.producer_record_sizes.size(), spec.producers.size());
  KS_ASSERT_EQ(extras.producer_keys.size(), spec.producers.size());
  KS_ASSERT_EQ(extras.consumer_groups.size(), spec.consumers.size());
  json out = json::object();
  out["name"] = extras.name;
  out["seed"] = spec.seed;
  out["duration"] = format_duration(spec.duration);
  out["warmup"] = format_duration(spec.warmup);

  const HostHardwareSpec& host = spec.broker_hardware;
  const models::PageCacheParams& pc = host.page_cache;
  out["hardware"] = {
      {"broker",
       {{"disk", extras.broker_disk},
        {"log_dirs", host.log_dirs},
        {"nic", extras.broker_nic},
        {"cpu", extras.broker_cpu},
        {"ram", host.ram_bytes},
        {"jvm_heap", host.jvm_heap_bytes},
        {"other_memory", host.other_memory_bytes},
        {"young_gc", host.young_gc.has_value()},
        {"vm",
         {{"dirty_background_ratio", pc.dirty_background_ratio},
          {"dirty_background_bytes", pc.dirty_background_bytes},
          {"dirty_ratio", pc.dirty_ratio},
          {"dirty_bytes", pc.dirty_bytes},
          {"dirty_expire_centisecs", pc.dirty_expire_centisecs},
          {"dirty_writeback_centisecs", pc.dirty_writeback_centisecs},
          {"read_ahead_kb", pc.read_ahead_kb}}}}},
      {"client", {{"nic", extras.client_nic}}},
      {"uplink", {{"bandwidth", spec.uplink.bandwidth_bytes_per_s}, {"latency", format_duration(spec.uplink.latency)}}}};
  if (!extras.broker_ebs_instance.is_null()) out["hardware"]["broker"]["ebs_instance"] = extras.broker_ebs_instance;
  if (!extras.client_cpu.is_null()) out["hardware"]["client"]["cpu"] = extras.client_cpu;

  BrokerSettings s;
  s.broker = spec.broker_config;
  s.fetcher = spec.fetcher_config;
  s.num_network_threads = spec.num_network_threads;
  s.num_io_threads = spec.num_io_threads;
  s.queued_max_requests = spec.queued_max_requests;
  s.socket_receive_buffer_bytes = spec.socket_receive_buffer_bytes;
  s.socket_send_buffer_bytes = spec.socket_send_buffer_bytes;
  s.replica_socket_receive_buffer_bytes = spec.replica_socket_receive_buffer_bytes;
  s.background_threads = spec.background_threads;
  s.quota_window = spec.quota_window;
  s.leader_replication_throttled_rate = spec.leader_replication_throttled_rate;
  s.follower_replication_throttled_rate = spec.follower_replication_throttled_rate;
  s.replication_quota_window = spec.replication_quota_window;
  s.security_inter_broker_protocol = spec.security_inter_broker_protocol;
  s.log_initial_task_delay = spec.retention_initial_delay;
  s.log_retention_check_interval = spec.retention_check_interval;
  s.log_flush_scheduler_interval_ms = spec.log_flush_scheduler_interval_ms;
  s.replica_high_watermark_checkpoint_interval_ms = spec.replica_high_watermark_checkpoint_interval_ms;
  s.log_flush_offset_checkpoint_interval_ms = spec.log_flush_offset_checkpoint_interval_ms;
  s.log_flush_start_offset_checkpoint_interval_ms = spec.log_flush_start_offset_checkpoint_interval_ms;
  s.log_defaults = extras.broker_log_defaults;
  s.default_replication_factor = extras.default_replication_factor;
  s.num_partitions = extras.num_partitions;
  s.offsets_topic_num_partitions = spec.offsets_topic_partitions;
  s.offsets_topic_replication_factor = spec.offsets_topic_replication_factor;
  s.group_coordinator_append_linger = spec.group_coordinator_append_linger;
  s.offsets_commit_timeout = spec.offsets_commit_timeout;
  s.offsets_topic_segment_bytes = spec.offsets_topic_config.log.segment_bytes;
  out["cluster"] = {{"brokers", spec.brokers}, {"racks", spec.racks}, {"config", configs_to_json(broker_config_table(), s)}};
  if (!spec.client_quotas.empty()) {
    json quotas = json::array();
    for (const ClientQuotaSpec& q : spec.client_quotas) {
      json entry = {{"client-id", q.client_id.value_or("<default>")}};
      if (q.producer_byte_rate) entry["producer_byte_rate"] = static_cast<int64_t>(*q.producer_byte_rate);
      if (q.consumer_byte_rate) entry["consumer_byte_rate"] = static_cast<int64_t>(*q.consumer_byte_rate);
      if (q.request_percentage) entry["request_percentage"] = *q.request_percentage;
      quotas.push_back(std::move(entry));
    }
    out["cluster"]["quotas"] = std::move(quotas);
  }

  json topics = json::array();
  for (const TopicSpec& t : spec.topics) {
    json cfg = configs_to_json(topic_config_table(), t.config);
    // No topic override means the broker's value, which is what the topic effectively has.
    cfg["min.insync.replicas"] = t.config.min_insync_replicas.value_or(spec.broker_config.min_insync_replicas);
    topics.push_back({{"name", t.name}, {"partitions", t.partitions}, {"replication.factor", t.replication_factor}, {"config", cfg}});
  }
  out["topics"] = topics;

  json producers = json::array();
  for (size_t i = 0; i < spec.producers.size(); ++i) {
    const ProducerSpec& p = spec.producers[i];
    KS_ASSERT_LT(static_cast<size_t>(p.topic), spec.topics.size());
    json w = json::object();
    if (p.closed_loop_threads > 0) {
      w["closed_loop"] = {{"threads", p.closed_loop_threads}};
    } else {
      w["rate"] = p.records_per_s;
      w["arrival"] = p.arrival == ArrivalProcess::Kind::kPoisson       ? "poisson"
                     : p.arrival == ArrivalProcess::Kind::kUnthrottled ? "unthrottled"
                                                                        : "constant";
    }
    w["record_size"] = extras.producer_record_sizes[i];
    w["keys"] = extras.producer_keys[i];
    w["timestamp_offset"] = format_duration(p.timestamp_offset);
    producers.push_back({{"topic", spec.topics[static_cast<size_t>(p.topic)].name},
                         {"count", p.count},
                         {"workload", w},
                         {"config", configs_to_json(producer_config_table(), p.config)}});
  }
  out["producers"] = producers;

  json consumers = json::array();
  for (size_t i = 0; i < spec.consumers.size(); ++i) {
    const ConsumerSpec& c = spec.consumers[i];
    KS_ASSERT_LT(static_cast<size_t>(c.topic), spec.topics.size());
    json entry = {{"topic", spec.topics[static_cast<size_t>(c.topic)].name},
                         {"count", c.count},
                         {"processing_time", format_duration(c.processing_time_per_record)},
                         {"commit", c.commit == CommitAfterPoll::kAsync  ? "async"
                                    : c.commit == CommitAfterPoll::kSync ? "sync"
                                                                         : "none"},
                         {"start_at", format_duration(c.start_at)},
                         {"config", configs_to_json(consumer_config_table(), c.config)}};
    if (!extras.consumer_groups[i].empty()) entry["group"] = extras.consumer_groups[i];
    if (!c.partitions.empty()) entry["partitions"] = c.partitions;
    consumers.push_back(std::move(entry));
  }
  out["consumers"] = consumers;
  json faults = json::array();
  for (const FaultSpec& f : spec.faults) {
    const std::string host = f.host < spec.brokers ? "broker-" + std::to_string(f.host)
                                                   : "client-" + std::to_string(f.host - spec.brokers);
    json entry = {{"type", std::string(to_string(f.kind))}, {"host", host}, {"at", format_duration(f.at)}};
    if (f.duration) entry["duration"] = format_duration(*f.duration);
    switch (f.kind) {
      case FaultKind::slow_disk:
        entry["latency_multiplier"] = f.latency_multiplier;
        entry["bandwidth_multiplier"] = f.bandwidth_multiplier;
        [[fallthrough]];
      case FaultKind::stalled_disk:
        if (f.disk) entry["disk"] = *f.disk;
        break;
      case FaultKind::slow_cpu: entry["speed"] = f.speed; break;
      case FaultKind::pause: break;
      case FaultKind::drop_caches: break;
      case FaultKind::consumer_restart:
        if (f.consumer_config) entry["config"] = f.config_given;
        if (f.processing_time) entry["processing_time"] = format_duration(*f.processing_time);
        break;
      case FaultKind::producer_restart:
        if (f.producer_config) entry["config"] = f.config_given;
        break;
      case FaultKind::memory_pressure: entry["bytes"] = f.bytes; break;
      case FaultKind::slow_network:
        entry["bandwidth_multiplier"] = f.bandwidth_multiplier;
        entry["extra_latency"] = format_duration(f.extra_latency);
        entry["jitter"] = format_duration(f.jitter);
        entry["loss"] = f.loss;
        break;
    }
    faults.push_back(std::move(entry));
  }
  out["faults"] = std::move(faults);
  if (!spec.config_alters.empty() || !spec.delete_records.empty()) {
    json ops = json::array();
    for (const ConfigAlterSpec& op : spec.config_alters) ops.push_back(op.given);
    for (const DeleteRecordsSpec& op : spec.delete_records) ops.push_back(op.given);
    out["operations"] = std::move(ops);
  }
  return out;
}

}  // namespace kafkasim::cluster
