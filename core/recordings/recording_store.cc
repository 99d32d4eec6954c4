#include "core/recordings/recording_store.h"

#include <algorithm>

namespace sb {
namespace {

bool anyEquals(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

bool RecordingQuery::matches(const Recording& r) const {
  if (nothing || r.tenant != tenant) return false;
  if (!states.empty() && std::find(states.begin(), states.end(), r.state) == states.end()) {
    return false;
  }
  if (!recordIdPrefixes.empty() &&
      std::none_of(recordIdPrefixes.begin(), recordIdPrefixes.end(),
                   [&](const std::string& p) { return r.recordId.starts_with(p); })) {
    return false;
  }
  if (!meetingIds.empty() && !anyEquals(meetingIds, r.meetingId) &&
      !anyEquals(meetingIds, r.internalMeetingId)) {
    return false;
  }
  for (const auto& [key, values] : meta) {
    auto v = r.meta(key);
    if (!v || !anyEquals(values, *v)) return false;
  }
  return true;
}

bool newerRecordingFirst(const Recording& a, const Recording& b) {
  if (a.startTimeMs != b.startTimeMs) return a.startTimeMs > b.startTimeMs;
  return a.recordId < b.recordId;
}

}  // namespace sb
