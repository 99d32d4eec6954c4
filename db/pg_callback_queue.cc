#include "db/pg_callback_queue.h"

#include <pqxx/result>

#include "db/pg_statements.h"

namespace sb {
namespace {

// A row of SB_PG_CALLBACK_COLUMNS.
PendingCallback callbackOf(const pqxx::row& row) {
  PendingCallback c;
  c.id = row[0].c_str();
  c.kind = row[1].c_str();
  c.tenant = row[2].c_str();
  c.recordId = row[3].c_str();
  c.meetingId = row[4].c_str();
  c.url = row[5].c_str();
  c.secretId = row[6].c_str();
  c.body = row[7].c_str();
  c.attempts = row[8].as<int>();
  c.nextAttemptMs = row[9].as<int64_t>();
  c.lastError = row[10].c_str();
  c.failed = row[11].as<bool>();
  return c;
}

}  // namespace

Status PgCallbackQueue::add(const PendingCallback& c) {
  if (c.id.empty()) return Error::of(ErrorCode::kInvalidArgument, "a callback needs an ID");
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kAddCallback, c.id, c.kind, c.tenant, c.recordId, c.meetingId, c.url,
             c.secretId, c.body, c.attempts, c.nextAttemptMs, c.lastError, c.failed);
    return Status::Ok();
  });
}

Result<std::optional<PendingCallback>> PgCallbackQueue::claimDue(int64_t nowMs,
                                                                 int64_t holdUntilMs) {
  return pg_.transact([&](pqxx::work& txn) -> Result<std::optional<PendingCallback>> {
    auto rows = pg_.exec(txn, pgsql::kClaimCallback, nowMs, holdUntilMs);
    if (rows.empty()) return std::optional<PendingCallback>();
    return std::optional<PendingCallback>(callbackOf(rows[0]));
  });
}

Status PgCallbackQueue::settle(const PendingCallback& c) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kSettleCallback, c.id);
    return Status::Ok();
  });
}

Status PgCallbackQueue::reschedule(const PendingCallback& c) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kRescheduleCallback, c.id, c.attempts, c.nextAttemptMs, c.lastError,
             c.failed);
    return Status::Ok();
  });
}

Result<std::vector<PendingCallback>> PgCallbackQueue::list() {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<PendingCallback>> {
    std::vector<PendingCallback> out;
    for (const auto& row : pg_.exec(txn, pgsql::kListCallbacks)) out.push_back(callbackOf(row));
    return out;
  });
}

Result<int> PgCallbackQueue::retryAll() {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<int> {
    return pg_.exec(txn, pgsql::kRetryCallbacks)[0][0].as<int>();
  });
}

}  // namespace sb
