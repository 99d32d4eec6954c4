// The HTTP front against hostile and odd requests, over real sockets (issue 18 items 1, 3, 10,
// 14): every request gets an answer at once, a 4xx with a short fixed text when it cannot be
// read, and no request stops the router answering others.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/raw_http.h"

namespace sbtest {
namespace {

using Clock = std::chrono::steady_clock;

class HttpFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = std::make_unique<Router>([](sb::Config& c) { c.http.threads = 2; });
    port_ = router_->service().port();
  }
  bool healthy() { return statusOf(roundTrip(port_, "GET /healthz HTTP/1.1\r\n\r\n")) == 200; }

  std::unique_ptr<Router> router_;
  uint16_t port_ = 0;
};

// Item 1: chunked bodies of many one-byte chunks left reactor threads spinning for good; four of
// them stopped a router with two reactor threads.
TEST_F(HttpFrontTest, ChunkedBodiesAreRefusedAndTheRouterGoesOnAnswering) {
  std::string chunks;
  for (int i = 0; i < 2000; ++i) chunks += "1\r\na\r\n";
  chunks += "0\r\n\r\n";
  for (int i = 0; i < 4; ++i) {
    std::string answer = roundTrip(
        port_,
        "POST /bigbluebutton/api/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
    EXPECT_EQ(statusOf(answer), 411) << answer;
    EXPECT_EQ(bodyOf(answer), "Length required\n");
  }
  int answered = 0;
  for (int i = 0; i < 20; ++i) answered += healthy() ? 1 : 0;
  EXPECT_EQ(answered, 20);
}

// Item 3: headers real clients send answered 500 with library text (or 415).
TEST_F(HttpFrontTest, OddHeadersNeverAnswer500) {
  for (std::string header :
       {"Cookie: flag", "Cache-Control: x", "Date: yesterday", "Host: lb.example.com:abc",
        "Host: [::1", "Accept: text/html, image/gif, image/jpeg, *; q=."}) {
    std::string answer = roundTrip(port_, "GET /healthz HTTP/1.1\r\n" + header + "\r\n\r\n");
    EXPECT_EQ(statusOf(answer), 200) << header << "\n" << answer;
  }
  struct Case {
    std::string header;
    int status;
  };
  for (const Case& c : {Case{"Content-Length: -1", 400}, Case{"Content-Length: abc", 400},
                        Case{"Content-Length: 99999999999999999999", 413},
                        Case{"Content-Length: 1000000000000", 413}}) {
    std::string answer =
        roundTrip(port_, "POST /bigbluebutton/api/create HTTP/1.1\r\n" + c.header + "\r\n\r\n");
    EXPECT_EQ(statusOf(answer), c.status) << c.header << "\n" << answer;
    EXPECT_EQ(bodyOf(answer).find("basic_string"), std::string::npos);
    EXPECT_EQ(bodyOf(answer).find("stoull"), std::string::npos);
    EXPECT_EQ(bodyOf(answer).find("bad_alloc"), std::string::npos);
  }
}

// Item 14: garbage request lines were answered only by a timeout, 100-130 s later.
TEST_F(HttpFrontTest, GarbageIsAnsweredAtOnce) {
  for (std::string garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01\x00", 7),
        std::string("GET /healthz\r\n\r\n"), std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")}) {
    auto started = Clock::now();
    std::string answer = roundTrip(port_, garbage, std::chrono::seconds(3));
    EXPECT_GE(statusOf(answer), 400) << answer;
    EXPECT_LT(statusOf(answer), 600) << answer;
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
  }
  EXPECT_TRUE(healthy());
}

// Item 14: an absolute-form target answered 404.
TEST_F(HttpFrontTest, AbsoluteFormTargetsReachTheirHandler) {
  std::string answer =
      roundTrip(port_, "GET http://lb.example.com/bigbluebutton/api HTTP/1.1\r\n\r\n");
  EXPECT_EQ(statusOf(answer), 200) << answer;
  EXPECT_NE(bodyOf(answer).find("<returncode>SUCCESS</returncode>"), std::string::npos);
}

// Item 14: HEAD answers carried a body, which broke keep-alive clients: the next answer on the
// same connection starts right after the HEAD answer's head.
TEST_F(HttpFrontTest, HeadAnswersHaveNoBodyAndKeepAliveGoesOn) {
  for (std::string path : {"/", "/healthz", "/metrics", "/bigbluebutton/api", "/stat",
                           "/switchboard/api/v1/servers", "/rtcloadbalance"}) {
    int fd = connectLoopback(port_);
    ASSERT_GE(fd, 0);
    sendAll(fd, "HEAD " + path + " HTTP/1.1\r\n\r\n");
    std::string head = readAnswer(fd, std::chrono::milliseconds(1500));
    ASSERT_NE(head.find("\r\n\r\n"), std::string::npos) << path;
    EXPECT_EQ(bodyOf(head), "") << path;
    sendAll(fd, "GET /healthz HTTP/1.1\r\n\r\n");
    std::string next = readAnswer(fd);
    EXPECT_EQ(statusOf(next), 200) << path << ": " << next;
    ::close(fd);
  }
}

// Item 10: an unsigned body is refused before it is read or kept: a 32 MB POST without a valid
// checksum is answered at once from its head, without the router reading 32 MB.
TEST_F(HttpFrontTest, UnsignedBodiesAreRefusedBeforeTheyAreRead) {
  int fd = connectLoopback(port_);
  ASSERT_GE(fd, 0);
  sendAll(fd,
          "POST /bigbluebutton/api/create?meetingID=x&checksum=0 HTTP/1.1\r\n"
          "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 33554432\r\n\r\n");
  std::string answer = readAnswer(fd);
  ::close(fd);
  EXPECT_EQ(statusOf(answer), 413) << answer;
}

// Its counterpart: a signed create may carry a body up to MAX_REQUEST_SIZE, and a small unsigned
// form body may carry the checksum itself (BBB accepts that).
TEST_F(HttpFrontTest, SignedAndSmallFormBodiesAreRead) {
  std::string url = router_->apiUrl("create", "meetingID=body-1&name=B");
  std::string target = url.substr(router_->base().size());
  std::string xml = "<modules><module name=\"presentation\"></module></modules>";
  std::string answer = roundTrip(port_, "POST " + target +
                                            " HTTP/1.1\r\nContent-Type: application/xml\r\n"
                                            "Content-Length: " +
                                            std::to_string(xml.size()) + "\r\n\r\n" + xml);
  EXPECT_EQ(statusOf(answer), 200) << answer;
  // No server is configured, so the create fails upstream, but only after its checksum passed.
  EXPECT_EQ(bodyOf(answer).find("checksumError"), std::string::npos) << answer;

  std::string form = "meetingID=x&checksum=0";
  answer = roundTrip(port_,
                     "POST /bigbluebutton/api/isMeetingRunning HTTP/1.1\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                         std::to_string(form.size()) + "\r\n\r\n" + form);
  EXPECT_EQ(statusOf(answer), 200) << answer;
  EXPECT_NE(bodyOf(answer).find("checksumError"), std::string::npos) << answer;
}

// Bytes that are not a path a handler knows answer 400 or 404, never 500.
TEST_F(HttpFrontTest, AnyBytesInThePathAnswer4xx) {
  for (std::string path : {"/%FF", "/\xff", "/switchboard/api/v1/servers/%FF",
                           "/switchboard/api/v1/servers/\xff\xfe", "/bigbluebutton/api/\xff"}) {
    std::string answer = roundTrip(port_, "GET " + path + " HTTP/1.1\r\n\r\n");
    int status = statusOf(answer);
    EXPECT_TRUE(status == 400 || status == 401 || status == 404 ||
                (status == 200 && bodyOf(answer).find("FAILED") != std::string::npos))
        << path << ": " << answer;
  }
}

// A head that arrives a few bytes at a time (slowly) is still read whole.
TEST_F(HttpFrontTest, AHeadInManySmallReadsIsRead) {
  int fd = connectLoopback(port_);
  ASSERT_GE(fd, 0);
  std::string request = "GET /healthz HTTP/1.1\r\nX-Padding: " + std::string(500, 'p') + "\r\n\r\n";
  for (size_t i = 0; i < request.size(); i += 7) {
    sendAll(fd, request.substr(i, 7));
    if (i % 140 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(statusOf(readAnswer(fd)), 200);
  ::close(fd);
}

// Item 4: a server URL of the form http://user:PASSWORD@host showed the password on /stat and
// /metrics, which need no token. No listing, metric or log line shows it (the log lines are
// checked by the secret scan after the suite: tests/integration/secret_scan.sh).
TEST(ServerUrlCredentialsTest, NeverShown) {
  Sim sim(1);
  Router router;
  std::string url = sim.servers()[0].url;
  std::string withCredentials = "http://operator:UrlPassw0rd@" + url.substr(url.find("://") + 3);
  auto added = router.admin(
      "POST", "/servers",
      nlohmann::json{
          {"url", withCredentials}, {"secret", sim.servers()[0].secret}, {"state", "enabled"}}
          .dump());
  ASSERT_EQ(added.status, 201) << added.body;
  router.service().poller().pollOnce();
  ASSERT_EQ(xmlField(router.call("create", "meetingID=cred-1&name=C").body, "returncode"),
            "SUCCESS");
  for (std::string path : {"/stat", "/metrics", "/healthz", "/readyz"}) {
    auto r = httpGet(router.base() + path);
    EXPECT_EQ(r.body.find("UrlPassw0rd"), std::string::npos) << path;
  }
  for (std::string path : {"/servers", "/status", "/meetings"}) {
    auto r = router.admin("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find("UrlPassw0rd"), std::string::npos) << path << ": " << r.body;
  }
  auto listing = router.call("getMeetings", "");
  EXPECT_EQ(listing.body.find("UrlPassw0rd"), std::string::npos);
}

}  // namespace
}  // namespace sbtest
