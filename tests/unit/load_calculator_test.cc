#include "core/load_calculator.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::polledMeeting;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kLongAgo = kNow - 60 * kMinute;  // older than the 15 min join buffer

TEST(LoadCalculatorTest, NoMeetingsIsZero) {
  EXPECT_EQ(computeLoad({}, 1.0, kNow, LoadConfig{}), 0);
  EXPECT_EQ(computeUsage({}), ServerUsage{});
}

TEST(LoadCalculatorTest, OldMeetingsCountTheirParticipants) {
  std::vector<PolledMeeting> ms = {polledMeeting("a", 20, kLongAgo),
                                   polledMeeting("b", 3, kLongAgo)};
  EXPECT_DOUBLE_EQ(computeLoad(ms, 1.0, kNow, LoadConfig{}), 23);
}

TEST(LoadCalculatorTest, ModeratorsAreNotCountedTwice) {
  // participantCount already includes the moderators (Scalelite adds them again; we do not).
  PolledMeeting m = polledMeeting("a", 20, kLongAgo);
  m.moderatorCount = 4;
  m.listenerCount = 6;
  EXPECT_DOUBLE_EQ(computeLoad({m}, 1.0, kNow, LoadConfig{}), 20);
}

TEST(LoadCalculatorTest, YoungMeetingCountsAtLeastMinUserCount) {
  LoadConfig c;  // 15 users, 15 minutes
  EXPECT_DOUBLE_EQ(computeLoad({polledMeeting("a", 3, kNow - 5 * kMinute)}, 1.0, kNow, c), 15);
  EXPECT_DOUBLE_EQ(computeLoad({polledMeeting("a", 0, kNow)}, 1.0, kNow, c), 15);
  // A young meeting with more users than the minimum counts its users.
  EXPECT_DOUBLE_EQ(computeLoad({polledMeeting("a", 40, kNow - kMinute)}, 1.0, kNow, c), 40);
}

TEST(LoadCalculatorTest, JoinBufferBoundary) {
  LoadConfig c;
  c.minUserCount = 10;
  c.joinBufferTime = std::chrono::minutes(15);
  EXPECT_DOUBLE_EQ(computeLoad({polledMeeting("a", 2, kNow - 15 * kMinute + 1)}, 1.0, kNow, c), 10);
  EXPECT_DOUBLE_EQ(computeLoad({polledMeeting("a", 2, kNow - 15 * kMinute)}, 1.0, kNow, c), 2);
}

TEST(LoadCalculatorTest, BreakoutsSkippedForLoad) {
  std::vector<PolledMeeting> ms = {polledMeeting("main", 20, kLongAgo),
                                   polledMeeting("breakout", 7, kNow, /*breakout=*/true)};
  EXPECT_DOUBLE_EQ(computeLoad(ms, 1.0, kNow, LoadConfig{}), 20);
}

TEST(LoadCalculatorTest, MultiplierScalesTheLoad) {
  std::vector<PolledMeeting> ms = {polledMeeting("a", 20, kLongAgo),
                                   polledMeeting("b", 2, kNow - kMinute)};
  EXPECT_DOUBLE_EQ(computeLoad(ms, 2.5, kNow, LoadConfig{}), (20 + 15) * 2.5);
  EXPECT_DOUBLE_EQ(computeLoad(ms, 0.5, kNow, LoadConfig{}), (20 + 15) * 0.5);
}

TEST(LoadCalculatorTest, UsageCountsBreakouts) {
  PolledMeeting a = polledMeeting("a", 20, kLongAgo);
  a.videoCount = 3;
  a.voiceParticipantCount = 5;
  PolledMeeting b = polledMeeting("b-breakout", 7, kNow, /*breakout=*/true);
  b.videoCount = 1;
  b.voiceParticipantCount = 2;
  PolledMeeting c = polledMeeting("c", 4, kNow);
  ServerUsage u = computeUsage({a, b, c});
  EXPECT_EQ(u.meetings, 3);
  EXPECT_EQ(u.users, 31);
  EXPECT_EQ(u.largestMeeting, 20);
  EXPECT_EQ(u.videos, 4);
  EXPECT_EQ(u.voices, 7);
}

TEST(LoadCalculatorTest, UsageLargestMeetingMayBeABreakout) {
  ServerUsage u = computeUsage(
      {polledMeeting("a", 2, kLongAgo), polledMeeting("b", 9, kLongAgo, /*breakout=*/true)});
  EXPECT_EQ(u.largestMeeting, 9);
}

TEST(LoadCalculatorTest, ReservationIsMinUserCountTimesMultiplier) {
  Server s = fake::makeServer("s");
  LoadConfig c;
  EXPECT_DOUBLE_EQ(reservationFor(s, c), 15);
  s.loadMultiplier = 2;
  EXPECT_DOUBLE_EQ(reservationFor(s, c), 30);
  c.minUserCount = 0;  // never reserve nothing: bursts would all land on one server
  EXPECT_DOUBLE_EQ(reservationFor(s, c), 2);
}

}  // namespace
}  // namespace sb
