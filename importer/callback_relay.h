// Callbacks to frontends (core/recordings/recording_ready.h): recording-ready, queued once a
// recording is imported, and learning-analytics posts relayed from BBB servers. One JSON file per
// callback in <spool>/callbacks/, so a delivery survives a restart and any process sharing the
// recordings folder delivers it (a file lock keeps two from sending the same one at once).
// Recording-ready is POSTed as the form field `signed_parameters` (HS256), analytics as BBB's
// JSON with a Bearer JWT (HS512), each signed with the secret that signed the meeting's create
// (its ID kept with the meeting; the first LOADBALANCER_SECRET when that secret was rotated
// out), until the frontend answers 2xx, or 404/410 (it does not want it, as
// Scalelite stops there too); after a failure the next attempt waits the import poll interval,
// then twice as long each time up to RECORDING_IMPORT_RETRY_MAX; after kMaxAttempts it moves to
// <spool>/callbacks/failed/ for the operator. A frontend that never answers holds up nothing
// but its own callback (10 s per attempt, on the relay's own thread).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "core/recordings/recording.h"

namespace sb {

struct PendingCallback {
  std::string kind = "recording-ready";  // or "analytics"
  std::string recordId;                  // recording-ready only
  std::string meetingId;
  std::string url;
  std::string secretId;  // of the secret to sign with ("": the first)
  std::string body;      // analytics: BBB's JSON, passed on as it came
  int attempts = 0;
  int64_t nextAttemptMs = 0;
  std::string lastError;
  bool failed = false;  // gave up (in callbacks/failed/)
};

class CallbackRelay {
 public:
  static constexpr int kMaxAttempts = 20;

  // `secrets` sign the callbacks (none: they wait, with a warning, until a secret is set).
  CallbackRelay(const RecordingsConfig& config, std::vector<std::string> secrets,
                Metrics* metrics = nullptr);
  ~CallbackRelay();
  CallbackRelay(const CallbackRelay&) = delete;
  CallbackRelay& operator=(const CallbackRelay&) = delete;

  // Queues `r`'s recording-ready callback when its metadata names one (due at once).
  void recordingImported(const Recording& r);
  // Queues an analytics post of `body` to `url` (due at once); false when it cannot be kept
  // (no callbacks folder here).
  bool queueAnalytics(const std::string& url, const std::string& secretId, const std::string& body);
  // Whether this process keeps callbacks (its recordings folder is there).
  bool running() const;
  // One attempt at `c` now, kept nowhere: true when it is settled (delivered or refused).
  bool deliverNow(PendingCallback& c) { return !secrets_.empty() && deliver("", c); }
  // Sends every callback that is due; how many were delivered.
  int deliverDue();
  std::vector<PendingCallback> pending() const;
  // Makes every waiting callback due now, and gives the given-up ones a new round of attempts.
  // How many.
  int retryAll();

  // Runs deliverDue on a thread of its own (every second, and at once after a queueing).
  void start();
  void stop();

 private:
  std::string folder() const { return config_.spool() + "/callbacks"; }
  // One attempt at the callback in `file`: true when it is settled (delivered or refused).
  bool deliver(const std::string& file, PendingCallback& c);
  // The secret to sign `c` with.
  const std::string& secretFor(const PendingCallback& c) const;
  void wake();

  RecordingsConfig config_;
  std::vector<std::string> secrets_;
  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace sb
