#include "db/redis_link_registry.h"

#include <algorithm>

namespace sb {

Result<bool> RedisLinkRegistry::useOnce(const std::string& id, int64_t nowMs, int64_t expiresMs) {
  const int64_t ttlMs = std::max<int64_t>(1, expiresMs - nowMs);
  auto reply = redis_->command({"SET", keys_.usedLink(id), "1", "NX", "PX", std::to_string(ttlMs)});
  if (!reply) return reply.error();
  if (reply->type == RedisReply::Type::kError) {
    return Error::of(ErrorCode::kStoreUnavailable, "redis: " + reply->str);
  }
  return !reply->isNil();  // "OK": set now, the first use; nil: it was there
}

}  // namespace sb
