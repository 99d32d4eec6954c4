#include "core/change_marker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace sb {
namespace {

// Servers per store write: a Redis script's keys (one per server; creates mark few servers).
constexpr size_t kMaxMarksPerWrite = 256;

}  // namespace

ChangeMarker::ChangeMarker(MeetingsSnapshotStore& store, const Clock& clock)
    : store_(store),
      clock_(clock),
      marks_([this](std::vector<std::string>& ids) { return write(ids); }, kMaxMarksPerWrite) {}

void ChangeMarker::mark(const std::string& serverId) {
  if (store_.prefersMarkBatches()) {
    marks_.run(serverId);
    return;
  }
  std::vector<std::string> alone{serverId};  // the time is taken now, after this call began
  (void)write(alone);
}

std::vector<std::monostate> ChangeMarker::write(std::vector<std::string>& serverIds) {
  const size_t calls = serverIds.size();
  std::sort(serverIds.begin(), serverIds.end());  // one mark per server
  serverIds.erase(std::unique(serverIds.begin(), serverIds.end()), serverIds.end());
  try {
    if (Status s = store_.markChangedMany(serverIds, clock_.nowMs()); !s) {
      spdlog::warn("could not mark {} servers changed for getMeetings: {}", serverIds.size(),
                   s.error().message);
    }
  } catch (const std::exception& e) {  // a mark that fails is logged, never the caller's error
    spdlog::error("marking servers changed failed: {}", e.what());
  }
  return std::vector<std::monostate>(calls);
}

}  // namespace sb
