// BBB servers' XML answers: the input is an answer body (a create, getMeetings, getMeetingInfo or
// API root answer, or anything a broken or hostile server sends). Covers every reader of
// bbb/bbb_xml.h (readReplyHeader, parseGetMeetings, parseBbbVersion) and the tag scanner of
// core/meeting_elements.h that the poller's snapshots and the router's listings go through.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bbb/bbb_xml.h"
#include "core/meeting_elements.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// What a listing passed on to frontends must be: UTF-8 without the control characters XML 1.0
// forbids (one such byte makes a whole getMeetings answer unreadable for the frontend).
bool isXmlText(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t length = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    i += length;
  }
  return true;
}

bool within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);

  sb::BbbReply reply;
  reply.httpStatus = 200;
  reply.body = body;
  if (sb::readReplyHeader(reply)) {
    FUZZ_CHECK(reply.success() == (reply.returnCode == "SUCCESS"));
  }

  int unreadable = -1;
  auto meetings = sb::parseGetMeetings(body, &unreadable);
  if (meetings) {
    FUZZ_CHECK(unreadable >= 0);
    // Every element kept goes into getMeetings listings as it is.
    for (const auto& m : *meetings) FUZZ_CHECK(isXmlText(m.xml));
  }

  (void)sb::parseBbbVersion(body);

  // The scanner hands out whole elements, in order, without overlap, from the text itself.
  const std::string_view text(body);
  const char* previousEnd = text.data();
  int elements = 0;
  const int cutOff = sb::forEachMeetingElement(text, [&](std::string_view element) {
    FUZZ_CHECK(within(element, text));
    FUZZ_CHECK(element.data() >= previousEnd);
    FUZZ_CHECK(element.starts_with("<meeting>") && element.ends_with("</meeting>"));
    previousEnd = element.data() + element.size();
    const std::string_view id = sb::meetingIdOf(element);
    FUZZ_CHECK(id.empty() || within(id, element));
    ++elements;
  });
  FUZZ_CHECK(cutOff == 0 || cutOff == 1);
  FUZZ_CHECK(elements <= static_cast<int>(size / 19));  // "<meeting></meeting>" is 19 bytes
  return 0;
}
