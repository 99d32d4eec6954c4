#include "core/recordings/text_tracks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace sb {
namespace {

bool isAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string_view withoutBom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  return text.starts_with(kBom) ? text.substr(kBom.size()) : text;
}

// The lines of `text` (LF or CRLF), without their ends.
std::vector<std::string_view> linesOf(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// "00:01:02,500 --> 00:01:04,000" (SubRip's timing line).
bool isSubRipTiming(std::string_view line) {
  size_t arrow = line.find(" --> ");
  if (arrow == std::string_view::npos) return false;
  auto time = [](std::string_view t) {
    // hh:mm:ss,mmm (hours may have more digits)
    size_t comma = t.find(',');
    if (comma == std::string_view::npos || t.size() - comma != 4 || comma < 7) return false;
    for (size_t i = 0; i < t.size(); ++i) {
      const char c = t[i];
      const bool sep = i == comma || i == comma - 3 || i == comma - 6;
      if (sep ? (i == comma ? c != ',' : c != ':') : !std::isdigit(static_cast<unsigned char>(c)))
        return false;
    }
    return true;
  };
  std::string_view end = line.substr(arrow + 5);
  end = end.substr(0, end.find(' '));  // SubRip may add coordinates after the end time
  return time(line.substr(0, arrow)) && time(end);
}

}  // namespace

std::optional<std::string> TextTracks::languageTag(std::string_view lang) {
  // language (2-3 letters, or 4-8 registered) then subtags of 1-8 letters or digits
  if (lang.empty() || lang.size() > 35) return std::nullopt;
  std::string tag(lang);
  std::replace(tag.begin(), tag.end(), '_', '-');
  size_t start = 0;
  bool first = true;
  while (start <= tag.size()) {
    size_t end = std::min(tag.find('-', start), tag.size());
    std::string_view part(tag.data() + start, end - start);
    if (first) {
      if (part.size() < 2 || part.size() > 8 || !std::all_of(part.begin(), part.end(), isAlpha)) {
        return std::nullopt;
      }
    } else if (part.empty() || part.size() > 8 || !std::all_of(part.begin(), part.end(), isAlnum)) {
      return std::nullopt;
    }
    first = false;
    start = end + 1;
  }
  return tag;
}

std::optional<std::string> TextTracks::webVttOf(std::string_view file) {
  std::string_view text = withoutBom(file);
  if (text.starts_with("WEBVTT") && (text.size() == 6 || text[6] == '\n' || text[6] == '\r' ||
                                     text[6] == ' ' || text[6] == '\t')) {
    return std::string(text);
  }
  // SubRip: blocks of a number, a timing line, text lines.
  std::vector<std::string_view> lines = linesOf(text);
  size_t firstLine = 0;
  while (firstLine < lines.size() && lines[firstLine].empty()) ++firstLine;
  if (firstLine + 1 >= lines.size() || !isSubRipTiming(lines[firstLine + 1])) return std::nullopt;
  std::string vtt = "WEBVTT\n\n";
  vtt.reserve(text.size() + 16);
  for (size_t i = firstLine; i < lines.size(); ++i) {
    std::string line(lines[i]);
    if (isSubRipTiming(line)) {
      size_t arrow = line.find(" --> ");
      line[arrow - 4] = '.';
      line[line.find(',', arrow)] = '.';
    }
    vtt += line;
    vtt += '\n';
  }
  return vtt;
}

Result<std::vector<TextTrack>> TextTracks::list(const QueryString& params,
                                                const std::string& tenant) {
  auto id = params.get("recordID");
  if (!id || id->empty()) return Error::of(ErrorCode::kMissingParamRecordID);
  const std::string recordId(*id);
  auto found = store_.findExact(std::span<const std::string>(&recordId, 1), tenant);
  if (!found) return found.error();
  if (found->empty()) {
    return Error::of(ErrorCode::kNoRecordings, "No recording found for " + recordId);
  }
  return found->front().textTracks;
}

Result<std::string> TextTracks::put(const QueryString& params, std::optional<std::string_view> file,
                                    const std::string& tenant) {
  auto id = params.get("recordID");
  if (!id || id->empty()) return Error::of(ErrorCode::kMissingParamRecordID);
  const std::string recordId(*id);
  TextTrack track;
  track.kind = std::string(params.get("kind").value_or(""));
  if (track.kind != "subtitles" && track.kind != "captions") {
    return Error::of(ErrorCode::kInvalidKind,
                     "Invalid kind parameter, expected='subtitles|captions' actual=" + track.kind);
  }
  auto lang = languageTag(params.get("lang").value_or(""));
  if (!lang) {
    return Error::of(ErrorCode::kInvalidLang, "Malformed lang param, received=" +
                                                  std::string(params.get("lang").value_or("")));
  }
  track.lang = *lang;
  track.label = std::string(params.get("label").value_or(""));
  if (track.label.empty()) track.label = track.lang;
  std::optional<std::string> vtt;
  if (file) {
    if (file->empty()) return Error::of(ErrorCode::kEmptyTextTrack);
    if (file->size() > kMaxFileBytes) {
      return Error::of(ErrorCode::kTextTrackFailed, "Text track larger than 8 MiB.");
    }
    vtt = webVttOf(*file);
    if (!vtt) {
      return Error::of(ErrorCode::kTextTrackFailed,
                       "Text track format not supported (WebVTT and SubRip are).");
    }
  }
  auto found = store_.findExact(std::span<const std::string>(&recordId, 1), tenant);
  if (!found) return found.error();
  if (found->empty()) {
    return Error::of(ErrorCode::kNoRecordings, "No recording found for " + recordId);
  }
  Recording r = found->front();
  auto same = [&](const TextTrack& t) { return t.kind == track.kind && t.lang == track.lang; };
  std::erase_if(r.textTracks, same);
  if (vtt) r.textTracks.push_back(track);
  if (files_) {
    auto s = vtt ? files_->saveTextTrack(r, track, *vtt) : files_->removeTextTrack(r, track);
    if (!s) {
      // The cause names folders of this host: the log has it, the client a plain message.
      spdlog::error("text track {} of recording {} not kept: {}", track.fileName(), recordId,
                    s.error().message);
      return Error::of(ErrorCode::kTextTrackFailed, "Text track could not be kept.");
    }
  }
  if (auto s = store_.put(r); !s) return s.error();
  return recordId;
}

}  // namespace sb
