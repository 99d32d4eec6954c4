// Sample recordings for the recording tests (unit, contract and integration).
#pragma once

#include <string>
#include <vector>

#include "core/recordings/recording.h"

namespace sb {

// A recording of meeting `meetingId` started at `startMs`, with a presentation format.
inline Recording sampleRecording(const std::string& recordId, const std::string& meetingId,
                                 int64_t startMs,
                                 RecordingState state = RecordingState::kPublished) {
  Recording r;
  r.recordId = recordId;
  r.meetingId = meetingId;
  r.internalMeetingId = recordId;
  r.name = "Lecture " + meetingId;
  r.state = state;
  r.startTimeMs = startMs;
  r.endTimeMs = startMs + 60000;
  r.participants = 3;
  r.rawSize = 1000;
  r.metadata = {{"meetingname", "Lecture"}, {"gl-listed", "true"}};
  PlaybackFormat f;
  f.type = "presentation";
  f.url = "https://bbb1.example.com/playback/presentation/2.3/" + recordId;
  f.processingTimeMs = 7177;
  f.lengthMinutes = 1;
  f.size = 2048;
  f.previews = {
      {"https://bbb1.example.com/presentation/" + recordId + "/thumb-1.png", "Welcome", 176, 136}};
  r.formats = {f};
  return r;
}

inline std::vector<std::string> idsOf(const std::vector<Recording>& recordings) {
  std::vector<std::string> ids;
  for (const auto& r : recordings) ids.push_back(r.recordId);
  return ids;
}

}  // namespace sb
