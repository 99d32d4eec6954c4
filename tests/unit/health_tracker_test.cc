#include "core/health_tracker.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

PollerConfig thresholds(int healthy, int unhealthy) {
  PollerConfig c;
  c.healthyThreshold = healthy;
  c.unhealthyThreshold = unhealthy;
  return c;
}

TEST(HealthTrackerTest, DefaultsAreOneAndTwo) {
  PollerConfig c;
  EXPECT_EQ(c.healthyThreshold, 1);
  EXPECT_EQ(c.unhealthyThreshold, 2);
}

TEST(HealthTrackerTest, DefaultsOneGoodPollBringsOnline) {
  ServerLiveState live;
  PollerConfig c;
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kWentOnline);
  EXPECT_TRUE(live.online);
  EXPECT_EQ(live.healthyCount, 0);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_TRUE(live.online);
}

TEST(HealthTrackerTest, DefaultsTwoFailuresTakeOffline) {
  ServerLiveState live;
  live.online = true;
  PollerConfig c;
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_TRUE(live.online);
  EXPECT_EQ(live.unhealthyCount, 1);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kWentOffline);
  EXPECT_FALSE(live.online);
  EXPECT_EQ(live.unhealthyCount, 0);
  // Further failures while offline change nothing and count nothing.
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_FALSE(live.online);
  EXPECT_EQ(live.unhealthyCount, 0);
}

TEST(HealthTrackerTest, ThreeThreeRise) {
  ServerLiveState live;
  auto c = thresholds(3, 3);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_FALSE(live.online);
  EXPECT_EQ(live.healthyCount, 2);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kWentOnline);
  EXPECT_TRUE(live.online);
  EXPECT_EQ(live.healthyCount, 0);
}

TEST(HealthTrackerTest, ThreeThreeFall) {
  ServerLiveState live;
  live.online = true;
  auto c = thresholds(3, 3);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_TRUE(live.online);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kWentOffline);
  EXPECT_FALSE(live.online);
}

TEST(HealthTrackerTest, FailureResetsTheRiseCounter) {
  ServerLiveState live;
  auto c = thresholds(3, 3);
  recordPollResult(live, true, c);
  recordPollResult(live, true, c);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_EQ(live.healthyCount, 0);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_FALSE(live.online);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kWentOnline);
}

TEST(HealthTrackerTest, SuccessResetsTheFallCounter) {
  ServerLiveState live;
  live.online = true;
  auto c = thresholds(3, 3);
  recordPollResult(live, false, c);
  recordPollResult(live, false, c);
  EXPECT_EQ(recordPollResult(live, true, c), HealthChange::kNone);
  EXPECT_EQ(live.unhealthyCount, 0);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kNone);
  EXPECT_TRUE(live.online);
  EXPECT_EQ(recordPollResult(live, false, c), HealthChange::kWentOffline);
}

TEST(HealthTrackerTest, ChangesReportedExactlyOnce) {
  ServerLiveState live;
  auto c = thresholds(2, 2);
  int online = 0;
  int offline = 0;
  auto count = [&](HealthChange h) {
    online += h == HealthChange::kWentOnline;
    offline += h == HealthChange::kWentOffline;
  };
  for (int i = 0; i < 5; ++i) count(recordPollResult(live, true, c));
  EXPECT_EQ(online, 1);
  EXPECT_EQ(offline, 0);
  for (int i = 0; i < 5; ++i) count(recordPollResult(live, false, c));
  EXPECT_EQ(online, 1);
  EXPECT_EQ(offline, 1);
  for (int i = 0; i < 5; ++i) count(recordPollResult(live, true, c));
  EXPECT_EQ(online, 2);
  EXPECT_EQ(offline, 1);
}

}  // namespace
}  // namespace sb
