// Marks servers changed in the getMeetings snapshot store after creates, ends and moves, the
// marks of concurrent calls in one store write (MeetingsSnapshotStore::markChangedMany: one Redis
// script run for all of them).
//
// A caller must not answer its create before the mark is written (a getMeetings right after it
// would be served from a snapshot without the new meeting), so unlike the reservations every
// caller waits: the first to find no write under way writes every mark handed over so far; the
// others sleep until a write that started after they handed theirs over is done, and one of them
// writes the next batch. A mark's time is taken when its batch is written, after every create it
// covers completed, so it is never earlier than the change it stands for.
// Thread-safety: mark() may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/meetings_snapshot.h"

namespace sb {

class ChangeMarker {
 public:
  ChangeMarker(MeetingsSnapshotStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Returns once `serverId` is marked changed at a time after this call began. A store failure
  // is logged and returns as well: getMeetings may then miss the change until the next poll of
  // that server replaces its snapshot.
  void mark(const std::string& serverId);

 private:
  MeetingsSnapshotStore& store_;
  const Clock& clock_;
  std::mutex mu_;
  // The waiters of batch n wait on turn_[n % 2]: a batch written wakes only its own callers,
  // and one caller of the next batch to write it (not every caller every time).
  std::condition_variable turn_[2];
  std::set<std::string, std::less<>> pending_;  // guarded by mu_: handed over, not yet taken
  uint64_t nextBatch_ = 1;                      // guarded by mu_: the batch pending_ will be
  uint64_t lastWritten_ = 0;                    // guarded by mu_: batches done, in order
  bool writing_ = false;                        // guarded by mu_
};

}  // namespace sb
