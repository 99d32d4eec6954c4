#include "core/join_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

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
  cache.put("m1", serverNamed("s1"));
  clock.advanceMs(999);
  auto hit = cache.find("m1");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->id, "s1");
  clock.advanceMs(1);
  EXPECT_EQ(cache.find("m1"), nullptr) << "expired 1000 ms after the put, the hit did not extend";
}

TEST(JoinCacheTest, LookupsTakeViewsOfLongIdsAndForgetDropsTheEntry) {
  ManualClock clock;
  JoinCache cache(clock, std::chrono::milliseconds(1000));
  const std::string id(64, 'x');  // longer than any short-string buffer
  cache.put(id, serverNamed("s1"));
  cache.put("other", serverNamed("s2"));
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
  cache.put("m1", serverNamed("s1"));
  EXPECT_EQ(cache.find("m1"), nullptr);
}

TEST(JoinCacheTest, StaysWithinItsSizeDroppingExpiredEntriesFirst) {
  ManualClock clock;
  // 16 shards of one entry each: a second meeting in a full shard makes room.
  JoinCache cache(clock, std::chrono::milliseconds(1000), 16);
  for (int i = 0; i < 200; ++i) cache.put("m" + std::to_string(i), serverNamed("s1"));
  int kept = 0;
  for (int i = 0; i < 200; ++i) kept += cache.find("m" + std::to_string(i)) != nullptr ? 1 : 0;
  EXPECT_LE(kept, 16);
  EXPECT_GE(kept, 1);
  EXPECT_NE(cache.find("m199"), nullptr) << "the newest entry is always kept";
}

}  // namespace
}  // namespace sb
