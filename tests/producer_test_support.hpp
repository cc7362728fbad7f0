// Building blocks shared by the producer unit tests (tests/unit/sender_*_test.cpp), which play the cluster layer
// around a Producer: times, the plain config, a record, "request sent" reported by hand, and a broker's answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::test {

inline sim::SimTime at(sim::Duration d) { return sim::SimTime::zero() + d; }

// acks=1 without idempotence, as most tests do not need sequences.
inline kafka::ProducerConfig plain_config() {
  kafka::ProducerConfig config;
  config.acks = kafka::Acks::leader;
  return kafka::apply_idempotence_default(config, false);
}

// A record for `partition` of topic 0 with no key and a 100-byte value.
inline kafka::ProducerRecord record_for(int32_t partition, uint64_t record_id) {
  kafka::ProducerRecord record;
  record.topic = 0;
  record.partition = partition;
  record.shape.value_bytes = 100;
  record.record_id = record_id;
  return record;
}

// Polls `producer` at `now` and reports every request that poll sent as fully written at the same instant; returns
// those requests.
inline std::vector<kafka::OutgoingProduceRequest> poll_and_send(kafka::Producer& producer, kafka::ProducerOutbox& out,
                                                                sim::SimTime now) {
  const size_t before = out.requests.size();
  producer.poll(now, out);
  std::vector<kafka::OutgoingProduceRequest> sent(out.requests.begin() + static_cast<std::ptrdiff_t>(before),
                                                  out.requests.end());
  for (const kafka::OutgoingProduceRequest& r : sent) producer.on_request_sent(r.request.correlation_id, now, out);
  return sent;
}

// The broker's answer to `request`: `error` for every partition, with base offset `base_offset` when that is none
// (-1 otherwise).
inline kafka::ProduceResponse response_to(const kafka::ProduceRequest& request, kafka::Errc error,
                                          int64_t base_offset = 0) {
  kafka::ProduceResponse response;
  response.correlation_id = request.correlation_id;
  for (const kafka::ProducePartitionData& data : request.partitions) {
    kafka::ProducePartitionResponse p;
    p.partition = data.partition;
    p.error = error;
    p.base_offset = error == kafka::Errc::none ? base_offset : -1;
    response.partitions.push_back(p);
  }
  return response;
}

}  // namespace kafkasim::test
