#include "core/checksum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace sb {
namespace {

// The vectors of bbb-api.md §2 (re-computed with Python hashlib).
constexpr char kCreateQuery[] =
    "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444";
constexpr char kCreateSecret[] = "639259d4-9dd8-4b25-bf01-95f9567eaf4b";
constexpr char kGemSecret[] = "1234567890abcdefghijkl";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

TEST(ChecksumTest, OfficialCreateExampleSha1) {
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha1, "create", kCreateQuery, kCreateSecret),
            "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17");
}

TEST(ChecksumTest, RubyGemJoinVectorsSha1BothOrders) {
  EXPECT_EQ(
      computeChecksum(ChecksumAlgorithm::kSha1, "join", "param1=value1&param2=value2", kGemSecret),
      "67882ae54f49600f56f358c10d24697ef7d8c6b2");
  // Order matters: the checksum is over the raw query, never a sorted one.
  EXPECT_EQ(
      computeChecksum(ChecksumAlgorithm::kSha1, "join", "param2=value2&param1=value1", kGemSecret),
      "85a54e28e4ec18bfdcb214a73f74d35b09a84176");
}

TEST(ChecksumTest, RubyGemJoinVectorSha256) {
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha256, "join", "param1=value1&param2=value2",
                            kGemSecret),
            "0e7b1611809fad890a114dddae1a37fecf14c28971afc10ee3eac432da5b8b41");
}

TEST(ChecksumTest, ScalelitePostVectorsWithEmptyQuery) {
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha1, "getMeetingInfo", "", "test-2"),
            "cbf00ea96fae6ff06c2cb311bbde8b26ad66d765");
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha256, "getMeetingInfo", "", "test-1"),
            "217da05b692320353e17a1b11c24e9e715caeee51ab5af35231ee5becc350d1e");

  ChecksumVerifier verifier({"test-1", "test-2"}, {});
  EXPECT_TRUE(verifier.verify("getMeetingInfo", "", "cbf00ea96fae6ff06c2cb311bbde8b26ad66d765"));
  EXPECT_TRUE(verifier.verify("getMeetingInfo", "",
                              "217da05b692320353e17a1b11c24e9e715caeee51ab5af35231ee5becc350d1e"));
}

TEST(ChecksumTest, Sha384AndSha512KnownValues) {
  // python3: hashlib.sha384(b"isMeetingRunningmeetingID=m1e2e-secret").hexdigest()
  EXPECT_EQ(
      computeChecksum(ChecksumAlgorithm::kSha384, "isMeetingRunning", "meetingID=m1", "e2e-secret"),
      "b9ebcc383e7176cbf5ce88f7aecc7ef67a30e14be83cb0b1d33b7f82fd05c6b9"
      "61b173cce81ca8d258f9fa489fdf837d");
  EXPECT_EQ(
      computeChecksum(ChecksumAlgorithm::kSha512, "isMeetingRunning", "meetingID=m1", "e2e-secret"),
      "49b9043d5616dddf2373a5ac716365b187777181e04b84ef1ef7b08a392fa1b2"
      "1d205b2c7c0d2a6a47935458380fe62b31f5e6e0291a81952d9aec2c1fd7d489");
}

TEST(ChecksumTest, Sha384AndSha512RoundTrip) {
  ChecksumVerifier verifier({"s3cr3t"}, {});
  for (auto algorithm : {ChecksumAlgorithm::kSha384, ChecksumAlgorithm::kSha512}) {
    std::string cs = computeChecksum(algorithm, "create", "meetingID=x&name=y", "s3cr3t");
    EXPECT_EQ(algorithmForChecksumLength(cs.size()), algorithm);
    EXPECT_TRUE(verifier.verify("create", "meetingID=x&name=y", cs));
    EXPECT_FALSE(verifier.verify("create", "meetingID=x&name=z", cs));
    EXPECT_FALSE(verifier.verify("end", "meetingID=x&name=y", cs));
  }
}

TEST(ChecksumTest, DigestLengthsMatchTheLengthMapping) {
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha1, "a", "b", "c").size(), 40u);
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha256, "a", "b", "c").size(), 64u);
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha384, "a", "b", "c").size(), 96u);
  EXPECT_EQ(computeChecksum(ChecksumAlgorithm::kSha512, "a", "b", "c").size(), 128u);
}

TEST(ChecksumTest, LengthToAlgorithm) {
  EXPECT_EQ(algorithmForChecksumLength(40), ChecksumAlgorithm::kSha1);
  EXPECT_EQ(algorithmForChecksumLength(64), ChecksumAlgorithm::kSha256);
  EXPECT_EQ(algorithmForChecksumLength(96), ChecksumAlgorithm::kSha384);
  EXPECT_EQ(algorithmForChecksumLength(128), ChecksumAlgorithm::kSha512);
  EXPECT_EQ(algorithmForChecksumLength(0), std::nullopt);
  EXPECT_EQ(algorithmForChecksumLength(39), std::nullopt);
  EXPECT_EQ(algorithmForChecksumLength(41), std::nullopt);
  EXPECT_EQ(algorithmForChecksumLength(32), std::nullopt);  // md5 length
}

TEST(ChecksumTest, ParseAlgorithmNames) {
  EXPECT_EQ(parseChecksumAlgorithm("sha1"), ChecksumAlgorithm::kSha1);
  EXPECT_EQ(parseChecksumAlgorithm("SHA1"), ChecksumAlgorithm::kSha1);
  EXPECT_EQ(parseChecksumAlgorithm("SHA-256"), ChecksumAlgorithm::kSha256);
  EXPECT_EQ(parseChecksumAlgorithm("sha_384"), ChecksumAlgorithm::kSha384);
  EXPECT_EQ(parseChecksumAlgorithm("Sha512"), ChecksumAlgorithm::kSha512);
  EXPECT_EQ(parseChecksumAlgorithm("md5"), std::nullopt);
  EXPECT_EQ(parseChecksumAlgorithm(""), std::nullopt);
  EXPECT_EQ(algorithmName(ChecksumAlgorithm::kSha384), "sha384");
}

TEST(ChecksumTest, WrongLengthIsRejected) {
  ChecksumVerifier verifier({"secret"}, {});
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", "secret");
  EXPECT_TRUE(verifier.verify("getMeetings", "", cs));
  EXPECT_FALSE(verifier.verify("getMeetings", "", cs.substr(0, 39)));
  EXPECT_FALSE(verifier.verify("getMeetings", "", cs + "0"));
  EXPECT_FALSE(verifier.verify("getMeetings", "", ""));
}

TEST(ChecksumTest, AllowedAlgorithmsRestrictVerification) {
  ChecksumVerifier verifier({"secret"}, {ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha512});
  auto sign = [](ChecksumAlgorithm a) {
    return computeChecksum(a, "end", "meetingID=m", "secret");
  };
  EXPECT_FALSE(verifier.verify("end", "meetingID=m", sign(ChecksumAlgorithm::kSha1)));
  EXPECT_TRUE(verifier.verify("end", "meetingID=m", sign(ChecksumAlgorithm::kSha256)));
  EXPECT_FALSE(verifier.verify("end", "meetingID=m", sign(ChecksumAlgorithm::kSha384)));
  EXPECT_TRUE(verifier.verify("end", "meetingID=m", sign(ChecksumAlgorithm::kSha512)));
}

TEST(ChecksumTest, EmptyAllowedSetMeansAllFour) {
  ChecksumVerifier verifier({"secret"}, {});
  for (auto a : {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha384,
                 ChecksumAlgorithm::kSha512}) {
    EXPECT_TRUE(verifier.verify("end", "", computeChecksum(a, "end", "", "secret")))
        << algorithmName(a);
  }
}

TEST(ChecksumTest, StrongestAllowedAlgorithm) {
  EXPECT_EQ(ChecksumVerifier({"s"}, {}).strongest(), ChecksumAlgorithm::kSha512);
  EXPECT_EQ(
      ChecksumVerifier({"s"}, {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}).strongest(),
      ChecksumAlgorithm::kSha256);
  EXPECT_EQ(ChecksumVerifier({"s"}, {ChecksumAlgorithm::kSha1}).strongest(),
            ChecksumAlgorithm::kSha1);
}

TEST(ChecksumTest, UpperCaseChecksumAccepted) {
  ChecksumVerifier verifier({kGemSecret}, {});
  EXPECT_TRUE(verifier.verify("join", "param1=value1&param2=value2",
                              upper("67882ae54f49600f56f358c10d24697ef7d8c6b2")));
  EXPECT_TRUE(
      verifier.verify("join", "param1=value1&param2=value2",
                      upper("0e7b1611809fad890a114dddae1a37fecf14c28971afc10ee3eac432da5b8b41")));
}

TEST(ChecksumTest, SeveralSecretsAnyMatches) {
  ChecksumVerifier verifier({"old-secret", "new-secret"}, {});
  EXPECT_TRUE(verifier.verify(
      "create", "meetingID=a",
      computeChecksum(ChecksumAlgorithm::kSha256, "create", "meetingID=a", "old-secret")));
  EXPECT_TRUE(verifier.verify(
      "create", "meetingID=a",
      computeChecksum(ChecksumAlgorithm::kSha256, "create", "meetingID=a", "new-secret")));
  EXPECT_FALSE(verifier.verify(
      "create", "meetingID=a",
      computeChecksum(ChecksumAlgorithm::kSha256, "create", "meetingID=a", "other-secret")));
}

TEST(ChecksumTest, EmptySecretsAreIgnoredAndAnEmptyVerifierRejects) {
  ChecksumVerifier none({}, {});
  EXPECT_FALSE(none.verify("getMeetings", "",
                           computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", "")));
  // An empty secret in the list must not make the unsalted checksum valid.
  ChecksumVerifier withEmpty({"", "real"}, {});
  EXPECT_FALSE(withEmpty.verify("getMeetings", "",
                                computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", "")));
  EXPECT_TRUE(withEmpty.verify(
      "getMeetings", "", computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", "real")));
}

TEST(ChecksumTest, RemoveChecksumAtTheEnd) {
  EXPECT_EQ(removeChecksumParam("meetingID=a&name=b&checksum=abc", "abc"), "meetingID=a&name=b");
}

TEST(ChecksumTest, RemoveChecksumAtTheStart) {
  EXPECT_EQ(removeChecksumParam("checksum=abc&meetingID=a&name=b", "abc"), "meetingID=a&name=b");
}

TEST(ChecksumTest, RemoveChecksumInTheMiddle) {
  EXPECT_EQ(removeChecksumParam("meetingID=a&checksum=abc&name=b", "abc"), "meetingID=a&name=b");
}

TEST(ChecksumTest, RemoveChecksumAlone) {
  EXPECT_EQ(removeChecksumParam("checksum=abc", "abc"), "");
}

TEST(ChecksumTest, RemoveChecksumWithLeadingAmpersand) {
  // npm bbb-api sends getMeetings?&checksum=X: what remains is the empty query.
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", "secret");
  std::string remaining = removeChecksumParam("&checksum=" + cs, cs);
  EXPECT_EQ(remaining, "");
  EXPECT_TRUE(ChecksumVerifier({"secret"}, {}).verify("getMeetings", remaining, cs));
}

TEST(ChecksumTest, RemoveOnlyTouchesTheGivenChecksum) {
  EXPECT_EQ(removeChecksumParam("a=1&checksum=abc", "zzz"), "a=1&checksum=abc");
  EXPECT_EQ(removeChecksumParam("", "abc"), "");
}

TEST(ChecksumTest, VerifiesARealQueryEndToEnd) {
  std::string query = "meetingID=abc123&name=Test+Meeting";
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha256, "create", query, "secret");
  std::string raw = "meetingID=abc123&checksum=" + cs + "&name=Test+Meeting";
  ChecksumVerifier verifier({"secret"}, {});
  EXPECT_TRUE(verifier.verify("create", removeChecksumParam(raw, cs), cs));
}

// Issue 18 item 2: 2 MB of "&checksum=a" held a reactor thread for 18 s (each removal moved the
// rest of the query). Removal is one pass now; the result is bbb-web's (non-overlapping, left to
// right, joined text not searched again).
TEST(ChecksumTest, RemovingManyChecksumParamsIsLinear) {
  std::string raw;
  for (int i = 0; i < 200000; ++i) raw += "&checksum=a";
  raw = "name=x" + raw;
  EXPECT_EQ(removeChecksumParam(raw, "a"), "name=x");
  EXPECT_EQ(removeChecksumParam("a=1&checksum=c&&checksum=cchecksum=c", "c"), "a=1&");
  // Each of the three replacements is a pass of its own over the previous one's result.
  EXPECT_EQ(removeChecksumParam("&checksu&checksum=cm=c", "c"), "&");
}

}  // namespace
}  // namespace sb
