#include "core/tenants/tenant_store.h"

namespace sb {

Result<std::vector<Tenant>> MemoryTenantStore::listTenants() {
  std::lock_guard lock(mutex_);
  std::vector<Tenant> all;
  all.reserve(tenants_.size());
  for (const auto& [name, t] : tenants_) all.push_back(t);
  return all;
}

Result<std::optional<Tenant>> MemoryTenantStore::findTenant(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return std::optional<Tenant>();
  return std::optional<Tenant>(it->second);
}

Status MemoryTenantStore::addTenant(const Tenant& tenant) {
  std::lock_guard lock(mutex_);
  if (!tenants_.emplace(tenant.name, tenant).second) {
    return Error::of(ErrorCode::kAlreadyExists, "tenant " + tenant.name + " exists");
  }
  Status s = changed(tenants_);
  if (!s.ok()) tenants_.erase(tenant.name);
  return s;
}

Status MemoryTenantStore::updateTenant(const Tenant& tenant) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(tenant.name);
  if (it == tenants_.end()) {
    return Error::of(ErrorCode::kNotFound, "no tenant " + tenant.name);
  }
  Tenant before = std::exchange(it->second, tenant);
  Status s = changed(tenants_);
  if (!s.ok()) it->second = std::move(before);
  return s;
}

Result<bool> MemoryTenantStore::removeTenant(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return false;
  Tenant before = std::move(it->second);
  tenants_.erase(it);
  Status s = changed(tenants_);
  if (!s.ok()) {
    tenants_.emplace(before.name, std::move(before));
    return s.error();
  }
  return true;
}

}  // namespace sb
