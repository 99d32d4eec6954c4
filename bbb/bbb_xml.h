// Reading BBB XML answers (pugixml). Pure functions; no I/O.
#pragma once

#include <string>
#include <vector>

#include "core/bbb_client.h"
#include "core/result.h"

namespace sb {

// Fills returnCode and messageKey of `reply` from its body. kInternalError when the body is not
// XML with a <response><returncode>.
Status readReplyHeader(BbbReply& reply);

// The meetings of a getMeetings answer. kInternalError when the body is not a SUCCESS answer.
Result<std::vector<PolledMeeting>> parseGetMeetings(const std::string& body);

// <bbbVersion> of the API root answer ("" when absent).
Result<std::string> parseBbbVersion(const std::string& body);

}  // namespace sb
