// The operations surface over real sockets against bbb-sim servers: /rtcloadbalance (capacity,
// pinning, co-location, clusters, bad input), /stat, /metrics (parsed with the Prometheus
// project's own parser), self-registration and drain, the access log, and HTTPS.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/raw_http.h"

namespace sbtest {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kRegistrationToken = "registration-token";

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Runs a shell command, returns its stdout (the test fails on a non-zero exit).
std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << command << "\n" << out;
  return out;
}

// /metrics text parsed by prometheus_client's parser (Debian's python3-prometheus-client):
// sample name + sorted labels -> value. Any syntax error fails the test.
std::map<std::string, double> parsePrometheus(const std::string& text) {
  fs::path file = fs::temp_directory_path() / ("sb-metrics-" + std::to_string(getpid()) + ".txt");
  std::ofstream(file) << text;
  std::string script =
      "import json, sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "out = {}\n"
      "for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
      "    for s in family.samples:\n"
      "        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n"
      "        out[s.name + '{' + labels + '}'] = s.value\n"
      "print(json.dumps(out))\n";
  fs::path py = fs::temp_directory_path() / ("sb-parse-" + std::to_string(getpid()) + ".py");
  std::ofstream(py) << script;
  std::string out = run("/usr/bin/python3 " + py.string() + " " + file.string());
  fs::remove(file);
  fs::remove(py);
  std::map<std::string, double> samples;
  json parsed = json::parse(out, nullptr, false);
  if (parsed.is_discarded()) {
    ADD_FAILURE() << "parser output is not JSON: " << out;
    return samples;
  }
  for (auto& [k, v] : parsed.items()) samples[k] = v.get<double>();
  return samples;
}

class OpsTest : public ::testing::Test {
 protected:
  OpsTest()
      : sim_(3), router_([](sb::Config& c) {
          c.admin.registrationToken = kRegistrationToken;
          c.rtc.reservationsPerClient = 0;  // these tests ask from one address; see RtcClientLimit
        }) {}

  void SetUp() override { ids_ = router_.addServers(sim_); }

  HttpResult rtc(const std::string& query) {
    return httpGet(router_.base() + "/rtcloadbalance?" + query);
  }
  std::string rtcBody(const std::string& query) {
    HttpResult r = rtc(query);
    EXPECT_EQ(r.status, 200) << query;
    return trimmed(r.body);
  }
  void patch(const std::string& id, const json& body) {
    auto r = router_.admin("PATCH", "/servers/" + id, body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Servers 0 and 1 (sim indexes 1 and 2): cluster "eu", ws/wss on ports 9000+i, `capacity`
  // connections each; server 2: untagged, ws only.
  void signallingPool(int capacity) {
    for (int i = 0; i < 2; ++i) {
      patch(ids_[i], {{"tag", "eu"},
                      {"ws_url", "ws://127.0.0.1:900" + std::to_string(i)},
                      {"wss_url", "wss://127.0.0.1:900" + std::to_string(i)},
                      {"max_connections", capacity}});
    }
    patch(ids_[2], {{"ws_url", "ws://127.0.0.1:9002"}});
  }
  json stat(const std::string& path = "/stat") {
    HttpResult r = httpGet(router_.base() + path);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.contentType.find("application/json"), std::string::npos);
    return json::parse(r.body);
  }
  std::map<std::string, double> metrics() {
    HttpResult r = httpGet(router_.base() + "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.contentType.find("text/plain"), std::string::npos);
    return parsePrometheus(r.body);
  }
  HttpResult registration(const std::string& action, const json& body,
                          const std::string& token = kRegistrationToken) {
    return httpRequest("POST", router_.base() + "/switchboard/api/v1/servers/" + action,
                       body.dump(), "application/json", token.empty() ? "" : "Bearer " + token);
  }

  Sim sim_;
  Router router_;
  std::vector<std::string> ids_;
};

// ---- /rtcloadbalance ---------------------------------------------------------------------

TEST_F(OpsTest, RtcHandsOutTheLeastUsedServerUntilTheClusterIsFull) {
  signallingPool(2);
  std::map<std::string, int> handed;
  for (int i = 0; i < 4; ++i) ++handed[rtcBody("cluster=eu&secure=false")];
  EXPECT_EQ(handed,
            (std::map<std::string, int>{{"ws://127.0.0.1:9000", 2}, {"ws://127.0.0.1:9001", 2}}));
  EXPECT_EQ(rtcBody("cluster=eu"), "ERROR: no capacity in cluster eu");
  // The untagged server is another cluster: it still has room.
  EXPECT_EQ(rtcBody("secure=false"), "ws://127.0.0.1:9002");
}

TEST_F(OpsTest, RtcPolledUsersCountAgainstCapacity) {
  signallingPool(3);
  sim_.addMeeting(1, "busy", 3);  // server 0 full from its own users
  router_.service().poller().pollOnce();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rtcBody("cluster=eu"), "ws://127.0.0.1:9001");
  EXPECT_EQ(rtcBody("cluster=eu"), "ERROR: no capacity in cluster eu");
}

TEST_F(OpsTest, RtcSecureAndItsAlias) {
  signallingPool(10);
  EXPECT_TRUE(rtcBody("cluster=eu&secure=true").starts_with("wss://127.0.0.1:900"));
  EXPECT_TRUE(rtcBody("cluster=eu&IsSecure=true").starts_with("wss://127.0.0.1:900"));
  EXPECT_TRUE(rtcBody("cluster=eu&IsSecure=false").starts_with("ws://127.0.0.1:900"));
  // The untagged server has no wss URL.
  EXPECT_EQ(rtcBody("secure=true"), "ERROR: no server with a wss url available in cluster default");
}

TEST_F(OpsTest, RtcMachinePinsOneServer) {
  signallingPool(2);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(rtcBody("cluster=eu&machine=127.0.0.1:9001"), "ws://127.0.0.1:9001");
  EXPECT_EQ(rtcBody("cluster=eu&machine=127.0.0.1:9001"),
            "ERROR: no capacity on machine 127.0.0.1:9001");
  EXPECT_EQ(rtcBody("cluster=eu&machine=" + ids_[0]), "ws://127.0.0.1:9000") << "by server id";
  EXPECT_EQ(rtcBody("cluster=eu&machine=nowhere.example"),
            "ERROR: unknown machine nowhere.example");
  EXPECT_EQ(rtcBody("cluster=eu&machine=" + ids_[2]),
            "ERROR: machine " + ids_[2] + " is not in cluster eu");
  router_.admin("POST", "/servers/" + ids_[0] + "/disable");
  EXPECT_EQ(rtcBody("cluster=eu&machine=" + ids_[0]),
            "ERROR: machine " + ids_[0] + " is not available");
}

TEST_F(OpsTest, RtcKeepsEveryPartyOfAMeetingOnOneServer) {
  signallingPool(100);
  for (int m = 0; m < 6; ++m) {
    std::string meeting = "conference-" + std::to_string(m);
    std::string first = rtcBody("cluster=eu&meeting=" + meeting);
    ASSERT_TRUE(first.starts_with("ws://")) << first;
    for (int party = 0; party < 5; ++party) {
      EXPECT_EQ(rtcBody("cluster=eu&meeting=" + meeting), first) << meeting;
      EXPECT_EQ(rtcBody("cluster=eu&secure=true&meeting=" + meeting), "wss" + first.substr(2));
    }
  }
  // Parties of a placed meeting keep their server even after others filled it up.
  std::string placed = rtcBody("cluster=eu&meeting=big");
  for (int i = 0; i < 200; ++i) (void)rtc("cluster=eu");
  EXPECT_EQ(rtcBody("cluster=eu&meeting=big"), placed);
}

TEST_F(OpsTest, RtcBadInputIsAnErrorLineWithStatus200) {
  signallingPool(10);
  EXPECT_EQ(rtcBody("cluster=nope"), "ERROR: unknown cluster nope");
  EXPECT_EQ(rtcBody("cluster=eu&secure=maybe"), "ERROR: secure must be true or false");
  EXPECT_EQ(rtcBody("cluster=%zz"), "ERROR: invalid query string");
  EXPECT_EQ(rtcBody("cluster=" + std::string(300, 'a')), "ERROR: parameter too long");
  router_.admin("POST", "/servers/" + ids_[0] + "/disable");
  router_.admin("POST", "/servers/" + ids_[1] + "/disable");
  EXPECT_EQ(rtcBody("cluster=eu"), "ERROR: no server with a ws url available in cluster eu");
  EXPECT_EQ(httpRequest("POST", router_.base() + "/rtcloadbalance", "", "").status, 405);
}

TEST_F(OpsTest, RtcSkipsOfflineServers) {
  signallingPool(10);
  sim_.fault(1, {{"down", true}});
  for (int i = 0; i < 3; ++i) router_.service().poller().pollOnce();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rtcBody("cluster=eu"), "ws://127.0.0.1:9001");
}

// ---- /stat ---------------------------------------------------------------------------------

TEST_F(OpsTest, StatShowsEveryServerWithConnectionsAndTotals) {
  signallingPool(50);
  sim_.addMeeting(2, "room", 4);
  router_.service().poller().pollOnce();
  (void)rtcBody("cluster=eu&machine=" + ids_[0]);
  (void)rtcBody("cluster=eu&machine=" + ids_[0]);
  for (const char* path : {"/stat", "/?action=stat"}) {
    json s = stat(path);
    ASSERT_EQ(s["servers"].size(), 3u) << path;
    std::map<std::string, json> byId;
    for (const auto& server : s["servers"]) byId[server["id"].get<std::string>()] = server;
    for (const char* field : {"id", "host", "state", "online", "load", "meetings", "users", "video",
                              "voice", "connections", "capacity", "poll_latency_ms"}) {
      EXPECT_TRUE(byId[ids_[0]].contains(field)) << field;
    }
    EXPECT_EQ(byId[ids_[0]]["connections"], 2) << "handed out, not yet polled";
    EXPECT_EQ(byId[ids_[1]]["connections"], 4) << "polled users";
    EXPECT_EQ(byId[ids_[1]]["users"], 4);
    EXPECT_EQ(byId[ids_[0]]["capacity"], 50);
    EXPECT_EQ(byId[ids_[2]]["capacity"], 500) << "the default";
    EXPECT_EQ(byId[ids_[0]]["online"], true);
    EXPECT_EQ(byId[ids_[0]]["state"], "enabled");
    EXPECT_EQ(s["totals"]["servers"], 3);
    EXPECT_EQ(s["totals"]["online"], 3);
    EXPECT_EQ(s["totals"]["connections"], 6);
    EXPECT_EQ(s["totals"]["users"], 4);
    EXPECT_EQ(s["totals"]["capacity"], 600);
  }
  EXPECT_EQ(stat().dump().find("secret"), std::string::npos);
}

// ---- /metrics --------------------------------------------------------------------------------

TEST_F(OpsTest, MetricsParseAndTheirCountersMove) {
  auto before = metrics();
  const std::string created = "call=create,result=SUCCESS";
  EXPECT_EQ(before.count("switchboard_requests_total{" + created + "}"), 0u);

  for (int i = 0; i < 3; ++i) {
    auto r = router_.call("create", "meetingID=metrics-" + std::to_string(i) + "&name=M");
    ASSERT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  }
  auto joined = router_.call("join", "meetingID=metrics-0&fullName=A&role=viewer");
  ASSERT_EQ(joined.status, 302);
  (void)router_.call("join", "meetingID=metrics-0&fullName=A&role=viewer",
                     sb::ChecksumAlgorithm::kSha256);
  (void)httpGet(router_.base() + "/bigbluebutton/api/join?meetingID=x&checksum=00");
  signallingPool(10);
  (void)rtcBody("cluster=eu");
  router_.service().poller().pollOnce();

  auto after = metrics();
  EXPECT_EQ(after["switchboard_requests_total{" + created + "}"], 3);
  EXPECT_EQ(after["switchboard_requests_total{call=join,result=302}"], 2);
  EXPECT_EQ(after["switchboard_requests_total{call=join,result=checksumError}"], 1);
  EXPECT_EQ(after["switchboard_requests_total{call=rtcloadbalance,result=OK}"], 1);
  EXPECT_EQ(after["switchboard_request_duration_seconds_count{call=create}"], 3);
  EXPECT_EQ(after["switchboard_request_duration_seconds_bucket{call=create,le=+Inf}"], 3);
  EXPECT_EQ(after["switchboard_placements_total{strategy=least-load}"], 3);
  EXPECT_EQ(after["switchboard_placements_total{strategy=rtc-least-connections}"], 1);
  // Per-server gauges, labelled by server id, host and tag.
  const std::string server0 =
      "host=" + sb::serverHost(sim_.servers()[0].url) + ",server=" + ids_[0] + ",tag=eu";
  EXPECT_EQ(after["switchboard_server_online{" + server0 + "}"], 1);
  EXPECT_EQ(after["switchboard_server_capacity_connections{" + server0 + "}"], 10);
  double meetings = 0;
  for (const auto& id : ids_) {
    for (const auto& [k, v] : after) {
      if (k.starts_with("switchboard_server_meetings{") && k.find(id) != std::string::npos) {
        meetings += v;
      }
    }
  }
  EXPECT_EQ(meetings, 3);
  EXPECT_GE(after["switchboard_poll_round_duration_seconds_count{}"], 1);

  // Failovers and poll errors move too.
  sim_.fault(1, {{"down", true}});
  for (int i = 0; i < 3; ++i) router_.service().poller().pollOnce();
  for (int i = 0; i < 3; ++i) {
    (void)router_.call("join", "meetingID=metrics-" + std::to_string(i) + "&fullName=B");
  }
  auto later = metrics();
  EXPECT_GE(later["switchboard_poll_errors_total{server=" + ids_[0] + "}"], 3);
  EXPECT_EQ(later["switchboard_server_online{" + server0 + "}"], 0);
  EXPECT_GE(later["switchboard_failovers_total{}"], 1);
}

TEST_F(OpsTest, MetricsDeclareEachFamilyOnce) {
  std::string text = httpGet(router_.base() + "/metrics").body;
  std::set<std::string> seen;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("# TYPE ")) continue;
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_TRUE(seen.insert(name).second) << name << " declared twice";
  }
  EXPECT_TRUE(seen.contains("switchboard_requests_total"));
  EXPECT_TRUE(seen.contains("switchboard_server_load"));
}

// ---- registration ------------------------------------------------------------------------------

TEST_F(OpsTest, RegistrationRefusesWrongTokensAndOpensNothingElse) {
  json body = {{"url", "http://127.0.0.1:1/"}, {"secret", "s"}};
  EXPECT_EQ(registration("register", body, "wrong").status, 401);
  EXPECT_EQ(registration("register", body, "").status, 401);
  EXPECT_EQ(registration("deregister", body, "wrong").status, 401);
  // The registration token is not an admin token.
  auto list = httpRequest("GET", router_.base() + "/switchboard/api/v1/servers", "", "",
                          std::string("Bearer ") + kRegistrationToken);
  EXPECT_EQ(list.status, 401);
  EXPECT_EQ(registration("register", {{"secret", "s"}}).status, 400);
  EXPECT_EQ(registration("register", {{"url", "ftp://x"}, {"secret", "s"}}).status, 400);
  EXPECT_EQ(registration("deregister", {{"url", "http://127.0.0.1:1/"}}).status, 404);
  auto servers = json::parse(router_.admin("GET", "/servers").body)["servers"];
  EXPECT_EQ(servers.size(), 3u) << "nothing was added";
}

// Every autoscaled BBB server holds the registration token: it must not take over (new secret,
// re-enabled), drain or remove a server an operator added. The admin token still may.
TEST_F(OpsTest, TheRegistrationTokenCannotChangeAServerAnOperatorAdded) {
  json before = json::parse(router_.admin("GET", "/servers/" + ids_[0]).body);
  ASSERT_EQ(before["added_by_operator"], true);
  patch(ids_[0], {{"tag", "by-hand"}});
  json takeover = {{"url", before["url"]}, {"secret", "not-its-secret"}, {"tag", "stolen"}};
  auto r = registration("register", takeover);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("added by an operator"), std::string::npos) << r.body;
  auto drain = registration("deregister", {{"url", before["url"]}});
  EXPECT_EQ(drain.status, 409) << drain.body;
  router_.service().poller().pollOnce();
  json after = json::parse(router_.admin("GET", "/servers/" + ids_[0]).body);
  EXPECT_EQ(after["tag"], "by-hand");
  EXPECT_EQ(after["state"], "enabled");
  EXPECT_EQ(after["remove_when_drained"], false);
  EXPECT_EQ(after["online"], true) << "its secret is unchanged: polls still succeed";
  // The admin token on the same endpoints acts for an operator.
  json update = {{"url", before["url"]}, {"secret", sim_.servers()[0].secret}, {"tag", "eu"}};
  auto byOperator = registration("register", update, Router::kToken);
  ASSERT_EQ(byOperator.status, 200) << byOperator.body;
  EXPECT_EQ(json::parse(byOperator.body)["tag"], "eu");
  EXPECT_EQ(json::parse(byOperator.body)["added_by_operator"], true);
  EXPECT_EQ(registration("deregister", {{"url", before["url"]}}, Router::kToken).status, 200);
}

// A server registered before migration 0003 (or by a node) is protected by an operator's PATCH.
TEST_F(OpsTest, AnOperatorCanKeepTheRegistrationTokenAwayFromARegisteredServer) {
  Sim extra(1);
  json body = {{"url", extra.servers()[0].url}, {"secret", extra.servers()[0].secret}};
  auto r = registration("register", body);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  auto wrongType = router_.admin("PATCH", "/servers/" + id, R"({"added_by_operator":"yes"})");
  EXPECT_EQ(wrongType.status, 400) << wrongType.body;
  auto marked = router_.admin("PATCH", "/servers/" + id, R"({"added_by_operator":true})");
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(json::parse(marked.body)["added_by_operator"], true);
  EXPECT_EQ(registration("register", body).status, 409);
  EXPECT_EQ(registration("deregister", {{"url", body["url"]}}).status, 409);
  ASSERT_EQ(router_.admin("PATCH", "/servers/" + id, R"({"added_by_operator":false})").status, 200);
  EXPECT_EQ(registration("register", body).status, 200);
}

TEST_F(OpsTest, SelfRegisteredServersAreNotMarkedAsAddedByAnOperator) {
  Sim extra(1);
  json body = {{"url", extra.servers()[0].url}, {"secret", extra.servers()[0].secret}};
  auto r = registration("register", body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["added_by_operator"], false);
  // Registered with the admin token, it is still a registered server: the registration token
  // may update it afterwards.
  Sim other(1);
  json second = {{"url", other.servers()[0].url}, {"secret", other.servers()[0].secret}};
  ASSERT_EQ(registration("register", second, Router::kToken).status, 201);
  second["tag"] = "later";
  auto again = registration("register", second);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["tag"], "later");
}

// Issue 18 item 12: with the registration token (every autoscaled node holds it) a node could
// change another node's secret, drain it, or set a load multiplier of 0.001 and attract nearly
// every new meeting. It only registers and deregisters its own server (its BBB secret proves
// which), within the operator's limits.
TEST_F(OpsTest, TheRegistrationTokenOnlyTouchesItsOwnServerWithinLimits) {
  Sim extra(1);
  const auto& node = extra.servers()[0];
  json mine = {{"url", node.url}, {"secret", node.secret}};
  auto r = registration("register", mine);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];

  json otherNode = {{"url", node.url}, {"secret", "another-node's-secret"}, {"tag", "stolen"}};
  auto takeover = registration("register", otherNode);
  EXPECT_EQ(takeover.status, 403) << takeover.body;
  EXPECT_NE(takeover.body.find("secret"), std::string::npos) << takeover.body;
  for (const json& drain :
       {json{{"url", node.url}}, json{{"url", node.url}, {"secret", "another-node's-secret"}}}) {
    auto d = registration("deregister", drain);
    EXPECT_EQ(d.status, 403) << drain.dump() << ": " << d.body;
  }
  router_.service().poller().pollOnce();
  json after = json::parse(router_.admin("GET", "/servers/" + id).body);
  EXPECT_EQ(after["online"], true) << "its secret is unchanged: polls still succeed";
  EXPECT_EQ(after["tag"], "");
  EXPECT_EQ(after["state"], "enabled");
  EXPECT_EQ(after["remove_when_drained"], false);

  for (double multiplier : {0.001, 0.5, 10.5}) {
    json greedy = mine;
    greedy["load_multiplier"] = multiplier;
    auto g = registration("register", greedy);
    EXPECT_EQ(g.status, 403) << multiplier << ": " << g.body;
    EXPECT_NE(g.body.find("load_multiplier"), std::string::npos) << g.body;
    Sim fresh(1);
    json fresh_node = {{"url", fresh.servers()[0].url},
                       {"secret", fresh.servers()[0].secret},
                       {"load_multiplier", multiplier}};
    EXPECT_EQ(registration("register", fresh_node).status, 403) << multiplier;
  }
  EXPECT_EQ(json::parse(router_.admin("GET", "/servers/" + id).body)["load_multiplier"], 1.0);
  EXPECT_EQ(json::parse(router_.admin("GET", "/servers").body)["servers"].size(), 4u);

  // Its own server, with its own secret: updated and drained.
  json update = mine;
  update["load_multiplier"] = 2;
  update["max_connections"] = 250;
  auto own = registration("register", update);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(json::parse(own.body)["load_multiplier"], 2.0);
  EXPECT_EQ(registration("deregister", mine).status, 200);
}

TEST(RegistrationLimitsTest, TagsOnlyFromTheOperatorsList) {
  Sim sim(2);
  Router router([](sb::Config& c) {
    c.admin.registrationToken = kRegistrationToken;
    c.admin.registrationTags = {"autoscaled"};
    c.admin.registrationLoadMultiplierMin = 0.5;
  });
  auto reg = [&router](const json& body) {
    return httpRequest("POST", router.base() + "/switchboard/api/v1/servers/register", body.dump(),
                       "application/json", std::string("Bearer ") + kRegistrationToken);
  };
  json a = {{"url", sim.servers()[0].url}, {"secret", sim.servers()[0].secret}, {"tag", "vip"}};
  auto refused = reg(a);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("REGISTRATION_TAGS"), std::string::npos) << refused.body;
  a["tag"] = "autoscaled";
  a["load_multiplier"] = 0.5;
  EXPECT_EQ(reg(a).status, 201);
  json b = {{"url", sim.servers()[1].url}, {"secret", sim.servers()[1].secret}};
  EXPECT_EQ(reg(b).status, 201) << "untagged is always allowed";
  // The admin token on the same endpoint is an operator's: no limits.
  json vip = {{"url", sim.servers()[1].url}, {"secret", "new"}, {"tag", "vip"}};
  auto byOperator =
      httpRequest("POST", router.base() + "/switchboard/api/v1/servers/register", vip.dump(),
                  "application/json", std::string("Bearer ") + Router::kToken);
  EXPECT_EQ(byOperator.status, 200) << byOperator.body;
}

TEST(RegistrationDisabledTest, RefusedWithoutAToken) {
  Router router([](sb::Config& c) { c.admin.token.clear(); });
  auto r = httpRequest("POST", router.base() + "/switchboard/api/v1/servers/register",
                       R"({"url":"http://127.0.0.1:1","secret":"s"})", "application/json",
                       "Bearer anything");
  EXPECT_EQ(r.status, 403);
}

TEST_F(OpsTest, RegisteredServerIsUsedOnceHealthyThenDrainsAndGoes) {
  Sim extra(1);
  const auto& node = extra.servers()[0];
  // bbb-conf prints the URL with /bigbluebutton/ only.
  std::string url = node.url.substr(0, node.url.find("/api/") + 1);
  json body = {{"url", url},
               {"secret", node.secret},
               {"tag", "autoscaled"},
               {"ws_url", "ws://127.0.0.1:9100"},
               {"max_connections", 300}};
  auto first = registration("register", body);
  ASSERT_EQ(first.status, 201) << first.body;
  json server = json::parse(first.body);
  std::string id = server["id"];
  EXPECT_EQ(server["url"], node.url);
  EXPECT_EQ(server["state"], "enabled");
  EXPECT_EQ(server["online"], false) << "in use only after its first healthy poll";
  EXPECT_FALSE(server.contains("secret"));

  // Not used before it is polled healthy.
  auto early = router_.call("create", "meetingID=auto-early&name=E&meta_server-tag=autoscaled!");
  EXPECT_EQ(xmlField(early.body, "messageKey"), "serverTagUnavailable") << early.body;
  router_.service().poller().pollOnce();
  auto created = router_.call("create", "meetingID=auto-1&name=A&meta_server-tag=autoscaled!");
  ASSERT_EQ(xmlField(created.body, "returncode"), "SUCCESS") << created.body;
  EXPECT_EQ(extra.meetingCount(1), 1);

  // A repeat registration (a reboot) updates the same server.
  body["max_connections"] = 400;
  auto again = registration("register", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["id"], id);
  EXPECT_EQ(json::parse(again.body)["max_connections"], 400);
  EXPECT_EQ(json::parse(router_.admin("GET", "/servers").body)["servers"].size(), 4u);

  // Deregistration cordons: the running meeting goes on, nothing new comes.
  auto gone = registration("deregister", {{"url", url}, {"secret", node.secret}});
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_EQ(json::parse(gone.body)["state"], "cordoned");
  EXPECT_EQ(json::parse(gone.body)["remove_when_drained"], true);
  router_.service().poller().pollOnce();
  EXPECT_EQ(router_.admin("GET", "/servers/" + id).status, 200) << "still has a meeting";
  EXPECT_EQ(router_.call("join", "meetingID=auto-1&fullName=Late&role=viewer").status, 302);
  auto refused = router_.call("create", "meetingID=auto-2&name=B&meta_server-tag=autoscaled!");
  EXPECT_EQ(xmlField(refused.body, "messageKey"), "serverTagUnavailable");

  // Once its meetings have ended it is removed.
  auto ended = router_.call("end", "meetingID=auto-1");
  ASSERT_EQ(xmlField(ended.body, "returncode"), "SUCCESS") << ended.body;
  router_.service().poller().pollOnce();
  EXPECT_EQ(router_.admin("GET", "/servers/" + id).status, 404);
  EXPECT_EQ(json::parse(router_.admin("GET", "/servers").body)["servers"].size(), 3u);

  // Registering again brings it back as a new server.
  EXPECT_EQ(registration("register", body).status, 201);
}

TEST_F(OpsTest, ReRegistrationCancelsADrain) {
  Sim extra(1);
  json body = {{"url", extra.servers()[0].url}, {"secret", extra.servers()[0].secret}};
  ASSERT_EQ(registration("register", body).status, 201);
  ASSERT_EQ(registration("deregister", body).status, 200);
  auto back = registration("register", body);
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(json::parse(back.body)["state"], "enabled");
  EXPECT_EQ(json::parse(back.body)["remove_when_drained"], false);
  router_.service().poller().pollOnce();
  EXPECT_EQ(
      router_.admin("GET", "/servers/" + json::parse(back.body)["id"].get<std::string>()).status,
      200);
}

TEST_F(OpsTest, ADeregisteredServerThatIsAlreadyGoneIsRemoved) {
  Sim extra(1);
  json body = {{"url", extra.servers()[0].url}, {"secret", extra.servers()[0].secret}};
  auto r = registration("register", body);
  ASSERT_EQ(r.status, 201);
  router_.service().poller().pollOnce();
  ASSERT_EQ(registration("deregister", body).status, 200);
  extra.fault(1, {{"down", true}});
  for (int i = 0; i < 3; ++i) router_.service().poller().pollOnce();
  EXPECT_EQ(router_.admin("GET", "/servers/" + json::parse(r.body)["id"].get<std::string>()).status,
            404);
}

// ---- /rtcloadbalance per client ---------------------------------------------------------------

// A GET with extra header lines, sent as is on a fresh connection; the answer's body.
std::string rawGet(uint16_t port, const std::string& target, const std::string& headers) {
  return trimmed(bodyOf(roundTrip(
      port, "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "Connection: close\r\n\r\n")));
}

// Issue 18 item 6: 60 unauthenticated GETs reserved every connection of a cluster for
// RTC_RESERVATION_TTL, and real clients got "ERROR: no capacity in cluster".
TEST(RtcClientLimitTest, OneClientCannotTakeTheClusterCapacity) {
  Sim sim(2);
  Router router([](sb::Config& c) {
    c.rtc.trustedProxies = {*sb::parseIpNet("127.0.0.0/8")};  // as nginx on the same host
  });
  auto ids = router.addServers(sim);
  for (int i = 0; i < 2; ++i) {
    auto r = router.admin(
        "PATCH", "/servers/" + ids[i],
        json{{"ws_url", "ws://127.0.0.1:900" + std::to_string(i)}, {"max_connections", 30}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  int served = 0;
  std::string refusal;
  for (int i = 0; i < 60; ++i) {
    HttpResult r = httpGet(router.base() + "/rtcloadbalance?meeting=m" + std::to_string(i % 7));
    ASSERT_EQ(r.status, 200);
    std::string body = trimmed(r.body);
    if (body.starts_with("ws://")) {
      ++served;
    } else {
      refusal = body;
    }
  }
  EXPECT_EQ(served, 10);
  EXPECT_EQ(refusal, "ERROR: too many connections for this client (10 per 60 s)");
  // Clients behind the trusted proxy count one by one (X-Forwarded-For); capacity is left.
  uint16_t port = router.service().port();
  for (int client = 1; client <= 3; ++client) {
    std::string xff = "X-Forwarded-For: 198.51.100." + std::to_string(client) + "\r\n";
    EXPECT_TRUE(rawGet(port, "/rtcloadbalance", xff).starts_with("ws://127.0.0.1:900")) << client;
  }
}

// ---- status headroom ---------------------------------------------------------------------------

TEST_F(OpsTest, StatusHeadroomForLosingTheLargestServers) {
  patch(ids_[0], {{"max_users", 100}});
  patch(ids_[1], {{"max_users", 50}});
  patch(ids_[2], {{"max_users", 30}});
  sim_.addMeeting(1, "a", 40);
  router_.service().poller().pollOnce();
  auto h = json::parse(router_.admin("GET", "/status").body)["headroom"];
  EXPECT_EQ(h["survive"], 1);
  EXPECT_EQ(h["capacity_left"], 80);
  EXPECT_EQ(h["load"], 40);
  EXPECT_EQ(h["holds"], true);
  h = json::parse(router_.admin("GET", "/status?survive=2").body)["headroom"];
  EXPECT_EQ(h["capacity_left"], 30);
  EXPECT_EQ(h["holds"], false);
  EXPECT_EQ(router_.admin("GET", "/status?survive=-1").status, 400);
}

// ---- access log --------------------------------------------------------------------------------

TEST(AccessLogTest, JsonLinesWithCallMeetingServerAndNoSecrets) {
  Sim sim(1);
  Router router([](sb::Config& c) { c.logJson = true; });
  router.addServers(sim);
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  sink->set_pattern("%v");
  router.service().accessLogger().sinks().push_back(sink);

  ASSERT_EQ(xmlField(router.call("create", "meetingID=logged&name=L&moderatorPW=mpw-secret").body,
                     "returncode"),
            "SUCCESS");
  ASSERT_EQ(router.call("join", "meetingID=logged&fullName=A&password=mpw-secret").status, 302);
  (void)httpGet(router.base() + "/stat");
  router.service().accessLogger().flush();

  std::vector<json> lines;
  std::istringstream in(captured.str());
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    lines.push_back(j);
  }
  ASSERT_EQ(lines.size(), 3u) << captured.str();
  EXPECT_EQ(lines[0]["call"], "create");
  EXPECT_EQ(lines[0]["meeting_id"], "logged");
  EXPECT_EQ(lines[0]["result"], "SUCCESS");
  EXPECT_FALSE(lines[0]["server_id"].get<std::string>().empty());
  EXPECT_EQ(lines[1]["call"], "join");
  EXPECT_EQ(lines[1]["result"], "302");
  EXPECT_EQ(lines[1]["status"], 302);
  EXPECT_EQ(lines[1]["server_id"], lines[0]["server_id"]);
  EXPECT_TRUE(lines[1]["latency_ms"].is_number());
  EXPECT_EQ(lines[2]["call"], "stat");
  std::string all = captured.str();
  EXPECT_EQ(all.find("mpw-secret"), std::string::npos);
  EXPECT_EQ(all.find("checksum"), std::string::npos);
  EXPECT_EQ(all.find(Router::kSecret), std::string::npos);
  EXPECT_EQ(all.find(sim.servers()[0].secret), std::string::npos);
}

// ---- HTTPS -------------------------------------------------------------------------------------

TEST(TlsTest, TheRouterServesHttpsItself) {
  fs::path dir = fs::temp_directory_path() / ("sb-tls-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>&1");
  Sim sim(1);
  Router router([&](sb::Config& c) {
    c.http.tlsCertFile = cert;
    c.http.tlsKeyFile = key;
  });
  ASSERT_TRUE(router.base().starts_with("https://"));
  auto health = httpRequest("GET", router.base() + "/healthz", "", "", "", cert);
  EXPECT_EQ(health.status, 200) << health.error;
  auto add = httpRequest(
      "POST", router.base() + "/switchboard/api/v1/servers",
      json{{"url", sim.servers()[0].url}, {"secret", sim.servers()[0].secret}, {"state", "enabled"}}
          .dump(),
      "application/json", std::string("Bearer ") + Router::kToken, cert);
  ASSERT_EQ(add.status, 201) << add.body << add.error;
  router.service().poller().pollOnce();
  auto created =
      httpRequest("GET", router.apiUrl("create", "meetingID=tls&name=T"), "", "", "", cert);
  EXPECT_EQ(xmlField(created.body, "returncode"), "SUCCESS") << created.body << created.error;
  auto joined = httpRequest("GET", router.apiUrl("join", "meetingID=tls&fullName=A&role=viewer"),
                            "", "", "", cert);
  EXPECT_EQ(joined.status, 302);
  // Plain HTTP on the TLS port gets no answer; an untrusted client refuses the certificate.
  std::string plain = "http://" + router.base().substr(8) + "/healthz";
  EXPECT_NE(httpGet(plain).status, 200);
  EXPECT_EQ(httpGet(router.base() + "/healthz").status, 0) << "self-signed, not trusted";
  fs::remove_all(dir);
}

TEST(TlsTest, AMissingCertificateFailsTheStartClearly) {
  EXPECT_THROW(Router([](sb::Config& c) {
                 c.http.tlsCertFile = "/nonexistent/cert.pem";
                 c.http.tlsKeyFile = "/nonexistent/key.pem";
               }),
               std::runtime_error);
}

}  // namespace
}  // namespace sbtest
