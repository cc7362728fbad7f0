// Fetch from follower on the broker side (KIP-392, kafka-behaviour-2.md §12.2, §12.4): the leader's
// RackAwareReplicaSelector (ReplicaManager.findPreferredReadReplica), and a follower serving consumers up to its own
// high watermark. Expected replicas, offsets and times are worked out by hand from those rules in the comments.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "broker_test_support.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;
using sim::Duration;
using sim::SimTime;

namespace {

using test::at;
using test::consumer_client;
using test::tp;

// Brokers 1..4: broker 1 in rack "a", 2 and 3 in "b", 4 in "c" (index 0 unused).
BrokerConfig config(NodeId id, bool selector) {
  BrokerConfig c;
  c.broker_id = id;
  c.rack_aware_replica_selector = selector;
  c.broker_racks = {"", "a", "b", "b", "c"};
  return c;
}

// One 1000-byte batch of `records` records to tp, acks=1.
ProduceRequest produce(int32_t records) { return test::produce(1, {{tp, test::batch(records, 1000)}}); }

FetchRequest follower_fetch(NodeId replica, int64_t offset) {
  FetchRequest r;
  r.client_id = replica;
  r.replica_id = replica;
  r.max_bytes = 10'485'760;
  FetchPartitionRequest p;
  p.partition = tp;
  p.fetch_offset = offset;
  p.log_start_offset = 0;
  r.partitions.push_back(p);
  return r;
}

FetchRequest consumer_fetch(int64_t offset, const std::string& rack, Duration max_wait = 500_ms,
                            int32_t min_bytes = 1) {
  FetchRequest r = test::consumer_fetch({tp}, offset, min_bytes, max_wait);
  r.rack_id = rack;
  return r;
}

// Broker 1 leading `tp` with replicas 1..4 and the given ISR at epoch 0; three batches of 10 records (offsets
// 0..29) produced with acks=1 at 1 ms.
struct Leader : test::LeaderBroker {
  explicit Leader(const std::vector<NodeId>& isr, bool selector = true)
      : LeaderBroker(config(1, selector), {tp}, isr, {1, 2, 3, 4}) {
    for (int i = 0; i < 3; ++i) rm.handle_produce(produce(10), at(1_ms), out);
    out.clear();
  }
  // A follower fetch answered at once (max_wait 0); its response is dropped.
  void follower_at(NodeId replica, int64_t offset, SimTime now) {
    rm.handle_fetch(follower_fetch(replica, offset), now, out);
    out.clear();
  }
  // The single partition of the one response a consumer fetch got.
  const FetchPartitionResponse& answer() {
    REQUIRE(out.fetch_responses.size() == 1);
    REQUIRE(out.fetch_responses[0].response.partitions.size() == 1);
    return out.fetch_responses[0].response.partitions[0];
  }
};

}  // namespace

TEST_CASE("RackAwareReplicaSelector: the most caught-up in-sync follower of the client's rack") {
  Leader b({1, 2, 3, 4});
  // Followers' log ends as the leader sees them: 2 at 30 (caught up at 2 ms), 3 at 20, 4 at 30.
  b.follower_at(2, 30, at(2_ms));
  b.follower_at(3, 20, at(3_ms));
  b.follower_at(4, 30, at(3_ms));
  // A consumer of rack "b" at offset 10: candidates 2 (LEO 30) and 3 (LEO 20 >= 10); the highest LEO wins.
  // The answer carries no records and comes at once, though fetch.min.bytes = 1 MiB could not be met.
  b.rm.handle_fetch(consumer_fetch(10, "b", 500_ms, 1 << 20), at(4_ms), b.out);
  const FetchPartitionResponse& r = b.answer();
  CHECK(r.error == Errc::none);
  CHECK(r.preferred_read_replica == 2);
  CHECK(r.batches.empty());
  CHECK(r.slice.bytes == 0);
  CHECK(r.log_start_offset == 0);
  // HW = min LEO over the ISR {1, 2, 3, 4} = 20 (follower 3), the leader's own.
  CHECK(r.high_watermark == 20);
  CHECK(b.rm.delayed_fetch_count() == 0);
}

TEST_CASE("RackAwareReplicaSelector: equal log ends go to the one caught up last, then to the highest id") {
  Leader b({1, 2, 3, 4});
  b.follower_at(4, 30, at(2_ms));
  b.follower_at(3, 30, at(2_ms));  // caught up (at the leader's LEO) at 2 ms
  b.follower_at(2, 30, at(5_ms));  // caught up at 5 ms
  // At 6 ms: time since caught up 4 ms for broker 3, 1 ms for broker 2: broker 2, though its id is lower.
  b.rm.handle_fetch(consumer_fetch(0, "b"), at(6_ms), b.out);
  CHECK(b.answer().preferred_read_replica == 2);
  b.out.clear();
  // Broker 3 catches up again at 5 ms as well: a tie on both, the highest broker id, 3.
  b.follower_at(3, 30, at(5_ms));
  b.rm.handle_fetch(consumer_fetch(0, "b"), at(6_ms), b.out);
  CHECK(b.answer().preferred_read_replica == 3);
}

TEST_CASE("RackAwareReplicaSelector: the leader serves when the rack is its own, empty, or has no candidate") {
  Leader b({1, 2, 3});  // broker 4 (rack "c") is not in the ISR
  b.follower_at(2, 20, at(2_ms));
  b.follower_at(3, 10, at(2_ms));  // HW = min(30, 20, 10) = 10
  b.follower_at(4, 0, at(2_ms));   // below the HW: it stays out of the ISR
  REQUIRE(b.rm.partition(tp)->isr() == std::vector<NodeId>{1, 2, 3});
  const auto preferred = [&](const std::string& rack, int64_t offset) {
    b.out.clear();
    b.rm.handle_fetch(consumer_fetch(offset, rack, 0_ms), at(4_ms), b.out);
    CHECK(b.answer().error == Errc::none);
    return b.answer().preferred_read_replica;
  };
  CHECK(preferred("a", 0) == -1);  // the leader's own rack
  CHECK(preferred("", 0) == -1);   // no client.rack
  CHECK(preferred("d", 0) == -1);  // no replica in that rack
  CHECK(preferred("c", 0) == -1);  // broker 4 holds offset 0 but is out of the ISR (KAFKA-14372)
  CHECK(preferred("b", 5) == 2);   // 2 (LEO 20) and 3 (LEO 10) hold it; the higher log end wins
  CHECK(preferred("b", 15) == 2);  // only 2 holds it
  CHECK(preferred("b", 25) == -1); // neither does: the leader answers (nothing, beyond its HW)
}

TEST_CASE("without replica.selector.class the leader serves every consumer") {
  Leader b({1, 2, 3, 4}, /*selector=*/false);
  for (NodeId f : {2, 3, 4}) b.follower_at(f, 30, at(2_ms));  // all caught up: HW 30
  b.rm.handle_fetch(consumer_fetch(0, "b", 0_ms), at(3_ms), b.out);
  CHECK(b.answer().preferred_read_replica == -1);
  CHECK(b.answer().batches.size() == 3);  // the leader reads the three batches below the HW itself
}

TEST_CASE("a follower serves consumers up to its own HW, learnt one fetch late, and wakes parked reads") {
  BrokerOutbox out1, out2;
  ReplicaManager leader{config(1, true), SimTime::zero()};
  ReplicaManager follower{config(2, true), SimTime::zero()};
  const PartitionConfig pc;
  leader.add_partition(tp, pc, 1, sim::Rng::stream(1, "log"), SimTime::zero(), out1);
  follower.add_partition(tp, pc, 1, sim::Rng::stream(2, "log"), SimTime::zero(), out2);
  leader.become_leader(tp, 0, {1, 2}, {1, 2}, SimTime::zero(), out1);
  follower.become_follower(tp, 1, 0, {1, 2}, SimTime::zero(), out2);
  leader.handle_produce(produce(10), at(1_ms), out1);  // offsets 0..9; HW 0 until broker 2 has them
  // One follower fetch from the follower's log end, answered at once, applied on the follower.
  const auto replicate = [&](SimTime now) {
    out1.clear();
    leader.handle_fetch(follower_fetch(2, follower.partition(tp)->log_end_offset()), now, out1);
    REQUIRE(out1.fetch_responses.size() == 1);
    return follower.handle_follower_fetch_response(out1.fetch_responses[0].response, now, out2).at(0);
  };
  // Fetch at 0: the leader answers the 10 records with HW 0; the follower appends them (LEO 10, HW 0).
  CHECK(replicate(at(2_ms)).appended);
  CHECK(follower.partition(tp)->log_end_offset() == 10);
  CHECK(follower.partition(tp)->high_watermark() == 0);
  // A consumer at offset 0 on the follower: nothing below its HW, so the fetch waits (fetch.max.wait.ms 500).
  out2.clear();
  follower.handle_fetch(consumer_fetch(0, "b"), at(3_ms), out2);
  CHECK(out2.fetch_responses.empty());
  CHECK(follower.delayed_fetch_count() == 1);
  // The follower's next fetch (at 10) tells the leader it has them: the leader's HW becomes 10, but its answer
  // carries the HW as of the read, 0 (§3.3: the follower learns an HW advance its own fetch causes one response
  // late). Nothing changes for the parked consumer.
  CHECK_FALSE(replicate(at(4_ms)).high_watermark_increased);
  CHECK(leader.partition(tp)->high_watermark() == 10);
  CHECK(follower.partition(tp)->high_watermark() == 0);
  CHECK(out2.fetch_responses.empty());
  // The fetch after that brings HW 10 (ReplicaFetcherThread: partitionsWithNewHighWatermark), which completes the
  // parked consumer fetch with the ten records, HW 10 (completeDelayedFetchRequests).
  CHECK(replicate(at(5_ms)).high_watermark_increased);
  CHECK(follower.partition(tp)->high_watermark() == 10);
  REQUIRE(out2.fetch_responses.size() == 1);
  CHECK(out2.fetch_responses[0].destination == consumer_client);
  const FetchPartitionResponse& r = out2.fetch_responses[0].response.partitions.at(0);
  CHECK(r.error == Errc::none);
  CHECK(r.high_watermark == 10);
  CHECK(r.preferred_read_replica == -1);  // a follower never redirects (findPreferredReadReplica: leader only)
  REQUIRE(r.batches.size() == 1);
  CHECK(r.batches[0].base_offset == 0);
  CHECK(follower.delayed_fetch_count() == 0);
  // Past the follower's log end: OFFSET_OUT_OF_RANGE (LocalLog.read); at its end: nothing, parked until 500 ms.
  out2.clear();
  follower.handle_fetch(consumer_fetch(11, "b", 0_ms), at(6_ms), out2);
  REQUIRE(out2.fetch_responses.size() == 1);
  CHECK(out2.fetch_responses[0].response.partitions.at(0).error == Errc::offset_out_of_range);
  out2.clear();
  follower.handle_fetch(consumer_fetch(10, "b"), at(6_ms), out2);
  CHECK(out2.fetch_responses.empty());
  follower.on_wakeup(at(505_ms), out2);
  CHECK(out2.fetch_responses.empty());
  follower.on_wakeup(at(506_ms), out2);
  REQUIRE(out2.fetch_responses.size() == 1);
  CHECK(out2.fetch_responses[0].response.partitions.at(0).batches.empty());
  // A follower's fetch from broker 2 itself is still refused: only consumers read from followers.
  out2.clear();
  follower.handle_fetch(follower_fetch(3, 0), at(7_ms), out2);
  REQUIRE(out2.fetch_responses.size() == 1);
  CHECK(out2.fetch_responses[0].response.partitions.at(0).error == Errc::not_leader_or_follower);
}
