// A sequence stored in fixed-size blocks: appends never copy or move what is already stored, random access is
// a shift, a mask and two loads, and the only unused memory is the rest of the last block.
//
// Why not std::vector: a vector that doubles keeps up to half its capacity unused, and each doubling copies
// the whole sequence while both copies are alive. The partition logs keep one entry per stored batch for the
// log's life (millions of them in a long run), so both costs grow with simulated time.
//
// Layout: blocks of `BlockSize` elements. Block 0 starts at `FirstBlockSize` elements and doubles (by copying)
// until it reaches `BlockSize`, so a sequence that stays short, as most of the many small segments and
// partitions' logs do, allocates little; that copying is bounded by 2 * BlockSize elements over the sequence's
// life. Every later block is allocated at `BlockSize` elements and never moves. `truncate` frees the blocks
// past the new end (all of them at 0), so capacity - size < BlockSize whenever size > 0.
//
// Elements must be trivially copyable: blocks are raw arrays, elements past size() are uninitialised.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/index_iterator.hpp"

namespace kafkasim::sim {

template <typename T, std::size_t BlockSize, std::size_t FirstBlockSize = BlockSize>
class ChunkedVector {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(std::has_single_bit(BlockSize) && std::has_single_bit(FirstBlockSize));
  static_assert(FirstBlockSize <= BlockSize);

 public:
  static constexpr std::size_t block_size = BlockSize;
  static constexpr std::size_t first_block_size = FirstBlockSize;

  ChunkedVector() = default;
  ChunkedVector(ChunkedVector&&) noexcept = default;
  ChunkedVector& operator=(ChunkedVector&&) noexcept = default;
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Elements allocated, used or not.
  std::size_t capacity() const { return capacity_; }
  std::size_t block_count() const { return blocks_.size(); }

  const T& operator[](std::size_t i) const {
    KS_ASSERT_LT(i, size_);
    return slot(i);
  }
  T& operator[](std::size_t i) {
    KS_ASSERT_LT(i, size_);
    return slot(i);
  }
  const T& back() const { return (*this)[size_ - 1]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(const T& value) {
    if (size_ == capacity_) grow();
    slot(size_) = value;
    ++size_;
  }

  // Keeps the first `new_size` elements and frees every block that no longer holds one.
  void truncate(std::size_t new_size) {
    KS_ASSERT_LE(new_size, size_);
    size_ = new_size;
    if (new_size == 0) {
      blocks_ = std::vector<std::unique_ptr<T[]>>();  // frees the block table too
      capacity_ = 0;
      return;
    }
    const std::size_t needed = (new_size + BlockSize - 1) / BlockSize;
    if (blocks_.size() > needed) {
      blocks_.resize(needed);
      capacity_ = needed * BlockSize;
    }
    KS_ASSERT_LT(capacity_ - size_, BlockSize);
  }
  void clear() { truncate(0); }

  using const_iterator = IndexIterator<ChunkedVector>;
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  static constexpr std::size_t block_shift = static_cast<std::size_t>(std::countr_zero(BlockSize));

  // While block 0 is growing its capacity is below BlockSize, so every index in it maps to block 0 here too.
  // (const: the blocks are owned through pointers; the public const accessors return const references.)
  T& slot(std::size_t i) const { return blocks_[i >> block_shift][i & (BlockSize - 1)]; }

  void grow() {
    if (capacity_ < BlockSize) {
      // Block 0 doubles: copy it into a larger array (at most BlockSize / 2 elements are copied at once).
      const std::size_t new_capacity = capacity_ == 0 ? FirstBlockSize : 2 * capacity_;
      auto block = std::make_unique_for_overwrite<T[]>(new_capacity);
      if (!blocks_.empty()) std::copy(blocks_[0].get(), blocks_[0].get() + size_, block.get());
      if (blocks_.empty()) blocks_.push_back(std::move(block));
      else blocks_[0] = std::move(block);
      capacity_ = new_capacity;
    } else {
      blocks_.push_back(std::make_unique_for_overwrite<T[]>(BlockSize));
      capacity_ += BlockSize;
    }
    KS_ASSERT_GT(capacity_, size_);
  }

  std::vector<std::unique_ptr<T[]>> blocks_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace kafkasim::sim
