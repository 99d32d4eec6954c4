// WebRTC signalling balancing (/rtcloadbalance): hands a client the ws:// or wss:// address of
// the least-used signalling server of a cluster.
//   - cluster: servers tagged with the cluster name; no cluster = untagged servers.
//   - machine: pins one server (by id, by the host of its BBB URL or of its ws/wss URL).
//   - meeting: every party of a meeting gets the same server. The first party's server is
//     remembered (sticky); without a memory (another router replica, or after a restart) the
//     server is chosen by rendezvous hashing over the servers with room, so replicas agree.
//   - otherwise the server with the lowest share of its capacity in use, ties by id.
// Capacity: a server takes maxConnections clients; in use are its polled users plus the
// connections this router handed out within the reservation TTL (they show up in the next
// polls). A server is full at capacity; when every candidate is full: "no capacity in cluster".
// Parties of a meeting already placed keep joining its server while it is available (splitting a
// conference over two servers breaks it), even past capacity.
// Per client: the endpoint is unauthenticated, so one client address (rtcClientKey) gets at most
// RTC_RESERVATIONS_PER_CLIENT connections within the reservation TTL ("too many connections for
// this client"); otherwise a few dozen GETs would reserve a whole cluster. A request whose
// address is unknown (no peer address from the HTTP layer) is not limited.
// Thread-safety: every method may be called concurrently (one mutex guards the reservations and
// the meeting memory; store reads happen outside it).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"
#include "core/server_store.h"

namespace sb {

struct RtcRequest {
  std::string cluster;  // "" = untagged servers
  std::string machine;  // "" = any
  std::string meeting;  // "" = no co-location
  bool secure = false;  // wss:// instead of ws://
  // Who asks: the socket's peer address, and the X-Forwarded-For header (used only when the
  // peer is one of TRUSTED_PROXIES). Each client gets RTC_RESERVATIONS_PER_CLIENT connections
  // per reservation TTL.
  std::string clientAddress;
  std::string forwardedFor;
};

struct RtcChoice {
  std::string url;  // "wss://host:port"
  std::string serverId;
  std::string strategy;  // "pinned", "sticky", "hash" or "least-connections"
};

class RtcBalancer {
 public:
  RtcBalancer(ServerStore& servers, const Clock& clock, const RtcConfig& config);

  // The server for `request`, with one connection reserved on it. Errors (kInvalidArgument,
  // kNotFound, kNoServerAvailable, kStoreUnavailable) carry the reason shown after "ERROR: ".
  Result<RtcChoice> choose(const RtcRequest& request);

  // Connections handed out and not yet decayed, by server id (for /stat and /metrics).
  std::map<std::string, int> handedOut();

  // Client addresses with reservations counted against RTC_RESERVATIONS_PER_CLIENT. Bounded:
  // past kMaxTrackedClients, new clients share one count (and one limit) until others decay.
  static constexpr size_t kMaxTrackedClients = 100'000;
  size_t clientsTracked();

 private:
  struct Sticky {
    std::string serverId;
    int64_t lastUsedMs = 0;
  };
  int reservedOn(const std::string& serverId, int64_t nowMs);  // mu_ held
  void remember(const std::string& meeting, const std::string& serverId,
                int64_t nowMs);  // mu_ held
  static constexpr size_t kMaxRememberedMeetings = 200'000;
  void prune(int64_t nowMs);  // mu_ held
  // The undecayed hand-out times of a client (its entry made when new). mu_ held.
  std::deque<int64_t>& clientTimes(const std::string& key, int64_t nowMs);
  // The shared entry of clients past kMaxTrackedClients (no address reads like this).
  static constexpr const char* kOverflowClient = "(others)";

  ServerStore& servers_;
  const Clock& clock_;
  const RtcConfig config_;
  std::mutex mu_;  // guards reservations_, meetings_, clients_, lastPruneMs_
  std::unordered_map<std::string, std::deque<int64_t>> reservations_;  // server id -> times
  std::unordered_map<std::string, Sticky> meetings_;                   // meeting id -> server
  // rtcClientKey -> hand-out times; at most reservationsPerClient each, kMaxTrackedClients + 1
  // entries.
  std::unordered_map<std::string, std::deque<int64_t>> clients_;
  int64_t lastPruneMs_ = 0;
};

// The key a client's reservations are counted under: its address ("192.0.2.7"; IPv6 by /64:
// "2001:db8:1:2::/64"). The peer's address, unless the peer is a trusted proxy: then the
// right-most X-Forwarded-For address that is not a trusted proxy. "" when unknown.
std::string rtcClientKey(std::string_view peer, std::string_view forwardedFor,
                         const std::vector<IpNet>& trustedProxies);

// "ws://h:1" / "wss://h:1" of `server` for the scheme, "" when it has none.
const std::string& signallingUrl(const Server& server, bool secure);
// Clients on the server: its polled users plus the connections handed out (handedOut()).
int connectionsOn(const Server& server, const std::map<std::string, int>& handedOut);

}  // namespace sb
