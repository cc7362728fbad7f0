// A bounded, seeded mutation fuzzer for the hardware-profile loader: the bundled profiles are mutated (bytes
// and JSON structure) and loaded. Every input must either load — and then build its model without tripping an
// assertion — or be rejected with a ConfigError. Any other exception, an assertion or a crash is a finding.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"

using namespace kafkasim;

namespace {

// Values of every JSON type, including extremes, to splice into documents.
nlohmann::json random_value(sim::Rng& rng) {
  switch (rng.uniform_u64(14)) {
    case 0: return nullptr;
    case 1: return true;
    case 2: return -1;
    case 3: return 0;
    case 4: return 1e308;
    case 5: return -1e-308;
    case 6: return static_cast<int64_t>(rng.next_u64());
    case 7: return rng.uniform_real(0, 100);
    case 8: return "fast";
    case 9: return "10Gbps";
    case 10: return "8.5ms";
    case 11: return nlohmann::json::array({1, 2});
    case 12: return nlohmann::json::object();
    default: return std::string(rng.uniform_u64(5), 'x') + "ms";
  }
}

// A random mutation of the JSON structure: replace, delete or add a value somewhere in the tree.
void mutate_structure(nlohmann::json& doc, sim::Rng& rng) {
  nlohmann::json* node = &doc;
  for (int depth = 0; depth < 4; ++depth) {
    if (!node->is_object() || node->empty() || rng.chance(1, 4)) break;
    auto it = node->begin();
    std::advance(it, static_cast<long>(rng.uniform_u64(node->size())));
    if (rng.chance(1, 3) || !(it->is_object())) {
      switch (rng.uniform_u64(3)) {
        case 0: *it = random_value(rng); return;
        case 1: node->erase(it); return;
        default: (*node)["fuzz_" + std::to_string(rng.uniform_u64(3))] = random_value(rng); return;
      }
    }
    node = &*it;
  }
  if (node->is_object()) (*node)["unit"] = random_value(rng);
}

// Loads and, when accepted, builds the model: models assert on parameters the loader should have refused.
void load_and_build(const std::string& text) {
  const cluster::HardwareProfile p = cluster::parse_hardware_profile_text(text, "fuzz.json");
  sim::Engine engine;
  // Each model must outlive the events it scheduled, so the engine runs inside each branch.
  const auto run = [&engine] { engine.run_until(sim::SimTime::zero() + sim::Duration::from_s(10), 100'000); };
  if (const auto* hdd = std::get_if<models::HddParams>(&p.params)) {
    models::HddDisk disk(engine, *hdd, sim::Rng(1));
    disk.submit({models::IoOp::kRead, 0, 4096}, [](models::IoStatus) {});
    run();
  } else if (const auto* ssd = std::get_if<models::SsdParams>(&p.params)) {
    models::SsdDisk disk(engine, *ssd, sim::Rng(1));
    disk.submit({models::IoOp::kWrite, 0, 4096}, [](models::IoStatus) {});
    run();
  } else if (const auto* cpu = std::get_if<cluster::CpuProfile>(&p.params)) {
    models::Cpu c(engine, models::kafka_broker_cpu_params(cpu->cores));
    c.submit(c.pool("io"), cpu->costs.request_fixed_cost, [] {});
    run();
  } else if (const auto* nic = std::get_if<cluster::NicProfile>(&p.params)) {
    models::Topology t;
    const auto a = t.add_host("a");
    const auto b = t.add_host("b");
    t.add_link(a, b, nic->link);
    models::NetworkConfig config;
    config.goodput_fraction = nic->goodput_fraction;
    config.mss_bytes = nic->mss_bytes;
    models::Network net(engine, std::move(t), sim::Rng(1), config);
    net.send(a, b, 100'000, [] {});
    run();
  }
}

}  // namespace

TEST_CASE("fuzz: mutated hardware profiles load or are rejected with a ConfigError, never crash") {
  const auto dir = cluster::bundled_profile_dir();
  sim::Rng rng = sim::Rng::stream(20261124, "fuzz/profile-loader");
  uint64_t accepted = 0, rejected = 0;
  for (const std::string& name : cluster::profile_names(dir)) {
    const std::string original = test::slurp(dir / (name + ".json"));
    const nlohmann::json original_doc = nlohmann::json::parse(original);
    for (int i = 0; i < 1500; ++i) {
      std::string text;
      if (i % 2 == 0) {
        nlohmann::json doc = original_doc;
        for (uint64_t k = 0, n = 1 + rng.uniform_u64(3); k < n; ++k) mutate_structure(doc, rng);
        text = doc.dump();
      } else {
        text = original;
        for (uint64_t k = 0, n = 1 + rng.uniform_u64(4); k < n; ++k) test::mutate_bytes(text, rng, "{}[]\",:0e-");
      }
      try {
        load_and_build(text);
        ++accepted;
      } catch (const cluster::ConfigError& e) {
        ++rejected;
        CHECK(std::string(e.what()).starts_with("fuzz.json: at "));
      } catch (const std::exception& e) {
        FAIL_CHECK("unexpected exception for profile " << name << " iteration " << i << ": " << std::string(e.what())
                                                        << "\ninput: " << text);
      }
    }
  }
  MESSAGE("accepted " << accepted << ", rejected " << rejected);
  CHECK(rejected > 0);
  CHECK(accepted > 0);  // some mutations (a new "note", a changed description) are harmless
}
