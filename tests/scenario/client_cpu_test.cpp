// A client host's CPU: each producer's application thread spends producer_send_cost in every send() before the
// record is in the accumulator (WorldSpec::producer_send_cost, the client CPU profile's costs/producer_send_cost).
// The expectations are the single-server queue's closed forms: a thread that sends back to back sends 1/c records
// a second, an open-loop schedule at r < 1/c keeps it r·c busy, one at r > 1/c falls behind by (1 − 1/(r·c)) of
// the elapsed time, and a closed-loop thread's cycle grows by c.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

constexpr double kCost_s = 20e-6;  // 20 us a send(): 50,000 records/s, far below what 10 GbE carries

cluster::WorldSpec cluster_with_send_cost(sim::Duration cost) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.producer_send_cost = cost;
  spec.duration = 3_s;
  spec.warmup = 1_s;
  return spec;
}

// Three brokers, one producer of 20,000 lz4 records/s of 1 KiB and one consumer group, over `protocol`, with the
// client CPU profile `client` (none: the brokers' rates), run for `duration` after `warmup`.
cluster::WorldSummary run_lz4(std::optional<cluster::CpuCosts> client, kafka::SecurityProtocol protocol,
                              sim::Duration duration, sim::Duration warmup) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = duration;
  spec.warmup = warmup;
  spec.client_cpu_costs = client;
  auto p = test::open_loop_producer(20'000, Acks::all, 5, 1024);
  p.config.compression_type = kafka::CompressionType::lz4;
  p.config.security_protocol = protocol;
  spec.producers.push_back(p);
  cluster::ConsumerSpec c;
  c.group = "readers";
  c.config.security_protocol = protocol;
  spec.consumers.push_back(c);
  cluster::World world(spec);
  return world.run();
}

// The brokers' CPU costs of test::small_cluster, the start of a client profile.
cluster::CpuCosts server_costs() { return test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1).cpu_costs; }

double utilisation_of(const cluster::WorldSummary& s, const std::string& name) {
  for (const auto& [n, u] : s.utilisation)
    if (n == name) return u;
  return -1;
}

}  // namespace

TEST_CASE("an unthrottled producer whose send() takes c sends 1/c records a second, and the thread is the bottleneck") {
  auto spec = cluster_with_send_cost(sim::Duration::from_seconds_ceil(kCost_s));
  auto p = test::open_loop_producer(10'000'000, Acks::leader, 0, 512);
  p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.throughput_records_per_s == doctest::Approx(1.0 / kCost_s).scale(0).epsilon(0.005));
  CHECK(s.bottleneck == "client-0 application thread");
  CHECK(s.bottleneck_utilisation > 0.99);
  // Without the cost the same producer is limited by the cluster instead, far above 1/c.
  auto free_spec = cluster_with_send_cost(sim::Duration::zero());
  free_spec.producers.push_back(p);
  cluster::World free_world(free_spec);
  const auto f = free_world.run();
  CHECK(f.throughput_records_per_s > 5.0 / kCost_s);
  CHECK(utilisation_of(f, "client-0 application thread") < 0);  // not listed: it costs nothing
}

TEST_CASE("an open-loop schedule below 1/c keeps the thread r·c busy and loses nothing") {
  auto spec = cluster_with_send_cost(sim::Duration::from_seconds_ceil(kCost_s));
  constexpr double rate = 40'000;  // r·c = 0.8
  spec.producers.push_back(test::open_loop_producer(rate, Acks::leader, 1, 512));
  cluster::World world(spec);
  const auto s = world.run();
  CHECK(s.throughput_records_per_s == doctest::Approx(rate).scale(0).epsilon(0.005));
  CHECK(utilisation_of(s, "client-0 application thread") == doctest::Approx(rate * kCost_s).scale(0).epsilon(0.005));
  // Every record waits its own send() and no other: p50 grows by about c (the rest of the path is the same).
  auto free_spec = cluster_with_send_cost(sim::Duration::zero());
  free_spec.producers.push_back(test::open_loop_producer(rate, Acks::leader, 1, 512));
  cluster::World free_world(free_spec);
  const auto f = free_world.run();
  CHECK(s.produce_latency.p50_ms - f.produce_latency.p50_ms == doctest::Approx(kCost_s * 1e3).scale(0).epsilon(0.25));
}

TEST_CASE("an open-loop schedule above 1/c falls behind: latency from the schedule grows by (1 - 1/(r·c)) of the time") {
  auto spec = cluster_with_send_cost(sim::Duration::from_seconds_ceil(kCost_s));
  constexpr double rate = 60'000;  // r·c = 1.2: the thread sends 50,000 a second and falls ever further behind
  spec.producers.push_back(test::open_loop_producer(rate, Acks::leader, 1, 512));
  cluster::World world(spec);
  const auto s = world.run();
  // The thread is never idle, so it sends 1/c a second; the records sent by the end of the run are the first
  // T/c of the schedule, the last of them intended at T/(r·c) and sent at T: it is T·(1 − 1/(r·c)) = 0.5 s late.
  const double T = spec.duration.seconds_f();
  CHECK(s.throughput_records_per_s == doctest::Approx(1.0 / kCost_s).scale(0).epsilon(0.005));
  CHECK(s.produce_latency.max_ms == doctest::Approx(T * (1 - 1 / (rate * kCost_s)) * 1e3).scale(0).epsilon(0.02));
  CHECK(s.bottleneck == "client-0 application thread");
}

TEST_CASE("a closed-loop thread's cycle grows by c: throughput 1 / (L0 + c)") {
  constexpr double cost_s = 200e-6;  // comparable to the produce round trip, so the effect is large
  auto free_spec = cluster_with_send_cost(sim::Duration::zero());
  auto p = test::open_loop_producer(0, Acks::leader, 0, 512);
  p.records_per_s = 0;
  p.closed_loop_threads = 1;
  free_spec.producers.push_back(p);
  cluster::World free_world(free_spec);
  const auto f = free_world.run();
  REQUIRE(f.records_failed == 0);
  const double L0 = f.produce_latency.mean_ms * 1e-3;

  auto spec = cluster_with_send_cost(sim::Duration::from_seconds_ceil(cost_s));
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.throughput_records_per_s == doctest::Approx(1.0 / (L0 + cost_s)).scale(0).epsilon(0.02));
  // Latency counts from the call to send(), so it includes c.
  CHECK(s.produce_latency.mean_ms * 1e-3 == doctest::Approx(L0 + cost_s).scale(0).epsilon(0.02));
  CHECK(utilisation_of(s, "client-0 application thread") ==
        doctest::Approx(cost_s / (L0 + cost_s)).scale(0).epsilon(0.03));
}

TEST_CASE("a busy application thread that waits for buffer.memory is not the bottleneck: what drains it is") {
  // acks=all, 64,000-byte batches and a 4 MiB buffer.memory: the sender drains the accumulator at X0 records/s
  // when send() is free. With send() taking c = 0.90 / X0 the thread could send 10 % more than that: it is about
  // 90 % busy and waits for buffer.memory whenever the accumulator is full. The throughput and the bottleneck
  // are then those of the run without the cost (the same resource of one of the three symmetric brokers).
  auto make = [](sim::Duration cost) {
    auto spec = cluster_with_send_cost(cost);
    auto p = test::open_loop_producer(10'000'000, Acks::all, 0, 512);
    p.arrival = cluster::ArrivalProcess::Kind::kUnthrottled;
    p.config.batch_size_bytes = 64000;
    p.config.enable_idempotence = false;
    p.config.buffer_memory_bytes = 4 << 20;
    spec.producers.push_back(p);
    return spec;
  };
  cluster::World free_world(make(sim::Duration::zero()));
  const auto f = free_world.run();
  const double x0 = f.throughput_records_per_s;
  cluster::World world(make(sim::Duration::from_seconds_ceil(0.90 / x0)));
  const auto s = world.run();
  CAPTURE(x0);
  CAPTURE(f.bottleneck);
  CHECK(utilisation_of(s, "client-0 application thread") > 0.89);
  CHECK(s.throughput_records_per_s == doctest::Approx(x0).scale(0).epsilon(0.01));
  const auto resource = [](const std::string& name) { return name.substr(name.find(' ')); };  // "broker-N nic rx"
  REQUIRE(f.bottleneck.starts_with("broker-"));
  REQUIRE(s.bottleneck.starts_with("broker-"));
  CHECK(resource(s.bottleneck) == resource(f.bottleneck));
  CHECK(s.bottleneck_utilisation == doctest::Approx(f.bottleneck_utilisation).scale(0).epsilon(0.01));
  CHECK(s.bottleneck_utilisation < utilisation_of(s, "client-0 application thread"));  // the rule, not the ranking
}

TEST_CASE("a client CPU profile prices the clients' per-byte work: at half its rates it takes twice as long") {
  // lz4 batches over TLS: the producer compresses and encrypts, the consumer decrypts, checks CRCs and decompresses.
  auto run = [](std::optional<double> client_speed) {
    std::optional<cluster::CpuCosts> client;
    if (client_speed) {
      client = server_costs();
      client->aes_gcm_bytes_per_s *= *client_speed;
      client->memcpy_bytes_per_s *= *client_speed;
      client->crc32c_bytes_per_s *= *client_speed;
      client->codecs.lz4.compress_bytes_per_s *= *client_speed;
      client->codecs.lz4.decompress_bytes_per_s *= *client_speed;
    }
    return run_lz4(client, kafka::SecurityProtocol::ssl, 3_s, 1_s);
  };
  const auto none = run(std::nullopt);
  const auto same = run(1.0);
  const auto half = run(0.5);
  // A client profile with the brokers' rates changes nothing at all.
  CHECK(same.trace_hash == none.trace_hash);
  CHECK(same.tls.consumer_cores == none.tls.consumer_cores);
  // At half the rates the clients' passes take twice as long; the brokers' work and the batches (the ratio is the
  // brokers' profile's) stay as they were, and nothing falls behind at this load.
  CHECK(half.consumed_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(half.tls.producer_cores == doctest::Approx(2 * same.tls.producer_cores).scale(0).epsilon(0.01));
  CHECK(half.tls.consumer_cores == doctest::Approx(2 * same.tls.consumer_cores).scale(0).epsilon(0.01));
  CHECK(half.tls.broker_network_cores == doctest::Approx(same.tls.broker_network_cores).scale(0).epsilon(0.01));
  CHECK(half.batch_size_bytes_mean == doctest::Approx(same.batch_size_bytes_mean).scale(0).epsilon(0.001));
  // The producer's thread compresses and encrypts: twice as busy.
  CHECK(utilisation_of(half, "client-0 compression and encryption") ==
        doctest::Approx(2 * utilisation_of(same, "client-0 compression and encryption")).scale(0).epsilon(0.01));
  CHECK(utilisation_of(same, "client-0 compression and encryption") > 0);
}

TEST_CASE("a consumer whose client CPU decompresses lz4 at 10 MB/s reads about 10 MB of records a second") {
  // The producer's 20,000 records/s of 1 KiB (about 21 MB/s uncompressed) against a consumer that decompresses at
  // 10 MB/s in its application thread: it reads 10e6 / (bytes a record uncompressed) records a second. A fetch
  // response of a lagging consumer holds several thousand records (seconds of work here), charged at once, so the
  // window is long enough to hold many of them; at the brokers' speed the same consumer keeps up.
  auto run = [](std::optional<double> decompress_bytes_per_s) {
    std::optional<cluster::CpuCosts> client;
    if (decompress_bytes_per_s) {
      client = server_costs();
      client->codecs.lz4.decompress_bytes_per_s = *decompress_bytes_per_s;
    }
    return run_lz4(client, kafka::SecurityProtocol::plaintext, 12_s, 2_s);
  };
  const auto slow = run(10e6);
  const auto brokers_speed = run(std::nullopt);
  CHECK(slow.throughput_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(brokers_speed.consumed_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  // A 1 KiB value is 1,024 bytes of a record of a few more (length, attributes, deltas, key and header counts:
  // about 8 here); the batch header is not decompressed. Records count as consumed when poll returns them, before
  // the work that follows, hence the tolerance.
  CHECK(slow.consumed_records_per_s == doctest::Approx(10e6 / 1032).scale(0).epsilon(0.05));
}
