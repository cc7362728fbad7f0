// Unit tests of the NIC + fabric model against the closed-form checks of reference/hardware-models.md §6
// (checks 2, 3 and 15) and the fault semantics stated in network.hpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "network_test_support.hpp"

namespace {

using namespace kafkasim::test_net;  // the models, sim time and literals too (network_test_support.hpp)

constexpr uint32_t kFrame = 1448;  // TCP payload of one 1500-MTU frame (hardware-models.md §4.2)

double seconds_for(double bytes) { return bytes / kGoodputBytesPerS; }

// Three hosts "a", "b", "c" plus "d" under one switch, every link 1 GbE with latency `lat`.
struct Star {
  Topology topo;
  NodeId a, b, c, d, sw;
  explicit Star(Duration lat) {
    sw = topo.add_switch("tor", "r0");
    a = topo.add_host("a", "r0");
    b = topo.add_host("b", "r0");
    c = topo.add_host("c", "r0");
    d = topo.add_host("d", "r0");
    for (NodeId h : {a, b, c, d}) topo.add_link(h, sw, LinkSpec{kGbeBytesPerS, lat});
  }
};

}  // namespace

TEST_CASE("check 2: 1 GiB over an idle 1 GbE path takes 1 GiB / (125e6 * 1448/1538) = 9.12 s plus latency") {
  sim::Engine engine;
  const Duration lat = 5_us;
  Star s(lat);
  Network net(engine, std::move(s.topo), net_rng());
  SimTime done = SimTime::max();
  const uint64_t gib = uint64_t{1} << 30;
  net.send(s.a, s.d, gib, [&] { done = engine.now(); });
  engine.run_until(SimTime::from_ns(20'000'000'000));
  REQUIRE(done != SimTime::max());

  // Store-and-forward per frame over 2 hops (hardware-models.md §4.2): the bottleneck serialises all 16384
  // chunks back to back, the last frame (1448 B of payload) then crosses the second hop once more, plus both
  // link latencies.
  const double expected_s = seconds_for(static_cast<double>(gib)) + seconds_for(kFrame) + 2 * lat.seconds_f();
  CHECK(done.seconds_f() == doctest::Approx(expected_s).scale(0).epsilon(1e-5));
  CHECK(std::abs(done.seconds_f() - 9.12) < 0.01);  // §6 check 2, as printed
  CHECK(net.host_counters(s.a).bytes_sent == gib);
  CHECK(net.host_counters(s.d).bytes_received == gib);
  CHECK(net.link_counters(s.sw, s.d).bytes == gib);
  // The source NIC was busy exactly while serialising the 1 GiB; run_until left the clock at 20 s.
  CHECK(net.link_utilisation(s.a, s.sw) ==
        doctest::Approx(seconds_for(static_cast<double>(gib)) / engine.now().seconds_f()).scale(0).epsilon(1e-5));
  // Nothing used the other direction of the duplex link.
  CHECK(net.link_counters(s.sw, s.a).bytes == 0);
}

TEST_CASE("a small message's latency is its serialisation on each hop plus the link latencies") {
  sim::Engine engine;
  const LinkSpec host_link{kGbeBytesPerS, 20_us};
  const LinkSpec uplink{1.25e9, 3_us};  // 10 GbE uplinks
  Topology topo = make_leaf_spine(4, 2, host_link, uplink);
  const NodeId h0 = *topo.find("host-0");
  const NodeId h1 = *topo.find("host-1");  // other rack
  const NodeId h2 = *topo.find("host-2");  // same rack as host-0
  Network net(engine, std::move(topo), net_rng());

  const uint64_t bytes = 1000;
  SimTime same_rack = SimTime::max();
  SimTime cross_rack = SimTime::max();
  net.send(h0, h2, bytes, [&] { same_rack = engine.now(); });
  net.send(h0, h1, bytes, [&] { cross_rack = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));

  // Same rack: two 1 GbE hops. Both messages leave host-0 through the same TX; the second one waits for
  // the first one's serialisation there.
  const double s_gbe = bytes / kGoodputBytesPerS;
  const double s_10g = bytes / (1.25e9 * kGoodput);
  const double expect_same = 2 * s_gbe + 2 * 20e-6;
  const double expect_cross = s_gbe /* wait behind the first message */ + 2 * s_gbe + 2 * s_10g + 2 * 20e-6 +
                              2 * 3e-6;
  // Each hop's serialisation is rounded up to the nanosecond: at most one nanosecond a term (2 and 5 of them).
  const auto same_ns = static_cast<int64_t>(std::floor(expect_same * 1e9));
  const auto cross_ns = static_cast<int64_t>(std::floor(expect_cross * 1e9));
  CHECK(same_rack.ns() >= same_ns);
  CHECK(same_rack.ns() <= same_ns + 2);
  CHECK(cross_rack.ns() >= cross_ns);
  CHECK(cross_rack.ns() <= cross_ns + 5);
}

TEST_CASE("route choice: cross-rack traffic crosses the spine, same-rack traffic stays under the ToR") {
  sim::Engine engine;
  Topology topo = make_leaf_spine(4, 2, LinkSpec{}, LinkSpec{});
  const NodeId h0 = *topo.find("host-0");
  const NodeId h1 = *topo.find("host-1");
  const NodeId h2 = *topo.find("host-2");
  const NodeId tor0 = *topo.find("tor-0");
  const NodeId tor1 = *topo.find("tor-1");
  const NodeId spine = *topo.find("spine");
  CHECK(topo.node(h1).rack == "rack-1");
  Network net(engine, std::move(topo), net_rng());
  CHECK(net.route(h0, h1) == std::vector<NodeId>{h0, tor0, spine, tor1, h1});
  CHECK(net.route(h1, h0) == std::vector<NodeId>{h1, tor1, spine, tor0, h0});
  CHECK(net.route(h0, h2) == std::vector<NodeId>{h0, tor0, h2});
}

TEST_CASE("route choice: lowest latency first, then fewest hops") {
  sim::Engine engine;
  Topology topo;
  const NodeId a = topo.add_host("a");
  const NodeId b = topo.add_host("b");
  const NodeId c = topo.add_host("c");
  const NodeId s = topo.add_switch("s");
  topo.add_link(a, b, LinkSpec{125e6, 100_us});  // slow direct link
  topo.add_link(a, s, LinkSpec{125e6, 10_us});
  topo.add_link(s, b, LinkSpec{125e6, 10_us});
  topo.add_link(a, c, LinkSpec{125e6, 20_us});   // equal latency to a-s-c, one hop fewer
  topo.add_link(s, c, LinkSpec{125e6, 10_us});
  Network net(engine, std::move(topo), net_rng());
  CHECK(net.route(a, b) == std::vector<NodeId>{a, s, b});
  CHECK(net.route(a, c) == std::vector<NodeId>{a, c});
}

namespace {

// Runs the engine from t1 to t2 and checks at every 5 ms that each flow's delivered bytes since t1 track
// share_i · G · (t − t1) within `tolerance_bytes`. Returns the number of samples that were off.
int max_min_violations(sim::Engine& engine, Network& net, const std::vector<std::pair<NodeId, NodeId>>& flows,
                       const std::vector<double>& shares, SimTime t1, SimTime t2, double tolerance_bytes) {
  engine.run_until(t1);
  std::vector<uint64_t> start;
  for (const auto& [src, dst] : flows) start.push_back(net.flow_bytes_delivered(src, dst));
  int violations = 0;
  for (SimTime t = t1 + 5_ms; t <= t2; t += 5_ms) {
    engine.run_until(t);
    for (size_t i = 0; i < flows.size(); ++i) {
      const double got = static_cast<double>(net.flow_bytes_delivered(flows[i].first, flows[i].second) - start[i]);
      const double fair = shares[i] * kGoodputBytesPerS * (t - t1).seconds_f();
      if (std::abs(got - fair) > tolerance_bytes) ++violations;
    }
  }
  return violations;
}

}  // namespace

TEST_CASE("check 3: two greedy flows on one link get C/2 each within n*c") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng());
  // Both flows end at d, so the switch -> d direction is the shared bottleneck.
  net.send(s.a, s.d, 200'000'000, [] {});
  net.send(s.b, s.d, 200'000'000, [] {});
  // n·c bytes (§4.3: at most one chunk of lead/lag per round), checked every 5 ms for one second.
  const double tolerance = 2.0 * kChunk;
  CHECK(max_min_violations(engine, net, {{s.a, s.d}, {s.b, s.d}}, {0.5, 0.5}, SimTime::from_ns(200'000'000),
                           SimTime::from_ns(1'200'000'000), tolerance) == 0);
  CHECK(net.link_utilisation(s.sw, s.d) > 0.99);
}

TEST_CASE("check 3: demands {0.2C, inf, inf} get {0.2C, 0.4C, 0.4C} (max-min)") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng());
  // a's own NIC is capped at 0.2 C, so its flow is limited upstream of the shared switch -> d link.
  net.set_host_fault(s.a, LinkFault{.rate_multiplier = 0.2});
  net.send(s.a, s.d, 300'000'000, [] {});
  net.send(s.b, s.d, 300'000'000, [] {});
  net.send(s.c, s.d, 300'000'000, [] {});
  const std::vector<std::pair<NodeId, NodeId>> flows{{s.a, s.d}, {s.b, s.d}, {s.c, s.d}};
  const double tolerance = 3.0 * kChunk;  // n·c
  CHECK(max_min_violations(engine, net, flows, {0.2, 0.4, 0.4}, SimTime::from_ns(200'000'000),
                           SimTime::from_ns(1'200'000'000), tolerance) == 0);

  // Clearing the cap lets the three flows share equally again: C/3 each.
  net.clear_host_fault(s.a);
  CHECK(max_min_violations(engine, net, flows, {1.0 / 3, 1.0 / 3, 1.0 / 3}, SimTime::from_ns(1'400'000'000),
                           SimTime::from_ns(2'400'000'000), tolerance) == 0);
}

TEST_CASE("TX and RX of a NIC are independent servers (full duplex)") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng());
  // a sends to b while b sends to a: each direction of each link carries one flow, so both finish as if
  // alone: N chunks back to back + one more frame hop + two latencies.
  const uint64_t bytes = 100 * uint64_t{kChunk};
  SimTime ab = SimTime::max();
  SimTime ba = SimTime::max();
  net.send(s.a, s.b, bytes, [&] { ab = engine.now(); });
  net.send(s.b, s.a, bytes, [&] { ba = engine.now(); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  const double alone = seconds_for(static_cast<double>(bytes)) + seconds_for(kFrame) + 10e-6;
  CHECK(ab.seconds_f() == doctest::Approx(alone).scale(0).epsilon(1e-6));
  CHECK(ba.seconds_f() == doctest::Approx(alone).scale(0).epsilon(1e-6));
}

TEST_CASE("a symmetric partition drops both ways, a one-way partition one way, healing restores delivery") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng());
  int delivered = 0;
  int dropped = 0;
  auto send = [&](NodeId from, NodeId to) {
    net.send(from, to, 1000, [&] { ++delivered; }, [&] { ++dropped; });
    engine.run_until(engine.now() + 10_ms);
  };

  const PartitionId p = net.partition({s.a}, {s.b});
  send(s.a, s.b);
  send(s.b, s.a);
  CHECK(delivered == 0);
  CHECK(dropped == 2);
  send(s.c, s.b);  // not involved
  CHECK(delivered == 1);
  CHECK(net.counters().messages_dropped == 2);
  CHECK(net.host_counters(s.a).messages_dropped == 1);
  CHECK(net.host_counters(s.b).messages_received == 1);
  // A dropped message used no link.
  CHECK(net.link_counters(s.a, s.sw).bytes == 0);

  net.heal(p);
  send(s.a, s.b);
  send(s.b, s.a);
  CHECK(delivered == 3);
  CHECK(dropped == 2);

  net.partition({s.a}, {s.b}, PartitionKind::kOneWay);
  send(s.a, s.b);
  CHECK(dropped == 3);
  send(s.b, s.a);
  CHECK(delivered == 4);
  net.heal_all();
  send(s.a, s.b);
  CHECK(delivered == 5);
  CHECK(dropped == 3);
}

TEST_CASE("a message in flight when a partition starts is dropped; partitions can cut at a switch") {
  sim::Engine engine;
  Topology topo = make_leaf_spine(4, 2, LinkSpec{}, LinkSpec{});
  const NodeId h0 = *topo.find("host-0");
  const NodeId h1 = *topo.find("host-1");
  const NodeId h2 = *topo.find("host-2");
  const NodeId tor0 = *topo.find("tor-0");
  const NodeId spine = *topo.find("spine");
  Network net(engine, std::move(topo), net_rng());

  int delivered = 0;
  int dropped = 0;
  // 10 MB takes ~85 ms at 1 GbE goodput; the partition starts after 10 ms.
  net.send(h0, h2, 10'000'000, [&] { ++delivered; }, [&] { ++dropped; });
  engine.run_until(SimTime::from_ns(10'000'000));
  net.partition({h0}, {h2});
  engine.run_until(SimTime::from_ns(1'000'000'000));
  CHECK(delivered == 0);
  CHECK(dropped == 1);
  net.heal_all();

  // Cutting rack 0's ToR from the spine isolates the racks but keeps same-rack traffic.
  net.partition({tor0}, {spine});
  CHECK(net.is_partitioned(h0, h1));
  CHECK(net.is_partitioned(h1, h0));
  CHECK_FALSE(net.is_partitioned(h0, h2));
  net.send(h0, h1, 1000, [&] { ++delivered; }, [&] { ++dropped; });
  net.send(h0, h2, 1000, [&] { ++delivered; }, [&] { ++dropped; });
  engine.run_until(engine.now() + 10_ms);
  CHECK(delivered == 1);
  CHECK(dropped == 2);
}

TEST_CASE("check 15: RTO floor - one loss adds >= 200 ms, two consecutive add 200 + 400 = 600 ms") {
  // The closed form first: RTT 0.24 ms (the reference's `ss` example), Linux TCP_RTO_MIN = 200 ms.
  const NetworkConfig cfg;
  const Duration srtt = 240_us;
  CHECK(Network::retransmission_delay(srtt, 0, cfg) == Duration::zero());
  CHECK(Network::retransmission_delay(srtt, 1, cfg) >= 200_ms);
  CHECK(Network::retransmission_delay(srtt, 1, cfg) == 200_ms + srtt);  // "rto 201 ms at rtt 0.24 ms"
  CHECK(Network::retransmission_delay(srtt, 2, cfg) >= 600_ms);
  CHECK(Network::retransmission_delay(srtt, 2, cfg) == 600_ms + 3 * srtt);
  // Doubling stops at TCP_RTO_MAX = 120 s: 200 ms · (1 + 2 + ... + 2^9) + 120 s for 11 timeouts.
  CHECK(Network::retransmission_delay(Duration::zero(), 11, cfg) == Duration::from_ms(200 * 1023) + 120_s);

  // End to end on a path whose round trip is 0.24 ms: two hosts joined by one 0.12 ms link.
  sim::Engine engine;
  Topology topo;
  const NodeId a = topo.add_host("a");
  const NodeId b = topo.add_host("b");
  topo.add_link(a, b, LinkSpec{kGbeBytesPerS, 120_us});
  Network net(engine, std::move(topo), net_rng());
  const double base_s = seconds_for(1000) + 120e-6;

  auto one = [&](uint32_t timeouts) {
    if (timeouts > 0) net.inject_chunk_loss(a, b, timeouts);
    const SimTime start = engine.now();
    SimTime done = SimTime::max();
    net.send(a, b, 1000, [&] { done = engine.now(); });
    engine.run_until(start + 10_s);
    REQUIRE(done != SimTime::max());
    return (done - start).seconds_f() - base_s;
  };
  CHECK(std::abs(one(0)) < 1e-8);
  const double one_loss = one(1);
  CHECK(one_loss >= 0.200);
  CHECK(one_loss < 0.200 + 2 * 240e-6);
  const double two_losses = one(2);
  CHECK(two_losses >= 0.600);
  CHECK(two_losses < 0.600 + 4 * 240e-6);
  CHECK(net.link_counters(a, b).retransmission_timeouts == 3);
  CHECK(net.link_counters(a, b).chunk_losses == 2);
  CHECK(net.counters().messages_dropped == 0);  // loss is a delay, never a drop
}

TEST_CASE("a lost chunk holds back later messages of its flow (in-order delivery)") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng());
  net.inject_chunk_loss(s.a, s.sw, 1);
  std::vector<int> order;
  SimTime second = SimTime::max();
  net.send(s.a, s.d, 1000, [&] { order.push_back(1); });
  net.send(s.a, s.d, 1000, [&] { order.push_back(2); second = engine.now(); });
  engine.run_until(SimTime::from_ns(2'000'000'000));
  CHECK(order == std::vector<int>{1, 2});
  CHECK(second.seconds_f() >= 0.200);
}

TEST_CASE("random per-packet loss hits chunks at 1 - (1-p)^k and repeats with probability p") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng(42));
  const double p = 0.05;
  net.set_link_fault(s.a, s.sw, LinkFault{.loss_per_packet = p});
  // 2000 one-packet messages (k = 1): the loss fraction should be p within ~4 standard deviations.
  const int n = 2000;
  int delivered = 0;
  for (int i = 0; i < n; ++i) net.send(s.a, s.d, 1000, [&] { ++delivered; });
  engine.run_until(SimTime::from_ns(3'600'000'000'000));
  CHECK(delivered == n);
  const auto& lc = net.link_counters(s.a, s.sw);
  const double frac = static_cast<double>(lc.chunk_losses) / n;
  CHECK(std::abs(frac - p) < 4 * std::sqrt(p * (1 - p) / n));
  // Timeouts per lost chunk are geometric with mean 1/(1-p).
  const double per_loss = static_cast<double>(lc.retransmission_timeouts) / static_cast<double>(lc.chunk_losses);
  CHECK(per_loss >= 1.0);
  CHECK(per_loss < 1.0 / (1 - p) + 0.1);
}

TEST_CASE("added latency and jitter: delay within [extra, extra + jitter], never reordering a flow") {
  sim::Engine engine;
  Star s(5_us);
  Network net(engine, std::move(s.topo), net_rng(7));
  net.set_path_fault(s.a, s.d, PathFault{.extra_latency = 1_ms, .jitter_max = 5_ms});
  net.set_link_fault(s.sw, s.d, LinkFault{.jitter_max = 2_ms});
  // Idle-path latency of a lone 1000 B message: two serialisations + two latencies.
  const double base_s = 2 * seconds_for(1000) + 10e-6;
  std::vector<int> order;
  std::vector<double> latency_s;
  // Messages 3 ms apart, so each normally crosses an idle path, but jitter up to 7 ms could reorder them.
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    const SimTime at = SimTime::from_ns(int64_t{i} * 3'000'000);
    engine.schedule_at(at, [&, i, at] {
      net.send(s.a, s.d, 1000, [&, i, at] {
        order.push_back(i);
        latency_s.push_back((engine.now() - at).seconds_f());
      });
    });
  }
  engine.run_until(SimTime::from_ns(10'000'000'000));
  REQUIRE(order.size() == static_cast<size_t>(n));
  bool in_order = true;
  bool above_floor = true;
  double max_extra = 0;
  for (int i = 0; i < n; ++i) {
    in_order = in_order && order[static_cast<size_t>(i)] == i;
    const double extra = latency_s[static_cast<size_t>(i)] - base_s;
    above_floor = above_floor && extra >= 1e-3 - 1e-9;
    max_extra = std::max(max_extra, extra);
  }
  CHECK(in_order);
  CHECK(above_floor);
  // Without the ordering clamp the bound is 1 + 5 + 2 ms; the clamp can add at most the previous message's
  // excess over the 3 ms spacing, so 1 + 7 ms stays the bound for the last arrival time.
  CHECK(max_extra <= 8e-3 + 1e-9);
  CHECK(max_extra > 4e-3);  // the jitter was drawn, not ignored
}

TEST_CASE("a message to self is delivered after the loopback latency without using a NIC") {
  sim::Engine engine;
  Star s(5_us);
  NetworkConfig cfg;
  cfg.loopback_latency = 2_us;
  Network net(engine, std::move(s.topo), net_rng(), cfg);
  SimTime done = SimTime::max();
  bool synchronous = false;
  engine.schedule_at(SimTime::from_ns(1000), [&] {
    net.send(s.a, s.a, 1 << 20, [&] { done = engine.now(); });
    synchronous = done != SimTime::max();
  });
  engine.run_until(SimTime::from_ns(1'000'000));
  CHECK_FALSE(synchronous);
  CHECK(done == SimTime::from_ns(1000) + 2_us);
  CHECK(net.host_counters(s.a).bytes_received == (1u << 20));
  CHECK(net.host_counters(s.a).bytes_sent == 0);
  CHECK(net.link_counters(s.a, s.sw).chunks == 0);
}

namespace {

struct RunResult {
  std::vector<int64_t> delivery_ns;
  uint64_t trace_hash = 0;
  bool per_flow_in_order = true;
};

RunResult random_run(uint64_t seed) {
  sim::Engine engine;
  Topology topo = make_leaf_spine(8, 2, LinkSpec{kGbeBytesPerS, 20_us}, LinkSpec{1.25e9, 3_us});
  const std::vector<NodeId> hosts = topo.hosts();
  Network net(engine, std::move(topo), sim::Rng::stream(seed, "network"));
  net.set_host_fault(hosts[1], LinkFault{.jitter_max = 300_us, .loss_per_packet = 0.002});
  net.set_host_fault(hosts[2], LinkFault{.rate_multiplier = 0.5, .extra_latency = 100_us});
  // The workload has its own fixed stream, so only the network's draws depend on `seed`.
  sim::Rng workload = sim::Rng::stream(99, "workload");
  RunResult r;
  std::vector<std::vector<int>> last_seen(hosts.size(), std::vector<int>(hosts.size(), -1));
  SimTime at = SimTime::zero();
  for (int i = 0; i < 400; ++i) {
    const auto src = workload.uniform_u64(hosts.size());
    const auto dst = workload.uniform_u64(hosts.size());
    const auto bytes = 1 + workload.uniform_u64(300'000);
    at += Duration::from_ns(static_cast<int64_t>(workload.uniform_u64(500'000)));
    engine.schedule_at(at, [&, src, dst, bytes, i] {
      net.send(hosts[src], hosts[dst], bytes, [&r, &engine, &last_seen, src, dst, i] {
        r.delivery_ns.push_back(engine.now().ns());
        int& last = last_seen[src][dst];
        r.per_flow_in_order = r.per_flow_in_order && last < i;
        last = i;
      });
    });
  }
  engine.run_until(SimTime::from_ns(100'000'000'000));
  r.trace_hash = engine.trace_hash();
  return r;
}

}  // namespace

TEST_CASE("deterministic: the same seed gives the same deliveries, another seed different ones") {
  const RunResult a = random_run(5);
  const RunResult b = random_run(5);
  const RunResult c = random_run(6);
  CHECK(a.delivery_ns.size() == 400);
  CHECK(a.delivery_ns == b.delivery_ns);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.delivery_ns != c.delivery_ns);
  CHECK(a.per_flow_in_order);
  CHECK(c.per_flow_in_order);
}

TEST_CASE("two connections between the same hosts are two flows: a small message does not wait behind the other's") {
  // a sends 8 MiB to d on one connection (tag 1), then a 100-byte message on another (tag 0). DRR serves the
  // two flows in turn, so on each of the 2 hops the small message waits at most for the chunk in service and
  // one DRR round of the other flow (one chunk): it arrives within 2 x (2 chunks + itself) serialised plus
  // both latencies, about 2.2 ms. Sent on the big message's own connection instead, it waits for all 8 MiB,
  // about 71 ms (TCP delivers a connection's bytes in order).
  const Duration lat = 5_us;
  const uint64_t big = 8u << 20;
  auto small_arrival = [&](uint32_t small_tag) {
    sim::Engine engine;
    Star s(lat);
    Network net(engine, std::move(s.topo), net_rng());
    SimTime small_done = SimTime::max(), big_done = SimTime::max();
    net.send(s.a, s.d, big, [&] { big_done = engine.now(); }, nullptr, nullptr, 1);
    net.send(s.a, s.d, 100, [&] { small_done = engine.now(); }, nullptr, nullptr, small_tag);
    engine.run_until(SimTime::from_ns(1'000'000'000));
    REQUIRE(big_done != SimTime::max());
    REQUIRE(small_done != SimTime::max());
    CHECK(net.flow_bytes_delivered(s.a, s.d, small_tag) == (small_tag == 1 ? big + 100 : 100));
    return small_done.seconds_f();
  };
  const double own = small_arrival(0);
  const double shared = small_arrival(1);
  CHECK(own <= 2 * seconds_for(2 * kChunk + 100) + 2 * lat.seconds_f() + 1e-9);
  CHECK(shared >= seconds_for(static_cast<double>(big)));
}

TEST_CASE("frame forwarding: a faster next link is not held waiting for a slow sender's chunk") {
  // a on 1 GbE streams 8 MiB to d on 10 GbE; 2 ms in, c on 10 GbE sends d 100 bytes. A 64 KiB chunk from a
  // takes 0.56 ms to arrive but only 56 us to go out on d's link, which starts it only when it can finish
  // one frame after its tail (not as its first frame comes in and then wait). So the small message waits at
  // the switch for at most one 10 GbE chunk time: it arrives within 2 ms + 56 us + its two serialisations +
  // both latencies. Were d's link held from each chunk's first frame to its tail, it would be busy ~90 % of
  // the time and the message would wait up to 0.5 ms.
  sim::Engine engine;
  Topology topo;
  const NodeId sw = topo.add_switch("tor", "r0");
  const NodeId a = topo.add_host("a", "r0");
  const NodeId c = topo.add_host("c", "r0");
  const NodeId d = topo.add_host("d", "r0");
  const Duration lat = 5_us;
  topo.add_link(a, sw, LinkSpec{kGbeBytesPerS, lat});
  topo.add_link(c, sw, LinkSpec{10 * kGbeBytesPerS, lat});
  topo.add_link(d, sw, LinkSpec{10 * kGbeBytesPerS, lat});
  Network net(engine, std::move(topo), net_rng());
  SimTime big_done = SimTime::max(), small_done = SimTime::max();
  net.send(a, d, uint64_t{8} << 20, [&] { big_done = engine.now(); });
  engine.schedule_at(SimTime::from_ns(2'000'000), [&] { net.send(c, d, 100, [&] { small_done = engine.now(); }); });
  engine.run_until(SimTime::from_ns(1'000'000'000));
  REQUIRE(big_done != SimTime::max());
  const double chunk_10g = seconds_for(kChunk) / 10;
  const double small_10g = seconds_for(100) / 10;
  CHECK(small_done.seconds_f() <= 2e-3 + chunk_10g + 2 * small_10g + 2 * lat.seconds_f() + 1e-9);
}

TEST_CASE("TCP send window: a 64 KiB window on a 5 ms link moves 64 KiB per round trip, a 2 MiB one fills the link") {
  const Duration lat = 5_ms;
  // When 10 MiB sent at once over one 1 GbE link of latency `lat`, through a window of `window` bytes, arrive.
  auto delivered_at = [lat](uint64_t window) {
    sim::Engine engine;
    Pair p(lat);
    Network net(engine, std::move(p.topo), net_rng());
    net.set_window(p.a, p.b, window);
    SimTime done = SimTime::max();
    net.send(p.a, p.b, uint64_t{10} << 20, [&] { done = engine.now(); });
    engine.run_until(SimTime::from_ns(60'000'000'000));
    REQUIRE(done != SimTime::max());
    return done;
  };
  const int64_t l = lat.ns();
  SUBCASE("64 KiB: chunks of 16 KiB, four per round trip") {
    // Written out from the header's rule: four chunks of 16 KiB go back to back; each is acknowledged one
    // return latency after its delivery, and its acknowledgement lets the chunk four places later go. So round
    // r's j-th chunk (j = 1..4) starts at r·(2L + s) + (j − 1)·s, and the last of 640 chunks (r = 159, j = 4)
    // is delivered at 159·(2L + s) + 4s + L.
    const int64_t s = ser_ns(16 * 1024);
    const SimTime done = delivered_at(64 * 1024);
    CHECK(done.ns() == 159 * (2 * l + s) + 4 * s + l);
    // About W per round trip: 160 windows of 64 KiB at 10.14 ms each, 1.62 s, where the link alone takes 0.09 s.
    CHECK(done.seconds_f() == doctest::Approx(160 * (2 * lat.seconds_f() + s * 1e-9)).scale(0).epsilon(0.01));
  }
  SUBCASE("2 MiB: above the bandwidth-delay product (117.7 MB/s x 10 ms = 1.18 MB) plus a chunk, the link stays busy") {
    // 160 chunks of 64 KiB back to back, then the last one's latency.
    CHECK(delivered_at(2 * 1024 * 1024).ns() == 160 * ser_ns(kChunk) + l);
  }
  SUBCASE("1 MiB: below it, the window binds at W per (RTT + s(64 KiB))") {
    // 16 chunks a round of 2L + s: 10 rounds, the last delivered at 9·(2L + s) + 16s + L.
    const int64_t s = ser_ns(kChunk);
    CHECK(delivered_at(1024 * 1024).ns() == 9 * (2 * l + s) + 16 * s + l);
  }
}

TEST_CASE("TCP send window: the return path's added latency delays acknowledgements; cancelled chunks free it") {
  const Duration lat = 1_ms;
  sim::Engine engine;
  Pair p(lat);
  Network net(engine, std::move(p.topo), net_rng());
  net.set_window(p.a, p.b, 64 * 1024);
  // 4 ms more on b → a only: acknowledgements take 5 ms back, data still 1 ms out.
  net.set_link_fault(p.b, p.a, LinkFault{.extra_latency = 4_ms});
  const int64_t s = ser_ns(16 * 1024);
  SimTime first = SimTime::max();
  // 80 KiB: four 16 KiB chunks, then the fifth after the first one's acknowledgement.
  net.send(p.a, p.b, 80 * 1024, [&] { first = engine.now(); });
  engine.run_until(SimTime::from_ns(50'000'000));
  // The fifth chunk starts when the first is acknowledged: s + 1 ms + 5 ms; delivered s + 1 ms later.
  CHECK(first.ns() == s + lat.ns() + 5'000'000 + s + lat.ns());

  // At 100 ms: 16 KiB, then 64 KiB of which three chunks fit the window behind it; the 64 KiB message is
  // withdrawn before it departs, so its three queued chunks never leave and hold no window.
  SimTime withdrawn_delivered = SimTime::max();
  engine.schedule_at(SimTime::from_ns(100'000'000), [&] {
    net.send(p.a, p.b, 16 * 1024, [] {});
    const MessageId id = net.send(p.a, p.b, 64 * 1024, [&] { withdrawn_delivered = engine.now(); });
    CHECK(net.cancel(p.a, p.b, id));
  });
  // At 200 ms, everything acknowledged, a 64 KiB message goes whole: four chunks back to back.
  SimTime third = SimTime::max();
  const SimTime sent_at = SimTime::from_ns(200'000'000);
  engine.schedule_at(sent_at, [&] { net.send(p.a, p.b, 64 * 1024, [&] { third = engine.now(); }); });
  engine.run_until(SimTime::from_ns(2'000'000'000));
  CHECK(withdrawn_delivered == SimTime::max());
  CHECK(third.ns() == sent_at.ns() + 4 * s + lat.ns());
}

TEST_CASE("ACK traffic: pure ACKs for every second full segment take the reverse direction's line rate") {
  // Two windowed flows of 10 MiB at once, a → b and b → a, over one 1 GbE link of 10 us. Windows of 2 MiB never
  // bind, so chunks are 64 KiB: 45 full segments of 1448 B, 22 pure ACKs of 1538 − 1448 = 90 wire bytes
  // (hardware-models.md §4.2), a = 1980 B / 125e6 B/s = 15.84 us on the other direction. Each direction serves
  // its own chunk k while the ACKs of the other's chunk k − 1 arrive, and sends them before chunk k + 1: from
  // the third chunk on every chunk starts one ACK time later, so the last of 160 ends at 160·s + 158·a.
  const Duration lat = 10_us;
  const uint64_t bulk = uint64_t{10} << 20;
  const int64_t s = ser_ns(kChunk);
  const int64_t a = 15'840;
  auto run = [&](uint32_t segments_per_ack, uint64_t a_message_bytes, uint32_t a_messages) {
    sim::Engine engine;
    Pair p(lat);
    NetworkConfig config;
    config.segments_per_ack = segments_per_ack;
    Network net(engine, std::move(p.topo), net_rng(), config);
    net.set_window(p.a, p.b, 2 << 20);
    net.set_window(p.b, p.a, 2 << 20);
    std::pair<SimTime, SimTime> done{SimTime::max(), SimTime::max()};
    for (uint32_t i = 0; i < a_messages; ++i) net.send(p.a, p.b, a_message_bytes, [&] { done.first = engine.now(); });
    net.send(p.b, p.a, bulk, [&] { done.second = engine.now(); });
    engine.run_until(SimTime::from_ns(10'000'000'000));
    REQUIRE(done.first != SimTime::max());
    REQUIRE(done.second != SimTime::max());
    return done;
  };
  SUBCASE("bulk both ways: each direction loses the other's ACK time, G·s/(s + a) = 97.2 % of goodput") {
    const auto [ab, ba] = run(2, bulk, 1);
    CHECK(ab.ns() == 160 * s + 158 * a + lat.ns());
    CHECK(ba.ns() == 160 * s + 158 * a + lat.ns());
  }
  SUBCASE("without ACK traffic (segments_per_ack = 0) both directions run at goodput") {
    const auto [ab, ba] = run(0, bulk, 1);
    CHECK(ab.ns() == 160 * s + lat.ns());
    CHECK(ba.ns() == 160 * s + lat.ns());
  }
  SUBCASE("messages under two full segments (requests, responses) cost no ACK frame: the bulk flow runs at goodput") {
    // 2,000 messages of 2,000 B a → b: one full segment each, acknowledged by the delayed-ACK timer or on the
    // receiver's next data, not by a frame of their own.
    const auto [ab, ba] = run(2, 2000, 2000);
    CHECK(ba.ns() == 160 * s + lat.ns());
    CHECK(ab > SimTime::zero());
  }
}
