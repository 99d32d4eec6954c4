#include "router/admin_api.h"

#include "core/tenants/tenant_json.h"

#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/headroom.h"
#include "core/query_string.h"

namespace sb {
namespace {

using nlohmann::json;

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  // Text that came from BBB servers (last_error, bbb_version) or from a path may hold invalid
  // UTF-8: such bytes become U+FFFD instead of an exception (which answered 500 for good).
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
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
    case ErrorCode::kValidationError:  // a meeting id in the path that BBB would refuse
    case ErrorCode::kMissingParamMeetingID:
      return 400;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kStoreUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse fromError(const Error& e) { return jsonError(statusFor(e.code), e.message); }

json serverJson(const Server& s) {
  return json{{"id", s.id},
              {"url", displayUrl(s.url)},
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

Error fieldError(const std::string& name, const std::string& expected) {
  return Error::of(ErrorCode::kInvalidArgument, name + " must be " + expected);
}

// A text field: a JSON string; with `nullClears`, null stands for "".
Status readText(const json& body, const char* name, bool nullClears,
                std::optional<std::string>& out) {
  if (!body.contains(name)) return Status::Ok();
  const json& v = body.at(name);
  if (nullClears && v.is_null()) {
    out = "";
    return Status::Ok();
  }
  if (!v.is_string()) return fieldError(name, "a string");
  out = v.get<std::string>();
  return Status::Ok();
}

// An integer field in [min, max], read whole: a JSON integer (or a number without a fraction),
// or a string of decimal digits ("40"; never "5abc" or "1e3"). Nothing is cast or wrapped.
Status readInt(const json& body, const char* name, int64_t min, int64_t max, const char* note,
               std::optional<int>& out) {
  if (!body.contains(name)) return Status::Ok();
  const json& v = body.at(name);
  std::optional<int64_t> n;
  if (v.is_number_unsigned()) {
    if (uint64_t u = v.get<uint64_t>(); u <= static_cast<uint64_t>(max)) {
      n = static_cast<int64_t>(u);
    }
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && d >= static_cast<double>(min) &&
        d <= static_cast<double>(max)) {
      n = static_cast<int64_t>(d);
    }
  } else if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) n = parsed;
  }
  if (!n || *n < min || *n > max) {
    return fieldError(
        name, "an integer from " + std::to_string(min) + " to " + std::to_string(max) + note);
  }
  out = static_cast<int>(*n);
  return Status::Ok();
}

// The load multiplier: a JSON number, or a decimal number as a string read whole ("2.5").
Status readLoadMultiplier(const json& body, std::optional<double>& out) {
  static constexpr const char* kName = "load_multiplier";
  if (!body.contains(kName)) return Status::Ok();
  const json& v = body.at(kName);
  std::optional<double> d;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    double parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) d = parsed;
  }
  if (!d || !std::isfinite(*d) || *d <= 0 || *d > kMaxLoadMultiplier) {
    return fieldError(kName, "a number > 0 and <= 1000");
  }
  out = *d;
  return Status::Ok();
}

Status readBool(const json& body, const char* name, std::optional<bool>& out) {
  if (!body.contains(name)) return Status::Ok();
  if (!body.at(name).is_boolean()) return fieldError(name, "true or false");
  out = body.at(name).get<bool>();
  return Status::Ok();
}

// Reads the fields of a server add/update/registration body: each is type- and range-checked,
// and an error names the field (kInvalidArgument). Fields not named here are ignored.
Result<ServerChanges> parseChanges(const json& body) {
  ServerChanges c;
  std::optional<std::string> state;
  for (Status s :
       {readText(body, "url", false, c.url), readText(body, "secret", false, c.secret),
        readText(body, "tag", true, c.tag), readText(body, "ws_url", true, c.wsUrl),
        readText(body, "wss_url", true, c.wssUrl), readText(body, "state", false, state),
        readLoadMultiplier(body, c.loadMultiplier),
        readInt(body, "max_users", 0, kMaxServerCapacity, " (0 = no limit)", c.maxUsers),
        readInt(body, "max_meetings", 0, kMaxServerCapacity, " (0 = no limit)", c.maxMeetings),
        readInt(body, "max_connections", 1, kMaxServerCapacity, "", c.maxConnections),
        readBool(body, "added_by_operator", c.addedByOperator)}) {
    if (!s) return s.error();
  }
  if (state) {
    auto parsed = parseAdminState(*state);
    if (!parsed) return fieldError("state", "enabled, cordoned or disabled");
    c.state = *parsed;
  }
  return c;
}

// getaddrinfo, on the worker the admin call runs on. Empty when the name does not resolve.
std::vector<IpAddress> resolveHost(const std::string& host) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::vector<IpAddress> out;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    IpAddress ip{};
    if (a->ai_family == AF_INET) {
      ip[10] = ip[11] = 0xff;
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      std::memcpy(ip.data() + 12, &v4->sin_addr, 4);
    } else if (a->ai_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      std::memcpy(ip.data(), &v6->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(ip);
  }
  freeaddrinfo(found);
  return out;
}

// Ids and path segments are UTF-8 text: other bytes name nothing (404). What else an id may hold
// (a NUL in a meeting id) the store or the router decides.
bool plausibleSegment(const std::string& segment) { return isValidUtf8(segment); }

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

}  // namespace

AdminApi::AdminApi(ServerAdmin& admin, ServerStore& servers, MeetingStore& meetings,
                   MeetingRouter& router, const AdminConfig& config, WorkerPool& workers,
                   RecordingLibrary* recordings)
    : admin_(admin),
      servers_(servers),
      meetings_(meetings),
      router_(router),
      recordings_(recordings),
      config_(config),
      workers_(workers) {}

bool AdminApi::bearerIs(const HttpRequest& request, const std::string& token) {
  return sb::bearerIs(request.authorization, token);
}

void AdminApi::setImporter(RecordingImporter* importer, std::string uploadToken,
                           CallbackRelay* callbacks) {
  importer_ = importer;
  callbacks_ = callbacks;
  uploadToken_ = std::move(uploadToken);
}

void AdminApi::handle(const HttpRequest& request, const std::string& subpath, const Reply& reply) {
  bool registering = subpath == "/servers/register";
  bool deregistering = subpath == "/servers/deregister";
  std::function<HttpResponse()> work;
  if (subpath == "/recordings/upload") {
    // The HTTP front checked the token before it took the body; checked again for other callers.
    if (!bearerIs(request, uploadToken_) && !bearerIs(request, config_.token)) {
      if (!request.bodyFile.empty()) ::unlink(request.bodyFile.c_str());
      reply(jsonError(401, "Missing or wrong upload token"));
      return;
    }
    work = [this, request] { return upload(request); };
  } else if (registering || deregistering) {
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

Status AdminApi::checkUrl(const std::optional<std::string>& url) const {
  // A URL validate() refuses is named there (what is wrong with it); here only where it points.
  if (!url || !normalizeServerUrl(*url)) return Status::Ok();
  return checkServerUrlAddress(*url, config_.serverUrlAllowedNets, resolveHost);
}

HttpResponse AdminApi::registration(const HttpRequest& request, bool registering,
                                    ServerAdmin::Registrant who) {
  auto body = parseBody(request);
  if (!body) return fromError(body.error());
  auto changes = parseChanges(*body);
  if (!changes) return fromError(changes.error());
  if (!changes->url || changes->url->empty()) return jsonError(400, "Give the server's url");
  if (!registering) {
    auto s = admin_.deregisterServer(*changes->url, who, changes->secret.value_or(""));
    if (!s) return fromError(s.error());
    spdlog::info("deregistered server {} ({}): cordoned, removed once drained", s->id,
                 serverHost(s->url));
    return jsonResponse(200, serverJson(*s));
  }
  if (auto allowed = checkUrl(changes->url); !allowed) return fromError(allowed.error());
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
    if (!plausibleSegment(*decoded)) {
      return jsonError(404, "Not found: ids and endpoints are UTF-8 text");
    }
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
      if (auto allowed = checkUrl(changes->url); !allowed) return fromError(allowed.error());
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
      if (auto allowed = checkUrl(changes->url); !allowed) return fromError(allowed.error());
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
      std::optional<bool> failover, keepState;
      for (Status s :
           {readBool(*body, "failover", failover), readBool(*body, "keep_state", keepState)}) {
        if (!s) return fromError(s.error());
      }
      auto outcome = admin_.panic(id, failover.value_or(false), keepState.value_or(false));
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
    if (!q) return jsonError(400, "Invalid query string");
    std::string server(q->get("server").value_or(""));
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
  if (auto answer = recordingsRoute(request, parts)) return std::move(*answer);
  if (auto answer = tenantsRoute(request, parts)) return std::move(*answer);
  if (parts.size() == 1 && parts[0] == "status" && m == "GET") {
    auto q = QueryString::parse(request.rawQuery);
    if (!q) return jsonError(400, "Invalid query string");
    int survive = 1;
    if (auto v = q->get("survive"); v && !v->empty()) {
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

namespace {

json recordingJson(const Recording& r) {
  json formats = json::array();
  for (const auto& f : r.formats) {
    formats.push_back({{"type", f.type}, {"url", f.url}, {"size", f.size}});
  }
  json metadata = json::object();
  for (const auto& [k, v] : r.metadata) metadata[k] = v;
  json out = {{"id", r.recordId},
              {"meeting_id", r.meetingId},
              {"internal_meeting_id", r.internalMeetingId},
              {"name", r.name},
              {"state", recordingStateName(r.state)},
              {"start_time_ms", r.startTimeMs},
              {"end_time_ms", r.endTimeMs},
              {"size", r.size()},
              {"formats", formats},
              {"metadata", metadata},
              {"protected", r.isProtected}};
  if (r.participants) out["participants"] = *r.participants;
  if (!r.textTracks.empty()) {
    json tracks = json::array();
    for (const auto& t : r.textTracks) {
      tracks.push_back({{"kind", t.kind}, {"lang", t.lang}, {"label", t.label}});
    }
    out["text_tracks"] = tracks;
  }
  return out;
}

}  // namespace

namespace {

// Removes an upload's body file when the request is done with it, unless it was handed on.
class BodyFileGuard {
 public:
  explicit BodyFileGuard(const std::string& path) : path_(path) {}
  ~BodyFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  BodyFileGuard(const BodyFileGuard&) = delete;
  BodyFileGuard& operator=(const BodyFileGuard&) = delete;
  void release() { path_.clear(); }

 private:
  std::string path_;
};

json failedImportJson(const FailedImport& f) {
  return json{{"archive", f.archive},
              {"reason", f.reason},
              {"attempts", f.attempts},
              {"size", f.size},
              {"first_failed_ms", f.firstFailedMs},
              {"last_failed_ms", f.lastFailedMs},
              {"next_attempt_ms", f.nextAttemptMs}};
}

}  // namespace

HttpResponse AdminApi::upload(const HttpRequest& request) {
  BodyFileGuard guard(request.bodyFile);
  if (request.method != "POST") return jsonError(405, "Use POST");
  if (!importer_) return jsonError(503, "Recording imports are off on this router");
  if (request.bodyFile.empty()) {
    return jsonError(400, "Send the archive (a tar of <format>/<record_id>/ folders) as the body");
  }
  auto q = QueryString::parse(request.rawQuery);
  std::string name = q ? std::string(q->get("name").value_or("")) : "";
  if (!RecordingImporter::isArchiveName(name)) {
    name = "upload-" +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count()) +
           ".tar";
  }
  guard.release();  // importAndSettle removes it, or keeps it in failed/
  auto imported = importer_->importAndSettle(request.bodyFile, name);
  if (!imported) {
    const bool refused = imported.error().code == ErrorCode::kValidationError;
    // 422: this archive will never import (the hook stops); 503: try again later.
    return jsonError(refused ? 422 : 503,
                     imported.error().message + " (kept as failed/" + name + ")");
  }
  json recordings = json::array();
  for (const auto& r : imported->recordings) recordings.push_back(recordingJson(r));
  return jsonResponse(200, json{{"imported", recordings}, {"bytes", imported->bytes}});
}

std::optional<HttpResponse> AdminApi::failedImportsRoute(const HttpRequest& request,
                                                         const std::vector<std::string>& parts) {
  if (parts.size() == 2 && parts[0] == "recordings" && parts[1] == "callbacks" &&
      request.method == "GET") {
    if (!callbacks_) return jsonError(404, "Recording callbacks are off on this router");
    auto pending = callbacks_->pending();
    if (!pending) return fromError(pending.error());
    json arr = json::array();
    for (const auto& c : *pending) {
      arr.push_back(json{{"kind", c.kind},
                         {"record_id", c.recordId},
                         {"meeting_id", c.meetingId},
                         {"url", c.url.substr(0, c.url.find('?'))},
                         {"attempts", c.attempts},
                         {"next_attempt_ms", c.nextAttemptMs},
                         {"last_error", c.lastError},
                         {"given_up", c.failed}});
    }
    return jsonResponse(200, json{{"callbacks", arr}});
  }
  if (parts.size() == 3 && parts[0] == "recordings" && parts[1] == "callbacks" &&
      parts[2] == "retry" && request.method == "POST") {
    if (!callbacks_) return jsonError(404, "Recording callbacks are off on this router");
    auto retried = callbacks_->retryAll();
    if (!retried) return fromError(retried.error());
    return jsonResponse(200, json{{"retried", *retried}});
  }
  if (parts.size() < 2 || parts[0] != "recordings" || parts[1] != "failed" || parts.size() > 4) {
    return std::nullopt;
  }
  if (!importer_) return jsonError(404, "Recording imports are off on this router");
  const std::string& m = request.method;
  if (parts.size() == 2 && m == "GET") {
    json arr = json::array();
    for (const auto& f : importer_->failedImports()) arr.push_back(failedImportJson(f));
    return jsonResponse(200, json{{"failed", arr}});
  }
  if (parts.size() == 4 && parts[3] == "retry" && m == "POST") {
    if (auto s = importer_->retryNow(parts[2]); !s.ok()) return fromError(s.error());
    spdlog::info("admin: import of {} to be retried now", parts[2]);
    return jsonResponse(200, json{{"retry", parts[2]}});
  }
  if (parts.size() == 3 && m == "DELETE") {
    if (auto s = importer_->dropFailed(parts[2]); !s.ok()) return fromError(s.error());
    return jsonResponse(200, json{{"removed", parts[2]}});
  }
  return std::nullopt;
}

// The operator manages a recording by its ID whichever tenant owns it.
const std::string kAnyTenant(RecordingStore::kAnyTenant);

std::optional<HttpResponse> AdminApi::recordingsRoute(const HttpRequest& request,
                                                      const std::vector<std::string>& parts) {
  if (auto answer = failedImportsRoute(request, parts)) return answer;
  if (parts.empty() || parts[0] != "recordings" || parts.size() > 3) return std::nullopt;
  if (!recordings_) return jsonError(404, "The recordings API is disabled (RECORDING_DISABLED)");
  const std::string& m = request.method;
  // Query parameters as the BBB API names them: recordID, meetingID, state, meta_*, offset,
  // limit (state=any lists every state).
  if (parts.size() == 1 && m == "GET") {
    auto q = QueryString::parse(request.rawQuery);
    if (!q) return jsonError(400, "Invalid query string");
    auto page = recordings_->getRecordings(*q);
    if (!page) return fromError(page.error());
    json arr = json::array();
    for (const auto& r : page->recordings) arr.push_back(recordingJson(r));
    return jsonResponse(200, json{{"recordings", arr}, {"total", page->total}});
  }
  if (parts.size() == 2 && parts[1] == "reindex" && m == "POST") {
    const auto started = std::chrono::steady_clock::now();
    auto done = recordings_->reindex();
    if (!done) return fromError(done.error());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info(
        "admin: recordings reindexed from the folder: {} stored, {} failed, {} skipped "
        "in {:.1f} s",
        done->stored, done->failed, done->problems.size(), seconds);
    json skipped = json::array();
    for (size_t n = 0; n < done->problems.size() && n < 100; ++n) {
      skipped.push_back(done->problems[n]);
    }
    return jsonResponse(200, json{{"stored", done->stored},
                                  {"failed", done->failed},
                                  {"skipped", done->problems.size()},
                                  {"problems", skipped},
                                  {"seconds", seconds}});
  }
  QueryString ids;
  if (parts.size() >= 2) ids.append("recordID", parts[1]);
  if (parts.size() == 2 && m == "GET") {
    auto found = recordings_->find(parts[1], kAnyTenant);
    if (!found) return fromError(found.error());
    if (!*found) return jsonError(404, "No recording " + parts[1]);
    return jsonResponse(200, recordingJson(**found));
  }
  if (parts.size() == 2 && m == "DELETE") {
    if (auto s = recordings_->remove(ids, kAnyTenant); !s.ok()) return fromError(s.error());
    spdlog::info("admin: deleted recording {}", parts[1]);
    return jsonResponse(200, json{{"deleted", parts[1]}});
  }
  if (parts.size() == 3 && m == "POST" && (parts[2] == "publish" || parts[2] == "unpublish")) {
    ids.append("publish", parts[2] == "publish" ? "true" : "false");
    auto published = recordings_->publish(ids, kAnyTenant);
    if (!published) return fromError(published.error());
    spdlog::info("admin: {}ed recording {}", parts[2], parts[1]);
    return jsonResponse(200, json{{"id", parts[1]}, {"published", *published}});
  }
  return std::nullopt;
}

}  // namespace sb

namespace sb {
namespace {

// A tenant's JSON for operators: its secrets only when asked (?secrets=true).
json tenantView(const Tenant& t, const HttpRequest& request) {
  auto q = QueryString::parse(request.rawQuery);
  bool secrets = q && q->get("secrets").value_or("") == "true";
  return tenantToJson(t, secrets);
}

// The tenant fields of a body: {"tenant": {...}} (Scalelite's clients) or the object itself.
json tenantFields(const json& body) {
  if (body.contains("tenant") && body["tenant"].is_object()) return body["tenant"];
  return body;
}

}  // namespace

std::optional<HttpResponse> AdminApi::tenantsRoute(const HttpRequest& request,
                                                   const std::vector<std::string>& parts) {
  if (parts.empty() || parts[0] != "tenants") return std::nullopt;
  if (!tenants_) return jsonError(412, "Multitenancy is disabled: set MULTITENANCY_ENABLED=true");
  const std::string& m = request.method;
  auto body = parseBody(request);
  if (!body) return fromError(body.error());
  if (parts.size() == 1 && m == "GET") {
    auto list = tenants_->list();
    if (!list) return fromError(list.error());
    json arr = json::array();
    for (const auto& t : *list) arr.push_back(tenantView(t, request));
    return jsonResponse(200, json{{"tenants", arr}});
  }
  if (parts.size() == 1 && m == "POST") {
    auto t = tenantFromJson(tenantFields(*body));
    if (!t) return fromError(t.error());
    auto added = tenants_->add(*t);
    if (!added) return fromError(added.error());
    spdlog::info("admin: added tenant {}", added->name);
    return jsonResponse(201, tenantToJson(*added, false));
  }
  if (parts.size() == 2) {
    const std::string& name = parts[1];
    if (m == "GET") {
      auto t = tenants_->show(name);
      return t ? jsonResponse(200, tenantView(*t, request)) : fromError(t.error());
    }
    if (m == "PATCH" || m == "PUT") {
      auto t = tenants_->update(name, tenantFields(*body));
      if (t) spdlog::info("admin: updated tenant {}", name);
      return t ? jsonResponse(200, tenantToJson(*t, false)) : fromError(t.error());
    }
    if (m == "DELETE") {
      auto q = QueryString::parse(request.rawQuery);
      bool force = q && q->get("force").value_or("") == "true";
      auto n = tenants_->remove(name, force);
      if (!n) return fromError(n.error());
      spdlog::warn("admin: removed tenant {} ({} meetings left to run out)", name, *n);
      return jsonResponse(200, json{{"removed", name}, {"meetings", *n}});
    }
  }
  if (parts.size() == 3 && parts[2] == "secrets" && m == "POST") {
    std::string secret;
    if (body->contains("secret")) {
      if (!(*body)["secret"].is_string()) return jsonError(400, "secret must be a string");
      secret = (*body)["secret"].get<std::string>();
    }
    std::optional<bool> dropOthers;
    if (Status s = readBool(*body, "drop_others", dropOthers); !s) return fromError(s.error());
    auto r = tenants_->rotateSecret(parts[1], secret, dropOthers.value_or(false));
    if (!r) return fromError(r.error());
    spdlog::info("admin: tenant {} has a new secret ({} in all)", parts[1],
                 r->tenant.secrets.size());
    return jsonResponse(200,
                        json{{"tenant", tenantToJson(r->tenant, false)}, {"secret", r->secret}});
  }
  if (parts.size() == 3 && parts[2] == "usage" && m == "GET") {
    auto t = tenants_->show(parts[1]);
    if (!t) return fromError(t.error());
    auto u = tenants_->usage(parts[1]);
    if (!u) return fromError(u.error());
    const auto& l = t->limits;
    return jsonResponse(200, json{{"tenant", parts[1]},
                                  {"meetings", u->meetings},
                                  {"participants", u->participants},
                                  {"counted_meetings", u->counted},
                                  {"limits",
                                   {{"max_meetings", l.maxMeetings},
                                    {"max_participants", l.maxParticipants},
                                    {"creates_per_minute", l.createsPerMinute}}}});
  }
  return jsonError(404, "Not found");
}

}  // namespace sb
