#include "core/server_call_limit.h"

#include <gtest/gtest.h>

#include <vector>

namespace sb {
namespace {

TEST(ServerCallLimitTest, SlotsPerServerUpToTheLimit) {
  ServerCallLimit limit(2);
  auto a1 = limit.tryAcquire("a");
  auto a2 = limit.tryAcquire("a");
  EXPECT_TRUE(a1);
  EXPECT_TRUE(a2);
  EXPECT_FALSE(limit.tryAcquire("a"));
  EXPECT_TRUE(limit.tryAcquire("b"));  // another server has its own slots
  EXPECT_EQ(limit.inFlight("a"), 2);
  EXPECT_EQ(limit.inFlight("b"), 0);  // that slot went out of scope
}

TEST(ServerCallLimitTest, ASlotComesBackWhenItGoesOutOfScope) {
  ServerCallLimit limit(1);
  {
    auto slot = limit.tryAcquire("a");
    ASSERT_TRUE(slot);
    auto moved = std::move(slot);  // moved slots release once
    EXPECT_EQ(limit.inFlight("a"), 1);
  }
  EXPECT_EQ(limit.inFlight("a"), 0);
  EXPECT_TRUE(limit.tryAcquire("a"));
}

TEST(ServerCallLimitTest, ZeroMeansNoLimit) {
  ServerCallLimit limit(0);
  std::vector<ServerCallLimit::Slot> slots;
  for (int i = 0; i < 1000; ++i) {
    slots.push_back(limit.tryAcquire("a"));
    ASSERT_TRUE(slots.back());
  }
  EXPECT_EQ(limit.inFlight("a"), 1000);
}

}  // namespace
}  // namespace sb
