#include "router/xml_render.h"

#include <pugixml.hpp>

#include <sstream>

namespace sb {
namespace {

std::string serialize(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_indent | pugi::format_no_declaration, pugi::encoding_utf8);
  std::string xml = out.str();
  // bbb-web writes empty elements as "<meetings/>"; pugixml adds a space before the slash.
  for (size_t pos = 0; (pos = xml.find(" />", pos)) != std::string::npos;) xml.erase(pos, 1);
  return xml;
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
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  pugi::xml_node meetings = r.append_child("meetings");
  int added = 0;
  for (const auto& fragment : meetingXml) {
    // Parse apart first: append_buffer would keep the part of a broken fragment it had read.
    pugi::xml_document scratch;
    if (!scratch.load_buffer(fragment.data(), fragment.size())) continue;
    for (pugi::xml_node n : scratch.children()) {
      meetings.append_copy(n);
      ++added;
    }
  }
  if (added == 0) {
    r.append_child("messageKey").text().set("noMeetings");
    r.append_child("message").text().set("no meetings were found on this server");
  }
  return serialize(doc);
}

}  // namespace sb
