// Plain HTTP request/response values between the Pistache front (http_server.cc) and the
// handlers, so the handlers are testable without sockets and Pistache stays in one file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sb {

struct HttpRequest {
  std::string method;    // "GET", "POST", ...
  std::string path;      // "/bigbluebutton/api/create" (raw, not decoded)
  std::string rawQuery;  // exactly as sent, without '?'
  std::string body;
  std::string contentType;     // "" when absent
  std::string authorization;   // the Authorization header, "" when absent
  std::string acceptEncoding;  // the Accept-Encoding header, "" when absent
  std::string clientAddress;   // the peer's IP address as the socket sees it, "" when unknown
  std::string forwardedFor;    // X-Forwarded-For as sent (trust it only behind a known proxy)
  // A body streamed to disk instead of `body` (recording uploads): its path. The handler owns
  // the file and removes or moves it.
  std::string bodyFile;
  std::string range;  // the Range header ("bytes=0-99"), "" when absent
  // The host the client asked for (X-Forwarded-Host, else Host) and X-Forwarded-Proto: for URLs
  // in answers only. The Cookie header(s), and nginx's X-Original-URI of an auth_request.
  std::string host;
  std::string forwardedProto;
  std::string cookie;
  std::string originalUri;
  bool tls = false;  // it came over HTTPS (to this process)
};

// A file, or a byte range of it, sent as an answer's body: read in pieces as it goes out, never
// whole in memory. Owns the descriptor.
struct FileBody {
  FileBody(int fd, uint64_t offset, uint64_t length) : fd(fd), offset(offset), length(length) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd;
  uint64_t offset;
  uint64_t length;
};

// What the access log and the request metrics say about a request, filled by the handler that
// answered. Never a secret, checksum, password or query string.
struct AccessNote {
  std::string call;       // "join", "getMeetings", "rtcloadbalance", "admin", ... ("" = from path)
  std::string tenant;     // the call's tenant, "" when none (multitenancy off)
  std::string meetingId;  // "" when none
  std::string serverId;   // the server chosen, "" when none
  std::string result;     // "SUCCESS", "302", a BBB messageKey, "ERROR" ... ("" = HTTP status)
  bool storeError = false;  // failed because Redis or PostgreSQL did not answer
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/xml;charset=utf-8";
  std::string body;
  // Instead of `body` when set: a large answer kept elsewhere (getMeetings' cached listing), sent
  // without a copy.
  std::shared_ptr<const std::string> sharedBody;
  std::string location;           // for redirects; CR/LF are stripped before sending
  std::string contentEncoding;    // "gzip" when the payload is compressed, else ""
  bool variesByEncoding = false;  // sent as "Vary: Accept-Encoding" (the payload depends on it)
  // Instead of `body` when set: a file's bytes (playback). Such an answer is written with
  // `headers` below as they are (no Cache-Control: no-cache), and HEAD gets its length.
  std::shared_ptr<const FileBody> file;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers of a file answer
  // Called once the answer has left the process (written to the socket) or could not be (the
  // client went away). May run on a reactor thread. Not called when nothing sends the answer
  // (handlers used without the HTTP layer): rely on the last copy going away as well.
  std::function<void()> onSent;
  AccessNote access;

  const std::string& payload() const { return sharedBody ? *sharedBody : body; }
};

// A plain-text answer.
inline HttpResponse textResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.contentType = "text/plain;charset=utf-8";
  r.body = std::move(body);
  return r;
}

// `r` with its access note set (an empty `result` keeps the one already there).
inline HttpResponse noted(HttpResponse r, std::string call, std::string result,
                          std::string meetingId = "", std::string serverId = "") {
  r.access.call = std::move(call);
  if (!result.empty()) r.access.result = std::move(result);
  r.access.meetingId = std::move(meetingId);
  r.access.serverId = std::move(serverId);
  return r;
}

// Called exactly once per request, from any thread.
using Reply = std::function<void(HttpResponse)>;

// Whether the client reached the public side over HTTPS: this process's TLS, or a proxy's
// X-Forwarded-Proto.
inline bool viaHttps(const HttpRequest& r) { return r.tls || r.forwardedProto == "https"; }

// The origin URLs in answers point at: https://<urlHost> when configured (URL_HOST), else the
// host the client asked for with its scheme ("http://localhost:8090"); "" when the request named
// no usable host (letters, digits, ".-:[]" only).
inline std::string publicOrigin(const HttpRequest& r, const std::string& urlHost) {
  if (!urlHost.empty()) return "https://" + urlHost;
  if (r.host.empty()) return "";
  for (char c : r.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return "";
  }
  return (viaHttps(r) ? "https://" : "http://") + r.host;
}

}  // namespace sb
