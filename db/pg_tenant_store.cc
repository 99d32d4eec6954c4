#include "db/pg_tenant_store.h"

#include <pqxx/result>

#include "core/tenants/tenant_json.h"
#include "db/pg_statements.h"

namespace sb {
namespace {

// A stored tenant's JSON text read back; a row that no longer reads is an error that names it.
Result<Tenant> tenantOf(const pqxx::row& row) {
  auto json = nlohmann::json::parse(row[0].c_str(), nullptr, false);
  auto t = tenantFromJson(json);
  if (!t)
    return Error::of(ErrorCode::kInternalError, "stored tenant unreadable: " + t.error().message);
  return t;
}

}  // namespace

Result<std::vector<Tenant>> PgTenantStore::listTenants() {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<Tenant>> {
    std::vector<Tenant> out;
    for (const auto& row : pg_.exec(txn, pgsql::kListTenants)) {
      auto t = tenantOf(row);
      if (!t) return t.error();
      out.push_back(std::move(*t));
    }
    return out;
  });
}

Result<std::optional<Tenant>> PgTenantStore::findTenant(std::string_view name) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::optional<Tenant>> {
    auto rows = pg_.exec(txn, pgsql::kFindTenant, std::string(name));
    if (rows.empty()) return std::optional<Tenant>();
    auto t = tenantOf(rows[0]);
    if (!t) return t.error();
    return std::optional<Tenant>(std::move(*t));
  });
}

Status PgTenantStore::addTenant(const Tenant& tenant) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    auto rows = pg_.exec(txn, pgsql::kAddTenant, tenant.name, tenantToJson(tenant).dump());
    if (rows.empty())
      return Error::of(ErrorCode::kAlreadyExists, "tenant " + tenant.name + " exists");
    return Status::Ok();
  });
}

Status PgTenantStore::updateTenant(const Tenant& tenant) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    auto rows = pg_.exec(txn, pgsql::kUpdateTenant, tenant.name, tenantToJson(tenant).dump());
    if (rows.empty()) return Error::of(ErrorCode::kNotFound, "no tenant " + tenant.name);
    return Status::Ok();
  });
}

Result<bool> PgTenantStore::removeTenant(std::string_view name) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<bool> {
    return !pg_.exec(txn, pgsql::kRemoveTenant, std::string(name)).empty();
  });
}

}  // namespace sb
