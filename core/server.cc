#include "core/server.h"

#include <curl/curl.h>  // the URL parser only: no I/O happens here

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "core/query_string.h"

namespace sb {

std::string_view adminStateName(AdminState state) {
  switch (state) {
    case AdminState::kEnabled:
      return "enabled";
    case AdminState::kCordoned:
      return "cordoned";
    case AdminState::kDisabled:
      return "disabled";
  }
  return "disabled";
}

std::optional<AdminState> parseAdminState(std::string_view name) {
  if (name == "enabled" || name == "enable") return AdminState::kEnabled;
  if (name == "cordoned" || name == "cordon") return AdminState::kCordoned;
  if (name == "disabled" || name == "disable") return AdminState::kDisabled;
  return std::nullopt;
}

std::optional<std::string> normalizeServerUrl(std::string_view url) {
  std::string u(url);
  while (!u.empty() && std::isspace(static_cast<unsigned char>(u.back()))) u.pop_back();
  size_t schemeEnd = u.find("://");
  if (schemeEnd == std::string::npos) return std::nullopt;
  const std::string scheme = lowerAscii(u.substr(0, schemeEnd));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string rest = u.substr(schemeEnd + 3);
  if (rest.empty() || rest[0] == '/') return std::nullopt;
  for (char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#') return std::nullopt;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  // "https://h/bigbluebutton" is what `bbb-conf --secret` prints: add "/api" only.
  static constexpr std::string_view kBbb = "/bigbluebutton";
  static constexpr std::string_view kApi = "/bigbluebutton/api";
  if (rest.ends_with(kBbb)) {
    rest += "/api";
  } else if (!rest.ends_with(kApi)) {
    rest += kApi;
  }
  return scheme + "://" + rest + "/";
}

bool isSignallingUrl(std::string_view url, bool secure) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed) return false;
  std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
      CURLUE_OK) {
    return false;
  }
  auto part = [&parsed](CURLUPart which) {
    char* value = nullptr;
    if (curl_url_get(parsed.get(), which, &value, 0) != CURLUE_OK) return std::string();
    std::string out = value ? value : "";
    curl_free(value);
    return out;
  };
  return part(CURLUPART_SCHEME) == (secure ? "wss" : "ws") && !part(CURLUPART_HOST).empty() &&
         part(CURLUPART_USER).empty() && part(CURLUPART_PASSWORD).empty();
}

// Where the authority ("user:password@host:port") of `url` starts, and the authority itself.
static std::pair<size_t, std::string_view> authorityOf(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return {start, url.substr(start, end == std::string_view::npos ? url.npos : end - start)};
}

std::string serverHost(std::string_view url) {
  std::string_view authority = authorityOf(url).second;
  // Never the credentials of "https://user:password@host" (tables, logs, /stat and /metrics).
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return std::string(authority);
}

std::string displayUrl(std::string_view url) {
  auto [start, authority] = authorityOf(url);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string_view userinfo = authority.substr(0, at);
  std::string_view user = userinfo.substr(0, userinfo.find(':'));
  std::string shown(url.substr(0, start));
  shown += user;
  if (user.size() < userinfo.size()) shown += ":***";
  shown += url.substr(start + at);
  return shown;
}

}  // namespace sb
