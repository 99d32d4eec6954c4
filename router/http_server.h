// The HTTP front on Pistache: one endpoint, one route table (routeRequest), and the quirk fixes
// of Pistache 0.0.5 (raw query, keep-alive header, request size, address reuse). Every handler
// exception is caught here; nothing reaches Pistache (which would answer 500 with the text).
// Thread-safety: start()/stop() from one thread; requests arrive on Pistache's reactor threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "core/result.h"
#include "router/access_log.h"
#include "router/admin_api.h"
#include "router/bbb_api.h"
#include "router/http_types.h"
#include "router/ops_api.h"
#include "router/playback.h"

namespace sb {

// Recording uploads (POST /switchboard/api/v1/recordings/upload): their bodies are streamed to
// files, never held in memory.
struct UploadPlan {
  std::string folder;  // where bodies are written; "" = uploads are refused (no recordings folder)
  uint64_t maxBytes = 0;
  std::vector<std::string> tokens;  // bearer tokens that may upload (the upload and admin tokens)
};

struct RouterHandlers {
  BbbApi* api = nullptr;
  AdminApi* admin = nullptr;
  OpsApi* ops = nullptr;
  Metrics* metrics = nullptr;            // counts every answer when set
  const AccessLog* accessLog = nullptr;  // logs every answer when set
  UploadPlan uploads;
  const PlaybackFiles* playback = nullptr;  // serves recordings' files when set
};

// Routes one request to its handler (separate from Pistache for tests). Every answer is counted
// in the metrics and written to the access log on its way to `reply`.
void routeRequest(const RouterHandlers& handlers, const HttpRequest& request, const Reply& reply);

class HttpServer {
 public:
  HttpServer(const HttpConfig& config, RouterHandlers handlers);
  ~HttpServer();

  // Binds and starts serving on background threads, over HTTPS when the configuration names a
  // certificate and key. Fails with a clear message (port in use, unreadable certificate).
  Status start();
  uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb
