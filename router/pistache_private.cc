#include "router/pistache_private.h"

#include <pistache/stream.h>

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

struct AssociateTransportTag {
  using type = void (Pistache::Tcp::Handler::*)(Pistache::Tcp::Transport*);
  friend type get(AssociateTransportTag);
};
template struct PrivateAccess<AssociateTransportTag, &Pistache::Tcp::Handler::associateTransport>;

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

void associateTransport(Pistache::Tcp::Handler& handler, Pistache::Tcp::Transport* transport) {
  (handler.*get(AssociateTransportTag{}))(transport);
}

}  // namespace sb
