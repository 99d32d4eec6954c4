// RtcBalancer with the memory store and a manual clock: clusters, capacity with decaying
// reservations, pinning, stickiness and hashing; headroom; self-registration use-cases.
#include "core/rtc_balancer.h"

#include <gtest/gtest.h>

#include <map>

#include "core/headroom.h"
#include "core/server_admin.h"
#include "db/memory_store.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;

Server signalling(const std::string& id, const std::string& tag, int capacity, int users = 0) {
  Server s = makeServer(id, 0, tag);
  s.wsUrl = "ws://" + id + ".example.com:8188";
  s.wssUrl = "wss://" + id + ".example.com:8989";
  s.maxConnections = capacity;
  s.live.usage.users = users;
  return s;
}

class RtcBalancerTest : public ::testing::Test {
 protected:
  void add(const Server& s) { ASSERT_TRUE(servers_.addServer(s).ok()); }
  Result<RtcChoice> choose(const std::string& cluster, const std::string& machine = "",
                           const std::string& meeting = "", bool secure = false) {
    return rtc_.choose(RtcRequest{cluster, machine, meeting, secure});
  }
  std::string reason(const Result<RtcChoice>& r) { return r ? "" : r.error().message; }

  MemoryServerStore servers_;
  ManualClock clock_;
  RtcConfig config_{std::chrono::milliseconds(60'000), std::chrono::milliseconds(3'600'000)};
  RtcBalancer rtc_{servers_, clock_, config_};
};

TEST_F(RtcBalancerTest, LowestShareOfCapacityWins) {
  add(signalling("a", "eu", 100, 50));  // half full
  add(signalling("b", "eu", 10, 2));    // a fifth full
  auto r = choose("eu");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "b");
  EXPECT_EQ(r->url, "ws://b.example.com:8188");
  EXPECT_EQ(r->strategy, "least-connections");
  EXPECT_EQ(choose("eu", "", "", true)->url.substr(0, 6), "wss://");
}

TEST_F(RtcBalancerTest, ReservationsFillCapacityAndDecay) {
  add(signalling("a", "", 2));
  EXPECT_TRUE(choose("").ok());
  EXPECT_TRUE(choose("").ok());
  EXPECT_EQ(reason(choose("")), "no capacity in cluster default");
  EXPECT_EQ(rtc_.handedOut(), (std::map<std::string, int>{{"a", 2}}));
  clock_.advanceMs(60'001);
  EXPECT_TRUE(choose("").ok()) << "reservations decay after RTC_RESERVATION_TTL";
  EXPECT_EQ(rtc_.handedOut(), (std::map<std::string, int>{{"a", 1}}));
}

TEST_F(RtcBalancerTest, ClustersAreTags) {
  add(signalling("a", "eu", 10));
  add(signalling("b", "", 10));
  EXPECT_EQ(choose("eu")->serverId, "a");
  EXPECT_EQ(choose("")->serverId, "b");
  EXPECT_EQ(reason(choose("us")), "unknown cluster us");
}

TEST_F(RtcBalancerTest, OnlyEnabledOnlineServersWithTheSchemeAreOffered) {
  Server offline = signalling("a", "eu", 10);
  offline.live.online = false;
  Server cordoned = signalling("b", "eu", 10);
  cordoned.state = AdminState::kCordoned;
  Server plain = signalling("c", "eu", 10);
  plain.wssUrl.clear();
  add(offline);
  add(cordoned);
  add(plain);
  EXPECT_EQ(choose("eu")->serverId, "c");
  EXPECT_EQ(reason(choose("eu", "", "", true)), "no server with a wss url available in cluster eu");
}

TEST_F(RtcBalancerTest, MachinePinsByIdOrHost) {
  add(signalling("a", "eu", 1));
  add(signalling("b", "eu", 10));
  add(signalling("c", "", 10));
  EXPECT_EQ(choose("eu", "a.example.com")->serverId, "a");
  EXPECT_EQ(reason(choose("eu", "a")), "no capacity on machine a");
  EXPECT_EQ(choose("eu", "b.example.com:8989")->strategy, "pinned");
  EXPECT_EQ(reason(choose("eu", "zzz")), "unknown machine zzz");
  EXPECT_EQ(reason(choose("eu", "c")), "machine c is not in cluster eu");
}

TEST_F(RtcBalancerTest, MeetingsStickThenHashForOtherReplicas) {
  for (const char* id : {"a", "b", "c", "d"}) add(signalling(id, "", 1000));
  auto first = choose("", "", "m1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->strategy, "hash");
  for (int i = 0; i < 5; ++i) {
    auto again = choose("", "", "m1");
    EXPECT_EQ(again->serverId, first->serverId);
    EXPECT_EQ(again->strategy, "sticky");
  }
  // Another replica (no memory) picks the same server by hashing.
  RtcBalancer other(servers_, clock_, config_);
  EXPECT_EQ(other.choose(RtcRequest{"", "", "m1", false})->serverId, first->serverId);
  // Forgotten after RTC_MEETING_TTL without requests.
  clock_.advanceMs(3'600'001);
  EXPECT_EQ(choose("", "", "m1")->strategy, "hash");
}

TEST_F(RtcBalancerTest, AStickyMeetingLeavesAServerThatIsGone) {
  add(signalling("a", "", 1000));
  add(signalling("b", "", 1000));
  std::string first = choose("", "", "m")->serverId;
  Server gone = *servers_.getServer(first);
  gone.state = AdminState::kDisabled;
  ASSERT_TRUE(servers_.updateServer(gone).ok());
  EXPECT_NE(choose("", "", "m")->serverId, first);
}

// ---- headroom ----------------------------------------------------------------------------------

TEST(HeadroomTest, LosesTheLargestServersFirst) {
  std::vector<Server> pool;
  for (auto [id, cap, users] : {std::tuple{"a", 100, 30}, {"b", 50, 10}, {"c", 30, 0}}) {
    Server s = makeServer(id);
    s.maxUsers = cap;
    s.live.usage.users = users;
    pool.push_back(s);
  }
  Server disabled = makeServer("d", 0, "", AdminState::kDisabled);
  disabled.maxUsers = 1000;
  pool.push_back(disabled);
  Headroom one = computeHeadroom(pool, 1);
  EXPECT_EQ(one.servers, 3);
  EXPECT_EQ(one.capacity, 180);
  EXPECT_EQ(one.capacityLeft, 80);
  EXPECT_EQ(one.load, 40);
  EXPECT_TRUE(one.holds);
  Headroom two = computeHeadroom(pool, 2);
  EXPECT_EQ(two.capacityLeft, 30);
  EXPECT_FALSE(two.holds);
  Headroom all = computeHeadroom(pool, 3);
  EXPECT_EQ(all.serversLeft, 0);
  EXPECT_FALSE(all.holds);
  // Without a user limit a server counts its connection capacity.
  Server plain = makeServer("e");
  EXPECT_EQ(userCapacity(plain), Server::kDefaultMaxConnections);
}

// ---- self-registration ---------------------------------------------------------------------

class RegistrationTest : public ::testing::Test {
 protected:
  ServerChanges node(const std::string& url) {
    ServerChanges c;
    c.url = url;
    c.secret = "s1";
    c.wsUrl = "ws://node:8188";
    return c;
  }
  MemoryServerStore servers_;
  MemoryMeetingStore meetings_;
  fake::FakeBbbClient bbb_;
  Config config_;
  ServerAdmin admin_{servers_, meetings_, bbb_, config_};
};

constexpr auto kByServer = ServerAdmin::Registrant::kServer;

TEST_F(RegistrationTest, AddsEnabledThenUpdatesTheSameServer) {
  auto first = admin_.registerServer(node("https://node.example.com/bigbluebutton/"), kByServer);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->server.state, AdminState::kEnabled);
  EXPECT_FALSE(first->server.live.online);
  EXPECT_EQ(first->server.url, "https://node.example.com/bigbluebutton/api/");
  ServerChanges changed = node("https://node.example.com");
  changed.secret = "s2";
  auto again = admin_.registerServer(changed, kByServer);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->server.id, first->server.id);
  EXPECT_EQ(again->server.secret, "s2");
  EXPECT_EQ(servers_.listServers()->size(), 1u);
}

TEST_F(RegistrationTest, DeregisterCordonsAndMarksForRemoval) {
  ASSERT_TRUE(admin_.registerServer(node("https://n.example.com"), kByServer).ok());
  auto gone = admin_.deregisterServer("https://n.example.com/bigbluebutton/api", kByServer);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->state, AdminState::kCordoned);
  EXPECT_TRUE(gone->removeWhenDrained);
  EXPECT_EQ(admin_.deregisterServer("https://other.example.com", kByServer).error().code,
            ErrorCode::kNotFound);
  auto back = admin_.registerServer(node("https://n.example.com"), kByServer);
  EXPECT_EQ(back->server.state, AdminState::kEnabled);
  EXPECT_FALSE(back->server.removeWhenDrained);
}

TEST_F(RegistrationTest, ServersAnOperatorAddedAreOnlyChangedByAnOperator) {
  ServerChanges byHand = node("https://hand.example.com");
  byHand.state = AdminState::kCordoned;
  auto added = admin_.add(byHand);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(added->addedByOperator);
  ServerChanges takeover = node("https://hand.example.com");
  takeover.secret = "other";
  auto refused = admin_.registerServer(takeover, kByServer);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(admin_.deregisterServer("https://hand.example.com", kByServer).error().code,
            ErrorCode::kAlreadyExists);
  Server kept = *servers_.getServer(added->id);
  EXPECT_EQ(kept.secret, "s1");
  EXPECT_EQ(kept.state, AdminState::kCordoned);
  EXPECT_FALSE(kept.removeWhenDrained);
  auto byOperator = admin_.registerServer(takeover, ServerAdmin::Registrant::kOperator);
  ASSERT_TRUE(byOperator.ok());
  EXPECT_EQ(byOperator->server.secret, "other");
  EXPECT_TRUE(byOperator->server.addedByOperator);
  // A registered server is not an operator's, whoever registered it.
  auto registered =
      admin_.registerServer(node("https://auto.example.com"), ServerAdmin::Registrant::kOperator);
  ASSERT_TRUE(registered.ok());
  EXPECT_FALSE(registered->server.addedByOperator);
}

// Servers stored before the mark existed (migration 0003) read as registered: an operator marks
// them (PATCH added_by_operator) to keep the registration token away, or unmarks one.
TEST_F(RegistrationTest, AnOperatorDecidesWhetherTheRegistrationTokenMayChangeAServer) {
  auto registered = admin_.registerServer(node("https://n.example.com"), kByServer);
  ASSERT_TRUE(registered.ok());
  ServerChanges mark;
  mark.addedByOperator = true;
  auto marked = admin_.update(registered->server.id, mark);
  ASSERT_TRUE(marked.ok());
  EXPECT_TRUE(marked->addedByOperator);
  ServerChanges takeover = node("https://n.example.com");
  takeover.secret = "other";
  EXPECT_EQ(admin_.registerServer(takeover, kByServer).error().code, ErrorCode::kAlreadyExists);
  mark.addedByOperator = false;
  ASSERT_FALSE(admin_.update(registered->server.id, mark)->addedByOperator);
  auto taken = admin_.registerServer(takeover, kByServer);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->server.secret, "other");
  // A registration never sets or clears the mark itself, whichever token it carries.
  ServerChanges claimsToBeAnOperator = node("https://other.example.com");
  claimsToBeAnOperator.addedByOperator = true;
  auto fresh = admin_.registerServer(claimsToBeAnOperator, kByServer);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->server.addedByOperator);
  ServerChanges byHand = node("https://hand.example.com");
  auto added = admin_.add(byHand);
  ASSERT_TRUE(added.ok());
  ServerChanges unmark = node("https://hand.example.com");
  unmark.addedByOperator = false;
  auto kept = admin_.registerServer(unmark, ServerAdmin::Registrant::kOperator);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->server.addedByOperator);
}

TEST_F(RegistrationTest, RejectsBadSignallingUrlsAndCapacity) {
  ServerChanges c = node("https://n.example.com");
  c.wsUrl = "http://n:1";
  EXPECT_EQ(admin_.registerServer(c, kByServer).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.wssUrl = "ws://n:1";
  EXPECT_EQ(admin_.registerServer(c, kByServer).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.maxConnections = 0;
  EXPECT_EQ(admin_.registerServer(c, kByServer).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.wsUrl = "";  // clears
  EXPECT_TRUE(admin_.registerServer(c, kByServer).ok());
}

}  // namespace
}  // namespace sb
