// How many calls may wait on one BBB server at once (a bulkhead). A server that answers slowly
// (or not at all, until the timeouts) holds a worker thread per call; without a bound, callers
// of that one server could take every thread and stall calls to healthy servers. Beyond the
// limit a call fails at once instead of queueing behind the slow ones.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sb {

class ServerCallLimit {
 public:
  explicit ServerCallLimit(int perServer) : perServer_(perServer) {}  // 0 = no limit

  // A slot for one call to a server, given back when it goes out of scope (or empty: the limit
  // was reached).
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : owner_(other.owner_), serverId_(std::move(other.serverId_)) {
      other.owner_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_ != nullptr) owner_->release(serverId_);
    }
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class ServerCallLimit;
    Slot(ServerCallLimit* owner, std::string serverId)
        : owner_(owner), serverId_(std::move(serverId)) {}
    ServerCallLimit* owner_ = nullptr;
    std::string serverId_;
  };

  Slot tryAcquire(std::string_view serverId);
  int inFlight(std::string_view serverId) const;
  int perServer() const { return perServer_; }

 private:
  void release(const std::string& serverId);

  const int perServer_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> inFlight_;  // guarded by mu_; no zero entries
};

}  // namespace sb
