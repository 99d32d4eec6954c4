// Recordings in process memory, behind one mutex: the index of the embedded default (filled
// from the recordings folder at start-up by the importer) and the reference store of the
// recording store contract tests.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/recordings/recording_store.h"

namespace sb {

class MemoryRecordingStore final : public RecordingStore {
 public:
  Status put(const Recording& recording) override;
  Result<std::vector<Recording>> findExact(std::span<const std::string> recordIds,
                                           std::string_view tenant) override;
  Result<RecordingPage> query(const RecordingQuery& query) override;

 private:
  std::mutex mu_;
  std::map<std::string, Recording, std::less<>> recordings_;  // by record ID; guarded by mu_
};

}  // namespace sb
