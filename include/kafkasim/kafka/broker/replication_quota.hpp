// Replication throttling on one broker (kafka-behaviour-2.md §11.1–§11.2; core/.../server/
// ReplicationQuotaManager.scala, ReplicaManager.shouldLeaderThrottle, RemoteLeaderEndPoint.shouldFollowerThrottle,
// TopicConfigHandler).
//
// A broker has two quota managers: the leader one (bytes its leaders send to followers, bounded by
// leader.replication.throttled.rate) and the follower one (bytes its fetchers receive, bounded by
// follower.replication.throttled.rate). Each holds one SimpleRate sensor shared by every throttled partition, and
// the partitions it throttles: from the topic configs leader.replication.throttled.replicas and
// follower.replication.throttled.replicas, "*" (every partition of the topic) or the partitions of the
// "partition:broker" entries that name this broker.
//
// How the managers are used (the callers do it, §11.2): the quota is checked before reading or requesting and
// recorded after, so one fetch may overshoot it by a response; replicas in the ISR (leader side) or without lag
// (follower side) are never held back, but their bytes count.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kafkasim/kafka/broker/client_quota.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

// A topic's leader.replication.throttled.replicas or follower.replication.throttled.replicas, parsed (empty by
// default: no replica throttled).
struct ThrottledReplicas {
  bool all = false;  // "*"
  std::vector<std::pair<int32_t, NodeId>> entries;  // "partition:broker", in the config's order

  bool empty() const { return !all && entries.empty(); }
  // TopicConfigHandler.parseThrottledPartitions for `broker`: the partitions of the entries that name it.
  std::vector<int32_t> partitions_for(NodeId broker) const;
  constexpr bool operator==(const ThrottledReplicas&) const = default;
};

// ThrottledReplicaListValidator: the literal "*" alone, or entries "[partitionId]:[brokerId]" (empty entries are
// allowed, as its pattern "([0-9]+:[0-9]+)?" is). On success the parsed list and an empty string; otherwise
// what was expected.
std::pair<ThrottledReplicas, std::string> parse_throttled_replicas(const std::vector<std::string>& items);
// The config's text for `replicas` ("" when empty, "*", or "0:1,1:2").
std::string throttled_replicas_text(const ThrottledReplicas& replicas);

// Long.MAX_VALUE, the default of leader/follower.replication.throttled.rate: no bound.
inline constexpr int64_t unlimited_replication_rate = std::numeric_limits<int64_t>::max();

class ReplicationQuotaManager {
 public:
  // `bytes_per_second`: the rate config; `config`: replication.quota.window.num / .size.seconds.
  ReplicationQuotaManager(QuotaWindowConfig config, int64_t bytes_per_second);

  // markThrottled(topic) for "*", markThrottled(topic, partitions) otherwise; an empty list removes the throttle.
  void mark_throttled(int32_t topic, const ThrottledReplicas& replicas, NodeId this_broker);
  bool is_throttled(PartitionRef partition) const;
  // isQuotaExceeded: the sensor's rate now is above the bound (never with the default, unlimited rate).
  bool is_quota_exceeded(int64_t now_ms);
  // record: adds `bytes` to the rate without a quota check.
  void record(int64_t bytes, int64_t now_ms);

  int64_t upper_bound() const { return bound_; }
  // updateQuota (a dynamic leader/follower.replication.throttled.rate): the new bound, the sensor's samples kept.
  void update_quota(int64_t bytes_per_second) {
    KS_ASSERT_GE(bytes_per_second, 0);
    bound_ = bytes_per_second;
  }
  bool any_throttled() const { return !topics_.empty(); }
  // Totals for the summary, of what happens from `from_ms` on (0 by default: the whole run).
  void count_from(int64_t from_ms) { count_from_ms_ = from_ms; }
  int64_t recorded_bytes() const { return recorded_bytes_; }
  // Partitions held back: a leader's fetch partitions answered without records, a follower's left out of a fetch.
  int64_t held_back() const { return held_back_; }
  void count_held_back(int64_t now_ms) {
    if (now_ms >= count_from_ms_) ++held_back_;
  }

 private:
  struct TopicThrottle {
    bool all = false;
    std::vector<int32_t> partitions;  // sorted
  };
  QuotaRate rate_;
  int64_t bound_;
  std::vector<std::pair<int32_t, TopicThrottle>> topics_;  // by topic index, sorted
  int64_t count_from_ms_ = 0;
  int64_t recorded_bytes_ = 0;
  int64_t held_back_ = 0;
};

// QuotaFactory.QuotaManagers' replication part on one broker.
struct ReplicationQuotas {
  ReplicationQuotas(QuotaWindowConfig config, int64_t leader_rate, int64_t follower_rate)
      : leader(config, leader_rate), follower(config, follower_rate) {}
  ReplicationQuotaManager leader;
  ReplicationQuotaManager follower;
};

}  // namespace kafkasim::kafka
