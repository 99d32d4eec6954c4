#include "tests/sim/sim_http.h"

#include <pistache/http_headers.h>
#include <pistache/mime.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <stdexcept>
#include <utility>

#include <sys/socket.h>

#include "router/pistache_private.h"
#include "router/request_reader.h"
#include "tests/sim/control_api.h"
#include "tests/sim/sim_xml.h"

namespace sb::sim {
namespace {

using Pistache::Http::ResponseWriter;
namespace Http = Pistache::Http;

constexpr std::string_view kApiPath = "/bigbluebutton/api";
constexpr size_t kMaxRequestSize = 1 << 20;
// How long a call hit by the `timeout` fault is held unanswered; clients give up long before.
constexpr std::chrono::seconds kHoldHungCalls{120};

}  // namespace

// The open connections of one per-port endpoint. Pistache 0.0.5 leaves accepted connections open
// when an endpoint shuts down, so a "down" server would keep clients with pooled keep-alive
// connections waiting forever instead of failing them like a dead server does. The handler
// records each connection here, and `down` shuts them down before stopping the endpoint.
class ConnectionRegistry {
 public:
  void add(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::lock_guard lock(mu_);
    peers_[peer.get()] = peer;
    // Pistache closes some connections (timeouts) without onDisconnection: forget those too.
    if (peers_.size() >= pruneAt_) {
      std::erase_if(peers_, [](const auto& entry) { return entry.second.expired(); });
      pruneAt_ = std::max<size_t>(64, 2 * peers_.size());
    }
  }
  // Pistache calls onDisconnection before it closes the descriptor, and erases its Peer before
  // closing in the other paths, so a peer that can still be locked owns its descriptor.
  void remove(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::lock_guard lock(mu_);
    peers_.erase(peer.get());
  }
  void shutdownAll() {
    std::lock_guard lock(mu_);
    for (const auto& [key, weak] : peers_) {
      if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
    }
  }

 private:
  std::mutex mu_;
  std::map<const void*, std::weak_ptr<Pistache::Tcp::Peer>> peers_;  // guarded by mu_
  size_t pruneAt_ = 64;                                              // guarded by mu_
};

namespace {

// Per-port and shared-port API endpoints. `server_` is null in shared-port mode (the server is
// taken from the /s<i> path prefix). `connections_` is null for the shared endpoint.
class ApiHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ApiHandler)
  ApiHandler(SimPool* pool, SimServer* server, std::shared_ptr<ConnectionRegistry> connections)
      : pool_(pool), server_(server), connections_(std::move(connections)) {}

  void onRequest(const Http::Request& request, ResponseWriter response) override {
    // Connections are recorded at their first request: Http::Handler::onConnection is private
    // and cannot be wrapped. A connection that never sent a request is not failed on `down`.
    if (connections_) {
      try {
        if (auto peer = response.peer()) connections_->add(peer);
      } catch (const std::exception&) {
        // The peer is gone already; nothing to record.
      }
    }
    pool_->onApiRequest(server_, request, std::move(response));
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    if (connections_) connections_->remove(peer);
    Http::Handler::onDisconnection(peer);
  }

 private:
  SimPool* pool_;
  SimServer* server_;
  std::shared_ptr<ConnectionRegistry> connections_;
};

class ControlHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ControlHandler)
  explicit ControlHandler(SimPool* pool) : pool_(pool) {}

  void onRequest(const Http::Request& request, ResponseWriter response) override {
    pool_->onControlRequest(request, std::move(response));
  }

 private:
  SimPool* pool_;
};

// Pistache 0.0.5 puts `Connection: Close` on the answer to every request without a Connection
// header yet keeps the socket open; HTTP/1.1 clients that believe it reconnect every time.
void dropBogusConnectionClose(const Http::Request& request, ResponseWriter& response) {
  if (request.version() == Http::Version::Http11 &&
      !request.headers().has<Http::Header::Connection>()) {
    response.headers().remove<Http::Header::Connection>();
  }
}

// "application/xml; charset=utf-8" -> "application/xml".
std::string mediaType(const Http::Request& request) {
  auto header = request.headers().tryGet<Http::Header::ContentType>();
  if (!header) return {};
  std::string type = header->mime().toString();
  type.resize(std::min(type.size(), type.find(';')));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

void sendText(ResponseWriter& response, Http::Code code, const std::string& body,
              const std::string& contentType) {
  if (!contentType.empty()) {
    response.headers().add<Http::Header::ContentType>(
        Http::Mime::MediaType::fromString(contentType));
  }
  response.send(code, body);
}

// Splits "/s12/bigbluebutton/api/x" into 12 and "/bigbluebutton/api/x"; 0 when malformed.
int sharedPrefixIndex(const std::string& path, std::string& rest) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 's') return 0;
  size_t slash = path.find('/', 2);
  std::string_view digits = std::string_view(path).substr(2, slash - 2);
  int index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return 0;
  rest = slash == std::string::npos ? std::string("/") : path.substr(slash);
  return index;
}

}  // namespace

SimPool::SimPool(SimOptions options) : options_(std::move(options)), executor_(2) {
  for (int i = 1; i <= options_.servers; ++i) {
    std::string secret = options_.secret ? *options_.secret : "sim-secret-" + std::to_string(i);
    servers_.push_back(std::make_unique<SimServer>(i, std::move(secret), &history_));
  }
}

SimPool::~SimPool() { stop(); }

SimServer* SimPool::server(int index) {
  if (index < 1 || index > size()) return nullptr;
  return servers_[static_cast<size_t>(index - 1)].get();
}

uint16_t SimPool::portOf(int index) const {
  if (sharedPortMode()) return sharedPort_;
  if (index < 1 || index > static_cast<int>(slots_.size())) return 0;
  return slots_[static_cast<size_t>(index - 1)].port;
}

std::string SimPool::baseUrl(uint16_t port) const {
  std::string host = options_.bind;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

std::unique_ptr<Http::Endpoint> SimPool::startEndpoint(uint16_t port, int threads,
                                                       std::shared_ptr<Http::Handler> handler) {
  auto endpoint =
      std::make_unique<Http::Endpoint>(Pistache::Address(options_.bind, Pistache::Port(port)));
  auto opts = Http::Endpoint::options()
                  .threads(threads)
                  .flags(Pistache::Tcp::Options::ReuseAddr | Pistache::Tcp::Options::NoDelay)
                  .maxRequestSize(kMaxRequestSize);
  endpoint->init(opts);
  endpoint->setHandler(std::move(handler));
  // serveThreaded() binds by itself in Pistache 0.0.5: an explicit bind() first would leave a
  // second listening socket behind and make rebinding a fixed port fail (EADDRINUSE).
  try {
    endpoint->serveThreaded();
  } catch (const std::exception& e) {
    throw std::runtime_error(options_.bind + ":" + std::to_string(port) + ": " + e.what());
  }
  return endpoint;
}

void SimPool::start() {
  std::lock_guard lock(endpointsMu_);
  if (sharedPortMode()) {
    shared_ = startEndpoint(*options_.sharedPort, std::max(1, options_.threads),
                            std::make_shared<ApiHandler>(this, nullptr, nullptr));
    sharedPort_ = static_cast<uint16_t>(shared_->getPort());
    for (auto& s : servers_) {
      s->setApiBaseUrl(baseUrl(sharedPort_) + "/s" + std::to_string(s->index()) +
                       std::string(kApiPath) + "/");
    }
  } else {
    slots_.resize(servers_.size());
    for (int i = 1; i <= size(); ++i) {
      auto& slot = slots_[static_cast<size_t>(i - 1)];
      slot.port = options_.basePort == 0 ? 0 : static_cast<uint16_t>(options_.basePort + i - 1);
      startServerEndpoint(i);
      slot.port = static_cast<uint16_t>(slot.endpoint->getPort());
      server(i)->setApiBaseUrl(baseUrl(slot.port) + std::string(kApiPath) + "/");
    }
  }
  control_ = startEndpoint(options_.controlPort, 1, std::make_shared<ControlHandler>(this));
  controlPort_ = static_cast<uint16_t>(control_->getPort());
}

void SimPool::startServerEndpoint(int index) {
  auto& slot = slots_[static_cast<size_t>(index - 1)];
  slot.connections = std::make_shared<ConnectionRegistry>();
  slot.endpoint = startEndpoint(
      slot.port, 1, std::make_shared<ApiHandler>(this, server(index), slot.connections));
  executor_.unblock(index);
}

void SimPool::stopServerEndpoint(int index) {
  // Held and delayed answers point into this endpoint's transport: drop them first, and keep
  // new ones from being queued, before the transport goes away.
  executor_.blockAndDrain(index);
  auto& slot = slots_[static_cast<size_t>(index - 1)];
  if (slot.endpoint) {
    // Fail open connections like a dead server would: clients see EOF at once.
    slot.connections->shutdownAll();
    slot.endpoint->shutdown();
    slot.endpoint.reset();
  }
  executor_.blockAndDrain(index);
}

void SimPool::stop() {
  std::lock_guard lock(endpointsMu_);
  if (stopped_) return;
  stopped_ = true;
  executor_.stop();
  if (control_) control_->shutdown();
  if (shared_) shared_->shutdown();
  for (auto& slot : slots_) {
    if (slot.endpoint) slot.endpoint->shutdown();
  }
  control_.reset();
  shared_.reset();
  for (auto& slot : slots_) slot.endpoint.reset();
}

Status SimPool::applyFault(int index, const FaultPatch& patch) {
  SimServer* s = server(index);
  if (!s) return Error::of(ErrorCode::kNotFound, "no such server");
  std::lock_guard lock(endpointsMu_);
  if (stopped_) return Error::of(ErrorCode::kInternalError, "stopping");
  Fault fault = s->fault();
  if (patch.delayMs) fault.delayMs = *patch.delayMs;
  if (patch.error) fault.error = *patch.error;
  if (patch.timeout) fault.timeout = *patch.timeout;
  if (patch.malformed) fault.malformed = *patch.malformed;
  if (patch.partial) fault.partial = *patch.partial;
  bool wasDown = fault.down;
  if (patch.down) fault.down = *patch.down;
  if (sharedPortMode() || wasDown == fault.down) {
    s->setFault(fault);
    return Status::Ok();
  }
  if (fault.down) {
    s->setFault(fault);
    stopServerEndpoint(index);
    spdlog::info("server {} down", index);
    return Status::Ok();
  }
  try {
    startServerEndpoint(index);
  } catch (const std::exception& e) {
    return Error::of(ErrorCode::kInternalError,
                     "cannot restart server " + std::to_string(index) + ": " + e.what());
  }
  s->setFault(fault);
  spdlog::info("server {} up on port {}", index, portOf(index));
  return Status::Ok();
}

Result<size_t> SimPool::crash(int index) {
  SimServer* s = server(index);
  if (!s) return Error::of(ErrorCode::kNotFound, "no such server");
  std::lock_guard lock(endpointsMu_);
  if (stopped_) return Error::of(ErrorCode::kInternalError, "stopping");
  Fault fault = s->fault();
  bool wasDown = fault.down;
  fault.down = true;
  s->setFault(fault);  // from here on, no call creates a meeting on it
  // Per-port: stop the endpoint first, so that no call is processed after the meetings are gone.
  if (!sharedPortMode() && !wasDown) stopServerEndpoint(index);
  size_t lost = s->crash();
  spdlog::info("server {} crashed: {} meetings lost", index, lost);
  return lost;
}

Status SimPool::resetAll() {
  std::lock_guard lock(endpointsMu_);
  if (stopped_) return Error::of(ErrorCode::kInternalError, "stopping");
  Status status;
  for (auto& s : servers_) {
    if (!sharedPortMode() && s->fault().down) {
      try {
        startServerEndpoint(s->index());
      } catch (const std::exception& e) {
        status = Error::of(ErrorCode::kInternalError,
                           "cannot restart server " + std::to_string(s->index()) + ": " + e.what());
        continue;  // stays down (and says so)
      }
      spdlog::info("server {} up on port {} (reset)", s->index(), portOf(s->index()));
    }
    s->reset();
  }
  history_.clear();
  return status;
}

void SimPool::answer(const ApiReply& reply, ResponseWriter& response) {
  if (!reply.location.empty()) {
    response.headers().add<Http::Header::Location>(reply.location);
  }
  response.headers().add<Http::Header::CacheControl>(Http::CacheDirective::NoCache);
  sendText(response, static_cast<Http::Code>(reply.status), reply.body, reply.contentType);
}

void SimPool::onApiRequest(SimServer* server, const Http::Request& request,
                           ResponseWriter response) {
  // Set once the writer has left this function (held or delayed): then nothing may touch it.
  bool handedOff = false;
  try {
    dropBogusConnectionClose(request, response);
    std::string target = sb::rawRequestTarget(response);
    if (target.empty()) {
      sendText(response, Http::Code::Bad_Request, "unreadable request line\n", "text/plain");
      return;
    }
    std::string path, rawQuery;
    sb::splitTarget(target, path, rawQuery);
    if (!server) {
      std::string rest;
      server = this->server(sharedPrefixIndex(path, rest));
      if (!server) {
        sendText(response, Http::Code::Not_Found, "no such simulated server\n", "text/plain");
        return;
      }
      path = rest;
    }

    if (path.starts_with("/html5client/")) {
      // Where join redirects browsers; a stand-in page so demos do not end on a 404.
      sendText(response, Http::Code::Ok,
               "<html><body><p>bbb-sim: joined (simulated HTML5 client)</p></body></html>\n",
               "text/html");
      return;
    }
    std::string callName;
    if (path == kApiPath || path == std::string(kApiPath) + "/") {
      callName.clear();
    } else if (path.starts_with(std::string(kApiPath) + "/")) {
      callName = path.substr(kApiPath.size() + 1);
    } else {
      sendText(response, Http::Code::Not_Found, "not found\n", "text/plain");
      return;
    }

    server->countRequest(callName);
    const Fault fault = server->fault();
    const int tag = server->index();
    if (fault.down) {  // shared-port mode (per-port endpoints are stopped instead)
      sendText(response, Http::Code::Service_Unavailable, "", "");
      return;
    }
    if (fault.timeout) {
      auto held = std::make_shared<ResponseWriter>(std::move(response));
      handedOff = true;
      executor_.schedule(tag, kHoldHungCalls, [held] { /* dropped unanswered */ });
      return;
    }

    ApiReply reply;
    switch (fault.error) {
      case FaultError::kHttp500:
        reply.status = 500;
        reply.contentType.clear();
        break;
      case FaultError::kFailed:
        reply.body = BbbXml::failed("simulatedError", "Simulated failure (bbb-sim fault)");
        break;
      case FaultError::kGarbage:
        reply.body = "bbb-sim garbage: <<< this is not XML >>> \x01{]\n";
        break;
      case FaultError::kNone: {
        ApiRequest api;
        api.method = Http::methodString(request.method());
        api.callName = callName;
        api.rawQuery = rawQuery;
        api.contentType = mediaType(request);
        api.body = request.body();
        reply = server->handle(api);
        break;
      }
    }

    if (fault.delayMs > 0) {
      auto delayed = std::make_shared<ResponseWriter>(std::move(response));
      handedOff = true;
      executor_.schedule(tag, std::chrono::milliseconds(fault.delayMs),
                         [delayed, reply = std::move(reply)] { answer(reply, *delayed); });
      return;
    }
    answer(reply, response);
  } catch (const std::exception& e) {
    spdlog::error("API request failed: {}", e.what());
    if (!handedOff) {
      try {
        response.send(Http::Code::Internal_Server_Error, "internal error\n");
      } catch (...) {
      }
    }
  } catch (...) {
    spdlog::error("API request failed with an unknown exception");
  }
}

void SimPool::onControlRequest(const Http::Request& request, ResponseWriter response) {
  try {
    dropBogusConnectionClose(request, response);
    ControlReply reply = handleControl(*this, Http::methodString(request.method()),
                                       request.resource(), request.body());
    sendText(response, static_cast<Http::Code>(reply.status), reply.body, "application/json");
  } catch (const std::exception& e) {
    spdlog::error("control request failed: {}", e.what());
    try {
      response.send(Http::Code::Internal_Server_Error, "{\"error\":\"internal error\"}");
    } catch (...) {
    }
  } catch (...) {
    spdlog::error("control request failed with an unknown exception");
  }
}

}  // namespace sb::sim
