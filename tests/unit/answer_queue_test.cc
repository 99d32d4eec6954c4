#include "router/answer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sb {
namespace {

using Done = AnswerQueue::Done;

// A hand-over that records `n` and is done at once.
AnswerQueue::HandOver records(std::vector<int>& sent, int n) {
  return [&sent, n](Done done) {
    sent.push_back(n);
    done();
  };
}

TEST(AnswerQueueTest, AnAnswerReadyBeforeAnEarlierOneWaitsForIt) {
  AnswerQueue queue;
  uint64_t first = queue.reserve();
  uint64_t second = queue.reserve();
  std::vector<int> sent;
  queue.deliver(second, records(sent, 2));
  EXPECT_TRUE(sent.empty());
  queue.deliver(first, records(sent, 1));
  EXPECT_EQ(sent, (std::vector<int>{1, 2}));
}

TEST(AnswerQueueTest, AnAnswerThatIsNextGoesAtOnce) {
  AnswerQueue queue;
  std::vector<int> sent;
  for (int i = 0; i < 3; ++i) {
    queue.deliver(queue.reserve(), records(sent, i));
    EXPECT_EQ(sent.size(), static_cast<size_t>(i + 1));
  }
}

// A large answer is handed over in pieces: the next answer waits until its Done comes.
TEST(AnswerQueueTest, TheNextAnswerWaitsForTheDoneOfAHandOverStillUnderWay) {
  AnswerQueue queue;
  uint64_t first = queue.reserve();
  uint64_t second = queue.reserve();
  std::vector<int> sent;
  std::optional<Done> firstDone;
  queue.deliver(first, [&](Done done) {
    sent.push_back(1);
    firstDone = done;
  });
  queue.deliver(second, records(sent, 2));
  EXPECT_EQ(sent, (std::vector<int>{1}));
  ASSERT_TRUE(firstDone);
  (*firstDone)();
  EXPECT_EQ(sent, (std::vector<int>{1, 2}));
  (*firstDone)();  // again: ignored
  queue.deliver(queue.reserve(), records(sent, 3));
  EXPECT_EQ(sent, (std::vector<int>{1, 2, 3}));
}

TEST(AnswerQueueTest, ADeliveredTicketDeliveredAgainIsIgnored) {
  AnswerQueue queue;
  uint64_t first = queue.reserve();
  uint64_t second = queue.reserve();
  std::vector<int> sent;
  queue.deliver(second, records(sent, 2));
  queue.deliver(second, records(sent, 20));
  queue.deliver(first, records(sent, 1));
  queue.deliver(first, records(sent, 10));
  EXPECT_EQ(sent, (std::vector<int>{1, 2}));
}

TEST(AnswerQueueTest, AHandOverThatThrowsDoesNotHoldUpTheNext) {
  AnswerQueue queue;
  uint64_t first = queue.reserve();
  uint64_t second = queue.reserve();
  std::vector<int> sent;
  queue.deliver(second, records(sent, 2));
  queue.deliver(first, [](Done) { throw std::runtime_error("client gone"); });
  EXPECT_EQ(sent, (std::vector<int>{2}));
  queue.deliver(queue.reserve(), records(sent, 3));
  EXPECT_EQ(sent, (std::vector<int>{2, 3}));
}

// Thousands of pipelined answers whose Done comes at once follow one another without recursion.
TEST(AnswerQueueTest, ManyWaitingAnswersAreHandedOverInALoop) {
  AnswerQueue queue;
  constexpr int kAnswers = 100000;
  std::vector<uint64_t> tickets;
  for (int i = 0; i < kAnswers; ++i) tickets.push_back(queue.reserve());
  std::vector<int> sent;
  for (int i = kAnswers - 1; i >= 0; --i) queue.deliver(tickets[i], records(sent, i));
  ASSERT_EQ(sent.size(), static_cast<size_t>(kAnswers));
  EXPECT_EQ(sent.front(), 0);
  EXPECT_EQ(sent.back(), kAnswers - 1);
}

// Answers delivered from many threads in any order, some done later from another thread, leave
// in ticket order, one at a time.
TEST(AnswerQueueTest, ConcurrentDeliveriesLeaveInTicketOrderOneAtATime) {
  constexpr int kAnswers = 2000;
  AnswerQueue queue;
  std::vector<uint64_t> tickets;
  for (int i = 0; i < kAnswers; ++i) tickets.push_back(queue.reserve());
  std::vector<int> sent;  // written only inside hand-overs, which never overlap
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::mutex laterMu;
  std::vector<std::thread> later;  // threads that call a Done later
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each thread delivers every fourth ticket, from the last to the first.
      for (int i = kAnswers - 1 - t; i >= 0; i -= 4) {
        queue.deliver(tickets[static_cast<size_t>(i)], [&, i](Done done) {
          if (inside.fetch_add(1) != 0) overlapped = true;
          sent.push_back(i);
          inside.fetch_sub(1);
          if (i % 50 == 0) {
            std::lock_guard lock(laterMu);
            later.emplace_back([done] { done(); });
          } else {
            done();
          }
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  // Joining a later thread may start more of them (their Done hands the next answers over).
  for (;;) {
    std::vector<std::thread> batch;
    {
      std::lock_guard lock(laterMu);
      batch.swap(later);
    }
    if (batch.empty()) break;
    for (auto& t : batch) t.join();
  }
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(sent.size(), static_cast<size_t>(kAnswers));
  for (int i = 0; i < kAnswers; ++i) EXPECT_EQ(sent[static_cast<size_t>(i)], i) << i;
}

}  // namespace
}  // namespace sb
