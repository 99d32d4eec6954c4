#include "router/request_reader.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace sb {
namespace {

// RFC 9110 §5.6.2 token characters.
bool isTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return isTokenChar(c); });
}

bool equalsLower(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() &&
         std::equal(s.begin(), s.end(), lower.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a | 0x20) : a) == b;
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Field values may hold visible characters, spaces, tabs and obs-text (RFC 9110 §5.5); any
// other control character is refused.
bool isFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

// Request-target bytes: anything visible (bytes >= 0x80 are passed on for the handlers to refuse).
bool isTargetText(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f;
  });
}

// Longer than any method a request may start with: more bytes without a space are not HTTP.
constexpr size_t kLongestMethod = 16;

constexpr std::array<std::string_view, 7> kMethods = {"GET",    "HEAD",    "POST", "PUT",
                                                      "DELETE", "OPTIONS", "PATCH"};

// "http://host:port/path?q" → "/path?q"; "" when `target` is neither origin nor absolute form.
std::string originForm(std::string_view target) {
  if (target.starts_with('/')) return std::string(target);
  if (target == "*") return std::string(target);  // OPTIONS * (only): no such resource here
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view name = target.substr(0, scheme);
  if (!equalsLower(name, "http") && !equalsLower(name, "https")) return {};
  std::string_view rest = target.substr(scheme + 3);
  size_t start = rest.find_first_of("/?");
  if (start == std::string_view::npos) return "/";
  if (rest[start] == '?') return "/" + std::string(rest.substr(start));
  return std::string(rest.substr(start));
}

// Splits "a, b ,c" and calls f for each trimmed, non-empty element.
template <typename F>
void forEachListElement(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view element = trim(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

void appendListValue(std::string& to, std::string_view value) {
  if (!to.empty()) to += ", ";
  to += value;
}

}  // namespace

RequestReader::RequestReader(RequestLimits limits, BodyLimit bodyLimit)
    : limits_(limits), bodyLimit_(std::move(bodyLimit)) {}

RequestReader::~RequestReader() { dropBodyFile(); }

bool RequestReader::openBodyFile(const std::string& folder) {
  std::string path = folder + "/upload-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return false;
  bodyFd_ = fd;
  bodyWritten_ = 0;
  current_.bodyFile = std::move(path);
  return true;
}

bool RequestReader::writeBodyFile(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(bodyFd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
    bodyWritten_ += static_cast<size_t>(n);
  }
  return true;
}

// Forgets the body file of a request not handed over (refused, or the connection closed).
void RequestReader::dropBodyFile() {
  if (bodyFd_ >= 0) ::close(bodyFd_);
  bodyFd_ = -1;
  if (!current_.bodyFile.empty()) ::unlink(current_.bodyFile.c_str());
  current_.bodyFile.clear();
}

void RequestReader::feed(std::string_view bytes) {
  if (state_ == State::kRefused) return;
  buffer_.append(bytes);
}

RequestReader::Step RequestReader::refuse(int status, std::string text) {
  dropBodyFile();
  continueDue_ = false;
  state_ = State::kRefused;
  refusal_ = RequestRefusal{status, std::move(text)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  return Step::kRefused;
}

RequestReader::Step RequestReader::next() {
  switch (state_) {
    case State::kRefused:
      return Step::kRefused;
    case State::kReady:
      return Step::kRequest;
    case State::kBody: {
      const size_t have = bodyFd_ >= 0 ? bodyWritten_ : current_.body.size();
      size_t missing = current_.contentLength - have;
      size_t n = std::min(missing, buffer_.size());
      if (bodyFd_ < 0) {
        current_.body.append(buffer_, 0, n);
      } else if (!writeBodyFile(std::string_view(buffer_).substr(0, n))) {
        return refuse(errno == ENOSPC || errno == EDQUOT ? 507 : 500,
                      errno == ENOSPC || errno == EDQUOT ? "Insufficient storage\n"
                                                         : "Could not store the body\n");
      }
      buffer_.erase(0, n);
      if (n < missing) return Step::kNeedMore;
      if (bodyFd_ >= 0) {
        int closed = ::close(std::exchange(bodyFd_, -1));
        if (closed != 0) return refuse(507, "Insufficient storage\n");
      }
      state_ = State::kReady;
      return Step::kRequest;
    }
    case State::kHead:
      break;
  }
  // RFC 9112 §2.2: empty lines before a request line are ignored.
  if (scanned_ == 0) {
    size_t skip = buffer_.find_first_not_of("\r\n");
    buffer_.erase(0, skip == std::string::npos ? buffer_.size() : skip);
  }
  // The head ends at an empty line ("\r\n\r\n", or bare "\n\n" from lenient clients). Only the
  // bytes not searched yet are searched: a head arriving one byte per read costs the same.
  size_t end = std::string::npos;
  size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
  for (size_t i = buffer_.find('\n', from); i != std::string::npos; i = buffer_.find('\n', i + 1)) {
    if ((i >= 1 && buffer_[i - 1] == '\n') ||
        (i >= 2 && buffer_[i - 1] == '\r' && buffer_[i - 2] == '\n')) {
      end = i + 1;
      break;
    }
  }
  if (end == std::string::npos) scanned_ = buffer_.size();
  // What cannot begin a request (a TLS handshake on the plain port, binary noise) is refused as
  // soon as it is seen, not when a head that will never end has filled the limit; the same
  // checks, in the same order, whether the head came in one read or byte by byte.
  size_t methodEnd = std::min(buffer_.find(' '), buffer_.size());
  if (methodEnd > kLongestMethod ||
      !std::all_of(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(methodEnd),
                   [](char c) { return isTokenChar(static_cast<unsigned char>(c)); })) {
    return refuse(400, "Bad request\n");
  }
  if (std::min(end, buffer_.size()) > limits_.maxHeadBytes) {
    // 414 when the request line alone passes the limit, 431 when the headers do.
    if (buffer_.find('\n') > limits_.maxHeadBytes) return refuse(414, "URI too long\n");
    return refuse(431, "Request header fields too large\n");
  }
  if (end == std::string::npos) return Step::kNeedMore;
  current_ = RequestHead{};
  Step step = parseHead(std::string_view(buffer_).substr(0, end));
  buffer_.erase(0, end);
  scanned_ = 0;
  if (step != Step::kRequest) return step;
  if (current_.contentLength == 0) {
    state_ = State::kReady;
    return Step::kRequest;
  }
  BodyPlan plan = bodyLimit_(current_);
  if (plan.refusal) return refuse(plan.refusal->status, plan.refusal->text);
  if (current_.contentLength > plan.limit) {
    return refuse(413, "Request body too large\n");
  }
  if (!plan.fileFolder.empty() && !openBodyFile(plan.fileFolder)) {
    return refuse(503, "Cannot store the body now\n");
  }
  state_ = State::kBody;
  // An HTTP/1.0 client never waits for it (RFC 9110 §10.1.1).
  continueDue_ = current_.expectsContinue && !current_.http10 && buffer_.empty();
  return next();
}

RequestHead RequestReader::take() {
  bodyFd_ = -1;  // the file, complete and closed, now belongs to the request's taker
  state_ = State::kHead;
  continueDue_ = false;
  return std::exchange(current_, RequestHead{});
}

RequestReader::Step RequestReader::parseHead(std::string_view head) {
  auto nextLine = [&head]() {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
  };

  // Request line: method SP request-target SP HTTP-version (RFC 9112 §3), single spaces.
  std::string_view line = nextLine();
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return refuse(400, "Bad request\n");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || method.size() > kLongestMethod || target.empty() ||
      !isTargetText(target)) {
    return refuse(400, "Bad request\n");
  }
  if (version == "HTTP/1.1") {
    current_.http10 = false;
  } else if (version == "HTTP/1.0") {
    current_.http10 = true;
  } else if (version.size() == 8 && version.starts_with("HTTP/") && version[6] == '.') {
    return refuse(505, "HTTP version not supported\n");
  } else {
    return refuse(400, "Bad request\n");
  }
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
    return refuse(501, "Not implemented\n");
  }
  if (target == "*" && method != "OPTIONS") return refuse(400, "Bad request\n");
  current_.method = std::string(method);
  current_.target = originForm(target);
  if (current_.target.empty()) return refuse(400, "Bad request\n");

  bool close = false;
  bool keepAlive = false;
  bool haveLength = false;
  bool forwardedHost = false;
  size_t headers = 0;
  for (line = nextLine(); !line.empty(); line = nextLine()) {
    if (++headers > limits_.maxHeaders) return refuse(431, "Request header fields too large\n");
    // No line folding, no space before the colon (RFC 9112 §5.1, §5.2).
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return refuse(400, "Bad request\n");
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (!isToken(name) || !isFieldValue(value)) return refuse(400, "Bad request\n");

    if (equalsLower(name, "content-length")) {
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return refuse(400, "Bad request\n");
      }
      std::string_view digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
      if (digits.size() > 15) return refuse(413, "Request body too large\n");
      size_t length = 0;
      for (char c : digits) length = length * 10 + static_cast<size_t>(c - '0');
      if (haveLength && length != current_.contentLength) return refuse(400, "Bad request\n");
      current_.contentLength = length;
      haveLength = true;
    } else if (equalsLower(name, "transfer-encoding")) {
      // Chunked bodies are not read here (Pistache's reading of them spins); clients that send
      // them retry with a length on 411 (RFC 9110 §15.5.12).
      return refuse(411, "Length required\n");
    } else if (equalsLower(name, "connection")) {
      forEachListElement(value, [&](std::string_view option) {
        if (equalsLower(option, "close")) close = true;
        if (equalsLower(option, "keep-alive")) keepAlive = true;
      });
    } else if (equalsLower(name, "content-type")) {
      current_.contentType = std::string(value);
    } else if (equalsLower(name, "authorization")) {
      current_.authorization = std::string(value);
    } else if (equalsLower(name, "accept-encoding")) {
      appendListValue(current_.acceptEncoding, value);
    } else if (equalsLower(name, "x-forwarded-for")) {
      appendListValue(current_.forwardedFor, value);
    } else if (equalsLower(name, "range")) {
      current_.range = std::string(value.substr(0, 256));
    } else if (equalsLower(name, "host")) {
      if (!forwardedHost) current_.host = std::string(value.substr(0, 256));
    } else if (equalsLower(name, "x-forwarded-host")) {
      forwardedHost = true;
      current_.host = std::string(value.substr(0, std::min(value.find(','), size_t{256})));
    } else if (equalsLower(name, "x-forwarded-proto")) {
      current_.forwardedProto = std::string(value.substr(0, 16));
    } else if (equalsLower(name, "cookie")) {
      if (!current_.cookie.empty()) current_.cookie += "; ";
      current_.cookie += value;
    } else if (equalsLower(name, "x-original-uri")) {
      current_.originalUri = std::string(value.substr(0, 4096));
    } else if (equalsLower(name, "expect")) {
      current_.expectsContinue = equalsLower(value, "100-continue");
    }
    if (current_.acceptEncoding.size() + current_.forwardedFor.size() + current_.cookie.size() >
        limits_.maxHeadBytes) {
      return refuse(431, "Request header fields too large\n");
    }
  }
  current_.keepAlive = current_.http10 ? keepAlive && !close : !close;
  return Step::kRequest;
}

void splitTarget(std::string_view target, std::string& path, std::string& rawQuery) {
  size_t q = target.find('?');
  path = std::string(target.substr(0, q));
  rawQuery = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  size_t hash = rawQuery.find('#');
  if (hash != std::string::npos) rawQuery.resize(hash);
  size_t pathHash = path.find('#');
  if (pathHash != std::string::npos) path.resize(pathHash);
  if (path.find("//") != std::string::npos) {
    path.erase(
        std::unique(path.begin(), path.end(), [](char a, char b) { return a == '/' && b == '/'; }),
        path.end());
  }
}

}  // namespace sb
