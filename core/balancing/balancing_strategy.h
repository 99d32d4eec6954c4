// One small interface for server-selection algorithms (one file per algorithm, as HAProxy's
// lb_*.c). Strategies only order candidates that the placement filters already accepted; they
// never add servers.
// Thread-safety: choose() may be called concurrently; a strategy with state synchronises it.
#pragma once

#include <string_view>
#include <vector>

#include "core/server.h"

namespace sb {

class BalancingStrategy {
 public:
  virtual ~BalancingStrategy() = default;
  virtual std::string_view name() const = 0;
  // Picks one of `candidates` (never empty) for the meeting. Ties must be broken
  // deterministically (by server id), never by container order.
  virtual const Server* choose(const std::vector<const Server*>& candidates,
                               std::string_view meetingId) = 0;
};

}  // namespace sb
