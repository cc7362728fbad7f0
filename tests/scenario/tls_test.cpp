// TLS on the data path (security.protocol / security.inter.broker.protocol SSL; cluster/tls_costs.hpp) on a whole
// cluster. Expectations come from the cost equations of hardware-models.md §3.7 / §5.2 applied to the bytes the run
// carried, and from the capacity of one network thread, not from earlier runs:
//  - every TLS byte costs the CPU profile's AES-GCM pass plus the copies the protocol adds: the broker's network
//    threads decrypt and copy what they read, encrypt what they send, and read and copy the log bytes sendfile
//    would have sent; the followers' fetcher threads and the consumers decrypt and copy what they receive; the
//    producers encrypt their requests;
//  - a broker whose one network thread must encrypt a fan-out of fetch responses cannot send more than that thread
//    encrypts: the consumers fall behind and the run names the network threads; over PLAINTEXT (sendfile) the same
//    cluster keeps up.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "kafkasim/cluster/tls_costs.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;
using kafka::SecurityProtocol;

namespace {

// Seconds of one server core per byte of one pass at `bytes_per_s` (a desktop figure, hardware-models.md §5.2).
double per_byte(const cluster::CpuCosts& c, double bytes_per_s) { return 1.0 / (bytes_per_s * c.desktop_to_server_scale); }

cluster::ConsumerSpec consumer(const std::string& group, SecurityProtocol protocol) {
  cluster::ConsumerSpec c;
  c.group = group;
  c.topic = 0;
  c.config.security_protocol = protocol;
  return c;
}

// A run's summary, and its broker-0 network thread's utilisation in the seconds after the warm-up (timeseries.csv).
struct Run {
  cluster::WorldSummary summary;
  cluster::CpuCosts costs;
  double network_min = 0;
  double network_mean = 0;
};

}  // namespace

TEST_CASE("TLS: each side's CPU is the AES-GCM and copy passes over the bytes it sent or received") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  spec.duration = 4_s;
  spec.warmup = 1_s;
  spec.security_inter_broker_protocol = SecurityProtocol::ssl;
  auto producer = test::open_loop_producer(50'000, Acks::all, 5, 1024);
  producer.config.security_protocol = SecurityProtocol::ssl;
  spec.producers.push_back(producer);
  spec.consumers.push_back(consumer("readers", SecurityProtocol::sasl_ssl));
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  CHECK(s.consumed_records_per_s == doctest::Approx(50'000).scale(0).epsilon(0.01));
  CHECK(s.tls.producers);
  CHECK(s.tls.consumers);
  CHECK(s.tls.inter_broker);

  const cluster::CpuCosts& c = spec.cpu_costs;
  const double aes = per_byte(c, c.aes_gcm_bytes_per_s), copy = per_byte(c, c.memcpy_bytes_per_s);
  const double window_s = (spec.duration - spec.warmup).seconds_f();
  // Bytes per second of the window by connection kind (both directions; TLS framing included). The produce
  // requests and the fetch responses are nearly all of them: responses to the producer and fetch requests are a
  // few dozen bytes against kilobytes (they cost less per byte here: no copies), hence the tolerances.
  const double produce = static_cast<double>(s.producer_traffic.total) / window_s;
  const double replication = static_cast<double>(s.replication_traffic.total) / window_s;
  const double consume = static_cast<double>(s.consumer_traffic.total) / window_s;
  // 50,000 values of 1 KiB a second in the producer's requests, with their v2 record and batch framing (a few per
  // cent); the followers fetch each of them twice (RF=3).
  CHECK(produce > 50'000 * 1024.0);
  CHECK(produce < 50'000 * 1024.0 * 1.04);
  CHECK(replication == doctest::Approx(2 * produce).scale(0).epsilon(0.05));
  // The producers encrypt their requests.
  CHECK(s.tls.producer_cores == doctest::Approx(produce * aes).scale(0).epsilon(0.03));
  // Broker network threads: read (decrypt, copy) the produce requests, send the fetch responses (encrypt, and read
  // and write the log bytes sendfile would have sent).
  CHECK(s.tls.broker_network_cores ==
        doctest::Approx(produce * (aes + copy) + (replication + consume) * (aes + 2 * copy)).scale(0).epsilon(0.03));
  // Fetcher threads and the consumer decrypt and copy what they receive.
  CHECK(s.tls.broker_fetcher_cores == doctest::Approx(replication * (aes + copy)).scale(0).epsilon(0.03));
  CHECK(s.tls.consumer_cores == doctest::Approx(consume * (aes + copy)).scale(0).epsilon(0.03));
  // The producer compresses nothing: its compression thread only encrypts, and the summary says so.
  bool listed = false;
  for (const auto& [name, u] : s.utilisation)
    if (name == "client-0 encryption") listed = u > 0;
  CHECK(listed);
}

TEST_CASE("TLS: one network thread that encrypts a fan-out of fetch responses caps the cluster; sendfile does not") {
  // One broker on 25 GbE with one network thread; 200 MB/s in, read by eight consumer groups (1.6 GB/s out, half of
  // the NIC). Over TLS every byte out costs the thread an AES-GCM pass and two copies.
  auto run = [](SecurityProtocol protocol) {
    auto spec = test::small_cluster(1, "nvme-datacentre", "nic-25gbe", 8, 1, 1);
    spec.duration = 3_s;
    spec.warmup = 1_s;
    spec.num_network_threads = 1;
    auto producer = test::open_loop_producer(200'000, Acks::leader, 5, 1024);
    producer.config.security_protocol = protocol;
    spec.producers.push_back(producer);
    for (int g = 0; g < 8; ++g) spec.consumers.push_back(consumer("group-" + std::to_string(g), protocol));
    cluster::World world(spec);
    const cluster::WorldSummary summary = world.run();
    // The network thread's utilisation in each second after the warm-up (timeseries.csv), the smallest.
    double network_min = 1.0, network_sum = 0;
    const size_t rows = world.timeseries().rows();
    for (size_t row = 1; row < rows; ++row) {
      const double u = world.timeseries().value(row, "broker0_network_threads_util");
      network_min = std::min(network_min, u);
      network_sum += u;
    }
    return Run{summary, spec.cpu_costs, network_min, network_sum / static_cast<double>(rows - 1)};
  };
  const Run plain_run = run(SecurityProtocol::plaintext);
  const Run tls_run = run(SecurityProtocol::ssl);
  const cluster::WorldSummary& plain = plain_run.summary;
  const cluster::WorldSummary& tls = tls_run.summary;
  const cluster::CpuCosts& costs = plain_run.costs;
  // Over PLAINTEXT the eight groups read everything at the producer's pace, and the thread is busy with its
  // per-request work only.
  CHECK(plain.throughput_records_per_s == doctest::Approx(200'000).scale(0).epsilon(0.01));
  CHECK(plain.consumed_records_per_s == doctest::Approx(8 * 200'000).scale(0).epsilon(0.02));
  CHECK(plain.bottleneck != "broker-0 network threads");
  // Without TLS the thread parses each request and sends its response (10 us each, WorldSpec's
  // network_thread_request_cost; every read is a page-cache hit, so no sendfile blocks): 20 us a request.
  uint64_t requests = 0;
  for (const auto& r : plain.requests) requests += r.count;
  const double plain_busy = 20e-6 * static_cast<double>(requests) / 2.0;
  CHECK(plain_run.network_mean == doctest::Approx(plain_busy).scale(0).epsilon(0.03));
  // Over TLS the thread would need 8 x 205 MB/s x (1/AES + 2/memcpy), about 0.92 of itself, for the fetch responses
  // alone, plus decrypting the produce requests and its per-request work: it saturates and is named. The producer's
  // requests wait for the same thread, so the whole cluster slows to what the thread can carry: the bytes in and out
  // cost it no more than all of its time, and the consumers still read everything that was produced.
  CHECK(tls.bottleneck == "broker-0 network threads");
  CHECK(tls.bottleneck_utilisation > 0.97);
  // Saturated in every second after the warm-up, not on average only.
  CHECK(tls_run.network_min > 0.95);
  CHECK(tls_run.network_mean <= 1.0);
  CHECK(tls.throughput_records_per_s < 0.95 * 200'000);
  CHECK(tls.consumed_records_per_s == doctest::Approx(8 * tls.throughput_records_per_s).scale(0).epsilon(0.02));
  CHECK(tls.produce_latency.p99_ms > 10 * plain.produce_latency.p99_ms);
  const double aes = per_byte(costs, costs.aes_gcm_bytes_per_s), copy = per_byte(costs, costs.memcpy_bytes_per_s);
  const double window_s = 2.0;
  const double in = static_cast<double>(tls.producer_traffic.total) / window_s;
  const double out = static_cast<double>(tls.consumer_traffic.total) / window_s;
  CHECK(in * (aes + copy) + out * (aes + 2 * copy) <= 1.0);
  CHECK(in * (aes + copy) + out * (aes + 2 * copy) > 0.85);
  CHECK(tls.tls.broker_network_cores == doctest::Approx(in * (aes + copy) + out * (aes + 2 * copy)).scale(0).epsilon(0.03));
}
