// DelayedExecutor: runs tasks at a due time on a small pool of worker threads.
//
// bbb-sim uses it to answer API calls late (the `delay_ms` fault) and to hold response writers
// of hung calls (the `timeout` fault) without ever blocking a Pistache reactor thread, and
// without a thread sleeping per task: workers wait on one condition variable until the earliest
// due time. Every task carries a tag (the simulated server's index) so that all pending work of
// one server can be dropped before its endpoint is shut down: a task holding a ResponseWriter
// must never outlive the transport the writer points into.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace sb::sim {

class DelayedExecutor {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `threads` (>= 1) workers.
  explicit DelayedExecutor(int threads);
  // Calls stop().
  ~DelayedExecutor();

  DelayedExecutor(const DelayedExecutor&) = delete;
  DelayedExecutor& operator=(const DelayedExecutor&) = delete;

  // Runs `task` on a worker once `delay` has passed. Returns false, and destroys the task
  // without running it, when the executor is stopped or `tag` is blocked.
  bool schedule(int tag, std::chrono::milliseconds delay, std::function<void()> task);

  // Drops (destroys without running) the queued tasks of `tag`, waits until no task of `tag` is
  // running, and refuses new tasks of `tag` until unblock(tag).
  void blockAndDrain(int tag);
  void unblock(int tag);

  // Drops every queued task, refuses new ones and joins the workers. Idempotent.
  void stop();

 private:
  struct Task {
    int tag = 0;
    std::function<void()> run;
  };
  using Key = std::pair<Clock::time_point, uint64_t>;  // due time, then FIFO order

  void workerLoop();

  std::mutex mu_;
  std::condition_variable wake_;      // a task was queued, or stop()
  std::condition_variable finished_;  // a task finished running
  std::map<Key, Task> queue_;         // guarded by mu_
  std::map<int, int> running_;        // tag -> tasks running now; guarded by mu_
  std::set<int> blocked_;             // guarded by mu_
  uint64_t nextSeq_ = 0;              // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::vector<std::thread> workers_;  // written only by the constructor and stop()
};

}  // namespace sb::sim
