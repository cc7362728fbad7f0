// What the network-model unit tests share: the 1 GbE line rate and the §4.2 goodput fraction written out
// independently of NetworkConfig, the default chunk, a closed form for one chunk's serialisation, and the
// two-host topology.
#pragma once

#include <cmath>
#include <cstdint>

#include "kafkasim/models/network.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::test_net {

// The names every network test uses: `using namespace kafkasim::test_net;` brings them all in.
using namespace kafkasim;
using namespace kafkasim::models;
using namespace kafkasim::sim::literals;
using sim::Duration;
using sim::SimTime;

inline constexpr double kGbeBytesPerS = 125e6;
inline constexpr double kGoodput = 1448.0 / 1538.0;  // hardware-models.md §4.2
inline constexpr double kGoodputBytesPerS = kGbeBytesPerS * kGoodput;
inline constexpr uint32_t kChunk = 64 * 1024;  // NetworkConfig's default chunk

// Serialisation of one chunk of `bytes` on a 1 GbE link, in whole nanoseconds rounded up (the engine's clock).
inline int64_t ser_ns(uint64_t bytes) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(bytes) / kGoodputBytesPerS * 1e9));
}

// Two hosts joined by one 1 GbE link of latency `lat` (no switch: delivery is departure + lat exactly).
struct Pair {
  models::Topology topo;
  models::NodeId a, b;
  explicit Pair(sim::Duration lat) {
    a = topo.add_host("a");
    b = topo.add_host("b");
    topo.add_link(a, b, models::LinkSpec{kGbeBytesPerS, lat});
  }
};

inline sim::Rng net_rng(uint64_t seed = 1) { return sim::Rng::stream(seed, "network"); }

}  // namespace kafkasim::test_net
