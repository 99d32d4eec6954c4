#include "db/durable_store.h"

#include <spdlog/spdlog.h>

namespace sb {
namespace {

bool unavailable(const Error& e) { return e.code == ErrorCode::kStoreUnavailable; }

}  // namespace

// ---- servers --------------------------------------------------------------------------------

void DurableServerStore::recache(const Server& server) {
  Status s = redis_.addServer(server);
  if (!s && s.error().code == ErrorCode::kAlreadyExists) s = redis_.updateServer(server);
  if (s) (void)redis_.updateLiveState(server.id, server.live);
}

Result<std::vector<Server>> DurableServerStore::listServers() {
  auto cached = redis_.listServers();
  if (cached && !cached->empty()) return cached;
  // Empty (flushed, restarted without persistence, or really no servers) or unreachable:
  // PostgreSQL has the inventory. Put it back so the next call is served from Redis.
  auto truth = pg_.listServers();
  if (!truth) return cached ? cached : truth;
  if (cached) {
    for (const auto& s : *truth) recache(s);
    if (!truth->empty()) spdlog::info("restored {} servers into redis", truth->size());
  }
  return truth;
}

Result<Server> DurableServerStore::getServer(std::string_view id) {
  auto cached = redis_.getServer(id);
  if (cached || cached.error().code == ErrorCode::kInvalidArgument) return cached;
  auto truth = pg_.getServer(id);
  if (truth && !unavailable(cached.error())) recache(*truth);
  return truth;
}

Status DurableServerStore::addServer(const Server& server) {
  if (auto s = pg_.addServer(server); !s) return s;
  recache(server);
  return Status::Ok();
}

Status DurableServerStore::updateServer(const Server& server) {
  if (auto s = pg_.updateServer(server); !s) return s;
  Status s = redis_.updateServer(server);
  if (!s && s.error().code == ErrorCode::kNotFound) {
    auto fresh = pg_.getServer(server.id);
    if (fresh) recache(*fresh);
  }
  return Status::Ok();
}

Status DurableServerStore::removeServer(std::string_view id) {
  if (auto s = pg_.removeServer(id); !s) return s;
  (void)redis_.removeServer(id);
  return Status::Ok();
}

Result<bool> DurableServerStore::compareAndSetState(std::string_view id, AdminState expected,
                                                    AdminState next) {
  auto changed = pg_.compareAndSetState(id, expected, next);
  if (!changed || !*changed) return changed;
  auto fresh = pg_.getServer(id);
  if (fresh) (void)redis_.updateServer(*fresh);
  return changed;
}

bool DurableServerStore::snapshotDue(std::string_view id, const ServerLiveState& live) {
  constexpr auto kSnapshotEvery = std::chrono::seconds(60);
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = snapshots_.find(id);
  if (it != snapshots_.end() && it->second.online == live.online &&
      now - it->second.at < kSnapshotEvery) {
    return false;
  }
  snapshots_.insert_or_assign(std::string(id), Snapshot{live.online, now});
  return true;
}

Status DurableServerStore::updateLiveState(std::string_view id, const ServerLiveState& live) {
  if (snapshotDue(id, live)) (void)pg_.updateLiveState(id, live);
  Status s = redis_.updateLiveState(id, live);
  if (s) return s;
  if (s.error().code == ErrorCode::kNotFound) {
    auto truth = pg_.getServer(id);
    if (!truth) return truth.error();
    truth->live = live;
    recache(*truth);
    return Status::Ok();
  }
  return pg_.updateLiveState(id, live);  // Redis down: keep /status and placement informed
}

Status DurableServerStore::reserve(std::string_view id, double load, int meetings) {
  Status s = redis_.reserve(id, load, meetings);
  if (s || !unavailable(s.error())) return s;
  return pg_.reserve(id, load, meetings);
}

Status DurableServerStore::reserveMany(std::span<const Reservation> reservations) {
  Status s = redis_.reserveMany(reservations);
  if (s || !unavailable(s.error())) return s;
  return pg_.reserveMany(reservations);
}

// ---- meetings -------------------------------------------------------------------------------

Result<std::optional<Meeting>> DurableMeetingStore::findMeeting(std::string_view id) {
  auto cached = redis_.findMeeting(id);
  if (cached && cached->has_value()) return cached;
  auto truth = pg_.findMeeting(id);
  if (!truth) return cached ? cached : truth;
  if (cached && truth->has_value()) {
    // A miss that PostgreSQL knows: Redis lost it (flush/restart). Put it back.
    (void)redis_.claimMeeting(**truth);
    spdlog::info("restored meeting {} into redis from postgres", id);
  }
  return truth;
}

Result<std::vector<std::optional<Meeting>>> DurableMeetingStore::findMeetings(
    std::span<const std::string> ids) {
  auto cached = redis_.findMeetings(ids);
  if (!cached) return MeetingStore::findMeetings(ids);  // one by one, PostgreSQL answering
  for (size_t i = 0; i < ids.size(); ++i) {
    if ((*cached)[i]) continue;
    // A Redis miss: PostgreSQL may know it (and findMeeting puts it back into Redis).
    auto truth = findMeeting(ids[i]);
    if (!truth) return truth.error();
    (*cached)[i] = std::move(*truth);
  }
  return cached;
}

Result<MeetingStore::Claim> DurableMeetingStore::claimMeeting(const Meeting& meeting) {
  return std::move(claimDistinctMeetings({&meeting, 1}).front());
}

std::vector<Result<MeetingStore::Claim>> DurableMeetingStore::claimDistinctMeetings(
    std::span<const Meeting> meetings) {
  std::vector<Result<Claim>> claims = redis_.claimMeetings(meetings);
  // PostgreSQL, in one call: the claims Redis won (acknowledged only once PostgreSQL has them
  // too), and those Redis could not arbitrate because it is down (PostgreSQL's claim is atomic
  // too, and its answer stands).
  std::vector<size_t> toPg;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (claims[i] ? claims[i]->claimed : unavailable(claims[i].error())) toPg.push_back(i);
  }
  if (toPg.empty()) return claims;
  std::vector<Meeting> subset;
  if (toPg.size() < meetings.size()) {
    subset.reserve(toPg.size());
    for (size_t i : toPg) subset.push_back(meetings[i]);
  }
  auto durable = pg_.claimMeetings(subset.empty() ? meetings : std::span<const Meeting>(subset));
  for (size_t k = 0; k < toPg.size(); ++k) {
    const size_t i = toPg[k];
    if (!claims[i]) {
      claims[i] = std::move(durable[k]);  // Redis down: PostgreSQL's answer stands
    } else if (!(durable[k] && durable[k]->claimed)) {
      claims[i] = undoRedisClaim(meetings[i], std::move(durable[k]));
    }
  }
  return claims;
}

Result<MeetingStore::Claim> DurableMeetingStore::undoRedisClaim(const Meeting& meeting,
                                                                Result<Claim> durable) {
  (void)redis_.removeMeeting(meeting.id, meeting.serverId);
  if (durable) {
    // PostgreSQL holds a live record of this id that Redis had lost (a flush, or a restart
    // without persistence): that meeting still runs where PostgreSQL says, so it owns the id, as
    // a lookup would have found. Put it back into Redis in place of this claim.
    auto restored = redis_.claimMeeting(durable->meeting);
    if (restored && !restored->claimed) return restored;  // yet another claim came in between
    return Claim{std::move(durable->meeting), false};
  }
  return Error::of(ErrorCode::kStoreUnavailable,
                   "The meeting could not be recorded durably; try again shortly.");
}

Status DurableMeetingStore::removeMeeting(std::string_view id, std::string_view serverId) {
  Status cached = redis_.removeMeeting(id, serverId);
  Status truth = pg_.removeMeeting(id, serverId);
  if (!truth && cached) {
    spdlog::debug("meeting {} removed from redis only; postgres will be swept later", id);
  }
  return cached ? Status::Ok() : truth;
}

Result<int> DurableMeetingStore::orphanMeetingsOf(std::string_view serverId) {
  auto truth = pg_.orphanMeetingsOf(serverId);
  auto cached = redis_.orphanMeetingsOf(serverId);
  if (truth) return truth;
  return cached;
}

Result<std::vector<Meeting>> DurableMeetingStore::listMeetings(std::string_view serverId) {
  // Operators and the poller list meetings; PostgreSQL is complete even after a Redis flush.
  auto truth = pg_.listMeetings(serverId);
  if (truth) return truth;
  return redis_.listMeetings(serverId);
}

Result<std::vector<PlacedMeeting>> DurableMeetingStore::listPlacedMeetings() {
  // As listMeetings: PostgreSQL is complete even after a Redis flush.
  auto truth = pg_.listPlacedMeetings();
  if (truth) return truth;
  return redis_.listPlacedMeetings();
}

Result<int> DurableMeetingStore::warmCache() {
  auto all = pg_.listMeetings({});
  if (!all) return all.error();
  int restored = 0;
  for (const auto& m : *all) {
    auto claim = redis_.claimMeeting(m);
    if (!claim) return claim.error();
    if (claim->claimed) ++restored;
  }
  return restored;
}

// ---- lease ----------------------------------------------------------------------------------

Result<bool> DurableLeaderLease::acquire(const std::string& holder, std::chrono::milliseconds ttl) {
  auto cached = redis_.acquire(holder, ttl);
  if (cached && !*cached) {
    (void)pg_.release(holder);  // taken while Redis was out of reach: the Redis holder's now
    return false;
  }
  auto durable = pg_.acquire(holder, ttl);
  if (!cached && !durable) return cached.error();  // neither answers: stand by
  if (durable && !*durable) return false;          // another poller holds PostgreSQL's
  return true;                                     // held in every store that answers
}

Status DurableLeaderLease::release(const std::string& holder) {
  Status cached = redis_.release(holder);
  Status durable = pg_.release(holder);
  return cached ? durable : cached;
}

}  // namespace sb
