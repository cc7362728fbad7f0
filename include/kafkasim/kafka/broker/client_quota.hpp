// Client quotas on one broker (kafka-behaviour-2.md §10; KIP-13 bandwidth quotas, KIP-124 request quotas, KIP-219
// throttling by muting). Each broker measures on its own: a client that talks to N brokers may use N x its quota.
//
// Entities: client-id quotas only, a named client-id or the <default> client-id (§10.1 levels 7 and 8). Without
// authentication every principal is ANONYMOUS, so user quotas are not modelled. With client-id quotas only, the
// sensor's tags are (user="", client-id=C): every client-id has its own rate, whichever entity gave its bound.
//
// The rate (§10.2) is Kafka's Rate over a WindowedSum with quota.window.num samples of quota.window.size.seconds
// (SampledStat keeps one sample more than configured; Rate.windowSize pads the window to at least samples - 1 full
// windows), in Kafka's integer milliseconds. The throttle time (§10.3, QuotaUtils.throttleTime) is
// round((O - T) / T x W) ms for a measured rate O above the bound T over the exact window W; request quotas cap it
// at one window (boundedThrottleTime). The value that breaks the quota is recorded first, so it always counts.
//
// Sensors live as long as the run (Kafka expires one after an hour without a record, §10.9).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kafkasim::kafka {

struct QuotaWindowConfig {
  int32_t samples = 11;      // quota.window.num
  int64_t window_ms = 1000;  // quota.window.size.seconds x 1000
};

// How a rate's window is measured: Rate.windowSize pads it to samples - 1 full windows (client quotas, §10.2);
// SimpleRate.windowSize takes max(now - the oldest sample's start, one window), so it reacts within about a window
// (replication quotas, kafka-behaviour-2.md §11.2).
enum class RateWindow : uint8_t { padded, simple };

// Rate(WindowedSum) with MetricConfig(samples, timeWindowMs), or SimpleRate. Values per second.
class QuotaRate {
 public:
  explicit QuotaRate(QuotaWindowConfig config, RateWindow window = RateWindow::padded);

  // SampledStat.record: into the current sample, or the next one (recycled after samples + 1) when the current has
  // lasted a window.
  void record(double value, int64_t now_ms);
  // Rate.measure: the samples' sum over window_size_ms, per second.
  double measure(int64_t now_ms);
  // Rate.windowSize: now minus the oldest sample's start, after purging samples without an event for samples x window,
  // padded to samples - 1 full windows (RateWindow::simple: at least one window instead).
  int64_t window_size_ms(int64_t now_ms);

 private:
  struct Sample {
    double value = 0;
    int64_t start_ms = 0;
    int64_t last_event_ms = 0;
  };
  Sample& current(int64_t now_ms);
  void purge(int64_t now_ms);

  QuotaWindowConfig config_;
  RateWindow window_;
  std::vector<Sample> samples_;
  std::size_t current_ = 0;
};

enum class QuotaType : uint8_t { produce, fetch, request };

// ClientQuotaManager (produce: producer_byte_rate over request bytes; fetch: consumer_byte_rate over response bytes)
// and ClientRequestQuotaManager (request_percentage over request-handler and network-thread time, in percent of one
// thread).
class ClientQuotaManager {
 public:
  ClientQuotaManager(QuotaType type, QuotaWindowConfig config);

  QuotaType type() const { return type_; }
  // A quota for `client_id`, or for the <default> client-id when it is nullopt.
  void set_quota(const std::optional<std::string>& client_id, double bound);
  // The quota deleted (kafka-configs --delete-config): the client falls back to the <default> client-id's, if any.
  void remove_quota(const std::optional<std::string>& client_id);
  // quotasEnabled: some quota of this type has been configured on the broker. Kafka's quotaTypesEnabled never goes back
  // to "no quotas" before a restart (kafka-behaviour-2.md §10.1), so deleting every quota leaves it set.
  bool enabled() const { return enabled_; }
  // DefaultQuotaCallback.quotaLimit for client-id entities: the client's own quota, else the <default> client-id's.
  std::optional<double> quota_for(const std::string& client_id) const;

  // recordAndGetThrottleTimeMs: records `value` at `now_ms`, then measures; the throttle time when the rate is above
  // the bound, else 0. Nothing is recorded while no quota of this type was ever configured (quotasEnabled); after
  // that every client is, each in its own sensor (client-id quotas tag sensors by client-id, §10.1), and one without
  // a quota is never throttled: a quota it is given later then applies to what its sensor already holds.
  // remove_quota above likewise leaves the sensor's samples.
  int64_t record_and_get_throttle_ms(const std::string& client_id, double value, int64_t now_ms);
  // recordNoThrottle / unrecordQuotaSensor (the latter records -value): no quota check.
  void record_no_throttle(const std::string& client_id, double value, int64_t now_ms);
  void unrecord(const std::string& client_id, double value, int64_t now_ms) {
    record_no_throttle(client_id, -value, now_ms);
  }
  // getMaxValueInQuotaWindow: bound x (samples - 1) x window seconds; nullopt without a quota.
  std::optional<double> max_value_in_quota_window(const std::string& client_id) const;

  // What a client's sensor measures now (0 without one); for tests and reports.
  double measured_rate(const std::string& client_id, int64_t now_ms);

 private:
  QuotaType type_;
  QuotaWindowConfig config_;
  std::optional<double> default_;
  std::map<std::string, double> quotas_;
  bool enabled_ = false;
  std::map<std::string, QuotaRate> sensors_;  // by client-id (the sensor's metric tags)
};

// KafkaApis' quota managers on one broker (QuotaFactory.QuotaManagers, client part).
struct ClientQuotas {
  explicit ClientQuotas(QuotaWindowConfig config = {})
      : produce(QuotaType::produce, config), fetch(QuotaType::fetch, config), request(QuotaType::request, config) {}
  ClientQuotaManager produce;
  ClientQuotaManager fetch;
  ClientQuotaManager request;
  bool any_enabled() const { return produce.enabled() || fetch.enabled() || request.enabled(); }
};

// ClientRequestQuotaManager.nanosToPercentage: thread time as percent-seconds (the rate is then percent of a thread).
constexpr double thread_time_percent(int64_t nanos) { return static_cast<double>(nanos) * 100.0 / 1e9; }

}  // namespace kafkasim::kafka
