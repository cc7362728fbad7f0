// Errors in user input (scenario files, hardware profiles, --set overrides): which file, which JSON pointer,
// what was expected, what was found, and a "did you mean" where a name is close to a known one.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kafkasim::cluster {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::string pointer, std::string expected, std::string found = {},
              std::string suggestion = {});
  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const std::string& expected() const { return expected_; }
  const std::string& found() const { return found_; }
  const std::string& suggestion() const { return suggestion_; }

 private:
  std::string file_, pointer_, expected_, found_, suggestion_;
};

// The known name closest to `name`, if it is close enough to be a plausible typo ("linger_ms" ->
// "linger.ms", "retention.msec" -> "retention.ms"); empty otherwise. Comparison ignores case and treats
// '_', '-' and '.' alike before measuring the edit distance.
std::string closest_name(std::string_view name, std::span<const std::string_view> known);

// Escapes one reference token for a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key);

}  // namespace kafkasim::cluster
