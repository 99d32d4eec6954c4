// Tenant quotas in Redis (core/tenants/tenant_quota.h), shared by every router of a pool: each
// tenant's counted meetings are a sorted set (meeting → when counted), checked and added by one
// script so two routers never both take a tenant's last meeting; creates per minute are a
// counter per minute that expires; participants a hash the poller replaces each round.
// Thread-safety: every method may be called from any thread (RedisConnection's).
#pragma once

#include <memory>

#include "core/tenants/tenant_quota.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"

namespace sb {

class RedisTenantQuota final : public TenantQuota {
 public:
  RedisTenantQuota(std::shared_ptr<RedisConnection> redis, RedisKeys keys)
      : redis_(std::move(redis)), keys_(std::move(keys)) {}

  Result<Admission> admit(const std::string& tenant, const std::string& meetingId, int maxMeetings,
                          int64_t nowMs) override;
  Status release(const std::string& tenant, const std::string& meetingId) override;
  Status reconcile(const std::map<std::string, std::vector<std::string>>& running,
                   int64_t listedAtMs, int64_t graceMs) override;
  Result<int> meetings(const std::string& tenant) override;
  Result<bool> countCreate(const std::string& tenant, int perMinute, int64_t nowMs) override;
  Status setParticipants(const std::map<std::string, int>& byTenant) override;
  Result<int> participants(const std::string& tenant) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
};

}  // namespace sb
