#include "db/pg_connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <pqxx/except>

#include "db/pg_statements.h"

namespace sb {
namespace {

bool isUrl(const std::string& url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// One line of text out of libpq's multi-line messages.
std::string oneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// SQLSTATEs after which the session is gone: connection exceptions (08...) and operator
// intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now...).
bool sessionLost(const std::string& sqlstate) {
  return sqlstate.starts_with("08") || sqlstate.starts_with("57P");
}

// An idle connection has nothing to say: a readable socket means the server closed it or sent
// its last words ("FATAL: terminating connection..."). Checked before reuse, so a connection that
// died idle is dropped instead of failing the next call's first statement (which libpqxx 6 also
// answers by leaking that statement's result).
bool idleLooksAlive(const pqxx::connection& conn) {
  if (!conn.is_open()) return false;
  pollfd p{conn.sock(), POLLIN, 0};
  if (p.fd < 0) return false;
  return ::poll(&p, 1, 0) <= 0;  // -1 (EINTR...): cannot tell; let the statement find out
}

Error unavailable(std::string_view what) {
  return Error::of(ErrorCode::kStoreUnavailable, "postgres: " + oneLine(what));
}

}  // namespace

std::string pgConninfo(const PgOptions& options) {
  std::string info = options.url;
  const bool url = isUrl(info);
  auto add = [&](std::string_view key, const std::string& value) {
    std::string k(key);
    k += '=';
    if (url) {
      size_t query = info.find('?');
      if (query != std::string::npos && (info.find("?" + k, query) != std::string::npos ||
                                         info.find("&" + k, query) != std::string::npos)) {
        return;
      }
      info += query == std::string::npos ? '?' : '&';
    } else {
      if (info.starts_with(k) || info.find(" " + k) != std::string::npos) return;
      if (!info.empty()) info += ' ';
    }
    info += k + value;
  };
  if (options.connectTimeoutSeconds > 0) {
    add("connect_timeout", std::to_string(options.connectTimeoutSeconds));
  }
  if (options.tcpUserTimeoutMs > 0)
    add("tcp_user_timeout", std::to_string(options.tcpUserTimeoutMs));
  add("fallback_application_name", "switchboard");
  return info;
}

std::string redactPgUrl(const std::string& url) {
  std::string out = url;
  if (isUrl(out)) {
    size_t start = out.find("://") + 3;
    size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URL query parameter or a key=value pair (possibly quoted).
  for (size_t pos = out.find("password"); pos != std::string::npos;
       pos = out.find("password", pos + 1)) {
    size_t eq = pos + 8;
    while (eq < out.size() && out[eq] == ' ') ++eq;
    if (eq >= out.size() || out[eq] != '=') continue;
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&' && out[pos - 1] != ' ') continue;
    size_t begin = eq + 1;
    while (begin < out.size() && out[begin] == ' ') ++begin;
    size_t end = begin;
    if (end < out.size() && out[end] == '\'') {
      for (++end; end < out.size() && out[end] != '\''; ++end) {
        if (out[end] == '\\') ++end;
      }
      end = std::min(out.size(), end + 1);
    } else {
      end = out.find_first_of("& ", begin);
      if (end == std::string::npos) end = out.size();
    }
    out.replace(begin, end - begin, "***");
  }
  return out;
}

PgConnection::PgConnection(PgOptions options)
    : options_(std::move(options)),
      conninfo_(pgConninfo(options_)),
      redactedUrl_(redactPgUrl(options_.url)) {}

PgConnection::~PgConnection() = default;

Status PgConnection::ping() {
  return transact([](pqxx::work& txn) -> Status {
    txn.exec(pgsql::kPing);
    return Status::Ok();
  });
}

std::unique_ptr<pqxx::connection> PgConnection::open() {
  auto conn = std::make_unique<pqxx::connection>(conninfo_);
  if (options_.statementTimeoutMs > 0) {
    // pqxx re-applies variables set this way if it ever re-opens the session itself.
    conn->set_variable(pgsql::kStatementTimeoutVariable,
                       std::to_string(options_.statementTimeoutMs));
  }
  if (options_.preparedStatements) {
    // Definitions only: libpqxx prepares each on the server with its first use.
    for (const pgsql::Statement* statement : pgsql::kStoreStatements) {
      conn->prepare(statement->name, statement->sql);
    }
  }
  return conn;
}

Result<PgConnection::Lease> PgConnection::acquire() {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(options_.connectTimeoutSeconds) +
                        std::chrono::milliseconds(options_.statementTimeoutMs) +
                        std::chrono::milliseconds(100);
  const int max = std::max(1, options_.maxConnections);
  std::unique_lock lock(mu_);
  for (;;) {
    while (idle_.empty() && open_ >= max) {
      if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= max) {
        return unavailable("all " + std::to_string(max) + " connections are busy");
      }
    }
    if (idle_.empty()) break;
    Lease lease{std::move(idle_.back()), true};
    idle_.pop_back();
    lock.unlock();
    if (idleLooksAlive(*lease.conn)) return lease;
    lease.conn.reset();  // closing is socket I/O: outside the lock
    lock.lock();
    --open_;
  }
  // Open a new connection. While unreachable, one caller probes and the others fail at once.
  const bool probe = !reachable_.load();
  if (probe) {
    if (probing_) return unavailable(lastError_.empty() ? "unreachable" : lastError_);
    probing_ = true;
  }
  ++open_;
  lock.unlock();

  std::string what;
  try {
    Lease lease{open(), false};
    if (probe) {
      std::lock_guard relock(mu_);
      probing_ = false;
    }
    return lease;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "cannot connect";
  }
  what = oneLine(what);
  {
    std::lock_guard relock(mu_);
    --open_;
    if (probe) probing_ = false;
    lastError_ = what;
  }
  freed_.notify_one();
  noteUnreachable(what);
  return unavailable(what);
}

void PgConnection::release(Lease lease) {
  if (!lease.conn) return;
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(lease.conn));
  }
  freed_.notify_one();
}

void PgConnection::dropBroken(Lease& lease) noexcept {
  std::vector<std::unique_ptr<pqxx::connection>> gone;
  {
    std::lock_guard lock(mu_);
    gone.swap(idle_);
    open_ -= static_cast<int>(gone.size()) + (lease.conn ? 1 : 0);
  }
  freed_.notify_all();
  lease.conn.reset();  // closing a connection is socket I/O: outside the lock
  gone.clear();
}

Error PgConnection::failed(Lease& lease, bool firstAttempt, bool& retry) noexcept {
  std::string what;
  bool broken = false;
  bool inDoubt = false;
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    what = e.what();
    broken = true;
    inDoubt = true;
  } catch (const pqxx::broken_connection& e) {
    what = e.what();
    broken = true;
  } catch (const pqxx::sql_error& e) {
    what = e.what();
    broken = sessionLost(e.sqlstate());
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unexpected failure";
  }
  if (!broken && lease.conn && !lease.conn->is_open()) broken = true;
  what = oneLine(what);
  if (!broken) {
    release(std::move(lease));  // the transaction was rolled back; the session is fine
    return unavailable(what);
  }
  dropBroken(lease);
  // A pooled connection can die unseen by the liveness check (a peer that vanished without
  // closing): one more try on a fresh connection is safe unless the commit itself may have
  // landed (nothing else was committed; the server rolled it back).
  retry = firstAttempt && lease.reused && !inDoubt;
  if (!retry) {
    {
      std::lock_guard lock(mu_);
      lastError_ = what;
    }
    noteUnreachable(what);
  }
  return unavailable(what);
}

void PgConnection::noteReachable() {
  if (reachable_.load(std::memory_order_relaxed)) return;
  if (!reachable_.exchange(true)) spdlog::info("postgres at {} is reachable again", redactedUrl_);
}

void PgConnection::noteUnreachable(const std::string& what) {
  if (reachable_.exchange(false)) {
    spdlog::warn("postgres at {} is unreachable ({}); calls fail until it is back", redactedUrl_,
                 what);
  }
}

}  // namespace sb
