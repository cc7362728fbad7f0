// producer_restart (WorldSpec::faults): a producer's process dies and a new one starts after a downtime. What dies
// with it follows from the Java client's memory rules (kafka-behaviour.md §1.5): every record send() accepted and no
// callback has completed is in a batch the process held (queued, in flight or blocked in send()), so a closed-loop
// thread loses the one record it waits for, and a producer that outruns the cluster loses a full buffer.memory of
// batches. Records already appended by a leader stay in the log, acknowledged or not, and the consumers read them.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

cluster::FaultSpec restart(uint32_t host, sim::Duration at, std::optional<sim::Duration> downtime) {
  return test::fault(cluster::FaultKind::producer_restart, host, at, downtime);
}

// The producer ids the brokers handed out (InitProducerId), in the order of their events.
std::vector<int64_t> producer_ids(const cluster::World& world) {
  std::vector<int64_t> ids;
  for (const auto& e : world.events())
    if (e.at("type") == "producer_id") ids.push_back(e.at("producer_id").get<int64_t>());
  return ids;
}

// Three NVMe brokers on 10 GbE, one topic of 6 partitions (RF 3, min.insync.replicas 2), run for `duration`, the
// first `warmup` of it outside the summary.
cluster::WorldSpec three_brokers(sim::Duration duration, sim::Duration warmup) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = duration;
  spec.warmup = warmup;
  return spec;
}

cluster::ConsumerSpec reader() {
  cluster::ConsumerSpec c;
  c.group = "g";
  c.topic = 0;
  c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  return c;
}

}  // namespace

TEST_CASE("producer_restart: each closed-loop thread loses the one record it waits for; the new process gets a new id") {
  // Four send().get() threads: at any instant each has exactly one record sent and not yet acknowledged (its next
  // send() follows its acknowledgement at once). So the dying process takes exactly four records, none of which the
  // application had seen acknowledged; a leader may have appended them, so the group reads at most four records more
  // than were acknowledged. The new, idempotent process asks for a producer id of its own (InitProducerId).
  auto spec = three_brokers(10_s, 1_s);
  auto p = test::open_loop_producer(0, Acks::all, 0, 512);
  p.closed_loop_threads = 4;
  spec.producers.push_back(p);
  spec.consumers.push_back(reader());
  spec.faults.push_back(restart(3, 5_s, 1_s));  // brokers 0-2, the producer is client-0 = node 3
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.records_lost_in_restarts == 4);
  CHECK(s.records_failed == 0);
  CHECK(s.acked_records_lost == 0);
  CHECK(s.records_consumed >= s.records_acked);
  CHECK(s.records_consumed <= s.records_acked + s.records_lost_in_restarts);
  // At the end each thread again waits for one record.
  CHECK(s.records_sent == s.records_acked + s.records_lost_in_restarts + 4);
  const std::vector<int64_t> ids = producer_ids(world);
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] != ids[1]);
  REQUIRE(s.faults.size() == 1);
  CHECK(s.faults[0].detail.find("4 records unacknowledged") != std::string::npos);
}

TEST_CASE("producer_restart: a producer that outruns the cluster loses a full buffer.memory of batches") {
  // An unthrottled producer (1 GbE, one broker, acks=1) fills buffer.memory and blocks in send(). The buffer pool
  // hands out batch.size (16,384 B) per batch, so 33,554,432 B hold 2,048 batches; each is full: a v2 record of a
  // 512-byte value with no key is 1 (attributes) + 1 (timestamp delta) + 1 (offset delta < 64) + 1 (key length -1)
  // + 2 (value length) + 512 + 1 (header count) = 519 bytes and a 2-byte length, 521 B, and a batch of 61 B of
  // header holds 31 of them (16,212 B; 32 would be 16,733 B). With the record the application thread is blocked on,
  // 2,048 x 31 + 1 = 63,489 records die with the process.
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-1gbe", 1, 1, 1);
  spec.duration = 4_s;
  spec.warmup = 1_s;
  auto p = test::open_loop_producer(1'000'000, Acks::leader, 0, 512);
  p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
  spec.producers.push_back(p);
  spec.faults.push_back(restart(1, 2_s, std::nullopt));
  const auto s = cluster::World(spec).run();
  CHECK(s.records_lost_in_restarts == 2'048 * 31 + 1);
  CHECK(s.records_failed == 0);
  CHECK(s.acked_records_lost == 0);
}

TEST_CASE("producer_restart: no record is sent while no process runs, and the new one produces at the old rate") {
  // A constant 1,000 records/s for 10 s with the process down from 4 s to 6 s: 8 s of schedule, 8,000 records
  // (give or take the one at an edge). With linger.ms 5 a batch holds the records of at most 5 ms, and its
  // acknowledgement comes within a millisecond or two on this idle cluster, so the process dies with at most
  // 1,000 x 0.007 + 1 records. After the downtime the new process produces again at the full rate.
  auto spec = three_brokers(10_s, 1_s);
  spec.producers.push_back(test::open_loop_producer(1'000, Acks::all, 5, 100));
  spec.consumers.push_back(reader());
  spec.faults.push_back(restart(3, 4_s, 2_s));
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(static_cast<double>(s.records_sent) == doctest::Approx(8'000).scale(0).epsilon(0.0002));
  CHECK(s.records_lost_in_restarts >= 1);
  CHECK(s.records_lost_in_restarts <= 8);
  CHECK(s.acked_records_lost == 0);
  CHECK(s.records_consumed >= s.records_acked);
  CHECK(s.records_consumed <= s.records_acked + s.records_lost_in_restarts);
  // Throughput over the 9 s after the warm-up: 7 s of schedule.
  CHECK(s.throughput_records_per_s == doctest::Approx(7'000.0 / 9.0).scale(0).epsilon(0.01));
  CHECK(producer_ids(world).size() == 2);
}

TEST_CASE("producer_restart: answers to the dead process are dropped, even with requests still in flight") {
  // acks=all with 10 ms added to broker-1's links each way: every request waits for the follower's round trips, and
  // the broker works on one request of a connection at a time, so many records are on their way when the process
  // dies. Their records are appended and acknowledged by the leader to nobody: the dying process counts them lost,
  // the group reads them, and the durability check finds no acknowledged record missing.
  auto spec = test::small_cluster(2, "nvme-datacentre", "nic-10gbe", 1, 2, 2);
  spec.duration = 6_s;
  spec.warmup = 1_s;
  spec.producers.push_back(test::open_loop_producer(2'000, Acks::all, 5, 100));
  spec.consumers.push_back(reader());
  cluster::FaultSpec slow = test::fault(cluster::FaultKind::slow_network, 1, 0_s);
  slow.extra_latency = 10_ms;
  spec.faults.push_back(slow);
  spec.faults.push_back(restart(2, 3_s, 500_ms));
  const auto s = cluster::World(spec).run();
  // Little's law: the records between send() and their callback at an instant number the send rate times their mean
  // time there, the produce latency (steady here; the instant's count swings by a batch or so around it).
  const double in_flight = 2'000 * s.produce_latency.mean_ms / 1'000;
  CHECK(in_flight > 50);  // several requests' worth: the test is about answers still owed
  CHECK(static_cast<double>(s.records_lost_in_restarts) == doctest::Approx(in_flight).scale(0).epsilon(0.25));
  // The leader appended the in-flight ones: the group reads more records than were acknowledged.
  CHECK(s.records_consumed > s.records_acked);
  CHECK(s.records_consumed <= s.records_acked + s.records_lost_in_restarts);
  CHECK(s.acked_records_lost == 0);
  CHECK(s.records_failed == 0);
}

TEST_CASE("producer_restart with config: the new process runs the deployed linger.ms, the old one's is gone") {
  // 1,000 records/s of 512 B at acks=all; at 8 s the process is restarted with linger.ms 200 and a 1 MiB batch.size
  // (a config rollout). The sticky partitioner fills one partition's batch until linger.ms expires (200 records of
  // ~520 B, far below 1 MiB), so a record waits 200 ms less its arrival's offset in that window: uniform over
  // [0, 200] ms, median 100 ms, plus the request's round trip (about 1 ms here). Before the restart, linger.ms 5:
  // every record waits at most 5 ms. The window (10-20 s) has only the new process.
  const auto run = [](bool deploy) {
    auto spec = three_brokers(20_s, 10_s);
    spec.producers.push_back(test::open_loop_producer(1000, Acks::all, 5, 512));
    auto f = restart(3, 8_s, std::nullopt);
    if (deploy) {
      kafka::ProducerConfig c = spec.producers[0].config;
      c.linger = 200_ms;
      c.batch_size_bytes = 1'048'576;
      f.producer_config = c;
      f.config_changes = {"batch.size=1048576", "linger.ms=200"};
    }
    spec.faults.push_back(f);
    return cluster::World(spec).run();
  };
  const auto same = run(false);
  const auto deployed = run(true);
  CHECK(same.produce_latency.p99_ms < 10.0);
  CHECK(deployed.produce_latency.p50_ms >= 100.0 - 2.0);
  CHECK(deployed.produce_latency.p50_ms <= 100.0 + 5.0);
  CHECK(deployed.produce_latency.max_ms <= 200.0 + 5.0);
  CHECK(deployed.produce_latency.p99_ms >= 198.0 - 2.0);
  // 200 records a batch now, one batch (partition) a request: the batches after the restart are ~40x larger.
  CHECK(deployed.records_per_request_distribution.max >= 190);
  CHECK(same.records_per_request_distribution.max <= 10);
  REQUIRE(deployed.faults.size() == 1);
  CHECK(deployed.faults[0].detail.find("with batch.size=1048576, linger.ms=200") != std::string::npos);
  CHECK(deployed.records_failed == 0);
}

TEST_CASE("producer_restart with config: with two processes of one entry only the restarted one runs the new configs") {
  // Two processes of one entry at 500 records/s each; the second (client-1, node 4) is restarted at 8 s with
  // linger.ms 200. In the window (10-20 s) half the records are the first process's, each waiting at most its 5 ms
  // linger, and half the second's, waiting uniformly over [0, 200] ms: the mixture's distribution is
  // F(x) = 1/2 + x / 400 above ~6 ms, so its 75th percentile is the second process's median, 100 ms (plus the ~1 ms
  // request), and its 50th lies at the first process's top, a few ms.
  auto spec = three_brokers(20_s, 10_s);
  auto p = test::open_loop_producer(500, Acks::all, 5, 512);
  p.count = 2;
  spec.producers.push_back(p);
  auto f = restart(4, 8_s, std::nullopt);
  kafka::ProducerConfig c = p.config;
  c.linger = 200_ms;
  c.batch_size_bytes = 1'048'576;
  f.producer_config = c;
  spec.faults.push_back(f);
  const auto s = cluster::World(spec).run();
  MESSAGE("p50 ", s.produce_latency.p50_ms, " p75 ", s.produce_latency.p75_ms, " max ", s.produce_latency.max_ms);
  CHECK(s.produce_latency.p50_ms <= 15.0);
  CHECK(s.produce_latency.p75_ms >= 100.0 - 5.0);
  CHECK(s.produce_latency.p75_ms <= 100.0 + 8.0);
  CHECK(s.produce_latency.max_ms <= 200.0 + 5.0);
}
