// The Redis adapters of core's ports: servers, the meeting -> server map and the poller's leader
// lease, shared by every router and poller process (see db/redis_keys.h for the key layout).
//
// Records are Redis hashes, one field per struct member; doubles are written in their shortest
// exact form and integers in decimal, so a record reads back exactly as written. A meeting's
// create parameters are one field holding netstrings ("<len>:<name>,<len>:<value>,...") in order,
// binary-safe whatever the bytes.
//
// Atomicity: every operation that reads before it writes, or writes more than one key, is one Lua
// script (EVALSHA), which Redis runs without interleaving anything else. No WATCH, no
// client-side locks; concurrent processes see each operation whole. The scripts touch keys
// derived from the record they read (the previous server's meeting index on a re-claim), which
// is fine on a single Redis (with replicas), not on Redis Cluster. Needs Redis >= 5 (multi-field
// HSET, and script effects replication for writes after SMEMBERS); Debian 12 ships 7.0.
// A call that fails with a timeout may still have been applied (Redis got the command and
// answered too late), as with any remote store.
//
// Behaviour matches MemoryServerStore / MemoryMeetingStore exactly (same contract tests); store
// failures are kStoreUnavailable with a "redis: ..." message.
// Thread-safety: all classes are thread-safe (they share a thread-safe RedisConnection).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/leader_lease.h"
#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/server_store.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"

namespace sb {

class RedisServerStore final : public ServerStore {
 public:
  RedisServerStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys);

  Result<std::vector<Server>> listServers() override;
  Result<Server> getServer(std::string_view id) override;
  Status addServer(const Server& server) override;
  Status updateServer(const Server& server) override;
  Status removeServer(std::string_view id) override;
  Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                  AdminState next) override;
  Status updateLiveState(std::string_view id, const ServerLiveState& live) override;
  Status reserve(std::string_view id, double load, int meetings) override;
  // One script run for all of them (atomic, one round trip).
  Status reserveMany(std::span<const Reservation> reservations) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
};

class RedisMeetingStore final : public MeetingStore {
 public:
  RedisMeetingStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys);

  Result<std::optional<Meeting>> findMeeting(std::string_view id) override;
  // Pipelined HGETALLs: one round trip per 500 ids.
  Result<std::vector<std::optional<Meeting>>> findMeetings(
      std::span<const std::string> ids) override;
  Result<Claim> claimMeeting(const Meeting& meeting) override;
  bool prefersClaimBatches() const override { return true; }
  Status removeMeeting(std::string_view id, std::string_view serverId) override;
  Result<int> orphanMeetingsOf(std::string_view serverId) override;
  // Reads the index set, then the meetings in pipelined batches: a consistent view of each
  // meeting, not a snapshot of all of them (a meeting removed meanwhile is left out).
  Result<std::vector<Meeting>> listMeetings(std::string_view serverId) override;
  Result<std::vector<PlacedMeeting>> listPlacedMeetings() override;
  Status rememberEnded(std::string_view id, int64_t atMs, std::chrono::milliseconds keep) override;
  Result<std::optional<int64_t>> endedAt(std::string_view id) override;

 protected:
  // One script run for all of them (atomic as a whole, in order).
  std::vector<Result<Claim>> claimDistinctMeetings(std::span<const Meeting> meetings) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
};

// The meetings snapshots: one hash per server, expiring `ttl` after the last poll wrote it (a
// dead poller's snapshots go away by themselves).
class RedisSnapshotStore final : public MeetingsSnapshotStore {
 public:
  RedisSnapshotStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys,
                     std::chrono::milliseconds ttl);
  Status putSnapshot(std::string_view serverId, int64_t takenAtMs,
                     const std::string& meetingsXml) override;
  // Marks are dated by Redis's clock (TIME), not by `atMs`: see timeMs.
  Status markChanged(std::string_view serverId, int64_t atMs) override;
  // One script run for all of them.
  Status markChangedMany(const std::vector<std::string>& serverIds, int64_t atMs) override;
  // Redis's TIME, in ms.
  Result<int64_t> timeMs(int64_t localNowMs) override;
  bool prefersMarkBatches() const override { return true; }
  Result<std::vector<std::optional<MeetingsSnapshot>>> snapshots(
      const std::vector<std::string>& serverIds) override;
  Result<std::vector<std::optional<SnapshotVersion>>> versions(
      const std::vector<std::string>& serverIds) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
  const std::chrono::milliseconds ttl_;
};

// SET <ns>:lease:<name> holder NX PX ttl, or PEXPIRE when `holder` already has it (one script).
class RedisLeaderLease final : public LeaderLease {
 public:
  RedisLeaderLease(std::shared_ptr<RedisConnection> redis, RedisKeys keys,
                   std::string name = "poller");

  // kInvalidArgument when ttl < 1 ms.
  Result<bool> acquire(const std::string& holder, std::chrono::milliseconds ttl) override;
  Status release(const std::string& holder) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const std::string key_;
};

// Deletes every key of the namespace (SCAN MATCH + DEL; never FLUSHDB/FLUSHALL). For tests and
// for an operator starting over; not atomic with respect to concurrent writers.
Status flushRedisNamespace(RedisConnection& redis, const RedisKeys& keys);

}  // namespace sb
