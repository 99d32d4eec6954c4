// Playback: the files of published recordings and BBB's player, served by the router itself
// (the embedded default; in the compose stack and scripts/stack nginx serves the same paths from
// the same folders). Only the published folder is ever read: unpublished and deleted recordings
// live in other folders, so a recording's files are unreachable the moment it is unpublished.
//   /<format>/<record_id>/<file>     published/<format>/<record_id>/<file> (presentation,
//                                    podcast, ...: what BBB's players load)
//   /playback/<format>/<record_id>/… published/<format>/<record_id>/… for formats that carry
//                                    their own page (video: index.html)
//   /playback/presentation/2.3/…     BBB's presentation player, from RECORDING_PLAYER_DIR (its
//                                    index.html for any path of a recording, as BBB's nginx does)
// GET and HEAD, single byte ranges (video seeking), 404 for everything else. A path segment that
// is empty, "." or "..", or holds a NUL or '/' once decoded is refused; links are not followed
// out of the folders.
// Thread-safety: handle() may be called concurrently (it reads files on the calling thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/http_types.h"

namespace sb {

struct PlaybackConfig {
  std::string publishedDir;          // RECORDING_PUBLISH_DIR
  std::string playerDir;             // RECORDING_PLAYER_DIR: holds playback/presentation/2.3/…
  std::vector<std::string> formats;  // RECORDING_PLAYBACK_FORMATS
};

class PlaybackFiles {
 public:
  explicit PlaybackFiles(PlaybackConfig config) : config_(std::move(config)) {}

  // Answers `request` when its path is a playback path (true); false otherwise.
  bool handle(const HttpRequest& request, const Reply& reply) const;

 private:
  bool isFormat(const std::string& name) const;
  PlaybackConfig config_;
};

// Parses a Range header against a file of `size` bytes: the one range asked for as
// {offset, length}; nullopt when there is no usable single range (the whole file is sent);
// {size, 0} when the range cannot be satisfied (416).
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
std::optional<ByteRange> parseRange(std::string_view header, uint64_t size);

}  // namespace sb
