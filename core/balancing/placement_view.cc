#include "core/balancing/placement_view.h"

#include <algorithm>

#include "core/balancing/placement.h"
#include "core/load_calculator.h"

namespace sb {

PlacementView::PlacementView(ServerStore& servers, const Clock& clock, const LoadConfig& load,
                             std::chrono::milliseconds ttl)
    : store_(servers), clock_(clock), load_(load), ttl_(ttl) {}

void PlacementView::addTo(const std::string& serverId, double load, int meetings) {
  auto it = std::find_if(servers_.begin(), servers_.end(),
                         [&](const Server& s) { return s.id == serverId; });
  if (it == servers_.end()) return;
  // Clamped at 0 like the stores' reserve, so a release never makes a server look emptier.
  it->live.load = std::max(0.0, it->live.load + load);
  it->live.usage.meetings = std::max(0, it->live.usage.meetings + meetings);
}

void PlacementView::addPending(const std::string& serverId, double load, int meetings,
                               int entries) {
  Pending& pending = unsettled_[serverId];
  pending.load += load;
  pending.meetings += meetings;
  pending.entries += entries;
  if (pending.entries <= 0) unsettled_.erase(serverId);
}

Status PlacementView::reloadIfStale(std::unique_lock<std::mutex>& lock) {
  auto fresh = [&] {
    return loaded_ && ttl_.count() > 0 && clock_.nowMs() - loadedAtMs_ < ttl_.count();
  };
  if (fresh()) return Status::Ok();
  // A write under way may or may not be in what listServers would read: let it end first (its
  // reservations are then settled and in the store). New writes wait for this reload.
  if (writesUnderWay_ > 0) {
    ++reloadsWaiting_;
    writesOrReloadsDone_.wait(lock, [&] { return writesUnderWay_ == 0; });
    if (--reloadsWaiting_ == 0) writesOrReloadsDone_.notify_all();
    if (fresh()) return Status::Ok();  // another choice reloaded meanwhile
  }
  int64_t now = clock_.nowMs();
  auto read = store_.listServers();  // mu_ held: no write begins before the read is applied
  if (!read) return read.error();
  servers_ = std::move(*read);
  loaded_ = true;
  loadedAtMs_ = now;
  for (const auto& [id, pending] : unsettled_) addTo(id, pending.load, pending.meetings);
  return Status::Ok();
}

Result<PlacementView::Pick> PlacementView::choose(const ServerTagRequest& tag,
                                                  BalancingStrategy& strategy,
                                                  std::string_view meetingId, int sizeHint,
                                                  const std::set<std::string>& exclude) {
  const int64_t startedAtMs = clock_.nowMs();
  std::unique_lock lock(mu_);
  if (Status s = reloadIfStale(lock); !s) return s.error();
  int expected = expectedUsers(sizeHint, load_);
  // A retry after a transport failure (rare) chooses among a copy without the failed servers.
  // The choice points into the list it was made from: `rest` outlives it.
  std::vector<Server> rest;
  auto chooseAmong = [&]() {
    rest.clear();
    if (!exclude.empty()) {
      for (const auto& s : servers_) {
        if (!exclude.contains(s.id)) rest.push_back(s);
      }
    }
    return chooseServer(exclude.empty() ? servers_ : rest, tag, strategy, meetingId, expected);
  };
  auto chosen = chooseAmong();
  if (!chosen && loadedAtMs_ < startedAtMs) {
    // Never refuse from a stale view: a server that came online (or was enabled, or had room
    // again) since the last read would be refused for up to a TTL although the store has it.
    loaded_ = false;
    if (Status s = reloadIfStale(lock); !s) return s.error();
    chosen = chooseAmong();
  }
  if (!chosen) return chosen.error();
  Pick pick{**chosen, reservationFor(**chosen, load_, sizeHint)};
  addTo(pick.server.id, pick.load, 1);
  addPending(pick.server.id, pick.load, 1, 1);
  return pick;
}

void PlacementView::beginWrite() {
  std::unique_lock lock(mu_);
  writesOrReloadsDone_.wait(lock, [&] { return reloadsWaiting_ == 0; });
  ++writesUnderWay_;
}

void PlacementView::endWrite(std::span<const ServerStore::Reservation> written) {
  std::lock_guard lock(mu_);
  for (const auto& r : written) addPending(r.serverId, -r.load, -r.meetings, -1);
  if (--writesUnderWay_ == 0) writesOrReloadsDone_.notify_all();
}

void PlacementView::cancel(const Pick& pick) {
  std::lock_guard lock(mu_);  // both at once: a reload in between would drop it twice
  addPending(pick.server.id, -pick.load, -1, -1);
  addTo(pick.server.id, -pick.load, -1);
}

void PlacementView::release(const Pick& pick) {
  std::lock_guard lock(mu_);
  addPending(pick.server.id, -pick.load, -1, 1);
  addTo(pick.server.id, -pick.load, -1);
}

std::vector<Server> PlacementView::lastRead() {
  std::lock_guard lock(mu_);
  return servers_;
}

void PlacementView::invalidate() {
  std::lock_guard lock(mu_);
  loaded_ = false;
}

}  // namespace sb
