// The brokers' RequestMetrics (Kafka's RequestsPerSec and TotalTimeMs split into RequestQueueTimeMs, LocalTimeMs,
// RemoteTimeMs, ResponseQueueTimeMs and ResponseSendTimeMs) over whole simulated clusters. Expectations come from
// the definitions (the parts add up to the total), the configuration (fetch.max.wait.ms, acks) and queueing theory
// (Pollaczek-Khinchine), not from earlier runs.
#include <doctest/doctest.h>

#include <cmath>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using cluster::RequestKind;
using kafka::Acks;

namespace {

const cluster::RequestTimeSummary& of(const cluster::WorldSummary& s, RequestKind kind) {
  return s.requests[static_cast<size_t>(kind)];
}

double parts_mean_ms(const cluster::RequestTimeSummary& r) {
  return r.request_queue.mean_ms + r.local.mean_ms + r.remote.mean_ms + r.response_queue.mean_ms +
         r.response_send.mean_ms;
}

cluster::WorldSummary run_small(Acks acks, int32_t rf, bool consumer) {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, rf, rf > 1 ? 2 : 1);
  spec.duration = 6_s;
  spec.warmup = 1_s;
  spec.producers.push_back(test::open_loop_producer(5000, acks, 5, 512));
  if (consumer) spec.consumers.push_back(test::group_member());
  cluster::World world(spec);
  return world.run();
}

}  // namespace

TEST_CASE("request metrics: the parts add up to the total, and the Produce rate is the producer's request rate") {
  const auto s = run_small(Acks::all, 3, true);
  for (const RequestKind kind : {RequestKind::produce, RequestKind::fetch_consumer, RequestKind::fetch_follower}) {
    CAPTURE(cluster::request_kind_name(kind));
    const auto& r = of(s, kind);
    REQUIRE(r.count > 0);
    // TotalTimeMs = end − start is the sum of its five parts for every request, so for their means too.
    CHECK(r.total.mean_ms == doctest::Approx(parts_mean_ms(r)).scale(0).epsilon(1e-9));
    CHECK(r.total.count == r.count);
    CHECK(r.per_s == doctest::Approx(static_cast<double>(r.count) / 5.0).scale(0));
  }
  // A constant-rate producer sends the same number of requests every second: the brokers answer as many per
  // second after the warm-up as it sent per second over the whole run (up to the requests in flight at the ends).
  const double sent_per_s = static_cast<double>(s.produce_requests) / 6.0;
  CHECK(of(s, RequestKind::produce).per_s == doctest::Approx(sent_per_s).scale(0).epsilon(0.01));
  // A consumer that keeps up polls as many records per second as the producer has acknowledged.
  CHECK(s.consumed_records_per_s == doctest::Approx(s.throughput_records_per_s).scale(0).epsilon(0.01));
  // The consumer's fetch-latency covers its broker's FetchConsumer time and a round trip (two links of 50 us each
  // way), and its fetch responses carry the records it polled.
  const auto& fetches = of(s, RequestKind::fetch_consumer);
  REQUIRE(s.fetch_latency.count > 0);
  CHECK(s.fetch_latency.mean_ms >= fetches.total.mean_ms + 0.2);
  CHECK(s.records_per_fetch.mean * static_cast<double>(s.records_per_fetch.count) ==
        doctest::Approx(s.consumed_records_per_s * 5.0).scale(0).epsilon(0.01));
}

TEST_CASE("request metrics: acks=1 has no remote time; acks=all waits at least a follower round trip in the purgatory") {
  const auto one = run_small(Acks::leader, 3, false);
  const auto all = run_small(Acks::all, 3, false);
  CHECK(of(one, RequestKind::produce).remote.max_ms == 0.0);
  // acks=all answers once both followers fetched the batch and fetched again (kafka-behaviour.md §3.3): at least one
  // broker-to-broker round trip, two links of 50 us each way in the nic-10gbe profile.
  CHECK(of(all, RequestKind::produce).remote.p50_ms >= 0.2);
  // The follower fetches exist only with replicas to fetch for.
  CHECK(of(one, RequestKind::fetch_follower).count > 0);
  CHECK(of(run_small(Acks::leader, 1, false), RequestKind::fetch_follower).count == 0);
  // Without consumers there is no consumer fetch.
  CHECK(of(one, RequestKind::fetch_consumer).count == 0);
}

TEST_CASE("request metrics: a consumer with nothing to read waits fetch.max.wait.ms in the fetch purgatory") {
  // No producer: every consumer fetch parks until fetch.max.wait.ms (500 ms by default) passes, so its remote time is
  // that wait, and each broker that leads partitions of the consumer answers it twice a second.
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 12_s;
  spec.warmup = 2_s;
  spec.consumers.push_back(test::group_member());
  cluster::World world(spec);
  const auto s = world.run();
  const auto& r = of(s, RequestKind::fetch_consumer);
  REQUIRE(r.count > 0);
  CHECK(r.remote.p50_ms == doctest::Approx(500.0).scale(0).epsilon(0.002));
  CHECK(r.remote.max_ms == doctest::Approx(500.0).scale(0).epsilon(0.002));
  // The consumer sees the same wait plus the network, and empty responses.
  CHECK(s.fetch_latency.p50_ms == doctest::Approx(500.0).scale(0).epsilon(0.005));
  CHECK(s.fetch_latency.p50_ms > r.total.p50_ms);
  CHECK(s.records_per_fetch.max == 0.0);
  // Six partitions on three brokers, each leading two: three fetches in flight, each answered every ~500 ms.
  CHECK(r.per_s == doctest::Approx(3 * 1000.0 / 500.0).scale(0).epsilon(0.02));
  // The time series counts them per second too: six a second once the consumer is running (row 0 is at 0 s).
  const cluster::TimeSeries& ts = world.timeseries();
  REQUIRE(ts.rows() >= 12);
  for (size_t row = 3; row < ts.rows(); ++row) {
    CAPTURE(row);
    CHECK(ts.value(row, "fetch_consumer_requests_per_s") == doctest::Approx(6.0).scale(0).epsilon(0.34));
    CHECK(ts.value(row, "fetch_follower_requests_per_s") > 0.0);
  }
}

TEST_CASE("request metrics: the request queue time of one I/O thread under Poisson load follows Pollaczek-Khinchine") {
  // One broker, one partition, RF=1, acks=0, one I/O thread: the I/O thread sees only ProduceRequests. Twenty
  // producers each send Poisson records at 250/s with linger.ms 0, so each record is a request; together they are a
  // Poisson stream of λ = 5,000 requests/s (each producer's connection is rarely busy: 250/s × a few tens of us).
  // Each request costs the I/O thread D = request_fixed_cost (50 us) + CRC32C of ~600 B (well under 1 us), so
  // ρ = λD ≈ 0.25 and the M/D/1 mean wait in the queue is W = ρD / (2(1 − ρ)) ≈ 8.4 us.
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 21_s;
  spec.warmup = 1_s;
  spec.num_io_threads = 1;
  auto p = test::open_loop_producer(250, Acks::none, 0, 512);
  p.arrival = cluster::ArrivalProcess::Kind::kPoisson;
  p.count = 20;
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  const auto& r = of(s, RequestKind::produce);
  REQUIRE(r.count > 90'000);
  const double d_ms = r.local.mean_ms;  // the I/O thread's service time per request, as measured
  CHECK(d_ms == doctest::Approx(0.050).scale(0).epsilon(0.05));
  const double rho = r.per_s * d_ms / 1000.0;
  CHECK(rho == doctest::Approx(0.25).scale(0).epsilon(0.05));
  const double pk_wait_ms = rho * d_ms / (2 * (1 - rho));
  CHECK(r.request_queue.mean_ms == doctest::Approx(pk_wait_ms).scale(0).epsilon(0.15));
  // acks=0 has no response: nothing after the handler.
  CHECK(r.remote.max_ms == 0.0);
  CHECK(r.response_send.max_ms == 0.0);
}

TEST_CASE("producer metrics: record-queue-time is linger.ms for batches that never fill; request-latency covers the "
          "broker's time and a network round trip") {
  // 500 records/s of 512 B with linger.ms 20: a batch would need ~30 records to reach batch.size (16 KiB) but gets
  // about 10 in 20 ms, so every batch is drained when its linger expires: 20 ms in the accumulator exactly.
  const auto s = test::run_three_brokers(6, test::open_loop_producer(500, Acks::all, 20, 512), 6_s, 1_s);
  REQUIRE(s.record_queue_time.count > 100);
  CHECK(s.record_queue_time.p50_ms == doctest::Approx(20.0).scale(0).epsilon(0.001));
  CHECK(s.record_queue_time.max_ms == doctest::Approx(20.0).scale(0).epsilon(0.001));
  // A request's latency at the producer is its broker time (TotalTimeMs, which starts once the broker has read and
  // parsed it) plus at least the two directions of the client-broker path: two links of 50 us each way.
  const auto& broker = of(s, RequestKind::produce);
  REQUIRE(s.request_latency.count > 100);
  CHECK(s.request_latency.mean_ms >= broker.total.mean_ms + 0.2);
  // And a record's produce latency is at least its batch's request latency: p50 against p50, every record of a
  // batch waits at most its batch's queue time first.
  CHECK(s.produce_latency.p50_ms >= s.request_latency.p50_ms);
  CHECK(s.produce_latency.max_ms <= s.record_queue_time.max_ms + s.request_latency.max_ms + 1e-6);
}

TEST_CASE("request metrics: message.timestamp.type=LogAppendTime costs the leader's I/O thread one more CRC32C pass") {
  // DefaultRecordBatch.setMaxTimestamp rewrites the batch header and computes the batch's CRC32C again, on top of
  // the validation's pass. One broker, RF 1, 100 records/s of 100,000 B with linger.ms = 0: every ProduceRequest
  // carries one batch of the same size and its I/O thread works alone, so LocalTimeMs is the same for every
  // request and grows by exactly ceil(batch bytes / (CRC32C rate x desktop_to_server_scale)).
  double local_ms[2] = {0, 0};
  double batch_bytes = 0;
  cluster::WorldSpec spec;
  for (const bool append_time : {false, true}) {
    spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
    spec.duration = 3_s;
    spec.warmup = 1_s;
    spec.topics[0].config.log.log_append_time = append_time;
    spec.producers.push_back(test::open_loop_producer(100, Acks::leader, 0, 100'000));
    cluster::World world(spec);
    const auto s = world.run();
    const auto& produce = of(s, RequestKind::produce);
    REQUIRE(produce.count > 150);
    CHECK(produce.local.p50_ms == doctest::Approx(produce.local.max_ms).scale(0).epsilon(0.002));  // the same every time
    local_ms[append_time ? 1 : 0] = produce.local.p50_ms;
    REQUIRE(s.batch_size_bytes.p50 == s.batch_size_bytes.max);  // one batch size
    batch_bytes = s.batch_size_bytes.p50;
  }
  const double crc_rate = spec.cpu_costs.crc32c_bytes_per_s * spec.cpu_costs.desktop_to_server_scale;
  const double expected_ms = std::ceil(batch_bytes / crc_rate * 1e9) / 1e6;
  REQUIRE(expected_ms > 0.01);
  CHECK(local_ms[1] - local_ms[0] == doctest::Approx(expected_ms).scale(0).epsilon(0.02));
}
