#include "core/change_marker.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace sb {

void ChangeMarker::mark(const std::string& serverId) {
  std::unique_lock lock(mu_);
  pending_.insert(serverId);
  const uint64_t mine = nextBatch_;
  while (lastWritten_ < mine) {
    if (writing_) {
      turn_[mine % 2].wait(lock);
      continue;
    }
    // Batches are written in order and nobody is writing, so the pending batch is this one.
    writing_ = true;
    const uint64_t batch = nextBatch_++;
    std::vector<std::string> ids(pending_.begin(), pending_.end());
    pending_.clear();
    lock.unlock();
    try {
      if (Status s = store_.markChangedMany(ids, clock_.nowMs()); !s) {
        spdlog::warn("could not mark {} servers changed for getMeetings: {}", ids.size(),
                     s.error().message);
      }
    } catch (const std::exception& e) {  // never leave writing_ set: every caller would wait
      spdlog::error("marking servers changed failed: {}", e.what());
    }
    lock.lock();
    lastWritten_ = batch;
    writing_ = false;
    turn_[batch % 2].notify_all();
    if (!pending_.empty()) turn_[nextBatch_ % 2].notify_one();  // someone writes the next one
  }
}

}  // namespace sb
