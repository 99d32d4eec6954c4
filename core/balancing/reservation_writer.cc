#include "core/balancing/reservation_writer.h"

#include <spdlog/spdlog.h>

#include <map>
#include <utility>

namespace sb {

void ReservationWriter::write(const PlacementView::Pick& pick) {
  hand({pick.server.id, pick.load, 1});
}

void ReservationWriter::release(const PlacementView::Pick& pick) {
  view_.release(pick);  // before it is handed over: the write settles it
  hand({pick.server.id, -pick.load, -1});
}

void ReservationWriter::hand(ServerStore::Reservation handed) {
  std::unique_lock lock(mu_);
  handed_.push_back(std::move(handed));
  if (writing_) return;  // the thread writing takes it along
  writing_ = true;
  while (!handed_.empty()) {
    std::vector<ServerStore::Reservation> batch = std::exchange(handed_, {});
    lock.unlock();
    try {
      writeBatch(batch);
    } catch (const std::exception& e) {  // never leave writing_ set: nothing would be written
      spdlog::error("writing reservations failed: {}", e.what());
    }
    lock.lock();
  }
  writing_ = false;
}

void ReservationWriter::writeBatch(const std::vector<ServerStore::Reservation>& batch) {
  // One reservation per server: the sum of its placements in this batch.
  std::map<std::string, ServerStore::Reservation, std::less<>> sums;
  for (const auto& h : batch) {
    auto& r = sums[h.serverId];
    r.serverId = h.serverId;
    r.load += h.load;
    r.meetings += h.meetings;
  }
  std::vector<ServerStore::Reservation> reservations;
  reservations.reserve(sums.size());
  for (auto& [id, r] : sums) reservations.push_back(std::move(r));
  view_.beginWrite();
  Status s = Status::Ok();
  try {
    s = store_.reserveMany(reservations);
  } catch (...) {
    view_.endWrite(batch);  // settled all the same, as after a failure
    throw;
  }
  view_.endWrite(batch);
  if (!s) spdlog::warn("could not write {} reservations: {}", batch.size(), s.error().message);
}

}  // namespace sb
