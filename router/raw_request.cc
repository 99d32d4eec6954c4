#include "router/raw_request.h"

#include <pistache/stream.h>

#include <algorithm>
#include <vector>

namespace sb {
namespace {

// The explicit-instantiation access idiom: explicit template instantiations may name private
// members, which lets us form pointers to ParserBase::buffer and ArrayStreamBuf::bytes without
// undefined behaviour. Only this file does this.
template <typename Tag, typename Tag::type Member>
struct PrivateAccess {
  friend typename Tag::type get(Tag) { return Member; }
};

struct ParserBufferTag {
  using type = Pistache::ArrayStreamBuf<char> Pistache::Http::Private::ParserBase::*;
  friend type get(ParserBufferTag);
};
struct StreamBytesTag {
  using type = std::vector<char> Pistache::ArrayStreamBuf<char>::*;
  friend type get(StreamBytesTag);
};

template struct PrivateAccess<ParserBufferTag, &Pistache::Http::Private::ParserBase::buffer>;
template struct PrivateAccess<StreamBytesTag, &Pistache::ArrayStreamBuf<char>::bytes>;

}  // namespace

std::string rawRequestTarget(const Pistache::Http::ResponseWriter& response) {
  auto peer = response.peer();
  if (!peer) return {};
  auto parser = Pistache::Http::Handler::getParser(peer);
  if (!parser) return {};
  const Pistache::Http::Private::ParserBase& base = *parser;
  const auto& buffer = base.*get(ParserBufferTag{});
  const std::vector<char>& bytes = buffer.*get(StreamBytesTag{});
  // Request line: METHOD SP request-target SP HTTP-version CRLF
  size_t i = 0;
  while (i < bytes.size() && (bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  while (i < bytes.size() && bytes[i] != ' ') ++i;
  if (i >= bytes.size()) return {};
  size_t start = ++i;
  while (i < bytes.size() && bytes[i] != ' ' && bytes[i] != '\r' && bytes[i] != '\n') ++i;
  if (i >= bytes.size() || bytes[i] != ' ') return {};
  return std::string(bytes.data() + start, i - start);
}

void splitTarget(const std::string& target, std::string& path, std::string& rawQuery) {
  size_t q = target.find('?');
  if (q == std::string::npos) {
    path = target;
    rawQuery.clear();
  } else {
    path = target.substr(0, q);
    rawQuery = target.substr(q + 1);
  }
  size_t hash = rawQuery.find('#');
  if (hash != std::string::npos) rawQuery.resize(hash);
  // A frontend whose base URL ends in '/' asks for "/bigbluebutton/api//getMeetings": collapse
  // runs of '/' as Scalelite (Rails) does. The query keeps its bytes (checksums cover them).
  if (path.find("//") != std::string::npos) {
    path.erase(
        std::unique(path.begin(), path.end(), [](char a, char b) { return a == '/' && b == '/'; }),
        path.end());
  }
}

}  // namespace sb
