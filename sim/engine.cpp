#include "kafkasim/sim/engine.hpp"

#include <algorithm>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::sim {

EventId Engine::schedule_at(SimTime at, Callback cb) {
  KS_ASSERT_GE(at, now_);
  KS_ASSERT(static_cast<bool>(cb));
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    KS_ASSERT_LT(slots_.size(), static_cast<size_t>(UINT32_MAX));
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.cb = std::move(cb);
  s.pending = true;
  heap_push(Entry{at.ns(), next_seq_++, slot, s.generation});
  ++live_;
  return EventId{slot, s.generation};
}

bool Engine::is_pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].generation == id.generation &&
         slots_[id.slot].pending;
}

bool Engine::cancel(EventId id) {
  if (!is_pending(id)) return false;
  release(id.slot);
  KS_ASSERT_GT(live_, 0u);
  --live_;
  // The heap entry stays until it surfaces or the heap is compacted. Long timers that are nearly always
  // cancelled (request and session timeouts) would otherwise outnumber the live events by hundreds to one
  // and make every push and pop walk a deep heap.
  ++dead_;
  if (dead_ > kCompactMin && dead_ > live_) compact();
  return true;
}

void Engine::release(uint32_t slot) {
  Slot& s = slots_[slot];
  s.cb.reset();
  s.pending = false;
  ++s.generation;  // invalidates the heap entry and every EventId handed out for it
  free_slots_.push_back(slot);
}

void Engine::skip_cancelled() {
  while (!heap_.empty() && slots_[heap_.front().slot].generation != heap_.front().generation) {
    heap_pop();
    KS_ASSERT_GT(dead_, 0u);
    --dead_;
  }
}

// Drops every cancelled entry and rebuilds the heap (Floyd's bottom-up heapify). The order in which events
// run is unchanged: it is the total order on (time, seq), whatever the heap's shape.
void Engine::compact() {
  std::erase_if(heap_, [this](const Entry& e) { return slots_[e.slot].generation != e.generation; });
  KS_ASSERT_EQ(heap_.size(), live_);
  dead_ = 0;
  for (size_t i = heap_.size() / 2; i-- > 0;) sift_down(i, heap_[i]);
}

SimTime Engine::next_event_time() {
  skip_cancelled();
  return heap_.empty() ? SimTime::max() : SimTime::from_ns(heap_.front().time_ns);
}

std::optional<Engine::Pending> Engine::peek() {
  skip_cancelled();
  if (heap_.empty()) return std::nullopt;
  const Entry& top = heap_.front();
  return Pending{SimTime::from_ns(top.time_ns), EventId{top.slot, top.generation}};
}

RunResult Engine::run_until(SimTime time_max, uint64_t events_max) {
  stop_requested_ = false;
  uint64_t ran = 0;
  while (true) {
    if (ran >= events_max) return {StopReason::kEventLimit, ran};
    skip_cancelled();
    if (heap_.empty()) return {StopReason::kDrained, ran};
    const Entry top = heap_.front();
    if (top.time_ns > time_max.ns()) {
      now_ = max(now_, time_max);
      return {StopReason::kTimeLimit, ran};
    }
    heap_pop();
    KS_ASSERT_GE(top.time_ns, now_.ns());
    now_ = SimTime::from_ns(top.time_ns);
    // Move the callback out and free the slot before running it, so the callback may schedule (and reuse
    // the slot) or try to cancel itself harmlessly.
    Callback cb = std::move(slots_[top.slot].cb);
    release(top.slot);
    --live_;
    trace_hash_ = mix(trace_hash_ ^ (static_cast<uint64_t>(top.time_ns) * 0x9e3779b97f4a7c15ULL + top.seq));
    ++events_executed_;
    ++ran;
    cb();
    if (stop_requested_) {
      stop_requested_ = false;
      return {StopReason::kStopped, ran};
    }
  }
}

// A binary min-heap on (time, seq); written out rather than std::push_heap so the hot path inlines.
void Engine::heap_push(const Entry& e) {
  heap_.push_back(e);
  sift_up(heap_.size() - 1, e);
}

// Places `e` at hole `i` or above it, moving later parents down until `e` fits.
void Engine::sift_up(size_t i, Entry e) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!later(heap_[parent], e)) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

// The root's hole moves down to a leaf along the earlier children (one comparison a level), and the last entry
// rises from there: it nearly always belongs near the bottom, so this does about half the comparisons of a
// sift-down from the root (Floyd's heapsort variant). Exact: the order of events is the total order on
// (time, seq) whatever the heap's shape.
void Engine::heap_pop() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  size_t i = 0;
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && later(heap_[child], heap_[child + 1])) ++child;
    heap_[i] = heap_[child];
    i = child;
  }
  sift_up(i, last);
}

// Places `e` at hole `i` or below it, moving the earlier child up until `e` fits.
void Engine::sift_down(size_t i, Entry e) {
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && later(heap_[child], heap_[child + 1])) ++child;
    if (!later(e, heap_[child])) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = e;
}

}  // namespace kafkasim::sim
