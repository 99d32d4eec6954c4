#include "core/server_admin.h"

#include "core/checksum.h"

#include <curl/curl.h>  // the URL parser only: no I/O happens here
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <utility>

#include "core/bbb_url.h"
#include "core/query_string.h"

namespace sb {
namespace {

// Registration with the registration token must not reach a server an operator added.
std::optional<Error> registrationRefusal(const Server& server, ServerAdmin::Registrant who) {
  if (who == ServerAdmin::Registrant::kOperator || !server.addedByOperator) return std::nullopt;
  return Error::of(ErrorCode::kAlreadyExists,
                   "The server with URL " + serverHost(server.url) +
                       " was added by an operator; the registration token cannot change it");
}

// Constant time: the registration token's holder proves with its BBB secret which server it is.
bool sameSecret(const std::string& given, const std::string& stored) {
  return secretEquals(given, stored);
}

bool hasControlBytes(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string formatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

// The addresses the poller is never pointed at without the operator's permission.
struct RefusedNet {
  IpNet net;
  const char* kind;
};
const std::vector<RefusedNet>& refusedNets() {
  static const std::vector<RefusedNet> nets = {
      {*parseIpNet("127.0.0.0/8"), "loopback"},      {*parseIpNet("::1/128"), "loopback"},
      {*parseIpNet("169.254.0.0/16"), "link-local"}, {*parseIpNet("fe80::/10"), "link-local"},
      {*parseIpNet("0.0.0.0/8"), "unspecified"},     {*parseIpNet("::/128"), "unspecified"},
  };
  return nets;
}

// The host libcurl (which the poller calls with) reads from `url`: "[::1]", "bbb.example.com".
std::optional<std::string> urlHost(std::string_view url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed) return std::nullopt;
  std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return std::nullopt;
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr) {
    return std::nullopt;
  }
  std::string out = host;
  curl_free(host);
  return out;
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

Status checkServerUrlAddress(std::string_view url, const std::vector<IpNet>& allowed,
                             const HostResolver& resolve) {
  auto host = urlHost(url);
  if (!host || host->empty()) {
    return Error::of(ErrorCode::kInvalidArgument, "url must name a host");
  }
  std::vector<IpAddress> addresses;
  std::string name = lowerAscii(*host);
  while (!name.empty() && name.back() == '.') name.pop_back();
  const auto literal = parseIpAddress(*host);
  if (literal) {
    addresses.push_back(*literal);
  } else if (name == "localhost" || name.ends_with(".localhost")) {
    // libcurl answers these names with loopback itself, whatever DNS says.
    addresses.push_back(*parseIpAddress("127.0.0.1"));
    addresses.push_back(*parseIpAddress("::1"));
  } else if (resolve) {
    addresses = resolve(*host);
  }
  for (const IpAddress& a : addresses) {
    for (const RefusedNet& refused : refusedNets()) {
      if (!refused.net.contains(a)) continue;
      if (std::any_of(allowed.begin(), allowed.end(),
                      [&a](const IpNet& net) { return net.contains(a); })) {
        break;
      }
      return Error::of(ErrorCode::kForbidden,
                       "Server URL host " + *host + (literal ? " is " : " resolves to ") +
                           ipAddressText(a) + ", a " + refused.kind +
                           " address: the router calls none unless the operator allows it in "
                           "SERVER_URL_ALLOWED_NETS");
    }
  }
  return Status::Ok();
}

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
  auto invalid = [](std::string message) {
    return Error::of(ErrorCode::kInvalidArgument, std::move(message));
  };
  if (c.url &&
      (c.url->size() > kMaxUrlBytes || hasControlBytes(*c.url) || !normalizeServerUrl(*c.url))) {
    return invalid("url must start with http:// or https://, name a host, and hold at most " +
                   std::to_string(kMaxUrlBytes) + " bytes");
  }
  if (c.secret &&
      (c.secret->empty() || c.secret->size() > kMaxSecretBytes || hasControlBytes(*c.secret))) {
    return invalid("secret must not be empty, hold control characters or more than " +
                   std::to_string(kMaxSecretBytes) + " bytes");
  }
  if (c.loadMultiplier && (!std::isfinite(*c.loadMultiplier) || *c.loadMultiplier <= 0 ||
                           *c.loadMultiplier > kMaxLoadMultiplier)) {
    return invalid("load_multiplier must be a number > 0 and <= " +
                   formatNumber(kMaxLoadMultiplier));
  }
  for (auto [name, value] :
       {std::pair{"max_users", c.maxUsers}, std::pair{"max_meetings", c.maxMeetings}}) {
    if (value && (*value < 0 || *value > kMaxServerCapacity)) {
      return invalid(std::string(name) + " must be an integer from 0 to " +
                     std::to_string(kMaxServerCapacity) + " (0 = no limit)");
    }
  }
  if (c.wsUrl && !c.wsUrl->empty() &&
      (c.wsUrl->size() > kMaxUrlBytes || !isSignallingUrl(*c.wsUrl, /*secure=*/false))) {
    return invalid("ws_url must look like ws://host:port");
  }
  if (c.wssUrl && !c.wssUrl->empty() &&
      (c.wssUrl->size() > kMaxUrlBytes || !isSignallingUrl(*c.wssUrl, /*secure=*/true))) {
    return invalid("wss_url must look like wss://host:port");
  }
  if (c.maxConnections && (*c.maxConnections <= 0 || *c.maxConnections > kMaxServerCapacity)) {
    return invalid("max_connections must be an integer from 1 to " +
                   std::to_string(kMaxServerCapacity));
  }
  if (c.tag && (c.tag->find(';') != std::string::npos || c.tag->find('!') != std::string::npos ||
                c.tag->size() > kMaxTagBytes || hasControlBytes(*c.tag) || !isValidUtf8(*c.tag))) {
    return invalid("tag must be UTF-8 text of at most " + std::to_string(kMaxTagBytes) +
                   " bytes without ';', '!' or control characters");
  }
  return Status::Ok();
}

Status ServerAdmin::withinRegistrationLimits(const ServerChanges& c) const {
  const AdminConfig& limits = config_.admin;
  if (c.loadMultiplier && (*c.loadMultiplier < limits.registrationLoadMultiplierMin ||
                           *c.loadMultiplier > limits.registrationLoadMultiplierMax)) {
    return Error::of(ErrorCode::kForbidden,
                     "load_multiplier " + formatNumber(*c.loadMultiplier) +
                         " is outside what the registration token may set: " +
                         formatNumber(limits.registrationLoadMultiplierMin) + " to " +
                         formatNumber(limits.registrationLoadMultiplierMax) +
                         " (REGISTRATION_LOAD_MULTIPLIER_MIN/_MAX)");
  }
  const auto& tags = limits.registrationTags;
  if (c.tag && !c.tag->empty() && !tags.empty() &&
      std::find(tags.begin(), tags.end(), *c.tag) == tags.end()) {
    return Error::of(
        ErrorCode::kForbidden,
        "tag " + *c.tag + " is not one the registration token may set (REGISTRATION_TAGS)");
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
  const bool byServer = who == Registrant::kServer;
  if (byServer) {
    if (auto s = withinRegistrationLimits(changes); !s) return s.error();
  }
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
      if (byServer && !sameSecret(*changes.secret, server.secret)) {
        return Error::of(ErrorCode::kForbidden,
                         "The server with URL " + serverHost(server.url) +
                             " is registered with another secret: the registration token only "
                             "changes its own server (an operator can change the secret)");
      }
      applyChanges(server, enabled);
      server.state = AdminState::kEnabled;
      server.removeWhenDrained = false;
      if (auto s = servers_.updateServer(server); !s) return s.error();
      auto fresh = servers_.getServer(server.id);
      if (!fresh) return fresh.error();
      return Registration{std::move(*fresh), false};
    }
    ServerChanges fresh = enabled;
    if (byServer && !fresh.loadMultiplier) {
      fresh.loadMultiplier = std::clamp(1.0, config_.admin.registrationLoadMultiplierMin,
                                        config_.admin.registrationLoadMultiplierMax);
    }
    auto added = insert(fresh, /*byOperator=*/false);
    if (added) return Registration{std::move(*added), true};
    // Two registrations of one URL raced: the loser finds the winner's record and updates it.
    if (added.error().code != ErrorCode::kAlreadyExists) return added.error();
  }
  return Error::of(ErrorCode::kAlreadyExists, "Server registration raced; retry");
}

Result<Server> ServerAdmin::deregisterServer(const std::string& url, Registrant who,
                                             const std::string& secret) {
  auto existing = findByUrl(url);
  if (!existing) return existing.error();
  if (!*existing) return Error::of(ErrorCode::kNotFound, "No server with URL " + serverHost(url));
  Server server = std::move(**existing);
  if (auto refused = registrationRefusal(server, who)) return *refused;
  if (who == Registrant::kServer && !sameSecret(secret, server.secret)) {
    return Error::of(ErrorCode::kForbidden,
                     "Give the secret of the server with URL " + serverHost(server.url) +
                         ": the registration token only deregisters its own server");
  }
  if (server.state == AdminState::kEnabled) server.state = AdminState::kCordoned;
  server.removeWhenDrained = true;
  if (auto s = servers_.updateServer(server); !s) return s.error();
  return servers_.getServer(server.id);
}

}  // namespace sb
