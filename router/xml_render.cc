#include "router/xml_render.h"

#include <pugixml.hpp>

#include <sstream>

#include "core/xml_text.h"

namespace sb {
namespace {

// Every text Switchboard writes goes through here: a client's or a server's bytes (a meeting ID
// with a control character, invalid UTF-8) must not make the answer unreadable.
void setText(pugi::xml_node node, std::string_view text) {
  node.text().set(xmlSafeText(text).c_str());
}

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
  setText(r.append_child("message"), error.message);
  return serialize(doc);
}

std::string renderVersion(const std::string& buildNumber) {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  r.append_child("version").text().set("2.0");
  r.append_child("apiVersion").text().set("2.0");
  if (!buildNumber.empty()) setText(r.append_child("build"), buildNumber);
  return serialize(doc);
}

std::string renderNotRunning() {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  r.append_child("running").text().set("false");
  return serialize(doc);
}

std::string renderMeetings(std::string_view meetingsXml) {
  if (meetingsXml.empty()) {
    pugi::xml_document doc;
    pugi::xml_node r = response(doc, "SUCCESS");
    r.append_child("meetings");
    r.append_child("messageKey").text().set("noMeetings");
    r.append_child("message").text().set("no meetings were found on this server");
    return serialize(doc);
  }
  // Spliced as text: building one DOM of every meeting and printing it cost most of a large
  // getMeetings (bench/README.md).
  static constexpr std::string_view kHead =
      "<response>\n<returncode>SUCCESS</returncode>\n<meetings>";
  static constexpr std::string_view kTail = "</meetings>\n</response>\n";
  std::string out;
  out.reserve(kHead.size() + meetingsXml.size() + kTail.size());
  out.append(kHead).append(meetingsXml).append(kTail);
  // The elements were read from BBB answers made safe on arrival (bbb/curl_bbb_client); one pass
  // (once per listing, not per caller) keeps the envelope's promise whatever their source.
  makeXmlDocumentSafe(out);
  return out;
}

}  // namespace sb
