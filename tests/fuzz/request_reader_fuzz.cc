// The raw bytes of an HTTP connection: the input is what a client sends (one or several requests,
// or garbage), e.g. "GET /bigbluebutton/api/join?meetingID=a HTTP/1.1\r\nHost: x\r\n\r\n". Covers
// RequestReader and splitTarget (router/request_reader.h), which see every byte before any handler
// does. Invariants, from the header's contract: the same bytes give the same requests and refusal
// however the reads cut them (all at once, in uneven pieces, byte by byte); a request's body is
// exactly its Content-Length and within its handler's limit; a refusal is a 4xx/5xx with a short
// fixed text and stays a refusal; a split target's path has no "//" and its query no fragment.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "router/request_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The body a request's handler would allow, from its head alone, as the HTTP front decides it: a
// signed BBB call gets a large bound, everything else a small one.
size_t bodyLimit(const sb::RequestHead& head) {
  if (head.target.starts_with("/bigbluebutton/api/")) return 64 * 1024;
  if (head.target.starts_with("/switchboard/api/")) return 4096;
  return 16;
}

struct Outcome {
  std::vector<sb::RequestHead> requests;
  bool refused = false;
  sb::RequestRefusal refusal;
};

bool sameRequest(const sb::RequestHead& a, const sb::RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.http10 == b.http10 &&
         a.keepAlive == b.keepAlive && a.contentType == b.contentType &&
         a.authorization == b.authorization && a.acceptEncoding == b.acceptEncoding &&
         a.forwardedFor == b.forwardedFor && a.contentLength == b.contentLength && a.body == b.body;
}

bool sameOutcome(const Outcome& a, const Outcome& b) {
  if (a.refused != b.refused || a.requests.size() != b.requests.size()) return false;
  if (a.refused && (a.refusal.status != b.refusal.status || a.refusal.text != b.refusal.text)) {
    return false;
  }
  return std::equal(a.requests.begin(), a.requests.end(), b.requests.begin(), sameRequest);
}

// Feeds `bytes` in pieces of the given sizes (cycled), advancing after each, as the HTTP front does
// after each read.
Outcome read(std::string_view bytes, const std::vector<size_t>& pieces) {
  sb::RequestLimits limits;
  limits.maxHeadBytes = 2048;  // small enough for the fuzzer's inputs to reach the limits
  limits.maxHeaders = 20;
  sb::RequestReader reader(limits, bodyLimit);
  Outcome out;
  size_t at = 0;
  for (size_t i = 0; at < bytes.size() && !out.refused; ++i) {
    const size_t n = std::min(pieces[i % pieces.size()], bytes.size() - at);
    reader.feed(bytes.substr(at, n));
    at += n;
    while (true) {
      const auto step = reader.next();
      if (step == sb::RequestReader::Step::kNeedMore) break;
      if (step == sb::RequestReader::Step::kRefused) {
        out.refused = true;
        out.refusal = reader.refusal();
        break;
      }
      out.requests.push_back(reader.take());
    }
  }
  if (out.refused) {
    // Nothing more is read after a refusal.
    reader.feed("GET / HTTP/1.1\r\n\r\n");
    FUZZ_CHECK(reader.next() == sb::RequestReader::Step::kRefused);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const Outcome whole = read(bytes, {bytes.size() + 1});
  FUZZ_CHECK(sameOutcome(whole, read(bytes, {1})));
  FUZZ_CHECK(sameOutcome(whole, read(bytes, {3, 17, 1, 64, 2})));

  for (const auto& request : whole.requests) {
    FUZZ_CHECK(!request.method.empty());
    // Origin form, or "*" (asterisk form, passed on for the handlers to refuse).
    FUZZ_CHECK(request.target.starts_with("/") || request.target == "*");
    FUZZ_CHECK(request.body.size() == request.contentLength);
    FUZZ_CHECK(request.contentLength <= bodyLimit(request));
    std::string path, query;
    sb::splitTarget(request.target, path, query);
    FUZZ_CHECK(path.find("//") == std::string::npos);
    FUZZ_CHECK(path.find('?') == std::string::npos);
    FUZZ_CHECK(query.find('#') == std::string::npos);
    FUZZ_CHECK(path.size() + query.size() <= request.target.size());
  }
  if (whole.refused) {
    FUZZ_CHECK(whole.refusal.status >= 400 && whole.refusal.status < 600);
    FUZZ_CHECK(!whole.refusal.text.empty() && whole.refusal.text.size() < 100);
  }
  // Every request takes at least "GET / HTTP/1.1\n\n" (16 bytes).
  FUZZ_CHECK(whole.requests.size() <= size / 16);

  // splitTarget on its own, with any bytes.
  std::string path, query;
  sb::splitTarget(bytes, path, query);
  FUZZ_CHECK(path.find("//") == std::string::npos && query.find('#') == std::string::npos);
  return 0;
}
