// Port: the meeting -> server map. Implemented by db/. Thread-safe; store failures are
// kStoreUnavailable.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/meeting.h"
#include "core/result.h"

namespace sb {

class MeetingStore {
 public:
  virtual ~MeetingStore() = default;

  virtual Result<std::optional<Meeting>> findMeeting(std::string_view id) = 0;

  // findMeeting of many ids at once (the join cache's refreshes): one answer per id, in order.
  // A store with round trips answers in as few as it can; this default asks one at a time and
  // fails with the first error.
  virtual Result<std::vector<std::optional<Meeting>>> findMeetings(
      std::span<const std::string> ids) {
    std::vector<std::optional<Meeting>> found;
    found.reserve(ids.size());
    for (const auto& id : ids) {
      auto m = findMeeting(id);
      if (!m) return m.error();
      found.push_back(std::move(*m));
    }
    return found;
  }

  // Atomically claims `meeting.id` for `meeting.serverId` when nobody holds it (or the holder is
  // orphaned), and returns the meeting that owns the id afterwards: `meeting` itself with
  // claimed=true when the claim won, or the existing one with claimed=false. Of concurrent claims
  // of one id exactly one wins, and all see the same owner.
  struct Claim {
    Meeting meeting;
    bool claimed = false;
  };
  virtual Result<Claim> claimMeeting(const Meeting& meeting) = 0;

  // claimMeeting of several meetings at once (the claims of concurrent creates): one outcome per
  // meeting, in order, as if they were claimed one after the other in that order. The first
  // claim of each id goes to claimDistinctMeetings; a repeated id is claimed after them, on its
  // own, and so loses to (or, if that failed, takes over from) its first claim.
  std::vector<Result<Claim>> claimMeetings(std::span<const Meeting> meetings);
  // Whether claimMeetings of n meetings costs far less than n claims (a store with round trips):
  // callers then gather the claims of concurrent creates into one call. Otherwise gathering
  // would only make them wait on each other.
  virtual bool prefersClaimBatches() const { return false; }

  // Removes the meeting if it is still on `serverId` (empty = whatever server). Removing a
  // missing meeting is not an error.
  virtual Status removeMeeting(std::string_view id, std::string_view serverId = {}) = 0;

  // Marks every meeting on the server orphaned (its server went away). Returns how many.
  virtual Result<int> orphanMeetingsOf(std::string_view serverId) = 0;

  // Meetings on one server (empty = all), ordered by id.
  virtual Result<std::vector<Meeting>> listMeetings(std::string_view serverId = {}) = 0;

  // Every meeting, ordered by id, as the poller needs it each round. The stores read only those
  // fields; this default lists whole meetings.
  virtual Result<std::vector<PlacedMeeting>> listPlacedMeetings();

  // Remembers (for about `keep`) that the meeting `id` was ended through Switchboard at `atMs`
  // (epoch ms), after its record was removed. A copy of it found later on a server that did not
  // answer the end (hung, then back) is then ended there instead of being taken for a route the
  // store lost (core/meeting_copies.h). Best effort: this default remembers nothing.
  virtual Status rememberEnded(std::string_view /*id*/, int64_t /*atMs*/,
                               std::chrono::milliseconds /*keep*/) {
    return Status::Ok();
  }
  // When the meeting was last ended through Switchboard, if that is still remembered.
  virtual Result<std::optional<int64_t>> endedAt(std::string_view /*id*/) {
    return std::optional<int64_t>();
  }

 protected:
  // claimMeetings of meetings with distinct ids. A store with round trips claims them in as few
  // as it can; this default claims one at a time.
  virtual std::vector<Result<Claim>> claimDistinctMeetings(std::span<const Meeting> meetings);
};

}  // namespace sb
