#include "bbb/bbb_xml.h"

#include <pugixml.hpp>

#include <cstdlib>
#include <sstream>

namespace sb {
namespace {

Error unreadable(const std::string& what) {
  return Error::of(ErrorCode::kInternalError, "unreadable answer: " + what);
}

Result<pugi::xml_node> parseResponse(pugi::xml_document& doc, const std::string& body) {
  auto parsed = doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return unreadable(parsed.description());
  pugi::xml_node response = doc.child("response");
  if (!response || !response.child("returncode")) return unreadable("no <response><returncode>");
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

Result<std::vector<PolledMeeting>> parseGetMeetings(const std::string& body) {
  pugi::xml_document doc;
  auto response = parseResponse(doc, body);
  if (!response) return response.error();
  if (std::string(response->child_value("returncode")) != "SUCCESS") {
    return Error::of(ErrorCode::kInternalError,
                     std::string("getMeetings failed: ") + response->child_value("messageKey"));
  }
  std::vector<PolledMeeting> out;
  for (pugi::xml_node m : response->child("meetings").children("meeting")) {
    PolledMeeting pm;
    pm.meetingId = m.child_value("meetingID");
    pm.meetingName = m.child_value("meetingName");
    pm.internalMeetingId = m.child_value("internalMeetingID");
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
    out.push_back(std::move(pm));
  }
  return out;
}

Result<std::string> parseBbbVersion(const std::string& body) {
  pugi::xml_document doc;
  auto response = parseResponse(doc, body);
  if (!response) return response.error();
  return std::string(response->child_value("bbbVersion"));
}

}  // namespace sb
