#include <doctest/doctest.h>

#include <sstream>

#include "kafkasim/cluster/metrics.hpp"

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
  CHECK(s.p50_ms == doctest::Approx(50.0).epsilon(0.001));   // nearest rank 50 of 1..100 ms
  CHECK(s.p99_ms == doctest::Approx(99.0).epsilon(0.001));
  CHECK(s.max_ms == doctest::Approx(100.0));
  CHECK(s.mean_ms == doctest::Approx(50.5));
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
  CHECK(static_cast<double>(warmup.percentile(50)) == doctest::Approx(50e6).epsilon(0.001));  // nearest rank
  CHECK(static_cast<double>(warmup.percentile(99)) == doctest::Approx(99e6).epsilon(0.001));
  // Interval 2, after the warm-up: a record sent during the warm-up and acked after it stays out, as in the
  // summary, and 10 records sent after the warm-up with 200 ms each are in.
  m.on_acked(t0 + 9900_ms, t0 + 10100_ms, 100);
  for (int i = 0; i < 10; ++i) m.on_acked(t0 + 11_s, t0 + 11200_ms, 100);
  const sim::Histogram after = m.take_interval_produce_latency();
  CHECK(after.count() == 10);
  CHECK(static_cast<double>(after.percentile(50)) == doctest::Approx(200e6).epsilon(0.001));
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
