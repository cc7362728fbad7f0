// The Linux page cache and dirty writeback under a Kafka broker (reference/hardware-models.md §3).
//
// What it computes
// ----------------
// Memory. One per-host budget `avail` = cache_bytes, or ram_bytes − reserved_bytes (JVM heap, other RSS and
// the kernel's totalreserve folded into `reserved_bytes`). It stands for free + active_file + inactive_file,
// i.e. global_dirtyable_memory() of mm/page-writeback.c (§3.2). Residency is tracked in extents of
// `extent_bytes` (default 64 KiB, §3.6 DES recommendation; 4 KiB gives page-exact residency). A resident
// extent costs the budget its pages from the extent's start to the highest byte written or read in it (a
// whole extent except at a file's end: a 10 KiB index file costs 3 pages, not 64 KiB). Dirty and writeback amounts are counted in 4 KiB pages covering
// the dirty byte span of each extent, as the kernel counts NR_FILE_DIRTY / NR_WRITEBACK.
//
// Thresholds (§3.2, in pages, integer arithmetic as the kernel):
//   thresh = dirty_bytes/PAGE        or dirty_ratio·avail/100
//   bg     = dirty_background_bytes/PAGE or dirty_background_ratio·avail/100;  bg ≥ thresh ⇒ bg = thresh/2
//   limit  = dom.dirty_limit: follows thresh up at once, down by 1/32 of the gap per ≥200 ms, never below dirty
//   freerun = (thresh + bg)/2,  setpoint = (freerun + limit)/2,  dirty = NR_FILE_DIRTY + NR_WRITEBACK
// Position ratio (§3.3, pos_ratio_polynom): pos = 1 + ((setpoint − dirty)/(limit − setpoint))^3 clamped to
// [0, 2], pos = 0 at or above the limit.
//
// Writer throttling (§3.3, the fluid simplification): a write dirties its pages at once and then "returns"
// (its `done` fires) after a pause:
//   dirty ≤ freerun               → no pause (done is the next event)
//   freerun < dirty < limit       → pause = bytes / (dirty_ratelimit·pos), at most max_pause
//   dirty ≥ limit                 → sleep max_pause and re-evaluate (blocked; loops until below the limit)
//   max_pause = min(200 ms, wb_dirty/(8·write_bw) + 1 jiffy)           (wb_max_pause, MAX_PAUSE = HZ/5)
// Per device: write_bw = (bw_inst·Δt + write_bw·(P − Δt))/P, P = 4.096 s, measured over ≥200 ms stretches
// of continuous background writeback; dirty_ratelimit moves toward balanced = task_ratelimit·write_bw/
// dirty_rate with the kernel's step rule (wb_update_dirty_ratelimit), updated only while writers are
// throttled. Both start at INIT_BW = 100 MiB/s.
//
// Writeback (§3.4): one flusher per device. Background writeback runs while NR_FILE_DIRTY > bg and is kicked
// by a write that finds it so (and checked at every periodic wakeup). Periodic (kupdate) wakeups happen on
// the grid k·dirty_writeback_centisecs of simulated time while anything is dirty, and write files whose
// dirtied_when ≤ now − dirty_expire_centisecs. Files are visited oldest-dirtied first, round robin; a visit
// writes at most chunk = roundDown(min(write_bw/2, dirty_limit/8) + 4 MiB, 4 MiB) from the file's cyclic
// writeback cursor (writeback_chunk_size; MIN_WRITEBACK_PAGES, DIRTY_SCOPE). One chunk per device is in
// flight at a time; its device writes are contiguous runs of at most max_io_bytes. A file's dirtied_when is
// the time it went from clean to dirty (inode granularity, as the kernel), kept while it stays dirty.
//
// Reads (§3.5): resident ranges are hits and complete at the next event; misses go to the device and
// complete when the last needed read does. Readahead state is per file (shared by all readers, as Kafka's
// one FileChannel per segment): a sync window starts at a miss that is at file start, contiguous with the
// previous read or larger than the maximum (init size: r = roundup_pow2(req); r ≤ max/32 → 4r; r ≤ max/4 →
// 2r; else max); otherwise the page-cache history before the miss decides sequential (window min(history +
// req, max)) or random (the request alone). Reading the marked page start + size − async_size triggers the
// next window (size < max/16 → ×4, ≤ max/2 → ×2, else max). Windows are clipped at end of file.
//
// LRU (§3.6): two lists of extents. New extents enter the inactive head; an access marks an inactive extent
// referenced, a second access promotes it to the active head; writes do not mark accesses (FGP_WRITEBEGIN);
// reclaim evicts clean extents from the inactive tail, rotating dirty/writeback ones to the head, and
// demotes the active tail while inactive·int_sqrt(10·GB) < active (inactive_is_low).
//
// What it ignores: per-task think-time credit and min_pause batching in balance_dirty_pages (every write
// call pauses for its own bytes), the per-device (wb) correction of pos_ratio and wb shares of the
// thresholds (one global domain), real-time task bonuses, the 100 ms writeback time slice (the chunk limit
// bounds a visit instead), read-before-write of partially overwritten uncached pages, stable-page waits,
// workingset refault detection (shadow entries), NUMA, memcg, THP/folios, swap, direct-reclaim CPU cost.
// Pages below the first byte written into a fresh extent (a write into the middle of an evicted extent) are
// counted as in memory. Large reads (> max
// window) read exactly the request and do not pipeline further readahead.
//
// Fault semantics:
//   - memory pressure: set_cache_bytes() shrinks avail, so thresholds shrink (throttling starts earlier;
//     the dirty limit decays toward the new threshold at 1/32 per 200 ms) and clean pages are reclaimed.
//   - drop_caches(): evicts every clean, idle extent (echo 1 > /proc/sys/vm/drop_caches); dirty stays.
//   - slow or stalled device (a device-model fault): write-back completions slow down, write_bw estimate
//     falls, dirty rises to the limit and writers block, in max_pause steps, until writeback drains.
//   - device errors: a failed writeback marks the pages clean and records the error on the file; the next
//     fsync() returns it (errseq semantics). A failed read completes the read with that status.
//   - crash(): every page is dropped and every pending callback is forgotten (never fires). Dirty data, and
//     data under writeback whose I/O has not completed, is lost and reported per file.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "kafkasim/models/block_device.hpp"
#include "kafkasim/sim/callback.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::models {

inline constexpr uint64_t kPageBytes = 4096;

// Identifies one file (a log segment, an index) on a host.
struct FileId {
  uint64_t value = 0;
  friend auto operator<=>(const FileId&, const FileId&) = default;
};

struct PageCacheParams {
  // Memory budget: cache_bytes if non-zero, else ram_bytes − reserved_bytes (§3.6: RAM − JVM heap − RSS).
  uint64_t ram_bytes = 0;
  uint64_t reserved_bytes = 0;
  uint64_t cache_bytes = 0;
  // Residency granularity; a power of two, at least one page.
  uint64_t extent_bytes = 64 * 1024;
  // vm.dirty_* sysctls with upstream defaults (mm/page-writeback.c, vm.rst). A non-zero `_bytes` overrides
  // its ratio.
  uint32_t dirty_background_ratio = 10;
  uint64_t dirty_background_bytes = 0;
  uint32_t dirty_ratio = 20;
  uint64_t dirty_bytes = 0;
  uint32_t dirty_expire_centisecs = 3000;
  uint32_t dirty_writeback_centisecs = 500;  // 0 disables periodic writeback
  // /sys/block/<dev>/queue/read_ahead_kb (VM_READAHEAD_PAGES = 128 KiB); 0 disables readahead.
  uint64_t read_ahead_kb = 128;
  // Largest single device request the cache issues [A] (a typical max_sectors_kb is 512–1280 KiB).
  uint64_t max_io_bytes = 1024 * 1024;
  // Starting write_bw and dirty_ratelimit: INIT_BW = 100 MiB/s in mm/page-writeback.c.
  uint64_t initial_write_bw_bytes_per_s = 100ULL * 1024 * 1024;
  // One jiffy, added to max_pause (CONFIG_HZ=250).
  sim::Duration jiffy = sim::Duration::from_ms(4);
};

// Pure functions of §3 (exposed for tests and for cluster-level sizing).
namespace page_cache_math {

struct DirtyThresholds {
  uint64_t background_bytes = 0;
  uint64_t thresh_bytes = 0;
  uint64_t limit_bytes = 0;
  uint64_t freerun_bytes = 0;
  uint64_t setpoint_bytes = 0;
};

// Thresholds for `avail_bytes` of dirtyable memory with limit = thresh (domain_dirty_limits()).
DirtyThresholds dirty_thresholds(uint64_t avail_bytes, const PageCacheParams& params);
// Same with an explicit dom.dirty_limit (≥ thresh normally); freerun and setpoint follow.
DirtyThresholds with_limit(DirtyThresholds t, uint64_t limit_bytes);
// pos_ratio_polynom: 1 + ((setpoint − dirty)/(limit − setpoint))^3 in [0, 2]; 0 at or above the limit.
double pos_ratio(uint64_t dirty_bytes, const DirtyThresholds& t);
// writeback_chunk_size for background/kupdate work, in bytes: roundDown(min(bw/2, limit/8) + 4 MiB, 4 MiB).
uint64_t writeback_chunk_bytes(uint64_t write_bw_bytes_per_s, uint64_t dirty_limit_bytes);
// wb_max_pause: min(200 ms, wb_dirty/(8·write_bw) + jiffy).
sim::Duration max_pause(uint64_t wb_dirty_bytes, uint64_t write_bw_bytes_per_s, sim::Duration jiffy);
// get_init_ra_size / get_next_ra_size (mm/readahead.c), in pages.
uint64_t readahead_init_pages(uint64_t request_pages, uint64_t max_pages);
uint64_t readahead_next_pages(uint64_t current_pages, uint64_t max_pages);
// inactive_is_low's inactive_ratio = int_sqrt(10·GB) (1 below 1 GB) for a file LRU of `lru_bytes`.
uint64_t lru_inactive_ratio(uint64_t lru_bytes);
uint64_t int_sqrt(uint64_t x);

}  // namespace page_cache_math

struct ReadResult {
  uint64_t hit_bytes = 0;
  uint64_t miss_bytes = 0;
  IoStatus status = IoStatus::kOk;
};
using ReadDone = std::function<void(const ReadResult&)>;
using FsyncDone = std::function<void(IoStatus)>;

// Dirty data a crash destroyed in one file.
struct CrashLoss {
  FileId file;
  uint64_t lost_bytes = 0;         // exact bytes written and not yet persisted
  uint64_t first_lost_offset = 0;  // lowest file offset among them
};

struct PageCacheStats {
  uint64_t cached_bytes = 0;
  uint64_t dirty_bytes = 0;      // NR_FILE_DIRTY (page-rounded)
  uint64_t writeback_bytes = 0;  // NR_WRITEBACK (page-rounded)
  uint64_t hit_bytes = 0;
  uint64_t miss_bytes = 0;
  uint64_t written_bytes = 0;         // accepted by write()
  uint64_t written_back_bytes = 0;    // device writes completed OK (flusher and fsync)
  uint64_t device_read_bytes = 0;     // device reads issued (misses plus readahead)
  uint64_t evicted_bytes = 0;
  uint64_t throttled_writes = 0;      // write calls that paused
  uint64_t blocked_waits = 0;         // max_pause sleeps taken at or above the limit
  uint64_t reclaim_failures = 0;      // times the budget could not be met (everything dirty or busy)
  double hit_ratio() const {
    const uint64_t total = hit_bytes + miss_bytes;
    return total == 0 ? 0.0 : static_cast<double>(hit_bytes) / static_cast<double>(total);
  }
};

class PageCache {
 public:
  PageCache(sim::Engine& engine, const PageCacheParams& params);
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;
  ~PageCache();

  // Registers a file stored on `device` at byte offset `device_base_offset`, already `size_bytes` long on
  // disk (nothing of it cached).
  void add_file(FileId file, BlockDevice& device, uint64_t device_base_offset, uint64_t size_bytes = 0);
  // Drops every page of the file, dirty ones included (unlink/truncate discards them).
  void remove_file(FileId file);
  bool has_file(FileId file) const;
  uint64_t file_size(FileId file) const;
  // The bytes a filesystem on `device` would have allocated to its files: each file up to the end of its furthest
  // write (a file created with a length, as Kafka's preallocated index files, is sparse until written); 0 for a
  // device that has no file yet.
  uint64_t device_file_bytes(const BlockDevice& device) const;
  // Called once per device, at the write that takes its files past the device's capacity_bytes(): a filesystem
  // would have answered that write with ENOSPC. The owner decides what a full disk means (the page cache goes on).
  void set_device_full_listener(std::function<void(const BlockDevice& device, uint64_t file_bytes)> listener) {
    device_full_listener_ = std::move(listener);
  }

  // Buffered write: the pages are dirtied now; `done` fires when balance_dirty_pages lets the writer go.
  void write(FileId file, uint64_t offset, uint64_t bytes, sim::Callback done) {
    write(file, offset, bytes, std::move(done), false);
  }
  // The same, for a caller that can take the answer at once: returns true, without running `done`, when the
  // writer is not paused at all (dirty pages below the freerun ceiling); otherwise `done` fires as above.
  // Saves an event per write; the simulated times are the same.
  bool write(FileId file, uint64_t offset, uint64_t bytes, sim::Callback done, bool answer_now);
  // Buffered read of [offset, offset + bytes) within the file's size.
  void read(FileId file, uint64_t offset, uint64_t bytes, ReadDone done) {
    read(file, offset, bytes, std::move(done), nullptr);
  }
  // The same; with `answer_now`, a read that needs no I/O (every page cached) fills it and returns true
  // without running `done`.
  bool read(FileId file, uint64_t offset, uint64_t bytes, ReadDone done, ReadResult* answer_now);
  // Writes every dirty page of the file, waits for it and for writeback already in flight, then flushes
  // the device cache. Reports the first error (including a background writeback error since the last fsync).
  void fsync(FileId file, FsyncDone done);

  // Host crash: drops all pages and pending work. Returns the lost dirty data per file, by file id.
  std::vector<CrashLoss> crash();
  // echo 1 > /proc/sys/vm/drop_caches.
  void drop_caches();
  // Memory-pressure fault: a new budget (thresholds and reclaim follow).
  void set_cache_bytes(uint64_t cache_bytes);

  // Accounting.
  const PageCacheStats& stats() const { return stats_; }
  uint64_t cache_bytes() const { return cache_bytes_; }
  uint64_t dirty_bytes() const { return stats_.dirty_bytes; }
  uint64_t writeback_bytes() const { return stats_.writeback_bytes; }
  uint64_t cached_bytes() const { return stats_.cached_bytes; }
  uint64_t active_bytes() const { return active_.bytes; }
  uint64_t inactive_bytes() const { return inactive_.bytes; }
  // Current thresholds (limit = dom.dirty_limit).
  page_cache_math::DirtyThresholds thresholds() const;
  // True if the byte at `offset` is resident (read I/O completed or written).
  bool is_cached(FileId file, uint64_t offset) const;
  // The write_bw and dirty_ratelimit estimates of the device holding `file`, bytes/s.
  uint64_t write_bw_bytes_per_s(FileId file) const;
  uint64_t dirty_ratelimit_bytes_per_s(FileId file) const;

 private:
  enum class LruList : uint8_t { kNone, kInactive, kActive };
  struct FileState;

  struct Extent {
    uint64_t index = 0;
    FileState* file = nullptr;
    Extent* lru_prev = nullptr;
    Extent* lru_next = nullptr;
    uint64_t read_io = 0;  // in-flight read, 0 if none
    uint32_t charged_bytes = 0;  // pages from the extent's start to its highest byte written or read
    uint64_t wb_io = 0;    // in-flight write of the wb span, 0 if none
    uint32_t dirty_lo = 0, dirty_hi = 0;  // dirty byte span within the extent (empty when lo == hi)
    uint32_t wb_lo = 0, wb_hi = 0;        // span being written back
    LruList list = LruList::kNone;
    bool referenced = false;
    bool resident = false;
    bool present = false;  // the slot of an ExtentTable holds this extent
    bool dirty() const { return dirty_hi > dirty_lo; }
    bool under_writeback() const { return wb_hi > wb_lo; }
  };

  // The extents of one file by index. Writes append at the end of a file and reads follow close behind, so the
  // indices in use are dense: fixed pages of kSlots extents, allocated on first use and freed when empty, give
  // O(1) lookups. Extents never move (the LRU lists link them by address), and for_each visits them in index
  // order, as the ordered map this replaces did.
  class ExtentTable {
   public:
    Extent* find(uint64_t index) { return lookup(index); }
    const Extent* find(uint64_t index) const { return lookup(index); }
    // The extent at `index`, created empty (only `index` and `present` set) if absent; true if created.
    std::pair<Extent*, bool> try_emplace(uint64_t index);
    void erase(uint64_t index);
    void clear() {
      pages_.clear();
      size_ = 0;
      hint_ = nullptr;
    }
    uint64_t size() const { return size_; }
    template <typename F>
    void for_each(F&& f) {
      for (const auto& page : pages_) {
        if (page == nullptr) continue;
        for (Extent& e : page->slots)
          if (e.present) f(e);
      }
    }

   private:
    // 32 extents (2 MiB of file at the default extent size) per page: small files such as the indexes cost
    // one small page.
    static constexpr uint64_t kSlots = 32;
    struct Page {
      std::array<Extent, kSlots> slots;
      uint32_t used = 0;
    };
    Page* page_of(uint64_t index) const {
      const uint64_t number = index / kSlots;
      if (hint_ != nullptr && number == hint_number_) return hint_;
      if (number >= pages_.size()) return nullptr;
      Page* page = pages_[number].get();
      if (page != nullptr) {
        hint_ = page;
        hint_number_ = number;
      }
      return page;
    }
    Extent* lookup(uint64_t index) const {
      Page* page = page_of(index);
      if (page == nullptr) return nullptr;
      Extent& e = page->slots[index % kSlots];
      return e.present ? &e : nullptr;
    }
    std::vector<std::unique_ptr<Page>> pages_;
    uint64_t size_ = 0;
    // The page of the last lookup: consecutive accesses to a file stay in one page, and the hint saves loading
    // pages_ (a cache miss when many files are active). Reset when that page is freed.
    mutable Page* hint_ = nullptr;
    mutable uint64_t hint_number_ = 0;
  };

  struct Lru {
    Extent* head = nullptr;  // most recently added
    Extent* tail = nullptr;  // next to scan
    uint64_t bytes = 0;
    uint64_t count = 0;
  };

  struct Readahead {
    uint64_t start = 0, size = 0, async_size = 0;  // pages
    int64_t prev_page = -1;
  };

  struct FileState {
    FileId id;
    uint32_t device = 0;
    uint64_t device_base_offset = 0;
    uint64_t generation = 0;
    uint64_t size_bytes = 0;
    uint64_t written_end = 0;  // the end of the furthest write: the file's allocated bytes (device_file_bytes)
    ExtentTable extents;
    std::set<uint64_t> dirty_extents;  // indices with a dirty span
    sim::SimTime dirtied_when;
    uint64_t writeback_cursor = 0;  // extent index to resume from (mapping->writeback_index)
    Readahead ra;
    IoStatus wb_error = IoStatus::kOk;
  };

  struct DeviceState {
    BlockDevice* device = nullptr;
    std::set<FileId> dirty_files;
    std::deque<FileId> b_io;     // files queued for the current writeback round
    bool kupdate = false;        // a periodic pass is in progress
    uint64_t chunk_outstanding = 0;  // device writes of the chunk in flight
    bool bw_idle = true;             // no chunk since the last one completed (quiet period for write_bw)
    uint64_t dirty_bytes = 0;        // this device's NR_FILE_DIRTY + NR_WRITEBACK
    uint64_t write_bw_pages_per_s = 0;
    uint64_t dirty_ratelimit_pages_per_s = 0;
    uint64_t balanced_ratelimit_pages_per_s = 0;
    sim::SimTime bw_stamp;
    uint64_t bw_written_bytes = 0;  // completed since bw_stamp
    sim::SimTime rl_stamp;
    uint64_t dirtied_total_bytes = 0;
    uint64_t file_bytes = 0;     // the allocated bytes of this device's files (device_file_bytes)
    bool full_reported = false;  // the device-full listener has been called
    uint64_t rl_dirtied_stamp = 0;
  };

  enum class IoKind : uint8_t { kRead, kChunkWrite, kSyncWrite, kFlush };
  struct PendingIo {
    IoKind kind = IoKind::kRead;
    FileId file;
    uint64_t file_generation = 0;
    uint32_t device = 0;
    uint64_t first_extent = 0;
    uint64_t extent_count = 0;
    uint64_t bytes = 0;
    std::vector<uint64_t> read_waiters;   // PendingRead ids
    std::vector<uint64_t> fsync_waiters;  // PendingFsync ids
  };
  struct PendingRead {
    FileId file;
    uint64_t offset = 0, bytes = 0;
    uint64_t outstanding = 0;
    ReadResult result;
    ReadDone done;
  };
  struct PendingFsync {
    FileId file;
    uint64_t file_generation = 0;
    uint64_t outstanding = 0;
    int round = 0;
    IoStatus status = IoStatus::kOk;
    std::vector<uint64_t> second_round;  // extents dirty while under writeback at round 0
    FsyncDone done;
  };

  FileState& file_state(FileId file);
  FileState* find_file(FileId file) const;
  uint64_t avail_pages() const { return cache_bytes_ / kPageBytes; }
  uint64_t global_dirty() const { return stats_.dirty_bytes + stats_.writeback_bytes; }
  const page_cache_math::DirtyThresholds& base_thresholds() const { return base_thresholds_; }
  void update_dirty_limit();

  // Extents and LRU.
  Extent& get_or_create(FileState& f, uint64_t index);
  // The extent at `index`, which must exist (std::map::at of the former map).
  static Extent& extent_at(FileState& f, uint64_t index);
  // Charges the extent (budget and LRU bytes) for its pages up to `end_in_extent` bytes; never shrinks.
  void charge(Extent& e, uint64_t end_in_extent);
  void lru_push_head(Lru& l, Extent& e, LruList which);
  void lru_unlink(Extent& e);
  void mark_accessed(Extent& e);
  void evict(Extent& e);
  void reclaim();
  void set_dirty_span(FileState& f, Extent& e, uint32_t lo, uint32_t hi);
  void clear_dirty(FileState& f, Extent& e);

  // Write path.
  // Returns true (and drops `done`) when `answer_now` and the writer is not paused.
  bool balance_dirty_pages(uint32_t device, uint64_t bytes, sim::Callback done, bool answer_now = false);
  void update_ratelimit(DeviceState& d);
  uint64_t park_writer(sim::Callback done);
  void finish_writer(uint64_t epoch, uint64_t slot);

  // Writeback.
  bool background_needed() const;
  void arm_tick();
  void on_tick(uint64_t epoch);
  void flusher_step(uint32_t device);
  bool write_chunk(DeviceState& d, FileState& f, uint64_t chunk_bytes);
  std::vector<uint64_t> submit_writes(FileState& f, const std::vector<uint64_t>& indices, IoKind kind);
  void on_io_done(uint64_t io, IoStatus status);
  void on_write_done(uint64_t io, PendingIo& p, IoStatus status);
  void on_read_io_done(uint64_t io, PendingIo& p, IoStatus status);
  void finish_fsync(uint64_t fsync_id, IoStatus status);
  void update_write_bw(DeviceState& d);

  // Read path.
  void ensure_read(FileState& f, uint64_t first_page, uint64_t end_page);
  void complete_read(uint64_t read_id);
  void remove_extent(FileState& f, Extent& e);
  void fire_ready_reads(uint64_t epoch);
  void fsync_io_done(uint64_t fsync_id, IoStatus status);
  void fsync_round(uint64_t fsync_id);
  void fsync_advance(uint64_t fsync_id);

  void submit(uint64_t io, const IoRequest& req, PendingIo pending);

  sim::Engine& engine_;
  PageCacheParams params_;
  uint64_t cache_bytes_ = 0;
  uint64_t dirty_limit_bytes_ = 0;  // dom.dirty_limit
  sim::SimTime dirty_limit_stamp_;
  // Thresholds for cache_bytes_ with limit = thresh, recomputed whenever cache_bytes_ changes.
  page_cache_math::DirtyThresholds base_thresholds_;
  std::map<FileId, std::unique_ptr<FileState>> files_;
  // Lookups by id: file ids are small sequential numbers in practice (LogStorage numbers its files from 1), so
  // ids below kDenseFileIds are found in this table; files_ keeps ownership, the id order for iteration, and
  // serves larger ids.
  static constexpr uint64_t kDenseFileIds = uint64_t{1} << 20;
  std::vector<FileState*> file_slots_;
  std::vector<DeviceState> devices_;
  std::function<void(const BlockDevice&, uint64_t)> device_full_listener_;
  Lru inactive_, active_;
  PageCacheStats stats_;

  uint64_t epoch_ = 0;  // bumped by crash(): stale events and completions are ignored
  // Device completions (and budget changes, crashes) so far, and their count when a reclaim pass last failed:
  // until another completes, nothing can have become evictable and reclaim() does not rescan.
  uint64_t io_completions_ = 0;
  uint64_t reclaim_failed_at_ = ~uint64_t{0};
  uint64_t next_generation_ = 1;
  uint64_t next_id_ = 1;
  std::map<uint64_t, PendingIo> ios_;
  std::map<uint64_t, PendingRead> reads_;
  std::map<uint64_t, PendingFsync> fsyncs_;
  std::deque<std::pair<ReadDone, ReadResult>> ready_reads_;
  std::vector<sim::Callback> parked_writers_;
  std::vector<uint64_t> free_writer_slots_;
  bool tick_armed_ = false;
  std::shared_ptr<bool> alive_;  // device completions check it, so a destroyed cache ignores them
};

}  // namespace kafkasim::models
