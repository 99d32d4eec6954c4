#include "core/balancing/round_robin_strategy.h"

namespace sb {

const Server* RoundRobinStrategy::choose(const std::vector<const Server*>& candidates,
                                         std::string_view /*meetingId*/) {
  std::lock_guard lock(mu_);
  const Server* next = nullptr;      // smallest id > lastId_
  const Server* smallest = nullptr;  // smallest id overall, for the wrap-around
  for (const Server* s : candidates) {
    if (smallest == nullptr || s->id < smallest->id) smallest = s;
    if (s->id > lastId_ && (next == nullptr || s->id < next->id)) next = s;
  }
  const Server* chosen = next != nullptr ? next : smallest;
  lastId_ = chosen->id;
  return chosen;
}

}  // namespace sb
