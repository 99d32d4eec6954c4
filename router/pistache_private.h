// The two places Switchboard reaches past Pistache 0.0.5's public interface, kept in one file.
//
// Both use the explicit-instantiation access idiom (explicit template instantiations may name
// private members), which is defined behaviour, and each is guarded by tests that fail loudly if a
// Pistache update changes what they rely on.
#pragma once

#include <pistache/http.h>
#include <pistache/tcp.h>

#include <string>

namespace sb {

// The request target as sent ("/bigbluebutton/api/create?name=a+b&..."), read from the
// per-connection parser's buffer, which Pistache does not expose. Empty when the buffer cannot be
// read (then the caller must answer an error, never guess). Call it only inside
// Http::Handler::onRequest, before the writer is moved elsewhere (the parser is reset when
// onRequest returns). Used by bbb-sim; the router reads requests itself (router/request_reader.h).
std::string rawRequestTarget(const Pistache::Http::ResponseWriter& response);

// Gives `handler` the transport `transport` (what Pistache does for the handler it is given), so
// that a handler the router feeds itself can answer on the same connections.
void associateTransport(Pistache::Tcp::Handler& handler, Pistache::Tcp::Transport* transport);

}  // namespace sb
