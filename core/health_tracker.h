// Health with rise/fall hysteresis (HAProxy's check.c): a server becomes online after
// `healthyThreshold` consecutive good polls and offline after `unhealthyThreshold` consecutive
// failures. Admin state is not touched here.
#pragma once

#include "core/config.h"
#include "core/server.h"

namespace sb {

enum class HealthChange { kNone, kWentOnline, kWentOffline };

// Records one poll result in `live` (counters and online flag) and says what changed.
HealthChange recordPollResult(ServerLiveState& live, bool success, const PollerConfig& config);

// The longest joins may still be sent to a server after it stopped answering, until the first
// join is redirected elsewhere. Poll rounds start every POLL_INTERVAL (I), but never before the
// previous round ended, and a round with a server that answers nothing lasts POLL_TIMEOUT (T).
// The server is offline at the end of its SERVER_UNHEALTHY_THRESHOLD-th (U) failed round; the
// routers' join caches may hold it JOIN_CACHE_TTL (J) longer. From its last good answer:
//   - hung (accepts connections, answers nothing): U × max(I, T) + T + J;
//   - killed (connections refused at once), while rounds end within I: U × I + J.
// (README.md, "Placement, capacity and failover"; placement_failover_test.cc measures both.)
std::chrono::milliseconds hungServerRedirectBound(const Config& config);
std::chrono::milliseconds killedServerRedirectBound(const Config& config);

}  // namespace sb
