// The operations surface of the router, beside the BBB and admin APIs:
//   /rtcloadbalance   signalling server for a WebRTC client (plain text; "ERROR: ..." with 200)
//   /stat, /?action=stat   per-server JSON for cloud load balancers' health checks and humans
//   /metrics          Prometheus text
//   /healthz          process alive;  /readyz  can serve BBB calls ("OK", "OK degraded: …"
//                     while one store is down; 503 with the reason only when none answers)
//   /health_check     Scalelite's compatible answer
// Handlers that read the server store run on the worker pool (a store round trip must not hold
// a reactor thread). Thread-safety: handle() may be called concurrently.
#pragma once

#include <functional>
#include <string>

#include "core/metrics.h"
#include "core/result.h"
#include "core/rtc_balancer.h"
#include "core/server_store.h"
#include "router/http_types.h"
#include "router/worker_pool.h"

namespace sb {

// Whether the router can serve BBB calls, and how well.
struct Readiness {
  // False only when it cannot serve (no store answers): /readyz answers 503 then.
  bool ready = true;
  // Why it serves less than fully ("postgres unavailable: …; creates fail until it is back"),
  // empty when every store answers. A degraded router is still ready: taking every router out
  // of a load balancer during an outage they survive would stop the service.
  std::string degraded;
  std::string reason;  // when !ready
};
using ReadinessCheck = std::function<Readiness()>;

class OpsApi {
 public:
  OpsApi(ServerStore& servers, RtcBalancer& rtc, Metrics& metrics, ReadinessCheck ready,
         WorkerPool& workers);

  // True when `path` (and for "/" the query) is one of the endpoints above; then `reply` is
  // called once.
  bool handle(const HttpRequest& request, const Reply& reply);

 private:
  HttpResponse rtcLoadBalance(const HttpRequest& request);
  HttpResponse stat();
  HttpResponse metrics();
  HttpResponse readiness(bool scaleliteStyle);

  ServerStore& servers_;
  RtcBalancer& rtc_;
  Metrics& metrics_;
  ReadinessCheck ready_;
  WorkerPool& workers_;
};

}  // namespace sb
