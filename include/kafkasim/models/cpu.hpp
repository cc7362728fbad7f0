// CPU model of one host: a number of cores shared by named thread pools, each pool a set of threads
// (servers) in front of one FIFO queue (hardware-models.md §5.1; Kafka's pools in kafka-behaviour.md §2.1).
//
// Equations. Let C be the host's cores, m ∈ (0, 1] the speed multiplier (fault "CPU contention"), R(t) the
// number of running tasks on the host (threads of any pool that hold a task) and R_p(t) those of pool p.
//   - A task waits in its pool's FIFO queue until one of the pool's threads is free, then runs.
//   - Processor sharing (the fluid limit of a round-robin scheduler with a small quantum; hardware-models.md
//     §0 "fluid shared rate"): every running task receives CPU service at the same rate
//         r(t) = m · min(1, C / R(t))        [ns of CPU work per ns of simulated time]
//     and r(t) = 0 while the host is paused. A task with CPU cost S that starts at s completes at the first t
//     with ∫_s^t r(u) du = S. With R ≤ C a task therefore takes S/m; with R > C it takes S·R/(m·C).
//   - Implementation: one virtual clock V(t) = ∫ r(u) du is shared by all running tasks (they all progress at
//     the same rate), a task started when V = V_s finishes when V reaches V_s + S, so the running set is a
//     heap on that finishing value and only its head has a completion event. The event time is
//         t_next = now + ⌈(V_finish_head − V(now)) / r⌉ ns,
//     recomputed whenever R or r changes (a task starts or ends, m changes, a pause starts or ends). When the
//     host goes idle V is reset to 0 so its floating-point resolution never degrades over a long run.
//   - Accounting: busy core time of the host B = ∫ R·r dt = ∫ m·min(R, C) dt (CPU work actually delivered;
//     after every task has finished, B equals the sum of their costs), of pool p B_p = ∫ R_p·r dt;
//     core utilisation = B / (C · elapsed), pool core utilisation = B_p / (C · elapsed); thread utilisation of
//     a pool = ∫ R_p dt / (threads_p · elapsed) (a thread is occupied from the start of its task to its end,
//     including time spent waiting for a core or frozen by a pause); queue length is integrated over time.
//
//   - Blocked threads: a task submitted with submit_and_hold() keeps its thread after its CPU time, blocked
//     (in a system call, e.g. a write() that balance_dirty_pages throttles) until release_thread(): the thread
//     counts as occupied (thread utilisation, and no queued task can take it) but uses no core (R excludes it).
//
// Ignores (hardware-models.md §5.5): context-switch and cache/NUMA costs, scheduler quanta and priorities,
// hyper-threading, frequency scaling, JIT warm-up, time-to-safepoint. Per-operation costs (CRC32C, (de)compression, per-request overhead) are supplied by the caller,
// e.g. from a hardware profile (scenarios/hardware/cpu-*.json).
//
// Faults (hardware-models.md §5.6):
//   - CPU contention: set_speed_multiplier(m), 0 < m ≤ 1, scales r for all running and future tasks at once;
//     remaining work is preserved, so a task half done at m = 1 that drops to m = 0.5 takes twice as long for
//     its second half.
//   - Pause (a long stop-the-world GC, hardware-models.md §5.4): pause_for(d) freezes every thread of the host
//     for d: running tasks make no progress, no queued task starts, new submissions queue. A task that was
//     running completes exactly d later than it would have (its pending completion time is shifted, not
//     recomputed, when nothing else changed). Overlapping pauses merge: the host resumes at the latest end.
//   - A full pool queue is an expected condition: submit() returns SubmitStatus::kQueueFull and drops the task
//     (Kafka bounds its request channel by queued.max.requests = 500; the caller models the backpressure).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafkasim/sim/callback.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/stats.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::models {

struct ThreadPoolParams {
  std::string name;
  uint32_t threads = 1;
  // Maximum number of tasks waiting (not running) in the pool's queue; every queue is bounded.
  uint32_t queue_capacity = 1u << 20;
};

struct CpuParams {
  uint32_t cores = 1;
  std::vector<ThreadPoolParams> pools;
};

// The thread pools of a Kafka broker with Kafka's defaults (kafka-behaviour.md §2.1, §2.9):
//   "network"          num.network.threads = 3 (per listener; one listener assumed),
//   "io"               num.io.threads = 8, queue = the request channel, queued.max.requests = 500,
//   "replica-fetcher"  num.replica.fetchers = 1 (kafka-behaviour-2.md, fetcher threads per source broker),
//   "log-cleaner"      log.cleaner.threads = 1 (kafka-behaviour.md §2.6).
// The network pool's queue bound (one request per muted connection) is [A] 65536.
CpuParams kafka_broker_cpu_params(uint32_t cores);

// Identifies a pool of one Cpu (its index in CpuParams::pools).
struct PoolId {
  uint32_t index = UINT32_MAX;
  friend bool operator==(const PoolId&, const PoolId&) = default;
};

enum class SubmitStatus : uint8_t {
  kAccepted,   // the task runs now or waits in the pool's queue; `done` will be called from a later event
  kQueueFull,  // the pool's queue holds queue_capacity tasks; the task was dropped and `done` will not run
};

struct CpuPoolStats {
  uint32_t threads = 0;
  uint32_t busy_threads = 0;
  uint64_t queue_length = 0;
  uint64_t queue_length_max = 0;
  uint64_t tasks_submitted = 0;
  uint64_t tasks_rejected = 0;
  uint64_t tasks_done = 0;
  double busy_core_seconds = 0;   // B_p over the current window
  double core_utilisation = 0;    // B_p / (C · window)
  double thread_utilisation = 0;  // ∫R_p dt / (threads · window)
  int64_t thread_busy_ns = 0;     // ∫R_p dt over the current window, in thread-nanoseconds
  double thread_capacity_ns = 0;  // ∫threads dt over the current window (the pool may be resized)
  double queue_length_mean = 0;   // time-weighted over the current window
  sim::Duration wait_total;       // Σ (start − submit) over all tasks done (not reset by reset_window)
  sim::Duration sojourn_total;    // Σ (done − submit) over all tasks done (not reset by reset_window)
};

struct CpuHostStats {
  uint32_t cores = 0;
  uint32_t running_tasks = 0;
  uint64_t tasks_done = 0;
  double busy_core_seconds = 0;  // B over the current window
  double utilisation = 0;        // B / (C · window)
  double speed_multiplier = 1;
  bool paused = false;
  uint64_t pauses = 0;
  sim::Duration paused_total;  // since construction, including a pause in progress
};

class Cpu {
 public:
  Cpu(sim::Engine& engine, CpuParams params);
  ~Cpu();
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  // The pool called `name`; asserts that it exists. O(log pools): a broker has one pool per replica fetcher
  // thread, up to num.replica.fetchers (10000) x brokers of them.
  PoolId pool(std::string_view name) const;
  std::optional<PoolId> find_pool(std::string_view name) const;
  const std::string& pool_name(PoolId pool) const;
  uint32_t pool_count() const { return static_cast<uint32_t>(pools_.size()); }

  // Queues a task of `cost` CPU time (at full speed) on `pool`. `done` runs from a later engine event, never
  // synchronously, once the task has received all of its CPU time.
  SubmitStatus submit(PoolId pool, sim::Duration cost, sim::Callback done);
  // submit() that takes `done` only when it accepts the task: after kQueueFull the caller still holds it
  // (to retry later) and the rejection is counted as for submit().
  SubmitStatus try_submit(PoolId pool, sim::Duration cost, sim::Callback& done);
  // The same, but the thread stays occupied, blocked and using no CPU, from the end of the task until
  // release_thread(pool) is called (once per such task; `done` may call it, or anything later).
  SubmitStatus submit_and_hold(PoolId pool, sim::Duration cost, sim::Callback done);
  // Takes a free thread of `pool` at once, held (as after a zero-cost submit_and_hold task) with no event, when the pool
  // has one and nothing is queued or paused; false, changing nothing, otherwise.
  bool try_take_thread(PoolId pool);
  // try_submit() of a task whose thread is held afterwards (as submit_and_hold).
  SubmitStatus try_submit_and_hold(PoolId pool, sim::Duration cost, sim::Callback& done);
  void release_thread(PoolId pool);
  // Resizes a pool (KafkaRequestHandlerPool.resizeThreadPool, a dynamic num.io.threads): more threads start queued
  // tasks at once; with fewer, the threads over the new count finish the task they hold (and any work they go on
  // with: continue_held) before the pool takes new tasks again.
  void set_pool_threads(PoolId pool, uint32_t threads);
  // The thread a held task left blocked goes on with more work of `cost`, without passing through the pool's queue
  // (a Kafka request handler thread that took a request from the request channel handles it itself); with `hold`
  // it is blocked again afterwards until release_thread(). `pool` must have a held thread. During a pause the work
  // waits at the head of the queue, its thread free for it, and starts first when the pause ends.
  void continue_held(PoolId pool, sim::Duration cost, sim::Callback done, bool hold);

  // Fault "CPU contention": 0 < multiplier ≤ 1 (1 = nominal speed).
  void set_speed_multiplier(double multiplier);
  double speed_multiplier() const { return speed_multiplier_; }
  // Fault "pause" (stop-the-world GC): freezes the whole host for `duration` from now.
  void pause_for(sim::Duration duration);
  bool paused() const { return paused_; }
  // When the current pause ends; only meaningful while paused().
  sim::SimTime pause_end() const { return pause_end_; }

  CpuPoolStats pool_stats(PoolId pool) const;
  CpuHostStats host_stats() const;
  // Starts a new accounting window at now (e.g. one per simulated second for timeseries.csv). Counters of
  // tasks, wait/sojourn totals and the current state (busy threads, queue lengths) are kept; the integrals
  // (busy core time, thread occupancy, mean queue length) restart.
  void reset_window();

  uint32_t cores() const { return cores_; }
  uint32_t running_tasks() const { return static_cast<uint32_t>(running_.size()); }
  uint64_t tasks_in_flight() const;

 private:
  using Duration = sim::Duration;
  using SimTime = sim::SimTime;

  SubmitStatus submit_task(PoolId pool, sim::Duration cost, sim::Callback& done, bool hold);
  struct Queued {
    Duration cost;
    SimTime submitted;
    sim::Callback done;
    bool hold = false;
  };
  struct Running {
    double finish_v;  // value of the virtual clock at which the task has received its full cost
    uint64_t seq;     // submission order; breaks ties between equal finish_v deterministically
    uint32_t pool;
    SimTime submitted;
    SimTime started;
    sim::Callback done;
    bool hold = false;
  };
  struct Pool {
    ThreadPoolParams params;
    std::deque<Queued> queue;
    uint32_t busy_threads = 0;
    uint32_t held_threads = 0;  // blocked after a submit_and_hold task, until release_thread
    uint32_t occupied() const { return busy_threads + held_threads; }
    uint64_t queue_length_max = 0;
    uint64_t tasks_submitted = 0;
    uint64_t tasks_rejected = 0;
    uint64_t tasks_done = 0;
    double busy_core_ns = 0;
    Duration wait_total;
    Duration sojourn_total;
    sim::UtilisationMeter thread_meter;
    sim::TimeWeightedMean queue_mean;
  };
  // The completion event's schedule, remembered so that an unchanged (rate, head) keeps its exact time.
  struct Scheduled {
    sim::EventId id;
    SimTime at;
    double rate = 0;
    uint64_t head_seq = 0;
  };
  // The completion schedule frozen by a pause: restored shifted by the pause if nothing changed.
  struct Frozen {
    bool valid = false;
    Duration remaining;
    double rate = 0;
    uint64_t head_seq = 0;
  };

  // Heap order: the task that finishes first is at the front.
  static bool finishes_later(const Running& a, const Running& b) {
    return a.finish_v != b.finish_v ? a.finish_v > b.finish_v : a.seq > b.seq;
  }

  double rate() const;
  // Integrates V and the busy-core accounting from last_update_ to now.
  void advance(SimTime now);
  // Starts queued tasks of `pool` while it has free threads (not while paused).
  void start_queued(uint32_t pool);
  // `continuing`: a held thread going on with more work (it has its thread already).
  void start_task(uint32_t pool, Queued task, bool continuing = false);
  // The pool's thread meter: its occupied threads, at most its thread count.
  void set_meter(Pool& p, sim::SimTime now);
  // Makes the completion event match the current head and rate.
  void reschedule();
  void on_completion();
  void on_pause_end();
  double busy_core_ns_now(double accumulated, uint32_t running) const;

  sim::Engine& engine_;
  uint32_t cores_;
  std::vector<Pool> pools_;
  // Pool name -> index into pools_, for pool() and find_pool(); only looked up (ordered, so iterating it would
  // be deterministic too).
  std::map<std::string, uint32_t, std::less<>> pool_index_;
  std::vector<Running> running_;  // a heap ordered by finishes_later
  std::vector<sim::Callback> done_scratch_;
  std::vector<uint32_t> freed_scratch_;  // on_completion: pools of the tasks that just finished
  double speed_multiplier_ = 1.0;
  double virtual_ns_ = 0;  // V(last_update_)
  SimTime last_update_;
  SimTime window_start_;
  double busy_core_ns_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t tasks_done_ = 0;
  Scheduled scheduled_;
  Frozen frozen_;
  bool paused_ = false;
  SimTime pause_end_;
  SimTime pause_start_;
  sim::EventId pause_event_;
  uint64_t pauses_ = 0;
  Duration paused_total_;
};

}  // namespace kafkasim::models
