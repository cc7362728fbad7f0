// The broker's producer-id allocator (kafka/broker/producer_id_manager.hpp): blocks of 1000 consecutive ids
// (ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE), handed out in order, and no id given twice across the cluster.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "kafkasim/kafka/broker/producer_id_manager.hpp"

using namespace kafkasim::kafka;

TEST_CASE("producer ids: consecutive within a block, the broker's next block after 1000, never twice") {
  constexpr int32_t brokers = 3;
  std::vector<ProducerIdManager> managers;
  for (NodeId b = 0; b < brokers; ++b) managers.emplace_back(b, brokers);
  // Broker 1's first block is the cluster's second: ids 1000, 1001, ...
  CHECK(managers[1].generate_producer_id() == 1000);
  CHECK(managers[1].generate_producer_id() == 1001);
  CHECK(managers[0].generate_producer_id() == 0);
  CHECK(managers[2].generate_producer_id() == 2000);
  // 2,500 more from each broker: each crosses into its second and third blocks, 3,000 apart.
  std::set<int64_t> seen{1000, 1001, 0, 2000};
  for (int i = 0; i < 2500; ++i) {
    for (auto& m : managers) {
      const int64_t id = m.generate_producer_id();
      CHECK(seen.insert(id).second);
    }
  }
  // Broker 0 has handed out 2,501 ids: 0..999, then its second block 3000..3999, then 6000..6500.
  CHECK(managers[0].generate_producer_id() == 6501);
  CHECK(seen.count(3000) == 1);
  CHECK(seen.count(3999) == 1);
  CHECK(seen.count(4000) == 1);  // broker 1's second block
}
