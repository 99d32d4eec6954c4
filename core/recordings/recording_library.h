// The BBB recordings API's use cases over a RecordingStore: getRecordings (filters, prefixes,
// pagination), publishRecordings, updateRecordings and deleteRecordings, with BBB's parameter
// rules and error keys. Parameters arrive decoded (checksum already verified). No I/O of its own.
// Thread-safety: as safe as the store (concurrent calls are fine).
#pragma once

#include <string>

#include "core/query_string.h"
#include "core/recordings/recording_files.h"
#include "core/recordings/recording_store.h"
#include "core/result.h"

namespace sb {

class RecordingLibrary {
 public:
  // getRecordings answers at most this many recordings per page (BBB's `limit` range is 1-100).
  static constexpr size_t kMaxLimit = 100;

  // `files` (may be null: no files to keep in step) follow every change of state and metadata
  // before the store does, so that only published recordings are ever served.
  explicit RecordingLibrary(RecordingStore& store, RecordingFiles* files = nullptr)
      : store_(store), files_(files) {}

  // getRecordings: `recordID` (csv of IDs or ID prefixes) or else `meetingID` (csv, the
  // frontend's or BBB's internal ID), `state` (csv, default published,unpublished; `any`),
  // `meta_<key>=v1,v2` filters, `offset` and `limit`.
  Result<RecordingPage> getRecordings(const QueryString& params, const std::string& tenant = "");
  // publishRecordings: the `publish` value asked for (BBB echoes it).
  Result<bool> publish(const QueryString& params, const std::string& tenant = "");
  // updateRecordings: whether any metadata changed.
  Result<bool> update(const QueryString& params, const std::string& tenant = "");
  // deleteRecordings: marks the recordings deleted (they stay listed with state=deleted/any).
  Status remove(const QueryString& params, const std::string& tenant = "");

  // What reindex did.
  struct Reindexed {
    size_t stored = 0;                  // recordings put into the store
    size_t failed = 0;                  // found but not stored (the store refused)
    std::vector<std::string> problems;  // files that could not be read, "<path>: <why>"
  };
  // Puts every recording the files hold into the store (the files are the truth): the embedded
  // store's index at start-up, and an operator's rebuild of PostgreSQL's from the recordings
  // folder (after a restore, or moving from the embedded default). Recordings the store has and
  // the files do not are left alone. kInvalidArgument when there are no files to read.
  Result<Reindexed> reindex();
  // The recording with exactly this ID, in any state; nullopt when there is none.
  Result<std::optional<Recording>> find(const std::string& recordId,
                                        const std::string& tenant = "");

  // The getRecordings query of `params` (exposed for tests and the admin API).
  static Result<RecordingQuery> queryOf(const QueryString& params, const std::string& tenant);

  // The distinct record IDs of `recordID`, or missingParamRecordID.
  static Result<std::vector<std::string>> recordIds(const QueryString& params);

 private:
  // The recordings with those exact IDs, or notFound when there are none.
  Result<std::vector<Recording>> existing(const QueryString& params, const std::string& tenant);

  // Moves `r`'s files to `state` and stores it so; the files go back when the store fails.
  Status changeState(Recording& r, RecordingState state);

  RecordingStore& store_;
  RecordingFiles* files_;
};

}  // namespace sb
