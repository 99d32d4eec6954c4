// TcpProxy: an in-process TCP forwarder on a loopback port, for tests that need a store that
// stalls without stopping the shared test servers.
//
// Every connection accepted on port() is paired with a new connection to the upstream address,
// and bytes are forwarded both ways. freeze() stands in for a stopped server (SIGSTOP, a frozen
// VM): the proxy keeps accepting connections (as the kernel of a stopped server still completes
// handshakes) and keeps every connection open, but forwards nothing in either direction; what
// was sent meanwhile waits in the sockets and flows once thaw() is called, as it would after
// SIGCONT. A side that closes its end closes the pair.
//
// Thread-safety: every method may be called from any thread. One thread of its own forwards.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace sbtest {

class TcpProxy {
 public:
  // Forwards to upstreamHost:upstreamPort (an IPv4 address). Check ok() before use.
  TcpProxy(const std::string& upstreamHost, int upstreamPort);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const;
  int port() const;  // the loopback port to connect to instead of the upstream one

  // Forwards nothing until thaw() or, at the latest, `thawAfter` from now (so that a test of
  // code that would wait forever ends instead of hanging).
  void freeze(std::chrono::milliseconds thawAfter = std::chrono::seconds(10));
  void thaw();
  bool frozen() const;
  // Connections accepted so far.
  int accepted() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sbtest
