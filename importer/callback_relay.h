// Recording-ready callbacks (core/recordings/recording_ready.h), delivered once a recording is
// imported: one JSON file per recording in <spool>/callbacks/, so a delivery survives a restart
// and any process sharing the recordings folder delivers it (a file lock keeps two from sending
// the same one at once). Each is POSTed (form field `signed_parameters`, HS256 with
// LOADBALANCER_SECRET) until the frontend answers 2xx, or 404/410 (it does not want it, as
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
  std::string recordId;
  std::string meetingId;
  std::string url;
  int attempts = 0;
  int64_t nextAttemptMs = 0;
  std::string lastError;
  bool failed = false;  // gave up (in callbacks/failed/)
};

class CallbackRelay {
 public:
  static constexpr int kMaxAttempts = 20;

  // `secret` signs the callbacks ("" : they wait, with a warning, until a secret is set).
  CallbackRelay(const RecordingsConfig& config, std::string secret, Metrics* metrics = nullptr);
  ~CallbackRelay();
  CallbackRelay(const CallbackRelay&) = delete;
  CallbackRelay& operator=(const CallbackRelay&) = delete;

  // Queues `r`'s recording-ready callback when its metadata names one (due at once).
  void recordingImported(const Recording& r);
  // Sends every callback that is due; how many were delivered.
  int deliverDue();
  std::vector<PendingCallback> pending() const;

  // Runs deliverDue on a thread of its own (every second, and at once after a queueing).
  void start();
  void stop();

 private:
  std::string folder() const { return config_.spool() + "/callbacks"; }
  // One attempt at the callback in `file`: true when it is settled (delivered or refused).
  bool deliver(const std::string& file, PendingCallback& c);

  RecordingsConfig config_;
  std::string secret_;
  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace sb
