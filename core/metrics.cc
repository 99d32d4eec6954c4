#include "core/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sb {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Registry;

// Request latencies: 0.5 ms (a join) to 10 s (a create on a struggling server).
const prometheus::Histogram::BucketBoundaries kRequestBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const prometheus::Histogram::BucketBoundaries kImportBuckets = {0.1, 0.5, 1, 5, 15, 60, 300, 1800};
const prometheus::Histogram::BucketBoundaries kPollRoundBuckets = {0.05, 0.1, 0.25, 0.5, 1,
                                                                   2,    5,   10,   30,  60};

// The per-server gauges, declared here only, filled from the servers of the moment.
void addServerGauges(Registry& registry, const std::vector<ServerSample>& servers) {
  struct Gauge {
    const char* name;
    const char* help;
    double (*value)(const ServerSample&);
  };
  static const Gauge kGauges[] = {
      {"switchboard_server_online", "1 when the server is online (polled healthy)",
       [](const ServerSample& s) { return s.server->live.online ? 1.0 : 0.0; }},
      {"switchboard_server_enabled", "1 when the server's admin state is enabled",
       [](const ServerSample& s) { return s.server->state == AdminState::kEnabled ? 1.0 : 0.0; }},
      {"switchboard_server_load", "Load of the server (poll plus reservations since)",
       [](const ServerSample& s) { return s.server->live.load; }},
      {"switchboard_server_meetings", "Meetings running on the server",
       [](const ServerSample& s) { return double(s.server->live.usage.meetings); }},
      {"switchboard_server_users", "Participants on the server",
       [](const ServerSample& s) { return double(s.server->live.usage.users); }},
      {"switchboard_server_videos", "Webcam streams on the server",
       [](const ServerSample& s) { return double(s.server->live.usage.videos); }},
      {"switchboard_server_voices", "Voice participants on the server",
       [](const ServerSample& s) { return double(s.server->live.usage.voices); }},
      {"switchboard_server_connections",
       "Clients on the server: polled users plus signalling connections handed out recently",
       [](const ServerSample& s) { return double(s.connections); }},
      {"switchboard_server_capacity_connections", "Concurrent clients the server takes",
       [](const ServerSample& s) { return double(s.server->maxConnections); }},
      {"switchboard_server_capacity_users", "User capacity of the server (0 = no limit)",
       [](const ServerSample& s) { return double(s.server->maxUsers); }},
      {"switchboard_server_poll_latency_seconds", "Duration of the server's last poll",
       [](const ServerSample& s) { return s.server->live.pollLatencyMs / 1000.0; }},
      {"switchboard_server_consecutive_poll_failures",
       "Polls of the server that failed in a row (0 after a good poll)",
       [](const ServerSample& s) { return double(s.server->live.unhealthyCount); }},
  };
  for (const Gauge& g : kGauges) {
    auto& family = BuildGauge().Name(g.name).Help(g.help).Register(registry);
    for (const ServerSample& s : servers) {
      family
          .Add({{"server", s.server->id},
                {"host", serverHost(s.server->url)},
                {"tag", s.server->tag}})
          .Set(g.value(s));
    }
  }
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<Registry>()),
      requests_(BuildCounter()
                    .Name("switchboard_requests_total")
                    .Help("Requests answered, by call and result")
                    .Register(*registry_)),
      requestSeconds_(BuildHistogram()
                          .Name("switchboard_request_duration_seconds")
                          .Help("Time from request to answer, by call")
                          .Register(*registry_)),
      placements_(BuildCounter()
                      .Name("switchboard_placements_total")
                      .Help("New meetings and signalling clients placed, by strategy")
                      .Register(*registry_)),
      failovers_(BuildCounter()
                     .Name("switchboard_failovers_total")
                     .Help("Meetings re-created on another server because theirs was gone")
                     .Register(*registry_)),
      meetingCopies_(BuildCounter()
                         .Name("switchboard_meeting_copies_total")
                         .Help("Copies of meetings the poller judged against the store, by "
                               "action: ended (ran where the meeting does not live), adopted "
                               "(a lost route taken back from a server's listing), restored (kept "
                               "on its server after being marked for failover)")
                         .Register(*registry_)),
      pollIncomplete_(BuildCounter()
                          .Name("switchboard_poll_unreadable_meetings_total")
                          .Help("Meeting elements of poll answers that could not be read, by "
                                "server (the server stays online; its other meetings are kept)")
                          .Register(*registry_)),
      storeErrors_(BuildCounter()
                       .Name("switchboard_store_errors_total")
                       .Help("Requests and polls that failed because a store did not answer")
                       .Register(*registry_)),
      pollErrors_(BuildCounter()
                      .Name("switchboard_poll_errors_total")
                      .Help("Failed polls, by server")
                      .Register(*registry_)),
      accessLogDrops_(BuildCounter()
                          .Name("switchboard_access_log_dropped_lines_total")
                          .Help("Access log lines dropped because stdout did not keep up")
                          .Register(*registry_)
                          .Add({})),
      pollRoundSeconds_(BuildHistogram()
                            .Name("switchboard_poll_round_duration_seconds")
                            .Help("Wall time of one poll round over every server")
                            .Register(*registry_)),
      degraded_(BuildGauge()
                    .Name("switchboard_degraded")
                    .Help("1 while the router serves from one store only (Redis or PostgreSQL "
                          "does not answer), or cannot serve")
                    .Register(*registry_)
                    .Add({})),
      imports_(BuildCounter()
                   .Name("switchboard_recording_imports_total")
                   .Help("Recording archives the importer tried, by result (imported, failed)")
                   .Register(*registry_)),
      importBytes_(BuildCounter()
                       .Name("switchboard_recording_import_bytes_total")
                       .Help("Bytes of recordings unpacked by imports that succeeded")
                       .Register(*registry_)
                       .Add({})),
      importSeconds_(BuildHistogram()
                         .Name("switchboard_recording_import_duration_seconds")
                         .Help("Wall time of one archive's import")
                         .Register(*registry_)
                         .Add({}, kImportBuckets)),
      failedImports_(BuildGauge()
                         .Name("switchboard_recording_imports_failed")
                         .Help("Archives waiting in the spool's failed/ folder for another attempt")
                         .Register(*registry_)
                         .Add({})),
      callbacks_(BuildCounter()
                     .Name("switchboard_recording_callbacks_total")
                     .Help("Recording-ready callback attempts, by result (delivered, failed: "
                           "tried again later, given_up)")
                     .Register(*registry_)),
      tenantRequests_(BuildCounter()
                          .Name("switchboard_tenant_requests_total")
                          .Help("BBB API calls of each tenant, by call and result")
                          .Register(*registry_)),
      tenantMeetings_(BuildGauge()
                          .Name("switchboard_tenant_meetings")
                          .Help("Meetings of each tenant in the store, as of the last poll round")
                          .Register(*registry_)),
      tenantParticipants_(BuildGauge()
                              .Name("switchboard_tenant_participants")
                              .Help("Participants of each tenant's meetings, as of the last poll "
                                    "round")
                              .Register(*registry_)) {}

Metrics::~Metrics() = default;

Metrics::RequestSeries Metrics::requestSeries(std::string_view call, std::string_view result) {
  std::string key;
  key.reserve(call.size() + result.size() + 1);
  key.append(call).push_back('\0');
  key.append(result);
  {
    std::shared_lock lock(seriesMu_);
    if (auto it = series_.find(key); it != series_.end()) return it->second;
  }
  std::string c(call);
  RequestSeries series{&requests_.Add({{"call", c}, {"result", std::string(result)}}),
                       &requestSeconds_.Add({{"call", c}}, kRequestBuckets)};
  std::unique_lock lock(seriesMu_);
  series_.emplace(std::move(key), series);
  return series;
}

void Metrics::countRequest(std::string_view call, std::string_view result, double seconds) {
  RequestSeries series = requestSeries(call, result);
  series.count->Increment();
  series.seconds->Observe(seconds);
}

void Metrics::countPlacement(std::string_view strategy) {
  placements_.Add({{"strategy", std::string(strategy)}}).Increment();
}

void Metrics::countImport(std::string_view result, uint64_t bytes, double seconds) {
  imports_.Add({{"result", std::string(result)}}).Increment();
  if (result == "imported") importBytes_.Increment(static_cast<double>(bytes));
  importSeconds_.Observe(seconds);
}

void Metrics::countCallback(std::string_view result) {
  callbacks_.Add({{"result", std::string(result)}}).Increment();
}

void Metrics::setFailedImports(size_t n) { failedImports_.Set(static_cast<double>(n)); }

void Metrics::setDegraded(bool degraded) { degraded_.Set(degraded ? 1 : 0); }

void Metrics::countFailover() { failovers_.Add({}).Increment(); }

void Metrics::countMeetingCopy(std::string_view action) {
  meetingCopies_.Add({{"action", std::string(action)}}).Increment();
}

void Metrics::countUnreadableMeetings(const std::string& serverId, int n) {
  pollIncomplete_.Add({{"server", serverId}}).Increment(n);
}

void Metrics::countAccessLogDrop() { accessLogDrops_.Increment(); }

void Metrics::countStoreError(std::string_view component) {
  storeErrors_.Add({{"component", std::string(component)}}).Increment();
}

void Metrics::countTenantRequest(std::string_view tenant, std::string_view call,
                                 std::string_view result) {
  tenantRequests_
      .Add({{"tenant", std::string(tenant)},
            {"call", std::string(call)},
            {"result", std::string(result)}})
      .Increment();
}

void Metrics::setTenantUsage(const std::map<std::string, int>& meetings,
                             const std::map<std::string, int>& participants) {
  std::lock_guard lock(tenantUsageMu_);
  for (const auto& [tenant, n] : meetings) tenantsReported_.insert(tenant);
  for (const auto& [tenant, n] : participants) tenantsReported_.insert(tenant);
  for (const auto& tenant : tenantsReported_) {
    auto m = meetings.find(tenant);
    auto p = participants.find(tenant);
    tenantMeetings_.Add({{"tenant", tenant}}).Set(m == meetings.end() ? 0 : m->second);
    tenantParticipants_.Add({{"tenant", tenant}}).Set(p == participants.end() ? 0 : p->second);
  }
}

void Metrics::countPollError(const std::string& serverId) {
  pollErrors_.Add({{"server", serverId}}).Increment();
}

void Metrics::observePollRound(double seconds) {
  pollRoundSeconds_.Add({}, kPollRoundBuckets).Observe(seconds);
}

std::string Metrics::render(const std::vector<ServerSample>& servers) const {
  Registry perServer;
  addServerGauges(perServer, servers);
  auto families = registry_->Collect();
  auto more = perServer.Collect();
  families.insert(families.end(), more.begin(), more.end());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace sb
