// The contract of every CallbackQueue (core/recordings/callback_queue.h): one typed test suite,
// instantiated for each queue. A storage type T holds what the queues share (a folder, a
// database) and makes queues on it:
//   struct T { std::unique_ptr<CallbackQueue> make(); };  // each call: a new queue, same storage
// (as two processes of a pool see it).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/recordings/callback_queue.h"

namespace sb {

template <typename T>
class CallbackQueueContract : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = storage_.make(); }

  static PendingCallback ready(const std::string& recordId, int64_t nextAttemptMs = 0) {
    PendingCallback c;
    c.id = readyCallbackId(recordId);
    c.recordId = recordId;
    c.meetingId = "meeting-of-" + recordId;
    c.url = "https://frontend.example.org/ready?token=t";
    c.secretId = "s1";
    c.nextAttemptMs = nextAttemptMs;
    return c;
  }
  std::vector<PendingCallback> listed() {
    auto all = queue_->list();
    EXPECT_TRUE(all.ok()) << (all.ok() ? "" : all.error().message);
    return all.ok() ? *all : std::vector<PendingCallback>{};
  }
  std::optional<PendingCallback> claim(int64_t nowMs, CallbackQueue* queue = nullptr) {
    auto c = (queue ? queue : queue_.get())->claimDue(nowMs, nowMs + 60'000);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : std::nullopt;
  }

  // "gone", given up after 20 attempts, and "waiting", due an hour after `now`.
  void giveUpOneKeepOneWaiting(int64_t now) {
    ASSERT_TRUE(queue_->add(ready("gone")).ok());
    ASSERT_TRUE(queue_->add(ready("waiting", now + 3'600'000)).ok());
    auto c = claim(now);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->recordId, "gone");
    c->attempts = 20;
    c->failed = true;
    ASSERT_TRUE(queue_->reschedule(*c).ok());
  }

  T storage_;
  std::unique_ptr<CallbackQueue> queue_;
};

TYPED_TEST_SUITE_P(CallbackQueueContract);

TYPED_TEST_P(CallbackQueueContract, WhatIsAddedIsListedWhole) {
  PendingCallback a;
  a.id = "analytics-1-2-3";
  a.kind = "analytics";
  a.meetingId = "m1";
  a.url = "https://moodle.example.org/mod/bigbluebuttonbn/bbb_broker.php?action=x";
  a.secretId = "s2";
  a.body = R"({"meeting_id":"m1","data":{"duration":60}})";
  a.tenant = "t1";
  a.attempts = 3;
  a.nextAttemptMs = 1234;
  a.lastError = "HTTP 500";
  ASSERT_TRUE(this->queue_->add(a).ok());
  ASSERT_TRUE(this->queue_->add(this->ready("rec-b")).ok());
  auto all = this->listed();
  ASSERT_EQ(all.size(), 2u);
  const PendingCallback& got = all[0];  // by record ID: "" first
  EXPECT_EQ(got.id, a.id);
  EXPECT_EQ(got.kind, a.kind);
  EXPECT_EQ(got.recordId, "");
  EXPECT_EQ(got.meetingId, a.meetingId);
  EXPECT_EQ(got.url, a.url);
  EXPECT_EQ(got.secretId, a.secretId);
  EXPECT_EQ(got.body, a.body);
  EXPECT_EQ(got.tenant, a.tenant);
  EXPECT_EQ(got.attempts, a.attempts);
  EXPECT_EQ(got.nextAttemptMs, a.nextAttemptMs);
  EXPECT_EQ(got.lastError, a.lastError);
  EXPECT_FALSE(got.failed);
  EXPECT_EQ(all[1].id, readyCallbackId("rec-b"));
  EXPECT_EQ(all[1].kind, "recording-ready");
  EXPECT_EQ(all[1].recordId, "rec-b");
}

TYPED_TEST_P(CallbackQueueContract, AnIdIsKeptOnceAndANewAddReplacesIt) {
  PendingCallback first = this->ready("rec-1");
  first.attempts = 5;
  first.lastError = "HTTP 502";
  ASSERT_TRUE(this->queue_->add(first).ok());
  PendingCallback again = this->ready("rec-1");  // a re-import of the recording
  again.url = "https://frontend.example.org/other";
  ASSERT_TRUE(this->queue_->add(again).ok());
  auto all = this->listed();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].url, again.url);
  EXPECT_EQ(all[0].attempts, 0);
  EXPECT_EQ(all[0].lastError, "");
}

TYPED_TEST_P(CallbackQueueContract, OnlyDueCallbacksAreClaimedAndAClaimIsHeld) {
  const int64_t now = 1'000'000;
  ASSERT_TRUE(this->queue_->add(this->ready("later", now + 3'600'000)).ok());
  ASSERT_TRUE(this->queue_->add(this->ready("due", now - 1)).ok());
  auto c = this->claim(now);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->recordId, "due");
  EXPECT_FALSE(this->claim(now).has_value()) << "the due one is held, the other is not due";
  auto other = this->storage_.make();
  EXPECT_FALSE(this->claim(now, other.get()).has_value()) << "held for every queue on it";
  ASSERT_TRUE(this->queue_->settle(*c).ok());
  auto all = this->listed();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].recordId, "later");
  EXPECT_EQ(this->claim(now + 3'600'000)->recordId, "later");
}

TYPED_TEST_P(CallbackQueueContract, ARescheduledCallbackKeepsItsAttemptAndComesBackWhenDue) {
  const int64_t now = 1'000'000;
  ASSERT_TRUE(this->queue_->add(this->ready("rec-1")).ok());
  auto c = this->claim(now);
  ASSERT_TRUE(c.has_value());
  c->attempts = 1;
  c->nextAttemptMs = now + 500;
  c->lastError = "Couldn't connect to server";
  ASSERT_TRUE(this->queue_->reschedule(*c).ok());
  EXPECT_FALSE(this->claim(now).has_value()) << "not due before its next attempt";
  auto all = this->listed();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].attempts, 1);
  EXPECT_EQ(all[0].nextAttemptMs, now + 500);
  EXPECT_EQ(all[0].lastError, "Couldn't connect to server");
  auto again = this->claim(now + 500);
  ASSERT_TRUE(again.has_value()) << "due again, and let go by the reschedule";
  EXPECT_EQ(again->attempts, 1);
}

TYPED_TEST_P(CallbackQueueContract, AGivenUpCallbackWaitsForRetryAll) {
  const int64_t now = 1'000'000;
  ASSERT_NO_FATAL_FAILURE(this->giveUpOneKeepOneWaiting(now));
  auto waiting = this->claim(now + 7'200'000);
  ASSERT_TRUE(waiting.has_value());
  EXPECT_EQ(waiting->recordId, "waiting");
  EXPECT_FALSE(this->claim(now + 7'200'000).has_value()) << "a given-up one is never claimed";
  ASSERT_TRUE(this->queue_->reschedule(*waiting).ok());
  auto all = this->listed();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].failed);  // "gone" < "waiting"
  EXPECT_EQ(all[0].attempts, 20);
  EXPECT_FALSE(all[1].failed);
}

TYPED_TEST_P(CallbackQueueContract, RetryAllMakesEveryCallbackDueWithANewRound) {
  const int64_t now = 1'000'000;
  ASSERT_NO_FATAL_FAILURE(this->giveUpOneKeepOneWaiting(now));
  auto retried = this->queue_->retryAll();
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 2);
  std::set<std::string> claimed;
  while (auto next = this->claim(now)) {
    claimed.insert(next->recordId);
    EXPECT_FALSE(next->failed);
    EXPECT_EQ(next->attempts, 0) << next->recordId;
  }
  EXPECT_EQ(claimed, (std::set<std::string>{"gone", "waiting"}));
}

// Two relays (two processes of a pool) racing for the same callbacks: each is claimed once.
TYPED_TEST_P(CallbackQueueContract, RacingRelaysClaimEachCallbackOnce) {
  const int64_t now = 1'000'000;
  constexpr int kCallbacks = 40;
  for (int i = 0; i < kCallbacks; ++i) {
    ASSERT_TRUE(this->queue_->add(this->ready("rec-" + std::to_string(i))).ok());
  }
  auto other = this->storage_.make();
  std::mutex mu;
  std::vector<std::string> claimed;
  auto relay = [&](CallbackQueue& q) {
    for (;;) {
      auto c = q.claimDue(now, now + 60'000);
      if (!c.ok() || !*c) return;
      std::lock_guard lock(mu);
      claimed.push_back((*c)->id);
    }
  };
  std::thread a([&] { relay(*this->queue_); });
  std::thread b([&] { relay(*other); });
  a.join();
  b.join();
  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kCallbacks));
  EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end())
      << "a callback was claimed twice";
}

REGISTER_TYPED_TEST_SUITE_P(CallbackQueueContract, WhatIsAddedIsListedWhole,
                            AnIdIsKeptOnceAndANewAddReplacesIt,
                            OnlyDueCallbacksAreClaimedAndAClaimIsHeld,
                            ARescheduledCallbackKeepsItsAttemptAndComesBackWhenDue,
                            AGivenUpCallbackWaitsForRetryAll,
                            RetryAllMakesEveryCallbackDueWithANewRound,
                            RacingRelaysClaimEachCallbackOnce);

}  // namespace sb
