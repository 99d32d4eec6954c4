// The order in which one connection's answers leave. HTTP/1.1 lets a client send its next request
// before the answer to the previous one (pipelining), and wants the answers in request order;
// Switchboard answers some requests at once and others later from worker threads, and hands a
// large answer over piece by piece. An AnswerQueue hands the answers over to the network layer one
// at a time, each whole, in the order the requests were read.
// Thread-safety: reserve() on the connection's reactor thread; deliver() and Done from any thread.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

namespace sb {

class AnswerQueue {
 public:
  // Called once the answer is handed over whole (its last write queued), on any thread, at once
  // or later; until then no later answer starts. Calls after the first are ignored. Whoever holds
  // a Done keeps the queue alive until it has called it (it does not own the queue).
  class Done {
   public:
    void operator()() const { queue_->finished(ticket_); }

   private:
    friend class AnswerQueue;
    Done(AnswerQueue* queue, uint64_t ticket) : queue_(queue), ticket_(ticket) {}
    AnswerQueue* queue_;
    uint64_t ticket_;
  };
  using HandOver = std::function<void(Done)>;

  // The ticket of the next request read on the connection. Every ticket must be delivered once,
  // and every hand-over must call its Done, or the later answers wait for good (as they should
  // when the connection is gone).
  uint64_t reserve() {
    std::lock_guard lock(mu_);
    return nextTicket_++;
  }

  // Whether every ticket reserved so far has been handed over whole: nothing of the connection's
  // is waiting or under way (an interim answer such as "100 Continue" may go out now).
  bool idle() {
    std::lock_guard lock(mu_);
    return !handingOver_ && nextToHandOver_ == nextTicket_;
  }

  // Runs `handOver` once every earlier ticket's hand-over is done: on this thread when the ticket
  // is next and no hand-over is under way, else on the thread whose Done lets it go. A ticket
  // delivered again is ignored. What `handOver` throws is logged, and counts as done.
  void deliver(uint64_t ticket, HandOver handOver);

 private:
  // Runs `handOver` (for ticket current_) and those that are next after it while their Done
  // comes at once. Called with the lock held and handingOver_ set; returns with the lock held.
  void handOverFrom(std::unique_lock<std::mutex>& lock, HandOver handOver);
  // Takes the next waiting hand-over (setting current_), or ends the hand-overs when none is next.
  bool takeNext(HandOver& handOver);
  void finished(uint64_t ticket);
  static void logFailure(const char* what);

  std::mutex mu_;
  uint64_t nextTicket_ = 0;
  uint64_t nextToHandOver_ = 0;
  bool handingOver_ = false;  // a hand-over is under way (its Done not yet called)
  uint64_t current_ = 0;      // its ticket
  bool inHandOver_ = false;   // handOverFrom() is running one: a Done now lets it go on
  bool doneEarly_ = false;    // that one's Done came while it ran
  std::map<uint64_t, HandOver> waiting_;
};

}  // namespace sb
