// Reading BBB XML answers (pugixml). Pure functions; no I/O.
#pragma once

#include <string>
#include <vector>

#include "core/bbb_client.h"
#include "core/result.h"

namespace sb {

// The deepest element nesting read from a BBB server. BBB's answers nest at most 7 deep
// (response, meetings, meeting, attendees, attendee, customdata, item); pugixml has no bound of
// its own, so a deeper answer is refused before it is parsed (kInternalError).
inline constexpr size_t kMaxXmlDepth = 64;

// Fills returnCode and messageKey of `reply` from its body. kInternalError when the body is not
// XML with a <response><returncode>.
Status readReplyHeader(BbbReply& reply);

// The meetings of a getMeetings answer. kInternalError when the body is not a SUCCESS answer
// (no <response><returncode> at all, or FAILED). A SUCCESS answer that is not entirely readable
// (not well-formed XML, bytes that are not XML text) still gives every meeting element that can
// be read on its own (without its metadata if need be); `unreadableCount` (optional) counts the
// elements that could not. A server that answers is never taken for dead over one element.
Result<std::vector<PolledMeeting>> parseGetMeetings(const std::string& body,
                                                    int* unreadableCount = nullptr);

// <bbbVersion> of the API root answer ("" when absent).
Result<std::string> parseBbbVersion(const std::string& body);

}  // namespace sb
