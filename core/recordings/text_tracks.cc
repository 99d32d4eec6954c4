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

// SSA/ASS "H:MM:SS.cc" as WebVTT's "HH:MM:SS.mmm"; nullopt when it is not such a time.
std::optional<std::string> vttTimeOfSsa(std::string_view t) {
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  size_t colon1 = t.find(':'), colon2 = t.find(':', colon1 + 1), dot = t.find('.');
  if (colon1 == 0 || colon1 > 2 || colon2 != colon1 + 3 || dot != colon2 + 3 ||
      t.size() > dot + 4 || t.size() < dot + 2) {
    return std::nullopt;
  }
  for (size_t i = 0; i < t.size(); ++i) {
    if (i != colon1 && i != colon2 && i != dot && !std::isdigit(static_cast<unsigned char>(t[i]))) {
      return std::nullopt;
    }
  }
  std::string fraction(t.substr(dot + 1));
  fraction.resize(3, '0');  // centiseconds (or tenths) as milliseconds
  std::string hours(t.substr(0, colon1));
  if (hours.size() < 2) hours.insert(0, "0");
  return hours + std::string(t.substr(colon1, dot - colon1)) + "." + fraction;
}

// The text of an SSA/ASS dialogue as WebVTT cue text: override blocks ({\b1} …) dropped, \N and
// \n made line breaks, \h a space, '&' and '<' escaped, empty lines left out.
std::string vttTextOfSsa(std::string_view text) {
  std::string plain;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') {
      size_t close = text.find('}', i);
      if (close != std::string_view::npos) {
        i = close;
        continue;
      }
    }
    if (c == '\\' && i + 1 < text.size()) {
      const char next = text[i + 1];
      if (next == 'N' || next == 'n' || next == 'h') {
        plain += next == 'h' ? ' ' : '\n';
        ++i;
        continue;
      }
    }
    if (c == '&') {
      plain += "&amp;";
    } else if (c == '<') {
      plain += "&lt;";
    } else {
      plain += c;
    }
  }
  std::string out;
  for (std::string_view line : linesOf(plain)) {
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

// SubStation Alpha (SSA/ASS) as WebVTT: the Dialogue lines of its [Events] section, read by the
// section's Format line, in order of their start; nullopt when `lines` are no such file.
std::optional<std::string> webVttOfSsa(const std::vector<std::string_view>& lines) {
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  if (first == lines.size() || lines[first] != "[Script Info]") return std::nullopt;
  struct Cue {
    std::string start, end, text;
  };
  std::vector<Cue> cues;
  bool inEvents = false;
  std::vector<std::string> format;
  for (size_t i = first; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.starts_with("[")) {
      inEvents = line == "[Events]";
      continue;
    }
    if (!inEvents) continue;
    if (line.starts_with("Format:")) {
      format.clear();
      std::string_view fields = line.substr(7);
      while (true) {
        size_t comma = fields.find(',');
        std::string name(fields.substr(0, comma));
        name.erase(std::remove(name.begin(), name.end(), ' '), name.end());
        format.push_back(name);
        if (comma == std::string_view::npos) break;
        fields.remove_prefix(comma + 1);
      }
      continue;
    }
    if (!line.starts_with("Dialogue:") || format.empty() || format.back() != "Text") continue;
    std::string_view rest = line.substr(9);
    std::vector<std::string_view> values;
    for (size_t f = 0; f + 1 < format.size(); ++f) {  // the last field (Text) may hold commas
      size_t comma = rest.find(',');
      if (comma == std::string_view::npos) break;
      values.push_back(rest.substr(0, comma));
      rest.remove_prefix(comma + 1);
    }
    if (values.size() + 1 != format.size()) continue;
    std::optional<std::string> start, end;
    for (size_t f = 0; f < values.size(); ++f) {
      if (format[f] == "Start") start = vttTimeOfSsa(values[f]);
      if (format[f] == "End") end = vttTimeOfSsa(values[f]);
    }
    std::string text = vttTextOfSsa(rest);
    if (!start || !end || text.empty()) continue;
    cues.push_back({*start, *end, std::move(text)});
  }
  if (format.empty()) return std::nullopt;
  std::stable_sort(cues.begin(), cues.end(), [](const Cue& a, const Cue& b) {
    return a.start.size() != b.start.size() ? a.start.size() < b.start.size() : a.start < b.start;
  });
  std::string vtt = "WEBVTT\n";
  for (const auto& cue : cues) vtt += "\n" + cue.start + " --> " + cue.end + "\n" + cue.text + "\n";
  return vtt;
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
  std::vector<std::string_view> lines = linesOf(text);
  if (auto ssa = webVttOfSsa(lines)) return ssa;
  // SubRip: blocks of a number, a timing line, text lines.
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
                       "Text track format not supported (WebVTT, SubRip and SSA/ASS are).");
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
