#include "db/memory_recording_store.h"

#include <algorithm>
#include <set>

namespace sb {

Status MemoryRecordingStore::put(const Recording& recording) {
  std::lock_guard lock(mu_);
  recordings_.insert_or_assign(recording.recordId, recording);
  return Status::Ok();
}

Result<std::vector<Recording>> MemoryRecordingStore::findExact(
    std::span<const std::string> recordIds, std::string_view tenant) {
  std::set<std::string_view> wanted(recordIds.begin(), recordIds.end());
  std::vector<Recording> found;
  std::lock_guard lock(mu_);
  for (std::string_view id : wanted) {
    auto it = recordings_.find(id);
    if (it != recordings_.end() && it->second.tenant == tenant) found.push_back(it->second);
  }
  return found;
}

Result<RecordingPage> MemoryRecordingStore::query(const RecordingQuery& query) {
  std::vector<const Recording*> matching;
  std::lock_guard lock(mu_);
  for (const auto& [id, r] : recordings_) {
    if (query.matches(r)) matching.push_back(&r);
  }
  std::sort(matching.begin(), matching.end(),
            [](const Recording* a, const Recording* b) { return newerRecordingFirst(*a, *b); });
  RecordingPage page;
  page.total = matching.size();
  size_t from = std::min(query.offset, matching.size());
  size_t to = query.limit ? std::min(matching.size(), from + *query.limit) : matching.size();
  for (size_t i = from; i < to; ++i) page.recordings.push_back(*matching[i]);
  return page;
}

}  // namespace sb
