// Every Redis key Switchboard uses, in one place. All keys live under one namespace prefix
// (REDIS_NAMESPACE, default "switchboard"), so several deployments (or test runs) can share one
// Redis, and `flushRedisNamespace` can clear exactly ours.
//
// Layout (<ns> = the namespace):
//   <ns>:server:<id>               hash    one server: inventory and live state
//   <ns>:servers                   set     ids of all servers
//   <ns>:server_urls               hash    url -> server id (URL uniqueness)
//   <ns>:meeting:<meetingID>       hash    one meeting (server, create params, orphaned, ...)
//   <ns>:meetings                  set     ids of all meetings
//   <ns>:server_meetings:<id>      set     ids of the meetings whose server_id is <id>
//   <ns>:lease:<name>              string  the holder of a leader lease (PX ttl), e.g. "poller"
//   <ns>:meetings_snapshot:<id>    hash    the poller's last getMeetings of a server: taken_ms,
//                                          changed_ms, xml (core/meetings_snapshot.h)
//   <ns>:ended:<meetingID>         string  when the meeting was last ended through Switchboard
//                                          (epoch ms), kept for a day (MeetingStore::endedAt)
//   <ns>:filled                    string  set once Redis holds every PostgreSQL record: its
//                                          absence means Redis lost its data (app/stores.cc)
//   <ns>:used_link:<id>            string  a protected recording's one-time link was used (PX:
//                                          until the link expires; core/recordings/link_registry.h)
//
// The Lua scripts in redis_store.cc receive the prefixes below as arguments rather than spelling
// key names themselves, so this file stays the only place that does.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb {

inline constexpr std::string_view kDefaultRedisNamespace = "switchboard";

class RedisKeys {
 public:
  explicit RedisKeys(std::string ns = std::string(kDefaultRedisNamespace));

  const std::string& ns() const { return ns_; }

  std::string server(std::string_view id) const;
  std::string servers() const;
  std::string serverUrls() const;
  std::string meeting(std::string_view id) const;
  std::string meetingPrefix() const;  // "<ns>:meeting:", meeting(id) == meetingPrefix() + id
  std::string meetings() const;
  std::string serverMeetings(std::string_view serverId) const;
  std::string serverMeetingsPrefix() const;  // "<ns>:server_meetings:"
  std::string lease(std::string_view name) const;
  std::string meetingsSnapshot(std::string_view serverId) const;
  std::string filledMark() const;
  std::string usedLink(std::string_view linkId) const;
  std::string ended(std::string_view meetingId) const;
  // Tenant quotas (db/redis_tenant_quota.h).
  std::string tenantMeetings(std::string_view tenant) const;  // zset: meeting → counted at ms
  std::string tenantCreates(std::string_view tenant, int64_t minute) const;  // counter
  std::string tenantParticipants() const;  // hash: tenant → participants
  std::string quotaTenants() const;        // set: tenants with counted meetings
  std::string tenants() const;             // string: every tenant's JSON (a copy of PostgreSQL's)

  // A SCAN MATCH pattern for every key of the namespace ("<ns>:*", glob characters in the
  // namespace escaped).
  std::string pattern() const;

 private:
  std::string ns_;
};

}  // namespace sb
