// Order-preserving query strings, as BBB clients send them.
//
// Only the decoded parameters are kept: BBB checksums are verified against the request's raw
// query text as the client sent it (HttpRequest::rawQuery), never against a QueryString.
// Decoding is application/x-www-form-urlencoded ('+' is a space). Repeated names are kept in
// order; get() returns the first, as bbb-web does.
// Thread-safety: a plain value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sb {

struct QueryParam {
  std::string name;
  std::string value;
  bool operator==(const QueryParam&) const = default;
};

class QueryString {
 public:
  QueryString() = default;

  // Parses a raw query (without the leading '?'). Fails with kValidationError when a '%' is not
  // followed by two hex digits or a decoded name or value is not valid UTF-8 or holds a NUL.
  // Empty pieces ("a=1&&b=2", a leading '&') are skipped.
  static Result<QueryString> parse(std::string_view raw);

  const std::vector<QueryParam>& params() const { return params_; }
  bool empty() const { return params_.empty(); }

  // First value of `name`, if present (an empty value is present).
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

  // Replaces the first `name` (dropping later repeats) or appends it.
  void set(std::string_view name, std::string_view value);
  // Drops every parameter called `name`.
  void remove(std::string_view name);
  // Drops every parameter for which `drop(param)` is true.
  template <typename Predicate>
  void removeIf(Predicate drop) {
    std::erase_if(params_, drop);
  }
  // Appends the parameters of `other` whose names are not present yet.
  void appendMissing(const QueryString& other);
  void append(std::string_view name, std::string_view value);

  // Percent-encodes the parameters in order ("a=1&b=x%20y").
  std::string encode() const;

  bool operator==(const QueryString&) const = default;

 private:
  std::vector<QueryParam> params_;
};

// Percent-encodes one component: everything but ALPHA / DIGIT / "-._~".
std::string urlEncode(std::string_view text);
// Decodes one form component ('+' is a space). nullopt on a malformed '%' escape.
std::optional<std::string> urlDecode(std::string_view text);
// Decodes one path segment: percent escapes only ('+' stays '+'). nullopt on a malformed escape.
std::optional<std::string> urlDecodePath(std::string_view text);
bool isValidUtf8(std::string_view text);
// The characters of UTF-8 `text` as BBB counts them (each byte but continuation bytes).
size_t utf8Length(std::string_view text);
// `text` with ASCII letters in lower case (names, schemes, host names, true/false).
std::string lowerAscii(std::string_view text);

}  // namespace sb
