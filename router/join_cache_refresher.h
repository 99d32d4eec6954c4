// The thread that refreshes the join cache: the reactor wakes it when a join hits an entry that
// is nearly expired (MeetingRouter::CachedJoin::refreshDue), and it waits `gather` before it
// reads, so the entries that come due together (meetings created, and so first cached, in the
// same burst) are read from the store in one batch instead of one worker task and round trip
// each. One refresh at a time; its store reads never run on a reactor. A refresh that throws is
// logged and the thread goes on (the entries are read again on the next wake).
// Thread-safety: wake() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/meeting_router.h"

namespace sb {

class JoinCacheRefresher {
 public:
  JoinCacheRefresher(MeetingRouter& router, std::chrono::milliseconds gather);
  // Runs `refresh` (MeetingRouter::refreshJoinCache) on each wake.
  JoinCacheRefresher(std::function<void()> refresh, std::chrono::milliseconds gather);
  // Destruction stops the thread (std::jthread: a stop request wakes its waits; a refresh
  // under way finishes first).

  void wake();

 private:
  void run(std::stop_token stop);

  const std::function<void()> refresh_;
  const std::chrono::milliseconds gather_;
  std::mutex mu_;
  std::condition_variable_any woken_;
  bool due_ = false;     // guarded by mu_
  std::jthread thread_;  // last: started once the members above exist
};

}  // namespace sb
