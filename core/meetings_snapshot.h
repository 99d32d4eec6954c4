// Port: the poller's latest getMeetings answer of each server, so getMeetings is answered from
// memory instead of asking every server live (docs/ARCHITECTURE.md, "getMeetings").
// A snapshot is used only while it is newer than every change routers made on that server since
// (a create or end through Switchboard marks the server changed), so a meeting created through
// Switchboard appears at once and an ended one disappears at once: such a server is asked live.
// Implemented in db/ (memory; Redis for the shared store: snapshots are worth nothing after a
// few poll intervals, PostgreSQL keeps none). Thread-safe; store failures are kStoreUnavailable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sb {

// When a snapshot was taken and its server last changed: enough to tell whether it is usable,
// without reading the meetings.
struct SnapshotVersion {
  int64_t takenAtMs = 0;    // when the poll that produced it started (epoch ms)
  int64_t changedAtMs = 0;  // the last create or end routed to the server (0 = none)
  // Usable at `nowMs`: no change since it was taken, and not older than `maxAgeMs`.
  bool usable(int64_t nowMs, int64_t maxAgeMs) const {
    return takenAtMs > 0 && changedAtMs < takenAtMs && nowMs - takenAtMs <= maxAgeMs;
  }
};

struct MeetingsSnapshot : SnapshotVersion {
  std::string meetingsXml;  // its <meeting> elements, concatenated
};

class MeetingsSnapshotStore {
 public:
  virtual ~MeetingsSnapshotStore() = default;
  // The time to date a snapshot by (the `takenAtMs` of putSnapshot), read before its poll's
  // requests go out. Marks and snapshots must be dated by one clock: with a router's clock behind
  // the poller's, a snapshot that misses a create could look newer than the create's mark. A
  // store that several processes write dates marks by its own clock (Redis: TIME, in the mark's
  // script) and answers that clock here; the default, for a store inside one process, is the
  // caller's own time.
  virtual Result<int64_t> timeMs(int64_t localNowMs) { return localNowMs; }
  // The poller's write: replaces the meetings and the time taken, keeps changedAtMs.
  virtual Status putSnapshot(std::string_view serverId, int64_t takenAtMs,
                             const std::string& meetingsXml) = 0;
  // A router's write after a create or end on the server, dated `atMs` (the router's time) or,
  // by a store shared between processes, by the store's clock (see timeMs).
  virtual Status markChanged(std::string_view serverId, int64_t atMs) = 0;
  // markChanged of several servers at once (the creates of concurrent placements). This default
  // makes one call each and fails with the first error.
  virtual Status markChangedMany(const std::vector<std::string>& serverIds, int64_t atMs) {
    for (const auto& id : serverIds) {
      if (Status s = markChanged(id, atMs); !s) return s;
    }
    return Status::Ok();
  }
  // Whether markChangedMany of n servers costs far less than n marks (a store with round trips):
  // callers then gather the marks of concurrent creates into one call (core/change_marker.h).
  virtual bool prefersMarkBatches() const { return false; }
  // One entry per id, in order; nullopt where there is none.
  virtual Result<std::vector<std::optional<MeetingsSnapshot>>> snapshots(
      const std::vector<std::string>& serverIds) = 0;
  // The same without the meetings (cheap: getMeetings checks these on every call).
  virtual Result<std::vector<std::optional<SnapshotVersion>>> versions(
      const std::vector<std::string>& serverIds) = 0;
};

}  // namespace sb
