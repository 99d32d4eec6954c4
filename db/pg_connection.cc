#include "db/pg_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <pqxx/except>
#include <thread>

#include "db/pg_statements.h"

namespace sb {
namespace {

// A connection policy that connects once. libpqxx 6 reconnects a connection that broke by itself
// as soon as a statement (a ROLLBACK in a transaction's destructor, say) runs on it, blocking and
// beyond any deadline of ours; the pool replaces a broken connection instead.
template <typename Base>
class ConnectOnce final : public Base {
 public:
  explicit ConnectOnce(const std::string& conninfo) : Base(conninfo) {}
  pqxx::connectionpolicy::handle do_startconnect(pqxx::connectionpolicy::handle orig) override {
    if (orig == nullptr) {
      if (started_) throw pqxx::broken_connection("the connection was lost");
      started_ = true;
    }
    return Base::do_startconnect(orig);
  }

 private:
  bool started_ = false;
};

// Holds the policy ahead of the connection_base that refers to it (base-from-member).
struct PolicyHolder {
  std::unique_ptr<pqxx::connectionpolicy> policy;
};

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
bool idleLooksAlive(const pqxx::connection_base& conn) {
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

// With a call deadline, a connection starts connecting in its constructor and completes on its
// first use (libpqxx's asynchronous policy), so that the call's watchdog bounds the handshake too;
// without one, it connects in its constructor (libpq's connect_timeout bounds it).
class PgConnection::Session final : private PolicyHolder, public pqxx::connection_base {
 public:
  Session(const std::string& conninfo, bool async)
      : PolicyHolder{async ? std::unique_ptr<pqxx::connectionpolicy>(
                                 new ConnectOnce<pqxx::connect_async>(conninfo))
                           : std::unique_ptr<pqxx::connectionpolicy>(
                                 new ConnectOnce<pqxx::connect_direct>(conninfo))},
        pqxx::connection_base(*policy) {
    init();
  }
  ~Session() noexcept { close(); }
};

void PgConnection::SessionDeleter::operator()(Session* session) const noexcept { delete session; }

pqxx::connection_base& PgConnection::connectionOf(const Lease& lease) { return *lease.conn; }

// One thread that shuts down the socket of each call still running at its deadline. It watches a
// duplicate of the socket's descriptor, so it can never hit another socket that reused the number
// after the connection was closed. shutdown(2) does not block: it runs under the lock, which is
// what keeps a disarmed descriptor from being shut down.
class PgConnection::Watchdog {
 public:
  Watchdog() : thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    for (auto& [ticket, entry] : armed_) ::close(entry.fd);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // 0 when the socket cannot be watched (no descriptor left): the call then goes unwatched.
  uint64_t arm(int socket, Clock::time_point deadline) {
    const int fd = ::fcntl(socket, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return 0;
    std::lock_guard lock(mu_);
    const uint64_t ticket = ++lastTicket_;
    armed_.emplace(ticket, Entry{fd, deadline, false});
    if (deadline < wakeAt_) wake_.notify_one();
    return ticket;
  }

  // Whether the deadline passed (the socket was shut down).
  bool disarm(uint64_t ticket) noexcept {
    if (ticket == 0) return false;
    Entry entry;
    {
      std::lock_guard lock(mu_);
      auto it = armed_.find(ticket);
      if (it == armed_.end()) return false;
      entry = it->second;
      armed_.erase(it);
    }
    ::close(entry.fd);
    return entry.fired;
  }

 private:
  struct Entry {
    int fd = -1;
    Clock::time_point deadline;
    bool fired = false;
  };

  void run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const auto now = Clock::now();
      wakeAt_ = Clock::time_point::max();
      for (auto& [ticket, entry] : armed_) {
        if (entry.fired) continue;
        if (entry.deadline <= now) {
          ::shutdown(entry.fd, SHUT_RDWR);
          entry.fired = true;
        } else {
          wakeAt_ = std::min(wakeAt_, entry.deadline);
        }
      }
      if (wakeAt_ == Clock::time_point::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, wakeAt_);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::map<uint64_t, Entry> armed_;                      // by ticket; guarded by mu_
  uint64_t lastTicket_ = 0;                              // guarded by mu_
  Clock::time_point wakeAt_ = Clock::time_point::max();  // guarded by mu_
  bool stop_ = false;                                    // guarded by mu_
  std::thread thread_;  // last: starts once the rest is initialised
};

PgConnection::PgConnection(PgOptions options)
    : options_(std::move(options)),
      conninfo_(pgConninfo(options_)),
      redactedUrl_(redactPgUrl(options_.url)) {
  if (options_.callTimeoutMs > 0) watchdog_ = std::make_unique<Watchdog>();
}

PgConnection::~PgConnection() = default;

PgConnection::Call::Call(PgConnection& pg) : pg_(pg) {
  if (pg.options_.callTimeoutMs > 0) {
    deadline_ = Clock::now() + std::chrono::milliseconds(pg.options_.callTimeoutMs);
  }
  if (!pg.stalled_.load()) return;
  std::lock_guard lock(pg.mu_);
  if (!pg.stalled_.load()) return;
  if (!pg.stallProbe_ && Clock::now() >= pg.nextProbe_) {
    pg.stallProbe_ = true;
    probe_ = true;
    return;
  }
  refused_ = unavailable("stalled (" + pg.stallWhat_ + "): calls fail at once until it answers");
}

PgConnection::Call::~Call() {
  if (!probe_) return;
  std::lock_guard lock(pg_.mu_);
  pg_.stallProbe_ = false;
}

Status PgConnection::ping() {
  return transact([](pqxx::work& txn) -> Status {
    txn.exec(pgsql::kPing);
    return Status::Ok();
  });
}

PgConnection::SessionPtr PgConnection::open() {
  SessionPtr conn(new Session(conninfo_, options_.callTimeoutMs > 0));
  if (options_.statementTimeoutMs > 0) {
    // Sent at once, or with the handshake's completion (asynchronous connects).
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

Result<PgConnection::Lease> PgConnection::acquire(const Call& call) {
  const auto deadline = call.deadline().value_or(
      Clock::now() + std::chrono::seconds(options_.connectTimeoutSeconds) +
      std::chrono::milliseconds(options_.statementTimeoutMs) + std::chrono::milliseconds(100));
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
  if (call.deadline() && Clock::now() >= *call.deadline()) {
    return unavailable("timed out after " + std::to_string(options_.callTimeoutMs) +
                       " ms waiting for a connection");
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
  if (what.find("timeout expired") != std::string::npos) {
    noteStalled(what);  // libpq's connect_timeout
  } else {
    noteAnswered();  // refused, or turned away: an answer
  }
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

uint64_t PgConnection::watch(const Lease& lease, const Call& call) {
  if (!watchdog_ || !call.deadline()) return 0;
  const int socket = lease.conn->sock();
  if (socket < 0) return 0;
  return watchdog_->arm(socket, *call.deadline());
}

bool PgConnection::unwatch(uint64_t ticket) noexcept {
  return watchdog_ ? watchdog_->disarm(ticket) : false;
}

void PgConnection::finished(Lease& lease, bool timedOut) {
  // The server answered; a deadline that passed just after the answer only costs the connection.
  if (timedOut) {
    discard(lease);
  } else {
    release(std::move(lease));
  }
  noteReachable();
  noteAnswered();
}

void PgConnection::discard(Lease& lease) noexcept {
  if (!lease.conn) return;
  {
    std::lock_guard lock(mu_);
    --open_;
  }
  freed_.notify_one();
  lease.conn.reset();  // closing a connection is socket I/O: outside the lock
}

void PgConnection::dropBroken(Lease& lease) noexcept {
  std::vector<SessionPtr> gone;
  {
    std::lock_guard lock(mu_);
    gone.swap(idle_);
    open_ -= static_cast<int>(gone.size()) + (lease.conn ? 1 : 0);
  }
  freed_.notify_all();
  lease.conn.reset();  // closing a connection is socket I/O: outside the lock
  gone.clear();
}

Error PgConnection::failed(Lease& lease, const Call& call, bool firstAttempt, bool timedOut,
                           bool& retry) noexcept {
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
  if (timedOut) {
    // The watchdog shut the socket down at the deadline: whatever libpq said, that is why.
    broken = true;
    what = "timed out after " + std::to_string(options_.callTimeoutMs) + " ms";
    if (inDoubt) what += " while committing: the transaction may or may not have been committed";
  }
  if (!broken && lease.conn && !lease.conn->is_open()) broken = true;
  what = oneLine(what);
  if (!broken) {
    release(std::move(lease));  // the transaction was rolled back; the session is fine
    noteAnswered();
    return unavailable(what);
  }
  dropBroken(lease);
  // A pooled connection can die unseen by the liveness check (a peer that vanished without
  // closing): one more try on a fresh connection is safe unless the commit itself may have
  // landed (nothing else was committed; the server rolled it back), and only before the
  // deadline (a server that does not answer would not answer the retry either).
  retry = firstAttempt && lease.reused && !inDoubt && !timedOut &&
          (!call.deadline() || Clock::now() < *call.deadline());
  if (!retry) {
    {
      std::lock_guard lock(mu_);
      lastError_ = what;
    }
    noteUnreachable(what);
    if (timedOut) {
      noteStalled(what);
    } else {
      noteAnswered();  // closed or reset by the server: an answer, if not a friendly one
    }
  }
  return unavailable(what);
}

void PgConnection::noteReachable() {
  if (reachable_.load(std::memory_order_relaxed)) return;
  if (!reachable_.exchange(true)) spdlog::info("postgres at {} is reachable again", redactedUrl_);
}

void PgConnection::noteStalled(const std::string& what) {
  if (options_.stallProbeIntervalMs <= 0) return;
  std::lock_guard lock(mu_);
  stallWhat_ = what;
  nextProbe_ = Clock::now() + std::chrono::milliseconds(options_.stallProbeIntervalMs);
  stalled_.store(true);
}

void PgConnection::noteAnswered() {
  if (!stalled_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mu_);
  stalled_.store(false);
}

void PgConnection::noteUnreachable(const std::string& what) {
  if (reachable_.exchange(false)) {
    spdlog::warn("postgres at {} is unreachable ({}); calls fail until it is back", redactedUrl_,
                 what);
  }
}

}  // namespace sb
