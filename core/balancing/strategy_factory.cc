#include "core/balancing/strategy_factory.h"

#include <algorithm>
#include <string>

#include "core/balancing/hash_strategy.h"
#include "core/balancing/least_connections_strategy.h"
#include "core/balancing/least_load_strategy.h"
#include "core/balancing/round_robin_strategy.h"

namespace sb {

std::unique_ptr<BalancingStrategy> makeStrategy(std::string_view name) {
  std::string canonical(name);
  std::replace(canonical.begin(), canonical.end(), '_', '-');
  if (canonical == "least-load") return std::make_unique<LeastLoadStrategy>();
  if (canonical == "round-robin") return std::make_unique<RoundRobinStrategy>();
  if (canonical == "least-connections") return std::make_unique<LeastConnectionsStrategy>();
  if (canonical == "hash") return std::make_unique<HashStrategy>();
  return nullptr;
}

std::vector<std::string_view> strategyNames() {
  return {"least-load", "round-robin", "least-connections", "hash"};
}

}  // namespace sb
