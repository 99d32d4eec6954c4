#include "harness.h"

#include <curl/curl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <pugixml.hpp>
#include <stdexcept>

namespace sbtest {
namespace {

// The secret scan (issue 18): with SB_SECRET_SCAN_DIR set (ctest sets it), every log line of
// this process and every answer the tests receive are kept in files there; the secret_scan test
// (tests/integration/secret_scan.sh) greps them after the whole suite for every secret, token and
// password the tests use.
class SecretScan {
 public:
  static SecretScan& instance() {
    static SecretScan scan;
    return scan;
  }
  // The log sink to add to any logger the tests' routers make (nullptr when not scanning).
  std::shared_ptr<spdlog::sinks::sink> sink() const { return sink_; }
  // Answers from under `prefix` are not the router's (bbb-sim's control API shows its secrets).
  void ignore(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    ignored_.push_back(prefix);
  }
  void recordAnswer(const std::string& url, const HttpResult& r) {
    if (dir_.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& prefix : ignored_) {
      if (url.starts_with(prefix)) return;
    }
    std::ofstream out(dir_ + "/answers-" + std::to_string(::getpid()) + ".txt", std::ios::app);
    // The URL's path only: its query holds the checksum the test computed, not an answer.
    out << "== " << url.substr(0, url.find('?')) << " " << r.status << " " << r.location << "\n"
        << r.body << "\n";
  }

 private:
  SecretScan() {
    const char* dir = std::getenv("SB_SECRET_SCAN_DIR");
    if (!dir || !*dir) return;
    dir_ = dir;
    sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(
        dir_ + "/log-" + std::to_string(::getpid()) + ".txt");
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  std::string dir_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
  std::mutex mutex_;
  std::vector<std::string> ignored_;
};

// Installed before any test runs.
[[maybe_unused]] const bool kSecretScanReady = (SecretScan::instance(), true);

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

}  // namespace

HttpResult httpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& contentType, const std::string& authorization,
                       const std::string& caFile, const std::string& acceptEncoding) {
  HttpResult r;
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (!acceptEncoding.empty()) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, acceptEncoding.c_str());
  if (!caFile.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, caFile.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);  // no body is read after it
  curl_slist* headers = nullptr;
  if (!contentType.empty())
    headers = curl_slist_append(headers, ("Content-Type: " + contentType).c_str());
  if (!authorization.empty())
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (method == "POST" || method == "PATCH" || method == "PUT" || !body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode code = curl_easy_perform(h);
  if (code == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    char* loc = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
    if (loc) r.location = loc;
    char* ct = nullptr;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) r.contentType = ct;
    curl_header* header = nullptr;
    if (curl_easy_header(h, "Content-Encoding", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
      r.contentEncoding = header->value;
    }
    if (curl_easy_header(h, "Vary", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
      r.vary = header->value;
    }
  } else {
    r.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  SecretScan::instance().recordAnswer(url, r);
  return r;
}

HttpResult httpGet(const std::string& url) { return httpRequest("GET", url, "", ""); }

HttpResult httpGetAccepting(const std::string& url, const std::string& acceptEncoding) {
  return httpRequest("GET", url, "", "", "", "", acceptEncoding);
}

HttpResult httpPost(const std::string& url, const std::string& body,
                    const std::string& contentType) {
  return httpRequest("POST", url, body, contentType);
}

std::string xmlField(const std::string& xml, const std::string& name) {
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) return "";
  auto node = doc.select_node(("//" + name).c_str());
  return node ? node.node().child_value() : "";
}

Sim::Sim(int servers, const std::vector<std::string>& extraArgs) {
  std::vector<std::string> args = {"--servers", std::to_string(servers)};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());
  auto started = process_.start(std::string(SB_BIN_DIR) + "/bbb-sim", args);
  if (!started) throw std::runtime_error("bbb-sim did not start: " + started.error().message);
  SecretScan::instance().ignore(process_.controlUrl());
}

nlohmann::json Sim::server(int index) const {
  auto r = httpGet(controlUrl() + "/servers/" + std::to_string(index));
  return nlohmann::json::parse(r.body);
}

int Sim::requests(int index, const std::string& call) const {
  auto s = server(index);
  return s["requests"].value(call, 0);
}

int Sim::meetingCount(int index) const { return server(index)["meetings"].get<int>(); }

void Sim::fault(int index, const nlohmann::json& fault) const {
  httpPost(controlUrl() + "/servers/" + std::to_string(index) + "/fault", fault.dump(),
           "application/json");
}

void Sim::addParticipants(int index, const std::string& meetingId, int count) const {
  httpPost(controlUrl() + "/servers/" + std::to_string(index) + "/participants",
           nlohmann::json{{"meeting_id", meetingId}, {"count", count}}.dump(), "application/json");
}

void Sim::addMeeting(int index, const std::string& meetingId, int participants) const {
  auto r = httpPost(
      controlUrl() + "/servers/" + std::to_string(index) + "/meetings",
      nlohmann::json{{"meeting_id", meetingId}, {"name", meetingId}, {"participants", participants}}
          .dump(),
      "application/json");
  if (r.status != 201) {
    throw std::runtime_error("bbb-sim refused the meeting (" + std::to_string(r.status) +
                             "): " + r.body.substr(0, 300) + r.error);
  }
}

void Sim::reset() const { httpPost(controlUrl() + "/reset", "", "application/json"); }

Router::Router(const std::function<void(sb::Config&)>& tweak) {
  auto config = sb::loadConfig([](const std::string&) { return std::nullopt; });
  sb::Config c = *config;
  c.api.secrets = {kSecret};
  c.admin.token = kToken;
  // bbb-sim listens on loopback: the operator's permission (SERVER_URL_ALLOWED_NETS).
  c.admin.serverUrlAllowedNets = {*sb::parseIpNet("127.0.0.0/8"), *sb::parseIpNet("::1")};
  c.http.bind = "127.0.0.1";
  c.http.port = 0;
  c.http.workerThreads = 8;
  c.bbb.connectTimeout = std::chrono::milliseconds(1000);
  // Generous: CI machines are busy, and fault tests use refused connections, not timeouts.
  c.bbb.responseTimeout = std::chrono::milliseconds(5000);
  c.poller.pollTimeout = std::chrono::milliseconds(5000);
  c.poller.meetingGracePeriod = std::chrono::milliseconds(0);
  // Tests change servers and meetings behind the router's back and expect the next join to see
  // it; the join cache has its own tests (join_cache tests set a TTL).
  c.api.joinCacheTtl = std::chrono::milliseconds(0);
  // Likewise for placements: tests cordon or load a server and expect the next create to see it.
  c.api.placementViewTtl = std::chrono::milliseconds(0);
  // The embedded store keeps recordings in a folder: one of the test's own, never the
  // machine's /var/bigbluebutton.
  std::string root = "/tmp/sb-router-recordings-XXXXXX";
  if (::mkdtemp(root.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  recordingsRoot_ = root;
  c.recordings.root = root;
  if (tweak) tweak(c);
  // A tweak that names Redis and PostgreSQL gets the shared store (migrated beforehand).
  std::unique_ptr<sb::StoreBundle> stores;
  if (c.store.shared()) {
    auto opened = sb::openStores(c);
    if (!opened) throw std::runtime_error(opened.error().message);
    stores = std::move(opened).value();
  }
  service_ =
      std::make_unique<sb::Service>(c, sb::ServiceOptions{.runPoller = false}, std::move(stores));
  if (auto sink = SecretScan::instance().sink()) service_->accessLogger().sinks().push_back(sink);
  auto s = service_->start();
  if (!s) throw std::runtime_error(s.error().message);
}

Router::~Router() {
  service_->stop();
  std::error_code ec;
  std::filesystem::remove_all(recordingsRoot_, ec);
}

std::string Router::base() const {
  return (service_->config().http.tls() ? "https://127.0.0.1:" : "http://127.0.0.1:") +
         std::to_string(service_->port());
}

std::string Router::apiUrl(const std::string& call, const std::string& query,
                           sb::ChecksumAlgorithm algorithm, const std::string& secret) const {
  std::string cs = sb::computeChecksum(algorithm, call, query, secret);
  return base() + "/bigbluebutton/api/" + call + "?" + query + (query.empty() ? "" : "&") +
         "checksum=" + cs;
}

HttpResult Router::call(const std::string& call, const std::string& query,
                        sb::ChecksumAlgorithm algorithm) const {
  return httpGet(apiUrl(call, query, algorithm));
}

HttpResult Router::admin(const std::string& method, const std::string& path,
                         const std::string& json) const {
  return httpRequest(method, base() + "/switchboard/api/v1" + path, json,
                     json.empty() ? "" : "application/json", std::string("Bearer ") + kToken);
}

nlohmann::json Router::meetings(const std::string& serverId) const {
  auto r = admin("GET", "/meetings" + (serverId.empty() ? "" : "?server=" + serverId));
  return nlohmann::json::parse(r.body)["meetings"];
}

std::vector<std::string> Router::addServers(const Sim& sim) {
  std::vector<std::string> ids;
  for (const auto& s : sim.servers()) {
    auto r =
        admin("POST", "/servers",
              nlohmann::json{{"url", s.url}, {"secret", s.secret}, {"state", "enabled"}}.dump());
    if (r.status != 201) throw std::runtime_error("add server failed: " + r.body);
    ids.push_back(nlohmann::json::parse(r.body)["id"].get<std::string>());
  }
  service_->poller().pollOnce();
  return ids;
}

CommandResult runCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace sbtest
