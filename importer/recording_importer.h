// The importer: archives of recordings (from the BBB servers' post-publish hook through
// POST /recordings/upload, or dropped into RECORDING_SPOOL_DIR by Scalelite's transfer scripts)
// into the recordings folder and the store, never losing one:
//   1. the archive is unpacked into a fresh staging folder under RECORDING_WORK_DIR
//      (importer/archive_extract.h: streaming, nothing outside staging, no links or devices);
//   2. its layout is checked: <format>/<record_id>/ folders, each with a metadata.xml naming
//      that recording and that format;
//   3. the files reach the disk (syncfs), then each format is renamed into place
//      (importer/recording_folder.h), replacing its earlier copy in an exchange;
//   4. the recording is written to the store (a re-import updates it: core's
//      mergeImportedRecording);
//   5. only then is the archive removed (or the upload acknowledged).
// Whatever fails keeps the archive, in the spool's failed/ folder with a JSON file saying why,
// and it is tried again later (after the poll interval, then twice as long each time, up to
// RECORDING_IMPORT_RETRY_MAX). Several importers may share a spool folder: each archive is
// claimed with an exclusive lock, so one of them imports it.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/recordings/recording_store.h"
#include "core/result.h"
#include "importer/recording_folder.h"

namespace sb {

// What one archive brought.
struct ImportedArchive {
  std::vector<Recording> recordings;  // as stored after the import
  uint64_t bytes = 0;                 // unpacked
  size_t files = 0;
};

// An archive kept in failed/.
struct FailedImport {
  std::string archive;  // its name in the failed folder
  std::string reason;
  int attempts = 0;
  int64_t firstFailedMs = 0;  // Unix time in ms
  int64_t lastFailedMs = 0;
  int64_t nextAttemptMs = 0;
  uint64_t size = 0;  // of the archive, bytes
};

// One look at the spool folder.
struct SpoolPass {
  int imported = 0;
  int failed = 0;
};

class RecordingImporter {
 public:
  // Told after every recording an import stored (the recording-ready callbacks hang here).
  using ImportedListener = std::function<void(const Recording&)>;

  RecordingImporter(RecordingFolder& folder, RecordingStore& store, Metrics* metrics = nullptr);
  ~RecordingImporter();
  RecordingImporter(const RecordingImporter&) = delete;
  RecordingImporter& operator=(const RecordingImporter&) = delete;

  void onImported(ImportedListener listener);

  // Imports `archive` (steps 1-4 above); the archive itself is not touched. Errors:
  // kValidationError when the archive is not a recording's (the message says why),
  // kStoreUnavailable when the store failed, kInternalError for the disk (full, unwritable).
  Result<ImportedArchive> importArchive(const std::string& archive);

  // Imports `archive` and settles it: removed once imported (with its failure record when it
  // came from the failed folder), else kept in the failed folder as `name`. Counts the import
  // in the metrics and tells the listener. The caller holds the archive (an upload's file, or
  // a claimed spool archive).
  Result<ImportedArchive> importAndSettle(const std::string& archive, const std::string& name);

  // Keeps `archive` in the failed folder under `name` (moved, not copied) with `why`; an earlier
  // failure of the same name counts as an earlier attempt.
  void keepFailed(const std::string& archive, const std::string& name, const Error& why);
  // Removes the failed archive `name` and its record (the operator gives up on it).
  Status dropFailed(const std::string& name);
  // Whether `name` may name an archive here: a file name (no '/'), not hidden, ending in one of
  // the archive suffixes.
  static bool isArchiveName(std::string_view name);

  // Imports every archive waiting in the spool folder (`*.tar`, `*.tar.gz`, `*.tgz`, `*.tar.xz`,
  // `*.tar.bz2`, `*.tar.zst`; names starting with '.' are transfers in progress), then the failed
  // ones whose next attempt is due.
  SpoolPass importSpool();
  std::vector<FailedImport> failedImports() const;
  // Makes the failed archive `name` due now (kNotFound when there is none).
  Status retryNow(const std::string& name);

  // Runs importSpool every RECORDING_IMPORT_POLL_INTERVAL on a thread of its own (and at once
  // after wake()), until stop(). stop() lets the archive being imported finish.
  void start();
  void stop();
  void wake();

 private:
  struct Claim;
  // Imports the archive at `path` if it can claim it; `failedName` set when it comes from the
  // failed folder. 1 imported, 0 not claimed, -1 failed.
  int importClaimed(const std::string& path, const std::string& failedName);
  // The failed archive `name`'s path, or kNotFound.
  Result<std::string> failedPath(const std::string& name) const;
  void loop();

  RecordingFolder& folder_;
  RecordingStore& store_;
  Metrics* metrics_;
  ImportedListener listener_;
  std::mutex mutex_;  // guards listener_, the failed folder's JSON files, and the loop state
  std::condition_variable wakeUp_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace sb
