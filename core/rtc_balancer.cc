#include "core/rtc_balancer.h"

#include <algorithm>
#include <optional>

#include "core/balancing/hash_strategy.h"

namespace sb {
namespace {

std::string_view withoutPort(std::string_view authority) {
  return authority.substr(0, authority.rfind(':'));
}

// A machine is named by server id, or by the host (with or without port) of any of its URLs.
bool namesServer(const Server& s, std::string_view machine) {
  if (s.id == machine) return true;
  for (const std::string* url : {&s.url, &s.wsUrl, &s.wssUrl}) {
    if (url->empty()) continue;
    std::string authority = serverHost(*url);
    if (authority == machine || withoutPort(authority) == machine) return true;
  }
  return false;
}

}  // namespace

const std::string& signallingUrl(const Server& server, bool secure) {
  return secure ? server.wssUrl : server.wsUrl;
}

int connectionsOn(const Server& server, const std::map<std::string, int>& handedOut) {
  auto it = handedOut.find(server.id);
  return server.live.usage.users + (it == handedOut.end() ? 0 : it->second);
}

RtcBalancer::RtcBalancer(ServerStore& servers, const Clock& clock, const RtcConfig& config)
    : servers_(servers), clock_(clock), config_(config) {}

void RtcBalancer::prune(int64_t nowMs) {
  // At most once a second: a full sweep drops decayed reservations and forgotten meetings.
  if (nowMs - lastPruneMs_ < 1000) return;
  lastPruneMs_ = nowMs;
  int64_t oldest = nowMs - config_.reservationTtl.count();
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    auto& times = it->second;
    while (!times.empty() && times.front() <= oldest) times.pop_front();
    it = times.empty() ? reservations_.erase(it) : std::next(it);
  }
  int64_t idleSince = nowMs - config_.meetingTtl.count();
  std::erase_if(meetings_,
                [idleSince](const auto& entry) { return entry.second.lastUsedMs <= idleSince; });
}

void RtcBalancer::remember(const std::string& meeting, const std::string& serverId, int64_t nowMs) {
  // Bounded: clients choose meeting ids. When full, a new meeting is not remembered; it still
  // gets the same server from rendezvous hashing while that server has room.
  if (meetings_.size() >= kMaxRememberedMeetings && !meetings_.contains(meeting)) return;
  meetings_[meeting] = Sticky{serverId, nowMs};
}

int RtcBalancer::reservedOn(const std::string& serverId, int64_t nowMs) {
  auto it = reservations_.find(serverId);
  if (it == reservations_.end()) return 0;
  auto& times = it->second;
  int64_t oldest = nowMs - config_.reservationTtl.count();
  while (!times.empty() && times.front() <= oldest) times.pop_front();
  return static_cast<int>(times.size());
}

std::map<std::string, int> RtcBalancer::handedOut() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.nowMs();
  std::map<std::string, int> out;
  for (auto& [id, times] : reservations_) {
    if (int n = reservedOn(id, now); n > 0) out[id] = n;
  }
  return out;
}

Result<RtcChoice> RtcBalancer::choose(const RtcRequest& request) {
  auto list = servers_.listServers();
  if (!list) return Error::of(ErrorCode::kStoreUnavailable, "server list unavailable");
  const std::string clusterName = request.cluster.empty() ? "default" : request.cluster;
  const char* scheme = request.secure ? "wss" : "ws";

  std::vector<const Server*> cluster;
  for (const Server& s : *list) {
    if (s.tag == request.cluster) cluster.push_back(&s);
  }
  if (cluster.empty()) {
    return Error::of(ErrorCode::kNotFound, request.cluster.empty()
                                               ? "no untagged servers (give cluster=NAME)"
                                               : "unknown cluster " + request.cluster);
  }
  auto usable = [&request](const Server& s) {
    return s.availableForNewMeetings() && !signallingUrl(s, request.secure).empty();
  };

  std::lock_guard lock(mu_);
  const int64_t now = clock_.nowMs();
  prune(now);
  auto connections = [this, now](const Server& s) {
    return s.live.usage.users + reservedOn(s.id, now);
  };
  auto hand = [&](const Server& s, std::string strategy) -> RtcChoice {
    reservations_[s.id].push_back(now);
    if (!request.meeting.empty()) remember(request.meeting, s.id, now);
    return RtcChoice{signallingUrl(s, request.secure), s.id, std::move(strategy)};
  };

  if (!request.machine.empty()) {
    auto named = std::find_if(cluster.begin(), cluster.end(),
                              [&](const Server* s) { return namesServer(*s, request.machine); });
    if (named == cluster.end()) {
      bool elsewhere = std::any_of(list->begin(), list->end(), [&](const Server& s) {
        return namesServer(s, request.machine);
      });
      return Error::of(ErrorCode::kNotFound, elsewhere ? "machine " + request.machine +
                                                             " is not in cluster " + clusterName
                                                       : "unknown machine " + request.machine);
    }
    const Server& s = **named;
    if (!s.availableForNewMeetings()) {
      return Error::of(ErrorCode::kNoServerAvailable,
                       "machine " + request.machine + " is not available");
    }
    if (signallingUrl(s, request.secure).empty()) {
      return Error::of(ErrorCode::kNoServerAvailable,
                       "machine " + request.machine + " has no " + scheme + " url");
    }
    if (connections(s) >= s.maxConnections) {
      return Error::of(ErrorCode::kNoServerAvailable, "no capacity on machine " + request.machine);
    }
    return hand(s, "pinned");
  }

  if (!request.meeting.empty()) {
    if (auto it = meetings_.find(request.meeting); it != meetings_.end()) {
      for (const Server* s : cluster) {
        if (s->id == it->second.serverId && usable(*s)) return hand(*s, "sticky");
      }
    }
  }

  std::vector<const Server*> candidates;
  for (const Server* s : cluster) {
    if (usable(*s)) candidates.push_back(s);
  }
  if (candidates.empty()) {
    return Error::of(ErrorCode::kNoServerAvailable, std::string("no server with a ") + scheme +
                                                        " url available in cluster " + clusterName);
  }
  std::erase_if(candidates, [&](const Server* s) { return connections(*s) >= s->maxConnections; });
  if (candidates.empty()) {
    return Error::of(ErrorCode::kNoServerAvailable, "no capacity in cluster " + clusterName);
  }
  if (!request.meeting.empty()) {
    // Rendezvous hashing: every router replica picks the same server for the meeting.
    const Server* best = candidates.front();
    uint64_t bestScore = HashStrategy::score(request.meeting, best->id);
    for (const Server* s : candidates) {
      uint64_t score = HashStrategy::score(request.meeting, s->id);
      if (score > bestScore || (score == bestScore && s->id < best->id)) {
        best = s;
        bestScore = score;
      }
    }
    return hand(*best, "hash");
  }
  // Lowest share of capacity in use; compare a/b < c/d as a*d < c*b (integers, exact).
  const Server* best = candidates.front();
  for (const Server* s : candidates) {
    int64_t mine = int64_t(connections(*s)) * best->maxConnections;
    int64_t theirs = int64_t(connections(*best)) * s->maxConnections;
    if (mine < theirs || (mine == theirs && s->id < best->id)) best = s;
  }
  return hand(*best, "least-connections");
}

}  // namespace sb
