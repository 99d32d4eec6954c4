#include "core/join_cache.h"

#include <functional>
#include <utility>

namespace sb {

JoinCache::JoinCache(const Clock& clock, std::chrono::milliseconds ttl, size_t maxEntries)
    : clock_(clock),
      ttl_(ttl),
      refreshBeforeExpiryMs_(ttl.count() / 4),
      maxPerShard_(std::max<size_t>(1, maxEntries / kShards)) {}

JoinCache::Shard& JoinCache::shardFor(std::string_view meetingId) {
  return shards_[std::hash<std::string_view>{}(meetingId) % kShards];
}

std::shared_ptr<const Server> JoinCache::find(std::string_view meetingId, bool* refreshDue) {
  if (!enabled()) return nullptr;
  Shard& shard = shardFor(meetingId);
  int64_t now = clock_.nowMs();
  std::unique_lock lock(shard.mu);
  auto it = shard.entries.find(meetingId);
  if (it == shard.entries.end()) return nullptr;
  if (it->second.expiresAtMs <= now) {
    shard.entries.erase(it);
    return nullptr;
  }
  Entry& entry = it->second;
  if (!refreshDue || entry.refreshing || entry.expiresAtMs - now > refreshBeforeExpiryMs_) {
    return entry.server;
  }
  entry.refreshing = true;
  auto server = entry.server;
  lock.unlock();
  if (addRefresh(meetingId)) *refreshDue = true;
  return server;
}

bool JoinCache::addRefresh(std::string_view meetingId) {
  std::lock_guard lock(refreshMu_);
  // Never more than the cache holds, whoever (not) takes the list: past that, entries expire.
  if (refreshes_.size() >= maxPerShard_ * kShards) return false;
  refreshes_.emplace_back(meetingId);
  return refreshes_.size() == 1;
}

std::vector<std::string> JoinCache::takeRefreshes() {
  std::lock_guard lock(refreshMu_);
  return std::exchange(refreshes_, {});
}

void JoinCache::put(std::string_view meetingId, std::shared_ptr<const Server> server,
                    int64_t readAtMs) {
  if (!enabled() || !server) return;
  Shard& shard = shardFor(meetingId);
  const int64_t now = clock_.nowMs();
  const int64_t expiresAtMs = readAtMs + ttl_.count();
  if (expiresAtMs <= now) return;
  std::lock_guard lock(shard.mu);
  if (auto it = shard.entries.find(meetingId);
      it != shard.entries.end() && it->second.expiresAtMs > expiresAtMs) {
    return;  // a later read already put its answer
  }
  if (shard.entries.size() >= maxPerShard_) {
    std::erase_if(shard.entries, [now](const auto& e) { return e.second.expiresAtMs <= now; });
    if (shard.entries.size() >= maxPerShard_) shard.entries.clear();
  }
  shard.entries.insert_or_assign(std::string(meetingId), Entry{std::move(server), expiresAtMs});
}

void JoinCache::forget(std::string_view meetingId) {
  if (!enabled()) return;
  Shard& shard = shardFor(meetingId);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.entries.find(meetingId); it != shard.entries.end()) shard.entries.erase(it);
}

}  // namespace sb
