// The Redis adapters against a real redis-server.
//
// Most tests use the Redis named by REDIS_URL (scripts/test.sh starts one and exports it), each
// under its own random namespace so parallel runs do not collide; they FAIL, not skip, when
// REDIS_URL is unset or Redis is unreachable. The tests that stop, pause and restart Redis (and
// the one that looks at every key of a database) start a private redis-server child process on a
// free loopback port instead, so they never disturb the shared one.
//
// The contract tests mirror tests/unit/memory_store_test.cc: the Redis stores must behave exactly
// like the memory store.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <latch>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db/cached_tenant_store.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"
#include "db/redis_link_registry.h"
#include "db/redis_store.h"
#include "db/redis_tenant_quota.h"
#include "tests/integration/store_expectations.h"
#include "tests/unit/tenant_quota_contract.h"
#include "tests/unit/tenant_store_contract.h"

namespace sb {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---- helpers ----------------------------------------------------------------------------------

std::string randomNamespace(std::string_view prefix = "sbtest") {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::ostringstream out;
  out << prefix << "-" << std::hex << gen();
  return out.str();
}

std::string urlFor(const std::string& id) {
  return "https://" + id + ".example.com/bigbluebutton/api/";
}

Server makeServer(const std::string& id, double load = 0, const std::string& tag = "",
                  AdminState state = AdminState::kEnabled, bool online = true) {
  Server s;
  s.id = id;
  s.url = urlFor(id);
  s.secret = "secret-" + id;
  s.tag = tag;
  s.state = state;
  s.live.online = online;
  s.live.load = load;
  return s;
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

long long elapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

// The options for REDIS_URL; fails the test when it is unset or does not parse.
::testing::AssertionResult sharedRedisOptions(RedisOptions& out) {
  const char* url = std::getenv("REDIS_URL");
  if (url == nullptr || *url == '\0') {
    return ::testing::AssertionFailure()
           << "REDIS_URL is not set: the Redis store tests need a real redis-server "
              "(scripts/test.sh starts one; or run `redis-server --port 16390 --save '' "
              "--appendonly no --daemonize yes` and export REDIS_URL=redis://127.0.0.1:16390/0)";
  }
  auto options = parseRedisUrl(url);
  if (!options.ok()) return ::testing::AssertionFailure() << options.error().message;
  out = *options;
  return ::testing::AssertionSuccess();
}

int freeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool acceptsConnections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A private redis-server child process (no persistence) that a test may stop, pause and restart.
class RedisProcess {
 public:
  explicit RedisProcess(std::string password = "")
      : port_(freeLoopbackPort()), password_(std::move(password)) {}
  ~RedisProcess() {
    resume();
    stop();
  }

  ::testing::AssertionResult start() {
    if (port_ <= 0) return ::testing::AssertionFailure() << "no free port";
    std::vector<std::string> args{
        "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
        "--save",       "",       "--appendonly",        "no",     "--dir",
        "/tmp"};
    if (!password_.empty()) {
      args.push_back("--requirepass");
      args.push_back(password_);
    }
    pid_ = fork();
    if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    for (int i = 0; i < 250; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure()
               << "redis-server exited at start (is it installed? port " << port_ << " busy?)";
      }
      if (acceptsConnections(port_)) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(milliseconds(20));
    }
    return ::testing::AssertionFailure() << "redis-server did not listen on port " << port_;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }

  // Short timeouts keep the failure tests quick.
  RedisOptions options(int db = 0) const {
    RedisOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.password = password_;
    o.db = db;
    o.connectTimeout = milliseconds(300);
    o.commandTimeout = milliseconds(300);
    return o;
  }

 private:
  int port_;
  std::string password_;
  pid_t pid_ = -1;
};

// Routes spdlog's default logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink_->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

int countOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// ---- fixture on the shared Redis --------------------------------------------------------------

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sharedRedisOptions(options_));
    redis_ = std::make_shared<RedisConnection>(options_);
    Status ping = redis_->ping();
    ASSERT_TRUE(ping.ok()) << "Redis at " << options_.endpoint()
                           << " (REDIS_URL) is unreachable: " << ping.error().message;
    keys_ = RedisKeys(randomNamespace());
  }
  void TearDown() override {
    if (redis_) {
      EXPECT_TRUE(flushRedisNamespace(*redis_, keys_).ok());
    }
  }

  RedisOptions options_;
  std::shared_ptr<RedisConnection> redis_;
  RedisKeys keys_;
};

class RedisServerStoreTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisServerStore>(redis_, keys_);
  }
  ServerStore& servers() { return *store_; }
  std::unique_ptr<RedisServerStore> store_;
};

class RedisMeetingStoreTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisMeetingStore>(redis_, keys_);
  }
  MeetingStore& meetings() { return *store_; }
  std::unique_ptr<RedisMeetingStore> store_;
};

class RedisLeaderLeaseTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    lease_ = std::make_unique<RedisLeaderLease>(redis_, keys_);
  }
  std::unique_ptr<RedisLeaderLease> lease_;
};

using RedisConnectionTest = RedisTest;

// ---- URL parsing ------------------------------------------------------------------------------

TEST(RedisUrlTest, ParsesEveryPart) {
  auto o = parseRedisUrl("redis://user:p%40ss:w@redis.example.com:6380/2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->username, "user");
  EXPECT_EQ(o->password, "p@ss:w");
  EXPECT_EQ(o->host, "redis.example.com");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 2);
  EXPECT_EQ(o->endpoint(), "redis.example.com:6380/2");
  EXPECT_EQ(o->connectTimeout, milliseconds(1000));
  EXPECT_EQ(o->commandTimeout, milliseconds(1000));
}

TEST(RedisUrlTest, DefaultsAndShortForms) {
  auto plain = parseRedisUrl("redis://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "localhost");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  EXPECT_TRUE(plain->password.empty());
  EXPECT_TRUE(plain->username.empty());

  auto passwordOnly = parseRedisUrl("redis://:secret@127.0.0.1:16390/0");
  ASSERT_TRUE(passwordOnly.ok());
  EXPECT_EQ(passwordOnly->password, "secret");
  EXPECT_TRUE(passwordOnly->username.empty());
  EXPECT_EQ(passwordOnly->port, 16390);

  auto slash = parseRedisUrl("redis://h:7000/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->db, 0);

  auto v6 = parseRedisUrl("redis://[::1]:7001/3");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7001);
  EXPECT_EQ(v6->endpoint(), "[::1]:7001/3");
}

TEST(RedisUrlTest, RejectsMalformedUrlsWithoutEchoingThePassword) {
  for (const char* url :
       {"http://h:6379", "rediss://:topsecret@h:6379", "redis://", "redis://:topsecret@",
        "redis://h:0", "redis://:topsecret@h:65536", "redis://:topsecret@h:abc",
        "redis://:topsecret@h/x", "redis://:top%zzsecret@h", "redis://h?timeout=1", "redis://[::1",
        "redis://h:"}) {
    auto o = parseRedisUrl(url);
    ASSERT_FALSE(o.ok()) << url;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(o.error().message.find("topsecret"), std::string::npos) << o.error().message;
  }
}

TEST(RedisKeysTest, EveryKeyIsUnderTheNamespace) {
  RedisKeys keys("ns1");
  EXPECT_EQ(keys.server("a"), "ns1:server:a");
  EXPECT_EQ(keys.servers(), "ns1:servers");
  EXPECT_EQ(keys.serverUrls(), "ns1:server_urls");
  EXPECT_EQ(keys.meeting("m:1"), "ns1:meeting:m:1");
  EXPECT_EQ(keys.meeting("m"), keys.meetingPrefix() + "m");
  EXPECT_EQ(keys.meetings(), "ns1:meetings");
  EXPECT_EQ(keys.serverMeetings("s"), "ns1:server_meetings:s");
  EXPECT_EQ(keys.serverMeetings("s"), keys.serverMeetingsPrefix() + "s");
  EXPECT_EQ(keys.lease("poller"), "ns1:lease:poller");
  EXPECT_EQ(keys.usedLink("j1"), "ns1:used_link:j1");
  EXPECT_EQ(keys.pattern(), "ns1:*");
  EXPECT_EQ(RedisKeys("a*b[c]").pattern(), "a\\*b\\[c\\]:*");
  EXPECT_EQ(RedisKeys().ns(), "switchboard");
}

// A protected recording's link is used once across the routers sharing Redis, and forgotten
// once it has expired (the link is refused by then anyway).
TEST_F(RedisTest, ALinkIsUsedOnceAndForgottenWhenItExpires) {
  RedisLinkRegistry a(redis_, keys_), b(redis_, keys_);
  auto first = a.useOnce("link-1", 1000, 1300);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*b.useOnce("link-1", 1000, 1300)) << "the other router sees it used";
  EXPECT_TRUE(*b.useOnce("link-2", 1000, 1300));
  auto ttl = redis_->command({"PTTL", keys_.usedLink("link-1")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 300) << "kept only until the link expires";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(*a.useOnce("link-1", 1400, 1700)) << "forgotten after its expiry";
}

// ---- servers: the memory store's contract -----------------------------------------------------

// ---- snapshots -------------------------------------------------------------------------------

// A router whose clock is a minute behind the poller's marks a create: dated by the router's
// clock, the mark would fall before a snapshot taken before the create, which would then look
// usable without the meeting. Marks and snapshot times both come from Redis's clock.
TEST_F(RedisTest, SnapshotMarksAreDatedByRedisClockNotTheRouters) {
  RedisSnapshotStore snapshots(redis_, keys_, std::chrono::seconds(60));
  const int64_t local = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  auto takenAt = snapshots.timeMs(0);  // the poller's round start, before its requests go out
  ASSERT_TRUE(takenAt.ok()) << takenAt.error().message;
  EXPECT_NEAR(static_cast<double>(*takenAt), static_cast<double>(local), 5000.0)
      << "Redis's clock, on this machine";
  ASSERT_TRUE(snapshots.putSnapshot("a", *takenAt, "<meeting>old</meeting>").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(snapshots.markChanged("a", local - 60'000).ok());  // the router's clock, behind
  auto v = snapshots.versions({"a"});
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_TRUE((*v)[0]);
  EXPECT_GT((*v)[0]->changedAtMs, *takenAt);
  EXPECT_FALSE((*v)[0]->usable(*takenAt + 10, 60'000)) << "the create's mark is after the poll";
}

TEST_F(RedisServerStoreTest, AddGetAndListOrderedById) {
  ASSERT_TRUE(servers().addServer(makeServer("c")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("a", 3, "t")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("b")).ok());
  auto all = servers().listServers();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(idsOf(*all), (std::vector<std::string>{"a", "b", "c"}));
  auto a = servers().getServer("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, urlFor("a"));
  EXPECT_EQ(a->secret, "secret-a");
  EXPECT_EQ(a->tag, "t");
  EXPECT_DOUBLE_EQ(a->live.load, 3);
}

TEST_F(RedisServerStoreTest, GetMissingIsNotFound) {
  auto s = servers().getServer("nope");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
}

TEST_F(RedisServerStoreTest, DuplicateIdRejected) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server other = makeServer("a");
  other.url = "https://elsewhere.example.com/bigbluebutton/api/";
  Status s = servers().addServer(other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  // The rejected add reserved nothing: its URL is still free.
  Server c = makeServer("c");
  c.url = other.url;
  EXPECT_TRUE(servers().addServer(c).ok());
}

TEST_F(RedisServerStoreTest, DuplicateUrlRejected) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server b = makeServer("b");
  b.url = urlFor("a");
  Status s = servers().addServer(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(idsOf(*servers().listServers()), std::vector<std::string>{"a"});
}

TEST_F(RedisServerStoreTest, UpdateKeepsLiveState) {
  Server a = makeServer("a", 42);
  a.live.usage.meetings = 3;
  ASSERT_TRUE(servers().addServer(a).ok());
  Server changed = makeServer("a", /*load=*/0, "t2", AdminState::kCordoned, /*online=*/false);
  changed.secret = "new-secret";
  changed.loadMultiplier = 2;
  changed.maxUsers = 100;
  changed.maxMeetings = 7;
  ASSERT_TRUE(servers().updateServer(changed).ok());
  auto got = servers().getServer("a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tag, "t2");
  EXPECT_EQ(got->secret, "new-secret");
  EXPECT_EQ(got->state, AdminState::kCordoned);
  EXPECT_DOUBLE_EQ(got->loadMultiplier, 2);
  EXPECT_EQ(got->maxUsers, 100);
  EXPECT_EQ(got->maxMeetings, 7);
  EXPECT_TRUE(got->live.online);
  EXPECT_DOUBLE_EQ(got->live.load, 42);
  EXPECT_EQ(got->live.usage.meetings, 3);
}

TEST_F(RedisServerStoreTest, UpdateMissingOrToATakenUrlFails) {
  EXPECT_EQ(servers().updateServer(makeServer("x")).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(servers().getServer("x").ok()) << "a failed update must not create the server";
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("b")).ok());
  Server b = makeServer("b");
  b.url = urlFor("a");
  EXPECT_EQ(servers().updateServer(b).error().code, ErrorCode::kAlreadyExists);
  // Its own URL is fine.
  EXPECT_TRUE(servers().updateServer(makeServer("b")).ok());
}

TEST_F(RedisServerStoreTest, UpdateMovesTheUrlIndex) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server moved = makeServer("a");
  moved.url = urlFor("a2");
  ASSERT_TRUE(servers().updateServer(moved).ok());
  EXPECT_EQ(servers().getServer("a")->url, urlFor("a2"));
  // The old URL is free, the new one taken.
  Server b = makeServer("b");
  b.url = urlFor("a");
  EXPECT_TRUE(servers().addServer(b).ok());
  Server c = makeServer("c");
  c.url = urlFor("a2");
  EXPECT_EQ(servers().addServer(c).error().code, ErrorCode::kAlreadyExists);
}

TEST_F(RedisServerStoreTest, UpdateLiveStateReplacesIt) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 5)).ok());
  ServerLiveState live;
  live.online = false;
  live.load = 7;
  live.bbbVersion = "2.7.1";
  ASSERT_TRUE(servers().updateLiveState("a", live).ok());
  auto got = servers().getServer("a");
  EXPECT_FALSE(got->live.online);
  EXPECT_DOUBLE_EQ(got->live.load, 7);
  EXPECT_EQ(got->live.bbbVersion, "2.7.1");
  EXPECT_EQ(servers().updateLiveState("zz", live).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(servers().getServer("zz").error().code, ErrorCode::kNotFound)
      << "a live-state write for a missing server must not create a half record";
}

TEST_F(RedisServerStoreTest, RemoveServer) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers().removeServer("a").ok());
  EXPECT_FALSE(servers().getServer("a").ok());
  EXPECT_TRUE(servers().listServers()->empty());
  EXPECT_EQ(servers().removeServer("a").error().code, ErrorCode::kNotFound);
  // The URL is free again.
  EXPECT_TRUE(servers().addServer(makeServer("a")).ok());
}

TEST_F(RedisServerStoreTest, ReservationsAccumulateAndNeverGoNegative) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 10)).ok());
  ASSERT_TRUE(servers().reserve("a", 15, 1).ok());
  EXPECT_DOUBLE_EQ(servers().getServer("a")->live.load, 25);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 1);
  ASSERT_TRUE(servers().reserve("a", -30, -2).ok());
  EXPECT_DOUBLE_EQ(servers().getServer("a")->live.load, 0);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 0);
  EXPECT_EQ(servers().reserve("gone", 1, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(servers().getServer("gone").error().code, ErrorCode::kNotFound);
}

TEST_F(RedisServerStoreTest, ReserveManyWritesEachServerInOneStepAndSkipsGoneOnes) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 10)).ok());
  ASSERT_TRUE(servers().addServer(makeServer("b", 0.1)).ok());
  const std::vector<ServerStore::Reservation> batch{
      {"a", 15, 1}, {"gone", 99, 9}, {"b", 0.2, 2}, {"a", -40, -3}};
  ASSERT_TRUE(servers().reserveMany(batch).ok()) << "a gone server is skipped, not an error";
  EXPECT_DOUBLE_EQ(servers().getServer("a")->live.load, 0) << "clamped at 0 like reserve";
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 0);
  EXPECT_EQ(servers().getServer("b")->live.load, 0.1 + 0.2) << "the same double arithmetic";
  EXPECT_EQ(servers().getServer("b")->live.usage.meetings, 2);
  EXPECT_EQ(servers().getServer("gone").error().code, ErrorCode::kNotFound) << "not created";
  EXPECT_TRUE(servers().reserveMany({}).ok());
}

TEST_F(RedisServerStoreTest, ReserveUsesDoubleArithmeticLikeTheMemoryStore) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 0.1)).ok());
  ASSERT_TRUE(servers().reserve("a", 0.2, 0).ok());
  EXPECT_EQ(servers().getServer("a")->live.load, 0.1 + 0.2);  // 0.30000000000000004, exactly
  ASSERT_TRUE(servers().reserve("a", 1.0 / 3.0, 0).ok());
  EXPECT_EQ(servers().getServer("a")->live.load, (0.1 + 0.2) + 1.0 / 3.0);
}

TEST_F(RedisServerStoreTest, CompareAndSetStateOnlyFromTheExpectedState) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server s = *servers().getServer("a");
  s.state = AdminState::kCordoned;
  ASSERT_TRUE(servers().updateServer(s).ok());
  EXPECT_FALSE(*servers().compareAndSetState("a", AdminState::kEnabled, AdminState::kDisabled));
  EXPECT_EQ(servers().getServer("a")->state, AdminState::kCordoned);
  EXPECT_TRUE(*servers().compareAndSetState("a", AdminState::kCordoned, AdminState::kDisabled));
  EXPECT_EQ(servers().getServer("a")->state, AdminState::kDisabled);
  EXPECT_EQ(
      servers().compareAndSetState("zz", AdminState::kEnabled, AdminState::kDisabled).error().code,
      ErrorCode::kNotFound);
}

// ---- servers: exactness and atomicity ---------------------------------------------------------

TEST_F(RedisServerStoreTest, RoundTripsEveryFieldExactly) {
  Server s;
  s.id = "srv:1/ü*";
  s.url = "https://bbb-ü.example.com:8443/bigbluebutton/api/";
  s.secret = std::string("se\0cr\"et\n", 9);
  s.tag = "eu-west";
  s.state = AdminState::kCordoned;
  s.loadMultiplier = 1.0 / 3.0;
  s.maxUsers = 250;
  s.maxMeetings = 17;
  s.wsUrl = "ws://bbb.example.com:8188";
  s.wssUrl = "wss://bbb.example.com:8989/ws";
  s.maxConnections = 1234;
  s.removeWhenDrained = false;  // the two flags differ: swapped columns would show
  s.addedByOperator = true;
  s.live.online = true;
  s.live.load = 0.1 + 0.2;
  s.live.usage = ServerUsage{3, 42, 20, 5, 7};
  s.live.bbbVersion = "2.7.3";
  s.live.healthyCount = 2;
  s.live.unhealthyCount = 1;
  s.live.lastPollMs = 1'712'345'678'901;
  s.live.pollLatencyMs = 37;
  s.live.lastError = "timeout: \"x\"\n";
  ASSERT_TRUE(servers().addServer(s).ok());
  auto got = servers().getServer(s.id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  expectSameServer(*got, s);
  auto all = servers().listServers();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  expectSameServer(all->front(), s);

  // Every live field through updateLiveState, and the inventory through updateServer.
  ServerLiveState live;
  live.online = false;
  live.load = 1e-300;
  live.usage = ServerUsage{1, 2, 3, 4, 5};
  live.bbbVersion = "3.0.0-beta";
  live.healthyCount = 0;
  live.unhealthyCount = 3;
  live.lastPollMs = -1;
  live.pollLatencyMs = 1001;
  live.lastError = "connection refused";
  ASSERT_TRUE(servers().updateLiveState(s.id, live).ok());
  Server inventory = s;
  inventory.url = "http://10.0.0.1/bigbluebutton/api/";
  inventory.secret = "s2";
  inventory.tag = "";
  inventory.state = AdminState::kEnabled;
  inventory.loadMultiplier = 2.5e-7;
  inventory.maxUsers = 0;
  inventory.maxMeetings = 1;
  inventory.live = ServerLiveState{};  // ignored by updateServer
  ASSERT_TRUE(servers().updateServer(inventory).ok());
  Server expected = inventory;
  expected.live = live;
  expectSameServer(*servers().getServer(s.id), expected);
}

TEST_F(RedisServerStoreTest, ConcurrentReservationsAllCount) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 10)).ok());
  constexpr int kThreads = 8;
  constexpr int kEach = 100;
  std::atomic<int> failures{0};
  auto run = [&](double load, int meetings) {
    std::vector<std::thread> threads;
    std::latch start(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        for (int i = 0; i < kEach; ++i) {
          if (!servers().reserve("a", load, meetings).ok()) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  run(0.25, 1);
  ASSERT_EQ(failures.load(), 0);
  EXPECT_EQ(servers().getServer("a")->live.load, 10 + 0.25 * kThreads * kEach);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, kThreads * kEach);
  run(-0.25, -1);
  ASSERT_EQ(failures.load(), 0);
  EXPECT_EQ(servers().getServer("a")->live.load, 10);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 0);
}

TEST_F(RedisServerStoreTest, ConcurrentCompareAndSetHasOneWinner) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  constexpr int kThreads = 8;
  for (int round = 0; round < 10; ++round) {
    AdminState from = round % 2 == 0 ? AdminState::kEnabled : AdminState::kCordoned;
    AdminState to = round % 2 == 0 ? AdminState::kCordoned : AdminState::kEnabled;
    std::atomic<int> winners{0};
    std::atomic<int> failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        auto r = servers().compareAndSetState("a", from, to);
        if (!r.ok()) {
          ++failures;
        } else if (*r) {
          ++winners;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(servers().getServer("a")->state, to);
  }
}

TEST_F(RedisServerStoreTest, ConcurrentAddsOfOneUrlHaveOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> added{0};
  std::atomic<int> rejected{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Server s = makeServer("s" + std::to_string(t));
      s.url = urlFor("shared");
      start.arrive_and_wait();
      Status st = servers().addServer(s);
      if (st.ok()) {
        ++added;
      } else if (st.error().code == ErrorCode::kAlreadyExists) {
        ++rejected;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 1);
  EXPECT_EQ(rejected.load(), kThreads - 1);
  auto all = servers().listServers();
  ASSERT_EQ(all->size(), 1u);
  ASSERT_TRUE(servers().removeServer(all->front().id).ok());
  Server again = makeServer("z");
  again.url = urlFor("shared");
  EXPECT_TRUE(servers().addServer(again).ok()) << "the URL is free once its server is removed";
}

// ---- meetings: the memory store's contract ----------------------------------------------------

TEST_F(RedisMeetingStoreTest, FindMissingIsEmptyNotAnError) {
  auto m = meetings().findMeeting("nope");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
}

TEST_F(RedisMeetingStoreTest, ClaimStoresTheMeeting) {
  auto c = meetings().claimMeeting(meetingOn("m1", "s1"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->claimed);
  EXPECT_EQ(c->meeting.serverId, "s1");
  auto m = meetings().findMeeting("m1");
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->serverId, "s1");
  EXPECT_EQ((*m)->moderatorPw, "mp-m1");
  EXPECT_EQ((*m)->createParams.get("meetingID"), "m1");
  EXPECT_FALSE((*m)->orphaned);
}

TEST_F(RedisMeetingStoreTest, FirstClaimWins) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  auto second = meetings().claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->claimed);
  EXPECT_EQ(second->meeting.serverId, "s1");
  EXPECT_EQ(second->meeting.moderatorPw, "mp-m1");
  EXPECT_EQ((*meetings().findMeeting("m1"))->serverId, "s1");
  EXPECT_TRUE(meetings().listMeetings("s2")->empty());
}

TEST_F(RedisMeetingStoreTest, ConcurrentClaimsHaveExactlyOneWinner) {
  // Each thread is its own "router": its own connection pool and store.
  constexpr int kThreads = 16;
  constexpr int kIds = 25;
  std::vector<std::vector<MeetingStore::Claim>> claims(kIds,
                                                       std::vector<MeetingStore::Claim>(kThreads));
  std::atomic<int> failures{0};
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RedisMeetingStore store(std::make_shared<RedisConnection>(options_), keys_);
      for (int i = 0; i < kIds; ++i) {
        sync.arrive_and_wait();
        auto c = store.claimMeeting(meetingOn("m" + std::to_string(i), "s" + std::to_string(t)));
        if (!c.ok()) {
          ++failures;
          continue;
        }
        claims[i][t] = *c;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  size_t indexed = 0;
  for (int t = 0; t < kThreads; ++t)
    indexed += meetings().listMeetings("s" + std::to_string(t))->size();
  EXPECT_EQ(indexed, static_cast<size_t>(kIds)) << "each meeting in exactly one server index";
  for (int i = 0; i < kIds; ++i) {
    std::string id = "m" + std::to_string(i);
    auto stored = meetings().findMeeting(id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    const std::string& owner = (*stored)->serverId;
    int winners = 0;
    for (const auto& c : claims[i]) {
      winners += c.claimed;
      EXPECT_EQ(c.meeting.serverId, owner) << id;
      EXPECT_EQ(c.meeting.id, id);
    }
    EXPECT_EQ(winners, 1) << id;
    auto onOwner = idsOf(*meetings().listMeetings(owner));
    EXPECT_NE(std::find(onOwner.begin(), onOwner.end(), id), onOwner.end());
  }
}

TEST_F(RedisMeetingStoreTest, OrphanedMeetingCanBeReclaimed) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m2", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m3", "s2"))->claimed);
  auto n = meetings().orphanMeetingsOf("s1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE((*meetings().findMeeting("m1"))->orphaned);
  EXPECT_FALSE((*meetings().findMeeting("m3"))->orphaned);
  // Already orphaned meetings are not counted again.
  EXPECT_EQ(*meetings().orphanMeetingsOf("s1"), 0);
  EXPECT_EQ(*meetings().orphanMeetingsOf("nobody"), 0);

  auto c = meetings().claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->claimed);
  auto m = meetings().findMeeting("m1");
  EXPECT_EQ((*m)->serverId, "s2");
  EXPECT_FALSE((*m)->orphaned);
  // The index follows: m1 left s1's set and joined s2's.
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")), std::vector<std::string>{"m2"});
  EXPECT_EQ(idsOf(*meetings().listMeetings("s2")), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings()), (std::vector<std::string>{"m1", "m2", "m3"}));
}

// One script run for several claims: the server index follows each (an orphan replaced leaves
// its old server's set), a repeated id loses to its first claim, and the meetings' fields (a
// variable number of arguments each) land on the right keys.
TEST_F(RedisMeetingStoreTest, ClaimsOfSeveralMeetingsInOneScriptRun) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("orphan", "gone"))->claimed);
  ASSERT_EQ(*meetings().orphanMeetingsOf("gone"), 1);
  Meeting rich = meetingOn("rich", "s1");
  for (int i = 0; i < 30; ++i) rich.createParams.append("meta_k" + std::to_string(i), "v");
  const std::vector<Meeting> batch{rich, meetingOn("orphan", "s2"), meetingOn("plain", "s2"),
                                   meetingOn("rich", "s3")};
  auto claims = meetings().claimMeetings(batch);
  ASSERT_EQ(claims.size(), 4u);
  for (const auto& c : claims) ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(claims[0]->claimed);
  EXPECT_TRUE(claims[1]->claimed);
  EXPECT_TRUE(claims[2]->claimed);
  EXPECT_FALSE(claims[3]->claimed);
  EXPECT_EQ(claims[3]->meeting.serverId, "s1");
  EXPECT_EQ(claims[3]->meeting.createParams.params(), rich.createParams.params());
  EXPECT_EQ((*meetings().findMeeting("plain"))->moderatorPw, "mp-plain");
  EXPECT_TRUE(meetings().listMeetings("gone")->empty());
  EXPECT_EQ(idsOf(*meetings().listMeetings("s2")), (std::vector<std::string>{"orphan", "plain"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")), std::vector<std::string>{"rich"});
  EXPECT_TRUE(meetings().listMeetings("s3")->empty());
  EXPECT_TRUE(meetings().claimMeetings({}).empty());
}

TEST_F(RedisMeetingStoreTest, RemoveWithServerGuard) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().removeMeeting("m1", "s2").ok());
  EXPECT_TRUE(meetings().findMeeting("m1")->has_value()) << "still on s1: not removed";
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")), std::vector<std::string>{"m1"});
  ASSERT_TRUE(meetings().removeMeeting("m1", "s1").ok());
  EXPECT_FALSE(meetings().findMeeting("m1")->has_value());
  EXPECT_TRUE(meetings().listMeetings("s1")->empty());
  EXPECT_TRUE(meetings().listMeetings()->empty());
}

TEST_F(RedisMeetingStoreTest, RemoveWithoutServerAndRemoveMissing) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().removeMeeting("m1", "").ok());
  EXPECT_FALSE(meetings().findMeeting("m1")->has_value());
  EXPECT_TRUE(meetings().listMeetings("s1")->empty());
  EXPECT_TRUE(meetings().removeMeeting("m1", "").ok());
  EXPECT_TRUE(meetings().removeMeeting("never", "s1").ok());
}

TEST_F(RedisMeetingStoreTest, FindMeetingsAnswersEveryIdInOrderAcrossPipelinedBatches) {
  // 1,200 ids: three pipelined round trips of at most 500; every third id is unknown.
  std::vector<std::string> ids;
  for (int i = 0; i < 1200; ++i) {
    ids.push_back("m" + std::to_string(i));
    if (i % 3 != 0) {
      ASSERT_TRUE(meetings().claimMeeting(meetingOn(ids.back(), "s1"))->claimed);
    }
  }
  auto found = meetings().findMeetings(ids);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 3 == 0) {
      EXPECT_FALSE((*found)[i].has_value()) << ids[i];
      continue;
    }
    ASSERT_TRUE((*found)[i].has_value()) << ids[i];
    EXPECT_EQ((*found)[i]->id, ids[i]);
    EXPECT_EQ((*found)[i]->serverId, "s1");
    EXPECT_EQ((*found)[i]->moderatorPw, "mp-" + ids[i]);
  }
  auto none = meetings().findMeetings({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(RedisMeetingStoreTest, ListMeetingsFilteredAndOrdered) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m3", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m2", "s2"))->claimed);
  EXPECT_EQ(idsOf(*meetings().listMeetings()), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings("s2")), std::vector<std::string>{"m2"});
  EXPECT_TRUE(meetings().listMeetings("s9")->empty());
}

// ---- meetings: exactness, scale -----------------------------------------------------------------

TEST_F(RedisMeetingStoreTest, RoundTripsEveryFieldExactly) {
  Meeting m;
  m.id = "room:1 *[x] ü";
  m.serverId = "srv:7";
  m.moderatorPw = "mp \"pw\"";
  m.tenant = "tenant-a";
  m.createdAtMs = 1'712'345'678'901;
  m.createParams.append("meetingID", m.id);
  m.createParams.append("name", "Tea & Talk = fun, 100%");
  m.createParams.append("meta_empty", "");
  m.createParams.append("", "no name");
  m.createParams.append("name", "repeated, kept in order");
  m.createParams.append("12:3,", "4:ab,");
  m.createParams.append("bin", std::string("a\0b\n", 4));
  m.createBody = std::string("<modules>\n\0<module/></modules>", 30);
  m.serverTagRequest = "eu!";
  m.sizeHint = 25;
  auto claim = meetings().claimMeeting(m);
  ASSERT_TRUE(claim.ok()) << claim.error().message;
  ASSERT_TRUE(claim->claimed);
  expectSameMeeting(claim->meeting, m);
  auto found = meetings().findMeeting(m.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameMeeting(**found, m);
  // What a losing claim is told is the same record.
  Meeting other = meetingOn(m.id, "elsewhere");
  auto lost = meetings().claimMeeting(other);
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->claimed);
  expectSameMeeting(lost->meeting, m);
  auto listed = meetings().listMeetings(m.serverId);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  expectSameMeeting(listed->front(), m);

  Meeting empty;
  empty.id = "bare";
  empty.serverId = "s";
  ASSERT_TRUE(meetings().claimMeeting(empty)->claimed);
  expectSameMeeting(**meetings().findMeeting("bare"), empty);
}

// The poller's listing reads four fields of each hash (HMGET), across pipelined batches.
TEST_F(RedisMeetingStoreTest, PlacedMeetingsReadOnlyTheRoutingFields) {
  std::vector<PlacedMeeting> want;
  for (int i = 0; i < 1200; ++i) {  // more than one pipelined batch
    char id[32];
    std::snprintf(id, sizeof(id), "m%04d \xc3\xbc", i);
    Meeting m = meetingOn(id, "s" + std::to_string(i % 3));
    m.createdAtMs = 1'712'345'678'901 + i;
    m.sizeHint = i % 7;
    m.createParams.append("welcome", std::string(2000, 'w'));  // what the listing leaves out
    ASSERT_TRUE(meetings().claimMeeting(m)->claimed);
    want.push_back(PlacedMeeting::of(m));
  }
  ASSERT_EQ(*meetings().orphanMeetingsOf("s1"), 400);
  for (auto& p : want) p.orphaned = p.serverId == "s1";
  auto placed = meetings().listPlacedMeetings();
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  EXPECT_EQ(*placed, want);
}

TEST_F(RedisMeetingStoreTest, PlacedMeetingsSkipAHashRemovedMeanwhileAndRefuseACorruptOne) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("kept", "s1"))->claimed);
  // Listed in the index, its hash gone: removed between the two reads.
  ASSERT_TRUE(redis_->command({"SADD", keys_.meetings(), "gone"}).ok());
  auto placed = meetings().listPlacedMeetings();
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  ASSERT_EQ(placed->size(), 1u);
  EXPECT_EQ(placed->front().id, "kept");
  ASSERT_TRUE(redis_->command({"HSET", keys_.meeting("kept"), "created_at_ms", "12x"}).ok());
  auto corrupt = meetings().listPlacedMeetings();
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_NE(corrupt.error().message.find("created_at_ms"), std::string::npos);
}

TEST_F(RedisMeetingStoreTest, AnOrphanedClaimIsStoredAsGivenAndReplaceable) {
  Meeting m = meetingOn("m1", "s1");
  m.orphaned = true;
  ASSERT_TRUE(meetings().claimMeeting(m)->claimed);
  EXPECT_TRUE((*meetings().findMeeting("m1"))->orphaned);
  auto c = meetings().claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->claimed);
  EXPECT_TRUE(meetings().listMeetings("s1")->empty());
}

TEST_F(RedisMeetingStoreTest, ThousandsOfMeetings) {
  constexpr int kMeetings = 3000;
  constexpr int kServers = 4;
  std::vector<std::string> all;
  std::vector<std::vector<std::string>> byServer(kServers);
  for (int i = 0; i < kMeetings; ++i) {
    std::string id = "meeting-" + std::to_string(i);
    int s = i % kServers;
    ASSERT_TRUE(meetings().claimMeeting(meetingOn(id, "s" + std::to_string(s)))->claimed);
    all.push_back(id);
    byServer[s].push_back(id);
  }
  std::sort(all.begin(), all.end());
  auto t0 = Clock::now();
  auto listed = meetings().listMeetings();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(idsOf(*listed), all);
  EXPECT_LT(elapsedMs(t0), 2000);
  for (int s = 0; s < kServers; ++s) {
    std::sort(byServer[s].begin(), byServer[s].end());
    EXPECT_EQ(idsOf(*meetings().listMeetings("s" + std::to_string(s))), byServer[s]);
  }
  EXPECT_EQ(*meetings().orphanMeetingsOf("s1"), kMeetings / kServers);
  auto orphaned = meetings().listMeetings("s1");
  ASSERT_TRUE(orphaned.ok());
  for (const auto& m : *orphaned) EXPECT_TRUE(m.orphaned);
}

// ---- the leader lease -------------------------------------------------------------------------

TEST_F(RedisLeaderLeaseTest, AcquireRenewContendRelease) {
  EXPECT_TRUE(*lease_->acquire("p1", milliseconds(5000)));
  EXPECT_TRUE(*lease_->acquire("p1", milliseconds(5000))) << "the holder renews";
  EXPECT_FALSE(*lease_->acquire("p2", milliseconds(5000))) << "someone else holds it";
  EXPECT_TRUE(lease_->release("p2").ok());
  EXPECT_FALSE(*lease_->acquire("p2", milliseconds(5000))) << "a non-holder cannot release it";
  EXPECT_TRUE(lease_->release("p1").ok());
  EXPECT_TRUE(*lease_->acquire("p2", milliseconds(5000))) << "free at once after release";
  EXPECT_FALSE(*lease_->acquire("p1", milliseconds(5000)));
}

TEST_F(RedisLeaderLeaseTest, RenewalExtendsTheTtl) {
  ASSERT_TRUE(*lease_->acquire("p1", milliseconds(300)));
  ASSERT_TRUE(*lease_->acquire("p1", milliseconds(60000)));
  auto ttl = redis_->command({"PTTL", keys_.lease("poller")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 30000);
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_FALSE(*lease_->acquire("p2", milliseconds(300)));
}

TEST_F(RedisLeaderLeaseTest, ExpiresWhenNotRenewed) {
  ASSERT_TRUE(*lease_->acquire("p1", milliseconds(500)));
  EXPECT_FALSE(*lease_->acquire("p2", milliseconds(500)));
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_TRUE(*lease_->acquire("p2", milliseconds(5000))) << "expired: a standby takes over";
  EXPECT_FALSE(*lease_->acquire("p1", milliseconds(5000)));
}

TEST_F(RedisLeaderLeaseTest, ConcurrentAcquireHasOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    RedisLeaderLease lease(redis_, keys_, "race" + std::to_string(round));
    std::atomic<int> winners{0};
    std::atomic<int> failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto r = lease.acquire("p" + std::to_string(t), milliseconds(5000));
        if (!r.ok()) {
          ++failures;
        } else if (*r) {
          ++winners;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1);
  }
}

TEST_F(RedisLeaderLeaseTest, ZeroTtlIsRejected) {
  auto r = lease_->acquire("p1", milliseconds(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// ---- the connection ---------------------------------------------------------------------------

TEST_F(RedisConnectionTest, ErrorRepliesAreStoreErrorsAndTheConnectionStaysUsable) {
  std::string key = keys_.ns() + ":scratch";
  ASSERT_TRUE(redis_->command({"SET", key, "text"}).ok());
  auto r = redis_->command({"INCR", key});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_TRUE(r.error().message.starts_with("redis: ")) << r.error().message;
  auto get = redis_->command({"GET", key});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, "text");
  auto piped = redis_->pipeline({{"SET", key, "1"}, {"INCR", key}, {"GET", key}});
  ASSERT_TRUE(piped.ok());
  EXPECT_EQ((*piped)[1].integer, 2);
  EXPECT_EQ((*piped)[2].str, "2");
}

TEST_F(RedisConnectionTest, ScriptsSurviveAFlushedScriptCache) {
  RedisMeetingStore store(redis_, keys_);
  ASSERT_TRUE(store.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(redis_->command({"SCRIPT", "FLUSH"}).ok());
  auto c = store.claimMeeting(meetingOn("m2", "s1"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->claimed);
}

TEST_F(RedisConnectionTest, ConnectionRefusedFailsFastAsStoreUnavailable) {
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = freeLoopbackPort();  // nobody listens there
  o.password = "topsecret-pw";
  RedisServerStore store(std::make_shared<RedisConnection>(o), keys_);
  auto t0 = Clock::now();
  auto r = store.listServers();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_TRUE(r.error().message.starts_with("redis: ")) << r.error().message;
  EXPECT_EQ(r.error().message.find("topsecret-pw"), std::string::npos);
  EXPECT_LT(elapsedMs(t0), 1500);
}

TEST_F(RedisConnectionTest, FlushNamespaceOnlyTouchesItsOwnKeys) {
  RedisKeys mine(randomNamespace("sbtest-[glob]*?"));
  RedisKeys theirs(randomNamespace());
  RedisServerStore myServers(redis_, mine);
  RedisServerStore theirServers(redis_, theirs);
  ASSERT_TRUE(myServers.addServer(makeServer("a")).ok());
  ASSERT_TRUE(theirServers.addServer(makeServer("a")).ok());
  // Shares the namespace as a prefix, but not "<ns>:": not ours.
  ASSERT_TRUE(redis_->command({"SET", mine.ns() + "x", "1"}).ok());
  ASSERT_TRUE(flushRedisNamespace(*redis_, mine).ok());
  EXPECT_EQ(myServers.getServer("a").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(theirServers.getServer("a").ok());
  EXPECT_EQ(redis_->command({"GET", mine.ns() + "x"})->str, "1");
  ASSERT_TRUE(redis_->command({"DEL", mine.ns() + "x"}).ok());
  ASSERT_TRUE(flushRedisNamespace(*redis_, theirs).ok());
}

// ---- failures: a private redis-server we stop, pause and restart --------------------------------

TEST(RedisReconnectTest, FailsFastWhileDownAndRecoversByItselfLoggingOnce) {
  const std::string password = "s3cret-pw";
  RedisProcess server(password);
  ASSERT_TRUE(server.start());
  RedisKeys keys(randomNamespace());
  auto redis = std::make_shared<RedisConnection>(server.options(/*db=*/3));
  RedisServerStore servers(redis, keys);
  RedisMeetingStore meetings(redis, keys);
  ASSERT_TRUE(servers.addServer(makeServer("a")).ok());
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m1", "a"))->claimed);

  LogCapture logs;
  server.stop();
  std::vector<std::string> messages;
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    auto s = servers.getServer("a");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_LT(elapsedMs(t0), 1000) << "bounded by the 300 ms timeouts";
    messages.push_back(s.error().message);
    auto c = meetings.claimMeeting(meetingOn("m2", "a"));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kStoreUnavailable);
    messages.push_back(c.error().message);
  }
  EXPECT_FALSE(redis->ping().ok());

  ASSERT_TRUE(server.start());  // same port, empty (no persistence)
  auto deadline = Clock::now() + std::chrono::seconds(5);
  Result<Server> after = Error::of(ErrorCode::kStoreUnavailable);
  while (Clock::now() < deadline) {
    after = servers.getServer("a");
    if (after.ok() || after.error().code != ErrorCode::kStoreUnavailable) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_FALSE(after.ok()) << "a fresh Redis without persistence is empty";
  EXPECT_EQ(after.error().code, ErrorCode::kNotFound) << after.error().message;
  ASSERT_TRUE(servers.addServer(makeServer("a")).ok());
  EXPECT_TRUE(servers.getServer("a").ok());
  EXPECT_TRUE(meetings.claimMeeting(meetingOn("m1", "a"))->claimed);
  EXPECT_TRUE(redis->ping().ok());

  std::string text = logs.text();
  EXPECT_EQ(countOf(text, "is unreachable"), 1) << text;
  EXPECT_EQ(countOf(text, "is reachable again"), 1) << text;
  EXPECT_EQ(countOf(text, "warning "), 1) << text;
  EXPECT_EQ(text.find(password), std::string::npos) << text;
  for (const auto& m : messages) {
    EXPECT_TRUE(m.starts_with("redis: ")) << m;
    EXPECT_EQ(m.find(password), std::string::npos) << m;
  }
  ASSERT_TRUE(flushRedisNamespace(*redis, keys).ok());
}

TEST(RedisReconnectTest, WrongPasswordIsStoreUnavailableWithoutLeakingIt) {
  RedisProcess server("right-pw");
  ASSERT_TRUE(server.start());
  RedisOptions o = server.options();
  o.password = "wrong-pw";
  RedisConnection redis(o);
  Status s = redis.ping();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_EQ(s.error().message.find("wrong-pw"), std::string::npos) << s.error().message;
}

TEST(RedisReconnectTest, ACommandTimeoutBoundsAStalledRedis) {
  RedisProcess server;
  ASSERT_TRUE(server.start());
  RedisKeys keys(randomNamespace());
  auto redis = std::make_shared<RedisConnection>(server.options());
  RedisServerStore servers(redis, keys);
  RedisLeaderLease lease(redis, keys);
  ASSERT_TRUE(servers.addServer(makeServer("a")).ok());

  LogCapture logs;
  server.pause();  // accepts TCP connections (the kernel does), never answers
  for (int i = 0; i < 3; ++i) {
    auto t0 = Clock::now();
    auto s = servers.getServer("a");
    long long ms = elapsedMs(t0);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_NE(s.error().message.find("timed out"), std::string::npos) << s.error().message;
    if (i == 0) {
      EXPECT_GE(ms, 250) << "the first call waits for its timeout";
      EXPECT_LT(ms, 1000);
    } else {
      EXPECT_LT(ms, 50) << "known to be stalled: fails at once";
    }
    auto l = lease.acquire("p1", milliseconds(1000));
    ASSERT_FALSE(l.ok()) << "a stalled store means: stand by";
    EXPECT_EQ(l.error().code, ErrorCode::kStoreUnavailable);
  }
  server.resume();
  auto deadline = Clock::now() + std::chrono::seconds(3);
  Result<Server> after = Error::of(ErrorCode::kStoreUnavailable);
  while (Clock::now() < deadline && !(after = servers.getServer("a")).ok()) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->secret, "secret-a");
  std::string text = logs.text();
  EXPECT_EQ(countOf(text, "is unreachable"), 1) << text;
  EXPECT_EQ(countOf(text, "is reachable again"), 1) << text;
}

TEST(RedisNamespaceTest, NoKeyLandsOutsideTheNamespace) {
  RedisProcess server;  // a database of our own: every key in it is ours to inspect
  ASSERT_TRUE(server.start());
  RedisKeys keys(randomNamespace());
  auto redis = std::make_shared<RedisConnection>(server.options());
  RedisServerStore servers(redis, keys);
  RedisMeetingStore meetings(redis, keys);
  RedisLeaderLease lease(redis, keys);

  ASSERT_TRUE(servers.addServer(makeServer("s1", 1)).ok());
  ASSERT_TRUE(servers.addServer(makeServer("s2")).ok());
  Server moved = makeServer("s2");
  moved.url = urlFor("s2-new");
  ASSERT_TRUE(servers.updateServer(moved).ok());
  ASSERT_TRUE(servers.updateLiveState("s1", ServerLiveState{}).ok());
  ASSERT_FALSE(servers.updateLiveState("ghost", ServerLiveState{}).ok());
  ASSERT_TRUE(servers.reserve("s1", 2, 1).ok());
  ASSERT_FALSE(servers.reserve("ghost", 2, 1).ok());
  ASSERT_TRUE(*servers.compareAndSetState("s1", AdminState::kEnabled, AdminState::kCordoned));
  ASSERT_TRUE(servers.listServers().ok());
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m2", "s1"))->claimed);
  ASSERT_FALSE(meetings.claimMeeting(meetingOn("m1", "s2"))->claimed);
  ASSERT_EQ(*meetings.orphanMeetingsOf("s1"), 2);
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m1", "s2"))->claimed);
  ASSERT_TRUE(meetings.removeMeeting("m2", "s1").ok());
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m3", "s2"))->claimed);
  ASSERT_TRUE(meetings.listMeetings("").ok());
  ASSERT_TRUE(*lease.acquire("p1", milliseconds(60000)));
  ASSERT_TRUE(*lease.acquire("p1", milliseconds(60000)));
  ASSERT_TRUE(servers.removeServer("s2").ok());

  auto all = redis->command({"KEYS", "*"});
  ASSERT_TRUE(all.ok());
  std::set<std::string> found;
  for (const auto& k : all->elements) found.insert(k.str);
  for (const auto& k : found) EXPECT_TRUE(k.starts_with(keys.ns() + ":")) << k;
  EXPECT_EQ(found, (std::set<std::string>{keys.server("s1"), keys.servers(), keys.serverUrls(),
                                          keys.meeting("m1"), keys.meeting("m3"), keys.meetings(),
                                          keys.serverMeetings("s2"), keys.lease("poller")}))
      << "s1's meeting index is empty (so Redis dropped it), and nothing else exists";

  ASSERT_TRUE(flushRedisNamespace(*redis, keys).ok());
  EXPECT_TRUE(redis->command({"KEYS", "*"})->elements.empty());
}

}  // namespace
}  // namespace sb

// ---- the tenant quota contract (tests/unit/tenant_quota_contract.h) on Redis ------------------

namespace sb {
namespace {

// A namespace of the test's own on the shared Redis, flushed at the end; connection() is a new
// connection each time, as each router has its own.
class ScratchRedisNamespace {
 public:
  ScratchRedisNamespace() : keys_(randomNamespace()) { EXPECT_TRUE(sharedRedisOptions(options_)); }
  ~ScratchRedisNamespace() { EXPECT_TRUE(flushRedisNamespace(*connection(), keys_).ok()); }
  std::shared_ptr<RedisConnection> connection() const {
    return std::make_shared<RedisConnection>(options_);
  }
  const RedisKeys& keys() const { return keys_; }

 private:
  RedisOptions options_;
  RedisKeys keys_;
};

// Quotas on the shared Redis; each make(): another router's.
class RedisQuotaStorage : ScratchRedisNamespace {
 public:
  std::unique_ptr<TenantQuota> make() {
    return std::make_unique<RedisTenantQuota>(connection(), keys());
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, TenantQuotaContract, RedisQuotaStorage);

// ---- the shared store's tenants: PostgreSQL's, copied into Redis ------------------------------

namespace {

// A durable tenant store that can be made to fail (PostgreSQL down), over process memory.
class FailingTenantStore final : public MemoryTenantStore {
 public:
  bool down = false;
  Result<std::vector<Tenant>> listTenants() override {
    if (down) return Error::of(ErrorCode::kStoreUnavailable, "postgres down");
    return MemoryTenantStore::listTenants();
  }
  Result<std::optional<Tenant>> findTenant(std::string_view name) override {
    if (down) return Error::of(ErrorCode::kStoreUnavailable, "postgres down");
    return MemoryTenantStore::findTenant(name);
  }
};

// The contract through the Redis copy (each make(): another router's view of one database).
class CachedTenantStorage : ScratchRedisNamespace {
 public:
  std::unique_ptr<TenantStore> make() {
    return std::make_unique<CachedTenantStore>(durable_, connection(), keys());
  }
  FailingTenantStore durable_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(RedisCopy, TenantStoreContract, CachedTenantStorage);

TEST(CachedTenantStoreTest, ARouterThatStartsWhilePostgresIsDownReadsTheCopy) {
  CachedTenantStorage storage;
  ASSERT_TRUE(storage.make()->addTenant(fullTenant("acme")).ok());
  storage.durable_.down = true;
  auto later = storage.make();  // a router started now
  auto all = later->listTenants();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0], fullTenant("acme"));
  EXPECT_TRUE(later->findTenant("acme")->has_value());
  EXPECT_FALSE(later->findTenant("beta")->has_value());
}

}  // namespace sb
