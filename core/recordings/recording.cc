#include "core/recordings/recording.h"

#include <algorithm>
#include <array>

namespace sb {
namespace {

constexpr std::array<std::pair<RecordingState, std::string_view>, 5> kStateNames = {{
    {RecordingState::kProcessing, "processing"},
    {RecordingState::kProcessed, "processed"},
    {RecordingState::kPublished, "published"},
    {RecordingState::kUnpublished, "unpublished"},
    {RecordingState::kDeleted, "deleted"},
}};

}  // namespace

std::string_view recordingStateName(RecordingState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "published";
}

std::optional<RecordingState> parseRecordingState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::optional<std::string_view> Recording::meta(std::string_view key) const {
  for (const auto& [k, v] : metadata) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

bool Recording::setMeta(const std::string& key, const std::string& value) {
  auto it = std::find_if(metadata.begin(), metadata.end(),
                         [&](const auto& kv) { return kv.first == key; });
  if (value.empty()) {
    if (it == metadata.end()) return false;
    metadata.erase(it);
    return true;
  }
  if (it == metadata.end()) {
    metadata.emplace_back(key, value);
    return true;
  }
  if (it->second == value) return false;
  it->second = value;
  return true;
}

int64_t Recording::size() const {
  int64_t total = 0;
  for (const auto& f : formats) total += f.size;
  return total;
}

}  // namespace sb
