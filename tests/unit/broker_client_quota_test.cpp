// Client quotas on one broker (kafka/broker/client_quota.hpp), against Kafka's behaviour in kafka-behaviour-2.md
// §10.2-§10.3: Rate over a WindowedSum (SampledStat keeps samples + 1 = 12 samples, purges a sample after
// samples x window without an event, pads the window to samples - 1 = 10 full windows), Quota.acceptable is
// value <= bound, QuotaUtils.throttleTime = Math.round((O - T) / T x W), and request quotas cap it at one window.
//
// Every expected number below is derived by hand in the comment next to it. Useful closed form: on a measurement
// whose window is W ms and whose samples hold B bytes, O = B / (W / 1000) and so
//   throttle = (O - T) / T x W = B x 1000 / T - W   (ms),
// i.e. "the time the bytes would take at the quota, minus the window they are already spread over" (§10.3).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "kafkasim/kafka/broker/client_quota.hpp"

using namespace kafkasim::kafka;

namespace {

constexpr QuotaWindowConfig kafka_defaults{};  // quota.window.num = 11, quota.window.size.seconds = 1

}  // namespace

TEST_CASE("client quota: the defaults are Kafka's, 11 samples of 1 s") {
  CHECK(kafka_defaults.samples == 11);
  CHECK(kafka_defaults.window_ms == 1000);
}

TEST_CASE("client quota: a fresh sensor measures over a padded 10 s window, and exactly at the bound is acceptable") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  produce.set_quota(std::nullopt, 100.0);  // <default> client-id: 100 B/s

  // One sample started at t = 0: elapsed 0 ms, 0 full windows < 10, padded by 10 x 1000 ms -> W = 10,000 ms.
  // O = 1000 B / 10 s = 100 B/s = T: Quota.acceptable is value <= bound, so no throttle.
  CHECK(produce.record_and_get_throttle_ms("c", 1000.0, 0) == 0);
  CHECK(produce.measured_rate("c", 0) == doctest::Approx(100.0).scale(0).epsilon(1e-12));

  // One byte more at the same instant: O = 1001 / 10 = 100.1 B/s > 100.
  // Throttle = round(0.1 / 100 x 10,000) = round(10) = 10 ms  (closed form: 1001 x 1000 / 100 - 10,000 = 10).
  CHECK(produce.record_and_get_throttle_ms("c", 1.0, 0) == 10);
}

TEST_CASE("client quota: a burst after idling costs burst / T - W, and the padded window does not grow for 10 s") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  produce.set_quota(std::string("burst"), 1'000'000.0);  // 1 MB/s

  // 20 MB at t = 0 on a fresh sensor: W = 10,000 ms (padded), O = 20e6 / 10 = 2e6 B/s.
  // Throttle = round((2e6 - 1e6) / 1e6 x 10,000) = 10,000 ms; §10.3's "burst / T - W" = 20 s - 10 s = 10 s agrees.
  CHECK(produce.record_and_get_throttle_ms("burst", 20'000'000.0, 0) == 10'000);

  // While the sensor is young the window is elapsed + (10 - floor(elapsed / 1000)) x 1000 = 10,000 + elapsed mod 1000:
  // at t = 5,000 it is 5,000 + 5 x 1000 = 10,000 ms, so the rate is still 2e6 B/s.
  CHECK(produce.measured_rate("burst", 5'000) == doctest::Approx(2e6).scale(0).epsilon(1e-12));
  // At t = 9,999: 9,999 + 1 x 1000 = 10,999 ms -> 20e6 / 10.999 B/s.
  CHECK(produce.measured_rate("burst", 9'999) == doctest::Approx(20e6 / 10.999).scale(0).epsilon(1e-12));
  // At t = 10,000 (when the throttle ends) 10 full windows have elapsed, no padding: W = 10,000 ms again, and the rate
  // is still 2e6 B/s (the sample's last event is 10 s old, below the 11 s purge age). The throttle's "O W / (W + X)"
  // assumed the window would have grown to 20 s; the padding means it has not. One more byte now (it opens a second
  // sample at 10,000; the oldest start is still 0) gives O = (20e6 + 1) / 10 and a throttle of
  // (20e6 + 1) x 1000 / 1e6 - 10,000 = 10,000.001 -> 10,000 ms again.
  CHECK(produce.record_and_get_throttle_ms("burst", 1.0, 10'000) == 10'000);
}

TEST_CASE("client quota: a sample starts at its first record, not on a window boundary") {
  QuotaRate rate(kafka_defaults);
  rate.record(100.0, 0);     // sample A starts at 0
  rate.record(200.0, 1500);  // 1500 - 0 >= 1000: sample B starts at 1,500
  rate.record(300.0, 2400);  // 2400 - 1500 = 900 < 1000: still sample B (last event 2,400)
  // At t = 12,600: A's last event is 12.6 s old >= 11 s -> purged; B's is 10.2 s old -> kept. The oldest start is
  // B's 1,500: elapsed 11,100 ms (11 full windows, no padding). Rate = (200 + 300) / 11.1 s.
  CHECK(rate.window_size_ms(12'600) == 11'100);
  CHECK(rate.measure(12'600) == doctest::Approx(500.0 / 11.1).scale(0).epsilon(1e-12));
}

TEST_CASE("client quota: window growth of a stream of one record per second, with the 12-sample ring") {
  // r = 1000 bytes at t = 0, 1000, ..., 15,000 ms, the window checked every 500 ms.
  //
  // Records at k x 1000 each open a new sample (start = last event = k x 1000). At time t a sample is kept while
  // t - k x 1000 < 11,000, so for t >= 10,000 the kept samples are k = floor(t/1000) - 10 ... floor(t/1000): 11 of
  // them, the oldest starting at (floor(t/1000) - 10) x 1000, i.e. elapsed = 10,000 + t mod 1000 (>= 10 full windows,
  // no padding). For t < 10,000 the oldest start is 0 and padding gives t + (10 - floor(t/1000)) x 1000, which is
  // 10,000 + t mod 1000 as well. Example: at t = 12,500 the ring (12 slots) holds starts 12,000 (slot 0, recycled at
  // 12,000), 1,000 ... 11,000; the sample of 1,000 has had no event for 11.5 s and is purged, so the oldest start is
  // 2,000 and W = 10,500 ms.
  constexpr double r = 1000.0;
  QuotaRate rate(kafka_defaults);
  for (int64_t t = 0; t <= 15'000; t += 500) {
    if (t % 1000 == 0) rate.record(r, t);
    CAPTURE(t);
    CHECK(rate.window_size_ms(t) == 10'000 + t % 1000);
    if (t == 12'500) CHECK(rate.window_size_ms(t) == 10'500);  // the oldest start is 2,000
    const int64_t records_kept = t < 10'000 ? t / 1000 + 1 : 11;
    const double expected = static_cast<double>(records_kept) * r / (static_cast<double>(10'000 + t % 1000) / 1000.0);
    CHECK(rate.measure(t) == doctest::Approx(expected).scale(0).epsilon(1e-12));
  }
  // Right after a record (t = 15,000) the stream of r B/s measures 11 r / 10 s = 1.1 r; just before the next one
  // (t = 15,999) 11 r / 10.999 s; at t = 16,000 without a record the sample of 5,000 is purged: 10 r / 10 s = r.
  CHECK(rate.measure(15'000) == doctest::Approx(1.1 * r).scale(0).epsilon(1e-12));
  CHECK(rate.measure(15'999) == doctest::Approx(11.0 * r / 10.999).scale(0).epsilon(1e-12));
  CHECK(rate.window_size_ms(16'000) == 10'000);
  CHECK(rate.measure(16'000) == doctest::Approx(r).scale(0).epsilon(1e-12));
}

TEST_CASE("client quota: a steady stream of r B/s in 100 ms records measures r within 0.92%, over 12 samples") {
  // r = 1000 B/s as 100 bytes every 100 ms. Sample j holds the records at j x 1000 + 0 ... 900 (start j x 1000, last
  // event j x 1000 + 900). Measured right after the record at t = n x 1000 + m x 100:
  //  - m < 9: sample j is kept while t - (j x 1000 + 900) < 11,000, i.e. j >= n - 11: TWELVE samples (the ring's extra
  //    one), 11 full ones and m + 1 records of the current: B = (110 + m + 1) x 100, W = t - (n - 11) x 1000 =
  //    11,000 + 100 m. O / r = 1 + 0.1 / (11 + 0.1 m) <= 1 + 0.1 / 11 = 1.00909.
  //  - m = 9: j >= n - 10: 11 full samples, B = 11,000, W = 10,900, O / r = 11 / 10.9 = 1.00917.
  // So O over-counts by at most one record (0.1 r) over a window of at least 10.9 s: r <= O <= 1.0092 r. (A ring of 11
  // samples would give 10.1 r / 10 s = 1.01 r at m = 0.)
  // While young (t < 10,000): B = (t / 100 + 1) x 100, W = 10,000 + t mod 1000; at t = 5,000 O = 5,100 / 10 = 510.
  constexpr double r = 1000.0;
  QuotaRate rate(kafka_defaults);
  for (int64_t t = 0; t <= 25'000; t += 100) {
    rate.record(r / 10.0, t);
    CAPTURE(t);
    const double measured = rate.measure(t);
    if (t == 5'000) CHECK(measured == doctest::Approx(510.0).scale(0).epsilon(1e-12));
    if (t < 11'000) continue;
    const int64_t m = (t % 1000) / 100;
    const double bytes = m < 9 ? static_cast<double>(110 + m + 1) * 100.0 : 11'000.0;
    const int64_t window_ms = m < 9 ? 11'000 + 100 * m : 10'900;
    CHECK(rate.window_size_ms(t) == window_ms);
    CHECK(measured == doctest::Approx(bytes / (static_cast<double>(window_ms) / 1000.0)).scale(0).epsilon(1e-12));
    CHECK(measured >= r);
    CHECK(measured <= 1.0092 * r);
  }
}

TEST_CASE("client quota: after samples x window of silence the old samples are purged") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  produce.set_quota(std::nullopt, 100.0);

  CHECK(produce.record_and_get_throttle_ms("c", 1000.0, 0) == 0);  // 1000 / 10 s = 100 = T
  // At t = 10,999 the sample's last event is 10,999 ms old (< 11,000): kept, W = 10,999 (10 full windows, no
  // padding), O = 1000 / 10.999 s.
  CHECK(produce.measured_rate("c", 10'999) == doctest::Approx(1000.0 / 10.999).scale(0).epsilon(1e-12));
  // At t = 11,000 it is exactly 11 x 1000 ms old: purged (>=), reset to start 11,000: the rate is 0.
  CHECK(produce.measured_rate("c", 11'000) == 0.0);
  // A new record of 500 at t = 11,000 goes into the reset sample: W padded to 10,000, O = 500 / 10 = 50 B/s.
  CHECK(produce.record_and_get_throttle_ms("c", 500.0, 11'000) == 0);
  CHECK(produce.measured_rate("c", 11'000) == doctest::Approx(50.0).scale(0).epsilon(1e-12));

  // Another client: two seconds at the quota, then 20 s of silence, then 300 bytes at t = 22,000. The record opens a
  // new sample (22,000 - 1,000 >= 1000); measure then purges both old samples (last events 21 s and 22 s old) and the
  // window is padded from 22,000: O = 300 / 10 = 30 B/s, no throttle.
  CHECK(produce.record_and_get_throttle_ms("d", 1000.0, 0) == 0);
  CHECK(produce.record_and_get_throttle_ms("d", 50.0, 1'000) > 0);  // 1050 bytes over 10 s (padded at 1 s) > 100
  CHECK(produce.record_and_get_throttle_ms("d", 300.0, 22'000) == 0);
  CHECK(produce.measured_rate("d", 22'000) == doctest::Approx(30.0).scale(0).epsilon(1e-12));
}

TEST_CASE("client quota: request quotas cap the throttle at one window, bandwidth quotas do not") {
  // Request percentage T = 50 (% of one thread). 1e6 percent-seconds at t = 0: O = 1e6 / 10 s = 1e5.
  // Throttle = (1e5 - 50) / 50 x 10,000 = 1999 x 10,000 = 19,990,000 ms, capped to 1000 ms for requests.
  ClientQuotas quotas(kafka_defaults);
  CHECK_FALSE(quotas.any_enabled());
  quotas.request.set_quota(std::nullopt, 50.0);
  quotas.produce.set_quota(std::nullopt, 50.0);
  CHECK(quotas.any_enabled());
  CHECK(quotas.request.type() == QuotaType::request);
  CHECK(quotas.produce.type() == QuotaType::produce);
  CHECK(quotas.fetch.type() == QuotaType::fetch);
  CHECK_FALSE(quotas.fetch.enabled());

  CHECK(quotas.request.record_and_get_throttle_ms("c", 1e6, 0) == 1000);
  CHECK(quotas.produce.record_and_get_throttle_ms("c", 1e6, 0) == 19'990'000);

  // Below the cap a request throttle is the plain formula: 510 at t = 0 -> O = 51, (51 - 50) / 50 x 10,000 = 200 ms.
  ClientQuotaManager request(QuotaType::request, kafka_defaults);
  request.set_quota(std::nullopt, 50.0);
  CHECK(request.record_and_get_throttle_ms("small", 510.0, 0) == 200);
  // 600 -> O = 60 -> 2000 ms, capped to 1000.
  CHECK(request.record_and_get_throttle_ms("large", 600.0, 0) == 1000);

  // nanosToPercentage: 0.5 s of thread time is 50 percent-seconds, 1 s is 100.
  static_assert(thread_time_percent(500'000'000) == 50.0);
  CHECK(thread_time_percent(1'000'000'000) == 100.0);
  CHECK(thread_time_percent(0) == 0.0);
}

TEST_CASE("client quota: entities, a named client-id beats <default>, and each client-id has its own sensor") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  CHECK_FALSE(produce.enabled());
  CHECK_FALSE(produce.quota_for("anyone").has_value());

  SUBCASE("a client without any quota is never throttled, but measured in a sensor of its own") {
    // With client-id quotas configured, sensors are tagged by client-id (§10.1), so "free" has its own, unbounded.
    produce.set_quota(std::string("other"), 100.0);
    CHECK(produce.enabled());
    CHECK(produce.record_and_get_throttle_ms("free", 1e12, 0) == 0);
    produce.record_no_throttle("free", 1e12, 0);
    // 2e12 B over the padded 10 s window (5 s elapsed + 5 windows at 5,000 ms: still 10 s).
    CHECK(produce.measured_rate("free", 0) == doctest::Approx(2e11).scale(0).epsilon(1e-12));
    CHECK(produce.measured_rate("free", 5'000) == doctest::Approx(2e11).scale(0).epsilon(1e-12));
    CHECK(produce.measured_rate("other", 0) == 0.0);
  }

  SUBCASE("named beats <default>, either way round") {
    produce.set_quota(std::nullopt, 100.0);
    produce.set_quota(std::string("fast"), 1000.0);
    produce.set_quota(std::string("slow"), 10.0);
    CHECK(produce.quota_for("fast") == std::optional<double>(1000.0));
    CHECK(produce.quota_for("slow") == std::optional<double>(10.0));
    CHECK(produce.quota_for("someone") == std::optional<double>(100.0));
    // 2000 bytes at t = 0 -> O = 200 B/s for each.
    CHECK(produce.record_and_get_throttle_ms("fast", 2000.0, 0) == 0);        // 200 <= 1000
    CHECK(produce.record_and_get_throttle_ms("someone", 2000.0, 0) == 10'000);  // 2000 x 1000 / 100 - 10,000
    CHECK(produce.record_and_get_throttle_ms("slow", 2000.0, 0) == 190'000);    // 2000 x 1000 / 10 - 10,000
  }

  SUBCASE("<default> gives each client-id its own rate") {
    produce.set_quota(std::nullopt, 100.0);
    // Each at exactly the bound: 1000 / 10 s = 100. A shared sensor would measure 200 and throttle b by 10,000 ms.
    CHECK(produce.record_and_get_throttle_ms("a", 1000.0, 0) == 0);
    CHECK(produce.record_and_get_throttle_ms("b", 1000.0, 0) == 0);
    CHECK(produce.measured_rate("a", 0) == doctest::Approx(100.0).scale(0).epsilon(1e-12));
    CHECK(produce.measured_rate("b", 0) == doctest::Approx(100.0).scale(0).epsilon(1e-12));
  }
}

TEST_CASE("client quota: unrecord takes back a recorded value; record_no_throttle counts without a check") {
  ClientQuotaManager fetch(QuotaType::fetch, kafka_defaults);
  fetch.set_quota(std::nullopt, 100.0);

  CHECK(fetch.record_and_get_throttle_ms("c", 1000.0, 0) == 0);
  // At t = 500: W = 500 + 10 x 1000 = 10,500 (padded), O = 1000 / 10.5 s.
  const double before = fetch.measured_rate("c", 500);
  CHECK(before == doctest::Approx(1000.0 / 10.5).scale(0).epsilon(1e-12));
  // 500 more at t = 500 (same sample: 500 < 1000): B = 1500, throttle = 1500 x 1000 / 100 - 10,500 = 4,500 ms.
  CHECK(fetch.record_and_get_throttle_ms("c", 500.0, 500) == 4'500);
  // The throttled fetch's bytes are un-recorded (§10.3): the rate is back where it was.
  fetch.unrecord("c", 500.0, 500);
  CHECK(fetch.measured_rate("c", 500) == doctest::Approx(before).scale(0).epsilon(1e-12));

  // record_no_throttle on a fresh client: 5000 bytes counted, no check; a later zero-byte record sees
  // O = 5000 / 10 = 500 B/s and throttles 5000 x 1000 / 100 - 10,000 = 40,000 ms.
  fetch.record_no_throttle("d", 5000.0, 0);
  CHECK(fetch.measured_rate("d", 0) == doctest::Approx(500.0).scale(0).epsilon(1e-12));
  CHECK(fetch.record_and_get_throttle_ms("d", 0.0, 0) == 40'000);

  // Without a quota, unrecord does nothing either.
  ClientQuotaManager none(QuotaType::fetch, kafka_defaults);
  none.unrecord("c", 500.0, 0);
  CHECK(none.measured_rate("c", 0) == 0.0);
}

TEST_CASE("client quota: max value in the quota window, and the window of a non-default config") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  CHECK_FALSE(produce.max_value_in_quota_window("c").has_value());
  produce.set_quota(std::nullopt, 100.0);
  // getMaxValueInQuotaWindow: 100 B/s x (11 - 1) x 1 s = 1000 bytes.
  REQUIRE(produce.max_value_in_quota_window("c").has_value());
  CHECK(*produce.max_value_in_quota_window("c") == doctest::Approx(1000.0).scale(0).epsilon(1e-12));

  // samples = 3, window = 500 ms: the window is padded to 2 x 500 = 1000 ms; max value = 100 x 2 x 0.5 = 100 bytes.
  const QuotaWindowConfig small{3, 500};
  ClientQuotaManager quick(QuotaType::produce, small);
  quick.set_quota(std::nullopt, 100.0);
  REQUIRE(quick.max_value_in_quota_window("c").has_value());
  CHECK(*quick.max_value_in_quota_window("c") == doctest::Approx(100.0).scale(0).epsilon(1e-12));
  // The max value at once on an idle sensor: O = 100 / 1 s = T, no throttle; one byte more: O = 101,
  // throttle = 1 / 100 x 1000 = 10 ms.
  CHECK(quick.record_and_get_throttle_ms("c", 100.0, 0) == 0);
  CHECK(quick.record_and_get_throttle_ms("c", 1.0, 0) == 10);

  QuotaRate rate(small);
  rate.record(600.0, 0);
  CHECK(rate.window_size_ms(0) == 1000);  // 0 + (2 - 0) x 500
  CHECK(rate.measure(0) == doctest::Approx(600.0).scale(0).epsilon(1e-12));
  CHECK(rate.window_size_ms(700) == 1200);  // 700, 1 full window < 2: + 1 x 500
  CHECK(rate.measure(700) == doctest::Approx(500.0).scale(0).epsilon(1e-12));
  CHECK(rate.window_size_ms(1000) == 1000);  // 2 full windows: no padding
  CHECK(rate.window_size_ms(1499) == 1499);  // last event 1,499 ms old < 3 x 500: kept
  CHECK(rate.measure(1499) == doctest::Approx(600.0 / 1.499).scale(0).epsilon(1e-12));
  CHECK(rate.measure(1500) == 0.0);          // 1,500 ms old: purged, reset to start 1,500
  CHECK(rate.window_size_ms(1500) == 1000);  // padded from the reset sample
}

TEST_CASE("client quota: the throttle time rounds half up (Math.round)") {
  // Default config, fresh sensor, W = 10,000 ms: 330 bytes with T = 32 B/s gives O = 33 exactly,
  // (33 - 32) / 32 = 2^-5 exactly, x 10,000 = 312.5 exactly (10,000 = 2^4 x 625). Math.round(312.5) = 313
  // (round-half-even would give 312, truncation 312).
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  produce.set_quota(std::nullopt, 32.0);
  CHECK(produce.record_and_get_throttle_ms("c", 330.0, 0) == 313);

  // samples = 3, window = 500 ms, W = 1000 ms padded: 17 bytes with T = 16 gives O = 17,
  // (17 - 16) / 16 = 2^-4, x 1000 = 62.5 exactly -> 63 (half-even: 62).
  ClientQuotaManager quick(QuotaType::produce, QuotaWindowConfig{3, 500});
  quick.set_quota(std::nullopt, 16.0);
  CHECK(quick.record_and_get_throttle_ms("c", 17.0, 0) == 63);
}

TEST_CASE("client quota: a deleted quota falls back to the <default> client-id's, then to none") {
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  // No quota ever configured: nothing is recorded (quotasEnabled is false).
  CHECK_FALSE(produce.enabled());
  CHECK(produce.record_and_get_throttle_ms("c", 1e6, 0) == 0);
  CHECK(produce.measured_rate("c", 0) == 0.0);
  produce.set_quota(std::string("c"), 100.0);
  produce.set_quota(std::nullopt, 1000.0);
  CHECK(produce.quota_for("c") == 100.0);
  produce.remove_quota(std::string("c"));
  CHECK(produce.quota_for("c") == 1000.0);  // DefaultQuotaCallback: the <default> entity's
  produce.remove_quota(std::nullopt);
  CHECK_FALSE(produce.quota_for("c").has_value());
  // quotaTypesEnabled does not go back: the client is recorded, each in its own sensor, but never throttled.
  CHECK(produce.enabled());
  CHECK(produce.record_and_get_throttle_ms("c", 50'000.0, 0) == 0);
  // 50,000 B on a fresh sensor: W = 10 s (padded), 5,000 B/s.
  CHECK(produce.measured_rate("c", 0) == doctest::Approx(5'000.0).scale(0).epsilon(1e-12));
  CHECK(produce.measured_rate("other", 0) == 0.0);
}

TEST_CASE("client quota: a quota given to a client already measured applies to what its sensor holds") {
  // Once some produce quota exists, every client is measured. "d" sends 50,000 B at t = 0 without a quota; given
  // 1,000 B/s at t = 100 ms, its next 1,000 B make O = 51,000 B / 10.1 s (W padded: 100 ms elapsed + 10 windows)
  // = 5,049.5 B/s, and the throttle is round((O - T) / T x W) = round(4.0495 x 10,100) = 40,900 ms
  // (closed form: 51,000 x 1000 / 1000 - 10,100 = 40,900). A sensor started only then would hold 1,000 B: no throttle.
  ClientQuotaManager produce(QuotaType::produce, kafka_defaults);
  produce.set_quota(std::string("someone-else"), 1.0);
  CHECK(produce.record_and_get_throttle_ms("d", 50'000.0, 0) == 0);
  produce.set_quota(std::string("d"), 1'000.0);
  CHECK(produce.record_and_get_throttle_ms("d", 1'000.0, 100) == 40'900);
}
