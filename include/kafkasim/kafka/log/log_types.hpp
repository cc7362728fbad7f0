// Value types of the partition log: accounted record batches, file identities and storage operations.
//
// Records are accounted, not materialised (DESIGN.md principle 3): a batch carries offsets, a record count, its
// size in bytes (computed by the producer for the v2 format), its max timestamp and the producer fields, never
// payload. The log never touches storage itself; it returns `StorageOp`s that the cluster layer turns into
// page-cache and disk operations (sans-I/O, STYLE.md "State machines in, effects out").
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// A stable identity for one segment. The segment's three files (.log, .index, .timeindex) are named by
// (FileId, FileKind). The value is `log_id << 32 | segment sequence number`, so it is unique per broker when
// the cluster layer gives each log a distinct log id, and it never depends on iteration order.
struct FileId {
  uint64_t value = 0;
  constexpr auto operator<=>(const FileId&) const = default;
};

enum class FileKind : uint8_t {
  log,           // the `.log` file: batches back to back
  offset_index,  // the `.index` file: 8-byte entries (relative offset int32, position int32)
  time_index,    // the `.timeindex` file: 12-byte entries (timestamp int64, relative offset int32)
};

inline constexpr int64_t offset_index_entry_bytes = 8;   // OffsetIndex.ENTRY_SIZE
inline constexpr int64_t time_index_entry_bytes = 12;    // TimeIndex.ENTRY_SIZE

enum class StorageOpKind : uint8_t {
  create,    // create the file; `position` = preallocated length (indexes are sparse mmaps, so no I/O)
  write,     // write `bytes` at `position` (buffered: the page cache decides when it reaches the disk)
  read,      // read `bytes` at `position` (only crash recovery reads through the log; fetches use LogReadResult)
  truncate,  // set the file length to `position`
  fsync,     // make the file durable; when every fsync tagged `flush_offset` completes, call
             // Log::on_flush_completed(flush_offset)
  fsync_background,  // the same, issued in the background: UnifiedLog.roll schedules the flush of the rolled
                     // segment on the scheduler ("flush-log"), so no append or response waits for it
  remove,    // rename to `.deleted` now and unlink after `delay` (file.delete.delay.ms)
};

struct StorageOp {
  StorageOpKind kind = StorageOpKind::write;
  FileKind file_kind = FileKind::log;
  FileId file_id;
  int64_t position = 0;
  int64_t bytes = 0;
  int64_t flush_offset = -1;
  sim::Duration delay;

  bool operator==(const StorageOp&) const = default;
};

// The outbox a log method appends its storage operations to, in the order they must be issued.
using StorageOps = std::vector<StorageOp>;

// One record batch (v2 format), accounted. On the leader path `base_offset` is ignored and assigned by the log;
// on the follower path it is taken as is.
struct RecordBatch {
  int64_t base_offset = -1;
  int32_t record_count = 0;   // records in the batch; the last offset is base_offset + record_count - 1
  int32_t size_bytes = 0;     // the batch's size on disk and on the wire (batch.sizeInBytes)
  sim::SimTime max_timestamp; // the largest record timestamp (CreateTime)
  // The first record's timestamp (the v2 header's baseTimestamp). A producer appends records in send() order, so
  // no record of the batch is older: the leader's timestamp check (message.timestamp.before.max.ms) reads it. Not
  // kept by the log (a batch read back has 0), as the records themselves are not.
  sim::SimTime base_timestamp;
  int64_t producer_id = -1;   // opaque to the log (RecordBatch.NO_PRODUCER_ID = -1)
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t partition_leader_epoch = -1;  // set by the leader on append (§2.3 step 2)
  // Records without a key. Checked by the leader's append only (LogValidator: a compacted topic takes none, §2.3
  // step 2) and not kept by the log (a batch read back has 0), as the records themselves are not.
  int32_t null_key_records = 0;
  uint64_t tag = 0;           // opaque to the log: lets the cluster layer find per-record metadata again
  // Opaque to the log, and not kept by it (a batch read back has -1): the producer's number of the batch's first
  // record, records being numbered in send() order, so that the cluster layer can see a leader append a producer's
  // records after records it sent later (the durability check's ordering).
  int64_t first_record_number = -1;

  constexpr int64_t last_offset() const { return base_offset + record_count - 1; }
  constexpr int64_t next_offset() const { return base_offset + record_count; }
};

// A batch as stored in a segment: where it sits in the `.log` file and whether an index entry refers to it.
// Segments keep their batches packed (SegmentBatches, 32 bytes a batch) and rebuild this on reading.
struct StoredBatch {
  RecordBatch batch;
  // Byte position in the segment's `.log` file. A segment never exceeds 2 GiB (LogSegment checks it, as Kafka's
  // int32 file positions do).
  int32_t position = 0;
  // An offset-index entry (largest offset of the append ending with this batch) was written before the append.
  bool has_offset_index_entry = false;
  // A time-index entry points at this batch's last offset.
  bool has_time_index_entry = false;

  constexpr int64_t end_position() const { return int64_t{position} + batch.size_bytes; }
};

}  // namespace kafkasim::kafka
