// Placement of a new meeting: a chain of filters that may only remove candidates (b3scale's
// router), then one strategy that picks among what is left.
//   1. available: enabled and online
//   2. capacity: room for the meeting's expected users (Server::hasRoomFor)
//   3. tags: Scalelite's meta_server-tag semantics (see server_tag.h)
//   4. strategy (least load by default)
// A server that is full counts as unavailable, so an optional tag falls back to untagged servers
// when every tagged one is full; when the only servers the tags allow are full, the error says so.
#pragma once

#include <string_view>
#include <vector>

#include "core/balancing/balancing_strategy.h"
#include "core/balancing/server_tag.h"
#include "core/result.h"
#include "core/server.h"

namespace sb {

// The servers a meeting with `tag` may be placed on, before the strategy picks.
// Errors: kNoServerAvailable when no server is available at all (or none untagged for an
// untagged meeting), or every allowed one is full ("... at capacity"); kServerTagUnavailable for a
// required tag nobody available carries.
Result<std::vector<const Server*>> placementCandidates(const std::vector<Server>& servers,
                                                       const ServerTagRequest& tag,
                                                       int expectedUsers = 0);

// Candidates, then the strategy's pick. `servers` must outlive the returned pointer.
Result<const Server*> chooseServer(const std::vector<Server>& servers, const ServerTagRequest& tag,
                                   BalancingStrategy& strategy, std::string_view meetingId,
                                   int expectedUsers = 0);

}  // namespace sb
