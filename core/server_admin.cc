#include "core/server_admin.h"

#include <cmath>
#include <random>

#include "core/bbb_url.h"

namespace sb {

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
      signing_(upstreamSigningAlgorithm(config.api)) {}

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
  if (c.tag && (c.tag->find(';') != std::string::npos || c.tag->find('!') != std::string::npos)) {
    return Error::of(ErrorCode::kInvalidArgument, "A tag may not contain ';' or '!'");
  }
  return Status::Ok();
}

Result<Server> ServerAdmin::add(const ServerChanges& changes) {
  if (auto s = validate(changes, /*adding=*/true); !s) return s.error();
  Server server;
  server.id = newServerId();
  server.url = *normalizeServerUrl(*changes.url);
  server.secret = *changes.secret;
  server.tag = changes.tag.value_or("");
  server.loadMultiplier = changes.loadMultiplier.value_or(1.0);
  server.state = changes.state.value_or(AdminState::kDisabled);
  server.maxUsers = changes.maxUsers.value_or(0);
  server.maxMeetings = changes.maxMeetings.value_or(0);
  if (auto s = servers_.addServer(server); !s) return s.error();
  return server;
}

Result<Server> ServerAdmin::update(const std::string& id, const ServerChanges& changes) {
  if (auto s = validate(changes, /*adding=*/false); !s) return s.error();
  auto server = servers_.getServer(id);
  if (!server) return server.error();
  if (changes.url) server->url = *normalizeServerUrl(*changes.url);
  if (changes.secret) server->secret = *changes.secret;
  if (changes.tag) server->tag = *changes.tag;
  if (changes.loadMultiplier) server->loadMultiplier = *changes.loadMultiplier;
  if (changes.maxUsers) server->maxUsers = *changes.maxUsers;
  if (changes.maxMeetings) server->maxMeetings = *changes.maxMeetings;
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

}  // namespace sb
