// A recording as BBB describes it in getRecordings, and the states it goes through. Recordings
// are made by BBB servers, imported into Switchboard (one place, whatever server recorded) and
// answered from its store. No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb {

// BBB's recording states (the `state` parameter and element). Scalelite and BBB list
// published and unpublished ones by default.
enum class RecordingState { kProcessing, kProcessed, kPublished, kUnpublished, kDeleted };

std::string_view recordingStateName(RecordingState state);
std::optional<RecordingState> parseRecordingState(std::string_view name);

// A preview image of a playback format (<preview><images><image …>url</image>).
struct RecordingImage {
  std::string url;
  std::string alt;
  int width = 0;
  int height = 0;
};

// One playback format a BBB server produced (presentation, video, podcast, …).
struct PlaybackFormat {
  std::string type;
  std::string url;  // as the recording server wrote it; rewritten to the public host when shown
  int64_t processingTimeMs = 0;
  int64_t lengthMinutes = 0;
  int64_t size = 0;  // bytes, 0 when unknown
  std::vector<RecordingImage> previews;
};

// A caption or subtitle file of a recording (putRecordingTextTrack), kept as WebVTT beside the
// recording's files (RecordingFiles) and listed by getRecordingTextTracks.
struct TextTrack {
  std::string kind;   // "subtitles" or "captions"
  std::string lang;   // BCP 47, e.g. "en-US"
  std::string label;  // what the player shows ("English")
  std::string source = "upload";
  // "<kind>_<lang>.vtt", as BBB names the file.
  std::string fileName() const { return kind + "_" + lang + ".vtt"; }
};

struct Recording {
  std::string recordId;           // "<internal meeting id>", e.g. "<sha1>-<ms>"
  std::string meetingId;          // the frontend's meetingID
  std::string internalMeetingId;  // BBB's internal id (Moodle looks recordings up by it)
  std::string name;
  RecordingState state = RecordingState::kPublished;
  bool isBreakout = false;
  std::string parentMeetingId;             // a breakout room's parent (internal id), else ""
  std::vector<std::string> breakoutRooms;  // the breakout rooms' internal ids
  int64_t startTimeMs = 0;
  int64_t endTimeMs = 0;
  std::optional<int> participants;
  int64_t rawSize = 0;
  // meta_ parameters of the create, in the order BBB wrote them (keys unique).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<PlaybackFormat> formats;
  std::string tenant;  // empty until tenants exist (issue 20)
  // Protected (Greenlight's `protect`): its playback links work once and its files need the
  // cookie of such a link (core/recordings/recording_protection.h).
  bool isProtected = false;
  std::vector<TextTrack> textTracks;  // one per kind and language

  bool published() const { return state == RecordingState::kPublished; }
  // The value of metadata `key`, nullopt when absent.
  std::optional<std::string_view> meta(std::string_view key) const;
  // Sets `key` to `value`, or removes it when `value` is empty (updateRecordings' rule). True
  // when the metadata changed.
  bool setMeta(const std::string& key, const std::string& value);
  // The sum of the formats' sizes.
  int64_t size() const;
};

}  // namespace sb
