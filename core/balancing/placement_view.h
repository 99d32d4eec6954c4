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
//
// Reservations (and releases) are written to the store outside the view (ReservationWriter),
// each write bracketed by beginWrite() and endWrite(); until its write ends, a reservation is
// "unsettled" and added to every reload. A reload waits for the writes under way, and a write
// waits for a reload under way: the store may or may not have applied a write under way, so a
// reload then could not tell whether to add its reservations to what it read (issue 18: settled
// only after the write, they were counted twice by a reload in between, and placements over
// three equal servers came out 101/100/99 with a TTL of 0). The wait is for at most one store
// round trip (the writer has one write under way at a time), at each reload (once per TTL).
// Thread-safety: every method may be called concurrently (one mutex, never held across a call to
// BBB; a reload holds it across one listServers), except that a thread between beginWrite() and
// endWrite() must not call choose(): a reload there would wait for that thread's own write.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <span>
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
  // reserves the meeting's load and one meeting on it in the view, unsettled. The caller then
  // either has it written (ReservationWriter::write: beginWrite(), the store, endWrite()), or
  // gives it up with cancel().
  // Errors: the store's, or placement.h's kNoServerAvailable / kServerTagUnavailable; those two
  // only from a view read after this call began (a stale view that refuses is read again once).
  // A create is thus never refused while the store shows a server that could take it.
  Result<Pick> choose(const ServerTagRequest& tag, BalancingStrategy& strategy,
                      std::string_view meetingId, int sizeHint,
                      const std::set<std::string>& exclude);
  // A write of reservations (and releases) this view holds as unsettled is about to be sent to
  // the store. Waits while a reload is under way (at most one listServers).
  void beginWrite();
  // The write begun with beginWrite() is done (or failed: its reservations are then dropped,
  // the next poll corrects the store): settles each of `written`, one entry per reservation or
  // release as handed over, so later reloads read them from the store instead of adding them.
  void endWrite(std::span<const ServerStore::Reservation> written);
  // The reservation of `pick` is given up before it was handed to a write: drops it from the view.
  void cancel(const Pick& pick);
  // The reservation of `pick` is taken back: drops it from the view at once and holds the release
  // as unsettled until a write carrying it ends (ReservationWriter::release writes it).
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
    int entries = 0;  // reservations and releases not yet settled
  };
  Status reloadIfStale(std::unique_lock<std::mutex>& lock);            // mu_ held
  void addTo(const std::string& serverId, double load, int meetings);  // mu_ held: servers_ only
  void addPending(const std::string& serverId, double load, int meetings, int entries);  // mu_ held

  ServerStore& store_;
  const Clock& clock_;
  const LoadConfig& load_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;                                // guards everything below
  std::condition_variable writesOrReloadsDone_;  // signalled when either count below drops to 0
  std::vector<Server> servers_;
  bool loaded_ = false;
  int64_t loadedAtMs_ = 0;
  // Reservations chosen (and releases) not yet settled by a write, added to every reload.
  std::unordered_map<std::string, Pending> unsettled_;
  int writesUnderWay_ = 0;  // between beginWrite() and endWrite()
  int reloadsWaiting_ = 0;  // reloads waiting for the writes under way to end
};

}  // namespace sb
