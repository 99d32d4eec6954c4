// The one JSON form of a tenant: what PostgreSQL, Redis and the embedded store's file keep, and
// what the admin API takes and shows. Parameters are objects of name → value; limits of 0 mean
// none.
//   {"name": "acme", "secrets": ["..."], "hosts": ["bbb.acme.example"], "enabled": true,
//    "default_create_params": {"record": "true"}, "override_create_params": {},
//    "default_join_params": {}, "override_join_params": {},
//    "server_tags": ["acme"], "tag_fallback": false,
//    "limits": {"max_meetings": 0, "max_participants": 0, "creates_per_minute": 0}}
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "core/tenants/tenant.h"

namespace sb {

// `secrets` false: the secrets are left out and "secrets_count" given instead (what an
// operator sees by default).
nlohmann::json tenantToJson(const Tenant& tenant, bool secrets = true);
// A tenant from its JSON form (fields left out keep Tenant's defaults); kInvalidArgument naming
// the field when a field has the wrong type. Does not check the values (validTenant does).
Result<Tenant> tenantFromJson(const nlohmann::json& json);
// `tenant` with the fields `changes` holds replaced (the admin API's update).
Result<Tenant> tenantUpdatedBy(Tenant tenant, const nlohmann::json& changes);

}  // namespace sb
