#include "core/recordings/recording_import.h"

#include <algorithm>
#include <utility>

namespace sb {
namespace {

bool settled(RecordingState s) {
  return s == RecordingState::kPublished || s == RecordingState::kUnpublished ||
         s == RecordingState::kDeleted;
}

}  // namespace

Recording mergeImportedRecording(const std::optional<Recording>& existing, Recording incoming,
                                 bool importUnpublished, bool protectNew) {
  // BBB hands over published formats; processing states mean "done" once they arrive here.
  if (!settled(incoming.state)) incoming.state = RecordingState::kPublished;
  if (importUnpublished && incoming.state == RecordingState::kPublished) {
    incoming.state = RecordingState::kUnpublished;
  }
  if (!existing) {
    incoming.isProtected = protectNew;
    return incoming;
  }
  for (const auto& kept : existing->formats) {
    bool carried = std::any_of(incoming.formats.begin(), incoming.formats.end(),
                               [&](const PlaybackFormat& f) { return f.type == kept.type; });
    if (!carried) incoming.formats.push_back(kept);
  }
  if (settled(existing->state)) incoming.state = existing->state;
  incoming.metadata = existing->metadata;
  incoming.tenant = existing->tenant;
  incoming.isProtected = existing->isProtected;
  incoming.textTracks = existing->textTracks;
  return incoming;
}

}  // namespace sb
