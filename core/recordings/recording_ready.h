// Recording-ready callbacks as frontends verify them (BBB's and Scalelite's contract): a POST of
// the form field `signed_parameters`, a JWT (HS256, the only algorithm Greenlight and Moodle
// accept for it) of {"meeting_id", "record_id"} signed with the secret the frontend signs its
// calls with. Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/query_string.h"

namespace sb {

// The create parameters frontends put the URL in (Scalelite takes bn- before bbb-).
inline constexpr std::string_view kRecordingReadyParams[] = {"meta_bn-recording-ready-url",
                                                             "meta_bbb-recording-ready-url",
                                                             "meta_canvas-recording-ready-url"};
// Where a create keeps it instead, towards BBB: BBB stores it with the recording's metadata
// (so it reaches Switchboard with the archive) but does not call it itself: BBB's own call
// would come before Switchboard has the files, signed with the BBB server's secret.
inline constexpr std::string_view kSwitchboardRecordingReadyParam =
    "meta_switchboard-recording-ready-url";
inline constexpr std::string_view kSwitchboardRecordingReadyMeta =
    "switchboard-recording-ready-url";

// Replaces the recording-ready parameters of a create's forwarded `params` by
// kSwitchboardRecordingReadyParam (the first non-empty one in kRecordingReadyParams order).
void keepRecordingReadyUrl(QueryString& params);

// The `signed_parameters` JWT: HS256 over {"meeting_id":…,"record_id":…} with `secret`.
std::string recordingReadyJwt(std::string_view meetingId, std::string_view recordId,
                              std::string_view secret);

}  // namespace sb
