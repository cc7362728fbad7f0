// Turns the storage operations of a broker's logs (kafka::StorageOp, sans-I/O) into page-cache and disk work.
//
// Each (segment, file kind) becomes one page-cache file with a contiguous region on one of the broker's disks
// (JBOD: every log lives on one log dir's disk, chosen by the cluster when the log is created). Regions are
// handed out by a bump allocator that wraps around the device, which is what a nearly empty file system does
// for files written once and deleted whole; fragmentation is ignored.
//
// Semantics (Kafka appends with buffered write(2) and never fsyncs on the produce path by default):
//   create    -> the file exists (no I/O: indexes are sparse mmaps, the log is empty)
//   write     -> a page-cache write; the operation completes when the cache admits it (dirty throttling may
//                delay it, which stalls the calling I/O thread as balance_dirty_pages stalls the writer)
//   truncate  -> metadata only [A]: the cached pages beyond the new end are not dropped early
//   fsync     -> PageCache::fsync, completes when the device has the data
//   remove    -> the file is renamed now and unlinked after file.delete.delay.ms: until then it can still be
//                read (sendfile of a fetch response built before the deletion), and its pages are dropped then
//   read      -> a page-cache read (recovery only; fetches use read_slice)
// Operations of one execute() call run in two passes: first every write and metadata operation, in order
// (a write held by dirty throttling does not hold back the next one; the pass ends when all are admitted),
// then the reads and fsyncs, in order, each after the previous completed, as one thread issuing syscalls
// does. The kafka layer makes a whole request's appends visible at once, so all their bytes must be in the
// page cache before an fsync of the same request can make anything wait (a fetch may read them meanwhile).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kafkasim/kafka/log/log_types.hpp"
#include "kafkasim/models/page_cache.hpp"
#include "kafkasim/sim/assert.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/histogram.hpp"

namespace kafkasim::cluster {

class LogStorage {
 public:
  // `disks` are the broker's log-dir devices; they and `cache` must outlive this object.
  LogStorage(sim::Engine& engine, models::PageCache& cache, std::vector<models::BlockDevice*> disks);

  // Places log `log_id` on disk `disk_index`; its .log files get regions of `segment_bytes`, its index files
  // regions of `index_bytes` (segment.bytes and segment.index.bytes).
  void assign_log(uint32_t log_id, size_t disk_index, uint64_t segment_bytes, uint64_t index_bytes);
  // A topic's segment.bytes altered: the log's files created from now on get regions of the new size.
  void set_segment_bytes(uint32_t log_id, uint64_t segment_bytes);

  // Executes `ops` in order; `done` runs when the last one completed. The status is the first error seen (a
  // full or failed disk), kOk otherwise. Writes the page cache does not throttle and reads it serves from
  // memory take no time and no event. With `done_inside` false, `done` always runs from an engine event, so a
  // caller never sees it inside execute(); with true it may run inside execute() when nothing had to wait.
  void execute(kafka::StorageOps ops, std::function<void(models::IoStatus)> done, bool done_inside = false);

  // background.threads: the kafka-scheduler threads that run the flushes a segment roll schedules; each holds
  // its thread until its fsyncs complete, so at most this many tasks run and the rest wait in order.
  void set_background_threads(uint32_t threads) {
    KS_ASSERT_GT(threads, 0u);
    background_threads_ = threads;
  }
  // background.threads altered during the run (KafkaScheduler.resizeThreadPool -> setCorePoolSize): more threads take
  // waiting tasks at once; with fewer, the tasks running finish and the threads over the count end as they do.
  void resize_background_threads(uint32_t threads);
  uint32_t background_threads() const { return background_threads_; }
  size_t background_flushes_waiting() const { return background_waiting_.size(); }
  // Runs `task` on a kafka-scheduler thread once one is free (tasks start in the order they were submitted, roll
  // flushes included); the thread stays taken until the task calls `release` (LogManager's "kafka-log-flusher"
  // holds its thread for its whole pass over the logs).
  void run_on_background_thread(std::function<void(std::function<void()> release)> task);

  // Called once every fsync an execute() tagged with the same (log, flush_offset) has completed without an
  // error: Log::on_flush_completed advances that log's recovery point (UnifiedLog.flush updates it after the
  // segments are flushed).
  void set_flush_listener(std::function<void(uint32_t log_id, int64_t flush_offset)> listener) {
    flush_listener_ = std::move(listener);
  }

  // Kafka's LogFlushStats.LogFlushRateAndTimeMs: the time of each segment flush (LogSegment.flush: its .log, .index
  // and .timeindex fsynced one after the other, from the first fsync's start to the last one's end), whatever asked
  // for it (a roll, flush.messages, the log flusher), in nanoseconds; the flushes that start at or after
  // set_metrics_from's time (a run's warm-up end; zero by default).
  const sim::Histogram& segment_flush_times() const { return segment_flush_times_; }
  void set_metrics_from(sim::SimTime from) { metrics_from_ = from; }

  // Reads a slice of a segment's .log file through the page cache (sendfile of a fetch response). With
  // `answer_now`, a read that needs no I/O fills it and returns true without running `done`.
  bool read_slice(kafka::FileId file, int64_t position, int64_t bytes, models::ReadDone done,
                  models::ReadResult* answer_now = nullptr);

  // The page-cache file id of a kafka file, if it exists.
  bool has_file(kafka::FileId file, kafka::FileKind kind) const;
  size_t disk_of_log(uint32_t log_id) const;
  uint64_t files_open() const { return files_.size(); }

 private:
  struct LogPlacement {
    size_t disk = 0;
    uint64_t segment_bytes = 0;
    uint64_t index_bytes = 0;
  };
  using Key = std::pair<uint64_t, uint8_t>;  // (kafka FileId value, FileKind)
  struct KeyHash {
    // The FileId value is log_id << 32 | segment number; the kind adds two low bits.
    size_t operator()(const Key& k) const { return std::hash<uint64_t>{}(k.first * 4 + k.second); }
  };

  // The files of each log's newest segment, by log id: nearly every operation and read is on them, and this
  // small table answers without a hash lookup. It mirrors `files_` (an entry is dropped when its file is
  // removed); everything else is found in the maps.
  struct NewestSegment {
    uint64_t file_value = 0;  // kafka FileId value of the segment
    std::array<models::FileId, 3> ids{};
    std::array<bool, 3> present{};
  };
  static constexpr uint32_t kDenseLogIds = 1u << 20;

  struct Batch;
  void run_next(const std::shared_ptr<Batch>& batch);
  models::FileId file_for(const kafka::StorageOp& op) const;
  // The page-cache file of a kafka file that exists or is renamed but not yet unlinked; nullptr otherwise.
  const models::FileId* find_file(const Key& key) const;
  void create(const kafka::StorageOp& op);
  // One flush-log task of the kafka-scheduler: the fsyncs of consecutive fsync_background ops with the same
  // (log, flush offset), done one after the other on one thread (LogSegment.flush: .log, .index, .timeindex).
  // Times one segment's flush across its three files' fsyncs: it starts with the .log's and ends with the
  // .timeindex's (LogSegment.flush's order).
  struct SegmentFlushTimer {
    bool open = false;
    sim::SimTime start;
    void file_started(kafka::FileKind kind, sim::SimTime now);
    void file_ended(kafka::FileKind kind, sim::SimTime now, sim::SimTime from, sim::Histogram& times);
  };
  struct BackgroundFlush {
    std::vector<models::FileId> files;
    uint32_t log_id = 0;
    int64_t flush_offset = -1;
    std::vector<kafka::FileKind> kinds;  // of each file
    SegmentFlushTimer segment_flush;
  };
  void flush_in_background(BackgroundFlush flush);
  // Fsyncs flush->files[next] and goes on with the next file; after the last it frees the thread.
  void continue_background_flush(std::shared_ptr<BackgroundFlush> flush, size_t next);
  // Runs `start` on a free scheduler thread now, or queues it until one is released.
  void on_background_thread(std::function<void()> start);
  void release_background_thread();
  // One tagged fsync of (log, flush_offset) completed (or was skipped: its file is gone).
  void fsync_done(uint32_t log_id, int64_t flush_offset, models::IoStatus status);

  sim::Engine& engine_;
  models::PageCache& cache_;
  std::vector<models::BlockDevice*> disks_;
  std::vector<uint64_t> next_offset_;  // bump allocator per disk
  std::map<uint32_t, LogPlacement> logs_;
  std::vector<NewestSegment> newest_;  // by log id, for log ids below kDenseLogIds
  // Looked up on every write and read; never iterated, so hashing cannot change results.
  std::unordered_map<Key, models::FileId, KeyHash> files_;
  std::unordered_map<Key, models::FileId, KeyHash> renamed_;  // removed (renamed `.deleted`), not unlinked yet
  uint64_t next_file_id_ = 1;
  uint32_t background_threads_ = 10;  // background.threads default
  uint32_t background_running_ = 0;
  std::deque<std::function<void()>> background_waiting_;  // tasks waiting for a scheduler thread, in order
  struct PendingFlush {
    uint32_t outstanding = 0;
    bool failed = false;
  };
  std::map<std::pair<uint32_t, int64_t>, PendingFlush> pending_flushes_;  // by (log id, flush offset)
  std::function<void(uint32_t, int64_t)> flush_listener_;
  sim::Histogram segment_flush_times_;
  sim::SimTime metrics_from_ = sim::SimTime::zero();
};

}  // namespace kafkasim::cluster
