#include "core/meeting_store.h"

#include <set>
#include <string_view>

namespace sb {

std::vector<Result<MeetingStore::Claim>> MeetingStore::claimMeetings(
    std::span<const Meeting> meetings) {
  std::set<std::string_view> ids;
  std::vector<bool> repeated(meetings.size());
  bool anyRepeated = false;
  for (size_t i = 0; i < meetings.size(); ++i) {
    repeated[i] = !ids.insert(meetings[i].id).second;
    anyRepeated = anyRepeated || repeated[i];
  }
  if (!anyRepeated) return claimDistinctMeetings(meetings);
  std::vector<Meeting> firsts;
  for (size_t i = 0; i < meetings.size(); ++i) {
    if (!repeated[i]) firsts.push_back(meetings[i]);
  }
  std::vector<Result<Claim>> claimed = claimDistinctMeetings(firsts);
  std::vector<Result<Claim>> claims;
  claims.reserve(meetings.size());
  for (size_t i = 0, first = 0; i < meetings.size(); ++i) {
    // The repeats are claimed here, in order, after all the first claims.
    claims.push_back(repeated[i] ? claimMeeting(meetings[i]) : std::move(claimed[first++]));
  }
  return claims;
}

std::vector<Result<MeetingStore::Claim>> MeetingStore::claimDistinctMeetings(
    std::span<const Meeting> meetings) {
  std::vector<Result<Claim>> claims;
  claims.reserve(meetings.size());
  for (const auto& m : meetings) claims.push_back(claimMeeting(m));
  return claims;
}

Result<std::vector<PlacedMeeting>> MeetingStore::listPlacedMeetings() {
  auto all = listMeetings({});
  if (!all) return all.error();
  std::vector<PlacedMeeting> out;
  out.reserve(all->size());
  for (const auto& m : *all) out.push_back(PlacedMeeting::of(m));
  return out;
}

}  // namespace sb
