#include "poller/poller.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>

#include "core/bbb_url.h"
#include "core/health_tracker.h"
#include "core/load_calculator.h"

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
  std::set<std::string> listed;
  for (const auto& m : poll.meetings) listed.insert(m.meetingId);
  int swept = 0;
  int64_t now = clock_.nowMs();
  for (const auto& m : stored) {
    if (m.orphaned || listed.contains(m.id)) continue;
    if (now - m.createdAtMs < config_.poller.meetingGracePeriod.count()) continue;
    if (meetings_.removeMeeting(m.id, server.id)) ++swept;
  }
  return swept;
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

void Poller::keepSnapshot(const std::string& serverId, int64_t takenAtMs, ServerPoll& poll) {
  if (!snapshots_) return;
  // One buffer for every server and round: a fresh multi-megabyte string per server, allocated
  // between the other servers' answers, left the heap fragmented after the round.
  std::string& xml = snapshotXml_;
  xml.clear();
  for (auto& m : poll.meetings) {
    xml += m.xml;
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
  // Snapshots are dated from before the requests went out, by the clock marks are dated by: a
  // create routed after this instant makes its server's snapshot unusable until the next round
  // (core/meetings_snapshot.h).
  const std::optional<int64_t> snapshotTakenAtMs = snapshotTime();
  // Each answer's snapshot is written as it arrives and its XML freed: a round holds one
  // server's XML at a time instead of every server's (~150 MB for 100,000 meetings).
  std::vector<std::optional<Result<ServerPoll>>> answers(servers->size());
  bbb_.pollMeetingsEach(urls, timeouts, [&](size_t index, Result<ServerPoll> poll) {
    if (poll && snapshotTakenAtMs) keepSnapshot((*servers)[index].id, *snapshotTakenAtMs, *poll);
    answers[index] = std::move(poll);
  });
  // One listing per round, grouped by server: a listing per server scans the whole store each
  // time, which grows with the square of the pool (measured in bench/README.md).
  std::unordered_map<std::string, std::vector<PlacedMeeting>> placedOn;
  bool storeRead = false;
  if (auto all = meetings_.listPlacedMeetings(); all) {
    storeRead = true;
    for (auto& m : *all) placedOn[m.serverId].push_back(std::move(m));
  }

  for (size_t i = 0; i < servers->size(); ++i) {
    Server& server = (*servers)[i];
    const Result<ServerPoll> poll =
        answers[i] ? std::move(*answers[i])
                   : Result<ServerPoll>(Error::of(ErrorCode::kInternalError, "no answer"));
    ServerLiveState live = server.live;
    live.lastPollMs = clock_.nowMs();
    HealthChange change = recordPollResult(live, poll.ok(), config_.poller);
    if (poll.ok()) {
      std::vector<PlacedMeeting> stored = std::move(placedOn[server.id]);
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
      if (storeRead) stats.meetingsSwept += sweepMeetings(server, *poll, stored);
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
    if (live.online) ++stats.online;
    finishDrain(server, live, poll.ok());
  }
  stats.servers = static_cast<int>(servers->size());
  stats.wallMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  if (metrics_) metrics_->observePollRound(static_cast<double>(stats.wallMs) / 1000.0);
  spdlog::debug("poll round: {} servers, {} online, {} failed, {} meetings swept, {} ms",
                stats.servers, stats.online, stats.failed, stats.meetingsSwept, stats.wallMs);
  return stats;
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
