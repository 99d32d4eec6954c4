#include "router/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "router/raw_request.h"
#include "router/xml_render.h"

namespace sb {
namespace {

using namespace Pistache;

constexpr std::string_view kApiPrefix = "/bigbluebutton/api";
constexpr std::string_view kAdminPrefix = "/switchboard/api/v1";

std::string methodName(Http::Method m) {
  switch (m) {
    case Http::Method::Get:
      return "GET";
    case Http::Method::Post:
      return "POST";
    case Http::Method::Put:
      return "PUT";
    case Http::Method::Patch:
      return "PATCH";
    case Http::Method::Delete:
      return "DELETE";
    case Http::Method::Head:
      return "HEAD";
    case Http::Method::Options:
      return "OPTIONS";
    default:
      return "OTHER";
  }
}

// The parsed media type of a Content-Type value: a handful of distinct values, parsed once per
// reactor thread instead of once per response.
const Http::Mime::MediaType& mediaType(const std::string& contentType) {
  thread_local std::unordered_map<std::string, Http::Mime::MediaType> parsed;
  auto it = parsed.find(contentType);
  if (it == parsed.end()) {
    if (parsed.size() >= 64) parsed.clear();  // never unbounded, whatever a handler sets
    it = parsed.emplace(contentType, Http::Mime::MediaType::fromString(contentType)).first;
  }
  return it->second;
}

// "Vary" (RFC 9110 §12.5.5): Pistache 0.0.5 has no class for it and writes only typed headers
// into a response (addRaw ones are dropped).
class VaryHeader : public Http::Header::Header {
 public:
  NAME("Vary")
  explicit VaryHeader(std::string fields = {}) : fields_(std::move(fields)) {}
  void parse(const std::string& data) override { fields_ = data; }
  void write(std::ostream& stream) const override { stream << fields_; }

 private:
  std::string fields_;
};

// `head`: the request was HEAD; the answer is the GET's, headers only (RFC 9110 §9.3.2).
void send(Http::ResponseWriter& writer, const HttpResponse& r, bool keepAlive, bool head = false) {
  auto& headers = writer.headers();
  // Pistache marks responses "Connection: Close" when the request had no Connection header, yet
  // keeps the socket open; clients then reconnect every time. Say what really happens.
  headers.remove<Http::Header::Connection>();
  headers.add<Http::Header::Connection>(keepAlive ? Http::ConnectionControl::KeepAlive
                                                  : Http::ConnectionControl::Close);
  headers.add<Http::Header::ContentType>(mediaType(r.contentType));
  if (!r.location.empty()) {
    std::string loc = r.location;
    loc.erase(std::remove_if(loc.begin(), loc.end(), [](char c) { return c == '\r' || c == '\n'; }),
              loc.end());
    headers.add<Http::Header::Location>(loc);
  }
  headers.add<Http::Header::CacheControl>(Http::CacheDirective(Http::CacheDirective::NoCache));
  if (r.contentEncoding == "gzip") {
    headers.add<Http::Header::ContentEncoding>(Http::Header::Encoding::Gzip);
  }
  if (r.variesByEncoding) headers.add<VaryHeader>("Accept-Encoding");
  static const std::string kNoBody;
  const std::string& body = head ? kNoBody : r.payload();
  // Pistache copies the body into a buffer that doubles from 512 bytes as it fills. Its chunked
  // ResponseStream would avoid that, but aborts the process when flushed from a worker thread
  // (Pistache 0.0.5: "could not find write data"), so every answer goes out through send().
  auto sent = writer.send(static_cast<Http::Code>(r.status), body.data(), body.size());
  if (r.onSent) {
    sent.then([done = r.onSent](ssize_t) { done(); },
              [done = r.onSent](std::exception_ptr) { done(); });
  }
}

class Front : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Front)
  explicit Front(std::shared_ptr<const RouterHandlers> handlers) : handlers_(std::move(handlers)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    bool keepAlive = request.version() == Http::Version::Http11;
    if (auto c = request.headers().tryGet<Http::Header::Connection>()) {
      keepAlive = c->control() != Http::ConnectionControl::Close;
    }
    try {
      HttpRequest req;
      req.method = methodName(request.method());
      std::string target = rawRequestTarget(writer);
      if (target.empty()) {
        send(writer, textResponse(400, "Bad request\n"), false);
        return;
      }
      splitTarget(target, req.path, req.rawQuery);
      req.body = request.body();
      if (auto ct = request.headers().tryGet<Http::Header::ContentType>()) {
        req.contentType = ct->mime().toString();
      }
      if (auto auth = request.headers().tryGetRaw("Authorization")) {
        req.authorization = auth->value();
      }
      if (auto encodings = request.headers().tryGetRaw("Accept-Encoding")) {
        req.acceptEncoding = encodings->value();
      }
      auto shared = std::make_shared<Http::ResponseWriter>(std::move(writer));
      const bool head = request.method() == Http::Method::Head;
      routeRequest(*handlers_, req, [shared, keepAlive, head](HttpResponse r) {
        try {
          send(*shared, r, keepAlive, head);
        } catch (const std::exception& e) {
          spdlog::warn("could not send a response: {}", e.what());
          if (r.onSent) r.onSent();
        }
      });
    } catch (const std::exception& e) {
      spdlog::error("request failed: {}", e.what());
      try {
        send(writer, textResponse(500, "Internal error\n"), false);
      } catch (...) {
      }
    }
  }

 private:
  std::shared_ptr<const RouterHandlers> handlers_;
};

}  // namespace

namespace {

// `path` without `prefix` and the '/' after it: "" for the prefix itself (with or without the
// '/'), nullopt when the path is not under it. No allocation: this runs for every request.
std::optional<std::string_view> under(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty()) return rest;
  if (rest.front() != '/') return std::nullopt;
  return rest.substr(1);
}

void dispatchRequest(const RouterHandlers& h, const HttpRequest& request, const Reply& reply) {
  const std::string& path = request.path;
  if (h.ops && h.ops->handle(request, reply)) return;
  if (auto call = under(path, kApiPrefix)) {
    h.api->handle(request, std::string(*call), reply);
  } else if (under(path, kAdminPrefix)) {
    h.admin->handle(request, path.substr(kAdminPrefix.size()), reply);  // keeps the leading '/'
  } else if (path == "/" || path.empty()) {
    reply(textResponse(200, "Switchboard: BigBlueButton API at /bigbluebutton/api\n"));
  } else if (path.starts_with("/bigbluebutton/") || path == "/unsupportedRequest") {
    reply(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)));
  } else {
    reply(textResponse(404, "Not found\n"));
  }
}

}  // namespace

void routeRequest(const RouterHandlers& h, const HttpRequest& request, const Reply& reply) {
  if (!h.metrics && !h.accessLog) {
    dispatchRequest(h, request, reply);
    return;
  }
  auto started = std::chrono::steady_clock::now();
  // The method and path are copied: an answer from a worker thread outlives `request`.
  Reply observed = [metrics = h.metrics, log = h.accessLog, started, method = request.method,
                    path = request.path, reply](HttpResponse r) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    AccessRecord record{method, path, std::move(r.access), r.status, seconds * 1000};
    if (record.note.call.empty()) record.note.call = callOfPath(path);
    if (record.note.result.empty()) record.note.result = std::to_string(r.status);
    if (metrics) {
      metrics->countRequest(record.note.call, record.note.result, seconds);
      if (record.note.storeError) metrics->countStoreError("router");
    }
    if (log) log->write(record);
    reply(std::move(r));
  };
  dispatchRequest(h, request, observed);
}

struct HttpServer::Impl {
  HttpConfig config;
  std::shared_ptr<const RouterHandlers> handlers;
  std::unique_ptr<Http::Endpoint> endpoint;
};

HttpServer::HttpServer(const HttpConfig& config, RouterHandlers handlers)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->handlers = std::make_shared<const RouterHandlers>(std::move(handlers));
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  try {
    Address address(impl_->config.bind, Port(impl_->config.port));
    impl_->endpoint = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(impl_->config.threads)
                       .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                       .maxRequestSize(impl_->config.maxRequestBytes)
                       .backlog(1024);
    impl_->endpoint->init(options);
    if (impl_->config.tls()) {
      impl_->endpoint->useSSL(impl_->config.tlsCertFile, impl_->config.tlsKeyFile);
    }
    impl_->endpoint->setHandler(Http::make_handler<Front>(impl_->handlers));
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return Error::of(ErrorCode::kInvalidArgument, "cannot listen on " + impl_->config.bind + ":" +
                                                      std::to_string(impl_->config.port) + ": " +
                                                      e.what());
  }
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  return impl_->endpoint ? static_cast<uint16_t>(impl_->endpoint->getPort()) : 0;
}

void HttpServer::stop() {
  if (impl_ && impl_->endpoint) {
    impl_->endpoint->shutdown();
    impl_->endpoint.reset();
  }
}

}  // namespace sb
