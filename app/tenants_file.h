// The embedded default's tenants, kept across restarts in one JSON file (TENANTS_FILE; mode
// 0600: it holds the tenants' secrets). Read once at start; every change is written whole
// through a temporary file and a rename before it is acknowledged. Without a path, tenants live
// in memory only.
// Thread-safety: as MemoryTenantStore.
#pragma once

#include <string>

#include "core/tenants/tenant_store.h"

namespace sb {

class TenantsFile final : public MemoryTenantStore {
 public:
  explicit TenantsFile(std::string path) : path_(std::move(path)) {}
  // Reads the file (none yet: no tenants). Fails when it cannot be read or parsed.
  Status load();

 private:
  Status changed(const std::map<std::string, Tenant, std::less<>>& tenants) override;
  const std::string path_;
};

}  // namespace sb
