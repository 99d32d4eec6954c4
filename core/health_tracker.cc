#include "core/health_tracker.h"

#include <algorithm>

namespace sb {

HealthChange recordPollResult(ServerLiveState& live, bool success, const PollerConfig& config) {
  if (success) {
    live.unhealthyCount = 0;
    if (live.online) return HealthChange::kNone;
    if (++live.healthyCount < config.healthyThreshold) return HealthChange::kNone;
    live.healthyCount = 0;
    live.online = true;
    return HealthChange::kWentOnline;
  }
  live.healthyCount = 0;
  if (!live.online) return HealthChange::kNone;
  if (++live.unhealthyCount < config.unhealthyThreshold) return HealthChange::kNone;
  live.unhealthyCount = 0;
  live.online = false;
  return HealthChange::kWentOffline;
}

std::chrono::milliseconds hungServerRedirectBound(const Config& config) {
  const auto& p = config.poller;
  return p.unhealthyThreshold * std::max(p.interval, p.pollTimeout) + p.pollTimeout +
         config.api.joinCacheTtl;
}

std::chrono::milliseconds killedServerRedirectBound(const Config& config) {
  return config.poller.unhealthyThreshold * config.poller.interval + config.api.joinCacheTtl;
}

}  // namespace sb
