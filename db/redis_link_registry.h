// Used one-time links in Redis (core/recordings/link_registry.h): one key per used link, set
// with NX so exactly one router's redemption wins, expiring with the link.
// Thread-safety: every method may be called from any thread (RedisConnection's).
#pragma once

#include <memory>

#include "core/recordings/link_registry.h"
#include "db/redis_connection.h"
#include "db/redis_keys.h"

namespace sb {

class RedisLinkRegistry final : public LinkRegistry {
 public:
  RedisLinkRegistry(std::shared_ptr<RedisConnection> redis, RedisKeys keys)
      : redis_(std::move(redis)), keys_(std::move(keys)) {}

  Result<bool> useOnce(const std::string& id, int64_t nowMs, int64_t expiresMs) override;

 private:
  std::shared_ptr<RedisConnection> redis_;
  const RedisKeys keys_;
};

}  // namespace sb
