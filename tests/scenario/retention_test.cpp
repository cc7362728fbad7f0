// Retention in the world (kafka-behaviour.md §2.5): each broker runs UnifiedLog.deleteOldSegments on every
// replica's log after log.initial.task.delay.ms and then every log.retention.check.interval.ms; the log start
// offset advances to a segment boundary at the times the retention.ms rule predicts, the logs and the page cache
// stop growing, and a consumer that falls behind the log start is reset by auto.offset.reset.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

// The workload, chosen so that batches and segments are known exactly. 1050 records/s of 1000 B, constant
// rate, linger.ms = 10: record k is sent at k/1050 s and batch i holds records 11i .. 11i + 10 (10.5 periods per
// linger, see batch_distribution_test.cpp). A record is varint(1007) 2 + 1007 = 1009 B (attributes 1,
// timestampDelta 1, offsetDelta 1, null key 1, varint(1000) 2 + 1000, no headers 1), a batch 61 + 11 x 1009 =
// 11160 B. segment.bytes = 1 MiB: a segment rolls before the append that would take it past 1048576 B, so it
// holds floor(1048576 / 11160) = 93 batches = 1023 records (93 x 11160 = 1037880 B).
constexpr double kRate = 1050;
constexpr int64_t kRecordsPerBatch = 11;
constexpr int64_t kBatchBytes = 61 + kRecordsPerBatch * 1009;
constexpr int64_t kRecordsPerSegment = (1048576 / kBatchBytes) * kRecordsPerBatch;
static_assert(kRecordsPerSegment == 1023);
constexpr int64_t kRetentionMs = 5000;
constexpr auto kFirstCheck = 1_s;
constexpr auto kCheckInterval = 2_s;

// CreateTime of record k in whole milliseconds (the producer stamps its send time).
int64_t timestamp_ms(int64_t k) { return static_cast<int64_t>(std::floor(static_cast<double>(k) * 1000.0 / kRate)); }

// The leader's log start offset after the retention pass at `now_ms`: segment j (offsets 1023 j .. 1023 j + 1022)
// is deleted when now − its largest timestamp > retention.ms, walking from the oldest (§2.5), so the log starts
// at the first segment whose last record is at most retention.ms old.
int64_t predicted_log_start(int64_t now_ms) {
  int64_t j = 0;
  while (now_ms - timestamp_ms(kRecordsPerSegment * (j + 1) - 1) > kRetentionMs) ++j;
  return j * kRecordsPerSegment;
}

// The first record at most retention.ms old at `now_ms`: every replica keeps the segment holding it.
int64_t first_retained_record(int64_t now_ms) {
  int64_t k = 0;
  while (now_ms - timestamp_ms(k) > kRetentionMs) ++k;
  return k;
}

cluster::WorldSpec retention_world(int64_t retention_ms) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 1, 3, 2);
  spec.duration = 20_s;
  spec.warmup = 1_s;
  spec.retention_initial_delay = kFirstCheck;   // log.initial.task.delay.ms
  spec.retention_check_interval = kCheckInterval;  // log.retention.check.interval.ms
  auto& log = spec.topics[0].config.log;
  log.segment_bytes = 1048576;
  log.retention_ms = retention_ms;
  log.file_delete_delay_ms = 1000;
  spec.producers.push_back(test::open_loop_producer(kRate, Acks::all, 10, 1000));
  return spec;
}

std::vector<nlohmann::json> events_of(const cluster::World& world, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& e : world.events())
    if (e.at("type") == type) out.push_back(e);
  return out;
}

double column_max(const cluster::TimeSeries& ts, const std::string& column) {
  double m = 0;
  for (size_t r = 0; r < ts.rows(); ++r) m = std::max(m, ts.value(r, column));
  return m;
}

}  // namespace

TEST_CASE("retention: the log start offset advances at the retention checks as retention.ms predicts") {
  cluster::World world(retention_world(kRetentionMs));
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);

  // The partition's leader (wherever the placer put it) deletes at each check from 7 s on: 1 s + 2 s k for
  // k = 3 .. 9.
  int leader_id = -1;
  for (uint32_t b = 0; b < 3; ++b)
    if (world.partition(b, {0, 0})->is_leader()) leader_id = static_cast<int>(b);
  REQUIRE(leader_id >= 0);
  const auto deleted = events_of(world, "segments_deleted");
  std::vector<nlohmann::json> leader;
  for (const auto& e : deleted)
    if (e.at("leader").get<bool>()) leader.push_back(e);
  std::vector<int64_t> expected_times_ms;
  for (int64_t t = kFirstCheck.ns() / 1'000'000; t < 20'000; t += kCheckInterval.ns() / 1'000'000)
    if (predicted_log_start(t) > (t == 1000 ? 0 : predicted_log_start(t - 2000))) expected_times_ms.push_back(t);
  REQUIRE(expected_times_ms == std::vector<int64_t>{7000, 9000, 11000, 13000, 15000, 17000, 19000});
  REQUIRE(leader.size() == expected_times_ms.size());
  int64_t previous_start = 0;
  for (size_t i = 0; i < leader.size(); ++i) {
    const int64_t t = expected_times_ms[i];
    const auto& e = leader[i];
    CHECK(e.at("broker").get<int>() == leader_id);
    CHECK(e.at("time_s").get<double>() == doctest::Approx(t / 1000.0).scale(0));
    const int64_t start = predicted_log_start(t);
    CHECK(e.at("log_start_offset").get<int64_t>() == start);
    CHECK(e.at("by_time").get<int>() == (start - previous_start) / kRecordsPerSegment);
    CHECK(e.at("bytes").get<int64_t>() == (start - previous_start) / kRecordsPerBatch * kBatchBytes);
    previous_start = start;
  }
  CHECK(world.partition(static_cast<uint32_t>(leader_id), {0, 0})->log_start_offset() == predicted_log_start(19'000));

  // The followers delete their own segments by the same rule. Their segments are cut where their fetched
  // appends cross 1 MiB, so they need not match the leader's, but each is at most 1 MiB, and the one they keep
  // holds the first record at most retention.ms old: the log start lies within one segment below it.
  int follower_passes = 0;
  for (const auto& e : deleted) {
    if (e.at("leader").get<bool>()) continue;
    ++follower_passes;
    const auto t = std::llround(e.at("time_s").get<double>() * 1000);
    const int64_t start = e.at("log_start_offset").get<int64_t>();
    CHECK(start <= first_retained_record(t));
    CHECK(start > first_retained_record(t) - kRecordsPerSegment);
  }
  CHECK(follower_passes >= 2 * 6);  // both followers delete at (nearly) every check from 7 s

  // The durability check finds every acknowledged record (all of them, none failed) in the leader's log, except
  // those retention deleted: the offsets below the log start the rule above predicts. Deleted, not lost.
  CHECK(s.acked_records_checked == s.records_acked);
  CHECK(s.acked_records_deleted == static_cast<uint64_t>(predicted_log_start(19'000)));
  CHECK(s.acked_records_lost == 0);
}

TEST_CASE("retention: the logs and the page cache stop growing; without retention they do not") {
  cluster::World with(retention_world(kRetentionMs));
  with.run();
  cluster::World without(retention_world(-1));
  without.run();

  // At any time t after the check at t_k <= t (t - t_k < 2 s), the leader's log starts within one segment below
  // the first record at most retention.ms old at t_k, so it holds at most 1050 x (2 s + 5 s) + 1023 records, plus
  // one batch being appended: 8385 records of 11160/11 B = 8.11 MiB.
  const double record_bytes = static_cast<double>(kBatchBytes) / kRecordsPerBatch;
  const double log_max_mib = (kRate * 7 + kRecordsPerSegment + kRecordsPerBatch) * record_bytes / 1048576;
  CHECK(column_max(with.timeseries(), "broker0_log_mib") <= log_max_mib);
  // The page cache also holds the segments deleted at the last check until file.delete.delay.ms (1 s) unlinks
  // them, at most 2 s of records plus a segment, and every segment file costs up to one 64 KiB extent more than
  // its bytes (the partial tail extent; an .index and a .timeindex file of a few KiB take one extent each): at
  // most 8385 + 2100 + 1023 records in 13 segments.
  const double cache_max_mib = ((kRate * 7 + kRecordsPerSegment + kRecordsPerBatch + kRate * 2 + kRecordsPerSegment) *
                                    record_bytes +
                                13 * 3 * 65536.0) /
                               1048576;
  CHECK(column_max(with.timeseries(), "broker0_page_cache_mib") <= cache_max_mib);
  // Without retention both grow with the 20 s of data (1050 x 20 x 1014.5 B = 20.3 MiB).
  const auto& ts = without.timeseries();
  CHECK(ts.value(ts.rows() - 1, "broker0_log_mib") > log_max_mib + 10);
  CHECK(ts.value(ts.rows() - 1, "broker0_page_cache_mib") > cache_max_mib + 5);
  // The row at 1 s is the warm-up (1 s): it still shows the produce latency of the records acked in it, which
  // for acks=all with RF = 3 is at least one follower fetch round trip, so above zero.
  CHECK(with.timeseries().value(0, "produce_p50_ms") > 0);
  CHECK(with.timeseries().value(0, "produce_p99_ms") >= with.timeseries().value(0, "produce_p50_ms"));
  // Retention is all that differs: the runs are identical until the first deletion at 7 s.
  CHECK(with.timeseries().value(5, "broker0_log_mib") == ts.value(5, "broker0_log_mib"));
}

// Two new groups start at 12 s, after the check at 11 s deleted the log's first segments. Neither has a committed
// offset (OffsetFetch finds none), so each resets by auto.offset.reset before its first fetch: ListOffsets answers
// the log start (earliest) or the high watermark (latest, the default). No fetch is ever out of range.
TEST_CASE("retention: a new group starting after deletions resets to the log start or the high watermark") {
  auto spec = retention_world(kRetentionMs);
  cluster::ConsumerSpec earliest;
  earliest.group = "earliest";
  earliest.start_at = 12_s;
  earliest.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  cluster::ConsumerSpec latest = earliest;
  latest.group = "latest";
  latest.config.auto_offset_reset = kafka::AutoOffsetReset::latest;
  spec.consumers = {earliest, latest};
  cluster::World world(spec);
  const auto s = world.run();

  CHECK(events_of(world, "consumer_offset_out_of_range").empty());
  const auto resets = events_of(world, "consumer_offset_reset");
  REQUIRE(resets.size() == 2);
  // The reset is ListOffsets' answer, the third round trip of the consumer's start after FindCoordinator and
  // OffsetFetch: each request and response crosses the client's and the broker's links, and the broker spends a
  // network thread's read, an I/O thread's handling and a network thread's response on it (kafka-behaviour.md §5.7).
  const double round_trip_s =
      2 * (spec.client_nic.link.latency + spec.broker_hardware.nic.link.latency).seconds_f() +
      (2 * spec.network_thread_request_cost + spec.cpu_costs.request_fixed_cost).seconds_f();
  for (const auto& reset : resets) {
    CHECK(reset.at("time_s").get<double>() >= 12.0 + 3 * round_trip_s);
    CHECK(reset.at("time_s").get<double>() < 12.01);
  }
  // Clients: client-0 is the producer, client-1 the earliest consumer, client-2 the latest one.
  for (const auto& e : resets) {
    const int64_t offset = e.at("offset").get<int64_t>();
    if (e.at("client").get<int>() == 1) {
      CHECK(offset == predicted_log_start(11'000));  // 6138: the log start since the check at 11 s
    } else {
      CHECK(e.at("client").get<int>() == 2);
      // The HW a few ms after 12 s: the 12600 records sent by then, less those in batches still lingering
      // (up to 10 ms) or replicating.
      CHECK(offset <= 12'600 + kRecordsPerBatch);
      CHECK(offset >= 12'600 - 3 * kRecordsPerBatch);
    }
  }
  // The earliest group reads everything from the log start on, the latest one from the HW on.
  const int64_t acked = static_cast<int64_t>(s.records_acked);
  const int64_t consumed = static_cast<int64_t>(s.records_consumed);
  const int64_t expected = (acked - predicted_log_start(11'000)) + (acked - 12'600);
  CHECK(consumed <= expected + 3 * kRecordsPerBatch);
  CHECK(consumed >= expected - 2 * static_cast<int64_t>(kRate));  // at most a second behind at the end

  // The send times kept for end-to-end latency are bounded by what the groups have yet to poll, not by what
  // retention deleted unread: the latest group never reads the ~12600 records before its reset and neither
  // group reads the 6138 deleted before 12 s (together over 1100 batches of 11 records). At the end both groups
  // are within a second of the head, and the batches deleted since a group last polled wait at most one check
  // interval (2 s): at most 2 s of batches (1050 x 2 / 11 = 191) remain.
  CHECK(world.batches_awaiting_consumers() <= static_cast<std::size_t>(2 * kRate / kRecordsPerBatch));
  // The durability check: the records below each group's reset offset were not theirs to read (the earliest group
  // starts at the log start, the latest at the HW), so neither group skipped any.
  CHECK(s.consumer_skipped == 0);
}

// A group that reads slower than the producer writes falls behind the log start: its consumer processes a record in
// 2 ms (500 a second against the producer's 1050), so by about 10 s its position is older than retention.ms keeps.
// Its next fetch below the log start gets OFFSET_OUT_OF_RANGE, and ListOffsets resets it by auto.offset.reset: to
// the log start (earliest) or to the high watermark (latest).
TEST_CASE("retention: a consumer behind the log start gets OFFSET_OUT_OF_RANGE and resets by auto.offset.reset") {
  for (const auto policy : {kafka::AutoOffsetReset::earliest, kafka::AutoOffsetReset::latest}) {
    const bool to_earliest = policy == kafka::AutoOffsetReset::earliest;
    CAPTURE(to_earliest);
    auto spec = retention_world(kRetentionMs);
    cluster::ConsumerSpec slow;
    slow.group = "slow";
    slow.config.auto_offset_reset = policy;
    slow.processing_time_per_record = 2_ms;
    spec.consumers = {slow};
    cluster::World world(spec);
    const auto s = world.run();
    // Retention deleted records the group had not read, and a reset moved it past them: deleted, not skipped.
    CHECK(s.acked_records_deleted > 0);
    CHECK(s.acked_records_lost == 0);
    CHECK(s.consumer_skipped == 0);
    const auto out_of_range = events_of(world, "consumer_offset_out_of_range");
    const auto resets = events_of(world, "consumer_offset_reset");
    REQUIRE(!out_of_range.empty());
    MESSAGE(out_of_range.size() << " out-of-range fetches, the first at " << out_of_range[0].at("time_s").get<double>()
                                << " s, offset " << out_of_range[0].at("offset").get<int64_t>());
    // The first reset is the new group's at the start, to offset 0 either way (nothing is acknowledged yet); each
    // later one answers an out-of-range fetch.
    REQUIRE(resets.size() == out_of_range.size() + 1);
    CHECK(resets[0].at("offset").get<int64_t>() == 0);
    const double round_trip_s =
        2 * (spec.client_nic.link.latency + spec.broker_hardware.nic.link.latency).seconds_f() +
        (2 * spec.network_thread_request_cost + spec.cpu_costs.request_fixed_cost).seconds_f();
    int64_t skipped = 0;  // what the resets jumped over: to the log start (earliest) or to the HW (latest)
    for (size_t i = 0; i < out_of_range.size(); ++i) {
      CAPTURE(i);
      const auto& oor = out_of_range[i];
      const auto& reset = resets[i + 1];
      skipped += reset.at("offset").get<int64_t>() - oor.at("offset").get<int64_t>();
      const double t = oor.at("time_s").get<double>();
      // The log start then is the one the last retention check (at 1 s, 3 s, 5 s, ...) left; the fetch was below it.
      const auto last_check_ms = static_cast<int64_t>(1000 + 2000 * std::floor((t - 1.0) / 2.0));
      CHECK(oor.at("offset").get<int64_t>() < predicted_log_start(last_check_ms));
      CHECK(t >= 9.0);  // the position is not older than retention.ms before about 10 s
      CHECK(reset.at("time_s").get<double>() - t >= round_trip_s);
      const int64_t offset = reset.at("offset").get<int64_t>();
      if (to_earliest) {
        CHECK(offset == predicted_log_start(last_check_ms));
      } else {
        // The HW at the reset: the records sent by then, less those lingering (10 ms) or replicating.
        const auto sent = static_cast<int64_t>(reset.at("time_s").get<double>() * kRate);
        CHECK(offset <= sent + 1);
        CHECK(offset >= sent - 3 * kRecordsPerBatch);
      }
    }
    // The summary counts those resets and the records they skipped (the first reset, a new group's, is not one).
    REQUIRE(s.group_lag.size() == 1);
    CHECK(s.group_lag[0].out_of_range_resets == out_of_range.size());
    CHECK(s.group_lag[0].records_skipped_by_resets == skipped);
    CHECK(skipped > 0);  // earliest skips what retention deleted unread; latest also what was still in the log
  }
}

// A consumer whose position retention keeps deleting (retention.ms = 0 deletes every fully replicated segment,
// the active one included, at each 10 ms check) is reset to "latest" again and again: ListOffsets puts its
// position at the leader's current HW, while the HW it knows is that of its last successful fetch, older. The
// lag sampled into the timeseries is the lag of an offset no higher than the HW (the position came from a HW,
// and the HW never decreases), so never negative; it used to be HW(last fetch) - position, down to -50848.
TEST_CASE("retention: the sampled consumer lag stays non-negative when resets to latest outrun the known HW") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 2_s;
  spec.warmup = 0_s;
  spec.retention_initial_delay = 0_s;
  spec.retention_check_interval = 10_ms;
  spec.topics[0].config.log.segment_bytes = 1048576;
  spec.topics[0].config.log.retention_ms = 0;
  spec.producers.push_back(test::open_loop_producer(50'000, Acks::all, 5, 512));
  cluster::ConsumerSpec consumer = test::group_member();
  consumer.config.fetch_min_bytes = 1 << 20;  // waits (up to 500 ms) while retention deletes its position
  spec.consumers = {consumer};
  cluster::World world(spec);
  world.run();
  REQUIRE(events_of(world, "consumer_offset_reset").size() > 10);
  const auto& ts = world.timeseries();
  REQUIRE(ts.rows() == 2);
  for (size_t r = 0; r < ts.rows(); ++r) {
    CAPTURE(r);
    CHECK(ts.value(r, "consumer_lag_records") >= 0);
  }
}

TEST_CASE("retention: retention.ms set by an operation deletes from the first check after it") {
  // kafka-configs --alter --add-config retention.ms=5000 at 8 s, on a topic that kept everything: the checks at 1, 3,
  // 5 and 7 s delete nothing; from the check at 9 s the rule reads only the segments' timestamps and the time of the
  // check, so the leader's log start is then what the topic configured so from the start has (the test above).
  auto spec = retention_world(-1);
  cluster::ConfigAlterSpec op;
  op.at = 8_s;
  op.entity_type = cluster::ConfigEntityType::topics;
  op.entity_name = "events";
  op.topic = 0;
  op.topic_config = spec.topics[0].config;
  op.topic_config.log.retention_ms = kRetentionMs;
  spec.config_alters.push_back(op);
  cluster::World world(spec);
  world.run();
  std::vector<int64_t> times_ms, starts;
  for (const auto& e : events_of(world, "segments_deleted")) {
    if (!e.at("leader").get<bool>()) continue;
    times_ms.push_back(std::llround(e.at("time_s").get<double>() * 1000));
    starts.push_back(e.at("log_start_offset").get<int64_t>());
  }
  REQUIRE(times_ms == std::vector<int64_t>{9000, 11000, 13000, 15000, 17000, 19000});
  for (size_t i = 0; i < times_ms.size(); ++i) CHECK(starts[i] == predicted_log_start(times_ms[i]));
  // The first check after the change deletes what had piled up since 1 s: several segments at once.
  CHECK(predicted_log_start(9000) >= 3 * kRecordsPerSegment);
}

TEST_CASE("retention: records stamped older than retention.ms (a backfill) are deleted at the next check") {
  // workload.timestamp_offset = -6 s with retention.ms = 5 s: every record is more than retention.ms old by its
  // timestamp the moment it is sent, so each check (1, 3, ..., 19 s) deletes every segment the high watermark covers,
  // the active one too when the HW is at the log end (UnifiedLog.deletableSegments, §2.5; a segment is judged by its
  // largest timestamp, not by when it was written). At the last check, 19 s, the HW is within the records in flight
  // of everything sent before (19 s x 1050/s = 19,950, less at most a batch of 11 in flight and the ~10 ms linger), so
  // the leader's log starts at most one segment (1,023 records, the active one if the HW was short of the log end)
  // and that little below it. With the timestamps left alone the same run deletes only what the retention.ms rule
  // predicts (the test above); with message.timestamp.type=LogAppendTime the leader stamps the append time instead,
  // and the backfill is kept as long as fresh records are.
  const auto run = [](sim::Duration offset, bool log_append_time) {
    auto spec = retention_world(kRetentionMs);
    spec.producers[0].timestamp_offset = offset;
    spec.topics[0].config.log.log_append_time = log_append_time;
    return cluster::World(spec).run();
  };
  const auto backfill = run(-6_s, false);
  REQUIRE(backfill.records_failed == 0);
  CHECK(backfill.acked_records_lost == 0);
  const uint64_t sent_before_last_check = 19 * 1050;
  CHECK(backfill.acked_records_deleted <= sent_before_last_check);
  CHECK(backfill.acked_records_deleted + kRecordsPerSegment + 2 * kRecordsPerBatch >= sent_before_last_check);
  const auto fresh = run(0_s, false);
  CHECK(fresh.acked_records_deleted == static_cast<uint64_t>(predicted_log_start(19'000)));
  CHECK(backfill.acked_records_deleted > fresh.acked_records_deleted + 4 * kRecordsPerSegment);
  const auto stamped_by_leader = run(-6_s, true);
  CHECK(stamped_by_leader.acked_records_deleted == fresh.acked_records_deleted);
}

TEST_CASE("retention: a backfill written beside live records into one topic is kept as long as they are") {
  // The same backfill (timestamps 6 s old, retention.ms 5 s) and a live producer at the same rate into the one
  // partition: every segment holds records of both, and a segment is judged by its largest timestamp, a live
  // record's, so it goes only when its live records are over 5 s old, as in a topic without the backfill. At the last
  // check (19 s) the segments wholly before 14 s are deleted and the one holding 14 s is kept: the log starts within a
  // segment (1 MiB, about 0.5 s of the two producers' 2,100 records/s) below the records sent before 14 s, 29,400.
  auto spec = retention_world(kRetentionMs);
  spec.producers.push_back(spec.producers[0]);
  spec.producers[1].timestamp_offset = -6_s;
  const auto s = cluster::World(spec).run();
  REQUIRE(s.records_failed == 0);
  const uint64_t sent_before_14s = 14 * 2 * 1050;
  CHECK(s.acked_records_deleted <= sent_before_14s);
  CHECK(s.acked_records_deleted + 1'100 >= sent_before_14s);
  CHECK(s.acked_records_lost == 0);
}

TEST_CASE("a client clock over an hour ahead: Kafka 4's message.timestamp.after.max.ms rejects every record") {
  // log.message.timestamp.after.max.ms defaults to 1 h from Kafka 4.0 (KIP-1030; Long.MAX before): a producer whose
  // records carry timestamps 2 h ahead of the leader's clock fails every batch with INVALID_TIMESTAMP (§2.3 step 2,
  // not retried, §7); 59 minutes ahead passes. The bound set back to Long.MAX (3.x) takes the 2 h too.
  const auto run = [](sim::Duration offset, int64_t after_max_ms) {
    auto spec = retention_world(-1);
    spec.duration = 4_s;
    spec.producers[0].timestamp_offset = offset;
    spec.topics[0].config.log.timestamp_after_max_ms = after_max_ms;
    return cluster::World(spec).run();
  };
  const auto ahead = run(2 * 3'600_s, 3'600'000);
  CHECK(ahead.records_acked == 0);
  CHECK(ahead.records_failed + 2 * kRecordsPerBatch >= ahead.records_sent);  // the last linger's still in flight
  CHECK(ahead.records_failed_by_cause.broker_errors ==
        std::map<std::string, uint64_t>{{"INVALID_TIMESTAMP", ahead.records_failed}});
  const auto within = run(59 * 60_s, 3'600'000);
  CHECK(within.records_failed == 0);
  CHECK(within.records_acked + 2 * kRecordsPerBatch >= within.records_sent);
  const auto unbounded = run(2 * 3'600_s, std::numeric_limits<int64_t>::max());
  CHECK(unbounded.records_failed == 0);
  CHECK(unbounded.records_acked == within.records_acked);
}

TEST_CASE("storage: the disks hold the logs, their indexes and the deleted segments until they are unlinked") {
  // What df would count on a broker's log-dir disk: every file up to its furthest write. That is the logs' bytes
  // (Kafka's Log Size) plus each segment's index entries (8 B per offset-index entry, 12 B per time-index entry, one
  // of each per 4 KiB of batches at most), the checkpoint files (a few hundred bytes), and the segments retention
  // deleted until file.delete.delay.ms (1 s) unlinks them: at most the segments one check deletes, i.e. those
  // holding 2 s of records (one check interval) and one more segment.
  cluster::World with(retention_world(kRetentionMs));
  const auto s = with.run();
  cluster::World without(retention_world(-1));
  const auto s_without = without.run();
  const double record_bytes = static_cast<double>(kBatchBytes) / kRecordsPerBatch;
  for (const auto* run : {&s, &s_without}) {
    REQUIRE(run->disks.size() == 3);
    for (const auto& d : run->disks) {
      CAPTURE(d.name);
      CHECK(d.used_bytes_max >= d.used_bytes);
      CHECK(d.capacity_bytes > 0);
    }
  }
  for (uint32_t b = 0; b < 3; ++b) {
    CAPTURE(b);
    const kafka::Partition* p = with.partition(b, {0, 0});
    REQUIRE(p != nullptr);
    const double log_bytes = static_cast<double>(p->log().size_bytes());
    const double used = static_cast<double>(s.disks[b].used_bytes);
    CHECK(used >= log_bytes);
    const double index_bytes = log_bytes / 4096 * 20;
    const double deleted_bytes = (kRate * 2 + kRecordsPerSegment) * record_bytes;
    CHECK(used <= log_bytes + index_bytes + deleted_bytes + 65536);
    // Without retention the disk holds every record of the run (1050 a second for 20 s) and little else.
    const kafka::Partition* q = without.partition(b, {0, 0});
    const double all_bytes = static_cast<double>(q->log().size_bytes());
    CHECK(all_bytes >= kRate * 19.9 * record_bytes);
    CHECK(static_cast<double>(s_without.disks[b].used_bytes) >= all_bytes);
    CHECK(static_cast<double>(s_without.disks[b].used_bytes) <= all_bytes + all_bytes / 4096 * 20 + 65536);
  }
  // Sample by sample, df never counts less than the logs hold.
  const auto& ts = with.timeseries();
  for (size_t r = 0; r < ts.rows(); ++r) {
    CAPTURE(r);
    CHECK(ts.value(r, "broker0_disk_used_mib") >= ts.value(r, "broker0_log_mib"));
  }
}
