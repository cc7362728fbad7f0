// acks=0 completes when the request has left the client (Kafka's NetworkClient completes a send once written to
// the socket), and TCP flow control keeps such a producer from outrunning the broker: expectations come from the
// broker's per-request costs and the NIC's goodput, written out here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

// One broker, one partition, one closed-loop producer sending `value_bytes` records with acks=0, one record per
// request (linger.ms=0 and a single thread that waits for each completion).
cluster::WorldSpec acks0_closed_loop(uint32_t value_bytes, uint32_t threads) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-1gbe", 1, 1, 1);
  spec.duration = 3_s;
  spec.warmup = 1_s;
  cluster::ProducerSpec p = test::open_loop_producer(0, Acks::none, 0, value_bytes);
  p.records_per_s = 0;
  p.closed_loop_threads = threads;
  p.config.enable_idempotence = false;
  p.idempotence_set_explicitly = true;
  spec.producers.push_back(p);
  return spec;
}

double utilisation(const cluster::WorldSummary& s, const std::string& resource) {
  for (const auto& [name, u] : s.utilisation)
    if (name == resource) return u;
  FAIL("no resource " << resource);
  return 0;
}

}  // namespace

TEST_CASE("acks=0, one record per request: the producer is paced by the broker's per-request path, not its NIC") {
  const auto spec = acks0_closed_loop(200, 1);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.records_per_request == doctest::Approx(1.0).scale(0));
  // A connection is muted while the broker works on one request (kafka-behaviour.md §2.1), so requests are
  // handled one after another: a network thread's fixed cost, then the I/O thread's fixed cost plus CRC32C over
  // the batch. The requests the broker has not read fill its socket receive buffer, the producer's sends stop
  // completing, and the closed loop settles at the broker's rate.
  kafka::RecordShape shape;
  shape.value_bytes = 200;
  const auto batch_bytes = static_cast<double>(kafka::uniform_batch_size_bytes(1, shape));
  const double crc_s = batch_bytes / (spec.cpu_costs.crc32c_bytes_per_s * spec.cpu_costs.desktop_to_server_scale);
  const double per_request_s =
      spec.network_thread_request_cost.seconds_f() + spec.cpu_costs.request_fixed_cost.seconds_f() + crc_s;
  CHECK(s.throughput_records_per_s == doctest::Approx(1.0 / per_request_s).scale(0).epsilon(0.02));
  // Without flow control the loop would run at the NIC's pace: a ~300-byte request serialises in ~2.6 us on
  // 1 GbE, so the producer's NIC would carry far more than the broker appends. It carries only what is appended.
  const double request_bytes = batch_bytes + kafka::request_header_bytes + kafka::produce_partition_overhead_bytes;
  const double goodput = 125e6 * 1448.0 / 1538.0;
  CHECK(utilisation(s, "client-0 nic tx") == doctest::Approx(s.throughput_records_per_s * request_bytes / goodput).scale(0)
                                                 .epsilon(0.05));
  // No resource is saturated (the broker's threads take turns on one connection, each busy part of the time), yet
  // the producer cannot go faster: the limit is the connection, whose unread requests never run out once the
  // socket buffer has filled (within the first milliseconds of the 3 s run).
  for (const auto& [name, u] : s.utilisation) CHECK_MESSAGE(u < cluster::kSaturatedUtilisation, name);
  CHECK(s.bottleneck_is_connection);
  CHECK(s.bottleneck == "broker-0 connection from client-0");
  CHECK(s.bottleneck_utilisation > 0.99);
  REQUIRE(s.connection_backlog.size() == 1);
  CHECK(s.connection_backlog[0].second == s.bottleneck_utilisation);
}

TEST_CASE("acks=0 at a rate the broker handles with room to spare: no connection backlog, no connection bottleneck") {
  // The same producer, open loop at a tenth of the broker's per-request rate (constant arrivals: one record, one
  // request, every 200 us against ~60 us of serial work): each request is handled before the next arrives, so no
  // request ever waits behind another.
  auto spec = acks0_closed_loop(200, 0);
  spec.producers[0].closed_loop_threads = 0;
  spec.producers[0].records_per_s = 5000;
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.throughput_records_per_s == doctest::Approx(5000).scale(0).epsilon(0.01));
  CHECK_FALSE(s.bottleneck_is_connection);
  CHECK(s.bottleneck_utilisation < cluster::kSaturatedUtilisation);
  CHECK(s.connection_backlog.empty());
}

TEST_CASE("acks=all with linger.ms=0: requests queue on the connections, but a producer that keeps up is not held back") {
  // 10,000 records/s, one record every 100 us, with linger.ms=0: the producer sends whenever a request may go, and
  // an acks=all request takes at least a follower's fetch round trip (two one-way NIC latencies of 50 us each way,
  // twice: the fetch that carries the record and the one that reports it) before the broker reads the next one.
  // So the next requests are always waiting behind the one in progress, and the batches grow instead: the
  // throughput is the offered rate, and the run is limited by its offered load, not by the connection.
  const auto s = test::run_three_brokers(1, test::open_loop_producer(10000, Acks::all, 0, 200), 3_s, 1_s);
  REQUIRE(s.records_failed == 0);
  CHECK(s.throughput_records_per_s == doctest::Approx(10000).scale(0).epsilon(0.01));
  CHECK(s.records_per_request > 1.5);  // the queueing shows as batching
  double most = 0;
  for (const auto& [name, u] : s.connection_backlog) most = std::max(most, u);
  CHECK(most > cluster::kSaturatedUtilisation);
  CHECK_FALSE(s.bottleneck_is_connection);
  CHECK(s.bottleneck_utilisation < cluster::kSaturatedUtilisation);
}

TEST_CASE("acks=0, 50 records per request: the producer fills its 1 GbE NIC (the broker keeps up)") {
  auto spec = acks0_closed_loop(200, 50);
  // Exactly 50 records per batch: 61-byte header + 50 records; sent when full (a long linger.ms).
  kafka::RecordShape shape;
  shape.value_bytes = 200;
  spec.producers[0].config.batch_size_bytes = static_cast<int32_t>(kafka::uniform_batch_size_bytes(50, shape));
  spec.producers[0].config.linger = 1000_ms;
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.records_per_request == doctest::Approx(50.0).scale(0));
  const double request_bytes = static_cast<double>(kafka::uniform_batch_size_bytes(50, shape)) +
                               kafka::request_header_bytes + kafka::produce_partition_overhead_bytes;
  const double goodput = 125e6 * 1448.0 / 1538.0;
  CHECK(s.throughput_records_per_s == doctest::Approx(50.0 * goodput / request_bytes).scale(0).epsilon(0.01));
  CHECK(s.bottleneck == "client-0 nic tx");
  CHECK_FALSE(s.bottleneck_is_connection);  // a saturated resource is the bottleneck, whatever queues behind it
}

TEST_CASE("socket.receive.buffer.bytes bounds the requests a muted producer connection holds unread") {
  // The broker-paced acks=0 loop of the first case: a record counts as sent once its request has left the client,
  // so the records sent but not yet in the log are the requests the broker has not read (they wait in its socket
  // receive buffer until it holds socket.receive.buffer.bytes of them), plus the one in progress and the few on
  // the wire. Four times the buffer holds three buffers' worth more of them.
  kafka::RecordShape shape;
  shape.value_bytes = 200;
  const double request_bytes = static_cast<double>(kafka::uniform_batch_size_bytes(1, shape)) +
                               kafka::request_header_bytes + kafka::produce_partition_overhead_bytes;
  auto outstanding = [](uint64_t buffer_bytes) {
    auto spec = acks0_closed_loop(200, 1);
    spec.warmup = 0_s;
    spec.socket_receive_buffer_bytes = buffer_bytes;
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.records_failed == 0);
    const kafka::Partition* p = world.partition(0, {0, 0});
    REQUIRE(p != nullptr);
    return static_cast<double>(s.records_acked) - static_cast<double>(p->log_end_offset());
  };
  const double small = outstanding(102400);
  const double large = outstanding(4 * 102400);
  MESSAGE("outstanding " << small << " / " << large << ", request " << request_bytes << " B");
  CHECK(small == doctest::Approx(102400 / request_bytes).scale(0).epsilon(0.05));
  CHECK(large - small == doctest::Approx(3 * 102400 / request_bytes).scale(0).epsilon(0.01));
}
