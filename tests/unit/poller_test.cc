// Poller::pollOnce with the memory stores, a manual clock and a fake BBB answering canned polls.
#include "poller/poller.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "db/memory_store.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;
using fake::polledMeeting;
using fake::urlFor;

constexpr int64_t kMinute = 60'000;

class PollerTest : public ::testing::Test {
 protected:
  Poller& poller() {
    if (!poller_) {
      poller_ = std::make_unique<Poller>(servers_, meetings_, bbb_, clock_, config_, lease_);
    }
    return *poller_;
  }

  void add(const Server& s) { ASSERT_TRUE(servers_.addServer(s).ok()); }

  Server server(const std::string& id) {
    auto s = servers_.getServer(id);
    EXPECT_TRUE(s.ok()) << id;
    return s.ok() ? *s : Server{};
  }

  void addMeeting(const std::string& id, const std::string& serverId, int64_t createdAtMs) {
    Meeting m;
    m.id = id;
    m.serverId = serverId;
    m.createdAtMs = createdAtMs;
    ASSERT_TRUE(meetings_.claimMeeting(m)->claimed);
  }

  std::optional<Meeting> meeting(const std::string& id) {
    auto m = meetings_.findMeeting(id);
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : std::nullopt;
  }

  void answer(const std::string& serverId, std::vector<PolledMeeting> meetings, int latency = 7) {
    ServerPoll p;
    p.meetings = std::move(meetings);
    p.latencyMs = latency;
    bbb_.polls[urlFor(serverId)] = p;
  }

  int64_t now() const { return clock_.nowMs(); }

  MemoryServerStore servers_;
  MemoryMeetingStore meetingStore_;
  MeetingStore& meetings_ = meetingStore_;
  fake::FakeBbbClient bbb_;
  ManualClock clock_;
  Config config_;
  LocalLeaderLease lease_;
  std::unique_ptr<Poller> poller_;
};

TEST_F(PollerTest, SnapshotsAreDatedByTheSnapshotStoresClock) {
  add(makeServer("s1", 0));
  answer("s1", {polledMeeting("m1", 3, now())});
  MemorySnapshotStore stored;
  fake::HookedSnapshotStore snapshots{stored};  // with a clock of its own, as Redis's is
  const int64_t storeNow = now() + 90'000;      // ahead of this host's
  snapshots.time = storeNow;
  poller_ = std::make_unique<Poller>(servers_, meetings_, bbb_, clock_, config_, lease_, nullptr,
                                     &snapshots);
  poller().pollOnce();
  auto got = snapshots.snapshots({"s1"});
  ASSERT_TRUE(got.ok() && (*got)[0]);
  EXPECT_EQ((*got)[0]->takenAtMs, storeNow);
  EXPECT_NE((*got)[0]->meetingsXml.find("m1"), std::string::npos);
  // The store's time cannot be read: no snapshot is dated by this host's clock instead; the last
  // one stays as it was (and ages out), so getMeetings asks the server live.
  snapshots.time = Result<int64_t>(Error::of(ErrorCode::kStoreUnavailable));
  answer("s1", {polledMeeting("m2", 1, now())});
  clock_.advanceMs(5'000);
  poller().pollOnce();
  got = snapshots.snapshots({"s1"});
  ASSERT_TRUE(got.ok() && (*got)[0]);
  EXPECT_EQ((*got)[0]->takenAtMs, storeNow);
  EXPECT_EQ((*got)[0]->meetingsXml.find("m2"), std::string::npos);
  EXPECT_TRUE(server("s1").live.online) << "the round itself went on";
}

TEST_F(PollerTest, ServerGoesOnlineAfterOneGoodPollByDefault) {
  add(makeServer("s1", 0, "", AdminState::kEnabled, /*online=*/false));
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.servers, 1);
  EXPECT_EQ(stats.online, 1);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_TRUE(server("s1").live.online);
}

TEST_F(PollerTest, ServerGoesOnlineAfterTheHealthyThreshold) {
  config_.poller.healthyThreshold = 3;
  add(makeServer("s1", 0, "", AdminState::kEnabled, /*online=*/false));
  answer("s1", {polledMeeting("m", 20, now() - 60 * kMinute)});
  poller().pollOnce();
  EXPECT_FALSE(server("s1").live.online);
  EXPECT_EQ(server("s1").live.healthyCount, 1);
  EXPECT_DOUBLE_EQ(server("s1").live.load, 0) << "an offline server carries no load";
  poller().pollOnce();
  EXPECT_FALSE(server("s1").live.online);
  PollRoundStats stats = poller().pollOnce();
  EXPECT_TRUE(server("s1").live.online);
  EXPECT_EQ(stats.online, 1);
  EXPECT_DOUBLE_EQ(server("s1").live.load, 20);
}

TEST_F(PollerTest, LoadAndUsageRecorded) {
  Server s = makeServer("s1");
  s.loadMultiplier = 2;
  add(s);
  PolledMeeting old = polledMeeting("old", 20, now() - 60 * kMinute);
  old.videoCount = 4;
  old.moderatorCount = 2;
  PolledMeeting breakout = polledMeeting("old-breakout", 5, now() - 2 * kMinute, true);
  PolledMeeting young = polledMeeting("young", 3, now() - kMinute);
  answer("s1", {old, breakout, young}, /*latency=*/42);
  clock_.advanceMs(5);
  poller().pollOnce();
  Server got = server("s1");
  EXPECT_DOUBLE_EQ(got.live.load, (20 + 15) * 2);
  EXPECT_EQ(got.live.usage.meetings, 3);
  EXPECT_EQ(got.live.usage.users, 28);
  EXPECT_EQ(got.live.usage.largestMeeting, 20);
  EXPECT_EQ(got.live.usage.videos, 4);
  EXPECT_EQ(got.live.pollLatencyMs, 42);
  EXPECT_EQ(got.live.lastPollMs, now());
  EXPECT_EQ(got.live.lastError, "");
}

TEST_F(PollerTest, PollReplacesReservations) {
  add(makeServer("s1", /*load=*/150));
  poller().pollOnce();
  EXPECT_DOUBLE_EQ(server("s1").live.load, 0);
}

TEST_F(PollerTest, PollsEveryServerSignedWithItsSecret) {
  add(makeServer("s1"));
  add(makeServer("s2", 0, "", AdminState::kDisabled));
  add(makeServer("s3", 0, "", AdminState::kEnabled, false));
  poller().pollOnce();
  auto rounds = bbb_.pollRounds();
  ASSERT_EQ(rounds.size(), 1u);
  ASSERT_EQ(rounds[0].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    std::string id = "s" + std::to_string(i + 1);
    fake::RecordedCall c = fake::splitSignedUrl(rounds[0][i]);
    EXPECT_EQ(c.serverUrl, urlFor(id));
    EXPECT_EQ(c.call, "getMeetings");
    EXPECT_EQ(c.checksum,
              computeChecksum(ChecksumAlgorithm::kSha256, "getMeetings", "", "secret-" + id));
  }
}

TEST_F(PollerTest, ServerGoesOfflineAfterTheUnhealthyThresholdAndItsMeetingsAreOrphaned) {
  add(makeServer("s1", 30));
  add(makeServer("s2", 10));
  addMeeting("m1", "s1", now());
  addMeeting("m2", "s1", now());
  addMeeting("m3", "s2", now());
  answer("s2", {polledMeeting("m3", 1, now())});
  bbb_.unreachable.insert(urlFor("s1"));

  PollRoundStats first = poller().pollOnce();
  EXPECT_EQ(first.failed, 1);
  Server s1 = server("s1");
  EXPECT_TRUE(s1.live.online) << "one failure is below the threshold of 2";
  EXPECT_EQ(s1.live.unhealthyCount, 1);
  EXPECT_EQ(s1.live.lastError, "connection refused");
  EXPECT_FALSE(meeting("m1")->orphaned);

  PollRoundStats second = poller().pollOnce();
  EXPECT_EQ(second.failed, 1);
  EXPECT_EQ(second.online, 1);
  s1 = server("s1");
  EXPECT_FALSE(s1.live.online);
  EXPECT_DOUBLE_EQ(s1.live.load, 0);
  EXPECT_EQ(s1.live.usage, ServerUsage{});
  EXPECT_TRUE(meeting("m1")->orphaned);
  EXPECT_TRUE(meeting("m2")->orphaned);
  EXPECT_FALSE(meeting("m3")->orphaned);
  EXPECT_TRUE(server("s2").live.online);
}

TEST_F(PollerTest, ThresholdOfThreeFailures) {
  config_.poller.unhealthyThreshold = 3;
  add(makeServer("s1"));
  bbb_.unreachable.insert(urlFor("s1"));
  poller().pollOnce();
  poller().pollOnce();
  EXPECT_TRUE(server("s1").live.online);
  poller().pollOnce();
  EXPECT_FALSE(server("s1").live.online);
}

TEST_F(PollerTest, RecoveryResetsTheFailureCount) {
  add(makeServer("s1"));
  bbb_.unreachable.insert(urlFor("s1"));
  poller().pollOnce();
  bbb_.unreachable.clear();
  poller().pollOnce();
  EXPECT_EQ(server("s1").live.unhealthyCount, 0);
  bbb_.unreachable.insert(urlFor("s1"));
  poller().pollOnce();
  EXPECT_TRUE(server("s1").live.online);
}

TEST_F(PollerTest, OfflineServerStaysOfflineWhileFailing) {
  add(makeServer("s1", 0, "", AdminState::kEnabled, /*online=*/false));
  bbb_.unreachable.insert(urlFor("s1"));
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.failed, 1);
  EXPECT_EQ(stats.online, 0);
  EXPECT_FALSE(server("s1").live.online);
  EXPECT_EQ(server("s1").live.healthyCount, 0);
}

TEST_F(PollerTest, CordonedServerWithNoMeetingsBecomesDisabled) {
  add(makeServer("s1", 0, "", AdminState::kCordoned));
  poller().pollOnce();
  EXPECT_EQ(server("s1").state, AdminState::kDisabled);
}

TEST_F(PollerTest, CordonedServerWithMeetingsStaysCordoned) {
  add(makeServer("s1", 0, "", AdminState::kCordoned));
  answer("s1", {polledMeeting("m1", 4, now() - 60 * kMinute)});
  poller().pollOnce();
  EXPECT_EQ(server("s1").state, AdminState::kCordoned);
}

TEST_F(PollerTest, CordonedServerThatFailsToAnswerStaysCordoned) {
  add(makeServer("s1", 0, "", AdminState::kCordoned));
  bbb_.unreachable.insert(urlFor("s1"));
  poller().pollOnce();
  EXPECT_EQ(server("s1").state, AdminState::kCordoned);
}

// BUG: the drain (cordoned -> disabled) writes back the whole Server read before the poll round
// with updateServer(), so an operator's edit made while the round was waiting on BBB (new secret,
// URL, tag, multiplier) is silently reverted. Only the state should change (or a compare-and-set).
TEST_F(PollerTest, DrainKeepsInventoryEditedDuringTheRound) {
  add(makeServer("s1", 0, "", AdminState::kCordoned));
  bbb_.onPoll = [this] {
    Server s = server("s1");
    s.secret = "rotated-secret";
    s.tag = "new-tag";
    ASSERT_TRUE(servers_.updateServer(s).ok());
  };
  poller().pollOnce();
  Server after = server("s1");
  EXPECT_EQ(after.state, AdminState::kDisabled);
  EXPECT_EQ(after.secret, "rotated-secret");
  EXPECT_EQ(after.tag, "new-tag");
}

TEST_F(PollerTest, ServerRemovedDuringTheRoundIsSkipped) {
  add(makeServer("s1", 0, "", AdminState::kCordoned));
  add(makeServer("s2"));
  bbb_.onPoll = [this] { ASSERT_TRUE(servers_.removeServer("s1").ok()); };
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.online, 1);
  EXPECT_FALSE(servers_.getServer("s1").ok()) << "not re-created by the poller";
  EXPECT_TRUE(server("s2").live.online);
}

TEST_F(PollerTest, SweepRemovesUnlistedMeetingsButKeepsYoungOnes) {
  add(makeServer("s1"));
  addMeeting("ended", "s1", now() - 10 * kMinute);
  addMeeting("just-created", "s1", now() - 10'000);  // within the 60 s grace period
  addMeeting("listed", "s1", now() - 10 * kMinute);
  answer("s1", {polledMeeting("listed", 3, now() - 10 * kMinute)});
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 1);
  EXPECT_FALSE(meeting("ended").has_value());
  EXPECT_TRUE(meeting("just-created").has_value());
  EXPECT_TRUE(meeting("listed").has_value());

  // Once the grace period is over, a meeting BBB still does not list goes too.
  clock_.advanceMs(config_.poller.meetingGracePeriod.count());
  stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 1);
  EXPECT_FALSE(meeting("just-created").has_value());
  EXPECT_TRUE(meeting("listed").has_value());
}

// Each round reads the meetings' routing fields only (listPlacedMeetings), never every meeting's
// create parameters and body.
TEST_F(PollerTest, ARoundReadsOnlyThePlacedMeetingsListing) {
  fake::HookedMeetingStore hooked(meetingStore_);
  hooked.failListMeetings = true;
  poller_ = std::make_unique<Poller>(servers_, hooked, bbb_, clock_, config_, lease_);
  add(makeServer("s1"));
  addMeeting("ended", "s1", now() - 10 * kMinute);
  addMeeting("pending", "s1", now() - 1'000);  // placed, not listed yet: counts for capacity
  answer("s1", {});
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 1);
  EXPECT_FALSE(meeting("ended").has_value());
  EXPECT_EQ(server("s1").live.usage.meetings, 1);
}

TEST_F(PollerTest, SweepOnlyTouchesThePolledServersMeetings) {
  add(makeServer("s1"));
  add(makeServer("s2"));
  addMeeting("on-s2", "s2", now() - 10 * kMinute);
  answer("s2", {polledMeeting("on-s2", 1, 0)});
  answer("s1", {polledMeeting("on-s2", 1, 0)});  // listed by s1 too: irrelevant for s2's sweep
  poller().pollOnce();
  EXPECT_TRUE(meeting("on-s2").has_value());
  answer("s2", {});
  poller().pollOnce();
  EXPECT_FALSE(meeting("on-s2").has_value());
}

TEST_F(PollerTest, NoSweepWhenThePollFails) {
  add(makeServer("s1"));
  addMeeting("m1", "s1", now() - 10 * kMinute);
  bbb_.unreachable.insert(urlFor("s1"));
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 0);
  EXPECT_TRUE(meeting("m1").has_value());
}

TEST_F(PollerTest, VersionFetchedOnce) {
  add(makeServer("s1"));
  bbb_.versions[urlFor("s1")] = "3.0.4";
  poller().pollOnce();
  EXPECT_EQ(server("s1").live.bbbVersion, "3.0.4");
  poller().pollOnce();
  EXPECT_EQ(bbb_.versionFetches().size(), 1u);
  fake::RecordedCall root = fake::splitSignedUrl(bbb_.versionFetches()[0]);
  EXPECT_EQ(root.checksum, computeChecksum(ChecksumAlgorithm::kSha256, "", "", "secret-s1"));
}

TEST_F(PollerTest, AdminStateIsNotChangedByHealth) {
  add(makeServer("s1", 0, "", AdminState::kDisabled, /*online=*/false));
  poller().pollOnce();
  EXPECT_TRUE(server("s1").live.online);
  EXPECT_EQ(server("s1").state, AdminState::kDisabled);
}

// ---- one meeting, one place (issue 17) ------------------------------------------------------

// The end calls sent to `serverId` for `meetingId`.
int endsOn(const fake::FakeBbbClient& bbb, const std::string& serverId,
           const std::string& meetingId) {
  int n = 0;
  for (const auto& c : bbb.callsOf("end")) {
    n += c.serverUrl == urlFor(serverId) && c.params.get("meetingID") == meetingId;
  }
  return n;
}

// Items 2, 9, 10: a copy still running on a server that is not its meeting's home (the server
// came back after its meetings failed over, or answered a create after it was placed elsewhere)
// is ended there, once the home is older than the grace period.
TEST_F(PollerTest, ACopyRunningWhereItsMeetingDoesNotLiveIsEnded) {
  add(makeServer("s1"));
  add(makeServer("s2"));
  addMeeting("moved", "s2", now() - 10 * kMinute);
  addMeeting("placing", "s2", now() - 5'000);  // a placement that may still be settling
  PolledMeeting stale = polledMeeting("moved", 5, now() - 20 * kMinute);
  stale.moderatorPw = "mp";
  answer("s1", {stale, polledMeeting("placing", 0, now())});
  answer("s2", {polledMeeting("moved", 2, now()), polledMeeting("placing", 0, now())});
  poller().pollOnce();
  ASSERT_EQ(endsOn(bbb_, "s1", "moved"), 1);
  EXPECT_EQ(bbb_.callsOf("end").front().params.get("password"), "mp");
  EXPECT_EQ(endsOn(bbb_, "s1", "placing"), 0) << "within the grace period";
  EXPECT_EQ(endsOn(bbb_, "s2", "moved"), 0);
  EXPECT_EQ(meeting("moved")->serverId, "s2") << "the home is untouched";
  clock_.advanceMs(config_.poller.meetingGracePeriod.count());
  poller().pollOnce();
  EXPECT_EQ(endsOn(bbb_, "s1", "placing"), 1);
}

// The listing is read before the polls: a meeting re-homed onto the polled server meanwhile must
// not be ended there. The verdict is taken again on the store's record of the moment.
TEST_F(PollerTest, ACopyIsEndedOnlyIfTheStoreStillSaysItLivesElsewhere) {
  add(makeServer("s1"));
  add(makeServer("s2"));
  addMeeting("m", "s2", now() - 10 * kMinute);
  answer("s1", {polledMeeting("m", 5, now())});
  bbb_.onPoll = [this] {
    // A move to s1 lands while the round's answers come in.
    ASSERT_TRUE(meetings_.removeMeeting("m", "s2").ok());
    Meeting m;
    m.id = "m";
    m.serverId = "s1";
    m.createdAtMs = now() - 10 * kMinute;
    ASSERT_TRUE(meetings_.claimMeeting(m)->claimed);
  };
  poller().pollOnce();
  EXPECT_EQ(endsOn(bbb_, "s1", "m"), 0);
}

// Item 2: a server that was offline comes back with meetings nobody re-created elsewhere: they
// stay where they run instead of failing over onto a second server at the next join.
TEST_F(PollerTest, MeetingsStillRunningOnAServerBackOnlineStayThere) {
  add(makeServer("s1"));
  addMeeting("m1", "s1", now() - 10 * kMinute);
  bbb_.unreachable.insert(urlFor("s1"));
  poller().pollOnce();
  poller().pollOnce();
  ASSERT_FALSE(server("s1").live.online);
  ASSERT_TRUE(meeting("m1")->orphaned);
  bbb_.unreachable.clear();
  answer("s1", {polledMeeting("m1", 4, now() - 10 * kMinute)});
  poller().pollOnce();
  ASSERT_TRUE(server("s1").live.online);
  EXPECT_FALSE(meeting("m1")->orphaned);
  EXPECT_EQ(meeting("m1")->serverId, "s1");
  EXPECT_TRUE(bbb_.callsOf("end").empty());
}

// Item 4: the BBB servers are the ground truth of where meetings run. A meeting a server runs
// that the store does not know (its route lost) gets its route back.
TEST_F(PollerTest, ARouteTheStoreLostIsTakenBackFromTheServersListing) {
  add(makeServer("s1"));
  PolledMeeting lost = polledMeeting("lost", 3, now() - 30 * kMinute);
  lost.moderatorPw = "mp-lost";
  answer("s1", {lost, polledMeeting("breakout-1", 2, now(), /*breakout=*/true)});
  poller().pollOnce();
  auto m = meeting("lost");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->serverId, "s1");
  EXPECT_EQ(m->moderatorPw, "mp-lost");
  EXPECT_EQ(m->createdAtMs, now() - 30 * kMinute);
  EXPECT_FALSE(m->orphaned);
  EXPECT_FALSE(meeting("breakout-1").has_value()) << "breakout rooms are BBB's own";
}

// Found by the fault suite: a meeting failed over from a hung server and then ended by its
// frontend came back to life when the hung server answered again (its copy was adopted as a lost
// route). An end is remembered: the leftover copy is ended; a meeting created after the end with
// the same id (rooms reuse their ids) is still adopted.
TEST_F(PollerTest, ALeftoverCopyOfAMeetingAFrontendEndedIsEndedNotAdopted) {
  add(makeServer("s1"));
  ASSERT_TRUE(meetings_.rememberEnded("room", now() - 60'000, std::chrono::hours(24)).ok());
  answer("s1", {polledMeeting("room", 3, now() - 30 * kMinute)});
  poller().pollOnce();
  EXPECT_EQ(endsOn(bbb_, "s1", "room"), 1);
  EXPECT_FALSE(meeting("room").has_value());
  answer("s1", {polledMeeting("room", 3, now() - 1'000)});  // created again since the end
  poller().pollOnce();
  EXPECT_EQ(endsOn(bbb_, "s1", "room"), 1);
  EXPECT_TRUE(meeting("room").has_value());
}

// Servers are added disabled: one brought over from another balancer must not have its running
// conferences ended, nor routes taken for them, before an operator enables it.
TEST_F(PollerTest, MeetingsTheStoreDoesNotKnowOnADisabledServerAreLeftAlone) {
  Server s = makeServer("s1");
  s.state = AdminState::kDisabled;
  add(s);
  answer("s1", {polledMeeting("theirs", 3, now() - 30 * kMinute)});
  poller().pollOnce();
  EXPECT_FALSE(meeting("theirs").has_value());
  EXPECT_TRUE(bbb_.callsOf("end").empty());
}

// Item 1: a disabled (or panicked --failover) server's meetings are marked for failover; a copy
// still running there is ended, so their next join does not split them over two servers.
TEST_F(PollerTest, AMeetingMarkedForFailoverStillRunningOnADisabledServerIsEnded) {
  Server s = makeServer("s1");
  add(s);
  addMeeting("m1", "s1", now() - 10 * kMinute);
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s1").ok());
  s.state = AdminState::kDisabled;
  ASSERT_TRUE(servers_.updateServer(s).ok());
  answer("s1", {polledMeeting("m1", 3, now() - 10 * kMinute)});
  poller().pollOnce();
  EXPECT_EQ(endsOn(bbb_, "s1", "m1"), 1);
  EXPECT_TRUE(meeting("m1")->orphaned) << "its next join re-creates it elsewhere";
}

// Item 11: a poll answer that leaves out a running meeting (a server answering partially) no
// longer makes the router forget it: it is forgotten only once the server says it is unknown.
TEST_F(PollerTest, AMeetingLeftOutOfAnAnswerIsForgottenOnlyOnceTheServerDeniesIt) {
  add(makeServer("s1"));
  addMeeting("m1", "s1", now() - 10 * kMinute);
  answer("s1", {});
  bbb_.replies["getMeetingInfo"] = fake::successXml("<meetingID>m1</meetingID>");
  PollRoundStats stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 0);
  EXPECT_TRUE(meeting("m1").has_value());
  bbb_.replies.erase("getMeetingInfo");  // now it says notFound
  stats = poller().pollOnce();
  EXPECT_EQ(stats.meetingsSwept, 1);
  EXPECT_FALSE(meeting("m1").has_value());
}

// Item 3: an answer with meeting elements that could not be read keeps the server online.
TEST_F(PollerTest, AnAnswerWithUnreadableElementsKeepsTheServerOnline) {
  add(makeServer("s1"));
  addMeeting("m1", "s1", now() - 10 * kMinute);
  ServerPoll partial;
  partial.unreadable = 1;
  bbb_.polls[urlFor("s1")] = partial;
  bbb_.replies["getMeetingInfo"] = fake::successXml("<meetingID>m1</meetingID>");
  for (int i = 0; i < 3; ++i) poller().pollOnce();
  EXPECT_TRUE(server("s1").live.online);
  EXPECT_FALSE(meeting("m1")->orphaned);
  EXPECT_TRUE(meeting("m1").has_value());
}

// Item 2: getMeetings lists a meeting once: the snapshot of a server running a copy of a meeting
// that lives elsewhere leaves that copy out.
TEST_F(PollerTest, ASnapshotLeavesOutCopiesOfMeetingsThatLiveElsewhere) {
  add(makeServer("s1"));
  add(makeServer("s2"));
  addMeeting("m", "s2", now() - 10 * kMinute);
  answer("s1", {polledMeeting("m", 5, now()), polledMeeting("own", 1, now())});
  answer("s2", {polledMeeting("m", 1, now())});
  MemorySnapshotStore snapshots;
  poller_ = std::make_unique<Poller>(servers_, meetings_, bbb_, clock_, config_, lease_, nullptr,
                                     &snapshots);
  poller().pollOnce();
  auto got = snapshots.snapshots({"s1", "s2"});
  ASSERT_TRUE(got.ok() && (*got)[0] && (*got)[1]);
  EXPECT_EQ((*got)[0]->meetingsXml.find("<meetingID>m</meetingID>"), std::string::npos);
  EXPECT_NE((*got)[0]->meetingsXml.find("<meetingID>own</meetingID>"), std::string::npos);
  EXPECT_NE((*got)[1]->meetingsXml.find("<meetingID>m</meetingID>"), std::string::npos);
}

}  // namespace
}  // namespace sb
