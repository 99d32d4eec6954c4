// Tenants (issue 20) through a real Switchboard HTTP front against bbb-sim: two frontends with
// their own secrets, found by host name and by path, using the same meetingIDs without seeing
// each other; the admin API's tenant calls; the tenant stores' contract on the embedded
// default's file (the PostgreSQL store's is in pg_store_test.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "app/stores.h"
#include "app/tenants_file.h"
#include "harness.h"
#include "raw_http.h"
#include "tests/unit/tenant_store_contract.h"

namespace sbtest {
namespace {

using sb::ChecksumAlgorithm;

constexpr const char* kAcmeSecret = "acme-tenant-secret";
constexpr const char* kBetaSecret = "beta-tenant-secret";
constexpr const char* kBaseDomain = "lb.test";

class TenantsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sim_ = new Sim(2); }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }
  void SetUp() override {
    sim_->reset();
    router_ = std::make_unique<Router>([](sb::Config& c) {
      c.api.multitenancy = true;
      c.api.tenantBaseDomain = kBaseDomain;
    });
    router_->addServers(*sim_);
    ASSERT_EQ(addTenant(R"({"name": "acme", "secrets": ["acme-tenant-secret"]})").status, 201);
    ASSERT_EQ(addTenant(R"({"tenant": {"name": "beta", "secrets": ["beta-tenant-secret"],
                                       "hosts": ["bbb.beta-university.test"]}})")
                  .status,
              201);
  }
  HttpResult addTenant(const std::string& json) { return router_->admin("POST", "/tenants", json); }

  static std::string signedQuery(const std::string& call, const std::string& query,
                                 const std::string& secret) {
    return query + (query.empty() ? "" : "&") +
           "checksum=" + sb::computeChecksum(ChecksumAlgorithm::kSha256, call, query, secret);
  }
  // A call of tenant `tenant` by path: /t/<tenant>/bigbluebutton/api/<call>.
  HttpResult byPath(const std::string& tenant, const std::string& call, const std::string& query,
                    const std::string& secret) const {
    return httpGet(router_->base() + "/t/" + tenant + "/bigbluebutton/api/" + call + "?" +
                   signedQuery(call, query, secret));
  }
  // A call to host `host`, as a frontend that reaches the router under that name.
  struct RawAnswer {
    int status = 0;
    std::string body;
    std::string location;
  };
  RawAnswer byHost(const std::string& host, const std::string& call, const std::string& query,
                   const std::string& secret) const {
    const std::string port = router_->base().substr(router_->base().rfind(':') + 1);
    std::string answer =
        roundTrip(static_cast<uint16_t>(std::stoi(port)),
                  "GET /bigbluebutton/api/" + call + "?" + signedQuery(call, query, secret) +
                      " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    RawAnswer r{statusOf(answer), bodyOf(answer), ""};
    if (size_t at = answer.find("Location: "); at != std::string::npos) {
      r.location = answer.substr(at + 10, answer.find("\r\n", at) - at - 10);
    }
    return r;
  }
  std::vector<std::string> simMeetingIds() const {
    std::vector<std::string> ids;
    for (const auto& s : sim_->servers()) {
      nlohmann::json server = sim_->server(s.index);
      for (const auto& m : server["meetings_detail"]) ids.push_back(m["meeting_id"]);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static Sim* sim_;
  std::unique_ptr<Router> router_;
};
Sim* TenantsTest::sim_ = nullptr;

TEST_F(TenantsTest, TwoTenantsWithTheSameMeetingIdGetTwoMeetingsAndSeeOnlyTheirOwn) {
  auto a = byPath("acme", "create", "name=Acme+room&meetingID=room-1", kAcmeSecret);
  ASSERT_EQ(xmlField(a.body, "returncode"), "SUCCESS") << a.body;
  EXPECT_EQ(xmlField(a.body, "meetingID"), "room-1");
  auto b = byHost("beta.lb.test", "create", "name=Beta+room&meetingID=room-1", kBetaSecret);
  ASSERT_EQ(xmlField(b.body, "returncode"), "SUCCESS") << b.body;
  EXPECT_EQ(xmlField(b.body, "meetingID"), "room-1");
  EXPECT_EQ(simMeetingIds(), (std::vector<std::string>{"acme~room-1", "beta~room-1"}));

  // Each tenant's calls reach its own meeting, by path, by <tenant>.<base domain> and by its
  // own host name alike.
  auto info = byHost("bbb.beta-university.test", "getMeetingInfo", "meetingID=room-1", kBetaSecret);
  EXPECT_EQ(xmlField(info.body, "meetingName"), "Beta room");
  EXPECT_EQ(xmlField(info.body, "meetingID"), "room-1");
  EXPECT_EQ(info.body.find("acme"), std::string::npos);
  auto join = byPath("acme", "join", "meetingID=room-1&fullName=Ann&role=MODERATOR", kAcmeSecret);
  ASSERT_EQ(join.status, 302) << join.body;
  EXPECT_NE(join.location.find("meetingID=acme~room-1"), std::string::npos) << join.location;

  // getMeetings lists the tenant's own meetings only, with its own IDs.
  auto mine = byPath("acme", "getMeetings", "", kAcmeSecret);
  EXPECT_EQ(xmlField(mine.body, "meetingName"), "Acme room");
  EXPECT_EQ(xmlField(mine.body, "meetingID"), "room-1");
  EXPECT_EQ(mine.body.find("Beta room"), std::string::npos);
  EXPECT_EQ(mine.body.find("~"), std::string::npos);

  // beta ends its room-1; acme's runs on.
  auto ended = byHost("beta.lb.test", "end", "meetingID=room-1", kBetaSecret);
  EXPECT_EQ(xmlField(ended.body, "returncode"), "SUCCESS") << ended.body;
  auto running = byPath("acme", "getMeetingInfo", "meetingID=room-1", kAcmeSecret);
  EXPECT_EQ(xmlField(running.body, "returncode"), "SUCCESS") << running.body;
  EXPECT_EQ(simMeetingIds(), std::vector<std::string>{"acme~room-1"});
  auto gone = byHost("beta.lb.test", "getMeetingInfo", "meetingID=room-1", kBetaSecret);
  EXPECT_EQ(xmlField(gone.body, "messageKey"), "notFound");
  auto none = byHost("beta.lb.test", "getMeetings", "", kBetaSecret);
  EXPECT_EQ(xmlField(none.body, "messageKey"), "noMeetings");

  // Each tenant's calls are counted under its name, and the poller's round counts its usage.
  router_->service().poller().pollOnce();
  auto metrics = httpGet(router_->base() + "/metrics").body;
  EXPECT_NE(
      metrics.find(
          R"(switchboard_tenant_requests_total{call="create",result="SUCCESS",tenant="acme"} 1)"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(switchboard_tenant_meetings{tenant="acme"} 1)"), std::string::npos);
}

TEST_F(TenantsTest, OnlyTheTenantsOwnSecretSignsItsCalls) {
  ASSERT_EQ(
      xmlField(byPath("acme", "create", "name=R&meetingID=m", kAcmeSecret).body, "returncode"),
      "SUCCESS");
  // Another tenant's secret, the router's own secret, an unknown tenant, the bare host: all
  // checksumError, and nothing reaches a meeting.
  EXPECT_EQ(
      xmlField(byPath("acme", "getMeetingInfo", "meetingID=m", kBetaSecret).body, "messageKey"),
      "checksumError");
  EXPECT_EQ(
      xmlField(byPath("acme", "getMeetingInfo", "meetingID=m", Router::kSecret).body, "messageKey"),
      "checksumError");
  EXPECT_EQ(xmlField(byPath("nobody", "getMeetings", "", kAcmeSecret).body, "messageKey"),
            "checksumError");
  EXPECT_EQ(xmlField(byHost("lb.test", "getMeetings", "", kAcmeSecret).body, "messageKey"),
            "checksumError");
  EXPECT_EQ(xmlField(byHost("acme.other.test", "getMeetings", "", kAcmeSecret).body, "messageKey"),
            "checksumError");
  EXPECT_EQ(xmlField(router_->call("getMeetings", "").body, "messageKey"), "checksumError");
  // A scoped ID given by another tenant names nothing of acme's.
  auto cross = byPath("beta", "getMeetingInfo", "meetingID=acme~m", kBetaSecret);
  EXPECT_EQ(xmlField(cross.body, "messageKey"), "notFound");
}

TEST_F(TenantsTest, RotatedSecretsWorkTogetherUntilTheOldIsDropped) {
  auto rotated = router_->admin("POST", "/tenants/acme/secrets", "{}");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string fresh = nlohmann::json::parse(rotated.body)["secret"];
  EXPECT_EQ(xmlField(byPath("acme", "getMeetings", "", fresh).body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(byPath("acme", "getMeetings", "", kAcmeSecret).body, "returncode"), "SUCCESS");
  ASSERT_EQ(router_
                ->admin("POST", "/tenants/acme/secrets",
                        R"({"secret": "acme-next-secret-42", "drop_others": true})")
                .status,
            200);
  EXPECT_EQ(xmlField(byPath("acme", "getMeetings", "", "acme-next-secret-42").body, "returncode"),
            "SUCCESS");
  for (const std::string& old : {fresh, std::string(kAcmeSecret)}) {
    EXPECT_EQ(xmlField(byPath("acme", "getMeetings", "", old).body, "messageKey"), "checksumError");
  }
}

TEST_F(TenantsTest, TheAdminApiRefusesBadTenantsAndRemovesOneWithMeetingsOnlyWhenForced) {
  for (const char* bad :
       {R"({"name": "Acme.Org", "secrets": ["long-enough-secret"]})",
        R"({"name": "gamma/1", "secrets": ["long-enough-secret"]})",
        R"({"name": "", "secrets": ["long-enough-secret"]})", R"({"name": "gamma", "secrets": []})",
        R"({"name": "gamma", "secrets": ["short"]})",
        R"({"name": "gamma", "secrets": ["long-enough-secret"],
            "hosts": ["bbb.beta-university.test"]})",
        R"({"name": "gamma", "secrets": ["long-enough-secret"],
            "limits": {"max_meetings": 4294967297}})",
        R"({"name": "gamma", "secrets": 5})", "[1, 2]", "not json"}) {
    auto r = addTenant(bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  EXPECT_EQ(addTenant(R"({"name": "acme", "secrets": ["long-enough-secret"]})").status, 409);
  auto list = router_->admin("GET", "/tenants");
  ASSERT_EQ(list.status, 200);
  auto tenants = nlohmann::json::parse(list.body)["tenants"];
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0]["name"], "acme");
  EXPECT_EQ(tenants[0]["secrets_count"], 1);
  EXPECT_EQ(list.body.find(kAcmeSecret), std::string::npos);

  ASSERT_EQ(
      xmlField(byPath("acme", "create", "name=R&meetingID=m", kAcmeSecret).body, "returncode"),
      "SUCCESS");
  auto usage = router_->admin("GET", "/tenants/acme/usage");
  ASSERT_EQ(usage.status, 200);
  EXPECT_EQ(nlohmann::json::parse(usage.body)["meetings"], 1);
  EXPECT_EQ(router_->admin("DELETE", "/tenants/acme").status, 403);
  EXPECT_EQ(
      xmlField(byPath("acme", "getMeetingInfo", "meetingID=m", kAcmeSecret).body, "returncode"),
      "SUCCESS");
  auto forced = router_->admin("DELETE", "/tenants/acme?force=true");
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_EQ(nlohmann::json::parse(forced.body)["meetings"], 1);
  // Its frontend reaches nothing any more; the meeting runs on, and the operator can end it.
  EXPECT_EQ(
      xmlField(byPath("acme", "isMeetingRunning", "meetingID=m", kAcmeSecret).body, "messageKey"),
      "checksumError");
  EXPECT_EQ(simMeetingIds(), std::vector<std::string>{"acme~m"});
  EXPECT_EQ(router_->admin("POST", "/meetings/acme~m/end").status, 200);
  EXPECT_EQ(router_->admin("GET", "/tenants/acme").status, 404);
}

TEST_F(TenantsTest, TheCliManagesTenantsAndShowsUsageAgainstLimits) {
  const std::string env =
      "SWITCHBOARD_URL=" + router_->base() + " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken + " ";
  auto cli = [&](const std::string& args) {
    return runCommand(env + std::string(SB_BIN_DIR) + "/switchboard " + args + " 2>&1");
  };
  auto added =
      cli("tenants add gamma --secret gamma-tenant-secret --host bbb.gamma.test --tag gold "
          "--no-fallback --default-create record=true --max-meetings 3 --max-participants 50");
  ASSERT_EQ(added.exitCode, 0) << added.out;
  auto shown = nlohmann::json::parse(cli("tenants show gamma").out);
  EXPECT_EQ(shown["hosts"], nlohmann::json::array({"bbb.gamma.test"}));
  EXPECT_EQ(shown["server_tags"], nlohmann::json::array({"gold"}));
  EXPECT_EQ(shown["tag_fallback"], false);
  EXPECT_EQ(shown["default_create_params"]["record"], "true");
  EXPECT_EQ(shown["limits"]["max_meetings"], 3);
  EXPECT_FALSE(shown.contains("secrets"));
  auto list = cli("tenants list");
  EXPECT_EQ(list.exitCode, 0);
  EXPECT_NE(list.out.find("gamma"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("bbb.gamma.test"), std::string::npos) << list.out;
  ASSERT_EQ(cli("tenants update gamma --max-meetings 4 --enable").exitCode, 0);
  auto usage = cli("tenants usage gamma");
  EXPECT_NE(usage.out.find("meetings:     0 of 4"), std::string::npos) << usage.out;
  EXPECT_NE(usage.out.find("participants: 0 of 50"), std::string::npos) << usage.out;
  auto status = cli("status --tenant gamma");
  EXPECT_EQ(status.exitCode, 0) << status.out;
  EXPECT_NE(status.out.find("tenant gamma:"), std::string::npos) << status.out;
  auto bad = cli("tenants add Gamma.Org --secret long-enough-secret");
  EXPECT_NE(bad.exitCode, 0);
  EXPECT_NE(bad.out.find("DNS label"), std::string::npos) << bad.out;
  auto rotated = cli("tenants rotate gamma --drop-old");
  ASSERT_EQ(rotated.exitCode, 0) << rotated.out;
  const std::string fresh = rotated.out.substr(rotated.out.rfind(": ") + 2, 48);
  EXPECT_EQ(xmlField(byPath("gamma", "getMeetings", "", fresh).body, "returncode"), "SUCCESS");
  EXPECT_EQ(cli("tenants remove gamma").exitCode, 0);
  EXPECT_NE(cli("tenants show gamma").exitCode, 0);
}

TEST(TenantsOffTest, WithoutMultitenancyTenantPathsAndCallsAreRefused) {
  Router router;
  EXPECT_EQ(router.admin("GET", "/tenants").status, 412);
  auto r =
      httpGet(router.base() + "/t/acme/bigbluebutton/api/getMeetings?checksum=" +
              sb::computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", Router::kSecret));
  EXPECT_EQ(xmlField(r.body, "messageKey"), "checksumError");
  EXPECT_EQ(xmlField(router.call("getMeetings", "").body, "returncode"), "SUCCESS");
}

// ---- limits with several routers on the shared store -------------------------------------------

TEST(TenantLimitsSharedTest, AMeetingLimitHoldsUnderConcurrentCreatesOverTwoRouters) {
  const char* redis = std::getenv("REDIS_URL");
  const char* database = std::getenv("DATABASE_URL");
  ASSERT_TRUE(redis && database) << "REDIS_URL and DATABASE_URL (scripts/test.sh starts them)";
  const std::string ns = "sbtenants" + std::to_string(::getpid());
  auto tweak = [&](sb::Config& c) {
    c.store.redisUrl = redis;
    c.store.databaseUrl = database;
    c.store.redisNamespace = ns;
    c.api.multitenancy = true;
    c.api.tenantBaseDomain = kBaseDomain;
  };
  sb::Config c = *sb::loadConfig([](const std::string&) { return std::nullopt; });
  tweak(c);
  ASSERT_TRUE(sb::migrateDatabase(c).ok());
  // A tenant of this run's own: the shared tables keep other runs' rows.
  const std::string name =
      "lim" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 1'000'000);
  const std::string secret = name + "-tenant-secret";
  Sim sim(2);
  Router a(tweak);
  a.addServers(sim);
  ASSERT_EQ(a.admin("POST", "/tenants",
                    nlohmann::json{
                        {"name", name}, {"secrets", {secret}}, {"limits", {{"max_meetings", 5}}}}
                        .dump())
                .status,
            201);
  Router b(tweak);  // reads the tenant at its start
  auto create = [&](const Router& r, const std::string& id) {
    const std::string q = "name=R&meetingID=" + id;
    return httpGet(r.base() + "/t/" + name + "/bigbluebutton/api/create?" + q + "&checksum=" +
                   sb::computeChecksum(ChecksumAlgorithm::kSha1, "create", q, secret));
  };
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, refused{0}, other{0};
  for (int i = 0; i < 24; ++i) {
    threads.emplace_back([&, i] {
      auto r = create(i % 2 ? a : b, "room-" + std::to_string(i));
      const std::string key = xmlField(r.body, "messageKey");
      if (xmlField(r.body, "returncode") == "SUCCESS") {
        ++created;
      } else if (key == "maxConcurrent") {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(refused.load(), 19);
  EXPECT_EQ(other.load(), 0);
  int onServers = 0;
  for (const auto& s : sim.servers()) {
    nlohmann::json server = sim.server(s.index);
    for (const auto& m : server["meetings_detail"]) {
      onServers += std::string(m["meeting_id"]).starts_with(name + "~");
    }
  }
  EXPECT_EQ(onServers, 5) << "a refused create leaves nothing on a server";
  // A create of a running meeting passes; an ended one frees its place for another router.
  std::string running;
  for (int i = 0; i < 24 && running.empty(); ++i) {
    auto again = create(b, "room-" + std::to_string(i));
    if (xmlField(again.body, "returncode") == "SUCCESS") running = "room-" + std::to_string(i);
  }
  ASSERT_FALSE(running.empty());
  const std::string q = "meetingID=" + running;
  auto ended = httpGet(a.base() + "/t/" + name + "/bigbluebutton/api/end?" + q + "&checksum=" +
                       sb::computeChecksum(ChecksumAlgorithm::kSha1, "end", q, secret));
  ASSERT_EQ(xmlField(ended.body, "returncode"), "SUCCESS") << ended.body;
  a.service().poller().pollOnce();  // the round counts what the store holds
  EXPECT_EQ(xmlField(create(b, "late-1").body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(create(a, "late-2").body, "messageKey"), "maxConcurrent");
  auto usage = nlohmann::json::parse(a.admin("GET", "/tenants/" + name + "/usage").body);
  EXPECT_EQ(usage["meetings"], 5);
  EXPECT_EQ(usage["counted_meetings"], 5);

  // Meetings ending while creates run, over both routers: the count never drifts from what the
  // store holds (a failed or refused create is uncounted, an end frees its place).
  std::vector<std::string> running5;
  for (const auto& m : a.meetings()) {
    const std::string id = m["id"];
    if (id.starts_with(name + "~")) running5.push_back(id.substr(name.size() + 1));
  }
  ASSERT_EQ(running5.size(), 5u);
  std::vector<std::thread> churn;
  for (int i = 0; i < 5; ++i) {
    churn.emplace_back([&, i] {
      const std::string q = "meetingID=" + running5[i];
      httpGet((i % 2 ? a : b).base() + "/t/" + name + "/bigbluebutton/api/end?" + q +
              "&checksum=" + sb::computeChecksum(ChecksumAlgorithm::kSha1, "end", q, secret));
    });
    churn.emplace_back([&, i] { create(i % 2 ? b : a, "churn-" + std::to_string(i)); });
    churn.emplace_back([&, i] { create(i % 2 ? a : b, "churn-x-" + std::to_string(i)); });
  }
  for (auto& t : churn) t.join();
  usage = nlohmann::json::parse(a.admin("GET", "/tenants/" + name + "/usage").body);
  EXPECT_LE(usage["meetings"].get<int>(), 5);
  EXPECT_EQ(usage["counted_meetings"], usage["meetings"]) << usage;
  a.service().poller().pollOnce();
  usage = nlohmann::json::parse(a.admin("GET", "/tenants/" + name + "/usage").body);
  EXPECT_EQ(usage["counted_meetings"], usage["meetings"]) << usage;
  for (const auto& m : a.meetings()) {
    if (std::string(m["id"]).starts_with(name + "~")) {
      a.admin("POST", "/meetings/" + std::string(m["id"]) + "/end");
    }
  }
  EXPECT_EQ(a.admin("DELETE", "/tenants/" + name).status, 200);
}

// ---- the tenant store contract on the embedded default's file -------------------------------

class TenantsFileStorage {
 public:
  TenantsFileStorage() {
    char dir[] = "/tmp/sb-tenants-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
  }
  ~TenantsFileStorage() {
    std::remove(path().c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/tenants.json"; }
  // A new store on the same file: as the process after a restart sees it.
  std::unique_ptr<sb::TenantStore> make() {
    auto store = std::make_unique<sb::TenantsFile>(path());
    auto loaded = store->load();
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return store;
  }

 private:
  std::string dir_;
};

TEST(TenantsFileTest, TheFileHoldsSecretsSoOnlyItsOwnerReadsItAndABrokenOneStopsTheStart) {
  TenantsFileStorage storage;
  ASSERT_TRUE(storage.make()->addTenant(sb::fullTenant("acme")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(storage.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ofstream(storage.path()) << "{\"tenants\": [{\"name\": 5}]}";
  sb::TenantsFile broken(storage.path());
  auto loaded = broken.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find(storage.path()), std::string::npos);
}

}  // namespace
}  // namespace sbtest

namespace sb {
INSTANTIATE_TYPED_TEST_SUITE_P(File, TenantStoreContract, sbtest::TenantsFileStorage);
}  // namespace sb
