// Redis (hot) + PostgreSQL (durable) behind the store ports, as docs/ARCHITECTURE.md's table
// says:
//   - server inventory: PostgreSQL is the truth, Redis a cache rebuilt on a miss (or when empty);
//     live state (poller) and reservations: Redis, falling back to PostgreSQL while Redis is down;
//   - meetings: Redis arbitrates claims (atomic across routers) and serves lookups; every claim is
//     written through to PostgreSQL before it is acknowledged, so a Redis flush or restart loses
//     nothing: a lookup that misses Redis reads PostgreSQL and puts the meeting back, and a claim
//     that wins in Redis but finds a live record in PostgreSQL loses to that record (put back).
//   - PostgreSQL down: lookups (joins) keep working from Redis; claims (creates) fail with
//     kStoreUnavailable, because an unrecorded meeting would be lost on the next Redis failure.
//     Removals go to Redis and are retried on PostgreSQL by the poller's sweep later.
//   - Redis down: everything falls back to PostgreSQL (slower, still correct: PostgreSQL claims
//     are atomic too).
// The two stores given are the adapters of db/redis_store.h and db/pg_store.h (or fakes).
// Thread-safety: as the underlying stores.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "core/leader_lease.h"
#include "core/meeting_store.h"
#include "core/server_store.h"

namespace sb {

class DurableServerStore final : public ServerStore {
 public:
  DurableServerStore(ServerStore& redis, ServerStore& pg) : redis_(redis), pg_(pg) {}

  Result<std::vector<Server>> listServers() override;
  Result<Server> getServer(std::string_view id) override;
  Status addServer(const Server& server) override;
  Status updateServer(const Server& server) override;
  Status removeServer(std::string_view id) override;
  Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                  AdminState next) override;
  Status updateLiveState(std::string_view id, const ServerLiveState& live) override;
  Status reserve(std::string_view id, double load, int meetings) override;
  Status reserveMany(std::span<const Reservation> reservations) override;

 private:
  // Puts a PostgreSQL server record back into Redis (after a flush or a Redis restart).
  void recache(const Server& server);
  // Whether the live state should also go to PostgreSQL now: when health changed since the last
  // snapshot, or the last one is older than kSnapshotEvery. Keeps a Redis flush from bringing
  // servers back as offline, without a PostgreSQL write per server per poll.
  bool snapshotDue(std::string_view id, const ServerLiveState& live);

  ServerStore& redis_;
  ServerStore& pg_;
  std::mutex mu_;
  struct Snapshot {
    bool online = false;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, Snapshot, std::less<>> snapshots_;  // guarded by mu_
};

class DurableMeetingStore final : public MeetingStore {
 public:
  DurableMeetingStore(MeetingStore& redis, MeetingStore& pg) : redis_(redis), pg_(pg) {}

  Result<std::optional<Meeting>> findMeeting(std::string_view id) override;
  // Redis's batch read; the ids it misses (or all, when Redis is down) go through findMeeting.
  Result<std::vector<std::optional<Meeting>>> findMeetings(
      std::span<const std::string> ids) override;
  Result<Claim> claimMeeting(const Meeting& meeting) override;
  bool prefersClaimBatches() const override { return true; }
  Status removeMeeting(std::string_view id, std::string_view serverId) override;
  Result<int> orphanMeetingsOf(std::string_view serverId) override;
  Result<std::vector<Meeting>> listMeetings(std::string_view serverId) override;
  Result<std::vector<PlacedMeeting>> listPlacedMeetings() override;
  // In Redis only (best effort: a Redis loss forgets them).
  Status rememberEnded(std::string_view id, int64_t atMs, std::chrono::milliseconds keep) override {
    return redis_.rememberEnded(id, atMs, keep);
  }
  Result<std::optional<int64_t>> endedAt(std::string_view id) override {
    return redis_.endedAt(id);
  }

  // Copies every PostgreSQL meeting missing from Redis into Redis (start-up, after a flush).
  // Returns how many were restored.
  Result<int> warmCache();

 protected:
  // Redis arbitrates them all in one script run. PostgreSQL then records those Redis won, in one
  // statement, and a claim is acknowledged only once it has (otherwise Redis's is taken back);
  // those Redis could not arbitrate (down) PostgreSQL arbitrates alone, in the same statement.
  std::vector<Result<Claim>> claimDistinctMeetings(std::span<const Meeting> meetings) override;

 private:
  // Takes back a claim Redis won and PostgreSQL did not (`durable`: its answer), and returns the
  // claim's outcome: the live meeting PostgreSQL holds, or the error.
  Result<Claim> undoRedisClaim(const Meeting& meeting, Result<Claim> durable);

  MeetingStore& redis_;
  MeetingStore& pg_;
};

// The poller's lease in both stores, so exactly one poller is active while either answers:
// polling and failover go on while Redis is down, and while PostgreSQL is down.
//   - A poller is active when it holds the lease in every store that answers (and one does).
//   - Redis decides first: a poller that finds Redis's lease held by another stands by, and gives
//     up PostgreSQL's if it held it (taken while it could not reach Redis), so the holder of
//     Redis's takes PostgreSQL's too within a renewal or two.
//   - A poller holding one lease while the other store's is held elsewhere stands by (that one
//     is given up as above).
// Not covered: a network split where one poller reaches only Redis and another only PostgreSQL;
// each then holds the store it reaches (docs/ARCHITECTURE.md).
class DurableLeaderLease final : public LeaderLease {
 public:
  DurableLeaderLease(LeaderLease& redis, LeaderLease& pg) : redis_(redis), pg_(pg) {}
  Result<bool> acquire(const std::string& holder, std::chrono::milliseconds ttl) override;
  Status release(const std::string& holder) override;

 private:
  LeaderLease& redis_;
  LeaderLease& pg_;
};

}  // namespace sb
