// A lookup table keyed by PartitionRef, stored densely by [topic][partition].
//
// Topic and partition numbers are small dense integers (indices into the scenario's topics and their partition
// lists), so a lookup is two vector index operations instead of a walk down a std::map. The table has no
// iteration on purpose: the users that need an order (fetch sessions, fetchers) keep that order in a list of
// their own, and lookups alone cannot make a run depend on anything but the keys.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "kafkasim/kafka/producer/producer_metadata.hpp"
#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

template <typename T>
class PartitionIndex {
 public:
  T* find(PartitionRef ref) {
    Slot* slot = slot_of(ref);
    return slot != nullptr && slot->present ? &slot->value : nullptr;
  }
  const T* find(PartitionRef ref) const { return const_cast<PartitionIndex*>(this)->find(ref); }
  bool contains(PartitionRef ref) const { return find(ref) != nullptr; }

  // Stores `value` under `ref` unless a value is there already; returns whether it stored it.
  bool emplace(PartitionRef ref, T value) {
    Slot& slot = make_slot(ref);
    if (slot.present) return false;
    slot.present = true;
    slot.value = std::move(value);
    ++size_;
    return true;
  }

  // The value under `ref`, stored as T{} first when there is none (std::map::operator[]).
  T& operator[](PartitionRef ref) {
    Slot& slot = make_slot(ref);
    if (!slot.present) {
      slot.present = true;
      ++size_;
    }
    return slot.value;
  }

  // Removes the value under `ref`; returns whether there was one.
  bool erase(PartitionRef ref) {
    Slot* slot = slot_of(ref);
    if (slot == nullptr || !slot->present) return false;
    slot->present = false;
    slot->value = T{};
    --size_;
    return true;
  }

  void clear() {
    for (auto& topic : slots_) {
      for (Slot& slot : topic) slot = Slot{};
    }
    size_ = 0;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    bool present = false;
    T value{};
  };

  // The slot of `ref`, growing the table when it is new: the common case (a slot that exists) stays inline.
  Slot& make_slot(PartitionRef ref) {
    if (Slot* slot = slot_of(ref)) return *slot;
    return grow_to(ref);
  }
  [[gnu::noinline]] Slot& grow_to(PartitionRef ref) {
    KS_ASSERT_GE(ref.topic, 0);
    KS_ASSERT_GE(ref.partition, 0);
    const auto topic = static_cast<std::size_t>(ref.topic);
    const auto partition = static_cast<std::size_t>(ref.partition);
    if (slots_.size() <= topic) slots_.resize(topic + 1);
    if (slots_[topic].size() <= partition) slots_[topic].resize(partition + 1);
    return slots_[topic][partition];
  }

  Slot* slot_of(PartitionRef ref) {
    if (ref.topic < 0 || ref.partition < 0 || static_cast<std::size_t>(ref.topic) >= slots_.size()) return nullptr;
    std::vector<Slot>& topic = slots_[static_cast<std::size_t>(ref.topic)];
    const auto partition = static_cast<std::size_t>(ref.partition);
    return partition < topic.size() ? &topic[partition] : nullptr;
  }

  std::vector<std::vector<Slot>> slots_;
  std::size_t size_ = 0;
};

}  // namespace kafkasim::kafka
