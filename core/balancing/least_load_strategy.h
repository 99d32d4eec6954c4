// The default strategy: the lowest live load (which includes reservations for meetings placed
// since the last poll); ties broken by server id.
#pragma once

#include "core/balancing/balancing_strategy.h"

namespace sb {

class LeastLoadStrategy final : public BalancingStrategy {
 public:
  std::string_view name() const override { return "least-load"; }
  const Server* choose(const std::vector<const Server*>& candidates,
                       std::string_view meetingId) override;
};

}  // namespace sb
