// Port: the playback files of recordings (importer/recording_folder.h keeps them in the
// recordings folder). The recordings use cases move them with the recording's state, so that
// what is served (the published folder) is exactly what the store says is published.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/recordings/recording.h"
#include "core/result.h"

namespace sb {

class RecordingFiles {
 public:
  virtual ~RecordingFiles() = default;

  // Moves every playback format of `recording` from wherever it is into the folder of `state`
  // (published, unpublished or deleted; processing states keep their place). A format whose
  // files are nowhere is skipped: a recording imported before its files arrived stays listable.
  virtual Status moveTo(const Recording& recording, RecordingState state) = 0;
  // Writes `recording`'s metadata (updateRecordings) into its files, as BBB does, so that the
  // change survives a re-import and a rebuild of the index from the folder.
  virtual Status saveMetadata(const Recording& recording) = 0;
  // Keeps `vtt` as the file of `track` of `recording` (replacing an earlier one), with the list
  // of the recording's tracks (`recording.textTracks`, already changed) beside it.
  virtual Status saveTextTrack(const Recording& recording, const TextTrack& track,
                               std::string_view vtt) = 0;
  // Removes the file of `track`; the list follows `recording.textTracks` (already changed).
  virtual Status removeTextTrack(const Recording& recording, const TextTrack& track) = 0;
  // Every recording the files hold, read back from them (the truth the store indexes). What
  // cannot be read is skipped and told in `problems` ("<path>: <why>").
  virtual std::vector<Recording> scan(std::vector<std::string>& problems) const = 0;
};

}  // namespace sb
