#include "admin/admin_client.h"

#include <cerrno>
#include <cstring>

#include <curl/curl.h>

#include <memory>
#include <stdexcept>
#include <utility>

#include "admin/format.h"

namespace sb::admin {

namespace {

constexpr std::string_view kApiPrefix = "/switchboard/api/v1";
constexpr const char* kUserAgent = "switchboard-admin/0.1";

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Appends to a header list, keeping ownership in one place.
void appendHeader(Slist& list, const std::string& header) {
  curl_slist* grown = curl_slist_append(list.get(), header.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  (void)list.release();
  list.reset(grown);
}

size_t collectBody(char* data, size_t size, size_t count, void* userdata) {
  static_cast<std::string*>(userdata)->append(data, size * count);
  return size * count;
}

std::string stripTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

struct AdminClient::CurlHandle {
  CURL* easy = curl_easy_init();
  ~CurlHandle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

AdminClient::AdminClient(AdminClientOptions options)
    : options_(std::move(options)), curl_(std::make_unique<CurlHandle>()) {
  options_.baseUrl = stripTrailingSlashes(std::move(options_.baseUrl));
  if (curl_->easy == nullptr) throw std::runtime_error("curl_easy_init failed");
}

AdminClient::~AdminClient() = default;

std::string AdminClient::escape(std::string_view text) {
  if (text.empty()) return {};  // curl_easy_escape reads a length of 0 as "use strlen"
  char* escaped = curl_easy_escape(curl_->easy, text.data(), static_cast<int>(text.size()));
  if (escaped == nullptr) throw std::bad_alloc();
  std::string result = escaped;
  curl_free(escaped);
  return result;
}

ApiResult AdminClient::request(const char* method, const std::string& path,
                               const nlohmann::json* body) {
  return request(method, path, body, nullptr);
}

namespace {

size_t readFileBody(char* buffer, size_t size, size_t count, void* file) {
  return std::fread(buffer, size, count, static_cast<std::FILE*>(file));
}

}  // namespace

ApiResult AdminClient::request(const char* method, const std::string& path,
                               const nlohmann::json* body, const FileBody* fileBody) {
  CURL* easy = curl_->easy;
  curl_easy_reset(easy);

  const std::string url = options_.baseUrl + std::string(kApiPrefix) + path;
  const std::string payload = body != nullptr ? body->dump() : std::string();
  std::string answer;
  char errorBuffer[CURL_ERROR_SIZE] = {};

  Slist headers;
  appendHeader(headers, "Accept: application/json");
  // A body-less request must not carry curl's default form Content-Type.
  appendHeader(headers, fileBody != nullptr ? "Content-Type: application/x-tar"
                        : body != nullptr   ? "Content-Type: application/json"
                                            : "Content-Type:");
  appendHeader(headers, "Expect:");
  if (!options_.token.empty()) appendHeader(headers, "Authorization: Bearer " + options_.token);

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  const std::string_view verb = method;
  if (verb != "GET" && verb != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
  if (fileBody != nullptr) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, readFileBody);
    curl_easy_setopt(easy, CURLOPT_READDATA, fileBody->file);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(fileBody->size));
  } else if (body != nullptr || verb == "POST") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connectTimeout.count()));
  if (fileBody != nullptr) {
    // Gigabytes, then the import: no total bound, but a transfer stalled for 10 minutes ends.
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, 600L);
  } else {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.totalTimeout.count()));
  }
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  // Redirects are not followed: the bearer token must only go where the operator pointed it.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collectBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errorBuffer);

  CURLcode code = curl_easy_perform(easy);
  // The header list and error buffer die with this frame: unhook them from the reused handle.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  if (code != CURLE_OK) {
    std::string message = errorBuffer[0] != '\0' ? errorBuffer : curl_easy_strerror(code);
    return ApiFailure{ApiFailureKind::kUnreachable, 0, std::move(message)};
  }

  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status == 401) {
    return ApiFailure{ApiFailureKind::kUnauthorized, status, httpErrorMessage(status, answer)};
  }
  if (status < 200 || status > 299) {
    return ApiFailure{ApiFailureKind::kRejected, status, httpErrorMessage(status, answer)};
  }
  nlohmann::json parsed = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return ApiFailure{ApiFailureKind::kBadAnswer, status,
                      "the answer to " + std::string(method) + " " + std::string(kApiPrefix) +
                          path + " is not JSON (is this a Switchboard router?)"};
  }
  return parsed;
}

ApiResult AdminClient::listServers() { return request("GET", "/servers", nullptr); }

ApiResult AdminClient::getServer(std::string_view id) {
  return request("GET", "/servers/" + escape(id), nullptr);
}

ApiResult AdminClient::addServer(const NewServer& server) {
  nlohmann::json body = {{"url", server.url}, {"secret", server.secret}};
  if (server.tag) body["tag"] = *server.tag;
  if (server.loadMultiplier) body["load_multiplier"] = *server.loadMultiplier;
  if (server.state) body["state"] = std::string(adminStateName(*server.state));
  if (server.maxUsers) body["max_users"] = *server.maxUsers;
  if (server.maxMeetings) body["max_meetings"] = *server.maxMeetings;
  if (server.wsUrl) body["ws_url"] = *server.wsUrl;
  if (server.wssUrl) body["wss_url"] = *server.wssUrl;
  if (server.maxConnections) body["max_connections"] = *server.maxConnections;
  return request("POST", "/servers", &body);
}

ApiResult AdminClient::updateServer(std::string_view id, const ServerChanges& changes) {
  nlohmann::json body = nlohmann::json::object();
  if (changes.url) body["url"] = *changes.url;
  if (changes.secret) body["secret"] = *changes.secret;
  if (changes.tag) body["tag"] = *changes.tag;
  if (changes.loadMultiplier) body["load_multiplier"] = *changes.loadMultiplier;
  if (changes.maxUsers) body["max_users"] = *changes.maxUsers;
  if (changes.maxMeetings) body["max_meetings"] = *changes.maxMeetings;
  if (changes.wsUrl) body["ws_url"] = *changes.wsUrl;
  if (changes.wssUrl) body["wss_url"] = *changes.wssUrl;
  if (changes.maxConnections) body["max_connections"] = *changes.maxConnections;
  if (changes.addedByOperator) body["added_by_operator"] = *changes.addedByOperator;
  return request("PATCH", "/servers/" + escape(id), &body);
}

ApiResult AdminClient::setServerState(std::string_view id, AdminState state) {
  std::string action;
  switch (state) {
    case AdminState::kEnabled:
      action = "enable";
      break;
    case AdminState::kCordoned:
      action = "cordon";
      break;
    case AdminState::kDisabled:
      action = "disable";
      break;
  }
  return request("POST", "/servers/" + escape(id) + "/" + action, nullptr);
}

ApiResult AdminClient::removeServer(std::string_view id) {
  return request("DELETE", "/servers/" + escape(id), nullptr);
}

ApiResult AdminClient::panicServer(std::string_view id, const PanicOptions& options) {
  nlohmann::json body = {{"failover", options.failover}, {"keep_state", options.keepState}};
  return request("POST", "/servers/" + escape(id) + "/panic", &body);
}

ApiResult AdminClient::listMeetings(std::optional<std::string_view> serverId) {
  std::string path = "/meetings";
  if (serverId) path += "?server=" + escape(*serverId);
  return request("GET", path, nullptr);
}

ApiResult AdminClient::listTenants() { return request("GET", "/tenants", nullptr); }

ApiResult AdminClient::getTenant(std::string_view name, bool secrets) {
  return request("GET", "/tenants/" + escape(name) + (secrets ? "?secrets=true" : ""), nullptr);
}

ApiResult AdminClient::addTenant(const nlohmann::json& tenant) {
  return request("POST", "/tenants", &tenant);
}

ApiResult AdminClient::updateTenant(std::string_view name, const nlohmann::json& changes) {
  return request("PATCH", "/tenants/" + escape(name), &changes);
}

ApiResult AdminClient::removeTenant(std::string_view name, bool force) {
  return request("DELETE", "/tenants/" + escape(name) + (force ? "?force=true" : ""), nullptr);
}

ApiResult AdminClient::rotateTenantSecret(std::string_view name, std::string_view secret,
                                          bool dropOthers) {
  nlohmann::json body = {{"drop_others", dropOthers}};
  if (!secret.empty()) body["secret"] = std::string(secret);
  return request("POST", "/tenants/" + escape(name) + "/secrets", &body);
}

ApiResult AdminClient::tenantUsage(std::string_view name) {
  return request("GET", "/tenants/" + escape(name) + "/usage", nullptr);
}

ApiResult AdminClient::endMeeting(std::string_view meetingId) {
  return request("POST", "/meetings/" + escape(meetingId) + "/end", nullptr);
}

ApiResult AdminClient::moveMeeting(std::string_view meetingId, std::string_view serverId) {
  nlohmann::json body = {{"to", std::string(serverId)}};
  return request("POST", "/meetings/" + escape(meetingId) + "/move", &body);
}

ApiResult AdminClient::status(int survive) {
  return request("GET", "/status?survive=" + std::to_string(survive), nullptr);
}

ApiResult AdminClient::listRecordings(std::string_view meetingId, std::string_view state) {
  std::string query;
  if (!meetingId.empty()) query += "&meetingID=" + escape(meetingId);
  if (!state.empty()) query += "&state=" + escape(state);
  return request("GET", "/recordings" + (query.empty() ? "" : "?" + query.substr(1)), nullptr);
}

ApiResult AdminClient::getRecording(std::string_view recordId) {
  return request("GET", "/recordings/" + escape(recordId), nullptr);
}

ApiResult AdminClient::publishRecording(std::string_view recordId, bool publish) {
  return request("POST", "/recordings/" + escape(recordId) + (publish ? "/publish" : "/unpublish"),
                 nullptr);
}

ApiResult AdminClient::deleteRecording(std::string_view recordId) {
  return request("DELETE", "/recordings/" + escape(recordId), nullptr);
}

ApiResult AdminClient::uploadRecording(const std::string& file, std::string_view name) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
  if (!in) {
    return ApiFailure{ApiFailureKind::kRejected, 0,
                      "cannot read " + file + ": " + std::strerror(errno)};
  }
  std::fseek(in.get(), 0, SEEK_END);
  FileBody body{in.get(), static_cast<int64_t>(std::ftell(in.get()))};
  std::fseek(in.get(), 0, SEEK_SET);
  return request("POST", "/recordings/upload?name=" + escape(name), nullptr, &body);
}

ApiResult AdminClient::failedImports() { return request("GET", "/recordings/failed", nullptr); }

ApiResult AdminClient::pendingCallbacks() {
  return request("GET", "/recordings/callbacks", nullptr);
}

ApiResult AdminClient::reindexRecordings() {
  // Reading a large folder into PostgreSQL takes minutes, not the usual seconds.
  const auto usual = std::exchange(options_.totalTimeout, std::chrono::hours(2));
  ApiResult answer = request("POST", "/recordings/reindex", nullptr);
  options_.totalTimeout = usual;
  return answer;
}

ApiResult AdminClient::retryCallbacks() {
  return request("POST", "/recordings/callbacks/retry", nullptr);
}

ApiResult AdminClient::retryImport(std::string_view name) {
  return request("POST", "/recordings/failed/" + escape(name) + "/retry", nullptr);
}

ApiResult AdminClient::dropFailedImport(std::string_view name) {
  return request("DELETE", "/recordings/failed/" + escape(name), nullptr);
}

}  // namespace sb::admin
