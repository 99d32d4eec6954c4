// A bulkhead per BBB server. A server that answers slowly (or not at all, until the timeouts)
// holds a worker thread per call; without a bound, callers of that one server could take every
// thread and stall calls to healthy servers. So a call fails at once when `perServer` calls
// already wait on its server *and* that server has answered none of them for `stalledAfter`: a
// healthy server taking a burst (200 students' creates of one room at the top of the hour) keeps
// answering and is never refused, a stalled one is.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace sb {

class ServerCallLimit {
 public:
  // perServer 0 = no limit.
  ServerCallLimit(int perServer, const Clock& clock,
                  std::chrono::milliseconds stalledAfter = std::chrono::seconds(1))
      : perServer_(perServer), clock_(clock), stalledAfterMs_(stalledAfter.count()) {}

  // A slot for one call to a server, given back when it goes out of scope (or empty: the limit
  // was reached).
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept
        : owner_(other.owner_),
          serverId_(std::move(other.serverId_)),
          firstRefusal_(other.firstRefusal_) {
      other.owner_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = other.owner_;
        serverId_ = std::move(other.serverId_);
        firstRefusal_ = other.firstRefusal_;
        other.owner_ = nullptr;
      }
      return *this;
    }
    ~Slot() { reset(); }
    explicit operator bool() const { return owner_ != nullptr; }
    // An empty slot that is the first refusal of its server's current stall (log it once).
    bool firstRefusal() const { return firstRefusal_; }

   private:
    friend class ServerCallLimit;
    void reset() {
      if (owner_ != nullptr) owner_->release(serverId_);
      owner_ = nullptr;
    }
    Slot(ServerCallLimit* owner, std::string serverId)
        : owner_(owner), serverId_(std::move(serverId)) {}
    ServerCallLimit* owner_ = nullptr;
    std::string serverId_;
    bool firstRefusal_ = false;
  };

  Slot tryAcquire(std::string_view serverId);
  int inFlight(std::string_view serverId) const;
  int perServer() const { return perServer_; }

 private:
  void release(const std::string& serverId);

  struct Calls {
    int inFlight = 0;
    int64_t lastAnswerMs = 0;  // the last call that ended, or when the first started
    int refused = 0;           // calls refused since the last answer
  };
  const int perServer_;
  const Clock& clock_;
  const int64_t stalledAfterMs_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Calls> calls_;  // guarded by mu_; no idle entries
};

}  // namespace sb
