#include "kafkasim/kafka/broker/client_quota.hpp"

#include <algorithm>
#include <cmath>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

// ---- QuotaRate ----

QuotaRate::QuotaRate(QuotaWindowConfig config, RateWindow window) : config_(config), window_(window) {
  KS_ASSERT_GE(config_.samples, 1);
  KS_ASSERT_GT(config_.window_ms, 0);
}

QuotaRate::Sample& QuotaRate::current(int64_t now_ms) {
  if (samples_.empty()) samples_.push_back(Sample{0, now_ms, now_ms});
  return samples_[current_];
}

void QuotaRate::record(double value, int64_t now_ms) {
  Sample* sample = &current(now_ms);
  if (now_ms - sample->start_ms >= config_.window_ms) {
    // advance: one sample more than configured is kept (for purge's sake), recycled in a ring.
    const std::size_t ring = static_cast<std::size_t>(config_.samples) + 1;
    current_ = (current_ + 1) % ring;
    if (current_ >= samples_.size()) {
      samples_.push_back(Sample{0, now_ms, now_ms});
    } else {
      samples_[current_] = Sample{0, now_ms, now_ms};
    }
    sample = &samples_[current_];
  }
  sample->value += value;
  sample->last_event_ms = now_ms;
}

void QuotaRate::purge(int64_t now_ms) {
  const int64_t expire_age = static_cast<int64_t>(config_.samples) * config_.window_ms;
  for (Sample& s : samples_) {
    if (now_ms - s.last_event_ms >= expire_age) s = Sample{0, now_ms, now_ms};
  }
}

int64_t QuotaRate::window_size_ms(int64_t now_ms) {
  purge(now_ms);
  if (samples_.empty()) samples_.push_back(Sample{0, now_ms, now_ms});  // SampledStat.oldest
  int64_t oldest_start = samples_.front().start_ms;
  for (const Sample& s : samples_) oldest_start = std::min(oldest_start, s.start_ms);
  int64_t elapsed = now_ms - oldest_start;
  if (window_ == RateWindow::simple) return std::max(elapsed, config_.window_ms);  // SimpleRate.windowSize
  const int64_t full_windows = elapsed / config_.window_ms;
  const int64_t min_full_windows = config_.samples - 1;
  if (full_windows < min_full_windows) elapsed += (min_full_windows - full_windows) * config_.window_ms;
  return elapsed;
}

double QuotaRate::measure(int64_t now_ms) {
  purge(now_ms);
  double total = 0;
  for (const Sample& s : samples_) total += s.value;
  const int64_t window = window_size_ms(now_ms);
  // With one sample (samples = 1) and no time elapsed the window is 0 ms: Kafka divides by zero too, to an
  // infinite rate. Only a degenerate config reaches it; keep the rate finite and large.
  return total / (static_cast<double>(std::max<int64_t>(window, 1)) / 1000.0);
}

// ---- ClientQuotaManager ----

ClientQuotaManager::ClientQuotaManager(QuotaType type, QuotaWindowConfig config) : type_(type), config_(config) {}

void ClientQuotaManager::remove_quota(const std::optional<std::string>& client_id) {
  if (client_id) {
    quotas_.erase(*client_id);
  } else {
    default_.reset();
  }
}

void ClientQuotaManager::set_quota(const std::optional<std::string>& client_id, double bound) {
  KS_ASSERT_GT(bound, 0.0);
  enabled_ = true;
  if (client_id) {
    quotas_[*client_id] = bound;
  } else {
    default_ = bound;
  }
}

std::optional<double> ClientQuotaManager::quota_for(const std::string& client_id) const {
  const auto it = quotas_.find(client_id);
  if (it != quotas_.end()) return it->second;
  return default_;
}

int64_t ClientQuotaManager::record_and_get_throttle_ms(const std::string& client_id, double value, int64_t now_ms) {
  if (!enabled_) return 0;
  QuotaRate& rate = sensors_.try_emplace(client_id, config_).first->second;
  rate.record(value, now_ms);
  const std::optional<double> bound = quota_for(client_id);
  if (!bound) return 0;
  // Sensor.checkQuotas: Quota.acceptable is value <= bound.
  const double measured = rate.measure(now_ms);
  if (measured <= *bound) return 0;
  // QuotaUtils.throttleTime: Math.round((O - T) / T x W).
  const double throttle = (measured - *bound) / *bound * static_cast<double>(rate.window_size_ms(now_ms));
  const auto ms = static_cast<int64_t>(std::floor(throttle + 0.5));
  // ClientRequestQuotaManager: boundedThrottleTime, at most one quota window.
  if (type_ == QuotaType::request) return std::min(ms, config_.window_ms);
  return ms;
}

void ClientQuotaManager::record_no_throttle(const std::string& client_id, double value, int64_t now_ms) {
  if (!enabled_) return;
  sensors_.try_emplace(client_id, config_).first->second.record(value, now_ms);
}

std::optional<double> ClientQuotaManager::max_value_in_quota_window(const std::string& client_id) const {
  const std::optional<double> bound = quota_for(client_id);
  if (!bound) return std::nullopt;
  return *bound * static_cast<double>(config_.samples - 1) * static_cast<double>(config_.window_ms) / 1000.0;
}

double ClientQuotaManager::measured_rate(const std::string& client_id, int64_t now_ms) {
  const auto it = sensors_.find(client_id);
  return it == sensors_.end() ? 0.0 : it->second.measure(now_ms);
}

}  // namespace kafkasim::kafka
