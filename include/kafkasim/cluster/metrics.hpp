// What a run measures: produce latency (intended send -> ack) and end-to-end latency (intended send -> the
// consumer's poll returns the record) in high-dynamic-range histograms, record and byte counts, and a per-second
// time series with named columns. Records sent before the warm-up ends are counted but excluded from the
// summary's latency percentiles (a warm-up period fills caches and pipelines); the time series still shows the
// latency of the warm-up intervals.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "kafkasim/sim/histogram.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::cluster {

// Why records failed, one count per RecordOutcome other than acked (kafka/producer/sender.hpp): the exception a
// Kafka producer's callback would receive.
struct FailureCounts {
  uint64_t delivery_timeout = 0;  // TimeoutException: delivery.timeout.ms passed since the batch was created
  uint64_t broker_error = 0;      // a non-retriable broker error, or retries exhausted
  uint64_t buffer_exhausted = 0;  // BufferExhaustedException: blocked in send() longer than max.block.ms
  uint64_t record_too_large = 0;  // RecordTooLargeException from send(): over max.request.size or buffer.memory
  uint64_t unknown_topic = 0;
  uint64_t producer_closed = 0;
  // broker_error by the Kafka error the producer's callback got (Errors' names, e.g. INVALID_RECORD).
  std::map<std::string, uint64_t> broker_errors;
};

struct LatencySummary {
  uint64_t count = 0;
  double p50_ms = 0, p75_ms = 0, p95_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
};

LatencySummary summarise(const sim::Histogram& latencies_ns);

// Kafka's broker request metrics (kafka.network:type=RequestMetrics, RequestChannel.Request.updateRequestMetrics) for
// the request types of the data path. A request's life at a broker, in Kafka's terms:
//   start             the network thread has read and parsed the request and hands it to the request queue
//   dequeue           an I/O thread takes it from the queue
//   local complete    the I/O thread is done with it (KafkaApis.handle returned: the append written, the fetch read)
//   response complete its response exists (at once, or when the produce/fetch purgatory completes it)
//   response dequeue  the connection's network thread takes the response
//   end               the response's last byte has been written (for acks=0, which has no response: when handled)
// RequestQueueTimeMs = dequeue − start, LocalTimeMs = local complete − dequeue, RemoteTimeMs = response complete −
// local complete, ResponseQueueTimeMs = response dequeue − response complete, ResponseSendTimeMs = end − response
// dequeue, TotalTimeMs = end − start (the five parts add up to it).
enum class RequestKind : uint8_t {
  produce = 0,
  fetch_consumer = 1,
  fetch_follower = 2,
  init_producer_id = 3,  // an idempotent producer's id
  find_coordinator = 4,  // a consumer's coordinator lookup
  offset_commit = 5,     // at the group coordinator
  list_offsets = 6,      // a consumer's offset reset
  offset_fetch = 7,      // a consumer's committed offsets, at the group coordinator
};
inline constexpr size_t kRequestKinds = 8;
// Kafka's metric tag: request=Produce, FetchConsumer, FetchFollower, InitProducerId, FindCoordinator, OffsetCommit,
// ListOffsets, OffsetFetch.
const char* request_kind_name(RequestKind kind);

// SimTime::max() until it happens.
struct RequestTimes {
  sim::SimTime start = sim::SimTime::max();
  sim::SimTime dequeue = sim::SimTime::max();
  sim::SimTime local_complete = sim::SimTime::max();
  sim::SimTime response_complete = sim::SimTime::max();
  sim::SimTime response_dequeue = sim::SimTime::max();
};

struct RequestTimeSummary {
  uint64_t count = 0;   // requests that ended after the warm-up
  double per_s = 0;     // count / the measured window
  LatencySummary total, request_queue, local, remote, response_queue, response_send;
};

class RequestMetrics {
 public:
  explicit RequestMetrics(sim::SimTime warmup_end) : warmup_end_(warmup_end) {}
  // A request of `kind` that ended at `end`; only requests that end after the warm-up enter the percentiles.
  void on_completed(RequestKind kind, const RequestTimes& times, sim::SimTime end);
  // Requests of `kind` that ended since the last call (any time, warm-up included): for time-series rows.
  uint64_t take_interval_count(RequestKind kind);
  RequestTimeSummary summary(RequestKind kind, sim::Duration window) const;

 private:
  struct PerKind {
    uint64_t measured = 0;
    uint64_t interval = 0;
    sim::Histogram total, request_queue, local, remote, response_queue, response_send;
  };
  sim::SimTime warmup_end_;
  PerKind kinds_[kRequestKinds];
};

class RunMetrics {
 public:
  explicit RunMetrics(sim::SimTime warmup_end) : warmup_end_(warmup_end) {}

  void on_sent(uint64_t bytes) {
    ++records_sent_;
    bytes_sent_ += bytes;
  }
  void on_acked(sim::SimTime intended_send, sim::SimTime now, uint64_t bytes);
  // `cause` is the FailureCounts member to count it under; `broker_error` names the error of a broker_error.
  void on_failed(uint64_t FailureCounts::*cause, std::string_view broker_error = {}) {
    ++records_failed_;
    ++(failures_.*cause);
    if (cause == &FailureCounts::broker_error) ++failures_.broker_errors[std::string(broker_error)];
  }
  void on_consumed(sim::SimTime intended_send, sim::SimTime now, uint64_t bytes);

  uint64_t records_sent() const { return records_sent_; }
  uint64_t records_acked() const { return records_acked_; }
  uint64_t records_failed() const { return records_failed_; }
  const FailureCounts& failures() const { return failures_; }
  uint64_t records_consumed() const { return records_consumed_; }
  // Records polled after the warm-up (the consumers' throughput window), whenever they were sent.
  uint64_t records_consumed_after_warmup() const { return records_consumed_measured_; }
  // Value bytes of those records (the producers' throughput counts the same).
  uint64_t bytes_consumed_after_warmup() const { return bytes_consumed_measured_; }
  uint64_t bytes_acked() const { return bytes_acked_; }
  // Acked records and bytes after the warm-up (the throughput window).
  uint64_t records_acked_after_warmup() const { return records_acked_measured_; }
  uint64_t bytes_acked_after_warmup() const { return bytes_acked_measured_; }
  sim::SimTime warmup_end() const { return warmup_end_; }

  const sim::Histogram& produce_latency_ns() const { return produce_; }
  const sim::Histogram& end_to_end_latency_ns() const { return end_to_end_; }
  // Since the last call: for per-second time-series rows. Records acked during the warm-up are all in it (the
  // warm-up rows show their own percentiles); records acked after it only if they were sent after it.
  sim::Histogram take_interval_produce_latency();
  uint64_t take_interval_acked_bytes();

 private:
  sim::SimTime warmup_end_;
  uint64_t records_sent_ = 0, bytes_sent_ = 0;
  uint64_t records_acked_ = 0, bytes_acked_ = 0;
  uint64_t records_acked_measured_ = 0, bytes_acked_measured_ = 0;
  uint64_t records_failed_ = 0;
  FailureCounts failures_;
  uint64_t records_consumed_ = 0, records_consumed_measured_ = 0, bytes_consumed_measured_ = 0;
  sim::Histogram produce_;
  sim::Histogram end_to_end_;
  sim::Histogram interval_produce_;
  uint64_t interval_acked_bytes_ = 0;
};

// Rows of named numeric columns, one per sampled instant, written as CSV. Column order is the order of first
// appearance, so the file layout is deterministic.
class TimeSeries {
 public:
  void begin_row(sim::SimTime at);
  void set(const std::string& column, double value);
  void write_csv(std::ostream& out) const;
  size_t rows() const { return rows_.size(); }
  double value(size_t row, const std::string& column) const;  // NaN when unset

 private:
  std::vector<std::string> columns_;
  std::map<std::string, size_t> index_;
  std::vector<std::pair<sim::SimTime, std::vector<double>>> rows_;
};

}  // namespace kafkasim::cluster
