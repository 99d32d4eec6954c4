// A tenant's limits, checked when its frontend creates a meeting (issue 20): meetings at once,
// participants at once (the poller's counts plus the new meeting's size hint), and new meetings
// per minute. Only a meeting that is new counts: a create of a meeting that runs (Greenlight
// sends one before every join) always goes through. A refused create answers maxConcurrent
// (Moodle shows it as a limit reached) and leaves nothing behind; a new meeting whose create
// fails is uncounted again (settle).
// While the quota store does not answer, creates go through (logged): limits are the operator's
// budget, not a safety rule, and an outage of Redis must not stop every tenant's meetings.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "core/tenants/tenant.h"
#include "core/tenants/tenant_quota.h"

namespace sb {

class TenantLimitsGate {
 public:
  TenantLimitsGate(TenantQuota& quota, const Clock& clock) : quota_(quota), clock_(clock) {}

  // What admit counted, for settle.
  struct Ticket {
    std::string tenant;
    std::string meetingId;
    bool counted = false;  // a new meeting was counted against the tenant's limit
  };
  // `meetingId` is the scoped ID; `sizeHint` the users the create says it brings (0: unknown).
  Result<Ticket> admit(const Tenant& tenant, const std::string& meetingId, int sizeHint);
  // After the create was answered: a new meeting that was not created is uncounted.
  void settle(const Ticket& ticket, bool created);
  // A meeting of `tenant` ended through its frontend: its place is free at once (meetings that
  // end otherwise are uncounted by the poller's next round after the quota's grace).
  void ended(const std::string& tenant, const std::string& meetingId);

 private:
  TenantQuota& quota_;
  const Clock& clock_;
};

}  // namespace sb
