// Helpers shared by tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/rng.hpp"

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

// One random byte-level mutation of a fuzz input: flip a byte, delete a short run, duplicate a run from
// elsewhere, or insert one character of `alphabet` (the fuzzer's syntax tokens).
inline void mutate_bytes(std::string& text, sim::Rng& rng, std::string_view alphabet) {
  if (text.empty()) return;
  const size_t pos = rng.uniform_u64(text.size());
  switch (rng.uniform_u64(4)) {
    case 0: text[pos] = static_cast<char>(rng.uniform_u64(256)); break;
    case 1: text.erase(pos, rng.uniform_u64(8) + 1); break;
    case 2: text.insert(pos, text.substr(rng.uniform_u64(text.size()), rng.uniform_u64(16))); break;
    default: text.insert(pos, 1, alphabet[rng.uniform_u64(alphabet.size())]); break;
  }
}

}  // namespace kafkasim::test
