// Signed tokens (core/jwt.h): what frontends verify, and what a forged token cannot pass.
#include "core/jwt.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(JwtTest, Hs512IsWhatMoodlesAnalyticsEndpointVerifies) {
  // Computed independently (Python's hmac over the base64url header and payload).
  EXPECT_EQ(
      jwtSign({{"meeting_id", "m1"}}, "secret", JwtAlgorithm::kHs512),
      "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJtZWV0aW5nX2lkIjoibTEifQ."
      "8ILrQgQ3ukLN_wtlnpka0WsX9TPtISDIl1XnZN9ZNFyV6SNg1aT1vELItEQM5V9Lu2kpDQUdGHElXcLmsipBgw");
}

TEST(JwtTest, ASignedTokenVerifiesWithItsSecretAndAlgorithmOnly) {
  const std::string token = jwtSign({{"sub", "/presentation/r1"}, {"exp", 10}}, "k");
  auto claims = jwtVerify(token, "k");
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ((*claims)["sub"], "/presentation/r1");
  EXPECT_EQ((*claims)["exp"], 10);
  EXPECT_FALSE(jwtVerify(token, "other"));
  EXPECT_FALSE(jwtVerify(token, "k", JwtAlgorithm::kHs512));
  EXPECT_TRUE(jwtVerify(jwtSign({{"a", 1}}, "k", JwtAlgorithm::kHs512), "k", JwtAlgorithm::kHs512));
}

TEST(JwtTest, ForgedAndMalformedTokensAreRefused) {
  const std::string token = jwtSign({{"sub", "/presentation/r1"}}, "k");
  const size_t dot = token.find('.');
  // Another payload under the same signature.
  std::string forged = token.substr(0, dot + 1) + base64UrlEncode(R"({"sub":"/video/r2"})") +
                       token.substr(token.rfind('.'));
  EXPECT_FALSE(jwtVerify(forged, "k"));
  // alg "none" with no signature.
  EXPECT_FALSE(jwtVerify(
      base64UrlEncode(R"({"alg":"none"})") + "." + base64UrlEncode(R"({"sub":"x"})") + ".", "k"));
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "a.b.c", token + ".x", token.substr(0, token.size() - 2), token + "A",
           "e30.e30.e30", "!!!.###.$$$"}) {
    EXPECT_FALSE(jwtVerify(bad, "k")) << bad;
  }
  // Claims must be an object.
  EXPECT_FALSE(jwtVerify(jwtSign(nlohmann::json::array({1}), "k"), "k"));
}

TEST(JwtTest, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(base64UrlDecode(base64UrlEncode(bytes)), bytes) << i;
    bytes.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_FALSE(base64UrlDecode("a"));
  EXPECT_FALSE(base64UrlDecode("ab=="));
  EXPECT_FALSE(base64UrlDecode("a+b/"));
  EXPECT_FALSE(base64UrlDecode("a*bc"));
}

}  // namespace
}  // namespace sb
