// What compression.type costs and saves (kafka-behaviour.md §1.8, hardware-models.md §5.3), as pure arithmetic
// on the CPU profile's measured codec figures (CodecCosts: a size ratio and single-core compress/decompress
// speeds per codec, bench/codec_measure.cpp), at the level each producer (compression.<codec>.level) and each
// topic (its own, or the broker's, compression.<codec>.level) uses, KIP-390: the profile's codec_levels table
// has the other levels' figures (CodecCosts::at_level).
//
// Where Kafka spends the work, and how the world charges it:
// The brokers' CPU profile gives every ratio (a property of the data and the codec) and the brokers' speeds; a client
// CPU profile (WorldSpec::client_cpu_costs), when the scenario names one, gives the producers' compression and the
// consumers' decompression speeds at the same levels (the brokers' without one [A]).
//
//   producer  The producer compresses whole batches: MemoryRecordsBuilder writes each record into the codec's
//             output stream inside send() (RecordAccumulator.append, the application thread), and the last
//             block is compressed when the batch is closed (by the application thread when the batch fills,
//             by the Sender thread at drain otherwise). The size of a built batch is 61 + the codec curve's
//             compressed size of its records (RecordAccumulator::set_compression, kafka::CompressionCurve: the
//             ratio falls as batches grow, measured on batches of 1 to 1,024 records). Client hosts have no
//             thread model, so the cost (uncompressed bytes / compress speed) is charged to one compression
//             thread per producer (ClientCodecThread) that overlaps a request's compression with the sending of
//             the one before;
//             a produce request waits for it only when the thread is saturated, and the producer's in-flight
//             and buffer.memory limits then throttle send().
//   broker    The leader's LogValidator decompresses every compressed batch to validate its records — with the
//             key/value-skipping iterator when it can assign offsets in place (topic compression.type
//             `producer` or the producer's own codec, whatever the levels), which still runs the decompression
//             stream (validateMessagesAndAssignOffsetsCompressed) — and rebuilds the batch in the topic's codec,
//             at the topic's level, when that codec differs from the producer's: decompress, compress, and a CRC
//             over the new batch. The rebuilt batch has the topic codec's size on disk and for every reader.
//             Charged to the I/O thread.
//             Followers append without decompressing (appendAsFollower takes batches as they are).
//   consumer  KafkaConsumer decompresses in poll() as it iterates the fetched batches (CompletedFetch, the
//             application thread): a compressed batch's record iterator is its decompression stream, so each
//             poll pays for the records it reads of each batch (those it returns and those it skips below the
//             position), that share of the batch's decompression, added to the processing period that follows
//             the poll. A batch read over several polls (max.poll.records) is paid for piece by piece.
//
// Ignored: the JNI and Java stream overheads around the native codecs; the per-batch stream set-up in the speeds of
// small batches (the speeds are measured on full batch.size = 16384 batches, tens of KB); the few microseconds by
// which compressing the last block at drain (lingered, non-full batches) delays a request; compression charged
// again when a batch is retried; the max.message.bytes check of a batch's size before the broker recompressed it;
// several application threads compressing in parallel (one compression thread per producer).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/kafka/log/log_config.hpp"
#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/callback.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

struct WorldSpec;

// The codec a batch is stored in: the producer's for compression.type `producer`, none for `uncompressed`,
// otherwise the topic's codec (LogValidator's targetCompression).
kafka::CompressionType stored_codec(kafka::BrokerCompressionType topic, kafka::CompressionType produced);

// The uncompressed records bytes of a v2 batch of `batch_bytes` written with a codec of these figures (or `codec`
// at its default level): the batch minus its 61-byte header, uncompressed (CompressionCurve::uncompressed_bytes,
// the inverse of the producer's 61 + compressed size).
int64_t uncompressed_records_bytes(const CodecFigures& figures, int64_t batch_bytes);
int64_t uncompressed_records_bytes(const CodecCosts& codecs, kafka::CompressionType codec, int64_t batch_bytes);

// One core's time to compress / decompress `uncompressed_bytes` with `codec` (zero for none), at the level the
// figures stand for (or the default level).
sim::Duration compress_time(const CodecFigures& figures, kafka::CompressionType codec, int64_t uncompressed_bytes);
sim::Duration decompress_time(const CodecFigures& figures, kafka::CompressionType codec, int64_t uncompressed_bytes);
sim::Duration compress_time(const CodecCosts& codecs, kafka::CompressionType codec, int64_t uncompressed_bytes);
sim::Duration decompress_time(const CodecCosts& codecs, kafka::CompressionType codec, int64_t uncompressed_bytes);

// The level of `codec` among a config's compression.gzip.level / .lz4.level / .zstd.level (0 for none and snappy).
int32_t compression_level(kafka::CompressionType codec, int32_t gzip_level, int32_t lz4_level, int32_t zstd_level);

// What the leader's LogValidator does to one produced batch.
struct ValidatedBatch {
  int64_t stored_bytes = 0;  // the batch's size in the log (changed only when it was recompressed)
  sim::Duration cpu;         // decompression, and recompression with its CRC, on the I/O thread
  bool recompressed = false;
};
ValidatedBatch validate_batch(const CpuCosts& costs, kafka::BrokerCompressionType topic,
                              kafka::CompressionType produced, int64_t batch_bytes);
// The same with the producer's codec at its level (`produced_figures`) and the topic's codec at the topic's level
// (`topic_figures`, used when the batch is recompressed).
ValidatedBatch validate_batch(const CpuCosts& costs, kafka::BrokerCompressionType topic,
                              kafka::CompressionType produced, const CodecFigures& produced_figures,
                              const CodecFigures& topic_figures, int64_t batch_bytes);

// The compression of one world: each producer client's codec and level and each topic's compression.type and
// level, and the costs that follow from them (CodecCosts::at_level picks the figures of a level).
class CompressionModel {
 public:
  CompressionModel() = default;
  explicit CompressionModel(const WorldSpec& spec);

  // What a producer with spec index `producer_spec` makes of its batches, at its level (ratio 1 without a codec).
  const kafka::CompressionCurve& producer_compression(size_t producer_spec) const;
  // The producer's compression time for the batches of one request.
  sim::Duration producer_request_cost(size_t producer_spec, const kafka::ProduceRequest& request) const;
  // LogValidator on the leader for a request from producer `producer_spec`: rewrites the size of every batch
  // the topic stores in another codec, and returns the I/O thread's decompression/recompression time.
  sim::Duration validate_produce(size_t producer_spec, kafka::ProduceRequest& request) const;
  // A consumer's decompression time for what one poll() read: `iterated` lists the batches it read records of
  // (kafka::IteratedBatch: partition, batch, records_iterated), and each is paid for the share records_iterated /
  // record_count of its uncompressed bytes, decompressed as the producer that wrote it left it in the log: in that
  // producer's codec at its level, or in the topic's codec at the topic's level when the leader recompressed it.
  // `writer_of(batch)` is the spec index of the producer whose client wrote `batch` (producers of one topic may use
  // different codecs and levels; Kafka's batches carry their own codec).
  template <typename IteratedBatches, typename WriterOf>
  sim::Duration consumer_poll_cost(const IteratedBatches& iterated, WriterOf&& writer_of) const {
    sim::Duration cost;
    for (const auto& it : iterated) {
      KS_ASSERT_GE(it.partition.topic, 0);
      KS_ASSERT_LT(static_cast<size_t>(it.partition.topic), topic_stores_compressed_.size());
      if (!topic_stores_compressed_[static_cast<size_t>(it.partition.topic)]) continue;
      const kafka::RecordBatch& b = it.batch;
      KS_ASSERT_GT(b.record_count, 0);
      KS_ASSERT(it.records_iterated >= 0 && it.records_iterated <= b.record_count);
      const size_t writer = writer_of(b);
      KS_ASSERT_LT(writer, producer_stored_.size());
      const CodecFigures& figures = producer_stored_client_figures_[writer];
      const kafka::CompressionType codec = producer_stored_[writer];
      const int64_t share = uncompressed_records_bytes(figures, b.size_bytes) * it.records_iterated / b.record_count;
      cost += decompress_time(figures, codec, share);
    }
    return cost;
  }
  // The codec the batches of producer `producer_spec` are stored in on its topic (stored_codec of the topic's
  // compression.type and the producer's codec).
  kafka::CompressionType stored_codec_of(size_t producer_spec) const;

 private:
  CpuCosts costs_;
  std::vector<kafka::CompressionType> producer_codecs_;            // by producer spec index
  std::vector<CodecFigures> producer_figures_;                     // its codec at its level
  std::vector<kafka::BrokerCompressionType> topic_compression_;  // by topic index
  std::vector<CodecFigures> topic_figures_;                      // the topic's codec at the topic's level
  std::vector<kafka::CompressionType> producer_stored_;           // by producer spec index: the codec in the log
  std::vector<CodecFigures> producer_stored_figures_;              // and its level's figures
  // The same two with the client profile's speeds (and the brokers' ratios): what the producer's compression and
  // the consumers' decompression cost.
  std::vector<CodecFigures> producer_client_figures_;
  std::vector<CodecFigures> producer_stored_client_figures_;
  std::vector<bool> topic_stores_compressed_;                      // some producer's batches are compressed there
};

// A producer's compression work, serialised on one thread of its own: client hosts have no CPU model, so this is
// the smallest mechanism that lets a codec's speed limit a producer's throughput. The thread compresses the
// batches of each request in order. In Kafka the application thread compresses records as it appends them,
// while the Sender is still sending the previous request, so the work on a request may start as soon as the
// previous request was handed over (and the thread is free): a request is delayed only by the part of its
// compression that is not done by the time the Sender drains it, which is nothing unless the thread is
// saturated — and when it is, requests leave at the codec's pace.
class ClientCodecThread {
 public:
  // Runs `work` (sends the request) when its compression is done: at once, synchronously, when that is
  // already the case, so a producer without compression schedules no extra event and allocates nothing.
  template <typename F>
  void run(sim::Engine& engine, sim::Duration cost, F&& work) {
    const sim::SimTime done = reserve(engine.now(), cost);
    if (done <= engine.now()) {
      work();
      return;
    }
    engine.schedule_at(done, sim::Callback(std::forward<F>(work)));
  }
  // Compression time spent up to `now` (booked work after `now` excluded), for the thread's utilisation. A job may
  // start before it is booked (at the previous request's hand-over), so after set_origin(t) the part before t of
  // the jobs booked from then on is left out: a reading at t could not count it, and busy(now) - busy(t) is then
  // exactly the work done between t and now.
  sim::Duration busy(sim::SimTime now) const { return done_by(now) - booked_late_before_origin_; }
  // The time from which utilisations are measured (World::take_utilisation_origin), at the latest `now`.
  void set_origin(sim::SimTime origin) { origin_ = origin; }
  // The process died at `now` (producer_restart): the work booked after it is never done.
  void stop(sim::SimTime now) {
    busy_ = done_by(now);
    free_at_ = sim::min(free_at_, now);
  }
  // The process starts at `start` (a producer_restart's new process): its thread compressed nothing before, so no
  // job is booked earlier than that.
  void start_at(sim::SimTime start) {
    KS_ASSERT(busy_ == sim::Duration::zero());
    free_at_ = start;
    last_handover_ = start;
  }

 private:
  // Books `cost` from the later of the previous job's end and the previous request's hand-over, records `now`
  // as this request's hand-over, and returns when this job ends.
  sim::SimTime reserve(sim::SimTime now, sim::Duration cost);

  sim::Duration done_by(sim::SimTime now) const { return busy_ - sim::max(free_at_ - now, sim::Duration::zero()); }

  sim::SimTime free_at_;
  sim::SimTime last_handover_;
  sim::Duration busy_;
  sim::SimTime origin_;                         // set_origin (zero: none)
  sim::Duration booked_late_before_origin_;     // see busy()
};

}  // namespace kafkasim::cluster
