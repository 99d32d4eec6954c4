// Tenants in PostgreSQL (migrations/0007_tenants.sql), each row the tenant's JSON form
// (core/tenants/tenant_json.h): the tenants of the shared store, which every router reads into
// its TenantDirectory every few seconds (and keeps using while PostgreSQL does not answer).
// Thread-safety: every method may be called from any thread (PgConnection's pool).
#pragma once

#include "core/tenants/tenant_store.h"
#include "db/pg_connection.h"

namespace sb {

class PgTenantStore final : public TenantStore {
 public:
  // `pg` must outlive the store.
  explicit PgTenantStore(PgConnection& pg) : pg_(pg) {}

  Result<std::vector<Tenant>> listTenants() override;
  Result<std::optional<Tenant>> findTenant(std::string_view name) override;
  Status addTenant(const Tenant& tenant) override;
  Status updateTenant(const Tenant& tenant) override;
  Result<bool> removeTenant(std::string_view name) override;

 private:
  PgConnection& pg_;
};

}  // namespace sb
