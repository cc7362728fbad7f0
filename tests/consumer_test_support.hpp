// Building blocks shared by the KafkaConsumer unit tests (tests/unit/consumer_*_test.cpp): times, metadata and a
// fetch response's partition data built by hand.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "kafkasim/kafka/consumer/consumer.hpp"

namespace kafkasim::test {

inline sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

// Assigns `partitions` at time 0 and polls once, which sends one fetch (every partition on one node): returns that
// fetch, with `out` cleared.
inline kafka::OutgoingFetch first_fetch(kafka::KafkaConsumer& consumer,
                                        const std::vector<kafka::PartitionAssignment>& partitions,
                                        kafka::ConsumerOutbox& out) {
  consumer.assign(at(sim::Duration::zero()), partitions, out);
  consumer.poll(at(sim::Duration::zero()), out);
  REQUIRE(out.fetches.size() == 1);
  kafka::OutgoingFetch fetch = out.fetches[0];
  out.clear();
  return fetch;
}

// A batch of `record_count` records from `base_offset`, of `size_bytes`, written in `leader_epoch`, with the cluster
// layer's tag `tag` (the tests that count records by tag give each batch its own).
inline kafka::RecordBatch batch_of(int64_t base_offset, int32_t record_count, int32_t size_bytes,
                                   int32_t leader_epoch = 0, uint64_t tag = 0) {
  kafka::RecordBatch b;
  b.base_offset = base_offset;
  b.record_count = record_count;
  b.size_bytes = size_bytes;
  b.partition_leader_epoch = leader_epoch;
  b.tag = tag;
  return b;
}

// The broker's FetchResponse to `fetch` with `partitions`, in fetch session `session_id` (invalid_session_id: the
// broker keeps no session, so the next fetch to that node is full).
inline kafka::FetchResponse answer_to(const kafka::OutgoingFetch& fetch,
                                      std::vector<kafka::FetchPartitionResponse> partitions, int32_t session_id) {
  kafka::FetchResponse r;
  r.correlation_id = fetch.request.correlation_id;
  r.partitions = std::move(partitions);
  r.session_id = session_id;
  return r;
}

// One topic (index 0) whose partition i is led by partitions[i] (node, leader epoch).
inline kafka::ProducerMetadata leaders(std::vector<kafka::PartitionLeader> partitions) {
  kafka::ProducerMetadata metadata;
  metadata.topics.push_back(kafka::TopicMetadata{std::move(partitions)});
  return metadata;
}

// A partition's answer with high watermark (and last stable offset) `hw`, log start 0, and exactly `batches` in
// its byte slice.
inline kafka::FetchPartitionResponse data(kafka::PartitionRef partition, int64_t hw,
                                          std::vector<kafka::RecordBatch> batches = {}) {
  kafka::FetchPartitionResponse d;
  d.partition = partition;
  d.high_watermark = hw;
  d.last_stable_offset = hw;
  d.log_start_offset = 0;
  for (const kafka::RecordBatch& b : batches) d.slice.bytes += b.size_bytes;
  d.batches = std::move(batches);
  return d;
}

}  // namespace kafkasim::test
