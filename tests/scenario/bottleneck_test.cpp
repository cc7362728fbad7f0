// Throughput never exceeds what the bottleneck resource allows, and the reported bottleneck is that resource
// (issue 3, "Checks that must hold"). The NIC case is in data_path_test.cpp; these are the disk and the broker's
// CPU thread pools. Each bound is worked out from the hardware profile and the configuration, not from a run.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "kafkasim/models/page_cache.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// One broker, one partition, RF = 1, and eight producers with batch.size = 0 (one record per batch) and
// linger.ms = 0, each offering `per_producer` records of 100 B a second: every record is its own ProduceRequest.
cluster::WorldSpec one_record_per_request(double per_producer, sim::Duration duration, sim::Duration warmup) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = duration;
  spec.warmup = warmup;
  auto p = test::open_loop_producer(per_producer, Acks::leader, 0, 100);
  p.config.batch_size_bytes = 0;
  p.count = 8;
  spec.producers.push_back(p);
  return spec;
}

}  // namespace

// Three brokers on a slow HDD (the hdd-7200rpm profile with its media rate cut to 40 MB/s and zoning off, so
// the transfer rate is the same everywhere: an old or degraded drive, and a test that runs in well under a
// second), a page cache of only 64 MiB, and four producers offering 4 x 20,000 x 1000 B = 80 MB/s, twice what
// the disk can write. The dirty pages reach vm.dirty_ratio and balance_dirty_pages holds every append (leader
// and follower) until writeback makes room, so the producers wait for the disk.
TEST_CASE("throughput never exceeds the bottleneck: a slow disk binds through dirty-page throttling") {
  auto spec = test::small_cluster(3, "hdd-7200rpm", "nic-10gbe", 3, 3, 2);
  auto hdd = std::get<models::HddParams>(spec.broker_hardware.disk);
  constexpr double disk_bytes_per_s = 40e6;  // B
  hdd.outer_bandwidth_bytes_per_s = disk_bytes_per_s;
  hdd.inner_to_outer_bandwidth_ratio = 1.0;
  spec.broker_hardware.disk = hdd;
  constexpr uint64_t cache_bytes = 64ull << 20;
  spec.broker_hardware.ram_bytes = spec.broker_hardware.jvm_heap_bytes + spec.broker_hardware.other_memory_bytes +
                                   cache_bytes;
  spec.duration = 10_s;
  spec.warmup = 4_s;
  auto p = test::open_loop_producer(20000, Acks::all, 20, 1000);
  p.config.batch_size_bytes = 256 * 1024;
  p.count = 4;
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();

  // Goodput and overhead. Throughput counts record values (1000 B). On disk each record is a v2 record of
  // varint(body) + body (zigzag varints), body = attributes 1 + timestampDelta >= 1 + offsetDelta >= 1 + null
  // key 1 + varint(1000) 2 + 1000 + header count 1 >= 1007 B, record >= varint(1007) 2 + 1007 = 1009 B, plus a
  // 61 B header per batch and the index files: at least 1009 B of disk per 1000 B acknowledged.
  constexpr double disk_bytes_per_value_byte = 1009.0 / 1000.0;
  // Replication: RF = 3 on 3 brokers puts a replica of every partition on every broker, and with acks=all and
  // no ISR shrink every acknowledged record is in every broker's page cache. So each broker's one disk must
  // write everything that is acknowledged: acked x 1009/1000 <= B per broker, whatever the leader layout.
  for (const auto& e : world.events()) CHECK(e.at("type") != "isr_shrink");  // the ISR stayed {0, 1, 2}
  const double T = spec.duration.seconds_f();
  const double acked_disk_bytes = static_cast<double>(s.records_acked) * 1000.0 * disk_bytes_per_value_byte;
  for (uint32_t b = 0; b < 3; ++b) {
    auto& hw = world.broker_hardware(b);
    const double written = static_cast<double>(hw.disk(0).stats().bytes_written);
    // The disk writes at most B (positioning between the .log and index files only costs more time).
    CHECK(written <= disk_bytes_per_s * T);
    // Whatever was acknowledged and is not on the disk yet is still dirty or under writeback in the cache.
    const auto& cache = hw.page_cache().stats();
    CHECK(acked_disk_bytes <= written + static_cast<double>(cache.dirty_bytes + cache.writeback_bytes));
  }
  // The same bound on the throughput window W = 6 s. Besides what the disk writes in W, the window may see
  // acknowledgements of bytes the cache held at its start: at most the dirty limit (vm.dirty_ratio = 20 % of
  // 64 MiB = 3276 pages = 13.4 MB), one writeback chunk under way (min(write_bw/2, limit/8) + 4 MiB rounded down
  // to 4 MiB = 4.2 MB) and what the writers dirtied before their pause (num.io.threads = 8 appends and one
  // follower fetcher append of at most max.request.size = 1 MiB each: 9.4 MB).
  const auto thresholds = models::page_cache_math::dirty_thresholds(cache_bytes, models::PageCacheParams{});
  CHECK(thresholds.thresh_bytes == 3276 * 4096);
  const double W = (spec.duration - spec.warmup).seconds_f();
  const double slack_bytes = static_cast<double>(thresholds.thresh_bytes) + 4.0 * 1048576 + 9 * 1048576.0;
  const double window_disk_bytes_per_s = s.throughput_mib_per_s * 1048576.0 * disk_bytes_per_value_byte;
  CHECK(window_disk_bytes_per_s <= disk_bytes_per_s + slack_bytes / W);
  // The disk really binds: the producers offered 80 MB/s and get most of the disk (seeks between the three
  // partitions' .log files and their indexes cost the rest), not what the NIC or the CPU would allow.
  CHECK(window_disk_bytes_per_s >= 0.6 * disk_bytes_per_s);
  // The reported bottleneck is one of the three (equally loaded) disks, nearly always busy; nothing else is
  // close to saturation. The I/O threads are the exception that proves the rule: a request handler that
  // appends calls write(), and balance_dirty_pages puts it to sleep there, so the threads are occupied (thread
  // utilisation) while using almost no CPU (core utilisation), and they stay below the disk.
  CHECK(starts_with(s.bottleneck, "broker-"));
  CHECK(s.bottleneck.ends_with(" disk 0"));
  CHECK(s.bottleneck_utilisation > 0.9);
  for (const auto& [name, u] : s.utilisation) {
    if (name.ends_with(" io threads")) CHECK_MESSAGE(u < s.bottleneck_utilisation, name);
    else if (!name.ends_with(" disk 0")) CHECK_MESSAGE(u < 0.5, name);
  }
  for (uint32_t b = 0; b < 3; ++b) {
    auto& cpu = world.broker_hardware(b).cpu();
    CHECK(cpu.pool_stats(cpu.pool("io")).core_utilisation < 0.05);
  }
}

// One broker, one partition, RF = 1, and eight producers with batch.size = 0 (one record per batch) and
// linger.ms = 0: every record is its own ProduceRequest. num.io.threads = 1, so the broker's single request
// handler thread is the bottleneck.
TEST_CASE("throughput never exceeds the bottleneck: one I/O thread binds at 1 / per-request cost") {
  auto spec = one_record_per_request(5000, 6_s, 2_s);  // 40,000 records/s offered
  spec.num_io_threads = 1;
  cluster::World world(spec);
  const auto s = world.run();

  // One record of 100 B without key: body = attributes 1 + timestampDelta 0 (1) + offsetDelta 0 (1) + null
  // key 1 + zigzag varint(100) 2 + 100 + no headers 1 = 107 B, record varint(107) 2 + 107 = 109 B, batch
  // 61 + 109 = 170 B.
  constexpr double batch_bytes = 170;
  // The I/O thread's cost per produce request (cpu-server-16core profile): request_fixed_cost = 50 us plus
  // CRC32C over the batch at 7 GB/s x desktop_to_server_scale 0.7: 170 B / 4.9 GB/s = 34.7 ns, 35 ns rounded up.
  const auto& costs = spec.cpu_costs;
  CHECK(costs.request_fixed_cost == 50_us);
  const double request_s = costs.request_fixed_cost.seconds_f() +
                           35e-9;  // ceil(batch_bytes / (crc32c_bytes_per_s * desktop_to_server_scale)) ns
  CHECK(batch_bytes / (costs.crc32c_bytes_per_s * costs.desktop_to_server_scale) <= 35e-9);
  const double threads = 1;
  const double bound_records_per_s = threads / request_s;  // one record per request: 19,986 records/s
  // Requests in service when the window opens may complete inside it: at most one per thread.
  const double W = (spec.duration - spec.warmup).seconds_f();
  CHECK(s.records_per_request == doctest::Approx(1.0).scale(0));
  CHECK(s.throughput_records_per_s <= bound_records_per_s + threads / W);
  CHECK(s.throughput_records_per_s >= 0.95 * bound_records_per_s);
  CHECK(s.bottleneck == "broker-0 io threads");
  CHECK(s.bottleneck_utilisation > 0.95);
  for (const auto& [name, u] : s.utilisation)
    if (name != "broker-0 io threads") CHECK_MESSAGE(u < 0.5, name);
}

// The same: num.io.threads raised by operations during the run (kafka-configs --entity-type brokers --alter
// --add-config num.io.threads=N), in Kafka's steps of at most double: 1 -> 2 at 1 s, 2 -> 4 at 2 s. Four threads
// bind at 4 / 50 us = 80,000 requests/s, twice the 40,000 offered: from 5 s on the broker takes what is offered,
// and the backlog of the first seconds is gone. Left at one thread it binds at ~20,000 (the test above).
TEST_CASE("num.io.threads raised during the run: the request handlers bind at the new count") {
  auto spec = one_record_per_request(5000, 8_s, 5_s);
  spec.num_io_threads = 1;
  for (const auto& [at, threads] : {std::pair{1_s, 2}, std::pair{2_s, 4}}) {
    cluster::ConfigAlterSpec op;
    op.at = at;
    op.entity_type = cluster::ConfigEntityType::brokers;
    op.added.emplace_back("num.io.threads", threads);
    op.changes.push_back("num.io.threads=" + std::to_string(threads));
    spec.config_alters.push_back(op);
  }
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(world.spec().num_io_threads == 1);  // the static config; the pool has 4
  models::Cpu& cpu = world.broker_hardware(0).cpu();
  CHECK(cpu.pool_stats(cpu.pool("io")).threads == 4);
  CHECK(s.throughput_records_per_s == doctest::Approx(40'000).scale(0).epsilon(0.02));
  // The threads' utilisation over the run counts the capacity there was: 1 thread for 1 s, 2 for 1 s, 4 for 6 s,
  // 27 thread-seconds. Busy: 1 (the one thread, behind from the start), 2 (two threads serve the 40,000 offered;
  // the 20,000 behind stay so), then 4 x 0.5 s while four threads clear them at 80,000 - 40,000 a second, then
  // 40,000 x 50 us = 2 threads for 5.5 s: 1 + 2 + 2 + 11 = 16 of 27.
  double io = -1;
  for (const auto& [name, u] : s.utilisation)
    if (name == "broker-0 io threads") io = u;
  CHECK(io == doctest::Approx(16.0 / 27).scale(0).epsilon(0.03));
}

// The same broker with num.network.threads = 1 and the default 8 I/O threads: the one network processor reads
// every request (network_thread_request_cost = 10 us) and sends every response (another 10 us), 20 us a
// request, so it binds at 50,000 requests/s, well below the I/O threads' 8 / 50 us = 160,000.
TEST_CASE("throughput never exceeds the bottleneck: one network thread binds at 1 / (parse + response) cost") {
  auto spec = one_record_per_request(10000, 4_s, 1_s);  // 80,000 records/s offered
  spec.num_network_threads = 1;
  cluster::World world(spec);
  const auto s = world.run();

  const double per_request_s = 2 * spec.network_thread_request_cost.seconds_f();
  CHECK(per_request_s == doctest::Approx(20e-6).scale(0));
  const double bound_records_per_s = 1 / per_request_s;
  const double W = (spec.duration - spec.warmup).seconds_f();
  CHECK(s.records_per_request == doctest::Approx(1.0).scale(0));
  CHECK(s.throughput_records_per_s <= bound_records_per_s + 1 / W);
  CHECK(s.throughput_records_per_s >= 0.9 * bound_records_per_s);
  CHECK(s.bottleneck == "broker-0 network threads");
  CHECK(s.bottleneck_utilisation > 0.9);
  const double io = [&] {
    for (const auto& [name, u] : s.utilisation)
      if (name == "broker-0 io threads") return u;
    return -1.0;
  }();
  // 50,000 requests/s x 50 us over 8 threads = 31 % busy.
  CHECK(io == doctest::Approx(50000 * 50e-6 / 8).scale(0).epsilon(0.1));
}

// timeseries.csv reports each resource's utilisation over each sample interval, as iostat or sar would, not the
// average since the start of the run. One broker (RF=1: no replication traffic) takes a producer's 20 MB/s on
// its 1 GbE link; a consumer of a new group starts half-way from offset 0 (earliest), catches up and then reads
// at the producer's rate. Before it starts the broker's NIC sends almost nothing; once it has caught up the NIC
// sends what it receives.
TEST_CASE("time series: NIC utilisation over each interval, not since the start") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-1gbe", 1, 1, 1);
  spec.duration = 10_s;
  spec.warmup = 1_s;
  auto p = test::open_loop_producer(20000, Acks::leader, 5, 1000);
  spec.producers.push_back(p);
  cluster::ConsumerSpec c = test::group_member();
  c.topic = 0;
  c.start_at = 5_s;
  c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;  // a new group reading from the log start
  spec.consumers.push_back(c);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  const cluster::TimeSeries& ts = world.timeseries();
  REQUIRE(ts.rows() == 10);
  // Records of 1000 B in batches of about 16 KiB: the request and record framing add under 2 %.
  const double goodput = 125e6 * 1448.0 / 1538.0;
  const double rx_expected = 20000 * 1000 / goodput;
  for (size_t row = 1; row < 10; ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "broker0_nic_rx_util") == doctest::Approx(rx_expected).scale(0).epsilon(0.03));
    if (row < 4) CHECK(ts.value(row, "broker0_nic_tx_util") < 0.01);  // produce responses only
  }
  // Before it starts, the group has never committed: it has no offsets, so no lag (kafka-consumer-groups shows
  // none). A second after its start it is still catching up from offset 0: 100 MB behind at 5 s, it gains at most
  // the link's goodput less the producer's 20 MB/s, about 97 MB a second, so a few thousand records remain.
  for (size_t row = 0; row < 4; ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "consumer_lag_records") == 0);
  }
  const double behind_at_6s = 100e6 - (goodput - 20e6) * 1.0;
  MESSAGE("lag at 6 s: " << ts.value(5, "consumer_lag_records") << " records");
  CHECK(ts.value(5, "consumer_lag_records") >= behind_at_6s / 1000 * 0.9);
  // The last three seconds: the consumer has caught up and fetches what arrives.
  for (size_t row = 7; row < 10; ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "broker0_nic_tx_util") == doctest::Approx(ts.value(row, "broker0_nic_rx_util")).scale(0).epsilon(0.05));
  }
}

// `kafkasim run` measures its utilisations after the warm-up, as its throughput (WorldSpec::utilisation_from). A
// broker whose page cache (64 MiB) is far smaller than what a consumer starting at 5 s from the log start reads
// (100 MB behind): before 5 s its NIC sends next to nothing and its disk only writes back; after, the NIC carries
// the catch-up and the disk serves reads. The summary's figures since 5 s must be the per-second samples' since 5 s
// (two computations: the window's busy time against the sums of each second's), the whole run's those of all
// seconds, and measuring from 5 s must leave the run itself alone.
TEST_CASE("utilisation_from: the summary's utilisations and disks cover the time after it, and the run is the same") {
  const auto make = [](sim::Duration from) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-1gbe", 1, 1, 1);
    spec.duration = 10_s;
    spec.warmup = 1_s;
    spec.utilisation_from = from;
    spec.broker_hardware.ram_bytes =
        spec.broker_hardware.jvm_heap_bytes + spec.broker_hardware.other_memory_bytes + (64ull << 20);
    spec.producers.push_back(test::open_loop_producer(20000, Acks::leader, 5, 1000));
    cluster::ConsumerSpec c = test::group_member();
    c.topic = 0;
    c.start_at = 5_s;
    c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    spec.consumers.push_back(c);
    return spec;
  };
  cluster::World whole(make(sim::Duration::zero())), after(make(5_s));
  const auto a = whole.run();
  const auto b = after.run();
  REQUIRE(a.records_failed == 0);
  // The same run: events, trace and every per-second sample.
  CHECK(whole.engine().events_executed() == after.engine().events_executed());
  CHECK(whole.engine().trace_hash() == after.engine().trace_hash());
  const cluster::TimeSeries& ts = whole.timeseries();
  REQUIRE(ts.rows() == 10);
  REQUIRE(after.timeseries().rows() == 10);
  for (const char* column : {"broker0_nic_tx_util", "broker0_nic_rx_util", "broker0_disk_util", "broker0_cpu_util"})
    for (size_t row = 0; row < 10; ++row) CHECK(after.timeseries().value(row, column) == ts.value(row, column));
  const auto mean = [&ts](const std::string& column, size_t from_row) {
    double sum = 0;
    for (size_t row = from_row; row < ts.rows(); ++row) sum += ts.value(row, column);
    return sum / static_cast<double>(ts.rows() - from_row);
  };
  const auto share = [](const cluster::WorldSummary& s, const std::string& name) {
    for (const auto& [n, u] : s.utilisation)
      if (n == name) return u;
    FAIL("no resource " << name);
    return 0.0;
  };
  for (const char* resource : {"nic tx", "nic rx", "disk 0"}) {
    CAPTURE(resource);
    std::string column = std::string("broker0_") + (resource == std::string("disk 0") ? "disk" : resource) + "_util";
    for (char& ch : column)
      if (ch == ' ') ch = '_';
    const std::string name = std::string("broker-0 ") + resource;
    CHECK(share(a, name) == doctest::Approx(mean(column, 0)).scale(0).epsilon(1e-6));
    CHECK(share(b, name) == doctest::Approx(mean(column, 5)).scale(0).epsilon(1e-6));
  }
  // The catch-up is after 5 s: the NIC's share since then is well above the whole run's.
  CHECK(share(b, "broker-0 nic tx") > 1.5 * share(a, "broker-0 nic tx"));
  // The disk's iostat figures: nothing is read before the consumer starts, so the window holds every read; the
  // writes before 5 s (the writeback of 20 MB/s since 0 s) are left out, and the window's are about 5 s of them
  // (what the dirty limit holds back at either end, under 13 MiB, is under 15 % of 100 MB).
  REQUIRE(a.disks.size() == 1);
  REQUIRE(b.disks.size() == 1);
  CHECK(a.disks[0].seconds == doctest::Approx(10.0).scale(0).epsilon(1e-9));
  CHECK(b.disks[0].seconds == doctest::Approx(5.0).scale(0).epsilon(1e-6));
  CHECK(a.disks[0].stats.bytes_read > 50'000'000);
  CHECK(b.disks[0].stats.bytes_read == a.disks[0].stats.bytes_read);
  CHECK(b.disks[0].stats.bytes_written < a.disks[0].stats.bytes_written);
  CHECK(static_cast<double>(b.disks[0].stats.bytes_written) == doctest::Approx(5 * 20e6).scale(0).epsilon(0.15));
  CHECK(b.disks[0].utilisation == doctest::Approx(share(b, "broker-0 disk 0")).scale(0).epsilon(1e-12));
}

// The offered load is what the open-loop schedules ask for: rate x count over the entries, and per client.id; a
// closed-loop entry wants whatever it gets, so with one there is none. Two entries under "fast" (2 x 1,000 and
// 500 records/s) and one under "slow" (300 records/s), far within one broker: each client.id is offered its
// entries' sum and acknowledged at it.
TEST_CASE("offered_records_per_s: the open-loop producers' rates, by client.id, none with a closed loop") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 2_s;
  spec.warmup = 1_s;
  auto fast = test::open_loop_producer(1000, Acks::leader, 5, 100);
  fast.count = 2;
  fast.config.client_id_config = "fast";
  spec.producers.push_back(fast);
  fast.count = 1;
  fast.records_per_s = 500;
  spec.producers.push_back(fast);
  auto slow = test::open_loop_producer(300, Acks::leader, 5, 100);
  slow.config.client_id_config = "slow";
  spec.producers.push_back(slow);
  {
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.offered_records_per_s.has_value());
    CHECK(*s.offered_records_per_s == 2 * 1000 + 500 + 300);
    REQUIRE(s.clients.size() == 2);
    for (const auto& c : s.clients) {
      CAPTURE(c.client_id);
      REQUIRE(c.offered_records_per_s.has_value());
      CHECK(*c.offered_records_per_s == (c.client_id == "fast" ? 2500 : 300));
      CHECK(c.acked_records_per_s == doctest::Approx(*c.offered_records_per_s).scale(0).epsilon(0.02));
    }
  }
  slow.closed_loop_threads = 1;
  spec.producers.back() = slow;
  cluster::World world(spec);
  const auto s = world.run();
  CHECK_FALSE(s.offered_records_per_s.has_value());
  for (const auto& c : s.clients) CHECK(c.offered_records_per_s.has_value() == (c.client_id == "fast"));
}

// The I/O-thread case on a broker with one core: the three network threads and eight I/O threads share it, so the
// core binds first, at 1 / (the CPU time of one request). Every thread pool looks busy too (a thread waiting for
// the core holds its request), but the bottleneck is the core.
TEST_CASE("throughput never exceeds the bottleneck: one core binds at 1 / CPU time per request") {
  auto spec = one_record_per_request(5000, 6_s, 2_s);  // 40,000 records/s offered
  spec.broker_hardware.cores = 1;
  cluster::World world(spec);
  const auto s = world.run();

  // A network thread reads the request (10 us) and sends the response (10 us); an I/O thread validates and
  // appends it (50 us plus 35 ns of CRC32C over the 170 B batch, as above). All on the one core.
  const auto& costs = spec.cpu_costs;
  const double request_s =
      2 * spec.network_thread_request_cost.seconds_f() + costs.request_fixed_cost.seconds_f() + 35e-9;
  CHECK(request_s == doctest::Approx(70e-6).scale(0).epsilon(0.001));
  const double bound_records_per_s = 1 / request_s;  // 14,278 records/s, below the I/O threads' 8 / 50 us
  const double W = (spec.duration - spec.warmup).seconds_f();
  CHECK(s.records_per_request == doctest::Approx(1.0).scale(0));
  CHECK(s.throughput_records_per_s <= bound_records_per_s + 11 / W);  // at most one request a thread in progress
  CHECK(s.throughput_records_per_s >= 0.95 * bound_records_per_s);
  CHECK(s.bottleneck == "broker-0 cpu cores");
  CHECK(s.bottleneck_utilisation > 0.95);
}

// queued.max.requests bounds the request queue between the network and the I/O threads (kafka-behaviour.md
// §2.1): a network thread with a request to hand over and a full queue blocks in put(), holding every connection
// it owns, until an I/O thread takes a request. The I/O-thread-bound broker above with a queue of one: the I/O
// thread still never idles (a take wakes the first blocked network thread at once), so the throughput is the
// same. A request's queue time counts from its parsing, blocked put included (RequestChannel.Request's
// startTimeNanos), so it waits behind at most the one queued request and the other two network threads' blocked
// ones: 4 service times of ~50 us with the default three network threads. A queue of 500 lets all eight
// producers' requests stack up, deeper than that.
TEST_CASE("queued.max.requests: a full request queue holds the network threads, and no request waits behind more") {
  auto run = [](uint32_t queued_max_requests) {
    auto spec = one_record_per_request(5000, 4_s, 1_s);  // 40,000 records/s, twice what the I/O thread handles
    spec.num_io_threads = 1;
    spec.queued_max_requests = queued_max_requests;
    cluster::World world(spec);
    return world.run();
  };
  const auto one = run(1);
  const auto many = run(500);
  const double service_ms = 0.050035;  // request_fixed_cost + CRC32C of the 170 B batch (see above)
  for (const auto* s : {&one, &many}) {
    CHECK(s->throughput_records_per_s == doctest::Approx(1e3 / service_ms).scale(0).epsilon(0.01));
    CHECK(s->bottleneck == "broker-0 io threads");
  }
  const auto& queue_one = one.requests[static_cast<size_t>(cluster::RequestKind::produce)].request_queue;
  const auto& queue_many = many.requests[static_cast<size_t>(cluster::RequestKind::produce)].request_queue;
  MESSAGE("request queue time max " << queue_one.max_ms << " ms (queue of 1), " << queue_many.max_ms << " ms (500)");
  CHECK(queue_one.max_ms <= 4 * service_ms * 1.01);
  CHECK(queue_many.max_ms > 4 * service_ms * 1.01);
  // The network threads spend the time they do not parse blocked in put(): Kafka's NetworkProcessorAvgIdlePercent
  // would show them busy, but the I/O thread is named the bottleneck.
  double network_one = 0;
  for (const auto& [name, u] : one.utilisation)
    if (name == "broker-0 network threads") network_one = u;
  CHECK(network_one > 0.9);
}

// The consumers' side: a group whose application spends longer on each record than records arrive. One broker, two
// partitions, a producer of 20,000 records/s; group "slow" has two consumers (one partition each) that process a
// record in 150 us, so each can take at most 1 / 150 us = 6,667 records/s, 13,333 for the group; group "fast" has one
// consumer with no processing time. The slow group reads at its threads' bound, its threads are busy the whole run,
// its lag grows by the difference, and the summary names a slow consumer's application thread as the bottleneck; the
// fast group keeps up (its thread only checks CRCs).
TEST_CASE("throughput never exceeds the bottleneck: a consumer's processing time binds its group, and its application thread is named") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 2, 1, 1);
  spec.duration = 8_s;
  spec.warmup = 2_s;
  constexpr double kProduced = 20'000;
  constexpr double kPerRecordS = 150e-6;
  spec.producers.push_back(test::open_loop_producer(kProduced, Acks::leader, 5, 100));
  cluster::ConsumerSpec slow;
  slow.group = "slow";
  slow.topic = 0;
  slow.count = 2;
  slow.processing_time_per_record = sim::Duration::from_us(150);
  cluster::ConsumerSpec fast;
  fast.group = "fast";
  fast.topic = 0;
  spec.consumers = {slow, fast};
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  REQUIRE(s.throughput_records_per_s == doctest::Approx(kProduced).scale(0).epsilon(0.01));
  const double group_bound = 2 / kPerRecordS;  // 13,333 records/s
  // Clients: the producer is client-0, then the consumers in scenario order: slow client-1 and client-2, fast client-3.
  auto utilisation_of = [&s](const std::string& name) {
    for (const auto& [n, u] : s.utilisation)
      if (n == name) return u;
    return -1.0;
  };
  for (const char* name : {"client-1 application thread", "client-2 application thread"}) {
    CAPTURE(name);
    // Behind from their first records (each partition receives about 10,000 a second): busy from then to the end.
    CHECK(utilisation_of(name) > 0.99);
    CHECK(utilisation_of(name) <= 1.0);
  }
  // The fast consumer's thread checks each batch's CRC32C: ~2.4 MB/s at the profile's GB/s rates, under 1 %.
  CHECK(utilisation_of("client-3 application thread") > 0);
  CHECK(utilisation_of("client-3 application thread") < 0.01);
  CAPTURE(s.bottleneck);
  CHECK((s.bottleneck == "client-1 application thread" || s.bottleneck == "client-2 application thread"));
  CHECK(s.bottleneck_utilisation > 0.99);
  // What each group consumed after the warm-up (per client-id: Kafka's generated consumer-<group>-1).
  double slow_consumed = -1, fast_consumed = -1;
  for (const auto& c : s.clients) {
    if (c.client_id == "consumer-slow-1") slow_consumed = c.consumed_records_per_s;
    if (c.client_id == "consumer-fast-1") fast_consumed = c.consumed_records_per_s;
  }
  CHECK(slow_consumed == doctest::Approx(group_bound).scale(0).epsilon(0.01));
  CHECK(fast_consumed == doctest::Approx(kProduced).scale(0).epsilon(0.01));
  // Lag (the leaders' high watermarks minus the group's positions): the slow group falls behind by (produced - its
  // bound) every second of the run, records its consumers have fetched but not yet polled included, and its largest
  // lag is its last; the fast one ends within a batch per partition of the head (5 ms of records).
  REQUIRE(s.group_lag.size() == 2);
  CHECK(s.group_lag[0].group == "fast");
  CHECK(s.group_lag[1].group == "slow");
  const double behind = (kProduced - group_bound) * spec.duration.seconds_f();
  CHECK(static_cast<double>(s.group_lag[1].lag_end) == doctest::Approx(behind).scale(0).epsilon(0.02));
  CHECK(s.group_lag[1].lag_max == s.group_lag[1].lag_end);
  CHECK(s.group_lag[0].lag_end <= static_cast<int64_t>(kProduced * 0.005) + 2);
  // Each group's reads and lag growth after the warm-up: the slow one reads its bound and falls behind by the rest of
  // what is written; the fast one reads everything and its lag does not grow (within a batch per partition over the
  // 6 s window).
  CHECK(s.group_lag[1].consumed_records_per_s == doctest::Approx(slow_consumed).scale(0).epsilon(1e-9));
  CHECK(s.group_lag[0].consumed_records_per_s == doctest::Approx(fast_consumed).scale(0).epsilon(1e-9));
  REQUIRE(s.group_lag[1].lag_growth_records_per_s.has_value());
  REQUIRE(s.group_lag[0].lag_growth_records_per_s.has_value());
  CHECK(*s.group_lag[1].lag_growth_records_per_s == doctest::Approx(kProduced - group_bound).scale(0).epsilon(0.02));
  CHECK(std::abs(*s.group_lag[0].lag_growth_records_per_s) <= kProduced * 0.005 / 6 + 1);
  // timeseries.csv: one lag column per group (there are two), which add up to consumer_lag_records, the slow one
  // growing every second.
  const cluster::TimeSeries& ts = world.timeseries();
  REQUIRE(ts.rows() == 8);
  for (size_t row = 0; row < ts.rows(); ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "group_slow_lag_records") + ts.value(row, "group_fast_lag_records") ==
          ts.value(row, "consumer_lag_records"));
    if (row > 0) CHECK(ts.value(row, "group_slow_lag_records") > ts.value(row - 1, "group_slow_lag_records"));
  }
  CHECK(ts.value(7, "group_slow_lag_records") == static_cast<double>(s.group_lag[1].lag_end));
}
