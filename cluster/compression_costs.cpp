#include "kafkasim/cluster/compression_costs.hpp"

#include <cmath>

#include "kafkasim/cluster/world.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

using kafka::BrokerCompressionType;
using kafka::CompressionType;
using sim::Duration;

CompressionType stored_codec(BrokerCompressionType topic, CompressionType produced) {
  switch (topic) {
    case BrokerCompressionType::producer: return produced;
    case BrokerCompressionType::uncompressed: return CompressionType::none;
    case BrokerCompressionType::gzip: return CompressionType::gzip;
    case BrokerCompressionType::snappy: return CompressionType::snappy;
    case BrokerCompressionType::lz4: return CompressionType::lz4;
    case BrokerCompressionType::zstd: return CompressionType::zstd;
  }
  KS_ASSERT_MSG(false, "unknown BrokerCompressionType");
  return produced;
}

int64_t uncompressed_records_bytes(const CodecFigures& figures, int64_t batch_bytes) {
  KS_ASSERT_GE(batch_bytes, int64_t{kafka::record_batch_overhead_bytes});
  const int64_t records_bytes = batch_bytes - kafka::record_batch_overhead_bytes;
  return figures.curve.uncompressed_bytes(records_bytes);
}

int64_t uncompressed_records_bytes(const CodecCosts& codecs, CompressionType codec, int64_t batch_bytes) {
  return uncompressed_records_bytes(codecs.of(codec), batch_bytes);
}

namespace {

Duration time_at(double bytes_per_s, int64_t bytes) {
  KS_ASSERT_GE(bytes, int64_t{0});
  if (bytes == 0) return Duration::zero();
  KS_ASSERT_GT(bytes_per_s, 0.0);
  return Duration::from_seconds_ceil(static_cast<double>(bytes) / bytes_per_s);
}

}  // namespace

Duration compress_time(const CodecFigures& figures, CompressionType codec, int64_t uncompressed_bytes) {
  if (codec == CompressionType::none) return Duration::zero();
  return time_at(figures.compress_bytes_per_s, uncompressed_bytes);
}

Duration decompress_time(const CodecFigures& figures, CompressionType codec, int64_t uncompressed_bytes) {
  if (codec == CompressionType::none) return Duration::zero();
  return time_at(figures.decompress_bytes_per_s, uncompressed_bytes);
}

Duration compress_time(const CodecCosts& codecs, CompressionType codec, int64_t uncompressed_bytes) {
  return compress_time(codecs.of(codec), codec, uncompressed_bytes);
}

Duration decompress_time(const CodecCosts& codecs, CompressionType codec, int64_t uncompressed_bytes) {
  return decompress_time(codecs.of(codec), codec, uncompressed_bytes);
}

int32_t compression_level(CompressionType codec, int32_t gzip_level, int32_t lz4_level, int32_t zstd_level) {
  switch (codec) {
    case CompressionType::gzip: return gzip_level;
    case CompressionType::lz4: return lz4_level;
    case CompressionType::zstd: return zstd_level;
    case CompressionType::none:
    case CompressionType::snappy: break;
  }
  return 0;
}

ValidatedBatch validate_batch(const CpuCosts& costs, BrokerCompressionType topic, CompressionType produced,
                              int64_t batch_bytes) {
  return validate_batch(costs, topic, produced, costs.codecs.of(produced),
                        costs.codecs.of(stored_codec(topic, produced)), batch_bytes);
}

ValidatedBatch validate_batch(const CpuCosts& costs, BrokerCompressionType topic, CompressionType produced,
                              const CodecFigures& produced_figures, const CodecFigures& topic_figures,
                              int64_t batch_bytes) {
  ValidatedBatch v;
  v.stored_bytes = batch_bytes;
  const CompressionType target = stored_codec(topic, produced);
  if (produced == CompressionType::none && target == CompressionType::none) return v;  // assignOffsetsNonCompressed
  const int64_t records_bytes = uncompressed_records_bytes(produced_figures, batch_bytes);
  // validateMessagesAndAssignOffsetsCompressed iterates the records through the decompression stream, in place
  // or not.
  v.cpu = decompress_time(produced_figures, produced, records_bytes);
  if (target != produced) {
    // buildRecordsAndAssignOffsets: a new batch in the topic's codec, at the topic's level, with a new CRC over it.
    v.recompressed = true;
    v.cpu += compress_time(topic_figures, target, records_bytes);
    v.stored_bytes =
        kafka::record_batch_overhead_bytes +
        (target == CompressionType::none ? records_bytes : topic_figures.curve.compressed_bytes(records_bytes));
    const double crc_rate = costs.crc32c_bytes_per_s * costs.desktop_to_server_scale;
    v.cpu += time_at(crc_rate, v.stored_bytes);
  }
  KS_ASSERT_GT(v.stored_bytes, int64_t{kafka::record_batch_overhead_bytes});
  return v;
}

namespace {

// `codec` at `level` with the client profile's speeds and `curve` (the brokers' profile's, so that every host
// agrees on a batch's uncompressed size).
CodecFigures client_figures(const CodecCosts& client, kafka::CompressionType codec, int32_t level,
                            const kafka::CompressionCurve& curve) {
  CodecFigures f = *client.at_level(codec, level).figures;
  f.curve = curve;
  return f;
}

}  // namespace

CompressionModel::CompressionModel(const WorldSpec& spec) : costs_(spec.cpu_costs) {
  const CodecCosts& codecs = costs_.codecs;
  const CodecCosts& client_codecs = spec.client_cpu_costs ? spec.client_cpu_costs->codecs : codecs;
  std::vector<int32_t> topic_levels;
  for (const auto& t : spec.topics) {
    const kafka::LogConfig& log = t.config.log;
    topic_compression_.push_back(log.compression_type);
    // The figures a batch recompressed into the topic's codec gets (unused for `producer`).
    const CompressionType codec = stored_codec(log.compression_type, CompressionType::none);
    topic_levels.push_back(compression_level(codec, log.compression_gzip_level, log.compression_lz4_level,
                                             log.compression_zstd_level));
    topic_figures_.push_back(*codecs.at_level(codec, topic_levels.back()).figures);
    topic_stores_compressed_.push_back(false);
  }
  for (const auto& p : spec.producers) {
    const kafka::ProducerConfig& c = p.config;
    producer_codecs_.push_back(c.compression_type);
    const int32_t level = compression_level(c.compression_type, c.compression_gzip_level, c.compression_lz4_level,
                                            c.compression_zstd_level);
    producer_figures_.push_back(*codecs.at_level(c.compression_type, level).figures);
    producer_client_figures_.push_back(
        client_figures(client_codecs, c.compression_type, level, producer_figures_.back().curve));
    const auto t = static_cast<size_t>(p.topic);
    KS_ASSERT_LT(t, spec.topics.size());
    // Kept in the producer's codec (and level) unless the topic recompresses it (LogValidator).
    const CompressionType stored = stored_codec(topic_compression_[t], c.compression_type);
    producer_stored_.push_back(stored);
    producer_stored_figures_.push_back(stored == c.compression_type ? producer_figures_.back() : topic_figures_[t]);
    producer_stored_client_figures_.push_back(
        stored == c.compression_type
            ? producer_client_figures_.back()
            : client_figures(client_codecs, stored, topic_levels[t], topic_figures_[t].curve));
    if (stored != CompressionType::none) topic_stores_compressed_[t] = true;
  }
}

const kafka::CompressionCurve& CompressionModel::producer_compression(size_t producer_spec) const {
  KS_ASSERT_LT(producer_spec, producer_codecs_.size());
  static const kafka::CompressionCurve kUncompressed;
  return producer_codecs_[producer_spec] == CompressionType::none ? kUncompressed
                                                                   : producer_figures_[producer_spec].curve;
}

Duration CompressionModel::producer_request_cost(size_t producer_spec, const kafka::ProduceRequest& request) const {
  KS_ASSERT_LT(producer_spec, producer_codecs_.size());
  const CompressionType codec = producer_codecs_[producer_spec];
  const CodecFigures& figures = producer_client_figures_[producer_spec];
  Duration cost;
  if (codec == CompressionType::none) return cost;
  for (const auto& p : request.partitions)
    cost += compress_time(figures, codec, uncompressed_records_bytes(figures, p.batch.size_bytes));
  return cost;
}

Duration CompressionModel::validate_produce(size_t producer_spec, kafka::ProduceRequest& request) const {
  KS_ASSERT_LT(producer_spec, producer_codecs_.size());
  const CompressionType produced = producer_codecs_[producer_spec];
  const CodecFigures& produced_figures = producer_figures_[producer_spec];
  Duration cost;
  for (auto& p : request.partitions) {
    const auto t = static_cast<size_t>(p.partition.topic);
    KS_ASSERT_LT(t, topic_compression_.size());
    const ValidatedBatch v =
        validate_batch(costs_, topic_compression_[t], produced, produced_figures, topic_figures_[t], p.batch.size_bytes);
    cost += v.cpu;
    if (v.recompressed) {
      KS_ASSERT_LE(v.stored_bytes, int64_t{INT32_MAX});
      p.batch.size_bytes = static_cast<int32_t>(v.stored_bytes);
    }
  }
  return cost;
}

CompressionType CompressionModel::stored_codec_of(size_t producer_spec) const {
  KS_ASSERT_LT(producer_spec, producer_stored_.size());
  return producer_stored_[producer_spec];
}

sim::SimTime ClientCodecThread::reserve(sim::SimTime now, Duration cost) {
  KS_ASSERT_GE(cost, Duration::zero());
  KS_ASSERT_GE(now, last_handover_);
  const sim::SimTime start = sim::max(free_at_, last_handover_);
  free_at_ = start + cost;
  last_handover_ = now;
  busy_ += cost;
  // Jobs are serial, so this one's part before the origin is its own; booked after the origin, no reading at the
  // origin counted it.
  if (start < origin_ && origin_ <= now) booked_late_before_origin_ += sim::min(free_at_, origin_) - start;
  return free_at_;
}

}  // namespace kafkasim::cluster
