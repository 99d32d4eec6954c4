// Protected recordings' links and cookies (core/recordings/recording_protection.h).
#include "core/recordings/recording_protection.h"

#include <gtest/gtest.h>

#include "core/jwt.h"
#include "db/memory_recording_store.h"

namespace sb {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

class RecordingProtectionTest : public ::testing::Test {
 protected:
  RecordingProtectionTest() {
    Recording locked;
    locked.recordId = "r1";
    locked.isProtected = true;
    EXPECT_TRUE(store_.put(locked).ok());
    Recording open;
    open.recordId = "r2";
    EXPECT_TRUE(store_.put(open).ok());
    config_.enabled = true;
    config_.key = "key";
  }
  RecordingProtection make() { return RecordingProtection(config_, &store_); }
  static std::string cookieOf(const ProtectionCookie& c) {
    return c.header.substr(0, c.header.find(';'));
  }

  MemoryRecordingStore store_;
  ProtectionConfig config_;
};

TEST_F(RecordingProtectionTest, ALinkWorksOnceForItsRecordingAndFormatUntilItExpires) {
  auto p = make();
  const std::string link = p.linkToken("r1", "presentation", kNow);
  EXPECT_FALSE(p.redeemLink(link, "r2", "presentation", kNow)) << "another recording";
  EXPECT_FALSE(p.redeemLink(link, "r1", "video", kNow)) << "another format";
  EXPECT_TRUE(p.redeemLink(link, "r1", "presentation", kNow));
  EXPECT_FALSE(p.redeemLink(link, "r1", "presentation", kNow)) << "once";
  const std::string late = p.linkToken("r1", "presentation", kNow);
  EXPECT_FALSE(p.redeemLink(late, "r1", "presentation", kNow + 3600 * 1000)) << "expired";
  EXPECT_TRUE(p.redeemLink(late, "r1", "presentation", kNow + 3599 * 1000));
  config_.key = "other";
  EXPECT_FALSE(
      make().redeemLink(p.linkToken("r1", "presentation", kNow), "r1", "presentation", kNow))
      << "another key";
}

// A registry that does not answer (Redis down).
class DownLinkRegistry : public LinkRegistry {
 public:
  Result<bool> useOnce(const std::string&, int64_t, int64_t) override {
    return Error::of(ErrorCode::kStoreUnavailable, "redis down");
  }
};

// Two routers sharing a registry (Redis): a link used on one is refused on the other. While the
// registry does not answer, each router still redeems a link once.
TEST_F(RecordingProtectionTest, ALinkWorksOnceAcrossRoutersSharingTheirUsedLinks) {
  MemoryLinkRegistry shared;
  RecordingProtection a(config_, &store_, &shared), b(config_, &store_, &shared);
  const std::string link = a.linkToken("r1", "presentation", kNow);
  EXPECT_TRUE(b.redeemLink(link, "r1", "presentation", kNow));
  EXPECT_FALSE(a.redeemLink(link, "r1", "presentation", kNow)) << "used on the other router";
  DownLinkRegistry down;
  RecordingProtection c(config_, &store_, &down);
  const std::string other = a.linkToken("r1", "presentation", kNow);
  EXPECT_TRUE(c.redeemLink(other, "r1", "presentation", kNow));
  EXPECT_FALSE(c.redeemLink(other, "r1", "presentation", kNow)) << "once on this router";
}

TEST_F(RecordingProtectionTest, AProtectedRecordingsFilesNeedItsCookie) {
  auto p = make();
  auto cookies = p.cookiesFor("r1", "presentation", kNow, true);
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_NE(cookies[0].header.find("; Path=/presentation/r1;"), std::string::npos);
  EXPECT_NE(cookies[1].header.find("; Path=/playback/presentation/r1;"), std::string::npos);
  EXPECT_NE(cookies[0].header.find("; Secure; SameSite=None"), std::string::npos);
  EXPECT_NE(cookies[0].header.find("Max-Age=21600"), std::string::npos);
  EXPECT_NE(p.cookiesFor("r1", "presentation", kNow, false)[0].header.find("SameSite=Lax"),
            std::string::npos);
  const std::string cookie = cookieOf(cookies[0]);
  EXPECT_FALSE(p.mayServe("r1", "presentation", "", kNow));
  EXPECT_TRUE(p.mayServe("r1", "presentation", cookie, kNow));
  EXPECT_TRUE(p.mayServe("r1", "presentation", "a=b; " + cookie + "; c=d", kNow));
  EXPECT_FALSE(p.mayServe("r1", "video", cookie, kNow)) << "another format";
  EXPECT_FALSE(p.mayServe("r1", "presentation", cookie, kNow + 21600 * 1000)) << "expired";
  // A link is no cookie (else it would work without being redeemed), and the other way round.
  const std::string link = p.linkToken("r1", "presentation", kNow);
  EXPECT_FALSE(p.mayServe("r1", "presentation", "recording_presentation_r1=" + link, kNow));
  EXPECT_FALSE(p.redeemLink(cookie.substr(cookie.find('=') + 1), "r1", "presentation", kNow));
  // Unprotected and unknown recordings are served; nothing is guarded when protection is off.
  EXPECT_TRUE(p.mayServe("r2", "presentation", "", kNow));
  EXPECT_TRUE(p.mayServe("unknown", "presentation", "", kNow));
  config_.enabled = false;
  EXPECT_TRUE(make().mayServe("r1", "presentation", "", kNow));
}

TEST_F(RecordingProtectionTest, ATenantsProtectedRecordingIsProtectedToo) {
  Recording locked;
  locked.recordId = "acme-r1";
  locked.meetingId = "acme~m1";
  locked.tenant = "acme";
  locked.isProtected = true;
  ASSERT_TRUE(store_.put(locked).ok());
  auto p = make();
  EXPECT_FALSE(p.mayServe("acme-r1", "presentation", "", kNow));
  const std::string cookie = cookieOf(p.cookiesFor("acme-r1", "presentation", kNow, true)[0]);
  EXPECT_TRUE(p.mayServe("acme-r1", "presentation", cookie, kNow));
}

TEST_F(RecordingProtectionTest, CookieHeadersAreReadAsBrowsersWriteThem) {
  using P = RecordingProtection;
  EXPECT_EQ(P::cookieValue("a=1; b=2", "b"), "2");
  EXPECT_EQ(P::cookieValue("a=1;b=2 ", "b"), "2");
  EXPECT_EQ(P::cookieValue("b=\"2\"", "b"), "2");
  EXPECT_EQ(P::cookieValue("ab=1", "b"), std::nullopt);
  EXPECT_EQ(P::cookieValue("flag; b=", "b"), "");
  EXPECT_EQ(P::cookieValue("", "b"), std::nullopt);
  EXPECT_EQ(P::cookieValue(";;;", "b"), std::nullopt);
}

TEST_F(RecordingProtectionTest, TheDerivedKeyIsStableAndNotTheSecret) {
  EXPECT_EQ(RecordingProtection::derivedKey("s"), RecordingProtection::derivedKey("s"));
  EXPECT_NE(RecordingProtection::derivedKey("s"), RecordingProtection::derivedKey("t"));
  EXPECT_NE(RecordingProtection::derivedKey("s").find_first_not_of('s'), std::string::npos);
  // Without any key, links are still signed, with a key of the process's own.
  config_.key.clear();
  auto p = make();
  const std::string link = p.linkToken("r1", "presentation", kNow);
  EXPECT_FALSE(jwtVerify(link, ""));
  EXPECT_TRUE(p.redeemLink(link, "r1", "presentation", kNow));
}

}  // namespace
}  // namespace sb
