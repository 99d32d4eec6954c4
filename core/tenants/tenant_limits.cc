#include "core/tenants/tenant_limits.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sb {
namespace {

Error refused(const std::string& why) { return Error::of(ErrorCode::kMaxConcurrent, why); }

}  // namespace

Result<TenantLimitsGate::Ticket> TenantLimitsGate::admit(const Tenant& tenant,
                                                         const std::string& meetingId,
                                                         int sizeHint) {
  Ticket ticket{tenant.name, meetingId, false};
  const TenantLimits& l = tenant.limits;
  if (l == TenantLimits{}) return ticket;
  const int64_t now = clock_.nowMs();
  auto admission = quota_.admit(tenant.name, meetingId, l.maxMeetings, now);
  if (!admission) {
    spdlog::warn("tenant {}: limits not checked, the quota store fails: {}", tenant.name,
                 admission.error().message);
    return ticket;
  }
  if (*admission == TenantQuota::Admission::kKnown) return ticket;
  if (*admission == TenantQuota::Admission::kFull) {
    return refused("The maximum number of concurrent meetings (" + std::to_string(l.maxMeetings) +
                   ") of this site has been reached.");
  }
  ticket.counted = true;
  if (l.createsPerMinute > 0) {
    auto within = quota_.countCreate(tenant.name, l.createsPerMinute, now);
    if (within && !*within) {
      settle(ticket, false);
      return refused("This site may start at most " + std::to_string(l.createsPerMinute) +
                     " meetings per minute; try again in a minute.");
    }
  }
  if (l.maxParticipants > 0) {
    auto participants = quota_.participants(tenant.name);
    if (participants && *participants + std::max(sizeHint, 1) > l.maxParticipants) {
      settle(ticket, false);
      return refused("The maximum number of concurrent participants (" +
                     std::to_string(l.maxParticipants) + ") of this site has been reached.");
    }
  }
  return ticket;
}

void TenantLimitsGate::ended(const std::string& tenant, const std::string& meetingId) {
  if (auto s = quota_.release(tenant, meetingId); !s.ok()) {
    spdlog::warn("tenant {}: an ended meeting stays counted until a poll round: {}", tenant,
                 s.error().message);
  }
}

void TenantLimitsGate::settle(const Ticket& ticket, bool created) {
  if (!ticket.counted || created) return;
  if (auto s = quota_.release(ticket.tenant, ticket.meetingId); !s.ok()) {
    spdlog::warn("tenant {}: a failed create stays counted until the next poll round: {}",
                 ticket.tenant, s.error().message);
  }
}

}  // namespace sb
