// Callbacks waiting for delivery in PostgreSQL (migrations/0006_pending_callbacks.sql): the
// callback queue of production, shared by every router and importer, so any of them delivers
// and none delivers one twice at once (a claim holds its row: core/recordings/callback_queue.h).
// The contract suite (tests/unit/callback_queue_contract.h) holds it to the folder queue's
// answers.
// Thread-safety: every method may be called from any thread (PgConnection's pool).
#pragma once

#include "core/recordings/callback_queue.h"
#include "db/pg_connection.h"

namespace sb {

class PgCallbackQueue final : public CallbackQueue {
 public:
  // `pg` must outlive the queue.
  explicit PgCallbackQueue(PgConnection& pg) : pg_(pg) {}

  Status add(const PendingCallback& c) override;
  Result<std::optional<PendingCallback>> claimDue(int64_t nowMs, int64_t holdUntilMs) override;
  Status settle(const PendingCallback& c) override;
  Status reschedule(const PendingCallback& c) override;
  Result<std::vector<PendingCallback>> list() override;
  Result<int> retryAll() override;

 private:
  PgConnection& pg_;
};

}  // namespace sb
