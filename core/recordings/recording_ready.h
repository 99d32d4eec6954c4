// Recording-ready callbacks as frontends verify them (BBB's and Scalelite's contract): a POST of
// the form field `signed_parameters`, a JWT (HS256, the only algorithm Greenlight and Moodle
// accept for it) of {"meeting_id", "record_id"} signed with the secret the frontend signs its
// calls with. Pure.
#pragma once

#include <cstdint>
#include <optional>
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

// The learning-analytics callback (Moodle's, BBB 2.4+): BBB posts the meeting's data as JSON with
// `Authorization: Bearer <JWT>`; Moodle accepts HS512 only, signed with its own secret. A create
// names it in kAnalyticsCallbackParam; Switchboard passes BBB a URL of its own instead
// (kAnalyticsRelayPath?target=<token>), the token a JWT of Switchboard's naming the frontend's
// URL and secret, so any router can relay the post, signed right, without keeping anything.
inline constexpr std::string_view kAnalyticsCallbackParam = "meta_analytics-callback-url";
inline constexpr std::string_view kAnalyticsRelayPath = "/bigbluebutton/api/analytics_callback";
// The ID (core/checksum.h secretId) of the secret that signed the create, kept with the meeting
// (and by BBB with its recordings) so callbacks are signed with that secret.
inline constexpr std::string_view kSecretIdParam = "meta_switchboard-secret-id";
inline constexpr std::string_view kSecretIdMeta = "switchboard-secret-id";

// How a create's callbacks are relayed.
struct CallbackRelaying {
  std::string secretId;  // of the secret that signed the create ("": none is kept)
  std::string origin;    // where BBB servers reach a router ("https://lb.example.org")
  std::string relayKey;  // signs analytics relay tokens (analyticsRelayKey)
  std::string tenant;    // the create's tenant ("": none): its secrets sign the callbacks
};

// Rewrites a create's forwarded `params`: the recording-ready parameters become
// kSwitchboardRecordingReadyParam (the first non-empty one in kRecordingReadyParams order), the
// analytics URL becomes the relay's (when an origin is known), and when either is there the
// secret's ID goes along. A client's own Switchboard parameters are dropped.
void keepCallbackUrls(QueryString& params, const CallbackRelaying& relaying);

// The `signed_parameters` JWT: HS256 over {"meeting_id":…,"record_id":…} with `secret`.
std::string recordingReadyJwt(std::string_view meetingId, std::string_view recordId,
                              std::string_view secret);

// The key relay tokens are signed with: derived from the first shared secret.
std::string analyticsRelayKey(std::string_view firstSecret);
struct AnalyticsTarget {
  std::string url;       // the frontend's analytics-callback-url
  std::string secretId;  // of the secret its create was signed with
  std::string tenant;    // the create's tenant ("": none)
};
std::string analyticsRelayToken(const AnalyticsTarget& target, std::string_view key);
// The target of a relay token signed with `key`; nullopt for anything else.
std::optional<AnalyticsTarget> readAnalyticsRelayToken(std::string_view token,
                                                       std::string_view key);
// The analytics post's Authorization: "Bearer " + HS512 JWT {"exp": now + 24 h} with `secret`.
std::string analyticsAuthorization(std::string_view secret, int64_t nowMs);

}  // namespace sb
