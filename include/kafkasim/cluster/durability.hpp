// The durability check's bookkeeping (DESIGN.md principle 7): the offsets of one partition that producers had
// acknowledged, and how they stand against a log at the end of a run.
//
// A record acknowledged with acks=1 or all carries its offset (the ProduceResponse's base offset plus its place in
// the batch); acks=0 has none (Kafka's -1) and is not kept here. Offsets are kept as disjoint [first, end) ranges,
// merged where they touch, so a partition whose records are all acknowledged costs one range however long the run;
// the records of a batch complete one after the other, so they grow the current run without touching the map.
#pragma once

#include <cstdint>
#include <map>

namespace kafkasim::cluster {

struct DurabilityCount {
  uint64_t checked = 0;  // acknowledged records
  uint64_t lost = 0;     // at or above the log end offset: no longer in the log
  uint64_t deleted = 0;  // below the log start offset: retention (or DeleteRecords) removed them, as configured
};

class AckedOffsets {
 public:
  // One acknowledged offset; each offset at most once (asserted when the runs are merged).
  void add(int64_t offset) {
    if (offset == run_end_ && run_end_ > run_first_) {
      ++run_end_;
      return;
    }
    flush();
    run_first_ = offset;
    run_end_ = offset + 1;
  }
  // Every acknowledged offset against a log holding [log_start, log_end).
  DurabilityCount count_against(int64_t log_start, int64_t log_end);
  // Every acknowledged offset when the partition has no log (no leader): all lost.
  DurabilityCount count_without_log();
  // The merged ranges (first offset -> end), the current run included.
  const std::map<int64_t, int64_t>& ranges();

 private:
  void flush();
  std::map<int64_t, int64_t> ranges_;
  int64_t run_first_ = 0, run_end_ = 0;
};

}  // namespace kafkasim::cluster
