#include "core/rtc_balancer.h"

#include <algorithm>
#include <cstdio>
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

std::string rtcClientKey(std::string_view peer, std::string_view forwardedFor,
                         const std::vector<IpNet>& trustedProxies) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  auto peerAddress = parseIpAddress(trim(peer));
  if (!peerAddress) return "";
  auto trusted = [&trustedProxies](const IpAddress& a) {
    return std::any_of(trustedProxies.begin(), trustedProxies.end(),
                       [&a](const IpNet& net) { return net.contains(a); });
  };
  IpAddress client = *peerAddress;
  if (trusted(client)) {
    // Each proxy appends the address it got the request from: the right-most address that no
    // trusted proxy added is the client. What lies left of it the client may have written.
    std::string_view rest = forwardedFor;
    while (!rest.empty()) {
      size_t comma = rest.rfind(',');
      std::string_view item = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      auto address = parseIpAddress(item);
      if (!address) break;
      client = *address;
      if (!trusted(client)) break;
    }
  }
  static constexpr IpAddress kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.begin() + 12, client.begin())) {
    return ipAddressText(client);
  }
  // One IPv6 host usually holds a whole /64: count the network, not each address in it.
  std::fill(client.begin() + 8, client.end(), 0);
  return ipAddressText(client) + "/64";
}

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
  for (auto it = clients_.begin(); it != clients_.end();) {
    auto& times = it->second;
    while (!times.empty() && times.front() <= oldest) times.pop_front();
    it = times.empty() ? clients_.erase(it) : std::next(it);
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

size_t RtcBalancer::clientsTracked() {
  std::lock_guard lock(mu_);
  return clients_.size();
}

std::deque<int64_t>& RtcBalancer::clientTimes(const std::string& key, int64_t nowMs) {
  auto it = clients_.find(key);
  if (it == clients_.end()) {
    // Bounded: past the bound new clients share one count until others decay (by then the
    // tracked clients hold far more connections than any cluster has).
    it = clients_.size() < kMaxTrackedClients ? clients_.try_emplace(key).first
                                              : clients_.try_emplace(kOverflowClient).first;
  }
  auto& times = it->second;
  int64_t oldest = nowMs - config_.reservationTtl.count();
  while (!times.empty() && times.front() <= oldest) times.pop_front();
  return times;
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

  const std::string client =
      config_.reservationsPerClient > 0
          ? rtcClientKey(request.clientAddress, request.forwardedFor, config_.trustedProxies)
          : std::string();

  std::lock_guard lock(mu_);
  const int64_t now = clock_.nowMs();
  prune(now);
  std::deque<int64_t>* clientHanded = nullptr;
  if (config_.reservationsPerClient > 0 && !client.empty()) {
    clientHanded = &clientTimes(client, now);
    if (clientHanded->size() >= static_cast<size_t>(config_.reservationsPerClient)) {
      char ttl[32];
      std::snprintf(ttl, sizeof ttl, "%g", config_.reservationTtl.count() / 1000.0);
      return Error::of(ErrorCode::kNoServerAvailable,
                       "too many connections for this client (" +
                           std::to_string(config_.reservationsPerClient) + " per " + ttl + " s)");
    }
  }
  auto connections = [this, now](const Server& s) {
    return s.live.usage.users + reservedOn(s.id, now);
  };
  auto hand = [&](const Server& s, std::string strategy) -> RtcChoice {
    reservations_[s.id].push_back(now);
    if (clientHanded != nullptr) clientHanded->push_back(now);
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
