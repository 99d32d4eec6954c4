// Port: what each tenant uses, counted across the pool so its limits hold with several routers
// (issue 20): its meetings (each counted once, atomically with the check against the limit), its
// new meetings per minute, and its participants as the poller last saw them. Redis in
// production (db/redis_tenant_quota.h), process memory in the embedded default.
// The meeting count is kept right without trusting every path that ends a meeting: the poller
// replaces it each round by what the meeting store holds (reconcile), keeping only meetings
// counted too recently to be listed yet, so a count that missed an end heals within one round.
// Thread-safety: every method may be called from any thread; failures are kStoreUnavailable.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sb {

class TenantQuota {
 public:
  virtual ~TenantQuota() = default;

  enum class Admission {
    kCounted,  // counted now: a new meeting within the limit
    kKnown,    // counted already (a create of a meeting that runs)
    kFull,     // not counted: the tenant has maxMeetings meetings
  };
  // Counts meeting `meetingId` of `tenant`, unless that would make more than `maxMeetings`
  // (0: no limit); check and count are one step for every router sharing the quota. `nowMs`
  // dates the count (reconcile keeps recent ones).
  virtual Result<Admission> admit(const std::string& tenant, const std::string& meetingId,
                                  int maxMeetings, int64_t nowMs) = 0;
  // Uncounts a meeting (its create failed).
  virtual Status release(const std::string& tenant, const std::string& meetingId) = 0;
  // Makes each tenant's count the meetings the store held when listed at `listedAtMs`
  // (`running`: tenant → its meetings; a tenant left out has none), keeping meetings counted
  // since `listedAtMs - graceMs` that the listing may have missed.
  virtual Status reconcile(const std::map<std::string, std::vector<std::string>>& running,
                           int64_t listedAtMs, int64_t graceMs) = 0;
  virtual Result<int> meetings(const std::string& tenant) = 0;

  // Counts a new meeting of `tenant` in the minute of `nowMs`: false when that makes more than
  // `perMinute` (the count stays, so a burst stays refused until the minute ends).
  virtual Result<bool> countCreate(const std::string& tenant, int perMinute, int64_t nowMs) = 0;

  // The participants of every tenant, as the poller counted them (tenants left out: none).
  virtual Status setParticipants(const std::map<std::string, int>& byTenant) = 0;
  virtual Result<int> participants(const std::string& tenant) = 0;
};

class MemoryTenantQuota final : public TenantQuota {
 public:
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
  std::mutex mutex_;
  // tenant → meeting → when it was counted (ms).
  std::map<std::string, std::map<std::string, int64_t>, std::less<>> counted_;
  std::map<std::string, std::pair<int64_t, int>, std::less<>> creates_;  // tenant → minute, n
  std::map<std::string, int, std::less<>> participants_;
};

}  // namespace sb
