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

void setText(pugi::xml_attribute attribute, std::string_view text) {
  attribute.set_value(xmlSafeText(text).c_str());
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

namespace {

// Where the path of `url` starts (its length when it has none), 0 when it has no scheme.
size_t pathStart(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return 0;
  return std::min(url.find('/', scheme + 3), url.size());
}

// The scheme and authority of `url` ("" when it has none).
std::string originOf(const std::string& url) { return url.substr(0, pathStart(url)); }

// `url` with its scheme and authority replaced by `origin` ("" keeps it as it is).
std::string onOrigin(const std::string& url, const std::string& origin) {
  if (origin.empty() || url.find("://") == std::string::npos) return url;
  return origin + url.substr(pathStart(url));
}

void renderFormat(pugi::xml_node playback, const Recording& r, const PlaybackFormat& f,
                  const PlaybackLinks& links, bool protectedLink) {
  pugi::xml_node format = playback.append_child("format");
  setText(format.append_child("type"), f.type);
  if (protectedLink) {
    // On the recording server's origin only when the request named no host (HTTP/1.0).
    const std::string origin = links.origin.empty() ? originOf(f.url) : links.origin;
    setText(format.append_child("url"),
            origin + "/recording/" + r.recordId + "/" + f.type +
                "?token=" + links.protection->linkToken(r.recordId, f.type, links.nowMs));
  } else {
    setText(format.append_child("url"), onOrigin(f.url, links.origin));
  }
  format.append_child("processingTime").text().set(static_cast<long long>(f.processingTimeMs));
  format.append_child("length").text().set(static_cast<long long>(f.lengthMinutes));
  format.append_child("size").text().set(static_cast<long long>(f.size));
  if (f.previews.empty() || protectedLink) return;
  pugi::xml_node images = format.append_child("preview").append_child("images");
  for (const auto& image : f.previews) {
    pugi::xml_node i = images.append_child("image");
    setText(i.append_attribute("alt"), image.alt);
    i.append_attribute("height").set_value(image.height);
    i.append_attribute("width").set_value(image.width);
    setText(i, onOrigin(image.url, links.origin));
  }
}

void renderRecording(pugi::xml_node parent, const Recording& r, const PlaybackLinks& links) {
  const bool protection = links.protection && links.protection->enabled();
  pugi::xml_node x = parent.append_child("recording");
  setText(x.append_child("recordID"), r.recordId);
  setText(x.append_child("meetingID"), r.meetingId);
  setText(x.append_child("internalMeetingID"), r.internalMeetingId);
  setText(x.append_child("name"), r.name);
  x.append_child("isBreakout").text().set(r.isBreakout ? "true" : "false");
  if (r.isBreakout) setText(x.append_child("parentMeetingId"), r.parentMeetingId);
  x.append_child("published").text().set(r.published() ? "true" : "false");
  if (protection) x.append_child("protected").text().set(r.isProtected ? "true" : "false");
  x.append_child("state").text().set(std::string(recordingStateName(r.state)).c_str());
  x.append_child("startTime").text().set(static_cast<long long>(r.startTimeMs));
  x.append_child("endTime").text().set(static_cast<long long>(r.endTimeMs));
  if (r.participants) x.append_child("participants").text().set(*r.participants);
  x.append_child("rawSize").text().set(static_cast<long long>(r.rawSize));
  pugi::xml_node metadata = x.append_child("metadata");
  for (const auto& [key, value] : r.metadata) {
    if (isXmlElementName(key)) setText(metadata.append_child(key.c_str()), value);
  }
  if (!r.breakoutRooms.empty()) {
    pugi::xml_node rooms = x.append_child("breakoutRooms");
    for (const auto& room : r.breakoutRooms) setText(rooms.append_child("breakoutRoom"), room);
  }
  x.append_child("size").text().set(static_cast<long long>(r.size()));
  pugi::xml_node playback = x.append_child("playback");
  for (const auto& f : r.formats) renderFormat(playback, r, f, links, protection && r.isProtected);
  x.append_child("data");
}

}  // namespace

std::string renderRecordings(const RecordingPage& page, const PlaybackLinks& links, bool paged) {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  pugi::xml_node recordings = r.append_child("recordings");
  for (const auto& recording : page.recordings) renderRecording(recordings, recording, links);
  if (paged)
    r.append_child("totalElements").text().set(static_cast<unsigned long long>(page.total));
  if (page.recordings.empty()) {
    r.append_child("messageKey").text().set("noRecordings");
    r.append_child("message").text().set("There are no recordings for the meeting(s).");
  }
  return serialize(doc);
}

std::string renderRecordingsChange(const char* name, bool value) {
  pugi::xml_document doc;
  pugi::xml_node r = response(doc, "SUCCESS");
  r.append_child(name).text().set(value ? "true" : "false");
  return serialize(doc);
}

}  // namespace sb
