#include "router/admin_api.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/headroom.h"
#include "core/query_string.h"

#include <charconv>

namespace sb {
namespace {

using nlohmann::json;

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  r.body = body.dump();
  return r;
}

HttpResponse jsonError(int status, const std::string& message) {
  return jsonResponse(status, json{{"error", message}});
}

int statusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kStoreUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse fromError(const Error& e) { return jsonError(statusFor(e.code), e.message); }

json serverJson(const Server& s) {
  return json{{"id", s.id},
              {"url", s.url},
              {"host", serverHost(s.url)},
              {"tag", s.tag},
              {"state", adminStateName(s.state)},
              {"online", s.live.online},
              {"load", s.live.load},
              {"load_multiplier", s.loadMultiplier},
              {"max_users", s.maxUsers},
              {"max_meetings", s.maxMeetings},
              {"ws_url", s.wsUrl},
              {"wss_url", s.wssUrl},
              {"max_connections", s.maxConnections},
              {"remove_when_drained", s.removeWhenDrained},
              {"added_by_operator", s.addedByOperator},
              {"meetings", s.live.usage.meetings},
              {"users", s.live.usage.users},
              {"largest_meeting", s.live.usage.largestMeeting},
              {"videos", s.live.usage.videos},
              {"voices", s.live.usage.voices},
              {"bbb_version", s.live.bbbVersion},
              {"poll_latency_ms", s.live.pollLatencyMs},
              {"last_error", s.live.lastError},
              {"last_poll_ms", s.live.lastPollMs}};
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

// Reads the optional fields of a server add/update body. Type errors are kInvalidArgument.
Result<ServerChanges> parseChanges(const json& body) {
  ServerChanges c;
  try {
    if (body.contains("url")) c.url = body.at("url").get<std::string>();
    if (body.contains("secret")) c.secret = body.at("secret").get<std::string>();
    // Text fields where null clears, as "" does.
    auto optionalText = [&body](const char* name, std::optional<std::string>& out) {
      if (body.contains(name))
        out = body.at(name).is_null() ? "" : body.at(name).get<std::string>();
    };
    optionalText("tag", c.tag);
    if (body.contains("load_multiplier")) {
      const json& m = body.at("load_multiplier");
      c.loadMultiplier = m.is_string() ? std::stod(m.get<std::string>()) : m.get<double>();
    }
    if (body.contains("max_users")) c.maxUsers = body.at("max_users").get<int>();
    if (body.contains("max_meetings")) c.maxMeetings = body.at("max_meetings").get<int>();
    optionalText("ws_url", c.wsUrl);
    optionalText("wss_url", c.wssUrl);
    if (body.contains("max_connections")) c.maxConnections = body.at("max_connections").get<int>();
    if (body.contains("added_by_operator")) {
      c.addedByOperator = body.at("added_by_operator").get<bool>();
    }
    if (body.contains("state")) {
      auto state = parseAdminState(body.at("state").get<std::string>());
      if (!state) {
        return Error::of(ErrorCode::kInvalidArgument,
                         "Invalid state parameter: " + body.at("state").get<std::string>());
      }
      c.state = *state;
    }
  } catch (const std::exception&) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "Invalid field types: url, secret, tag, state, ws_url and wss_url are "
                     "strings, load_multiplier a number, max_users, max_meetings and "
                     "max_connections integers, added_by_operator true or false");
  }
  return c;
}

Result<json> parseBody(const HttpRequest& request) {
  if (request.body.empty()) return json::object();
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Error::of(ErrorCode::kInvalidArgument, "The body must be a JSON object");
  }
  // Scalelite's clients wrap the fields in {"server": {...}}; accept both.
  if (body.contains("server") && body["server"].is_object()) {
    json inner = body["server"];
    for (auto& [k, v] : body.items()) {
      if (k != "server" && !inner.contains(k)) inner[k] = v;
    }
    return inner;
  }
  return body;
}

bool boolField(const json& body, const char* name) {
  return body.contains(name) && body[name].is_boolean() && body[name].get<bool>();
}

}  // namespace

AdminApi::AdminApi(ServerAdmin& admin, ServerStore& servers, MeetingStore& meetings,
                   MeetingRouter& router, const AdminConfig& config, WorkerPool& workers)
    : admin_(admin),
      servers_(servers),
      meetings_(meetings),
      router_(router),
      config_(config),
      workers_(workers) {}

bool AdminApi::bearerIs(const HttpRequest& request, const std::string& token) {
  static constexpr std::string_view kBearer = "Bearer ";
  std::string_view auth = request.authorization;
  if (token.empty() || !auth.starts_with(kBearer)) return false;
  auth.remove_prefix(kBearer.size());
  return auth.size() == token.size() && CRYPTO_memcmp(auth.data(), token.data(), auth.size()) == 0;
}

void AdminApi::handle(const HttpRequest& request, const std::string& subpath, const Reply& reply) {
  bool registering = subpath == "/servers/register";
  bool deregistering = subpath == "/servers/deregister";
  std::function<HttpResponse()> work;
  if (registering || deregistering) {
    if (config_.registrationToken.empty() && config_.token.empty()) {
      reply(jsonError(403, "Registration is disabled: set SWITCHBOARD_REGISTRATION_TOKEN"));
      return;
    }
    // The admin token works here too, and acts for an operator: it may (re-)register any server.
    const auto who = bearerIs(request, config_.token) ? ServerAdmin::Registrant::kOperator
                                                      : ServerAdmin::Registrant::kServer;
    if (who == ServerAdmin::Registrant::kServer && !bearerIs(request, config_.registrationToken)) {
      reply(jsonError(401, "Missing or wrong registration token"));
      return;
    }
    if (request.method != "POST") {
      reply(jsonError(405, "Use POST"));
      return;
    }
    work = [this, request, registering, who] { return registration(request, registering, who); };
  } else {
    if (config_.token.empty()) {
      reply(jsonError(403, "The admin API is disabled: set SWITCHBOARD_ADMIN_TOKEN on the router"));
      return;
    }
    if (!bearerIs(request, config_.token)) {
      reply(jsonError(401, "Missing or wrong admin token"));
      return;
    }
    work = [this, request, subpath] { return route(request, subpath); };
  }
  workers_.post([work = std::move(work), request, subpath, reply] {
    try {
      reply(work());
    } catch (const std::exception& e) {
      spdlog::error("admin {} {} failed: {}", request.method, subpath, e.what());
      reply(jsonError(500, "Internal error"));
    }
  });
}

HttpResponse AdminApi::registration(const HttpRequest& request, bool registering,
                                    ServerAdmin::Registrant who) {
  auto body = parseBody(request);
  if (!body) return fromError(body.error());
  auto changes = parseChanges(*body);
  if (!changes) return fromError(changes.error());
  if (!changes->url || changes->url->empty()) return jsonError(400, "Give the server's url");
  if (!registering) {
    auto s = admin_.deregisterServer(*changes->url, who);
    if (!s) return fromError(s.error());
    spdlog::info("deregistered server {} ({}): cordoned, removed once drained", s->id,
                 serverHost(s->url));
    return jsonResponse(200, serverJson(*s));
  }
  auto r = admin_.registerServer(*changes, who);
  if (!r) return fromError(r.error());
  spdlog::info("{} server {} ({}): enabled, in use once polled healthy",
               r->created ? "registered new" : "re-registered", r->server.id,
               serverHost(r->server.url));
  return jsonResponse(r->created ? 201 : 200, serverJson(r->server));
}

HttpResponse AdminApi::route(const HttpRequest& request, const std::string& subpath) {
  std::vector<std::string> parts = splitPath(subpath);
  for (auto& p : parts) {
    auto decoded = urlDecode(p);
    if (!decoded) return jsonError(400, "Invalid percent-encoding in the path");
    p = *decoded;
  }
  const std::string& m = request.method;
  auto body = parseBody(request);
  if (!body) return fromError(body.error());

  if (parts.size() == 1 && parts[0] == "servers") {
    if (m == "GET") {
      auto list = servers_.listServers();
      if (!list) return fromError(list.error());
      json arr = json::array();
      for (const auto& s : *list) arr.push_back(serverJson(s));
      return jsonResponse(200, json{{"servers", arr}});
    }
    if (m == "POST") {
      auto changes = parseChanges(*body);
      if (!changes) return fromError(changes.error());
      auto added = admin_.add(*changes);
      if (!added) return fromError(added.error());
      spdlog::info("admin: added server {} ({}) state={}", added->id, serverHost(added->url),
                   adminStateName(added->state));
      return jsonResponse(201, serverJson(*added));
    }
  }
  if (parts.size() == 2 && parts[0] == "servers") {
    const std::string& id = parts[1];
    if (m == "GET") {
      auto s = servers_.getServer(id);
      return s ? jsonResponse(200, serverJson(*s)) : fromError(s.error());
    }
    if (m == "PATCH" || m == "PUT") {
      auto changes = parseChanges(*body);
      if (!changes) return fromError(changes.error());
      auto s = admin_.update(id, *changes);
      if (s) spdlog::info("admin: updated server {}", id);
      return s ? jsonResponse(200, serverJson(*s)) : fromError(s.error());
    }
    if (m == "DELETE") {
      auto n = admin_.remove(id);
      if (!n) return fromError(n.error());
      spdlog::info("admin: removed server {}; {} meetings orphaned", id, *n);
      return jsonResponse(200, json{{"removed", id}, {"orphaned_meetings", *n}});
    }
  }
  if (parts.size() == 3 && parts[0] == "servers" && m == "POST") {
    const std::string& id = parts[1];
    const std::string& action = parts[2];
    if (action == "enable" || action == "cordon" || action == "disable") {
      auto s = admin_.setState(id, *parseAdminState(action));
      if (s) spdlog::info("admin: server {} -> {}", id, adminStateName(s->state));
      return s ? jsonResponse(200, serverJson(*s)) : fromError(s.error());
    }
    if (action == "panic") {
      auto outcome = admin_.panic(id, boolField(*body, "failover"), boolField(*body, "keep_state"));
      if (!outcome) return fromError(outcome.error());
      spdlog::warn("admin: panicked server {}: {} meetings ended, {} failed over", id,
                   outcome->meetingsEnded, outcome->meetingsFailedOver);
      return jsonResponse(200, json{{"server", serverJson(outcome->server)},
                                    {"meetings_ended", outcome->meetingsEnded},
                                    {"meetings_failed_over", outcome->meetingsFailedOver}});
    }
  }
  if (parts.size() == 1 && parts[0] == "meetings" && m == "GET") {
    auto q = QueryString::parse(request.rawQuery);
    std::string server = q ? std::string(q->get("server").value_or("")) : "";
    auto list = meetings_.listMeetings(server);
    if (!list) return fromError(list.error());
    auto all = servers_.listServers();
    json arr = json::array();
    for (const auto& meeting : *list) {
      std::string host;
      if (all) {
        for (const auto& s : *all) {
          if (s.id == meeting.serverId) host = serverHost(s.url);
        }
      }
      arr.push_back(json{{"id", meeting.id},
                         {"server_id", meeting.serverId},
                         {"server_host", host},
                         {"created_at_ms", meeting.createdAtMs},
                         {"orphaned", meeting.orphaned}});
    }
    return jsonResponse(200, json{{"meetings", arr}});
  }
  if (parts.size() == 3 && parts[0] == "meetings" && parts[2] == "end" && m == "POST") {
    auto s = router_.endMeeting(parts[1]);
    if (!s) return fromError(s.error());
    spdlog::info("admin: ended meeting {}", parts[1]);
    return jsonResponse(200, json{{"ended", parts[1]}});
  }
  if (parts.size() == 3 && parts[0] == "meetings" && parts[2] == "move" && m == "POST") {
    if (!body->contains("to") || !(*body)["to"].is_string()) {
      return jsonError(400, "Give the target server as {\"to\": \"<server id>\"}");
    }
    auto moved = router_.moveMeeting(parts[1], (*body)["to"].get<std::string>());
    if (!moved) return fromError(moved.error());
    return jsonResponse(200, json{{"moved", moved->id}, {"server_id", moved->serverId}});
  }
  if (parts.size() == 1 && parts[0] == "status" && m == "GET") {
    auto q = QueryString::parse(request.rawQuery);
    int survive = 1;
    if (auto v = q ? q->get("survive") : std::nullopt; v && !v->empty()) {
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), survive);
      if (ec != std::errc() || ptr != v->data() + v->size() || survive < 0 || survive > 10000) {
        return jsonError(400, "survive must be an integer between 0 and 10000");
      }
    }
    auto list = servers_.listServers();
    if (!list) return fromError(list.error());
    Headroom h = computeHeadroom(*list, survive);
    json arr = json::array();
    int online = 0, meetings = 0, users = 0, videos = 0;
    double load = 0;
    for (const auto& s : *list) {
      arr.push_back(serverJson(s));
      online += s.live.online ? 1 : 0;
      meetings += s.live.usage.meetings;
      users += s.live.usage.users;
      videos += s.live.usage.videos;
      load += s.live.load;
    }
    return jsonResponse(200, json{{"servers", arr},
                                  {"totals",
                                   {{"servers", list->size()},
                                    {"online", online},
                                    {"meetings", meetings},
                                    {"users", users},
                                    {"videos", videos},
                                    {"load", load}}},
                                  {"headroom",
                                   {{"survive", h.survive},
                                    {"servers", h.servers},
                                    {"servers_left", h.serversLeft},
                                    {"capacity", h.capacity},
                                    {"capacity_left", h.capacityLeft},
                                    {"load", h.load},
                                    {"holds", h.holds}}}});
  }
  return jsonError(404, "No such admin endpoint: " + m + " " + subpath);
}

}  // namespace sb
