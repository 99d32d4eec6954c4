#include "importer/metadata_xml.h"

#include <pugixml.hpp>

#include <cctype>
#include <charconv>
#include <sstream>
#include <string>

#include "core/tenants/tenant.h"
#include "core/xml_text.h"

namespace sb {
namespace {

// BBB's metadata.xml nests a few levels; anything deeper is not one (and a parser is not let
// loose on it).
constexpr size_t kMaxDepth = 32;

// BBB's record IDs are "<sha1>-<ms>"; whatever the ID, it becomes a folder name, so nothing but
// letters, digits, '-' and '_' (no '/', no "..") is taken.
bool isRecordId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_') return false;
  }
  return true;
}

Error refused(const std::string& why) {
  return Error::of(ErrorCode::kValidationError, "metadata.xml: " + why);
}

// The text of `node` as an XML reader sees it: every text and CDATA child in order. node.text()
// is only the first, so "<id>a<!-- x -->b</id>" read "a", and once written back (comments are
// not kept) the same file read "ab" (found by metadata_xml_fuzz).
std::string textOf(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return text;
}

// A whole number written in digits (an optional leading '-'), nullopt otherwise.
std::optional<int64_t> numberOf(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The number in element `name` of `parent`: 0 when absent, an error when not a number.
Result<int64_t> numberField(pugi::xml_node parent, const char* name) {
  pugi::xml_node node = parent.child(name);
  if (!node) return int64_t{0};
  auto n = numberOf(textOf(node));
  if (!n) return refused(std::string("<") + name + "> is not a number");
  return *n;
}

Result<PlaybackFormat> formatOf(pugi::xml_node playback) {
  PlaybackFormat f;
  f.type = textOf(playback.child("format"));
  if (f.type.empty()) return refused("<playback> names no <format>");
  f.url = textOf(playback.child("link"));
  auto processing = numberField(playback, "processing_time");
  if (!processing) return processing.error();
  f.processingTimeMs = *processing;
  auto duration = numberField(playback, "duration");
  if (!duration) return duration.error();
  f.lengthMinutes = (*duration + 30000) / 60000;  // BBB's length: minutes, rounded
  auto size = numberField(playback, "size");
  if (!size) return size.error();
  f.size = *size;
  for (pugi::xml_node image :
       playback.child("extensions").child("preview").child("images").children("image")) {
    RecordingImage i;
    i.url = textOf(image);
    i.alt = image.attribute("alt").as_string();
    i.width = image.attribute("width").as_int();
    i.height = image.attribute("height").as_int();
    f.previews.push_back(std::move(i));
  }
  return f;
}

// The state after <state> and <published>; nullopt for a state BBB does not write.
std::optional<RecordingState> stateOf(pugi::xml_node recording) {
  const std::string state = textOf(recording.child("state"));
  const bool published = textOf(recording.child("published")) != "false";
  if (state.empty() || state == "available") {
    return published ? RecordingState::kPublished : RecordingState::kUnpublished;
  }
  return parseRecordingState(state);
}

}  // namespace

Result<Recording> recordingFromMetadataXml(std::string_view xml, std::string_view recordId) {
  if (xmlNestingDepth(xml, kMaxDepth) > kMaxDepth) return refused("nested too deeply");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return refused(std::string("not XML (") + parsed.description() + ")");
  pugi::xml_node recording = doc.child("recording");
  if (!recording) return refused("no <recording> element");

  Recording r;
  r.recordId = textOf(recording.child("id"));
  if (!isRecordId(r.recordId)) {
    return refused("<id> is not a record ID (letters, digits, '-' and '_')");
  }
  if (!recordId.empty() && r.recordId != recordId) {
    return refused("names recording " + r.recordId + ", found in the folder of " +
                   std::string(recordId));
  }
  auto state = stateOf(recording);
  if (!state) return refused("unknown <state> " + xmlSafeText(textOf(recording.child("state"))));
  r.state = *state;
  pugi::xml_node meeting = recording.child("meeting");
  pugi::xml_node meta = recording.child("meta");
  r.internalMeetingId = meeting.attribute("id").as_string(r.recordId.c_str());
  r.meetingId = textOf(meta.child("meetingId"));
  if (r.meetingId.empty()) r.meetingId = meeting.attribute("externalId").as_string();
  r.name = textOf(meta.child("meetingName"));
  if (r.name.empty()) r.name = meeting.attribute("name").as_string();
  r.isBreakout = std::string_view(meeting.attribute("breakout").as_string()) == "true" ||
                 textOf(meta.child("isBreakout")) == "true";
  r.parentMeetingId = recording.child("breakout").attribute("parentMeetingId").as_string();
  for (pugi::xml_node room : recording.child("breakoutRooms").children("breakoutRoom")) {
    r.breakoutRooms.push_back(textOf(room));
  }
  auto start = numberField(recording, "start_time");
  if (!start) return start.error();
  r.startTimeMs = *start;
  auto end = numberField(recording, "end_time");
  if (!end) return end.error();
  r.endTimeMs = *end;
  auto rawSize = numberField(recording, "raw_size");
  if (!rawSize) return rawSize.error();
  r.rawSize = *rawSize;
  if (recording.child("participants")) {
    auto n = numberField(recording, "participants");
    if (!n) return n.error();
    r.participants = static_cast<int>(*n);
  }
  r.isProtected = textOf(recording.child("protected")) == "true";
  for (pugi::xml_node entry : meta.children()) {
    if (entry.type() != pugi::node_element) continue;
    r.setMeta(entry.name(), textOf(entry));
  }
  // A tenant's recording (core/tenants/tenant.h): its create set meta_tenant-id, and its
  // meeting ID is scoped to that tenant.
  if (auto tenant = r.meta("tenant-id");
      tenant && validTenantName(*tenant).ok() && tenantOfMeetingId(r.meetingId) == *tenant) {
    r.tenant = std::string(*tenant);
  }
  pugi::xml_node playback = recording.child("playback");
  if (!playback) return refused("no <playback>");
  auto format = formatOf(playback);
  if (!format) return format.error();
  r.formats.push_back(std::move(*format));
  return r;
}

Result<std::string> metadataXmlOf(std::string_view xml, const Recording& recording) {
  if (xmlNestingDepth(xml, kMaxDepth) > kMaxDepth) return refused("nested too deeply");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  if (!parsed) return refused(std::string("not XML (") + parsed.description() + ")");
  pugi::xml_node root = doc.child("recording");
  if (!root) return refused("no <recording> element");
  pugi::xml_node meta = root.child("meta");
  if (!meta) meta = root.append_child("meta");
  while (pugi::xml_node child = meta.first_child()) meta.remove_child(child);
  for (const auto& [key, value] : recording.metadata) {
    if (!isXmlElementName(key)) return refused("metadata key " + xmlSafeText(key) + " is no name");
    meta.append_child(key.c_str()).text().set(value.c_str());
  }
  while (pugi::xml_node mark = root.child("protected")) root.remove_child(mark);
  if (recording.isProtected) root.append_child("protected").text().set("true");
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace sb
