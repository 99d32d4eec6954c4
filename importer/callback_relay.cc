#include "importer/callback_relay.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/recordings/recording_ready.h"
#include "importer/file_io.h"

namespace sb {
namespace fs = std::filesystem;
namespace {

constexpr long kTimeoutMs = 10'000;
constexpr long kConnectTimeoutMs = 5'000;

nlohmann::json toJson(const PendingCallback& c) {
  nlohmann::json j = {{"kind", c.kind},
                      {"record_id", c.recordId},
                      {"meeting_id", c.meetingId},
                      {"url", c.url},
                      {"secret_id", c.secretId},
                      {"attempts", c.attempts},
                      {"next_attempt_ms", c.nextAttemptMs},
                      {"last_error", c.lastError}};
  if (!c.body.empty()) j["body"] = c.body;
  return j;
}

std::optional<PendingCallback> readCallback(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PendingCallback c;
  try {
    c.kind = j.value("kind", "recording-ready");
    c.recordId = j.value("record_id", "");
    c.meetingId = j.value("meeting_id", "");
    c.url = j.value("url", "");
    c.secretId = j.value("secret_id", "");
    c.body = j.value("body", "");
    c.attempts = j.value("attempts", 0);
    c.nextAttemptMs = j.value("next_attempt_ms", int64_t{0});
    c.lastError = j.value("last_error", "");
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of another type: not one of ours
  }
  if (c.url.empty() || (c.kind == "recording-ready" && c.recordId.empty())) return std::nullopt;
  return c;
}

void writeCallback(const std::string& path, const PendingCallback& c) {
  if (auto s = replaceFile(path, toJson(c).dump(2) + "\n"); !s) {
    spdlog::error("recording-ready callback of {}: {}", c.recordId, s.error().message);
  }
}

// The URL with its query left out: what logs may show (a callback URL may carry a token).
std::string withoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

CallbackRelay::CallbackRelay(const RecordingsConfig& config, std::vector<std::string> secrets,
                             Metrics* metrics)
    : config_(config), secrets_(std::move(secrets)), metrics_(metrics) {}

CallbackRelay::~CallbackRelay() { stop(); }

void CallbackRelay::recordingImported(const Recording& r) {
  auto url = r.meta(kSwitchboardRecordingReadyMeta);
  if (!url || url->empty()) return;
  std::error_code ec;
  fs::create_directories(folder(), ec);
  PendingCallback c;
  c.recordId = r.recordId;
  c.meetingId = r.meetingId;
  c.url = std::string(*url);
  c.secretId = std::string(r.meta(kSecretIdMeta).value_or(""));
  writeCallback(folder() + "/" + r.recordId + ".json", c);
  wake();
}

bool CallbackRelay::queueAnalytics(const std::string& url, const std::string& secretId,
                                   const std::string& body) {
  if (!running()) return false;
  std::error_code ec;
  fs::create_directories(folder(), ec);
  PendingCallback c;
  c.kind = "analytics";
  c.url = url;
  c.secretId = secretId;
  c.body = body;
  try {
    auto posted = nlohmann::json::parse(body);
    if (posted.is_object()) c.meetingId = posted.value("meeting_id", "");
  } catch (const nlohmann::json::exception&) {
    // passed on as it came
  }
  static std::atomic<uint64_t> sequence{0};
  const std::string name = "analytics-" + std::to_string(unixNowMs()) + "-" +
                           std::to_string(::getpid()) + "-" +
                           std::to_string(sequence.fetch_add(1)) + ".json";
  if (auto s = replaceFile(folder() + "/" + name, toJson(c).dump(2) + "\n"); !s) {
    spdlog::error("analytics callback to {} cannot be kept: {}", withoutQuery(url),
                  s.error().message);
    return false;
  }
  wake();
  return true;
}

bool CallbackRelay::running() const {
  std::lock_guard lock(mutex_);
  return thread_.joinable();
}

void CallbackRelay::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  wake_.notify_all();
}

const std::string& CallbackRelay::secretFor(const PendingCallback& c) const {
  if (const std::string* s = secretWithId(secrets_, c.secretId)) return *s;
  if (!c.secretId.empty()) {
    spdlog::warn(
        "callback of meeting {}: the secret that signed its create is not configured "
        "any more; signed with the first LOADBALANCER_SECRET",
        c.meetingId);
  }
  return secrets_.front();
}

bool CallbackRelay::deliver(const std::string& file, PendingCallback& c) {
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
    c.lastError = "not an http(s) URL";
    return false;
  }
  const bool analytics = c.kind == "analytics";
  const std::string& secret = secretFor(c);
  const std::string body =
      analytics ? c.body
                : "signed_parameters=" + recordingReadyJwt(c.meetingId, c.recordId, secret);
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return false;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  if (analytics) {
    const std::string authorization =
        "Authorization: " + analyticsAuthorization(secret, unixNowMs());
    curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
    if (list) list = curl_slist_append(list, authorization.c_str());
    headers.reset(list);
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
  }
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(easy.get(), CURLOPT_URL, c.url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, kTimeoutMs);
  curl_easy_setopt(easy.get(), CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(easy.get(), CURLOPT_USERAGENT,
                   analytics ? "BigBlueButton Analytics Callback" : "Switchboard recording-ready");
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(easy.get());
  long status = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
  (void)file;
  if (code != CURLE_OK) {
    c.lastError = error[0] ? error : curl_easy_strerror(code);
    return false;
  }
  if ((status >= 200 && status < 300) || status == 404 || status == 410) {
    spdlog::info("{} callback of {} (meeting {}) to {}: HTTP {}", c.kind, c.recordId, c.meetingId,
                 withoutQuery(c.url), status);
    return true;
  }
  c.lastError = "HTTP " + std::to_string(status);
  return false;
}

int CallbackRelay::deliverDue() {
  if (secrets_.empty()) return 0;
  int delivered = 0;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder(), ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".json") {
      files.push_back(entry.path().string());
    }
  }
  for (const auto& file : files) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    // Claimed for the attempt: another relay on the same folder skips it meanwhile.
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    auto c = readCallback(file);
    if (c && c->nextAttemptMs <= unixNowMs() && fs::exists(file, ec)) {
      if (deliver(file, *c)) {
        ::unlink(file.c_str());
        ++delivered;
        if (metrics_) metrics_->countCallback("delivered");
      } else {
        c->attempts += 1;
        c->nextAttemptMs =
            unixNowMs() +
            retryWait(config_.importPollInterval, c->attempts, config_.importRetryMax).count();
        if (c->attempts >= kMaxAttempts) {
          fs::create_directories(folder() + "/failed", ec);
          writeCallback(folder() + "/failed/" + fs::path(file).filename().string(), *c);
          ::unlink(file.c_str());
          spdlog::error("{} callback of meeting {} to {} given up after {} attempts: {}", c->kind,
                        c->meetingId, withoutQuery(c->url), c->attempts, c->lastError);
          if (metrics_) metrics_->countCallback("given_up");
        } else {
          writeCallback(file, *c);
          spdlog::warn("{} callback of meeting {} to {} failed (attempt {}): {}", c->kind,
                       c->meetingId, withoutQuery(c->url), c->attempts, c->lastError);
          if (metrics_) metrics_->countCallback("failed");
        }
      }
    }
    ::close(fd);
  }
  return delivered;
}

std::vector<PendingCallback> CallbackRelay::pending() const {
  std::vector<PendingCallback> out;
  for (const auto& [dir, failed] : {std::pair{folder(), false}, {folder() + "/failed", true}}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (!entry.is_regular_file(ec) || entry.path().extension() != ".json") continue;
      if (auto c = readCallback(entry.path().string())) {
        c->failed = failed;
        out.push_back(std::move(*c));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const PendingCallback& a, const PendingCallback& b) {
    return a.recordId < b.recordId;
  });
  return out;
}

int CallbackRelay::retryAll() {
  int retried = 0;
  for (const auto& [dir, failed] : {std::pair{folder(), false}, {folder() + "/failed", true}}) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec) && entry.path().extension() == ".json") {
        files.push_back(entry.path());
      }
    }
    for (const auto& file : files) {
      auto c = readCallback(file.string());
      if (!c) continue;
      c->nextAttemptMs = 0;
      if (failed) c->attempts = 0;
      writeCallback(folder() + "/" + file.filename().string(), *c);
      if (failed) fs::remove(file, ec);
      ++retried;
    }
  }
  if (retried > 0) wake();
  return retried;
}

void CallbackRelay::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  if (secrets_.empty()) {
    spdlog::warn("recording-ready callbacks wait: LOADBALANCER_SECRET is not set here");
  }
  stopping_ = false;
  thread_ = std::thread([this] {
    for (;;) {
      try {
        deliverDue();
      } catch (const std::exception& e) {
        spdlog::error("recording-ready callbacks: {}", e.what());
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
  });
}

void CallbackRelay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace sb
