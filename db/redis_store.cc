#include "db/redis_store.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace sb {
namespace {

// ---- Lua scripts ------------------------------------------------------------------------------
// Each runs atomically in Redis. Key names come in as KEYS or, where a key depends on what the
// script reads, as a prefix in ARGV (built by RedisKeys), never spelled here.

// KEYS: meetings snapshots. ARGV: ttl (ms). Raises each changed_ms to Redis's time (never lowers
// it) and refreshes the expiry. Redis's clock, not the router's: the poller dates snapshots by it
// too (RedisSnapshotStore::timeMs), so the routers' and the poller's clocks may differ.
const RedisScript& markChangedScript() {
  static const RedisScript script(R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for _, key in ipairs(KEYS) do
  local current = tonumber(redis.call('HGET', key, 'changed_ms') or '0')
  if now > current then redis.call('HSET', key, 'changed_ms', now) end
  redis.call('PEXPIRE', key, ARGV[1])
end
return 0
)lua");
  return script;
}

// KEYS: server, servers, server_urls. ARGV: id, url, field/value pairs of the whole record.
// Returns {0} added, {1} id taken, {2, owner} URL taken by `owner`.
const RedisScript& addServerScript() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local owner = redis.call('HGET', KEYS[3], ARGV[2])
if owner then return {2, owner} end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return {0}
)lua");
  return script;
}

// KEYS: server, server_urls. ARGV: id, url, field/value pairs of the inventory.
// Returns {0} updated, {1} no such server, {2, owner} URL taken by another server.
const RedisScript& updateServerScript() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {1} end
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return {2, owner} end
local old = redis.call('HGET', KEYS[1], 'url')
if old and old ~= ARGV[2] and redis.call('HGET', KEYS[2], old) == ARGV[1] then
  redis.call('HDEL', KEYS[2], old)
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return {0}
)lua");
  return script;
}

// KEYS: server, servers, server_urls. ARGV: id. Returns 1 removed, 0 no such server.
const RedisScript& removeServerScript() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local url = redis.call('HGET', KEYS[1], 'url')
if url and redis.call('HGET', KEYS[3], url) == ARGV[1] then redis.call('HDEL', KEYS[3], url) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
)lua");
  return script;
}

// KEYS: server. ARGV: expected, next. Returns 1 changed, 0 not in `expected`, -1 no server.
const RedisScript& compareAndSetStateScript() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
)lua");
  return script;
}

// KEYS: server. ARGV: field/value pairs. Returns 1 written, 0 no server (nothing written, so a
// poll racing a removal cannot resurrect a half record).
const RedisScript& updateLiveStateScript() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
)lua");
  return script;
}

// Adds a reservation to each server's load and meetings. KEYS: the servers. ARGV: load delta,
// meetings delta per key. Both clamped at 0 (as std::max(0.0, x) does: NaN and -0 become 0). Lua
// numbers are doubles, so the sum is the one C++ computes, and %.17g writes it exactly. A server
// that is gone is skipped. Returns how many were reserved.
const RedisScript& reserveScript() {
  static const RedisScript script(R"lua(
local done = 0
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    local load = (tonumber(redis.call('HGET', key, 'load')) or 0) + tonumber(ARGV[2 * i - 1])
    if not (load > 0) then load = 0 end
    local meetings = (tonumber(redis.call('HGET', key, 'meetings')) or 0) + tonumber(ARGV[2 * i])
    if meetings < 0 then meetings = 0 end
    redis.call('HSET', key, 'load', string.format('%.17g', load),
               'meetings', string.format('%d', meetings))
    done = done + 1
  end
end
return done
)lua");
  return script;
}

// Claims meetings in order, each as one atomic step. KEYS: meetings, then per meeting its meeting
// key and server_meetings:<its server>. ARGV: the server_meetings prefix, then per meeting its id,
// the number n of its field/value arguments and those n. Returns one answer per meeting: {1}
// claimed, or {0, existing hash} when a live (not orphaned) meeting holds the id (a claim earlier
// in the same run included). Replacing an orphaned holder takes it out of its old server's index
// in the same step, so the index always matches server_id.
const RedisScript& claimMeetingsScript() {
  static const RedisScript script(R"lua(
local answers = {}
local a = 2
for i = 1, (#KEYS - 1) / 2 do
  local key, index = KEYS[2 * i], KEYS[2 * i + 1]
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  local first, last = a + 2, a + 1 + n
  a = last + 1
  local current = redis.call('HGETALL', key)
  local live = false
  if #current > 0 then
    local server, orphaned
    for j = 1, #current, 2 do
      if current[j] == 'server_id' then server = current[j + 1]
      elseif current[j] == 'orphaned' then orphaned = current[j + 1] end
    end
    live = orphaned ~= '1'
    if not live then
      if server then redis.call('SREM', ARGV[1] .. server, id) end
      redis.call('DEL', key)
    end
  end
  if live then
    answers[i] = {0, current}
  else
    redis.call('HSET', key, unpack(ARGV, first, last))
    redis.call('SADD', KEYS[1], id)
    redis.call('SADD', index, id)
    answers[i] = {1}
  end
end
return answers
)lua");
  return script;
}

// KEYS: meeting, meetings. ARGV: meeting id, server_meetings prefix, required server ('' = any).
// Returns 1 removed, 0 missing or on another server.
const RedisScript& removeMeetingScript() {
  static const RedisScript script(R"lua(
local server = redis.call('HGET', KEYS[1], 'server_id')
if not server then return 0 end
if ARGV[3] ~= '' and server ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', ARGV[2] .. server, ARGV[1])
return 1
)lua");
  return script;
}

// KEYS: server_meetings:<server>. ARGV: meeting prefix, server id. Marks the server's
// meetings orphaned; returns how many were not already.
const RedisScript& orphanMeetingsScript() {
  static const RedisScript script(R"lua(
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local v = redis.call('HMGET', key, 'server_id', 'orphaned')
  if v[1] == ARGV[2] and v[2] ~= '1' then
    redis.call('HSET', key, 'orphaned', '1')
    n = n + 1
  end
end
return n
)lua");
  return script;
}

// KEYS: lease. ARGV: holder, ttl ms. Returns 1 held by `holder` for ttl from now, 0 taken.
const RedisScript& acquireLeaseScript() {
  static const RedisScript script(R"lua(
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua");
  return script;
}

// KEYS: lease. ARGV: holder. Returns 1 released, 0 not held by `holder`.
const RedisScript& releaseLeaseScript() {
  static const RedisScript script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua");
  return script;
}

// ---- hash fields ------------------------------------------------------------------------------

namespace field {
constexpr const char* kId = "id";
// server inventory
constexpr const char* kUrl = "url";
constexpr const char* kSecret = "secret";
constexpr const char* kTag = "tag";
constexpr const char* kState = "state";
constexpr const char* kLoadMultiplier = "load_multiplier";
constexpr const char* kMaxUsers = "max_users";
constexpr const char* kMaxMeetings = "max_meetings";
constexpr const char* kWsUrl = "ws_url";
constexpr const char* kWssUrl = "wss_url";
constexpr const char* kMaxConnections = "max_connections";
constexpr const char* kRemoveWhenDrained = "remove_when_drained";
constexpr const char* kAddedByOperator = "added_by_operator";
// server live state (names used by the reserve script: load, meetings)
constexpr const char* kOnline = "online";
constexpr const char* kLoad = "load";
constexpr const char* kMeetings = "meetings";
constexpr const char* kUsers = "users";
constexpr const char* kLargestMeeting = "largest_meeting";
constexpr const char* kVideos = "videos";
constexpr const char* kVoices = "voices";
constexpr const char* kBbbVersion = "bbb_version";
constexpr const char* kHealthyCount = "healthy_count";
constexpr const char* kUnhealthyCount = "unhealthy_count";
constexpr const char* kLastPollMs = "last_poll_ms";
constexpr const char* kPollLatencyMs = "poll_latency_ms";
constexpr const char* kLastError = "last_error";
// meeting (names used by the scripts: server_id, orphaned)
constexpr const char* kServerId = "server_id";
constexpr const char* kModeratorPw = "moderator_pw";
constexpr const char* kTenant = "tenant";
constexpr const char* kCreatedAtMs = "created_at_ms";
constexpr const char* kCreateParams = "create_params";
constexpr const char* kCreateBody = "create_body";
constexpr const char* kServerTagRequest = "server_tag_request";
constexpr const char* kSizeHint = "size_hint";
constexpr const char* kOrphaned = "orphaned";
}  // namespace field

constexpr size_t kReadBatch = 500;  // hash reads per pipelined round trip

Error storeError(std::string what) {
  return Error::of(ErrorCode::kStoreUnavailable, "redis: " + std::move(what));
}

Error serverNotFound(std::string_view id) {
  return Error::of(ErrorCode::kNotFound, "Couldn't find server with id=" + std::string(id));
}

Error unexpectedReply(std::string_view operation) {
  return storeError("unexpected reply to " + std::string(operation));
}

std::string formatDouble(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string formatBool(bool v) { return v ? "1" : "0"; }

// Netstrings: "<len>:<bytes>," per name and per value, in order.
std::string encodeParams(const QueryString& params) {
  std::string out;
  auto put = [&out](const std::string& s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
    out += ',';
  };
  for (const auto& p : params.params()) {
    put(p.name);
    put(p.value);
  }
  return out;
}

// The whole of `s` as a number; false when anything else is in it (or it is out of range).
template <typename Number>
bool parseWhole(std::string_view s, Number& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::optional<std::string> takeNetstring(std::string_view& text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  size_t length = 0;
  if (!parseWhole(text.substr(0, colon), length)) return std::nullopt;
  if (text.size() - colon - 1 < length + 1 || text[colon + 1 + length] != ',') return std::nullopt;
  std::string out(text.substr(colon + 1, length));
  text.remove_prefix(colon + 2 + length);
  return out;
}

std::optional<QueryString> decodeParams(std::string_view text) {
  QueryString q;
  while (!text.empty()) {
    auto name = takeNetstring(text);
    if (!name) return std::nullopt;
    auto value = takeNetstring(text);
    if (!value) return std::nullopt;
    q.append(*name, *value);
  }
  return q;
}

using Fields = std::map<std::string, std::string, std::less<>>;

// HGETALL's flat [field, value, ...] array as a map; nullopt when the reply is not one.
std::optional<Fields> fieldsOf(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() % 2 != 0) {
    return std::nullopt;
  }
  Fields out;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return out;
}

// Reads typed fields of one hash, remembering the first malformed one. Missing fields read as
// the struct's defaults.
class FieldReader {
 public:
  explicit FieldReader(const Fields& fields) : fields_(fields) {}

  void text(const char* name, std::string& out) {
    auto it = fields_.find(name);
    if (it != fields_.end()) out = it->second;
  }
  template <typename Int>
  void integer(const char* name, Int& out) {
    auto it = fields_.find(name);
    if (it != fields_.end() && !parseWhole(it->second, out)) fail(name);
  }
  void number(const char* name, double& out) {
    auto it = fields_.find(name);
    if (it != fields_.end() && !parseWhole(it->second, out)) fail(name);
  }
  void flag(const char* name, bool& out) {
    auto it = fields_.find(name);
    if (it == fields_.end()) return;
    if (it->second == "1") {
      out = true;
    } else if (it->second == "0") {
      out = false;
    } else {
      fail(name);
    }
  }
  void state(const char* name, AdminState& out) {
    auto it = fields_.find(name);
    if (it == fields_.end()) return;
    auto parsed = parseAdminState(it->second);
    if (parsed) {
      out = *parsed;
    } else {
      fail(name);
    }
  }
  void params(const char* name, QueryString& out) {
    auto it = fields_.find(name);
    if (it == fields_.end()) return;
    auto parsed = decodeParams(it->second);
    if (parsed) {
      out = std::move(*parsed);
    } else {
      fail(name);
    }
  }

  const std::string& badField() const { return bad_; }

 private:
  void fail(const char* name) {
    if (bad_.empty()) bad_ = name;
  }
  const Fields& fields_;
  std::string bad_;
};

std::vector<std::string> inventoryFields(const Server& s) {
  return {field::kId,
          s.id,
          field::kUrl,
          s.url,
          field::kSecret,
          s.secret,
          field::kTag,
          s.tag,
          field::kState,
          std::string(adminStateName(s.state)),
          field::kLoadMultiplier,
          formatDouble(s.loadMultiplier),
          field::kMaxUsers,
          std::to_string(s.maxUsers),
          field::kMaxMeetings,
          std::to_string(s.maxMeetings),
          field::kWsUrl,
          s.wsUrl,
          field::kWssUrl,
          s.wssUrl,
          field::kMaxConnections,
          std::to_string(s.maxConnections),
          field::kRemoveWhenDrained,
          formatBool(s.removeWhenDrained),
          field::kAddedByOperator,
          formatBool(s.addedByOperator)};
}

std::vector<std::string> liveFields(const ServerLiveState& l) {
  return {field::kOnline,         formatBool(l.online),
          field::kLoad,           formatDouble(l.load),
          field::kMeetings,       std::to_string(l.usage.meetings),
          field::kUsers,          std::to_string(l.usage.users),
          field::kLargestMeeting, std::to_string(l.usage.largestMeeting),
          field::kVideos,         std::to_string(l.usage.videos),
          field::kVoices,         std::to_string(l.usage.voices),
          field::kBbbVersion,     l.bbbVersion,
          field::kHealthyCount,   std::to_string(l.healthyCount),
          field::kUnhealthyCount, std::to_string(l.unhealthyCount),
          field::kLastPollMs,     std::to_string(l.lastPollMs),
          field::kPollLatencyMs,  std::to_string(l.pollLatencyMs),
          field::kLastError,      l.lastError};
}

Result<Server> serverFrom(std::string_view id, const Fields& fields) {
  Server s;
  s.id = std::string(id);
  FieldReader r(fields);
  r.text(field::kUrl, s.url);
  r.text(field::kSecret, s.secret);
  r.text(field::kTag, s.tag);
  r.state(field::kState, s.state);
  r.number(field::kLoadMultiplier, s.loadMultiplier);
  r.integer(field::kMaxUsers, s.maxUsers);
  r.integer(field::kMaxMeetings, s.maxMeetings);
  r.text(field::kWsUrl, s.wsUrl);
  r.text(field::kWssUrl, s.wssUrl);
  r.integer(field::kMaxConnections, s.maxConnections);
  r.flag(field::kRemoveWhenDrained, s.removeWhenDrained);
  r.flag(field::kAddedByOperator, s.addedByOperator);
  ServerLiveState& l = s.live;
  r.flag(field::kOnline, l.online);
  r.number(field::kLoad, l.load);
  r.integer(field::kMeetings, l.usage.meetings);
  r.integer(field::kUsers, l.usage.users);
  r.integer(field::kLargestMeeting, l.usage.largestMeeting);
  r.integer(field::kVideos, l.usage.videos);
  r.integer(field::kVoices, l.usage.voices);
  r.text(field::kBbbVersion, l.bbbVersion);
  r.integer(field::kHealthyCount, l.healthyCount);
  r.integer(field::kUnhealthyCount, l.unhealthyCount);
  r.integer(field::kLastPollMs, l.lastPollMs);
  r.integer(field::kPollLatencyMs, l.pollLatencyMs);
  r.text(field::kLastError, l.lastError);
  if (!r.badField().empty()) {
    return storeError("corrupt server record '" + s.id + "' (field " + r.badField() + ")");
  }
  return s;
}

std::vector<std::string> meetingFields(const Meeting& m) {
  return {field::kId,
          m.id,
          field::kServerId,
          m.serverId,
          field::kModeratorPw,
          m.moderatorPw,
          field::kTenant,
          m.tenant,
          field::kCreatedAtMs,
          std::to_string(m.createdAtMs),
          field::kCreateParams,
          encodeParams(m.createParams),
          field::kCreateBody,
          m.createBody,
          field::kServerTagRequest,
          m.serverTagRequest,
          field::kSizeHint,
          std::to_string(m.sizeHint),
          field::kOrphaned,
          formatBool(m.orphaned)};
}

Result<Meeting> meetingFrom(std::string_view id, const Fields& fields) {
  Meeting m;
  m.id = std::string(id);
  FieldReader r(fields);
  r.text(field::kServerId, m.serverId);
  r.text(field::kModeratorPw, m.moderatorPw);
  r.text(field::kTenant, m.tenant);
  r.integer(field::kCreatedAtMs, m.createdAtMs);
  r.params(field::kCreateParams, m.createParams);
  r.text(field::kCreateBody, m.createBody);
  r.text(field::kServerTagRequest, m.serverTagRequest);
  r.integer(field::kSizeHint, m.sizeHint);
  r.flag(field::kOrphaned, m.orphaned);
  if (!r.badField().empty()) {
    return storeError("corrupt meeting record '" + m.id + "' (field " + r.badField() + ")");
  }
  return m;
}

// The fields listPlacedMeetings reads of each meeting hash.
constexpr const char* kPlacedMeetingFields[] = {field::kServerId, field::kCreatedAtMs,
                                                field::kSizeHint, field::kOrphaned};

Result<PlacedMeeting> placedMeetingFrom(std::string_view id, const Fields& fields) {
  PlacedMeeting m;
  m.id = std::string(id);
  FieldReader r(fields);
  r.text(field::kServerId, m.serverId);
  r.integer(field::kCreatedAtMs, m.createdAtMs);
  r.integer(field::kSizeHint, m.sizeHint);
  r.flag(field::kOrphaned, m.orphaned);
  if (!r.badField().empty()) {
    return storeError("corrupt meeting record '" + m.id + "' (field " + r.badField() + ")");
  }
  return m;
}

// A script's integer reply.
Result<long long> integerOf(Result<RedisReply> reply, std::string_view operation) {
  if (!reply.ok()) return reply.error();
  if (reply->type != RedisReply::Type::kInteger) return unexpectedReply(operation);
  return reply->integer;
}

// A script's {code, detail?} reply: the code, and the detail string (or "").
struct CodeReply {
  long long code = 0;
  std::string detail;
};
Result<CodeReply> codeOf(Result<RedisReply> reply, std::string_view operation) {
  if (!reply.ok()) return reply.error();
  if (reply->type != RedisReply::Type::kArray || reply->elements.empty() ||
      reply->elements[0].type != RedisReply::Type::kInteger) {
    return unexpectedReply(operation);
  }
  CodeReply out{reply->elements[0].integer, {}};
  if (reply->elements.size() > 1) out.detail = reply->elements[1].str;
  return out;
}

// SMEMBERS of a set, sorted (byte order, as std::map orders the memory store).
Result<std::vector<std::string>> sortedMembers(RedisConnection& redis, const std::string& key) {
  auto reply = redis.command({"SMEMBERS", key});
  if (!reply.ok()) return reply.error();
  if (reply->type != RedisReply::Type::kArray) return unexpectedReply("SMEMBERS");
  std::vector<std::string> ids;
  ids.reserve(reply->elements.size());
  for (auto& e : reply->elements) ids.push_back(std::move(e.str));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The fields HMGET answered (one reply per name, nil when the hash lacks it), as HGETALL's map.
std::optional<Fields> namedFieldsOf(const RedisReply& reply, std::span<const char* const> names) {
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != names.size()) {
    return std::nullopt;
  }
  Fields out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!reply.elements[i].isNil()) out[names[i]] = reply.elements[i].str;
  }
  return out;
}

// Reads the hash key(id) of every id, pipelined in batches: all of its fields (HGETALL), or only
// `only` (HMGET) when given. Calls onRecord(id, fields) for each hash that exists (with `only`:
// that has one of those fields).
template <typename KeyOf, typename OnRecord>
Status readAll(RedisConnection& redis, const std::vector<std::string>& ids, KeyOf keyOf,
               OnRecord onRecord, std::span<const char* const> only = {}) {
  for (size_t start = 0; start < ids.size(); start += kReadBatch) {
    size_t end = std::min(ids.size(), start + kReadBatch);
    std::vector<std::vector<std::string>> commands;
    commands.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      if (only.empty()) {
        commands.push_back({"HGETALL", keyOf(ids[i])});
      } else {
        std::vector<std::string> hmget{"HMGET", keyOf(ids[i])};
        hmget.insert(hmget.end(), only.begin(), only.end());
        commands.push_back(std::move(hmget));
      }
    }
    auto replies = redis.pipeline(commands);
    if (!replies.ok()) return replies.error();
    for (size_t i = start; i < end; ++i) {
      const RedisReply& reply = (*replies)[i - start];
      auto fields = only.empty() ? fieldsOf(reply) : namedFieldsOf(reply, only);
      if (!fields) return unexpectedReply(only.empty() ? "HGETALL" : "HMGET");
      if (fields->empty()) continue;  // removed meanwhile
      Status s = onRecord(ids[i], *fields);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

// Every record of the index set `index`, in id order: each hash key(id) read (all fields, or only
// `only`) and parsed by parse(id, fields) -> Result<T>; those `keep` refuses are left out. The
// first record that does not parse fails the listing.
template <typename T, typename KeyOf, typename Parse, typename Keep>
Result<std::vector<T>> listRecords(RedisConnection& redis, const std::string& index, KeyOf keyOf,
                                   Parse parse, Keep keep, std::span<const char* const> only = {}) {
  auto ids = sortedMembers(redis, index);
  if (!ids.ok()) return ids.error();
  std::vector<T> out;
  out.reserve(ids->size());
  Status s = readAll(
      redis, *ids, keyOf,
      [&](const std::string& id, const Fields& fields) -> Status {
        Result<T> record = parse(id, fields);
        if (!record.ok()) return record.error();
        if (keep(*record)) out.push_back(std::move(*record));
        return Status::Ok();
      },
      only);
  if (!s.ok()) return s.error();
  return out;
}

// For listRecords: keeps every record.
constexpr auto kEveryRecord = [](const auto&) { return true; };

std::vector<std::string> concat(std::vector<std::string> head, std::vector<std::string> tail) {
  head.insert(head.end(), std::make_move_iterator(tail.begin()),
              std::make_move_iterator(tail.end()));
  return head;
}

// One answer of claimMeetingsScript for `meeting`: {1}, or {0, the holder's hash}.
Result<MeetingStore::Claim> claimFrom(const Meeting& meeting, const RedisReply& answer) {
  const auto& e = answer.elements;
  if (answer.type != RedisReply::Type::kArray || e.empty() ||
      e[0].type != RedisReply::Type::kInteger) {
    return unexpectedReply("claimMeetings");
  }
  if (e[0].integer == 1) return MeetingStore::Claim{meeting, true};
  if (e.size() < 2) return unexpectedReply("claimMeetings");
  auto fields = fieldsOf(e[1]);
  if (!fields) return unexpectedReply("claimMeetings");
  auto owner = meetingFrom(meeting.id, *fields);
  if (!owner.ok()) return owner.error();
  return MeetingStore::Claim{std::move(*owner), false};
}

}  // namespace

// ---- RedisServerStore -------------------------------------------------------------------------

RedisServerStore::RedisServerStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys)
    : redis_(std::move(redis)), keys_(std::move(keys)) {}

Result<std::vector<Server>> RedisServerStore::listServers() {
  return listRecords<Server>(
      *redis_, keys_.servers(), [this](const std::string& id) { return keys_.server(id); },
      serverFrom, kEveryRecord);
}

Result<Server> RedisServerStore::getServer(std::string_view id) {
  auto reply = redis_->command({"HGETALL", keys_.server(id)});
  if (!reply.ok()) return reply.error();
  auto fields = fieldsOf(*reply);
  if (!fields) return unexpectedReply("HGETALL");
  if (fields->empty()) return serverNotFound(id);
  return serverFrom(id, *fields);
}

Status RedisServerStore::addServer(const Server& server) {
  auto r = codeOf(redis_->eval(addServerScript(),
                               {keys_.server(server.id), keys_.servers(), keys_.serverUrls()},
                               concat({server.id, server.url},
                                      concat(inventoryFields(server), liveFields(server.live)))),
                  "addServer");
  if (!r.ok()) return r.error();
  switch (r->code) {
    case 0:
      return Status::Ok();
    case 1:
      return Error::of(ErrorCode::kAlreadyExists,
                       "Server already exists with id '" + server.id + "'");
    case 2:
      return Error::of(ErrorCode::kAlreadyExists, "A server with URL " + server.url +
                                                      " already exists (id " + r->detail + ")");
  }
  return unexpectedReply("addServer");
}

Status RedisServerStore::updateServer(const Server& server) {
  auto r = codeOf(redis_->eval(updateServerScript(), {keys_.server(server.id), keys_.serverUrls()},
                               concat({server.id, server.url}, inventoryFields(server))),
                  "updateServer");
  if (!r.ok()) return r.error();
  switch (r->code) {
    case 0:
      return Status::Ok();
    case 1:
      return serverNotFound(server.id);
    case 2:
      return Error::of(ErrorCode::kAlreadyExists, "A server with URL " + server.url +
                                                      " already exists (id " + r->detail + ")");
  }
  return unexpectedReply("updateServer");
}

Status RedisServerStore::removeServer(std::string_view id) {
  std::string sid(id);
  auto r = integerOf(redis_->eval(removeServerScript(),
                                  {keys_.server(id), keys_.servers(), keys_.serverUrls()}, {sid}),
                     "removeServer");
  if (!r.ok()) return r.error();
  if (*r == 0) return serverNotFound(id);
  return Status::Ok();
}

Result<bool> RedisServerStore::compareAndSetState(std::string_view id, AdminState expected,
                                                  AdminState next) {
  auto r = integerOf(
      redis_->eval(compareAndSetStateScript(), {keys_.server(id)},
                   {std::string(adminStateName(expected)), std::string(adminStateName(next))}),
      "compareAndSetState");
  if (!r.ok()) return r.error();
  if (*r < 0) return serverNotFound(id);
  return *r == 1;
}

Status RedisServerStore::updateLiveState(std::string_view id, const ServerLiveState& live) {
  auto r = integerOf(redis_->eval(updateLiveStateScript(), {keys_.server(id)}, liveFields(live)),
                     "updateLiveState");
  if (!r.ok()) return r.error();
  if (*r == 0) return serverNotFound(id);
  return Status::Ok();
}

Status RedisServerStore::reserve(std::string_view id, double load, int meetings) {
  auto r = integerOf(redis_->eval(reserveScript(), {keys_.server(id)},
                                  {formatDouble(load), std::to_string(meetings)}),
                     "reserve");
  if (!r.ok()) return r.error();
  if (*r == 0) return serverNotFound(id);
  return Status::Ok();
}

Status RedisServerStore::reserveMany(std::span<const Reservation> reservations) {
  if (reservations.empty()) return Status::Ok();
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(reservations.size());
  args.reserve(2 * reservations.size());
  for (const auto& r : reservations) {
    keys.push_back(keys_.server(r.serverId));
    args.push_back(formatDouble(r.load));
    args.push_back(std::to_string(r.meetings));
  }
  auto done = integerOf(redis_->eval(reserveScript(), keys, args), "reserveMany");
  if (!done.ok()) return done.error();
  return Status::Ok();
}

// ---- RedisMeetingStore ------------------------------------------------------------------------

RedisMeetingStore::RedisMeetingStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys)
    : redis_(std::move(redis)), keys_(std::move(keys)) {}

Result<std::optional<Meeting>> RedisMeetingStore::findMeeting(std::string_view id) {
  auto reply = redis_->command({"HGETALL", keys_.meeting(id)});
  if (!reply.ok()) return reply.error();
  auto fields = fieldsOf(*reply);
  if (!fields) return unexpectedReply("HGETALL");
  if (fields->empty()) return std::optional<Meeting>();
  auto m = meetingFrom(id, *fields);
  if (!m.ok()) return m.error();
  return std::optional<Meeting>(std::move(*m));
}

Result<std::vector<std::optional<Meeting>>> RedisMeetingStore::findMeetings(
    std::span<const std::string> ids) {
  std::vector<std::optional<Meeting>> found;
  found.reserve(ids.size());
  for (size_t start = 0; start < ids.size(); start += kReadBatch) {
    const size_t end = std::min(ids.size(), start + kReadBatch);
    std::vector<std::vector<std::string>> commands;
    commands.reserve(end - start);
    for (size_t i = start; i < end; ++i) commands.push_back({"HGETALL", keys_.meeting(ids[i])});
    auto replies = redis_->pipeline(commands);
    if (!replies.ok()) return replies.error();
    for (size_t i = start; i < end; ++i) {
      auto fields = fieldsOf((*replies)[i - start]);
      if (!fields) return unexpectedReply("HGETALL");
      if (fields->empty()) {
        found.emplace_back();
        continue;
      }
      auto m = meetingFrom(ids[i], *fields);
      if (!m.ok()) return m.error();
      found.emplace_back(std::move(*m));
    }
  }
  return found;
}

Result<MeetingStore::Claim> RedisMeetingStore::claimMeeting(const Meeting& meeting) {
  return std::move(claimDistinctMeetings({&meeting, 1}).front());
}

std::vector<Result<MeetingStore::Claim>> RedisMeetingStore::claimDistinctMeetings(
    std::span<const Meeting> meetings) {
  if (meetings.empty()) return {};
  std::vector<std::string> keys{keys_.meetings()};
  std::vector<std::string> args{keys_.serverMeetingsPrefix()};
  keys.reserve(1 + 2 * meetings.size());
  for (const auto& m : meetings) {
    keys.push_back(keys_.meeting(m.id));
    keys.push_back(keys_.serverMeetings(m.serverId));
    std::vector<std::string> fields = meetingFields(m);
    args.push_back(m.id);
    args.push_back(std::to_string(fields.size()));
    args.insert(args.end(), std::make_move_iterator(fields.begin()),
                std::make_move_iterator(fields.end()));
  }
  auto reply = redis_->eval(claimMeetingsScript(), keys, args);
  std::vector<Result<Claim>> claims;
  claims.reserve(meetings.size());
  if (reply.ok() &&
      (reply->type != RedisReply::Type::kArray || reply->elements.size() != meetings.size())) {
    reply = unexpectedReply("claimMeetings");
  }
  for (size_t i = 0; i < meetings.size(); ++i) {
    if (!reply.ok()) {
      claims.push_back(reply.error());
    } else {
      claims.push_back(claimFrom(meetings[i], reply->elements[i]));
    }
  }
  return claims;
}

Status RedisMeetingStore::removeMeeting(std::string_view id, std::string_view serverId) {
  auto r = integerOf(
      redis_->eval(removeMeetingScript(), {keys_.meeting(id), keys_.meetings()},
                   {std::string(id), keys_.serverMeetingsPrefix(), std::string(serverId)}),
      "removeMeeting");
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<int> RedisMeetingStore::orphanMeetingsOf(std::string_view serverId) {
  auto r = integerOf(redis_->eval(orphanMeetingsScript(), {keys_.serverMeetings(serverId)},
                                  {keys_.meetingPrefix(), std::string(serverId)}),
                     "orphanMeetingsOf");
  if (!r.ok()) return r.error();
  return static_cast<int>(*r);
}

Result<std::vector<Meeting>> RedisMeetingStore::listMeetings(std::string_view serverId) {
  return listRecords<Meeting>(
      *redis_, serverId.empty() ? keys_.meetings() : keys_.serverMeetings(serverId),
      [this](const std::string& id) { return keys_.meeting(id); }, meetingFrom,
      // Re-claimed elsewhere between the index read and this one: not on this server now.
      [serverId](const Meeting& m) { return serverId.empty() || m.serverId == serverId; });
}

Result<std::vector<PlacedMeeting>> RedisMeetingStore::listPlacedMeetings() {
  return listRecords<PlacedMeeting>(
      *redis_, keys_.meetings(), [this](const std::string& id) { return keys_.meeting(id); },
      placedMeetingFrom, kEveryRecord, kPlacedMeetingFields);
}

// ---- RedisLeaderLease -------------------------------------------------------------------------

RedisLeaderLease::RedisLeaderLease(std::shared_ptr<RedisConnection> redis, RedisKeys keys,
                                   std::string name)
    : redis_(std::move(redis)), key_(keys.lease(name)) {}

Result<bool> RedisLeaderLease::acquire(const std::string& holder, std::chrono::milliseconds ttl) {
  if (ttl.count() < 1) {
    return Error::of(ErrorCode::kInvalidArgument, "lease ttl must be at least 1 ms");
  }
  auto r =
      integerOf(redis_->eval(acquireLeaseScript(), {key_}, {holder, std::to_string(ttl.count())}),
                "lease acquire");
  if (!r.ok()) return r.error();
  return *r == 1;
}

Status RedisLeaderLease::release(const std::string& holder) {
  auto r = integerOf(redis_->eval(releaseLeaseScript(), {key_}, {holder}), "lease release");
  if (!r.ok()) return r.error();
  return Status::Ok();
}

// ---- ended meetings ---------------------------------------------------------------------------

Status RedisMeetingStore::rememberEnded(std::string_view id, int64_t atMs,
                                        std::chrono::milliseconds keep) {
  auto r = redis_->command({"SET", keys_.ended(id), std::to_string(atMs), "PX",
                            std::to_string(std::max<int64_t>(1, keep.count()))});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<std::optional<int64_t>> RedisMeetingStore::endedAt(std::string_view id) {
  auto r = redis_->command({"GET", keys_.ended(id)});
  if (!r.ok()) return r.error();
  if (r->isNil()) return std::optional<int64_t>();
  return std::optional<int64_t>(std::strtoll(r->str.c_str(), nullptr, 10));
}

// ---- namespace maintenance --------------------------------------------------------------------

Status flushRedisNamespace(RedisConnection& redis, const RedisKeys& keys) {
  std::string cursor = "0";
  do {
    auto reply = redis.command({"SCAN", cursor, "MATCH", keys.pattern(), "COUNT", "1000"});
    if (!reply.ok()) return reply.error();
    if (reply->type != RedisReply::Type::kArray || reply->elements.size() != 2 ||
        reply->elements[1].type != RedisReply::Type::kArray) {
      return unexpectedReply("SCAN");
    }
    cursor = reply->elements[0].str;
    std::vector<std::string> del{"DEL"};
    for (auto& e : reply->elements[1].elements) del.push_back(std::move(e.str));
    if (del.size() > 1) {
      auto deleted = redis.command(del);
      if (!deleted.ok()) return deleted.error();
    }
  } while (cursor != "0");
  return Status::Ok();
}

// ---- RedisSnapshotStore -----------------------------------------------------------------------

RedisSnapshotStore::RedisSnapshotStore(std::shared_ptr<RedisConnection> redis, RedisKeys keys,
                                       std::chrono::milliseconds ttl)
    : redis_(std::move(redis)), keys_(std::move(keys)), ttl_(ttl) {}

Status RedisSnapshotStore::putSnapshot(std::string_view serverId, int64_t takenAtMs,
                                       const std::string& meetingsXml) {
  std::string key = keys_.meetingsSnapshot(serverId);
  auto replies =
      redis_->pipeline({{"HSET", key, "taken_ms", std::to_string(takenAtMs), "xml", meetingsXml},
                        {"PEXPIRE", key, std::to_string(ttl_.count())}});
  if (!replies) return replies.error();
  return Status::Ok();
}

Status RedisSnapshotStore::markChanged(std::string_view serverId, int64_t atMs) {
  return markChangedMany({std::string(serverId)}, atMs);
}

Status RedisSnapshotStore::markChangedMany(const std::vector<std::string>& serverIds,
                                           int64_t /*atMs: Redis's own time instead*/) {
  if (serverIds.empty()) return Status::Ok();
  std::vector<std::string> keys;
  keys.reserve(serverIds.size());
  for (const auto& id : serverIds) keys.push_back(keys_.meetingsSnapshot(id));
  auto r = redis_->eval(markChangedScript(), keys, {std::to_string(ttl_.count())});
  if (!r) return r.error();
  return Status::Ok();
}

Result<int64_t> RedisSnapshotStore::timeMs(int64_t /*localNowMs*/) {
  auto reply = redis_->command({"TIME"});
  if (!reply) return reply.error();
  const auto& e = reply->elements;
  int64_t seconds = 0;
  int64_t micros = 0;
  if (reply->type != RedisReply::Type::kArray || e.size() != 2 || !parseWhole(e[0].str, seconds) ||
      !parseWhole(e[1].str, micros)) {
    return unexpectedReply("TIME");
  }
  return seconds * 1000 + micros / 1000;
}

Result<std::vector<std::optional<MeetingsSnapshot>>> RedisSnapshotStore::snapshots(
    const std::vector<std::string>& serverIds) {
  std::map<std::string, MeetingsSnapshot, std::less<>> found;
  Status read = readAll(
      *redis_, serverIds, [this](const std::string& id) { return keys_.meetingsSnapshot(id); },
      [&found](const std::string& id, Fields& fields) -> Status {
        MeetingsSnapshot s;
        FieldReader r(fields);
        r.integer("taken_ms", s.takenAtMs);
        r.integer("changed_ms", s.changedAtMs);
        if (!r.badField().empty()) return storeError("corrupt meetings snapshot of " + id);
        if (auto xml = fields.find("xml"); xml != fields.end())
          s.meetingsXml = std::move(xml->second);
        found.emplace(id, std::move(s));
        return Status::Ok();
      });
  if (!read) return read.error();
  std::vector<std::optional<MeetingsSnapshot>> out;
  out.reserve(serverIds.size());
  for (const auto& id : serverIds) {
    auto it = found.find(id);
    out.push_back(it == found.end() ? std::nullopt : std::optional(std::move(it->second)));
  }
  return out;
}

Result<std::vector<std::optional<SnapshotVersion>>> RedisSnapshotStore::versions(
    const std::vector<std::string>& serverIds) {
  std::vector<std::optional<SnapshotVersion>> out;
  out.reserve(serverIds.size());
  for (size_t start = 0; start < serverIds.size(); start += kReadBatch) {
    size_t end = std::min(serverIds.size(), start + kReadBatch);
    std::vector<std::vector<std::string>> commands;
    for (size_t i = start; i < end; ++i) {
      commands.push_back({"HMGET", keys_.meetingsSnapshot(serverIds[i]), "taken_ms", "changed_ms"});
    }
    auto replies = redis_->pipeline(commands);
    if (!replies) return replies.error();
    for (const RedisReply& reply : *replies) {
      if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2) {
        return unexpectedReply("HMGET");
      }
      const RedisReply& taken = reply.elements[0];
      const RedisReply& changed = reply.elements[1];
      if (taken.isNil() && changed.isNil()) {
        out.push_back(std::nullopt);
        continue;
      }
      SnapshotVersion v;
      v.takenAtMs = taken.isNil() ? 0 : std::strtoll(taken.str.c_str(), nullptr, 10);
      v.changedAtMs = changed.isNil() ? 0 : std::strtoll(changed.str.c_str(), nullptr, 10);
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace sb
