// Prometheus metrics of one process, on prometheus-cpp's registry (no I/O here: the router serves
// render() at /metrics). Every family is declared once: the process-lifetime ones in Metrics'
// constructor, the per-server gauges in one function that render() calls with the servers of
// the moment (so a removed server disappears from the next scrape).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/server.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace sb {

// A server as the per-server gauges show it.
struct ServerSample {
  const Server* server = nullptr;
  int connections = 0;  // polled users plus signalling connections handed out and not decayed
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered request: `call` is the BBB call ("join") or the endpoint ("stat", "admin"),
  // `result` the outcome ("SUCCESS", "302", a BBB messageKey, "ERROR", an HTTP status).
  void countRequest(std::string_view call, std::string_view result, double seconds);
  // A new meeting (or signalling client) placed by `strategy`.
  void countPlacement(std::string_view strategy);
  // A meeting re-created on another server because its own was gone.
  void countFailover();
  // A copy of a meeting the poller acted on (core/meeting_copies.h): "ended", "adopted",
  // "restored".
  void countMeetingCopy(std::string_view action);
  // Meeting elements of a server's poll answer that could not be read.
  void countUnreadableMeetings(const std::string& serverId, int n);
  // A request or poll that failed because Redis or PostgreSQL did not answer.
  void countStoreError(std::string_view component);
  void countPollError(const std::string& serverId);
  // An access log line dropped because stdout did not keep up (router/access_log.h).
  void countAccessLogDrop();
  void observePollRound(double seconds);
  // One archive the importer tried: `result` "imported" or "failed"; bytes unpacked.
  void countImport(std::string_view result, uint64_t bytes, double seconds);
  // Archives waiting in the spool's failed/ folder for another attempt.
  void setFailedImports(size_t n);
  // One recording-ready callback attempt: "delivered", "failed" (retried later), "given_up".
  void countCallback(std::string_view result);

  // Multitenancy: a tenant's request (every call of it, with its result).
  void countTenantRequest(std::string_view tenant, std::string_view call, std::string_view result);
  // Multitenancy: each tenant's meetings and participants as the poller's round counted them
  // (a tenant left out has none).
  void setTenantUsage(const std::map<std::string, int>& meetings,
                      const std::map<std::string, int>& participants);

  // Whether the router serves from one store only (the other does not answer), set at scrape.
  void setDegraded(bool degraded);

  // The text exposition format (0.0.4): the process families, then the per-server gauges.
  std::string render(const std::vector<ServerSample>& servers) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& requestSeconds_;
  prometheus::Family<prometheus::Counter>& placements_;
  prometheus::Family<prometheus::Counter>& failovers_;
  prometheus::Family<prometheus::Counter>& meetingCopies_;
  prometheus::Family<prometheus::Counter>& pollIncomplete_;
  prometheus::Family<prometheus::Counter>& storeErrors_;
  prometheus::Family<prometheus::Counter>& pollErrors_;
  prometheus::Counter& accessLogDrops_;
  prometheus::Family<prometheus::Histogram>& pollRoundSeconds_;
  prometheus::Gauge& degraded_;
  prometheus::Family<prometheus::Counter>& imports_;
  prometheus::Counter& importBytes_;
  prometheus::Histogram& importSeconds_;
  prometheus::Gauge& failedImports_;
  prometheus::Family<prometheus::Counter>& callbacks_;
  prometheus::Family<prometheus::Counter>& tenantRequests_;
  prometheus::Family<prometheus::Gauge>& tenantMeetings_;
  prometheus::Family<prometheus::Gauge>& tenantParticipants_;
  std::mutex tenantUsageMu_;
  std::set<std::string> tenantsReported_;  // guarded by tenantUsageMu_: gauges set before

  // The request series by "call\0result": found under a shared lock, so a request does not
  // build a label map and take the family's mutex (measured: bench/README.md).
  struct RequestSeries {
    prometheus::Counter* count;
    prometheus::Histogram* seconds;
  };
  RequestSeries requestSeries(std::string_view call, std::string_view result);
  std::shared_mutex seriesMu_;  // guards series_
  std::unordered_map<std::string, RequestSeries> series_;
};

}  // namespace sb
