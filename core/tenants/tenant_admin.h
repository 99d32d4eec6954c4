// The operator's tenant use cases (admin API and CLI): add, show, update, remove, rotate secrets
// and usage. Every change is validated (core/tenants/tenant.h validTenant; a host name belongs
// to one tenant), written to the store, and read into this process's directory at once (other
// routers see it within their refresh interval).
// Removing a tenant that has meetings running is refused unless forced: forced, its meetings
// run on on their servers until they end, but no call of its frontend reaches them any more
// (its secrets are gone), and the admin API can still end them.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/meeting_store.h"
#include "core/result.h"
#include "core/tenants/tenant_directory.h"
#include "core/tenants/tenant_quota.h"
#include "core/tenants/tenant_store.h"

namespace sb {

class TenantAdmin {
 public:
  // `directory` may be null (a process that serves no BBB API); `quota` too (no participant
  // counts in usage).
  TenantAdmin(TenantStore& store, MeetingStore& meetings, TenantDirectory* directory,
              TenantQuota* quota = nullptr)
      : store_(store), meetings_(meetings), directory_(directory), quota_(quota) {}

  Result<std::vector<Tenant>> list();
  Result<Tenant> show(std::string_view name);
  // kInvalidArgument (validTenant, a host of another tenant), kAlreadyExists.
  Result<Tenant> add(const Tenant& tenant);
  // Replaces the fields `changes` holds (tenant_json.h); the name cannot change.
  Result<Tenant> update(std::string_view name, const nlohmann::json& changes);
  // Puts `secret` first (a new one when empty: 48 hex digits); with `dropOthers` the other
  // secrets go. Returns the tenant; `secret` is what was added.
  struct Rotation {
    Tenant tenant;
    std::string secret;
  };
  Result<Rotation> rotateSecret(std::string_view name, std::string secret, bool dropOthers);
  // kForbidden while it has meetings, unless `force`. Returns how many meetings it had.
  Result<int> remove(std::string_view name, bool force);

  // What a tenant uses now.
  struct Usage {
    int meetings = 0;      // in the meeting store now
    int participants = 0;  // as the poller last counted them
    int counted = 0;       // meetings the limits count now (the quota's; the store's after a round)
  };
  Result<Usage> usage(std::string_view name);

 private:
  Status checkHosts(const Tenant& tenant);
  void refreshDirectory();
  Result<int> meetingsOf(std::string_view name);

  TenantStore& store_;
  MeetingStore& meetings_;
  TenantDirectory* directory_;
  TenantQuota* quota_;
};

}  // namespace sb
