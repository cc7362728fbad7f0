// RecordAccumulator / BufferPool behaviour (reference/kafka-behaviour.md §1.4-§1.6). Batch sizes are derived
// from the v2 record format by hand (record_batch_test checks the size functions themselves):
//   a record with no key and a 100-byte value is 109 bytes at offset deltas 0..63 and 110 bytes at 64..8191
//   (timestamp delta 0). A 16384-byte batch therefore holds 148 of them: 61 + 64*109 + 84*110 = 16277, and a
//   149th would need 16277 + 110 = 16387 > 16384.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "kafkasim/kafka/producer/accumulator.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

constexpr int32_t records_per_full_batch = 148;
constexpr int32_t full_batch_bytes = 61 + 64 * 109 + 84 * 110;  // 16277
constexpr int32_t single_record_batch_bytes = 61 + 109;          // 170

ProducerMetadata metadata_with_leaders(std::vector<int32_t> leaders, int32_t leader_epoch = 0) {
  ProducerMetadata metadata;
  TopicMetadata topic;
  for (int32_t node : leaders) topic.partitions.push_back({node, leader_epoch});
  metadata.topics.push_back(topic);
  return metadata;
}

ProducerConfig test_config() {
  ProducerConfig config;
  config.enable_idempotence = false;  // most tests do not model InitProducerId
  config.acks = Acks::leader;
  return config;
}

SendRequest value100(int32_t partition, uint64_t record_id) {
  SendRequest request;
  request.topic = 0;
  request.partition = partition;
  request.shape.value_bytes = 100;
  request.record_id = record_id;
  return request;
}

sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

}  // namespace

TEST_CASE("ProducerConfig has Kafka 4.x defaults") {
  const ProducerConfig config;
  CHECK(config.linger == 5_ms);  // KIP-1030 (4.0)
  CHECK(config.batch_size_bytes == 16384);
  CHECK(config.buffer_memory_bytes == 32 * 1024 * 1024);
  CHECK(config.max_block == 60_s);
  CHECK(config.max_request_size_bytes == 1024 * 1024);
  CHECK(config.delivery_timeout == 120_s);
  CHECK(config.request_timeout == 30_s);
  CHECK(config.acks == Acks::all);
  CHECK(config.enable_idempotence);
  CHECK(config.max_in_flight_requests_per_connection == 5);
  CHECK(config.partitioner_adaptive_partitioning_enable);
  CHECK(config.partitioner_availability_timeout == sim::Duration::zero());
  CHECK_FALSE(config.partitioner_ignore_keys);
  CHECK(validate(config).empty());
  ProducerConfig bad;
  bad.delivery_timeout = 30_s;  // < linger + request.timeout
  CHECK_FALSE(validate(bad).empty());
}

TEST_CASE("a batch is ready when full, not before linger.ms") {
  ProducerConfig config = test_config();
  config.linger = 1000_ms;
  sim::Rng rng = sim::Rng::stream(1, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({7});
  const sim::SimTime t0 = sim::SimTime::zero();

  for (int32_t i = 0; i < records_per_full_batch; ++i) {
    const AppendResult r = acc.append(value100(0, static_cast<uint64_t>(i)), t0, md);
    REQUIRE(r.status == AppendStatus::appended);
    CHECK(r.new_batch_created == (i == 0));
    CHECK_FALSE(r.batch_is_full);
  }
  CHECK(acc.queued_batch_count({0, 0}) == 1);
  const BatchId first = acc.queued_batches({0, 0}).front();
  CHECK(acc.batch(first).estimated_size_bytes() == full_batch_bytes);
  CHECK(acc.batch(first).record_count() == records_per_full_batch);

  ReadyCheckResult ready = acc.ready(md, t0);
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.next_ready_check_delay == 1000_ms);

  // The 149th record does not fit: the first batch is closed (full) and a second one opened.
  const AppendResult r = acc.append(value100(0, 1000), t0, md);
  CHECK(r.new_batch_created);
  CHECK(r.batch_is_full);
  CHECK(r.appended_bytes == single_record_batch_bytes);
  ready = acc.ready(md, t0);
  CHECK(ready.ready_nodes == std::vector<int32_t>{7});
}

TEST_CASE("linger.ms: not ready 1 ns before, ready exactly at linger") {
  sim::Rng rng = sim::Rng::stream(2, "acc");
  RecordAccumulator acc(test_config(), rng);  // linger.ms = 5
  const ProducerMetadata md = metadata_with_leaders({3});
  REQUIRE(acc.append(value100(0, 1), at(2_ms), md).status == AppendStatus::appended);
  ReadyCheckResult ready = acc.ready(md, at(2_ms + 5_ms - 1_ns));
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.next_ready_check_delay == 1_ns);
  ready = acc.ready(md, at(7_ms));
  CHECK(ready.ready_nodes == std::vector<int32_t>{3});
}

TEST_CASE("a partition without a leader reports its topic and is not ready") {
  sim::Rng rng = sim::Rng::stream(3, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({no_leader_node});
  REQUIRE(acc.append(value100(0, 1), at(0_ms), md).status == AppendStatus::appended);
  const ReadyCheckResult ready = acc.ready(md, at(1_s));
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.unknown_leader_topics == std::vector<int32_t>{0});
}

TEST_CASE("drain respects max.request.size, one batch per partition, round robin") {
  sim::Rng rng = sim::Rng::stream(4, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1, 1, 1});
  uint64_t id = 0;
  for (int32_t p = 0; p < 3; ++p)
    for (int32_t i = 0; i < records_per_full_batch; ++i) acc.append(value100(p, id++), at(0_ms), md);

  // 2 x 16277 = 32554 <= 40000, a third would make 48831 > 40000.
  std::vector<BatchId> drained = acc.drain(md, 1, 40'000, at(10_ms));
  REQUIRE(drained.size() == 2);
  CHECK(acc.batch(drained[0]).partition.partition == 0);
  CHECK(acc.batch(drained[1]).partition.partition == 1);
  CHECK(acc.batch(drained[0]).built_size_bytes == full_batch_bytes);
  CHECK(acc.batch(drained[0]).closed);
  // The next drain starts where the last one stopped: partition 2.
  drained = acc.drain(md, 1, 40'000, at(10_ms));
  REQUIRE(drained.size() == 1);
  CHECK(acc.batch(drained[0]).partition.partition == 2);
  CHECK(acc.drain(md, 1, 40'000, at(10_ms)).empty());
  // Another node leads nothing.
  CHECK(acc.drain(md, 2, 40'000, at(10_ms)).empty());
}

TEST_CASE("a batch larger than max.request.size is still drained alone") {
  sim::Rng rng = sim::Rng::stream(5, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1, 1});
  for (int32_t i = 0; i < records_per_full_batch; ++i) acc.append(value100(0, static_cast<uint64_t>(i)), at(0_ms), md);
  acc.append(value100(1, 999), at(0_ms), md);
  const std::vector<BatchId> drained = acc.drain(md, 1, 10'000, at(10_ms));
  REQUIRE(drained.size() == 1);
  CHECK(acc.batch(drained[0]).built_size_bytes == full_batch_bytes);
}

TEST_CASE("muted partitions are neither ready nor drained") {
  sim::Rng rng = sim::Rng::stream(6, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1, 1});
  acc.append(value100(0, 1), at(0_ms), md);
  acc.mute_partition({0, 0});
  ReadyCheckResult ready = acc.ready(md, at(1_s));
  CHECK(ready.ready_nodes.empty());
  CHECK(acc.drain(md, 1, 1 << 20, at(1_s)).empty());
  acc.append(value100(1, 2), at(0_ms), md);
  ready = acc.ready(md, at(1_s));
  CHECK(ready.ready_nodes == std::vector<int32_t>{1});
  const std::vector<BatchId> drained = acc.drain(md, 1, 1 << 20, at(1_s));
  REQUIRE(drained.size() == 1);
  CHECK(acc.batch(drained[0]).partition.partition == 1);
  acc.unmute_partition({0, 0});
  CHECK(acc.drain(md, 1, 1 << 20, at(1_s)).size() == 1);
}

TEST_CASE("a record larger than batch.size gets its own batch; a record over max.request.size is rejected") {
  sim::Rng rng = sim::Rng::stream(7, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1});
  SendRequest big = value100(0, 1);
  big.shape.value_bytes = 20'000;
  const AppendResult r = acc.append(big, at(0_ms), md);
  REQUIRE(r.status == AppendStatus::appended);
  // Buffer = the upper bound 61 + 21 + null key 1 + (varint(20000)=3 + 20000) + header count 1 = 20087.
  CHECK(acc.batch(r.batch).buffer_capacity_bytes == 20087);
  CHECK(acc.buffer_available_bytes() == 33'554'432 - 20087);
  // The record alone is 61 + (varint(20008)=3 + 20008) = 20072 < 20087, so by estimate the batch is not full,
  // but a 109-byte record no longer fits: it opens a second batch.
  CHECK(acc.batch(r.batch).estimated_size_bytes() == 20072);
  const AppendResult small = acc.append(value100(0, 2), at(0_ms), md);
  CHECK(small.new_batch_created);
  CHECK(small.batch != r.batch);
  CHECK(acc.batch(r.batch).record_count() == 1);

  SendRequest huge = value100(0, 3);
  huge.shape.value_bytes = 1'048'576 - 50;  // upper bound 61 + 21 + 1 + (4 + v) + 1 > 1048576
  CHECK(acc.append(huge, at(0_ms), md).status == AppendStatus::record_too_large);

  // buffer.memory = 0 is valid (atLeast(0)): every record is larger than the whole buffer, so
  // ensureValidRecordSize fails each one (RecordTooLargeException) and nothing is allocated.
  ProducerConfig no_memory = test_config();
  no_memory.buffer_memory_bytes = 0;
  sim::Rng rng0 = sim::Rng::stream(8, "acc");
  RecordAccumulator empty(no_memory, rng0);
  CHECK(empty.append(value100(0, 4), at(0_ms), md).status == AppendStatus::record_too_large);
  CHECK_FALSE(empty.has_undrained());
}

TEST_CASE("buffer.memory exhaustion blocks a send; a completed batch unblocks it") {
  ProducerConfig config = test_config();
  config.buffer_memory_bytes = 3 * 16384;
  config.linger = 1_s;
  sim::Rng rng = sim::Rng::stream(8, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({1, 2, 3, 4});
  for (int32_t p = 0; p < 3; ++p)
    REQUIRE(acc.append(value100(p, static_cast<uint64_t>(p)), at(0_ms), md).status == AppendStatus::appended);
  CHECK(acc.buffer_available_bytes() == 0);

  // Partition 3 needs a new 16384-byte buffer: the send blocks.
  const AppendResult blocked = acc.append(value100(3, 3), at(1_ms), md);
  CHECK(blocked.status == AppendStatus::blocked_on_memory);
  CHECK(acc.blocked_send_count() == 1);
  CHECK(acc.next_blocked_send_deadline() == at(1_ms + 60_s));
  // A record that fits an open batch needs no memory and is appended (tryAppend comes before allocate).
  CHECK(acc.append(value100(0, 4), at(1_ms), md).status == AppendStatus::appended);

  // With a waiter, every partition is sendable although linger.ms (1 s) has not passed.
  ReadyCheckResult ready = acc.ready(md, at(1_ms));
  CHECK(ready.ready_nodes == std::vector<int32_t>{1, 2, 3});

  const std::vector<BatchId> drained = acc.drain(md, 1, 1 << 20, at(1_ms));
  REQUIRE(drained.size() == 1);
  const std::vector<BlockedSendOutcome> unblocked = acc.complete_batch(drained[0], at(5_ms), md);
  REQUIRE(unblocked.size() == 1);
  CHECK(unblocked[0].record_id == 3);
  CHECK(unblocked[0].send_time == at(1_ms));  // latency counts from send(), including the blocked time
  CHECK(unblocked[0].result.status == AppendStatus::appended);
  CHECK(unblocked[0].result.partition == 3);
  CHECK(unblocked[0].result.new_batch_created);
  CHECK(acc.batch(unblocked[0].result.batch).created_time == at(5_ms));
  CHECK(acc.blocked_send_count() == 0);
  CHECK(acc.buffer_available_bytes() == 0);

  // Nothing completes now: a blocked send fails after exactly max.block.ms.
  REQUIRE(acc.append(value100(0, 5), at(10_ms), md).status == AppendStatus::blocked_on_memory);
  CHECK(acc.expire_blocked_sends(at(10_ms + 60_s - 1_ns), md).empty());
  const std::vector<BlockedSendOutcome> timed_out = acc.expire_blocked_sends(at(10_ms + 60_s), md);
  REQUIRE(timed_out.size() == 1);
  CHECK(timed_out[0].record_id == 5);
  CHECK(timed_out[0].result.status == AppendStatus::buffer_exhausted);
  CHECK(acc.blocked_send_count() == 0);
}

TEST_CASE("a blocked send collects freed memory until its whole buffer is available") {
  ProducerConfig config = test_config();
  config.buffer_memory_bytes = 2 * 16384;
  sim::Rng rng = sim::Rng::stream(9, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({1, 1, 1});
  acc.append(value100(0, 0), at(0_ms), md);
  acc.append(value100(1, 1), at(0_ms), md);
  SendRequest big = value100(2, 2);
  big.shape.value_bytes = 16384;  // upper bound 61 + 21 + 1 + (3 + 16384) + 1 = 16471 > batch.size
  REQUIRE(acc.append(big, at(0_ms), md).status == AppendStatus::blocked_on_memory);

  std::vector<BatchId> drained = acc.drain(md, 1, 1 << 20, at(6_ms));
  REQUIRE(drained.size() == 2);
  // The first 16384 bytes freed go to the waiter, which still lacks 87.
  CHECK(acc.complete_batch(drained[0], at(7_ms), md).empty());
  CHECK(acc.buffer_available_bytes() == 0);
  // The next 16384 complete it; 2 x 16384 - 16471 = 16297 remain.
  const std::vector<BlockedSendOutcome> unblocked = acc.complete_batch(drained[1], at(8_ms), md);
  REQUIRE(unblocked.size() == 1);
  CHECK(acc.batch(unblocked[0].result.batch).buffer_capacity_bytes == 16471);
  CHECK(acc.buffer_available_bytes() == 16297);
}

TEST_CASE("sticky partitioning with a high linger: switch when the second batch closes") {
  // KIP-794 / RecordAccumulator.append: after the first batch closes, the produced bytes (16277) are still below
  // batch.size, so the switch is not allowed; the second batch then fills, and when it closes the produced bytes
  // are 2 x 16277 >= 16384 with all batches full, so the next record goes to a freshly drawn partition.
  ProducerConfig config = test_config();
  config.linger = 10_s;
  sim::Rng rng = sim::Rng::stream(10, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders(std::vector<int32_t>(50, 1));
  int32_t sticky = unknown_partition;
  for (int32_t i = 0; i < 2 * records_per_full_batch; ++i) {
    const AppendResult r = acc.append(value100(unknown_partition, static_cast<uint64_t>(i)), at(0_ms), md);
    REQUIRE(r.status == AppendStatus::appended);
    if (i == 0) sticky = r.partition;
    CHECK(r.partition == sticky);
  }
  CHECK(acc.partitioner(0)->produced_bytes() == 2 * full_batch_bytes);
  CHECK(acc.queued_batch_count({0, sticky}) == 2);
  acc.append(value100(unknown_partition, 10'000), at(0_ms), md);
  // The switch reset the count; the record then opened a new batch: 61 + 109.
  CHECK(acc.partitioner(0)->produced_bytes() == single_record_batch_bytes);
}

TEST_CASE("sticky partitioning with immediate sends: switch right after batch.size bytes") {
  // Every record is drained at once, so each makes its own 170-byte batch and the deque is empty (all batches
  // full) at the next append. 96 x 170 = 16320 < 16384 <= 97 x 170 = 16490: records 1..97 share a partition and
  // the 98th is the first after the switch.
  sim::Rng rng = sim::Rng::stream(11, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders(std::vector<int32_t>(20, 1));
  int32_t sticky = unknown_partition;
  for (int32_t i = 0; i < 97; ++i) {
    const AppendResult r = acc.append(value100(unknown_partition, static_cast<uint64_t>(i)), at(0_ms), md);
    REQUIRE(r.status == AppendStatus::appended);
    CHECK(r.appended_bytes == single_record_batch_bytes);
    if (i == 0) sticky = r.partition;
    CHECK(r.partition == sticky);
    for (BatchId b : acc.drain(md, 1, 1 << 20, at(0_ms))) acc.complete_batch(b, at(0_ms), md);
  }
  CHECK(acc.partitioner(0)->produced_bytes() == 97 * single_record_batch_bytes);
  acc.append(value100(unknown_partition, 97), at(0_ms), md);
  CHECK(acc.partitioner(0)->produced_bytes() == single_record_batch_bytes);
}

TEST_CASE("adaptive partitioning avoids a partition with a long queue") {
  ProducerConfig config = test_config();
  config.linger = 10_s;
  sim::Rng rng = sim::Rng::stream(12, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({1, 2, 3});
  // Each 16000-byte record makes its own batch (61 + 16011 + 16011 > 16384), so partition 0 queues 4 batches.
  for (int i = 0; i < 4; ++i) {
    SendRequest r = value100(0, static_cast<uint64_t>(i));
    r.shape.value_bytes = 16'000;
    acc.append(r, at(0_ms), md);
  }
  acc.append(value100(1, 10), at(0_ms), md);
  acc.append(value100(2, 11), at(0_ms), md);
  REQUIRE(acc.queued_batch_count({0, 0}) == 4);
  acc.ready(md, at(0_ms));
  // Queue sizes {4,1,1} -> weights max+1-q = {1,4,4} -> CFT {1,5,9}.
  const BuiltInPartitioner* partitioner = acc.partitioner_for_next_draw(0, md);
  REQUIRE(partitioner != nullptr);
  const auto cft = partitioner->cumulative_frequency_table();
  REQUIRE(cft.size() == 3);
  CHECK(cft[0] == 1);
  CHECK(cft[1] == 5);
  CHECK(cft[2] == 9);
  sim::Rng draws = sim::Rng::stream(13, "draws");
  std::vector<int64_t> counts(3, 0);
  constexpr int64_t n = 90'000;
  for (int64_t i = 0; i < n; ++i) ++counts[static_cast<size_t>(partitioner->next_partition(md.topics[0], draws))];
  // P(partition 0) = 1/9, P(1) = P(2) = 4/9; +-5% relative is > 5 standard deviations for these counts.
  CHECK(static_cast<double>(counts[0]) / n == doctest::Approx(1.0 / 9.0).scale(0).epsilon(0.05));
  CHECK(static_cast<double>(counts[1]) / n == doctest::Approx(4.0 / 9.0).scale(0).epsilon(0.05));

  // With partitioner.adaptive.partitioning.enable=false the stats stay off (uniform).
  config.partitioner_adaptive_partitioning_enable = false;
  sim::Rng rng2 = sim::Rng::stream(12, "acc");
  RecordAccumulator plain(config, rng2);
  for (int32_t p = 0; p < 3; ++p) plain.append(value100(p, 0), at(0_ms), md);
  plain.append(value100(0, 1), at(0_ms), md);
  plain.ready(md, at(0_ms));
  CHECK(plain.partitioner_for_next_draw(0, md)->cumulative_frequency_table().empty());
}

TEST_CASE("retry backoff: exponential with 20% jitter, skipped when the leader changed (KIP-951)") {
  sim::Rng backoff_rng = sim::Rng::stream(14, "backoff");
  for (int i = 0; i < 1000; ++i) {
    const sim::Duration b0 = exponential_backoff(100_ms, 1000_ms, 0, backoff_rng);
    CHECK(b0 >= 80_ms);
    CHECK(b0 <= 120_ms);
    const sim::Duration b3 = exponential_backoff(100_ms, 1000_ms, 3, backoff_rng);  // 800 ms +-20%
    CHECK(b3 >= 640_ms);
    CHECK(b3 <= 960_ms);
    const sim::Duration b9 = exponential_backoff(100_ms, 1000_ms, 9, backoff_rng);  // capped at 1000 ms
    CHECK(b9 >= 800_ms);
    CHECK(b9 <= 1000_ms);
  }
  CHECK(exponential_backoff(100_ms, 100_ms, 5, backoff_rng) == 100_ms);  // max <= initial: no jitter

  ProducerConfig config = test_config();
  config.linger = sim::Duration::zero();
  sim::Rng rng = sim::Rng::stream(15, "acc");
  RecordAccumulator acc(config, rng);
  ProducerMetadata md = metadata_with_leaders({1});
  acc.append(value100(0, 1), at(0_ms), md);
  REQUIRE(acc.ready(md, at(0_ms)).ready_nodes.size() == 1);
  const std::vector<BatchId> drained = acc.drain(md, 1, 1 << 20, at(0_ms));
  REQUIRE(drained.size() == 1);
  acc.reenqueue(drained[0], at(10_ms));
  CHECK(acc.batch(drained[0]).attempts == 1);
  // Backing off for 80..120 ms after the re-enqueue.
  ReadyCheckResult ready = acc.ready(md, at(10_ms + 79_ms));
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.next_ready_check_delay > sim::Duration::zero());
  CHECK(ready.next_ready_check_delay <= 41_ms);
  CHECK(acc.drain(md, 1, 1 << 20, at(10_ms + 79_ms)).empty());
  CHECK(acc.ready(md, at(10_ms + 120_ms)).ready_nodes.size() == 1);
  // A new leader epoch skips the rest of the backoff.
  md.topics[0].partitions[0].leader_epoch = 1;
  CHECK(acc.ready(md, at(10_ms + 1_ms)).ready_nodes.size() == 1);
}

TEST_CASE("idempotence: nothing drains without a producer id; sequences advance by record count") {
  ProducerConfig config;  // idempotence on by default
  config.linger = sim::Duration::zero();
  sim::Rng rng = sim::Rng::stream(16, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({1});
  for (int32_t i = 0; i < records_per_full_batch + 5; ++i) acc.append(value100(0, static_cast<uint64_t>(i)), at(0_ms), md);
  CHECK(acc.drain(md, 1, 1 << 20, at(0_ms)).empty());
  acc.set_producer_id_and_epoch({1000, 0});
  const std::vector<BatchId> first = acc.drain(md, 1, 1 << 20, at(0_ms));
  const std::vector<BatchId> second = acc.drain(md, 1, 1 << 20, at(0_ms));
  REQUIRE(first.size() == 1);
  REQUIRE(second.size() == 1);
  CHECK(acc.batch(first[0]).producer_id == 1000);
  CHECK(acc.batch(first[0]).base_sequence == 0);
  CHECK(acc.batch(second[0]).base_sequence == records_per_full_batch);
  CHECK(acc.next_sequence({0, 0}) == records_per_full_batch + 5);
  // Re-enqueued out of order, they queue in sequence order and keep their sequences.
  acc.reenqueue(second[0], at(1_ms));
  acc.reenqueue(first[0], at(1_ms));
  CHECK(acc.queued_batches({0, 0}) == std::vector<BatchId>{first[0], second[0]});
}

TEST_CASE("a record sent while a retried batch is the last of its deque opens a new batch behind it") {
  // RecordAccumulator.tryAppend asks the last batch first; a re-enqueued batch was built when it was drained,
  // so its MemoryRecordsBuilder is closed, hasRoomFor says no and append() opens a new batch. The retried batch
  // is last when its deque was empty (no sequence: addFirst) or when every queued batch has a lower sequence
  // (insertInSequenceOrder).
  ProducerConfig plain = test_config();
  plain.linger = sim::Duration::zero();
  ProducerConfig idempotent;
  idempotent.linger = sim::Duration::zero();
  for (const bool with_sequences : {false, true}) {
    CAPTURE(with_sequences);
    sim::Rng rng = sim::Rng::stream(18, "acc");
    RecordAccumulator acc(with_sequences ? idempotent : plain, rng);
    if (with_sequences) acc.set_producer_id_and_epoch({1000, 0});
    const ProducerMetadata md = metadata_with_leaders({1});
    acc.append(value100(0, 1), at(0_ms), md);
    acc.append(value100(0, 2), at(0_ms), md);
    const std::vector<BatchId> first = acc.drain(md, 1, 1 << 20, at(0_ms));
    REQUIRE(first.size() == 1);
    if (with_sequences) {
      // A second drained batch with a higher sequence, re-enqueued behind the first.
      acc.append(value100(0, 3), at(1_ms), md);
      const std::vector<BatchId> second = acc.drain(md, 1, 1 << 20, at(1_ms));
      REQUIRE(second.size() == 1);
      acc.reenqueue(first[0], at(2_ms));
      acc.reenqueue(second[0], at(2_ms));
      REQUIRE(acc.queued_batches({0, 0}) == std::vector<BatchId>{first[0], second[0]});
    } else {
      acc.reenqueue(first[0], at(2_ms));
    }
    const BatchId retried = acc.queued_batches({0, 0}).back();
    const int32_t retried_records = acc.batch(retried).record_count();
    const AppendResult r = acc.append(value100(0, 9), at(3_ms), md);
    CHECK(r.status == AppendStatus::appended);
    CHECK(r.new_batch_created);
    CHECK(r.batch != retried);
    CHECK(acc.batch(retried).record_count() == retried_records);
    CHECK(acc.queued_batches({0, 0}).back() == r.batch);
    CHECK(acc.batch(r.batch).record_count() == 1);
  }
}

TEST_CASE("delivery.timeout.ms expires undrained batches from batch creation") {
  sim::Rng rng = sim::Rng::stream(17, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1});
  acc.append(value100(0, 1), at(1_ms), md);
  CHECK(acc.next_batch_expiry_time() == at(1_ms + 120_s));
  CHECK(acc.expired_batches(at(1_ms + 120_s - 1_ns)).empty());
  const std::vector<BatchId> expired = acc.expired_batches(at(1_ms + 120_s));
  REQUIRE(expired.size() == 1);
  CHECK_FALSE(acc.has_undrained());
  acc.complete_batch(expired[0], at(1_ms + 120_s), md);
  CHECK(acc.buffer_available_bytes() == acc.buffer_total_bytes());
  CHECK_FALSE(acc.has_incomplete());
}

TEST_CASE("flush and close make every batch sendable") {
  ProducerConfig config = test_config();
  config.linger = 10_s;
  sim::Rng rng = sim::Rng::stream(18, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({4});
  acc.append(value100(0, 1), at(0_ms), md);
  CHECK(acc.ready(md, at(1_ms)).ready_nodes.empty());
  acc.begin_flush();
  CHECK(acc.ready(md, at(1_ms)).ready_nodes == std::vector<int32_t>{4});
  acc.end_flush();
  CHECK(acc.ready(md, at(1_ms)).ready_nodes.empty());
  acc.close();
  CHECK(acc.ready(md, at(1_ms)).ready_nodes == std::vector<int32_t>{4});
  CHECK(acc.append(value100(0, 2), at(1_ms), md).status == AppendStatus::closed);
}

TEST_CASE("partitioner.availability.timeout.ms leaves a leader that cannot drain out of the adaptive choice") {
  // KIP-794: a node that had ready batches but could not take them for longer than the availability timeout is
  // excluded from the load stats. Node 1 (partition 0) has been ready without draining for 200 ms > 100 ms, so
  // the table covers partitions 1 and 2 only; their queues are equal (one batch each): weights {1, 1}.
  ProducerConfig config = test_config();
  config.linger = 10_s;
  config.partitioner_availability_timeout = 100_ms;
  sim::Rng rng = sim::Rng::stream(21, "acc");
  RecordAccumulator acc(config, rng);
  const ProducerMetadata md = metadata_with_leaders({1, 2, 3});
  for (int32_t p = 0; p < 3; ++p) acc.append(value100(p, static_cast<uint64_t>(p)), at(0_ms), md);
  acc.update_node_latency_stats(1, at(0_ms), false);
  acc.update_node_latency_stats(1, at(200_ms), false);
  acc.update_node_latency_stats(2, at(200_ms), true);
  acc.update_node_latency_stats(3, at(200_ms), true);
  const ReadyCheckResult ready = acc.ready(md, at(200_ms));
  CHECK(ready.ready_nodes.empty());  // nothing full, linger 10 s not expired
  const BuiltInPartitioner* partitioner = acc.partitioner_for_next_draw(0, md);
  REQUIRE(partitioner != nullptr);
  const auto ids = partitioner->load_stats_partition_ids();
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] == 1);
  CHECK(ids[1] == 2);
  const auto cft = partitioner->cumulative_frequency_table();
  CHECK(cft[0] == 1);
  CHECK(cft[1] == 2);
}

// QuietAppendCursor + append_quiet (the cluster layer's lazy sends) must leave the accumulator exactly as
// record-by-record append() does. Two accumulators see the same sends; the second appends every record its cursor
// accepts with append_quiet and falls back to append() (and a fresh cursor) otherwise. After every send that wakes
// the sender both run ready(), as its poll would. Returns the quiet count. `tail_quiet`: appends into the last of
// several batches may be quiet (RecordAccumulator::set_tail_appends_quiet).
namespace {
int compare_quiet_with_plain(int n, bool sticky, bool tail_quiet = true) {
  const ProducerMetadata metadata = metadata_with_leaders({0, 1, 2, 0, 1, 2});
  const ProducerConfig config = test_config();
  sim::Rng rng_plain(7);
  sim::Rng rng_quiet(7);
  RecordAccumulator plain(config, rng_plain);
  RecordAccumulator quiet(config, rng_quiet);
  plain.set_tail_appends_quiet(tail_quiet);
  quiet.set_tail_appends_quiet(tail_quiet);
  int quiet_sends = 0;
  std::optional<QuietAppendCursor> cursor;
  for (int i = 0; i < n; ++i) {
    const sim::SimTime now = at(sim::Duration::from_us(10 * i));
    const SendRequest request = value100(sticky ? unknown_partition : i % 6, static_cast<uint64_t>(i));
    const AppendResult expected = plain.append(request, now, metadata);
    REQUIRE(expected.status == AppendStatus::appended);
    if (!cursor || !cursor->still_valid()) cursor = quiet.quiet_cursor(metadata);
    AppendResult got;
    if (cursor->accept(request.topic, request.partition, request.shape, now)) {
      got = quiet.append_quiet(request, now);
      ++quiet_sends;
      CHECK_FALSE(expected.wakes_sender);
      CHECK_FALSE(expected.new_batch_created);
      if (!tail_quiet) CHECK_FALSE(expected.batch_is_full);
    } else {
      got = quiet.append(request, now, metadata);
      cursor.reset();
    }
    CHECK(got.wakes_sender == expected.wakes_sender);
    if (expected.wakes_sender) {
      const ReadyCheckResult a = plain.ready(metadata, now);
      const ReadyCheckResult b = quiet.ready(metadata, now);
      CHECK(a.ready_nodes == b.ready_nodes);
      CHECK(a.next_ready_check_delay == b.next_ready_check_delay);
    }
    REQUIRE(got.status == expected.status);
    CHECK(got.partition == expected.partition);
    CHECK(got.batch == expected.batch);
    CHECK(got.appended_bytes == expected.appended_bytes);
    const ProducerBatch& a = plain.batch(expected.batch);
    const ProducerBatch& b = quiet.batch(got.batch);
    CHECK(a.record_count() == b.record_count());
    CHECK(a.estimated_size_bytes() == b.estimated_size_bytes());
    CHECK(a.last_append_time == b.last_append_time);
  }
  // The sticky partitioner drew the same partitions from the same stream, and nothing more.
  CHECK(rng_plain.next_u64() == rng_quiet.next_u64());
  return quiet_sends;
}
}  // namespace

TEST_CASE("append_quiet after a cursor's verdict equals append(), record by record") {
  // One sticky batch: only its first send (which creates the batch) is not quiet; 148 records fit (16277 B) and
  // the sticky partitioner keeps the partition below batch.size produced bytes.
  CHECK(compare_quiet_with_plain(records_per_full_batch, true) == records_per_full_batch - 1);
  // Six partitions round robin, one full batch each: six first sends are not quiet.
  CHECK(compare_quiet_with_plain(6 * records_per_full_batch, false) == 6 * (records_per_full_batch - 1));
  // A long sticky run with switches, second batches and no drain: the same state either way. Appends into the last
  // of several batches are quiet only with the shortcut (Kafka's doSend wakes the sender for each).
  const int with_tail = compare_quiet_with_plain(3000, true);
  const int without_tail = compare_quiet_with_plain(3000, true, false);
  CHECK(without_tail > 0);
  CHECK(with_tail > without_tail);
}

TEST_CASE("split_and_reenqueue: batch.size parts first, then halves bounded below by the largest record") {
  // Records 1-4 and 6 have 100-byte values (109 bytes in a batch), record 5 a 3000-byte value: payload 1 (null key)
  // + 2 (varint 3000) + 3000 + 1 (no headers) = 3004, in a batch 1 + 1 + 1 + 3004 = 3007 plus varint(3007) = 3009.
  // Its upper bound alone is 61 + 21 + 3004 = 3086. The whole batch: 61 + 5 * 109 + 3009 = 3615 bytes.
  sim::Rng rng = sim::Rng::stream(1, "acc");
  RecordAccumulator acc(test_config(), rng);
  const ProducerMetadata md = metadata_with_leaders({1});
  for (uint64_t id = 1; id <= 6; ++id) {
    SendRequest request = value100(0, id);
    if (id == 5) request.shape.value_bytes = 3000;
    REQUIRE(acc.append(request, at(0_ms), md).status == AppendStatus::appended);
  }
  const int64_t total = acc.buffer_total_bytes();
  CHECK(acc.buffer_available_bytes() == total - 16384);
  auto drained = acc.drain(md, 1, 1 << 20, at(5_ms));
  REQUIRE(drained.size() == 1);
  const BatchId big = drained[0];
  CHECK(acc.batch(big).built_size_bytes == 3615);

  // Never split before: parts of batch.size (16384) bytes, so one part with all six records.
  const std::vector<BatchId> first = acc.split_and_reenqueue(big, at(6_ms));
  REQUIRE(first.size() == 1);
  CHECK(acc.batch(first[0]).record_count() == 6);
  CHECK(acc.batch(first[0]).is_split_batch);
  CHECK(acc.batch(first[0]).created_time == at(0_ms));
  CHECK(acc.batch(first[0]).attempts == 0);
  CHECK(acc.queued_batches({0, 0}) == first);
  acc.complete_batch(big, at(6_ms), md);
  CHECK(acc.buffer_available_bytes() == total);  // the part takes no buffer.memory
  CHECK(acc.live_split_batch_count() == 1);

  // A split batch is cut to max(3086, 3615 / 2) = 3086 bytes: records 1-4 (61 + 4 * 109 = 497), record 5 alone
  // (61 + 3009 = 3070; 497 + 3009 would exceed 3086), record 6 alone (3070 + 109 would exceed it).
  drained = acc.drain(md, 1, 1 << 20, at(6_ms));
  REQUIRE(drained == first);
  CHECK(acc.batch(first[0]).built_size_bytes == 3615);
  const std::vector<BatchId> second = acc.split_and_reenqueue(first[0], at(7_ms));
  acc.complete_batch(first[0], at(7_ms), md);
  REQUIRE(second.size() == 3);
  CHECK(acc.queued_batches({0, 0}) == second);
  std::vector<int32_t> counts, sizes;
  for (int i = 0; i < 3; ++i) {
    drained = acc.drain(md, 1, 1 << 20, at(7_ms));
    REQUIRE(drained.size() == 1);
    CHECK(drained[0] == second[static_cast<size_t>(i)]);
    counts.push_back(acc.batch(drained[0]).record_count());
    sizes.push_back(acc.batch(drained[0]).built_size_bytes);
    acc.complete_batch(drained[0], at(8_ms), md);
  }
  CHECK(counts == std::vector<int32_t>{4, 1, 1});
  CHECK(sizes == std::vector<int32_t>{497, 3070, 170});
  CHECK(acc.buffer_available_bytes() == total);
  CHECK(acc.live_split_batch_count() == 0);
}

TEST_CASE("split_and_reenqueue resets the topic's compression-ratio estimate to max(1, the data's ratio)") {
  ProducerConfig config = test_config();
  config.compression_type = CompressionType::gzip;
  sim::Rng rng = sim::Rng::stream(1, "acc");
  RecordAccumulator acc(config, rng);
  acc.set_compression(0, kafka::CompressionCurve(0.5));
  const ProducerMetadata md = metadata_with_leaders({1});
  for (uint64_t id = 1; id <= 2; ++id) REQUIRE(acc.append(value100(0, id), at(0_ms), md).status == AppendStatus::appended);
  const auto drained = acc.drain(md, 1, 1 << 20, at(5_ms));
  REQUIRE(drained.size() == 1);
  // Closing the batch improved the estimate by one step (0.005) towards the observed 0.5.
  CHECK(acc.compression_ratio_estimate(0) == doctest::Approx(0.995f).scale(0));
  const auto parts = acc.split_and_reenqueue(drained[0], at(6_ms));
  CHECK(acc.compression_ratio_estimate(0) == 1.0f);
  REQUIRE(parts.size() == 1);
  // The part's own builder starts with the default estimate of 1 (plus the 5% margin): 61 + (int)(218 * 1.05).
  CHECK(acc.batch(parts[0]).compression_ratio_estimate == 1.0f);
  CHECK(acc.batch(parts[0]).estimated_size_bytes() == 61 + static_cast<int32_t>(218 * 1.05f));
}

// ready(), next_batch_expiry_time() and expired_batches() keep indexes instead of visiting every deque. Random
// operations (appends that fill batches or block on buffer.memory, drains, retries, splits, completions,
// expiries, mutes, leader and epoch changes, flushes, a close) go to two accumulators fed the same Rng seed: one
// uses the indexes, the other has partitioner.availability.timeout.ms set, which makes ready() Kafka's full scan
// over every deque (check_head on each head in (topic, partition) order; no node latency stats are reported, so
// nothing is excluded from anything). Their ready() results must agree at every step, and the delivery-timeout
// answers must match the definition, computed here from each deque's batches: the earliest head creation time
// plus delivery.timeout.ms, and, in (topic, partition) order, each deque's leading batches whose
// delivery.timeout.ms has passed.
TEST_CASE("indexed ready() and delivery-timeout answers equal a scan of every deque under random operations") {
  constexpr int32_t partitions = 12;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    ProducerConfig config = test_config();
    config.batch_size_bytes = 1024;
    config.buffer_memory_bytes = 12 * 1024;
    config.linger = 5_ms;
    config.request_timeout = 20_ms;
    config.delivery_timeout = 60_ms;
    config.retry_backoff = 3_ms;
    config.retry_backoff_max = 20_ms;
    config.max_block = seed % 2 == 0 ? sim::Duration::zero() : 15_ms;  // 0: a blocked send gives up at once
    ProducerConfig scan_config = config;
    scan_config.partitioner_availability_timeout = 1_s;
    sim::Rng rng_indexed = sim::Rng::stream(seed, "acc");
    sim::Rng rng_scan = sim::Rng::stream(seed, "acc");
    RecordAccumulator indexed(config, rng_indexed);
    RecordAccumulator scan(scan_config, rng_scan);
    // The index from the first non-empty deque on, or switched on and off as the count of non-empty deques
    // crosses small thresholds (with and without a gap between them), or never (the default thresholds).
    if (seed % 4 == 0) indexed.set_ready_index_thresholds(0, 0);
    if (seed % 4 == 1) indexed.set_ready_index_thresholds(4, 2);
    if (seed % 4 == 2) indexed.set_ready_index_thresholds(6, 7);
    sim::Rng ops = sim::Rng::stream(seed, "ops");

    ProducerMetadata md;
    md.topics.resize(2);
    for (int32_t p = 0; p < partitions; ++p) md.topics[0].partitions.push_back({p % 3, 0});
    for (int32_t p = 0; p < 4; ++p) md.topics[1].partitions.push_back({(p + 1) % 3, 0});
    std::vector<BatchId> drained;  // drained, not completed (the same ids in both: same operations)
    sim::SimTime now = sim::SimTime::zero();
    uint64_t record_id = 0;
    int32_t flushes = 0;

    const auto check_expiry = [&] {
      std::optional<sim::SimTime> earliest;
      for (int32_t t = 0; t < 2; ++t) {
        for (int32_t p = 0; p < md.topics[static_cast<size_t>(t)].num_partitions(); ++p) {
          const std::vector<BatchId> queued = indexed.queued_batches({t, p});
          if (queued.empty()) continue;
          const sim::SimTime created = indexed.batch(queued.front()).created_time;
          if (!earliest || created < *earliest) earliest = created;
        }
      }
      std::optional<sim::SimTime> expected;
      if (earliest) expected = *earliest + config.delivery_timeout;
      CHECK(indexed.next_batch_expiry_time() == expected);
      CHECK(scan.next_batch_expiry_time() == expected);
    };

    for (int step = 0; step < 600; ++step) {
      CAPTURE(step);
      now = now + sim::Duration::from_us(ops.uniform_int(0, 2000));
      const int64_t op = ops.uniform_int(0, 109);
      if (op < 40) {
        // An append; a few records are larger than half a batch, so batches fill and records split.
        SendRequest request;
        request.topic = ops.chance(1, 5) ? 1 : 0;
        request.partition = static_cast<int32_t>(ops.uniform_int(0, request.topic == 0 ? partitions - 1 : 3));
        request.shape.value_bytes = static_cast<int32_t>(ops.chance(1, 4) ? ops.uniform_int(400, 900) : 100);
        request.record_id = ++record_id;
        const AppendResult a = indexed.append(request, now, md);
        const AppendResult b = scan.append(request, now, md);
        CHECK(a.status == b.status);
        CHECK(a.batch == b.batch);
      } else if (op < 60) {
        const ReadyCheckResult a = indexed.ready(md, now);
        const ReadyCheckResult b = scan.ready(md, now);
        CHECK(a.ready_nodes == b.ready_nodes);
        CHECK(a.next_ready_check_delay == b.next_ready_check_delay);
        CHECK(a.unknown_leader_topics == b.unknown_leader_topics);
        for (int32_t node : a.ready_nodes) {
          if (!ops.chance(2, 3)) continue;
          const std::vector<BatchId> da = indexed.drain(md, node, 4096, now);
          const std::vector<BatchId> db = scan.drain(md, node, 4096, now);
          CHECK(da == db);
          drained.insert(drained.end(), da.begin(), da.end());
        }
      } else if (op < 72 && !drained.empty()) {
        // A drained batch completes, is retried, or (several records) is split.
        const auto i = static_cast<size_t>(ops.uniform_int(0, static_cast<int64_t>(drained.size()) - 1));
        const BatchId id = drained[i];
        drained.erase(drained.begin() + static_cast<std::ptrdiff_t>(i));
        const int64_t what = ops.uniform_int(0, 2);
        if (what == 0) {
          indexed.reenqueue(id, now);
          scan.reenqueue(id, now);
        } else if (what == 1 && indexed.batch(id).record_count() > 1) {
          CHECK(indexed.split_and_reenqueue(id, now) == scan.split_and_reenqueue(id, now));
          indexed.complete_batch(id, now, md);
          scan.complete_batch(id, now, md);
        } else {
          indexed.complete_batch(id, now, md);
          scan.complete_batch(id, now, md);
        }
      } else if (op < 80) {
        // Expiry: the leading batches of each deque, in (topic, partition) order, past delivery.timeout.ms.
        check_expiry();
        std::vector<BatchId> expected;
        for (int32_t t = 0; t < 2; ++t)
          for (int32_t p = 0; p < md.topics[static_cast<size_t>(t)].num_partitions(); ++p)
            for (BatchId id : indexed.queued_batches({t, p})) {
              if (now - indexed.batch(id).created_time < config.delivery_timeout) break;
              expected.push_back(id);
            }
        const std::vector<BatchId> a = indexed.expired_batches(now);
        CHECK(a == expected);
        CHECK(scan.expired_batches(now) == expected);
        for (BatchId id : a) {
          indexed.complete_batch(id, now, md);
          scan.complete_batch(id, now, md);
        }
        indexed.expire_blocked_sends(now, md);
        scan.expire_blocked_sends(now, md);
      } else if (op < 88) {
        const PartitionRef tp{0, static_cast<int32_t>(ops.uniform_int(0, partitions - 1))};
        if (indexed.is_muted(tp)) {
          indexed.unmute_partition(tp);
          scan.unmute_partition(tp);
        } else {
          indexed.mute_partition(tp);
          scan.mute_partition(tp);
        }
      } else if (op < 94) {
        // A leader moves, disappears, or its epoch grows (KIP-951 skips a retry's backoff).
        PartitionLeader& leader =
            md.topics[0].partitions[static_cast<size_t>(ops.uniform_int(0, partitions - 1))];
        const int64_t what = ops.uniform_int(0, 2);
        if (what == 0) leader.node_id = static_cast<int32_t>(ops.uniform_int(0, 3));
        if (what == 1) leader.node_id = no_leader_node;
        ++leader.leader_epoch;
      } else if (op < 97) {
        if (flushes > 0 && ops.chance(1, 2)) {
          indexed.end_flush();
          scan.end_flush();
          --flushes;
        } else {
          indexed.begin_flush();
          scan.begin_flush();
          ++flushes;
        }
      } else if (op < 100) {
        if (step > 500 && !indexed.is_closed()) {
          indexed.close();
          scan.close();
        }
      } else if (op < 105) {
        // A blocked send gives up: the deque whose last batch it closed for appends gets no new batch.
        indexed.expire_blocked_sends(now, md);
        scan.expire_blocked_sends(now, md);
      } else {
        // A drain under metadata ready() has not seen, then the old metadata back (its epochs were already seen).
        const ProducerMetadata old = md;
        for (PartitionLeader& leader : md.topics[0].partitions)
          if (ops.chance(1, 3)) ++leader.leader_epoch;
        const auto node = static_cast<int32_t>(ops.uniform_int(0, 2));
        const std::vector<BatchId> da = indexed.drain(md, node, 4096, now);
        CHECK(da == scan.drain(md, node, 4096, now));
        drained.insert(drained.end(), da.begin(), da.end());
        if (ops.chance(1, 2)) md = old;
      }
      check_expiry();
      CHECK(indexed.has_undrained() == scan.has_undrained());
    }
  }
}
