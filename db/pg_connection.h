// The PostgreSQL adapters' way to the database: a small pool of libpqxx connections opened from
// DATABASE_URL, each used by one thread at a time (a pqxx connection is never shared), with a
// connect timeout and a statement timeout, and recovery without help: a connection that broke is
// dropped (with the idle ones, which broke too, most likely) and the next call opens a new one. A
// pooled connection never reconnects by itself (libpqxx 6 would, blocking, when a statement runs
// on a broken one): the pool replaces it.
//
// Every failure comes back as Error{kStoreUnavailable, "postgres: <what>"}: libpqxx exceptions
// are caught here and never escape. The password never appears in messages or logs. One warning
// is logged when PostgreSQL becomes unreachable and one info line when it is back, not one per
// call. While it is unreachable only one caller at a time tries to connect; the others fail at
// once instead of each waiting for the connect timeout.
//
// A stopped server (SIGSTOP, a frozen VM) keeps its connections open, its kernel completes
// handshakes and ACKs what is sent, and nothing answers: the statement timeout (enforced by the
// server) and tcp_user_timeout (data stays unacknowledged) cannot end such a wait. With
// PgOptions::callTimeoutMs set, the client enforces a deadline of its own on every call (see
// there). And once a call timed out (that deadline, or the connect timeout), PostgreSQL counts as
// stalled: every call fails at once ("stalled") until it answers again, except one call at a time,
// at most one per PgOptions::stallProbeIntervalMs (the probe), which goes to the server; its
// answer (a result, an error, or a refused or closed connection) ends the stall. So a stalled
// server costs one timeout, not one per call, and is used again within callTimeoutMs +
// stallProbeIntervalMs of answering again.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.h"
#include "db/pg_statements.h"

namespace sb {

struct PgOptions {
  // DATABASE_URL, "postgresql://user:pass@host:port/db[?param=value&...]", or a libpq
  // "key=value ..." string. Parameters it sets itself win over the ones below. Required.
  std::string url;
  // libpq connect_timeout in seconds, per address tried (libpq waits at least 2). 0 = wait as
  // long as the OS does. Default 3. With callTimeoutMs set, the call's deadline bounds connecting
  // instead.
  int connectTimeoutSeconds = 3;
  // statement_timeout set on every connection, in milliseconds; 0 = none. Default 2000. (The
  // migrator lifts it inside its own transactions: a migration may take longer.)
  int statementTimeoutMs = 2000;
  // libpq tcp_user_timeout in milliseconds: how long sent data may stay unacknowledged before the
  // connection counts as broken, which bounds a call when the host vanishes mid-query (the
  // statement timeout is enforced by the server, which is then gone). 0 = the OS default.
  // Default 5000.
  int tcpUserTimeoutMs = 5000;
  // Connections open at once, at most. A caller beyond waits for a free one, up to the connect
  // plus the statement timeout (callTimeoutMs when set), then fails. Default 8.
  int maxConnections = 8;
  // Client-side deadline of one call (transact, autocommit, ping), in milliseconds: waiting for a
  // pooled connection, connecting, every round trip and the retry on a stale connection all end
  // by then. When it passes, the call's socket is shut down (so that libpq's blocked read or
  // write returns), the call fails with kStoreUnavailable "timed out after <n> ms", and its
  // connection is discarded, never returned to the pool. As on a connection lost mid-call, a
  // write that timed out may still be applied when the server resumes (the error says so when
  // the deadline passed during a COMMIT). New connections then connect asynchronously, so the
  // deadline bounds the handshake too, on the address being tried when the call starts waiting
  // (not a DNS lookup; a host name with several addresses may make libpq move on to one the
  // deadline does not cover: prefer an address, or a name with one). 0 = none: a call against a
  // stopped server waits until it resumes (for `switchboard migrate`: a migration may take
  // long). Default 0.
  int callTimeoutMs = 0;
  // While stalled (see above), calls fail at once, and one call at a time, at most one per this
  // many milliseconds, goes to the server to find out whether it answers again. 0 = off: every
  // call waits for its own timeout. Default 1000.
  int stallProbeIntervalMs = 1000;
  // Run the stores' statements as prepared statements (pgsql::kStoreStatements, prepared once per
  // connection): PostgreSQL then parses and plans each only once per connection, which halves its
  // CPU per meeting claim. Off only for a connection pooler that cannot keep them (PgBouncer in
  // transaction mode before 1.21). Default on.
  bool preparedStatements = true;
};

class PgConnection {
 public:
  explicit PgConnection(PgOptions options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `fn(pqxx::work&)` in one transaction on a connection of the pool. `fn` returns a Result
  // or a Status; the transaction commits when that is ok and rolls back otherwise. Any exception
  // `fn` or libpqxx throws becomes kStoreUnavailable. When a connection taken from the pool turns
  // out broken before the commit, `fn` runs once more on a new connection (nothing was
  // committed, the server rolled it back), so `fn` must do nothing but database work.
  // A statement that fails aborts the transaction: `fn` may catch a pqxx::sql_error to turn it
  // into its own Error, but must then return that error without running more statements.
  template <typename Fn>
  auto transact(Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::work&>;

  // Like transact, for work that is one statement (or statements each fine on its own): runs
  // `fn(pqxx::nontransaction&)` in autocommit, one round trip per statement instead of BEGIN,
  // statements, COMMIT. The retry on a stale pooled connection applies too, so a statement must be
  // safe to run twice (a read, or a write whose repeat finds its own first effect).
  template <typename Fn>
  auto autocommit(Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::nontransaction&>;

  // Runs one of the stores' statements with `args` in `txn`: prepared under its name, or by its
  // text when options().preparedStatements is off. Throws what libpqxx throws (inside transact or
  // autocommit, which turn it into an Error).
  template <typename Txn, typename... Args>
  pqxx::result exec(Txn& txn, const pgsql::Statement& statement, Args&&... args) const;

  // One round trip ("SELECT 1"), for /readyz.
  Status ping();

  // The URL with the password replaced by "***", for logs and status pages.
  const std::string& redactedUrl() const { return redactedUrl_; }
  // False from a connection failure until the next success.
  bool reachable() const { return reachable_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  class Session;   // a pooled libpqxx connection that never reconnects by itself
  class Watchdog;  // shuts down the sockets of calls past their deadline
  struct SessionDeleter {
    void operator()(Session* session) const noexcept;
  };
  using SessionPtr = std::unique_ptr<Session, SessionDeleter>;

  struct Lease {
    SessionPtr conn;
    bool reused = false;  // taken from the idle list (rather than opened for this call)
  };

  // One call (transact, autocommit, ping) from start to end: its deadline (callTimeoutMs), and
  // whether it was let through as the probe of a stalled server (the slot is handed back when the
  // call ends).
  class Call {
   public:
    explicit Call(PgConnection& pg);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    // Set when the call may not go to the server (it is stalled): the call fails with it.
    const std::optional<Error>& refused() const { return refused_; }
    const std::optional<Clock::time_point>& deadline() const { return deadline_; }

   private:
    PgConnection& pg_;
    std::optional<Clock::time_point> deadline_;
    std::optional<Error> refused_;
    bool probe_ = false;
  };

  static pqxx::connection_base& connectionOf(const Lease& lease);
  Result<Lease> acquire(const Call& call);
  void release(Lease lease);
  SessionPtr open();
  // Arms the watchdog over `lease`'s socket until the call's deadline (a no-op without one);
  // unwatch() disarms it and says whether it fired (then the socket is shut down).
  uint64_t watch(const Lease& lease, const Call& call);
  bool unwatch(uint64_t ticket) noexcept;
  // After a call's work finished (ok or not, no exception): back to the pool, or dropped when the
  // watchdog fired meanwhile.
  void finished(Lease& lease, bool timedOut);
  // Handles the exception in flight of a transact() attempt: drops the connection when it broke,
  // logs a transition to unreachable, and says whether one more attempt may run. `timedOut`: the
  // watchdog shut the connection down at the call's deadline.
  Error failed(Lease& lease, const Call& call, bool firstAttempt, bool timedOut,
               bool& retry) noexcept;
  // Forgets `lease`'s connection and every idle one (they share its fate, most likely).
  void dropBroken(Lease& lease) noexcept;
  // Forgets `lease`'s connection alone.
  void discard(Lease& lease) noexcept;
  void noteReachable();
  void noteUnreachable(const std::string& what);
  // The stall breaker: a timeout makes the server stalled, any answer ends it.
  void noteStalled(const std::string& what);
  void noteAnswered();

  // transact and autocommit: `fn` in a `Txn` on a pooled connection, committed when it is ok.
  template <typename Txn, typename Fn>
  auto runIn(Fn&& fn) -> std::invoke_result_t<Fn&, Txn&>;

  const PgOptions options_;
  const std::string conninfo_;     // options_.url plus our timeouts (holds the password)
  const std::string redactedUrl_;  // options_.url without the password

  std::unique_ptr<Watchdog> watchdog_;  // with callTimeoutMs only

  std::mutex mu_;
  std::condition_variable freed_;  // signalled when open_ drops or idle_ grows
  std::vector<SessionPtr> idle_;   // guarded by mu_
  int open_ = 0;                   // idle plus leased connections; guarded by mu_
  bool probing_ = false;           // a caller is connecting while unreachable; guarded by mu_
  std::string lastError_;          // the last connection failure; guarded by mu_
  std::atomic<bool> reachable_{true};

  std::atomic<bool> stalled_{false};  // a call timed out, none answered since; written under mu_
  Clock::time_point nextProbe_;       // when a probe may go next; guarded by mu_
  bool stallProbe_ = false;           // a probe is in flight; guarded by mu_
  std::string stallWhat_;             // the timeout that made it stalled; guarded by mu_
};

// Builds the libpq conninfo: `options.url` plus connect_timeout, tcp_user_timeout and
// fallback_application_name where the URL does not set them. Exposed for tests.
std::string pgConninfo(const PgOptions& options);
// `url` with the password (user:PASS@ in a URL, password=... anywhere) replaced by "***".
std::string redactPgUrl(const std::string& url);

// ---- implementation
// ------------------------------------------------------------------------------

template <typename Fn>
auto PgConnection::transact(Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::work&> {
  return runIn<pqxx::work>(std::forward<Fn>(fn));
}

template <typename Fn>
auto PgConnection::autocommit(Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::nontransaction&> {
  return runIn<pqxx::nontransaction>(std::forward<Fn>(fn));
}

template <typename Txn, typename... Args>
pqxx::result PgConnection::exec(Txn& txn, const pgsql::Statement& statement, Args&&... args) const {
  if (options_.preparedStatements) {
    return txn.exec_prepared(statement.name, std::forward<Args>(args)...);
  }
  return txn.exec_params(statement.sql, std::forward<Args>(args)...);
}

template <typename Txn, typename Fn>
auto PgConnection::runIn(Fn&& fn) -> std::invoke_result_t<Fn&, Txn&> {
  using Out = std::invoke_result_t<Fn&, Txn&>;
  Call call(*this);
  if (call.refused()) return *call.refused();
  for (int attempt = 1;; ++attempt) {
    Result<Lease> lease = acquire(call);
    if (!lease) return lease.error();
    const uint64_t ticket = watch(*lease, call);
    bool retry = false;
    try {
      Out out = [&]() -> Out {
        Txn txn(connectionOf(*lease));
        Out result = fn(txn);
        if (result.ok()) txn.commit();
        return result;
      }();
      finished(*lease, unwatch(ticket));
      return out;
    } catch (...) {
      Error error = failed(*lease, call, attempt == 1, unwatch(ticket), retry);
      if (!retry) return error;
    }
  }
}

}  // namespace sb
