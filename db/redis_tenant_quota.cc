#include "db/redis_tenant_quota.h"

#include <set>

namespace sb {
namespace {

// KEYS[1] the tenant's meetings, KEYS[2] the quota's tenants; ARGV: meeting, limit, now, tenant.
// Returns 0 counted, 1 known, 2 full.
const RedisScript kAdmit(R"lua(
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
local limit = tonumber(ARGV[2])
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then return 2 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 0
)lua");

// KEYS[1] the tenant's meetings; ARGV: keep-since (ms), listed-at (ms), then the meetings the
// store holds. Adds those, drops counted ones the store does not hold that are older than
// keep-since. Returns the count.
const RedisScript kReconcile(R"lua(
local stored = {}
for i = 3, #ARGV do
  stored[ARGV[i]] = true
  redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[i])
end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, m in ipairs(old) do
  if not stored[m] then redis.call('ZREM', KEYS[1], m) end
end
return redis.call('ZCARD', KEYS[1])
)lua");

Status failed(const RedisReply& r) {
  return Error::of(ErrorCode::kStoreUnavailable, "redis: " + r.str);
}

}  // namespace

Result<TenantQuota::Admission> RedisTenantQuota::admit(const std::string& tenant,
                                                       const std::string& meetingId,
                                                       int maxMeetings, int64_t nowMs) {
  auto r = redis_->eval(kAdmit, {keys_.tenantMeetings(tenant), keys_.quotaTenants()},
                        {meetingId, std::to_string(maxMeetings), std::to_string(nowMs), tenant});
  if (!r) return r.error();
  if (r->type != RedisReply::Type::kInteger) return failed(*r).error();
  return r->integer == 0   ? Admission::kCounted
         : r->integer == 1 ? Admission::kKnown
                           : Admission::kFull;
}

Status RedisTenantQuota::release(const std::string& tenant, const std::string& meetingId) {
  auto r = redis_->command({"ZREM", keys_.tenantMeetings(tenant), meetingId});
  if (!r) return r.error();
  return Status::Ok();
}

Status RedisTenantQuota::reconcile(const std::map<std::string, std::vector<std::string>>& running,
                                   int64_t listedAtMs, int64_t graceMs) {
  auto known = redis_->command({"SMEMBERS", keys_.quotaTenants()});
  if (!known) return known.error();
  std::set<std::string> tenants;
  for (const auto& e : known->elements) tenants.insert(e.str);
  for (const auto& [tenant, ids] : running) tenants.insert(tenant);
  static const std::vector<std::string> kNone;
  for (const auto& tenant : tenants) {
    auto listed = running.find(tenant);
    const auto& ids = listed == running.end() ? kNone : listed->second;
    std::vector<std::string> args{std::to_string(listedAtMs - graceMs), std::to_string(listedAtMs)};
    args.insert(args.end(), ids.begin(), ids.end());
    auto r = redis_->eval(kReconcile, {keys_.tenantMeetings(tenant)}, args);
    if (!r) return r.error();
    if (!ids.empty()) (void)redis_->command({"SADD", keys_.quotaTenants(), tenant});
  }
  return Status::Ok();
}

Result<int> RedisTenantQuota::meetings(const std::string& tenant) {
  auto r = redis_->command({"ZCARD", keys_.tenantMeetings(tenant)});
  if (!r) return r.error();
  return static_cast<int>(r->integer);
}

Result<bool> RedisTenantQuota::countCreate(const std::string& tenant, int perMinute,
                                           int64_t nowMs) {
  const std::string key = keys_.tenantCreates(tenant, nowMs / 60'000);
  auto r = redis_->pipeline({{"INCR", key}, {"PEXPIRE", key, "120000"}});
  if (!r) return r.error();
  return perMinute <= 0 || (*r)[0].integer <= perMinute;
}

Status RedisTenantQuota::setParticipants(const std::map<std::string, int>& byTenant) {
  // One transaction: a create never reads the hash between its deletion and its refill.
  std::vector<std::vector<std::string>> commands{{"MULTI"}, {"DEL", keys_.tenantParticipants()}};
  if (!byTenant.empty()) {
    std::vector<std::string> hset{"HSET", keys_.tenantParticipants()};
    for (const auto& [tenant, n] : byTenant) {
      hset.push_back(tenant);
      hset.push_back(std::to_string(n));
    }
    commands.push_back(std::move(hset));
  }
  commands.push_back({"EXEC"});
  auto r = redis_->pipeline(commands);
  if (!r) return r.error();
  return Status::Ok();
}

Result<int> RedisTenantQuota::participants(const std::string& tenant) {
  auto r = redis_->command({"HGET", keys_.tenantParticipants(), tenant});
  if (!r) return r.error();
  return r->isNil() ? 0 : std::atoi(r->str.c_str());
}

}  // namespace sb
