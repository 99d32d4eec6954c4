// The admin API under /switchboard/api/v1: JSON, authenticated by a bearer token
// (SWITCHBOARD_ADMIN_TOKEN; refused altogether when none is configured). The contract is in
// docs/admin-api.md. Secrets are accepted but never returned.
// POST /servers/register and /servers/deregister (self-registration of autoscaled servers) take
// the registration token (SWITCHBOARD_REGISTRATION_TOKEN) as well as the admin token; the
// registration token opens nothing else. POST /recordings/upload takes the upload token
// (RECORDING_UPLOAD_TOKEN, the BBB servers' post-publish hook) as well; it opens nothing else.
// Thread-safety: handle() may be called concurrently; work runs on the worker pool.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"
#include "core/meeting_router.h"
#include "core/meeting_store.h"
#include "core/recordings/recording_library.h"
#include "core/server_admin.h"
#include "core/server_store.h"
#include "core/tenants/tenant_admin.h"
#include "importer/callback_relay.h"
#include "importer/recording_importer.h"
#include "router/http_types.h"
#include "router/worker_pool.h"

namespace sb {

class AdminApi {
 public:
  // `recordings` answers /recordings (nullptr: 404 there).
  AdminApi(ServerAdmin& admin, ServerStore& servers, MeetingStore& meetings, MeetingRouter& router,
           const AdminConfig& config, WorkerPool& workers, RecordingLibrary* recordings = nullptr);

  // Recording imports: POST /recordings/upload (with `uploadToken` or the admin token) imports
  // the body's archive; /recordings/failed lists and retries failed imports. Off until set.
  // GET /recordings/callbacks lists the recording-ready callbacks waiting or given up.
  void setImporter(RecordingImporter* importer, std::string uploadToken,
                   CallbackRelay* callbacks = nullptr);

  // /tenants (MULTITENANCY_ENABLED): answered by `tenants`; without it they answer 412.
  void setTenants(TenantAdmin* tenants) { tenants_ = tenants; }

  // `subpath` is what follows "/switchboard/api/v1" ("/servers/abc/enable").
  void handle(const HttpRequest& request, const std::string& subpath, const Reply& reply);

 private:
  HttpResponse route(const HttpRequest& request, const std::string& subpath);
  // /recordings[/<id>[/publish|/unpublish]]; nullopt when `parts` is not a recordings path.
  std::optional<HttpResponse> recordingsRoute(const HttpRequest& request,
                                              const std::vector<std::string>& parts);
  // /tenants[/<name>[/secrets|/usage]]; nullopt when `parts` is not a tenants path.
  std::optional<HttpResponse> tenantsRoute(const HttpRequest& request,
                                           const std::vector<std::string>& parts);
  // POST /recordings/upload: the archive in the request's body file, imported now.
  HttpResponse upload(const HttpRequest& request);
  // /recordings/failed[/<name>[/retry]]; nullopt when `parts` is not such a path.
  std::optional<HttpResponse> failedImportsRoute(const HttpRequest& request,
                                                 const std::vector<std::string>& parts);
  HttpResponse registration(const HttpRequest& request, bool registering,
                            ServerAdmin::Registrant who);
  // kForbidden when `url` points at an address the operator has not allowed (a name is resolved
  // now: core/server_admin.h says what that covers); Ok when unset or invalid (validate names it).
  Status checkUrl(const std::optional<std::string>& url) const;
  // Whether the request's bearer token is `token` (constant time; never true for "").
  static bool bearerIs(const HttpRequest& request, const std::string& token);

  ServerAdmin& admin_;
  ServerStore& servers_;
  MeetingStore& meetings_;
  MeetingRouter& router_;
  RecordingLibrary* recordings_;
  RecordingImporter* importer_ = nullptr;
  CallbackRelay* callbacks_ = nullptr;
  TenantAdmin* tenants_ = nullptr;
  std::string uploadToken_;
  const AdminConfig& config_;
  WorkerPool& workers_;
};

}  // namespace sb
