#include "router/bbb_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <new>
#include <optional>
#include <set>

#include "core/clock.h"
#include "core/recordings/recording_ready.h"
#include "core/tenants/tenant_scope.h"
#include "router/content_encoding.h"
#include "router/multipart.h"
#include "router/owed_reply.h"
#include "router/xml_render.h"

namespace sb {
namespace {

std::string lowerMediaType(const std::string& contentType) {
  std::string t = contentType.substr(0, contentType.find(';'));
  std::string out;
  for (char c : t) {
    if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool isXml(const std::string& mediaType) {
  return mediaType == "application/xml" || mediaType == "text/xml" ||
         mediaType == "application/x-xml";
}

bool isForm(const std::string& mediaType) {
  return mediaType == "application/x-www-form-urlencoded" || mediaType.empty();
}

// The checksum value in a raw query ("" when absent), without decoding: checksums are hex.
std::string findChecksum(std::string_view raw) {
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view piece = raw.substr(pos, amp - pos);
    if (piece.starts_with("checksum=")) return std::string(piece.substr(9));
    pos = amp + 1;
  }
  return {};
}

}  // namespace

HttpResponse xmlResponse(std::string body) {
  HttpResponse r;
  r.body = std::move(body);
  return r;
}

BbbApi::BbbApi(MeetingRouter& router, const ApiConfig& config, WorkerPool& workers,
               RecordingCalls recordings, TenantCalls tenants)
    : router_(router),
      recordings_(config.recordingDisabled ? nullptr : recordings.library),
      protection_(recordings.protection),
      textTracks_(config.recordingDisabled ? nullptr : recordings.textTracks),
      callbacks_(recordings.callbacks),
      relayKey_(config.secrets.empty() ? "" : analyticsRelayKey(config.secrets.front())),
      config_(config),
      workers_(workers),
      verifier_(config.secrets, config.checksumAlgorithms),
      tenants_(tenants.directory),
      limits_(tenants.limits),
      // Well inside the last quarter of the TTL in which entries are due.
      joinCacheRefresher_(router, std::min<std::chrono::milliseconds>(
                                      config.joinCacheTtl / 20, std::chrono::milliseconds(50))) {
  // The router keeps getMeetings' last answer whole, envelope included, so it is sent as is.
  router_.renderListingsWith([](std::string_view meetings) { return renderMeetings(meetings); });
  if (config.getMeetingsConcurrency > 0) {
    listingSends_ = std::make_shared<ListingTurns>(config.getMeetingsConcurrency);
  }
}

BbbApi::Signing BbbApi::signingFor(const HttpRequest& request, std::string_view pathTenant) const {
  if (!tenants_) return pathTenant.empty() ? Signing{&verifier_, nullptr} : Signing{};
  auto tenant = pathTenant.empty() ? tenants_->byHost(request.host) : tenants_->byName(pathTenant);
  if (!tenant) return {};
  return Signing{&tenant->verifier, tenant};
}

Result<ApiRequest> BbbApi::admit(const HttpRequest& request, const Call& spec,
                                 std::string_view pathTenant) const {
  const std::string call(spec.name);
  bool post = request.method == "POST";
  // HEAD is answered as GET (BBB and Scalelite do); the HTTP front sends it without a body.
  bool get = request.method == "GET" || request.method == "HEAD";
  if (!(get && spec.get) && !(post && spec.post)) {
    return Error::of(ErrorCode::kUnsupportedRequest);
  }

  // Content type before checksum, as Scalelite orders its checks.
  std::string media = lowerMediaType(request.contentType);
  bool xmlBody = false;
  bool formBody = false;
  bool multipartBody = false;
  if (post && !request.body.empty()) {
    if (spec.body == Call::Body::kMultipart && multipartBoundary(request.contentType)) {
      multipartBody = true;
    } else if (spec.body == Call::Body::kXml) {
      if (!isXml(media)) return Error::of(ErrorCode::kUnsupportedContentType);
      xmlBody = true;
    } else if (spec.body == Call::Body::kXmlOrForm && isXml(media)) {
      xmlBody = true;
    } else if (isForm(media)) {
      formBody = true;
    } else {
      return Error::of(ErrorCode::kUnsupportedContentType);
    }
  }

  // A checksum in the query is verified before the body is decoded; one in a form body can only
  // be read by decoding it (such bodies are small: see querySigned).
  const Signing signing = signingFor(request, pathTenant);
  if (!signing.verifier) return Error::of(ErrorCode::kChecksumError);
  const ChecksumVerifier& verifier = *signing.verifier;
  std::string checksum = findChecksum(request.rawQuery);
  bool signedQuery = !checksum.empty();
  const std::string* signer = nullptr;
  if (signedQuery) {
    signer = verifier.signer(call, removeChecksumParam(request.rawQuery, checksum), checksum);
    if (!signer) return Error::of(ErrorCode::kChecksumError);
  }
  QueryString form;
  if (formBody) {
    auto parsed = QueryString::parse(request.body);
    if (!parsed) return parsed.error();
    form = std::move(*parsed);
  }
  if (!signedQuery) {
    checksum = std::string(form.get("checksum").value_or(""));
    if (!checksum.empty()) signer = verifier.signer(call, request.rawQuery, checksum);
    if (!signer) return Error::of(ErrorCode::kChecksumError);
  }

  auto query = QueryString::parse(request.rawQuery);
  if (!query) return query.error();
  ApiRequest api;
  api.call = call;
  api.context.secretId = verifier.idOf(signer);
  api.context.algorithm = algorithmForChecksumLength(checksum.size());
  api.params = std::move(*query);
  for (const auto& p : form.params()) api.params.append(p.name, p.value);
  api.params.remove("checksum");
  if (xmlBody) {
    api.body = request.body;
    api.contentType = "application/xml";
  } else if (multipartBody) {
    api.body = request.body;
    api.contentType = request.contentType;
  }
  if (signing.tenant) {
    if (auto scoped = scopeToTenant(api, signing.tenant->tenant); !scoped.ok()) {
      return scoped.error();
    }
  }
  return api;
}

bool BbbApi::querySigned(const HttpRequest& request, const std::string& call,
                         std::string_view pathTenant) const {
  if (call == "analytics_callback") {
    auto query = QueryString::parse(request.rawQuery);
    return query && !relayKey_.empty() &&
           readAnalyticsRelayToken(query->get("target").value_or(""), relayKey_).has_value();
  }
  const Signing signing = signingFor(request, pathTenant);
  std::string checksum = findChecksum(request.rawQuery);
  return signing.verifier && !checksum.empty() &&
         signing.verifier->verify(call, removeChecksumParam(request.rawQuery, checksum), checksum);
}

void BbbApi::handle(const HttpRequest& request, const std::string& call, const Reply& reply,
                    std::string_view pathTenant) {
  if (call.empty()) {
    if (request.method != "GET" && request.method != "POST" && request.method != "HEAD") {
      reply(noted(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)), "api", ""));
      return;
    }
    reply(noted(xmlResponse(renderVersion(config_.buildNumber)), "api", "SUCCESS"));
    return;
  }
  if (call == "analytics_callback") {
    analyticsCallback(request, reply);
    return;
  }
  const Call* spec = findCall(call);
  if (!spec) {
    reply(noted(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)), "unknown", ""));
    return;
  }
  if (call == "getMeetings" && config_.getMeetingsDisabled) {
    reply(noted(xmlResponse(renderMeetings("")), call, "SUCCESS(disabled)"));
    return;
  }
  if (call == "getRecordings" && !recordings_) {  // RECORDING_DISABLED: Scalelite's answer
    reply(noted(xmlResponse(renderRecordings({}, {}, false)), call, "SUCCESS(disabled)"));
    return;
  }
  auto api = admit(request, *spec, pathTenant);
  if (!api) {
    reply(noted(spec->answer == Call::Answer::kJson ? jsonErrorResponse(api.error())
                                                    : errorResponse(api.error()),
                call, ""));
    return;
  }
  CallContext context;
  context.acceptsGzip = acceptsGzip(request.acceptEncoding);
  context.origin = publicOrigin(request, config_.urlHost);
  api->context.origin = context.origin;
  // Owed: whatever happens to the task that holds it (an exception in a use-case, a store or
  // the BBB client), the client gets one answer, BBB's FAILED envelope at worst.
  const Reply owed =
      owedReply(reply, [call, json = spec->answer == Call::Answer::kJson,
                        meetingId = std::string(api->params.get("meetingID").value_or(""))] {
        const Error failed =
            Error::of(ErrorCode::kInternalError, "The router could not complete this call.");
        HttpResponse r = json ? jsonErrorResponse(failed) : errorResponse(failed);
        r.access.call = call;
        r.access.meetingId = meetingId;
        r.access.result = "internalError(exception)";
        return r;
      });
  (this->*spec->handler)(std::move(*api), context, owed);
}

namespace {

// How long a getMeetings caller waits for a turn: past it (turns held by slow readers), it
// answers anyway rather than hang.
constexpr auto kListingTurnWait = std::chrono::seconds(5);

// A turn to send getMeetings' answer: taken (waiting at most kListingTurnWait) when built, given
// back once the answer has left the process or could not (HttpResponse::onSent), and at the
// latest when the last copy of the answer is gone. Shares the turns, which a send still under way
// when the API is destroyed (shutdown) may give back after it.
class ListingTurn {
 public:
  explicit ListingTurn(std::shared_ptr<BbbApi::ListingTurns> turns) : turns_(std::move(turns)) {
    taken_ = turns_->try_acquire_for(kListingTurnWait);
  }
  ~ListingTurn() { end(); }
  ListingTurn(const ListingTurn&) = delete;
  ListingTurn& operator=(const ListingTurn&) = delete;
  void end() {
    if (taken_ && !ended_.exchange(true)) turns_->release();
  }

 private:
  std::shared_ptr<BbbApi::ListingTurns> turns_;
  bool taken_ = false;
  std::atomic<bool> ended_{false};
};

}  // namespace

void BbbApi::sendListing(HttpResponse r, bool gzip, const Reply& reply) {
  HttpResponse answer = encodedListing(std::move(r), gzip);
  if (listingSends_) {
    // The HTTP layer holds copies of each answer until the client has read it: a few answers
    // at a time, the other callers wait here on their worker (64 callers of a 9 MB listing held
    // ~740 MB at once).
    auto turn = std::make_shared<ListingTurn>(listingSends_);
    answer.onSent = [turn] { turn->end(); };
  }
  reply(std::move(answer));
}

HttpResponse BbbApi::encodedListing(HttpResponse r, bool gzip) {
  r.variesByEncoding = true;
  if (!gzip || !r.sharedBody || r.sharedBody->size() < kGzipMinBytes) return r;
  // The router hands out the same listing until a poll round or a change, so each listing is
  // compressed once: its first caller compresses (outside the lock), the others with the same
  // listing wait for that. A listing answered live is new on each call and compressed by it.
  std::optional<std::promise<std::shared_ptr<const std::string>>> mine;
  std::shared_future<std::shared_ptr<const std::string>> packed;
  {
    std::lock_guard lock(gzipMu_);
    if (gzipSource_ != r.sharedBody) {
      mine.emplace();
      gzipSource_ = r.sharedBody;
      gzipped_ = mine->get_future().share();
    }
    packed = gzipped_;
  }
  if (mine) {
    std::shared_ptr<const std::string> out;  // null: zlib or memory failed, plain text then
    try {
      if (auto gz = gzipCompress(*r.sharedBody)) {
        out = std::make_shared<const std::string>(std::move(*gz));
      }
    } catch (const std::bad_alloc&) {
    }
    mine->set_value(std::move(out));
  }
  if (auto body = packed.get()) {
    r.sharedBody = std::move(body);
    r.contentEncoding = "gzip";
  }
  return r;
}

HttpResponse errorResponse(const Error& error) {
  HttpResponse r = xmlResponse(renderError(error));
  r.access.result = std::string(messageKey(error.code));
  r.access.storeError = error.code == ErrorCode::kStoreUnavailable;
  return r;
}

HttpResponse jsonResponse(const nlohmann::json& response) {
  HttpResponse r;
  r.contentType = "application/json";
  r.body = nlohmann::json{{"response", response}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse jsonErrorResponse(const Error& error) {
  const std::string key(messageKey(error.code));
  HttpResponse r =
      jsonResponse({{"returncode", "FAILED"},
                    {"messageKey", key},
                    {"message", error.message.empty() ? std::string(defaultMessage(error.code))
                                                      : error.message}});
  r.access.result = key;
  r.access.storeError = error.code == ErrorCode::kStoreUnavailable;
  return r;
}

namespace {

// `r` with its access note: call, meeting, server, result (an empty result keeps r's).
HttpResponse notedFor(HttpResponse r, const ApiRequest& a, std::string result, std::string server) {
  r.access.call = a.call;
  r.access.tenant = a.context.tenant;
  r.access.meetingId = std::string(a.params.get("meetingID").value_or(""));
  r.access.serverId = std::move(server);
  if (!result.empty()) r.access.result = std::move(result);
  return r;
}

// A BBB server's answer passed on (a tenant's meeting IDs given back unscoped), or the error that
// kept it from coming.
HttpResponse upstream(const ApiRequest& a, const Result<UpstreamAnswer>& r) {
  if (!r) return notedFor(errorResponse(r.error()), a, "", "");
  return notedFor(xmlResponse(unscopeAnswer(a.context.tenant, r->body)), a,
                  r->success ? "SUCCESS" : "FAILED(upstream)", r->serverId);
}

// Every worker waits (on slow servers) and the queue holds its bound: refused at once.
HttpResponse busy(const ApiRequest& a) {
  return notedFor(
      errorResponse(Error::of(ErrorCode::kInternalError, "The router is busy; try again.")), a,
      "internalError(busy)", "");
}

}  // namespace

const BbbApi::Call* BbbApi::findCall(std::string_view name) {
  // The BBB API calls Switchboard answers: methods, body rules and handler of each. A call not in
  // this table answers unsupportedRequest before its checksum is looked at, as BBB does.
  static const Call kCalls[] = {
      {"create", true, true, Call::Body::kXmlOrForm, Call::Answer::kXml, &BbbApi::create},
      {"join", true, false, Call::Body::kForm, Call::Answer::kXml, &BbbApi::join},
      {"end", true, true, Call::Body::kForm, Call::Answer::kXml, &BbbApi::end},
      {"isMeetingRunning", true, true, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::isMeetingRunning},
      {"getMeetingInfo", true, true, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::getMeetingInfo},
      {"getMeetings", true, true, Call::Body::kForm, Call::Answer::kXml, &BbbApi::getMeetings},
      {"insertDocument", false, true, Call::Body::kXml, Call::Answer::kXml,
       &BbbApi::insertDocument},
      {"sendChatMessage", true, true, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::sendChatMessage},
      {"getRecordings", true, false, Call::Body::kForm, Call::Answer::kXml, &BbbApi::getRecordings},
      {"publishRecordings", true, false, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::publishRecordings},
      {"updateRecordings", true, true, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::updateRecordings},
      {"deleteRecordings", true, false, Call::Body::kForm, Call::Answer::kXml,
       &BbbApi::deleteRecordings},
      {"getRecordingTextTracks", true, true, Call::Body::kForm, Call::Answer::kJson,
       &BbbApi::getRecordingTextTracks},
      {"putRecordingTextTrack", false, true, Call::Body::kMultipart, Call::Answer::kJson,
       &BbbApi::putRecordingTextTrack},
  };
  for (const auto& call : kCalls) {
    if (call.name == name) return &call;
  }
  return nullptr;
}

void BbbApi::onWorker(ApiRequest api, const Reply& reply,
                      std::function<HttpResponse(const ApiRequest&)> answer) {
  if (workers_.full()) {
    reply(busy(api));
    return;
  }
  workers_.post([api = std::move(api), reply, answer = std::move(answer)] { reply(answer(api)); });
}

void BbbApi::create(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    auto tenant = limits_ && tenants_ && !a.context.tenant.empty()
                      ? tenants_->byName(a.context.tenant)
                      : nullptr;
    const std::string meetingId(a.params.get("meetingID").value_or(""));
    if (!tenant || meetingId.empty()) return upstream(a, router_.create(a));
    auto ticket = limits_->admit(tenant->tenant, meetingId, MeetingRouter::sizeHintOf(a.params));
    if (!ticket) return upstream(a, ticket.error());
    auto created = router_.create(a);
    limits_->settle(*ticket, created && created->success);
    return upstream(a, created);
  });
}

void BbbApi::end(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    auto ended = router_.end(a);
    if (ended && ended->success && limits_ && !a.context.tenant.empty()) {
      limits_->ended(a.context.tenant, std::string(a.params.get("meetingID").value_or("")));
    }
    return upstream(a, ended);
  });
}

void BbbApi::getMeetingInfo(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply,
           [this](const ApiRequest& a) { return upstream(a, router_.getMeetingInfo(a)); });
}

void BbbApi::insertDocument(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply,
           [this](const ApiRequest& a) { return upstream(a, router_.insertDocument(a)); });
}

void BbbApi::sendChatMessage(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply,
           [this](const ApiRequest& a) { return upstream(a, router_.sendChatMessage(a)); });
}

void BbbApi::isMeetingRunning(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    auto r = router_.isMeetingRunning(a);
    if (r && !r->has_value()) {
      return notedFor(xmlResponse(renderNotRunning()), a, "SUCCESS(unknown)", "");
    }
    if (!r) return upstream(a, r.error());
    return upstream(a, std::move(**r));
  });
}

void BbbApi::getMeetings(ApiRequest api, const CallContext& context, const Reply& reply) {
  Reply listing = [this, gzip = context.acceptsGzip, reply](HttpResponse r) {
    sendListing(std::move(r), gzip, reply);
  };
  onWorker(std::move(api), listing, [this](const ApiRequest& a) {
    auto r = router_.getMeetings();
    if (!r) return notedFor(errorResponse(r.error()), a, "", "");
    HttpResponse answer;
    if (a.context.tenant.empty()) {
      answer.sharedBody = std::move(*r);  // the router's cached answer, sent without a copy
    } else {
      answer.body = renderMeetings(tenantMeetings(a.context.tenant, **r));
    }
    return notedFor(std::move(answer), a, "SUCCESS", "");
  });
}

namespace {

// The answer of a recordings call that failed (RECORDING_DISABLED: notFound, as Scalelite).
HttpResponse recordingsFailed(const ApiRequest& a, const Error& error) {
  return notedFor(errorResponse(error), a, "", "");
}

const Error kRecordingsNotFound = Error::of(ErrorCode::kNotFound, "We could not find recordings");

}  // namespace

void BbbApi::getRecordings(ApiRequest api, const CallContext& context, const Reply& reply) {
  onWorker(std::move(api), reply, [this, origin = context.origin](const ApiRequest& a) {
    if (config_.recordingsApiFiltered && !a.params.has("recordID") && !a.params.has("meetingID")) {
      return recordingsFailed(a, Error::of(ErrorCode::kMissingParameters));
    }
    auto page = recordings_->getRecordings(a.params, a.context.tenant);
    if (!page) return recordingsFailed(a, page.error());
    bool paged = a.params.has("offset") || a.params.has("limit");
    PlaybackLinks links;
    links.origin = origin;
    links.protection = protection_;
    links.nowMs = SystemClock().nowMs();
    return notedFor(
        xmlResponse(unscopeAnswer(a.context.tenant, renderRecordings(*page, links, paged))), a,
        page->recordings.empty() ? "SUCCESS(noRecordings)" : "SUCCESS", "");
  });
}

void BbbApi::publishRecordings(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    if (!recordings_) return recordingsFailed(a, kRecordingsNotFound);
    auto published = recordings_->publish(a.params, a.context.tenant);
    if (!published) return recordingsFailed(a, published.error());
    return notedFor(xmlResponse(renderRecordingsChange("published", *published)), a, "SUCCESS", "");
  });
}

void BbbApi::updateRecordings(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    if (!recordings_) return recordingsFailed(a, kRecordingsNotFound);
    auto updated = recordings_->update(a.params, a.context.tenant);
    if (!updated) return recordingsFailed(a, updated.error());
    if (protection_ && a.params.has("protect")) {
      // This router's answer about their files changes at once (others' within seconds).
      if (auto ids = RecordingLibrary::recordIds(a.params)) {
        for (const auto& id : *ids) protection_->forget(id);
      }
    }
    return notedFor(xmlResponse(renderRecordingsChange("updated", *updated)), a, "SUCCESS", "");
  });
}

void BbbApi::deleteRecordings(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    if (!recordings_) return recordingsFailed(a, kRecordingsNotFound);
    if (auto removed = recordings_->remove(a.params, a.context.tenant); !removed.ok()) {
      return recordingsFailed(a, removed.error());
    }
    return notedFor(xmlResponse(renderRecordingsChange("deleted", true)), a, "SUCCESS", "");
  });
}

namespace {

HttpResponse textTracksFailed(const ApiRequest& a, const Error& error) {
  return notedFor(jsonErrorResponse(error), a, "", "");
}

const Error kNoTextTracks = Error::of(ErrorCode::kNoRecordings, "No recording found");

}  // namespace

bool BbbApi::recordingOfCaller(const ApiRequest& a) const {
  if (a.context.tenant.empty()) return true;
  if (!recordings_) return false;
  auto found =
      recordings_->find(std::string(a.params.get("recordID").value_or("")), a.context.tenant);
  return found && found->has_value();
}

void BbbApi::getRecordingTextTracks(ApiRequest api, const CallContext& context,
                                    const Reply& reply) {
  onWorker(std::move(api), reply, [this, origin = context.origin](const ApiRequest& a) {
    if (!textTracks_ || !recordingOfCaller(a)) return textTracksFailed(a, kNoTextTracks);
    auto tracks = textTracks_->list(a.params, a.context.tenant);
    if (!tracks) return textTracksFailed(a, tracks.error());
    const std::string recordId(a.params.get("recordID").value_or(""));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tracks) {
      list.push_back({{"href", origin + "/captions/" + recordId + "/" + t.fileName()},
                      {"kind", t.kind},
                      {"label", t.label},
                      {"lang", t.lang},
                      {"source", t.source}});
    }
    return notedFor(jsonResponse({{"returncode", "SUCCESS"}, {"tracks", list}}), a, "SUCCESS", "");
  });
}

void BbbApi::putRecordingTextTrack(ApiRequest api, const CallContext&, const Reply& reply) {
  onWorker(std::move(api), reply, [this](const ApiRequest& a) {
    if (!textTracks_ || !recordingOfCaller(a)) return textTracksFailed(a, kNoTextTracks);
    std::optional<std::string_view> file;
    if (!a.body.empty()) {
      auto boundary = multipartBoundary(a.contentType);
      auto parts = boundary ? parseMultipart(a.body, *boundary) : std::nullopt;
      if (!parts) {
        return textTracksFailed(a, Error::of(ErrorCode::kTextTrackFailed,
                                             "The body is not a whole multipart/form-data one."));
      }
      for (const auto& part : *parts) {
        if (part.name == "file") file = part.data;
      }
    }
    auto recordId = textTracks_->put(a.params, file, a.context.tenant);
    if (!recordId) return textTracksFailed(a, recordId.error());
    return notedFor(jsonResponse({{"messageKey", "upload_text_track_success"},
                                  {"message", "Text track uploaded successfully"},
                                  {"recordId", *recordId},
                                  {"returncode", "SUCCESS"}}),
                    a, "SUCCESS", "");
  });
}

void BbbApi::analyticsCallback(const HttpRequest& request, const Reply& reply) {
  auto answer = [&](HttpResponse r, const char* result) {
    reply(noted(std::move(r), "analytics_callback", result));
  };
  if (request.method != "POST") {
    return answer(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)), "");
  }
  auto query = QueryString::parse(request.rawQuery);
  auto target = query && !relayKey_.empty()
                    ? readAnalyticsRelayToken(query->get("target").value_or(""), relayKey_)
                    : std::nullopt;
  if (!target) return answer(errorResponse(Error::of(ErrorCode::kChecksumError)), "");
  if (callbacks_ &&
      callbacks_->queueAnalytics(target->url, target->secretId, request.body, target->tenant)) {
    return answer(textResponse(204, ""), "queued");
  }
  // No relay runs on this router: one attempt now, on a worker.
  workers_.post([this, target = *target, body = request.body, reply] {
    PendingCallback c;
    c.kind = "analytics";
    c.url = target.url;
    c.secretId = target.secretId;
    c.tenant = target.tenant;
    c.body = body;
    std::vector<std::string> secrets = config_.secrets;
    if (!target.tenant.empty()) {
      auto tenant = tenants_ ? tenants_->byName(target.tenant) : nullptr;
      secrets = tenant ? tenant->tenant.secrets : std::vector<std::string>();
    }
    const bool sent = CallbackRelay::deliverOnce(c, secrets);
    reply(noted(textResponse(204, ""), "analytics_callback", sent ? "delivered" : "failed"));
  });
}

void BbbApi::join(ApiRequest api, const CallContext&, const Reply& reply) {
  auto answerJoin = [reply](const ApiRequest& a, Result<JoinTarget> target, const char* outcome) {
    if (!target) {
      reply(notedFor(errorResponse(target.error()), a, "", ""));
      return;
    }
    HttpResponse r;
    r.status = 302;
    r.contentType = "text/html;charset=utf-8";
    r.location = std::move(target->url);
    reply(notedFor(std::move(r), a, outcome, std::move(target->serverId)));
  };
  // A join the cache knows is answered on the calling (reactor) thread: no I/O at all.
  if (auto cached = router_.cachedJoinUrl(api)) {
    answerJoin(api, std::move(cached->target), "302");
    if (cached->refreshDue) joinCacheRefresher_.wake();
    return;
  }
  // The store lookup (and a failover when the meeting's server is gone) runs on a worker, so
  // a Redis round trip never holds up the other connections of a reactor.
  if (workers_.full()) {
    reply(busy(api));
    return;
  }
  workers_.post([this, api = std::move(api), answerJoin]() {
    auto target = router_.joinUrl(api);
    if (target || target.error().code != ErrorCode::kServerUnavailable) {
      answerJoin(api, std::move(target), "302");
      return;
    }
    answerJoin(api, router_.failoverJoinUrl(api), "302(failover)");
  });
}

}  // namespace sb
