// A tenant's calls in its own namespace of meeting IDs (core/tenants/tenant.h): the request's
// meetingID is scoped on the way in, and every answer gives the frontend its own IDs back.
// Without a tenant (context.tenant empty) nothing changes. Pure functions; no I/O.
#pragma once

#include <string>
#include <string_view>

#include "core/meeting_router.h"
#include "core/result.h"
#include "core/tenants/tenant.h"

namespace sb {

// Scopes request.params' meetingID to `tenant` (validationError when the scoped ID would not fit
// BBB's 256 characters) and applies its settings: a create and a join get the tenant's default
// parameters they lack and its overrides; a create without meta_server-tag gets the tenant's
// first server tag ("tag!" when it may not fall back to untagged servers), and meta_tenant-id and
// meta_tenant-name (as Scalelite's), replacing any the frontend sent. The operator's global
// defaults and overrides apply after these (core/meeting_router.h). Sets request.context.tenant.
Status scopeToTenant(ApiRequest& request, const Tenant& tenant);

// `xml` with every <meetingID> of `tenant`'s scoped form given back as the frontend's ID.
std::string unscopeAnswer(std::string_view tenant, std::string xml);

// getMeetings' <meeting> elements (concatenated) that belong to `tenant`, their IDs unscoped.
std::string tenantMeetings(std::string_view tenant, std::string_view meetingsXml);

}  // namespace sb
