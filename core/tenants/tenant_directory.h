// The tenants as the BBB API meets them on every request: found by host name or by name (the
// /t/<tenant>/ path prefix), each with the checksum verifier of its secrets. Requests read an
// immutable snapshot and never wait on a store: refresh() reloads it (every few seconds, and at
// once after this process changes a tenant), so a change made through another router is seen
// within the refresh interval.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/checksum.h"
#include "core/result.h"
#include "core/tenants/tenant.h"
#include "core/tenants/tenant_store.h"

namespace sb {

class TenantDirectory {
 public:
  struct Entry {
    Tenant tenant;
    ChecksumVerifier verifier;  // of tenant.secrets
  };
  // `baseDomain`: tenants are also found at "<name>.<baseDomain>" ("" = by their hosts only).
  // `allowed`: the checksum algorithms accepted (LOADBALANCER_CHECKSUM_ALGORITHMS).
  TenantDirectory(TenantStore& store, std::string baseDomain, std::set<ChecksumAlgorithm> allowed);

  // Reloads every tenant from the store; on failure the last snapshot stays (and is reported).
  Status refresh();

  // The enabled tenant named `name`, null when none.
  std::shared_ptr<const Entry> byName(std::string_view name) const;
  // The enabled tenant a request to `host` (the Host header: any case, an optional port) is for:
  // one that lists the host, else "<name>.<baseDomain>"; null when none.
  std::shared_ptr<const Entry> byHost(std::string_view host) const;
  // Tenants loaded (enabled or not).
  size_t size() const;

 private:
  struct Snapshot {
    std::unordered_map<std::string, std::shared_ptr<const Entry>> byName;
    std::unordered_map<std::string, std::shared_ptr<const Entry>> byHost;
    size_t tenants = 0;
  };
  std::shared_ptr<const Snapshot> current() const;

  TenantStore& store_;
  const std::string baseDomain_;  // lower case, no leading '.'
  const std::set<ChecksumAlgorithm> allowed_;
  mutable std::mutex mutex_;  // guards snapshot_ (the pointer, not what it points to)
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace sb
