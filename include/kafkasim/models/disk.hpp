// Storage-device models behind the BlockDevice seam: a mechanical hard disk (HDD) and a flash device
// (SATA SSD / NVMe). Source: reference/hardware-models.md §1 (HDD) and §2 (SSD/NVMe); section numbers below
// refer to that file.
//
// ## Common structure (DiskModel)
// A device has `units` identical servers and one queue. A request waits in the queue until the queue
// discipline picks it and a unit is free, holds that unit for its service time, then completes from an
// engine event. A flush (IoOp::kFlush) is exclusive: it starts only once every earlier request has
// completed, and nothing starts while it is in service (Linux issues FLUSH CACHE after the writes it
// covers have completed, so the device never overlaps them).
//
// ## HDD (HddDisk), one mechanical server (§1.1: one op at a time, even with NCQ)
//   t_svc  = m_lat · (t_cmd + t_seek(d) + t_settle·[write ∧ d > 0] + t_rot) + t_xfer / m_bw
//   t_seek(d) = 0 for d = 0,  T + α·d + β·√d for d ≥ 1                   (§1.2 option B, desim/chs.c form)
//     β·√N = 5A − (10/3)T − (5/3)F,   α·N = (8/3)F − 5A + (7/3)T        (§1.2, triangular "average seek")
//     so that t_seek(N) = F and E[t_seek(|c1 − c2|)] = A for independent uniform cylinders c1, c2.
//   d = |cyl(offset) − head cylinder|,  cyl(offset) = offset / ceil(capacity / N)   (linear LBA map)
//   t_rot  = ((θ(offset) − (t_ready mod T_rev)) mod T_rev): the wait, once command, seek and settle are done
//          at t_ready, for the target sector to come round. The head's angle is derived from the clock (ω·t,
//          §1.1: no state); T_rev = 60 s / RPM. Sector angles, as times into the revolution: the device is cut
//          into blocks of one outer-zone track, B_out·T_rev bytes; within a block the angle advances with the
//          transfer time from the block's start (so a transfer ends exactly where the next sector of its block
//          begins, and a request a gap g past the previous one's end waits the gap's transfer time), and each
//          block starts at a fixed pseudo-random angle (a hash of its index salted from the disk's Rng stream).
//          The real track layout, zone boundaries, skew and the file system's placement are not modelled; the
//          hash stands in for them without letting a crude linear map line up Kafka's far-apart streams in
//          patterns a real layout would not. Random offsets therefore wait T_rev/2 on average (4.167 ms at
//          7200 RPM, §1.2), and the drive can order its queue by rotational position (NCQ, below).
//   t_xfer = ∫ dx·C / B(x) with B(x) = B_out·√(1 − x(1 − k²)) (§1.2 zoned recording, x = offset / C)
//          = 2·bytes / (B_out·(√(1 − c·x0) + √(1 − c·x1))), c = 1 − k²   (exact; k = 1 gives bytes / B_out)
//   A request starting exactly at the end of the previous one is sequential: no seek, no rotation, only
//   t_cmd + t_xfer. Interleaved sequential streams therefore pay a seek and a rotation per switch (§1.4).
//   Flush: t_cmd + T_rev if any write completed since the last flush (the drive waits for the written
//   sectors to come round again, §1.5: QD1 write+flush ≈ 1/T_rev ≈ 120/s), else t_cmd.
//   Queue discipline: kFifo, or kElevator (default): Linux's mq-deadline (block/mq-deadline.c, §1.4), one
//   priority level. Reads and writes have a sorted list (by offset) and a FIFO each. Requests go out in batches
//   of one direction: a batch continues with the lowest offset at or above the end of the last request the
//   scheduler dispatched in that direction, up to fifo_batch (16) requests, and ends early when none is
//   higher. A new batch picks its direction: reads if any are queued, unless writes are queued too and reads
//   have already been preferred writes_starved (2) times in a row; then writes. It starts with the direction's
//   oldest request if that has expired (read_expire 500 ms, write_expire 5 s) or if nothing lies above the
//   direction's last position, else with the next request in sorted order. Under overload everything has
//   expired and the disk serves 16-request sorted runs from the oldest request. Requests queued behind a flush
//   wait for it (barrier). Not modelled from mq-deadline: I/O priorities and their ageing, request merging,
//   zoned-device write locking.
//   NCQ (§1.3 "NCQ depth 32"; SATA native command queuing, SAS TCQ): the host scheduler above hands requests to
//   the drive while it holds fewer than ncq_depth commands (the one in service counts: a tag is freed at
//   completion). When the mechanism is free the drive starts, among the commands it holds, the one with the
//   shortest positioning time t_cmd + t_seek + t_settle + t_rot from the head's cylinder and angle now
//   (shortest-positioning-time-first, the rotational position ordering of drive firmware; ties to the oldest).
//   A sequential continuation costs t_cmd only, so it goes first, as in the elevator. With ncq_depth = 1 the
//   drive serves the host's order (no NCQ). NCQ gives the host no deadline; firmware ages starved commands by
//   rules vendors do not publish (delays of up to 1–2 s were observed), so a command held longer than
//   ncq_max_wait goes next, oldest first, whatever its positioning. A flush is not queued (FLUSH CACHE is a
//   non-NCQ command): it waits for the drive to drain, as above.
//
// ## SSD / NVMe (SsdDisk), P parallel units and one shared transfer link (§2.2)
//   An op holds one of P units (dies / NVMe queue slots) for its whole service:
//     latency stage  L_dir · m_lat                    (firmware + NAND access; L_read, L_write)
//     transfer stage bytes / (B_dir · m_bw) on ONE link shared by reads and writes, first come first served
//                    in order of reaching it. Flash is not full duplex (§2.2), so at saturation
//                    X_read/B_read + X_write/B_write ≤ 1.
//   Hence QD1: t = L + bytes/B; small ops at QD ≥ P: IOPS = P/(L + bytes/B) (Little's law, §2.2 and check 13);
//   large ops: throughput → B_dir even at QD1 (the link is not split per unit).
//   Flush: one exclusive op of flush_latency_plp (≈ 0, capacitor-backed cache) or flush_latency_no_plp
//   (≈ 1.7 ms, consumer drive programming NAND + FTL metadata; Samsung 980: 574 fsync/s) (§2.2 fsync table).
//
// ## Cloud block volumes (EbsVolume): token buckets in front of a fixed latency (§2.5, AWS EBS)
//   A volume admits I/Os at its IOPS and throughput limits and completes each one a fixed latency after its
//   admission (L_read, L_write: "single-digit millisecond" for gp2/gp3), with up to P in flight.
//   Counting: an I/O costs ceil(bytes / U) operations (U = 256 KiB for gp2/gp3/io1/io2, 1 MiB for st1/sc1); an I/O that
//   starts where the previous one of its direction ended continues that run, and costs only the units it opens
//   (sequential small I/Os merged up to U). Throughput is charged in bytes, or for st1/sc1 a full U per operation
//   ("a random <= 1 MiB I/O costs a full 1 MiB credit").
//   Limits, each a leaky bucket: an I/O of cost c is admitted at a = max(now, next_iops, next_bytes), then
//     next_iops = a + c / R_iops,   R_iops = B_iops while the credit balance holds c, else R_base (baseline)
//     credits   = min(C_max, credits + R_base · (a - last)) - c      (refilled at the baseline, spent at use)
//   and the same for throughput (R in bytes/s, credits in bytes). gp2: R_base = clamp(3 IOPS/GiB, 100, 16,000),
//   B = 3,000 while credits last (only below 3,000), C_max = 5.4 M; gp3: its provisioned IOPS and throughput, no
//   burst; st1/sc1: throughput credits of 1 TiB per TiB. Draining a full gp2 bucket at 3,000 IOPS therefore takes
//   C_max / (3,000 - R_base) (2,000 s at 100 GiB, §6 check 12). A flush completes after L_write and costs nothing.
//   Admission is paced, not bursty: a volume never runs ahead of its rate within a second as AWS's may [A].
//   The instance (EbsInstanceLink, optional): an EBS-optimized instance's dedicated EBS bandwidth and IOPS, shared
//   by every volume attached to it ("volume throughput also capped by the instance's EBS-optimized limit ('smaller
//   of')", §2.5). Two more limits of the same form: an I/O is admitted when its volume's limits and the instance's
//   allow, and is charged to both (the instance counts the operations its volume counts [A], and the I/O's bytes).
//   Instances whose maximum is above their baseline hold it "for 30 minutes at least once every 24 hours" (AWS EC2
//   user guide, EBS-optimized instances): a bucket of (maximum - baseline) x 30 min, spent at use and refilled at the
//   baseline as a volume's [A], so a full bucket lasts 30 min at the maximum and an empty one refills, idle, in
//   (maximum - baseline) / baseline x 30 min (3.1 h for an m5.large). A stalled or slowed volume does not slow the
//   instance's limits.
//   Not modelled: latency jitter.
//
// ## What the models ignore
// HDD (§1.6): head switches and track skew (the sector angle is a hash, above), the drive's write cache and
// read-ahead (except as the flush cost above), thermal recalibration, remaps, SMR.
// SSD (§2.6): garbage collection and write amplification, SLC-cache cliffs, read disturb, TRIM, per-die addressing (any free unit serves any op), write buffering (writes pay L_write).
// Both: no per-op latency noise; requests are not merged or split.
//
// ## Faults (§1.7, §2.7): an overlay on the nominal parameters, which are never changed
// - set_slow(m_lat, m_bw): latency parts are multiplied by m_lat, bandwidths by m_bw (≤ 1 = slower); applies
//   to ops that start (SSD: reach the link) after the call.
// - stall_until(t) / stall_for(d): the device freezes. No op starts and no op completes before t; every op
//   in service has its remaining time pushed back by the stall's length (its completion is delayed by
//   exactly the stall). Submissions keep queueing; overlapping stalls extend each other.
// - set_full(true): writes complete with kNoSpace after the error latency; reads and flushes still work.
//   Writes that end beyond capacity_bytes() always complete with kNoSpace.
// - set_failed(true): every op that starts completes with kIoError after the error latency (HDD: t_cmd);
//   an op already in service completes at its scheduled time, with kIoError.
//
// Callers bound their outstanding requests (the page cache, NCQ/NVMe queue depth); more than
// max_queued_requests queued is a bug and asserts. A read past capacity is a bug too (nothing was written
// there).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kafkasim/models/block_device.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/stats.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::models {

// Counters over completed operations (since construction or the last reset_stats()).
struct DiskStats {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  uint64_t reads_ok = 0;
  uint64_t writes_ok = 0;
  uint64_t flushes_ok = 0;
  uint64_t bytes_read = 0;     // of reads that completed with kOk
  uint64_t bytes_written = 0;  // of writes that completed with kOk
  uint64_t no_space = 0;       // completions with kNoSpace
  uint64_t io_errors = 0;      // completions with kIoError
  int64_t latency_ns_sum = 0;  // submit -> completion, every completed op
  int64_t latency_ns_max = 0;
  int64_t service_ns_sum = 0;  // start of service -> completion (stall freezes included)
};

// Shared queue, units, faults and accounting of both device models. See the file comment.
class DiskModel : public BlockDevice {
 public:
  ~DiskModel() override = default;
  DiskModel(const DiskModel&) = delete;
  DiskModel& operator=(const DiskModel&) = delete;

  void submit(const IoRequest& request, IoCompletion done) override;
  uint64_t capacity_bytes() const override { return capacity_bytes_; }

  // Faults.
  void set_slow(double latency_multiplier, double bandwidth_multiplier);
  void stall_until(sim::SimTime end);
  void stall_for(sim::Duration length) { stall_until(engine_.now() + length); }
  void set_full(bool full) { full_ = full; }
  void set_failed(bool failed) { failed_ = failed; }
  bool stalled() const { return engine_.now() < stall_end_; }
  bool full() const { return full_; }
  bool failed() const { return failed_; }
  double latency_multiplier() const { return latency_multiplier_; }
  double bandwidth_multiplier() const { return bandwidth_multiplier_; }

  // Accounting.
  const DiskStats& stats() const { return stats_; }
  // Requests queued plus requests in service.
  uint32_t queue_depth() const { return static_cast<uint32_t>(queued_.size()) + busy_units_; }
  uint32_t in_service() const { return busy_units_; }
  uint32_t units() const { return static_cast<uint32_t>(units_.size()); }
  // Busy unit-time / (units · elapsed) since construction or the last reset_stats() (an EBS volume: or the share of
  // the time its IOPS or throughput limit was in use, whichever is more).
  virtual double utilisation() const { return meter_.utilisation(engine_.now()); }
  // Busy unit-nanoseconds accumulated since construction, reset_stats() or not (so that the difference of two
  // readings over units · elapsed is the utilisation over any interval; an EBS volume: the larger of that and its
  // busier limit's time since construction, times its units).
  virtual int64_t busy_unit_ns() const { return busy_before_window_ns_ + meter_.busy_server_ns(engine_.now()); }
  // Mean number of requests queued or in service since construction or the last reset_stats().
  double mean_queue_depth() const { return depth_mean_.mean(engine_.now()); }
  // Zeroes the counters and starts new utilisation / queue-depth windows (e.g. after a warm-up).
  void reset_stats();

 protected:
  // reset_stats() was called: a model resets its own counters.
  virtual void on_reset_stats() {}

 public:

 protected:
  struct Op {
    IoRequest request;
    IoCompletion done;
    sim::SimTime submitted;
    uint64_t seq = 0;
  };
  // The phase value that completes the op; models use other values for intermediate stages.
  static constexpr uint8_t kPhaseDone = 0;

  DiskModel(sim::Engine& engine, uint64_t capacity_bytes, uint32_t units, uint32_t max_queued_requests);

  sim::Engine& engine() const { return engine_; }
  const std::map<uint64_t, Op>& queued() const { return queued_; }
  const Op& queued_op(uint64_t seq) const;
  const Op& op_in(uint32_t unit) const;
  // Schedules the unit's next phase event at `at`; kPhaseDone completes the op with kOk.
  void arm(uint32_t unit, sim::SimTime at, uint8_t phase);

  // Queue-discipline hooks. next_to_start() returns the seq of the queued op to start next (default: FIFO);
  // it is called only when a unit is free and the device is not stalled, and may update the discipline's
  // own state (e.g. a drive's command queue). on_queued/on_dequeued let a discipline keep its own index.
  virtual void on_queued(const Op& /*op*/) {}
  virtual uint64_t next_to_start() { return queued_.begin()->first; }
  virtual void on_dequeued(const Op& /*op*/) {}
  // Latency of an op that fails at once (kIoError, kNoSpace), before the slow-down multiplier.
  virtual sim::Duration error_latency() const = 0;
  // Starts the nominal service of the op now held by `unit`; must arm() the unit.
  virtual void start_service(uint32_t unit) = 0;
  // An intermediate phase (not kPhaseDone) of `unit` fired; must arm() the unit again.
  virtual void on_phase(uint32_t unit, uint8_t phase);
  // Every pending phase event was pushed back by `freeze`; a model shifts its own future times too.
  virtual void on_freeze(sim::Duration /*freeze*/) {}

 private:
  struct Unit {
    bool busy = false;
    Op op;
    IoStatus status = IoStatus::kOk;
    uint8_t phase = kPhaseDone;
    sim::EventId event;
    sim::SimTime event_at;
    sim::SimTime started;
  };

  void dispatch();
  void start(uint32_t unit);
  void on_unit_event(uint32_t unit);
  void finish(uint32_t unit);
  void update_depth() { depth_mean_.set(engine_.now(), static_cast<double>(queue_depth())); }

  sim::Engine& engine_;
  uint64_t capacity_bytes_;
  uint32_t max_queued_requests_;
  std::vector<Unit> units_;
  uint32_t busy_units_ = 0;
  bool flush_in_service_ = false;
  std::map<uint64_t, Op> queued_;  // by arrival sequence number
  uint64_t next_seq_ = 0;

  double latency_multiplier_ = 1.0;
  double bandwidth_multiplier_ = 1.0;
  sim::SimTime stall_end_ = sim::SimTime::zero();
  bool full_ = false;
  bool failed_ = false;

  DiskStats stats_;
  sim::UtilisationMeter meter_;
  int64_t busy_before_window_ns_ = 0;  // the meter's busy time before its window (the last reset_stats())
  sim::TimeWeightedMean depth_mean_;
};

// ------------------------------------------------------------------------------------------------
// HDD

// t_seek(d) = T + α·d + β·√d for d ≥ 1, 0 for d = 0 (§1.2 option B).
class SeekCurve {
 public:
  // Solves α, β from track-to-track T, vendor average A (over all seek pairs: triangular distance pdf) and
  // full stroke F on N cylinders. Returns nullopt when no non-negative α, β exist, i.e. unless
  // (15A − 7T)/8 ≤ F ≤ 3A − 2T (§1.2).
  static std::optional<SeekCurve> fit_triangular(sim::Duration track_to_track, sim::Duration average,
                                                 sim::Duration full_stroke, uint64_t cylinders);
  double seconds(uint64_t distance_cylinders) const;
  sim::Duration at(uint64_t distance_cylinders) const {
    return sim::Duration::from_seconds_f(seconds(distance_cylinders));
  }
  double alpha_s_per_cylinder() const { return alpha_s_; }
  double beta_s_per_sqrt_cylinder() const { return beta_s_; }
  uint64_t cylinders() const { return cylinders_; }

 private:
  SeekCurve(double t_s, double alpha_s, double beta_s, uint64_t cylinders)
      : t_s_(t_s), alpha_s_(alpha_s), beta_s_(beta_s), cylinders_(cylinders) {}
  double t_s_;
  double alpha_s_;
  double beta_s_;
  uint64_t cylinders_;
};

enum class HddQueueDiscipline : uint8_t { kFifo, kElevator };

// Defaults: the recommended 7200 RPM set of §1.3 (Barracuda ES.2 seek figures, B_out = 250 MB/s, k = 0.5).
struct HddParams {
  uint64_t capacity_bytes = 4'000'000'000'000ULL;
  uint64_t cylinders = 153'352;  // Barracuda ES.2 (desim config), §1.2 example
  uint32_t rpm = 7200;
  sim::Duration track_to_track_seek = sim::Duration::from_us(800);
  sim::Duration average_seek = sim::Duration::from_us(8'500);  // read average; the vendor weighted mean
  sim::Duration full_stroke_seek = sim::Duration::from_ms(16);
  // Added to a write that seeks, so the write average is A_read + settle = 9.5 ms (§1.3 A_write).
  sim::Duration write_settle = sim::Duration::from_ms(1);
  sim::Duration command_overhead = sim::Duration::from_us(100);
  double outer_bandwidth_bytes_per_s = 250e6;
  double inner_to_outer_bandwidth_ratio = 0.5;  // k of §1.2; 1 = no zoning
  HddQueueDiscipline discipline = HddQueueDiscipline::kElevator;
  sim::Duration read_expire = sim::Duration::from_ms(500);  // mq-deadline read_expire = HZ/2
  sim::Duration write_expire = sim::Duration::from_s(5);    // mq-deadline write_expire = 5·HZ
  uint32_t fifo_batch = 16;                                  // mq-deadline fifo_batch
  uint32_t writes_starved = 2;                               // mq-deadline writes_starved
  // Commands the drive holds and orders by positioning time (§1.3: SATA queue depth 32); 1 = no NCQ.
  uint32_t ncq_depth = 32;
  // A command the drive has held this long starts next (firmware ageing; an assumption within the 1–2 s
  // worst delays observed with NCQ, see the file comment).
  sim::Duration ncq_max_wait = sim::Duration::from_s(1);
  uint32_t max_queued_requests = 1u << 16;
};

// Positioning counters of the HDD (nominal times, before the slow-down multiplier).
struct HddStats {
  uint64_t sequential_ops = 0;  // no seek, no rotation
  uint64_t positioned_ops = 0;  // paid a seek (possibly of distance 0) and a rotation
  int64_t seek_ns_sum = 0;
  int64_t rotation_ns_sum = 0;
};

class HddDisk final : public DiskModel {
 public:
  HddDisk(sim::Engine& engine, const HddParams& params, sim::Rng rng);

  const HddParams& params() const { return params_; }
  const SeekCurve& seek_curve() const { return seek_; }
  sim::Duration revolution() const { return revolution_; }
  uint64_t cylinder_of(uint64_t device_offset_bytes) const { return device_offset_bytes / cylinder_bytes_; }
  // The angle blocks of the rotation model: one outer-zone track, B_out·T_rev bytes.
  uint64_t track_bytes() const { return track_bytes_; }
  // Transfer time of [offset, offset + bytes) at the zoned bandwidth B(x), nominal.
  double transfer_seconds(uint64_t device_offset_bytes, uint64_t bytes) const;
  const HddStats& hdd_stats() const { return hdd_stats_; }

 protected:
  void on_queued(const Op& op) override;
  uint64_t next_to_start() override;
  void on_dequeued(const Op& op) override;
  sim::Duration error_latency() const override { return params_.command_overhead; }
  void start_service(uint32_t unit) override;

 private:
  bool elevator() const { return params_.discipline == HddQueueDiscipline::kElevator; }
  // The nominal positioning of `r` if it started at `now` (before the slow-down multiplier).
  struct Positioning {
    bool sequential = false;
    sim::Duration seek, settle, rotation;
  };
  Positioning position(const IoRequest& r, sim::SimTime now) const;
  // θ(offset): the target sector's angle as a time into the revolution, in [0, T_rev).
  int64_t sector_phase_ns(uint64_t device_offset_bytes) const;
  // The host scheduler's next request (mq-deadline or FIFO), a flush included, and the mq-deadline state after
  // dispatching it; nullopt when the scheduler holds none.
  struct HostPick {
    uint64_t seq = 0;
    uint8_t dir = 0;  // kReadDir / kWriteDir
    uint32_t batching = 0;
    uint32_t starved = 0;
  };
  static constexpr uint8_t kReadDir = 0, kWriteDir = 1;
  std::optional<HostPick> host_pick() const;
  // Takes a non-flush request out of the host scheduler's queue (it goes to the drive).
  void host_remove(const Op& op, const HostPick& pick);
  void make_eligible(const Op& op);
  // Hands requests to the drive while it has free command slots and the host's next is not a flush.
  void fill_drive_queue();

  HddParams params_;
  uint64_t sector_salt_;
  SeekCurve seek_;
  sim::Duration revolution_;
  uint64_t cylinder_bytes_;
  uint64_t track_bytes_;

  uint64_t head_cylinder_ = 0;
  uint64_t next_sequential_offset_ = UINT64_MAX;  // none before the first op
  bool written_since_flush_ = false;
  HddStats hdd_stats_;

  // mq-deadline's lists over the ops that may start (those queued before the oldest pending flush), per
  // direction: sorted by offset, and in arrival order (arrival order is expiry order within a direction).
  std::set<std::pair<uint64_t, uint64_t>> sorted_[2];  // (offset, seq)
  std::set<uint64_t> fifo_[2];                         // seqs, oldest first
  std::deque<uint64_t> held_;  // seqs from the oldest pending flush on, in arrival order
  uint32_t pending_flushes_ = 0;
  std::deque<uint64_t> host_fifo_;     // kFifo: the host's queue, in arrival order
  // Commands the drive holds, not in service, in the order it received them.
  struct DriveCommand {
    uint64_t seq;
    sim::SimTime received;
  };
  std::vector<DriveCommand> drive_queue_;
  // mq-deadline's position per direction: the end of the last request dispatched in it.
  uint64_t latest_pos_[2] = {0, 0};
  uint8_t last_dir_ = kReadDir;
  uint32_t batching_ = 0;  // requests dispatched in the current batch; 0: no batch yet
  uint32_t starved_ = 0;   // times in a row reads were preferred while writes waited
};

// ------------------------------------------------------------------------------------------------
// SSD / NVMe

// Defaults: a PCIe 4.0 datacenter NVMe drive with power-loss protection, in the range of the Samsung PM9A3
// (§2.3: 6.5 / 3.5 GB/s) and the NVMeVirt 970 PRO profile (§2.2: QD1 4 KiB read ≈ 60–80 µs).
struct SsdParams {
  uint64_t capacity_bytes = 3'840'000'000'000ULL;
  uint32_t parallel_units = 64;  // P: requests served concurrently (dies × planes, bounded by queue depth)
  sim::Duration read_latency = sim::Duration::from_us(70);
  sim::Duration write_latency = sim::Duration::from_us(20);  // into the drive's buffer
  double read_bandwidth_bytes_per_s = 6.5e9;
  double write_bandwidth_bytes_per_s = 3.5e9;
  sim::Duration error_latency = sim::Duration::from_us(20);  // firmware overhead (NVMeVirt ≈ 20 µs, §2.2)
  bool power_loss_protection = true;
  sim::Duration flush_latency_plp = sim::Duration::zero();  // §2.2: FLUSH ≈ no-op with PLP
  // §2.2: Samsung 980 fio randwrite fsync=1 QD1 = 574 IOPS ≈ 1.74 ms per write+fsync.
  sim::Duration flush_latency_no_plp = sim::Duration::from_us(1'700);
  uint32_t max_queued_requests = 1u << 16;
};

class SsdDisk final : public DiskModel {
 public:
  // `rng` is kept for per-op noise and GC models; the current model draws nothing from it.
  SsdDisk(sim::Engine& engine, const SsdParams& params, sim::Rng rng);

  const SsdParams& params() const { return params_; }
  sim::Duration flush_latency() const {
    return params_.power_loss_protection ? params_.flush_latency_plp : params_.flush_latency_no_plp;
  }

 protected:
  sim::Duration error_latency() const override { return params_.error_latency; }
  void start_service(uint32_t unit) override;
  void on_phase(uint32_t unit, uint8_t phase) override;
  void on_freeze(sim::Duration freeze) override;

 private:
  static constexpr uint8_t kPhaseTransfer = 1;

  SsdParams params_;
  sim::Rng rng_;
  sim::SimTime link_free_at_ = sim::SimTime::zero();
};

// ------------------------------------------------------------------------------------------------
// Cloud block volume (EBS)

// One rate limit of a volume: a baseline rate, a burst rate while the credit balance lasts, the balance's cap and
// its value at the start. burst == baseline (and no credits) is a fixed limit.
struct EbsBucket {
  double baseline_per_s = 0;
  double burst_per_s = 0;
  double credits_max = 0;
  double credits_initial = 0;
};

// Defaults: a gp3 volume of 1 TiB with the included 3,000 IOPS and 125 MiB/s (§2.5).
struct EbsParams {
  uint64_t capacity_bytes = uint64_t{1} << 40;
  uint32_t parallel_units = 64;                          // I/Os in flight at the volume [A]
  sim::Duration read_latency = sim::Duration::from_ms(1);   // [A] within "single-digit millisecond"
  sim::Duration write_latency = sim::Duration::from_ms(1);
  uint64_t io_unit_bytes = 256 * 1024;  // U: the largest I/O counted as one operation
  bool charge_whole_units = false;      // st1/sc1: throughput credit of U per operation, whatever its size
  EbsBucket iops{3000, 3000, 0, 0};
  EbsBucket throughput{125.0 * 1048576, 125.0 * 1048576, 0, 0};
  // gp2 between 170 and 334 GiB: the throughput burst holds only while IOPS credits last.
  bool throughput_burst_needs_iops_credits = false;
  uint32_t max_queued_requests = 1u << 16;
};

struct EbsStats {
  uint64_t operations = 0;       // I/O units charged (IOPS as the volume counts them)
  uint64_t admitted = 0;         // reads and writes admitted
  int64_t throttled_ns_sum = 0;  // their admission delays: how long each waited for the limits after a unit took it
  uint64_t instance_held = 0;    // of those, the ones the instance's limits admitted later than the volume's own allowed
};

// One paced limit: an admission of cost c at time a sets the earliest next admission to a + c / rate, with the rate
// the burst while the bucket holds c (or while another bucket allows, `burst_allowed`), else the baseline.
struct EbsRateLimit {
  EbsBucket bucket;
  double credits = 0;
  sim::SimTime credits_at;
  sim::SimTime next;         // the earliest admission of the next op
  int64_t spacing_ns = 0;    // the admissions' spacings so far
  // The spacings as intervals [admission, admission + spacing) that may reach past now: an admission can lie in the
  // future (paced, or held by another limit), and then with a gap before it when another limit held it.
  std::deque<std::pair<sim::SimTime, sim::SimTime>> ahead;

  EbsRateLimit() = default;
  EbsRateLimit(const EbsBucket& b, sim::SimTime now);
  // Busy time so far: the spacings less the parts of them after `now`.
  int64_t busy_ns(sim::SimTime now) const;
  // Brings the balance up to `at` (refilled at the baseline rate, capped).
  void refill(sim::SimTime at);
  // The balance at `at`, without changing the limit.
  double credits_at_time(sim::SimTime at) const;
  // Spends `cost` at `at`; returns the rate the next admission is paced at. `burst_allowed` false forces the baseline.
  double spend(double cost, sim::SimTime at, bool burst_allowed);
  // Paces the next admission `cost / rate` after `admit` (at or after `next` and `now`).
  void pace(sim::SimTime now, sim::SimTime admit, double cost, double rate);
  // A stall of `freeze` from `now` (the volume's on_freeze): the interval in progress lasts that much longer (the
  // limit counts as busy through the stall) and the later ones move with it.
  void freeze(sim::SimTime now, sim::Duration freeze);
};

// An EBS-optimized instance's limits on all its volumes together (AWS EC2 user guide, "Amazon EBS-optimized
// instances"): operations and bytes a second, each with a baseline and, for the instances that burst, a maximum
// while the bucket lasts.
struct EbsInstanceParams {
  EbsBucket iops;        // operations (as the volumes count them) a second
  EbsBucket throughput;  // bytes a second
};

struct EbsInstanceStats {
  uint64_t operations = 0;  // charged by its volumes
  uint64_t bytes = 0;
  uint64_t admitted = 0;
};

class EbsInstanceLink {
 public:
  EbsInstanceLink(sim::Engine& engine, const EbsInstanceParams& params);
  EbsInstanceLink(const EbsInstanceLink&) = delete;
  EbsInstanceLink& operator=(const EbsInstanceLink&) = delete;

  const EbsInstanceParams& params() const { return params_; }
  // What its limits admitted up to now, since construction or the last reset_stats(): an I/O is charged when its
  // volume starts it, for an admission that may lie ahead, and counted once that time has come.
  EbsInstanceStats stats() const;
  // The earliest admission the instance's limits allow at or after `at`.
  sim::SimTime earliest(sim::SimTime at) const { return sim::max(at, sim::max(iops_.next, throughput_.next)); }
  // Charges an I/O admitted at `admit` (at or after earliest()): `ops` operations and `bytes` bytes.
  void charge(sim::SimTime admit, uint64_t ops, uint64_t bytes);
  // CloudWatch's EBSIOBalance% and EBSByteBalance% / 100 now: the share of each bucket left, in [0, 1]; nullopt for a
  // limit without a burst.
  std::optional<double> io_balance() const;
  std::optional<double> byte_balance() const;
  // The busier of the two limits since construction or the last reset_stats(): a limit is busy for cost / rate after
  // each admission, so an instance held at its bandwidth is 100 % utilised.
  double utilisation() const;
  // The busier limit's busy time since construction (reset_stats() or not).
  int64_t busy_ns() const;
  // Zeroes the counters and starts a new utilisation window (e.g. after a warm-up); the limits and balances go on.
  void reset_stats();

 private:
  sim::Engine& engine_;
  EbsInstanceParams params_;
  EbsRateLimit iops_, throughput_;
  // Every charge since the window's start, and those whose admission is still ahead of the clock (in admission order).
  struct Pending {
    sim::SimTime admit;
    uint64_t operations = 0, bytes = 0;
  };
  EbsInstanceStats charged_;
  std::deque<Pending> pending_;
  sim::SimTime start_;
  int64_t iops_busy_at_start_ = 0, throughput_busy_at_start_ = 0;
};

class EbsVolume final : public DiskModel {
 public:
  EbsVolume(sim::Engine& engine, const EbsParams& params, sim::Rng rng);

  // Puts the volume behind an instance's limits (shared with the instance's other volumes); null: none.
  void attach_instance(EbsInstanceLink* instance) { instance_ = instance; }
  const EbsInstanceLink* instance() const { return instance_; }
  const EbsParams& params() const { return params_; }
  // Counted as AWS counts them, when their admission comes (an I/O is charged when it starts, for an admission the
  // limits may set ahead), since construction or the last reset_stats().
  EbsStats ebs_stats() const;
  // The balances now (refilled up to now), for outputs and tests.
  double iops_credits() const;
  double throughput_credits() const;
  // CloudWatch's BurstBalance / 100: the share of its burst bucket (gp2's I/O credits, st1/sc1's throughput credits)
  // the volume holds now, in [0, 1]; nullopt for a volume without one (gp3, gp2 of 1,000 GiB and more).
  std::optional<double> burst_balance() const;
  // The busier of the units and the two limits: a limit is busy for cost / rate after each admission, so a volume
  // held at its IOPS or throughput limit is 100 % utilised however few of its units are in use.
  double utilisation() const override;
  int64_t busy_unit_ns() const override;

 protected:
  sim::Duration error_latency() const override { return params_.write_latency; }
  void start_service(uint32_t unit) override;
  void on_freeze(sim::Duration freeze) override;

 private:
  void on_reset_stats() override;
  // The busiest limit's busy time since the window started.
  int64_t limit_busy_ns() const;

  EbsParams params_;
  EbsRateLimit iops_, throughput_;
  EbsInstanceLink* instance_ = nullptr;
  // Per direction (read, write): where the last I/O ended and how many bytes its merged run holds.
  uint64_t run_end_[2] = {UINT64_MAX, UINT64_MAX};
  uint64_t run_bytes_[2] = {0, 0};
  // Every charge since the window's start, and the charges whose admission is still ahead of the clock.
  struct Pending {
    sim::SimTime admit;
    EbsStats stats;  // what the charge added
  };
  EbsStats ebs_stats_;
  std::deque<Pending> pending_;
  sim::SimTime window_start_;
  int64_t iops_busy_at_window_ = 0, throughput_busy_at_window_ = 0;
};

}  // namespace kafkasim::models
