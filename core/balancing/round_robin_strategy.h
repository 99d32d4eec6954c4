// Round robin (HAProxy's "roundrobin" without weights): cycles through the candidates in server-id
// order. The strategy remembers the id it chose last and picks the first candidate whose id is
// greater, wrapping around to the smallest id. Remembering an id rather than an index keeps the
// rotation going when the candidate set changes between calls: a server that disappears is simply
// skipped, one that appears takes its place in id order. Load and usage are ignored.
// Thread-safety: choose() may be called concurrently; the last chosen id is guarded by a mutex, so
// concurrent calls still rotate (each call sees the previous call's choice).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/balancing/balancing_strategy.h"

namespace sb {

class RoundRobinStrategy final : public BalancingStrategy {
 public:
  std::string_view name() const override { return "round-robin"; }
  // The candidate with the smallest id greater than the last chosen id; the smallest id when there
  // is none (wrap-around, and the very first call). `meetingId` is ignored.
  const Server* choose(const std::vector<const Server*>& candidates,
                       std::string_view meetingId) override;

 private:
  std::mutex mu_;
  std::string lastId_;  // guarded by mu_; empty before the first call
};

}  // namespace sb
