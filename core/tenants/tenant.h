// A tenant: one frontend (a Greenlight, a Moodle) of a Switchboard shared by many, with its own
// secrets, meetings, recordings, settings and limits (issue 20).
//
// Meeting IDs are scoped per tenant: towards BBB servers and in the stores a tenant's meeting is
// "<tenant>~<meetingID>", so two tenants' "room-1" are two meetings wherever they land; answers
// give the frontend its own ID back. Tenant names are DNS labels (lower-case letters, digits and
// inner '-'), so the first '~' always ends the tenant part, and a scoped ID is never a valid
// meeting ID of another tenant.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/query_string.h"
#include "core/result.h"

namespace sb {

// What a tenant may use at once (0: no limit of its own).
struct TenantLimits {
  int maxMeetings = 0;       // meetings running at once
  int maxParticipants = 0;   // participants at once (polled counts and creates' size hints)
  int createsPerMinute = 0;  // creates of new meetings per minute
  bool operator==(const TenantLimits&) const = default;
};

struct Tenant {
  std::string name;  // validTenantName
  // Secrets its frontend signs calls with; several at once for rotation. The first signs what
  // Switchboard signs for the tenant (recording-ready and analytics callbacks).
  std::vector<std::string> secrets;
  // Host names answered as this tenant besides "<name>.<TENANT_BASE_DOMAIN>" (lower case).
  std::vector<std::string> hosts;
  // Create and join parameters: defaults apply when the call lacks them, overrides always win
  // (after the operator's global ones, as Scalelite's tenant settings).
  QueryString defaultCreateParams, overrideCreateParams;
  QueryString defaultJoinParams, overrideJoinParams;
  // Server tags its meetings are placed by ("" entries ignored): a create without
  // meta_server-tag gets the first; with tagFallback false the tenant never spills into the
  // untagged pool ("tag!" in BBB's server-tag syntax).
  std::vector<std::string> serverTags;
  bool tagFallback = true;
  TenantLimits limits;
  // A disabled tenant's calls answer checksumError, as an unknown tenant's; its meetings run on.
  bool enabled = true;
  bool operator==(const Tenant&) const = default;
};

// Ok when `name` is 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'; else
// kInvalidArgument saying why.
Status validTenantName(std::string_view name);
// Ok for a tenant an operator may store: a valid name, at least one secret of 12 or more
// characters, no empty or duplicate secret, limits not negative, host names that are host names.
Status validTenant(const Tenant& tenant);

// The meeting ID Switchboard uses for `meetingId` of `tenant` ("" = no tenant: unchanged).
std::string scopedMeetingId(std::string_view tenant, std::string_view meetingId);
// The frontend's meeting ID of `scopedId` when it belongs to `tenant`, nullopt when it does not.
// Without a tenant ("": multitenancy off) every ID is its own.
std::optional<std::string_view> unscopedMeetingId(std::string_view tenant,
                                                  std::string_view scopedId);
// The tenant part of a scoped meeting ID ("" when it has none).
std::string_view tenantOfMeetingId(std::string_view scopedId);
// The longest meeting ID a tenant's frontend may use: BBB allows 256 characters in all.
size_t maxMeetingIdLength(std::string_view tenant);

}  // namespace sb
