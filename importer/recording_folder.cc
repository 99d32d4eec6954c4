#include "importer/recording_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "importer/file_io.h"
#include "importer/metadata_xml.h"

namespace sb {
namespace fs = std::filesystem;
namespace {

constexpr RecordingState kStates[] = {RecordingState::kPublished, RecordingState::kUnpublished,
                                      RecordingState::kDeleted};
// metadata.xml files are a few KiB; a larger one is not BBB's.
constexpr std::uintmax_t kMaxMetadataBytes = 16 << 20;

// Makes a rename in `folder` durable (the folder's entry list reaches the disk).
void syncFolder(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// How visible a state is: a recording found in two folders takes the least visible one.
int visibility(RecordingState s) {
  switch (s) {
    case RecordingState::kDeleted:
      return 0;
    case RecordingState::kUnpublished:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

RecordingFolder::RecordingFolder(RecordingsConfig config) : config_(std::move(config)) {}

Status RecordingFolder::prepare() const {
  for (const std::string& folder :
       {config_.spool(), failedFolder(), config_.work(), uploadFolder(), config_.published(),
        config_.unpublished(), config_.deleted(), config_.captions()}) {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return ioFailure("cannot make the recordings folder " + folder, ec);
    if (::access(folder.c_str(), W_OK) != 0) {
      return ioFailure("cannot write to the recordings folder " + folder, errno);
    }
  }
  return Status::Ok();
}

std::string RecordingFolder::stateFolder(RecordingState state) const {
  switch (state) {
    case RecordingState::kPublished:
      return config_.published();
    case RecordingState::kUnpublished:
      return config_.unpublished();
    case RecordingState::kDeleted:
      return config_.deleted();
    default:
      return "";
  }
}

std::string RecordingFolder::locate(const std::string& format, const std::string& recordId) const {
  for (RecordingState s : kStates) {
    std::string path = stateFolder(s) + "/" + format + "/" + recordId;
    std::error_code ec;
    if (fs::is_directory(path, ec)) return path;
  }
  return "";
}

Status RecordingFolder::place(const std::string& staged, const std::string& format,
                              const std::string& recordId, RecordingState state) {
  std::string folder = stateFolder(state);
  if (folder.empty()) return Error::of(ErrorCode::kInternalError, "no folder for that state");
  std::lock_guard lock(mutex_);
  std::string parent = folder + "/" + format;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return ioFailure("cannot make " + parent, ec);
  std::string target = parent + "/" + recordId;
  if (fs::exists(target, ec)) {
    // The earlier copy and the new one change places at once; the old one leaves with staging.
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      return ioFailure("cannot put " + format + "/" + recordId + " in place", errno);
    }
    fs::remove_all(staged, ec);
  } else if (::rename(staged.c_str(), target.c_str()) != 0) {
    return ioFailure("cannot put " + format + "/" + recordId + " in place", errno);
  }
  syncFolder(parent);
  for (RecordingState other : kStates) {
    if (other == state) continue;
    std::string stale = stateFolder(other) + "/" + format + "/" + recordId;
    if (fs::exists(stale, ec)) fs::remove_all(stale, ec);
  }
  return Status::Ok();
}

Status RecordingFolder::moveTo(const Recording& recording, RecordingState state) {
  std::string folder = stateFolder(state);
  if (folder.empty()) return Status::Ok();
  std::lock_guard lock(mutex_);
  for (const auto& format : recording.formats) {
    std::string from = locate(format.type, recording.recordId);
    std::string parent = folder + "/" + format.type;
    std::string to = parent + "/" + recording.recordId;
    if (from.empty() || from == to) continue;
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return ioFailure("cannot make " + parent, ec);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno != EEXIST) {
        return ioFailure("cannot move " + format.type + "/" + recording.recordId, errno);
      }
      fs::remove_all(from, ec);  // a copy was there already (a move cut short): keep that one
    }
    syncFolder(parent);
  }
  return Status::Ok();
}

Status RecordingFolder::saveMetadata(const Recording& recording) {
  std::lock_guard lock(mutex_);
  for (const auto& format : recording.formats) {
    std::string folder = locate(format.type, recording.recordId);
    if (folder.empty()) continue;
    std::string path = folder + "/metadata.xml";
    auto text = readSmallFile(path, kMaxMetadataBytes);
    if (!text) return Error::of(text.error().code, path + ": " + text.error().message);
    auto updated = metadataXmlOf(*text, recording);
    if (!updated) return updated.error();
    if (auto s = replaceFile(path, *updated); !s) return s;
  }
  return Status::Ok();
}

std::vector<Recording> RecordingFolder::scan(std::vector<std::string>& problems) const {
  std::map<std::string, Recording> found;
  for (RecordingState state : kStates) {
    std::error_code ec;
    for (const auto& format : fs::directory_iterator(stateFolder(state), ec)) {
      if (!format.is_directory()) continue;
      std::error_code inner;
      for (const auto& folder : fs::directory_iterator(format.path(), inner)) {
        if (!folder.is_directory()) continue;
        fs::path file = folder.path() / "metadata.xml";
        auto text = readSmallFile(file.string(), kMaxMetadataBytes);
        if (!text) {
          problems.push_back(file.string() + ": " + text.error().message);
          continue;
        }
        auto read = recordingFromMetadataXml(*text, folder.path().filename().string());
        if (!read) {
          problems.push_back(file.string() + ": " + read.error().message);
          continue;
        }
        read->state = state;
        auto [it, fresh] = found.try_emplace(read->recordId, *read);
        if (fresh) continue;
        Recording& kept = it->second;
        for (auto& f : read->formats) kept.formats.push_back(std::move(f));
        if (visibility(state) < visibility(kept.state)) kept.state = state;
        kept.isProtected = kept.isProtected || read->isProtected;
      }
    }
  }
  std::vector<Recording> out;
  out.reserve(found.size());
  for (auto& [id, r] : found) {
    r.textTracks = readTextTracks(id);
    out.push_back(std::move(r));
  }
  return out;
}

std::string RecordingFolder::textTrackPath(const std::string& recordId,
                                           const TextTrack& track) const {
  return config_.captions() + "/" + recordId + "/" + track.fileName();
}

Status RecordingFolder::saveTextTrack(const Recording& recording, const TextTrack& track,
                                      std::string_view vtt) {
  std::lock_guard lock(mutex_);
  const std::string folder = config_.captions() + "/" + recording.recordId;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return ioFailure("cannot make " + folder, ec);
  if (auto s = replaceFile(textTrackPath(recording.recordId, track), std::string(vtt)); !s) {
    return s;
  }
  return saveTextTrackList(recording);
}

Status RecordingFolder::removeTextTrack(const Recording& recording, const TextTrack& track) {
  std::lock_guard lock(mutex_);
  const std::string path = textTrackPath(recording.recordId, track);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ioFailure("cannot remove " + path, errno);
  }
  return saveTextTrackList(recording);
}

Status RecordingFolder::saveTextTrackList(const Recording& recording) {
  const std::string folder = config_.captions() + "/" + recording.recordId;
  if (recording.textTracks.empty()) {
    std::error_code ec;
    fs::remove(folder + "/captions.json", ec);
    fs::remove(folder, ec);  // only when empty
    return Status::Ok();
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : recording.textTracks) {
    list.push_back({{"kind", t.kind}, {"lang", t.lang}, {"label", t.label}, {"source", t.source}});
  }
  return replaceFile(folder + "/captions.json", list.dump(2) + "\n");
}

std::vector<TextTrack> RecordingFolder::readTextTracks(const std::string& recordId) const {
  std::vector<TextTrack> tracks;
  auto text = readSmallFile(config_.captions() + "/" + recordId + "/captions.json", 1 << 20);
  if (!text) return tracks;
  auto list = nlohmann::json::parse(*text, nullptr, false);
  if (!list.is_array()) return tracks;
  for (const auto& item : list) {
    if (!item.is_object()) continue;
    try {
      TextTrack t;
      t.kind = item.value("kind", "");
      t.lang = item.value("lang", "");
      t.label = item.value("label", t.lang);
      t.source = item.value("source", "upload");
      if (!t.kind.empty() && !t.lang.empty()) tracks.push_back(std::move(t));
    } catch (const nlohmann::json::exception&) {
      // a field of another type: not one of ours, skipped
    }
  }
  return tracks;
}

}  // namespace sb
