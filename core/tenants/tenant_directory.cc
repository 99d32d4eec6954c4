#include "core/tenants/tenant_directory.h"

#include <algorithm>

#include "core/query_string.h"

namespace sb {
namespace {

std::string lowerHost(std::string_view host) {
  // Drop a port (not inside an IPv6 literal) and a trailing dot.
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return lowerAscii(host);
}

}  // namespace

TenantDirectory::TenantDirectory(TenantStore& store, std::string baseDomain,
                                 std::set<ChecksumAlgorithm> allowed)
    : store_(store),
      baseDomain_(
          lowerHost(std::string_view(baseDomain).substr(baseDomain.starts_with('.') ? 1 : 0))),
      allowed_(std::move(allowed)),
      snapshot_(std::make_shared<Snapshot>()) {}

Status TenantDirectory::refresh() {
  auto tenants = store_.listTenants();
  if (!tenants) return tenants.error();
  auto next = std::make_shared<Snapshot>();
  next->tenants = tenants->size();
  for (auto& t : *tenants) {
    if (!t.enabled) continue;
    auto entry = std::make_shared<const Entry>(Entry{t, ChecksumVerifier(t.secrets, allowed_)});
    for (const auto& h : t.hosts) next->byHost.emplace(lowerHost(h), entry);
    next->byName.emplace(t.name, std::move(entry));
  }
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const TenantDirectory::Snapshot> TenantDirectory::current() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::shared_ptr<const TenantDirectory::Entry> TenantDirectory::byName(std::string_view name) const {
  auto s = current();
  auto it = s->byName.find(std::string(name));
  return it == s->byName.end() ? nullptr : it->second;
}

std::shared_ptr<const TenantDirectory::Entry> TenantDirectory::byHost(std::string_view host) const {
  std::string h = lowerHost(host);
  auto s = current();
  if (auto it = s->byHost.find(h); it != s->byHost.end()) return it->second;
  if (baseDomain_.empty() || h.size() <= baseDomain_.size() + 1 || !h.ends_with(baseDomain_) ||
      h[h.size() - baseDomain_.size() - 1] != '.') {
    return nullptr;
  }
  std::string label = h.substr(0, h.size() - baseDomain_.size() - 1);
  if (label.find('.') != std::string::npos) return nullptr;  // one label only, as Scalelite
  auto it = s->byName.find(label);
  return it == s->byName.end() ? nullptr : it->second;
}

size_t TenantDirectory::size() const { return current()->tenants; }

}  // namespace sb
