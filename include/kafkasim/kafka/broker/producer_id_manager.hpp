// A broker's producer-id allocator for InitProducerId (kafka-behaviour.md §1.7; RPCProducerIdManager, KIP-730):
// the controller grants each broker blocks of 1000 consecutive ids (AllocateProducerIds, recorded as a
// ProducerIdsRecord), and the broker hands them out one per InitProducerId, in order.
//
// The controller is not simulated yet, so the grants are instantaneous and follow one fixed order [A]: the cluster
// has served producers before the run, each broker holds a block, and block k of broker b (counting from 0) is the
// (k·brokers + b)-th block the controller granted, ids [(k·brokers + b)·1000, (k·brokers + b)·1000 + 999]. A
// freshly started broker holds none: its first InitProducerId would fail with COORDINATOR_LOAD_IN_PROGRESS while
// it asks the controller for one, and the producer would retry after retry.backoff.ms. That start-up path needs
// the controller and is not modelled.
#pragma once

#include <cstdint>

#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

inline constexpr int64_t producer_id_block_size = 1000;  // ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE

class ProducerIdManager {
 public:
  ProducerIdManager(NodeId broker, int32_t brokers);
  // The next id: the rest of the current block, then the broker's next block.
  int64_t generate_producer_id();

 private:
  NodeId broker_;
  int32_t brokers_;
  int64_t block_ = 0;  // how many blocks this broker has used up
  int64_t next_in_block_ = 0;
};

}  // namespace kafkasim::kafka
