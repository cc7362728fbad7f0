// The consumer application's poll loop: a per-record processing time paces a consumer that is behind, and the
// offsets it commits depend on how it commits (enable.auto.commit, commitAsync or commitSync after each poll).
// Expectations come from max.poll.records, the processing time and the NIC profile's latency, written out here.
#include <doctest/doctest.h>

#include <optional>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

constexpr double kProducedPerS = 20000;
constexpr int64_t kPerRecordUs = 100;  // the application's time per record: at most 10,000 records/s
constexpr int32_t kMaxPollRecords = 20;  // small, so that a commit's round trip is a visible share of a poll

struct LoopRun {
  double consumed_per_s = 0;
  cluster::LatencySummary time_between_poll;
  double poll_idle_ratio = 0;
  int64_t position = 0;                // of the consumer's one partition at the end of the run
  std::optional<int64_t> committed;    // the group's committed offset then, if it ever committed
};

// One broker and partition; a producer writes 20,000 records/s from the start and one consumer starts after 1 s,
// already 20,000 records behind. It processes each record in 100 us, half the producer's pace, so it never
// catches up: every poll returns max.poll.records (20) records, one poll every 2 ms.
LoopRun run_loop(cluster::CommitAfterPoll commit, bool auto_commit) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 8_s;
  spec.warmup = 3_s;
  spec.producers.push_back(test::open_loop_producer(kProducedPerS, Acks::leader, 5, 100));
  cluster::ConsumerSpec c = test::group_member();
  c.topic = 0;
  c.start_at = 1_s;
  // A new group: with earliest it starts at the log start (offset 0), not at the head.
  c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  c.processing_time_per_record = sim::Duration::from_us(kPerRecordUs);
  c.config.max_poll_records = kMaxPollRecords;
  c.config.enable_auto_commit = auto_commit;
  c.commit = commit;
  spec.consumers.push_back(c);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  const auto consumers = world.consumers();
  REQUIRE(consumers.size() == 1);
  const kafka::PartitionRef p{0, 0};
  const std::optional<int64_t> position = consumers[0].consumer->position(p);
  REQUIRE(position.has_value());
  return {s.consumed_records_per_s, s.time_between_poll, s.poll_idle_ratio, *position,
          consumers[0].consumer->committed(p)};
}

}  // namespace

TEST_CASE("consumer: the processing time per record paces a consumer that is behind") {
  const LoopRun r = run_loop(cluster::CommitAfterPoll::kNone, true);
  CHECK(r.consumed_per_s == doctest::Approx(1e6 / kPerRecordUs).scale(0).epsilon(0.01));
  // KafkaConsumerMetrics: poll() returns max.poll.records at once and the application works 20 x 100 us on them
  // before the next call (time-between-poll); the time in poll() is nil against that (poll-idle-ratio near 0).
  CHECK(r.time_between_poll.p50_ms == doctest::Approx(kMaxPollRecords * kPerRecordUs / 1e3).scale(0).epsilon(0.01));
  CHECK(r.poll_idle_ratio < 0.02);
  // Auto-commit every auto.commit.interval.ms (5 s): the committed offset trails the position by at most the
  // records consumed in one interval.
  REQUIRE(r.committed.has_value());
  CHECK(*r.committed <= r.position);
  CHECK(r.position - *r.committed <= 5 * 1'000'000 / kPerRecordUs);
}

TEST_CASE("consumer: with enable.auto.commit=false and no commit in the loop, nothing is ever committed") {
  const LoopRun r = run_loop(cluster::CommitAfterPoll::kNone, false);
  CHECK(r.consumed_per_s == doctest::Approx(1e6 / kPerRecordUs).scale(0).epsilon(0.01));
  // The group never commits: it has no committed offset (OffsetFetch found none at the start, and none since).
  CHECK_FALSE(r.committed.has_value());
  CHECK(r.position > 40'000);
}

TEST_CASE("consumer: commitAsync after each poll keeps the pace; the coordinator answers one commit per linger") {
  const LoopRun r = run_loop(cluster::CommitAfterPoll::kAsync, false);
  // The commit does not block the loop.
  CHECK(r.consumed_per_s == doctest::Approx(1e6 / kPerRecordUs).scale(0).epsilon(0.01));
  // But the coordinator's connection stays muted until each commit is answered, when its records are appended
  // group.coordinator.append.linger.ms (10 ms) after it arrived: the coordinator answers one commit per 10 ms and a
  // little more, while the loop commits every 2 ms (20 records). So the committed offset covers 20 records per
  // 10 ms of the 7 s the consumer ran, not the 70,000 it consumed: 14,000 at most, and at least what one commit per
  // 11 ms would give.
  const double consuming_s = 7.0;
  const auto kLinger = 10e-3;
  REQUIRE(r.committed.has_value());
  CHECK(*r.committed <= kMaxPollRecords * consuming_s / kLinger);
  CHECK(*r.committed >= kMaxPollRecords * consuming_s / (kLinger + 1e-3));
  CHECK(r.position > 60'000);
}

TEST_CASE("consumer: commitSync after each poll adds the commit's round trip to every poll") {
  const LoopRun r = run_loop(cluster::CommitAfterPoll::kSync, false);
  REQUIRE(r.committed.has_value());
  CHECK(r.position - *r.committed <= kMaxPollRecords);
  // Each poll now takes 20 records' processing plus an OffsetCommit round trip to the coordinator: four host links
  // (client -> switch -> broker and back) at the NIC profile's one-way latency, the request's costs at the broker,
  // and group.coordinator.append.linger.ms (10 ms), the wait of its records before the coordinator appends them
  // (one broker: the write is committed as soon as it is appended). Less than a millisecond more on idle 10 GbE.
  const double poll_s = kMaxPollRecords / r.consumed_per_s;
  const double processing_s = kMaxPollRecords * kPerRecordUs * 1e-6;
  const auto nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile("nic-10gbe", cluster::bundled_profile_dir()).params);
  const double round_trip_s = poll_s - processing_s;
  MESSAGE("consumed " << r.consumed_per_s << "/s, round trip " << round_trip_s * 1e6 << " us");
  CHECK(round_trip_s >= 10e-3 + 4 * nic.link.latency.seconds_f() * 0.99);
  CHECK(round_trip_s < 10e-3 + 1e-3);
}

namespace {

// One partition written at 5,000 records/s of 100 B (acks=1) from time 0 for 5 s, each record stamped
// `timestamp_offset` off its send time; a new group starts at 3 s with `reset` (and `duration` for by_duration), with
// no processing time, so it keeps up once started. Returns the records it consumed.
double consumed_by_new_group(kafka::AutoOffsetReset reset, sim::Duration duration,
                             sim::Duration timestamp_offset = sim::Duration::zero()) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 5_s;
  spec.warmup = 1_s;
  spec.producers.push_back(test::open_loop_producer(5'000, Acks::leader, 5, 100));
  spec.producers[0].timestamp_offset = timestamp_offset;
  cluster::ConsumerSpec c = test::group_member();
  c.topic = 0;
  c.start_at = 3_s;
  c.config.auto_offset_reset = reset;
  c.config.auto_offset_reset_duration = duration;
  spec.consumers.push_back(c);
  const auto s = cluster::World(spec).run();
  REQUIRE(s.records_failed == 0);
  return static_cast<double>(s.records_consumed);
}

}  // namespace

TEST_CASE("auto.offset.reset: a new group started at 3 s reads from the start, from 2 s (by_duration:PT1S) or the head") {
  // It reads every record produced after its starting point: earliest 5 s of them, by_duration:PT1S those since
  // 3 s - 1 s (KIP-1106: the first batch whose timestamp reaches it; a batch holds about 25 records here), latest
  // those since it started. Records produced in the run's last milliseconds may still be on their way (a few batches
  // at most).
  using kafka::AutoOffsetReset;
  CHECK(consumed_by_new_group(AutoOffsetReset::earliest, 1_s) == doctest::Approx(5 * 5'000).scale(0).epsilon(0.005));
  CHECK(consumed_by_new_group(AutoOffsetReset::by_duration, 1_s) ==
        doctest::Approx(3 * 5'000).scale(0).epsilon(0.008));
  CHECK(consumed_by_new_group(AutoOffsetReset::latest, 1_s) == doctest::Approx(2 * 5'000).scale(0).epsilon(0.012));
}

TEST_CASE("auto.offset.reset=by_duration on a backfill: records stamped 8 days back are found by 9 days, not by 7") {
  // The records stamped 8 days before their send time (workload.timestamp_offset). by_duration:P9D asks for now - 9
  // days: every record is more recent, so the group starts at the log start and reads all 5 s of them (as earliest
  // does above). With by_duration:P7D no record is that recent: each ListOffsets answers UNKNOWN_OFFSET and the
  // consumer asks again request.timeout.ms (30 s) later, so it reads nothing in the run (KIP-1106's
  // OffsetFetcherUtils; the timestamp is epoch ms on the wire, so targets before the run's start are ordinary ones).
  const sim::Duration day = 86'400_s;
  CHECK(consumed_by_new_group(kafka::AutoOffsetReset::by_duration, 9 * day, -8 * day) ==
        doctest::Approx(5 * 5'000).scale(0).epsilon(0.005));
  CHECK(consumed_by_new_group(kafka::AutoOffsetReset::by_duration, 7 * day, -8 * day) == 0);
}

TEST_CASE("check.crcs: the consumer checks every fetched batch's CRC32C in poll, at the CPU profile's CRC speed") {
  // CRC32C slowed to 0.5 MB/s (server speed: the desktop figure times desktop_to_server_scale). Two producers write
  // 3,000 records/s each to one partition (about 113 B a record in batches of ~15); the broker's CRC of each
  // producer's requests keeps one I/O thread about 68 % busy. One consumer, started 1 s late from the log start
  // with no processing time, stays behind with check.crcs (Kafka's default): it can check at most
  // 0.5 MB/s / (batch bytes per record) records a second, under the 6,000 produced. Without the checks it keeps up.
  const cluster::CpuCosts base = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1).cpu_costs;
  const double crc_rate = 0.5e6;
  auto run = [&](bool check_crcs) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = 6_s;
    spec.warmup = 2_s;
    spec.cpu_costs.crc32c_bytes_per_s = crc_rate / base.desktop_to_server_scale;
    auto p = test::open_loop_producer(3'000, Acks::leader, 5, 100);
    p.count = 2;
    spec.producers.push_back(p);
    cluster::ConsumerSpec c = test::group_member();
    c.topic = 0;
    c.start_at = 1_s;
    c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    c.config.check_crcs = check_crcs;
    // 64 KiB a fetch (about 0.13 s of checks each), so that the 4 s window holds many whole responses.
    c.config.max_partition_fetch_bytes = 65'536;
    spec.consumers.push_back(c);
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.records_failed == 0);
    REQUIRE(s.throughput_records_per_s == doctest::Approx(6'000).scale(0).epsilon(0.01));
    return s;
  };
  const auto checked = run(true);
  // One partition: one batch per request, so these are the mean batch's bytes and records.
  const double bytes_per_record = checked.batch_size_bytes_mean / checked.records_per_request;
  CHECK(checked.consumed_records_per_s == doctest::Approx(crc_rate / bytes_per_record).scale(0).epsilon(0.03));
  CHECK(checked.consumed_records_per_s < 0.8 * 6'000);
  const auto unchecked = run(false);
  CHECK(unchecked.consumed_records_per_s > 0.95 * 6'000);
}

TEST_CASE("consumer: at the head, polls follow the producer's requests and poll-idle-ratio is Kafka's 0.5") {
  // One producer at 5,000 records/s with linger.ms = 5 sends a request every 5 ms (its batches never fill); the
  // consumer at the head, with no processing time, waits in poll() for each one. KafkaConsumerMetrics measures the
  // time since the last poll from one poll's start to the next (recordPollStart), so a consumer that only waits
  // gets poll time / (poll time + time since the last poll) = 5 / (5 + 5): 0.5, not 1.
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 6_s;
  spec.warmup = 2_s;
  spec.producers.push_back(test::open_loop_producer(5'000, Acks::leader, 5, 100));
  cluster::ConsumerSpec c = test::group_member();
  c.topic = 0;
  spec.consumers.push_back(c);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  REQUIRE(s.consumed_records_per_s == doctest::Approx(5'000).scale(0).epsilon(0.01));
  CHECK(s.time_between_poll.p50_ms == doctest::Approx(5).scale(0).epsilon(0.01));
  CHECK(s.poll_idle_ratio == doctest::Approx(0.5).scale(0).epsilon(0.01));
}
