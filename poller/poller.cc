#include "poller/poller.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/bbb_url.h"
#include "core/health_tracker.h"
#include "core/load_calculator.h"
#include "core/tenants/tenant.h"

namespace sb {

Poller::Poller(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb, const Clock& clock,
               const Config& config, LeaderLease& lease, Metrics* metrics,
               MeetingsSnapshotStore* snapshots)
    : servers_(servers),
      meetings_(meetings),
      bbb_(bbb),
      clock_(clock),
      config_(config),
      lease_(lease),
      metrics_(metrics),
      snapshots_(snapshots),
      admin_(servers, meetings, bbb, config),
      copies_(bbb, config, metrics),
      signing_(upstreamSigningAlgorithm(config.api)) {
  char host[256] = "poller";
  gethostname(host, sizeof(host) - 1);
  holder_ =
      std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(clock.nowMs());
}

Poller::~Poller() { stop(); }

void Poller::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Poller::run() {
  using Clock = std::chrono::steady_clock;
  auto renewEvery = std::max(std::chrono::milliseconds(100), config_.store.leaseTtl / 3);
  auto nextPoll = Clock::now();
  bool first = true;
  while (true) {
    auto lease = lease_.acquire(holder_, config_.store.leaseTtl);
    bool active = lease.ok() && *lease;
    if (active != active_.exchange(active) || first) {
      first = false;
      if (active) {
        spdlog::info("poller {} is active", holder_);
      } else {
        spdlog::warn("poller {} stands by: {}", holder_,
                     lease.ok() ? "another poller holds the lease" : lease.error().message);
      }
    }
    if (active && Clock::now() >= nextPoll) {
      nextPoll = Clock::now() + config_.poller.interval;
      try {
        pollOnce();
      } catch (const std::exception& e) {
        spdlog::error("poll round failed: {}", e.what());
      }
      if (afterRound_) afterRound_();
    }
    auto wakeAt =
        std::min(Clock::now() + renewEvery, active ? nextPoll : Clock::now() + renewEvery);
    std::unique_lock lock(mu_);
    if (wake_.wait_until(lock, wakeAt, [this] { return stopping_; })) break;
  }
  if (active_.exchange(false)) (void)lease_.release(holder_);
}

int Poller::sweepMeetings(const Server& server, const ServerPoll& poll,
                          const std::vector<PlacedMeeting>& stored) {
  std::unordered_set<std::string_view> listed;
  for (const auto& m : poll.meetings) listed.insert(m.meetingId);
  int swept = 0, asked = 0;
  const auto started = std::chrono::steady_clock::now();
  int64_t now = clock_.nowMs();
  for (const auto& m : stored) {
    if (m.orphaned || listed.contains(m.id)) continue;
    if (now - m.createdAtMs < config_.poller.meetingGracePeriod.count()) continue;
    // Forgotten only once the server says it does not know it: an answer that leaves out a
    // meeting (partial, or with elements that could not be read) must not lose its route. At
    // most kMaxSweepChecks per server and round, within one poll timeout; the rest next round.
    if (asked == kMaxSweepChecks ||
        std::chrono::steady_clock::now() - started > config_.poller.pollTimeout) {
      break;
    }
    ++asked;
    if (!copies_.confirmedGone(server, m.id)) continue;
    if (meetings_.removeMeeting(m.id, server.id)) ++swept;
  }
  return swept;
}

void Poller::reconcileCopies(const Server& server, const ServerPoll& poll, const Homes& homes) {
  const int64_t now = clock_.nowMs();
  int acted = 0;
  for (const auto& copy : poll.meetings) {
    // Each end waits on the server: a round stays bounded, the rest come next round.
    if (acted == kMaxCopyEnds) break;
    auto at = homes.find(copy.meetingId);
    const PlacedMeeting* home = at == homes.end() ? nullptr : at->second;
    if (home && home->serverId == server.id && !home->orphaned) continue;  // the usual case
    CopyVerdict verdict = judgeCopy(server, copy, home, now, config_.poller.meetingGracePeriod);
    if (verdict == CopyVerdict::kHome || verdict == CopyVerdict::kWait) continue;
    // Acted on only as the store has it now: the listing was read before the poll went out,
    // and a create or move may have given the meeting a home since.
    auto fresh = meetings_.findMeeting(copy.meetingId);
    if (!fresh) continue;  // the store is unavailable: judge again next round
    std::optional<PlacedMeeting> freshHome;
    std::optional<int64_t> endedAt;
    if (fresh->has_value()) {
      freshHome = PlacedMeeting::of(**fresh);
    } else if (auto ended = meetings_.endedAt(copy.meetingId); ended) {
      endedAt = *ended;
    } else {
      continue;  // whether a frontend ended it cannot be read: judge again next round
    }
    verdict = judgeCopy(server, copy, freshHome ? &*freshHome : nullptr, now,
                        config_.poller.meetingGracePeriod, endedAt);
    if (verdict == CopyVerdict::kEnd) ++acted;
    actOnCopy(server, copy, verdict, *fresh);
  }
}

void Poller::actOnCopy(const Server& server, const PolledMeeting& copy, CopyVerdict verdict,
                       const std::optional<Meeting>& home) {
  const std::string host = serverHost(server.url);
  if (verdict == CopyVerdict::kEnd) {
    const std::string& pw = copy.moderatorPw.empty() && home ? home->moderatorPw : copy.moderatorPw;
    bool ended = copies_.end(server, copy.meetingId, pw);
    spdlog::warn(
        "meeting {} runs on {} ({}) but lives on {}: {}", copy.meetingId, server.id, host,
        home && !home->orphaned && home->serverId != server.id ? home->serverId : "no server",
        ended ? "ended that copy" : "could not end that copy yet");
    return;
  }
  if (verdict != CopyVerdict::kAdopt && verdict != CopyVerdict::kRestore) return;
  // The copy that runs becomes the meeting's route: with its stored create parameters when the
  // store has them (an orphaned record), else what the server reports.
  Meeting m;
  if (home) {
    m = *home;
  } else {
    m.id = copy.meetingId;
    m.moderatorPw = copy.moderatorPw;
    m.createdAtMs = copy.createTimeMs > 0 ? copy.createTimeMs : clock_.nowMs();
  }
  m.serverId = server.id;
  m.orphaned = false;
  auto claimed = meetings_.claimMeeting(m);
  if (!claimed || !claimed->claimed) return;  // a create or failover gave it a home meanwhile
  const bool restored = verdict == CopyVerdict::kRestore;
  if (metrics_) metrics_->countMeetingCopy(restored ? "restored" : "adopted");
  spdlog::warn("meeting {} still runs on {} ({}): {}", copy.meetingId, server.id, host,
               restored ? "kept there instead of failing over"
                        : (home ? "route moved there from its lost server"
                                : "route restored from the server's own listing"));
}

std::optional<int64_t> Poller::snapshotTime() {
  if (!snapshots_) return std::nullopt;
  auto t = snapshots_->timeMs(clock_.nowMs());
  if (!t) {
    // Dated by this host's clock instead, a snapshot could look newer than a create marked by a
    // router whose clock is behind. Keep none this round: getMeetings asks such servers live.
    spdlog::warn("poller: cannot read the snapshot store's time, no snapshots this round: {}",
                 t.error().message);
    if (metrics_) metrics_->countStoreError("poller");
    return std::nullopt;
  }
  return *t;
}

void Poller::keepSnapshot(const std::string& serverId, int64_t takenAtMs, ServerPoll& poll,
                          const Homes& homes) {
  if (!snapshots_) return;
  // One buffer for every server and round: a fresh multi-megabyte string per server, allocated
  // between the other servers' answers, left the heap fragmented after the round.
  std::string& xml = snapshotXml_;
  xml.clear();
  for (auto& m : poll.meetings) {
    // getMeetings lists a meeting once, from its home: a copy that runs where the meeting does
    // not live (until reconcileCopies ends it) is left out.
    auto at = homes.find(m.meetingId);
    bool elsewhere = at != homes.end() && at->second->serverId != serverId && !at->second->orphaned;
    if (!elsewhere) xml += m.xml;
    std::string().swap(m.xml);  // the rest of the round needs only the figures
  }
  (void)snapshots_->putSnapshot(serverId, takenAtMs, xml);
}

PollRoundStats Poller::pollOnce() {
  PollRoundStats stats;
  auto t0 = std::chrono::steady_clock::now();
  auto servers = servers_.listServers();
  if (!servers) {
    spdlog::warn("poller: cannot list servers: {}", servers.error().message);
    if (metrics_) metrics_->countStoreError("poller");
    return stats;
  }
  std::vector<std::string> urls;
  urls.reserve(servers->size());
  for (const auto& s : *servers) urls.push_back(signedApiUrl(s, "getMeetings", {}, signing_));
  CallTimeouts timeouts{config_.bbb.connectTimeout, config_.poller.pollTimeout};
  // One listing per round, grouped by server: a listing per server scans the whole store each
  // time, which grows with the square of the pool (measured in bench/README.md). Read before
  // the polls go out, so each answer's copies can be judged against it as it arrives.
  std::unordered_map<std::string, std::vector<PlacedMeeting>> placedOn;
  Homes homes;  // every meeting's record by id, pointing into placedOn (not changed after this)
  static const std::vector<PlacedMeeting> kNone;
  auto placedOnServer = [&](const std::string& id) -> const std::vector<PlacedMeeting>& {
    auto at = placedOn.find(id);
    return at == placedOn.end() ? kNone : at->second;
  };
  bool storeRead = false;
  const int64_t listedAtMs = clock_.nowMs();
  std::map<std::string, int> tenantParticipants;  // multitenancy: summed from the answers
  if (auto all = meetings_.listPlacedMeetings(); all) {
    storeRead = true;
    for (auto& m : *all) placedOn[m.serverId].push_back(std::move(m));
    for (const auto& [serverId, placed] : placedOn) {
      for (const auto& m : placed) homes.emplace(m.id, &m);
    }
  }
  // Snapshots are dated from before the requests went out, by the clock marks are dated by: a
  // create routed after this instant makes its server's snapshot unusable until the next round
  // (core/meetings_snapshot.h).
  const std::optional<int64_t> snapshotTakenAtMs = snapshotTime();
  // Each answer's snapshot is written as it arrives and its XML freed: a round holds one
  // server's XML at a time instead of every server's (~150 MB for 100,000 meetings).
  std::vector<std::optional<Result<ServerPoll>>> answers(servers->size());
  bbb_.pollMeetingsEach(urls, timeouts, [&](size_t index, Result<ServerPoll> poll) {
    if (poll && snapshotTakenAtMs) {
      keepSnapshot((*servers)[index].id, *snapshotTakenAtMs, *poll, homes);
    }
    answers[index] = std::move(poll);
  });

  for (size_t i = 0; i < servers->size(); ++i) {
    Server& server = (*servers)[i];
    const Result<ServerPoll> poll =
        answers[i] ? std::move(*answers[i])
                   : Result<ServerPoll>(Error::of(ErrorCode::kInternalError, "no answer"));
    ServerLiveState live = server.live;
    live.lastPollMs = clock_.nowMs();
    HealthChange change = recordPollResult(live, poll.ok(), config_.poller);
    if (poll.ok()) {
      noteUnreadable(server, poll->unreadable);
      if (quota_) {
        for (const auto& m : poll->meetings) {
          std::string_view tenant = tenantOfMeetingId(m.meetingId);
          if (!tenant.empty()) tenantParticipants[std::string(tenant)] += m.participantCount;
        }
      }
      const std::vector<PlacedMeeting>& stored = placedOnServer(server.id);
      SizeHints hints;
      for (const auto& m : stored) {
        if (m.sizeHint > 0) hints[m.id] = m.sizeHint;
      }
      int pending = 0;
      double pendingLoadValue =
          pendingLoad(stored, poll->meetings, server.loadMultiplier, clock_.nowMs(),
                      config_.poller.meetingGracePeriod.count(), config_.load, pending);
      live.lastError.clear();
      live.pollLatencyMs = poll->latencyMs;
      live.usage = computeUsage(poll->meetings);
      live.usage.meetings += pending;  // placed, still being created: they count for capacity
      live.load = live.online ? computeLoad(poll->meetings, server.loadMultiplier, clock_.nowMs(),
                                            config_.load, hints) +
                                    pendingLoadValue
                              : 0;
      if (live.bbbVersion.empty()) {
        auto version = bbb_.fetchVersion(signedApiRootUrl(server, signing_), timeouts);
        if (version) live.bbbVersion = *version;
      }
    } else {
      live.lastError = poll.error().message;
      ++stats.failed;
      if (metrics_) metrics_->countPollError(server.id);
      if (!live.online) {
        live.load = 0;
        live.usage = {};
      }
    }
    if (change == HealthChange::kWentOnline) {
      spdlog::info("server {} ({}) is online", server.id, serverHost(server.url));
    } else if (change == HealthChange::kWentOffline) {
      auto orphaned = meetings_.orphanMeetingsOf(server.id);
      spdlog::warn("server {} ({}) is offline: {}; {} meetings marked for failover", server.id,
                   serverHost(server.url), live.lastError, orphaned ? *orphaned : 0);
    }
    if (auto s = servers_.updateLiveState(server.id, live); !s) {
      continue;  // removed meanwhile
    }
    if (poll.ok() && storeRead) {
      // Judged as this round left the server (a server back online keeps what still runs there).
      Server judged = server;
      judged.live = live;
      stats.meetingsSwept += sweepMeetings(judged, *poll, placedOnServer(server.id));
      reconcileCopies(judged, *poll, homes);
    }
    if (live.online) ++stats.online;
    finishDrain(server, live, poll.ok());
  }
  if (quota_ && storeRead) reportTenants(placedOn, tenantParticipants, listedAtMs);
  stats.servers = static_cast<int>(servers->size());
  stats.wallMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  if (metrics_) metrics_->observePollRound(static_cast<double>(stats.wallMs) / 1000.0);
  spdlog::debug("poll round: {} servers, {} online, {} failed, {} meetings swept, {} ms",
                stats.servers, stats.online, stats.failed, stats.meetingsSwept, stats.wallMs);
  return stats;
}

void Poller::reportTenants(
    const std::unordered_map<std::string, std::vector<PlacedMeeting>>& placedOn,
    const std::map<std::string, int>& participants, int64_t listedAtMs) {
  std::map<std::string, std::vector<std::string>> running;
  for (const auto& [serverId, placed] : placedOn) {
    for (const auto& m : placed) {
      std::string_view tenant = tenantOfMeetingId(m.id);
      if (!tenant.empty()) running[std::string(tenant)].push_back(m.id);
    }
  }
  // Meetings counted this long before the listing stay counted though it missed them: their
  // creates may still be on their way to the store.
  const int64_t graceMs =
      std::max<int64_t>(30'000, 2 * static_cast<int64_t>(config_.poller.interval.count()));
  if (metrics_) {
    std::map<std::string, int> meetings;
    for (const auto& [tenant, ids] : running) meetings[tenant] = static_cast<int>(ids.size());
    metrics_->setTenantUsage(meetings, participants);
  }
  Status s = quota_->reconcile(running, listedAtMs, graceMs);
  if (s.ok()) s = quota_->setParticipants(participants);
  if (!s.ok()) spdlog::warn("tenant usage not updated this round: {}", s.error().message);
}

void Poller::noteUnreadable(const Server& server, int unreadable) {
  auto at = unreadable_.find(server.id);
  const int before = at == unreadable_.end() ? 0 : at->second;
  if (unreadable > 0 && metrics_) metrics_->countUnreadableMeetings(server.id, unreadable);
  // One warning per server per incident, not one per round.
  if (unreadable > 0 && before == 0) {
    spdlog::warn(
        "server {} ({}) answered getMeetings with {} meeting element(s) that cannot be read; it "
        "stays online, the meetings it lists are kept, the others stay where they are",
        server.id, serverHost(server.url), unreadable);
  } else if (unreadable == 0 && before > 0) {
    spdlog::info("server {} ({}) answers getMeetings readably again", server.id,
                 serverHost(server.url));
  }
  if (unreadable > 0) {
    unreadable_[server.id] = unreadable;
  } else if (at != unreadable_.end()) {
    unreadable_.erase(at);
  }
}

void Poller::finishDrain(const Server& server, const ServerLiveState& live, bool polled) {
  bool empty = polled && live.usage.meetings == 0;
  if (server.removeWhenDrained && server.state != AdminState::kEnabled) {
    // Gone before it drained (the autoscaler did not wait): its meetings were orphaned when it
    // went offline and fail over on their next join, so it can go too.
    if (!empty && live.online) return;
    // Re-read: a registration since this round's listing makes it stay.
    auto fresh = servers_.getServer(server.id);
    if (!fresh || !fresh->removeWhenDrained || fresh->state == AdminState::kEnabled) return;
    // The operator's removal: its meetings (if any) are orphaned, never forgotten.
    if (auto orphaned = admin_.remove(server.id); orphaned) {
      spdlog::info("server {} ({}) deregistered and {}: removed ({} meetings orphaned)", server.id,
                   serverHost(server.url), empty ? "drained" : "offline", *orphaned);
    }
    return;
  }
  if (server.state == AdminState::kCordoned && empty) {
    auto drained =
        servers_.compareAndSetState(server.id, AdminState::kCordoned, AdminState::kDisabled);
    if (drained && *drained) {
      spdlog::info("server {} ({}) drained: cordoned -> disabled", server.id,
                   serverHost(server.url));
    }
  }
}

}  // namespace sb
