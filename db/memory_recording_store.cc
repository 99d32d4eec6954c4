#include "db/memory_recording_store.h"

#include <algorithm>

namespace sb {
namespace {

bool newer(const Recording* a, const Recording* b) { return newerRecordingFirst(*a, *b); }

}  // namespace

void MemoryRecordingStore::unindex(const Recording& r) {
  for (const std::string& meeting : {r.meetingId, r.internalMeetingId}) {
    auto m = byMeeting_.find(meeting);
    if (m == byMeeting_.end()) continue;
    m->second.erase(r.recordId);
    if (m->second.empty()) byMeeting_.erase(m);
  }
}

void MemoryRecordingStore::index(const Recording& r) {
  byMeeting_[r.meetingId].insert(r.recordId);
  byMeeting_[r.internalMeetingId].insert(r.recordId);
}

Status MemoryRecordingStore::put(const Recording& recording) {
  std::lock_guard lock(mu_);
  auto it = recordings_.find(recording.recordId);
  if (it != recordings_.end()) {
    unindex(it->second);
    it->second = recording;
  } else {
    it = recordings_.emplace(recording.recordId, recording).first;
    ordered_.push_back(&it->second);  // map nodes never move
  }
  index(it->second);
  orderedStale_ = true;  // sorted again by the next query that walks it
  return Status::Ok();
}

Result<std::vector<Recording>> MemoryRecordingStore::findExact(
    std::span<const std::string> recordIds, std::string_view tenant) {
  std::set<std::string_view> wanted(recordIds.begin(), recordIds.end());
  std::vector<Recording> found;
  std::lock_guard lock(mu_);
  for (std::string_view id : wanted) {
    auto it = recordings_.find(id);
    if (it != recordings_.end() &&
        (tenant == RecordingStore::kAnyTenant || it->second.tenant == tenant)) {
      found.push_back(it->second);
    }
  }
  return found;
}

RecordingPage MemoryRecordingStore::pageOf(const std::vector<const Recording*>& matching,
                                           const RecordingQuery& query) {
  RecordingPage page;
  page.total = matching.size();
  size_t from = std::min(query.offset, matching.size());
  size_t to = query.limit ? std::min(matching.size(), from + *query.limit) : matching.size();
  for (size_t i = from; i < to; ++i) page.recordings.push_back(*matching[i]);
  return page;
}

Result<RecordingPage> MemoryRecordingStore::query(const RecordingQuery& query) {
  std::vector<const Recording*> matching;
  std::lock_guard lock(mu_);
  if (!query.meetingIds.empty() || !query.recordIdPrefixes.empty()) {
    // Candidates from the indexes (each once), then the whole query on them.
    std::set<const Recording*> candidates;
    if (!query.meetingIds.empty()) {
      for (const auto& meeting : query.meetingIds) {
        auto m = byMeeting_.find(meeting);
        if (m == byMeeting_.end()) continue;
        for (const auto& id : m->second) candidates.insert(&recordings_.find(id)->second);
      }
    } else {
      for (const auto& prefix : query.recordIdPrefixes) {
        for (auto it = recordings_.lower_bound(prefix);
             it != recordings_.end() && it->first.starts_with(prefix); ++it) {
          candidates.insert(&it->second);
        }
      }
    }
    for (const Recording* r : candidates) {
      if (query.matches(*r)) matching.push_back(r);
    }
    std::sort(matching.begin(), matching.end(), newer);
    return pageOf(matching, query);
  }
  if (orderedStale_) {
    std::sort(ordered_.begin(), ordered_.end(), newer);
    orderedStale_ = false;
  }
  for (const Recording* r : ordered_) {
    if (query.matches(*r)) matching.push_back(r);
  }
  return pageOf(matching, query);
}

}  // namespace sb
