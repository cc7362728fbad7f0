// Building blocks shared by the KafkaConsumer unit tests (tests/unit/consumer_*_test.cpp): times, metadata and a
// fetch response's partition data built by hand.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "kafkasim/kafka/consumer/consumer.hpp"

namespace kafkasim::test {

inline sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

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
