#include "core/balancing/least_load_strategy.h"

namespace sb {

const Server* LeastLoadStrategy::choose(const std::vector<const Server*>& candidates,
                                        std::string_view /*meetingId*/) {
  const Server* best = nullptr;
  for (const Server* s : candidates) {
    if (best == nullptr || s->live.load < best->live.load ||
        (s->live.load == best->live.load && s->id < best->id)) {
      best = s;
    }
  }
  return best;
}

}  // namespace sb
