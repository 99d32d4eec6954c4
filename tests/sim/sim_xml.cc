#include "tests/sim/sim_xml.h"

#include <cctype>
#include <sstream>

namespace sb::sim {

BbbXml::BbbXml(std::string_view returncode) {
  root_ = doc_.append_child("response");
  text(root_, "returncode", returncode);
}

pugi::xml_node BbbXml::text(pugi::xml_node parent, const char* name, std::string_view value) {
  pugi::xml_node node = parent.append_child(name);
  if (!value.empty()) node.text().set(std::string(value).c_str());
  return node;
}

pugi::xml_node BbbXml::number(pugi::xml_node parent, const char* name, int64_t value) {
  return text(parent, name, std::to_string(value));
}

pugi::xml_node BbbXml::boolean(pugi::xml_node parent, const char* name, bool value) {
  return text(parent, name, value ? "true" : "false");
}

pugi::xml_node BbbXml::container(pugi::xml_node parent, const char* name) {
  return parent.append_child(name);
}

void BbbXml::closeContainer(pugi::xml_node container) {
  // pugixml prints an element whose only child is text on one line, so a lone newline gives
  // FreeMarker's `<attendees>\n</attendees>`.
  if (!container.first_child()) container.append_child(pugi::node_pcdata).set_value("\n");
}

std::string BbbXml::render() const {
  std::ostringstream out;
  doc_.save(out, "",
            pugi::format_indent | pugi::format_no_declaration | pugi::format_no_empty_element_tags,
            pugi::encoding_utf8);
  return out.str();
}

std::string BbbXml::failed(std::string_view messageKey, std::string_view message) {
  BbbXml xml("FAILED");
  text(xml.root(), "messageKey", messageKey);
  text(xml.root(), "message", message);
  return xml.render();
}

std::string BbbXml::success(std::string_view messageKey, std::string_view message) {
  BbbXml xml("SUCCESS");
  text(xml.root(), "messageKey", messageKey);
  text(xml.root(), "message", message);
  return xml.render();
}

}  // namespace sb::sim
