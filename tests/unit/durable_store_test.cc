// The Redis + PostgreSQL layering, with memory stores standing in for both and switches that
// make either unreachable.
#include "db/durable_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/memory_store.h"

namespace sb {
namespace {

Error down() { return Error::of(ErrorCode::kStoreUnavailable, "down"); }

// A server store that answers kStoreUnavailable while `up` is false.
class SwitchableServerStore final : public ServerStore {
 public:
  bool up = true;
  std::unique_ptr<MemoryServerStore> inner = std::make_unique<MemoryServerStore>();
  Result<std::vector<Server>> listServers() override {
    if (!up) return down();
    return inner->listServers();
  }
  Result<Server> getServer(std::string_view id) override {
    if (!up) return down();
    return inner->getServer(id);
  }
  Status addServer(const Server& s) override { return up ? inner->addServer(s) : down(); }
  Status updateServer(const Server& s) override { return up ? inner->updateServer(s) : down(); }
  Status removeServer(std::string_view id) override {
    return up ? inner->removeServer(id) : down();
  }
  Result<bool> compareAndSetState(std::string_view id, AdminState e, AdminState n) override {
    if (!up) return down();
    return inner->compareAndSetState(id, e, n);
  }
  Status updateLiveState(std::string_view id, const ServerLiveState& l) override {
    return up ? inner->updateLiveState(id, l) : down();
  }
  Status reserve(std::string_view id, double load, int m) override {
    return up ? inner->reserve(id, load, m) : down();
  }
};

class SwitchableMeetingStore final : public MeetingStore {
 public:
  bool up = true;
  std::unique_ptr<MemoryMeetingStore> inner = std::make_unique<MemoryMeetingStore>();
  Result<std::optional<Meeting>> findMeeting(std::string_view id) override {
    if (!up) return down();
    return inner->findMeeting(id);
  }
  Result<Claim> claimMeeting(const Meeting& m) override {
    if (!up || failClaimsOf.contains(m.id)) return down();
    return inner->claimMeeting(m);
  }
  std::set<std::string> failClaimsOf;  // their claims answer kStoreUnavailable
  Status removeMeeting(std::string_view id, std::string_view s) override {
    return up ? inner->removeMeeting(id, s) : down();
  }
  Result<int> orphanMeetingsOf(std::string_view s) override {
    if (!up) return down();
    return inner->orphanMeetingsOf(s);
  }
  Result<std::vector<Meeting>> listMeetings(std::string_view s) override {
    if (!up) return down();
    return inner->listMeetings(s);
  }
  // Simulates FLUSHALL.
  void flush() { inner = std::make_unique<MemoryMeetingStore>(); }
};

Server server(const std::string& id) {
  Server s;
  s.id = id;
  s.url = "https://" + id + ".example.com/bigbluebutton/api/";
  s.secret = "secret";
  s.state = AdminState::kEnabled;
  return s;
}

Meeting meeting(const std::string& id, const std::string& serverId) {
  Meeting m;
  m.id = id;
  m.serverId = serverId;
  m.moderatorPw = "mp";
  m.createParams.append("name", "Room");
  return m;
}

class DurableStoreTest : public ::testing::Test {
 protected:
  SwitchableServerStore redisServers_, pgServers_;
  SwitchableMeetingStore redisMeetings_, pgMeetings_;
  DurableServerStore servers_{redisServers_, pgServers_};
  DurableMeetingStore meetings_{redisMeetings_, pgMeetings_};
};

TEST_F(DurableStoreTest, ClaimsAreWrittenThroughAndSurviveARedisFlush) {
  auto claim = meetings_.claimMeeting(meeting("m1", "s1"));
  ASSERT_TRUE(claim.ok());
  EXPECT_TRUE(claim->claimed);
  EXPECT_TRUE(pgMeetings_.inner->findMeeting("m1")->has_value());
  redisMeetings_.flush();
  auto found = meetings_.findMeeting("m1");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->serverId, "s1");
  EXPECT_EQ((*found)->createParams.get("name"), "Room");
  EXPECT_TRUE(redisMeetings_.inner->findMeeting("m1")->has_value());  // put back into Redis
  // A second router claiming it now loses to the restored owner.
  auto second = meetings_.claimMeeting(meeting("m1", "s2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->claimed);
  EXPECT_EQ(second->meeting.serverId, "s1");
}

// A create goes straight to the claim (no lookup first): after a Redis flush the claim of a known
// meeting must still lose to the record PostgreSQL has, and put it back into Redis.
TEST_F(DurableStoreTest, AClaimAfterARedisFlushLosesToThePostgresRecord) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m1", "s1"))->claimed);
  redisMeetings_.flush();
  auto again = meetings_.claimMeeting(meeting("m1", "s2"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->claimed);
  EXPECT_EQ(again->meeting.serverId, "s1");
  auto cached = redisMeetings_.inner->findMeeting("m1");
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_EQ((*cached)->serverId, "s1");
  EXPECT_EQ((*pgMeetings_.inner->findMeeting("m1"))->serverId, "s1");
}

TEST_F(DurableStoreTest, PostgresDownLookupsWorkAndClaimsFailCleanly) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m1", "s1")).ok());
  pgMeetings_.up = false;
  auto found = meetings_.findMeeting("m1");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->has_value());
  auto claim = meetings_.claimMeeting(meeting("m2", "s1"));
  ASSERT_FALSE(claim.ok());
  EXPECT_EQ(claim.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_FALSE(redisMeetings_.inner->findMeeting("m2")->has_value());  // no half-made claim
  pgMeetings_.up = true;
  EXPECT_TRUE(meetings_.claimMeeting(meeting("m2", "s1"))->claimed);
}

TEST_F(DurableStoreTest, RedisDownFallsBackToPostgres) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m1", "s1")).ok());
  redisMeetings_.up = false;
  EXPECT_TRUE(meetings_.findMeeting("m1")->has_value());
  auto claim = meetings_.claimMeeting(meeting("m2", "s2"));
  ASSERT_TRUE(claim.ok());
  EXPECT_TRUE(claim->claimed);
  EXPECT_FALSE(meetings_.claimMeeting(meeting("m2", "s3"))->claimed);
}

// Several claims at once (concurrent creates): each is acknowledged only once PostgreSQL has it,
// one that PostgreSQL fails is taken back from Redis alone, one that PostgreSQL knows live (Redis
// lost it) loses to that record, and a repeated id loses to its first claim.
TEST_F(DurableStoreTest, ClaimsOfSeveralMeetingsEachNeedBothStores) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("known", "s1"))->claimed);
  redisMeetings_.flush();
  pgMeetings_.failClaimsOf = {"fails"};
  std::vector<Meeting> batch{meeting("m1", "s2"), meeting("fails", "s2"), meeting("known", "s2"),
                             meeting("m1", "s3"), meeting("m2", "s3")};
  auto claims = meetings_.claimMeetings(batch);
  ASSERT_EQ(claims.size(), 5u);
  ASSERT_TRUE(claims[0].ok());
  EXPECT_TRUE(claims[0]->claimed);
  ASSERT_FALSE(claims[1].ok());
  EXPECT_EQ(claims[1].error().code, ErrorCode::kStoreUnavailable);
  EXPECT_FALSE(redisMeetings_.inner->findMeeting("fails")->has_value()) << "taken back";
  ASSERT_TRUE(claims[2].ok());
  EXPECT_FALSE(claims[2]->claimed);
  EXPECT_EQ(claims[2]->meeting.serverId, "s1");
  EXPECT_EQ((*redisMeetings_.inner->findMeeting("known"))->serverId, "s1") << "put back";
  ASSERT_TRUE(claims[3].ok());
  EXPECT_FALSE(claims[3]->claimed);
  EXPECT_EQ(claims[3]->meeting.serverId, "s2");
  ASSERT_TRUE(claims[4].ok());
  EXPECT_TRUE(claims[4]->claimed);
  for (const char* id : {"m1", "m2"}) {
    EXPECT_TRUE(redisMeetings_.inner->findMeeting(id)->has_value()) << id;
    EXPECT_TRUE(pgMeetings_.inner->findMeeting(id)->has_value()) << id;
  }
}

TEST_F(DurableStoreTest, ClaimsOfSeveralMeetingsFallBackToPostgresOrFailWhole) {
  redisMeetings_.up = false;
  auto claims = meetings_.claimMeetings(
      std::vector<Meeting>{meeting("a", "s1"), meeting("b", "s1"), meeting("a", "s2")});
  ASSERT_EQ(claims.size(), 3u);
  EXPECT_TRUE(claims[0].ok() && claims[0]->claimed);
  EXPECT_TRUE(claims[1].ok() && claims[1]->claimed);
  ASSERT_TRUE(claims[2].ok());
  EXPECT_FALSE(claims[2]->claimed) << "PostgreSQL arbitrates while Redis is down";
  EXPECT_EQ(claims[2]->meeting.serverId, "s1");

  redisMeetings_.up = true;
  pgMeetings_.up = false;
  claims = meetings_.claimMeetings(std::vector<Meeting>{meeting("c", "s1"), meeting("d", "s1")});
  for (const auto& c : claims) {
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kStoreUnavailable);
  }
  EXPECT_FALSE(redisMeetings_.inner->findMeeting("c")->has_value()) << "no half-made claim";
  EXPECT_FALSE(redisMeetings_.inner->findMeeting("d")->has_value());
}

TEST_F(DurableStoreTest, FindMeetingsFillsRedisMissesFromPostgresAndWorksWithRedisDown) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m1", "s1"))->claimed);
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m2", "s2"))->claimed);
  ASSERT_TRUE(redisMeetings_.inner->removeMeeting("m2", "").ok());  // Redis lost m2
  const std::vector<std::string> ids{"m1", "m2", "nope"};
  auto found = meetings_.findMeetings(ids);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 3u);
  ASSERT_TRUE((*found)[0].has_value());
  EXPECT_EQ((*found)[0]->serverId, "s1");
  ASSERT_TRUE((*found)[1].has_value()) << "PostgreSQL has what Redis lost";
  EXPECT_EQ((*found)[1]->serverId, "s2");
  EXPECT_FALSE((*found)[2].has_value());
  EXPECT_TRUE(redisMeetings_.inner->findMeeting("m2")->has_value()) << "put back into Redis";

  redisMeetings_.up = false;
  auto fallback = meetings_.findMeetings(ids);
  ASSERT_TRUE(fallback.ok());
  EXPECT_TRUE((*fallback)[0].has_value() && (*fallback)[1].has_value());
  EXPECT_FALSE((*fallback)[2].has_value());
  pgMeetings_.up = false;
  auto bothDown = meetings_.findMeetings(ids);
  ASSERT_FALSE(bothDown.ok());
  EXPECT_EQ(bothDown.error().code, ErrorCode::kStoreUnavailable);
}

TEST_F(DurableStoreTest, WarmCacheRestoresEveryMeeting) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(meetings_.claimMeeting(meeting("m" + std::to_string(i), "s1")).ok());
  }
  redisMeetings_.flush();
  EXPECT_EQ(*meetings_.warmCache(), 5);
  EXPECT_EQ(redisMeetings_.inner->listMeetings("s1")->size(), 5u);
}

TEST_F(DurableStoreTest, PlacedMeetingsComeFromPostgresAndFromRedisWhenItIsDown) {
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m1", "s1")).ok());
  ASSERT_TRUE(meetings_.claimMeeting(meeting("m2", "s2")).ok());
  redisMeetings_.flush();  // PostgreSQL is complete after a Redis flush
  auto placed = meetings_.listPlacedMeetings();
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->size(), 2u);
  EXPECT_EQ((*placed)[1].serverId, "s2");
  ASSERT_TRUE(redisMeetings_.inner->claimMeeting(meeting("m3", "s3")).ok());
  pgMeetings_.up = false;
  placed = meetings_.listPlacedMeetings();
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->size(), 1u);
  EXPECT_EQ(placed->front().id, "m3");
  redisMeetings_.up = false;
  EXPECT_FALSE(meetings_.listPlacedMeetings().ok());
}

TEST_F(DurableStoreTest, ServerInventoryIsRebuiltAfterAFlush) {
  ASSERT_TRUE(servers_.addServer(server("s1")).ok());
  ASSERT_TRUE(servers_.addServer(server("s2")).ok());
  redisServers_.inner = std::make_unique<MemoryServerStore>();
  auto list = servers_.listServers();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ(redisServers_.inner->listServers()->size(), 2u);
  redisServers_.inner = std::make_unique<MemoryServerStore>();
  EXPECT_EQ(servers_.getServer("s2")->id, "s2");
}

TEST_F(DurableStoreTest, ReservationsGoToRedisAndToPostgresWhileRedisIsDown) {
  ASSERT_TRUE(servers_.addServer(server("s1")).ok());
  const std::vector<ServerStore::Reservation> batch{{"s1", 15, 1}, {"gone", 1, 1}};
  ASSERT_TRUE(servers_.reserveMany(batch).ok());
  EXPECT_DOUBLE_EQ(redisServers_.inner->getServer("s1")->live.load, 15);
  EXPECT_DOUBLE_EQ(pgServers_.inner->getServer("s1")->live.load, 0) << "Redis holds live state";
  redisServers_.up = false;
  ASSERT_TRUE(servers_.reserveMany(batch).ok());
  EXPECT_DOUBLE_EQ(pgServers_.inner->getServer("s1")->live.load, 15);
  pgServers_.up = false;
  auto failed = servers_.reserveMany(batch);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kStoreUnavailable);
}

TEST_F(DurableStoreTest, LiveStateStaysInRedisAndFallsBackWhenItIsDown) {
  ASSERT_TRUE(servers_.addServer(server("s1")).ok());
  ServerLiveState live;
  live.online = true;
  live.load = 42;
  ASSERT_TRUE(servers_.updateLiveState("s1", live).ok());
  EXPECT_TRUE(servers_.getServer("s1")->live.online);
  // A health change is snapshotted to PostgreSQL (a Redis flush must not bring servers back
  // offline); a mere load change within the snapshot period is not.
  EXPECT_TRUE(pgServers_.inner->getServer("s1")->live.online);
  live.load = 50;
  ASSERT_TRUE(servers_.updateLiveState("s1", live).ok());
  EXPECT_DOUBLE_EQ(servers_.getServer("s1")->live.load, 50);
  EXPECT_DOUBLE_EQ(pgServers_.inner->getServer("s1")->live.load, 42);
  redisServers_.up = false;
  ASSERT_TRUE(servers_.updateLiveState("s1", live).ok());
  EXPECT_TRUE(servers_.getServer("s1")->live.online);  // served from PostgreSQL meanwhile
  ASSERT_TRUE(servers_.reserve("s1", 15, 1).ok());
}

TEST_F(DurableStoreTest, InventoryWritesNeedPostgres) {
  pgServers_.up = false;
  auto s = servers_.addServer(server("s1"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
  EXPECT_FALSE(redisServers_.inner->getServer("s1").ok());
}

// ---- the poller's lease in both stores (issue 17 item 5) --------------------------------------

// A lease store that can be down; holds one holder, no expiry.
class FakeLease final : public LeaderLease {
 public:
  bool down = false;
  std::string holder;
  Result<bool> acquire(const std::string& h, std::chrono::milliseconds) override {
    if (down) return Error::of(ErrorCode::kStoreUnavailable, "down");
    if (holder.empty() || holder == h) holder = h;
    return holder == h;
  }
  Status release(const std::string& h) override {
    if (down) return Error::of(ErrorCode::kStoreUnavailable, "down");
    if (holder == h) holder.clear();
    return Status::Ok();
  }
};

class DurableLeaseTest : public ::testing::Test {
 protected:
  bool active(const std::string& holder) {
    auto r = lease_.acquire(holder, std::chrono::milliseconds(1000));
    return r.ok() && *r;
  }
  FakeLease redis_, pg_;
  DurableLeaderLease lease_{redis_, pg_};
};

TEST_F(DurableLeaseTest, OneHolderWhileBothStoresAnswer) {
  EXPECT_TRUE(active("a"));
  EXPECT_FALSE(active("b"));
  EXPECT_EQ(redis_.holder, "a");
  EXPECT_EQ(pg_.holder, "a");
}

TEST_F(DurableLeaseTest, OneHolderWhileEitherStoreIsDown) {
  EXPECT_TRUE(active("a"));
  redis_.down = true;
  EXPECT_TRUE(active("a")) << "PostgreSQL's lease alone keeps it active";
  EXPECT_FALSE(active("b"));
  redis_.down = false;
  pg_.down = true;
  EXPECT_TRUE(active("a"));
  EXPECT_FALSE(active("b"));
  redis_.down = true;
  auto none = lease_.acquire("a", std::chrono::milliseconds(1000));
  EXPECT_FALSE(none.ok()) << "no store answers: stand by";
}

// After an outage the two leases may have different holders (b took PostgreSQL's while it could
// not reach Redis): neither is active, and the Redis holder gets both within two renewals.
TEST_F(DurableLeaseTest, SplitHoldersAfterAnOutageConvergeOnTheRedisHolder) {
  redis_.holder = "a";
  pg_.holder = "b";
  EXPECT_FALSE(active("a"));
  EXPECT_FALSE(active("b"));  // gives PostgreSQL's up
  EXPECT_TRUE(active("a"));
  EXPECT_FALSE(active("b"));
  EXPECT_EQ(pg_.holder, "a");
}

}  // namespace
}  // namespace sb
