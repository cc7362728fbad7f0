#include "kafkasim/cluster/host_hardware.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::cluster {

DiskParams disk_params(const ProfileParams& profile) {
  if (const auto* hdd = std::get_if<models::HddParams>(&profile)) return *hdd;
  if (const auto* ssd = std::get_if<models::SsdParams>(&profile)) return *ssd;
  const auto* ebs = std::get_if<models::EbsParams>(&profile);
  KS_ASSERT_MSG(ebs != nullptr, "a disk profile");
  return *ebs;
}

std::unique_ptr<models::DiskModel> make_disk(sim::Engine& engine, const DiskParams& params, sim::Rng rng) {
  if (const auto* hdd = std::get_if<models::HddParams>(&params)) return std::make_unique<models::HddDisk>(engine, *hdd, rng);
  if (const auto* ssd = std::get_if<models::SsdParams>(&params)) return std::make_unique<models::SsdDisk>(engine, *ssd, rng);
  return std::make_unique<models::EbsVolume>(engine, std::get<models::EbsParams>(params), rng);
}

HostHardware::HostHardware(sim::Engine& engine, const HostHardwareSpec& spec, models::CpuParams cpu,
                           uint64_t root_seed, const std::string& rng_prefix)
    : engine_(engine), spec_(spec) {
  KS_ASSERT_GT(spec.log_dirs, 0u);
  KS_ASSERT_GT(spec.ram_bytes, spec.jvm_heap_bytes + spec.other_memory_bytes);
  std::vector<models::BlockDevice*> devices;
  if (spec.ebs_instance) {
    KS_ASSERT_MSG(std::holds_alternative<models::EbsParams>(spec.disk), "an EBS instance's limits over EBS volumes");
    ebs_instance_ = std::make_unique<models::EbsInstanceLink>(engine, *spec.ebs_instance);
  }
  for (uint32_t i = 0; i < spec.log_dirs; ++i) {
    sim::Rng rng = sim::Rng::stream(root_seed, rng_prefix + "/disk/" + std::to_string(i));
    disks_.push_back(make_disk(engine, spec.disk, rng));
    if (ebs_instance_) static_cast<models::EbsVolume&>(*disks_.back()).attach_instance(ebs_instance_.get());
    devices.push_back(disks_.back().get());
  }
  models::PageCacheParams cache = spec.page_cache;
  cache.cache_bytes = spec.ram_bytes - spec.jvm_heap_bytes - spec.other_memory_bytes;
  page_cache_ = std::make_unique<models::PageCache>(engine, cache);
  cpu.cores = spec.cores;
  cpu_ = std::make_unique<models::Cpu>(engine, std::move(cpu));
  storage_ = std::make_unique<LogStorage>(engine, *page_cache_, std::move(devices));
  if (spec.young_gc)
    young_gc_ = std::make_unique<models::YoungGc>(*spec.young_gc, sim::Rng::stream(root_seed, rng_prefix + "/jvm"));
}

sim::Duration HostHardware::jvm_allocate(uint64_t bytes) {
  if (!young_gc_) return sim::Duration::zero();
  const sim::Duration pause = young_gc_->allocate(bytes);
  if (pause <= sim::Duration::zero()) return pause;
  // Bytes that arrive during a pause are read once it ends; a collection they trigger follows it.
  const sim::Duration wait = cpu_->paused() ? cpu_->pause_end() - engine_.now() : sim::Duration::zero();
  cpu_->pause_for(wait + pause);
  return pause;
}

}  // namespace kafkasim::cluster
