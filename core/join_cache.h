// Where running meetings are, cached per router process for join: a join answered from here
// costs no store round trip. Entries live for a fixed TTL from the store read that filled them
// (a hit never extends it), so every router has forgotten a mapping at most TTL after the store
// changed; MeetingRouter::moveMeeting waits that long before it acknowledges a move, so a moved
// meeting is never joined on its old server once the move is acknowledged. This router's own
// moves, failovers and ends drop the entry at once.
// Thread-safety: every method may be called concurrently (sharded mutexes).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/server.h"

namespace sb {

class JoinCache {
 public:
  // ttl 0 disables the cache. At most `maxEntries` meetings are kept (expired ones are dropped
  // first when full).
  JoinCache(const Clock& clock, std::chrono::milliseconds ttl, size_t maxEntries = 200'000);

  bool enabled() const { return ttl_.count() > 0; }
  std::chrono::milliseconds ttl() const { return ttl_; }

  // The meeting's server as read from the store less than TTL ago, or null.
  std::shared_ptr<const Server> find(std::string_view meetingId);
  void put(std::string_view meetingId, std::shared_ptr<const Server> server);
  void forget(std::string_view meetingId);

 private:
  struct Entry {
    std::shared_ptr<const Server> server;
    int64_t expiresAtMs = 0;
  };
  // Lets find() and forget() look a std::string_view up without copying it into a key.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  struct Shard {
    std::mutex mu;  // guards entries
    std::unordered_map<std::string, Entry, IdHash, std::equal_to<>> entries;
  };
  static constexpr size_t kShards = 16;
  Shard& shardFor(std::string_view meetingId);

  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const size_t maxPerShard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace sb
