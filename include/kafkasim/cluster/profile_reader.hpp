// Reads one hardware profile document (format: scenarios/hardware/README.md):
//   {"kind", "name", "description", "params_struct", "parameters": {NAME: {"value", "unit", "source"}},
//    optional sections "network_config", "costs", "codecs", "jvm" of the same shape, and "checks" (expected
//    values for validation, never inputs)}.
// Every entry of every section must state its source (DESIGN.md: hardware parameters come from profiles with a
// stated source). Typed getters read one section (by default "parameters") and convert value + unit with the
// unit parsers; finish() rejects entries of the read sections that no getter asked for, suggesting the closest
// known name.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

class ProfileReader {
 public:
  // `file` is used in error messages; `base_pointer` is where the document sits in that file ("" for a
  // profile file, "/hardware/disks/0" for an inline profile in a scenario).
  ProfileReader(const nlohmann::json& doc, std::string file, std::string base_pointer = "");

  // Switches the section that the getters read ("parameters", "network_config", "costs", "codecs", "jvm",
  // "checks").
  // A section absent from the document reads as empty.
  void use_section(const std::string& section);

  const std::string& kind() const { return kind_; }
  const std::string& name() const { return name_; }

  sim::Duration duration(const std::string& param);
  std::optional<sim::Duration> optional_duration(const std::string& param);
  double number(const std::string& param);
  std::optional<double> optional_number(const std::string& param);
  // The "value" of a required parameter as it stands, for values no getter here reads (a table of points).
  const nlohmann::json& raw_value(const std::string& param);
  uint64_t integer(const std::string& param);
  std::optional<uint64_t> optional_integer(const std::string& param);
  uint64_t bytes(const std::string& param);
  std::optional<uint64_t> optional_bytes(const std::string& param);
  double bandwidth_bytes_per_s(const std::string& param);
  std::optional<double> optional_bandwidth_bytes_per_s(const std::string& param);
  bool boolean(const std::string& param);
  std::optional<bool> optional_boolean(const std::string& param);
  // A string value, which must be one of `allowed`.
  std::string choice(const std::string& param, const std::vector<std::string>& allowed);
  std::optional<std::string> optional_choice(const std::string& param, const std::vector<std::string>& allowed);

  // Throws ConfigError for the first entry (by name) of a section that was read but never asked for.
  void finish() const;

 private:
  const nlohmann::json* param(const std::string& name, bool required);
  std::string pointer(const std::string& param) const;
  // The value and unit of a parameter as one string such as "8.5ms" for the unit parsers.
  std::string quantity_text(const std::string& param, const nlohmann::json& entry) const;
  [[noreturn]] void fail(const std::string& param, const std::string& expected, const std::string& found) const;

  const nlohmann::json& doc_;
  std::string file_;
  std::string base_;
  std::string kind_;
  std::string name_;
  std::string section_ = "parameters";
  std::vector<std::pair<std::string, std::string>> asked_;  // (section, name)
};

}  // namespace kafkasim::cluster
