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

Status PlacementView::reloadIfStale() {
  int64_t now = clock_.nowMs();
  if (loaded_ && ttl_.count() > 0 && now - loadedAtMs_ < ttl_.count()) return Status::Ok();
  auto fresh = store_.listServers();
  if (!fresh) return fresh.error();
  servers_ = std::move(*fresh);
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
  std::lock_guard lock(mu_);
  if (Status s = reloadIfStale(); !s) return s.error();
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
    if (Status s = reloadIfStale(); !s) return s.error();
    chosen = chooseAmong();
  }
  if (!chosen) return chosen.error();
  Pick pick{**chosen, reservationFor(**chosen, load_, sizeHint)};
  addTo(pick.server.id, pick.load, 1);
  Pending& pending = unsettled_[pick.server.id];
  pending.load += pick.load;
  pending.meetings += 1;
  return pick;
}

void PlacementView::settle(std::string_view serverId, double load) {
  std::lock_guard lock(mu_);
  auto it = unsettled_.find(std::string(serverId));
  if (it == unsettled_.end()) return;
  it->second.load -= load;
  it->second.meetings -= 1;
  if (it->second.meetings <= 0) unsettled_.erase(it);
}

void PlacementView::cancel(const Pick& pick) {
  settle(pick);
  release(pick);
}

void PlacementView::release(const Pick& pick) {
  std::lock_guard lock(mu_);
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
