// The seam between the page cache (and anything else that does I/O) and a storage device model.
//
// A request addresses the device by byte offset (a logical block address times the block size). Whoever
// lays files out on the device (cluster/) turns (file, offset in file) into a device offset; the device
// model only sees addresses, sizes and directions, which is all its service-time equations need.
#pragma once

#include <cstdint>
#include <functional>

namespace kafkasim::models {

enum class IoOp : uint8_t { kRead, kWrite, kFlush };

// Outcome of a device operation. Errors are values, mirroring what Linux returns to the writer.
enum class IoStatus : uint8_t {
  kOk,
  kNoSpace,  // ENOSPC: the device is full (fault "full")
  kIoError,  // EIO: the device has failed (fault "failed")
};

struct IoRequest {
  IoOp op = IoOp::kRead;
  uint64_t device_offset_bytes = 0;  // ignored for kFlush
  uint64_t bytes = 0;                // 0 for kFlush
};

using IoCompletion = std::function<void(IoStatus)>;

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  // Queues the request; `done` is called from a later engine event (never synchronously from submit()).
  virtual void submit(const IoRequest& request, IoCompletion done) = 0;
  // Capacity in bytes (writes beyond it fail with kNoSpace).
  virtual uint64_t capacity_bytes() const = 0;
};

}  // namespace kafkasim::models
