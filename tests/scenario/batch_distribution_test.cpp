// Batch-size and records-per-request distributions (issue 3, "Metrics"), merged over producers, checked against
// a workload whose batches are known in closed form, and the per-second request rate of timeseries.csv.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "kafkasim/cluster/run_output.hpp"
#include "test_world.hpp"

using namespace kafkasim;
using namespace kafkasim::sim::literals;
using kafka::Acks;

namespace {

// A constant-rate producer of `rate` records/s with linger.ms = `linger_ms` sends one batch per linger: the
// batch opens with a record, and closes linger.ms later holding every record that arrived meanwhile. With the
// period 1/rate not dividing linger.ms, that is floor(linger / period) + 1 records, every time.
int32_t records_per_linger(double rate, double linger_ms) {
  const double period_ms = 1000.0 / rate;
  return static_cast<int32_t>(linger_ms / period_ms) + 1;
}

}  // namespace

// Producer A: 1050 records/s, linger.ms = 10: period 0.952 ms, 10.5 periods per linger -> 11 records a batch,
// 1050/11 = 95.45 batches/s. Producer B: 1025 records/s, linger.ms = 20: period 0.976 ms, 20.5 periods ->
// 21 records a batch, 1025/21 = 48.81 batches/s. One partition, so one batch per ProduceRequest.
//
// Batch bytes (v2 format, record_batch.hpp): 100 B values, no key, no headers, offset deltas < 64 and
// timestamp deltas < 64 ms (one zigzag varint byte each): the record body is attributes 1 + timestampDelta 1 +
// offsetDelta 1 + null key 1 + varint(100) 2 (zigzag 200 >= 128) + 100 + header count 1 = 107 B, and the record
// varint(107) 2 + 107 = 109 B, so a batch of n records is 61 + 109 n: A = 61 + 11 x 109 = 1260 B,
// B = 61 + 21 x 109 = 2350 B.
TEST_CASE("batch size and records per request: percentiles of two producers merged, in closed form") {
  auto spec = test::small_cluster(1, "nvme-datacentre", "nic-10gbe", 1, 1, 1);
  spec.duration = 10_s;
  spec.warmup = 1_s;
  spec.producers.push_back(test::open_loop_producer(1050, Acks::leader, 10, 100));
  spec.producers.push_back(test::open_loop_producer(1025, Acks::leader, 20, 100));
  cluster::World world(spec);
  const auto s = world.run();

  const int32_t n_a = records_per_linger(1050, 10), n_b = records_per_linger(1025, 20);
  REQUIRE(n_a == 11);
  REQUIRE(n_b == 21);
  const double size_a = 61 + 109.0 * n_a, size_b = 61 + 109.0 * n_b;
  const double rate_a = 1050.0 / n_a, rate_b = 1025.0 / n_b;  // batches (= requests) per second
  const double share_a = rate_a / (rate_a + rate_b);          // 66.2 % of the batches are A's
  const double T = spec.duration.seconds_f();

  // Counts: one batch per linger from each producer over the 9 s after the warm-up (the distributions leave the
  // warm-up out, as every percentile of the summary), out of those over the 10 s of the run (batches_sent); the last
  // batch of each may still linger at the end.
  const double W = (spec.duration - spec.warmup).seconds_f();
  const auto& bs = s.batch_size_bytes;
  CHECK(static_cast<double>(bs.count) == doctest::Approx((rate_a + rate_b) * W).scale(0).epsilon(0.01));
  CHECK(static_cast<double>(s.batches_sent) == doctest::Approx((rate_a + rate_b) * T).scale(0).epsilon(0.01));
  // Two point masses: the median is A's size (66 % <= it), p95, p99 and the max are B's.
  CHECK(bs.p50 == size_a);
  CHECK(bs.p95 == size_b);
  CHECK(bs.p99 == size_b);
  CHECK(bs.max == size_b);
  CHECK(bs.mean == doctest::Approx(share_a * size_a + (1 - share_a) * size_b).scale(0).epsilon(0.005));
  CHECK(bs.mean == doctest::Approx(s.batch_size_bytes_mean).scale(0));

  const auto& rpr = s.records_per_request_distribution;
  CHECK(s.produce_requests == s.batches_sent);  // one partition: one batch per request
  CHECK(rpr.count == bs.count);
  CHECK(rpr.p50 == n_a);
  CHECK(rpr.p95 == n_b);
  CHECK(rpr.p99 == n_b);
  CHECK(rpr.max == n_b);
  CHECK(rpr.mean == doctest::Approx(share_a * n_a + (1 - share_a) * n_b).scale(0).epsilon(0.005));
  CHECK(rpr.mean == doctest::Approx(s.records_per_request).scale(0));

  // timeseries.csv: requests per simulated second, 95.45 + 48.81 = 144.3 (each second holds 95 or 96 of A's
  // and 48 or 49 of B's).
  const auto& ts = world.timeseries();
  REQUIRE(ts.rows() == 10);
  for (size_t row = 1; row < ts.rows(); ++row) {
    const double r = ts.value(row, "produce_requests_per_s");
    CHECK(r >= 95 + 48);
    CHECK(r <= 96 + 49);
  }

  // summary.json carries both distributions under produce.distributions.
  const auto j = cluster::summary_json(s, 0.0);
  const auto& d = j.at("produce").at("distributions");
  CHECK(d.at("batch_size_bytes").at("p50").get<double>() == size_a);
  CHECK(d.at("batch_size_bytes").at("max").get<double>() == size_b);
  CHECK(d.at("records_per_request").at("p99").get<double>() == n_b);
  CHECK(d.at("records_per_request").at("count").get<uint64_t>() == rpr.count);
}

// partitioner.class = RoundRobinPartitioner: 1050 records/s of 100 B values with keys "key-0" to "key-9" (which it
// ignores) over three partitions led by three brokers, linger.ms = 10. Each partition gets every third record,
// one per 3/1050 s = 2.857 ms, so its batch holds floor(10 / 2.857) + 1 = 4 records when its linger ends, and
// alone on its broker it goes out alone: every request carries one batch of 4 records. A 5-byte key makes the
// record body 107 + 5 = 112 B (its length varint is one byte, as the null key's -1 was), the record 2 + 112 =
// 114 B and the batch 61 + 4 x 114 = 517 B. The built-in partitioner would hash the keys instead.
TEST_CASE("RoundRobinPartitioner: every partition gets every third record, four to a batch") {
  auto spec = test::small_cluster(3, "nvme-datacentre", "nic-10gbe", 3, 1, 1);
  spec.duration = 10_s;
  spec.warmup = 1_s;
  auto p = test::open_loop_producer(1050, Acks::leader, 10, 100);
  p.config.partitioner_class = kafka::PartitionerClass::round_robin;
  p.keys = cluster::KeyDistribution::uniform(10);
  spec.producers.push_back(p);
  cluster::World world(spec);
  const auto s = world.run();
  REQUIRE(s.records_failed == 0);
  REQUIRE(s.records_per_request_distribution.count > 2000);
  CHECK(s.records_per_request_distribution.p50 == 4);
  CHECK(s.records_per_request_distribution.max == 4);
  CHECK(s.batch_size_bytes.p50 == 517);
  CHECK(s.batch_size_bytes.max == 517);
  // The three logs hold the records in turn: at the end their ends differ by at most a batch (4 records: some
  // partitions' last batch is still lingering).
  std::vector<int64_t> ends;
  for (int32_t partition = 0; partition < 3; ++partition)
    for (uint32_t b = 0; b < 3; ++b)
      if (const kafka::Partition* log = world.partition(b, {0, partition}); log != nullptr && log->is_leader())
        ends.push_back(log->log_end_offset());
  REQUIRE(ends.size() == 3);
  CHECK(*std::max_element(ends.begin(), ends.end()) - *std::min_element(ends.begin(), ends.end()) <= 4);
  CHECK(ends[0] + ends[1] + ends[2] >= 10 * 1050 - 12);  // all but the lingering batches
}
