// Port: talking to BBB servers. Implemented over libcurl in bbb/.
//
// A transport failure (connect error, timeout, TLS failure, non-2xx HTTP status, unreadable XML
// where parsing is asked for, an answer past the client's size bounds or nested past its depth
// bound) is a kInternalError Result; a BBB answer of FAILED is a successful
// reply whose body says so. Callers choose the message the API client sees.
// Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace sb {

struct CallTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds response{10000};  // the whole transfer, connect included
};

struct BbbCall {
  std::string url;          // fully signed URL
  std::string body;         // POSTed when non-empty
  std::string contentType;  // of the body; "application/xml" when empty
  CallTimeouts timeouts;
};

struct BbbReply {
  long httpStatus = 0;
  std::string body;
  // Read from the XML body by the client: "SUCCESS"/"FAILED" and the messageKey ("" if none).
  std::string returnCode;
  std::string messageKey;
  // Keeps the body counted against the client's budget of answers in flight (BBB_ANSWERS_MAX_BYTES)
  // while any copy of it is held; null when the client keeps no budget.
  std::shared_ptr<const void> memoryHold;
  bool success() const { return returnCode == "SUCCESS"; }
};

// One <meeting> of a getMeetings answer, with the counters the poller and load need.
struct PolledMeeting {
  std::string meetingId;
  std::string meetingName;
  std::string internalMeetingId;
  std::string moderatorPw;  // to end a copy that runs where the meeting does not live
  int64_t createTimeMs = 0;
  int participantCount = 0;
  int moderatorCount = 0;
  int listenerCount = 0;
  int voiceParticipantCount = 0;
  int videoCount = 0;
  bool running = false;
  bool isBreakout = false;
  std::string xml;  // the <meeting> element as BBB sent it, for merging into getMeetings
};

struct ServerPoll {
  std::vector<PolledMeeting> meetings;
  int latencyMs = 0;
  // Meeting elements of the answer that could not be read (bbb/bbb_xml.h): the server answered,
  // but `meetings` may miss some that run there.
  int unreadable = 0;
};

class BbbClient {
 public:
  virtual ~BbbClient() = default;

  virtual Result<BbbReply> call(const BbbCall& call) = 0;

  // Sends getMeetings to every URL at once (signed getMeetings URLs, one per server) and hands
  // each parsed answer to `onAnswer(index of its URL, result)` as soon as it is in, on the
  // calling thread, once per URL; returns when every URL is answered. A caller that keeps only
  // what it needs of each answer never holds a whole round's XML at once (megabytes per server).
  // Never takes longer than the timeouts given.
  using PollAnswer = std::function<void(size_t index, Result<ServerPoll> poll)>;
  virtual void pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts timeouts,
                                const PollAnswer& onAnswer) = 0;

  // pollMeetingsEach, collected: one result per URL, in order.
  std::vector<Result<ServerPoll>> pollMeetings(const std::vector<std::string>& urls,
                                               CallTimeouts timeouts) {
    std::vector<std::optional<Result<ServerPoll>>> answers(urls.size());
    pollMeetingsEach(urls, timeouts, [&](size_t index, Result<ServerPoll> poll) {
      answers[index] = std::move(poll);
    });
    std::vector<Result<ServerPoll>> out;
    out.reserve(urls.size());
    for (auto& answer : answers) {
      out.push_back(answer ? std::move(*answer)
                           : Result<ServerPoll>(Error::of(ErrorCode::kInternalError, "no answer")));
    }
    return out;
  }

  // The BBB version from the API root ("" when the server does not reveal it).
  virtual Result<std::string> fetchVersion(const std::string& apiRootUrl,
                                           CallTimeouts timeouts) = 0;
};

}  // namespace sb
