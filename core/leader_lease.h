// Port: a lease that makes exactly one poller active among several (the others stand by).
// Implemented in Redis (SET NX PX, renewed by the holder); the embedded store has one process
// and always grants it.
// Thread-safety: implementations are thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "core/result.h"

namespace sb {

class LeaderLease {
 public:
  virtual ~LeaderLease() = default;
  // Takes the lease for `holder` if free (or expired), or renews it if `holder` has it.
  // true = `holder` holds the lease for `ttl` from now; false = someone else does.
  // kStoreUnavailable when the store cannot be reached (the caller must then stand by).
  virtual Result<bool> acquire(const std::string& holder, std::chrono::milliseconds ttl) = 0;
  // Gives the lease up if `holder` has it (on shutdown, so a standby takes over at once).
  virtual Status release(const std::string& holder) = 0;
};

// The embedded default: a single process, always the leader.
class LocalLeaderLease final : public LeaderLease {
 public:
  Result<bool> acquire(const std::string&, std::chrono::milliseconds) override { return true; }
  Status release(const std::string&) override { return Status::Ok(); }
};

}  // namespace sb
