#include "importer/callback_relay.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/checksum.h"
#include "core/recordings/recording_ready.h"
#include "core/tenants/tenant.h"
#include "importer/file_io.h"

namespace sb {
namespace {

constexpr long kTimeoutMs = 10'000;
constexpr long kConnectTimeoutMs = 5'000;
// How long a relay holds a callback it tries: past one attempt's longest time, so a relay that
// died mid-attempt lets another take it after this.
constexpr int64_t kHoldMs = 60'000;

// The URL with its query left out: what logs may show (a callback URL may carry a token).
std::string withoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

// The secret to sign `c` with: the one that signed its create, else the first.
const std::string& secretFor(const PendingCallback& c, const std::vector<std::string>& secrets) {
  if (const std::string* s = secretWithId(secrets, c.secretId)) return *s;
  if (!c.secretId.empty()) {
    spdlog::warn(
        "callback of meeting {}: the secret that signed its create is not configured "
        "any more; signed with the first LOADBALANCER_SECRET",
        c.meetingId);
  }
  return secrets.front();
}

// One attempt at `c`: true when it is settled (delivered or refused); else c.lastError says why.
bool deliver(PendingCallback& c, const std::vector<std::string>& secrets) {
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
    c.lastError = "not an http(s) URL";
    return false;
  }
  const bool analytics = c.kind == "analytics";
  const std::string& secret = secretFor(c, secrets);
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

}  // namespace

CallbackRelay::CallbackRelay(CallbackQueue& queue, const RecordingsConfig& config,
                             std::vector<std::string> secrets, Metrics* metrics)
    : queue_(queue), config_(config), secrets_(std::move(secrets)), metrics_(metrics) {}

CallbackRelay::~CallbackRelay() { stop(); }

void CallbackRelay::recordingImported(const Recording& r) {
  auto url = r.meta(kSwitchboardRecordingReadyMeta);
  if (!url || url->empty()) return;
  PendingCallback c;
  c.id = readyCallbackId(r.recordId);
  c.recordId = r.recordId;
  // The frontend's own meeting ID: a tenant's is scoped towards BBB (core/tenants/tenant.h).
  c.meetingId = std::string(unscopedMeetingId(r.tenant, r.meetingId).value_or(r.meetingId));
  c.tenant = r.tenant;
  c.url = std::string(*url);
  c.secretId = std::string(r.meta(kSecretIdMeta).value_or(""));
  if (auto s = queue_.add(c); !s) {
    spdlog::error("recording-ready callback of {} cannot be kept: {}", r.recordId,
                  s.error().message);
    return;
  }
  wake();
}

void CallbackRelay::signTenantsWith(TenantSecrets secretsOf) {
  tenantSecrets_ = std::move(secretsOf);
}

bool CallbackRelay::queueAnalytics(const std::string& url, const std::string& secretId,
                                   const std::string& body, const std::string& tenant) {
  if (!running()) return false;
  PendingCallback c;
  // Unique across the pool's processes (in containers they all may be pid 1): a random part.
  thread_local std::mt19937_64 random{std::random_device{}()};
  c.id = fmt::format("analytics-{}-{:016x}", unixNowMs(), random());
  c.kind = "analytics";
  c.url = url;
  c.secretId = secretId;
  c.tenant = tenant;
  c.body = body;
  try {
    auto posted = nlohmann::json::parse(body);
    if (posted.is_object()) c.meetingId = posted.value("meeting_id", "");
  } catch (const nlohmann::json::exception&) {
    // passed on as it came
  }
  if (auto s = queue_.add(c); !s) {
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

bool CallbackRelay::deliverOnce(PendingCallback& c, const std::vector<std::string>& secrets) {
  return !secrets.empty() && deliver(c, secrets);
}

void CallbackRelay::afterAttempt(PendingCallback& c, bool delivered) {
  Status kept = Status::Ok();
  if (delivered) {
    kept = queue_.settle(c);
    if (metrics_) metrics_->countCallback("delivered");
  } else {
    c.attempts += 1;
    c.nextAttemptMs =
        unixNowMs() +
        retryWait(config_.importPollInterval, c.attempts, config_.importRetryMax).count();
    c.failed = c.attempts >= kMaxAttempts;
    kept = queue_.reschedule(c);
    if (c.failed) {
      spdlog::error("{} callback of meeting {} to {} given up after {} attempts: {}", c.kind,
                    c.meetingId, withoutQuery(c.url), c.attempts, c.lastError);
      if (metrics_) metrics_->countCallback("given_up");
    } else {
      spdlog::warn("{} callback of meeting {} to {} failed (attempt {}): {}", c.kind, c.meetingId,
                   withoutQuery(c.url), c.attempts, c.lastError);
      if (metrics_) metrics_->countCallback("failed");
    }
  }
  if (!kept) {
    spdlog::error("{} callback {} of meeting {}: its queue failed after the attempt: {}", c.kind,
                  c.id, c.meetingId, kept.error().message);
  }
}

int CallbackRelay::deliverDue() {
  if (secrets_.empty()) return 0;
  int delivered = 0;
  std::set<std::string> tried;  // this round's: a callback whose outcome was not kept comes once
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const int64_t now = unixNowMs();
    auto claimed = queue_.claimDue(now, now + kHoldMs);
    if (!claimed) {
      // Once per outage, not once a second.
      if (!queueFailing_.exchange(true)) {
        spdlog::warn("callbacks wait: their queue does not answer: {}", claimed.error().message);
      }
      break;
    }
    if (queueFailing_.exchange(false)) spdlog::info("callbacks: their queue answers again");
    if (!*claimed) break;
    PendingCallback& c = **claimed;
    if (!tried.insert(c.id).second) {
      (void)queue_.reschedule(c);  // lets go, unchanged, until the next round
      break;
    }
    bool settled = false;
    if (c.tenant.empty()) {
      settled = deliver(c, secrets_);
    } else if (auto secrets =
                   tenantSecrets_ ? tenantSecrets_(c.tenant) : std::vector<std::string>();
               !secrets.empty()) {
      settled = deliver(c, secrets);
    } else {
      c.lastError = "tenant " + c.tenant + " has no secrets here (removed, or multitenancy off)";
    }
    afterAttempt(c, settled);
    delivered += settled;
  }
  return delivered;
}

Result<std::vector<PendingCallback>> CallbackRelay::pending() const { return queue_.list(); }

Result<int> CallbackRelay::retryAll() {
  auto retried = queue_.retryAll();
  if (retried && *retried > 0) wake();
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
