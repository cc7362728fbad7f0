// Unit tests of Network::cancel (network.hpp, "Cancellation"): closing a connection withdraws the messages whose
// last byte has not left the sender. Their chunks still queued at the sender's NIC never use a link, a chunk
// already serialising (or past the NIC) finishes and counts as bytes on every link it crosses, the message is never
// delivered and none of its callbacks runs; a message that has departed is delivered as usual; the other messages
// of the flow and the other flows go on as if the withdrawn chunks had never been queued. Expectations are written
// out here from the line rate, the §4.2 goodput fraction, the 64 KiB chunk and DRR's alternation, not read from
// the model.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "network_test_support.hpp"

namespace {

using namespace kafkasim::test_net;  // the models, sim time and literals too (network_test_support.hpp)

const int64_t kChunkNs = ser_ns(kChunk);

// Hosts a, b, c and d, each on a 1 GbE link of 5 us to one switch.
struct Star {
  Topology topo;
  NodeId a, b, c, d, sw;
  Star() {
    a = topo.add_host("a");
    b = topo.add_host("b");
    c = topo.add_host("c");
    d = topo.add_host("d");
    sw = topo.add_switch("sw");
    for (NodeId h : {a, b, c, d}) topo.add_link(h, sw, LinkSpec{kGbeBytesPerS, 5_us});
  }
};


// What happened to one message.
struct Seen {
  SimTime departed = SimTime::max();
  SimTime delivered = SimTime::max();
  int dropped = 0;
  int callbacks() const { return (departed != SimTime::max()) + (delivered != SimTime::max()) + dropped; }
};

MessageId send(Network& net, sim::Engine& engine, NodeId src, NodeId dst, uint64_t bytes, Seen& seen) {
  return net.send(
      src, dst, bytes, [&seen, &engine] { seen.delivered = engine.now(); }, [&seen] { ++seen.dropped; },
      [&seen, &engine] { seen.departed = engine.now(); });
}

}  // namespace

TEST_CASE("cancel: a message still queued at the NIC never uses the link; the next one leaves as if it never was") {
  sim::Engine engine;
  Pair p(50_us);
  Network net(engine, std::move(p.topo), net_rng());
  // 10 chunks ahead of it; the 100,000-byte message (two chunks, 65,536 + 34,464) waits behind them.
  Seen first, cancelled, last;
  send(net, engine, p.a, p.b, 10 * uint64_t{kChunk}, first);
  const MessageId id = send(net, engine, p.a, p.b, 100'000, cancelled);
  send(net, engine, p.a, p.b, 1000, last);
  CHECK(net.cancel(p.a, p.b, id));
  CHECK_FALSE(net.cancel(p.a, p.b, id));  // once only
  engine.run_until(SimTime::from_ns(1'000'000'000));

  CHECK(cancelled.callbacks() == 0);
  CHECK(first.departed == SimTime::from_ns(10 * kChunkNs));
  // The last message follows the first directly: the withdrawn bytes took no link time.
  CHECK(last.departed == SimTime::from_ns(10 * kChunkNs + ser_ns(1000)));
  CHECK(last.delivered == last.departed + 50_us);
  CHECK(net.link_counters(p.a, p.b).bytes == 10 * uint64_t{kChunk} + 1000);
  CHECK(net.link_counters(p.a, p.b).chunks == 11);
  CHECK(net.host_counters(p.a).bytes_sent == 10 * uint64_t{kChunk} + 1000);
  CHECK(net.host_counters(p.b).messages_received == 2);
  CHECK(net.host_counters(p.b).bytes_received == 10 * uint64_t{kChunk} + 1000);
  CHECK(net.counters().messages_sent == 3);
  CHECK(net.counters().messages_delivered == 2);
  CHECK(net.counters().messages_cancelled == 1);
  CHECK(net.counters().messages_dropped == 0);
}

TEST_CASE("cancel: a message cut off mid-send: the chunk on the wire finishes and arrives, the rest never leave") {
  // A 5-chunk message fits the 16-chunk window; a 20-chunk one does not (4 chunks not yet cut when cancelled). Either
  // way, cancelled while its third chunk serialises, exactly three chunks cross the link and the message is never
  // delivered; a message sent after it leaves right after the third chunk.
  for (const uint64_t chunks : {uint64_t{5}, uint64_t{20}}) {
    CAPTURE(chunks);
    sim::Engine engine;
    Pair p(50_us);
    Network net(engine, std::move(p.topo), net_rng());
    Seen cut_off, next;
    const MessageId id = send(net, engine, p.a, p.b, chunks * kChunk, cut_off);
    send(net, engine, p.a, p.b, 1000, next);
    bool cancelled = false;
    engine.schedule_at(SimTime::from_ns(2 * kChunkNs + kChunkNs / 2), [&] { cancelled = net.cancel(p.a, p.b, id); });
    engine.run_until(SimTime::from_ns(1'000'000'000));

    CHECK(cancelled);
    CHECK(cut_off.callbacks() == 0);
    CHECK(next.departed == SimTime::from_ns(3 * kChunkNs + ser_ns(1000)));
    CHECK(next.delivered == next.departed + 50_us);
    // Bytes on the wire are accounted as bytes on the link and as bytes reaching b, not as a message received.
    CHECK(net.link_counters(p.a, p.b).bytes == 3 * uint64_t{kChunk} + 1000);
    CHECK(net.flow_bytes_delivered(p.a, p.b) == 3 * uint64_t{kChunk} + 1000);
    CHECK(net.host_counters(p.b).messages_received == 1);
    CHECK(net.host_counters(p.b).bytes_received == 1000);
    // The link was busy exactly while it serialised those bytes.
    const double busy_s = net.link_utilisation(p.a, p.b) * engine.now().seconds_f();
    CHECK(busy_s == doctest::Approx(static_cast<double>(3 * kChunkNs + ser_ns(1000)) / 1e9).scale(0).epsilon(1e-9));
  }
}

TEST_CASE("cancel: a message that has departed is not cancelled and is delivered") {
  sim::Engine engine;
  Pair p(50_us);
  Network net(engine, std::move(p.topo), net_rng());
  Seen seen;
  const MessageId id = send(net, engine, p.a, p.b, 1000, seen);
  bool in_flight = true;
  bool delivered = true;
  // Its last byte left a at ser(1000); at +10 us it is on the 50 us link; at +60 us it has been delivered.
  engine.schedule_at(SimTime::from_ns(ser_ns(1000)) + 10_us, [&] { in_flight = net.cancel(p.a, p.b, id); });
  engine.schedule_at(SimTime::from_ns(ser_ns(1000)) + 60_us, [&] { delivered = net.cancel(p.a, p.b, id); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  CHECK_FALSE(in_flight);
  CHECK_FALSE(delivered);
  CHECK(seen.departed == SimTime::from_ns(ser_ns(1000)));
  CHECK(seen.delivered == seen.departed + 50_us);
  CHECK(net.counters().messages_cancelled == 0);
  // Unknown ids, other flows and loopback messages are not cancelled either.
  CHECK_FALSE(net.cancel(p.a, p.b, MessageId{999}));
  CHECK_FALSE(net.cancel(p.b, p.a, id));
  const MessageId self = net.send(p.a, p.a, 10, nullptr);
  CHECK_FALSE(net.cancel(p.a, p.a, self));
}

TEST_CASE("cancel: other flows sharing the NIC take the withdrawn chunks' turns (DRR), the flow itself goes on") {
  // Three 3-chunk messages from a share a's NIC: Y to c, then X to b, then Z to d, sent at 0. DRR (quantum one
  // chunk) serves Y1 at once (Y alone in the ring), then Y2 (Y's fresh turn), then X1, Z1, Y3, X2, Z2, X3, Z3, one
  // chunk time each: Y departs after 5 chunk times, X after 8, Z after 9. Cancelled at 4.5 chunk times (Y3
  // serialising), X has one chunk out (X1, which has reached b by then: one chunk time after it left plus a frame
  // and two 5 us links is far less) and X2, X3 queued, which never leave: Z2 and Z3 follow Y3 at once, and Z
  // departs after 7 chunk times.
  sim::Engine engine;
  Star s;
  Network net(engine, std::move(s.topo), net_rng());
  Seen x, y, z, x_after;
  send(net, engine, s.a, s.c, 3 * kChunk, y);
  const MessageId id = send(net, engine, s.a, s.b, 3 * kChunk, x);
  send(net, engine, s.a, s.d, 3 * kChunk, z);
  bool cancelled = false;
  engine.schedule_at(SimTime::from_ns(4 * kChunkNs + kChunkNs / 2), [&] { cancelled = net.cancel(s.a, s.b, id); });
  // The flow to b carries a later message normally.
  engine.schedule_at(SimTime::from_ns(10'000'000), [&] { send(net, engine, s.a, s.b, 1000, x_after); });
  engine.run_until(SimTime::from_ns(1'000'000'000));

  CHECK(cancelled);
  CHECK(x.callbacks() == 0);
  CHECK(y.departed == SimTime::from_ns(5 * kChunkNs));
  CHECK(z.departed == SimTime::from_ns(7 * kChunkNs));
  CHECK(y.delivered != SimTime::max());
  CHECK(z.delivered != SimTime::max());
  CHECK(x_after.departed == SimTime::from_ns(10'000'000 + ser_ns(1000)));
  CHECK(x_after.delivered != SimTime::max());
  // X1 crossed both of its links; X2 and X3 none.
  CHECK(net.link_counters(s.a, s.sw).bytes == 7 * uint64_t{kChunk} + 1000);
  CHECK(net.link_counters(s.sw, s.b).bytes == kChunk + 1000);
  CHECK(net.host_counters(s.b).messages_received == 1);
  CHECK(net.host_counters(s.b).bytes_received == 1000);
  CHECK(net.counters().messages_delivered == 3);
  CHECK(net.counters().messages_cancelled == 1);
}

TEST_CASE("cancel: the same runs give the same trace, with and without cancellations") {
  auto run = [](bool cancel) {
    sim::Engine engine;
    Star s;
    Network net(engine, std::move(s.topo), net_rng());
    Seen seen[6];
    MessageId ids[6];
    for (int i = 0; i < 6; ++i) ids[i] = send(net, engine, s.a, i % 2 == 0 ? s.b : s.c, (i + 1) * 50'000, seen[i]);
    if (cancel)
      engine.schedule_at(SimTime::from_ns(kChunkNs), [&] {
        net.cancel(s.a, s.b, ids[2]);
        net.cancel(s.a, s.c, ids[5]);
      });
    engine.run_until(SimTime::from_ns(1'000'000'000));
    return engine.trace_hash();
  };
  CHECK(run(true) == run(true));
  CHECK(run(true) != run(false));
}
