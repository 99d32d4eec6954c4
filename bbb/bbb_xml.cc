#include "bbb/bbb_xml.h"

#include <pugixml.hpp>

#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/meeting_elements.h"
#include "core/xml_text.h"

namespace sb {
namespace {

Error unreadable(const std::string& what) {
  return Error::of(ErrorCode::kInternalError, "unreadable answer: " + what);
}

// `body` parsed into `doc`, unless it nests deeper than kMaxXmlDepth (then nothing is parsed).
std::optional<pugi::xml_parse_result> loadBounded(pugi::xml_document& doc,
                                                  const std::string& body) {
  if (xmlNestingDepth(body, kMaxXmlDepth) > kMaxXmlDepth) return std::nullopt;
  return doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
}

Error tooDeep() {
  return unreadable("elements nested deeper than " + std::to_string(kMaxXmlDepth));
}

// The <response> of a BBB answer. A document that is not well-formed still counts when its
// <response><returncode> was read before the error (pugixml keeps what it parsed): BBB echoes
// some names a frontend chose unescaped (metadata), and one such element must not make a server
// that answers look dead. Its callers read only what was parsed.
Result<pugi::xml_node> parseResponse(pugi::xml_document& doc, const std::string& body) {
  auto loaded = loadBounded(doc, body);
  if (!loaded) return tooDeep();
  const pugi::xml_parse_result& parsed = *loaded;
  // An answer cut off is not BBB's whole answer: one that is not well-formed must at least end
  // as BBB's answers do.
  if (!parsed) {
    std::string_view whole(body);
    while (!whole.empty() && std::isspace(static_cast<unsigned char>(whole.back()))) {
      whole.remove_suffix(1);
    }
    if (!whole.ends_with("</response>")) return unreadable(parsed.description());
  }
  pugi::xml_node response = doc.child("response");
  if (!response || !response.child("returncode")) {
    return unreadable(parsed ? "no <response><returncode>" : parsed.description());
  }
  return response;
}

int intOf(const pugi::xml_node& n, const char* name) {
  // get-meetings.ftlx renders counters >= 1000 as "1,000": drop the separators.
  std::string text = n.child_value(name);
  std::string digits;
  for (char c : text) {
    if (c != ',') digits += c;
  }
  return static_cast<int>(std::strtol(digits.c_str(), nullptr, 10));
}

}  // namespace

Status readReplyHeader(BbbReply& reply) {
  pugi::xml_document doc;
  auto response = parseResponse(doc, reply.body);
  if (!response) return response.error();
  reply.returnCode = response->child_value("returncode");
  reply.messageKey = response->child_value("messageKey");
  return Status::Ok();
}

namespace {

PolledMeeting polledMeeting(const pugi::xml_node& m) {
  PolledMeeting pm;
  pm.meetingId = m.child_value("meetingID");
  pm.meetingName = m.child_value("meetingName");
  pm.internalMeetingId = m.child_value("internalMeetingID");
  pm.moderatorPw = m.child_value("moderatorPW");
  pm.createTimeMs = std::strtoll(m.child_value("createTime"), nullptr, 10);
  pm.participantCount = intOf(m, "participantCount");
  pm.moderatorCount = intOf(m, "moderatorCount");
  pm.listenerCount = intOf(m, "listenerCount");
  pm.voiceParticipantCount = intOf(m, "voiceParticipantCount");
  pm.videoCount = intOf(m, "videoCount");
  pm.running = std::string(m.child_value("running")) == "true";
  pm.isBreakout = std::string(m.child_value("isBreakout")) == "true";
  std::ostringstream xml;
  m.print(xml, "", pugi::format_raw);
  pm.xml = xml.str();
  // pugixml writes a control character it read from a reference ("&#1;") back as one, which a
  // frontend's parser rejects in getMeetings: such references become U+FFFD's.
  makeXmlDocumentSafe(pm.xml);
  return pm;
}

// Whether `text` is UTF-8 without the control characters XML 1.0 forbids. pugixml passes both
// through, and one such byte passed on in getMeetings would make the whole listing unreadable
// for the frontend.
bool isXmlText(std::string_view text) {
  auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
      ++i;
      continue;
    }
    const size_t extra = c >= 0xC2 && c <= 0xDF   ? 1
                         : c >= 0xE0 && c <= 0xEF ? 2
                         : c >= 0xF0 && c <= 0xF4 ? 3
                                                  : 0;
    if (extra == 0 || text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    const unsigned char next = byte(i + 1);
    if ((c == 0xE0 && next < 0xA0) || (c == 0xED && next >= 0xA0) || (c == 0xF0 && next < 0x90) ||
        (c == 0xF4 && next >= 0x90)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// `element` without its <metadata>…</metadata> block: metadata is where BBB echoes names a
// frontend chose (unescaped), the usual reason one meeting element is not well-formed.
std::string withoutMetadata(std::string_view element) {
  size_t open = element.find("<metadata>");
  size_t close = element.rfind("</metadata>");
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::string(element);
  }
  return std::string(element.substr(0, open)) +
         std::string(element.substr(close + std::string_view("</metadata>").size()));
}

// One <meeting> element parsed alone: as sent, else without its metadata. nullopt when neither
// reads (or it holds bytes that are not XML text).
std::optional<PolledMeeting> readMeetingElement(std::string_view element) {
  for (const std::string& candidate : {std::string(element), withoutMetadata(element)}) {
    if (!isXmlText(candidate)) continue;
    pugi::xml_document doc;
    if (!doc.load_buffer(candidate.data(), candidate.size(), pugi::parse_default,
                         pugi::encoding_utf8)) {
      continue;
    }
    pugi::xml_node m = doc.child("meeting");
    if (!m || !*m.child_value("meetingID")) continue;
    return polledMeeting(m);
  }
  return std::nullopt;
}

// The <meeting> elements of a getMeetings body that is not well-formed, each read on its own:
// one bad element must not hide the others (a server answering every call is not offline).
std::vector<PolledMeeting> readMeetingsOneByOne(std::string_view body, int& unreadable) {
  std::vector<PolledMeeting> out;
  size_t at = body.find("<meetings>");
  if (at == std::string_view::npos) return out;
  unreadable += forEachMeetingElement(body.substr(at), [&](std::string_view element) {
    if (auto m = readMeetingElement(element)) {
      out.push_back(std::move(*m));
    } else {
      ++unreadable;
    }
  });
  return out;
}

}  // namespace

Result<std::vector<PolledMeeting>> parseGetMeetings(const std::string& body, int* unreadableCount) {
  int bad = 0;
  std::vector<PolledMeeting> out;
  pugi::xml_document doc;
  auto loaded = loadBounded(doc, body);
  if (!loaded) return tooDeep();
  const pugi::xml_parse_result& parsed = *loaded;
  pugi::xml_node response = doc.child("response");
  // Even a document that is not well-formed has its <returncode> read before the error (pugixml
  // keeps what it parsed); without one the answer is not BBB's.
  if (!response || !response.child("returncode")) {
    return unreadable(parsed ? "no <response><returncode>" : parsed.description());
  }
  if (std::string(response.child_value("returncode")) != "SUCCESS") {
    return Error::of(ErrorCode::kInternalError,
                     std::string("getMeetings failed: ") + response.child_value("messageKey"));
  }
  if (parsed) {
    for (pugi::xml_node m : response.child("meetings").children("meeting")) {
      PolledMeeting pm = polledMeeting(m);
      if (!isXmlText(pm.xml)) {
        if (auto clean = readMeetingElement(withoutMetadata(pm.xml))) {
          out.push_back(std::move(*clean));
        } else {
          ++bad;
        }
        continue;
      }
      out.push_back(std::move(pm));
    }
  } else {
    out = readMeetingsOneByOne(body, bad);
  }
  if (unreadableCount) *unreadableCount = bad;
  return out;
}

Result<std::string> parseBbbVersion(const std::string& body) {
  pugi::xml_document doc;
  auto response = parseResponse(doc, body);
  if (!response) return response.error();
  return std::string(response->child_value("bbbVersion"));
}

}  // namespace sb
