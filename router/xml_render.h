// The XML answers Switchboard writes itself (BBB's own answers are passed through, made safe on
// arrival by bbb/curl_bbb_client). Shaped like bbb-web's templates: no declaration, one element
// per line. Escaping is pugixml's; text is UTF-8 with only the characters XML 1.0 allows
// (core/xml_text.h: anything else becomes U+FFFD), so every answer parses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/recordings/recording_protection.h"
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
// How getRecordings shows playback URLs.
struct PlaybackLinks {
  // Replaces the origin of playback and preview URLs ("https://lb.example.org"; "" keeps the
  // URLs as the recording server wrote them).
  std::string origin;
  // When set and enabled: every recording shows <protected>, and a protected one's playback URL
  // is a one-time link <origin>/recording/<record_id>/<format>?token=… without previews
  // (Scalelite's shape).
  const RecordingProtection* protection = nullptr;
  int64_t nowMs = 0;
};

// getRecordings, element for element as BBB 3.0 writes it; noRecordings when the page is empty.
// `paged`: the request asked for offset or limit (then <totalElements>).
std::string renderRecordings(const RecordingPage& page, const PlaybackLinks& links, bool paged);
// publishRecordings / updateRecordings / deleteRecordings: SUCCESS and <name>value</name>.
std::string renderRecordingsChange(const char* name, bool value);

}  // namespace sb
