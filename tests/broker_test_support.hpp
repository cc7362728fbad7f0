// Building blocks shared by the broker unit tests (tests/unit/broker_*_test.cpp): times, a partition, and the node ids
// of the clients that talk to the broker under test.
#pragma once

#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::test {

inline sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

inline constexpr kafka::PartitionRef tp{0, 0};
inline constexpr kafka::NodeId producer_client = 100;
inline constexpr kafka::NodeId consumer_client = 200;

}  // namespace kafkasim::test
