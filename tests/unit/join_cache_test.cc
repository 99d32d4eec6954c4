#include "core/join_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"

namespace sb {
namespace {

std::shared_ptr<const Server> serverNamed(const std::string& id) {
  auto s = std::make_shared<Server>();
  s->id = id;
  return s;
}

TEST(JoinCacheTest, AnEntryLivesForTheTtlFromItsStoreReadAndAHitNeverExtendsIt) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  EXPECT_EQ(cache.find("m1"), nullptr);
  cache.put("m1", serverNamed("s1"), clock.nowMs());
  clock.advanceMs(999);
  auto hit = cache.find("m1");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->id, "s1");
  clock.advanceMs(1);
  EXPECT_EQ(cache.find("m1"), nullptr) << "expired 1000 ms after the put, the hit did not extend";
}

TEST(JoinCacheTest, TheTtlCountsFromWhenTheStoreReadStartedNotFromThePut) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  const int64_t readAt = clock.nowMs();
  clock.advanceMs(300);  // a slow store read
  cache.put("m1", serverNamed("s1"), readAt);
  clock.advanceMs(699);
  EXPECT_NE(cache.find("m1"), nullptr);
  clock.advanceMs(1);
  EXPECT_EQ(cache.find("m1"), nullptr) << "1000 ms after the read started, not after the put";
  cache.put("m2", serverNamed("s1"), clock.nowMs() - 1000);
  EXPECT_EQ(cache.find("m2"), nullptr) << "a read older than the TTL is not cached at all";
}

TEST(JoinCacheTest, EntriesPastThreeQuartersOfTheTtlAreListedForOneRefreshEach) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  cache.put("m1", serverNamed("s1"), clock.nowMs());
  cache.put("m2", serverNamed("s1"), clock.nowMs());
  bool due = false;
  clock.advanceMs(749);
  ASSERT_NE(cache.find("m1", &due), nullptr);
  EXPECT_FALSE(due);
  EXPECT_TRUE(cache.takeRefreshes().empty());
  clock.advanceMs(1);
  ASSERT_NE(cache.find("m1", &due), nullptr);
  EXPECT_TRUE(due) << "the first meeting on the list asks for a refresh";
  bool again = false;
  ASSERT_NE(cache.find("m1", &again), nullptr);
  EXPECT_FALSE(again) << "one refresh per entry";
  ASSERT_NE(cache.find("m2", &again), nullptr);
  EXPECT_FALSE(again) << "the list was not empty: the refresh already asked for takes m2 too";
  EXPECT_EQ(cache.takeRefreshes(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(cache.takeRefreshes().empty());

  // The refresh's answer replaces the entry: a new TTL, and a new refresh point.
  cache.put("m1", serverNamed("s2"), clock.nowMs());
  clock.advanceMs(749);
  auto hit = cache.find("m1", &again);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->id, "s2");
  EXPECT_FALSE(again);
  clock.advanceMs(1);
  ASSERT_NE(cache.find("m1", &again), nullptr);
  EXPECT_TRUE(again);
  EXPECT_EQ(cache.takeRefreshes(), (std::vector<std::string>{"m1"}));
}

TEST(JoinCacheTest, TheRefreshListNeverOutgrowsTheCacheWhenNobodyTakesIt) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000), 16);
  for (int round = 0; round < 40; ++round) {
    cache.put("m1", serverNamed("s1"), clock.nowMs());
    clock.advanceMs(800);
    bool due = false;
    ASSERT_NE(cache.find("m1", &due), nullptr);
  }
  EXPECT_EQ(cache.takeRefreshes().size(), 16u);
}

TEST(JoinCacheTest, AnOlderReadNeverReplacesANewerOne) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  const int64_t olderRead = clock.nowMs();
  clock.advanceMs(100);
  cache.put("m1", serverNamed("new"), clock.nowMs());
  cache.put("m1", serverNamed("old"), olderRead);  // a slower read finishing last
  ASSERT_NE(cache.find("m1"), nullptr);
  EXPECT_EQ(cache.find("m1")->id, "new");
}

TEST(JoinCacheTest, LookupsTakeViewsOfLongIdsAndForgetDropsTheEntry) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  const std::string id(64, 'x');  // longer than any short-string buffer
  cache.put(id, serverNamed("s1"), clock.nowMs());
  cache.put("other", serverNamed("s2"), clock.nowMs());
  EXPECT_NE(cache.find(std::string_view(id)), nullptr);
  cache.forget(std::string_view(id));
  EXPECT_EQ(cache.find(id), nullptr);
  cache.forget("never-cached");  // no effect, no error
  ASSERT_NE(cache.find("other"), nullptr);
  EXPECT_EQ(cache.find("other")->id, "s2");
}

TEST(JoinCacheTest, ATtlOfZeroCachesNothing) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(0));
  EXPECT_FALSE(cache.enabled());
  cache.put("m1", serverNamed("s1"), clock.nowMs());
  EXPECT_EQ(cache.find("m1"), nullptr);
}

TEST(JoinCacheTest, StaysWithinItsSizeDroppingExpiredEntriesFirst) {
  ManualClock clock;
  // 16 shards of one entry each: a second meeting in a full shard makes room.
  JoinCache cache(clock, std::chrono::milliseconds(1000), 16);
  for (int i = 0; i < 200; ++i)
    cache.put("m" + std::to_string(i), serverNamed("s1"), clock.nowMs());
  int kept = 0;
  for (int i = 0; i < 200; ++i) kept += cache.find("m" + std::to_string(i)) != nullptr ? 1 : 0;
  EXPECT_LE(kept, 16);
  EXPECT_GE(kept, 1);
  EXPECT_NE(cache.find("m199"), nullptr) << "the newest entry is always kept";
}

}  // namespace
}  // namespace sb
