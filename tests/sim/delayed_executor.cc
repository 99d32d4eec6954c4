#include "tests/sim/delayed_executor.h"

#include <utility>

namespace sb::sim {

DelayedExecutor::DelayedExecutor(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { workerLoop(); });
}

DelayedExecutor::~DelayedExecutor() { stop(); }

bool DelayedExecutor::schedule(int tag, std::chrono::milliseconds delay,
                               std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && !blocked_.contains(tag)) {
      queue_.emplace(Key{Clock::now() + delay, nextSeq_++}, Task{tag, std::move(task)});
      wake_.notify_one();
      return true;
    }
  }
  task = nullptr;  // destroyed outside the lock: it may own a ResponseWriter
  return false;
}

void DelayedExecutor::blockAndDrain(int tag) {
  std::vector<Task> dropped;
  {
    std::unique_lock lock(mu_);
    blocked_.insert(tag);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->second.tag == tag) {
        dropped.push_back(std::move(it->second));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    finished_.wait(lock, [&] { return !running_.contains(tag); });
  }
  // `dropped` is destroyed here, outside the lock.
}

void DelayedExecutor::unblock(int tag) {
  std::lock_guard lock(mu_);
  blocked_.erase(tag);
}

void DelayedExecutor::stop() {
  std::vector<std::thread> workers;
  std::map<Key, Task> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
    workers.swap(workers_);
    wake_.notify_all();
  }
  for (auto& w : workers) w.join();
}

void DelayedExecutor::workerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_) return;
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto due = queue_.begin()->first.first;
    if (Clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto node = queue_.extract(queue_.begin());
    Task task = std::move(node.mapped());
    ++running_[task.tag];
    lock.unlock();
    try {
      task.run();
    } catch (...) {
      // A task's failure (e.g. a peer that went away) must not kill the worker.
    }
    task.run = nullptr;  // release what the task holds before reporting it finished
    lock.lock();
    if (--running_[task.tag] == 0) running_.erase(task.tag);
    finished_.notify_all();
  }
}

}  // namespace sb::sim
