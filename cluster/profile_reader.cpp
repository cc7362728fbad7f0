#include "kafkasim/cluster/profile_reader.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string_view>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/units.hpp"

namespace kafkasim::cluster {

namespace {

std::string describe(const nlohmann::json& j) {
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Number with up to 17 significant digits so no precision is lost in the round trip through text.
std::string number_text(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

}  // namespace

ProfileReader::ProfileReader(const nlohmann::json& doc, std::string file, std::string base_pointer)
    : doc_(doc), file_(std::move(file)), base_(std::move(base_pointer)) {
  if (!doc_.is_object()) throw ConfigError(file_, base_, "a hardware profile object", describe(doc_));
  static constexpr std::string_view kTopKeys[] = {"kind",   "name",   "description",  "params_struct",
                                                  "parameters", "network_config", "costs", "codecs",
                                                  "codec_levels", "jvm", "checks"};
  static constexpr std::string_view kSections[] = {"parameters", "network_config", "costs", "codecs", "jvm", "checks"};
  for (const auto& [key, value] : doc_.items()) {
    if (std::find(std::begin(kTopKeys), std::end(kTopKeys), key) == std::end(kTopKeys))
      throw ConfigError(file_, base_ + "/" + pointer_token(key),
                        "one of kind, name, description, params_struct, parameters, network_config, costs, codecs, "
                        "codec_levels, jvm, checks",
                        "\"" + key + "\"", closest_name(key, kTopKeys));
  }
  for (const char* key : {"kind", "name"}) {
    const auto it = doc_.find(key);
    if (it == doc_.end() || !it->is_string() || it->get<std::string>().empty())
      throw ConfigError(file_, base_ + "/" + key, "a non-empty string",
                        it == doc_.end() ? "nothing" : describe(*it));
  }
  kind_ = doc_["kind"].get<std::string>();
  name_ = doc_["name"].get<std::string>();
  const auto params = doc_.find("parameters");
  if (params == doc_.end() || !params->is_object())
    throw ConfigError(file_, base_ + "/parameters", "an object of parameters",
                      params == doc_.end() ? "nothing" : describe(*params));
  for (std::string_view section : kSections) {
    const auto sec = doc_.find(std::string(section));
    if (sec == doc_.end()) continue;
    if (!sec->is_object())
      throw ConfigError(file_, base_ + "/" + std::string(section), "an object of entries", describe(*sec));
    for (const auto& [key, entry] : sec->items()) {
    const std::string where = base_ + "/" + std::string(section) + "/" + pointer_token(key);
    if (!entry.is_object() || !entry.contains("value"))
      throw ConfigError(file_, where, "an object {\"value\", \"unit\", \"source\"}", describe(entry));
    for (const auto& [field, v] : entry.items()) {
      static constexpr std::string_view kFields[] = {"value", "unit", "source", "note"};
      if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields))
        throw ConfigError(file_, where + "/" + pointer_token(field), "one of value, unit, source, note",
                          "\"" + field + "\"", closest_name(field, kFields));
      (void)v;
    }
    const auto source = entry.find("source");
    if (source == entry.end() || !source->is_string() || source->get<std::string>().empty())
      throw ConfigError(file_, where + "/source", "a non-empty string naming where the value comes from",
                        source == entry.end() ? "nothing" : describe(*source));
    const auto unit = entry.find("unit");
    if (unit != entry.end() && !unit->is_string())
      throw ConfigError(file_, where + "/unit", "a string", describe(*unit));
    }
  }
}

void ProfileReader::use_section(const std::string& section) { section_ = section; }

std::string ProfileReader::pointer(const std::string& param) const {
  return base_ + "/" + section_ + "/" + pointer_token(param);
}

void ProfileReader::fail(const std::string& param, const std::string& expected, const std::string& found) const {
  throw ConfigError(file_, pointer(param) + "/value", expected, found);
}

const nlohmann::json* ProfileReader::param(const std::string& name, bool required) {
  const std::pair<std::string, std::string> key{section_, name};
  if (std::find(asked_.begin(), asked_.end(), key) == asked_.end()) asked_.push_back(key);
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto sec = doc_.find(section_);
  const nlohmann::json& params = sec == doc_.end() ? kEmpty : *sec;
  const auto it = params.find(name);
  if (it == params.end()) {
    if (required)
      throw ConfigError(file_, pointer(name), "parameter \"" + name + "\" of a " + kind_ + " profile", "nothing");
    return nullptr;
  }
  return &*it;
}

std::string ProfileReader::quantity_text(const std::string& param, const nlohmann::json& entry) const {
  const auto& value = entry["value"];
  std::string text;
  if (value.is_number()) text = number_text(value.get<double>());
  else if (value.is_string()) text = value.get<std::string>();
  else fail(param, "a number (with \"unit\") or a string such as \"8.5ms\"", describe(value));
  if (entry.contains("unit")) text += entry["unit"].get<std::string>();
  return text;
}

std::optional<sim::Duration> ProfileReader::optional_duration(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  if (!entry->contains("unit") && (*entry)["value"].is_number())
    fail(name, "a duration with a unit (\"unit\": \"ms\")", describe((*entry)["value"]));
  const auto parsed = parse_duration(quantity_text(name, *entry), 1);
  if (const auto* err = std::get_if<std::string>(&parsed)) fail(name, *err, quantity_text(name, *entry));
  return std::get<sim::Duration>(parsed);
}

sim::Duration ProfileReader::duration(const std::string& name) {
  param(name, true);
  return *optional_duration(name);
}

std::optional<double> ProfileReader::optional_number(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto& v = (*entry)["value"];
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(name, "a finite number", describe(v));
  return v.get<double>();
}

double ProfileReader::number(const std::string& name) {
  param(name, true);
  return *optional_number(name);
}

const nlohmann::json& ProfileReader::raw_value(const std::string& name) {
  const nlohmann::json& entry = *param(name, true);
  const auto v = entry.find("value");
  if (v == entry.end()) fail(name, "a value", "nothing");
  return *v;
}

std::optional<uint64_t> ProfileReader::optional_integer(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto& v = (*entry)["value"];
  if (!v.is_number_integer() || v.get<int64_t>() < 0) fail(name, "a non-negative whole number", describe(v));
  return v.get<uint64_t>();
}

uint64_t ProfileReader::integer(const std::string& name) {
  param(name, true);
  return *optional_integer(name);
}

std::optional<uint64_t> ProfileReader::optional_bytes(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto parsed = parse_bytes(quantity_text(name, *entry));
  if (const auto* err = std::get_if<std::string>(&parsed)) fail(name, *err, quantity_text(name, *entry));
  return std::get<uint64_t>(parsed);
}

uint64_t ProfileReader::bytes(const std::string& name) {
  param(name, true);
  return *optional_bytes(name);
}

std::optional<double> ProfileReader::optional_bandwidth_bytes_per_s(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto parsed = parse_bandwidth(quantity_text(name, *entry));
  if (const auto* err = std::get_if<std::string>(&parsed)) fail(name, *err, quantity_text(name, *entry));
  return std::get<double>(parsed);
}

double ProfileReader::bandwidth_bytes_per_s(const std::string& name) {
  param(name, true);
  return *optional_bandwidth_bytes_per_s(name);
}

std::optional<bool> ProfileReader::optional_boolean(const std::string& name) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto& v = (*entry)["value"];
  if (!v.is_boolean()) fail(name, "true or false", describe(v));
  return v.get<bool>();
}

bool ProfileReader::boolean(const std::string& name) {
  param(name, true);
  return *optional_boolean(name);
}

std::optional<std::string> ProfileReader::optional_choice(const std::string& name,
                                                          const std::vector<std::string>& allowed) {
  const nlohmann::json* entry = param(name, false);
  if (entry == nullptr) return std::nullopt;
  const auto& v = (*entry)["value"];
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
  if (!v.is_string()) fail(name, "one of " + list, describe(v));
  const std::string text = v.get<std::string>();
  if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    std::vector<std::string_view> known(allowed.begin(), allowed.end());
    throw ConfigError(file_, pointer(name) + "/value", "one of " + list, describe(v), closest_name(text, known));
  }
  return text;
}

std::string ProfileReader::choice(const std::string& name, const std::vector<std::string>& allowed) {
  param(name, true);
  return *optional_choice(name, allowed);
}

void ProfileReader::finish() const {
  // Only sections some getter read are checked; "checks" and cost tables read by other code are left alone.
  std::vector<std::string> sections;
  for (const auto& [section, name] : asked_)
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) sections.push_back(section);
  for (const std::string& section : sections) {
    const auto sec = doc_.find(section);
    if (sec == doc_.end()) continue;
    std::vector<std::string_view> known;
    for (const auto& [s, n] : asked_)
      if (s == section) known.push_back(n);
    for (const auto& [key, entry] : sec->items()) {
      (void)entry;
      if (std::find(asked_.begin(), asked_.end(), std::make_pair(section, key)) == asked_.end())
        throw ConfigError(file_, base_ + "/" + section + "/" + pointer_token(key),
                          "a known entry of \"" + section + "\" in a " + kind_ + " profile", "\"" + key + "\"",
                          closest_name(key, known));
    }
  }
}

}  // namespace kafkasim::cluster
