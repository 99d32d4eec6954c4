#include "db/pg_store.h"

#include <spdlog/spdlog.h>

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/binarystring>
#include <pqxx/except>
#include <pqxx/result>
#include <set>
#include <string>

#include "core/query_string.h"
#include "db/pg_connection.h"
#include "db/pg_statements.h"

namespace sb {
namespace {

Error serverNotFound(std::string_view id) {
  return Error::of(ErrorCode::kNotFound, "Couldn't find server with id=" + std::string(id));
}

Error urlTaken(const std::string& url, const std::string& holder) {
  return Error::of(ErrorCode::kAlreadyExists,
                   "A server with URL " + url + " already exists (id " + holder + ")");
}

// Text PostgreSQL can hold: valid UTF-8 without NUL (libpq would also cut a value at a NUL).
bool storableText(std::string_view text) {
  return isValidUtf8(text) && text.find('\0') == std::string_view::npos;
}

Error unstorable(std::string_view field) {
  return Error::of(ErrorCode::kInvalidArgument,
                   "postgres: " + std::string(field) + " is not valid UTF-8 text");
}

// Network text for the live-state snapshot: invalid UTF-8 and NUL bytes become '?'.
std::string sanitized(std::string_view text) {
  if (storableText(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    // The longest valid sequence starting here (UTF-8 sequences are at most 4 bytes).
    size_t len = 0;
    for (size_t n = 1; n <= 4 && i + n <= text.size(); ++n) {
      if (storableText(text.substr(i, n))) {
        len = n;
        break;
      }
    }
    if (len == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::optional<Error> checkServer(const Server& s) {
  if (!storableText(s.id)) return unstorable("server id");
  if (!storableText(s.url)) return unstorable("server url");
  if (!storableText(s.secret)) return unstorable("server secret");
  if (!storableText(s.tag)) return unstorable("server tag");
  if (!storableText(s.wsUrl) || !storableText(s.wssUrl)) return unstorable("signalling url");
  return std::nullopt;
}

std::optional<Error> checkMeeting(const Meeting& m) {
  if (!storableText(m.id)) return unstorable("meeting id");
  if (!storableText(m.serverId)) return unstorable("meeting server id");
  if (!storableText(m.moderatorPw)) return unstorable("moderator password");
  if (!storableText(m.tenant)) return unstorable("tenant");
  if (!storableText(m.serverTagRequest)) return unstorable("server tag request");
  for (const auto& p : m.createParams.params()) {
    if (!storableText(p.name) || !storableText(p.value)) return unstorable("create parameter");
  }
  return std::nullopt;
}

Server serverFromRow(const pqxx::row& r) {
  // Column positions: SB_PG_SERVER_COLUMNS in db/pg_statements.h.
  Server s;
  s.id = r[0].as<std::string>();
  s.url = r[1].as<std::string>();
  s.secret = r[2].as<std::string>();
  s.tag = r[3].as<std::string>();
  s.state = parseAdminState(r[4].as<std::string>()).value_or(AdminState::kDisabled);
  s.loadMultiplier = r[5].as<double>();
  s.maxUsers = r[6].as<int>();
  s.maxMeetings = r[7].as<int>();
  ServerLiveState& live = s.live;
  live.online = r[8].as<bool>();
  live.load = r[9].as<double>();
  live.usage.meetings = r[10].as<int>();
  live.usage.users = r[11].as<int>();
  live.usage.largestMeeting = r[12].as<int>();
  live.usage.videos = r[13].as<int>();
  live.usage.voices = r[14].as<int>();
  live.bbbVersion = r[15].as<std::string>();
  live.healthyCount = r[16].as<int>();
  live.unhealthyCount = r[17].as<int>();
  live.lastPollMs = r[18].as<int64_t>();
  live.pollLatencyMs = r[19].as<int>();
  live.lastError = r[20].as<std::string>();
  s.wsUrl = r[21].as<std::string>();
  s.wssUrl = r[22].as<std::string>();
  s.maxConnections = r[23].as<int>();
  s.removeWhenDrained = r[24].as<bool>();
  s.addedByOperator = r[25].as<bool>();
  return s;
}

// The create parameters as stored: a JSON array of [name, value] pairs, in order.
nlohmann::json paramsArray(const QueryString& params) {
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : params.params()) pairs.push_back(nlohmann::json::array({p.name, p.value}));
  return pairs;
}

// A row of kClaimMeetings' JSON array.
nlohmann::json claimRow(const Meeting& m) {
  std::string body(4 * ((m.createBody.size() + 2) / 3) + 1, '\0');  // base64 and its NUL
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(body.data()),
                                  reinterpret_cast<const unsigned char*>(m.createBody.data()),
                                  static_cast<int>(m.createBody.size()));
  body.resize(static_cast<size_t>(len));
  return {{"id", m.id},
          {"server_id", m.serverId},
          {"moderator_pw", m.moderatorPw},
          {"tenant", m.tenant},
          {"created_at_ms", m.createdAtMs},
          {"create_params", paramsArray(m.createParams)},
          {"create_body", std::move(body)},
          {"server_tag_request", m.serverTagRequest},
          {"size_hint", m.sizeHint},
          {"orphaned", m.orphaned}};
}

QueryString paramsFromJson(const char* text) {
  QueryString params;
  nlohmann::json pairs = nlohmann::json::parse(text);
  for (const auto& pair : pairs) {
    params.append(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  return params;
}

Meeting meetingFromRow(const pqxx::row& r) {
  // Column positions: SB_PG_MEETING_COLUMNS in db/pg_statements.h.
  Meeting m;
  m.id = r[0].as<std::string>();
  m.serverId = r[1].as<std::string>();
  m.moderatorPw = r[2].as<std::string>();
  m.tenant = r[3].as<std::string>();
  m.createdAtMs = r[4].as<int64_t>();
  m.createParams = paramsFromJson(r[5].c_str());
  m.createBody = pqxx::binarystring(r[6]).str();
  m.serverTagRequest = r[7].as<std::string>();
  m.sizeHint = r[8].as<int>();
  m.orphaned = r[9].as<bool>();
  return m;
}

PlacedMeeting placedMeetingFromRow(const pqxx::row& r) {
  // Column positions: pgsql::kListPlacedMeetings.
  PlacedMeeting m;
  m.id = r[0].as<std::string>();
  m.serverId = r[1].as<std::string>();
  m.createdAtMs = r[2].as<int64_t>();
  m.sizeHint = r[3].as<int>();
  m.orphaned = r[4].as<bool>();
  return m;
}

// The answer to a claim that lost, from the read of the id's holder that followed it.
Result<MeetingStore::Claim> lostTo(const pqxx::result& owner, const std::string& id) {
  if (owner.empty()) {
    return Error::of(ErrorCode::kStoreUnavailable,
                     "postgres: the holder of meeting " + id + " vanished during the claim");
  }
  return MeetingStore::Claim{meetingFromRow(owner[0]), false};
}

std::string stateName(AdminState state) { return std::string(adminStateName(state)); }

}  // namespace

// ---- servers ------------------------------------------------------------------------------------

Result<std::vector<Server>> PgServerStore::listServers() {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<Server>> {
    std::vector<Server> out;
    for (const auto& row : pg_.exec(txn, pgsql::kListServers)) out.push_back(serverFromRow(row));
    return out;
  });
}

Result<Server> PgServerStore::getServer(std::string_view id) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<Server> {
    pqxx::result r = pg_.exec(txn, pgsql::kGetServer, std::string(id));
    if (r.empty()) return serverNotFound(id);
    return serverFromRow(r[0]);
  });
}

Status PgServerStore::addServer(const Server& s) {
  if (auto bad = checkServer(s)) return *bad;
  const ServerLiveState& live = s.live;
  return pg_.transact([&](pqxx::work& txn) -> Status {
    pqxx::result inserted = pg_.exec(
        txn, pgsql::kInsertServer, s.id, s.url, s.secret, s.tag, stateName(s.state),
        s.loadMultiplier, s.maxUsers, s.maxMeetings, live.online, live.load, live.usage.meetings,
        live.usage.users, live.usage.largestMeeting, live.usage.videos, live.usage.voices,
        sanitized(live.bbbVersion), live.healthyCount, live.unhealthyCount, live.lastPollMs,
        live.pollLatencyMs, sanitized(live.lastError), s.wsUrl, s.wssUrl, s.maxConnections,
        s.removeWhenDrained, s.addedByOperator);
    if (!inserted.empty()) return Status::Ok();
    // The id or the url is taken; say which, the id first (as the memory store does).
    std::string urlHolder;
    for (const auto& row : pg_.exec(txn, pgsql::kServersWithIdOrUrl, s.id, s.url)) {
      if (row[0].as<std::string>() == s.id) {
        return Error::of(ErrorCode::kAlreadyExists, "Server already exists with id '" + s.id + "'");
      }
      urlHolder = row[0].as<std::string>();
    }
    return urlTaken(s.url, urlHolder);
  });
}

Status PgServerStore::updateServer(const Server& s) {
  if (auto bad = checkServer(s)) return *bad;
  return pg_.transact([&](pqxx::work& txn) -> Status {
    if (pg_.exec(txn, pgsql::kLockServer, s.id).empty()) return serverNotFound(s.id);
    pqxx::result other = pg_.exec(txn, pgsql::kOtherServerWithUrl, s.id, s.url);
    if (!other.empty()) return urlTaken(s.url, other[0][0].as<std::string>());
    try {
      pg_.exec(txn, pgsql::kUpdateServerInventory, s.id, s.url, s.secret, s.tag, stateName(s.state),
               s.loadMultiplier, s.maxUsers, s.maxMeetings, s.wsUrl, s.wssUrl, s.maxConnections,
               s.removeWhenDrained, s.addedByOperator);
    } catch (const pqxx::unique_violation&) {
      // Another server took the URL between the check and the update.
      return Error::of(ErrorCode::kAlreadyExists, "A server with URL " + s.url + " already exists");
    }
    return Status::Ok();
  });
}

Status PgServerStore::removeServer(std::string_view id) {
  return pg_.transact([&](pqxx::work& txn) -> Status {
    pqxx::result r = pg_.exec(txn, pgsql::kDeleteServer, std::string(id));
    if (r.affected_rows() == 0) return serverNotFound(id);
    return Status::Ok();
  });
}

Result<bool> PgServerStore::compareAndSetState(std::string_view id, AdminState expected,
                                               AdminState next) {
  return pg_.transact([&](pqxx::work& txn) -> Result<bool> {
    pqxx::result r = pg_.exec(txn, pgsql::kCompareAndSetState, std::string(id), stateName(expected),
                              stateName(next));
    if (r.affected_rows() == 1) return true;
    if (pg_.exec(txn, pgsql::kServerExists, std::string(id)).empty()) return serverNotFound(id);
    return false;
  });
}

Status PgServerStore::updateLiveState(std::string_view id, const ServerLiveState& live) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pqxx::result r = pg_.exec(txn, pgsql::kUpdateLiveState, std::string(id), live.online, live.load,
                              live.usage.meetings, live.usage.users, live.usage.largestMeeting,
                              live.usage.videos, live.usage.voices, sanitized(live.bbbVersion),
                              live.healthyCount, live.unhealthyCount, live.lastPollMs,
                              live.pollLatencyMs, sanitized(live.lastError));
    if (r.affected_rows() == 0) return serverNotFound(id);
    return Status::Ok();
  });
}

Status PgServerStore::reserve(std::string_view id, double load, int meetings) {
  return pg_.transact([&](pqxx::work& txn) -> Status {
    pqxx::result r = pg_.exec(txn, pgsql::kReserve, std::string(id), load, meetings);
    if (r.affected_rows() == 0) return serverNotFound(id);
    return Status::Ok();
  });
}

Status PgServerStore::ping() { return pg_.ping(); }

// ---- meetings -----------------------------------------------------------------------------------

Result<std::optional<Meeting>> PgMeetingStore::findMeeting(std::string_view id) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::optional<Meeting>> {
    pqxx::result r = pg_.exec(txn, pgsql::kFindMeeting, std::string(id));
    if (r.empty()) return std::optional<Meeting>();
    return std::optional<Meeting>(meetingFromRow(r[0]));
  });
}

Result<MeetingStore::Claim> PgMeetingStore::claimMeeting(const Meeting& m) {
  if (auto bad = checkMeeting(m)) return *bad;
  const std::string params = paramsArray(m.createParams).dump();
  const pqxx::binarystring body(m.createBody);
  // Autocommit: the claim is one atomic statement (one round trip instead of three). Losing is
  // rare here (Redis arbitrates first in the durable store), and the follow-up read of the owner
  // is a statement of its own: an owner removed in between reads as the error below.
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<Claim> {
    pqxx::result won =
        pg_.exec(txn, pgsql::kClaimMeeting, m.id, m.serverId, m.moderatorPw, m.tenant,
                 m.createdAtMs, params, body, m.serverTagRequest, m.sizeHint, m.orphaned);
    if (!won.empty()) return Claim{m, true};
    return lostTo(pg_.exec(txn, pgsql::kFindMeeting, m.id), m.id);
  });
}

Result<MeetingStore::Claim> PgMeetingStore::ownerAfterLostClaim(const std::string& id) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<Claim> {
    return lostTo(pg_.exec(txn, pgsql::kFindMeeting, id), id);
  });
}

std::vector<Result<MeetingStore::Claim>> PgMeetingStore::claimDistinctMeetings(
    std::span<const Meeting> meetings) {
  std::vector<std::optional<Result<Claim>>> claims(meetings.size());
  std::vector<size_t> batch;  // those PostgreSQL can hold
  for (size_t i = 0; i < meetings.size(); ++i) {
    if (auto bad = checkMeeting(meetings[i])) {
      claims[i] = *bad;
    } else {
      batch.push_back(i);
    }
  }
  if (batch.size() == 1) {
    claims[batch[0]] = claimMeeting(meetings[batch[0]]);
  } else if (!batch.empty()) {
    claimBatch(meetings, batch, claims);
  }
  std::vector<Result<Claim>> out;
  out.reserve(claims.size());
  for (auto& c : claims) out.push_back(std::move(*c));
  return out;
}

void PgMeetingStore::claimBatch(std::span<const Meeting> meetings, std::vector<size_t>& batch,
                                std::vector<std::optional<Result<Claim>>>& claims) {
  std::sort(batch.begin(), batch.end(),
            [&](size_t a, size_t b) { return meetings[a].id < meetings[b].id; });
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i : batch) rows.push_back(claimRow(meetings[i]));
  auto won = pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::set<std::string>> {
    std::set<std::string> ids;
    for (const auto& row : pg_.exec(txn, pgsql::kClaimMeetings, rows.dump())) {
      ids.insert(row[0].as<std::string>());
    }
    return ids;
  });
  if (!won) {
    // One claim PostgreSQL refuses (an ID past its index's size limit, a value no check here
    // foresaw) fails the whole statement: each claim is tried on its own, so one client's bad
    // input never fails the others' creates. Cheap when PostgreSQL itself is what failed: a
    // refused connection fails at once, and after a timeout the stall breaker does.
    spdlog::warn("postgres: a batch of {} meeting claims failed ({}); claiming them one by one",
                 batch.size(), won.error().message);
    for (size_t i : batch) claims[i] = claimMeeting(meetings[i]);
    return;
  }
  for (size_t i : batch) {
    const Meeting& m = meetings[i];
    if (won->contains(m.id)) {
      claims[i] = Claim{m, true};
    } else {
      claims[i] = ownerAfterLostClaim(m.id);
    }
  }
}

Status PgMeetingStore::removeMeeting(std::string_view id, std::string_view serverId) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kRemoveMeeting, std::string(id), std::string(serverId));
    return Status::Ok();
  });
}

Result<int> PgMeetingStore::orphanMeetingsOf(std::string_view serverId) {
  return pg_.transact([&](pqxx::work& txn) -> Result<int> {
    pqxx::result r = pg_.exec(txn, pgsql::kOrphanMeetingsOf, std::string(serverId));
    return static_cast<int>(r.affected_rows());
  });
}

Result<std::vector<Meeting>> PgMeetingStore::listMeetings(std::string_view serverId) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<Meeting>> {
    pqxx::result r = serverId.empty()
                         ? pg_.exec(txn, pgsql::kListMeetings)
                         : pg_.exec(txn, pgsql::kListMeetingsOf, std::string(serverId));
    std::vector<Meeting> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(meetingFromRow(row));
    return out;
  });
}

Result<std::vector<PlacedMeeting>> PgMeetingStore::listPlacedMeetings() {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<PlacedMeeting>> {
    pqxx::result r = pg_.exec(txn, pgsql::kListPlacedMeetings);
    std::vector<PlacedMeeting> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(placedMeetingFromRow(row));
    return out;
  });
}

Status PgMeetingStore::ping() { return pg_.ping(); }

// ---- leases ---------------------------------------------------------------------------------

Result<bool> PgLeaderLease::acquire(const std::string& holder, std::chrono::milliseconds ttl) {
  if (ttl.count() < 1) {
    return Error::of(ErrorCode::kInvalidArgument, "lease ttl must be at least 1 ms");
  }
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<bool> {
    pqxx::result r =
        pg_.exec(txn, pgsql::kAcquireLease, name_, holder, static_cast<long long>(ttl.count()));
    return !r.empty();
  });
}

Status PgLeaderLease::release(const std::string& holder) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kReleaseLease, name_, holder);
    return Status::Ok();
  });
}

}  // namespace sb
