// The group coordinator's write path (kafka/broker/coordinator_writes.hpp): writes linger per __consumer_offsets
// partition and are appended as one batch, are answered when the high watermark passes their batch, fail with the
// append's error or on their timeout, with GroupCoordinatorService.handleOperationException's mapping; and the
// size of the OffsetCommit records (group_coordinator_key.hpp), from the record schemas.
#include <doctest/doctest.h>

#include <vector>

#include "kafkasim/kafka/broker/coordinator_writes.hpp"
#include "kafkasim/kafka/broker/group_coordinator_key.hpp"

using namespace kafkasim::kafka;
using Completions = std::vector<CoordinatorWrites::Completion>;

namespace {
std::vector<uint64_t> ids(const Completions& c) {
  std::vector<uint64_t> out;
  for (const auto& x : c) out.push_back(x.write_id);
  return out;
}
}  // namespace

TEST_CASE("coordinator writes: one batch per linger, answered once the high watermark passes it") {
  CoordinatorWrites w;
  CHECK(w.open_records(5) == 0);
  CHECK(w.write(5, 1, 3, 150));   // opens the batch
  CHECK(w.open_records(5) == 3);
  CHECK_FALSE(w.write(5, 2, 2, 100));  // joins it
  CHECK(w.write(7, 3, 1, 50));    // another partition, its own batch
  const auto batch = w.take_batch(5);
  CHECK(batch.partition == 5);
  CHECK(batch.records == 5);
  CHECK(batch.record_bytes == 250);
  CHECK(w.open_records(5) == 0);
  Completions out;
  w.on_appended(batch.batch_id, Errc::none, 5, out);  // offsets 0..4
  CHECK(out.empty());
  w.on_high_watermark(5, 4, out);  // offset 4 not yet replicated
  CHECK(out.empty());
  w.on_high_watermark(7, 100, out);  // another partition's high watermark answers nothing here
  CHECK(out.empty());
  w.on_high_watermark(5, 5, out);
  CHECK(ids(out) == std::vector<uint64_t>{1, 2});
  for (const auto& c : out) CHECK(c.error == Errc::none);
  CHECK(w.unsettled() == 1);  // write 3 still lingers
  // A new write after the linger opens a new batch.
  CHECK(w.write(5, 4, 1, 50));
}

TEST_CASE("coordinator writes: batches of a partition complete in offset order") {
  CoordinatorWrites w;
  Completions out;
  w.write(0, 1, 2, 100);
  const auto a = w.take_batch(0);
  w.on_appended(a.batch_id, Errc::none, 2, out);
  w.write(0, 2, 3, 150);
  const auto b = w.take_batch(0);
  w.on_appended(b.batch_id, Errc::none, 5, out);
  w.on_high_watermark(0, 3, out);
  CHECK(ids(out) == std::vector<uint64_t>{1});
  out.clear();
  w.on_high_watermark(0, 5, out);
  CHECK(ids(out) == std::vector<uint64_t>{2});
  CHECK(w.unsettled() == 0);
}

TEST_CASE("coordinator writes: an append error fails the batch's writes at once, mapped for the client") {
  // GroupCoordinatorService.handleOperationException.
  CHECK(coordinator_error(Errc::not_enough_replicas) == Errc::coordinator_not_available);
  CHECK(coordinator_error(Errc::request_timed_out) == Errc::coordinator_not_available);
  CHECK(coordinator_error(Errc::unknown_topic_or_partition) == Errc::coordinator_not_available);
  CHECK(coordinator_error(Errc::not_leader_or_follower) == Errc::not_coordinator);
  CHECK(coordinator_error(Errc::kafka_storage_error) == Errc::not_coordinator);
  CHECK(coordinator_error(Errc::message_too_large) == Errc::unknown_server_error);
  CHECK(coordinator_error(Errc::record_list_too_large) == Errc::unknown_server_error);
  CHECK(coordinator_error(Errc::invalid_record) == Errc::invalid_record);
  CoordinatorWrites w;
  w.write(3, 1, 1, 50);
  w.write(3, 2, 1, 50);
  const auto batch = w.take_batch(3);
  Completions out;
  w.on_appended(batch.batch_id, Errc::not_leader_or_follower, -1, out);
  REQUIRE(out.size() == 2);
  for (const auto& c : out) CHECK(c.error == Errc::not_coordinator);
  CHECK(w.unsettled() == 0);
  // A later high watermark answers nothing more.
  out.clear();
  w.on_high_watermark(3, 1000, out);
  CHECK(out.empty());
}

TEST_CASE("coordinator writes: a timeout fails only the writes not settled yet; their records stay in the batch") {
  CoordinatorWrites w;
  Completions out;
  w.write(1, 1, 2, 100);
  w.write(1, 2, 2, 100);
  w.on_timeout(1, out);  // still lingering
  REQUIRE(out.size() == 1);
  CHECK(out[0].write_id == 1);
  CHECK(out[0].error == Errc::coordinator_not_available);  // REQUEST_TIMED_OUT, mapped
  out.clear();
  const auto batch = w.take_batch(1);
  CHECK(batch.records == 4);  // the timed-out write's records are appended all the same
  w.on_appended(batch.batch_id, Errc::none, 4, out);
  w.on_high_watermark(1, 4, out);
  CHECK(ids(out) == std::vector<uint64_t>{2});
  out.clear();
  w.on_timeout(2, out);  // settled before: nothing
  CHECK(out.empty());
  CHECK(w.unsettled() == 0);
}

TEST_CASE("coordinator writes: the OffsetCommit record's size from the key and value schemas") {
  // "my-group" (8 bytes) committing "events" (6): key 2 + (2 + 8) + (2 + 6) + 4 = 24 bytes, value 2 + 8 + 4 + 2 + 8
  // = 24 bytes.
  const RecordShape shape = offset_commit_record_shape(8, 6);
  CHECK(shape.key_bytes == 24);
  CHECK(shape.value_bytes == 24);
  // In the batch: attributes 1, timestamp delta 0 (1), offset delta (1 byte below 64), key 1 + 24, value 1 + 24,
  // header count 1: a body of 54 bytes after its 1-byte length, 55 in all.
  CHECK(offset_commit_records_bytes(0, 1, shape) == 55);
  CHECK(offset_commit_records_bytes(0, 3, shape) == 3 * 55);
  // From offset delta 64 the delta's zigzag varint takes two bytes.
  CHECK(offset_commit_records_bytes(63, 2, shape) == 55 + 56);
}
