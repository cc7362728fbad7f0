// Per-topic log configuration, with Kafka's names and Kafka 4.x defaults (reference/kafka-behaviour.md §2.9;
// storage/.../log/LogConfig.java). Values keep Kafka's units (bytes, milliseconds) so a scenario can paste a
// topic config unchanged; the log converts milliseconds to simulated nanoseconds where it compares times.
#pragma once

#include <cstdint>
#include <limits>

namespace kafkasim::kafka {

// The topic-level `compression.type` (BrokerCompressionType): the codec the log stores, or `producer` to keep
// each batch as the producer compressed it (kafka-behaviour.md §1.8).
enum class BrokerCompressionType : uint8_t { producer, uncompressed, gzip, snappy, lz4, zstd };

struct LogConfig {
  // `segment.bytes` (broker `log.segment.bytes`): roll before an append that would make the active segment
  // larger than this.
  int64_t segment_bytes = 1'073'741'824;
  // `segment.ms` (broker `log.roll.hours` = 168): roll once the active segment spans more than this.
  int64_t segment_ms = 604'800'000;
  // `segment.jitter.ms` (broker `log.roll.jitter.hours` = 0): each segment draws a jitter in
  // [0, min(segment.jitter.ms, segment.ms)) that is subtracted from segment.ms (LogConfig.randomSegmentJitter).
  int64_t segment_jitter_ms = 0;
  // `segment.index.bytes` (broker `log.index.size.max.bytes`): the preallocated size of each offset and time
  // index; a segment rolls when either index is full.
  int64_t segment_index_bytes = 10'485'760;
  // `index.interval.bytes` (broker `log.index.interval.bytes`): bytes between sparse index entries.
  int64_t index_interval_bytes = 4096;
  // `retention.bytes` (broker `log.retention.bytes`): -1 means unlimited.
  int64_t retention_bytes = -1;
  // `retention.ms` (broker `log.retention.hours` = 168): -1 means unlimited.
  int64_t retention_ms = 604'800'000;
  // `max.message.bytes` (broker `message.max.bytes`): the largest batch the leader accepts.
  int64_t max_message_bytes = 1'048'588;
  // `flush.messages` (broker `log.flush.interval.messages`): Long.MAX by default, so Kafka never fsyncs on the
  // produce path (§2.3 step 8).
  int64_t flush_messages = std::numeric_limits<int64_t>::max();
  // `flush.ms` (broker `log.flush.interval.ms`, which defaults to `log.flush.scheduler.interval.ms`): LogManager's
  // "kafka-log-flusher" task, run every log.flush.scheduler.interval.ms, fsyncs a log whose last flush is at
  // least this old (§2.3 step 8). Long.MAX by default: never.
  int64_t flush_ms = std::numeric_limits<int64_t>::max();
  // `file.delete.delay.ms` (broker `log.segment.delete.delay.ms`): a deleted segment's files are renamed
  // `.deleted` at once and removed after this delay.
  int64_t file_delete_delay_ms = 60'000;
  // `message.timestamp.type` (broker `log.message.timestamp.type`) = LogAppendTime: the leader's LogValidator sets
  // every appended batch's max timestamp to the append time (DefaultRecordBatch.setMaxTimestamp), which retention.ms,
  // segment.ms and the time index then use; CreateTime (the default) keeps the producer's.
  bool log_append_time = false;
  // `message.timestamp.before.max.ms` / `message.timestamp.after.max.ms` (broker `log.message.timestamp.*`, KIP-937;
  // the after bound defaults to 1 h since 4.0, KIP-1030): with CreateTime the leader's LogValidator rejects a batch
  // holding a record more than this older / newer than its clock (INVALID_TIMESTAMP, §2.3 step 2): a record delayed
  // on its way (a paused broker, retries), or stamped by its producer with an offset (a backfill, a clock ahead).
  int64_t timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
  int64_t timestamp_after_max_ms = 3'600'000;
  // `cleanup.policy` contains `delete` (the default). Without it only log-start-offset deletion applies (§2.5).
  bool cleanup_policy_delete = true;
  // `cleanup.policy` contains `compact` (LogConfig.compact): the leader's LogValidator rejects a batch holding a
  // record without a key (INVALID_RECORD, §2.3 step 2). The cleaner itself is not modelled.
  bool cleanup_policy_compact = false;
  // `compression.type` (broker `compression.type`): `producer` keeps the producer's codec; any other value makes
  // the leader's LogValidator recompress batches written with a different codec (§1.8).
  BrokerCompressionType compression_type = BrokerCompressionType::producer;
  // `compression.gzip.level`, `compression.lz4.level`, `compression.zstd.level` (KIP-390; broker configs of the
  // same names): the level of that recompression when the topic's codec is gzip, lz4 or zstd. A batch already in
  // the topic's codec is kept as it is, whatever level the producer used (LogValidator compares codecs only).
  int32_t compression_gzip_level = -1;
  int32_t compression_lz4_level = 9;
  int32_t compression_zstd_level = 3;
};

}  // namespace kafkasim::kafka
