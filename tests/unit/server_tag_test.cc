#include "core/balancing/server_tag.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb {
namespace {

using Tags = std::vector<std::string>;

TEST(ServerTagRequestTest, EmptyMeansUntagged) {
  auto r = ServerTagRequest::parse("");
  EXPECT_TRUE(r.tags.empty());
  EXPECT_FALSE(r.required);
}

TEST(ServerTagRequestTest, BangAloneMeansUntagged) {
  auto r = ServerTagRequest::parse("!");
  EXPECT_TRUE(r.tags.empty());
  EXPECT_FALSE(r.required);
}

TEST(ServerTagRequestTest, NoneMeansUntagged) {
  for (const char* v : {"none", "none!"}) {
    auto r = ServerTagRequest::parse(v);
    EXPECT_TRUE(r.tags.empty()) << v;
    EXPECT_FALSE(r.required) << v;
  }
}

TEST(ServerTagRequestTest, SingleTag) {
  auto r = ServerTagRequest::parse("t");
  EXPECT_EQ(r.tags, Tags{"t"});
  EXPECT_FALSE(r.required);
}

TEST(ServerTagRequestTest, RequiredTag) {
  auto r = ServerTagRequest::parse("t!");
  EXPECT_EQ(r.tags, Tags{"t"});
  EXPECT_TRUE(r.required);
}

TEST(ServerTagRequestTest, TagListKeepsOrderAndSkipsEmptyPieces) {
  auto r = ServerTagRequest::parse("t1;;t2;");
  EXPECT_EQ(r.tags, (Tags{"t1", "t2"}));
  EXPECT_FALSE(r.required);
  auto req = ServerTagRequest::parse("t1;t2!");
  EXPECT_EQ(req.tags, (Tags{"t1", "t2"}));
  EXPECT_TRUE(req.required);
}

TEST(ServerTagRequestTest, JoinedHasNoBang) {
  EXPECT_EQ(ServerTagRequest::parse("a;b!").joined(), "a;b");
  EXPECT_EQ(ServerTagRequest::parse("a").joined(), "a");
  EXPECT_EQ(ServerTagRequest::parse("").joined(), "");
}

}  // namespace
}  // namespace sb
