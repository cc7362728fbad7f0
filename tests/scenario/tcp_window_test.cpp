// Each connection's TCP window is min(the sender's SO_SNDBUF, the receiver's SO_RCVBUF) as Kafka sets them
// (send.buffer.bytes, receive.buffer.bytes, socket.send/receive.buffer.bytes, replica.socket.receive.buffer.bytes;
// -1 the OS's autotuned buffer), and a windowed flow moves at most about a window per round trip
// (models/network.hpp, "TCP send window"). The expectations below are that rule written out for a producer far
// from its broker.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

double utilisation(const cluster::WorldSummary& s, const std::string& resource) {
  for (const auto& [name, u] : s.utilisation)
    if (name == resource) return u;
  FAIL("no resource " << resource);
  return 0;
}

// One NVMe broker on 10 GbE; one unthrottled acks=1 producer of 10 kB records whose host link has 5 ms of one-way
// latency (a producer in another region), half-MiB batches, five requests in flight: far more than a window
// outstanding, so the window is what limits.
cluster::WorldSpec far_producer(int32_t send_buffer_bytes, int64_t broker_receive_buffer_bytes) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 6_s;
  spec.warmup = 2_s;
  spec.client_nic.link.latency = 5_ms;
  spec.socket_receive_buffer_bytes = broker_receive_buffer_bytes;
  auto p = test::open_loop_producer(10'000'000, Acks::leader, 0, 10'000);
  p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
  p.config.batch_size_bytes = 512 * 1024;
  p.config.buffer_memory_bytes = 64 << 20;
  p.config.enable_idempotence = false;
  p.idempotence_set_explicitly = true;
  p.config.send_buffer_bytes = send_buffer_bytes;
  spec.producers.push_back(p);
  return spec;
}

}  // namespace

TEST_CASE("a far producer's throughput is its connection's window per round trip; -1 (autotuned) lifts it") {
  const auto spec = far_producer(131072, 102400);  // Kafka's defaults
  const double goodput = spec.client_nic.link.bandwidth_bytes_per_s * spec.broker_hardware.nic.goodput_fraction;
  const double rtt_s = 2 * (spec.client_nic.link.latency + spec.broker_hardware.nic.link.latency).seconds_f();
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  // W = min(send.buffer.bytes 131072, the broker's socket.receive.buffer.bytes 102400) = 102400 B, cut in chunks
  // of W/4; a chunk is acknowledged a round trip after it left (plus its serialisation), and its acknowledgement
  // lets the bytes a window later go: about W per (RTT + s(W/4)).
  const double window = 102400;
  const double bound = window / (rtt_s + window / 4 / goodput);
  const double sent = utilisation(s, "client-0 nic tx") * goodput;  // payload bytes a second on the producer's link
  MESSAGE("producer link " << sent / 1e6 << " MB/s, window bound " << bound / 1e6 << " MB/s, rtt " << rtt_s * 1e3 << " ms");
  CHECK(sent == doctest::Approx(bound).scale(0).epsilon(0.03));
  // No resource is anywhere near saturated (the producer's link is under 1 % busy); the summary names the window,
  // full whenever the producer has bytes to send, which this unthrottled producer always has after its start.
  CHECK(utilisation(s, "client-0 nic tx") < 0.01);
  CHECK(s.bottleneck_is_window);
  CHECK_FALSE(s.bottleneck_is_connection);
  CHECK(s.bottleneck == "client-0 to broker-0 TCP window (102400 B)");
  CHECK(s.bottleneck_utilisation > 0.99);

  // With both buffers autotuned (-1): W = min(4 MiB / 2, 6 MiB / 2) = 2 MiB, at least ten times as much, and still
  // within its own bound.
  const auto tuned_spec = far_producer(-1, -1);
  cluster::World tuned_world(tuned_spec);
  const auto tuned = tuned_world.run();
  REQUIRE(tuned.records_failed == 0);
  const double tuned_sent = utilisation(tuned, "client-0 nic tx") * goodput;
  MESSAGE("autotuned: producer link " << tuned_sent / 1e6 << " MB/s");
  CHECK(tuned_sent > 10 * sent);
  CHECK(tuned_sent <= 1.01 * (2 << 20) / rtt_s);
  CHECK(tuned.throughput_records_per_s > 10 * s.throughput_records_per_s);
}

TEST_CASE("a follower across a slow uplink replicates at replica.socket.receive.buffer.bytes per round trip") {
  // Two brokers in two racks whose top-of-rack switches reach the spine over 5 ms links; one partition with RF=2,
  // so its follower is across the spine from its leader. The producer's own connections are autotuned (-1 on both
  // ends) so that only the replication is window-bound. A fetch response of F bytes moves through a window of
  // W = min(the leader's socket.send.buffer.bytes, the follower's replica.socket.receive.buffer.bytes) = 64 KiB,
  // about W per round trip, and each fetch adds one round trip of its own (the next request goes out once the
  // response is in): the follower gets F / (F / W · RTT + RTT).
  auto run = [](int64_t leader_send_buffer, int64_t follower_receive_buffer) {
    auto spec = test::small_cluster(2, "nvme-datacentre", "nic-10gbe", 1, 2, 1);
    spec.racks = 2;
    spec.uplink.latency = 5_ms;
    spec.duration = 6_s;
    spec.warmup = 1_s;
    spec.socket_receive_buffer_bytes = -1;
    spec.socket_send_buffer_bytes = leader_send_buffer;
    spec.replica_socket_receive_buffer_bytes = follower_receive_buffer;
    auto p = test::open_loop_producer(20'000, Acks::leader, 5, 1000);  // about 20 MB/s
    p.config.send_buffer_bytes = -1;
    // The leader may be across the spine from the producer too: five requests in flight per 20 ms round trip must
    // carry 20,000 records a second, so batches of up to 256 KiB (linger.ms bounds them to about 100 records).
    p.config.batch_size_bytes = 262144;
    spec.producers.push_back(p);
    cluster::World world(spec);
    const auto s = world.run();
    int64_t leo[2] = {0, 0};
    int leader = -1;
    for (uint32_t b = 0; b < 2; ++b) {
      const kafka::Partition* part = world.partition(b, {0, 0});
      REQUIRE(part != nullptr);
      leo[b] = part->log_end_offset();
      if (part->is_leader()) leader = static_cast<int>(b);
    }
    REQUIRE(leader >= 0);
    return std::tuple{s, leo[leader], leo[1 - leader], spec};
  };
  const auto [s, leader_leo, follower_leo, spec] = run(102400, 65536);  // Kafka's defaults
  REQUIRE(s.records_failed == 0);
  // Every record offered reached the leader (acks=1): 20,000 a second for 6 s.
  CHECK(static_cast<double>(leader_leo) == doctest::Approx(120'000).scale(0).epsilon(0.01));
  // Route leader → follower: host link, ToR–spine, spine–ToR, host link.
  const double rtt_s = 2 * (2 * spec.broker_hardware.nic.link.latency + 2 * spec.uplink.latency).seconds_f();
  const double window = 65536;
  const double fetch = 1048576;  // replica.fetch.max.bytes: the follower is always behind, so every fetch is full
  const double record_bytes = 1000 + 11;  // a 1000-byte value in a v2 batch: ~10 B of record overhead, ~0.6 B of header
  const double expected_records_per_s = fetch / (fetch / window * rtt_s + rtt_s) / record_bytes;
  const double follower_records_per_s = static_cast<double>(follower_leo) / spec.duration.seconds_f();
  MESSAGE("follower " << follower_records_per_s << " records/s, expected " << expected_records_per_s << ", rtt "
                      << rtt_s * 1e3 << " ms");
  CHECK(follower_records_per_s == doctest::Approx(expected_records_per_s).scale(0).epsilon(0.10));
  CHECK(follower_leo < leader_leo / 4);  // it falls ever further behind

  // Autotuned buffers on both ends (-1): W = 2 MiB, above a fetch, so the follower keeps up.
  const auto [tuned, tuned_leader_leo, tuned_follower_leo, tuned_spec] = run(-1, -1);
  CHECK(tuned_leader_leo == doctest::Approx(120'000).scale(0).epsilon(0.01));
  CHECK(static_cast<double>(tuned_follower_leo) > 0.99 * static_cast<double>(tuned_leader_leo));
}
