// The operations surface of the router, beside the BBB and admin APIs:
//   /rtcloadbalance   signalling server for a WebRTC client (plain text; "ERROR: ..." with 200)
//   /stat, /?action=stat   per-server JSON for cloud load balancers' health checks and humans
//   /metrics          Prometheus text
//   /healthz          process alive;  /readyz  stores reachable (503 with the reason if not)
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

// /readyz: OK when the stores answer.
using ReadinessCheck = std::function<Status()>;

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
