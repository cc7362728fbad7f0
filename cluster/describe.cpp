#include "kafkasim/cluster/describe.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "kafkasim/cluster/kafka_configs.hpp"
#include "kafkasim/kafka/java_hash.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

namespace {

using kafka::PartitionRef;

constexpr const char* kMissing = "-";  // ConsumerGroupCommand.MISSING_COLUMN_VALUE

// SplitMix64: a stateless mixer, enough to derive stable identifiers from names.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t hash_text(uint64_t seed, const std::string& text) {
  uint64_t h = mix(seed);
  for (char c : text) h = mix(h ^ static_cast<uint8_t>(c));
  return h;
}

// 16 bytes from (seed, name), as a version-4 UUID's bit layout.
std::array<uint8_t, 16> uuid_bytes(uint64_t seed, const std::string& name) {
  const uint64_t hi = hash_text(seed, name), lo = mix(hi ^ 0x5555555555555555ULL);
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return b;
}

// Kafka's Uuid.toString(): URL-safe base64 of the 16 bytes without padding (22 characters).
std::string kafka_uuid(uint64_t seed, const std::string& name) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const auto b = uuid_bytes(seed, name);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

// java.util.UUID.toString(): 8-4-4-4-12 hex digits.
std::string java_uuid(uint64_t seed, const std::string& name) {
  const auto b = uuid_bytes(seed, name);
  std::string out;
  char hex[3];
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    std::snprintf(hex, sizeof hex, "%02x", b[i]);
    out += hex;
  }
  return out;
}

std::string joined_ids(const std::vector<kafka::NodeId>& ids) {
  std::string out;
  for (kafka::NodeId id : ids) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(id);
  }
  return out;
}

// How the tool prints a config value: strings bare, numbers and booleans as written.
std::string config_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

nlohmann::json kafka_default_json(const ConfigSpec& spec) {
  if (spec.type == ConfigType::kString || spec.type == ConfigType::kList) return std::string(spec.kafka_default);
  return nlohmann::json::parse(spec.kafka_default, nullptr, /*allow_exceptions=*/false);
}

// The configs kafka-topics.sh lists (TopicCommand: every entry whose source is not DEFAULT_CONFIG), sorted by name:
// the topic's own overrides whatever their value, and the configs a broker setting changed from Kafka's default.
std::string non_default_configs(const TopicSpec& topic, const WorldSpec& spec) {
  std::map<std::string, std::string> shown;
  for (const auto& entry : topic_config_table()) {
    if (entry.spec.type == ConfigType::kIgnored || entry.spec.alias) continue;
    const std::string name(entry.spec.name);
    nlohmann::json value = config_value_to_json(entry.spec, entry.get(topic.config));
    // No topic override means the broker's min.insync.replicas, which the tool shows as a broker config.
    if (name == "min.insync.replicas") value = topic.config.min_insync_replicas.value_or(spec.broker_config.min_insync_replicas);
    const bool overridden = std::find(topic.overrides.begin(), topic.overrides.end(), name) != topic.overrides.end();
    if (overridden || value != kafka_default_json(entry.spec)) shown[name] = config_text(value);
  }
  std::string out;
  for (const auto& [name, value] : shown) {
    if (!out.empty()) out.push_back(',');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string padded(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

struct GroupRow {
  std::string topic = kMissing, partition = kMissing, current = kMissing, log_end = kMissing, lag = kMissing;
  std::string consumer_id = kMissing, host = kMissing, client_id = kMissing;
};

}  // namespace

std::string describe_topics(const World& world) {
  const WorldSpec& spec = world.spec();
  std::vector<size_t> order(spec.topics.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // TopicService.getTopics lists topics sorted by name.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spec.topics[a].name < spec.topics[b].name; });
  std::ostringstream out;
  for (size_t t : order) {
    const TopicSpec& topic = spec.topics[t];
    out << "Topic: " << topic.name << "\tTopicId: " << kafka_uuid(spec.seed, "topic/" + topic.name)
        << "\tPartitionCount: " << topic.partitions << "\tReplicationFactor: " << topic.replication_factor
        << "\tConfigs: " << non_default_configs(topic, spec) << "\n";
    for (int32_t p = 0; p < topic.partitions; ++p) {
      const PartitionRef ref{static_cast<int32_t>(t), p};
      const kafka::Partition* leader = world.leader_partition(ref);
      out << "\tTopic: " << topic.name << "\tPartition: " << p;
      if (leader == nullptr) {
        out << "\tLeader: none\tReplicas: \tIsr: ";
      } else {
        out << "\tLeader: " << leader->leader_id() << "\tReplicas: " << joined_ids(leader->replicas())
            << "\tIsr: " << joined_ids(leader->isr());
      }
      out << "\tElr: \tLastKnownElr: \n";
    }
  }
  return out.str();
}

std::string describe_offsets(const World& world, bool earliest) {
  const WorldSpec& spec = world.spec();
  std::vector<size_t> order;  // --exclude-internal-topics: not __consumer_offsets
  for (size_t i = 0; i < spec.topics.size(); ++i)
    if (static_cast<int32_t>(i) != world.offsets_topic()) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spec.topics[a].name < spec.topics[b].name; });
  std::ostringstream out;
  for (size_t t : order) {
    for (int32_t p = 0; p < spec.topics[t].partitions; ++p) {
      const kafka::Partition* leader = world.leader_partition(PartitionRef{static_cast<int32_t>(t), p});
      if (leader == nullptr) continue;
      out << spec.topics[t].name << ':' << p << ':'
          << (earliest ? leader->log_start_offset() : leader->high_watermark()) << '\n';
    }
  }
  return out.str();
}

std::string describe_consumer_groups(const World& world, const std::vector<std::string>& groups) {
  const WorldSpec& spec = world.spec();
  KS_ASSERT_EQ(groups.size(), spec.consumers.size());
  // Members by group name (TreeMap in the tool: groups sorted by name), in node-id order.
  // Consumers without a group (assign() without group.id) are in no group the tool could list.
  std::map<std::string, std::vector<World::ConsumerView>> members;
  for (const std::string& g : groups)
    if (!g.empty()) members[g];
  for (auto& view : world.consumers())
    if (!groups[view.spec_index].empty()) members[groups[view.spec_index]].push_back(view);

  std::ostringstream out;
  for (const auto& [group, views] : members) {
    // Entries with their own `partitions` stand for assign() with the group's id: such consumers are no members of
    // it (they only commit to it), and the tool shows their committed partitions without a consumer
    // (collectGroupsOffsets: the committed offsets of partitions no member has).
    std::vector<const World::ConsumerView*> started, assigning;
    for (const auto& v : views) {
      if (!v.started) continue;
      (spec.consumers[v.spec_index].partitions.empty() ? started : assigning).push_back(&v);
    }
    std::vector<GroupRow> without_member;
    for (const World::ConsumerView* v : assigning) {
      for (const PartitionRef& ref : v->assignment) {
        const std::optional<int64_t> committed = v->consumer->committed(ref);
        if (!committed) continue;
        GroupRow row;
        row.topic = spec.topics[static_cast<size_t>(ref.topic)].name;
        row.partition = std::to_string(ref.partition);
        row.current = std::to_string(*committed);
        if (const kafka::Partition* leader = world.leader_partition(ref)) {
          row.log_end = std::to_string(leader->high_watermark());
          row.lag = std::to_string(leader->high_watermark() - *committed);
        }
        row.consumer_id = row.host = row.client_id = kMissing;
        without_member.push_back(std::move(row));
      }
    }
    // describePartitions sorts them by topic, then partition.
    std::sort(without_member.begin(), without_member.end(), [](const GroupRow& a, const GroupRow& b) {
      return a.topic != b.topic ? a.topic < b.topic : std::stoi(a.partition) < std::stoi(b.partition);
    });
    if (started.empty() && without_member.empty()) {
      // Never joined, nothing committed: the coordinator does not know the group (state DEAD).
      out << "\nError: Consumer group '" << group << "' does not exist.\n";
      continue;
    }
    // Offsets but no member: the group is EMPTY (the tool prints this line to stderr).
    if (started.empty()) out << "\nConsumer group '" << group << "' has no active members.\n";
    // Members with more partitions first (a stable sort keeps node-id order among equals); members without
    // partitions are not listed.
    std::stable_sort(started.begin(), started.end(), [](const auto* a, const auto* b) {
      return a->assignment.size() > b->assignment.size();
    });
    std::vector<GroupRow> rows;
    for (const World::ConsumerView* v : started) {
      if (v->assignment.empty()) continue;
      // The k-th consumer of the group (1-based, in node-id order); its member id is its client.id and a UUID
      // (AbstractCoordinator: clientId + "-" + UUID). The client.id is the one the run uses: the configured one, else
      // Kafka's generated consumer-<group>-1 (each consumer is its own process, so each is its JVM's first).
      size_t k = 1;
      for (const auto& other : views) {
        if (other.node == v->node) break;
        ++k;
      }
      const std::string client_id = consumer_client_id(spec.consumers[v->spec_index]);
      const std::string consumer_id = client_id + "-" + java_uuid(spec.seed, "member/" + group + "/" + std::to_string(k));
      const std::string host = "/client-" + std::to_string(v->node - static_cast<kafka::NodeId>(spec.brokers));
      std::vector<PartitionRef> parts = v->assignment;
      std::sort(parts.begin(), parts.end(), [&](const PartitionRef& a, const PartitionRef& b) {
        const std::string& ta = spec.topics[static_cast<size_t>(a.topic)].name;
        const std::string& tb = spec.topics[static_cast<size_t>(b.topic)].name;
        return ta != tb ? ta < tb : a.partition < b.partition;
      });
      for (const PartitionRef& ref : parts) {
        GroupRow row;
        row.topic = spec.topics[static_cast<size_t>(ref.topic)].name;
        row.partition = std::to_string(ref.partition);
        const kafka::Partition* leader = world.leader_partition(ref);
        const std::optional<int64_t> committed = v->consumer->committed(ref);
        if (committed) row.current = std::to_string(*committed);
        if (leader != nullptr) row.log_end = std::to_string(leader->high_watermark());
        if (committed && leader != nullptr) row.lag = std::to_string(leader->high_watermark() - *committed);
        row.consumer_id = consumer_id;
        row.host = host;
        row.client_id = client_id;
        rows.push_back(std::move(row));
      }
    }
    for (GroupRow& row : without_member) rows.push_back(std::move(row));
    size_t group_w = std::max<size_t>(15, group.size()), topic_w = 15, id_w = 15, host_w = 15;
    for (const GroupRow& r : rows) {
      topic_w = std::max(topic_w, r.topic.size());
      id_w = std::max(id_w, r.consumer_id.size());
      host_w = std::max(host_w, r.host.size());
    }
    auto line = [&](const std::string& g, const GroupRow& r) {
      out << "\n" << padded(g, group_w) << ' ' << padded(r.topic, topic_w) << ' ' << padded(r.partition, 10) << ' '
          << padded(r.current, 15) << ' ' << padded(r.log_end, 15) << ' ' << padded(r.lag, 15) << ' '
          << padded(r.consumer_id, id_w) << ' ' << padded(r.host, host_w) << ' ' << r.client_id;
    };
    GroupRow header{"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"};
    line("GROUP", header);
    for (const GroupRow& r : rows) line(group, r);
    out << "\n";
  }
  return out.str();
}

std::string describe_broker_configs(const World& world) {
  const WorldSpec& spec = world.spec();
  std::ostringstream out;
  const auto kafka_default = [](const std::string& name) -> std::optional<std::string> {
    for (const auto& e : broker_config_table())
      if (e.spec.name == name && !e.spec.kafka_default.empty() && e.spec.kafka_default != "null")
        return std::string(e.spec.kafka_default);
    return std::nullopt;
  };
  const auto entry = [&](const std::string& name, const std::string& value,
                         const std::vector<std::pair<const char*, std::optional<std::string>>>& synonyms) {
    out << "  " << name << "=" << value << " sensitive=false synonyms={";
    bool first = true;
    for (const auto& [source, v] : synonyms) {
      if (!v) continue;
      out << (first ? "" : ", ") << source << ":" << name << "=" << *v;
      first = false;
    }
    out << "}\n";
  };
  const auto find = [](const std::map<std::string, std::string>& m, const std::string& name) -> std::optional<std::string> {
    const auto it = m.find(name);
    return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const std::map<std::string, std::string>& defaults = world.dynamic_default_broker_configs();
  for (uint32_t b = 0; b < spec.brokers; ++b) {
    out << "Dynamic configs for broker " << b << " are:\n";
    for (const auto& [name, value] : world.dynamic_broker_configs(b))
      entry(name, value,
            {{"DYNAMIC_BROKER_CONFIG", value},
             {"DYNAMIC_DEFAULT_BROKER_CONFIG", find(defaults, name)},
             {"STATIC_BROKER_CONFIG", find(spec.static_broker_configs, name)},
             {"DEFAULT_CONFIG", kafka_default(name)}});
  }
  out << "Default configs for brokers in the cluster are:\n";
  for (const auto& [name, value] : defaults) entry(name, value, {{"DYNAMIC_DEFAULT_BROKER_CONFIG", value}});
  return out.str();
}

namespace {

// A JSON object as Jackson writes a java.util.HashMap: its entries in the HashMap's iteration order (the keys put in
// the order given), no spaces. Values are already JSON text.
std::string java_hash_map_json(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<int32_t> hashes;
  for (const auto& [key, value] : entries) hashes.push_back(kafka::java_string_hash_code(key));
  std::string out = "{";
  for (size_t i : kafka::java_hash_map_order(hashes))
    out += (out.size() > 1 ? ",\"" : "\"") + entries[i].first + "\":" + entries[i].second;
  return out + "}";
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + items[i];
  return out + "]";
}

}  // namespace

std::string describe_log_dirs(const World& world) {
  const WorldSpec& spec = world.spec();
  std::vector<std::string> brokers;
  std::string ids;
  for (uint32_t b = 0; b < spec.brokers; ++b) {
    const std::vector<std::vector<PartitionRef>> dirs = world.log_dir_partitions(b);
    std::vector<std::string> paths;
    for (size_t d = 0; d < dirs.size(); ++d)
      paths.push_back(dirs.size() == 1 ? "/tmp/kafka-logs" : "/tmp/kafka-logs-" + std::to_string(d));
    // The admin client's map of each broker's dirs by path (a HashMap), and each dir's replicas by TopicPartition
    // (Collectors.toMap: a HashMap, TopicPartition.hashCode = 31 * (31 + partition) + topic.hashCode()).
    std::vector<int32_t> path_hashes;
    for (const std::string& path : paths) path_hashes.push_back(kafka::java_string_hash_code(path));
    std::vector<std::string> log_dirs;
    for (size_t d : kafka::java_hash_map_order(path_hashes)) {
      std::vector<PartitionRef> replicas = dirs[d];
      // Insertion order only matters within a bucket; taken as topic name then partition [A].
      std::sort(replicas.begin(), replicas.end(), [&](const PartitionRef& x, const PartitionRef& y) {
        const std::string& tx = spec.topics[static_cast<size_t>(x.topic)].name;
        const std::string& ty = spec.topics[static_cast<size_t>(y.topic)].name;
        return tx != ty ? tx < ty : x.partition < y.partition;
      });
      std::vector<int32_t> hashes;
      for (const PartitionRef& ref : replicas) {
        const int32_t topic_hash = kafka::java_string_hash_code(spec.topics[static_cast<size_t>(ref.topic)].name);
        hashes.push_back(static_cast<int32_t>(31u * (31u + static_cast<uint32_t>(ref.partition)) +
                                              static_cast<uint32_t>(topic_hash)));
      }
      std::vector<std::string> partitions;
      for (size_t i : kafka::java_hash_map_order(hashes)) {
        const PartitionRef& ref = replicas[i];
        const kafka::Partition* replica = world.partition(b, ref);
        KS_ASSERT(replica != nullptr);
        // ReplicaManager.getLogEndOffsetLag for a current (not future) log: max(its high watermark - its log end
        // offset, 0).
        const int64_t lag = std::max<int64_t>(replica->high_watermark() - replica->log_end_offset(), 0);
        const std::string name = spec.topics[static_cast<size_t>(ref.topic)].name + "-" + std::to_string(ref.partition);
        partitions.push_back(java_hash_map_json(
            {{"partition", "\"" + name + "\""},
             {"size", std::to_string(replica->log().size_bytes())},
             {"offsetLag", std::to_string(lag)},
             {"isFuture", "false"}}));
      }
      log_dirs.push_back(java_hash_map_json(
          {{"logDir", "\"" + paths[d] + "\""}, {"error", "null"}, {"partitions", json_list(partitions)}}));
    }
    brokers.push_back(java_hash_map_json({{"broker", std::to_string(b)}, {"logDirs", json_list(log_dirs)}}));
    ids += (b > 0 ? "," : "") + std::to_string(b);
  }
  // The brokers' map is keyed by id (Integer.hashCode is the id: ascending for any cluster size).
  return "Querying brokers for log directories information\nReceived log directory information from brokers " + ids +
         "\n" + java_hash_map_json({{"version", "1"}, {"brokers", json_list(brokers)}}) + "\n";
}

}  // namespace kafkasim::cluster
