// judgeCopy: what the poller does with each copy of a meeting a server lists (issue 17).
#include "core/meeting_copies.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;
using fake::polledMeeting;
using std::chrono::milliseconds;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr milliseconds kGrace{60'000};

PlacedMeeting home(const std::string& serverId, int64_t createdAtMs, bool orphaned = false) {
  return PlacedMeeting{"m", serverId, createdAtMs, 0, orphaned};
}

Server serverIn(AdminState state, bool online) {
  Server s = makeServer("s1");
  s.state = state;
  s.live.online = online;
  return s;
}

CopyVerdict judge(const Server& s, const PlacedMeeting* h, bool breakout = false) {
  return judgeCopy(s, polledMeeting("m", 1, kNow, breakout), h, kNow, kGrace);
}

TEST(JudgeCopyTest, AMeetingAtHomeIsLeftAlone) {
  PlacedMeeting h = home("s1", kNow - 1);
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), &h), CopyVerdict::kHome);
  EXPECT_EQ(judge(serverIn(AdminState::kCordoned, true), &h), CopyVerdict::kHome);
}

TEST(JudgeCopyTest, ACopyWhereTheMeetingDoesNotLiveIsEndedAfterTheGrace) {
  Server s1 = serverIn(AdminState::kEnabled, true);
  PlacedMeeting young = home("s2", kNow - 1'000);
  PlacedMeeting old = home("s2", kNow - kGrace.count());
  EXPECT_EQ(judge(s1, &young), CopyVerdict::kWait);
  EXPECT_EQ(judge(s1, &old), CopyVerdict::kEnd);
  // Whatever the state of the server it runs on.
  EXPECT_EQ(judge(serverIn(AdminState::kDisabled, false), &old), CopyVerdict::kEnd);
}

TEST(JudgeCopyTest, AnOrphanedMeetingStillRunningOnAServingServerStaysThere) {
  PlacedMeeting here = home("s1", kNow - 1, /*orphaned=*/true);
  PlacedMeeting lostElsewhere = home("s2", kNow - 1, /*orphaned=*/true);
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), &here), CopyVerdict::kRestore);
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), &lostElsewhere), CopyVerdict::kAdopt);
  // Answering again but not online yet (rise threshold): later.
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, false), &here), CopyVerdict::kWait);
  // A disabled server takes nothing: the copy ends, the next join re-creates it elsewhere.
  EXPECT_EQ(judge(serverIn(AdminState::kDisabled, true), &here), CopyVerdict::kEnd);
  EXPECT_EQ(judge(serverIn(AdminState::kDisabled, true), &lostElsewhere), CopyVerdict::kEnd);
}

TEST(JudgeCopyTest, AnUnknownMeetingIsAdoptedOnlyByAServingServer) {
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), nullptr), CopyVerdict::kAdopt);
  EXPECT_EQ(judge(serverIn(AdminState::kCordoned, true), nullptr), CopyVerdict::kAdopt);
  EXPECT_EQ(judge(serverIn(AdminState::kDisabled, true), nullptr), CopyVerdict::kWait);
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, false), nullptr), CopyVerdict::kWait);
}

TEST(JudgeCopyTest, ALeftoverOfAnEndedMeetingIsEndedWhereverItRuns) {
  // polledMeeting's createTime is kNow: ended after it, the copy is a leftover.
  EXPECT_EQ(judgeCopy(serverIn(AdminState::kEnabled, true), polledMeeting("m", 1, kNow), nullptr,
                      kNow, kGrace, kNow + 5),
            CopyVerdict::kEnd);
  EXPECT_EQ(judgeCopy(serverIn(AdminState::kDisabled, true), polledMeeting("m", 1, kNow), nullptr,
                      kNow, kGrace, kNow),
            CopyVerdict::kEnd);
  // Created again after the end: a new meeting with a reused id.
  EXPECT_EQ(judgeCopy(serverIn(AdminState::kEnabled, true), polledMeeting("m", 1, kNow), nullptr,
                      kNow, kGrace, kNow - 5),
            CopyVerdict::kAdopt);
}

TEST(JudgeCopyTest, BreakoutRoomsAreBbbsOwn) {
  PlacedMeeting old = home("s2", kNow - kGrace.count());
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), &old, true), CopyVerdict::kHome);
  EXPECT_EQ(judge(serverIn(AdminState::kEnabled, true), nullptr, true), CopyVerdict::kHome);
}

TEST(CallTimeoutsTest, AnOfflineServerGetsATenth) {
  BbbClientConfig c;
  Server s = makeServer("s1");
  s.live.online = true;
  EXPECT_EQ(callTimeoutsFor(s, c).response, c.responseTimeout);
  s.live.online = false;
  EXPECT_EQ(callTimeoutsFor(s, c).response, c.responseTimeout / 10);
  EXPECT_EQ(callTimeoutsFor(s, c).connect, milliseconds(500));
}

}  // namespace
}  // namespace sb
