// The discrete-event engine: one clock, one event queue, nothing about Kafka or hardware.
//
// Events are ordered by (time, seq) where `seq` is taken from a counter at schedule time, so events at the
// same instant fire in the order they were scheduled, whatever the heap does internally. Cancellation is
// lazy: a cancelled event's slot is released at once and its heap entry is skipped when it surfaces.
// A running trace hash folds in (time, seq) of every executed event plus any value a component chooses to
// trace, so two runs can be compared for determinism with one number.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "kafkasim/sim/callback.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::sim {

// Identifies one scheduled event. A default-constructed id refers to no event.
struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
  friend bool operator==(const EventId&, const EventId&) = default;
};

enum class StopReason {
  kDrained,     // no event left
  kTimeLimit,   // the next event lies after time_max; now() == time_max
  kEventLimit,  // events_max events ran in this call
  kStopped,     // an event called stop()
};

struct RunResult {
  StopReason reason;
  uint64_t events_run;
};

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SimTime now() const { return now_; }

  // Schedules `cb` at `at` (not before now). Returns an id usable with cancel().
  EventId schedule_at(SimTime at, Callback cb);
  EventId schedule_after(Duration delay, Callback cb) { return schedule_at(now_ + delay, std::move(cb)); }

  // Cancels a pending event; returns false if it already ran, was cancelled, or the id is invalid.
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  // Runs events with time <= time_max, at most events_max of them. When it stops for the time limit the
  // clock is advanced to time_max, so a later schedule_after() counts from there.
  RunResult run_until(SimTime time_max, uint64_t events_max = std::numeric_limits<uint64_t>::max());
  // Asks the running run_until() to return after the current event.
  void stop() { stop_requested_ = true; }

  uint64_t events_executed() const { return events_executed_; }
  uint64_t events_scheduled() const { return next_seq_; }
  // Events scheduled and neither run nor cancelled.
  uint64_t events_pending() const { return live_; }
  // Entries in the event heap, cancelled ones not yet dropped included (bounded by about twice the pending
  // events: the heap is compacted when cancelled entries outnumber the pending ones).
  uint64_t heap_entries() const { return heap_.size(); }
  // Time of the earliest pending event, or SimTime::max() when none.
  SimTime next_event_time();
  // The earliest pending event, which runs next unless something earlier is scheduled first.
  struct Pending {
    SimTime at;
    EventId id;
  };
  std::optional<Pending> peek();

  uint64_t trace_hash() const { return trace_hash_; }
  // Folds a component's value (a decision, a size) into the trace hash.
  void trace(uint64_t value) { trace_hash_ = mix(trace_hash_ ^ value); }

 private:
  struct Entry {
    int64_t time_ns;
    uint64_t seq;
    uint32_t slot;
    uint32_t generation;
  };
  struct Slot {
    Callback cb;
    uint32_t generation = 0;
    bool pending = false;
  };

  // (time, seq) lexicographically.
  static bool later(const Entry& a, const Entry& b) {
    return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.seq > b.seq;
  }
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
  }
  void heap_push(const Entry& e);
  void heap_pop();
  void sift_down(size_t i, Entry e);
  void sift_up(size_t i, Entry e);
  void compact();
  void release(uint32_t slot);
  // Drops cancelled entries from the top of the heap.
  void skip_cancelled();

  SimTime now_ = SimTime::zero();
  uint64_t next_seq_ = 0;
  uint64_t events_executed_ = 0;
  uint64_t live_ = 0;
  uint64_t dead_ = 0;  // cancelled entries still in heap_
  static constexpr uint64_t kCompactMin = 256;
  uint64_t trace_hash_ = 0x84222325cbf29ce4ULL;
  bool stop_requested_ = false;
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace kafkasim::sim
