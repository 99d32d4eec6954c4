// The PostgreSQL adapters against a real PostgreSQL (DATABASE_URL; scripts/test.sh starts one on
// loopback): the migrator, the store contract of db/memory_store.h (the same cases as
// tests/unit/memory_store_test.cc), exact round trips, races between threads and between
// connection pools (standing in for router processes), timeouts and reconnection.
//
// Isolation: every test creates its own database (and drops it), so tests running at the same
// time against one server, from one process or several, never see each other's rows. The tests
// fail, never skip, when DATABASE_URL is unset or unreachable.
// PgReconnectTest.ServerStopAndRestart stops and restarts a real server: its own throw-away one
// (initdb into a temporary folder; as the `postgres` user when run as root), so the shared test
// server is never disturbed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db/migrator.h"
#include "db/pg_callback_queue.h"
#include "db/pg_connection.h"
#include "db/pg_recording_store.h"
#include "db/pg_store.h"
#include "db/pg_tenant_store.h"
#include "tests/integration/store_expectations.h"
#include "tests/unit/callback_queue_contract.h"
#include "tests/unit/recording_store_contract.h"
#include "tests/unit/tenant_store_contract.h"

namespace sb {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- databases
// -----------------------------------------------------------------------------------

std::string databaseUrl() {
  const char* url = std::getenv("DATABASE_URL");
  return url ? url : "";
}

// `url` naming database `db` instead ("postgresql://u@h:p/old?x" -> "postgresql://u@h:p/db?x").
std::optional<std::string> withDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  size_t query = url.find('?', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos || (query != std::string::npos && slash > query)) {
    slash = query == std::string::npos ? url.size() : query;
    return url.substr(0, slash) + "/" + db + url.substr(slash);
  }
  size_t end = query == std::string::npos ? url.size() : query;
  return url.substr(0, slash + 1) + db + url.substr(end);
}

// Runs one statement outside a transaction (CREATE/DROP DATABASE) on DATABASE_URL's database.
// Returns the error text, "" on success.
std::string adminExec(const std::string& sql) {
  try {
    pqxx::connection admin(pgConninfo(PgOptions{.url = databaseUrl()}));
    pqxx::nontransaction txn(admin);
    txn.exec(sql);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// A fresh, empty database for one test; dropped (with any session left) at the end.
class ScratchDatabase {
 public:
  // Returns the error text, "" on success.
  std::string create() {
    if (databaseUrl().empty()) {
      return "DATABASE_URL is not set; the PostgreSQL tests need a server "
             "(scripts/test.sh starts one and exports it)";
    }
    static std::atomic<int> counter{0};
    std::random_device random;
    name_ = "sbtest_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(random() % 1000000);
    auto url = withDatabase(databaseUrl(), name_);
    if (!url) return "DATABASE_URL must be a postgresql:// URL for the tests";
    url_ = *url;
    std::string error = adminExec("CREATE DATABASE " + name_);
    if (!error.empty()) {
      name_.clear();
      return "cannot create a test database on DATABASE_URL: " + error;
    }
    return "";
  }
  ~ScratchDatabase() {
    if (!name_.empty()) (void)adminExec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;
};

// Runs `sql` on the scratch database directly (checks the tests make behind the adapters' back).
pqxx::result query(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::work txn(conn);
  pqxx::result r = txn.exec(sql);
  txn.commit();
  return r;
}

PgOptions optionsFor(const std::string& url) {
  PgOptions options;
  options.url = url;
  options.connectTimeoutSeconds = 2;
  return options;
}

// A test with its own database: migrated (the embedded migrations) unless it says otherwise.
class PgDatabaseTest : public ::testing::Test {
 protected:
  explicit PgDatabaseTest(bool migrated = true) : migrated_(migrated) {}

  void SetUp() override {
    std::string error = db_.create();
    ASSERT_EQ(error, "");
    pg_ = std::make_unique<PgConnection>(optionsFor(db_.url()));
    if (migrated_) {
      Migrator migrator(*pg_, embeddedMigrations());
      auto applied = migrator.migrate();
      ASSERT_TRUE(applied.ok()) << applied.error().message;
    }
  }

  void TearDown() override { pg_.reset(); }

  ScratchDatabase db_;
  std::unique_ptr<PgConnection> pg_;

 private:
  bool migrated_;
};

// Captures the default logger's lines.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("pg-test", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }
  int count(const std::string& needle) const {
    std::string all = text();
    int n = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

// ---- domain helpers (as tests/unit/fakes.h and memory_store_test.cc build them) ----------------

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

// ---- migrator
// --------------------------------------------------------------------------------------

class MigratorTest : public PgDatabaseTest {
 protected:
  MigratorTest() : PgDatabaseTest(/*migrated=*/false) {}

  void SetUp() override {
    PgDatabaseTest::SetUp();
    char folder[] = "/tmp/sb-migrations.XXXXXX";
    ASSERT_NE(::mkdtemp(folder), nullptr);
    dir_ = folder;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    PgDatabaseTest::TearDown();
  }

  void write(const std::string& file, const std::string& sql) { std::ofstream(dir_ / file) << sql; }

  std::vector<Migration> fromDir() {
    auto loaded = loadMigrations(dir_);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? *loaded : std::vector<Migration>{};
  }

  int count(const std::string& sql) { return query(db_.url(), sql)[0][0].as<int>(); }

  fs::path dir_;
};

std::vector<std::string> versionsOf(const std::vector<Migration>& migrations) {
  std::vector<std::string> out;
  for (const auto& m : migrations) out.push_back(m.version);
  return out;
}

TEST_F(MigratorTest, MigrateFromEmptyThenAgainIsANoOp) {
  const auto& embedded = embeddedMigrations();
  ASSERT_FALSE(embedded.empty());
  EXPECT_EQ(embedded.front().name, "0001_init");
  Migrator migrator(*pg_, embedded);

  auto before = migrator.status();
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->current, "");
  EXPECT_EQ(before->latest, embedded.back().version);
  EXPECT_EQ(before->pending, versionsOf(embedded));
  EXPECT_TRUE(before->unknown.empty());
  EXPECT_FALSE(before->upToDate());
  // status() only reads: it did not create schema_migrations.
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'"), 0);

  auto applied = migrator.migrate();
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(*applied, static_cast<int>(embedded.size()));

  auto after = migrator.status();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->current, embedded.back().version);
  EXPECT_EQ(after->latest, embedded.back().version);
  EXPECT_TRUE(after->pending.empty());
  EXPECT_TRUE(after->upToDate());
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations WHERE applied_at IS NOT NULL"),
            static_cast<int>(embedded.size()));
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename IN ('servers', 'meetings')"), 2);

  auto again = migrator.migrate();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_TRUE(migrator.status()->upToDate());
}

TEST_F(MigratorTest, ConcurrentMigrateAppliesEachMigrationOnce) {
  // Slow steps widen the window in which the two runs overlap.
  for (int i = 1; i <= 6; ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "%04d_step.sql", i);
    write(file, "SELECT pg_sleep(0.05); CREATE TABLE step_" + std::to_string(i) +
                    " (x int); INSERT INTO step_" + std::to_string(i) + " VALUES (" +
                    std::to_string(i) + ");");
  }
  std::vector<Migration> migrations = fromDir();
  ASSERT_EQ(migrations.size(), 6u);

  // Two pools stand in for two `switchboard migrate` processes started at once.
  PgConnection otherPool(optionsFor(db_.url()));
  std::vector<Result<int>> results(2, Result<int>(0));
  std::latch start(2);
  std::thread a([&] {
    Migrator m(*pg_, migrations);
    start.arrive_and_wait();
    results[0] = m.migrate();
  });
  std::thread b([&] {
    Migrator m(otherPool, migrations);
    start.arrive_and_wait();
    results[1] = m.migrate();
  });
  a.join();
  b.join();
  ASSERT_TRUE(results[0].ok()) << results[0].error().message;
  ASSERT_TRUE(results[1].ok()) << results[1].error().message;
  EXPECT_EQ(*results[0] + *results[1], 6);
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 6);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(count("SELECT count(*) FROM step_" + std::to_string(i)), 1);
  }
}

TEST_F(MigratorTest, ConcurrentMigrateOfTheEmbeddedSchema) {
  PgConnection otherPool(optionsFor(db_.url()));
  std::vector<Result<int>> results(2, Result<int>(0));
  std::latch start(2);
  std::thread a([&] {
    Migrator m(*pg_, embeddedMigrations());
    start.arrive_and_wait();
    results[0] = m.migrate();
  });
  std::thread b([&] {
    Migrator m(otherPool, embeddedMigrations());
    start.arrive_and_wait();
    results[1] = m.migrate();
  });
  a.join();
  b.join();
  ASSERT_TRUE(results[0].ok()) << results[0].error().message;
  ASSERT_TRUE(results[1].ok()) << results[1].error().message;
  EXPECT_EQ(*results[0] + *results[1], static_cast<int>(embeddedMigrations().size()));
  EXPECT_TRUE(Migrator(*pg_, embeddedMigrations()).status()->upToDate());
}

TEST_F(MigratorTest, AppliesAFolderInNumericOrderAndLaterAdditions) {
  write("0001_log.sql", "CREATE TABLE log (n serial PRIMARY KEY, v text);");
  write("0010_ten.sql", "INSERT INTO log (v) VALUES ('ten');");
  write("9_nine.sql", "INSERT INTO log (v) VALUES ('nine');");
  write("README.md", "not a migration");
  write("0002.sql", "not a migration either (no name)");
  std::vector<Migration> migrations = fromDir();
  EXPECT_EQ(versionsOf(migrations), (std::vector<std::string>{"0001", "9", "0010"}));
  EXPECT_EQ(migrations[1].name, "9_nine");

  ASSERT_EQ(*Migrator(*pg_, migrations).migrate(), 3);
  auto log = query(db_.url(), "SELECT v FROM log ORDER BY n");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0][0].as<std::string>(), "nine");
  EXPECT_EQ(log[1][0].as<std::string>(), "ten");

  write("0011_eleven.sql", "INSERT INTO log (v) VALUES ('eleven');");
  Migrator newer(*pg_, fromDir());
  auto status = newer.status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->current, "0010");
  EXPECT_EQ(status->latest, "0011");
  EXPECT_EQ(status->pending, std::vector<std::string>{"0011"});
  EXPECT_EQ(*newer.migrate(), 1);
  EXPECT_TRUE(newer.status()->upToDate());
}

TEST_F(MigratorTest, AFailingMigrationRollsBackAndStops) {
  write("0001_ok.sql", "CREATE TABLE first (x int);");
  write("0002_broken.sql", "CREATE TABLE second (x int); SELEKT nonsense;");
  write("0003_after.sql", "CREATE TABLE third (x int);");
  Migrator migrator(*pg_, fromDir());
  auto applied = migrator.migrate();
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_NE(applied.error().message.find("0002_broken"), std::string::npos)
      << applied.error().message;

  auto status = migrator.status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->current, "0001");
  EXPECT_EQ(status->pending, (std::vector<std::string>{"0002", "0003"}));
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename = 'first'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename IN ('second', 'third')"), 0)
      << "the failed migration's own statements were rolled back, later ones never ran";

  // Fixed, it applies with the rest. The pool is still usable after the failure.
  write("0002_broken.sql", "CREATE TABLE second (x int);");
  EXPECT_EQ(*Migrator(*pg_, fromDir()).migrate(), 2);
}

TEST_F(MigratorTest, StatusReportsVersionsAppliedByANewerBinary) {
  ASSERT_TRUE(Migrator(*pg_, embeddedMigrations()).migrate().ok());
  query(db_.url(), "INSERT INTO schema_migrations (version) VALUES ('9999')");
  auto status = Migrator(*pg_, embeddedMigrations()).status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->current, "9999");
  EXPECT_EQ(status->latest, embeddedMigrations().back().version);
  EXPECT_EQ(status->unknown, std::vector<std::string>{"9999"});
  EXPECT_TRUE(status->upToDate()) << "nothing this binary knows is missing";
}

TEST_F(MigratorTest, EmbeddedMigrationsAreTheSourceTreesFiles) {
  fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  auto fromTree = loadMigrations(root / "migrations");
  ASSERT_TRUE(fromTree.ok()) << fromTree.error().message;
  EXPECT_EQ(*fromTree, embeddedMigrations());
}

TEST_F(MigratorTest, FolderErrorsAndFileNames) {
  EXPECT_EQ(loadMigrations(dir_ / "missing").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(loadMigrations(dir_).error().code, ErrorCode::kInvalidArgument) << "empty folder";
  write("0001_a.sql", "SELECT 1;");
  write("001_b.sql", "SELECT 1;");
  auto duplicate = loadMigrations(dir_);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message.find("same version"), std::string::npos);

  auto embedded = findMigrations("");
  ASSERT_TRUE(embedded.ok());
  EXPECT_EQ(*embedded, embeddedMigrations());
  fs::remove(dir_ / "001_b.sql");
  auto folder = findMigrations(dir_.string());
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(versionsOf(*folder), std::vector<std::string>{"0001"});

  std::string version, name;
  EXPECT_TRUE(parseMigrationFileName("0001_init.sql", version, name));
  EXPECT_EQ(version, "0001");
  EXPECT_EQ(name, "0001_init");
  for (const char* bad : {"init.sql", "0001.sql", "0001_.sql", "0001_init.sql.bak", "_0001.sql"}) {
    EXPECT_FALSE(parseMigrationFileName(bad, version, name)) << bad;
  }
}

// ---- servers
// ---------------------------------------------------------------------------------------

// The poller's lease in PostgreSQL (migration 0004), dated by PostgreSQL's clock.
class PgLeaderLeaseTest : public PgDatabaseTest {};

TEST_F(PgLeaderLeaseTest, OneHolderAtATimeRenewedByItAndFreeAfterExpiryOrRelease) {
  PgLeaderLease lease(*pg_);
  using std::chrono::milliseconds;
  ASSERT_EQ(lease.acquire("a", milliseconds(60'000)).value(), true);
  EXPECT_EQ(lease.acquire("b", milliseconds(60'000)).value(), false);
  EXPECT_EQ(lease.acquire("a", milliseconds(300)).value(), true) << "the holder renews";
  EXPECT_TRUE(lease.release("b").ok());  // not b's: nothing changes
  EXPECT_EQ(lease.acquire("b", milliseconds(60'000)).value(), false);
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(lease.acquire("b", milliseconds(60'000)).value(), true) << "a's expired";
  EXPECT_TRUE(lease.release("b").ok());
  EXPECT_EQ(lease.acquire("a", milliseconds(60'000)).value(), true) << "b released it";
  PgLeaderLease other(*pg_, "importer");  // leases are per name
  EXPECT_EQ(other.acquire("b", milliseconds(60'000)).value(), true);
  EXPECT_FALSE(lease.acquire("a", milliseconds(0)).ok());
}

class PgServerStoreTest : public PgDatabaseTest {
 protected:
  void SetUp() override {
    PgDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<PgServerStore>(*pg_);
  }
  void TearDown() override {
    store_.reset();
    PgDatabaseTest::TearDown();
  }
  ServerStore& servers() { return *store_; }

  std::unique_ptr<PgServerStore> store_;
};

TEST_F(PgServerStoreTest, AddGetAndListOrderedById) {
  ASSERT_TRUE(servers().addServer(makeServer("c")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("a", 3, "t")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("b")).ok());
  auto all = servers().listServers();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(idsOf(*all), (std::vector<std::string>{"a", "b", "c"}));
  auto a = servers().getServer("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, urlFor("a"));
  EXPECT_EQ(a->secret, "secret-a");
  EXPECT_EQ(a->tag, "t");
  EXPECT_DOUBLE_EQ(a->live.load, 3);
}

TEST_F(PgServerStoreTest, ListOrderIsByteOrderLikeTheMemoryStore) {
  std::vector<std::string> ids = {"b", "B", "a", "\xc3\xa4", "Z", "10", "9", "a-1", "a_1"};
  std::set<std::string> expected(ids.begin(), ids.end());  // std::string order = byte order
  for (const auto& id : ids) ASSERT_TRUE(servers().addServer(makeServer(id)).ok()) << id;
  auto all = servers().listServers();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(idsOf(*all), std::vector<std::string>(expected.begin(), expected.end()));
}

TEST_F(PgServerStoreTest, GetMissingIsNotFound) {
  auto s = servers().getServer("nope");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s.error().message, "Couldn't find server with id=nope");
}

TEST_F(PgServerStoreTest, DuplicateIdRejected) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server other = makeServer("a");
  other.url = "https://elsewhere.example.com/bigbluebutton/api/";
  Status s = servers().addServer(other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.error().message, "Server already exists with id 'a'");
}

TEST_F(PgServerStoreTest, DuplicateUrlRejected) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  Server b = makeServer("b");
  b.url = urlFor("a");
  Status s = servers().addServer(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.error().message, "A server with URL " + urlFor("a") + " already exists (id a)");
  EXPECT_EQ(idsOf(*servers().listServers()), std::vector<std::string>{"a"});
}

TEST_F(PgServerStoreTest, UpdateKeepsLiveState) {
  Server a = makeServer("a", 42);
  a.live.usage.meetings = 3;
  ASSERT_TRUE(servers().addServer(a).ok());
  Server changed = makeServer("a", /*load=*/0, "t2", AdminState::kCordoned, /*online=*/false);
  changed.secret = "new-secret";
  changed.loadMultiplier = 2;
  changed.maxUsers = 300;
  changed.maxMeetings = 20;
  ASSERT_TRUE(servers().updateServer(changed).ok());
  auto got = servers().getServer("a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tag, "t2");
  EXPECT_EQ(got->secret, "new-secret");
  EXPECT_EQ(got->state, AdminState::kCordoned);
  EXPECT_DOUBLE_EQ(got->loadMultiplier, 2);
  EXPECT_EQ(got->maxUsers, 300);
  EXPECT_EQ(got->maxMeetings, 20);
  EXPECT_TRUE(got->live.online);
  EXPECT_DOUBLE_EQ(got->live.load, 42);
  EXPECT_EQ(got->live.usage.meetings, 3);
}

TEST_F(PgServerStoreTest, UpdateMissingOrToATakenUrlFails) {
  EXPECT_EQ(servers().updateServer(makeServer("x")).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers().addServer(makeServer("b")).ok());
  Server b = makeServer("b");
  b.url = urlFor("a");
  Status taken = servers().updateServer(b);
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.error().message, "A server with URL " + urlFor("a") + " already exists (id a)");
  // Missing wins over a taken URL, as in the memory store.
  Server x = makeServer("x");
  x.url = urlFor("a");
  EXPECT_EQ(servers().updateServer(x).error().code, ErrorCode::kNotFound);
  // Its own URL is fine.
  EXPECT_TRUE(servers().updateServer(makeServer("b")).ok());
  // A new URL frees the old one.
  b.url = "https://moved.example.com/bigbluebutton/api/";
  ASSERT_TRUE(servers().updateServer(b).ok());
  Server c = makeServer("c");
  c.url = urlFor("b");
  EXPECT_TRUE(servers().addServer(c).ok());
}

TEST_F(PgServerStoreTest, UpdateLiveStateReplacesIt) {
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
}

TEST_F(PgServerStoreTest, RemoveServer) {
  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  ASSERT_TRUE(servers().removeServer("a").ok());
  EXPECT_FALSE(servers().getServer("a").ok());
  EXPECT_EQ(servers().removeServer("a").error().code, ErrorCode::kNotFound);
  // The URL is free again.
  EXPECT_TRUE(servers().addServer(makeServer("a")).ok());
}

TEST_F(PgServerStoreTest, ReservationsAccumulateAndNeverGoNegative) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 10)).ok());
  ASSERT_TRUE(servers().reserve("a", 15, 1).ok());
  EXPECT_DOUBLE_EQ(servers().getServer("a")->live.load, 25);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 1);
  ASSERT_TRUE(servers().reserve("a", -30, -2).ok());
  EXPECT_DOUBLE_EQ(servers().getServer("a")->live.load, 0);
  EXPECT_EQ(servers().getServer("a")->live.usage.meetings, 0);
  EXPECT_EQ(servers().reserve("gone", 1, 1).error().code, ErrorCode::kNotFound);
}

TEST_F(PgServerStoreTest, CompareAndSetStateOnlyFromTheExpectedState) {
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

TEST_F(PgServerStoreTest, EveryFieldRoundTripsExactly) {
  Server s;
  s.id = "srv-\xc3\xbc-1";
  s.url = "https://bbb-\xc3\xa4.example.com:8443/bigbluebutton/api/";
  s.secret = "s3cr3t 'quoted' \"double\" \\ ;-- $1";
  s.tag = "eu-\xe6\x9d\xb1";
  s.state = AdminState::kCordoned;
  s.loadMultiplier = 0.1;
  s.maxUsers = 2147483647;
  s.maxMeetings = 17;
  s.wsUrl = "ws://bbb.example.com:8188";
  s.wssUrl = "wss://bbb.example.com:8989/ws";
  s.maxConnections = 1234;
  s.removeWhenDrained = false;  // the two flags differ: swapped columns would show
  s.addedByOperator = true;
  s.live.online = true;
  s.live.load = 12345.678901234567;
  s.live.usage =
      ServerUsage{.meetings = 3, .users = 45, .largestMeeting = 30, .videos = 7, .voices = 12};
  s.live.bbbVersion = "3.0.0-beta";
  s.live.healthyCount = 2;
  s.live.unhealthyCount = 1;
  s.live.lastPollMs = 1732200000123;
  s.live.pollLatencyMs = 250;
  s.live.lastError = "";
  ASSERT_TRUE(servers().addServer(s).ok());
  auto got = servers().getServer(s.id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  expectSameServer(*got, s);

  ServerLiveState live = s.live;
  live.online = false;
  live.load = 1e-7;
  live.lastError = "timeout after 5000 ms: \xe2\x80\x9cno answer\xe2\x80\x9d";
  live.lastPollMs = 0;
  ASSERT_TRUE(servers().updateLiveState(s.id, live).ok());
  s.live = live;
  expectSameServer(*servers().getServer(s.id), s);
  expectSameServer((*servers().listServers())[0], s);
}

TEST_F(PgServerStoreTest, TextPostgresCannotHoldIsRefusedOrSanitised) {
  Server bad = makeServer("a");
  bad.secret = std::string("sec\0ret", 7);
  EXPECT_EQ(servers().addServer(bad).error().code, ErrorCode::kInvalidArgument);
  bad = makeServer("a");
  bad.tag = "\xff\xfe";
  EXPECT_EQ(servers().addServer(bad).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(servers().listServers()->empty()) << "nothing stored";

  ASSERT_TRUE(servers().addServer(makeServer("a")).ok());
  ServerLiveState live;
  live.lastError = std::string("bad \xff bytes \0 from the network", 30);
  live.bbbVersion = "2.7\xc3";
  ASSERT_TRUE(servers().updateLiveState("a", live).ok());
  auto got = servers().getServer("a");
  EXPECT_EQ(got->live.lastError, "bad ? bytes ? from the network");
  EXPECT_EQ(got->live.bbbVersion, "2.7?");
}

TEST_F(PgServerStoreTest, ConcurrentReservationsAllCount) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 0)).ok());
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  PgConnection otherPool(optionsFor(db_.url()));
  PgServerStore other(otherPool);
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ServerStore& store = t % 2 ? static_cast<ServerStore&>(other) : servers();
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        if (!store.reserve("a", 1.5, 1).ok()) ++failures;
      }
    });
  }
  // An operator's edit meanwhile must not undo reservations (it writes inventory only).
  threads.emplace_back([&] {
    for (int i = 0; i < 10; ++i) {
      Server s = makeServer("a", 0, "edited-" + std::to_string(i));
      if (!servers().updateServer(s).ok()) ++failures;
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto got = servers().getServer("a");
  EXPECT_DOUBLE_EQ(got->live.load, 1.5 * kThreads * kEach);
  EXPECT_EQ(got->live.usage.meetings, kThreads * kEach);
  EXPECT_EQ(got->tag, "edited-9");
}

TEST_F(PgServerStoreTest, RacingCompareAndSetHasOneWinner) {
  ASSERT_TRUE(servers().addServer(makeServer("a", 0, "", AdminState::kCordoned)).ok());
  constexpr int kThreads = 8;
  PgConnection otherPool(optionsFor(db_.url()));
  PgServerStore other(otherPool);
  std::atomic<int> changed{0}, failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ServerStore& store = t % 2 ? static_cast<ServerStore&>(other) : servers();
      start.arrive_and_wait();
      auto r = store.compareAndSetState("a", AdminState::kCordoned, AdminState::kDisabled);
      if (!r.ok()) {
        ++failures;
      } else if (*r) {
        ++changed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(changed.load(), 1);
  EXPECT_EQ(servers().getServer("a")->state, AdminState::kDisabled);
}

// ---- meetings
// --------------------------------------------------------------------------------------

class PgMeetingStoreTest : public PgDatabaseTest {
 protected:
  void SetUp() override {
    PgDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<PgMeetingStore>(*pg_);
  }
  void TearDown() override {
    store_.reset();
    PgDatabaseTest::TearDown();
  }
  MeetingStore& meetings() { return *store_; }

  std::unique_ptr<PgMeetingStore> store_;
};

TEST_F(PgMeetingStoreTest, FindMissingIsEmptyNotAnError) {
  auto m = meetings().findMeeting("nope");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
}

TEST_F(PgMeetingStoreTest, ClaimStoresTheMeeting) {
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

TEST_F(PgMeetingStoreTest, FirstClaimWins) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  auto second = meetings().claimMeeting(meetingOn("m1", "s2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->claimed);
  EXPECT_EQ(second->meeting.serverId, "s1");
  EXPECT_EQ(second->meeting.moderatorPw, "mp-m1");
  EXPECT_EQ((*meetings().findMeeting("m1"))->serverId, "s1");
}

TEST_F(PgMeetingStoreTest, ConcurrentClaimsHaveExactlyOneWinner) {
  // Several ids, each claimed at once by 16 threads spread over two pools (two routers).
  constexpr int kThreads = 16;
  constexpr int kIds = 10;
  PgConnection otherPool(optionsFor(db_.url()));
  PgMeetingStore other(otherPool);
  for (int id = 0; id < kIds; ++id) {
    const std::string meetingId = "race-" + std::to_string(id);
    std::vector<MeetingStore::Claim> claims(kThreads);
    std::atomic<int> failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        MeetingStore& store = i % 2 ? static_cast<MeetingStore&>(other) : meetings();
        Meeting m = meetingOn(meetingId, "s" + std::to_string(i));
        m.moderatorPw = "pw-" + std::to_string(i);
        start.arrive_and_wait();
        auto c = store.claimMeeting(m);
        if (!c) {
          ++failures;
          return;
        }
        claims[i] = *c;
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(failures.load(), 0);
    auto stored = meetings().findMeeting(meetingId);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    int winners = 0;
    for (const auto& c : claims) {
      winners += c.claimed;
      expectSameMeeting(c.meeting, **stored);
    }
    EXPECT_EQ(winners, 1) << meetingId;
  }
}

TEST_F(PgMeetingStoreTest, OrphanedMeetingCanBeReclaimed) {
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

  Meeting again = meetingOn("m1", "s2");
  again.moderatorPw = "new-pw";
  auto c = meetings().claimMeeting(again);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->claimed);
  auto m = meetings().findMeeting("m1");
  EXPECT_EQ((*m)->serverId, "s2");
  EXPECT_EQ((*m)->moderatorPw, "new-pw");
  EXPECT_FALSE((*m)->orphaned);
}

TEST_F(PgMeetingStoreTest, RacingReclaimsOfAnOrphanHaveOneWinner) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "gone"))->claimed);
  ASSERT_EQ(*meetings().orphanMeetingsOf("gone"), 1);
  constexpr int kThreads = 12;
  PgConnection otherPool(optionsFor(db_.url()));
  PgMeetingStore other(otherPool);
  std::vector<MeetingStore::Claim> claims(kThreads);
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      MeetingStore& store = i % 2 ? static_cast<MeetingStore&>(other) : meetings();
      start.arrive_and_wait();
      auto c = store.claimMeeting(meetingOn("m1", "s" + std::to_string(i)));
      if (!c) {
        ++failures;
        return;
      }
      claims[i] = *c;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto stored = meetings().findMeeting("m1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_NE((*stored)->serverId, "gone");
  EXPECT_FALSE((*stored)->orphaned);
  int winners = 0;
  for (const auto& c : claims) {
    winners += c.claimed;
    EXPECT_EQ(c.meeting.serverId, (*stored)->serverId);
  }
  EXPECT_EQ(winners, 1);
}

TEST_F(PgMeetingStoreTest, RemoveWithServerGuard) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().removeMeeting("m1", "s2").ok());
  EXPECT_TRUE(meetings().findMeeting("m1")->has_value()) << "still on s1: not removed";
  ASSERT_TRUE(meetings().removeMeeting("m1", "s1").ok());
  EXPECT_FALSE(meetings().findMeeting("m1")->has_value());
}

TEST_F(PgMeetingStoreTest, RemoveWithoutServerAndRemoveMissing) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().removeMeeting("m1").ok());
  EXPECT_FALSE(meetings().findMeeting("m1")->has_value());
  EXPECT_TRUE(meetings().removeMeeting("m1").ok());
  EXPECT_TRUE(meetings().removeMeeting("never", "s1").ok());
}

TEST_F(PgMeetingStoreTest, ListMeetingsFilteredAndOrdered) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m3", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("m2", "s2"))->claimed);
  EXPECT_EQ(idsOf(*meetings().listMeetings()), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(idsOf(*meetings().listMeetings("s2")), std::vector<std::string>{"m2"});
  EXPECT_TRUE(meetings().listMeetings("s9")->empty());
  EXPECT_EQ(idsOf(*store_->listAllMeetings()), (std::vector<std::string>{"m1", "m2", "m3"}));
}

TEST_F(PgMeetingStoreTest, ListOrderIsByteOrderLikeTheMemoryStore) {
  std::vector<std::string> ids = {"room-b", "Room-B", "room-\xc3\xa4", "10", "9", "room a"};
  std::set<std::string> expected(ids.begin(), ids.end());
  for (const auto& id : ids) ASSERT_TRUE(meetings().claimMeeting(meetingOn(id, "s1"))->claimed);
  EXPECT_EQ(idsOf(*meetings().listMeetings("s1")),
            std::vector<std::string>(expected.begin(), expected.end()));
}

// A meeting with every field set to text that is hard to store: UTF-8, quotes, JSON's special
// characters, repeated and empty parameters, a binary body.
Meeting exoticMeeting() {
  Meeting m;
  m.id = "Gruppenraum \xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89 'x' \"y\" \\z";
  m.serverId = "server-\xc3\xa9";
  m.moderatorPw = "pw with spaces & symbols ' \" ;-- $1 %";
  m.tenant = "tenant-\xc3\xbc";
  m.createdAtMs = 1732200000123;
  // Order kept (b before a), repeated names kept, empty values and names kept, UTF-8, JSON's
  // special characters, control characters.
  m.createParams.append("name",
                        "Kurs \xc3\x9c"
                        "bung \xf0\x9f\x8e\x93");
  m.createParams.append("b", "2");
  m.createParams.append("a", "1");
  m.createParams.append("a", "1-again");
  m.createParams.append("empty", "");
  m.createParams.append("", "nameless");
  m.createParams.append("meta_json", "{\"k\": [1, \"\\u0000\"]} \\ / \b \f \n \r \t \x01 \x7f");
  m.createParams.append("welcome", std::string(5000, 'w'));
  // The body, byte for byte: any encoding, even NUL and bytes that are not UTF-8.
  m.createBody =
      std::string("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<modules>\xe4\xf6\xfc") +
      std::string("\0\x01\xff\xfe", 4) + "</modules>";
  m.serverTagRequest = "eu!";
  m.sizeHint = 42;
  m.orphaned = false;

  return m;
}

TEST_F(PgMeetingStoreTest, EveryFieldRoundTripsExactly) {
  const Meeting m = exoticMeeting();
  auto c = meetings().claimMeeting(m);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->claimed);
  expectSameMeeting(c->meeting, m);
  auto got = meetings().findMeeting(m.id);
  ASSERT_TRUE(got.ok() && got->has_value()) << (got.ok() ? "missing" : got.error().message);
  expectSameMeeting(**got, m);
  auto listed = meetings().listMeetings(m.serverId);
  ASSERT_EQ(listed->size(), 1u);
  expectSameMeeting((*listed)[0], m);

  // And the loser of a later claim sees exactly this.
  Meeting other = meetingOn(m.id, "elsewhere");
  auto lost = meetings().claimMeeting(other);
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->claimed);
  expectSameMeeting(lost->meeting, m);

  // Empty everything round-trips too.
  Meeting bare;
  bare.id = "bare";
  ASSERT_TRUE(meetings().claimMeeting(bare)->claimed);
  expectSameMeeting(**meetings().findMeeting("bare"), bare);

  // The create parameters are a JSON array of [name, value] pairs in the database.
  auto raw = query(db_.url(), "SELECT create_params::text FROM meetings WHERE id = 'bare'");
  EXPECT_EQ(raw[0][0].as<std::string>(), "[]");
}

// Several claims in one statement (kClaimMeetings): every field exact, a live holder kept, an
// orphan replaced, a repeated id losing to its first claim, text PostgreSQL cannot hold refused
// for that meeting alone.
TEST_F(PgMeetingStoreTest, PlacedMeetingsListTheRoutingFieldsExactly) {
  Meeting exotic = exoticMeeting();
  exotic.createdAtMs = 9'000'000'000'123;  // beyond 32 bits
  ASSERT_TRUE(meetings().claimMeeting(exotic)->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("a", "s1"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("b", "s2"))->claimed);
  ASSERT_EQ(*meetings().orphanMeetingsOf("s2"), 1);
  auto placed = meetings().listPlacedMeetings();
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  std::vector<PlacedMeeting> want;
  auto whole = meetings().listMeetings();
  ASSERT_TRUE(whole.ok());
  for (const auto& m : *whole) want.push_back(PlacedMeeting::of(m));
  EXPECT_EQ(*placed, want);
  ASSERT_EQ(placed->size(), 3u);
  EXPECT_EQ((*placed)[0], PlacedMeeting::of(exotic));  // "Gruppenraum…": 'G' sorts before 'a'
  EXPECT_TRUE((*placed)[2].orphaned);
}

TEST_F(PgMeetingStoreTest, ClaimsOfSeveralMeetingsInOneStatement) {
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("held", "s9"))->claimed);
  ASSERT_TRUE(meetings().claimMeeting(meetingOn("orphan", "gone"))->claimed);
  ASSERT_EQ(*meetings().orphanMeetingsOf("gone"), 1);
  Meeting bare;
  bare.id = "bare";
  Meeting unstorable = meetingOn("unstorable", "s1");
  unstorable.moderatorPw = std::string("pw\0x", 4);
  const std::vector<Meeting> batch{
      exoticMeeting(), meetingOn("held", "s1"), bare, meetingOn("orphan", "s2"),
      unstorable,      meetingOn("bare", "s3")};
  auto claims = meetings().claimMeetings(batch);
  ASSERT_EQ(claims.size(), batch.size());
  ASSERT_TRUE(claims[0].ok()) << claims[0].error().message;
  EXPECT_TRUE(claims[0]->claimed);
  expectSameMeeting(claims[0]->meeting, batch[0]);
  expectSameMeeting(**meetings().findMeeting(batch[0].id), batch[0]);
  ASSERT_TRUE(claims[1].ok());
  EXPECT_FALSE(claims[1]->claimed);
  expectSameMeeting(claims[1]->meeting, meetingOn("held", "s9"));
  ASSERT_TRUE(claims[2].ok());
  EXPECT_TRUE(claims[2]->claimed);
  expectSameMeeting(**meetings().findMeeting("bare"), bare);
  ASSERT_TRUE(claims[3].ok());
  EXPECT_TRUE(claims[3]->claimed);
  EXPECT_EQ((*meetings().findMeeting("orphan"))->serverId, "s2");
  EXPECT_FALSE((*meetings().findMeeting("orphan"))->orphaned);
  ASSERT_FALSE(claims[4].ok());
  EXPECT_EQ(claims[4].error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(meetings().findMeeting("unstorable")->has_value());
  ASSERT_TRUE(claims[5].ok());
  EXPECT_FALSE(claims[5]->claimed);
  expectSameMeeting(claims[5]->meeting, bare);
}

// Batches from two pools (two routers) over the same ids in opposite orders: the rows are
// claimed in id order, so they never deadlock, and each id has one winner.
TEST_F(PgMeetingStoreTest, RacingClaimBatchesInOppositeOrdersHaveOneWinnerPerId) {
  constexpr int kThreads = 8;
  constexpr int kIds = 20;
  PgConnection otherPool(optionsFor(db_.url()));
  PgMeetingStore other(otherPool);
  for (int round = 0; round < 5; ++round) {
    std::vector<std::vector<Result<MeetingStore::Claim>>> answers(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        MeetingStore& store = t % 2 ? static_cast<MeetingStore&>(other) : meetings();
        std::vector<Meeting> batch;
        for (int i = 0; i < kIds; ++i) {
          const int id = t % 2 ? i : kIds - 1 - i;
          batch.push_back(meetingOn("r" + std::to_string(round) + "-" + std::to_string(id),
                                    "s" + std::to_string(t)));
        }
        start.arrive_and_wait();
        answers[t] = store.claimMeetings(batch);
      });
    }
    for (auto& th : threads) th.join();
    std::map<std::string, int> winners;
    for (const auto& batch : answers) {
      ASSERT_EQ(batch.size(), static_cast<size_t>(kIds));
      for (const auto& c : batch) {
        ASSERT_TRUE(c.ok()) << c.error().message;
        winners[c->meeting.id] += c->claimed;
        EXPECT_EQ(c->meeting.serverId, (*meetings().findMeeting(c->meeting.id))->serverId);
      }
    }
    ASSERT_EQ(winners.size(), static_cast<size_t>(kIds));
    for (const auto& [id, n] : winners) EXPECT_EQ(n, 1) << id;
  }
}

// Issue 18 item 9: one claim PostgreSQL refuses (an ID past its index's size limit: random, so
// PostgreSQL cannot compress it under the limit) failed the one statement of its batch, and so
// every other create of the batch. Now the others are claimed one by one.
TEST_F(PgMeetingStoreTest, OneRefusedClaimDoesNotFailTheOthersOfItsBatch) {
  std::string huge;
  uint32_t x = 12345;
  for (int i = 0; i < 3000; ++i) {
    x = x * 1103515245 + 12345;
    huge += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[(x >> 16) % 62];
  }
  std::vector<Meeting> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(meetingOn("ordinary-" + std::to_string(i), "s1"));
  batch.insert(batch.begin() + 7, meetingOn(huge, "s1"));
  auto claims = meetings().claimMeetings(batch);
  ASSERT_EQ(claims.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].id == huge) {
      EXPECT_FALSE(claims[i].ok());
      continue;
    }
    ASSERT_TRUE(claims[i].ok()) << batch[i].id << ": " << claims[i].error().message;
    EXPECT_TRUE(claims[i]->claimed) << batch[i].id;
    EXPECT_TRUE(meetings().findMeeting(batch[i].id)->has_value()) << batch[i].id;
  }
}

TEST_F(PgMeetingStoreTest, TextPostgresCannotHoldIsRefused) {
  Meeting nul = meetingOn("m1", "s1");
  nul.moderatorPw = std::string("pw\0x", 4);
  auto c = meetings().claimMeeting(nul);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  Meeting notUtf8 = meetingOn("m1", "s1");
  notUtf8.createParams.append("name", "\xc3(");
  EXPECT_EQ(meetings().claimMeeting(notUtf8).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(meetings().findMeeting("m1")->has_value()) << "nothing stored";
}

// ---- connection: timeouts, failures, reconnection
// ----------------------------------------------------

class PgConnectionTest : public PgDatabaseTest {};

TEST_F(PgConnectionTest, ConninfoAddsTimeoutsAndRedactsThePassword) {
  PgOptions o;
  o.url = "postgresql://sb:pa%40ss@db.example.com:5432/switchboard";
  o.connectTimeoutSeconds = 3;
  o.tcpUserTimeoutMs = 5000;
  EXPECT_EQ(pgConninfo(o),
            "postgresql://sb:pa%40ss@db.example.com:5432/switchboard?connect_timeout=3&"
            "tcp_user_timeout=5000&fallback_application_name=switchboard");
  o.url = "postgres://sb@db/x?sslmode=require&connect_timeout=9";
  EXPECT_EQ(pgConninfo(o),
            "postgres://sb@db/x?sslmode=require&connect_timeout=9&tcp_user_timeout=5000&"
            "fallback_application_name=switchboard");
  o.url = "host=db dbname=x password=secret";
  EXPECT_EQ(pgConninfo(o),
            "host=db dbname=x password=secret connect_timeout=3 tcp_user_timeout=5000 "
            "fallback_application_name=switchboard");

  EXPECT_EQ(redactPgUrl("postgresql://sb:pa%40ss@db.example.com:5432/switchboard"),
            "postgresql://sb:***@db.example.com:5432/switchboard");
  EXPECT_EQ(redactPgUrl("postgresql://sb@db/x?password=hunter2&sslmode=require"),
            "postgresql://sb@db/x?password=***&sslmode=require");
  EXPECT_EQ(redactPgUrl("host=db password='a b\\' c' dbname=x"), "host=db password=*** dbname=x");
  EXPECT_EQ(redactPgUrl("postgresql://db/x"), "postgresql://db/x");
}

TEST_F(PgConnectionTest, PingAndStoresShareThePool) {
  EXPECT_TRUE(pg_->ping().ok());
  PgServerStore servers(*pg_);
  PgMeetingStore meetings(*pg_);
  EXPECT_TRUE(servers.ping().ok());
  EXPECT_TRUE(meetings.ping().ok());
  EXPECT_TRUE(pg_->reachable());
}

// The names of the statements prepared in the session of a one-connection pool.
std::vector<std::string> preparedInSession(PgConnection& pg) {
  auto names = pg.autocommit([](pqxx::nontransaction& txn) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& row : txn.exec("SELECT name FROM pg_prepared_statements ORDER BY name")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
  return names ? *names : std::vector<std::string>{"error: " + names.error().message};
}

TEST_F(PgConnectionTest, StoreStatementsRunPreparedOrByTheirTextWhenTurnedOff) {
  for (bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared" : "by text");
    PgOptions o = optionsFor(db_.url());
    o.maxConnections = 1;  // every call on the same session, so its prepared statements show
    o.preparedStatements = prepared;
    PgConnection pg(o);
    PgMeetingStore meetings(pg);
    const std::string id = prepared ? "m-prepared" : "m-text";
    ASSERT_TRUE(meetings.claimMeeting(meetingOn(id, "s1"))->claimed);
    EXPECT_FALSE(meetings.claimMeeting(meetingOn(id, "s2"))->claimed);
    auto found = meetings.findMeeting(id);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->serverId, "s1");
    std::vector<std::string> expected;
    if (prepared) expected = {"claim_meeting", "find_meeting"};
    EXPECT_EQ(preparedInSession(pg), expected);
  }
}

TEST_F(PgConnectionTest, StatementTimeoutFailsTheCallAndKeepsThePoolUsable) {
  PgOptions o = optionsFor(db_.url());
  o.statementTimeoutMs = 300;
  o.maxConnections = 1;
  PgConnection pg(o);
  LogCapture logs;
  auto start = Clock::now();
  Status slow = pg.transact([](pqxx::work& txn) -> Status {
    txn.exec("SELECT pg_sleep(5)");
    return Status::Ok();
  });
  ASSERT_FALSE(slow.ok());
  EXPECT_LT(secondsSince(start), 2.0);
  EXPECT_EQ(slow.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_EQ(slow.error().message.rfind("postgres: ", 0), 0u) << slow.error().message;
  EXPECT_NE(slow.error().message.find("statement timeout"), std::string::npos)
      << slow.error().message;
  // The one connection survived: not unreachable, and the next call works on it.
  EXPECT_TRUE(pg.reachable());
  EXPECT_TRUE(pg.ping().ok());
  EXPECT_EQ(logs.count("unreachable"), 0);
}

TEST_F(PgConnectionTest, AnExceptionInsideATransactionRollsItBackAndIsAnError) {
  PgServerStore servers(*pg_);
  Status s = pg_->transact([](pqxx::work& txn) -> Status {
    txn.exec("INSERT INTO servers (id, url, secret) VALUES ('x', 'u', 's')");
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_EQ(s.error().message, "postgres: boom");
  EXPECT_TRUE(servers.listServers()->empty());
  Status bad = pg_->transact([](pqxx::work& txn) -> Status {
    txn.exec("SELECT no_such_column FROM servers");
    return Status::Ok();
  });
  EXPECT_EQ(bad.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_TRUE(pg_->ping().ok());
}

// The statement_timeout the pool's sessions run with.
std::string sessionStatementTimeout(PgConnection& pg) {
  auto shown = pg.transact([](pqxx::work& txn) -> Result<std::string> {
    return txn.exec1("SHOW statement_timeout")[0].as<std::string>();
  });
  return shown.ok() ? *shown : "error: " + shown.error().message;
}

// A port where nothing listens (bound, then closed).
int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(PgConnectionTest, UnreachableServerIsStoreUnavailableWithoutThePassword) {
  LogCapture logs;
  PgOptions o;
  o.url = "postgresql://postgres:Sup3rSecretPw@127.0.0.1:" + std::to_string(closedPort()) + "/x";
  o.connectTimeoutSeconds = 2;
  PgConnection pg(o);
  PgMeetingStore meetings(pg);
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    auto r = meetings.findMeeting("m1");
    ASSERT_FALSE(r.ok());
    EXPECT_LT(secondsSince(start), 1.0) << "a refused connection fails at once";
    EXPECT_EQ(r.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_EQ(r.error().message.rfind("postgres: ", 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().message.find("Sup3rSecretPw"), std::string::npos);
  }
  EXPECT_FALSE(pg.reachable());
  EXPECT_EQ(logs.count("unreachable"), 1) << logs.text();
  EXPECT_EQ(logs.text().find("Sup3rSecretPw"), std::string::npos) << logs.text();
  EXPECT_NE(logs.text().find("postgres:***@127.0.0.1"), std::string::npos) << logs.text();
}

TEST_F(PgConnectionTest, ConnectTimeoutOnASilentServer) {
  // A listener that never answers: the TCP handshake completes (backlog), the startup reply never
  // comes, and only connect_timeout ends the wait.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 64), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  PgOptions o;
  o.url = "postgresql://postgres@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";
  o.connectTimeoutSeconds = 2;
  PgConnection pg(o);

  auto start = Clock::now();
  Status first = pg.ping();
  double waited = secondsSince(start);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_GT(waited, 1.5);
  EXPECT_LT(waited, 4.5);

  // Now unreachable: while one caller waits for the connect timeout again, others fail at once
  // instead of piling up behind it.
  std::thread prober([&] { (void)pg.ping(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  start = Clock::now();
  Status other = pg.ping();
  EXPECT_FALSE(other.ok());
  EXPECT_LT(secondsSince(start), 0.5);
  prober.join();
  ::close(fd);
}

TEST_F(PgConnectionTest, KilledSessionsAreReplacedWithoutFailingCalls) {
  LogCapture logs;
  PgOptions o = optionsFor(db_.url());
  o.maxConnections = 4;
  PgConnection pg(o);
  PgMeetingStore meetings(pg);
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m1", "s1"))->claimed);
  // Fill the pool with idle connections.
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { (void)meetings.listMeetings(); });
    for (auto& t : threads) t.join();
  }
  // An operator (or an idle timeout, or a failover) kills every session of the database.
  pqxx::connection admin(pgConninfo(PgOptions{.url = databaseUrl()}));
  pqxx::nontransaction txn(admin);
  auto killed = txn.exec_params(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
      db_.name());
  EXPECT_GE(killed[0][0].as<int>(), 1);
  // Termination is asynchronous: wait until the sessions are gone.
  for (int i = 0; i < 100; ++i) {
    auto left =
        txn.exec_params("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", db_.name());
    if (left[0][0].as<int>() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // The next calls notice, drop the dead connections and succeed on new ones.
  for (int i = 0; i < 5; ++i) {
    auto m = meetings.findMeeting("m1");
    ASSERT_TRUE(m.ok()) << m.error().message;
    ASSERT_TRUE(m->has_value());
  }
  EXPECT_TRUE(pg.reachable());
  EXPECT_EQ(logs.count("unreachable"), 0) << logs.text();
  EXPECT_EQ(sessionStatementTimeout(pg), "2s") << "new sessions get the statement timeout too";
}

// ---- a real server stopped and restarted -------------------------------------------------------

// A throw-away PostgreSQL server of its own (initdb into a temporary folder, loopback, a free
// port), run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
class PrivatePostgres {
 public:
  ~PrivatePostgres() {
    if (dir_.empty()) return;
    (void)stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Returns the error text, "" on success.
  std::string start() {
    if (dir_.empty()) {
      std::string error = init();
      if (!error.empty()) return error;
    }
    return run(bin_ + "/pg_ctl -D " + data() + " -l " + dir_ +
               "/log -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
               " -c unix_socket_directories=" + dir_ + " -c fsync=off\" start");
  }
  std::string stop() { return run(bin_ + "/pg_ctl -D " + data() + " -m fast -w stop"); }
  std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

 private:
  std::string data() const { return dir_ + "/data"; }

  std::string init() {
    std::error_code ec;
    std::vector<fs::path> versions;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      if (fs::exists(e.path() / "bin" / "initdb")) versions.push_back(e.path());
    }
    if (versions.empty()) return "no PostgreSQL server binaries under /usr/lib/postgresql";
    std::sort(versions.begin(), versions.end(), [](const fs::path& a, const fs::path& b) {
      return std::stoi(a.filename().string()) < std::stoi(b.filename().string());
    });
    bin_ = (versions.back() / "bin").string();
    char folder[] = "/tmp/sb-pg-private.XXXXXX";
    if (::mkdtemp(folder) == nullptr) return "mkdtemp failed";
    dir_ = folder;
    if (::geteuid() == 0) {
      passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) return "running as root, but there is no postgres user";
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return "chown failed";
    }
    port_ = closedPort();
    return run(bin_ + "/initdb -D " + data() + " -A trust -U postgres --no-sync");
  }

  std::string run(const std::string& command) {
    std::string full = command + " >>" + dir_ + "/commands.log 2>&1";
    if (::geteuid() == 0) full = "su postgres -s /bin/sh -c '" + full + "'";
    int rc = std::system(full.c_str());
    if (rc == 0) return "";
    std::ifstream log(dir_ + "/commands.log");
    std::stringstream text;
    text << log.rdbuf();
    return "`" + command + "` failed (" + std::to_string(rc) + "): " + text.str();
  }

  std::string bin_;
  std::string dir_;
  int port_ = 0;
};

TEST(PgReconnectTest, ServerStopAndRestart) {
  PrivatePostgres server;
  std::string error = server.start();
  ASSERT_EQ(error, "");
  PgOptions o;
  o.url = server.url();
  o.connectTimeoutSeconds = 2;
  o.statementTimeoutMs = 2000;
  PgConnection pg(o);
  ASSERT_TRUE(Migrator(pg, embeddedMigrations()).migrate().ok());
  PgMeetingStore meetings(pg);
  PgServerStore servers(pg);
  ASSERT_TRUE(meetings.claimMeeting(meetingOn("m1", "s1"))->claimed);
  ASSERT_TRUE(servers.addServer(makeServer("s1")).ok());

  LogCapture logs;
  error = server.stop();
  ASSERT_EQ(error, "");
  // Down: every call fails with kStoreUnavailable, within the timeouts (connect + statement).
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    auto m = meetings.findMeeting("m1");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_EQ(m.error().message.rfind("postgres: ", 0), 0u) << m.error().message;
    EXPECT_LT(secondsSince(start), 4.0);
    auto claim = meetings.claimMeeting(meetingOn("m2", "s1"));
    ASSERT_FALSE(claim.ok());
    EXPECT_EQ(claim.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_EQ(servers.reserve("s1", 1, 1).error().code, ErrorCode::kStoreUnavailable);
  }
  EXPECT_FALSE(pg.reachable());

  error = server.start();
  ASSERT_EQ(error, "");
  // Back: the next calls succeed by themselves, and the data survived.
  auto m = meetings.findMeeting("m1");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->serverId, "s1");
  EXPECT_TRUE(meetings.claimMeeting(meetingOn("m2", "s1"))->claimed);
  EXPECT_TRUE(servers.reserve("s1", 1, 1).ok());
  EXPECT_TRUE(pg.reachable());
  EXPECT_EQ(sessionStatementTimeout(pg), "2s");

  // One warning for the outage and one line for the recovery, not one per call.
  EXPECT_EQ(logs.count("is unreachable"), 1) << logs.text();
  EXPECT_EQ(logs.count("is reachable again"), 1) << logs.text();
}

// ---- the recording store contract (tests/unit/recording_store_contract.h) on PostgreSQL ---------

// A PgRecordingStore on its own migrated scratch database, which it owns.
class ScratchPgRecordingStore final : public RecordingStore {
 public:
  ScratchPgRecordingStore() {
    std::string error = db_.create();
    EXPECT_EQ(error, "");
    pg_ = std::make_unique<PgConnection>(optionsFor(db_.url()));
    auto applied = Migrator(*pg_, embeddedMigrations()).migrate();
    EXPECT_TRUE(applied.ok()) << (applied.ok() ? "" : applied.error().message);
    store_ = std::make_unique<PgRecordingStore>(*pg_);
  }
  ~ScratchPgRecordingStore() override {
    store_.reset();
    pg_.reset();
  }
  Status put(const Recording& r) override { return store_->put(r); }
  Result<std::vector<Recording>> findExact(std::span<const std::string> ids,
                                           std::string_view tenant) override {
    return store_->findExact(ids, tenant);
  }
  Result<RecordingPage> query(const RecordingQuery& q) override { return store_->query(q); }

 private:
  ScratchDatabase db_;
  std::unique_ptr<PgConnection> pg_;
  std::unique_ptr<PgRecordingStore> store_;
};

}  // namespace

template <>
struct RecordingStoreMaker<ScratchPgRecordingStore> {
  static std::unique_ptr<ScratchPgRecordingStore> make() {
    return std::make_unique<ScratchPgRecordingStore>();
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, RecordingStoreContract, ScratchPgRecordingStore);

namespace {

// Metadata values and IDs with quotes, backslashes, LIKE's wildcards and bytes that are not UTF-8
// go in and come back as they were, and a prefix is a prefix, not a pattern.
TEST(PgRecordingStoreTest, AwkwardTextIsKeptAndPrefixesAreNotPatterns) {
  ScratchPgRecordingStore store;
  Recording r = sampleRecording("a%_\\'\"-1", "m'1", 1000);
  r.metadata.emplace_back("quote", "it's \"x\" \\ y");
  ASSERT_TRUE(store.put(r).ok());
  ASSERT_TRUE(store.put(sampleRecording("abc-1", "m2", 2000)).ok());
  RecordingQuery q;
  q.recordIdPrefixes = {"a%"};
  auto page = store.query(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->recordings.size(), 1u);
  EXPECT_EQ(page->recordings[0].recordId, r.recordId);
  EXPECT_EQ(page->recordings[0].meta("quote"), "it's \"x\" \\ y");
  q.recordIdPrefixes = {"a_"};
  EXPECT_EQ(store.query(q)->recordings.size(), 0u);
  RecordingQuery byMeta;
  byMeta.meta = {{"quote", {"it's \"x\" \\ y"}}};
  EXPECT_EQ(store.query(byMeta)->total, 1u);
}

// ---- the callback queue contract (tests/unit/callback_queue_contract.h) on PostgreSQL ----------

// A migrated scratch database with stores of one port on it (each make(): another store on the
// same database, as the routers of a pool see it).
template <typename Port, typename Adapter>
class ScratchPgStorage {
 public:
  ScratchPgStorage() {
    std::string error = db_.create();
    EXPECT_EQ(error, "");
    pg_ = std::make_unique<PgConnection>(optionsFor(db_.url()));
    auto applied = Migrator(*pg_, embeddedMigrations()).migrate();
    EXPECT_TRUE(applied.ok()) << (applied.ok() ? "" : applied.error().message);
  }
  ~ScratchPgStorage() { pg_.reset(); }
  std::unique_ptr<Port> make() { return std::make_unique<Adapter>(*pg_); }

 private:
  ScratchDatabase db_;
  std::unique_ptr<PgConnection> pg_;
};
using PgCallbackStorage = ScratchPgStorage<CallbackQueue, PgCallbackQueue>;
using PgTenantStorage = ScratchPgStorage<TenantStore, PgTenantStore>;

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, CallbackQueueContract, PgCallbackStorage);

// ---- the tenant store contract (tests/unit/tenant_store_contract.h) on PostgreSQL -------------

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, TenantStoreContract, PgTenantStorage);

namespace {

// A relay that died mid-attempt holds its callback only until its hold passes.
TEST(PgCallbackQueueTest, AClaimOfARelayThatDiedIsTakenOverAfterItsHold) {
  PgCallbackStorage storage;
  auto dead = storage.make();
  auto alive = storage.make();
  PendingCallback c;
  c.id = readyCallbackId("r1");
  c.recordId = "r1";
  c.url = "http://frontend/x";
  ASSERT_TRUE(dead->add(c).ok());
  auto held = dead->claimDue(1000, 61'000);
  ASSERT_TRUE(held.ok() && held->has_value());
  auto during = alive->claimDue(60'999, 120'000);
  ASSERT_TRUE(during.ok());
  EXPECT_FALSE(during->has_value()) << "held until 61,000";
  auto after = alive->claimDue(61'000, 121'000);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->recordId, "r1");
}

}  // namespace
}  // namespace sb
