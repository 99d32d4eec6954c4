// The admin API and the admin CLI against a running router and bbb-sim.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "harness.h"
#include "raw_http.h"

namespace sbtest {
namespace {

using nlohmann::json;

// Runs the switchboard CLI with the router's URL and token (unless overridden in `args`).
CommandResult cli(const std::string& env, const std::string& args) {
  return runCommand(env + " " + std::string(SB_BIN_DIR) + "/switchboard " + args);
}

// The status of the answer to `request`, sent as is on a fresh connection (0: none).
int rawStatus(uint16_t port, const std::string& request) {
  return statusOf(roundTrip(port, request));
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { router_ = std::make_unique<Router>(); }
  std::string env() const {
    return "SWITCHBOARD_URL=" + router_->base() + " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken;
  }
  std::unique_ptr<Router> router_;
};

TEST_F(AdminTest, TokenIsRequired) {
  auto none = httpRequest("GET", router_->base() + "/switchboard/api/v1/servers", "", "");
  EXPECT_EQ(none.status, 401);
  auto wrong =
      httpRequest("GET", router_->base() + "/switchboard/api/v1/servers", "", "", "Bearer nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(router_->admin("GET", "/servers").status, 200);

  Router disabled([](sb::Config& c) { c.admin.token.clear(); });
  auto off = httpRequest("GET", disabled.base() + "/switchboard/api/v1/servers", "", "", "Bearer ");
  EXPECT_EQ(off.status, 403);
  EXPECT_NE(off.body.find("SWITCHBOARD_ADMIN_TOKEN"), std::string::npos);
}

TEST_F(AdminTest, ServerLifecycle) {
  auto add = router_->admin("POST", "/servers",
                            json{{"url", "https://bbb1.example.com"},
                                 {"secret", "s1"},
                                 {"tag", "eu"},
                                 {"load_multiplier", 2.5}}
                                .dump());
  ASSERT_EQ(add.status, 201) << add.body;
  json server = json::parse(add.body);
  std::string id = server["id"];
  EXPECT_EQ(server["url"], "https://bbb1.example.com/bigbluebutton/api/");
  EXPECT_EQ(server["state"], "disabled");  // new servers start disabled
  EXPECT_EQ(server["online"], false);
  EXPECT_FALSE(server.contains("secret"));

  EXPECT_EQ(router_
                ->admin("POST", "/servers",
                        json{{"url", "https://bbb1.example.com/"}, {"secret", "x"}}.dump())
                .status,
            409);
  EXPECT_EQ(
      router_->admin("POST", "/servers", json{{"url", "ftp://x"}, {"secret", "x"}}.dump()).status,
      400);
  EXPECT_EQ(router_->admin("POST", "/servers", json{{"url", "https://x"}}.dump()).status, 400);
  EXPECT_EQ(router_->admin("POST", "/servers", "{not json").status, 400);
  EXPECT_EQ(router_->admin("PATCH", "/servers/" + id, json{{"load_multiplier", 0}}.dump()).status,
            400);
  EXPECT_EQ(router_->admin("PATCH", "/servers/" + id, json{{"state", "bogus"}}.dump()).status, 400);

  auto upd =
      router_->admin("PATCH", "/servers/" + id, json{{"tag", ""}, {"load_multiplier", 3}}.dump());
  ASSERT_EQ(upd.status, 200);
  EXPECT_EQ(json::parse(upd.body)["tag"], "");
  EXPECT_EQ(json::parse(upd.body)["load_multiplier"], 3.0);
  for (auto [action, state] : {std::pair{"enable", "enabled"}, std::pair{"cordon", "cordoned"},
                               std::pair{"disable", "disabled"}}) {
    auto r = router_->admin("POST", "/servers/" + id + "/" + action);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["state"], state);
  }
  EXPECT_EQ(router_->admin("GET", "/servers/nope").status, 404);
  EXPECT_EQ(router_->admin("DELETE", "/servers/" + id).status, 200);
  EXPECT_EQ(router_->admin("GET", "/servers/" + id).status, 404);
  EXPECT_EQ(router_->admin("GET", "/nothing-here").status, 404);
}

TEST_F(AdminTest, PanicEndsMeetingsAndDisables) {
  Sim sim(2);
  auto ids = router_->addServers(sim);
  for (int i = 0; i < 4; ++i) {
    router_->call("create", "name=R&meetingID=panic-" + std::to_string(i));
  }
  auto r = router_->admin("POST", "/servers/" + ids[0] + "/panic");
  ASSERT_EQ(r.status, 200) << r.body;
  json outcome = json::parse(r.body);
  EXPECT_EQ(outcome["meetings_ended"], 2);
  EXPECT_EQ(outcome["server"]["state"], "disabled");
  EXPECT_EQ(sim.meetingCount(1), 0);
  auto meetings = json::parse(router_->admin("GET", "/meetings").body)["meetings"];
  EXPECT_EQ(meetings.size(), 2u);
  for (const auto& m : meetings) EXPECT_EQ(m["server_id"], ids[1]);

  // --failover ends the meetings where they run (issue 17 item 1: they kept running there while
  // their next join re-created them elsewhere) and marks them for re-placement.
  auto f = router_->admin("POST", "/servers/" + ids[1] + "/panic",
                          json{{"failover", true}, {"keep_state", true}}.dump());
  ASSERT_EQ(f.status, 200);
  EXPECT_EQ(json::parse(f.body)["meetings_failed_over"], 2);
  EXPECT_EQ(json::parse(f.body)["server"]["state"], "enabled");
  EXPECT_EQ(sim.meetingCount(2), 0);
  for (const auto& m : router_->meetings()) {
    EXPECT_EQ(m["orphaned"], true);
  }
}

TEST_F(AdminTest, MeetingsListAndEnd) {
  Sim sim(1);
  auto ids = router_->addServers(sim);
  router_->call("create", "name=R&meetingID=with%20space%2Fslash");
  auto list = json::parse(router_->admin("GET", "/meetings?server=" + ids[0]).body)["meetings"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], "with space/slash");
  auto end = router_->admin("POST", "/meetings/with%20space%2Fslash/end");
  EXPECT_EQ(end.status, 200) << end.body;
  EXPECT_EQ(sim.meetingCount(1), 0);
  EXPECT_EQ(router_->admin("POST", "/meetings/unknown/end").status, 404);
}

TEST_F(AdminTest, CliManagesServersAndShowsStatus) {
  Sim sim(2);
  auto add = cli(env(), "servers add " + sim.servers()[0].url + " " + sim.servers()[0].secret +
                            " --enable --tag t1");
  ASSERT_EQ(add.exitCode, 0) << add.out;
  std::string id = add.out.substr(0, add.out.find('\n'));
  EXPECT_EQ(id.size(), 32u) << add.out;  // only the id is printed
  auto add2 = cli(env(), "servers add " + sim.servers()[1].url + " " + sim.servers()[1].secret);
  ASSERT_EQ(add2.exitCode, 0) << add2.out;
  router_->service().poller().pollOnce();

  auto status = cli(env(), "status");
  ASSERT_EQ(status.exitCode, 0) << status.out;
  EXPECT_NE(status.out.find("HOSTNAME"), std::string::npos);
  EXPECT_NE(status.out.find("LARGEST MEETING"), std::string::npos);
  EXPECT_NE(status.out.find("online"), std::string::npos);
  EXPECT_NE(status.out.find("2.7.12-sim"), std::string::npos);
  EXPECT_NE(status.out.find("t1"), std::string::npos);
  // One serving server (the other is disabled) of 500 connections and no users: it cannot be
  // lost; with no loss it holds the load.
  EXPECT_NE(status.out.find("Headroom: can lose 1 server (the largest): NO, no server would be "
                            "left (1 server serving)"),
            std::string::npos)
      << status.out;
  auto survive0 = cli(env(), "status --survive 0");
  EXPECT_NE(survive0.out.find("Headroom: can lose 0 servers (the largest): yes, 1 server left "
                              "hold 500 users; current load 0 users (0% of it)"),
            std::string::npos)
      << survive0.out;
  EXPECT_NE(cli(env(), "status --survive -3").exitCode, 0);

  // Signalling endpoints and connection capacity.
  auto ws = cli(env(), "servers update " + id +
                           " --ws-url ws://127.0.0.1:8188 --wss-url wss://127.0.0.1:8989 "
                           "--max-connections 250");
  ASSERT_EQ(ws.exitCode, 0) << ws.out;
  auto shown = cli(env(), "servers list --json");
  auto shownJson = nlohmann::json::parse(shown.out);
  nlohmann::json updated;
  for (const auto& s : shownJson["servers"]) {
    if (s["id"] == id) updated = s;
  }
  EXPECT_EQ(updated["ws_url"], "ws://127.0.0.1:8188") << shown.out;
  EXPECT_EQ(updated["wss_url"], "wss://127.0.0.1:8989");
  EXPECT_EQ(updated["max_connections"], 250);
  EXPECT_EQ(cli(env(), "servers update " + id + " --ws-url http://x").exitCode, 1);
  EXPECT_NE(cli(env(), "servers update " + id + " --max-connections 0").exitCode, 0);
  // Whether the registration token may change it: the operator's mark.
  ASSERT_EQ(updated["added_by_operator"], true) << "added with `servers add`";
  ASSERT_EQ(cli(env(), "servers update " + id + " --added-by-operator false").exitCode, 0);
  auto unmarked = nlohmann::json::parse(cli(env(), "servers list --json").out);
  for (const auto& s : unmarked["servers"]) {
    if (s["id"] == id) {
      EXPECT_EQ(s["added_by_operator"], false);
    }
  }
  EXPECT_NE(cli(env(), "servers update " + id + " --added-by-operator maybe").exitCode, 0);
  ASSERT_EQ(cli(env(), "servers update " + id + " --added-by-operator true").exitCode, 0);

  EXPECT_EQ(cli(env(), "servers cordon " + id).exitCode, 0);
  auto list = cli(env(), "servers list --json");
  ASSERT_EQ(list.exitCode, 0);
  EXPECT_NE(list.out.find("cordoned"), std::string::npos);
  EXPECT_EQ(list.out.find(sim.servers()[0].secret), std::string::npos);  // no secrets shown

  auto missing = cli(env(), "servers enable doesnotexist");
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.out.find("error:"), std::string::npos);
  auto badToken =
      cli("SWITCHBOARD_URL=" + router_->base() + " SWITCHBOARD_ADMIN_TOKEN=wrong", "servers list");
  EXPECT_EQ(badToken.exitCode, 1);
  EXPECT_EQ(badToken.out.find("wrong"), std::string::npos);  // the token is never echoed
  auto unreachable = cli("SWITCHBOARD_URL=http://127.0.0.1:1 SWITCHBOARD_ADMIN_TOKEN=x", "status");
  EXPECT_EQ(unreachable.exitCode, 2);
  EXPECT_EQ(cli(env(), "servers remove " + id).exitCode, 0);
  EXPECT_EQ(cli(env(), "--help").exitCode, 0);
}

// Issue 18 item 5: numbers were cast (4294967297 stored as 1), "5abc" read as 5, and wrong
// types answered one message for every field. Each field is type- and range-checked and named.
TEST_F(AdminTest, NumbersAreRangeCheckedAndParsedWhole) {
  auto add = router_->admin("POST", "/servers",
                            json{{"url", "https://bbb1.example.com"}, {"secret", "s1"}}.dump());
  ASSERT_EQ(add.status, 201) << add.body;
  std::string id = json::parse(add.body)["id"];
  const json base = {{"url", "https://bbb2.example.com"}, {"secret", "s2"}};
  struct Case {
    const char* field;
    json value;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"max_users", 4294967297ULL},
           {"max_users", -1},
           {"max_users", "5abc"},
           {"max_users", 2.5},
           {"max_users", true},
           {"max_meetings", 18446744073709551615ULL},
           {"max_meetings", -4294967295LL},
           {"max_connections", 0},
           {"max_connections", 1e12},
           {"max_connections", "1e3"},
           {"load_multiplier", "5abc"},
           {"load_multiplier", "2 "},
           {"load_multiplier", 0},
           {"load_multiplier", -1},
           {"load_multiplier", 1e300},
           {"load_multiplier", json::array({1})},
           {"url", 5},
           {"url", std::string("https://bbb3.example.com/\0", 26)},
           {"secret", json::object()},
           {"secret", std::string("s\0", 2)},
           {"tag", 1},
           {"tag", std::string(300, 't')},
           {"state", 1},
           {"ws_url", false},
           {"wss_url", 3},
           {"added_by_operator", "yes"},
       }) {
    json body = base;
    body[c.field] = c.value;
    for (auto [method, path] :
         {std::pair{"POST", std::string("/servers")}, std::pair{"PATCH", "/servers/" + id}}) {
      auto r = router_->admin(method, path, body.dump());
      EXPECT_EQ(r.status, 400) << method << " " << c.field << "=" << c.value.dump() << ": "
                               << r.body;
      json error = json::parse(r.body, nullptr, false);
      ASSERT_TRUE(error.is_object()) << r.body;
      EXPECT_NE(error.value("error", "").find(c.field), std::string::npos)
          << c.field << ": " << r.body;
    }
  }
  auto servers = json::parse(router_->admin("GET", "/servers").body)["servers"];
  ASSERT_EQ(servers.size(), 1u) << "nothing was added";
  EXPECT_EQ(servers[0]["max_users"], 0) << "nothing was changed";
  EXPECT_EQ(servers[0]["load_multiplier"], 1.0);
  EXPECT_EQ(servers[0]["url"], "https://bbb1.example.com/bigbluebutton/api/");

  // What is in range is taken, numbers as text included (Scalelite's clients send strings).
  auto ok = router_->admin("PATCH", "/servers/" + id,
                           json{{"max_users", 2147483647},
                                {"max_meetings", "40"},
                                {"max_connections", 1000.0},
                                {"load_multiplier", "2.5"}}
                               .dump());
  EXPECT_EQ(ok.status, 400) << "2147483647 is above the bound: " << ok.body;
  ok = router_->admin("PATCH", "/servers/" + id,
                      json{{"max_users", 10000000},
                           {"max_meetings", "40"},
                           {"max_connections", 1000.0},
                           {"load_multiplier", "2.5"}}
                          .dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  json updated = json::parse(ok.body);
  EXPECT_EQ(updated["max_users"], 10000000);
  EXPECT_EQ(updated["max_meetings"], 40);
  EXPECT_EQ(updated["max_connections"], 1000);
  EXPECT_EQ(updated["load_multiplier"], 2.5);

  // Other bodies: panic's flags, move's target.
  for (const char* body : {R"({"failover":"yes"})", R"({"keep_state":1})"}) {
    auto r = router_->admin("POST", "/servers/" + id + "/panic", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  EXPECT_EQ(router_->admin("POST", "/meetings/m/move", R"({"to":5})").status, 400);
}

// Issue 18 item 5: an unknown id holding %FF (or a raw 0xFF) answered 500: the error message
// quoting it could not be dumped as JSON. Any bytes answer 400 or 404.
TEST_F(AdminTest, IdsAndPathsWithAnyBytesAnswer400Or404) {
  for (const char* path : {"/servers/%FF", "/servers/%C3%28", "/servers/%00", "/servers/a%FFb",
                           "/nothing%FF", "/servers/%FF/enable", "/meetings/%FF%FE/end"}) {
    for (const char* method : {"GET", "POST", "DELETE", "PATCH"}) {
      auto r = router_->admin(method, path, method == std::string("PATCH") ? "{}" : "");
      EXPECT_TRUE(r.status == 400 || r.status == 404)
          << method << " " << path << ": " << r.status << " " << r.body;
      EXPECT_TRUE(json::parse(r.body, nullptr, false).is_object()) << r.body;
    }
  }
  uint16_t port = router_->service().port();
  for (const std::string path : {"/switchboard/api/v1/servers/\xff", "/switchboard/api/v1/\xff\xfe",
                                 "/switchboard/api/v1/meetings/\xc3\x28/end"}) {
    int status = rawStatus(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                     Router::kToken + "\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(status == 400 || status == 404) << status;
  }
  EXPECT_EQ(router_->admin("GET", "/servers").status, 200);
}

// Issue 18 item 5: a server's last_error (copied from a BBB answer) holding invalid UTF-8 made
// GET /servers and GET /status answer 500 until it changed.
TEST_F(AdminTest, TextFromBbbWithInvalidUtf8NeverBreaksTheListings) {
  auto add = router_->admin("POST", "/servers",
                            json{{"url", "https://bbb1.example.com"}, {"secret", "s1"}}.dump());
  ASSERT_EQ(add.status, 201) << add.body;
  std::string id = json::parse(add.body)["id"];
  sb::ServerLiveState live;
  live.lastError = "FAILED: \xff\xfe bad \xc3\x28 answer";
  live.bbbVersion = "2.7\xff";
  ASSERT_TRUE(router_->service().servers().updateLiveState(id, live).ok());
  for (const std::string& path :
       {std::string("/servers"), "/servers/" + id, std::string("/status")}) {
    auto r = router_->admin("GET", path);
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << path;
  }
  json server = json::parse(router_->admin("GET", "/servers/" + id).body);
  std::string lastError = server["last_error"];
  EXPECT_TRUE(lastError.starts_with("FAILED: ")) << lastError;
  EXPECT_NE(lastError.find("\xef\xbf\xbd"), std::string::npos) << "replaced by U+FFFD";
  EXPECT_EQ(lastError.find('\xff'), std::string::npos);
}

// Issue 18 item 12: the poller called any host an admin or registration-token holder added,
// loopback and link-local (cloud metadata) included. They need SERVER_URL_ALLOWED_NETS.
TEST(ServerUrlPermissionTest, LoopbackAndLinkLocalUrlsNeedTheOperatorsPermission) {
  Router router([](sb::Config& c) {
    c.admin.serverUrlAllowedNets.clear();
    c.admin.registrationToken = "registration-token";
  });
  auto post = [&router](const std::string& url) {
    return router.admin("POST", "/servers", json{{"url", url}, {"secret", "s"}}.dump());
  };
  for (const char* url : {"http://127.0.0.1:1/", "http://localhost:1/", "http://[::1]:1/",
                          "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data",
                          "http://[fe80::1]/", "http://0.0.0.0:1/", "http://2130706433/",
                          "http://127.1/", "http://bbb.example.com@127.0.0.1/"}) {
    auto r = post(url);
    EXPECT_EQ(r.status, 403) << url << ": " << r.body;
    EXPECT_NE(r.body.find("SERVER_URL_ALLOWED_NETS"), std::string::npos) << r.body;
    auto reg = httpRequest("POST", router.base() + "/switchboard/api/v1/servers/register",
                           json{{"url", url}, {"secret", "s"}}.dump(), "application/json",
                           "Bearer registration-token");
    EXPECT_EQ(reg.status, 403) << url << ": " << reg.body;
  }
  auto fine = post("https://bbb.example.com");
  ASSERT_EQ(fine.status, 201) << fine.body;
  std::string id = json::parse(fine.body)["id"];
  auto moved = router.admin("PATCH", "/servers/" + id, json{{"url", "http://127.0.0.1:2"}}.dump());
  EXPECT_EQ(moved.status, 403) << moved.body;
  EXPECT_EQ(json::parse(router.admin("GET", "/servers").body)["servers"].size(), 1u);

  Router allowed(
      [](sb::Config& c) { c.admin.serverUrlAllowedNets = {*sb::parseIpNet("127.0.0.0/8")}; });
  EXPECT_EQ(
      allowed.admin("POST", "/servers", json{{"url", "http://127.0.0.1:1"}, {"secret", "s"}}.dump())
          .status,
      201);
  EXPECT_EQ(allowed
                .admin("POST", "/servers",
                       json{{"url", "http://169.254.169.254/"}, {"secret", "s"}}.dump())
                .status,
            403);
}

TEST(ServeCommandTest, RefusesToStartWithoutASecret) {
  auto r = cli("env -u LOADBALANCER_SECRET -u LOADBALANCER_SECRETS", "serve --port 0");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("LOADBALANCER_SECRET is not set"), std::string::npos) << r.out;
  auto bad = cli("LOADBALANCER_SECRET=x POLL_INTERVAL=soon", "serve --port 0");
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.out.find("POLL_INTERVAL"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace sbtest
