#include "router/join_cache_refresher.h"

namespace sb {

JoinCacheRefresher::JoinCacheRefresher(MeetingRouter& router, std::chrono::milliseconds gather)
    : router_(router), gather_(gather), thread_([this](std::stop_token stop) { run(stop); }) {}

void JoinCacheRefresher::wake() {
  {
    std::lock_guard lock(mu_);
    due_ = true;
  }
  woken_.notify_one();
}

void JoinCacheRefresher::run(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    if (!woken_.wait(lock, stop, [this] { return due_; })) return;  // stop requested
    // Let the entries that come due together join the list first. Returns early on a stop.
    woken_.wait_for(lock, stop, gather_, [] { return false; });
    due_ = false;
    lock.unlock();
    router_.refreshJoinCache();
    lock.lock();
  }
}

}  // namespace sb
