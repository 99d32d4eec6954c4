// Least connections (HAProxy's "leastconn"): the candidate with the fewest users
// (live.usage.users, as of the last poll), then the lower live load, then the smaller server id.
// Unlike least-load it ignores meetings, videos and the load multiplier except as a tie-breaker,
// so it spreads attendees evenly rather than weighted cost.
// Thread-safety: stateless; choose() may be called concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "core/balancing/balancing_strategy.h"

namespace sb {

class LeastConnectionsStrategy final : public BalancingStrategy {
 public:
  std::string_view name() const override { return "least-connections"; }
  // Fewest users, then lower load, then smaller id. `meetingId` is ignored.
  const Server* choose(const std::vector<const Server*>& candidates,
                       std::string_view meetingId) override;
};

}  // namespace sb
