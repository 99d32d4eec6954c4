#include "core/query_string.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb {
namespace {

QueryString parseOk(std::string_view raw) {
  auto q = QueryString::parse(raw);
  EXPECT_TRUE(q.ok()) << raw;
  return q.ok() ? *q : QueryString();
}

TEST(QueryStringTest, KeepsOrder) {
  QueryString q = parseOk("b=2&a=1&c=3");
  ASSERT_EQ(q.params().size(), 3u);
  EXPECT_EQ(q.params()[0], (QueryParam{"b", "2"}));
  EXPECT_EQ(q.params()[1], (QueryParam{"a", "1"}));
  EXPECT_EQ(q.params()[2], (QueryParam{"c", "3"}));
}

TEST(QueryStringTest, DuplicatesKeptGetReturnsFirst) {
  QueryString q = parseOk("a=1&b=2&a=3");
  EXPECT_EQ(q.params().size(), 3u);
  EXPECT_EQ(q.get("a"), "1");
  EXPECT_EQ(q.params()[2], (QueryParam{"a", "3"}));
}

TEST(QueryStringTest, MissingAndEmptyValues) {
  QueryString q = parseOk("a=&b");
  EXPECT_TRUE(q.has("a"));
  EXPECT_EQ(q.get("a"), "");
  EXPECT_TRUE(q.has("b"));
  EXPECT_EQ(q.get("b"), "");
  EXPECT_FALSE(q.has("c"));
  EXPECT_EQ(q.get("c"), std::nullopt);
}

TEST(QueryStringTest, PlusAndPercent20BothDecodeToSpace) {
  QueryString q = parseOk("name=Test+Meeting&other=Test%20Meeting&plus=a%2Bb");
  EXPECT_EQ(q.get("name"), "Test Meeting");
  EXPECT_EQ(q.get("other"), "Test Meeting");
  EXPECT_EQ(q.get("plus"), "a+b");
}

TEST(QueryStringTest, DecodesNamesToo) {
  QueryString q = parseOk("meta_a%2Db=1");
  EXPECT_EQ(q.get("meta_a-b"), "1");
}

TEST(QueryStringTest, DecodesUtf8) {
  QueryString q = parseOk("name=J%C3%BCrgen&x=%E2%82%AC");
  EXPECT_EQ(q.get("name"), "J\xC3\xBCrgen");
  EXPECT_EQ(q.get("x"), "\xE2\x82\xAC");
}

TEST(QueryStringTest, InvalidPercentEncodingRejected) {
  for (const char* raw : {"a=%zz", "a=%4", "a=%", "a=1&b=%G0", "%x1=2", "a=100%"}) {
    auto q = QueryString::parse(raw);
    ASSERT_FALSE(q.ok()) << raw;
    EXPECT_EQ(q.error().code, ErrorCode::kValidationError) << raw;
  }
}

TEST(QueryStringTest, NonUtf8Rejected) {
  for (const char* raw : {"name=%FF", "name=%C3", "name=%C0%AF" /* overlong '/' */,
                          "name=%ED%A0%80" /* surrogate */, "%FE=1"}) {
    auto q = QueryString::parse(raw);
    ASSERT_FALSE(q.ok()) << raw;
    EXPECT_EQ(q.error().code, ErrorCode::kValidationError) << raw;
  }
}

TEST(QueryStringTest, NulRejected) {
  auto q = QueryString::parse("meetingID=a%00b");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, ErrorCode::kValidationError);
  EXPECT_FALSE(QueryString::parse("a%00=1").ok());
}

TEST(QueryStringTest, EmptyPiecesSkipped) {
  QueryString q = parseOk("&a=1&&b=2&");
  ASSERT_EQ(q.params().size(), 2u);
  EXPECT_EQ(q.params()[0], (QueryParam{"a", "1"}));
  EXPECT_EQ(q.params()[1], (QueryParam{"b", "2"}));
  EXPECT_TRUE(parseOk("").empty());
  EXPECT_TRUE(parseOk("&").empty());
}

TEST(QueryStringTest, ValueMayContainEquals) {
  QueryString q = parseOk("url=https%3A%2F%2Fx%2F%3Fa%3D1&b=c=d");
  EXPECT_EQ(q.get("url"), "https://x/?a=1");
  EXPECT_EQ(q.get("b"), "c=d");
}

TEST(QueryStringTest, EncodePercentEncodesEverythingButUnreserved) {
  QueryString q;
  q.append("name", "Test Meeting");
  q.append("a-b._~", "x&y=z/+?%");
  EXPECT_EQ(q.encode(), "name=Test%20Meeting&a-b._~=x%26y%3Dz%2F%2B%3F%25");
}

TEST(QueryStringTest, EncodeRoundTrip) {
  QueryString q;
  q.append("meetingID", "room #1 / ü");
  q.append("welcome", "Hi+there & <b>bye</b>");
  q.append("empty", "");
  q.append("meetingID", "dup");
  QueryString back = parseOk(q.encode());
  EXPECT_EQ(back.params(), q.params());
}

TEST(QueryStringTest, EncodeWritesTheParametersAsTheyAreNow) {
  QueryString q = parseOk("a=1+2&b=x");
  q.set("a", "3");
  EXPECT_EQ(q.encode(), "a=3&b=x");
}

TEST(QueryStringTest, SetReplacesFirstAndDropsRepeats) {
  QueryString q = parseOk("a=1&b=2&a=3");
  q.set("a", "x");
  ASSERT_EQ(q.params().size(), 2u);
  EXPECT_EQ(q.params()[0], (QueryParam{"a", "x"}));
  EXPECT_EQ(q.params()[1], (QueryParam{"b", "2"}));
}

TEST(QueryStringTest, SetAppendsWhenMissing) {
  QueryString q = parseOk("a=1");
  q.set("b", "2");
  EXPECT_EQ(q.encode(), "a=1&b=2");
}

TEST(QueryStringTest, RemoveDropsAllOccurrences) {
  QueryString q = parseOk("a=1&b=2&a=3&c=4");
  q.remove("a");
  EXPECT_EQ(q.encode(), "b=2&c=4");
  q.remove("zzz");
  EXPECT_EQ(q.encode(), "b=2&c=4");
}

TEST(QueryStringTest, AppendMissingKeepsExistingValues) {
  QueryString q = parseOk("a=1&b=2");
  QueryString defaults = parseOk("b=9&c=3&d=");
  q.appendMissing(defaults);
  EXPECT_EQ(q.encode(), "a=1&b=2&c=3&d=");
}

TEST(QueryStringTest, UrlDecodeAndEncodeHelpers) {
  EXPECT_EQ(urlDecode("a+b%21"), std::optional<std::string>("a b!"));
  EXPECT_EQ(urlDecode("%zz"), std::nullopt);
  EXPECT_EQ(urlEncode("a b"), "a%20b");
  EXPECT_EQ(urlEncode(""), "");
}

// Text that needs no encoding (or decoding) skips curl; the answers must be curl's all the same.
TEST(QueryStringTest, EveryByteEncodesAsItselfOnlyWhenUnreservedAndDecodesBack) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string encoded = urlEncode(one);
    if (unreserved.find(one) != std::string::npos) {
      EXPECT_EQ(encoded, one) << b;
    } else {
      EXPECT_EQ(encoded, fmt::format("%{:02X}", b)) << b;
    }
    EXPECT_EQ(urlDecode(encoded), std::optional<std::string>(one)) << b;
  }
  EXPECT_EQ(urlEncode(unreserved), unreserved);
  EXPECT_EQ(urlDecode("plain-text_1.~"), std::optional<std::string>("plain-text_1.~"));
  EXPECT_EQ(urlDecode("a=b&c"), std::optional<std::string>("a=b&c")) << "only % and + decode";
}

TEST(QueryStringTest, Utf8Validator) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80"));   // emoji
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\x80"));
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));
}

}  // namespace
}  // namespace sb

namespace sb {
namespace {

TEST(TextHelpersTest, Utf8LengthCountsCharactersAndLowerAsciiOnlyLetters) {
  EXPECT_EQ(utf8Length(""), 0u);
  EXPECT_EQ(utf8Length("abc"), 3u);
  EXPECT_EQ(utf8Length("Caf\xc3\xa9 \xe2\x9c\x93"), 6u);
  EXPECT_EQ(lowerAscii("HTTPS://Bbb.Example.ORG"), "https://bbb.example.org");
  EXPECT_EQ(lowerAscii("\xc3\x89T\xc3\x89"), "\xc3\x89t\xc3\x89");  // only ASCII changes
}

}  // namespace
}  // namespace sb
