// GroupCommit: a call alone is written at once; calls handed over during a write go into the next
// one together, in order, each with its own outcome; batches are bounded; a failed write fails
// only its own calls; many threads all return.
#include "core/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/fakes.h"

namespace sb {
namespace {

// Answers each item with its own text and the number of the write that held it; the gate holds
// every write until a test opens it.
class GroupCommitTest : public ::testing::Test {
 protected:
  std::vector<std::string> write(std::vector<int>& batch) {
    gate.pass(batch);
    const int n = ++writes;
    if (batch.front() < 0) throw std::runtime_error("store down");
    std::vector<std::string> out;
    for (int item : batch) out.push_back(std::to_string(item) + "@" + std::to_string(n));
    return out;
  }
  std::future<std::string> runAsync(int item) {
    return std::async(std::launch::async, [this, item] { return commit.run(item); });
  }
  void waitUntilHandedOver(size_t n) {
    while (commit.handedOver() < n) std::this_thread::yield();
  }

  fake::Gate<std::vector<int>> gate;
  std::atomic<int> writes{0};
  GroupCommit<int, std::string> commit{[this](std::vector<int>& b) { return write(b); }, 3};
};

TEST_F(GroupCommitTest, ACallAloneIsWrittenAtOnceOnItsOwnThread) {
  gate.open();
  EXPECT_EQ(commit.run(1), "1@1");
  EXPECT_EQ(commit.run(2), "2@2");
  EXPECT_EQ(gate.calls(), (std::vector<std::vector<int>>{{1}, {2}}));
}

TEST_F(GroupCommitTest, CallsHandedOverDuringAWriteShareTheNextInOrderWithTheirOwnOutcomes) {
  auto first = runAsync(1);
  gate.waitUntilPassed(1);
  auto second = runAsync(2);
  waitUntilHandedOver(1);
  auto third = runAsync(3);
  waitUntilHandedOver(2);
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  gate.open();
  EXPECT_EQ(first.get(), "1@1");
  EXPECT_EQ(second.get(), "2@2");
  EXPECT_EQ(third.get(), "3@2");
  EXPECT_EQ(gate.calls(), (std::vector<std::vector<int>>{{1}, {2, 3}}));
}

TEST_F(GroupCommitTest, AWriteTakesAtMostMaxBatchItemsTheOldestFirst) {
  auto first = runAsync(0);
  gate.waitUntilPassed(1);
  std::vector<std::future<std::string>> rest;
  for (int i = 1; i <= 7; ++i) {
    rest.push_back(runAsync(i));
    waitUntilHandedOver(static_cast<size_t>(i));
  }
  gate.open();
  EXPECT_EQ(first.get(), "0@1");
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(rest[i - 1].get().substr(0, 2), std::to_string(i) + "@");
  auto calls = gate.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[1], (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(calls[2], (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(calls[3], (std::vector<int>{7}));
}

TEST_F(GroupCommitTest, AFailedWriteFailsItsOwnCallsOnly) {
  auto first = runAsync(1);
  gate.waitUntilPassed(1);
  auto failing = runAsync(-1);  // the next write throws
  waitUntilHandedOver(1);
  auto alsoFailing = runAsync(2);
  waitUntilHandedOver(2);
  gate.open();
  EXPECT_EQ(first.get(), "1@1");
  EXPECT_THROW(failing.get(), std::runtime_error);
  EXPECT_THROW(alsoFailing.get(), std::runtime_error);
  EXPECT_EQ(commit.run(3), "3@3") << "the next write goes on";
}

TEST_F(GroupCommitTest, ManyThreadsAllReturnWithTheirOwnOutcome) {
  gate.open();
  std::atomic<int> wrong{0};
  auto all = std::async(std::launch::async, [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 500; ++i) {
          const int item = t * 1000 + i;
          std::string out = commit.run(item);
          if (out.substr(0, out.find('@')) != std::to_string(item)) wrong.fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
  });
  ASSERT_EQ(all.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "a caller was never woken";
  EXPECT_EQ(wrong.load(), 0);
  size_t items = 0;
  for (const auto& b : gate.calls()) {
    EXPECT_LE(b.size(), 3u);
    items += b.size();
  }
  EXPECT_EQ(items, 16u * 500u) << "each item written exactly once";
}

TEST(GroupCommitConfigTest, ABatchOfNothingIsRefused) {
  EXPECT_THROW((GroupCommit<int, int>([](std::vector<int>& b) { return b; }, 0)),
               std::invalid_argument);
}

}  // namespace
}  // namespace sb
