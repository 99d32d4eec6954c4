#include "importer/callback_relay.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/recordings/recording_ready.h"
#include "importer/file_io.h"

namespace sb {
namespace fs = std::filesystem;
namespace {

constexpr long kTimeoutMs = 10'000;
constexpr long kConnectTimeoutMs = 5'000;

nlohmann::json toJson(const PendingCallback& c) {
  return {
      {"record_id", c.recordId}, {"meeting_id", c.meetingId},          {"url", c.url},
      {"attempts", c.attempts},  {"next_attempt_ms", c.nextAttemptMs}, {"last_error", c.lastError}};
}

std::optional<PendingCallback> readCallback(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PendingCallback c;
  c.recordId = j.value("record_id", "");
  c.meetingId = j.value("meeting_id", "");
  c.url = j.value("url", "");
  c.attempts = j.value("attempts", 0);
  c.nextAttemptMs = j.value("next_attempt_ms", int64_t{0});
  c.lastError = j.value("last_error", "");
  if (c.recordId.empty() || c.url.empty()) return std::nullopt;
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

CallbackRelay::CallbackRelay(const RecordingsConfig& config, std::string secret, Metrics* metrics)
    : config_(config), secret_(std::move(secret)), metrics_(metrics) {}

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
  writeCallback(folder() + "/" + r.recordId + ".json", c);
  std::lock_guard lock(mutex_);
  woken_ = true;
  wake_.notify_all();
}

bool CallbackRelay::deliver(const std::string& file, PendingCallback& c) {
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
    c.lastError = "not an http(s) URL";
    return false;
  }
  const std::string body =
      "signed_parameters=" + recordingReadyJwt(c.meetingId, c.recordId, secret_);
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return false;
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
  curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "Switchboard recording-ready");
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
    spdlog::info("recording-ready callback of {} (meeting {}) to {}: HTTP {}", c.recordId,
                 c.meetingId, withoutQuery(c.url), status);
    return true;
  }
  c.lastError = "HTTP " + std::to_string(status);
  return false;
}

int CallbackRelay::deliverDue() {
  if (secret_.empty()) return 0;
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
          writeCallback(folder() + "/failed/" + c->recordId + ".json", *c);
          ::unlink(file.c_str());
          spdlog::error("recording-ready callback of {} to {} given up after {} attempts: {}",
                        c->recordId, withoutQuery(c->url), c->attempts, c->lastError);
          if (metrics_) metrics_->countCallback("given_up");
        } else {
          writeCallback(file, *c);
          spdlog::warn("recording-ready callback of {} to {} failed (attempt {}): {}", c->recordId,
                       withoutQuery(c->url), c->attempts, c->lastError);
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

void CallbackRelay::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  if (secret_.empty()) {
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
