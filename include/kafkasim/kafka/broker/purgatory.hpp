// A delayed-operation purgatory (core/.../server/DelayedOperationPurgatory.scala, reference §2.1, §2.2, §2.8):
// parked operations, each watched under the partitions it waits on and expiring at a deadline.
//
// Kafka keeps the deadlines in a hierarchical timing wheel with a 1 ms tick; here the deadline is exact (the
// cluster layer wakes the broker at next_deadline()). Operations are numbered in the order they were parked,
// and every walk goes in that order, which is the order of Kafka's watcher lists and keeps runs
// deterministic. The size is bounded by the caller (BrokerConfig::max_delayed_*).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "kafkasim/kafka/partition_index.hpp"
#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

template <typename Operation>
class Purgatory {
 public:
  explicit Purgatory(std::size_t max_operations) : max_operations_(max_operations) {}

  // Parks `op` until `deadline`, watched under each of `keys` (duplicates are harmless). Returns its id.
  uint64_t add(Operation op, sim::SimTime deadline, std::vector<PartitionRef> keys) {
    KS_ASSERT_LT(entries_.size(), max_operations_);
    const uint64_t id = next_id_++;
    for (const PartitionRef& k : keys) {
      std::vector<uint64_t>& ids = watcher_slot(k);
      // Ids only grow, so appending keeps each list sorted; a duplicate key finds its own id last.
      if (ids.empty() || ids.back() != id) ids.push_back(id);
    }
    deadlines_.emplace(deadline, id);
    entries_.emplace(id, Entry{std::move(op), deadline, std::move(keys)});
    return id;
  }

  Operation* find(uint64_t id) {
    const auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second.op;
  }

  // Removes the operation and returns it (DelayedOperation.forceComplete: it completes exactly once).
  Operation take(uint64_t id) {
    const auto it = entries_.find(id);
    KS_ASSERT(it != entries_.end());
    for (const PartitionRef& k : it->second.keys) {
      std::vector<uint64_t>& ids = watcher_slot(k);
      const auto w = std::lower_bound(ids.begin(), ids.end(), id);
      if (w != ids.end() && *w == id) ids.erase(w);
    }
    deadlines_.erase({it->second.deadline, id});
    Operation op = std::move(it->second.op);
    entries_.erase(it);
    return op;
  }

  // The ids watched under `key`, oldest first, into `ids` (a copy: completing one changes the watch list; the
  // caller's vector keeps its capacity from one call to the next).
  void watching(const PartitionRef& key, std::vector<uint64_t>& ids) const {
    ids.clear();
    const std::vector<uint64_t>* watched = find_watchers(key);
    if (watched != nullptr) ids.assign(watched->begin(), watched->end());
  }
  std::vector<uint64_t> watching(const PartitionRef& key) const {
    std::vector<uint64_t> ids;
    watching(key, ids);
    return ids;
  }

  // The ids whose deadline is at or before `now`, by deadline then age.
  std::vector<uint64_t> expired(sim::SimTime now) const {
    std::vector<uint64_t> ids;
    for (const auto& [deadline, id] : deadlines_) {
      if (deadline > now) break;
      ids.push_back(id);
    }
    return ids;
  }

  sim::SimTime next_deadline() const {
    return deadlines_.empty() ? sim::SimTime::max() : deadlines_.begin()->first;
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Operation op;
    sim::SimTime deadline;
    std::vector<PartitionRef> keys;
  };
  std::vector<uint64_t>& watcher_slot(const PartitionRef& key) { return watchers_[key]; }
  const std::vector<uint64_t>* find_watchers(const PartitionRef& key) const { return watchers_.find(key); }

  std::size_t max_operations_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Entry> entries_;
  // The watch lists by [topic][partition], each sorted by id: partition numbers are small and dense, and a
  // list of a few ids is kept with its capacity instead of a tree node per (key, id).
  PartitionIndex<std::vector<uint64_t>> watchers_;
  std::set<std::pair<sim::SimTime, uint64_t>> deadlines_;
};

}  // namespace kafkasim::kafka
