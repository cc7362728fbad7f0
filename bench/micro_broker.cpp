// Google Benchmark micro-benchmark of the broker data path: one acks=all produce per iteration on an RF=3
// partition, committed by the two followers' fetches (the DelayedProduce parks and completes), as a
// replicated produce does in a full simulation. Includes the log append, follower-state updates, the HW
// advance and the purgatory work.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using namespace kafkasim;
using namespace kafkasim::kafka;

void BM_BrokerReplicatedProduce(benchmark::State& state) {
  const auto batch_bytes = static_cast<int32_t>(state.range(0));
  const PartitionRef tp{0, 0};
  BrokerConfig bc;
  bc.broker_id = 1;
  bc.min_insync_replicas = 2;
  ReplicaManager rm(bc, sim::SimTime::zero());
  BrokerOutbox out;
  PartitionConfig pc;
  pc.log.segment_bytes = 64 << 20;
  pc.log.retention_bytes = 256 << 20;
  rm.add_partition(tp, pc, 1, sim::Rng(1), sim::SimTime::zero(), out);
  rm.become_leader(tp, 0, {1, 2, 3}, {1, 2, 3}, sim::SimTime::zero(), out);

  ProduceRequest produce;
  produce.client_id = 100;
  produce.acks = -1;
  produce.timeout = sim::Duration::from_s(30);
  RecordBatch batch;
  batch.record_count = 16;
  batch.size_bytes = batch_bytes;
  produce.partitions.push_back(ProducePartitionData{tp, batch});
  FetchRequest fetch;
  fetch.max_wait = sim::Duration::zero();
  fetch.max_bytes = 10'485'760;
  fetch.partitions.push_back(FetchPartitionRequest{});
  fetch.partitions[0].partition = tp;

  sim::SimTime now = sim::SimTime::zero();
  int64_t iterations = 0;
  for (auto _ : state) {
    out.clear();
    now += sim::Duration::from_us(100);
    ++produce.correlation_id;
    produce.partitions[0].batch.max_timestamp = now;
    rm.handle_produce(produce, now, out);
    const int64_t leo = rm.partition(tp)->log_end_offset();
    for (NodeId follower : {2, 3}) {
      fetch.client_id = follower;
      fetch.replica_id = follower;
      fetch.partitions[0].fetch_offset = leo;
      rm.handle_fetch(fetch, now, out);
    }
    benchmark::DoNotOptimize(out.produce_responses.data());
    if (now >= rm.next_wakeup()) rm.on_wakeup(now, out);
    // Retention every 4096 produces keeps memory bounded, as log.retention.check.interval.ms would.
    if ((++iterations & 4095) == 0) {
      Partition& p = *rm.partition(tp);
      p.log().delete_old_segments(now, p.high_watermark(), out.storage_ops);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * batch_bytes);
}
BENCHMARK(BM_BrokerReplicatedProduce)->Arg(1024)->Arg(16384);

}  // namespace
