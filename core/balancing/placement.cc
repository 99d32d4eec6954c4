#include "core/balancing/placement.h"

#include <algorithm>

namespace sb {

Result<std::vector<const Server*>> placementCandidates(const std::vector<Server>& servers,
                                                       const ServerTagRequest& tag) {
  std::vector<const Server*> available;
  for (const auto& s : servers) {
    if (s.availableForNewMeetings()) available.push_back(&s);
  }
  std::vector<const Server*> tagged;
  if (!tag.tags.empty()) {
    for (const Server* s : available) {
      if (std::find(tag.tags.begin(), tag.tags.end(), s->tag) != tag.tags.end()) {
        tagged.push_back(s);
      }
    }
    if (!tagged.empty()) return tagged;
    if (tag.required) {
      return Error::of(ErrorCode::kServerTagUnavailable,
                       "There is no available server with the required tag=" + tag.joined() + ".");
    }
  }
  std::vector<const Server*> untagged;
  for (const Server* s : available) {
    if (s->tag.empty()) untagged.push_back(s);
  }
  if (untagged.empty()) return Error::of(ErrorCode::kNoServerAvailable);
  return untagged;
}

Result<const Server*> chooseServer(const std::vector<Server>& servers, const ServerTagRequest& tag,
                                   BalancingStrategy& strategy, std::string_view meetingId) {
  auto candidates = placementCandidates(servers, tag);
  if (!candidates) return candidates.error();
  return strategy.choose(*candidates, meetingId);
}

}  // namespace sb
