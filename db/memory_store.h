// The embedded default store: servers and meetings in process memory, behind one mutex each.
// Implements the same ports (and passes the same contract tests) as the Redis + PostgreSQL store;
// state is lost when the process exits.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/server_store.h"

namespace sb {

class MemoryServerStore final : public ServerStore {
 public:
  Result<std::vector<Server>> listServers() override;
  Result<Server> getServer(std::string_view id) override;
  Status addServer(const Server& server) override;
  Status updateServer(const Server& server) override;
  Status removeServer(std::string_view id) override;
  Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                  AdminState next) override;
  Status updateLiveState(std::string_view id, const ServerLiveState& live) override;
  Status reserve(std::string_view id, double load, int meetings) override;

 private:
  std::mutex mu_;
  std::map<std::string, Server, std::less<>> servers_;  // guarded by mu_
};

// Keeps each snapshot's XML zlib-compressed (about a tenth of its size: 100,000 meetings' XML is
// ~150 MB as text), inflated when a getMeetings rebuilds its listing.
class MemorySnapshotStore final : public MeetingsSnapshotStore {
 public:
  Status putSnapshot(std::string_view serverId, int64_t takenAtMs,
                     const std::string& meetingsXml) override;
  Status markChanged(std::string_view serverId, int64_t atMs) override;
  Result<std::vector<std::optional<MeetingsSnapshot>>> snapshots(
      const std::vector<std::string>& serverIds) override;
  Result<std::vector<std::optional<SnapshotVersion>>> versions(
      const std::vector<std::string>& serverIds) override;

 private:
  struct Stored {
    SnapshotVersion version;
    std::shared_ptr<const std::string> deflated;  // null until the first put
    size_t xmlBytes = 0;
  };
  std::mutex mu_;
  std::map<std::string, Stored, std::less<>> snapshots_;  // guarded by mu_
};

class MemoryMeetingStore final : public MeetingStore {
 public:
  Result<std::optional<Meeting>> findMeeting(std::string_view id) override;
  Result<Claim> claimMeeting(const Meeting& meeting) override;
  Status removeMeeting(std::string_view id, std::string_view serverId) override;
  Result<int> orphanMeetingsOf(std::string_view serverId) override;
  Result<std::vector<Meeting>> listMeetings(std::string_view serverId) override;
  Result<std::vector<PlacedMeeting>> listPlacedMeetings() override;
  // The last kMaxEnded ends are remembered (one process: bounded by count rather than time).
  Status rememberEnded(std::string_view id, int64_t atMs, std::chrono::milliseconds keep) override;
  Result<std::optional<int64_t>> endedAt(std::string_view id) override;
  static constexpr size_t kMaxEnded = 100'000;

 private:
  std::mutex mu_;
  std::map<std::string, Meeting, std::less<>> meetings_;  // guarded by mu_
  std::map<std::string, int64_t, std::less<>> ended_;     // guarded by mu_
  std::deque<std::string> endedOrder_;                    // guarded by mu_: oldest first
};

}  // namespace sb
