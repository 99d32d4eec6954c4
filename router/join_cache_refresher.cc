#include "router/join_cache_refresher.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace sb {

JoinCacheRefresher::JoinCacheRefresher(MeetingRouter& router, std::chrono::milliseconds gather)
    : JoinCacheRefresher([&router] { router.refreshJoinCache(); }, gather) {}

JoinCacheRefresher::JoinCacheRefresher(std::function<void()> refresh,
                                       std::chrono::milliseconds gather)
    : refresh_(std::move(refresh)),
      gather_(gather),
      thread_([this](std::stop_token stop) { run(stop); }) {}

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
    // An exception must not end the thread (std::terminate, or joins that never refresh again):
    // an entry not refreshed expires and its next join reads the store on a worker.
    try {
      refresh_();
    } catch (const std::exception& e) {
      spdlog::error("join cache refresh failed: {}", e.what());
    } catch (...) {
      spdlog::error("join cache refresh failed");
    }
    lock.lock();
  }
}

}  // namespace sb
