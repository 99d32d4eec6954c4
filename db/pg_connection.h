// The PostgreSQL adapters' way to the database: a small pool of libpqxx connections opened from
// DATABASE_URL, each used by one thread at a time (a pqxx::connection is never shared), with a
// connect timeout and a statement timeout, and recovery without help: a connection that broke is
// dropped (with the idle ones, which broke too, most likely) and the next call opens a new one.
//
// Every failure comes back as Error{kStoreUnavailable, "postgres: <what>"}: libpqxx exceptions
// are caught here and never escape. The password never appears in messages or logs. One warning
// is logged when PostgreSQL becomes unreachable and one info line when it is back, not one per
// call. While it is unreachable only one caller at a time tries to connect; the others fail at
// once instead of each waiting for the connect timeout.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
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
  // long as the OS does. Default 3.
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
  // plus the statement timeout, then fails. Default 8.
  int maxConnections = 8;
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
  struct Lease {
    std::unique_ptr<pqxx::connection> conn;
    bool reused = false;  // taken from the idle list (rather than opened for this call)
  };

  Result<Lease> acquire();
  void release(Lease lease);
  std::unique_ptr<pqxx::connection> open();
  // Handles the exception in flight of a transact() attempt: drops the connection when it broke,
  // logs a transition to unreachable, and says whether one more attempt may run.
  Error failed(Lease& lease, bool firstAttempt, bool& retry) noexcept;
  // Forgets `lease`'s connection and every idle one (they share its fate, most likely).
  void dropBroken(Lease& lease) noexcept;
  void noteReachable();
  void noteUnreachable(const std::string& what);

  // transact and autocommit: `fn` in a `Txn` on a pooled connection, committed when it is ok.
  template <typename Txn, typename Fn>
  auto runIn(Fn&& fn) -> std::invoke_result_t<Fn&, Txn&>;

  const PgOptions options_;
  const std::string conninfo_;     // options_.url plus our timeouts (holds the password)
  const std::string redactedUrl_;  // options_.url without the password

  std::mutex mu_;
  std::condition_variable freed_;  // signalled when open_ drops or idle_ grows
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
  int open_ = 0;           // idle plus leased connections; guarded by mu_
  bool probing_ = false;   // a caller is connecting while unreachable; guarded by mu_
  std::string lastError_;  // the last connection failure; guarded by mu_
  std::atomic<bool> reachable_{true};
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
  for (int attempt = 1;; ++attempt) {
    Result<Lease> lease = acquire();
    if (!lease) return lease.error();
    bool retry = false;
    try {
      Out out = [&]() -> Out {
        Txn txn(*lease->conn);
        Out result = fn(txn);
        if (result.ok()) txn.commit();
        return result;
      }();
      release(std::move(*lease));
      noteReachable();
      return out;
    } catch (...) {
      Error error = failed(*lease, attempt == 1, retry);
      if (!retry) return error;
    }
  }
}

}  // namespace sb
