#include "core/server_call_limit.h"

#include <gtest/gtest.h>

#include <vector>

namespace sb {
namespace {

TEST(ServerCallLimitTest, AStalledServerGetsNoMoreThanTheLimit) {
  ManualClock clock;
  ServerCallLimit limit(2, clock);
  auto a1 = limit.tryAcquire("a");
  auto a2 = limit.tryAcquire("a");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(a2);
  // At the limit but started just now: a burst, not a stall.
  EXPECT_TRUE(limit.tryAcquire("a"));
  clock.advanceMs(1000);  // no answer for a second: stalled
  auto refused = limit.tryAcquire("a");
  EXPECT_FALSE(refused);
  EXPECT_TRUE(refused.firstRefusal());  // logged once per stall
  auto again = limit.tryAcquire("a");
  EXPECT_FALSE(again);
  EXPECT_FALSE(again.firstRefusal());
  EXPECT_TRUE(limit.tryAcquire("b"));  // another server has its own count
  EXPECT_EQ(limit.inFlight("a"), 2);
  EXPECT_EQ(limit.inFlight("b"), 0);  // that slot went out of scope
}

TEST(ServerCallLimitTest, AServerThatKeepsAnsweringIsNeverRefused) {
  ManualClock clock;
  ServerCallLimit limit(2, clock);
  std::vector<ServerCallLimit::Slot> slots;
  for (int i = 0; i < 2; ++i) slots.push_back(limit.tryAcquire("a"));
  for (int i = 0; i < 100; ++i) {
    clock.advanceMs(500);
    slots.erase(slots.begin());  // one call answered every half second
    slots.push_back(limit.tryAcquire("a"));
    ASSERT_TRUE(slots.back()) << i;
    slots.push_back(limit.tryAcquire("a"));  // and more come in than go out
    ASSERT_TRUE(slots.back()) << i;
  }
  clock.advanceMs(1000);
  EXPECT_FALSE(limit.tryAcquire("a"));
}

TEST(ServerCallLimitTest, EachStallIsReportedOnce) {
  ManualClock clock;
  ServerCallLimit limit(1, clock);
  auto held = limit.tryAcquire("a");
  auto other = limit.tryAcquire("a");  // a burst: admitted
  clock.advanceMs(1000);
  EXPECT_TRUE(limit.tryAcquire("a").firstRefusal());
  EXPECT_FALSE(limit.tryAcquire("a").firstRefusal());
  other = ServerCallLimit::Slot();  // one call answered: the stall is over
  clock.advanceMs(1000);            // and a new one begins
  EXPECT_TRUE(limit.tryAcquire("a").firstRefusal());
}

TEST(ServerCallLimitTest, ASlotComesBackWhenItGoesOutOfScope) {
  ManualClock clock;
  ServerCallLimit limit(1, clock);
  {
    auto slot = limit.tryAcquire("a");
    ASSERT_TRUE(slot);
    auto moved = std::move(slot);  // moved slots release once
    EXPECT_EQ(limit.inFlight("a"), 1);
  }
  EXPECT_EQ(limit.inFlight("a"), 0);
  clock.advanceMs(5000);
  EXPECT_TRUE(limit.tryAcquire("a"));
}

TEST(ServerCallLimitTest, ZeroMeansNoLimit) {
  ManualClock clock;
  ServerCallLimit limit(0, clock);
  std::vector<ServerCallLimit::Slot> slots;
  clock.advanceMs(60'000);
  for (int i = 0; i < 1000; ++i) {
    slots.push_back(limit.tryAcquire("a"));
    ASSERT_TRUE(slots.back());
  }
  EXPECT_EQ(limit.inFlight("a"), 1000);
}

}  // namespace
}  // namespace sb
