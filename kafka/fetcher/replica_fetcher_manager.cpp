// ReplicaFetcherManager / AbstractFetcherManager (core/src/main/scala/kafka/server/AbstractFetcherManager.scala):
// groups follower partitions into ReplicaFetchers keyed by (leader broker id, fetcher id).
#include "kafkasim/kafka/fetcher/replica_fetcher.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

ReplicaFetcherManager::ReplicaFetcherManager(const ReplicaFetcherConfig& config, NodeId local_broker_id)
    : config_(config), local_broker_id_(local_broker_id) {
  config_.validate();
  KS_ASSERT_GE(local_broker_id, 0);
}

void ReplicaFetcherManager::add_fetcher_for_partitions(std::span<const PartitionToFetch> partitions,
                                                       sim::SimTime now) {
  // groupBy (leader, getFetcherId), then addPartitions per fetcher; a std::map keeps the grouping ordered.
  std::map<FetcherKey, std::vector<InitialFetchState>> grouped;
  for (const PartitionToFetch& p : partitions) {
    const FetcherKey key{p.source_broker_id,
                         fetcher_id_for(p.topic_name, p.initial.partition.partition, config_.num_replica_fetchers)};
    const std::optional<FetcherKey> current = fetcher_of(p.initial.partition);
    KS_ASSERT(!current || *current == key);
    grouped[key].push_back(p.initial);
  }
  for (auto& [key, initial_states] : grouped) {
    auto it = fetchers_.find(key);
    if (it == fetchers_.end()) {
      // The n-th fetcher under a key numbers its requests from n * 2^40 + 1: far beyond any run's requests.
      const uint64_t incarnation = started_[key]++;
      it = fetchers_
               .emplace(key, ReplicaFetcher(config_, local_broker_id_, key.source_broker_id, key.fetcher_id,
                                            (incarnation << 40) + 1))
               .first;
      it->second.set_quota(follower_quota_);
    }
    it->second.add_partitions(initial_states, now);
  }
}

int32_t ReplicaFetcherManager::remove_fetcher_for_partitions(std::span<const PartitionRef> partitions) {
  int32_t removed = 0;
  for (auto& [key, fetcher] : fetchers_) removed += fetcher.remove_partitions(partitions);
  KS_ASSERT_LE(removed, static_cast<int32_t>(partitions.size()));
  return removed;
}

int32_t ReplicaFetcherManager::shutdown_idle_fetcher_threads() {
  int32_t dropped = 0;
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (it->second.partition_count() == 0) {
      it = fetchers_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

int32_t ReplicaFetcherManager::resize_thread_pool(int32_t new_size, std::span<const PartitionToFetch> partitions,
                                                  sim::SimTime now) {
  KS_ASSERT_GE(new_size, 1);
  if (new_size == config_.num_replica_fetchers) {
    shutdown_idle_fetcher_threads();
    return 0;
  }
  std::map<PartitionRef, FetcherKey> before;
  for (auto& [key, fetcher] : fetchers_) {
    const std::vector<PartitionRef> held = fetcher.partitions_in_order();
    for (const PartitionRef& p : held) before.emplace(p, key);
    fetcher.remove_partitions(held);
  }
  KS_ASSERT_EQ(before.size(), partitions.size());  // the caller re-adds exactly the partitions followed
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (it->first.fetcher_id >= new_size) it = fetchers_.erase(it);
    else ++it;
  }
  config_.num_replica_fetchers = new_size;
  add_fetcher_for_partitions(partitions, now);
  shutdown_idle_fetcher_threads();
  int32_t moved = 0;
  for (const PartitionToFetch& p : partitions) {
    const auto was = before.find(p.initial.partition);
    KS_ASSERT(was != before.end());
    if (fetcher_of(p.initial.partition) != was->second) ++moved;
  }
  return moved;
}

void ReplicaFetcherManager::poll(sim::SimTime now, FetcherOutbox& out) {
  for (auto& [key, fetcher] : fetchers_) {
    if (fetcher.next_wakeup() <= now) fetcher.poll(now, out);
  }
}

sim::SimTime ReplicaFetcherManager::next_wakeup() const {
  sim::SimTime earliest = sim::SimTime::max();
  for (const auto& [key, fetcher] : fetchers_) earliest = sim::min(earliest, fetcher.next_wakeup());
  return earliest;
}

ResponseDisposition ReplicaFetcherManager::on_fetch_response(FetcherKey key, const FetchResponse& response,
                                                             sim::SimTime now, FetcherOutbox& out) {
  auto it = fetchers_.find(key);
  if (it == fetchers_.end()) return ResponseDisposition::ignored_stale;
  return it->second.on_fetch_response(response, now, out);
}

ResponseDisposition ReplicaFetcherManager::on_leader_offsets_response(FetcherKey key,
                                                                      const LeaderOffsetsResponse& response,
                                                                      sim::SimTime now, FetcherOutbox& out) {
  auto it = fetchers_.find(key);
  if (it == fetchers_.end()) return ResponseDisposition::ignored_stale;
  return it->second.on_leader_offsets_response(response, now, out);
}

ResponseDisposition ReplicaFetcherManager::on_request_failed(FetcherKey key, uint64_t correlation_id,
                                                             sim::SimTime now) {
  auto it = fetchers_.find(key);
  if (it == fetchers_.end()) return ResponseDisposition::ignored_stale;
  return it->second.on_request_failed(correlation_id, now);
}

ReplicaFetcher* ReplicaFetcherManager::fetcher(FetcherKey key) {
  auto it = fetchers_.find(key);
  return it == fetchers_.end() ? nullptr : &it->second;
}

std::optional<FetcherKey> ReplicaFetcherManager::fetcher_of(PartitionRef partition) const {
  for (const auto& [key, fetcher] : fetchers_) {
    if (fetcher.has_partition(partition)) return key;
  }
  return std::nullopt;
}

void ReplicaFetcherManager::set_follower_quota(ReplicationQuotaManager* quota) {
  follower_quota_ = quota;
  for (auto& [key, fetcher] : fetchers_) fetcher.set_quota(quota);
}

}  // namespace kafkasim::kafka
