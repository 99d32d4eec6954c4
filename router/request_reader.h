// Reads HTTP/1.x requests from a connection's bytes, in front of Pistache's parser.
//
// Pistache 0.0.5 parses request lines and headers in ways a hostile client can exploit: a chunked
// body of many small chunks spins a reactor thread for good, headers real clients send (`Cookie:
// flag`, `Cache-Control: x`, `Date: yesterday`, `Content-Length: -1`, `Accept: *; q=.`) answer
// 500 or 415 with library text, a garbage request line is answered only by a timeout, and a head
// arriving in many reads is re-parsed from its start each time. So the HTTP front gives Pistache
// none of the client's bytes: this reader takes them, checks the request line and headers itself,
// keeps the few headers the handlers use, reads a Content-Length body within the limit the
// request's handler allows, and hands over one whole request at a time (or a refusal with a
// short fixed text). Pistache then only ever parses a fixed, minimal request.
//
// Costs are linear in the bytes received: the head is scanned once as bytes arrive, and parsed
// once when complete. Memory is bounded by `maxHeadBytes` plus the body limit.
// Not thread-safe: one reader per connection, used by that connection's reactor thread.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sb {

// One request as the client sent it: the handlers' view, no Pistache type.
struct RequestHead {
  std::string method;  // "GET", "POST", ... (known methods only)
  // Origin form, bytes as sent: "/bigbluebutton/api/join?meetingID=a&..." (an absolute-form
  // target "http://host/path?q" is reduced to "/path?q"; "*" only with OPTIONS).
  std::string target;
  bool http10 = false;
  bool keepAlive = true;       // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive
  std::string contentType;     // "" when absent; these three keep the client's last value
  std::string authorization;   // "" when absent
  std::string acceptEncoding;  // "" when absent
  std::string forwardedFor;    // X-Forwarded-For, "" when absent (trusted only behind a proxy)
  std::string range;           // Range ("bytes=0-99"), "" when absent (playback files)
  // The public host the client asked for: X-Forwarded-Host (a proxy's) or else Host; "" when
  // absent. And X-Forwarded-Proto as sent. Both for URLs in answers only, never for trust.
  std::string host;
  std::string forwardedProto;
  std::string cookie;       // Cookie (several headers joined with "; "), "" when absent
  std::string originalUri;  // X-Original-URI (nginx's auth_request), "" when absent
  size_t contentLength = 0;
  bool expectsContinue = false;  // "Expect: 100-continue" (HTTP/1.1): the client waits for it
  std::string body;
  // When the body went to a file instead (BodyPlan::fileFolder): its path, owned by whoever
  // takes the request (it removes or moves the file); `body` is then empty.
  std::string bodyFile;
};

// Why a request is refused: the status and a short fixed text, never the client's bytes.
struct RequestRefusal {
  int status = 400;
  std::string text;
};

// What a request's handler accepts as body, decided from its head alone.
struct BodyPlan {
  BodyPlan(size_t maxBytes = 0) : limit(maxBytes) {}  // NOLINT: a bare limit is a plan
  size_t limit = 0;  // past it: 413 before a byte of the body is kept
  // Not empty: the body is written as it arrives to a new file in this folder (memory stays
  // bounded whatever its size: a recording upload). A write failure refuses the request (507
  // when the disk is full) and removes the file, as does a connection closed mid-body.
  std::string fileFolder;
  // Set: the request is refused with it before its body is read (e.g. 401 for an upload with
  // the wrong token: the client learns it without sending gigabytes).
  std::optional<RequestRefusal> refusal;
};

struct RequestLimits {
  size_t maxHeadBytes = 64 * 1024;  // request line and headers together (431/414 past it)
  size_t maxHeaders = 100;          // 431 past it
};

class RequestReader {
 public:
  // The largest body the handler of a request accepts, decided from its head alone (the method,
  // the target, the Authorization header): a call that needs no body allows 0 or a small bound,
  // a signed BBB call the configured maximum. Past it the request is refused with 413 before any
  // byte of the body is kept.
  using BodyLimit = std::function<BodyPlan(const RequestHead&)>;

  enum class Step {
    kNeedMore,  // every byte received so far is consumed; feed more
    kRequest,   // take() returns the next whole request
    kRefused,   // refusal() says why; answer it and close the connection (nothing more is read)
  };

  RequestReader(RequestLimits limits, BodyLimit bodyLimit);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Appends bytes received from the connection. After a refusal they are ignored.
  void feed(std::string_view bytes);
  // Advances over the bytes fed so far. Call until kNeedMore: one read may hold several requests.
  Step next();
  // The request next() just returned kRequest for (moved out; the reader goes on to the next).
  RequestHead take();
  const RequestRefusal& refusal() const { return refusal_; }
  // True once per request whose client asked for "100 Continue" before sending its body, when
  // its head has been read and accepted (body size within the limit) and no body byte came yet:
  // the caller may then send the interim answer (RFC 9110 §10.1.1). Call after kNeedMore.
  bool takeContinue() { return std::exchange(continueDue_, false); }

 private:
  enum class State { kHead, kBody, kReady, kRefused };

  Step refuse(int status, std::string text);
  Step parseHead(std::string_view head);
  // Starts writing the current body to a new file in `folder`; false when it cannot be made.
  bool openBodyFile(const std::string& folder);
  // Appends body bytes to the file; false (refused) when they cannot be written.
  bool writeBodyFile(std::string_view bytes);
  void dropBodyFile();

  RequestLimits limits_;
  BodyLimit bodyLimit_;
  State state_ = State::kHead;
  std::string buffer_;  // bytes not yet consumed
  size_t scanned_ = 0;  // how far buffer_ has been searched for the end of the head
  RequestHead current_;
  RequestRefusal refusal_;
  bool continueDue_ = false;
  int bodyFd_ = -1;         // the body file being written, -1 when the body goes to memory
  size_t bodyWritten_ = 0;  // bytes of the body written to the file
};

// Splits an origin-form target into path and raw query (without '?'; empty when none; a fragment
// dropped). Runs of '/' in the path are collapsed to one ("/bigbluebutton/api//join" is
// "/bigbluebutton/api/join"), as Scalelite (Rails) does; the query keeps its bytes (checksums
// cover them).
void splitTarget(std::string_view target, std::string& path, std::string& rawQuery);

}  // namespace sb
