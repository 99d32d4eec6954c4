// RedisConnection: a thread-safe handle to one Redis server, backed by a small pool of blocking
// hiredis contexts (a context is used by one thread at a time, never shared, as the
// architecture's concurrency rules require).
//
// Failure model:
//  - Every failure (cannot connect, AUTH/SELECT refused, I/O error, timeout, error reply) is a
//    value: Error{kStoreUnavailable, "redis: <what>"}. Nothing here throws.
//  - Connect and each socket read/write are bounded by RedisOptions' timeouts, so no call waits
//    on a dead or stopped Redis for longer than those.
//  - A stalled Redis (it accepts connections, the kernel ACKs, nothing answers: a stopped
//    process, a frozen VM) costs one timeout, not one per call: once a call timed out, every call
//    fails at once ("stalled") until Redis answers again. One call at a time, at most one per
//    RedisOptions::stallProbeInterval, still goes to Redis (the probe) and waits for its timeout;
//    its answer (any reply, or a refused or closed connection) ends the stall. So callers with a
//    fallback (the durable store falls back to PostgreSQL) use it at once, and a Redis that
//    answers again is used again within commandTimeout + stallProbeInterval.
//  - A context that saw an I/O error or timeout is dropped (its protocol state is unknown); the
//    next call connects afresh. Idle contexts whose peer has closed (Redis restarted) are noticed
//    before use and dropped, so recovery needs no action from the caller.
//  - One warning is logged when Redis becomes unreachable and one info line when it is back,
//    not one per request. The password never appears in logs or error messages.
//  - SIGPIPE (a write to a socket Redis closed) is blocked and discarded around each exchange,
//    so the process survives even if it does not ignore SIGPIPE.
// Thread-safety: all methods may be called from any thread concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct redisContext;  // hiredis

namespace sb {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // Redis 6 ACL user; empty = AUTH with the password alone
  std::string password;  // empty = no AUTH
  int db = 0;            // SELECTed on connect when not 0
  // Bounds the TCP connect (not a DNS lookup of `host`: prefer an address or a local resolver).
  std::chrono::milliseconds connectTimeout{1000};
  // Bounds each socket read and write of a command (a pipeline of n replies may take n times).
  std::chrono::milliseconds commandTimeout{1000};
  // After a call timed out, calls fail at once until Redis answers again, and one call at most
  // this often goes to Redis to find out (see the failure model above). 0 = off: every call waits
  // for its own timeout. Default 1 s.
  std::chrono::milliseconds stallProbeInterval{1000};
  // Idle contexts kept for reuse; more may exist while many threads are in calls at once.
  size_t maxIdleConnections = 8;

  // "host:port/db", for logs and messages: never the credentials.
  std::string endpoint() const;
};

// Parses "redis://[[user]:password@]host[:port][/db]" (user and password percent-decoded; an IPv6
// host in brackets). kInvalidArgument on anything else (rediss:// TLS is not supported). The
// error message never contains the password.
Result<RedisOptions> parseRedisUrl(std::string_view url);

// One reply, converted out of hiredis's reply tree.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool isNil() const { return type == Type::kNil; }
};

// A Lua script run with EVALSHA (its SHA-1 computed here), falling back to EVAL when Redis does
// not know it yet (NOSCRIPT: a restarted or flushed Redis).
class RedisScript {
 public:
  explicit RedisScript(std::string body);
  const std::string& body() const { return body_; }
  const std::string& sha() const { return sha_; }

 private:
  std::string body_;
  std::string sha_;
};

class RedisConnection {
 public:
  explicit RedisConnection(RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  const RedisOptions& options() const { return options_; }

  // One command, binary-safe arguments. An error reply is an Error.
  Result<RedisReply> command(const std::vector<std::string>& args);
  // Several commands in one round trip, replies in order. Any error reply is an Error (the
  // other commands still ran).
  Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);
  // Runs `script` atomically with KEYS = keys and ARGV = args.
  Result<RedisReply> eval(const RedisScript& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);
  // PING (for /readyz).
  Status ping();

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  // Runs `fn(context)` on a pooled context, through the stall breaker.
  template <typename Fn>
  Result<std::vector<RedisReply>> onContext(Fn&& fn);
  Result<ContextPtr> checkout();
  void checkin(ContextPtr context);
  Result<ContextPtr> connect();
  // Sends the commands and reads every reply; error replies stay replies.
  Result<std::vector<RedisReply>> exchange(redisContext* context,
                                           const std::vector<std::vector<std::string>>& commands);
  Error ioError(redisContext* context, std::string_view doing);
  // `timedOut`: Redis did not answer in time (a stall); otherwise it answered with a refusal.
  void markDown(std::string_view what, bool timedOut);
  void markUp();
  // The stall breaker. admit() says whether a call may go to Redis now (nullopt) or must fail at
  // once (the error), and sets `probe` when the call goes as the probe of a stalled Redis, which
  // then calls endProbe() when it is done.
  std::optional<Error> admit(bool& probe);
  void endProbe();

  const RedisOptions options_;
  const std::string endpoint_;
  std::mutex mu_;
  std::vector<ContextPtr> idle_;       // guarded by mu_
  std::atomic<bool> reachable_{true};  // last known; flips log one line each way

  std::mutex stallMu_;
  std::atomic<bool> stalled_{false};  // the last call timed out; written under stallMu_
  std::chrono::steady_clock::time_point nextProbe_;  // guarded by stallMu_
  bool probing_ = false;                             // a probe is in flight; guarded by stallMu_
  std::string stallWhat_;                            // the timeout; guarded by stallMu_
};

}  // namespace sb
