// The threads that run the work which waits on BBB servers, so Pistache's reactor threads never
// block on a slow server. Starts with `threads` and grows, one thread per task that finds none
// idle, up to `maxThreads`; beyond that tasks queue. Grown threads stay (a burst at the top of the
// hour comes back an hour later). Growing keeps calls to healthy servers moving while some
// threads wait on a slow one; MeetingRouter's per-server call limit bounds how many that can be.
// Tasks must not throw (they are wrapped anyway).
// Thread-safety: post() from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sb {

class WorkerPool {
 public:
  explicit WorkerPool(int threads, int maxThreads = 0);  // maxThreads < threads: fixed size
  ~WorkerPool();                                         // finishes queued tasks, then joins

  void post(std::function<void()> task);
  int threads() const;  // started so far

 private:
  void run();
  void startThread();  // mu_ held

  const int maxThreads_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  int idle_ = 0;                             // threads waiting for a task; guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // guarded by mu_
};

}  // namespace sb
