#include "core/recordings/recording_library.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/query_string.h"

namespace sb {
namespace {

// The non-empty items of a comma-separated value, each once, in order.
std::vector<std::string> csv(std::string_view value) {
  std::vector<std::string> items;
  std::set<std::string, std::less<>> seen;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && seen.emplace(item).second) items.emplace_back(item);
    pos = comma + 1;
  }
  return items;
}

// A non-negative number written in digits only; nullopt otherwise (the parameter is then
// ignored, as BBB ignores a malformed offset or limit).
std::optional<size_t> count(std::optional<std::string_view> value) {
  if (!value || value->empty()) return std::nullopt;
  size_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

constexpr std::string_view kMetaPrefix = "meta_";

}  // namespace

Result<RecordingQuery> RecordingLibrary::queryOf(const QueryString& params,
                                                 const std::string& tenant) {
  RecordingQuery q;
  q.tenant = tenant;
  q.recordIdPrefixes = csv(params.get("recordID").value_or(""));
  // BBB ignores meetingID when recordID is given.
  if (q.recordIdPrefixes.empty()) q.meetingIds = csv(params.get("meetingID").value_or(""));
  auto states = csv(params.get("state").value_or(""));
  if (states.empty()) states = {"published", "unpublished"};
  if (std::find(states.begin(), states.end(), "any") == states.end()) {
    for (const auto& name : states) {
      if (auto s = parseRecordingState(name)) q.states.push_back(*s);
    }
    // Only unknown names: nothing can match (BBB lists nothing for state=bogus).
    q.nothing = q.states.empty();
  }
  for (const auto& p : params.params()) {
    if (!p.name.starts_with(kMetaPrefix) || p.name.size() == kMetaPrefix.size()) continue;
    std::string key = lowerAscii(std::string_view(p.name).substr(kMetaPrefix.size()));
    auto values = csv(p.value);
    if (values.empty()) continue;
    auto same = std::find_if(q.meta.begin(), q.meta.end(), [&](auto& m) { return m.first == key; });
    if (same == q.meta.end()) q.meta.emplace_back(std::move(key), std::move(values));
  }
  q.offset = count(params.get("offset")).value_or(0);
  if (auto limit = count(params.get("limit")); limit && *limit > 0) {
    q.limit = std::min(*limit, kMaxLimit);
  }
  return q;
}

Result<RecordingPage> RecordingLibrary::getRecordings(const QueryString& params,
                                                      const std::string& tenant) {
  auto q = queryOf(params, tenant);
  if (!q) return q.error();
  if (q->nothing) return RecordingPage{};
  return store_.query(*q);
}

Result<std::optional<Recording>> RecordingLibrary::find(const std::string& recordId,
                                                        const std::string& tenant) {
  std::vector<std::string> ids = {recordId};
  auto found = store_.findExact(ids, tenant);
  if (!found) return found.error();
  if (found->empty()) return std::optional<Recording>();
  return std::optional<Recording>(std::move(found->front()));
}

Result<std::vector<std::string>> RecordingLibrary::recordIds(const QueryString& params) {
  auto ids = csv(params.get("recordID").value_or(""));
  if (ids.empty()) return Error::of(ErrorCode::kMissingParamRecordID);
  return ids;
}

Result<std::vector<Recording>> RecordingLibrary::existing(const QueryString& params,
                                                          const std::string& tenant) {
  auto ids = recordIds(params);
  if (!ids) return ids.error();
  auto found = store_.findExact(*ids, tenant);
  if (!found) return found.error();
  if (found->empty()) return Error::of(ErrorCode::kNotFound, "We could not find recordings");
  return found;
}

Result<bool> RecordingLibrary::publish(const QueryString& params, const std::string& tenant) {
  auto ids = recordIds(params);
  if (!ids) return ids.error();
  auto value = params.get("publish");
  if (!value || value->empty()) return Error::of(ErrorCode::kMissingParamPublish);
  const bool publish = lowerAscii(*value) == "true";
  auto found = existing(params, tenant);
  if (!found) return found.error();
  // Only published or unpublished recordings change (processing and deleted ones stay).
  bool any = false;
  for (auto& r : *found) {
    if (r.state != RecordingState::kPublished && r.state != RecordingState::kUnpublished) continue;
    any = true;
    RecordingState wanted = publish ? RecordingState::kPublished : RecordingState::kUnpublished;
    if (r.state == wanted) continue;
    if (auto s = changeState(r, wanted); !s.ok()) return s.error();
  }
  if (!any) return Error::of(ErrorCode::kNotFound, "We could not find recordings");
  return publish;
}

Result<bool> RecordingLibrary::update(const QueryString& params, const std::string& tenant) {
  auto found = existing(params, tenant);
  if (!found) return found.error();
  // Greenlight's `protect` (Scalelite's extension), applied to every listed recording (Scalelite
  // applies it to the first one only); values other than true and false are ignored.
  std::optional<bool> protect;
  if (auto p = params.get("protect")) {
    const std::string lowered = lowerAscii(*p);
    if (lowered == "true" || lowered == "false") protect = lowered == "true";
  }
  bool changed = false;
  for (auto& r : *found) {
    bool mine = false;
    if (protect && r.isProtected != *protect) {
      r.isProtected = *protect;
      mine = true;
    }
    for (const auto& p : params.params()) {
      if (!p.name.starts_with(kMetaPrefix) || p.name.size() == kMetaPrefix.size()) continue;
      mine = r.setMeta(lowerAscii(std::string_view(p.name).substr(kMetaPrefix.size())), p.value) ||
             mine;
    }
    if (!mine) continue;
    changed = true;
    if (files_) {
      if (auto s = files_->saveMetadata(r); !s.ok()) return s.error();
    }
    if (auto s = store_.put(r); !s.ok()) return s.error();
  }
  return changed;
}

Result<RecordingLibrary::Reindexed> RecordingLibrary::reindex() {
  if (!files_) return Error::of(ErrorCode::kInvalidArgument, "no recordings folder here");
  Reindexed done;
  for (const auto& r : files_->scan(done.problems)) {
    if (store_.put(r)) {
      ++done.stored;
    } else {
      ++done.failed;
    }
  }
  return done;
}

Status RecordingLibrary::remove(const QueryString& params, const std::string& tenant) {
  auto found = existing(params, tenant);
  if (!found) return found.error();
  for (auto& r : *found) {
    if (r.state == RecordingState::kDeleted) continue;
    if (auto s = changeState(r, RecordingState::kDeleted); !s.ok()) return s.error();
  }
  return Status::Ok();
}

Status RecordingLibrary::changeState(Recording& r, RecordingState state) {
  const RecordingState before = r.state;
  if (files_) {
    if (auto s = files_->moveTo(r, state); !s.ok()) return s;
  }
  r.state = state;
  if (auto s = store_.put(r); !s.ok()) {
    if (files_) (void)files_->moveTo(r, before);
    r.state = before;
    return s;
  }
  return Status::Ok();
}

}  // namespace sb
