// Server load from a poll. Scalelite's formula by default:
//   load = multiplier * sum over non-breakout meetings of
//          (meeting younger than the join buffer ? max(users, expected) : users)
// where users = participantCount and expected = the meeting's size hint or LOAD_MIN_USER_COUNT.
// (Scalelite adds moderatorCount on top, counting moderators twice, since participantCount
// already includes them; we do not repeat that bug.) The weighted formula replaces `users` by
//   weightUsers * users + weightVoice * voice + weightVideo * video + weightMeetings.
// Meetings Switchboard placed that the server does not list yet (still being created) count
// with their expected users until the join buffer ends: see pendingLoad().
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bbb_client.h"
#include "core/config.h"
#include "core/meeting.h"
#include "core/server.h"

namespace sb {

// Size hints of meetings Switchboard placed, by meetingID.
using SizeHints = std::unordered_map<std::string, int>;

double computeLoad(const std::vector<PolledMeeting>& meetings, double loadMultiplier, int64_t nowMs,
                   const LoadConfig& config, const SizeHints& hints = {});

// Load of meetings placed on the server (`placed`) that its poll did not list yet: placed less
// than `pendingWindowMs` ago (the poller's grace period: older unlisted meetings are swept) and
// not orphaned. `pendingCount` receives how many there are.
double pendingLoad(const std::vector<PlacedMeeting>& placed,
                   const std::vector<PolledMeeting>& polled, double loadMultiplier, int64_t nowMs,
                   int64_t pendingWindowMs, const LoadConfig& config, int& pendingCount);

// Meetings, users, largest meeting, videos and voices of a poll (breakouts included).
ServerUsage computeUsage(const std::vector<PolledMeeting>& meetings);

// Users a new meeting is expected to bring: its size hint, at least LOAD_MIN_USER_COUNT.
int expectedUsers(int sizeHint, const LoadConfig& config);

// The load a new meeting reserves on its server until polls show the real one.
double reservationFor(const Server& server, const LoadConfig& config, int sizeHint = 0);

}  // namespace sb
