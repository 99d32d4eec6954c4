// The poller service: every POLL_INTERVAL it polls all servers at once (one curl multi round with
// a deadline, so a dead server never delays the others), then per server:
//   - health with rise/fall hysteresis; a server that goes offline has its meetings orphaned so
//     their next create/join re-creates them elsewhere;
//   - usage and load (Scalelite's formula), replacing the reservations made since the last round;
//   - a cordoned server with no meetings left becomes disabled; a self-deregistered one
//     (removeWhenDrained) is removed instead, also when it went offline before it drained;
//   - each server's listing is kept as its meetings snapshot, which getMeetings answers from;
//   - the meeting sweep: meetings the server no longer lists are forgotten, unless younger than
//     the grace period (BBB may not have finished creating them).
// Thread-safety: pollOnce() must not run concurrently with itself; start()/stop() from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/bbb_client.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/leader_lease.h"
#include "core/meeting.h"
#include "core/meeting_copies.h"
#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/metrics.h"
#include "core/server_admin.h"
#include "core/server_store.h"
#include "core/tenants/tenant_quota.h"

namespace sb {

struct PollRoundStats {
  int servers = 0;
  int online = 0;
  int failed = 0;
  int meetingsSwept = 0;
  int64_t wallMs = 0;
};

class Poller {
 public:
  // `lease` decides which of several pollers is active (LocalLeaderLease for a single process).
  Poller(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb, const Clock& clock,
         const Config& config, LeaderLease& lease, Metrics* metrics = nullptr,
         MeetingsSnapshotStore* snapshots = nullptr);
  ~Poller();

  PollRoundStats pollOnce();

  // Runs pollOnce() every interval on a background thread until stop(), while this poller holds
  // the lease (renewed every third of its TTL); a standby keeps trying and takes over when the
  // active one stops renewing. stop() releases the lease.
  void start();
  void stop();
  // Runs on the poller's thread after every round of start()'s loop (set before start()): the
  // process returns the round's transient memory to the kernel there (app/service.cc).
  void setAfterRound(std::function<void()> afterRound) { afterRound_ = std::move(afterRound); }
  // Multitenancy: each round gives `quota` every tenant's meetings (as the store lists them) and
  // participants (as the servers answered), so tenant limits count what runs (set before start()).
  void setTenantQuota(TenantQuota* quota) { quota_ = quota; }
  bool isActive() const { return active_.load(); }

 private:
  void run();
  // Writes the server's snapshot (when there is a snapshot store) and frees the meetings' XML,
  // which nothing after it needs.
  // The time this round's snapshots are dated by (the snapshot store's clock); nullopt when there
  // is no snapshot store or its time cannot be read (no snapshots are kept this round).
  std::optional<int64_t> snapshotTime();
  // Every stored meeting's record by id, for the round (pointing into the round's listing).
  using Homes = std::unordered_map<std::string_view, const PlacedMeeting*>;
  // Meetings checked with the server before the sweep forgets them, per server and round.
  static constexpr int kMaxSweepChecks = 16;
  // Copies ended per server and round.
  static constexpr int kMaxCopyEnds = 32;
  // The snapshot leaves out copies of meetings that live on another server.
  void keepSnapshot(const std::string& serverId, int64_t takenAtMs, ServerPoll& poll,
                    const Homes& homes);
  // Forgets stored meetings the server no longer runs: not listed, past the grace period, and
  // confirmed unknown by the server itself. Returns how many.
  int sweepMeetings(const Server& server, const ServerPoll& poll,
                    const std::vector<PlacedMeeting>& stored);
  // Judges every copy the server listed against the store (core/meeting_copies.h) and acts:
  // ends copies that run where their meeting does not live, gives lost routes back.
  void reconcileCopies(const Server& server, const ServerPoll& poll, const Homes& homes);
  void actOnCopy(const Server& server, const PolledMeeting& copy, CopyVerdict verdict,
                 const std::optional<Meeting>& home);
  // Counts unreadable meeting elements and warns once per server per incident.
  void noteUnreadable(const Server& server, int unreadable);
  // After the server's poll: disables a drained cordoned server, removes a deregistered one.
  void finishDrain(const Server& server, const ServerLiveState& live, bool polled);

  ServerStore& servers_;
  MeetingStore& meetings_;
  BbbClient& bbb_;
  const Clock& clock_;
  const Config& config_;
  LeaderLease& lease_;
  Metrics* metrics_;  // poll errors and round times; may be null
  // Where each server's meetings go for getMeetings; may be null.
  MeetingsSnapshotStore* snapshots_;
  ServerAdmin admin_;     // removes deregistered servers once drained
  MeetingCopies copies_;  // ends copies of meetings that run where they do not live
  ChecksumAlgorithm signing_;
  std::string holder_;  // this poller's lease holder id
  std::atomic<bool> active_{false};

  std::function<void()> afterRound_;
  TenantQuota* quota_ = nullptr;
  // Hands the round's per-tenant meetings and participants to quota_ (logged when it fails).
  void reportTenants(const std::unordered_map<std::string, std::vector<PlacedMeeting>>& placedOn,
                     const std::map<std::string, int>& participants, int64_t listedAtMs);
  std::string snapshotXml_;  // keepSnapshot's buffer, reused (pollOnce never runs concurrently)
  // Servers whose last answer had unreadable meeting elements, and how many (poller thread only).
  std::unordered_map<std::string, int> unreadable_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace sb
