#include "core/balancing/reservation_writer.h"

#include <spdlog/spdlog.h>

#include <map>
#include <utility>

namespace sb {

void ReservationWriter::write(const PlacementView::Pick& pick) {
  std::unique_lock lock(mu_);
  handed_.push_back({pick.server.id, pick.load});
  if (writing_) return;  // the thread writing takes it along
  writing_ = true;
  while (!handed_.empty()) {
    std::vector<Handed> batch = std::exchange(handed_, {});
    lock.unlock();
    writeBatch(batch);
    lock.lock();
  }
  writing_ = false;
}

void ReservationWriter::writeBatch(const std::vector<Handed>& batch) {
  // One reservation per server: the sum of its placements in this batch.
  std::map<std::string, ServerStore::Reservation, std::less<>> sums;
  for (const auto& h : batch) {
    auto& r = sums[h.serverId];
    r.serverId = h.serverId;
    r.load += h.load;
    r.meetings += 1;
  }
  std::vector<ServerStore::Reservation> reservations;
  reservations.reserve(sums.size());
  for (auto& [id, r] : sums) reservations.push_back(std::move(r));
  if (Status s = store_.reserveMany(reservations); !s) {
    spdlog::warn("could not write {} reservations: {}", batch.size(), s.error().message);
  }
  for (const auto& h : batch) view_.settle(h.serverId, h.load);
}

}  // namespace sb
