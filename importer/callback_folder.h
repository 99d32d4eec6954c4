// The callback queue of the embedded default (core/recordings/callback_queue.h): one JSON file per
// callback in a folder of the recordings spool (<spool>/callbacks/<id>.json), given-up ones in
// its failed/ subfolder, so callbacks survive a restart without a database. A claim is an
// exclusive flock on the file, held until the callback settles or is rescheduled: another
// process sharing the folder skips it meanwhile, and a process that dies lets go at once.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/recordings/callback_queue.h"

namespace sb {

class FolderCallbackQueue final : public CallbackQueue {
 public:
  // `folder` is made on the first add.
  explicit FolderCallbackQueue(std::string folder);
  ~FolderCallbackQueue() override;
  FolderCallbackQueue(const FolderCallbackQueue&) = delete;
  FolderCallbackQueue& operator=(const FolderCallbackQueue&) = delete;

  Status add(const PendingCallback& c) override;
  Result<std::optional<PendingCallback>> claimDue(int64_t nowMs, int64_t holdUntilMs) override;
  Status settle(const PendingCallback& c) override;
  Status reschedule(const PendingCallback& c) override;
  Result<std::vector<PendingCallback>> list() override;
  Result<int> retryAll() override;

  // Takes every callback out of the folder and adds it to `to` (a process that moved to a shared
  // queue keeps what an earlier version left here). How many.
  Result<int> moveTo(CallbackQueue& to);

  const std::string& folder() const { return folder_; }

 private:
  std::string pathOf(const std::string& id, bool failed) const;
  // Closes the claim's file (its lock goes with it); false when `id` is not held here.
  bool letGo(const std::string& id);

  const std::string folder_;
  std::mutex mutex_;
  std::map<std::string, int> held_;  // claimed ID -> locked file descriptor
};

}  // namespace sb
