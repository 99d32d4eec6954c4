// The contract of every RecordingStore (core/recordings/recording_store.h): one typed test suite,
// instantiated for each store. A store type T needs a fixture factory:
//   template <> struct RecordingStoreMaker<T> { static std::unique_ptr<T> make(); };
// (which may skip nothing: a store that cannot be made fails the test).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/recordings/recording_store.h"
#include "tests/unit/recording_samples.h"

namespace sb {

template <typename T>
struct RecordingStoreMaker;

template <typename T>
class RecordingStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = RecordingStoreMaker<T>::make(); }
  RecordingPage query(const RecordingQuery& q) {
    auto page = store_->query(q);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    return page.ok() ? *page : RecordingPage{};
  }
  std::unique_ptr<T> store_;
};

TYPED_TEST_SUITE_P(RecordingStoreContract);

TYPED_TEST_P(RecordingStoreContract, WhatIsPutIsReadBackWhole) {
  Recording r = sampleRecording("rec-1", "m1", 1000);
  r.isBreakout = true;
  r.parentMeetingId = "parent-internal";
  r.breakoutRooms = {"b1", "b2"};
  r.metadata.emplace_back("bbb-origin", "Greenlight");
  ASSERT_TRUE(this->store_->put(r).ok());
  std::vector<std::string> ids = {"rec-1"};
  auto found = this->store_->findExact(ids, "");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  const Recording& got = (*found)[0];
  EXPECT_EQ(got.recordId, r.recordId);
  EXPECT_EQ(got.meetingId, r.meetingId);
  EXPECT_EQ(got.internalMeetingId, r.internalMeetingId);
  EXPECT_EQ(got.name, r.name);
  EXPECT_EQ(got.state, r.state);
  EXPECT_EQ(got.isBreakout, r.isBreakout);
  EXPECT_EQ(got.parentMeetingId, r.parentMeetingId);
  EXPECT_EQ(got.breakoutRooms, r.breakoutRooms);
  EXPECT_EQ(got.startTimeMs, r.startTimeMs);
  EXPECT_EQ(got.endTimeMs, r.endTimeMs);
  EXPECT_EQ(got.participants, r.participants);
  EXPECT_EQ(got.rawSize, r.rawSize);
  EXPECT_EQ(got.metadata, r.metadata);  // order kept
  ASSERT_EQ(got.formats.size(), 1u);
  EXPECT_EQ(got.formats[0].type, "presentation");
  EXPECT_EQ(got.formats[0].url, r.formats[0].url);
  EXPECT_EQ(got.formats[0].processingTimeMs, 7177);
  EXPECT_EQ(got.formats[0].lengthMinutes, 1);
  EXPECT_EQ(got.formats[0].size, 2048);
  ASSERT_EQ(got.formats[0].previews.size(), 1u);
  EXPECT_EQ(got.formats[0].previews[0].alt, "Welcome");
  EXPECT_EQ(got.formats[0].previews[0].width, 176);
  EXPECT_EQ(got.formats[0].previews[0].height, 136);
  EXPECT_EQ(got.tenant, "");
}

TYPED_TEST_P(RecordingStoreContract, APutOfTheSameRecordIdReplacesIt) {
  ASSERT_TRUE(this->store_->put(sampleRecording("rec-1", "m1", 1000)).ok());
  Recording again = sampleRecording("rec-1", "m1", 1000, RecordingState::kUnpublished);
  again.name = "Renamed";
  ASSERT_TRUE(this->store_->put(again).ok());
  auto page = this->query(RecordingQuery{});
  ASSERT_EQ(page.total, 1u);
  EXPECT_EQ(page.recordings[0].name, "Renamed");
  EXPECT_EQ(page.recordings[0].state, RecordingState::kUnpublished);
}

TYPED_TEST_P(RecordingStoreContract, FindExactTakesEachIdOnceAndOnlyWholeIds) {
  ASSERT_TRUE(this->store_->put(sampleRecording("abc-1", "m1", 1000)).ok());
  ASSERT_TRUE(this->store_->put(sampleRecording("abc-2", "m1", 2000)).ok());
  std::vector<std::string> ids = {"abc-1", "abc-1", "abc", "nope"};
  auto found = this->store_->findExact(ids, "");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(idsOf(*found), std::vector<std::string>{"abc-1"});
  EXPECT_TRUE(this->store_->findExact(ids, "other-tenant")->empty());
}

TYPED_TEST_P(RecordingStoreContract, AnyTenantFindsEachTenantsRecordingByItsId) {
  Recording acme = sampleRecording("acme-1", "acme~m1", 1000);
  acme.tenant = "acme";
  ASSERT_TRUE(this->store_->put(acme).ok());
  ASSERT_TRUE(this->store_->put(sampleRecording("none-1", "m1", 2000)).ok());
  std::vector<std::string> ids = {"acme-1", "none-1"};
  auto any = idsOf(*this->store_->findExact(ids, RecordingStore::kAnyTenant));
  std::sort(any.begin(), any.end());
  EXPECT_EQ(any, (std::vector<std::string>{"acme-1", "none-1"}));
  EXPECT_EQ(idsOf(*this->store_->findExact(ids, "acme")), std::vector<std::string>{"acme-1"});
  EXPECT_EQ(idsOf(*this->store_->findExact(ids, "")), std::vector<std::string>{"none-1"});
}

TYPED_TEST_P(RecordingStoreContract, QueriesFilterAsBbbDoes) {
  auto put = [&](Recording r) { ASSERT_TRUE(this->store_->put(r).ok()); };
  put(sampleRecording("aaa-1", "m1", 1000));
  put(sampleRecording("aaa-2", "m1", 3000, RecordingState::kUnpublished));
  put(sampleRecording("bbb-1", "m2", 2000, RecordingState::kDeleted));
  Recording tagged = sampleRecording("ccc-1", "m3", 4000);
  tagged.internalMeetingId = "internal-m3";
  tagged.metadata.emplace_back("course", "math");
  put(tagged);
  Recording elsewhere = sampleRecording("ddd-1", "m1", 5000);
  elsewhere.tenant = "t2";
  put(elsewhere);

  RecordingQuery all;
  all.states = {RecordingState::kPublished, RecordingState::kUnpublished};
  // Newest first; deleted left out; another tenant's never listed.
  EXPECT_EQ(idsOf(this->query(all).recordings),
            (std::vector<std::string>{"ccc-1", "aaa-2", "aaa-1"}));

  RecordingQuery prefix = all;
  prefix.recordIdPrefixes = {"aaa", "zzz"};
  EXPECT_EQ(idsOf(this->query(prefix).recordings), (std::vector<std::string>{"aaa-2", "aaa-1"}));

  RecordingQuery byMeeting;
  byMeeting.meetingIds = {"m2", "internal-m3"};  // the frontend's ID or BBB's internal one
  EXPECT_EQ(idsOf(this->query(byMeeting).recordings), (std::vector<std::string>{"ccc-1", "bbb-1"}));

  RecordingQuery meta = all;
  meta.meta = {{"course", {"physics", "math"}}, {"gl-listed", {"true"}}};
  EXPECT_EQ(idsOf(this->query(meta).recordings), (std::vector<std::string>{"ccc-1"}));
  meta.meta.push_back({"absent", {"x"}});  // every key must match
  EXPECT_TRUE(this->query(meta).recordings.empty());

  RecordingQuery other;
  other.tenant = "t2";
  EXPECT_EQ(idsOf(this->query(other).recordings), (std::vector<std::string>{"ddd-1"}));
}

TYPED_TEST_P(RecordingStoreContract, PagesCountEveryMatch) {
  for (int i = 0; i < 25; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "rec-%02d", i);
    ASSERT_TRUE(this->store_->put(sampleRecording(id, "m1", 1000 + i)).ok());
  }
  RecordingQuery q;
  q.offset = 20;
  q.limit = 10;
  auto page = this->query(q);
  EXPECT_EQ(page.total, 25u);
  EXPECT_EQ(idsOf(page.recordings),
            (std::vector<std::string>{"rec-04", "rec-03", "rec-02", "rec-01", "rec-00"}));
  q.offset = 30;
  page = this->query(q);
  EXPECT_EQ(page.total, 25u);
  EXPECT_TRUE(page.recordings.empty());
}

// Any offset a client can write is a page: past the end it is empty, never a store error.
TYPED_TEST_P(RecordingStoreContract, AnOffsetPastEverythingIsAnEmptyPage) {
  ASSERT_TRUE(this->store_->put(sampleRecording("rec-1", "m1", 1000)).ok());
  RecordingQuery q;
  q.offset = std::numeric_limits<size_t>::max();
  q.limit = 100;
  auto page = this->store_->query(q);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->total, 1u);
  EXPECT_TRUE(page->recordings.empty());
}

REGISTER_TYPED_TEST_SUITE_P(RecordingStoreContract, WhatIsPutIsReadBackWhole,
                            APutOfTheSameRecordIdReplacesIt,
                            FindExactTakesEachIdOnceAndOnlyWholeIds,
                            AnyTenantFindsEachTenantsRecordingByItsId, QueriesFilterAsBbbDoes,
                            PagesCountEveryMatch, AnOffsetPastEverythingIsAnEmptyPage);

}  // namespace sb
