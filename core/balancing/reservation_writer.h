// Writes placements' reservations to the server store, those of concurrent placements in one
// call (ServerStore::reserveMany: one Redis round trip for all of them).
//
// Why: with the shared store a reservation was a Redis round trip of its own for every create
// (about a tenth of the router's and Redis's CPU per create). Here a placement hands its
// reservation over; the first thread to find no write under way writes every reservation handed
// over so far, and again for those that came in meanwhile, until none is left, while the other
// placements go on at once (they are in the view already, PlacementView::choose, so this
// router's placements see them either way; other routers see them once written, within a round
// trip or two). Each reservation is settled in the view once it is written.
// Thread-safety: write() and release() may be called concurrently.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/balancing/placement_view.h"
#include "core/server_store.h"

namespace sb {

class ReservationWriter {
 public:
  ReservationWriter(ServerStore& store, PlacementView& view) : store_(store), view_(view) {}

  // Writes the reservation of `pick` (its load and one meeting), now or with the write under
  // way, then settles it in the view. A store failure is logged and the reservation settled all
  // the same: the next poll replaces reservations with what the server reports.
  void write(const PlacementView::Pick& pick);
  // Takes the written (or handed over) reservation of `pick` back, in the view at once (held
  // there as unsettled until written) and in the store in the same order as the writes: a
  // release never reaches the store before its reservation (the store clamps at 0, so that
  // order would leave the reservation standing until the next poll).
  void release(const PlacementView::Pick& pick);

 private:
  // Each write is bracketed by the view's beginWrite()/endWrite(), which settles what it carried.
  void hand(ServerStore::Reservation handed);
  void writeBatch(const std::vector<ServerStore::Reservation>& batch);

  ServerStore& store_;
  PlacementView& view_;
  std::mutex mu_;
  // guarded by mu_: handed over, not yet taken by a writer; each held unsettled in the view
  std::vector<ServerStore::Reservation> handed_;
  bool writing_ = false;  // guarded by mu_: a thread is writing
};

}  // namespace sb
