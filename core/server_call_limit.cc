#include "core/server_call_limit.h"

#include <spdlog/spdlog.h>

namespace sb {

ServerCallLimit::Slot ServerCallLimit::tryAcquire(std::string_view serverId) {
  std::string id(serverId);
  const int64_t now = clock_.nowMs();
  std::lock_guard lock(mu_);
  auto [it, fresh] = calls_.try_emplace(id);
  Calls& c = it->second;
  if (fresh) c.lastAnswerMs = now;
  if (perServer_ > 0 && c.inFlight >= perServer_ && now - c.lastAnswerMs >= stalledAfterMs_) {
    Slot refusedSlot;
    refusedSlot.firstRefusal_ = c.refused++ == 0;
    return refusedSlot;
  }
  ++c.inFlight;
  return Slot(this, std::move(id));
}

int ServerCallLimit::inFlight(std::string_view serverId) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(std::string(serverId));
  return it == calls_.end() ? 0 : it->second.inFlight;
}

void ServerCallLimit::release(const std::string& serverId) {
  const int64_t now = clock_.nowMs();
  std::lock_guard lock(mu_);
  auto it = calls_.find(serverId);
  if (it == calls_.end()) return;
  it->second.lastAnswerMs = now;
  if (it->second.refused > 0) {
    spdlog::info("server {} answers again; {} calls to it were refused while it stalled", serverId,
                 it->second.refused);
    it->second.refused = 0;
  }
  if (--it->second.inFlight <= 0) calls_.erase(it);
}

}  // namespace sb
