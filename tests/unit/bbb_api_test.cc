// BbbApi::handle and routeRequest, without sockets: a real WorkerPool, the memory stores, a fake
// BBB. Replies are awaited through a promise.
#include "router/bbb_api.h"
#include "router/content_encoding.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/balancing/least_load_strategy.h"
#include "db/memory_store.h"
#include "router/http_server.h"
#include "router/worker_pool.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using fake::makeServer;
using fake::urlFor;

constexpr char kSecret[] = "api-secret";

class BbbApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.api.secrets = {kSecret};
    ASSERT_TRUE(servers_.addServer(makeServer("s1")).ok());
  }

  // Built on first use so tests can change config_ first.
  BbbApi& api() {
    if (!api_) {
      router_ =
          std::make_unique<MeetingRouter>(servers_, meetings_, bbb_, clock_, strategy_, config_);
      api_ = std::make_unique<BbbApi>(*router_, config_.api, workers_);
    }
    return *api_;
  }

  // Runs `deliver` with a Reply and waits for the one response.
  template <typename Deliver>
  HttpResponse await(Deliver deliver) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    deliver([promise](HttpResponse r) { promise->set_value(std::move(r)); });
    // A guard against a lost reply, not a timing assertion.
    if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "no reply";
      return {};
    }
    return future.get();
  }

  HttpResponse handle(const HttpRequest& request, const std::string& call) {
    return await([&](const Reply& reply) { api().handle(request, call, reply); });
  }

  static std::string sign(const std::string& call, const std::string& query,
                          ChecksumAlgorithm algorithm = ChecksumAlgorithm::kSha256,
                          const std::string& secret = kSecret) {
    std::string cs = computeChecksum(algorithm, call, query, secret);
    return query.empty() ? "checksum=" + cs : query + "&checksum=" + cs;
  }

  static HttpRequest get(const std::string& call, const std::string& rawQuery) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/bigbluebutton/api/" + call;
    r.rawQuery = rawQuery;
    return r;
  }

  // A GET of `call` with `query`, signed.
  HttpResponse signedGet(const std::string& call, const std::string& query,
                         ChecksumAlgorithm algorithm = ChecksumAlgorithm::kSha256) {
    return handle(get(call, sign(call, query, algorithm)), call);
  }

  static std::string field(const HttpResponse& r, const char* name) {
    pugi::xml_document doc;
    if (!doc.load_string(r.payload().c_str())) return "<not xml>";
    return doc.child("response").child_value(name);
  }

  MemoryServerStore servers_;
  MemoryMeetingStore meetings_;
  fake::FakeBbbClient bbb_;
  ManualClock clock_;
  LeastLoadStrategy strategy_;
  Config config_;
  std::unique_ptr<MeetingRouter> router_;
  std::unique_ptr<BbbApi> api_;
  // APIs a test replaced (to change config_): kept until the workers, which may still be
  // finishing their tasks, are joined.
  std::vector<std::unique_ptr<BbbApi>> replaced_;
  WorkerPool workers_{2};  // declared last: joined first, while the router still exists
};

TEST_F(BbbApiTest, UnknownCallIsUnsupportedRequest) {
  HttpResponse r = signedGet("deleteEverything", "meetingID=m1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "returncode"), "FAILED");
  EXPECT_EQ(field(r, "messageKey"), "unsupportedRequest");
}

TEST_F(BbbApiTest, PostJoinIsUnsupportedRequest) {
  HttpRequest req = get("join", sign("join", "meetingID=m1&fullName=A"));
  req.method = "POST";
  HttpResponse r = handle(req, "join");
  EXPECT_EQ(field(r, "messageKey"), "unsupportedRequest");
  EXPECT_TRUE(r.location.empty());
}

TEST_F(BbbApiTest, OtherMethodsAreUnsupportedRequest) {
  HttpRequest req = get("create", sign("create", "meetingID=m1"));
  req.method = "DELETE";
  EXPECT_EQ(field(handle(req, "create"), "messageKey"), "unsupportedRequest");
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(BbbApiTest, MissingChecksumIsChecksumError) {
  HttpResponse r = handle(get("create", "meetingID=m1&name=x"), "create");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "returncode"), "FAILED");
  EXPECT_EQ(field(r, "messageKey"), "checksumError");
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(BbbApiTest, BadChecksumIsChecksumError) {
  std::string bad(64, 'a');
  EXPECT_EQ(field(handle(get("create", "meetingID=m1&checksum=" + bad), "create"), "messageKey"),
            "checksumError");
  // Signed for another call.
  EXPECT_EQ(field(handle(get("create", sign("end", "meetingID=m1")), "create"), "messageKey"),
            "checksumError");
  // Signed with another secret.
  EXPECT_EQ(field(handle(get("create",
                             sign("create", "meetingID=m1", ChecksumAlgorithm::kSha256, "wrong")),
                         "create"),
                  "messageKey"),
            "checksumError");
  // The query was changed after signing.
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha256, "create", "meetingID=m1", kSecret);
  EXPECT_EQ(field(handle(get("create", "meetingID=m2&checksum=" + cs), "create"), "messageKey"),
            "checksumError");
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(BbbApiTest, DisallowedAlgorithmIsChecksumError) {
  config_.api.checksumAlgorithms = {ChecksumAlgorithm::kSha256};
  EXPECT_EQ(
      field(signedGet("getMeetingInfo", "meetingID=m1", ChecksumAlgorithm::kSha1), "messageKey"),
      "checksumError");
  EXPECT_EQ(
      field(signedGet("getMeetingInfo", "meetingID=m1", ChecksumAlgorithm::kSha256), "messageKey"),
      "notFound");
}

TEST_F(BbbApiTest, EveryAlgorithmAndUpperCaseAccepted) {
  for (auto a : {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha384,
                 ChecksumAlgorithm::kSha512}) {
    EXPECT_EQ(field(signedGet("isMeetingRunning", "meetingID=m1", a), "running"), "false")
        << algorithmName(a);
  }
  std::string cs =
      computeChecksum(ChecksumAlgorithm::kSha1, "isMeetingRunning", "meetingID=m1", kSecret);
  for (auto& c : cs) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  HttpResponse r =
      handle(get("isMeetingRunning", "meetingID=m1&checksum=" + cs), "isMeetingRunning");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS");
}

TEST_F(BbbApiTest, SecondSecretAccepted) {
  config_.api.secrets = {kSecret, "rotated"};
  HttpResponse r = handle(get("isMeetingRunning", sign("isMeetingRunning", "meetingID=m1",
                                                       ChecksumAlgorithm::kSha256, "rotated")),
                          "isMeetingRunning");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS");
}

TEST_F(BbbApiTest, ChecksumAnywhereInTheQuery) {
  std::string query = "meetingID=m1&name=Test+Meeting";
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha1, "create", query, kSecret);
  HttpResponse r =
      handle(get("create", "meetingID=m1&checksum=" + cs + "&name=Test+Meeting"), "create");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  auto creates = bbb_.callsOf("create");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].params.get("name"), "Test Meeting");
  EXPECT_FALSE(creates[0].params.has("checksum")) << "the client's checksum is not forwarded";
}

TEST_F(BbbApiTest, GetCreateForwardsAndPassesTheAnswerThrough) {
  HttpResponse r = signedGet("create", "meetingID=m1&name=Test+Meeting&record=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.payload(), fake::createdXml("m1"));
  auto creates = bbb_.callsOf("create");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].serverUrl, urlFor("s1"));
  EXPECT_EQ(creates[0].params.get("name"), "Test Meeting");
  EXPECT_EQ(creates[0].params.get("record"), "true");
}

TEST_F(BbbApiTest, CreateTransportFailureIsInternalError) {
  bbb_.unreachable.insert(urlFor("s1"));
  HttpResponse r = signedGet("create", "meetingID=m1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "messageKey"), "internalError");
  EXPECT_EQ(field(r, "message"), "Unable to create meeting on server.");
}

TEST_F(BbbApiTest, PostFormBodyWithChecksumOverTheEmptyQuery) {
  HttpRequest req = get("create", sign("create", ""));
  req.method = "POST";
  req.contentType = "application/x-www-form-urlencoded";
  req.body = "meetingID=m1&name=Posted+Meeting";
  HttpResponse r = handle(req, "create");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  auto creates = bbb_.callsOf("create");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].params.get("meetingID"), "m1");
  EXPECT_EQ(creates[0].params.get("name"), "Posted Meeting");
  EXPECT_TRUE(creates[0].body.empty()) << "a form POST becomes a GET upstream";
}

TEST_F(BbbApiTest, PostFormBodyCarryingTheChecksum) {
  // Scalelite's spec vector: getMeetingInfo POSTed, checksum over callName + "" + secret.
  config_.api.secrets = {"test-2"};
  HttpRequest req = get("getMeetingInfo", "");
  req.method = "POST";
  req.contentType = "application/x-www-form-urlencoded; charset=UTF-8";
  req.body = "meetingID=SHA1_meeting&checksum=cbf00ea96fae6ff06c2cb311bbde8b26ad66d765";
  HttpResponse r = handle(req, "getMeetingInfo");
  EXPECT_EQ(field(r, "messageKey"), "notFound") << "checksum accepted, meeting unknown";
}

TEST_F(BbbApiTest, PostXmlCreateForwardsTheBody) {
  HttpRequest req = get("create", sign("create", "meetingID=m1&name=Slides"));
  req.method = "POST";
  req.contentType = "application/xml";
  req.body =
      "<modules><module name=\"presentation\"><document url=\"https://x/a.pdf\"/></module>"
      "</modules>";
  HttpResponse r = handle(req, "create");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  auto creates = bbb_.callsOf("create");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].body, req.body);
}

TEST_F(BbbApiTest, UnsupportedContentType) {
  HttpRequest req = get("create", sign("create", "meetingID=m1"));
  req.method = "POST";
  req.contentType = "application/json";
  req.body = "{\"meetingID\":\"m1\"}";
  EXPECT_EQ(field(handle(req, "create"), "messageKey"), "unsupportedContentType");

  // insertDocument takes XML only.
  HttpRequest doc = get("insertDocument", sign("insertDocument", "meetingID=m1"));
  doc.method = "POST";
  doc.contentType = "application/x-www-form-urlencoded";
  doc.body = "a=b";
  EXPECT_EQ(field(handle(doc, "insertDocument"), "messageKey"), "unsupportedContentType");
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(BbbApiTest, InvalidPercentEncodingWithAValidChecksumIsValidationError) {
  HttpResponse r = signedGet("create", "meetingID=%zz&name=x");
  EXPECT_EQ(field(r, "returncode"), "FAILED");
  EXPECT_EQ(field(r, "messageKey"), "validationError");
  EXPECT_TRUE(bbb_.calls().empty());
}

TEST_F(BbbApiTest, NonUtf8WithAValidChecksumIsValidationError) {
  EXPECT_EQ(field(signedGet("create", "meetingID=%FF%FE"), "messageKey"), "validationError");
}

TEST_F(BbbApiTest, CreateWithoutMeetingIdIsMissingParam) {
  EXPECT_EQ(field(signedGet("create", "name=x"), "messageKey"), "missingParamMeetingID");
}

TEST_F(BbbApiTest, InsertDocumentPostsTheXmlToTheMeetingsServer) {
  ASSERT_EQ(field(signedGet("create", "meetingID=m1&name=x"), "returncode"), "SUCCESS");
  HttpRequest req = get("insertDocument", sign("insertDocument", "meetingID=m1"));
  req.method = "POST";
  req.contentType = "application/xml; charset=utf-8";
  req.body = "<modules><module name=\"presentation\"/></modules>";
  HttpResponse r = handle(req, "insertDocument");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  auto calls = bbb_.callsOf("insertDocument");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].serverUrl, urlFor("s1"));
  EXPECT_EQ(calls[0].body, req.body);
  EXPECT_EQ(calls[0].params.get("meetingID"), "m1");

  // GET insertDocument is refused.
  EXPECT_EQ(field(signedGet("insertDocument", "meetingID=m1"), "messageKey"), "unsupportedRequest");
}

TEST_F(BbbApiTest, UpstreamFailedIsPassedThrough) {
  ASSERT_EQ(field(signedGet("create", "meetingID=m1&name=x"), "returncode"), "SUCCESS");
  bbb_.replies["getMeetingInfo"] =
      fake::failedXml("notFound", "A meeting with that ID does not exist");
  HttpResponse r = signedGet("getMeetingInfo", "meetingID=m1");
  EXPECT_EQ(r.payload(), bbb_.replies["getMeetingInfo"]);
}

TEST_F(BbbApiTest, SendChatMessageForwardsTheParameters) {
  ASSERT_EQ(field(signedGet("create", "meetingID=m1&name=x"), "returncode"), "SUCCESS");
  HttpResponse r = signedGet("sendChatMessage", "meetingID=m1&message=Hello+all&userName=Bot");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  auto calls = bbb_.callsOf("sendChatMessage");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].params.get("message"), "Hello all");
  EXPECT_EQ(calls[0].params.get("userName"), "Bot");
}

TEST_F(BbbApiTest, JoinRedirectsToTheServer) {
  ASSERT_EQ(field(signedGet("create", "meetingID=m1&name=x"), "returncode"), "SUCCESS");
  HttpResponse r = signedGet("join", "meetingID=m1&fullName=Alice+Smith&role=VIEWER");
  EXPECT_EQ(r.status, 302);
  ASSERT_EQ(r.location.rfind(urlFor("s1") + "join?", 0), 0u) << r.location;
  fake::RecordedCall c = fake::splitSignedUrl(r.location);
  EXPECT_EQ(c.params.get("fullName"), "Alice Smith");
  EXPECT_EQ(c.params.get("meetingID"), "m1");
  EXPECT_EQ(c.checksum, computeChecksum(ChecksumAlgorithm::kSha256, "join", c.query, "secret-s1"));
  EXPECT_EQ(bbb_.callsOf("join").size(), 0u);
}

TEST_F(BbbApiTest, AJoinNearTheEndOfItsCacheEntryRefreshesItOnAWorker) {
  ASSERT_TRUE(servers_.addServer(makeServer("s2")).ok());
  ASSERT_EQ(field(signedGet("create", "meetingID=m1&name=x"), "returncode"), "SUCCESS");
  auto placed = meetings_.findMeeting("m1");
  ASSERT_TRUE(placed.ok() && placed->has_value());
  const std::string first = (*placed)->serverId;
  const std::string other = first == "s1" ? "s2" : "s1";
  const std::string query = "meetingID=m1&fullName=A";
  ASSERT_EQ(signedGet("join", query).location.rfind(urlFor(first), 0), 0u);  // cached now

  // The meeting moves in the store behind this router's back (another router's failover).
  Meeting moved = **placed;
  ASSERT_TRUE(meetings_.removeMeeting("m1", first).ok());
  moved.serverId = other;
  ASSERT_TRUE(meetings_.claimMeeting(moved).ok());
  EXPECT_EQ(signedGet("join", query).location.rfind(urlFor(first), 0), 0u)
      << "within its TTL the cached entry answers";

  // Past 3/4 of the TTL a join is still answered from the cache and has the entry re-read on a
  // worker; the manual clock stands still, so only that refresh can bring the new server in.
  clock_.advanceMs(config_.api.joinCacheTtl.count() * 3 / 4);
  std::string location = signedGet("join", query).location;
  EXPECT_EQ(location.rfind(urlFor(first), 0), 0u);
  for (int i = 0; i < 500 && location.rfind(urlFor(other), 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    location = signedGet("join", query).location;
  }
  EXPECT_EQ(location.rfind(urlFor(other), 0), 0u) << location;
}

TEST_F(BbbApiTest, JoinUnknownMeetingIsNotFound) {
  HttpResponse r = signedGet("join", "meetingID=nope&fullName=A");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.location.empty());
  EXPECT_EQ(field(r, "messageKey"), "notFound");
}

TEST_F(BbbApiTest, ApiRootAnswersTheVersionWithoutChecksum) {
  HttpRequest req = get("", "");
  req.path = "/bigbluebutton/api";
  HttpResponse r = handle(req, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "returncode"), "SUCCESS");
  EXPECT_EQ(field(r, "version"), "2.0");
  EXPECT_EQ(field(r, "apiVersion"), "2.0");
  EXPECT_EQ(field(r, "build"), "");
}

TEST_F(BbbApiTest, ApiRootShowsTheBuildNumber) {
  config_.api.buildNumber = "sb-42";
  HttpRequest req = get("", "");
  req.method = "POST";
  EXPECT_EQ(field(handle(req, ""), "build"), "sb-42");
}

TEST_F(BbbApiTest, GetMeetingsDisabledAnswersNoMeetingsWithoutChecksum) {
  config_.api.getMeetingsDisabled = true;
  HttpResponse r = handle(get("getMeetings", ""), "getMeetings");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS");
  EXPECT_EQ(field(r, "messageKey"), "noMeetings");
  EXPECT_NE(r.payload().find("<meetings/>"), std::string::npos);
  EXPECT_TRUE(bbb_.pollRounds().empty());
}

TEST_F(BbbApiTest, GetMeetingsWithoutChecksumIsChecksumError) {
  EXPECT_EQ(field(handle(get("getMeetings", ""), "getMeetings"), "messageKey"), "checksumError");
}

TEST_F(BbbApiTest, GetMeetingsWithLeadingAmpersandChecksum) {
  ServerPoll poll;
  poll.meetings = {fake::polledMeeting("m-a", 3, 0)};
  bbb_.polls[urlFor("s1")] = poll;
  std::string cs = computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", kSecret);
  HttpResponse r = handle(get("getMeetings", "&checksum=" + cs), "getMeetings");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS") << r.payload();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.payload().c_str()));
  EXPECT_STREQ(doc.child("response").child("meetings").child("meeting").child_value("meetingID"),
               "m-a");
}

// A listing of any size says it varies by Accept-Encoding; one worth compressing goes out gzipped
// to a client that accepts it.
TEST_F(BbbApiTest, GetMeetingsIsGzippedForClientsThatAcceptIt) {
  ServerPoll poll;
  for (int i = 0; i < 40; ++i)
    poll.meetings.push_back(fake::polledMeeting("m-" + std::to_string(i), 3, 0));
  bbb_.polls[urlFor("s1")] = poll;
  HttpRequest plainRequest = get("getMeetings", sign("getMeetings", ""));
  HttpResponse plain = handle(plainRequest, "getMeetings");
  EXPECT_TRUE(plain.variesByEncoding);
  EXPECT_EQ(plain.contentEncoding, "");
  ASSERT_GE(plain.payload().size(), BbbApi::kGzipMinBytes) << plain.payload();
  HttpRequest gzipRequest = plainRequest;
  gzipRequest.acceptEncoding = "br, gzip;q=0.8";
  HttpResponse packed = handle(gzipRequest, "getMeetings");
  EXPECT_TRUE(packed.variesByEncoding);
  EXPECT_EQ(packed.contentEncoding, "gzip");
  EXPECT_EQ(packed.payload().substr(0, 2), "\x1f\x8b");
  EXPECT_LT(packed.payload().size(), plain.payload().size());
  auto again = gzipCompress(plain.payload());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(packed.payload(), *again) << "the plain listing, gzipped";
  EXPECT_EQ(handle(gzipRequest, "getMeetings").payload(), packed.payload());
  gzipRequest.acceptEncoding = "gzip;q=0";
  EXPECT_EQ(handle(gzipRequest, "getMeetings").contentEncoding, "");
  // Callers at once, each with a listing of its own (answered live here) or the same one: each
  // gets its listing gzipped.
  gzipRequest.acceptEncoding = "gzip";
  std::vector<std::future<HttpResponse>> calls;
  for (int i = 0; i < 8; ++i) {
    calls.push_back(
        std::async(std::launch::async, [&] { return handle(gzipRequest, "getMeetings"); }));
  }
  for (auto& c : calls) EXPECT_EQ(c.get().payload(), packed.payload());
}

// GET_MEETINGS_CONCURRENCY: answers handed to the HTTP layer at once (the pool has 2 workers).
TEST_F(BbbApiTest, GetMeetingsAnswersAreHandedOverAFewAtATime) {
  for (int bound : {1, 0}) {
    SCOPED_TRACE(bound);
    config_.api.getMeetingsConcurrency = bound;
    if (api_) replaced_.push_back(std::move(api_));
    std::atomic<int> sending{0}, most{0}, done{0};
    Reply slowClient = [&](HttpResponse r) {
      EXPECT_EQ(field(r, "returncode"), "SUCCESS");
      int now = ++sending;
      most = std::max(most.load(), now);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      --sending;
      ++done;
    };
    HttpRequest request = get("getMeetings", sign("getMeetings", ""));
    for (int i = 0; i < 4; ++i) api().handle(request, "getMeetings", slowClient);
    for (int i = 0; i < 200 && done < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(done.load(), 4);
    EXPECT_EQ(most.load(), bound == 1 ? 1 : 2);
  }
}

TEST_F(BbbApiTest, SmallAndErrorAnswersOfGetMeetingsAreNeverGzipped) {
  HttpRequest request = get("getMeetings", sign("getMeetings", ""));
  request.acceptEncoding = "gzip";
  HttpResponse none = handle(request, "getMeetings");  // no servers: a few hundred bytes
  EXPECT_EQ(field(none, "returncode"), "SUCCESS");
  EXPECT_EQ(none.contentEncoding, "");
  request.rawQuery = "checksum=wrong";
  HttpResponse refused = handle(request, "getMeetings");
  EXPECT_EQ(field(refused, "messageKey"), "checksumError");
  EXPECT_EQ(refused.contentEncoding, "");
}

TEST_F(BbbApiTest, IsMeetingRunningForAnUnknownMeeting) {
  HttpResponse r = signedGet("isMeetingRunning", "meetingID=nobody");
  EXPECT_EQ(field(r, "returncode"), "SUCCESS");
  EXPECT_EQ(field(r, "running"), "false");
  EXPECT_TRUE(bbb_.calls().empty());
}

// ---- routeRequest
// --------------------------------------------------------------------------------

class RouteRequestTest : public BbbApiTest {
 protected:
  HttpResponse route(const std::string& path, const std::string& rawQuery = "") {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.rawQuery = rawQuery;
    OpsApi ops(servers_, rtc_, metrics_, ready_, workers_);
    RouterHandlers handlers;
    handlers.api = &api();
    handlers.ops = &ops;
    handlers.metrics = &metrics_;
    return await([&](const Reply& reply) { routeRequest(handlers, req, reply); });
  }

  ReadinessCheck ready_ = [] { return Readiness{}; };
  RtcBalancer rtc_{servers_, clock_, config_.rtc};
  Metrics metrics_;
};

TEST_F(RouteRequestTest, HealthCheckAnswersLikeScalelite) {
  EXPECT_EQ(route("/health_check").body, "success\n");
  ready_ = [] { return Readiness{.ready = true, .degraded = "redis down", .reason = ""}; };
  HttpResponse r = route("/health_check");
  EXPECT_EQ(r.status, 200) << "Scalelite answers 200 and probes read the body";
  EXPECT_EQ(r.payload(), "Health Check Failure: redis down\n");
}

TEST_F(RouteRequestTest, EveryAnswerIsCountedWithABoundedCallLabel) {
  route("/healthz");
  route("/no/such/path");
  route("/another-client-chosen-path");
  route("/bigbluebutton/api/isMeetingRunning", "meetingID=x");
  std::string text = metrics_.render({});
  EXPECT_NE(text.find(R"(switchboard_requests_total{call="healthz",result="OK"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(switchboard_requests_total{call="other",result="404"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(switchboard_requests_total{call="isMeetingRunning",result="checksumError"} 1)"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("no/such"), std::string::npos) << "client paths never become labels";
}

TEST_F(RouteRequestTest, Healthz) {
  HttpResponse r = route("/healthz");
  EXPECT_EQ(r.status, 200);
}

TEST_F(RouteRequestTest, ReadyzOk) { EXPECT_EQ(route("/readyz").status, 200); }

TEST_F(RouteRequestTest, ReadyzFailsOnlyWhenTheRouterCannotServe) {
  ready_ = [] {
    return Readiness{.ready = false, .degraded = "", .reason = "redis down; postgres down"};
  };
  HttpResponse r = route("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.payload().find("redis down; postgres down"), std::string::npos) << r.payload();
  EXPECT_EQ(route("/healthz").status, 200) << "liveness does not depend on the stores";
}

// Issue 17 item 5: a router serving from the store that is left is ready, and says it is
// degraded (a load balancer checking /readyz must not take every router out during an outage
// they survive).
TEST_F(RouteRequestTest, ReadyzIsOkButDegradedWhileOneStoreIsDown) {
  ready_ = [] { return Readiness{.ready = true, .degraded = "redis down", .reason = ""}; };
  HttpResponse r = route("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.payload(), "OK degraded: redis down\n");
}

TEST_F(RouteRequestTest, UnknownPathIs404) {
  EXPECT_EQ(route("/nope").status, 404);
  EXPECT_EQ(route("/bigbluebuttonx").status, 404);
}

TEST_F(RouteRequestTest, ApiRootWithAndWithoutSlash) {
  for (const char* path : {"/bigbluebutton/api", "/bigbluebutton/api/"}) {
    HttpResponse r = route(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(field(r, "returncode"), "SUCCESS") << path;
    EXPECT_EQ(field(r, "version"), "2.0") << path;
  }
}

TEST_F(RouteRequestTest, ApiCallsReachTheApi) {
  HttpResponse r =
      route("/bigbluebutton/api/isMeetingRunning", sign("isMeetingRunning", "meetingID=x"));
  EXPECT_EQ(field(r, "running"), "false") << r.payload();
  EXPECT_EQ(field(route("/bigbluebutton/api/isMeetingRunning", "meetingID=x"), "messageKey"),
            "checksumError");
}

TEST_F(RouteRequestTest, OtherBigbluebuttonPathsAreUnsupportedRequest) {
  HttpResponse r = route("/bigbluebutton/presentation/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "messageKey"), "unsupportedRequest");
}

// Every worker waits (on slow servers) and the queue holds its bound: a call that needs a worker
// is refused at once with BBB's error XML instead of queueing without limit.
TEST_F(BbbApiTest, ABusyRouterRefusesCallsThatNeedAWorkerAtOnce) {
  api();  // builds the router
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 1, 1);
    pool.post([&] {
      started = true;
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!started && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(started);
    pool.post([&] { ++ran; });  // waits for the thread: the queue now holds its bound
    BbbApi busy(*router_, config_.api, pool);
    HttpResponse r = await([&](const Reply& reply) {
      busy.handle(get("create", sign("create", "meetingID=m1&name=M")), "create", reply);
    });
    EXPECT_EQ(field(r, "returncode"), "FAILED");
    EXPECT_EQ(field(r, "messageKey"), "internalError");
    EXPECT_EQ(r.access.result, "internalError(busy)");
    EXPECT_TRUE(bbb_.callsOf("create").empty());
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
  }
  EXPECT_EQ(ran, 1) << "what was queued still ran";
  // With room again, the same call goes through.
  HttpResponse ok = signedGet("create", "meetingID=m1&name=M");
  EXPECT_EQ(field(ok, "returncode"), "SUCCESS");
}

}  // namespace
}  // namespace sb
