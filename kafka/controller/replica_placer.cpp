#include "kafkasim/kafka/controller/replica_placer.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

namespace {

// Collections.shuffle: from the last element down, swap with a uniformly drawn one at or below it.
void shuffle(std::vector<NodeId>& v, sim::Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.uniform_u64(i)]);
}

// StripedReplicaPlacer.BrokerList (unfenced brokers only).
struct BrokerRound {
  std::vector<NodeId> brokers;
  size_t index = 0;   // brokers handed out in the current epoch
  size_t offset = 0;  // added to index, modulo the size
  int32_t epoch = 0;

  // The next broker of this epoch, or -1 once every broker of the list was handed out in it.
  NodeId next(int32_t current_epoch) {
    if (brokers.empty()) return -1;
    if (epoch != current_epoch) {
      // A new epoch starts the walk again, one further along.
      epoch = current_epoch;
      index = 0;
      offset = (offset + 1) % brokers.size();
    }
    if (index >= brokers.size()) return -1;
    return brokers[(index++ + offset) % brokers.size()];
  }
};

}  // namespace

std::vector<std::vector<NodeId>> place_replicas(const std::vector<PlacementBroker>& brokers, int32_t partitions,
                                                int32_t replication_factor, sim::Rng& rng) {
  KS_ASSERT_GE(partitions, 0);
  KS_ASSERT_GE(replication_factor, 1);
  KS_ASSERT_LE(static_cast<size_t>(replication_factor), brokers.size());
  // RackList's constructor: racks by name (sorted: std::map), each with its brokers sorted by id and a random
  // starting offset, drawn rack by rack; then a random offset into the rack list.
  std::map<std::string, BrokerRound> by_name;
  std::set<NodeId> ids;
  for (const PlacementBroker& b : brokers) {
    KS_ASSERT_MSG(ids.insert(b.id).second, "broker " + std::to_string(b.id) + " listed twice");
    by_name[b.rack].brokers.push_back(b.id);
  }
  std::vector<BrokerRound> racks;
  for (auto& [name, round] : by_name) {
    std::sort(round.brokers.begin(), round.brokers.end());
    round.offset = rng.uniform_u64(round.brokers.size());
    racks.push_back(std::move(round));
  }
  // The rack list is shuffled as a list of positions into `racks`.
  std::vector<NodeId> rack_order(racks.size());
  for (size_t i = 0; i < racks.size(); ++i) rack_order[i] = static_cast<NodeId>(i);
  size_t offset = rng.uniform_u64(racks.size());
  const auto broker_count = static_cast<int32_t>(brokers.size());
  int32_t epoch = 0;

  std::vector<std::vector<NodeId>> placements;
  placements.reserve(static_cast<size_t>(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    // RackList.place. After as many partitions as brokers, reshuffle so the next round differs.
    if (epoch == broker_count && broker_count > 1) {
      shuffle(rack_order, rng);
      for (BrokerRound& r : racks) shuffle(r.brokers, rng);
      epoch = 0;
    }
    if (offset == racks.size()) offset = 0;
    std::vector<NodeId> replicas;
    replicas.reserve(static_cast<size_t>(replication_factor));
    // The leader: the first rack from the offset that still has a broker in this epoch.
    size_t leader_rack = offset;
    while (true) {
      const NodeId b = racks[static_cast<size_t>(rack_order[leader_rack])].next(epoch);
      if (b >= 0) {
        replicas.push_back(b);
        break;
      }
      leader_rack = (leader_rack + 1) % racks.size();
    }
    // The followers: one per rack going round from the offset, passing over the leader's rack the first time.
    bool skip_pending = true;
    size_t rack = offset;
    for (int32_t r = 1; r < replication_factor; ++r) {
      NodeId b = -1;
      do {
        if (skip_pending && rack == leader_rack) {
          skip_pending = false;
        } else {
          b = racks[static_cast<size_t>(rack_order[rack])].next(epoch);
        }
        rack = (rack + 1) % racks.size();
      } while (b < 0);
      replicas.push_back(b);
    }
    ++epoch;
    ++offset;
    placements.push_back(std::move(replicas));
  }
  return placements;
}

}  // namespace kafkasim::kafka
