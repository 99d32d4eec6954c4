// The poller against bbb-sim over real sockets: health hysteresis, load, failover marking,
// drain, and the meeting sweep.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "bbb/curl_bbb_client.h"
#include "core/bbb_url.h"
#include "harness.h"

namespace sbtest {
namespace {

using nlohmann::json;

json serverJson(Router& router, const std::string& id) {
  return json::parse(router.admin("GET", "/servers/" + id).body);
}

// The poller writes each server's snapshot and frees its XML as soon as its answer is in, so a
// round must hand over the answers one by one, not all at the end.
TEST(PollerTest, EachAnswerOfARoundIsHandedOverAsSoonAsItIsIn) {
  Sim sim(3);
  sim.addMeeting(2, "fast-meeting", 3);
  sim.fault(1, {{"delay_ms", 1500}});
  std::vector<std::string> urls;
  for (const auto& s : sim.servers()) {
    sb::Server server;
    server.url = s.url;
    server.secret = s.secret;
    urls.push_back(sb::signedApiUrl(server, "getMeetings", {}, sb::ChecksumAlgorithm::kSha256));
  }
  sb::CurlBbbClient bbb;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::vector<int> answeredAtMs(urls.size(), -1);
  std::vector<int> times(urls.size(), 0);
  std::vector<size_t> meetings(urls.size(), 0);
  bbb.pollMeetingsEach(
      urls, sb::CallTimeouts{std::chrono::seconds(2), std::chrono::seconds(5)},
      [&](size_t index, sb::Result<sb::ServerPoll> poll) {
        ASSERT_LT(index, urls.size());
        ++times[index];
        answeredAtMs[index] = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
        ASSERT_TRUE(poll.ok()) << poll.error().message;
        meetings[index] = poll->meetings.size();
      });
  sim.fault(1, {{"delay_ms", 0}});
  EXPECT_EQ(times, (std::vector<int>{1, 1, 1}));
  EXPECT_GE(answeredAtMs[0], 1400) << "the delayed server";
  EXPECT_LT(answeredAtMs[1], 1000) << "handed over before the delayed server answered";
  EXPECT_LT(answeredAtMs[2], 1000);
  EXPECT_EQ(meetings[1], 1u);
  // The collected form still answers every URL, in order.
  auto all = bbb.pollMeetings(urls, sb::CallTimeouts{});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all[1].ok() && all[1]->meetings.size() == 1 &&
              all[1]->meetings[0].meetingId == "fast-meeting");
}

TEST(PollerTest, HealthHysteresisLoadAndFailoverMarking) {
  Sim sim(2);
  Router router([](sb::Config& c) {
    c.poller.healthyThreshold = 2;
    c.poller.unhealthyThreshold = 2;
  });
  std::vector<std::string> ids;
  for (const auto& s : sim.servers()) {
    auto r = router.admin("POST", "/servers",
                          json{{"url", s.url}, {"secret", s.secret}, {"state", "enabled"}}.dump());
    ids.push_back(json::parse(r.body)["id"]);
  }
  EXPECT_EQ(serverJson(router, ids[0])["online"], false);  // offline until polled
  router.service().poller().pollOnce();
  EXPECT_EQ(serverJson(router, ids[0])["online"], false);  // rise = 2
  router.service().poller().pollOnce();
  EXPECT_EQ(serverJson(router, ids[0])["online"], true);
  EXPECT_EQ(serverJson(router, ids[0])["bbb_version"], "2.7.12-sim");

  router.call("create", "name=R&meetingID=load-1");
  router.call("create", "name=R&meetingID=load-2");
  auto meetings = json::parse(router.admin("GET", "/meetings").body)["meetings"];
  ASSERT_EQ(meetings.size(), 2u);
  std::string onFirst = meetings[0]["server_id"] == ids[0] ? meetings[0]["id"] : meetings[1]["id"];
  sim.addParticipants(1, onFirst, 20);
  router.service().poller().pollOnce();
  json first = serverJson(router, ids[0]);
  EXPECT_EQ(first["users"], 20);
  EXPECT_EQ(first["meetings"], 1);
  EXPECT_DOUBLE_EQ(first["load"].get<double>(), 20.0);  // 20 users > LOAD_MIN_USER_COUNT
  EXPECT_GE(first["poll_latency_ms"].get<int>(), 0);

  sim.fault(1, {{"down", true}});
  router.service().poller().pollOnce();
  EXPECT_EQ(serverJson(router, ids[0])["online"], true);  // fall = 2
  router.service().poller().pollOnce();
  first = serverJson(router, ids[0]);
  EXPECT_EQ(first["online"], false);
  EXPECT_NE(first["last_error"].get<std::string>(), "");
  for (const auto& m : router.meetings(ids[0])) {
    EXPECT_EQ(m["orphaned"], true);
  }
  // A create of the orphaned meeting places it on the healthy server.
  auto again = router.call("create", "name=R&meetingID=" + onFirst);
  EXPECT_EQ(xmlField(again.body, "returncode"), "SUCCESS") << again.body;
  auto moved = json::parse(router.admin("GET", "/meetings?server=" + ids[1]).body)["meetings"];
  EXPECT_EQ(moved.size(), 2u);
  sim.fault(1, {{"down", false}});
}

TEST(PollerTest, SlowServerDoesNotDelayTheRound) {
  Sim sim(3);
  Router router([](sb::Config& c) { c.poller.pollTimeout = std::chrono::milliseconds(1000); });
  router.addServers(sim);
  sim.fault(2, {{"delay_ms", 5000}});
  auto stats = router.service().poller().pollOnce();
  EXPECT_LT(stats.wallMs, 2500);
  EXPECT_EQ(stats.failed, 1);
  EXPECT_EQ(stats.online, 3);  // one failure is below the unhealthy threshold
}

TEST(PollerTest, CordonedServerDrainsToDisabledAndEndedMeetingsAreSwept) {
  Sim sim(1);
  Router router;
  auto ids = router.addServers(sim);
  router.call("create", "name=R&meetingID=sweep-1");
  router.admin("POST", "/servers/" + ids[0] + "/cordon");
  router.service().poller().pollOnce();
  EXPECT_EQ(serverJson(router, ids[0])["state"], "cordoned");  // still has a meeting
  // End it on the BBB server directly (as a moderator would): the poller notices.
  sb::Server s;
  s.url = sim.servers()[0].url;
  s.secret = sim.servers()[0].secret;
  sb::QueryString q;
  q.append("meetingID", "sweep-1");
  httpGet(sb::signedApiUrl(s, "end", q, sb::ChecksumAlgorithm::kSha256));
  router.service().poller().pollOnce();
  EXPECT_EQ(json::parse(router.admin("GET", "/meetings").body)["meetings"].size(), 0u);
  EXPECT_EQ(serverJson(router, ids[0])["state"], "disabled");
}

}  // namespace
}  // namespace sbtest
