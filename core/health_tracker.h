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

}  // namespace sb
