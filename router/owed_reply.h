// An answer a client is owed. A handler that hands its Reply to a worker task (BbbApi::dispatch)
// wraps it first: whatever happens to the task (it throws, or it is destroyed without running),
// the client gets exactly one answer. The WorkerPool logs a task that throws and destroys it
// outside its lock, which is when the fallback answers.
// Thread-safety: the returned Reply and its copies may be called and destroyed from any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <utility>

#include "router/http_types.h"

namespace sb {

// `reply`, answered exactly once: the first call goes through and later ones are dropped; when
// the last copy goes without having been called, `fallback()` is answered instead (an error
// answer: the BBB API's FAILED envelope). Neither may throw out of a destructor: exceptions from
// them there are logged.
inline Reply owedReply(Reply reply, std::function<HttpResponse()> fallback) {
  struct Owed {
    Reply reply;
    std::function<HttpResponse()> fallback;
    std::atomic<bool> answered{false};
    ~Owed() {
      if (answered.exchange(true)) return;
      try {
        spdlog::error("a request was left unanswered (its task failed): answering with an error");
        reply(fallback());
      } catch (const std::exception& e) {
        spdlog::error("answering a request left unanswered failed: {}", e.what());
      } catch (...) {
        spdlog::error("answering a request left unanswered failed");
      }
    }
  };
  auto owed = std::make_shared<Owed>();
  owed->reply = std::move(reply);
  owed->fallback = std::move(fallback);
  return [owed](HttpResponse r) {
    if (owed->answered.exchange(true)) {
      spdlog::error("a request was answered twice: the second answer is dropped");
      return;
    }
    owed->reply(std::move(r));
  };
}

}  // namespace sb
