// The pool as one router sees it when placing new meetings: the server list read from the store
// at most once per TTL, plus the reservations this router made since that read.
//
// Why: reading every server's record for each create (and holding a lock across that read, the
// claim and the reservation, so concurrent creates see each other) limited a router to one
// placement per store round trip chain, ~500 creates/s with Redis + PostgreSQL. Here only the
// choice itself is serialised (microseconds, in memory); the claim and the reservation go to the
// store outside the lock, and concurrent placements in this process still see each other's
// reservations because they are added to the view at the moment of the choice.
//
// Staleness contract: a change made elsewhere (another router's reservations, the poller's new
// load figures, an operator's cordon or disable, a server going offline) reaches this router's
// placements at most `ttl` after it reached the store. ttl 0 reads the store on every choice.
// A placement on a server that went offline meanwhile fails in transport and is retried
// elsewhere by the caller.
// Thread-safety: every method may be called concurrently (one mutex, never held across a call to
// BBB; a reload holds it across one listServers).
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/balancing/balancing_strategy.h"
#include "core/balancing/server_tag.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"
#include "core/server_store.h"

namespace sb {

class PlacementView {
 public:
  PlacementView(ServerStore& servers, const Clock& clock, const LoadConfig& load,
                std::chrono::milliseconds ttl);

  struct Pick {
    Server server;    // as the view saw it before this reservation
    double load = 0;  // the reservation added for this meeting
  };
  // Chooses a server (placement.h's chain, then `strategy`) among those not in `exclude`, and
  // reserves the meeting's load and one meeting on it in the view. The caller then either
  // writes the reservation to the store and calls settle(), or gives it up with cancel().
  // Errors: the store's, or placement.h's kNoServerAvailable / kServerTagUnavailable; those two
  // only from a view read after this call began (a stale view that refuses is read again once).
  // A create is thus never refused while the store shows a server that could take it.
  Result<Pick> choose(const ServerTagRequest& tag, BalancingStrategy& strategy,
                      std::string_view meetingId, int sizeHint,
                      const std::set<std::string>& exclude);
  // The reservation of `pick` is now in the store: later reloads see it there.
  void settle(const Pick& pick) { settle(pick.server.id, pick.load); }
  void settle(std::string_view serverId, double load);
  // The reservation of `pick` is given up before it was written: drops it from the view.
  void cancel(const Pick& pick);
  // The settled reservation of `pick` was taken back in the store too: drops it from the view.
  void release(const Pick& pick);
  // The next choice reads the store (this router changed a server).
  void invalidate();
  // The servers as last read from the store (empty before the first read), without reading it:
  // what a router still knows of the pool while its stores do not answer.
  std::vector<Server> lastRead();

 private:
  struct Pending {
    double load = 0;
    int meetings = 0;
  };
  Status reloadIfStale();                                              // mu_ held
  void addTo(const std::string& serverId, double load, int meetings);  // mu_ held: servers_ only

  ServerStore& store_;
  const Clock& clock_;
  const LoadConfig& load_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;  // guards everything below
  std::vector<Server> servers_;
  bool loaded_ = false;
  int64_t loadedAtMs_ = 0;
  // Reservations chosen but not yet in the store, added to every reload.
  std::unordered_map<std::string, Pending> unsettled_;
};

}  // namespace sb
