// The contract of every TenantQuota (core/tenants/tenant_quota.h): one typed test suite,
// instantiated for each quota. A storage type T holds what the quotas share and makes quotas on
// it:  struct T { std::unique_ptr<TenantQuota> make(); };  (as the routers of a pool see it).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/tenants/tenant_quota.h"

namespace sb {

template <typename T>
class TenantQuotaContract : public ::testing::Test {
 protected:
  void SetUp() override { quota_ = storage_.make(); }
  TenantQuota::Admission admit(const std::string& tenant, const std::string& id, int max,
                               int64_t now = 1'000'000) {
    auto a = quota_->admit(tenant, id, max, now);
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    return a.ok() ? *a : TenantQuota::Admission::kFull;
  }
  T storage_;
  std::unique_ptr<TenantQuota> quota_;
};

TYPED_TEST_SUITE_P(TenantQuotaContract);

using Admission = TenantQuota::Admission;

TYPED_TEST_P(TenantQuotaContract, CountsEachMeetingOnceUpToTheLimitPerTenant) {
  EXPECT_EQ(this->admit("acme", "acme~a", 2), Admission::kCounted);
  EXPECT_EQ(this->admit("acme", "acme~a", 2), Admission::kKnown);
  EXPECT_EQ(this->admit("acme", "acme~b", 2), Admission::kCounted);
  EXPECT_EQ(this->admit("acme", "acme~c", 2), Admission::kFull);
  EXPECT_EQ(this->admit("acme", "acme~b", 2), Admission::kKnown);    // a repeated create
  EXPECT_EQ(this->admit("beta", "beta~a", 2), Admission::kCounted);  // its own count
  EXPECT_EQ(this->admit("beta", "beta~b", 0), Admission::kCounted);  // 0: no limit
  EXPECT_EQ(*this->storage_.make()->meetings("acme"), 2);
  ASSERT_TRUE(this->quota_->release("acme", "acme~a").ok());
  ASSERT_TRUE(this->quota_->release("acme", "acme~never").ok());
  EXPECT_EQ(this->admit("acme", "acme~c", 2), Admission::kCounted);
  EXPECT_EQ(*this->quota_->meetings("acme"), 2);
  EXPECT_EQ(*this->quota_->meetings("nobody"), 0);
}

TYPED_TEST_P(TenantQuotaContract, ReconcileCountsWhatTheStoreHoldsAndKeepsRecentCounts) {
  const int64_t listedAt = 10'000'000;
  this->admit("acme", "acme~ended", 0, listedAt - 60'000);    // ended without a word
  this->admit("acme", "acme~just-now", 0, listedAt - 1'000);  // not listed yet
  this->admit("gone", "gone~x", 0, listedAt - 60'000);        // a tenant with none left
  ASSERT_TRUE(this->storage_.make()
                  ->reconcile({{"acme", {"acme~running", "acme~other"}}}, listedAt, 30'000)
                  .ok());
  EXPECT_EQ(*this->quota_->meetings("acme"), 3);  // running, other, just-now
  EXPECT_EQ(this->admit("acme", "acme~running", 3), Admission::kKnown);
  EXPECT_EQ(this->admit("acme", "acme~ended", 3), Admission::kFull);
  EXPECT_EQ(*this->quota_->meetings("gone"), 0);
}

TYPED_TEST_P(TenantQuotaContract, CreatesPerMinuteCountInTheirMinuteOnly) {
  const int64_t minute = 60'000 * 1'000;
  auto other = this->storage_.make();
  EXPECT_TRUE(*this->quota_->countCreate("acme", 2, minute + 1));
  EXPECT_TRUE(*other->countCreate("acme", 2, minute + 2));
  EXPECT_FALSE(*this->quota_->countCreate("acme", 2, minute + 59'999));
  EXPECT_TRUE(*other->countCreate("beta", 2, minute + 3));
  EXPECT_TRUE(*this->quota_->countCreate("acme", 2, minute + 60'000));  // the next minute
}

TYPED_TEST_P(TenantQuotaContract, ParticipantsAreWhatTheLastRoundCounted) {
  ASSERT_TRUE(this->quota_->setParticipants({{"acme", 40}, {"beta", 3}}).ok());
  EXPECT_EQ(*this->storage_.make()->participants("acme"), 40);
  ASSERT_TRUE(this->quota_->setParticipants({{"beta", 5}}).ok());
  EXPECT_EQ(*this->quota_->participants("acme"), 0);
  EXPECT_EQ(*this->quota_->participants("beta"), 5);
  ASSERT_TRUE(this->quota_->setParticipants({}).ok());
  EXPECT_EQ(*this->quota_->participants("beta"), 0);
}

TYPED_TEST_P(TenantQuotaContract, RacingAdmissionsNeverPassTheLimit) {
  constexpr int kLimit = 7, kThreads = 4, kEach = 25;
  std::atomic<int> counted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto quota = this->storage_.make();  // one per thread: as routers
      for (int i = 0; i < kEach; ++i) {
        auto a = quota->admit("acme", "acme~" + std::to_string(t) + "-" + std::to_string(i), kLimit,
                              1'000'000);
        if (a.ok() && *a == Admission::kCounted) ++counted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counted.load(), kLimit);
  EXPECT_EQ(*this->quota_->meetings("acme"), kLimit);
}

REGISTER_TYPED_TEST_SUITE_P(TenantQuotaContract, CountsEachMeetingOnceUpToTheLimitPerTenant,
                            ReconcileCountsWhatTheStoreHoldsAndKeepsRecentCounts,
                            CreatesPerMinuteCountInTheirMinuteOnly,
                            ParticipantsAreWhatTheLastRoundCounted,
                            RacingAdmissionsNeverPassTheLimit);

}  // namespace sb
