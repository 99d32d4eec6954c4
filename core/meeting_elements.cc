#include "core/meeting_elements.h"

namespace sb {

int forEachMeetingElement(std::string_view xml,
                          const std::function<void(std::string_view element)>& each) {
  constexpr std::string_view kOpen = "<meeting>", kClose = "</meeting>";
  size_t at = 0, start = 0;
  int depth = 0;
  while (true) {
    const size_t open = xml.find(kOpen, at), close = xml.find(kClose, at);
    if (close == std::string_view::npos) {
      return depth > 0 || open != std::string_view::npos ? 1 : 0;
    }
    if (open != std::string_view::npos && open < close) {
      if (depth++ == 0) start = open;
      at = open + kOpen.size();
      continue;
    }
    at = close + kClose.size();
    if (depth == 0) continue;  // a stray end tag
    if (--depth == 0) each(xml.substr(start, at - start));
  }
}

std::string_view meetingIdOf(std::string_view element) {
  constexpr std::string_view kOpen = "<meetingID>", kClose = "</meetingID>";
  const size_t open = element.find(kOpen);
  if (open == std::string_view::npos) return {};
  const size_t from = open + kOpen.size();
  const size_t close = element.find(kClose, from);
  if (close == std::string_view::npos) return {};
  return element.substr(from, close - from);
}

}  // namespace sb
