// Tests of the CPU model (include/kafkasim/models/cpu.hpp). Expected values come from queueing theory
// (M/D/1 Pollaczek-Khinchine, M/M/1, Erlang C for M/M/c; hardware-models.md §6 check 1) and from hand
// arithmetic on the processor-sharing equation r = m·min(1, C/R), shown next to each check.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kafkasim/models/cpu.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::models;
using namespace kafkasim::sim;
using namespace kafkasim::sim::literals;

namespace {

SimTime at(Duration d) { return SimTime::zero() + d; }

CpuParams one_pool(uint32_t cores, uint32_t threads, uint32_t queue_capacity = 1u << 20) {
  CpuParams p;
  p.cores = cores;
  p.pools.push_back({"work", threads, queue_capacity});
  return p;
}

// Submits a task and records its completion time into `done_at[index]`.
void submit_recorded(Engine& engine, Cpu& cpu, PoolId pool, Duration cost, std::vector<SimTime>& done_at,
                     size_t index) {
  const SubmitStatus s = cpu.submit(pool, cost, [&engine, &done_at, index] { done_at[index] = engine.now(); });
  REQUIRE(s == SubmitStatus::kAccepted);
}

// Submits `n` tasks of `cost` at once; their completion times land in `done`, in submission order (kept alive by
// the caller until the engine has run).
void submit_all(Engine& engine, Cpu& cpu, PoolId pool, Duration cost, size_t n, std::vector<SimTime>& done) {
  done.assign(n, SimTime{});
  for (size_t i = 0; i < n; ++i) submit_recorded(engine, cpu, pool, cost, done, i);
}

// A host with one pool "work" of `threads` threads on `cores` cores.
struct OnePoolHost {
  Engine engine;
  Cpu cpu;
  PoolId pool;
  OnePoolHost(uint32_t cores, uint32_t threads) : cpu(engine, one_pool(cores, threads)), pool(cpu.pool("work")) {}
};

// An open-loop Poisson source of tasks into one pool; records each task's wait and sojourn (in ns) as seen
// from outside the model (submit time, completion callback time, and the known cost).
struct PoissonRun {
  std::vector<double> sojourn_ns;
  std::vector<double> wait_ns;  // only meaningful when threads <= cores (no core sharing): sojourn − cost
  SimTime end;
  double sum_cost_ns = 0;
  uint64_t trace_hash = 0;
};

PoissonRun run_poisson(uint64_t seed, uint32_t cores, uint32_t threads, double mean_interarrival_ns,
                       const std::function<Duration(Rng&)>& draw_cost, size_t tasks, size_t warmup) {
  Engine engine;
  Cpu cpu(engine, one_pool(cores, threads));
  const PoolId pool = cpu.pool("work");
  Rng arrivals = Rng::stream(seed, "test/arrivals");
  Rng costs = Rng::stream(seed, "test/costs");
  PoissonRun out;
  out.sojourn_ns.assign(tasks, 0.0);
  out.wait_ns.assign(tasks, 0.0);
  size_t submitted = 0;
  size_t rejected = 0;
  std::function<void()> arrive = [&] {
    const Duration cost = draw_cost(costs);
    out.sum_cost_ns += static_cast<double>(cost.ns());
    const SimTime submit_time = engine.now();
    const size_t i = submitted++;
    if (cpu.submit(pool, cost, [&out, &engine, submit_time, cost, i] {
          const double sojourn = static_cast<double>((engine.now() - submit_time).ns());
          out.sojourn_ns[i] = sojourn;
          out.wait_ns[i] = sojourn - static_cast<double>(cost.ns());
        }) != SubmitStatus::kAccepted)
      ++rejected;
    if (submitted < tasks) {
      const auto gap_ns = static_cast<int64_t>(std::llround(arrivals.exponential(mean_interarrival_ns)));
      engine.schedule_after(Duration::from_ns(gap_ns), [&] { arrive(); });
    }
  };
  engine.schedule_at(SimTime::zero(), [&] { arrive(); });
  const RunResult r = engine.run_until(SimTime::max(), 20 * tasks + 100);
  REQUIRE(r.reason == StopReason::kDrained);
  REQUIRE(rejected == 0);
  REQUIRE(cpu.host_stats().tasks_done == tasks);
  out.sojourn_ns.erase(out.sojourn_ns.begin(), out.sojourn_ns.begin() + static_cast<ptrdiff_t>(warmup));
  out.wait_ns.erase(out.wait_ns.begin(), out.wait_ns.begin() + static_cast<ptrdiff_t>(warmup));
  out.end = engine.now();
  out.trace_hash = engine.trace_hash();
  return out;
}

// Mean and its standard error by the method of batch means (waits of consecutive customers are strongly
// correlated near saturation, so the naive i.i.d. standard error would be far too small).
struct MeanEstimate {
  double mean;
  double standard_error;
};

MeanEstimate batch_means(const std::vector<double>& x, size_t batches) {
  const size_t per = x.size() / batches;
  REQUIRE(per > 0);
  std::vector<double> means(batches, 0.0);
  double total = 0;
  for (size_t b = 0; b < batches; ++b) {
    double s = 0;
    for (size_t i = b * per; i < (b + 1) * per; ++i) s += x[i];
    means[b] = s / static_cast<double>(per);
    total += means[b];
  }
  const double mean = total / static_cast<double>(batches);
  double var = 0;
  for (double m : means) var += (m - mean) * (m - mean);
  var /= static_cast<double>(batches - 1);
  return {mean, std::sqrt(var / static_cast<double>(batches))};
}

Duration fixed_cost(Rng&) { return 1_ms; }
Duration exponential_cost_1ms(Rng& rng) {
  return Duration::from_ns(std::max<int64_t>(1, std::llround(rng.exponential(1e6))));
}

// Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ (a < c), from the Erlang B
// recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)); C = B / (1 − ρ(1 − B)) with ρ = a/c.
double erlang_c(uint32_t c, double a) {
  double b = 1.0;
  for (uint32_t k = 1; k <= c; ++k) b = a * b / (static_cast<double>(k) + a * b);
  const double rho = a / static_cast<double>(c);
  return b / (1.0 - rho * (1.0 - b));
}

}  // namespace

// ---- closed-form queueing checks ------------------------------------------------------------------------------

TEST_CASE("cpu: one thread, Poisson arrivals, fixed cost (M/D/1) gives the Pollaczek-Khinchine mean wait") {
  // hardware-models.md §6 check 1: S = 1 ms, ρ = 0.8 → Wq = ρS/(2(1−ρ)) = 2.0 ms, sojourn 3.0 ms.
  // Tolerance: |estimate − 2.0 ms| ≤ 4 standard errors (batch means, 40 batches of 10,000 customers), and the
  // standard error itself must be below 2.5 % of Wq so that the check is sharp. One thread on one core: no
  // core sharing, so the wait is sojourn − S exactly.
  const double s_ns = 1e6;
  const double rho = 0.8;
  const PoissonRun run = run_poisson(1, 1, 1, s_ns / rho, fixed_cost, 410'000, 10'000);
  const MeanEstimate wq = batch_means(run.wait_ns, 40);
  const double expected_wq_ns = rho * s_ns / (2.0 * (1.0 - rho));
  CHECK(expected_wq_ns == doctest::Approx(2e6).scale(0));
  CHECK(wq.standard_error < 0.025 * expected_wq_ns);
  CHECK(std::abs(wq.mean - expected_wq_ns) <= 4.0 * wq.standard_error);
  const MeanEstimate sojourn = batch_means(run.sojourn_ns, 40);
  CHECK(std::abs(sojourn.mean - 3e6) <= 4.0 * sojourn.standard_error);
}

TEST_CASE("cpu: one thread, exponential costs (M/M/1) gives mean sojourn S/(1−ρ)") {
  // hardware-models.md §6 check 1: S = 1 ms, ρ = 0.8 → sojourn 5 ms. Tolerance: 4 batch-means standard errors,
  // standard error below 3 % of the expected value.
  const double s_ns = 1e6;
  const double rho = 0.8;
  const PoissonRun run = run_poisson(2, 1, 1, s_ns / rho, exponential_cost_1ms, 410'000, 10'000);
  const MeanEstimate t = batch_means(run.sojourn_ns, 40);
  const double expected_ns = s_ns / (1.0 - rho);
  CHECK(expected_ns == doctest::Approx(5e6).scale(0));
  CHECK(t.standard_error < 0.03 * expected_ns);
  CHECK(std::abs(t.mean - expected_ns) <= 4.0 * t.standard_error);
}

TEST_CASE("cpu: c threads on at least c cores with exponential costs (M/M/c) gives the Erlang-C mean wait") {
  // c = 4 threads on 8 cores (no sharing), μ = 1/ms, λ = 3/ms → a = 3, ρ = 0.75;
  // Wq = C(c, a) / (cμ − λ), with C(4, 3) ≈ 0.5094 → Wq ≈ 0.509 ms. Tolerance: 4 batch-means standard errors.
  const uint32_t c = 4;
  const double s_ns = 1e6;
  const double lambda_per_ns = 3.0 / 1e6;
  const PoissonRun run = run_poisson(3, 8, c, 1.0 / lambda_per_ns, exponential_cost_1ms, 410'000, 10'000);
  const double a = lambda_per_ns * s_ns;
  const double expected_wq_ns = erlang_c(c, a) / (static_cast<double>(c) / s_ns - lambda_per_ns);
  CHECK(erlang_c(c, a) == doctest::Approx(0.5094).scale(0).epsilon(0.001));
  const MeanEstimate wq = batch_means(run.wait_ns, 40);
  CHECK(wq.standard_error < 0.05 * expected_wq_ns);
  CHECK(std::abs(wq.mean - expected_wq_ns) <= 4.0 * wq.standard_error);
}

TEST_CASE("cpu: accounting over a drained M/D/1 run: busy core time is the sum of costs, Σ wait = ∫ queue dt") {
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  const PoolId pool = cpu.pool("work");
  Rng rng = Rng::stream(9, "test/arrivals");
  const size_t tasks = 20'000;
  size_t submitted = 0;
  double wait_seen_ns = 0;
  std::function<void()> arrive = [&] {
    const SimTime t0 = engine.now();
    REQUIRE(cpu.submit(pool, 1_ms, [&, t0] {
      wait_seen_ns += static_cast<double>((engine.now() - t0).ns()) - 1e6;
    }) == SubmitStatus::kAccepted);
    if (++submitted < tasks)
      engine.schedule_after(Duration::from_ns(std::llround(rng.exponential(1.25e6))), [&] { arrive(); });
  };
  engine.schedule_at(SimTime::zero(), [&] { arrive(); });
  engine.run_until(SimTime::max());
  const double elapsed_ns = static_cast<double>(engine.now().ns());
  const CpuHostStats host = cpu.host_stats();
  const CpuPoolStats p = cpu.pool_stats(pool);
  // Each task received exactly its 1 ms of CPU.
  CHECK(host.busy_core_seconds == doctest::Approx(static_cast<double>(tasks) * 1e-3).scale(0).epsilon(1e-9));
  CHECK(host.utilisation == doctest::Approx(static_cast<double>(tasks) * 1e6 / elapsed_ns).scale(0).epsilon(1e-9));
  // One thread on one core: thread occupancy equals core utilisation.
  CHECK(p.thread_utilisation == doctest::Approx(host.utilisation).scale(0).epsilon(1e-9));
  // The queue started and ended empty, so its time integral equals the sum of the waits (Little's law
  // sample-path identity), and the model's own wait total equals the wait observed from outside.
  CHECK(p.queue_length_mean * elapsed_ns == doctest::Approx(wait_seen_ns).scale(0).epsilon(1e-9));
  CHECK(static_cast<double>(p.wait_total.ns()) == doctest::Approx(wait_seen_ns).scale(0).epsilon(1e-12));
  CHECK(p.tasks_done == tasks);
  CHECK(p.queue_length == 0);
  CHECK(p.busy_threads == 0);
}

// ---- processor sharing -------------------------------------------------------------------------------------

TEST_CASE("cpu: four threads busy on two cores each take twice their cost") {
  // R = 4 > C = 2 → r = 2/4 = 0.5, so a 10 ms task takes 20 ms.
  OnePoolHost h(2, 4);
  auto& [engine, cpu, pool] = h;
  std::vector<SimTime> done;
  submit_all(engine, cpu, pool, 10_ms, 4, done);
  engine.run_until(at(10_ms));
  CHECK(cpu.host_stats().utilisation == doctest::Approx(1.0).scale(0));
  CHECK(cpu.pool_stats(pool).thread_utilisation == doctest::Approx(1.0).scale(0));
  engine.run_until(SimTime::max());
  for (const SimTime t : done) CHECK(t == at(20_ms));
  // 40 ms of CPU work over 2 cores × 20 ms.
  CHECK(cpu.host_stats().busy_core_seconds == doctest::Approx(0.040).scale(0));
  CHECK(cpu.host_stats().utilisation == doctest::Approx(1.0).scale(0));
}

TEST_CASE("cpu: completion times are recomputed when the running set changes") {
  // Costs 10, 20, 30 ms on 3 threads and 2 cores. Until the first ends r = 2/3: it ends at 10/(2/3) = 15 ms,
  // the others have then done 10 ms each. With R = 2 = C, r = 1: the second ends at 15 + 10 = 25 ms, the third
  // at 15 + 20 = 35 ms.
  Engine engine;
  Cpu cpu(engine, one_pool(2, 3));
  const PoolId pool = cpu.pool("work");
  std::vector<SimTime> done(3);
  submit_recorded(engine, cpu, pool, 10_ms, done, 0);
  submit_recorded(engine, cpu, pool, 20_ms, done, 1);
  submit_recorded(engine, cpu, pool, 30_ms, done, 2);
  engine.run_until(SimTime::max());
  CHECK(done[0] == at(15_ms));
  CHECK(done[1] == at(25_ms));
  CHECK(done[2] == at(35_ms));
}

TEST_CASE("cpu: pools share the host's cores but queue separately") {
  // Pool a (1 thread) and pool b (2 threads) on 2 cores. At t = 0: a gets 10 ms, b gets two 10 ms tasks → R = 3,
  // r = 2/3, all three end at 15 ms. A second task queued on a at t = 0 starts at 15 ms alone → ends at 25 ms.
  Engine engine;
  CpuParams params;
  params.cores = 2;
  params.pools.push_back({"a", 1, 16});
  params.pools.push_back({"b", 2, 16});
  Cpu cpu(engine, params);
  std::vector<SimTime> done(4);
  submit_recorded(engine, cpu, cpu.pool("a"), 10_ms, done, 0);
  submit_recorded(engine, cpu, cpu.pool("a"), 10_ms, done, 1);
  submit_recorded(engine, cpu, cpu.pool("b"), 10_ms, done, 2);
  submit_recorded(engine, cpu, cpu.pool("b"), 10_ms, done, 3);
  CHECK(cpu.pool_stats(cpu.pool("a")).queue_length == 1);
  engine.run_until(SimTime::max());
  CHECK(done[0] == at(15_ms));
  CHECK(done[2] == at(15_ms));
  CHECK(done[3] == at(15_ms));
  CHECK(done[1] == at(25_ms));
  // Pool b used 20 ms of CPU in 25 ms on 2 cores; pool a 20 ms too.
  CHECK(cpu.pool_stats(cpu.pool("b")).busy_core_seconds == doctest::Approx(0.020).scale(0));
  CHECK(cpu.pool_stats(cpu.pool("a")).busy_core_seconds == doctest::Approx(0.020).scale(0));
  CHECK(cpu.pool_stats(cpu.pool("b")).core_utilisation == doctest::Approx(20.0 / (2.0 * 25.0)).scale(0));
  // Pool a's thread was occupied for all 25 ms; b's two threads for 15 ms each out of 2 × 25 ms.
  CHECK(cpu.pool_stats(cpu.pool("a")).thread_utilisation == doctest::Approx(1.0).scale(0));
  CHECK(cpu.pool_stats(cpu.pool("b")).thread_utilisation == doctest::Approx(30.0 / 50.0).scale(0));
}

TEST_CASE("cpu: one thread serves its FIFO queue in order, and a callback may submit more work") {
  Engine engine;
  Cpu cpu(engine, one_pool(4, 1));
  const PoolId pool = cpu.pool("work");
  std::vector<SimTime> done;
  submit_all(engine, cpu, pool, 1_ms, 3, done);
  CHECK(cpu.pool_stats(pool).queue_length == 2);
  CHECK(cpu.tasks_in_flight() == 3);
  engine.run_until(SimTime::max());
  CHECK(done == std::vector<SimTime>{at(1_ms), at(2_ms), at(3_ms)});

  // A closed loop of 100 tasks of 1 ms, each submitted by the previous one's callback: 100 ms after 3 ms.
  int remaining = 100;
  std::function<void()> next = [&] {
    if (--remaining > 0) REQUIRE(cpu.submit(pool, 1_ms, [&] { next(); }) == SubmitStatus::kAccepted);
  };
  REQUIRE(cpu.submit(pool, 1_ms, [&] { next(); }) == SubmitStatus::kAccepted);
  engine.run_until(SimTime::max());
  CHECK(remaining == 0);
  CHECK(engine.now() == at(103_ms));
}

TEST_CASE("cpu: a zero-cost task completes from an event at the same instant, never synchronously") {
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  bool ran = false;
  REQUIRE(cpu.submit(cpu.pool("work"), Duration::zero(), [&] { ran = true; }) == SubmitStatus::kAccepted);
  CHECK_FALSE(ran);
  engine.run_until(SimTime::max());
  CHECK(ran);
  CHECK(engine.now() == SimTime::zero());
}

TEST_CASE("cpu: a full pool queue rejects the task as a value and never calls it") {
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1, 2));
  const PoolId pool = cpu.pool("work");
  int calls = 0;
  CHECK(cpu.submit(pool, 1_ms, [&] { ++calls; }) == SubmitStatus::kAccepted);  // runs
  CHECK(cpu.submit(pool, 1_ms, [&] { ++calls; }) == SubmitStatus::kAccepted);  // queued 1
  CHECK(cpu.submit(pool, 1_ms, [&] { ++calls; }) == SubmitStatus::kAccepted);  // queued 2
  CHECK(cpu.submit(pool, 1_ms, [&] { calls += 100; }) == SubmitStatus::kQueueFull);
  engine.run_until(SimTime::max());
  CHECK(calls == 3);
  CHECK(cpu.pool_stats(pool).tasks_rejected == 1);
  CHECK(cpu.pool_stats(pool).queue_length_max == 2);
}

// ---- faults ------------------------------------------------------------------------------------------------

TEST_CASE("cpu: a pause delays a running task by exactly the pause length") {
  // A 10 ms task from t = 0, pause 5 ms at t = 3 ms → done at 15 ms. A task queued behind it on the same
  // thread starts at 15 ms → 25 ms. A task submitted during the pause to an idle pool starts when the pause ends
  // (8 ms) and ends 2 ms later (2 cores, so no sharing).
  Engine engine;
  CpuParams params;
  params.cores = 2;
  params.pools.push_back({"a", 1, 16});
  params.pools.push_back({"b", 1, 16});
  Cpu cpu(engine, params);
  std::vector<SimTime> done(3);
  submit_recorded(engine, cpu, cpu.pool("a"), 10_ms, done, 0);
  engine.schedule_at(at(1_ms), [&] { submit_recorded(engine, cpu, cpu.pool("a"), 10_ms, done, 1); });
  engine.schedule_at(at(3_ms), [&] { cpu.pause_for(5_ms); });
  engine.schedule_at(at(4_ms), [&] {
    CHECK(cpu.paused());
    submit_recorded(engine, cpu, cpu.pool("b"), 2_ms, done, 2);
    CHECK(cpu.pool_stats(cpu.pool("b")).queue_length == 1);
  });
  engine.run_until(SimTime::max());
  CHECK(done[0] == at(15_ms));
  CHECK(done[1] == at(25_ms));
  CHECK(done[2] == at(10_ms));
  CHECK(cpu.host_stats().pauses == 1);
  CHECK(cpu.host_stats().paused_total == 5_ms);
  // No CPU work is delivered during a pause: 22 ms of work in total.
  CHECK(cpu.host_stats().busy_core_seconds == doctest::Approx(0.022).scale(0));
}

TEST_CASE("cpu: a pause under core sharing and overlapping pauses") {
  SUBCASE("four 10 ms tasks on 2 cores (20 ms each) paused for 7 ms end at 27 ms") {
    Engine engine;
    Cpu cpu(engine, one_pool(2, 4));
    std::vector<SimTime> done(4);
    for (size_t i = 0; i < 4; ++i) submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, i);
    engine.schedule_at(at(5_ms), [&] { cpu.pause_for(7_ms); });
    engine.run_until(SimTime::max());
    for (const SimTime t : done) CHECK(t == at(27_ms));
  }
  SUBCASE("pauses [2, 7) and [4, 14) merge into [2, 14); a shorter pause inside does not shorten it") {
    Engine engine;
    Cpu cpu(engine, one_pool(1, 1));
    std::vector<SimTime> done(1);
    submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, 0);
    engine.schedule_at(at(2_ms), [&] { cpu.pause_for(5_ms); });
    engine.schedule_at(at(4_ms), [&] { cpu.pause_for(10_ms); });
    engine.schedule_at(at(5_ms), [&] { cpu.pause_for(1_ms); });
    engine.run_until(SimTime::max());
    // 12 ms paused in total → 10 + 12 = 22 ms.
    CHECK(done[0] == at(22_ms));
    CHECK(cpu.host_stats().paused_total == 12_ms);
  }
}

TEST_CASE("cpu: a speed multiplier of 0.5 doubles service time") {
  SUBCASE("from the start: a 10 ms task takes 20 ms") {
    Engine engine;
    Cpu cpu(engine, one_pool(1, 1));
    cpu.set_speed_multiplier(0.5);
    std::vector<SimTime> done(1);
    submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, 0);
    engine.run_until(SimTime::max());
    CHECK(done[0] == at(20_ms));
  }
  SUBCASE("mid-task at 4 ms: the remaining 6 ms take 12 ms → done at 16 ms; restoring at 10 ms → 13 ms") {
    Engine engine;
    Cpu cpu(engine, one_pool(1, 1));
    std::vector<SimTime> done(2);
    submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, 0);
    engine.schedule_at(at(4_ms), [&] { cpu.set_speed_multiplier(0.5); });
    engine.run_until(SimTime::max());
    CHECK(done[0] == at(16_ms));
    // Second task: 10 ms submitted at 16 ms at half speed; back to full speed at 22 ms with 7 ms left → 29 ms.
    submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, 1);
    engine.schedule_at(at(22_ms), [&] { cpu.set_speed_multiplier(1.0); });
    engine.run_until(SimTime::max());
    CHECK(done[1] == at(29_ms));
  }
  SUBCASE("changed during a pause: takes effect when the pause ends") {
    // 10 ms task; pause [2, 5); m = 0.5 set at 3 ms; 8 ms left at half speed from 5 ms → 21 ms.
    Engine engine;
    Cpu cpu(engine, one_pool(1, 1));
    std::vector<SimTime> done(1);
    submit_recorded(engine, cpu, cpu.pool("work"), 10_ms, done, 0);
    engine.schedule_at(at(2_ms), [&] { cpu.pause_for(3_ms); });
    engine.schedule_at(at(3_ms), [&] { cpu.set_speed_multiplier(0.5); });
    engine.run_until(SimTime::max());
    CHECK(done[0] == at(21_ms));
  }
}

// ---- determinism, configuration, preconditions ------------------------------------------------------------

namespace {

// A mixed workload over three pools with pauses and speed changes; returns completion times and the trace hash.
std::pair<std::vector<int64_t>, uint64_t> mixed_run(uint64_t seed) {
  Engine engine;
  Cpu cpu(engine, kafka_broker_cpu_params(4));
  Rng rng = Rng::stream(seed, "test/mixed");
  std::vector<int64_t> done_ns;
  const PoolId pools[] = {cpu.pool("network"), cpu.pool("io"), cpu.pool("replica-fetcher")};
  for (int i = 0; i < 2'000; ++i) {
    const SimTime t = SimTime::from_ns(static_cast<int64_t>(rng.uniform_u64(1'000'000'000)));
    const PoolId pool = pools[rng.uniform_u64(3)];
    const Duration cost = Duration::from_ns(1 + static_cast<int64_t>(rng.uniform_u64(3'000'000)));
    engine.schedule_at(t, [&, pool, cost] {
      (void)cpu.submit(pool, cost, [&] { done_ns.push_back(engine.now().ns()); });
    });
  }
  for (int i = 0; i < 10; ++i) {
    const SimTime t = SimTime::from_ns(static_cast<int64_t>(rng.uniform_u64(1'000'000'000)));
    const Duration d = Duration::from_ns(1 + static_cast<int64_t>(rng.uniform_u64(50'000'000)));
    const double m = 0.25 + 0.75 * rng.next_double();
    engine.schedule_at(t, [&, d] { cpu.pause_for(d); });
    engine.schedule_at(t + 1_ms, [&, m] { cpu.set_speed_multiplier(m); });
  }
  engine.run_until(SimTime::max());
  return {done_ns, engine.trace_hash()};
}

}  // namespace

TEST_CASE("cpu: the same seed gives identical completions; another seed does not") {
  const auto a = mixed_run(42);
  const auto b = mixed_run(42);
  const auto c = mixed_run(43);
  CHECK(a.first.size() == 2'000);
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
  CHECK(a.second != c.second);
}

TEST_CASE("cpu: Kafka broker pools carry Kafka's default thread counts") {
  Engine engine;
  Cpu cpu(engine, kafka_broker_cpu_params(16));
  CHECK(cpu.cores() == 16);
  CHECK(cpu.pool_stats(cpu.pool("network")).threads == 3);   // num.network.threads
  CHECK(cpu.pool_stats(cpu.pool("io")).threads == 8);        // num.io.threads
  CHECK(cpu.pool_stats(cpu.pool("replica-fetcher")).threads == 1);  // num.replica.fetchers
  CHECK_FALSE(cpu.find_pool("no-such-pool").has_value());
  // queued.max.requests = 500: the 9th..508th io tasks queue, the 509th is rejected.
  const PoolId io = cpu.pool("io");
  int accepted = 0;
  for (int i = 0; i < 509; ++i)
    if (cpu.submit(io, 1_ms, [] {}) == SubmitStatus::kAccepted) ++accepted;
  CHECK(accepted == 508);
}

TEST_CASE("cpu: preconditions are enforced") {
  test::ThrowOnAssert guard;
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  CHECK_THROWS_AS(cpu.submit(cpu.pool("work"), -1_ms, [] {}), test::AssertionFailure);
  CHECK_THROWS_AS(cpu.pool("nope"), test::AssertionFailure);
  CHECK_THROWS_AS(cpu.set_speed_multiplier(0.0), test::AssertionFailure);
  CHECK_THROWS_AS(cpu.set_speed_multiplier(1.5), test::AssertionFailure);
  CHECK_THROWS_AS(cpu.pause_for(Duration::zero()), test::AssertionFailure);
  CpuParams no_threads = one_pool(1, 1);
  no_threads.pools[0].threads = 0;
  CHECK_THROWS_AS(Cpu(engine, no_threads), test::AssertionFailure);
  CpuParams twice = one_pool(1, 1);
  twice.pools.push_back({"other", 1, 1});
  twice.pools.push_back({"work", 2, 1});
  CHECK_THROWS_AS(Cpu(engine, twice), test::AssertionFailure);  // pool names are unique
}

TEST_CASE("cpu: pools are found by name among many, each at its place in CpuParams::pools") {
  // A broker has one pool per replica fetcher thread: num.replica.fetchers x brokers of them (up to 10000 x
  // brokers). Names are given in an order that is not sorted (f-9 before f-10), so an index by name must map
  // back to the position in the list, not to the name's rank.
  Engine engine;
  CpuParams params;
  params.cores = 4;
  constexpr uint32_t kPools = 20000;
  for (uint32_t i = 0; i < kPools; ++i) params.pools.push_back({"f-" + std::to_string(i), 1 + i % 3, 16});
  Cpu cpu(engine, params);
  CHECK(cpu.pool_count() == kPools);
  for (uint32_t i : {0u, 9u, 10u, 99u, 100u, 12345u, kPools - 1}) {
    const PoolId id = cpu.pool("f-" + std::to_string(i));
    CHECK(id.index == i);
    CHECK(cpu.pool_name(id) == "f-" + std::to_string(i));
    CHECK(cpu.pool_stats(id).threads == 1 + i % 3);
  }
  CHECK_FALSE(cpu.find_pool("f-").has_value());
  CHECK_FALSE(cpu.find_pool("f-20000").has_value());
  CHECK_FALSE(cpu.find_pool("f-0 ").has_value());
}

TEST_CASE("a held thread stays occupied without using a core until it is released") {
  // One core, one thread. Task A (10 us of CPU) holds its thread after it finishes, as a request handler
  // blocked in write(); B (10 us) is submitted at once and must wait for the release at 50 us. Hand arithmetic:
  // A ends at 10 us; B runs 50..60 us; the core works 20 us in all; the thread is occupied 0..60 us.
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  const PoolId pool = cpu.pool("work");
  std::vector<SimTime> done_at(2);
  REQUIRE(cpu.submit_and_hold(pool, 10_us, [&] { done_at[0] = engine.now(); }) == SubmitStatus::kAccepted);
  submit_recorded(engine, cpu, pool, 10_us, done_at, 1);
  engine.schedule_at(at(50_us), [&] { cpu.release_thread(pool); });
  engine.run_until(at(60_us));
  CHECK(done_at[0] == at(10_us));
  CHECK(done_at[1] == at(60_us));
  const CpuPoolStats stats = cpu.pool_stats(pool);
  CHECK(stats.busy_core_seconds == doctest::Approx(20e-6).scale(0));
  CHECK(stats.thread_utilisation == doctest::Approx(1.0).scale(0));
  CHECK(stats.busy_threads == 0);
}

TEST_CASE("cpu: a held thread goes on with its next work ahead of the queue, as a request handler thread does") {
  // One core, one thread. A (zero cost) takes the thread and holds it, as a request taken from Kafka's request
  // queue; its callback continues on the same thread with 10 us of work. B (10 us) was queued behind A at time 0.
  // The handler thread finishes A's request before it takes B: A's work runs 0..10 us, B 10..20 us. (Submitting
  // A's work to the pool instead would put it behind B: B 0..10 us, A 10..20 us.)
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  const PoolId pool = cpu.pool("work");
  std::vector<SimTime> done_at(2);
  sim::Callback take = [&] {
    cpu.continue_held(pool, 10_us, [&] { done_at[0] = engine.now(); }, false);
  };
  REQUIRE(cpu.try_submit_and_hold(pool, Duration::zero(), take) == SubmitStatus::kAccepted);
  submit_recorded(engine, cpu, pool, 10_us, done_at, 1);
  engine.run_until(at(1_ms));
  CHECK(done_at[0] == at(10_us));
  CHECK(done_at[1] == at(20_us));
  const CpuPoolStats stats = cpu.pool_stats(pool);
  CHECK(stats.busy_core_seconds == doctest::Approx(20e-6).scale(0));
  CHECK(stats.busy_threads == 0);
}

TEST_CASE("cpu: continuing on a held thread can hold it again, and during a pause the work starts first at its end") {
  // One core, one thread. A (5 us) holds its thread. At 20 us the host pauses for 100 us; at 50 us, during the
  // pause, B (10 us) is submitted and queues, then A's thread continues with 10 us of work that holds the thread
  // again afterwards. At the pause's end (120 us) the continued work runs first: 120..130 us; its thread stays
  // held until the release at 200 us, so B runs 200..210 us.
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  const PoolId pool = cpu.pool("work");
  std::vector<SimTime> done_at(3);
  REQUIRE(cpu.submit_and_hold(pool, 5_us, [&] { done_at[0] = engine.now(); }) == SubmitStatus::kAccepted);
  engine.schedule_at(at(20_us), [&] { cpu.pause_for(100_us); });
  engine.schedule_at(at(50_us), [&] {
    submit_recorded(engine, cpu, pool, 10_us, done_at, 2);
    cpu.continue_held(pool, 10_us, [&] { done_at[1] = engine.now(); }, true);
  });
  engine.schedule_at(at(200_us), [&] { cpu.release_thread(pool); });
  engine.run_until(at(1_ms));
  CHECK(done_at[0] == at(5_us));
  CHECK(done_at[1] == at(130_us));
  CHECK(done_at[2] == at(210_us));
  CHECK(cpu.pool_stats(pool).busy_core_seconds == doctest::Approx(25e-6).scale(0));
}

TEST_CASE("cpu: continue_held needs a held thread") {
  test::ThrowOnAssert guard;
  Engine engine;
  Cpu cpu(engine, one_pool(1, 1));
  CHECK_THROWS_AS(cpu.continue_held(cpu.pool("work"), 1_us, [] {}, false), test::AssertionFailure);
}

TEST_CASE("cpu: try_take_thread takes a free thread at once, held, and refuses while none is free or the host is paused") {
  // Two threads. The first two takes succeed at once (no event, the threads held); the third finds none free. A task
  // submitted meanwhile queues; a release lets it run, so no thread is free and a take still fails; once the task is
  // done one thread is free again. During a pause a take fails even with a free thread.
  Engine engine;
  Cpu cpu(engine, one_pool(4, 2));
  const PoolId pool = cpu.pool("work");
  CHECK(cpu.try_take_thread(pool));
  CHECK(cpu.try_take_thread(pool));
  CHECK_FALSE(cpu.try_take_thread(pool));
  CHECK(engine.events_pending() == 0);
  std::vector<SimTime> done_at(1);
  submit_recorded(engine, cpu, pool, 10_us, done_at, 0);
  cpu.release_thread(pool);  // the queued task takes the freed thread
  CHECK_FALSE(cpu.try_take_thread(pool));
  engine.run_until(at(20_us));
  CHECK(done_at[0] == at(10_us));
  cpu.continue_held(pool, 5_us, [] {}, false);  // the thread still held from the start runs work and is freed
  engine.run_until(at(40_us));
  cpu.pause_for(100_us);
  CHECK_FALSE(cpu.try_take_thread(pool));
  engine.run_until(at(200_us));
  CHECK(cpu.try_take_thread(pool));
  CHECK(cpu.try_take_thread(pool));
  CHECK_FALSE(cpu.try_take_thread(pool));
}

TEST_CASE("cpu: a resized pool starts queued tasks on new threads at once; threads taken away finish their task") {
  // Eight 10 ms tasks on one thread (8 cores: no sharing). At 5 ms the pool grows to 4 threads: three queued tasks
  // start then, ending at 15 ms; the rest follow their thread's previous task: 10 ms (the first), 15 ms x 3,
  // 20 ms, 25 ms x 3.
  OnePoolHost h(8, 1);
  auto& [engine, cpu, pool] = h;
  std::vector<SimTime> done;
  submit_all(engine, cpu, pool, 10_ms, 8, done);
  engine.schedule_at(at(5_ms), [&] { cpu.set_pool_threads(pool, 4); });
  // At 16 ms it shrinks to 1: the four tasks in service run on to their end.
  engine.schedule_at(at(16_ms), [&] { cpu.set_pool_threads(pool, 1); });
  engine.run_until(SimTime::max());
  // 0: 0-10. 1-3: 5-15. 4: 10-20. 5-7 start at 15 (threads 2-4 free): 15-25. At 16 ms four tasks run (4, 5, 6, 7)
  // with one thread allowed: they all finish.
  CHECK(done == std::vector<SimTime>{at(10_ms), at(15_ms), at(15_ms), at(15_ms), at(20_ms), at(25_ms), at(25_ms),
                                     at(25_ms)});
  // Capacity over 0-25 ms: 1 x 5 + 4 x 11 + 1 x 9 = 58 thread-ms. Busy, counted at most at the capacity (16-25 ms:
  // four, then three tasks on one allowed thread count as one): 5 + 4 x 10 + 4 x 1 + 1 x 9 = 58: 100 %.
  const CpuPoolStats s = cpu.pool_stats(pool);
  CHECK(s.threads == 1);
  CHECK(s.thread_capacity_ns == doctest::Approx(58e6).scale(0));
  CHECK(s.thread_utilisation == doctest::Approx(1.0).scale(0));
  // Shrunk with work queued: a new task waits for the pool to have a free thread.
  std::vector<SimTime> later;
  cpu.set_pool_threads(pool, 2);
  submit_all(engine, cpu, pool, 10_ms, 3, later);
  cpu.set_pool_threads(pool, 1);  // two run already; the third waits for both to finish
  engine.run_until(SimTime::max());
  CHECK(later == std::vector<SimTime>{at(35_ms), at(35_ms), at(45_ms)});
}
