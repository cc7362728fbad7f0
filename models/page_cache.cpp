// Linux page cache and dirty writeback; the equations and simplifications are in page_cache.hpp.
#include "kafkasim/models/page_cache.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::models {

namespace {

using sim::Duration;
using sim::SimTime;

// MIN_WRITEBACK_PAGES (include/linux/writeback.h): 4 MiB.
constexpr uint64_t kMinWritebackPages = (4ULL << 20) / kPageBytes;
// DIRTY_SCOPE: a chunk is at most 1/8 of the dirty limit.
constexpr uint64_t kDirtyScope = 8;
// MAX_PAUSE = HZ/5 and BANDWIDTH_INTERVAL = HZ/5 (mm/page-writeback.c).
constexpr Duration kMaxPause = Duration::from_ms(200);
constexpr Duration kBandwidthInterval = Duration::from_ms(200);
// The write bandwidth averaging period roundup_pow_of_two(3·HZ) jiffies ≈ 4.096 s at any HZ power of two
// multiple of 250 (wb_update_write_bandwidth).
constexpr Duration kBandwidthPeriod = Duration::from_ms(4096);
// A ratelimit update gap longer than this is a quiet period: restart the measurement instead of averaging
// an unthrottled stretch into the balanced rate.
constexpr Duration kQuietPeriod = Duration::from_s(1);

uint64_t span_pages(uint32_t lo, uint32_t hi) {
  if (hi <= lo) return 0;
  const uint64_t first = lo / kPageBytes;
  const uint64_t end = (static_cast<uint64_t>(hi) + kPageBytes - 1) / kPageBytes;
  return end - first;
}

uint64_t roundup_pow2(uint64_t x) {
  uint64_t r = 1;
  while (r < x) r <<= 1;
  return r;
}

// Length of the union of two byte intervals (either may be empty).
uint64_t union_bytes(uint32_t a_lo, uint32_t a_hi, uint32_t b_lo, uint32_t b_hi) {
  const uint64_t a = a_hi > a_lo ? a_hi - a_lo : 0;
  const uint64_t b = b_hi > b_lo ? b_hi - b_lo : 0;
  if (a == 0 || b == 0) return a + b;
  const uint32_t lo = std::max(a_lo, b_lo);
  const uint32_t hi = std::min(a_hi, b_hi);
  const uint64_t overlap = hi > lo ? hi - lo : 0;
  return a + b - overlap;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Pure functions.

namespace page_cache_math {

DirtyThresholds with_limit(DirtyThresholds t, uint64_t limit_bytes) {
  KS_ASSERT_GE(limit_bytes, t.thresh_bytes);
  const uint64_t thresh = t.thresh_bytes / kPageBytes;
  const uint64_t bg = t.background_bytes / kPageBytes;
  const uint64_t limit = limit_bytes / kPageBytes;
  // dirty_freerun_ceiling() and the setpoint of wb_position_ratio(), in pages like the kernel.
  const uint64_t freerun = (thresh + bg) / 2;
  const uint64_t setpoint = (freerun + limit) / 2;
  t.limit_bytes = limit * kPageBytes;
  t.freerun_bytes = freerun * kPageBytes;
  t.setpoint_bytes = setpoint * kPageBytes;
  return t;
}

DirtyThresholds dirty_thresholds(uint64_t avail_bytes, const PageCacheParams& params) {
  KS_ASSERT_LE(params.dirty_ratio, 100u);
  KS_ASSERT_LE(params.dirty_background_ratio, 100u);
  const uint64_t avail = avail_bytes / kPageBytes;
  // domain_dirty_limits(): a `_bytes` sysctl overrides its ratio; bg ≥ thresh ⇒ bg = thresh/2.
  const uint64_t thresh = params.dirty_bytes != 0 ? (params.dirty_bytes + kPageBytes - 1) / kPageBytes
                                                  : avail * params.dirty_ratio / 100;
  uint64_t bg = params.dirty_background_bytes != 0
                    ? (params.dirty_background_bytes + kPageBytes - 1) / kPageBytes
                    : avail * params.dirty_background_ratio / 100;
  if (bg >= thresh) bg = thresh / 2;
  DirtyThresholds t;
  t.thresh_bytes = thresh * kPageBytes;
  t.background_bytes = bg * kPageBytes;
  return with_limit(t, t.thresh_bytes);
}

double pos_ratio(uint64_t dirty_bytes, const DirtyThresholds& t) {
  KS_ASSERT_LE(t.setpoint_bytes, t.limit_bytes);
  if (dirty_bytes >= t.limit_bytes) return 0.0;
  if (t.limit_bytes == t.setpoint_bytes) return 2.0;  // degenerate (zero) thresholds: below the limit is free
  const double x = (static_cast<double>(t.setpoint_bytes) - static_cast<double>(dirty_bytes)) /
                   static_cast<double>(t.limit_bytes - t.setpoint_bytes);
  const double pos = 1.0 + x * x * x;
  return std::clamp(pos, 0.0, 2.0);
}

uint64_t writeback_chunk_bytes(uint64_t write_bw_bytes_per_s, uint64_t dirty_limit_bytes) {
  // writeback_chunk_size() for non-sync work (work->nr_pages = LONG_MAX for background and kupdate).
  const uint64_t bw_pages = write_bw_bytes_per_s / kPageBytes;
  const uint64_t limit_pages = dirty_limit_bytes / kPageBytes;
  uint64_t pages = std::min(bw_pages / 2, limit_pages / kDirtyScope);
  pages = (pages + kMinWritebackPages) / kMinWritebackPages * kMinWritebackPages;
  return pages * kPageBytes;
}

Duration max_pause(uint64_t wb_dirty_bytes, uint64_t write_bw_bytes_per_s, Duration jiffy) {
  KS_ASSERT_GE(jiffy, Duration::zero());
  if (write_bw_bytes_per_s == 0) return kMaxPause;
  // wb_max_pause(): long enough to write 1/8 of the device's dirty data, plus a jiffy, at most 200 ms.
  const double seconds = static_cast<double>(wb_dirty_bytes) / (8.0 * static_cast<double>(write_bw_bytes_per_s));
  if (seconds >= kMaxPause.seconds_f()) return kMaxPause;
  return sim::min(Duration::from_seconds_ceil(seconds) + jiffy, kMaxPause);
}

uint64_t readahead_init_pages(uint64_t request_pages, uint64_t max_pages) {
  KS_ASSERT_GT(request_pages, 0u);
  const uint64_t r = roundup_pow2(request_pages);
  if (r <= max_pages / 32) return 4 * r;
  if (r <= max_pages / 4) return 2 * r;
  return max_pages;
}

uint64_t readahead_next_pages(uint64_t current_pages, uint64_t max_pages) {
  if (current_pages < max_pages / 16) return 4 * current_pages;
  if (current_pages <= max_pages / 2) return 2 * current_pages;
  return max_pages;
}

uint64_t int_sqrt(uint64_t x) {
  if (x < 2) return x;
  // Newton's iteration from above converges to floor(sqrt(x)) in O(log x) steps.
  uint64_t r = x;
  uint64_t next = (r + x / r) / 2;
  for (int i = 0; i < 128 && next < r; ++i) {
    r = next;
    next = (r + x / r) / 2;
  }
  KS_ASSERT_LE(r * r, x);
  return r;
}

uint64_t lru_inactive_ratio(uint64_t lru_bytes) {
  // inactive_is_low() (mm/vmscan.c): gb = LRU size in GiB; ratio = int_sqrt(10·gb), or 1 below 1 GiB.
  const uint64_t gb = lru_bytes >> 30;
  return gb == 0 ? 1 : int_sqrt(10 * gb);
}

}  // namespace page_cache_math

namespace pcm = page_cache_math;

// ---------------------------------------------------------------------------------------------------------
// Construction, files.

PageCache::PageCache(sim::Engine& engine, const PageCacheParams& params)
    : engine_(engine), params_(params), alive_(std::make_shared<bool>(true)) {
  KS_ASSERT_GE(params.extent_bytes, kPageBytes);
  KS_ASSERT_EQ(params.extent_bytes & (params.extent_bytes - 1), 0u);
  KS_ASSERT_LE(params.extent_bytes, uint64_t{1} << 30);
  KS_ASSERT_GE(params.max_io_bytes, params.extent_bytes);
  KS_ASSERT_GT(params.initial_write_bw_bytes_per_s, 0u);
  if (params.cache_bytes != 0) {
    cache_bytes_ = params.cache_bytes;
  } else {
    KS_ASSERT_GE(params.ram_bytes, params.reserved_bytes);
    cache_bytes_ = params.ram_bytes - params.reserved_bytes;
  }
  base_thresholds_ = pcm::dirty_thresholds(cache_bytes_, params_);
  dirty_limit_bytes_ = base_thresholds().thresh_bytes;
}

PageCache::~PageCache() = default;

std::pair<PageCache::Extent*, bool> PageCache::ExtentTable::try_emplace(uint64_t index) {
  Page* found = page_of(index);
  if (found == nullptr) {
    const uint64_t p = index / kSlots;
    if (p >= pages_.size()) pages_.resize(p + 1);
    pages_[p] = std::make_unique<Page>();
    found = pages_[p].get();
  }
  Page& page = *found;
  Extent& e = page.slots[index % kSlots];
  if (e.present) return {&e, false};
  e.index = index;
  e.present = true;
  ++page.used;
  ++size_;
  return {&e, true};
}

void PageCache::ExtentTable::erase(uint64_t index) {
  const uint64_t p = index / kSlots;
  KS_ASSERT_LT(p, pages_.size());
  KS_ASSERT(pages_[p] != nullptr);
  Page& page = *pages_[p];
  Extent& e = page.slots[index % kSlots];
  KS_ASSERT(e.present);
  e = Extent{};
  --size_;
  if (--page.used == 0) {
    if (hint_ == &page) hint_ = nullptr;
    pages_[p].reset();
  }
}

void PageCache::add_file(FileId file, BlockDevice& device, uint64_t device_base_offset, uint64_t size_bytes) {
  KS_ASSERT(files_.find(file) == files_.end());
  uint32_t index = 0;
  while (index < devices_.size() && devices_[index].device != &device) ++index;
  if (index == devices_.size()) {
    DeviceState d;
    d.device = &device;
    d.write_bw_pages_per_s = std::max<uint64_t>(params_.initial_write_bw_bytes_per_s / kPageBytes, 1);
    d.dirty_ratelimit_pages_per_s = d.write_bw_pages_per_s;
    d.balanced_ratelimit_pages_per_s = d.write_bw_pages_per_s;
    d.bw_stamp = engine_.now();
    d.rl_stamp = engine_.now();
    devices_.push_back(std::move(d));
  }
  auto state = std::make_unique<FileState>();
  state->id = file;
  state->device = index;
  state->device_base_offset = device_base_offset;
  state->generation = next_generation_++;
  state->size_bytes = size_bytes;
  if (file.value < kDenseFileIds) {
    if (file.value >= file_slots_.size()) file_slots_.resize(file.value + 1, nullptr);
    file_slots_[file.value] = state.get();
  }
  files_.emplace(file, std::move(state));
}

void PageCache::remove_file(FileId file) {
  FileState& f = file_state(file);
  DeviceState& d = devices_[f.device];
  const uint64_t bound = f.extents.size();
  uint64_t removed = 0;
  // Unlinking discards dirty pages and forgets pages under writeback; their I/O completes unnoticed
  // because the generation check in on_write_done() no longer finds this file.
  f.extents.for_each([&](Extent& e) {
    const uint64_t dirty = span_pages(e.dirty_lo, e.dirty_hi) * kPageBytes;
    const uint64_t wb = span_pages(e.wb_lo, e.wb_hi) * kPageBytes;
    stats_.dirty_bytes -= dirty;
    stats_.writeback_bytes -= wb;
    d.dirty_bytes -= dirty + wb;
    lru_unlink(e);
    stats_.cached_bytes -= e.charged_bytes;
    ++removed;
  });
  KS_ASSERT_EQ(removed, bound);
  d.dirty_files.erase(file);
  KS_ASSERT_LE(f.written_end, d.file_bytes);
  d.file_bytes -= f.written_end;
  if (file.value < kDenseFileIds) file_slots_[file.value] = nullptr;
  files_.erase(file);
}

bool PageCache::has_file(FileId file) const { return find_file(file) != nullptr; }

uint64_t PageCache::file_size(FileId file) const {
  const FileState* f = find_file(file);
  KS_ASSERT(f != nullptr);
  return f->size_bytes;
}

uint64_t PageCache::device_file_bytes(const BlockDevice& device) const {
  for (const DeviceState& d : devices_) {
    if (d.device == &device) return d.file_bytes;
  }
  return 0;
}

PageCache::Extent& PageCache::extent_at(FileState& f, uint64_t index) {
  Extent* e = f.extents.find(index);
  KS_ASSERT_MSG(e != nullptr, "no extent " + std::to_string(index));
  return *e;
}

PageCache::FileState& PageCache::file_state(FileId file) {
  FileState* f = find_file(file);
  KS_ASSERT_MSG(f != nullptr, "unknown file " + std::to_string(file.value));
  return *f;
}

PageCache::FileState* PageCache::find_file(FileId file) const {
  if (file.value < kDenseFileIds) return file.value < file_slots_.size() ? file_slots_[file.value] : nullptr;
  auto it = files_.find(file);
  return it == files_.end() ? nullptr : it->second.get();
}

bool PageCache::is_cached(FileId file, uint64_t offset) const {
  const FileState* f = find_file(file);
  KS_ASSERT(f != nullptr);
  const Extent* e = f->extents.find(offset / params_.extent_bytes);
  return e != nullptr && e->resident;
}

uint64_t PageCache::write_bw_bytes_per_s(FileId file) const {
  const FileState* f = find_file(file);
  KS_ASSERT(f != nullptr);
  return devices_[f->device].write_bw_pages_per_s * kPageBytes;
}

uint64_t PageCache::dirty_ratelimit_bytes_per_s(FileId file) const {
  const FileState* f = find_file(file);
  KS_ASSERT(f != nullptr);
  return devices_[f->device].dirty_ratelimit_pages_per_s * kPageBytes;
}

// ---------------------------------------------------------------------------------------------------------
// Thresholds.

pcm::DirtyThresholds PageCache::thresholds() const {
  const pcm::DirtyThresholds base = base_thresholds();
  return pcm::with_limit(base, std::max(dirty_limit_bytes_, base.thresh_bytes));
}

void PageCache::update_dirty_limit() {
  // update_dirty_limit(): the limit follows a rising threshold at once and a falling one by 1/32 of the gap
  // per BANDWIDTH_INTERVAL, never below the current dirty amount, so that a shrinking threshold (memory
  // pressure) does not suddenly block every writer.
  const uint64_t thresh = base_thresholds().thresh_bytes;
  const SimTime now = engine_.now();
  if (dirty_limit_bytes_ <= thresh) {
    dirty_limit_bytes_ = thresh;
    dirty_limit_stamp_ = now;
    return;
  }
  if (now - dirty_limit_stamp_ < kBandwidthInterval) return;
  dirty_limit_stamp_ = now;
  const uint64_t floor = std::max(thresh, global_dirty());
  if (dirty_limit_bytes_ > floor) {
    const uint64_t gap_pages = (dirty_limit_bytes_ - floor) / kPageBytes;
    dirty_limit_bytes_ -= (gap_pages >> 5) * kPageBytes;
  }
  KS_ASSERT_GE(dirty_limit_bytes_, thresh);
}

bool PageCache::background_needed() const {
  // Background writeback runs while NR_FILE_DIRTY exceeds the background threshold (wb_over_bg_thresh).
  return stats_.dirty_bytes > base_thresholds().background_bytes;
}

// ---------------------------------------------------------------------------------------------------------
// Extents and the two LRU lists.

PageCache::Extent& PageCache::get_or_create(FileState& f, uint64_t index) {
  auto [ep, inserted] = f.extents.try_emplace(index);
  Extent& e = *ep;
  if (inserted) e.file = &f;  // charged by the caller, for the pages it covers
  if (!e.resident) {
    // A write makes the extent up to date (read-before-write of partial pages is ignored, see header).
    e.resident = true;
  }
  if (e.list == LruList::kNone) lru_push_head(inactive_, e, LruList::kInactive);
  return e;
}

void PageCache::charge(Extent& e, uint64_t end_in_extent) {
  // The pages from the extent's start to the end of the highest byte written or read are in memory. Kafka's
  // files are written append-only from offset 0 and read below their end, so this is their page count; a
  // file's last extent no longer costs a whole extent (thousands of small segment and index files would
  // otherwise fill the budget with memory the kernel never used).
  const uint64_t want = span_pages(0, static_cast<uint32_t>(end_in_extent)) * kPageBytes;
  KS_ASSERT_LE(want, params_.extent_bytes);
  if (want <= e.charged_bytes) return;
  const uint64_t delta = want - e.charged_bytes;
  e.charged_bytes = static_cast<uint32_t>(want);
  stats_.cached_bytes += delta;
  if (e.list == LruList::kActive) active_.bytes += delta;
  if (e.list == LruList::kInactive) inactive_.bytes += delta;
}

void PageCache::lru_push_head(Lru& l, Extent& e, LruList which) {
  KS_ASSERT(e.list == LruList::kNone);
  e.lru_prev = nullptr;
  e.lru_next = l.head;
  if (l.head != nullptr) l.head->lru_prev = &e;
  l.head = &e;
  if (l.tail == nullptr) l.tail = &e;
  e.list = which;
  l.bytes += e.charged_bytes;
  ++l.count;
}

void PageCache::lru_unlink(Extent& e) {
  if (e.list == LruList::kNone) return;
  Lru& l = e.list == LruList::kActive ? active_ : inactive_;
  KS_ASSERT_GT(l.count, 0u);
  if (e.lru_prev != nullptr) e.lru_prev->lru_next = e.lru_next; else l.head = e.lru_next;
  if (e.lru_next != nullptr) e.lru_next->lru_prev = e.lru_prev; else l.tail = e.lru_prev;
  e.lru_prev = e.lru_next = nullptr;
  e.list = LruList::kNone;
  l.bytes -= e.charged_bytes;
  --l.count;
}

void PageCache::mark_accessed(Extent& e) {
  // folio_mark_accessed(): inactive,unreferenced → referenced; inactive,referenced → active; active → referenced.
  if (e.list == LruList::kInactive) {
    if (e.referenced) {
      lru_unlink(e);
      e.referenced = false;
      lru_push_head(active_, e, LruList::kActive);
    } else {
      e.referenced = true;
    }
  } else if (e.list == LruList::kActive) {
    e.referenced = true;
  }
}

void PageCache::remove_extent(FileState& f, Extent& e) {
  KS_ASSERT(!e.dirty());
  KS_ASSERT(!e.under_writeback());
  lru_unlink(e);
  stats_.cached_bytes -= e.charged_bytes;
  f.extents.erase(e.index);  // last: `e` is reset
}

void PageCache::evict(Extent& e) {
  KS_ASSERT(e.resident);
  KS_ASSERT_EQ(e.read_io, 0u);
  stats_.evicted_bytes += e.charged_bytes;
  remove_extent(*e.file, e);
}

void PageCache::reclaim() {
  if (stats_.cached_bytes <= cache_bytes_) return;
  // Only a completed I/O (writeback cleaning an extent, a read making one resident) or a crash can make an
  // extent evictable, so after a failed pass another one before the next completion would fail too: every
  // extent has been rotated past. Skipping it keeps a cache full of dirty pages from costing a full scan on
  // every write.
  if (reclaim_failed_at_ == io_completions_) {
    ++stats_.reclaim_failures;
    return;
  }
  // Each step evicts, rotates or demotes one extent; twice the list lengths bounds a pass even when every
  // extent is dirty (nothing can be evicted until writeback cleans it).
  uint64_t steps = 2 * (inactive_.count + active_.count) + 2;
  while (stats_.cached_bytes > cache_bytes_ && steps-- > 0) {
    const uint64_t ratio = pcm::lru_inactive_ratio(inactive_.bytes + active_.bytes);
    if (active_.tail != nullptr && (inactive_.count == 0 || inactive_.bytes * ratio < active_.bytes)) {
      // shrink_active_list(): demote the active tail, its reference cleared.
      Extent& e = *active_.tail;
      lru_unlink(e);
      e.referenced = false;
      lru_push_head(inactive_, e, LruList::kInactive);
      continue;
    }
    if (inactive_.tail == nullptr) break;
    Extent& e = *inactive_.tail;
    if (!e.dirty() && !e.under_writeback() && e.read_io == 0 && e.resident) {
      // Unmapped page-cache pages are reclaimed even when PG_referenced is set (folio_check_references).
      evict(e);
    } else {
      lru_unlink(e);
      lru_push_head(inactive_, e, LruList::kInactive);
    }
  }
  if (stats_.cached_bytes > cache_bytes_) {
    ++stats_.reclaim_failures;
    reclaim_failed_at_ = io_completions_;
  }
}

void PageCache::set_dirty_span(FileState& f, Extent& e, uint32_t lo, uint32_t hi) {
  KS_ASSERT_LT(lo, hi);
  KS_ASSERT_LE(hi, params_.extent_bytes);
  DeviceState& d = devices_[f.device];
  const uint64_t before = span_pages(e.dirty_lo, e.dirty_hi);
  if (!e.dirty()) {
    e.dirty_lo = lo;
    e.dirty_hi = hi;
    if (f.dirty_extents.empty()) {
      // __mark_inode_dirty(): dirtied_when is set when a clean inode gets its first dirty page.
      f.dirtied_when = engine_.now();
      d.dirty_files.insert(f.id);
    }
    // Appends dirty extents in increasing index order: the end hint makes the insertion O(1).
    f.dirty_extents.insert(f.dirty_extents.end(), e.index);
  } else {
    e.dirty_lo = std::min(e.dirty_lo, lo);
    e.dirty_hi = std::max(e.dirty_hi, hi);
  }
  const uint64_t delta = (span_pages(e.dirty_lo, e.dirty_hi) - before) * kPageBytes;
  stats_.dirty_bytes += delta;
  d.dirty_bytes += delta;
}

void PageCache::clear_dirty(FileState& f, Extent& e) {
  KS_ASSERT(e.dirty());
  DeviceState& d = devices_[f.device];
  const uint64_t bytes = span_pages(e.dirty_lo, e.dirty_hi) * kPageBytes;
  KS_ASSERT_GE(stats_.dirty_bytes, bytes);
  stats_.dirty_bytes -= bytes;
  d.dirty_bytes -= bytes;
  e.dirty_lo = e.dirty_hi = 0;
  f.dirty_extents.erase(e.index);
  if (f.dirty_extents.empty()) d.dirty_files.erase(f.id);
}

// ---------------------------------------------------------------------------------------------------------
// Write path and balance_dirty_pages.

bool PageCache::write(FileId file, uint64_t offset, uint64_t bytes, sim::Callback done, bool answer_now) {
  KS_ASSERT_GT(bytes, 0u);
  KS_ASSERT(static_cast<bool>(done));
  FileState& f = file_state(file);
  const uint64_t ext = params_.extent_bytes;
  const uint64_t end = offset + bytes;
  KS_ASSERT_GT(end, offset);
  for (uint64_t index = offset / ext; index * ext < end; ++index) {
    Extent& e = get_or_create(f, index);
    const uint64_t lo = std::max(offset, index * ext) - index * ext;
    const uint64_t hi = std::min(end, (index + 1) * ext) - index * ext;
    charge(e, hi);
    set_dirty_span(f, e, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi));
  }
  f.size_bytes = std::max(f.size_bytes, end);
  if (end > f.written_end) {
    DeviceState& d = devices_[f.device];
    d.file_bytes += end - f.written_end;
    f.written_end = end;
    if (d.file_bytes > d.device->capacity_bytes() && !d.full_reported) {
      d.full_reported = true;
      if (device_full_listener_) device_full_listener_(*d.device, d.file_bytes);
    }
  }
  stats_.written_bytes += bytes;
  devices_[f.device].dirtied_total_bytes += bytes;
  reclaim();
  arm_tick();
  // balance_dirty_pages() kicks background writeback when NR_FILE_DIRTY is over the background threshold.
  if (background_needed()) flusher_step(f.device);
  const bool answered = balance_dirty_pages(f.device, bytes, std::move(done), answer_now);
  KS_ASSERT_LE(stats_.dirty_bytes, stats_.cached_bytes);
  return answered;
}

uint64_t PageCache::park_writer(sim::Callback done) {
  if (!free_writer_slots_.empty()) {
    const uint64_t slot = free_writer_slots_.back();
    free_writer_slots_.pop_back();
    parked_writers_[slot] = std::move(done);
    return slot;
  }
  parked_writers_.push_back(std::move(done));
  return parked_writers_.size() - 1;
}

void PageCache::finish_writer(uint64_t epoch, uint64_t slot) {
  if (epoch != epoch_) return;  // the host crashed meanwhile
  KS_ASSERT_LT(slot, parked_writers_.size());
  sim::Callback cb = std::move(parked_writers_[slot]);
  free_writer_slots_.push_back(slot);
  KS_ASSERT(static_cast<bool>(cb));
  cb();
}

bool PageCache::balance_dirty_pages(uint32_t device, uint64_t bytes, sim::Callback done, bool answer_now) {
  KS_ASSERT_LT(device, devices_.size());
  update_dirty_limit();
  const pcm::DirtyThresholds t = thresholds();
  const uint64_t dirty = global_dirty();
  // Below the freerun ceiling writers are never paused (§3.3).
  if (dirty <= t.freerun_bytes && answer_now) return true;
  const uint64_t slot = park_writer(std::move(done));
  const uint64_t epoch = epoch_;
  if (dirty <= t.freerun_bytes) {
    engine_.schedule_after(Duration::zero(), [this, epoch, slot] { finish_writer(epoch, slot); });
    return false;
  }
  DeviceState& d = devices_[device];
  if (d.chunk_outstanding > 0) update_write_bw(d);  // a stalled device's estimate must be allowed to fall
  update_ratelimit(d);
  const Duration pause_max = pcm::max_pause(d.dirty_bytes, d.write_bw_pages_per_s * kPageBytes, params_.jiffy);
  if (dirty >= t.limit_bytes) {
    // At the limit task_ratelimit is 0: sleep max_pause and look again, for as long as it takes.
    ++stats_.blocked_waits;
    engine_.schedule_after(pause_max, [this, epoch, device, bytes, slot] {
      if (epoch != epoch_) return;
      sim::Callback cb = std::move(parked_writers_[slot]);
      free_writer_slots_.push_back(slot);
      balance_dirty_pages(device, bytes, std::move(cb));
    });
    return false;
  }
  const double pos = pcm::pos_ratio(dirty, t);
  const double rate_bytes_per_s =
      static_cast<double>(d.dirty_ratelimit_pages_per_s) * static_cast<double>(kPageBytes) * pos;
  Duration pause = pause_max;
  if (rate_bytes_per_s > 0.0) {
    const double seconds = static_cast<double>(bytes) / rate_bytes_per_s;
    if (seconds < pause_max.seconds_f()) pause = Duration::from_seconds_ceil(seconds);
  }
  ++stats_.throttled_writes;
  engine_.schedule_after(pause, [this, epoch, slot] { finish_writer(epoch, slot); });
  return false;
}

void PageCache::update_ratelimit(DeviceState& d) {
  const SimTime now = engine_.now();
  const Duration elapsed = now - d.rl_stamp;
  if (elapsed < kBandwidthInterval) return;
  const uint64_t dirtied = d.dirtied_total_bytes - d.rl_dirtied_stamp;
  d.rl_stamp = now;
  d.rl_dirtied_stamp = d.dirtied_total_bytes;
  if (elapsed > kQuietPeriod) return;  // writers were not throttled in between: restart the measurement
  const pcm::DirtyThresholds t = thresholds();
  const uint64_t dirty = global_dirty();
  // wb_update_dirty_ratelimit(): dirty_rate over the interval, the rate the writers were given, and the
  // balanced rate that would make the dirtying rate equal the write bandwidth (write_bw/N for N writers).
  const uint64_t dirty_rate =
      static_cast<uint64_t>(static_cast<double>(dirtied / kPageBytes) * 1e9 / static_cast<double>(elapsed.ns()));
  const uint64_t rl = d.dirty_ratelimit_pages_per_s;
  const uint64_t task_rl = static_cast<uint64_t>(static_cast<double>(rl) * pcm::pos_ratio(dirty, t));
  const uint64_t write_bw = d.write_bw_pages_per_s;
  uint64_t balanced = static_cast<uint64_t>(static_cast<double>(task_rl) * static_cast<double>(write_bw) /
                                            static_cast<double>(dirty_rate | 1));
  balanced = std::min(balanced, write_bw);
  // Move only when the previous balanced rate, the new one and task_ratelimit agree on the direction, by a
  // step that shrinks as dirty_ratelimit converges (step >>= rl/(2·step+1)), one eighth at a time.
  uint64_t step = 0;
  const bool below_setpoint = dirty < t.setpoint_bytes;
  if (below_setpoint) {
    const uint64_t x = std::min({d.balanced_ratelimit_pages_per_s, balanced, task_rl});
    if (rl < x) step = x - rl;
  } else {
    const uint64_t x = std::max({d.balanced_ratelimit_pages_per_s, balanced, task_rl});
    if (rl > x) step = rl - x;
  }
  const uint64_t shift = rl / (2 * step + 1);
  step = shift >= 64 ? 0 : step >> shift;
  step = (step + 7) / 8;
  uint64_t next = below_setpoint ? rl + step : (rl > step ? rl - step : 1);
  d.dirty_ratelimit_pages_per_s = std::max<uint64_t>(next, 1);
  d.balanced_ratelimit_pages_per_s = balanced;
}

// ---------------------------------------------------------------------------------------------------------
// Writeback: periodic wakeups, the per-device flusher, chunks.

void PageCache::arm_tick() {
  if (tick_armed_ || params_.dirty_writeback_centisecs == 0 || stats_.dirty_bytes == 0) return;
  const Duration interval = Duration::from_ms(static_cast<int64_t>(params_.dirty_writeback_centisecs) * 10);
  const int64_t k = engine_.now().ns() / interval.ns() + 1;
  tick_armed_ = true;
  const uint64_t epoch = epoch_;
  engine_.schedule_at(SimTime::from_ns(k * interval.ns()), [this, epoch] { on_tick(epoch); });
}

void PageCache::on_tick(uint64_t epoch) {
  if (epoch != epoch_) return;
  tick_armed_ = false;
  update_dirty_limit();
  const Duration expire = Duration::from_ms(static_cast<int64_t>(params_.dirty_expire_centisecs) * 10);
  const SimTime now = engine_.now();
  for (uint32_t i = 0; i < devices_.size(); ++i) {
    DeviceState& d = devices_[i];
    // wb_check_old_data_flush(): a kupdate pass if any inode expired; wb_check_background_flush() too.
    for (const FileId id : d.dirty_files) {
      if (file_state(id).dirtied_when + expire <= now) {
        d.kupdate = true;
        break;
      }
    }
    flusher_step(i);
  }
  arm_tick();
}

void PageCache::flusher_step(uint32_t device) {
  KS_ASSERT_LT(device, devices_.size());
  DeviceState& d = devices_[device];
  if (d.chunk_outstanding > 0) return;  // one chunk in flight per device
  const Duration expire = Duration::from_ms(static_cast<int64_t>(params_.dirty_expire_centisecs) * 10);
  const SimTime now = engine_.now();
  bool refilled = false;
  uint64_t steps = 2 * (d.dirty_files.size() + d.b_io.size()) + 4;
  while (steps-- > 0) {
    const bool background = background_needed();
    if (!background && !d.kupdate) {
      d.b_io.clear();
      return;
    }
    if (d.b_io.empty()) {
      if (refilled) break;
      refilled = true;
      // queue_io(): move dirty inodes (expired ones only for kupdate) to b_io, oldest dirtied first.
      std::vector<std::pair<SimTime, FileId>> queue;
      for (const FileId id : d.dirty_files) {
        const FileState& f = file_state(id);
        if (background || f.dirtied_when + expire <= now) queue.emplace_back(f.dirtied_when, id);
      }
      std::sort(queue.begin(), queue.end());
      for (const auto& entry : queue) d.b_io.push_back(entry.second);
      if (d.b_io.empty()) break;
      continue;
    }
    const FileId id = d.b_io.front();
    d.b_io.pop_front();
    FileState* fp = find_file(id);
    if (fp == nullptr || fp->dirty_extents.empty()) continue;
    FileState& f = *fp;
    if (!background && f.dirtied_when + expire > now) continue;
    const uint64_t chunk = pcm::writeback_chunk_bytes(d.write_bw_pages_per_s * kPageBytes, dirty_limit_bytes_);
    if (write_chunk(d, f, chunk)) return;
  }
  // Nothing left to write in this mode: the kupdate pass is over.
  if (!background_needed()) d.kupdate = false;
}

bool PageCache::write_chunk(DeviceState& d, FileState& f, uint64_t chunk_bytes) {
  KS_ASSERT_GT(chunk_bytes, 0u);
  KS_ASSERT_EQ(d.chunk_outstanding, 0u);
  // write_cache_pages() with range_cyclic: start at the file's writeback cursor, wrap once.
  std::vector<uint64_t> indices;
  uint64_t total = 0;
  const uint64_t cursor = f.writeback_cursor;
  auto it = f.dirty_extents.lower_bound(cursor);
  bool wrapped = false;
  const uint64_t bound = f.dirty_extents.size() + 1;
  for (uint64_t n = 0; n < bound; ++n) {
    if (it == f.dirty_extents.end()) {
      if (wrapped) break;
      wrapped = true;
      it = f.dirty_extents.begin();
      if (it == f.dirty_extents.end()) break;
    }
    if (wrapped && *it >= cursor) break;
    const Extent& e = extent_at(f, *it);
    ++it;
    if (e.under_writeback()) continue;  // written again once the I/O in flight completes
    indices.push_back(e.index);
    total += span_pages(e.dirty_lo, e.dirty_hi) * kPageBytes;
    if (total >= chunk_bytes) break;
  }
  if (indices.empty()) return false;
  f.writeback_cursor = indices.back() + 1;
  if (d.bw_idle) {
    // Bandwidth is only measured over busy stretches (quiet periods are skipped, wb_update_bandwidth).
    d.bw_idle = false;
    d.bw_stamp = engine_.now();
    d.bw_written_bytes = 0;
  }
  const std::vector<uint64_t> ios = submit_writes(f, indices, IoKind::kChunkWrite);
  d.chunk_outstanding = ios.size();
  return true;
}

std::vector<uint64_t> PageCache::submit_writes(FileState& f, const std::vector<uint64_t>& indices, IoKind kind) {
  KS_ASSERT(kind == IoKind::kChunkWrite || kind == IoKind::kSyncWrite);
  DeviceState& d = devices_[f.device];
  const uint64_t ext = params_.extent_bytes;
  std::vector<uint64_t> ios;
  size_t i = 0;
  while (i < indices.size()) {
    // A run of extents becomes one request when it is contiguous on the device and small enough.
    size_t j = i;
    uint64_t bytes = 0;
    while (j < indices.size()) {
      const Extent& e = extent_at(f, indices[j]);
      const uint64_t span = e.dirty_hi - e.dirty_lo;
      if (j > i) {
        const Extent& prev = extent_at(f, indices[j - 1]);
        const bool contiguous = indices[j] == indices[j - 1] + 1 && prev.dirty_hi == ext && e.dirty_lo == 0;
        if (!contiguous || bytes + span > params_.max_io_bytes) break;
      }
      bytes += span;
      ++j;
    }
    const Extent& first = extent_at(f, indices[i]);
    IoRequest req;
    req.op = IoOp::kWrite;
    req.device_offset_bytes = f.device_base_offset + indices[i] * ext + first.dirty_lo;
    req.bytes = bytes;
    const uint64_t io = next_id_++;
    for (size_t k = i; k < j; ++k) {
      Extent& e = extent_at(f, indices[k]);
      const uint64_t pages = span_pages(e.dirty_lo, e.dirty_hi);
      e.wb_lo = e.dirty_lo;
      e.wb_hi = e.dirty_hi;
      e.wb_io = io;
      clear_dirty(f, e);
      // The page moves from NR_FILE_DIRTY to NR_WRITEBACK; the device's dirty+writeback sum is unchanged.
      stats_.writeback_bytes += pages * kPageBytes;
      d.dirty_bytes += pages * kPageBytes;
    }
    PendingIo p;
    p.kind = kind;
    p.file = f.id;
    p.file_generation = f.generation;
    p.device = f.device;
    p.first_extent = indices[i];
    p.extent_count = j - i;
    p.bytes = bytes;
    submit(io, req, std::move(p));
    ios.push_back(io);
    i = j;
  }
  return ios;
}

void PageCache::submit(uint64_t io, const IoRequest& req, PendingIo pending) {
  const uint32_t device = pending.device;
  KS_ASSERT_LT(device, devices_.size());
  ios_.emplace(io, std::move(pending));
  std::weak_ptr<bool> alive = alive_;
  devices_[device].device->submit(req, [this, io, alive](IoStatus status) {
    if (alive.expired()) return;
    on_io_done(io, status);
  });
}

void PageCache::on_io_done(uint64_t io, IoStatus status) {
  ++io_completions_;
  auto it = ios_.find(io);
  if (it == ios_.end()) return;  // forgotten by crash()
  PendingIo p = std::move(it->second);
  ios_.erase(it);
  switch (p.kind) {
    case IoKind::kRead:
      on_read_io_done(io, p, status);
      break;
    case IoKind::kChunkWrite:
    case IoKind::kSyncWrite:
      on_write_done(io, p, status);
      break;
    case IoKind::kFlush:
      for (const uint64_t fs : p.fsync_waiters) finish_fsync(fs, status);
      break;
  }
}

void PageCache::on_write_done(uint64_t io, PendingIo& p, IoStatus status) {
  FileState* fp = find_file(p.file);
  if (fp != nullptr && fp->generation == p.file_generation) {
    FileState& f = *fp;
    DeviceState& fd = devices_[f.device];
    for (uint64_t index = p.first_extent; index < p.first_extent + p.extent_count; ++index) {
      Extent* ep = f.extents.find(index);
      if (ep == nullptr || ep->wb_io != io) continue;
      Extent& e = *ep;
      const uint64_t bytes = span_pages(e.wb_lo, e.wb_hi) * kPageBytes;
      stats_.writeback_bytes -= bytes;
      fd.dirty_bytes -= bytes;
      e.wb_lo = e.wb_hi = 0;
      e.wb_io = 0;
    }
    // A failed writeback leaves the pages clean and the error on the mapping (errseq), for fsync to report.
    if (status != IoStatus::kOk && f.wb_error == IoStatus::kOk) f.wb_error = status;
  }
  if (status == IoStatus::kOk) stats_.written_back_bytes += p.bytes;
  DeviceState& d = devices_[p.device];
  if (p.kind == IoKind::kChunkWrite) {
    KS_ASSERT_GT(d.chunk_outstanding, 0u);
    --d.chunk_outstanding;
    if (status == IoStatus::kOk) d.bw_written_bytes += p.bytes;
    if (d.chunk_outstanding == 0) update_write_bw(d);
  }
  if (d.chunk_outstanding == 0) {
    flusher_step(p.device);
    if (d.chunk_outstanding == 0) d.bw_idle = true;
  }
  for (const uint64_t fs : p.fsync_waiters) fsync_io_done(fs, status);
  reclaim();
}

void PageCache::update_write_bw(DeviceState& d) {
  const SimTime now = engine_.now();
  const Duration elapsed = now - d.bw_stamp;
  if (elapsed < kBandwidthInterval) return;
  // wb_update_write_bandwidth(): bw = (bw_inst·Δt + bw·(P − Δt))/P, or bw_inst when Δt ≥ P.
  const double inst = static_cast<double>(d.bw_written_bytes / kPageBytes) * 1e9 / static_cast<double>(elapsed.ns());
  double bw = inst;
  if (elapsed < kBandwidthPeriod) {
    const double dt = static_cast<double>(elapsed.ns());
    const double period = static_cast<double>(kBandwidthPeriod.ns());
    bw = (inst * dt + static_cast<double>(d.write_bw_pages_per_s) * (period - dt)) / period;
  }
  d.write_bw_pages_per_s = std::max<uint64_t>(static_cast<uint64_t>(bw), 1);
  d.bw_stamp = now;
  d.bw_written_bytes = 0;
}

// ---------------------------------------------------------------------------------------------------------
// Read path and readahead.

bool PageCache::read(FileId file, uint64_t offset, uint64_t bytes, ReadDone done, ReadResult* answer_now) {
  KS_ASSERT_GT(bytes, 0u);
  KS_ASSERT(static_cast<bool>(done));
  FileState& f = file_state(file);
  const uint64_t end = offset + bytes;
  KS_ASSERT_LE(end, f.size_bytes);
  const uint64_t ext = params_.extent_bytes;
  const uint64_t p0 = offset / kPageBytes;
  const uint64_t p1 = (end + kPageBytes - 1) / kPageBytes;
  const uint64_t req = p1 - p0;
  const uint64_t max_pages = params_.read_ahead_kb * 1024 / kPageBytes;

  bool need_io = false;
  for (uint64_t index = offset / ext; index * ext < end; ++index) {
    if (f.extents.find(index) == nullptr) {
      need_io = true;
      break;
    }
  }
  Readahead& ra = f.ra;
  if (need_io) {
    if (max_pages == 0) {
      ensure_read(f, p0, p1);
    } else if (p0 == 0 || req > max_pages ||
               (ra.prev_page >= 0 && p0 >= static_cast<uint64_t>(ra.prev_page) &&
                p0 - static_cast<uint64_t>(ra.prev_page) <= 1)) {
      // page_cache_sync_ra(): a new window at file start, for a large request, or for a sequential read.
      ra.start = p0;
      ra.size = pcm::readahead_init_pages(req, max_pages);
      ra.async_size = ra.size > req ? ra.size - req : ra.size;
      ensure_read(f, p0, std::max(p1, ra.start + ra.size));
    } else {
      // Context readahead: the cached history just before the miss tells an interleaved sequential stream
      // (history longer than the request) from a random read.
      uint64_t history = 0;
      while (history < max_pages && history < p0) {
        const uint64_t page = p0 - 1 - history;
        const Extent* e = f.extents.find(page * kPageBytes / ext);
        if (e == nullptr || !e->resident) break;
        ++history;
      }
      if (history <= req) {
        ensure_read(f, p0, p1);
      } else {
        ra.start = p0;
        ra.size = std::min(history + req, max_pages);
        ra.async_size = 1;
        ensure_read(f, p0, std::max(p1, ra.start + ra.size));
      }
    }
  } else if (max_pages > 0 && ra.size > 0) {
    // page_cache_async_ra(): reading the marked page pipelines the next, larger window.
    const uint64_t marker = ra.start + ra.size - ra.async_size;
    if (marker >= p0 && marker < p1) {
      ra.start += ra.size;
      ra.size = pcm::readahead_next_pages(ra.size, max_pages);
      ra.async_size = ra.size;
      ensure_read(f, ra.start, ra.start + ra.size);
    }
  }
  ra.prev_page = static_cast<int64_t>(p1 - 1);

  ReadResult result;
  std::vector<uint64_t> waits;
  for (uint64_t index = offset / ext; index * ext < end; ++index) {
    const uint64_t overlap = std::min(end, (index + 1) * ext) - std::max(offset, index * ext);
    Extent& e = extent_at(f, index);
    if (e.resident) {
      result.hit_bytes += overlap;
      mark_accessed(e);
    } else {
      KS_ASSERT_NE(e.read_io, 0u);
      result.miss_bytes += overlap;
      if (std::find(waits.begin(), waits.end(), e.read_io) == waits.end()) waits.push_back(e.read_io);
    }
  }
  KS_ASSERT_EQ(result.hit_bytes + result.miss_bytes, bytes);
  stats_.hit_bytes += result.hit_bytes;
  stats_.miss_bytes += result.miss_bytes;
  reclaim();
  if (waits.empty()) {
    if (answer_now != nullptr) {
      *answer_now = result;
      return true;
    }
    ready_reads_.emplace_back(std::move(done), result);
    const uint64_t epoch = epoch_;
    engine_.schedule_after(Duration::zero(), [this, epoch] { fire_ready_reads(epoch); });
    return false;
  }
  const uint64_t rid = next_id_++;
  PendingRead pr;
  pr.file = file;
  pr.offset = offset;
  pr.bytes = bytes;
  pr.outstanding = waits.size();
  pr.result = result;
  pr.done = std::move(done);
  reads_.emplace(rid, std::move(pr));
  for (const uint64_t io : waits) ios_.at(io).read_waiters.push_back(rid);
  return false;
}

void PageCache::ensure_read(FileState& f, uint64_t first_page, uint64_t end_page) {
  KS_ASSERT_LT(first_page, end_page);
  const uint64_t ext = params_.extent_bytes;
  const uint64_t end_bytes = std::min(end_page * kPageBytes, f.size_bytes);
  if (first_page * kPageBytes >= end_bytes) return;  // the window lies past end of file
  const uint64_t first_index = first_page * kPageBytes / ext;
  const uint64_t end_index = (end_bytes + ext - 1) / ext;
  uint64_t run_first = 0, run_count = 0;
  auto flush_run = [&] {
    if (run_count == 0) return;
    const uint64_t io = next_id_++;
    const uint64_t start = run_first * ext;
    const uint64_t bytes = std::min((run_first + run_count) * ext, f.size_bytes) - start;
    for (uint64_t k = run_first; k < run_first + run_count; ++k) extent_at(f, k).read_io = io;
    IoRequest req;
    req.op = IoOp::kRead;
    req.device_offset_bytes = f.device_base_offset + start;
    req.bytes = bytes;
    PendingIo p;
    p.kind = IoKind::kRead;
    p.file = f.id;
    p.file_generation = f.generation;
    p.device = f.device;
    p.first_extent = run_first;
    p.extent_count = run_count;
    p.bytes = bytes;
    stats_.device_read_bytes += bytes;
    submit(io, req, std::move(p));
    run_count = 0;
  };
  for (uint64_t index = first_index; index < end_index; ++index) {
    if (f.extents.find(index) != nullptr) {
      flush_run();
      continue;
    }
    // A page being read is allocated and locked but not yet on an LRU list, so reclaim cannot take it.
    Extent& e = *f.extents.try_emplace(index).first;
    e.file = &f;
    charge(e, std::min(ext, f.size_bytes - index * ext));
    if (run_count > 0 && (run_count + 1) * ext > params_.max_io_bytes) flush_run();
    if (run_count == 0) run_first = index;
    ++run_count;
  }
  flush_run();
}

void PageCache::on_read_io_done(uint64_t io, PendingIo& p, IoStatus status) {
  FileState* fp = find_file(p.file);
  if (fp != nullptr && fp->generation == p.file_generation) {
    FileState& f = *fp;
    for (uint64_t index = p.first_extent; index < p.first_extent + p.extent_count; ++index) {
      Extent* ep = f.extents.find(index);
      if (ep == nullptr || ep->read_io != io) continue;
      Extent& e = *ep;
      e.read_io = 0;
      if (status == IoStatus::kOk || e.resident) {
        e.resident = true;
        if (e.list == LruList::kNone) lru_push_head(inactive_, e, LruList::kInactive);
      } else {
        remove_extent(f, e);  // a failed read leaves nothing cached
      }
    }
  }
  for (const uint64_t rid : p.read_waiters) {
    auto rit = reads_.find(rid);
    if (rit == reads_.end()) continue;
    PendingRead& r = rit->second;
    if (status != IoStatus::kOk && r.result.status == IoStatus::kOk) r.result.status = status;
    KS_ASSERT_GT(r.outstanding, 0u);
    if (--r.outstanding == 0) complete_read(rid);
  }
  reclaim();
}

void PageCache::complete_read(uint64_t read_id) {
  auto it = reads_.find(read_id);
  KS_ASSERT(it != reads_.end());
  PendingRead r = std::move(it->second);
  reads_.erase(it);
  // The reader copies the pages it waited for and marks them accessed (filemap_read).
  if (FileState* fp = find_file(r.file); fp != nullptr) {
    FileState& f = *fp;
    const uint64_t ext = params_.extent_bytes;
    for (uint64_t index = r.offset / ext; index * ext < r.offset + r.bytes; ++index) {
      Extent* e = f.extents.find(index);
      if (e != nullptr && e->resident && e->list != LruList::kNone) mark_accessed(*e);
    }
  }
  r.done(r.result);
}

void PageCache::fire_ready_reads(uint64_t epoch) {
  if (epoch != epoch_) return;
  KS_ASSERT(!ready_reads_.empty());
  auto [done, result] = std::move(ready_reads_.front());
  ready_reads_.pop_front();
  done(result);
}

// ---------------------------------------------------------------------------------------------------------
// fsync.

void PageCache::fsync(FileId file, FsyncDone done) {
  KS_ASSERT(static_cast<bool>(done));
  FileState& f = file_state(file);
  const uint64_t id = next_id_++;
  PendingFsync ps;
  ps.file = file;
  ps.file_generation = f.generation;
  ps.done = std::move(done);
  fsyncs_.emplace(id, std::move(ps));
  fsync_round(id);
}

void PageCache::fsync_round(uint64_t fsync_id) {
  PendingFsync& ps = fsyncs_.at(fsync_id);
  KS_ASSERT_LT(ps.round, 2);
  FileState* fp = find_file(ps.file);
  std::vector<uint64_t> waits;
  if (fp != nullptr && fp->generation == ps.file_generation) {
    FileState& f = *fp;
    // filemap_write_and_wait_range(): write every dirty page, wait on every page under writeback. A page
    // both dirty and under writeback is written again once that writeback ends (the second round).
    std::vector<uint64_t> to_write;
    if (ps.round == 0) {
      f.extents.for_each([&](const Extent& e) {
        if (e.under_writeback()) {
          if (std::find(waits.begin(), waits.end(), e.wb_io) == waits.end()) waits.push_back(e.wb_io);
          if (e.dirty()) ps.second_round.push_back(e.index);
        } else if (e.dirty()) {
          to_write.push_back(e.index);
        }
      });
    } else {
      for (const uint64_t index : ps.second_round) {
        const Extent* ep = f.extents.find(index);
        if (ep == nullptr) continue;
        const Extent& e = *ep;
        if (e.under_writeback()) {
          if (std::find(waits.begin(), waits.end(), e.wb_io) == waits.end()) waits.push_back(e.wb_io);
        } else if (e.dirty()) {
          to_write.push_back(index);
        }
      }
      ps.second_round.clear();
    }
    if (!to_write.empty()) {
      const std::vector<uint64_t> ios = submit_writes(f, to_write, IoKind::kSyncWrite);
      waits.insert(waits.end(), ios.begin(), ios.end());
    }
  }
  ++ps.round;
  ps.outstanding = waits.size();
  for (const uint64_t io : waits) ios_.at(io).fsync_waiters.push_back(fsync_id);
  if (waits.empty()) fsync_advance(fsync_id);
}

void PageCache::fsync_io_done(uint64_t fsync_id, IoStatus status) {
  auto it = fsyncs_.find(fsync_id);
  if (it == fsyncs_.end()) return;
  PendingFsync& ps = it->second;
  if (status != IoStatus::kOk && ps.status == IoStatus::kOk) ps.status = status;
  KS_ASSERT_GT(ps.outstanding, 0u);
  if (--ps.outstanding == 0) fsync_advance(fsync_id);
}

void PageCache::fsync_advance(uint64_t fsync_id) {
  PendingFsync& ps = fsyncs_.at(fsync_id);
  if (ps.round == 1 && !ps.second_round.empty()) {
    fsync_round(fsync_id);
    return;
  }
  // Data is on the device; a cache flush makes it durable (blkdev_issue_flush). The flush completes from
  // a later event, so `done` never runs inside fsync().
  const FileState* fp = find_file(ps.file);
  const uint32_t device = fp != nullptr ? fp->device : 0;
  if (fp == nullptr || devices_.empty()) {
    // The file was removed meanwhile: report what we have from a later event.
    const uint64_t epoch = epoch_;
    engine_.schedule_after(Duration::zero(), [this, epoch, fsync_id] {
      if (epoch == epoch_) finish_fsync(fsync_id, IoStatus::kOk);
    });
    return;
  }
  PendingIo p;
  p.kind = IoKind::kFlush;
  p.file = ps.file;
  p.file_generation = ps.file_generation;
  p.device = device;
  p.fsync_waiters.push_back(fsync_id);
  IoRequest req;
  req.op = IoOp::kFlush;
  submit(next_id_++, req, std::move(p));
}

void PageCache::finish_fsync(uint64_t fsync_id, IoStatus status) {
  auto it = fsyncs_.find(fsync_id);
  if (it == fsyncs_.end()) return;
  PendingFsync ps = std::move(it->second);
  fsyncs_.erase(it);
  IoStatus result = ps.status != IoStatus::kOk ? ps.status : status;
  FileState* fp = find_file(ps.file);
  if (fp != nullptr && fp->generation == ps.file_generation) {
    // errseq: an earlier background writeback error is reported once, by the next fsync.
    if (result == IoStatus::kOk) result = fp->wb_error;
    fp->wb_error = IoStatus::kOk;
  }
  ps.done(result);
}

// ---------------------------------------------------------------------------------------------------------
// Faults.

std::vector<CrashLoss> PageCache::crash() {
  std::vector<CrashLoss> losses;
  const uint64_t ext = params_.extent_bytes;
  for (auto& [id, fp] : files_) {
    FileState& f = *fp;
    CrashLoss loss;
    loss.file = id;
    loss.first_lost_offset = std::numeric_limits<uint64_t>::max();
    f.extents.for_each([&](const Extent& e) {
      // Dirty data and data whose writeback I/O has not completed never reached the device.
      const uint64_t lost = union_bytes(e.dirty_lo, e.dirty_hi, e.wb_lo, e.wb_hi);
      if (lost == 0) return;
      loss.lost_bytes += lost;
      uint32_t lo = std::numeric_limits<uint32_t>::max();
      if (e.dirty()) lo = std::min(lo, e.dirty_lo);
      if (e.under_writeback()) lo = std::min(lo, e.wb_lo);
      loss.first_lost_offset = std::min(loss.first_lost_offset, e.index * ext + lo);
    });
    if (loss.lost_bytes > 0) losses.push_back(loss);
    f.extents.clear();
    f.dirty_extents.clear();
    f.ra = Readahead{};
    f.writeback_cursor = 0;
    f.wb_error = IoStatus::kOk;
  }
  for (DeviceState& d : devices_) {
    d.dirty_files.clear();
    d.b_io.clear();
    d.kupdate = false;
    d.chunk_outstanding = 0;
    d.bw_idle = true;
    d.dirty_bytes = 0;
    // A rebooted kernel starts its estimates from INIT_BW again.
    d.write_bw_pages_per_s = std::max<uint64_t>(params_.initial_write_bw_bytes_per_s / kPageBytes, 1);
    d.dirty_ratelimit_pages_per_s = d.write_bw_pages_per_s;
    d.balanced_ratelimit_pages_per_s = d.write_bw_pages_per_s;
    d.bw_stamp = d.rl_stamp = engine_.now();
    d.bw_written_bytes = 0;
    d.rl_dirtied_stamp = d.dirtied_total_bytes;
  }
  inactive_ = Lru{};
  active_ = Lru{};
  stats_.cached_bytes = 0;
  stats_.dirty_bytes = 0;
  stats_.writeback_bytes = 0;
  ios_.clear();
  reads_.clear();
  fsyncs_.clear();
  ready_reads_.clear();
  parked_writers_.clear();
  free_writer_slots_.clear();
  tick_armed_ = false;
  ++epoch_;  // every event and completion scheduled before now is ignored
  ++io_completions_;  // the lists are empty: no failed pass stands
  dirty_limit_bytes_ = base_thresholds().thresh_bytes;
  dirty_limit_stamp_ = engine_.now();
  return losses;
}

void PageCache::drop_caches() {
  for (auto& [id, fp] : files_) {
    FileState& f = *fp;
    std::vector<uint64_t> victims;
    f.extents.for_each([&](const Extent& e) {
      if (e.resident && !e.dirty() && !e.under_writeback() && e.read_io == 0) victims.push_back(e.index);
    });
    for (const uint64_t index : victims) evict(extent_at(f, index));
  }
}

void PageCache::set_cache_bytes(uint64_t cache_bytes) {
  cache_bytes_ = cache_bytes;
  ++io_completions_;  // a new budget deserves a fresh pass
  base_thresholds_ = pcm::dirty_thresholds(cache_bytes_, params_);
  update_dirty_limit();
  reclaim();
}

}  // namespace kafkasim::models
