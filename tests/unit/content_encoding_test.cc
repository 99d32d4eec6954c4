// Accept-Encoding negotiation and the gzip stream of large answers.
#include "router/content_encoding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace sb {
namespace {

// Inflates a gzip stream with zlib (windowBits 15 + 16: gzip only); "" on any error.
std::string gunzip(const std::string& packed) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "";
  std::string out;
  char chunk[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

TEST(AcceptsGzipTest, NamedOrAnyWithAPositiveQuality) {
  for (const char* yes : {"gzip", "GZip", "x-gzip", "gzip, deflate, br", "deflate, gzip;q=0.5",
                          " br ; q=1 ,gzip", "*", "br, *;q=0.1", "gzip;q=1.0", "gzip;Q=0.001",
                          "gzip;level=1;q=0.2", "gzip;q=0, gzip;q=0.3"}) {
    EXPECT_TRUE(acceptsGzip(yes)) << yes;
  }
  for (const char* no :
       {"", "identity", "deflate, br", "gzip;q=0", "gzip; q=0.000", "*;q=0", "gzip;q=0, *", "gzipx",
        "x-gzip;q=abc", "gzip;q=1.5", "gzip;q=-1", ",,;", "gzip;q="}) {
    EXPECT_FALSE(acceptsGzip(no)) << no;
  }
}

TEST(GzipCompressTest, RoundTripsThroughZlib) {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "<meeting><meetingID>m-" + std::to_string(i) + "</meetingID></meeting>";
  auto packed = gzipCompress(text);
  ASSERT_TRUE(packed.has_value());
  EXPECT_LT(packed->size(), text.size() / 5);
  EXPECT_EQ(packed->substr(0, 2), "\x1f\x8b") << "a gzip member's magic bytes";
  EXPECT_EQ(gunzip(*packed), text);
  auto empty = gzipCompress("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(gunzip(*empty), "");
}

}  // namespace
}  // namespace sb
