// The PostgreSQL adapters of the store ports: the durable truth for the server inventory (plus a
// snapshot of the live state) and for meetings with everything needed to re-create them. They
// behave exactly like db/memory_store.h (the same contract), with these PostgreSQL facts:
//   - Atomicity across processes comes from single statements and row locks, never from a lock
//     in this process: claimMeeting is one INSERT ... ON CONFLICT DO UPDATE ... WHERE orphaned
//     (exactly one winner, every loser reads the winner under the row lock the conflict took);
//     reserve and compareAndSetState are single UPDATEs (read-modify-write under the row lock).
//   - Text columns hold valid UTF-8 without NUL bytes. Inventory and meeting fields that are not
//     are refused with kInvalidArgument (nothing is stored); the live state's bbbVersion and
//     lastError (copied from the network) have such bytes replaced by '?' instead. The create
//     body is stored byte for byte (bytea), the create parameters as a JSON array of
//     [name, value] pairs in order.
//   - Every other failure is kStoreUnavailable ("postgres: ..."); see db/pg_connection.h.
// Statements live in db/pg_statements.h, the schema in migrations/.
// Thread-safety: every method may be called from any thread (PgConnection pools connections).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/leader_lease.h"
#include "core/meeting_store.h"
#include "core/server_store.h"

namespace sb {

class PgConnection;

class PgServerStore final : public ServerStore {
 public:
  // `pg` must outlive the store.
  explicit PgServerStore(PgConnection& pg) : pg_(pg) {}

  Result<std::vector<Server>> listServers() override;
  Result<Server> getServer(std::string_view id) override;
  Status addServer(const Server& server) override;
  Status updateServer(const Server& server) override;
  Status removeServer(std::string_view id) override;
  Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                  AdminState next) override;
  Status updateLiveState(std::string_view id, const ServerLiveState& live) override;
  Status reserve(std::string_view id, double load, int meetings) override;

  // One round trip to PostgreSQL, for /readyz.
  Status ping();

 private:
  PgConnection& pg_;
};

class PgMeetingStore final : public MeetingStore {
 public:
  // `pg` must outlive the store.
  explicit PgMeetingStore(PgConnection& pg) : pg_(pg) {}

  Result<std::optional<Meeting>> findMeeting(std::string_view id) override;
  Result<Claim> claimMeeting(const Meeting& meeting) override;
  bool prefersClaimBatches() const override { return true; }
  Status removeMeeting(std::string_view id, std::string_view serverId = {}) override;
  Result<int> orphanMeetingsOf(std::string_view serverId) override;
  Result<std::vector<Meeting>> listMeetings(std::string_view serverId = {}) override;
  Result<std::vector<PlacedMeeting>> listPlacedMeetings() override;

  // Every meeting, ordered by id (rebuilding Redis after a loss).
  Result<std::vector<Meeting>> listAllMeetings() { return listMeetings({}); }

  // One round trip to PostgreSQL, for /readyz.
  Status ping();

 protected:
  // One statement for all of them (kClaimMeetings, rows in id order); a loser reads its owner
  // with a statement of its own. When that statement fails, each claim is tried on its own
  // (claimMeeting): one claim PostgreSQL refuses fails only itself.
  std::vector<Result<Claim>> claimDistinctMeetings(std::span<const Meeting> meetings) override;

 private:
  // Claims meetings[i] for each i of `batch` (two or more distinct ids) into claims[i].
  void claimBatch(std::span<const Meeting> meetings, std::vector<size_t>& batch,
                  std::vector<std::optional<Result<Claim>>>& claims);
  // The owner of `id` read after a claim of it lost.
  Result<Claim> ownerAfterLostClaim(const std::string& id);

  PgConnection& pg_;
};

// A leader lease as a row of `leases` (migration 0004), dated by PostgreSQL's clock: the
// poller's lease while Redis is down (DurableLeaderLease).
class PgLeaderLease final : public LeaderLease {
 public:
  // `pg` must outlive the lease.
  explicit PgLeaderLease(PgConnection& pg, std::string name = "poller")
      : pg_(pg), name_(std::move(name)) {}
  // kInvalidArgument when ttl < 1 ms.
  Result<bool> acquire(const std::string& holder, std::chrono::milliseconds ttl) override;
  Status release(const std::string& holder) override;

 private:
  PgConnection& pg_;
  const std::string name_;
};

}  // namespace sb
