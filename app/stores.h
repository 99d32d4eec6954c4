// The stores a process uses, chosen by configuration: the embedded in-memory store, or Redis +
// PostgreSQL layered by db/durable_store.h. Owns the connections and adapters.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/leader_lease.h"
#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/recordings/callback_queue.h"
#include "core/recordings/link_registry.h"
#include "core/recordings/recording_store.h"
#include "core/result.h"
#include "core/server_store.h"
#include "core/tenants/tenant_quota.h"
#include "core/tenants/tenant_store.h"

namespace sb {

class StoreBundle {
 public:
  virtual ~StoreBundle() = default;
  virtual ServerStore& servers() = 0;
  virtual MeetingStore& meetings() = 0;
  virtual LeaderLease& lease() = 0;
  virtual MeetingsSnapshotStore& snapshots() = 0;
  // Recordings: PostgreSQL with Redis + PostgreSQL; process memory in the embedded default
  // (until the importer rebuilds it from the recordings folder at start-up: issue 19).
  virtual RecordingStore& recordings() = 0;
  // Callbacks to frontends waiting for delivery: PostgreSQL with Redis + PostgreSQL; nullptr in
  // the embedded default, which keeps them in the recordings spool (importer/callback_folder.h).
  virtual CallbackQueue* callbackQueue() { return nullptr; }
  // Which protected recordings' links were used, across the pool: Redis with the shared store;
  // nullptr in the embedded default (the process remembers them itself).
  virtual LinkRegistry* linkRegistry() { return nullptr; }
  // Tenants (MULTITENANCY_ENABLED): PostgreSQL with Redis + PostgreSQL; TENANTS_FILE (or memory
  // only) in the embedded default.
  virtual TenantStore& tenants() = 0;
  // What tenants use, against their limits: Redis with the shared store (every router counts
  // in one place), process memory in the embedded default.
  virtual TenantQuota& tenantQuota() = 0;
  // Which stores answer (for /readyz, /stat and the degraded gauge). `down` names each store
  // that does not, with the reason; the router serves while one of them answers.
  struct Health {
    std::vector<std::string> down;  // "redis …: <reason>", "postgres …: <reason>"
    size_t stores = 1;              // how many stores the bundle has
    bool serving() const { return down.size() < stores; }
  };
  virtual Health health() = 0;
  // Start-up work once the process runs: checks the schema (a schema behind the binary is an
  // error: "run `switchboard migrate`") and fills Redis from PostgreSQL. Unreachable stores are
  // not an error here: the router starts, answers store errors and recovers when they return.
  virtual Status prepare() = 0;
  // Repairs what a store lost while the process runs; called every few seconds by every
  // process. With Redis + PostgreSQL: when Redis lost its data (a flush, a restart without
  // persistence), every PostgreSQL meeting and server goes back into Redis at once, not only as
  // lookups miss, so routes survive PostgreSQL failing next. Errors are logged, never fatal.
  virtual void maintain() {}
  virtual std::string describe() const = 0;  // "embedded in-memory store", "redis … + postgres …"
};

// The memory bundle when config.store.shared() is false, else Redis + PostgreSQL. Fails on
// malformed URLs.
Result<std::unique_ptr<StoreBundle>> openStores(const Config& config);

// `switchboard migrate`: applies pending migrations; returns how many, and the schema version.
Result<std::string> migrateDatabase(const Config& config);

}  // namespace sb
