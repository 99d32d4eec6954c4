#include "router/bbb_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "router/xml_render.h"

namespace sb {
namespace {

const std::set<std::string, std::less<>> kCalls = {
    "create",         "join",           "end", "isMeetingRunning", "getMeetingInfo", "getMeetings",
    "insertDocument", "sendChatMessage"};

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

HttpResponse errorResponse(const Error& error) { return xmlResponse(renderError(error)); }

BbbApi::BbbApi(MeetingRouter& router, const ApiConfig& config, WorkerPool& workers)
    : router_(router),
      config_(config),
      workers_(workers),
      verifier_(config.secrets, config.checksumAlgorithms) {}

Result<ApiRequest> BbbApi::admit(const HttpRequest& request, const std::string& call) const {
  bool post = request.method == "POST";
  if (request.method != "GET" && !post) return Error::of(ErrorCode::kUnsupportedRequest);
  if (call == "join" && post) return Error::of(ErrorCode::kUnsupportedRequest);
  if (call == "insertDocument" && !post) return Error::of(ErrorCode::kUnsupportedRequest);

  // Content type before checksum, as Scalelite orders its checks.
  std::string media = lowerMediaType(request.contentType);
  bool xmlBody = false;
  bool formBody = false;
  if (post && !request.body.empty()) {
    if (call == "insertDocument") {
      if (!isXml(media)) return Error::of(ErrorCode::kUnsupportedContentType);
      xmlBody = true;
    } else if (call == "create" && isXml(media)) {
      xmlBody = true;
    } else if (isForm(media)) {
      formBody = true;
    } else {
      return Error::of(ErrorCode::kUnsupportedContentType);
    }
  }

  QueryString form;
  if (formBody) {
    auto parsed = QueryString::parse(request.body);
    if (!parsed) return parsed.error();
    form = std::move(*parsed);
  }
  // The checksum covers the URL query only; it may itself travel in a form body.
  std::string checksum = findChecksum(request.rawQuery);
  std::string signedQuery;
  if (!checksum.empty()) {
    signedQuery = removeChecksumParam(request.rawQuery, checksum);
  } else {
    checksum = std::string(form.get("checksum").value_or(""));
    signedQuery = request.rawQuery;
  }
  if (checksum.empty() || !verifier_.verify(call, signedQuery, checksum)) {
    return Error::of(ErrorCode::kChecksumError);
  }

  auto query = QueryString::parse(request.rawQuery);
  if (!query) return query.error();
  ApiRequest api;
  api.call = call;
  api.params = std::move(*query);
  for (const auto& p : form.params()) api.params.append(p.name, p.value);
  api.params.remove("checksum");
  if (xmlBody) {
    api.body = request.body;
    api.contentType = "application/xml";
  }
  return api;
}

void BbbApi::handle(const HttpRequest& request, const std::string& call, const Reply& reply) {
  if (call.empty()) {
    if (request.method != "GET" && request.method != "POST" && request.method != "HEAD") {
      reply(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)));
      return;
    }
    reply(xmlResponse(renderVersion(config_.buildNumber)));
    return;
  }
  if (!kCalls.contains(call)) {
    reply(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)));
    return;
  }
  if (call == "getMeetings" && config_.getMeetingsDisabled) {
    reply(xmlResponse(renderMeetings({})));
    return;
  }
  auto api = admit(request, call);
  if (!api) {
    spdlog::info("api {} rejected: {}", call, messageKey(api.error().code));
    reply(errorResponse(api.error()));
    return;
  }
  dispatch(std::move(*api), reply);
}

void BbbApi::dispatch(ApiRequest api, const Reply& reply) {
  auto started = std::chrono::steady_clock::now();
  auto log = [started](const ApiRequest& a, const std::string& outcome, const std::string& server) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    spdlog::info("api {} meeting={} server={} result={} {:.1f}ms", a.call,
                 a.params.get("meetingID").value_or("-"), server.empty() ? "-" : server, outcome,
                 static_cast<double>(us) / 1000.0);
  };
  auto upstream = [log](const ApiRequest& a, const Result<UpstreamAnswer>& r) {
    if (!r) {
      log(a, std::string(messageKey(r.error().code)), "");
      return errorResponse(r.error());
    }
    log(a, r->success ? "SUCCESS" : "FAILED(upstream)", r->serverId);
    return xmlResponse(r->body);
  };

  if (api.call == "join") {
    auto answerJoin = [log, reply](const ApiRequest& a, Result<std::string> url,
                                   const char* outcome) {
      if (!url) {
        log(a, std::string(messageKey(url.error().code)), "");
        reply(errorResponse(url.error()));
        return;
      }
      log(a, outcome, "");
      HttpResponse r;
      r.status = 302;
      r.contentType = "text/html;charset=utf-8";
      r.location = std::move(*url);
      reply(std::move(r));
    };
    // The happy path never waits on BBB: answer on the calling (reactor) thread.
    auto url = router_.joinUrl(api);
    if (url || url.error().code != ErrorCode::kServerUnavailable) {
      answerJoin(api, std::move(url), "302");
      return;
    }
    // Its server is gone: re-create the meeting elsewhere, off the reactor.
    workers_.post([this, api = std::move(api), answerJoin]() {
      answerJoin(api, router_.failoverJoinUrl(api), "302(failover)");
    });
    return;
  }
  workers_.post([this, api = std::move(api), reply, upstream, log]() {
    const std::string& call = api.call;
    if (call == "create") {
      reply(upstream(api, router_.create(api)));
    } else if (call == "end") {
      reply(upstream(api, router_.end(api)));
    } else if (call == "getMeetingInfo") {
      reply(upstream(api, router_.getMeetingInfo(api)));
    } else if (call == "insertDocument") {
      reply(upstream(api, router_.insertDocument(api)));
    } else if (call == "sendChatMessage") {
      reply(upstream(api, router_.sendChatMessage(api)));
    } else if (call == "isMeetingRunning") {
      auto r = router_.isMeetingRunning(api);
      if (r && !r->has_value()) {
        log(api, "SUCCESS(unknown)", "");
        reply(xmlResponse(renderNotRunning()));
      } else if (!r) {
        reply(upstream(api, r.error()));
      } else {
        reply(upstream(api, std::move(**r)));
      }
    } else if (call == "getMeetings") {
      auto r = router_.getMeetings();
      if (!r) {
        log(api, std::string(messageKey(r.error().code)), "");
        reply(errorResponse(r.error()));
      } else {
        log(api, "SUCCESS", "");
        reply(xmlResponse(renderMeetings(*r)));
      }
    }
  });
}

}  // namespace sb
