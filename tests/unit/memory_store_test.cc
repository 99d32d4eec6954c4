#include "db/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;

std::vector<std::string> idsOf(const std::vector<Server>& servers) {
  std::vector<std::string> ids;
  for (const auto& s : servers) ids.push_back(s.id);
  return ids;
}

std::vector<std::string> idsOf(const std::vector<Meeting>& meetings) {
  std::vector<std::string> ids;
  for (const auto& m : meetings) ids.push_back(m.id);
  return ids;
}

Meeting meetingOn(const std::string& id, const std::string& serverId) {
  Meeting m;
  m.id = id;
  m.serverId = serverId;
  m.moderatorPw = "mp-" + id;
  m.createdAtMs = 1000;
  m.createParams.append("meetingID", id);
  return m;
}

class MemoryServerStoreTest : public ::testing::Test {
 protected:
  MemoryServerStore store_;
  ServerStore& servers_ = store_;
};

TEST_F(MemoryServerStoreTest, AddGetAndListOrderedById) {
  ASSERT_TRUE(servers_.addServer(makeServer("c")).ok());
  ASSERT_TRUE(servers_.addServer(makeServer("a", 3, "t")).ok());
  ASSERT_TRUE(servers_.addServer(makeServer("b")).ok());
  auto all = servers_.listServers();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(idsOf(*all), (std::vector<std::string>{"a", "b", "c"}));
  auto a = servers_.getServer("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, fake::urlFor("a"));
  EXPECT_EQ(a->secret, "secret-a");
  EXPECT_EQ(a->tag, "t");
  EXPECT_DOUBLE_EQ(a->live.load, 3);
}

TEST_F(MemoryServerStoreTest, GetMissingIsNotFound) {
  auto s = servers_.getServer("nope");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
}

TEST_F(MemoryServerStoreTest, DuplicateIdRejected) {
  ASSERT_TRUE(servers_.addServer(makeServer("a")).ok());
  Server other = makeServer("a");
  other.url = "https://elsewhere.example.com/bigbluebutton/api/";
  Status s = servers_.addServer(other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(MemoryServerStoreTest, DuplicateUrlRejected) {
  ASSERT_TRUE(servers_.addServer(makeServer("a")).ok());
  Server b = makeServer("b");
  b.url = fake::urlFor("a");
  Status s = servers_.addServer(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(idsOf(*servers_.listServers()), std::vector<std::string>{"a"});
}

TEST_F(MemoryServerStoreTest, UpdateKeepsLiveState) {
  Server a = makeServer("a", 42);
  a.live.usage.meetings = 3;
  ASSERT_TRUE(servers_.addServer(a).ok());
  Server changed = makeServer("a", /*load=*/0, "t2", AdminState::kCordoned, /*online=*/false);
  changed.secret = "new-secret";
  changed.loadMultiplier = 2;
  ASSERT_TRUE(servers_.updateServer(changed).ok());
  auto got = servers_.getServer("a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tag, "t2");
  EXPECT_EQ(got->secret, "new-secret");
  EXPECT_EQ(got->state, AdminState::kCordoned);
  EXPECT_DOUBLE_EQ(got->loadMultiplier, 2);
  EXPECT_TRUE(got->live.online);
  EXPECT_DOUBLE_EQ(got->live.load, 42);
  EXPECT_EQ(got->live.usage.meetings, 3);
}

TEST_F(MemoryServerStoreTest, UpdateMissingOrToATakenUrlFails) {
  EXPECT_EQ(servers_.updateServer(makeServer("x")).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(servers_.addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers_.addServer(makeServer("b")).ok());
  Server b = makeServer("b");
  b.url = fake::urlFor("a");
  EXPECT_EQ(servers_.updateServer(b).error().code, ErrorCode::kAlreadyExists);
  // Its own URL is fine.
  EXPECT_TRUE(servers_.updateServer(makeServer("b")).ok());
}

TEST_F(MemoryServerStoreTest, UpdateLiveStateReplacesIt) {
  ASSERT_TRUE(servers_.addServer(makeServer("a", 5)).ok());
  ServerLiveState live;
  live.online = false;
  live.load = 7;
  live.bbbVersion = "2.7.1";
  ASSERT_TRUE(servers_.updateLiveState("a", live).ok());
  auto got = servers_.getServer("a");
  EXPECT_FALSE(got->live.online);
  EXPECT_DOUBLE_EQ(got->live.load, 7);
  EXPECT_EQ(got->live.bbbVersion, "2.7.1");
  EXPECT_EQ(servers_.updateLiveState("zz", live).error().code, ErrorCode::kNotFound);
}

TEST_F(MemoryServerStoreTest, RemoveServer) {
  ASSERT_TRUE(servers_.addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers_.removeServer("a").ok());
  EXPECT_FALSE(servers_.getServer("a").ok());
  EXPECT_EQ(servers_.removeServer("a").error().code, ErrorCode::kNotFound);
  // The URL is free again.
  EXPECT_TRUE(servers_.addServer(makeServer("a")).ok());
}

TEST_F(MemoryServerStoreTest, ReservationsAccumulateAndNeverGoNegative) {
  ASSERT_TRUE(servers_.addServer(makeServer("a", 10)).ok());
  ASSERT_TRUE(servers_.reserve("a", 15, 1).ok());
  EXPECT_DOUBLE_EQ(servers_.getServer("a")->live.load, 25);
  EXPECT_EQ(servers_.getServer("a")->live.usage.meetings, 1);
  ASSERT_TRUE(servers_.reserve("a", -30, -2).ok());
  EXPECT_DOUBLE_EQ(servers_.getServer("a")->live.load, 0);
  EXPECT_EQ(servers_.getServer("a")->live.usage.meetings, 0);
  EXPECT_EQ(servers_.reserve("gone", 1, 1).error().code, ErrorCode::kNotFound);
}

TEST_F(MemoryServerStoreTest, CompareAndSetStateOnlyFromTheExpectedState) {
  ASSERT_TRUE(servers_.addServer(makeServer("a")).ok());
  Server s = *servers_.getServer("a");
  s.state = AdminState::kCordoned;
  ASSERT_TRUE(servers_.updateServer(s).ok());
  EXPECT_FALSE(*servers_.compareAndSetState("a", AdminState::kEnabled, AdminState::kDisabled));
  EXPECT_EQ(servers_.getServer("a")->state, AdminState::kCordoned);
  EXPECT_TRUE(*servers_.compareAndSetState("a", AdminState::kCordoned, AdminState::kDisabled));
  EXPECT_EQ(servers_.getServer("a")->state, AdminState::kDisabled);
}

class MemoryMeetingStoreTest : public ::testing::Test {
 protected:
  MemoryMeetingStore store_;
  MeetingStore& meetings_ = store_;
};

TEST_F(MemoryMeetingStoreTest, FindMissingIsEmptyNotAnError) {
  auto m = meetings_.findMeeting("nope");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
}

TEST_F(MemoryMeetingStoreTest, ClaimStoresTheMeeting) {
  auto c = meetings_.claimMeeting(meetingOn("m1", "s1"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->claimed);
  EXPECT_EQ(c->meeting.serverId, "s1");
  auto m = meetings_.findMeeting("m1");
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->serverId, "s1");
  EXPECT_EQ((*m)->moderatorPw, "mp-m1");
  EXPECT_EQ((*m)->createParams.get("meetingID"), "m1");
  EXPECT_FALSE((*m)->orphaned);
}

TEST_F(MemoryMeetingStoreTest, FirstClaimWins) {
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m1", "s1"))->claimed);
  auto second = meetings_.claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->claimed);
  EXPECT_EQ(second->meeting.serverId, "s1");
  EXPECT_EQ(second->meeting.moderatorPw, "mp-m1");
  EXPECT_EQ((*meetings_.findMeeting("m1"))->serverId, "s1");
}

TEST_F(MemoryMeetingStoreTest, ConcurrentClaimsHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::vector<MeetingStore::Claim> claims(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto c = meetings_.claimMeeting(meetingOn("m1", "s" + std::to_string(i)));
      if (!c) {
        ++failures;
        return;
      }
      claims[i] = *c;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  int winners = 0;
  std::string owner = (*meetings_.findMeeting("m1"))->serverId;
  for (const auto& c : claims) {
    winners += c.claimed;
    EXPECT_EQ(c.meeting.serverId, owner);
  }
  EXPECT_EQ(winners, 1);
}

TEST_F(MemoryMeetingStoreTest, OrphanedMeetingCanBeReclaimed) {
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m2", "s1"))->claimed);
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m3", "s2"))->claimed);
  auto n = meetings_.orphanMeetingsOf("s1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE((*meetings_.findMeeting("m1"))->orphaned);
  EXPECT_FALSE((*meetings_.findMeeting("m3"))->orphaned);
  // Already orphaned meetings are not counted again.
  EXPECT_EQ(*meetings_.orphanMeetingsOf("s1"), 0);

  auto c = meetings_.claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->claimed);
  auto m = meetings_.findMeeting("m1");
  EXPECT_EQ((*m)->serverId, "s2");
  EXPECT_FALSE((*m)->orphaned);
}

TEST_F(MemoryMeetingStoreTest, RemoveWithServerGuard) {
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings_.removeMeeting("m1", "s2").ok());
  EXPECT_TRUE(meetings_.findMeeting("m1")->has_value()) << "still on s1: not removed";
  ASSERT_TRUE(meetings_.removeMeeting("m1", "s1").ok());
  EXPECT_FALSE(meetings_.findMeeting("m1")->has_value());
}

TEST_F(MemoryMeetingStoreTest, RemoveWithoutServerAndRemoveMissing) {
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings_.removeMeeting("m1").ok());
  EXPECT_FALSE(meetings_.findMeeting("m1")->has_value());
  EXPECT_TRUE(meetings_.removeMeeting("m1").ok());
  EXPECT_TRUE(meetings_.removeMeeting("never", "s1").ok());
}

TEST_F(MemoryMeetingStoreTest, ListMeetingsFilteredAndOrdered) {
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m3", "s1"))->claimed);
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings_.claimMeeting(meetingOn("m2", "s2"))->claimed);
  EXPECT_EQ(idsOf(*meetings_.listMeetings()), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(idsOf(*meetings_.listMeetings("s1")), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(idsOf(*meetings_.listMeetings("s2")), std::vector<std::string>{"m2"});
  EXPECT_TRUE(meetings_.listMeetings("s9")->empty());
}

}  // namespace
}  // namespace sb
