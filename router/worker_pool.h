// The threads that run the work which waits on BBB servers, so Pistache's reactor threads never
// block on a slow server. Starts with `threads` and grows, one thread per task that finds none
// idle, up to `maxThreads`; beyond that tasks queue. Grown threads stay (a burst at the top of the
// hour comes back an hour later). Growing keeps calls to healthy servers moving while some
// threads wait on a slow one; MeetingRouter's per-server call limit bounds how many that can be.
// With `maxQueued`, full() tells the BBB API to refuse calls at once rather than queue them:
// without a bound, a pool whose threads all wait on slow servers queues without limit (memory, and
// answers that come after the client gave up). Admin and ops calls are few, and an operator needs
// them most during an overload: they always queue. A task that throws is logged and the pool
// goes on; a task that owes a client an answer holds its Reply as an owedReply
// (router/owed_reply.h), which answers with an error when the task is destroyed unanswered (the
// pool destroys each task once it has run, outside its lock).
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
  // maxThreads < threads: fixed size. maxQueued 0: no bound (full() is never true).
  explicit WorkerPool(int threads, int maxThreads = 0, size_t maxQueued = 0);
  ~WorkerPool();  // finishes queued tasks, then joins

  void post(std::function<void()> task);
  // Every thread is busy, no more can start, and maxQueued tasks already wait for one. A soft
  // bound: callers check it before post(), so concurrent callers may each add one more.
  bool full() const;
  int threads() const;  // started so far

 private:
  void run();
  void startThread();  // mu_ held

  const int maxThreads_;
  const size_t maxQueued_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  int idle_ = 0;                             // threads waiting for a task; guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // guarded by mu_
};

}  // namespace sb
