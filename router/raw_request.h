// The raw request line of a Pistache request, which Pistache 0.0.5 does not expose.
//
// BBB checksums cover the query string exactly as the client sent it (order, duplicates, '+'
// versus '%20'), but Pistache only offers an unordered, first-wins map. The bytes of the request
// as received still sit in the per-connection parser's buffer while onRequest runs; this reads
// the request target from there. Call it only inside Http::Handler::onRequest, before the writer
// is moved elsewhere (the parser is reset when onRequest returns).
// Guarded by BbbApiTest.RawQueryBytesAreVerifiedAsSent (tests/integration/bbb_api_test.cc), which
// fails loudly if the bytes ever differ.
#pragma once

#include <pistache/http.h>

#include <string>

namespace sb {

// The request target as sent ("/bigbluebutton/api/create?name=a+b&..."). Empty when the buffer
// cannot be read (then the caller must answer an error, never guess).
std::string rawRequestTarget(const Pistache::Http::ResponseWriter& response);

// Splits a raw target into path and raw query (without '?'; empty when none). Runs of '/' in
// the path are collapsed to one ("/bigbluebutton/api//join" is "/bigbluebutton/api/join").
void splitTarget(const std::string& target, std::string& path, std::string& rawQuery);

}  // namespace sb
