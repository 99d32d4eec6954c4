// Where a meeting lives, and what becomes of a copy of it that runs anywhere else: the one place
// that keeps the first promise of a meeting router, "a meeting runs on at most one server"
// (docs/ARCHITECTURE.md, "One meeting, one place").
//
// The store's record is the meeting's home. Every path that gives a meeting a new home (a join's
// failover, a repeated create whose server no longer serves it, an operator's move, panic
// --failover) first ends the copy on the old server through MeetingCopies::end, when that server
// answers. When it does not (dead, hung, stalled), nothing needs remembering: the poller sees
// every server's meetings each round and judges each copy against the store (judgeCopy), so a
// copy found on a server that is not its meeting's home is ended there as soon as that server
// answers again, and a copy the store has lost (or marked for failover while it kept running)
// gets its route back, since the BBB servers are the ground truth of where meetings run.
// Thread-safety: MeetingCopies may be used from any thread; judgeCopy is a pure function.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/bbb_client.h"
#include "core/checksum.h"
#include "core/config.h"
#include "core/meeting.h"
#include "core/metrics.h"
#include "core/server.h"

namespace sb {

// The timeouts of a call to `server`: BBB_CLIENT's, or a tenth of them (at least 0.2 s / 0.5 s)
// for a server marked offline, as Scalelite does.
CallTimeouts callTimeoutsFor(const Server& server, const BbbClientConfig& config);

// What the poller does with one copy of a meeting that a server listed.
enum class CopyVerdict {
  kHome,     // the meeting lives there: nothing to do
  kAdopt,    // no live record elsewhere: record this server as its home (a lost route comes back)
  kRestore,  // marked for failover, yet still running on its own server: keep it there
  kEnd,      // it lives elsewhere (or its server takes no meetings any more): end this copy
  kWait,     // not yet: a move may be under way, or the server is not serving yet
};

// Judges the copy of `copy` that `server` listed. `home` is the store's record of that meeting
// (null when it has none), read before the poll went out. `server` is as this round left it
// (health updated). A copy whose home is another server is ended only once that home is older
// than `grace` (a placement in flight settles first), so two copies never run longer than
// MEETING_GRACE_PERIOD plus a poll interval. Breakout rooms are BBB's own: always kHome.
// `endedAtMs`: when the meeting was last ended through Switchboard (MeetingStore::endedAt), if
// known: a copy without a record that was created before that end is a leftover of the ended
// meeting (its server did not answer the end), not a lost route, and is ended.
CopyVerdict judgeCopy(const Server& server, const PolledMeeting& copy, const PlacedMeeting* home,
                      int64_t nowMs, std::chrono::milliseconds grace,
                      std::optional<int64_t> endedAtMs = std::nullopt);

// How long MeetingStore::rememberEnded keeps an end (a server may come back that much later).
inline constexpr std::chrono::hours kEndedMemory{24};

std::string_view copyVerdictName(CopyVerdict verdict);  // "home", "adopt", "restore", ...

class MeetingCopies {
 public:
  MeetingCopies(BbbClient& bbb, const Config& config, Metrics* metrics = nullptr);

  // Ends the copy of `meetingId` on `server` (callTimeoutsFor's timeouts, so a dead server costs
  // at most a fraction of a second). True when the server confirmed that it no longer runs it
  // (ended, or unknown there); false when it did not answer or refused.
  bool end(const Server& server, std::string_view meetingId, std::string_view moderatorPw);

  // Whether `server` says it does not know `meetingId` (getMeetingInfo answers notFound). A
  // meeting missing from a getMeetings answer is forgotten only then: a server that answers
  // partially must not make the router forget meetings that still run there. False when the
  // server runs it, does not answer, or answers anything else.
  bool confirmedGone(const Server& server, std::string_view meetingId);
  // Whether `server` says it runs `meetingId` (getMeetingInfo answers SUCCESS). False when it
  // does not know it, does not answer, or answers anything else.
  bool runs(const Server& server, std::string_view meetingId);

 private:
  Result<BbbReply> meetingInfo(const Server& server, std::string_view meetingId);

  BbbClient& bbb_;
  const Config& config_;
  Metrics* metrics_;
  ChecksumAlgorithm signing_;
};

}  // namespace sb
