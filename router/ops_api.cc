#include "router/ops_api.h"

#include <nlohmann/json.hpp>

#include "core/query_string.h"

namespace sb {
namespace {

using nlohmann::json;

HttpResponse text(int status, std::string body, std::string call, std::string result) {
  return noted(textResponse(status, std::move(body)), std::move(call), std::move(result));
}

// /rtcloadbalance clients read the body only: every failure is "ERROR: <reason>" with HTTP 200.
HttpResponse rtcError(const std::string& reason, bool storeError = false) {
  HttpResponse r = text(200, "ERROR: " + reason + "\n", "rtcloadbalance", "ERROR");
  r.access.storeError = storeError;
  return r;
}

std::optional<bool> parseSecure(std::string_view v) {
  if (v == "true" || v == "1" || v == "yes" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "0" || v == "no" || v == "False" || v == "FALSE" || v.empty()) {
    return false;
  }
  return std::nullopt;
}

bool isStatQuery(const std::string& rawQuery) {
  auto q = QueryString::parse(rawQuery);
  return q && q->get("action") == "stat";
}

}  // namespace

OpsApi::OpsApi(ServerStore& servers, RtcBalancer& rtc, Metrics& metrics, ReadinessCheck ready,
               WorkerPool& workers)
    : servers_(servers),
      rtc_(rtc),
      metrics_(metrics),
      ready_(std::move(ready)),
      workers_(workers) {}

bool OpsApi::handle(const HttpRequest& request, const Reply& reply) {
  const std::string& path = request.path;
  if (path == "/healthz") {
    reply(text(200, "OK\n", "healthz", "OK"));
    return true;
  }
  std::function<HttpResponse()> work;
  if (path == "/rtcloadbalance") {
    work = [this, request] { return rtcLoadBalance(request); };
  } else if (path == "/stat" || ((path == "/" || path.empty()) && isStatQuery(request.rawQuery))) {
    work = [this] { return stat(); };
  } else if (path == "/metrics") {
    work = [this] { return metrics(); };
  } else if (path == "/readyz" || path == "/health_check") {
    work = [this, scalelite = path == "/health_check"] { return readiness(scalelite); };
  } else {
    return false;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    reply(text(405, "Use GET\n", "", ""));
    return true;
  }
  workers_.post([work = std::move(work), reply] { reply(work()); });
  return true;
}

HttpResponse OpsApi::rtcLoadBalance(const HttpRequest& request) {
  auto q = QueryString::parse(request.rawQuery);
  if (!q) return rtcError("invalid query string");
  RtcRequest r;
  r.cluster = std::string(q->get("cluster").value_or(""));
  r.machine = std::string(q->get("machine").value_or(""));
  r.meeting = std::string(q->get("meeting").value_or(""));
  auto secureText = q->get("secure");
  if (!secureText) secureText = q->get("IsSecure");
  auto secure = parseSecure(secureText.value_or(""));
  if (!secure) return rtcError("secure must be true or false");
  r.secure = *secure;
  r.clientAddress = request.clientAddress;
  r.forwardedFor = request.forwardedFor;
  for (const std::string* value : {&r.cluster, &r.machine, &r.meeting}) {
    if (value->size() > 256) return rtcError("parameter too long");
  }
  auto choice = rtc_.choose(r);
  if (!choice) {
    return rtcError(choice.error().message, choice.error().code == ErrorCode::kStoreUnavailable);
  }
  metrics_.countPlacement("rtc-" + choice->strategy);
  HttpResponse ok = text(200, choice->url + "\n", "rtcloadbalance", "OK");
  ok.access.meetingId = r.meeting;
  ok.access.serverId = choice->serverId;
  return ok;
}

HttpResponse OpsApi::stat() {
  auto list = servers_.listServers();
  if (!list) {
    HttpResponse r = text(503, "stores unavailable\n", "stat", "503");
    r.access.storeError = true;
    return r;
  }
  auto handed = rtc_.handedOut();
  json servers = json::array();
  struct {
    int servers = 0, online = 0, available = 0, meetings = 0, users = 0, video = 0, voice = 0;
    int connections = 0, capacity = 0;  // capacity: of the servers taking new clients
    double load = 0;
  } t;
  for (const Server& s : *list) {
    int connections = connectionsOn(s, handed);
    servers.push_back({{"id", s.id},
                       {"host", serverHost(s.url)},
                       {"tag", s.tag},
                       {"state", adminStateName(s.state)},
                       {"online", s.live.online},
                       {"load", s.live.load},
                       {"meetings", s.live.usage.meetings},
                       {"users", s.live.usage.users},
                       {"video", s.live.usage.videos},
                       {"voice", s.live.usage.voices},
                       {"connections", connections},
                       {"capacity", s.maxConnections},
                       {"poll_latency_ms", s.live.pollLatencyMs},
                       {"ws_url", s.wsUrl},
                       {"wss_url", s.wssUrl}});
    ++t.servers;
    t.online += s.live.online ? 1 : 0;
    t.load += s.live.load;
    t.meetings += s.live.usage.meetings;
    t.users += s.live.usage.users;
    t.video += s.live.usage.videos;
    t.voice += s.live.usage.voices;
    t.connections += connections;
    if (s.availableForNewMeetings()) {
      ++t.available;
      t.capacity += s.maxConnections;
    }
  }
  json totals = {{"servers", t.servers},  {"online", t.online},     {"available", t.available},
                 {"load", t.load},        {"meetings", t.meetings}, {"users", t.users},
                 {"video", t.video},      {"voice", t.voice},       {"connections", t.connections},
                 {"capacity", t.capacity}};
  HttpResponse r;
  r.contentType = "application/json";
  Readiness readiness = ready_ ? ready_() : Readiness{};
  r.body = json{{"servers", servers},
                {"totals", totals},
                {"degraded", readiness.degraded.empty() ? json(nullptr) : json(readiness.degraded)}}
               .dump();
  r.access.call = "stat";
  r.access.result = "OK";
  return r;
}

HttpResponse OpsApi::metrics() {
  std::vector<ServerSample> samples;
  auto list = servers_.listServers();
  if (list) {
    auto handed = rtc_.handedOut();
    samples.reserve(list->size());
    for (const Server& s : *list) {
      samples.push_back({&s, connectionsOn(s, handed)});
    }
  } else {
    metrics_.countStoreError("metrics");  // still answer: the process families stay useful
  }
  if (ready_) {
    Readiness readiness = ready_();
    metrics_.setDegraded(!readiness.ready || !readiness.degraded.empty());
  }
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render(samples);
  r.access.call = "metrics";
  r.access.result = "OK";
  return r;
}

HttpResponse OpsApi::readiness(bool scaleliteStyle) {
  Readiness r = ready_ ? ready_() : Readiness{};
  std::string call = scaleliteStyle ? "health_check" : "readyz";
  if (scaleliteStyle) {
    // Scalelite's: 200 either way, "success" only while every store answers; probes read the body.
    std::string failure = !r.ready ? r.reason : r.degraded;
    return failure.empty() ? text(200, "success\n", call, "OK")
                           : text(200, "Health Check Failure: " + failure + "\n", call, "FAILED");
  }
  if (!r.ready) return text(503, "not ready: " + r.reason + "\n", call, "503");
  if (!r.degraded.empty()) return text(200, "OK degraded: " + r.degraded + "\n", call, "degraded");
  return text(200, "OK\n", call, "OK");
}

}  // namespace sb
