// Builds a balancing strategy from its configured name, so configuration and admin tools share one
// list of the known algorithms.
// Thread-safety: both functions are pure and may be called from any thread; the returned strategy
// documents its own thread-safety (all may be shared by concurrent choose() calls).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/balancing/balancing_strategy.h"

namespace sb {

// "least-load", "round-robin", "least-connections" or "hash"; underscores are accepted in place of
// hyphens ("least_load"). Matching is exact otherwise (case-sensitive, no trimming).
// Returns nullptr for an unknown name; the caller reports it (e.g. as a configuration error).
std::unique_ptr<BalancingStrategy> makeStrategy(std::string_view name);

// The canonical names makeStrategy() accepts, default ("least-load") first. The views refer to
// string literals and stay valid for the life of the program.
std::vector<std::string_view> strategyNames();

}  // namespace sb
