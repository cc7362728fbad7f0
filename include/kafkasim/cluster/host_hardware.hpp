// The hardware of one simulated machine, assembled from hardware profiles: its disks (one per Kafka log dir),
// the page cache in front of them, its CPU with named thread pools, and the storage executor that runs a
// broker's log operations on them. The NIC is a link of the network fabric (cluster wiring adds it).
//
// Page-cache budget = RAM − JVM heap − other resident memory (hardware-models.md §3.6). Defaults follow the Kafka
// documentation's production example of a 6 GB heap (published-benchmarks.md §C) on a 64 GiB machine, with
// 1 GiB for the OS and other processes [A].
//
// The broker's JVM collects its young generation when what it allocated fills eden (models/young_gc.hpp,
// hardware-models.md §5.4); every collection pauses the whole host (Cpu::pause_for). What counts as allocation
// is the caller's: World reports every byte a broker reads from the network (NetworkReceive reads each request
// and each fetch response into a heap buffer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/log_storage.hpp"
#include "kafkasim/models/cpu.hpp"
#include "kafkasim/models/disk.hpp"
#include "kafkasim/models/page_cache.hpp"
#include "kafkasim/models/young_gc.hpp"
#include "kafkasim/sim/engine.hpp"

namespace kafkasim::cluster {

using DiskParams = std::variant<models::HddParams, models::SsdParams, models::EbsParams>;

// The disk parameters of a profile of kind "hdd", "ssd" or "ebs" (asserts on any other kind).
DiskParams disk_params(const ProfileParams& profile);
// A device of those parameters; `rng` is its stream.
std::unique_ptr<models::DiskModel> make_disk(sim::Engine& engine, const DiskParams& params, sim::Rng rng);

struct HostHardwareSpec {
  DiskParams disk = models::SsdParams{};
  uint32_t log_dirs = 1;  // disks, one per log dir (JBOD)
  // An EBS-optimized instance's limits on all its EBS volumes together (only with EBS disks); none: no such limit.
  std::optional<models::EbsInstanceParams> ebs_instance;
  NicProfile nic;
  uint32_t cores = 16;
  uint64_t ram_bytes = 64ull << 30;
  uint64_t jvm_heap_bytes = 6ull << 30;
  uint64_t other_memory_bytes = 1ull << 30;
  models::PageCacheParams page_cache;  // vm.dirty_* and readahead; its budget is set from the memory above
  std::optional<models::YoungGcParams> young_gc;  // none: the host never pauses for GC
};

class HostHardware {
 public:
  // `rng_prefix` names this host's RNG streams ("broker/2" -> "broker/2/disk/0").
  HostHardware(sim::Engine& engine, const HostHardwareSpec& spec, models::CpuParams cpu, uint64_t root_seed,
               const std::string& rng_prefix);

  models::PageCache& page_cache() { return *page_cache_; }
  models::Cpu& cpu() { return *cpu_; }
  LogStorage& storage() { return *storage_; }
  size_t disk_count() const { return disks_.size(); }
  models::DiskModel& disk(size_t i) { return *disks_.at(i); }
  const models::DiskModel& disk(size_t i) const { return *disks_.at(i); }
  // The instance's EBS limits its volumes share (HostHardwareSpec::ebs_instance); null without.
  const models::EbsInstanceLink* ebs_instance() const { return ebs_instance_.get(); }
  models::EbsInstanceLink* ebs_instance() { return ebs_instance_.get(); }
  const HostHardwareSpec& spec() const { return spec_; }
  // The JVM allocated `bytes`: when that fills eden, the host pauses for the collection, and the pause is
  // returned (zero otherwise, and always without young_gc).
  sim::Duration jvm_allocate(uint64_t bytes);
  const models::YoungGc* young_gc() const { return young_gc_.get(); }

 private:
  sim::Engine& engine_;
  HostHardwareSpec spec_;
  std::unique_ptr<models::EbsInstanceLink> ebs_instance_;  // before the volumes that point to it
  std::vector<std::unique_ptr<models::DiskModel>> disks_;
  std::unique_ptr<models::PageCache> page_cache_;
  std::unique_ptr<models::Cpu> cpu_;
  std::unique_ptr<LogStorage> storage_;
  std::unique_ptr<models::YoungGc> young_gc_;
};

}  // namespace kafkasim::cluster
