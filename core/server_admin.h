// Operator use-cases on the pool: add, update, change state, remove and panic servers.
// Used by the admin API. Thread-safety: as the stores.
#pragma once

#include <optional>
#include <string>

#include "core/bbb_client.h"
#include "core/checksum.h"
#include "core/config.h"
#include "core/meeting_copies.h"
#include "core/meeting_store.h"
#include "core/result.h"
#include "core/server_store.h"

namespace sb {

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
  // Who registers: a server with the registration token may not change a server an operator
  // added (kAlreadyExists, nothing changed); an operator (the admin token) may.
  enum class Registrant { kServer, kOperator };
  struct Registration {
    Server server;
    bool created = false;
  };
  Result<Registration> registerServer(const ServerChanges& changes, Registrant who);
  // Cordons the server with that URL and marks it to be removed (not just disabled) once its
  // meetings have ended. kNotFound when no server has that URL; kAlreadyExists when a server
  // (the registration token) asks it of a server an operator added.
  Result<Server> deregisterServer(const std::string& url, Registrant who);

 private:
  Status validate(const ServerChanges& changes, bool adding) const;
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

}  // namespace sb
