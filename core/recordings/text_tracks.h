// The text-track calls of the BBB API (2.5+): getRecordingTextTracks lists a recording's caption
// and subtitle files, putRecordingTextTrack adds, replaces or removes one. The files are kept by
// RecordingFiles beside the recording's own, the list in the store with the recording. Answers
// are JSON in BBB (the router writes them); here the parameter rules and error keys.
// Thread-safety: as safe as the store and files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/query_string.h"
#include "core/recordings/recording_files.h"
#include "core/recordings/recording_store.h"
#include "core/result.h"

namespace sb {

class TextTracks {
 public:
  // The largest track file accepted (a lecture's captions are a few hundred KiB).
  static constexpr size_t kMaxFileBytes = 8 << 20;

  TextTracks(RecordingStore& store, RecordingFiles* files) : store_(store), files_(files) {}

  // getRecordingTextTracks: the tracks of `recordID` (one ID). missingParamRecordID without it,
  // noRecordings when there is no such recording.
  Result<std::vector<TextTrack>> list(const QueryString& params, const std::string& tenant = "");

  // putRecordingTextTrack: `recordID`, `kind` (subtitles or captions: invalidKind), `lang`
  // (BCP 47: invalidLang), `label` (default: the language). `file` is the uploaded file: WebVTT
  // SubRip or SSA/ASS (converted to WebVTT), else upload_text_track_failed; empty:
  // empty_uploaded_text_track; nullopt (no file part): the track is removed. The record ID.
  Result<std::string> put(const QueryString& params, std::optional<std::string_view> file,
                          const std::string& tenant = "");

  // `file` as WebVTT: WebVTT as it is, SubRip converted (cue numbers kept as identifiers,
  // "," in times made "."), SSA/ASS converted (its dialogues as cues, styling left out: BBB's
  // ffmpeg conversion keeps no more); nullopt for anything else.
  static std::optional<std::string> webVttOf(std::string_view file);
  // `lang` as a BCP 47 tag with '-' ("en_US" → "en-US"); nullopt when it is none.
  static std::optional<std::string> languageTag(std::string_view lang);

 private:
  RecordingStore& store_;
  RecordingFiles* files_;
};

}  // namespace sb
