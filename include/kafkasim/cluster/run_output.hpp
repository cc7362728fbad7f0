// The files a run writes (DESIGN.md "Outputs of a run"): manifest.json, summary.json, timeseries.csv and
// events.jsonl. They are written into a temporary sibling directory that is renamed into place at the end, so
// an output directory is never left half-written.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cluster {

// summary.json's content. `wall_seconds` is the only wall-clock field (excluded from determinism checks).
nlohmann::json summary_json(const WorldSummary& summary, double wall_seconds);

struct RunManifest {
  std::string scenario_file;
  uint64_t seed = 0;
  nlohmann::json resolved_scenario;  // the scenario with every default filled in
};

nlohmann::json manifest_json(const RunManifest& manifest);

// Writes every output file of a finished run into `out_dir` (replacing it if it exists). Throws
// std::runtime_error with the path when the directory cannot be written.
void write_run_outputs(const std::filesystem::path& out_dir, const RunManifest& manifest, const World& world,
                       const WorldSummary& summary, double wall_seconds);

}  // namespace kafkasim::cluster
