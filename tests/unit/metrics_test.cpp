#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "kafkasim/cluster/metrics.hpp"
#include "test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;

TEST_CASE("run metrics: warm-up records are counted but not in the percentiles") {
  cluster::RunMetrics m(sim::SimTime::zero() + 10_s);
  m.on_sent(100);
  m.on_acked(sim::SimTime::zero() + 1_s, sim::SimTime::zero() + 1_s + 50_ms, 100);  // warm-up: excluded
  for (int i = 1; i <= 100; ++i)
    m.on_acked(sim::SimTime::zero() + 20_s, sim::SimTime::zero() + 20_s + sim::Duration::from_ms(i), 100);
  CHECK(m.records_acked() == 101);
  CHECK(m.records_acked_after_warmup() == 100);
  const auto s = cluster::summarise(m.produce_latency_ns());
  CHECK(s.count == 100);
  CHECK(s.p50_ms == doctest::Approx(50.0).scale(0).epsilon(0.001));   // nearest rank 50 of 1..100 ms
  CHECK(s.p99_ms == doctest::Approx(99.0).scale(0).epsilon(0.001));
  CHECK(s.max_ms == doctest::Approx(100.0).scale(0));
  CHECK(s.mean_ms == doctest::Approx(50.5).scale(0));
  CHECK(m.take_interval_acked_bytes() == 10100u);
  CHECK(m.take_interval_acked_bytes() == 0u);
}

TEST_CASE("run metrics: a warm-up interval has its own latency percentiles; the summary still excludes it") {
  const sim::SimTime t0 = sim::SimTime::zero();
  cluster::RunMetrics m(t0 + 10_s);
  // Interval 1, inside the warm-up: 100 records sent at 1 s, acked 1..100 ms later.
  for (int i = 1; i <= 100; ++i) m.on_acked(t0 + 1_s, t0 + 1_s + sim::Duration::from_ms(i), 100);
  const sim::Histogram warmup = m.take_interval_produce_latency();
  CHECK(warmup.count() == 100);
  CHECK(static_cast<double>(warmup.percentile(50)) == doctest::Approx(50e6).scale(0).epsilon(0.001));  // nearest rank
  CHECK(static_cast<double>(warmup.percentile(99)) == doctest::Approx(99e6).scale(0).epsilon(0.001));
  // Interval 2, after the warm-up: a record sent during the warm-up and acked after it stays out, as in the
  // summary, and 10 records sent after the warm-up with 200 ms each are in.
  m.on_acked(t0 + 9900_ms, t0 + 10100_ms, 100);
  for (int i = 0; i < 10; ++i) m.on_acked(t0 + 11_s, t0 + 11200_ms, 100);
  const sim::Histogram after = m.take_interval_produce_latency();
  CHECK(after.count() == 10);
  CHECK(static_cast<double>(after.percentile(50)) == doctest::Approx(200e6).scale(0).epsilon(0.001));
  // The summary has only the 10 records sent after the warm-up.
  CHECK(m.produce_latency_ns().count() == 10);
  CHECK(m.records_acked() == 111);
}

TEST_CASE("time series: columns in order of first appearance, empty cells for unset values") {
  cluster::TimeSeries ts;
  ts.begin_row(sim::SimTime::zero() + 1_s);
  ts.set("throughput_mib_per_s", 12.5);
  ts.begin_row(sim::SimTime::zero() + 2_s);
  ts.set("isr_size_min", 2);
  ts.set("throughput_mib_per_s", 13);
  std::ostringstream out;
  ts.write_csv(out);
  CHECK(out.str() ==
        "time_s,throughput_mib_per_s,isr_size_min\n"
        "1.000,12.5,\n"
        "2.000,13,2\n");
}

TEST_CASE("request metrics: each part is the gap between two of Kafka's timestamps; warm-up requests only count in "
          "the interval") {
  const sim::SimTime t0 = sim::SimTime::zero();
  cluster::RequestMetrics m(t0 + 10_s);
  auto times = [&](sim::Duration at) {
    cluster::RequestTimes t;
    t.start = t0 + at;
    t.dequeue = t.start + 1_ms;            // request queue 1 ms
    t.local_complete = t.dequeue + 2_ms;   // local 2 ms
    t.response_complete = t.local_complete + 30_ms;  // remote 30 ms
    t.response_dequeue = t.response_complete + 4_ms;  // response queue 4 ms
    return t;
  };
  m.on_completed(cluster::RequestKind::produce, times(1_s), t0 + 1_s + 42_ms);  // ends in the warm-up
  for (int i = 0; i < 4; ++i)
    m.on_completed(cluster::RequestKind::produce, times(20_s), t0 + 20_s + 37_ms + sim::Duration::from_ms(i));
  const cluster::RequestTimeSummary s = m.summary(cluster::RequestKind::produce, 50_s);
  CHECK(s.count == 4);
  CHECK(s.per_s == doctest::Approx(4.0 / 50.0).scale(0));
  CHECK(s.request_queue.mean_ms == doctest::Approx(1.0).scale(0));
  CHECK(s.local.mean_ms == doctest::Approx(2.0).scale(0));
  CHECK(s.remote.mean_ms == doctest::Approx(30.0).scale(0));
  CHECK(s.response_queue.mean_ms == doctest::Approx(4.0).scale(0));
  CHECK(s.response_send.mean_ms == doctest::Approx(1.5).scale(0));  // 0, 1, 2, 3 ms
  CHECK(s.total.mean_ms == doctest::Approx(38.5).scale(0));
  CHECK(s.total.max_ms == doctest::Approx(40.0).scale(0));
  CHECK(m.take_interval_count(cluster::RequestKind::produce) == 5);
  CHECK(m.take_interval_count(cluster::RequestKind::produce) == 0);
  CHECK(m.summary(cluster::RequestKind::fetch_follower, 50_s).count == 0);
  CHECK(std::string(cluster::request_kind_name(cluster::RequestKind::fetch_consumer)) == "FetchConsumer");
}

TEST_CASE("request metrics: timestamps out of order are a bug") {
  test::ThrowOnAssert guard;
  cluster::RequestMetrics m(sim::SimTime::zero());
  cluster::RequestTimes t;
  t.start = sim::SimTime::zero() + 5_ms;
  t.dequeue = sim::SimTime::zero() + 4_ms;
  t.local_complete = t.response_complete = t.response_dequeue = t.start;
  CHECK_THROWS_AS(m.on_completed(cluster::RequestKind::produce, t, t.start), test::AssertionFailure);
}
