// The XML answers Switchboard writes itself (BBB's own answers are passed through untouched).
// Shaped like bbb-web's templates: no declaration, one element per line. Escaping is pugixml's.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace sb {

std::string renderError(const Error& error);
// GET /bigbluebutton/api: version and apiVersion 2.0 (and <build> when configured).
std::string renderVersion(const std::string& buildNumber);
// isMeetingRunning for a meeting nobody created: SUCCESS, running=false.
std::string renderNotRunning();
// getMeetings: the <meeting> elements of every server merged; noMeetings when there are none.
// Fragments that are not well-formed XML are skipped.
std::string renderMeetings(const std::vector<std::string>& meetingXml);

}  // namespace sb
