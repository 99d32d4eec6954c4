// The BBB API under /bigbluebutton/api: one table of calls (name, methods, body rules, handler),
// checksum verification on the raw query, then the call's use case, run on the worker pool when it
// waits on a BBB server or a store. Every failure is BBB's FAILED envelope with HTTP 200; nothing
// throws out of here. Thread-safety: handle() may be called concurrently.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/config.h"
#include "core/meeting_router.h"
#include "core/recordings/recording_library.h"
#include "core/recordings/recording_protection.h"
#include "core/recordings/text_tracks.h"
#include "core/tenants/tenant_directory.h"
#include "core/tenants/tenant_limits.h"
#include "importer/callback_relay.h"
#include "router/http_types.h"
#include "router/join_cache_refresher.h"
#include "router/worker_pool.h"

namespace sb {

// Multitenancy (MULTITENANCY_ENABLED): where each call's tenant and secrets are found, and the
// gate its creates pass (either may be null: one tenant; no limits).
struct TenantCalls {
  const TenantDirectory* directory = nullptr;
  TenantLimitsGate* limits = nullptr;
};

// What answers the recordings calls (any may be null: RECORDING_DISABLED, no protection).
struct RecordingCalls {
  RecordingLibrary* library = nullptr;
  RecordingProtection* protection = nullptr;
  TextTracks* textTracks = nullptr;
  CallbackRelay* callbacks = nullptr;  // relays analytics posts (null: sent at once, no retry)
};

class BbbApi {
 public:
  // getMeetings answers at least this large go out gzipped to clients that accept gzip.
  static constexpr size_t kGzipMinBytes = 1024;
  // Turns to send getMeetings' answer (GET_MEETINGS_CONCURRENCY, at most 1024).
  using ListingTurns = std::counting_semaphore<1024>;

  // Sets `router`'s listing renderer to getMeetings' envelope (before any request is served).
  // `recordings` answers the recordings calls (none: as with RECORDING_DISABLED). `tenants`:
  // with multitenancy (none: one tenant, the LOADBALANCER_SECRETs).
  BbbApi(MeetingRouter& router, const ApiConfig& config, WorkerPool& workers,
         RecordingCalls recordings = {}, TenantCalls tenants = {});

  // `call` is the path after "/bigbluebutton/api/" ("" for the API root); `pathTenant` the
  // tenant the path names ("/t/<tenant>/bigbluebutton/api/..."), "" when none.
  void handle(const HttpRequest& request, const std::string& call, const Reply& reply,
              std::string_view pathTenant = {});

  // True when the request's URL query carries a checksum that verifies for `call`: only then may
  // it carry a large body (the HTTP front reads at most a small bound of any other body).
  bool querySigned(const HttpRequest& request, const std::string& call,
                   std::string_view pathTenant = {}) const;

 private:
  // What a handler knows of its request besides the decoded call.
  struct CallContext {
    bool acceptsGzip = false;
    std::string origin;  // publicOrigin(): where playback URLs point
  };
  // A call's handler: answers on the calling (reactor) thread when it needs no I/O, else on the
  // worker pool. `reply` is owed: called exactly once.
  using Handler = void (BbbApi::*)(ApiRequest, const CallContext&, const Reply&);
  // One row of the table of BBB API calls (findCall).
  struct Call {
    // What a POST body may be: a form (or nothing), or XML (slides), or XML only, or a
    // multipart/form-data file (its checksum is the URL's only).
    enum class Body { kForm, kXmlOrForm, kXml, kMultipart };
    // How the call answers, errors included: BBB's XML, or JSON (the text-track calls).
    enum class Answer { kXml, kJson };
    std::string_view name;
    bool get;   // GET (and HEAD) allowed
    bool post;  // POST allowed
    Body body;
    Answer answer;
    Handler handler;
  };
  // The call named `name`, nullptr when Switchboard does not answer it.
  static const Call* findCall(std::string_view name);

  // Whose secrets verify a request: the single tenant's, or (multitenancy) those of the tenant
  // named by the path, else by the host. No verifier when multitenancy is on and no enabled
  // tenant matches (the call answers checksumError, as Scalelite's).
  struct Signing {
    const ChecksumVerifier* verifier = nullptr;
    std::shared_ptr<const TenantDirectory::Entry> tenant;  // keeps `verifier` alive
  };
  Signing signingFor(const HttpRequest& request, std::string_view pathTenant) const;
  // Checks method and content type, verifies the checksum, decodes the parameters and resolves
  // the request context (a tenant's meeting IDs scoped: core/tenants/tenant_scope.h).
  Result<ApiRequest> admit(const HttpRequest& request, const Call& spec,
                           std::string_view pathTenant) const;
  // Replies with `answer(api)` computed on the worker pool (busy when its queue is full).
  void onWorker(ApiRequest api, const Reply& reply,
                std::function<HttpResponse(const ApiRequest&)> answer);

  void create(ApiRequest api, const CallContext& context, const Reply& reply);
  void join(ApiRequest api, const CallContext& context, const Reply& reply);
  void end(ApiRequest api, const CallContext& context, const Reply& reply);
  void isMeetingRunning(ApiRequest api, const CallContext& context, const Reply& reply);
  void getMeetingInfo(ApiRequest api, const CallContext& context, const Reply& reply);
  void getMeetings(ApiRequest api, const CallContext& context, const Reply& reply);
  void insertDocument(ApiRequest api, const CallContext& context, const Reply& reply);
  void sendChatMessage(ApiRequest api, const CallContext& context, const Reply& reply);
  void getRecordings(ApiRequest api, const CallContext& context, const Reply& reply);
  void publishRecordings(ApiRequest api, const CallContext& context, const Reply& reply);
  void updateRecordings(ApiRequest api, const CallContext& context, const Reply& reply);
  void deleteRecordings(ApiRequest api, const CallContext& context, const Reply& reply);
  void getRecordingTextTracks(ApiRequest api, const CallContext& context, const Reply& reply);
  void putRecordingTextTrack(ApiRequest api, const CallContext& context, const Reply& reply);
  // Whether the recording `a` names (recordID) is the calling tenant's (always, without one).
  bool recordingOfCaller(const ApiRequest& a) const;
  // POST analytics_callback?target=<relay token>: a BBB server's learning-analytics post, passed
  // on to the frontend signed with its create's secret. No checksum: the token, which only
  // Switchboard can sign, names where it goes.
  void analyticsCallback(const HttpRequest& request, const Reply& reply);

  // getMeetings' answer, gzip-compressed when the client accepts it and it is large enough to
  // gain (a pool's listing is megabytes of XML; Pistache holds each answer in memory until sent).
  HttpResponse encodedListing(HttpResponse r, bool gzip);
  // Replies with getMeetings' answer (encodedListing); at most GET_MEETINGS_CONCURRENCY are on
  // their way out at once (handed over and not yet written to their sockets).
  void sendListing(HttpResponse r, bool gzip, const Reply& reply);

  MeetingRouter& router_;
  RecordingLibrary* recordings_;
  RecordingProtection* protection_;
  TextTracks* textTracks_;
  CallbackRelay* callbacks_;
  std::string relayKey_;  // analytics relay tokens (core/recordings/recording_ready.h)
  const ApiConfig& config_;
  WorkerPool& workers_;
  ChecksumVerifier verifier_;
  const TenantDirectory* tenants_;  // null without multitenancy
  TenantLimitsGate* limits_;        // null: no tenant limits
  JoinCacheRefresher joinCacheRefresher_;
  // GET_MEETINGS_CONCURRENCY turns: getMeetings answers on their way out; null = no bound.
  std::shared_ptr<ListingTurns> listingSends_;
  std::mutex gzipMu_;
  // Guarded by gzipMu_: the listing compressed last, and its gzip stream (null when compressing
  // failed) once its first caller has compressed it.
  std::shared_ptr<const std::string> gzipSource_;
  std::shared_future<std::shared_ptr<const std::string>> gzipped_;
};

// BBB API answers (textResponse and noted are in router/http_types.h).
HttpResponse xmlResponse(std::string body);
// BBB's FAILED envelope; the access note's result is the messageKey.
HttpResponse errorResponse(const Error& error);
// The JSON answers of the text-track calls: {"response": response}, and their FAILED one.
HttpResponse jsonResponse(const nlohmann::json& response);
HttpResponse jsonErrorResponse(const Error& error);

}  // namespace sb
