// Port: where servers (inventory and live state) are kept. Implemented by db/ (memory, Redis +
// PostgreSQL). Every method may be called from any thread; implementations synchronise.
// Failures of the store itself are kStoreUnavailable; a missing server is kNotFound.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/server.h"

namespace sb {

class ServerStore {
 public:
  virtual ~ServerStore() = default;

  // All servers, ordered by id.
  virtual Result<std::vector<Server>> listServers() = 0;
  virtual Result<Server> getServer(std::string_view id) = 0;
  // Adds a new server (inventory and live state as given). kAlreadyExists when the id or the URL
  // is taken.
  virtual Status addServer(const Server& server) = 0;
  // Replaces the inventory fields (url, secret, tag, state, loadMultiplier, maxUsers,
  // maxMeetings); live state is kept.
  virtual Status updateServer(const Server& server) = 0;
  virtual Status removeServer(std::string_view id) = 0;
  // Sets the admin state to `next` only if it is still `expected` (the poller's drain, which must
  // not undo an operator's change made meanwhile). Returns whether it changed.
  virtual Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                          AdminState next) = 0;
  // Replaces the live state (the poller's write).
  virtual Status updateLiveState(std::string_view id, const ServerLiveState& live) = 0;
  // Adds a reservation to the server's live state at once: `load` to its load and `meetings` to
  // its meeting count (negative values release one). Placements between two polls see each
  // other this way, so bursts of creates spread out; the next poll replaces both with what the
  // server reports (plus what is still pending). kNotFound when the server is gone.
  virtual Status reserve(std::string_view id, double load, int meetings) = 0;

  // reserve() for several servers in one call: the reservations of concurrent placements,
  // written together. A server that is gone is skipped (its reservation no longer matters);
  // other failures are the store's. This default makes one reserve() call each.
  struct Reservation {
    std::string serverId;
    double load = 0;
    int meetings = 0;
  };
  virtual Status reserveMany(std::span<const Reservation> reservations) {
    for (const auto& r : reservations) {
      Status s = reserve(r.serverId, r.load, r.meetings);
      if (!s && s.error().code != ErrorCode::kNotFound) return s;
    }
    return Status::Ok();
  }
};

}  // namespace sb
