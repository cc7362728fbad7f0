// Size accounting for the v2 record batch format (magic 2: DefaultRecordBatch / DefaultRecord), and the
// producer's compression-ratio estimate (CompressionRatioEstimator).
//
// Records are accounted, not materialised (DESIGN.md principle 3): a record is described by the lengths of its
// key, value and headers, and these functions give the exact number of bytes Kafka would write for it.
//
// Format (reference/kafka-behaviour.md §1.5):
//   batch header, 61 bytes (RECORD_BATCH_OVERHEAD): baseOffset 8, length 4, partitionLeaderEpoch 4, magic 1,
//     crc 4, attributes 2, lastOffsetDelta 4, baseTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2,
//     baseSequence 4, recordCount 4;
//   record: varint(bodyLen) + bodyLen, bodyLen = 1 (attributes) + varlong(timestampDelta) + varint(offsetDelta)
//     + key (varint(-1) if null, else varint(len) + len) + value (likewise) + varint(numHeaders) + headers;
//   header: varint(keyLen) + keyLen + value (varint(-1) if null, else varint(len) + len).
// Varints are zigzag-encoded base-128 (ByteUtils.sizeOfVarint / sizeOfVarlong).
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

// DefaultRecordBatch.RECORD_BATCH_OVERHEAD.
inline constexpr int32_t record_batch_overhead_bytes = 61;
// DefaultRecord.MAX_RECORD_OVERHEAD: the largest possible size varint (5) + attributes (1) + timestamp delta
// varlong (10) + offset delta varint (5). Used for the upper-bound estimate of a record in a fresh batch.
inline constexpr int32_t max_record_overhead_bytes = 21;
// A null key, value or header value is written as varint(-1), one byte.
inline constexpr int32_t null_length = -1;

// ByteUtils.sizeOfVarint: bytes of the zigzag varint encoding of a 32-bit value (1..5).
constexpr int32_t varint_size_bytes(int32_t value) {
  // Zigzag maps 0,-1,1,-2,... to 0,1,2,3,... so small magnitudes of either sign take few bytes.
  const uint32_t v = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31);
  // Seven payload bits per byte, at least one byte. This runs several times for every record, mostly on small
  // values: a chain of compares answers those in one or two steps, where the bit-width formula
  // ((bit_width(v | 1) + 6) / 7, equal for every int32) costs a bit scan and a division each time.
  if (v < (1U << 7)) return 1;
  if (v < (1U << 14)) return 2;
  if (v < (1U << 21)) return 3;
  if (v < (1U << 28)) return 4;
  return 5;
}

// ByteUtils.sizeOfVarlong: bytes of the zigzag varint encoding of a 64-bit value (1..10).
constexpr int32_t varlong_size_bytes(int64_t value) {
  const uint64_t v = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  if (v < (1ULL << 7)) return 1;  // the common case (timestamp deltas of a few ms), as in varint_size_bytes
  return (static_cast<int32_t>(std::bit_width(v)) + 6) / 7;
}

// Bytes of one length-prefixed field: varint(-1) for null (length < 0), else varint(length) + length.
constexpr int32_t nullable_field_size_bytes(int32_t length) {
  return length < 0 ? 1 : varint_size_bytes(length) + length;
}

// The encoded size of one record header with a `key_bytes`-byte UTF-8 key and a value of `value_bytes`
// (null_length for a null value).
constexpr int32_t record_header_size_bytes(int32_t key_bytes, int32_t value_bytes) {
  return varint_size_bytes(key_bytes) + key_bytes + nullable_field_size_bytes(value_bytes);
}

// What the simulator knows about a record: lengths only. `headers_bytes` is the sum of
// record_header_size_bytes over the record's `header_count` headers.
struct RecordShape {
  int32_t key_bytes = null_length;    // null_length: no key
  int32_t value_bytes = null_length;  // null_length: a null value (a tombstone)
  int32_t header_count = 0;
  int32_t headers_bytes = 0;
};

// DefaultRecord.sizeOf(keySize, valueSize, headers): key, value, header count and headers.
constexpr int32_t record_payload_size_bytes(const RecordShape& shape) {
  return nullable_field_size_bytes(shape.key_bytes) + nullable_field_size_bytes(shape.value_bytes) +
         varint_size_bytes(shape.header_count) + shape.headers_bytes;
}

// DefaultRecord.sizeInBytes(offsetDelta, timestampDelta, ...): a record's size inside a batch, including its
// own length varint. `offset_delta` is its index in the batch; `timestamp_delta_ms` is its timestamp minus the
// batch's base timestamp (the first record's), in milliseconds.
// `payload_bytes` is record_payload_size_bytes of the record's shape.
constexpr int32_t record_size_in_batch_bytes(int32_t offset_delta, int64_t timestamp_delta_ms, int32_t payload_bytes) {
  const int32_t body_bytes =
      1 /* attributes */ + varlong_size_bytes(timestamp_delta_ms) + varint_size_bytes(offset_delta) + payload_bytes;
  return varint_size_bytes(body_bytes) + body_bytes;
}
constexpr int32_t record_size_in_batch_bytes(int32_t offset_delta, int64_t timestamp_delta_ms,
                                             const RecordShape& shape) {
  return record_size_in_batch_bytes(offset_delta, timestamp_delta_ms, record_payload_size_bytes(shape));
}

// AbstractRecords.estimateSizeInBytesUpperBound for magic v2 (= DefaultRecordBatch.estimateBatchSizeUpperBound):
// a batch holding only this record, assuming the worst-case deltas. KafkaProducer uses it to reject records
// larger than max.request.size or buffer.memory, and RecordAccumulator to size a new batch's buffer.
constexpr int32_t batch_size_upper_bound_bytes(int32_t payload_bytes) {
  return record_batch_overhead_bytes + max_record_overhead_bytes + payload_bytes;
}
constexpr int32_t batch_size_upper_bound_bytes(const RecordShape& shape) {
  return batch_size_upper_bound_bytes(record_payload_size_bytes(shape));
}

// The size of an uncompressed batch of `record_count` identical records whose timestamps all equal the base
// timestamp: the header plus each record at offset delta 0..record_count-1. Handy for sizing workloads.
int64_t uniform_batch_size_bytes(int32_t record_count, const RecordShape& shape);

// compression.type (ProducerConfig; CompressionType ids 0..4).
enum class CompressionType : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// CompressionRatioEstimator: the producer's running estimate of compressed/uncompressed size, per topic and
// codec, starting at 1.0. It improves slowly (down by at most 0.005 a batch) and deteriorates fast (up by at
// least 0.05, or straight to the observed ratio), so batches are rarely over-filled (§1.5). Java keeps it in a
// float; so do we, so the estimated batch sizes round like Kafka's.
inline constexpr float compression_ratio_improving_step = 0.005f;
inline constexpr float compression_ratio_deteriorate_step = 0.05f;
// MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR: a safety margin on the estimate.
inline constexpr float compression_rate_estimation_factor = 1.05f;

float update_compression_ratio_estimate(float current_estimate, float observed_ratio);

// What a codec makes of a batch's records: their compressed size as a function of their uncompressed size, a
// property of the data and the codec, not of Kafka (a compressed batch is the 61-byte header plus this; the
// header is not compressed). Bigger batches compress better: records of one batch share field names and values
// that the codec's window finds once per batch (kafka-behaviour.md §1.8: larger batches "compress better").
//
// Given as measured points (uncompressed bytes u_i, ratio r_i) of batches of that size (bench/codec_measure.cpp),
// u_i strictly increasing and the compressed sizes c_i = u_i * r_i strictly increasing too. The compressed size is
// interpolated linearly between points and is proportional to u outside them (the first point's ratio below it, the
// last one's above), so it grows strictly with u and has an exact inverse. One point is a constant ratio.
class CompressionCurve {
 public:
  // Ratio 1: records as they are (no codec).
  CompressionCurve() : CompressionCurve(1.0) {}
  explicit CompressionCurve(double ratio);
  // The points must satisfy the conditions above (checked: a profile's loader validates them first, with
  // `curve_points_error`).
  explicit CompressionCurve(const std::vector<std::pair<double, double>>& points);

  // Why `points` (uncompressed bytes, ratio) cannot make a curve, or an empty string when they can.
  static std::string curve_points_error(const std::vector<std::pair<double, double>>& points);

  // The compressed size of `uncompressed_bytes` of records, rounded to whole bytes.
  int64_t compressed_bytes(int64_t uncompressed_bytes) const;
  // The compressed/uncompressed ratio at that size (before rounding), as the producer's estimator observes it.
  double ratio_at(int64_t uncompressed_bytes) const;
  // The inverse: the uncompressed size of records that compress to `compressed_bytes`, rounded.
  int64_t uncompressed_bytes(int64_t compressed_bytes) const;

  // The ratio of a one-point curve, or of the last point (the largest batches).
  double large_batch_ratio() const { return ratios_.back(); }
  size_t point_count() const { return ratios_.size(); }
  double point_uncompressed_bytes(size_t i) const { return uncompressed_[i]; }
  double point_ratio(size_t i) const { return ratios_[i]; }

 private:
  double compressed_at(double u) const;
  std::vector<double> uncompressed_, ratios_, compressed_;
};

// MemoryRecordsBuilder.estimatedBytesWritten: header plus the (estimated compressed) size of the records.
// Inline: it runs several times per appended record.
inline int32_t estimated_batch_bytes(CompressionType compression, int32_t uncompressed_records_bytes,
                                     float compression_ratio_estimate) {
  KS_ASSERT_GE(uncompressed_records_bytes, 0);
  if (compression == CompressionType::none) return record_batch_overhead_bytes + uncompressed_records_bytes;
  // Java: (int) (uncompressedRecordsSizeInBytes * estimatedCompressionRatio * COMPRESSION_RATE_ESTIMATION_FACTOR),
  // evaluated in float left to right and truncated toward zero.
  const float estimate =
      static_cast<float>(uncompressed_records_bytes) * compression_ratio_estimate * compression_rate_estimation_factor;
  return record_batch_overhead_bytes + static_cast<int32_t>(estimate);
}

}  // namespace kafkasim::kafka
