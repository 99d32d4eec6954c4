#include "core/tenants/tenant_admin.h"

#include <openssl/rand.h>

#include <algorithm>

#include "core/tenants/tenant_json.h"

namespace sb {
namespace {

Error noTenant(std::string_view name) {
  return Error::of(ErrorCode::kNotFound, "no tenant " + std::string(name));
}

std::string newSecret() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

void TenantAdmin::refreshDirectory() {
  if (directory_) (void)directory_->refresh();
}

Status TenantAdmin::checkHosts(const Tenant& tenant) {
  auto all = store_.listTenants();
  if (!all) return all.error();
  for (const auto& other : *all) {
    if (other.name == tenant.name) continue;
    for (const auto& h : tenant.hosts) {
      if (std::find(other.hosts.begin(), other.hosts.end(), h) != other.hosts.end()) {
        return Error::of(ErrorCode::kInvalidArgument,
                         "host " + h + " belongs to tenant " + other.name);
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<Tenant>> TenantAdmin::list() { return store_.listTenants(); }

Result<Tenant> TenantAdmin::show(std::string_view name) {
  auto found = store_.findTenant(name);
  if (!found) return found.error();
  if (!*found) return noTenant(name);
  return std::move(**found);
}

Result<Tenant> TenantAdmin::add(const Tenant& tenant) {
  if (auto s = validTenant(tenant); !s.ok()) return s.error();
  if (auto s = checkHosts(tenant); !s.ok()) return s.error();
  if (auto s = store_.addTenant(tenant); !s.ok()) return s.error();
  refreshDirectory();
  return tenant;
}

Result<Tenant> TenantAdmin::update(std::string_view name, const nlohmann::json& changes) {
  auto current = show(name);
  if (!current) return current.error();
  if (changes.is_object() && changes.contains("name") && changes["name"] != name) {
    return Error::of(ErrorCode::kInvalidArgument, "a tenant's name cannot change");
  }
  auto updated = tenantUpdatedBy(*current, changes);
  if (!updated) return updated.error();
  if (auto s = validTenant(*updated); !s.ok()) return s.error();
  if (auto s = checkHosts(*updated); !s.ok()) return s.error();
  if (auto s = store_.updateTenant(*updated); !s.ok()) return s.error();
  refreshDirectory();
  return updated;
}

Result<TenantAdmin::Rotation> TenantAdmin::rotateSecret(std::string_view name, std::string secret,
                                                        bool dropOthers) {
  auto current = show(name);
  if (!current) return current.error();
  if (secret.empty()) secret = newSecret();
  Tenant t = std::move(*current);
  std::erase(t.secrets, secret);
  if (dropOthers) t.secrets.clear();
  t.secrets.insert(t.secrets.begin(), secret);
  if (auto s = validTenant(t); !s.ok()) return s.error();
  if (auto s = store_.updateTenant(t); !s.ok()) return s.error();
  refreshDirectory();
  return Rotation{std::move(t), std::move(secret)};
}

Result<int> TenantAdmin::meetingsOf(std::string_view name) {
  auto all = meetings_.listPlacedMeetings();
  if (!all) return all.error();
  return static_cast<int>(std::count_if(all->begin(), all->end(), [&](const PlacedMeeting& m) {
    return tenantOfMeetingId(m.id) == name;
  }));
}

Result<int> TenantAdmin::remove(std::string_view name, bool force) {
  auto current = show(name);
  if (!current) return current.error();
  auto running = meetingsOf(name);
  if (!running) return running.error();
  if (*running > 0 && !force) {
    return Error::of(ErrorCode::kForbidden,
                     "tenant " + std::string(name) + " has " + std::to_string(*running) +
                         " meetings; end them first, or remove it with force (they run on)");
  }
  auto removed = store_.removeTenant(name);
  if (!removed) return removed.error();
  if (!*removed) return noTenant(name);
  refreshDirectory();
  return *running;
}

Result<TenantAdmin::Usage> TenantAdmin::usage(std::string_view name) {
  auto current = show(name);
  if (!current) return current.error();
  auto running = meetingsOf(name);
  if (!running) return running.error();
  Usage u{*running, 0, *running};
  if (quota_) {
    if (auto p = quota_->participants(std::string(name)); p) u.participants = *p;
    if (auto c = quota_->meetings(std::string(name)); c) u.counted = *c;
  }
  return u;
}

}  // namespace sb
