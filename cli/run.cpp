// `kafkasim run` and `kafkasim validate`.
#include "cli/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "kafkasim/cluster/config_error.hpp"
#include "kafkasim/cluster/run_output.hpp"
#include "kafkasim/cluster/scenario.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cli {

namespace {

using WallClock = std::chrono::steady_clock;  // progress and wall_seconds only; never seen by the simulation

// The scenario entry of client-N: the producers' entries first, then the consumers', `count` clients each, as the
// outputs number them ("/consumers/1, group slow, consumer 2 of 2"); empty for a number past them.
std::string client_origin(const cluster::WorldSpec& spec, uint64_t client) {
  for (size_t e = 0; e < spec.producers.size(); ++e) {
    const uint32_t count = spec.producers[e].count;
    if (client < count)
      return "/producers/" + std::to_string(e) + ", topic " + spec.topics[static_cast<size_t>(spec.producers[e].topic)].name +
             ", producer " + std::to_string(client + 1) + " of " + std::to_string(count);
    client -= count;
  }
  for (size_t e = 0; e < spec.consumers.size(); ++e) {
    const uint32_t count = spec.consumers[e].count;
    if (client < count)
      return "/consumers/" + std::to_string(e) +
             (spec.consumers[e].group.empty() ? ", no group" : ", group " + spec.consumers[e].group) + ", consumer " +
             std::to_string(client + 1) + " of " + std::to_string(count);
    client -= count;
  }
  return {};
}

void print_latency(const char* label, const cluster::LatencySummary& l) {
  if (l.count == 0) {
    std::printf("  %-22s (no samples)\n", label);
    return;
  }
  std::printf("  %-22s p50 %8.3f  p75 %8.3f  p95 %8.3f  p99 %8.3f  p99.9 %8.3f  max %8.3f ms\n", label, l.p50_ms,
              l.p75_ms, l.p95_ms, l.p99_ms, l.p999_ms, l.max_ms);
}

void print_distribution(const char* label, const cluster::DistributionSummary& d, const char* unit) {
  if (d.count == 0) {
    std::printf("  %-22s (no samples)\n", label);
    return;
  }
  std::printf("  %-22s p50 %8.0f  p95 %8.0f  p99 %8.0f  max %8.0f  mean %8.1f%s\n", label, d.p50, d.p95, d.p99,
              d.max, d.mean, unit);
}

}  // namespace

std::optional<cluster::WorldSpec> load_for_command(const std::string& file, const std::vector<std::string>& set,
                                                   std::optional<uint64_t> seed, cluster::ScenarioExtras& extras) {
  cluster::WorldSpec spec;
  try {
    spec = cluster::load_scenario(file, set, &extras);
  } catch (const cluster::ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return std::nullopt;
  }
  if (seed.has_value()) spec.seed = *seed;
  for (const auto& w : extras.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return spec;
}

std::optional<cluster::WorldSummary> run_world(cluster::World& world, const std::string& file, bool tty) {
  std::optional<cluster::WorldSummary> s;
  try {
    s = world.run();
  } catch (const cluster::RunError& e) {
    if (tty) std::fprintf(stderr, "\r%80s\r", "");
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(), e.what());
    return std::nullopt;
  }
  if (tty) std::fprintf(stderr, "\r%80s\r", "");
  return s;
}

void print_bottleneck(const cluster::WorldSummary& s, const cluster::WorldSpec& spec) {
  // The most utilised resource is a bottleneck only when it is (nearly) saturated; below that the run is limited
  // by its offered load, or by a connection's one-request-at-a-time path, and calling a 20 %-busy pool "the
  // bottleneck" would mislead. kSaturatedUtilisation is a presentation threshold only: summary.json reports the
  // resource and its utilisation either way.
  // A connection a client quota kept muted: say so, the backlog is the quota's doing (KIP-219).
  const auto throttled_note = [&s](const std::string& connection) {
    for (const auto& [name, u] : s.connection_throttled) {
      if (name != connection) continue;
      char text[96];
      std::snprintf(text, sizeof text, ", muted by a client quota's throttle %.1f %% of the time", 100 * u);
      return std::string(text);
    }
    return std::string();
  };
  if (s.bottleneck_is_connection) {
    std::printf("  bottleneck             %s: requests wait behind the one in progress %.1f %% of the time (one "
                "request per connection at a time%s)\n",
                s.bottleneck.c_str(), 100 * s.bottleneck_utilisation, throttled_note(s.bottleneck).c_str());
  } else if (s.bottleneck_is_window) {
    std::printf("  bottleneck             %s: full %.1f %% of the time (one window per round trip: see the socket "
                "buffer configs)\n",
                s.bottleneck.c_str(), 100 * s.bottleneck_utilisation);
  } else if (s.bottleneck_utilisation >= cluster::kSaturatedUtilisation) {
    std::printf("  bottleneck             %s (%.1f %% utilised)\n", s.bottleneck.c_str(), 100 * s.bottleneck_utilisation);
  } else {
    std::printf("  bottleneck             none saturated; busiest %s (%.1f %% utilised)", s.bottleneck.c_str(),
                100 * s.bottleneck_utilisation);
    // The most backlogged connection, when one had requests waiting a noticeable share of the run (a presentation
    // threshold): part of the limit may be its request cycle (an acks=all producer's requests queue behind the
    // followers' round trips).
    constexpr double kNoticeableBacklog = 0.1;
    const auto most = std::max_element(s.connection_backlog.begin(), s.connection_backlog.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most != s.connection_backlog.end() && most->second >= kNoticeableBacklog)
      std::printf("; requests wait on %s %.1f %% of the time%s", most->first.c_str(), 100 * most->second,
                  throttled_note(most->first).c_str());
    std::printf("\n");
  }
  // Which scenario entry a client the bottleneck line names is (clients are numbered producers first, then
  // consumers, in scenario order, `count` each).
  {
    std::string named = s.bottleneck;
    if (const auto at = named.find("client-"); at != std::string::npos) {
      size_t end = at + 7;
      while (end < named.size() && std::isdigit(static_cast<unsigned char>(named[end]))) ++end;
      if (end > at + 7) {
        const uint64_t client = std::stoull(named.substr(at + 7, end - at - 7));
        const std::string origin = client_origin(spec, client);
        if (!origin.empty()) std::printf("                         %s: %s\n", named.substr(at, end - at).c_str(), origin.c_str());
      }
    }
  }
}

int run_scenario(const RunOptions& options) {
  cluster::ScenarioExtras extras;
  const std::optional<cluster::WorldSpec> loaded = load_for_command(options.file, options.set, options.seed, extras);
  if (!loaded) return 2;
  cluster::WorldSpec spec = *loaded;

  std::printf("kafkasim run %s: %s, seed %llu, %s simulated (%s warm-up)\n", options.file.c_str(),
              extras.name.c_str(), static_cast<unsigned long long>(spec.seed), sim::to_string(spec.duration).c_str(),
              sim::to_string(spec.warmup).c_str());
  std::string reproduce = "reproduce: kafkasim run " + options.file + " --seed " + std::to_string(spec.seed);
  for (const auto& s : options.set) reproduce += " --set '" + s + "'";
  std::printf("%s\n", reproduce.c_str());
  std::fflush(stdout);

  // The summary's utilisations, bottleneck, connection shares and disks cover the same time as its throughput.
  spec.utilisation_from = spec.warmup;
  cluster::World world(spec);
  const auto start = WallClock::now();
  const bool tty = isatty(STDERR_FILENO) != 0 && !options.quiet;
  if (tty) {
    world.set_progress_hook([&](sim::SimTime now) {
      const double wall = std::chrono::duration<double>(WallClock::now() - start).count();
      const double done = now.seconds_f() / spec.duration.seconds_f();
      const double eta = done > 0 ? wall * (1 - done) / done : 0;
      std::fprintf(stderr, "\r  simulated %7.1f / %.1f s  %6.2f M events/s  ETA %5.1f s ", now.seconds_f(),
                   spec.duration.seconds_f(), static_cast<double>(world.engine().events_executed()) / 1e6 / std::max(wall, 1e-9), eta);
    });
  }
  const std::optional<cluster::WorldSummary> ran = run_world(world, options.file, tty);
  if (!ran) return 1;  // nothing written: the outputs come after the run
  const cluster::WorldSummary& s = *ran;
  const double wall = std::chrono::duration<double>(WallClock::now() - start).count();

  std::printf("  produced               %llu sent, %llu acked, %llu failed", static_cast<unsigned long long>(s.records_sent),
              static_cast<unsigned long long>(s.records_acked), static_cast<unsigned long long>(s.records_failed));
  // Records a producer_restart took with the process: their callbacks never ran.
  if (s.records_lost_in_restarts > 0)
    std::printf(", %llu lost with restarted producers", static_cast<unsigned long long>(s.records_lost_in_restarts));
  std::printf("\n");
  if (s.records_failed > 0) {
    // Why, as the callbacks' exceptions would say; only the causes that occurred.
    const cluster::FailureCounts& f = s.records_failed_by_cause;
    std::string causes;
    for (const auto& [count, name] : {std::pair{f.delivery_timeout, "delivery timeout"},
                                      std::pair{f.broker_error, "broker error"},
                                      std::pair{f.buffer_exhausted, "buffer exhausted"},
                                      std::pair{f.record_too_large, "record too large"},
                                      std::pair{f.unknown_topic, "unknown topic"},
                                      std::pair{f.producer_closed, "producer closed"}}) {
      if (count == 0) continue;
      if (!causes.empty()) causes += ", ";
      causes += std::to_string(count) + " " + name;
      if (std::string_view(name) != "broker error" || f.broker_errors.empty()) continue;
      // Which errors, as the callbacks' exceptions would name them; the count only when there are several.
      std::string errors;
      for (const auto& [error, n] : f.broker_errors)
        errors += (errors.empty() ? "" : ", ") + error + (f.broker_errors.size() > 1 ? " " + std::to_string(n) : "");
      causes += " (" + errors + ")";
    }
    std::printf("  failed                 %s\n", causes.c_str());
  }
  if (s.record_retries > 0 || s.batch_splits > 0)
    std::printf("  retried                %llu records retried, %llu batches split (MESSAGE_TOO_LARGE)\n",
                static_cast<unsigned long long>(s.record_retries), static_cast<unsigned long long>(s.batch_splits));
  std::printf("  throughput             %.0f records/s, %.2f MiB/s (after warm-up)\n", s.throughput_records_per_s,
              s.throughput_mib_per_s);
  // Open-loop producers that do not get what they offer: their records queue in the accumulators (then send()
  // blocks on buffer.memory), so latency grows with the run and its percentiles say more about the run's length than
  // about the cluster.
  // With several client-ids, each is judged on its own (one may starve while the total looks fine). Not on less than
  // a second after the warm-up, where a batch more or less in flight is several per cent of the records.
  if (spec.duration - spec.warmup >= sim::Duration::from_s(1)) {
    std::string short_of;
    const auto judge = [&short_of](const std::string& who, double acked, const std::optional<double>& offered) {
      if (!offered || acked >= cluster::kDemandMet * *offered) return;
      char text[200];
      std::snprintf(text, sizeof text, "%s%sacknowledged %.1f %% of %s %.0f records/s offered",
                    short_of.empty() ? "" : "; ", who.c_str(), 100 * acked / *offered, who.empty() ? "the" : "its",
                    *offered);
      short_of += text;
    };
    bool by_client = false;
    for (const auto& c : s.clients) {
      if (!c.producer) continue;
      by_client = true;
      judge("client " + c.client_id + " ", c.acked_records_per_s, c.offered_records_per_s);
    }
    if (!by_client) judge("", s.throughput_records_per_s, s.offered_records_per_s);
    // Failed records are not acknowledged either: then they, not a queue, may be the gap.
    if (!short_of.empty())
      std::printf("  not keeping up         %s after the warm-up: %s\n", short_of.c_str(),
                  s.records_failed > 0 ? "records failed (above), or queue in the producers"
                                       : "records queue in the producers and latency grows with the run's length");
  }
  print_latency("produce latency", s.produce_latency);
  print_latency("end-to-end latency", s.end_to_end_latency);
  // The producer side of produce latency: a batch's wait in the accumulator, then its request's round trip.
  if (s.record_queue_time.count > 0)
    std::printf("  producer               record queue time p50 %.3f p99 %.3f ms, request latency p50 %.3f p99 %.3f ms\n",
                s.record_queue_time.p50_ms, s.record_queue_time.p99_ms, s.request_latency.p50_ms,
                s.request_latency.p99_ms);
  std::printf("  consumed               %llu records, %.0f records/s, %.2f MiB/s (after warm-up)\n",
              static_cast<unsigned long long>(s.records_consumed), s.consumed_records_per_s, s.consumed_mib_per_s);
  if (s.fetch_latency.count > 0)
    std::printf("  consumer               fetch latency p50 %.3f p99 %.3f ms, %.1f records per fetch\n",
                s.fetch_latency.p50_ms, s.fetch_latency.p99_ms, s.records_per_fetch.mean);
  if (s.time_between_poll.count > 0)
    std::printf("  consumer polls         time between polls p50 %.3f p99 %.3f max %.3f ms, poll idle ratio %.2f\n",
                s.time_between_poll.p50_ms, s.time_between_poll.p99_ms, s.time_between_poll.max_ms, s.poll_idle_ratio);
  // Each group's lag: a group that keeps up ends near 0, one that falls behind ends at its largest.
  if (!s.group_lag.empty()) {
    std::string groups;
    for (const auto& g : s.group_lag) {
      groups += (groups.empty() ? "" : ", ") + g.group + " " + std::to_string(g.lag_end) + " (" + std::to_string(g.lag_max);
      // Falling behind: after the warm-up its lag grew by more than 5 % of what its partitions were written (its
      // reads plus the growth), and it ends more than a second of its reads behind.
      if (const std::optional<double>& growth = g.lag_growth_records_per_s;
          growth && *growth > (1 - cluster::kDemandMet) * (g.consumed_records_per_s + *growth) &&
          static_cast<double>(g.lag_end) > g.consumed_records_per_s) {
        char text[96];
        std::snprintf(text, sizeof text, "; growing %.0f records/s after the warm-up: falling behind", *growth);
        groups += text;
      }
      groups += ")";
    }
    std::printf("  consumer lag           records at the end (most at any sample): %s\n", groups.c_str());
    // Positions out of range (retention or kafka-delete-records removed the records under them) and what their
    // resets jumped over.
    std::string resets;
    for (const auto& g : s.group_lag)
      if (g.out_of_range_resets > 0)
        resets += (resets.empty() ? "" : ", ") + g.group + " " + std::to_string(g.records_skipped_by_resets) +
                  " records in " + std::to_string(g.out_of_range_resets) + " reset" +
                  (g.out_of_range_resets == 1 ? "" : "s");
    if (!resets.empty())
      std::printf("  offset out of range    records skipped by auto.offset.reset: %s\n", resets.c_str());
  }
  // Failed offset commits by the coordinator's error (each partition of a failed OffsetCommit once).
  if (!s.offset_commits_failed.empty()) {
    uint64_t failed = 0;
    std::string errors;
    for (const auto& [error, n] : s.offset_commits_failed) {
      failed += n;
      errors += (errors.empty() ? "" : ", ") + error + " " + std::to_string(n);
    }
    std::printf("  offset commits         %llu partition commits failed: %s%s\n",
                static_cast<unsigned long long>(failed), errors.c_str(),
                s.offset_commits_failed.contains("UNKNOWN_MEMBER_ID")
                    ? " (consumers assigning their partitions commit to a group that has members)"
                    : "");
  }
  // The durability check: every record acknowledged with an offset against its leader's log at the end of the run.
  {
    std::string extra;
    if (s.acked_records_deleted > 0) extra += ", " + std::to_string(s.acked_records_deleted) + " deleted by retention";
    if (s.records_consumed > 0 || s.consumer_skipped > 0)
      extra += ", " + std::to_string(s.consumer_skipped) + " skipped by consumers";
    if (s.appended_out_of_order > 0)
      extra += "; " + std::to_string(s.appended_out_of_order) +
               " records appended after records their producer sent later (retries without idempotence)";
    if (s.acked_records_unchecked > 0)
      extra += "; " + std::to_string(s.acked_records_unchecked) + " acks=0 records have no offset to check";
    std::printf("  durability             %llu acknowledged records checked against the leaders' logs: %llu lost%s\n",
                static_cast<unsigned long long>(s.acked_records_checked),
                static_cast<unsigned long long>(s.acked_records_lost), extra.c_str());
  }
  // Where the consumers' fetch responses came from: fetch from follower (KIP-392) moves them into the own rack.
  if (s.racks > 1 && s.fetch_bytes_same_rack + s.fetch_bytes_cross_rack > 0) {
    const double total = static_cast<double>(s.fetch_bytes_same_rack + s.fetch_bytes_cross_rack);
    std::printf("  consumer racks         %.2f MiB fetched within the consumer's rack, %.2f MiB across racks (%.1f %%)\n",
                static_cast<double>(s.fetch_bytes_same_rack) / 1048576.0,
                static_cast<double>(s.fetch_bytes_cross_rack) / 1048576.0,
                100.0 * static_cast<double>(s.fetch_bytes_cross_rack) / total);
  }
  // Everything sent across racks (availability zones), by connection kind.
  if (s.racks > 1) {
    const auto mib = [](int64_t bytes) { return static_cast<double>(bytes) / 1048576.0; };
    std::printf("  cross-rack traffic     producers %.2f of %.2f MiB, replication %.2f of %.2f MiB, consumers %.2f of "
                "%.2f MiB (after warm-up)\n",
                mib(s.producer_traffic.cross_rack), mib(s.producer_traffic.total), mib(s.replication_traffic.cross_rack),
                mib(s.replication_traffic.total), mib(s.consumer_traffic.cross_rack), mib(s.consumer_traffic.total));
  }
  // What TLS costs, when some connections carry it.
  if (s.tls.producers || s.tls.consumers || s.tls.inter_broker) {
    std::string over;
    for (const auto& [on, who] : {std::pair{s.tls.producers, "producers"}, std::pair{s.tls.consumers, "consumers"},
                                  std::pair{s.tls.inter_broker, "replication"}})
      if (on) over += std::string(over.empty() ? "" : ", ") + who;
    std::printf("  TLS                    on %s; CPU cores: broker network threads %.3f, replica fetchers %.3f, "
                "consumers %.3f, producers %.3f (after warm-up)\n",
                over.c_str(), s.tls.broker_network_cores, s.tls.broker_fetcher_cores, s.tls.consumer_cores,
                s.tls.producer_cores);
  }
  // By client.id, when there are several.
  const auto percentiles = [](const cluster::LatencySummary& l) {
    char text[64];
    if (l.count == 0) return std::string("(no samples: nothing sent after the warm-up arrived)");
    std::snprintf(text, sizeof text, "p50 %.3f p99 %.3f ms", l.p50_ms, l.p99_ms);
    return std::string(text);
  };
  for (const auto& c : s.clients) {
    if (c.producer)
      std::printf("  client %-15s produced %.0f records/s, %.2f MiB/s, latency %s\n", c.client_id.c_str(),
                  c.acked_records_per_s, c.acked_mib_per_s, percentiles(c.produce_latency).c_str());
    if (c.consumer)
      std::printf("  client %-15s consumed %.0f records/s, %.2f MiB/s, end-to-end %s\n", c.client_id.c_str(),
                  c.consumed_records_per_s, c.consumed_mib_per_s, percentiles(c.end_to_end_latency).c_str());
  }
  // Client quotas: each client-id's throttled responses (KIP-219) and what the brokers counted.
  for (const auto& q : s.quotas) {
    const auto line = [&](const char* what, const std::optional<double>& rate, const cluster::WorldSummary::QuotaUse& u,
                          const char* bytes) {
      // A quota an operation deleted is still reported, for the responses counted while it held.
      const auto deleted = [&] {
        for (const auto& op : s.operations)
          if (op.entity == "clients " + q.client_id || op.entity == "clients <default>")
            for (const std::string& c : op.changes)
              if (c == std::string("-") + what) return true;
        return false;
      };
      if (!rate && (u.responses == 0 || !deleted())) return;
      char bound[64];
      if (rate) std::snprintf(bound, sizeof bound, "%.0f B/s per broker", *rate);
      else std::snprintf(bound, sizeof bound, "deleted by an operation");
      std::printf("  quota %-16s %s %s: %llu of %llu responses throttled (mean %.1f, max %.0f ms), "
                  "%.2f MiB/s of %s counted (all brokers, after warm-up)\n",
                  q.client_id.c_str(), what, bound, static_cast<unsigned long long>(u.throttled),
                  static_cast<unsigned long long>(u.responses), u.throttle_ms_mean, u.throttle_ms_max,
                  u.bytes_per_s / 1048576.0, bytes);
    };
    line("producer_byte_rate", q.producer_byte_rate, q.produce, "requests");
    line("consumer_byte_rate", q.consumer_byte_rate, q.fetch, "responses");
    if (q.request_percentage)
      std::printf("  quota %-16s request_percentage %.1f %% per broker\n", q.client_id.c_str(), *q.request_percentage);
  }
  // Replication throttling (kafka-behaviour-2.md §11): each broker's quotas, what they counted and held back.
  for (const auto& r : s.replication_throttle) {
    const auto part = [](const char* what, const cluster::WorldSummary::ReplicationQuotaUse& u) {
      char text[160];
      if (!u.throttles) {
        std::snprintf(text, sizeof text, "%s: no replica throttled", what);
      } else if (!u.bound) {
        std::snprintf(text, sizeof text, "%s: unbounded (%.2f MiB/s counted)", what,
                      u.recorded_bytes_per_s / 1048576.0);
      } else {
        std::snprintf(text, sizeof text, "%s: %.2f MiB/s bound, %.2f MiB/s counted, %llu partitions held back", what,
                      *u.bound / 1048576.0, u.recorded_bytes_per_s / 1048576.0,
                      static_cast<unsigned long long>(u.held_back));
      }
      return std::string(text);
    };
    std::printf("  replication throttle   %s: %s; %s (after warm-up)\n", r.broker.c_str(),
                part("leader", r.leader).c_str(), part("follower", r.follower).c_str());
  }
  std::printf("  batches                %.0f B mean, %.1f records per request\n", s.batch_size_bytes_mean,
              s.records_per_request);
  print_distribution("batch size", s.batch_size_bytes, " B");
  print_distribution("records per request", s.records_per_request_distribution, "");
  // The brokers' RequestMetrics: rate, TotalTimeMs percentiles and where the time went on average.
  for (size_t k = 0; k < cluster::kRequestKinds; ++k) {
    const cluster::RequestTimeSummary& r = s.requests[k];
    if (r.count == 0) continue;
    const std::string label = std::string(cluster::request_kind_name(static_cast<cluster::RequestKind>(k))) + " requests";
    // Rare requests (commits, lookups) get significant digits rather than "0/s".
    char rate[32];
    if (r.per_s >= 100) std::snprintf(rate, sizeof rate, "%.0f", r.per_s);
    else std::snprintf(rate, sizeof rate, "%.3g", r.per_s);
    std::printf("  %-22s %s/s, time p50 %.3f p99 %.3f ms (mean ms: queue %.3f, local %.3f, remote %.3f, "
                "response queue %.3f, send %.3f)\n",
                label.c_str(), rate, r.total.p50_ms, r.total.p99_ms, r.request_queue.mean_ms, r.local.mean_ms,
                r.remote.mean_ms, r.response_queue.mean_ms, r.response_send.mean_ms);
  }
  for (const auto& f : s.faults) {
    if (f.end_s == f.start_s)
      std::printf("  fault                  %s on %s at %.1f s (%s)\n", f.kind.c_str(), f.host.c_str(), f.start_s,
                  f.detail.c_str());
    else
      std::printf("  fault                  %s on %s from %.1f s to %.1f s (%s)\n", f.kind.c_str(), f.host.c_str(),
                  f.start_s, f.end_s, f.detail.c_str());
  }
  for (const auto& op : s.operations) {
    if (op.tool == "kafka-delete-records") {
      // One line per partition: what was asked and how the leader answered (DeleteRecords' low watermark).
      for (const auto& d : op.deleted) {
        std::string asked = d.offset == -1 ? "before the high watermark" : "before " + std::to_string(d.offset);
        if (d.offset == -1 && d.requested_offset >= 0) asked += " (" + std::to_string(d.requested_offset) + ")";
        char answer[160];
        if (!d.answered_s)
          std::snprintf(answer, sizeof answer, "no answer by the end of the run");
        else if (d.error == "NONE")
          std::snprintf(answer, sizeof answer, "low watermark %lld after %.1f ms", static_cast<long long>(d.low_watermark),
                        (*d.answered_s - op.at_s) * 1e3);
        else
          std::snprintf(answer, sizeof answer, "%s after %.1f ms", d.error.c_str(), (*d.answered_s - op.at_s) * 1e3);
        std::printf("  operation              kafka-delete-records at %.1f s: %s %s: %s\n", op.at_s,
                    d.partition.c_str(), asked.c_str(), answer);
      }
      continue;
    }
    std::string changes;
    for (const std::string& c : op.changes) changes += (changes.empty() ? "" : " ") + c;
    std::printf("  operation              kafka-configs at %.1f s: %s %s\n", op.at_s, op.entity.c_str(), changes.c_str());
  }
  if (s.duplicates > 0)
    std::printf("  duplicates             %llu records given again to their group (a restarted consumer resumes from its "
                "group's committed offsets)\n",
                static_cast<unsigned long long>(s.duplicates));
  if (s.isr_shrinks + s.isr_expands > 0) {
    std::printf("  ISR changes            %llu shrinks, %llu expands (each in events.jsonl)\n",
                static_cast<unsigned long long>(s.isr_shrinks), static_cast<unsigned long long>(s.isr_expands));
  }
  // How long partitions had fewer in-sync replicas than replicas (UnderReplicatedPartitions > 0 for them), and fewer
  // than min.insync.replicas (UnderMinIsrPartitionCount: acks=all produces to them fail).
  const auto stretches = [](const char* label, const cluster::WorldSummary::UnderReplicated& u, const char* note) {
    if (u.longest_partition.empty()) return;
    char end[64];
    if (u.longest_end_s) std::snprintf(end, sizeof end, "%.1f s", *u.longest_end_s);
    else std::snprintf(end, sizeof end, "the end of the run");
    std::printf("  %-22s %.1f partition-seconds in all; longest %s, %.1f s (from %.1f s to %s); %llu at the end%s\n",
                label, u.partition_seconds, u.longest_partition.c_str(), u.longest_s, u.longest_start_s, end,
                static_cast<unsigned long long>(u.at_end), note);
  };
  stretches("under-replicated", s.under_replicated, "");
  stretches("under min ISR", s.under_min_isr, " (acks=all produces to them fail with NOT_ENOUGH_REPLICAS)");
  // The space the log dirs take: in all, and the fullest disk against its size (what fills first).
  if (!s.disks.empty()) {
    const auto size = [](double bytes) {
      char text[32];
      const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
      int u = 0;
      while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        ++u;
      }
      std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
      return std::string(text);
    };
    double total = 0;
    const auto* fullest = &s.disks.front();
    for (const auto& d : s.disks) {
      total += static_cast<double>(d.used_bytes);
      const auto share = [](const auto& disk) {
        return static_cast<double>(disk.used_bytes_max) / static_cast<double>(std::max<uint64_t>(1, disk.capacity_bytes));
      };
      if (share(d) > share(*fullest)) fullest = &d;
    }
    std::printf("  storage                log dirs %s in all at the end; fullest %s: %s (most %s), %.2f %% of its %s\n",
                size(total).c_str(), fullest->name.c_str(), size(static_cast<double>(fullest->used_bytes)).c_str(),
                size(static_cast<double>(fullest->used_bytes_max)).c_str(),
                100.0 * static_cast<double>(fullest->used_bytes_max) /
                    static_cast<double>(std::max<uint64_t>(1, fullest->capacity_bytes)),
                size(static_cast<double>(fullest->capacity_bytes)).c_str());
  }
  // The busiest instance's EBS limits, when the brokers sit behind one (hardware.broker.ebs_instance).
  const auto busiest_instance = std::max_element(
      s.ebs_instances.begin(), s.ebs_instances.end(),
      [](const auto& a, const auto& b) { return a.utilisation < b.utilisation; });
  if (busiest_instance != s.ebs_instances.end()) {
    const auto balance = [](const std::optional<double>& b) {
      char text[32];
      if (b) std::snprintf(text, sizeof text, "%.0f %%", 100 * *b);
      else std::snprintf(text, sizeof text, "none (no burst)");
      return std::string(text);
    };
    std::printf("  ebs instance           busiest %s: %.1f %% of its limits, %.1f MiB/s, %.0f operations/s; its limits, not "
                "the volumes', held %.1f %% of the I/Os; EBSByteBalance %s, EBSIOBalance %s at the end\n",
                busiest_instance->broker.c_str(), 100 * busiest_instance->utilisation, busiest_instance->mib_per_s,
                busiest_instance->operations_per_s, 100 * busiest_instance->held_share,
                balance(busiest_instance->byte_balance).c_str(), balance(busiest_instance->io_balance).c_str());
  }
  if (s.young_gc)
    std::printf("  broker young GC        %llu pauses, %.1f ms in all, longest %.1f ms\n",
                static_cast<unsigned long long>(s.young_gcs), s.gc_pause_total_ms, s.gc_pause_max_ms);
  print_bottleneck(s, spec);
  std::printf("  simulator              %llu events, %.2f s wall, %.1fx real time\n",
              static_cast<unsigned long long>(s.events), wall, wall > 0 ? s.simulated_seconds / wall : 0.0);

  if (!options.out.empty()) {
    cluster::RunManifest manifest;
    manifest.scenario_file = options.file;
    manifest.seed = spec.seed;
    manifest.resolved_scenario = cluster::resolved_scenario(spec, extras);
    try {
      cluster::write_run_outputs(options.out, manifest, world, s, wall);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
    std::printf("  outputs                %s/{manifest.json,summary.json,timeseries.csv,events.jsonl}\n",
                options.out.c_str());
  }
  return 0;
}

int validate_scenario(const RunOptions& options) {
  cluster::ScenarioExtras extras;
  try {
    const cluster::WorldSpec spec = cluster::load_scenario(options.file, options.set, &extras);
    for (const auto& w : extras.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::cout << cluster::resolved_scenario(spec, extras).dump(2) << "\n";
    return 0;
  } catch (const cluster::ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

}  // namespace kafkasim::cli
