// The conventions of tests/doctest_main.cpp, checked over every test source: each doctest::Approx has .scale(0), so
// that its epsilon is the relative tolerance it reads as.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

TEST_CASE("every doctest::Approx in the tests is relative: .scale(0) follows it") {
  const std::string key = "doctest::Approx(";
  size_t seen = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(KAFKASIM_SOURCE_DIR) / "tests")) {
    const std::string ext = e.path().extension().string();
    if (ext != ".cpp" && ext != ".hpp") continue;
    std::ifstream in(e.path());
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      // The end of the call: the parenthesis that closes the one `key` opens.
      size_t end = at + key.size();
      for (int depth = 1; depth > 0 && end < text.size(); ++end) {
        if (text[end] == '(') ++depth;
        if (text[end] == ')') --depth;
      }
      if (text.compare(at, key.size() + 1, key + "\"") == 0) continue;  // this file's own search string
      ++seen;
      CAPTURE(e.path().string());
      CAPTURE(text.substr(at, end - at));
      CHECK(text.compare(end, 9, ".scale(0)") == 0);
    }
  }
  CHECK(seen > 100);  // the tests do use Approx: the walk found them
}
