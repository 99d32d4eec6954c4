// The text access line: client-given text (path, meeting id) comes out exactly as fmt's {:?}
// quotes and escapes it, whether or not it takes the plain-text shortcut.
#include "router/access_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb {
namespace {

TEST(AccessLogTextTest, ClientTextIsQuotedAndEscapedExactlyAsFmtDoes) {
  AccessLog log(false);
  std::vector<std::string> texts{"/bigbluebutton/api/join",
                                 "room-1_a.b~c",
                                 "",
                                 "say \"hi\"",
                                 "back\\slash",
                                 "two\nlines",
                                 "tab\there",
                                 "Caf\xc3\xa9 \xe2\x9c\x93",
                                 "\xff\xfe not UTF-8",
                                 std::string("nul\0byte", 8)};
  for (int b = 0; b < 256; ++b) texts.push_back(std::string("a") + static_cast<char>(b) + "z");
  for (const auto& text : texts) {
    AccessRecord r;
    r.method = "GET";
    r.path = text;
    r.note.call = "join";
    r.note.meetingId = text;
    r.status = 302;
    r.latencyMs = 1.5;
    EXPECT_EQ(log.format(r),
              fmt::format("GET {:?} call=join meeting={:?} server=- result=- status=302 1.50ms",
                          std::string_view(text), std::string_view(text)))
        << text;
  }
}

}  // namespace
}  // namespace sb
