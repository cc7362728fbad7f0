#include <doctest/doctest.h>

#include "kafkasim/cluster/host_hardware.hpp"

using namespace kafkasim;

TEST_CASE("host hardware: page-cache budget is RAM minus heap minus other memory; one disk per log dir") {
  sim::Engine engine;
  cluster::HostHardwareSpec spec;
  spec.disk = models::HddParams{};
  spec.log_dirs = 6;  // Kreps 2014: six 7200 RPM disks as six log dirs
  spec.ram_bytes = 32ull << 30;
  spec.jvm_heap_bytes = 6ull << 30;
  spec.other_memory_bytes = 1ull << 30;
  cluster::HostHardware host(engine, spec, models::kafka_broker_cpu_params(6), 1, "broker/0");
  CHECK(host.page_cache().cache_bytes() == (25ull << 30));
  CHECK(host.disk_count() == 6);
  CHECK(host.cpu().find_pool("io").has_value());
  CHECK(host.cpu().find_pool("network").has_value());
  // Each disk draws from its own stream: the same workload on two disks gives different rotation draws.
  int done = 0;
  sim::SimTime t0, t1;
  host.disk(0).submit({models::IoOp::kRead, 1ull << 30, 4096}, [&](models::IoStatus) { t0 = engine.now(); ++done; });
  host.disk(1).submit({models::IoOp::kRead, 1ull << 30, 4096}, [&](models::IoStatus) { t1 = engine.now(); ++done; });
  engine.run_until(sim::SimTime::max());
  CHECK(done == 2);
  CHECK(t0 != t1);
}
