#include "kafkasim/cluster/run_output.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kafkasim/build_info.hpp"

namespace kafkasim::cluster {

namespace {

nlohmann::json latency_json(const LatencySummary& l) {
  return {{"count", l.count}, {"p50", l.p50_ms},   {"p75", l.p75_ms}, {"p95", l.p95_ms},
          {"p99", l.p99_ms},  {"p999", l.p999_ms}, {"max", l.max_ms}, {"mean", l.mean_ms}};
}

// Kafka's RequestMetrics names: RequestsPerSec, TotalTimeMs, RequestQueueTimeMs, LocalTimeMs, RemoteTimeMs,
// ResponseQueueTimeMs, ResponseSendTimeMs.
nlohmann::json request_json(const RequestTimeSummary& r) {
  return {{"count", r.count},
          {"requests_per_s", r.per_s},
          {"total_time_ms", latency_json(r.total)},
          {"request_queue_time_ms", latency_json(r.request_queue)},
          {"local_time_ms", latency_json(r.local)},
          {"remote_time_ms", latency_json(r.remote)},
          {"response_queue_time_ms", latency_json(r.response_queue)},
          {"response_send_time_ms", latency_json(r.response_send)}};
}

nlohmann::json distribution_json(const DistributionSummary& d) {
  return {{"count", d.count}, {"p50", d.p50}, {"p95", d.p95}, {"p99", d.p99}, {"max", d.max}, {"mean", d.mean}};
}

// Each consumer group's lag, keyed by group (an object: `.consume.groups["my-group"].lag_records_end`).
nlohmann::json groups_json(const std::vector<WorldSummary::GroupLagReport>& groups) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& g : groups)
    out[g.group] = {{"lag_records_end", g.lag_end},
                    {"lag_records_max", g.lag_max},
                    {"consumed_records_per_s", g.consumed_records_per_s},
                    {"lag_growth_records_per_s", g.lag_growth_records_per_s ? nlohmann::json(*g.lag_growth_records_per_s)
                                                                            : nlohmann::json(nullptr)},
                    {"out_of_range_resets", g.out_of_range_resets},
                    {"records_skipped_by_resets", g.records_skipped_by_resets}};
  return out;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// FNV-1a of the resolved scenario's canonical text: the scenario hash of the manifest.
std::string scenario_hash(const nlohmann::json& resolved) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : resolved.dump()) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return hex64(h);
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

nlohmann::json summary_json(const WorldSummary& s, double wall_seconds) {
  nlohmann::json utilisation = nlohmann::json::object();
  for (const auto& [name, u] : s.utilisation) utilisation[name] = u;
  nlohmann::json connection_backlog = nlohmann::json::object();
  for (const auto& [name, u] : s.connection_backlog) connection_backlog[name] = u;
  nlohmann::json connection_throttled = nlohmann::json::object();
  for (const auto& [name, u] : s.connection_throttled) connection_throttled[name] = u;
  nlohmann::json window_full = nlohmann::json::object();
  for (const auto& [name, u] : s.window_full) window_full[name] = u;
  // Each broker disk as iostat -x reports a device, over its window (the run, or since the warm-up for `kafkasim
  // run`): rates, await (submission to completion, queueing in the scheduler and the drive included), the
  // time-weighted queue depth and %util.
  nlohmann::json disks = nlohmann::json::object();
  for (const WorldSummary::DiskUse& d : s.disks) {
    const double seconds = d.seconds > 0 ? d.seconds : 1.0;
    const models::DiskStats& st = d.stats;
    const double await_ms = st.completed > 0 ? static_cast<double>(st.latency_ns_sum) / 1e6 / static_cast<double>(st.completed) : 0.0;
    disks[d.name] = {{"reads_per_s", static_cast<double>(st.reads_ok) / seconds},
                     {"writes_per_s", static_cast<double>(st.writes_ok) / seconds},
                     {"flushes_per_s", static_cast<double>(st.flushes_ok) / seconds},
                     {"read_mib_per_s", static_cast<double>(st.bytes_read) / seconds / 1048576.0},
                     {"write_mib_per_s", static_cast<double>(st.bytes_written) / seconds / 1048576.0},
                     {"await_ms", await_ms},
                     {"await_max_ms", static_cast<double>(st.latency_ns_max) / 1e6},
                     {"mean_queue_depth", d.mean_queue_depth},
                     {"utilisation", d.utilisation},
                     {"errors", st.no_space + st.io_errors},
                     {"used_bytes", d.used_bytes},
                     {"used_bytes_max", d.used_bytes_max},
                     {"capacity_bytes", d.capacity_bytes}};
    if (d.ebs_operations)
      disks[d.name]["ebs"] = {{"operations_per_s", static_cast<double>(*d.ebs_operations) / seconds},
                              {"burst_balance_end", d.burst_balance ? nlohmann::json(*d.burst_balance) : nlohmann::json(nullptr)}};
  }
  // EBS-optimized instances' limits, by broker, when the scenario gives one.
  nlohmann::json ebs_instances = nlohmann::json::object();
  for (const WorldSummary::EbsInstanceUse& e : s.ebs_instances)
    ebs_instances[e.broker] = {{"utilisation", e.utilisation},
                               {"mib_per_s", e.mib_per_s},
                               {"operations_per_s", e.operations_per_s},
                               {"held_share", e.held_share},
                               {"io_balance_end", e.io_balance ? nlohmann::json(*e.io_balance) : nlohmann::json(nullptr)},
                               {"byte_balance_end", e.byte_balance ? nlohmann::json(*e.byte_balance) : nlohmann::json(nullptr)}};
  // Client quotas: by client-id, the bounds that apply (null: none) and what the brokers did about them.
  nlohmann::json quotas = nlohmann::json::object();
  const auto bound = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  const auto use = [](const WorldSummary::QuotaUse& u, const char* bytes_key) {
    return nlohmann::json{{"responses", u.responses},
                          {"throttled", u.throttled},
                          {"throttle_time_ms", {{"mean", u.throttle_ms_mean}, {"max", u.throttle_ms_max}}},
                          {bytes_key, u.bytes_per_s}};
  };
  for (const auto& q : s.quotas)
    quotas[q.client_id] = {{"producer_byte_rate", bound(q.producer_byte_rate)},
                           {"consumer_byte_rate", bound(q.consumer_byte_rate)},
                           {"request_percentage", bound(q.request_percentage)},
                           {"produce", use(q.produce, "request_bytes_per_s")},
                           {"fetch", use(q.fetch, "response_bytes_per_s")}};
  // Time below a replica count (isr.under_replicated, isr.under_min_isr).
  const auto isr_stretches = [](const WorldSummary::UnderReplicated& u) {
    nlohmann::json longest = nullptr;
    if (!u.longest_partition.empty())
      longest = {{"partition", u.longest_partition},
                 {"start_s", u.longest_start_s},
                 {"end_s", u.longest_end_s ? nlohmann::json(*u.longest_end_s) : nlohmann::json(nullptr)},
                 {"seconds", u.longest_s}};
    return nlohmann::json{{"partition_seconds", u.partition_seconds}, {"at_end", u.at_end}, {"longest", longest}};
  };
  // Replication throttling: by broker, each quota's bound (null: none) and what its sensor counted.
  nlohmann::json replication_throttle = nlohmann::json::object();
  const auto replication_use = [&](const WorldSummary::ReplicationQuotaUse& u) {
    return nlohmann::json{{"throttles_replicas", u.throttles},
                          {"bound_bytes_per_s", bound(u.bound)},
                          {"recorded_bytes_per_s", u.recorded_bytes_per_s},
                          {"partitions_held_back", u.held_back}};
  };
  for (const auto& r : s.replication_throttle)
    replication_throttle[r.broker] = {{"leader", replication_use(r.leader)}, {"follower", replication_use(r.follower)}};
  // By client.id, when there is more than one among the producers or the consumers.
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : s.faults)
    faults.push_back({{"type", f.kind}, {"host", f.host}, {"start_s", f.start_s}, {"end_s", f.end_s}, {"detail", f.detail}});
  nlohmann::json operations = nlohmann::json::array();
  for (const auto& op : s.operations) {
    nlohmann::json entry = {{"at_s", op.at_s}, {"tool", op.tool}, {"changes", op.changes}};
    if (op.tool == "kafka-configs") entry["entity"] = op.entity;
    if (op.tool == "kafka-delete-records") {
      nlohmann::json deleted = nlohmann::json::array();
      for (const auto& d : op.deleted)
        deleted.push_back({{"partition", d.partition},
                           {"offset", d.offset},
                           {"requested_offset", d.requested_offset},
                           {"error", d.answered_s ? nlohmann::json(d.error) : nlohmann::json(nullptr)},
                           {"low_watermark", d.answered_s ? nlohmann::json(d.low_watermark) : nlohmann::json(nullptr)},
                           {"answered_s", d.answered_s ? nlohmann::json(*d.answered_s) : nlohmann::json(nullptr)}});
      entry["partitions"] = std::move(deleted);
    }
    operations.push_back(std::move(entry));
  }
  nlohmann::json clients = nlohmann::json::object();
  for (const auto& c : s.clients) {
    nlohmann::json entry = nlohmann::json::object();
    if (c.producer)
      entry["produce"] = {{"throughput_records_per_s", c.acked_records_per_s},
                          {"throughput_mib_per_s", c.acked_mib_per_s},
                          {"offered_records_per_s", c.offered_records_per_s ? nlohmann::json(*c.offered_records_per_s)
                                                                            : nlohmann::json(nullptr)},
                          {"latency_ms", latency_json(c.produce_latency)}};
    if (c.consumer)
      entry["consume"] = {{"throughput_records_per_s", c.consumed_records_per_s},
                          {"throughput_mib_per_s", c.consumed_mib_per_s},
                          {"end_to_end_latency_ms", latency_json(c.end_to_end_latency)}};
    clients[c.client_id] = std::move(entry);
  }
  nlohmann::json requests = nlohmann::json::object();
  for (size_t k = 0; k < kRequestKinds; ++k)
    requests[request_kind_name(static_cast<RequestKind>(k))] = request_json(s.requests[k]);
  return {
      {"produce",
       {{"records_sent", s.records_sent},
        {"records_acked", s.records_acked},
        {"records_failed", s.records_failed},
        {"records_failed_by_cause",
         {{"delivery_timeout", s.records_failed_by_cause.delivery_timeout},
          {"broker_error", s.records_failed_by_cause.broker_error},
          {"buffer_exhausted", s.records_failed_by_cause.buffer_exhausted},
          {"record_too_large", s.records_failed_by_cause.record_too_large},
          {"unknown_topic", s.records_failed_by_cause.unknown_topic},
          {"producer_closed", s.records_failed_by_cause.producer_closed}}},
        {"records_failed_by_broker_error", s.records_failed_by_cause.broker_errors},
        {"records_lost_in_restarts", s.records_lost_in_restarts},
        {"record_retries", s.record_retries},
        {"batch_splits", s.batch_splits},
        {"throughput_records_per_s", s.throughput_records_per_s},
        {"throughput_mib_per_s", s.throughput_mib_per_s},
        {"offered_records_per_s",
         s.offered_records_per_s ? nlohmann::json(*s.offered_records_per_s) : nlohmann::json(nullptr)},
        {"requests", s.produce_requests},
        {"batches", s.batches_sent},
        {"records_per_request", s.records_per_request},
        {"batch_size_bytes_mean", s.batch_size_bytes_mean},
        {"distributions",
         {{"batch_size_bytes", distribution_json(s.batch_size_bytes)},
          {"records_per_request", distribution_json(s.records_per_request_distribution)}}},
        {"latency_ms", latency_json(s.produce_latency)},
        {"record_queue_time_ms", latency_json(s.record_queue_time)},
        {"request_latency_ms", latency_json(s.request_latency)}}},
      {"end_to_end", {{"latency_ms", latency_json(s.end_to_end_latency)}}},
      {"consume",
       {{"records", s.records_consumed},
        {"throughput_records_per_s", s.consumed_records_per_s},
        {"throughput_mib_per_s", s.consumed_mib_per_s},
        {"fetch_latency_ms", latency_json(s.fetch_latency)},
        {"records_per_fetch", distribution_json(s.records_per_fetch)},
        {"time_between_poll_ms", latency_json(s.time_between_poll)},
        {"poll_idle_ratio", s.poll_idle_ratio},
        {"groups", groups_json(s.group_lag)},
        {"offset_commits_failed", s.offset_commits_failed},
        {"fetch_bytes", {{"same_rack", s.fetch_bytes_same_rack}, {"cross_rack", s.fetch_bytes_cross_rack}}}}},
      {"traffic_bytes",
       {{"producers", {{"total", s.producer_traffic.total}, {"cross_rack", s.producer_traffic.cross_rack}}},
        {"replication", {{"total", s.replication_traffic.total}, {"cross_rack", s.replication_traffic.cross_rack}}},
        {"consumers", {{"total", s.consumer_traffic.total}, {"cross_rack", s.consumer_traffic.cross_rack}}}}},
      // TLS (security.protocol / security.inter.broker.protocol SSL or SASL_SSL): which connections carry it and
      // the CPU its work took after the warm-up, in cores.
      {"tls",
       {{"producers", s.tls.producers},
        {"consumers", s.tls.consumers},
        {"inter_broker", s.tls.inter_broker},
        {"cpu_cores",
         {{"broker_network_threads", s.tls.broker_network_cores},
          {"broker_replica_fetchers", s.tls.broker_fetcher_cores},
          {"consumers", s.tls.consumer_cores},
          {"producers", s.tls.producer_cores}}}}},
      {"clients", clients},
      {"quotas", quotas},
      {"replication_throttle", replication_throttle},
      {"requests", requests},
      {"jvm",
       {{"young_gc", s.young_gc},
        {"young_gcs", s.young_gcs},
        {"gc_pause_ms", {{"total", s.gc_pause_total_ms}, {"max", s.gc_pause_max_ms}}}}},
      // LogFlushStats.LogFlushRateAndTimeMs: segment flushes after the warm-up (count, rate, time).
      {"log_flush",
       {{"flushes", s.log_flush_time.count},
        {"per_s", s.log_flushes_per_s},
        {"time_ms", latency_json(s.log_flush_time)}}},
      // The durability check (World::check_durability): acknowledged records against the leaders' logs at the end,
      // records the consumers skipped, and records a group was given again (consumer_restart).
      {"durability",
       {{"checked", true},
        {"acked_records_checked", s.acked_records_checked},
        {"acked_records_lost", s.acked_records_lost},
        {"acked_records_deleted_by_retention", s.acked_records_deleted},
        {"acked_records_without_offset", s.acked_records_unchecked},
        {"skipped_by_consumers", s.consumer_skipped},
        {"appended_out_of_order", s.appended_out_of_order},
        {"duplicates", s.duplicates}}},
      {"faults", faults},
      {"operations", operations},
      {"isr",
       {{"shrinks", s.isr_shrinks},
        {"expands", s.isr_expands},
        {"under_replicated", isr_stretches(s.under_replicated)},
        {"under_min_isr", isr_stretches(s.under_min_isr)}}},
      {"sim",
       {{"events", s.events},
        {"simulated_seconds", s.simulated_seconds},
        {"wall_seconds", wall_seconds},
        {"trace_hash", hex64(s.trace_hash)}}},
      {"bottleneck",
       {{"resource", s.bottleneck},
        {"kind", s.bottleneck_is_connection ? "connection" : s.bottleneck_is_window ? "window" : "resource"},
        {"utilisation", s.bottleneck_utilisation}}},
      {"utilisation", utilisation},
      {"disks", disks},
      {"ebs_instances", ebs_instances},
      {"connection_backlog", connection_backlog},
      {"connection_throttled", connection_throttled},
      {"window_full", window_full},
  };
}

nlohmann::json manifest_json(const RunManifest& m) {
  return {{"kafkasim_version", build_info::kVersion},
          {"git_commit", build_info::kGitCommit},
          {"scenario_file", m.scenario_file},
          {"seed", m.seed},
          {"scenario_hash", scenario_hash(m.resolved_scenario)},
          {"resolved_scenario", m.resolved_scenario}};
}

void write_run_outputs(const std::filesystem::path& out_dir, const RunManifest& manifest, const World& world,
                       const WorldSummary& summary, double wall_seconds) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(out_dir);
  std::string tmp_name = target.filename().string();
  tmp_name.insert(0, 1, '.');
  tmp_name.append(".tmp");
  const fs::path tmp = target.parent_path() / tmp_name;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw std::runtime_error("cannot create " + tmp.string() + ": " + ec.message());
  write_text(tmp / "manifest.json", manifest_json(manifest).dump(2) + "\n");
  write_text(tmp / "summary.json", summary_json(summary, wall_seconds).dump(2) + "\n");
  std::ostringstream csv;
  world.timeseries().write_csv(csv);
  write_text(tmp / "timeseries.csv", csv.str());
  std::ostringstream events;
  for (const auto& e : world.events()) events << e.dump() << '\n';
  write_text(tmp / "events.jsonl", events.str());
  fs::remove_all(target, ec);
  fs::rename(tmp, target, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp.string() + " to " + target.string() + ": " + ec.message());
}

}  // namespace kafkasim::cluster
