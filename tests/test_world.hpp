// Building blocks for tests that run a whole simulated cluster.
#pragma once

#include <algorithm>
#include <optional>

#include "kafkasim/cluster/hardware_profiles.hpp"
#include "kafkasim/cluster/world.hpp"

namespace kafkasim::test {

// A cluster of `brokers` on the bundled profiles, one topic, no clients yet.
inline cluster::WorldSpec small_cluster(uint32_t brokers, const char* disk, const char* nic, int32_t partitions,
                                        int32_t rf, int32_t min_isr) {
  const auto dir = cluster::bundled_profile_dir();
  cluster::WorldSpec s;
  s.brokers = brokers;
  // __consumer_offsets with as many replicas as Kafka's default allows here (a single-node cluster sets 1).
  s.offsets_topic_replication_factor = static_cast<int32_t>(std::min<uint32_t>(3, brokers));
  s.broker_hardware.disk = cluster::disk_params(cluster::load_named_profile(disk, dir).params);
  s.broker_hardware.nic = std::get<cluster::NicProfile>(cluster::load_named_profile(nic, dir).params);
  s.client_nic = s.broker_hardware.nic;
  s.cpu_costs = std::get<cluster::CpuProfile>(cluster::load_named_profile("cpu-server-16core", dir).params).costs;
  cluster::TopicSpec t;
  t.name = "events";
  t.partitions = partitions;
  t.replication_factor = rf;
  t.config.min_insync_replicas = min_isr;
  s.topics.push_back(t);
  return s;
}

inline cluster::ProducerSpec open_loop_producer(double records_per_s, kafka::Acks acks, int64_t linger_ms,
                                                uint32_t value_bytes) {
  cluster::ProducerSpec p;
  p.records_per_s = records_per_s;
  p.config.acks = acks;
  p.config.linger = sim::Duration::from_ms(linger_ms);
  p.value_size = cluster::SizeDistribution::fixed(value_bytes);
  return p;
}

// A consumer entry of group `group` (a default-constructed ConsumerSpec has no group.id: a standalone consumer that
// may not commit, and Kafka's default enable.auto.commit=true would make the World refuse it).
inline cluster::ConsumerSpec group_member(const std::string& group = "g") {
  cluster::ConsumerSpec c;
  c.group = group;
  return c;
}

// A fault (WorldSpec::faults) on node `host` (brokers first, then the clients) from `at`, lasting `duration` (none: to
// the end of the run, or an instant for drop_caches; a restart's downtime). The caller sets the type's own
// parameters (speed, multipliers, extra_latency, ...).
inline cluster::FaultSpec fault(cluster::FaultKind kind, uint32_t host, sim::Duration at,
                                std::optional<sim::Duration> duration = std::nullopt) {
  cluster::FaultSpec f;
  f.kind = kind;
  f.host = host;
  f.at = at;
  f.duration = duration;
  return f;
}

// Runs three NVMe brokers on 10 GbE with one topic of `partitions` (RF=3, min.insync.replicas=2) and one producer
// for `duration`, the first `warmup` of it excluded from the summary.
inline cluster::WorldSummary run_three_brokers(int32_t partitions, const cluster::ProducerSpec& producer,
                                               sim::Duration duration, sim::Duration warmup) {
  auto spec = small_cluster(3, "nvme-datacentre", "nic-10gbe", partitions, 3, 2);
  spec.duration = duration;
  spec.warmup = warmup;
  spec.producers.push_back(producer);
  cluster::World world(spec);
  return world.run();
}

}  // namespace kafkasim::test
