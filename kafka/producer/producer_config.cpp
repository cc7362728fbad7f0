#include "kafkasim/kafka/producer/producer_config.hpp"

namespace kafkasim::kafka {

std::string validate(const ProducerConfig& config) {
  if (config.batch_size_bytes < 0) return "batch.size must be >= 0";
  if (config.linger < sim::Duration::zero()) return "linger.ms must be >= 0";
  if (config.buffer_memory_bytes < 0) return "buffer.memory must be >= 0";
  if (config.max_request_size_bytes < 0) return "max.request.size must be >= 0";
  if (config.max_in_flight_requests_per_connection < 1)
    return "max.in.flight.requests.per.connection must be >= 1";
  if (config.retry_backoff < sim::Duration::zero() || config.retry_backoff_max < sim::Duration::zero())
    return "retry.backoff.ms and retry.backoff.max.ms must be >= 0";
  // KafkaProducer.configureDeliveryTimeout: an explicit delivery.timeout.ms below linger + request timeout is a
  // ConfigException (§1.1).
  if (config.delivery_timeout < config.linger + config.request_timeout)
    return "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms";
  // Idempotence needs acks=all, retries > 0 and at most 5 requests in flight (§1.1).
  if (config.enable_idempotence) {
    if (config.acks != Acks::all) return "enable.idempotence requires acks=all";
    if (config.retries == 0) return "enable.idempotence requires retries > 0";
    if (config.max_in_flight_requests_per_connection > 5)
      return "enable.idempotence requires max.in.flight.requests.per.connection <= 5";
  }
  if (config.partitioner_availability_timeout < sim::Duration::zero())
    return "partitioner.availability.timeout.ms must be >= 0";
  return {};
}

}  // namespace kafkasim::kafka
