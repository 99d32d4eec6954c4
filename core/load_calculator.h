// Server load from a poll, Scalelite's formula by default:
//   load = multiplier * sum over non-breakout meetings of
//          (meeting younger than the join buffer ? max(users, minUserCount) : users)
// where users = participantCount. (Scalelite adds moderatorCount on top, counting moderators
// twice, since participantCount already includes them; we do not repeat that bug.)
#pragma once

#include <cstdint>
#include <vector>

#include "core/bbb_client.h"
#include "core/config.h"
#include "core/server.h"

namespace sb {

double computeLoad(const std::vector<PolledMeeting>& meetings, double loadMultiplier, int64_t nowMs,
                   const LoadConfig& config);

// Meetings, users, largest meeting, videos and voices of a poll (breakouts included).
ServerUsage computeUsage(const std::vector<PolledMeeting>& meetings);

// The load a new meeting reserves on its server until the next poll shows the real one.
double reservationFor(const Server& server, const LoadConfig& config);

}  // namespace sb
