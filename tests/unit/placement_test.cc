// Placement: Scalelite's tag matrix (scalelite.md §5), state filters and least-load choice.
#include "core/balancing/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/balancing/least_load_strategy.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;

class PlacementTest : public ::testing::Test {
 protected:
  // The id of the chosen server, or "error:<messageKey>".
  std::string pick(const std::vector<Server>& servers, std::string_view tag) {
    auto chosen = chooseServer(servers, ServerTagRequest::parse(tag), strategy_, "meeting");
    if (!chosen) return "error:" + std::string(messageKey(chosen.error().code));
    return (*chosen)->id;
  }

  // Two untagged servers (u2 lighter), one tagged t, one tagged t2 (the lightest of all).
  std::vector<Server> mixed() {
    return {makeServer("u1", 5), makeServer("u2", 3), makeServer("ta", 9, "t"),
            makeServer("tb", 7, "t"), makeServer("t2a", 1, "t2")};
  }
  std::vector<Server> untaggedOnly() { return {makeServer("u1", 5), makeServer("u2", 3)}; }

  LeastLoadStrategy strategy_;
};

TEST_F(PlacementTest, NoTagPicksLeastLoadedUntaggedServer) {
  // t2a has the lowest load of all but is tagged: untagged meetings never go there.
  EXPECT_EQ(pick(mixed(), ""), "u2");
  EXPECT_EQ(pick(mixed(), "!"), "u2");
}

TEST_F(PlacementTest, NoneMeansUntagged) {
  EXPECT_EQ(pick(mixed(), "none"), "u2");
  EXPECT_EQ(pick(mixed(), "none!"), "u2");
}

TEST_F(PlacementTest, TagPicksLeastLoadedTaggedServer) { EXPECT_EQ(pick(mixed(), "t"), "tb"); }

TEST_F(PlacementTest, TagWithoutMatchFallsBackToUntagged) {
  EXPECT_EQ(pick(untaggedOnly(), "t"), "u2");
  EXPECT_EQ(pick(mixed(), "zzz"), "u2");
}

TEST_F(PlacementTest, TagListMatchesAnyTag) {
  EXPECT_EQ(pick(mixed(), "t1;t2"), "t2a");
  EXPECT_EQ(pick(mixed(), "t;t2"), "t2a");
  EXPECT_EQ(pick(untaggedOnly(), "t1;t2"), "u2");
}

TEST_F(PlacementTest, RequiredTagPicksTaggedServer) {
  EXPECT_EQ(pick(mixed(), "t!"), "tb");
  EXPECT_EQ(pick(mixed(), "t1;t2!"), "t2a");
}

TEST_F(PlacementTest, RequiredTagWithoutMatchIsServerTagUnavailable) {
  auto chosen = chooseServer(untaggedOnly(), ServerTagRequest::parse("t!"), strategy_, "meeting");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().code, ErrorCode::kServerTagUnavailable);
  EXPECT_EQ(chosen.error().message, "There is no available server with the required tag=t.");
  EXPECT_EQ(messageKey(chosen.error().code), "serverTagUnavailable");
}

TEST_F(PlacementTest, RequiredTagListMessageNamesAllTags) {
  auto chosen = chooseServer(untaggedOnly(), ServerTagRequest::parse("a;b!"), strategy_, "meeting");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().code, ErrorCode::kServerTagUnavailable);
  EXPECT_EQ(chosen.error().message, "There is no available server with the required tag=a;b.");
}

TEST_F(PlacementTest, RequiredTagOnlyOnUnavailableServersIsServerTagUnavailable) {
  std::vector<Server> servers = untaggedOnly();
  servers.push_back(makeServer("t-off", 0, "t", AdminState::kEnabled, /*online=*/false));
  servers.push_back(makeServer("t-cordoned", 0, "t", AdminState::kCordoned));
  EXPECT_EQ(pick(servers, "t!"), "error:serverTagUnavailable");
  EXPECT_EQ(pick(servers, "t"), "u2");
}

TEST_F(PlacementTest, UntaggedMeetingWithOnlyTaggedServersIsNoServerAvailable) {
  std::vector<Server> servers = {makeServer("ta", 0, "t")};
  auto chosen = chooseServer(servers, ServerTagRequest::parse(""), strategy_, "m");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().code, ErrorCode::kNoServerAvailable);
}

TEST_F(PlacementTest, CordonedDisabledAndOfflineServersExcluded) {
  std::vector<Server> servers = {
      makeServer("a-cordoned", 0, "", AdminState::kCordoned),
      makeServer("b-disabled", 0, "", AdminState::kDisabled),
      makeServer("c-offline", 0, "", AdminState::kEnabled, /*online=*/false),
      makeServer("d-ok", 50),
  };
  EXPECT_EQ(pick(servers, ""), "d-ok");
  auto candidates = placementCandidates(servers, ServerTagRequest::parse(""));
  ASSERT_TRUE(candidates.ok());
  ASSERT_EQ(candidates->size(), 1u);
  EXPECT_EQ((*candidates)[0]->id, "d-ok");
}

TEST_F(PlacementTest, NoServersIsNoServerAvailable) {
  auto chosen = chooseServer({}, ServerTagRequest::parse(""), strategy_, "m");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().code, ErrorCode::kNoServerAvailable);
  EXPECT_EQ(chosen.error().message, "Could not find any available servers.");
  EXPECT_EQ(messageKey(chosen.error().code), "internalError");
}

TEST_F(PlacementTest, NoAvailableServersIsNoServerAvailable) {
  std::vector<Server> servers = {makeServer("a", 0, "", AdminState::kDisabled),
                                 makeServer("b", 0, "", AdminState::kEnabled, false)};
  EXPECT_EQ(pick(servers, ""), "error:internalError");
  EXPECT_EQ(pick(servers, "t"), "error:internalError");
}

TEST_F(PlacementTest, LeastLoadWins) {
  std::vector<Server> servers = {makeServer("a", 30), makeServer("b", 10.5),
                                 makeServer("c", 10.75)};
  EXPECT_EQ(pick(servers, ""), "b");
}

TEST_F(PlacementTest, TiesBrokenByServerIdRegardlessOfOrder) {
  std::vector<Server> servers = {makeServer("s3", 4), makeServer("s1", 4), makeServer("s2", 4),
                                 makeServer("s0", 9)};
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(servers.begin(), servers.end(), rng);
    EXPECT_EQ(pick(servers, ""), "s1");
  }
}

TEST(LeastLoadStrategyTest, ChoosesAmongCandidatesOnly) {
  LeastLoadStrategy strategy;
  Server a = makeServer("a", 2);
  Server b = makeServer("b", 1);
  Server c = makeServer("c", 1);
  EXPECT_EQ(strategy.choose({&a}, "m"), &a);
  EXPECT_EQ(strategy.choose({&c, &a, &b}, "m"), &b);
  EXPECT_EQ(strategy.name(), "least-load");
}

}  // namespace
}  // namespace sb
