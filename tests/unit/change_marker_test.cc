// ChangeMarker over the memory snapshot store, behind a gate that holds a write in the store:
// marks handed over during a write go into the next one, and nobody returns before its mark is
// written.
#include "core/change_marker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/memory_store.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

// A markChangedMany as the store saw it.
struct Batch {
  std::vector<std::string> ids;
  int64_t atMs = 0;
};

class ChangeMarkerTest : public ::testing::Test {
 protected:
  ChangeMarkerTest() {
    clock.setMs(1000);
    store.prefersBatches = true;  // as the Redis store
    // Every markChangedMany is recorded, and held until the gate is opened.
    store.beforeMarkMany = [this](const std::vector<std::string>& ids, int64_t at) {
      gate.pass({ids, at});
    };
  }
  MemorySnapshotStore inner;
  fake::Gate<Batch> gate;  // closed until a test opens it
  fake::HookedSnapshotStore store{inner};
  ManualClock clock;
  ChangeMarker marker{store, clock};
};

TEST_F(ChangeMarkerTest, MarksDuringAWriteWaitForTheNextOneWhichCoversThemAll) {
  std::thread first([&] { marker.mark("s1"); });
  gate.waitUntilPassed(1);

  clock.setMs(2000);  // later creates: their marks must carry a time after this
  std::atomic<int> returned{0};
  std::vector<std::thread> others;
  for (const char* id : {"s1", "s2", "s2"}) {
    others.emplace_back([&, id] {
      marker.mark(id);
      returned.fetch_add(1);
    });
  }
  while (marker.waitingMarks() < 3) std::this_thread::yield();  // all in mark(), waiting
  EXPECT_EQ(returned.load(), 0) << "nobody returns before its mark is written";

  gate.open();
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(returned.load(), 3);
  auto batches = gate.calls();
  ASSERT_EQ(batches.size(), 2u) << "the three marks went into one write";
  EXPECT_EQ(batches[0].ids, std::vector<std::string>{"s1"});
  EXPECT_EQ(batches[0].atMs, 1000);
  EXPECT_EQ(batches[1].ids, (std::vector<std::string>{"s1", "s2"})) << "once per server";
  EXPECT_EQ(batches[1].atMs, 2000);
  auto versions = inner.versions({"s1", "s2"});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ((*versions)[1]->changedAtMs, 2000);
}

TEST_F(ChangeMarkerTest, ManyThreadsMarkingAllReturnWithEveryServerMarked) {
  gate.open();
  clock.setMs(7000);
  auto all = std::async(std::launch::async, [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) marker.mark("s" + std::to_string((t + i) % 5));
      });
    }
    for (auto& th : threads) th.join();
  });
  ASSERT_EQ(all.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "a caller was never woken";
  size_t marks = 0;
  for (const auto& b : gate.calls()) marks += b.ids.size();
  EXPECT_LE(marks, 16u * 300u);
  auto versions = inner.versions({"s0", "s1", "s2", "s3", "s4"});
  ASSERT_TRUE(versions.ok());
  for (const auto& v : *versions) {
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->changedAtMs, 7000);
  }
}

TEST_F(ChangeMarkerTest, AMarkAloneIsWrittenAtOnce) {
  gate.open();
  clock.setMs(5000);
  marker.mark("s1");
  marker.mark("s1");
  auto batches = gate.calls();
  ASSERT_EQ(batches.size(), 2u) << "each mark after the last write is written again";
  EXPECT_EQ((*inner.versions({"s1"}))[0]->changedAtMs, 5000);
}

// A store without round trips (the embedded one) gets each mark at once: a second mark goes into
// the store while the first is still in it, instead of waiting to be gathered.
TEST_F(ChangeMarkerTest, AStoreThatDoesNotPreferBatchesGetsEachMarkAtOnce) {
  store.prefersBatches = false;
  clock.setMs(3000);
  std::thread first([&] { marker.mark("s1"); });
  gate.waitUntilPassed(1);
  std::thread second([&] { marker.mark("s2"); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (gate.calls().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(gate.calls().size(), 2u) << "the second mark waited for the first write";
  EXPECT_EQ(marker.waitingMarks(), 0u);
  gate.open();
  first.join();
  second.join();
  auto batches = gate.calls();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].ids, std::vector<std::string>{"s1"});
  EXPECT_EQ(batches[1].ids, std::vector<std::string>{"s2"});
  EXPECT_EQ((*inner.versions({"s2"}))[0]->changedAtMs, 3000);
}

}  // namespace
}  // namespace sb
