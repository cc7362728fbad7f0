#include "kafkasim/kafka/broker/replication_quota.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// A non-empty run of ASCII digits that fits an int32.
bool parse_id(std::string_view text, int32_t& out) {
  if (text.empty() || text.size() > 10) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > std::numeric_limits<int32_t>::max()) return false;
  out = static_cast<int32_t>(v);
  return true;
}

}  // namespace

std::vector<int32_t> ThrottledReplicas::partitions_for(NodeId broker) const {
  std::vector<int32_t> out;
  for (const auto& [partition, replica] : entries)
    if (replica == broker) out.push_back(partition);
  return out;
}

std::pair<ThrottledReplicas, std::string> parse_throttled_replicas(const std::vector<std::string>& items) {
  ThrottledReplicas out;
  std::string joined;
  for (const std::string& item : items) joined += item;
  if (joined == "*") {
    out.all = true;
    return {out, {}};
  }
  for (const std::string& item : items) {
    if (item.empty()) continue;
    const std::size_t colon = item.find(':');
    int32_t partition = 0;
    int32_t broker = 0;
    if (colon == std::string::npos || !parse_id(std::string_view(item).substr(0, colon), partition) ||
        !parse_id(std::string_view(item).substr(colon + 1), broker)) {
      return {ThrottledReplicas{},
              "the literal '*' or a list of replicas in the format [partitionId]:[brokerId],[partitionId]:[brokerId],"
              "... (\"" + item + "\" is neither)"};
    }
    out.entries.emplace_back(partition, broker);
  }
  return {out, {}};
}

std::string throttled_replicas_text(const ThrottledReplicas& replicas) {
  if (replicas.all) return "*";
  std::string out;
  for (const auto& [partition, broker] : replicas.entries) {
    if (!out.empty()) out += ',';
    out += std::to_string(partition) + ":" + std::to_string(broker);
  }
  return out;
}

ReplicationQuotaManager::ReplicationQuotaManager(QuotaWindowConfig config, int64_t bytes_per_second)
    : rate_(config, RateWindow::simple), bound_(bytes_per_second) {
  KS_ASSERT_GE(bytes_per_second, 0);
}

void ReplicationQuotaManager::mark_throttled(int32_t topic, const ThrottledReplicas& replicas, NodeId this_broker) {
  KS_ASSERT_GE(topic, 0);
  auto it = std::lower_bound(topics_.begin(), topics_.end(), topic,
                             [](const auto& entry, int32_t t) { return entry.first < t; });
  TopicThrottle throttle;
  throttle.all = replicas.all;
  if (!replicas.all) {
    throttle.partitions = replicas.partitions_for(this_broker);
    std::sort(throttle.partitions.begin(), throttle.partitions.end());
  }
  const bool none = !throttle.all && throttle.partitions.empty();
  if (it != topics_.end() && it->first == topic) {
    if (none) {
      topics_.erase(it);  // removeThrottle
    } else {
      it->second = std::move(throttle);
    }
    return;
  }
  if (!none) topics_.insert(it, {topic, std::move(throttle)});
}

bool ReplicationQuotaManager::is_throttled(PartitionRef partition) const {
  const auto it = std::lower_bound(topics_.begin(), topics_.end(), partition.topic,
                                   [](const auto& entry, int32_t t) { return entry.first < t; });
  if (it == topics_.end() || it->first != partition.topic) return false;
  return it->second.all ||
         std::binary_search(it->second.partitions.begin(), it->second.partitions.end(), partition.partition);
}

bool ReplicationQuotaManager::is_quota_exceeded(int64_t now_ms) {
  // Sensor.checkQuotas: Quota.acceptable is value <= bound.
  return rate_.measure(now_ms) > static_cast<double>(bound_);
}

void ReplicationQuotaManager::record(int64_t bytes, int64_t now_ms) {
  KS_ASSERT_GE(bytes, 0);
  rate_.record(static_cast<double>(bytes), now_ms);
  if (now_ms >= count_from_ms_) recorded_bytes_ += bytes;
}

}  // namespace kafkasim::kafka
