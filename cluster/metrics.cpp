#include "kafkasim/cluster/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

LatencySummary summarise(const sim::Histogram& h) {
  LatencySummary s;
  s.count = h.count();
  if (s.count == 0) return s;
  const auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  s.p50_ms = ms(h.percentile(50));
  s.p75_ms = ms(h.percentile(75));
  s.p95_ms = ms(h.percentile(95));
  s.p99_ms = ms(h.percentile(99));
  s.p999_ms = ms(h.percentile(99.9));
  s.max_ms = ms(h.max());
  s.mean_ms = h.mean() / 1e6;
  return s;
}

const char* request_kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::produce: return "Produce";
    case RequestKind::fetch_consumer: return "FetchConsumer";
    case RequestKind::fetch_follower: return "FetchFollower";
    case RequestKind::init_producer_id: return "InitProducerId";
    case RequestKind::find_coordinator: return "FindCoordinator";
    case RequestKind::offset_commit: return "OffsetCommit";
    case RequestKind::list_offsets: return "ListOffsets";
    case RequestKind::offset_fetch: return "OffsetFetch";
  }
  KS_ASSERT_MSG(false, "unknown request kind");
  return "";
}

void RequestMetrics::on_completed(RequestKind kind, const RequestTimes& t, sim::SimTime end) {
  KS_ASSERT_LE(t.start, t.dequeue);
  KS_ASSERT_LE(t.dequeue, t.local_complete);
  KS_ASSERT_LE(t.local_complete, t.response_complete);
  KS_ASSERT_LE(t.response_complete, t.response_dequeue);
  KS_ASSERT_LE(t.response_dequeue, end);
  PerKind& k = kinds_[static_cast<size_t>(kind)];
  ++k.interval;
  if (end < warmup_end_) return;
  ++k.measured;
  k.total.record((end - t.start).ns());
  k.request_queue.record((t.dequeue - t.start).ns());
  k.local.record((t.local_complete - t.dequeue).ns());
  k.remote.record((t.response_complete - t.local_complete).ns());
  k.response_queue.record((t.response_dequeue - t.response_complete).ns());
  k.response_send.record((end - t.response_dequeue).ns());
}

uint64_t RequestMetrics::take_interval_count(RequestKind kind) {
  return std::exchange(kinds_[static_cast<size_t>(kind)].interval, 0);
}

RequestTimeSummary RequestMetrics::summary(RequestKind kind, sim::Duration window) const {
  const PerKind& k = kinds_[static_cast<size_t>(kind)];
  RequestTimeSummary s;
  s.count = k.measured;
  s.per_s = window > sim::Duration::zero() ? static_cast<double>(k.measured) / window.seconds_f() : 0.0;
  s.total = summarise(k.total);
  s.request_queue = summarise(k.request_queue);
  s.local = summarise(k.local);
  s.remote = summarise(k.remote);
  s.response_queue = summarise(k.response_queue);
  s.response_send = summarise(k.response_send);
  return s;
}

void RunMetrics::on_acked(sim::SimTime intended_send, sim::SimTime now, uint64_t bytes) {
  KS_ASSERT_GE(now, intended_send);
  ++records_acked_;
  bytes_acked_ += bytes;
  if (intended_send >= warmup_end_) produce_.record((now - intended_send).ns());
  // The time series shows every interval: a row of the warm-up has the percentiles of the records acked in it;
  // after the warm-up a row counts, like the summary, only records sent after the warm-up.
  if (intended_send >= warmup_end_ || now < warmup_end_) interval_produce_.record((now - intended_send).ns());
  if (now >= warmup_end_) {
    ++records_acked_measured_;
    bytes_acked_measured_ += bytes;
  }
  interval_acked_bytes_ += bytes;
}

void RunMetrics::on_consumed(sim::SimTime intended_send, sim::SimTime now, uint64_t bytes) {
  KS_ASSERT_GE(now, intended_send);
  ++records_consumed_;
  if (now >= warmup_end_) {
    ++records_consumed_measured_;
    bytes_consumed_measured_ += bytes;
  }
  if (intended_send >= warmup_end_) end_to_end_.record((now - intended_send).ns());
}

sim::Histogram RunMetrics::take_interval_produce_latency() {
  sim::Histogram h = std::move(interval_produce_);
  interval_produce_ = sim::Histogram();
  return h;
}

uint64_t RunMetrics::take_interval_acked_bytes() {
  const uint64_t b = interval_acked_bytes_;
  interval_acked_bytes_ = 0;
  return b;
}

void TimeSeries::begin_row(sim::SimTime at) {
  KS_ASSERT(rows_.empty() || rows_.back().first <= at);
  rows_.emplace_back(at, std::vector<double>(columns_.size(), std::numeric_limits<double>::quiet_NaN()));
}

void TimeSeries::set(const std::string& column, double value) {
  KS_ASSERT(!rows_.empty());
  auto it = index_.find(column);
  if (it == index_.end()) {
    it = index_.emplace(column, columns_.size()).first;
    columns_.push_back(column);
  }
  auto& row = rows_.back().second;
  if (row.size() < columns_.size()) row.resize(columns_.size(), std::numeric_limits<double>::quiet_NaN());
  row[it->second] = value;
}

double TimeSeries::value(size_t row, const std::string& column) const {
  KS_ASSERT_LT(row, rows_.size());
  const auto it = index_.find(column);
  if (it == index_.end() || it->second >= rows_[row].second.size()) return std::numeric_limits<double>::quiet_NaN();
  return rows_[row].second[it->second];
}

void TimeSeries::write_csv(std::ostream& out) const {
  out << "time_s";
  for (const auto& c : columns_) out << ',' << c;
  out << '\n';
  char buf[64];
  for (const auto& [at, values] : rows_) {
    std::snprintf(buf, sizeof buf, "%.3f", at.seconds_f());
    out << buf;
    for (size_t i = 0; i < columns_.size(); ++i) {
      out << ',';
      if (i < values.size() && !std::isnan(values[i])) {
        // %.17g round-trips a double; the same value always prints the same text.
        std::snprintf(buf, sizeof buf, "%.17g", values[i]);
        out << buf;
      }
    }
    out << '\n';
  }
}

}  // namespace kafkasim::cluster
