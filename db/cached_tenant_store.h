// The shared store's tenants: PostgreSQL holds them (db/pg_tenant_store.h), and every list read
// from it is copied into Redis, so that a router that starts while PostgreSQL does not answer
// still knows its tenants (it reads them from that copy). Writes go to PostgreSQL only.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/tenants/tenant_store.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"

namespace sb {

class CachedTenantStore final : public TenantStore {
 public:
  // `durable` must outlive the store.
  CachedTenantStore(TenantStore& durable, std::shared_ptr<RedisConnection> redis, RedisKeys keys)
      : durable_(durable), redis_(std::move(redis)), keys_(std::move(keys)) {}

  Result<std::vector<Tenant>> listTenants() override;
  Result<std::optional<Tenant>> findTenant(std::string_view name) override;
  Status addTenant(const Tenant& tenant) override;
  Status updateTenant(const Tenant& tenant) override;
  Result<bool> removeTenant(std::string_view name) override;

 private:
  // The copy in Redis; the durable store's error when there is none either.
  Result<std::vector<Tenant>> cached(const Error& durableError);
  void keep(const std::vector<Tenant>& tenants);
  void refreshCopy();

  TenantStore& durable_;
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
  std::mutex mutex_;      // guards lastKept_ and lastKeptAt_
  std::string lastKept_;  // the copy this process last wrote, and when
  std::chrono::steady_clock::time_point lastKeptAt_{};
};

}  // namespace sb
