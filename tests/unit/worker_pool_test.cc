#include "router/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sb {
namespace {

// Tasks that block (calls waiting on a slow server) make the pool grow up to its maximum, so a
// task posted while they block still runs; beyond the maximum tasks queue.
TEST(WorkerPoolTest, GrowsWhileTasksBlockUpToItsMaximum) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> blocked{0}, ran{0};
  {
    WorkerPool pool(2, 6);
    EXPECT_EQ(pool.threads(), 2);
    for (int i = 0; i < 5; ++i) {
      pool.post([&] {
        ++blocked;
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (blocked < 5 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(blocked, 5);
    pool.post([&] { ++ran; });  // a sixth thread takes it while five block
    while (ran < 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(ran, 1);
    EXPECT_LE(pool.threads(), 6);
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    for (int i = 0; i < 20; ++i) pool.post([&] { ++ran; });
  }  // the destructor runs what is queued, then joins
  EXPECT_EQ(ran, 21);
}

TEST(WorkerPoolTest, FullOnceEveryThreadIsBusyAndTheQueueHoldsItsBound) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> blocked{0}, ran{0};
  {
    WorkerPool pool(1, 2, 2);
    auto block = [&] {
      ++blocked;
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
    };
    pool.post(block);
    pool.post(block);  // the pool grows to its second thread for this one
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (blocked < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(blocked, 2);
    EXPECT_FALSE(pool.full()) << "room for 2 waiting tasks";
    pool.post([&] { ++ran; });
    EXPECT_FALSE(pool.full());
    pool.post([&] { ++ran; });
    EXPECT_TRUE(pool.full());
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    while (ran < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(ran, 2) << "the queued tasks still run";
    EXPECT_FALSE(pool.full());
  }
  WorkerPool unbounded(1, 1);
  EXPECT_FALSE(unbounded.full());
}

TEST(WorkerPoolTest, AFixedPoolQueues) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1);
    for (int i = 0; i < 100; ++i) pool.post([&] { ++ran; });
    EXPECT_EQ(pool.threads(), 1);
  }
  EXPECT_EQ(ran, 100);
}

}  // namespace
}  // namespace sb
