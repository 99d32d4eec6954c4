// SimServer: the state and BBB API logic of one simulated BigBlueButton server.
//
// Behaves like bbb-web 2.7/3.0 for the calls a load balancer uses (create, join,
// isMeetingRunning, getMeetingInfo, getMeetings, end, insertDocument, sendChatMessage and the
// version endpoint): raw-query checksums by bbb-web's rule, messageKeys, XML element order
// (see /work/shared/reference/bbb-api.md). No sockets here: the HTTP front (sim_http.h) turns a
// Pistache request into an ApiRequest, applies the injected faults and sends the ApiReply; only
// the faults that change what getMeetings lists (`malformed`, `partial`) are applied here.
// Every meeting a server runs is recorded in the pool's MeetingHistory (when given one).
// Simplifications: `end` removes the meeting at once; participants never leave on their own;
// join errors are answered as XML FAILED (real BBB may redirect to the logout URL instead).
// Thread-safety: every public method may be called from any thread; state is guarded by mu_.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/checksum.h"
#include "core/query_string.h"
#include "core/result.h"

namespace sb::sim {

enum class FaultError {
  kNone,
  kHttp500,  // HTTP 500, empty body
  kFailed,   // BBB FAILED XML, messageKey simulatedError
  kGarbage,  // HTTP 200, a body that is not XML
};
std::string_view faultErrorName(FaultError error);
std::optional<FaultError> parseFaultError(std::string_view name);

// Faults injected through the control API. Defaults: a healthy server.
struct Fault {
  int delayMs = 0;                       // answer every API call this many ms late (0: at once)
  FaultError error = FaultError::kNone;  // replace the answer by an error
  bool timeout = false;                  // never answer (the writer is held, then dropped)
  bool down = false;  // per-port: endpoint stopped (refused); shared port: HTTP 503
  // getMeetings only: the first meeting's <metadata> holds `<x[]>1</x[]>`, an element name that
  // is not XML, as bbb-web echoes a `meta_x[]=1` create parameter (the rest is not well-formed).
  bool malformed = false;
  // getMeetings only: every second meeting (in meetingID order) is left out; the other calls
  // still answer truthfully for every meeting.
  bool partial = false;
};

// One meeting as it ran on one server: from the create that made it to its end, the server's
// crash or a reset. Times are epoch ms; `endedMs` is empty while it runs.
struct MeetingCopy {
  int server = 0;
  std::string meetingId;
  int64_t createdMs = 0;
  std::optional<int64_t> endedMs;
};

// Every meeting copy the servers of a pool ran, so that tests can check that one meeting never
// ran on two servers at once. Bounded: past `maxEntries`, the copies that ended first are dropped
// first (then, only if every copy still runs, the oldest running ones), counted in dropped().
// Thread-safety: every method may be called from any thread (guarded by mu_). SimServer calls it
// with its own mutex held, so the lock order is SimServer::mu_, then MeetingHistory::mu_.
class MeetingHistory {
 public:
  static constexpr size_t kDefaultMaxEntries = 200000;
  explicit MeetingHistory(size_t maxEntries = kDefaultMaxEntries);

  // A meeting started on `server` (a copy still recorded as running there is ended first).
  void created(int server, const std::string& meetingId, int64_t atMs);
  // The copy of `meetingId` running on `server` ended; ignored when none is recorded.
  void ended(int server, const std::string& meetingId, int64_t atMs);

  std::vector<MeetingCopy> copies() const;  // in creation order
  uint64_t dropped() const;
  void clear();

 private:
  void trimLocked();

  const size_t maxEntries_;
  mutable std::mutex mu_;
  uint64_t nextSeq_ = 0;                     // guarded by mu_
  std::map<uint64_t, MeetingCopy> entries_;  // by sequence number = creation order; guarded by mu_
  // (server, meetingID) -> sequence number of the copy running there; guarded by mu_
  std::map<std::pair<int, std::string>, uint64_t> running_;
  std::deque<uint64_t> endedOrder_;  // ended copies, first ended first; guarded by mu_
  uint64_t dropped_ = 0;             // guarded by mu_
};

// One API call as received.
struct ApiRequest {
  std::string method;       // "GET", "POST", ...
  std::string callName;     // the path after /bigbluebutton/api/ ("" for the version call)
  std::string rawQuery;     // exactly as received, without '?'
  std::string contentType;  // media type, lower-cased, without parameters ("" when none)
  std::string body;
};

struct ApiReply {
  int status = 200;
  std::string contentType = "text/xml;charset=UTF-8";
  std::string body;
  std::string location;  // the Location of a 302
};

struct SimParticipant {
  std::string userId;          // internal, "w_" + 12 lowercase alnum
  std::string externalUserId;  // the join's userID parameter ("" when not given)
  std::string fullName;
  std::string role;  // "MODERATOR" or "VIEWER"
  bool isPresenter = false;
  bool isListeningOnly = false;
  bool hasJoinedVoice = false;
  bool hasVideo = false;
  std::vector<QueryParam> customData;  // userdata-<key> parameters, key without the prefix
};

struct SimMeeting {
  std::string meetingId;
  std::string internalMeetingId;
  std::string name;
  std::string attendeePw;
  std::string moderatorPw;
  std::string voiceBridge;
  std::string dialNumber;
  int64_t createTime = 0;  // epoch ms
  std::string createDate;  // java.util.Date#toString() of createTime, in UTC
  int64_t duration = 0;    // minutes, 0 = unlimited
  int64_t maxUsers = 0;    // maxParticipants, 0 = unlimited
  bool record = false;
  bool hasUserJoined = false;
  bool isBreakout = false;
  std::string parentMeetingId;           // "bbb-none" unless a breakout room
  std::string sequence;                  // breakout rooms only
  bool freeJoin = false;                 // breakout rooms only
  std::vector<QueryParam> createParams;  // every create parameter but checksum, in order
  std::vector<QueryParam> metadata;      // meta_<name> parameters, name lower-cased, no prefix
  std::string createBody;                // the XML body of a POST create ("" when none)
  std::vector<std::string> documents;    // bodies received by insertDocument
  std::vector<SimParticipant> participants;

  bool running() const { return !participants.empty(); }
};

// What the control API lists for one server.
struct SimServerSummary {
  Fault fault;
  size_t meetings = 0;
  size_t participants = 0;
  std::map<std::string, uint64_t> requests;  // call name -> requests received
};

// How simulated participants added by the control API look.
struct ParticipantBatch {
  std::string meetingId;
  int count = 1;
  std::string role = "VIEWER";
  int video = 0;       // the first `video` of them have a webcam
  int voice = 0;       // the first `voice` of them joined the voice conference
  int listenOnly = 0;  // the first `listenOnly` of them are listen-only
};

class SimServer {
 public:
  // `index` is 1-based; `secret` must not be empty. `history`, when given, must outlive the
  // server and records every meeting it runs.
  SimServer(int index, std::string secret, MeetingHistory* history = nullptr);

  int index() const { return index_; }
  const std::string& secret() const { return secret_; }

  // Where the API answers, "http://host:port[/s<i>]/bigbluebutton/api/". Set it before serving.
  void setApiBaseUrl(std::string url);
  std::string apiBaseUrl() const;

  // Counts one request for `callName` ("version" for the version call), faults or not.
  void countRequest(std::string_view callName);

  Fault fault() const;
  void setFault(const Fault& fault);

  // Answers one BBB API call. Faults are not applied here (the HTTP front does that).
  ApiReply handle(const ApiRequest& request);

  // Control API.
  SimServerSummary summary() const;
  std::vector<SimMeeting> meetings() const;
  // Adds simulated participants; the new participant total of the meeting, or kNotFound.
  Result<size_t> addParticipants(const ParticipantBatch& batch);
  // Creates a meeting as a create call would, then adds `participants` viewers. kAlreadyExists
  // when the meeting exists.
  Result<SimMeeting> createMeetingDirect(const std::string& meetingId, const std::string& name,
                                         int participants);
  // Loses every meeting at once, as a killed BBB process does (recorded as ended in the history);
  // the number of meetings lost. Faults are the caller's (SimPool::crash sets `down`).
  size_t crash();
  // Forgets meetings, request counters and faults.
  void reset();

 private:
  ApiReply version() const;
  ApiReply create(const QueryString& params, const ApiRequest& request);
  ApiReply join(const QueryString& params);
  ApiReply isMeetingRunning(const QueryString& params);
  ApiReply getMeetingInfo(const QueryString& params);
  ApiReply getMeetings();  // applies the `malformed` and `partial` faults
  ApiReply end(const QueryString& params);
  ApiReply insertDocument(const QueryString& params, const ApiRequest& request);
  ApiReply sendChatMessage(const QueryString& params);

  // Builds a new meeting from create parameters; needs mu_ held (voice bridges).
  Result<SimMeeting> newMeetingLocked(const QueryString& params);
  // The server's address without /bigbluebutton/api/, for join redirects.
  std::string clientBaseUrl() const;

  const int index_;
  const std::string secret_;
  const ChecksumVerifier verifier_;
  MeetingHistory* const history_;  // may be null; thread-safe itself

  mutable std::mutex mu_;
  std::string apiBaseUrl_;                      // guarded by mu_
  Fault fault_;                                 // guarded by mu_
  std::map<std::string, SimMeeting> meetings_;  // by meetingID; guarded by mu_
  std::set<std::string> voiceBridges_;          // in use; guarded by mu_
  std::map<std::string, uint64_t> requests_;    // guarded by mu_
};

}  // namespace sb::sim
