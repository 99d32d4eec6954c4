#include "core/tenants/tenant.h"

#include <algorithm>
#include <set>

namespace sb {
namespace {

constexpr char kScopeSeparator = '~';
constexpr size_t kBbbMeetingIdMax = 256;
constexpr size_t kMinSecretLength = 12;

bool isLabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool validHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    if (!validTenantName(host.substr(start, dot - start)).ok()) return false;
    start = dot + 1;
  }
  return true;
}

}  // namespace

Status validTenantName(std::string_view name) {
  if (name.empty() || name.size() > 63) {
    return Error::of(ErrorCode::kInvalidArgument, "a tenant name has 1 to 63 characters");
  }
  if (!std::all_of(name.begin(), name.end(), isLabelChar) || name.front() == '-' ||
      name.back() == '-') {
    return Error::of(ErrorCode::kInvalidArgument,
                     "a tenant name is lower-case letters, digits and inner '-' (a DNS label)");
  }
  return Status::Ok();
}

Status validTenant(const Tenant& tenant) {
  if (auto s = validTenantName(tenant.name); !s.ok()) return s;
  if (tenant.secrets.empty()) {
    return Error::of(ErrorCode::kInvalidArgument, "a tenant needs at least one secret");
  }
  std::set<std::string_view> seen;
  for (const auto& s : tenant.secrets) {
    if (s.size() < kMinSecretLength) {
      return Error::of(ErrorCode::kInvalidArgument, "a tenant secret has at least 12 characters");
    }
    if (!seen.insert(s).second) {
      return Error::of(ErrorCode::kInvalidArgument, "a tenant secret is given twice");
    }
  }
  for (const auto& h : tenant.hosts) {
    if (!validHostName(h)) {
      return Error::of(ErrorCode::kInvalidArgument,
                       "a tenant host is a lower-case host name without port");
    }
  }
  const auto& l = tenant.limits;
  if (l.maxMeetings < 0 || l.maxParticipants < 0 || l.createsPerMinute < 0) {
    return Error::of(ErrorCode::kInvalidArgument, "a tenant limit is 0 (none) or more");
  }
  return Status::Ok();
}

std::string scopedMeetingId(std::string_view tenant, std::string_view meetingId) {
  if (tenant.empty()) return std::string(meetingId);
  std::string scoped;
  scoped.reserve(tenant.size() + 1 + meetingId.size());
  scoped.append(tenant).push_back(kScopeSeparator);
  scoped.append(meetingId);
  return scoped;
}

std::string_view tenantOfMeetingId(std::string_view scopedId) {
  size_t sep = scopedId.find(kScopeSeparator);
  if (sep == std::string_view::npos) return {};
  std::string_view tenant = scopedId.substr(0, sep);
  return validTenantName(tenant).ok() ? tenant : std::string_view();
}

std::optional<std::string_view> unscopedMeetingId(std::string_view tenant,
                                                  std::string_view scopedId) {
  if (tenant.empty()) return scopedId;
  if (scopedId.size() <= tenant.size() || !scopedId.starts_with(tenant) ||
      scopedId[tenant.size()] != kScopeSeparator) {
    return std::nullopt;
  }
  return scopedId.substr(tenant.size() + 1);
}

size_t maxMeetingIdLength(std::string_view tenant) {
  return tenant.empty() ? kBbbMeetingIdMax : kBbbMeetingIdMax - tenant.size() - 1;
}

}  // namespace sb
