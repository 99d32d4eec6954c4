#include "app/stores.h"

#include <spdlog/spdlog.h>

#include "app/tenants_file.h"
#include "db/cached_tenant_store.h"
#include "db/durable_store.h"
#include "db/memory_recording_store.h"
#include "db/memory_store.h"
#include "db/migrator.h"
#include "db/pg_callback_queue.h"
#include "db/pg_connection.h"
#include "db/pg_recording_store.h"
#include "db/pg_store.h"
#include "db/pg_tenant_store.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"
#include "db/redis_link_registry.h"
#include "db/redis_store.h"
#include "db/redis_tenant_quota.h"

namespace sb {
namespace {

class MemoryBundle final : public StoreBundle {
 public:
  explicit MemoryBundle(const Config& config) : tenants_(config.store.tenantsFile) {}
  ServerStore& servers() override { return servers_; }
  MeetingStore& meetings() override { return meetings_; }
  LeaderLease& lease() override { return lease_; }
  MeetingsSnapshotStore& snapshots() override { return snapshots_; }
  RecordingStore& recordings() override { return recordings_; }
  TenantStore& tenants() override { return tenants_; }
  TenantQuota& tenantQuota() override { return quota_; }
  Health health() override { return {}; }
  Status prepare() override { return tenants_.load(); }
  std::string describe() const override { return "embedded in-memory store"; }

 private:
  MemoryServerStore servers_;
  MemoryMeetingStore meetings_;
  LocalLeaderLease lease_;
  MemorySnapshotStore snapshots_;
  MemoryRecordingStore recordings_;
  TenantsFile tenants_;
  MemoryTenantQuota quota_;
};

PgOptions pgOptions(const Config& config) {
  PgOptions o;
  o.url = config.store.databaseUrl;
  o.statementTimeoutMs = static_cast<int>(std::max<long>(500, config.store.timeout.count() * 2));
  o.preparedStatements = config.store.pgPreparedStatements;
  // Bounds a call against a server that is stopped with its connections open. Beyond the
  // statement timeout, which the server enforces: a listing of every meeting (the poller's, a
  // refill of Redis) may legitimately take longer than STORE_TIMEOUT, and a deadline that cut it
  // would mark PostgreSQL stalled for everybody.
  o.callTimeoutMs = o.statementTimeoutMs + static_cast<int>(config.store.timeout.count());
  return o;
}

// Snapshots outlive a few missed poll rounds, then expire (the router asks live meanwhile).
std::chrono::milliseconds snapshotTtl(const Config& config) {
  return std::max(std::chrono::milliseconds(10'000), 3 * config.poller.interval);
}

class SharedBundle final : public StoreBundle {
 public:
  SharedBundle(const Config& config, RedisOptions redisOptions)
      : config_(config),
        redis_(std::make_shared<RedisConnection>(std::move(redisOptions))),
        keys_(config.store.redisNamespace),
        pg_(pgOptions(config)),
        redisServers_(redis_, keys_),
        redisMeetings_(redis_, keys_),
        redisLease_(redis_, keys_),
        snapshots_(redis_, keys_, snapshotTtl(config)),
        links_(redis_, keys_),
        pgServers_(pg_),
        pgMeetings_(pg_),
        pgLease_(pg_),
        recordings_(pg_),
        callbackQueue_(pg_),
        tenants_(pg_),
        quota_(redis_, keys_),
        cachedTenants_(tenants_, redis_, keys_),
        servers_(redisServers_, pgServers_),
        meetings_(redisMeetings_, pgMeetings_),
        lease_(redisLease_, pgLease_) {}

  ServerStore& servers() override { return servers_; }
  MeetingStore& meetings() override { return meetings_; }
  LeaderLease& lease() override { return lease_; }
  MeetingsSnapshotStore& snapshots() override { return snapshots_; }
  RecordingStore& recordings() override { return recordings_; }
  CallbackQueue* callbackQueue() override { return &callbackQueue_; }
  TenantStore& tenants() override { return cachedTenants_; }
  TenantQuota& tenantQuota() override { return quota_; }
  LinkRegistry* linkRegistry() override { return &links_; }

  Health health() override {
    Health h;
    h.stores = 2;
    if (Status r = redis_->ping(); !r) {
      h.down.push_back(r.error().message + " (everything is served from postgres)");
    }
    if (Status p = pg_.ping(); !p) {
      h.down.push_back(p.error().message +
                       " (joins go on from redis; creates fail until it is back)");
    }
    return h;
  }

  Status prepare() override {
    auto migrations = findMigrations(config_.store.migrationsDir);
    if (!migrations) return migrations.error();
    Migrator migrator(pg_, *migrations);
    auto status = migrator.status();
    if (!status) {
      spdlog::warn("cannot check the database schema now ({}); starting anyway",
                   status.error().message);
      return Status::Ok();
    }
    if (!status->upToDate()) {
      return Error::of(ErrorCode::kInvalidArgument,
                       "the database schema is behind this binary (at '" + status->current +
                           "', needs '" + status->latest + "'): run `switchboard migrate` first");
    }
    fillRedis("at start");
    return Status::Ok();
  }

  void maintain() override {
    auto filled = redis_->command({"EXISTS", keys_.filledMark()});
    if (!filled || filled->integer == 1) return;  // Redis down (nothing to fill now), or intact
    fillRedis("after redis lost its data");
  }

  std::string describe() const override {
    return "redis " + redis_->options().endpoint() + " (namespace " + keys_.ns() + ") + postgres";
  }

 private:
  // Copies every PostgreSQL meeting and server missing from Redis into Redis, then marks Redis
  // filled. Several processes may fill at once: each copy only adds what is missing.
  void fillRedis(const char* when) {
    auto restored = meetings_.warmCache();
    if (!restored) {
      spdlog::warn("cannot fill redis from postgres {}: {}", when, restored.error().message);
      return;
    }
    if (!servers_.listServers()) return;  // refills the server cache when Redis is empty
    if (!redis_->command({"SET", keys_.filledMark(), "1"})) return;
    if (*restored > 0) spdlog::info("restored {} meetings into redis {}", *restored, when);
  }

  const Config& config_;
  std::shared_ptr<RedisConnection> redis_;
  RedisKeys keys_;
  PgConnection pg_;
  RedisServerStore redisServers_;
  RedisMeetingStore redisMeetings_;
  RedisLeaderLease redisLease_;
  RedisSnapshotStore snapshots_;
  RedisLinkRegistry links_;
  PgServerStore pgServers_;
  PgMeetingStore pgMeetings_;
  PgLeaderLease pgLease_;
  PgRecordingStore recordings_;
  PgCallbackQueue callbackQueue_;
  PgTenantStore tenants_;
  RedisTenantQuota quota_;
  CachedTenantStore cachedTenants_;
  DurableServerStore servers_;
  DurableMeetingStore meetings_;
  DurableLeaderLease lease_;
};

}  // namespace

Result<std::unique_ptr<StoreBundle>> openStores(const Config& config) {
  if (!config.store.shared()) return std::unique_ptr<StoreBundle>(new MemoryBundle(config));
  auto redis = parseRedisUrl(config.store.redisUrl);
  if (!redis) return Error::of(ErrorCode::kInvalidArgument, "REDIS_URL: " + redis.error().message);
  redis->connectTimeout = config.store.timeout;
  redis->commandTimeout = config.store.timeout;
  // One idle connection per thread that may talk to Redis (reactors answer joins, workers the
  // other calls, the poller and the lease), so a burst never connects and disconnects per call.
  redis->maxIdleConnections =
      static_cast<size_t>(config.http.threads + config.http.workerThreadsMax + 4);
  return std::unique_ptr<StoreBundle>(new SharedBundle(config, std::move(*redis)));
}

Result<std::string> migrateDatabase(const Config& config) {
  if (config.store.databaseUrl.empty()) {
    return Error::of(ErrorCode::kInvalidArgument, "DATABASE_URL is not set");
  }
  auto migrations = findMigrations(config.store.migrationsDir);
  if (!migrations) return migrations.error();
  PgOptions options = pgOptions(config);
  options.callTimeoutMs = 0;  // a migration may take longer than any store call
  PgConnection pg(options);
  Migrator migrator(pg, *migrations);
  auto applied = migrator.migrate();
  if (!applied) return applied.error();
  auto status = migrator.status();
  if (!status) return status.error();
  return "applied " + std::to_string(*applied) + " migration(s); schema at " + status->current;
}

}  // namespace sb
