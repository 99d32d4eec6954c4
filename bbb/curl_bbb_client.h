// BbbClient over libcurl. Single calls reuse one easy handle per calling thread (keep-alive to
// each BBB server); pollMeetings runs all requests of a round at once on a curl multi handle, so
// one slow server never delays the others.
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include "core/bbb_client.h"

namespace sb {

class CurlBbbClient final : public BbbClient {
 public:
  CurlBbbClient();
  ~CurlBbbClient() override;

  Result<BbbReply> call(const BbbCall& call) override;
  void pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts timeouts,
                        const PollAnswer& onAnswer) override;
  Result<std::string> fetchVersion(const std::string& apiRootUrl, CallTimeouts timeouts) override;
};

// "https://host/bigbluebutton/api/create" from a signed URL: safe to log (no query, no checksum).
std::string urlForLog(const std::string& url);

}  // namespace sb
