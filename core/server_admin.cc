#include "core/server_admin.h"

#include <chrono>
#include <cmath>
#include <random>

#include "core/bbb_url.h"

namespace sb {
namespace {

// Registration with the registration token must not reach a server an operator added.
std::optional<Error> registrationRefusal(const Server& server, ServerAdmin::Registrant who) {
  if (who == ServerAdmin::Registrant::kOperator || !server.addedByOperator) return std::nullopt;
  return Error::of(ErrorCode::kAlreadyExists,
                   "The server with URL " + server.url +
                       " was added by an operator; the registration token cannot change it");
}

// Copies every field `c` sets onto `server` (validated before).
void applyChanges(Server& server, const ServerChanges& c) {
  if (c.url) server.url = *normalizeServerUrl(*c.url);
  if (c.secret) server.secret = *c.secret;
  if (c.tag) server.tag = *c.tag;
  if (c.loadMultiplier) server.loadMultiplier = *c.loadMultiplier;
  if (c.maxUsers) server.maxUsers = *c.maxUsers;
  if (c.maxMeetings) server.maxMeetings = *c.maxMeetings;
  if (c.wsUrl) server.wsUrl = *c.wsUrl;
  if (c.wssUrl) server.wssUrl = *c.wssUrl;
  if (c.maxConnections) server.maxConnections = *c.maxConnections;
  if (c.addedByOperator) server.addedByOperator = *c.addedByOperator;
}

// Epoch ms for the ends panic remembers (ServerAdmin has no Clock: its other use-cases need none).
int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string newServerId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (auto& c : id) c = kHex[rng() & 0xF];
  return id;
}

ServerAdmin::ServerAdmin(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb,
                         const Config& config)
    : servers_(servers),
      meetings_(meetings),
      bbb_(bbb),
      config_(config),
      signing_(upstreamSigningAlgorithm(config.api)),
      copies_(bbb, config) {}

Status ServerAdmin::validate(const ServerChanges& c, bool adding) const {
  if (adding && (!c.url || c.url->empty() || !c.secret || c.secret->empty())) {
    return Error::of(ErrorCode::kInvalidArgument, "Server needs a URL and a secret");
  }
  if (c.url && !normalizeServerUrl(*c.url)) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "Server URL must start with http:// or https:// and name a host");
  }
  if (c.secret && c.secret->empty()) {
    return Error::of(ErrorCode::kInvalidArgument, "The secret must not be empty");
  }
  if (c.loadMultiplier && (!std::isfinite(*c.loadMultiplier) || *c.loadMultiplier <= 0)) {
    return Error::of(ErrorCode::kInvalidArgument, "Load-multiplier must be a positive number");
  }
  if ((c.maxUsers && *c.maxUsers < 0) || (c.maxMeetings && *c.maxMeetings < 0)) {
    return Error::of(ErrorCode::kInvalidArgument, "Capacity limits must be >= 0 (0 = no limit)");
  }
  if (c.wsUrl && !c.wsUrl->empty() && !isSignallingUrl(*c.wsUrl, /*secure=*/false)) {
    return Error::of(ErrorCode::kInvalidArgument, "ws-url must look like ws://host:port");
  }
  if (c.wssUrl && !c.wssUrl->empty() && !isSignallingUrl(*c.wssUrl, /*secure=*/true)) {
    return Error::of(ErrorCode::kInvalidArgument, "wss-url must look like wss://host:port");
  }
  if (c.maxConnections && *c.maxConnections <= 0) {
    return Error::of(ErrorCode::kInvalidArgument, "max-connections must be > 0");
  }
  if (c.tag && (c.tag->find(';') != std::string::npos || c.tag->find('!') != std::string::npos)) {
    return Error::of(ErrorCode::kInvalidArgument, "A tag may not contain ';' or '!'");
  }
  return Status::Ok();
}

Result<Server> ServerAdmin::add(const ServerChanges& changes) {
  return insert(changes, /*byOperator=*/true);
}

Result<Server> ServerAdmin::insert(const ServerChanges& changes, bool byOperator) {
  if (auto s = validate(changes, /*adding=*/true); !s) return s.error();
  Server server;
  server.id = newServerId();
  applyChanges(server, changes);
  server.state = changes.state.value_or(AdminState::kDisabled);
  server.addedByOperator = changes.addedByOperator.value_or(byOperator);
  if (auto s = servers_.addServer(server); !s) return s.error();
  return server;
}

Result<Server> ServerAdmin::update(const std::string& id, const ServerChanges& changes) {
  if (auto s = validate(changes, /*adding=*/false); !s) return s.error();
  auto server = servers_.getServer(id);
  if (!server) return server.error();
  applyChanges(*server, changes);
  bool disabling = changes.state == AdminState::kDisabled && server->state != AdminState::kDisabled;
  if (changes.state) server->state = *changes.state;
  if (auto s = servers_.updateServer(*server); !s) return s.error();
  if (disabling) {
    if (auto n = meetings_.orphanMeetingsOf(id); !n) return n.error();
  }
  return servers_.getServer(id);
}

Result<Server> ServerAdmin::setState(const std::string& id, AdminState state) {
  ServerChanges c;
  c.state = state;
  return update(id, c);
}

Result<int> ServerAdmin::remove(const std::string& id) {
  auto server = servers_.getServer(id);
  if (!server) return server.error();
  // A removed server is no longer polled, so nothing could end its copies later: end them now
  // while it answers (their next join re-creates them elsewhere).
  if (auto ended = endCopiesOn(*server); !ended) return ended.error();
  auto orphaned = meetings_.orphanMeetingsOf(id);
  if (!orphaned) return orphaned.error();
  if (auto s = servers_.removeServer(id); !s) return s.error();
  return *orphaned;
}

Result<PanicOutcome> ServerAdmin::panic(const std::string& id, bool failover, bool keepState) {
  auto server = servers_.getServer(id);
  if (!server) return server.error();
  PanicOutcome outcome;
  if (failover) {
    // One meeting, one place: the copies on this server end before their meetings are re-created
    // elsewhere (the poller ends those it could not reach when the server answers again).
    if (auto ended = endCopiesOn(*server); !ended) return ended.error();
    auto n = meetings_.orphanMeetingsOf(id);
    if (!n) return n.error();
    outcome.meetingsFailedOver = *n;
  } else {
    auto list = meetings_.listMeetings(id);
    if (!list) return list.error();
    CallTimeouts t{std::chrono::milliseconds(1000), std::chrono::milliseconds(2000)};
    for (const auto& m : *list) {
      QueryString q;
      q.append("meetingID", m.id);
      q.append("password", m.moderatorPw);
      // Best effort: a dead server cannot end anything, and panic must still complete.
      (void)bbb_.call(BbbCall{signedApiUrl(*server, "end", q, signing_), "", "", t});
      (void)meetings_.removeMeeting(m.id, id);
      // A copy the server did not end (it did not answer) is ended when it answers again, not
      // adopted as a lost route (core/meeting_copies.h).
      (void)meetings_.rememberEnded(m.id, nowMs(), kEndedMemory);
      ++outcome.meetingsEnded;
    }
  }
  if (!keepState) {
    // Meetings were ended or orphaned above; no second orphaning is needed.
    server->state = AdminState::kDisabled;
    if (auto s = servers_.updateServer(*server); !s) return s.error();
  }
  auto fresh = servers_.getServer(id);
  if (!fresh) return fresh.error();
  outcome.server = std::move(*fresh);
  return outcome;
}

Status ServerAdmin::endCopiesOn(const Server& server) {
  auto list = meetings_.listMeetings(server.id);
  if (!list) return list.error();
  for (const auto& m : *list) {
    // Once the server fails to answer one, it will not answer the others either.
    if (!m.orphaned && !copies_.end(server, m.id, m.moderatorPw)) break;
  }
  return Status::Ok();
}

Result<std::optional<Server>> ServerAdmin::findByUrl(const std::string& url) {
  auto normalized = normalizeServerUrl(url);
  if (!normalized) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "Server URL must start with http:// or https:// and name a host");
  }
  auto list = servers_.listServers();
  if (!list) return list.error();
  for (auto& s : *list) {
    if (s.url == *normalized) return std::optional<Server>(std::move(s));
  }
  return std::optional<Server>();
}

Result<ServerAdmin::Registration> ServerAdmin::registerServer(const ServerChanges& changes,
                                                              Registrant who) {
  if (auto s = validate(changes, /*adding=*/true); !s) return s.error();
  ServerChanges enabled = changes;
  enabled.state = AdminState::kEnabled;
  // Whether the registration token may change the server is the operator's call (PATCH), even
  // when an operator registers with the admin token.
  enabled.addedByOperator.reset();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto existing = findByUrl(*changes.url);
    if (!existing) return existing.error();
    if (*existing) {
      // Coming back (a restart, or a repeat at boot): take the new details, serve again.
      Server server = std::move(**existing);
      if (auto refused = registrationRefusal(server, who)) return *refused;
      applyChanges(server, enabled);
      server.state = AdminState::kEnabled;
      server.removeWhenDrained = false;
      if (auto s = servers_.updateServer(server); !s) return s.error();
      auto fresh = servers_.getServer(server.id);
      if (!fresh) return fresh.error();
      return Registration{std::move(*fresh), false};
    }
    auto added = insert(enabled, /*byOperator=*/false);
    if (added) return Registration{std::move(*added), true};
    // Two registrations of one URL raced: the loser finds the winner's record and updates it.
    if (added.error().code != ErrorCode::kAlreadyExists) return added.error();
  }
  return Error::of(ErrorCode::kAlreadyExists, "Server registration raced; retry");
}

Result<Server> ServerAdmin::deregisterServer(const std::string& url, Registrant who) {
  auto existing = findByUrl(url);
  if (!existing) return existing.error();
  if (!*existing) return Error::of(ErrorCode::kNotFound, "No server with URL " + url);
  Server server = std::move(**existing);
  if (auto refused = registrationRefusal(server, who)) return *refused;
  if (server.state == AdminState::kEnabled) server.state = AdminState::kCordoned;
  server.removeWhenDrained = true;
  if (auto s = servers_.updateServer(server); !s) return s.error();
  return servers_.getServer(server.id);
}

}  // namespace sb
