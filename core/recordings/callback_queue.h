// Port: callbacks to frontends waiting for delivery (recording-ready after an import, analytics
// posts relayed from BBB servers), kept until a frontend takes them so that a delivery survives
// a restart and any process of the pool can make it. Implemented in PostgreSQL (production,
// db/pg_callback_queue.h) and as files in the recordings spool (the embedded default,
// importer/callback_folder.h); tests/unit/callback_queue_contract.h holds both to one contract.
// The delivery itself (HTTP, signing, the retry schedule) is importer/callback_relay.h's.
// Thread-safety: every method may be called from any thread; store failures are
// kStoreUnavailable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace sb {

struct PendingCallback {
  // Names the callback in its queue. A recording-ready callback is named after its recording
  // (readyCallbackId), so a re-import replaces the one waiting instead of adding a second.
  std::string id;
  std::string kind = "recording-ready";  // or "analytics"
  std::string recordId;                  // recording-ready only
  std::string meetingId;
  std::string url;
  std::string secretId;  // of the secret to sign with ("": the first)
  std::string body;      // analytics: BBB's JSON, passed on as it came
  std::string tenant;    // empty until multitenancy
  int attempts = 0;
  int64_t nextAttemptMs = 0;  // Unix time; due from then on
  std::string lastError;
  bool failed = false;  // given up: waits for an operator's retryAll
};

// The queue ID of `recordId`'s recording-ready callback.
inline std::string readyCallbackId(const std::string& recordId) { return "ready-" + recordId; }

class CallbackQueue {
 public:
  virtual ~CallbackQueue() = default;

  // Keeps `c` as it is (a given-up one stays given up) under `c.id` (non-empty), replacing a
  // callback of that ID.
  virtual Status add(const PendingCallback& c) = 0;
  // One callback due at `nowMs` (not given up, its nextAttemptMs passed) that no relay holds,
  // now held by the caller until it settles or reschedules it, or until `holdUntilMs` passes
  // (a relay that died mid-attempt lets go by then). nullopt when none is due.
  virtual Result<std::optional<PendingCallback>> claimDue(int64_t nowMs, int64_t holdUntilMs) = 0;
  // The held callback `c` was delivered (or refused for good): it is gone.
  virtual Status settle(const PendingCallback& c) = 0;
  // After a failed attempt: keeps c's attempts, nextAttemptMs, lastError and failed, and lets go.
  virtual Status reschedule(const PendingCallback& c) = 0;
  // Every callback kept, given-up ones included, by record ID then ID.
  virtual Result<std::vector<PendingCallback>> list() = 0;
  // Makes every waiting callback due now and gives the given-up ones a new round of attempts
  // (attempts back to 0). How many.
  virtual Result<int> retryAll() = 0;
};

}  // namespace sb
