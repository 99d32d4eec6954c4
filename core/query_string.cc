#include "core/query_string.h"

#include <curl/curl.h>  // only for curl_easy_escape/unescape: no I/O happens here

#include <algorithm>
#include <cctype>
#include <memory>

namespace sb {
namespace {

bool isHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool percentEscapesWellFormed(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 2 >= text.size() || !isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
    i += 2;
  }
  return true;
}

// RFC 3986's unreserved characters (ASCII only, whatever the locale).
bool isUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};

}  // namespace

size_t utf8Length(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and out-of-range code points.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string urlEncode(std::string_view text) {
  // Text of unreserved characters only (RFC 3986: what curl leaves as is) is its own encoding:
  // most parameter names and many values, on every join.
  if (std::all_of(text.begin(), text.end(), isUnreserved)) return std::string(text);
  // Since curl 7.82 the handle argument is ignored, so no handle is needed.
  std::unique_ptr<char, CurlFree> out(
      curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size())));
  return out ? std::string(out.get()) : std::string();
}

std::optional<std::string> urlDecode(std::string_view text) {
  // Without '%' or '+' there is nothing to decode: no copies through curl.
  // (A plain loop: find_first_of calls memchr over its set once per character.)
  if (std::none_of(text.begin(), text.end(), [](char c) { return c == '%' || c == '+'; })) {
    return std::string(text);
  }
  if (!percentEscapesWellFormed(text)) return std::nullopt;
  std::string plus(text);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  int len = 0;
  std::unique_ptr<char, CurlFree> out(
      curl_easy_unescape(nullptr, plus.data(), static_cast<int>(plus.size()), &len));
  if (!out) return std::nullopt;
  return std::string(out.get(), static_cast<size_t>(len));
}

std::optional<std::string> urlDecodePath(std::string_view text) {
  if (text.find('%') == std::string_view::npos) return std::string(text);
  if (!percentEscapesWellFormed(text)) return std::nullopt;
  int len = 0;
  std::unique_ptr<char, CurlFree> out(
      curl_easy_unescape(nullptr, text.data(), static_cast<int>(text.size()), &len));
  if (!out) return std::nullopt;
  return std::string(out.get(), static_cast<size_t>(len));
}

Result<QueryString> QueryString::parse(std::string_view raw) {
  QueryString q;
  q.params_.reserve(static_cast<size_t>(std::count(raw.begin(), raw.end(), '&')) + 1);
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view piece = raw.substr(pos, amp - pos);
    pos = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view rawName = piece.substr(0, eq);
    std::string_view rawValue = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
    auto name = urlDecode(rawName);
    auto value = urlDecode(rawValue);
    if (!name || !value) {
      return Error::of(ErrorCode::kValidationError, "Invalid percent-encoding in the query string");
    }
    if (!isValidUtf8(*name) || !isValidUtf8(*value) || name->find('\0') != std::string::npos ||
        value->find('\0') != std::string::npos) {
      return Error::of(ErrorCode::kValidationError, "Parameters must be valid UTF-8 text");
    }
    q.params_.push_back({std::move(*name), std::move(*value)});
  }
  return q;
}

std::optional<std::string_view> QueryString::get(std::string_view name) const {
  for (const auto& p : params_) {
    if (p.name == name) return std::string_view(p.value);
  }
  return std::nullopt;
}

void QueryString::set(std::string_view name, std::string_view value) {
  auto it = std::find_if(params_.begin(), params_.end(),
                         [&](const QueryParam& p) { return p.name == name; });
  if (it == params_.end()) {
    params_.push_back({std::string(name), std::string(value)});
    return;
  }
  it->value = std::string(value);
  params_.erase(
      std::remove_if(it + 1, params_.end(), [&](const QueryParam& p) { return p.name == name; }),
      params_.end());
}

void QueryString::remove(std::string_view name) {
  params_.erase(std::remove_if(params_.begin(), params_.end(),
                               [&](const QueryParam& p) { return p.name == name; }),
                params_.end());
}

void QueryString::appendMissing(const QueryString& other) {
  for (const auto& p : other.params_) {
    if (!has(p.name)) params_.push_back(p);
  }
}

void QueryString::append(std::string_view name, std::string_view value) {
  params_.push_back({std::string(name), std::string(value)});
}

std::string QueryString::encode() const {
  std::string out;
  for (const auto& p : params_) {
    if (!out.empty()) out += '&';
    out += urlEncode(p.name);
    out += '=';
    out += urlEncode(p.value);
  }
  return out;
}

}  // namespace sb
