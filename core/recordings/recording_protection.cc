#include "core/recordings/recording_protection.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/jwt.h"

namespace sb {
namespace {

constexpr int64_t kKnownForMs = 5000;
constexpr size_t kMaxRemembered = 100000;

std::string subjectOf(std::string_view recordId, std::string_view format) {
  return "/" + std::string(format) + "/" + std::string(recordId);
}

std::string cookieName(std::string_view recordId, std::string_view format) {
  return "recording_" + std::string(format) + "_" + std::string(recordId);
}

std::string randomId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// The claims of `token` when it is a valid `use` token for `format` of `recordId` at `nowMs`.
std::optional<nlohmann::json> validClaims(std::string_view token, std::string_view key,
                                          std::string_view use, std::string_view recordId,
                                          std::string_view format, int64_t nowMs) {
  auto claims = jwtVerify(token, key);
  if (!claims) return std::nullopt;
  const auto& c = *claims;
  if (!c.contains("use") || c["use"] != use) return std::nullopt;
  if (!c.contains("sub") || c["sub"] != subjectOf(recordId, format)) return std::nullopt;
  if (!c.contains("exp") || !c["exp"].is_number_integer()) return std::nullopt;
  if (c["exp"].get<int64_t>() * 1000 <= nowMs) return std::nullopt;
  return claims;
}

}  // namespace

RecordingProtection::RecordingProtection(ProtectionConfig config, RecordingStore* store,
                                         LinkRegistry* links)
    : config_(std::move(config)), store_(store), links_(links) {
  if (config_.key.empty()) {
    // No key configured (no shared secret either): one of this process's own, never none.
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) == 1) {
      config_.key.assign(reinterpret_cast<const char*>(bytes), sizeof bytes);
    }
  }
}

std::string RecordingProtection::derivedKey(std::string_view secret) {
  return sb::derivedKey(secret, "switchboard protected recordings");
}

std::string RecordingProtection::linkToken(std::string_view recordId, std::string_view format,
                                           int64_t nowMs) const {
  return jwtSign({{"sub", subjectOf(recordId, format)},
                  {"use", "link"},
                  {"jti", randomId()},
                  {"exp", nowMs / 1000 + config_.linkLifetime.count()}},
                 config_.key);
}

bool RecordingProtection::redeemLink(std::string_view token, std::string_view recordId,
                                     std::string_view format, int64_t nowMs) {
  auto claims = validClaims(token, config_.key, "link", recordId, format, nowMs);
  if (!claims || !(*claims).contains("jti") || !(*claims)["jti"].is_string()) return false;
  const std::string id = (*claims)["jti"].get<std::string>();
  const int64_t expiresMs = (*claims)["exp"].get<int64_t>() * 1000;
  if (links_) {
    auto first = links_->useOnce(id, nowMs, expiresMs);
    if (first) {
      (void)localLinks_.useOnce(id, nowMs, expiresMs);  // for an outage of the registry later
      return *first;
    }
    spdlog::warn(
        "protected recordings: used links cannot be checked across routers ({}); "
        "this link is checked on this router only",
        first.error().message);
  }
  auto first = localLinks_.useOnce(id, nowMs, expiresMs);  // never fails
  return first && *first;
}

std::vector<ProtectionCookie> RecordingProtection::cookiesFor(std::string_view recordId,
                                                              std::string_view format,
                                                              int64_t nowMs, bool secure) const {
  const std::string value = jwtSign({{"sub", subjectOf(recordId, format)},
                                     {"use", "cookie"},
                                     {"exp", nowMs / 1000 + config_.cookieLifetime.count()}},
                                    config_.key);
  const std::string attributes = "; Max-Age=" + std::to_string(config_.cookieLifetime.count()) +
                                 "; HttpOnly" +
                                 (secure ? "; Secure; SameSite=None" : "; SameSite=Lax");
  const std::string name = cookieName(recordId, format);
  const std::string path = subjectOf(recordId, format);
  return {{name + "=" + value + "; Path=" + path + attributes},
          {name + "=" + value + "; Path=/playback" + path + attributes}};
}

std::optional<std::string_view> RecordingProtection::cookieValue(std::string_view header,
                                                                 std::string_view name) {
  while (!header.empty()) {
    size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

bool RecordingProtection::cookieValid(std::string_view header, std::string_view recordId,
                                      std::string_view format, int64_t nowMs) const {
  auto value = cookieValue(header, cookieName(recordId, format));
  return value && validClaims(*value, config_.key, "cookie", recordId, format, nowMs);
}

std::optional<bool> RecordingProtection::isProtected(std::string_view recordId, int64_t nowMs) {
  const std::string id(recordId);
  {
    std::lock_guard lock(mutex_);
    auto it = known_.find(id);
    if (it != known_.end() && it->second.untilMs > nowMs) return it->second.isProtected;
  }
  if (!store_) return false;
  // Whichever tenant it belongs to: a tenant's protected recording is protected too.
  auto found = store_->findExact(std::span<const std::string>(&id, 1), RecordingStore::kAnyTenant);
  if (!found) return std::nullopt;
  const bool isProtected = !found->empty() && found->front().isProtected;
  std::lock_guard lock(mutex_);
  if (known_.size() >= kMaxRemembered) known_.clear();
  known_[id] = Known{isProtected, nowMs + kKnownForMs};
  return isProtected;
}

void RecordingProtection::forget(const std::string& recordId) {
  std::lock_guard lock(mutex_);
  known_.erase(recordId);
}

bool RecordingProtection::mayServe(std::string_view recordId, std::string_view format,
                                   std::string_view cookieHeader, int64_t nowMs) {
  if (!config_.enabled) return true;
  if (!cookieHeader.empty() && cookieValid(cookieHeader, recordId, format, nowMs)) return true;
  auto isProtectedNow = isProtected(recordId, nowMs);
  return isProtectedNow.has_value() && !*isProtectedNow;
}

}  // namespace sb
