// Client quotas (kafka-behaviour-2.md §10) on a whole cluster. Expectations come from what a quota is, not from
// earlier runs:
//  - a client that offers more than its quota is held, over a long window, to the quota on each broker: bytes per
//    second of its produce requests (producer_byte_rate) or of its fetch responses (consumer_byte_rate), per broker
//    (a client of N brokers gets N times the quota);
//  - the throttling works by muting the connection, so an acks=0 producer, which never sees a throttle time, is held
//    to it as well;
//  - request_percentage holds a client's request-handler and network-thread time to that share of one thread, which
//    the brokers' RequestMetrics measure independently (local time of each produce request);
//  - a quota far above what a client sends changes nothing at all (same trace hash).
// The rate is measured over about 11 s (quota.window.num x quota.window.size.seconds), so a client far above its
// quota sends in bursts with a period of about that; the windows below span many periods.
#include <doctest/doctest.h>

#include <string>

#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

constexpr double kMiB = 1048576.0;

cluster::ClientQuotaSpec quota_for(const std::string& client_id) {
  cluster::ClientQuotaSpec q;
  q.client_id = client_id;
  return q;
}

// `brokers` NVMe brokers on 10 GbE, one topic of `partitions` (RF=1) and a long run: 120 s warm-up (the first bursts
// of a client far above its quota pass unthrottled), then a 110 s window of about ten throttling periods.
cluster::WorldSpec long_run(uint32_t brokers, int32_t partitions) {
  auto spec = test::small_cluster(brokers, "nvme-datacentre", "nic-10gbe", partitions, 1, 1);
  spec.duration = 230_s;
  spec.warmup = 120_s;
  return spec;
}

// One consumer of the topic in `group`.
cluster::ConsumerSpec consumer_in(const std::string& group) {
  cluster::ConsumerSpec c;
  c.group = group;
  c.topic = 0;
  return c;
}

// A producer named `client_id` with a producer_byte_rate of `quota`, offering `offered` bytes of 1,000-byte values a
// second, without idempotence (acks=0 needs it off, and the others keep the same producer).
void add_capped_producer(cluster::WorldSpec& spec, const std::string& client_id, double quota, double offered, Acks acks) {
  auto q = quota_for(client_id);
  q.producer_byte_rate = quota;
  spec.client_quotas.push_back(q);
  auto producer = test::open_loop_producer(offered / 1000.0, acks, 5, 1000);
  producer.config.client_id_config = client_id;
  producer.config.enable_idempotence = false;
  spec.producers.push_back(producer);
}

// One broker and a long run: a producer named `client_id` offering 4 quotas a second of 1,000-byte values, whose
// producer_byte_rate `quota` an operation adds at `at`, and a second client-id ("other", 10 records/s) so that
// timeseries.csv has each client-id's bytes per second.
cluster::WorldSpec quota_added_later(const std::string& client_id, double quota, sim::Duration at) {
  auto spec = long_run(1, 1);
  auto producer = test::open_loop_producer(4.0 * quota / 1000.0, Acks::leader, 5, 1000);
  producer.config.client_id_config = client_id;
  producer.config.enable_idempotence = false;
  spec.producers.push_back(producer);
  spec.producers.push_back(test::open_loop_producer(10, Acks::leader, 5, 1000));
  spec.producers.back().config.client_id_config = "other";
  spec.producers.back().config.enable_idempotence = false;
  cluster::ConfigAlterSpec add;
  add.at = at;
  add.entity_type = cluster::ConfigEntityType::clients;
  add.entity_name = client_id;
  add.added = {{"producer_byte_rate", quota}};
  spec.config_alters.push_back(add);
  return spec;
}

const cluster::WorldSummary::ClientQuotaReport& report(const cluster::WorldSummary& s, const std::string& id) {
  for (const auto& r : s.quotas)
    if (r.client_id == id) return r;
  FAIL("no quota report for " << id);
  return s.quotas.front();
}

}  // namespace

TEST_CASE("producer_byte_rate: a producer above its quota is held to it on each broker") {
  for (const uint32_t brokers : {1U, 3U}) {
    CAPTURE(brokers);
    auto spec = long_run(brokers, 6);
    const double quota = 1 * kMiB;
    // Four times the quota of every broker it writes to.
    add_capped_producer(spec, "capped", quota, 4.0 * brokers * quota, Acks::leader);
    cluster::World world(spec);
    const auto s = world.run();
    const auto& r = report(s, "capped");
    CHECK(r.producer_byte_rate == quota);
    CHECK_FALSE(r.consumer_byte_rate.has_value());
    // The brokers' sensors counted the quota's worth of request bytes a second, each of them.
    CHECK(r.produce.bytes_per_s == doctest::Approx(brokers * quota).scale(0).epsilon(0.03));
    CHECK(r.produce.throttled > 0);
    CHECK(r.produce.throttled < r.produce.responses);
    CHECK(r.produce.throttle_ms_mean > 0);
    // Each broker's connection from it was kept muted by the throttle most of the window (a client at 4x its quota
    // is throttled about three quarters of the time).
    REQUIRE(s.connection_throttled.size() == brokers);
    for (const auto& [name, share] : s.connection_throttled) {
      CAPTURE(name);
      CHECK(share > 0.5);
    }
    // What it got acknowledged: the values, a little below the request bytes (record and batch framing, request
    // headers), and a quarter of what it offered.
    const double values = s.throughput_mib_per_s * kMiB;
    CHECK(values < brokers * quota * 1.03);
    CHECK(values > brokers * quota * 0.93);
  }
}

TEST_CASE("producer_byte_rate: an acks=0 producer never sees a throttle but is held by the muted connection") {
  auto spec = long_run(1, 2);
  const double quota = 2 * kMiB;
  add_capped_producer(spec, "fire-and-forget", quota, 3.0 * quota, Acks::none);
  cluster::World world(spec);
  const auto s = world.run();
  const auto& r = report(s, "fire-and-forget");
  CHECK(r.produce.bytes_per_s == doctest::Approx(quota).scale(0).epsilon(0.03));
  CHECK(r.produce.throttled > 0);
  // acks=0 "completes" a record once sent: what left the producer is what the broker read.
  CHECK(s.throughput_mib_per_s * kMiB < quota * 1.03);
  CHECK(s.throughput_mib_per_s * kMiB > quota * 0.93);
}

TEST_CASE("consumer_byte_rate: a consumer above its quota reads at the quota, another without one keeps up") {
  auto spec = long_run(1, 1);
  const double quota = 1 * kMiB;
  auto q = quota_for("slow-reader");
  q.consumer_byte_rate = quota;
  spec.client_quotas.push_back(q);
  // Three times the quota in values.
  spec.producers.push_back(test::open_loop_producer(3.0 * quota / 1000.0, Acks::leader, 5, 1000));
  spec.producers.back().config.enable_idempotence = false;
  cluster::ConsumerSpec slow = consumer_in("slow");
  slow.config.client_id_config = "slow-reader";
  // Small fetches: a fetch's bytes count against the quota before it is answered, so a response of B bytes is
  // answered only once the window's rate is B / W below the quota; with B = 64 KiB and W >= 10 s that is < 0.7 %.
  slow.config.max_partition_fetch_bytes = 65536;
  spec.consumers.push_back(slow);
  spec.consumers.push_back(consumer_in("fast"));
  cluster::World world(spec);
  const auto s = world.run();
  const auto& r = report(s, "slow-reader");
  CHECK(r.consumer_byte_rate == quota);
  CHECK(r.fetch.bytes_per_s == doctest::Approx(quota).scale(0).epsilon(0.03));
  CHECK(r.fetch.throttled > 0);
  // Two groups consumed: the fast one everything produced (3 quotas of values), the slow one a quota's worth of
  // responses (values a little below it).
  const double produced = s.throughput_mib_per_s * kMiB;
  const double consumed = s.consumed_mib_per_s * kMiB;
  CHECK(produced == doctest::Approx(3.0 * quota).scale(0).epsilon(0.01));
  CHECK(consumed - produced < quota * 1.03);
  CHECK(consumed - produced > quota * 0.93);
  // The default client.id of a consumer without one is consumer-<group.id>-1: no quota names it.
  for (const auto& other : s.quotas) CHECK(other.client_id != "consumer-fast-1");
}

TEST_CASE("request_percentage: a client's handler time is held to that share of one thread") {
  // 20,000 small records a second without linger: unthrottled, hundreds of requests a second, each costing the I/O
  // thread its fixed cost. A quota of 2 % of a thread lets through about 0.02 s of handler (and network-thread) time a
  // second, so requests become fewer and larger while the records still get through.
  auto spec = long_run(1, 1);
  const double percent = 2.0;
  auto q = quota_for("chatty");
  q.request_percentage = percent;
  spec.client_quotas.push_back(q);
  auto producer = test::open_loop_producer(20'000, Acks::leader, 0, 100);
  producer.config.client_id_config = "chatty";
  producer.config.enable_idempotence = false;
  spec.producers.push_back(producer);
  cluster::World world(spec);
  const auto s = world.run();
  const auto& produce = s.requests[static_cast<size_t>(cluster::RequestKind::produce)];
  // RequestMetrics' local time is the handler's (dequeue to local completion); each request also costs the network
  // thread twice its fixed cost (reading it, sending the response).
  const double network_s = 2 * spec.network_thread_request_cost.seconds_f();
  const double thread_s_per_s = produce.per_s * (produce.local.mean_ms / 1000.0 + network_s);
  CHECK(thread_s_per_s == doctest::Approx(percent / 100.0).scale(0).epsilon(0.05));
  CHECK(s.throughput_records_per_s == doctest::Approx(20'000).scale(0).epsilon(0.01));
  CHECK(report(s, "chatty").produce.throttled > 0);
}

TEST_CASE("client quotas: a quota far above what a client sends changes nothing") {
  auto base = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 6, 3, 2);
  base.duration = 4_s;
  base.warmup = 1_s;
  base.producers.push_back(test::open_loop_producer(20'000, Acks::all, 5, 512));
  base.consumers.push_back(consumer_in("readers"));
  cluster::World without(base);
  const auto a = without.run();

  auto spec = base;
  cluster::ClientQuotaSpec q;  // the <default> client-id: every client
  q.producer_byte_rate = 1e12;
  q.consumer_byte_rate = 1e12;
  q.request_percentage = 1e6;
  spec.client_quotas.push_back(q);
  cluster::World with(spec);
  const auto b = with.run();
  CHECK(b.trace_hash == a.trace_hash);
  CHECK(b.events == a.events);
  // Both clients are reported under their default client.ids, never throttled.
  REQUIRE(b.quotas.size() == 2);
  CHECK(b.quotas[0].client_id == "consumer-readers-1");
  CHECK(b.quotas[1].client_id == "producer-1");
  CHECK(b.quotas[0].fetch.throttled == 0);
  CHECK(b.quotas[1].produce.throttled == 0);
  CHECK(b.quotas[1].produce.responses > 0);
  CHECK(a.quotas.empty());
  CHECK(b.connection_throttled.empty());
}

TEST_CASE("producer_byte_rate: an idle client's first burst is about ten seconds of its quota") {
  // In its first seconds a sensor's window is padded to quota.window.num - 1 = 10 full windows of 1 s: W = 10 s plus
  // the part of the current second gone by (Rate.windowSize), so a new (or idle) client is throttled only once its
  // bytes B exceed T x W, 10 to 11 quotas, and each throttle then lasts until B / W is back at the quota. Over the
  // first 9 s a producer at 8x its quota therefore gets between 10 and 11 quotas' worth of requests, plus what it had
  // in flight when the first throttle came (at most 5 requests of one 16 KiB batch) — without the padding it would
  // get 9 x 8 = 72 quotas' worth, with a plain 1 s window about 9.
  auto spec = long_run(1, 1);
  spec.duration = 12_s;
  spec.warmup = 0_s;
  const double quota = 1 * kMiB;
  add_capped_producer(spec, "capped", quota, 8.0 * quota, Acks::leader);
  // A second client-id, so that timeseries.csv has each client-id's bytes per second.
  spec.producers.push_back(test::open_loop_producer(10, Acks::leader, 5, 1000));
  spec.producers.back().config.client_id_config = "other";
  spec.producers.back().config.enable_idempotence = false;
  cluster::World world(spec);
  world.run();
  const cluster::TimeSeries& ts = world.timeseries();
  REQUIRE(ts.rows() >= 9);
  double first_9s = 0;
  for (size_t row = 0; row < 9; ++row) first_9s += ts.value(row, "client_capped_produced_mib_per_s") * kMiB;
  // Values, a little below the request bytes the sensor counts (1,000-byte values in records of ~1,010 bytes).
  CHECK(first_9s > 10 * quota * 0.97);
  CHECK(first_9s < 11 * quota + 5 * 16384);
  // And the burst comes first: the first second carries most of it (8 quotas offered a second).
  CHECK(ts.value(0, "client_capped_produced_mib_per_s") * kMiB > 6 * quota);
}

TEST_CASE("producer_byte_rate: a quota added by an operation holds from then on, deleting it lifts it") {
  // A producer at 4x the quota it is given at 10 s (kafka-configs --alter --add-config producer_byte_rate) on one
  // broker: before, nothing holds it; after, the quota does, as one configured from the start would (the brokers
  // had measured no client, so its sensor starts then, as a new client's). The window, 40-150 s (ten throttling
  // periods, as the tests above), starts long after the first padded-window burst (10-21 s).
  const double quota = 1 * kMiB;
  auto spec = quota_added_later("capped", quota, 10_s);
  spec.duration = 150_s;
  spec.warmup = 40_s;
  cluster::World world(spec);
  const auto s = world.run();
  const auto& r = report(s, "capped");
  CHECK(r.producer_byte_rate == quota);
  CHECK(r.produce.bytes_per_s == doctest::Approx(quota).scale(0).epsilon(0.03));
  const cluster::TimeSeries& ts = world.timeseries();
  double first_9s = 0;
  for (size_t row = 0; row < 9; ++row) first_9s += ts.value(row, "client_capped_produced_mib_per_s") * kMiB;
  // Values of 1,000 B in records of ~1,010: a little below the 4 quotas a second offered.
  CHECK(first_9s > 9 * 4 * quota * 0.97);
  CHECK(first_9s <= 9 * 4 * quota);

  // The same, with the quota deleted at 100 s: from then the producer gets at least what it offers (it first drains
  // what buffer.memory held back), and the client is still reported, its bound shown as gone.
  cluster::ConfigAlterSpec del = spec.config_alters.front();
  del.at = 100_s;
  del.added.clear();
  del.deleted = {"producer_byte_rate"};
  spec.config_alters.push_back(del);
  cluster::World lifted(spec);
  const auto l = lifted.run();
  const auto& lr = report(l, "capped");
  CHECK_FALSE(lr.producer_byte_rate.has_value());
  CHECK(lr.produce.responses > 0);
  double after = 0;
  for (size_t row = 105; row < 125; ++row)
    after += lifted.timeseries().value(row, "client_capped_produced_mib_per_s") * kMiB;
  CHECK(after / 20.0 > 4 * quota * 0.97);
}

TEST_CASE("producer_byte_rate: a quota added later applies to what the broker had measured, if it measured the client") {
  // A producer at 4x the quota it is given at 20 s. Where another client already had a produce quota, the broker
  // has been measuring every client (kafka-behaviour-2.md §10.1: quotasEnabled, sensors per client-id), so the new
  // bound meets ~11 s at 4 quotas a second and throttles at once: the next 10 s pass less than the quota's 10 s worth.
  // Where no produce quota existed, its sensor starts at 20 s and the padded window lets about ten quotas through
  // first (the idle-client test above).
  const auto after_quota = [](bool measured_before) {
    const double quota = 1 * kMiB;
    auto spec = quota_added_later("late", quota, 20_s);
    spec.duration = 31_s;
    spec.warmup = 0_s;
    if (measured_before) {
      auto q = quota_for("other");
      q.producer_byte_rate = quota;  // far above what it sends: it limits nothing, but enables the measuring
      spec.client_quotas.push_back(q);
    }
    cluster::World world(spec);
    world.run();
    double bytes = 0;
    for (size_t row = 20; row < 30; ++row) bytes += world.timeseries().value(row, "client_late_produced_mib_per_s") * kMiB;
    return bytes / quota;  // quotas' worth in the 10 s after the change
  };
  const double measured = after_quota(true);
  const double fresh = after_quota(false);
  MESSAGE("quotas' worth in 20-30 s: measured before ", measured, ", fresh sensor ", fresh);
  CHECK(measured < 10.0 * 0.5);
  CHECK(fresh > 10.0 * 0.97);
}
