#include "core/load_calculator.h"

#include <algorithm>
#include <unordered_set>

namespace sb {
namespace {

double meetingLoad(const PolledMeeting& m, int users, const LoadConfig& config) {
  if (config.formula == LoadFormula::kScalelite) return users;
  return config.weightUsers * users + config.weightVoice * m.voiceParticipantCount +
         config.weightVideo * m.videoCount + config.weightMeetings;
}

}  // namespace

int expectedUsers(int sizeHint, const LoadConfig& config) {
  return std::max({1, config.minUserCount, sizeHint});
}

double computeLoad(const std::vector<PolledMeeting>& meetings, double loadMultiplier, int64_t nowMs,
                   const LoadConfig& config, const SizeHints& hints) {
  double total = 0;
  for (const auto& m : meetings) {
    if (m.isBreakout) continue;
    int users = m.participantCount;
    if (nowMs - m.createTimeMs < config.joinBufferTime.count()) {
      auto hint = hints.find(m.meetingId);
      int expected = std::max(config.minUserCount, hint == hints.end() ? 0 : hint->second);
      users = std::max(users, expected);
    }
    total += meetingLoad(m, users, config);
  }
  return total * loadMultiplier;
}

double pendingLoad(const std::vector<PlacedMeeting>& placed,
                   const std::vector<PolledMeeting>& polled, double loadMultiplier, int64_t nowMs,
                   int64_t pendingWindowMs, const LoadConfig& config, int& pendingCount) {
  std::unordered_set<std::string> listed;
  for (const auto& m : polled) listed.insert(m.meetingId);
  pendingCount = 0;
  double total = 0;
  for (const auto& m : placed) {
    if (m.orphaned || listed.contains(m.id)) continue;
    if (nowMs - m.createdAtMs >= pendingWindowMs) continue;
    ++pendingCount;
    PolledMeeting none;
    total += meetingLoad(none, expectedUsers(m.sizeHint, config), config);
  }
  return total * loadMultiplier;
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

double reservationFor(const Server& server, const LoadConfig& config, int sizeHint) {
  PolledMeeting none;
  return meetingLoad(none, expectedUsers(sizeHint, config), config) * server.loadMultiplier;
}

}  // namespace sb
