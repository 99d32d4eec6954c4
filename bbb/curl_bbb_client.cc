#include "bbb/curl_bbb_client.h"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>

#include "bbb/bbb_xml.h"

namespace sb {
namespace {

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiFree {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t appendBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  constexpr size_t kMaxBody = 64 * 1024 * 1024;  // a BBB answer larger than this is not sane
  if (out->size() + size * n > kMaxBody) return 0;
  out->append(data, size * n);
  return size * n;
}

const char* kUserAgent = "Switchboard/0.1";

void setCommon(CURL* h, const std::string& url, CallTimeouts t, std::string* body) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.connect.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(t.response.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
}

Error transportError(const std::string& url, const std::string& what) {
  return Error::of(ErrorCode::kInternalError, urlForLog(url) + ": " + what);
}

// A finished transfer: HTTP status check and reply header parse.
Result<BbbReply> finish(CURL* h, CURLcode code, const std::string& url, std::string body) {
  if (code != CURLE_OK) return transportError(url, curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return transportError(url, "HTTP status " + std::to_string(status));
  }
  BbbReply reply;
  reply.httpStatus = status;
  reply.body = std::move(body);
  if (auto s = readReplyHeader(reply); !s) return transportError(url, s.error().message);
  return reply;
}

}  // namespace

std::string urlForLog(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q);
}

CurlBbbClient::CurlBbbClient() { curl_global_init(CURL_GLOBAL_DEFAULT); }
CurlBbbClient::~CurlBbbClient() = default;

Result<BbbReply> CurlBbbClient::call(const BbbCall& call) {
  // One handle per thread: curl keeps its connections alive between calls on the same handle.
  thread_local std::unique_ptr<CURL, EasyFree> handle(curl_easy_init());
  CURL* h = handle.get();
  if (h == nullptr) return transportError(call.url, "curl_easy_init failed");
  curl_easy_reset(h);
  std::string body;
  setCommon(h, call.url, call.timeouts, &body);
  std::unique_ptr<curl_slist, SlistFree> headers;
  if (!call.body.empty()) {
    std::string ct = "Content-Type: " +
                     (call.contentType.empty() ? std::string("application/xml") : call.contentType);
    headers.reset(curl_slist_append(nullptr, ct.c_str()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
  }
  CURLcode code = curl_easy_perform(h);
  return finish(h, code, call.url, std::move(body));
}

void CurlBbbClient::pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts timeouts,
                                     const PollAnswer& onAnswer) {
  struct Transfer {
    std::unique_ptr<CURL, EasyFree> easy;
    std::string body;
    std::chrono::steady_clock::time_point start;
    bool answered = false;
  };
  std::vector<Transfer> transfers(urls.size());
  std::unique_ptr<CURLM, MultiFree> multi(curl_multi_init());
  curl_multi_setopt(multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < urls.size(); ++i) {
    Transfer& t = transfers[i];
    t.easy.reset(curl_easy_init());
    t.start = start;
    setCommon(t.easy.get(), urls[i], timeouts, &t.body);
    curl_easy_setopt(t.easy.get(), CURLOPT_PRIVATE, &t);
    curl_multi_add_handle(multi.get(), t.easy.get());
  }
  int running = 0;
  do {
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      size_t index = static_cast<size_t>(t - transfers.data());
      auto reply = finish(msg->easy_handle, msg->data.result, urls[index], std::move(t->body));
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t->start);
      curl_multi_remove_handle(multi.get(), msg->easy_handle);
      t->answered = true;
      if (!reply) {
        onAnswer(index, Result<ServerPoll>(reply.error()));
        continue;
      }
      int unreadable = 0;
      auto meetings = parseGetMeetings(reply->body, &unreadable);
      reply->body = std::string();  // the raw answer is parsed: free it before the callback
      if (!meetings) {
        onAnswer(index, Result<ServerPoll>(transportError(urls[index], meetings.error().message)));
      } else {
        onAnswer(index, Result<ServerPoll>(ServerPoll{
                            std::move(*meetings), static_cast<int>(elapsed.count()), unreadable}));
      }
    }
    if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  } while (running > 0);
  for (size_t i = 0; i < transfers.size(); ++i) {
    if (!transfers[i].answered)
      onAnswer(i, Result<ServerPoll>(transportError(urls[i], "no answer")));
  }
}

Result<std::string> CurlBbbClient::fetchVersion(const std::string& apiRootUrl,
                                                CallTimeouts timeouts) {
  auto reply = call(BbbCall{apiRootUrl, "", "", timeouts});
  if (!reply) return reply.error();
  return parseBbbVersion(reply->body);
}

}  // namespace sb
