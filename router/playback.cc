#include "router/playback.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

#include "core/clock.h"
#include "core/query_string.h"

namespace sb {

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

namespace {

// Formats whose files a browser shows in place; the others are downloads (Scalelite's rule).
bool shownInPlace(const std::string& format) {
  return format == "presentation" || format == "video" || format == "screenshare";
}

std::string contentTypeOf(const std::string& name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes{{
      {".html", "text/html;charset=utf-8"},
      {".htm", "text/html;charset=utf-8"},
      {".js", "application/javascript"},
      {".css", "text/css"},
      {".json", "application/json"},
      {".xml", "text/xml;charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webm", "video/webm"},
      {".mp4", "video/mp4"},
      {".m4v", "video/mp4"},
      {".ogg", "audio/ogg"},
      {".m4a", "audio/mp4"},
      {".pdf", "application/pdf"},
      {".vtt", "text/vtt;charset=utf-8"},
      {".txt", "text/plain;charset=utf-8"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ico", "image/x-icon"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (name.size() > ext.size() && name.ends_with(ext)) return std::string(type);
  }
  return "application/octet-stream";
}

std::string httpDate(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// The decoded segments of `path` (without the leading '/'), nullopt when one may not name a
// file or folder here. A trailing '/' gives a last empty segment (a folder's index).
std::optional<std::vector<std::string>> segmentsOf(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    auto segment = urlDecodePath(path.substr(start, end - start));
    if (!segment) return std::nullopt;
    const bool last = end == path.size();
    if ((segment->empty() && !last) || *segment == "." || *segment == ".." ||
        segment->find('\0') != std::string::npos || segment->find('/') != std::string::npos) {
      return std::nullopt;
    }
    out.push_back(std::move(*segment));
    start = end + 1;
  }
  return out;
}

std::string joined(const std::string& base, const std::vector<std::string>& parts, size_t from) {
  std::string path = base;
  for (size_t i = from; i < parts.size(); ++i) {
    if (!parts[i].empty()) path += "/" + parts[i];
  }
  return path;
}

// The file at `path` under `base` (a folder's index.html for a folder), opened, never through a
// link leading out of `base`; -1 when there is none.
int openUnder(const std::string& base, std::string path, struct stat& st) {
  char resolvedBase[PATH_MAX];
  if (::realpath(base.c_str(), resolvedBase) == nullptr) return -1;
  for (int tries = 0; tries < 2; ++tries) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return -1;
    const std::string inside = std::string(resolvedBase) + "/";
    if (std::string_view(resolved).substr(0, inside.size()) != inside) return -1;
    int fd = ::open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) return fd;
    ::close(fd);
    if (!S_ISDIR(st.st_mode)) return -1;
    path = std::string(resolved) + "/index.html";
  }
  return -1;
}

constexpr std::string_view kAccessPath = "/switchboard/playback-access";

HttpResponse notFound() { return noted(textResponse(404, "Not found\n"), "playback", "404"); }

// The answer of a file: whole, or the range the request asks for.
HttpResponse fileAnswer(int fd, const struct stat& st, const std::string& name,
                        const std::string& rangeHeader, bool attachment) {
  const auto size = static_cast<uint64_t>(st.st_size);
  HttpResponse r;
  r.contentType = contentTypeOf(name);
  r.headers.emplace_back("Accept-Ranges", "bytes");
  r.headers.emplace_back("Last-Modified", httpDate(st.st_mtime));
  if (attachment) r.headers.emplace_back("Content-Disposition", "attachment");
  ByteRange range{0, size};
  if (!rangeHeader.empty()) {
    if (auto asked = parseRange(rangeHeader, size)) {
      if (asked->length == 0) {
        ::close(fd);
        HttpResponse refused = textResponse(416, "Range not satisfiable\n");
        refused.file = std::make_shared<FileBody>(-1, 0, 0);
        refused.contentType = "text/plain;charset=utf-8";
        refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return noted(std::move(refused), "playback", "416");
      }
      range = *asked;
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                                  std::to_string(range.offset + range.length - 1) +
                                                  "/" + std::to_string(size));
    }
  }
  r.file = std::make_shared<FileBody>(fd, range.offset, range.length);
  const std::string status = std::to_string(r.status);
  return noted(std::move(r), "playback", status);
}

}  // namespace

std::optional<ByteRange> parseRange(std::string_view header, uint64_t size) {
  constexpr std::string_view kBytes = "bytes=";
  if (!header.starts_with(kBytes)) return std::nullopt;
  header.remove_prefix(kBytes.size());
  if (header.find(',') != std::string_view::npos) return std::nullopt;  // several: send all
  size_t dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view text) -> std::optional<uint64_t> {
    uint64_t n = 0;
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return n;
  };
  std::string_view first = header.substr(0, dash), last = header.substr(dash + 1);
  if (first.empty()) {  // the last N bytes
    auto n = number(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return ByteRange{size, 0};
    uint64_t length = std::min(*n, size);
    return ByteRange{size - length, length};
  }
  auto from = number(first);
  if (!from) return std::nullopt;
  std::optional<uint64_t> to = last.empty() ? std::optional<uint64_t>(size - 1) : number(last);
  if (!to || (*to < *from && !last.empty())) return std::nullopt;
  if (*from >= size) return ByteRange{size, 0};
  uint64_t end = std::min(*to, size - 1);
  return ByteRange{*from, end - *from + 1};
}

bool PlaybackFiles::isFormat(const std::string& name) const {
  for (const auto& f : config_.formats) {
    if (f == name) return true;
  }
  return false;
}

bool PlaybackFiles::handle(const HttpRequest& request, const Reply& reply) const {
  if (request.path == kAccessPath) {
    reply(access(request));
    return true;
  }
  auto parts = segmentsOf(request.path);
  if (!parts || parts->empty()) return false;
  const std::string& first = (*parts)[0];
  if (first != "recording" && first != "captions" && first != "playback" && !isFormat(first)) {
    return false;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    reply(noted(textResponse(405, "Use GET\n"), "playback", "405"));
    return true;
  }
  if (!workers_) {
    reply(answer(request, *parts));
    return true;
  }
  // Store lookups and disk: never on the reactor thread that called.
  workers_->post(
      [this, request, parts = std::move(*parts), reply] { reply(answer(request, parts)); });
  return true;
}

HttpResponse PlaybackFiles::answer(const HttpRequest& request,
                                   const std::vector<std::string>& parts) const {
  if (parts[0] == "recording") {
    if (parts.size() != 3) return notFound();
    return play(request, parts[1], parts[2]);
  }
  if (parts[0] == "captions") {
    if (parts.size() != 3) return notFound();
    return textTrack(request, parts[1], parts[2]);
  }
  return serveFile(request, parts);
}

HttpResponse PlaybackFiles::textTrack(const HttpRequest& request, const std::string& recordId,
                                      const std::string& file) const {
  if (!library_ || config_.captionsDir.empty() || !file.ends_with(".vtt")) return notFound();
  auto found = library_->find(recordId, std::string(RecordingStore::kAnyTenant));
  if (!found) {
    return noted(textResponse(503, "Recordings cannot be read now; try again\n"), "playback",
                 "503");
  }
  // A protected recording's tracks are not served: no cookie of its formats reaches this path.
  if (!*found || !(*found)->published() ||
      (protection_ && protection_->enabled() && (*found)->isProtected)) {
    return notFound();
  }
  struct stat st {};
  int fd = openUnder(config_.captionsDir, config_.captionsDir + "/" + recordId + "/" + file, st);
  if (fd < 0) return notFound();
  return fileAnswer(fd, st, file, request.range, false);
}

std::optional<std::pair<std::string, std::string>> PlaybackFiles::recordingOf(
    const std::vector<std::string>& parts) const {
  const size_t first = parts[0] == "playback" ? 1 : 0;
  if (parts.size() < first + 3 || !isFormat(parts[first])) return std::nullopt;
  return std::pair{parts[first], parts[first + 1]};
}

bool PlaybackFiles::mayServe(const HttpRequest& request,
                             const std::vector<std::string>& parts) const {
  if (!protection_ || !protection_->enabled()) return true;
  auto recording = recordingOf(parts);
  if (!recording) return true;
  return protection_->mayServe(recording->second, recording->first, request.cookie,
                               SystemClock().nowMs());
}

HttpResponse PlaybackFiles::serveFile(const HttpRequest& request,
                                      const std::vector<std::string>& parts) const {
  struct stat st {};
  int fd = -1;
  std::string name;
  bool attachment = false;
  if (parts[0] == "playback") {
    // /playback/<format>/<version>/…: BBB's player, its index.html for a recording's path.
    if (parts.size() >= 3 && !config_.playerDir.empty()) {
      const std::string version = config_.playerDir + "/playback/" + parts[1] + "/" + parts[2];
      struct stat dir {};
      if (::stat(version.c_str(), &dir) == 0 && S_ISDIR(dir.st_mode)) {
        fd = openUnder(config_.playerDir, joined(config_.playerDir, parts, 0), st);
        if (fd < 0) fd = openUnder(config_.playerDir, version + "/index.html", st);
        name = fd >= 0 && parts.back().find('.') != std::string::npos ? parts.back() : "index.html";
      }
    }
    // /playback/<format>/<record_id>/…: a format with its own page (video).
    if (fd < 0 && parts.size() >= 3 && isFormat(parts[1])) {
      if (!mayServe(request, parts)) return notFound();
      std::vector<std::string> rest(parts.begin() + 1, parts.end());
      fd = openUnder(config_.publishedDir, joined(config_.publishedDir, rest, 0), st);
      name = rest.back().empty() ? "index.html" : rest.back();
    }
  } else if (parts.size() >= 3) {
    if (!mayServe(request, parts)) return notFound();
    fd = openUnder(config_.publishedDir, joined(config_.publishedDir, parts, 0), st);
    name = parts.back().empty() ? "index.html" : parts.back();
    attachment = !shownInPlace(parts[0]);
  }
  if (fd < 0) return notFound();
  return fileAnswer(fd, st, name, request.range, attachment);
}

HttpResponse PlaybackFiles::play(const HttpRequest& request, const std::string& recordId,
                                 const std::string& format) const {
  if (!library_) return notFound();
  auto found = library_->find(recordId, std::string(RecordingStore::kAnyTenant));
  if (!found) {
    return noted(textResponse(503, "Recordings cannot be read now; try again\n"), "playback",
                 "503");
  }
  if (!*found || !(*found)->published()) return notFound();
  const Recording& recording = **found;
  auto f = std::find_if(recording.formats.begin(), recording.formats.end(),
                        [&](const PlaybackFormat& p) { return p.type == format; });
  if (f == recording.formats.end()) return notFound();
  HttpResponse r = textResponse(307, "");
  // Sent as file answers are (an empty one): with its own headers, Set-Cookie twice included.
  r.file = std::make_shared<FileBody>(-1, 0, 0);
  if (protection_ && protection_->enabled() && recording.isProtected) {
    auto query = QueryString::parse(request.rawQuery);
    std::string token = query ? std::string(query->get("token").value_or("")) : "";
    const int64_t now = SystemClock().nowMs();
    if (!protection_->redeemLink(token, recordId, format, now)) return notFound();
    for (auto& cookie : protection_->cookiesFor(recordId, format, now, viaHttps(request))) {
      r.headers.emplace_back("Set-Cookie", std::move(cookie.header));
    }
    r.headers.emplace_back("Cache-Control", "no-store");
  }
  // The player on this host: the stored URL's path (the recording server's host is not public).
  const size_t scheme = f->url.find("://");
  const size_t path = scheme == std::string::npos ? 0 : f->url.find('/', scheme + 3);
  r.headers.emplace_back("Location", path == std::string::npos ? "/" : f->url.substr(path));
  return noted(std::move(r), "playback", "307");
}

HttpResponse PlaybackFiles::access(const HttpRequest& request) const {
  std::string_view uri = request.originalUri;
  uri = uri.substr(0, uri.find('?'));
  auto parts = segmentsOf(uri);
  HttpResponse allowed = textResponse(204, "");
  if (!parts || parts->empty()) return noted(textResponse(403, ""), "playback-access", "403");
  if (!mayServe(request, *parts)) return noted(textResponse(403, ""), "playback-access", "403");
  return noted(std::move(allowed), "playback-access", "204");
}

}  // namespace sb
