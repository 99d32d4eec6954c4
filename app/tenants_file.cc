#include "app/tenants_file.h"

#include <nlohmann/json.hpp>

#include "core/tenants/tenant_json.h"
#include "importer/file_io.h"

namespace sb {
namespace {

constexpr uintmax_t kMaxFileBytes = 64 * 1024 * 1024;

}  // namespace

Status TenantsFile::load() {
  if (path_.empty()) return Status::Ok();
  auto text = readSmallFile(path_, kMaxFileBytes);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return Status::Ok();
    return text.error();
  }
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("tenants") ||
      !json["tenants"].is_array()) {
    return Error::of(ErrorCode::kInvalidArgument, path_ + ": not a tenants file");
  }
  std::lock_guard lock(mutex_);
  tenants_.clear();
  for (const auto& j : json["tenants"]) {
    auto t = tenantFromJson(j);
    if (!t) return Error::of(ErrorCode::kInvalidArgument, path_ + ": " + t.error().message);
    tenants_.emplace(t->name, std::move(*t));
  }
  return Status::Ok();
}

Status TenantsFile::changed(const std::map<std::string, Tenant, std::less<>>& tenants) {
  if (path_.empty()) return Status::Ok();
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [name, t] : tenants) all.push_back(tenantToJson(t));
  nlohmann::json file = {{"tenants", std::move(all)}};
  return replaceFile(path_, file.dump(2) + "\n", 0600);
}

}  // namespace sb
