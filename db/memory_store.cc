#include "db/memory_store.h"

#include <zlib.h>

#include <algorithm>

namespace sb {
namespace {
Error serverNotFound(std::string_view id) {
  return Error::of(ErrorCode::kNotFound, "Couldn't find server with id=" + std::string(id));
}
}  // namespace

Result<std::vector<Server>> MemoryServerStore::listServers() {
  std::lock_guard lock(mu_);
  std::vector<Server> out;
  out.reserve(servers_.size());
  for (const auto& [id, s] : servers_) out.push_back(s);
  return out;
}

Result<Server> MemoryServerStore::getServer(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(id);
  if (it == servers_.end()) return serverNotFound(id);
  return it->second;
}

Status MemoryServerStore::addServer(const Server& server) {
  std::lock_guard lock(mu_);
  if (servers_.contains(server.id)) {
    return Error::of(ErrorCode::kAlreadyExists,
                     "Server already exists with id '" + server.id + "'");
  }
  for (const auto& [id, s] : servers_) {
    if (s.url == server.url) {
      return Error::of(ErrorCode::kAlreadyExists,
                       "A server with URL " + server.url + " already exists (id " + id + ")");
    }
  }
  servers_.emplace(server.id, server);
  return Status::Ok();
}

Status MemoryServerStore::updateServer(const Server& server) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(server.id);
  if (it == servers_.end()) return serverNotFound(server.id);
  for (const auto& [id, s] : servers_) {
    if (id != server.id && s.url == server.url) {
      return Error::of(ErrorCode::kAlreadyExists,
                       "A server with URL " + server.url + " already exists (id " + id + ")");
    }
  }
  Server& stored = it->second;
  stored.url = server.url;
  stored.secret = server.secret;
  stored.tag = server.tag;
  stored.state = server.state;
  stored.loadMultiplier = server.loadMultiplier;
  stored.maxUsers = server.maxUsers;
  stored.maxMeetings = server.maxMeetings;
  stored.wsUrl = server.wsUrl;
  stored.wssUrl = server.wssUrl;
  stored.maxConnections = server.maxConnections;
  stored.removeWhenDrained = server.removeWhenDrained;
  stored.addedByOperator = server.addedByOperator;
  return Status::Ok();
}

Status MemoryServerStore::removeServer(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(id);
  if (it == servers_.end()) return serverNotFound(id);
  servers_.erase(it);
  return Status::Ok();
}

Result<bool> MemoryServerStore::compareAndSetState(std::string_view id, AdminState expected,
                                                   AdminState next) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(id);
  if (it == servers_.end()) return serverNotFound(id);
  if (it->second.state != expected) return false;
  it->second.state = next;
  return true;
}

Status MemoryServerStore::updateLiveState(std::string_view id, const ServerLiveState& live) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(id);
  if (it == servers_.end()) return serverNotFound(id);
  it->second.live = live;
  return Status::Ok();
}

Status MemoryServerStore::reserve(std::string_view id, double load, int meetings) {
  std::lock_guard lock(mu_);
  auto it = servers_.find(id);
  if (it == servers_.end()) return serverNotFound(id);
  ServerLiveState& live = it->second.live;
  live.load = std::max(0.0, live.load + load);
  live.usage.meetings = std::max(0, live.usage.meetings + meetings);
  return Status::Ok();
}

Result<std::optional<Meeting>> MemoryMeetingStore::findMeeting(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(id);
  if (it == meetings_.end()) return std::optional<Meeting>();
  return std::optional<Meeting>(it->second);
}

Result<MeetingStore::Claim> MemoryMeetingStore::claimMeeting(const Meeting& meeting) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(meeting.id);
  if (it != meetings_.end() && !it->second.orphaned) return Claim{it->second, false};
  meetings_.insert_or_assign(meeting.id, meeting);
  return Claim{meeting, true};
}

Status MemoryMeetingStore::removeMeeting(std::string_view id, std::string_view serverId) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(id);
  if (it != meetings_.end() && (serverId.empty() || it->second.serverId == serverId)) {
    meetings_.erase(it);
  }
  return Status::Ok();
}

Result<int> MemoryMeetingStore::orphanMeetingsOf(std::string_view serverId) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (auto& [id, m] : meetings_) {
    if (m.serverId == serverId && !m.orphaned) {
      m.orphaned = true;
      ++n;
    }
  }
  return n;
}

Result<std::vector<Meeting>> MemoryMeetingStore::listMeetings(std::string_view serverId) {
  std::lock_guard lock(mu_);
  std::vector<Meeting> out;
  for (const auto& [id, m] : meetings_) {
    if (serverId.empty() || m.serverId == serverId) out.push_back(m);
  }
  return out;
}

Result<std::vector<PlacedMeeting>> MemoryMeetingStore::listPlacedMeetings() {
  std::lock_guard lock(mu_);
  std::vector<PlacedMeeting> out;
  out.reserve(meetings_.size());
  for (const auto& [id, m] : meetings_) out.push_back(PlacedMeeting::of(m));
  return out;
}

namespace {

// zlib fails only when memory runs out (or on data it did not write): kStoreUnavailable then.
Result<std::string> deflated(const std::string& text) {
  uLongf size = compressBound(text.size());
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(text.data()), text.size(), Z_BEST_SPEED) != Z_OK) {
    return Error::of(ErrorCode::kStoreUnavailable, "zlib could not compress a snapshot");
  }
  out.resize(size);
  out.shrink_to_fit();
  return out;
}

Result<std::string> inflated(const std::string& data, size_t size) {
  std::string out(size, '\0');
  uLongf got = size;
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &got,
                 reinterpret_cast<const Bytef*>(data.data()), data.size()) != Z_OK ||
      got != size) {
    return Error::of(ErrorCode::kStoreUnavailable, "zlib could not inflate a snapshot");
  }
  return out;
}

}  // namespace

Status MemorySnapshotStore::putSnapshot(std::string_view serverId, int64_t takenAtMs,
                                        const std::string& meetingsXml) {
  auto packed = deflated(meetingsXml);
  if (!packed) return packed.error();
  std::lock_guard lock(mu_);
  Stored& s = snapshots_[std::string(serverId)];
  s.version.takenAtMs = takenAtMs;
  s.deflated = std::make_shared<const std::string>(std::move(*packed));
  s.xmlBytes = meetingsXml.size();
  return Status::Ok();
}

Status MemorySnapshotStore::markChanged(std::string_view serverId, int64_t atMs) {
  std::lock_guard lock(mu_);
  Stored& s = snapshots_[std::string(serverId)];
  s.version.changedAtMs = std::max(s.version.changedAtMs, atMs);
  return Status::Ok();
}

Result<std::vector<std::optional<MeetingsSnapshot>>> MemorySnapshotStore::snapshots(
    const std::vector<std::string>& serverIds) {
  std::vector<std::optional<Stored>> found;
  {
    std::lock_guard lock(mu_);
    found.reserve(serverIds.size());
    for (const auto& id : serverIds) {
      auto it = snapshots_.find(id);
      found.push_back(it == snapshots_.end() ? std::nullopt : std::optional(it->second));
    }
  }
  // Inflated outside the lock: the poller's puts do not wait on a getMeetings.
  std::vector<std::optional<MeetingsSnapshot>> out;
  out.reserve(found.size());
  for (auto& f : found) {
    if (!f) {
      out.emplace_back();
      continue;
    }
    MeetingsSnapshot snap;
    static_cast<SnapshotVersion&>(snap) = f->version;
    if (f->deflated) {
      auto xml = inflated(*f->deflated, f->xmlBytes);
      if (!xml) return xml.error();
      snap.meetingsXml = std::move(*xml);
    }
    out.push_back(std::move(snap));
  }
  return out;
}

Result<std::vector<std::optional<SnapshotVersion>>> MemorySnapshotStore::versions(
    const std::vector<std::string>& serverIds) {
  std::lock_guard lock(mu_);
  std::vector<std::optional<SnapshotVersion>> out;
  out.reserve(serverIds.size());
  for (const auto& id : serverIds) {
    auto it = snapshots_.find(id);
    out.push_back(it == snapshots_.end() ? std::nullopt
                                         : std::optional<SnapshotVersion>(it->second.version));
  }
  return out;
}

Status MemoryMeetingStore::rememberEnded(std::string_view id, int64_t atMs,
                                         std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  auto [at, added] = ended_.insert_or_assign(std::string(id), atMs);
  if (added) endedOrder_.push_back(at->first);
  while (endedOrder_.size() > kMaxEnded) {
    ended_.erase(endedOrder_.front());
    endedOrder_.pop_front();
  }
  return Status::Ok();
}

Result<std::optional<int64_t>> MemoryMeetingStore::endedAt(std::string_view id) {
  std::lock_guard lock(mu_);
  auto at = ended_.find(id);
  if (at == ended_.end()) return std::optional<int64_t>();
  return std::optional<int64_t>(at->second);
}

}  // namespace sb
