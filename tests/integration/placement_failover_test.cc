// Placement, failover and fault handling against several bbb-sim servers over real sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "core/health_tracker.h"
#include "harness.h"

namespace sbtest {
namespace {

using nlohmann::json;

// Meetings per sim server index (1-based), from the router's own meeting list.
std::map<std::string, int> meetingsPerServer(Router& router) {
  std::map<std::string, int> counts;
  for (const auto& m : router.meetings()) {
    counts[m["server_id"].get<std::string>()]++;
  }
  return counts;
}

std::string serverOf(Router& router, const std::string& meetingId) {
  for (const auto& m : router.meetings()) {
    if (m["id"] == meetingId) return m["server_id"];
  }
  return "";
}

HttpResult create(Router& router, const std::string& id, const std::string& extra = "") {
  return router.call("create", "name=Room&meetingID=" + id + extra);
}

TEST(PlacementTest, BurstOfConcurrentCreatesSpreadsEvenly) {
  Sim sim(10);
  Router router([](sb::Config& c) { c.http.workerThreads = 32; });
  auto ids = router.addServers(sim);
  // 200 creates within about a second, 20 at a time, no poll in between.
  std::vector<std::future<HttpResult>> inflight;
  for (int i = 0; i < 200; ++i) {
    inflight.push_back(std::async(
        std::launch::async, [&router, i] { return create(router, "burst-" + std::to_string(i)); }));
    if (inflight.size() == 20) {
      for (auto& f : inflight) ASSERT_EQ(xmlField(f.get().body, "returncode"), "SUCCESS");
      inflight.clear();
    }
  }
  auto counts = meetingsPerServer(router);
  ASSERT_EQ(counts.size(), 10u);
  int lo = 1000, hi = 0;
  for (const auto& [server, n] : counts) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  EXPECT_LE(hi - lo, 2) << "most " << hi << ", fewest " << lo;
}

TEST(PlacementTest, SizeHintSteersTheNextCreatesAway) {
  Sim sim(3);
  Router router;
  router.addServers(sim);
  ASSERT_EQ(
      xmlField(create(router, "lecture", "&meta_bbb-meeting-size-hint=300").body, "returncode"),
      "SUCCESS");
  std::string big = serverOf(router, "lecture");
  for (int i = 0; i < 10; ++i) {
    create(router, "small-" + std::to_string(i));
    EXPECT_NE(serverOf(router, "small-" + std::to_string(i)), big);
  }
  // After a poll the hint still counts while the lecture fills up (join buffer).
  router.service().poller().pollOnce();
  create(router, "after-poll");
  EXPECT_NE(serverOf(router, "after-poll"), big);
}

TEST(PlacementTest, CapacityLimitsAndTheFullPoolError) {
  Sim sim(2);
  Router router;
  auto ids = router.addServers(sim);
  for (const auto& id : ids) {
    ASSERT_EQ(router.admin("PATCH", "/servers/" + id, json{{"max_meetings", 2}}.dump()).status,
              200);
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(xmlField(create(router, "cap-" + std::to_string(i)).body, "returncode"), "SUCCESS");
  }
  auto full = create(router, "cap-4");
  EXPECT_EQ(xmlField(full.body, "returncode"), "FAILED");
  EXPECT_EQ(xmlField(full.body, "messageKey"), "internalError");
  EXPECT_NE(xmlField(full.body, "message").find("capacity"), std::string::npos) << full.body;
  // Still full after a poll (the sim reports the meetings), free again after an end.
  router.service().poller().pollOnce();
  EXPECT_EQ(xmlField(create(router, "cap-5").body, "returncode"), "FAILED");
  router.call("end", "meetingID=cap-0");
  router.service().poller().pollOnce();
  EXPECT_EQ(xmlField(create(router, "cap-6").body, "returncode"), "SUCCESS");
}

// Each strategy against the same pool: three servers with different users and loads.
class StrategyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StrategyTest, PlacesAsDocumented) {
  Sim sim(3);
  std::string strategy = GetParam();
  Router router([&strategy](sb::Config& c) { c.balancing.strategy = strategy; });
  auto ids = router.addServers(sim);
  std::vector<std::string> placed;
  for (int i = 0; i < 6; ++i) {
    std::string id = "s-" + strategy + "-" + std::to_string(i);
    ASSERT_EQ(xmlField(create(router, id).body, "returncode"), "SUCCESS");
    placed.push_back(serverOf(router, id));
  }
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (strategy == "round-robin") {
    // Rotation in server-id order, whatever the loads.
    for (int i = 0; i < 6; ++i) EXPECT_EQ(placed[i], sorted[i % 3]) << i;
  } else if (strategy == "hash") {
    // The same meetingID always maps to the same server: end and re-create lands there again.
    router.call("end", "meetingID=s-hash-0");
    create(router, "s-hash-0");
    EXPECT_EQ(serverOf(router, "s-hash-0"), placed[0]);
  } else {
    // least-load and least-connections: with equal users, reservations spread them evenly.
    std::map<std::string, int> n;
    for (const auto& p : placed) n[p]++;
    EXPECT_EQ(n.size(), 3u);
    for (const auto& [server, count] : n) EXPECT_EQ(count, 2) << server;
  }
  if (strategy == "least-connections") {
    // Users, not load, decide: give server 1 many users, the next meeting avoids it.
    sim.addParticipants(
        1,
        json::parse(router.admin("GET", "/meetings?server=" + ids[0]).body)["meetings"][0]["id"]
            .get<std::string>(),
        30);
    router.service().poller().pollOnce();
    create(router, "lc-next");
    EXPECT_NE(serverOf(router, "lc-next"), ids[0]);
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, StrategyTest,
                         ::testing::Values("least-load", "round-robin", "least-connections",
                                           "hash"));

TEST(FailoverTest, KilledServersMeetingIsRecreatedOnJoinAndTheUserRedirected) {
  Sim sim(3);
  Router router([](sb::Config& c) { c.poller.unhealthyThreshold = 2; });
  auto ids = router.addServers(sim);
  ASSERT_EQ(xmlField(create(router, "lesson", "&moderatorPW=mp&attendeePW=ap&meta_course=42").body,
                     "returncode"),
            "SUCCESS");
  std::string dead = serverOf(router, "lesson");
  int deadIndex = static_cast<int>(std::find(ids.begin(), ids.end(), dead) - ids.begin()) + 1;
  sim.fault(deadIndex, {{"down", true}});
  // Bounded by SERVER_UNHEALTHY_THRESHOLD polls.
  router.service().poller().pollOnce();
  router.service().poller().pollOnce();
  auto join = router.call("join", "fullName=Ada&meetingID=lesson&password=ap");
  ASSERT_EQ(join.status, 302) << join.body;
  std::string now = serverOf(router, "lesson");
  ASSERT_NE(now, dead);
  int nowIndex = static_cast<int>(std::find(ids.begin(), ids.end(), now) - ids.begin()) + 1;
  EXPECT_EQ(join.location.rfind(sim.servers()[nowIndex - 1].url + "join?", 0), 0u);
  // Re-created with the same parameters: the attendee password still works on the new server.
  auto follow = httpGet(join.location);
  EXPECT_EQ(follow.status, 302) << follow.body;
  json created = sim.server(nowIndex);
  bool found = false;
  for (const auto& m : created["meetings_detail"]) {
    if (m["meeting_id"] != "lesson") continue;
    found = true;
    EXPECT_EQ(m["create_params"]["attendeePW"], "ap");
    EXPECT_EQ(m["create_params"]["meta_course"], "42");
    EXPECT_EQ(m["participants"], 1);
  }
  EXPECT_TRUE(found);
  sim.fault(deadIndex, {{"down", false}});
}

TEST(FailoverTest, ConcurrentJoinsRecreateOnce) {
  Sim sim(3);
  Router router;
  auto ids = router.addServers(sim);
  create(router, "crowd");
  std::string dead = serverOf(router, "crowd");
  router.admin("POST", "/servers/" + dead + "/disable");  // disabling orphans its meetings
  std::vector<std::future<HttpResult>> joins;
  for (int i = 0; i < 20; ++i) {
    joins.push_back(std::async(std::launch::async, [&router, i] {
      return router.call("join", "fullName=U" + std::to_string(i) + "&meetingID=crowd&role=VIEWER");
    }));
  }
  std::set<std::string> hosts;
  for (auto& f : joins) {
    auto r = f.get();
    ASSERT_EQ(r.status, 302) << r.body;
    hosts.insert(r.location.substr(0, r.location.find("/bigbluebutton")));
  }
  EXPECT_EQ(hosts.size(), 1u);  // every join lands on the one re-created meeting
  int creates = 0;
  for (const auto& s : sim.servers()) creates += sim.requests(s.index, "create");
  EXPECT_EQ(creates, 2);  // the first create and one re-create
}

TEST(FailoverTest, MeetingsMoveByOperator) {
  Sim sim(2);
  Router router;
  auto ids = router.addServers(sim);
  create(router, "moving", "&attendeePW=ap&moderatorPW=mp");
  std::string from = serverOf(router, "moving");
  std::string to = from == ids[0] ? ids[1] : ids[0];
  auto r = router.admin("POST", "/meetings/moving/move", json{{"to", to}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(serverOf(router, "moving"), to);
  int toIndex = to == ids[0] ? 1 : 2;
  EXPECT_EQ(sim.meetingCount(3 - toIndex), 0);  // ended where it ran
  auto join = router.call("join", "fullName=A&meetingID=moving&password=ap");
  EXPECT_EQ(join.location.rfind(sim.servers()[toIndex - 1].url, 0), 0u);
  EXPECT_EQ(router.admin("POST", "/meetings/moving/move", json{{"to", "nope"}}.dump()).status, 404);
  EXPECT_EQ(router.admin("POST", "/meetings/moving/move", "{}").status, 400);
}

// Every kind of misbehaving server: the poller and the API keep working, nothing is lost.
TEST(FaultTest, MisbehavingServersNeverCrashOrBlock) {
  Sim sim(5);
  Router router([](sb::Config& c) {
    c.bbb.responseTimeout = std::chrono::milliseconds(1500);
    c.poller.pollTimeout = std::chrono::milliseconds(1500);
  });
  auto ids = router.addServers(sim);
  for (int i = 0; i < 5; ++i) create(router, "f-" + std::to_string(i));
  sim.fault(1, {{"timeout", true}});
  sim.fault(2, {{"error", "http500"}});
  sim.fault(3, {{"error", "garbage"}});
  sim.fault(4, {{"error", "failed"}});
  sim.fault(5, {{"down", true}});
  for (int round = 0; round < 3; ++round) {
    auto stats = router.service().poller().pollOnce();
    EXPECT_EQ(stats.failed, 5);
    EXPECT_LT(stats.wallMs, 3000);  // one round is bounded by the poll timeout
  }
  for (const auto& id : ids) {
    json s = json::parse(router.admin("GET", "/servers/" + id).body);
    EXPECT_EQ(s["online"], false) << id;
    EXPECT_NE(s["last_error"].get<std::string>(), "") << id;
  }
  // No meeting mapping was lost: they are marked for failover, not forgotten.
  auto meetings = json::parse(router.admin("GET", "/meetings").body)["meetings"];
  EXPECT_EQ(meetings.size(), 5u);
  // API calls on those meetings answer BBB errors quickly, never hang or crash.
  auto info = router.call("getMeetingInfo", "meetingID=f-0");
  EXPECT_EQ(xmlField(info.body, "returncode"), "FAILED");
  auto list = router.call("getMeetings", "");
  EXPECT_EQ(xmlField(list.body, "returncode"), "SUCCESS");
  // Servers come back: online again after the healthy threshold.
  for (int i = 1; i <= 5; ++i)
    sim.fault(i, {{"timeout", false}, {"error", "none"}, {"down", false}});
  router.service().poller().pollOnce();
  for (const auto& id : ids) {
    EXPECT_EQ(json::parse(router.admin("GET", "/servers/" + id).body)["online"], true) << id;
  }
  // And the orphaned meetings are re-created on their next join.
  auto join = router.call("join", "fullName=A&meetingID=f-3&role=VIEWER");
  EXPECT_EQ(join.status, 302) << join.body;
}

TEST(FaultTest, SlowServerNeverDelaysJoinsToOthers) {
  Sim sim(2);
  Router router([](sb::Config& c) { c.http.workerThreads = 4; });
  auto ids = router.addServers(sim);
  create(router, "fast");
  std::string fast = serverOf(router, "fast");
  int slowIndex = fast == ids[0] ? 2 : 1;
  sim.fault(slowIndex, {{"delay_ms", 3000}});
  // Creates stuck on the slow server occupy the workers...
  std::vector<std::future<HttpResult>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::async(std::launch::async, [&router, i] {
      return router.call("getMeetingInfo", "meetingID=none-" + std::to_string(i));
    }));
  }
  // ...while joins to the healthy server are answered at once (join never waits on BBB).
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    auto r = router.call("join", "fullName=A&meetingID=fast&role=VIEWER");
    ASSERT_EQ(r.status, 302);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_LT(ms, 1500);
  for (auto& f : slow) f.get();
  sim.fault(slowIndex, {{"delay_ms", 0}});
}

// ---- one meeting, one place (issue 17) over real sockets --------------------------------------

// The sim servers (1-based) that run `meetingId`.
std::vector<int> runningOn(const Sim& sim, const std::string& meetingId) {
  std::vector<int> out;
  for (const auto& s : sim.servers()) {
    const json server = sim.server(s.index);  // held: a member of a temporary would dangle
    for (const auto& m : server["meetings_detail"]) {
      if (m["meeting_id"] == meetingId) out.push_back(s.index);
    }
  }
  return out;
}

int timesListed(const std::string& xml, const std::string& meetingId) {
  int n = 0;
  const std::string needle = "<meetingID>" + meetingId + "</meetingID>";
  for (size_t at = xml.find(needle); at != std::string::npos; at = xml.find(needle, at + 1)) ++n;
  return n;
}

// Item 1: panic --failover on a server that still answers printed "failed over", the meetings
// kept running there, and the next join re-created them on another server.
TEST(OneMeetingOnePlaceTest, PanicFailoverEndsTheCopiesBeforeTheyFailOver) {
  Sim sim(2);
  Router router;
  auto ids = router.addServers(sim);
  ASSERT_EQ(xmlField(create(router, "p1", "&moderatorPW=mp").body, "returncode"), "SUCCESS");
  const std::string home = serverOf(router, "p1");
  const int homeIndex = home == ids[0] ? 1 : 2;
  sim.addParticipants(homeIndex, "p1", 5);
  auto r = router.admin("POST", "/servers/" + home + "/panic", json{{"failover", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(runningOn(sim, "p1").empty()) << "the copy on the panicked server still runs";
  auto join = router.call("join", "fullName=A&meetingID=p1&password=mp");
  ASSERT_EQ(join.status, 302) << join.body;
  EXPECT_EQ(runningOn(sim, "p1"), std::vector<int>{3 - homeIndex});
}

// A removed server is no longer polled: its copies are ended when it is removed, or they would
// run on beside the ones their next joins create.
TEST(OneMeetingOnePlaceTest, RemovingAServerEndsWhatRunsThere) {
  Sim sim(2);
  Router router;
  auto ids = router.addServers(sim);
  ASSERT_EQ(xmlField(create(router, "r1", "&moderatorPW=mp").body, "returncode"), "SUCCESS");
  const std::string home = serverOf(router, "r1");
  const int homeIndex = home == ids[0] ? 1 : 2;
  ASSERT_EQ(router.admin("DELETE", "/servers/" + home).status, 200);
  EXPECT_TRUE(runningOn(sim, "r1").empty());
  ASSERT_EQ(router.call("join", "fullName=A&meetingID=r1&password=mp").status, 302);
  EXPECT_EQ(runningOn(sim, "r1"), std::vector<int>{3 - homeIndex});
}

// Items 2 and 9: a hung server's meetings fail over; when it answers again its old copies are
// ended by the poller, and getMeetings never lists a meeting twice meanwhile.
TEST(OneMeetingOnePlaceTest, AHungServerThatComesBackHasItsOldCopiesEnded) {
  Sim sim(2);
  Router router([](sb::Config& c) {
    c.poller.pollTimeout = std::chrono::milliseconds(400);
    c.poller.meetingGracePeriod = std::chrono::milliseconds(1000);
  });
  auto ids = router.addServers(sim);
  ASSERT_EQ(xmlField(create(router, "h1", "&moderatorPW=mp").body, "returncode"), "SUCCESS");
  const int first = serverOf(router, "h1") == ids[0] ? 1 : 2;
  sim.fault(first, {{"timeout", true}});
  router.service().poller().pollOnce();
  router.service().poller().pollOnce();  // offline: h1 marked for failover
  ASSERT_EQ(router.call("join", "fullName=A&meetingID=h1&password=mp").status, 302);
  ASSERT_EQ(serverOf(router, "h1"), ids[2 - first]) << "failed over";
  sim.fault(first, {{"timeout", false}});
  // The old copy still runs on the recovered server until the poller ends it (after the grace).
  ASSERT_EQ(runningOn(sim, "h1").size(), 2u);
  router.service().poller().pollOnce();  // back online, inside the grace: listed once
  EXPECT_EQ(timesListed(router.call("getMeetings", "").body, "h1"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  router.service().poller().pollOnce();
  EXPECT_EQ(runningOn(sim, "h1"), std::vector<int>{3 - first});
  EXPECT_EQ(timesListed(router.call("getMeetings", "").body, "h1"), 1);
  EXPECT_EQ(serverOf(router, "h1"), ids[2 - first]);
}

// Item 10: a create answered later than RESPONSE_TIMEOUT was placed again on another server
// while the first still created it. The first copy is ended by the next poll.
TEST(OneMeetingOnePlaceTest, ACreateAnsweredTooLateLeavesNoSecondCopy) {
  Sim sim(2);
  Router router([](sb::Config& c) { c.bbb.responseTimeout = std::chrono::milliseconds(300); });
  auto ids = router.addServers(sim);
  // Both servers are empty; the create goes to the first in id order, which answers late.
  const int slow = ids[0] < ids[1] ? 1 : 2;
  sim.fault(slow, {{"delay_ms", 1000}});
  auto r = create(router, "late", "&moderatorPW=mp");
  ASSERT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  ASSERT_EQ(serverOf(router, "late"), ids[2 - slow]);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the slow one created it too
  sim.fault(slow, {{"delay_ms", 0}});
  ASSERT_EQ(runningOn(sim, "late").size(), 2u);
  router.service().poller().pollOnce();
  EXPECT_EQ(runningOn(sim, "late"), std::vector<int>{3 - slow});
  EXPECT_EQ(serverOf(router, "late"), ids[2 - slow]);
}

// Item 4 (the poller's half): a meeting a server runs that the store lost gets its route back.
TEST(OneMeetingOnePlaceTest, ARouteTheStoreLostComesBackFromThePoll) {
  Sim sim(2);
  Router router;
  auto ids = router.addServers(sim);
  sim.addMeeting(2, "orphan-of-the-store", 3);
  EXPECT_EQ(
      xmlField(router.call("join", "fullName=A&meetingID=orphan-of-the-store&role=VIEWER").body,
               "messageKey"),
      "notFound");
  router.service().poller().pollOnce();
  EXPECT_EQ(serverOf(router, "orphan-of-the-store"), ids[1]);
  auto join = router.call("join", "fullName=A&meetingID=orphan-of-the-store&role=VIEWER");
  ASSERT_EQ(join.status, 302) << join.body;
  EXPECT_EQ(join.location.rfind(sim.servers()[1].url, 0), 0u);
}

// Issue 17 item 6: the time from a server's death to the first join redirected elsewhere, with
// the poller running on its own schedule, against core/health_tracker.h's documented bounds.
// POLL_TIMEOUT > POLL_INTERVAL here: the old README formula (U × I + T) undercounted that case.
class RedirectTimingTest : public ::testing::TestWithParam<bool> {};

TEST_P(RedirectTimingTest, JoinsLeaveADeadServerWithinTheDocumentedBound) {
  const bool hung = GetParam();
  Sim sim(2);
  Router router([](sb::Config& c) {
    c.poller.interval = std::chrono::milliseconds(1000);
    c.poller.pollTimeout = std::chrono::milliseconds(2000);
    c.poller.unhealthyThreshold = 2;
    c.api.joinCacheTtl = std::chrono::milliseconds(500);
  });
  auto ids = router.addServers(sim);
  ASSERT_EQ(xmlField(create(router, "timed", "&moderatorPW=mp").body, "returncode"), "SUCCESS");
  const std::string home = serverOf(router, "timed");
  const int index = home == ids[0] ? 1 : 2;
  const std::string deadUrl = sim.servers()[index - 1].url;
  router.service().poller().start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  const auto bound = hung ? sb::hungServerRedirectBound(router.service().config())
                          : sb::killedServerRedirectBound(router.service().config());
  sim.fault(index, hung ? json{{"timeout", true}} : json{{"down", true}});
  const auto died = std::chrono::steady_clock::now();
  std::string location;
  while (std::chrono::steady_clock::now() - died < bound + std::chrono::seconds(5)) {
    location = router.call("join", "fullName=A&meetingID=timed&password=mp").location;
    if (!location.empty() && location.rfind(deadUrl, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - died);
  router.service().poller().stop();
  ASSERT_FALSE(location.empty());
  EXPECT_NE(location.rfind(deadUrl, 0), 0u) << "still sent to the dead server";
  // 300 ms for the failover's own calls and the test's sampling.
  EXPECT_LE(took.count(), bound.count() + 300)
      << (hung ? "hung" : "killed") << ": took " << took.count() << " ms, bound " << bound.count();
  std::printf("redirect after %s server: %lld ms (bound %lld ms)\n", hung ? "a hung" : "a killed",
              static_cast<long long>(took.count()), static_cast<long long>(bound.count()));
}

INSTANTIATE_TEST_SUITE_P(HungAndKilled, RedirectTimingTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Hung" : "Killed"; });

}  // namespace
}  // namespace sbtest
