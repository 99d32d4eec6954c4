#include "core/meeting_copies.h"

#include <algorithm>

#include "core/bbb_url.h"

namespace sb {
namespace {

std::chrono::milliseconds reducedTimeout(std::chrono::milliseconds full,
                                         std::chrono::milliseconds floor) {
  return std::clamp(full / 10, std::min(floor, full), full);
}

}  // namespace

CallTimeouts callTimeoutsFor(const Server& server, const BbbClientConfig& config) {
  CallTimeouts t{config.connectTimeout, config.responseTimeout};
  if (!server.live.online) {
    t.connect = reducedTimeout(t.connect, std::chrono::milliseconds(200));
    t.response = reducedTimeout(t.response, std::chrono::milliseconds(500));
  }
  return t;
}

CopyVerdict judgeCopy(const Server& server, const PolledMeeting& copy, const PlacedMeeting* home,
                      int64_t nowMs, std::chrono::milliseconds grace,
                      std::optional<int64_t> endedAtMs) {
  if (copy.isBreakout) return CopyVerdict::kHome;
  const bool serving = server.servesExistingMeetings();
  const bool disabled = server.state == AdminState::kDisabled;
  if (!home && endedAtMs && copy.createTimeMs <= *endedAtMs) {
    return CopyVerdict::kEnd;  // a leftover of a meeting a frontend ended
  }
  if (!home) {
    // A route the store lost (a Redis wipe with PostgreSQL down, a create answered after its
    // claim was given up). On a disabled server it is left alone: servers are added disabled,
    // and a server brought over from another balancer must not have its conferences ended.
    return serving ? CopyVerdict::kAdopt : CopyVerdict::kWait;
  }
  if (home->serverId == server.id) {
    if (!home->orphaned) return CopyVerdict::kHome;
    // Marked for failover (offline, disabled, panic --failover) and no join moved it yet.
    if (serving) return CopyVerdict::kRestore;
    return disabled ? CopyVerdict::kEnd : CopyVerdict::kWait;
  }
  if (home->orphaned) {
    // Its recorded home went away; this copy still runs: it is the meeting now.
    if (serving) return CopyVerdict::kAdopt;
    return disabled ? CopyVerdict::kEnd : CopyVerdict::kWait;
  }
  return nowMs - home->createdAtMs >= grace.count() ? CopyVerdict::kEnd : CopyVerdict::kWait;
}

std::string_view copyVerdictName(CopyVerdict verdict) {
  switch (verdict) {
    case CopyVerdict::kHome:
      return "home";
    case CopyVerdict::kAdopt:
      return "adopt";
    case CopyVerdict::kRestore:
      return "restore";
    case CopyVerdict::kEnd:
      return "end";
    case CopyVerdict::kWait:
      return "wait";
  }
  return "?";
}

MeetingCopies::MeetingCopies(BbbClient& bbb, const Config& config, Metrics* metrics)
    : bbb_(bbb),
      config_(config),
      metrics_(metrics),
      signing_(upstreamSigningAlgorithm(config.api)) {}

bool MeetingCopies::end(const Server& server, std::string_view meetingId,
                        std::string_view moderatorPw) {
  QueryString q;
  q.append("meetingID", meetingId);
  if (!moderatorPw.empty()) q.append("password", moderatorPw);
  auto reply = bbb_.call(BbbCall{signedApiUrl(server, "end", q, signing_), "", "",
                                 callTimeoutsFor(server, config_.bbb)});
  const bool gone = reply && (reply->success() || reply->messageKey == "notFound");
  if (gone && reply->success() && metrics_) metrics_->countMeetingCopy("ended");
  return gone;
}

Result<BbbReply> MeetingCopies::meetingInfo(const Server& server, std::string_view meetingId) {
  QueryString q;
  q.append("meetingID", meetingId);
  return bbb_.call(BbbCall{signedApiUrl(server, "getMeetingInfo", q, signing_), "", "",
                           callTimeoutsFor(server, config_.bbb)});
}

bool MeetingCopies::confirmedGone(const Server& server, std::string_view meetingId) {
  auto reply = meetingInfo(server, meetingId);
  return reply && !reply->success() && reply->messageKey == "notFound";
}

bool MeetingCopies::runs(const Server& server, std::string_view meetingId) {
  auto reply = meetingInfo(server, meetingId);
  return reply && reply->success();
}

}  // namespace sb
