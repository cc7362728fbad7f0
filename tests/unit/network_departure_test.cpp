// Unit tests of the network model's departure notification (network.hpp, "departs"): the last byte of a message
// leaves the sender's NIC after its serialisation plus the queueing behind what that link direction served
// before it, and is delivered the remaining hops' serialisation and every link latency later. Expectations are
// closed forms written out here from the line rate and the §4.2 goodput fraction, not read from the model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "network_test_support.hpp"

namespace {

using namespace kafkasim::test_net;  // the models, sim time and literals too (network_test_support.hpp)


// Hosts a, b and c, each on a 1 GbE link of 5 us to one switch.
struct Star {
  Topology topo;
  NodeId a, b, c;
  Star() {
    a = topo.add_host("a");
    b = topo.add_host("b");
    c = topo.add_host("c");
    const NodeId sw = topo.add_switch("sw");
    for (NodeId h : {a, b, c}) topo.add_link(h, sw, LinkSpec{kGbeBytesPerS, 5_us});
  }
};


}  // namespace

TEST_CASE("departure: one message on an idle link leaves after B/(C*goodput) and arrives one latency later") {
  sim::Engine engine;
  Pair p(50_us);
  Network net(engine, std::move(p.topo), net_rng());
  const uint64_t bytes = 1000;
  SimTime departed = SimTime::max();
  SimTime delivered = SimTime::max();
  net.send(p.a, p.b, bytes, [&] { delivered = engine.now(); }, nullptr, [&] { departed = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  // 1000 B at 117.7 MB/s = 8.497 us.
  CHECK(departed == SimTime::from_ns(ser_ns(bytes)));
  CHECK(delivered == departed + 50_us);
}

TEST_CASE("departure: a multi-chunk message leaves after all its chunks, whatever the path length") {
  sim::Engine engine;
  Topology topo;
  const NodeId a = topo.add_host("a");
  const NodeId b = topo.add_host("b");
  const NodeId sw = topo.add_switch("sw");
  topo.add_link(a, sw, LinkSpec{kGbeBytesPerS, 20_us});
  topo.add_link(sw, b, LinkSpec{kGbeBytesPerS, 20_us});
  Network net(engine, std::move(topo), net_rng());
  // 10 full chunks and a 1000-byte tail.
  const uint64_t bytes = 10 * uint64_t{kChunk} + 1000;
  SimTime departed = SimTime::max();
  SimTime delivered = SimTime::max();
  net.send(a, b, bytes, [&] { delivered = engine.now(); }, nullptr, [&] { departed = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  const int64_t s_full = ser_ns(kChunk);
  const int64_t s_tail = ser_ns(1000);
  CHECK(departed == SimTime::from_ns(10 * s_full + s_tail));
  // Store and forward per frame (hardware-models.md §4.2): full chunk k has its last byte at the switch at
  // k·s_full + 20 us, and the switch link, which started it as its first frame came in, sends its last frame
  // one frame time later: the 10th ends at 10·s_full + s_frame + 20 us. The 1000-byte tail, there since
  // 10·s_full + s_tail + 20 us, goes next and arrives 20 us after it has serialised.
  const int64_t s_frame = ser_ns(1448);
  CHECK(delivered == SimTime::from_ns(10 * s_full + s_frame + s_tail) + 40_us);
}

TEST_CASE("departure: a message queues behind the earlier messages of its flow") {
  sim::Engine engine;
  Pair p(50_us);
  Network net(engine, std::move(p.topo), net_rng());
  const std::vector<uint64_t> sizes{3000, 200, 70'000};
  std::vector<SimTime> departed(sizes.size(), SimTime::max());
  std::vector<SimTime> delivered(sizes.size(), SimTime::max());
  for (size_t i = 0; i < sizes.size(); ++i)
    net.send(p.a, p.b, sizes[i], [&, i] { delivered[i] = engine.now(); }, nullptr,
             [&, i] { departed[i] = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  // Back to back on the link: each message leaves when everything sent before it and itself has serialised
  // (the 70,000-byte one is a 65,536-byte chunk and a 4,464-byte chunk).
  const int64_t d0 = ser_ns(3000);
  const int64_t d1 = d0 + ser_ns(200);
  const int64_t d2 = d1 + ser_ns(kChunk) + ser_ns(70'000 - kChunk);
  CHECK(departed[0] == SimTime::from_ns(d0));
  CHECK(departed[1] == SimTime::from_ns(d1));
  CHECK(departed[2] == SimTime::from_ns(d2));
  for (size_t i = 0; i < sizes.size(); ++i) CHECK(delivered[i] == departed[i] + 50_us);
}

TEST_CASE("departure: two flows sharing a NIC alternate chunks (DRR), so each waits for the other's chunks") {
  sim::Engine engine;
  Star star;
  const NodeId a = star.a, b = star.b, c = star.c;
  Network net(engine, std::move(star.topo), net_rng());
  // Both 10-chunk messages are queued at t = 0 on a's TX. a->b's first chunk is already serialising when
  // a->c joins the ring, and a->b's next turn comes before a->c's (it was in the ring first); from then on DRR
  // with a one-chunk quantum alternates: b1 b2 c1 b3 c2 ... b10 c9 c10. a->b's 10th chunk is the 18th served,
  // a->c's the 20th; alone, a->b would have left after 10 chunks.
  SimTime to_b = SimTime::max();
  SimTime to_c = SimTime::max();
  net.send(a, b, 10 * uint64_t{kChunk}, [] {}, nullptr, [&] { to_b = engine.now(); });
  net.send(a, c, 10 * uint64_t{kChunk}, [] {}, nullptr, [&] { to_c = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  CHECK(to_b == SimTime::from_ns(18 * ser_ns(kChunk)));
  CHECK(to_c == SimTime::from_ns(20 * ser_ns(kChunk)));
}

TEST_CASE("departure: a loss delays delivery by the retransmission timeout but not departure") {
  sim::Engine engine;
  Pair p(120_us);
  Network net(engine, std::move(p.topo), net_rng());
  net.inject_chunk_loss(p.a, p.b, 1);
  SimTime departed = SimTime::max();
  SimTime delivered = SimTime::max();
  net.send(p.a, p.b, 1000, [&] { delivered = engine.now(); }, nullptr, [&] { departed = engine.now(); });
  engine.run_until(SimTime::from_ns(2'000'000'000));
  CHECK(departed == SimTime::from_ns(ser_ns(1000)));
  // RTO = SRTT + max(4 RTTVAR, 200 ms) with SRTT = 240 us and RTTVAR = SRTT/2 (network.hpp, Linux tcp.h).
  CHECK(delivered == departed + 120_us + 200_ms + 240_us);
}

TEST_CASE("departure: a message dropped at send() never departs; loopback departs before it is delivered") {
  sim::Engine engine;
  Pair p(5_us);
  const NodeId a = p.a;
  const NodeId b = p.b;
  Network net(engine, std::move(p.topo), net_rng());
  net.partition({a}, {b});
  int departed = 0;
  int dropped = 0;
  net.send(a, b, 1000, [] {}, [&] { ++dropped; }, [&] { ++departed; });
  engine.run_until(SimTime::from_ns(10'000'000));
  CHECK(dropped == 1);
  CHECK(departed == 0);
  net.heal_all();

  std::vector<int> order;
  bool synchronous = false;
  engine.schedule_at(SimTime::from_ns(20'000'000), [&] {
    net.send(a, a, 500, [&] { order.push_back(2); }, nullptr, [&] { order.push_back(1); });
    synchronous = !order.empty();
  });
  engine.run_until(SimTime::from_ns(30'000'000));
  CHECK_FALSE(synchronous);
  CHECK(order == std::vector<int>{1, 2});
}

namespace {

// A closed loop over one link: each message is sent when the previous one has left the NIC, like a blocking
// socket write in a loop. Returns every departure time.
std::vector<int64_t> closed_loop_departures(Duration latency, uint64_t bytes, int n) {
  sim::Engine engine;
  Pair p(latency);
  Network net(engine, std::move(p.topo), net_rng());
  std::vector<int64_t> departures;
  int delivered = 0;
  std::function<void()> next = [&] {
    net.send(p.a, p.b, bytes, [&] { ++delivered; }, nullptr, [&] {
      departures.push_back(engine.now().ns());
      if (static_cast<int>(departures.size()) < n) next();
    });
  };
  next();
  engine.run_until(SimTime::from_ns(1'000'000'000));
  CHECK(delivered == n);
  return departures;
}

}  // namespace

TEST_CASE("departure: a departure callback may send on the same flow (a closed loop paced by the NIC)") {
  const uint64_t bytes = 250;
  const int n = 100;
  SUBCASE("short link: nothing limits the loop but serialisation, the i-th message leaves after i·s(B)") {
    const std::vector<int64_t> d = closed_loop_departures(1_us, bytes, n);
    REQUIRE(d.size() == static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(d[static_cast<size_t>(i)] == (i + 1) * ser_ns(bytes));
  }
  SUBCASE("long link: the window of 16 chunks holds message i until message i-16 is delivered") {
    // d_i = max(d_{i-1}, d_{i-16} + L) + s(B), with d_j = 0 for j < 0: the recurrence of a window of W = 16
    // one-chunk messages released on delivery (NetworkConfig::window_chunks).
    const int64_t lat = 50'000;
    const std::vector<int64_t> d = closed_loop_departures(Duration::from_ns(lat), bytes, n);
    REQUIRE(d.size() == static_cast<size_t>(n));
    std::vector<int64_t> expect;
    for (int i = 0; i < n; ++i) {
      int64_t start = i == 0 ? 0 : expect.back();
      if (i >= 16) start = std::max(start, expect[static_cast<size_t>(i - 16)] + lat);
      expect.push_back(start + ser_ns(bytes));
    }
    CHECK(d == expect);
    // So after the first window the loop runs at 16 messages per (L + s(B)), slower than one per s(B).
    CHECK(d.back() > n * ser_ns(bytes) + lat);
  }
}

TEST_CASE("flow control: a sender flooding a slow reader departs at the reader's pace, never past its buffer") {
  sim::Engine engine;
  Pair p(50_us);
  const NodeId a = p.a;
  const NodeId b = p.b;
  Network net(engine, std::move(p.topo), net_rng());
  // A reader that takes one 270-byte message every 60 us out of a 100 KiB receive buffer (Kafka's default
  // socket.receive.buffer.bytes), and a sender that queues 5,000 messages at once.
  const uint64_t bytes = 270;
  const uint64_t buffer = 102'400;
  const Duration period = 60_us;
  net.set_receive_buffer(a, b, buffer);
  std::vector<int64_t> departures;
  int delivered = 0;
  uint64_t max_unread = 0;
  for (int i = 0; i < 5000; ++i)
    net.send(a, b, bytes, [&] { ++delivered; max_unread = std::max(max_unread, net.unread_bytes(a, b)); }, nullptr,
             [&] { departures.push_back(engine.now().ns()); });
  std::function<void()> read = [&] {
    if (net.unread_bytes(a, b) >= bytes) net.consume(a, b, bytes);
    engine.schedule_after(period, read);
  };
  engine.schedule_after(period, read);
  engine.run_until(SimTime::from_ns(400'000'000));  // 5,000 reads take 300 ms
  REQUIRE(departures.size() == 5000u);
  // The window closes once the buffer is full; what was already in flight then (at most the 16-chunk window,
  // NetworkConfig::window_chunks, here 16 one-chunk messages) still arrives.
  CHECK(max_unread <= buffer + 16 * bytes);
  CHECK(max_unread + bytes > buffer);
  // Steady state: departures are paced by the reader, one message per 60 us (the first ~379 filled the buffer
  // and the 16-chunk window at line rate).
  const int64_t span = departures[4999] - departures[1999];
  CHECK(static_cast<double>(span) == doctest::Approx(3000.0 * static_cast<double>(period.ns())).scale(0).epsilon(0.01));
}

TEST_CASE("flow control: nothing unread means any message moves; flows without it are not limited") {
  sim::Engine engine;
  Star star;
  const NodeId a = star.a, b = star.b, c = star.c;
  Network net(engine, std::move(star.topo), net_rng());
  // A 1 MB message through a 100 KiB buffer: its chunks still flow (the reader takes it in as it arrives).
  net.set_receive_buffer(a, b, 102'400);
  int big = 0;
  net.send(a, b, 1'000'000, [&] { ++big; });
  // a -> c has no flow control: 300 messages pass without anyone reading.
  int to_c = 0;
  for (int i = 0; i < 300; ++i) net.send(a, c, 1000, [&] { ++to_c; });
  engine.run_until(SimTime::from_ns(100'000'000));
  CHECK(big == 1);
  CHECK(to_c == 300);
  CHECK(net.unread_bytes(a, b) == 1'000'000u);
  CHECK(net.unread_bytes(a, c) == 0u);
  // Now the buffer is over-full: a further message does not leave a until the reader has taken the first.
  int second = 0;
  bool second_departed = false;
  net.send(a, b, 1000, [&] { ++second; }, nullptr, [&] { second_departed = true; });
  engine.run_until(SimTime::from_ns(200'000'000));
  CHECK_FALSE(second_departed);
  CHECK(second == 0);
  net.consume(a, b, 1'000'000);
  engine.run_until(SimTime::from_ns(300'000'000));
  CHECK(second_departed);
  CHECK(second == 1);
  CHECK(net.unread_bytes(a, b) == 1000u);
}
