// Integration-test harness: a bbb-sim child process (real sockets), an in-process Switchboard
// Service on an ephemeral port, and a small libcurl HTTP client that does not follow redirects.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/service.h"
#include "app/sim_process.h"
#include "core/checksum.h"
#include "core/config.h"

namespace sbtest {

struct HttpResult {
  long status = 0;  // 0 when the request failed in transport
  std::string body;
  std::string location;
  std::string contentType;
  std::string contentEncoding;  // the Content-Encoding header ("" when absent)
  std::string vary;             // the Vary header ("" when absent)
  std::string error;            // curl's message when status == 0
};

// GET (or POST when `body` is given) without following redirects, 10 s timeout.
HttpResult httpGet(const std::string& url);
HttpResult httpPost(const std::string& url, const std::string& body,
                    const std::string& contentType);
// `caFile`: trust this PEM certificate for https:// URLs (the tests' self-signed one).
// `acceptEncoding`: offered in Accept-Encoding; curl decodes the answer (`body` is decoded).
HttpResult httpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& contentType, const std::string& authorization = "",
                       const std::string& caFile = "", const std::string& acceptEncoding = "");
// A GET offering `acceptEncoding` (e.g. "gzip"), the answer decoded.
HttpResult httpGetAccepting(const std::string& url, const std::string& acceptEncoding);
// A shell command's exit status (-1 when it did not exit) and its stdout and stderr together.
struct CommandResult {
  int exitCode = -1;
  std::string out;
};
CommandResult runCommand(const std::string& command);

// The text of the first <name> element of an XML body ("" when absent).
std::string xmlField(const std::string& xml, const std::string& name);

// A bbb-sim process with its servers, and its control API.
class Sim {
 public:
  explicit Sim(int servers, const std::vector<std::string>& extraArgs = {});
  using Server = sb::SimServer;
  const std::vector<Server>& servers() const { return process_.servers(); }
  const std::string& controlUrl() const { return process_.controlUrl(); }
  nlohmann::json server(int index) const;  // GET /servers/<i>
  int requests(int index, const std::string& call) const;
  int meetingCount(int index) const;
  void fault(int index, const nlohmann::json& fault) const;
  void addParticipants(int index, const std::string& meetingId, int count) const;
  // Creates a meeting directly on server `index` (1-based) with `participants` participants.
  void addMeeting(int index, const std::string& meetingId, int participants) const;
  void reset() const;

 private:
  sb::SimProcess process_;
};

// A Switchboard Service (embedded store) on 127.0.0.1:<ephemeral>, poller not running: tests
// call pollOnce() for deterministic health.
class Router {
 public:
  static constexpr const char* kSecret = "router-secret";
  static constexpr const char* kToken = "admin-token";
  // `tweak` may change the configuration before start.
  explicit Router(const std::function<void(sb::Config&)>& tweak = {});
  ~Router();

  std::string base() const;  // "http://127.0.0.1:<port>" (https:// when TLS is configured)
  // A signed API URL as a frontend would build it, over `query` exactly as given.
  std::string apiUrl(const std::string& call, const std::string& query,
                     sb::ChecksumAlgorithm algorithm = sb::ChecksumAlgorithm::kSha1,
                     const std::string& secret = kSecret) const;
  HttpResult call(const std::string& call, const std::string& query,
                  sb::ChecksumAlgorithm algorithm = sb::ChecksumAlgorithm::kSha1) const;
  HttpResult admin(const std::string& method, const std::string& path,
                   const std::string& json = "") const;
  // The router's meeting list (GET /meetings), as a JSON array held by value (never iterate a
  // member of a temporary json: the range-for would dangle).
  nlohmann::json meetings(const std::string& serverId = "") const;
  // Adds the sim's servers (enabled) and polls once so they are online. Returns their ids in
  // sim order.
  std::vector<std::string> addServers(const Sim& sim);
  sb::Service& service() { return *service_; }
  // The recordings folder's root (a temporary folder of this router's own).
  const std::string& recordingsRoot() const { return recordingsRoot_; }

 private:
  std::string recordingsRoot_;
  std::unique_ptr<sb::Service> service_;
};

}  // namespace sbtest
