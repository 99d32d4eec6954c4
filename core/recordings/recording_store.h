// Port: where recordings are kept (db/ implements it: memory, PostgreSQL). Thread-safe; store
// failures are kStoreUnavailable. The query semantics are core's (RecordingQuery::matches), so
// every store answers the same; tests/unit/recording_store_contract.h holds them to it.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/recordings/recording.h"
#include "core/result.h"

namespace sb {

// What getRecordings asks for. Empty lists do not filter.
struct RecordingQuery {
  std::vector<std::string> recordIdPrefixes;  // a record ID may be a prefix, as in BBB
  // Matched against meetingID and internalMeetingID (Moodle keeps the internal one).
  std::vector<std::string> meetingIds;
  std::vector<RecordingState> states;  // empty: any state
  // meta_ filters: every key must match one of its values (AND across keys, as BBB does).
  std::vector<std::pair<std::string, std::vector<std::string>>> meta;
  std::string tenant;
  bool nothing = false;  // nothing can match (only unknown states were asked for)
  size_t offset = 0;
  std::optional<size_t> limit;

  bool matches(const Recording& r) const;
};

// A page of recordings, newest first (startTime, then record ID), and how many match in all.
struct RecordingPage {
  std::vector<Recording> recordings;
  size_t total = 0;
};

class RecordingStore {
 public:
  virtual ~RecordingStore() = default;
  // The tenant findExact takes to mean every tenant's (a tenant name is a DNS label, never "*"):
  // for what serves or manages a recording by its ID whoever owns it (playback files,
  // protection, the operator's admin API).
  static constexpr std::string_view kAnyTenant = "*";

  // Inserts or replaces the recording with `recording.recordId` (a re-import updates, never
  // duplicates).
  virtual Status put(const Recording& recording) = 0;
  // The recordings with exactly these IDs (of `tenant`, or of any with kAnyTenant), each once,
  // in no particular order.
  virtual Result<std::vector<Recording>> findExact(std::span<const std::string> recordIds,
                                                   std::string_view tenant) = 0;
  virtual Result<RecordingPage> query(const RecordingQuery& query) = 0;
};

// Orders recordings as every store answers them: newest first, then by record ID.
bool newerRecordingFirst(const Recording& a, const Recording& b);

}  // namespace sb
