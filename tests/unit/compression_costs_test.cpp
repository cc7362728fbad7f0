// Compression arithmetic (cluster/compression_costs.hpp) against closed forms computed here from a made-up
// codec table with round numbers, and the topic-level compression.type in the scenario loader.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <nlohmann/json.hpp>

#include "kafkasim/cluster/compression_costs.hpp"
#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/world.hpp"
#include "kafkasim/kafka/consumer/consumer.hpp"

using namespace kafkasim;
using namespace kafkasim::cluster;
using namespace kafkasim::sim::literals;
using kafka::BrokerCompressionType;
using kafka::CompressionType;

namespace {

// Round numbers, different per codec, so that a mix-up between codecs or directions shows.
CpuCosts costs() {
  CpuCosts c;
  c.desktop_to_server_scale = 0.5;
  c.crc32c_bytes_per_s = 8e9;  // 4e9 B/s on a server core
  c.codecs.gzip = {kafka::CompressionCurve(0.2), 100e6, 500e6};
  c.codecs.snappy = {kafka::CompressionCurve(0.4), 1000e6, 2000e6};
  c.codecs.lz4 = {kafka::CompressionCurve(0.25), 1000e6, 4000e6};
  c.codecs.zstd = {kafka::CompressionCurve(0.16), 500e6, 2000e6};
  return c;
}

// A produce request carrying one batch of `size_bytes` for `partition`.
// What a poll that read every record of the response's batches iterated: each batch of 10 records, read whole.
std::vector<kafka::IteratedBatch> read_whole(kafka::FetchResponse response) {
  std::vector<kafka::IteratedBatch> iterated;
  for (auto& p : response.partitions)
    for (auto& b : p.batches) {
      b.record_count = 10;
      iterated.push_back({p.partition, b, 10, true});
    }
  return iterated;
}

kafka::ProduceRequest one_batch(kafka::PartitionRef partition, int32_t size_bytes) {
  kafka::ProduceRequest r;
  r.partitions.push_back({partition, {}});
  r.partitions[0].batch.size_bytes = size_bytes;
  return r;
}

// Seconds as a Duration, to compare with the model's durations (which round each term up to a nanosecond).
double seconds(sim::Duration d) { return d.seconds_f(); }
// A time of `s` seconds as the model charges it: rounded up to the nanosecond (each term on its own).
sim::Duration ceil_ns(double s) { return sim::Duration::from_ns(static_cast<int64_t>(std::ceil(s * 1e9))); }

}  // namespace

TEST_CASE("stored codec: producer keeps the producer's codec, uncompressed stores none, a codec stores itself") {
  CHECK(stored_codec(BrokerCompressionType::producer, CompressionType::lz4) == CompressionType::lz4);
  CHECK(stored_codec(BrokerCompressionType::producer, CompressionType::none) == CompressionType::none);
  CHECK(stored_codec(BrokerCompressionType::uncompressed, CompressionType::zstd) == CompressionType::none);
  CHECK(stored_codec(BrokerCompressionType::gzip, CompressionType::none) == CompressionType::gzip);
  CHECK(stored_codec(BrokerCompressionType::snappy, CompressionType::lz4) == CompressionType::snappy);
  CHECK(stored_codec(BrokerCompressionType::lz4, CompressionType::lz4) == CompressionType::lz4);
  CHECK(stored_codec(BrokerCompressionType::zstd, CompressionType::gzip) == CompressionType::zstd);
}

TEST_CASE("uncompressed size of a batch: its records bytes divided by the codec's ratio") {
  const CodecCosts c = costs().codecs;
  // lz4 at 0.25: a 61 + 2500 byte batch holds 10,000 uncompressed record bytes.
  CHECK(uncompressed_records_bytes(c, CompressionType::lz4, 61 + 2500) == 10'000);
  CHECK(uncompressed_records_bytes(c, CompressionType::zstd, 61 + 1600) == 10'000);
  CHECK(uncompressed_records_bytes(c, CompressionType::none, 61 + 10'000) == 10'000);
}

TEST_CASE("codec time: uncompressed bytes over one core's speed; nothing for no codec") {
  const CodecCosts c = costs().codecs;
  CHECK(compress_time(c, CompressionType::gzip, 1'000'000) == 10_ms);       // 1 MB at 100 MB/s
  CHECK(decompress_time(c, CompressionType::gzip, 1'000'000) == 2_ms);      // 1 MB at 500 MB/s
  CHECK(compress_time(c, CompressionType::lz4, 1'000'000) == 1_ms);
  CHECK(decompress_time(c, CompressionType::lz4, 1'000'000) == 250_us);
  CHECK(compress_time(c, CompressionType::none, 1'000'000) == sim::Duration::zero());
  CHECK(decompress_time(c, CompressionType::none, 1'000'000) == sim::Duration::zero());
  CHECK(compress_time(c, CompressionType::zstd, 0) == sim::Duration::zero());
}

TEST_CASE("LogValidator: decompress to validate; recompress, re-CRC and resize for another topic codec") {
  const CpuCosts c = costs();
  const double crc = 4e9;       // crc32c x desktop_to_server_scale
  const int64_t u = 100'000;    // uncompressed record bytes of the batch
  SUBCASE("uncompressed in, uncompressed kept: in-place offsets, no codec work") {
    const auto v = validate_batch(c, BrokerCompressionType::producer, CompressionType::none, 61 + u);
    CHECK(v.cpu == sim::Duration::zero());
    CHECK(v.stored_bytes == 61 + u);
    CHECK_FALSE(v.recompressed);
  }
  SUBCASE("lz4 in, topic `producer`: decompressed (skip-key/value iterator), stored as sent") {
    const auto v = validate_batch(c, BrokerCompressionType::producer, CompressionType::lz4, 61 + 25'000);
    CHECK(seconds(v.cpu) == doctest::Approx(u / 4000e6).scale(0));
    CHECK(v.stored_bytes == 61 + 25'000);
    CHECK_FALSE(v.recompressed);
  }
  SUBCASE("lz4 in, topic lz4: the same codec is also assigned in place") {
    const auto v = validate_batch(c, BrokerCompressionType::lz4, CompressionType::lz4, 61 + 25'000);
    CHECK(seconds(v.cpu) == doctest::Approx(u / 4000e6).scale(0));
    CHECK(v.stored_bytes == 61 + 25'000);
  }
  SUBCASE("lz4 in, topic zstd: decompress lz4, compress zstd, CRC the new batch") {
    const auto v = validate_batch(c, BrokerCompressionType::zstd, CompressionType::lz4, 61 + 25'000);
    const double stored = 61 + u * 0.16;
    CHECK(v.recompressed);
    CHECK(v.stored_bytes == static_cast<int64_t>(stored));
    CHECK(seconds(v.cpu) == doctest::Approx(u / 4000e6 + u / 500e6 + stored / crc).scale(0));
  }
  SUBCASE("uncompressed in, topic gzip: the broker compresses") {
    const auto v = validate_batch(c, BrokerCompressionType::gzip, CompressionType::none, 61 + u);
    const double stored = 61 + u * 0.2;
    CHECK(v.stored_bytes == static_cast<int64_t>(stored));
    CHECK(seconds(v.cpu) == doctest::Approx(u / 100e6 + stored / crc).scale(0));
  }
  SUBCASE("snappy in, topic uncompressed: the broker decompresses and stores the records as they are") {
    const auto v = validate_batch(c, BrokerCompressionType::uncompressed, CompressionType::snappy, 61 + 40'000);
    CHECK(v.stored_bytes == 61 + u);
    CHECK(seconds(v.cpu) == doctest::Approx(u / 2000e6 + (61.0 + u) / crc).scale(0));
  }
}

TEST_CASE("compression model of a world: producer ratios and costs, broker validation, consumer decompression") {
  WorldSpec spec;
  spec.cpu_costs = costs();
  for (const auto& [name, topic_codec] : {std::pair{"keep", BrokerCompressionType::producer},
                                          std::pair{"zstd", BrokerCompressionType::zstd}}) {
    TopicSpec t;
    t.name = name;
    t.config.log.compression_type = topic_codec;
    spec.topics.push_back(t);
  }
  // Producer 0 writes lz4 to "keep", producer 1 gzip to "keep" (after the first), producer 2 none to "zstd".
  for (const auto& [topic, codec] : {std::pair{0, CompressionType::lz4}, std::pair{0, CompressionType::gzip},
                                     std::pair{1, CompressionType::none}}) {
    ProducerSpec p;
    p.topic = topic;
    p.config.compression_type = codec;
    spec.producers.push_back(p);
  }
  const CompressionModel model(spec);
  CHECK(model.producer_compression(0).ratio_at(10'000) == 0.25);
  CHECK(model.producer_compression(1).ratio_at(10'000) == 0.2);
  CHECK(model.producer_compression(2).ratio_at(10'000) == 1.0);
  // On "keep" each producer's batches stay in its own codec; "zstd" stores zstd whatever was sent.
  CHECK(model.stored_codec_of(0) == CompressionType::lz4);
  CHECK(model.stored_codec_of(1) == CompressionType::gzip);
  CHECK(model.stored_codec_of(2) == CompressionType::zstd);

  kafka::ProduceRequest request;
  request.partitions.push_back({{0, 0}, {}});
  request.partitions.push_back({{0, 1}, {}});
  request.partitions[0].batch.size_bytes = 61 + 2'500;  // 10,000 uncompressed bytes with lz4
  request.partitions[1].batch.size_bytes = 61 + 5'000;  // 20,000
  // The producer compresses 30,000 bytes at 1000 MB/s.
  CHECK(seconds(model.producer_request_cost(0, request)) == doctest::Approx(30'000 / 1000e6).scale(0));
  CHECK(model.producer_request_cost(2, request) == sim::Duration::zero());
  // In place on "keep": decompression only, sizes unchanged.
  kafka::ProduceRequest kept = request;
  CHECK(seconds(model.validate_produce(0, kept)) == doctest::Approx(30'000 / 4000e6).scale(0));
  CHECK(kept.partitions[0].batch.size_bytes == 61 + 2'500);

  // Producer 2 sends 10,000 uncompressed bytes to "zstd": the broker compresses them to 1,600 bytes.
  kafka::ProduceRequest plain = one_batch({1, 0}, 61 + 10'000);
  // Compression and the new batch's CRC, each rounded up to the nanosecond.
  CHECK(model.validate_produce(2, plain) == ceil_ns(10'000 / 500e6) + ceil_ns((61 + 1'600) / 4e9));
  CHECK(plain.partitions[0].batch.size_bytes == 61 + 1'600);

  // A consumer decompresses each fetched batch in the codec its writer left it in (the batch's tag names the
  // writer here): on "keep" producer 0's lz4 and producer 1's gzip side by side, on "zstd" the broker's zstd.
  kafka::FetchResponse response;
  response.partitions.resize(2);
  response.partitions[0].partition = {0, 0};
  response.partitions[0].batches.resize(3);
  response.partitions[0].batches[0].size_bytes = 61 + 2'500;  // lz4: 10,000 bytes
  response.partitions[0].batches[1].size_bytes = 61 + 250;    // lz4: 1,000 bytes
  response.partitions[0].batches[2].size_bytes = 61 + 1'000;  // gzip: 5,000 bytes
  response.partitions[0].batches[2].tag = 1;
  response.partitions[1].partition = {1, 0};
  response.partitions[1].batches.resize(1);
  response.partitions[1].batches[0].size_bytes = 61 + 1'600;  // zstd: 10,000 bytes
  response.partitions[1].batches[0].tag = 2;
  const auto writer = [](const kafka::RecordBatch& b) { return static_cast<size_t>(b.tag); };
  auto iterated = read_whole(response);
  CHECK(seconds(model.consumer_poll_cost(iterated, writer)) ==
        doctest::Approx(11'000 / 4000e6 + 5'000 / 500e6 + 10'000 / 2000e6).scale(0));
  // A poll that reads 4 of the first batch's 10 records pays 4/10 of its 10,000 bytes, and the next one the rest.
  iterated.resize(1);
  iterated[0].records_iterated = 4;
  CHECK(seconds(model.consumer_poll_cost(iterated, writer)) == doctest::Approx(4'000 / 4000e6).scale(0));
  iterated[0].records_iterated = 6;
  CHECK(seconds(model.consumer_poll_cost(iterated, writer)) == doctest::Approx(6'000 / 4000e6).scale(0));
}

TEST_CASE("compression levels (KIP-390): each producer's and topic's level picks its figures") {
  // zstd at level 19 compresses to 0.1 at 1 MB/s; lz4 at level 12 (the high compressor) to 0.2 at 40 MB/s; gzip
  // at level 1 to 0.3 at 200 MB/s. The defaults keep the table of costs() above.
  WorldSpec spec;
  spec.cpu_costs = costs();
  spec.cpu_costs.codecs.zstd_levels[19] = {kafka::CompressionCurve(0.1), 1e6, 1000e6};
  spec.cpu_costs.codecs.lz4_levels[12] = {kafka::CompressionCurve(0.2), 40e6, 4000e6};
  spec.cpu_costs.codecs.gzip_levels[1] = {kafka::CompressionCurve(0.3), 200e6, 400e6};
  // Topic 0 keeps the producer's codec; topic 1 recompresses into gzip at level 1 (its own config).
  for (const auto& [name, topic_codec] : {std::pair{"keep", BrokerCompressionType::producer},
                                          std::pair{"gzip1", BrokerCompressionType::gzip}}) {
    TopicSpec t;
    t.name = name;
    t.config.log.compression_type = topic_codec;
    t.config.log.compression_gzip_level = 1;
    t.config.log.compression_zstd_level = 19;  // not its codec: no effect
    spec.topics.push_back(t);
  }
  // Producer 0: zstd 19 to "keep"; producer 1: lz4 12 to "keep" (after the first); producer 2: zstd 19 to "gzip1";
  // producer 3: zstd at the default level to "keep".
  for (const auto& [topic, codec, level] : {std::tuple{0, CompressionType::zstd, 19}, std::tuple{0, CompressionType::lz4, 12},
                                            std::tuple{1, CompressionType::zstd, 19},
                                            std::tuple{0, CompressionType::zstd, 3}}) {
    ProducerSpec p;
    p.topic = topic;
    p.config.compression_type = codec;
    p.config.compression_zstd_level = level;
    p.config.compression_lz4_level = level;
    spec.producers.push_back(p);
  }
  const CompressionModel model(spec);
  CHECK(model.producer_compression(0).ratio_at(10'000) == 0.1);
  CHECK(model.producer_compression(1).ratio_at(10'000) == 0.2);
  CHECK(model.producer_compression(3).ratio_at(10'000) == 0.16);  // the default level: the codecs section's figures
  const kafka::ProduceRequest request = one_batch({0, 0}, 61 + 1'000);  // zstd 19: 10,000 uncompressed bytes
  CHECK(seconds(model.producer_request_cost(0, request)) == doctest::Approx(10'000 / 1e6).scale(0));
  // The leader keeps a zstd batch on "keep" whatever its level, decompressing 10,000 bytes at 1000 MB/s.
  kafka::ProduceRequest kept = request;
  CHECK(seconds(model.validate_produce(0, kept)) == doctest::Approx(10'000 / 1000e6).scale(0));
  CHECK(kept.partitions[0].batch.size_bytes == 61 + 1'000);
  // On "gzip1" the leader recompresses at the topic's level 1: 10,000 bytes at 200 MB/s to 3,000 bytes.
  kafka::ProduceRequest recompressed = one_batch({1, 0}, 61 + 1'000);
  // Decompression, compression and the new batch's CRC, each rounded up to the nanosecond.
  CHECK(model.validate_produce(2, recompressed) ==
        ceil_ns(10'000 / 1000e6) + ceil_ns(10'000 / 200e6) + ceil_ns((61 + 3'000) / 4e9));
  CHECK(recompressed.partitions[0].batch.size_bytes == 61 + 3'000);
  // Consumers decompress each batch at the level it is stored at: on "keep" producer 0's zstd 19, producer 1's
  // lz4 12 and producer 3's zstd 3; on "gzip1" the topic's gzip 1, whatever producer 2 sent.
  kafka::FetchResponse response;
  response.partitions.resize(2);
  response.partitions[0].partition = {0, 0};
  response.partitions[0].batches.resize(3);
  response.partitions[0].batches[0].size_bytes = 61 + 1'000;  // zstd 19: 10,000 bytes
  response.partitions[0].batches[1].size_bytes = 61 + 2'000;  // lz4 12: 10,000 bytes
  response.partitions[0].batches[1].tag = 1;
  response.partitions[0].batches[2].size_bytes = 61 + 1'600;  // zstd 3: 10,000 bytes
  response.partitions[0].batches[2].tag = 3;
  response.partitions[1].partition = {1, 0};
  response.partitions[1].batches.resize(1);
  response.partitions[1].batches[0].size_bytes = 61 + 3'000;  // gzip 1: 10,000 bytes
  response.partitions[1].batches[0].tag = 2;
  const auto writer = [](const kafka::RecordBatch& b) { return static_cast<size_t>(b.tag); };
  CHECK(seconds(model.consumer_poll_cost(read_whole(response), writer)) ==
        doctest::Approx(10'000 / 1000e6 + 10'000 / 4000e6 + 10'000 / 2000e6 + 10'000 / 400e6).scale(0));
}

TEST_CASE("client codec thread: compression overlaps the previous request; requests wait only when it is behind") {
  sim::Engine engine;
  ClientCodecThread thread;
  std::vector<std::pair<int, int64_t>> done;  // (request, time it leaves, in us)
  auto request = [&](int id) { return [&done, &engine, id] { done.emplace_back(id, engine.now().ns() / 1000); }; };
  auto at = [&](int64_t us, int id, sim::Duration cost) {
    engine.schedule_at(sim::SimTime::zero() + sim::Duration::from_us(us),
                       [&, id, cost] { thread.run(engine, cost, request(id)); });
  };
  // Request 1 at 0: its batches were compressed from time 0 on (nothing was handed over before), so it waits
  // its whole 1 ms. Request 2 at 5 ms: compressed since request 1 left (0), done at 1 ms + 2 ms = 3 ms, before
  // 5 ms: it leaves at once. Requests 3 and 4 at 5.5 ms and 6 ms cost 4 ms each: the thread falls behind.
  at(0, 1, 1_ms);
  at(5000, 2, 2_ms);
  at(5500, 3, 4_ms);  // starts at max(3 ms, 5 ms) = 5 ms, done at 9 ms
  at(6000, 4, 4_ms);  // starts at max(9 ms, 5.5 ms) = 9 ms, done at 13 ms
  at(20000, 5, sim::Duration::zero());  // nothing to compress and the thread is idle: leaves at once
  engine.run_until(sim::SimTime::zero() + 7_ms);
  CHECK(thread.busy(engine.now()) == 1_ms + 2_ms + 2_ms);  // request 3 is half done at 7 ms, 4 not started
  engine.run_until(sim::SimTime::max());
  REQUIRE(done.size() == 5);
  CHECK(done[0] == std::pair{1, int64_t{1000}});
  CHECK(done[1] == std::pair{2, int64_t{5000}});
  CHECK(done[2] == std::pair{3, int64_t{9000}});
  CHECK(done[3] == std::pair{4, int64_t{13000}});
  CHECK(done[4] == std::pair{5, int64_t{20000}});
  CHECK(thread.busy(engine.now()) == 11_ms);
  // A free request with nothing queued runs synchronously, inside run().
  bool ran = false;
  thread.run(engine, sim::Duration::zero(), [&ran] { ran = true; });
  CHECK(ran);
}

TEST_CASE("client codec thread: a process that dies stops the work it had booked") {
  // producer_restart: the old process's thread compressed until the instant it died and no further, so its busy time
  // plus the new process's never exceeds the time that passed. Two 4 ms jobs booked at 0 (done at 4 and 8 ms), the
  // process killed at 5 ms: 5 ms of work done, and still 5 ms at any later time.
  sim::Engine engine;
  ClientCodecThread thread;
  thread.run(engine, 4_ms, [] {});
  thread.run(engine, 4_ms, [] {});
  engine.schedule_at(sim::SimTime::zero() + 5_ms, [] {});
  engine.run_until(sim::SimTime::zero() + 5_ms);
  CHECK(thread.busy(engine.now()) == 5_ms);
  thread.stop(engine.now());
  CHECK(thread.busy(engine.now()) == 5_ms);
  CHECK(thread.busy(sim::SimTime::zero() + 20_ms) == 5_ms);
}

TEST_CASE("client codec thread: measured from an origin, work booked later but done before it is not counted") {
  // A job starts at the previous request's hand-over, which may lie before the job is booked. Request 1 at 0 costs
  // 1 ms (0-1 ms); request 2, handed over at 10 ms, costs 6 ms and was compressed from 1 ms on (1-7 ms). With the
  // utilisation measured from 5 ms (fuzz seed 1600149 found 100.14 %), the thread worked 2 ms of the 5 ms since
  // (5-7 ms), not the 6 ms booked after the origin.
  sim::Engine engine;
  ClientCodecThread thread;
  thread.run(engine, 1_ms, [] {});
  engine.schedule_at(sim::SimTime::zero() + 5_ms, [] {});
  engine.run_until(sim::SimTime::zero() + 5_ms);
  thread.set_origin(engine.now());
  const sim::Duration at_origin = thread.busy(engine.now());
  CHECK(at_origin == 1_ms);
  engine.schedule_at(sim::SimTime::zero() + 10_ms, [] {});
  engine.run_until(sim::SimTime::zero() + 10_ms);
  bool left = false;
  thread.run(engine, 6_ms, [&left] { left = true; });
  CHECK(left);  // done at 7 ms, before its hand-over: it leaves at once
  CHECK(thread.busy(engine.now()) - at_origin == 2_ms);
}

TEST_CASE("client codec thread: a new process's thread starts with the process, not at time zero") {
  // The process started at 100 ms after one that kept its thread busy until it died there: the new thread's first
  // 1 ms job runs from 100 ms, so its request leaves at 101 ms, and the two threads' busy time is 101 ms in 101 ms
  // (before the fix the new job was booked from time zero: done in the past, leaving at once, 102 ms of work in 101).
  sim::Engine engine;
  ClientCodecThread old_process;
  old_process.run(engine, 100_ms, [] {});
  engine.schedule_at(sim::SimTime::zero() + 100_ms, [] {});
  engine.run_until(sim::SimTime::zero() + 100_ms);
  old_process.stop(engine.now());
  ClientCodecThread new_process;
  new_process.start_at(engine.now());
  std::optional<int64_t> left_us;
  new_process.run(engine, 1_ms, [&] { left_us = engine.now().ns() / 1000; });
  CHECK_FALSE(left_us.has_value());
  engine.run_until(sim::SimTime::max());
  REQUIRE(left_us.has_value());
  CHECK(*left_us == 101'000);
  CHECK(old_process.busy(engine.now()) + new_process.busy(engine.now()) == 101_ms);
}

TEST_CASE("scenario: topic and broker compression.type, Kafka's names and default, with a did-you-mean") {
  auto doc = nlohmann::json::parse(R"({
    "name": "t", "duration": "20s", "warmup": "5s",
    "cluster": {"brokers": 1, "config": {"compression.type": "lz4"}},
    "topics": [{"name": "a"}, {"name": "b", "config": {"compression.type": "zstd"}}],
    "producers": [{"topic": "a", "workload": {"rate": 1000, "record_size": 512}}]
  })");
  const WorldSpec spec = parse_scenario(doc, "t.json");
  CHECK(spec.topics[0].config.log.compression_type == BrokerCompressionType::lz4);  // the broker's default
  CHECK(spec.topics[1].config.log.compression_type == BrokerCompressionType::zstd);
  doc["cluster"].erase("config");
  CHECK(parse_scenario(doc, "t.json").topics[0].config.log.compression_type == BrokerCompressionType::producer);
  doc["topics"][1]["config"]["compression.type"] = "lz5";
  try {
    parse_scenario(doc, "t.json");
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.pointer() == "/topics/1/config/compression.type");
    CHECK(e.suggestion() == "lz4");
  }
  // The producer's codec name is "none"; the topic's is "uncompressed" (BrokerCompressionType).
  doc["topics"][1]["config"]["compression.type"] = "none";
  CHECK_THROWS_AS(parse_scenario(doc, "t.json"), ConfigError);
}
