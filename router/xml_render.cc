#include "router/xml_render.h"

#include <pugixml.hpp>

#include <sstream>

namespace sb {
namespace {

std::string serialize(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_indent | pugi::format_no_declaration, pugi::encoding_utf8);
  std::string xml = out.str();
  // bbb-web writes empty elements as "<meetings/>"; pugixml adds a space before the slash. One
  // pass (an erase per element was quadratic: seconds for a 9 MB getMeetings, bench/README.md).
  // Text and attribute values never hold " />": pugixml escapes '>' in them.
  std::string compact;
  compact.reserve(xml.size());
  size_t start = 0;
  for (size_t pos; (pos = xml.find(" />", start)) != std::string::npos; start = pos + 1) {
    compact.append(xml, start, pos - start);
  }
  compact.append(xml, start, std::string::npos);
  return compact;
}

pugi::xml_node response(pugi::xml_document& doc, const char* returnCode) {
  pugi::xml_node r = doc.append_child("response");
  r.append_child("returncode").text().set(returnCode);
  return r;
}

}  // namespace

std::string renderError(const Error& error) {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "FAILED");
  r.append_child("messageKey").text().set(std::string(messageKey(error.code)).c_str());
  r.append_child("message").text().set(error.message.c_str());
  return serialize(doc);
}

std::string renderVersion(const std::string& buildNumber) {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  r.append_child("version").text().set("2.0");
  r.append_child("apiVersion").text().set("2.0");
  if (!buildNumber.empty()) r.append_child("build").text().set(buildNumber.c_str());
  return serialize(doc);
}

std::string renderNotRunning() {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  r.append_child("running").text().set("false");
  return serialize(doc);
}

std::string renderMeetings(const std::vector<std::string>& meetingXml) {
  // Well-formed fragments are spliced as text: building one DOM of every meeting and printing
  // it cost most of a large getMeetings (bench/README.md). A fragment must parse on its own and
  // hold element nodes only, so splicing cannot break the envelope.
  size_t total = 0;
  for (const auto& fragment : meetingXml) total += fragment.size();
  std::string meetings;
  meetings.reserve(total);
  pugi::xml_document scratch;
  for (const auto& fragment : meetingXml) {
    if (!scratch.load_buffer(fragment.data(), fragment.size(), pugi::parse_minimal)) continue;
    bool elementsOnly = scratch.first_child();
    for (pugi::xml_node n : scratch.children()) elementsOnly &= n.type() == pugi::node_element;
    if (elementsOnly) meetings += fragment;
  }
  if (meetings.empty()) {
    pugi::xml_document doc;
    pugi::xml_node r = response(doc, "SUCCESS");
    r.append_child("meetings");
    r.append_child("messageKey").text().set("noMeetings");
    r.append_child("message").text().set("no meetings were found on this server");
    return serialize(doc);
  }
  return "<response>\n<returncode>SUCCESS</returncode>\n<meetings>" + meetings +
         "</meetings>\n</response>\n";
}

}  // namespace sb
