#include "db/cached_tenant_store.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/tenants/tenant_json.h"

namespace sb {

void CachedTenantStore::keep(const std::vector<Tenant>& tenants) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& t : tenants) all.push_back(tenantToJson(t));
  (void)redis_->command({"SET", keys_.tenants(), all.dump()});  // best effort: a copy
}

void CachedTenantStore::refreshCopy() {
  if (auto all = durable_.listTenants(); all) keep(*all);
}

Result<std::vector<Tenant>> CachedTenantStore::cached(const Error& durableError) {
  auto reply = redis_->command({"GET", keys_.tenants()});
  if (!reply || reply->isNil()) return durableError;
  auto json = nlohmann::json::parse(reply->str, nullptr, false);
  if (!json.is_array()) return durableError;
  std::vector<Tenant> out;
  for (const auto& j : json) {
    auto t = tenantFromJson(j);
    if (!t) return durableError;
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::vector<Tenant>> CachedTenantStore::listTenants() {
  auto all = durable_.listTenants();
  if (all) {
    keep(*all);
    return all;
  }
  return cached(all.error());
}

Result<std::optional<Tenant>> CachedTenantStore::findTenant(std::string_view name) {
  auto found = durable_.findTenant(name);
  if (found) return found;
  auto all = cached(found.error());
  if (!all) return all.error();
  for (auto& t : *all) {
    if (t.name == name) return std::optional<Tenant>(std::move(t));
  }
  return std::optional<Tenant>();
}

Status CachedTenantStore::addTenant(const Tenant& tenant) {
  Status s = durable_.addTenant(tenant);
  if (s.ok()) refreshCopy();
  return s;
}

Status CachedTenantStore::updateTenant(const Tenant& tenant) {
  Status s = durable_.updateTenant(tenant);
  if (s.ok()) refreshCopy();
  return s;
}

Result<bool> CachedTenantStore::removeTenant(std::string_view name) {
  auto removed = durable_.removeTenant(name);
  if (removed && *removed) refreshCopy();
  return removed;
}

}  // namespace sb
