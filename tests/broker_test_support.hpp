// Building blocks shared by the broker unit tests (tests/unit/broker_*_test.cpp): times, a partition, the node ids
// of the clients that talk to the broker under test, requests and log reads built by hand, a broker that leads its
// partitions from start-up, and one fetch run through a FetchManager.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "kafkasim/kafka/broker/fetch_session.hpp"
#include "kafkasim/kafka/broker/replica_manager.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::test {

inline sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

inline constexpr kafka::PartitionRef tp{0, 0};
inline constexpr kafka::NodeId producer_client = 100;
inline constexpr kafka::NodeId consumer_client = 200;

// ---- Requests ----

inline kafka::RecordBatch batch(int32_t records, int32_t bytes) {
  kafka::RecordBatch b;
  b.record_count = records;
  b.size_bytes = bytes;
  return b;
}

// A ProduceRequest from producer_client with one batch for each of `parts`.
inline kafka::ProduceRequest produce(int16_t acks,
                                     std::vector<std::pair<kafka::PartitionRef, kafka::RecordBatch>> parts,
                                     sim::Duration timeout = sim::Duration::from_s(30), uint64_t correlation_id = 1) {
  kafka::ProduceRequest r;
  r.correlation_id = correlation_id;
  r.client_id = producer_client;
  r.acks = acks;
  r.timeout = timeout;
  for (auto& [ref, b] : parts) r.partitions.push_back(kafka::ProducePartitionData{ref, b});
  return r;
}

// A consumer's fetch (replica id -1, no log start offset) of `refs`, each from `offset`, that waits up to `max_wait`
// for `min_bytes`; in fetch session `metadata`, by default none (the schema's sessionless full fetch).
inline kafka::FetchRequest consumer_fetch(
    std::vector<kafka::PartitionRef> refs, int64_t offset, int32_t min_bytes = 1,
    sim::Duration max_wait = sim::Duration::zero(),
    kafka::FetchMetadata metadata = {kafka::invalid_session_id, kafka::final_session_epoch}) {
  kafka::FetchRequest r;
  r.client_id = consumer_client;
  r.replica_id = kafka::consumer_replica_id;
  r.max_wait = max_wait;
  r.min_bytes = min_bytes;
  r.session_id = metadata.session_id;
  r.session_epoch = metadata.epoch;
  for (kafka::PartitionRef ref : refs) {
    kafka::FetchPartitionRequest p;
    p.partition = ref;
    p.fetch_offset = offset;
    r.partitions.push_back(p);
  }
  return r;
}

// ---- Responses ----

// A log read's answer for `p`: high watermark (and last stable offset) `hw`, log start `log_start`, and `bytes` of
// records in its slice.
inline kafka::FetchPartitionResponse data(kafka::PartitionRef p, int64_t hw, int64_t bytes = 0, int64_t log_start = 0) {
  kafka::FetchPartitionResponse d;
  d.partition = p;
  d.high_watermark = hw;
  d.last_stable_offset = hw;
  d.log_start_offset = log_start;
  d.slice.bytes = bytes;
  return d;
}

// The partitions a FetchResponse carries, in its order.
inline std::vector<kafka::PartitionRef> refs(const kafka::FetchResponse& r) {
  std::vector<kafka::PartitionRef> v;
  for (const kafka::FetchPartitionResponse& p : r.partitions) v.push_back(p.partition);
  return v;
}

// The base offsets of the batches a partition's answer carries.
inline std::vector<int64_t> base_offsets(const kafka::FetchPartitionResponse& r) {
  std::vector<int64_t> v;
  for (const kafka::RecordBatch& b : r.batches) v.push_back(b.base_offset);
  return v;
}

// ---- One fetch through a FetchManager ----

// The context a fetch gets, the partitions it reads, and the response as read.
struct Exchange {
  kafka::FetchContext context;
  std::vector<kafka::FetchPartitionRequest> read;
  kafka::FetchResponse response;
};

// The context for `req` (a follower's when the request names a replica, as KafkaApis decides) and the response as read
// (`read_results`, one per partition the context reads, in its order), not yet generated.
inline Exchange begin_exchange(kafka::FetchManager& manager, const kafka::FetchRequest& req, sim::SimTime now,
                               const std::vector<kafka::FetchPartitionResponse>& read_results) {
  Exchange e{manager.new_context(req, req.replica_id != kafka::consumer_replica_id, now), {}, {}};
  e.context.partitions_to_read(req, e.read);
  REQUIRE(e.read.size() == read_results.size());
  e.response.correlation_id = req.correlation_id;
  e.response.partitions = read_results;
  return e;
}

// begin_exchange, then the response generated (updateAndGenerateResponseData).
inline Exchange exchange(kafka::FetchManager& manager, const kafka::FetchRequest& req, sim::SimTime now,
                         const std::vector<kafka::FetchPartitionResponse>& read_results) {
  Exchange e = begin_exchange(manager, req, now, read_results);
  e.context.update_and_generate_response_data(e.response, e.read, manager.cache(), now);
  return e;
}

// ---- A broker leading its partitions ----

// A broker started at t = 0 that leads each of `refs` (the default log config, log ids from 1) at epoch 0 with `isr`
// and `replicas`. The isr-expiration task due at t = 0 has run, so the next one is at 15 s; the outbox is empty.
struct LeaderBroker {
  kafka::ReplicaManager rm;
  kafka::BrokerOutbox out;

  LeaderBroker(const kafka::BrokerConfig& config, const std::vector<kafka::PartitionRef>& refs,
               const std::vector<kafka::NodeId>& isr, const std::vector<kafka::NodeId>& replicas)
      : rm(config, sim::SimTime::zero()) {
    uint32_t log_id = 1;
    for (const kafka::PartitionRef& ref : refs) {
      kafka::PartitionConfig pc;
      pc.log = rm.default_log_config();
      rm.add_partition(ref, pc, log_id++, sim::Rng::stream(7, "log"), sim::SimTime::zero(), out);
      rm.become_leader(ref, 0, isr, replicas, sim::SimTime::zero(), out);
    }
    rm.on_wakeup(sim::SimTime::zero(), out);
    out.clear();
  }
  // The one response `r` gets at once.
  kafka::FetchResponse fetch(const kafka::FetchRequest& r, sim::SimTime now) {
    out.clear();
    rm.handle_fetch(r, now, out);
    REQUIRE(out.fetch_responses.size() == 1);
    return out.fetch_responses[0].response;
  }
};

}  // namespace kafkasim::test
