// The example scenarios of the README: each loads, and the HDD-vs-NVMe lagging-consumer pair shows what the
// README says it shows.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kafkasim::test;

TEST_CASE("every scenario in scenarios/ (hardware profiles and the schema aside) validates") {
  const fs::path dir = fresh_dir("examples");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator("scenarios")) {
    const std::string path = e.path().generic_string();
    if (e.path().extension() == ".json" && e.path().filename() != "schema.json" && path.find("/hardware/") == std::string::npos)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  // The README's examples at least: quickstart, acks, linger/batch, partitions, the lagging pair, the sweep's.
  CHECK(files.size() >= 7);
  for (const auto& f : files) {
    CAPTURE(f);
    CHECK(run_kafkasim("validate " + f.string(), dir / "log") == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("lagging-consumer-hdd/-nvme: a consumer starting 25 s behind reads from disk; on HDD produce latency rises") {
  const fs::path dir = fresh_dir("lagging");
  for (const char* disk : {"hdd", "nvme"}) {
    REQUIRE(run_kafkasim(std::string("run scenarios/lagging-consumer-") + disk + ".json --quiet --out " + (dir / disk).string(),
                         dir / "log") == 0);
  }
  const json hdd = json::parse(slurp(dir / "hdd/summary.json"));
  const json nvme = json::parse(slurp(dir / "nvme/summary.json"));
  // Same workload on both: every record offered (4 producers x 7,500/s x 40 s) is sent.
  CHECK(hdd["produce"]["records_sent"] == 1200000);
  CHECK(nvme["produce"]["records_sent"] == 1200000);
  // A sendfile that misses the page cache holds its network processor while the disk seeks (KAFKA-7504): on the
  // 7,200 rpm profile each read costs on average 8.5 ms + 4.17 ms, so the produce tail rises by at least one mean
  // rotational latency (4.17 ms) over NVMe's, whose 1 MiB read takes 0.23 ms.
  const double hdd_tail = hdd["produce"]["latency_ms"]["p999"], nvme_tail = nvme["produce"]["latency_ms"]["p999"];
  CHECK(hdd_tail >= nvme_tail + 4.17);
  // Both consumers catch up: all but the last second of records (30,000) are consumed by the end.
  for (const json* s : {&hdd, &nvme}) CHECK((*s)["consume"]["records"].get<int64_t>() >= (*s)["produce"]["records_acked"].get<int64_t>() - 30000);
  // The late reader is served from disk: the page cache hit ratio of reads falls below one half after its start
  // at 25 s (its 128 MiB page cache holds far less than the 25 s of writes before), and nothing is read before.
  const auto csv = lines_of(slurp(dir / "hdd/timeseries.csv"));
  const auto header = split(csv.at(0), ',');
  const size_t t_col = 0;
  const size_t hit_col = std::find(header.begin(), header.end(), "broker0_page_cache_hit_ratio") - header.begin();
  REQUIRE(hit_col < header.size());
  double lowest_after = 1.0;
  for (size_t i = 1; i < csv.size(); ++i) {
    const auto cells = split(csv[i], ',');
    const double t = std::stod(cells[t_col]);
    if (t <= 25.0) CHECK(cells[hit_col].empty());
    else if (!cells[hit_col].empty()) lowest_after = std::min(lowest_after, std::stod(cells[hit_col]));
  }
  CHECK(lowest_after < 0.5);
  fs::remove_all(dir);
}
