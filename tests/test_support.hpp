// Helpers shared by tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::test {

struct AssertionFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// While alive, a failed KS_ASSERT throws AssertionFailure instead of aborting, so a test can check that a
// precondition is enforced.
class ThrowOnAssert {
 public:
  ThrowOnAssert() : previous_(sim::set_assert_handler(&ThrowOnAssert::handler)) {}
  ~ThrowOnAssert() { sim::set_assert_handler(previous_); }
  ThrowOnAssert(const ThrowOnAssert&) = delete;
  ThrowOnAssert& operator=(const ThrowOnAssert&) = delete;

 private:
  static void handler(const std::string& message) { throw AssertionFailure(message); }
  sim::AssertHandler previous_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace kafkasim::test
