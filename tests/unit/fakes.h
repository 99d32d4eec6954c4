// Test doubles for the unit tests: a fake BbbClient that answers canned XML, records every call and
// can be told to fail; a MeetingStore decorator that lets a test act just before a claim (races);
// ServerStore and MeetingsSnapshotStore decorators whose calls a test can fail or watch; helpers to
// build servers and BBB answers. Thread-safety: FakeBbbClient's recording is synchronised (BbbApi
// runs calls on worker threads); configure its switches before the calls start.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbb/bbb_xml.h"
#include "core/bbb_client.h"
#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/query_string.h"
#include "core/server.h"
#include "core/server_store.h"

namespace sb::fake {

// Holds the calls of a fake store (or any fake) in place while closed, so a test can act while a
// call is under way: the fake calls pass() with the call recorded under the gate's lock; the test
// waits for the n-th call with waitUntilPassed(n), then open()s the gate.
template <typename Call>
class Gate {
 public:
  // Records `call`; returns once the gate is open.
  void pass(Call call) {
    std::unique_lock lock(mu_);
    calls_.push_back(std::move(call));
    entered_.notify_all();
    opened_.wait(lock, [this] { return open_; });
  }
  void waitUntilPassed(size_t calls) {
    std::unique_lock lock(mu_);
    entered_.wait(lock, [&] { return calls_.size() >= calls; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    opened_.notify_all();
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable entered_, opened_;
  bool open_ = false;        // guarded by mu_
  std::vector<Call> calls_;  // guarded by mu_
};

// ---- canned BBB answers ----------------------------------------------------------------------

inline std::string successXml(const std::string& inner = "") {
  return "<response><returncode>SUCCESS</returncode>" + inner + "</response>";
}

inline std::string failedXml(const std::string& key, const std::string& message = "failed") {
  return "<response><returncode>FAILED</returncode><messageKey>" + key + "</messageKey><message>" +
         message + "</message></response>";
}

inline std::string createdXml(const std::string& meetingId) {
  return successXml("<meetingID>" + meetingId + "</meetingID><createTime>1</createTime>");
}

inline std::string runningXml(bool running) {
  return successXml(std::string("<running>") + (running ? "true" : "false") + "</running>");
}

inline PolledMeeting polledMeeting(const std::string& id, int participants, int64_t createTimeMs,
                                   bool breakout = false) {
  PolledMeeting m;
  m.meetingId = id;
  m.participantCount = participants;
  m.createTimeMs = createTimeMs;
  m.isBreakout = breakout;
  m.running = true;
  m.xml = "<meeting><meetingID>" + id + "</meetingID></meeting>";
  return m;
}

// ---- servers -----------------------------------------------------------------------------------

inline std::string urlFor(const std::string& id) {
  return "https://" + id + ".example.com/bigbluebutton/api/";
}

inline Server makeServer(const std::string& id, double load = 0, const std::string& tag = "",
                         AdminState state = AdminState::kEnabled, bool online = true) {
  Server s;
  s.id = id;
  s.url = urlFor(id);
  s.secret = "secret-" + id;
  s.tag = tag;
  s.state = state;
  s.live.online = online;
  s.live.load = load;
  return s;
}

// ---- the fake BBB client -----------------------------------------------------------------------

// A call as the fake saw it, with the signed URL taken apart.
struct RecordedCall {
  std::string url;
  std::string serverUrl;  // up to and including "/bigbluebutton/api/"
  std::string call;       // "create", "end", ...
  std::string query;      // raw query without "&checksum=..." (what was signed)
  std::string checksum;
  QueryString params;  // decoded `query`
  std::string body;
  CallTimeouts timeouts;
};

inline RecordedCall splitSignedUrl(const std::string& url) {
  RecordedCall r;
  r.url = url;
  static constexpr std::string_view kApi = "/bigbluebutton/api/";
  size_t api = url.find(kApi);
  size_t base = api == std::string::npos ? 0 : api + kApi.size();
  r.serverUrl = url.substr(0, base);
  size_t q = url.find('?', base);
  r.call = url.substr(base, q == std::string::npos ? std::string::npos : q - base);
  std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  size_t cs = query.rfind("checksum=");
  if (cs != std::string::npos) {
    r.checksum = query.substr(cs + 9);
    query.erase(cs == 0 ? 0 : cs - 1);
  }
  r.query = query;
  auto parsed = QueryString::parse(query);
  if (parsed) r.params = std::move(*parsed);
  return r;
}

class FakeBbbClient final : public BbbClient {
 public:
  // ---- switches (set before use) ----
  // Server API URLs whose calls and polls fail in transport.
  std::set<std::string> unreachable;
  // Body answered per call name ("create", "end", ...); SUCCESS with the meetingID otherwise.
  std::map<std::string, std::string> replies;
  // Poll result per server API URL; a successful empty poll otherwise.
  std::map<std::string, ServerPoll> polls;
  // Version per server API URL; "2.7.12" otherwise.
  std::map<std::string, std::string> versions;
  // Runs at the start of each pollMeetings (e.g. an operator editing a server mid-round).
  std::function<void()> onPoll;
  // Runs in each call before it is answered, outside the fake's lock (e.g. to hold a call).
  std::function<void(const RecordedCall&)> onCall;

  Result<BbbReply> call(const BbbCall& c) override {
    RecordedCall r = splitSignedUrl(c.url);
    r.body = c.body;
    r.timeouts = c.timeouts;
    {
      std::lock_guard lock(mu_);
      calls_.push_back(r);
    }
    if (onCall) onCall(r);
    if (unreachable.contains(r.serverUrl)) {
      return Error::of(ErrorCode::kInternalError, "connection refused");
    }
    BbbReply reply;
    reply.httpStatus = 200;
    auto it = replies.find(r.call);
    const std::string meetingId(r.params.get("meetingID").value_or(""));
    if (it != replies.end()) {
      reply.body = it->second;
    } else if (r.call == "getMeetingInfo" && !runs(r.serverUrl, meetingId)) {
      reply.body = failedXml("notFound", "A meeting with that ID does not exist");
    } else {
      reply.body = createdXml(meetingId);
    }
    if (!readReplyHeader(reply)) return Error::of(ErrorCode::kInternalError, "unreadable answer");
    return reply;
  }

  void pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts /*timeouts*/,
                        const PollAnswer& onAnswer) override {
    if (onPoll) onPoll();
    std::vector<Result<ServerPoll>> out;
    {
      std::lock_guard lock(mu_);
      pollRounds_.push_back(urls);
      for (const auto& url : urls) {
        RecordedCall r = splitSignedUrl(url);
        if (unreachable.contains(r.serverUrl)) {
          out.emplace_back(Error::of(ErrorCode::kInternalError, "connection refused"));
        } else if (auto it = polls.find(r.serverUrl); it != polls.end()) {
          out.emplace_back(it->second);
        } else {
          out.emplace_back(ServerPoll{});
        }
      }
    }
    // Answered outside the lock, last URL first: callers must not rely on the order.
    for (size_t i = out.size(); i-- > 0;) onAnswer(i, std::move(out[i]));
  }

  Result<std::string> fetchVersion(const std::string& apiRootUrl, CallTimeouts) override {
    std::lock_guard lock(mu_);
    versionFetches_.push_back(apiRootUrl);
    std::string base = apiRootUrl.substr(0, apiRootUrl.find('?'));
    if (unreachable.contains(base)) return Error::of(ErrorCode::kInternalError, "refused");
    auto it = versions.find(base);
    return it != versions.end() ? it->second : std::string("2.7.12");
  }

  // Whether the server's canned poll lists the meeting (getMeetingInfo answers as the poll
  // does: a server that does not list a meeting does not know it, unless a reply is set).
  bool runs(const std::string& serverUrl, const std::string& meetingId) const {
    std::lock_guard lock(mu_);
    auto it = polls.find(serverUrl);
    if (it == polls.end()) return false;
    for (const auto& m : it->second.meetings) {
      if (m.meetingId == meetingId) return true;
    }
    return false;
  }

  // ---- the record ----
  std::vector<RecordedCall> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The calls with this name, in order.
  std::vector<RecordedCall> callsOf(std::string_view name) const {
    std::vector<RecordedCall> out;
    for (auto& c : calls()) {
      if (c.call == name) out.push_back(c);
    }
    return out;
  }
  std::vector<std::vector<std::string>> pollRounds() const {
    std::lock_guard lock(mu_);
    return pollRounds_;
  }
  std::vector<std::string> versionFetches() const {
    std::lock_guard lock(mu_);
    return versionFetches_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<RecordedCall> calls_;                   // guarded by mu_
  std::vector<std::vector<std::string>> pollRounds_;  // guarded by mu_
  std::vector<std::string> versionFetches_;           // guarded by mu_
};

// ---- a meeting store decorator -----------------------------------------------------------------

// Forwards to a real store; `beforeClaim` runs just before each claim (to let a rival request win
// the race), `failFind` makes findMeeting answer kStoreUnavailable, `failListMeetings` the whole
// listing (listMeetings; listPlacedMeetings still answers).
class HookedMeetingStore final : public MeetingStore {
 public:
  explicit HookedMeetingStore(MeetingStore& inner) : inner_(inner) {}

  std::function<void(const Meeting&)> beforeClaim;
  bool failFind = false;
  bool failClaim = false;
  bool failListMeetings = false;
  bool prefersBatches = false;  // prefersClaimBatches(): creates hand their claims over together

  Result<std::optional<Meeting>> findMeeting(std::string_view id) override {
    if (failFind) return Error::of(ErrorCode::kStoreUnavailable);
    return inner_.findMeeting(id);
  }
  bool prefersClaimBatches() const override { return prefersBatches; }
  Result<Claim> claimMeeting(const Meeting& meeting) override {
    if (failClaim) return Error::of(ErrorCode::kStoreUnavailable);
    if (beforeClaim) beforeClaim(meeting);
    return inner_.claimMeeting(meeting);
  }
  Status removeMeeting(std::string_view id, std::string_view serverId = {}) override {
    return inner_.removeMeeting(id, serverId);
  }
  Result<int> orphanMeetingsOf(std::string_view serverId) override {
    return inner_.orphanMeetingsOf(serverId);
  }
  Result<std::vector<Meeting>> listMeetings(std::string_view serverId = {}) override {
    if (failListMeetings) return Error::of(ErrorCode::kStoreUnavailable);
    return inner_.listMeetings(serverId);
  }
  Result<std::vector<PlacedMeeting>> listPlacedMeetings() override {
    return inner_.listPlacedMeetings();
  }

  // The number of meetings of each claimMeetings batch, in order.
  std::vector<size_t> claimBatches() {
    std::lock_guard lock(mu_);
    return claimBatches_;
  }

 protected:
  std::vector<Result<Claim>> claimDistinctMeetings(std::span<const Meeting> meetings) override {
    {
      std::lock_guard lock(mu_);
      claimBatches_.push_back(meetings.size());
    }
    return MeetingStore::claimDistinctMeetings(meetings);  // claimMeeting each: the hooks apply
  }

 private:
  MeetingStore& inner_;
  std::mutex mu_;
  std::vector<size_t> claimBatches_;  // guarded by mu_
};

// ---- a server store decorator ------------------------------------------------------------------

// Forwards to a real store; while `failGetServer` is set, getServer answers kStoreUnavailable (a
// Redis timeout), so a test can tell a store failure apart from a server that is gone;
// `beforeReserveMany` sees each reserveMany before it is forwarded (set it before the calls).
class HookedServerStore final : public ServerStore {
 public:
  explicit HookedServerStore(ServerStore& inner) : inner_(inner) {}

  std::atomic<bool> failGetServer{false};
  std::function<void(std::span<const Reservation>)> beforeReserveMany;

  Result<std::vector<Server>> listServers() override { return inner_.listServers(); }
  Result<Server> getServer(std::string_view id) override {
    if (failGetServer) return Error::of(ErrorCode::kStoreUnavailable);
    return inner_.getServer(id);
  }
  Status addServer(const Server& server) override { return inner_.addServer(server); }
  Status updateServer(const Server& server) override { return inner_.updateServer(server); }
  Status removeServer(std::string_view id) override { return inner_.removeServer(id); }
  Result<bool> compareAndSetState(std::string_view id, AdminState expected,
                                  AdminState next) override {
    return inner_.compareAndSetState(id, expected, next);
  }
  Status updateLiveState(std::string_view id, const ServerLiveState& live) override {
    return inner_.updateLiveState(id, live);
  }
  Status reserve(std::string_view id, double load, int meetings) override {
    return inner_.reserve(id, load, meetings);
  }
  Status reserveMany(std::span<const Reservation> reservations) override {
    if (beforeReserveMany) beforeReserveMany(reservations);
    return inner_.reserveMany(reservations);
  }

 private:
  ServerStore& inner_;
};

// ---- a meetings snapshot store decorator -------------------------------------------------------

// Forwards to a real store. `beforeMarkMany` sees each markChangedMany before it is forwarded;
// `prefersBatches` is what prefersMarkBatches() answers; while `time` is set, timeMs answers it (a
// clock of the store's own, as Redis's is, or a failure). Set them before the calls.
class HookedSnapshotStore final : public MeetingsSnapshotStore {
 public:
  explicit HookedSnapshotStore(MeetingsSnapshotStore& inner) : inner_(inner) {}

  std::function<void(const std::vector<std::string>&, int64_t)> beforeMarkMany;
  bool prefersBatches = false;
  std::optional<Result<int64_t>> time;

  Result<int64_t> timeMs(int64_t localNowMs) override {
    return time ? *time : inner_.timeMs(localNowMs);
  }
  bool prefersMarkBatches() const override { return prefersBatches; }
  Status putSnapshot(std::string_view serverId, int64_t takenAtMs,
                     const std::string& meetingsXml) override {
    return inner_.putSnapshot(serverId, takenAtMs, meetingsXml);
  }
  Status markChanged(std::string_view serverId, int64_t atMs) override {
    return inner_.markChanged(serverId, atMs);
  }
  Status markChangedMany(const std::vector<std::string>& serverIds, int64_t atMs) override {
    if (beforeMarkMany) beforeMarkMany(serverIds, atMs);
    return inner_.markChangedMany(serverIds, atMs);
  }
  Result<std::vector<std::optional<MeetingsSnapshot>>> snapshots(
      const std::vector<std::string>& serverIds) override {
    return inner_.snapshots(serverIds);
  }
  Result<std::vector<std::optional<SnapshotVersion>>> versions(
      const std::vector<std::string>& serverIds) override {
    return inner_.versions(serverIds);
  }

 private:
  MeetingsSnapshotStore& inner_;
};

}  // namespace sb::fake
