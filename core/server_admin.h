// Operator use-cases on the pool: add, update, change state, remove and panic servers.
// Used by the admin API. Thread-safety: as the stores.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bbb_client.h"
#include "core/checksum.h"
#include "core/config.h"
#include "core/meeting_copies.h"
#include "core/meeting_store.h"
#include "core/result.h"
#include "core/server_store.h"

namespace sb {

// Bounds of what an operator or a registering server may set (the admin API names the field).
inline constexpr double kMaxLoadMultiplier = 1000;
inline constexpr int kMaxServerCapacity = 10'000'000;  // max_users, max_meetings, max_connections
inline constexpr size_t kMaxUrlBytes = 2048;           // url, ws_url, wss_url
inline constexpr size_t kMaxSecretBytes = 1024;
inline constexpr size_t kMaxTagBytes = 256;

struct ServerChanges {
  std::optional<std::string> url;
  std::optional<std::string> secret;
  std::optional<std::string> tag;  // "" clears the tag
  std::optional<double> loadMultiplier;
  std::optional<AdminState> state;
  std::optional<int> maxUsers;        // 0 = no limit
  std::optional<int> maxMeetings;     // 0 = no limit
  std::optional<std::string> wsUrl;   // "" clears; else ws://host[:port][/path]
  std::optional<std::string> wssUrl;  // "" clears; else wss://host[:port][/path]
  std::optional<int> maxConnections;  // > 0
  // true: only the admin token may change or deregister the server (servers/register refuses);
  // unset on add: true. Never taken from a registration.
  std::optional<bool> addedByOperator;
};

struct PanicOutcome {
  Server server;
  int meetingsEnded = 0;       // end sent (successfully or not) and forgotten
  int meetingsFailedOver = 0;  // marked orphaned, to be re-created elsewhere on next create/join
};

class ServerAdmin {
 public:
  ServerAdmin(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb, const Config& config);

  // Validates and adds a server for an operator (disabled unless `changes.state` says otherwise;
  // addedByOperator). `url` and `secret` are required; kInvalidArgument names what is wrong,
  // kAlreadyExists a duplicate URL.
  Result<Server> add(const ServerChanges& changes);
  // Disabling a server orphans its meetings: their next join or create re-creates them on a
  // healthy server (joins to a disabled server are refused otherwise).
  Result<Server> update(const std::string& id, const ServerChanges& changes);
  Result<Server> setState(const std::string& id, AdminState state);
  // Removes the server; its meetings are ended where they run (while it answers) and orphaned
  // (re-created elsewhere on their next create/join), never silently forgotten. Returns how many
  // were orphaned.
  Result<int> remove(const std::string& id);
  // Ends every meeting of the server and forgets it (or, with failover, ends each where it runs
  // and orphans it, so its next join re-creates it elsewhere: never a second copy beside the
  // first), then disables the server unless keepState.
  Result<PanicOutcome> panic(const std::string& id, bool failover, bool keepState);

  // Self-registration of an autoscaled server, keyed by its URL: adds it enabled, or updates the
  // server with that URL and enables it again (a repeat registration is harmless). It takes
  // meetings once the poller has seen it healthy. `created` says which happened.
  //
  // Who registers: an operator (the admin token) may register and change any server. A server
  // (the registration token, which every autoscaled node holds) only registers and changes its
  // own server, within the operator's limits (AdminConfig):
  //   - a server an operator added: kAlreadyExists, nothing changed;
  //   - a server registered before: only with the secret it was registered with (its own BBB
  //     secret proves it is that server; another node does not know it): else kForbidden;
  //   - load_multiplier outside REGISTRATION_LOAD_MULTIPLIER_MIN..MAX, or a tag not in
  //     REGISTRATION_TAGS: kForbidden.
  enum class Registrant { kServer, kOperator };
  struct Registration {
    Server server;
    bool created = false;
  };
  Result<Registration> registerServer(const ServerChanges& changes, Registrant who);
  // Cordons the server with that URL and marks it to be removed (not just disabled) once its
  // meetings have ended. kNotFound when no server has that URL; kAlreadyExists when a server
  // (the registration token) asks it of a server an operator added; kForbidden when a server
  // does not give that server's secret (only its own server may be drained).
  Result<Server> deregisterServer(const std::string& url, Registrant who,
                                  const std::string& secret = "");

 private:
  Status validate(const ServerChanges& changes, bool adding) const;
  // kForbidden when a registration by a server sets what the operator's limits do not allow.
  Status withinRegistrationLimits(const ServerChanges& changes) const;
  Result<Server> insert(const ServerChanges& changes, bool byOperator);
  // Ends the copies of the server's meetings where it runs them (best effort: stops at the first
  // it does not answer). Fails only when the meetings cannot be listed.
  Status endCopiesOn(const Server& server);
  // The server whose (normalised) URL is `url`, if any.
  Result<std::optional<Server>> findByUrl(const std::string& url);

  ServerStore& servers_;
  MeetingStore& meetings_;
  BbbClient& bbb_;
  const Config& config_;
  ChecksumAlgorithm signing_;
  MeetingCopies copies_;
};

// A new random server id (32 lowercase hex digits).
std::string newServerId();

// The addresses a host name resolves to (getaddrinfo in the router: core does no I/O). Empty
// when it does not resolve.
using HostResolver = std::function<std::vector<IpAddress>(const std::string& host)>;
// Whether the poller may be pointed at `url`: kForbidden when its host is, or resolves to, a
// loopback, link-local or unspecified address (127.0.0.0/8, ::1, 169.254.0.0/16, fe80::/10,
// 0.0.0.0/8, ::, IPv4-mapped forms included) that no network of `allowed`
// (SERVER_URL_ALLOWED_NETS) holds; kInvalidArgument when it names no host. A name that does not
// resolve passes (nothing can be called there yet). Checked when a URL is added or changed:
// what a name resolves to later (DNS rebinding) is not covered here.
Status checkServerUrlAddress(std::string_view url, const std::vector<IpNet>& allowed,
                             const HostResolver& resolve);

}  // namespace sb
