// AdminClient: the HTTP+JSON client of Switchboard's admin API (`<url>/switchboard/api/v1`), the
// only thing the admin CLI talks to. One method per endpoint; each sends one blocking request
// over libcurl (connect timeout 5 s, total 30 s by default) and returns the decoded JSON answer
// or an ApiFailure. Nothing here throws for a failed call, and nothing here prints: the commands
// decide what the operator sees. The token is sent as `Authorization: Bearer <token>` and is
// never part of a returned message.
//
// Ids in paths and queries are percent-encoded with curl_easy_escape; bodies are built with
// nlohmann::json.
// Thread-safety: none (one curl handle, reused between calls for keep-alive). Use one client per
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/server.h"

namespace sb::admin {

struct AdminClientOptions {
  // The router's base URL, without the API prefix. Trailing slashes are ignored.
  // Default: http://127.0.0.1:8080 (SWITCHBOARD_URL for the CLI).
  std::string baseUrl = "http://127.0.0.1:8080";
  // The admin bearer token. Default: empty, which sends no Authorization header.
  std::string token;
  // Default: 5 s to establish the connection.
  std::chrono::milliseconds connectTimeout{5000};
  // Default: 30 s for the whole exchange.
  std::chrono::milliseconds totalTimeout{30000};
};

enum class ApiFailureKind {
  kUnreachable,   // no HTTP answer at all: refused, DNS, TLS, timeout (CLI exit code 2)
  kUnauthorized,  // 401: the token is missing or wrong
  kRejected,      // any other non-2xx answer, e.g. 400/404/409/503 {"error": "..."}
  kBadAnswer,     // a 2xx answer whose body is not JSON (not a Switchboard router?)
};

struct ApiFailure {
  ApiFailureKind kind = ApiFailureKind::kUnreachable;
  long httpStatus = 0;  // 0 for kUnreachable
  // kUnreachable: curl's description; kRejected/kUnauthorized: the answer's "error" field (see
  // httpErrorMessage); kBadAnswer: why the body could not be read. Safe to print.
  std::string message;
};

// The JSON answer of a 2xx response, or why there is none.
class [[nodiscard]] ApiResult {
 public:
  ApiResult(nlohmann::json answer) : v_(std::move(answer)) {}  // NOLINT(google-explicit-*)
  ApiResult(ApiFailure failure) : v_(std::move(failure)) {}    // NOLINT(google-explicit-*)

  bool ok() const { return v_.index() == 0; }
  // Precondition: ok().
  const nlohmann::json& value() const& { return std::get<0>(v_); }
  nlohmann::json&& value() && { return std::get<0>(std::move(v_)); }
  // Precondition: !ok().
  const ApiFailure& failure() const { return std::get<1>(v_); }

 private:
  std::variant<nlohmann::json, ApiFailure> v_;
};

// POST /servers. Unset optionals are left out of the body, so the router's defaults apply
// (untagged, multiplier 1, disabled).
struct NewServer {
  std::string url;
  std::string secret;
  std::optional<std::string> tag = std::nullopt;
  std::optional<double> loadMultiplier = std::nullopt;
  std::optional<AdminState> state = std::nullopt;
  std::optional<int> maxUsers = std::nullopt;        // capacity, 0 = no limit
  std::optional<int> maxMeetings = std::nullopt;     // capacity, 0 = no limit
  std::optional<std::string> wsUrl = std::nullopt;   // signalling endpoint, ws://host:port
  std::optional<std::string> wssUrl = std::nullopt;  // signalling endpoint, wss://host:port
  std::optional<int> maxConnections = std::nullopt;  // connection capacity (default 500)
};

// PATCH /servers/{id}: only the fields that are set are changed. An empty tag clears the tag.
struct ServerChanges {
  std::optional<std::string> url;
  std::optional<std::string> secret;
  std::optional<std::string> tag;
  std::optional<double> loadMultiplier;
  std::optional<int> maxUsers;
  std::optional<int> maxMeetings;
  std::optional<std::string> wsUrl;  // "" clears
  std::optional<std::string> wssUrl;
  std::optional<int> maxConnections;
  std::optional<bool> addedByOperator;  // true: the registration token may not change it

  bool empty() const {
    return !url && !secret && !tag && !loadMultiplier && !maxUsers && !maxMeetings && !wsUrl &&
           !wssUrl && !maxConnections && !addedByOperator;
  }
};

// POST /servers/{id}/panic.
struct PanicOptions {
  bool failover = false;   // re-create the meetings on other servers instead of ending them
  bool keepState = false;  // leave the admin state as it is (default: the server is disabled)
};

class AdminClient {
 public:
  explicit AdminClient(AdminClientOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // The base URL as used (trailing slashes removed), for messages.
  const std::string& baseUrl() const { return options_.baseUrl; }

  ApiResult listServers();                       // {"servers":[Server]}
  ApiResult getServer(std::string_view id);      // Server
  ApiResult addServer(const NewServer& server);  // Server (201)
  ApiResult updateServer(std::string_view id, const ServerChanges& changes);  // Server
  ApiResult setServerState(std::string_view id, AdminState state);            // Server
  ApiResult removeServer(std::string_view id);  // {"removed","orphaned_meetings"}
  ApiResult panicServer(std::string_view id, const PanicOptions& options);
  ApiResult listMeetings(std::optional<std::string_view> serverId);  // {"meetings":[...]}
  ApiResult endMeeting(std::string_view meetingId);
  // {"moved": id, "server_id": target}
  ApiResult moveMeeting(std::string_view meetingId, std::string_view serverId);  // {"ended": id}
  // {"servers","totals","headroom"}; headroom for losing the `survive` largest servers.
  ApiResult status(int survive = 1);
  // {"recordings":[...],"total"}; `meetingId` and `state` ("" = not given) as getRecordings'.
  ApiResult listRecordings(std::string_view meetingId, std::string_view state);
  ApiResult getRecording(std::string_view recordId);
  ApiResult publishRecording(std::string_view recordId, bool publish);  // {"id","published"}
  ApiResult deleteRecording(std::string_view recordId);                 // {"deleted": id}
  // POST /recordings/upload: streams the archive `file` (never whole in memory) and waits for
  // its import, without the total timeout (only a stall of 10 minutes ends it). `name` names
  // it in failed/ should it fail. {"imported":[recording...],"bytes"}.
  ApiResult uploadRecording(const std::string& file, std::string_view name);
  ApiResult failedImports();      // {"failed":[{archive,reason,attempts,...}]}
  ApiResult pendingCallbacks();   // {"callbacks":[{kind,meeting_id,url,...}]}
  ApiResult retryCallbacks();     // {"retried": n}
  ApiResult reindexRecordings();  // {"stored","failed","skipped","problems","seconds"}
  ApiResult retryImport(std::string_view name);       // {"retry": name}
  ApiResult dropFailedImport(std::string_view name);  // {"removed": name}
  // Tenants (core/tenants/tenant_json.h is their JSON form).
  ApiResult listTenants();                                   // {"tenants":[Tenant]}
  ApiResult getTenant(std::string_view name, bool secrets);  // Tenant
  ApiResult addTenant(const nlohmann::json& tenant);         // Tenant (201)
  ApiResult updateTenant(std::string_view name, const nlohmann::json& changes);  // Tenant
  ApiResult removeTenant(std::string_view name, bool force);  // {"removed","meetings"}
  // {"tenant", "secret"}: `secret` empty = the router makes one.
  ApiResult rotateTenantSecret(std::string_view name, std::string_view secret, bool dropOthers);
  ApiResult tenantUsage(std::string_view name);  // {"tenant","meetings","limits"}

 private:
  // Sends `method` to <baseUrl>/switchboard/api/v1<path>; `path` is already encoded. A null body
  // sends no body (and no Content-Type).
  ApiResult request(const char* method, const std::string& path, const nlohmann::json* body);
  // An open file sent as a request's body instead of JSON.
  struct FileBody {
    std::FILE* file = nullptr;
    int64_t size = 0;
  };
  ApiResult request(const char* method, const std::string& path, const nlohmann::json* body,
                    const FileBody* fileBody);
  // Percent-encodes one path segment or query value.
  std::string escape(std::string_view text);

  struct CurlHandle;
  AdminClientOptions options_;
  std::unique_ptr<CurlHandle> curl_;
};

}  // namespace sb::admin
