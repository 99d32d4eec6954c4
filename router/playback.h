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
//   /captions/<record_id>/<file>.vtt a text track of a published recording (not protected)
//   /recording/<record_id>/<format>  a getRecordings link: leads (307) to the format's player;
//                                    for a protected recording only with a link token, which
//                                    it redeems and answers with the recording's cookies
//   /switchboard/playback-access     nginx's auth_request for its own playback locations: 204
//                                    when X-Original-URI may be served with the request's
//                                    cookies, 403 when not (never public through nginx)
// GET and HEAD, single byte ranges (video seeking), 404 for everything else. A path segment that
// is empty, "." or "..", or holds a NUL or '/' once decoded is refused; links are not followed
// out of the folders. A protected recording's files need its cookie (recording_protection.h).
// Thread-safety: handle() may be called concurrently. With a worker pool, the store lookups and
// file opening run there (never on the calling reactor thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/recordings/recording_library.h"
#include "core/recordings/recording_protection.h"
#include "router/http_types.h"
#include "router/worker_pool.h"

namespace sb {

struct PlaybackConfig {
  std::string publishedDir;          // RECORDING_PUBLISH_DIR
  std::string playerDir;             // RECORDING_PLAYER_DIR: holds playback/presentation/2.3/…
  std::vector<std::string> formats;  // RECORDING_PLAYBACK_FORMATS
  std::string captionsDir;           // RECORDING_CAPTIONS_DIR: <record_id>/<kind>_<lang>.vtt
};

class PlaybackFiles {
 public:
  // `library` finds recordings for /recording/ links (null: they answer 404); `protection`
  // guards protected recordings (null: nothing is protected).
  explicit PlaybackFiles(PlaybackConfig config, RecordingLibrary* library = nullptr,
                         RecordingProtection* protection = nullptr, WorkerPool* workers = nullptr)
      : config_(std::move(config)), library_(library), protection_(protection), workers_(workers) {}

  // Answers `request` when its path is a playback path (true); false otherwise.
  bool handle(const HttpRequest& request, const Reply& reply) const;

 private:
  HttpResponse answer(const HttpRequest& request, const std::vector<std::string>& parts) const;
  HttpResponse serveFile(const HttpRequest& request, const std::vector<std::string>& parts) const;
  HttpResponse play(const HttpRequest& request, const std::string& recordId,
                    const std::string& format) const;
  HttpResponse access(const HttpRequest& request) const;
  HttpResponse textTrack(const HttpRequest& request, const std::string& recordId,
                         const std::string& file) const;
  bool isFormat(const std::string& name) const;
  // The format and record ID whose files `parts` name (/<format>/<id>/… or
  // /playback/<format>/<id>/…); nullopt for other paths (BBB's player itself).
  std::optional<std::pair<std::string, std::string>> recordingOf(
      const std::vector<std::string>& parts) const;
  bool mayServe(const HttpRequest& request, const std::vector<std::string>& parts) const;

  PlaybackConfig config_;
  RecordingLibrary* library_;
  RecordingProtection* protection_;
  WorkerPool* workers_;
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
