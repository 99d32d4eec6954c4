// The recordings folder, laid out as BBB and Scalelite lay it out:
//   <published>/<format>/<record_id>/…    served (nginx, or `serve` itself)
//   <unpublished>/<format>/<record_id>/…  kept, never served
//   <deleted>/<format>/<record_id>/…      kept until an operator removes them, never served
//   <captions>/<record_id>/…              text tracks (<kind>_<lang>.vtt) and captions.json
//   <work>/…                              staging of imports (same file system: moves rename)
//   <spool>/<name>.tar                    archives waiting; <spool>/failed/ the failed ones
// Every change is a rename(2), so a format's folder is always whole in exactly one place, even
// across a crash. Thread-safe: changes to one recording are serialised here.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/recordings/recording_files.h"

namespace sb {

class RecordingFolder : public RecordingFiles {
 public:
  explicit RecordingFolder(RecordingsConfig config);

  // Creates the folders that are missing. Fails (kInternalError, naming the folder) when one
  // cannot be made or written.
  Status prepare() const;
  const RecordingsConfig& config() const { return config_; }
  // The folder of a state's formats: published, unpublished or deleted ("" for the others).
  std::string stateFolder(RecordingState state) const;
  std::string failedFolder() const { return config_.spool() + "/failed"; }
  // Where uploads are written as they arrive (in the work folder: imports then rename).
  std::string uploadFolder() const { return config_.work() + "/uploads"; }

  // Moves the staged folder `staged` (a whole <format>/<record_id> of an import) into place as
  // `format` of `recordId` in the folder of `state`, replacing that format's earlier copy in
  // an exchange (never a moment without one), and removes the format's copies in the other
  // state folders. `staged` must be on the same file system (RECORDING_WORK_DIR).
  Status place(const std::string& staged, const std::string& format, const std::string& recordId,
               RecordingState state);

  // RecordingFiles.
  Status moveTo(const Recording& recording, RecordingState state) override;
  Status saveMetadata(const Recording& recording) override;
  Status saveTextTrack(const Recording& recording, const TextTrack& track,
                       std::string_view vtt) override;
  Status removeTextTrack(const Recording& recording, const TextTrack& track) override;
  // The file of `track` of `recordId` (whether or not it exists).
  std::string textTrackPath(const std::string& recordId, const TextTrack& track) const;

  // Every recording in the state folders, read from their metadata.xml files: one per record
  // ID with its formats together, in the state of the folder it is in (a recording found in
  // two, after a crash between two moves, takes the less visible: deleted, then unpublished).
  // What cannot be read is skipped and told in `problems` ("<path>: <why>").
  std::vector<Recording> scan(std::vector<std::string>& problems) const override;

 private:
  // Writes the list of `recording`'s text tracks (captions.json; none: removed).
  Status saveTextTrackList(const Recording& recording);
  // The text tracks listed in the captions folder of `recordId` (none when there is no list).
  std::vector<TextTrack> readTextTracks(const std::string& recordId) const;
  // Where `format` of `recordId` is now ("" when nowhere).
  std::string locate(const std::string& format, const std::string& recordId) const;

  RecordingsConfig config_;
  std::mutex mutex_;
};

}  // namespace sb
