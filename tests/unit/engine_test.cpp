#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kafkasim/sim/engine.hpp"
#include "test_support.hpp"

using namespace kafkasim::sim;
using namespace kafkasim::sim::literals;

TEST_CASE("time: unit helpers and arithmetic are exact in nanoseconds") {
  CHECK((5_ms).ns() == 5'000'000);
  CHECK((3_us).ns() == 3'000);
  CHECK((2_s).ns() == 2'000'000'000);
  CHECK(Duration::from_ms(1) + 500_us == Duration::from_us(1500));
  CHECK((SimTime::zero() + 30_s) - (SimTime::zero() + 10_s) == 20_s);
  CHECK(Duration::from_seconds_f(0.0000000014) == 1_ns);  // rounds to nearest
  CHECK(Duration::from_seconds_ceil(0.0000000001) == 1_ns);  // never zero for positive work
  CHECK((10_ms).scaled(2.5) == 25_ms);
  CHECK(to_string(30_s) == "30s");
  CHECK(to_string(1250_us) == "1.250ms");
  CHECK(to_string(Duration::zero()) == "0s");
}

TEST_CASE("engine: events at the same time run in the order they were scheduled") {
  Engine engine;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) engine.schedule_at(SimTime::zero() + 1_ms, [&order, i] { order.push_back(i); });
  engine.run_until(SimTime::max());
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<size_t>(i)] == i);
}

TEST_CASE("engine: events run in time order whatever the scheduling order, and now() follows them") {
  Engine engine;
  std::vector<int64_t> seen;
  const int64_t times_ms[] = {7, 3, 9, 1, 3, 0, 12};
  for (int64_t t : times_ms)
    engine.schedule_at(SimTime::zero() + Duration::from_ms(t), [&] { seen.push_back(engine.now().ns() / 1'000'000); });
  const RunResult r = engine.run_until(SimTime::max());
  CHECK(r.reason == StopReason::kDrained);
  CHECK(r.events_run == 7);
  CHECK(seen == std::vector<int64_t>{0, 1, 3, 3, 7, 9, 12});
  CHECK(engine.events_executed() == 7);
}

TEST_CASE("engine: an event scheduled at the current time from inside an event runs after the ones already due") {
  Engine engine;
  std::vector<std::string> order;
  engine.schedule_at(SimTime::zero() + 1_ms, [&] {
    order.push_back("a");
    engine.schedule_after(Duration::zero(), [&] { order.push_back("c"); });
  });
  engine.schedule_at(SimTime::zero() + 1_ms, [&] { order.push_back("b"); });
  engine.run_until(SimTime::max());
  CHECK(order == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("engine: cancel semantics") {
  Engine engine;
  int ran = 0;
  const EventId a = engine.schedule_after(1_ms, [&] { ran += 1; });
  const EventId b = engine.schedule_after(2_ms, [&] { ran += 10; });
  CHECK(engine.events_pending() == 2);
  CHECK(engine.is_pending(a));
  CHECK(engine.cancel(a));
  CHECK_FALSE(engine.cancel(a));  // twice
  CHECK_FALSE(engine.is_pending(a));
  CHECK(engine.events_pending() == 1);
  CHECK_FALSE(engine.cancel(EventId{}));  // invalid id
  engine.run_until(SimTime::max());
  CHECK(ran == 10);
  CHECK_FALSE(engine.cancel(b));  // already ran
  CHECK(engine.events_pending() == 0);

  SUBCASE("a stale id does not cancel the event that reuses its slot") {
    const EventId c = engine.schedule_after(1_ms, [&] { ran += 100; });
    CHECK(c.slot == b.slot);  // the freed slot is reused
    CHECK_FALSE(engine.cancel(b));
    engine.run_until(SimTime::max());
    CHECK(ran == 110);
  }
  SUBCASE("an event can cancel a later one") {
    EventId later;
    engine.schedule_after(1_ms, [&] { CHECK(engine.cancel(later)); });
    later = engine.schedule_after(2_ms, [&] { ran += 1000; });
    engine.run_until(SimTime::max());
    CHECK(ran == 10);
  }
}

TEST_CASE("engine: many cancelled long timers are dropped from the heap, and the survivors run in order") {
  // Kafka-like timers: most are cancelled long before they are due. The heap must not keep them all, and
  // dropping them must not change which events run or in what order.
  Engine e;
  std::vector<EventId> ids;
  std::vector<int> ran;
  for (int i = 0; i < 10000; ++i) {
    // Times repeat every 7 timers, so ties are resolved by scheduling order.
    const int64_t at_ms = 1000 + (i * 37) % 7;
    ids.push_back(e.schedule_at(SimTime::from_ns(at_ms * 1'000'000), [&ran, i] { ran.push_back(i); }));
  }
  std::vector<int> expected;
  for (int i = 0; i < 10000; ++i) {
    if (i % 10 == 3) continue;
    REQUIRE(e.cancel(ids[static_cast<size_t>(i)]));
  }
  for (int i = 3; i < 10000; i += 10) expected.push_back(i);
  CHECK(e.events_pending() == 1000);
  CHECK(e.heap_entries() <= 2 * e.events_pending() + 256);
  // Survivors in (time, scheduling order): time is 1000 + (37 i mod 7) ms.
  std::stable_sort(expected.begin(), expected.end(), [](int a, int b) { return (a * 37) % 7 < (b * 37) % 7; });
  e.run_until(SimTime::max());
  CHECK(ran == expected);
  for (const EventId& id : ids) CHECK_FALSE(e.cancel(id));
}

TEST_CASE("engine: run_until bounds by time and by event count") {
  Engine engine;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) engine.schedule_at(SimTime::zero() + Duration::from_ms(i), [&] { ++ran; });

  RunResult r = engine.run_until(SimTime::zero() + 5_ms);  // events at exactly time_max run
  CHECK(r.reason == StopReason::kTimeLimit);
  CHECK(r.events_run == 5);
  CHECK(engine.now() == SimTime::zero() + 5_ms);

  r = engine.run_until(SimTime::zero() + 5500_us);  // nothing due: the clock still advances to time_max
  CHECK(r.events_run == 0);
  CHECK(engine.now() == SimTime::zero() + 5500_us);

  r = engine.run_until(SimTime::max(), 3);
  CHECK(r.reason == StopReason::kEventLimit);
  CHECK(r.events_run == 3);
  CHECK(engine.now() == SimTime::zero() + 8_ms);

  engine.schedule_after(0_ms, [&] { engine.stop(); });
  r = engine.run_until(SimTime::max());
  CHECK(r.reason == StopReason::kStopped);
  CHECK(r.events_run == 1);
  r = engine.run_until(SimTime::max());
  CHECK(r.reason == StopReason::kDrained);
  CHECK(ran == 10);
  CHECK(engine.next_event_time() == SimTime::max());
}

TEST_CASE("engine: scheduling in the past is a bug and is caught") {
  kafkasim::test::ThrowOnAssert guard;
  Engine engine;
  engine.schedule_after(10_ms, [] {});
  engine.run_until(SimTime::max());
  CHECK_THROWS_AS(engine.schedule_at(SimTime::zero() + 1_ms, [] {}), kafkasim::test::AssertionFailure);
}

TEST_CASE("engine: the trace hash is equal for equal histories and differs when the history differs") {
  auto history = [](int64_t second_event_ms) {
    Engine engine;
    engine.schedule_after(1_ms, [] {});
    engine.schedule_after(Duration::from_ms(second_event_ms), [] {});
    engine.run_until(SimTime::max());
    return engine.trace_hash();
  };
  CHECK(history(2) == history(2));
  CHECK(history(2) != history(3));
  Engine a, b;
  a.trace(42);
  b.trace(43);
  CHECK(a.trace_hash() != b.trace_hash());
}

TEST_CASE("engine: a callback larger than the inline buffer still works") {
  Engine engine;
  struct Big {
    char pad[200];
  } big{};
  big.pad[199] = 7;
  int seen = 0;
  engine.schedule_after(1_ms, [big, &seen] { seen = big.pad[199]; });
  engine.run_until(SimTime::max());
  CHECK(seen == 7);
}

TEST_CASE("assertions print the expression, both operands and the location") {
  kafkasim::test::ThrowOnAssert guard;
  const int hw = 12;
  const int leo = 10;
  try {
    KS_ASSERT_LE(hw, leo);
    FAIL("the assertion did not fire");
  } catch (const kafkasim::test::AssertionFailure& e) {
    const std::string text = e.what();
    CHECK(text.find("hw <= leo") != std::string::npos);
    CHECK(text.find("12 vs 10") != std::string::npos);
    CHECK(text.find("engine_test.cpp:") != std::string::npos);
  }
  CHECK_NOTHROW(KS_ASSERT_LE(leo, hw));
}
