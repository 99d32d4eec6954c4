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
#include <memory>
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
    auto call = std::make_shared<Call>(std::move(item));
    std::unique_lock lock(mu_);
    handed_.push_back(call);
    while (!call->done) {
      if (writing_) {
        call->wake.wait(lock);
      } else {
        writeNext(lock);
      }
    }
    if (call->failure) std::rethrow_exception(call->failure);
    return std::move(*call->outcome);
  }

  // Items handed over and not yet taken by a write (they wait for the next one).
  size_t handedOver() {
    std::lock_guard lock(mu_);
    return handed_.size();
  }

 private:
  // A caller's item and outcome. Shared with the write that holds it, so the write can wake the
  // caller after letting go of the lock (a caller woken under the lock would only block on it).
  struct Call {
    explicit Call(Item handed) : item(std::move(handed)) {}
    Item item;
    std::optional<Outcome> outcome;  // set by the write before done
    std::exception_ptr failure;      // set by the write before done
    bool done = false;               // guarded by mu_
    std::condition_variable wake;
  };

  // Writes the oldest handed-over items. Called with the lock held and no write under way;
  // returns with it held.
  void writeNext(std::unique_lock<std::mutex>& lock) {
    writing_ = true;
    const auto n = static_cast<std::ptrdiff_t>(std::min(handed_.size(), maxBatch_));
    std::vector<std::shared_ptr<Call>> calls(handed_.begin(), handed_.begin() + n);
    handed_.erase(handed_.begin(), handed_.begin() + n);
    lock.unlock();
    std::vector<Item> batch;
    batch.reserve(calls.size());
    for (const auto& c : calls) batch.push_back(std::move(c->item));  // their callers wait
    std::vector<Outcome> outcomes;
    std::exception_ptr failure;
    try {
      outcomes = write_(batch);
      if (outcomes.size() != calls.size()) {
        throw std::logic_error("GroupCommit: one outcome per item");
      }
    } catch (...) {
      failure = std::current_exception();
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      if (failure) {
        calls[i]->failure = failure;
      } else {
        calls[i]->outcome.emplace(std::move(outcomes[i]));
      }
    }
    lock.lock();
    for (const auto& c : calls) c->done = true;  // publishes the outcomes to their callers
    writing_ = false;
    std::shared_ptr<Call> next = handed_.empty() ? nullptr : handed_.front();
    lock.unlock();
    for (const auto& c : calls) c->wake.notify_one();
    if (next) next->wake.notify_one();  // it writes the next batch
    lock.lock();
  }

  const Write write_;
  const size_t maxBatch_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Call>> handed_;  // guarded by mu_: not yet taken by a write
  bool writing_ = false;                       // guarded by mu_
};

}  // namespace sb
