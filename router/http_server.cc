#include "router/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "core/checksum.h"
#include "router/answer_queue.h"
#include "router/pistache_private.h"
#include "router/request_reader.h"
#include "router/xml_render.h"

namespace sb {
namespace {

using namespace Pistache;

constexpr std::string_view kApiPrefix = "/bigbluebutton/api";
constexpr std::string_view kAdminPrefix = "/switchboard/api/v1";

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

// The headers every answer carries, set on the writer Pistache made for the request.
void setHeaders(Http::ResponseWriter& writer, const HttpResponse& r, bool keepAlive) {
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
}

// Bodies up to this size go out through Pistache's writer in one buffer. Larger ones go out in
// pieces of this size, each queued once the one before it is written: Pistache 0.0.5 copies a
// buffer whole for every write attempt and every partial write, and writes a connection's queue
// until the socket is full before it looks at another connection (Transport::asyncWriteImpl), so
// one 28 MB answer queued whole held its reactor thread, and every other client on it, for
// hundreds of milliseconds (50 MB: seconds).
constexpr size_t kAnswerPieceBytes = 64 * 1024;

// What a connection's answers share: their order, and whether the client is still there.
struct ConnectionOutput {
  AnswerQueue answers;
  // False once Pistache dropped the connection (set and read on its reactor thread): its file
  // descriptor may then belong to a new connection, and nothing more is written to it.
  std::atomic<bool> open{true};
};

// The status line and `writer`'s headers as Pistache writes them, then Content-Length.
std::string headText(Http::ResponseWriter& writer, int status, size_t contentLength) {
  std::ostringstream head;
  head << "HTTP/1.1 " << status << ' ' << Http::codeString(static_cast<Http::Code>(status))
       << "\r\n";
  for (const auto& header : writer.headers().list()) {
    head << header->name() << ": ";
    header->write(head);
    head << "\r\n";
  }
  head << "Content-Length: " << contentLength << "\r\n\r\n";
  return head.str();
}

// The body of a large answer: a string in memory, or a range of a file read as it goes.
class AnswerBody {
 public:
  explicit AnswerBody(std::shared_ptr<const std::string> text) : text_(std::move(text)) {}
  AnswerBody(std::shared_ptr<const FileBody> file, bool headOnly)
      : file_(std::move(file)), headOnly_(headOnly) {}
  size_t size() const {
    if (headOnly_) return 0;
    return text_ ? text_->size() : static_cast<size_t>(file_->length);
  }
  // Appends bytes [at, at + n) to `out`; false when the file cannot be read (it shrank).
  bool append(std::string& out, size_t at, size_t n) const {
    if (text_) {
      out.append(*text_, at, n);
      return true;
    }
    const size_t start = out.size();
    out.resize(start + n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(file_->fd, out.data() + start + done, n - done,
                          static_cast<off_t>(file_->offset + at + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }

 private:
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const FileBody> file_;
  bool headOnly_ = false;
};

// One large answer (or a file) leaving in pieces of kAnswerPieceBytes. The first piece (with
// the head) is queued by start(); each later one when the one before it is written, on the
// reactor thread, which thus serves its other connections in between. `done` is called once the
// last piece is queued (the connection's next answer may follow), `onSent` once it is written or
// the client is gone.
class PieceSender : public std::enable_shared_from_this<PieceSender> {
 public:
  PieceSender(Tcp::Transport& transport, Fd fd, std::shared_ptr<ConnectionOutput> output,
              AnswerBody body, std::function<void()> onSent, AnswerQueue::Done done)
      : transport_(transport),
        fd_(fd),
        output_(std::move(output)),
        body_(std::move(body)),
        onSent_(std::move(onSent)),
        done_(done) {}

  void start(std::string head) {
    size_t first = std::min(kAnswerPieceBytes, body_.size());
    if (!body_.append(head, 0, first)) {
      // A file that cannot be read any more: no answer can be given, close rather than leave
      // the client waiting.
      if (output_->open) ::shutdown(fd_, SHUT_RDWR);
      stop();
      return;
    }
    queue(std::move(head), first);
  }

 private:
  void queue(std::string bytes, size_t bodyBytes) {
    at_ += bodyBytes;
    const bool last = at_ >= body_.size();
    size_t size = bytes.size();
    auto written = transport_.asyncWrite(fd_, RawBuffer(std::move(bytes), size));
    if (last) done_();
    written.then([self = shared_from_this(), last](ssize_t) { self->written(last); },
                 [self = shared_from_this()](std::exception_ptr) { self->stop(); });
  }

  void written(bool last) {
    if (last || !output_->open) {
      stop();
      return;
    }
    size_t n = std::min(kAnswerPieceBytes, body_.size() - at_);
    std::string piece;
    piece.reserve(n);
    if (!body_.append(piece, at_, n)) {
      // A file that shrank while it was sent: the client sees a short body and the connection
      // closes (the length was promised).
      if (output_->open) ::shutdown(fd_, SHUT_RDWR);
      stop();
      return;
    }
    queue(std::move(piece), n);
  }

  // The answer is written, or will never be.
  void stop() {
    done_();  // ignored when already called
    if (onSent_) std::exchange(onSent_, nullptr)();
  }

  Tcp::Transport& transport_;
  const Fd fd_;
  const std::shared_ptr<ConnectionOutput> output_;  // keeps done_'s queue alive
  const AnswerBody body_;
  std::function<void()> onSent_;
  const AnswerQueue::Done done_;
  size_t at_ = 0;  // body bytes queued so far
};

// The head of a file answer, written as it is: status line, Connection, Content-Type, the
// answer's own headers, Content-Length.
std::string fileHeadText(const HttpResponse& r, bool keepAlive) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                     Http::codeString(static_cast<Http::Code>(r.status)) + "\r\n";
  head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  head += "Content-Type: " + r.contentType + "\r\n";
  for (const auto& [name, value] : r.headers) {
    std::string v = value;
    v.erase(std::remove_if(v.begin(), v.end(), [](char c) { return c == '\r' || c == '\n'; }),
            v.end());
    head += name + ": " + v + "\r\n";
  }
  head += "Content-Length: " + std::to_string(r.file->length) + "\r\n\r\n";
  return head;
}

// Sends `r` on `writer` and calls `done` once it is handed over whole. `head`: the request was
// HEAD; the answer is the GET's, headers only (RFC 9110 §9.3.2). Throws when the client is gone.
void send(Tcp::Transport& transport, const std::shared_ptr<ConnectionOutput>& output,
          Http::ResponseWriter& writer, HttpResponse& r, bool keepAlive, bool head,
          AnswerQueue::Done done) {
  if (r.file) {
    auto peer = writer.peer();  // throws when the client is gone
    peer->setIdle(true);
    auto sender = std::make_shared<PieceSender>(
        transport, peer->fd(), output, AnswerBody(r.file, head), std::move(r.onSent), done);
    sender->start(fileHeadText(r, keepAlive));
    return;
  }
  setHeaders(writer, r, keepAlive);
  if (!head && r.payload().size() > kAnswerPieceBytes) {
    auto peer = writer.peer();  // throws when the client is gone
    peer->setIdle(true);        // as ResponseWriter::send does: the keep-alive timeout applies
    auto body =
        r.sharedBody ? r.sharedBody : std::make_shared<const std::string>(std::move(r.body));
    const size_t length = body->size();
    auto sender = std::make_shared<PieceSender>(
        transport, peer->fd(), output, AnswerBody(std::move(body)), std::move(r.onSent), done);
    sender->start(headText(writer, r.status, length));
    return;
  }
  static const std::string kNoBody;
  const std::string& body = head ? kNoBody : r.payload();
  // Pistache's chunked ResponseStream would avoid its copies too, but aborts the process when
  // flushed from a worker thread (Pistache 0.0.5: "could not find write data").
  auto sent = writer.send(static_cast<Http::Code>(r.status), body.data(), body.size());
  done();
  if (r.onSent) {
    sent.then([onSent = r.onSent](ssize_t) { onSent(); },
              [onSent = r.onSent](std::exception_ptr) { onSent(); });
  }
}

// `path` without `prefix` and the '/' after it: "" for the prefix itself (with or without the
// '/'), nullopt when the path is not under it. No allocation: this runs for every request.
std::optional<std::string_view> under(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty()) return rest;
  if (rest.front() != '/') return std::nullopt;
  return rest.substr(1);
}

// A BBB API call's path: "/bigbluebutton/api/<call>", or "/t/<tenant>/bigbluebutton/api/<call>"
// for operators who name tenants by path (no wildcard DNS).
struct ApiPath {
  std::string_view call;
  std::string_view tenant;  // "" when the path names none
};
std::optional<ApiPath> apiPathOf(std::string_view path) {
  if (auto call = under(path, kApiPrefix)) return ApiPath{*call, {}};
  constexpr std::string_view kTenantPrefix = "/t/";
  if (!path.starts_with(kTenantPrefix)) return std::nullopt;
  std::string_view rest = path.substr(kTenantPrefix.size());
  size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  auto call = under(rest.substr(slash), kApiPrefix);
  if (!call) return std::nullopt;
  return ApiPath{*call, rest.substr(0, slash)};
}

// Bodies of calls that need none, and of BBB calls whose query is not signed (their checksum may
// travel in a form body): a small bound, so an unsigned client cannot make the router keep much.
constexpr size_t kUnsignedBodyBytes = 16 * 1024;
// Admin API bodies (JSON of one server or a few settings).
constexpr size_t kAdminBodyBytes = 1024 * 1024;

constexpr std::string_view kUploadPath = "recordings/upload";  // under kAdminPrefix

// Whether `authorization` is "Bearer <one of tokens>" (constant time per token).
bool bearerOneOf(std::string_view authorization, const std::vector<std::string>& tokens) {
  bool match = false;
  for (const auto& t : tokens) match |= bearerIs(authorization, t);
  return match;
}

// What body a request may carry, decided from its head (RequestReader::BodyLimit): an upload
// streams to a file once its token is checked; a signed BBB call may carry MAX_REQUEST_SIZE;
// anything else only a small body.
BodyPlan bodyPlan(const RouterHandlers& h, const RequestHead& head, size_t maxBody) {
  HttpRequest request;
  request.method = head.method;
  splitTarget(head.target, request.path, request.rawQuery);
  request.host = head.host;
  if (auto api = apiPathOf(request.path)) {
    bool isSigned = h.api && h.api->querySigned(request, std::string(api->call), api->tenant);
    return isSigned ? maxBody : std::min(maxBody, kUnsignedBodyBytes);
  }
  if (auto admin = under(request.path, kAdminPrefix)) {
    if (*admin == kUploadPath && request.method == "POST") {
      BodyPlan plan;
      if (!bearerOneOf(head.authorization, h.uploads.tokens)) {
        plan.refusal = RequestRefusal{401, "Missing or wrong upload token\n"};
      } else if (h.uploads.folder.empty()) {
        plan.refusal = RequestRefusal{503, "Recording uploads are off: no recordings folder\n"};
      } else {
        plan.limit = static_cast<size_t>(h.uploads.maxBytes);
        plan.fileFolder = h.uploads.folder;
      }
      return plan;
    }
    return std::min(maxBody, kAdminBodyBytes);
  }
  return std::min(maxBody, kUnsignedBodyBytes);
}

// Pistache's parser, fed by Front with one fixed, minimal request per request Front has read:
// Pistache then makes the ResponseWriter (which only it can) and hands it to `answer`. It never
// sees a client's bytes.
class ParserFeed : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ParserFeed)
  explicit ParserFeed(std::function<void(Http::ResponseWriter)> answer)
      : answer_(std::move(answer)) {}
  void onRequest(const Http::Request&, Http::ResponseWriter writer) override {
    answer_(std::move(writer));
  }

 private:
  std::function<void(Http::ResponseWriter)> answer_;
};

constexpr std::string_view kFedRequest = "GET / HTTP/1.1\r\n\r\n";
// The interim answer to "Expect: 100-continue" (RFC 9110 §15.2.1): curl waits a second for it
// before it sends a POST body over 1 KiB (a create with slides) when nobody answers.
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
const std::string kReaderKey = "sb.reader";

// Connections open in this process, across reactor threads. Each connection holds one
// ConnectionSlot in its peer data, so the count falls when Pistache drops the peer, whichever way
// (client close, timeout, shutdown).
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<size_t>& open) : open_(open) { ++open_; }
  ~ConnectionSlot() { --open_; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::atomic<size_t>& open_;
};

// What one connection keeps between reads.
struct ConnectionState {
  ConnectionState(std::atomic<size_t>& open, RequestLimits limits, RequestReader::BodyLimit body)
      : slot(open), reader(limits, std::move(body)) {}
  ConnectionSlot slot;
  RequestReader reader;
  // Shared with the replies in flight, which may outlive the connection.
  std::shared_ptr<ConnectionOutput> output = std::make_shared<ConnectionOutput>();
};

// The HTTP front: reads each connection's requests itself (router/request_reader.h) and answers
// them through Pistache's writer. Cloned once per reactor thread; a clone is used by one thread.
class Front : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Front)
  Front(std::shared_ptr<const RouterHandlers> handlers, RequestLimits limits, size_t maxBodyBytes,
        size_t maxConnections, std::shared_ptr<std::atomic<size_t>> open, bool tls)
      : handlers_(std::move(handlers)),
        tls_(tls),
        limits_(limits),
        maxBodyBytes_(maxBodyBytes),
        maxConnections_(maxConnections),
        open_(std::move(open)) {}
  // A clone gets its own parser feed (set up on the clone's reactor thread at first input).
  Front(const Front& other)
      : Http::Handler(other),
        handlers_(other.handlers_),
        tls_(other.tls_),
        limits_(other.limits_),
        maxBodyBytes_(other.maxBodyBytes_),
        maxConnections_(other.maxConnections_),
        open_(other.open_) {}

  // Only requests fed to Pistache by this class reach Pistache, and those go to the feed.
  void onRequest(const Http::Request&, Http::ResponseWriter writer) override {
    writer.send(Http::Code::Bad_Request, "Bad request\n");
  }

 private:
  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    // What Http::Handler::onConnection does (it is private), then this connection's own state.
    peer->putData(Http::Handler::ParserData,
                  std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    auto handlers = handlers_;
    auto state = std::make_shared<ConnectionState>(
        *open_, limits_, [handlers, maxBody = maxBodyBytes_](const RequestHead& head) {
          return bodyPlan(*handlers, head, maxBody);
        });
    peer->putData(kReaderKey, state);
    if (open_->load() > maxConnections_) {
      // Past the bound the process would run out of file descriptors, and Pistache's accept loop
      // spins when it does: refuse this one at once (the reactor closes it on the EOF).
      warnFull();
      ::shutdown(peer->fd(), SHUT_RDWR);
    }
  }

  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    if (auto state = std::static_pointer_cast<ConnectionState>(peer->tryGetData(kReaderKey))) {
      state->output->open = false;
    }
    Http::Handler::onDisconnection(peer);
  }

  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    try {
      auto state = std::static_pointer_cast<ConnectionState>(peer->tryGetData(kReaderKey));
      if (!state) return;
      RequestReader& reader = state->reader;
      reader.feed(std::string_view(buffer, len));
      for (;;) {
        RequestReader::Step step = reader.next();
        if (step == RequestReader::Step::kNeedMore) {
          // Only when every earlier answer of the connection is out: the interim answer must
          // not come before the final answer of a request read before this one.
          if (reader.takeContinue() && state->output->answers.idle()) {
            transport()->asyncWrite(peer->fd(),
                                    RawBuffer(std::string(kContinue), kContinue.size()));
          }
          return;
        }
        if (step == RequestReader::Step::kRequest) {
          request_ = reader.take();
          refusal_.reset();
        } else {
          refusal_ = reader.refusal();
        }
        peer_ = peer;
        output_ = state->output;
        feedParser(peer);
        peer_.reset();
        output_.reset();
        if (step == RequestReader::Step::kRefused) return;
      }
    } catch (const std::exception& e) {
      spdlog::error("could not read a request: {}", e.what());
      ::shutdown(peer->fd(), SHUT_RDWR);
    }
  }

  void feedParser(const std::shared_ptr<Tcp::Peer>& peer) {
    if (!feed_) {
      feed_ =
          std::make_shared<ParserFeed>([this](Http::ResponseWriter w) { answer(std::move(w)); });
      feed_->setMaxRequestSize(getMaxRequestSize());
      feed_->setMaxResponseSize(getMaxResponseSize());
      sb::associateTransport(*feed_, transport());
    }
    Tcp::Handler& feed = *feed_;
    feed.onInput(kFedRequest.data(), kFedRequest.size(), peer);
  }

  // Answers the request just read (or its refusal) on the writer Pistache made for it, in turn
  // with the connection's other answers.
  void answer(Http::ResponseWriter writer) {
    auto shared = std::make_shared<Http::ResponseWriter>(std::move(writer));
    Reply reply = [transport = transport(), output = output_, ticket = output_->answers.reserve(),
                   shared, keepAlive = !refusal_ && request_.keepAlive, peer = peer_,
                   head = !refusal_ && request_.method == "HEAD"](HttpResponse r) {
      if (!keepAlive) {
        // "Connection: close" (asked for, HTTP/1.0 without keep-alive, or a refusal): the
        // connection ends with this answer (RFC 9112 §9.6), after whatever the answer itself
        // does once sent. Only while it is still open (the flag is set on this reactor thread,
        // where onSent runs): once Pistache closed it, its descriptor number may already belong
        // to another client's connection.
        r.onSent = [peer, output, then = std::move(r.onSent)] {
          if (then) then();
          if (peer && output->open) ::shutdown(peer->fd(), SHUT_RDWR);
        };
      }
      output->answers.deliver(ticket, [transport, output, shared, r = std::move(r), keepAlive,
                                       head](AnswerQueue::Done done) mutable {
        try {
          send(*transport, output, *shared, r, keepAlive, head, done);
        } catch (const std::exception& e) {
          spdlog::warn("could not send a response: {}", e.what());
          done();
          if (r.onSent) r.onSent();
        }
      });
    };
    if (refusal_) {
      // Nothing more is read from this connection: it is closed once the answer is out (a
      // refusal's answer is never kept alive, see `reply`).
      HttpResponse r = textResponse(refusal_->status, refusal_->text);
      reply(std::move(r));
      return;
    }
    try {
      HttpRequest req;
      req.method = std::move(request_.method);
      splitTarget(request_.target, req.path, req.rawQuery);
      req.body = std::move(request_.body);
      req.bodyFile = std::move(request_.bodyFile);
      req.range = std::move(request_.range);
      req.tls = tls_;
      req.host = std::move(request_.host);
      req.forwardedProto = std::move(request_.forwardedProto);
      req.cookie = std::move(request_.cookie);
      req.originalUri = std::move(request_.originalUri);
      req.contentType = std::move(request_.contentType);
      req.authorization = std::move(request_.authorization);
      req.acceptEncoding = std::move(request_.acceptEncoding);
      req.forwardedFor = std::move(request_.forwardedFor);
      if (peer_) req.clientAddress = peer_->address().host();
      routeRequest(*handlers_, req, reply);
    } catch (const std::exception& e) {
      // Handlers answer exactly once and throw nothing; should one throw before answering, its
      // client still gets an answer (and the connection's later answers their turn).
      spdlog::error("request failed: {}", e.what());
      reply(textResponse(500, "Internal error\n"));
    }
  }

  void warnFull() {
    auto now = std::chrono::steady_clock::now();
    if (now - lastFullWarning_ < std::chrono::seconds(10)) return;
    lastFullWarning_ = now;
    spdlog::warn("refusing connections: {} open, at most {} (the file descriptor limit)",
                 open_->load(), maxConnections_);
  }

  std::shared_ptr<const RouterHandlers> handlers_;
  bool tls_;  // served over HTTPS
  RequestLimits limits_;
  size_t maxBodyBytes_;
  size_t maxConnections_;
  std::shared_ptr<std::atomic<size_t>> open_;
  std::shared_ptr<ParserFeed> feed_;
  // The request being answered: set just before feeding the parser, which answers at once.
  RequestHead request_;
  std::optional<RequestRefusal> refusal_;
  std::shared_ptr<Tcp::Peer> peer_;
  std::shared_ptr<ConnectionOutput> output_;
  std::chrono::steady_clock::time_point lastFullWarning_{};
};

}  // namespace

namespace {

void dispatchRequest(const RouterHandlers& h, const HttpRequest& request, const Reply& reply) {
  const std::string& path = request.path;
  if (h.ops && h.ops->handle(request, reply)) return;
  if (auto api = apiPathOf(path)) {
    h.api->handle(request, std::string(api->call), reply, api->tenant);
  } else if (under(path, kAdminPrefix)) {
    h.admin->handle(request, path.substr(kAdminPrefix.size()), reply);  // keeps the leading '/'
  } else if (path == "/" || path.empty()) {
    reply(textResponse(200, "Switchboard: BigBlueButton API at /bigbluebutton/api\n"));
  } else if (path.starts_with("/bigbluebutton/") || path == "/unsupportedRequest") {
    reply(errorResponse(Error::of(ErrorCode::kUnsupportedRequest)));
  } else if (h.playback && h.playback->handle(request, reply)) {
    return;
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
      if (!record.note.tenant.empty()) {
        metrics->countTenantRequest(record.note.tenant, record.note.call, record.note.result);
      }
      if (record.note.storeError) metrics->countStoreError("router");
    }
    if (log) log->write(record);
    reply(std::move(r));
  };
  dispatchRequest(h, request, observed);
}

namespace {

// How many client connections the process keeps open at most: three quarters of its file
// descriptor limit (raised to the hard limit first), the rest left for Redis, PostgreSQL, BBB
// servers and logs. Pistache's accept loop spins when accept() fails for want of descriptors.
size_t connectionBound() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 768;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::max<size_t>(static_cast<size_t>(limit.rlim_cur) * 3 / 4, 16);
}

}  // namespace

struct HttpServer::Impl {
  HttpConfig config;
  std::shared_ptr<std::atomic<size_t>> openConnections = std::make_shared<std::atomic<size_t>>(0);
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
    RequestLimits limits;
    limits.maxHeadBytes = impl_->config.maxRequestBytes;
    size_t maxConnections = connectionBound();
    impl_->endpoint->setHandler(
        Http::make_handler<Front>(impl_->handlers, limits, impl_->config.maxRequestBytes,
                                  maxConnections, impl_->openConnections, impl_->config.tls()));
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
