// ReservationWriter over the memory server store, behind a gate that holds a write in the
// store: concurrent placements' reservations are combined into the next write.
#include "core/balancing/reservation_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "core/balancing/least_load_strategy.h"
#include "db/memory_store.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;

class ReservationWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every reserveMany is recorded, and held until the gate is opened.
    store_.beforeReserveMany = [this](std::span<const ServerStore::Reservation> reservations) {
      gate_.pass({reservations.begin(), reservations.end()});
    };
    ASSERT_TRUE(store_.addServer(makeServer("s1", 10)).ok());
    ASSERT_TRUE(store_.addServer(makeServer("s2", 5)).ok());
  }
  PlacementView::Pick choose() {
    auto pick = view_.choose(ServerTagRequest{}, strategy_, "m", 0, {});
    EXPECT_TRUE(pick.ok());
    return *pick;
  }
  int meetingsInStore(const std::string& id) { return inner_.getServer(id)->live.usage.meetings; }

  MemoryServerStore inner_;
  fake::Gate<std::vector<ServerStore::Reservation>> gate_;
  fake::HookedServerStore store_{inner_};
  ManualClock clock_;
  LoadConfig load_;
  LeastLoadStrategy strategy_;
  PlacementView view_{store_, clock_, load_, std::chrono::milliseconds(0)};  // reads every time
  ReservationWriter writer_{store_, view_};
};

TEST_F(ReservationWriterTest, PlacementsDuringAWriteGoIntoTheNextOneSummedPerServer) {
  // Chosen first: a choice reads the store (TTL 0), which waits for a write under way.
  const PlacementView::Pick first = choose();
  std::vector<PlacementView::Pick> more{choose(), choose(), choose()};
  std::thread writing([&] { writer_.write(first); });
  gate_.waitUntilPassed(1);

  // While that write waits in the store, three more placements hand theirs over and go on.
  auto handedOver = std::async(std::launch::async, [&] {
    for (const auto& p : more) writer_.write(p);
  });
  ASSERT_EQ(handedOver.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "a placement waited for another one's write";
  EXPECT_EQ(gate_.calls().size(), 1u);

  gate_.open();
  writing.join();
  auto batches = gate_.calls();
  ASSERT_EQ(batches.size(), 2u) << "the three came in one write after the first";
  ASSERT_EQ(batches[0].size(), 1u);
  int meetings = 0;
  for (const auto& r : batches[1]) meetings += r.meetings;
  EXPECT_EQ(meetings, 3);
  EXPECT_LE(batches[1].size(), 2u) << "one reservation per server";
  EXPECT_EQ(meetingsInStore("s1") + meetingsInStore("s2"), 4);

  // Every reservation was settled: the view now counts each once, from the store.
  auto next = choose();
  EXPECT_EQ(next.server.live.usage.meetings, meetingsInStore(next.server.id));
}

TEST_F(ReservationWriterTest, AReleaseNeverReachesTheStoreBeforeItsReservation) {
  const PlacementView::Pick pick = choose();
  const double loadBefore = inner_.getServer(pick.server.id)->live.load;
  std::thread writing([&] { writer_.write(pick); });
  gate_.waitUntilPassed(1);
  // The create failed while its reservation is still being written: the release queues behind.
  auto released = std::async(std::launch::async, [&] { writer_.release(pick); });
  ASSERT_EQ(released.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  gate_.open();
  writing.join();
  EXPECT_DOUBLE_EQ(inner_.getServer(pick.server.id)->live.load, loadBefore);
  EXPECT_EQ(meetingsInStore(pick.server.id), 0);
  auto batches = gate_.calls();
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[1].size(), 1u);
  EXPECT_EQ(batches[1][0].meetings, -1);
}

TEST_F(ReservationWriterTest, AGoneServersReservationIsSkippedAndTheOthersWritten) {
  gate_.open();
  const PlacementView::Pick pick = choose();
  ASSERT_TRUE(store_.removeServer(pick.server.id).ok());
  writer_.write(pick);  // skipped in the store, settled in the view
  auto next = choose();
  EXPECT_NE(next.server.id, pick.server.id);
  writer_.write(next);
  EXPECT_EQ(meetingsInStore(next.server.id), 1);
}

}  // namespace
}  // namespace sb
