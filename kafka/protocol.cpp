#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

int64_t wire_size_bytes(const InitProducerIdRequest&) { return request_header_bytes + init_producer_id_request_body_bytes; }

int64_t wire_size_bytes(const InitProducerIdResponse&) {
  return response_header_bytes + init_producer_id_response_body_bytes;
}

int64_t wire_size_bytes(const ProduceRequest& request) {
  int64_t bytes = request_header_bytes;
  for (const auto& p : request.partitions) bytes += produce_partition_overhead_bytes + p.batch.size_bytes;
  return bytes;
}

int64_t wire_size_bytes(const ProduceResponse& response) {
  return response_header_bytes +
         static_cast<int64_t>(response.partitions.size()) * produce_partition_overhead_bytes;
}

int64_t wire_size_bytes(const FetchRequest& request) {
  return request_header_bytes + fetch_request_session_bytes +
         static_cast<int64_t>(request.partitions.size()) * fetch_partition_request_bytes +
         static_cast<int64_t>(request.forgotten.size()) * fetch_forgotten_partition_bytes +
         static_cast<int64_t>(request.rack_id.size());  // RackId's characters (its length is in the fixed part)
}

int64_t wire_size_bytes(const FetchResponse& response) {
  int64_t bytes = response_header_bytes + fetch_response_session_bytes;
  for (const auto& p : response.partitions) bytes += fetch_partition_response_overhead_bytes + p.slice.bytes;
  return bytes;
}

}  // namespace kafkasim::kafka
