#include "importer/recording_importer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "core/recordings/recording_import.h"
#include "importer/archive_extract.h"
#include "importer/file_io.h"
#include "importer/metadata_xml.h"

namespace sb {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kArchiveSuffixes[] = {".tar",    ".tar.gz",  ".tgz",
                                                 ".tar.xz", ".tar.bz2", ".tar.zst"};
constexpr std::uintmax_t kMaxMetadataBytes = 16 << 20;

bool archiveName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.find('/') != std::string_view::npos) return false;
  return std::any_of(
      std::begin(kArchiveSuffixes), std::end(kArchiveSuffixes),
      [&](std::string_view s) { return name.size() > s.size() && name.ends_with(s); });
}

// A playback format's folder name: what BBB names formats (letters, digits, '-', '_').
bool isFormatName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

Error refused(const std::string& why) { return Error::of(ErrorCode::kValidationError, why); }

// Removes a staging folder when it goes out of scope.
class StagingFolder {
 public:
  explicit StagingFolder(std::string path) : path_(std::move(path)) {}
  ~StagingFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  StagingFolder(const StagingFolder&) = delete;
  StagingFolder& operator=(const StagingFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The recordings of an unpacked archive: <format>/<record_id>/metadata.xml, one Recording per
// record ID with its formats. Anything else in the layout is refused.
Result<std::vector<Recording>> recordingsIn(const std::string& staging) {
  std::map<std::string, Recording> found;
  std::error_code ec;
  for (const auto& format : fs::directory_iterator(staging, ec)) {
    std::string formatName = format.path().filename().string();
    if (!format.is_directory() || !isFormatName(formatName)) {
      return refused("archive: '" + formatName + "' is not a playback format's folder");
    }
    for (const auto& folder : fs::directory_iterator(format.path(), ec)) {
      std::string recordId = folder.path().filename().string();
      if (!folder.is_directory()) {
        return refused("archive: '" + formatName + "/" + recordId +
                       "' is not a recording's folder");
      }
      auto text = readSmallFile((folder.path() / "metadata.xml").string(), kMaxMetadataBytes);
      if (!text && text.error().code == ErrorCode::kNotFound) {
        return refused(recordId + " has no metadata.xml");
      }
      if (!text) return text.error();
      auto read = recordingFromMetadataXml(*text, recordId);
      if (!read) return read.error();
      if (read->formats.front().type != formatName) {
        return refused("metadata.xml of " + formatName + "/" + recordId + " describes format " +
                       read->formats.front().type);
      }
      auto [it, fresh] = found.try_emplace(recordId, *read);
      if (!fresh) it->second.formats.push_back(std::move(read->formats.front()));
    }
    if (ec) return ioFailure("cannot read the unpacked archive", ec.value());
  }
  if (ec) return ioFailure("cannot read the unpacked archive", ec.value());
  if (found.empty()) return refused("archive: holds no recording");
  std::vector<Recording> out;
  for (auto& [id, r] : found) out.push_back(std::move(r));
  return out;
}

// Flushes everything written under `folder` to the disk.
Status syncFileSystem(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioFailure("cannot open " + folder, errno);
  int r = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return ioFailure("cannot flush the unpacked archive to disk", err);
  return Status::Ok();
}

nlohmann::json failedJson(const FailedImport& f) {
  return {{"archive", f.archive},
          {"reason", f.reason},
          {"attempts", f.attempts},
          {"first_failed_ms", f.firstFailedMs},
          {"last_failed_ms", f.lastFailedMs},
          {"next_attempt_ms", f.nextAttemptMs}};
}

// The failure record next to `archive` in the failed folder; a bare archive (the process
// stopped between the move and the record) is due now.
FailedImport readFailed(const std::string& folder, const std::string& archive) {
  FailedImport f;
  f.archive = archive;
  std::ifstream in(folder + "/" + archive + ".json");
  if (in) {
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object()) {
      f.reason = j.value("reason", "");
      f.attempts = j.value("attempts", 0);
      f.firstFailedMs = j.value("first_failed_ms", int64_t{0});
      f.lastFailedMs = j.value("last_failed_ms", int64_t{0});
      f.nextAttemptMs = j.value("next_attempt_ms", int64_t{0});
    }
  }
  std::error_code ec;
  f.size = fs::file_size(folder + "/" + archive, ec);
  return f;
}

// Moves `from` to `to`, which appears whole: a rename, or for an upload staged on another file
// system, a copy to a hidden name in the target folder and then a rename.
Status moveInto(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return Status::Ok();
  if (errno != EXDEV) return ioFailure("cannot move " + from + " to " + to, errno);
  const fs::path target(to);
  const std::string partial =
      (target.parent_path() / ("." + target.filename().string() + ".part")).string();
  std::error_code ec;
  fs::copy_file(from, partial, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(partial, ec);
    return ioFailure("cannot copy " + from, ec);
  }
  if (::rename(partial.c_str(), to.c_str()) != 0) {
    int err = errno;
    fs::remove(partial, ec);
    return ioFailure("cannot move " + partial + " to " + to, err);
  }
  fs::remove(from, ec);
  return Status::Ok();
}

}  // namespace

// An archive claimed by this process: an exclusive lock on the open file, which the kernel
// drops if the process dies. Another importer skips it meanwhile.
struct RecordingImporter::Claim {
  explicit Claim(const std::string& path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat opened {
    }, named{};
    // Still the file of that name once locked (another importer may have finished and removed
    // it between our open and our lock).
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &opened) != 0 ||
        ::stat(path.c_str(), &named) != 0 || opened.st_ino != named.st_ino ||
        opened.st_dev != named.st_dev) {
      ::close(fd);
      fd = -1;
    }
  }
  ~Claim() {
    if (fd >= 0) ::close(fd);
  }
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  int fd = -1;
};

RecordingImporter::RecordingImporter(RecordingFolder& folder, RecordingStore& store,
                                     Metrics* metrics)
    : folder_(folder), store_(store), metrics_(metrics) {}

RecordingImporter::~RecordingImporter() { stop(); }

void RecordingImporter::onImported(ImportedListener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

Result<ImportedArchive> RecordingImporter::importArchive(const std::string& archive) {
  const RecordingsConfig& config = folder_.config();
  std::string pattern = config.work() + "/import-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return ioFailure("cannot make a staging folder in " + config.work(), errno);
  }
  StagingFolder staging(pattern);
  ExtractLimits limits;
  limits.maxBytes = config.importMaxBytes;
  auto unpacked = extractArchive(archive, staging.path(), limits);
  if (!unpacked) return unpacked.error();
  auto recordings = recordingsIn(staging.path());
  if (!recordings) return recordings.error();
  if (auto s = syncFileSystem(staging.path()); !s) return s.error();

  ImportedArchive out;
  out.bytes = unpacked->bytes;
  out.files = unpacked->files;
  for (Recording& incoming : *recordings) {
    std::vector<std::string> ids{incoming.recordId};
    auto existing = store_.findExact(ids, incoming.tenant);
    if (!existing) return existing.error();
    std::optional<Recording> before;
    if (!existing->empty()) before = existing->front();
    std::vector<std::string> formats;
    for (const auto& f : incoming.formats) formats.push_back(f.type);
    Recording merged = mergeImportedRecording(before, std::move(incoming), config.importUnpublished,
                                              config.protection.enabled);
    for (const auto& format : formats) {
      std::string staged = staging.path() + "/" + format + "/" + merged.recordId;
      if (auto s = folder_.place(staged, format, merged.recordId, merged.state); !s)
        return s.error();
    }
    // BBB's copy of the metadata is older than an updateRecordings here, and knows nothing of
    // protection: the files follow.
    if (before || merged.isProtected) {
      if (auto s = folder_.saveMetadata(merged); !s) return s.error();
    }
    if (auto s = store_.put(merged); !s) return s.error();
    out.recordings.push_back(std::move(merged));
  }
  return out;
}

// The record is written before the archive appears in the failed folder (by one rename), so a
// listing never shows a failed archive without its reason.
void RecordingImporter::keepFailed(const std::string& archive, const std::string& name,
                                   const Error& why) {
  std::lock_guard lock(mutex_);
  const std::string folder = folder_.failedFolder();
  const std::string target = folder + "/" + name;
  FailedImport f = readFailed(folder, name);
  const int64_t now = unixNowMs();
  f.reason = why.message;
  f.attempts += 1;
  if (f.firstFailedMs == 0) f.firstFailedMs = now;
  f.lastFailedMs = now;
  const auto wait =
      retryWait(folder_.config().importPollInterval, f.attempts, folder_.config().importRetryMax);
  f.nextAttemptMs = now + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  if (auto s = replaceFile(target + ".json", failedJson(f).dump(2) + "\n"); !s) {
    spdlog::error("cannot record why the import of {} failed: {}", name, s.error().message);
  }
  if (archive != target) {
    if (auto s = moveInto(archive, target); !s) {
      spdlog::error("recording import of {} failed ({}) and it cannot be kept in {}: {}", name,
                    why.message, folder, s.error().message);
      ::unlink((target + ".json").c_str());
      return;
    }
  }
  spdlog::warn(
      "recording import of {} failed (attempt {}): {}; kept in {}, next attempt in {:.1f} s", name,
      f.attempts, why.message, folder, std::chrono::duration<double>(wait).count());
}

bool RecordingImporter::isArchiveName(std::string_view name) { return archiveName(name); }

Result<ImportedArchive> RecordingImporter::importAndSettle(const std::string& archive,
                                                           const std::string& name) {
  const auto started = std::chrono::steady_clock::now();
  auto imported = importArchive(archive);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!imported) {
    if (metrics_) metrics_->countImport("failed", 0, seconds);
    keepFailed(archive, name, imported.error());
    return imported.error();
  }
  ::unlink(archive.c_str());
  if (archive == folder_.failedFolder() + "/" + name) ::unlink((archive + ".json").c_str());
  if (metrics_) metrics_->countImport("imported", imported->bytes, seconds);
  ImportedListener listener;
  {
    std::lock_guard lock(mutex_);
    listener = listener_;
  }
  for (const auto& r : imported->recordings) {
    spdlog::info("recording {} of meeting {} imported from {} ({} formats, {} bytes, {:.1f} s)",
                 r.recordId, r.meetingId, name, r.formats.size(), imported->bytes, seconds);
    if (listener) listener(r);
  }
  return imported;
}

int RecordingImporter::importClaimed(const std::string& path, const std::string& failedName) {
  Claim claim(path);
  if (claim.fd < 0) return 0;
  const std::string name = failedName.empty() ? fs::path(path).filename().string() : failedName;
  return importAndSettle(path, name) ? 1 : -1;
}

SpoolPass RecordingImporter::importSpool() {
  SpoolPass pass;
  const std::string spool = folder_.config().spool();
  std::vector<std::pair<fs::file_time_type, std::string>> waiting;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(spool, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !archiveName(name)) continue;
    waiting.emplace_back(entry.last_write_time(ec), entry.path().string());
  }
  if (ec) spdlog::warn("cannot read the spool folder {}: {}", spool, ec.message());
  std::sort(waiting.begin(), waiting.end());  // oldest first
  for (const auto& [time, path] : waiting) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return pass;
    }
    int r = importClaimed(path, "");
    pass.imported += r > 0;
    pass.failed += r < 0;
  }
  const int64_t now = unixNowMs();
  for (const auto& f : failedImports()) {
    if (f.nextAttemptMs > now) continue;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return pass;
    }
    int r = importClaimed(folder_.failedFolder() + "/" + f.archive, f.archive);
    pass.imported += r > 0;
    pass.failed += r < 0;
  }
  if (metrics_) metrics_->setFailedImports(failedImports().size());
  return pass;
}

std::vector<FailedImport> RecordingImporter::failedImports() const {
  std::vector<FailedImport> out;
  const std::string folder = folder_.failedFolder();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !archiveName(name)) continue;
    out.push_back(readFailed(folder, name));
  }
  std::sort(out.begin(), out.end(),
            [](const FailedImport& a, const FailedImport& b) { return a.archive < b.archive; });
  return out;
}

Result<std::string> RecordingImporter::failedPath(const std::string& name) const {
  std::string path = folder_.failedFolder() + "/" + name;
  std::error_code ec;
  if (!archiveName(name) || !fs::is_regular_file(path, ec)) {
    return Error::of(ErrorCode::kNotFound, "no failed import named " + name);
  }
  return path;
}

Status RecordingImporter::dropFailed(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto path = failedPath(name);
  if (!path) return path.error();
  if (::unlink(path->c_str()) != 0) return ioFailure("cannot remove " + *path, errno);
  ::unlink((*path + ".json").c_str());
  spdlog::info("recording import of {} given up: removed from {}", name, folder_.failedFolder());
  return Status::Ok();
}

Status RecordingImporter::retryNow(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto path = failedPath(name);
  if (!path) return path.error();
  const std::string folder = folder_.failedFolder();
  FailedImport f = readFailed(folder, name);
  f.nextAttemptMs = 0;
  if (auto s = replaceFile(folder + "/" + name + ".json", failedJson(f).dump(2) + "\n"); !s)
    return s;
  woken_ = true;
  wakeUp_.notify_all();
  return Status::Ok();
}

void RecordingImporter::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void RecordingImporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wakeUp_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void RecordingImporter::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  wakeUp_.notify_all();
}

void RecordingImporter::loop() {
  for (;;) {
    try {
      importSpool();
    } catch (const std::exception& e) {
      spdlog::error("recording importer: {}", e.what());
    }
    std::unique_lock lock(mutex_);
    wakeUp_.wait_for(lock, folder_.config().importPollInterval,
                     [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace sb
