// BbbXml: builds a BBB API response document the way bbb-web's FreeMarker templates print it.
//
// One element per line, no indentation, no XML declaration, empty text elements as
// `<messageKey></messageKey>`, empty containers as `<attendees>\n</attendees>`. Escaping is
// pugixml's (never hand-written). Element order is the caller's: append in template order.
// Thread-safety: a plain value; one instance per response.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::sim {

class BbbXml {
 public:
  // Starts `<response><returncode>returncode</returncode>`.
  explicit BbbXml(std::string_view returncode);

  pugi::xml_node root() { return root_; }

  // Appends `<name>text</name>` to `parent` and returns it.
  static pugi::xml_node text(pugi::xml_node parent, const char* name, std::string_view value);
  static pugi::xml_node number(pugi::xml_node parent, const char* name, int64_t value);
  static pugi::xml_node boolean(pugi::xml_node parent, const char* name, bool value);
  // Appends a container element; call closeContainer() after filling it so an empty one prints
  // as `<name>\n</name>` like FreeMarker does.
  static pugi::xml_node container(pugi::xml_node parent, const char* name);
  static void closeContainer(pugi::xml_node container);

  std::string render() const;

  // The FAILED envelope: returncode, messageKey, message.
  static std::string failed(std::string_view messageKey, std::string_view message);
  // SUCCESS with messageKey and message (either may be empty).
  static std::string success(std::string_view messageKey, std::string_view message);

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
};

}  // namespace sb::sim
