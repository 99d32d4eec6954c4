// RtcBalancer with the memory store and a manual clock: clusters, capacity with decaying
// reservations, pinning, stickiness and hashing; headroom; self-registration use-cases.
#include "core/rtc_balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

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

// A request of `client` (its socket address), for `meeting` ("" = none), in the untagged cluster.
RtcRequest from(const std::string& client, const std::string& meeting = "") {
  RtcRequest r;
  r.meeting = meeting;
  r.clientAddress = client;
  return r;
}

class RtcBalancerTest : public ::testing::Test {
 protected:
  void add(const Server& s) { ASSERT_TRUE(servers_.addServer(s).ok()); }
  Result<RtcChoice> choose(const std::string& cluster, const std::string& machine = "",
                           const std::string& meeting = "", bool secure = false) {
    RtcRequest r;
    r.cluster = cluster;
    r.machine = machine;
    r.meeting = meeting;
    r.secure = secure;
    return rtc_.choose(r);
  }
  std::string reason(const Result<RtcChoice>& r) { return r ? "" : r.error().message; }

  MemoryServerStore servers_;
  ManualClock clock_;
  RtcConfig config_ = [] {
    RtcConfig c;
    c.reservationTtl = std::chrono::milliseconds(60'000);
    c.meetingTtl = std::chrono::milliseconds(3'600'000);
    c.reservationsPerClient = 0;  // one client asks throughout; its limit has tests of its own
    return c;
  }();
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
  EXPECT_EQ(other.choose(from("", "m1"))->serverId, first->serverId);
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
  changed.maxConnections = 700;
  auto again = admin_.registerServer(changed, kByServer);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->server.id, first->server.id);
  EXPECT_EQ(again->server.maxConnections, 700);
  EXPECT_EQ(servers_.listServers()->size(), 1u);
}

TEST_F(RegistrationTest, DeregisterCordonsAndMarksForRemoval) {
  ASSERT_TRUE(admin_.registerServer(node("https://n.example.com"), kByServer).ok());
  auto gone = admin_.deregisterServer("https://n.example.com/bigbluebutton/api", kByServer, "s1");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->state, AdminState::kCordoned);
  EXPECT_TRUE(gone->removeWhenDrained);
  EXPECT_EQ(admin_.deregisterServer("https://other.example.com", kByServer, "s1").error().code,
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
  ServerChanges again = node("https://n.example.com");
  again.tag = "back";
  auto taken = admin_.registerServer(again, kByServer);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->server.tag, "back");
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

// Issue 18 item 12: the registration token (every autoscaled node holds it) changed another
// node's secret, drained it, and set load multipliers that pulled every new meeting its way.
TEST_F(RegistrationTest, AServerOnlyChangesItsOwnServer) {
  ASSERT_TRUE(admin_.registerServer(node("https://a.example.com"), kByServer).ok());
  ServerChanges otherNode = node("https://a.example.com");
  otherNode.secret = "not-a's-secret";
  otherNode.tag = "stolen";
  auto refused = admin_.registerServer(otherNode, kByServer);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_NE(refused.error().message.find("secret"), std::string::npos) << refused.error().message;
  Server kept = servers_.listServers()->front();
  EXPECT_EQ(kept.secret, "s1");
  EXPECT_EQ(kept.tag, "");
  for (const std::string secret : {"", "not-a's-secret", "s"}) {
    auto drain = admin_.deregisterServer("https://a.example.com", kByServer, secret);
    ASSERT_FALSE(drain.ok()) << secret;
    EXPECT_EQ(drain.error().code, ErrorCode::kForbidden) << secret;
  }
  EXPECT_EQ(servers_.getServer(kept.id)->state, AdminState::kEnabled);
  EXPECT_FALSE(servers_.getServer(kept.id)->removeWhenDrained);
  // Its own secret opens both; an operator needs none.
  EXPECT_TRUE(admin_.deregisterServer("https://a.example.com", kByServer, "s1").ok());
  auto byOperator = admin_.registerServer(otherNode, ServerAdmin::Registrant::kOperator);
  ASSERT_TRUE(byOperator.ok());
  EXPECT_EQ(byOperator->server.secret, "not-a's-secret");
  EXPECT_TRUE(
      admin_.deregisterServer("https://a.example.com", ServerAdmin::Registrant::kOperator).ok());
}

TEST_F(RegistrationTest, ARegistrationStaysWithinTheOperatorsLimits) {
  ServerChanges greedy = node("https://greedy.example.com");
  greedy.loadMultiplier = 0.001;
  auto refused = admin_.registerServer(greedy, kByServer);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_NE(refused.error().message.find("load_multiplier"), std::string::npos);
  greedy.loadMultiplier = 11;
  EXPECT_EQ(admin_.registerServer(greedy, kByServer).error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(servers_.listServers()->empty());
  greedy.loadMultiplier = 2.5;
  ASSERT_TRUE(admin_.registerServer(greedy, kByServer).ok());
  // A repeat registration is held to the same limits.
  greedy.loadMultiplier = 0.001;
  EXPECT_EQ(admin_.registerServer(greedy, kByServer).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(servers_.listServers()->front().loadMultiplier, 2.5);
  // An operator is not.
  ASSERT_TRUE(admin_.registerServer(greedy, ServerAdmin::Registrant::kOperator).ok());
  EXPECT_EQ(servers_.listServers()->front().loadMultiplier, 0.001);

  // Without one, a new server gets 1 moved into the range; tags only from REGISTRATION_TAGS.
  config_.admin.registrationLoadMultiplierMin = 2;
  config_.admin.registrationTags = {"autoscaled"};
  auto plain = admin_.registerServer(node("https://plain.example.com"), kByServer);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->server.loadMultiplier, 2);
  ServerChanges tagged = node("https://tagged.example.com");
  tagged.tag = "premium";
  auto wrongTag = admin_.registerServer(tagged, kByServer);
  ASSERT_FALSE(wrongTag.ok());
  EXPECT_EQ(wrongTag.error().code, ErrorCode::kForbidden);
  EXPECT_NE(wrongTag.error().message.find("REGISTRATION_TAGS"), std::string::npos);
  tagged.tag = "autoscaled";
  EXPECT_TRUE(admin_.registerServer(tagged, kByServer).ok());
}

TEST_F(RegistrationTest, OutOfRangeNumbersAndControlBytesAreRefused) {
  ServerChanges c = node("https://n.example.com");
  c.maxUsers = kMaxServerCapacity + 1;
  EXPECT_EQ(admin_.add(c).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.loadMultiplier = kMaxLoadMultiplier * 2;
  EXPECT_EQ(admin_.add(c).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.secret = std::string("s\0t", 3);
  EXPECT_EQ(admin_.add(c).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com");
  c.tag = "a\nb";
  EXPECT_EQ(admin_.add(c).error().code, ErrorCode::kInvalidArgument);
  c = node("https://n.example.com/\x01");
  EXPECT_EQ(admin_.add(c).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(servers_.listServers()->empty());
}

// ---- server URL addresses (SERVER_URL_ALLOWED_NETS) ------------------------------------------

std::vector<IpAddress> resolveFake(const std::string& host) {
  if (host == "localhost" || host == "2130706433" || host == "127.1") {
    return {*parseIpAddress("127.0.0.1")};
  }
  if (host == "metadata.internal") return {*parseIpAddress("169.254.169.254")};
  if (host == "dual.example.com") {
    return {*parseIpAddress("192.0.2.10"), *parseIpAddress("::1")};
  }
  if (host == "bbb.example.com") return {*parseIpAddress("192.0.2.20")};
  return {};
}

TEST(ServerUrlAddressTest, LoopbackLinkLocalAndUnspecifiedNeedThePermission) {
  for (const char* url :
       {"http://127.0.0.1:8090/bigbluebutton/api/", "http://127.9.9.9/", "http://[::1]:80/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://169.254.169.254/",
        "http://[fe80::1%25eth0]/", "http://[fe80::1]/", "http://0.0.0.0:8080/", "http://[::]/",
        "http://user:pw@127.0.0.1/", "http://bbb.example.com@127.0.0.1/", "http://localhost:1/",
        "http://LOCALHOST./x", "http://2130706433/", "http://127.1/", "http://metadata.internal/",
        "https://dual.example.com/"}) {
    Status s = checkServerUrlAddress(url, {}, resolveFake);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.error().code, ErrorCode::kForbidden) << url;
    EXPECT_NE(s.error().message.find("SERVER_URL_ALLOWED_NETS"), std::string::npos) << url;
  }
  for (const char* url : {"https://bbb.example.com/", "http://192.0.2.1:8080/", "http://10.1.2.3/",
                          "http://[2001:db8::1]/", "https://unresolvable.example/"}) {
    EXPECT_TRUE(checkServerUrlAddress(url, {}, resolveFake).ok()) << url;
  }
  std::vector<IpNet> loopback = {*parseIpNet("127.0.0.0/8"), *parseIpNet("::1")};
  EXPECT_TRUE(checkServerUrlAddress("http://127.0.0.1:8090/", loopback, resolveFake).ok());
  EXPECT_TRUE(checkServerUrlAddress("http://[::1]/", loopback, resolveFake).ok());
  EXPECT_TRUE(checkServerUrlAddress("http://localhost/", loopback, resolveFake).ok());
  EXPECT_FALSE(checkServerUrlAddress("http://169.254.169.254/", loopback, resolveFake).ok());
  EXPECT_FALSE(checkServerUrlAddress("http://[fe80::1]/", loopback, resolveFake).ok());
  EXPECT_EQ(checkServerUrlAddress("http://[::1/x", {}, resolveFake).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(ServerUrlAddressTest, NetworksParse) {
  auto v4 = parseIpNet("10.0.0.0/8");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->contains(*parseIpAddress("10.200.1.1")));
  EXPECT_TRUE(v4->contains(*parseIpAddress("::ffff:10.0.0.1")));
  EXPECT_FALSE(v4->contains(*parseIpAddress("11.0.0.1")));
  auto v6 = parseIpNet("fe80::/10");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parseIpAddress("febf::1")));
  EXPECT_FALSE(v6->contains(*parseIpAddress("fec0::1")));
  EXPECT_TRUE(parseIpNet("192.0.2.7")->contains(*parseIpAddress("192.0.2.7")));
  EXPECT_FALSE(parseIpNet("192.0.2.7")->contains(*parseIpAddress("192.0.2.8")));
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "127.1",
                          "host.example.com", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(parseIpNet(bad)) << bad;
  }
  EXPECT_EQ(ipAddressText(*parseIpAddress("::ffff:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(ipAddressText(*parseIpAddress("[2001:db8::1]")), "2001:db8::1");
}

// ---- settings --------------------------------------------------------------------------------

Result<Config> configWith(std::map<std::string, std::string> vars) {
  return loadConfig([vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(HostileInputSettingsTest, DefaultsAndParsing) {
  Config d = *configWith({});
  EXPECT_TRUE(d.admin.serverUrlAllowedNets.empty());
  EXPECT_EQ(d.admin.registrationLoadMultiplierMin, 1);
  EXPECT_EQ(d.admin.registrationLoadMultiplierMax, 10);
  EXPECT_TRUE(d.admin.registrationTags.empty());
  EXPECT_EQ(d.rtc.reservationsPerClient, 10);
  EXPECT_TRUE(d.rtc.trustedProxies.empty());

  auto c = configWith({{"SERVER_URL_ALLOWED_NETS", "127.0.0.0/8, ::1"},
                       {"REGISTRATION_LOAD_MULTIPLIER_MIN", "0.5"},
                       {"REGISTRATION_LOAD_MULTIPLIER_MAX", "4"},
                       {"REGISTRATION_TAGS", "autoscaled,eu"},
                       {"RTC_RESERVATIONS_PER_CLIENT", "0"},
                       {"TRUSTED_PROXIES", "10.0.0.0/8"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->admin.serverUrlAllowedNets.size(), 2u);
  EXPECT_EQ(c->admin.registrationLoadMultiplierMin, 0.5);
  EXPECT_EQ(c->admin.registrationLoadMultiplierMax, 4);
  EXPECT_EQ(c->admin.registrationTags, (std::vector<std::string>{"autoscaled", "eu"}));
  EXPECT_EQ(c->rtc.reservationsPerClient, 0);
  ASSERT_EQ(c->rtc.trustedProxies.size(), 1u);

  for (auto [name, value] :
       {std::pair{"SERVER_URL_ALLOWED_NETS", "localhost"},
        std::pair{"TRUSTED_PROXIES", "10.0.0.0/40"}, std::pair{"RTC_RESERVATIONS_PER_CLIENT", "-1"},
        std::pair{"RTC_RESERVATIONS_PER_CLIENT", "5abc"},
        std::pair{"REGISTRATION_LOAD_MULTIPLIER_MIN", "0"},
        std::pair{"REGISTRATION_LOAD_MULTIPLIER_MAX", "nan"}}) {
    auto bad = configWith({{name, value}});
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_NE(bad.error().message.find(name), std::string::npos) << bad.error().message;
  }
  auto crossed = configWith(
      {{"REGISTRATION_LOAD_MULTIPLIER_MIN", "3"}, {"REGISTRATION_LOAD_MULTIPLIER_MAX", "2"}});
  EXPECT_FALSE(crossed.ok());
}

// ---- /rtcloadbalance per client (issue 18 item 6) -----------------------------------------

// 60 unauthenticated GETs reserved a whole cluster's capacity for RTC_RESERVATION_TTL.
TEST_F(RtcBalancerTest, OneClientCannotTakeTheClusterCapacity) {
  config_.reservationsPerClient = 10;
  RtcBalancer rtc(servers_, clock_, config_);
  add(signalling("a", "", 30));
  add(signalling("b", "", 30));
  int served = 0;
  std::string refusal;
  for (int i = 0; i < 60; ++i) {
    auto r = rtc.choose(from("203.0.113.9", i % 2 ? "m" + std::to_string(i) : ""));
    if (r) {
      ++served;
    } else {
      refusal = r.error().message;
    }
  }
  EXPECT_EQ(served, 10);
  EXPECT_EQ(refusal, "too many connections for this client (10 per 60 s)");
  // Others are served, each within its own limit; an IPv6 client counts per /64.
  EXPECT_TRUE(rtc.choose(from("198.51.100.1")).ok());
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(rtc.choose(from("2001:db8:1:2::" + std::to_string(i + 1))).ok()) << i;
  }
  EXPECT_FALSE(rtc.choose(from("2001:db8:1:2:ffff::1")).ok()) << "the same /64";
  EXPECT_TRUE(rtc.choose(from("2001:db8:1:3::1")).ok()) << "another /64";
  // Without an address (the HTTP layer did not give one) nobody is limited.
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(rtc.choose(from("")).ok()) << i;
  // The limit decays with the reservations.
  clock_.advanceMs(60'001);
  EXPECT_TRUE(rtc.choose(from("203.0.113.9")).ok());
  // 0: no limit.
  config_.reservationsPerClient = 0;
  RtcBalancer unlimited(servers_, clock_, config_);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(unlimited.choose(from("203.0.113.9")).ok()) << i;
}

TEST_F(RtcBalancerTest, TheClientTableIsBounded) {
  config_.reservationsPerClient = 1;
  RtcBalancer rtc(servers_, clock_, config_);
  add(signalling("a", "", 10'000'000));
  for (int i = 0; i < 300'000; ++i) {
    IpAddress a = *parseIpAddress("10.0.0.0");
    a[13] = static_cast<uint8_t>(i >> 16);
    a[14] = static_cast<uint8_t>(i >> 8);
    a[15] = static_cast<uint8_t>(i);
    (void)rtc.choose(from(ipAddressText(a)));
  }
  EXPECT_LE(rtc.clientsTracked(), RtcBalancer::kMaxTrackedClients + 1);
  clock_.advanceMs(60'001);
  (void)rtc.choose(from("192.0.2.1"));
  EXPECT_LE(rtc.clientsTracked(), 1u) << "decayed clients are dropped";
}

TEST(RtcClientKeyTest, ForwardedForCountsOnlyFromTrustedProxies) {
  std::vector<IpNet> proxies = {*parseIpNet("10.0.0.0/8")};
  EXPECT_EQ(rtcClientKey("192.0.2.1", "", proxies), "192.0.2.1");
  EXPECT_EQ(rtcClientKey("192.0.2.1", "198.51.100.7", proxies), "192.0.2.1")
      << "an untrusted peer's header is ignored";
  EXPECT_EQ(rtcClientKey("10.0.0.2", "198.51.100.7", proxies), "198.51.100.7");
  EXPECT_EQ(rtcClientKey("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", proxies), "198.51.100.7")
      << "the right-most address no trusted proxy added; the client writes what it likes before";
  EXPECT_EQ(rtcClientKey("10.0.0.2", "garbage", proxies), "10.0.0.2");
  EXPECT_EQ(rtcClientKey("10.0.0.2", "10.0.0.3", proxies), "10.0.0.3");
  EXPECT_EQ(rtcClientKey("::ffff:192.0.2.1", "", {}), "192.0.2.1");
  EXPECT_EQ(rtcClientKey("2001:db8:1:2:3:4:5:6", "", {}), "2001:db8:1:2::/64");
  EXPECT_EQ(rtcClientKey("", "198.51.100.7", proxies), "");
}

}  // namespace
}  // namespace sb
