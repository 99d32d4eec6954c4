#include "core/balancing/least_connections_strategy.h"

#include <tuple>

namespace sb {

const Server* LeastConnectionsStrategy::choose(const std::vector<const Server*>& candidates,
                                               std::string_view /*meetingId*/) {
  auto key = [](const Server* s) { return std::tie(s->live.usage.users, s->live.load, s->id); };
  const Server* best = nullptr;
  for (const Server* s : candidates) {
    if (best == nullptr || key(s) < key(best)) best = s;
  }
  return best;
}

}  // namespace sb
