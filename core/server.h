// A BBB server of the pool: its inventory (set by operators) and its live state (set by the
// poller), kept apart as HAProxy keeps admin state apart from health.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb {

// Administrative state, as in Scalelite. New servers start disabled until an operator enables
// them (or adds them with --enable).
enum class AdminState {
  kEnabled,   // takes new meetings (when online) and joins
  kCordoned,  // keeps its meetings and joins, takes no new meetings; disabled once empty
  kDisabled,  // takes nothing
};

std::string_view adminStateName(AdminState state);  // "enabled" / "cordoned" / "disabled"
std::optional<AdminState> parseAdminState(std::string_view name);  // also "enable", "cordon"...

struct ServerUsage {
  int meetings = 0;        // meeting elements, breakouts included
  int users = 0;           // participantCount summed
  int largestMeeting = 0;  // largest participantCount
  int videos = 0;          // videoCount summed
  int voices = 0;          // voiceParticipantCount summed
  bool operator==(const ServerUsage&) const = default;
};

// What the poller knows about a server. Written only by the poller (and load reservations).
struct ServerLiveState {
  bool online = false;  // servers start offline until polled healthy
  double load = 0;      // from the last poll plus reservations made since
  ServerUsage usage;
  std::string bbbVersion;
  int healthyCount = 0;    // consecutive successful polls while offline
  int unhealthyCount = 0;  // consecutive failed polls while online
  int64_t lastPollMs = 0;  // epoch ms of the last poll attempt (0 = never)
  int pollLatencyMs = 0;
  std::string lastError;  // empty after a successful poll
};

struct Server {
  std::string id;      // stable id (UUID-like), chosen at add
  std::string url;     // API base, always ending in "/bigbluebutton/api/"
  std::string secret;  // the server's shared secret
  std::string tag;     // empty = untagged
  AdminState state = AdminState::kDisabled;
  double loadMultiplier = 1.0;  // > 0; higher for weaker servers
  int maxUsers = 0;             // capacity: 0 = no limit
  int maxMeetings = 0;          // capacity: 0 = no limit
  // WebRTC signalling endpoints handed out by /rtcloadbalance ("ws://host:port",
  // "wss://host:port"); empty = the server is not offered for that scheme.
  std::string wsUrl;
  std::string wssUrl;
  int maxConnections = kDefaultMaxConnections;  // concurrent clients the server takes (> 0)
  // Set by self-deregistration: once cordoned and empty the poller removes the server instead of
  // disabling it (an autoscaler's instance that is going away).
  bool removeWhenDrained = false;
  // Added by an operator (admin API or CLI), not by self-registration. The registration token,
  // which every autoscaled BBB server holds, may not change or deregister such a server: it could
  // otherwise take over any server by its URL. Servers stored before this field existed read
  // false.
  bool addedByOperator = false;
  ServerLiveState live;

  static constexpr int kDefaultMaxConnections = 500;

  // Room for one more meeting expected to bring `expectedUsers`: fewer meetings than maxMeetings
  // (placed-but-not-yet-polled ones included) and users + expectedUsers within maxUsers.
  bool hasRoomFor(int expectedUsers) const {
    return (maxMeetings <= 0 || live.usage.meetings < maxMeetings) &&
           (maxUsers <= 0 || live.usage.users + expectedUsers <= maxUsers);
  }

  // Takes new meetings: enabled and online.
  bool availableForNewMeetings() const { return state == AdminState::kEnabled && live.online; }
  // Serves joins and calls for meetings it already has: not disabled and online.
  bool servesExistingMeetings() const { return state != AdminState::kDisabled && live.online; }
};

// Normalises an operator-given URL to the API base ("https://h/bigbluebutton/api/").
// Accepts "https://h", "https://h/", "https://h/bigbluebutton/api" and "…/api/". nullopt when the
// URL is not http(s) or has no host.
std::optional<std::string> normalizeServerUrl(std::string_view url);
// Whether `url` is a signalling endpoint for /rtcloadbalance: "wss://host[:port][/path]" when
// `secure`, else "ws://…", with a valid host and port and no credentials (it is handed to every
// client). Parsed by libcurl's URL parser.
bool isSignallingUrl(std::string_view url, bool secure);
// "bbb1.example.com:8443" from "https://bbb1.example.com:8443/bigbluebutton/api/" (the port only
// when the URL names one), for tables and logs; never the user or password a URL may carry.
std::string serverHost(std::string_view url);

// `url` for listings and logs: the password of "https://user:password@host/..." is shown as
// "***" (the admin API and the CLI show servers' URLs; who may list them need not know it).
std::string displayUrl(std::string_view url);

}  // namespace sb
