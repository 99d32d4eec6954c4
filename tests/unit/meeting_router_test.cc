// MeetingRouter with the memory stores, a manual clock, least-load placement and a fake BBB.
#include "core/meeting_router.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/balancing/least_load_strategy.h"
#include "core/checksum.h"
#include "db/memory_store.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::createdXml;
using fake::failedXml;
using fake::makeServer;
using fake::RecordedCall;
using fake::runningXml;
using fake::urlFor;

using Params = std::vector<std::pair<std::string, std::string>>;

class MeetingRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Tests change servers behind the router's back and expect the next create to see it (the
    // placement view's own tests set a TTL).
    config_.api.placementViewTtl = std::chrono::milliseconds(0);
    // Three available untagged servers; s2 is the least loaded.
    add(makeServer("s1", 10));
    add(makeServer("s2", 5));
    add(makeServer("s3", 20));
  }

  void add(const Server& s) { ASSERT_TRUE(servers_.addServer(s).ok()); }

  // Built on first use so tests can change config_ first.
  MeetingRouter& router() {
    if (!router_) {
      router_ =
          std::make_unique<MeetingRouter>(servers_, meetings_, bbb_, clock_, strategy_, config_,
                                          nullptr, snapshotsOn_ ? &snapshots_ : nullptr);
    }
    return *router_;
  }

  static ApiRequest request(const std::string& call, const Params& params) {
    ApiRequest r;
    r.call = call;
    for (const auto& [name, value] : params) r.params.append(name, value);
    return r;
  }

  Result<UpstreamAnswer> create(const std::string& meetingId, Params extra = {}) {
    extra.insert(extra.begin(), {"meetingID", meetingId});
    extra.insert(extra.begin() + 1, {"name", "Meeting " + meetingId});
    return router().create(request("create", extra));
  }

  double loadOf(const std::string& id) {
    auto s = servers_.getServer(id);
    EXPECT_TRUE(s.ok()) << id;
    return s.ok() ? s->live.load : -1;
  }

  std::optional<Meeting> meeting(const std::string& id) {
    auto m = meetings_.findMeeting(id);
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : std::nullopt;
  }

  std::string serverOf(const std::string& meetingId) {
    auto m = meeting(meetingId);
    return m ? m->serverId : "<none>";
  }

  void setOnline(const std::string& id, bool online) {
    auto s = servers_.getServer(id);
    ASSERT_TRUE(s.ok());
    ServerLiveState live = s->live;
    live.online = online;
    ASSERT_TRUE(servers_.updateLiveState(id, live).ok());
  }

  void setState(const std::string& id, AdminState state) {
    auto s = servers_.getServer(id);
    ASSERT_TRUE(s.ok());
    s->state = state;
    ASSERT_TRUE(servers_.updateServer(*s).ok());
  }

  RecordedCall lastCall(std::string_view name) {
    auto calls = bbb_.callsOf(name);
    EXPECT_FALSE(calls.empty()) << "no " << name << " call";
    return calls.empty() ? RecordedCall{} : calls.back();
  }

  MemoryServerStore serverStore_;
  fake::HookedServerStore servers_{serverStore_};
  MemoryMeetingStore meetingStore_;
  fake::HookedMeetingStore meetings_{meetingStore_};
  fake::FakeBbbClient bbb_;
  ManualClock clock_;
  LeastLoadStrategy strategy_;
  Config config_;
  std::unique_ptr<MeetingRouter> router_;
  MemorySnapshotStore snapshots_;
  bool snapshotsOn_ = false;  // getMeetings tests of the snapshot path turn it on
};

// ---- create: placement
// ---------------------------------------------------------------------------

TEST_F(MeetingRouterTest, CreatePlacesOnLeastLoadedServerAndReservesLoad) {
  auto r = create("m1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->serverId, "s2");
  EXPECT_EQ(r->body, createdXml("m1"));
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s2"));
  EXPECT_EQ(serverOf("m1"), "s2");
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5 + 15);

  // s2 now carries 20: the next meeting goes to s1 (10).
  auto r2 = create("m2");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->serverId, "s1");
  EXPECT_EQ(serverOf("m2"), "s1");
  EXPECT_DOUBLE_EQ(loadOf("s1"), 10 + 15);
}

TEST_F(MeetingRouterTest, ReservationUsesTheLoadMultiplier) {
  auto s2 = *servers_.getServer("s2");
  s2.loadMultiplier = 2;
  ASSERT_TRUE(servers_.updateServer(s2).ok());
  ASSERT_TRUE(create("m1").ok());
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5 + 30);
}

TEST_F(MeetingRouterTest, CreateRecordsTheMeeting) {
  clock_.setMs(1'234'567);
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mod"}}).ok());
  auto m = meeting("m1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->moderatorPw, "mod");
  EXPECT_EQ(m->createdAtMs, 1'234'567);
  EXPECT_EQ(m->createParams.get("name"), "Meeting m1");
  EXPECT_FALSE(m->orphaned);
}

TEST_F(MeetingRouterTest, CreateGeneratesAModeratorPasswordWhenMissing) {
  ASSERT_TRUE(create("m1").ok());
  RecordedCall call = lastCall("create");  // get() views into it: keep it alive
  auto forwarded = call.params.get("moderatorPW");
  ASSERT_TRUE(forwarded.has_value());
  EXPECT_EQ(forwarded->size(), 8u);
  EXPECT_EQ(meeting("m1")->moderatorPw, *forwarded);
}

TEST_F(MeetingRouterTest, CreateIsSignedForTheServerSecretWithSha256ByDefault) {
  ASSERT_TRUE(create("m1").ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.checksum.size(), 64u);
  EXPECT_EQ(c.checksum,
            computeChecksum(ChecksumAlgorithm::kSha256, "create", c.query, "secret-s2"));
}

TEST_F(MeetingRouterTest, SigningFollowsTheAllowedAlgorithms) {
  config_.api.checksumAlgorithms = {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha512};
  ASSERT_TRUE(create("m1").ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.checksum,
            computeChecksum(ChecksumAlgorithm::kSha512, "create", c.query, "secret-s2"));
}

TEST_F(MeetingRouterTest, RepeatedCreateGoesToTheSameServer) {
  ASSERT_TRUE(create("m1").ok());
  // s2 is now the most loaded... make it so beyond doubt.
  ASSERT_TRUE(servers_.reserve("s2", 100, 0).ok());
  double before = loadOf("s2");
  auto again = create("m1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->serverId, "s2");
  EXPECT_EQ(bbb_.callsOf("create").size(), 2u);
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s2"));
  EXPECT_DOUBLE_EQ(loadOf("s2"), before) << "no second reservation";
  EXPECT_EQ(serverOf("m1"), "s2");
}

TEST_F(MeetingRouterTest, CreateOnOfflineServerPlacesAgain) {
  ASSERT_TRUE(create("m1").ok());
  setOnline("s2", false);
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "s1");
  EXPECT_EQ(serverOf("m1"), "s1");
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s1"));
}

TEST_F(MeetingRouterTest, CreateOnDisabledServerPlacesAgain) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kDisabled);
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(serverOf("m1"), "s1");
}

TEST_F(MeetingRouterTest, CreateOnRemovedServerPlacesAgain) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_TRUE(servers_.removeServer("s2").ok());
  auto r = create("m1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->serverId, "s1");
  EXPECT_EQ(serverOf("m1"), "s1");
}

TEST_F(MeetingRouterTest, CreateOnOrphanedMeetingPlacesAgain) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());
  setOnline("s2", false);
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "s1");
  auto m = meeting("m1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->serverId, "s1");
  EXPECT_FALSE(m->orphaned);
}

TEST_F(MeetingRouterTest, CreateOnCordonedServerKeepsARunningMeeting) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kCordoned);
  bbb_.replies["isMeetingRunning"] = runningXml(true);
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "s2");
  EXPECT_EQ(serverOf("m1"), "s2");
  EXPECT_EQ(lastCall("isMeetingRunning").params.get("meetingID"), "m1");
}

TEST_F(MeetingRouterTest, CreateOnCordonedServerPlacesAnEndedMeetingAgain) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kCordoned);
  bbb_.replies["isMeetingRunning"] = runningXml(false);
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "s1");
  EXPECT_EQ(serverOf("m1"), "s1");
}

// A store that fails to read a meeting's server says nothing about the server: the meeting stays
// where it runs (placing it anew would split its participants over two servers).
TEST_F(MeetingRouterTest, CreateOfARunningMeetingKeepsItWhenItsServerCannotBeRead) {
  ASSERT_TRUE(create("m1").ok());
  size_t creates = bbb_.callsOf("create").size();
  servers_.failGetServer = true;
  auto r = create("m1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kStoreUnavailable);
  servers_.failGetServer = false;
  EXPECT_EQ(serverOf("m1"), "s2");
  EXPECT_EQ(bbb_.callsOf("create").size(), creates);
}

// A cordoned server that does not answer whether the meeting still runs may well still run it.
TEST_F(MeetingRouterTest, CreateOnACordonedServerThatDoesNotAnswerKeepsTheMeeting) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kCordoned);
  bbb_.unreachable.insert(urlFor("s2"));
  auto r = create("m1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
  EXPECT_EQ(serverOf("m1"), "s2");
  for (const auto& call : bbb_.callsOf("create")) EXPECT_EQ(call.serverUrl, urlFor("s2"));
  // Once it answers that the meeting ended, the meeting is placed anew.
  bbb_.unreachable.clear();
  bbb_.replies["isMeetingRunning"] = runningXml(false);
  auto again = create("m1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->serverId, "s1");
}

TEST_F(MeetingRouterTest, CreateWithNoServersIsNoServerAvailable) {
  for (const char* id : {"s1", "s2", "s3"}) setOnline(id, false);
  auto r = create("m1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNoServerAvailable);
  EXPECT_FALSE(meeting("m1").has_value());
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(MeetingRouterTest, CreateWithUnavailableRequiredTag) {
  auto r = create("m1", {{"meta_server-tag", "gpu!"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kServerTagUnavailable);
  EXPECT_EQ(r.error().message, "There is no available server with the required tag=gpu.");
  EXPECT_FALSE(meeting("m1").has_value());
}

TEST_F(MeetingRouterTest, MissingMeetingId) {
  for (const auto& params : {Params{}, Params{{"meetingID", ""}}, Params{{"name", "x"}}}) {
    EXPECT_EQ(router().create(request("create", params)).error().code,
              ErrorCode::kMissingParamMeetingID);
    EXPECT_EQ(router().joinUrl(request("join", params)).error().code,
              ErrorCode::kMissingParamMeetingID);
    EXPECT_EQ(router().end(request("end", params)).error().code, ErrorCode::kMissingParamMeetingID);
    EXPECT_EQ(router().isMeetingRunning(request("isMeetingRunning", params)).error().code,
              ErrorCode::kMissingParamMeetingID);
    EXPECT_EQ(router().getMeetingInfo(request("getMeetingInfo", params)).error().code,
              ErrorCode::kMissingParamMeetingID);
  }
  EXPECT_TRUE(bbb_.calls().empty());
}

// Issue 18 item 9: a meetingID BBB itself would refuse (more than 256 characters, control
// characters) is refused before any store sees it (a 3,000-character ID failed PostgreSQL's
// statement for a whole batch of claims).
TEST_F(MeetingRouterTest, AMeetingIdBbbWouldRefuseNeverReachesAStore) {
  int claims = 0;
  meetings_.beforeClaim = [&](const Meeting&) { ++claims; };
  const std::string longest(256, 'x');
  std::string accented;
  for (int i = 0; i < 256; ++i) accented += "\xC3\xA9";  // 256 characters, 512 bytes
  EXPECT_TRUE(create(longest).ok());
  EXPECT_TRUE(create(accented).ok());
  EXPECT_EQ(claims, 2);
  for (const std::string& bad : {std::string(257, 'x'), std::string(3000, 'y'),
                                 std::string("a\001b"), std::string("tab\tbed")}) {
    auto r = create(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kValidationError);
    const Params params{{"meetingID", bad}};
    EXPECT_EQ(router().joinUrl(request("join", params)).error().code, ErrorCode::kValidationError);
    EXPECT_EQ(router().end(request("end", params)).error().code, ErrorCode::kValidationError);
    EXPECT_EQ(router().getMeetingInfo(request("getMeetingInfo", params)).error().code,
              ErrorCode::kValidationError);
  }
  EXPECT_EQ(claims, 2);
  EXPECT_EQ(bbb_.callsOf("create").size(), 2u);
}

TEST_F(MeetingRouterTest, StoreFailureIsReported) {
  meetings_.failClaim = true;
  auto r = create("m1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_TRUE(bbb_.calls().empty());
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5);  // nothing reserved
  // The failed placement left no reservation in the router's view either: s2 is still first.
  meetings_.failClaim = false;
  ASSERT_TRUE(create("m1").ok());
  EXPECT_EQ(serverOf("m1"), "s2");
}

// The claims of creates that arrive while a claim is being written go to the store together, in
// one claimMeetings call, and each create gets its own meeting.
TEST_F(MeetingRouterTest, ClaimsOfConcurrentCreatesAreWrittenTogether) {
  meetings_.prefersBatches = true;
  fake::Gate<std::string> gate;
  meetings_.beforeClaim = [&](const Meeting& m) {
    if (m.id == "first") gate.pass(m.id);
  };
  router();
  std::thread first([&] { EXPECT_TRUE(create("first").ok()); });
  gate.waitUntilPassed(1);
  std::vector<std::thread> others;
  for (const char* id : {"a", "b", "c"}) {
    others.emplace_back([&, id] { EXPECT_TRUE(create(id).ok()); });
  }
  while (router().claimsWaiting() < 3) std::this_thread::yield();
  gate.open();
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(meetings_.claimBatches(), (std::vector<size_t>{1, 3}));
  for (const char* id : {"first", "a", "b", "c"}) EXPECT_TRUE(meeting(id).has_value()) << id;
  EXPECT_EQ(bbb_.callsOf("create").size(), 4u);
}

// A store without round trips (the embedded one) gets each create's claim at once: gathering them
// would only make creates wait on each other.
TEST_F(MeetingRouterTest, ClaimsGoStraightToAStoreThatDoesNotPreferBatches) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_TRUE(create("m2").ok());
  EXPECT_TRUE(meetings_.claimBatches().empty());
  EXPECT_TRUE(meeting("m2").has_value());
}

// A server that holds calls and answers none for a second (stalled) gets at most
// SERVER_CALL_LIMIT of them; one more fails at once, calls to other servers go on, and the slot
// comes back when the slow call ends.
TEST_F(MeetingRouterTest, CallsBeyondTheServerCallLimitFailAtOnce) {
  config_.bbb.serverCallLimit = 1;
  ASSERT_TRUE(create("m1").ok());  // on s2
  std::mutex mu;
  std::condition_variable cv;
  bool held = false, release = false;
  bbb_.onCall = [&](const RecordedCall& c) {
    if (c.serverUrl != urlFor("s2") || c.call != "getMeetingInfo") return;
    std::unique_lock lock(mu);
    held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  Params info{{"meetingID", "m1"}, {"password", "mp"}};
  std::thread slow(
      [&] { EXPECT_TRUE(router().getMeetingInfo(request("getMeetingInfo", info)).ok()); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held; });
  }
  // At the limit, but the held call started just now: a burst, not yet a stall.
  clock_.advanceMs(1000);  // s2 has answered nothing for a second: stalled
  auto refused = router().getMeetingInfo(request("getMeetingInfo", info));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInternalError);
  auto other = create("m2");  // s1: not held up by s2
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->serverId, "s1");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  slow.join();
  bbb_.onCall = nullptr;
  EXPECT_TRUE(router().getMeetingInfo(request("getMeetingInfo", info)).ok());
}

TEST_F(MeetingRouterTest, ACreateOfAKnownMeetingIsForwardedWhenNoServerTakesNewOnes) {
  ASSERT_TRUE(create("m1").ok());
  // Every server cordoned: nothing new can be placed, but m1 still runs on s2.
  for (const char* id : {"s1", "s2", "s3"}) setState(id, AdminState::kCordoned);
  bbb_.replies["isMeetingRunning"] = runningXml(true);
  auto again = create("m1");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->serverId, "s2");
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s2"));
  // A meeting nobody knows gets the placement error.
  auto fresh = create("m2");
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().code, ErrorCode::kNoServerAvailable);
}

// ---- create: failures
// ----------------------------------------------------------------------------

TEST_F(MeetingRouterTest, TransportFailureReleasesTheClaimAndRetriesTheNextServer) {
  bbb_.unreachable.insert(urlFor("s2"));
  auto r = create("m1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->serverId, "s1");
  auto creates = bbb_.callsOf("create");
  ASSERT_EQ(creates.size(), 2u);
  EXPECT_EQ(creates[0].serverUrl, urlFor("s2"));
  EXPECT_EQ(creates[1].serverUrl, urlFor("s1"));
  EXPECT_EQ(serverOf("m1"), "s1");
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5) << "reservation released";
  EXPECT_DOUBLE_EQ(loadOf("s1"), 10 + 15);
}

TEST_F(MeetingRouterTest, TransportFailureEverywhereIsInternalError) {
  for (const char* id : {"s1", "s2", "s3"}) bbb_.unreachable.insert(urlFor(id));
  auto r = create("m1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
  EXPECT_EQ(r.error().message, "Unable to create meeting on server.");
  EXPECT_EQ(bbb_.callsOf("create").size(), 3u);
  EXPECT_FALSE(meeting("m1").has_value());
  EXPECT_DOUBLE_EQ(loadOf("s1"), 10);
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5);
  EXPECT_DOUBLE_EQ(loadOf("s3"), 20);
}

TEST_F(MeetingRouterTest, FailedUpstreamCreateReleasesTheClaim) {
  bbb_.replies["create"] = failedXml("idNotUnique", "A meeting already exists with that ID");
  auto r = create("m1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->success);
  EXPECT_NE(r->body.find("idNotUnique"), std::string::npos);
  EXPECT_EQ(bbb_.callsOf("create").size(), 1u) << "BBB's refusal is not retried elsewhere";
  EXPECT_FALSE(meeting("m1").has_value());
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5);
}

TEST_F(MeetingRouterTest, LostClaimRaceFollowsTheWinner) {
  // A rival request places m1 on s3 between our lookup and our claim.
  bool raced = false;
  meetings_.beforeClaim = [this, &raced](const Meeting& m) {
    if (raced) return;
    raced = true;
    Meeting rival = m;
    rival.serverId = "s3";
    rival.moderatorPw = "rival";
    ASSERT_TRUE(meetingStore_.claimMeeting(rival)->claimed);
  };
  auto r = create("m1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serverId, "s3");
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s3"));
  EXPECT_EQ(serverOf("m1"), "s3");
  EXPECT_EQ(meeting("m1")->moderatorPw, "rival");
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5) << "the loser reserves nothing";
}

// ---- create: parameters
// --------------------------------------------------------------------------

TEST_F(MeetingRouterTest, MaxMeetingDurationAddsAMissingDuration) {
  config_.api.maxMeetingDuration = 60;
  ASSERT_TRUE(create("m1").ok());
  EXPECT_EQ(lastCall("create").params.get("duration"), "60");
}

TEST_F(MeetingRouterTest, MaxMeetingDurationReplacesZero) {
  config_.api.maxMeetingDuration = 60;
  ASSERT_TRUE(create("m1", {{"duration", "0"}}).ok());
  EXPECT_EQ(lastCall("create").params.get("duration"), "60");
}

TEST_F(MeetingRouterTest, MaxMeetingDurationCapsALongerDuration) {
  config_.api.maxMeetingDuration = 60;
  ASSERT_TRUE(create("m1", {{"duration", "240"}}).ok());
  EXPECT_EQ(lastCall("create").params.get("duration"), "60");
}

TEST_F(MeetingRouterTest, MaxMeetingDurationKeepsAShorterDuration) {
  config_.api.maxMeetingDuration = 60;
  ASSERT_TRUE(create("m1", {{"duration", "30"}}).ok());
  EXPECT_EQ(lastCall("create").params.get("duration"), "30");
}

TEST_F(MeetingRouterTest, NoMaxMeetingDurationLeavesDurationAlone) {
  ASSERT_TRUE(create("m1", {{"duration", "240"}}).ok());
  EXPECT_EQ(lastCall("create").params.get("duration"), "240");
  ASSERT_TRUE(create("m2").ok());
  EXPECT_FALSE(lastCall("create").params.has("duration"));
}

TEST_F(MeetingRouterTest, CreateExcludeParamsAreNotForwarded) {
  config_.api.createExcludeParams = {"logo", "bannerText"};
  ASSERT_TRUE(create("m1", {{"logo", "https://x/logo.png"}, {"record", "true"}}).ok());
  RecordedCall c = lastCall("create");
  EXPECT_FALSE(c.params.has("logo"));
  EXPECT_EQ(c.params.get("record"), "true");
}

TEST_F(MeetingRouterTest, DefaultCreateParamsFillOnlyMissingOnes) {
  config_.api.defaultCreateParams.append("record", "true");
  config_.api.defaultCreateParams.append("welcome", "Hello");
  ASSERT_TRUE(create("m1", {{"record", "false"}}).ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.params.get("record"), "false");
  EXPECT_EQ(c.params.get("welcome"), "Hello");
}

TEST_F(MeetingRouterTest, OverrideCreateParamsAlwaysWin) {
  config_.api.overrideCreateParams.append("allowStartStopRecording", "false");
  ASSERT_TRUE(create("m1", {{"allowStartStopRecording", "true"}}).ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.params.get("allowStartStopRecording"), "false");
  // Exactly once.
  int n = 0;
  for (const auto& p : c.params.params()) n += p.name == "allowStartStopRecording";
  EXPECT_EQ(n, 1);
}

// Issue 17 item 3: BBB keeps only meta_ names matching meta_[a-zA-Z][a-zA-Z0-9-]*; a server that
// echoed meta_x[]=1 as <x[]> made its getMeetings answer unreadable. Only what BBB keeps is
// forwarded (and stored for failover).
TEST_F(MeetingRouterTest, OnlyMetadataNamesBbbKeepsAreForwarded) {
  ASSERT_TRUE(create("m1", {{"meta_x[]", "1"},
                            {"meta_1st", "1"},
                            {"meta_", "1"},
                            {"meta_a_b", "1"},
                            {"meta_bbb-origin", "Greenlight"},
                            {"meta_Course9", "c"},
                            {"metadata", "not metadata"}})
                  .ok());
  RecordedCall c = lastCall("create");
  for (const char* dropped : {"meta_x[]", "meta_1st", "meta_", "meta_a_b"}) {
    EXPECT_FALSE(c.params.has(dropped)) << dropped;
  }
  EXPECT_EQ(c.params.get("meta_bbb-origin"), "Greenlight");
  EXPECT_EQ(c.params.get("meta_Course9"), "c");
  EXPECT_EQ(c.params.get("metadata"), "not metadata");
  auto stored = meetings_.findMeeting("m1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_FALSE((*stored)->createParams.has("meta_x[]"));
}

TEST_F(MeetingRouterTest, ServerTagForwardedOnlyForTaggedServers) {
  add(makeServer("g1", 50, "gpu"));
  ASSERT_TRUE(create("tagged", {{"meta_server-tag", "gpu!"}}).ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.serverUrl, urlFor("g1"));
  EXPECT_EQ(c.params.get("meta_server-tag"), "gpu") << "without the '!'";

  // Tag requested but nobody carries it: falls back to an untagged server, tag not forwarded.
  ASSERT_TRUE(create("fallback", {{"meta_server-tag", "zzz"}}).ok());
  c = lastCall("create");
  EXPECT_EQ(c.serverUrl, urlFor("s2"));
  EXPECT_FALSE(c.params.has("meta_server-tag"));
}

TEST_F(MeetingRouterTest, RepeatedCreateOnTaggedServerForwardsItsTag) {
  add(makeServer("g1", 50, "gpu"));
  ASSERT_TRUE(create("m1", {{"meta_server-tag", "gpu"}}).ok());
  ASSERT_TRUE(create("m1").ok());
  RecordedCall c = lastCall("create");
  EXPECT_EQ(c.serverUrl, urlFor("g1"));
  EXPECT_EQ(c.params.get("meta_server-tag"), "gpu");
}

TEST_F(MeetingRouterTest, ServerTagPrecedenceOverrideRequestDefault) {
  add(makeServer("ga", 50, "a"));
  add(makeServer("gb", 50, "b"));
  add(makeServer("gc", 50, "c"));
  config_.api.defaultCreateParams.append("meta_server-tag", "a");
  ASSERT_TRUE(create("by-default").ok());
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("ga"));
  ASSERT_TRUE(create("by-request", {{"meta_server-tag", "b"}}).ok());
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("gb"));
  config_.api.overrideCreateParams.append("meta_server-tag", "c");
  ASSERT_TRUE(create("by-override", {{"meta_server-tag", "b"}}).ok());
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("gc"));
}

TEST_F(MeetingRouterTest, XmlBodyForwardedWithCreate) {
  ApiRequest r = request("create", {{"meetingID", "m1"}});
  r.body = "<modules><module name=\"presentation\"/></modules>";
  r.contentType = "application/xml";
  ASSERT_TRUE(router().create(r).ok());
  EXPECT_EQ(lastCall("create").body, r.body);
  EXPECT_EQ(meeting("m1")->createBody, r.body);
}

// ---- join
// ----------------------------------------------------------------------------------------

TEST_F(MeetingRouterTest, JoinUrlIsSignedForTheMeetingsServer) {
  ASSERT_TRUE(create("m1").ok());
  size_t callsBefore = bbb_.calls().size();
  auto url = router().joinUrl(
      request("join", {{"meetingID", "m1"}, {"fullName", "Alice Smith"}, {"role", "MODERATOR"}}));
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->url.rfind(urlFor("s2") + "join?", 0), 0u) << url->url;
  RecordedCall c = fake::splitSignedUrl(url->url);
  EXPECT_EQ(c.call, "join");
  EXPECT_EQ(c.params.get("fullName"), "Alice Smith");
  EXPECT_EQ(c.params.get("role"), "MODERATOR");
  EXPECT_EQ(c.checksum, computeChecksum(ChecksumAlgorithm::kSha256, "join", c.query, "secret-s2"));
  EXPECT_EQ(bbb_.calls().size(), callsBefore) << "join never contacts BBB";
}

TEST_F(MeetingRouterTest, CachedJoinUrlAnswersOnlyWhatTheJoinCacheKnows) {
  ASSERT_TRUE(create("m1").ok());
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "Alice"}});
  EXPECT_FALSE(router().cachedJoinUrl(request("join", {{"fullName", "A"}})).has_value());
  EXPECT_FALSE(router().cachedJoinUrl(request("join", {{"meetingID", "nope"}})).has_value());
  // The store read of joinUrl fills the cache; from then on no store is needed, until the TTL.
  ASSERT_TRUE(router().joinUrl(join).ok());
  auto cached = router().cachedJoinUrl(join);
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->target.serverId, "s2");
  EXPECT_FALSE(cached->refreshDue) << "a fresh entry needs no refresh";
  RecordedCall c = fake::splitSignedUrl(cached->target.url);
  EXPECT_EQ(c.params.get("fullName"), "Alice");
  EXPECT_EQ(c.checksum, computeChecksum(ChecksumAlgorithm::kSha256, "join", c.query, "secret-s2"));
  clock_.advanceMs(config_.api.joinCacheTtl.count());
  EXPECT_FALSE(router().cachedJoinUrl(join).has_value()) << "expired: the store must be read";
}

TEST_F(MeetingRouterTest, JoinedMeetingsAreRefreshedTogetherBeforeTheirCacheEntriesExpire) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_TRUE(create("m2").ok());
  auto join1 = request("join", {{"meetingID", "m1"}, {"fullName", "Alice"}});
  auto join2 = request("join", {{"meetingID", "m2"}, {"fullName", "Bob"}});
  ASSERT_TRUE(router().joinUrl(join1).ok());
  ASSERT_TRUE(router().joinUrl(join2).ok());
  const int64_t ttl = config_.api.joinCacheTtl.count();
  clock_.advanceMs(ttl * 3 / 4);
  auto due = router().cachedJoinUrl(join1);
  ASSERT_TRUE(due.has_value());
  EXPECT_TRUE(due->refreshDue) << "past 3/4 of the TTL, a hit asks for a refresh";
  EXPECT_FALSE(router().cachedJoinUrl(join1)->refreshDue) << "once per entry";
  EXPECT_FALSE(router().cachedJoinUrl(join2)->refreshDue)
      << "m2 joins the refresh already asked for";

  // Meanwhile m1 moved in the store (another router's failover) and m2 ended: one refresh
  // reads both.
  Meeting moved = meeting("m1").value_or(Meeting{});
  ASSERT_EQ(moved.serverId, "s2");
  ASSERT_TRUE(meetingStore_.removeMeeting("m1", "s2").ok());
  moved.serverId = "s1";
  ASSERT_TRUE(meetingStore_.claimMeeting(moved).ok());
  ASSERT_TRUE(meetingStore_.removeMeeting("m2", "").ok());
  router().refreshJoinCache();
  clock_.advanceMs(ttl / 2);  // past the first reads' TTL, within the refresh's
  auto refreshed = router().cachedJoinUrl(join1);
  ASSERT_TRUE(refreshed.has_value()) << "the refreshed entry counts its TTL from the refresh";
  EXPECT_EQ(refreshed->target.serverId, "s1");
  EXPECT_FALSE(router().cachedJoinUrl(join2).has_value()) << "an ended meeting is dropped";
  router().refreshJoinCache();  // nothing due: no effect
  EXPECT_TRUE(router().cachedJoinUrl(join1).has_value());

  // Its server disabled meanwhile: the refresh drops it, so the next join reads the store.
  clock_.advanceMs(ttl / 4);  // 3/4 into the refreshed entry's TTL
  ASSERT_TRUE(router().cachedJoinUrl(join1)->refreshDue);
  auto s1 = *servers_.getServer("s1");
  s1.state = AdminState::kDisabled;
  ASSERT_TRUE(servers_.updateServer(s1).ok());
  router().refreshJoinCache();
  EXPECT_FALSE(router().cachedJoinUrl(join1).has_value());
}

TEST_F(MeetingRouterTest, JoinUrlWithSha1Only) {
  config_.api.checksumAlgorithms = {ChecksumAlgorithm::kSha1};
  ASSERT_TRUE(create("m1").ok());
  auto url = router().joinUrl(request("join", {{"meetingID", "m1"}, {"fullName", "Bob"}}));
  ASSERT_TRUE(url.ok());
  RecordedCall c = fake::splitSignedUrl(url->url);
  EXPECT_EQ(c.checksum.size(), 40u);
  EXPECT_EQ(c.checksum, computeChecksum(ChecksumAlgorithm::kSha1, "join", c.query, "secret-s2"));
}

TEST_F(MeetingRouterTest, JoinParamsDefaultsOverridesAndExcludes) {
  config_.api.defaultJoinParams.append("userdata-bbb_auto_join_audio", "true");
  config_.api.overrideJoinParams.append("guest", "false");
  config_.api.joinExcludeParams = {"avatarURL"};
  ASSERT_TRUE(create("m1").ok());
  auto url = router().joinUrl(request("join", {{"meetingID", "m1"},
                                               {"fullName", "A"},
                                               {"guest", "true"},
                                               {"avatarURL", "https://x/a.png"}}));
  ASSERT_TRUE(url.ok());
  RecordedCall c = fake::splitSignedUrl(url->url);
  EXPECT_EQ(c.params.get("userdata-bbb_auto_join_audio"), "true");
  EXPECT_EQ(c.params.get("guest"), "false");
  EXPECT_FALSE(c.params.has("avatarURL"));
  EXPECT_FALSE(c.params.has("checksum"));
}

TEST_F(MeetingRouterTest, JoinUnknownMeetingIsNotFound) {
  auto url = router().joinUrl(request("join", {{"meetingID", "nope"}, {"fullName", "A"}}));
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, ErrorCode::kNotFound);
}

TEST_F(MeetingRouterTest, JoinOfOrphanedMeetingFailsOverToAHealthyServer) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}, {"meta_gl-listed", "true"}}).ok());
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());
  setOnline("s2", false);
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "A"}, {"role", "VIEWER"}});
  auto fast = router().joinUrl(join);
  ASSERT_FALSE(fast.ok());
  EXPECT_EQ(fast.error().code, ErrorCode::kServerUnavailable);  // the front then fails over
  size_t creates = bbb_.callsOf("create").size();
  auto url = router().failoverJoinUrl(join);
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(serverOf("m1"), "s1");  // the least loaded healthy server
  EXPECT_EQ(url->url.rfind(urlFor("s1") + "join?", 0), 0u);
  ASSERT_EQ(bbb_.callsOf("create").size(), creates + 1);
  RecordedCall re = lastCall("create");
  EXPECT_EQ(re.serverUrl, urlFor("s1"));
  EXPECT_EQ(re.params.get("name"), "Meeting m1");  // re-created from the stored parameters
  EXPECT_EQ(re.params.get("moderatorPW"), "mp");
  EXPECT_EQ(re.params.get("meta_gl-listed"), "true");
  EXPECT_FALSE(meeting("m1")->orphaned);
  // A second join goes straight to the new server.
  auto again = router().joinUrl(join);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->url.rfind(urlFor("s1"), 0), 0u);
}

// Issue 17: a join's failover ends the copy on the old server first, when it answers (here a
// disabled server that still runs it), before re-creating the meeting elsewhere.
TEST_F(MeetingRouterTest, AFailoverEndsTheOldCopyBeforeTheMeetingIsCreatedAgain) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}}).ok());
  ASSERT_EQ(serverOf("m1"), "s2");
  setState("s2", AdminState::kDisabled);
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "A"}, {"role", "VIEWER"}});
  auto url = router().failoverJoinUrl(join);
  ASSERT_TRUE(url.ok()) << url.error().message;
  auto calls = bbb_.calls();
  size_t endAt = calls.size(), createAt = calls.size();
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].call == "end" && calls[i].serverUrl == urlFor("s2")) endAt = std::min(endAt, i);
    if (calls[i].call == "create" && calls[i].serverUrl == urlFor("s1")) createAt = i;
  }
  ASSERT_LT(endAt, calls.size()) << "the old copy was not ended";
  EXPECT_EQ(calls[endAt].params.get("password"), "mp");
  EXPECT_LT(endAt, createAt) << "ended before the new copy was created";
  EXPECT_EQ(serverOf("m1"), "s1");
}

// Review: a meeting marked for failover while its server was out of reach, joined once that
// server answers again and still runs it, stays there: ending it and re-creating it elsewhere
// would send everybody in it to a new copy.
TEST_F(MeetingRouterTest, AFailoverJoinsTheOldServerWhenItIsBackAndStillRunsTheMeeting) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}}).ok());
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());  // s2 was offline; it is online again
  ServerPoll listed;
  listed.meetings.push_back(fake::polledMeeting("m1", 4, 0));
  bbb_.polls[urlFor("s2")] = listed;  // getMeetingInfo on s2 answers SUCCESS
  size_t creates = bbb_.callsOf("create").size();
  auto url = router().failoverJoinUrl(
      request("join", {{"meetingID", "m1"}, {"fullName", "A"}, {"role", "VIEWER"}}));
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->url.rfind(urlFor("s2") + "join?", 0), 0u);
  EXPECT_EQ(serverOf("m1"), "s2");
  EXPECT_FALSE(meeting("m1")->orphaned);
  EXPECT_TRUE(bbb_.callsOf("end").empty());
  EXPECT_EQ(bbb_.callsOf("create").size(), creates);
}

// A failover whose old server does not answer goes on (the poller ends that copy later), with
// the offline server's short timeouts.
TEST_F(MeetingRouterTest, AFailoverDoesNotWaitForAnOldServerThatDoesNotAnswer) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}}).ok());
  setOnline("s2", false);
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());
  bbb_.unreachable.insert(urlFor("s2"));
  auto url = router().failoverJoinUrl(
      request("join", {{"meetingID", "m1"}, {"fullName", "A"}, {"role", "VIEWER"}}));
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(serverOf("m1"), "s1");
  auto ends = bbb_.callsOf("end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_LE(ends[0].timeouts.response, std::chrono::milliseconds(1000));
}

// A failover whose re-create no server answered lost the meeting's route (the claim that had
// replaced the orphaned record was released): every later join answered notFound. The record
// stays, orphaned, and the next join fails over again.
TEST_F(MeetingRouterTest, AFailoverNoServerAnsweredKeepsTheMeetingForTheNextJoin) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}}).ok());
  setOnline("s2", false);
  ASSERT_TRUE(meetings_.orphanMeetingsOf("s2").ok());
  bbb_.unreachable = {urlFor("s1"), urlFor("s2"), urlFor("s3")};
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "A"}, {"role", "VIEWER"}});
  ASSERT_FALSE(router().failoverJoinUrl(join).ok());
  auto kept = meeting("m1");
  ASSERT_TRUE(kept.has_value()) << "the route was lost";
  EXPECT_TRUE(kept->orphaned);
  EXPECT_EQ(kept->createParams.get("moderatorPW"), "mp");
  bbb_.unreachable.clear();
  auto url = router().failoverJoinUrl(join);
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_NE(serverOf("m1"), "s2");
  EXPECT_FALSE(meeting("m1")->orphaned);
}

TEST_F(MeetingRouterTest, JoinOnOfflineServerIsServerUnavailable) {
  ASSERT_TRUE(create("m1").ok());
  setOnline("s2", false);
  auto url = router().joinUrl(request("join", {{"meetingID", "m1"}, {"fullName", "A"}}));
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, ErrorCode::kServerUnavailable);
  EXPECT_EQ(messageKey(url.error().code), "serverUnavailable");
}

TEST_F(MeetingRouterTest, JoinOnDisabledServerIsServerUnavailable) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kDisabled);
  auto url = router().joinUrl(request("join", {{"meetingID", "m1"}, {"fullName", "A"}}));
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, ErrorCode::kServerUnavailable);
}

TEST_F(MeetingRouterTest, JoinOnCordonedServerIsAllowed) {
  ASSERT_TRUE(create("m1").ok());
  setState("s2", AdminState::kCordoned);
  auto url = router().joinUrl(request("join", {{"meetingID", "m1"}, {"fullName", "A"}}));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->url.rfind(urlFor("s2"), 0), 0u);
}

TEST_F(MeetingRouterTest, JoinOnRemovedServerFailsOver) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_TRUE(servers_.removeServer("s2").ok());
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "A"}});
  EXPECT_EQ(router().joinUrl(join).error().code, ErrorCode::kServerUnavailable);
  auto url = router().failoverJoinUrl(join);
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(serverOf("m1"), "s1");
}

TEST_F(MeetingRouterTest, JoinWhenItsServerCannotBeReadIsAStoreErrorAndNeverAFailover) {
  ASSERT_TRUE(create("m1", {{"moderatorPW", "mp"}}).ok());
  size_t creates = bbb_.callsOf("create").size();
  auto join = request("join", {{"meetingID", "m1"}, {"fullName", "A"}});
  servers_.failGetServer = true;
  auto url = router().joinUrl(join);
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, ErrorCode::kStoreUnavailable);  // the front does not fail over
  // Nor does a failover that starts anyway (its server turned unusable meanwhile, as the front
  // saw it) move the meeting when the store then fails to read the server.
  auto failover = router().failoverJoinUrl(join);
  ASSERT_FALSE(failover.ok());
  EXPECT_EQ(failover.error().code, ErrorCode::kStoreUnavailable);
  servers_.failGetServer = false;
  EXPECT_EQ(serverOf("m1"), "s2");
  EXPECT_FALSE(meeting("m1")->orphaned);
  EXPECT_EQ(bbb_.callsOf("create").size(), creates);
  auto later = router().joinUrl(join);
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->url.rfind(urlFor("s2") + "join?", 0), 0u);
}

TEST_F(MeetingRouterTest, FailoverOfUnknownMeetingIsNotFound) {
  auto url = router().failoverJoinUrl(request("join", {{"meetingID", "nope"}, {"fullName", "A"}}));
  EXPECT_EQ(url.error().code, ErrorCode::kNotFound);
}

TEST_F(MeetingRouterTest, MoveEndsAndRecreatesOnTheTarget) {
  ASSERT_TRUE(create("m1").ok());
  ASSERT_EQ(serverOf("m1"), "s2");
  auto moved = router().moveMeeting("m1", "s3");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->serverId, "s3");
  EXPECT_EQ(serverOf("m1"), "s3");
  EXPECT_EQ(lastCall("end").serverUrl, urlFor("s2"));
  EXPECT_EQ(lastCall("create").serverUrl, urlFor("s3"));
  setState("s1", AdminState::kDisabled);
  EXPECT_EQ(router().moveMeeting("m1", "s1").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(router().moveMeeting("m1", "nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(router().moveMeeting("ghost", "s3").error().code, ErrorCode::kNotFound);
}

TEST_F(MeetingRouterTest, CapacityKeepsFullServersOutAndSaysSoWhenAllAreFull) {
  for (const char* id : {"s1", "s2", "s3"}) {
    auto s = servers_.getServer(id);
    s->maxMeetings = 1;
    ASSERT_TRUE(servers_.updateServer(*s).ok());
  }
  ASSERT_TRUE(create("a").ok());
  ASSERT_TRUE(create("b").ok());
  ASSERT_TRUE(create("c").ok());
  std::set<std::string> used = {serverOf("a"), serverOf("b"), serverOf("c")};
  EXPECT_EQ(used.size(), 3u);
  auto full = create("d");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kNoServerAvailable);
  EXPECT_NE(full.error().message.find("capacity"), std::string::npos);
}

TEST_F(MeetingRouterTest, SizeHintReservesItsExpectedLoad) {
  ASSERT_TRUE(create("big", {{"meta_bbb-meeting-size-hint", "200"}}).ok());
  EXPECT_DOUBLE_EQ(loadOf("s2"), 5 + 200);
  EXPECT_EQ(meeting("big")->sizeHint, 200);
  ASSERT_TRUE(create("bad", {{"meta_bbb-meeting-size-hint", "lots"}}).ok());
  EXPECT_EQ(meeting("bad")->sizeHint, 0);
}

// ---- end
// -----------------------------------------------------------------------------------------

TEST_F(MeetingRouterTest, EndForgetsTheMeetingOnSuccess) {
  ASSERT_TRUE(create("m1").ok());
  bbb_.replies["end"] =
      fake::successXml("<messageKey>sentEndMeetingRequest</messageKey><message>ok</message>");
  auto r = router().end(request("end", {{"meetingID", "m1"}, {"password", "mp"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->serverId, "s2");
  EXPECT_NE(r->body.find("sentEndMeetingRequest"), std::string::npos);
  RecordedCall c = lastCall("end");
  EXPECT_EQ(c.serverUrl, urlFor("s2"));
  EXPECT_EQ(c.params.get("meetingID"), "m1");
  EXPECT_EQ(c.params.get("password"), "mp");
  EXPECT_FALSE(meeting("m1").has_value());
}

TEST_F(MeetingRouterTest, EndKeepsTheMeetingOnTransportFailure) {
  ASSERT_TRUE(create("m1").ok());
  bbb_.unreachable.insert(urlFor("s2"));
  auto r = router().end(request("end", {{"meetingID", "m1"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
  EXPECT_EQ(r.error().message, "Unable to access meeting on server.");
  EXPECT_EQ(serverOf("m1"), "s2");
}

TEST_F(MeetingRouterTest, EndForgetsAMeetingBbbDoesNotKnow) {
  ASSERT_TRUE(create("m1").ok());
  bbb_.replies["end"] = failedXml("notFound");
  auto r = router().end(request("end", {{"meetingID", "m1"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->success);
  EXPECT_FALSE(meeting("m1").has_value());
}

// BUG: end() forgets the meeting after any answer from BBB, though its comment says "once BBB has
// it ended (or does not know it)". A FAILED end that is not notFound (checksumError after a secret
// rotation, invalidPassword on older BBB) leaves the meeting running on BBB while Switchboard
// forgets it: joins then fail with notFound and the next create places a second meeting elsewhere.
TEST_F(MeetingRouterTest, EndKeepsTheMeetingWhenBbbRefusesTheEnd) {
  ASSERT_TRUE(create("m1").ok());
  bbb_.replies["end"] = failedXml("checksumError", "Checksums do not match");
  auto r = router().end(request("end", {{"meetingID", "m1"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->success);
  EXPECT_EQ(serverOf("m1"), "s2");
}

TEST_F(MeetingRouterTest, EndUnknownMeetingIsNotFound) {
  auto r = router().end(request("end", {{"meetingID", "nope"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(MeetingRouterTest, CallsToOfflineServersUseReducedTimeouts) {
  config_.bbb.connectTimeout = std::chrono::milliseconds(5000);
  config_.bbb.responseTimeout = std::chrono::milliseconds(10000);
  ASSERT_TRUE(create("m1").ok());
  RecordedCall online = lastCall("create");
  EXPECT_EQ(online.timeouts.connect, std::chrono::milliseconds(5000));
  EXPECT_EQ(online.timeouts.response, std::chrono::milliseconds(10000));

  setOnline("s2", false);
  ASSERT_TRUE(router().end(request("end", {{"meetingID", "m1"}})).ok());
  RecordedCall offline = lastCall("end");
  EXPECT_EQ(offline.timeouts.connect, std::chrono::milliseconds(500));
  EXPECT_EQ(offline.timeouts.response, std::chrono::milliseconds(1000));
}

TEST_F(MeetingRouterTest, AdminEndMeeting) {
  ASSERT_TRUE(create("m1").ok());
  EXPECT_TRUE(router().endMeeting("m1").ok());
  EXPECT_FALSE(meeting("m1").has_value());
  EXPECT_EQ(router().endMeeting("m1").error().code, ErrorCode::kNotFound);
}

// ---- isMeetingRunning, getMeetingInfo, getMeetings
// -------------------------------------------------

TEST_F(MeetingRouterTest, IsMeetingRunningUnknownIsNullopt) {
  auto r = router().isMeetingRunning(request("isMeetingRunning", {{"meetingID", "nope"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(MeetingRouterTest, IsMeetingRunningAsksTheMeetingsServer) {
  ASSERT_TRUE(create("m1").ok());
  bbb_.replies["isMeetingRunning"] = runningXml(true);
  auto r = router().isMeetingRunning(request("isMeetingRunning", {{"meetingID", "m1"}}));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->body, runningXml(true));
  EXPECT_EQ(lastCall("isMeetingRunning").serverUrl, urlFor("s2"));
}

TEST_F(MeetingRouterTest, GetMeetingInfo) {
  ASSERT_TRUE(create("m1").ok());
  auto r = router().getMeetingInfo(request("getMeetingInfo", {{"meetingID", "m1"}}));
  ASSERT_TRUE(r.ok());
  RecordedCall c = lastCall("getMeetingInfo");
  EXPECT_EQ(c.serverUrl, urlFor("s2"));
  EXPECT_EQ(c.params.get("meetingID"), "m1");
  auto missing = router().getMeetingInfo(request("getMeetingInfo", {{"meetingID", "x"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(MeetingRouterTest, GetMeetingsSkipsAFailingServer) {
  ServerPoll p1;
  p1.meetings = {fake::polledMeeting("a", 1, 0), fake::polledMeeting("b", 1, 0)};
  ServerPoll p3;
  p3.meetings = {fake::polledMeeting("c", 1, 0)};
  bbb_.polls[urlFor("s1")] = p1;
  bbb_.polls[urlFor("s3")] = p3;
  bbb_.unreachable.insert(urlFor("s2"));
  auto r = router().getMeetings();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, p1.meetings[0].xml + p1.meetings[1].xml + p3.meetings[0].xml);
}

TEST_F(MeetingRouterTest, GetMeetingsAsksOnlineNonDisabledServers) {
  setOnline("s1", false);
  setState("s2", AdminState::kDisabled);
  setState("s3", AdminState::kCordoned);
  ASSERT_TRUE(router().getMeetings().ok());
  auto rounds = bbb_.pollRounds();
  ASSERT_EQ(rounds.size(), 1u);
  ASSERT_EQ(rounds[0].size(), 1u);
  RecordedCall c = fake::splitSignedUrl(rounds[0][0]);
  EXPECT_EQ(c.serverUrl, urlFor("s3"));
  EXPECT_EQ(c.call, "getMeetings");
  EXPECT_EQ(c.checksum,
            computeChecksum(ChecksumAlgorithm::kSha256, "getMeetings", "", "secret-s3"));
}

TEST_F(MeetingRouterTest, GetMeetingsAnswersFromUsableSnapshotsAndAsksTheRestLive) {
  snapshotsOn_ = true;
  config_.poller.interval = std::chrono::milliseconds(10'000);
  int64_t now = clock_.nowMs();
  ASSERT_TRUE(
      snapshots_.putSnapshot("s1", now - 1000, "<meeting><meetingID>a</meetingID></meeting>").ok());
  ASSERT_TRUE(snapshots_.putSnapshot("s2", now - 1000, "").ok());  // polled, no meetings
  ASSERT_TRUE(snapshots_.putSnapshot("s3", now - 31'000, "<meeting>stale</meeting>").ok());
  ServerPoll p3;
  p3.meetings = {fake::polledMeeting("c", 1, 0)};
  bbb_.polls[urlFor("s3")] = p3;
  auto r = router().getMeetings();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, "<meeting><meetingID>a</meetingID></meeting>" + p3.meetings[0].xml);
  ASSERT_EQ(bbb_.pollRounds().size(), 1u);
  ASSERT_EQ(bbb_.pollRounds()[0].size(), 1u) << "only the server with a stale snapshot";
  EXPECT_EQ(fake::splitSignedUrl(bbb_.pollRounds()[0][0]).serverUrl, urlFor("s3"));
}

TEST_F(MeetingRouterTest, ACreateOrEndMakesItsServersSnapshotUnusable) {
  snapshotsOn_ = true;
  int64_t taken = clock_.nowMs();
  for (const char* id : {"s1", "s2", "s3"}) ASSERT_TRUE(snapshots_.putSnapshot(id, taken, "").ok());
  clock_.advanceMs(10);
  ASSERT_TRUE(create("m1").ok());  // on s2, the least loaded
  ASSERT_TRUE(router().getMeetings().ok());
  ASSERT_EQ(bbb_.pollRounds().size(), 1u);
  ASSERT_EQ(bbb_.pollRounds()[0].size(), 1u);
  EXPECT_EQ(fake::splitSignedUrl(bbb_.pollRounds()[0][0]).serverUrl, urlFor("s2"));
  // The next poll (dated after the create) makes it usable again.
  clock_.advanceMs(10);
  ASSERT_TRUE(snapshots_.putSnapshot("s2", clock_.nowMs(), "<meeting/>").ok());
  auto listing = router().getMeetings();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(**listing, "<meeting/>");
  EXPECT_EQ(bbb_.pollRounds().size(), 1u) << "no live call";
  auto again = router().getMeetings();
  EXPECT_EQ(again->get(), listing->get()) << "the same listing, not rebuilt";
  clock_.advanceMs(10);
  ASSERT_TRUE(router().end(request("end", {{"meetingID", "m1"}, {"password", "mp"}})).ok());
  ASSERT_TRUE(router().getMeetings().ok());
  EXPECT_EQ(bbb_.pollRounds().size(), 2u) << "s2 asked live after the end";
}

// The renderer's document is what is cached and handed out again (one copy kept, not the bare
// listing beside it).
TEST_F(MeetingRouterTest, GetMeetingsCachesTheRenderedAnswer) {
  snapshotsOn_ = true;
  int rendered = 0;
  router().renderListingsWith([&rendered](std::string_view meetings) {
    ++rendered;
    return "<meetings>" + std::string(meetings) + "</meetings>";
  });
  for (const char* id : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(
        snapshots_.putSnapshot(id, clock_.nowMs(), std::string("<m id='") + id + "'/>").ok());
  }
  clock_.advanceMs(10);
  auto first = router().getMeetings();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(**first, "<meetings><m id='s1'/><m id='s2'/><m id='s3'/></meetings>");
  auto again = router().getMeetings();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());
  EXPECT_EQ(rendered, 1);
  EXPECT_TRUE(bbb_.pollRounds().empty());
}

// Issue 17 item 2: a meeting running on two servers (an old copy on a server that came back,
// until the poller ends it) is listed once by getMeetings.
TEST_F(MeetingRouterTest, GetMeetingsListsAMeetingIdOnce) {
  snapshotsOn_ = true;
  auto element = [](const std::string& id, const std::string& extra = "") {
    return "<meeting><meetingName>R</meetingName><meetingID>" + id + "</meetingID>" + extra +
           "</meeting>";
  };
  ASSERT_TRUE(snapshots_.putSnapshot("s1", clock_.nowMs(), element("a") + element("twice")).ok());
  ASSERT_TRUE(
      snapshots_
          .putSnapshot("s2", clock_.nowMs(),
                       element("twice", "<metadata><meeting>x</meeting></metadata>") + element("b"))
          .ok());
  ASSERT_TRUE(snapshots_.putSnapshot("s3", clock_.nowMs(), "").ok());
  clock_.advanceMs(10);
  auto listing = router().getMeetings();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(**listing, element("a") + element("twice") + element("b"));
}

TEST_F(MeetingRouterTest, GetMeetingsWithNoServersIsEmpty) {
  for (const char* id : {"s1", "s2", "s3"}) setOnline(id, false);
  auto r = router().getMeetings();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->empty());
  EXPECT_TRUE(bbb_.pollRounds().empty());
}

}  // namespace
}  // namespace sb
