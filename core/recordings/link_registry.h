// Port: which one-time links (protected recordings' playback links) were used, so a link works
// once across the pool, not once per router. Redis in production (db/redis_link_registry.h:
// SET NX with the link's expiry); process memory in the embedded default (MemoryLinkRegistry).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/result.h"

namespace sb {

class LinkRegistry {
 public:
  virtual ~LinkRegistry() = default;
  // Marks link `id` used, remembered until `expiresMs` (Unix ms; the link is refused after that
  // anyway). True for its first use, false when it was used before; kStoreUnavailable when that
  // cannot be known.
  virtual Result<bool> useOnce(const std::string& id, int64_t nowMs, int64_t expiresMs) = 0;
};

class MemoryLinkRegistry final : public LinkRegistry {
 public:
  Result<bool> useOnce(const std::string& id, int64_t nowMs, int64_t expiresMs) override {
    std::lock_guard lock(mutex_);
    if (used_.size() >= kMaxRemembered) {
      std::erase_if(used_, [&](const auto& e) { return e.second <= nowMs; });
    }
    return used_.emplace(id, expiresMs).second;
  }

 private:
  // Past this many, expired IDs are dropped (a link lives minutes to hours).
  static constexpr size_t kMaxRemembered = 100'000;
  std::mutex mutex_;
  std::unordered_map<std::string, int64_t> used_;  // link ID → its expiry (ms)
};

}  // namespace sb
