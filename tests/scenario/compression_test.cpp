// compression.type on the data path: smaller batches on the wire and on disk, and the codec CPU the broker's
// I/O threads pay (cluster/compression_costs.hpp). Expectations are closed forms from the bundled profiles'
// numbers: the NIC goodput, the measured codec ratio and speeds, and the v2 record size.
#include <doctest/doctest.h>

#include <cmath>

#include "kafkasim/kafka/producer/record_batch.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;
using kafka::CompressionType;

namespace {

constexpr uint32_t kValueBytes = 512;

const cluster::CpuCosts& profile_costs() {
  static const cluster::CpuCosts costs =
      std::get<cluster::CpuProfile>(
          cluster::load_named_profile("cpu-server-16core", cluster::bundled_profile_dir()).params)
          .costs;
  return costs;
}

// A 512-byte value without key or headers at offset delta `offset_delta` in its batch, timestamp delta < 64 ms:
// 1 attributes + 1 timestamp delta + 1 or 2 offset delta + 1 null key + 2 + 512 value + 1 header count, and
// the 2-byte length in front.
int32_t record_bytes(int32_t offset_delta) {
  kafka::RecordShape shape;
  shape.value_bytes = kValueBytes;
  return kafka::record_size_in_batch_bytes(offset_delta, 1, shape);
}

// A full batch.size = 16384 batch of such records (MemoryRecordsBuilder.hasRoomFor, with the compression estimate
// converged to the ratio the codec's curve gives such a batch: the estimate decides how many records go in, and
// they decide the ratio, so the two are iterated to their fixed point).
struct FullBatch {
  int32_t records = 0;
  int64_t uncompressed = 0;  // records bytes
  int64_t built = 0;         // the batch's size on the wire
  double ratio = 1;          // the curve's ratio at `uncompressed`
};
FullBatch full_batch(CompressionType codec, const kafka::CompressionCurve& curve) {
  FullBatch b;
  float estimate = 1.0f;
  for (int i = 0; i < 50; ++i) {
    int32_t n = 0, uncompressed = 0;
    auto fits = [&] { return 16384 >= kafka::estimated_batch_bytes(codec, uncompressed, estimate) + record_bytes(n); };
    while (n == 0 || fits()) uncompressed += record_bytes(n++);
    b = {n, uncompressed, 0, codec == CompressionType::none ? 1.0 : curve.ratio_at(uncompressed)};
    if (static_cast<float>(b.ratio) == estimate) break;
    estimate = static_cast<float>(b.ratio);
  }
  b.built = 61 + (codec == CompressionType::none ? b.uncompressed : curve.compressed_bytes(b.uncompressed));
  return b;
}

// The uncompressed records bytes of a batch of `n` such records (offset deltas 0..n-1).
int64_t records_bytes(int32_t n) {
  int64_t bytes = 0;
  for (int32_t i = 0; i < n; ++i) bytes += record_bytes(i);
  return bytes;
}

// Every batch in the logs of the first topic's `partitions` partitions on broker 0.
std::vector<kafka::RecordBatch> stored_batches(cluster::World& world, int32_t partitions) {
  std::vector<kafka::RecordBatch> stored;
  for (int32_t p = 0; p < partitions; ++p)
    for (const auto& segment : world.partition(0, {0, p})->log().segments())
      for (const auto& b : segment.batches()) stored.push_back(b.batch);
  return stored;
}

cluster::WorldSpec one_broker(const char* client_nic) {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.client_nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile(client_nic, cluster::bundled_profile_dir()).params);
  return spec;
}

// Σ over the completed tasks of the broker's I/O pool of their service time (sojourn minus queueing).
double io_busy_seconds(cluster::World& world) {
  auto& cpu = world.broker_hardware(0).cpu();
  const auto stats = cpu.pool_stats(cpu.pool("io"));
  return (stats.sojourn_total - stats.wait_total).seconds_f();
}

}  // namespace

TEST_CASE("a producer bound by its 1 GbE NIC sends about 1/ratio times more records with lz4; gzip's speed binds") {
  constexpr int32_t kPartitions = 6;  // one request carries a batch of each: the socket, not the window, binds
  std::vector<kafka::RecordBatch> lz4_batches;
  auto run = [&lz4_batches](CompressionType codec) {
    auto spec = one_broker("nic-1gbe");
    spec.topics[0].partitions = kPartitions;
    spec.duration = 2_s;
    spec.warmup = 500_ms;
    auto p = test::open_loop_producer(2'000'000, Acks::leader, 5, kValueBytes);
    p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
    p.config.compression_type = codec;
    spec.producers.push_back(p);
    cluster::World world(spec);
    const auto summary = world.run();
    if (codec == CompressionType::lz4) lz4_batches = stored_batches(world, kPartitions);
    return summary;
  };
  const auto none = run(CompressionType::none);
  const auto lz4 = run(CompressionType::lz4);
  CHECK(none.bottleneck == "client-0 nic tx");
  CHECK(lz4.bottleneck == "client-0 nic tx");

  // Closed form: the client NIC carries goodput = line rate x goodput fraction of request bytes; a request is
  // the 24-byte header and, for each partition, 16 bytes and one full batch.
  const auto nic = std::get<cluster::NicProfile>(
      cluster::load_named_profile("nic-1gbe", cluster::bundled_profile_dir()).params);
  const double goodput = nic.link.bandwidth_bytes_per_s * nic.goodput_fraction;
  const cluster::CodecCosts& codecs = profile_costs().codecs;
  auto nic_bound = [&](CompressionType codec) {
    const FullBatch b = full_batch(codec, codecs.of(codec).curve);
    return goodput * kPartitions * b.records / static_cast<double>(24 + kPartitions * (16 + b.built));
  };
  // A request counts as sent once its last byte has left the client NIC (NetworkClient's completed send), so the
  // Sender keeps the NIC busy: each producer gets close to the bound. The throughput window may also count the
  // acks of requests already in flight when it opened: at most max.in.flight (5) requests of kPartitions
  // batches over the 1.5 s window.
  for (const auto& [summary, codec] :
       {std::pair{&none, CompressionType::none}, std::pair{&lz4, CompressionType::lz4}}) {
    const int32_t records_per_batch = full_batch(codec, codecs.of(codec).curve).records;
    const double edge = 5.0 * kPartitions * records_per_batch / 1.5;
    CHECK(summary->throughput_records_per_s <= nic_bound(codec) + edge);
    CHECK(summary->throughput_records_per_s >= 0.95 * nic_bound(codec));
  }
  // The gain is close to 1/ratio (about 3.7 with the profile's lz4 ratio of such a batch, about 0.27); per-batch
  // overheads shave a little.
  const double gain = lz4.throughput_records_per_s / none.throughput_records_per_s;
  CHECK(gain == doctest::Approx(nic_bound(CompressionType::lz4) / nic_bound(CompressionType::none)).scale(0).epsilon(0.03));
  CHECK(gain == doctest::Approx(1 / full_batch(CompressionType::lz4, codecs.lz4.curve).ratio).scale(0).epsilon(0.05));
  // Batches on the wire hold more records, each built at the ratio the codec's curve gives its uncompressed size.
  const double none_batch = static_cast<double>(full_batch(CompressionType::none, {}).built);
  const double lz4_batch = static_cast<double>(full_batch(CompressionType::lz4, codecs.lz4.curve).built);
  CHECK(none.batch_size_bytes_mean == doctest::Approx(none_batch).scale(0).epsilon(0.02));
  REQUIRE(lz4_batches.size() > 1000);
  for (const auto& b : lz4_batches) CHECK(b.size_bytes == 61 + codecs.lz4.curve.compressed_bytes(records_bytes(b.record_count)));
  // The converged full batch bounds them from above. They average a little less: a batch that leaves before it is
  // full compresses worse (the drain of a ready node takes the first batch of every partition the node leads, full
  // or not, such as the few-record batch of the partition the sticky partitioner has just moved to), and
  // CompressionRatioEstimator takes a worse observed ratio at once (at least +0.05) but recovers by only 0.005 a
  // batch, so the batches that follow are filled against a pessimistic estimate (kafka-behaviour.md §1.4, §1.5).
  CHECK(lz4.batch_size_bytes_mean <= 1.01 * lz4_batch);
  CHECK(lz4.batch_size_bytes_mean > none_batch / 2);

  // gzip would fit 1/0.17 times more records into the NIC than none, but one core deflates only about
  // 100 MB/s: the producer's compression thread binds, at its speed over the uncompressed record size.
  const auto gzip = run(CompressionType::gzip);
  CHECK(gzip.bottleneck == "client-0 compression");
  CHECK(gzip.bottleneck_utilisation == doctest::Approx(1.0).scale(0).epsilon(0.01));
  CHECK(gzip.throughput_records_per_s < nic_bound(CompressionType::gzip) / 2);
  const double gzip_bound = codecs.gzip.compress_bytes_per_s / record_bytes(1);
  CHECK(gzip.throughput_records_per_s == doctest::Approx(gzip_bound).scale(0).epsilon(0.03));
}

TEST_CASE("compression.zstd.level: the producer compresses at its level's speed and builds batches at its ratio") {
  // An unthrottled producer on 1 GbE, one partition (a request carries one batch), zstd at Kafka's default level 3
  // and at level 19, whose figures the bundled profile measures (codec_levels). zstd fits about six times more
  // records into the NIC than no compression, so the producer's compression thread binds at both levels: at the
  // level's speed over the uncompressed record size. Each batch is built at the ratio the level's curve gives its
  // uncompressed size, whatever the producer's ratio estimate (which decides only how many records go in).
  std::vector<kafka::RecordBatch> stored;
  auto run = [&stored](int32_t level, sim::Duration duration) {
    auto spec = one_broker("nic-1gbe");
    spec.duration = duration;
    spec.warmup = 1_s;
    auto p = test::open_loop_producer(2'000'000, Acks::leader, 5, kValueBytes);
    p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
    p.config.compression_type = CompressionType::zstd;
    p.config.compression_zstd_level = level;
    spec.producers.push_back(p);
    cluster::World world(spec);
    const auto summary = world.run();
    stored = stored_batches(world, 1);
    return summary;
  };
  const cluster::CodecAtLevel l19 = profile_costs().codecs.at_level(CompressionType::zstd, 19);
  REQUIRE(l19.exact);  // measured, not a stand-in
  const cluster::CodecFigures& l3 = profile_costs().codecs.zstd;
  const auto full = [](const cluster::CodecFigures* f) { return full_batch(CompressionType::zstd, f->curve); };
  REQUIRE(full(l19.figures).ratio < full(&l3).ratio);
  REQUIRE(l19.figures->compress_bytes_per_s < l3.compress_bytes_per_s / 10);
  // Level 19 sends a few hundred records a second: a longer run keeps the requests in flight at the window's edges
  // (at most 5 batches of ~31 records) small against what the window counts.
  for (const auto& [level, figures, duration] :
       {std::tuple{3, &l3, 3_s}, std::tuple{19, l19.figures, 12_s}}) {
    CAPTURE(level);
    const auto s = run(level, duration);
    CHECK(s.bottleneck == "client-0 compression");
    CHECK(s.throughput_records_per_s == doctest::Approx(figures->compress_bytes_per_s / record_bytes(1)).scale(0).epsilon(0.03));
    REQUIRE(stored.size() > 10);
    for (const auto& b : stored) CHECK(b.size_bytes == 61 + figures->curve.compressed_bytes(records_bytes(b.record_count)));
  }
}

TEST_CASE("broker I/O threads: decompression of every lz4 batch adds uncompressed bytes / decompress speed") {
  auto run = [](CompressionType codec, kafka::BrokerCompressionType topic_codec, double& busy_s,
                std::vector<kafka::RecordBatch>& stored) {
    auto spec = one_broker("nic-10gbe");
    spec.duration = 3_s;
    spec.warmup = 1_s;
    spec.topics[0].config.log.compression_type = topic_codec;
    // 5000 records/s with linger.ms = 5: about 26 records a batch, never full, one batch per request.
    auto p = test::open_loop_producer(5000, Acks::leader, 5, kValueBytes);
    p.config.compression_type = codec;
    spec.producers.push_back(p);
    cluster::World world(spec);
    const auto summary = world.run();
    busy_s = io_busy_seconds(world);
    stored.clear();
    for (const auto& segment : world.partition(0, {0, 0})->log().segments())
      for (const auto& b : segment.batches()) stored.push_back(b.batch);
    return summary;
  };
  const cluster::CpuCosts& costs = profile_costs();
  const double crc = costs.crc32c_bytes_per_s * costs.desktop_to_server_scale;
  const double fixed = costs.request_fixed_cost.seconds_f();
  // The uncompressed records of a stored batch: every record has the same size while offset deltas stay
  // below 64.
  auto uncompressed = [](const kafka::RecordBatch& b) {
    REQUIRE(b.record_count < 64);
    return static_cast<double>(b.record_count) * record_bytes(1);
  };

  double busy_none = 0, busy_lz4 = 0, busy_recompress = 0;
  std::vector<kafka::RecordBatch> none, lz4, recompressed;
  run(CompressionType::none, kafka::BrokerCompressionType::producer, busy_none, none);
  run(CompressionType::lz4, kafka::BrokerCompressionType::producer, busy_lz4, lz4);
  REQUIRE(none.size() > 500);
  REQUIRE(lz4.size() > 500);

  // Uncompressed: a fixed cost and the CRC per request (one batch each), nothing else.
  double expected_none = 0;
  for (const auto& b : none) expected_none += fixed + b.size_bytes / crc;
  CHECK(busy_none == doctest::Approx(expected_none).scale(0).epsilon(1e-4));

  // lz4 kept as sent (compression.type = producer): the same, plus each batch's uncompressed bytes at the
  // profile's lz4 decompression speed (LogValidator iterates the records through the decompression stream).
  double base_lz4 = 0, decompression = 0;
  for (const auto& b : lz4) {
    CHECK(b.size_bytes == 61 + costs.codecs.lz4.curve.compressed_bytes(std::llround(uncompressed(b))));
    base_lz4 += fixed + b.size_bytes / crc;
    decompression += uncompressed(b) / costs.codecs.lz4.decompress_bytes_per_s;
  }
  CHECK(decompression > 1e-3);  // about 7.8 MB of records at about 4 GB/s
  CHECK(busy_lz4 - base_lz4 == doctest::Approx(decompression).scale(0).epsilon(0.01));

  // Uncompressed records into a topic with compression.type = lz4: the broker compresses them, writes a new
  // CRC, and stores the smaller batch.
  run(CompressionType::none, kafka::BrokerCompressionType::lz4, busy_recompress, recompressed);
  REQUIRE(recompressed.size() > 500);
  double expected_recompress = 0;
  for (const auto& b : recompressed) {
    const double u = uncompressed(b);
    const auto stored = 61 + costs.codecs.lz4.curve.compressed_bytes(std::llround(u));
    CHECK(b.size_bytes == stored);
    expected_recompress += fixed + (61 + u) / crc + u / costs.codecs.lz4.compress_bytes_per_s +
                           static_cast<double>(stored) / crc;
  }
  CHECK(busy_recompress == doctest::Approx(expected_recompress).scale(0).epsilon(1e-3));
}

TEST_CASE("consumers decompress each batch in its writer's codec: zstd and uncompressed producers on one topic") {
  // One partition with compression.type = producer, written by three zstd producers and three uncompressed ones at
  // the same rate, so half the records in the log are zstd. The profile's zstd decompression is slowed to 4 MB/s
  // so that one consumer, started 1 s late from the log start and with no processing time of its own, stays
  // behind, bound by decompression: it pays for the zstd half only, one uncompressed record size / 4 MB/s for
  // every second record. Charging every batch as the topic's first producer wrote it would halve its rate (zstd
  // first) or leave it unbound (uncompressed first). The leader's LogValidator decompresses too, but each
  // producer's connection uses 39 % of one of the 8 I/O threads.
  constexpr double kDecompress = 4e6;
  constexpr double kPerProducer = 3'000;
  for (const bool zstd_first : {true, false}) {
    CAPTURE(zstd_first);
    auto spec = one_broker("nic-10gbe");
    spec.duration = 6_s;
    spec.warmup = 2_s;
    spec.cpu_costs.codecs.zstd.decompress_bytes_per_s = kDecompress;
    for (const CompressionType codec : {CompressionType::zstd, CompressionType::none}) {
      auto p = test::open_loop_producer(kPerProducer, Acks::leader, 5, kValueBytes);
      p.count = 3;
      p.config.compression_type = zstd_first ? codec : (codec == CompressionType::zstd ? CompressionType::none
                                                                                       : CompressionType::zstd);
      spec.producers.push_back(p);
    }
    cluster::ConsumerSpec c = test::group_member();
    c.topic = 0;
    c.start_at = 1_s;
    c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
    spec.consumers.push_back(c);
    cluster::World world(spec);
    const auto s = world.run();
    REQUIRE(s.records_failed == 0);
    REQUIRE(s.throughput_records_per_s == doctest::Approx(6 * kPerProducer).scale(0).epsilon(0.01));
    // Records of a batch under 64 have one size (offset deltas below 64; about 15 a batch here).
    const double per_record = 0.5 * record_bytes(1) / kDecompress;
    CHECK(s.consumed_records_per_s == doctest::Approx(1 / per_record).scale(0).epsilon(0.03));
    CHECK(s.consumed_records_per_s < 6 * kPerProducer * 0.9);  // still behind: decompression binds
  }
}

TEST_CASE("a consumer decompresses as poll() reads: each poll pays for its own records' share of their batches") {
  // CompletedFetch reads a compressed batch through its decompression stream record by record, so a poll that returns
  // max.poll.records = 10 of a 1 MiB fetch decompresses 10 records' worth, not the whole fetch. One partition, three
  // zstd producers at 4,000 records/s each; the consumer starts 1 s late from the log start with no processing time
  // of its own, and the profile's zstd decompression is slowed to 4 MB/s: every poll returns 10 records, each of one
  // uncompressed record size (record_bytes(1): batches of ~15 records have offset deltas below 64), so polls follow
  // each other 10 x record_bytes(1) / 4 MB/s apart (1.3 ms), at about 7,700 records/s, behind the 12,000 produced.
  // Charging each fetch response's decompression to the first poll after it would put most polls 0 apart and one
  // in several hundred a whole response's decompression apart.
  constexpr double kDecompress = 4e6;
  constexpr int32_t kMaxPollRecords = 10;
  auto spec = one_broker("nic-10gbe");
  spec.duration = 6_s;
  spec.warmup = 2_s;
  spec.cpu_costs.codecs.zstd.decompress_bytes_per_s = kDecompress;
  auto p = test::open_loop_producer(4'000, Acks::leader, 5, kValueBytes);
  p.count = 3;
  p.config.compression_type = CompressionType::zstd;
  spec.producers.push_back(p);
  cluster::ConsumerSpec c = test::group_member();
  c.topic = 0;
  c.start_at = 1_s;
  c.config.auto_offset_reset = kafka::AutoOffsetReset::earliest;
  c.config.max_poll_records = kMaxPollRecords;
  spec.consumers.push_back(c);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  REQUIRE(s.throughput_records_per_s == doctest::Approx(12'000).scale(0).epsilon(0.01));
  const double poll_s = kMaxPollRecords * record_bytes(1) / kDecompress;
  CHECK(s.consumed_records_per_s == doctest::Approx(kMaxPollRecords / poll_s).scale(0).epsilon(0.01));
  // Every poll returns at once (the consumer is behind) and its processing is its decompression: the median and
  // the 99th percentile gap are one poll's share (the CRC32C checks of the batches it opens add well under 1 %);
  // only the poll that drains a fetch waits for the next response, a network round trip more.
  CHECK(s.time_between_poll.p50_ms == doctest::Approx(poll_s * 1e3).scale(0).epsilon(0.01));
  CHECK(s.time_between_poll.p99_ms == doctest::Approx(poll_s * 1e3).scale(0).epsilon(0.01));
  CHECK(s.time_between_poll.max_ms < poll_s * 1e3 + 5);
  // Kafka's poll-idle-ratio: the time in poll() is nil against the processing.
  CHECK(s.poll_idle_ratio < 0.01);
}

TEST_CASE("linger.ms: lingered lz4 batches hold more records and compress better, as the codec's curve says") {
  // 2,000 records/s on one partition: with linger.ms = 0 a batch leaves with the one or two records that arrived
  // while the previous request was out; with linger.ms = 20 it waits for about 40. Every batch is built at the
  // ratio the profile's lz4 curve gives its uncompressed size (bench/codec_measure.cpp measured the curve on
  // batches of 1 to 1,024 records), so the lingered run sends fewer compressed bytes a record.
  auto run = [](int32_t linger_ms) {
    auto spec = one_broker("nic-10gbe");
    spec.duration = 3_s;
    spec.warmup = 1_s;
    auto p = test::open_loop_producer(2000, Acks::leader, linger_ms, kValueBytes);
    p.config.compression_type = CompressionType::lz4;
    spec.producers.push_back(p);
    cluster::World world(spec);
    world.run();
    std::vector<kafka::RecordBatch> stored;
    for (const auto& segment : world.partition(0, {0, 0})->log().segments())
      for (const auto& b : segment.batches()) stored.push_back(b.batch);
    return stored;
  };
  const kafka::CompressionCurve& curve = profile_costs().codecs.lz4.curve;
  struct Totals {
    double records = 0, compressed = 0, uncompressed = 0, batches = 0;
  };
  auto totals_of = [&](const std::vector<kafka::RecordBatch>& stored) {
    Totals t;
    for (const auto& b : stored) {
      REQUIRE(b.record_count < 64);  // every record the same size (offset deltas below 64)
      const int64_t u = int64_t{b.record_count} * record_bytes(1);
      CHECK(b.size_bytes == 61 + curve.compressed_bytes(u));
      t.records += b.record_count;
      t.compressed += b.size_bytes - 61;
      t.uncompressed += static_cast<double>(u);
      t.batches += 1;
    }
    return t;
  };
  const Totals eager = totals_of(run(0));
  const Totals lingered = totals_of(run(20));
  REQUIRE(eager.batches > 1000);
  REQUIRE(lingered.batches > 100);
  CHECK(eager.records / eager.batches < 3);
  CHECK(lingered.records / lingered.batches > 30);
  // Compressed bytes a record fall with the batch size, by what the curve says between the two mean batch sizes.
  const double eager_ratio = eager.compressed / eager.uncompressed;
  const double lingered_ratio = lingered.compressed / lingered.uncompressed;
  CHECK(lingered_ratio < 0.8 * eager_ratio);
  const auto mean_u = [](const Totals& t) { return std::llround(t.uncompressed / t.batches); };
  CHECK(lingered_ratio / eager_ratio ==
        doctest::Approx(curve.ratio_at(mean_u(lingered)) / curve.ratio_at(mean_u(eager))).scale(0).epsilon(0.1));
}
