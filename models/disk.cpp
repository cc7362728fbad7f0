// HDD and SSD/NVMe device models; the equations and fault semantics are in include/kafkasim/models/disk.hpp.
#include "kafkasim/models/disk.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::models {

using sim::Duration;
using sim::SimTime;

// ------------------------------------------------------------------------------------------------
// DiskModel

DiskModel::DiskModel(sim::Engine& engine, uint64_t capacity_bytes, uint32_t units, uint32_t max_queued_requests)
    : engine_(engine),
      capacity_bytes_(capacity_bytes),
      max_queued_requests_(max_queued_requests),
      units_(units),
      meter_(units, engine.now()),
      depth_mean_(engine.now()) {
  KS_ASSERT_GT(capacity_bytes, 0u);
  KS_ASSERT_GT(units, 0u);
  KS_ASSERT_GT(max_queued_requests, 0u);
}

void DiskModel::submit(const IoRequest& request, IoCompletion done) {
  KS_ASSERT(done != nullptr);
  KS_ASSERT_LT(queued_.size(), static_cast<size_t>(max_queued_requests_));
  if (request.op == IoOp::kFlush) {
    KS_ASSERT_EQ(request.bytes, 0u);
  } else {
    KS_ASSERT_GT(request.bytes, 0u);
    // A write past the end is an expected condition (ENOSPC); a read there is a caller bug.
    if (request.op == IoOp::kRead) {
      KS_ASSERT_LT(request.device_offset_bytes, capacity_bytes_);
      KS_ASSERT_LE(request.bytes, capacity_bytes_ - request.device_offset_bytes);
    }
  }
  const uint64_t seq = next_seq_++;
  auto [it, inserted] = queued_.emplace(seq, Op{request, std::move(done), engine_.now(), seq});
  KS_ASSERT(inserted);
  ++stats_.submitted;
  on_queued(it->second);
  update_depth();
  dispatch();
}

void DiskModel::set_slow(double latency_multiplier, double bandwidth_multiplier) {
  KS_ASSERT_GT(latency_multiplier, 0.0);
  KS_ASSERT_GT(bandwidth_multiplier, 0.0);
  latency_multiplier_ = latency_multiplier;
  bandwidth_multiplier_ = bandwidth_multiplier;
}

void DiskModel::stall_until(SimTime end) {
  const SimTime now = engine_.now();
  // The part of [now, end) not already covered by a running stall is the extra freeze.
  const SimTime frontier = sim::max(now, stall_end_);
  if (end <= frontier) return;
  const Duration freeze = end - frontier;
  for (uint32_t i = 0; i < units_.size(); ++i) {
    Unit& u = units_[i];
    if (!u.busy) continue;
    KS_ASSERT(engine_.cancel(u.event));
    u.event_at += freeze;
    u.event = engine_.schedule_at(u.event_at, [this, i] { on_unit_event(i); });
  }
  on_freeze(freeze);
  stall_end_ = end;
  // Ops queued during the stall start when it ends; a resume left over from a shorter stall does nothing
  // because dispatch() checks stalled().
  engine_.schedule_at(end, [this] { dispatch(); });
}

void DiskModel::reset_stats() {
  on_reset_stats();
  const SimTime now = engine_.now();
  stats_ = DiskStats{};
  busy_before_window_ns_ += meter_.busy_server_ns(now);
  meter_.reset_window(now);
  depth_mean_ = sim::TimeWeightedMean(now);
  depth_mean_.set(now, static_cast<double>(queue_depth()));
}

const DiskModel::Op& DiskModel::queued_op(uint64_t seq) const {
  const auto it = queued_.find(seq);
  KS_ASSERT(it != queued_.end());
  return it->second;
}

const DiskModel::Op& DiskModel::op_in(uint32_t unit) const {
  KS_ASSERT_LT(unit, units_.size());
  KS_ASSERT(units_[unit].busy);
  return units_[unit].op;
}

void DiskModel::arm(uint32_t unit, SimTime at, uint8_t phase) {
  KS_ASSERT_LT(unit, units_.size());
  KS_ASSERT_GE(at, engine_.now());
  Unit& u = units_[unit];
  KS_ASSERT(u.busy);
  KS_ASSERT(!engine_.is_pending(u.event));
  u.phase = phase;
  u.event_at = at;
  u.event = engine_.schedule_at(at, [this, unit] { on_unit_event(unit); });
}

void DiskModel::on_phase(uint32_t unit, uint8_t phase) {
  // A model that arms intermediate phases must override this.
  KS_ASSERT_MSG(false, "unexpected phase " + std::to_string(phase) + " on unit " + std::to_string(unit));
}

void DiskModel::dispatch() {
  if (stalled()) return;
  // Each pass starts one op on a free unit, so the loop is bounded by the number of units.
  for (size_t pass = 0; pass < units_.size(); ++pass) {
    if (queued_.empty() || flush_in_service_ || busy_units_ == units_.size()) return;
    const uint64_t seq = next_to_start();
    auto it = queued_.find(seq);
    KS_ASSERT(it != queued_.end());
    // A flush covers every earlier write, so it waits until the device has drained.
    if (it->second.request.op == IoOp::kFlush && busy_units_ > 0) return;
    uint32_t unit = 0;
    while (units_[unit].busy) ++unit;
    Unit& u = units_[unit];
    u.busy = true;
    u.op = std::move(it->second);
    queued_.erase(it);
    on_dequeued(u.op);
    ++busy_units_;
    if (u.op.request.op == IoOp::kFlush) flush_in_service_ = true;
    meter_.set_busy(engine_.now(), busy_units_);
    start(unit);
  }
}

void DiskModel::start(uint32_t unit) {
  Unit& u = units_[unit];
  const IoRequest& r = u.op.request;
  u.started = engine_.now();
  u.status = IoStatus::kOk;
  if (failed_) {
    u.status = IoStatus::kIoError;
  } else if (r.op == IoOp::kWrite &&
             (full_ || r.bytes > capacity_bytes_ || r.device_offset_bytes > capacity_bytes_ - r.bytes)) {
    u.status = IoStatus::kNoSpace;
  }
  if (u.status != IoStatus::kOk) {
    arm(unit, engine_.now() + error_latency().scaled(latency_multiplier_), kPhaseDone);
    return;
  }
  start_service(unit);
  KS_ASSERT(engine_.is_pending(u.event));
}

void DiskModel::on_unit_event(uint32_t unit) {
  KS_ASSERT_LT(unit, units_.size());
  Unit& u = units_[unit];
  KS_ASSERT(u.busy);
  KS_ASSERT_EQ(u.event_at, engine_.now());
  // Completions never happen inside a stall: stall_until() pushed every pending event past its end.
  KS_ASSERT(!stalled());
  u.event = sim::EventId{};
  if (u.phase == kPhaseDone) {
    finish(unit);
  } else {
    on_phase(unit, u.phase);
  }
}

void DiskModel::finish(uint32_t unit) {
  Unit& u = units_[unit];
  const SimTime now = engine_.now();
  IoStatus status = u.status;
  if (failed_) status = IoStatus::kIoError;  // failed while the op was in service
  const IoRequest r = u.op.request;
  const int64_t latency_ns = (now - u.op.submitted).ns();
  ++stats_.completed;
  stats_.latency_ns_sum += latency_ns;
  stats_.latency_ns_max = std::max(stats_.latency_ns_max, latency_ns);
  stats_.service_ns_sum += (now - u.started).ns();
  switch (status) {
    case IoStatus::kOk:
      if (r.op == IoOp::kRead) {
        ++stats_.reads_ok;
        stats_.bytes_read += r.bytes;
      } else if (r.op == IoOp::kWrite) {
        ++stats_.writes_ok;
        stats_.bytes_written += r.bytes;
      } else {
        ++stats_.flushes_ok;
      }
      break;
    case IoStatus::kNoSpace:
      ++stats_.no_space;
      break;
    case IoStatus::kIoError:
      ++stats_.io_errors;
      break;
  }
  IoCompletion done = std::move(u.op.done);
  u.op = Op{};
  u.busy = false;
  KS_ASSERT_GT(busy_units_, 0u);
  --busy_units_;
  if (r.op == IoOp::kFlush) flush_in_service_ = false;
  meter_.set_busy(now, busy_units_);
  // Start the next op before telling the caller: the device does not wait for the host to react, so a
  // closed-loop stream's next request competes with whatever is already queued (§1.4).
  dispatch();
  update_depth();
  done(status);
}

// ------------------------------------------------------------------------------------------------
// SeekCurve

std::optional<SeekCurve> SeekCurve::fit_triangular(Duration track_to_track, Duration average, Duration full_stroke,
                                                   uint64_t cylinders) {
  KS_ASSERT_GE(cylinders, 2u);
  KS_ASSERT_GT(track_to_track, Duration::zero());
  const double t = track_to_track.seconds_f();
  const double a = average.seconds_f();
  const double f = full_stroke.seconds_f();
  const double n = static_cast<double>(cylinders);
  // §1.2: with E[d] = N/3 and E[√d] = (8/15)√N, seek(N) = F and E[seek] = A give these two equations.
  const double beta_sqrt_n = 5.0 * a - (10.0 / 3.0) * t - (5.0 / 3.0) * f;
  const double alpha_n = (8.0 / 3.0) * f - 5.0 * a + (7.0 / 3.0) * t;
  // A negative coefficient would make the curve non-monotonic: the datasheet triple is inconsistent.
  if (beta_sqrt_n < 0.0 || alpha_n < 0.0) return std::nullopt;
  return SeekCurve(t, alpha_n / n, beta_sqrt_n / std::sqrt(n), cylinders);
}

double SeekCurve::seconds(uint64_t distance_cylinders) const {
  KS_ASSERT_LE(distance_cylinders, cylinders_);
  if (distance_cylinders == 0) return 0.0;
  const double d = static_cast<double>(distance_cylinders);
  return t_s_ + alpha_s_ * d + beta_s_ * std::sqrt(d);
}

// ------------------------------------------------------------------------------------------------
// HddDisk

namespace {
SeekCurve fit_or_die(const HddParams& p) {
  auto curve = SeekCurve::fit_triangular(p.track_to_track_seek, p.average_seek, p.full_stroke_seek, p.cylinders);
  KS_ASSERT_MSG(curve.has_value(), "seek parameters violate (15A - 7T)/8 <= F <= 3A - 2T (hardware-models.md §1.2)");
  return *curve;
}
}  // namespace

HddDisk::HddDisk(sim::Engine& engine, const HddParams& params, sim::Rng rng)
    : DiskModel(engine, params.capacity_bytes, 1, params.max_queued_requests),
      params_(params),
      sector_salt_(rng.next_u64()),
      seek_(fit_or_die(params)),
      revolution_(Duration::from_ns(60'000'000'000LL / static_cast<int64_t>(params.rpm == 0 ? 1 : params.rpm))),
      cylinder_bytes_((params.capacity_bytes + params.cylinders - 1) / params.cylinders),
      track_bytes_(std::max<uint64_t>(
          1, static_cast<uint64_t>(params.outer_bandwidth_bytes_per_s * static_cast<double>(revolution_.ns()) / 1e9))) {
  KS_ASSERT_GT(params.rpm, 0u);
  KS_ASSERT_GT(params.fifo_batch, 0u);
  KS_ASSERT_GT(params.ncq_depth, 0u);
  KS_ASSERT_GT(params.outer_bandwidth_bytes_per_s, 0.0);
  KS_ASSERT_GT(params.inner_to_outer_bandwidth_ratio, 0.0);
  KS_ASSERT_LE(params.inner_to_outer_bandwidth_ratio, 1.0);
  KS_ASSERT_LE(params.capacity_bytes / cylinder_bytes_, params.cylinders);
}

double HddDisk::transfer_seconds(uint64_t device_offset_bytes, uint64_t bytes) const {
  KS_ASSERT_LE(device_offset_bytes, params_.capacity_bytes);
  KS_ASSERT_LE(bytes, params_.capacity_bytes - device_offset_bytes);
  const double cap = static_cast<double>(params_.capacity_bytes);
  const double k = params_.inner_to_outer_bandwidth_ratio;
  const double c = 1.0 - k * k;
  const double x0 = static_cast<double>(device_offset_bytes) / cap;
  const double x1 = static_cast<double>(device_offset_bytes + bytes) / cap;
  // ∫ C dx / B(x) over [x0, x1], written as a ratio so that a 4 KiB op on a 16 TB disk does not lose its
  // digits to the difference of two nearly equal square roots.
  return 2.0 * static_cast<double>(bytes) /
         (params_.outer_bandwidth_bytes_per_s * (std::sqrt(1.0 - c * x0) + std::sqrt(1.0 - c * x1)));
}

int64_t HddDisk::sector_phase_ns(uint64_t device_offset_bytes) const {
  const int64_t rev = revolution_.ns();
  const uint64_t block = device_offset_bytes / track_bytes_;
  uint64_t state = sector_salt_ ^ block;
  const int64_t block_start_phase = static_cast<int64_t>(sim::splitmix64(state) % static_cast<uint64_t>(rev));
  const uint64_t block_start = block * track_bytes_;
  const auto within = static_cast<int64_t>(
      std::llround(transfer_seconds(block_start, device_offset_bytes - block_start) * 1e9));
  return (block_start_phase + within % rev) % rev;
}

HddDisk::Positioning HddDisk::position(const IoRequest& r, SimTime now) const {
  Positioning p;
  if (r.device_offset_bytes == next_sequential_offset_) {
    p.sequential = true;
    return p;
  }
  const uint64_t cylinder = cylinder_of(r.device_offset_bytes);
  const uint64_t distance = cylinder > head_cylinder_ ? cylinder - head_cylinder_ : head_cylinder_ - cylinder;
  p.seek = seek_.at(distance);
  p.settle = (r.op == IoOp::kWrite && distance > 0) ? params_.write_settle : Duration::zero();
  // The head's angle when the arm has settled, as a time offset into the revolution (ω·t, §1.1).
  const int64_t rev = revolution_.ns();
  const int64_t ready = (now + params_.command_overhead + p.seek + p.settle).ns();
  const int64_t head_phase = ready % rev;
  const int64_t target = sector_phase_ns(r.device_offset_bytes);
  p.rotation = Duration::from_ns(target >= head_phase ? target - head_phase : target - head_phase + rev);
  return p;
}

void HddDisk::make_eligible(const Op& op) {
  const uint8_t dir = op.request.op == IoOp::kRead ? kReadDir : kWriteDir;
  sorted_[dir].emplace(op.request.device_offset_bytes, op.seq);
  fifo_[dir].insert(op.seq);
}

void HddDisk::on_queued(const Op& op) {
  if (!elevator()) {
    host_fifo_.push_back(op.seq);
  } else if (pending_flushes_ > 0 || op.request.op == IoOp::kFlush) {
    held_.push_back(op.seq);
    if (op.request.op == IoOp::kFlush) ++pending_flushes_;
  } else {
    make_eligible(op);
  }
  fill_drive_queue();
}

std::optional<HddDisk::HostPick> HddDisk::host_pick() const {
  if (!elevator()) {
    if (host_fifo_.empty()) return std::nullopt;
    return HostPick{host_fifo_.front(), kReadDir, 0, 0};
  }
  // The lowest offset at or above the direction's position, if any.
  const auto from_pos = [&](uint8_t dir) -> std::optional<uint64_t> {
    const auto it = sorted_[dir].lower_bound({latest_pos_[dir], 0});
    if (it == sorted_[dir].end()) return std::nullopt;
    return it->second;
  };
  // A batch under way continues in its direction while it has a request above its position.
  if (batching_ > 0 && batching_ < params_.fifo_batch) {
    if (const auto next = from_pos(last_dir_)) return HostPick{*next, last_dir_, batching_ + 1, starved_};
  }
  const bool reads = !fifo_[kReadDir].empty();
  const bool writes = !fifo_[kWriteDir].empty();
  if (!reads && !writes) {
    // Only a flush barrier (and what follows it) can be queued.
    if (held_.empty()) return std::nullopt;
    KS_ASSERT(queued_op(held_.front()).request.op == IoOp::kFlush);
    return HostPick{held_.front(), kWriteDir, 0, starved_};
  }
  // A new batch: reads first, unless writes have waited through writes_starved read batches already.
  uint8_t dir = kReadDir;
  uint32_t starved = starved_;
  if (!reads || (writes && starved_ >= params_.writes_starved)) {
    dir = kWriteDir;
    starved = 0;
  } else if (writes) {
    ++starved;
  }
  const uint64_t oldest = *fifo_[dir].begin();
  const sim::Duration expire = dir == kReadDir ? params_.read_expire : params_.write_expire;
  const bool expired = engine().now() - queued_op(oldest).submitted >= expire;
  const std::optional<uint64_t> next = from_pos(dir);
  return HostPick{expired || !next ? oldest : *next, dir, 1, starved};
}

void HddDisk::host_remove(const Op& op, const HostPick& pick) {
  KS_ASSERT(op.request.op != IoOp::kFlush);
  KS_ASSERT_EQ(op.seq, pick.seq);
  if (!elevator()) {
    KS_ASSERT(!host_fifo_.empty());
    KS_ASSERT_EQ(host_fifo_.front(), op.seq);
    host_fifo_.pop_front();
    return;
  }
  const uint8_t dir = op.request.op == IoOp::kRead ? kReadDir : kWriteDir;
  KS_ASSERT_EQ(dir, pick.dir);
  KS_ASSERT_EQ(sorted_[dir].erase({op.request.device_offset_bytes, op.seq}), 1u);
  KS_ASSERT_EQ(fifo_[dir].erase(op.seq), 1u);
  latest_pos_[dir] = op.request.device_offset_bytes + op.request.bytes;
  last_dir_ = dir;
  batching_ = pick.batching;
  starved_ = pick.starved;
}

void HddDisk::fill_drive_queue() {
  while (drive_queue_.size() + in_service() < params_.ncq_depth) {
    const std::optional<HostPick> next = host_pick();
    if (!next) return;
    const Op& op = queued_op(next->seq);
    // FLUSH CACHE is not an NCQ command: it is issued when the drive has drained (next_to_start).
    if (op.request.op == IoOp::kFlush) return;
    host_remove(op, *next);
    drive_queue_.push_back(DriveCommand{op.seq, engine().now()});
  }
}

uint64_t HddDisk::next_to_start() {
  fill_drive_queue();
  if (drive_queue_.empty()) {
    // The drive has drained and the host's next request is a flush.
    const std::optional<HostPick> flush = host_pick();
    KS_ASSERT(flush.has_value());
    KS_ASSERT(queued_op(flush->seq).request.op == IoOp::kFlush);
    return flush->seq;
  }
  const SimTime now = engine().now();
  // Ageing: the oldest command goes first once it has waited ncq_max_wait (commands are kept in order).
  if (now - drive_queue_.front().received >= params_.ncq_max_wait) return drive_queue_.front().seq;
  // Shortest positioning time first among the commands the drive holds; ties to the oldest.
  uint64_t best = 0;
  Duration best_time = Duration::max();
  for (const DriveCommand& c : drive_queue_) {
    const Positioning p = position(queued_op(c.seq).request, now);
    const Duration t = p.seek + p.settle + p.rotation;
    if (t < best_time || (t == best_time && c.seq < best)) {
      best = c.seq;
      best_time = t;
    }
  }
  return best;
}

void HddDisk::on_dequeued(const Op& op) {
  if (op.request.op != IoOp::kFlush) {
    const auto it = std::find_if(drive_queue_.begin(), drive_queue_.end(),
                                 [&](const DriveCommand& c) { return c.seq == op.seq; });
    KS_ASSERT(it != drive_queue_.end());
    drive_queue_.erase(it);
    return;
  }
  if (!elevator()) {
    KS_ASSERT(!host_fifo_.empty());
    KS_ASSERT_EQ(host_fifo_.front(), op.seq);
    host_fifo_.pop_front();
    return;
  }
  KS_ASSERT(!held_.empty());
  KS_ASSERT_EQ(held_.front(), op.seq);
  KS_ASSERT_GT(pending_flushes_, 0u);
  held_.pop_front();
  --pending_flushes_;
  // Release the ops queued behind this flush, up to the next flush barrier (bounded by the queue size).
  while (!held_.empty()) {
    const Op& next = queued_op(held_.front());
    if (next.request.op == IoOp::kFlush) break;
    make_eligible(next);
    held_.pop_front();
  }
}

void HddDisk::start_service(uint32_t unit) {
  const IoRequest& r = op_in(unit).request;
  const SimTime now = engine().now();
  const double lat = latency_multiplier();
  if (r.op == IoOp::kFlush) {
    // §1.5: the cached writes reach the media about one revolution later.
    Duration t = params_.command_overhead;
    if (written_since_flush_) t += revolution_;
    written_since_flush_ = false;
    arm(unit, now + t.scaled(lat), kPhaseDone);
    return;
  }
  const Positioning p = position(r, now);
  double positioning_s = params_.command_overhead.seconds_f();
  if (p.sequential) {
    ++hdd_stats_.sequential_ops;
  } else {
    ++hdd_stats_.positioned_ops;
    hdd_stats_.seek_ns_sum += p.seek.ns();
    hdd_stats_.rotation_ns_sum += p.rotation.ns();
    positioning_s += (p.seek + p.settle + p.rotation).seconds_f();
  }
  const double transfer_s = transfer_seconds(r.device_offset_bytes, r.bytes) / bandwidth_multiplier();
  const Duration service =
      sim::max(Duration::from_ns(1), Duration::from_seconds_f(positioning_s * lat + transfer_s));
  KS_ASSERT_GT(service, Duration::zero());
  head_cylinder_ = cylinder_of(r.device_offset_bytes + r.bytes - 1);
  next_sequential_offset_ = r.device_offset_bytes + r.bytes;
  if (r.op == IoOp::kWrite) written_since_flush_ = true;
  arm(unit, now + service, kPhaseDone);
}

// ------------------------------------------------------------------------------------------------
// SsdDisk

SsdDisk::SsdDisk(sim::Engine& engine, const SsdParams& params, sim::Rng rng)
    : DiskModel(engine, params.capacity_bytes, params.parallel_units, params.max_queued_requests),
      params_(params),
      rng_(rng),
      link_free_at_(engine.now()) {
  KS_ASSERT_GT(params.read_bandwidth_bytes_per_s, 0.0);
  KS_ASSERT_GT(params.write_bandwidth_bytes_per_s, 0.0);
  KS_ASSERT_GE(params.read_latency, Duration::zero());
  KS_ASSERT_GE(params.write_latency, Duration::zero());
  KS_ASSERT_GE(params.flush_latency_plp, Duration::zero());
  KS_ASSERT_GE(params.flush_latency_no_plp, Duration::zero());
}

void SsdDisk::start_service(uint32_t unit) {
  const IoRequest& r = op_in(unit).request;
  const SimTime now = engine().now();
  const double lat = latency_multiplier();
  switch (r.op) {
    case IoOp::kFlush:
      arm(unit, now + flush_latency().scaled(lat), kPhaseDone);
      return;
    case IoOp::kRead:
      arm(unit, now + params_.read_latency.scaled(lat), kPhaseTransfer);
      return;
    case IoOp::kWrite:
      arm(unit, now + params_.write_latency.scaled(lat), kPhaseTransfer);
      return;
  }
  KS_ASSERT_MSG(false, "unknown IoOp");
}

void SsdDisk::on_phase(uint32_t unit, uint8_t phase) {
  KS_ASSERT_EQ(phase, kPhaseTransfer);
  const IoRequest& r = op_in(unit).request;
  KS_ASSERT(r.op != IoOp::kFlush);
  const SimTime now = engine().now();
  const double bandwidth = (r.op == IoOp::kRead ? params_.read_bandwidth_bytes_per_s
                                                : params_.write_bandwidth_bytes_per_s) *
                           bandwidth_multiplier();
  // One link, first come first served in order of arrival at it (events fire in time order).
  const SimTime transfer_start = sim::max(now, link_free_at_);
  // Rounded to the nearest nanosecond but never zero, so that moving data always takes time.
  const Duration transfer =
      sim::max(Duration::from_ns(1), Duration::from_seconds_f(static_cast<double>(r.bytes) / bandwidth));
  link_free_at_ = transfer_start + transfer;
  arm(unit, link_free_at_, kPhaseDone);
}

void SsdDisk::on_freeze(Duration freeze) {
  KS_ASSERT_GT(freeze, Duration::zero());
  // Transfers already reserved on the link were pushed back with their ops; later ones queue behind them.
  if (link_free_at_ > engine().now()) link_free_at_ += freeze;
}

// ------------------------------------------------------------------------------------------------
// EbsVolume

EbsRateLimit::EbsRateLimit(const EbsBucket& b, SimTime now)
    : bucket(b), credits(b.credits_initial), credits_at(now), next(now) {
  KS_ASSERT_GT(b.baseline_per_s, 0.0);
  KS_ASSERT_GE(b.burst_per_s, b.baseline_per_s);
  KS_ASSERT_GE(b.credits_max, 0.0);
  KS_ASSERT_GE(b.credits_initial, 0.0);
  KS_ASSERT_LE(b.credits_initial, b.credits_max);
}

void EbsRateLimit::refill(SimTime at) {
  if (at <= credits_at) return;
  credits = std::min(bucket.credits_max, credits + bucket.baseline_per_s * (at - credits_at).seconds_f());
  credits_at = at;
}

double EbsRateLimit::credits_at_time(SimTime at) const {
  EbsRateLimit l = *this;
  l.refill(at);
  return l.credits;
}

double EbsRateLimit::spend(double cost, SimTime at, bool burst_allowed) {
  refill(at);
  const bool has_bucket = bucket.credits_max > 0;
  // A burst without a bucket of its own is allowed by another's (gp2's throughput by its IOPS credits).
  const bool burst = burst_allowed && bucket.burst_per_s > bucket.baseline_per_s && (!has_bucket || credits >= cost);
  // Spent at use and refilled at the baseline: at the baseline rate the balance stays where it is.
  if (has_bucket) credits -= cost;
  return burst ? bucket.burst_per_s : bucket.baseline_per_s;
}

void EbsRateLimit::pace(SimTime now, SimTime admit, double cost, double rate) {
  const Duration spacing = Duration::from_seconds_f(cost / rate);
  KS_ASSERT_LE(next, admit);
  KS_ASSERT_LE(now, admit);
  while (!ahead.empty() && ahead.front().second <= now) ahead.pop_front();
  next = admit + spacing;
  spacing_ns += spacing.ns();
  if (spacing > Duration::zero()) ahead.emplace_back(admit, next);
}

int64_t EbsRateLimit::busy_ns(SimTime now) const {
  int64_t after_now = 0;
  for (const auto& [start, end] : ahead)
    if (end > now) after_now += (end - sim::max(start, now)).ns();
  return spacing_ns - after_now;
}

void EbsRateLimit::freeze(SimTime now, Duration freeze) {
  bool extended = false;
  for (auto& [start, end] : ahead) {
    if (end <= now) continue;
    if (start <= now) {
      end += freeze;
      extended = true;
    } else {
      start += freeze;
      end += freeze;
    }
  }
  if (next > now) next += freeze;
  if (extended) spacing_ns += freeze.ns();
}

// ------------------------------------------------------------------------------------------------
// EbsInstanceLink

EbsInstanceLink::EbsInstanceLink(sim::Engine& engine, const EbsInstanceParams& params)
    : engine_(engine),
      params_(params),
      iops_(params.iops, engine.now()),
      throughput_(params.throughput, engine.now()),
      start_(engine.now()) {
  // An instance's burst always has its own bucket.
  for (const EbsBucket* b : {&params.iops, &params.throughput})
    KS_ASSERT(b->burst_per_s == b->baseline_per_s || b->credits_max > 0);
}

void EbsInstanceLink::charge(SimTime admit, uint64_t ops, uint64_t bytes) {
  KS_ASSERT_GE(admit, earliest(admit));
  if (ops > 0) {
    const double cost = static_cast<double>(ops);
    iops_.pace(engine_.now(), admit, cost, iops_.spend(cost, admit, true));
  }
  if (bytes > 0) {
    const double cost = static_cast<double>(bytes);
    throughput_.pace(engine_.now(), admit, cost, throughput_.spend(cost, admit, true));
  }
  while (!pending_.empty() && pending_.front().admit <= engine_.now()) pending_.pop_front();
  charged_.operations += ops;
  charged_.bytes += bytes;
  ++charged_.admitted;
  if (admit > engine_.now()) pending_.push_back({admit, ops, bytes});
}

EbsInstanceStats EbsInstanceLink::stats() const {
  EbsInstanceStats s = charged_;
  for (const Pending& p : pending_) {
    if (p.admit <= engine_.now()) continue;
    s.operations -= p.operations;
    s.bytes -= p.bytes;
    --s.admitted;
  }
  return s;
}

std::optional<double> EbsInstanceLink::io_balance() const {
  if (params_.iops.credits_max <= 0) return std::nullopt;
  return std::clamp(iops_.credits_at_time(engine_.now()) / params_.iops.credits_max, 0.0, 1.0);
}

std::optional<double> EbsInstanceLink::byte_balance() const {
  if (params_.throughput.credits_max <= 0) return std::nullopt;
  return std::clamp(throughput_.credits_at_time(engine_.now()) / params_.throughput.credits_max, 0.0, 1.0);
}

int64_t EbsInstanceLink::busy_ns() const {
  const SimTime now = engine_.now();
  return std::max(iops_.busy_ns(now), throughput_.busy_ns(now));
}

void EbsInstanceLink::reset_stats() {
  const SimTime now = engine_.now();
  // The charges still ahead of the clock are admitted in the new window.
  charged_ = EbsInstanceStats{};
  for (const Pending& p : pending_) {
    if (p.admit <= now) continue;
    charged_.operations += p.operations;
    charged_.bytes += p.bytes;
    ++charged_.admitted;
  }
  start_ = now;
  iops_busy_at_start_ = iops_.busy_ns(now);
  throughput_busy_at_start_ = throughput_.busy_ns(now);
}

double EbsInstanceLink::utilisation() const {
  const SimTime now = engine_.now();
  const int64_t window = (now - start_).ns();
  const int64_t busy =
      std::max(iops_.busy_ns(now) - iops_busy_at_start_, throughput_.busy_ns(now) - throughput_busy_at_start_);
  return window > 0 ? static_cast<double>(busy) / static_cast<double>(window) : 0.0;
}

// ------------------------------------------------------------------------------------------------
// EbsVolume

EbsVolume::EbsVolume(sim::Engine& engine, const EbsParams& params, sim::Rng /*rng*/)
    : DiskModel(engine, params.capacity_bytes, params.parallel_units, params.max_queued_requests),
      params_(params),
      iops_(params.iops, engine.now()),
      throughput_(params.throughput, engine.now()),
      window_start_(engine.now()) {
  KS_ASSERT_GT(params.io_unit_bytes, 0u);
  KS_ASSERT_GE(params.read_latency, Duration::zero());
  KS_ASSERT_GE(params.write_latency, Duration::zero());
  // A burst needs a bucket, or for throughput the IOPS bucket's say.
  KS_ASSERT(params.iops.burst_per_s == params.iops.baseline_per_s || params.iops.credits_max > 0);
  KS_ASSERT(params.throughput.burst_per_s == params.throughput.baseline_per_s || params.throughput.credits_max > 0 ||
            params.throughput_burst_needs_iops_credits);
}

double EbsVolume::iops_credits() const { return iops_.credits_at_time(engine().now()); }

double EbsVolume::throughput_credits() const { return throughput_.credits_at_time(engine().now()); }

void EbsVolume::start_service(uint32_t unit) {
  const IoRequest& r = op_in(unit).request;
  const SimTime now = engine().now();
  const double lat = latency_multiplier();
  if (r.op == IoOp::kFlush) {
    arm(unit, now + params_.write_latency.scaled(lat), kPhaseDone);
    return;
  }
  // The operations this I/O opens: a continuation of its direction's run fills that run's last unit first.
  const size_t dir = r.op == IoOp::kRead ? 0 : 1;
  const uint64_t unit_bytes = params_.io_unit_bytes;
  const uint64_t before = r.device_offset_bytes == run_end_[dir] ? run_bytes_[dir] : 0;
  const uint64_t after = before + r.bytes;
  const uint64_t ops = (after + unit_bytes - 1) / unit_bytes - (before + unit_bytes - 1) / unit_bytes;
  run_end_[dir] = r.device_offset_bytes + r.bytes;
  run_bytes_[dir] = after;
  const double bytes_cost =
      params_.charge_whole_units ? static_cast<double>(ops * unit_bytes) : static_cast<double>(r.bytes);
  // Admitted when both limits allow (and the instance's, if any), each pacing the next admission by this one's cost
  // at its current rate.
  const SimTime own = sim::max(now, sim::max(iops_.next, throughput_.next));
  const SimTime admit = instance_ != nullptr ? instance_->earliest(own) : own;
  const double m = bandwidth_multiplier();
  const bool iops_burst_left = iops_.credits_at_time(admit) >= static_cast<double>(ops);
  if (ops > 0) iops_.pace(now, admit, static_cast<double>(ops), iops_.spend(static_cast<double>(ops), admit, true) * m);
  if (bytes_cost > 0) {
    const bool burst_allowed = !params_.throughput_burst_needs_iops_credits || iops_burst_left;
    throughput_.pace(now, admit, bytes_cost, throughput_.spend(bytes_cost, admit, burst_allowed) * m);
  }
  EbsStats charge;
  if (instance_ != nullptr) {
    instance_->charge(admit, ops, r.bytes);
    if (admit > own) charge.instance_held = 1;
  }
  charge.operations = ops;
  charge.admitted = 1;
  charge.throttled_ns_sum = (admit - now).ns();
  ebs_stats_.operations += charge.operations;
  ebs_stats_.admitted += charge.admitted;
  ebs_stats_.throttled_ns_sum += charge.throttled_ns_sum;
  ebs_stats_.instance_held += charge.instance_held;
  while (!pending_.empty() && pending_.front().admit <= now) pending_.pop_front();
  if (admit > now) pending_.push_back({admit, charge});
  const Duration latency = r.op == IoOp::kRead ? params_.read_latency : params_.write_latency;
  arm(unit, admit + latency.scaled(lat), kPhaseDone);
}

std::optional<double> EbsVolume::burst_balance() const {
  if (params_.iops.credits_max > 0) return std::clamp(iops_credits() / params_.iops.credits_max, 0.0, 1.0);
  if (params_.throughput.credits_max > 0)
    return std::clamp(throughput_credits() / params_.throughput.credits_max, 0.0, 1.0);
  return std::nullopt;
}

int64_t EbsVolume::limit_busy_ns() const {
  const SimTime now = engine().now();
  return std::max(iops_.busy_ns(now) - iops_busy_at_window_, throughput_.busy_ns(now) - throughput_busy_at_window_);
}

double EbsVolume::utilisation() const {
  const int64_t window = (engine().now() - window_start_).ns();
  if (window <= 0) return DiskModel::utilisation();
  return std::max(DiskModel::utilisation(), static_cast<double>(limit_busy_ns()) / static_cast<double>(window));
}

int64_t EbsVolume::busy_unit_ns() const {
  const SimTime now = engine().now();
  const int64_t limits = std::max(iops_.busy_ns(now), throughput_.busy_ns(now));
  return std::max(DiskModel::busy_unit_ns(), limits * static_cast<int64_t>(units()));
}

EbsStats EbsVolume::ebs_stats() const {
  EbsStats s = ebs_stats_;
  for (const Pending& p : pending_) {
    if (p.admit <= engine().now()) continue;
    s.operations -= p.stats.operations;
    s.admitted -= p.stats.admitted;
    s.throttled_ns_sum -= p.stats.throttled_ns_sum;
    s.instance_held -= p.stats.instance_held;
  }
  return s;
}

void EbsVolume::on_reset_stats() {
  const SimTime now = engine().now();
  // The charges still ahead of the clock are admitted in the new window.
  ebs_stats_ = EbsStats{};
  for (const Pending& p : pending_) {
    if (p.admit <= now) continue;
    ebs_stats_.operations += p.stats.operations;
    ebs_stats_.admitted += p.stats.admitted;
    ebs_stats_.throttled_ns_sum += p.stats.throttled_ns_sum;
    ebs_stats_.instance_held += p.stats.instance_held;
  }
  window_start_ = now;
  iops_busy_at_window_ = iops_.busy_ns(now);
  throughput_busy_at_window_ = throughput_.busy_ns(now);
}

void EbsVolume::on_freeze(Duration freeze) {
  KS_ASSERT_GT(freeze, Duration::zero());
  // Admissions already paced into the future move with the stall; the balances keep refilling through it.
  const SimTime now = engine().now();
  for (EbsRateLimit* l : {&iops_, &throughput_}) l->freeze(now, freeze);
  for (Pending& p : pending_)
    if (p.admit > now) p.admit += freeze;
}

}  // namespace kafkasim::models
