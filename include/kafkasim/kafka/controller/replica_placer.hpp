// Where a new topic's replicas go (KRaft controller, metadata/.../placement/StripedReplicaPlacer.java;
// reference/kafka-behaviour.md §3.9). The first replica of each list is the partition's leader (and preferred
// leader).
//
// The placer stripes partitions over racks and, within a rack, over brokers:
//  - racks are sorted by name and the rack list gets a random starting offset; each rack's broker list is sorted
//    by id and gets a random starting offset;
//  - a partition's leader is the next broker of the rack at the current rack offset (or of the next rack that
//    still has one in this round); the other replicas are taken one per rack going round the racks from the same
//    offset, skipping the leader's rack once; then the rack offset advances by one;
//  - within a rack, each "epoch" (one per partition) walks the broker list from an offset that advances by one;
//  - after as many partitions as there are brokers, the rack order and every broker list are shuffled and the
//    epoch count restarts, so successive rounds do not repeat the same replica sets.
// With one rack and n brokers, partitions k·n … k·n + n − 1 take consecutive brokers of one random cyclic order
// (leader, then the next RF − 1), a new order for every round: leaders are spread evenly (partitions/n ± 1 each)
// and every broker ends up following partitions led by every other broker.
//
// Not modelled: fenced brokers (every broker is registered and unfenced when topics are created) and adding
// partitions to an existing topic (its offsets continue from the last partition's leader). Kafka draws from an
// unseeded java.util.Random; here the draws come from a seeded sim::Rng, so a scenario's placement depends on
// its seed, like everything random in a run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/rng.hpp"

namespace kafkasim::kafka {

struct PlacementBroker {
  NodeId id = 0;
  std::string rack;  // broker.rack; one shared name when racks are not configured
};

// The replica lists of `partitions` new partitions with `replication_factor` replicas each, leader first.
// Requires 1 <= replication_factor <= brokers.size() (InvalidReplicationFactorException otherwise; the scenario
// loader rejects such topics) and distinct broker ids. Draws from `rng` in a fixed order.
std::vector<std::vector<NodeId>> place_replicas(const std::vector<PlacementBroker>& brokers, int32_t partitions,
                                                int32_t replication_factor, sim::Rng& rng);

}  // namespace kafkasim::kafka
