// CPU model: thread pools on a processor-shared set of cores. Equations in include/kafkasim/models/cpu.hpp.
#include "kafkasim/models/cpu.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::models {

using sim::Duration;
using sim::SimTime;

CpuParams kafka_broker_cpu_params(uint32_t cores) {
  KS_ASSERT_GT(cores, 0u);
  CpuParams params;
  params.cores = cores;
  // kafka-behaviour.md §2.1: num.network.threads = 3 Processors per listener.
  params.pools.push_back({"network", 3, 1u << 16});
  // kafka-behaviour.md §2.1: num.io.threads = 8 KafkaRequestHandlers polling the request channel, an
  // ArrayBlockingQueue of queued.max.requests = 500.
  params.pools.push_back({"io", 8, 500});
  // kafka-behaviour-2.md (replication throughput): num.replica.fetchers = 1 thread per source broker.
  params.pools.push_back({"replica-fetcher", 1, 1u << 16});
  // kafka-behaviour.md §2.6: log.cleaner.threads = 1.
  params.pools.push_back({"log-cleaner", 1, 1u << 16});
  return params;
}

Cpu::Cpu(sim::Engine& engine, CpuParams params)
    : engine_(engine),
      cores_(params.cores),
      last_update_(engine.now()),
      window_start_(engine.now()) {
  KS_ASSERT_GT(params.cores, 0u);
  KS_ASSERT_GT(params.pools.size(), 0u);
  uint64_t threads_total = 0;
  // Sized once: a Pool holds a std::deque of move-only tasks, which a growing vector could not relocate.
  pools_ = std::vector<Pool>(params.pools.size());
  for (size_t i = 0; i < params.pools.size(); ++i) {
    const ThreadPoolParams& p = params.pools[i];
    KS_ASSERT_GT(p.threads, 0u);
    KS_ASSERT_GT(p.queue_capacity, 0u);
    KS_ASSERT(!p.name.empty());
    const bool unique = pool_index_.emplace(p.name, static_cast<uint32_t>(i)).second;
    KS_ASSERT_MSG(unique, "duplicate pool " + p.name);
    threads_total += p.threads;
    Pool& pool = pools_[i];
    pool.params = p;
    pool.thread_meter = sim::UtilisationMeter(p.threads, engine.now());
    pool.queue_mean = sim::TimeWeightedMean(engine.now());
  }
  running_.reserve(threads_total);
}

Cpu::~Cpu() {
  // The engine may outlive this host; its pending events capture `this`.
  if (scheduled_.id.valid()) engine_.cancel(scheduled_.id);
  if (pause_event_.valid()) engine_.cancel(pause_event_);
}

PoolId Cpu::pool(std::string_view name) const {
  const std::optional<PoolId> id = find_pool(name);
  KS_ASSERT_MSG(id.has_value(), "no thread pool named " + std::string(name));
  return *id;
}

std::optional<PoolId> Cpu::find_pool(std::string_view name) const {
  const auto it = pool_index_.find(name);
  if (it == pool_index_.end()) return std::nullopt;
  KS_ASSERT_LT(it->second, pools_.size());
  return PoolId{it->second};
}

const std::string& Cpu::pool_name(PoolId pool) const {
  KS_ASSERT_LT(pool.index, pools_.size());
  return pools_[pool.index].params.name;
}

double Cpu::rate() const {
  if (paused_ || running_.empty()) return 0.0;
  const auto running = static_cast<double>(running_.size());
  const double share = running <= cores_ ? 1.0 : static_cast<double>(cores_) / running;
  return speed_multiplier_ * share;
}

void Cpu::advance(SimTime now) {
  KS_ASSERT_GE(now, last_update_);
  const double r = rate();
  if (r > 0.0) {
    const auto dt_ns = static_cast<double>((now - last_update_).ns());
    virtual_ns_ += r * dt_ns;
    busy_core_ns_ += r * static_cast<double>(running_.size()) * dt_ns;
    for (Pool& p : pools_) p.busy_core_ns += r * static_cast<double>(p.busy_threads) * dt_ns;
  }
  last_update_ = now;
}

SubmitStatus Cpu::submit_and_hold(PoolId pool, Duration cost, sim::Callback done) {
  return submit_task(pool, cost, done, true);
}

void Cpu::release_thread(PoolId pool) {
  KS_ASSERT_LT(pool.index, pools_.size());
  Pool& p = pools_[pool.index];
  KS_ASSERT_GT(p.held_threads, 0u);
  const SimTime now = engine_.now();
  --p.held_threads;
  set_meter(p, now);
  advance(now);
  start_queued(pool.index);
  reschedule();
}

bool Cpu::try_take_thread(PoolId pool) {
  KS_ASSERT_LT(pool.index, pools_.size());
  Pool& p = pools_[pool.index];
  if (paused_ || p.occupied() >= p.params.threads) return false;
  KS_ASSERT(p.queue.empty());
  ++p.held_threads;
  set_meter(p, engine_.now());
  return true;
}

SubmitStatus Cpu::try_submit_and_hold(PoolId pool, Duration cost, sim::Callback& done) {
  return submit_task(pool, cost, done, true);
}

void Cpu::continue_held(PoolId pool, Duration cost, sim::Callback done, bool hold) {
  KS_ASSERT_LT(pool.index, pools_.size());
  KS_ASSERT_GE(cost, Duration::zero());
  KS_ASSERT(static_cast<bool>(done));
  Pool& p = pools_[pool.index];
  KS_ASSERT_GT(p.held_threads, 0u);
  const SimTime now = engine_.now();
  ++p.tasks_submitted;
  --p.held_threads;
  if (paused_) {
    // The thread is free again; its work is first in line when the pause ends (start_queued).
    set_meter(p, now);
    p.queue.push_front(Queued{cost, now, std::move(done), hold});
    p.queue_length_max = std::max<uint64_t>(p.queue_length_max, p.queue.size());
    p.queue_mean.set(now, static_cast<double>(p.queue.size()));
    return;
  }
  advance(now);
  start_task(pool.index, Queued{cost, now, std::move(done), hold}, true);
  reschedule();
}

SubmitStatus Cpu::submit(PoolId pool, Duration cost, sim::Callback done) {
  return submit_task(pool, cost, done, false);
}

SubmitStatus Cpu::try_submit(PoolId pool, Duration cost, sim::Callback& done) {
  return submit_task(pool, cost, done, false);
}

SubmitStatus Cpu::submit_task(PoolId pool, Duration cost, sim::Callback& done, bool hold) {
  KS_ASSERT_LT(pool.index, pools_.size());
  KS_ASSERT_GE(cost, Duration::zero());
  KS_ASSERT(static_cast<bool>(done));
  Pool& p = pools_[pool.index];
  const SimTime now = engine_.now();
  ++p.tasks_submitted;
  if (!paused_ && p.occupied() < p.params.threads) {
    // A free thread can only coexist with an empty queue outside a pause.
    KS_ASSERT(p.queue.empty());
    advance(now);
    start_task(pool.index, Queued{cost, now, std::move(done), hold});
    reschedule();
    return SubmitStatus::kAccepted;
  }
  if (p.queue.size() >= p.params.queue_capacity) {
    ++p.tasks_rejected;
    return SubmitStatus::kQueueFull;
  }
  p.queue.push_back(Queued{cost, now, std::move(done), hold});
  p.queue_length_max = std::max<uint64_t>(p.queue_length_max, p.queue.size());
  p.queue_mean.set(now, static_cast<double>(p.queue.size()));
  return SubmitStatus::kAccepted;
}

void Cpu::set_meter(Pool& p, SimTime now) {
  // Threads a resize took away finish their task first: the pool is full meanwhile, never over full.
  p.thread_meter.set_busy(now, std::min(p.occupied(), p.params.threads));
}

void Cpu::set_pool_threads(PoolId pool, uint32_t threads) {
  KS_ASSERT_LT(pool.index, pools_.size());
  KS_ASSERT_GT(threads, 0u);
  Pool& p = pools_[pool.index];
  const SimTime now = engine_.now();
  advance(now);
  p.thread_meter.set_busy(now, std::min(p.occupied(), threads));
  p.thread_meter.set_servers(now, threads);
  p.params.threads = threads;
  start_queued(pool.index);
  reschedule();
}

void Cpu::start_task(uint32_t pool, Queued task, bool continuing) {
  Pool& p = pools_[pool];
  // A held thread that goes on working keeps its thread, even when a resize left the pool with fewer.
  if (!continuing) KS_ASSERT_LT(p.occupied(), p.params.threads);
  KS_ASSERT(!paused_);
  KS_ASSERT_EQ(last_update_, engine_.now());
  const SimTime now = engine_.now();
  ++p.busy_threads;
  set_meter(p, now);
  running_.push_back(Running{.finish_v = virtual_ns_ + static_cast<double>(task.cost.ns()),
                             .seq = next_seq_++,
                             .pool = pool,
                             .submitted = task.submitted,
                             .started = now,
                             .done = std::move(task.done),
                             .hold = task.hold});
  std::push_heap(running_.begin(), running_.end(), finishes_later);
}

void Cpu::start_queued(uint32_t pool) {
  Pool& p = pools_[pool];
  const SimTime now = engine_.now();
  bool changed = false;
  // Bounded by the pool's thread count.
  while (!paused_ && p.occupied() < p.params.threads && !p.queue.empty()) {
    Queued task = std::move(p.queue.front());
    p.queue.pop_front();
    start_task(pool, std::move(task));
    changed = true;
  }
  if (changed) p.queue_mean.set(now, static_cast<double>(p.queue.size()));
}

void Cpu::reschedule() {
  const double r = rate();
  if (r <= 0.0) {
    if (scheduled_.id.valid()) engine_.cancel(scheduled_.id);
    scheduled_.id = {};
    return;
  }
  const Running& head = running_.front();
  // Same rate and same head: the completion time computed earlier is still exact.
  if (scheduled_.id.valid() && engine_.is_pending(scheduled_.id) && scheduled_.rate == r &&
      scheduled_.head_seq == head.seq)
    return;
  if (scheduled_.id.valid()) engine_.cancel(scheduled_.id);
  const double remaining_ns = std::max(0.0, (head.finish_v - virtual_ns_) / r);
  const SimTime at = engine_.now() + Duration::from_ns(static_cast<int64_t>(std::ceil(remaining_ns)));
  scheduled_ = Scheduled{engine_.schedule_at(at, [this] { on_completion(); }), at, r, head.seq};
}

void Cpu::on_completion() {
  KS_ASSERT(!paused_);
  KS_ASSERT(!running_.empty());
  const SimTime now = engine_.now();
  scheduled_.id = {};
  advance(now);
  // The event time was rounded up to a whole nanosecond, so V has reached the head's finish up to
  // floating-point rounding; snap it so that the head (and any task finishing at the same V) completes.
  virtual_ns_ = std::max(virtual_ns_, running_.front().finish_v);

  std::vector<sim::Callback> ready = std::move(done_scratch_);
  ready.clear();
  std::vector<uint32_t>& freed = freed_scratch_;
  freed.clear();
  // Bounded by the number of running tasks.
  while (!running_.empty() && running_.front().finish_v <= virtual_ns_) {
    std::pop_heap(running_.begin(), running_.end(), finishes_later);
    Running task = std::move(running_.back());
    running_.pop_back();
    Pool& p = pools_[task.pool];
    KS_ASSERT_GT(p.busy_threads, 0u);
    --p.busy_threads;
    if (task.hold) ++p.held_threads;  // blocked: occupied, but no longer running
    set_meter(p, now);
    ++p.tasks_done;
    ++tasks_done_;
    p.wait_total += task.started - task.submitted;
    p.sojourn_total += now - task.submitted;
    engine_.trace(task.seq);
    ready.push_back(std::move(task.done));
    freed.push_back(task.pool);
  }
  KS_ASSERT(!ready.empty());
  if (running_.empty()) {
    // Idle host: restart the virtual clock so its resolution does not degrade over a long run.
    virtual_ns_ = 0;
  }
  // Only a pool that just freed a thread can have both a free thread and a queue (outside a pause), so
  // visiting the freed pools in index order starts their next tasks, deterministically (as visiting every
  // pool would).
  if (freed.size() > 1) {
    std::sort(freed.begin(), freed.end());
    freed.erase(std::unique(freed.begin(), freed.end()), freed.end());
  }
  for (const uint32_t i : freed) start_queued(i);
  reschedule();
  // State is consistent before any callback runs, so a callback may submit more work.
  for (sim::Callback& cb : ready) cb();
  ready.clear();
  done_scratch_ = std::move(ready);
}

void Cpu::set_speed_multiplier(double multiplier) {
  KS_ASSERT_GT(multiplier, 0.0);
  KS_ASSERT_LE(multiplier, 1.0);
  advance(engine_.now());
  speed_multiplier_ = multiplier;
  // During a pause the rate is zero whatever m is; the change takes effect at the pause's end.
  if (!paused_) reschedule();
}

void Cpu::pause_for(Duration duration) {
  KS_ASSERT_GT(duration, Duration::zero());
  const SimTime now = engine_.now();
  const SimTime end = now + duration;
  if (paused_) {
    // Overlapping pauses merge into one that ends at the latest end.
    if (end > pause_end_) {
      engine_.cancel(pause_event_);
      pause_end_ = end;
      pause_event_ = engine_.schedule_at(end, [this] { on_pause_end(); });
    }
    return;
  }
  advance(now);
  frozen_ = Frozen{};
  if (scheduled_.id.valid() && engine_.is_pending(scheduled_.id)) {
    frozen_ = Frozen{true, scheduled_.at - now, scheduled_.rate, scheduled_.head_seq};
    engine_.cancel(scheduled_.id);
  }
  scheduled_.id = {};
  paused_ = true;
  ++pauses_;
  pause_start_ = now;
  pause_end_ = end;
  pause_event_ = engine_.schedule_at(end, [this] { on_pause_end(); });
}

void Cpu::on_pause_end() {
  KS_ASSERT(paused_);
  const SimTime now = engine_.now();
  KS_ASSERT_EQ(now, pause_end_);
  // No progress was made during the pause (rate 0), so integrating is only a matter of moving the clock.
  advance(now);
  paused_ = false;
  pause_event_ = {};
  paused_total_ += now - pause_start_;
  for (uint32_t i = 0; i < pools_.size(); ++i) start_queued(i);
  const double r = rate();
  if (frozen_.valid && r > 0.0 && r == frozen_.rate && running_.front().seq == frozen_.head_seq) {
    // Nothing that sets the completion time changed: shift it by exactly the pause.
    const SimTime at = now + frozen_.remaining;
    scheduled_ = Scheduled{engine_.schedule_at(at, [this] { on_completion(); }), at, r, frozen_.head_seq};
  } else {
    reschedule();
  }
  frozen_ = Frozen{};
}

double Cpu::busy_core_ns_now(double accumulated, uint32_t running) const {
  const double r = rate();
  const SimTime now = engine_.now();
  return accumulated + r * static_cast<double>(running) * static_cast<double>((now - last_update_).ns());
}

CpuPoolStats Cpu::pool_stats(PoolId pool) const {
  KS_ASSERT_LT(pool.index, pools_.size());
  const Pool& p = pools_[pool.index];
  const SimTime now = engine_.now();
  const double window_ns = static_cast<double>((now - window_start_).ns());
  CpuPoolStats s;
  s.threads = p.params.threads;
  s.busy_threads = p.busy_threads;
  s.queue_length = p.queue.size();
  s.queue_length_max = p.queue_length_max;
  s.tasks_submitted = p.tasks_submitted;
  s.tasks_rejected = p.tasks_rejected;
  s.tasks_done = p.tasks_done;
  const double busy_ns = busy_core_ns_now(p.busy_core_ns, p.busy_threads);
  s.busy_core_seconds = busy_ns / 1e9;
  s.core_utilisation = window_ns > 0 ? busy_ns / (window_ns * cores_) : 0.0;
  s.thread_utilisation = p.thread_meter.utilisation(now);
  s.thread_busy_ns = p.thread_meter.busy_server_ns(now);
  s.thread_capacity_ns = p.thread_meter.capacity_ns(now);
  s.queue_length_mean = p.queue_mean.mean(now);
  s.wait_total = p.wait_total;
  s.sojourn_total = p.sojourn_total;
  return s;
}

CpuHostStats Cpu::host_stats() const {
  const SimTime now = engine_.now();
  const double window_ns = static_cast<double>((now - window_start_).ns());
  CpuHostStats s;
  s.cores = cores_;
  s.running_tasks = static_cast<uint32_t>(running_.size());
  s.tasks_done = tasks_done_;
  const double busy_ns = busy_core_ns_now(busy_core_ns_, static_cast<uint32_t>(running_.size()));
  s.busy_core_seconds = busy_ns / 1e9;
  s.utilisation = window_ns > 0 ? busy_ns / (window_ns * cores_) : 0.0;
  s.speed_multiplier = speed_multiplier_;
  s.paused = paused_;
  s.pauses = pauses_;
  s.paused_total = paused_total_ + (paused_ ? now - pause_start_ : Duration::zero());
  return s;
}

void Cpu::reset_window() {
  const SimTime now = engine_.now();
  advance(now);
  window_start_ = now;
  busy_core_ns_ = 0;
  for (Pool& p : pools_) {
    p.busy_core_ns = 0;
    p.thread_meter.reset_window(now);
    p.queue_mean = sim::TimeWeightedMean(now);
    p.queue_mean.set(now, static_cast<double>(p.queue.size()));
  }
}

uint64_t Cpu::tasks_in_flight() const {
  uint64_t n = running_.size();
  for (const Pool& p : pools_) n += p.queue.size();
  return n;
}

}  // namespace kafkasim::models
