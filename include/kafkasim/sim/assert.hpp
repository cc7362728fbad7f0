// Always-on assertions. A failed assertion is a bug in kafkasim, never an expected condition (those are
// values, see STYLE.md): it prints the expression, both operands and the source location, then aborts.
//
//   KS_ASSERT(queue.size() <= bound);
//   KS_ASSERT_LE(hw, leo);        // prints "hw <= leo failed: 12 vs 10 at log.cpp:88"
#pragma once

#include <source_location>
#include <sstream>
#include <string>
#include <string_view>

namespace kafkasim::sim {

// Called with the full failure text. The default prints to stderr and aborts; tests may install a handler
// that throws so that assertion paths themselves can be tested. Returns the previous handler.
using AssertHandler = void (*)(const std::string& message);
AssertHandler set_assert_handler(AssertHandler handler);
[[noreturn]] void assert_failed(const std::string& message);

std::string format_assert(std::string_view expression, std::string_view operands,
                          const std::source_location& where);

namespace detail {
template <typename T>
std::string operand_text(const T& v) {
  if constexpr (requires(std::ostream& os, const T& x) { os << x; }) {
    std::ostringstream os;
    os << v;
    return os.str();
  } else if constexpr (requires(const T& x) { x.ns(); }) {
    return std::to_string(v.ns()) + "ns";
  } else if constexpr (requires(const T& x) { x.value(); }) {
    std::ostringstream os;
    os << v.value();
    return os.str();
  } else {
    return "<?>";
  }
}

template <typename A, typename B>
[[noreturn]] void binary_failed(std::string_view expr, const A& a, const B& b,
                                const std::source_location& where) {
  assert_failed(format_assert(expr, operand_text(a) + " vs " + operand_text(b), where));
}
}  // namespace detail
}  // namespace kafkasim::sim

#define KS_ASSERT(cond)                                                                            \
  do {                                                                                             \
    if (!(cond)) [[unlikely]]                                                                      \
      ::kafkasim::sim::assert_failed(                                                              \
          ::kafkasim::sim::format_assert(#cond, "", std::source_location::current()));             \
  } while (0)

#define KS_ASSERT_MSG(cond, msg)                                                                   \
  do {                                                                                             \
    if (!(cond)) [[unlikely]]                                                                      \
      ::kafkasim::sim::assert_failed(                                                              \
          ::kafkasim::sim::format_assert(#cond, (msg), std::source_location::current()));          \
  } while (0)

#define KS_ASSERT_BINARY_(a, op, b)                                                                \
  do {                                                                                             \
    const auto& ks_a_ = (a);                                                                       \
    const auto& ks_b_ = (b);                                                                       \
    if (!(ks_a_ op ks_b_)) [[unlikely]]                                                            \
      ::kafkasim::sim::detail::binary_failed(#a " " #op " " #b, ks_a_, ks_b_,                      \
                                             std::source_location::current());                     \
  } while (0)

#define KS_ASSERT_EQ(a, b) KS_ASSERT_BINARY_(a, ==, b)
#define KS_ASSERT_NE(a, b) KS_ASSERT_BINARY_(a, !=, b)
#define KS_ASSERT_LT(a, b) KS_ASSERT_BINARY_(a, <, b)
#define KS_ASSERT_LE(a, b) KS_ASSERT_BINARY_(a, <=, b)
#define KS_ASSERT_GT(a, b) KS_ASSERT_BINARY_(a, >, b)
#define KS_ASSERT_GE(a, b) KS_ASSERT_BINARY_(a, >=, b)
