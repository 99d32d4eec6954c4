// A strict check of an XML answer, as a frontend's parser (libxml2, Java's) would judge it:
// well-formed, valid UTF-8, and no character XML 1.0 forbids, raw or as a reference. pugixml alone
// is lenient on the last two (it decodes "&#1;" and passes bytes through).
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sbtest {

// "" when `xml` is acceptable, else what is wrong.
inline std::string strictXmlProblem(const std::string& xml) {
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return std::string("not well-formed: ") + parsed.description();
  auto check = [](std::string_view text) -> std::string {
    size_t i = 0;
    while (i < text.size()) {
      const auto c = static_cast<unsigned char>(text[i]);
      uint32_t cp = c;
      size_t n = 1;
      if (c >= 0x80) {
        n = c >= 0xC2 && c <= 0xDF   ? 2
            : c >= 0xE0 && c <= 0xEF ? 3
            : c >= 0xF0 && c <= 0xF4 ? 4
                                     : 0;
        if (n == 0 || i + n > text.size()) return "invalid UTF-8";
        cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
        for (size_t k = 1; k < n; ++k) {
          const auto b = static_cast<unsigned char>(text[i + k]);
          if ((b & 0xC0) != 0x80) return "invalid UTF-8";
          cp = (cp << 6) | (b & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
          return "invalid UTF-8";
        }
      }
      const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!allowed) return "character U+" + std::to_string(cp) + " (decimal) not allowed in XML";
      i += n;
    }
    return "";
  };
  std::string problem;
  struct Walker : pugi::xml_tree_walker {
    std::string* problem;
    decltype(check)* checkText;
    bool for_each(pugi::xml_node& node) override {
      *problem = (*checkText)(node.name());
      if (problem->empty()) *problem = (*checkText)(node.value());
      for (auto a = node.first_attribute(); a && problem->empty(); a = a.next_attribute()) {
        *problem = (*checkText)(a.name());
        if (problem->empty()) *problem = (*checkText)(a.value());
      }
      return problem->empty();
    }
  } walker;
  walker.problem = &problem;
  walker.checkText = &check;
  doc.traverse(walker);
  return problem;
}

}  // namespace sbtest
