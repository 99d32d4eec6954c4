#include "core/meeting_router.h"

#include <algorithm>
#include <random>
#include <set>

#include "core/balancing/placement.h"
#include "core/balancing/server_tag.h"
#include "core/bbb_url.h"
#include "core/load_calculator.h"

namespace sb {
namespace {

constexpr int kMaxCreateAttempts = 3;  // servers tried when forwarding a create fails in transport
constexpr const char* kServerTagParam = "meta_server-tag";

std::string randomPassword() {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlnum) - 2);
  std::string pw(8, 'x');
  for (auto& c : pw) c = kAlnum[pick(rng)];
  return pw;
}

void removeAll(QueryString& q, const std::vector<std::string>& names) {
  for (const auto& n : names) q.remove(n);
}

// defaults < request < overrides, then excluded names dropped.
QueryString layeredParams(const QueryString& request, const QueryString& defaults,
                          const QueryString& overrides, const std::vector<std::string>& exclude) {
  QueryString q = request;
  q.remove("checksum");
  q.appendMissing(defaults);
  for (const auto& p : overrides.params()) q.set(p.name, p.value);
  removeAll(q, exclude);
  return q;
}

std::chrono::milliseconds reducedTimeout(std::chrono::milliseconds full,
                                         std::chrono::milliseconds floor) {
  return std::clamp(full / 10, std::min(floor, full), full);
}

}  // namespace

MeetingRouter::MeetingRouter(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb,
                             const Clock& clock, BalancingStrategy& strategy, const Config& config)
    : servers_(servers),
      meetings_(meetings),
      bbb_(bbb),
      clock_(clock),
      strategy_(strategy),
      config_(config),
      signing_(upstreamSigningAlgorithm(config.api)) {}

CallTimeouts MeetingRouter::timeoutsFor(const Server& server) const {
  CallTimeouts t{config_.bbb.connectTimeout, config_.bbb.responseTimeout};
  if (!server.live.online) {
    // Scalelite's rule: an offline server gets a tenth of the timeouts (at least 0.2 s / 0.5 s).
    t.connect = reducedTimeout(t.connect, std::chrono::milliseconds(200));
    t.response = reducedTimeout(t.response, std::chrono::milliseconds(500));
  }
  return t;
}

Result<std::string> MeetingRouter::requireMeetingId(const ApiRequest& request) const {
  auto id = request.params.get("meetingID");
  if (!id || id->empty()) return Error::of(ErrorCode::kMissingParamMeetingID);
  return std::string(*id);
}

Result<MeetingRouter::Target> MeetingRouter::locate(const std::string& meetingId,
                                                    bool requireUsableServer) {
  auto found = meetings_.findMeeting(meetingId);
  if (!found) return found.error();
  if (!found->has_value() || (*found)->orphaned) return Error::of(ErrorCode::kNotFound);
  auto server = servers_.getServer((*found)->serverId);
  if (!server) {
    if (server.error().code == ErrorCode::kNotFound) return Error::of(ErrorCode::kNotFound);
    return server.error();
  }
  if (requireUsableServer && !server->servesExistingMeetings()) {
    return Error::of(ErrorCode::kServerUnavailable);
  }
  return Target{std::move(**found), std::move(*server)};
}

Result<UpstreamAnswer> MeetingRouter::forward(const Server& server, const std::string& call,
                                              const QueryString& params, const std::string& body,
                                              const std::string& failureMessage) {
  BbbCall c;
  c.url = signedApiUrl(server, call, params, signing_);
  c.body = body;
  c.contentType = "application/xml";
  c.timeouts = timeoutsFor(server);
  auto reply = bbb_.call(c);
  if (!reply) return Error::of(ErrorCode::kInternalError, failureMessage);
  return UpstreamAnswer{std::move(reply->body), server.id, reply->success(), reply->messageKey};
}

std::string MeetingRouter::resolveServerTag(const ApiRequest& request) const {
  // Precedence as in Scalelite: override, request, default (first non-blank wins).
  for (const QueryString* q :
       {&config_.api.overrideCreateParams, &request.params, &config_.api.defaultCreateParams}) {
    auto v = q->get(kServerTagParam);
    if (v && !v->empty()) return std::string(*v);
  }
  return {};
}

QueryString MeetingRouter::createParamsFor(const ApiRequest& request) const {
  QueryString q = layeredParams(request.params, config_.api.defaultCreateParams,
                                config_.api.overrideCreateParams, config_.api.createExcludeParams);
  q.remove(kServerTagParam);
  int max = config_.api.maxMeetingDuration;
  if (max > 0) {
    auto d = q.get("duration");
    long duration = 0;
    if (d) duration = std::strtol(std::string(*d).c_str(), nullptr, 10);
    if (!d || duration <= 0 || duration > max) q.set("duration", std::to_string(max));
  }
  return q;
}

QueryString MeetingRouter::joinParamsFor(const ApiRequest& request) const {
  return layeredParams(request.params, config_.api.defaultJoinParams,
                       config_.api.overrideJoinParams, config_.api.joinExcludeParams);
}

Result<UpstreamAnswer> MeetingRouter::create(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto found = meetings_.findMeeting(*id);
  if (!found) return found.error();
  if (found->has_value() && !(*found)->orphaned) {
    const Meeting& m = **found;
    auto server = servers_.getServer(m.serverId);
    if (server && server->servesExistingMeetings()) {
      bool keep = true;
      if (server->state == AdminState::kCordoned) {
        // A cordoned server keeps meetings that still run; one that ended is placed anew.
        QueryString q;
        q.append("meetingID", *id);
        auto running = forward(*server, "isMeetingRunning", q, "", "");
        keep = running && running->body.find("<running>true</running>") != std::string::npos;
      }
      if (keep) {
        // Idempotent create: BBB answers duplicateWarning (or idNotUnique) itself.
        QueryString params = createParamsFor(request);
        if (!server->tag.empty()) params.set(kServerTagParam, server->tag);
        return forward(*server, "create", params, request.body,
                       "Unable to create meeting on server.");
      }
    }
    // Its server is gone, offline, disabled or (cordoned and the meeting ended): place anew.
    if (auto s = meetings_.removeMeeting(*id, m.serverId); !s) return s.error();
  }
  return placeAndCreate(request, *id);
}

Result<UpstreamAnswer> MeetingRouter::placeAndCreate(const ApiRequest& request,
                                                     const std::string& meetingId) {
  ServerTagRequest tag = ServerTagRequest::parse(resolveServerTag(request));
  std::set<std::string> failed;  // servers that failed in transport during this create
  Error lastError = Error::of(ErrorCode::kNoServerAvailable);
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    auto all = servers_.listServers();
    if (!all) return all.error();
    std::vector<Server> servers;
    for (auto& s : *all) {
      if (!failed.contains(s.id)) servers.push_back(std::move(s));
    }
    auto chosen = chooseServer(servers, tag, strategy_, meetingId);
    if (!chosen) return attempt == 0 ? chosen.error() : lastError;
    const Server& server = **chosen;

    Meeting meeting;
    meeting.id = meetingId;
    meeting.serverId = server.id;
    auto pw = request.params.get("moderatorPW");
    meeting.moderatorPw = pw && !pw->empty() ? std::string(*pw) : randomPassword();
    meeting.createdAtMs = clock_.nowMs();
    meeting.createParams = createParamsFor(request);
    meeting.createParams.set("moderatorPW", meeting.moderatorPw);
    if (!server.tag.empty()) meeting.createParams.set(kServerTagParam, server.tag);
    meeting.createBody = request.body;

    auto claimed = meetings_.claimMeeting(meeting);
    if (!claimed) return claimed.error();
    bool won = claimed->claimed;
    Server target = server;
    if (!won) {
      // Another request placed it first: follow it there (BBB answers duplicateWarning).
      auto owner = servers_.getServer(claimed->meeting.serverId);
      if (!owner) return owner.error();
      target = std::move(*owner);
    } else {
      (void)servers_.addLoad(server.id, reservationFor(server, config_.load));
    }
    QueryString params = won ? meeting.createParams : createParamsFor(request);
    if (!won && !target.tag.empty()) params.set(kServerTagParam, target.tag);
    auto answer =
        forward(target, "create", params, request.body, "Unable to create meeting on server.");
    if (!won) return answer;
    if (answer && answer->success) return answer;
    // BBB refused the create (bad parameters) or could not be reached: release the claim so no
    // mapping points at a meeting that does not exist.
    (void)meetings_.removeMeeting(meetingId, server.id);
    (void)servers_.addLoad(server.id, -reservationFor(server, config_.load));
    if (answer) return answer;
    // Transport failure: try the next best server.
    lastError = answer.error();
    failed.insert(server.id);
  }
  return lastError;
}

Result<std::string> MeetingRouter::joinUrl(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/true);
  if (!target) return target.error();
  return signedApiUrl(target->server, "join", joinParamsFor(request), signing_);
}

Result<UpstreamAnswer> MeetingRouter::end(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/false);
  if (!target) return target.error();
  QueryString q;
  q.append("meetingID", *id);
  if (auto pw = request.params.get("password")) q.append("password", *pw);
  auto answer = forward(target->server, "end", q, "", "Unable to access meeting on server.");
  // Forget the meeting once BBB has ended it (or does not know it); on a transport failure or
  // another refusal keep it, so a retry can still reach it.
  if (answer && (answer->success || answer->messageKey == "notFound")) {
    (void)meetings_.removeMeeting(*id, target->server.id);
  }
  return answer;
}

Status MeetingRouter::endMeeting(const std::string& meetingId) {
  ApiRequest request;
  request.call = "end";
  request.params.append("meetingID", meetingId);
  auto answer = end(request);
  if (!answer) return answer.error();
  return Status::Ok();
}

Result<std::optional<UpstreamAnswer>> MeetingRouter::isMeetingRunning(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/false);
  if (!target) {
    if (target.error().code == ErrorCode::kNotFound) return std::optional<UpstreamAnswer>();
    return target.error();
  }
  QueryString q;
  q.append("meetingID", *id);
  auto answer =
      forward(target->server, "isMeetingRunning", q, "", "Unable to access meeting on server.");
  if (!answer) return answer.error();
  return std::optional<UpstreamAnswer>(std::move(*answer));
}

Result<UpstreamAnswer> MeetingRouter::getMeetingInfo(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/false);
  if (!target) return target.error();
  QueryString q;
  q.append("meetingID", *id);
  return forward(target->server, "getMeetingInfo", q, "", "Unable to access meeting on server.");
}

Result<UpstreamAnswer> MeetingRouter::insertDocument(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/false);
  if (!target) return target.error();
  QueryString q;
  q.append("meetingID", *id);
  return forward(target->server, "insertDocument", q, request.body,
                 "Unable to insert document on server.");
}

Result<UpstreamAnswer> MeetingRouter::sendChatMessage(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  auto target = locate(*id, /*requireUsableServer=*/false);
  if (!target) return target.error();
  QueryString q = request.params;
  q.remove("checksum");
  return forward(target->server, "sendChatMessage", q, "", "Unable to access meeting on server.");
}

Result<std::vector<std::string>> MeetingRouter::getMeetings() {
  auto all = servers_.listServers();
  if (!all) return all.error();
  std::vector<std::string> urls;
  CallTimeouts timeouts{config_.bbb.connectTimeout, config_.bbb.responseTimeout};
  for (const auto& s : *all) {
    if (s.servesExistingMeetings()) urls.push_back(signedApiUrl(s, "getMeetings", {}, signing_));
  }
  std::vector<std::string> out;
  if (urls.empty()) return out;
  for (auto& poll : bbb_.pollMeetings(urls, timeouts)) {
    if (!poll) continue;  // one dead server never fails the call
    for (auto& m : poll->meetings) out.push_back(std::move(m.xml));
  }
  return out;
}

}  // namespace sb
