#include "db/redis_keys.h"

#include <utility>

namespace sb {

RedisKeys::RedisKeys(std::string ns) : ns_(std::move(ns)) {}

std::string RedisKeys::server(std::string_view id) const {
  return ns_ + ":server:" + std::string(id);
}

std::string RedisKeys::servers() const { return ns_ + ":servers"; }

std::string RedisKeys::serverUrls() const { return ns_ + ":server_urls"; }

std::string RedisKeys::meeting(std::string_view id) const {
  return meetingPrefix() + std::string(id);
}

std::string RedisKeys::meetingPrefix() const { return ns_ + ":meeting:"; }

std::string RedisKeys::meetings() const { return ns_ + ":meetings"; }

std::string RedisKeys::serverMeetings(std::string_view serverId) const {
  return serverMeetingsPrefix() + std::string(serverId);
}

std::string RedisKeys::serverMeetingsPrefix() const { return ns_ + ":server_meetings:"; }

std::string RedisKeys::lease(std::string_view name) const {
  return ns_ + ":lease:" + std::string(name);
}

std::string RedisKeys::meetingsSnapshot(std::string_view serverId) const {
  return ns_ + ":meetings_snapshot:" + std::string(serverId);
}

std::string RedisKeys::filledMark() const { return ns_ + ":filled"; }

std::string RedisKeys::tenantMeetings(std::string_view tenant) const {
  return ns_ + ":tenant_meetings:" + std::string(tenant);
}

std::string RedisKeys::tenantCreates(std::string_view tenant, int64_t minute) const {
  return ns_ + ":tenant_creates:" + std::string(tenant) + ":" + std::to_string(minute);
}

std::string RedisKeys::tenantParticipants() const { return ns_ + ":tenant_participants"; }

std::string RedisKeys::quotaTenants() const { return ns_ + ":quota_tenants"; }

std::string RedisKeys::tenants() const { return ns_ + ":tenants"; }

std::string RedisKeys::usedLink(std::string_view linkId) const {
  return ns_ + ":used_link:" + std::string(linkId);
}

std::string RedisKeys::ended(std::string_view meetingId) const {
  return ns_ + ":ended:" + std::string(meetingId);
}

std::string RedisKeys::pattern() const {
  std::string out;
  for (char c : ns_) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out + ":*";
}

}  // namespace sb
