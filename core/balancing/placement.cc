#include "core/balancing/placement.h"

#include <algorithm>

namespace sb {
namespace {

// Scalelite's tag rule over `pool`.
Result<std::vector<const Server*>> byTag(const std::vector<const Server*>& pool,
                                         const ServerTagRequest& tag) {
  if (!tag.tags.empty()) {
    std::vector<const Server*> tagged;
    for (const Server* s : pool) {
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
  for (const Server* s : pool) {
    if (s->tag.empty()) untagged.push_back(s);
  }
  if (untagged.empty()) return Error::of(ErrorCode::kNoServerAvailable);
  return untagged;
}

}  // namespace

Result<std::vector<const Server*>> placementCandidates(const std::vector<Server>& servers,
                                                       const ServerTagRequest& tag,
                                                       int expectedUsers) {
  std::vector<const Server*> available;
  std::vector<const Server*> roomy;
  for (const auto& s : servers) {
    if (!s.availableForNewMeetings()) continue;
    available.push_back(&s);
    if (s.hasRoomFor(expectedUsers)) roomy.push_back(&s);
  }
  auto candidates = byTag(roomy, tag);
  if (candidates || roomy.size() == available.size()) return candidates;
  // Something was left out for capacity: if it would have qualified, say the pool is full.
  if (byTag(available, tag)) {
    return Error::of(ErrorCode::kNoServerAvailable,
                     "All servers that could take this meeting are at capacity.");
  }
  return candidates;
}

Result<const Server*> chooseServer(const std::vector<Server>& servers, const ServerTagRequest& tag,
                                   BalancingStrategy& strategy, std::string_view meetingId,
                                   int expectedUsers) {
  auto candidates = placementCandidates(servers, tag, expectedUsers);
  if (!candidates) return candidates.error();
  return strategy.choose(*candidates, meetingId);
}

}  // namespace sb
