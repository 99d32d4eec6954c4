#include "db/redis_connection.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>

namespace sb {
namespace {

constexpr std::string_view kScheme = "redis://";

Error invalidUrl(std::string_view why) {
  return Error::of(ErrorCode::kInvalidArgument, "redis: invalid REDIS_URL: " + std::string(why));
}

Error unavailable(std::string what) {
  return Error::of(ErrorCode::kStoreUnavailable, "redis: " + std::move(what));
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding (no '+' rule: this is the userinfo of a URL, not a form).
std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hexValue(text[i + 1]);
    int lo = hexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<int> parseNumber(std::string_view text, int max) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

// Blocks SIGPIPE in this thread for the guard's lifetime and discards one raised meanwhile (a
// write to a socket Redis has closed), as libpq does; hiredis writes with write(2), not
// send(MSG_NOSIGNAL).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    wasPending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!wasPending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool wasPending_ = false;
};

// True when the peer closed an idle connection (or sent something unasked): not reusable.
bool peerClosed(const redisContext* c) {
  pollfd p{};
  p.fd = c->fd;
  p.events = POLLIN;
  return poll(&p, 1, 0) != 0;
}

}  // namespace

std::string RedisOptions::endpoint() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port) + "/" + std::to_string(db);
}

Result<RedisOptions> parseRedisUrl(std::string_view url) {
  if (url.starts_with("rediss://")) return invalidUrl("rediss:// (TLS) is not supported");
  if (!url.starts_with(kScheme)) return invalidUrl("it must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalidUrl("query parameters are not supported");
  }
  RedisOptions o;
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    auto user = percentDecode(userinfo.substr(0, colon));
    if (!user) return invalidUrl("bad percent-escape in the user name");
    o.username = *user;
    if (colon != std::string_view::npos) {
      auto password = percentDecode(userinfo.substr(colon + 1));
      if (!password) return invalidUrl("bad percent-escape in the password");
      o.password = *password;
    }
  }

  std::string_view port;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalidUrl("unterminated IPv6 address");
    o.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return invalidUrl("garbage after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return invalidUrl("empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    o.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return invalidUrl("empty port");
    }
  }
  if (o.host.empty()) return invalidUrl("no host");
  if (!port.empty()) {
    auto p = parseNumber(port, 65535);
    if (!p || *p == 0) return invalidUrl("bad port");
    o.port = *p;
  }
  if (!path.empty()) {
    auto db = parseNumber(path, 1 << 20);
    if (!db) return invalidUrl("the path must be a database number");
    o.db = *db;
  }
  return o;
}

RedisScript::RedisScript(std::string body) : body_(std::move(body)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(body_.data(), body_.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    sha_ += kHex[digest[i] >> 4];
    sha_ += kHex[digest[i] & 0xf];
  }
}

void RedisConnection::ContextDeleter::operator()(redisContext* c) const {
  if (c != nullptr) redisFree(c);
}

RedisConnection::RedisConnection(RedisOptions options)
    : options_(std::move(options)), endpoint_(options_.endpoint()) {}

RedisConnection::~RedisConnection() = default;

void RedisConnection::markDown(std::string_view what, bool timedOut) {
  if (timedOut && options_.stallProbeInterval.count() > 0) {
    std::lock_guard lock(stallMu_);
    stallWhat_ = std::string(what);
    nextProbe_ = std::chrono::steady_clock::now() + options_.stallProbeInterval;
    stalled_.store(true);
  } else if (!timedOut && stalled_.load()) {
    // A refusal or a closed connection is an answer: calls fail fast without the breaker.
    std::lock_guard lock(stallMu_);
    stalled_.store(false);
  }
  if (reachable_.exchange(false)) {
    spdlog::warn("redis {} is unreachable: {} (store calls fail until it is back)", endpoint_,
                 what);
  }
}

void RedisConnection::markUp() {
  if (stalled_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(stallMu_);
    stalled_.store(false);
  }
  if (!reachable_.load(std::memory_order_relaxed) && !reachable_.exchange(true)) {
    spdlog::info("redis {} is reachable again", endpoint_);
  }
}

std::optional<Error> RedisConnection::admit(bool& probe) {
  probe = false;
  if (!stalled_.load()) return std::nullopt;
  std::lock_guard lock(stallMu_);
  if (!stalled_.load()) return std::nullopt;
  if (!probing_ && std::chrono::steady_clock::now() >= nextProbe_) {
    probing_ = true;
    probe = true;
    return std::nullopt;
  }
  return unavailable(endpoint_ + ": stalled (" + stallWhat_ +
                     "): calls fail at once until it answers again");
}

void RedisConnection::endProbe() {
  std::lock_guard lock(stallMu_);
  probing_ = false;
}

Error RedisConnection::ioError(redisContext* c, std::string_view doing) {
  std::string what = c->errstr;
  const bool timedOut =
      c->err == REDIS_ERR_IO && (what.find("temporarily unavailable") != std::string::npos ||
                                 what.find("timed out") != std::string::npos);
  if (timedOut) {
    what = "timed out after " + std::to_string(options_.commandTimeout.count()) + " ms";
  } else if (c->err == REDIS_ERR_EOF) {
    what = "connection closed by the server";
  }
  what = std::string(doing) + ": " + what;
  markDown(what, timedOut);
  return unavailable(endpoint_ + ": " + what);
}

Result<RedisConnection::ContextPtr> RedisConnection::connect() {
  redisContext* raw = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                              toTimeval(options_.connectTimeout));
  if (raw == nullptr) {
    markDown("cannot allocate a connection", false);
    return unavailable(endpoint_ + ": cannot allocate a connection");
  }
  ContextPtr c(raw);
  if (c->err != 0) {
    std::string what = c->errstr;
    const bool timedOut = what.find("timed out") != std::string::npos ||
                          what.find("temporarily unavailable") != std::string::npos;
    if (timedOut) {
      what = "timed out after " + std::to_string(options_.connectTimeout.count()) + " ms";
    }
    what = "cannot connect: " + what;
    markDown(what, timedOut);
    return unavailable(endpoint_ + ": " + what);
  }
  if (redisSetTimeout(c.get(), toTimeval(options_.commandTimeout)) != REDIS_OK) {
    return ioError(c.get(), "setting the command timeout");
  }
  std::vector<std::vector<std::string>> hello;
  if (!options_.password.empty()) {
    if (options_.username.empty()) {
      hello.push_back({"AUTH", options_.password});
    } else {
      hello.push_back({"AUTH", options_.username, options_.password});
    }
  }
  if (options_.db != 0) hello.push_back({"SELECT", std::to_string(options_.db)});
  if (!hello.empty()) {
    auto replies = exchange(c.get(), hello);
    if (!replies.ok()) return replies.error();
    for (size_t i = 0; i < replies->size(); ++i) {
      const RedisReply& r = (*replies)[i];
      if (r.type == RedisReply::Type::kError) {
        std::string what = hello[i][0] + " refused: " + r.str;
        markDown(what, false);
        return unavailable(endpoint_ + ": " + what);
      }
    }
  }
  // Not markUp() yet: a stalled Redis still completes TCP handshakes (the kernel does); only a
  // reply proves it is back, and exchange() notes that.
  return c;
}

template <typename Fn>
Result<std::vector<RedisReply>> RedisConnection::onContext(Fn&& fn) {
  bool probe = false;
  if (std::optional<Error> refused = admit(probe)) return *std::move(refused);
  struct ProbeSlot {
    RedisConnection* self;
    ~ProbeSlot() {
      if (self != nullptr) self->endProbe();
    }
  } slot{probe ? this : nullptr};
  auto c = checkout();
  if (!c.ok()) return c.error();
  Result<std::vector<RedisReply>> replies = fn(c->get());
  checkin(std::move(*c));
  return replies;
}

Result<RedisConnection::ContextPtr> RedisConnection::checkout() {
  for (;;) {
    ContextPtr c;
    {
      std::lock_guard lock(mu_);
      if (idle_.empty()) break;
      c = std::move(idle_.back());
      idle_.pop_back();
    }
    if (!peerClosed(c.get())) return c;
    // Dropped here: the server went away while it was idle (restart, client timeout).
  }
  return connect();
}

void RedisConnection::checkin(ContextPtr c) {
  if (!c || c->err != 0) return;  // broken: dropped, the next call reconnects
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.maxIdleConnections) idle_.push_back(std::move(c));
}

Result<std::vector<RedisReply>> RedisConnection::exchange(
    redisContext* c, const std::vector<std::vector<std::string>>& commands) {
  SigpipeGuard guard;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& command : commands) {
    argv.clear();
    lengths.clear();
    for (const auto& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK) {
      return ioError(c, "sending");
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      if (raw != nullptr) freeReplyObject(raw);
      return ioError(c, "reading a reply");
    }
    replies.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  markUp();
  return replies;
}

Result<std::vector<RedisReply>> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (commands.empty()) return std::vector<RedisReply>();
  auto replies = onContext([&](redisContext* c) { return exchange(c, commands); });
  if (!replies.ok()) return replies.error();
  for (const auto& r : *replies) {
    if (r.type == RedisReply::Type::kError) return unavailable(r.str);
  }
  return replies;
}

Result<RedisReply> RedisConnection::command(const std::vector<std::string>& args) {
  auto replies = pipeline({args});
  if (!replies.ok()) return replies.error();
  return std::move(replies->front());
}

Result<RedisReply> RedisConnection::eval(const RedisScript& script,
                                         const std::vector<std::string>& keys,
                                         const std::vector<std::string>& args) {
  std::vector<std::string> cmd{"EVALSHA", script.sha(), std::to_string(keys.size())};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto replies = onContext([&](redisContext* c) {
    auto sent = exchange(c, {cmd});
    if (sent.ok() && sent->front().type == RedisReply::Type::kError &&
        sent->front().str.starts_with("NOSCRIPT")) {
      // Redis does not know the script (restarted or SCRIPT FLUSHed): EVAL sends and caches it.
      cmd[0] = "EVAL";
      cmd[1] = script.body();
      sent = exchange(c, {cmd});
    }
    return sent;
  });
  if (!replies.ok()) return replies.error();
  RedisReply& r = replies->front();
  if (r.type == RedisReply::Type::kError) return unavailable(r.str);
  return std::move(r);
}

Status RedisConnection::ping() {
  auto r = command({"PING"});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

}  // namespace sb
