// Recordings in process memory, behind one mutex: the index of the embedded default (filled
// from the recordings folder at start-up) and the reference store of the recording store
// contract tests. getRecordings' common questions are answered without a scan: a meeting's
// recordings from an index by meeting ID (the frontend's and BBB's internal one), record ID
// prefixes from the ordered map; other queries walk the recordings already in answer order
// (newest first), so no sort is needed (bench/recordings.sh).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/recordings/recording_store.h"

namespace sb {

class MemoryRecordingStore final : public RecordingStore {
 public:
  Status put(const Recording& recording) override;
  Result<std::vector<Recording>> findExact(std::span<const std::string> recordIds,
                                           std::string_view tenant) override;
  Result<RecordingPage> query(const RecordingQuery& query) override;

 private:
  // The page of `matching` (in answer order) that `query` asks for.
  static RecordingPage pageOf(const std::vector<const Recording*>& matching,
                              const RecordingQuery& query);
  void unindex(const Recording& r);
  void index(const Recording& r);

  std::mutex mu_;
  // Everything below is guarded by mu_.
  std::map<std::string, Recording, std::less<>> recordings_;  // by record ID
  // Meeting ID (frontend's or internal) -> record IDs.
  std::unordered_map<std::string, std::set<std::string>> byMeeting_;
  // Every recording, newest first (newerRecordingFirst) unless orderedStale_: puts only append
  // (a start-up's 100,000 puts would otherwise move the vector 100,000 times).
  std::vector<const Recording*> ordered_;
  bool orderedStale_ = false;
};

}  // namespace sb
