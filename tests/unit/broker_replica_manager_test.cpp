// Unit tests of the broker data path (kafka/broker: Partition + ReplicaManager), driven directly with
// requests and `now`. Every expected offset, HW and time is worked out by hand in the comments from the rules
// of reference/kafka-behaviour.md §2.2, §2.8, §3.2–§3.6 and the configs (replica.lag.time.max.ms = 30000,
// isr-expiration every 15000 ms from start-up, fetch max_wait and min_bytes as sent), never read back from
// the code under test.
#include <doctest/doctest.h>

#include <vector>

#include "broker_test_support.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;
using sim::Duration;
using sim::SimTime;

namespace {

using test::at;
using test::base_offsets;
using test::batch;
using test::consumer_client;
using test::consumer_fetch;
using test::produce;
using test::producer_client;
using test::tp;

constexpr PartitionRef tp1{0, 1};

BrokerConfig broker_config(NodeId id, int32_t min_isr) {
  BrokerConfig c;
  c.broker_id = id;
  c.min_insync_replicas = min_isr;
  return c;
}

BrokerConfig with_min_isr(BrokerConfig c, int32_t min_isr) {
  c.min_insync_replicas = min_isr;
  return c;
}

// A broker hosting `refs`, each led by it with the given ISR and replicas at epoch 0, started at t = 0 (see
// test::LeaderBroker), with min.insync.replicas = `min_isr`.
struct Leader : test::LeaderBroker {
  Leader(const std::vector<PartitionRef>& refs, const std::vector<NodeId>& isr, const std::vector<NodeId>& replicas,
         int32_t min_isr, BrokerConfig config = broker_config(1, 1))
      : LeaderBroker(with_min_isr(config, min_isr), refs, isr, replicas) {}
  Partition& p(PartitionRef ref = tp) { return *rm.partition(ref); }
};

ProduceRequest produce1(int16_t acks, int32_t records, int32_t bytes = 100, Duration timeout = 30_s) {
  return produce(acks, {{tp, batch(records, bytes)}}, timeout);
}

FetchRequest follower_fetch(NodeId replica, int64_t offset, Duration max_wait = 0_ms, int32_t last_fetched_epoch = -1,
                            PartitionRef ref = tp) {
  FetchRequest r;
  r.client_id = replica;
  r.replica_id = replica;
  r.max_wait = max_wait;
  r.min_bytes = 1;
  r.max_bytes = 10'485'760;  // replica.fetch.response.max.bytes
  FetchPartitionRequest p;
  p.partition = ref;
  p.fetch_offset = offset;
  p.last_fetched_epoch = last_fetched_epoch;
  p.log_start_offset = 0;
  r.partitions.push_back(p);
  return r;
}

// `records` records produced with acks=1 at `now`, then both followers (2 and 3) fetching at the new LEO at `now` +
// 1 ms: they report it (and a log start of 0), so an ISR of {1, 2, 3} commits it.
void produce_and_replicate(Leader& b, int32_t records, SimTime now) {
  b.rm.handle_produce(produce1(1, records), now, b.out);
  const int64_t leo = b.p().log_end_offset();
  b.rm.handle_fetch(follower_fetch(2, leo), now + 1_ms, b.out);
  b.rm.handle_fetch(follower_fetch(3, leo), now + 1_ms, b.out);
}

// Three 1000-byte batches of 10 records in each of tp and tp1, produced at 1 ms (committed at once with ISR {1}).
void three_batches_each(Leader& b) {
  for (int i = 0; i < 3; ++i) {
    b.rm.handle_produce(produce(1, {{tp, batch(10, 1000)}}), at(1_ms), b.out);
    b.rm.handle_produce(produce(1, {{tp1, batch(10, 1000)}}), at(1_ms), b.out);
  }
}

// A fetch of tp and tp1 from offset 0, answered at once, by a consumer (consumer_replica_id) or a follower.
FetchRequest fetch_both(NodeId replica, int32_t max_bytes) {
  FetchRequest r;
  r.client_id = replica == consumer_replica_id ? consumer_client : replica;
  r.replica_id = replica;
  r.max_wait = 0_ms;
  r.min_bytes = 1;
  r.max_bytes = max_bytes;
  for (PartitionRef ref : {tp, tp1}) {
    FetchPartitionRequest p;
    p.partition = ref;
    p.fetch_offset = 0;
    p.log_start_offset = 0;
    p.partition_max_bytes = 1'048'576;
    r.partitions.push_back(p);
  }
  return r;
}

}  // namespace

TEST_CASE("RF=3: the HW is the smallest LEO over the ISR and moves as followers fetch") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  // Five records at offsets 0..4: LEO 5. Both followers' LEOs are unknown to a new leader, so HW stays 0.
  b.rm.handle_produce(produce1(1, 5), at(1_ms), b.out);
  CHECK(b.p().log_end_offset() == 5);
  CHECK(b.p().high_watermark() == 0);
  // Follower 2 fetches from 0 (LEO 0) and gets batch 0..4; follower 3's LEO is still unknown: HW 0.
  b.rm.handle_fetch(follower_fetch(2, 0), at(2_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  CHECK(b.out.fetch_responses[0].destination == 2);
  CHECK(base_offsets(b.out.fetch_responses[0].response.partitions[0]) == std::vector<int64_t>{0});
  b.rm.handle_fetch(follower_fetch(3, 0), at(3_ms), b.out);
  CHECK(b.p().high_watermark() == 0);
  // Follower 2 at 5: min(5, 5, 0) = 0.
  b.rm.handle_fetch(follower_fetch(2, 5), at(4_ms), b.out);
  CHECK(b.p().high_watermark() == 0);
  CHECK(b.out.high_watermark_advances.empty());
  // Follower 3 at 5: min(5, 5, 5) = 5. The response still carries the HW as of the read (0): the follower
  // learns the new HW one round trip later (§3.3).
  b.out.clear();
  b.rm.handle_fetch(follower_fetch(3, 5), at(5_ms), b.out);
  CHECK(b.p().high_watermark() == 5);
  REQUIRE(b.out.high_watermark_advances.size() == 1);
  CHECK(b.out.high_watermark_advances[0].old_high_watermark == 0);
  CHECK(b.out.high_watermark_advances[0].new_high_watermark == 5);
  CHECK(b.out.high_watermark_advances[0].time == at(5_ms));
  REQUIRE(b.out.fetch_responses.size() == 1);
  CHECK(b.out.fetch_responses[0].response.partitions[0].high_watermark == 0);
  // Three more records (5..7): LEO 8, HW 5 until both followers reach 8.
  b.rm.handle_produce(produce1(1, 3), at(6_ms), b.out);
  b.rm.handle_fetch(follower_fetch(2, 8), at(7_ms), b.out);
  CHECK(b.p().high_watermark() == 5);
  b.out.clear();
  b.rm.handle_fetch(follower_fetch(3, 8), at(8_ms), b.out);
  CHECK(b.p().high_watermark() == 8);
  CHECK(b.out.fetch_responses[0].response.partitions[0].high_watermark == 5);
  b.p().check_invariants();
}

TEST_CASE("acks=all completes exactly when the last ISR follower's fetch passes the offset") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  b.rm.handle_produce(produce1(-1, 5), at(1_ms), b.out);
  CHECK(b.out.produce_responses.empty());
  CHECK(b.rm.delayed_produce_count() == 1);
  b.rm.handle_fetch(follower_fetch(2, 0), at(2_ms), b.out);
  b.rm.handle_fetch(follower_fetch(2, 5), at(3_ms), b.out);
  b.rm.handle_fetch(follower_fetch(3, 0), at(4_ms), b.out);
  // Follower 3 has the data but has not fetched past it yet: its LEO is 0, so HW 0 < required 5.
  CHECK(b.out.produce_responses.empty());
  b.rm.handle_fetch(follower_fetch(3, 5), at(5_ms), b.out);
  REQUIRE(b.out.produce_responses.size() == 1);
  const OutgoingProduceResponse& r = b.out.produce_responses[0];
  CHECK(r.destination == producer_client);
  REQUIRE(r.response.partitions.size() == 1);
  CHECK(r.response.partitions[0].error == Errc::none);
  CHECK(r.response.partitions[0].base_offset == 0);
  CHECK(b.rm.delayed_produce_count() == 0);
}

TEST_CASE("acks=1 responds at once, acks=0 never, and acks=0 with an error closes the connection") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  b.rm.handle_produce(produce1(1, 4), at(1_ms), b.out);
  REQUIRE(b.out.produce_responses.size() == 1);
  CHECK(b.out.produce_responses[0].response.partitions[0].error == Errc::none);
  CHECK(b.out.produce_responses[0].response.partitions[0].base_offset == 0);
  // The append went to storage: one write of the batch's 100 bytes to the active .log file.
  bool wrote_batch = false;
  for (const StorageOp& op : b.out.storage_ops) {
    wrote_batch = wrote_batch || (op.kind == StorageOpKind::write && op.file_kind == FileKind::log && op.bytes == 100);
  }
  CHECK(wrote_batch);
  b.out.clear();
  // acks=0: appended at offsets 4..6, nothing sent back.
  b.rm.handle_produce(produce1(0, 3), at(2_ms), b.out);
  CHECK(b.p().log_end_offset() == 7);
  CHECK(b.out.produce_responses.empty());
  CHECK(b.out.connections_to_close.empty());
  // acks=0 to an unknown partition: no response, the connection is closed (§2.2 step 4).
  b.rm.handle_produce(produce(0, {{PartitionRef{5, 0}, batch(1, 100)}}), at(3_ms), b.out);
  CHECK(b.out.produce_responses.empty());
  CHECK(b.out.connections_to_close == std::vector<NodeId>{producer_client});
}

TEST_CASE("produce validation errors") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  // acks=2 is invalid: INVALID_REQUIRED_ACKS, nothing appended.
  b.rm.handle_produce(produce1(2, 1), at(1_ms), b.out);
  CHECK(b.out.produce_responses.at(0).response.partitions.at(0).error == Errc::invalid_required_acks);
  // A batch one byte over max.message.bytes (1048588) is MESSAGE_TOO_LARGE.
  b.rm.handle_produce(produce1(1, 1, 1'048'589), at(2_ms), b.out);
  CHECK(b.out.produce_responses.at(1).response.partitions.at(0).error == Errc::message_too_large);
  // Unknown partition.
  b.rm.handle_produce(produce(1, {{PartitionRef{0, 9}, batch(1, 100)}}), at(3_ms), b.out);
  CHECK(b.out.produce_responses.at(2).response.partitions.at(0).error == Errc::unknown_topic_or_partition);
  CHECK(b.p().log_end_offset() == 0);
  // After losing leadership to broker 2 in epoch 1: NOT_LEADER_OR_FOLLOWER with the new leader (KIP-951).
  b.rm.become_follower(tp, 2, 1, {1, 2, 3}, at(4_ms), b.out);
  b.rm.handle_produce(produce1(1, 1), at(5_ms), b.out);
  const ProducePartitionResponse& r = b.out.produce_responses.at(3).response.partitions.at(0);
  CHECK(r.error == Errc::not_leader_or_follower);
  CHECK(r.current_leader_id == 2);
  CHECK(r.current_leader_epoch == 1);
}

TEST_CASE("NOT_ENOUGH_REPLICAS with ISR < min.insync, and the HW does not advance below min ISR (KAFKA-15583)") {
  Leader b({tp}, {1}, {1, 2, 3}, 2);
  // ISR {1} < min.insync.replicas 2: acks=all is refused before the append.
  b.rm.handle_produce(produce1(-1, 5), at(1_ms), b.out);
  CHECK(b.out.produce_responses.at(0).response.partitions.at(0).error == Errc::not_enough_replicas);
  CHECK(b.p().log_end_offset() == 0);
  // acks=1 ignores min ISR and appends 0..4, but with ISR {1} < 2 the HW stays at 0 (Kafka >= 3.7), so a
  // consumer sees nothing although the only ISR member has everything.
  b.rm.handle_produce(produce1(1, 5), at(2_ms), b.out);
  CHECK(b.out.produce_responses.at(1).response.partitions.at(0).error == Errc::none);
  CHECK(b.p().log_end_offset() == 5);
  CHECK(b.p().high_watermark() == 0);
  b.rm.handle_fetch(consumer_fetch({tp}, 0, 1, 0_ms), at(3_ms), b.out);
  CHECK(b.out.fetch_responses.at(0).response.partitions.at(0).batches.empty());
  CHECK(b.out.high_watermark_advances.empty());
  // Follower 2 fetches at 0: LEO 0 >= HW 0 and >= the epoch start 0, so it joins: ISR {1, 2}. HW = min(5, 0).
  b.rm.handle_fetch(follower_fetch(2, 0), at(4_ms), b.out);
  REQUIRE(b.out.isr_changes.size() == 1);
  CHECK(b.out.isr_changes[0].kind == IsrChangeKind::expand);
  CHECK(b.out.isr_changes[0].old_isr == std::vector<NodeId>{1});
  CHECK(b.out.isr_changes[0].new_isr == std::vector<NodeId>{1, 2});
  CHECK(b.p().high_watermark() == 0);
  // At 5 the ISR {1, 2} has LEOs 5 and 5; follower 3 (out of the ISR, never caught up) does not count.
  b.rm.handle_fetch(follower_fetch(2, 5), at(5_ms), b.out);
  CHECK(b.p().high_watermark() == 5);
}

TEST_CASE("an altered topic config: min.insync.replicas and max.message.bytes apply from the next append") {
  // ISR {1, 2} of replicas {1, 2, 3} with min.insync.replicas 2: acks=all appends (HW waits for follower 2).
  Leader b({tp, tp1}, {1, 2}, {1, 2, 3}, 2);
  b.rm.handle_produce(produce1(-1, 5), at(1_ms), b.out);
  CHECK(b.p().log_end_offset() == 5);
  // kafka-configs --alter --add-config min.insync.replicas=3: ISR 2 < 3, so the next acks=all is refused before the
  // append (§2.2 step 2), and the HW no longer moves when follower 2 catches up (KAFKA-15583).
  PartitionConfig raised;
  raised.min_insync_replicas = 3;
  b.rm.alter_topic_config(0, raised);
  CHECK(b.p().effective_min_isr() == 3);
  CHECK(b.p(tp1).effective_min_isr() == 3);  // every partition of the topic
  CHECK(b.p().is_under_min_isr());
  b.rm.handle_produce(produce1(-1, 5), at(2_ms), b.out);
  CHECK(b.out.produce_responses.back().response.partitions.at(0).error == Errc::not_enough_replicas);
  CHECK(b.p().log_end_offset() == 5);
  b.rm.handle_fetch(follower_fetch(2, 5), at(3_ms), b.out);
  CHECK(b.p().high_watermark() == 0);
  // Deleted again (no topic value: the broker's 2): the HW moves at the next step that re-evaluates it, follower 2's
  // fetch at a new offset after an acks=1 append; a fetch at the same offset would not (its LEO did not move).
  b.rm.alter_topic_config(0, PartitionConfig{});
  CHECK(b.p().effective_min_isr() == 2);
  b.rm.handle_fetch(follower_fetch(2, 5), at(4_ms), b.out);
  CHECK(b.p().high_watermark() == 0);
  b.rm.handle_produce(produce1(1, 1), at(5_ms), b.out);
  b.rm.handle_fetch(follower_fetch(2, 6), at(6_ms), b.out);
  CHECK(b.p().high_watermark() == 6);
  // max.message.bytes lowered below a 100-byte batch: the next one is MESSAGE_TOO_LARGE.
  PartitionConfig small;
  small.log.max_message_bytes = 99;
  b.rm.alter_topic_config(0, small);
  b.rm.handle_produce(produce1(1, 1, 100), at(7_ms), b.out);
  CHECK(b.out.produce_responses.back().response.partitions.at(0).error == Errc::message_too_large);
  // A topic with no replica here changes nothing.
  b.rm.alter_topic_config(7, raised);
}

TEST_CASE("a compacted topic takes no record without a key: INVALID_RECORD, after the size and before the sequence") {
  // §2.3 step 2 (LogValidator): cleanup.policy containing "compact" rejects a batch holding a record without a key,
  // the whole batch, and appends nothing. UnifiedLog.append checks sizes first (analyzeAndValidateRecords) and the
  // producer's sequence last (analyzeAndValidateProducerState).
  Leader b({tp}, {1}, {1, 2, 3}, 1);
  const auto keyless = [](int32_t records, int32_t null_keys, int32_t bytes = 1000) {
    RecordBatch r = batch(records, bytes);
    r.null_key_records = null_keys;
    return r;
  };
  const auto error = [&b] { return b.out.produce_responses.back().response.partitions.at(0).error; };
  // cleanup.policy=delete (the default) takes records without keys.
  b.rm.handle_produce(produce(1, {{tp, keyless(10, 10)}}), at(1_ms), b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 10);
  PartitionConfig compacted;
  compacted.log.cleanup_policy_compact = true;
  compacted.log.cleanup_policy_delete = false;
  b.rm.alter_topic_config(0, compacted);
  // One record of ten without a key fails the batch; nothing is appended.
  b.rm.handle_produce(produce(1, {{tp, keyless(10, 1)}}), at(2_ms), b.out);
  CHECK(error() == Errc::invalid_record);
  CHECK(b.p().log_end_offset() == 10);
  // Every record with a key: appended at 10..19.
  b.rm.handle_produce(produce(1, {{tp, keyless(10, 0)}}), at(3_ms), b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 20);
  // Over max.message.bytes (1048588) and without keys: the size is checked first.
  b.rm.handle_produce(produce(1, {{tp, keyless(10, 10, 1'048'589)}}), at(4_ms), b.out);
  CHECK(error() == Errc::message_too_large);
  // An idempotent producer: 0..9 appended (sequences 0..9), then a batch at sequence 20 is out of order, but the
  // same batch without keys is INVALID_RECORD: the records are validated before the sequence.
  RecordBatch first = keyless(10, 0);
  first.producer_id = 7;
  first.producer_epoch = 0;
  first.base_sequence = 0;
  b.rm.handle_produce(produce(1, {{tp, first}}), at(5_ms), b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 30);
  RecordBatch gap = first;
  gap.base_sequence = 20;
  b.rm.handle_produce(produce(1, {{tp, gap}}), at(6_ms), b.out);
  CHECK(error() == Errc::out_of_order_sequence_number);
  gap.null_key_records = 3;
  b.rm.handle_produce(produce(1, {{tp, gap}}), at(7_ms), b.out);
  CHECK(error() == Errc::invalid_record);
  CHECK(b.p().log_end_offset() == 30);
  // cleanup.policy=compact,delete is compacted too.
  compacted.log.cleanup_policy_delete = true;
  b.rm.alter_topic_config(0, compacted);
  b.rm.handle_produce(produce(1, {{tp, keyless(5, 5)}}), at(8_ms), b.out);
  CHECK(error() == Errc::invalid_record);
  CHECK(b.p().log_end_offset() == 30);
}

TEST_CASE("message.timestamp.before/after.max.ms: INVALID_TIMESTAMP in whole ms, after the size, before the sequence") {
  // §2.3 step 2 (LogValidator.validateTimestamp, KIP-937): with CreateTime a record fails when now - timestamp >
  // before.max.ms or timestamp - now > after.max.ms, `now` being the broker's clock in whole milliseconds; the batch
  // fails whole with INVALID_TIMESTAMP and nothing is appended. Bounds here: 1000 ms before, 200 ms after.
  Leader b({tp}, {1}, {1, 2, 3}, 1);
  const auto stamped = [](int64_t base_ms, int64_t max_ms, int32_t bytes = 1000) {
    RecordBatch r = batch(10, bytes);
    r.base_timestamp = SimTime::zero() + Duration::from_ms(base_ms);
    r.max_timestamp = SimTime::zero() + Duration::from_ms(max_ms);
    return r;
  };
  const auto error = [&b] { return b.out.produce_responses.back().response.partitions.at(0).error; };
  // The defaults (before Long.MAX, after 1 h): a record 10 s old passes.
  b.rm.handle_produce(produce(1, {{tp, stamped(0, 5)}}), at(10_s), b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 10);
  PartitionConfig bounded;
  bounded.log.timestamp_before_max_ms = 1'000;
  bounded.log.timestamp_after_max_ms = 200;
  b.rm.alter_topic_config(0, bounded);
  // At 20.000999 s the broker's clock reads 20000 ms: a first record at 19000 ms is exactly 1000 ms old and passes,
  // one at 18999 ms is 1001 ms old and fails the batch, however new its other records are.
  const SimTime now = at(20_s) + Duration::from_ns(999'999);
  b.rm.handle_produce(produce(1, {{tp, stamped(19'000, 20'000)}}), now, b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 20);
  b.rm.handle_produce(produce(1, {{tp, stamped(18'999, 20'000)}}), now, b.out);
  CHECK(error() == Errc::invalid_timestamp);
  CHECK(b.p().log_end_offset() == 20);
  // A newest record 200 ms ahead passes, 201 ms ahead fails.
  b.rm.handle_produce(produce(1, {{tp, stamped(20'000, 20'200)}}), now, b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 30);
  b.rm.handle_produce(produce(1, {{tp, stamped(20'000, 20'201)}}), now, b.out);
  CHECK(error() == Errc::invalid_timestamp);
  CHECK(b.p().log_end_offset() == 30);
  // Over max.message.bytes and too old: the size is checked first.
  b.rm.handle_produce(produce(1, {{tp, stamped(0, 0, 1'048'589)}}), now, b.out);
  CHECK(error() == Errc::message_too_large);
  // An idempotent producer: a batch appended, then the same batch retried too late is INVALID_TIMESTAMP, not the
  // duplicate's success: the records are validated before the producer's state is looked at.
  RecordBatch first = stamped(20'000, 20'000);
  first.producer_id = 7;
  first.producer_epoch = 0;
  first.base_sequence = 0;
  b.rm.handle_produce(produce(1, {{tp, first}}), now, b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 40);
  b.rm.handle_produce(produce(1, {{tp, first}}), now + 500_ms, b.out);
  CHECK(error() == Errc::none);  // a duplicate within the bound: the original offsets, nothing appended
  CHECK(b.p().log_end_offset() == 40);
  b.rm.handle_produce(produce(1, {{tp, first}}), at(21'001_ms), b.out);
  CHECK(error() == Errc::invalid_timestamp);
  CHECK(b.p().log_end_offset() == 40);
  // On a compacted topic a record without a key fails its key check and is not checked for its timestamp: a batch of
  // keyless records is INVALID_RECORD however old; keyed records too old make INVALID_TIMESTAMP.
  bounded.log.cleanup_policy_compact = true;
  b.rm.alter_topic_config(0, bounded);
  RecordBatch keyless = stamped(0, 0);
  keyless.null_key_records = 10;
  b.rm.handle_produce(produce(1, {{tp, keyless}}), now, b.out);
  CHECK(error() == Errc::invalid_record);
  b.rm.handle_produce(produce(1, {{tp, stamped(0, 0)}}), now, b.out);
  CHECK(error() == Errc::invalid_timestamp);
  // message.timestamp.type=LogAppendTime: no timestamp check at all.
  bounded.log.cleanup_policy_compact = false;
  bounded.log.log_append_time = true;
  b.rm.alter_topic_config(0, bounded);
  b.rm.handle_produce(produce(1, {{tp, stamped(0, 30'000)}}), now, b.out);
  CHECK(error() == Errc::none);
  CHECK(b.p().log_end_offset() == 50);
}

TEST_CASE("effective min ISR is min(min.insync.replicas, replication factor)") {
  // RF=1 with min.insync.replicas 2: effective min ISR 1, so acks=all commits at once.
  Leader b({tp}, {1}, {1}, 2);
  CHECK(b.p().effective_min_isr() == 1);
  b.rm.handle_produce(produce1(-1, 3), at(1_ms), b.out);
  REQUIRE(b.out.produce_responses.size() == 1);
  CHECK(b.out.produce_responses[0].response.partitions[0].error == Errc::none);
  CHECK(b.p().high_watermark() == 3);
}

TEST_CASE("ISR shrink after replica.lag.time.max.ms, on the 15 s isr-expiration grid, and expand on catch-up") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  // Start-up ran the first check at 0; the next ones are at 15, 30, 45, 60 s.
  CHECK(b.rm.next_wakeup() == at(15_s));
  b.rm.handle_produce(produce1(1, 1), at(1_s), b.out);  // offset 0, LEO 1
  // Both followers fetch at 0 at t = 1 s (behind the LEO of 1). Follower 3's last caught-up time stays at
  // t = 0, when it was in the ISR at makeLeader (§3.2: 0 < prev lastFetchLeaderLEO is not reached).
  b.rm.handle_fetch(follower_fetch(2, 0), at(1_s), b.out);
  b.rm.handle_fetch(follower_fetch(3, 0), at(1_s), b.out);
  // Follower 2 reaches the LEO at 2 s and again at 40 s: caught up at 40 s. Follower 3 keeps fetching 0,
  // which is below the leader LEO it saw last time (1), so its caught-up time stays 0.
  b.rm.handle_fetch(follower_fetch(2, 1), at(2_s), b.out);
  b.rm.handle_fetch(follower_fetch(3, 0), at(20_s), b.out);
  CHECK(b.p().high_watermark() == 0);  // min(1, 1, 0)
  b.rm.on_wakeup(at(15_s), b.out);  // 15 - 0 <= 30: in sync
  CHECK(b.rm.next_wakeup() == at(30_s));
  b.rm.on_wakeup(at(30_s), b.out);  // 30 - 0 <= 30: still in sync (the bound is inclusive)
  CHECK(b.out.isr_changes.empty());
  CHECK(b.rm.next_wakeup() == at(45_s));
  b.rm.handle_fetch(follower_fetch(2, 1), at(40_s), b.out);
  // An early call does nothing.
  b.rm.on_wakeup(at(45_s) - 1_ns, b.out);
  CHECK(b.out.isr_changes.empty());
  // At 45 s: 45 - 0 > 30 for follower 3 -> ISR {1, 2}; follower 2: 45 - 40 <= 30 stays.
  b.rm.on_wakeup(at(45_s), b.out);
  REQUIRE(b.out.isr_changes.size() == 1);
  CHECK(b.out.isr_changes[0].kind == IsrChangeKind::shrink);
  CHECK(b.out.isr_changes[0].old_isr == std::vector<NodeId>{1, 2, 3});
  CHECK(b.out.isr_changes[0].new_isr == std::vector<NodeId>{1, 2});
  CHECK(b.out.isr_changes[0].time == at(45_s));
  // Without follower 3 holding it back the HW moves to min(1, 1) = 1.
  CHECK(b.p().high_watermark() == 1);
  CHECK(b.rm.next_wakeup() == at(60_s));
  // Follower 3 catches up at 46 s: LEO 1 >= HW 1 and >= epoch start 0 -> back in the ISR.
  b.rm.handle_fetch(follower_fetch(3, 1), at(46_s), b.out);
  REQUIRE(b.out.isr_changes.size() == 2);
  CHECK(b.out.isr_changes[1].kind == IsrChangeKind::expand);
  CHECK(b.out.isr_changes[1].new_isr == std::vector<NodeId>{1, 2, 3});
  CHECK(b.out.isr_changes[1].time == at(46_s));
}

TEST_CASE("a follower last caught up at 15 s survives the 45 s check and leaves at 60 s") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 1);
  b.rm.handle_produce(produce1(1, 1), at(1_s), b.out);
  // Follower 3 fetches at the LEO (1) exactly at 15 s: caught up at 15 s. Follower 2 stays caught up.
  b.rm.handle_fetch(follower_fetch(3, 1), at(15_s), b.out);
  for (int s : {10, 25, 40, 55}) b.rm.handle_fetch(follower_fetch(2, 1), at(Duration::from_s(s)), b.out);
  b.rm.handle_produce(produce1(1, 1), at(16_s), b.out);  // LEO 2: follower 3 is behind from now on
  b.rm.on_wakeup(at(15_s), b.out);
  b.rm.on_wakeup(at(30_s), b.out);
  b.rm.on_wakeup(at(45_s), b.out);  // 45 - 15 = 30 <= 30
  CHECK(b.out.isr_changes.empty());
  b.rm.handle_fetch(follower_fetch(2, 2), at(58_s), b.out);
  b.rm.on_wakeup(at(60_s), b.out);  // 60 - 15 = 45 > 30
  REQUIRE(b.out.isr_changes.size() == 1);
  CHECK(b.out.isr_changes[0].new_isr == std::vector<NodeId>{1, 2});
  CHECK(b.out.isr_changes[0].time == at(60_s));
}

TEST_CASE("consumer fetch long poll: responds when min_bytes accumulate, or at max_wait") {
  SUBCASE("min_bytes reached by the third 100-byte batch") {
    Leader b({tp}, {1}, {1}, 1);  // RF=1: every append commits at once
    b.rm.handle_fetch(consumer_fetch({tp}, 0, 250, 500_ms), at(10_ms), b.out);
    CHECK(b.out.fetch_responses.empty());
    CHECK(b.rm.next_wakeup() == at(510_ms));
    b.rm.handle_produce(produce1(1, 1, 100), at(100_ms), b.out);  // 100 B < 250
    b.rm.handle_produce(produce1(1, 1, 100), at(200_ms), b.out);  // 200 B < 250
    CHECK(b.out.fetch_responses.empty());
    b.rm.handle_produce(produce1(1, 1, 100), at(300_ms), b.out);  // 300 B >= 250: respond now
    REQUIRE(b.out.fetch_responses.size() == 1);
    const FetchPartitionResponse& r = b.out.fetch_responses[0].response.partitions[0];
    CHECK(b.out.fetch_responses[0].destination == consumer_client);
    CHECK(base_offsets(r) == std::vector<int64_t>{0, 1, 2});
    CHECK(r.slice.bytes == 300);
    CHECK(r.high_watermark == 3);
    CHECK(b.rm.delayed_fetch_count() == 0);
    CHECK(b.rm.next_wakeup() == at(15_s));
  }
  SUBCASE("nothing arrives: an empty response at exactly max_wait") {
    Leader b({tp}, {1}, {1}, 1);
    b.rm.handle_fetch(consumer_fetch({tp}, 0, 1, 500_ms), at(10_ms), b.out);
    b.rm.on_wakeup(at(510_ms) - 1_ns, b.out);
    CHECK(b.out.fetch_responses.empty());
    b.rm.on_wakeup(at(510_ms), b.out);
    REQUIRE(b.out.fetch_responses.size() == 1);
    CHECK(b.out.fetch_responses[0].response.partitions[0].error == Errc::none);
    CHECK(b.out.fetch_responses[0].response.partitions[0].batches.empty());
  }
  SUBCASE("max_wait 0 answers at once even when empty") {
    Leader b({tp}, {1}, {1}, 1);
    b.rm.handle_fetch(consumer_fetch({tp}, 0, 1, 0_ms), at(10_ms), b.out);
    CHECK(b.out.fetch_responses.size() == 1);
  }
}

TEST_CASE("a consumer reads only up to the HW; followers read up to the LEO") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  // Offsets 0..4 committed (both followers at 5), then 5..7 appended: LEO 8, HW 5.
  produce_and_replicate(b, 5, at(1_ms));
  b.rm.handle_produce(produce1(1, 3), at(3_ms), b.out);
  REQUIRE(b.p().high_watermark() == 5);
  b.out.clear();
  b.rm.handle_fetch(consumer_fetch({tp}, 0, 1, 0_ms), at(4_ms), b.out);
  const FetchPartitionResponse& c = b.out.fetch_responses.at(0).response.partitions.at(0);
  CHECK(base_offsets(c) == std::vector<int64_t>{0});  // batch 0..4 only; batch 5..7 is above the HW
  CHECK(c.high_watermark == 5);
  CHECK(c.slice.bytes == 100);
  // A consumer at the HW waits; the HW advance to 8 (follower 3 reaching 8) completes it with batch 5..7.
  b.rm.handle_fetch(consumer_fetch({tp}, 5, 1, 500_ms), at(5_ms), b.out);
  CHECK(b.rm.delayed_fetch_count() == 1);
  b.rm.handle_fetch(follower_fetch(2, 8), at(6_ms), b.out);
  CHECK(b.rm.delayed_fetch_count() == 1);  // HW still 5
  b.out.clear();
  b.rm.handle_fetch(follower_fetch(3, 8), at(7_ms), b.out);
  CHECK(b.p().high_watermark() == 8);
  REQUIRE(b.out.fetch_responses.size() == 2);  // the consumer's (completed by the HW advance) and follower 3's
  const OutgoingFetchResponse& consumer = b.out.fetch_responses[0].destination == consumer_client
                                              ? b.out.fetch_responses[0]
                                              : b.out.fetch_responses[1];
  CHECK(consumer.destination == consumer_client);
  CHECK(base_offsets(consumer.response.partitions.at(0)) == std::vector<int64_t>{5});
  CHECK(consumer.response.partitions.at(0).high_watermark == 8);
}

TEST_CASE("a parked follower fetch completes on the next leader append") {
  Leader b({tp}, {1, 2}, {1, 2}, 1);
  b.rm.handle_fetch(follower_fetch(2, 0, 500_ms), at(1_ms), b.out);
  CHECK(b.out.fetch_responses.empty());
  b.rm.handle_produce(produce1(1, 2), at(7_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  CHECK(b.out.fetch_responses[0].destination == 2);
  CHECK(base_offsets(b.out.fetch_responses[0].response.partitions[0]) == std::vector<int64_t>{0});
}

TEST_CASE("fetch epoch fencing (§2.8 step 1)") {
  Leader b({tp}, {1, 2}, {1, 2}, 1);
  b.rm.become_leader(tp, 3, {1, 2}, {1, 2}, at(1_ms), b.out);
  FetchRequest stale = consumer_fetch({tp}, 0, 1, 0_ms);
  stale.partitions[0].current_leader_epoch = 2;
  b.rm.handle_fetch(stale, at(2_ms), b.out);
  FetchRequest ahead = consumer_fetch({tp}, 0, 1, 0_ms);
  ahead.partitions[0].current_leader_epoch = 4;
  b.rm.handle_fetch(ahead, at(2_ms), b.out);
  FetchRequest stranger = follower_fetch(9, 0);
  b.rm.handle_fetch(stranger, at(2_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 3);
  CHECK(b.out.fetch_responses[0].response.partitions[0].error == Errc::fenced_leader_epoch);
  CHECK(b.out.fetch_responses[1].response.partitions[0].error == Errc::unknown_leader_epoch);
  CHECK(b.out.fetch_responses[2].response.partitions[0].error == Errc::not_leader_or_follower);
}

TEST_CASE("produce timeout: pending partitions return REQUEST_TIMED_OUT at exactly now + timeout") {
  // ISR {1, 2, 3} with min ISR 2 and followers that never fetch: the HW cannot reach the offset.
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  b.rm.handle_produce(produce1(-1, 1, 100, 1000_ms), at(2_ms), b.out);
  CHECK(b.rm.next_wakeup() == at(1002_ms));
  b.rm.on_wakeup(at(1002_ms) - 1_ns, b.out);
  CHECK(b.out.produce_responses.empty());
  b.rm.on_wakeup(at(1002_ms), b.out);
  REQUIRE(b.out.produce_responses.size() == 1);
  CHECK(b.out.produce_responses[0].response.partitions[0].error == Errc::request_timed_out);
  CHECK(b.out.produce_responses[0].response.partitions[0].base_offset == 0);  // the data was appended
  CHECK(b.rm.delayed_produce_count() == 0);
}

TEST_CASE("a request over two partitions: the committed one succeeds, the other times out") {
  Leader b({tp, tp1}, {1, 2}, {1, 2}, 1);
  // Follower 2 fetches tp up to 1 at 5 ms, never tp1.
  b.rm.handle_produce(produce(-1, {{tp, batch(1, 100)}, {tp1, batch(1, 100)}}, 100_ms), at(1_ms), b.out);
  b.rm.handle_fetch(follower_fetch(2, 1, 0_ms, -1, tp), at(5_ms), b.out);
  CHECK(b.p(tp).high_watermark() == 1);
  CHECK(b.out.produce_responses.empty());
  b.rm.on_wakeup(at(101_ms), b.out);
  REQUIRE(b.out.produce_responses.size() == 1);
  CHECK(b.out.produce_responses[0].response.partitions[0].error == Errc::none);
  CHECK(b.out.produce_responses[0].response.partitions[1].error == Errc::request_timed_out);
}

TEST_CASE("NOT_ENOUGH_REPLICAS_AFTER_APPEND once the ISR shrank below min after the HW passed the offset") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  b.rm.handle_produce(produce1(1, 10), SimTime::zero(), b.out);
  // Both followers fetch everything at t = 0 (caught up at 0), then stop.
  b.rm.handle_fetch(follower_fetch(2, 10), SimTime::zero(), b.out);
  b.rm.handle_fetch(follower_fetch(3, 10), SimTime::zero(), b.out);
  CHECK(b.p().high_watermark() == 10);
  b.rm.handle_produce(produce1(1, 1), at(1_s), b.out);  // LEO 11: the followers are behind from now on
  b.rm.on_wakeup(at(15_s), b.out);
  b.rm.on_wakeup(at(30_s), b.out);
  b.rm.on_wakeup(at(45_s), b.out);  // 45 - 0 > 30 for both: ISR {1}
  CHECK(b.p().isr() == std::vector<NodeId>{1});
  // With ISR 1 < min 2 the HW stays at 10 although the leader alone has 11 (KAFKA-15583).
  CHECK(b.p().high_watermark() == 10);
  const AckCheck reached = b.p().check_enough_replicas_reach_offset(10);
  CHECK(reached.done);
  CHECK(reached.error == Errc::not_enough_replicas_after_append);
  CHECK_FALSE(b.p().check_enough_replicas_reach_offset(11).done);
}

namespace {

// Brokers 1 and 2 with partition `tp` (RF 2); replicate() runs one fetch of broker 2 from broker 1 with broker 2's
// current fetch state and applies the response on broker 2.
struct LeaderAndFollower {
  BrokerOutbox out1;
  BrokerOutbox out2;
  ReplicaManager b1{broker_config(1, 1), SimTime::zero()};
  ReplicaManager b2{broker_config(2, 1), SimTime::zero()};
  LeaderAndFollower() {
    const PartitionConfig pc;
    b1.add_partition(tp, pc, 1, sim::Rng::stream(1, "log"), SimTime::zero(), out1);
    b2.add_partition(tp, pc, 1, sim::Rng::stream(2, "log"), SimTime::zero(), out2);
  }
  // Epoch 0 with broker 1 leading and 2 following; five records (offsets 0..4) produced to broker 1 at 1 ms.
  void epoch_zero_with_five_records() {
    b1.become_leader(tp, 0, {1, 2}, {1, 2}, SimTime::zero(), out1);
    b2.become_follower(tp, 1, 0, {1, 2}, SimTime::zero(), out2);
    b1.handle_produce(produce1(1, 5), at(1_ms), out1);
  }
  FollowerApplyResult replicate(SimTime now) {
    const FollowerFetchState s = b2.partition(tp)->follower_fetch_state();
    FetchRequest req = follower_fetch(2, s.fetch_offset, 0_ms, s.last_fetched_epoch);
    req.partitions[0].current_leader_epoch = s.current_leader_epoch;
    out1.clear();
    b1.handle_fetch(req, now, out1);
    REQUIRE(out1.fetch_responses.size() == 1);
    return b2.handle_follower_fetch_response(out1.fetch_responses[0].response, now, out2).at(0);
  }
};

}  // namespace

TEST_CASE("follower truncation on a diverging epoch (KIP-595 style, §3.5)") {
  LeaderAndFollower pair;
  auto& [out1, out2, b1, b2] = pair;
  auto replicate = [&](SimTime now) { return pair.replicate(now); };
  // Epoch 0, leader 1: offsets 0..4 replicated to broker 2.
  pair.epoch_zero_with_five_records();
  CHECK(replicate(at(2_ms)).appended);
  CHECK(b2.partition(tp)->log_end_offset() == 5);
  // Epoch 1, leader 2: offsets 5..9 that broker 1 never gets.
  b2.become_leader(tp, 1, {2}, {1, 2}, at(3_ms), out2);
  b2.handle_produce(produce1(1, 5), at(4_ms), out2);
  CHECK(b2.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{0, 0}, {1, 5}});
  // Epoch 2, leader 1 again (it had LEO 5): offsets 5..6 in epoch 2. Broker 1's cache: {0:0, 2:5}.
  b1.become_leader(tp, 2, {1}, {1, 2}, at(5_ms), out1);
  b1.handle_produce(produce1(1, 2), at(6_ms), out1);
  b2.become_follower(tp, 1, 2, {1, 2}, at(7_ms), out2);
  // Broker 2 fetches at 10 with lastFetchedEpoch 1. Leader: endOffsetFor(1) = (floor epoch 0, start of epoch
  // 2 = 5); 0 < 1 -> divergingEpoch (0, 5). Follower: its own endOffsetFor(0) = (0, 5), same epoch ->
  // truncate to min(5, 5, LEO 10) = 5.
  out2.clear();
  const FollowerApplyResult first = replicate(at(8_ms));
  CHECK(first.truncated);
  CHECK(first.truncation_offset == 5);
  CHECK(b2.partition(tp)->log_end_offset() == 5);
  CHECK(b2.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{0, 0}});
  REQUIRE(out2.truncations.size() == 1);
  CHECK(out2.truncations[0].old_log_end_offset == 10);
  CHECK(out2.truncations[0].new_log_end_offset == 5);
  // Next fetch at 5 with lastFetchedEpoch 0: endOffsetFor(0) = (0, 5) does not diverge; batch 5..6 (epoch 2).
  const FollowerApplyResult second = replicate(at(9_ms));
  CHECK(second.appended);
  CHECK(b2.partition(tp)->log_end_offset() == 7);
  CHECK(b2.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{0, 0}, {2, 5}});
  // Broker 1 led epoch 2 with ISR {1} and min ISR 1, so its HW is its LEO, 7. The fetch at 5 is below that
  // HW, so broker 2 stays out of the ISR (§3.4 expand needs LEO >= HW), and its own HW is min(7, LEO 7) = 7.
  CHECK(b1.partition(tp)->isr() == std::vector<NodeId>{1});
  CHECK(b2.partition(tp)->high_watermark() == 7);
  // The fetch at 7 (>= HW 7 and >= epoch start 5) re-admits it.
  replicate(at(10_ms));
  CHECK(b1.partition(tp)->isr() == std::vector<NodeId>{1, 2});
  CHECK(b1.partition(tp)->high_watermark() == 7);
  b1.partition(tp)->check_invariants();
  b2.partition(tp)->check_invariants();
}

namespace {

ListOffsetsRequest list_offsets(std::vector<std::pair<PartitionRef, int64_t>> parts, int32_t current_leader_epoch = -1) {
  ListOffsetsRequest r;
  r.correlation_id = 42;
  r.client_id = consumer_client;
  for (auto& [ref, timestamp] : parts) r.partitions.push_back(ListOffsetsPartitionRequest{ref, current_leader_epoch, timestamp});
  return r;
}

}  // namespace

TEST_CASE("ListOffsets: EARLIEST is the log start offset, LATEST the high watermark (read_uncommitted, §5.7)") {
  // Leader 1 of tp with ISR {1, 2}. 5 records, follower 2 fetches from 5 -> HW = 5; 3 more records -> LEO 8 but
  // the HW stays 5 until the follower fetches again. A DeleteRecords-style move of the log start offset to 3.
  Leader b({tp}, {1, 2}, {1, 2}, 1);
  b.rm.handle_produce(produce1(1, 5), at(1_ms), b.out);
  b.rm.handle_fetch(follower_fetch(2, 5), at(2_ms), b.out);
  b.rm.handle_produce(produce1(1, 3), at(3_ms), b.out);
  REQUIRE(b.p().high_watermark() == 5);
  REQUIRE(b.p().log_end_offset() == 8);
  REQUIRE(b.p().log().maybe_increment_log_start_offset(3, 5) == Errc::none);

  const ListOffsetsResponse r =
      b.rm.handle_list_offsets(list_offsets({{tp, list_offsets_latest_timestamp}, {tp, list_offsets_earliest_timestamp}}));
  CHECK(r.correlation_id == 42);
  REQUIRE(r.partitions.size() == 2);
  CHECK(r.partitions[0].partition == tp);
  CHECK(r.partitions[0].error == Errc::none);
  CHECK(r.partitions[0].offset == 5);  // the HW, not the LEO (8): a consumer never starts past the HW
  CHECK(r.partitions[0].leader_epoch == 0);
  CHECK(r.partitions[1].error == Errc::none);
  CHECK(r.partitions[1].offset == 3);
}

TEST_CASE("ListOffsets errors: unknown partition, not the leader, fenced and unknown leader epochs (KIP-320)") {
  Leader b({tp, tp1}, {1, 2}, {1, 2}, 1);
  b.rm.become_follower(tp1, 2, 1, {1, 2}, at(1_ms), b.out);
  b.rm.become_leader(tp, 3, {1, 2}, {1, 2}, at(1_ms), b.out);
  constexpr PartitionRef unknown{7, 0};
  const ListOffsetsResponse r = b.rm.handle_list_offsets(
      list_offsets({{unknown, list_offsets_latest_timestamp}, {tp1, list_offsets_latest_timestamp}}));
  REQUIRE(r.partitions.size() == 2);
  CHECK(r.partitions[0].partition == unknown);
  CHECK(r.partitions[0].error == Errc::unknown_topic_or_partition);
  CHECK(r.partitions[1].error == Errc::not_leader_or_follower);
  for (const ListOffsetsPartitionResponse& p : r.partitions) CHECK(p.offset == -1);

  CHECK(b.rm.handle_list_offsets(list_offsets({{tp, list_offsets_latest_timestamp}}, 2)).partitions[0].error ==
        Errc::fenced_leader_epoch);
  CHECK(b.rm.handle_list_offsets(list_offsets({{tp, list_offsets_latest_timestamp}}, 4)).partitions[0].error ==
        Errc::unknown_leader_epoch);
  const ListOffsetsResponse current = b.rm.handle_list_offsets(list_offsets({{tp, list_offsets_earliest_timestamp}}, 3));
  CHECK(current.partitions[0].error == Errc::none);
  CHECK(current.partitions[0].offset == 0);
  CHECK(current.partitions[0].leader_epoch == 3);
}

TEST_CASE("the leader-epoch cache is trimmed from the start when retention or DeleteRecords moves the log start") {
  // One replica (ISR {1}, min ISR 1): the HW follows the LEO. segment.bytes = 1000 and batches of 400 B, so a
  // segment holds two batches (a third would take it past 1000 B). Batches of 5 records:
  //   A 0..4 (epoch 0) | B 5..9 (epoch 1)    -> segment 0 = [0, 10), 800 B
  //   C 10..14, D 15..19 (epoch 1)          -> segment 1 = [10, 20), 800 B
  //   E 20..24 (epoch 2)                    -> segment 2 = [20, 25), 400 B
  // so the cache is {0:0, 1:5, 2:20}. retention.bytes = 1200: the excess 2000 - 1200 = 800 B covers segment 0
  // only, so the log starts at 10. LeaderEpochFileCache.truncateFromStart(10) removes the entries starting at or
  // below 10 ({0:0}, {1:5}) and puts back the latest of them moved to 10: {1:10, 2:20}.
  BrokerOutbox out;
  ReplicaManager rm(broker_config(1, 1), SimTime::zero());
  PartitionConfig pc;
  pc.log = rm.default_log_config();
  pc.log.segment_bytes = 1000;
  pc.log.retention_bytes = 1200;
  pc.log.retention_ms = -1;
  rm.add_partition(tp, pc, 1, sim::Rng::stream(3, "log"), SimTime::zero(), out);
  rm.become_leader(tp, 0, {1}, {1}, SimTime::zero(), out);
  rm.handle_produce(produce1(1, 5, 400), at(1_ms), out);
  rm.become_leader(tp, 1, {1}, {1}, at(2_ms), out);
  for (int i = 0; i < 3; ++i) rm.handle_produce(produce1(1, 5, 400), at(3_ms), out);
  rm.become_leader(tp, 2, {1}, {1}, at(4_ms), out);
  rm.handle_produce(produce1(1, 5, 400), at(5_ms), out);
  Partition& p = *rm.partition(tp);
  REQUIRE(p.log_end_offset() == 25);
  REQUIRE(p.high_watermark() == 25);
  REQUIRE(p.log().segments().size() == 3);
  REQUIRE(p.epoch_cache().entries() == std::vector<EpochEntry>{{0, 0}, {1, 5}, {2, 20}});

  StorageOps ops;
  std::vector<RecordBatch> deleted;
  const RetentionResult r = p.delete_old_segments(at(6_ms), ops, &deleted);
  CHECK(r.deleted_by_size == 1);
  CHECK(p.log_start_offset() == 10);
  CHECK(p.epoch_cache().entries() == std::vector<EpochEntry>{{1, 10}, {2, 20}});
  // The deleted segment's batches are reported oldest first.
  REQUIRE(deleted.size() == 2);
  CHECK(deleted[0].base_offset == 0);
  CHECK(deleted[1].base_offset == 5);

  // DeleteRecords to 22 (below the HW 25): epoch 1 is wholly below and goes, epoch 2 now starts at 22.
  CHECK(p.maybe_increment_log_start_offset(22) == Errc::none);
  CHECK(p.log_start_offset() == 22);
  CHECK(p.epoch_cache().entries() == std::vector<EpochEntry>{{2, 22}});
  // Above the HW: OFFSET_OUT_OF_RANGE and nothing changes. Lower than the start: nothing changes.
  CHECK(p.maybe_increment_log_start_offset(26) == Errc::offset_out_of_range);
  CHECK(p.maybe_increment_log_start_offset(15) == Errc::none);
  CHECK(p.log_start_offset() == 22);
  CHECK(p.epoch_cache().entries() == std::vector<EpochEntry>{{2, 22}});
  p.check_invariants();
}

TEST_CASE("a follower that follows the leader's log start offset trims its leader-epoch cache too") {
  // Leader 1 and follower 2. Epoch 0: offsets 0..4; epoch 1: 5..9, all replicated, so the follower's cache is
  // {0:0, 1:5}. DeleteRecords on the leader to 7; the next fetch response carries logStartOffset 7, which the
  // follower adopts (<= its HW 10), and truncateFromStart(7) leaves {1:7}.
  LeaderAndFollower pair;
  auto& [out1, out2, b1, b2] = pair;
  auto replicate = [&](SimTime now) { return pair.replicate(now); };
  pair.epoch_zero_with_five_records();
  b1.become_leader(tp, 1, {1, 2}, {1, 2}, at(2_ms), out1);
  b2.become_follower(tp, 1, 1, {1, 2}, at(2_ms), out2);
  b1.handle_produce(produce1(1, 5), at(3_ms), out1);
  replicate(at(4_ms));  // appends 0..9
  // The fetch at 10 raises the leader's HW to 10 after its read (Partition.fetchRecords reads, then updates the
  // follower's state), so the next response is the first to carry HW 10.
  replicate(at(5_ms));
  replicate(at(5_ms));
  REQUIRE(b2.partition(tp)->log_end_offset() == 10);
  REQUIRE(b2.partition(tp)->high_watermark() == 10);
  REQUIRE(b2.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{0, 0}, {1, 5}});

  REQUIRE(b1.partition(tp)->maybe_increment_log_start_offset(7) == Errc::none);
  CHECK(b1.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{1, 7}});
  replicate(at(6_ms));
  CHECK(b2.partition(tp)->log_start_offset() == 7);
  CHECK(b2.partition(tp)->epoch_cache().entries() == std::vector<EpochEntry>{{1, 7}});
  b1.partition(tp)->check_invariants();
  b2.partition(tp)->check_invariants();
}

TEST_CASE("a parked follower fetch whose segment retention rolled completes at the next check of any of its partitions") {
  // Leader of tp and tp1 since 0 s, replicas {1, 2, 3}, ISR {1, 3}, retention.ms = 0. Everything happens 40 s
  // later, so follower 2, catching up from offset 0, was never caught up and does not hold the HW back (§3.3
  // rule 2). Worked out from §2.5, §2.8, §3.3 and §3.4 (times after 40 s):
  //  1 ms: 5 records (400 B) to each partition: both LEOs 5, HWs 0 (follower 3's LEOs are unknown).
  //  2 ms: follower 3 fetches tp@5, tp1@5 (max_wait 0): both HWs become 5.
  //  2.5 ms: 5 more records (400 B) to tp1: its LEO is 10, its HW stays 5.
  //  3 ms: follower 2 fetches tp@0, tp1@0 with fetch.min.bytes 1,000,000 and up to 60 s: below both HWs, so it
  //        does not join the ISR; 1,200 B are readable, too few, so the fetch is parked, both fetch offsets in
  //        the partitions' first segments.
  //  4 ms: retention on tp: HW = LEO, so the active segment, older than retention.ms = 0, is deleted after a roll
  //        to a new segment at 5. tp's log end now lies in a newer segment than follower 2's fetch offset:
  //        DelayedFetch.tryComplete's case F, but retention does not check the purgatory.
  //  5 ms: follower 3 fetches tp1@10: tp1's HW rises 5 -> 10, and the purgatory checks the fetches watching tp1.
  //        Follower 2's is one; tp1's 800 B are too few, but the walk reaches tp, finds case F and completes the
  //        fetch now, not at 60 s.
  BrokerOutbox out;
  ReplicaManager rm(broker_config(1, 1), SimTime::zero());
  for (const PartitionRef ref : {tp, tp1}) {
    PartitionConfig pc;
    pc.log = rm.default_log_config();
    pc.log.retention_ms = 0;
    pc.log.retention_bytes = -1;
    rm.add_partition(ref, pc, static_cast<uint32_t>(ref.partition + 1), sim::Rng::stream(3, "log"), SimTime::zero(),
                     out);
    rm.become_leader(ref, 0, {1, 3}, {1, 2, 3}, SimTime::zero(), out);
  }
  auto fetch = [](NodeId replica, int64_t tp_offset, int64_t tp1_offset, Duration max_wait, int32_t min_bytes) {
    FetchRequest r = follower_fetch(replica, tp_offset, max_wait, -1, tp);
    r.partitions.push_back(follower_fetch(replica, tp1_offset, max_wait, -1, tp1).partitions[0]);
    r.min_bytes = min_bytes;
    return r;
  };
  rm.handle_produce(produce(1, {{tp, batch(5, 400)}, {tp1, batch(5, 400)}}), at(40_s + 1_ms), out);
  rm.handle_fetch(fetch(3, 5, 5, 0_ms, 1), at(40_s + 2_ms), out);
  rm.handle_produce(produce(1, {{tp1, batch(5, 400)}}), at(40_s + 2500_us), out);
  REQUIRE(rm.partition(tp)->high_watermark() == 5);
  REQUIRE(rm.partition(tp1)->high_watermark() == 5);
  out.clear();
  rm.handle_fetch(fetch(2, 0, 0, 60_s, 1'000'000), at(40_s + 3_ms), out);
  REQUIRE(out.fetch_responses.empty());
  REQUIRE(rm.delayed_fetch_count() == 1);
  REQUIRE(rm.partition(tp1)->isr() == std::vector<NodeId>{1, 3});

  StorageOps ops;
  const RetentionResult r = rm.delete_old_segments(tp, at(40_s + 4_ms), ops, nullptr);
  REQUIRE(r.deleted_by_time == 1);
  REQUIRE(rm.partition(tp)->log_start_offset() == 5);
  CHECK(rm.delayed_fetch_count() == 1);  // retention alone completes nothing

  rm.handle_fetch(fetch(3, 5, 10, 0_ms, 1), at(40_s + 5_ms), out);
  CHECK(rm.partition(tp1)->high_watermark() == 10);
  CHECK(rm.delayed_fetch_count() == 0);
  bool follower_2_answered = false;
  for (const OutgoingFetchResponse& f : out.fetch_responses) follower_2_answered |= f.destination == 2;
  CHECK(follower_2_answered);
}

TEST_CASE("fetch max_bytes is shared by the partitions in request order; the first with data may exceed it (KIP-74)") {
  Leader b({tp, tp1}, {1}, {1}, 1);
  // Three 1000-byte batches in each partition (RF = 1: committed at once).
  three_batches_each(b);
  REQUIRE(b.p(tp).high_watermark() == 30);
  REQUIRE(b.p(tp1).high_watermark() == 30);
  // 2500 bytes: tp returns the two whole batches that fit (2000 bytes); only the first partition with data may go
  // over the limit with one batch.
  b.out.clear();
  b.rm.handle_fetch(fetch_both(consumer_replica_id, 2500), at(2_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  const auto& parts = b.out.fetch_responses[0].response.partitions;
  auto of = [&](PartitionRef ref) -> const FetchPartitionResponse& {
    for (const auto& p : parts)
      if (p.partition == ref) return p;
    FAIL("partition missing from the response");
    return parts.front();
  };
  CHECK(base_offsets(of(tp)) == std::vector<int64_t>{0, 10});
  // The file slice sent is the whole 2500 bytes (LogSegment.read slices up to maxSize, cutting the third batch;
  // the consumer drops the partial batch), which leaves nothing for tp1.
  CHECK(of(tp).slice.bytes == 2500);
  CHECK(of(tp1).batches.empty());
  CHECK(of(tp1).slice.bytes == 0);
  // 500 bytes, less than one batch: tp still returns its first batch whole (minOneMessage), tp1 nothing.
  b.out.clear();
  b.rm.handle_fetch(fetch_both(consumer_replica_id, 500), at(3_ms), b.out);
  REQUIRE(b.out.fetch_responses.size() == 1);
  const auto& small = b.out.fetch_responses[0].response.partitions;
  for (const auto& p : small) {
    if (p.partition == tp) {
      CHECK(base_offsets(p) == std::vector<int64_t>{0});
      CHECK(p.slice.bytes == 1000);  // adjustedMaxSize = max(maxSize, the first batch's size)
    } else {
      CHECK(p.batches.empty());
    }
  }
}

TEST_CASE("broker fetch.max.bytes caps every fetch's max_bytes, and its min_bytes with it") {
  // KafkaApis.handleFetchRequest: fetchMaxBytes = min(request.maxBytes, fetch.max.bytes) and fetchMinBytes =
  // min(request.minBytes, fetchMaxBytes), for consumer and follower fetches alike. With a 2500-byte cap and three
  // 1000-byte batches in each of two partitions, a consumer asking for 50 MiB and a follower asking for 10 MiB both
  // get what a 2500-byte request gets (the test above): two whole batches of the first partition, in a 2500-byte
  // slice, and nothing of the second.
  BrokerConfig config = broker_config(1, 1);
  config.fetch_max_bytes = 2500;
  Leader b({tp, tp1}, {1}, {1, 2}, 1, config);
  three_batches_each(b);
  REQUIRE(b.p(tp).high_watermark() == 30);
  for (const auto& [replica, max_bytes] : {std::pair{consumer_replica_id, 52'428'800}, std::pair{NodeId{2}, 10'485'760}}) {
    CAPTURE(replica);
    b.out.clear();
    b.rm.handle_fetch(fetch_both(replica, max_bytes), at(2_ms), b.out);
    REQUIRE(b.out.fetch_responses.size() == 1);
    const auto& parts = b.out.fetch_responses[0].response.partitions;
    REQUIRE(parts.size() == 2);
    CHECK(base_offsets(parts[0]) == std::vector<int64_t>{0, 10});
    CHECK(parts[0].slice.bytes == 2500);
    CHECK(parts[1].batches.empty());
  }
  // 3000 bytes readable: a consumer's min_bytes of 5000 would park the fetch, but capped at 2500 it is met now.
  b.out.clear();
  b.rm.handle_fetch(consumer_fetch({tp}, 0, 5000, 500_ms), at(3_ms), b.out);
  CHECK(b.out.fetch_responses.size() == 1);
  CHECK(b.rm.delayed_fetch_count() == 0);
  // Under Kafka's default cap (55 MiB) the same fetch waits.
  Leader d({tp}, {1}, {1}, 1);
  for (int i = 0; i < 3; ++i) d.rm.handle_produce(produce1(1, 10, 1000), at(1_ms), d.out);
  d.out.clear();
  d.rm.handle_fetch(consumer_fetch({tp}, 0, 5000, 500_ms), at(3_ms), d.out);
  CHECK(d.out.fetch_responses.empty());
  CHECK(d.rm.delayed_fetch_count() == 1);
}

TEST_CASE("ListOffsets by timestamp: the first batch whose max timestamp reaches it, below the HW, else -1") {
  // Three batches of 4 records with max timestamps 10 ms, 20.7 ms and 30 ms (CreateTime); the follower has fetched
  // the first two (HW 8), the third is above the HW. Timestamps compare in whole milliseconds.
  Leader b({tp}, {1, 2}, {1, 2}, 1);
  for (const Duration t : {10_ms, Duration::from_us(20'700), 30_ms}) {
    ProduceRequest r = produce1(1, 4);
    r.partitions[0].batch.max_timestamp = at(t);
    b.rm.handle_produce(r, at(t), b.out);
  }
  b.rm.handle_fetch(follower_fetch(2, 8), at(31_ms), b.out);
  REQUIRE(b.p().high_watermark() == 8);
  REQUIRE(b.p().log_end_offset() == 12);
  auto offset_for = [&](int64_t ms) {  // `ms` on the simulated clock; the request carries epoch ms
    const ListOffsetsResponse r = b.rm.handle_list_offsets(list_offsets({{tp, simulated_epoch_ms + ms}}));
    REQUIRE(r.partitions.size() == 1);
    CHECK(r.partitions[0].error == Errc::none);  // not found is an answer, not an error
    return r.partitions[0].offset;
  };
  CHECK(offset_for(0) == 0);
  CHECK(offset_for(10) == 0);
  CHECK(offset_for(11) == 4);
  CHECK(offset_for(20) == 4);  // 20.7 ms is 20 in milliseconds
  CHECK(offset_for(21) == -1);  // only the batch at 30 ms reaches it, and it is above the HW
  CHECK(offset_for(31) == -1);  // no record that recent
  // Once the follower has the third batch the HW passes it and a consumer may start there.
  b.rm.handle_fetch(follower_fetch(2, 12), at(32_ms), b.out);
  CHECK(offset_for(21) == 8);
  // The log start offset moved into the second batch: the answer never lies below it.
  REQUIRE(b.p().log().maybe_increment_log_start_offset(6, 12) == Errc::none);
  CHECK(offset_for(0) == 6);
  CHECK(offset_for(11) == 6);
}

// ---- DeleteRecords (KIP-107; kafka-behaviour-2.md §16.4) ----

namespace {

DeleteRecordsRequest delete_records(std::vector<DeleteRecordsPartition> partitions, int32_t timeout_ms = 60'000) {
  DeleteRecordsRequest r;
  r.correlation_id = 7;
  r.partitions = std::move(partitions);
  r.timeout_ms = timeout_ms;
  return r;
}

// A follower's fetch at `offset` reporting its own log start offset, as ReplicaFetcherThread sends it.
FetchRequest follower_fetch_from(NodeId replica, int64_t offset, int64_t log_start_offset) {
  FetchRequest r = follower_fetch(replica, offset);
  r.partitions[0].log_start_offset = log_start_offset;
  return r;
}

// Ten records (offsets 0..9) on an RF=3 leader, replicated and committed: LEO = HW = 10, and both followers' log
// start offsets known to the leader as 0.
void ten_committed(Leader& b) {
  produce_and_replicate(b, 10, at(1_ms));
  REQUIRE(b.p().high_watermark() == 10);
  b.out.clear();
}

}  // namespace

TEST_CASE("DeleteRecords moves the leader's log start at once and answers when every replica's log start is there") {
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  ten_committed(b);
  // deleteRecordsOnLeader: log start 0 -> 4 now; the low watermark is min(4, 0, 0) = 0 < 4, so the request waits.
  b.rm.handle_delete_records(delete_records({{tp, 4}}), at(10_ms), b.out);
  CHECK(b.p().log_start_offset() == 4);
  CHECK(b.p().low_watermark() == 0);
  CHECK(b.out.delete_records_responses.empty());
  CHECK(b.rm.delayed_delete_records_count() == 1);
  // A consumer can no longer read below it (§2.8: OFFSET_OUT_OF_RANGE below the log start).
  CHECK(b.fetch(consumer_fetch({tp}, 0), at(11_ms)).partitions[0].error == Errc::offset_out_of_range);
  // Follower 2's next fetch (still reporting 0) carries the leader's new log start back to it.
  const FetchResponse r2 = b.fetch(follower_fetch_from(2, 10, 0), at(12_ms));
  CHECK(r2.partitions[0].log_start_offset == 4);
  CHECK(b.out.delete_records_responses.empty());
  // Its fetch after that reports 4: min(4, 4, 0) = 0, still waiting for follower 3.
  b.fetch(follower_fetch_from(2, 10, 4), at(13_ms));
  CHECK(b.p().low_watermark() == 0);
  CHECK(b.out.delete_records_responses.empty());
  // Follower 3 reports 4: min(4, 4, 4) = 4 reaches the offset, and the request is answered with it.
  b.fetch(follower_fetch_from(3, 10, 4), at(14_ms));
  REQUIRE(b.out.delete_records_responses.size() == 1);
  const DeleteRecordsResponse& r = b.out.delete_records_responses[0];
  CHECK(r.correlation_id == 7);
  REQUIRE(r.partitions.size() == 1);
  CHECK(r.partitions[0].error == Errc::none);
  CHECK(r.partitions[0].low_watermark == 4);
  CHECK(b.rm.delayed_delete_records_count() == 0);
  b.p().check_invariants();
}

TEST_CASE("DeleteRecords: -1 is the high watermark; errors are answered at once, each partition on its own") {
  Leader b({tp, tp1}, {1, 2, 3}, {1, 2, 3}, 2);
  ten_committed(b);
  // tp at the HW (10); tp1 has nothing committed (HW 0), so 5 is above it; partition 9 is not hosted here.
  b.rm.handle_delete_records(delete_records({{tp, -1}, {tp1, 5}, {PartitionRef{0, 9}, 1}}), at(10_ms), b.out);
  CHECK(b.p().log_start_offset() == 10);
  CHECK(b.p(tp1).log_start_offset() == 0);
  CHECK(b.out.delete_records_responses.empty());  // tp waits for the followers
  b.fetch(follower_fetch_from(2, 10, 10), at(11_ms));
  b.fetch(follower_fetch_from(3, 10, 10), at(12_ms));
  REQUIRE(b.out.delete_records_responses.size() == 1);
  const auto& parts = b.out.delete_records_responses[0].partitions;
  REQUIRE(parts.size() == 3);  // in request order
  CHECK(parts[0].error == Errc::none);
  CHECK(parts[0].low_watermark == 10);
  CHECK(parts[1].error == Errc::offset_out_of_range);
  CHECK(parts[1].low_watermark == -1);
  CHECK(parts[2].partition == PartitionRef{0, 9});
  CHECK(parts[2].error == Errc::unknown_topic_or_partition);

  // Without followers the low watermark is the leader's own log start: answered at once.
  Leader solo({tp}, {1}, {1}, 1);
  solo.rm.handle_produce(produce1(1, 10), at(1_ms), solo.out);
  solo.out.clear();
  solo.rm.handle_delete_records(delete_records({{tp, 6}}), at(2_ms), solo.out);
  REQUIRE(solo.out.delete_records_responses.size() == 1);
  CHECK(solo.out.delete_records_responses[0].partitions[0].error == Errc::none);
  CHECK(solo.out.delete_records_responses[0].partitions[0].low_watermark == 6);
  // An offset below the log start is not an error and moves nothing (maybeIncrementLogStartOffset only raises it).
  solo.out.clear();
  solo.rm.handle_delete_records(delete_records({{tp, 3}}), at(3_ms), solo.out);
  REQUIRE(solo.out.delete_records_responses.size() == 1);
  CHECK(solo.out.delete_records_responses[0].partitions[0].low_watermark == 6);
  CHECK(solo.p().log_start_offset() == 6);
}

TEST_CASE("DeleteRecords: a follower and a compacted log refuse; an unanswered request times out") {
  // A follower replica answers NOT_LEADER_OR_FOLLOWER.
  ReplicaManager follower(broker_config(2, 1), SimTime::zero());
  BrokerOutbox out;
  PartitionConfig pc;
  pc.log = follower.default_log_config();
  follower.add_partition(tp, pc, 1, sim::Rng::stream(7, "log"), SimTime::zero(), out);
  follower.become_follower(tp, 1, 0, {1, 2, 3}, SimTime::zero(), out);
  out.clear();
  follower.handle_delete_records(delete_records({{tp, 0}}), at(1_ms), out);
  REQUIRE(out.delete_records_responses.size() == 1);
  CHECK(out.delete_records_responses[0].partitions[0].error == Errc::not_leader_or_follower);

  // cleanup.policy=compact (no "delete"): POLICY_VIOLATION, the log start unmoved.
  ReplicaManager compacted(broker_config(1, 1), SimTime::zero());
  pc.log = compacted.default_log_config();
  pc.log.cleanup_policy_delete = false;
  compacted.add_partition(tp, pc, 1, sim::Rng::stream(7, "log"), SimTime::zero(), out);
  compacted.become_leader(tp, 0, {1}, {1}, SimTime::zero(), out);
  compacted.handle_produce(produce1(1, 10), at(1_ms), out);
  out.clear();
  compacted.handle_delete_records(delete_records({{tp, 5}}), at(2_ms), out);
  REQUIRE(out.delete_records_responses.size() == 1);
  CHECK(out.delete_records_responses[0].partitions[0].error == Errc::policy_violation);
  CHECK(compacted.partition(tp)->log_start_offset() == 0);

  // Followers that never fetch again: the request expires at its timeout with REQUEST_TIMED_OUT and the low
  // watermark of when it was taken (the followers' 0).
  Leader b({tp}, {1, 2, 3}, {1, 2, 3}, 2);
  ten_committed(b);
  b.rm.handle_delete_records(delete_records({{tp, 4}}, 1'000), at(10_ms), b.out);
  CHECK(b.rm.next_wakeup() <= at(1010_ms));
  b.rm.on_wakeup(at(1009_ms), b.out);
  CHECK(b.out.delete_records_responses.empty());
  b.rm.on_wakeup(at(1010_ms), b.out);
  REQUIRE(b.out.delete_records_responses.size() == 1);
  CHECK(b.out.delete_records_responses[0].partitions[0].error == Errc::request_timed_out);
  CHECK(b.out.delete_records_responses[0].partitions[0].low_watermark == 0);
  CHECK(b.rm.delayed_delete_records_count() == 0);
  CHECK(b.p().log_start_offset() == 4);  // the deletion itself stays
}
