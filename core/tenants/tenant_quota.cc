#include "core/tenants/tenant_quota.h"

#include <set>

namespace sb {

Result<TenantQuota::Admission> MemoryTenantQuota::admit(const std::string& tenant,
                                                        const std::string& meetingId,
                                                        int maxMeetings, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto& meetings = counted_[tenant];
  if (meetings.contains(meetingId)) return Admission::kKnown;
  if (maxMeetings > 0 && meetings.size() >= static_cast<size_t>(maxMeetings)) {
    return Admission::kFull;
  }
  meetings.emplace(meetingId, nowMs);
  return Admission::kCounted;
}

Status MemoryTenantQuota::release(const std::string& tenant, const std::string& meetingId) {
  std::lock_guard lock(mutex_);
  if (auto it = counted_.find(tenant); it != counted_.end()) it->second.erase(meetingId);
  return Status::Ok();
}

Status MemoryTenantQuota::reconcile(const std::map<std::string, std::vector<std::string>>& running,
                                    int64_t listedAtMs, int64_t graceMs) {
  std::lock_guard lock(mutex_);
  for (auto& [tenant, meetings] : counted_) {
    auto listed = running.find(tenant);
    std::set<std::string_view> stored;
    if (listed != running.end()) stored.insert(listed->second.begin(), listed->second.end());
    std::erase_if(meetings, [&](const auto& m) {
      return !stored.contains(m.first) && m.second < listedAtMs - graceMs;
    });
  }
  for (const auto& [tenant, ids] : running) {
    auto& meetings = counted_[tenant];
    for (const auto& id : ids) meetings.emplace(id, listedAtMs);
  }
  return Status::Ok();
}

Result<int> MemoryTenantQuota::meetings(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  auto it = counted_.find(tenant);
  return it == counted_.end() ? 0 : static_cast<int>(it->second.size());
}

Result<bool> MemoryTenantQuota::countCreate(const std::string& tenant, int perMinute,
                                            int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto& [minute, n] = creates_[tenant];
  if (minute != nowMs / 60'000) {
    minute = nowMs / 60'000;
    n = 0;
  }
  ++n;
  return perMinute <= 0 || n <= perMinute;
}

Status MemoryTenantQuota::setParticipants(const std::map<std::string, int>& byTenant) {
  std::lock_guard lock(mutex_);
  participants_.clear();
  participants_.insert(byTenant.begin(), byTenant.end());
  return Status::Ok();
}

Result<int> MemoryTenantQuota::participants(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  auto it = participants_.find(tenant);
  return it == participants_.end() ? 0 : it->second;
}

}  // namespace sb
