// Young-GC pauses of a broker's JVM (models/young_gc.hpp, hardware-models.md §5.4) seen from a whole cluster:
// a collection each time the broker has read one eden of bytes from the network, and a pause that holds every
// request arriving during it. Expectations come from the record format and the configuration, not from a run.
#include <doctest/doctest.h>

#include <cmath>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

constexpr uint64_t kEden = 16ull << 20;
constexpr sim::Duration kPause = 20_ms;

// One broker, RF 1, a producer of 20,000 records/s of 1000 B with acks=1 and linger 0: about 20 MB/s into the
// broker, so a 16 MiB eden fills every ~0.8 s.
cluster::WorldSpec one_broker(bool young_gc) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  if (young_gc) spec.broker_hardware.young_gc = models::YoungGcParams{kEden, kPause, kPause};
  spec.duration = 10_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(20000, Acks::leader, 0, 1000));
  spec.producers.back().config.enable_idempotence = false;
  return spec;
}

}  // namespace

TEST_CASE("young GC: a broker collects once per eden it reads from the network, and each pause holds requests") {
  cluster::World world(one_broker(true));
  const auto s = world.run();
  auto& hw = world.broker_hardware(0);
  REQUIRE(hw.young_gc() != nullptr);
  const uint64_t n = hw.young_gc()->collections();

  // What the broker read: every ProduceRequest. Each record is a v2 record of at least 1009 B (varint length 2 +
  // attributes 1 + timestampDelta >= 1 + offsetDelta >= 1 + null key 1 + varint(1000) 2 + 1000 + headers 1),
  // at most 1013 B (timestamp and offset deltas of up to 3 bytes each), plus a 61 B batch header and the request
  // framing per request. Acked records arrived; sent ones at most did. Collections = ⌊(φ + read)/E⌋, φ ∈ [0, E).
  const double read_min = static_cast<double>(s.records_acked) * 1009.0;
  const double read_max = static_cast<double>(s.records_sent) * 1013.0 + static_cast<double>(s.produce_requests) * 400.0;
  CHECK(n >= static_cast<uint64_t>(std::floor(read_min / kEden)));
  CHECK(n <= static_cast<uint64_t>(std::floor(read_max / kEden)) + 1);
  CHECK(n >= 10);  // ~200 MB over 16 MiB

  // Each collection froze the whole host for exactly the (constant) pause; none overlapped at this rate.
  const auto cpu = hw.cpu().host_stats();
  CHECK(cpu.pauses == n);
  CHECK(cpu.paused_total == sim::Duration::from_ns(kPause.ns() * static_cast<int64_t>(n)));
  CHECK(s.young_gcs == n);
  CHECK(s.gc_pause_max_ms == doctest::Approx(20.0).scale(0));
  int events = 0;
  for (const auto& e : world.events()) events += e.at("type") == "young_gc";
  CHECK(events == static_cast<int>(n));
  // timeseries.csv shows each pause in the second it began: the column sums to the total.
  double sampled_ms = 0;
  for (size_t row = 0; row < world.timeseries().rows(); ++row) sampled_ms += world.timeseries().value(row, "broker0_gc_pause_ms");
  CHECK(sampled_ms == doctest::Approx(20.0 * static_cast<double>(n)).scale(0));

  // A request arriving at the start of a pause waits all of it: with a request every few hundred µs, some record
  // waits at least 19 ms. Without GC no record waits that long on this idle NVMe broker.
  CHECK(s.produce_latency.max_ms >= 19.0);
  cluster::World calm(one_broker(false));
  const auto c = calm.run();
  CHECK(!c.young_gc);
  CHECK(c.young_gcs == 0);
  CHECK(c.produce_latency.max_ms < 10.0);
}

TEST_CASE("young GC: the bundled CPU profiles collect less than once a second at LinkedIn's published load") {
  // hardware-models.md §5.4: LinkedIn's busiest cluster, 60 brokers, 300 MB/s in at RF 2, saw fewer than one young
  // GC a second with the documentation's 6 GB heap. Each broker then reads 300/60 MB/s from producers and as much
  // again as a follower: 10 MB/s.
  const auto dir = cluster::bundled_profile_dir();
  for (const char* name : {"cpu-server-16core", "cpu-xeon-6core-2014", "cpu-xeon-8core-2011"}) {
    CAPTURE(name);
    const auto p = std::get<cluster::CpuProfile>(cluster::load_named_profile(name, dir).params);
    const double eden = p.gc.young_gen_heap_fraction * 6e9;
    const double rate_per_s = 10e6 / eden;
    CHECK(rate_per_s < p.gc.young_gc_rate_max_per_s);
  }
}
