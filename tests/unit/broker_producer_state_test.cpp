// The broker's idempotent-producer state (reference/kafka-behaviour.md §1.7 "Broker"): de-duplication against
// the last five batches, the epoch check and the sequence check, with expectations read off those rules.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "kafkasim/kafka/broker/producer_state.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;

namespace {

RecordBatch batch(int64_t pid, int16_t epoch, int32_t first_seq, int32_t count, int64_t base_offset = -1) {
  RecordBatch b;
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.base_sequence = first_seq;
  b.record_count = count;
  b.size_bytes = 100;
  b.base_offset = base_offset;
  return b;
}

}  // namespace

TEST_CASE("producer state: an unknown producer may start at any sequence; then sequences must follow on") {
  ProducerStateManager s;
  CHECK(s.check_client_batch(batch(7, 0, 40, 10)).error == Errc::none);  // KIP-360: no state, any sequence
  s.on_appended(batch(7, 0, 40, 10, 100));                               // sequences 40..49 at offsets 100..109
  CHECK(s.check_client_batch(batch(7, 0, 50, 5)).error == Errc::none);
  CHECK(s.check_client_batch(batch(7, 0, 51, 5)).error == Errc::out_of_order_sequence_number);  // a gap
  CHECK(s.check_client_batch(batch(7, 0, 45, 5)).error == Errc::out_of_order_sequence_number);  // overlaps, not equal
  // Batches without a producer id are never checked.
  CHECK(s.check_client_batch(batch(-1, -1, -1, 3)).error == Errc::none);
}

TEST_CASE("producer state: a retried batch with the exact sequence range of one of the last five is a duplicate") {
  ProducerStateManager s;
  for (int32_t i = 0; i < 6; ++i) s.on_appended(batch(7, 0, 10 * i, 10, 1000 + 10 * i));  // seqs 0..59
  // Batches 2..6 (sequences 10..59) are retained; the first (0..9) was evicted.
  const ProducerCheck dup = s.check_client_batch(batch(7, 0, 20, 10));
  REQUIRE(dup.duplicate_of.has_value());
  CHECK(dup.error == Errc::none);
  CHECK(dup.duplicate_of->first_offset() == 1020);
  CHECK(dup.duplicate_of->last_offset == 1029);
  REQUIRE(s.find(7) != nullptr);
  CHECK(s.find(7)->batches.size() == producer_batches_to_retain);
  // The evicted batch is no longer recognised: it is out of order now.
  const ProducerCheck old = s.check_client_batch(batch(7, 0, 0, 10));
  CHECK_FALSE(old.duplicate_of.has_value());
  CHECK(old.error == Errc::out_of_order_sequence_number);
  // A different range over the same records is not a duplicate either.
  CHECK_FALSE(s.check_client_batch(batch(7, 0, 20, 5)).duplicate_of.has_value());
  // Truncating below the two newest (offsets 1040..1059) leaves the three before them, oldest first.
  s.truncate_to(1040);
  REQUIRE(s.find(7) != nullptr);
  REQUIRE(s.find(7)->batches.size() == 3);
  CHECK(s.find(7)->batches[0].first_seq == 10);
  CHECK(s.find(7)->batches.back().last_seq == 39);
  CHECK(s.check_client_batch(batch(7, 0, 40, 10)).error == Errc::none);  // the truncated range may come again
}

TEST_CASE("producer state: producers are kept apart, whatever order they first append in") {
  ProducerStateManager s;
  for (const int64_t id : {9, 3, 7, 5}) s.on_appended(batch(id, 0, 0, static_cast<int32_t>(id), 100 * id));
  CHECK(s.producer_count() == 4);
  for (const int64_t id : {3, 5, 7, 9}) {
    REQUIRE(s.find(id) != nullptr);
    CHECK(s.find(id)->batches.back().last_seq == id - 1);
    CHECK(s.check_client_batch(batch(id, 0, static_cast<int32_t>(id), 1)).error == Errc::none);
  }
  CHECK(s.find(4) == nullptr);
  // Retention forgets the producers whose newest batch is below the new log start (3 at 300..302, 5 at 500..504).
  s.on_log_start_offset(600);
  CHECK(s.producer_count() == 2);
  CHECK(s.find(3) == nullptr);
  CHECK(s.find(5) == nullptr);
  CHECK(s.find(7) != nullptr);
}

TEST_CASE("producer state: epochs — an older one is fenced, a newer one starts at sequence 0 and clears the batches") {
  ProducerStateManager s;
  s.on_appended(batch(7, 3, 0, 10, 0));
  CHECK(s.check_client_batch(batch(7, 2, 10, 10)).error == Errc::invalid_producer_epoch);
  CHECK(s.check_client_batch(batch(7, 4, 10, 10)).error == Errc::out_of_order_sequence_number);
  CHECK(s.check_client_batch(batch(7, 4, 0, 10)).error == Errc::none);
  s.on_appended(batch(7, 4, 0, 10, 10));
  CHECK(s.find(7)->epoch == 4);
  CHECK(s.find(7)->batches.size() == 1);
  // The old epoch's batch is no duplicate under the new epoch.
  CHECK(s.check_client_batch(batch(7, 3, 0, 10)).error == Errc::invalid_producer_epoch);
}

TEST_CASE("producer state: sequences wrap from Integer.MAX_VALUE to 0") {
  ProducerStateManager s;
  const int32_t max = std::numeric_limits<int32_t>::max();
  s.on_appended(batch(7, 0, max - 9, 10, 0));  // last sequence = Integer.MAX_VALUE
  CHECK(s.check_client_batch(batch(7, 0, 0, 10)).error == Errc::none);
  s.on_appended(batch(7, 0, max - 4, 10, 10));  // 5 below the top, wrapping to 4
  CHECK(s.find(7)->batches.back().last_seq == 4);
  CHECK(s.check_client_batch(batch(7, 0, 5, 1)).error == Errc::none);
}

TEST_CASE("producer state: truncation drops batches above the new end; retention forgets producers below the start") {
  ProducerStateManager s;
  s.on_appended(batch(7, 0, 0, 10, 0));    // offsets 0..9
  s.on_appended(batch(7, 0, 10, 10, 10));  // 10..19
  s.on_appended(batch(8, 0, 0, 5, 20));    // 20..24
  s.truncate_to(15);  // the follower's log now ends at 15: 10..19 and 20..24 are gone
  REQUIRE(s.find(7) != nullptr);
  CHECK(s.find(7)->batches.back().last_seq == 9);
  CHECK(s.find(8) == nullptr);  // nothing of producer 8 is left: unknown again
  CHECK(s.check_client_batch(batch(7, 0, 10, 10)).error == Errc::none);  // the truncated batch may come again
  s.on_log_start_offset(10);  // producer 7's newest batch ends at 9
  CHECK(s.find(7) == nullptr);
  CHECK(s.producer_count() == 0);
}
