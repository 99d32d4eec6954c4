#include "core/server_call_limit.h"

namespace sb {

ServerCallLimit::Slot ServerCallLimit::tryAcquire(std::string_view serverId) {
  std::string id(serverId);
  std::lock_guard lock(mu_);
  int& n = inFlight_[id];
  if (perServer_ > 0 && n >= perServer_) {
    if (n == 0) inFlight_.erase(id);
    return Slot();
  }
  ++n;
  return Slot(this, std::move(id));
}

int ServerCallLimit::inFlight(std::string_view serverId) const {
  std::lock_guard lock(mu_);
  auto it = inFlight_.find(std::string(serverId));
  return it == inFlight_.end() ? 0 : it->second;
}

void ServerCallLimit::release(const std::string& serverId) {
  std::lock_guard lock(mu_);
  auto it = inFlight_.find(serverId);
  if (it == inFlight_.end()) return;
  if (--it->second <= 0) inFlight_.erase(it);
}

}  // namespace sb
