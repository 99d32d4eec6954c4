#include "core/meeting_router.h"

#include "core/recordings/recording_ready.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/balancing/placement.h"
#include "core/balancing/server_tag.h"
#include "core/bbb_url.h"
#include "core/load_calculator.h"
#include "core/meeting_elements.h"

namespace sb {
namespace {

constexpr int kMaxCreateAttempts = 3;  // servers tried when forwarding a create fails in transport
constexpr size_t kMaxMeetingIdChars = 256;  // bbb-web's bound on meetingID
// Claims per store write: a Redis script's keys and a PostgreSQL statement's rows. Concurrent
// creates are bounded by the worker threads, so this is rarely reached.
constexpr size_t kMaxClaimsPerWrite = 64;
constexpr const char* kServerTagParam = "meta_server-tag";
constexpr const char* kSizeHintParam = "meta_bbb-meeting-size-hint";
constexpr const char* kCreateFailed = "Unable to create meeting on server.";

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

// Whether BBB keeps a create's `meta_` parameter: bbb-web keeps a name only when it matches
// meta_[a-zA-Z][a-zA-Z0-9-]* (ParamsProcessorUtil.isMetaValid) and drops the others, while some
// servers echo any name unescaped into getMeetings' XML (meta_x[]=1 became <x[]>, which is not
// well-formed). Forwarding only what BBB keeps makes what the router sends and what it reads back
// agree.
bool isMetaKeptByBbb(std::string_view name) {
  constexpr std::string_view kMeta = "meta_";
  if (!name.starts_with(kMeta)) return true;  // not metadata
  std::string_view rest = name.substr(kMeta.size());
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (rest.empty() || !alpha(rest.front())) return false;
  return std::all_of(rest.begin(), rest.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

MeetingRouter::MeetingRouter(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb,
                             const Clock& clock, BalancingStrategy& strategy, const Config& config,
                             Metrics* metrics, MeetingsSnapshotStore* snapshots)
    : servers_(servers),
      meetings_(meetings),
      bbb_(bbb),
      clock_(clock),
      strategy_(strategy),
      config_(config),
      metrics_(metrics),
      snapshots_(snapshots),
      signing_(upstreamSigningAlgorithm(config.api)),
      joinCache_(clock, config.api.joinCacheTtl),
      placementView_(servers, clock, config.load, config.api.placementViewTtl),
      reservations_(servers, placementView_),
      claims_([this](std::vector<Meeting>& batch) { return meetings_.claimMeetings(batch); },
              kMaxClaimsPerWrite),
      callLimit_(config.bbb.serverCallLimit, clock),
      copies_(bbb, config, metrics) {
  if (snapshots_) changeMarker_.emplace(*snapshots_, clock_);
}

Result<std::string> MeetingRouter::requireMeetingId(const ApiRequest& request) const {
  auto id = request.params.get("meetingID");
  if (!id || id->empty()) return Error::of(ErrorCode::kMissingParamMeetingID);
  // BBB's own bounds, checked before any store sees the ID: a longer one cannot be a meeting on
  // a BBB server, and PostgreSQL's index refuses IDs of a few thousand bytes (a statement that
  // claims a batch of meetings would fail with it).
  for (unsigned char c : *id) {
    if (c < 0x20 || c == 0x7F) {
      return Error::of(ErrorCode::kValidationError, "Invalid meeting ID");
    }
  }
  if (utf8Length(*id) > kMaxMeetingIdChars) {
    return Error::of(ErrorCode::kValidationError,
                     "Meeting ID must be between 2 and 256 characters");
  }
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
  auto slot = callLimit_.tryAcquire(server.id);
  if (!slot) {
    if (slot.firstRefusal()) {
      spdlog::warn(
          "server {} ({}) stalled: {} calls wait on it, none answered for a second; "
          "further calls to it fail at once until it answers",
          server.id, serverHost(server.url), callLimit_.inFlight(server.id));
    }
    return Error::of(ErrorCode::kInternalError,
                     failureMessage.empty() ? "The server is busy." : failureMessage);
  }
  BbbCall c;
  c.url = signedApiUrl(server, call, params, signing_);
  c.body = body;
  c.contentType = "application/xml";
  c.timeouts = callTimeoutsFor(server, config_.bbb);
  auto reply = bbb_.call(c);
  if (!reply) return Error::of(ErrorCode::kInternalError, failureMessage);
  return UpstreamAnswer{std::move(reply->body), server.id, reply->success(), reply->messageKey,
                        std::move(reply->memoryHold)};
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
  q.removeIf([](const QueryParam& p) { return !isMetaKeptByBbb(p.name); });
  // Switchboard calls the recording-ready URL once it has imported the recording, and relays
  // the analytics callback signed with the create's own secret.
  CallbackRelaying relaying;
  relaying.secretId = request.context.secretId;
  relaying.origin = request.context.origin;
  relaying.tenant = request.context.tenant;
  if (!config_.api.secrets.empty()) relaying.relayKey = analyticsRelayKey(config_.api.secrets[0]);
  keepCallbackUrls(q, relaying);
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

int MeetingRouter::sizeHintOf(const QueryString& params) {
  auto hint = params.get(kSizeHintParam);
  if (!hint) return 0;
  char* end = nullptr;
  std::string text(*hint);
  long n = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || n < 0) return 0;
  return static_cast<int>(std::min(n, 100000L));
}

MeetingRouter::Placement MeetingRouter::placementFor(const ApiRequest& request,
                                                     const std::string& meetingId) const {
  Placement p;
  p.meetingId = meetingId;
  p.params = createParamsFor(request);
  auto pw = request.params.get("moderatorPW");
  p.moderatorPw = pw && !pw->empty() ? std::string(*pw) : randomPassword();
  // Generated when absent, so Switchboard can end the meeting later (panic, move).
  p.params.set("moderatorPW", p.moderatorPw);
  p.body = request.body;
  p.tagRequest = resolveServerTag(request);
  p.sizeHint = sizeHintOf(request.params);
  return p;
}

MeetingRouter::Placement MeetingRouter::placementOf(const Meeting& m) {
  Placement p;
  p.meetingId = m.id;
  p.params = m.createParams;
  p.body = m.createBody;
  p.tagRequest = m.serverTagRequest;
  p.moderatorPw = m.moderatorPw;
  p.sizeHint = m.sizeHint;
  return p;
}

Meeting MeetingRouter::meetingFor(const Placement& p, const Server& server) const {
  Meeting m;
  m.id = p.meetingId;
  m.serverId = server.id;
  m.moderatorPw = p.moderatorPw;
  m.createdAtMs = clock_.nowMs();
  m.createParams = p.params;
  m.createBody = p.body;
  m.serverTagRequest = p.tagRequest;
  m.sizeHint = p.sizeHint;
  return m;
}

Result<UpstreamAnswer> MeetingRouter::createOn(const Server& server, const Placement& p) {
  QueryString params = p.params;
  if (!server.tag.empty()) params.set(kServerTagParam, server.tag);
  return forward(server, "create", params, p.body, kCreateFailed);
}

void MeetingRouter::release(const Placement& p, const PlacementView::Pick& pick) {
  (void)meetings_.removeMeeting(p.meetingId, pick.server.id);
  if (p.previous) {
    Meeting orphan = *p.previous;
    orphan.orphaned = true;
    (void)meetings_.claimMeeting(orphan);  // only if nothing else claimed it meanwhile
  }
  reservations_.release(pick);  // in the view at once, in the store after its reservation
}

Result<UpstreamAnswer> MeetingRouter::create(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  // Claim first: a new meeting (the common case, thousands at the top of the hour) costs no
  // lookup; a create of a known meeting loses the claim and learns its owner from it.
  const Placement p = placementFor(request, *id);
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    auto placed = placeAndCreate(p);
    std::optional<Meeting> owner;
    if (placed) {
      if (placed->answer) return std::move(*placed->answer);
      owner = std::move(placed->owner);
    } else {
      // No server takes new meetings (all cordoned, full, offline): a meeting that already runs
      // is still created again where it runs.
      auto found = meetings_.findMeeting(*id);
      if (!found || !found->has_value() || (*found)->orphaned) return placed.error();
      owner = std::move(**found);
    }
    auto again = createExisting(*owner, request);
    if (!again) return again.error();
    if (*again) return std::move(**again);
    // Its server no longer serves it: forgotten, placed anew on the next attempt.
  }
  return Error::of(ErrorCode::kInternalError, kCreateFailed);
}

Result<std::optional<UpstreamAnswer>> MeetingRouter::createExisting(const Meeting& m,
                                                                    const ApiRequest& request) {
  auto server = servers_.getServer(m.serverId);
  // A store error says nothing about the server: placing the meeting anew could split it.
  if (!server && server.error().code != ErrorCode::kNotFound) return server.error();
  if (server && server->servesExistingMeetings()) {
    bool keep = true;
    if (server->state == AdminState::kCordoned) {
      // A cordoned server keeps meetings that still run; one that ended is placed anew. One that
      // does not answer may still run it: the create fails, as it would on any server.
      QueryString q;
      q.append("meetingID", m.id);
      auto running = forward(*server, "isMeetingRunning", q, "", kCreateFailed);
      if (!running) return running.error();
      keep = running->body.find("<running>true</running>") != std::string::npos;
    }
    if (keep) {
      // Idempotent create: BBB answers duplicateWarning (or idNotUnique) itself.
      QueryString params = repeatedCreateParams(request, m);
      if (!server->tag.empty()) params.set(kServerTagParam, server->tag);
      auto answer = forward(*server, "create", params, request.body, kCreateFailed);
      if (!answer) return answer.error();
      return std::optional<UpstreamAnswer>(std::move(*answer));
    }
  }
  // Its server is gone, offline, disabled or (cordoned and the meeting ended): place anew, once
  // the copy there is ended if that server still answers (else the poller ends it later).
  if (server) (void)copies_.end(*server, m.id, m.moderatorPw);
  if (auto s = meetings_.removeMeeting(m.id, m.serverId); !s) return s.error();
  joinCache_.forget(m.id);
  if (metrics_ && !(server && server->servesExistingMeetings())) metrics_->countFailover();
  return std::optional<UpstreamAnswer>();
}

QueryString MeetingRouter::repeatedCreateParams(const ApiRequest& request,
                                                const Meeting& existing) const {
  QueryString params = createParamsFor(request);
  // The first create may have sent a generated moderatorPW. Send the same one, so BBB answers
  // duplicateWarning rather than idNotUnique, whichever of two racing creates reaches it first.
  if (!params.has("moderatorPW")) params.set("moderatorPW", existing.moderatorPw);
  return params;
}

Result<MeetingStore::Claim> MeetingRouter::claim(Meeting meeting) {
  if (meetings_.prefersClaimBatches()) return claims_.run(std::move(meeting));
  return meetings_.claimMeeting(meeting);
}

Result<MeetingRouter::Placed> MeetingRouter::placeAndCreate(const Placement& p) {
  ServerTagRequest tag = ServerTagRequest::parse(p.tagRequest);
  std::set<std::string> failed;  // servers that failed in transport during this placement
  Error lastError = Error::of(ErrorCode::kNoServerAvailable);
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    auto pick = placementView_.choose(tag, strategy_, p.meetingId, p.sizeHint, failed);
    if (!pick) return attempt == 0 ? pick.error() : lastError;
    const Server& server = pick->server;
    auto claimed = claim(meetingFor(p, server));
    if (!claimed || !claimed->claimed) placementView_.cancel(*pick);
    if (!claimed) return claimed.error();
    if (!claimed->claimed) return Placed{std::nullopt, std::move(claimed->meeting)};
    reservations_.write(*pick);
    auto answer = createOn(server, p);
    if (answer && answer->success) {
      markChanged(server.id);
      if (metrics_) metrics_->countPlacement(strategy_.name());
      spdlog::debug("meeting {} placed on {} ({})", p.meetingId, server.id, serverHost(server.url));
      return Placed{std::move(*answer), std::nullopt};
    }
    // BBB refused the create (bad parameters) or could not be reached: release the claim so no
    // mapping points at a meeting that does not exist.
    release(p, *pick);
    if (answer) return Placed{std::move(*answer), std::nullopt};
    lastError = answer.error();
    failed.insert(server.id);
    spdlog::warn(
        "create of {} on {} ({}) not answered (unreachable or stalled); trying another "
        "server",
        p.meetingId, server.id, serverHost(server.url));
  }
  return lastError;
}

JoinTarget MeetingRouter::signedJoin(const Server& server, const ApiRequest& request) const {
  return JoinTarget{signedApiUrl(server, "join", joinParamsFor(request), signing_), server.id};
}

std::optional<MeetingRouter::CachedJoin> MeetingRouter::cachedJoinUrl(const ApiRequest& request) {
  auto id = request.params.get("meetingID");
  if (!id || id->empty()) return std::nullopt;
  bool refreshDue = false;
  if (auto cached = joinCache_.find(*id, &refreshDue); cached && cached->servesExistingMeetings()) {
    return CachedJoin{signedJoin(*cached, request), refreshDue};
  }
  return std::nullopt;
}

Result<std::shared_ptr<const Server>> MeetingRouter::usableServer(std::string_view id) {
  auto server = servers_.getServer(id);
  if (!server) {
    if (server.error().code == ErrorCode::kNotFound) return std::shared_ptr<const Server>();
    return server.error();
  }
  if (!server->servesExistingMeetings()) return std::shared_ptr<const Server>();
  return std::make_shared<const Server>(std::move(*server));
}

Result<std::shared_ptr<const Server>> MeetingRouter::readJoinServer(std::string_view meetingId) {
  const int64_t readAtMs = clock_.nowMs();  // the cache entry's TTL counts from here
  auto found = meetings_.findMeeting(meetingId);
  if (!found) return found.error();
  if (found->has_value() && !(*found)->orphaned) {
    // A store error reading the server is answered as such. It must not count as an unusable
    // server: the front would fail the meeting over, away from a server that may be running it.
    auto server = usableServer((*found)->serverId);
    if (!server) return server.error();
    if (*server) {
      joinCache_.put(meetingId, *server, readAtMs);
      return *server;
    }
  }
  joinCache_.forget(meetingId);
  return Error::of(found->has_value() ? ErrorCode::kServerUnavailable : ErrorCode::kNotFound);
}

void MeetingRouter::refreshJoinCache() {
  const std::vector<std::string> ids = joinCache_.takeRefreshes();
  if (ids.empty()) return;
  const int64_t readAtMs = clock_.nowMs();  // every refreshed entry's TTL counts from here
  auto found = meetings_.findMeetings(ids);
  if (!found) return;
  // Each server is read once per batch (a burst of refreshes spans few servers), and its
  // meetings' entries share that one copy.
  std::map<std::string, Result<std::shared_ptr<const Server>>, std::less<>> servers;
  auto serverOf = [&](const std::string& id) -> const Result<std::shared_ptr<const Server>>& {
    auto at = servers.find(id);
    if (at == servers.end()) at = servers.emplace(id, usableServer(id)).first;
    return at->second;
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::optional<Meeting>& m = (*found)[i];
    if (!m || m->orphaned) {
      joinCache_.forget(ids[i]);
      continue;
    }
    const auto& server = serverOf(m->serverId);
    if (!server) continue;  // a store error: the entry expires, its next join reads the store
    if (*server) {
      joinCache_.put(ids[i], *server, readAtMs);
    } else {
      joinCache_.forget(ids[i]);  // its next join reads the store itself and fails over
    }
  }
}

Result<JoinTarget> MeetingRouter::joinUrl(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  if (auto cached = joinCache_.find(*id); cached && cached->servesExistingMeetings()) {
    return signedJoin(*cached, request);
  }
  auto server = readJoinServer(*id);
  if (!server) {
    const ErrorCode code = server.error().code;
    if (code == ErrorCode::kNotFound || code == ErrorCode::kStoreUnavailable) {
      if (auto seen = runningOn(*id)) {
        spdlog::warn("join of meeting {} routed to {} from the poll snapshots ({})", *id, seen->id,
                     code == ErrorCode::kNotFound ? "no store knows it" : "the stores fail");
        return signedJoin(*seen, request);
      }
    }
    return server.error();
  }
  return signedJoin(**server, request);
}

std::optional<Server> MeetingRouter::runningOn(std::string_view meetingId) {
  if (!snapshots_) return std::nullopt;
  auto listed = servers_.listServers();
  std::vector<Server> pool = listed ? std::move(*listed) : placementView_.lastRead();
  std::vector<std::string> ids;
  for (const auto& s : pool) {
    if (s.servesExistingMeetings()) ids.push_back(s.id);
  }
  if (ids.empty()) return std::nullopt;
  auto versions = snapshots_->versions(ids);
  if (!versions) return std::nullopt;
  // Only snapshots taken since the last change routed to their server (an end through
  // Switchboard must not send joins to the server that just ended the meeting), and fresh ones.
  std::vector<std::string> usable;
  std::string key;
  const int64_t now = clock_.nowMs();
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& v = (*versions)[i];
    if (!v || !v->usable(now, 3 * config_.poller.interval.count())) continue;
    usable.push_back(ids[i]);
    key += ids[i] + ':' + std::to_string(v->takenAtMs) + ';';
  }
  if (usable.empty()) return std::nullopt;
  ids = std::move(usable);
  std::string serverId;
  {
    std::lock_guard lock(runningMu_);
    if (key != runningKey_) {
      auto snaps = snapshots_->snapshots(ids);
      if (!snaps) return std::nullopt;
      running_.clear();
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!(*snaps)[i]) continue;
        forEachMeetingElement((*snaps)[i]->meetingsXml, [&](std::string_view element) {
          running_.emplace(meetingIdOf(element), ids[i]);
        });
      }
      runningKey_ = std::move(key);
    }
    auto at = running_.find(std::string(meetingId));
    if (at == running_.end()) return std::nullopt;
    serverId = at->second;
  }
  for (auto& s : pool) {
    if (s.id == serverId) return std::move(s);
  }
  return std::nullopt;
}

Result<JoinTarget> MeetingRouter::failoverJoinUrl(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  joinCache_.forget(*id);
  auto found = meetings_.findMeeting(*id);
  if (!found) return found.error();
  if (!found->has_value()) return Error::of(ErrorCode::kNotFound);
  Meeting meeting = std::move(**found);
  auto old = servers_.getServer(meeting.serverId);
  if (!old && old.error().code != ErrorCode::kNotFound) return old.error();
  if (!meeting.orphaned) {
    if (old && old->servesExistingMeetings()) return signedJoin(*old, request);
    if (meeting.createParams.empty()) return Error::of(ErrorCode::kServerUnavailable);
  } else if (old && old->servesExistingMeetings() && copies_.runs(*old, meeting.id)) {
    // Marked for failover while its server was out of reach, and that server answers again and
    // still runs it (the poller would keep it there at its next round): join it where it runs
    // instead of ending it there and sending everybody to a new copy.
    Meeting back = meeting;
    back.orphaned = false;
    auto claimed = meetings_.claimMeeting(back);
    if (!claimed) return claimed.error();
    if (claimed->claimed) return signedJoin(*old, request);
    if (!claimed->meeting.orphaned) {
      auto owner = servers_.getServer(claimed->meeting.serverId);
      if (!owner) return owner.error();
      return signedJoin(*owner, request);  // a concurrent failover placed it first
    }
  }
  if (meeting.createParams.empty()) return Error::of(ErrorCode::kServerUnavailable);
  // One meeting, one place: end the copy on the old server first when it still answers (a
  // disabled or panicked server, or one that answers again); when it does not, the poller ends it
  // as soon as it does (core/meeting_copies.h).
  if (old) (void)copies_.end(*old, meeting.id, meeting.moderatorPw);
  // Release it from its unusable server (only if nobody moved it meanwhile).
  if (!meeting.orphaned) (void)meetings_.removeMeeting(meeting.id, meeting.serverId);
  Placement placement = placementOf(meeting);
  placement.previous = meeting;
  auto placed = placeAndCreate(placement);
  if (!placed) {
    // Nothing could take it (every server refused or did not answer): keep it, orphaned, for the
    // next join, which tries again.
    Meeting orphan = meeting;
    orphan.orphaned = true;
    (void)meetings_.claimMeeting(orphan);
    return placed.error();
  }
  if (placed->owner) {
    // A concurrent failover (or create) placed it first: join it there.
    auto owner = servers_.getServer(placed->owner->serverId);
    if (!owner) return owner.error();
    return signedJoin(*owner, request);
  }
  if (!placed->answer->success) {
    return Error::of(ErrorCode::kInternalError,
                     "Unable to re-create the meeting on another server.");
  }
  if (metrics_) metrics_->countFailover();
  auto server = servers_.getServer(placed->answer->serverId);
  if (!server) return server.error();
  spdlog::warn("failover: meeting {} re-created on {} ({}) for a join (was on {})", meeting.id,
               server->id, serverHost(server->url), meeting.serverId);
  return signedJoin(*server, request);
}

Result<Meeting> MeetingRouter::moveMeeting(const std::string& meetingId,
                                           const std::string& serverId) {
  auto found = meetings_.findMeeting(meetingId);
  if (!found) return found.error();
  if (!found->has_value()) return Error::of(ErrorCode::kNotFound);
  Meeting meeting = std::move(**found);
  auto target = servers_.getServer(serverId);
  if (!target) return target.error();
  if (!target->availableForNewMeetings()) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "The target server must be enabled and online to take a meeting.");
  }
  if (meeting.serverId == serverId && !meeting.orphaned) return meeting;
  if (meeting.createParams.empty()) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "No create parameters are stored for this meeting; it cannot be moved.");
  }
  // Best effort: when the old server does not answer, the poller ends its copy once it does.
  if (auto old = servers_.getServer(meeting.serverId); old) {
    (void)copies_.end(*old, meeting.id, meeting.moderatorPw);
  }
  joinCache_.forget(meeting.id);
  const int64_t storeChangedMs = clock_.nowMs();
  (void)meetings_.removeMeeting(meeting.id, meeting.serverId);
  Placement p = placementOf(meeting);
  auto claimed = meetings_.claimMeeting(meetingFor(p, *target));
  if (!claimed) return claimed.error();
  if (!claimed->claimed) {
    return Error::of(ErrorCode::kAlreadyExists,
                     "The meeting was re-created elsewhere meanwhile; try again.");
  }
  // The operator chose the server; the view learns of the reservation from the store.
  PlacementView::Pick pick{*target, reservationFor(*target, config_.load, p.sizeHint)};
  (void)servers_.reserve(target->id, pick.load, 1);
  placementView_.invalidate();
  auto answer = createOn(*target, p);
  if (!answer || !answer->success) {
    release(p, pick);
    // Keep it known, orphaned, so its next join re-creates it on a healthy server.
    Meeting orphan = meeting;
    orphan.orphaned = true;
    (void)meetings_.claimMeeting(orphan);
    return answer ? Error::of(ErrorCode::kInternalError, "The target server refused the create.")
                  : answer.error();
  }
  // Acknowledge only once every router's join cache has forgotten the old server.
  if (int64_t wait = storeChangedMs + joinCache_.ttl().count() - clock_.nowMs(); wait > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  joinCache_.forget(meeting.id);
  markChanged(meeting.serverId);
  markChanged(target->id);
  spdlog::info("meeting {} moved from {} to {} ({})", meeting.id, meeting.serverId, target->id,
               serverHost(target->url));
  auto moved = meetings_.findMeeting(meetingId);
  if (!moved || !moved->has_value()) return Error::of(ErrorCode::kNotFound);
  return std::move(**moved);
}

Result<UpstreamAnswer> MeetingRouter::end(const ApiRequest& request) {
  auto id = requireMeetingId(request);
  if (!id) return id.error();
  if (auto found = meetings_.findMeeting(*id); found && found->has_value() && (*found)->orphaned) {
    // Marked for failover and not re-created since: end it where it may still run (its server
    // may answer again, or be disabled but up), then forget it.
    const Meeting& m = **found;
    if (auto server = servers_.getServer(m.serverId); server) {
      (void)copies_.end(*server, m.id, m.moderatorPw);
    }
    (void)meetings_.removeMeeting(*id, m.serverId);
    (void)meetings_.rememberEnded(*id, clock_.nowMs(), kEndedMemory);
    return Error::of(ErrorCode::kNotFound);
  }
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
    // A copy left on a server that did not answer a move or failover is ended, not adopted.
    (void)meetings_.rememberEnded(*id, clock_.nowMs(), kEndedMemory);
    joinCache_.forget(*id);
    markChanged(target->server.id);
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

void MeetingRouter::markChanged(const std::string& serverId) {
  if (changeMarker_) changeMarker_->mark(serverId);
}

Result<std::shared_ptr<const std::string>> MeetingRouter::getMeetings() {
  auto all = servers_.listServers();
  if (!all) return all.error();
  std::vector<const Server*> serving;
  std::vector<std::string> ids;
  for (const auto& s : *all) {
    if (!s.servesExistingMeetings()) continue;
    serving.push_back(&s);
    ids.push_back(s.id);
  }
  // Which servers' snapshots are usable, from their versions only; the listing of the last call
  // is reused when it was built from exactly these snapshots (the usual case between two polls).
  std::vector<bool> usable(serving.size(), false);
  std::string key;
  const int64_t now = clock_.nowMs();
  const int64_t maxAgeMs = 3 * config_.poller.interval.count();
  if (auto versions = snapshots_ ? snapshots_->versions(ids)
                                 : Result<std::vector<std::optional<SnapshotVersion>>>(
                                       Error::of(ErrorCode::kStoreUnavailable));
      versions) {
    for (size_t i = 0; i < serving.size(); ++i) {
      const auto& v = (*versions)[i];
      usable[i] = v && v->usable(now, maxAgeMs);
      key += ids[i] + ':' + (usable[i] ? std::to_string(v->takenAtMs) : "live") + ';';
    }
  }
  bool allSnapshots = std::all_of(usable.begin(), usable.end(), [](bool u) { return u; });
  if (allSnapshots) {
    std::lock_guard lock(listingMu_);
    if (listing_ && listingKey_ == key) return listing_;
  }

  // Per server, in list order: its snapshot, or its live answer.
  std::vector<std::string> perServer(serving.size());
  std::vector<size_t> live;
  std::vector<std::string> snapshotIds;
  std::vector<size_t> snapshotAt;
  for (size_t i = 0; i < serving.size(); ++i) {
    if (usable[i]) {
      snapshotIds.push_back(ids[i]);
      snapshotAt.push_back(i);
    } else {
      live.push_back(i);
    }
  }
  if (!snapshotIds.empty()) {
    auto snaps = snapshots_->snapshots(snapshotIds);
    for (size_t k = 0; k < snapshotIds.size(); ++k) {
      if (snaps && (*snaps)[k]) {
        perServer[snapshotAt[k]] = std::move((*snaps)[k]->meetingsXml);
      } else {
        live.push_back(snapshotAt[k]);  // gone meanwhile: ask it
        allSnapshots = false;
      }
    }
  }
  if (!live.empty()) {
    std::vector<std::string> urls;
    for (size_t i : live) urls.push_back(signedApiUrl(*serving[i], "getMeetings", {}, signing_));
    CallTimeouts timeouts{config_.bbb.connectTimeout, config_.bbb.responseTimeout};
    auto polls = bbb_.pollMeetings(urls, timeouts);
    for (size_t k = 0; k < live.size(); ++k) {
      if (!polls[k]) continue;  // one dead server never fails the call
      for (const auto& m : polls[k]->meetings) perServer[live[k]] += m.xml;
    }
  }
  size_t total = 0;
  for (const auto& xml : perServer) total += xml.size();
  std::string meetings;
  meetings.reserve(total);
  // A meetingID is listed once. The poller's snapshots leave out copies that run where their
  // meeting does not live, but a server asked live lists them until the poller has ended them:
  // the first in server-id order is kept.
  std::unordered_set<std::string> listed;
  for (auto& xml : perServer) {
    size_t copied = 0;  // what precedes an element that is left out is kept as it came
    forEachMeetingElement(xml, [&](std::string_view element) {
      std::string_view id = meetingIdOf(element);
      if (id.empty() || listed.emplace(id).second) return;
      const size_t at = static_cast<size_t>(element.data() - xml.data());
      meetings.append(xml, copied, at - copied);
      copied = at + element.size();
    });
    meetings.append(xml, copied);
    std::string().swap(xml);  // freed as it goes: the peak stays near two copies, not three
  }
  auto listing = std::make_shared<const std::string>(renderListing_ ? renderListing_(meetings)
                                                                    : std::move(meetings));
  if (allSnapshots) {
    std::lock_guard lock(listingMu_);
    listingKey_ = std::move(key);
    listing_ = listing;
  }
  return listing;
}

}  // namespace sb
