#include "router/worker_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sb {

WorkerPool::WorkerPool(int threads, int maxThreads, size_t maxQueued)
    : maxThreads_(std::max(threads, maxThreads)), maxQueued_(maxQueued) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < threads; ++i) startThread();
}

WorkerPool::~WorkerPool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  ready_.notify_all();
  for (auto& t : threads) t.join();
}

void WorkerPool::startThread() {
  threads_.emplace_back([this] { run(); });
}

bool WorkerPool::full() const {
  if (maxQueued_ == 0) return false;
  std::lock_guard lock(mu_);
  // Tasks beyond the idle threads wait; the pool could still grow to take them.
  const size_t waiting = tasks_.size() > static_cast<size_t>(idle_) ? tasks_.size() - idle_ : 0;
  return static_cast<int>(threads_.size()) >= maxThreads_ && waiting >= maxQueued_;
}

int WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(threads_.size());
}

void WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
    // Every idle thread already has a task waiting for it: start one more, within the limit.
    if (static_cast<int>(tasks_.size()) > idle_ &&
        static_cast<int>(threads_.size()) < maxThreads_ && !stopping_) {
      startThread();
      if (threads_.size() % 16 == 0) spdlog::info("worker threads: {}", threads_.size());
    }
  }
  ready_.notify_one();
}

void WorkerPool::run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("worker task failed: {}", e.what());
    } catch (...) {
      spdlog::error("worker task failed");
    }
    // Destroyed here, outside the lock: a task that failed before answering its client holds an
    // owedReply (router/owed_reply.h), and destroying it sends the error answer (socket I/O).
    task = nullptr;
  }
}

}  // namespace sb
