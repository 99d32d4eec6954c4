#include "router/answer_queue.h"

#include <spdlog/spdlog.h>

namespace sb {

void AnswerQueue::deliver(uint64_t ticket, HandOver handOver) {
  std::unique_lock lock(mu_);
  if (ticket < nextToHandOver_ || waiting_.contains(ticket)) return;
  if (handingOver_ || ticket != nextToHandOver_) {
    // Another answer is being handed over, or an earlier one is not ready: whoever lets the
    // ticket before this one go hands this one over.
    waiting_.emplace(ticket, std::move(handOver));
    return;
  }
  handingOver_ = true;
  current_ = ticket;
  ++nextToHandOver_;
  handOverFrom(lock, std::move(handOver));
}

bool AnswerQueue::takeNext(HandOver& handOver) {
  auto next = waiting_.find(nextToHandOver_);
  if (next == waiting_.end()) {
    handingOver_ = false;
    return false;
  }
  handOver = std::move(next->second);
  waiting_.erase(next);
  current_ = nextToHandOver_++;
  return true;
}

void AnswerQueue::handOverFrom(std::unique_lock<std::mutex>& lock, HandOver handOver) {
  // A loop rather than recursion: answers whose Done comes at once (nearly all) follow one
  // another here, however many a client pipelined.
  for (;;) {
    inHandOver_ = true;
    doneEarly_ = false;
    const Done done(this, current_);
    lock.unlock();
    bool failed = false;
    try {
      handOver(done);
    } catch (const std::exception& e) {
      logFailure(e.what());
      failed = true;
    } catch (...) {
      logFailure("unknown exception");
      failed = true;
    }
    lock.lock();
    inHandOver_ = false;
    if (!doneEarly_ && !failed) return;  // its Done, when it comes, goes on with the next
    if (!takeNext(handOver)) return;
  }
}

void AnswerQueue::finished(uint64_t ticket) {
  std::unique_lock lock(mu_);
  if (!handingOver_ || ticket != current_) return;  // called again
  if (inHandOver_) {
    doneEarly_ = true;  // handOverFrom() goes on
    return;
  }
  HandOver handOver;
  if (takeNext(handOver)) handOverFrom(lock, std::move(handOver));
}

void AnswerQueue::logFailure(const char* what) {
  spdlog::error("handing an answer over to the connection failed: {}", what);
}

}  // namespace sb
