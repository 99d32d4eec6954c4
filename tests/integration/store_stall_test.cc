// Stalled stores (issue 17, item 12): a Redis or PostgreSQL that keeps its connections open and
// answers nothing (a process stopped with SIGSTOP, a frozen VM: the kernel still accepts
// connections and ACKs what is sent) must cost a caller at most one store timeout, and once one
// call timed out, the next ones fail at once (so the durable store's fallback to the other store
// is immediate) until the store answers again, which it notices by itself.
//
// The shared test servers (REDIS_URL, DATABASE_URL) are never stopped: each test talks to them
// through an in-process TCP proxy (tcp_proxy.h) that it freezes. The tests fail, never skip, when
// the stores are not configured.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db/durable_store.h"
#include "db/migrator.h"
#include "db/pg_connection.h"
#include "db/pg_store.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"
#include "db/redis_store.h"
#include "tcp_proxy.h"

namespace sbtest {
namespace {

using Clock = std::chrono::steady_clock;
using sb::ErrorCode;
using std::chrono::milliseconds;

// The store timeout the tests run with, the slack a timed-out call may take beyond it, how long a
// call may take once the store is known to be stalled, and how often a stalled store is probed.
constexpr milliseconds kTimeout{500};
constexpr long long kSlackMs = 400;  // a timed-out call: at most 900 ms
constexpr long long kFastMs = 50;    // a call while stalled: fails at once
constexpr milliseconds kProbeInterval{1000};
// The proxy thaws by itself after this, so that code that would wait forever ends (and fails).
constexpr milliseconds kThawAtTheLatest{4000};

long long msSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string uniqueId(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return prefix + "-" + std::to_string(rng() % 1000000000);
}

// Host and port of a postgresql:// URL (IPv4 or a name; the tests' servers are on loopback).
struct HostPort {
  std::string host;
  int port = 0;
};

std::optional<HostPort> pgHostPort(const std::string& url) {
  size_t start = url.find("://");
  if (start == std::string::npos) return std::nullopt;
  start += 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at != std::string::npos && at >= start) start = at + 1;
  std::string authority = url.substr(start, end - start);
  size_t colon = authority.rfind(':');
  HostPort out{authority.substr(0, colon), 5432};
  if (colon != std::string::npos) out.port = std::atoi(authority.substr(colon + 1).c_str());
  if (out.host == "localhost") out.host = "127.0.0.1";
  return out;
}

// `url` with its host and port replaced by 127.0.0.1:port.
std::string pgUrlVia(const std::string& url, int port) {
  size_t start = url.find("://") + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at != std::string::npos && at >= start) start = at + 1;
  return url.substr(0, start) + "127.0.0.1:" + std::to_string(port) + url.substr(end);
}

// Routes spdlog's default logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("stall-test", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  int count(const std::string& needle) const {
    std::string all = stream_.str();
    int n = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++n;
    return n;
  }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

sb::Server makeServer(const std::string& id) {
  sb::Server s;
  s.id = id;
  s.url = "https://" + id + ".example.com/bigbluebutton/api/";
  s.secret = "secret-" + id;
  s.state = sb::AdminState::kEnabled;
  s.live.online = true;
  return s;
}

sb::Meeting makeMeeting(const std::string& id, const std::string& serverId) {
  sb::Meeting m;
  m.id = id;
  m.serverId = serverId;
  m.moderatorPw = "mp";
  m.createdAtMs = 1000;
  m.createParams.append("meetingID", id);
  return m;
}

// Proxies in front of the shared Redis and PostgreSQL, and options pointing at them.
class StoreStallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = sb::parseRedisUrl(env("REDIS_URL"));
    ASSERT_TRUE(redis.ok()) << "REDIS_URL must point at a test Redis (scripts/test.sh)";
    redisUpstream_ = *redis;
    pgUrl_ = env("DATABASE_URL");
    auto pg = pgHostPort(pgUrl_);
    ASSERT_TRUE(pg) << "DATABASE_URL must be a postgresql:// URL of a test server";
    redisProxy_ = std::make_unique<TcpProxy>(
        redisUpstream_.host == "localhost" ? "127.0.0.1" : redisUpstream_.host,
        redisUpstream_.port);
    pgProxy_ = std::make_unique<TcpProxy>(pg->host, pg->port);
    ASSERT_TRUE(redisProxy_->ok() && pgProxy_->ok());
    keys_ = std::make_unique<sb::RedisKeys>(uniqueId("sbtest-stall"));
  }

  void TearDown() override {
    // Thawed first: what the clients left behind drains and closes.
    if (redisProxy_) redisProxy_->thaw();
    if (pgProxy_) pgProxy_->thaw();
    if (!keys_) return;
    auto direct = std::make_shared<sb::RedisConnection>(redisUpstream_);
    (void)sb::flushRedisNamespace(*direct, *keys_);
  }

  // Redis through the proxy, with the tests' timeouts.
  std::shared_ptr<sb::RedisConnection> proxiedRedis() {
    sb::RedisOptions o = redisUpstream_;
    o.host = "127.0.0.1";
    o.port = redisProxy_->port();
    o.connectTimeout = kTimeout;
    o.commandTimeout = kTimeout;
    o.stallProbeInterval = kProbeInterval;
    return std::make_shared<sb::RedisConnection>(o);
  }

  // PostgreSQL through the proxy, with the tests' timeouts. libpq's own connect timeout is long,
  // so that only the call deadline can bound a connect to the frozen server.
  sb::PgOptions proxiedPg(int maxConnections = 4) {
    sb::PgOptions o;
    o.url = pgUrlVia(pgUrl_, pgProxy_->port());
    o.connectTimeoutSeconds = 10;
    o.statementTimeoutMs = 2000;
    o.maxConnections = maxConnections;
    o.callTimeoutMs = static_cast<int>(kTimeout.count());
    o.stallProbeIntervalMs = static_cast<int>(kProbeInterval.count());
    return o;
  }

  // PostgreSQL directly, to set a test up and clean up after it.
  sb::PgOptions directPg() {
    sb::PgOptions o;
    o.url = pgUrl_;
    o.connectTimeoutSeconds = 2;
    return o;
  }
  void migrate(sb::PgConnection& pg) {
    auto applied = sb::Migrator(pg, sb::embeddedMigrations()).migrate();
    ASSERT_TRUE(applied.ok()) << applied.error().message;
  }

  sb::RedisOptions redisUpstream_;
  std::string pgUrl_;
  std::unique_ptr<TcpProxy> redisProxy_;
  std::unique_ptr<TcpProxy> pgProxy_;
  std::unique_ptr<sb::RedisKeys> keys_;
};

// ---- Redis ------------------------------------------------------------------------------------

TEST_F(StoreStallTest, RedisCallsTimeOutOnceThenFailAtOnceWhileFrozen) {
  auto redis = proxiedRedis();
  sb::RedisMeetingStore meetings(redis, *keys_);
  sb::RedisScript script("return 1");
  ASSERT_TRUE(redis->ping().ok());  // a pooled connection, as a running router has

  redisProxy_->freeze(kThawAtTheLatest);
  auto start = Clock::now();
  auto first = redis->command({"GET", keys_->ns() + ":x"});
  long long firstMs = msSince(start);
  ASSERT_FALSE(first.ok()) << "answered after " << firstMs << " ms";
  EXPECT_EQ(first.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_NE(first.error().message.find("timed out"), std::string::npos) << first.error().message;
  EXPECT_GE(firstMs, kTimeout.count() - 100);
  EXPECT_LE(firstMs, kTimeout.count() + kSlackMs);

  // Known to be stalled now: every kind of call fails at once, for as long as it stays frozen
  // (less than the probe interval here).
  for (int i = 0; i < 3; ++i) {
    std::vector<long long> took;
    auto t0 = Clock::now();
    auto c = redis->command({"GET", keys_->ns() + ":x"});
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto p = redis->pipeline({{"GET", keys_->ns() + ":x"}, {"GET", keys_->ns() + ":y"}});
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto e = redis->eval(script, {}, {});
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto m = meetings.findMeeting("m1");
    took.push_back(msSince(t0));
    ASSERT_FALSE(c.ok() || p.ok() || e.ok() || m.ok());
    for (const sb::Error& error : {c.error(), p.error(), e.error(), m.error()}) {
      EXPECT_EQ(error.code, ErrorCode::kStoreUnavailable);
      EXPECT_TRUE(error.message.starts_with("redis: ")) << error.message;
      EXPECT_NE(error.message.find("stalled"), std::string::npos) << error.message;
    }
    for (long long ms : took) EXPECT_LE(ms, kFastMs) << "round " << i;
  }
}

TEST_F(StoreStallTest, RedisProbesOneCallAtATimeAndRecoversByItself) {
  auto redis = proxiedRedis();
  ASSERT_TRUE(redis->ping().ok());
  LogCapture logs;
  redisProxy_->freeze(kThawAtTheLatest);
  auto start = Clock::now();
  ASSERT_FALSE(redis->ping().ok());
  EXPECT_LE(msSince(start), kTimeout.count() + kSlackMs);

  // Once the probe interval has passed, one call goes to Redis (and waits for its timeout: still
  // frozen) while another one at the same moment fails at once.
  std::this_thread::sleep_for(kProbeInterval + milliseconds(50));
  auto timed = [&] {
    auto t0 = Clock::now();
    bool ok = redis->ping().ok();
    return std::make_pair(ok, msSince(t0));
  };
  auto a = std::async(std::launch::async, timed);
  auto b = std::async(std::launch::async, timed);
  auto [aOk, aMs] = a.get();
  auto [bOk, bMs] = b.get();
  EXPECT_FALSE(aOk || bOk);
  EXPECT_LE(std::min(aMs, bMs), kFastMs) << "one call fails at once while the other probes";
  EXPECT_GE(std::max(aMs, bMs), kTimeout.count() - 100) << "the probe waits for its timeout";
  EXPECT_LE(std::max(aMs, bMs), kTimeout.count() + kSlackMs);

  // Redis answers again: calls succeed by themselves within timeout + probe interval.
  redisProxy_->thaw();
  auto thawed = Clock::now();
  bool back = false;
  while (!back && msSince(thawed) < 5000) {
    back = redis->command({"SET", keys_->ns() + ":k", "v"}).ok();
    if (!back) std::this_thread::sleep_for(milliseconds(20));
  }
  long long recoveredMs = msSince(thawed);
  ASSERT_TRUE(back);
  EXPECT_LE(recoveredMs, kTimeout.count() + kProbeInterval.count() + kSlackMs);
  auto get = redis->command({"GET", keys_->ns() + ":k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, "v");
  EXPECT_EQ(logs.count("is unreachable"), 1) << logs.text();
  EXPECT_EQ(logs.count("is reachable again"), 1) << logs.text();
}

// ---- PostgreSQL
// ----------------------------------------------------------------------------------

TEST_F(StoreStallTest, PgCallsTimeOutOnceThenFailAtOnceWhileFrozen) {
  sb::PgConnection direct(directPg());
  migrate(direct);
  sb::PgConnection pg(proxiedPg());
  sb::PgMeetingStore meetings(pg);
  sb::PgServerStore servers(pg);
  ASSERT_TRUE(pg.ping().ok());  // a pooled connection, as a running router has

  pgProxy_->freeze(kThawAtTheLatest);
  auto start = Clock::now();
  auto first = meetings.findMeeting(uniqueId("m"));
  long long firstMs = msSince(start);
  ASSERT_FALSE(first.ok()) << "answered after " << firstMs << " ms";
  EXPECT_EQ(first.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_NE(first.error().message.find("timed out"), std::string::npos) << first.error().message;
  EXPECT_GE(firstMs, kTimeout.count() - 100);
  EXPECT_LE(firstMs, kTimeout.count() + kSlackMs);
  EXPECT_FALSE(pg.reachable());

  for (int i = 0; i < 3; ++i) {
    std::vector<long long> took;
    auto t0 = Clock::now();
    auto f = meetings.findMeeting("m1");
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto c = meetings.claimMeeting(makeMeeting(uniqueId("m"), "s1"));
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto s = servers.getServer("s1");
    took.push_back(msSince(t0));
    t0 = Clock::now();
    auto p = pg.ping();
    took.push_back(msSince(t0));
    ASSERT_FALSE(f.ok() || c.ok() || s.ok() || p.ok());
    for (const sb::Error& error : {f.error(), c.error(), s.error(), p.error()}) {
      EXPECT_EQ(error.code, ErrorCode::kStoreUnavailable);
      EXPECT_TRUE(error.message.starts_with("postgres: ")) << error.message;
      EXPECT_NE(error.message.find("stalled"), std::string::npos) << error.message;
    }
    for (long long ms : took) EXPECT_LE(ms, kFastMs) << "round " << i;
  }
}

TEST_F(StoreStallTest, PgCallsWaitingForAPooledConnectionFailWithinTheTimeoutToo) {
  sb::PgConnection pg(proxiedPg(/*maxConnections=*/1));
  ASSERT_TRUE(pg.ping().ok());
  pgProxy_->freeze(kThawAtTheLatest);
  // Three calls at once on a one-connection pool: one holds the connection, two wait for it.
  std::vector<std::future<std::pair<bool, long long>>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&pg] {
      auto t0 = Clock::now();
      bool ok = pg.ping().ok();
      return std::make_pair(ok, msSince(t0));
    }));
  }
  for (auto& call : calls) {
    auto [ok, ms] = call.get();
    EXPECT_FALSE(ok) << "answered after " << ms << " ms";
    EXPECT_LE(ms, kTimeout.count() + kSlackMs);
  }
}

TEST_F(StoreStallTest, PgProbesOneCallAtATimeBoundsItsConnectAndRecoversByItself) {
  sb::PgConnection pg(proxiedPg());
  ASSERT_TRUE(pg.ping().ok());
  LogCapture logs;
  pgProxy_->freeze(kThawAtTheLatest);
  auto start = Clock::now();
  sb::Status first = pg.ping();
  long long firstMs = msSince(start);
  ASSERT_FALSE(first.ok()) << "answered after " << firstMs << " ms";
  EXPECT_LE(firstMs, kTimeout.count() + kSlackMs);

  // The probe opens a new connection (the pooled ones were dropped): the frozen server completes
  // the TCP handshake and never answers the startup packet. The call deadline bounds that, not
  // libpq's connect timeout (10 s here); a call at the same moment fails at once.
  std::this_thread::sleep_for(kProbeInterval + milliseconds(50));
  const int acceptedBefore = pgProxy_->accepted();
  auto timed = [&] {
    auto t0 = Clock::now();
    bool ok = pg.ping().ok();
    return std::make_pair(ok, msSince(t0));
  };
  auto a = std::async(std::launch::async, timed);
  auto b = std::async(std::launch::async, timed);
  auto [aOk, aMs] = a.get();
  auto [bOk, bMs] = b.get();
  EXPECT_FALSE(aOk || bOk);
  EXPECT_EQ(pgProxy_->accepted(), acceptedBefore + 1) << "one new connection: the probe's";
  EXPECT_LE(std::min(aMs, bMs), kFastMs) << "one call fails at once while the other probes";
  EXPECT_GE(std::max(aMs, bMs), kTimeout.count() - 100) << "the probe waits for its timeout";
  EXPECT_LE(std::max(aMs, bMs), kTimeout.count() + kSlackMs);

  pgProxy_->thaw();
  auto thawed = Clock::now();
  bool back = false;
  while (!back && msSince(thawed) < 5000) {
    back = pg.ping().ok();
    if (!back) std::this_thread::sleep_for(milliseconds(20));
  }
  long long recoveredMs = msSince(thawed);
  ASSERT_TRUE(back);
  EXPECT_LE(recoveredMs, kTimeout.count() + kProbeInterval.count() + kSlackMs);
  EXPECT_TRUE(pg.reachable());
  // The new session (connected asynchronously) got the statement timeout too.
  auto shown = pg.transact([](pqxx::work& txn) -> sb::Result<std::string> {
    return txn.exec1("SHOW statement_timeout")[0].as<std::string>();
  });
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(*shown, "2s");
  EXPECT_EQ(logs.count("is unreachable"), 1) << logs.text();
  EXPECT_EQ(logs.count("is reachable again"), 1) << logs.text();
}

// ---- through the durable store: what joins and creates do -----------------------------------

TEST_F(StoreStallTest, JoinsWithRedisFrozenAreAnsweredFromPostgresAfterOneTimeout) {
  sb::PgConnection pg(directPg());
  migrate(pg);
  auto redis = proxiedRedis();
  sb::RedisServerStore redisServers(redis, *keys_);
  sb::RedisMeetingStore redisMeetings(redis, *keys_);
  sb::PgServerStore pgServers(pg);
  sb::PgMeetingStore pgMeetings(pg);
  sb::DurableServerStore servers(redisServers, pgServers);
  sb::DurableMeetingStore meetings(redisMeetings, pgMeetings);
  const std::string serverId = uniqueId("s");
  const std::string meetingId = uniqueId("m");
  ASSERT_TRUE(servers.addServer(makeServer(serverId)).ok());
  auto claimed = meetings.claimMeeting(makeMeeting(meetingId, serverId));
  ASSERT_TRUE(claimed.ok() && claimed->claimed);

  // A join reads the meeting, then its server.
  auto join = [&]() -> std::string {
    auto m = meetings.findMeeting(meetingId);
    if (!m.ok()) return "meeting: " + m.error().message;
    if (!m->has_value()) return "meeting: not found";
    auto s = servers.getServer((*m)->serverId);
    if (!s.ok()) return "server: " + s.error().message;
    return s->secret;
  };
  ASSERT_EQ(join(), "secret-" + serverId);

  redisProxy_->freeze(kThawAtTheLatest);
  auto start = Clock::now();
  EXPECT_EQ(join(), "secret-" + serverId);
  long long firstMs = msSince(start);
  EXPECT_LE(firstMs, kTimeout.count() + kSlackMs) << "one Redis timeout, not one per read";
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    EXPECT_EQ(join(), "secret-" + serverId);
    EXPECT_LE(msSince(t0), kFastMs) << "join " << i << " after the first: PostgreSQL at once";
  }

  redisProxy_->thaw();
  (void)pgMeetings.removeMeeting(meetingId, serverId);
  (void)pgServers.removeServer(serverId);
}

TEST_F(StoreStallTest, CreatesWithPostgresFrozenFailWithinTheTimeout) {
  sb::PgConnection direct(directPg());
  migrate(direct);
  sb::PgConnection pg(proxiedPg());
  auto redis = std::make_shared<sb::RedisConnection>(redisUpstream_);
  sb::RedisMeetingStore redisMeetings(redis, *keys_);
  sb::PgMeetingStore pgMeetings(pg);
  sb::DurableMeetingStore meetings(redisMeetings, pgMeetings);
  const std::string serverId = uniqueId("s");
  const std::string before = uniqueId("m-before");
  auto warm = meetings.claimMeeting(makeMeeting(before, serverId));  // also fills the pool
  ASSERT_TRUE(warm.ok() && warm->claimed);

  pgProxy_->freeze(kThawAtTheLatest);
  // A create claims its meeting, which must be recorded in PostgreSQL before it is acknowledged.
  const std::string during = uniqueId("m-during");
  auto start = Clock::now();
  auto claim = meetings.claimMeeting(makeMeeting(during, serverId));
  long long claimMs = msSince(start);
  ASSERT_FALSE(claim.ok()) << "acknowledged after " << claimMs << " ms";
  EXPECT_EQ(claim.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_LE(claimMs, kTimeout.count() + kSlackMs);
  auto cached = redisMeetings.findMeeting(during);
  ASSERT_TRUE(cached.ok());
  EXPECT_FALSE(cached->has_value()) << "Redis's claim was taken back";

  // The next creates fail at once; joins of known meetings keep working from Redis.
  for (int i = 0; i < 3; ++i) {
    auto t0 = Clock::now();
    auto next = meetings.claimMeeting(makeMeeting(uniqueId("m-next"), serverId));
    EXPECT_FALSE(next.ok());
    EXPECT_LE(msSince(t0), kFastMs) << "create " << i << " after the first";
    t0 = Clock::now();
    auto known = meetings.findMeeting(before);
    ASSERT_TRUE(known.ok() && known->has_value());
    EXPECT_LE(msSince(t0), kFastMs);
  }

  // What was sent before the deadline reaches PostgreSQL now, as it would after SIGCONT (the
  // timed-out claim may land, as a write on a lost connection may); then the test's meetings go.
  pgProxy_->thaw();
  std::this_thread::sleep_for(milliseconds(200));
  sb::PgMeetingStore cleanup(direct);
  auto left = cleanup.listMeetings(serverId);
  ASSERT_TRUE(left.ok()) << left.error().message;
  for (const auto& m : *left) (void)cleanup.removeMeeting(m.id, "");
}

}  // namespace
}  // namespace sbtest
