// A forward iterator over a container that is read by index: position i yields `container[i]`, whatever that
// returns (a reference into the container, or a value rebuilt on each read). Two iterators are equal when they
// are at the same index of the same container.
#pragma once

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>

namespace kafkasim::sim {

template <typename Container>
class IndexIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using reference = decltype(std::declval<const Container&>()[std::size_t{}]);
  using value_type = std::remove_cvref_t<reference>;
  using difference_type = std::ptrdiff_t;
  using pointer = void;

  IndexIterator() = default;
  IndexIterator(const Container* container, std::size_t i) : container_(container), i_(i) {}
  reference operator*() const { return (*container_)[i_]; }
  IndexIterator& operator++() {
    ++i_;
    return *this;
  }
  IndexIterator operator++(int) {
    IndexIterator old = *this;
    ++i_;
    return old;
  }
  bool operator==(const IndexIterator& o) const { return container_ == o.container_ && i_ == o.i_; }

 private:
  const Container* container_ = nullptr;
  std::size_t i_ = 0;
};

}  // namespace kafkasim::sim
