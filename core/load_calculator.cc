#include "core/load_calculator.h"

#include <algorithm>

namespace sb {

double computeLoad(const std::vector<PolledMeeting>& meetings, double loadMultiplier, int64_t nowMs,
                   const LoadConfig& config) {
  double attendees = 0;
  for (const auto& m : meetings) {
    if (m.isBreakout) continue;
    int users = m.participantCount;
    if (nowMs - m.createTimeMs < config.joinBufferTime.count()) {
      users = std::max(users, config.minUserCount);
    }
    attendees += users;
  }
  return attendees * loadMultiplier;
}

ServerUsage computeUsage(const std::vector<PolledMeeting>& meetings) {
  ServerUsage u;
  for (const auto& m : meetings) {
    ++u.meetings;
    u.users += m.participantCount;
    u.largestMeeting = std::max(u.largestMeeting, m.participantCount);
    u.videos += m.videoCount;
    u.voices += m.voiceParticipantCount;
  }
  return u;
}

double reservationFor(const Server& server, const LoadConfig& config) {
  return std::max(1, config.minUserCount) * server.loadMultiplier;
}

}  // namespace sb
