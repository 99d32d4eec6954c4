// Recording-ready callbacks as frontends verify them (core/recordings/recording_ready.h).
#include "core/recordings/recording_ready.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(RecordingReadyTest, TheJwtIsHs256AsGreenlightVerifiesIt) {
  // Computed independently (Python's hmac over the base64url header and payload).
  EXPECT_EQ(
      recordingReadyJwt("m1", "r-1", "secret"),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJtZWV0aW5nX2lkIjoibTEiLCJyZWNvcmRfaWQiOiJyLTEifQ"
      ".fLLTOCDkc49ToNr2fhz_YYXvfogm5hvdMwD8GxQr1mo");
}

TEST(RecordingReadyTest, TheUrlMovesToSwitchboardsOwnKey) {
  QueryString q = *QueryString::parse(
      "name=x&meta_canvas-recording-ready-url=c&meta_bbb-recording-ready-url=b");
  keepRecordingReadyUrl(q);
  EXPECT_FALSE(q.has("meta_bbb-recording-ready-url"));
  EXPECT_FALSE(q.has("meta_canvas-recording-ready-url"));
  EXPECT_EQ(q.get("meta_switchboard-recording-ready-url"), "b");
  QueryString none = *QueryString::parse("name=x&meta_switchboard-recording-ready-url=evil");
  keepRecordingReadyUrl(none);
  EXPECT_FALSE(none.has("meta_switchboard-recording-ready-url")) << "never the client's own";
}

}  // namespace
}  // namespace sb
