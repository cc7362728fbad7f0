// Hardware faults from the scenario (WorldSpec::faults): a broker's JVM pause, a stalled or slow disk, a slow CPU,
// degraded links. Expectations come from the fault's length and Kafka's rules written out here: acks=all waits for
// every ISR member (kafka-behaviour.md §2.2), the leader drops a follower from the ISR once it has not caught up for
// replica.lag.time.max.ms, checked every half of it (§3.4), the page cache takes writes without the disk until the
// dirty limits (hardware-models.md §3.3), and a link's added latency is crossed once each way.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

using test::fault;

// Three NVMe brokers on 10 GbE, one topic of 6 partitions (RF 3, min.insync.replicas 2) and one producer at 5,000
// records/s with acks=all; no consumers (so no __consumer_offsets either).
cluster::WorldSpec three_brokers() {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 14_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(5'000, Acks::all, 5, 100));
  return spec;
}

// One broker and partition, one producer at 2,000 records/s of 100 B with acks=1, 6 s (2 s warm-up), with `f`
// from the start to the end if given.
cluster::WorldSummary one_broker_light(std::optional<cluster::FaultSpec> f) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 6_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 5, 100));
  if (f) spec.faults.push_back(*f);
  return cluster::World(spec).run();
}

std::vector<double> event_times(const cluster::World& world, const char* type) {
  std::vector<double> t;
  for (const auto& e : world.events())
    if (e.at("type") == type) t.push_back(e.at("time_s").get<double>());
  return t;
}

// 25 s of one partition (RF 3) written at 1,000 records/s of 100 B (acks=all, linger 5 ms), the warm-up 5 s, read by
// `consumer`, whose process dies at 17 s and whose successor starts at 19 s.
cluster::WorldSummary run_consumer_restarted_at_17s(cluster::ConsumerSpec consumer) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 1, 3, 2);
  spec.duration = 25_s;
  spec.warmup = 5_s;
  spec.producers.push_back(test::open_loop_producer(1'000, Acks::all, 5, 100));
  consumer.topic = 0;
  spec.consumers.push_back(consumer);
  spec.faults.push_back(fault(cluster::FaultKind::consumer_restart, 4, 17_s, 2_s));  // brokers 0-2, producer 3
  return cluster::World(spec).run();
}

}  // namespace

TEST_CASE("a broker's 3 s pause holds acks=all produces for 3 s: the paused follower stays in the ISR") {
  // Broker 1 hosts a replica of every partition. Paused, it neither leads nor fetches, and 3 s is far below
  // replica.lag.time.max.ms (30 s), so no leader drops it: every partition's HW waits for it and the records sent in
  // the pause are acknowledged once it runs again, the first of them about 3 s after it was sent.
  auto spec = three_brokers();
  spec.faults.push_back(fault(cluster::FaultKind::pause, 1, 6_s, 3_s));
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.produce_latency.max_ms > 3'000);
  CHECK(s.produce_latency.max_ms < 3'020);
  CHECK(s.isr_shrinks == 0);
  CHECK(event_times(world, "fault_start") == std::vector<double>{6.0});
  CHECK(event_times(world, "fault_end") == std::vector<double>{9.0});
  // Without the pause nothing waits that long.
  auto healthy = three_brokers();
  const auto h = cluster::World(healthy).run();
  CHECK(h.produce_latency.max_ms < 20);
}

TEST_CASE("a pause longer than replica.lag.time.max.ms: the leaders drop the paused follower, then take it back") {
  // replica.lag.time.max.ms = 1 s, so the isr-expiration task runs every 500 ms; a 5 s pause of broker 1 from 6 s.
  // Broker 1 follows 4 of the 6 partitions (it leads the other 2, and a paused leader changes nothing). Each of the
  // 4 leaders last saw it caught up by its last fetch before 6 s, a few ms earlier, so it is out of sync for the
  // check at 7.0 s (more than 1 s since), or at 7.5 s had it fetched at 6.0 s exactly: 4 shrinks at 7.0 or 7.5 s.
  // Produces to the other leaders then complete with 2 in-sync replicas (min.insync.replicas 2). When the pause ends
  // at 11 s the follower fetches what it missed and rejoins each ISR: 4 expands soon after 11 s.
  auto spec = three_brokers();
  spec.broker_config.replica_lag_time_max_ms = 1'000;
  spec.faults.push_back(fault(cluster::FaultKind::pause, 1, 6_s, 5_s));
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.isr_shrinks == 4);
  CHECK(s.isr_expands == 4);
  for (const double t : event_times(world, "isr_shrink")) CHECK((t == 7.0 || t == 7.5));
  for (const double t : event_times(world, "isr_expand")) {
    CHECK(t > 11.0);
    CHECK(t < 11.1);
  }
  // So each of the 4 partitions is under-replicated from 7.0 or 7.5 s to just after 11 s: 3.5 to 4.1 s each.
  CHECK(s.under_replicated.partition_seconds >= 4 * 3.5);
  CHECK(s.under_replicated.partition_seconds <= 4 * 4.1);
  CHECK(s.under_replicated.longest_s >= 3.5);
  CHECK(s.under_replicated.longest_s <= 4.1);
  REQUIRE(s.under_replicated.longest_end_s.has_value());
  CHECK(*s.under_replicated.longest_end_s > 11.0);
  CHECK(s.under_replicated.at_end == 0);
  // min.insync.replicas 2 of 3: dropping broker 1 leaves every partition at its minimum, never below it.
  CHECK(s.under_min_isr.partition_seconds == 0.0);
  CHECK(s.under_min_isr.longest_partition.empty());
  // Records for broker 1's own partitions wait for the pause's end; when the first of them was sent is the sticky
  // partitioner's choice (it switches partition with each new batch), but none waits more than the pause, and they
  // wait longer than records whose leader only had to drop broker 1 (about 1 s).
  CHECK(s.produce_latency.max_ms > 2'000);
  CHECK(s.produce_latency.max_ms < 5'020);
}

TEST_CASE("under min ISR: the same stretches as under-replicated when min.insync.replicas is the replica count") {
  // As the test above, with min.insync.replicas 3 and acks=1 (so that nothing fails): every ISR without broker 1 is
  // below its minimum exactly while it is below its replica count.
  auto spec = three_brokers();
  spec.broker_config.replica_lag_time_max_ms = 1'000;
  spec.topics[0].config.min_insync_replicas = 3;
  spec.producers[0].config.acks = Acks::leader;
  spec.faults.push_back(fault(cluster::FaultKind::pause, 1, 6_s, 5_s));
  const auto s = cluster::World(spec).run();
  CHECK(s.isr_shrinks == 4);
  CHECK(s.under_min_isr.partition_seconds >= 4 * 3.5);
  CHECK(s.under_min_isr.partition_seconds == s.under_replicated.partition_seconds);
  CHECK(s.under_min_isr.longest_partition == s.under_replicated.longest_partition);
  CHECK(s.under_min_isr.at_end == 0);
  // A topic whose min.insync.replicas exceeds its replication factor is below it for the whole run: 6 partitions x
  // 14 s, all six at the end, the longest (the first partition of equals) open.
  auto low = three_brokers();
  low.topics[0].replication_factor = 1;
  low.topics[0].config.min_insync_replicas = 2;
  low.producers[0].config.acks = Acks::leader;
  const auto l = cluster::World(low).run();
  CHECK(l.under_min_isr.partition_seconds == doctest::Approx(6 * 14.0).scale(0).epsilon(1e-9));
  CHECK(l.under_min_isr.at_end == 6);
  CHECK(l.under_min_isr.longest_partition == low.topics[0].name + "-0");
  CHECK_FALSE(l.under_min_isr.longest_end_s.has_value());
  CHECK(l.under_replicated.partition_seconds == 0.0);  // one replica, always in sync
}

TEST_CASE("a leader paused 3 s with message.timestamp.before.max.ms=1000: the records older than 1 s fail") {
  // One broker and partition, a producer at 2,000 records/s with acks=1 (so no idempotence: nothing but the
  // timestamps decides), the leader paused from 2 s to 5 s. The records sent in the pause (and the few sent just
  // before it, not yet answered) wait for its end, and the leader's LogValidator then takes only those at most 1 s
  // old (§2.3 step 2, KIP-937): the records sent from about 4 s on. Those sent from 2 s to 4 s, 2 s of records =
  // 4,000 at least, fail with INVALID_TIMESTAMP, which the producer does not retry (§7). A few more fail: the ones
  // sent just before 2 s, and those sent just after 4 s that wait behind the backlog, which the leader works through
  // one request at a time (channel muting, §2.1): ~46 requests of ~130 records, well under 50 ms, so at most 100
  // more. An acknowledged record is at most 1 s old at its append (1 ms more for the whole-ms clocks) and is answered
  // within a ms; the oldest waited at least 1 s less the backlog's 50 ms. Without the bound the first records of the
  // pause wait the whole 3 s and none fails.
  const auto run = [](int64_t before_max_ms) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = 8_s;
    spec.warmup = 1_s;
    spec.topics[0].config.log.timestamp_before_max_ms = before_max_ms;
    spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 5, 100));
    spec.faults.push_back(fault(cluster::FaultKind::pause, 0, 2_s, 3_s));
    return cluster::World(spec).run();
  };
  const auto bounded = run(1'000);
  CHECK(bounded.records_failed >= 4'000);
  CHECK(bounded.records_failed <= 4'000 + 100);
  CHECK(bounded.records_failed_by_cause.broker_errors ==
        std::map<std::string, uint64_t>{{"INVALID_TIMESTAMP", bounded.records_failed}});
  CHECK(bounded.record_retries == 0);
  CHECK(bounded.produce_latency.max_ms > 1'000 - 50);
  CHECK(bounded.produce_latency.max_ms < 1'000 + 2);
  CHECK(bounded.records_acked + bounded.records_failed + 20 >= bounded.records_sent);  // the last ms still in flight
  const auto unbounded = run(std::numeric_limits<int64_t>::max());  // Kafka's default
  CHECK(unbounded.records_failed == 0);
  CHECK(unbounded.produce_latency.max_ms > 3'000 - 20);
  CHECK(unbounded.produce_latency.max_ms < 3'000 + 20);
}

TEST_CASE("a stalled disk: the page cache hides it, unless every append is fsynced (flush.messages=1)") {
  // Broker 0's disk does nothing for 2 s from 6 s. Without flushes an append is a page-cache write, and at 0.5 MB/s of
  // records the dirty pages stay far below the dirty limits, so nobody waits for the disk. With flush.messages = 1
  // every append (leader and followers) waits for its fsync, and the fsyncs of broker 0's replicas complete only
  // when the stall ends: a record sent as the stall starts waits about 2 s.
  for (const bool fsync_each : {false, true}) {
    CAPTURE(fsync_each);
    auto spec = three_brokers();
    if (fsync_each) spec.topics[0].config.log.flush_messages = 1;
    spec.faults.push_back(fault(cluster::FaultKind::stalled_disk, 0, 6_s, 2_s));
    const auto s = cluster::World(spec).run();
    REQUIRE(s.records_failed == 0);
    if (fsync_each) {
      CHECK(s.produce_latency.max_ms > 1'990);
      CHECK(s.produce_latency.max_ms < 2'030);
    } else {
      CHECK(s.produce_latency.max_ms < 20);
    }
  }
}

TEST_CASE("a slow disk: every isolated I/O takes m times as long, and an fsynced append's wait grows with it") {
  // One broker, one partition, acks=1, flush.messages = 1: every append waits for its segment flush (the fsync
  // writes the batch's dirty pages back, then flushes the device). At 2,000 records/s one request leaves every 5 ms
  // and its flush takes tens of microseconds, so no I/O waits for another. slow_disk with latency x m and bandwidth
  // x 1/m multiplies both parts of every I/O's service time (the file comment of models/disk.hpp: L * m_lat +
  // bytes / (B * m_bw)), so each flush takes m times as long, and each produce waits (m - 1) times the nominal
  // flush longer.
  const double m = 8;
  const auto run = [&](bool slow) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = 6_s;
    spec.warmup = 2_s;
    spec.topics[0].config.log.flush_messages = 1;
    spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 5, 100));
    if (slow) {
      cluster::FaultSpec f = fault(cluster::FaultKind::slow_disk, 0, 0_s);
      f.latency_multiplier = m;
      f.bandwidth_multiplier = 1 / m;
      spec.faults.push_back(f);
    }
    return cluster::World(spec).run();
  };
  const auto nominal = run(false);
  const auto slow = run(true);
  // One flush a request (linger.ms 5: 200 a second) over the 4 s after the warm-up, which the summary's flushes cover.
  REQUIRE(static_cast<double>(nominal.log_flush_time.count) == doctest::Approx(200 * 4).scale(0).epsilon(0.01));
  REQUIRE(slow.log_flush_time.count == nominal.log_flush_time.count);
  // The nominal flush (LogSegment.flush: the log, then the offset and time indexes, one fsync after the other): the
  // batch's write (about 1.3 KB at 20 us + bytes / 3.5 GB/s), an index's write of 20 us when an entry was added
  // since the last flush (one every index.interval.bytes = 4096 of log), and free device flushes (PLP).
  CHECK(nominal.log_flush_time.mean_ms > 0.020);
  CHECK(nominal.log_flush_time.mean_ms < 0.061);
  CHECK(slow.log_flush_time.mean_ms == doctest::Approx(m * nominal.log_flush_time.mean_ms).scale(0).epsilon(0.01));
  CHECK(slow.produce_latency.mean_ms - nominal.produce_latency.mean_ms ==
        doctest::Approx((m - 1) * nominal.log_flush_time.mean_ms).scale(0).epsilon(0.05));
  CHECK(slow.records_failed == 0);
}

TEST_CASE("a slow CPU: a broker at half speed takes twice the I/O-thread time per produce request") {
  // One broker, acks=1, from the start to the end: the Produce requests' local time (the I/O thread's work,
  // request_fixed_cost plus the batch's CRC) doubles at speed 0.5; with so little load no task waits for a core.
  cluster::FaultSpec f = fault(cluster::FaultKind::slow_cpu, 0, 0_s);
  f.speed = 0.5;
  const auto nominal = one_broker_light(std::nullopt);
  const auto slow = one_broker_light(f);
  const auto& produce = [](const cluster::WorldSummary& s) {
    return s.requests[static_cast<size_t>(cluster::RequestKind::produce)];
  };
  REQUIRE(produce(nominal).count > 0);
  CHECK(produce(slow).local.mean_ms == doctest::Approx(2 * produce(nominal).local.mean_ms).scale(0).epsilon(0.01));
}

TEST_CASE("a slow network: 5 ms added on a broker's links adds 10 ms to each request's round trip") {
  // One broker, acks=1, a light load: a ProduceRequest crosses the broker's link once each way (request and
  // response), so request-latency grows by twice the added latency; with 30 % of the bandwidth the requests, a few
  // KB each, still take microseconds to serialise.
  cluster::FaultSpec f = fault(cluster::FaultKind::slow_network, 0, 0_s);
  f.extra_latency = 5_ms;
  f.bandwidth_multiplier = 0.3;
  const auto healthy = one_broker_light(std::nullopt);
  const auto slow = one_broker_light(f);
  CHECK(slow.request_latency.p50_ms - healthy.request_latency.p50_ms == doctest::Approx(10).scale(0).epsilon(0.01));
  CHECK(slow.produce_latency.p50_ms - healthy.produce_latency.p50_ms == doctest::Approx(10).scale(0).epsilon(0.02));
}

TEST_CASE("drop_caches: a reader behind the head then reads what the broker held from the disk, not the cache") {
  // One broker with 64 GiB of RAM keeps all of a 2,000 records/s stream cached: a consumer that starts at 6 s from
  // the log start reads it without a device read. drop_caches evicts the clean pages only, so the flusher writes
  // pages back once they are 0.5 s old, waking every 0.5 s (dirty_expire_centisecs and dirty_writeback_centisecs
  // 50): dropped at 5.5 s, the pages written in the last 0.5 to 1 s are still dirty and stay, the rest is gone, and
  // the reader reads it from the disk: between 4.5 / 5.5 and 5 / 5.5 of what had been written by 5.5 s (measured
  // by a run that stops there), less the index and checkpoint files it does not read, a small part.
  auto spec_of = [](bool drop, sim::Duration duration) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = duration;
    spec.warmup = 1_s;
    // Write-back within 1 s, so that the pages are clean (and droppable) well before the drop.
    spec.broker_hardware.page_cache.dirty_expire_centisecs = 50;
    spec.broker_hardware.page_cache.dirty_writeback_centisecs = 50;
    spec.producers.push_back(test::open_loop_producer(2'000, Acks::leader, 5, 1000));
    cluster::ConsumerSpec c = test::group_member();
    c.topic = 0;
    c.start_at = 6_s;
    c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    spec.consumers.push_back(c);
    if (drop) {
      spec.faults.push_back(fault(cluster::FaultKind::drop_caches, 0, 5'500_ms));  // an instant
    }
    return spec;
  };
  cluster::World until_drop(spec_of(false, 5'500_ms));
  until_drop.run();
  const uint64_t written = until_drop.broker_hardware(0).page_cache().stats().written_bytes;
  REQUIRE(written > 5'000'000);  // about 11 MB of records and indexes

  cluster::World kept(spec_of(false, 10_s));
  kept.run();
  CHECK(kept.broker_hardware(0).page_cache().stats().device_read_bytes == 0);
  cluster::World dropped(spec_of(true, 10_s));
  const auto s = dropped.run();
  REQUIRE(s.records_failed == 0);
  const uint64_t read = dropped.broker_hardware(0).page_cache().stats().device_read_bytes;
  CHECK(static_cast<double>(read) > 0.97 * static_cast<double>(written) * 4.5 / 5.5);
  CHECK(static_cast<double>(read) < static_cast<double>(written) * 5.0 / 5.5);
}

TEST_CASE("memory_pressure: the page cache shrinks to RAM less the heap, other memory and what is taken, then recovers") {
  // 64 GiB of RAM, a 6 GiB heap, 1 GiB of other memory: a 57 GiB page cache, of which 56.9 GiB are taken from 3 s to
  // 6 s. The cache's budget is then 100 MiB and what it holds stays within it (clean pages are reclaimed); after the
  // fault the budget is back.
  auto spec_of = [](sim::Duration duration) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = duration;
    spec.warmup = 1_s;
    spec.producers.push_back(test::open_loop_producer(20'000, Acks::leader, 5, 1000));
    cluster::FaultSpec f = fault(cluster::FaultKind::memory_pressure, 0, 3_s, 3_s);
    f.bytes = (57ull << 30) - (100ull << 20);
    spec.faults.push_back(f);
    return spec;
  };
  const uint64_t budget = 57ull << 30;
  cluster::World during(spec_of(5_s));
  during.run();
  CHECK(during.broker_hardware(0).page_cache().cache_bytes() == 100ull << 20);
  CHECK(during.broker_hardware(0).page_cache().stats().cached_bytes <= 100ull << 20);
  cluster::World after(spec_of(8_s));
  after.run();
  CHECK(after.broker_hardware(0).page_cache().cache_bytes() == budget);
  // 8 s at 20 MB/s: more than the 100 MiB the cache held during the fault, all of it cached again by the end.
  CHECK(after.broker_hardware(0).page_cache().stats().cached_bytes > 100ull << 20);
}

TEST_CASE("a follower that stops keeping up leaves the ISR 30 to 45 s later (published-benchmarks.md §D)") {
  // replica.lag.time.max.ms = 30 s, checked every 15 s from the broker's start (§3.4). One partition led by broker 1
  // and followed by brokers 0 and 2; the producer uses acks=1, so it does not wait for the followers and the leader's
  // log grows at 2.6 MB/s. From t0 broker 2's links carry 1/10,000 of 10 GbE (125 kB/s): its fetches never reach the
  // leader's end again, so it was last caught up at about t0 and leaves the ISR at the first check more than 30 s
  // later: at 45 s for t0 = 10 s (35 s later), at 60 s for t0 = 16 s (44 s later). Broker 0 stays.
  for (const auto& [t0, shrink_at] : {std::pair{10_s, 45.0}, std::pair{16_s, 60.0}}) {
    CAPTURE(shrink_at);
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 1, 3, 2);
    spec.duration = 65_s;
    spec.warmup = 5_s;
    spec.producers.push_back(test::open_loop_producer(5'000, Acks::leader, 5, 512));
    cluster::FaultSpec f = fault(cluster::FaultKind::slow_network, 2, t0);
    f.bandwidth_multiplier = 1e-4;
    spec.faults.push_back(f);
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.records_failed == 0);
    REQUIRE(world.leader_partition({0, 0}) != nullptr);
    REQUIRE(world.leader_partition({0, 0})->replicas() == std::vector<kafka::NodeId>{1, 2, 0});
    CHECK(event_times(world, "isr_shrink") == std::vector<double>{shrink_at});
    CHECK(world.leader_partition({0, 0})->isr().size() == 2);
    CHECK(s.throughput_records_per_s == doctest::Approx(5'000).scale(0).epsilon(0.01));
  }
}

TEST_CASE("consumer_restart: the new process resumes from the committed offset; what came after it is given again") {
  // One partition, a producer at 1,000 records/s, one consumer (its group's only member) that dies at 17 s and
  // whose successor starts at 19 s. With enable.auto.commit (every 5 s from its start at 0 s: commits at 5, 10 and
  // 15 s) the group's committed offset at 17 s is where it was at 15 s, so the successor is given the 2 s between
  // again: about 2,000 duplicates. Committing synchronously after every poll, the committed offset trails the
  // records given only by the poll being processed: a handful. Records sent while no process runs reach it 2 s
  // late at most; none is lost.
  auto run = [](cluster::CommitAfterPoll commit) {
    cluster::ConsumerSpec c;
    c.group = "g";
    c.commit = commit;
    c.config.enable_auto_commit = commit == cluster::CommitAfterPoll::kNone;
    return run_consumer_restarted_at_17s(c);
  };
  const auto auto_commit = run(cluster::CommitAfterPoll::kNone);
  REQUIRE(auto_commit.records_failed == 0);
  CHECK(static_cast<double>(auto_commit.duplicates) == doctest::Approx(2'000).scale(0).epsilon(0.02));
  // Every acknowledged record after the warm-up reaches the group once, the 2 s of downtime included.
  CHECK(auto_commit.consumed_records_per_s == doctest::Approx(auto_commit.throughput_records_per_s).scale(0).epsilon(0.001));
  CHECK(auto_commit.end_to_end_latency.max_ms > 1'900);
  CHECK(auto_commit.end_to_end_latency.max_ms < 2'100);
  // The group's lag while no process runs, and while the successor looks up its offsets, counts from the committed
  // offset (15 s): the sample at 19 s, when the successor starts, finds 1,000 x (19 - 15) records; then it catches up.
  REQUIRE(auto_commit.group_lag.size() == 1);
  CHECK(static_cast<double>(auto_commit.group_lag[0].lag_max) == doctest::Approx(4'000).scale(0).epsilon(0.01));
  CHECK(auto_commit.group_lag[0].lag_end < 10);
  const auto sync_commit = run(cluster::CommitAfterPoll::kSync);
  REQUIRE(sync_commit.records_failed == 0);
  CHECK(sync_commit.duplicates < 20);
}

TEST_CASE("consumer_restart without a group.id: the new process starts where auto.offset.reset says") {
  // A consumer without a group.id has no committed offsets to return to: its successor resets every partition by
  // auto.offset.reset. One partition, 1,000 records/s, the consumer dies at 17 s and its successor starts at 19 s.
  // earliest: the successor reads the log from the start again, so the ~17,000 records the first process had been
  // given are given again. latest: it starts at the head, so the ~2,000 records of the downtime are never given,
  // and nothing twice.
  auto run = [](kafka::AutoOffsetReset reset) {
    cluster::ConsumerSpec c;  // no group
    c.config.enable_auto_commit = false;
    c.config.auto_offset_reset = reset;
    return run_consumer_restarted_at_17s(c);
  };
  const auto earliest = run(kafka::AutoOffsetReset::earliest);
  REQUIRE(earliest.records_failed == 0);
  CHECK(static_cast<double>(earliest.duplicates) == doctest::Approx(17'000).scale(0).epsilon(0.01));
  CHECK(earliest.consumer_skipped == 0);
  const auto latest = run(kafka::AutoOffsetReset::latest);
  REQUIRE(latest.records_failed == 0);
  CHECK(latest.duplicates == 0);
  CHECK(latest.consumer_skipped == 0);  // moved past by a reset: not a fault of the simulator's log
  // 20 s after the warm-up at 1,000 a second, less the 2 s of downtime.
  CHECK(latest.consumed_records_per_s * 20 == doctest::Approx(18'000).scale(0).epsilon(0.01));
  CHECK(latest.end_to_end_latency.max_ms < 100);
}

TEST_CASE("consumer_restart with processing_time and config: the new process runs the deployed change") {
  // One partition, 2,000 records/s, one consumer that processes a record in 1 ms (1,000 a second) and commits
  // asynchronously after every poll: its lag grows 1,000 a second, to 10,000 at 10 s. Restarted at 10 s with 0.25 ms
  // a record (4,000 a second), the successor resumes from the last committed offset (at most one poll of 500 records
  // behind, plus what arrives while it looks up its coordinator and offsets) and drains 2,000 a second: caught up by
  // about 15 s. With max.poll.records 100 deployed too, a full poll is 100 x 0.25 = 25 ms of work, against
  // 500 x 0.25 = 125 ms with the entry's default.
  auto run = [](std::optional<int32_t> max_poll_records) {
    auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 1, 3, 2);
    spec.duration = 20_s;
    spec.warmup = 11_s;  // the percentiles: the new process's polls, from a second after the restart
    spec.producers.push_back(test::open_loop_producer(2'000, Acks::all, 5, 100));
    cluster::ConsumerSpec c;
    c.group = "g";
    c.topic = 0;
    c.commit = cluster::CommitAfterPoll::kAsync;
    c.config.enable_auto_commit = false;
    c.processing_time_per_record = 1_ms;
    spec.consumers.push_back(c);
    cluster::FaultSpec f = fault(cluster::FaultKind::consumer_restart, 4, 10_s, std::nullopt);
    f.processing_time = sim::Duration::from_us(250);
    if (max_poll_records) {
      kafka::ConsumerConfig deployed = c.config;
      deployed.max_poll_records = *max_poll_records;
      f.consumer_config = deployed;
    }
    spec.faults.push_back(f);
    return cluster::World(spec).run();
  };
  const auto faster = run(std::nullopt);
  REQUIRE(faster.group_lag.size() == 1);
  CHECK(faster.group_lag[0].lag_max >= 9'900);
  CHECK(faster.group_lag[0].lag_max <= 10'000 + 500 + 200);
  CHECK(faster.group_lag[0].lag_end < 100);
  CHECK(faster.time_between_poll.max_ms == doctest::Approx(125).scale(0).epsilon(0.1));
  const auto smaller_polls = run(100);
  CHECK(smaller_polls.group_lag[0].lag_end < 100);
  CHECK(smaller_polls.time_between_poll.max_ms == doctest::Approx(25).scale(0).epsilon(0.2));
}
