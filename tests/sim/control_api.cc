#include "tests/sim/control_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "tests/sim/sim_http.h"
#include "tests/sim/sim_server.h"

namespace sb::sim {
namespace {

using nlohmann::json;

constexpr int kMaxBatch = 100000;  // participants per call, and per preloaded meeting

// A client mistake; becomes a 400 with the message.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bodies stored from clients may hold invalid UTF-8: replace it rather than fail the dump.
ControlReply reply(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}
ControlReply error(int status, const std::string& message) {
  return reply(status, json{{"error", message}});
}

json parseObject(std::string_view body) {
  if (body.empty()) return json::object();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw BadRequest("body is not valid JSON");
  if (!parsed.is_object()) throw BadRequest("body must be a JSON object");
  return parsed;
}

void rejectUnknownFields(const json& body, const std::set<std::string>& known) {
  for (const auto& [key, value] : body.items()) {
    if (!known.contains(key)) throw BadRequest("unknown field \"" + key + "\"");
  }
}

std::optional<int> intField(const json& body, const char* name, int min, int max) {
  if (!body.contains(name)) return std::nullopt;
  const json& v = body[name];
  if (!v.is_number_integer()) throw BadRequest(std::string(name) + " must be an integer");
  auto n = v.get<int64_t>();
  if (n < min || n > max) {
    throw BadRequest(std::string(name) + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max));
  }
  return static_cast<int>(n);
}

std::optional<bool> boolField(const json& body, const char* name) {
  if (!body.contains(name)) return std::nullopt;
  if (!body[name].is_boolean()) throw BadRequest(std::string(name) + " must be true or false");
  return body[name].get<bool>();
}

std::optional<std::string> stringField(const json& body, const char* name) {
  if (!body.contains(name)) return std::nullopt;
  if (!body[name].is_string()) throw BadRequest(std::string(name) + " must be a string");
  return body[name].get<std::string>();
}

std::string requiredString(const json& body, const char* name) {
  auto value = stringField(body, name);
  if (!value || value->empty()) throw BadRequest(std::string(name) + " is required");
  return *value;
}

json faultJson(const Fault& f) {
  return {{"delay_ms", f.delayMs},    {"error", std::string(faultErrorName(f.error))},
          {"timeout", f.timeout},     {"down", f.down},
          {"malformed", f.malformed}, {"partial", f.partial}};
}

json serverJson(SimPool& pool, const SimServer& s) {
  SimServerSummary summary = s.summary();
  json requests = json::object();
  for (const auto& [call, n] : summary.requests) requests[call] = n;
  return {{"index", s.index()},
          {"url", s.apiBaseUrl()},
          {"secret", s.secret()},
          {"port", pool.portOf(s.index())},
          {"fault", faultJson(summary.fault)},
          {"meetings", summary.meetings},
          {"participants", summary.participants},
          {"requests", requests}};
}

json meetingJson(const SimMeeting& m) {
  json params = json::object();
  for (const auto& p : m.createParams) {
    if (!params.contains(p.name)) params[p.name] = p.value;  // first wins, as in bbb-web
  }
  json metadata = json::object();
  for (const auto& p : m.metadata) metadata[p.name] = p.value;
  json attendees = json::array();
  for (const auto& p : m.participants) {
    attendees.push_back({{"user_id", p.userId},
                         {"external_user_id", p.externalUserId},
                         {"full_name", p.fullName},
                         {"role", p.role},
                         {"presenter", p.isPresenter},
                         {"video", p.hasVideo},
                         {"voice", p.hasJoinedVoice},
                         {"listen_only", p.isListeningOnly}});
  }
  return {{"meeting_id", m.meetingId},
          {"internal_meeting_id", m.internalMeetingId},
          {"name", m.name},
          {"create_time", m.createTime},
          {"attendee_pw", m.attendeePw},
          {"moderator_pw", m.moderatorPw},
          {"voice_bridge", m.voiceBridge},
          {"duration", m.duration},
          {"running", m.running()},
          {"participants", m.participants.size()},
          {"attendees", attendees},
          {"create_params", params},
          {"metadata", metadata},
          {"create_body", m.createBody},
          {"documents", m.documents}};
}

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

// "12" -> 12; 0 when not a positive number.
int serverIndex(std::string_view text) {
  int index = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (ec != std::errc() || end != text.data() + text.size()) return 0;
  return index;
}

ControlReply setFault(SimPool& pool, int index, const json& body) {
  rejectUnknownFields(body, {"delay_ms", "error", "timeout", "down", "malformed", "partial"});
  FaultPatch patch;
  patch.delayMs = intField(body, "delay_ms", 0, 3600 * 1000);
  if (auto name = stringField(body, "error")) {
    patch.error = parseFaultError(*name);
    if (!patch.error) throw BadRequest("error must be one of none, http500, failed, garbage");
  }
  patch.timeout = boolField(body, "timeout");
  patch.down = boolField(body, "down");
  patch.malformed = boolField(body, "malformed");
  patch.partial = boolField(body, "partial");
  Status status = pool.applyFault(index, patch);
  if (!status) return error(500, status.error().message);
  return reply(200, serverJson(pool, *pool.server(index)));
}

ControlReply addParticipants(SimPool& pool, int index, const json& body) {
  rejectUnknownFields(body, {"meeting_id", "count", "role", "video", "voice", "listen_only"});
  ParticipantBatch batch;
  batch.meetingId = requiredString(body, "meeting_id");
  batch.count = intField(body, "count", 0, kMaxBatch).value_or(1);
  batch.role = stringField(body, "role").value_or("VIEWER");
  std::transform(batch.role.begin(), batch.role.end(), batch.role.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (batch.role != "VIEWER" && batch.role != "MODERATOR") {
    throw BadRequest("role must be VIEWER or MODERATOR");
  }
  batch.video = intField(body, "video", 0, kMaxBatch).value_or(0);
  batch.voice = intField(body, "voice", 0, kMaxBatch).value_or(0);
  batch.listenOnly = intField(body, "listen_only", 0, kMaxBatch).value_or(0);
  auto total = pool.server(index)->addParticipants(batch);
  if (!total)
    return error(404, "no meeting \"" + batch.meetingId + "\" on server " + std::to_string(index));
  return reply(200, json{{"meeting_id", batch.meetingId}, {"participants", *total}});
}

ControlReply createMeeting(SimPool& pool, int index, const json& body) {
  rejectUnknownFields(body, {"meeting_id", "name", "participants"});
  std::string meetingId = requiredString(body, "meeting_id");
  std::string name = stringField(body, "name").value_or(meetingId);
  int participants = intField(body, "participants", 0, kMaxBatch).value_or(0);
  auto meeting = pool.server(index)->createMeetingDirect(meetingId, name, participants);
  if (!meeting) {
    int status = meeting.error().code == ErrorCode::kAlreadyExists ? 409 : 400;
    return error(status, "cannot create \"" + meetingId + "\": " + meeting.error().message);
  }
  return reply(201, meetingJson(*meeting));
}

ControlReply crash(SimPool& pool, int index) {
  auto lost = pool.crash(index);
  if (!lost) return error(500, lost.error().message);
  json object = serverJson(pool, *pool.server(index));
  object["meetings_lost"] = *lost;
  return reply(200, object);
}

ControlReply history(const SimPool& pool) {
  json copies = json::array();
  for (const auto& c : pool.history().copies()) {
    copies.push_back({{"server", c.server},
                      {"meeting_id", c.meetingId},
                      {"created_ms", c.createdMs},
                      {"ended_ms", c.endedMs ? json(*c.endedMs) : json(nullptr)}});
  }
  return reply(200, json{{"copies", copies}, {"dropped", pool.history().dropped()}});
}

ControlReply route(SimPool& pool, std::string_view method, std::string_view path,
                   std::string_view rawBody) {
  auto parts = splitPath(path);
  if (parts.size() == 1 && parts[0] == "reset") {
    if (method != "POST") return error(405, "use POST");
    Status status = pool.resetAll();
    if (!status) return error(500, status.error().message);
    return reply(200, json{{"reset", true}});
  }
  if (parts.size() == 1 && parts[0] == "history") {
    if (method != "GET") return error(405, "use GET");
    return history(pool);
  }
  if (parts.empty() || parts[0] != "servers") return error(404, "no such route");
  if (parts.size() == 1) {
    if (method != "GET") return error(405, "use GET");
    json list = json::array();
    for (int i = 1; i <= pool.size(); ++i) list.push_back(serverJson(pool, *pool.server(i)));
    return reply(200, json{{"servers", list}});
  }
  int index = serverIndex(parts[1]);
  SimServer* server = pool.server(index);
  if (!server) return error(404, "no server \"" + std::string(parts[1]) + "\"");
  if (parts.size() == 2) {
    if (method != "GET") return error(405, "use GET");
    json object = serverJson(pool, *server);
    json meetings = json::array();
    for (const auto& m : server->meetings()) meetings.push_back(meetingJson(m));
    object["meetings_detail"] = meetings;
    return reply(200, object);
  }
  if (parts.size() != 3) return error(404, "no such route");
  std::string_view action = parts[2];
  if (action != "fault" && action != "participants" && action != "meetings" && action != "crash") {
    return error(404, "no such route");
  }
  if (method != "POST") return error(405, "use POST");
  json body = parseObject(rawBody);
  if (action == "crash") {
    rejectUnknownFields(body, {});
    return crash(pool, index);
  }
  if (action == "fault") return setFault(pool, index, body);
  if (action == "participants") return addParticipants(pool, index, body);
  return createMeeting(pool, index, body);
}

}  // namespace

ControlReply handleControl(SimPool& pool, std::string_view method, std::string_view path,
                           std::string_view body) {
  try {
    return route(pool, method, path, body);
  } catch (const BadRequest& e) {
    return error(400, e.what());
  } catch (const json::exception& e) {
    return error(400, e.what());
  }
}

}  // namespace sb::sim
