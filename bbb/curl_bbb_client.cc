#include "bbb/curl_bbb_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <optional>

#include "bbb/bbb_xml.h"
#include "core/xml_text.h"

namespace sb {

// The bytes of answers in flight, shared by every call of one client (BBB_ANSWERS_MAX_BYTES).
class AnswerBudget {
 public:
  explicit AnswerBudget(size_t limit) : limit_(limit) {}
  // Counts `n` more bytes; false (and nothing counted) when that would pass the limit. The count
  // never passes the limit, even for a moment: a take that fails cannot make another fail.
  bool take(size_t n) {
    size_t now = used_.load();
    do {
      if (limit_ != 0 && now + n > limit_) return false;
    } while (!used_.compare_exchange_weak(now, now + n));
    return true;
  }
  void give(size_t n) { used_.fetch_sub(n); }
  size_t used() const { return used_.load(); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;  // 0: no bound (still counted, for answerBytesInFlight)
  std::atomic<size_t> used_{0};
};

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

// One answer being read: its body, within the per-answer bound and the shared budget. What it
// counted is given back when it goes, unless a reply's hold took it over.
class Sink {
 public:
  enum class Stop { kNone, kTooLarge, kOverBudget, kNoMemory };

  Sink(std::shared_ptr<AnswerBudget> budget, size_t maxBytes)
      : budget_(std::move(budget)), maxBytes_(maxBytes) {}
  ~Sink() { budget_->give(counted_); }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // The transfer whose answer this sink keeps (for its announced length).
  void attach(CURL* easy) { easy_ = easy; }

  // curl's write callback: returning less than given aborts the transfer (CURLE_WRITE_ERROR).
  static size_t append(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t length = size * n;
    if (sink->body.size() + length > sink->maxBytes_) {
      sink->stop = Stop::kTooLarge;
      return 0;
    }
    if (!sink->count(length)) {
      sink->stop = Stop::kOverBudget;
      return 0;
    }
    try {
      sink->body.append(data, length);
    } catch (const std::bad_alloc&) {  // no exception may cross curl's C frames
      sink->stop = Stop::kNoMemory;
      return 0;
    }
    return length;
  }

  // A hold that keeps what this sink counted counted until its last copy goes.
  std::shared_ptr<const void> hold() {
    // Built in place: a copy would give the bytes back twice.
    class Hold {
     public:
      Hold(std::shared_ptr<AnswerBudget> budget, size_t bytes)
          : budget_(std::move(budget)), bytes_(bytes) {}
      ~Hold() { budget_->give(bytes_); }
      Hold(const Hold&) = delete;
      Hold& operator=(const Hold&) = delete;

     private:
      std::shared_ptr<AnswerBudget> budget_;
      size_t bytes_;
    };
    budget_->give(reserved_);  // an answer shorter than announced
    counted_ -= reserved_;
    reserved_ = 0;
    auto h = std::make_shared<const Hold>(budget_, counted_);
    counted_ = 0;
    return h;
  }

  std::string body;
  Stop stop = Stop::kNone;

 private:
  // Counts `length` more bytes of the answer against the budget. At the first bytes, the whole
  // announced Content-Length is taken at once, so that of concurrent answers each is admitted
  // whole or refused before it is read, rather than all of them failing half-read (a gzip answer
  // may still grow past its announced, compressed length: the rest is counted as it comes).
  bool count(size_t length) {
    if (!sized_) {
      sized_ = true;
      curl_off_t announced = -1;
      if (easy_ &&
          curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
          announced > 0) {
        const size_t whole = std::min(static_cast<size_t>(announced), maxBytes_);
        if (!budget_->take(whole)) return false;
        counted_ += whole;
        reserved_ = whole;
      }
    }
    const size_t covered = std::min(length, reserved_);
    reserved_ -= covered;
    if (length > covered && !budget_->take(length - covered)) return false;
    counted_ += length - covered;
    return true;
  }

  std::shared_ptr<AnswerBudget> budget_;
  const size_t maxBytes_;
  CURL* easy_ = nullptr;
  bool sized_ = false;
  size_t counted_ = 0;   // taken from the budget, given back by the destructor or the hold
  size_t reserved_ = 0;  // of counted_, announced bytes not arrived yet
};

const char* kUserAgent = "Switchboard/0.1";

void setCommon(CURL* h, const std::string& url, CallTimeouts t, Sink* sink, size_t maxBytes) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.connect.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(t.response.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Sink::append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
  sink->attach(h);
  // An announced Content-Length past the bound fails before any byte is read.
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(maxBytes));
  curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
}

Error transportError(const std::string& url, const std::string& what) {
  return Error::of(ErrorCode::kInternalError, urlForLog(url) + ": " + what);
}

// Warns at most once a second per kind: a server answering huge answers to every call (or many
// calls at once) must not flood the log.
void warnSometimes(std::atomic<int64_t>& last, const std::string& message) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t before = last.load();
  if (before != now && last.compare_exchange_strong(before, now)) spdlog::warn("{}", message);
}

std::atomic<int64_t> lastTooLarge{0}, lastOverBudget{0}, lastUnreadable{0};

// A finished transfer: bounds, HTTP status, safe text and (when `readHeader`) the reply header.
Result<BbbReply> finish(CURL* h, CURLcode code, const std::string& url, Sink& sink,
                        const AnswerBudget& budget, size_t maxBytes, bool readHeader) {
  if (sink.stop == Sink::Stop::kTooLarge || code == CURLE_FILESIZE_EXCEEDED) {
    std::string what = "answer larger than BBB_ANSWER_MAX_BYTES (" + std::to_string(maxBytes) +
                       " bytes): not read";
    warnSometimes(lastTooLarge, urlForLog(url) + ": " + what);
    return transportError(url, what);
  }
  if (sink.stop == Sink::Stop::kOverBudget) {
    std::string what = "answers in flight would pass BBB_ANSWERS_MAX_BYTES (" +
                       std::to_string(budget.limit()) + " bytes): not read";
    warnSometimes(lastOverBudget, urlForLog(url) + ": " + what);
    return transportError(url, what);
  }
  if (sink.stop == Sink::Stop::kNoMemory) return transportError(url, "out of memory");
  if (code != CURLE_OK) return transportError(url, curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return transportError(url, "HTTP status " + std::to_string(status));
  }
  BbbReply reply;
  reply.httpStatus = status;
  reply.body = std::move(sink.body);
  // What is passed on to frontends must parse there: bytes that are not UTF-8 and characters
  // XML forbids (a meeting name with a control character) become U+FFFD.
  makeXmlDocumentSafe(reply.body);
  // Parsing refuses an answer nested deeper than kMaxXmlDepth (bbb/bbb_xml.h) before pugixml
  // builds it; polls leave the header to parseGetMeetings (one parse, not two).
  if (readHeader) {
    if (auto s = readReplyHeader(reply); !s) {
      // Callers answer their client with their own message: the reason is only here.
      warnSometimes(lastUnreadable, urlForLog(url) + ": " + s.error().message);
      return transportError(url, s.error().message);
    }
  }
  reply.memoryHold = sink.hold();
  return reply;
}

}  // namespace

std::string urlForLog(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q);
}

CurlBbbClient::CurlBbbClient(const BbbClientConfig& config)
    : answerMaxBytes_(config.answerMaxBytes),
      budget_(std::make_shared<AnswerBudget>(config.answersMaxBytes)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}
CurlBbbClient::~CurlBbbClient() = default;

size_t CurlBbbClient::answerBytesInFlight() const { return budget_->used(); }

Result<BbbReply> CurlBbbClient::call(const BbbCall& call) {
  // One handle per thread: curl keeps its connections alive between calls on the same handle.
  thread_local std::unique_ptr<CURL, EasyFree> handle(curl_easy_init());
  CURL* h = handle.get();
  if (h == nullptr) return transportError(call.url, "curl_easy_init failed");
  curl_easy_reset(h);
  Sink sink(budget_, answerMaxBytes_);
  setCommon(h, call.url, call.timeouts, &sink, answerMaxBytes_);
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
  return finish(h, code, call.url, sink, *budget_, answerMaxBytes_, true);
}

void CurlBbbClient::pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts timeouts,
                                     const PollAnswer& onAnswer) {
  struct Transfer {
    std::unique_ptr<CURL, EasyFree> easy;
    std::unique_ptr<Sink> sink;
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
    t.sink = std::make_unique<Sink>(budget_, answerMaxBytes_);
    t.start = start;
    setCommon(t.easy.get(), urls[i], timeouts, t.sink.get(), answerMaxBytes_);
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
      // parseGetMeetings reads the returncode itself: no second parse for the header.
      auto reply = finish(msg->easy_handle, msg->data.result, urls[index], *t->sink, *budget_,
                          answerMaxBytes_, false);
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t->start);
      curl_multi_remove_handle(multi.get(), msg->easy_handle);
      t->sink.reset();
      t->answered = true;
      if (!reply) {
        onAnswer(index, Result<ServerPoll>(reply.error()));
        continue;
      }
      int unreadable = 0;
      auto meetings = parseGetMeetings(reply->body, &unreadable);
      // The raw answer is parsed: free it (and its share of the budget) before the callback.
      reply->body = std::string();
      reply->memoryHold.reset();
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
