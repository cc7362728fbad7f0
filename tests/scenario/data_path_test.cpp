// The Kafka data path end to end on simulated hardware: behaviours a Kafka engineer expects, with expectations
// derived from the configuration and the hardware, not from earlier runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include "kafkasim/cluster/run_output.hpp"
#include "kafkasim/kafka/broker/group_coordinator_key.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

cluster::WorldSummary run_acks(Acks acks) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 12_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(500, acks, 0, 512));
  cluster::World world(spec);
  return world.run();
}

}  // namespace

TEST_CASE("light load: produce latency orders acks=0 < acks=1 < acks=all, and acks=all pays a replication round trip") {
  const auto a0 = run_acks(Acks::none);
  const auto a1 = run_acks(Acks::leader);
  const auto all = run_acks(Acks::all);
  CHECK(a0.records_failed == 0);
  CHECK(a1.records_failed == 0);
  CHECK(all.records_failed == 0);
  CHECK(a0.produce_latency.p50_ms < a1.produce_latency.p50_ms);
  CHECK(a1.produce_latency.p50_ms < all.produce_latency.p50_ms);
  // acks=all waits until both followers have fetched past the batch and the leader sees their next fetch
  // (HW rule, kafka-behaviour.md §3.3): at least one more network round trip between brokers. Each link adds
  // 50 us one way in the nic-10gbe profile and a broker-to-broker path crosses two links: RTT >= 4 x 50 us.
  CHECK(all.produce_latency.p50_ms - a1.produce_latency.p50_ms >= 0.2);
  // Nothing is lost or left unacknowledged at light load except records still in flight at the end.
  CHECK(all.records_acked + 5 >= all.records_sent);
}

TEST_CASE("linger.ms: more linger means bigger batches and fewer requests; at low rate latency grows with linger") {
  auto run = [](int64_t linger_ms) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 12_s;
    spec.warmup = 2_s;
    spec.producers.push_back(test::open_loop_producer(2000, Acks::all, linger_ms, 200));
    cluster::World world(spec);
    return world.run();
  };
  const auto l0 = run(0);
  const auto l5 = run(5);
  const auto l50 = run(50);
  CHECK(l0.batch_size_bytes_mean < l5.batch_size_bytes_mean);
  CHECK(l5.batch_size_bytes_mean < l50.batch_size_bytes_mean);
  CHECK(l0.produce_requests > l5.produce_requests);
  CHECK(l5.produce_requests > l50.produce_requests);
  // At 2000 records/s a batch lingers its full linger.ms unless it fills: 50 ms x 2000/s x ~270 B = 27 KB
  // exceeds batch.size (16 KiB), so l50's batches fill in about 16384/270/2000 = 30 ms; the median record then
  // waits about half of that, well above l0's.
  CHECK(l50.produce_latency.p50_ms > l0.produce_latency.p50_ms + 5.0);
  CHECK(l5.produce_latency.p50_ms > l0.produce_latency.p50_ms);
}

TEST_CASE("batch.size: at a high rate a larger batch.size raises the achievable acks=all throughput") {
  // An unthrottled acks=all producer is bound by the request cycle, not by bytes: a broker works on one request
  // per connection at a time (channel muting, kafka-behaviour.md §2.1) and answers it only after the followers
  // fetched it and fetched again (§3.3). On 10 GbE the bytes of a batch are a small part of that cycle (64 KiB
  // take 56 us of the link against fixed costs of 50 us per request on each of three brokers plus two network
  // round trips and the fetches), so a cycle with four times the bytes at most doubles, while it carries four
  // times the records: 4x the batch.size must give more than 2x the throughput.
  auto run = [](int32_t batch_size) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 3, 2);
    spec.duration = 1500_ms;
    spec.warmup = 500_ms;
    auto p = test::open_loop_producer(10'000'000, Acks::all, 0, 1000);
    p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
    p.config.batch_size_bytes = batch_size;
    spec.producers.push_back(p);
    cluster::World world(spec);
    return world.run();
  };
  const auto small = run(16384);
  const auto large = run(65536);
  CHECK(large.batch_size_bytes_mean > 3.5 * small.batch_size_bytes_mean);
  CHECK(large.throughput_records_per_s > 2.0 * small.throughput_records_per_s);
}

// The producer sends one request per broker with every ready batch (RecordAccumulator.drain), so with linger
// bounding the send rate the request count stays near brokers / linger.ms; what more partitions change is the
// number and size of the batches inside the requests.
TEST_CASE("more partitions at the same rate mean smaller batches, more of them, and more per request") {
  auto run = [](int32_t partitions) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", partitions, 3, 2);
    spec.duration = 12_s;
    spec.warmup = 2_s;
    auto p = test::open_loop_producer(20000, Acks::all, 5, 200);
    p.keys = cluster::KeyDistribution::uniform(10000);  // keyed: records spread over every partition
    spec.producers.push_back(p);
    cluster::World world(spec);
    return world.run();
  };
  const auto few = run(3);
  const auto many = run(60);
  CHECK(many.batch_size_bytes_mean < few.batch_size_bytes_mean);
  CHECK(many.batches_sent > few.batches_sent);
  CHECK(static_cast<double>(many.batches_sent) / static_cast<double>(many.produce_requests) >
        static_cast<double>(few.batches_sent) / static_cast<double>(few.produce_requests));
  // Not more requests: drain takes every partition's first batch once any batch for the node is ready, so the
  // request count follows linger.ms, not the partition count (measured: 7,056 and 7,046 requests, 7,056 and
  // 115,795 batches). The "more requests" holds for batches, not for ProduceRequests.
  CHECK(static_cast<double>(many.produce_requests) ==
        doctest::Approx(static_cast<double>(few.produce_requests)).scale(0).epsilon(0.05));
}

TEST_CASE("throughput never exceeds the bottleneck: a producer on 1 GbE saturates its own NIC") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.client_nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile("nic-1gbe", cluster::bundled_profile_dir()).params);
  spec.duration = 10_s;
  spec.warmup = 3_s;
  // Offered: 300,000 records/s x 1000 B = 300 MB/s, far above 1 GbE.
  spec.producers.push_back(test::open_loop_producer(300000, Acks::leader, 5, 1000));
  cluster::World world(spec);
  const auto s = world.run();
  // 1 GbE goodput = 125e6 x 1448/1538 = 117.7 MB/s of request bytes; record payload is a bit less.
  const double goodput_mib = 125e6 * 1448.0 / 1538.0 / 1048576.0;
  CHECK(s.throughput_mib_per_s <= goodput_mib);
  CHECK(s.throughput_mib_per_s > 0.8 * goodput_mib);
  CHECK(s.bottleneck == "client-0 nic tx");
  CHECK(s.bottleneck_utilisation > 0.9);
}

TEST_CASE("end-to-end latency is at least the produce-to-commit time and every acked record is consumed") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 10_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(5000, Acks::all, 5, 512));
  spec.consumers.push_back(test::group_member());
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.records_consumed > 0);
  // Consumers only see records below the high watermark, which acks=all also waits for.
  CHECK(s.end_to_end_latency.p50_ms >= 0.9 * s.produce_latency.p50_ms);
  // Everything acked more than a second before the end has been consumed.
  CHECK(s.records_consumed + 5000 >= s.records_acked);
}

TEST_CASE("determinism: the same scenario and seed twice in one process give identical results") {
  auto make = [] {
    auto spec = test::small_cluster(3, "hdd-7200rpm", "nic-10gbe", 6, 3, 2);
    spec.duration = 5_s;
    spec.warmup = 1_s;
    auto p = test::open_loop_producer(3000, Acks::all, 5, 512);
    p.arrival = cluster::ArrivalProcess::Kind::kPoisson;
    p.keys = cluster::KeyDistribution::zipf(100, 1.0);
    spec.producers.push_back(p);
    spec.consumers.push_back(test::group_member());
    return spec;
  };
  cluster::World a(make());
  cluster::World b(make());
  const auto ra = a.run();
  const auto rb = b.run();
  CHECK(ra.trace_hash == rb.trace_hash);
  CHECK(ra.events == rb.events);
  CHECK(ra.records_acked == rb.records_acked);
  CHECK(ra.produce_latency.p99_ms == rb.produce_latency.p99_ms);
  CHECK(ra.end_to_end_latency.p50_ms == rb.end_to_end_latency.p50_ms);
  auto other = make();
  other.seed = 2;
  cluster::World c(other);
  CHECK(c.run().trace_hash != ra.trace_hash);
}

TEST_CASE("num.replica.fetchers: each fetcher thread has its own connection, so more fetchers never slow replication") {
  // A follower's fetcher threads each own a NetworkClient (one connection per fetcher to a leader). A broker
  // mutes a connection while it works on a request, and a follower fetch can wait in the fetch purgatory for up
  // to replica.fetch.wait.max.ms (500 ms): were the threads to share one connection, one idle thread's parked
  // fetch would hold back the others and acks=all would crawl. Spreading the same partitions over more threads
  // can only shorten each thread's work per round: at an offered 20,000 records/s both keep up, and acks=all
  // latency with 4 fetchers is no worse than with 1 (the median within 5 % for chance alignments).
  auto run = [](int32_t fetchers) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 12, 3, 2);
    spec.duration = 3_s;
    spec.warmup = 1_s;
    spec.fetcher_config.num_replica_fetchers = fetchers;
    spec.producers.push_back(test::open_loop_producer(20'000, Acks::all, 0, 1000));
    cluster::World world(spec);
    return world.run();
  };
  const auto one = run(1);
  const auto four = run(4);
  CHECK(one.throughput_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(four.throughput_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(four.produce_latency.p50_ms <= 1.05 * one.produce_latency.p50_ms);
}

TEST_CASE("network threads: the Acceptor deals connections round-robin, a follower's fetcher connections included") {
  // SocketServer's Acceptor gives each accepted connection to the next processor (currentProcessorIndex), so
  // num.network.threads processors own the connections in counts that differ by at most one. Here every broker
  // accepts 2 fetcher connections from each of the 2 other brokers (num.replica.fetchers = 2), one producer
  // and one consumer connection: 6 connections, 2 a processor; the group's coordinator also has the consumer's
  // coordinator connection (its OffsetFetch at start): 7, so 3, 2, 2 in some order. Mapping connections by node id
  // mod 3 instead would put both fetcher connections of a follower on one processor.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 12, 3, 2);
  spec.duration = 2_s;
  spec.warmup = 1_s;
  spec.num_network_threads = 3;
  spec.fetcher_config.num_replica_fetchers = 2;
  spec.producers.push_back(test::open_loop_producer(5'000, Acks::all, 0, 1000));
  cluster::ConsumerSpec c = test::group_member();
  spec.consumers.push_back(c);
  cluster::World world(spec);
  world.run();
  const int32_t offsets_partition = kafka::offsets_partition_for(c.group, spec.offsets_topic_partitions);
  const uint32_t coordinator =
      static_cast<uint32_t>(world.offsets_topic_replicas()[static_cast<size_t>(offsets_partition)].front());
  for (uint32_t b = 0; b < 3; ++b) {
    CAPTURE(b);
    auto counts = world.connections_per_processor(b);
    REQUIRE(counts.size() == 3);
    const uint32_t expected = b == coordinator ? 7 : 6;
    CHECK(counts[0] + counts[1] + counts[2] == expected);
    std::sort(counts.begin(), counts.end());
    CHECK(counts == (b == coordinator ? std::vector<uint32_t>{2, 2, 3} : std::vector<uint32_t>{2, 2, 2}));
  }
}

TEST_CASE("a follower pays the same CRC check for what it appends as the leader paid for the produce") {
  // UnifiedLog.analyzeAndValidateRecords checks every batch's CRC on every append, the follower's included
  // (kafka-behaviour.md §3; hardware-models.md §5.3). With every other broker CPU cost set to zero, the leader's
  // I/O threads spend produced bytes / CRC rate and the follower's fetcher thread replicated bytes / CRC rate.
  // RF=2, so every produced byte is replicated once; by the end of the run the follower lags by at most the
  // last few milliseconds of a 4 s run, so the two busy times agree within 1 %.
  auto spec = test::small_cluster(2, "nvme-datacentre", "nic-10gbe", 1, 2, 1);
  spec.duration = 4_s;
  spec.warmup = 1_s;
  spec.cpu_costs.request_fixed_cost = sim::Duration::zero();
  spec.cpu_costs.replica_fetch_partition_cost = sim::Duration::zero();
  spec.cpu_costs.crc32c_bytes_per_s = 10e6;  // slow, so that the CRC time is large against rounding
  spec.cpu_costs.desktop_to_server_scale = 1;
  spec.producers.push_back(test::open_loop_producer(2000, Acks::leader, 1, 512));
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.throughput_records_per_s == doctest::Approx(2000).scale(0).epsilon(0.02));
  double io_busy = 0, fetcher_busy = 0;
  for (uint32_t b = 0; b < spec.brokers; ++b) {
    auto& cpu = world.broker_hardware(b).cpu();
    const auto busy = [&cpu](const std::string& pool) {
      const auto stats = cpu.pool_stats(cpu.pool(pool));
      return (stats.sojourn_total - stats.wait_total).seconds_f();
    };
    io_busy += busy("io");
    fetcher_busy += busy("replica-fetcher-" + std::to_string(1 - b) + "-0");
  }
  // About 2000 x 520 B a second for 4 s at 10 MB/s: some 0.4 s of CRC each.
  CHECK(io_busy > 0.3);
  CHECK(fetcher_busy == doctest::Approx(io_busy).scale(0).epsilon(0.01));
}

TEST_CASE("followers fall behind an acks=1 producer that fills its 1 GbE NIC by at most the ACKs' share") {
  // RF=3 on 1 GbE: each broker's RX carries 1/3 of the stream as leader and 2/3 as follower: as much as the
  // producer's TX. It also carries the pure ACKs of its own fetch responses to its two followers (2/3 of the
  // stream on its TX): in 16 KiB chunks (a quarter of the followers' 64 KiB window) 11 full segments, 5 ACKs of
  // 90 wire bytes per 16,384 / (1448/1538) = 17,402 wire bytes, 2.59 % of that traffic's time, 1.72 % of the
  // stream on the RX. So the producer's NIC and the brokers' RX are both saturated, and at worst the followers
  // (2/3 of the RX) give up all of it: they fall behind by at most 2.59 % of a partition's rate. A follower that
  // keeps up otherwise is behind its leader by what the leader appended during a fetch round or two: the
  // largest response (replica.fetch.max.bytes = 1 MiB for each of a leader's two partitions) takes 2 MiB /
  // 117.7 MB/s = 18 ms on the wire, so at ~150,000 records/s a partition below 100 ms of records (15,000).
  // Followers that fall behind for other reasons (a fetch request stuck behind the other connection's 2 MiB
  // responses) lost ~20 % of the stream, some 30,000 records a partition per second.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-1gbe", 6, 3, 1);
  spec.duration = 3_s;
  spec.warmup = 1_s;
  auto p = test::open_loop_producer(10'000'000, Acks::leader, 0, 116);
  p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
  p.config.batch_size_bytes = 8196;
  p.config.buffer_memory_bytes = 64 << 20;
  p.config.enable_idempotence = false;
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  const bool nic_bound = s.bottleneck == "client-0 nic tx" ||
                         (s.bottleneck.starts_with("broker-") && s.bottleneck.ends_with(" nic rx"));
  CHECK_MESSAGE(nic_bound, s.bottleneck);
  int64_t worst_lag = 0;
  int64_t appended = 0;
  for (int32_t partition = 0; partition < 6; ++partition) {
    const kafka::PartitionRef ref{0, partition};
    int64_t leader_leo = -1;
    for (uint32_t b = 0; b < spec.brokers; ++b) {
      const kafka::Partition* replica = world.partition(b, ref);
      REQUIRE(replica != nullptr);
      if (replica->is_leader()) leader_leo = replica->log_end_offset();
    }
    REQUIRE(leader_leo > 100'000);
    appended = std::max(appended, leader_leo);
    for (uint32_t b = 0; b < spec.brokers; ++b)
      worst_lag = std::max(worst_lag, leader_leo - world.partition(b, ref)->log_end_offset());
  }
  CHECK(worst_lag < 15'000 + static_cast<int64_t>(0.0259 * static_cast<double>(appended)));
}

TEST_CASE("very many partitions per follower fetcher add replication latency") {
  // With 600 partitions on 3 brokers (RF=3) a follower follows 200 partitions of each leader. Its fetch session
  // (KIP-227) lists only partitions whose fetch offset changed, but the leader still reads every partition of
  // the session on every fetch (IncrementalFetchContext.foreachPartition feeds fetchMessages): the cluster charges
  // its I/O thread replica_fetch_idle_partition_cost (i = 0.34 us, Kafka's JMH figure) per partition read and
  // replica_fetch_partition_cost (d = 20 us, hardware-models.md §5.2) for each that returns records. An acks=all
  // record is committed only when the fetch AFTER the one that carried it has been read by the leader (that fetch
  // reports the follower's new LEO, §3.2/§3.3), and the fetch that carried it returned records of its partition:
  // with 600 partitions that read costs at least 200 i + (d - i), with 6 at most 2 d (two partitions, each
  // returning records at most). So the p50 must grow by at least 199 i - d. (Linger, network and append costs are
  // no smaller with more partitions.)
  auto run = [](int32_t partitions) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", partitions, 3, 2);
    spec.duration = 8_s;
    spec.warmup = 2_s;
    auto p = test::open_loop_producer(5000, Acks::all, 5, 200);
    p.keys = cluster::KeyDistribution::uniform(100000);
    spec.producers.push_back(p);
    cluster::World world(spec);
    return std::make_pair(world.run(), spec);
  };
  const auto [few, few_spec] = run(6);
  const auto [many_summary, many_spec] = run(600);
  const cluster::WorldSummary& many = many_summary;
  const double idle_ms = few_spec.cpu_costs.replica_fetch_idle_partition_cost.ms_f();
  const double data_ms = few_spec.cpu_costs.replica_fetch_partition_cost.ms_f();
  const double round_ms = 199 * idle_ms - data_ms;
  REQUIRE(round_ms > 0);
  CHECK(many.produce_latency.p50_ms - few.produce_latency.p50_ms >= round_ms);

  // The follower's side of the same fetches is smaller: an incremental response carries only the partitions with
  // new records or a new HW, and the follower's fetcher thread pays d per partition with records and i per one
  // with only a new HW, where the leader paid d for each partition with records and i for every partition of the
  // session (those with only a new HW included), plus request_fixed_cost per fetch and all of its produce work. By
  // symmetry every broker's I/O threads read for the other two brokers' fetchers as much as its own fetcher makes
  // the others read, so the fetcher's busy time must stay below its broker's I/O-thread busy time.
  const auto utilisation = [&many](const std::string& name) {
    for (const auto& [resource, value] : many.utilisation) {
      if (resource == name) return value;
    }
    FAIL("no resource " << name);
    return 0.0;
  };
  // Busy threads summed over a broker's fetcher threads (one per source broker, each its own resource).
  const auto fetcher_threads_busy = [&many](const std::string& broker) {
    double busy = 0;
    int threads = 0;
    for (const auto& [resource, value] : many.utilisation) {
      if (resource.starts_with(broker + " replica fetcher from ")) {
        busy += value;
        ++threads;
      }
    }
    CHECK(threads == 2);  // it follows the two other brokers
    return busy;
  };
  for (uint32_t b = 0; b < many_spec.brokers; ++b) {
    const std::string broker = "broker-" + std::to_string(b);
    const double fetcher_busy = fetcher_threads_busy(broker);
    const double io_busy = utilisation(broker + " io threads") * many_spec.num_io_threads;
    CHECK(fetcher_busy < io_busy);
  }
}

namespace {

// Four producers (so every network processor of a broker serves one), RF=1 so that nothing but the consumer
// reads old data; a 128 MiB page cache holds ~4 s of each broker's ~9.5 MiB/s of writes. The consumer starts at
// offset 0 when 25 s are written, far behind the head, and reads from the disk.
cluster::WorldSummary lagging_consumer_run(const char* disk, bool lagging) {
  auto spec = test::small_cluster(3, disk, "nic-10gbe", 6, 1, 1);
  spec.duration = 40_s;
  spec.warmup = 25_s;
  spec.broker_hardware.ram_bytes = (3ull << 30) + (128ull << 20);
  spec.broker_hardware.jvm_heap_bytes = 2ull << 30;
  spec.broker_hardware.other_memory_bytes = 1ull << 30;
  auto p = test::open_loop_producer(7500, Acks::leader, 5, 1000);
  p.config.enable_idempotence = false;
  p.count = 4;
  spec.producers.push_back(p);
  cluster::ConsumerSpec c = test::group_member();
  c.start_at = lagging ? 25_s : sim::Duration::zero();
  // A new group: it reads from the log start only with auto.offset.reset=earliest (Kafka's default, latest, would
  // start it at the head).
  c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  spec.consumers.push_back(c);
  cluster::World world(spec);
  return world.run();
}

}  // namespace

TEST_CASE("a consumer far behind the head reads from disk, and on HDD that raises produce latency on the broker") {
  const auto hdd_caught_up = lagging_consumer_run("hdd-7200rpm", false);
  const auto hdd_lagging = lagging_consumer_run("hdd-7200rpm", true);
  // A sendfile that misses the page cache holds its network processor while the disk seeks and rotates
  // (KAFKA-7504); produce requests of that processor's connections wait behind it. One positioned HDD read
  // costs on average A + T_rev/2 = 8.5 + 4.17 ms (hdd-7200rpm profile), so the tail must rise by at least one
  // mean rotational latency, 4.17 ms.
  CHECK(hdd_lagging.produce_latency.p999_ms >= hdd_caught_up.produce_latency.p999_ms + 4.17);
  // summary.json's disks, as iostat -x would show them: the caught-up group is served from the page cache (no
  // disk reads), the late one reads its old segments from every broker's disk. Little's law ties iostat's columns
  // together over the run: aqu-sz = completions per second x await (the window's edges aside: 2 %).
  REQUIRE(hdd_lagging.disks.size() == 3);
  const nlohmann::json disks = cluster::summary_json(hdd_lagging, 0.0)["disks"];
  for (size_t b = 0; b < 3; ++b) {
    const auto& caught_up = hdd_caught_up.disks[b];
    const auto& lagging = hdd_lagging.disks[b];
    CAPTURE(lagging.name);
    CHECK(caught_up.stats.bytes_read == 0);
    CHECK(lagging.stats.bytes_read > 50ull << 20);
    const nlohmann::json& d = disks.at(lagging.name);
    const double ops_per_s = d["reads_per_s"].get<double>() + d["writes_per_s"].get<double>() + d["flushes_per_s"].get<double>();
    CHECK(d["mean_queue_depth"].get<double>() == doctest::Approx(ops_per_s * d["await_ms"].get<double>() / 1e3).scale(0).epsilon(0.02));
    CHECK(d["read_mib_per_s"].get<double>() ==
          doctest::Approx(static_cast<double>(lagging.stats.bytes_read) / 40.0 / 1048576.0).scale(0).epsilon(1e-9));
    CHECK(d["utilisation"].get<double>() == lagging.utilisation);
    CHECK(d["await_max_ms"].get<double>() >= d["await_ms"].get<double>());
  }
  // The same lagging consumer on NVMe: a 1 MiB read takes 65 us + 1 MiB / 6.5 GB/s = 0.23 ms, so the tail
  // rises by well under 1 ms.
  const auto nvme_caught_up = lagging_consumer_run("nvme-datacentre", false);
  const auto nvme_lagging = lagging_consumer_run("nvme-datacentre", true);
  CHECK(nvme_lagging.produce_latency.p999_ms < nvme_caught_up.produce_latency.p999_ms + 1.0);
  CHECK(nvme_lagging.records_consumed >= nvme_lagging.records_acked - 10000);
}

TEST_CASE("a topic max.message.bytes below the producer's batches: batches are split and every record is delivered") {
  // Unkeyed 512-byte records stick to one partition until batch.size (16384) bytes: batches of up to ~30 records,
  // far above max.message.bytes = 1000. Kafka's producer splits each rejected batch (KIP-126, then in halves,
  // KAFKA-8350) down to parts that fit, here single records (two 512-byte records and a header exceed 1000).
  // Without idempotence: an idempotent producer whose first batches on a partition are all too large can have a
  // later small batch accepted first (a broker accepts any sequence from a producer it does not know yet), after
  // which the split parts' lower sequences are out of order until delivery.timeout.ms (as in Kafka).
  auto run = [](uint32_t value_bytes) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 6_s;
    spec.warmup = 1_s;
    spec.topics[0].config.log.max_message_bytes = 1000;
    spec.producers.push_back(test::open_loop_producer(5000, Acks::all, 5, value_bytes));
    spec.producers.back().config.enable_idempotence = false;
    spec.consumers.push_back(test::group_member());
    cluster::World world(spec);
    return world.run();
  };
  const auto fits = run(512);
  CHECK(fits.records_failed == 0);
  CHECK(fits.batch_splits > 0);
  CHECK(fits.record_retries == 0);  // a split is not a retry
  CHECK(fits.records_acked > 0);
  CHECK(fits.records_acked + 5000 >= fits.records_sent);  // at most a second's records still in flight
  CHECK(fits.records_consumed + 5000 >= fits.records_acked);
  // A record that alone exceeds max.message.bytes cannot be split: every record fails, none is appended (after
  // its batch was split down to it).
  const auto too_large = run(2000);
  CHECK(too_large.records_acked == 0);
  CHECK(too_large.records_consumed == 0);
  CHECK(too_large.records_failed + 5000 >= too_large.records_sent);
  CHECK(too_large.records_failed > 0);
  CHECK(too_large.records_failed_by_cause.broker_error == too_large.records_failed);  // MESSAGE_TOO_LARGE
  CHECK(too_large.batch_splits > 0);  // batches of several records are split first, down to single records
}

TEST_CASE("a compacted topic: records without keys fail with INVALID_RECORD and are never appended; keyed ones pass") {
  // LogValidator (§2.3 step 2): a topic whose cleanup.policy contains "compact" takes no record without a key.
  // INVALID_RECORD is not retriable (§7), so each batch fails on its first response, and nothing reaches a log.
  auto run = [](bool keyed) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 4_s;
    spec.warmup = 1_s;
    spec.topics[0].config.log.cleanup_policy_compact = true;
    spec.topics[0].config.log.cleanup_policy_delete = false;
    spec.producers.push_back(test::open_loop_producer(2000, Acks::all, 5, 512));
    if (keyed) spec.producers.back().keys = cluster::KeyDistribution::uniform(1000);
    spec.consumers.push_back(test::group_member());
    cluster::World world(spec);
    return world.run();
  };
  const auto keyless = run(false);
  CHECK(keyless.records_acked == 0);
  CHECK(keyless.records_consumed == 0);
  CHECK(keyless.record_retries == 0);
  CHECK(keyless.records_failed > 0);
  CHECK(keyless.records_failed + 2000 >= keyless.records_sent);  // at most a second's records still in flight
  CHECK(keyless.records_failed_by_cause.broker_error == keyless.records_failed);
  CHECK(keyless.records_failed_by_cause.broker_errors ==
        std::map<std::string, uint64_t>{{"INVALID_RECORD", keyless.records_failed}});
  const auto keyed = run(true);
  CHECK(keyed.records_failed == 0);
  CHECK(keyed.records_failed_by_cause.broker_errors.empty());
  CHECK(keyed.records_acked + 2000 >= keyed.records_sent);
  CHECK(keyed.records_consumed + 2000 >= keyed.records_acked);
}

namespace {

// Runs `full` and `shortened` (the same scenario without and with an exact shortcut) and checks that the shortcut
// changes nothing of the run but its events, which it at least halves: every summary figure (but `sim`) and every
// per-second sample. Returns the full run's summary.
cluster::WorldSummary check_same_run_with_fewer_events(const cluster::WorldSpec& full,
                                                       const cluster::WorldSpec& shortened) {
  cluster::World a_world(full), b_world(shortened);
  const auto a = a_world.run();
  const auto b = b_world.run();
  nlohmann::json ja = cluster::summary_json(a, 0), jb = cluster::summary_json(b, 0);
  CHECK(jb["sim"]["events"].get<uint64_t>() < ja["sim"]["events"].get<uint64_t>() / 2);
  ja.erase("sim");
  jb.erase("sim");
  CHECK(ja == jb);
  std::ostringstream ta, tb;
  a_world.timeseries().write_csv(ta);
  b_world.timeseries().write_csv(tb);
  CHECK(ta.str() == tb.str());
  return a;
}

// Three NVMe brokers on 1 GbE, one topic of 6 partitions (RF 3, min.insync.replicas 2), `first` writing to it; with
// `second`, that producer too and a consumer group reading the topic.
cluster::WorldSpec one_or_two_producers_on_1gbe(sim::Duration duration, sim::Duration warmup,
                                                cluster::ProducerSpec first,
                                                const std::optional<cluster::ProducerSpec>& second) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-1gbe", 6, 3, 2);
  spec.duration = duration;
  spec.warmup = warmup;
  spec.producers.push_back(std::move(first));
  if (second) {
    spec.producers.push_back(*second);
    spec.consumers.push_back(test::group_member());
  }
  return spec;
}

}  // namespace

TEST_CASE("records offered while send() is blocked: the short path changes the events, nothing of the run") {
  // An open-loop producer offering 1,000,000 records/s of 512 bytes on 1 GbE (about four times what the link takes)
  // with a 1 MiB buffer.memory: send() blocks most of the time, and the records the schedule offers meanwhile join
  // the backlog, sent when send() returns and measured from their intended times. World::on_arrival's short path
  // for them must leave every figure and every per-second sample as the full path gives them, with fewer events
  // (one producer: nothing else runs between most of its arrivals). With a second producer, also blocked, with
  // acks=all and Poisson arrivals, and a consumer: the two producers' arrivals interleave and join together.
  const auto make = [](bool short_path, bool second_producer) {
    auto first = test::open_loop_producer(1'000'000, Acks::leader, 5, 512);
    first.config.buffer_memory_bytes = 1 << 20;
    std::optional<cluster::ProducerSpec> second;
    if (second_producer) {
      second = test::open_loop_producer(1'000'000, Acks::all, 0, 200);
      second->arrival = cluster::ArrivalProcess::Kind::kPoisson;
      second->config.buffer_memory_bytes = 1 << 20;
    }
    auto spec = one_or_two_producers_on_1gbe(3_s, 1_s, first, second);
    spec.short_blocked_arrivals = short_path;
    return spec;
  };
  for (const bool second : {false, true}) {
    CAPTURE(second);
    const auto a = check_same_run_with_fewer_events(make(false, second), make(true, second));
    REQUIRE(a.records_sent > 0);
    CHECK(a.throughput_records_per_s < 0.5 * 1'000'000);  // blocked most of the time: the path under test ran
  }
}

TEST_CASE("appends into the last of several batches: skipping Kafka's no-op wakeups changes the events only") {
  // Producers whose deques hold several batches (the sender has more than it may send: in-flight limits, muted
  // connections): Kafka wakes the sender after every such append, and the poll finds nothing new. With the shortcut
  // (kafka::RecordAccumulator::set_tail_appends_quiet) those appends skip the poll and are quiet (no event of their
  // own). Every figure and per-second sample must be as with Kafka's wakeups, with far fewer events: (1) one
  // kafka-producer-perf-test style producer (unthrottled, linger.ms=0, acks=1, the sticky partitioner) on 1 GbE;
  // (2) with it, a keyed acks=all producer with Poisson arrivals and a consumer.
  const auto make = [](bool quiet, bool mixed) {
    auto perf_test = test::open_loop_producer(2'000'000, Acks::leader, 0, 100);
    perf_test.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
    std::optional<cluster::ProducerSpec> keyed;
    if (mixed) {
      keyed = test::open_loop_producer(150'000, Acks::all, 1, 300);
      keyed->arrival = cluster::ArrivalProcess::Kind::kPoisson;
      keyed->keys = cluster::KeyDistribution::uniform(1000);
    }
    auto spec = one_or_two_producers_on_1gbe(1500_ms, 500_ms, perf_test, keyed);
    spec.quiet_tail_appends = quiet;
    return spec;
  };
  for (const bool mixed : {false, true}) {
    CAPTURE(mixed);
    const auto a = check_same_run_with_fewer_events(make(false, mixed), make(true, mixed));
    REQUIRE(a.records_acked > 0);
  }
}

TEST_CASE("a closed-loop thread whose every send fails in send() keeps trying, one send per microsecond") {
  // 200-byte records against max.request.size = 100: KafkaProducer.send fails each at once with
  // RecordTooLargeException. The thread (send().get() style) tries again after its own 1 us, so in 10 ms it sends
  // exactly 10,000 records per thread (at 0, 1, ..., 9999 us), all failed for that reason, and the run ends.
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 10_ms;
  spec.warmup = sim::Duration::zero();
  cluster::ProducerSpec p;
  p.closed_loop_threads = 2;
  p.config.acks = Acks::leader;
  p.config = kafka::apply_idempotence_default(p.config, false);
  p.config.max_request_size_bytes = 100;
  p.value_size = cluster::SizeDistribution::fixed(200);
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.records_sent == 2 * 10'000);
  CHECK(s.records_failed == s.records_sent);
  CHECK(s.records_failed_by_cause.record_too_large == s.records_failed);
  CHECK(s.records_acked == 0);
}

namespace {

// 3 brokers, 6 partitions RF=3, one acks=all producer at 10,000 records/s of 512 B with request.timeout.ms = 700 us,
// shorter than an acks=all round trip of a 16 KB batch, and one consumer; 3 s. Without retries and idempotence
// (retries = 0), a request that times out fails its batches.
cluster::WorldSpec request_timeout_cluster(bool retries_and_idempotence) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 3_s;
  spec.warmup = 500_ms;
  spec.producers.push_back(test::open_loop_producer(10000, Acks::all, 5, 512));
  spec.producers.back().config.request_timeout = 700_us;
  if (!retries_and_idempotence) {
    spec.producers.back().config.retries = 0;
    spec.producers.back().config.enable_idempotence = false;
  }
  spec.consumers.push_back(test::group_member());
  return spec;
}

// Retries without idempotence (so some batches are appended twice), read by two groups: "first" from the start,
// "second" from the earliest offset a second later.
cluster::WorldSpec duplicates_for_two_groups() {
  auto spec = request_timeout_cluster(/*retries_and_idempotence=*/true);
  spec.producers.back().config.enable_idempotence = false;
  spec.consumers.back().group = "first";
  spec.consumers.back().config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  spec.consumers.push_back(spec.consumers.back());
  spec.consumers.back().group = "second";
  spec.consumers.back().start_at = 1_s;
  return spec;
}

}  // namespace

TEST_CASE("idempotence: batches retried after request timeouts are de-duplicated by the broker") {
  // request.timeout.ms = 700 us is shorter than an acks=all round trip of a 16 KB batch, so requests time out, the
  // producer closes the connection and sends the same batches (same sequences) again. The leader keeps the last
  // five batches of each producer and answers a retry with the original offsets instead of appending it again, so
  // no record can be consumed twice: consumed <= sent. (Without the broker's check: 45,174 consumed of 30,000.)
  cluster::World world(request_timeout_cluster(/*retries_and_idempotence=*/true));
  const auto s = world.run();
  REQUIRE(s.record_retries > 0);
  CHECK(s.records_consumed > 0);
  CHECK(s.records_consumed <= s.records_sent);
  CHECK(s.records_failed == 0);
}

TEST_CASE("duplicates: every group measures every copy of a batch the leader appended twice") {
  // Retries without idempotence: a batch whose request timed out is sent again and the leader, which has no
  // producer id to check, appends it a second time. Each of two groups polls every record in the logs, copies
  // included, and each poll of a record is an end-to-end sample. When the send times were counted down once per
  // group and batch, one group's read of the second copy used up the other group's share, which then lost its
  // samples of that batch.
  // The second group starts a second late, from the earliest offset: the first copies it has to read are still
  // unread by it when their retries are appended.
  cluster::World world(duplicates_for_two_groups());
  const auto s = world.run();
  int64_t in_logs = 0;  // records below the leaders' high watermarks, duplicates included (no retention)
  int64_t duplicated_batches = 0;  // batches a leader's log holds more than once
  for (int32_t p = 0; p < 6; ++p)
    for (uint32_t b = 0; b < 3; ++b) {
      const kafka::Partition* replica = world.partition(b, {0, p});
      if (replica == nullptr || !replica->is_leader()) continue;
      in_logs += replica->high_watermark();
      std::set<uint64_t> tags;
      for (const kafka::LogSegment& segment : replica->log().segments())
        for (std::size_t i = 0; i < segment.batches().size(); ++i)
          if (!tags.insert(segment.batches()[i].batch.tag).second) ++duplicated_batches;
    }
  REQUIRE(s.record_retries > 0);
  REQUIRE(duplicated_batches > 0);
  // Both groups start at offset 0 (the first as the logs are empty, the second by earliest) and end at most
  // ~100 ms behind.
  CHECK(static_cast<int64_t>(s.records_consumed) <= 2 * in_logs);
  CHECK(static_cast<int64_t>(s.records_consumed) + 2'000 >= 2 * in_logs);
  CHECK(world.records_polled_unmeasured() == 0);
}

TEST_CASE("ordering: retries without idempotence put records behind later ones; the idempotent producer never does") {
  // kafka-behaviour.md §1.7: with enable.idempotence the broker appends a producer's batches in sequence order
  // (OUT_OF_ORDER_SEQUENCE, DUPLICATE_SEQUENCE), so retries after request timeouts keep the order; without it, a
  // retried batch can land behind batches sent after it, or a second time. The check's count is compared with the
  // leaders' logs read independently: batch ids follow creation order, which for one partition and no split batch
  // is the records' send order, so every batch whose id is not above an id appended before it counts.
  for (const bool idempotent : {true, false}) {
    CAPTURE(idempotent);
    auto spec = request_timeout_cluster(/*retries_and_idempotence=*/true);
    spec.producers.back().config.enable_idempotence = idempotent;
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.record_retries > 0);
    REQUIRE(s.batch_splits == 0);
    uint64_t behind = 0;
    for (int32_t p = 0; p < 6; ++p) {
      const kafka::Partition* leader = world.leader_partition({0, p});
      REQUIRE(leader != nullptr);
      int64_t highest = -1;
      for (const kafka::LogSegment& segment : leader->log().segments())
        for (std::size_t i = 0; i < segment.batches().size(); ++i) {
          const kafka::RecordBatch batch = segment.batches()[i].batch;
          const auto id = static_cast<int64_t>(batch.tag & ((uint64_t{1} << 40) - 1));
          if (id <= highest) behind += static_cast<uint64_t>(batch.record_count);
          highest = std::max(highest, id);
        }
    }
    CHECK(s.appended_out_of_order == behind);
    if (idempotent) {
      CHECK(s.appended_out_of_order == 0);
    } else {
      CHECK(s.appended_out_of_order > 0);
    }
    CHECK(s.acked_records_lost == 0);
  }
}

TEST_CASE("duplicates: retention deleting one copy of a batch leaves the other copy's readers their samples") {
  // The run above with retention by size (64 KiB segments, 256 KiB kept a partition, checked every 50 ms; segments
  // below 1 MiB were allowed until Kafka 4.0, and here they only make segment boundaries, where a batch's two copies
  // can fall on both sides, more frequent): before
  // the second group starts (a second late, from the earliest offset) retention deletes copies of batches it has
  // not polled. A deleted first copy can leave a second copy (its retry, appended a little later, in the next
  // segment) in the log, which the second group then polls. Each group's poll of each copy is an end-to-end
  // sample, so every polled record must find its send time. When the first copy became unreadable the whole
  // batch's send times were dropped: 1,147 polls of second copies went unmeasured here.
  auto spec = duplicates_for_two_groups();
  spec.retention_initial_delay = 0_s;
  spec.retention_check_interval = 50_ms;
  spec.topics[0].config.log.segment_bytes = 65536;
  spec.topics[0].config.log.retention_bytes = 262144;
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.record_retries > 0);
  const auto deleted_before_second_group = std::count_if(
      world.events().begin(), world.events().end(), [](const nlohmann::json& e) {
        return e["type"] == "segments_deleted" && e["leader"] == true && e["time_s"].get<double>() < 1.0;
      });
  REQUIRE(deleted_before_second_group > 0);
  CHECK(world.records_polled_unmeasured() == 0);
  CHECK(s.records_consumed > 0);
}

TEST_CASE("a request retried after a request timeout goes on a new connection, not behind the closed one's") {
  // With max.in.flight.requests.per.connection = 1 a client never has two requests on one connection, so no request
  // can wait at the broker behind another of the same connection (Kafka's SocketServer mutes a channel while it
  // works on one of its requests). Here every request costs an I/O thread 20 ms, longer than request.timeout.ms
  // (5 ms) plus reconnect.backoff.ms (1 ms): the producer closes the connection at the timeout, the timed-out
  // request goes on being handled on the closed connection, and the retry comes on a new connection 6 ms after
  // the first, which another of the 8 I/O threads takes at once. So the brokers report no connection with a
  // request waiting behind another. (When the broker kept one connection per client, each retry queued behind the
  // abandoned request.)
  auto spec = request_timeout_cluster(/*retries_and_idempotence=*/true);
  spec.cpu_costs.request_fixed_cost = 20_ms;
  auto& config = spec.producers.back().config;
  config.max_in_flight_requests_per_connection = 1;
  config.request_timeout = 5_ms;
  config.reconnect_backoff = 1_ms;
  config.reconnect_backoff_max = 1_ms;
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.record_retries > 0);
  CHECK_MESSAGE(s.connection_backlog.empty(),
                (s.connection_backlog.empty() ? std::string{} : s.connection_backlog.front().first));
  // The brokers accepted more connections than the clients' first ones (per broker: the producer's, the consumer's
  // and one per follower fetcher, 4).
  uint32_t connections = 0;
  for (uint32_t b = 0; b < 3; ++b)
    for (const uint32_t n : world.connections_per_processor(b)) connections += n;
  CHECK(connections > 3 * 4);
}

TEST_CASE("failed batches that no leader appended leave no end-to-end bookkeeping behind") {
  // 2000-byte records against max.message.bytes = 1000: batches are split down to single records, which the leader
  // rejects with MESSAGE_TOO_LARGE, so every record fails and nothing reaches a log. The send times kept for
  // end-to-end latency must go with the failed batches: only batches still in flight at the end may keep theirs,
  // at most max.in.flight.requests.per.connection (5) requests to each of the 3 leaders, each with one batch per
  // partition it leads (6 partitions / 3 brokers = 2): 30. (Before: one entry per failed batch, ~30,000.)
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 6_s;
  spec.warmup = 1_s;
  spec.topics[0].config.log.max_message_bytes = 1000;
  spec.producers.push_back(test::open_loop_producer(5000, Acks::all, 5, 2000));
  spec.producers.back().config.enable_idempotence = false;
  spec.consumers.push_back(test::group_member());
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed + 5000 >= s.records_sent);
  REQUIRE(s.records_failed_by_cause.broker_error == s.records_failed);  // MESSAGE_TOO_LARGE
  CHECK(s.records_consumed == 0);
  CHECK(world.batches_awaiting_consumers() <= 5 * 3 * 2);
}

TEST_CASE("failed batches that a leader appended are still measured end to end when consumed") {
  // request.timeout.ms = 700 us is shorter than an acks=all round trip of a 16 KB batch (as in the idempotence test
  // above), and retries = 0: a request that times out fails its batches, although the leader appended them (or
  // will: the request may still be queued at the broker). A consumer reads whatever is in the log, failed or not,
  // so every record below the leaders' high watermarks is consumed, with its end-to-end latency: records_consumed
  // counts the records whose send time was kept. Forgetting every failed batch, or every failed batch not yet
  // appended when it failed (its request still queued at the broker), loses most of them (2,875 and 11,254
  // counted of 29,749 in the logs when tried).
  cluster::World world(request_timeout_cluster(/*retries_and_idempotence=*/false));
  const auto s = world.run();
  int64_t in_logs = 0;  // records below each leader's high watermark (no retention, no duplicates: no retries)
  for (int32_t p = 0; p < 6; ++p) {
    for (uint32_t b = 0; b < 3; ++b) {
      const kafka::Partition* replica = world.partition(b, {0, p});
      if (replica != nullptr && replica->is_leader()) in_logs += replica->high_watermark();
    }
  }
  REQUIRE(s.records_failed > 0);
  // Some failed records are in the logs: more records there than were acknowledged.
  REQUIRE(in_logs > static_cast<int64_t>(s.records_acked));
  CHECK(static_cast<int64_t>(s.records_consumed) <= in_logs);
  CHECK(static_cast<int64_t>(s.records_consumed) + 1000 >= in_logs);  // the consumer at most 100 ms behind
  CHECK(s.end_to_end_latency.count > 0);
}

namespace {

// 3 brokers, 6 partitions RF=3 on 10 GbE; one acks=1 producer (no idempotence) of 500,000-byte records behind a
// 1 GbE client NIC, and one consumer; 2 s. A ProduceRequest of one such record carries more than 500,000 bytes, so
// its last byte leaves the client's NIC at least 500,000 / (125e6 B/s x 1448/1538) = 4.25 ms after its first
// (hardware-models.md §4.2 goodput), longer than request.timeout.ms = 2 ms.
cluster::WorldSpec cut_off_requests_cluster(double records_per_s, sim::Duration request_timeout) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.client_nic =
      std::get<cluster::NicProfile>(cluster::load_named_profile("nic-1gbe", cluster::bundled_profile_dir()).params);
  spec.duration = 2_s;
  spec.warmup = sim::Duration::zero();
  spec.producers.push_back(test::open_loop_producer(records_per_s, Acks::leader, 5, 500'000));
  spec.producers.back().config.enable_idempotence = false;
  spec.producers.back().config.request_timeout = request_timeout;
  spec.consumers.push_back(test::group_member());
  return spec;
}

// Records appended by the leaders (their log end offsets; no retention, no truncation in these runs).
int64_t records_in_leader_logs(const cluster::World& world) {
  int64_t records = 0;
  for (int32_t p = 0; p < 6; ++p) {
    for (uint32_t b = 0; b < 3; ++b) {
      const kafka::Partition* replica = world.partition(b, {0, p});
      if (replica != nullptr && replica->is_leader()) records += replica->log_end_offset();
    }
  }
  return records;
}

}  // namespace

TEST_CASE("request timeout: a request cut off before its last byte left the client never reaches a log") {
  // Kafka's producer closes the connection when request.timeout.ms expires (NetworkClient disconnects the node);
  // the socket's unsent bytes never leave, and the broker never completes reading the truncated request. Here
  // every request needs 4.25 ms to leave the client's NIC against a 2 ms timeout, so every request is cut off and
  // retried, and none reaches a broker: nothing is appended, acknowledged or consumed, whatever the retries.
  // (Before: 21 records consumed of 10 sent, each appended from requests the producer had abandoned.)
  cluster::World world(cut_off_requests_cluster(5, 2_ms));
  const auto s = world.run();
  REQUIRE(s.records_sent == 10);
  REQUIRE(s.record_retries > 0);
  CHECK(records_in_leader_logs(world) == 0);
  CHECK(s.records_consumed == 0);
  CHECK(s.records_acked == 0);
  // Every request but those still in flight at the end (at most 5 per connection, 3 brokers) was withdrawn.
  CHECK(world.produce_requests_withdrawn() <= s.produce_requests);
  CHECK(world.produce_requests_withdrawn() + 15 >= s.produce_requests);
  CHECK(world.produce_requests_withdrawn() > 0);
}

TEST_CASE("request timeout: requests that left the client before the close are appended, withdrawn ones never") {
  // 400 records/s of 500,000 bytes (200 MB/s) overload the 1 GbE client NIC (117.7 MB/s goodput), so requests queue
  // on the connection: with request.timeout.ms = 6 ms some leave in time and some are cut off. Each request carries
  // one record (one batch: a record over batch.size gets a batch of its own). Every request that was not withdrawn
  // reaches its leader and is appended (acks=1, no idempotence: a retry of a request that did arrive is appended
  // again), except at most 5 per connection still unhandled at the end; no withdrawn one is.
  cluster::World world(cut_off_requests_cluster(400, 6_ms));
  const auto s = world.run();
  REQUIRE(s.record_retries > 0);
  REQUIRE(s.records_acked > 0);
  REQUIRE(world.produce_requests_withdrawn() > 0);
  const auto reached_brokers = static_cast<int64_t>(s.produce_requests - world.produce_requests_withdrawn());
  const int64_t in_logs = records_in_leader_logs(world);
  CHECK(in_logs <= reached_brokers);
  CHECK(in_logs + 15 >= reached_brokers);
  CHECK(static_cast<int64_t>(s.records_acked) <= in_logs);
}

// Coordinated omission avoided: an open-loop producer offered twice what the broker takes blocks in send() once
// buffer.memory is full, and the records it could not send on time are measured from when the schedule intended
// to send them, not from when send() finally took them. With a constant rate R and a broker that acknowledges at
// C = R / 2 in order, the record intended at t is acknowledged at t R / C = 2 t: its latency is t. Over the
// measured records (intended after the 2 s warm-up, acknowledged by the end at 6 s) latencies run from 2 s to
// 6 (1 - C / R) = 3 s. Measured from the actual send they would stay near the time to drain 64 KiB of buffer.
TEST_CASE("produce latency counts from the intended send time: a producer blocked in send() is not excused") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 6_s;
  spec.warmup = 2_s;
  // One connection, one record per request: the broker takes about 14,000 requests a second (a network thread's
  // read and response and an I/O thread's append, one request at a time on a muted connection).
  auto p = test::open_loop_producer(28000, Acks::leader, 0, 100);
  p.config.batch_size_bytes = 0;
  p.config.buffer_memory_bytes = 64 * 1024;
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  const double R = 28000, C = s.throughput_records_per_s;
  MESSAGE("acknowledged " << C << " records/s; latency p50 " << s.produce_latency.p50_ms << " max "
                          << s.produce_latency.max_ms << " ms");
  REQUIRE(C == doctest::Approx(R / 2).scale(0).epsilon(0.05));
  // A record intended at t is acknowledged at t R / C; the measured ones are intended in [2 s, 6 s x C / R].
  const double slope = R / C - 1;
  const double t_last = 6.0 * C / R;
  CHECK(s.produce_latency.max_ms == doctest::Approx(1e3 * t_last * slope).scale(0).epsilon(0.02));
  CHECK(s.produce_latency.p50_ms == doctest::Approx(1e3 * (2.0 + t_last) / 2 * slope).scale(0).epsilon(0.03));
}

// ISR shrink at the world level, and the time series that show it. Followers whose fetcher threads cannot keep
// up (each fetch carries at most replica.fetch.max.bytes = 16 KiB of a partition and costs its fetcher 5 ms, so
// a follower replicates at most ~3.3 MB/s of a partition whose leader takes 6.7 MB/s) fall further behind from the
// first second. replica.lag.time.max.ms = 1000: the leader's check, every 500 ms, removes a follower whose last
// caught-up time is more than 1 s old, so every follower leaves between 1 s and 2 s, and none comes back.
TEST_CASE("followers that cannot keep up leave the ISR after replica.lag.time.max.ms: the time series shows it") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 3, 1);
  spec.duration = 5_s;
  spec.warmup = 1_s;
  spec.broker_config.replica_lag_time_max_ms = 1000;
  spec.fetcher_config.replica_fetch_max_bytes = 16384;
  spec.cpu_costs.replica_fetch_partition_cost = 5_ms;
  spec.producers.push_back(test::open_loop_producer(20000, Acks::leader, 5, 1000));
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  int shrinks = 0;
  for (const auto& e : world.events()) {
    CHECK(e.at("type") != "isr_expand");
    if (e.at("type") != "isr_shrink") continue;
    ++shrinks;
    CHECK(e.at("time_s").get<double>() > 1.0);
    CHECK(e.at("time_s").get<double>() <= 2.0);
    CHECK(e.at("new_isr").size() == 1);  // both followers at once (Partition.maybeShrinkIsr takes every laggard)
  }
  CHECK(shrinks == 3);  // one per partition
  const cluster::TimeSeries& ts = world.timeseries();
  REQUIRE(ts.rows() == 5);
  CHECK(ts.value(0, "under_replicated_partitions") == 0);  // t = 1 s: nobody has lagged 1 s yet
  CHECK(ts.value(0, "isr_size_min") == 3);
  for (size_t row = 2; row < 5; ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "under_replicated_partitions") == 3);
    CHECK(ts.value(row, "isr_size_min") == 1);
  }
}

// A closed loop of N application threads, each sending one record and waiting for its acknowledgement
// (send().get()): every thread always has exactly one record outstanding, so by Little's law the throughput is
// N / the mean produce latency. With acks=all that latency includes the followers' fetch round trip.
TEST_CASE("closed loop with acks=all: throughput = threads / mean produce latency") {
  for (uint32_t threads : {1u, 8u}) {
    CAPTURE(threads);
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
    spec.duration = 4_s;
    spec.warmup = 1_s;
    auto p = test::open_loop_producer(0, Acks::all, 0, 200);
    p.records_per_s = 0;
    p.closed_loop_threads = threads;
    spec.producers.push_back(p);
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.records_failed == 0);
    REQUIRE(s.produce_latency.count > 0);
    CHECK(s.throughput_records_per_s == doctest::Approx(threads / (s.produce_latency.mean_ms * 1e-3)).scale(0).epsilon(0.02));
    // At least eight 50 us host links: the request to the leader, the fetch response that carries the record to a
    // follower (its fetch was waiting in purgatory), the follower's next fetch that tells the leader, the response.
    CHECK(s.produce_latency.p50_ms > 8 * 0.05);
  }
}

TEST_CASE("idempotence: each producer gets its id from InitProducerId before its first ProduceRequest") {
  // Two idempotent producers and one that is not: only the idempotent ones ask, each once, and each gets a distinct
  // id with epoch 0 from a broker that received the request over two 50 us host links (hardware-models.md §4.2)
  // and spent a network thread's and an I/O thread's request cost on it.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 1_s;
  spec.warmup = sim::Duration::from_ns(1);
  auto idempotent = test::open_loop_producer(20'000, Acks::all, 0, 512);
  idempotent.count = 2;
  spec.producers.push_back(idempotent);
  auto plain = test::open_loop_producer(20'000, Acks::leader, 0, 512);
  plain.config.enable_idempotence = false;
  spec.producers.push_back(plain);
  cluster::World world(spec);
  const auto s = world.run();
  std::set<int64_t> ids;
  std::set<int64_t> clients;
  double latest_s = 0;
  for (const auto& e : world.events()) {
    if (e.at("type") != "producer_id") continue;
    CHECK(e.at("epoch") == 0);
    CHECK(ids.insert(e.at("producer_id").get<int64_t>()).second);
    CHECK(clients.insert(e.at("client").get<int64_t>()).second);
    latest_s = std::max(latest_s, e.at("time_s").get<double>());
  }
  CHECK(clients == std::set<int64_t>{0, 1});  // client-2 is not idempotent
  // The request reached a broker after at least two 50 us links and the broker's costs.
  CHECK(latest_s > 2 * 50e-6 + (spec.network_thread_request_cost + spec.cpu_costs.request_fixed_cost).seconds_f());
  CHECK(s.records_failed == 0);
  CHECK(s.records_acked > 0);
}
