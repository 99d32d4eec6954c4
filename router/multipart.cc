#include "router/multipart.h"

#include <algorithm>
#include <cctype>

namespace sb {
namespace {

bool equalsLower(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() &&
         std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in "type; a=b; c=\"d\"" (lower-case name); nullopt when absent.
std::optional<std::string> parameterOf(std::string_view header, std::string_view name) {
  size_t at = header.find(';');
  while (at != std::string_view::npos) {
    header.remove_prefix(at + 1);
    size_t eq = header.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = trim(header.substr(0, eq));
    header.remove_prefix(eq + 1);
    header = trim(header);
    std::string value;
    if (!header.empty() && header.front() == '"') {
      size_t i = 1;
      for (; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      header.remove_prefix(std::min(i + 1, header.size()));
      at = header.find(';');
    } else {
      at = header.find(';');
      value = std::string(trim(header.substr(0, at)));
    }
    if (equalsLower(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipartBoundary(std::string_view contentType) {
  std::string_view type = trim(contentType.substr(0, contentType.find(';')));
  if (!equalsLower(type, "multipart/form-data")) return std::nullopt;
  auto boundary = parameterOf(contentType, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  return boundary;
}

std::optional<std::vector<FormPart>> parseMultipart(std::string_view body,
                                                    std::string_view boundary, size_t maxParts) {
  const std::string delimiter = "--" + std::string(boundary);
  // The first delimiter may come without a CRLF before it (a preamble is allowed).
  size_t at = body.starts_with(delimiter) ? 0 : body.find("\r\n" + delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  at += body.starts_with(delimiter) ? delimiter.size() : delimiter.size() + 2;
  std::vector<FormPart> parts;
  const std::string next = "\r\n" + delimiter;
  while (true) {
    std::string_view rest = body.substr(at);
    if (rest.starts_with("--")) return parts;  // the closing delimiter
    // Transport padding after a delimiter, then its CRLF.
    size_t lineEnd = rest.find("\r\n");
    if (lineEnd == std::string_view::npos || !trim(rest.substr(0, lineEnd)).empty()) {
      return std::nullopt;
    }
    rest.remove_prefix(lineEnd + 2);
    // A part's headers end with a blank line (right away when it has none).
    const bool noHeaders = rest.starts_with("\r\n");
    size_t headEnd = noHeaders ? 0 : rest.find("\r\n\r\n");
    const size_t dataStart = noHeaders ? 2 : headEnd + 4;
    size_t end = rest.find(next);
    if (end == std::string_view::npos || headEnd == std::string_view::npos || dataStart > end ||
        parts.size() >= maxParts) {
      return std::nullopt;
    }
    FormPart part;
    std::string_view head = rest.substr(0, headEnd);
    while (!head.empty()) {
      size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(line.substr(0, colon));
      std::string_view value = trim(line.substr(colon + 1));
      if (equalsLower(name, "content-disposition")) {
        part.name = parameterOf(value, "name").value_or("");
        part.fileName = parameterOf(value, "filename").value_or("");
      } else if (equalsLower(name, "content-type")) {
        part.contentType = std::string(value);
      }
    }
    part.data = rest.substr(dataStart, end - dataStart);
    parts.push_back(std::move(part));
    at = static_cast<size_t>(rest.data() - body.data()) + end + next.size();
  }
}

}  // namespace sb
