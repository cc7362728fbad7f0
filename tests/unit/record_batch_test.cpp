// Size accounting of the v2 record format. Every expected number is derived by hand from the field list in
// reference/kafka-behaviour.md §1.5 (DefaultRecord / DefaultRecordBatch), written out next to each check.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include <cstdint>
#include <limits>

#include "kafkasim/kafka/producer/record_batch.hpp"

using namespace kafkasim::kafka;

TEST_CASE("zigzag varint sizes at the 7-bit group boundaries") {
  // Zigzag: v >= 0 -> 2v, v < 0 -> -2v - 1. One byte holds 7 bits (0..127), two 14 bits (..16383), etc.
  CHECK(varint_size_bytes(0) == 1);        // 0
  CHECK(varint_size_bytes(-1) == 1);       // 1
  CHECK(varint_size_bytes(1) == 1);        // 2
  CHECK(varint_size_bytes(63) == 1);       // 126
  CHECK(varint_size_bytes(64) == 2);       // 128
  CHECK(varint_size_bytes(-64) == 1);      // 127
  CHECK(varint_size_bytes(-65) == 2);      // 129
  CHECK(varint_size_bytes(8191) == 2);     // 16382
  CHECK(varint_size_bytes(8192) == 3);     // 16384
  CHECK(varint_size_bytes(-8192) == 2);    // 16383
  CHECK(varint_size_bytes(-8193) == 3);    // 16385
  CHECK(varint_size_bytes(1048575) == 3);  // 2^21 - 2
  CHECK(varint_size_bytes(1048576) == 4);  // 2^21
  CHECK(varint_size_bytes(std::numeric_limits<int32_t>::max()) == 5);  // 2^32 - 2: 32 bits
  CHECK(varint_size_bytes(std::numeric_limits<int32_t>::min()) == 5);  // 2^32 - 1
}

TEST_CASE("zigzag varlong sizes") {
  CHECK(varlong_size_bytes(0) == 1);
  CHECK(varlong_size_bytes(-1) == 1);
  CHECK(varlong_size_bytes(63) == 1);
  CHECK(varlong_size_bytes(64) == 2);
  CHECK(varlong_size_bytes(1000) == 2);              // 2000 < 16384
  CHECK(varlong_size_bytes(int64_t{1} << 31) == 5);  // 2^32: 33 bits -> 5 groups of 7
  CHECK(varlong_size_bytes(int64_t{1} << 34) == 6);  // 2^35: 36 bits -> 6 groups
  CHECK(varlong_size_bytes(std::numeric_limits<int64_t>::max()) == 10);  // 64 bits -> 10 groups
  CHECK(varlong_size_bytes(std::numeric_limits<int64_t>::min()) == 10);
}

TEST_CASE("the batch header is 61 bytes: the sum of its fields") {
  // baseOffset 8, length 4, partitionLeaderEpoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4,
  // baseTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2, baseSequence 4, recordCount 4.
  CHECK(record_batch_overhead_bytes == 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
}

TEST_CASE("record sizes computed field by field") {
  RecordShape value100;
  value100.value_bytes = 100;

  // No key, 100-byte value, no headers, timestamp delta 0, offset delta 0:
  // varint(100) is zigzag 200, 8 bits, so 2 bytes: the value field is 2 + 100 = 102.
  // body = attributes 1 + timestampDelta 1 + offsetDelta 1 + null key 1 + value 102 + header count 1 = 107;
  // the length varint(107) is zigzag 214, 2 bytes. Total 109.
  CHECK(record_size_in_batch_bytes(0, 0, value100) == 109);
  // Offset deltas up to 63 take one byte; 64 takes two, so the record grows by one byte.
  CHECK(record_size_in_batch_bytes(63, 0, value100) == 109);
  CHECK(record_size_in_batch_bytes(64, 0, value100) == 110);
  CHECK(record_size_in_batch_bytes(8191, 0, value100) == 110);
  CHECK(record_size_in_batch_bytes(8192, 0, value100) == 111);
  // A timestamp delta of 1000 ms: zigzag 2000 -> 2 bytes, one more than delta 0.
  CHECK(record_size_in_batch_bytes(0, 1000, value100) == 110);
  // A negative delta of -1 ms still fits one byte.
  CHECK(record_size_in_batch_bytes(0, -1, value100) == 109);

  // A 10-byte key: varint(10)=1 + 10 instead of the 1-byte null marker -> body 107 + 10 = 117 -> total 119.
  RecordShape keyed = value100;
  keyed.key_bytes = 10;
  CHECK(record_size_in_batch_bytes(0, 0, keyed) == 119);

  // A tombstone: 8-byte key, null value. body = 1 + 1 + 1 + (1 + 8) + 1 + 1 = 14; varint(14) = 1 -> 15.
  RecordShape tombstone;
  tombstone.key_bytes = 8;
  CHECK(record_size_in_batch_bytes(0, 0, tombstone) == 15);

  // One header with a 1-byte key and a 4-byte value: varint(1) 1 + 1 + varint(4) 1 + 4 = 7 bytes.
  CHECK(record_header_size_bytes(1, 4) == 7);
  CHECK(record_header_size_bytes(3, null_length) == 1 + 3 + 1);
  RecordShape with_header = value100;
  with_header.header_count = 1;
  with_header.headers_bytes = record_header_size_bytes(1, 4);
  // body = 107 + 7 = 114 -> 2 + 114 = 116.
  CHECK(record_size_in_batch_bytes(0, 0, with_header) == 116);

  // An empty value (0 bytes, not null): varint(0)=1 -> body = 1+1+1+1+1+1 = 6 -> total 7.
  RecordShape empty_value;
  empty_value.value_bytes = 0;
  CHECK(record_size_in_batch_bytes(0, 0, empty_value) == 7);
}

TEST_CASE("batch sizes and the upper bound") {
  RecordShape value100;
  value100.value_bytes = 100;
  // 150 records: offsets 0..63 at 109 bytes and 64..149 at 110 bytes.
  CHECK(uniform_batch_size_bytes(0, value100) == 61);
  CHECK(uniform_batch_size_bytes(1, value100) == 61 + 109);
  CHECK(uniform_batch_size_bytes(150, value100) == 61 + 64 * 109 + 86 * 110);
  // Upper bound: header 61 + MAX_RECORD_OVERHEAD 21 + null key 1 + value 102 + header count 1.
  CHECK(batch_size_upper_bound_bytes(value100) == 61 + 21 + 1 + 102 + 1);
  // It is never below the exact size of the record alone in a batch.
  CHECK(batch_size_upper_bound_bytes(value100) >= uniform_batch_size_bytes(1, value100));
}

TEST_CASE("compression ratio estimator: slow to improve, fast to deteriorate") {
  // CompressionRatioEstimator: improving steps are 0.005 at most, deteriorating steps 0.05 at least.
  CHECK(update_compression_ratio_estimate(1.0f, 0.5f) == doctest::Approx(0.995f).scale(0));
  CHECK(update_compression_ratio_estimate(0.995f, 0.5f) == doctest::Approx(0.99f).scale(0));
  CHECK(update_compression_ratio_estimate(0.501f, 0.5f) == doctest::Approx(0.5f).scale(0));   // clamped to observed
  CHECK(update_compression_ratio_estimate(0.6f, 0.62f) == doctest::Approx(0.65f).scale(0));   // at least +0.05
  CHECK(update_compression_ratio_estimate(0.6f, 0.9f) == doctest::Approx(0.9f).scale(0));     // straight to observed
  CHECK(update_compression_ratio_estimate(0.7f, 0.7f) == 0.7f);
}

TEST_CASE("compression curve: the compressed size is linear between measured points, proportional outside them") {
  // Points (uncompressed, ratio): compressed sizes 800, 1000, 1600 B at 1000, 2000, 4000 B.
  const CompressionCurve curve({{1000, 0.8}, {2000, 0.5}, {4000, 0.4}});
  CHECK(curve.compressed_bytes(1000) == 800);
  CHECK(curve.compressed_bytes(1500) == 900);     // halfway between 800 and 1000
  CHECK(curve.compressed_bytes(3000) == 1300);    // halfway between 1000 and 1600
  CHECK(curve.compressed_bytes(500) == 400);      // below the first point: its ratio 0.8
  CHECK(curve.compressed_bytes(10'000) == 4000);  // above the last: its ratio 0.4
  CHECK(curve.ratio_at(1500) == doctest::Approx(0.6).scale(0));
  CHECK(curve.ratio_at(100) == 0.8);
  CHECK(curve.ratio_at(1'000'000) == 0.4);
  // Bigger batches compress better, and the size still grows with every byte added.
  CHECK(curve.ratio_at(3000) < curve.ratio_at(1500));
  for (int64_t u = 1; u < 20'000; u += 7) CHECK(curve.compressed_bytes(u + 7) >= curve.compressed_bytes(u));
  // The inverse, on each piece.
  CHECK(curve.uncompressed_bytes(900) == 1500);
  CHECK(curve.uncompressed_bytes(1300) == 3000);
  CHECK(curve.uncompressed_bytes(400) == 500);
  CHECK(curve.uncompressed_bytes(4000) == 10'000);
  for (int64_t u = 1; u < 20'000; u += 13) CHECK(std::llabs(curve.uncompressed_bytes(curve.compressed_bytes(u)) - u) <= 2);
}

TEST_CASE("compression curve: one ratio for every size, and points that cannot make a curve") {
  const CompressionCurve flat(0.27);
  for (const int64_t u : {1, 999, 16'384, 1'000'001}) {
    CHECK(flat.compressed_bytes(u) == std::llround(static_cast<double>(u) * 0.27));
    CHECK(flat.ratio_at(u) == 0.27);
    CHECK(flat.uncompressed_bytes(flat.compressed_bytes(u)) == std::llround(std::llround(u * 0.27) / 0.27));
  }
  CHECK(CompressionCurve().compressed_bytes(16'384) == 16'384);
  CHECK(CompressionCurve::curve_points_error({{1000, 0.8}, {2000, 0.5}}).empty());
  CHECK_FALSE(CompressionCurve::curve_points_error({}).empty());
  CHECK_FALSE(CompressionCurve::curve_points_error({{2000, 0.5}, {1000, 0.8}}).empty());  // sizes fall
  CHECK_FALSE(CompressionCurve::curve_points_error({{1000, 0.8}, {1000, 0.5}}).empty());  // sizes repeat
  // 2000 x 0.3 = 600 B after 1000 x 0.8 = 800 B: a bigger batch would come out smaller.
  CHECK(CompressionCurve::curve_points_error({{1000, 0.8}, {2000, 0.3}}).find("compressed sizes") != std::string::npos);
  CHECK_FALSE(CompressionCurve::curve_points_error({{1000, 0.0}}).empty());
  CHECK_FALSE(CompressionCurve::curve_points_error({{0, 0.5}}).empty());
}

TEST_CASE("estimated batch size with compression follows Java float arithmetic") {
  CHECK(estimated_batch_bytes(CompressionType::none, 1000, 0.5f) == 61 + 1000);
  // 1000 * 0.5f * 1.05f: 500 * 1.04999995 = 524.999976, which rounds to 525.0 in float.
  CHECK(estimated_batch_bytes(CompressionType::lz4, 1000, 0.5f) == 61 + 525);
  // 1000 * 0.7f rounds to 700.0f; 700 * 1.05f = 734.999967, whose nearest float is 734.99994 (not 735), so
  // Java's (int) cast gives 734 where exact arithmetic would give 735.
  CHECK(estimated_batch_bytes(CompressionType::zstd, 1000, 0.7f) == 61 + 734);
}
