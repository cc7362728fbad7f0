// Reads one hardware profile document: {"kind", "name", "description", "parameters": {NAME: {"value", "unit",
// "source"}}}. Every parameter must state its source (DESIGN.md: hardware parameters come from profiles with a
// stated source). Typed getters convert value + unit with the unit parsers; finish() rejects parameters that no
// getter asked for, suggesting the closest known name.
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

  const std::string& kind() const { return kind_; }
  const std::string& name() const { return name_; }

  sim::Duration duration(const std::string& param);
  std::optional<sim::Duration> optional_duration(const std::string& param);
  double number(const std::string& param);
  std::optional<double> optional_number(const std::string& param);
  uint64_t integer(const std::string& param);
  std::optional<uint64_t> optional_integer(const std::string& param);
  uint64_t bytes(const std::string& param);
  std::optional<uint64_t> optional_bytes(const std::string& param);
  double bandwidth_bytes_per_s(const std::string& param);
  std::optional<double> optional_bandwidth_bytes_per_s(const std::string& param);
  bool boolean(const std::string& param);
  std::optional<bool> optional_boolean(const std::string& param);

  // Throws ConfigError for every parameter present but never asked for (the first one found, by name).
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
  std::vector<std::string> asked_;
};

}  // namespace kafkasim::cluster
