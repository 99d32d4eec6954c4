// Delivers the callbacks to frontends that wait in a CallbackQueue
// (core/recordings/callback_queue.h: PostgreSQL in production, the spool folder in the embedded
// default): recording-ready, queued once a recording is imported, and learning-analytics posts
// relayed from BBB servers. Every process running a relay on the same queue shares the work;
// a claim keeps two from sending the same callback at once.
// Recording-ready is POSTed as the form field `signed_parameters` (HS256), analytics as BBB's
// JSON with a Bearer JWT (HS512), each signed with the secret that signed the meeting's create
// (its ID kept with the meeting; the first LOADBALANCER_SECRET when that secret was rotated
// out), until the frontend answers 2xx, or 404/410 (it does not want it, as
// Scalelite stops there too); after a failure the next attempt waits the import poll interval,
// then twice as long each time up to RECORDING_IMPORT_RETRY_MAX; after kMaxAttempts it is given
// up and waits for the operator's retry. A frontend that never answers holds up nothing but its
// own callback (10 s per attempt, on the relay's own thread).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "core/recordings/callback_queue.h"
#include "core/recordings/recording.h"

namespace sb {

class CallbackRelay {
 public:
  static constexpr int kMaxAttempts = 20;

  // `secrets` sign the callbacks (none: they wait, with a warning, until a secret is set).
  // `queue` must outlive the relay.
  CallbackRelay(CallbackQueue& queue, const RecordingsConfig& config,
                std::vector<std::string> secrets, Metrics* metrics = nullptr);
  ~CallbackRelay();
  CallbackRelay(const CallbackRelay&) = delete;
  CallbackRelay& operator=(const CallbackRelay&) = delete;

  // The secrets of a tenant (empty when it has none: removed). Callbacks of a tenant's meetings
  // are signed with its secrets; without this set they wait.
  using TenantSecrets = std::function<std::vector<std::string>(const std::string& tenant)>;
  void signTenantsWith(TenantSecrets secretsOf);

  // Queues `r`'s recording-ready callback when its metadata names one (due at once).
  void recordingImported(const Recording& r);
  // Queues an analytics post of `body` to `url` (due at once); false when it cannot be kept
  // (this process runs no relay, or the queue failed).
  bool queueAnalytics(const std::string& url, const std::string& secretId, const std::string& body,
                      const std::string& tenant = "");
  // Whether this process delivers callbacks (start() was called).
  bool running() const;
  // One attempt at `c` now, signed with one of `secrets`, kept nowhere: true when it is settled
  // (delivered or refused). For a router that runs no relay.
  static bool deliverOnce(PendingCallback& c, const std::vector<std::string>& secrets);
  // Sends every callback that is due; how many were delivered.
  int deliverDue();
  Result<std::vector<PendingCallback>> pending() const;
  // Makes every waiting callback due now, and gives the given-up ones a new round of attempts.
  // How many.
  Result<int> retryAll();

  // Runs deliverDue on a thread of its own (every second, and at once after a queueing).
  void start();
  void stop();

 private:
  // Settles or reschedules the held callback `c` after an attempt that `delivered` it or not.
  void afterAttempt(PendingCallback& c, bool delivered);
  void wake();

  CallbackQueue& queue_;
  RecordingsConfig config_;
  std::vector<std::string> secrets_;
  TenantSecrets tenantSecrets_;  // set before start()
  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::atomic<bool> queueFailing_{false};  // since the last claim failed
  std::thread thread_;
};

}  // namespace sb
