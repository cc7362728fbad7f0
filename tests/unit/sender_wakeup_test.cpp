// The sender's wakeup after an append (KafkaProducer.doSend step 6; reference/kafka-behaviour.md §1.2) and the
// simulator's shortcut for appends into the last of several batches (RecordAccumulator::set_tail_appends_quiet):
// Kafka wakes the sender after every append while a deque holds more than one batch; that poll can send nothing the
// previous poll could not, so the simulator skips it. The tests here drive two producers side by side, one with
// Kafka's wakeups and one with the shortcut, through the same sends, request completions and responses, and
// require the same requests, completions and next wakeups at every step.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kafkasim/kafka/producer/producer.hpp"
#include "kafkasim/sim/rng.hpp"
#include "producer_test_support.hpp"

using namespace kafkasim;
using namespace kafkasim::kafka;
using namespace kafkasim::sim::literals;

namespace {

using test::at;

// Six partitions led by nodes 1, 2, 3, 1, 2, 3.
ProducerMetadata six_partitions() {
  ProducerMetadata metadata;
  TopicMetadata topic;
  for (int32_t p = 0; p < 6; ++p) topic.partitions.push_back({1 + p % 3, 0});
  metadata.topics.push_back(topic);
  return metadata;
}

ProducerRecord record(std::optional<int32_t> partition, int32_t value_bytes, uint64_t id) {
  ProducerRecord r;
  r.topic = 0;
  r.partition = partition;
  r.shape.value_bytes = value_bytes;
  r.record_id = id;
  return r;
}

// acks=1, max.in.flight.requests.per.connection = 1, linger.ms = 0, batch.size 1000: a 100-byte record is 109
// bytes in a batch, so a batch takes eight (61 + 8 * 109 = 933; a ninth would make 1042 > 1000) and the ninth
// opens the next one.
ProducerConfig one_in_flight_config() {
  ProducerConfig config = test::plain_config();
  config.linger = sim::Duration::zero();
  config.batch_size_bytes = 1000;
  config.max_in_flight_requests_per_connection = 1;
  return config;
}

// A producer on six_partitions() with its outbox, sending 100-byte records to partition 0 with ids 1, 2, ...
struct Driver {
  Producer p;
  ProducerOutbox out;
  uint64_t id = 0;

  explicit Driver(const ProducerConfig& config) : p(config, 100, sim::Rng::stream(3, "producer")) {
    p.set_metadata(six_partitions());
  }
  SendResult send(sim::SimTime t) { return p.send(t, record(0, 100, ++id), out); }
  // `n` records at `t`, polling whenever the sender is due, as the cluster layer does.
  void send_polling(int n, sim::SimTime t) {
    for (int i = 0; i < n; ++i) {
      send(t);
      while (p.next_wakeup() <= t) p.poll(t, out);
    }
  }
};

}  // namespace

TEST_CASE("an append into the last of several batches wakes the sender only with Kafka's wakeups") {
  // one_in_flight_config; everything goes to partition 0 (node 1).
  for (const bool quiet : {true, false}) {
    CAPTURE(quiet);
    Driver d(one_in_flight_config());
    Producer& p = d.p;
    ProducerOutbox& out = d.out;
    p.set_tail_appends_quiet(quiet);
    // The first record opens a batch and wakes the sender, which sends it at once (linger.ms = 0); the request is
    // never reported written, so node 1 takes no other.
    REQUIRE(d.send(at(0_ms)).status == SendStatus::appended);
    CHECK(p.next_wakeup() == at(0_ms));
    p.poll(at(0_ms), out);
    REQUIRE(out.requests.size() == 1);
    const sim::SimTime idle = p.next_wakeup();
    CHECK(idle > at(10_ms));  // request.timeout.ms, delivery.timeout.ms
    // A second batch, alone in its deque: appends into it that leave it not full never wake the sender.
    d.send(at(1_ms));
    CHECK(p.next_wakeup() == at(1_ms));  // a new batch
    p.poll(at(1_ms), out);
    CHECK(p.next_wakeup() == idle);
    for (int i = 0; i < 7; ++i) {
      d.send(at(1_ms));
      CHECK(p.next_wakeup() == idle);
    }
    // The next record opens a third batch behind it (a wakeup either way).
    d.send(at(2_ms));
    CHECK(p.next_wakeup() == at(2_ms));
    p.poll(at(2_ms), out);
    CHECK(p.next_wakeup() == idle);
    // Appends into the last of the two queued batches: Kafka wakes the sender for each (batchIsFull: the deque holds
    // more than one batch); the shortcut does not, as the poll finds the head as the last poll left it.
    for (int i = 0; i < 7; ++i) {
      d.send(at(3_ms));
      CHECK(p.next_wakeup() == (quiet ? idle : at(3_ms)));
      if (p.next_wakeup() <= at(3_ms)) p.poll(at(3_ms), out);
      CHECK(p.next_wakeup() == idle);
    }
    CHECK(out.requests.size() == 1);  // node 1 still takes nothing
  }
}

TEST_CASE("after a drain, the next append into the last of several batches wakes the sender once") {
  // The poll's ready() takes the deques' sizes for the adaptive partitioner (KIP-794) before its drain, so the
  // sizes after the drain are seen only by the next ready(): the first tail append after a drain wakes the sender
  // even with the shortcut, and the ones after it do not.
  Driver d(one_in_flight_config());
  Producer& p = d.p;
  ProducerOutbox& out = d.out;
  // The first record is sent at once; then three full batches of partition 0 and a fourth with four records, none
  // sent (node 1 has one request unanswered).
  d.send_polling(1, at(0_ms));
  REQUIRE(out.requests.size() == 1);
  const ProduceRequest first = out.requests[0].request;
  d.send_polling(28, at(1_ms));
  REQUIRE(out.requests.size() == 1);
  // The request is written and answered: node 1 takes the next one, one batch of partition 0 (the head).
  p.on_request_sent(first.correlation_id, at(2_ms), out);
  p.on_produce_response(test::response_to(first, Errc::none), at(2_ms), out);
  while (p.next_wakeup() <= at(2_ms)) p.poll(at(2_ms), out);
  REQUIRE(out.requests.size() == 2);
  const sim::SimTime idle = p.next_wakeup();
  d.send(at(3_ms));
  CHECK(p.next_wakeup() == at(3_ms));  // the sizes changed since the last ready()
  p.poll(at(3_ms), out);
  CHECK(p.next_wakeup() == idle);
  d.send(at(3_ms));
  CHECK(p.next_wakeup() == idle);

  SUBCASE("partitioner.availability.timeout.ms > 0: every ready() stamps the nodes, so every append wakes") {
    ProducerConfig timed = one_in_flight_config();
    timed.partitioner_availability_timeout = 100_ms;
    Driver q(timed);
    q.send_polling(1, at(0_ms));
    q.send_polling(12, at(1_ms));  // a full batch and one of four records behind the one in flight
    q.send(at(2_ms));
    CHECK(q.p.next_wakeup() == at(2_ms));
  }
}

TEST_CASE("the end of a flush changes what ready() sees: the next append into the last of several batches wakes") {
  // While a flush is in progress every head is sendable (RecordAccumulator.beginFlush); its end makes a head that is
  // neither full nor past linger.ms wait again, so the sender's next poll finds something new (its next wakeup).
  Driver d(one_in_flight_config());
  Producer& p = d.p;
  ProducerOutbox& out = d.out;
  d.send_polling(1, at(0_ms));
  d.send_polling(12, at(1_ms));  // a full batch and one of four records behind the one in flight
  const sim::SimTime idle = p.next_wakeup();
  d.send(at(2_ms));
  CHECK(p.next_wakeup() == idle);  // quiet
  p.begin_flush(at(2_ms));
  CHECK(p.next_wakeup() == at(2_ms));
  p.poll(at(2_ms), out);
  p.end_flush();
  d.send(at(2_ms));
  p.resolve_skipped_wakeup(at(2_ms));
  CHECK(p.next_wakeup() == at(2_ms));
}

namespace {

// Everything a producer told the cluster layer, as text, to compare two producers' outboxes.
std::string describe(const ProducerOutbox& out) {
  std::ostringstream s;
  for (const OutgoingProduceRequest& r : out.requests) {
    s << "request " << r.request.correlation_id << " to " << r.destination << ":";
    for (const ProducePartitionData& d : r.request.partitions)
      s << " p" << d.partition.partition << " batch " << d.batch.tag << " records " << d.batch.record_count << " bytes "
        << d.batch.size_bytes << " seq " << d.batch.base_sequence;
    s << "\n";
  }
  for (const RecordCompletion& c : out.completions)
    s << "completion " << c.record_id << " p" << c.partition.partition << " offset " << c.offset << " outcome "
      << static_cast<int>(c.outcome) << " at " << c.completion_time.ns() << "\n";
  for (const UnblockedSend& u : out.unblocked_sends)
    s << "unblocked " << u.record_id << " p" << u.partition << " " << u.appended << "\n";
  for (const BatchId b : out.split_batches) s << "split " << b << "\n";
  for (const BatchId b : out.failed_batches) s << "failed " << b << "\n";
  for (const NodeId n : out.closed_connections) s << "closed " << n << "\n";
  // Not producer_id_requested: set by every poll until the id is there (the cluster layer sends one request).
  s << "refresh " << out.metadata_refresh_requested << "\n";
  return s.str();
}

// Two producers with the same config and seed, one with Kafka's wakeups and one with the shortcut, driven as the
// cluster layer drives one: open-loop sends (explicit partitions and the sticky partitioner, random sizes), each
// producer polled whenever its next wakeup is due, requests written and answered after random delays (some with
// retriable or fatal errors), InitProducerId answered. Returns how many polls the shortcut saved.
int64_t run_side_by_side(uint64_t seed) {
  sim::Rng rng = sim::Rng::stream(seed, "wakeup-test/scenario");
  ProducerConfig config;
  config.acks = rng.uniform_u64(3) == 0 ? Acks::leader : Acks::all;
  config.linger = sim::Duration::from_us(static_cast<int64_t>(rng.uniform_u64(3)) * 500);
  config.batch_size_bytes = 600 + static_cast<int32_t>(rng.uniform_u64(4000));
  config.max_in_flight_requests_per_connection = 1 + static_cast<int32_t>(rng.uniform_u64(5));
  config.buffer_memory_bytes = rng.uniform_u64(2) == 0 ? 40'000 : 32 << 20;
  config.retry_backoff = 1_ms;
  config.retry_backoff_max = 1_ms;
  config.request_timeout = 50_ms;
  config.delivery_timeout = 200_ms;
  config = apply_idempotence_default(config, false);
  CAPTURE(seed);
  CAPTURE(config.linger.ns());
  CAPTURE(config.batch_size_bytes);
  CAPTURE(config.max_in_flight_requests_per_connection);
  CAPTURE(config.buffer_memory_bytes);
  CAPTURE(config.enable_idempotence);

  struct Side {
    std::optional<Producer> producer;
    ProducerOutbox out;
    int64_t polls = 0;
  };
  Side sides[2];
  for (int i = 0; i < 2; ++i) {
    sides[i].producer.emplace(config, 100, sim::Rng::stream(seed, "wakeup-test/producer"));
    sides[i].producer->set_metadata(six_partitions());
    sides[i].producer->set_tail_appends_quiet(i == 1);
  }

  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> events;
  uint64_t next_seq = 0;
  sim::SimTime now = sim::SimTime::zero();
  const auto schedule = [&](sim::SimTime t, std::function<void()> f) {
    events.emplace(std::pair{t.ns(), next_seq++}, std::move(f));
  };

  uint64_t next_id = 0;
  bool blocked = false;
  int64_t backlog = 0;
  bool id_requested = false;
  const auto send_one = [&] {
    const int32_t value = 20 + static_cast<int32_t>(rng.uniform_u64(300));
    const std::optional<int32_t> partition =
        rng.uniform_u64(4) == 0 ? std::optional<int32_t>(static_cast<int32_t>(rng.uniform_u64(6))) : std::nullopt;
    const ProducerRecord r = record(partition, value, ++next_id);
    const SendResult a = sides[0].producer->send(now, r, sides[0].out);
    const SendResult b = sides[1].producer->send(now, r, sides[1].out);
    REQUIRE(a.status == b.status);
    CHECK(a.partition == b.partition);
    if (a.status == SendStatus::blocked) blocked = true;
  };
  // The application: sends its backlog until send() blocks.
  const auto drain_backlog = [&] {
    while (!blocked && backlog > 0) {
      --backlog;
      send_one();
    }
  };
  std::function<void()> settle;
  const auto handle = [&](ProducerOutbox out) {
    if (!out.unblocked_sends.empty()) blocked = false;
    if (out.producer_id_requested && !id_requested) {
      id_requested = true;
      schedule(now + 100_us, [&] {
        id_requested = false;
        for (Side& s : sides) s.producer->set_producer_id_and_epoch({4000, 0});
      });
    }
    for (const OutgoingProduceRequest& r : out.requests) {
      const sim::SimTime written = now + sim::Duration::from_us(10 + static_cast<int64_t>(rng.uniform_u64(300)));
      const uint64_t correlation = r.request.correlation_id;
      schedule(written, [&, correlation] {
        for (Side& s : sides) s.producer->on_request_sent(correlation, now, s.out);
      });
      if (r.request.acks == 0) continue;
      const uint64_t draw = rng.uniform_u64(100);
      const Errc error = draw < 4 ? Errc::not_enough_replicas : draw < 5 ? Errc::corrupt_message : Errc::none;
      const sim::SimTime answered = written + sim::Duration::from_us(50 + static_cast<int64_t>(rng.uniform_u64(3000)));
      const ProduceResponse response = test::response_to(r.request, error, 1000 * static_cast<int64_t>(correlation));
      schedule(answered, [&, response] {
        for (Side& s : sides) s.producer->on_produce_response(response, now, s.out);
      });
    }
  };
  sim::SimTime wakeup_scheduled = sim::SimTime::max();
  settle = [&] {
    for (Side& s : sides) {
      s.producer->resolve_skipped_wakeup(now);
      while (s.producer->next_wakeup() <= now) {
        s.producer->poll(now, s.out);
        ++s.polls;
      }
    }
    REQUIRE(describe(sides[0].out) == describe(sides[1].out));
    CHECK(sides[0].producer->next_wakeup().ns() == sides[1].producer->next_wakeup().ns());
    ProducerOutbox out = std::move(sides[0].out);
    out.producer_id_requested = out.producer_id_requested || sides[1].out.producer_id_requested;
    sides[0].out.clear();
    sides[1].out.clear();
    handle(std::move(out));
    drain_backlog();
    // Sends (and an unblocked send's return) may have woken either sender at this instant.
    for (const Side& s : sides)
      if (s.producer->next_wakeup() <= now) return settle();
    const sim::SimTime next = sides[0].producer->next_wakeup();
    if (next != sim::SimTime::max() && next < wakeup_scheduled) {
      wakeup_scheduled = next;
      schedule(next, [&] { wakeup_scheduled = sim::SimTime::max(); });
    }
  };

  // Records arrive every 0-40 us for 300 ms.
  std::function<void()> arrival = [&] {
    ++backlog;
    const sim::SimTime next = now + sim::Duration::from_us(static_cast<int64_t>(rng.uniform_u64(41)));
    if (next < at(300_ms)) schedule(next, arrival);
  };
  schedule(at(0_ms), arrival);
  while (!events.empty()) {
    auto first = events.begin();
    now = sim::SimTime::from_ns(first->first.first);
    const std::function<void()> f = std::move(first->second);
    events.erase(first);
    f();
    settle();
  }
  const SenderMetrics& a = sides[0].producer->metrics();
  const SenderMetrics& b = sides[1].producer->metrics();
  CHECK(a.produce_requests == b.produce_requests);
  CHECK(a.records_acked == b.records_acked);
  CHECK(a.records_failed == b.records_failed);
  CHECK(a.records_acked > 0);
  CHECK(sides[1].polls <= sides[0].polls);
  return sides[0].polls - sides[1].polls;
}

}  // namespace

TEST_CASE("with and without Kafka's wakeups for appends into the last of several batches: the same producer") {
  int64_t saved = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) saved += run_side_by_side(seed);
  MESSAGE("polls saved: " << saved);
  CHECK(saved > 0);  // the path under test ran
}
