// GroupCommit: the store writes of concurrent callers, made in batches. A caller hands its item
// over and blocks until a write holding it is done, then gets its own outcome. The first caller
// to find no write under way writes every item handed over so far (up to `maxBatch`), on its own
// thread; the items handed over meanwhile wait for the next write, which one of their callers
// makes as soon as this one is done. A caller alone pays no wait: it writes its item at once.
//
// Why: a store round trip per call (a Redis script run, a PostgreSQL statement and its commit)
// costs the router, the store and the kernel far more than the item itself. Written together, n
// items cost about one round trip; each caller waits at most for the write under way plus its own.
//
// Contract: an item is written by a write that started after it was handed over, exactly once.
// Writes never overlap, and they take items in the order they were handed over.
// Thread-safety: run() may be called concurrently from any number of threads.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sb {

template <class Item, class Outcome>
class GroupCommit {
 public:
  // Writes one batch and returns one outcome per item, in order. Called by one thread at a time.
  // An exception fails every call of the batch with it.
  using Write = std::function<std::vector<Outcome>(std::vector<Item>& batch)>;

  GroupCommit(Write write, size_t maxBatch) : write_(std::move(write)), maxBatch_(maxBatch) {
    if (maxBatch_ == 0) throw std::invalid_argument("GroupCommit: maxBatch must be at least 1");
  }

  // Hands `item` over and returns its outcome once a write holding it is done (rethrows what
  // that write threw).
  Outcome run(Item item) {
    Call call(std::move(item));
    std::unique_lock lock(mu_);
    handed_.push_back(&call);
    while (!call.done) {
      if (writing_) {
        call.wake.wait(lock);
      } else {
        writeNext(lock);
      }
    }
    if (call.failure) std::rethrow_exception(call.failure);
    return std::move(*call.outcome);
  }

  // Items handed over and not yet taken by a write (they wait for the next one).
  size_t handedOver() {
    std::lock_guard lock(mu_);
    return handed_.size();
  }

 private:
  // A caller's item and outcome, on its stack while it waits.
  struct Call {
    explicit Call(Item handed) : item(std::move(handed)) {}
    Item item;
    std::optional<Outcome> outcome;
    std::exception_ptr failure;
    bool done = false;  // guarded by mu_
    std::condition_variable wake;
  };

  // Writes the oldest handed-over items. Called with the lock held and no write under way.
  void writeNext(std::unique_lock<std::mutex>& lock) {
    writing_ = true;
    const size_t n = std::min(handed_.size(), maxBatch_);
    std::vector<Call*> calls(handed_.begin(), handed_.begin() + static_cast<std::ptrdiff_t>(n));
    handed_.erase(handed_.begin(), handed_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    std::vector<Item> batch;
    batch.reserve(n);
    for (Call* c : calls) batch.push_back(std::move(c->item));  // their callers are waiting
    std::vector<Outcome> outcomes;
    std::exception_ptr failure;
    try {
      outcomes = write_(batch);
      if (outcomes.size() != n) throw std::logic_error("GroupCommit: one outcome per item");
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    for (size_t i = 0; i < n; ++i) {
      if (failure) {
        calls[i]->failure = failure;
      } else {
        calls[i]->outcome.emplace(std::move(outcomes[i]));
      }
      calls[i]->done = true;
      calls[i]->wake.notify_one();  // under the lock: the call (and its wake) outlive this
    }
    writing_ = false;
    if (!handed_.empty()) handed_.front()->wake.notify_one();  // it writes the next batch
  }

  const Write write_;
  const size_t maxBatch_;
  std::mutex mu_;
  std::vector<Call*> handed_;  // guarded by mu_: handed over, not yet taken by a write
  bool writing_ = false;       // guarded by mu_
};

}  // namespace sb
