// Port: the tenants. PostgreSQL with Redis as its cache in production (db/), a JSON file in the
// embedded default; MemoryTenantStore for tests and as the file store's image.
// Thread-safety: every method may be called from any thread; failures are kStoreUnavailable.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/tenants/tenant.h"

namespace sb {

class TenantStore {
 public:
  virtual ~TenantStore() = default;
  // Every tenant, ordered by name.
  virtual Result<std::vector<Tenant>> listTenants() = 0;
  virtual Result<std::optional<Tenant>> findTenant(std::string_view name) = 0;
  // Adds a tenant; kAlreadyExists when its name is taken.
  virtual Status addTenant(const Tenant& tenant) = 0;
  // Replaces the tenant of the same name; kNotFound when there is none.
  virtual Status updateTenant(const Tenant& tenant) = 0;
  // Removes it; false when there was none.
  virtual Result<bool> removeTenant(std::string_view name) = 0;
};

class MemoryTenantStore : public TenantStore {
 public:
  Result<std::vector<Tenant>> listTenants() override;
  Result<std::optional<Tenant>> findTenant(std::string_view name) override;
  Status addTenant(const Tenant& tenant) override;
  Status updateTenant(const Tenant& tenant) override;
  Result<bool> removeTenant(std::string_view name) override;

 protected:
  // Called with the lock held after every change, before it is acknowledged (the file store
  // writes its file here); a failure undoes the change.
  virtual Status changed(const std::map<std::string, Tenant, std::less<>>& /*tenants*/) {
    return Status::Ok();
  }
  std::mutex mutex_;
  std::map<std::string, Tenant, std::less<>> tenants_;  // by name
};

}  // namespace sb
