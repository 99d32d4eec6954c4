// Plain HTTP request/response values between the Pistache front (http_server.cc) and the
// handlers, so the handlers are testable without sockets and Pistache stays in one file.
#pragma once

#include <functional>
#include <string>

namespace sb {

struct HttpRequest {
  std::string method;    // "GET", "POST", ...
  std::string path;      // "/bigbluebutton/api/create" (raw, not decoded)
  std::string rawQuery;  // exactly as sent, without '?'
  std::string body;
  std::string contentType;    // "" when absent
  std::string authorization;  // the Authorization header, "" when absent
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/xml;charset=utf-8";
  std::string body;
  std::string location;  // for redirects; CR/LF are stripped before sending
};

// Called exactly once per request, from any thread.
using Reply = std::function<void(HttpResponse)>;

}  // namespace sb
