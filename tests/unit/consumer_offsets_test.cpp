// KafkaConsumer offsets: auto-commit timing, manual commit, lag, and position reset by auto.offset.reset
// (reference/kafka-behaviour.md §5.2, §5.7; ConsumerCoordinator.maybeAutoCommitOffsetsAsync, OffsetFetcher,
// FetchCollector.handleInitializeErrors, SubscriptionState.partitionLag). Timelines are worked out by hand from
// auto.commit.interval.ms = 5000, retry.backoff.ms = 100 and request.timeout.ms = 30000 (§5.2 defaults).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "consumer_test_support.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;
using test::leaders;

constexpr PartitionRef p0{0, 0};
constexpr PartitionRef p1{0, 1};

RecordBatch batch(int64_t base_offset, int32_t record_count) {
  return test::batch_of(base_offset, record_count, 100 + record_count, 2);
}

FetchPartitionResponse data(PartitionRef partition, int64_t high_watermark, std::vector<RecordBatch> batches,
                            int64_t last_stable_offset = -1) {
  FetchPartitionResponse d;
  d.partition = partition;
  d.high_watermark = high_watermark;
  d.last_stable_offset = last_stable_offset >= 0 ? last_stable_offset : high_watermark;
  d.log_start_offset = 0;
  for (const RecordBatch& b : batches) d.slice.bytes += b.size_bytes;
  d.batches = std::move(batches);
  return d;
}

FetchPartitionResponse error_data(PartitionRef partition, Errc error) {
  FetchPartitionResponse d;
  d.partition = partition;
  d.error = error;
  return d;
}

FetchResponse response_to(const OutgoingFetch& fetch, std::vector<FetchPartitionResponse> partitions) {
  return FetchResponse{fetch.request.correlation_id, std::move(partitions)};
}

OffsetCommitResponse commit_ok(const OutgoingOffsetCommit& commit) {
  OffsetCommitResponse r{commit.request.correlation_id, {}};
  for (const OffsetCommitPartition& p : commit.request.partitions) r.partitions.push_back({p.partition, Errc::none});
  return r;
}

}  // namespace

TEST_CASE("auto-commit fires every auto.commit.interval.ms while blocked in poll, and at the next poll otherwise") {
  ConsumerConfig config;  // enable.auto.commit = true, auto.commit.interval.ms = 5000
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.set_coordinator(9);
  consumer.assign(at(0_ms), {{p0, 0}}, out);
  consumer.poll(at(0_ms), out);
  OutgoingFetch fetch = out.fetches.at(0);
  out.clear();
  // The timer started at construction (t = 0): first deadline 5 s, before the fetch's 30 s request timeout.
  CHECK(consumer.next_wakeup() == at(5_s));

  // 10 records arrive at 10 ms and are returned; the application processes them and polls again at 20 ms.
  consumer.on_fetch_response(at(10_ms), 1, response_to(fetch, {data(p0, 10, {batch(0, 10)})}), out);
  REQUIRE(out.polled.size() == 1);
  fetch = out.fetches.at(0);  // pipelined
  out.clear();
  CHECK(consumer.poll(at(20_ms), out) == 0);
  CHECK(consumer.next_wakeup() == at(5_s));

  consumer.on_wakeup(at(5_s) - 1_ns, out);  // early: nothing
  CHECK(out.commits.empty());
  consumer.on_wakeup(at(5_s), out);
  REQUIRE(out.commits.size() == 1);
  CHECK(out.commits[0].destination == 9);
  CHECK(out.commits[0].auto_commit);
  REQUIRE(out.commits[0].request.partitions.size() == 1);
  CHECK(out.commits[0].request.partitions[0].committed_offset == 10);  // the position: last returned + 1
  CHECK(out.commits[0].request.partitions[0].committed_leader_epoch == 2);
  CHECK(consumer.next_auto_commit() == at(10_s));
  consumer.on_offset_commit_response(at(5_s + 2_ms), commit_ok(out.commits[0]), out);
  CHECK(consumer.committed(p0) == 10);
  out.clear();

  consumer.on_wakeup(at(10_s), out);
  REQUIRE(out.commits.size() == 1);
  consumer.on_offset_commit_response(at(10_s + 2_ms), commit_ok(out.commits[0]), out);
  out.clear();

  // 10 more records at 12 s; the application is processing when the 15 s deadline passes.
  consumer.on_fetch_response(at(12_s), 1, response_to(fetch, {data(p0, 20, {batch(10, 10)})}), out);
  REQUIRE(out.polled.size() == 1);
  out.clear();
  CHECK(consumer.next_wakeup() != at(15_s));  // no auto-commit outside poll
  CHECK(consumer.next_wakeup() == at(42_s));  // only the pipelined fetch's request timeout (12 s + 30 s)
  // The next poll at 15.3 s commits at once and the timer restarts from there: 20.3 s.
  consumer.poll(at(15'300_ms), out);
  REQUIRE(out.commits.size() == 1);
  CHECK(out.commits[0].request.partitions[0].committed_offset == 20);
  CHECK(consumer.next_auto_commit() == at(20'300_ms));
  consumer.on_offset_commit_response(at(15'302_ms), commit_ok(out.commits[0]), out);
  CHECK(consumer.next_wakeup() == at(20'300_ms));
}

TEST_CASE("a retriable auto-commit failure retries after retry.backoff.ms") {
  ConsumerOutbox out;
  KafkaConsumer consumer(ConsumerConfig{}, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 7}}, out);
  consumer.poll(at(0_ms), out);
  out.clear();
  consumer.on_wakeup(at(5_s), out);
  REQUIRE(out.commits.size() == 1);
  CHECK(out.commits[0].request.partitions[0].committed_offset == 7);  // committed offset = position
  OffsetCommitResponse failed{out.commits[0].request.correlation_id, {{p0, Errc::coordinator_not_available}}};
  out.clear();
  consumer.on_offset_commit_response(at(5_s + 10_ms), failed, out);
  CHECK(consumer.committed(p0) == 7);  // from assign, unchanged
  // updateAndReset(retryBackoffMs): 5.010 s + 100 ms.
  CHECK(consumer.next_auto_commit() == at(5_s + 110_ms));
  consumer.on_wakeup(at(5_s + 110_ms), out);
  CHECK(out.commits.size() == 1);
}

TEST_CASE("manual commit sends every consumed position; nothing is sent without one") {
  ConsumerConfig config;
  config.enable_auto_commit = false;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}, {1, 0}}), at(0_ms));
  consumer.commit(at(0_ms), out);
  CHECK(out.commits.empty());  // no assignment, no position: sendOffsetCommitRequest short-circuits

  consumer.assign(at(0_ms), {{p0, 3}, {p1, 8}}, out);
  consumer.commit(at(1_ms), out);
  REQUIRE(out.commits.size() == 1);
  CHECK_FALSE(out.commits[0].auto_commit);
  CHECK(out.commits[0].destination == -1);  // no coordinator known
  REQUIRE(out.commits[0].request.partitions.size() == 2);
  CHECK(out.commits[0].request.partitions[0].committed_offset == 3);
  CHECK(out.commits[0].request.partitions[1].committed_offset == 8);
  // With auto-commit disabled nothing wakes the consumer but the commit's request timeout.
  CHECK(consumer.next_wakeup() == at(30_s + 1_ms));
}

TEST_CASE("lag is HW minus position, with the HW of the last response poll consumed") {
  ConsumerConfig config;
  config.enable_auto_commit = false;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}}, out);
  CHECK_FALSE(consumer.lag(p0).has_value());  // no HW known yet
  consumer.poll(at(0_ms), out);
  OutgoingFetch fetch = out.fetches.at(0);
  out.clear();

  // HW 1000; 500 records returned (one batch of 500 = max.poll.records): lag 1000 - 500 = 500.
  consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {data(p0, 1000, {batch(0, 500)})}), out);
  CHECK(consumer.position(p0) == 500);
  CHECK(consumer.lag(p0) == 500);
  fetch = out.fetches.at(0);
  out.clear();

  // The next response (HW 1200, 400 records) is buffered while the application processes: lag is unchanged
  // until poll consumes it; then 1200 - 900 = 300.
  consumer.on_fetch_response(at(2_ms), 1, response_to(fetch, {data(p0, 1200, {batch(500, 400)})}), out);
  CHECK(consumer.lag(p0) == 500);
  consumer.poll(at(3_ms), out);
  CHECK(consumer.position(p0) == 900);
  CHECK(consumer.high_watermark(p0) == 1200);
  CHECK(consumer.lag(p0) == 300);
}

TEST_CASE("read_committed lag uses the last stable offset") {
  ConsumerConfig config;
  config.enable_auto_commit = false;
  config.isolation_level = IsolationLevel::read_committed;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 0}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch fetch = out.fetches.at(0);
  out.clear();
  // HW 1000, LSO 800, 500 records consumed: 800 - 500 = 300.
  consumer.on_fetch_response(at(1_ms), 1, response_to(fetch, {data(p0, 1000, {batch(0, 500)}, 800)}), out);
  CHECK(consumer.lag(p0) == 300);
}

TEST_CASE("OFFSET_OUT_OF_RANGE resets the position by auto.offset.reset") {
  ConsumerConfig config;
  config.enable_auto_commit = false;
  int64_t expected_timestamp = 0;
  int64_t reset_offset = 0;
  SUBCASE("earliest") {
    config.auto_offset_reset = AutoOffsetReset::earliest;
    expected_timestamp = -2;  // ListOffsetsRequest.EARLIEST_TIMESTAMP → log start offset
    reset_offset = 40;
  }
  SUBCASE("latest") {
    config.auto_offset_reset = AutoOffsetReset::latest;
    expected_timestamp = -1;  // ListOffsetsRequest.LATEST_TIMESTAMP → HW
    reset_offset = 1000;
  }
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 5}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 100}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch fetch = out.fetches.at(0);
  out.clear();

  consumer.on_fetch_response(at(2_ms), 1, response_to(fetch, {error_data(p0, Errc::offset_out_of_range)}), out);
  CHECK_FALSE(consumer.position(p0).has_value());
  CHECK(out.fetches.empty());
  REQUIRE(out.list_offsets.size() == 1);
  const OutgoingListOffsets& list = out.list_offsets[0];
  CHECK(list.destination == 1);
  REQUIRE(list.request.partitions.size() == 1);
  CHECK(list.request.partitions[0].partition == p0);
  CHECK(list.request.partitions[0].timestamp == expected_timestamp);
  CHECK(list.request.partitions[0].current_leader_epoch == 5);
  ListOffsetsResponse answer{list.request.correlation_id, {{p0, Errc::none, reset_offset, 5}}};
  out.clear();

  consumer.on_list_offsets_response(at(4_ms), answer, out);
  CHECK(consumer.position(p0) == reset_offset);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].kind == ConsumerEventKind::offset_reset);
  CHECK(out.events[0].offset == reset_offset);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == reset_offset);
}

TEST_CASE("auto.offset.reset = none surfaces the error and stops fetching the partition") {
  ConsumerConfig config;
  config.enable_auto_commit = false;
  config.auto_offset_reset = AutoOffsetReset::none;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, 100}}, out);
  consumer.poll(at(0_ms), out);
  const OutgoingFetch fetch = out.fetches.at(0);
  out.clear();
  consumer.on_fetch_response(at(2_ms), 1, response_to(fetch, {error_data(p0, Errc::offset_out_of_range)}), out);
  CHECK(out.list_offsets.empty());
  CHECK(out.fetches.empty());
  bool surfaced = false;
  for (const ConsumerEvent& e : out.events) surfaced = surfaced || e.kind == ConsumerEventKind::no_offset_for_partition;
  CHECK(surfaced);
  CHECK(consumer.next_wakeup() == sim::SimTime::max());
}

TEST_CASE("without a committed offset the position starts at the latest offset; a failed lookup is retried") {
  ConsumerConfig config;  // auto.offset.reset = latest
  config.enable_auto_commit = false;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, std::nullopt}}, out);
  consumer.poll(at(0_ms), out);
  CHECK(out.fetches.empty());
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].request.partitions[0].timestamp == -1);
  ListOffsetsResponse failed{out.list_offsets[0].request.correlation_id, {{p0, Errc::not_leader_or_follower, -1, -1}}};
  out.clear();

  consumer.on_list_offsets_response(at(3_ms), failed, out);
  CHECK(out.metadata_update_requested);
  CHECK(out.list_offsets.empty());
  CHECK(consumer.next_wakeup() == at(103_ms));  // retry.backoff.ms = 100
  out.clear();
  consumer.on_wakeup(at(103_ms), out);
  REQUIRE(out.list_offsets.size() == 1);
  ListOffsetsResponse ok{out.list_offsets[0].request.correlation_id, {{p0, Errc::none, 77, 0}}};
  out.clear();
  consumer.on_list_offsets_response(at(105_ms), ok, out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 77);
}

TEST_CASE("auto.offset.reset = by_duration asks for now - duration; no record that recent waits request.timeout.ms") {
  // KIP-1106: AutoOffsetResetStrategy.timestamp() is now - duration, recomputed on every attempt. A ListOffsets
  // answer without an offset (UNKNOWN_OFFSET) is neither a position nor a retriable error: the partition waits
  // for the retry time set when the request was sent (request.timeout.ms = 30 s later) and asks again.
  ConsumerConfig config;
  config.enable_auto_commit = false;
  config.auto_offset_reset = AutoOffsetReset::by_duration;
  config.auto_offset_reset_duration = 1500_ms;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}}), at(0_ms));
  consumer.assign(at(4'000'250_us), {{p0, std::nullopt}}, out);
  consumer.poll(at(4'000'250_us), out);
  REQUIRE(out.list_offsets.size() == 1);
  // 4000.25 - 1500 ms in whole ms, on the wire in epoch ms
  CHECK(out.list_offsets[0].request.partitions[0].timestamp == simulated_epoch_ms + 2'500);
  ListOffsetsResponse none{out.list_offsets[0].request.correlation_id, {{p0, Errc::none, -1, -1}}};
  out.clear();

  consumer.on_list_offsets_response(at(4'003_ms), none, out);
  CHECK(out.list_offsets.empty());
  CHECK(out.fetches.empty());
  CHECK_FALSE(consumer.position(p0).has_value());
  CHECK(consumer.next_wakeup() == at(34'000'250_us));  // sent at 4000.25 ms + 30 s
  out.clear();
  consumer.on_wakeup(at(34'000'250_us), out);
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].request.partitions[0].timestamp == simulated_epoch_ms + 32'500);
  ListOffsetsResponse found{out.list_offsets[0].request.correlation_id, {{p0, Errc::none, 1'234, 0}}};
  out.clear();
  consumer.on_list_offsets_response(at(34'001_ms), found, out);
  REQUIRE(out.fetches.size() == 1);
  CHECK(out.fetches[0].request.partitions[0].fetch_offset == 1'234);

  // A duration reaching before the simulation's start asks for a timestamp before it (records a producer stamped
  // with a negative timestamp_offset may be that old), and one reaching before 1970 for 0.
  config.auto_offset_reset_duration = 10_s;
  KafkaConsumer early(config, leaders({{1, 0}}), at(0_ms));
  out.clear();
  early.assign(at(2_s), {{p0, std::nullopt}}, out);
  early.poll(at(2_s), out);
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].request.partitions[0].timestamp == simulated_epoch_ms - 8'000);
  config.auto_offset_reset_duration = sim::Duration::from_ms(simulated_epoch_ms + 5'000);
  KafkaConsumer before_1970(config, leaders({{1, 0}}), at(0_ms));
  out.clear();
  before_1970.assign(at(2_s), {{p0, std::nullopt}}, out);
  before_1970.poll(at(2_s), out);
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].request.partitions[0].timestamp == 0);
}

TEST_CASE("update_positions (position() outside poll) resets by ListOffsets and fetches nothing until poll") {
  ConsumerConfig config;  // auto.offset.reset = latest
  config.enable_auto_commit = false;
  ConsumerOutbox out;
  KafkaConsumer consumer(config, leaders({{1, 0}, {2, 0}}), at(0_ms));
  consumer.assign(at(0_ms), {{p0, std::nullopt}, {p1, std::nullopt}}, out);
  out.clear();
  consumer.update_positions(at(0_ms), out);
  // One ListOffsets per leader, the latest offset asked for, no fetch, and the application is not in poll.
  REQUIRE(out.list_offsets.size() == 2);
  CHECK(out.fetches.empty());
  CHECK_FALSE(consumer.blocked_in_poll());
  std::vector<OutgoingListOffsets> lists = out.list_offsets;
  out.clear();
  for (const OutgoingListOffsets& l : lists) CHECK(l.request.partitions.at(0).timestamp == -1);
  // The answers set the positions and send nothing: SubscriptionState only seeks.
  const PartitionRef ok = lists[0].request.partitions[0].partition;
  const PartitionRef failed = lists[1].request.partitions[0].partition;
  consumer.on_list_offsets_response(at(2_ms), {lists[0].request.correlation_id, {{ok, Errc::none, 40, 0}}}, out);
  consumer.on_list_offsets_response(
      at(2_ms), {lists[1].request.correlation_id, {{failed, Errc::not_leader_or_follower, -1, -1}}}, out);
  CHECK(out.fetches.empty());
  CHECK(out.list_offsets.empty());
  CHECK(consumer.position(ok) == 40);
  CHECK_FALSE(consumer.position(failed).has_value());
  out.clear();
  // The failed one is asked again only after retry.backoff.ms (100 ms) and only when called again.
  consumer.update_positions(at(50_ms), out);
  CHECK(out.list_offsets.empty());
  consumer.update_positions(at(102_ms), out);
  REQUIRE(out.list_offsets.size() == 1);
  CHECK(out.list_offsets[0].request.partitions.at(0).partition == failed);
  CHECK(out.fetches.empty());
  // poll() then fetches from the known position.
  const OutgoingListOffsets again = out.list_offsets[0];
  out.clear();
  consumer.on_list_offsets_response(at(104_ms), {again.request.correlation_id, {{failed, Errc::none, 7, 0}}}, out);
  consumer.poll(at(105_ms), out);
  CHECK(consumer.blocked_in_poll());
  REQUIRE(out.fetches.size() == 2);
}
