// Issue 18 item 13: a task that owes a client an answer answers even when it throws, and the join
// cache refresher's thread survives an exception.
#include "router/owed_reply.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/balancing/least_load_strategy.h"
#include "core/checksum.h"
#include "db/memory_store.h"
#include "router/bbb_api.h"
#include "router/join_cache_refresher.h"
#include "router/worker_pool.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

// A Reply that records every answer it is given.
struct Recorder {
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::promise<HttpResponse>> first =
      std::make_shared<std::promise<HttpResponse>>();
  std::shared_future<HttpResponse> answer = first->get_future().share();
  Reply reply() const {
    return [count = count, first = first](HttpResponse r) {
      if (++*count == 1) first->set_value(std::move(r));
    };
  }
};

HttpResponse fallbackAnswer() { return textResponse(503, "fallback\n"); }

TEST(OwedReplyTest, TheFirstAnswerGoesThroughOnce) {
  Recorder rec;
  {
    Reply owed = owedReply(rec.reply(), fallbackAnswer);
    Reply copy = owed;
    owed(textResponse(200, "one\n"));
    copy(textResponse(200, "two\n"));
  }
  EXPECT_EQ(*rec.count, 1);
  EXPECT_EQ(rec.answer.get().body, "one\n");
}

TEST(OwedReplyTest, TheLastCopyGoingUnansweredAnswersTheFallback) {
  Recorder rec;
  {
    Reply owed = owedReply(rec.reply(), fallbackAnswer);
    Reply copy = owed;
  }
  EXPECT_EQ(*rec.count, 1);
  EXPECT_EQ(rec.answer.get().status, 503);
}

TEST(OwedReplyTest, AWorkerTaskThatThrowsStillAnswersItsClient) {
  Recorder rec;
  WorkerPool pool(1);
  Reply owed = owedReply(rec.reply(), fallbackAnswer);
  pool.post([owed] { throw std::runtime_error("boom"); });
  pool.post([owed] { throw 42; });
  owed = nullptr;  // the tasks hold the only copies
  ASSERT_EQ(rec.answer.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the client never got an answer";
  EXPECT_EQ(rec.answer.get().status, 503);
  // The pool goes on.
  std::promise<void> ran;
  pool.post([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(*rec.count, 1);
}

TEST(JoinCacheRefresherTest, AnExceptionDoesNotEndTheThread) {
  std::atomic<int> calls{0};
  std::promise<void> secondDone;
  JoinCacheRefresher refresher(
      [&] {
        const int n = ++calls;
        if (n == 1) throw std::runtime_error("store exploded");
        if (n == 2) throw 7;
        if (n == 3) secondDone.set_value();
      },
      std::chrono::milliseconds(1));
  auto done = secondDone.get_future();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    refresher.wake();
  }
  EXPECT_EQ(done.wait_for(std::chrono::seconds(0)), std::future_status::ready)
      << "the refresher stopped refreshing after an exception";
}

// The BBB API's calls that run on a worker: an exception in the use-case (here the BBB client)
// is answered with BBB's FAILED envelope instead of leaving the client without an answer.
TEST(BbbApiOwedAnswerTest, ACallWhoseTaskThrowsIsAnsweredWithAnError) {
  MemoryServerStore servers;
  MemoryMeetingStore meetings;
  fake::FakeBbbClient bbb;
  ManualClock clock;
  LeastLoadStrategy strategy;
  Config config;
  config.api.secrets = {"api-secret"};
  ASSERT_TRUE(servers.addServer(fake::makeServer("s1")).ok());
  std::atomic<bool> explode{false};
  bbb.onCall = [&](const fake::RecordedCall&) {
    if (explode) throw std::runtime_error("client exploded");
  };
  MeetingRouter router(servers, meetings, bbb, clock, strategy, config);
  WorkerPool workers(2);
  BbbApi api(router, config.api, workers);
  auto send = [&](const std::string& call) -> std::optional<HttpResponse> {
    const std::string query = "meetingID=m1&name=M";
    HttpRequest request;
    request.method = "GET";
    request.path = "/bigbluebutton/api/" + call;
    request.rawQuery = query + "&checksum=" +
                       computeChecksum(ChecksumAlgorithm::kSha256, call, query, "api-secret");
    Recorder rec;
    api.handle(request, call, rec.reply());
    if (rec.answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return std::nullopt;
    }
    return rec.answer.get();
  };
  auto created = send("create");  // the meeting exists: the calls below go to its server
  ASSERT_TRUE(created);
  ASSERT_NE(created->body.find("SUCCESS"), std::string::npos) << created->body;
  explode = true;
  for (const std::string call : {"create", "getMeetingInfo", "end", "isMeetingRunning"}) {
    auto answer = send(call);
    ASSERT_TRUE(answer) << call << ": the client never got an answer";
    const HttpResponse& r = *answer;
    EXPECT_EQ(r.status, 200) << call;
    EXPECT_NE(r.body.find("<returncode>FAILED</returncode>"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("<messageKey>internalError</messageKey>"), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace sb
