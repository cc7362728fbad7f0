#include "kafkasim/cluster/log_storage.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

struct LogStorage::Batch {
  kafka::StorageOps ops;
  size_t next = 0;
  bool finished = false;
  models::IoStatus status = models::IoStatus::kOk;
  std::function<void(models::IoStatus)> done;
  bool done_inside = false;  // execute()'s caller accepts `done` inside execute()
  bool waited = false;       // some operation completed from an event
  bool writes_issued = false;  // the first pass (writes and metadata operations) is done
  size_t throttled_writes = 0;  // writes of the first pass still held by dirty throttling
  SegmentFlushTimer segment_flush;  // the in-line flush of the segment whose files it is fsyncing
};

void LogStorage::SegmentFlushTimer::file_started(kafka::FileKind kind, sim::SimTime now) {
  if (kind != kafka::FileKind::log) return;
  open = true;
  start = now;
}

void LogStorage::SegmentFlushTimer::file_ended(kafka::FileKind kind, sim::SimTime now, sim::SimTime from,
                                               sim::Histogram& times) {
  if (kind != kafka::FileKind::time_index || !open) return;
  open = false;
  if (start >= from) times.record((now - start).ns());
}

LogStorage::LogStorage(sim::Engine& engine, models::PageCache& cache, std::vector<models::BlockDevice*> disks)
    : engine_(engine), cache_(cache), disks_(std::move(disks)), next_offset_(disks_.size(), 0) {
  KS_ASSERT(!disks_.empty());
  for (const auto* d : disks_) KS_ASSERT(d != nullptr);
}

void LogStorage::assign_log(uint32_t log_id, size_t disk_index, uint64_t segment_bytes, uint64_t index_bytes) {
  KS_ASSERT_LT(disk_index, disks_.size());
  KS_ASSERT_GT(segment_bytes, 0u);
  KS_ASSERT_GT(index_bytes, 0u);
  KS_ASSERT_MSG(logs_.count(log_id) == 0, "log " + std::to_string(log_id) + " assigned twice");
  logs_[log_id] = LogPlacement{disk_index, segment_bytes, index_bytes};
  if (log_id < kDenseLogIds && log_id >= newest_.size()) newest_.resize(log_id + 1);
}

void LogStorage::set_segment_bytes(uint32_t log_id, uint64_t segment_bytes) {
  KS_ASSERT_GT(segment_bytes, 0u);
  const auto it = logs_.find(log_id);
  KS_ASSERT(it != logs_.end());
  it->second.segment_bytes = segment_bytes;
}

size_t LogStorage::disk_of_log(uint32_t log_id) const {
  const auto it = logs_.find(log_id);
  KS_ASSERT(it != logs_.end());
  return it->second.disk;
}

bool LogStorage::has_file(kafka::FileId file, kafka::FileKind kind) const {
  return files_.count(Key{file.value, static_cast<uint8_t>(kind)}) != 0;
}

const models::FileId* LogStorage::find_file(const Key& key) const {
  const uint64_t log_id = key.first >> 32;
  if (log_id < newest_.size()) {
    const NewestSegment& n = newest_[log_id];
    if (n.file_value == key.first && n.present[key.second]) return &n.ids[key.second];
  }
  const auto it = files_.find(key);
  if (it != files_.end()) return &it->second;
  // A renamed (`.deleted`) file stays readable until it is unlinked: a fetch response built before retention
  // deleted its segment still sends its slice (Kafka's reason for file.delete.delay.ms).
  const auto renamed = renamed_.find(key);
  return renamed != renamed_.end() ? &renamed->second : nullptr;
}

models::FileId LogStorage::file_for(const kafka::StorageOp& op) const {
  const models::FileId* id = find_file(Key{op.file_id.value, static_cast<uint8_t>(op.file_kind)});
  KS_ASSERT_MSG(id != nullptr, "storage op on a file that was never created or is already unlinked");
  return *id;
}

void LogStorage::create(const kafka::StorageOp& op) {
  const auto log_id = static_cast<uint32_t>(op.file_id.value >> 32);
  const auto placement = logs_.find(log_id);
  KS_ASSERT_MSG(placement != logs_.end(), "log " + std::to_string(log_id) + " has no disk");
  const LogPlacement& p = placement->second;
  models::BlockDevice& disk = *disks_[p.disk];
  // Each file gets the room it can grow to (segment.bytes, the index size) on the disk, files one after another,
  // so that a log's data lies where a filesystem would put it; on a disk smaller than that, the whole disk.
  const uint64_t region =
      std::min(op.file_kind == kafka::FileKind::log ? p.segment_bytes : p.index_bytes, disk.capacity_bytes());
  uint64_t& next = next_offset_[p.disk];
  // Wrap: earlier files have been deleted by retention (or were smaller than their room). Whether the files
  // still fit is the page cache's check (device_file_bytes against the capacity; World stops a run whose disk
  // fills).
  if (next + region > disk.capacity_bytes()) next = 0;
  const models::FileId id{next_file_id_++};
  cache_.add_file(id, disk, next, static_cast<uint64_t>(op.position));
  next += region;
  const auto [it, inserted] = files_.emplace(Key{op.file_id.value, static_cast<uint8_t>(op.file_kind)}, id);
  KS_ASSERT_MSG(inserted, "file created twice");
  if (log_id < newest_.size()) {
    NewestSegment& n = newest_[log_id];
    const auto kind = static_cast<size_t>(op.file_kind);
    if (op.file_id.value > n.file_value) n = NewestSegment{op.file_id.value, {}, {}};
    if (op.file_id.value == n.file_value) {
      n.ids[kind] = id;
      n.present[kind] = true;
    }
  }
}

void LogStorage::execute(kafka::StorageOps ops, std::function<void(models::IoStatus)> done, bool done_inside) {
  auto batch = std::make_shared<Batch>();
  batch->ops = std::move(ops);
  batch->done = std::move(done);
  batch->done_inside = done_inside;
  run_next(batch);
}

void LogStorage::run_next(const std::shared_ptr<Batch>& batch) {
  KS_ASSERT(!batch->finished);
  // First pass: every write and metadata operation, in order. The kafka layer has already made everything the
  // batch appends visible (log end offsets moved for every partition of the request), so every byte it writes
  // must be in the page cache before anything can wait: a fetch may read it meanwhile. In Kafka the appends of
  // a produce request follow one another, each fsyncing its partition under flush.messages before the next
  // partition is written (and made visible); here the writes go first and the fsyncs follow, in order. Writes
  // that dirty throttling holds are waited for together, before the second pass.
  if (!batch->writes_issued) {
    batch->writes_issued = true;
    for (size_t i = 0; i < batch->ops.size(); ++i) {
      const kafka::StorageOp& op = batch->ops[i];
      switch (op.kind) {
        case kafka::StorageOpKind::create:
          create(op);
          break;
        case kafka::StorageOpKind::truncate:
          KS_ASSERT_GE(op.position, 0);
          break;
        case kafka::StorageOpKind::remove: {
          const Key key{op.file_id.value, static_cast<uint8_t>(op.file_kind)};
          const auto it = files_.find(key);
          KS_ASSERT(it != files_.end());
          const models::FileId id = it->second;
          files_.erase(it);
          renamed_.emplace(key, id);
          if (const uint64_t log_id = key.first >> 32;
              log_id < newest_.size() && newest_[log_id].file_value == key.first)
            newest_[log_id].present[key.second] = false;
          // file.delete.delay.ms: the renamed file keeps its pages, and can still be read, until it is unlinked.
          engine_.schedule_after(op.delay, [this, key, id] {
            renamed_.erase(key);
            if (cache_.has_file(id)) cache_.remove_file(id);
          });
          break;
        }
        case kafka::StorageOpKind::write:
          KS_ASSERT_GE(op.position, 0);
          KS_ASSERT_GT(op.bytes, 0);
          if (!cache_.write(file_for(op), static_cast<uint64_t>(op.position), static_cast<uint64_t>(op.bytes),
                            [this, batch] {
                              batch->waited = true;
                              KS_ASSERT_GT(batch->throttled_writes, 0u);
                              if (--batch->throttled_writes == 0) run_next(batch);
                            },
                            true))
            ++batch->throttled_writes;
          break;
        case kafka::StorageOpKind::fsync_background: {
          // The scheduler's flush after a roll, waited for by nobody (UnifiedLog.roll): one task for the
          // consecutive fsyncs of the same (log, flush offset).
          BackgroundFlush flush;
          flush.log_id = static_cast<uint32_t>(op.file_id.value >> 32);
          flush.flush_offset = op.flush_offset;
          for (;;) {
            const kafka::StorageOp& f = batch->ops[i];
            if (f.flush_offset >= 0) ++pending_flushes_[{flush.log_id, f.flush_offset}].outstanding;
            flush.files.push_back(file_for(f));
            flush.kinds.push_back(f.file_kind);
            const size_t following = i + 1;
            if (following == batch->ops.size()) break;
            const kafka::StorageOp& g = batch->ops[following];
            if (g.kind != kafka::StorageOpKind::fsync_background || g.flush_offset != flush.flush_offset ||
                static_cast<uint32_t>(g.file_id.value >> 32) != flush.log_id)
              break;
            i = following;
          }
          flush_in_background(std::move(flush));
          break;
        }
        case kafka::StorageOpKind::fsync:
          // Counted now, so that a flush of several files completes only when the last of them has.
          if (op.flush_offset >= 0) ++pending_flushes_[{static_cast<uint32_t>(op.file_id.value >> 32), op.flush_offset}].outstanding;
          break;  // issued in the second pass
        case kafka::StorageOpKind::read:
          break;  // the second pass
      }
    }
    if (batch->throttled_writes > 0) return;
  }
  // Second pass: reads and fsyncs, in order, each after the previous completed. Reads the page cache serves
  // from memory take no event; loop over them.
  while (batch->next < batch->ops.size()) {
    const kafka::StorageOp& op = batch->ops[batch->next++];
    switch (op.kind) {
      case kafka::StorageOpKind::read: {
        models::ReadResult now;
        if (cache_.read(file_for(op), static_cast<uint64_t>(op.position), static_cast<uint64_t>(op.bytes),
                        [this, batch](const models::ReadResult& r) {
                          if (r.status != models::IoStatus::kOk && batch->status == models::IoStatus::kOk)
                            batch->status = r.status;
                          batch->waited = true;
                          run_next(batch);
                        },
                        &now)) {
          if (now.status != models::IoStatus::kOk && batch->status == models::IoStatus::kOk) batch->status = now.status;
          continue;
        }
        return;
      }
      case kafka::StorageOpKind::fsync: {
        const auto log_id = static_cast<uint32_t>(op.file_id.value >> 32);
        const int64_t flush_offset = op.flush_offset;
        const models::FileId* file = find_file(Key{op.file_id.value, static_cast<uint8_t>(op.file_kind)});
        const kafka::FileKind kind = op.file_kind;
        if (file == nullptr) {
          // The segment was deleted by retention and unlinked (file.delete.delay.ms) while an earlier fsync of
          // this flush waited for the disk. In Kafka the flush (flush.messages) runs under the log's lock, so it
          // ends before retention renames the segment; here there is nothing left to flush. As for a background
          // flush, the file is skipped and counts as flushed.
          KS_ASSERT_MSG(logs_.count(log_id) != 0, "fsync of a log that was never assigned");
          if (flush_offset >= 0) fsync_done(log_id, flush_offset, models::IoStatus::kOk);
          batch->segment_flush.file_ended(kind, engine_.now(), metrics_from_, segment_flush_times_);
          continue;
        }
        batch->segment_flush.file_started(kind, engine_.now());
        cache_.fsync(*file, [this, batch, log_id, flush_offset, kind](models::IoStatus s) {
          if (s != models::IoStatus::kOk && batch->status == models::IoStatus::kOk) batch->status = s;
          batch->waited = true;
          batch->segment_flush.file_ended(kind, engine_.now(), metrics_from_, segment_flush_times_);
          if (flush_offset >= 0) fsync_done(log_id, flush_offset, s);
          run_next(batch);
        });
        return;
      }
      default:
        continue;  // done in the first pass
    }
  }
  // All done: from an event unless the caller takes the answer inside execute() or it comes from an event
  // already.
  batch->finished = true;
  if (batch->done_inside || batch->waited) {
    batch->done(batch->status);
    return;
  }
  engine_.schedule_after(sim::Duration::zero(), [batch] { batch->done(batch->status); });
}

void LogStorage::flush_in_background(BackgroundFlush flush) {
  KS_ASSERT(!flush.files.empty());
  on_background_thread([this, f = std::make_shared<BackgroundFlush>(std::move(flush))] { continue_background_flush(f, 0); });
}

void LogStorage::run_on_background_thread(std::function<void(std::function<void()> release)> task) {
  on_background_thread([this, task = std::move(task)] { task([this] { release_background_thread(); }); });
}

void LogStorage::on_background_thread(std::function<void()> start) {
  if (background_running_ < background_threads_) {
    ++background_running_;
    start();
    return;
  }
  background_waiting_.push_back(std::move(start));
}

void LogStorage::resize_background_threads(uint32_t threads) {
  set_background_threads(threads);
  while (!background_waiting_.empty() && background_running_ < background_threads_) {
    std::function<void()> start = std::move(background_waiting_.front());
    background_waiting_.pop_front();
    ++background_running_;
    start();
  }
}

void LogStorage::release_background_thread() {
  // The task is done: its thread takes the next waiting task.
  KS_ASSERT_GT(background_running_, 0u);
  --background_running_;
  if (!background_waiting_.empty() && background_running_ < background_threads_) {
    std::function<void()> start = std::move(background_waiting_.front());
    background_waiting_.pop_front();
    ++background_running_;
    start();
  }
}

void LogStorage::continue_background_flush(std::shared_ptr<BackgroundFlush> flush, size_t next) {
  // Files unlinked since the task was scheduled are skipped (their flush finds no segment).
  while (next < flush->files.size() && !cache_.has_file(flush->files[next])) {
    if (flush->flush_offset >= 0) fsync_done(flush->log_id, flush->flush_offset, models::IoStatus::kOk);
    flush->segment_flush.file_ended(flush->kinds[next], engine_.now(), metrics_from_, segment_flush_times_);
    ++next;
  }
  if (next < flush->files.size()) {
    const models::FileId file = flush->files[next];
    flush->segment_flush.file_started(flush->kinds[next], engine_.now());
    cache_.fsync(file, [this, flush, next](models::IoStatus s) {
      if (flush->flush_offset >= 0) fsync_done(flush->log_id, flush->flush_offset, s);
      flush->segment_flush.file_ended(flush->kinds[next], engine_.now(), metrics_from_, segment_flush_times_);
      continue_background_flush(flush, next + 1);
    });
    return;
  }
  release_background_thread();
}

void LogStorage::fsync_done(uint32_t log_id, int64_t flush_offset, models::IoStatus status) {
  const auto it = pending_flushes_.find({log_id, flush_offset});
  KS_ASSERT(it != pending_flushes_.end());
  KS_ASSERT_GT(it->second.outstanding, 0u);
  it->second.failed = it->second.failed || status != models::IoStatus::kOk;
  if (--it->second.outstanding > 0) return;
  const bool failed = it->second.failed;
  pending_flushes_.erase(it);
  // A failed fsync leaves the recovery point where it was (Kafka takes the log dir offline instead).
  if (!failed && flush_listener_) flush_listener_(log_id, flush_offset);
}

bool LogStorage::read_slice(kafka::FileId file, int64_t position, int64_t bytes, models::ReadDone done,
                            models::ReadResult* answer_now) {
  KS_ASSERT_GE(position, 0);
  KS_ASSERT_GE(bytes, 0);
  const Key key{file.value, static_cast<uint8_t>(kafka::FileKind::log)};
  const models::FileId* id = find_file(key);
  // A file that exists was created for an assigned log (create() checks), so only a missing one needs the check.
  if (id == nullptr)
    KS_ASSERT_MSG(logs_.count(static_cast<uint32_t>(file.value >> 32)) != 0, "read of a log that was never assigned");
  if (bytes == 0 || id == nullptr) {
    // Nothing to read, or a slice of a segment unlinked since the response was built (possible only with a
    // file.delete.delay.ms shorter than the response's wait for its network thread): Linux keeps an unlinked
    // file's data while a descriptor is open, so the send goes ahead [A: at no I/O cost].
    if (answer_now != nullptr) {
      *answer_now = models::ReadResult{};
      return true;
    }
    engine_.schedule_after(sim::Duration::zero(), [done = std::move(done)] { done(models::ReadResult{}); });
    return false;
  }
  return cache_.read(*id, static_cast<uint64_t>(position), static_cast<uint64_t>(bytes), std::move(done), answer_now);
}

}  // namespace kafkasim::cluster
