// Byte ranges of playback files (router/playback.h): what a video player's seeking sends.
#include "router/playback.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(ParseRangeTest, OneRangeInEveryFormRfc9110Allows) {
  auto r = parseRange("bytes=0-99", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->length, 100u);
  r = parseRange("bytes=900-", 1000);  // to the end
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 900u);
  EXPECT_EQ(r->length, 100u);
  r = parseRange("bytes=-10", 1000);  // the last 10
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 990u);
  EXPECT_EQ(r->length, 10u);
  r = parseRange("bytes=990-5000", 1000);  // past the end: up to the end
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 10u);
  r = parseRange("bytes=-5000", 1000);  // more than the file: all of it
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->length, 1000u);
}

TEST(ParseRangeTest, UnsatisfiableAndUnusableRanges) {
  auto r = parseRange("bytes=1000-", 1000);  // starts past the end: 416
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 0u);
  r = parseRange("bytes=-0", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 0u);
  // Not understood: the whole file goes out (200), as RFC 9110 lets a server do.
  for (const char* header : {"bytes=5-1", "bytes=a-b", "items=0-1", "bytes=0-1,5-6",
                             "bytes=", "bytes=-", "bytes=99999999999999999999-", "bytes=0-1x"}) {
    EXPECT_FALSE(parseRange(header, 1000)) << header;
  }
}

}  // namespace
}  // namespace sb
