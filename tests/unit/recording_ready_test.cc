// Recording-ready callbacks as frontends verify them (core/recordings/recording_ready.h).
#include "core/recordings/recording_ready.h"

#include <gtest/gtest.h>

#include "core/checksum.h"
#include "core/jwt.h"

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
  keepCallbackUrls(q, CallbackRelaying{"id1", "https://lb", "key", ""});
  EXPECT_FALSE(q.has("meta_bbb-recording-ready-url"));
  EXPECT_FALSE(q.has("meta_canvas-recording-ready-url"));
  EXPECT_EQ(q.get("meta_switchboard-recording-ready-url"), "b");
  EXPECT_EQ(q.get("meta_switchboard-secret-id"), "id1");
  QueryString none = *QueryString::parse(
      "name=x&meta_switchboard-recording-ready-url=evil&meta_switchboard-secret-id=x");
  keepCallbackUrls(none, CallbackRelaying{"id1", "https://lb", "key", ""});
  EXPECT_FALSE(none.has("meta_switchboard-recording-ready-url")) << "never the client's own";
  EXPECT_FALSE(none.has("meta_switchboard-secret-id")) << "no callback, no secret ID";
}

TEST(RecordingReadyTest, TheAnalyticsUrlIsRelayedThroughARouter) {
  QueryString q = *QueryString::parse("name=x&meta_analytics-callback-url=https%3A%2F%2Fm%2Fa");
  keepCallbackUrls(q, CallbackRelaying{"id1", "https://lb.example.org", "key", ""});
  const std::string relayed(q.get("meta_analytics-callback-url").value_or(""));
  const std::string prefix = "https://lb.example.org/bigbluebutton/api/analytics_callback?target=";
  ASSERT_EQ(relayed.substr(0, prefix.size()), prefix);
  auto target = readAnalyticsRelayToken(relayed.substr(prefix.size()), "key");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->url, "https://m/a");
  EXPECT_EQ(target->secretId, "id1");
  EXPECT_FALSE(readAnalyticsRelayToken(relayed.substr(prefix.size()), "other"));
  EXPECT_FALSE(readAnalyticsRelayToken(recordingReadyJwt("m", "r", "key"), "key"));
  EXPECT_EQ(q.get("meta_switchboard-secret-id"), "id1");
  // Without an origin BBB servers can reach, the frontend's URL stays.
  QueryString unknown = *QueryString::parse("meta_analytics-callback-url=https%3A%2F%2Fm%2Fa");
  keepCallbackUrls(unknown, CallbackRelaying{"id1", "", "key", ""});
  EXPECT_EQ(unknown.get("meta_analytics-callback-url"), "https://m/a");
}

TEST(RecordingReadyTest, AnalyticsPostsCarryAnHs512BearerToken) {
  const std::string auth = analyticsAuthorization("secret", 1'700'000'000'000);
  ASSERT_EQ(auth.substr(0, 7), "Bearer ");
  auto claims = jwtVerify(auth.substr(7), "secret", JwtAlgorithm::kHs512);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ((*claims)["exp"], 1'700'000'000 + 24 * 3600);
}

TEST(RecordingReadyTest, SecretsAreNamedWithoutBeingShown) {
  const std::vector<std::string> secrets{"first", "second"};
  EXPECT_EQ(secretId("second").size(), 16u);
  EXPECT_EQ(secretId("second").find("second"), std::string::npos);
  EXPECT_NE(secretId("first"), secretId("second"));
  EXPECT_EQ(secretWithId(secrets, secretId("second")), &secrets[1]);
  EXPECT_EQ(secretWithId(secrets, secretId("gone")), nullptr);
}

}  // namespace
}  // namespace sb
