#include "db/cached_tenant_store.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "core/tenants/tenant_json.h"

namespace sb {

void CachedTenantStore::keep(const std::vector<Tenant>& tenants) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& t : tenants) all.push_back(tenantToJson(t));
  std::string copy = all.dump();
  // Every router lists the tenants every few seconds: the copy is written when it changed, and
  // once a minute anyway (Redis may have lost it), not each time.
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (copy == lastKept_ && now - lastKeptAt_ < std::chrono::minutes(1)) return;
  }
  if (redis_->command({"SET", keys_.tenants(), copy})) {  // best effort: a copy
    std::lock_guard lock(mutex_);
    lastKept_ = std::move(copy);
    lastKeptAt_ = now;
  }
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
