#include "core/xml_text.h"

#include <cctype>
#include <cstdint>
#include <optional>

namespace sb {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
constexpr std::string_view kReplacementRef = "&#xFFFD;";

bool allowedInXml(uint32_t cp) {
  if (cp < 0x20) return cp == '\t' || cp == '\n' || cp == '\r';
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return cp <= 0x10FFFF;
}

// The length of the valid UTF-8 sequence at text[i] and its code point; nullopt when the bytes
// there are not valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF included).
std::optional<std::pair<size_t, uint32_t>> decodeAt(std::string_view text, size_t i) {
  auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return std::pair<size_t, uint32_t>{1, c};
  const size_t extra = c >= 0xC2 && c <= 0xDF   ? 1
                       : c >= 0xE0 && c <= 0xEF ? 2
                       : c >= 0xF0 && c <= 0xF4 ? 3
                                                : 0;
  if (extra == 0 || text.size() - i <= extra) return std::nullopt;
  uint32_t cp = c & (extra == 1 ? 0x1F : extra == 2 ? 0x0F : 0x07);
  for (size_t k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const unsigned char next = byte(i + 1);
  if ((c == 0xE0 && next < 0xA0) || (c == 0xED && next >= 0xA0) || (c == 0xF0 && next < 0x90) ||
      (c == 0xF4 && next >= 0x90)) {
    return std::nullopt;
  }
  return std::pair<size_t, uint32_t>{extra + 1, cp};
}

// A numeric character reference at text[i] ("&#65;", "&#x41;"): its length and value; nullopt
// when there is none (the parser judges what is left).
std::optional<std::pair<size_t, uint64_t>> charRefAt(std::string_view text, size_t i) {
  if (text.substr(i, 2) != "&#") return std::nullopt;
  size_t at = i + 2;
  const bool hex = at < text.size() && (text[at] == 'x' || text[at] == 'X');
  if (hex) ++at;
  const size_t digitsStart = at;
  uint64_t value = 0;
  while (at < text.size() && at - digitsStart < 16) {
    const char d = text[at];
    int v = -1;
    if (d >= '0' && d <= '9') {
      v = d - '0';
    } else if (hex && d >= 'a' && d <= 'f') {
      v = d - 'a' + 10;
    } else if (hex && d >= 'A' && d <= 'F') {
      v = d - 'A' + 10;
    }
    if (v < 0) break;
    value = value * (hex ? 16 : 10) + static_cast<uint64_t>(v);
    ++at;
  }
  if (at == digitsStart || at >= text.size() || text[at] != ';') return std::nullopt;
  return std::pair<size_t, uint64_t>{at + 1 - i, value};
}

// One pass over `text`: what needs replacing is replaced, the rest copied in runs. Writes `out`
// only when something changed.
bool sanitize(std::string_view text, bool references, std::string& out) {
  size_t copied = 0;  // text[0, copied) is in `out` already
  bool changed = false;
  auto replace = [&](size_t at, size_t length, std::string_view with) {
    if (!changed) {
      out.clear();
      out.reserve(text.size() + 16);
      changed = true;
    }
    out.append(text.substr(copied, at - copied)).append(with);
    copied = at + length;
  };
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80) {
      if (references && c == '&') {
        if (auto ref = charRefAt(text, i)) {
          if (ref->second > 0x10FFFF || !allowedInXml(static_cast<uint32_t>(ref->second))) {
            replace(i, ref->first, kReplacementRef);
          }
          i += ref->first;
          continue;
        }
      }
      ++i;
      continue;
    }
    auto decoded = decodeAt(text, i);
    if (!decoded) {
      replace(i, 1, kReplacement);
      ++i;
    } else if (!allowedInXml(decoded->second)) {
      replace(i, decoded->first, kReplacement);
      i += decoded->first;
    } else {
      i += decoded->first;
    }
  }
  if (changed) out.append(text.substr(copied));
  return changed;
}

}  // namespace

std::string xmlSafeText(std::string_view text) {
  std::string out;
  if (!sanitize(text, false, out)) return std::string(text);
  return out;
}

bool makeXmlDocumentSafe(std::string& xml) {
  std::string out;
  if (!sanitize(xml, true, out)) return false;
  xml = std::move(out);
  return true;
}

size_t xmlNestingDepth(std::string_view xml, size_t limit) {
  size_t depth = 0, deepest = 0;
  size_t i = 0;
  auto skipPast = [&](std::string_view end) {
    size_t at = xml.find(end, i);
    i = at == std::string_view::npos ? xml.size() : at + end.size();
  };
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    std::string_view rest = xml.substr(i);
    if (rest.starts_with("<!--")) {
      skipPast("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      skipPast("]]>");
    } else if (rest.starts_with("<?")) {
      skipPast("?>");
    } else if (rest.starts_with("<!")) {
      skipPast(">");
    } else if (rest.starts_with("</")) {
      if (depth > 0) --depth;
      skipPast(">");
    } else {
      // A start tag: to its '>' outside attribute values; "/>" closes it at once.
      char quote = 0;
      size_t at = i + 1;
      for (; at < xml.size(); ++at) {
        const char ch = xml[at];
        if (quote != 0) {
          if (ch == quote) quote = 0;
        } else if (ch == '"' || ch == '\'') {
          quote = ch;
        } else if (ch == '>') {
          break;
        }
      }
      if (at >= xml.size()) break;
      if (xml[at - 1] != '/') {
        ++depth;
        if (depth > deepest) deepest = depth;
        if (deepest > limit) return limit + 1;
      }
      i = at + 1;
    }
  }
  return deepest;
}

bool isXmlElementName(std::string_view name) {
  if (name.empty()) return false;
  auto first = static_cast<unsigned char>(name.front());
  if (!std::isalpha(first) && first != '_') return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace sb
