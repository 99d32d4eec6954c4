#include "core/join_cache.h"

#include <functional>

namespace sb {

JoinCache::JoinCache(const Clock& clock, std::chrono::milliseconds ttl, size_t maxEntries)
    : clock_(clock), ttl_(ttl), maxPerShard_(std::max<size_t>(1, maxEntries / kShards)) {}

JoinCache::Shard& JoinCache::shardFor(std::string_view meetingId) {
  return shards_[std::hash<std::string_view>{}(meetingId) % kShards];
}

std::shared_ptr<const Server> JoinCache::find(std::string_view meetingId) {
  if (!enabled()) return nullptr;
  Shard& shard = shardFor(meetingId);
  int64_t now = clock_.nowMs();
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(meetingId);
  if (it == shard.entries.end()) return nullptr;
  if (it->second.expiresAtMs <= now) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.server;
}

void JoinCache::put(std::string_view meetingId, std::shared_ptr<const Server> server) {
  if (!enabled() || !server) return;
  Shard& shard = shardFor(meetingId);
  int64_t now = clock_.nowMs();
  std::lock_guard lock(shard.mu);
  if (shard.entries.size() >= maxPerShard_) {
    std::erase_if(shard.entries, [now](const auto& e) { return e.second.expiresAtMs <= now; });
    if (shard.entries.size() >= maxPerShard_) shard.entries.clear();
  }
  shard.entries[std::string(meetingId)] = Entry{std::move(server), now + ttl_.count()};
}

void JoinCache::forget(std::string_view meetingId) {
  if (!enabled()) return;
  Shard& shard = shardFor(meetingId);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.entries.find(meetingId); it != shard.entries.end()) shard.entries.erase(it);
}

}  // namespace sb
