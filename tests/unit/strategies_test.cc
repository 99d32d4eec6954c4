// The server-selection strategies: round-robin rotation, least-connections ordering, rendezvous
// hashing (stability, minimal disruption, balance) and the factory.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/balancing/hash_strategy.h"
#include "core/balancing/least_connections_strategy.h"
#include "core/balancing/round_robin_strategy.h"
#include "core/balancing/strategy_factory.h"
#include "core/server.h"

namespace sb {
namespace {

Server server(const std::string& id, int users = 0, double load = 0) {
  Server s;
  s.id = id;
  s.state = AdminState::kEnabled;
  s.live.online = true;
  s.live.usage.users = users;
  s.live.load = load;
  return s;
}

// Pointers to every server of `servers`, in container order.
std::vector<const Server*> all(const std::vector<Server>& servers) {
  std::vector<const Server*> out;
  for (const auto& s : servers) out.push_back(&s);
  return out;
}

// Pointers to the servers whose id is in `ids`, in the order of `ids`.
std::vector<const Server*> pick(const std::vector<Server>& servers,
                                const std::vector<std::string>& ids) {
  std::vector<const Server*> out;
  for (const auto& id : ids) {
    for (const auto& s : servers) {
      if (s.id == id) out.push_back(&s);
    }
  }
  return out;
}

// The ids `strategy` chooses on `n` consecutive calls.
std::vector<std::string> rotate(BalancingStrategy& strategy,
                                const std::vector<const Server*>& candidates, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(strategy.choose(candidates, "meeting")->id);
  return ids;
}

std::string meetingId(int i) { return "meeting-" + std::to_string(i); }

// ---- round robin --------------------------------------------------------------------------------

TEST(RoundRobinStrategyTest, RotatesInIdOrderAndWrapsAround) {
  std::vector<Server> servers{server("c"), server("a"), server("b")};
  RoundRobinStrategy rr;
  EXPECT_EQ(rr.name(), "round-robin");
  EXPECT_EQ(rotate(rr, all(servers), 7),
            (std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a"}));
}

TEST(RoundRobinStrategyTest, IgnoresCandidateOrderAndLoad) {
  std::vector<Server> servers{server("a", 100, 50), server("b"), server("c", 3, 1)};
  RoundRobinStrategy rr;
  EXPECT_EQ(rr.choose(pick(servers, {"c", "b", "a"}), "m")->id, "a");
  EXPECT_EQ(rr.choose(pick(servers, {"a", "c", "b"}), "m")->id, "b");
  EXPECT_EQ(rr.choose(pick(servers, {"b", "a", "c"}), "m")->id, "c");
  EXPECT_EQ(rr.choose(pick(servers, {"c", "a", "b"}), "m")->id, "a");
}

TEST(RoundRobinStrategyTest, SingleCandidateIsAlwaysChosen) {
  std::vector<Server> servers{server("only")};
  RoundRobinStrategy rr;
  EXPECT_EQ(rotate(rr, all(servers), 3), (std::vector<std::string>{"only", "only", "only"}));
}

TEST(RoundRobinStrategyTest, RotationSurvivesRemovedCandidate) {
  std::vector<Server> servers{server("a"), server("b"), server("c"), server("d")};
  RoundRobinStrategy rr;
  EXPECT_EQ(rotate(rr, all(servers), 2), (std::vector<std::string>{"a", "b"}));
  // c (the next one) goes away: the rotation continues with d, then wraps to a.
  auto withoutC = pick(servers, {"a", "b", "d"});
  EXPECT_EQ(rotate(rr, withoutC, 4), (std::vector<std::string>{"d", "a", "b", "d"}));
  // The last chosen server itself goes away: the next id still follows it.
  auto withoutD = pick(servers, {"a", "b", "c"});
  EXPECT_EQ(rotate(rr, withoutD, 2), (std::vector<std::string>{"a", "b"}));
}

TEST(RoundRobinStrategyTest, RotationTakesInAddedCandidate) {
  std::vector<Server> servers{server("a"), server("b"), server("c"), server("d")};
  RoundRobinStrategy rr;
  auto abd = pick(servers, {"a", "b", "d"});
  EXPECT_EQ(rotate(rr, abd, 2), (std::vector<std::string>{"a", "b"}));
  // c appears right after the last chosen id: it is next, in its place in id order.
  EXPECT_EQ(rotate(rr, all(servers), 5), (std::vector<std::string>{"c", "d", "a", "b", "c"}));
}

TEST(RoundRobinStrategyTest, ConcurrentCallsChooseCandidatesAndStayFair) {
  std::vector<Server> servers;
  for (int i = 0; i < 5; ++i) servers.push_back(server("s" + std::to_string(i)));
  const auto candidates = all(servers);
  RoundRobinStrategy rr;

  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 1000;
  std::vector<std::vector<const Server*>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        results[t].push_back(rr.choose(candidates, "m"));
      }
    });
  }
  for (auto& th : threads) th.join();

  std::map<std::string, int> counts;
  for (const auto& perThread : results) {
    for (const Server* s : perThread) {
      ASSERT_NE(std::find(candidates.begin(), candidates.end(), s), candidates.end());
      ++counts[s->id];
    }
  }
  // Each call rotates exactly once, whatever the interleaving: 4000 calls over 5 servers.
  ASSERT_EQ(counts.size(), servers.size());
  for (const auto& [id, n] : counts) EXPECT_EQ(n, kThreads * kCallsPerThread / 5) << id;
}

// ---- least connections --------------------------------------------------------------------------

TEST(LeastConnectionsStrategyTest, FewestUsersWins) {
  std::vector<Server> servers{server("a", 30, 1), server("b", 10, 90), server("c", 20, 0)};
  LeastConnectionsStrategy lc;
  EXPECT_EQ(lc.name(), "least-connections");
  EXPECT_EQ(lc.choose(all(servers), "m")->id, "b");
}

TEST(LeastConnectionsStrategyTest, EqualUsersThenLowerLoad) {
  std::vector<Server> servers{server("a", 10, 5), server("b", 10, 2), server("c", 11, 0)};
  LeastConnectionsStrategy lc;
  EXPECT_EQ(lc.choose(all(servers), "m")->id, "b");
}

TEST(LeastConnectionsStrategyTest, FullTieGoesToSmallestIdWhateverTheOrder) {
  std::vector<Server> servers{server("c", 4, 2), server("a", 4, 2), server("b", 4, 2)};
  LeastConnectionsStrategy lc;
  std::vector<std::string> order{"a", "b", "c"};
  do {
    EXPECT_EQ(lc.choose(pick(servers, order), "m")->id, "a");
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(LeastConnectionsStrategyTest, IsStateless) {
  std::vector<Server> servers{server("a", 1), server("b", 2)};
  LeastConnectionsStrategy lc;
  EXPECT_EQ(rotate(lc, all(servers), 3), (std::vector<std::string>{"a", "a", "a"}));
}

// ---- hash ---------------------------------------------------------------------------------------

class HashStrategyTest : public ::testing::Test {
 protected:
  HashStrategyTest() {
    for (int i = 0; i < 10; ++i) servers_.push_back(server("server-" + std::to_string(i)));
  }

  std::vector<Server> servers_;
  HashStrategy hash_;
};

TEST_F(HashStrategyTest, ScoreIsAStableDocumentedFunction) {
  EXPECT_EQ(hash_.name(), "hash");
  // Pinned values (computed independently from the definition: FNV-1a 64 then fmix64). A change
  // here would move every meeting of a running deployment on upgrade.
  EXPECT_EQ(HashStrategy::score("", ""), 0xb9034ad37056f5fbULL);
  EXPECT_EQ(HashStrategy::score("meeting-1", "server-1"), 0x52c3821a8d5856ddULL);
  // The separator matters: ("ab", "c") and ("a", "bc") are different inputs.
  EXPECT_NE(HashStrategy::score("ab", "c"), HashStrategy::score("a", "bc"));
}

TEST_F(HashStrategyTest, SameMeetingSameServerWhateverTheOrder) {
  auto candidates = all(servers_);
  for (int i = 0; i < 100; ++i) {
    const Server* first = hash_.choose(candidates, meetingId(i));
    EXPECT_EQ(hash_.choose(candidates, meetingId(i)), first);
    auto reversed = candidates;
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_EQ(hash_.choose(reversed, meetingId(i)), first);
    auto rotated = candidates;
    std::rotate(rotated.begin(), rotated.begin() + i % rotated.size(), rotated.end());
    EXPECT_EQ(hash_.choose(rotated, meetingId(i)), first);
  }
}

TEST_F(HashStrategyTest, RemovingAServerMovesOnlyItsMeetings) {
  auto candidates = all(servers_);
  auto without3 = candidates;
  std::erase_if(without3, [](const Server* s) { return s->id == "server-3"; });
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const Server* before = hash_.choose(candidates, meetingId(i));
    const Server* after = hash_.choose(without3, meetingId(i));
    if (before->id == "server-3") {
      EXPECT_NE(after->id, "server-3");
      ++moved;
    } else {
      EXPECT_EQ(after, before) << meetingId(i);
    }
  }
  EXPECT_GT(moved, 0);  // server-3 did have meetings to move
}

TEST_F(HashStrategyTest, AddingAServerMovesMeetingsOnlyToIt) {
  auto nine = all(servers_);
  nine.pop_back();
  auto ten = all(servers_);
  for (int i = 0; i < 1000; ++i) {
    const Server* before = hash_.choose(nine, meetingId(i));
    const Server* after = hash_.choose(ten, meetingId(i));
    if (after != before) {
      EXPECT_EQ(after->id, "server-9") << meetingId(i);
    }
  }
}

TEST_F(HashStrategyTest, SpreadsMeetingsRoughlyEvenly) {
  auto candidates = all(servers_);
  std::map<std::string, int> counts;
  for (int i = 0; i < 1000; ++i) ++counts[hash_.choose(candidates, meetingId(i))->id];
  ASSERT_EQ(counts.size(), servers_.size());
  for (const auto& [id, n] : counts) {
    EXPECT_GE(n, 50) << id;
    EXPECT_LE(n, 150) << id;
  }
}

TEST_F(HashStrategyTest, IgnoresLoadAndUsers) {
  auto candidates = all(servers_);
  const std::string chosen = hash_.choose(candidates, "m")->id;
  for (auto& s : servers_) {
    s.live.load = s.id == chosen ? 1000 : 0;
    s.live.usage.users = s.id == chosen ? 1000 : 0;
  }
  EXPECT_EQ(hash_.choose(candidates, "m")->id, chosen);
}

TEST_F(HashStrategyTest, ChoosesOnlyCandidates) {
  auto some = pick(servers_, {"server-2", "server-7"});
  for (int i = 0; i < 100; ++i) {
    const Server* s = hash_.choose(some, meetingId(i));
    EXPECT_TRUE(s == some[0] || s == some[1]);
  }
}

// ---- factory ------------------------------------------------------------------------------------

TEST(StrategyFactoryTest, MakesEveryKnownStrategyUnderItsName) {
  EXPECT_EQ(strategyNames(), (std::vector<std::string_view>{"least-load", "round-robin",
                                                            "least-connections", "hash"}));
  for (std::string_view name : strategyNames()) {
    auto strategy = makeStrategy(name);
    ASSERT_NE(strategy, nullptr) << name;
    EXPECT_EQ(strategy->name(), name);
  }
}

TEST(StrategyFactoryTest, AcceptsUnderscores) {
  auto ll = makeStrategy("least_load");
  ASSERT_NE(ll, nullptr);
  EXPECT_EQ(ll->name(), "least-load");
  auto rr = makeStrategy("round_robin");
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rr->name(), "round-robin");
  auto lc = makeStrategy("least_connections");
  ASSERT_NE(lc, nullptr);
  EXPECT_EQ(lc->name(), "least-connections");
}

TEST(StrategyFactoryTest, UnknownNameIsNull) {
  EXPECT_EQ(makeStrategy(""), nullptr);
  EXPECT_EQ(makeStrategy("random"), nullptr);
  EXPECT_EQ(makeStrategy("leastload"), nullptr);
  EXPECT_EQ(makeStrategy("least-load "), nullptr);
}

TEST(StrategyFactoryTest, EachCallMakesAFreshStrategy) {
  std::vector<Server> servers{server("a"), server("b")};
  auto first = makeStrategy("round-robin");
  auto second = makeStrategy("round-robin");
  ASSERT_NE(first.get(), second.get());
  EXPECT_EQ(first->choose(all(servers), "m")->id, "a");
  EXPECT_EQ(second->choose(all(servers), "m")->id, "a");  // its own rotation
}

}  // namespace
}  // namespace sb
