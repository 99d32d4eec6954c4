#include "tests/sim/sim_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <random>
#include <utility>

#include "core/xml_text.h"
#include "tests/sim/sim_xml.h"

namespace sb::sim {
namespace {

constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kDefaultDialNumber = "613-555-1234";  // bbb-web's default
constexpr std::string_view kApiSuffix = "/bigbluebutton/api/";

std::mt19937_64& rng() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator;
}

std::string randomString(size_t length, std::string_view alphabet) {
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out(length, ' ');
  for (auto& c : out) c = alphabet[pick(rng())];
  return out;
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// java.util.Date#toString() in UTC: "Thu May 09 13:35:28 UTC 2024" (the C locale's names).
std::string javaDateString(int64_t epochMs) {
  std::time_t seconds = static_cast<std::time_t>(epochMs / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  size_t n = std::strftime(buffer, sizeof buffer, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return std::string(buffer, n);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool isTrue(std::optional<std::string_view> value) { return value && lower(*value) == "true"; }

// A non-empty parameter, or nullopt (bbb-web treats empty values like absent ones).
std::optional<std::string_view> nonEmpty(const QueryString& params, std::string_view name) {
  auto value = params.get(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

// A BBB Number parameter: digits only; `fallback` when absent or malformed.
int64_t numberParam(const QueryString& params, std::string_view name, int64_t fallback) {
  auto value = params.get(name);
  if (!value || value->empty() || value->size() > 15 ||
      !std::all_of(value->begin(), value->end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return fallback;
  }
  return std::stoll(std::string(*value));
}

ApiReply xmlReply(std::string body) {
  ApiReply reply;
  reply.body = std::move(body);
  return reply;
}

ApiReply failed(std::string_view messageKey, std::string_view message) {
  return xmlReply(BbbXml::failed(messageKey, message));
}

ApiReply missingMeetingId() {
  return failed("missingParamMeetingID", "You must provide a meeting ID");
}

ApiReply meetingNotFound() { return failed("notFound", "A meeting with that ID does not exist"); }

ApiReply createReply(const SimMeeting& m, std::string_view messageKey, std::string_view message) {
  BbbXml xml("SUCCESS");
  auto r = xml.root();
  BbbXml::text(r, "meetingID", m.meetingId);
  BbbXml::text(r, "internalMeetingID", m.internalMeetingId);
  BbbXml::text(r, "parentMeetingID", m.parentMeetingId);
  if (!m.attendeePw.empty()) BbbXml::text(r, "attendeePW", m.attendeePw);
  if (!m.moderatorPw.empty()) BbbXml::text(r, "moderatorPW", m.moderatorPw);
  BbbXml::number(r, "createTime", m.createTime);
  BbbXml::text(r, "voiceBridge", m.voiceBridge);
  BbbXml::text(r, "dialNumber", m.dialNumber);
  BbbXml::text(r, "createDate", m.createDate);
  BbbXml::boolean(r, "hasUserJoined", m.hasUserJoined);
  BbbXml::number(r, "duration", m.duration);
  BbbXml::boolean(r, "hasBeenForciblyEnded", false);
  BbbXml::text(r, "messageKey", messageKey);
  BbbXml::text(r, "message", message);
  return xmlReply(xml.render());
}

// The body of a meeting, in get-meeting-info.ftlx order (also each <meeting> of getMeetings).
// `malformedMetadata`: the <metadata> starts with `<x[]>1</x[]>`, the element bbb-web prints for a
// `meta_x[]=1` create parameter (not an XML name: the document is not well-formed from there).
void appendMeeting(pugi::xml_node parent, const SimMeeting& m, bool malformedMetadata = false) {
  int64_t listeners = 0, voice = 0, video = 0, moderators = 0;
  for (const auto& p : m.participants) {
    listeners += p.isListeningOnly;
    voice += p.hasJoinedVoice;
    video += p.hasVideo;
    moderators += p.role == "MODERATOR";
  }
  BbbXml::text(parent, "meetingName", m.name);
  BbbXml::text(parent, "meetingID", m.meetingId);
  BbbXml::text(parent, "internalMeetingID", m.internalMeetingId);
  BbbXml::number(parent, "createTime", m.createTime);
  BbbXml::text(parent, "createDate", m.createDate);
  BbbXml::text(parent, "voiceBridge", m.voiceBridge);
  BbbXml::text(parent, "dialNumber", m.dialNumber);
  if (!m.attendeePw.empty()) BbbXml::text(parent, "attendeePW", m.attendeePw);
  if (!m.moderatorPw.empty()) BbbXml::text(parent, "moderatorPW", m.moderatorPw);
  BbbXml::boolean(parent, "running", m.running());
  BbbXml::number(parent, "duration", m.duration);
  BbbXml::boolean(parent, "hasUserJoined", m.hasUserJoined);
  BbbXml::boolean(parent, "recording", m.record);
  BbbXml::boolean(parent, "hasBeenForciblyEnded", false);
  BbbXml::number(parent, "startTime", m.createTime);
  BbbXml::number(parent, "endTime", 0);
  BbbXml::number(parent, "participantCount", static_cast<int64_t>(m.participants.size()));
  BbbXml::number(parent, "listenerCount", listeners);
  BbbXml::number(parent, "voiceParticipantCount", voice);
  BbbXml::number(parent, "videoCount", video);
  BbbXml::number(parent, "maxUsers", m.maxUsers);
  BbbXml::number(parent, "moderatorCount", moderators);
  auto attendees = BbbXml::container(parent, "attendees");
  for (const auto& p : m.participants) {
    auto a = attendees.append_child("attendee");
    BbbXml::text(a, "userID", p.externalUserId.empty() ? p.userId : p.externalUserId);
    BbbXml::text(a, "fullName", p.fullName);
    BbbXml::text(a, "role", p.role);
    BbbXml::boolean(a, "isPresenter", p.isPresenter);
    BbbXml::boolean(a, "isListeningOnly", p.isListeningOnly);
    BbbXml::boolean(a, "hasJoinedVoice", p.hasJoinedVoice);
    BbbXml::boolean(a, "hasVideo", p.hasVideo);
    BbbXml::text(a, "clientType", "HTML5");
    auto custom = a.append_child("customdata");
    for (const auto& [key, value] : p.customData) {
      if (isXmlElementName(key)) BbbXml::text(custom, key.c_str(), value);
    }
  }
  BbbXml::closeContainer(attendees);
  auto metadata = BbbXml::container(parent, "metadata");
  // pugixml prints element names as given, without checking them.
  if (malformedMetadata) BbbXml::text(metadata, "x[]", "1");
  for (const auto& [key, value] : m.metadata) {
    // Keys come from clients; one that is no XML name is kept in createParams but not printed.
    if (isXmlElementName(key)) BbbXml::text(metadata, key.c_str(), value);
  }
  BbbXml::closeContainer(metadata);
  BbbXml::boolean(parent, "isBreakout", m.isBreakout);
  if (m.isBreakout) {
    BbbXml::text(parent, "parentMeetingID", m.parentMeetingId);
    BbbXml::text(parent, "sequence", m.sequence);
    BbbXml::boolean(parent, "freeJoin", m.freeJoin);
  }
}

SimParticipant simulatedParticipant(const std::string& role, size_t number) {
  SimParticipant p;
  p.userId = "w_" + randomString(12, kLowerAlnum);
  p.fullName = "Sim User " + std::to_string(number);
  p.role = role;
  return p;
}

}  // namespace

std::string_view faultErrorName(FaultError error) {
  switch (error) {
    case FaultError::kNone:
      return "none";
    case FaultError::kHttp500:
      return "http500";
    case FaultError::kFailed:
      return "failed";
    case FaultError::kGarbage:
      return "garbage";
  }
  return "none";
}

std::optional<FaultError> parseFaultError(std::string_view name) {
  for (auto e :
       {FaultError::kNone, FaultError::kHttp500, FaultError::kFailed, FaultError::kGarbage}) {
    if (faultErrorName(e) == name) return e;
  }
  return std::nullopt;
}

MeetingHistory::MeetingHistory(size_t maxEntries) : maxEntries_(std::max<size_t>(1, maxEntries)) {}

void MeetingHistory::created(int server, const std::string& meetingId, int64_t atMs) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(server, meetingId);
  if (auto it = running_.find(key); it != running_.end()) {
    // Not expected (a server runs one copy of a meeting), but never leave a copy open forever.
    entries_[it->second].endedMs = atMs;
    endedOrder_.push_back(it->second);
    running_.erase(it);
  }
  uint64_t seq = nextSeq_++;
  entries_[seq] = MeetingCopy{server, meetingId, atMs, std::nullopt};
  running_[key] = seq;
  trimLocked();
}

void MeetingHistory::ended(int server, const std::string& meetingId, int64_t atMs) {
  std::lock_guard lock(mu_);
  auto it = running_.find(std::make_pair(server, meetingId));
  if (it == running_.end()) return;  // dropped (or never recorded)
  entries_[it->second].endedMs = atMs;
  endedOrder_.push_back(it->second);
  running_.erase(it);
}

void MeetingHistory::trimLocked() {
  while (entries_.size() > maxEntries_) {
    if (!endedOrder_.empty()) {
      entries_.erase(endedOrder_.front());
      endedOrder_.pop_front();
    } else {
      auto oldest = entries_.begin();
      running_.erase(std::make_pair(oldest->second.server, oldest->second.meetingId));
      entries_.erase(oldest);
    }
    ++dropped_;
  }
}

std::vector<MeetingCopy> MeetingHistory::copies() const {
  std::lock_guard lock(mu_);
  std::vector<MeetingCopy> out;
  out.reserve(entries_.size());
  for (const auto& [seq, copy] : entries_) out.push_back(copy);
  return out;
}

uint64_t MeetingHistory::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void MeetingHistory::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  running_.clear();
  endedOrder_.clear();
  dropped_ = 0;
}

SimServer::SimServer(int index, std::string secret, MeetingHistory* history)
    : index_(index), secret_(std::move(secret)), verifier_({secret_}, {}), history_(history) {}

void SimServer::setApiBaseUrl(std::string url) {
  std::lock_guard lock(mu_);
  apiBaseUrl_ = std::move(url);
}

std::string SimServer::apiBaseUrl() const {
  std::lock_guard lock(mu_);
  return apiBaseUrl_;
}

std::string SimServer::clientBaseUrl() const {
  std::string url = apiBaseUrl();
  if (url.ends_with(kApiSuffix)) url.resize(url.size() - kApiSuffix.size());
  return url;
}

void SimServer::countRequest(std::string_view callName) {
  std::lock_guard lock(mu_);
  ++requests_[callName.empty() ? std::string("version") : std::string(callName)];
}

Fault SimServer::fault() const {
  std::lock_guard lock(mu_);
  return fault_;
}

void SimServer::setFault(const Fault& fault) {
  std::lock_guard lock(mu_);
  fault_ = fault;
}

ApiReply SimServer::handle(const ApiRequest& request) {
  if (request.callName.empty()) return version();

  static const std::set<std::string_view> kCalls = {
      "create",      "join", "isMeetingRunning", "getMeetingInfo",
      "getMeetings", "end",  "insertDocument",   "sendChatMessage"};
  if (!kCalls.contains(request.callName)) {
    return failed("unsupportedRequest", "This request is not supported.");
  }
  if (request.method != "GET" && request.method != "POST") {
    return failed("unsupportedRequest", "This request is not supported.");
  }

  auto urlParams = QueryString::parse(request.rawQuery);
  if (!urlParams) return failed("validationError", urlParams.error().message);
  QueryString params = std::move(*urlParams);

  const bool post = request.method == "POST";
  const bool formBody = post && request.contentType == "application/x-www-form-urlencoded";
  const bool xmlBody =
      post && (request.contentType == "application/xml" || request.contentType == "text/xml");
  if (post && !request.body.empty() && !formBody && !xmlBody &&
      request.contentType != "multipart/form-data") {
    return failed("unsupportedContentType", "POST request Content-Type is missing or unsupported");
  }
  if (formBody) {
    // Body parameters count as parameters, but the checksum covers the URL query only.
    auto bodyParams = QueryString::parse(request.body);
    if (!bodyParams) return failed("validationError", bodyParams.error().message);
    for (const auto& p : bodyParams->params()) params.append(p.name, p.value);
  }

  auto checksum = params.get("checksum");
  if (!checksum || !verifier_.verify(request.callName,
                                     removeChecksumParam(request.rawQuery, *checksum), *checksum)) {
    return failed("checksumError", "Checksums do not match");
  }
  params.remove("checksum");

  const std::string& call = request.callName;
  if ((call == "join" || call == "sendChatMessage") && post) {
    return failed("unsupportedRequest", "This request is not supported.");
  }
  if (call == "insertDocument" && !post) {
    return failed("unsupportedRequest", "This request is not supported.");
  }

  if (call == "create") return create(params, request);
  if (call == "join") return join(params);
  if (call == "isMeetingRunning") return isMeetingRunning(params);
  if (call == "getMeetingInfo") return getMeetingInfo(params);
  if (call == "getMeetings") return getMeetings();
  if (call == "end") return end(params);
  if (call == "insertDocument") return insertDocument(params, request);
  return sendChatMessage(params);
}

ApiReply SimServer::version() const {
  BbbXml xml("SUCCESS");
  BbbXml::text(xml.root(), "version", "2.0");
  BbbXml::text(xml.root(), "apiVersion", "2.0");
  BbbXml::text(xml.root(), "bbbVersion", "2.7.12-sim");
  return xmlReply(xml.render());
}

Result<SimMeeting> SimServer::newMeetingLocked(const QueryString& params) {
  SimMeeting m;
  m.meetingId = std::string(params.get("meetingID").value_or(""));
  m.name = std::string(params.get("name").value_or(""));
  m.createTime = nowMs();
  m.internalMeetingId = computeChecksum(ChecksumAlgorithm::kSha1, m.meetingId, "", "") + "-" +
                        std::to_string(m.createTime);
  m.createDate = javaDateString(m.createTime);
  m.attendeePw = std::string(nonEmpty(params, "attendeePW").value_or(randomString(8, kAlnum)));
  m.moderatorPw = std::string(nonEmpty(params, "moderatorPW").value_or(randomString(8, kAlnum)));
  if (auto bridge = nonEmpty(params, "voiceBridge")) {
    if (voiceBridges_.contains(std::string(*bridge))) {
      return Error::of(ErrorCode::kValidationError, "The selected voice bridge is already in use.");
    }
    m.voiceBridge = std::string(*bridge);
  } else {
    // 5 digits like defaultNumDigitsForTelVoice=5; unique on this server while there is room.
    std::uniform_int_distribution<int> digits(10000, 99999);
    for (int attempt = 0; attempt < 100; ++attempt) {
      m.voiceBridge = std::to_string(digits(rng()));
      if (!voiceBridges_.contains(m.voiceBridge)) break;
    }
  }
  m.dialNumber = std::string(nonEmpty(params, "dialNumber").value_or(kDefaultDialNumber));
  m.duration = numberParam(params, "duration", 0);
  m.maxUsers = numberParam(params, "maxParticipants", 0);
  m.record = isTrue(params.get("record"));
  m.isBreakout = isTrue(params.get("isBreakout"));
  m.parentMeetingId =
      m.isBreakout ? std::string(params.get("parentMeetingID").value_or("")) : "bbb-none";
  if (m.isBreakout) {
    m.sequence = std::string(params.get("sequence").value_or(""));
    m.freeJoin = isTrue(params.get("freeJoin"));
  }
  m.createParams = params.params();
  for (const auto& p : params.params()) {
    if (!p.name.starts_with("meta_") || p.name.size() == 5) continue;
    std::string key = lower(std::string_view(p.name).substr(5));
    bool seen = std::any_of(m.metadata.begin(), m.metadata.end(),
                            [&](const QueryParam& q) { return q.name == key; });
    if (!seen) m.metadata.push_back({key, p.value});
  }
  return m;
}

ApiReply SimServer::create(const QueryString& params, const ApiRequest& request) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  if (!nonEmpty(params, "name"))
    return failed("validationError", "You must provide a meeting name");

  std::lock_guard lock(mu_);
  // A call that got past the HTTP front just before the server went down (or crashed) must not
  // leave a meeting behind on it.
  if (fault_.down) return failed("simulatedError", "Simulated failure (server is down)");
  auto it = meetings_.find(std::string(*meetingId));
  if (it != meetings_.end()) {
    const SimMeeting& existing = it->second;
    auto attendeePw = nonEmpty(params, "attendeePW");
    auto moderatorPw = nonEmpty(params, "moderatorPW");
    if ((attendeePw && *attendeePw != existing.attendeePw) ||
        (moderatorPw && *moderatorPw != existing.moderatorPw)) {
      return failed("idNotUnique",
                    "A meeting already exists with that meeting ID.  Please use a different "
                    "meeting ID.");
    }
    return createReply(existing, "duplicateWarning",
                       "This conference was already in existence and may currently be in "
                       "progress.");
  }
  auto meeting = newMeetingLocked(params);
  if (!meeting) return failed("nonUniqueVoiceBridge", meeting.error().message);
  if (request.method == "POST" &&
      (request.contentType == "application/xml" || request.contentType == "text/xml")) {
    meeting->createBody = request.body;
  }
  voiceBridges_.insert(meeting->voiceBridge);
  std::string key = meeting->meetingId;
  auto& stored = meetings_[key] = std::move(*meeting);
  if (history_) history_->created(index_, key, stored.createTime);
  return createReply(stored, "", "");
}

ApiReply SimServer::join(const QueryString& params) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  std::string fullName(trim(params.get("fullName").value_or("")));
  if (fullName.empty()) {
    return failed("missingParamFullName",
                  "You must specify a name for the attendee who will be joining the meeting.");
  }

  SimParticipant participant;
  std::string internalMeetingId;
  {
    std::lock_guard lock(mu_);
    auto it = meetings_.find(std::string(*meetingId));
    if (it == meetings_.end()) return meetingNotFound();
    SimMeeting& m = it->second;
    if (auto createTime = params.get("createTime");
        createTime && *createTime != std::to_string(m.createTime)) {
      return failed("mismatchCreateTimeParam",
                    "The createTime parameter submitted mismatches with the current meeting.");
    }
    std::string role = upper(params.get("role").value_or(""));
    if (role != "MODERATOR" && role != "VIEWER") {
      auto password = params.get("password");
      if (password && *password == m.moderatorPw) {
        role = "MODERATOR";
      } else if (password && *password == m.attendeePw) {
        role = "VIEWER";
      } else {
        return failed("invalidPassword",
                      "You either did not supply a password or the password supplied is neither "
                      "the attendee or moderator password for this conference.");
      }
    }
    if (m.maxUsers > 0 && static_cast<int64_t>(m.participants.size()) >= m.maxUsers) {
      return failed("maxParticipantsReached",
                    "The number of participants allowed for this meeting has been reached.");
    }
    participant.userId = "w_" + randomString(12, kLowerAlnum);
    participant.externalUserId = std::string(params.get("userID").value_or(""));
    participant.fullName = fullName;
    participant.role = role;
    participant.isPresenter = std::none_of(m.participants.begin(), m.participants.end(),
                                           [](const SimParticipant& p) { return p.isPresenter; });
    for (const auto& p : params.params()) {
      if (p.name.starts_with("userdata-") && p.name.size() > 9) {
        participant.customData.push_back({p.name.substr(9), p.value});
      }
    }
    m.participants.push_back(participant);
    m.hasUserJoined = true;
    internalMeetingId = m.internalMeetingId;
  }

  std::string sessionToken = randomString(16, kLowerAlnum);
  std::string url = clientBaseUrl() + "/html5client/join?sessionToken=" + sessionToken;
  if (lower(params.get("redirect").value_or("true")) == "false") {
    BbbXml xml("SUCCESS");
    auto r = xml.root();
    BbbXml::text(r, "messageKey", "successfullyJoined");
    BbbXml::text(r, "message", "You have joined successfully.");
    BbbXml::text(r, "meeting_id", internalMeetingId);
    BbbXml::text(r, "user_id", participant.userId);
    BbbXml::text(r, "auth_token", randomString(12, kLowerAlnum));
    BbbXml::text(r, "session_token", sessionToken);
    BbbXml::text(r, "guestStatus", "ALLOW");
    BbbXml::text(r, "url", url);
    return xmlReply(xml.render());
  }
  ApiReply reply;
  reply.status = 302;
  reply.contentType.clear();
  reply.location = url;
  return reply;
}

ApiReply SimServer::isMeetingRunning(const QueryString& params) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  bool running = false;
  {
    std::lock_guard lock(mu_);
    auto it = meetings_.find(std::string(*meetingId));
    running = it != meetings_.end() && it->second.running();
  }
  BbbXml xml("SUCCESS");
  BbbXml::boolean(xml.root(), "running", running);
  return xmlReply(xml.render());
}

ApiReply SimServer::getMeetingInfo(const QueryString& params) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  BbbXml xml("SUCCESS");
  {
    std::lock_guard lock(mu_);
    auto it = meetings_.find(std::string(*meetingId));
    if (it == meetings_.end()) return meetingNotFound();
    appendMeeting(xml.root(), it->second);
  }
  return xmlReply(xml.render());
}

ApiReply SimServer::getMeetings() {
  BbbXml xml("SUCCESS");
  auto list = BbbXml::container(xml.root(), "meetings");
  bool none = false;
  {
    std::lock_guard lock(mu_);
    none = meetings_.empty();
    size_t position = 0;
    bool first = true;
    for (const auto& [id, m] : meetings_) {
      if (fault_.partial && position++ % 2 == 1) continue;  // every second one left out
      appendMeeting(list.append_child("meeting"), m, fault_.malformed && first);
      first = false;
    }
  }
  if (!none) return xmlReply(xml.render());
  BbbXml::text(xml.root(), "messageKey", "noMeetings");
  BbbXml::text(xml.root(), "message", "no meetings were found on this server");
  // get-meetings.ftlx prints the empty list as a self-closing tag; pugixml, told to print no
  // self-closing tags (for <messageKey></messageKey>), gives <meetings></meetings>.
  std::string body = xml.render();
  constexpr std::string_view kOpenClose = "<meetings></meetings>";
  if (auto pos = body.find(kOpenClose); pos != std::string::npos) {
    body.replace(pos, kOpenClose.size(), "<meetings/>");
  }
  return xmlReply(std::move(body));
}

ApiReply SimServer::end(const QueryString& params) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  {
    std::lock_guard lock(mu_);
    auto it = meetings_.find(std::string(*meetingId));
    if (it == meetings_.end()) return meetingNotFound();
    voiceBridges_.erase(it->second.voiceBridge);
    if (history_) history_->ended(index_, it->first, nowMs());
    meetings_.erase(it);
  }
  return xmlReply(BbbXml::success(
      "sentEndMeetingRequest",
      "A request to end the meeting was sent.  Please wait a few seconds, and then use the "
      "getMeetingInfo or isMeetingRunning API calls to verify that it was ended."));
}

ApiReply SimServer::insertDocument(const QueryString& params, const ApiRequest& request) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  {
    std::lock_guard lock(mu_);
    auto it = meetings_.find(std::string(*meetingId));
    if (it == meetings_.end()) {
      return failed("notFound", "Meeting with id [" + std::string(*meetingId) + "] not found.");
    }
    it->second.documents.push_back(request.body);
  }
  return xmlReply(BbbXml::success("", "Presentation is being uploaded"));
}

ApiReply SimServer::sendChatMessage(const QueryString& params) {
  auto meetingId = nonEmpty(params, "meetingID");
  if (!meetingId) return missingMeetingId();
  auto message = nonEmpty(params, "message");
  if (!message) return failed("validationError", "You must provide a message");
  if (message->size() > 500) {
    return failed("validationError", "Message must be between 1 and 500 characters");
  }
  {
    std::lock_guard lock(mu_);
    if (!meetings_.contains(std::string(*meetingId))) return meetingNotFound();
  }
  return xmlReply(BbbXml::success("", ""));
}

SimServerSummary SimServer::summary() const {
  std::lock_guard lock(mu_);
  SimServerSummary s;
  s.fault = fault_;
  s.meetings = meetings_.size();
  for (const auto& [id, m] : meetings_) s.participants += m.participants.size();
  s.requests = requests_;
  return s;
}

std::vector<SimMeeting> SimServer::meetings() const {
  std::lock_guard lock(mu_);
  std::vector<SimMeeting> out;
  out.reserve(meetings_.size());
  for (const auto& [id, m] : meetings_) out.push_back(m);
  return out;
}

Result<size_t> SimServer::addParticipants(const ParticipantBatch& batch) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(batch.meetingId);
  if (it == meetings_.end()) return Error::of(ErrorCode::kNotFound, "no such meeting");
  SimMeeting& m = it->second;
  for (int i = 0; i < batch.count; ++i) {
    SimParticipant p = simulatedParticipant(batch.role, m.participants.size() + 1);
    p.hasVideo = i < batch.video;
    p.hasJoinedVoice = i < batch.voice;
    p.isListeningOnly = i < batch.listenOnly;
    m.participants.push_back(std::move(p));
  }
  if (batch.count > 0) m.hasUserJoined = true;
  return m.participants.size();
}

Result<SimMeeting> SimServer::createMeetingDirect(const std::string& meetingId,
                                                  const std::string& name, int participants) {
  QueryString params;
  params.append("meetingID", meetingId);
  params.append("name", name);
  std::lock_guard lock(mu_);
  if (meetings_.contains(meetingId)) {
    return Error::of(ErrorCode::kAlreadyExists, "meeting exists");
  }
  auto meeting = newMeetingLocked(params);
  if (!meeting) return meeting.error();
  for (int i = 0; i < participants; ++i) {
    meeting->participants.push_back(
        simulatedParticipant("VIEWER", meeting->participants.size() + 1));
  }
  meeting->hasUserJoined = participants > 0;
  voiceBridges_.insert(meeting->voiceBridge);
  if (history_) history_->created(index_, meetingId, meeting->createTime);
  return meetings_[meetingId] = std::move(*meeting);
}

size_t SimServer::crash() {
  std::lock_guard lock(mu_);
  size_t lost = meetings_.size();
  int64_t now = nowMs();
  if (history_) {
    for (const auto& [id, m] : meetings_) history_->ended(index_, id, now);
  }
  meetings_.clear();
  voiceBridges_.clear();
  return lost;
}

void SimServer::reset() {
  std::lock_guard lock(mu_);
  if (history_) {
    int64_t now = nowMs();
    for (const auto& [id, m] : meetings_) history_->ended(index_, id, now);
  }
  meetings_.clear();
  voiceBridges_.clear();
  requests_.clear();
  fault_ = Fault{};
}

}  // namespace sb::sim
