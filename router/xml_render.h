// The XML answers Switchboard writes itself (BBB's own answers are passed through, made safe on
// arrival by bbb/curl_bbb_client). Shaped like bbb-web's templates: no declaration, one element
// per line. Escaping is pugixml's; text is UTF-8 with only the characters XML 1.0 allows
// (core/xml_text.h: anything else becomes U+FFFD), so every answer parses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/recordings/recording_store.h"

namespace sb {

std::string renderError(const Error& error);
// GET /bigbluebutton/api: version and apiVersion 2.0 (and <build> when configured).
std::string renderVersion(const std::string& buildNumber);
// isMeetingRunning for a meeting nobody created: SUCCESS, running=false.
std::string renderNotRunning();
// getMeetings: the <meeting> elements of every server (concatenated, as the poller printed them
// from parsed answers: well-formed by construction) in BBB's envelope; noMeetings when empty.
std::string renderMeetings(std::string_view meetingsXml);
// getRecordings, element for element as BBB 3.0 writes it; noRecordings when the page is empty.
// `urlHost` ("" = as stored) replaces the origin of playback and preview URLs with
// https://<urlHost>. `paged`: the request asked for offset or limit (then <totalElements>).
std::string renderRecordings(const RecordingPage& page, const std::string& urlHost, bool paged);
// publishRecordings / updateRecordings / deleteRecordings: SUCCESS and <name>value</name>.
std::string renderRecordingsChange(const char* name, bool value);

}  // namespace sb
