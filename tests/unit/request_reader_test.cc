#include "router/request_reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sb {
namespace {

constexpr size_t kBody = 1000;

RequestReader reader(RequestLimits limits = {}) {
  return RequestReader(limits, [](const RequestHead&) { return kBody; });
}

// Feeds `bytes` in pieces of `piece` bytes and collects every request and the refusal, if any.
struct Outcome {
  std::vector<RequestHead> requests;
  std::optional<RequestRefusal> refusal;
};

Outcome read(RequestReader& r, const std::string& bytes, size_t piece = 1 << 20) {
  Outcome out;
  for (size_t i = 0; i < bytes.size(); i += piece) {
    r.feed(std::string_view(bytes).substr(i, piece));
    for (;;) {
      auto step = r.next();
      if (step == RequestReader::Step::kNeedMore) break;
      if (step == RequestReader::Step::kRefused) {
        out.refusal = r.refusal();
        return out;
      }
      out.requests.push_back(r.take());
    }
  }
  return out;
}

Outcome read(const std::string& bytes, size_t piece = 1 << 20) {
  auto r = reader();
  return read(r, bytes, piece);
}

int refusedWith(const std::string& bytes) {
  auto out = read(bytes);
  return out.refusal ? out.refusal->status : 0;
}

TEST(RequestReaderTest, ReadsARequestWithTheHeadersTheHandlersUse) {
  auto out = read(
      "GET /bigbluebutton/api/join?meetingID=a+b&checksum=x HTTP/1.1\r\n"
      "Host: lb.example.com\r\nAuthorization: Bearer t\r\nAccept-Encoding: gzip\r\n"
      "Content-Type: text/xml\r\nX-Forwarded-For: 10.0.0.1\r\nCookie: flag\r\n\r\n");
  ASSERT_FALSE(out.refusal);
  ASSERT_EQ(out.requests.size(), 1u);
  const RequestHead& h = out.requests[0];
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/bigbluebutton/api/join?meetingID=a+b&checksum=x");
  EXPECT_EQ(h.authorization, "Bearer t");
  EXPECT_EQ(h.acceptEncoding, "gzip");
  EXPECT_EQ(h.contentType, "text/xml");
  EXPECT_EQ(h.forwardedFor, "10.0.0.1");
  EXPECT_TRUE(h.keepAlive);
  EXPECT_FALSE(h.http10);
}

TEST(RequestReaderTest, SameRequestWhateverTheReadSizes) {
  std::string bytes =
      "POST /bigbluebutton/api/create?x=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "GET /two HTTP/1.1\r\n\r\n";
  for (size_t piece : {1, 2, 3, 7, 64, 1 << 20}) {
    auto out = read(bytes, piece);
    ASSERT_FALSE(out.refusal) << piece;
    ASSERT_EQ(out.requests.size(), 2u) << piece;
    EXPECT_EQ(out.requests[0].body, "hello");
    EXPECT_EQ(out.requests[1].target, "/two");
  }
}

// Issue 18 item 3: headers real clients send, which Pistache answered with 500 and library text.
TEST(RequestReaderTest, HeadersPistacheRefusedAreIgnored) {
  for (std::string header :
       {"Cookie: flag", "Cache-Control: x", "Date: yesterday", "Host: lb.example.com:abc",
        "Host: [::1", "Accept: text/html, image/gif, image/jpeg, *; q=.", "If-Modified-Since: ?"}) {
    auto out = read("GET / HTTP/1.1\r\n" + header + "\r\n\r\n");
    EXPECT_FALSE(out.refusal) << header;
    EXPECT_EQ(out.requests.size(), 1u) << header;
  }
}

TEST(RequestReaderTest, BadContentLengthsAre4xx) {
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: 5abc\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), 413);
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n"), 413);
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n"), 413);
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
  EXPECT_EQ(read("POST / HTTP/1.1\r\nContent-Length: 0002\r\n\r\nab").requests.at(0).body, "ab");
}

// Issue 18 item 1: chunked bodies are refused before any is read.
TEST(RequestReaderTest, ChunkedBodiesAreRefusedWith411) {
  std::string chunks;
  for (int i = 0; i < 2000; ++i) chunks += "1\r\na\r\n";
  EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks), 411);
}

// Issue 18 item 14: garbage is answered at once, not after a timeout.
TEST(RequestReaderTest, GarbageRequestLinesAreRefusedAtOnce) {
  EXPECT_EQ(refusedWith("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET /\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET  / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET / HTTP/1.1 x\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET / FTP/1.0\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
  EXPECT_EQ(refusedWith("BREW /pot HTTP/1.1\r\n\r\n"), 501);
  EXPECT_EQ(refusedWith("G(T / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET /a\x01 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(refusedWith(std::string("GET / HTTP/1.1\r\nX: a\0z\r\n\r\n", 26)), 400);
}

// A TLS handshake on the plain port, or noise, is refused before any end of a head arrives.
TEST(RequestReaderTest, WhatCannotBeginARequestIsRefusedAtOnce) {
  EXPECT_EQ(refusedWith(std::string("\x16\x03\x01\x02\x00\x01\x00", 7)), 400);
  EXPECT_EQ(refusedWith("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 400);
  // Found by the fuzzer: the same bytes are refused alike however the reads split them.
  std::string longMethod = "GET / HTTP/1.1\r\n\r\nHEADrrrrrrrrrrrrrr / HTTP/1.1\r\n\r\n";
  for (size_t piece : {1, 5, 1 << 20}) {
    auto r = reader();
    auto out = read(r, longMethod, piece);
    EXPECT_EQ(out.requests.size(), 1u) << piece;
    ASSERT_TRUE(out.refusal) << piece;
    EXPECT_EQ(out.refusal->status, 400) << piece;
  }
  auto partial = read("GET /bigbluebutton/api/jo");
  EXPECT_FALSE(partial.refusal);
  EXPECT_TRUE(partial.requests.empty());
}

TEST(RequestReaderTest, AbsoluteFormTargetsAreReducedToTheirPath) {
  EXPECT_EQ(read("GET http://lb.example.com/bigbluebutton/api?x=1 HTTP/1.1\r\n\r\n")
                .requests.at(0)
                .target,
            "/bigbluebutton/api?x=1");
  EXPECT_EQ(read("GET HTTPS://lb:8443 HTTP/1.1\r\n\r\n").requests.at(0).target, "/");
  EXPECT_EQ(read("GET http://lb?a=b HTTP/1.1\r\n\r\n").requests.at(0).target, "/?a=b");
  EXPECT_EQ(refusedWith("GET ftp://lb/x HTTP/1.1\r\n\r\n"), 400);
}

TEST(RequestReaderTest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(read("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").requests.at(0).keepAlive);
  EXPECT_TRUE(
      read("GET / HTTP/1.1\r\nConnection: Upgrade, Keep-Alive\r\n\r\n").requests.at(0).keepAlive);
  EXPECT_FALSE(read("GET / HTTP/1.0\r\n\r\n").requests.at(0).keepAlive);
  EXPECT_TRUE(read("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.at(0).keepAlive);
}

TEST(RequestReaderTest, LenientLineEndingsAndLeadingEmptyLines) {
  auto out = read("\r\n\r\nGET /x HTTP/1.1\nHost: a\n\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].target, "/x");
}

// "Expect: 100-continue": due once the accepted head is read and before any body byte, for
// HTTP/1.1 only; never for a body past the limit (refused with 413 instead).
TEST(RequestReaderTest, AContinueIsDueOnlyBeforeAnAcceptedBody) {
  auto continueAfter = [](const std::string& bytes) {
    auto r = reader();
    r.feed(bytes);
    while (r.next() == RequestReader::Step::kRequest) r.take();
    return r.takeContinue();
  };
  const std::string head = "POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n";
  EXPECT_TRUE(continueAfter(head));
  EXPECT_FALSE(continueAfter(head + "ab"));  // the client sends its body already
  EXPECT_FALSE(
      continueAfter("POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_FALSE(continueAfter("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_FALSE(continueAfter("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
                             std::to_string(kBody + 1) + "\r\n\r\n"));
  auto r = reader();
  r.feed(head);
  EXPECT_EQ(r.next(), RequestReader::Step::kNeedMore);
  EXPECT_TRUE(r.takeContinue());
  EXPECT_FALSE(r.takeContinue());  // once
  r.feed("hello");
  ASSERT_EQ(r.next(), RequestReader::Step::kRequest);
  EXPECT_EQ(r.take().body, "hello");
}

TEST(RequestReaderTest, HeadsAreBounded) {
  RequestLimits limits;
  limits.maxHeadBytes = 200;
  limits.maxHeaders = 3;
  {
    auto r = reader(limits);
    EXPECT_EQ(read(r, "GET /" + std::string(300, 'a')).refusal->status, 414);
  }
  {
    auto r = reader(limits);
    EXPECT_EQ(read(r, "GET / HTTP/1.1\r\nX: " + std::string(300, 'a')).refusal->status, 431);
  }
  {
    auto r = reader(limits);
    EXPECT_EQ(read(r, "GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n").refusal->status,
              431);
  }
}

// Found by the fuzzer: a head whose end lies past the limit was refused 431 when read at once
// but 400 (its first line cannot begin a request) or 414 when read byte by byte.
TEST(RequestReaderTest, AHeadPastTheLimitIsRefusedAlikeHoweverItIsRead) {
  RequestLimits limits;
  limits.maxHeadBytes = 64;
  struct Case {
    std::string bytes;
    int status;
  };
  for (const Case& c :
       {Case{"PATCHpplication/json\r\nX: " + std::string(100, 'a') + "\r\n\r\n", 400},
        Case{"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
        Case{"GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", 431}}) {
    for (size_t piece : {1, 7, 1 << 20}) {
      auto r = reader(limits);
      auto out = read(r, c.bytes, piece);
      ASSERT_TRUE(out.refusal) << piece;
      EXPECT_EQ(out.refusal->status, c.status) << c.bytes << " in pieces of " << piece;
    }
  }
}

TEST(RequestReaderTest, TheBodyLimitDependsOnTheHead) {
  RequestReader r({}, [](const RequestHead& head) {
    return head.target.starts_with("/signed") ? size_t{100} : size_t{0};
  });
  auto ok = read(r, "POST /signed HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  EXPECT_EQ(ok.requests.size(), 1u);
  EXPECT_EQ(read(r, "POST /other HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").refusal->status, 413);
}

TEST(RequestReaderTest, NothingIsReadAfterARefusal) {
  auto r = reader();
  auto out = read(r, "NOPE\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(out.refusal);
  r.feed("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.next(), RequestReader::Step::kRefused);
}

// Issue 18 item 2 (the head's part): a head arriving one small read at a time is scanned once,
// not re-parsed from its start at each read. 4 MB in 4 KB reads finishes well inside a second;
// the quadratic reading took minutes.
TEST(RequestReaderTest, ALargeHeadInManyReadsCostsLinearTime) {
  RequestLimits limits;
  limits.maxHeadBytes = 8 << 20;
  auto r = reader(limits);
  std::string head = "GET /bigbluebutton/api/join?" + std::string(4 << 20, 'a') + " HTTP/1.1\r\n";
  for (int i = 0; i < 50; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  head += "\r\n";
  auto started = std::chrono::steady_clock::now();
  auto out = read(r, head, 4096);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(RequestReaderTest, SplitTargetCollapsesSlashesAndKeepsTheQuery) {
  std::string path, query;
  splitTarget("/bigbluebutton/api//join?a=%2F%2F&b=c#frag", path, query);
  EXPECT_EQ(path, "/bigbluebutton/api/join");
  EXPECT_EQ(query, "a=%2F%2F&b=c");
  splitTarget("/x#y", path, query);
  EXPECT_EQ(path, "/x");
  EXPECT_EQ(query, "");
}

}  // namespace
}  // namespace sb
