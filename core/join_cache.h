// Where running meetings are, cached per router process for join: a join answered from here
// costs no store round trip. Entries live for a fixed TTL from the store read that filled them
// (a hit never extends it), so every router has forgotten a mapping at most TTL after the store
// changed; MeetingRouter::moveMeeting waits that long before it acknowledges a move, so a moved
// meeting is never joined on its old server once the move is acknowledged. This router's own
// moves, failovers and ends drop the entry at once.
// A meeting that keeps being joined never misses: once its entry is three quarters through its
// TTL, its next hit puts it on the refresh list, which the router reads from the store in one
// batch off the reactor (takeRefreshes, then put() or forget() each), so busy meetings are re-read
// about once per 3/4 TTL, together, and their joins all stay hits.
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
#include <vector>

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

  // The meeting's server as read from the store less than TTL ago, or null. With `refreshDue`
  // given, a hit on an entry past 3/4 of its TTL puts the meeting on the refresh list (once per
  // entry), and *refreshDue is set to true when that list was empty: the caller should then have
  // the list refreshed off the reactor (it holds every meeting added until it is taken).
  std::shared_ptr<const Server> find(std::string_view meetingId, bool* refreshDue = nullptr);
  // Empties the refresh list and returns it.
  std::vector<std::string> takeRefreshes();
  // `readAtMs`: the clock's time taken before the store read that found `server`. The entry
  // expires TTL after it, so the time the read took never extends the TTL. An entry from a
  // later read is kept over this one.
  void put(std::string_view meetingId, std::shared_ptr<const Server> server, int64_t readAtMs);
  void forget(std::string_view meetingId);

 private:
  struct Entry {
    std::shared_ptr<const Server> server;
    int64_t expiresAtMs = 0;
    bool refreshing = false;  // one hit was told to refresh it
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

  // Adds to the refresh list; true when it was empty.
  bool addRefresh(std::string_view meetingId);

  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const int64_t refreshBeforeExpiryMs_;  // a quarter of the TTL
  const size_t maxPerShard_;
  std::array<Shard, kShards> shards_;
  std::mutex refreshMu_;                // guards refreshes_; never taken with a shard's mutex
  std::vector<std::string> refreshes_;  // meetings whose entries are due for a refresh
};

}  // namespace sb
