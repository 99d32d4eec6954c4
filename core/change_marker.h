// Marks servers changed in the getMeetings snapshot store after creates, ends and moves. When the
// store prefers batches (Redis), the marks of concurrent calls go in one store write
// (MeetingsSnapshotStore::markChangedMany: one script run for all of them), through a
// GroupCommit; otherwise (the embedded store) each mark is written at once.
//
// A caller must not answer its create before the mark is written (a getMeetings right after it
// would be served from a snapshot without the new meeting), so unlike the reservations every
// caller waits until a write that started after it handed its mark over is done. A mark's time is
// taken when its batch is written, after every create it covers completed, so it is never
// earlier than the change it stands for.
// Thread-safety: mark() may be called concurrently.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/group_commit.h"
#include "core/meetings_snapshot.h"

namespace sb {

class ChangeMarker {
 public:
  ChangeMarker(MeetingsSnapshotStore& store, const Clock& clock);

  // Returns once `serverId` is marked changed at a time after this call began. A store failure
  // is logged and returns as well: getMeetings may then miss the change until the next poll of
  // that server replaces its snapshot.
  void mark(const std::string& serverId);

  // Marks handed over that wait for the next write.
  size_t waitingMarks() { return marks_.handedOver(); }

 private:
  std::vector<std::monostate> write(std::vector<std::string>& serverIds);

  MeetingsSnapshotStore& store_;
  const Clock& clock_;
  GroupCommit<std::string, std::monostate> marks_;
};

}  // namespace sb
