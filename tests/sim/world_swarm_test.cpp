// Seeded swarms of small clusters with random configurations; Kafka's replication invariants are checked
// every simulated 10 ms while they run (DESIGN.md principle 7).
#include <doctest/doctest.h>

#include <map>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;

namespace {

struct InvariantChecker {
  cluster::World& world;
  uint32_t brokers;
  int32_t partitions;
  std::map<std::pair<uint32_t, int32_t>, int64_t> last_hw;
  uint64_t checks = 0;

  void check() {
    ++checks;
    for (int32_t p = 0; p < partitions; ++p) {
      const kafka::PartitionRef ref{0, p};
      int leaders = 0;
      const kafka::Partition* leader = nullptr;
      for (uint32_t b = 0; b < brokers; ++b) {
        const kafka::Partition* part = world.partition(b, ref);
        if (part == nullptr) continue;
        if (part->is_leader()) {
          ++leaders;
          leader = part;
        }
        // The high watermark never decreases on a replica, and never passes its own log end.
        auto& last = last_hw[{b, p}];
        CHECK(part->high_watermark() >= last);
        last = part->high_watermark();
        CHECK(part->high_watermark() <= part->log_end_offset());
      }
      CHECK(leaders == 1);  // leaders are fixed without a controller: exactly one
      if (leader == nullptr) continue;
      // HW <= LEO of every ISR member (kafka-behaviour.md §3.3).
      for (kafka::NodeId r : leader->isr()) {
        const kafka::Partition* replica = world.partition(static_cast<uint32_t>(r), ref);
        REQUIRE(replica != nullptr);
        CHECK(leader->high_watermark() <= replica->log_end_offset());
      }
      // The ISR never drops below the leader itself.
      CHECK(!leader->isr().empty());
    }
  }
};

}  // namespace

TEST_CASE("world swarm: 40 seeds of random small clusters keep HW and ISR invariants and deliver what they ack") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    sim::Rng rng = sim::Rng::stream(seed, "swarm/config");
    const auto brokers = static_cast<uint32_t>(rng.uniform_int(1, 4));
    const auto rf = static_cast<int32_t>(rng.uniform_int(1, brokers));
    const auto partitions = static_cast<int32_t>(rng.uniform_int(1, 12));
    const char* disks[] = {"hdd-7200rpm", "ssd-sata", "nvme-datacentre"};
    auto spec = test::small_cluster(brokers, disks[rng.uniform_u64(3)], "nic-10gbe", partitions, rf,
                                    static_cast<int32_t>(rng.uniform_int(1, rf)));
    spec.seed = seed;
    spec.duration = 3_s;
    spec.warmup = 500_ms;
    const kafka::Acks acks[] = {kafka::Acks::none, kafka::Acks::leader, kafka::Acks::all};
    auto p = test::open_loop_producer(static_cast<double>(rng.uniform_int(100, 20000)), acks[rng.uniform_u64(3)],
                                      rng.uniform_int(0, 20), static_cast<uint32_t>(rng.uniform_int(10, 4000)));
    if (p.config.acks != kafka::Acks::all) p.config.enable_idempotence = false;
    if (rng.chance(1, 2)) p.keys = cluster::KeyDistribution::uniform(1000);
    if (rng.chance(1, 2)) p.arrival = cluster::ArrivalProcess::Kind::kPoisson;
    spec.producers.push_back(p);
    // The consumer's loop: how it commits, and a processing time that may keep it behind.
    cluster::ConsumerSpec consumer = test::group_member();
    const cluster::CommitAfterPoll commits[] = {cluster::CommitAfterPoll::kNone, cluster::CommitAfterPoll::kAsync,
                                                cluster::CommitAfterPoll::kSync};
    consumer.commit = commits[rng.uniform_u64(3)];
    if (rng.chance(1, 2)) consumer.processing_time_per_record = sim::Duration::from_us(rng.uniform_int(1, 100));
    spec.consumers.push_back(consumer);
    // Sometimes one I/O thread behind a request queue of one to three: network threads block on the full queue.
    if (rng.chance(1, 3)) {
      spec.num_io_threads = 1;
      spec.queued_max_requests = static_cast<uint32_t>(rng.uniform_int(1, 3));
    }
    cluster::World world(spec);
    InvariantChecker checker{world, brokers, partitions, {}, 0};
    std::function<void()> tick = [&] {
      checker.check();
      if (world.engine().now() + 10_ms < sim::SimTime::zero() + spec.duration)
        world.engine().schedule_after(10_ms, tick);
    };
    world.engine().schedule_after(10_ms, tick);
    const auto s = world.run();
    CHECK(checker.checks > 250);
    CHECK(s.records_failed == 0);
    CHECK(s.records_acked <= s.records_sent);
    // Nothing is consumed more often than it was sent (a duplicate would be). Consumed may exceed acked when the
    // run ends: the high watermark's advance completes a parked consumer fetch and the acks=all produce at the
    // same instant, and the consumer's response can arrive before the producer's (seed 9: 4 records).
    CHECK(s.records_consumed <= s.records_sent - s.records_failed);
    // A group never commits past what its consumer has consumed.
    for (const auto& view : world.consumers()) {
      for (const kafka::PartitionRef& ref : view.assignment) {
        const auto committed = view.consumer->committed(ref);
        const auto position = view.consumer->position(ref);
        if (committed.has_value() && position.has_value()) CHECK(*committed <= *position);
      }
    }
  }
}
