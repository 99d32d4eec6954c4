// BbbClient over libcurl. Single calls reuse one easy handle per calling thread (keep-alive to
// each BBB server); pollMeetings runs all requests of a round at once on a curl multi handle, so
// one slow server never delays the others.
// Memory is bounded: an answer is read up to BBB_ANSWER_MAX_BYTES (as decoded: a gzip bomb stops
// there too), and the answers of all calls in flight together up to BBB_ANSWERS_MAX_BYTES (a
// call past it fails at once; what it read is handed back). An answer nested deeper than
// kMaxXmlDepth is refused before it is parsed. What is passed on is made safe XML text
// (core/xml_text.h: invalid UTF-8 and characters XML 1.0 forbids become U+FFFD).
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <memory>

#include "core/bbb_client.h"
#include "core/config.h"

namespace sb {

class AnswerBudget;

class CurlBbbClient final : public BbbClient {
 public:
  // Reads answerMaxBytes and answersMaxBytes of `config`.
  explicit CurlBbbClient(const BbbClientConfig& config = {});
  ~CurlBbbClient() override;

  Result<BbbReply> call(const BbbCall& call) override;
  void pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts timeouts,
                        const PollAnswer& onAnswer) override;
  Result<std::string> fetchVersion(const std::string& apiRootUrl, CallTimeouts timeouts) override;

  // Bytes of answers counted against BBB_ANSWERS_MAX_BYTES now (being read or still held).
  size_t answerBytesInFlight() const;

 private:
  const size_t answerMaxBytes_;
  std::shared_ptr<AnswerBudget> budget_;  // shared with the holds of replies handed out
};

// "https://host/bigbluebutton/api/create" from a signed URL: safe to log (no query, no checksum).
std::string urlForLog(const std::string& url);

}  // namespace sb
