#include "core/recordings/recording_ready.h"

#include "core/jwt.h"

namespace sb {

void keepRecordingReadyUrl(QueryString& params) {
  std::string url;
  for (std::string_view name : kRecordingReadyParams) {
    auto v = params.get(name);
    if (url.empty() && v && !v->empty()) url = std::string(*v);
    params.remove(name);
  }
  params.remove(kSwitchboardRecordingReadyParam);  // never the client's own
  if (!url.empty()) params.append(kSwitchboardRecordingReadyParam, url);
}

std::string recordingReadyJwt(std::string_view meetingId, std::string_view recordId,
                              std::string_view secret) {
  return jwtSign({{"meeting_id", std::string(meetingId)}, {"record_id", std::string(recordId)}},
                 secret, JwtAlgorithm::kHs256);
}

}  // namespace sb
