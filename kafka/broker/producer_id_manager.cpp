#include "kafkasim/kafka/broker/producer_id_manager.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

ProducerIdManager::ProducerIdManager(NodeId broker, int32_t brokers) : broker_(broker), brokers_(brokers) {
  KS_ASSERT_GE(broker, 0);
  KS_ASSERT_LT(broker, brokers);
}

int64_t ProducerIdManager::generate_producer_id() {
  if (next_in_block_ == producer_id_block_size) {
    ++block_;
    next_in_block_ = 0;
  }
  const int64_t block_start = (block_ * brokers_ + broker_) * producer_id_block_size;
  return block_start + next_in_block_++;
}

}  // namespace kafkasim::kafka
