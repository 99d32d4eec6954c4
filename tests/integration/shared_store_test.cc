// The shared store (Redis + PostgreSQL, real servers from scripts/test.sh: REDIS_URL and
// DATABASE_URL) against the same contract as the embedded store, and the production faults:
// two routers racing on one meetingID, a Redis flush, a PostgreSQL outage, a poller takeover.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "app/stores.h"
#include "db/migrator.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"
#include "db/redis_store.h"
#include "harness.h"

namespace sbtest {
namespace {

using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A config on the shared store with a fresh Redis namespace and empty PostgreSQL tables. Fails
// the test (never skips) when the stores are not configured.
sb::Config sharedConfig() {
  sb::Config c = *sb::loadConfig([](const std::string&) { return std::nullopt; });
  c.store.redisUrl = env("REDIS_URL");
  c.store.databaseUrl = env("DATABASE_URL");
  EXPECT_TRUE(c.store.shared()) << "REDIS_URL and DATABASE_URL must point at test servers "
                                   "(scripts/test.sh starts them)";
  static std::mt19937_64 rng(std::random_device{}());
  c.store.redisNamespace = "sbtest" + std::to_string(rng() % 1000000000);
  c.store.leaseTtl = std::chrono::milliseconds(1500);
  return c;
}

void resetDatabase(const sb::Config& c) {
  auto migrated = sb::migrateDatabase(c);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  pqxx::connection conn(c.store.databaseUrl);
  pqxx::work w(conn);
  w.exec("TRUNCATE meetings, servers, leases");
  w.commit();
}

std::unique_ptr<sb::StoreBundle> openShared(const sb::Config& c) {
  auto stores = sb::openStores(c);
  EXPECT_TRUE(stores.ok());
  return std::move(stores).value();
}

int run(const std::string& command) { return std::system(command.c_str()); }

// ---- the contract: the same behaviour on both stores ----------------------------------------

class StoreContractTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      config_ = sharedConfig();
      resetDatabase(config_);
      stores_ = openShared(config_);
    } else {
      stores_ = std::move(sb::openStores(config_).value());
    }
  }
  sb::Server server(const std::string& id) {
    sb::Server s;
    s.id = id;
    s.url = "https://" + id + ".example.com/bigbluebutton/api/";
    s.secret = "secret-" + id;
    s.state = sb::AdminState::kEnabled;
    s.tag = "t";
    s.loadMultiplier = 1.5;
    s.maxUsers = 300;
    return s;
  }
  sb::Meeting meeting(const std::string& id, const std::string& serverId) {
    sb::Meeting m;
    m.id = id;
    m.serverId = serverId;
    m.moderatorPw = "mp";
    m.createdAtMs = 1234;
    m.createParams.append("name", "Café ✓");
    m.createParams.append("meta_x", "");
    m.createParams.append("meta_x", "dup");
    m.createBody = "<modules/>";
    m.serverTagRequest = "t!";
    m.sizeHint = 40;
    return m;
  }
  sb::Config config_ = *sb::loadConfig([](const std::string&) { return std::nullopt; });
  std::unique_ptr<sb::StoreBundle> stores_;
};

// Issue 17: a frontend's end is remembered, so a copy found later where the end did not reach is
// ended rather than adopted as a lost route.
TEST_P(StoreContractTest, AnEndIsRememberedAfterTheRecordIsGone) {
  auto& m = stores_->meetings();
  auto none = m.endedAt("ended-1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(m.rememberEnded("ended-1", 1'700'000'000'123, std::chrono::hours(1)).ok());
  ASSERT_TRUE(m.rememberEnded("ended-1", 1'700'000'000'456, std::chrono::hours(1)).ok());
  auto got = m.endedAt("ended-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::optional<int64_t>(1'700'000'000'456)) << "the last end counts";
  EXPECT_FALSE(m.endedAt("ended-2")->has_value());
}

TEST_P(StoreContractTest, SignallingFieldsAndDrainMarkRoundTrip) {
  auto& s = stores_->servers();
  sb::Server a = server("a");
  ASSERT_EQ(a.maxConnections, sb::Server::kDefaultMaxConnections);
  a.wsUrl = "ws://a.example.com:8188";
  a.wssUrl = "wss://a.example.com:8989";
  a.maxConnections = 250;
  ASSERT_TRUE(s.addServer(a).ok());
  sb::Server got = *s.getServer("a");
  EXPECT_EQ(got.wsUrl, a.wsUrl);
  EXPECT_EQ(got.wssUrl, a.wssUrl);
  EXPECT_EQ(got.maxConnections, 250);
  EXPECT_FALSE(got.removeWhenDrained);
  EXPECT_FALSE(got.addedByOperator);
  got.wsUrl.clear();
  got.maxConnections = 40;
  got.removeWhenDrained = true;
  got.addedByOperator = true;
  got.state = sb::AdminState::kCordoned;
  ASSERT_TRUE(s.updateServer(got).ok());
  sb::Server updated = (*s.listServers())[0];
  EXPECT_EQ(updated.wsUrl, "");
  EXPECT_EQ(updated.wssUrl, a.wssUrl);
  EXPECT_EQ(updated.maxConnections, 40);
  EXPECT_TRUE(updated.removeWhenDrained);
  EXPECT_TRUE(updated.addedByOperator);
  EXPECT_EQ(updated.state, sb::AdminState::kCordoned);
}

// Times come from the store's clock (timeMs): the memory store takes the caller's, the shared
// store dates marks by Redis's own.
TEST_P(StoreContractTest, MeetingsSnapshotsKeepTheLatestChange) {
  auto& s = stores_->snapshots();
  auto t0 = s.timeMs(1'000'000);
  ASSERT_TRUE(t0.ok()) << t0.error().message;
  ASSERT_TRUE(s.putSnapshot("a", *t0 - 100, "<meeting>1</meeting>").ok());
  ASSERT_TRUE(s.markChanged("a", *t0 + 50).ok());
  ASSERT_TRUE(s.markChanged("b", *t0).ok());
  auto got = s.snapshots({"a", "b", "c"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  ASSERT_TRUE((*got)[0]);
  EXPECT_EQ((*got)[0]->takenAtMs, *t0 - 100);
  const int64_t changed = (*got)[0]->changedAtMs;
  EXPECT_GE(changed, *t0);
  EXPECT_EQ((*got)[0]->meetingsXml, "<meeting>1</meeting>");
  EXPECT_FALSE((*got)[0]->usable(changed + 10, 1000)) << "changed after it was taken";
  ASSERT_TRUE(s.markChanged("a", *t0 - 500).ok());  // an older mark arriving late never lowers it
  EXPECT_GE((*s.versions({"a"}))[0]->changedAtMs, changed);
  const int64_t latest = (*s.versions({"a"}))[0]->changedAtMs;
  ASSERT_TRUE(s.putSnapshot("a", latest + 1, "").ok());  // the next poll keeps the change time
  got = s.snapshots({"a"});
  EXPECT_EQ((*got)[0]->changedAtMs, latest);
  EXPECT_EQ((*got)[0]->meetingsXml, "");
  EXPECT_TRUE((*got)[0]->usable(latest + 10, 1000));
  EXPECT_FALSE((*got)[0]->usable(latest + 1100, 1000)) << "too old";
  ASSERT_TRUE((*s.snapshots({"b"}))[0]);
  EXPECT_FALSE((*s.snapshots({"c"}))[0]);
}

TEST_P(StoreContractTest, SeveralServersAreMarkedChangedInOneCall) {
  auto& s = stores_->snapshots();
  EXPECT_EQ(s.prefersMarkBatches(), GetParam()) << "only a store with round trips gathers marks";
  auto t0 = s.timeMs(1'000'000);
  ASSERT_TRUE(t0.ok()) << t0.error().message;
  ASSERT_TRUE(s.putSnapshot("a", *t0 - 100, "").ok());
  ASSERT_TRUE(s.putSnapshot("b", *t0 - 100, "").ok());
  ASSERT_TRUE(s.markChangedMany({"a", "b"}, *t0 + 300).ok());
  auto first = s.versions({"a", "b"});
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE((*first)[0] && (*first)[1]);
  EXPECT_GE((*first)[0]->changedAtMs, *t0);
  EXPECT_EQ((*first)[0]->changedAtMs, (*first)[1]->changedAtMs) << "one time for the batch";
  // Never lowers b's; c has no snapshot; an empty batch changes nothing.
  ASSERT_TRUE(s.markChangedMany({"b", "c"}, *t0 - 50).ok());
  ASSERT_TRUE(s.markChangedMany({}, *t0 + 400).ok());
  auto got = s.versions({"a", "b"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ((*got)[0]->changedAtMs, (*first)[0]->changedAtMs);
  EXPECT_GE((*got)[1]->changedAtMs, (*first)[1]->changedAtMs);
}

TEST_P(StoreContractTest, ServersRoundTripAndOrder) {
  auto& s = stores_->servers();
  ASSERT_TRUE(s.addServer(server("b")).ok());
  ASSERT_TRUE(s.addServer(server("a")).ok());
  EXPECT_EQ(s.addServer(server("a")).error().code, sb::ErrorCode::kAlreadyExists);
  auto list = s.listServers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "a");
  sb::Server a = *s.getServer("a");
  EXPECT_EQ(a.secret, "secret-a");
  EXPECT_EQ(a.tag, "t");
  EXPECT_DOUBLE_EQ(a.loadMultiplier, 1.5);
  EXPECT_EQ(a.maxUsers, 300);
  EXPECT_EQ(s.getServer("zz").error().code, sb::ErrorCode::kNotFound);
  a.state = sb::AdminState::kCordoned;
  ASSERT_TRUE(s.updateServer(a).ok());
  EXPECT_TRUE(*s.compareAndSetState("a", sb::AdminState::kCordoned, sb::AdminState::kDisabled));
  EXPECT_FALSE(*s.compareAndSetState("a", sb::AdminState::kCordoned, sb::AdminState::kEnabled));
  sb::ServerLiveState live;
  live.online = true;
  live.load = 10;
  live.usage.users = 7;
  live.bbbVersion = "2.7.12";
  ASSERT_TRUE(s.updateLiveState("b", live).ok());
  ASSERT_TRUE(s.reserve("b", 15, 1).ok());
  sb::Server b = *s.getServer("b");
  EXPECT_TRUE(b.live.online);
  EXPECT_DOUBLE_EQ(b.live.load, 25);
  EXPECT_EQ(b.live.usage.meetings, 1);
  EXPECT_EQ(b.live.bbbVersion, "2.7.12");
  ASSERT_TRUE(s.removeServer("a").ok());
  EXPECT_EQ(s.listServers()->size(), 1u);
}

TEST_P(StoreContractTest, MeetingsRoundTripClaimOrphanAndRemove) {
  auto& m = stores_->meetings();
  auto first = m.claimMeeting(meeting("m1", "s1"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->claimed);
  auto second = m.claimMeeting(meeting("m1", "s2"));
  EXPECT_FALSE(second->claimed);
  EXPECT_EQ(second->meeting.serverId, "s1");
  sb::Meeting got = **m.findMeeting("m1");
  EXPECT_EQ(got.createParams.params(), meeting("m1", "s1").createParams.params());
  EXPECT_EQ(got.createBody, "<modules/>");
  EXPECT_EQ(got.serverTagRequest, "t!");
  EXPECT_EQ(got.sizeHint, 40);
  EXPECT_EQ(got.createdAtMs, 1234);
  ASSERT_TRUE(m.claimMeeting(meeting("m2", "s1")).ok());
  ASSERT_TRUE(m.claimMeeting(meeting("m3", "s2")).ok());
  EXPECT_EQ(m.listMeetings("s1")->size(), 2u);
  EXPECT_EQ(*m.orphanMeetingsOf("s1"), 2);
  EXPECT_TRUE((**m.findMeeting("m2")).orphaned);
  EXPECT_TRUE(m.claimMeeting(meeting("m2", "s3"))->claimed);  // an orphan can be re-claimed
  ASSERT_TRUE(m.removeMeeting("m3", "other").ok());           // server guard
  EXPECT_TRUE(m.findMeeting("m3")->has_value());
  ASSERT_TRUE(m.removeMeeting("m3", "s2").ok());
  EXPECT_FALSE(m.findMeeting("m3")->has_value());
}

// The poller's listing: every meeting in id order with its routing fields, orphans included.
TEST_P(StoreContractTest, PlacedMeetingsListEveryMeetingsRoutingFields) {
  auto& m = stores_->meetings();
  EXPECT_TRUE(m.listPlacedMeetings()->empty());
  sb::Meeting b = meeting("b", "s2");
  b.createdAtMs = 9'000'000'000'123;  // beyond 32 bits
  b.sizeHint = 0;
  ASSERT_TRUE(m.claimMeeting(b).ok());
  ASSERT_TRUE(m.claimMeeting(meeting("a", "s1")).ok());
  ASSERT_TRUE(m.claimMeeting(meeting("c", "s1")).ok());
  ASSERT_TRUE(m.orphanMeetingsOf("s1").ok());
  ASSERT_TRUE(m.claimMeeting(meeting("c", "s3")).ok());  // the orphan placed anew
  auto placed = m.listPlacedMeetings();
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  std::vector<sb::PlacedMeeting> want{{"a", "s1", 1234, 40, true},
                                      {"b", "s2", 9'000'000'000'123, 0, false},
                                      {"c", "s3", 1234, 40, false}};
  EXPECT_EQ(*placed, want);
  // The same meetings as the whole listing, field for field.
  std::vector<sb::PlacedMeeting> fromWhole;
  auto whole = m.listMeetings();
  ASSERT_TRUE(whole.ok());
  for (const auto& one : *whole) fromWhole.push_back(sb::PlacedMeeting::of(one));
  EXPECT_EQ(fromWhole, want);
  ASSERT_TRUE(m.removeMeeting("b").ok());
  EXPECT_EQ(m.listPlacedMeetings()->size(), 2u);
}

TEST_P(StoreContractTest, ConcurrentClaimsHaveOneWinner) {
  std::vector<std::future<sb::Result<sb::MeetingStore::Claim>>> claims;
  for (int i = 0; i < 16; ++i) {
    claims.push_back(std::async(std::launch::async, [this, i] {
      return stores_->meetings().claimMeeting(meeting("race", "s" + std::to_string(i)));
    }));
  }
  int winners = 0;
  std::set<std::string> owners;
  for (auto& f : claims) {
    auto c = f.get();
    ASSERT_TRUE(c.ok()) << c.error().message;
    winners += c->claimed ? 1 : 0;
    owners.insert(c->meeting.serverId);
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(owners.size(), 1u);
}

// The claims of concurrent creates in one call answer as if made one after the other: a new id
// wins, a live holder keeps its id, an orphaned one is replaced (and leaves its server's list),
// and a repeated id loses to its first claim.
TEST_P(StoreContractTest, SeveralClaimsInOneCallAnswerAsIfMadeInTurn) {
  auto& m = stores_->meetings();
  EXPECT_EQ(m.prefersClaimBatches(), GetParam()) << "only a store with round trips gathers claims";
  ASSERT_TRUE(m.claimMeeting(meeting("held", "s9"))->claimed);
  ASSERT_TRUE(m.claimMeeting(meeting("orphan", "s8"))->claimed);
  ASSERT_EQ(*m.orphanMeetingsOf("s8"), 1);
  std::vector<sb::Meeting> batch{meeting("new1", "s1"), meeting("held", "s2"),
                                 meeting("orphan", "s3"), meeting("new1", "s4"),
                                 meeting("new2", "s5")};
  auto claims = m.claimMeetings(batch);
  ASSERT_EQ(claims.size(), 5u);
  for (const auto& c : claims) ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(claims[0]->claimed);
  EXPECT_FALSE(claims[1]->claimed);
  EXPECT_EQ(claims[1]->meeting.serverId, "s9");
  EXPECT_TRUE(claims[2]->claimed);
  EXPECT_FALSE(claims[3]->claimed);
  EXPECT_EQ(claims[3]->meeting.serverId, "s1");
  EXPECT_TRUE(claims[4]->claimed);
  sb::Meeting got = **m.findMeeting("new1");
  EXPECT_EQ(got.serverId, "s1");
  EXPECT_EQ(got.createParams.params(), batch[0].createParams.params());
  EXPECT_EQ(got.createBody, "<modules/>");
  EXPECT_EQ(got.sizeHint, 40);
  EXPECT_EQ((**m.findMeeting("held")).serverId, "s9");
  EXPECT_EQ((**m.findMeeting("orphan")).serverId, "s3");
  EXPECT_FALSE((**m.findMeeting("orphan")).orphaned);
  EXPECT_TRUE(m.listMeetings("s8")->empty());
  EXPECT_EQ(m.listMeetings("s3")->size(), 1u);
  EXPECT_EQ(m.listMeetings("s5")->size(), 1u);
}

// Claim batches racing from many threads over overlapping ids (two routers' concurrent creates):
// exactly one winner per id, and every caller sees that winner.
TEST_P(StoreContractTest, RacingClaimBatchesHaveOneWinnerPerId) {
  constexpr int kThreads = 8;
  constexpr int kIds = 12;
  std::vector<std::future<std::vector<sb::Result<sb::MeetingStore::Claim>>>> batches;
  for (int t = 0; t < kThreads; ++t) {
    batches.push_back(std::async(std::launch::async, [this, t] {
      std::vector<sb::Meeting> batch;
      for (int i = 0; i < kIds; ++i) {
        // Half the threads go up the ids, half down: opposite orders must not deadlock.
        const int id = t % 2 ? i : kIds - 1 - i;
        batch.push_back(meeting("race-" + std::to_string(id), "s" + std::to_string(t)));
      }
      return stores_->meetings().claimMeetings(batch);
    }));
  }
  std::map<std::string, std::set<std::string>> owners;
  std::map<std::string, int> winners;
  for (auto& f : batches) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    for (const auto& c : f.get()) {
      ASSERT_TRUE(c.ok()) << c.error().message;
      owners[c->meeting.id].insert(c->meeting.serverId);
      winners[c->meeting.id] += c->claimed ? 1 : 0;
    }
  }
  ASSERT_EQ(owners.size(), static_cast<size_t>(kIds));
  for (const auto& [id, servers] : owners) {
    EXPECT_EQ(winners[id], 1) << id;
    EXPECT_EQ(servers.size(), 1u) << id;
    EXPECT_EQ((**stores_->meetings().findMeeting(id)).serverId, *servers.begin()) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContractTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RedisPostgres" : "Memory"; });

// ---- production faults, with router processes ------------------------------------------------

// A `switchboard router` child process on the shared store. Its log goes to the secret scan's
// directory when there is one (tests/integration/secret_scan.sh), else nowhere.
class RouterProcess {
 public:
  static std::string logFile(int port) {
    std::string dir = env("SB_SECRET_SCAN_DIR");
    return dir.empty() ? "/dev/null" : "'" + dir + "/log-router-" + std::to_string(port) + ".txt'";
  }
  RouterProcess(const sb::Config& c, int port, const std::string& extra = "") {
    std::string cmd = "REDIS_URL='" + c.store.redisUrl + "' DATABASE_URL='" + c.store.databaseUrl +
                      "' REDIS_NAMESPACE=" + c.store.redisNamespace +
                      " LOADBALANCER_SECRET=" + Router::kSecret +
                      " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken +
                      " SERVER_URL_ALLOWED_NETS=127.0.0.0/8 POLL_INTERVAL=1 " + extra + " exec " +
                      SB_BIN_DIR + "/switchboard router --bind 127.0.0.1 --port " +
                      std::to_string(port) + " >>" + logFile(port) + " 2>&1";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    base_ = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 200 && httpGet(base_ + "/healthz").status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~RouterProcess() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string apiUrl(const std::string& call, const std::string& query) const {
    return base_ + "/bigbluebutton/api/" + call + "?" + query + "&checksum=" +
           sb::computeChecksum(sb::ChecksumAlgorithm::kSha256, call, query, Router::kSecret);
  }
  HttpResult admin(const std::string& method, const std::string& path,
                   const std::string& body = "") const {
    return httpRequest(method, base_ + "/switchboard/api/v1" + path, body,
                       body.empty() ? "" : "application/json",
                       std::string("Bearer ") + Router::kToken);
  }
  const std::string& base() const { return base_; }

 private:
  pid_t pid_ = -1;
  std::string base_;
};

// A loopback port below the kernel's ephemeral range (32768+), where outgoing connections (to
// Redis, PostgreSQL, bbb-sim) take their local ports and could collide; checked free by binding.
int freePort() {
  static int next = 20000 + static_cast<int>(getpid() % 10000);
  for (int tries = 0; tries < 1000; ++tries) {
    int port = next++;
    if (next >= 32000) next = 20000;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  ADD_FAILURE() << "no free loopback port";
  return 0;
}

class SharedStoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = sharedConfig();
    resetDatabase(config_);
  }
  // Adds the sim's servers through `router` and waits until the in-process poller (on the same
  // shared store) sees them online.
  void addServers(const RouterProcess& router, const Sim& sim) {
    for (const auto& s : sim.servers()) {
      auto r =
          router.admin("POST", "/servers",
                       json{{"url", s.url}, {"secret", s.secret}, {"state", "enabled"}}.dump());
      ASSERT_EQ(r.status, 201) << r.body;
    }
    auto stores = openShared(config_);
    sb::Service poller(config_, sb::ServiceOptions{.runHttp = false, .runPoller = false},
                       std::move(stores));
    ASSERT_TRUE(poller.start().ok());
    poller.poller().pollOnce();
    poller.stop();
  }
  sb::Config config_;
};

TEST_F(SharedStoreFaultTest, RouterRefusesASchemaThatIsBehind) {
  std::string db = "sbtest_empty_" + std::to_string(getpid());
  {
    pqxx::connection conn(config_.store.databaseUrl);
    pqxx::nontransaction w(conn);
    w.exec("DROP DATABASE IF EXISTS " + db);
    w.exec("CREATE DATABASE " + db);
  }
  std::string url =
      config_.store.databaseUrl.substr(0, config_.store.databaseUrl.rfind('/') + 1) + db;
  std::string cmd = "REDIS_URL='" + config_.store.redisUrl + "' DATABASE_URL='" + url +
                    "' LOADBALANCER_SECRET=x " + SB_BIN_DIR +
                    "/switchboard router --bind 127.0.0.1 --port 0 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p)) out += buf;
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("switchboard migrate"), std::string::npos) << out;
  // After migrating, the same database is accepted (the router would run; we only check status).
  sb::Config migrated = config_;
  migrated.store.databaseUrl = url;
  auto applied = sb::migrateDatabase(migrated);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  std::string all = "applied " + std::to_string(sb::embeddedMigrations().size());
  EXPECT_NE(applied->find(all), std::string::npos) << *applied;
  auto again = sb::migrateDatabase(migrated);
  EXPECT_NE(again->find("applied 0"), std::string::npos);  // idempotent
  pqxx::connection conn(config_.store.databaseUrl);
  pqxx::nontransaction w(conn);
  w.exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}

TEST_F(SharedStoreFaultTest, TwoRoutersRacingOnOneMeetingPlaceItOnce) {
  Sim sim(4);
  RouterProcess a(config_, freePort()), b(config_, freePort());
  addServers(a, sim);
  std::vector<std::future<HttpResult>> creates;
  for (int i = 0; i < 200; ++i) {
    const RouterProcess& r = i % 2 ? a : b;
    creates.push_back(std::async(std::launch::async, [&r] {
      return httpGet(r.apiUrl("create", "name=Race&meetingID=race-2"));
    }));
  }
  int ok = 0;
  for (auto& f : creates) ok += xmlField(f.get().body, "returncode") == "SUCCESS" ? 1 : 0;
  EXPECT_EQ(ok, 200);
  int serversWithCreates = 0;
  for (const auto& s : sim.servers()) serversWithCreates += sim.requests(s.index, "create") > 0;
  EXPECT_EQ(serversWithCreates, 1);  // bbb-sim counted where creates arrived
}

// A burst of creates over two routers, their claims written in batches (one Redis script run and
// one PostgreSQL statement per batch): every create answers SUCCESS, every meeting is recorded
// once, the same in Redis and in PostgreSQL, on a server that got its create, and a repeated
// create lands where the first one did.
TEST_F(SharedStoreFaultTest, ABurstOfCreatesOverTwoRoutersIsRecordedInBothStores) {
  Sim sim(4);
  RouterProcess a(config_, freePort()), b(config_, freePort());
  addServers(a, sim);
  constexpr int kMeetings = 150;
  std::vector<std::future<HttpResult>> creates;
  for (int i = 0; i < kMeetings + kMeetings / 10; ++i) {
    const RouterProcess& r = i % 2 ? a : b;
    const std::string id = "burst-" + std::to_string(i % kMeetings);  // the last 15 repeat
    creates.push_back(std::async(std::launch::async, [&r, id] {
      return httpGet(r.apiUrl("create", "name=Burst&meetingID=" + id));
    }));
  }
  for (auto& f : creates) {
    HttpResult res = f.get();
    EXPECT_EQ(xmlField(res.body, "returncode"), "SUCCESS") << res.body;
  }
  int running = 0;
  std::set<std::string> serverUrls;
  for (const auto& s : sim.servers()) {
    running += sim.meetingCount(s.index);
    serverUrls.insert(s.url);
  }
  EXPECT_EQ(running, kMeetings) << "each meeting runs on one server, repeats included";

  auto parsedUrl = sb::parseRedisUrl(config_.store.redisUrl);
  ASSERT_TRUE(parsedUrl.ok()) << "[" << config_.store.redisUrl << "] " << parsedUrl.error().message;
  auto redis = std::make_shared<sb::RedisConnection>(*parsedUrl);
  sb::RedisMeetingStore cached(redis, sb::RedisKeys(config_.store.redisNamespace));
  auto stores = openShared(config_);
  std::map<std::string, std::string> urlOf;
  auto servers = stores->servers().listServers();
  ASSERT_TRUE(servers.ok());
  for (const auto& s : *servers) urlOf[s.id] = s.url;
  pqxx::connection conn(config_.store.databaseUrl);
  pqxx::nontransaction w(conn);
  pqxx::result rows = w.exec("SELECT id, server_id FROM meetings WHERE id LIKE 'burst-%'");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kMeetings));
  for (const auto& row : rows) {
    const std::string id = row[0].as<std::string>(), server = row[1].as<std::string>();
    EXPECT_TRUE(serverUrls.contains(urlOf[server])) << id << " on " << server;
    auto inRedis = cached.findMeeting(id);
    ASSERT_TRUE(inRedis.ok() && inRedis->has_value()) << id;
    EXPECT_EQ((*inRedis)->serverId, server) << id;
  }
  auto listed = cached.listMeetings("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), static_cast<size_t>(kMeetings));
}

// With the join cache on (its default, 1 s), router B answers joins from memory; router A moves
// the meeting. Once A has acknowledged the move, B never sends anyone to the old server.
TEST_F(SharedStoreFaultTest, AMovedMeetingIsNeverJoinedOnItsOldServerAfterTheMoveIsAcknowledged) {
  Sim sim(2);
  RouterProcess a(config_, freePort(), "JOIN_CACHE_TTL=1"),
      b(config_, freePort(), "JOIN_CACHE_TTL=1");
  addServers(a, sim);
  ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=M&meetingID=moving")).body, "returncode"),
            "SUCCESS");
  auto hostOf = [](const std::string& location) {
    return location.substr(0, location.find("/bigbluebutton"));
  };
  std::string joinUrl = b.apiUrl("join", "fullName=A&role=VIEWER&meetingID=moving");
  std::string oldHost = hostOf(httpGet(joinUrl).location);
  ASSERT_FALSE(oldHost.empty());
  auto meetings = json::parse(a.admin("GET", "/meetings").body)["meetings"];
  std::string from = meetings[0]["server_id"];
  auto servers = json::parse(a.admin("GET", "/servers").body)["servers"];
  std::string to = servers[0]["id"] == from ? servers[1]["id"] : servers[0]["id"];

  // Joins on B all along; each records when it was sent and where it went.
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> stop{false};
  std::vector<std::pair<Clock::time_point, std::string>> answers;
  std::thread joiner([&] {
    while (!stop) {
      auto sent = Clock::now();
      auto r = httpGet(joinUrl);
      if (r.status == 302) answers.emplace_back(sent, hostOf(r.location));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto moved = a.admin("POST", "/meetings/moving/move", json{{"to", to}}.dump());
  Clock::time_point acknowledged = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  joiner.join();
  ASSERT_EQ(moved.status, 200) << moved.body;
  int before = 0, after = 0;
  for (const auto& [at, host] : answers) {
    if (at <= acknowledged) {
      ++before;
      continue;
    }
    ++after;
    EXPECT_NE(host, oldHost) << "joined on the old server after the move was acknowledged";
  }
  EXPECT_GT(before, 10);
  EXPECT_GT(after, 10);
}

TEST_F(SharedStoreFaultTest, RedisFlushLosesNoMeetingOrServer) {
  Sim sim(2);
  RouterProcess a(config_, freePort());
  addServers(a, sim);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=f" + std::to_string(i))).body,
                       "returncode"),
              "SUCCESS");
  }
  std::map<std::string, std::string> before;
  for (int i = 0; i < 5; ++i) {
    auto j = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=f" + std::to_string(i)));
    before["f" + std::to_string(i)] = j.location.substr(0, j.location.find("/bigbluebutton"));
  }
  ASSERT_EQ(run("redis-cli -u '" + config_.store.redisUrl + "' FLUSHALL >/dev/null"), 0);
  for (int i = 0; i < 5; ++i) {
    auto j = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=f" + std::to_string(i)));
    ASSERT_EQ(j.status, 302) << j.body;
    EXPECT_EQ(j.location.substr(0, j.location.find("/bigbluebutton")),
              before["f" + std::to_string(i)]);
  }
  auto servers = json::parse(a.admin("GET", "/servers").body)["servers"];
  EXPECT_EQ(servers.size(), 2u);
  // A restart of Redis without persistence is the same, and a new router starts on it.
  ASSERT_EQ(run(env("TEST_REDIS_RESTART_CMD")), 0);
  RouterProcess b(config_, freePort());
  auto j = httpGet(b.apiUrl("join", "fullName=A&role=VIEWER&meetingID=f3"));
  ASSERT_EQ(j.status, 302) << j.body;
  EXPECT_EQ(j.location.substr(0, j.location.find("/bigbluebutton")), before["f3"]);
}

// A create claims without looking the meeting up first; after a Redis flush the claim of a running
// meeting must still lose to PostgreSQL's record, so the create goes to the server it runs on.
// Issue 18 item 9: one create with a 3,000-character meetingID among concurrent creates made
// most of them fail (their claims went to PostgreSQL in one statement, which the long ID failed).
// The long ID is refused before any store sees it (BBB's bound: 256 characters), and a batch
// that fails is claimed one by one (db/pg_store, tested there).
TEST_F(SharedStoreFaultTest, OneCreateWithAnOverlongMeetingIdFailsNoOtherCreate) {
  Sim sim(2);
  RouterProcess router(config_, freePort());
  addServers(router, sim);
  std::string huge;
  uint32_t x = 777;
  for (int i = 0; i < 3000; ++i) {
    x = x * 1103515245 + 12345;
    huge += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[(x >> 16) % 62];
  }
  constexpr int kCreates = 96;
  std::vector<std::future<HttpResult>> creates;
  for (int i = 0; i <= kCreates; ++i) {
    const std::string id = i == kCreates / 2 ? huge : "ordinary-" + std::to_string(i);
    creates.push_back(std::async(std::launch::async, [&router, id] {
      return httpGet(router.apiUrl("create", "name=Ordinary&meetingID=" + id));
    }));
  }
  int failed = 0;
  for (int i = 0; i <= kCreates; ++i) {
    HttpResult res = creates[i].get();
    if (i == kCreates / 2) {
      EXPECT_EQ(xmlField(res.body, "messageKey"), "validationError") << res.body;
    } else if (xmlField(res.body, "returncode") != "SUCCESS") {
      ++failed;
      ADD_FAILURE() << "create " << i << ": " << res.body;
    }
  }
  EXPECT_EQ(failed, 0);
}

TEST_F(SharedStoreFaultTest, ACreateAfterARedisFlushGoesWhereTheMeetingRuns) {
  Sim sim(2);
  RouterProcess a(config_, freePort());
  addServers(a, sim);
  ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=flushed&moderatorPW=mp")).body,
                     "returncode"),
            "SUCCESS");
  int holder = sim.requests(1, "create") > 0 ? 1 : 2;
  ASSERT_EQ(sim.requests(3 - holder, "create"), 0);
  ASSERT_EQ(run("redis-cli -u '" + config_.store.redisUrl + "' FLUSHALL >/dev/null"), 0);
  // The other server is now the emptier one (its load is not in the flushed Redis either), so a
  // fresh placement could pick it; the create must go to the holder.
  auto again = httpGet(a.apiUrl("create", "name=R&meetingID=flushed&moderatorPW=mp"));
  EXPECT_EQ(xmlField(again.body, "returncode"), "SUCCESS") << again.body;
  EXPECT_EQ(sim.requests(holder, "create"), 2);
  EXPECT_EQ(sim.requests(3 - holder, "create"), 0);
  auto meetings = json::parse(a.admin("GET", "/meetings").body)["meetings"];
  ASSERT_EQ(meetings.size(), 1u);
}

TEST_F(SharedStoreFaultTest, PostgresOutageJoinsWorkCreatesFailClearlyAndItRecovers) {
  Sim sim(2);
  RouterProcess a(config_, freePort());
  addServers(a, sim);
  ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=pg-1")).body, "returncode"),
            "SUCCESS");
  ASSERT_EQ(run(env("TEST_PG_STOP_CMD") + " >/dev/null"), 0);
  auto join = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=pg-1"));
  EXPECT_EQ(join.status, 302) << join.body;  // served from Redis
  auto start = std::chrono::steady_clock::now();
  auto create = httpGet(a.apiUrl("create", "name=R&meetingID=pg-2"));
  EXPECT_EQ(xmlField(create.body, "returncode"), "FAILED");
  EXPECT_EQ(xmlField(create.body, "messageKey"), "internalError");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));  // bounded
  // Ready, degraded: joins go on (taking every router out of the load balancer would stop them).
  auto ready = httpGet(a.base() + "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body.rfind("OK degraded: ", 0), 0u) << ready.body;
  EXPECT_NE(ready.body.find("creates fail"), std::string::npos) << ready.body;
  auto stat = json::parse(httpGet(a.base() + "/stat").body);
  EXPECT_TRUE(stat["degraded"].is_string()) << stat.dump();
  EXPECT_NE(httpGet(a.base() + "/metrics").body.find("switchboard_degraded 1"), std::string::npos);
  ASSERT_EQ(run(env("TEST_PG_START_CMD") + " >/dev/null"), 0);
  bool recovered = false;
  for (int i = 0; i < 50 && !recovered; ++i) {
    recovered = xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=pg-3")).body, "returncode") ==
                "SUCCESS";
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(recovered);
  EXPECT_EQ(httpGet(a.base() + "/readyz").body, "OK\n");
  EXPECT_TRUE(json::parse(httpGet(a.base() + "/stat").body)["degraded"].is_null());
  // The failed create left no half-made mapping.
  auto info = httpGet(a.apiUrl("getMeetingInfo", "meetingID=pg-2"));
  EXPECT_EQ(xmlField(info.body, "messageKey"), "notFound");
}

TEST_F(SharedStoreFaultTest, StandbyPollerTakesOverWithinTheLease) {
  auto storesA = openShared(config_);
  auto storesB = openShared(config_);
  sb::Config fast = config_;
  fast.poller.interval = std::chrono::milliseconds(200);
  auto a =
      std::make_unique<sb::Service>(fast, sb::ServiceOptions{.runHttp = false}, std::move(storesA));
  sb::Service b(fast, sb::ServiceOptions{.runHttp = false}, std::move(storesB));
  ASSERT_TRUE(a->start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(b.start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(a->poller().isActive());
  EXPECT_FALSE(b.poller().isActive());  // exactly one is active
  // Simulate a crash: the lease is not released, the standby must wait for it to expire.
  a.reset();  // (a clean stop releases it; the takeover bound below covers both)
  auto start = std::chrono::steady_clock::now();
  while (!b.poller().isActive() &&
         std::chrono::steady_clock::now() - start < config_.store.leaseTtl * 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(b.poller().isActive());
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            config_.store.leaseTtl + std::chrono::seconds(1));
  b.stop();
}

// Restarts Redis (without its data) when it goes out of scope, so a failing test leaves the
// shared test Redis running for the next ones.
struct RedisBackOnExit {
  ~RedisBackOnExit() { (void)run(env("TEST_REDIS_RESTART_CMD") + " >/dev/null 2>&1"); }
};
struct PostgresBackOnExit {
  ~PostgresBackOnExit() { (void)run(env("TEST_PG_START_CMD") + " >/dev/null 2>&1"); }
};

// Issue 17 item 4: after a Redis wipe, routes came back only as meetings were looked up; with
// PostgreSQL failing next, every meeting not joined since the wipe answered notFound. Every
// process now refills Redis from PostgreSQL within seconds of noticing the wipe.
TEST_F(SharedStoreFaultTest, ARedisWipeIsRefilledEagerlySoAPostgresOutageAfterItLosesNoRoute) {
  PostgresBackOnExit pgBack;
  Sim sim(2);
  RouterProcess a(config_, freePort());
  addServers(a, sim);
  std::map<std::string, std::string> home;
  for (int i = 0; i < 4; ++i) {
    std::string id = "wiped-" + std::to_string(i);
    ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=" + id)).body, "returncode"),
              "SUCCESS");
    auto j = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=" + id));
    home[id] = j.location.substr(0, j.location.find("/bigbluebutton"));
  }
  ASSERT_EQ(run("redis-cli -u '" + config_.store.redisUrl + "' FLUSHALL >/dev/null"), 0);
  // No lookup in between: the router's housekeeping notices the wipe and refills Redis.
  sb::RedisKeys keys(config_.store.redisNamespace);
  const std::string exists = "redis-cli -u '" + config_.store.redisUrl + "' EXISTS '" +
                             keys.meeting("wiped-3") + "' | grep -q 1";
  bool refilled = false;
  for (int i = 0; i < 60 && !refilled; ++i) {
    refilled = run(exists) == 0;
    if (!refilled) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(refilled) << "redis was not refilled from postgres within 12 s";
  ASSERT_EQ(run(env("TEST_PG_STOP_CMD") + " >/dev/null"), 0);
  for (const auto& [id, host] : home) {
    auto j = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=" + id));
    ASSERT_EQ(j.status, 302) << id << ": " << j.body;
    EXPECT_EQ(j.location.substr(0, j.location.find("/bigbluebutton")), host) << id;
  }
}

// Issue 17 item 4, second half: a meeting neither store knows (or stores that fail) is joined
// where the poller last saw it running.
TEST_F(SharedStoreFaultTest, AJoinNoStoreCanAnswerFollowsThePollSnapshots) {
  PostgresBackOnExit pgBack;
  Sim sim(2);
  RouterProcess a(config_, freePort());
  addServers(a, sim);
  ASSERT_EQ(xmlField(httpGet(a.apiUrl("create", "name=R&meetingID=seen&moderatorPW=mp")).body,
                     "returncode"),
            "SUCCESS");
  const int holder = sim.meetingCount(1) == 1 ? 1 : 2;
  {
    auto stores = openShared(config_);
    sb::Service poller(config_, sb::ServiceOptions{.runHttp = false, .runPoller = false},
                       std::move(stores));
    ASSERT_TRUE(poller.start().ok());
    poller.poller().pollOnce();  // the snapshot that lists it
    poller.stop();
  }
  ASSERT_EQ(run(env("TEST_PG_STOP_CMD") + " >/dev/null"), 0);
  sb::RedisKeys keys(config_.store.redisNamespace);
  ASSERT_EQ(run("redis-cli -u '" + config_.store.redisUrl + "' DEL '" + keys.meeting("seen") +
                "' >/dev/null"),
            0);
  auto j = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=seen"));
  ASSERT_EQ(j.status, 302) << j.body;
  EXPECT_EQ(j.location.rfind(sim.servers()[holder - 1].url, 0), 0u) << j.location;
  // A meeting nobody runs is still notFound.
  auto unknown = httpGet(a.apiUrl("join", "fullName=A&role=VIEWER&meetingID=nobody"));
  EXPECT_EQ(xmlField(unknown.body, "messageKey"), "notFound");
}

// Issue 17 item 5: while Redis was down both pollers stood by, so nothing was polled and a BBB
// server dying then was never failed over. The lease falls back to PostgreSQL: exactly one
// poller stays active, and it marks the dead server offline.
TEST_F(SharedStoreFaultTest, PollingAndFailoverGoOnWhileRedisIsDown) {
  RedisBackOnExit redisBack;
  Sim sim(2);
  {
    RouterProcess a(config_, freePort());
    addServers(a, sim);
  }
  sb::Config fast = config_;
  fast.poller.interval = std::chrono::milliseconds(300);
  fast.poller.pollTimeout = std::chrono::milliseconds(500);
  fast.store.timeout = std::chrono::milliseconds(300);
  sb::Service p1(fast, sb::ServiceOptions{.runHttp = false}, openShared(fast));
  sb::Service p2(fast, sb::ServiceOptions{.runHttp = false}, openShared(fast));
  ASSERT_TRUE(p1.start().ok());
  ASSERT_TRUE(p2.start().ok());
  ASSERT_EQ(run("redis-cli -u '" + config_.store.redisUrl +
                "' SHUTDOWN NOSAVE >/dev/null 2>&1; "
                "sleep 0.2"),
            0);
  // Within two lease TTLs exactly one poller is active, on PostgreSQL's lease alone.
  auto deadline =
      std::chrono::steady_clock::now() + 2 * fast.store.leaseTtl + std::chrono::seconds(1);
  int active = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    active = int(p1.poller().isActive()) + int(p2.poller().isActive());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(active, 1);
  sim.fault(1, {{"down", true}});
  const std::string dead = sim.servers()[0].url;
  bool offline = false;
  for (int i = 0; i < 60 && !offline; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto list = p1.servers().listServers();  // PostgreSQL answers while Redis is down
    if (!list) continue;
    for (const auto& s : *list) offline = offline || (s.url == dead && !s.live.online);
  }
  EXPECT_TRUE(offline) << "the dead server was not marked offline while Redis was down";
  // A router on these stores is ready, degraded, meanwhile.
  RouterProcess r(config_, freePort());
  auto ready = httpGet(r.base() + "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body.rfind("OK degraded: ", 0), 0u) << ready.body;
  p1.stop();
  p2.stop();
}

}  // namespace
}  // namespace sbtest
