// The BBB recordings API's use cases (core/recordings/recording_library.h) on the memory store.
#include "core/recordings/recording_library.h"

#include <gtest/gtest.h>

#include "db/memory_recording_store.h"
#include "tests/unit/recording_store_contract.h"

namespace sb {
namespace {

QueryString params(const std::string& query) { return *QueryString::parse(query); }

class RecordingLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    put(sampleRecording("aaa-1", "m1", 1000));
    put(sampleRecording("aaa-2", "m1", 2000, RecordingState::kUnpublished));
    put(sampleRecording("bbb-1", "m2", 3000, RecordingState::kDeleted));
    put(sampleRecording("ccc-1", "m3", 4000, RecordingState::kProcessing));
  }
  void put(const Recording& r) { ASSERT_TRUE(store_.put(r).ok()); }
  std::vector<std::string> listed(const std::string& query) {
    auto page = library_.getRecordings(params(query));
    EXPECT_TRUE(page.ok());
    return page.ok() ? idsOf(page->recordings) : std::vector<std::string>{};
  }
  Recording stored(const std::string& id) {
    std::vector<std::string> ids = {id};
    return store_.findExact(ids, "")->at(0);
  }

  MemoryRecordingStore store_;
  RecordingLibrary library_{store_};
};

TEST_F(RecordingLibraryTest, ListsPublishedAndUnpublishedByDefault) {
  EXPECT_EQ(listed(""), (std::vector<std::string>{"aaa-2", "aaa-1"}));
  EXPECT_EQ(listed("state=any"), (std::vector<std::string>{"ccc-1", "bbb-1", "aaa-2", "aaa-1"}));
  EXPECT_EQ(listed("state=deleted,processing"), (std::vector<std::string>{"ccc-1", "bbb-1"}));
  EXPECT_TRUE(listed("state=bogus").empty());
}

// Moodle sends recordID=a,b,b,c&state=any (Scalelite #1184: intermittent "not found").
TEST_F(RecordingLibraryTest, DuplicateAndPrefixRecordIdsAreHarmless) {
  EXPECT_EQ(listed("recordID=aaa-1,bbb-1,bbb-1,aaa-1&state=any"),
            (std::vector<std::string>{"bbb-1", "aaa-1"}));
  EXPECT_EQ(listed("recordID=aaa"), (std::vector<std::string>{"aaa-2", "aaa-1"}));
  // recordID wins over meetingID, as in BBB.
  EXPECT_EQ(listed("recordID=aaa-1&meetingID=m3"), (std::vector<std::string>{"aaa-1"}));
}

TEST_F(RecordingLibraryTest, PagesWithOffsetAndLimit) {
  auto page = library_.getRecordings(params("state=any&offset=1&limit=2"));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 4u);
  EXPECT_EQ(idsOf(page->recordings), (std::vector<std::string>{"bbb-1", "aaa-2"}));
  // BBB's limit is 1-100; malformed values are ignored.
  auto q = RecordingLibrary::queryOf(params("limit=1000&offset=-3"), "");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, RecordingLibrary::kMaxLimit);
  EXPECT_EQ(q->offset, 0u);
}

TEST_F(RecordingLibraryTest, PublishEchoesTheValueAndChangesOnlyListedRecordings) {
  auto r = library_.publish(params("recordID=aaa-2,nope&publish=true"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(stored("aaa-2").state, RecordingState::kPublished);
  r = library_.publish(params("recordID=aaa-1&publish=FALSE"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(stored("aaa-1").state, RecordingState::kUnpublished);
}

TEST_F(RecordingLibraryTest, PublishAnswersBbbsErrors) {
  EXPECT_EQ(library_.publish(params("publish=true")).error().code,
            ErrorCode::kMissingParamRecordID);
  EXPECT_EQ(library_.publish(params("recordID=aaa-1")).error().code,
            ErrorCode::kMissingParamPublish);
  auto unknown = library_.publish(params("recordID=nope&publish=true"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, "We could not find recordings");
  // A deleted or processing recording is not published.
  EXPECT_EQ(library_.publish(params("recordID=bbb-1&publish=true")).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(stored("bbb-1").state, RecordingState::kDeleted);
}

TEST_F(RecordingLibraryTest, UpdateSetsAndAnEmptyValueRemovesMetadata) {
  auto r = library_.update(params("recordID=aaa-1,aaa-2&meta_Course=math&meta_gl-listed="));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  for (const char* id : {"aaa-1", "aaa-2"}) {
    Recording got = stored(id);
    EXPECT_EQ(got.meta("course"), "math");
    EXPECT_FALSE(got.meta("gl-listed").has_value());
  }
  // Nothing to change: updated false.
  r = library_.update(params("recordID=aaa-1&meta_course=math"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(library_.update(params("recordID=nope&meta_x=1")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(library_.update(params("meta_x=1")).error().code, ErrorCode::kMissingParamRecordID);
}

TEST_F(RecordingLibraryTest, DeleteMarksRecordingsDeletedInAnyState) {
  ASSERT_TRUE(library_.remove(params("recordID=aaa-1,ccc-1")).ok());
  EXPECT_EQ(stored("aaa-1").state, RecordingState::kDeleted);
  EXPECT_EQ(stored("ccc-1").state, RecordingState::kDeleted);
  EXPECT_EQ(listed(""), (std::vector<std::string>{"aaa-2"}));
  EXPECT_EQ(library_.remove(params("recordID=nope")).error().code, ErrorCode::kNotFound);
}

TEST_F(RecordingLibraryTest, MetaFiltersMustAllMatch) {
  ASSERT_TRUE(library_.update(params("recordID=aaa-1&meta_course=math")).ok());
  EXPECT_EQ(listed("meta_course=math,physics"), (std::vector<std::string>{"aaa-1"}));
  EXPECT_TRUE(listed("meta_course=math&meta_gl-listed=false").empty());
  EXPECT_EQ(listed("meta_course=math&meta_gl-listed=true"), (std::vector<std::string>{"aaa-1"}));
}

}  // namespace
}  // namespace sb
