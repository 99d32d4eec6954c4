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
