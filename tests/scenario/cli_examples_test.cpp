// The example scenarios of the README: each loads, and the HDD-vs-NVMe lagging-consumer pair shows what the
// README says it shows.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
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

TEST_CASE("fetch-from-follower: with the selector no consumer fetch crosses racks, and reads lag by a round trip") {
  const fs::path dir = fresh_dir("fetch-from-follower");
  REQUIRE(run_kafkasim("run scenarios/fetch-from-follower.json --quiet --out " + (dir / "follower").string(),
                       dir / "log") == 0);
  REQUIRE(run_kafkasim("run scenarios/fetch-from-follower.json --quiet --set "
                       "'/cluster/config/replica.selector.class=\"\"' --out " + (dir / "leader").string(),
                       dir / "log") == 0);
  const json follower = json::parse(slurp(dir / "follower/summary.json"));
  const json leader = json::parse(slurp(dir / "leader/summary.json"));
  // Three groups, one per rack, and a topic on all three brokers (one per rack): with the selector every group
  // reads the replica in its rack; without it, the leaders, two thirds of which are in other racks.
  CHECK(follower["consume"]["fetch_bytes"]["cross_rack"] == 0);
  const double cross = leader["consume"]["fetch_bytes"]["cross_rack"].get<double>();
  const double same = leader["consume"]["fetch_bytes"]["same_rack"].get<double>();
  CHECK(cross / (cross + same) == doctest::Approx(2.0 / 3.0).scale(0).epsilon(0.03));
  // Every replication byte crosses racks either way (one replica per rack).
  for (const json* s : {&follower, &leader})
    CHECK((*s)["traffic_bytes"]["replication"]["cross_rack"] == (*s)["traffic_bytes"]["replication"]["total"]);
  // A follower serves only what it knows is committed, and learns the HW from the leader after the leader has it
  // (one fetch response later, across racks): the end-to-end median rises (0.67 ms in the README), though by far
  // less than a whole replica.fetch.wait.max.ms (500 ms) with data arriving all the time; the producers do not
  // notice.
  const double extra = follower["end_to_end"]["latency_ms"]["p50"].get<double>() - leader["end_to_end"]["latency_ms"]["p50"].get<double>();
  CHECK(extra > 0.0);
  CHECK(extra < 50.0);
  CHECK(follower["produce"]["latency_ms"]["p50"].get<double>() ==
        doctest::Approx(leader["produce"]["latency_ms"]["p50"].get<double>()).scale(0).epsilon(0.05));
  fs::remove_all(dir);
}

TEST_CASE("tls: everything over SSL costs the brokers' network threads and produce latency, not throughput") {
  const fs::path dir = fresh_dir("tls");
  // The README's figures come from the whole 10 s run; 4 s (1 s of warm-up) show the same steady state.
  const std::string cut = " --quiet --set '/duration=\"4s\"' --set '/warmup=\"1s\"'";
  REQUIRE(run_kafkasim("run scenarios/tls.json" + cut + " --out " + (dir / "ssl").string(), dir / "log") == 0);
  std::string plaintext;
  for (const char* p : {"/producers/0/config/security.protocol", "/consumers/0/config/security.protocol",
                        "/consumers/1/config/security.protocol", "/consumers/2/config/security.protocol",
                        "/cluster/config/security.inter.broker.protocol"})
    plaintext += std::string(" --set '") + p + "=\"PLAINTEXT\"'";
  REQUIRE(run_kafkasim("run scenarios/tls.json" + cut + plaintext + " --out " + (dir / "plain").string(), dir / "log") == 0);
  const json ssl = json::parse(slurp(dir / "ssl/summary.json"));
  const json plain = json::parse(slurp(dir / "plain/summary.json"));
  CHECK(ssl["tls"]["producers"] == true);
  CHECK(ssl["tls"]["consumers"] == true);
  CHECK(ssl["tls"]["inter_broker"] == true);
  CHECK(plain["tls"]["producers"] == false);
  CHECK(plain["tls"]["inter_broker"] == false);
  CHECK(plain["tls"]["cpu_cores"]["broker_network_threads"] == 0.0);
  // Two producers at 100,000 records/s each, read by three groups, either way.
  for (const json* s : {&ssl, &plain}) {
    CHECK((*s)["produce"]["throughput_records_per_s"].get<double>() == doctest::Approx(200'000).scale(0).epsilon(0.01));
    CHECK((*s)["consume"]["throughput_records_per_s"].get<double>() == doctest::Approx(600'000).scale(0).epsilon(0.01));
  }
  // The README: 0.67 cores of the brokers' network threads, and a later produce median.
  CHECK(ssl["tls"]["cpu_cores"]["broker_network_threads"].get<double>() == doctest::Approx(0.67).scale(0).epsilon(0.05));
  CHECK(ssl["produce"]["latency_ms"]["p50"].get<double>() > plain["produce"]["latency_ms"]["p50"].get<double>());
  fs::remove_all(dir);
}

TEST_CASE("quotas: a bulk loader's producer_byte_rate lets an acks=all producer through, its bursts cost the tail") {
  const fs::path dir = fresh_dir("quotas");
  REQUIRE(run_kafkasim("run scenarios/quotas.json --quiet --out " + (dir / "with").string(), dir / "log-with") == 0);
  REQUIRE(run_kafkasim("run scenarios/quotas.json --quiet --set '/cluster/quotas=[]' --out " + (dir / "without").string(),
                       dir / "log-without") == 0);
  const json with = json::parse(slurp(dir / "with/summary.json"));
  const json without = json::parse(slurp(dir / "without/summary.json"));
  // The offered load, from the scenario's entries: the loader's 120,000 and checkout's 2,000 records/s. With the
  // quotas the loader is far short of it and the run says so; without, checkout is (its followers starved by the
  // loader's traffic), while the total, 98 % acknowledged, would hide it.
  CHECK(with["produce"]["offered_records_per_s"].get<double>() == 122'000);
  CHECK(with["clients"]["bulk-loader"]["produce"]["offered_records_per_s"].get<double>() == 120'000);
  CHECK(with["clients"]["checkout"]["produce"]["offered_records_per_s"].get<double>() == 2'000);
  const std::string log_with = slurp(dir / "log-with"), log_without = slurp(dir / "log-without");
  CHECK(log_with.find("not keeping up         client bulk-loader acknowledged") != std::string::npos);
  CHECK(log_with.find("client checkout acknowledged") == std::string::npos);
  CHECK(log_without.find("not keeping up         client checkout acknowledged") != std::string::npos);
  CHECK(without["produce"]["throughput_records_per_s"].get<double>() > 0.95 * 122'000);
  // The analytics group, held to its consumer_byte_rate while the loader writes ~30 MiB/s, falls behind by the
  // difference: its reads plus its lag's growth are what the producers had acknowledged (within 5 %).
  const json& analytics = with["consume"]["groups"]["analytics"];
  const double growth = analytics["lag_growth_records_per_s"].get<double>();
  CHECK(growth + analytics["consumed_records_per_s"].get<double>() ==
        doctest::Approx(with["produce"]["throughput_records_per_s"].get<double>()).scale(0).epsilon(0.05));
  CHECK(log_with.find("analytics ") != std::string::npos);
  CHECK(log_with.find("records/s after the warm-up: falling behind") != std::string::npos);
  const double mib = 1048576.0;
  // The loader is held to its 10 MiB/s on each of the three brokers (a 40 s window holds three or four of its
  // ~11 s bursts, hence 5 %); the analytics group to at most its 5 MiB/s a broker.
  CHECK(with["quotas"]["bulk-loader"]["produce"]["request_bytes_per_s"].get<double>() ==
        doctest::Approx(30 * mib).scale(0).epsilon(0.05));
  CHECK(with["quotas"]["bulk-loader"]["produce"]["throttled"].get<int>() > 0);
  CHECK(with["quotas"]["analytics"]["fetch"]["response_bytes_per_s"].get<double>() < 15 * mib * 1.05);
  // The README: checkout gets its 2,000 records/s at a median of a few ms, and a tail of seconds from the bursts.
  const json& checkout = with["clients"]["checkout"]["produce"];
  CHECK(checkout["throughput_records_per_s"].get<double>() == doctest::Approx(2000).scale(0).epsilon(0.01));
  CHECK(checkout["latency_ms"]["p50"].get<double>() < 10);
  CHECK(checkout["latency_ms"]["p99"].get<double>() > 1000);
  // timeseries.csv has each client-id's share per second: over the rows after the warm-up, the loader's column
  // averages to the summary's throughput for it.
  {
    std::istringstream csv(slurp(dir / "with/timeseries.csv"));
    std::string line;
    std::getline(csv, line);
    std::vector<std::string> header;
    for (std::istringstream h(line); std::getline(h, line, ',');) header.push_back(line);
    const auto column = std::find(header.begin(), header.end(), "client_bulk-loader_produced_mib_per_s");
    REQUIRE(column != header.end());
    const auto index = static_cast<size_t>(column - header.begin());
    double sum = 0;
    int rows = 0;
    while (std::getline(csv, line)) {
      std::vector<std::string> cells;
      for (std::istringstream r(line); std::getline(r, line, ',');) cells.push_back(line);
      if (std::stod(cells[0]) <= 20) continue;  // time_s: the warm-up is 20 s
      sum += std::stod(cells[index]);
      ++rows;
    }
    CHECK(rows == 40);
    CHECK(sum / rows ==
          doctest::Approx(with["clients"]["bulk-loader"]["produce"]["throughput_mib_per_s"].get<double>()).scale(0).epsilon(1e-6));
  }
  // Without the quotas the brokers' NICs saturate and checkout is starved.
  CHECK(without["quotas"].empty());
  CHECK(without["clients"]["checkout"]["produce"]["throughput_records_per_s"].get<double>() < 100);
  CHECK(without["bottleneck"]["resource"].get<std::string>().find("nic tx") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("faults: a 5 s pause holds every acks=all produce 5 s; 2 ms on a broker's links raises p50, 5 ms outruns it") {
  const fs::path dir = fresh_dir("faults");
  REQUIRE(run_kafkasim("run scenarios/faults.json --quiet --out " + (dir / "base").string(), dir / "log") == 0);
  const json s = json::parse(slurp(dir / "base/summary.json"));
  REQUIRE(s["faults"].size() == 2);
  CHECK(s["faults"][0]["type"] == "pause");
  CHECK(s["faults"][0]["host"] == "broker-1");
  CHECK(s["faults"][1]["type"] == "slow_network");
  CHECK(s["faults"][1]["end_s"] == 45.0);
  CHECK(s["produce"]["records_failed"] == 0);
  // broker-1 follows or leads every partition and stays in every ISR (5 s < replica.lag.time.max.ms = 30 s): the
  // records of the pause are acknowledged when it ends, the first about 5 s after it was sent.
  CHECK(s["produce"]["latency_ms"]["max"].get<double>() > 4'990);
  CHECK(s["produce"]["latency_ms"]["max"].get<double>() < 5'020);
  CHECK(s["isr"]["shrinks"] == 0);
  // events.jsonl: the starts and ends at the scenario's times.
  std::vector<std::pair<std::string, double>> marks;
  for (const auto& line : lines_of(slurp(dir / "base/events.jsonl"))) {
    const json e = json::parse(line);
    if (e["type"] == "fault_start" || e["type"] == "fault_end") marks.emplace_back(e["type"], e["time_s"]);
  }
  CHECK(marks == std::vector<std::pair<std::string, double>>{
                     {"fault_start", 20.0}, {"fault_end", 25.0}, {"fault_start", 35.0}, {"fault_end", 45.0}});
  // timeseries.csv counts the faults in effect during each second: the 5 s pause from 20 s and the 10 s slow link
  // from 35 s, 15 rows.
  {
    const auto csv = lines_of(slurp(dir / "base/timeseries.csv"));
    const auto header = split(csv.at(0), ',');
    const size_t col = std::find(header.begin(), header.end(), "faults_active") - header.begin();
    REQUIRE(col < header.size());
    int rows = 0;
    for (size_t i = 1; i < csv.size(); ++i) rows += std::stoi(split(csv[i], ',').at(col)) > 0 ? 1 : 0;
    CHECK(rows == 15);
  }
  // The worst per-second produce p50 while broker-2's links are slow, from timeseries.csv.
  const auto worst_p50 = [](const std::string& csv_text) {
    const auto csv = lines_of(csv_text);
    const auto header = split(csv.at(0), ',');
    const size_t p50 = std::find(header.begin(), header.end(), "produce_p50_ms") - header.begin();
    double worst = 0;
    for (size_t i = 1; i < csv.size(); ++i) {
      const auto cells = split(csv[i], ',');
      const double t = std::stod(cells.at(0));
      if (t > 35 && t <= 45) worst = std::max(worst, std::stod(cells.at(p50)));
    }
    return worst;
  };
  // README: about 40 ms with 2 ms each way (a healthy second's p50 is under 2 ms); at 5 ms the producer falls
  // behind for good (seconds), and batch.size 65536 keeps up again (tens of ms).
  const double slow2 = worst_p50(slurp(dir / "base/timeseries.csv"));
  CHECK(slow2 > 20);
  CHECK(slow2 < 100);
  REQUIRE(run_kafkasim("run scenarios/faults.json --quiet --set '/faults/1/extra_latency=\"5ms\"' --out " +
                           (dir / "slow5").string(), dir / "log") == 0);
  CHECK(worst_p50(slurp(dir / "slow5/timeseries.csv")) > 1'000);
  REQUIRE(run_kafkasim("run scenarios/faults.json --quiet --set '/faults/1/extra_latency=\"5ms\"' "
                       "--set /producers/0/config/batch.size=65536 --out " + (dir / "big").string(), dir / "log") == 0);
  CHECK(worst_p50(slurp(dir / "big/timeseries.csv")) < 100);
  fs::remove_all(dir);
}

TEST_CASE("backfill: 8-day-old records into a 7-day topic are deleted at the first retention check; its loader skips") {
  // The replay producer writes 20,000 records/s stamped 8 days back (workload.timestamp_offset) into events-replay,
  // whose retention.ms is Kafka's 7 days: at the first retention check (log.initial.task.delay.ms, 30 s) every
  // segment the high watermark covers is older than that by its timestamps, and the next check (330 s) is after the
  // run. Each partition's 30 s of records (about 100,000, ~53 MB) sit in its active segment (64 MiB), which goes when
  // the HW is at the log end at that instant (UnifiedLog.deletableSegments), so the check deletes at least one
  // partition's and at most the 600,000 written by then. The loader group, reading 10,000 records/s, is behind: its
  // positions in the deleted partitions fall below the log start, and each reset skips what it had not read. The live
  // topic, stamped with its send times, loses nothing and its group keeps up. With a 14-day retention nothing goes.
  const fs::path dir = fresh_dir("backfill");
  REQUIRE(run_kafkasim("run scenarios/backfill.json --quiet --out " + (dir / "base").string(), dir / "log") == 0);
  REQUIRE(run_kafkasim("run scenarios/backfill.json --quiet --set /topics/1/config/retention.ms=1209600000 --out " +
                           (dir / "kept").string(),
                       dir / "log-kept") == 0);
  const json s = json::parse(slurp(dir / "base/summary.json"));
  const json kept = json::parse(slurp(dir / "kept/summary.json"));
  const auto deleted = s["durability"]["acked_records_deleted_by_retention"].get<int64_t>();
  CHECK(deleted >= 90'000);
  CHECK(deleted <= 600'000);
  CHECK(s["durability"]["acked_records_lost"] == 0);
  const json& loader = s["consume"]["groups"]["replay-loader"];
  CHECK(loader["out_of_range_resets"].get<int>() >= 1);
  CHECK(loader["out_of_range_resets"].get<int>() <= 6);
  CHECK(loader["records_skipped_by_resets"].get<int64_t>() > 0);
  const json& live = s["consume"]["groups"]["live"];
  CHECK(live["out_of_range_resets"] == 0);
  CHECK(live["lag_records_end"].get<int64_t>() < 100);
  CHECK(slurp(dir / "log").find("offset out of range    records skipped by auto.offset.reset: replay-loader") !=
        std::string::npos);
  CHECK(kept["durability"]["acked_records_deleted_by_retention"] == 0);
  CHECK(kept["consume"]["groups"]["replay-loader"]["out_of_range_resets"] == 0);
  fs::remove_all(dir);
}
